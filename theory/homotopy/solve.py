"""All isolated solutions of a square polynomial system by homotopy continuation, every path accounted for.

`solve` builds a start system (`theory.homotopy.start_systems`), tracks every path (`theory.homotopy.tracker`) and
summarises the endpoints: outcome counts that sum to the number of paths, the distinct regular
solutions and how many are real, beside the Bezout and m-Bezout numbers and the mixed volume
(Bernstein–Khovanskii–Kushnirenko). Every isolated solution is the endpoint of some path
(Sommese–Wampler, *The Numerical Solution of Systems of Polynomials*, 2005, Thm 8.4.1), so
n_solutions ≤ m_bezout ≤ bezout and n_solutions ≤ stable mixed volume. `gamma_check` solves again
with another γ to detect lost or jumped paths (§7.4).

Singular endpoints are told apart by their local dimension (`theory.homotopy.local_dimension`): isolated
multiple roots (clustered; the cluster size is the multiplicity, and a "regular" endpoint inside a
singular cluster belongs to it) and points of positive-dimensional components, whose dimension is
reported and whose degree is measured by a witness set (`theory.counting.dimension.witness_set`).
`solve_system` also takes non-square systems: an under-determined one is cut by random
hyperplanes to a witness set of its top-dimensional part, an over-determined one is randomized to
a square one whose endpoints are kept only where every equation vanishes.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np

from landscape_core.progress import Progress
from landscape_core.serialize import Serializable, fields_dict
from theory.homotopy import phcpack as phc
from theory.bounds.bezout import bezout_number
from landscape_core.errors import InvalidSpecError
from theory.homotopy.path_result import OUTCOMES, PathOutcome, PathResult, cluster, is_real
from theory.polynomials.system import System, network_system
from theory.homotopy.start_systems import MAX_MV_VARS, StartSystem, start_system
from theory.homotopy.tracker import TrackConfig, random_gamma, track_paths

KNOWN_TOL = 1e-6  # a known solution (e.g. a planted w*) is found when a solution is this close, relative to (1 + ‖w‖∞)


@dataclass(frozen=True)
class GammaCheck(Serializable):
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


@dataclass(frozen=True)
class PositiveDimensional(Serializable):
    """The part of V(f) of one positive dimension, found through the homotopy's endpoints that land on it.

    Fields:
        dimension: d ≥ 1, the local dimension at those endpoints (`theory.homotopy.local_dimension`).
        endpoints: paths of the homotopy that ended on it (a component absorbs paths: they are
            neither isolated solutions nor lost).
        degree: the number of regular witness points of a generic codimension-d slice
            (`theory.counting.dimension.witness_set`): the degree of the union of the reduced d-dimensional
            components; None when not measured (`degree_note` says why).
        witness_paths: paths the witness-set homotopy tracked (0 when not measured).
        degree_note: '' or why the degree is missing.
        sample: one endpoint on it (complex coordinates).
    """

    dimension: int
    endpoints: int
    degree: int | None
    witness_paths: int
    degree_note: str
    sample: tuple[complex, ...]


@dataclass(frozen=True)
class SolveResult(Serializable):
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
        options: the TrackConfig (tolerances stated with the result).
        paths: every PathResult.
        seconds: wall time.
        paths_per_second: n_paths / tracking time.
        names: the variables, in coordinate order.
        gamma_check: the comparison with a second γ, when asked (`gamma_check`).
        known_found: whether a known solution given to `solve` (e.g. a planted w*) is among the
            distinct regular solutions (within KNOWN_TOL); None when none was given.
        n_certified: distinct solutions proved by Krawczyk certificates (`theory.counting.certify`); None
            when certification was not run.
        n_certified_real: those proved real.
        multiplicities: the multiplicity of each isolated singular solution (paths ending there).
        singular_points: one endpoint of each isolated singular solution, aligned with `multiplicities`.
        singular_real: whether each isolated singular solution is real.
        components: the positive-dimensional parts of V(f) the endpoints revealed, by dimension.
        n_equations: number of equations of the system given (= n_vars unless `what` says otherwise).
        what: one line saying what was solved: the square system itself, a witness slice of an
            under-determined one, or a randomization of an over-determined one.
        witness_dimension: d > 0 when the system was under-determined: then `solutions` are the
            witness points of its dimension-d part (on a random codimension-d slice), not isolated
            solutions; 0 otherwise.
        n_spurious: over-determined systems: regular endpoints of the randomized square system at
            which some original equation does not vanish (not solutions; counted for completeness).
        engine: the path tracker: 'phcpack', or 'bertini2' (`theory.homotopy.bertini`).
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
    options: TrackConfig
    paths: tuple[PathResult, ...] = field(repr=False)
    lifted: bool = False
    seconds: float = 0.0
    paths_per_second: float = 0.0
    names: tuple[str, ...] = ()
    gamma_check: GammaCheck | None = None
    known_found: bool | None = None
    n_certified: int | None = None
    n_certified_real: int | None = None
    multiplicities: tuple[int, ...] = ()
    singular_points: tuple[tuple[complex, ...], ...] = ()
    singular_real: tuple[bool, ...] = ()
    components: tuple[PositiveDimensional, ...] = ()
    n_equations: int = 0
    what: str = ""
    witness_dimension: int = 0
    n_spurious: int = 0
    engine: str = "phcpack"

    @property
    def certified(self) -> str:
        """Return 'N distinct solutions certified, R certified real' (or why there is no certificate)."""
        if self.n_certified is None:
            return "not certified"
        return f"{self.n_certified} distinct solutions certified, {self.n_certified_real} certified real"

    @property
    def bkk_complete(self) -> bool | None:
        """Whether the count is provably complete: the distinct regular solutions reach the stable mixed volume.

        The stable mixed volume bounds the isolated solutions in C^n counted with multiplicity
        (Huber–Sturmfels 1997; Li–Wang 1996), so once the regular ones and the isolated singular
        ones, each counted with the number of paths that reached it (at most its multiplicity),
        reach it, no other isolated solution exists, each measured multiplicity is exact, and every
        other path (failed, singular, at infinity) ends elsewhere: at infinity or on a
        positive-dimensional set. None when the bound was not computed.
        """
        if self.stable_mixed_volume is None:
            return None
        return self.n_solutions + self.n_spurious + sum(self.multiplicities) >= self.stable_mixed_volume

    @property
    def completeness(self) -> str:
        """Return one line: 'complete: ...' only when the BKK bound proves it, else 'not proved complete: ...' and why."""
        smv, n = self.stable_mixed_volume, self.n_solutions
        others = self.n_paths - self.outcomes["regular"]
        if smv is None:
            return "not proved complete: the stable mixed volume was not computed"
        if self.bkk_complete:
            others -= sum(self.multiplicities)
            tail = f"; the other {others} paths end at infinity or on positive-dimensional sets" if others else ""
            counted = f"{n} regular {'witness point' if self.witness_dimension else 'solution'}{'s' * (n != 1)}"
            if self.n_spurious:
                counted += f" + {self.n_spurious} regular endpoints of the randomized system that are not solutions"
            if self.multiplicities:
                counted += "".join(f" + {m} (a singular solution of multiplicity {m})" for m in self.multiplicities)
            return f"complete: {counted} = stable mixed volume {smv} (BKK bound in C^n){tail}"
        gap = f"not proved complete: {n} regular of at most {smv} isolated solutions (BKK)"
        parts = []
        if self.multiplicities:
            total = n + sum(self.multiplicities)
            parts.append(f"{len(self.multiplicities)} isolated singular solution{'s' * (len(self.multiplicities) != 1)} "
                         f"of multiplicity {', '.join(map(str, self.multiplicities))} ({total} with multiplicity)")
        if self.components:
            parts.append("positive-dimensional: " + "; ".join(
                f"dimension {c.dimension} ({c.endpoints} path{'s' * (c.endpoints != 1)})" for c in self.components)
                + ", where the BKK bound does not count solutions")
        if parts:
            return f"{gap}; " + "; ".join(parts)
        if self.start_system == "polyhedral" and not self.lifted:
            return f"{gap}; the unlifted polyhedral start reaches torus solutions only: solutions with zero coordinates are not tracked"
        if self.outcomes.get("failed"):
            return f"{gap}; {self.outcomes['failed']} failed paths may hide solutions, or the coefficients are not generic"
        return f"{gap}; the bound is not attained (no path was lost: the coefficients are not generic for it)"

    def solution_array(self) -> np.ndarray:
        """Return the distinct regular solutions as a complex array (n_solutions, n_vars)."""
        return np.array(self.solutions, dtype=complex).reshape(len(self.solutions), self.n_vars)

    def contains(self, point: Sequence[complex], tol: float = KNOWN_TOL) -> bool:
        """Return whether some distinct regular solution x has ‖x − point‖∞ < tol·(1 + ‖point‖∞)."""
        w = np.asarray(point, dtype=complex)
        sols = self.solution_array()
        return len(sols) > 0 and float(np.min(np.max(np.abs(sols - w), axis=1))) < tol * (1 + float(np.max(np.abs(w))))

    def to_dict(self, with_paths: bool = False) -> dict:
        """Return the JSON form: the fields and the completeness verdict (paths only if asked; checks only if made)."""
        d = fields_dict(self, exclude=("paths", "gamma_check", "known_found"))
        d["bkk_complete"], d["completeness"], d["certified"] = self.bkk_complete, self.completeness, self.certified
        if with_paths:
            d["paths"] = [p.to_dict() for p in self.paths]
        if self.gamma_check is not None:
            d["gamma_check"] = self.gamma_check.to_dict()
        if self.known_found is not None:
            d["known_found"] = self.known_found
        return d


def solve(system: System, start: str = "auto", groups: Sequence[Sequence[int]] | None = None,
          options: TrackConfig = TrackConfig(), mixed_volume: bool | None = None, progress: Progress | None = None,
          gamma_seed: int | None = None, known: Sequence[complex] | None = None, certify: bool = True,
          components: bool = True) -> SolveResult:
    """Return all isolated solutions of the square `system` reachable from the chosen start system.

    Every isolated solution is the endpoint of some path (Sommese–Wampler 2005, Thm 8.4.1), so
    n_solutions ≤ m_bezout ≤ bezout and n_solutions ≤ stable mixed volume. `gamma_seed`: also
    solve with the γ of that seed and compare (`gamma_check`); `known`: a solution to look for.
    `start` 'auto' takes the start system with the fewest paths. `mixed_volume` (default: for up
    to MAX_MV_VARS variables, where PHCpack computes it in seconds) computes the BKK bounds that can
    prove the count complete. `certify`: Krawczyk certificates of the distinct regular solutions
    (`theory.counting.certify`; Breiding–Rose–Timme 2020). `components`: measure the local dimension at
    singular endpoints and the degree of the positive-dimensional parts they reveal (`summarize`,
    `component_degrees`).
    """
    if not system.is_square:
        raise InvalidSpecError(f"solve needs a square system: {system.n_equations} equations in {system.n_vars} variables")
    t0 = time.perf_counter()
    degrees = system.degrees()
    bez = bezout_number(degrees)
    st, target = start_system(system, start, options.seed, options.max_paths, groups, options.projective)
    m_bez = st.count if st.kind == "multihomogeneous" else None
    mv = smv = None
    if mixed_volume is None:
        mixed_volume = system.n_vars <= MAX_MV_VARS
    if mixed_volume:
        mv, smv = phc.mixed_volume(system.polys, seed=options.seed)
    gamma = random_gamma(options.seed)
    t1 = time.perf_counter()
    paths = track_paths(system, st, gamma, options, progress, projective_target=target)
    t_track = time.perf_counter() - t1
    result = summarize(system, st, paths, degrees, bez, m_bez, mv, smv, gamma, options,
                       time.perf_counter() - t0, len(paths) / max(t_track, 1e-9), local_dimensions=components)
    if components and result.components:
        result = replace(component_degrees(system, result, options), seconds=time.perf_counter() - t0)
    if certify and result.n_solutions:
        result = certify_solutions(system, result)
    if gamma_seed is not None:
        result = replace(result, gamma_check=gamma_check(system, result, gamma_seed, groups=groups))
    if known is not None:
        result = replace(result, known_found=result.contains(known))
    return result


def certify_solutions(system: System, result: SolveResult) -> SolveResult:
    """Return `result` with Krawczyk certificates of its distinct regular solutions (`theory.counting.certify.certify`)."""
    from theory.counting.certify import certify, terms_from_strings

    terms = terms_from_strings([p for p in system.polys], system.names)
    cert = certify(terms, result.solution_array())
    return replace(result, n_certified=cert.n_distinct, n_certified_real=cert.n_real)


# A "regular" endpoint this close to an isolated singular solution is one more path to that multiple
# root (its endgame happened to pass the regularity tests): it is counted in the multiplicity. Paths
# to a root of multiplicity m ≤ 3 end within about ε^{1/m} ≈ 6e-6 of it; distinct regular roots
# this close to a singular one would be a coincidence of probability zero for generic coefficients.
MERGE_TOL = 1e-4


def summarize(system: System, st: StartSystem, paths: Sequence[PathResult], degrees, bez, m_bez, mv, smv,
              gamma: complex, options: TrackConfig, seconds: float, rate: float,
              local_dimensions: bool = True) -> SolveResult:
    """Return the SolveResult of tracked paths: outcome counts, distinct solutions, reality, singular ones sorted.

    Singular endpoints are clustered (`options.singular_same_tol`) and each cluster's local
    dimension measured (`theory.homotopy.local_dimension`, unless `local_dimensions` is False): dimension
    0 makes it an isolated singular solution whose multiplicity is the cluster's size (regular
    endpoints within MERGE_TOL of it join it), a positive dimension puts its paths on a
    component of that dimension (`PositiveDimensional`, degree measured later by `solve`).
    """
    from theory.homotopy.local_dimension import local_dimension

    paths = list(paths)
    sing_idx = [k for k, p in enumerate(paths) if p.outcome == PathOutcome.SINGULAR]
    sing_groups = [[sing_idx[i] for i in g] for g in cluster([np.array(paths[k].x) for k in sing_idx],
                                                             options.singular_same_tol)]
    dims = [local_dimension(system, np.array(paths[g[0]].x), seed=options.seed) if local_dimensions else 0
            for g in sing_groups]
    isolated = [list(g) for g, d in zip(sing_groups, dims) if d == 0]
    for k, p in enumerate(paths):
        if p.outcome != PathOutcome.REGULAR:
            continue
        for g in isolated:
            r = np.array(paths[g[0]].x)
            if np.max(np.abs(np.array(p.x) - r)) <= MERGE_TOL * (1 + np.max(np.abs(r))):
                g.append(k)
                break
    isolated.sort(key=len, reverse=True)
    for g in isolated:
        for k in g:
            paths[k] = replace(paths[k], outcome=PathOutcome.SINGULAR, multiplicity=len(g))
    by_dim: dict[int, list[list[int]]] = {}
    for g, d in zip(sing_groups, dims):
        if d > 0:
            by_dim.setdefault(d, []).append(g)
    components = tuple(PositiveDimensional(d, sum(len(g) for g in gs), None, 0, "not measured",
                                           tuple(paths[gs[0][0]].x)) for d, gs in sorted(by_dim.items(), reverse=True))
    # The m endpoints of paths to a root of multiplicity m surround it (their errors are the m-th roots
    # of one small number, to first order), so their mean is far closer to the root than any one of them;
    # their spread is the accuracy with which the root, and whether it is real, is known.
    centres = []
    for g in isolated:
        X = np.array([paths[k].x for k in g], dtype=complex)
        centre = X.mean(axis=0)
        centres.append((centre, float(np.max(np.abs(X - centre))) / (1 + float(np.max(np.abs(centre))))))
    outcomes = {k: sum(p.outcome == k for p in paths) for k in OUTCOMES}
    regular = [p for p in paths if p.outcome == PathOutcome.REGULAR]
    groups = cluster([np.array(p.x) for p in regular], options.same_tol)
    sols = tuple(regular[g[0]].x for g in groups)
    real = tuple(regular[g[0]].real for g in groups)
    return SolveResult(system.label, system.n_vars, st.kind, st.partition, tuple(degrees), bez, m_bez, mv, smv,
                       len(paths), outcomes, sum(p.retried for p in paths), sols, real, len(sols), sum(real),
                       len(regular) - len(groups), tuple(sorted((len(g) for g in sing_groups), reverse=True)),
                       (gamma.real, gamma.imag), options.seed, options, tuple(paths), st.lifted, seconds, rate,
                       tuple(system.names), multiplicities=tuple(len(g) for g in isolated),
                       singular_points=tuple(tuple(complex(v) for v in centre) for centre, _ in centres),
                       singular_real=tuple(is_real(c, max(options.real_tol, spread)) for c, spread in centres),
                       components=components, n_equations=system.n_equations,
                       what="the square system itself")


def component_degrees(system: System, result: SolveResult, options: TrackConfig) -> SolveResult:
    """Return `result` with the degree of each positive-dimensional part measured by a witness set.

    The degree of the d-dimensional part is the number of regular points of V(f) on a generic
    codimension-d slice (Sommese–Wampler 2005, §13.2; `theory.counting.dimension.witness_set`, whose solve
    does not recurse into this). A slice over the path budget leaves the degree unmeasured, saying so.
    """
    from landscape_core.errors import ToolkitError
    from theory.counting.dimension import witness_set

    measured = []
    for c in result.components:
        try:
            ws = witness_set(system, c.dimension, seed=options.seed, start="total_degree", options=options)
        except ToolkitError as exc:
            measured.append(replace(c, degree_note=f"witness set not computed: {exc}"))
            continue
        measured.append(replace(c, degree=ws.degree, witness_paths=ws.solve.n_paths, degree_note=(
            "" if not ws.n_singular else f"{ws.n_singular} singular endpoints of its slice not counted: on "
                                         f"higher-dimensional or non-reduced components")))
    return replace(result, components=tuple(measured))


def gamma_check(system: System, first: SolveResult, seed: int, start: str | None = None,
                groups: Sequence[Sequence[int]] | None = None) -> GammaCheck:
    """Return the comparison of `first` with a second solve using `seed` (a different γ).

    A path that jumps or fails under one γ is, with probability one, fine under another, so the
    union is a better count and disagreement flags a problem (Sommese–Wampler 2005, §7.4).
    """
    opts = replace(first.options, seed=seed)
    second = solve(system, start=start or first.start_system, groups=groups, options=opts, mixed_volume=False,
                   certify=False)
    pts = list(first.solution_array()) + list(second.solution_array())
    union = len(cluster(pts, first.options.same_tol))
    return GammaCheck((first.seed, seed), (first.n_solutions, second.n_solutions), union,
                      union == first.n_solutions == second.n_solutions)


def predicted_paths(spec) -> dict[str, int]:
    """Return the start paths of the total-degree and multihomogeneous start systems of a square zero-error system.

    From the closed-form degrees (`theory.bounds.degrees.closed_form_degree`): every equation has total
    degree D and degree d_g in layer g's weights, attained for generic data (`bezout` certifies
    it), so the Bezout number is D^K and the m-Bezout number that of K rows (d_g)_g; no expansion.
    """
    from theory.bounds.bezout import multihomogeneous_bezout
    from theory.bounds.degrees import closed_form_degree

    total, groups = closed_form_degree(spec)
    k = spec.n_params
    counts = {"total_degree": total ** k}
    sizes = [g.size for g in spec.groups]
    if len(sizes) > 1:
        m = multihomogeneous_bezout([groups] * k, sizes)
        if m is not None:
            counts["multihomogeneous"] = int(m)
    return counts


def check_predicted_paths(spec, start: str, max_paths: int) -> None:
    """Raise PathBudgetExceeded before the system is expanded when no start system it could use fits the budget.

    Expanding a network's equations takes minutes for a few hundred weights, and the path counts
    need only the degrees: checked first, from `predicted_paths`. Polyhedral starts (asked for, or
    chosen by 'auto' up to MAX_MV_VARS variables) can need far fewer paths and are not predicted.
    """
    from theory.homotopy.start_systems import check_budget

    kind = start.replace("-", "_")
    if kind == "polyhedral" or (kind == "auto" and spec.n_params <= MAX_MV_VARS):
        return
    counts = predicted_paths(spec)
    if kind != "auto":
        counts = {k: v for k, v in counts.items() if k == kind}
    if not counts:
        return
    name = min(counts, key=counts.get)
    label = {"total_degree": "total-degree start system (Bezout number)",
             "multihomogeneous": "multihomogeneous start system (m-Bezout number)"}[name]
    check_budget(counts[name], max_paths, f"the {label} predicted from the closed-form degrees")


def solve_zero_error(spec, data, known: Sequence | None = None, start: str = "auto",
                     options: TrackConfig = TrackConfig(), progress: Progress | None = None,
                     gamma_seed: int | None = None) -> SolveResult:
    """Return all isolated zero-error solutions f(x_i; w) = y_i of a square instance (N·n_d = K) by `solve`.

    `known`: a solution known by construction (the planted w*, exact values), reported as `known_found`.
    """
    from theory.network.equations import ZeroErrorSystem

    K = spec.n_params
    if data.n_points * spec.output_dim != K:
        raise InvalidSpecError(f"solve needs a square zero-error system: {spec.describe()} has K = {K} weights, "
                               f"so use --points {K // spec.output_dim} (or `dimension` for under-determined systems)")
    check_predicted_paths(spec, start, options.max_paths)
    system = network_system(ZeroErrorSystem(spec, data))
    w = None if known is None else [complex(float(v)) for v in known]
    return solve(system, start=start, options=options, progress=progress, gamma_seed=gamma_seed, known=w)


def solve_system(system: System, start: str = "auto", options: TrackConfig = TrackConfig(),
                 progress: Progress | None = None, gamma_seed: int | None = None, certify: bool = True,
                 components: bool = True) -> SolveResult:
    """Return the solutions of any system: square (`solve`), under-determined (a witness slice) or over-determined.

    m < n equations: every component of V(f) has dimension ≥ d = n − m, so there are no isolated
    solutions; the system cut by d random hyperplanes (`theory.homotopy.slicing.witness_slice`) is solved
    and its regular endpoints are the witness points of the dimension-d part, their number its
    degree (Sommese–Wampler 2005, §13.2); components of larger dimension show as singular
    endpoints of the slice, their dimension raised by d. m > n: the square system R·f of n random
    combinations (§13.5) is solved and its endpoints kept where every equation of f vanishes.
    `what` says which was done.
    """
    m, n = system.n_equations, system.n_vars
    if m == n:
        return solve(system, start=start, options=options, progress=progress, gamma_seed=gamma_seed,
                     certify=certify, components=components)
    plural = lambda k, word: f"{k} {word}{'s' * (k != 1)}"  # noqa: E731
    if m < n:
        from theory.homotopy.slicing import witness_slice

        d = n - m
        sliced = witness_slice(system, d, options.seed).sliced(label=f"{system.label} ∩ {d} random hyperplanes")
        r = solve(sliced, start=start, options=options, progress=progress, gamma_seed=gamma_seed, certify=certify,
                  components=components)
        own = PositiveDimensional(d, r.outcomes["regular"], r.n_solutions + len(r.multiplicities), r.n_paths,
                                  "" if not r.multiplicities else "isolated singular witness points counted once",
                                  r.solutions[0] if r.solutions else (r.singular_points[0] if r.singular_points else ()))
        higher = tuple(replace(c, dimension=c.dimension + d) for c in r.components)
        what = (f"{plural(m, 'equation')} in {plural(n, 'variable')}: no isolated solutions (every component has "
                f"dimension ≥ {d}); solved with {plural(d, 'random hyperplane')}, whose regular endpoints are the "
                f"witness points of the dimension-{d} part")
        return replace(r, label=system.label, n_equations=m, what=what, witness_dimension=d,
                       components=(own,) * (own.degree > 0 or not higher) + higher)
    from landscape_core.seeds import stream
    from theory.homotopy.slicing import randomize

    square, _ = randomize(system, n, stream(options.seed, "randomization"))
    r = solve(square, start=start, options=options, progress=progress, gamma_seed=gamma_seed, certify=False,
              components=components)
    scale = max(square.degrees() or [1])

    def vanishes(x) -> bool:
        x = np.asarray(x, dtype=complex)
        return float(np.max(np.abs(system.evaluate(x)))) <= options.tol_singular * (1 + float(np.max(np.abs(x)))) ** scale

    keep = [k for k, x in enumerate(r.solutions) if vanishes(x)]
    keep_s = [k for k, x in enumerate(r.singular_points) if vanishes(x)]
    what = (f"{plural(m, 'equation')} in {plural(n, 'variable')}: solved R·f = 0 for {n} random combinations R of "
            f"the equations, and kept the endpoints where all {m} vanish ({len(keep)} of {r.n_solutions} regular)")
    out = replace(r, label=system.label, n_equations=m, what=what,
                  solutions=tuple(r.solutions[k] for k in keep), real=tuple(r.real[k] for k in keep),
                  n_solutions=len(keep), n_real=sum(r.real[k] for k in keep), n_spurious=r.n_solutions - len(keep),
                  singular_points=tuple(r.singular_points[k] for k in keep_s),
                  multiplicities=tuple(r.multiplicities[k] for k in keep_s),
                  singular_real=tuple(r.singular_real[k] for k in keep_s), n_certified=None, n_certified_real=None)
    return out  # not certified: Krawczyk's test certifies roots of the square R·f, not of f
