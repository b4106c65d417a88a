"""Theory II CNN experiments (§4.2–4.4, App. B, §6.1): machinery at micro scale, smoke scale on real data (slow)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from landscape_core.runs import RunDir
from empirics.experiments import ExperimentContext, VERDICTS, registry, run_experiment
from empirics.experiments import common, theory2_gd, theory2_perturb, theory2_random_labels, theory2_sgd
from empirics.models import PaperCNN, count_params

THEORY2 = ("ii-sgd-stages", "ii-gd-branches", "ii-perturb-retrain", "ii-small-perturb", "ii-random-labels")


@pytest.fixture
def one_thread():
    """Run torch on one thread: on a shared 2-core machine two threads contend and run many times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


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


def test_mean_abs_start_perturbs_each_tensor_by_its_mean_magnitude(tmp_path, one_thread):
    from empirics.train import ModelSpec, TrainConfig, load_run, train

    src = tmp_path / "src"
    cfg = TrainConfig(dataset="digits", subset=60, model=ModelSpec(widths=(4, 4, 4, 4)), epochs=0, seed=3)
    train(cfg, src, device="cpu")
    start = tmp_path / "start"
    train(TrainConfig(**{**cfg.to_dict(), "trajectories": 2, "init_from": str(src)}), start, device="cpu")
    theory2_perturb.mean_abs_start(str(start), 0.01, seed=5)
    theory2_perturb.mean_abs_start(str(start), 0.01, seed=5)  # a second call leaves it alone
    w0 = [p.detach() for p in load_run(src).models[0].parameters()]
    runs = load_run(start).models
    for k in range(2):
        for p0, p in zip(w0, runs[k].parameters()):
            if p0.numel() < 30:  # biases: too few weights to estimate a std
                continue
            ratio = float((p.detach() - p0).std() / p0.abs().mean())
            assert 0.005 < ratio < 0.02  # σ = 0.01 · mean|w|, estimated from a few weights
    d = [torch.cat([p.reshape(-1) for p in m.parameters()]) for m in runs]
    assert not torch.equal(d[0], d[1])


def test_sgd_stages_machinery_at_micro_scale(tmp_path, one_thread):
    ctx = _ctx(tmp_path, "sgd")
    rep = theory2_sgd.run(ctx, theory2_sgd.MICRO)
    assert {f.claim for f in rep.findings} == {c.key for c in theory2_sgd.CLAIMS}
    assert all(f.verdict in VERDICTS for f in rep.findings)
    # MICRO: 2 stages × 2 trajectories × 2 epochs plus the initial model.
    assert rep.measured["points"] == 2 * 2 * 2 + 1
    for file, _ in rep.figures:
        assert (ctx.run.path / file).stat().st_size > 10_000
    # Stage-level resume: a second run reads every stage back.
    ctx2 = _ctx(tmp_path, "sgd")
    theory2_sgd.run(ctx2, theory2_sgd.MICRO)
    assert ctx2.stages_run == [] and "measure" in ctx2.stages_loaded


@pytest.mark.slow
def test_gd_branches_put_interpolated_models_into_the_mds(tmp_path, one_thread):
    ctx = _ctx(tmp_path, "gd")
    p = theory2_gd.MICRO
    rep = theory2_gd.run(ctx, p)
    m = json.loads((ctx.run.path / "stages" / "measure.json").read_text())
    res = m["alphas"]["0.25"]["mds"]
    groups = res["group"]
    # main epochs 0..4, each branch (epochs b..4) and its averages with the main trajectory.
    assert groups.count("main") == p.epochs + 1
    for b in p.branch_at:
        assert groups.count(f"branch @{b}") == groups.count(f"average @{b}") == p.epochs - b + 1
    assert len(res["coords"]) == len(groups)
    assert {f.claim for f in rep.findings} == {c.key for c in theory2_gd.CLAIMS}


@pytest.mark.slow
def test_perturb_retrain_machinery_at_micro_scale(tmp_path, one_thread):
    ctx = _ctx(tmp_path, "perturb")
    rep = theory2_perturb.run(ctx, theory2_perturb.MICRO)
    assert {f.claim for f in rep.findings} == {c.key for c in theory2_perturb.CLAIMS}
    an = json.loads((ctx.run.path / "stages" / "analyse_M30.json").read_text())
    cc = np.array(an["agreement"]["correct_given_correct"], dtype=float)
    assert cc.shape == (3, 3) and np.allclose(np.diag(cc), 1.0)
    rows = an["interpolation"]
    assert rows["after retraining"]["t"][0] == 0.0 and rows["after retraining"]["t"][-1] == 1.0
    # Epoch labels, as the paper writes them on Figs 14–16.
    assert an["mds"]["2"]["labels"][:3] == ["0", "1", "2"]
    files = {f for f, _ in rep.figures}
    assert {"fig18_M5_agreement.png", "fig25_M30_interpolation.png", "fig32_Mfinal_interpolation.png"} <= files


@pytest.mark.slow
def test_random_labels_compares_the_two_label_sets(tmp_path, one_thread):
    ctx = _ctx(tmp_path, "rl")
    rep = theory2_random_labels.run(ctx, theory2_random_labels.MICRO)
    (f,) = rep.findings
    assert set(f.measured["same"]) == {"reruns slightly different", "layers alike", "training error falls"}
    # engine rule labels-no-difference@v1: per-stage paired differences, so the verdict comes with an interval
    assert f.rule == "labels-no-difference@v1" and f.replicates == theory2_random_labels.MICRO.stages


@pytest.mark.slow
@pytest.mark.parametrize("name", THEORY2)
def test_smoke_scale_runs_on_the_default_real_data(tmp_path, one_thread, name):
    rep, path = run_experiment(name, "smoke", 0, "cpu", "data", None, str(tmp_path))
    assert rep.seconds < 600  # 2 minutes on 2 idle cores; generous for a shared, loaded machine
    text = path.read_text()
    assert "## Deviations from the paper" in text and all(f.verdict.upper() in text for f in rep.findings)
    for file, _ in rep.figures:
        assert (path.parent / file).exists()


def _gd_summary(kept_by_branch: dict, draws: int, end_err: float = 0.0, falling: bool = False) -> dict:
    """A synthetic `theory2_gd.measure` summary: per α and draw, branches whose kept fraction is given."""
    rng = np.random.default_rng(0)
    alphas = {}
    for a, inj in (("0.25", 0.03), ("1.0", 0.29)):
        recs = []
        for b, kept in kept_by_branch.items():
            for i in range(draws):
                k = kept + 0.01 * rng.standard_normal()
                recs.append({"branch_at": b, "draw": i, "kept_layer2": [1.0] * 3 + [k] * 8,
                             "start_cos": {"2": inj, "3": inj}, "end_cos": {"2": inj * k, "3": inj * k},
                             "final_error": end_err, "average_excess_error_final": 0.0})
        alphas[a] = {"branches": recs}
    loss = [1.0, 0.9, 0.8, 0.7, 0.6] if falling else [1.0, 0.5, 0.2, 0.2, 0.2]
    return {"main": {"train_loss": loss, "train_error": [0.5, 0.3, 0.1, end_err, end_err]}, "alphas": alphas}


def test_gd_branch_verdicts_measure_distance_against_the_injected_noise():
    """Rules gd-*@v1: the raw distance grows with α by construction, so 'larger more separated' is judged on the
    kept fraction (equal here: not held/underpowered, never held); 'later less different' is a slope over
    branch epochs of the kept fraction (falling here: held); a still-falling loss cannot make 'not stuck' fail."""
    p = theory2_gd.GDBranchesPreset(epochs=10, branch_at=(0, 3, 6), alphas=(0.25, 1.0), lr=0.1, every=1, subset=10,
                                    widths=(4, 4, 4, 4), draws=4)
    fs = {f.claim: f for f in theory2_gd.findings(_gd_summary({0: 0.95, 3: 0.85, 6: 0.75}, 4), p)}
    assert fs["later-less-different"].verdict == "held" and fs["later-less-different"].interval[1] < 0
    assert fs["larger-more-separated"].verdict != "held"
    assert fs["perturbation-different"].verdict == "held"
    flat = {f.claim: f for f in theory2_gd.findings(_gd_summary({0: 0.9, 3: 0.9, 6: 0.9}, 4), p)}
    assert flat["later-less-different"].verdict != "held"
    short = {f.claim: f for f in theory2_gd.findings(_gd_summary({0: 0.9, 3: 0.9, 6: 0.9}, 4, 0.4, True), p)}
    assert short["gd-no-local-minima"].verdict == "underpowered"
    stuck = {f.claim: f for f in theory2_gd.findings(_gd_summary({0: 0.9, 3: 0.9, 6: 0.9}, 4, 0.4, False), p)}
    assert stuck["gd-no-local-minima"].verdict == "not held"
