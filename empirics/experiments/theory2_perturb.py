"""Theory II §4.4 (Figs 13–32) and Appendix B (Figs 35–38): perturb a model, retrain it with GD, compare.

Poggio & Liao, "Theory II: Landscape of the Empirical Risk in Deep Learning", arXiv:1703.09833.

§4.4: a DCNN is trained with "60 epochs of SGD (batch size = 100) and 400 epochs of Batch Gradient
Descent"; M_5 and M_30 are the models at SGD epochs 5 and 30, M_final the last. Each is perturbed
layer-wise with Gaussian noise of std 0.1·S (S the layer's weight std) and retrained with 200 epochs
of GD, 4 times. Per model: training/test curves (Figs 13, 19, 26), MDS of layers 2, 4 and 6 of the 4
retraining runs with points written as the epoch after the perturbation (Figs 14–16, 20–22, 27–29)
and of run 1 alone (Figs 17, 23, 30), agreement matrices of the 4 final models and a random
reference model (Figs 18, 24, 31), and the interpolation between perturbations 1 and 2 before and
after retraining (Figs 25, 32).

Appendix B: M_final (zero training error) perturbed with std 0.01·m, m the layer's mean |w|, and
retrained with 400 epochs of GD, 4 times (Figs 35–38): `empirics.train`'s `perturb_scale='mean_abs'`.

A replicate is one whole independent run (`ExperimentContext.replicates`): its own training subset
and data order, its own SGD → GD trajectory (M_5 and M_30 are that trajectory's saved epochs),
its own perturbations and retrainings and, for §4.4, its own "twin": a second SGD → GD training of
the same protocol from another initialisation, the spread of independent trainings that "similar"
is measured against. The claims are about zero-error (global) minima, so each replicate's premise
is its M_final at zero training error; a replicate that misses it is excluded from the verdicts.
Layers are numbered as the paper numbers them (layer 1 = input; layer 6 = the output convolution).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import torch

from empirics.experiments import identity, Claim, Experiment, ExperimentContext, ExperimentReport, Finding, Replicate
from empirics.experiments import common
from empirics.experiments.verdicts import Premise, Rule, Sample, finding, judge
from empirics.experiments import plots as xplots


@dataclass(frozen=True)
class PerturbPreset:
    """Sizes of one scale.

    snapshots: SGD epochs of M_5 and M_30 (paper 5, 30); sgd_epochs: SGD epochs before GD (paper 60);
    batch_sgd: SGD minibatch (paper 100); gd_epochs: GD epochs to M_final (paper 400; App. B 372);
    retrain_epochs: GD epochs after each perturbation (paper 200; App. B 400); runs: perturbations per
    model (paper 4); alpha: noise std (paper 0.1·S; App. B 0.01·mean|w|); lr_sgd, lr_gd: steps (paper:
    0.01 for SGD, GD not stated); every: every n-th epoch enters MDS and curves; interp_points: points
    of the t grid on [0, 1] (odd, so t = ½ is on it); test_examples: test examples of the agreement,
    disagreement and interpolation probes (None: all); subset, widths: as in `common.base_config`;
    replicates: whole independent runs (the verdicts' sample size).
    """

    snapshots: tuple[int, int]
    sgd_epochs: int
    gd_epochs: int
    retrain_epochs: int
    runs: int
    alpha: float
    lr_sgd: float
    lr_gd: float
    every: int
    interp_points: int
    test_examples: int | None
    subset: int | None
    widths: tuple[int, ...] | None
    replicates: int = 3
    batch_sgd: int = 100


# Subsets small enough for full-batch GD to interpolate within the budget (the premise): on 100
# Fashion-MNIST examples, widths (8, 16, 32, 16), GD at lr 0.3 reaches zero training error in about
# 20 epochs (cross-entropy 0.03 after 40); on 200, in about 36.
# Smoke pilot (seed 0, 3 replicates, every M_final at zero error), sd per rule and the replicates
# `verdicts.replicates_for` asks for 80 % power at δ: gd-finds-zero-error sd 0.0063 → 3; flat-global-minima
# 0.0004 → 2; similar-but-distinct 0.0091 → 2 (similar), 3 (distinct); interpolation-lower 0.0013 → 3;
# no-walls 0.00002 → 2. The cpu preset runs 5 (one spare for a replicate missing the premise, and for
# Holm over the report's five claims). App. B: zero-error-throughout sd 0.51 logit → none within 64
# (δ = 0.1 is tiny beside margins of 3 logits: power at δ stays under 10 %, the estimate is far from 0);
# small-perturbation-different sd 0.063 → 2; the cpu preset runs 4.
PRESETS = {
    "smoke": PerturbPreset(snapshots=(1, 2), sgd_epochs=3, gd_epochs=40, retrain_epochs=30, runs=3, alpha=0.1,
                           lr_sgd=0.01, lr_gd=0.3, every=5, interp_points=5, test_examples=1000, subset=100,
                           widths=(8, 16, 32, 16), replicates=3, batch_sgd=20),
    "cpu": PerturbPreset(snapshots=(5, 30), sgd_epochs=60, gd_epochs=60, retrain_epochs=60, runs=4, alpha=0.1,
                         lr_sgd=0.01, lr_gd=0.3, every=10, interp_points=11, test_examples=2000, subset=200,
                         widths=(8, 16, 32, 16), replicates=5, batch_sgd=20),
    "paper": PerturbPreset(snapshots=(5, 30), sgd_epochs=60, gd_epochs=400, retrain_epochs=200, runs=4, alpha=0.1,
                           lr_sgd=0.01, lr_gd=0.01, every=10, interp_points=21, test_examples=None, subset=None,
                           widths=None, replicates=10),
}
SMALL_PRESETS = {
    "smoke": replace(PRESETS["smoke"], alpha=0.01, retrain_epochs=20, replicates=3),
    "cpu": replace(PRESETS["cpu"], alpha=0.01, retrain_epochs=40, replicates=4),
    "paper": replace(PRESETS["paper"], alpha=0.01, gd_epochs=372, retrain_epochs=400),
}
MICRO = PerturbPreset(snapshots=(1, 2), sgd_epochs=2, gd_epochs=2, retrain_epochs=2, runs=2, alpha=0.1, lr_sgd=0.01,
                      lr_gd=0.1, every=1, interp_points=3, test_examples=100, subset=40, widths=(4, 4, 4, 4),
                      replicates=2, batch_sgd=20)

CLAIMS = (
    Claim("global-minima-found", "Theory II", "§4.4",
          "global minima are easily found with zero classification error and negligible cross entropy loss."),
    Claim("flat-global-minima", "Theory II", "§4.4, Figs 26–31",
          "The global minima seem “flat” under perturbations with zero error corresponding to different parameters "
          "values."),
    Claim("similar-but-distinct", "Theory II", "§4.4, Figs 18, 24, 31",
          "Perturbing a model always lead to a different convergence path, leading to a similar but distinct model."),
    Claim("interpolation-lower", "Theory II", "§4.4, Figs 25, 32",
          "It is a little surprising to find that the interpolated models between perturbation 1 and 2 can even have "
          "slightly lower errors."),
    Claim("no-walls", "Theory II", "§5, Fig. 34",
          "We have not found other significant “walls” in all other perturbation and interpolation experiments."),
)
SMALL_CLAIMS = (
    Claim("zero-error-throughout", "Theory II", "App. B, Fig. 35",
          "The classification errors are even 0 after the perturbation and throughout the entire following training "
          "process."),
    Claim("small-perturbation-different", "Theory II", "App. B, Fig. 36",
          "We see that even a small perturbation makes the weights significantly different and the 4 runs do not "
          "converge to the same weights."),
)
MODELS = ("M5", "M30", "Mfinal")
LAYERS = (2, 4, 6)


def train_base(ctx: ExperimentContext, p: PerturbPreset, rep: Replicate, prefix: str = "") -> dict[str, str]:
    """Train one replicate's SGD then GD trajectory; return {'M5', 'M30', 'Mfinal': init_from of each model}.

    M_5 and M_30 are saved epochs of the SGD run ('RUN:EPOCH'); M_final is the GD run's last epoch.
    `prefix` names a second trajectory of the replicate (the twin), trained with its own seeds.
    """
    kw = dict(subset=p.subset, widths=p.widths, rep=rep)
    cfg = common.base_config(ctx, epochs=p.sgd_epochs, seed=common.seed_for(rep, f"{prefix}sgd"), optimizer="sgd",
                             lr=p.lr_sgd, batch_size=p.batch_sgd, eval_every=max(1, p.sgd_epochs), **kw)
    sgd = common.train_stage(ctx, f"{prefix}sgd", cfg, rep=rep)["run"]
    cfg = common.base_config(ctx, epochs=p.gd_epochs, seed=common.seed_for(rep, f"{prefix}gd"), optimizer="gd",
                             lr=p.lr_gd, init_from=sgd, eval_every=max(1, p.gd_epochs), **kw)
    final = common.train_stage(ctx, f"{prefix}gd", cfg, rep=rep)["run"]
    return {"M5": f"{sgd}:{p.snapshots[0]}", "M30": f"{sgd}:{p.snapshots[1]}", "Mfinal": final}


def retrain(ctx: ExperimentContext, p: PerturbPreset, rep: Replicate, name: str, source: str,
            scale: str = "std") -> str:
    """Perturb `source`'s model p.runs times and retrain each with GD; return the run folder.

    scale 'std': noise std α·S per parameter tensor (§4.4); 'mean_abs': α·mean|w| per tensor (App. B).
    """
    cfg = common.base_config(ctx, epochs=p.retrain_epochs, trajectories=p.runs, seed=common.seed_for(rep, name),
                             optimizer="gd", lr=p.lr_gd, init_from=source, perturb=p.alpha, perturb_scale=scale,
                             eval_every=p.every, subset=p.subset, widths=p.widths, rep=rep)
    return common.train_stage(ctx, name, cfg, rep=rep)["run"]


def _test_metrics(run: str) -> dict[int, tuple[list, list]]:
    from empirics.train import read_metrics

    return {m["epoch"]: (m["test_loss"], m["test_error"]) for m in read_metrics(run)["epochs"]}


@torch.no_grad()
def _outputs(ev: common.Evaluator, w: np.ndarray, split: str) -> torch.Tensor:
    """Return the logits at w on the training or test examples, batch-norm statistics recomputed on the training set."""
    if split == "train":
        return ev.train.outputs(torch.as_tensor(w, dtype=ev.train.dtype, device=ev.train.device))
    ev.train._load(torch.as_tensor(w, dtype=ev.train.dtype, device=ev.train.device), None)
    x = ev.x_test
    return torch.cat([ev.train.model(x[i:i + 1000]) for i in range(0, len(x), 1000)])


def min_margin(logits: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray) -> float:
    """Return min over examples of (logit of the true class − the largest other logit).

    Positive exactly when every example is classified correctly (zero training error); its size says
    how far the model is from misclassifying any of them.
    """
    z = torch.as_tensor(logits, dtype=torch.float64)
    y = torch.as_tensor(labels, dtype=torch.long, device=z.device)
    true = z.gather(1, y[:, None])[:, 0]
    other = z.scatter(1, y[:, None], float("-inf")).max(dim=1).values
    return float((true - other).min())


def disagreement(a: np.ndarray, b: np.ndarray) -> float:
    """Return the fraction of examples on which two models' predicted classes differ."""
    return float(np.mean(np.asarray(a) != np.asarray(b)))


def analyse(run: str, p: PerturbPreset, device: str, interpolate: bool, figures: bool, reference_seed: int,
            compare: tuple[str, str] | None = None, margins: bool = False) -> dict:
    """Return curves, distances, disagreements and (optionally) interpolations, MDS and agreement of one retraining run.

    compare: (M_final's run, its twin's run): their test disagreement, the spread of independent trainings.
    margins: the smallest training margin (`min_margin`) of every run at every saved epoch.
    figures: also the MDS embeddings and agreement matrices the figures draw (replicate 1 only).
    """
    from empirics.models import get_flat
    from empirics.train import build_model
    from empirics.probes import agreement_matrices

    ev = common.Evaluator(run, device, test_examples=p.test_examples)
    model = common.model_of(run)
    epochs, W = common.run_weights(run)
    K = W.shape[1]
    test = _test_metrics(run)
    keep = [i for i, e in enumerate(epochs) if e % p.every == 0 or e == epochs[-1]]
    pts, curves = common.Points(), {}
    for k in range(K):
        c = {"epoch": [], "train_error": [], "train_loss": [], "test_error": [], "test_loss": []}
        for i in keep:
            loss, err = ev.evaluate(W[i, k])
            e = epochs[i]
            pts.add(W[i, k], f"run {k + 1}", e, str(e), err)
            c["epoch"].append(e), c["train_error"].append(err), c["train_loss"].append(loss)
            if e in test:
                c["test_loss"].append(test[e][0][k]), c["test_error"].append(test[e][1][k])
        curves[f"run {k + 1}"] = c
    out: dict = {"curves": curves}
    final, start = W[-1], W[0]
    cols = common.paper_layer_columns(model, 2)
    iu = np.triu_indices(K, 1)
    out["final_cos_layer2"] = common.pairwise_cosine(final[:, cols])[iu].tolist()
    out["start_cos_layer2"] = common.pairwise_cosine(start[:, cols])[iu].tolist()
    for key, idx in (("start", 0), ("final", -1)):
        out[f"{key}_errors"] = [curves[f"run {k + 1}"]["train_error"][idx] for k in range(K)]
        out[f"{key}_losses"] = [curves[f"run {k + 1}"]["train_loss"][idx] for k in range(K)]
    out["max_errors"] = [max(curves[f"run {k + 1}"]["train_error"]) for k in range(K)]
    preds = [_outputs(ev, final[k], "test").argmax(1).cpu().numpy() for k in range(K)]
    out["disagreement"] = float(np.mean([disagreement(preds[i], preds[j]) for i, j in zip(*iu)]))
    if compare is not None:
        ends = [common.run_weights(r, [0])[1][-1, 0] for r in compare]
        a, b = (_outputs(ev, w, "test").argmax(1).cpu().numpy() for w in ends)
        out["twin_disagreement"] = disagreement(a, b)
        # the segment between two independent trainings: not one of the paper's segments, reported beside no-walls
        out["twin_segment_loss"] = [ev.evaluate((1 - t) * ends[0] + t * ends[1])[0]
                                    for t in np.linspace(0.0, 1.0, p.interp_points)]
    if margins:
        y = ev.data.y_train
        out["min_margins"] = [[min_margin(_outputs(ev, W[i, k], "train"), y) for i in range(len(epochs))]
                              for k in range(K)]
    if figures:
        out["mds"] = common.embed(pts, model, LAYERS)
        out["run1_mds"] = common.embed(pts.select([g == "run 1" for g in pts.group]), model, LAYERS)
        cfg = common.load_config(run)
        ref = build_model(cfg.model, tuple(ev.data.x_train.shape[1:]), ev.data.output_dim, reference_seed,
                          cfg.torch_dtype)
        correct = np.stack([ev.correct(final[k]) for k in range(K)] + [ev.correct(get_flat(ref).double())])
        labels = [f"perturbation {k + 1}" for k in range(K)] + ["random init"]
        out["agreement"] = agreement_matrices(correct, labels).to_dict()
    out["n_train"], out["n_test"] = int(len(ev.data.x_train)), int(len(ev.x_test))
    if interpolate and K >= 2:
        ts = np.linspace(0.0, 1.0, p.interp_points)
        out["interpolation"] = {}
        for row, (a, b) in (("before retraining", (start[0], start[1])), ("after retraining", (final[0], final[1]))):
            r = {"t": ts.tolist(), "train_error": [], "train_loss": [], "test_error": [], "test_loss": []}
            for t in ts:
                w = (1 - t) * a + t * b
                tl, te = ev.evaluate(w)
                sl, se = ev.test(w)
                r["train_loss"].append(tl), r["train_error"].append(te), r["test_loss"].append(sl)
                r["test_error"].append(se)
            out["interpolation"][row] = r
    return out


def model_summary(run: str, device: str) -> dict:
    """Return the training loss and error of a run's last model (batch-norm statistics recomputed)."""
    ev = common.Evaluator(run, device)
    _, W = common.run_weights(run, [0])
    loss, err = ev.evaluate(W[-1, 0])
    return {"train_loss": loss, "train_error": err}


def run_replicate(ctx: ExperimentContext, p: PerturbPreset, rep: Replicate, figures: bool) -> dict:
    """Train one replicate's trajectory, its twin and the retraining runs of M5, M30, Mfinal; return its analyses."""
    base = train_base(ctx, p, rep)
    twin = train_base(ctx, p, rep, "twin_")
    out = {"root": rep.root, "base": rep.stage("base_summary", lambda: {
        "Mfinal": model_summary(base["Mfinal"], ctx.device), "twin": model_summary(twin["Mfinal"], ctx.device)})}
    for name in MODELS:
        run = retrain(ctx, p, rep, f"retrain_{name}", base[name])
        out[name] = rep.stage(f"analyse_{name}", lambda run=run, name=name: analyse(
            run, p, ctx.device, name != "M5", figures, common.seed_for(rep, f"reference {name}"),
            (base["Mfinal"], twin["Mfinal"]) if name == "Mfinal" else None))
    return out


def _figures(ctx: ExperimentContext, a: dict, name: str, nums: dict, label: str, p: PerturbPreset) -> list:
    figs = []
    f = f"fig{nums['curves']}_{name}_curves.png"
    xplots.plot_training_curves(a["curves"], ctx.path(f), f"{label}: {p.runs} perturbations (noise {p.alpha:g}·"
                                f"{'mean|w|' if 'mean' in label else 'S'}) retrained with GD; training error with "
                                f"batch-norm statistics recomputed")
    figs.append((f, f"Fig. {nums['curves']}: training and test error and loss after each perturbation of {label}"))
    for layer, no in zip(LAYERS, nums["mds"]):
        f = f"fig{no}_{name}_layer{layer}.png"
        xplots.plot_mds(a["mds"][str(layer)], ctx.path(f), f"Layer {layer}, {label}: {p.runs} retraining runs; "
                        f"numbers are epochs after the perturbation", legend_title="run")
        figs.append((f, f"Fig. {no}: MDS of layer {layer} weights throughout retraining, numbers are epochs"))
    if nums.get("run1"):
        res = a["run1_mds"]
        f = f"fig{nums['run1']}_{name}_run1_layers.png"
        _three_layer_panel(ctx.path(f), res, f"{label}: run 1 alone, layers 2/4/6; numbers are epochs")
        figs.append((f, f"Fig. {nums['run1']}: MDS of run 1 alone, layers 2, 4 and 6"))
    if nums.get("agreement"):
        f = f"fig{nums['agreement']}_{name}_agreement.png"
        xplots.plot_agreement(a["agreement"], ctx.path(f), f"{label}: the {p.runs} retrained models and a random "
                              f"initialisation on the test set")
        figs.append((f, f"Fig. {nums['agreement']}: agreement of the {p.runs} retrained models and a random "
                        f"reference model on the test set"))
    if nums.get("interp") and "interpolation" in a:
        f = f"fig{nums['interp']}_{name}_interpolation.png"
        xplots.plot_interpolation_rows(a["interpolation"], ctx.path(f),
                                       f"{label}: interpolating perturbation 1 and 2 before and after retraining")
        figs.append((f, f"Fig. {nums['interp']}: interpolation between perturbations 1 and 2, before (top) and after "
                        f"(bottom) retraining"))
    return figs


def _three_layer_panel(path, res: dict, title: str) -> None:
    """Draw run 1's embeddings of layers 2, 4, 6 side by side (Figs 17, 23, 30)."""
    plt = xplots._plt()
    fig, axes = plt.subplots(1, 3, figsize=(15, 5.6), constrained_layout=True)
    for ax, layer in zip(axes, LAYERS):
        r = res[str(layer)]
        X = np.asarray(r["coords"], float)
        colors = {g: c for g, c in zip(xplots._ordered(r["group"]), xplots._palette(1))}
        xplots._draw(ax, X, r["labels"], r["group"], r["group"], colors, 8)
        xplots._frame(ax, X)
        ax.set_title(f"layer {layer} (stress-1 {r['stress']:.2f})", fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.savefig(path, dpi=120)  # constrained layout keeps the suptitle clear of the panel titles
    plt.close(fig)


ZERO_ERROR = Premise(
    "zero training error", "training error of the replicate's M_final (fraction, batch-norm statistics recomputed)",
    0.0, "at most", "Theory II §4.4: the claims are about zero-error (global) minima; M_final at zero error shows this "
    "subset is interpolated within the protocol's budget")
ZERO_ERROR_BOTH = replace(ZERO_ERROR, statistic="larger training error of the replicate's M_final and of its twin "
                          "(fraction, batch-norm statistics recomputed)")

# δ and margins are in nats of training cross-entropy where the claim speaks of loss: chance level is ln 10 = 2.30
# nats, and a loss under 0.1 nats (about 4 % of chance) is what "negligible" and "flat" are read as.
RULE_FOUND = Rule(
    "gd-finds-zero-error", 2, "final training cross-entropy of the models retrained with GD from perturbed M_5 and "
    "M_30 (mean over the replicate's runs, nats)", "less", 0.1, "zero loss (a global minimum)",
    "§4.4: 'zero classification error and negligible cross entropy loss': negligible read as under 0.1 nats (4 % of "
    "chance, ln 10); δ = 0.05 nats: a loss that cannot be shown below 0.05 is not negligible", delta=0.05,
    premise=ZERO_ERROR)
RULE_FLAT = Rule(
    "flat-global-minima", 2, "rise of the training cross-entropy from M_final to the perturbed model before "
    "retraining (mean over the replicate's runs, nats)", "less", 0.1, "M_final's own training loss",
    "§4.4, Figs 26–31: perturbed zero-error models stay at (near) zero error: a rise under 0.1 nats (4 % of chance); "
    "δ = 0.05 nats", delta=0.05, premise=ZERO_ERROR)
RULE_SIMILAR = Rule(
    "similar-but-distinct", 2, "D = test disagreement of the models retrained from M_final (mean over pairs) over the "
    "test disagreement of M_final and its twin (independent training of the same protocol); test 'similar': D, test "
    "'distinct': −D", "less", 1.0, "the spread of independent trainings (M_final and its twin)",
    "§4.4: 'similar' = the retrained models disagree at most half as often as independent trainings (D < 1, δ = 0.5: "
    "D ≤ 0.5 matters); 'distinct' = they still disagree (D > 0, margin 0 for −D), at an effect of at least 5 % of the "
    "independent trainings' disagreement (δ = 0.05)", delta=0.5, premise=ZERO_ERROR_BOTH)
DISTINCT_MARGIN, DISTINCT_DELTA = 0.0, 0.05
RULE_LOWER = Rule(
    "interpolation-lower", 2, "test error at the midpoint of the segment between two models retrained from M_final "
    "minus the mean of the two ends' test errors", "less", 0.0, "the two end models",
    "§4.4, Figs 25, 32: interpolated models 'can even have slightly lower errors'; δ = 0.005 (half a point of test "
    "error, the smallest gain those figures would show)", delta=0.005, premise=ZERO_ERROR)
RULE_WALLS = Rule(
    "no-walls", 2, "highest training cross-entropy inside the segment between two models retrained from M_final minus "
    "the higher end's (nats)", "less", 0.1, "the two end models",
    "§5: no 'significant walls': a rise under 0.1 nats (4 % of chance, ln 10); δ = 0.05 nats", delta=0.05,
    premise=ZERO_ERROR)


def replicate_statistics(r: dict) -> dict:
    """Return one replicate's statistics of the five §4.4 rules and their premise values."""
    mf = r["Mfinal"]
    after = mf.get("interpolation", {}).get("after retraining")
    nan = float("nan")
    d = mf["disagreement"] / mf["twin_disagreement"] if mf.get("twin_disagreement") else nan
    mid = None if after is None else len(after["t"]) // 2
    return {
        "premise": r["base"]["Mfinal"]["train_error"],
        "premise_both": max(r["base"]["Mfinal"]["train_error"], r["base"]["twin"]["train_error"]),
        "found": float(np.mean(r["M5"]["final_losses"] + r["M30"]["final_losses"])),
        "found_error": float(np.mean(r["M5"]["final_errors"] + r["M30"]["final_errors"])),
        "flat": float(np.mean(mf["start_losses"]) - r["base"]["Mfinal"]["train_loss"]),
        "similar": float(d),
        "lower": nan if after is None else float(after["test_error"][mid] - 0.5 * (after["test_error"][0]
                                                                                  + after["test_error"][-1])),
        "walls": nan if after is None or len(after["t"]) < 3 else float(
            max(after["train_loss"][1:-1]) - max(after["train_loss"][0], after["train_loss"][-1])),
    }


def perturb_findings(reps: list[dict]) -> tuple[Finding, ...]:
    """Return the verdicts on the §4.4 claims: one value per whole independent replicate, gated by zero error."""
    s = [replicate_statistics(r) for r in reps]
    roots = [r["root"] for r in reps]
    col = {k: [x[k] for x in s] for k in s[0]}
    prem, prem2 = col["premise"], col["premise_both"]
    fs = [finding("global-minima-found", judge(RULE_FOUND, Sample("from M_5 and M_30", col["found"], roots,
                                                                  premise=prem)),
                  "mean final training error per replicate " + ", ".join(f"{x:.4f}" for x in col["found_error"]),
                  {"final_loss": col["found"], "final_error": col["found_error"], "Mfinal_train_error": prem}),
          finding("flat-global-minima", judge(RULE_FLAT, Sample("from M_final", col["flat"], roots, premise=prem)),
                  "training error just after the perturbation per replicate: " + ", ".join(
                      f"{np.mean(r['Mfinal']['start_errors']):.4f}" for r in reps),
                  {"loss_rise": col["flat"], "start_errors": [r["Mfinal"]["start_errors"] for r in reps]})]
    v = judge(RULE_SIMILAR, [Sample("similar (D)", col["similar"], roots, premise=prem2),
                             Sample("distinct (−D)", [-x for x in col["similar"]], roots, premise=prem2,
                                    margin=DISTINCT_MARGIN, delta=DISTINCT_DELTA)])
    fs.append(finding("similar-but-distinct", v, "test disagreement retrained / independent per replicate: " + ", ".join(
        f"{r['Mfinal']['disagreement']:.3f} / {r['Mfinal'].get('twin_disagreement', float('nan')):.3f}" for r in reps),
        {"D": col["similar"], "retrained_disagreement": [r["Mfinal"]["disagreement"] for r in reps],
         "twin_disagreement": [r["Mfinal"].get("twin_disagreement") for r in reps],
         "M30_disagreement": [r["M30"]["disagreement"] for r in reps],
         "M5_disagreement": [r["M5"]["disagreement"] for r in reps]}))
    fs.append(finding("interpolation-lower", judge(RULE_LOWER, Sample("pair 1–2 from M_final", col["lower"], roots,
                                                                      premise=prem)), "",
                      {"midpoint_minus_ends_test_error": col["lower"]}))
    twin = [r["Mfinal"].get("twin_segment_loss") for r in reps]
    twin_walls = [float(max(x[1:-1]) - max(x[0], x[-1])) if x and len(x) > 2 else float("nan") for x in twin]
    fs.append(finding("no-walls", judge(RULE_WALLS, Sample("pair 1–2 from M_final", col["walls"], roots, premise=prem)),
                      "between M_final and its twin (two independent trainings; not one of the paper's segments, "
                      "reported, not judged) the same rise is " + ", ".join(f"{x:.3g}" for x in twin_walls) + " nats",
                      {"interior_max_minus_higher_end_loss": col["walls"], "twin_segment_rise": twin_walls}))
    return tuple(fs)


def run(ctx: ExperimentContext, preset: PerturbPreset | None = None) -> ExperimentReport:
    """Run §4.4 at ctx.scale and return its report."""
    p = ctx.preset(PRESETS, preset)
    reps = [run_replicate(ctx, p, rep, rep.index == 0) for rep in ctx.replicates(p.replicates)]
    figs = []
    nums = {"M5": {"curves": 13, "mds": (14, 15, 16), "run1": 17, "agreement": 18},
            "M30": {"curves": 19, "mds": (20, 21, 22), "run1": 23, "agreement": 24, "interp": 25},
            "Mfinal": {"curves": 26, "mds": (27, 28, 29), "run1": 30, "agreement": 31, "interp": 32}}
    labels = {"M5": f"M_5 (SGD epoch {p.snapshots[0]})", "M30": f"M_30 (SGD epoch {p.snapshots[1]})",
              "Mfinal": f"M_final (SGD {p.sgd_epochs} + GD {p.gd_epochs})"}
    for name in MODELS:
        figs += _figures(ctx, reps[0][name], name, nums[name], labels[name], p)
    deviations = common.data_deviations(common.dataset_of(ctx), p.subset, p.widths, ctx.scale)
    if (p.snapshots, p.sgd_epochs, p.gd_epochs, p.retrain_epochs) != ((5, 30), 60, 400, 200):
        deviations.append(f"M_5, M_30 taken at SGD epochs {p.snapshots}, {p.sgd_epochs} SGD + {p.gd_epochs} GD epochs to "
                          f"M_final, {p.retrain_epochs} GD epochs of retraining (paper: 5, 30; 60 + 400; 200)")
    if p.batch_sgd != 100:
        deviations.append(f"SGD minibatch {p.batch_sgd} (paper 100): the training subset is small")
    deviations.append(f"GD step {p.lr_gd} (the paper does not state it), chosen so that M_final reaches zero training "
                      "error within the budget (each replicate's value is the premise of every claim)")
    deviations.append("noise std α·std of each parameter tensor (weights and biases separately)")
    deviations.append(f"{p.replicates} whole independent replicates (own training and test subsets, data order, "
                      "trajectory, twin, perturbations); figures show replicate 1")
    deviations.append("similar-but-distinct is judged on M_final's retrained models against a twin training (the "
                      "paper's figures compare agreement with a random model); M_5 and M_30 disagreements are reported")
    if p.test_examples:
        deviations.append(f"agreement, disagreement and interpolation test errors on the first {p.test_examples} test "
                          "examples")
    if p.every > 1:
        deviations.append(f"every {p.every}th epoch (and the last) enters MDS and curves")
    deviations.append("training errors recomputed with batch-norm statistics of the training set; test curves from the "
                      "training run's own per-epoch evaluation")
    protocol = (f"{p.replicates} replicates, each a whole independent run: SGD (batch {p.batch_sgd}, lr {p.lr_sgd}) for "
                f"{p.sgd_epochs} epochs from a random initialisation, then GD (lr {p.lr_gd}) for {p.gd_epochs} epochs; "
                f"M_5, M_30 at SGD epochs {p.snapshots}, M_final the last; a twin of the same protocol from another "
                "initialisation",
                f"each of M_5, M_30, M_final: {p.runs} perturbations with noise {p.alpha}·std per parameter tensor, each "
                f"retrained with {p.retrain_epochs} GD epochs",
                "per retraining run: training/test error and loss, MDS (1 − cos) of layers 2, 4, 6 over the runs and "
                "of run 1 alone, points written as the epoch after the perturbation (replicate 1)",
                "agreement matrices of the final retrained models and one random initialisation on the test set "
                "(replicate 1); test disagreement of the retrained models and of M_final with its twin",
                f"M_30 and M_final: interpolation (1 − t)·w_1 + t·w_2 of perturbations 1 and 2 at {p.interp_points} "
                f"values of t in [0, 1], before and after retraining",
                "Rules: " + "; ".join(f"{r.tag}: {r.describe()}" for r in (RULE_FOUND, RULE_FLAT, RULE_SIMILAR,
                                                                          RULE_LOWER, RULE_WALLS)))
    measured = {"preset": asdict(p), "replicate_roots": [r["root"] for r in reps],
                "base": [r["base"] for r in reps], "statistics": [replicate_statistics(r) for r in reps],
                **{name: [{k: r[name][k] for k in ("start_errors", "final_errors", "final_cos_layer2",
                                                    "start_cos_layer2", "disagreement")} for r in reps]
                   for name in MODELS}}
    return ExperimentReport(*identity("ii-perturb-retrain"), ctx.scale, ctx.seed, protocol, tuple(deviations), CLAIMS,
                            perturb_findings(reps), measured, tuple(figs), 0.0)


RULE_ZERO_THROUGHOUT = Rule(
    "zero-error-throughout", 2, "smallest training margin (logit of the true class minus the largest other) over the "
    "training examples, every epoch of retraining and every run of the replicate", "greater", 0.0,
    "zero margin (a misclassified example)",
    "App. B, Fig. 35: errors 0 after the perturbation and throughout: every margin positive; δ = 0.1 logit, below "
    "which a margin is within the logits' rounding between evaluations", delta=0.1, premise=ZERO_ERROR)
RULE_SMALL_DIFFERENT = Rule(
    "small-perturbation-different", 2, "log2 of the mean pairwise layer-2 1 − cos between the retrained runs at the "
    "end over the same just after the perturbation", "greater", 0.0,
    "the distance the perturbation created (log2 ratio 0: GD neither joined nor separated them)",
    "App. B, Fig. 36: 'even a small perturbation makes the weights significantly different and the 4 runs do not "
    "converge to the same weights': the runs end farther apart than the perturbation put them; δ = 1 (twice as far)",
    delta=1.0, premise=ZERO_ERROR)


def small_statistics(r: dict) -> dict:
    """Return one replicate's App. B statistics and premise value."""
    a = r["analysis"]
    start, end = np.mean(a["start_cos_layer2"]), np.mean(a["final_cos_layer2"])
    return {"premise": r["base"]["Mfinal"]["train_error"],
            "min_margin": float(min(min(m) for m in a["min_margins"])),
            "log2_ratio": float(np.log2(end / start)) if start > 0 and end > 0 else float("nan"),
            "max_error": float(max(a["max_errors"]))}


def small_findings(reps: list[dict]) -> tuple[Finding, ...]:
    """Return the verdicts on the App. B claims: one value per whole independent replicate, gated by zero error."""
    s = [small_statistics(r) for r in reps]
    roots = [r["root"] for r in reps]
    prem = [x["premise"] for x in s]
    f1 = finding("zero-error-throughout", judge(RULE_ZERO_THROUGHOUT, Sample(
        "runs", [x["min_margin"] for x in s], roots, premise=prem)),
        "largest training error at any epoch per replicate: " + ", ".join(f"{x['max_error']:.4f}" for x in s),
        {"min_margin": [x["min_margin"] for x in s], "max_error": [x["max_error"] for x in s]})
    f2 = finding("small-perturbation-different", judge(RULE_SMALL_DIFFERENT, Sample(
        "runs", [x["log2_ratio"] for x in s], roots, premise=prem)),
        "mean pairwise layer-2 1 − cos after the perturbation → after retraining per replicate: " + ", ".join(
            f"{np.mean(r['analysis']['start_cos_layer2']):.2e} → {np.mean(r['analysis']['final_cos_layer2']):.2e}"
            for r in reps), {"log2_final_over_start": [x["log2_ratio"] for x in s]})
    return f1, f2


def run_small(ctx: ExperimentContext, preset: PerturbPreset | None = None) -> ExperimentReport:
    """Run Appendix B at ctx.scale and return its report."""
    p = ctx.preset(SMALL_PRESETS, preset)
    reps = []
    for rep in ctx.replicates(p.replicates):
        base = train_base(ctx, p, rep)
        run_path = retrain(ctx, p, rep, "retrain_Mfinal_mean_abs", base["Mfinal"], scale="mean_abs")
        a = rep.stage("analyse", lambda: analyse(run_path, p, ctx.device, False, rep.index == 0,
                                                 common.seed_for(rep, "reference"), margins=True))
        reps.append({"root": rep.root, "analysis": a,
                     "base": rep.stage("base_summary", lambda: {"Mfinal": model_summary(base["Mfinal"], ctx.device)})})
    figs = _figures(ctx, reps[0]["analysis"], "Mfinal_small", {"curves": 35, "mds": (36, 37, 38)},
                    f"M_final (SGD {p.sgd_epochs} + GD {p.gd_epochs}), mean-abs noise", p)
    deviations = common.data_deviations(common.dataset_of(ctx), p.subset, p.widths, ctx.scale)
    if (p.sgd_epochs, p.gd_epochs, p.retrain_epochs) != (60, 372, 400):
        deviations.append(f"{p.sgd_epochs} SGD + {p.gd_epochs} GD epochs to M_final and {p.retrain_epochs} GD epochs of "
                          f"retraining (paper: 60 + 372; 400)")
    deviations.append(f"GD step {p.lr_gd} (the paper does not state it), chosen so that M_final reaches zero training "
                      "error within the budget (each replicate's value is the premise)")
    if p.runs != 4:
        deviations.append(f"{p.runs} perturbations per replicate (paper: 4)")
    deviations.append(f"{p.replicates} whole independent replicates (own subset, data order, trajectory, "
                      "perturbations); figures show replicate 1")
    deviations.append("Fig. 38's caption says layer 4 twice; layer 6 is drawn")
    protocol = (f"{p.replicates} replicates, each: SGD (batch {p.batch_sgd}, lr {p.lr_sgd}) for {p.sgd_epochs} epochs, "
                f"then GD (lr {p.lr_gd}) for {p.gd_epochs} epochs: M_final",
                f"{p.runs} perturbations of M_final with noise std {p.alpha}·mean|w| per parameter tensor, each "
                f"retrained with {p.retrain_epochs} GD epochs",
                "training error and smallest training margin (batch-norm statistics recomputed) at every epoch; MDS "
                "(1 − cos) of layers 2, 4, 6 (replicate 1)",
                "Rules: " + "; ".join(f"{r.tag}: {r.describe()}" for r in (RULE_ZERO_THROUGHOUT, RULE_SMALL_DIFFERENT)))
    measured = {"preset": asdict(p), "replicate_roots": [r["root"] for r in reps], "base": [r["base"] for r in reps],
                "statistics": [small_statistics(r) for r in reps],
                "replicates": [{k: r["analysis"][k] for k in ("start_errors", "final_errors", "max_errors",
                                                               "start_cos_layer2", "final_cos_layer2")} for r in reps]}
    return ExperimentReport(*identity("ii-small-perturb"), ctx.scale, ctx.seed, protocol, tuple(deviations),
                            SMALL_CLAIMS, small_findings(reps), measured, tuple(figs), 0.0)


EXPERIMENTS = (
    Experiment("ii-perturb-retrain", "Perturb M_5, M_30, M_final and retrain with GD", "Theory II §4.4, Figs 13–32",
               CLAIMS, run, common.dataset_choices()),
    Experiment("ii-small-perturb", "Small perturbations of the zero-error model, retrained",
               "Theory II App. B, Figs 35–38", SMALL_CLAIMS, run_small, common.dataset_choices()),
)
