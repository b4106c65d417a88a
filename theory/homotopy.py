"""All isolated solutions of a square polynomial system by homotopy continuation, every path accounted for.

Start systems (Sommese–Wampler, *The Numerical Solution of Systems of Polynomials*, 2005, ch. 8):

* total degree: g_i(x) = x_i^{d_i} − 1, with ∏ d_i start points (the Bezout number);
* multihomogeneous: for a partition of the variables into groups G_1..G_m and degrees d_ij of
  equation i in group j, g_i = ∏_j ∏_{k ≤ d_ij} L_ijk(x_{G_j}) with random affine forms L; its
  start points number the m-homogeneous Bezout number, the coefficient of ∏_j α_j^{|G_j|} in
  ∏_i Σ_j d_ij α_j (Morgan–Sommese 1987);
* polyhedral: PHCpack's random-coefficient system with the same supports, with mixed-volume
  many solutions (Huber–Sturmfels 1995); it reaches only solutions with all coordinates nonzero.

Paths of H(x, t) = γ(1 − t)² g(x) + t² f(x) are tracked by PHCpack with γ a random unit complex
number drawn from the recorded seed (the gamma trick: for all but finitely many γ on the circle,
every path is smooth for t ∈ [0, 1)), in affine coordinates with PHCpack's end game, or (option
`projective`) in a random affine chart of P^n so that paths to infinity stay bounded. Each
endpoint is refined by Newton's method in numpy, its
residual and Jacobian condition number recomputed independently of PHCpack, and classified:

* regular:     PHCpack's end game converged, residual ≤ tol, cond(J) ≤ cond_max, and Newton's
               last correction ≤ tol_step (quadratic convergence);
* singular:    converged with residual ≤ tol_singular and a small (linear-rate) Newton correction
               but not regular (a multiple root or a point on a positive-dimensional component);
* at_infinity: x_0 ≈ 0 in projective tracking, or a non-regular endpoint with ‖x‖∞ > diverge_norm
               (PHCpack's end game converges only slowly to singular points at infinity), or
               ‖x‖∞ > infinity_norm;
* failed:      anything else (NaN, no convergence at moderate ‖x‖): retried once in double-double
               precision on the same homotopy (same γ, same start point); still failing ones are
               counted as failed, never dropped.

The mixed volume (Bernstein–Khovanskii–Kushnirenko) is reported beside the Bezout numbers.
"""
from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Sequence

import numpy as np

from theory import phc
from theory.errors import InvalidSpecError, PathBudgetExceeded

OUTCOMES = ("regular", "singular", "at_infinity", "failed")
START_SYSTEMS = ("total_degree", "multihomogeneous", "polyhedral")
DEFAULT_MAX_PATHS = 20_000  # about 1–3 minutes of PHCpack tracking for small systems on 2 cores


# ----------------------------------------------------------------------------------------------
# Systems


@dataclass(frozen=True)
class System:
    """A polynomial system in two realisations: PHCpack strings and a complex numpy evaluator.

    Fields:
        polys: the polynomials in PHCpack syntax (nested formulas allowed, float coefficients).
        names: the variables, in the order of every coordinate vector.
        evaluate: x (complex, shape (n,)) ↦ f(x) (shape (m,)).
        jacobian: x ↦ ∂f/∂x (shape (m, n)).
        label: a short description.
        known_degrees: the equations' total degrees when known a priori (certified network degrees),
            so that path budgets are checked before PHCpack expands anything.
    """

    polys: tuple[str, ...]
    names: tuple[str, ...]
    evaluate: Callable[[np.ndarray], np.ndarray] = field(repr=False, compare=False)
    jacobian: Callable[[np.ndarray], np.ndarray] = field(repr=False, compare=False)
    label: str = "system"
    known_degrees: tuple[int, ...] | None = None

    @property
    def n_equations(self) -> int:
        """Return m, the number of polynomials."""
        return len(self.polys)

    @property
    def n_vars(self) -> int:
        """Return n, the number of variables."""
        return len(self.names)

    @property
    def is_square(self) -> bool:
        """Return m == n."""
        return self.n_equations == self.n_vars

    def degrees(self) -> list[int]:
        """Return the total degree of each polynomial (known a priori, else PHCpack's expansion)."""
        if self.known_degrees is not None:
            return list(self.known_degrees)
        return phc.degrees(self.polys, n_vars=self.n_vars)

    def with_equations(self, polys: Sequence[str], evaluate: Callable, jacobian: Callable,
                       label: str | None = None) -> "System":
        """Return the system with the extra equations appended (e.g. slices)."""
        f0, j0 = self.evaluate, self.jacobian
        return System(self.polys + tuple(polys), self.names,
                      lambda x: np.concatenate([f0(x), evaluate(x)]),
                      lambda x: np.vstack([j0(x), jacobian(x)]), label or self.label)

    def with_degrees(self, extra: Sequence[int] | None) -> "System":
        """Return the system with known degrees `self.known_degrees + extra` (None: unknown)."""
        known = None if self.known_degrees is None or extra is None else self.known_degrees + tuple(extra)
        return replace(self, known_degrees=known)

    def with_linear(self, A: np.ndarray, b: np.ndarray, label: str | None = None) -> "System":
        """Return the system with the affine equations A x + b = 0 appended (slices, Sommese–Wampler §13)."""
        A = np.atleast_2d(np.asarray(A, dtype=complex))
        b = np.asarray(b, dtype=complex).ravel()
        polys = [linear_string(row, c, self.names) for row, c in zip(A, b)]
        return self.with_equations(polys, lambda x: A @ x + b, lambda x: A, label).with_degrees(
            [1] * len(polys) if self.known_degrees is not None else None)


def complex_literal(c: complex) -> str:
    """Return c in PHCpack syntax, e.g. '(1.5e+00+2.5e-01*i)'."""
    c = complex(c)
    return f"({c.real:+.17e}{c.imag:+.17e}*i)"


def linear_string(row: Sequence[complex], const: complex, names: Sequence[str]) -> str:
    """Return the affine form Σ_j row_j x_j + const as a PHCpack polynomial string."""
    terms = [f"{complex_literal(a)}*{n}" for a, n in zip(row, names) if a != 0]
    return " + ".join(terms + [complex_literal(const)]) + ";"


def from_strings(polys: Sequence[str], names: Sequence[str] | None = None, label: str = "system") -> System:
    """Return a System for PHCpack-syntax strings, evaluated through sympy (small systems only).

    Variables default to PHCpack's order of first appearance; 'i' and 'I' are the imaginary unit.
    """
    import sympy

    polys = [p.strip().rstrip(";").strip() for p in polys if p.strip().rstrip(";").strip()]
    if not polys:
        raise InvalidSpecError("the system has no polynomials")
    found = phc.store([p + ";" for p in polys], n_vars=None if names is None else len(names))
    names = list(found if names is None else names)
    if set(found) - set(names):
        raise InvalidSpecError(f"variables {sorted(set(found) - set(names))} are not among {names}")
    syms = [sympy.Symbol(n) for n in names]
    local = {n: s for n, s in zip(names, syms)}
    local.update({"i": sympy.I, "I": sympy.I})
    try:
        exprs = [sympy.sympify(p.replace("^", "**"), locals=local) for p in polys]
    except (sympy.SympifyError, SyntaxError, TypeError) as exc:
        raise InvalidSpecError(f"cannot read polynomial: {exc}") from None
    jac = [[sympy.diff(e, s) for s in syms] for e in exprs]
    f_num = sympy.lambdify([syms], exprs, modules="numpy")
    j_num = sympy.lambdify([syms], jac, modules="numpy")
    m, n = len(exprs), len(syms)

    def evaluate(x: np.ndarray) -> np.ndarray:
        return np.asarray(np.broadcast_arrays(*f_num(np.asarray(x, dtype=complex))), dtype=complex).reshape(m)

    def jacobian(x: np.ndarray) -> np.ndarray:
        rows = j_num(np.asarray(x, dtype=complex))
        return np.array([[complex(v) for v in r] for r in rows], dtype=complex).reshape(m, n)

    return System(tuple(p + ";" for p in polys), tuple(names), evaluate, jacobian, label)


def read_system_file(text: str, label: str = "file") -> System:
    """Return the System in PHCpack input text: an optional first line 'n' or 'n m', then polynomials ending in ';'."""
    lines = text.strip().split("\n", 1)
    head = lines[0].split()
    body = text
    count = None
    if head and all(tok.isdigit() for tok in head) and len(head) <= 2:
        count = int(head[0])
        body = lines[1] if len(lines) > 1 else ""
    polys = [p.strip() for p in body.split(";") if p.strip()]
    if count is not None and len(polys) != count:
        raise InvalidSpecError(f"the header announces {count} polynomials, the file has {len(polys)}")
    return from_strings(polys, label=label)


def network_system(zero_error) -> System:
    """Return the zero-error system f(x_i; w) − y_i = 0 (a `theory.systems.ZeroErrorSystem`) as a System.

    Complex residuals and Jacobians come from one vectorised forward-mode pass (`theory.rings.Jet`
    with complex values) through the same straight-line program `forward_point` as everything else.
    """
    from theory.systems import to_phc

    text = to_phc(zero_error)
    polys = [p.strip() + ";" for p in text.strip().split("\n", 1)[1].split(";") if p.strip()]
    spec, data = zero_error.spec, zero_error.data

    def evaluate(w: np.ndarray) -> np.ndarray:
        return network_jets(spec, data, w, order=0)[0]

    def jacobian(w: np.ndarray) -> np.ndarray:
        return network_jets(spec, data, w, order=1)[1]

    total, _ = zero_error.degree_bounds()
    return System(tuple(polys), tuple(zero_error.variable_names), evaluate, jacobian,
                  f"zero-error system of {spec.describe()}, N = {data.n_points}",
                  known_degrees=(int(total),) * len(polys))


def network_jets(spec, data, w: np.ndarray, order: int = 1):
    """Return (r, J, H): residuals r_i = f(x_i; w) − y_i, their Jacobian and per-row Hessians, for complex w.

    `order` 0 computes r only, 1 adds J (N·n_d × K), 2 adds H (N·n_d × K × K).
    """
    from theory.networks import forward_point
    from theory.rings import Jet

    w = np.asarray(w, dtype=complex)
    X, Y = data.X_float, data.Y_float
    cols = [X[:, j] for j in range(spec.input_dim)]
    n, k = data.n_points, spec.n_params
    if order == 0:
        outs = forward_point(spec, list(w), cols)
        r = (np.stack([np.broadcast_to(o, (n,)) for o in outs], axis=1) - Y).ravel()
        return r, None, None
    eye = np.eye(k, dtype=complex)
    variables = [Jet(np.array([w[i]]), eye[i][None, :], np.zeros((1, k, k), dtype=complex) if order > 1 else None)
                 for i in range(k)]
    outs = forward_point(spec, variables, cols)
    J = np.stack([np.broadcast_to(o.grad, (n, k)) for o in outs], axis=1).reshape(n * len(outs), k)
    r = (np.stack([np.broadcast_to(o.val, (n,)) for o in outs], axis=1) - Y).ravel()
    H = None
    if order > 1:
        H = np.stack([np.broadcast_to(o.hess, (n, k, k)) for o in outs], axis=1).reshape(n * len(outs), k, k)
    return r, J, H


# ----------------------------------------------------------------------------------------------
# Start systems


@dataclass(frozen=True)
class StartSystem:
    """A start system with all its solutions known.

    Fields:
        kind: 'total_degree', 'multihomogeneous' or 'polyhedral'.
        polys: the start polynomials g in PHCpack syntax.
        points: the start solutions (complex, one row per path).
        count: the number of start solutions (the Bezout or m-Bezout number).
        partition: the variable groups (multihomogeneous only).
        degree_matrix: d_ij, the degree of equation i in group j (multihomogeneous only).
    """

    kind: str
    polys: tuple[str, ...]
    points: np.ndarray = field(repr=False, compare=False)
    count: int
    partition: tuple[tuple[str, ...], ...] | None = None
    degree_matrix: tuple[tuple[int, ...], ...] | None = None


def bezout_number(degrees: Sequence[int]) -> int:
    """Return the Bezout number ∏_i d_i (Theory II §3.1: the count of solutions in projective space)."""
    return math.prod(int(d) for d in degrees)


def check_budget(count: int, max_paths: int, what: str, hint: str = "") -> None:
    """Raise PathBudgetExceeded with one line naming the bound, the budget and the way forward."""
    if count > max_paths:
        raise PathBudgetExceeded(
            f"{what} has {count:,} start paths, over the path budget of {max_paths:,}: "
            f"raise --max-paths, {hint + ', ' if hint else ''}use --monodromy, or a smaller network")


def total_degree_start(system: System, max_paths: int = DEFAULT_MAX_PATHS) -> StartSystem:
    """Return g_i = x_i^{d_i} − 1 and its ∏ d_i solutions (products of roots of unity)."""
    degrees = system.degrees()
    count = bezout_number(degrees)
    check_budget(count, max_paths, "the total-degree start system (Bezout number)",
                 "try --start multihomogeneous")
    polys = tuple(f"{n}^{d} - 1;" for n, d in zip(system.names, degrees))
    roots = [np.exp(2j * np.pi * np.arange(d) / d) for d in degrees]
    points = np.array(list(itertools.product(*roots)), dtype=complex).reshape(count, len(degrees))
    return StartSystem("total_degree", polys, points, count)


HOM = "xhom"  # the homogenizing variable: never a network name (those are one letter and digits)


def expanded(polys: Sequence[str], names: Sequence[str]) -> list[str]:
    """Return the polynomials as PHCpack expands them (terms with float or complex coefficients)."""
    phc.store(phc.pin_order(polys, names), n_vars=len(names))
    with phc.session():
        from phcpy.interface import load_standard_system
        return list(load_standard_system())


def homogenize(system: System) -> tuple[list[str], list[int]]:
    """Return (f_i^h(x_0, x) = x_0^{d_i} f_i(x/x_0) as PHCpack strings, d_i), expanded through PHCpack and sympy."""
    import sympy

    syms = [sympy.Symbol(n) for n in system.names]
    h = sympy.Symbol(HOM)
    local = {n: v for n, v in zip(system.names, syms)}
    local.update({"i": sympy.I, "I": sympy.I})
    out, degs = [], []
    for text in expanded(system.polys, system.names):
        body = text.strip().rstrip(";").strip()
        body = body.replace("0*" + " + 0*".join(system.names) + " + ", "")
        P = sympy.Poly(sympy.sympify(body.replace("^", "**"), locals=local), *syms).homogenize(h)
        gens = [HOM] + list(system.names)
        order = [P.gens.index(sympy.Symbol(g)) for g in gens]
        terms = []
        for monom, coeff in P.terms():
            factors = [f"{g}^{monom[k]}" if monom[k] > 1 else g for g, k in zip(gens, order) if monom[k]]
            terms.append("*".join([complex_literal(complex(coeff))] + factors))
        out.append(" + ".join(terms) + ";" if terms else "0;")
        degs.append(int(P.total_degree()))
    return out, degs


def projective_total_degree_start(system: System, seed: int, max_paths: int = DEFAULT_MAX_PATHS
                                  ) -> tuple[StartSystem, list[str], np.ndarray]:
    """Return (start system, homogenized target with chart, chart coefficients) in the chart a·(x_0, x) = 1.

    Start g_j = x_j^{d_j} − x_0^{d_j}; both systems share the random affine chart, so paths to
    infinity end at finite points with x_0 = 0 (Sommese–Wampler 2005, §3.7; Bertini's default).
    """
    degrees = system.degrees()
    count = bezout_number(degrees)
    check_budget(count, max_paths, "the total-degree start system (Bezout number)",
                 "try --start multihomogeneous")
    target, _ = homogenize(system)
    rng = np.random.default_rng([seed, 31])
    a = (rng.normal(size=system.n_vars + 1) + 1j * rng.normal(size=system.n_vars + 1)) / np.sqrt(2)
    names = (HOM,) + system.names
    chart = linear_string(a, -1.0, names)
    polys = tuple(f"{n}^{d} - {HOM}^{d};" for n, d in zip(system.names, degrees)) + (chart,)
    roots = [np.exp(2j * np.pi * np.arange(d) / d) for d in degrees]
    affine = np.array(list(itertools.product(*roots)), dtype=complex).reshape(count, len(degrees))
    X = np.hstack([np.ones((count, 1), dtype=complex), affine])
    X = X / (X @ a)[:, None]
    return StartSystem("total_degree", polys, X, count), target + [chart], a


def group_degrees(system: System, groups: Sequence[Sequence[int]], seed: int) -> np.ndarray:
    """Return d_ij, the degree of equation i in the variables of group j, measured numerically.

    Along x_G = s·u (u random, the other variables random) f_i is a polynomial in s of degree
    d_ij; its coefficients come from the discrete Fourier transform of samples on the unit
    circle, and d_ij is the last coefficient above 1e-9 of the largest (generic points).
    """
    rng = np.random.default_rng(seed)
    total = system.degrees()
    M = max(total) + 1
    s = np.exp(2j * np.pi * np.arange(M) / M)
    out = np.zeros((system.n_equations, len(groups)), dtype=int)
    for j, g in enumerate(groups):
        base = rng.normal(size=system.n_vars) + 1j * rng.normal(size=system.n_vars)
        u = (rng.normal(size=len(g)) + 1j * rng.normal(size=len(g))) / np.sqrt(2)
        samples = []
        for sk in s:
            x = base.copy()
            x[list(g)] = sk * u
            samples.append(system.evaluate(x))
        coeffs = np.fft.fft(np.array(samples), axis=0) / M  # coefficient k of s^k, times M/M
        mags = np.abs(coeffs)
        for i in range(system.n_equations):
            big = np.nonzero(mags[:, i] > 1e-9 * max(mags[:, i].max(), 1e-300))[0]
            out[i, j] = int(big.max()) if len(big) else 0
    return out


def multihomogeneous_count(degree_matrix: np.ndarray, sizes: Sequence[int]) -> int:
    """Return the m-homogeneous Bezout number: coefficient of ∏_j α_j^{k_j} in ∏_i Σ_j d_ij α_j."""
    from functools import lru_cache

    D = [tuple(int(v) for v in row) for row in np.asarray(degree_matrix)]

    @lru_cache(maxsize=None)
    def count(i: int, remaining: tuple[int, ...]) -> int:
        if i == len(D):
            return int(all(r == 0 for r in remaining))
        total = 0
        for j, r in enumerate(remaining):
            if r and D[i][j]:
                nxt = remaining[:j] + (r - 1,) + remaining[j + 1:]
                total += D[i][j] * count(i + 1, nxt)
        return total

    return count(0, tuple(int(k) for k in sizes))


def multihomogeneous_start(system: System, groups: Sequence[Sequence[int]], seed: int,
                           max_paths: int = DEFAULT_MAX_PATHS) -> StartSystem:
    """Return the random linear-product start system for the variable groups and its m-Bezout many solutions.

    g_i = ∏_j ∏_{k<d_ij} (a_ijk · x_{G_j} + b_ijk); a solution picks, for each equation i, one
    group j(i) (each group picked |G_j| times) and one factor k, and solves the resulting
    square linear system in each group (Sommese–Wampler 2005, §8.4.2).
    """
    groups = [list(g) for g in groups]
    if sorted(i for g in groups for i in g) != list(range(system.n_vars)):
        raise InvalidSpecError("the variable groups must partition the variables")
    D = group_degrees(system, groups, seed)
    sizes = [len(g) for g in groups]
    count = multihomogeneous_count(D, sizes)
    check_budget(count, max_paths, "the multihomogeneous start system (m-Bezout number)")
    rng = np.random.default_rng(seed + 1)
    forms = {}  # (i, j, k) -> (a over the group's variables, b)
    polys = []
    for i in range(system.n_equations):
        factors = []
        for j, g in enumerate(groups):
            for k in range(D[i, j]):
                a = rng.normal(size=len(g)) + 1j * rng.normal(size=len(g))
                b = rng.normal() + 1j * rng.normal()
                forms[i, j, k] = (a, b)
                factors.append("(" + linear_string(a, b, [system.names[v] for v in g])[:-1] + ")")
        polys.append("*".join(factors) + ";" if factors else "1;")
    points = []

    def assign(i: int, remaining: list[int], picks: list[tuple[int, int]]) -> None:
        if i == system.n_equations:
            x = np.zeros(system.n_vars, dtype=complex)
            for j, g in enumerate(groups):
                rows = [(forms[e, j, k]) for e, (jj, k) in enumerate(picks) if jj == j]
                A = np.array([a for a, _ in rows])
                b = np.array([bb for _, bb in rows])
                x[g] = np.linalg.solve(A, -b)
            points.append(x)
            return
        for j in range(len(groups)):
            if remaining[j] and D[i, j]:
                remaining[j] -= 1
                for k in range(D[i, j]):
                    assign(i + 1, remaining, picks + [(j, k)])
                remaining[j] += 1

    assign(0, sizes, [])
    names = tuple(tuple(system.names[v] for v in g) for g in groups)
    return StartSystem("multihomogeneous", tuple(polys), np.array(points, dtype=complex).reshape(-1, system.n_vars),
                       count, names, tuple(tuple(int(v) for v in row) for row in D))


# ----------------------------------------------------------------------------------------------
# Tracking and classification


@dataclass(frozen=True)
class TrackOptions:
    """Tolerances and limits of the tracker and of the endpoint classification.

    Fields:
        seed: seeds γ, the start systems' random coefficients and PHCpack's generator.
        max_paths: refuse start systems with more paths than this.
        tol_residual: regular endpoints need ‖f(x)‖∞ ≤ tol_residual·(1 + ‖x‖∞)^{max deg} after Newton.
        tol_singular: the same bound for singular endpoints (they converge only to about √ε).
        cond_max: endpoints with cond₂(J) above this are singular.
        tol_step: regular endpoints need a last Newton correction ≤ tol_step·(1 + ‖x‖∞), i.e. Newton
            converged quadratically (near a multiple root it only halves the error per step).
        real_tol: a solution is real when max_j |Im x_j| ≤ real_tol·(1 + ‖x‖∞).
        same_tol: two endpoints are the same solution when ‖x − y‖∞ ≤ same_tol·(1 + ‖x‖∞).
        diverge_norm: a non-regular endpoint with ‖x‖∞ above this is at infinity (in projective
            tracking: |x_0| ≲ 1/diverge_norm; singular points at infinity converge slowly).
        infinity_norm: any endpoint with ‖x‖∞ above this is at infinity.
        retry: the precision ('dd' or 'qd') for a second attempt at failed paths; None for none.
        projective: track total-degree homotopies in a random affine chart of projective space, so
            that paths to infinity converge (to x_0 = 0) instead of diverging.
        batch: paths per PHCpack call (progress is reported between calls).
        tasks: PHCpack threads (0: none; the machine is shared).
    """

    seed: int = 0
    max_paths: int = DEFAULT_MAX_PATHS
    tol_residual: float = 1e-9
    tol_singular: float = 1e-5
    cond_max: float = 1e8
    tol_step: float = 1e-11
    real_tol: float = 1e-8
    same_tol: float = 1e-6
    diverge_norm: float = 1e2
    infinity_norm: float = 1e8
    retry: str | None = "dd"
    projective: bool = False
    batch: int = 500
    tasks: int = 0


@dataclass(frozen=True)
class PathResult:
    """The fate of one homotopy path (cf. HomotopyContinuation.jl's PathResult).

    Fields:
        index: the start point's index.
        outcome: 'regular', 'singular', 'at_infinity' or 'failed'.
        x: the endpoint (after Newton refinement for converged paths).
        t: the real part of the final continuation parameter.
        residual: ‖f(x)‖∞, recomputed by our evaluator.
        condition: cond₂ of the Jacobian at x (σ_max/σ_min), recomputed by numpy.
        newton_step: the last Newton correction ‖Δx‖∞.
        phc_rco: PHCpack's inverse condition number estimate.
        precision: precision of the run that produced the endpoint ('d', 'dd').
        retried: whether the path was tracked a second time in higher precision.
        real: whether the endpoint is real within `real_tol` (only meaningful if finite).
        x0: |x_0|/‖(x_0, x)‖∞ of the projective endpoint (NaN for affine tracking): near 0 the path
            went to infinity; a failed path with small x0 was still heading there.
    """

    index: int
    outcome: str
    x: tuple[complex, ...]
    t: float
    residual: float
    condition: float
    newton_step: float
    phc_rco: float
    precision: str
    retried: bool
    real: bool
    x0: float = float("nan")

    def to_dict(self) -> dict:
        """Return a JSON-serialisable dict (complex coordinates as [re, im] pairs)."""
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "x"}
        d["x"] = [[z.real, z.imag] for z in self.x]
        return d


def newton_refine(system: System, x: np.ndarray, steps: int = 3) -> tuple[np.ndarray, float]:
    """Return (x after Gauss–Newton steps x ← x − J⁺f(x), last correction ‖Δx‖∞); stops when it stops improving."""
    x = np.array(x, dtype=complex)
    last = np.inf
    for _ in range(steps):
        f = system.evaluate(x)
        if not np.all(np.isfinite(f)):
            break
        dx = np.linalg.lstsq(system.jacobian(x), f, rcond=None)[0]
        step = float(np.max(np.abs(dx))) if dx.size else 0.0
        if not np.isfinite(step) or step > 1e-2 * (1 + np.max(np.abs(x))):
            break  # far from a solution: Newton would wander
        x = x - dx
        last = step
        if step <= 1e-15 * (1 + np.max(np.abs(x))):
            break
    return x, last


def condition_number(J: np.ndarray) -> float:
    """Return σ_max/σ_min of J (inf if rank deficient)."""
    s = np.linalg.svd(J, compute_uv=False)
    return float(s[0] / s[-1]) if s[-1] > 0 else float("inf")


def classify_endpoint(system: System, raw: phc.RawEndpoint, index: int, precision: str,
                      opts: TrackOptions, max_degree: int, retried: bool = False, trust_end: bool = False) -> PathResult:
    """Return the PathResult of one PHCpack endpoint under the rules in the module docstring.

    `trust_end`: judge any endpoint by its residual (projective tracking ends every path at
    t = 1 in a bounded chart; PHCpack's end game flag is then not needed).
    """
    x = raw.x
    finite = bool(np.all(np.isfinite(x)))
    reached = finite and (trust_end or (abs(raw.t.real - 1.0) < 1e-9 and raw.m >= 1))
    norm = float(np.max(np.abs(x))) if finite and x.size else float("nan")
    residual = cond = step = float("nan")
    outcome = "failed"
    if finite and norm > opts.infinity_norm:
        outcome = "at_infinity"
    elif reached:
        x, step = newton_refine(system, x)
        norm = float(np.max(np.abs(x)))
        residual = float(np.max(np.abs(system.evaluate(x))))
        cond = condition_number(system.jacobian(x))
        scale = (1.0 + norm) ** max_degree
        converged = step <= opts.tol_step * (1.0 + norm)
        if cond <= opts.cond_max and converged and residual <= opts.tol_residual * scale:
            outcome = "regular"
        elif residual <= opts.tol_singular * scale and step <= 1e-4 * (1.0 + norm) and norm <= opts.diverge_norm:
            outcome = "singular"  # Newton still contracts, only linearly: a multiple or non-isolated point
        elif trust_end and norm > opts.diverge_norm:
            outcome = "at_infinity"  # |x_0| ≤ 1/diverge_norm in the chart: a (singular) point at infinity
    elif finite and norm > opts.diverge_norm:
        outcome = "at_infinity"
    if finite and np.isnan(residual):
        residual = float(np.max(np.abs(system.evaluate(x))))
    real = finite and bool(np.max(np.abs(x.imag), initial=0.0) <= opts.real_tol * (1 + norm))
    return PathResult(index, outcome, tuple(complex(v) for v in x), float(raw.t.real), residual, cond, step,
                      float(raw.rco), precision, retried, real)


def dehomogenize(raw: phc.RawEndpoint, infinity_tol: float) -> tuple[phc.RawEndpoint, bool]:
    """Return (the affine endpoint x/x_0, whether x_0 ≈ 0, i.e. the path ended at infinity)."""
    X = raw.x
    if not np.all(np.isfinite(X)):
        return raw, False
    if abs(X[0]) <= infinity_tol * max(float(np.max(np.abs(X))), 1e-300):
        return raw, True
    return phc.RawEndpoint(raw.t, max(raw.m, 1), raw.err, raw.rco, raw.res, X[1:] / X[0]), False


def track_paths(system: System, start: StartSystem, gamma: complex, opts: TrackOptions,
                progress: Callable[[int, int], None] | None = None,
                projective_target: Sequence[str] | None = None) -> list[PathResult]:
    """Return one PathResult per start point: track in double, retry failures in `opts.retry` precision.

    With `projective_target` (homogenized target and chart, from `projective_total_degree_start`)
    paths run in the chart and endpoints with |x_0| ≤ 1e-8·‖X‖ are at infinity.
    """
    degrees = system.degrees()
    dmax = max(degrees)
    projective = projective_target is not None
    target = tuple(projective_target) if projective else system.polys
    names = ((HOM,) + system.names) if projective else system.names

    def judge(raw: phc.RawEndpoint, idx: int, precision: str, retried: bool) -> PathResult:
        if projective:
            X = raw.x
            x0 = float(abs(X[0]) / max(float(np.max(np.abs(X))), 1e-300)) if np.all(np.isfinite(X)) else float("nan")
            raw, infinite = dehomogenize(raw, 1e-8)
            if infinite:
                return PathResult(idx, "at_infinity", tuple(complex(v) for v in raw.x[1:]), float(raw.t.real),
                                  float("nan"), float("nan"), float("nan"), float(raw.rco), precision, retried, False, x0)
            return replace(classify_endpoint(system, raw, idx, precision, opts, dmax, retried, trust_end=True), x0=x0)
        return classify_endpoint(system, raw, idx, precision, opts, dmax, retried)

    results: list[PathResult] = []
    n = len(start.points)
    for lo in range(0, n, opts.batch):
        chunk = start.points[lo:lo + opts.batch]
        raws = phc.track(target, start.polys, chunk, names, gamma, "d", opts.tasks)
        results.extend(judge(r, lo + k, "d", False) for k, r in enumerate(raws))
        if progress:
            progress(min(lo + opts.batch, n), n)
    if opts.retry:
        bad = [r.index for r in results if r.outcome == "failed"]
        if bad:
            raws = phc.track(target, start.polys, start.points[bad], names, gamma, opts.retry, max(opts.tasks, 1))
            for idx, raw in zip(bad, raws):
                again = judge(raw, idx, opts.retry, True)
                old = results[idx]
                results[idx] = again if again.outcome != "failed" else replace(old, retried=True)
    return results


def cluster(points: Sequence[np.ndarray], tol: float) -> list[list[int]]:
    """Return groups of indices of points within ‖x − y‖∞ ≤ tol·(1 + ‖x‖∞) of a group's first member."""
    groups: list[list[int]] = []
    reps: list[np.ndarray] = []
    for i, p in enumerate(points):
        p = np.asarray(p)
        for g, r in zip(groups, reps):
            if np.max(np.abs(p - r)) <= tol * (1 + np.max(np.abs(r))):
                g.append(i)
                break
        else:
            groups.append([i])
            reps.append(p)
    return groups


@dataclass(frozen=True)
class SolveResult:
    """All isolated solutions of a square system found by one homotopy, with every path accounted for.

    Fields:
        label: the system.
        n_vars: number of variables (= number of equations).
        start_system: 'total_degree', 'multihomogeneous' or 'polyhedral' (torus solutions only).
        partition: the variable groups of the multihomogeneous start system, if used.
        degrees: total degree of each equation.
        bezout: ∏ d_i, the total-degree (Bezout) bound.
        m_bezout: the m-homogeneous Bezout number of the partition (None if not computed).
        mixed_volume: the BKK bound on solutions in (C*)^n (None if not computed).
        stable_mixed_volume: the BKK bound on solutions in C^n (None if not computed).
        n_paths: number of paths tracked (= start solutions).
        outcomes: count of paths per outcome (regular, singular, at_infinity, failed); sums to n_paths.
        n_retried: paths tracked again in higher precision.
        solutions: the distinct regular solutions (complex coordinates).
        real: for each distinct solution, whether it is real.
        n_solutions: number of distinct regular solutions (the isolated nonsingular count).
        n_real: number of those that are real.
        n_duplicates: regular endpoints that repeat another path's endpoint (path crossing: a warning).
        singular_clusters: sizes of the clusters of singular endpoints.
        gamma: the γ constant used, as (re, im).
        seed: the seed of γ and of the random start coefficients.
        options: the TrackOptions (tolerances stated with the result).
        paths: every PathResult.
        seconds: wall time.
        paths_per_second: n_paths / tracking time.
        names: the variables, in coordinate order.
    """

    label: str
    n_vars: int
    start_system: str
    partition: tuple[tuple[str, ...], ...] | None
    degrees: tuple[int, ...]
    bezout: int
    m_bezout: int | None
    mixed_volume: int | None
    stable_mixed_volume: int | None
    n_paths: int
    outcomes: dict
    n_retried: int
    solutions: tuple[tuple[complex, ...], ...]
    real: tuple[bool, ...]
    n_solutions: int
    n_real: int
    n_duplicates: int
    singular_clusters: tuple[int, ...]
    gamma: tuple[float, float]
    seed: int
    options: TrackOptions
    paths: tuple[PathResult, ...] = field(repr=False)
    seconds: float = 0.0
    paths_per_second: float = 0.0
    names: tuple[str, ...] = ()

    @property
    def bkk_complete(self) -> bool | None:
        """Whether the count is provably complete: the distinct regular solutions reach the stable mixed volume.

        The stable mixed volume bounds the isolated solutions in C^n counted with multiplicity
        (Huber–Sturmfels 1997; Li–Wang 1996), so once the regular ones reach it, no other isolated
        solution exists and every other path (failed, singular, at infinity) ends elsewhere: at
        infinity or on a positive-dimensional set. None when the bound was not computed.
        """
        if self.stable_mixed_volume is None:
            return None
        return self.n_solutions >= self.stable_mixed_volume

    @property
    def completeness(self) -> str:
        """Return one line saying how complete the count is, by the BKK bound."""
        smv, n = self.stable_mixed_volume, self.n_solutions
        others = self.n_paths - self.outcomes["regular"]
        if smv is None:
            return "not assessed (mixed volume not computed)"
        if self.bkk_complete:
            tail = f"; the other {others} paths end at infinity or on positive-dimensional sets" if others else ""
            return f"complete: {n} regular solution{'s' * (n != 1)} = stable mixed volume {smv} (BKK bound in C^n){tail}"
        gap = f"{n} regular of at most {smv} isolated solutions (BKK)"
        if self.singular_clusters:
            return f"{gap}; singular endpoints may account for the rest (multiplicities not measured)"
        if self.start_system == "polyhedral":
            return f"{gap}; the polyhedral start reaches torus solutions only: solutions with zero coordinates are not tracked"
        if self.outcomes.get("failed"):
            return f"{gap}; {self.outcomes['failed']} failed paths may hide solutions, or the coefficients are not generic"
        return f"{gap}; the BKK bound is not attained (no path was lost)"

    def solution_array(self) -> np.ndarray:
        """Return the distinct regular solutions as a complex array (n_solutions, n_vars)."""
        return np.array(self.solutions, dtype=complex).reshape(len(self.solutions), self.n_vars)

    def to_dict(self, with_paths: bool = False) -> dict:
        """Return a JSON-serialisable dict (paths included only if asked)."""
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k not in ("paths", "solutions", "options")}
        d["options"] = self.options.__dict__
        d["bkk_complete"], d["completeness"] = self.bkk_complete, self.completeness
        d["solutions"] = [[[z.real, z.imag] for z in s] for s in self.solutions]
        if with_paths:
            d["paths"] = [p.to_dict() for p in self.paths]
        return d


def random_gamma(seed: int) -> complex:
    """Return γ = e^{iθ} with θ uniform, from `seed` (recorded in every result)."""
    theta = np.random.default_rng([seed, 7919]).uniform(0, 2 * np.pi)
    return complex(np.cos(theta), np.sin(theta))


def layer_partition(names: Sequence[str]) -> list[list[int]]:
    """Return the variable groups by name prefix letter (a0.. | b0.. | ...): the network's layers."""
    groups: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        groups.setdefault(n.rstrip("0123456789") or n, []).append(i)
    return list(groups.values())


def solve(system: System, start: str = "total_degree", groups: Sequence[Sequence[int]] | None = None,
          options: TrackOptions = TrackOptions(), mixed_volume: bool = True,
          progress: Callable[[int, int], None] | None = None) -> SolveResult:
    """Return all isolated solutions of the square `system` reachable from the chosen start system.

    Every isolated solution is the endpoint of some path (Sommese–Wampler 2005, Thm 8.4.1), so
    n_solutions ≤ m_bezout ≤ bezout and n_solutions ≤ stable mixed volume.
    """
    if not system.is_square:
        raise InvalidSpecError(f"solve needs a square system: {system.n_equations} equations in {system.n_vars} variables")
    if start not in START_SYSTEMS:
        raise InvalidSpecError(f"start system must be one of {START_SYSTEMS}, got {start!r}")
    t0 = time.perf_counter()
    degrees = system.degrees()
    bez = bezout_number(degrees)
    if groups is None:
        groups = layer_partition(system.names)
    target = None
    if start == "total_degree" and options.projective:
        st, target, _ = projective_total_degree_start(system, options.seed, options.max_paths)
    elif start == "total_degree":
        st = total_degree_start(system, options.max_paths)
    elif start == "polyhedral":
        mv0, _ = phc.mixed_volume(system.polys)
        check_budget(mv0, options.max_paths, "the polyhedral start system (mixed volume)")
        q, pts, mv0 = phc.polyhedral_start(system.polys, system.names, options.seed)
        st = StartSystem("polyhedral", tuple(q), pts, len(pts))
    else:
        phc.set_seed(options.seed)
        st = multihomogeneous_start(system, groups, options.seed, options.max_paths)
    m_bez = st.count if st.kind == "multihomogeneous" else None
    mv = smv = None
    if mixed_volume:
        mv, smv = phc.mixed_volume(system.polys)
    gamma = random_gamma(options.seed)
    t1 = time.perf_counter()
    paths = track_paths(system, st, gamma, options, progress, projective_target=target)
    t_track = time.perf_counter() - t1
    return summarize(system, st, paths, degrees, bez, m_bez, mv, smv, gamma, options,
                     time.perf_counter() - t0, len(paths) / max(t_track, 1e-9))


def summarize(system: System, st: StartSystem, paths: Sequence[PathResult], degrees, bez, m_bez, mv, smv,
              gamma: complex, options: TrackOptions, seconds: float, rate: float) -> SolveResult:
    """Return the SolveResult of tracked paths: outcome counts, distinct solutions, reality."""
    outcomes = {k: sum(p.outcome == k for p in paths) for k in OUTCOMES}
    regular = [p for p in paths if p.outcome == "regular"]
    groups = cluster([np.array(p.x) for p in regular], options.same_tol)
    sols = tuple(regular[g[0]].x for g in groups)
    real = tuple(regular[g[0]].real for g in groups)
    singular = [p for p in paths if p.outcome == "singular"]
    sing_groups = cluster([np.array(p.x) for p in singular], np.sqrt(options.same_tol))
    return SolveResult(system.label, system.n_vars, st.kind, st.partition, tuple(degrees), bez, m_bez, mv, smv,
                       len(paths), outcomes, sum(p.retried for p in paths), sols, real, len(sols), sum(real),
                       len(regular) - len(groups), tuple(sorted((len(g) for g in sing_groups), reverse=True)),
                       (gamma.real, gamma.imag), options.seed, options, tuple(paths), seconds, rate,
                       tuple(system.names))


@dataclass(frozen=True)
class GammaCheck:
    """Two homotopies with independent γ (and start coefficients) compared: a test for lost or jumped paths.

    Fields:
        seeds: the two seeds.
        counts: distinct regular solutions found by each run.
        union: distinct regular solutions found by either.
        agree: both runs found the same set (then n_solutions is reproducible, not a γ artefact).
    """

    seeds: tuple[int, int]
    counts: tuple[int, int]
    union: int
    agree: bool

    def to_dict(self) -> dict:
        """Return a JSON-serialisable dict."""
        return dict(self.__dict__)


def gamma_check(system: System, first: SolveResult, seed: int, start: str | None = None,
                groups: Sequence[Sequence[int]] | None = None) -> GammaCheck:
    """Return the comparison of `first` with a second solve using `seed` (a different γ).

    A path that jumps or fails under one γ is, with probability one, fine under another, so the
    union is a better count and disagreement flags a problem (Sommese–Wampler 2005, §7.4).
    """
    opts = replace(first.options, seed=seed)
    second = solve(system, start=start or first.start_system, groups=groups, options=opts, mixed_volume=False)
    pts = list(first.solution_array()) + list(second.solution_array())
    union = len(cluster(pts, first.options.same_tol))
    return GammaCheck((first.seed, seed), (first.n_solutions, second.n_solutions), union,
                      union == first.n_solutions == second.n_solutions)
