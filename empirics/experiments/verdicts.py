"""The verdict engine: a pre-registered rule, independent replicates that reached the claim's premise,
an interval, and one of held / not held / underpowered / not testable here.

A claim of a paper is judged through a `Rule`, written in code before any data exist and
versioned (changing a rule changes its version, which `report.md` prints):

  statistic   what one replicate contributes: one number per whole independent run (its own root
              seed: data order, initialisation, trajectory, every stage and noise draw redrawn);
  direction   'greater' (the claim says θ > margin), 'less' (θ < margin) or 'within' (|θ| ≤ margin,
              e.g. "unchanged", "is the Boltzmann law");
  margin      the null boundary of a directional claim (usually 0: "no effect"), or the band of a
              'within' claim;
  delta       the smallest effect of interest δ of a directional claim: an effect smaller than
              margin + δ ('greater'; margin − δ for 'less') would not support the claim, with its
              source (the paper's words or a stated reason), fixed before the data;
  premise     what each replicate must reach for the claim to apply (zero training error,
              convergence, stationarity, burn-in), a `Premise` with a bound, measured per replicate;
  control     what θ is measured against (the baseline the statistic subtracts or divides by);
  exact       the statistic is computed exactly (no sampling spread is possible), so a zero spread may
              decide; otherwise a zero spread gives no interval and no verdict.

A test takes the replicate values (one-sample, or paired differences against the control) or two
independent groups (Welch), and a 95 % t-interval for θ (scipy.stats). Its verdict, for 'greater':

  not held      the interval lies below margin + δ: every effect that would matter is excluded (the
                effect is absent, reversed, or too small to matter); so a true null becomes not held
                as replicates grow;
  held          otherwise, if the interval lies above the margin;
  underpowered  otherwise: the interval holds both "no effect" and effects that matter.

'less' is the mirror image; 'within' is held if the interval lies inside [−margin, margin] and not
held if it misses that band. Equivalently, one-sided t-tests at level α/2 = 0.025 each way.

A claim with several tests (a dimension sweep, several layers) is held when every test is held
(an intersection–union test) and not held when some test is not held after Holm's step-down
correction over the claim's tests; its p-values are the largest 'held' p-value and the smallest
Holm-adjusted 'not held' p-value. A report's claims form one family: `family` applies Holm's
correction across them on both sides, and that is the final verdict.

Premises gate both directions: a replicate that misses its premise is excluded (its value is still
printed); with fewer than two left in any test the claim is `not testable here`, never held nor not
held. Two replicates that share a root seed are refused (`SharedStreamError`): they are not
independent. A statistic fixed by the experiment's design is not judged at all: `by_construction`
reports it as such.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Sequence

import numpy as np
from scipy import stats

from landscape_core.errors import InvalidSpecError, SharedStreamError
from landscape_core.serialize import Serializable

DIRECTIONS = ("greater", "less", "within")
ALPHA = 0.05  # two-sided: the interval is 95 %; each one-sided decision is at 0.025
MIN_REPLICATES = 2  # fewer gives no interval


class Outcome(str, Enum):
    """What the engine says of a claim (the one list of outcomes; `str` so records hold the plain words)."""

    HELD = "held"
    NOT_HELD = "not held"
    UNDERPOWERED = "underpowered"
    NOT_TESTABLE = "not testable here"
    BY_CONSTRUCTION = "by construction"

    def __str__(self) -> str:
        return self.value


OUTCOMES = tuple(o.value for o in Outcome)
CODE_WORD = {1: Outcome.HELD.value, -1: Outcome.NOT_HELD.value, 0: Outcome.UNDERPOWERED.value}
PREMISE_DIRECTIONS = ("at most", "at least")


@dataclass(frozen=True)
class Premise(Serializable):
    """What a replicate must reach before the claim applies to it.

    name: short, e.g. 'zero training error'.
    statistic: what is measured per replicate, with units, e.g. 'training error of the end model (fraction)'.
    bound: the threshold; direction: 'at most' (value ≤ bound) or 'at least' (value ≥ bound).
    source: the paper's words or the reason for the bound.
    """

    name: str
    statistic: str
    bound: float
    direction: str = "at most"
    source: str = ""

    def __post_init__(self) -> None:
        if self.direction not in PREMISE_DIRECTIONS:
            raise InvalidSpecError(f"premise direction must be one of {PREMISE_DIRECTIONS}, got {self.direction!r}")

    def met(self, values: Sequence[float]) -> np.ndarray:
        """Return, per value, whether the premise is reached (NaN never is)."""
        v = np.asarray(values, float)
        with np.errstate(invalid="ignore"):
            ok = v <= self.bound if self.direction == "at most" else v >= self.bound
        return ok & np.isfinite(v)

    def describe(self) -> str:
        """Return e.g. 'training error of the end model (fraction) at most 0'."""
        return f"{self.statistic} {self.direction} {self.bound:g}"


@dataclass(frozen=True)
class Rule(Serializable):
    """A pre-registered verdict rule for one claim (module docstring for each field's role).

    name: short identifier, e.g. 'langevin-boltzmann'; version: bumped whenever any field changes.
    statistic: what one replicate contributes, in words (units included).
    direction: 'greater', 'less' or 'within'. margin: the null boundary (directional) or the band (within).
    control: what the statistic is measured against.
    delta: the smallest effect of interest of a directional rule (> 0, in the statistic's units).
    source: why that margin and δ: the paper's words or the reasoning, written before data.
    premise: what each replicate must reach (None: the claim has no premise beyond the protocol).
    exact: the statistic is computed exactly, so a zero spread may decide.
    """

    name: str
    version: int
    statistic: str
    direction: str
    margin: float
    control: str
    source: str = ""
    delta: float | None = None
    premise: Premise | None = None
    exact: bool = False

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise InvalidSpecError(f"direction must be one of {DIRECTIONS}, got {self.direction!r}")
        if self.direction == "within" and not self.margin > 0:
            raise InvalidSpecError("a 'within' rule needs a margin > 0")
        if self.direction != "within" and not (self.delta is not None and self.delta > 0):
            raise InvalidSpecError(f"rule {self.name}: a directional rule names its smallest effect of interest δ > 0")
        if self.version < 1:
            raise InvalidSpecError("rule versions start at 1")

    @property
    def tag(self) -> str:
        """Return 'name@vN'."""
        return f"{self.name}@v{self.version}"

    def describe(self) -> str:
        """Return the rule in one line: statistic, direction, margin, δ and control."""
        if self.direction == "within":
            cond = f"within ±{self.margin:g}"
        else:
            cond = f"{'>' if self.direction == 'greater' else '<'} {self.margin:g} (δ = {self.delta:g})"
        return f"{self.statistic} {cond}, against {self.control}"


@dataclass(frozen=True)
class TestResult(Serializable):
    """One test of a claim.

    label: what was tested (e.g. 'd = 3').
    estimate: the mean of the kept replicate values (or difference of group means).
    low, high: the 95 % t-interval of θ (NaN with fewer than two replicates or a zero spread of an inexact statistic).
    replicates: kept independent replicates (of the treated group for Welch); control_replicates: of the control group.
    p_held: one-sided p-value against "does not hold" (for 'within': the larger of the two TOST p-values).
    p_not: one-sided p-value against "holds with an effect that matters" (before Holm).
    p_not_holm: p_not after Holm's correction over the claim's tests.
    verdict: this test's outcome.
    low_holm, high_holm: the interval at Holm's level for this test's step on the "not held" side.
    margin, delta: what this test was judged against.
    seeds: the root seed of each kept replicate.
    premise_values: every replicate's premise value, kept or not (empty without a premise).
    excluded: replicates excluded because they missed the premise.
    zero_spread: the kept values are all equal (no interval unless the rule is exact).
    power: the probability of 'held' if the effect were exactly δ, with this test's spread and replicates.
    """

    label: str
    estimate: float
    low: float
    high: float
    replicates: int
    control_replicates: int
    p_held: float
    p_not: float
    p_not_holm: float
    verdict: str
    low_holm: float = float("nan")
    high_holm: float = float("nan")
    margin: float = float("nan")
    delta: float = float("nan")
    seeds: tuple[int, ...] = ()
    premise_values: tuple[float, ...] = ()
    excluded: int = 0
    zero_spread: bool = False
    power: float = float("nan")


@dataclass(frozen=True)
class Verdict(Serializable):
    """A claim's verdict under a rule: the tests and the decision.

    rule: the Rule. verdict: the outcome (`Outcome` value).
    tests: one TestResult per test of the claim.
    estimate, low, high, replicates: of the deciding test; decisive: its index in `tests`.
    p_held, p_not: the claim's p-values (largest per-test 'held' p; smallest Holm-adjusted 'not held' p).
    alone: the verdict the claim would get on its own, before the family correction.
    family: the number of claims of the report judged together (1 until `family` is applied);
    p_held_family, p_not_family: the claim's p-values after Holm's correction over that family.
    """

    rule: Rule
    verdict: str
    tests: tuple[TestResult, ...]
    estimate: float
    low: float
    high: float
    replicates: int
    decisive: int = 0
    p_held: float = 1.0
    p_not: float = 1.0
    alone: str = ""
    family: int = 1
    p_held_family: float = float("nan")
    p_not_family: float = float("nan")

    @property
    def deciding(self) -> TestResult:
        """Return the deciding test."""
        return self.tests[self.decisive]

    def summary(self) -> str:
        """Return 'estimate [low, high], n = k (rule@vN)' of the deciding test."""
        return f"{_fmt(self.estimate)} [{_fmt(self.low)}, {_fmt(self.high)}], n = {self.replicates} ({self.rule.tag})"


def _fmt(x: float) -> str:
    return "nan" if x is None or not np.isfinite(x) else f"{x:.3g}"


# ----------------------------------------------------------------------------------------------
# The vectorised core: t-intervals and one-sided p-values for many data sets at once


def t_stats(values: np.ndarray, control: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (estimate, standard error, degrees of freedom) over the last axis.

    One sample: mean and s/√n, df = n − 1. Two groups (control given): difference of means, Welch's
    standard error and Welch–Satterthwaite degrees of freedom.
    """
    x = np.asarray(values, float)
    n = x.shape[-1]
    est = x.mean(axis=-1)
    vx = x.var(axis=-1, ddof=1) / n if n > 1 else np.full(est.shape, np.nan)
    if control is None:
        return est, np.sqrt(vx), np.full(est.shape, n - 1.0)
    c = np.asarray(control, float)
    m = c.shape[-1]
    vc = c.var(axis=-1, ddof=1) / m if m > 1 else np.full(est.shape, np.nan)
    se = np.sqrt(vx + vc)
    with np.errstate(invalid="ignore", divide="ignore"):
        df = (vx + vc) ** 2 / (vx**2 / (n - 1) + vc**2 / (m - 1))
    df = np.where(se > 0, df, (n - 1.0) + (m - 1.0))
    return est - c.mean(axis=-1), se, df


def _tail(t: np.ndarray, df: np.ndarray) -> np.ndarray:
    """P(T ≥ t) for Student's t with df degrees of freedom."""
    with np.errstate(invalid="ignore"):
        p = stats.t.sf(t, df)
    return np.where(np.isnan(t), 1.0, p)


def matters_from(direction: str, margin: float, delta: float) -> float:
    """Return where the effects that matter begin: margin + δ ('greater'), margin − δ ('less')."""
    return margin + delta if direction == "greater" else margin - delta


def decide(est: np.ndarray, se: np.ndarray, df: np.ndarray, direction: str, margin: float, delta: float | None = None,
           alpha: float = ALPHA, exact: bool = False) -> dict[str, np.ndarray]:
    """Return interval, one-sided p-values and per-test verdict codes (1 held, −1 not held, 0 underpowered).

    Vectorised over any leading shape (the calibration tests judge thousands of data sets at once). A
    zero standard error decides only when `exact` (the statistic has no sampling spread); otherwise
    it gives no interval and code 0.
    """
    est, se, df = (np.asarray(a, float) for a in (est, se, df))
    if direction not in DIRECTIONS:
        raise InvalidSpecError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    if direction != "within" and not (delta is not None and delta > 0):
        raise InvalidSpecError("a directional decision needs its smallest effect of interest δ > 0")
    finite = np.isfinite(se) & (df > 0) & np.isfinite(est) & ((se > 0) | exact)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.where(finite, stats.t.ppf(1 - alpha / 2, np.where(finite, df, 1.0)), np.nan)
        low, high = np.where(finite, est - q * se, np.nan), np.where(finite, est + q * se, np.nan)
        safe = np.where(se > 0, se, np.nan)

        def above(m):  # p-value of H0: θ ≤ m against θ > m
            return np.where(se > 0, _tail((est - m) / safe, df), np.where(est > m, 0.0, 1.0))

        def below(m):  # p-value of H0: θ ≥ m against θ < m
            return np.where(se > 0, _tail((m - est) / safe, df), np.where(est < m, 0.0, 1.0))

    if direction == "greater":
        p_held, p_not = above(margin), below(matters_from(direction, margin, delta))
    elif direction == "less":
        p_held, p_not = below(margin), above(matters_from(direction, margin, delta))
    else:
        p_held = np.maximum(above(-margin), below(margin))
        p_not = np.minimum(above(margin), below(-margin))
    p_held = np.where(finite, p_held, 1.0)
    p_not = np.where(finite, p_not, 1.0)
    code = np.where(p_not < alpha / 2, -1, np.where(p_held < alpha / 2, 1, 0))
    return {"low": low, "high": high, "p_held": p_held, "p_not": p_not, "code": code}


def holm(p: np.ndarray) -> np.ndarray:
    """Return Holm-adjusted p-values along the last axis (step-down, monotone, capped at 1)."""
    p = np.asarray(p, float)
    m = p.shape[-1]
    order = np.argsort(p, axis=-1, kind="stable")
    ranked = np.take_along_axis(p, order, axis=-1) * (m - np.arange(m))
    ranked = np.minimum(np.maximum.accumulate(ranked, axis=-1), 1.0)
    out = np.empty_like(ranked)
    np.put_along_axis(out, order, ranked, axis=-1)
    return out


def combine(codes: np.ndarray, p_not: np.ndarray, alpha: float = ALPHA) -> np.ndarray:
    """Return claim verdict codes from per-test codes and p_not values (tests on the last axis).

    Not held when some Holm-adjusted p_not is below α/2; otherwise held when every test is held
    (intersection–union); underpowered otherwise.
    """
    codes = np.asarray(codes)
    not_held = (holm(p_not) < alpha / 2).any(axis=-1)
    held = (codes == 1).all(axis=-1)
    return np.where(not_held, -1, np.where(held, 1, 0))


def power(direction: str, margin: float, delta: float, se: float, df: float, alpha: float = ALPHA) -> float:
    """Return the probability of 'held' when the true effect is exactly the smallest that matters.

    'greater'/'less': θ = margin ± δ, one-sided t-test at α/2 (noncentral t with noncentrality δ/se).
    'within': θ = 0, both one-sided tests at α/2 (normal approximation with the t quantile).
    NaN when the standard error is unknown or zero.
    """
    if not (np.isfinite(se) and se > 0 and np.isfinite(df) and df > 0):
        return float("nan")
    q = stats.t.ppf(1 - alpha / 2, df)
    if direction == "within":
        return float(max(0.0, 2 * stats.norm.cdf(margin / se - q) - 1))
    with np.errstate(all="ignore"):
        p = float(stats.nct.sf(q, df, delta / se))
    if not np.isfinite(p):  # scipy's noncentral t fails far in the tail: the normal limit is exact enough there
        p = float(stats.norm.sf(q - delta / se))
    return p


def replicates_for(direction: str, margin: float, delta: float, sd: float, target: float = 0.8, n_max: int = 64,
                   alpha: float = ALPHA) -> int | None:
    """Return the fewest replicates whose power at δ reaches `target`, given one replicate's standard deviation
    `sd` (from a pilot); None if more than `n_max` are needed."""
    for n in range(MIN_REPLICATES, n_max + 1):
        if power(direction, margin, delta, sd / np.sqrt(n), n - 1.0, alpha) >= target:
            return n
    return None


# ----------------------------------------------------------------------------------------------
# The public entry: judge a claim


@dataclass(frozen=True)
class Sample:
    """One test's data: replicate values of θ, or of a treated group beside a control group (Welch).

    label: what is tested.
    values: one number per independent replicate; seeds: the root seed of each (same order).
    control, control_seeds: the control group's replicate values and root seeds for an unpaired comparison
        (None: `values` already are θ per replicate, e.g. paired differences within each replicate).
    premise, control_premise: each replicate's premise value (required when the rule has a premise;
        `control_premise` None leaves the control group ungated).
    margin, delta: this test's own, fixed in code beside the rule, when a claim's tests measure
        different quantities (None: the rule's).
    """

    label: str
    values: Sequence[float]
    seeds: Sequence[int]
    control: Sequence[float] | None = None
    control_seeds: Sequence[int] | None = None
    premise: Sequence[float] | None = None
    control_premise: Sequence[float] | None = None
    margin: float | None = None
    delta: float | None = None


def _check_streams(rule: Rule, s: Sample) -> None:
    """Refuse replicates without a root seed each, or two that share one."""
    groups = [("values", s.values, s.seeds)]
    if s.control is not None:
        if s.control_seeds is None:
            raise InvalidSpecError(f"rule {rule.tag}, test {s.label!r}: the control group needs its replicates' root seeds")
        groups.append(("control", s.control, s.control_seeds))
    seen: set[int] = set()
    for what, vals, seeds in groups:
        if len(seeds) != len(vals):
            raise InvalidSpecError(f"rule {rule.tag}, test {s.label!r}: {len(vals)} {what} but {len(seeds)} root seeds")
        for sd in seeds:
            if int(sd) in seen:
                raise SharedStreamError(f"rule {rule.tag}, test {s.label!r}: two replicates share the root seed {int(sd)}; "
                                        "replicates must be whole independent runs")
            seen.add(int(sd))


def _kept(rule: Rule, s: Sample, values, seeds, premise) -> tuple[np.ndarray, tuple[int, ...], tuple[float, ...], int]:
    """Return (kept values, their seeds, every premise value, number excluded by the premise)."""
    v = np.asarray(values, float)
    ok = np.isfinite(v)
    pv: tuple[float, ...] = ()
    excluded = 0
    if rule.premise is not None and premise is not None:
        if len(premise) != len(v):
            raise InvalidSpecError(f"rule {rule.tag}, test {s.label!r}: {len(v)} values but {len(premise)} premise values")
        met = rule.premise.met(premise)
        excluded = int((ok & ~met).sum())
        ok &= met
        pv = tuple(float(x) for x in premise)
    return v[ok], tuple(int(x) for x, k in zip(seeds, ok) if k), pv, excluded


def _judge_test(rule: Rule, s: Sample, alpha: float) -> tuple[dict, bool]:
    """Return one test's numbers (before Holm) and whether its premise left too few replicates."""
    _check_streams(rule, s)
    if rule.premise is not None and s.premise is None:
        raise InvalidSpecError(f"rule {rule.tag} has the premise '{rule.premise.name}': give each replicate's premise value")
    v, seeds, pv, excl = _kept(rule, s, s.values, s.seeds, s.premise)
    c = None
    if s.control is not None:
        c, _, cpv, cexcl = _kept(rule, s, s.control, s.control_seeds, s.control_premise)
        excl += cexcl
    margin = rule.margin if s.margin is None else s.margin
    delta = (rule.delta if s.delta is None else s.delta) if rule.direction != "within" else margin
    untestable = rule.premise is not None and (len(v) < MIN_REPLICATES or (c is not None and len(c) < MIN_REPLICATES))
    if len(v) == 0 or (c is not None and len(c) == 0):
        est, se, df = np.nan, np.nan, np.nan
    else:
        est, se, df = (float(a) for a in t_stats(v, c))
    zero = bool(len(v) >= MIN_REPLICATES and np.isfinite(se) and se == 0)
    d = decide(np.array(est), np.array(se), np.array(df), rule.direction, margin, delta, alpha, rule.exact)
    pw = power(rule.direction, margin, delta, se, df, alpha)
    return dict(label=s.label, est=est, se=se, df=df, low=float(d["low"]), high=float(d["high"]), n=len(v),
                m=0 if c is None else len(c), p_held=float(d["p_held"]), p_not=float(d["p_not"]), code=int(d["code"]),
                margin=margin, delta=delta, seeds=seeds, premise_values=pv, excluded=excl, zero=zero,
                power=pw), untestable


def judge(rule: Rule, samples: Sequence[Sample] | Sample, alpha: float = ALPHA) -> Verdict:
    """Return the Verdict of `rule` on one or several tests (module docstring for the decision)."""
    if isinstance(samples, Sample):
        samples = [samples]
    if not samples:
        raise InvalidSpecError(f"rule {rule.tag}: no test to judge")
    judged = [_judge_test(rule, s, alpha) for s in samples]
    rows = [r for r, _ in judged]
    untestable = any(u for _, u in judged)
    p_not = np.array([r["p_not"] for r in rows])
    p_not_holm = holm(p_not)
    m = len(rows)
    rank = np.empty(m, int)
    rank[np.argsort(p_not, kind="stable")] = np.arange(m)
    claim = int(combine(np.array([r["code"] for r in rows]), p_not, alpha))
    tests = []
    for r, ph, k in zip(rows, p_not_holm, rank):
        level = alpha / (m - k)  # Holm's step k (0-based) tests at α/(m − k)
        d = decide(np.array(r["est"]), np.array(r["se"]), np.array(r["df"]), rule.direction, r["margin"],
                   r["delta"], level, rule.exact)
        word = CODE_WORD[-1 if ph < alpha / 2 else (1 if r["code"] == 1 else 0)]
        tests.append(TestResult(r["label"], r["est"], r["low"], r["high"], r["n"], r["m"], r["p_held"], r["p_not"],
                                float(ph), word, float(d["low"]), float(d["high"]), float(r["margin"]),
                                float(r["delta"]), r["seeds"], r["premise_values"], r["excluded"], r["zero"],
                                r["power"]))
    tests = tuple(tests)
    p_held_claim = float(max(t.p_held for t in tests))
    p_not_claim = float(min(p_not_holm))
    if untestable:
        word = Outcome.NOT_TESTABLE.value
        key = int(min(range(m), key=lambda i: tests[i].replicates))
    else:
        word = CODE_WORD[claim]
        # the deciding test: for 'not held' the most significant failure; otherwise the weakest success
        key = int(np.argmin(p_not_holm)) if claim == -1 else int(np.argmax([t.p_held for t in tests]))
    t = tests[key]
    return Verdict(rule, word, tests, t.estimate, t.low, t.high, t.replicates, key, p_held_claim, p_not_claim,
                   alone=word)


def family(verdicts: Sequence[Verdict], alpha: float = ALPHA) -> list[Verdict]:
    """Return the verdicts of one report's claims after Holm's correction across them, on both sides.

    Claims that are not testable here keep that outcome and do not count in the family. A claim held
    alone stays held when its family-adjusted 'held' p-value is below α/2, a claim not held alone
    stays not held when its adjusted 'not held' p-value is; every other claim is underpowered (the
    correction withdraws decisions, it never turns one into its opposite).
    """
    idx = [i for i, v in enumerate(verdicts) if v.alone != Outcome.NOT_TESTABLE.value]
    out = list(verdicts)
    if not idx:
        return out
    ph = holm(np.array([verdicts[i].p_held for i in idx]))
    pn = holm(np.array([verdicts[i].p_not for i in idx]))
    for i, a, b in zip(idx, ph, pn):
        # the family can only withdraw a decision, never take another one: a claim held (not held) alone stays
        # so when its adjusted p-value on that side is still below α/2, and is underpowered otherwise
        prior = verdicts[i]
        alone = prior.alone
        keep = (alone == Outcome.HELD.value and a < alpha / 2) or (alone == Outcome.NOT_HELD.value and b < alpha / 2)
        word = alone if keep else Outcome.UNDERPOWERED.value
        out[i] = replace(prior, verdict=word, family=len(idx), p_held_family=float(a), p_not_family=float(b))
    return out


# ----------------------------------------------------------------------------------------------
# Words: the reason is built from the decision actually taken


def _condition(rule: Rule, t: TestResult) -> str:
    if rule.direction == "within":
        return f"held when the interval lies within ±{t.margin:g}, not held when it leaves that band"
    side, sign = ("above", "≥") if rule.direction == "greater" else ("below", "≤")
    return (f"held when the interval lies {side} {t.margin:g}; not held when it excludes every effect "
            f"{sign} {matters_from(rule.direction, t.margin, t.delta):g} (δ = {t.delta:g}, the smallest effect that "
            "matters)")


def _cause(v: Verdict) -> str:
    """Return why the outcome was taken, in words that match the decision."""
    r, t = v.rule, v.deciding
    ci = f"[{_fmt(t.low)}, {_fmt(t.high)}]"
    if v.verdict == Outcome.NOT_TESTABLE.value:
        p = r.premise
        vals = ", ".join(_fmt(x) for x in t.premise_values) or "none"
        return (f"not testable here: {t.replicates} replicate(s) reached the premise '{p.name}' "
                f"({p.describe()}; measured {vals}), fewer than {MIN_REPLICATES}, so no verdict either way")
    fam = ""
    if v.family > 1:
        fam = (f"; Holm over the report's {v.family} claims: adjusted p = {_fmt(v.p_held_family)} (held side), "
               f"{_fmt(v.p_not_family)} (not-held side), against {ALPHA / 2:g}")
    if v.verdict == Outcome.HELD.value:
        return f"held: the interval {ci} lies on the claim's side of {t.margin:g} (p = {_fmt(v.p_held)}){fam}"
    if v.verdict == Outcome.NOT_HELD.value:
        if r.direction == "within":
            what = f"the interval {ci} leaves the band ±{t.margin:g}"
        else:
            bound = matters_from(r.direction, t.margin, t.delta)
            wrong_side = t.high < t.margin if r.direction == "greater" else t.low > t.margin
            what = (f"the interval {ci} lies on the wrong side of {t.margin:g}" if wrong_side else
                    f"the interval {ci} excludes every effect {'≥' if r.direction == 'greater' else '≤'} {bound:g}: "
                    f"any effect is smaller than δ = {t.delta:g}, the smallest that matters")
        return f"not held: {what} (p = {_fmt(v.p_not)}){fam}"
    # underpowered
    if any(x.zero_spread for x in v.tests) and not r.exact:
        return ("underpowered: the replicates have zero spread, so there is no interval (the statistic is not exact "
                "and a zero spread says nothing about its sampling error)")
    if v.alone != v.verdict:
        return (f"underpowered: alone this claim would be {v.alone}, but not at Holm's level over the report's "
                f"{v.family} claims{fam}")
    if t.replicates < MIN_REPLICATES:
        return f"underpowered: {t.replicates} replicate(s), no interval"
    if r.direction == "within":
        return f"underpowered: the interval {ci} holds values inside and outside the band ±{t.margin:g}"
    bound = matters_from(r.direction, t.margin, t.delta)
    return (f"underpowered: the interval {ci} holds both no effect ({t.margin:g}) and effects that matter "
            f"({bound:g} and beyond)")


def reason(verdict: Verdict, detail: str = "") -> str:
    """Return the reason of a verdict: the deciding test's numbers, the premise, the rule and the cause."""
    t = verdict.deciding
    r = verdict.rule
    head = (f"{r.statistic}" + (f" ({t.label})" if t.label else "")
            + f": {_fmt(t.estimate)}, 95 % CI [{_fmt(t.low)}, {_fmt(t.high)}], {t.replicates} replicates"
            + (f" vs {t.control_replicates}" if t.control_replicates else ""))
    prem = ""
    if r.premise is not None and verdict.verdict != Outcome.NOT_TESTABLE.value:
        prem = (f"; premise '{r.premise.name}' ({r.premise.describe()}) measured "
                + ", ".join(_fmt(x) for x in t.premise_values) + (f", {t.excluded} excluded" if t.excluded else ""))
    multi = (f"; {len(verdict.tests)} tests: held needs every one held, not held needs one at its Holm level "
             f"(this test's Holm interval [{_fmt(t.low_holm)}, {_fmt(t.high_holm)}])" if len(verdict.tests) > 1 else "")
    pw = f"; power at δ with this spread: {t.power:.0%}" if np.isfinite(t.power) else ""
    return (f"{head}{prem}; rule {r.tag}: {_condition(r, t)}, against {r.control}{multi} — {_cause(verdict)}{pw}"
            + (f". {detail}" if detail else "."))


def finding(claim_key: str, verdict: Verdict, detail: str = "", measured: dict | None = None):
    """Return the experiments' `Finding` for a verdict: outcome, reason, and the statistics in `measured`."""
    from empirics.experiments import Finding

    t = verdict.deciding
    r = verdict.rule
    # the short form ('zero training error, ≤ 0'); the reason gives the statistic in full
    premise = None if r.premise is None else (f"{r.premise.name}, {'≤' if r.premise.direction == 'at most' else '≥'} "
                                              f"{r.premise.bound:g}")
    return Finding(claim_key, verdict.verdict, reason(verdict, detail), dict(measured or {}), estimate=verdict.estimate,
                   interval=(verdict.low, verdict.high), replicates=verdict.replicates, rule=r.tag,
                   interval_holm=(t.low_holm, t.high_holm) if len(verdict.tests) > 1 else None,
                   premise=premise, premise_value=list(t.premise_values) or None,
                   delta=t.delta if r.direction != "within" else None, margin=t.margin, power=t.power,
                   judged=verdict, detail=detail)


def by_construction(claim_key: str, statistic: str, value, why: str, measured: dict | None = None):
    """Return a `Finding` that reports a statistic fixed by the experiment's design: not a verdict."""
    from empirics.experiments import Finding

    return Finding(claim_key, Outcome.BY_CONSTRUCTION.value,
                   f"by construction: {statistic} is {value}, fixed by the experiment's design ({why}); "
                   "reported, not judged", dict(measured or {}))


def family_findings(findings: Sequence) -> tuple:
    """Return a report's findings after `family`: every judged finding re-decided with Holm over the report's claims."""
    judged = [i for i, f in enumerate(findings) if getattr(f, "judged", None) is not None]
    verdicts = family([findings[i].judged for i in judged])
    out = list(findings)
    for i, v in zip(judged, verdicts):
        out[i] = finding(findings[i].claim, v, findings[i].detail, findings[i].measured)
    return tuple(out)


def replicate_seeds(seed: int, n: int, name: str = "replicate") -> list[int]:
    """Return n independent 63-bit root seeds derived from the base seed by name (one whole run each)."""
    from landscape_core.seeds import child_seed

    return [child_seed(seed, f"{name}/{i}") for i in range(n)]


__all__ = ["Outcome", "OUTCOMES", "Premise", "Rule", "Sample", "TestResult", "Verdict", "judge", "family",
           "family_findings", "finding", "by_construction", "reason", "holm", "decide", "t_stats", "combine", "power",
           "replicates_for", "replicate_seeds", "DIRECTIONS", "ALPHA", "MIN_REPLICATES"]
