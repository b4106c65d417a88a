"""Freeman & Bruna, Dynamic String Sampling on the DCNN: normalised geodesic length and beads vs loss level.

Two DCNNs trained by SGD from different initialisations are joined by `empirics.connectivity.
dynamic_string_sampling` at several loss levels L_0 (all above both end losses); the loss is the
full-batch cross-entropy on the training subset with batch statistics of that whole batch (training
mode batch norm: a function of the weights alone). The normalised length Σ‖θ_{i+1} − θ_i‖ / ‖θ_B − θ_1‖
measures how curved the level set Ω_F(L_0) is between the two models.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from landscape_core.seeds import child_seed
from empirics.connectivity import DSSConfig, dynamic_string_sampling
from empirics.device import pick_device
from empirics.experiments import Claim, Experiment, ExperimentContext, ExperimentReport
from empirics.experiments.verdicts import Rule, Sample, finding, judge
from empirics.experiments.theory2b_flatness import IMAGE_DATASETS, data_note, dataset_of, train_stage
from empirics.models import get_flat
from empirics.experiments.common import load_stage
from empirics.train import ModelSpec, TrainConfig

REF = "Freeman & Bruna (arXiv:1611.01540 draft) §3, Algorithm 1, §4.2"


@dataclass(frozen=True)
class DSSSettings:
    """Sizes at one scale: subset, CNN widths, SGD epochs/lr/batch for the two end models; level factors
    (L_0 = factor × the larger end loss, decreasing); interp_points, max_beads, max_steps, lr of DSS;
    test_subset: test examples training scores (None: all; DSS uses the training set only)."""

    subset: int
    widths: tuple[int, ...] | None
    epochs: int
    lr: float
    batch: int
    factors: tuple[float, ...]
    interp_points: int
    max_beads: int
    max_steps: int
    dss_lr: float = 1e-3
    test_subset: int | None = None
    pairs: int = 2  # independent pairs of end models (the replicates)


SETTINGS = {
    "smoke": DSSSettings(subset=128, widths=(8, 16, 16, 16), epochs=6, lr=0.1, batch=16, factors=(8.0, 3.0, 1.5),
                         interp_points=9, max_beads=8, max_steps=150, test_subset=500),
    # a bead that misses its level costs max_steps full-batch steps: 256 examples and 300 steps keep three
    # pairs within 15 minutes (1,000 examples and 1,000 steps took over 14 minutes for the first pair)
    "cpu": DSSSettings(subset=256, widths=(16, 32, 64, 32), epochs=20, lr=0.05, batch=16,
                       factors=(8.0, 4.0, 2.0, 1.3), interp_points=9, max_beads=12, max_steps=300,
                       test_subset=2000, pairs=3),
    "paper": DSSSettings(subset=10000, widths=None, epochs=40, lr=0.01, batch=100,
                         factors=(32.0, 16.0, 8.0, 4.0, 2.0, 1.3, 1.1), interp_points=33, max_beads=60,
                         max_steps=20000),
}

CLAIM = Claim(
    "curvier-at-lower-loss", "Freeman–Bruna", "Abstract and §3",
    "We study this question by estimating the geometry of level sets, and we introduce an algorithm to estimate the "
    "regularity of such sets on large-scale networks. Our empirical results suggest that these sets become "
    "exponentially more curvy as the energy level decays, in accordance to what is observed in practice.")


def _dss_stage(ctx: ExperimentContext, s: DSSSettings, pair: int = 0) -> dict:
    dev = pick_device(ctx.device)
    run, data = load_stage(ctx, "ends", dev)
    X, Y = data.x_train, data.y_train
    model = run.models[0]

    def loss_fn(m: torch.nn.Module) -> torch.Tensor:
        m.train()  # whole-set batch statistics: the loss is a function of the weights alone
        return torch.nn.functional.cross_entropy(m(X), Y)

    a, b = get_flat(run.models[2 * pair]), get_flat(run.models[2 * pair + 1])
    ends = []
    for th in (a, b):
        with torch.no_grad():
            torch.nn.utils.vector_to_parameters(th, model.parameters())
            ends.append(float(loss_fn(model)))
    top = max(ends)
    levels = []
    for i, f in enumerate(s.factors):
        cfg = DSSConfig(threshold=f * top, alpha=0.5, interp_points=s.interp_points, max_beads=s.max_beads,
                        max_steps=s.max_steps, lr=s.dss_lr,
                        seed=child_seed(ctx.seed, f"dss/{i}" + (f"/pair{pair}" if pair else "")))
        res = dynamic_string_sampling(model, loss_fn, a, b, cfg)
        out = res.to_dict(beads=False)
        out["segment_lengths"] = np.linalg.norm(np.diff(res.beads, axis=0), axis=1).tolist()
        out["factor"] = f
        levels.append(out)
    return {"end_losses": ends, "levels": levels}


RULE = Rule(
    "dss-curvier-at-lower-loss", 1, "least-squares slope of log(normalised geodesic length) against the level index "
    "(L₀ decreasing), connected levels of one pair of end models", "greater", 0.0,
    "the straight segment between the ends (normalised length 1, slope 0)",
    "Abstract: level sets 'become exponentially more curvy as the energy level decays' — log length rising")


def pair_slope(levels: list[dict]) -> float:
    """Return the slope of log(normalised length) over the connected levels' indices (NaN with fewer than two)."""
    idx = [i for i, lv in enumerate(levels) if lv["connected"]]
    if len(idx) < 2:
        return float("nan")
    x = np.array(idx, float)
    y = np.log([levels[i]["normalized_length"] for i in idx])
    return float((y - y.mean()) @ (x - x.mean()) / ((x - x.mean()) @ (x - x.mean())))


def _describe(levels: list[dict]) -> str:
    return "; ".join(f"L₀ = {lv['config']['threshold']:.3g}: normalised length {lv['normalized_length']:.4f}, "
                     f"{lv['n_beads']} beads{'' if lv['connected'] else ' (not connected: ' + lv['reason'] + ')'}"
                     for lv in levels)


def run(ctx: ExperimentContext) -> ExperimentReport:
    """Train two end models, run DSS at decreasing loss levels, judge the trend of the normalised length."""
    from empirics.experiments.plots2b import plot_dss

    s = SETTINGS[ctx.scale]
    cfg = TrainConfig(dataset=dataset_of(ctx), data_dir=ctx.data_dir, subset=s.subset,
                      data_seed=child_seed(ctx.seed, "data"), model=ModelSpec("paper-cnn", widths=s.widths),
                      optimizer="sgd", epochs=s.epochs, lr=s.lr, batch_size=s.batch, trajectories=2 * s.pairs,
                      seed=child_seed(ctx.seed, "dss/ends"), save_weights=False, test_subset=s.test_subset,
                      eval_every=s.epochs)  # only the end weights are used
    trained = train_stage(ctx, "ends", cfg)
    if trained["status"] != "finished":
        reason = f"training the end models diverged: {trained['message']}"
        return _report(ctx, s, finding(CLAIM.key, judge(RULE, Sample("none", [])), reason), {}, ())
    pairs = [ctx.stage("dss" if i == 0 else f"dss-p{i}", lambda i=i: _dss_stage(ctx, s, i)) for i in range(s.pairs)]
    res = pairs[0]
    slopes = [pair_slope(p["levels"]) for p in pairs]
    v = judge(RULE, Sample("pairs of end models", slopes))
    reason = (f"slopes per pair {', '.join(f'{x:.3g}' for x in slopes)} (NaN: fewer than two connected levels); pair 1: "
              + _describe(res["levels"]))
    plot_dss(res["levels"], ctx.path("dss_levels.png"))
    measured = {"end_losses": res["end_losses"],
                "levels": [{k: lv[k] for k in ("factor", "connected", "n_beads", "normalized_length", "path_length",
                                                "euclidean_distance", "train_steps", "segment_max_losses")}
                           | {"threshold": lv["config"]["threshold"]} for lv in res["levels"]]}
    measured["slopes"] = slopes
    return _report(ctx, s, finding(CLAIM.key, v, reason, measured), measured,
                   (("dss_levels.png", "Left: normalised geodesic length (circles: connected strings) and bead count "
                     "against L₀ (decreasing to the right). Right: loss at each bead against distance along the "
                     "string, dotted lines at L₀"),))


def _report(ctx, s, finding, measured, figures) -> ExperimentReport:
    protocol = [f"Train {2 * s.pairs} DCNNs (widths {s.widths or 'of the paper'}) from different initialisations by SGD "
                f"(lr {s.lr}, batch {s.batch}, {s.epochs} epochs) on {s.subset} training examples of {dataset_of(ctx)}.",
                "Loss F: full-batch cross-entropy on those examples, batch norm with the whole batch's statistics.",
                f"For L₀ = factor × max(F(θ_1), F(θ_2)), factors {s.factors}: greedy DSS (Algorithm 1): beads inserted "
                f"at the interpolated maximum (grid of {s.interp_points} points) and trained by full-batch RMSProp "
                f"(lr {s.dss_lr}, ≤ {s.max_steps} steps) to L₀/2, at most {s.max_beads} beads.",
                "Recorded: connected?, bead count, normalised length Σ‖θ_{i+1} − θ_i‖ / ‖θ_B − θ_1‖.",
                f"{s.pairs} disjoint pairs of end models (1–2, 3–4, ...) are the replicates; rule {RULE.tag}: "
                f"{RULE.describe()}."]
    deviations = [data_note(dataset_of(ctx)),
                  "the draft's CNN section (§4.2) is empty: no architecture, data or levels are given; here the "
                  "Theory II DCNN" + (f" with widths {s.widths}" if s.widths else ""),
                  "end models trained by SGD to the end of training, not 'to L₀' (Algorithm 1 lines 2–3); levels are "
                  "set relative to their losses",
                  f"training subset of {s.subset} examples"]
    return ExperimentReport("fb-dss-cnn", "Dynamic String Sampling on the DCNN: level-set curvature vs loss level", REF,
                            ctx.scale, ctx.seed, tuple(protocol), tuple(deviations), (CLAIM,), (finding,), measured,
                            tuple(figures), 0.0)


EXPERIMENTS = (
    Experiment("fb-dss-cnn", "Dynamic String Sampling between two trained DCNNs at decreasing loss levels", REF,
               (CLAIM,), run, IMAGE_DATASETS),
)
