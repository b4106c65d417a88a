"""The verdict engine is calibrated: held at the stated rate when the claim holds by construction, not held
when it fails by construction, underpowered with too few replicates, and never confidently wrong more often
than α/2.

Each calibration draws R synthetic data sets at once (vectorised) with a known θ, judges them all, and
compares the verdict rates with the level the rule states (α/2 = 0.025 one-sided); Monte-Carlo error at
R = 20,000 is about 0.0011 on a rate of 0.025.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from empirics.experiments.verdicts import ALPHA, Rule, Sample, combine, decide, holm, judge, t_stats

R = 20_000


def _codes(values, direction, margin, control=None):
    est, se, df = t_stats(values, control)
    return decide(est, se, df, direction, margin)["code"]


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
    """θ exactly at the margin (the claim fails: the effect does not exceed what matters)."""
    for n in (3, 5, 12):
        r = _rates(_codes(0.5 + rng.standard_normal((R, n)), "greater", 0.5))
        assert abs(r["held"] - ALPHA / 2) < 0.005, (n, r)
        assert abs(r["not held"] - ALPHA / 2) < 0.005, (n, r)


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
    one = judge(Rule("x", 1, "θ", "greater", 0.0, "zero"), Sample("one draw", [5.0]))
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
    d = decide(est, se, df, "greater", 0.5)
    naive = float((d["p_not"] < ALPHA / 2).any(axis=-1).mean())
    claim = combine(d["code"], d["p_not"])
    assert naive > 0.09
    assert float((claim == -1).mean()) < ALPHA / 2 + 0.004
    assert float((claim == 1).mean()) < 1e-3  # held needs every test: at the boundary almost never


def test_judge_interval_equals_scipy_t_interval_and_welch():
    x = [0.31, 0.42, 0.29, 0.38, 0.45]
    v = judge(Rule("t", 1, "θ", "greater", 0.0, "zero"), Sample("a", x))
    ci = stats.ttest_1samp(x, 0.0).confidence_interval(0.95)
    assert v.low == pytest.approx(ci.low) and v.high == pytest.approx(ci.high) and v.verdict == "held"
    a, b = [5.1, 6.3, 5.8, 7.0], [4.0, 4.4, 3.9, 4.6, 4.1, 4.3]
    w = judge(Rule("w", 1, "Δ", "greater", 0.0, "group b"), Sample("a − b", a, b))
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert w.low == pytest.approx(ci.low) and w.high == pytest.approx(ci.high)
    assert w.tests[0].control_replicates == 6


def test_claim_with_one_failing_test_is_not_held_and_names_it():
    rule = Rule("sweep", 1, "θ", "greater", 0.0, "zero")
    good = [Sample(f"d = {d}", [1.0 + 0.01 * i for i in range(6)]) for d in (1, 2)]
    bad = Sample("d = 3", [-1.0 - 0.01 * i for i in range(6)])
    v = judge(rule, good + [bad])
    assert v.verdict == "not held" and v.tests[v.decisive].label == "d = 3"
    assert judge(rule, good).verdict == "held"


def test_rule_tag_and_validation():
    from landscape_core.errors import InvalidSpecError

    assert Rule("a", 3, "θ", "less", 0.0, "c").tag == "a@v3"
    with pytest.raises(InvalidSpecError):
        Rule("a", 1, "θ", "within", 0.0, "c")
    with pytest.raises(InvalidSpecError):
        Rule("a", 1, "θ", "up", 0.0, "c")


def test_report_prints_estimate_interval_replicates_and_rule_version():
    from empirics.experiments import Claim, ExperimentReport
    from empirics.experiments.report import render_markdown
    from empirics.experiments.verdicts import finding

    rule = Rule("demo-rule", 2, "gap", "greater", 0.0, "the control arm")
    f = finding("c", judge(rule, Sample("", [1.0, 1.2, 0.9, 1.1])))
    rep = ExperimentReport("x", "X", "ref", "smoke", 0, ("p",), (), (Claim("c", "P", "§1", "q"),), (f,), {}, (), 1.0)
    text = render_markdown(rep)
    assert "demo-rule@v2" in text and "| held |" in text and "[0.8" in text and "| 4 |" in text


def test_holm_interval_of_a_not_held_test_misses_the_margin_and_single_tests_need_none():
    """A claim's 'not held' test has its Holm-level interval clear of the margin; one test: Holm = 95 %."""
    rule = Rule("w", 1, "θ", "within", 1.0, "zero")
    ok = Sample("ok", [0.1, -0.1, 0.05, 0.0])
    bad = Sample("bad", [3.0, 3.1, 2.9, 3.05])
    v = judge(rule, [ok, bad])
    t = v.tests[v.decisive]
    assert v.verdict == "not held" and t.label == "bad" and t.low_holm > 1.0 and t.low_holm <= t.low
    one = judge(rule, ok).tests[0]
    assert one.low_holm == pytest.approx(one.low) and one.high_holm == pytest.approx(one.high)
