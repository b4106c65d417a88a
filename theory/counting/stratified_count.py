"""Critical points of a penalised square loss, per coordinate stratum, by monodromy, with their proof.

Each stratum of `theory.counting.strata.network_strata` (dead hidden units; W = 0) is a union of
components of the incidence variety {(w, y, λ) : J(w)ᵀ(f(w) − y) + λ ⊙ w = 0} of its own, which
monodromy cannot leave, so each is seeded separately: weights w* of the reduced network made
critical at generic complex (y₀, λ₀) by λ₀_j = −[Jᵀ(f − y₀)]_j / w*_j. Monodromy (closed under the
sign-flip symmetries of `theory.counting.symmetry`) collects the stratum's points at (y₀, λ₀); one
parameter homotopy (Morgan–Sommese 1989) carries them to the data's y and the penalty λ; where
fewer arrive than the stratum's exact count, monodromy continues at the target itself until the
count is reached or the budget runs out.

Proofs: a stratum is complete when its count equals its exact count (Macaulay2: degrees of the
closed strata at this instance, Möbius inversion, `theory.counting.strata`). Whether the instance is
generic is a separate claim (`theory.counting.genericity`): the penalties must be distinct, and the total
must equal the count at an independent random instance (Macaulay2 over ZZ/p: evidence, not
proof). A count proved at a non-generic instance is reported as that instance's count only.
"""
from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Callable, Sequence

import numpy as np

from landscape_core.errors import SolverError
from landscape_core.progress import Progress, report
from landscape_core.seeds import child_seed, stream
from landscape_core.serialize import Serializable, fields_dict
from theory.counting import macaulay2
from theory.counting.certify import CertificationResult, certify, combine, terms_from_sympy
from theory.network.data import ExactData, planted_data, random_data
from theory.counting.genericity import coincidences, generic_penalty, penalty_draw
from theory.counting.monodromy import (Family, LoopBudget, MonodromyResult, Proof, count_proof, is_new, monodromy_solve,
                             move)
from theory.counting.families import critical_family
from theory.network.spec import NetworkSpec, init_weights
from theory.homotopy.path_result import cluster, is_real
from theory.homotopy.slicing import random_complex
from theory.counting.strata import Stratum, mobius_open_counts, network_strata, reduced_penalty, reduced_spec
from theory.counting.symmetry import GroupAction, hidden_units, network_group, verified
from theory.network.equations import CriticalSystem
from theory.homotopy.tracker import TrackConfig, condition_number

SECOND_INSTANCE_PRIME = 2**31 - 1  # the independent instance is counted over ZZ/p (seconds, not minutes)


class CriticalCode(str, enum.Enum):
    """How complete a per-stratum critical-point count is.

    COMPLETE: the count equals the exact count at this instance in every stratum, and the
    instance is generic (distinct penalties, same count at an independent instance).
    INSTANCE_ONLY: complete at this instance, which is not generic (the generic count differs or
    penalties repeat). SHORT: fewer points than the exact count. MODULAR_EVIDENCE: the count
    equals the per-stratum counts over ZZ/p (Macaulay2 over QQ ran past its budget): evidence, not
    proof. UNPROVED: no exact count.
    """

    COMPLETE = "complete"
    INSTANCE_ONLY = "complete_at_non_generic_instance"
    SHORT = "short_of_exact_count"
    MODULAR_EVIDENCE = "matches_modular_count"
    UNPROVED = "not_proved"

    @property
    def is_success(self) -> bool:
        """Return whether the count is proved complete and generic."""
        return self is CriticalCode.COMPLETE


@dataclass(frozen=True)
class StrataConfig:
    """Options of `critical_monodromy`.

    Fields:
        planted: targets of a planted network (else independent generic targets).
        budget: the monodromy budget per stratum and phase: quiet loops that trigger the completeness
            check (or a heuristic stop without one), loops at most, seconds at most.
        options: tracking tolerances and the seed (None: TrackConfig(seed=seed)).
        exact: count each stratum exactly with Macaulay2 (None: when M2 is installed and the
            network has no bias).
        certify: Krawczyk certificates on the exact target system (`theory.counting.certify`; the points
            double precision leaves, in Arb ball arithmetic, `theory.counting.certify_arb`).
        total_seconds: wall budget of all monodromy loops of the solve together (None: only the
            per-stratum max_seconds); strata reached after it get no loops, only their seed.
        m2_timeout: seconds Macaulay2 may take over QQ (the exact count, a proof).
        m2_fallback_timeout: past m2_timeout, seconds for the same counts over ZZ/p (evidence, not
            proof); None: no fallback, the count stays unproved.
    """

    planted: bool = False
    budget: LoopBudget = LoopBudget(stop_after=5, max_loops=100, max_seconds=300.0)
    options: TrackConfig | None = None
    exact: bool | None = None
    certify: bool = True
    total_seconds: float | None = None
    m2_timeout: float = 900.0
    m2_fallback_timeout: float | None = 300.0


@dataclass(frozen=True)
class Instance:
    """The parameters the critical points are counted at.

    Fields:
        data: the data points; penalty: λ (exact).
        target: (y, λ) as a complex vector (y flattened).
        n_targets: N·n_d.
        draw: how λ and y were drawn (one sentence), or that they were given.
        repeated: index groups of equal penalties (each a coincidence that can lower the count).
    """

    data: ExactData = field(repr=False)
    penalty: tuple[Fraction, ...]
    target: np.ndarray = field(repr=False)
    n_targets: int
    draw: str
    repeated: tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class Genericity(Serializable):
    """Whether the instance's count is the generic count.

    Fields:
        repeated_penalties: index groups of equal λ_j.
        independent_count: the number of critical points at an independent random instance
            (Macaulay2 over ZZ/p, p = SECOND_INSTANCE_PRIME; None when not computed).
        generic: no repeated penalty and the instance's exact count equals independent_count
            (None when unknown).
        note: one sentence.
    """

    repeated_penalties: tuple[tuple[int, ...], ...]
    independent_count: int | None
    generic: bool | None
    note: str


class ComponentStatus(str, enum.Enum):
    """Whether a stratum's points were sought (SOLVED) or not (SKIPPED, with `ComponentCount.skip_reason`)."""

    SOLVED = "solved"
    SKIPPED = "skipped"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class ComponentCount(Serializable):
    """The isolated critical points on one coordinate stratum (`theory.counting.strata`), and how complete they are.

    Fields:
        stratum: the stratum (dead units, or W = 0).
        status: SOLVED, or SKIPPED (e.g. a singular seed) with `skip_reason`; the JSON form writes
            them as one string, 'solved' or 'skipped: <reason>'.
        seed_condition: cond₂ of the full system's Jacobian at the embedded seed (inf: singular).
        monodromy: the monodromy solve on the stratum's restricted family (None for W = 0 or skipped).
        n_solutions: distinct regular critical points on the open stratum at the target (y, λ).
        exact: the exact count on the open stratum (Macaulay2 degrees of the closed strata, Möbius
            inversion), or None when not computed.
        complete: n_solutions equals the exact count (a proof; stagnation alone never sets it).
        how: one sentence on how completeness was assessed.
        at_target: the monodromy continued at the target (y, λ) when the carried points fell
            short of the exact count (None when not needed).
    """

    stratum: Stratum
    status: ComponentStatus
    seed_condition: float
    monodromy: MonodromyResult | None = field(repr=False)
    n_solutions: int
    exact: int | None
    complete: bool
    how: str
    at_target: MonodromyResult | None = field(default=None, repr=False)
    skip_reason: str = ""

    @property
    def status_line(self) -> str:
        """Return the status as one phrase: 'solved', or 'skipped: <reason>'."""
        return f"{self.status.value}: {self.skip_reason}" if self.skip_reason else self.status.value

    def to_dict(self) -> dict:
        """Return the JSON form: the fields, with the status and the reason of a skip as one string."""
        return {**fields_dict(self, exclude=("skip_reason",)), "status": self.status_line}


@dataclass(frozen=True)
class CriticalMonodromyResult(Serializable):
    """Critical points of a penalised square loss found per stratum by monodromy and one parameter homotopy.

    Fields:
        components: one ComponentCount per coordinate stratum (`theory.counting.strata.network_strata`).
        strata_note: which strata exist and why.
        group: the symmetries used, and those left out with why (`theory.counting.symmetry`).
        n_isolated: distinct isolated critical points at the target (y_data, λ), all strata.
        n_real: how many of them are real.
        solutions: those critical points (full weight vectors).
        failed_paths: target-leg paths that did not end at a regular point (counted).
        penalty: the target λ as strings.
        exact_total: the exact number of complex critical points with multiplicity at this instance
            (Macaulay2), or None when not computed.
        complete: returncode is COMPLETE: every stratum attained its exact count at a generic instance.
        completeness: one sentence naming the proof, the instance and whether it is generic.
        certification: Krawczyk certificates of the solutions on the exact target system
            (`theory.counting.certify`), or None when not asked.
        seconds: wall time.
        returncode: `CriticalCode`.
        genericity: whether this instance's count is the generic count.
        draw: how the penalty and targets were drawn.
        seed: the user seed.
    """

    components: tuple[ComponentCount, ...]
    strata_note: str
    group: GroupAction
    n_isolated: int
    n_real: int
    solutions: tuple[tuple[complex, ...], ...] = field(repr=False)
    failed_paths: int
    penalty: tuple[str, ...]
    exact_total: int | None
    complete: bool
    completeness: str
    certification: CertificationResult | None
    seconds: float
    returncode: CriticalCode = CriticalCode.UNPROVED
    genericity: Genericity | None = None
    draw: str = ""
    seed: int = 0

    def solution_array(self) -> np.ndarray:
        """Return the critical points as a complex array."""
        return np.array(self.solutions, dtype=complex).reshape(len(self.solutions), -1)

    @property
    def monodromy(self) -> MonodromyResult | None:
        """Return the monodromy solve of the stratum without dead units."""
        return self.components[0].monodromy


# ----------------------------------------------------------------------------------------------
# The instance, and its exact counts


def make_instance(spec: NetworkSpec, n_points: int, seed: int, planted: bool,
                  penalty: Sequence | None) -> Instance:
    """Return the data (seeded), the penalty (given, or `generic_penalty`) and the target parameters."""
    data = planted_data(spec, n_points, seed)[0] if planted else random_data(spec, n_points, seed)
    lam = tuple(Fraction(v) for v in (penalty if penalty is not None else generic_penalty(spec.n_params, seed)))
    target = np.concatenate([data.Y_float.ravel(), [float(v) for v in lam]]).astype(complex)
    targets = "planted targets" if planted else "targets generic rationals in [−1, 1] (stream 'data targets')"
    draw = ("λ given" if penalty is not None else "λ " + penalty_draw(seed).describe()) + "; " + targets
    return Instance(data, lam, target, data.n_points * spec.output_dim, draw, coincidences(lam))


def independent_instance(spec: NetworkSpec, n_points: int, seed: int) -> CriticalSystem:
    """Return the critical system at an independent random instance (data and λ from child seeds of 'second instance')."""
    s2 = child_seed(seed, "second instance")
    return CriticalSystem(spec, random_data(spec, n_points, s2), generic_penalty(spec.n_params, s2))


class StratumCounts:
    """Exact counts of the open strata at the instance and the independent count, from background Macaulay2 runs.

    One M2 process counts every closed stratum over QQ (its start-up, about 1.5 s, paid once)
    while the caller tracks paths; another counts the independent instance over ZZ/p. The QQ run
    has a budget (`timeout`, seconds): past it, the same strata are counted over ZZ/p
    (SECOND_INSTANCE_PRIME, within `fallback_timeout`), and `field` says so: counts modulo p equal
    those over QQ for all but finitely many p, so they are evidence, not proof. `progress` is
    called with (strata counted, strata) while the caller waits.
    """

    def __init__(self, spec: NetworkSpec, inst: Instance, strata: Sequence[Stratum], zero_regular: bool,
                 seed: int, timeout: float, fallback_timeout: float | None = None,
                 progress: Progress | None = None) -> None:
        self.strata, self.zero_regular = tuple(strata), zero_regular
        self.solved = [s for s in strata if not s.zero]
        self._systems = [CriticalSystem(reduced_spec(spec, s), inst.data, reduced_penalty(inst.penalty, s))
                         for s in self.solved]
        self.timeout, self.fallback_timeout, self.progress = timeout, fallback_timeout, progress
        self._pending = macaulay2.start_invariants(self._systems, timeout=timeout)
        self._second = macaulay2.start_invariants([independent_instance(spec, inst.data.n_points, seed)],
                                                  timeout=timeout if fallback_timeout is None else max(timeout, fallback_timeout),
                                                  prime=SECOND_INSTANCE_PRIME)
        self._memo: dict[str, int] | None = None
        self.error: str | None = None
        self.field = "QQ"
        self.qq_error: str | None = None

    def ready(self) -> bool:
        """Return whether the per-stratum counts are in (without waiting); past the QQ budget, the fallback starts."""
        if self._memo is not None:
            return True
        if self.field == "QQ" and self._pending.done() and not self._pending.finished():
            self._fall_back("")
        return self._pending.done()

    def _fall_back(self, why: str) -> None:
        """Cancel the QQ run and start the ZZ/p one (no-op without a fallback budget)."""
        done = self._pending.n_done()
        self._pending.cancel()
        self.qq_error = why or (f"Macaulay2 did not finish within {self.timeout:g} s over QQ "
                                f"({done} of {len(self.solved)} strata done)")
        if self.fallback_timeout is None:
            return
        self.field = f"ZZ/{SECOND_INSTANCE_PRIME}"
        self._pending = macaulay2.start_invariants(self._systems, timeout=self.fallback_timeout,
                                                   prime=SECOND_INSTANCE_PRIME)

    def _wait(self) -> None:
        """Wait for the current run, reporting its progress every half second."""
        while not self._pending.done():
            report(self.progress, self._pending.n_done(), len(self.solved))
            time.sleep(0.5)
        report(self.progress, self._pending.n_done(), len(self.solved))

    def counts(self) -> dict[str, int]:
        """Return the count of each open stratum (waits for M2; empty if a stratum is not zero-dimensional or M2 failed)."""
        if self._memo is None:
            closed = {s.label: (1 if self.zero_regular else 0) for s in self.strata if s.zero}
            self._wait()
            try:
                invs = self._pending.result()
            except SolverError as exc:
                if self.field == "QQ" and self.fallback_timeout is not None:
                    self._fall_back(str(exc))
                    self._wait()
                    try:
                        invs = self._pending.result()
                    except SolverError as exc2:
                        self.error, self._memo = f"{self.qq_error}; over ZZ/p: {exc2}", {}
                        return self._memo
                else:  # out of time without a fallback, or the fallback itself: no count, said so in the verdict
                    self.error = str(exc) if self.field == "QQ" else f"{self.qq_error}; over {self.field}: {exc}"
                    self._memo = {}
                    return self._memo
            for s, inv in zip(self.solved, invs):
                closed[s.label] = inv.degree if inv.dim == 0 else -1
            self._memo = ({} if any(v < 0 for v in closed.values())
                          else mobius_open_counts(self.strata, closed))
        return self._memo

    @property
    def proved(self) -> bool:
        """Return whether the counts are exact over QQ (a proof), not the ZZ/p fallback (evidence)."""
        return self.field == "QQ"

    def get(self, label: str) -> int | None:
        """Return the stratum's count once M2 has answered, else None (no waiting)."""
        return self.counts().get(label) if self.ready() else None

    def independent(self) -> int | None:
        """Return the count at the independent instance (None if not zero-dimensional or M2 failed)."""
        try:
            inv = self._second.result()[0]
        except SolverError:
            return None
        return inv.degree if inv.dim == 0 else None


# ----------------------------------------------------------------------------------------------
# One stratum


def _representatives(points: np.ndarray, group: GroupAction | None, tol: float) -> list[np.ndarray]:
    """Return one point per group orbit among `points`."""
    reps: list[np.ndarray] = []
    seen: list[np.ndarray] = []
    for x in points:
        if is_new(x, seen, tol):
            reps.append(x)
            seen.extend(group.orbit(x, tol) if group is not None else [x])
    return reps


def _on_open_stratum(spec: NetworkSpec, tol: float = 1e-8) -> Callable[[np.ndarray], bool]:
    """Return w ↦ whether no hidden unit of `spec` is dead at w (incoming row, bias, outgoing column ≈ 0).

    Points with a dead unit lie on a deeper stratum, counted there.
    """
    units = [row + bias + col for (_, _, row, bias, col) in hidden_units(spec)] if spec.architecture == "fc" else []

    def live(w: np.ndarray) -> bool:
        scale = tol * (1 + float(np.max(np.abs(w))))
        return all(float(np.max(np.abs(w[idx]))) > scale for idx in units)

    return live


@dataclass(frozen=True)
class _Context:
    """What every stratum's solve shares."""

    spec: NetworkSpec
    inst: Instance
    full: Family
    seed: int
    cfg: StrataConfig
    opts: TrackConfig
    counts: StratumCounts | None
    progress: Progress | None
    deadline: float | None = None  # time.perf_counter() past which loops get no more time (StrataConfig.total_seconds)

    def seconds_left(self) -> float:
        """Return the loop budget of the next monodromy run: max_seconds, cut to what the whole solve has left."""
        if self.deadline is None:
            return self.cfg.budget.max_seconds
        return max(0.0, min(self.cfg.budget.max_seconds, self.deadline - time.perf_counter()))

    def want(self, label: str, wait: bool = False) -> int | None:
        """Return the stratum's exact count (None if not computed; without `wait`, None until it arrives)."""
        if self.counts is None:
            return None
        return self.counts.counts().get(label) if wait else self.counts.get(label)


SEED_ATTEMPTS = 5  # fresh seeds tried on a stratum before it is reported as having no regular seed
RESEEDS = 2  # fresh seeds joined to a stratum whose first seed's loops stay stuck


def _seed_point(ctx: _Context, s: Stratum, fam: Family, attempt: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """Return (w0, base (y₀, λ₀) with w0 critical, cond₂ of the full Jacobian at the embedded seed).

    Attempt k > 0 draws from streams of their own ('... #k'): a random seed is regular with
    probability one, but its condition can exceed cond_max by bad luck.
    """
    K, n = ctx.spec.n_params, ctx.inst.n_targets
    tag = s.label if attempt == 0 else f"{s.label} #{attempt}"
    srng = stream(ctx.seed, f"critical monodromy {tag}")
    w0 = init_weights(reduced_spec(ctx.spec, s), stream(ctx.seed, f"initial weights {tag}")).astype(complex)
    base = np.concatenate([random_complex(srng, n), np.zeros(len(w0), dtype=complex)])
    base[n:] = -fam.evaluate(w0, base) / w0
    full_base = np.concatenate([base[:n], random_complex(srng, K)])
    full_base[n + np.array(s.kept)] = base[n:]
    return w0, base, condition_number(ctx.full.jacobian(s.embed(w0, K), full_base))


def _at_target(ctx: _Context, fam: Family, group: GroupAction | None, live: Callable[[np.ndarray], bool],
               reps: list[np.ndarray], base: np.ndarray, rtarget: np.ndarray,
               rng: np.random.Generator) -> tuple[list[np.ndarray], int]:
    """Return (the stratum's distinct live points at the target, closed under the group; failed paths)."""
    ends, nf = move(fam, np.array(reps), base, rtarget, np.exp(2j * np.pi * rng.uniform()), ctx.opts)
    here: list[np.ndarray] = []
    for e in ends:
        if e is None or not live(e):
            continue
        for x in (group.orbit(e, ctx.opts.same_tol) if group is not None else [e]):
            if is_new(x, here, ctx.opts.same_tol):
                here.append(x)
    return here, nf


STUCK_CHECKS = 4  # completeness checks in a row without a new point that end a stratum's loops as stuck


def _unless_stuck(proof: Proof) -> Proof:
    """Return `proof`, answering None (a heuristic stop) once STUCK_CHECKS checks in a row saw no new point.

    Each check comes after `stop_after` quiet loops; a seed whose loops find nothing through
    several of them is stuck (measured: fc 2-3-1 with z + z²/4, one stratum at 1 of 16 points
    after 100 loops), and a fresh seed (`_solve_stratum`) does better than more loops.
    """
    seen: list[int] = []

    def check(points: np.ndarray) -> bool | None:
        verdict = proof(points)
        if verdict is False:
            seen.append(len(points))
            if len(seen) >= STUCK_CHECKS and len(set(seen[-STUCK_CHECKS:])) == 1:
                return None
        return verdict

    return check


def _loops(ctx: _Context, fam: Family, base: np.ndarray, start: Sequence[np.ndarray], label: str,
           group: GroupAction | None, live: Callable[[np.ndarray], bool]) -> MonodromyResult:
    """Return monodromy at `base` until the stratum's exact count (waited for at stagnation), the budget, or stuck."""
    return monodromy_solve(fam, base, start, replace(ctx.cfg.budget, max_seconds=ctx.seconds_left()), ctx.opts,
                           target_count=lambda: ctx.want(label), group=group, accept=live,
                           proof=_unless_stuck(count_proof(lambda: ctx.want(label, wait=True))),
                           progress=ctx.progress)


def _solve_stratum(ctx: _Context, s: Stratum) -> tuple[ComponentCount, list[np.ndarray], int]:
    """Return (the stratum's ComponentCount, its points embedded in the full weight space, failed target paths)."""
    rspec = reduced_spec(ctx.spec, s)
    fam = critical_family(rspec, ctx.inst.data)
    for attempt in range(SEED_ATTEMPTS):
        w0, base, cond = _seed_point(ctx, s, fam, attempt)
        if cond <= ctx.opts.cond_max:
            break
    else:
        return ComponentCount(s, ComponentStatus.SKIPPED, cond, None, 0, None, False, "not solved: no regular seed",
                              skip_reason=f"{SEED_ATTEMPTS} seeds singular (last cond {cond:.1e})"), [], 0
    group = verified(network_group(rspec, None, parameters_move_penalty=True),
                     lambda w: float(np.max(np.abs(fam.evaluate(w, base)))), [w0])
    live = _on_open_stratum(rspec)
    mono = _loops(ctx, fam, base, [w0], s.label, group, live)
    n = ctx.inst.n_targets
    rtarget = np.concatenate([ctx.inst.target[:n], ctx.inst.target[n + np.array(s.kept)]])
    here, nf = _at_target(ctx, fam, group, live, _representatives(mono.solution_array(), group, ctx.opts.same_tol),
                          base, rtarget, stream(ctx.seed, f"critical target leg {s.label}"))
    again = None
    want = ctx.want(s.label, wait=True)
    if here and want is not None and len(here) < want:
        again = _loops(ctx, fam, rtarget, here, s.label, group, live)
        here = list(again.solution_array())
    for extra in range(attempt + 1, attempt + 1 + RESEEDS):
        # a seed whose loops stay stuck (fewer than half the stratum's points: measured, fc 2-3-1 with
        # z + z²/4, one stratum at 1 of 16 after 62 loops) is joined by a fresh one; its points meet at the target
        if want is None or 2 * len(here) >= want or ctx.seconds_left() <= 0:
            break
        w1, base1, cond1 = _seed_point(ctx, s, fam, extra)
        if cond1 > ctx.opts.cond_max:
            continue
        more = _loops(ctx, fam, base1, [w1], s.label, group, live)
        moved, nf1 = _at_target(ctx, fam, group, live, _representatives(more.solution_array(), group, ctx.opts.same_tol),
                                base1, rtarget, stream(ctx.seed, f"critical target leg {s.label} #{extra}"))
        nf += nf1
        here.extend(x for x in moved if is_new(x, here, ctx.opts.same_tol))
        if here and len(here) < want:
            again = _loops(ctx, fam, rtarget, here, s.label, group, live)
            here = list(again.solution_array())
    comp = ComponentCount(s, ComponentStatus.SOLVED, cond, mono, len(here), None, False, "", again)
    return comp, [s.embed(x, ctx.spec.n_params) for x in here], nf


def _zero_stratum(s: Stratum, cond: float, ok: bool) -> ComponentCount:
    if ok:
        return ComponentCount(s, ComponentStatus.SOLVED, cond, None, 1, None, False, "")
    return ComponentCount(s, ComponentStatus.SKIPPED, cond, None, 0, None, False, "",
                          skip_reason="W = 0 is a singular critical point")


def _judged(c: ComponentCount, want: int | None, budget: str, field: str = "QQ") -> ComponentCount:
    """Return the component judged against the exact count `want` of its open stratum at this instance."""
    if c.stratum.zero:
        return replace(c, exact=want, complete=c.n_solutions == 1 and want == 1,
                       how="complete: one regular point (multiplicity 1), critical for all parameters"
                       if c.n_solutions == 1 else "singular: not counted")
    if c.status is not ComponentStatus.SOLVED:
        return replace(c, exact=want, complete=want == 0,
                       how="complete: the exact count is 0 (no isolated critical point here)" if want == 0
                       else "not solved: no regular seed")
    complete = want is not None and c.n_solutions == want
    after = c.at_target if c.at_target is not None else c.monodromy
    short = (f"NOT complete: {c.n_solutions} of the exact {want}, {want - c.n_solutions} missing after "
             f"{after.loops} loops in {after.seconds:.0f} s ({after.returncode.value}; {budget})"
             ) if want is not None and not complete else ""
    attained = (f"complete: {c.n_solutions} = the exact count (Macaulay2)" if field == "QQ" else
                f"attained: {c.n_solutions} = the count over {field} (Macaulay2; evidence, not proof)")
    how = (attained if complete else short or
           f"not proved complete: {c.monodromy.completeness}")
    return replace(c, exact=want, complete=complete, how=how)


# ----------------------------------------------------------------------------------------------
# The driver


def critical_monodromy(spec: NetworkSpec, n_points: int, seed: int = 0, config: StrataConfig | None = None,
                       penalty: Sequence | None = None, progress: Progress | None = None,
                       exact_progress: Progress | None = None) -> CriticalMonodromyResult:
    """Return the isolated critical points of Σ(f(x_i) − y_i)² + Σ λ_j w_j², per coordinate stratum.

    `penalty`: K values λ_j (default `theory.counting.genericity.generic_penalty(K, seed)`). See the module
    docstring for the route and the proofs; `config` (`StrataConfig`) for the options.
    `progress`: monodromy loops; `exact_progress`: (strata Macaulay2 has counted, strata), while
    the count is waited for.
    """
    cfg = config or StrataConfig()
    t0 = time.perf_counter()
    inst = make_instance(spec, n_points, seed, cfg.planted, penalty)
    opts = cfg.options or TrackConfig(seed=seed)
    full = critical_family(spec, inst.data)
    strata, note = network_strata(spec, "critical")
    zero_solves, zero_cond = _zero_is_critical(full, inst, seed)
    strata = tuple(s for s in strata if not s.zero or zero_solves)
    exact = cfg.exact if cfg.exact is not None else macaulay2.available() and not spec.bias
    counts = (StratumCounts(spec, inst, strata, zero_cond <= opts.cond_max, seed, cfg.m2_timeout,
                            cfg.m2_fallback_timeout, exact_progress) if exact else None)
    ctx = _Context(spec, inst, full, seed, cfg, opts, counts, progress,
                   None if cfg.total_seconds is None else t0 + cfg.total_seconds)
    components, found, failed = [], [], 0
    for s in strata:
        if s.zero:
            ok = zero_cond <= opts.cond_max
            components.append(_zero_stratum(s, zero_cond, ok))
            found.extend([np.zeros(spec.n_params, dtype=complex)] if ok else [])
            continue
        comp, pts, nf = _solve_stratum(ctx, s)
        components.append(comp)
        found.extend(pts)
        failed += nf
    by_label = counts.counts() if counts is not None else {}
    budget = cfg.budget.describe()
    field = counts.field if counts is not None else "QQ"
    components = [_judged(c, by_label.get(c.stratum.label), budget, field) for c in components]
    return _assemble(spec, inst, seed, cfg, note, components, found, failed, by_label, counts, opts,
                     time.perf_counter() - t0)


def _zero_is_critical(full: Family, inst: Instance, seed: int) -> tuple[bool, float]:
    """Return (W = 0 solves the family at the target and two random parameters, cond₂ of the Jacobian there)."""
    rng = stream(seed, "critical monodromy")
    K, n = len(full.names), inst.n_targets
    zero = np.zeros(K, dtype=complex)
    others = [np.concatenate([random_complex(rng, n), random_complex(rng, K)]) for _ in range(2)]
    solves = all(np.max(np.abs(full.evaluate(zero, p))) < 1e-12 for p in others + [inst.target])
    return solves, condition_number(full.jacobian(zero, inst.target)) if solves else float("inf")


def _genericity(inst: Instance, total: int | None, counts: StratumCounts | None) -> Genericity:
    """Return whether the instance's exact total is the generic count."""
    second = counts.independent() if counts is not None else None
    reasons = []
    if inst.repeated:
        reasons.append("penalties repeat (" + "; ".join(" = ".join(f"λ_{i}" for i in g) + f" = {inst.penalty[g[0]]}"
                                                        for g in inst.repeated) + ")")
    if second is not None and total is not None and second != total:
        reasons.append(f"an independent random instance has {second} critical points")
    if reasons:
        return Genericity(inst.repeated, second, False, "NOT generic: " + ", ".join(reasons))
    if second is None or total is None:
        return Genericity(inst.repeated, second, None, "genericity not checked (no independent count)")
    return Genericity(inst.repeated, second, True,
                      f"generic: distinct penalties, and an independent random instance also has {second} "
                      f"(Macaulay2 over ZZ/{SECOND_INSTANCE_PRIME}; evidence, not proof)")


def _verdict(n: int, total: int | None, components: Sequence[ComponentCount],
             gen: Genericity, why_no_count: str = "", modular: str | None = None) -> tuple[CriticalCode, str]:
    """Return the return code and the completeness sentence (`modular`: why the counts are over ZZ/p, if they are)."""
    if total is None:
        return CriticalCode.UNPROVED, (f"not proved complete: {n} found; per-stratum monodromy stopped by "
                                       f"stagnation (a heuristic stop), no exact count{why_no_count}")
    attained = components and all(c.complete for c in components) and total == n
    if modular is not None:
        if attained:
            return CriticalCode.MODULAR_EVIDENCE, (
                f"not proved complete: {n} = the count {total} over ZZ/{SECOND_INSTANCE_PRIME} (Macaulay2, sum over "
                f"strata, every stratum attained; evidence, not proof: {modular})")
        return CriticalCode.SHORT, (f"NOT complete: {n} found, the count over ZZ/{SECOND_INSTANCE_PRIME} at this "
                                    f"instance is {total} ({modular})")
    if not attained:
        short = "; ".join(f"{c.stratum.label}: {c.how}" for c in components if not c.complete)
        return CriticalCode.SHORT, f"NOT complete: {n} found, the exact count at this instance is {total} ({short})"
    proof = f"{n} = the exact count {total} (Macaulay2, sum over strata), every stratum attained"
    if gen.generic is False:
        return CriticalCode.INSTANCE_ONLY, f"complete at this instance only: {proof}; this instance is {gen.note}"
    return CriticalCode.COMPLETE, f"complete: {proof}; {gen.note}"


def _assemble(spec: NetworkSpec, inst: Instance, seed: int, cfg: StrataConfig, note: str,
              components: list[ComponentCount], found: list[np.ndarray], failed: int, by_label: dict[str, int],
              counts: StratumCounts | None, opts: TrackConfig, seconds: float) -> CriticalMonodromyResult:
    groups = cluster(found, opts.same_tol)
    sols = [found[gr[0]] for gr in groups]
    real = sum(is_real(x, opts.real_tol) for x in sols)
    total = sum(by_label.values()) if by_label else None
    gen = _genericity(inst, total, counts)
    why = (f" (Macaulay2: {counts.error})" if counts is not None and counts.error else
           " (Macaulay2 not run: biases, not installed, or not asked)" if counts is None else "")
    modular = counts.qq_error if counts is not None and not counts.proved else None
    code, completeness = _verdict(len(sols), total, components, gen, why, modular)
    cert = certify_critical(spec, inst.data, inst.penalty, np.array(sols)) if cfg.certify and sols else None
    lam_f = np.array([float(v) for v in inst.penalty])
    return CriticalMonodromyResult(tuple(components), note, network_group(spec, lam_f, parameters_move_penalty=True),
                                   len(sols), real, tuple(tuple(complex(v) for v in x) for x in sols), failed,
                                   tuple(str(v) for v in inst.penalty), total, code.is_success, completeness, cert,
                                   seconds, code, gen, inst.draw, seed)


def certify_critical(spec: NetworkSpec, data: ExactData, lam_t: Sequence[Fraction],
                     solutions: np.ndarray, high_precision: bool = True) -> CertificationResult:
    """Return the Krawczyk certification of critical points on the exact system ∇L/2 = 0.

    First in double precision (`theory.counting.certify.certify`, fast); the points it leaves uncertified
    (ill-conditioned ones) again in Arb ball arithmetic at increasing precision
    (`theory.counting.certify_arb`), merged by `theory.counting.certify.combine`.
    """
    polys = CriticalSystem(spec, data, tuple(lam_t)).polynomials()
    ring = polys[0].ring
    terms = terms_from_sympy([p.as_expr() for p in polys], list(ring.symbols))
    first = certify(terms, solutions)
    left = [c.index for c in first.certificates if not c.certified]
    if not left or not high_precision:
        return first
    from theory.counting.certify_arb import METHOD as ARB_METHOD, certify_balls
    balls = certify_balls(polys, np.asarray(solutions)[left], indices=left, real_coefficients=first.real_coefficients)
    return combine(terms, first, balls, f"{first.method}; then {ARB_METHOD} for the {len(left)} it left")
