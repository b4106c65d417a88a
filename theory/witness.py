"""Dimension and degree of zero-error sets: witness sets, numerical irreducible decomposition, Gröbner checks.

A pure-dimensional algebraic set V ⊂ C^K of dimension k meets a generic affine linear space of
codimension k in exactly deg V points, all smooth points of the slice system (Sommese–Wampler
2005, ch. 13: witness sets). For the zero-error set V = {w : f(x_i; w) = y_i, i ≤ N} of Theory II
§3.2 (dimension ≥ K − N by Krull's principal ideal theorem, = K − N for generic data):

1. r = rank ∂f/∂w at generic w (the generic rank of the network map; r < N means dependent
   equations). The candidate top dimension is k = K − r.
2. Randomize f to r equations R·f (R random complex r × N; Bertini's randomization: it keeps every
   component of dimension ≥ k and may add spurious points, which are filtered by ‖f‖ ≈ 0) and
   append k random complex affine slices: a square K × K system.
3. Solve it by homotopy (`theory.homotopy`); the endpoints on V with Jacobian rank r are the
   witness points: their number is the degree of the k-dimensional part of V, and the rank
   confirms dim = K − r locally at each of them.

For small systems PHCpack's cascade + monodromy factorisation gives every component with its
dimension and degree (`decompose`), and a Gröbner basis over Q decides consistency exactly
(Hilbert's Nullstellensatz, Theory II §3.2: no solution ⇔ 1 ∈ ideal).
"""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from theory import homotopy as H
from theory.errors import InvalidSpecError


def numerical_rank(J: np.ndarray, rtol: float | None = None) -> tuple[int, float]:
    """Return (rank, gap): singular values above rtol·σ_max (default max(m,n)·ε·1e3), and σ_r/σ_{r+1}."""
    s = np.linalg.svd(np.asarray(J), compute_uv=False)
    if s.size == 0 or s[0] == 0:
        return 0, float("inf")
    tol = (rtol if rtol is not None else max(J.shape) * np.finfo(float).eps * 1e3) * s[0]
    r = int((s > tol).sum())
    gap = float(s[r - 1] / s[r]) if 0 < r < len(s) and s[r] > 0 else float("inf")
    return r, gap


def randomize(system: H.System, rows: int, rng: np.random.Generator) -> tuple[H.System, np.ndarray]:
    """Return (R·f, R): `rows` random complex combinations of the equations (identity if rows = m)."""
    m = system.n_equations
    if rows >= m:
        return system, np.eye(m, dtype=complex)
    R = (rng.normal(size=(rows, m)) + 1j * rng.normal(size=(rows, m))) / np.sqrt(2)
    polys = []
    for row in R:
        polys.append(" + ".join(f"{H.complex_literal(c)}*({p.rstrip(';')})" for c, p in zip(row, system.polys)) + ";")
    f0, j0 = system.evaluate, system.jacobian
    known = None if system.known_degrees is None else (max(system.known_degrees),) * rows
    return H.System(tuple(polys), system.names, lambda x: R @ f0(x), lambda x: R @ j0(x),
                    f"randomized {system.label}", known), R


@dataclass(frozen=True)
class WitnessSet:
    """A witness set of the dimension-`dim` part of V(f): the slice, its points, and their diagnostics.

    Fields:
        dim: the dimension k of the slice (number of random hyperplanes).
        degree: number of witness points: the degree of the k-dimensional part of V(f).
        points: the witness points (complex), on V(f) and regular for the sliced system.
        jacobian_ranks: rank of ∂f/∂w at each witness point (K − rank = local dimension).
        rank_gaps: σ_r/σ_{r+1} at each witness point (large gap: a clear rank).
        residuals: ‖f(w)‖∞ at each witness point.
        n_spurious: regular endpoints of the randomized system that are not on V(f).
        n_singular: singular endpoints (on higher-dimensional components, or multiple points).
        slices: (A, b) of the slice A w + b = 0, as [re, im] nested lists.
        randomization: the r × N randomizing matrix R (identity when no randomization).
        solve: the homotopy result of the sliced square system (every path accounted for).
        seed: seed of the slices, the randomization and γ.
    """

    dim: int
    degree: int
    points: tuple[tuple[complex, ...], ...] = field(repr=False)
    jacobian_ranks: tuple[int, ...]
    rank_gaps: tuple[float, ...] = field(repr=False)
    residuals: tuple[float, ...] = field(repr=False)
    n_spurious: int
    n_singular: int
    slices: tuple = field(repr=False)
    randomization: tuple = field(repr=False)
    solve: H.SolveResult = field(repr=False)
    seed: int = 0

    def point_array(self) -> np.ndarray:
        """Return the witness points as a complex array (degree, K)."""
        return np.array(self.points, dtype=complex).reshape(len(self.points), -1)

    def to_dict(self) -> dict:
        """Return a JSON-serialisable dict (the tracking summary without per-path data)."""
        d = {k: getattr(self, k) for k in ("dim", "degree", "jacobian_ranks", "rank_gaps", "residuals",
                                           "n_spurious", "n_singular", "seed")}
        d["points"] = [[[z.real, z.imag] for z in p] for p in self.points]
        d["solve"] = self.solve.to_dict()
        return d


def witness_set(system: H.System, dim: int, seed: int = 0, start: str = "total_degree",
                options: H.TrackOptions | None = None, residual_tol: float = 1e-8) -> WitnessSet:
    """Return a witness set for the dim-dimensional part of V(f) (Sommese–Wampler 2005, §13.2).

    Square system: (R f)(w) = 0 (K − dim random combinations), A w + b = 0 (dim random slices).
    """
    K = system.n_vars
    if not 0 <= dim <= K:
        raise InvalidSpecError(f"dimension must lie in [0, {K}], got {dim}")
    codim = K - dim
    if codim > system.n_equations:
        raise InvalidSpecError(f"{system.n_equations} equations cannot cut out codimension {codim}")
    rng = np.random.default_rng([seed, 101])
    rand, R = randomize(system, codim, rng)
    A = (rng.normal(size=(dim, K)) + 1j * rng.normal(size=(dim, K))) / np.sqrt(2)
    b = (rng.normal(size=dim) + 1j * rng.normal(size=dim)) / np.sqrt(2)
    sliced = rand.with_linear(A, b, label=f"{system.label} ∩ {dim} slices") if dim else rand
    opts = options or H.TrackOptions(seed=seed)
    groups = None
    if start == "multihomogeneous":
        groups = H.layer_partition(system.names)
    result = H.solve(sliced, start=start, groups=groups, options=opts)
    return _collect(system, result, dim, A, b, R, seed, residual_tol)


def _collect(system: H.System, result: H.SolveResult, dim: int, A, b, R, seed: int, residual_tol: float) -> WitnessSet:
    points, ranks, gaps, res = [], [], [], []
    spurious = 0
    for x in result.solution_array():
        r = float(np.max(np.abs(system.evaluate(x)))) if system.n_equations else 0.0
        if r > residual_tol * (1 + np.max(np.abs(x))) ** max(system.degrees()):
            spurious += 1
            continue
        rank, gap = numerical_rank(system.jacobian(x))
        points.append(tuple(complex(v) for v in x))
        ranks.append(rank)
        gaps.append(gap)
        res.append(r)
    pack = lambda M: np.stack([np.real(M), np.imag(M)], axis=-1).tolist()  # noqa: E731
    return WitnessSet(dim, len(points), tuple(points), tuple(ranks), tuple(gaps), tuple(res), spurious,
                      result.outcomes["singular"], (pack(A), pack(b)), pack(R), result, seed)


@dataclass(frozen=True)
class DimensionReport:
    """Dimension and degree of the zero-error set of a network on data, with the bounds they must respect.

    Fields:
        network: the spec as a dict; n_params: K; n_equations: N·n_d.
        data_kind: 'planted' (consistent by construction), 'random', or that of given data.
        expected_dimension: K − N·n_d (Theory II §3.2 for generic data).
        generic_rank: r, the rank of ∂f/∂w at a random point (numerical, with its gap).
        dimension: K − r, confirmed when every witness point has Jacobian rank r.
        confirmed: all witness points have rank r (and there is at least one).
        local_dimension_at_planted: K − rank ∂f/∂w(w*) at the planted solution (None if random data).
        degree: number of witness points: the degree of the top-dimensional part.
        bezout: D^r, the Bezout number of the randomized, sliced system (D the equation degree).
        m_bezout: the layer-grouped multihomogeneous Bezout number of that system.
        mixed_volume, stable_mixed_volume: BKK bounds of that system.
        degree_within_bounds: degree ≤ every bound above.
        consistent: False when no witness point exists and the system looks inconsistent.
        witness: the witness set.
        seconds: wall time.
        seed: seed of data, slices and γ.
    """

    network: dict
    n_params: int
    n_equations: int
    data_kind: str  # 'planted', 'random' or 'given'
    expected_dimension: int
    generic_rank: int
    dimension: int
    confirmed: bool
    local_dimension_at_planted: int | None
    degree: int
    bezout: int
    m_bezout: int | None
    mixed_volume: int | None
    stable_mixed_volume: int | None
    degree_within_bounds: bool
    consistent: bool
    witness: WitnessSet = field(repr=False)
    seconds: float = 0.0
    seed: int = 0

    def to_dict(self) -> dict:
        """Return a JSON-serialisable dict."""
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "witness"}
        d["witness"] = self.witness.to_dict()
        return d


def zero_error_dimension(spec, n_points: int, seed: int = 0, planted: bool = True, start: str = "total_degree",
                         options: H.TrackOptions | None = None, data=None, w_star=None) -> DimensionReport:
    """Return the measured dimension and degree of {w : f(x_i; w) = y_i} for seeded data on `spec`.

    dim = K − r with r the generic Jacobian rank (= K − N for generic data, Theory II §3.2);
    degree = #witness points ≤ Bezout, m-Bezout and mixed volume of the sliced system.
    Given `data` (and optionally its planted solution `w_star`) replace the seeded data.
    """
    from theory.bezout import multihomogeneous_bezout
    from theory.networks import init_weights
    from theory.systems import ZeroErrorSystem, planted_data, random_data

    t0 = time.perf_counter()
    if data is not None:
        planted = data.kind == "planted"
    elif planted:
        data, w_star = planted_data(spec, n_points, seed)
    else:
        data, w_star = random_data(spec, n_points, seed), None
    zsys = ZeroErrorSystem(spec, data)
    system = H.network_system(zsys)
    K, n_eq = system.n_vars, system.n_equations
    w_rand = init_weights(spec, seed) + 1j * init_weights(spec, seed + 1)
    r, _ = numerical_rank(system.jacobian(w_rand))
    local = None
    if w_star is not None:
        local = K - numerical_rank(system.jacobian(np.array([float(v) for v in w_star], dtype=complex)))[0]
    dim = K - r
    if dim == 0:
        raise InvalidSpecError(f"the zero-error system has generic rank {r} = K: its solutions are isolated; "
                               f"use `solve` (square systems) instead of `dimension`")
    ws = witness_set(system, dim, seed=seed, start=start, options=options or H.TrackOptions(seed=seed))
    degs = system.degrees()
    D = max(degs)
    bez = D ** r
    _, groups = zsys.degree_bounds()
    sizes = [g.size for g in spec.groups]
    mb = multihomogeneous_bezout([list(groups)] * r + [[1] * len(groups)] * dim, sizes)
    res = ws.solve
    bounds = [b for b in (bez, mb, res.stable_mixed_volume) if b is not None]
    confirmed = ws.degree > 0 and all(rk == r for rk in ws.jacobian_ranks)
    return DimensionReport(spec.to_dict(), K, n_eq, data.kind, K - n_eq, r, dim, confirmed,
                           local, ws.degree, bez, mb, res.mixed_volume, res.stable_mixed_volume,
                           all(ws.degree <= b for b in bounds), ws.degree > 0, ws,
                           time.perf_counter() - t0, seed)


# ----------------------------------------------------------------------------------------------
# Numerical irreducible decomposition and exact consistency


@dataclass(frozen=True)
class Component:
    """One irreducible component found by the cascade + monodromy factorisation.

    Fields:
        dimension: its dimension.
        degree: its degree (number of witness points in its factor).
        trace_error: the linear trace test residual certifying the factor (0 for isolated points).
    """

    dimension: int
    degree: int
    trace_error: float


@dataclass(frozen=True)
class Decomposition:
    """A numerical irreducible decomposition of V(f) (Sommese–Verschelde–Wampler 2002), computed by PHCpack.

    Fields:
        components: every irreducible component, highest dimension first.
        n_isolated: number of isolated solutions (dimension 0), as reported by the cascade.
        top_dimension: the dimension the cascade started from.
        degrees_by_dimension: {dim: total degree of the dim-dimensional part}.
        seed: PHCpack's generator seed.
        seconds: wall time.
    """

    components: tuple[Component, ...]
    n_isolated: int
    top_dimension: int
    degrees_by_dimension: dict
    seed: int
    seconds: float

    def to_dict(self) -> dict:
        """Return a JSON-serialisable dict."""
        return {"components": [c.__dict__ for c in self.components], "n_isolated": self.n_isolated,
                "top_dimension": self.top_dimension,
                "degrees_by_dimension": {str(k): v for k, v in self.degrees_by_dimension.items()},
                "seed": self.seed, "seconds": self.seconds}


def decompose(system: H.System, top_dimension: int | None = None, seed: int = 0, loops: int = 20) -> Decomposition:
    """Return the numerical irreducible decomposition of V(f) by PHCpack's cascade and factor modules."""
    from theory import phc

    t0 = time.perf_counter()
    top = system.n_vars - 1 if top_dimension is None else top_dimension
    deco = phc.decompose(system.polys, system.n_vars, top, seed=seed, loops=loops)
    comps, n_iso, by_dim = [], 0, {}
    for d in sorted(deco, reverse=True):
        _, pts, factors = deco[d]
        if d == 0:
            n_iso = len(pts)
            if pts:
                by_dim[0] = len(pts)
            continue
        if not pts:
            continue
        by_dim[d] = len(pts)
        for members, trace in factors or []:
            comps.append(Component(d, len(members), float(trace)))
    return Decomposition(tuple(comps), n_iso, top, by_dim, seed, time.perf_counter() - t0)


@dataclass(frozen=True)
class GroebnerCheck:
    """Exact consistency of a polynomial system over Q by a reduced Gröbner basis (sympy).

    Fields:
        consistent: False iff the reduced basis is {1}, i.e. no complex solution (Nullstellensatz).
        basis_size: number of polynomials in the reduced basis.
        order: the monomial order used.
        seconds: wall time.
        n_solutions: dim_Q Q[w]/I, the number of complex solutions counted with multiplicity, when
            the ideal is zero-dimensional (the standard monomials outside the leading-term ideal);
            None when the solution set is positive-dimensional or empty.
        modulus: None for a basis over Q (exact); a prime p for a basis over GF(p) of the system
            with cleared denominators, which has the same leading ideal as over Q for all but
            finitely many ("unlucky") primes (Arnold 2003): far faster, as coefficients stay small.
    """

    consistent: bool
    basis_size: int
    order: str
    seconds: float
    n_solutions: int | None = None
    modulus: int | None = None

    def to_dict(self) -> dict:
        """Return a JSON-serialisable dict."""
        return dict(self.__dict__)


def groebner_check(polys: Sequence, order: str = "grevlex", modulus: int | None = None) -> GroebnerCheck:
    """Return whether 1 ∈ ⟨polys⟩, and dim Q[w]/I when finite (sympy PolyElements over QQ).

    Hilbert's weak Nullstellensatz: V(I) = ∅ over C ⇔ 1 ∈ I ⇔ the reduced Gröbner basis is {1}.
    `modulus`: a prime p to compute over GF(p) instead of Q (see GroebnerCheck.modulus).
    """
    import sympy

    t0 = time.perf_counter()
    polys = [p for p in polys if p != 0]
    if not polys:
        return GroebnerCheck(True, 0, order, 0.0, modulus=modulus)
    ring = polys[0].ring
    if modulus is None:
        G = sympy.groebner([p.as_expr() for p in polys], *ring.symbols, order=order, domain=sympy.QQ)
    else:
        cleared = [p.clear_denoms()[1] for p in polys]
        if any(all(int(c) % modulus == 0 for c in p.coeffs()) for p in cleared):
            raise InvalidSpecError(f"the prime {modulus} divides every coefficient of an equation: pick another")
        G = sympy.groebner([p.as_expr() for p in cleared], *ring.symbols, order=order, modulus=modulus)
    basis = list(G.exprs)
    inconsistent = len(basis) == 1 and basis[0] == 1
    leading = [g.monoms(order=order)[0] for g in G.polys]
    count = None if inconsistent else standard_monomial_count(leading, len(ring.symbols))
    return GroebnerCheck(not inconsistent, len(basis), order, time.perf_counter() - t0, count, modulus)


def standard_monomial_count(leading: Sequence[Sequence[int]], n_vars: int) -> int | None:
    """Return the number of monomials divisible by no leading monomial, or None if it is infinite.

    Finite iff every variable has a pure power among the leading monomials (the ideal is then
    zero-dimensional, and the count is dim_Q Q[w]/I: Cox–Little–O'Shea, Ch. 5 §3, Thm 6).
    """
    bounds = []
    for i in range(n_vars):
        pure = [m[i] for m in leading if m[i] > 0 and all(e == 0 for j, e in enumerate(m) if j != i)]
        if not pure:
            return None
        bounds.append(min(pure))
    count = 0
    for mono in itertools.product(*(range(b) for b in bounds)):
        if not any(all(a >= e for a, e in zip(mono, m)) for m in leading):
            count += 1
    return count


def zero_error_groebner(zero_error, max_terms: int = 2_000) -> GroebnerCheck:
    """Return the Gröbner consistency check of a (tiny) zero-error system; ExpansionTooLarge if it is not tiny."""
    return groebner_check(zero_error.polynomials(max_terms=max_terms))


# ----------------------------------------------------------------------------------------------
# bezout --verify


@dataclass(frozen=True)
class BezoutVerification:
    """What homotopy continuation finds beside the bounds of `theory.bezout.bezout_report`.

    Fields:
        bezout: the report's Bezout number of the square (or sliced) system.
        multihomogeneous_bezout: the report's layer-grouped bound.
        witness_bound: the report's min of the two.
        expected_dimension: K − N (report); predicted_dimension: K − r (report).
        measured_dimension: K − r measured at the witness points; confirmed: every witness point has rank r.
        measured_degree: number of witness points (degree of the top-dimensional zero-error set).
        mixed_volume: stable mixed volume of the sliced system.
        within_bounds: measured_degree ≤ every bound.
        n_paths, failed_paths: paths tracked and paths that failed (counted, never dropped).
        seconds: wall time; seed: the seed.
    """

    bezout: int
    multihomogeneous_bezout: int | None
    witness_bound: int
    expected_dimension: int
    predicted_dimension: int | None
    measured_dimension: int
    confirmed: bool
    measured_degree: int
    mixed_volume: int | None
    within_bounds: bool
    n_paths: int
    failed_paths: int
    seconds: float
    seed: int

    def to_dict(self) -> dict:
        """Return a JSON-serialisable dict."""
        return dict(self.__dict__)


def verify_bezout(spec, n_points: int, seed: int = 0, max_paths: int = H.DEFAULT_MAX_PATHS) -> BezoutVerification:
    """Return the measured dimension and degree of the zero-error set next to the Bezout-type bounds.

    Uses the same seeded random data as `bezout_report(spec, n_points, seed)`; raises
    PathBudgetExceeded (one line) when the sliced system has too many start paths.
    """
    from theory.bezout import bezout_report

    rep = bezout_report(spec, n_points, seed=seed)
    # Refuse before PHCpack sees the system: for huge degrees even its mixed volume does not finish.
    if rep.bezout > max_paths:
        from theory.errors import PathBudgetExceeded

        raise PathBudgetExceeded(
            f"the sliced zero-error system has a total-degree start system of {rep.bezout:,} paths, over the "
            f"path budget of {max_paths:,}: raise --max-paths, use `dimension --monodromy`, or a smaller network")
    dim = zero_error_dimension(spec, n_points, seed=seed, planted=False,
                               options=H.TrackOptions(seed=seed, max_paths=max_paths))
    bounds = [b for b in (rep.witness_bound, dim.bezout, dim.m_bezout, dim.stable_mixed_volume) if b is not None]
    res = dim.witness.solve
    return BezoutVerification(rep.bezout, rep.multihomogeneous_bezout, rep.witness_bound, rep.expected_dimension,
                              rep.predicted_dimension, dim.dimension, dim.confirmed, dim.degree,
                              dim.stable_mixed_volume, all(dim.degree <= b for b in bounds), res.n_paths,
                              res.outcomes["failed"], dim.seconds, seed)
