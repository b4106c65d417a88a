"""Theory II CNN experiments (§4.2–4.4, App. B, §6.1): machinery at micro scale, the verdict rules on constructed
controls, smoke scale on real data (slow)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from landscape_core.runs import RunDir
from empirics.experiments import ExperimentContext, OUTCOMES, registry, run_experiment
from empirics.experiments import common, theory2_gd, theory2_random_labels, theory2_sgd
from empirics.models import PaperCNN, count_params
from replicates import assert_independent, replicate_configs

THEORY2 = ("ii-sgd-stages", "ii-gd-branches", "ii-perturb-retrain", "ii-small-perturb", "ii-random-labels")


def _ctx(tmp_path, name: str, dataset: str = "digits") -> ExperimentContext:
    return ExperimentContext("smoke", 0, "cpu", "data", dataset, RunDir(tmp_path, name))


def test_registry_lists_every_theory2_experiment_with_its_section():
    exps = registry()
    for name in THEORY2:
        assert name in exps
        assert exps[name].reference.startswith("Theory II")
        assert exps[name].claims and all(c.quote for c in exps[name].claims)


def test_paper_layer_numbering_counts_the_input_as_layer_1():
    # Theory II §4.1: "6-layer (with the 1st layer being the input)": layer 2 is the first convolution.
    model = PaperCNN(3, 10)
    first = model.net[0]
    last = model.net[-1]
    assert len(common.paper_layer_columns(model, 2)) == first.weight.numel() + first.bias.numel()
    assert len(common.paper_layer_columns(model, 6)) == last.weight.numel() + last.bias.numel()
    total = sum(len(common.paper_layer_columns(model, L)) for L in range(2, 7))
    assert total == count_params(model) == 188_810


def _assert_whole_independent_replicates(ctx, rep, n: int):
    """Every finding is judged; every replicate trains, and they share no draw (`replicates.assert_independent`)."""
    for f in rep.findings:
        assert f.judged is not None, f.claim
    assert assert_independent(ctx, rep) == {f"r{i:02d}" for i in range(n)}


def test_sgd_stages_micro_run_judges_whole_chains(tmp_path, one_thread):
    """ii-sgd-stages: one whole chain per replicate; findings for every claim with replicate roots as seeds."""
    ctx = _ctx(tmp_path, "sgd")
    p = theory2_sgd.MICRO
    rep = theory2_sgd.run(ctx, p)
    assert {f.claim for f in rep.findings} == {c.key for c in theory2_sgd.CLAIMS}
    assert all(f.verdict in OUTCOMES for f in rep.findings)
    # MICRO: replicate 0's chain of 2 stages × 2 trajectories × 2 epochs plus the initial model.
    assert rep.measured["points"] == p.stages * p.trajectories * p.epochs + 1
    assert all(len(f.premise_value) == p.replicates for f in rep.findings)
    _assert_whole_independent_replicates(ctx, rep, p.replicates)
    for file, _ in rep.figures:
        assert (ctx.run.path / file).stat().st_size > 10_000
    # Stage-level resume: a second run reads every stage back.
    ctx2 = _ctx(tmp_path, "sgd")
    theory2_sgd.run(ctx2, p)
    assert ctx2.stages_run == [] and "r00/measure" in ctx2.stages_loaded


def test_gd_branches_micro_run_gives_each_replicate_its_own_main_trajectory(tmp_path, one_thread):
    """ii-gd-branches: each replicate trains its own main trajectory and branches from it; MDS of replicate 0."""
    ctx = _ctx(tmp_path, "gd")
    p = theory2_gd.MICRO
    rep = theory2_gd.run(ctx, p)
    assert {f.claim for f in rep.findings} == {c.key for c in theory2_gd.CLAIMS}
    _assert_whole_independent_replicates(ctx, rep, p.replicates)
    m = json.loads((ctx.run.path / "stages" / "r00" / "measure.json").read_text())
    res = m["alphas"]["0.25"]["mds"]
    groups = res["group"]
    assert groups.count("main") == p.epochs + 1
    for b in p.branch_at:
        assert groups.count(f"branch @{b}") == groups.count(f"average @{b}") == p.epochs - b + 1
    # every branch starts from its own replicate's main trajectory at the branch epoch
    for tag, cfg in ((t, c) for t, cs in replicate_configs(ctx.run.path).items() if t for c in cs):
        if cfg.get("perturb"):
            folder, epoch = cfg["init_from"].rsplit(":", 1)
            assert folder.endswith(f"stages/{tag}/main") and int(epoch) in p.branch_at


def test_random_labels_micro_run_pairs_two_chains_per_replicate(tmp_path, one_thread):
    """ii-random-labels: a natural and a random-label chain per replicate, compared within the replicate."""
    ctx = _ctx(tmp_path, "rl")
    p = theory2_random_labels.MICRO
    rep = theory2_random_labels.run(ctx, p)
    (f,) = rep.findings
    assert f.rule == theory2_random_labels.RULE.tag
    assert len(f.premise_value) == p.replicates
    _assert_whole_independent_replicates(ctx, rep, p.replicates)
    tags = {tag for tag, cs in replicate_configs(ctx.run.path).items() if tag for c in cs if c["random_labels"] == 1.0}
    assert tags == {f"r{i:02d}" for i in range(p.replicates)}


def test_no_verdict_is_rewritten_after_the_engine():
    """Issue 23: the engine's outcome is final; no `replace(v, verdict=...)` in these experiments."""
    import inspect

    for mod in (theory2_gd, theory2_sgd, theory2_random_labels):
        assert "replace(v" not in inspect.getsource(mod)


@pytest.mark.slow
@pytest.mark.parametrize("name", THEORY2)
def test_smoke_scale_runs_on_the_default_real_data(tmp_path, one_thread, name):
    rep, path = run_experiment(name, "smoke", 0, "cpu", "data", None, str(tmp_path))
    assert rep.seconds < 600  # 2 minutes on 2 idle cores; generous for a shared, loaded machine
    text = path.read_text()
    assert "## Deviations from the paper" in text and all(f.verdict.upper() in text for f in rep.findings)
    for file, _ in rep.figures:
        assert (path.parent / file).exists()


ROOTS = [11, 22, 33, 44, 55, 66]


def _noisy(center: float, sd: float, n: int = 6, seed: int = 0) -> list[float]:
    return (center + sd * np.random.default_rng(seed).standard_normal(n)).tolist()


def _gd_stats(n: int = 6, premise: float = 0.0, **centers) -> list[dict]:
    """Constructed per-replicate statistics of `theory2_gd.replicate_statistics`, each around its given centre."""
    base = dict(worst_loss_fraction=(0.01, 0.003), separation_change=(-0.5, 0.05), kept=(1.0, 0.1),
                travel_over_injected=(2.0, 0.1), interp_excess=(0.0, 0.005), disagreement_difference=(0.1, 0.01))
    base.update(centers)
    cols = {k: _noisy(c, s, n, i) for i, (k, (c, s)) in enumerate(base.items())}
    out = []
    for i in range(n):
        out.append({"main_final_error": premise, "worst_final_error": 0.0, "separation": [0.5, 0.2, 0.0],
                    "kept": [cols["kept"][i]] * 3, "travel_over_injected": [cols["travel_over_injected"][i]] * 3,
                    "interp_excess_train": 0.0, "disagreement_small": [0.1] * 3, "disagreement_large": [0.2] * 3,
                    **{k: cols[k][i] for k in ("worst_loss_fraction", "separation_change", "interp_excess",
                                               "disagreement_difference")}})
    return out


GD_P = theory2_gd.GDBranchesPreset(epochs=10, branch_at=(0, 3, 6), alphas=(0.25, 1.0), lr=0.5, every=1, subset=10,
                                   widths=(4, 4, 4, 4), replicates=6)


def _gd_verdicts(stats) -> dict:
    return {f.claim: f.verdict for f in theory2_gd.findings(stats, ROOTS[:len(stats)], GD_P)}


def test_gd_rules_hold_on_a_constructed_positive_control():
    """Rules gd-*@v2: branches that reach the global minimum, separate less when started later, keep their gap
    where GD moves farther than the noise, average well, and disagree more with larger noise: every claim held."""
    assert set(_gd_verdicts(_gd_stats()).values()) == {"held"}


def test_gd_rules_fail_on_a_constructed_negative_control():
    """A stuck branch (a tenth of the loss left), no change with the branch epoch, GD closing the gap, averages
    10 points worse, no more disagreement with larger noise: every claim not held."""
    neg = _gd_stats(worst_loss_fraction=(0.1, 0.01), separation_change=(0.0, 0.02), kept=(0.0, 0.01),
                    interp_excess=(0.1, 0.01), disagreement_difference=(0.0, 0.002))
    assert set(_gd_verdicts(neg).values()) == {"not held"}


def test_gd_premises_gate_both_directions():
    """A main trajectory short of zero training error makes every premise-gated claim not testable, whether its
    statistics say held or not held; a kept fraction where GD moves less than the noise is not testable either."""
    for stats in (_gd_stats(premise=0.2), _gd_stats(premise=0.2, worst_loss_fraction=(0.3, 0.01))):
        v = _gd_verdicts(stats)
        assert {v[k] for k in v if k != "perturbation-different"} == {"not testable here"}
    v = _gd_verdicts(_gd_stats(travel_over_injected=(0.3, 0.05)))
    assert v["perturbation-different"] == "not testable here"


def _chain(spread: float, rho: float, err: float = 0.0) -> dict:
    return {"spread_over_travel": spread, "layer_rho_2_5": rho, "final_p_error": err, "min_cos_between_reruns": 1e-3,
            "start_error": 0.9, "per_stage_spread": [spread]}


def test_sgd_rules_on_constructed_controls():
    """Rules sgd-reruns-slightly-different@v2 and layers-alike@v2, one value per chain: reruns far closer to each
    other than to their start and layers that order models alike hold; independent-looking reruns (spread/travel
    near √2) and unrelated layers do not; a chain short of zero training error is not testable."""
    pos = [_chain(s, r) for s, r in zip(_noisy(0.4, 0.03, seed=1), _noisy(0.95, 0.01, seed=2))]
    neg = [_chain(s, r) for s, r in zip(_noisy(1.4, 0.03, seed=1), _noisy(0.3, 0.05, seed=2))]
    short = [_chain(s, r, 0.1) for s, r in zip(_noisy(0.4, 0.03, seed=1), _noisy(0.95, 0.01, seed=2))]
    assert [f.verdict for f in theory2_sgd.sgd_findings(pos, ROOTS)] == ["held", "held"]
    assert [f.verdict for f in theory2_sgd.sgd_findings(neg, ROOTS)] == ["not held", "not held"]
    assert [f.verdict for f in theory2_sgd.sgd_findings(short, ROOTS)] == ["not testable here"] * 2


def test_random_labels_rule_on_constructed_controls():
    """Rule labels-no-difference@v2: descriptors within a tenth of their units on both label sets hold; a layer
    correlation that drops by 0.5 with random labels is not held; unfitted random labels are not testable."""
    nat = [_chain(s, r) for s, r in zip(_noisy(0.4, 0.02, seed=1), _noisy(0.95, 0.01, seed=2))]
    same = [_chain(s, r) for s, r in zip(_noisy(0.4, 0.02, seed=3), _noisy(0.95, 0.01, seed=4))]
    apart = [_chain(s, r) for s, r in zip(_noisy(0.4, 0.02, seed=3), _noisy(0.45, 0.02, seed=4))]
    unfit = [_chain(s, r, 0.3) for s, r in zip(_noisy(0.4, 0.02, seed=3), _noisy(0.95, 0.01, seed=4))]
    assert theory2_random_labels.compare(nat, same, ROOTS).verdict == "held"
    assert theory2_random_labels.compare(nat, apart, ROOTS).verdict == "not held"
    assert theory2_random_labels.compare(nat, unfit, ROOTS).verdict == "not testable here"


def test_replicates_sharing_a_root_are_refused():
    """A verdict fed two replicates with one root seed (e.g. stages of one chain) is refused."""
    from landscape_core.errors import SharedStreamError

    chains = [_chain(0.4, 0.9)] * 3
    with pytest.raises(SharedStreamError):
        theory2_sgd.sgd_findings(chains, [5, 5, 6])


def test_a_run_continues_only_with_the_preset_it_was_made_with(tmp_path):
    """ExperimentContext.preset pins the sizes in the run folder: the same preset is read back, another is refused
    (stage results are cached by name, so two protocols must never mix in one folder)."""
    from dataclasses import replace

    from landscape_core.errors import CheckpointError

    presets = theory2_sgd.PRESETS
    assert _ctx(tmp_path, "pin").preset(presets) == presets["smoke"]
    assert _ctx(tmp_path, "pin").preset(presets) == presets["smoke"]
    with pytest.raises(CheckpointError, match="other sizes"):
        _ctx(tmp_path, "pin").preset(presets, replace(presets["smoke"], epochs=presets["smoke"].epochs + 1))
