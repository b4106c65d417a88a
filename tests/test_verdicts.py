"""The verdict engine is calibrated: held at the stated rate when the claim holds by construction, not held
when it fails by construction (and, with a smallest effect of interest δ, when the true effect is zero
and replicates grow), underpowered with too few replicates, never confidently wrong more often than
α/2; premises gate both directions; shared streams are refused; zero spread decides only exact
statistics; reasons match the decision; Holm across a report's claims keeps the family's error rate.

Each calibration draws R synthetic data sets at once (vectorised) with a known θ, judges them all, and
compares the verdict rates with the level the rule states (α/2 = 0.025 one-sided); Monte-Carlo error at
R = 20,000 is about 0.0011 on a rate of 0.025.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from empirics.experiments.verdicts import (ALPHA, Outcome, Premise, Rule, Sample, combine, decide, family, holm, judge,
                                           power, reason, replicates_for, t_stats)
from landscape_core.errors import InvalidSpecError, SharedStreamError

R = 20_000


TINY = 1e-12  # a δ so small that 'not held' means only "on the wrong side of the margin" (the rule before δ)


def _codes(values, direction, margin, control=None, delta=TINY):
    est, se, df = t_stats(values, control)
    return decide(est, se, df, direction, margin, None if direction == "within" else delta)["code"]


def _s(label, values, control=None, **kw):
    """A Sample whose replicates have distinct root seeds (control seeds after the treated ones)."""
    n = len(values)
    cs = None if control is None else list(range(1000, 1000 + len(control)))
    return Sample(label, values, list(range(n)), control=control, control_seeds=cs, **kw)


def _rates(codes) -> dict[str, float]:
    codes = np.asarray(codes)
    return {"held": float((codes == 1).mean()), "not held": float((codes == -1).mean()),
            "underpowered": float((codes == 0).mean())}


@pytest.fixture
def rng():
    return np.random.default_rng(20260)


def test_greater_rule_says_held_when_the_effect_holds_by_construction(rng):
    margin = 0.5
    r = _rates(_codes(margin + 1.5 + rng.standard_normal((R, 12)), "greater", margin))
    assert r["held"] > 0.99 and r["not held"] == 0.0


def test_greater_rule_false_held_rate_at_the_boundary_is_the_stated_level(rng):
    """θ exactly at the margin (no effect): 'held' at most α/2; θ exactly at margin + δ (the smallest effect that
    matters): 'not held' at most α/2 — each wrong verdict at the stated level."""
    for n in (3, 5, 12):
        r = _rates(_codes(0.5 + rng.standard_normal((R, n)), "greater", 0.5, delta=1.0))
        assert r["held"] < ALPHA / 2 + 0.003, (n, r)  # α/2 less the draws whose interval also lies below margin + δ
        r = _rates(_codes(1.5 + rng.standard_normal((R, n)), "greater", 0.5, delta=1.0))
        assert abs(r["not held"] - ALPHA / 2) < 0.005, (n, r)


def test_a_true_null_becomes_not_held_as_replicates_grow(rng):
    """θ = 0 with δ = 0.5 (σ = 1): at n = 3 mostly underpowered; the 'not held' rate climbs with n to near 1."""
    rates = [_rates(_codes(rng.standard_normal((R // 4, n)), "greater", 0.0, delta=0.5))["not held"]
             for n in (3, 12, 48, 96)]
    assert rates[0] < 0.2 and rates[-1] > 0.95 and all(a < b for a, b in zip(rates, rates[1:])), rates
    # without δ the old rule stayed 'underpowered' ~95 % of the time at any n: the δ is what decides
    assert _rates(_codes(rng.standard_normal((R // 4, 96)), "greater", 0.0))["not held"] < ALPHA / 2 + 0.01


def test_power_matches_the_simulated_held_rate_and_sizes_replicates(rng):
    """power() at θ = margin + δ equals the simulated rate of the held-side test (the interval above the margin;
    'held' itself is at most α/2 rarer, the chance the interval also falls below margin + δ); replicates_for()
    is the first n reaching 80 %."""
    sd, delta = 1.0, 1.2
    for n in (4, 8):
        x = delta + sd * rng.standard_normal((R, n))
        est, se, df = t_stats(x)
        sim = float((decide(est, se, df, "greater", 0.0, delta)["p_held"] < ALPHA / 2).mean())
        assert power("greater", 0.0, delta, sd / np.sqrt(n), n - 1.0) == pytest.approx(sim, abs=0.012), n
    n = replicates_for("greater", 0.0, delta, sd)
    assert power("greater", 0.0, delta, sd / np.sqrt(n), n - 1.0) >= 0.8
    assert power("greater", 0.0, delta, sd / np.sqrt(n - 1), n - 2.0) < 0.8 or n == 2


def test_greater_rule_says_not_held_when_the_effect_fails_by_construction(rng):
    r = _rates(_codes(0.5 - 1.5 + rng.standard_normal((R, 12)), "greater", 0.5))
    assert r["not held"] > 0.99 and r["held"] == 0.0


def test_less_rule_mirrors_greater(rng):
    x = rng.standard_normal((R, 6))
    assert np.array_equal(_codes(x, "greater", 0.2), _codes(-x, "less", -0.2))


def test_two_replicates_of_a_modest_effect_are_underpowered_never_confidently_wrong(rng):
    """n = 2 with θ one σ above the margin: mostly underpowered, 'not held' (wrong) at most α/2."""
    r = _rates(_codes(0.5 + 1.0 + rng.standard_normal((R, 2)), "greater", 0.5))
    assert r["underpowered"] > 0.8 and r["not held"] < ALPHA / 2
    one = judge(Rule("x", 1, "θ", "greater", 0.0, "zero", delta=1.0), _s("one draw", [5.0]))
    assert one.verdict == "underpowered" and one.replicates == 1


def test_within_rule_is_calibrated_at_both_edges_and_decides_far_from_them(rng):
    margin = 1.0
    inside = _rates(_codes(0.0 + 0.5 * rng.standard_normal((R, 20)), "within", margin))
    assert inside["held"] > 0.95 and inside["not held"] == 0.0
    for edge in (-margin, margin):
        r = _rates(_codes(edge + rng.standard_normal((R, 8)), "within", margin))
        assert r["held"] < ALPHA / 2 + 0.004, (edge, r)
        assert abs(r["not held"] - ALPHA / 2) < 0.005, (edge, r)
    outside = _rates(_codes(3.0 + 0.5 * rng.standard_normal((R, 8)), "within", margin))
    assert outside["not held"] > 0.99 and outside["held"] == 0.0
    few = _rates(_codes(0.0 + 0.5 * rng.standard_normal((R, 2)), "within", margin))
    assert few["underpowered"] > 0.8 and few["not held"] < ALPHA / 2  # the rest: held, which is right here


def test_welch_comparison_is_calibrated_with_unequal_variances_and_sizes(rng):
    """Treated ~ N(θ, 3²) with 4 replicates against a control ~ N(0, 0.5²) with 9: at θ = margin, α/2 each way."""
    ctrl = 0.5 * rng.standard_normal((R, 9))
    r = _rates(_codes(0.3 + 3.0 * rng.standard_normal((R, 4)), "greater", 0.3, ctrl))
    assert abs(r["held"] - ALPHA / 2) < 0.006 and abs(r["not held"] - ALPHA / 2) < 0.006
    big = _rates(_codes(8.0 + 1.0 * rng.standard_normal((R, 6)), "greater", 0.3, ctrl))
    assert big["held"] > 0.99


def test_skewed_fractions_keep_each_wrong_verdict_below_the_two_sided_level(rng):
    """Beta(2, 5) replicate fractions (skewed, like a basin-occupancy fraction), θ at the margin.

    The t-interval is only approximately right for skewed data: measured, the one-sided error on the
    long tail's side is 0.049–0.052 at n = 3–5 and 0.036 at n = 30 (nominal 0.025). The test pins that
    each wrong verdict stays at or below α = 0.05 (+ Monte-Carlo error), the bound the reports rely on.
    """
    for n in (3, 5, 30):
        r = _rates(_codes(rng.beta(2, 5, size=(R, n)), "greater", 2 / 7))
        assert r["held"] < ALPHA + 0.004 and r["not held"] < ALPHA + 0.004, (n, r)


def test_holm_matches_the_step_down_definition(rng):
    p = rng.uniform(0, 0.2, size=(500, 6))
    adj = holm(p)
    for row, got in zip(p, adj):
        order = np.argsort(row)
        expect = np.empty(6)
        running = 0.0
        for k, i in enumerate(order):
            running = max(running, min(1.0, (6 - k) * row[i]))
            expect[i] = running
        np.testing.assert_allclose(got, expect)


def test_several_tests_in_a_claim_keep_the_familywise_false_not_held_rate(rng):
    """Five tests all at the boundary: uncorrected, 'not held' somewhere in ~12 % of claims; Holm keeps it ≤ α/2."""
    m, n = 5, 6
    x = 0.5 + rng.standard_normal((R, m, n))
    est, se, df = t_stats(x)
    d = decide(est, se, df, "greater", 0.5, TINY)
    naive = float((d["p_not"] < ALPHA / 2).any(axis=-1).mean())
    claim = combine(d["code"], d["p_not"])
    assert naive > 0.09
    assert float((claim == -1).mean()) < ALPHA / 2 + 0.004
    assert float((claim == 1).mean()) < 1e-3  # held needs every test: at the boundary almost never


def test_judge_interval_equals_scipy_t_interval_and_welch():
    x = [0.31, 0.42, 0.29, 0.38, 0.45]
    v = judge(Rule("t", 1, "θ", "greater", 0.0, "zero", delta=0.1), _s("a", x))
    ci = stats.ttest_1samp(x, 0.0).confidence_interval(0.95)
    assert v.low == pytest.approx(ci.low) and v.high == pytest.approx(ci.high) and v.verdict == "held"
    a, b = [5.1, 6.3, 5.8, 7.0], [4.0, 4.4, 3.9, 4.6, 4.1, 4.3]
    w = judge(Rule("w", 1, "Δ", "greater", 0.0, "group b", delta=0.5), _s("a − b", a, b))
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert w.low == pytest.approx(ci.low) and w.high == pytest.approx(ci.high)
    assert w.tests[0].control_replicates == 6


def test_claim_with_one_failing_test_is_not_held_and_names_it():
    rule = Rule("sweep", 1, "θ", "greater", 0.0, "zero", delta=0.5)
    good = [_s(f"d = {d}", [1.0 + 0.01 * i for i in range(6)]) for d in (1, 2)]
    bad = _s("d = 3", [-1.0 - 0.01 * i for i in range(6)])
    v = judge(rule, good + [bad])
    assert v.verdict == "not held" and v.tests[v.decisive].label == "d = 3"
    assert judge(rule, good).verdict == "held"


def test_rule_tag_and_validation():
    assert Rule("a", 3, "θ", "less", 0.0, "c", delta=0.1).tag == "a@v3"
    with pytest.raises(InvalidSpecError, match="smallest effect"):
        Rule("a", 1, "θ", "greater", 0.0, "c")  # a directional rule without δ
    with pytest.raises(InvalidSpecError):
        Rule("a", 1, "θ", "within", 0.0, "c")
    with pytest.raises(InvalidSpecError):
        Rule("a", 1, "θ", "up", 0.0, "c")


def test_report_prints_estimate_interval_replicates_and_rule_version():
    from empirics.experiments import Claim, ExperimentReport
    from empirics.experiments.report import render_markdown
    from empirics.experiments.verdicts import finding

    rule = Rule("demo-rule", 2, "gap", "greater", 0.0, "the control arm", delta=0.25,
                premise=Premise("zero training error", "training error", 0.0))
    f = finding("c", judge(rule, _s("", [1.0, 1.2, 0.9, 1.1], premise=[0.0, 0.0, 0.0, 0.0])))
    rep = ExperimentReport("x", "X", "ref", "smoke", 0, ("p",), (), (Claim("c", "P", "§1", "q"),), (f,), {}, (), 1.0)
    text = render_markdown(rep)
    assert "demo-rule@v2" in text and "| held |" in text and "[0.8" in text and "| 4 |" in text
    # premise values, δ and power per claim
    assert "zero training error, ≤ 0: 0, 0, 0, 0" in text and "| 0.25 |" in text and "%" in text.split("| 0.25 |")[1]


def test_holm_interval_of_a_not_held_test_misses_the_margin_and_single_tests_need_none():
    """A claim's 'not held' test has its Holm-level interval clear of the margin; one test: Holm = 95 %."""
    rule = Rule("w", 1, "θ", "within", 1.0, "zero")
    ok = _s("ok", [0.1, -0.1, 0.05, 0.0])
    bad = _s("bad", [3.0, 3.1, 2.9, 3.05])
    v = judge(rule, [ok, bad])
    t = v.tests[v.decisive]
    assert v.verdict == "not held" and t.label == "bad" and t.low_holm > 1.0 and t.low_holm <= t.low
    one = judge(rule, ok).tests[0]
    assert one.low_holm == pytest.approx(one.low) and one.high_holm == pytest.approx(one.high)


# ----------------------------------------------------------------------------------------------
# The new cases: shared streams, zero spread, premises, reasons, the report's family


def test_replicates_that_share_a_root_seed_are_refused():
    rule = Rule("r", 1, "θ", "greater", 0.0, "zero", delta=0.1)
    with pytest.raises(SharedStreamError, match="share the root seed 7"):
        judge(rule, Sample("a", [1.0, 1.1, 0.9], [3, 7, 7]))
    with pytest.raises(SharedStreamError):  # a control replicate that is a treated replicate is not independent
        judge(rule, Sample("a", [1.0, 1.1], [1, 2], control=[0.0, 0.1], control_seeds=[2, 5]))
    with pytest.raises(InvalidSpecError, match="root seeds"):
        judge(rule, Sample("a", [1.0, 1.1, 0.9], [1, 2]))


def test_zero_spread_never_gives_held_unless_the_statistic_is_exact():
    """Identical replicate values: no interval, so underpowered — whatever the side — unless the rule says the
    statistic is computed exactly, in which case the value itself decides."""
    for values, margin in (([0.0] * 5, -0.1), ([2.0] * 5, 0.0), ([0.0] * 5, 1.0)):
        v = judge(Rule("z", 1, "θ", "greater", margin, "c", delta=0.5), _s("", values))
        assert v.verdict == "underpowered" and "zero spread" in reason(v)
    exact = Rule("z", 1, "θ", "greater", 0.0, "c", delta=0.5, exact=True)
    assert judge(exact, _s("", [2.0] * 5)).verdict == "held"
    assert judge(exact, _s("", [0.0] * 5)).verdict == "not held"


def test_premise_gate_blocks_held_and_not_held_alike():
    """Replicates that missed the premise are excluded; too few left is 'not testable here', never a verdict."""
    prem = Premise("zero training error", "training error", 0.0)
    rule = Rule("p", 1, "θ", "greater", 0.0, "c", delta=0.5, premise=prem)
    clear_yes = [2.0, 2.1, 1.9, 2.05]
    clear_no = [-2.0, -2.1, -1.9, -2.05]
    missed = [0.3, 0.0, 0.2, 0.4]
    for values in (clear_yes, clear_no):
        v = judge(rule, _s("", values, premise=missed))
        assert v.verdict == Outcome.NOT_TESTABLE.value and v.replicates == 1
        assert "not testable here" in reason(v) and "0.3, 0, 0.2, 0.4" in reason(v)
    assert judge(rule, _s("", clear_yes, premise=[0.0] * 4)).verdict == "held"
    assert judge(rule, _s("", clear_no, premise=[0.0] * 4)).verdict == "not held"
    part = judge(rule, _s("", clear_yes + [-50.0], premise=[0.0] * 4 + [0.5]))  # the outlier missed the premise
    assert part.verdict == "held" and part.tests[0].excluded == 1 and part.replicates == 4
    with pytest.raises(InvalidSpecError, match="premise"):
        judge(rule, _s("", clear_yes))


def test_reason_text_matches_the_decision_taken():
    rule = Rule("w", 1, "θ", "greater", 0.0, "zero", delta=0.5)
    cases = {"held": [1.0, 1.1, 0.9, 1.05], "not held": [0.01, -0.02, 0.0, 0.02, 0.01, -0.01],
             "underpowered": [0.3, -0.2, 0.9, 0.1]}
    for word, values in cases.items():
        v = judge(rule, _s("", values))
        assert v.verdict == word, (word, v.summary())
        assert f"— {word}:" in reason(v)
        assert "holds effects that matter and effects that don't" not in reason(v)
    tiny = judge(rule, _s("", cases["not held"]))
    assert "smaller than δ = 0.5" in reason(tiny)  # not held because every effect that matters is excluded
    below = judge(rule, _s("", [-1.0, -1.1, -0.9]))
    assert "wrong side of 0" in reason(below)


def test_holm_across_a_reports_claims_keeps_the_familywise_error_and_says_so(rng):
    """Eight claims all at their margin: judged alone, some claim is wrongly 'held' in ~18 % of reports; judged as a
    family (Holm on the claims' held-side p-values, as `family` does), at most α/2; and a claim demoted by the family
    says why."""
    rule = Rule("f", 1, "θ", "greater", 0.0, "zero", delta=TINY)
    est, se, df = t_stats(rng.standard_normal((R, 8, 6)))
    p_held = decide(est, se, df, "greater", 0.0, TINY)["p_held"]
    assert float((p_held < ALPHA / 2).any(axis=-1).mean()) > 0.1
    assert float((holm(p_held) < ALPHA / 2).any(axis=-1).mean()) < ALPHA / 2 + 0.004
    for _ in range(20):  # family() itself takes exactly those decisions
        vs = [judge(rule, _s("", list(rng.standard_normal(6)))) for _ in range(8)]
        adjusted = holm(np.array([v.p_held for v in vs]))
        for v, a in zip(family(vs), adjusted):
            assert (v.verdict == "held") == (v.alone == "held" and a < ALPHA / 2)
    strong = judge(rule, _s("", [1.0, 1.1, 0.9, 1.05]))
    weak = judge(rule, _s("", [0.2, 0.5, 0.1, 0.6, 0.3]))
    assert weak.verdict == "held"
    fam = family([strong, weak] + [judge(rule, _s("", list(rng.standard_normal(5)))) for _ in range(8)])
    if fam[1].verdict == "underpowered":
        assert "alone this claim would be held" in reason(fam[1])
    assert fam[0].verdict == "held" and fam[0].family == 10


def test_not_testable_claims_stay_out_of_the_family():
    prem = Premise("converged", "final loss drop", 0.01)
    a = judge(Rule("a", 1, "θ", "greater", 0.0, "c", delta=0.1, premise=prem),
              _s("", [1.0, 1.1, 1.2], premise=[0.5, 0.5, 0.5]))
    b = judge(Rule("b", 1, "θ", "greater", 0.0, "c", delta=0.1), _s("", [1.0, 1.1, 1.2, 0.9]))
    fa, fb = family([a, b])
    assert fa.verdict == Outcome.NOT_TESTABLE.value and fb.family == 1 and fb.verdict == "held"


def test_the_family_withdraws_a_decision_but_never_turns_it_into_another():
    """An interval between margin − δ and the margin ('less' rule) is not held alone; if Holm over the report lifts
    its not-held p-value above α/2 it becomes underpowered — never held, although its held-side p-value is tiny."""
    rule = Rule("l", 1, "spread ÷ travel", "less", 1.0, "one", delta=0.5)
    between = judge(rule, _s("", [0.52, 0.60, 0.56, 0.64, 0.58]))  # interval inside (0.5, 1): 'not held' alone
    assert between.alone == "not held" and between.p_held < 1e-4 and 0.0025 < between.p_not < 0.025
    other = judge(Rule("o", 1, "θ", "greater", 0.0, "zero", delta=0.1), _s("", [0.3, -0.2, 0.5, 0.1]))
    fam = family([between, other, other, other, other, other, other, other, other, other])
    assert fam[0].verdict == "underpowered"  # the not-held side no longer clears Holm's level; held was never reached
    for v in fam:
        assert not (v.alone == "not held" and v.verdict == "held") and not (v.alone == "held" and v.verdict == "not held")
        assert v.verdict in (v.alone, "underpowered")
