"""Parametrized families built from networks, and the zero-error monodromy drivers.

Three families F(w; p), each affine in its parameters p so that PHCpack's gamma homotopy between
two members is a parameter homotopy (`theory.counting.monodromy`):

* `witness_family`: [R·(f(x_i; w) − y_i); A w + b], parameters the slice offsets b — the
  witness-set family of the zero-error set (Sommese–Wampler 2005, §13.2);
* `target_family`: f(x_i; w) − y_i, parameters the targets y (square instances, N·n_d = K);
* `critical_family`: J(w)ᵀ(f(w) − y) + λ ⊙ w, parameters (y, λ) — half the gradient of the
  penalised square loss (Theory II eq. (7)–(8)).

Start solutions come by construction: pick weights w*, compute the targets they fit
(`theory.network.data.planted_data`), or slice through w*.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Callable, Sequence

import mpmath

import numpy as np

from landscape_core.errors import InvalidSpecError
from landscape_core.progress import Progress
from landscape_core.seeds import stream
from theory.network.data import ExactData, planted_data
from theory.counting.monodromy import Family, LoopBudget, MonodromyResult, monodromy_solve, trace_proof
from theory.network.spec import NetworkSpec, forward_point
from theory.polynomials.system import complex_literal, linear_string, network_jets, network_system
from theory.homotopy.slicing import witness_slice
from theory.network.equations import ZeroErrorSystem
from theory.homotopy.tracker import TrackConfig


def _fx_system(spec: NetworkSpec, data: ExactData) -> tuple[list[str], ExactData]:
    """Return (nested strings of f(x_i; w) without targets, evaluator of (f, ∂f/∂w))."""

    zero_y = tuple(tuple(Fraction(0) for _ in row) for row in data.Y)
    bare = ZeroErrorSystem(spec, ExactData(data.X, zero_y, data.seed, data.kind))
    texts = bare.formulas(exact=False)
    return texts, bare.data


def witness_family(spec: NetworkSpec, data: ExactData, dim: int, seed: int) -> tuple[Family, np.ndarray, tuple[int, int], np.ndarray]:
    """Return (family in the slice offsets b, its R and A fixed; base b_0; slice index range; R).

    F(w; b) = [R·(f(x_i; w) − y_i); A w + b]: the witness-set family of the zero-error set.
    """

    system = network_system(ZeroErrorSystem(spec, data))
    # the same draw as theory.counting.dimension.witness_set(system, dim, seed): same R, same slice directions A
    cut = witness_slice(system, dim, seed)
    rand, R, A = cut.randomized, cut.R, cut.A
    fixed = list(rand.polys)

    def polys(b: np.ndarray) -> list[str]:
        return fixed + [linear_string(row, c, system.names) for row, c in zip(A, b)]

    def evaluate(w, b):
        return np.concatenate([rand.evaluate(w), A @ w + b])

    def jacobian(w, b):
        return np.vstack([rand.jacobian(w), A])

    fam = Family(system.names, polys, evaluate, jacobian, dim, f"witness family of {spec.describe()}, N = {data.n_points}",
                 residual_mp=_witness_residual_mp(spec, data, R, A))
    return fam, A, (0, dim), R


def _mp(q: Fraction) -> mpmath.mpf:
    return mpmath.mpf(q.numerator) / q.denominator


def _witness_residual_mp(spec: NetworkSpec, data: ExactData, R: np.ndarray,
                         A: np.ndarray) -> Callable[[Sequence, np.ndarray], list]:
    """Return (w, b) ↦ [R·(f(x_i; w) − y_i); A w + b] in mpmath arithmetic (the current working precision)."""
    def residual(w: Sequence, b: np.ndarray) -> list:
        r = []
        for x, y in zip(data.X, data.Y):
            out = forward_point(spec, list(w), [_mp(v) for v in x], coerce=_mp)
            r.extend(o - _mp(t) for o, t in zip(out, y))
        rows = [mpmath.fsum(mpmath.mpc(complex(c)) * v for c, v in zip(row, r)) for row in R]
        return rows + [mpmath.fsum(mpmath.mpc(complex(c)) * v for c, v in zip(row, w)) + mpmath.mpc(complex(bk))
                       for row, bk in zip(A, b)]

    return residual


def target_family(spec: NetworkSpec, data: ExactData) -> Family:
    """Return the family F(w; y) = f(x_i; w) − y_i (square when K = N·n_d), parameters the targets y."""
    texts, bare = _fx_system(spec, data)
    names = tuple(spec.variable_names())

    def polys(y: np.ndarray) -> list[str]:
        return [f"{t} - {complex_literal(c)};" for t, c in zip(texts, y)]

    def evaluate(w, y):
        return network_jets(spec, bare, w, order=0)[0] - y

    def jacobian(w, y):
        return network_jets(spec, bare, w, order=1)[1]

    return Family(names, polys, evaluate, jacobian, len(texts), f"targets family of {spec.describe()}, N = {data.n_points}")


def zero_error_witness_monodromy(spec: NetworkSpec, n_points: int,
                                 budget: LoopBudget = LoopBudget(stop_after=10, max_loops=100),
                                 options: TrackConfig = TrackConfig(), *, progress: Progress | None = None,
                                 data: ExactData | None = None,
                                 w_star: Sequence[Fraction] | None = None) -> MonodromyResult:
    """Return the witness points of the zero-error set found by monodromy from the planted solution w*.

    The slice A w + b_0 = 0 is chosen through w* (b_0 = −A w*), so w* is a witness point by
    construction; loops move b. After `stop_after` quiet loops the linear trace test is run on the
    points known: loops continue while it fails, until it passes or the budget (`budget.max_loops`,
    `budget.max_seconds`) runs out. The seed is `options.seed` (data, slice, trace test and tracking).
    Data and w* default to `theory.network.data.planted_data(spec, n_points, seed)`; given ones must
    fit (w* solves them).
    """
    seed = options.seed
    if data is None or w_star is None:
        data, w_star = planted_data(spec, n_points, seed)
    n_points = data.n_points
    K = spec.n_params
    dim = K - n_points * spec.output_dim
    if dim < 1:
        raise InvalidSpecError(f"the zero-error set of {n_points} points is {dim}-dimensional: use the targets family")
    fam, A, idx, _ = witness_family(spec, data, dim, seed)
    w0 = np.array([float(v) for v in w_star], dtype=complex)
    b0 = -A @ w0
    proof = trace_proof(fam, b0, idx, stream(seed, "witness trace proof"), options)
    return monodromy_solve(fam, b0, [w0], budget, options, trace_slices=idx, proof=proof, progress=progress)


def square_monodromy(spec: NetworkSpec, budget: LoopBudget = LoopBudget(stop_after=3),
                     options: TrackConfig = TrackConfig(), *, progress: Progress | None = None) -> MonodromyResult:
    """Return the isolated zero-error solutions of a square instance (N·n_d = K) found by monodromy over y.

    Start: the planted w* (drawn with `options.seed`), whose exact targets y* are the base parameters.
    """

    K = spec.n_params
    if K % spec.output_dim:
        raise InvalidSpecError("K must be a multiple of the output dimension for a square instance")
    data, w_star = planted_data(spec, K // spec.output_dim, options.seed)
    fam = target_family(spec, data)
    y0 = data.Y_float.ravel().astype(complex)
    w0 = np.array([float(v) for v in w_star], dtype=complex)
    return monodromy_solve(fam, y0, [w0], budget, options, progress=progress)


# ----------------------------------------------------------------------------------------------
# Critical points: the family J(w)ᵀ(f(w) − y) + λ ⊙ w = 0 in the parameters (y, λ)


def _poly_string(poly: object, names: Sequence[str]) -> str:
    """Return a sympy PolyElement over QQ as a PHCpack string with float coefficients."""
    terms = []
    for monom, coeff in poly.terms():
        c = float(Fraction(int(coeff.numerator), int(coeff.denominator)))
        factors = [f"{n}^{e}" if e > 1 else n for n, e in zip(names, monom) if e]
        terms.append("*".join([f"({c:+.17e})"] + factors))
    return " + ".join(terms) if terms else "0"


def _mp_terms(poly: object) -> list[tuple[mpmath.mpf, tuple[int, ...]]]:
    """Return a sympy PolyElement over QQ as (mpmath coefficient, exponent tuple) pairs."""
    return [(_mp(Fraction(int(c.numerator), int(c.denominator))), tuple(int(e) for e in m)) for m, c in poly.terms()]


def _mp_eval(terms: list[tuple[mpmath.mpf, tuple[int, ...]]], w: Sequence) -> mpmath.mpc:
    total = mpmath.mpc(0)
    for c, m in terms:
        t = c
        for v, e in zip(w, m):
            if e:
                t = t * v ** e
        total += t
    return total


def _critical_residual_mp(A_polys: Sequence, B_polys: Sequence[Sequence]) -> Callable[[Sequence, np.ndarray], list]:
    """Return (w, (y, λ)) ↦ A_j(w) − Σ_i y_i B_ji(w) + λ_j w_j in mpmath arithmetic (exact rational coefficients)."""
    A = [_mp_terms(a) for a in A_polys]
    B = [[_mp_terms(b) for b in row] for row in B_polys]
    n = len(B[0]) if B else 0

    def residual(w: Sequence, p: np.ndarray) -> list:
        y = [mpmath.mpc(complex(v)) for v in p[:n]]
        lam = [mpmath.mpc(complex(v)) for v in p[n:]]
        return [_mp_eval(a, w) - mpmath.fsum(yi * _mp_eval(b, w) for yi, b in zip(y, row)) + lj * wj
                for a, row, lj, wj in zip(A, B, lam, w)]

    return residual


def critical_family(spec: NetworkSpec, data: ExactData) -> Family:
    """Return the family F(w; y, λ) = J(w)ᵀ(f(w) − y) + λ ⊙ w (half the gradient of the penalised loss).

    Affine in p = (y, λ) (N·n_d + K parameters), so PHCpack's gamma homotopy between two members is
    a parameter homotopy. Expanded through sympy: small networks only (ExpansionTooLarge otherwise).
    """

    zero_y = tuple(tuple(Fraction(0) for _ in row) for row in data.Y)
    bare = ExactData(data.X, zero_y, data.seed, data.kind)
    f = ZeroErrorSystem(spec, bare).polynomials()
    gens = f[0].ring.gens
    names = tuple(spec.variable_names())
    K, n = len(gens), len(f)
    A_polys = [sum((fi * fi.diff(g) for fi in f), f[0].ring.zero) for g in gens]
    B_polys = [[fi.diff(g) for fi in f] for g in gens]
    A = [_poly_string(a, names) for a in A_polys]
    B = [[_poly_string(b, names) for b in row] for row in B_polys]
    dmax = max([1] + [sum(m) for q in A_polys + [b for row in B_polys for b in row] for m in q.monoms()])

    def polys(p: np.ndarray) -> list[str]:
        y, lam = p[:n], p[n:]
        out = []
        for j in range(K):
            terms = [f"({A[j]})"] + [f"{complex_literal(-y[i])}*({B[j][i]})" for i in range(n)]
            terms.append(f"{complex_literal(lam[j])}*{names[j]}")
            out.append(" + ".join(terms) + ";")
        return out

    # a diverging path overflows to inf/nan, which the tracker reads as a failed step: no warning to print
    def evaluate(w, p):
        with np.errstate(over="ignore", invalid="ignore"):
            fw, J, _ = network_jets(spec, bare, w, order=1)
            return J.T @ (fw - p[:n]) + p[n:] * np.asarray(w, dtype=complex)

    def jacobian(w, p):
        with np.errstate(over="ignore", invalid="ignore"):
            fw, J, Hs = network_jets(spec, bare, w, order=2)
            return J.T @ J + np.einsum("i,ijk->jk", fw - p[:n], Hs) + np.diag(p[n:])

    return Family(names, polys, evaluate, jacobian, n + K, f"critical family of {spec.describe()}, N = {data.n_points}",
                  dmax, _critical_residual_mp(A_polys, B_polys))
