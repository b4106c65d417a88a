"""Theory II §4.4 / App. B perturb-and-retrain, Theory II §5 toy basins and Freeman–Bruna DSS: their rules,
premises and replicates.

Each rule is shown a positive and a negative control (constructed replicate values that must give
'held' and 'not held'), its premise gate is shown to block both outcomes, and each experiment's MICRO
preset runs end to end with findings for every claim whose seeds are the roots of its replicates.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from landscape_core.runs import RunDir
from empirics.experiments import ExperimentContext, OUTCOMES
from empirics.experiments import freeman_bruna_dss as dss
from empirics.experiments import theory2_basins as basins
from empirics.experiments import theory2_perturb as perturb
from empirics.experiments.verdicts import Sample, judge, replicate_seeds
from replicates import assert_independent

ROOTS = replicate_seeds(0, 6)


def _ctx(tmp_path, name: str, dataset: str | None = "digits") -> ExperimentContext:
    return ExperimentContext("smoke", 0, "cpu", "data", dataset, RunDir(tmp_path, name))


# ----------------------------------------------------------------------------------------------
# §4.4: synthetic replicates through the experiment's own statistics


def _replicate(root: int, rng, found=0.02, flat=0.01, d=0.2, lower=-0.01, walls=0.001, error=0.0) -> dict:
    """One replicate's analyses with the five §4.4 statistics set (plus small noise) and M_final's error."""
    e = lambda s: float(s * rng.standard_normal())  # noqa: E731
    t = [0.0, 0.25, 0.5, 0.75, 1.0]
    test = [0.2, 0.2, 0.2 + lower + e(0.002), 0.2, 0.2]
    loss = [0.03, 0.03 + walls / 2, 0.03 + walls + e(1e-4), 0.03 + walls / 2, 0.03]
    mf_loss = 0.03
    twin = 0.3
    return {"root": root,
            "base": {"Mfinal": {"train_error": error, "train_loss": mf_loss}, "twin": {"train_error": 0.0}},
            "M5": {"final_losses": [found + e(0.003)] * 2, "final_errors": [0.0, 0.0], "disagreement": 0.3},
            "M30": {"final_losses": [found + e(0.003)] * 2, "final_errors": [0.0, 0.0], "disagreement": 0.2},
            "Mfinal": {"start_losses": [mf_loss + flat + e(0.002)] * 2, "start_errors": [0.0, 0.0],
                       "disagreement": twin * (d + e(0.01)), "twin_disagreement": twin,
                       "interpolation": {"after retraining": {"t": t, "test_error": test, "train_loss": loss}}}}


def _perturb(**kw) -> dict:
    rng = np.random.default_rng(1)
    return {f.claim: f for f in perturb.perturb_findings([_replicate(r, rng, **kw) for r in ROOTS])}


def test_perturb_rules_hold_on_constructed_zero_error_minima_that_behave_as_the_paper_says():
    """§4.4: low loss after retraining, a small rise under perturbation, retrained models closer than a twin but
    not identical, a lower midpoint and no wall: every rule (v2) says held."""
    fs = _perturb()
    assert {k: f.verdict for k, f in fs.items()} == {k: "held" for k in fs}
    assert all(f.replicates == len(ROOTS) and f.premise_value == [0.0] * len(ROOTS) for f in fs.values())


@pytest.mark.parametrize("claim, kw", [
    ("global-minima-found", {"found": 0.5}),
    ("flat-global-minima", {"flat": 0.8}),
    ("similar-but-distinct", {"d": 0.95}),       # not similar: as far apart as independent trainings
    ("similar-but-distinct", {"d": 0.001}),      # not distinct: the retrained models agree everywhere
    ("interpolation-lower", {"lower": 0.02}),
    ("no-walls", {"walls": 0.6}),
])
def test_each_perturb_rule_says_not_held_when_its_effect_is_absent(claim, kw):
    """Negative controls: each statistic set on the wrong side of its margin by more than δ gives 'not held'."""
    assert _perturb(**kw)[claim].verdict == "not held"


def test_perturb_premise_blocks_held_and_not_held_alike():
    """M_final not at zero training error: no replicate reaches the premise, so every claim (good or bad values)
    is 'not testable here', with the measured errors shown."""
    for kw in ({}, {"found": 0.5, "flat": 0.8, "walls": 0.6}):
        fs = _perturb(error=0.05, **kw)
        assert {f.verdict for f in fs.values()} == {"not testable here"}
        assert all(f.premise_value == [0.05] * len(ROOTS) for f in fs.values())


def test_perturb_replicates_sharing_a_root_are_refused():
    from landscape_core.errors import SharedStreamError

    rng = np.random.default_rng(0)
    with pytest.raises(SharedStreamError):
        perturb.perturb_findings([_replicate(ROOTS[0], rng) for _ in range(3)])


def test_min_margin_is_positive_exactly_when_every_example_is_classified_correctly():
    logits = torch.tensor([[2.0, 0.5, 0.0], [0.0, 1.0, 3.0]])
    assert perturb.min_margin(logits, torch.tensor([0, 2])) == pytest.approx(1.5)
    assert perturb.min_margin(logits, torch.tensor([0, 1])) == pytest.approx(-2.0)


def _small(root: int, rng, margin=3.0, ratio=4.0, error=0.0) -> dict:
    start = 1e-4
    return {"root": root, "base": {"Mfinal": {"train_error": error}},
            "analysis": {"min_margins": [[margin + 0.2 * rng.standard_normal()] * 3] * 2, "max_errors": [0.0, 0.0],
                         "start_cos_layer2": [start], "final_cos_layer2": [start * ratio * np.exp(0.05 * rng.standard_normal())]}}


def test_app_b_rules_positive_and_negative_controls():
    """App. B (v2): margins of 3 logits at every epoch → zero error throughout held, margins below zero → not held;
    runs ending 4× farther apart than the perturbation put them → different held, 0.7× → not held."""
    rng = np.random.default_rng(2)
    good = {f.claim: f.verdict for f in perturb.small_findings([_small(r, rng) for r in ROOTS])}
    bad = {f.claim: f.verdict for f in perturb.small_findings([_small(r, rng, -0.5, 0.7) for r in ROOTS])}
    gated = {f.claim: f.verdict for f in perturb.small_findings([_small(r, rng, error=0.1) for r in ROOTS])}
    assert good == {"zero-error-throughout": "held", "small-perturbation-different": "held"}
    assert bad == {"zero-error-throughout": "not held", "small-perturbation-different": "not held"}
    assert set(gated.values()) == {"not testable here"}


# ----------------------------------------------------------------------------------------------
# DSS and the toy basins


def test_dss_rule_positive_negative_and_premise():
    """Rule dss-curvier-at-lower-loss@v2: slopes well above δ = 0.05 held; slopes near 0 (straight level sets at every
    level) not held; end models not at zero error: not testable here."""
    rng = np.random.default_rng(3)
    up = 0.3 + 0.02 * rng.standard_normal(6)
    flat = 0.005 * rng.standard_normal(6)
    assert judge(dss.RULE, Sample("p", up, ROOTS, premise=[0.0] * 6)).verdict == "held"
    assert judge(dss.RULE, Sample("p", flat, ROOTS, premise=[0.0] * 6)).verdict == "not held"
    assert judge(dss.RULE, Sample("p", up, ROOTS, premise=[0.1] * 6)).verdict == "not testable here"


def test_fractal_rule_positive_and_negative_controls():
    """Rule toy-fractal-walls@v2: end barriers ten times the finest wall → held; barriers a thousandth of it
    (no wall found) → not held; the floor keeps a zero barrier finite."""
    finest = 0.1 * 4.0**-3
    rng = np.random.default_rng(4)
    high = [basins.fractal_statistic(10 * finest * np.exp(0.3 * z), finest) for z in rng.standard_normal(6)]
    none = [basins.fractal_statistic(finest * 1e-3 * np.exp(0.3 * z), finest) for z in rng.standard_normal(6)]
    assert judge(basins.RULE_FRACTAL, Sample("t", high, ROOTS)).verdict == "held"
    assert judge(basins.RULE_FRACTAL, Sample("t", none, ROOTS)).verdict == "not held"
    assert basins.fractal_statistic(0.0, finest) == pytest.approx(-3.0)


def test_no_verdict_is_rewritten_after_the_engine():
    here = Path(__file__).resolve().parents[1] / "empirics" / "experiments"
    for name in ("theory2_perturb.py", "theory2_basins.py", "freeman_bruna_dss.py"):
        assert "replace(v" not in (here / name).read_text(), name


# ----------------------------------------------------------------------------------------------
# MICRO runs: every claim found, seeds are replicate roots, no draw shared between replicates


def _check_replicates(ctx: ExperimentContext, rep, n: int, trains: bool = True) -> None:
    roots = [r.root for r in ctx.replicates(n)]
    assert rep.measured["replicate_roots"] == roots
    for f in rep.findings:
        assert f.verdict in OUTCOMES
        if f.judged is not None:
            for t in f.judged.tests:
                assert set(t.seeds) <= set(roots)
                assert not t.premise_values or len(t.premise_values) == n
    assert len(assert_independent(ctx, rep)) == (n if trains else 0)


@pytest.mark.slow
def test_perturb_micro_run_finds_every_claim_with_replicate_roots(tmp_path, one_thread):
    ctx = _ctx(tmp_path, "perturb")
    rep = perturb.run(ctx, perturb.MICRO)
    assert [f.claim for f in rep.findings] == [c.key for c in perturb.CLAIMS]
    _check_replicates(ctx, rep, perturb.MICRO.replicates)
    an = json.loads((ctx.run.path / "stages" / "r00" / "analyse_M30.json").read_text())
    cc = np.array(an["agreement"]["correct_given_correct"], dtype=float)
    assert cc.shape == (3, 3) and np.allclose(np.diag(cc), 1.0)
    assert an["interpolation"]["after retraining"]["t"][0] == 0.0
    assert an["mds"]["2"]["labels"][:3] == ["0", "1", "2"]  # epochs after the perturbation, as on Figs 14–16
    files = {f for f, _ in rep.figures}
    assert {"fig18_M5_agreement.png", "fig25_M30_interpolation.png", "fig32_Mfinal_interpolation.png"} <= files


def test_small_perturb_micro_run_perturbs_by_mean_magnitude(tmp_path, one_thread):
    """App. B: each retraining starts at M_final + N(0, (0.01·mean|w|)²) per tensor (std of the difference over
    mean|w| ≈ α), and the two runs start apart."""
    from empirics.train import load_run

    ctx = _ctx(tmp_path, "small")
    p = perturb.replace(perturb.MICRO, alpha=0.01)
    rep = perturb.run_small(ctx, p)
    assert [f.claim for f in rep.findings] == [c.key for c in perturb.SMALL_CLAIMS]
    _check_replicates(ctx, rep, p.replicates)
    r0 = ctx.run.path / "stages" / "r00"
    src = load_run(r0 / "gd").models[0]
    starts = load_run(r0 / "retrain_Mfinal_mean_abs", epoch=0).models
    for p0, p1 in zip(src.parameters(), starts[0].parameters()):
        if p0.numel() >= 30:  # biases: too few weights to estimate a std
            assert 0.005 < float((p1.detach() - p0.detach()).std() / p0.detach().abs().mean()) < 0.02
    flat = [torch.cat([q.reshape(-1) for q in m.parameters()]) for m in starts]
    assert not torch.equal(flat[0], flat[1])


def test_dss_micro_run_finds_the_claim_with_replicate_roots(tmp_path, one_thread):
    ctx = _ctx(tmp_path, "dss")
    rep = dss.run(ctx, dss.MICRO)
    assert [f.claim for f in rep.findings] == [dss.CLAIM.key]
    _check_replicates(ctx, rep, dss.MICRO.pairs)


def test_basins_micro_run_reports_design_facts_by_construction(tmp_path):
    ctx = _ctx(tmp_path, "basins", None)
    rep = basins.run(ctx, basins.MICRO)
    fs = {f.claim: f for f in rep.findings}
    assert fs["perturbation-never-lowers"].verdict == fs["basin-interpolation"].verdict == "by construction"
    assert fs["fractal-walls"].rule == basins.RULE_FRACTAL.tag and fs["fractal-walls"].verdict in OUTCOMES
    _check_replicates(ctx, rep, basins.MICRO.replicates, trains=False)
    assert (ctx.run.path / "stages" / "r01" / "toy-landscapes.json").exists()
