"""The verdict engine: a pre-registered rule, replicate values, an interval, and held / not held / underpowered.

A claim of a paper is judged through a `Rule`, written in code before any data exist and
versioned (changing a rule changes its version, which `report.md` prints):

  statistic   what one replicate contributes (one number per independent seed: data order,
              initialisation and every noise draw redrawn — never particles or steps sharing a draw);
  direction   'greater' (the claim says θ > margin), 'less' (θ < margin) or 'within' (|θ| ≤ margin,
              e.g. "unchanged", "is the Boltzmann law");
  margin      the effect that would matter, stated from the paper before data (the boundary between
              "matters" and "doesn't");
  control     what θ is measured against (the baseline the statistic subtracts or divides by).

A test takes the replicate values (one-sample, or paired differences against the control) or two
independent groups (Welch), and a 95 % t-interval for θ (scipy.stats). Its verdict:

  greater  held if the interval lies above the margin, not held if below, underpowered if it
           contains the margin (it holds both "matters" and "doesn't");
  less     the mirror image;
  within   held if the interval lies inside [−margin, margin], not held if it misses that band,
           underpowered otherwise.

Equivalently, one-sided t-tests at level α/2 = 0.025 each way. A claim with several tests (a
dimension sweep, several layers) is held when every test is held (an intersection–union test, valid
without correction) and not held when some test is not held after Holm's step-down correction of the
"not held" p-values over the claim's tests; otherwise underpowered. Fewer than two replicates give
no interval: underpowered.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import stats

from landscape_core.errors import InvalidSpecError
from landscape_core.serialize import Serializable

DIRECTIONS = ("greater", "less", "within")
OUTCOMES = ("held", "not held", "underpowered")
ALPHA = 0.05  # two-sided: the interval is 95 %; each one-sided decision is at 0.025


@dataclass(frozen=True)
class Rule(Serializable):
    """A pre-registered verdict rule for one claim.

    name: short identifier, e.g. 'langevin-boltzmann'.
    version: integer bumped whenever any field changes (report.md prints name@vN).
    statistic: what one replicate contributes, in words (units included).
    direction: 'greater', 'less' or 'within' (module docstring).
    margin: the boundary between an effect that matters and one that doesn't, in the statistic's units.
    control: what the statistic is measured against.
    source: why that margin: the paper's words or the reasoning, written before data.
    """

    name: str
    version: int
    statistic: str
    direction: str
    margin: float
    control: str
    source: str = ""

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise InvalidSpecError(f"direction must be one of {DIRECTIONS}, got {self.direction!r}")
        if self.direction == "within" and not self.margin > 0:
            raise InvalidSpecError("a 'within' rule needs a margin > 0")
        if self.version < 1:
            raise InvalidSpecError("rule versions start at 1")

    @property
    def tag(self) -> str:
        """Return 'name@vN'."""
        return f"{self.name}@v{self.version}"

    def describe(self) -> str:
        """Return the rule in one line: statistic, direction, margin and control."""
        cond = {"greater": f"> {self.margin:g}", "less": f"< {self.margin:g}",
                "within": f"within ±{self.margin:g}"}[self.direction]
        return f"{self.statistic} {cond}, against {self.control}"


@dataclass(frozen=True)
class TestResult(Serializable):
    """One test of a claim.

    label: what was tested (e.g. 'd = 3').
    estimate: the mean of the replicate values (or difference of group means).
    low, high: the 95 % t-interval of θ (NaN with fewer than two replicates).
    replicates: number of independent replicates (of the treated group for Welch).
    control_replicates: of the control group for Welch, else 0.
    p_held: one-sided p-value against "does not hold" (for 'within': the larger of the two TOST p-values).
    p_not: one-sided p-value against "holds" (before Holm).
    p_not_holm: p_not after Holm's correction over the claim's tests.
    verdict: 'held', 'not held' or 'underpowered'.
    low_holm, high_holm: the interval at Holm's level for this test's step on the "not held" side,
        1 − α/(m − k + 1) for the k-th smallest p_not of m tests (equal to low, high when m = 1): a
        "not held" needs this interval, not the 95 % one, to miss the margin.
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
    margin: float = float("nan")  # the margin this test was judged against (the rule's unless the test set its own)


@dataclass(frozen=True)
class Verdict(Serializable):
    """A claim's verdict under a rule: the tests and the decision.

    rule: the Rule.
    verdict: 'held', 'not held' or 'underpowered'.
    tests: one TestResult per test of the claim.
    estimate, low, high, replicates: of the deciding test (the worst one for the decision).
    decisive: index of that test in `tests`.
    """

    rule: Rule
    verdict: str
    tests: tuple[TestResult, ...]
    estimate: float
    low: float
    high: float
    replicates: int
    decisive: int = 0

    def summary(self) -> str:
        """Return 'estimate [low, high], n = k (rule@vN)' of the deciding test."""
        return f"{_fmt(self.estimate)} [{_fmt(self.low)}, {_fmt(self.high)}], n = {self.replicates} ({self.rule.tag})"


def _fmt(x: float) -> str:
    return "nan" if not np.isfinite(x) else f"{x:.3g}"


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
    return est - c.mean(axis=-1), se, df


def _tail(t: np.ndarray, df: np.ndarray) -> np.ndarray:
    """P(T ≥ t) for Student's t with df degrees of freedom (a zero SE gives 0 or 1 by the sign)."""
    with np.errstate(invalid="ignore"):
        p = stats.t.sf(t, df)
    return np.where(np.isnan(t), 1.0, p)


def decide(est: np.ndarray, se: np.ndarray, df: np.ndarray, direction: str, margin: float,
           alpha: float = ALPHA) -> dict[str, np.ndarray]:
    """Return interval, one-sided p-values and per-test verdict codes (1 held, −1 not held, 0 underpowered).

    Vectorised over any leading shape (the calibration tests judge thousands of data sets at once).
    """
    est, se, df = (np.asarray(a, float) for a in (est, se, df))
    finite = np.isfinite(se) & (df > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.where(finite, stats.t.ppf(1 - alpha / 2, np.where(finite, df, 1.0)), np.nan)
        low, high = est - q * se, est + q * se
        safe = np.where(se > 0, se, np.nan)

        def above(m):  # p-value of H0: θ ≤ m against θ > m
            t = (est - m) / safe
            return np.where(se > 0, _tail(t, df), np.where(est > m, 0.0, 1.0))

        def below(m):  # p-value of H0: θ ≥ m against θ < m
            t = (m - est) / safe
            return np.where(se > 0, _tail(t, df), np.where(est < m, 0.0, 1.0))

    if direction == "greater":
        p_held, p_not = above(margin), below(margin)
    elif direction == "less":
        p_held, p_not = below(margin), above(margin)
    elif direction == "within":
        p_held = np.maximum(above(-margin), below(margin))
        p_not = np.minimum(above(margin), below(-margin))
    else:
        raise InvalidSpecError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    p_held = np.where(finite, p_held, 1.0)
    p_not = np.where(finite, p_not, 1.0)
    code = np.where(p_held < alpha / 2, 1, np.where(p_not < alpha / 2, -1, 0))
    return {"low": low, "high": high, "p_held": p_held, "p_not": p_not, "code": code}


def holm(p: np.ndarray) -> np.ndarray:
    """Return Holm-adjusted p-values along the last axis (step-down, monotone, capped at 1)."""
    p = np.asarray(p, float)
    m = p.shape[-1]
    order = np.argsort(p, axis=-1)
    ranked = np.take_along_axis(p, order, axis=-1) * (m - np.arange(m))
    ranked = np.minimum(np.maximum.accumulate(ranked, axis=-1), 1.0)
    out = np.empty_like(ranked)
    np.put_along_axis(out, order, ranked, axis=-1)
    return out


def combine(codes: np.ndarray, p_not: np.ndarray, alpha: float = ALPHA) -> np.ndarray:
    """Return claim verdict codes from per-test codes and p_not values (tests on the last axis).

    Held when every test is held (intersection–union); not held when some Holm-adjusted p_not is
    below α/2; underpowered otherwise.
    """
    codes = np.asarray(codes)
    not_held = (holm(p_not) < alpha / 2).any(axis=-1)
    held = (codes == 1).all(axis=-1)
    return np.where(not_held, -1, np.where(held, 1, 0))


CODE_WORD = {1: "held", -1: "not held", 0: "underpowered"}


# ----------------------------------------------------------------------------------------------
# The public entry: judge a claim


@dataclass(frozen=True)
class Sample:
    """One test's data: replicate values of θ, or of a treated group beside a control group (Welch).

    label: what is tested; values: one number per independent replicate; control: the control
    group's replicate values for an unpaired comparison (None: `values` already are θ per replicate,
    e.g. paired differences); margin: this test's margin, fixed in code beside the rule, when a claim's
    tests measure different quantities (None: the rule's).
    """

    label: str
    values: Sequence[float]
    control: Sequence[float] | None = None
    margin: float | None = None  # this test's margin when the claim's tests are in different units (else the rule's)


def judge(rule: Rule, samples: Sequence[Sample] | Sample, alpha: float = ALPHA) -> Verdict:
    """Return the Verdict of `rule` on one or several tests (module docstring for the decision)."""
    if isinstance(samples, Sample):
        samples = [samples]
    if not samples:
        raise InvalidSpecError(f"rule {rule.tag}: no test to judge")
    rows, stats_ = [], []
    for s in samples:
        v = np.asarray([x for x in s.values if np.isfinite(x)], float)
        c = None if s.control is None else np.asarray([x for x in s.control if np.isfinite(x)], float)
        if len(v) == 0 or (c is not None and len(c) == 0):
            est, se, df = np.nan, np.nan, np.nan
        else:
            est, se, df = (float(a) for a in t_stats(v, c))
        d = decide(np.array(est), np.array(se), np.array(df), rule.direction,
                   rule.margin if s.margin is None else s.margin, alpha)
        rows.append((s.label, est, float(d["low"]), float(d["high"]), len(v), 0 if c is None else len(c),
                     float(d["p_held"]), float(d["p_not"]), int(d["code"])))
        stats_.append((est, se, df, rule.margin if s.margin is None else s.margin))
    p_not_holm = holm(np.array([r[7] for r in rows]))
    codes = np.array([r[8] for r in rows])
    claim = int(combine(codes, np.array([r[7] for r in rows]), alpha))
    m = len(rows)
    rank = np.empty(m, int)
    rank[np.argsort([r[7] for r in rows], kind="stable")] = np.arange(m)
    tests = []
    for r, ph, k, (est, se, df, mg) in zip(rows, p_not_holm, rank, stats_):
        level = alpha / (m - k)  # Holm's step k (0-based) tests at α/(m − k)
        d = decide(np.array(est), np.array(se), np.array(df), rule.direction, mg, level)
        tests.append(TestResult(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], float(ph),
                                CODE_WORD[-1 if ph < alpha / 2 else (1 if r[8] == 1 else 0)],
                                float(d["low"]), float(d["high"]), float(mg)))
    tests = tuple(tests)
    # The deciding test: for 'not held' the most significant failure; otherwise the weakest success.
    if claim == -1:
        key = int(np.argmin(p_not_holm))
    else:
        key = int(np.argmax([t.p_held for t in tests]))
    t = tests[key]
    return Verdict(rule, CODE_WORD[claim], tests, t.estimate, t.low, t.high, t.replicates, key)


def reason(verdict: Verdict, detail: str = "") -> str:
    """Return the one-paragraph reason of a verdict: the deciding test's estimate, interval and n, and the rule."""
    t = verdict.tests[verdict.decisive]
    r = verdict.rule
    head = (f"{r.statistic}" + (f" ({t.label})" if t.label else "")
            + f": {_fmt(t.estimate)}, 95 % CI [{_fmt(t.low)}, {_fmt(t.high)}], {t.replicates} replicates"
            + (f" vs {t.control_replicates}" if t.control_replicates else ""))
    mg = t.margin if np.isfinite(t.margin) else r.margin
    cond = {"greater": f"held when the interval lies above {mg:g}",
            "less": f"held when the interval lies below {mg:g}",
            "within": f"held when the interval lies within ±{mg:g}"}[r.direction]
    why = {"underpowered": "the interval holds effects that matter and effects that don't",
           "held": "", "not held": ""}[verdict.verdict]
    multi = (f"; {len(verdict.tests)} tests: held needs every one held, not held needs one at its Holm level "
             f"(this test's Holm interval [{_fmt(t.low_holm)}, {_fmt(t.high_holm)}])" if len(verdict.tests) > 1 else "")
    return (f"{head}; rule {r.tag}: {cond}, against {r.control}{multi}"
            + (f" — {why}" if why else "") + (f". {detail}" if detail else "."))


def finding(claim_key: str, verdict: Verdict, detail: str = "", measured: dict | None = None):
    """Return the experiments' `Finding` for a verdict: outcome, reason, and the statistics in `measured`."""
    from empirics.experiments import Finding

    m = dict(measured or {})
    m["verdict"] = verdict.to_dict()
    t = verdict.tests[verdict.decisive]
    return Finding(claim_key, verdict.verdict, reason(verdict, detail), m, estimate=verdict.estimate,
                   interval=(verdict.low, verdict.high), replicates=verdict.replicates, rule=verdict.rule.tag,
                   interval_holm=(t.low_holm, t.high_holm) if len(verdict.tests) > 1 else None)


def replicate_seeds(seed: int, n: int, name: str = "replicate") -> list[int]:
    """Return n independent 63-bit seeds derived from the base seed by name (every replicate redraws everything)."""
    from landscape_core.seeds import child_seed

    return [child_seed(seed, f"{name}/{i}") for i in range(n)]


__all__ = ["Rule", "Sample", "TestResult", "Verdict", "judge", "finding", "reason", "holm", "decide", "t_stats",
           "combine", "replicate_seeds", "DIRECTIONS", "OUTCOMES", "ALPHA"]
