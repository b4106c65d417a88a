"""All isolated solutions of a square polynomial system by homotopy continuation, every path accounted for.

`solve` builds a start system (`theory.start_systems`), tracks every path (`theory.tracker`) and
summarises the endpoints: outcome counts that sum to the number of paths, the distinct regular
solutions and how many are real, beside the Bezout and m-Bezout numbers and the mixed volume
(Bernstein–Khovanskii–Kushnirenko). Every isolated solution is the endpoint of some path
(Sommese–Wampler, *The Numerical Solution of Systems of Polynomials*, 2005, Thm 8.4.1), so
n_solutions ≤ m_bezout ≤ bezout and n_solutions ≤ stable mixed volume. `gamma_check` solves again
with another γ to detect lost or jumped paths (§7.4).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np

from landscape_toolkit.common.progress import Progress
from landscape_toolkit.common.serialize import Serializable, fields_dict
from theory import phc
from theory.bezout import bezout_number
from landscape_toolkit.common.errors import InvalidSpecError
from theory.path_result import OUTCOMES, PathResult, cluster
from theory.polysystem import System, network_system
from theory.start_systems import MAX_MV_VARS, StartSystem, start_system
from theory.tracker import TrackOptions, random_gamma, track_paths

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
        options: the TrackOptions (tolerances stated with the result).
        paths: every PathResult.
        seconds: wall time.
        paths_per_second: n_paths / tracking time.
        names: the variables, in coordinate order.
        gamma_check: the comparison with a second γ, when asked (`gamma_check`).
        known_found: whether a known solution given to `solve` (e.g. a planted w*) is among the
            distinct regular solutions (within KNOWN_TOL); None when none was given.
        n_certified: distinct solutions proved by Krawczyk certificates (`theory.certify`); None
            when certification was not run.
        n_certified_real: those proved real.
        multiplicities: the multiplicity of each distinct singular endpoint (paths ending there).
        engine: the path tracker: 'phcpack', or 'bertini2' (`theory.bertini`).
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
    lifted: bool = False
    seconds: float = 0.0
    paths_per_second: float = 0.0
    names: tuple[str, ...] = ()
    gamma_check: GammaCheck | None = None
    known_found: bool | None = None
    n_certified: int | None = None
    n_certified_real: int | None = None
    multiplicities: tuple[int, ...] = ()
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
        (Huber–Sturmfels 1997; Li–Wang 1996), so once the regular ones reach it, no other isolated
        solution exists and every other path (failed, singular, at infinity) ends elsewhere: at
        infinity or on a positive-dimensional set. None when the bound was not computed.
        """
        if self.stable_mixed_volume is None:
            return None
        return self.n_solutions >= self.stable_mixed_volume

    @property
    def completeness(self) -> str:
        """Return one line: 'complete: ...' only when the BKK bound proves it, else 'not proved complete: ...' and why."""
        smv, n = self.stable_mixed_volume, self.n_solutions
        others = self.n_paths - self.outcomes["regular"]
        if smv is None:
            return "not proved complete: the stable mixed volume was not computed"
        if self.bkk_complete:
            tail = f"; the other {others} paths end at infinity or on positive-dimensional sets" if others else ""
            return f"complete: {n} regular solution{'s' * (n != 1)} = stable mixed volume {smv} (BKK bound in C^n){tail}"
        gap = f"not proved complete: {n} regular of at most {smv} isolated solutions (BKK)"
        if self.multiplicities:
            total = n + sum(self.multiplicities)
            return (f"{gap}; {len(self.multiplicities)} singular point(s) of multiplicity "
                    f"{', '.join(map(str, self.multiplicities))} ({total} with multiplicity)")
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
          options: TrackOptions = TrackOptions(), mixed_volume: bool | None = None, progress: Progress | None = None,
          gamma_seed: int | None = None, known: Sequence[complex] | None = None, certify: bool = True) -> SolveResult:
    """Return all isolated solutions of the square `system` reachable from the chosen start system.

    Every isolated solution is the endpoint of some path (Sommese–Wampler 2005, Thm 8.4.1), so
    n_solutions ≤ m_bezout ≤ bezout and n_solutions ≤ stable mixed volume. `gamma_seed`: also
    solve with the γ of that seed and compare (`gamma_check`); `known`: a solution to look for.
    `start` 'auto' takes the start system with the fewest paths. `mixed_volume` (default: for up
    to MAX_MV_VARS variables, where PHCpack computes it in seconds) computes the BKK bounds that can
    prove the count complete. `certify`: Krawczyk certificates of the distinct regular solutions
    (`theory.certify`; Breiding–Rose–Timme 2020).
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
        mv, smv = phc.mixed_volume(system.polys)
    gamma = random_gamma(options.seed)
    t1 = time.perf_counter()
    paths = track_paths(system, st, gamma, options, progress, projective_target=target)
    t_track = time.perf_counter() - t1
    result = summarize(system, st, paths, degrees, bez, m_bez, mv, smv, gamma, options,
                       time.perf_counter() - t0, len(paths) / max(t_track, 1e-9))
    if certify and result.n_solutions:
        result = certify_solutions(system, result)
    if gamma_seed is not None:
        result = replace(result, gamma_check=gamma_check(system, result, gamma_seed, groups=groups))
    if known is not None:
        result = replace(result, known_found=result.contains(known))
    return result


def certify_solutions(system: System, result: SolveResult) -> SolveResult:
    """Return `result` with Krawczyk certificates of its distinct regular solutions (`theory.certify.certify`)."""
    from theory.certify import certify, terms_from_strings

    terms = terms_from_strings([p for p in system.polys], system.names)
    cert = certify(terms, result.solution_array())
    return replace(result, n_certified=cert.n_distinct, n_certified_real=cert.n_real)


def summarize(system: System, st: StartSystem, paths: Sequence[PathResult], degrees, bez, m_bez, mv, smv,
              gamma: complex, options: TrackOptions, seconds: float, rate: float) -> SolveResult:
    """Return the SolveResult of tracked paths: outcome counts, distinct solutions, reality."""
    outcomes = {k: sum(p.outcome == k for p in paths) for k in OUTCOMES}
    regular = [p for p in paths if p.outcome == "regular"]
    groups = cluster([np.array(p.x) for p in regular], options.same_tol)
    sols = tuple(regular[g[0]].x for g in groups)
    real = tuple(regular[g[0]].real for g in groups)
    singular = [p for p in paths if p.outcome == "singular"]
    sing_groups = cluster([np.array(p.x) for p in singular], options.singular_same_tol)
    return SolveResult(system.label, system.n_vars, st.kind, st.partition, tuple(degrees), bez, m_bez, mv, smv,
                       len(paths), outcomes, sum(p.retried for p in paths), sols, real, len(sols), sum(real),
                       len(regular) - len(groups), tuple(sorted((len(g) for g in sing_groups), reverse=True)),
                       (gamma.real, gamma.imag), options.seed, options, tuple(paths), st.lifted, seconds, rate,
                       tuple(system.names),
                       multiplicities=tuple(sorted((len(g) for g in sing_groups), reverse=True)))


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

    From the closed-form degrees (`theory.degrees.closed_form_degree`): every equation has total
    degree D and degree d_g in layer g's weights, attained for generic data (`bezout` certifies
    it), so the Bezout number is D^K and the m-Bezout number that of K rows (d_g)_g; no expansion.
    """
    from theory.bezout import multihomogeneous_bezout
    from theory.degrees import closed_form_degree

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
    from theory.start_systems import check_budget

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
                     options: TrackOptions = TrackOptions(), progress: Progress | None = None,
                     gamma_seed: int | None = None) -> SolveResult:
    """Return all isolated zero-error solutions f(x_i; w) = y_i of a square instance (N·n_d = K) by `solve`.

    `known`: a solution known by construction (the planted w*, exact values), reported as `known_found`.
    """
    from theory.systems import ZeroErrorSystem

    K = spec.n_params
    if data.n_points * spec.output_dim != K:
        raise InvalidSpecError(f"solve needs a square zero-error system: {spec.describe()} has K = {K} weights, "
                               f"so use --points {K // spec.output_dim} (or `dimension` for under-determined systems)")
    check_predicted_paths(spec, start, options.max_paths)
    system = network_system(ZeroErrorSystem(spec, data))
    w = None if known is None else [complex(float(v)) for v in known]
    return solve(system, start=start, options=options, progress=progress, gamma_seed=gamma_seed, known=w)
