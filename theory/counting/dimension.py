"""Dimension and degree of zero-error sets: witness sets and the numerical irreducible decomposition.

A pure-dimensional algebraic set V ⊂ C^K of dimension k meets a generic affine linear space of
codimension k in exactly deg V points, all smooth points of the slice system (Sommese–Wampler
2005, ch. 13: witness sets). For the zero-error set V = {w : f(x_i; w) = y_i, i ≤ N} of Theory II
§3.2 (dimension ≥ K − N by Krull's principal ideal theorem, = K − N for generic data):

1. r = rank ∂f/∂w at generic w (the generic rank of the network map; r < N means dependent
   equations). The candidate top dimension is k = K − r.
2. Randomize f to r equations R·f and append k random complex affine slices
   (`theory.homotopy.slicing.witness_slice`; the randomization keeps every component of dimension ≥ k and
   may add spurious points, which are filtered by ‖f‖ ≈ 0): a square K × K system.
3. Solve it by homotopy (`theory.homotopy.solve`); the endpoints on V with Jacobian rank r are the
   witness points: their number is the degree of the k-dimensional part of V, and the rank
   confirms dim = K − r locally at each of them.

For small systems PHCpack's cascade + monodromy factorisation gives every component with its
dimension and degree (`decompose`), and a Gröbner basis over Q decides consistency exactly
(`theory.counting.groebner`). `verify_bezout` puts the measured dimension and degree beside the bounds of
`theory.bounds.bezout.bezout_report`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from landscape_core.progress import Progress
from landscape_core.seeds import stream
from landscape_core.serialize import Serializable, fields_dict
from theory.homotopy import phcpack as phc
from landscape_core.errors import InvalidSpecError, PathBudgetExceeded
from theory.bounds.bezout import bezout_report, multihomogeneous_bezout
from theory.network.data import ExactData, planted_data, random_data
from theory.counting.groebner import GroebnerCheck, zero_error_groebner
from theory.counting.monodromy import LoopBudget, MonodromyResult, TraceTest, monodromy_solve, move_retrying, trace_proof, trace_test
from theory.counting.families import witness_family, zero_error_witness_monodromy
from theory.network.spec import NetworkSpec
from theory.polynomials.system import System, network_system
from theory.bounds.rank import numerical_rank
from theory.homotopy.slicing import random_complex, witness_slice
from theory.homotopy.solve import SolveResult, solve
from theory.homotopy.start_systems import DEFAULT_MAX_PATHS
from theory.network.equations import ZeroErrorSystem
from theory.homotopy.tracker import ENDPOINT_RANK_RTOL, TrackConfig



@dataclass(frozen=True)
class WitnessSet(Serializable):
    """A witness set of the dimension-`dim` part of V(f): the slice, its points, and their diagnostics.

    Fields:
        dim: the dimension k of the slice (number of random hyperplanes).
        degree: number of witness points: the degree of the k-dimensional part of V(f).
        points: the witness points (complex), on V(f) and regular for the sliced system.
        jacobian_ranks: rank of ∂f/∂w at each witness point (K − rank = local dimension), by
            `theory.bounds.rank.numerical_rank` with rtol = `theory.homotopy.tracker.ENDPOINT_RANK_RTOL`.
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
    solve: SolveResult = field(repr=False)
    seed: int = 0

    def point_array(self) -> np.ndarray:
        """Return the witness points as a complex array (degree, K)."""
        return np.array(self.points, dtype=complex).reshape(len(self.points), -1)

    def to_dict(self) -> dict:
        """Return the JSON form without the slice and randomization matrices (the seed reproduces them)."""
        return fields_dict(self, exclude=("slices", "randomization"))


def witness_set(system: System, dim: int, seed: int = 0, start: str = "total_degree",
                options: TrackConfig | None = None, residual_tol: float = 1e-8,
                progress: Progress | None = None) -> WitnessSet:
    """Return a witness set for the dim-dimensional part of V(f) (Sommese–Wampler 2005, §13.2).

    Square system: (R f)(w) = 0 (K − dim random combinations), A w + b = 0 (dim random slices),
    both from `theory.homotopy.slicing.witness_slice(system, dim, seed)`.
    """
    K = system.n_vars
    if not 0 <= dim <= K:
        raise InvalidSpecError(f"dimension must lie in [0, {K}], got {dim}")
    codim = K - dim
    if codim > system.n_equations:
        raise InvalidSpecError(f"{system.n_equations} equations cannot cut out codimension {codim}")
    cut = witness_slice(system, dim, seed)
    sliced = cut.sliced(label=f"{system.label} ∩ {dim} slices")
    result = solve(sliced, start=start, options=options or TrackConfig(seed=seed), progress=progress, components=False)
    return _collect(system, result, dim, cut.A, cut.b, cut.R, seed, residual_tol)


def _collect(system: System, result: SolveResult, dim: int, A, b, R, seed: int, residual_tol: float) -> WitnessSet:
    """Return the WitnessSet of the regular endpoints that lie on V(f), with their Jacobian ranks."""
    points, ranks, gaps, res = [], [], [], []
    spurious = 0
    for x in result.solution_array():
        r = float(np.max(np.abs(system.evaluate(x)))) if system.n_equations else 0.0
        if r > residual_tol * (1 + np.max(np.abs(x))) ** max(system.degrees()):
            spurious += 1
            continue
        # x is a Newton-refined regular endpoint: ENDPOINT_RANK_RTOL (theory.homotopy.tracker) says why 1e-10
        nr = numerical_rank(system.jacobian(x), rtol=ENDPOINT_RANK_RTOL)
        points.append(tuple(complex(v) for v in x))
        ranks.append(nr.rank)
        gaps.append(nr.gap)
        res.append(r)
    pack = lambda M: np.stack([np.real(M), np.imag(M)], axis=-1).tolist()  # noqa: E731
    return WitnessSet(dim, len(points), tuple(points), tuple(ranks), tuple(gaps), tuple(res), spurious,
                      result.outcomes["singular"], (pack(A), pack(b)), pack(R), result, seed)


EXTRAS = ("monodromy", "decomposition", "groebner", "completion")  # optional studies of `zero_error_dimension`


@dataclass(frozen=True)
class DimensionReport(Serializable):
    """Dimension and degree of the zero-error set of a network on data, with the bounds they must respect.

    Fields:
        network: the spec as a dict; n_params: K; n_equations: N·n_d.
        data_kind: 'planted' (consistent by construction), 'random', or that of given data.
        expected_dimension: K − N·n_d (Theory II §3.2 for generic data).
        generic_rank: r, the rank of ∂f/∂w at a random point (numerical, with its gap).
        dimension: K − r, confirmed when every witness point has Jacobian rank r.
        confirmed: all witness points have rank r (and there is at least one).
        local_dimension_at_planted: K − rank ∂f/∂w(w*) at the planted solution (None if random data).
        degree: number of witness points: the degree of the top-dimensional part (reduced: each
            point once); after a completion, the points it found.
        bezout: D^r, the Bezout number of the randomized, sliced system (D the equation degree).
        m_bezout: the layer-grouped multihomogeneous Bezout number of that system.
        mixed_volume, stable_mixed_volume: BKK bounds of that system.
        degree_within_bounds: degree ≤ every bound above.
        consistent: False when no witness point exists and the system looks inconsistent.
        witness: the witness set.
        seconds: wall time.
        seed: seed of data, slices and γ.
        trace: the linear trace test on the witness set (`theory.counting.monodromy.trace_test`: the witness
            points moved along two parallel slices; their sum is affine in the offset iff they
            form complete components, Sommese–Verschelde–Wampler 2002), None when no witness point.
        degree_status: 'complete' when the trace test passed (the degree is proved, up to the
            numerical tolerance of the test), else 'lower bound' (a point may be missing).
        monodromy: witness points found by monodromy from the planted w*, with the trace test (when asked).
        decomposition: PHCpack's numerical irreducible decomposition (when asked).
        groebner: the exact consistency check over Q (when asked).
        completion: when the trace test failed on the homotopy's witness points, the monodromy that
            completed them (`complete_witness_set`); its trace test is then `trace`.
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
    trace: TraceTest | None = None
    degree_status: str = "lower bound"

    monodromy: MonodromyResult | None = None
    decomposition: "Decomposition | None" = None
    groebner: GroebnerCheck | None = None
    completion: MonodromyResult | None = None

    def to_dict(self) -> dict:
        """Return the JSON form; the optional studies appear only when they were made."""
        return fields_dict(self, exclude=tuple(k for k in EXTRAS if getattr(self, k) is None))


def zero_error_dimension(spec, n_points: int, seed: int = 0, planted: bool = True, start: str = "total_degree",
                         options: TrackConfig | None = None, data=None, w_star=None,
                         monodromy: int | None = None, decompose_set: bool = False, groebner: bool = False,
                         progress: Progress | None = None) -> DimensionReport:
    """Return the measured dimension and degree of {w : f(x_i; w) = y_i} for seeded data on `spec`.

    dim = K − r with r the generic Jacobian rank (= K − N for generic data, Theory II §3.2);
    degree = #witness points ≤ Bezout, m-Bezout and mixed volume of the sliced system.
    Given `data` (and optionally its planted solution `w_star`) replace the seeded data.
    Optional studies: `monodromy` = k runs witness monodromy from w* until k loops find nothing
    new (`theory.counting.families.zero_error_witness_monodromy`); `decompose_set` runs PHCpack's
    numerical irreducible decomposition (`decompose`); `groebner` decides consistency over Q.
    """
    t0 = time.perf_counter()
    if data is not None:
        planted = data.kind == "planted"
    elif planted:
        data, w_star = planted_data(spec, n_points, seed)
    else:
        data, w_star = random_data(spec, n_points, seed), None
    if monodromy is not None and w_star is None:
        raise InvalidSpecError("--monodromy starts from a known zero-error solution: add --targets planted")
    zsys = ZeroErrorSystem(spec, data)
    system = network_system(zsys)
    K, n_eq = system.n_vars, system.n_equations
    # A random complex point is generic, and the Jacobian there is evaluated in floating point:
    # the same rank tolerance as at refined endpoints (ENDPOINT_RANK_RTOL) applies; w* is exact
    # data rounded to floats, likewise.
    w_rand = random_complex(stream(seed, "generic point"), K)
    r = numerical_rank(system.jacobian(w_rand), rtol=ENDPOINT_RANK_RTOL).rank
    local = None
    if w_star is not None:
        J_star = system.jacobian(np.array([float(v) for v in w_star], dtype=complex))
        local = K - numerical_rank(J_star, rtol=ENDPOINT_RANK_RTOL).rank
    dim = K - r
    if dim == 0:
        raise InvalidSpecError(f"the zero-error system has generic rank {r} = K: its solutions are isolated; "
                               f"use `solve` (square systems) instead of `dimension`")
    opts = options or TrackConfig(seed=seed)
    ws = witness_set(system, dim, seed=seed, start=start, options=opts, progress=progress)
    degs = system.degrees()
    D = max(degs)
    bez = D ** r
    _, groups = zsys.degree_bounds()
    sizes = [g.size for g in spec.groups]
    mb = multihomogeneous_bezout([list(groups)] * r + [[1] * len(groups)] * dim, sizes)
    res = ws.solve
    bounds = [b for b in (bez, mb, res.stable_mixed_volume) if b is not None]
    confirmed = ws.degree > 0 and all(rk == r for rk in ws.jacobian_ranks)
    trace = witness_trace_test(spec, data, system, ws, seed, opts) if ws.degree else None
    completion = None
    degree = ws.degree
    if trace is not None and not trace.passed:
        completion = complete_witness_set(spec, data, system, ws, seed, opts)
        degree, trace = completion.n_solutions, completion.trace
    status = "complete" if trace is not None and trace.passed else "lower bound"
    mono = deco = exact = None
    if monodromy is not None:
        mono = zero_error_witness_monodromy(spec, data.n_points, LoopBudget(stop_after=monodromy, max_loops=100),
                                            replace(opts, seed=seed), data=data, w_star=w_star)
    if decompose_set:
        deco = decompose(system, seed=seed)
    if groebner:
        exact = zero_error_groebner(zsys)
    return DimensionReport(spec.to_dict(), K, n_eq, data.kind, K - n_eq, r, dim, confirmed,
                           local, degree, bez, mb, res.mixed_volume, res.stable_mixed_volume,
                           all(degree <= b for b in bounds), degree > 0, ws,
                           time.perf_counter() - t0, seed, trace, status, mono, deco, exact, completion)


COMPLETION_BUDGET = LoopBudget(stop_after=2, max_loops=40, max_seconds=120.0)


def complete_witness_set(spec: NetworkSpec, data: ExactData, system: System, ws: WitnessSet, seed: int,
                         opts: TrackConfig, budget: LoopBudget = COMPLETION_BUDGET) -> MonodromyResult:
    """Return the witness points completed by monodromy on the slice offsets, until the trace test passes.

    The homotopy's witness points are moved from the slice b_0 to a fresh random slice b_1 (where
    every witness point of a reduced component is regular, so points that were ill-conditioned or
    singular at b_0 are not lost for good), then monodromy loops over the offsets collect points
    on V(f) (spurious points of the randomized system are refused) until the linear trace test
    passes (the completeness hook) or `budget` runs out (Sommese–Wampler 2005, §15.4 and §15.5).
    """
    fam, _, idx, _ = witness_family(spec, data, ws.dim, seed)
    rng = stream(seed, "witness completion")
    b0, b1 = witness_slice(system, ws.dim, seed).b, random_complex(rng, ws.dim)
    ends, _ = move_retrying(fam, ws.point_array(), b0, b1, rng, opts)
    start = [e for e in ends if e is not None]
    on_v = lambda x: float(np.max(np.abs(system.evaluate(x)))) <= 1e-8 * (1 + float(np.max(np.abs(x)))) ** max(
        system.degrees())  # noqa: E731
    proof = trace_proof(fam, b1, idx, stream(seed, "witness completion trace"), opts)
    return monodromy_solve(fam, b1, start, budget, opts, trace_slices=idx, accept=on_v, proof=proof)


def witness_trace_test(spec, data, system: System, ws: WitnessSet, seed: int, opts: TrackConfig) -> TraceTest:
    """Return the linear trace test of a witness set from `witness_set(system, dim, seed)`.

    The witness family [R f(w); A w + b] of `theory.counting.families.witness_family` has the same draw
    (R, A, b) as the witness set's slice, so the witness points solve it at b; they are moved to
    two parallel slices b + s·v, and the trace Σ c·w_i must be affine in s (SVW 2002, §4).
    """
    fam, _, idx, _ = witness_family(spec, data, ws.dim, seed)
    b0 = witness_slice(system, ws.dim, seed).b
    return trace_test(fam, b0, ws.point_array(), idx, stream(seed, "witness trace test"), opts)


# ----------------------------------------------------------------------------------------------
# Numerical irreducible decomposition


@dataclass(frozen=True)
class Component(Serializable):
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
class Decomposition(Serializable):
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


def decompose(system: System, top_dimension: int | None = None, seed: int = 0, loops: int = 20) -> Decomposition:
    """Return the numerical irreducible decomposition of V(f) by PHCpack's cascade and factor modules."""
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


# ----------------------------------------------------------------------------------------------
# bezout --verify


@dataclass(frozen=True)
class BezoutVerification(Serializable):
    """What homotopy continuation finds beside the bounds of `theory.bounds.bezout.bezout_report`.

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


def verify_bezout(spec, n_points: int, seed: int = 0, max_paths: int = DEFAULT_MAX_PATHS) -> BezoutVerification:
    """Return the measured dimension and degree of the zero-error set next to the Bezout-type bounds.

    Uses the same seeded random data as `bezout_report(spec, n_points, seed)`; raises
    PathBudgetExceeded (one line) when the sliced system has too many start paths.
    """
    rep = bezout_report(spec, n_points, seed=seed)
    # Refuse before PHCpack sees the system: for huge degrees even its mixed volume does not finish.
    if rep.bezout > max_paths:
        raise PathBudgetExceeded(
            f"the sliced zero-error system has a total-degree start system of {rep.bezout:,} paths, over the "
            f"path budget of {max_paths:,}: raise --max-paths, use `dimension --monodromy`, or a smaller network")
    dim = zero_error_dimension(spec, n_points, seed=seed, planted=False,
                               options=TrackConfig(seed=seed, max_paths=max_paths))
    bounds = [b for b in (rep.witness_bound, dim.bezout, dim.m_bezout, dim.stable_mixed_volume) if b is not None]
    res = dim.witness.solve
    return BezoutVerification(rep.bezout, rep.multihomogeneous_bezout, rep.witness_bound, rep.expected_dimension,
                              rep.predicted_dimension, dim.dimension, dim.confirmed, dim.degree,
                              dim.stable_mixed_volume, all(dim.degree <= b for b in bounds), res.n_paths,
                              res.outcomes["failed"], dim.seconds, seed)
