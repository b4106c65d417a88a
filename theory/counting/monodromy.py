"""Monodromy solving on PHCpack's trackers: all solutions of a parametrized family from one known solution.

For a family F(w; p) = 0 whose equations are affine in the parameters p (targets y, slice offsets
b, penalty λ), PHCpack's homotopy γ(1−t)² F(w; p_a) + t² F(w; p_b) equals c(t)·F(w; p(t)) with
p(t) = (γ(1−t)² p_a + t² p_b)/c(t): a parameter homotopy along a random complex path, so one
call moves every known solution from p_a to p_b. Walking the triangle p_0 → p_1 → p_2 → p_0
with fresh random p_1, p_2 and γ's permutes the solutions at p_0 by an element of the monodromy
group, which acts transitively on the solutions of an irreducible family (Sommese–Wampler 2005,
§15.4; Duff, Hill, Jensen, Lee, Leykin, Sommars 2019 for the method HomotopyContinuation.jl's
monodromy_solve uses).

This module is the generic engine: families, moves, loops, the linear trace test, and the
stopping rule. Loops end when the known count reaches a target count, when a completeness hook
(`Proof`) proves the set complete, or when the budget (`LoopBudget`) runs out; stagnation — k
consecutive loops without news — ends them only when no proof can be had, and is then reported
as a heuristic stop (`MonodromyCode`, after HomotopyContinuation.jl's MonodromyResult
`returncode` and `is_success`). The network families live in `theory.counting.families`, the
per-stratum critical-point driver in `theory.counting.stratified_count`.

The linear trace test (Sommese, Verschelde, Wampler 2002) is the proof for witness sets, where
the parameters are slice offsets: along parallel slices b_0 + s·v the sum of the witness points of
a union of complete components is affine in s, and fails to be for a proper subset.
"""
from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from landscape_core.errors import InvalidSpecError
from landscape_core.progress import Progress, report
from landscape_core.seeds import stream
from landscape_core.serialize import Serializable
from theory.homotopy import phcpack as phc
from theory.homotopy.extended_newton import refine_extended
from theory.homotopy.path_result import PathOutcome, is_real
from theory.polynomials.system import System
from theory.homotopy.slicing import random_complex
from theory.counting.symmetry import GroupAction
from theory.homotopy.tracker import TrackConfig, classify_endpoint, newton_refine


@dataclass(frozen=True)
class Family:
    """A square polynomial system F(w; p) affine in the parameters p, in two realisations.

    Fields:
        names: the variables.
        polys: p ↦ PHCpack strings of F(·; p).
        evaluate: (w, p) ↦ F(w; p).
        jacobian: (w, p) ↦ ∂F/∂w.
        n_params: the number of parameters.
        label: a description.
        max_degree: the largest total degree of F(·; p) (None: ask PHCpack).
        residual_mp: (w as mpmath numbers, p) ↦ F(w; p) in extended precision, for refining
            ill-conditioned endpoints (`theory.homotopy.extended_newton`); None: endpoints are judged in double only.
    """

    names: tuple[str, ...]
    polys: Callable[[np.ndarray], list[str]] = field(repr=False)
    evaluate: Callable[[np.ndarray, np.ndarray], np.ndarray] = field(repr=False)
    jacobian: Callable[[np.ndarray, np.ndarray], np.ndarray] = field(repr=False)
    n_params: int
    label: str = "family"
    max_degree: int | None = None  # the largest total degree of F(·; p) for generic p (None: ask PHCpack per move)
    residual_mp: Callable[[Sequence, np.ndarray], Sequence] | None = field(default=None, repr=False)

    def at(self, p: np.ndarray) -> System:
        """Return the System F(·; p)."""
        p = np.asarray(p, dtype=complex)
        return System(tuple(self.polys(p)), self.names, lambda w: self.evaluate(w, p),
                      lambda w: self.jacobian(w, p), f"{self.label} at p")


class MonodromyCode(str, enum.Enum):
    """How a monodromy solve ended (HomotopyContinuation.jl's MonodromyResult `returncode`).

    TARGET_REACHED and TRACE_PASSED are proofs of completeness (`is_success`); HEURISTIC_STOP is
    stagnation without a proof; BUDGET_EXHAUSTED is the loop or time limit, short of a proof
    that was asked for or before stagnation.
    """

    TARGET_REACHED = "target_count_reached"
    TRACE_PASSED = "trace_test_passed"
    HEURISTIC_STOP = "heuristic_stop"
    BUDGET_EXHAUSTED = "budget_exhausted"

    @property
    def is_success(self) -> bool:
        """Return whether the code is a proof of completeness."""
        return self in (MonodromyCode.TARGET_REACHED, MonodromyCode.TRACE_PASSED)


@dataclass(frozen=True)
class LoopBudget:
    """When monodromy loops stop.

    Fields:
        stop_after: consecutive loops without a new solution that end the run when no proof is
            available (a heuristic stop); with a proof pending they only trigger its check.
        max_loops: loops at most.
        max_seconds: wall time at most, in seconds (checked between loops).
    """

    stop_after: int = 3
    max_loops: int = 50
    max_seconds: float = 300.0

    def describe(self) -> str:
        """Return the budget as one phrase for reports."""
        return f"budget {self.max_loops} loops / {self.max_seconds:g} s"


# A completeness hook: given the known solutions, True (complete: proved), False (a proof exists and
# says incomplete: keep looping) or None (no proof available: stagnation may stop the run).
Proof = Callable[[np.ndarray], "bool | None"]


@dataclass(frozen=True)
class TraceTest(Serializable):
    """The linear trace test on a witness set.

    Fields:
        residual: |(tr(s₂) − tr(0))/s₂ − (tr(s₁) − tr(0))/s₁| relative to the trace scale.
        passed: residual ≤ tol: the points form complete components.
        tol: the tolerance used.
        failed_paths: paths lost while moving the slices (the test is void if > 0).
    """

    residual: float
    passed: bool
    tol: float
    failed_paths: int


@dataclass(frozen=True)
class MonodromyResult(Serializable):
    """Solutions found by monodromy loops, and how completeness was assessed.

    Fields:
        label: the family.
        n_solutions: number of distinct solutions at the base parameters.
        solutions: the solutions (complex).
        n_real: how many are real (real_tol of the track options).
        base: the base parameters p_0 (as [re, im] pairs).
        loops: loops run; stop_after: the stagnation criterion (k loops without news).
        history: number of known solutions after each loop.
        paths_tracked: total paths tracked (3 per orbit representative per loop, plus the trace test).
        failed_paths: paths that failed on some leg (counted, their solutions simply not carried).
        stagnated: whether the loop ended by the stagnation criterion (not by max_loops or time).
        trace: the trace test, if the family is a witness-set family.
        completeness: one sentence on how completeness was assessed.
        seed: the user seed of the streams of parameters and γ's.
        seconds: wall time.
        n_orbits: orbits under the group action (= n_solutions without a group).
        group: labels of the group generators used (empty: none).
        returncode: how the run ended (`MonodromyCode`); `is_success` says whether it is a proof.
    """

    label: str
    n_solutions: int
    solutions: tuple[tuple[complex, ...], ...] = field(repr=False)
    n_real: int
    base: tuple = field(repr=False)
    loops: int
    stop_after: int
    history: tuple[int, ...]
    paths_tracked: int
    failed_paths: int
    stagnated: bool
    trace: TraceTest | None
    completeness: str
    seed: int
    seconds: float
    n_orbits: int = 0
    group: tuple[str, ...] = ()
    returncode: MonodromyCode = MonodromyCode.HEURISTIC_STOP

    @property
    def is_success(self) -> bool:
        """Return whether completeness was proved (target count reached or trace test passed)."""
        return self.returncode.is_success

    def solution_array(self) -> np.ndarray:
        """Return the solutions as a complex array (n_solutions, n_vars)."""
        return np.array(self.solutions, dtype=complex).reshape(len(self.solutions), -1)


def move(family: Family, points: np.ndarray, p_from: np.ndarray, p_to: np.ndarray, gamma: complex,
         opts: TrackConfig) -> tuple[list[np.ndarray | None], int]:
    """Return (endpoints at p_to, one per point or None where the path failed, number failed).

    A parameter homotopy ends every path at t = 1 in affine space, so an endpoint is judged by
    its own Newton convergence, residual and condition (`classify_endpoint` with trust_end),
    not by PHCpack's end-game flag; batches of 8 or more paths are spread over worker processes.
    """
    if len(points) == 0:
        return [], 0
    start, target = family.at(p_from), family.at(p_to)
    points = np.asarray(points, dtype=complex)
    if len(points) >= 8:
        halves = [b for b in np.array_split(points, 2) if len(b)]
        raws = [r for part in phc.track_batches(target.polys, start.polys, halves, family.names, gamma, "d")
                for r in part]
    else:
        raws = phc.track(target.polys, start.polys, points, family.names, gamma, "d", opts.tasks)
    dmax = family.max_degree or max(1, max(target.degrees()))
    out: list[np.ndarray | None] = []
    for k, raw in enumerate(raws):
        res = _judge(target, raw, k, "d", opts, dmax)
        x = np.array(res.x) if res.outcome == PathOutcome.REGULAR else _extended(family, p_to, raw)
        if x is None and opts.retry:
            again = phc.track(target.polys, start.polys, points[k:k + 1], family.names, gamma, opts.retry,
                              max(opts.tasks, 1))
            res = _judge(target, again[0], k, opts.retry, opts, dmax, retried=True)
            x = np.array(res.x) if res.outcome == PathOutcome.REGULAR else _extended(family, p_to, again[0])
        out.append(x)
    return out, sum(e is None for e in out)


def _extended(family: Family, p: np.ndarray, raw) -> np.ndarray | None:
    """Return the endpoint refined in extended precision when that proves it a regular zero, else None."""
    if family.residual_mp is None or not (np.all(np.isfinite(raw.x)) and abs(raw.t.real - 1.0) < 1e-9):
        return None
    p = np.asarray(p, dtype=complex)
    ref = refine_extended(lambda w: family.residual_mp(w, p), lambda w: family.jacobian(w, p), np.asarray(raw.x))
    return ref.x if ref.regular else None


def move_retrying(family: Family, points: np.ndarray, p_from: np.ndarray, p_to: np.ndarray,
                  rng: np.random.Generator, opts: TrackConfig, tries: int = 3) -> tuple[list[np.ndarray | None], int]:
    """Return `move` with each failed path tracked again along fresh random γ's (up to `tries` γ's in all).

    A path fails when the random path through parameter space passes near the discriminant; another
    γ gives another path with probability one (Sommese–Wampler 2005, Lemma 7.1.3).
    """
    ends, _ = move(family, points, p_from, p_to, np.exp(2j * np.pi * rng.uniform()), opts)
    for _ in range(tries - 1):
        lost = [k for k, e in enumerate(ends) if e is None]
        if not lost:
            break
        again, _ = move(family, np.asarray(points)[lost], p_from, p_to, np.exp(2j * np.pi * rng.uniform()), opts)
        for k, e in zip(lost, again):
            ends[k] = e
    return ends, sum(e is None for e in ends)


def _judge(target: System, raw, k: int, precision: str, opts: TrackConfig, dmax: int, retried: bool = False):
    reached = bool(np.all(np.isfinite(raw.x))) and abs(raw.t.real - 1.0) < 1e-9
    return classify_endpoint(target, raw, k, precision, opts, dmax, retried=retried, trust_end=reached)


def is_new(x: np.ndarray, known: Sequence[np.ndarray], tol: float) -> bool:
    """Return whether x differs from every known point by more than tol·(1 + ‖k‖∞)."""
    return all(np.max(np.abs(x - k)) > tol * (1 + np.max(np.abs(k))) for k in known)


class _Known:
    """The solutions known so far, closed under a group, with one representative per orbit."""

    def __init__(self, tol: float, group: GroupAction | None, accept: Callable[[np.ndarray], bool] | None) -> None:
        self.tol, self.group, self.accept = tol, group, accept
        self.points: list[np.ndarray] = []
        self.reps: list[np.ndarray] = []

    def add(self, x: np.ndarray) -> bool:
        """Add x (and its orbit) if new and accepted; return whether it was."""
        if not is_new(x, self.points, self.tol) or (self.accept is not None and not self.accept(x)):
            return False
        self.reps.append(x)
        self.points.extend(self.group.orbit(x, self.tol) if self.group is not None else [x])
        return True


def _seed_known(family: Family, base: np.ndarray, start: Sequence[np.ndarray], known: _Known) -> None:
    """Refine the start points at the base and add them; InvalidSpecError if one is not a solution."""
    sys0 = family.at(base)
    for x in start:
        x, _ = newton_refine(sys0, np.asarray(x, dtype=complex))
        if np.max(np.abs(sys0.evaluate(x))) > 1e-8 * (1 + np.max(np.abs(x))):
            raise InvalidSpecError("a start point does not solve the system at the base parameters")
        known.add(x)


def loop_once(family: Family, base: np.ndarray, reps: Sequence[np.ndarray], rng: np.random.Generator,
              opts: TrackConfig) -> tuple[np.ndarray, int, int]:
    """Return (endpoints back at the base, paths tracked, paths failed) of one loop base → p1 → p2 → base."""
    p1, p2 = random_complex(rng, family.n_params), random_complex(rng, family.n_params)
    pts = np.array(reps)
    tracked = failed = 0
    for a, b in [(base, p1), (p1, p2), (p2, base)]:
        ends, nf = move(family, pts, a, b, np.exp(2j * np.pi * rng.uniform()), opts)
        tracked, failed = tracked + len(pts), failed + nf
        keep = [e for e in ends if e is not None]
        pts = np.array(keep).reshape(len(keep), len(family.names))
    return pts, tracked, failed


@dataclass
class _Run:
    """Counters of one monodromy run."""

    loops: int = 0
    tracked: int = 0
    failed: int = 0
    quiet: int = 0
    history: list[int] = field(default_factory=list)
    code: MonodromyCode | None = None
    checks: int = 0
    stagnated: bool = False


def _target_of(target_count: "int | Callable[[], int | None] | None") -> int | None:
    return target_count() if callable(target_count) else target_count


def _after_quiet_loops(run: _Run, known: _Known, proof: Proof | None) -> MonodromyCode | None:
    """Return the code that ends the run after `stop_after` quiet loops, or None to keep looping."""
    verdict = proof(np.array(known.points)) if proof is not None else None
    run.checks += proof is not None
    run.stagnated = verdict is not False
    if verdict is None:
        return MonodromyCode.HEURISTIC_STOP
    run.quiet = 0
    return MonodromyCode.TRACE_PASSED if verdict else None


def monodromy_solve(family: Family, base: np.ndarray, start: Sequence[np.ndarray], budget: LoopBudget = LoopBudget(),
                    options: TrackConfig = TrackConfig(), *,
                    target_count: "int | Callable[[], int | None] | None" = None,
                    trace_slices: tuple[int, int] | None = None, group: GroupAction | None = None,
                    accept: Callable[[np.ndarray], bool] | None = None, proof: Proof | None = None,
                    progress: Progress | None = None) -> MonodromyResult:
    """Return all solutions of F(w; base) reachable by monodromy loops from `start`.

    Stops when `target_count` solutions are known (a callable is asked before each loop: a count
    that arrives while monodromy runs, e.g. from a background Macaulay2 run), or after
    `budget.stop_after` consecutive loops without news: then `proof` (a completeness hook) is asked —
    True ends the run as proved, False keeps it looping, None (or no hook) ends it as a heuristic
    stop — or when the budget (`budget.max_loops`, `budget.max_seconds`) runs out. The seed of the
    loops' random parameters is the tracking options' (`options.seed`), its one home. `trace_slices` = (i, j)
    marks p[i:j] as slice offsets: the linear trace test is then run at the end. `group`: a
    finite group of signed permutations g with F(g w; p) = g F(w; p) for every p
    (`theory.counting.symmetry`); the known set is closed under it and one representative per orbit is
    tracked (Duff et al. 2019, §4). `accept`: solutions failing it are not collected.
    """
    opts, seed = options, options.seed
    rng = stream(seed, "monodromy loops")
    base = np.asarray(base, dtype=complex)
    known = _Known(opts.same_tol, group, accept)
    _seed_known(family, base, start, known)
    t0, run = time.perf_counter(), _Run()
    while run.code is None:
        target = _target_of(target_count)
        if target is not None and len(known.points) >= target:
            run.code = MonodromyCode.TARGET_REACHED
        elif run.loops >= budget.max_loops or time.perf_counter() - t0 >= budget.max_seconds:
            run.code = MonodromyCode.BUDGET_EXHAUSTED
        else:
            _one_loop(family, base, known, rng, opts, run)
            report(progress, run.loops, budget.max_loops)
            if run.quiet >= budget.stop_after:
                run.code = _after_quiet_loops(run, known, proof)
    trace = None
    if trace_slices is not None and known.points:
        trace = trace_test(family, base, np.array(known.points), trace_slices, rng, opts)
        run.tracked += 2 * len(known.points)
    return _result(family, base, known, run, budget, trace, _target_of(target_count), seed, opts,
                   time.perf_counter() - t0)


def _one_loop(family: Family, base: np.ndarray, known: _Known, rng: np.random.Generator, opts: TrackConfig,
              run: _Run) -> None:
    pts, tracked, failed = loop_once(family, base, known.reps, rng, opts)
    added = sum(known.add(x) for x in pts)
    run.loops, run.tracked, run.failed = run.loops + 1, run.tracked + tracked, run.failed + failed
    run.history.append(len(known.points))
    run.quiet = 0 if added else run.quiet + 1


def _result(family: Family, base: np.ndarray, known: _Known, run: _Run, budget: LoopBudget,
            trace: TraceTest | None, target: int | None, seed: int, opts: TrackConfig,
            seconds: float) -> MonodromyResult:
    code = run.code
    if code is MonodromyCode.HEURISTIC_STOP and trace is not None and trace.passed:
        code = MonodromyCode.TRACE_PASSED
    how = _completeness(code, run, budget, trace, target)
    sols = tuple(tuple(complex(v) for v in x) for x in known.points)
    real = sum(is_real(x, opts.real_tol) for x in known.points)
    gens = tuple(g.label for g in known.group.generators) if known.group is not None else ()
    return MonodromyResult(family.label, len(known.points), sols, real, tuple((z.real, z.imag) for z in base),
                           run.loops, budget.stop_after, tuple(run.history), run.tracked, run.failed, run.stagnated,
                           trace, how, seed, seconds, len(known.reps), gens, code)


def _completeness(code: MonodromyCode, run: _Run, budget: LoopBudget, trace: TraceTest | None,
                  target: int | None) -> str:
    stop = {MonodromyCode.TARGET_REACHED: f"the known count {target} was reached",
            MonodromyCode.TRACE_PASSED: (f"the completeness check passed after {run.loops} loops"
                                         if run.checks else
                                         f"stagnation: {budget.stop_after} consecutive loops found nothing new"),
            MonodromyCode.HEURISTIC_STOP: (f"stagnation: {budget.stop_after} consecutive loops found nothing new "
                                           f"(a heuristic stop, not a proof)"),
            MonodromyCode.BUDGET_EXHAUSTED: (f"stopped by the loop/time limit ({budget.describe()}) "
                                             + ("short of the proof" if run.checks else "before stagnation"))}[code]
    if trace is None:
        return stop + "; no trace test (the parameters are not slices)"
    verdict = ("passed" if trace.passed else "FAILED") + f" (residual {trace.residual:.1e})"
    return (stop + f"; linear trace test {verdict}"
            + (": the points form complete irreducible components (others not reached from the start may exist)"
               if trace.passed else ": components are incomplete"))


def trace_test(family: Family, base: np.ndarray, points: np.ndarray, slices: tuple[int, int],
               rng: np.random.Generator, opts: TrackConfig, tol: float = 1e-7, tries: int = 3) -> TraceTest:
    """Return the linear trace test of witness points under parallel translation of the slice offsets.

    tr(s) = Σ_i c·w_i(s) for a random c; complete components ⇔ tr affine in s (SVW 2002, §4).
    A direction v along which a path fails (the moved slice passes near a point of the
    discriminant) is replaced by a fresh one, up to `tries` directions.
    """
    i, j = slices
    s1, s2 = 0.3 + 0.1j, -0.4 + 0.25j
    for _ in range(tries):
        v = np.zeros(family.n_params, dtype=complex)
        v[i:j] = random_complex(rng, j - i)
        c = random_complex(rng, len(family.names))
        tr0 = complex(np.sum(points @ c))
        lost, traces = 0, []
        for s in (s1, s2):
            ends, nf = move_retrying(family, points, base, base + s * v, rng, opts)
            lost += nf
            traces.append(complex(sum(e @ c for e in ends if e is not None)))
        if lost == 0:
            break
    d1, d2 = (traces[0] - tr0) / s1, (traces[1] - tr0) / s2
    scale = max(1.0, abs(tr0), abs(d1))
    residual = abs(d1 - d2) / scale
    return TraceTest(float(residual), bool(residual <= tol and lost == 0), tol, lost)


def trace_proof(family: Family, base: np.ndarray, slices: tuple[int, int], rng: np.random.Generator,
                opts: TrackConfig) -> Proof:
    """Return the completeness hook 'the linear trace test passes on the known witness points'."""
    return lambda points: trace_test(family, base, points, slices, rng, opts).passed


def count_proof(count: Callable[[], int | None]) -> Proof:
    """Return the completeness hook 'the known count reached `count()`' (None while no count is known)."""
    def check(points: np.ndarray) -> bool | None:
        want = count()
        return None if want is None else len(points) >= want
    return check
