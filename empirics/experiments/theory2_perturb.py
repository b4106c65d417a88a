"""Theory II §4.4 (Figs 13–32) and Appendix B (Figs 35–38): perturb a model, retrain it with GD, compare.

§4.4: a DCNN is trained with "60 epochs of SGD (batch size = 100) and 400 epochs of Batch Gradient
Descent"; M_5 and M_30 are the models at SGD epochs 5 and 30, M_final the last. Each is perturbed
layer-wise with Gaussian noise of std 0.1·S (S the layer's weight std) and retrained with 200 epochs
of GD, 4 times. Per model: training/test curves (Figs 13, 19, 26), MDS of layers 2, 4 and 6 of the 4
retraining runs with points written as the epoch after the perturbation (Figs 14–16, 20–22, 27–29)
and of run 1 alone (Figs 17, 23, 30), agreement matrices of the 4 final models and a random
reference model (Figs 18, 24, 31), and the interpolation between perturbations 1 and 2 before and
after retraining (Figs 25, 32).

Appendix B: M_final (zero training error) perturbed with std 0.01·m, m the layer's mean |w|, and
retrained with 400 epochs of GD, 4 times (Figs 35–38). `empirics.train` perturbs by a multiple of
the std only, so `mean_abs_start` writes the start run itself: a run of 0 epochs initialised from
M_final, whose saved weights are then perturbed per parameter tensor (`empirics.probes.perturb`,
scale 'mean_abs') before training resumes from it.

The SGD phase is trained in segments ending at the snapshot epochs (`init_from` the previous
segment; plain SGD keeps no optimiser state, so only the minibatch order differs from one run).
Layers are numbered as the paper numbers them (layer 1 = input; layer 6 = the output convolution).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import torch

from landscape_core.seeds import stream
from empirics.experiments import Claim, Experiment, ExperimentContext, ExperimentReport, Finding
from empirics.experiments import common
from empirics.experiments.verdicts import Rule, Sample, finding, judge
from empirics.experiments import plots as xplots


@dataclass(frozen=True)
class PerturbPreset:
    """Sizes of one scale.

    snapshots: SGD epochs of M_5 and M_30 (paper 5, 30); sgd_epochs: SGD epochs before GD (paper 60);
    gd_epochs: GD epochs to M_final (paper 400; App. B 372); retrain_epochs: GD epochs after each
    perturbation (paper 200; App. B 400); runs: perturbations per model (paper 4); alpha: noise std
    (paper 0.1·S; App. B 0.01·mean|w|); lr_sgd, lr_gd: steps (paper: 0.01 for SGD, GD not stated);
    every: every n-th epoch enters MDS and curves; interp_points: points of the t grid on [0, 1];
    test_examples: test examples of the agreement and interpolation probes (None: all);
    subset, widths: as in `common.base_config`.
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


PRESETS = {
    "smoke": PerturbPreset(snapshots=(1, 2), sgd_epochs=3, gd_epochs=4, retrain_epochs=3, runs=4, alpha=0.1,
                           lr_sgd=0.01, lr_gd=0.1, every=1, interp_points=5, test_examples=1000, subset=400,
                           widths=(8, 16, 32, 16)),
    "cpu": PerturbPreset(snapshots=(5, 30), sgd_epochs=60, gd_epochs=60, retrain_epochs=30, runs=4, alpha=0.1,
                         lr_sgd=0.01, lr_gd=0.1, every=5, interp_points=11, test_examples=5000, subset=1000,
                         widths=(16, 32, 64, 32)),
    "paper": PerturbPreset(snapshots=(5, 30), sgd_epochs=60, gd_epochs=400, retrain_epochs=200, runs=4, alpha=0.1,
                           lr_sgd=0.01, lr_gd=0.01, every=10, interp_points=21, test_examples=None, subset=None,
                           widths=None),
}
SMALL_PRESETS = {
    "smoke": replace(PRESETS["smoke"], alpha=0.01, gd_epochs=8, retrain_epochs=3, subset=200),
    # six runs, so that three disjoint pairs are independent replicates of the pairwise claim
    "cpu": replace(PRESETS["cpu"], alpha=0.01, gd_epochs=100, retrain_epochs=40, subset=500, runs=6),
    "paper": replace(PRESETS["paper"], alpha=0.01, gd_epochs=372, retrain_epochs=400),
}
MICRO = PerturbPreset(snapshots=(1, 2), sgd_epochs=2, gd_epochs=1, retrain_epochs=2, runs=2, alpha=0.1, lr_sgd=0.01,
                      lr_gd=0.1, every=1, interp_points=3, test_examples=100, subset=100, widths=(4, 4, 4, 4))

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


def train_base(ctx: ExperimentContext, p: PerturbPreset) -> dict[str, str]:
    """Train SGD (segments ending at the snapshots) then GD; return {'M5', 'M30', 'Mfinal': run folder}."""
    kw = dict(subset=p.subset, widths=p.widths)
    ends = sorted(set(p.snapshots) | {p.sgd_epochs})
    runs, prev, lo = {}, None, 0
    for hi in ends:
        cfg = common.base_config(ctx, epochs=hi - lo, seed=common.seed_for(ctx, f"sgd to {hi}"), optimizer="sgd",
                                 lr=p.lr_sgd, batch_size=100, init_from=prev, **kw)
        prev = common.train_stage(ctx, f"sgd_e{hi:04d}", cfg)["run"]
        runs[hi], lo = prev, hi
    cfg = common.base_config(ctx, epochs=p.gd_epochs, seed=common.seed_for(ctx, "gd final"), optimizer="gd",
                             lr=p.lr_gd, init_from=prev, **kw)
    final = common.train_stage(ctx, f"gd_e{p.gd_epochs:04d}", cfg)["run"]
    return {"M5": runs[p.snapshots[0]], "M30": runs[p.snapshots[1]], "Mfinal": final}


def retrain(ctx: ExperimentContext, p: PerturbPreset, name: str, source: str) -> str:
    """Perturb `source`'s model p.runs times (std α·S per tensor) and retrain each with GD; return the run folder."""
    cfg = common.base_config(ctx, epochs=p.retrain_epochs, trajectories=p.runs, seed=common.seed_for(ctx, name),
                             optimizer="gd", lr=p.lr_gd, init_from=source, perturb=p.alpha, subset=p.subset,
                             widths=p.widths)
    return common.train_stage(ctx, name, cfg)["run"]


def mean_abs_start(run: str, alpha: float, seed: int) -> None:
    """Add N(0, (α·mean|w_l|)²) noise to every trajectory of a 0-epoch run's saved weights (App. B, Fig. 35).

    Rewrites checkpoint.pt and weights/epoch_0000.pt of `run` (made by `train` with epochs=0 and
    init_from M_final) so that training resumed from it starts at the perturbed weights.
    """
    from empirics.probes import Block, perturb
    from landscape_core.runs import RunDir

    rd = RunDir.at(run, create=False)
    ckpt = rd.load_checkpoint()
    if int(ckpt["epoch"]) != 0 or ckpt.get("mean_abs_perturbed"):
        return
    names = list(ckpt["params"])
    k_count = ckpt["params"][names[0]].shape[0]
    for k in range(k_count):
        flat = torch.cat([ckpt["params"][n][k].reshape(-1) for n in names]).double().numpy()
        blocks, pos = [], 0
        for n in names:
            size = ckpt["params"][n][k].numel()
            blocks.append(Block(n, slice(pos, pos + size), 0))
            pos += size
        new, _ = perturb(flat, blocks, alpha, "mean_abs", stream(seed, f"mean-abs perturbation {k}"))
        for n, b in zip(names, blocks):
            t = ckpt["params"][n]
            t[k] = torch.from_numpy(new[b.slice]).reshape(t.shape[1:]).to(t.dtype)
    ckpt["mean_abs_perturbed"] = True
    weights = {"epoch": 0, "params": ckpt["params"], "buffers": ckpt["buffers"]}
    rd.save_checkpoint(weights, "weights/epoch_0000.pt")
    rd.save_checkpoint(ckpt)  # last: a kill in between redoes the perturbation of the unmarked checkpoint


def retrain_mean_abs(ctx: ExperimentContext, p: PerturbPreset, name: str, source: str) -> str:
    """App. B: perturb `source` p.runs times by α·mean|w| per tensor and retrain with GD; return the run folder."""
    from empirics.train import train

    cfg = common.base_config(ctx, epochs=0, trajectories=p.runs, seed=common.seed_for(ctx, name), optimizer="gd",
                             lr=p.lr_gd, init_from=source, subset=p.subset, widths=p.widths)
    rd = ctx.subrun(name)

    def start() -> dict:
        train(cfg, rd, resume=True, device=ctx.device)
        mean_abs_start(str(rd.path), p.alpha, common.seed_for(ctx, f"{name} noise"))
        return {"run": str(rd.path)}

    ctx.stage(f"{name}_start", start)

    def rest() -> dict:
        res = train(replace(cfg, epochs=p.retrain_epochs), rd, resume=True, device=ctx.device, progress=ctx.progress)
        return {"run": str(rd.path), "seconds": res.seconds}

    return ctx.stage(name, rest)["run"]


def _test_metrics(run: str) -> dict[int, tuple[list, list]]:
    from empirics.train import read_metrics

    return {m["epoch"]: (m["test_loss"], m["test_error"]) for m in read_metrics(run)["epochs"]}


def analyse(run: str, p: PerturbPreset, device: str, interpolate: bool, reference_seed: int) -> dict:
    """Return curves, embeddings, distances, agreement and (optionally) interpolations of one retraining run."""
    from empirics.models import get_flat
    from empirics.train import build_model
    from empirics.probes import agreement_matrices

    ev = common.Evaluator(run, device, test_examples=p.test_examples)
    model = common.model_of(run)
    epochs, W = common.run_weights(run)
    test = _test_metrics(run)
    keep = [i for i, e in enumerate(epochs) if e % p.every == 0 or e == epochs[-1]]
    pts, curves = common.Points(), {}
    for k in range(W.shape[1]):
        c = {"epoch": [], "train_error": [], "train_loss": [], "test_error": [], "test_loss": []}
        for i in keep:
            loss, err = ev.evaluate(W[i, k])
            e = epochs[i]
            pts.add(W[i, k], f"run {k + 1}", e, str(e), err)
            c["epoch"].append(e), c["train_error"].append(err), c["train_loss"].append(loss)
            c["test_loss"].append(test[e][0][k]), c["test_error"].append(test[e][1][k])
        curves[f"run {k + 1}"] = c
    out: dict = {"curves": curves, "mds": common.embed(pts, model, LAYERS),
                 "run1_mds": common.embed(pts.select([g == "run 1" for g in pts.group]), model, LAYERS)}
    final, start = W[-1], W[0]
    cols = common.paper_layer_columns(model, 2)
    iu = np.triu_indices(W.shape[1], 1)
    out["final_cos_layer2"] = common.pairwise_cosine(final[:, cols])[iu].tolist()
    out["start_cos_layer2"] = common.pairwise_cosine(start[:, cols])[iu].tolist()
    out["start_errors"] = [curves[f"run {k + 1}"]["train_error"][0] for k in range(W.shape[1])]
    out["final_errors"] = [curves[f"run {k + 1}"]["train_error"][-1] for k in range(W.shape[1])]
    out["max_errors"] = [max(curves[f"run {k + 1}"]["train_error"]) for k in range(W.shape[1])]
    cfg = common.load_config(run)
    ref = build_model(cfg.model, tuple(ev.data.x_train.shape[1:]), ev.data.output_dim, reference_seed, cfg.torch_dtype)
    correct = np.stack([ev.correct(final[k]) for k in range(W.shape[1])] + [ev.correct(get_flat(ref).double())])
    labels = [f"perturbation {k + 1}" for k in range(W.shape[1])] + ["random init"]
    out["agreement"] = agreement_matrices(correct, labels).to_dict()
    out["n_train"], out["n_test"] = int(len(ev.data.x_train)), int(len(ev.x_test))
    if interpolate and W.shape[1] >= 2:
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
        # further disjoint pairs (3, 4), (5, 6), ... after retraining: independent replicates of the claims on
        # interpolated models (pair (1, 2) is the one drawn above)
        out["interpolation_pairs"] = [out["interpolation"]["after retraining"]]
        for a_i in range(2, W.shape[1] - 1, 2):
            r = {"t": ts.tolist(), "train_error": [], "test_error": [], "pair": [a_i, a_i + 1]}
            for t in ts:
                w = (1 - t) * final[a_i] + t * final[a_i + 1]
                r["train_error"].append(ev.evaluate(w)[1])
                r["test_error"].append(ev.test(w)[1])
            out["interpolation_pairs"].append(r)
    return out


def run_models(ctx: ExperimentContext, p: PerturbPreset) -> tuple[dict, dict]:
    """Train the base trajectory and the retraining runs of M5, M30, Mfinal; return (base summary, analyses)."""
    base = train_base(ctx, p)
    analyses = {}
    for name in MODELS:
        run = retrain(ctx, p, f"retrain_{name}", base[name])
        analyses[name] = ctx.stage(f"analyse_{name}", lambda run=run, name=name: analyse(
            run, p, ctx.device, name != "M5", common.seed_for(ctx, f"reference {name}")))

    def base_summary() -> dict:
        ev = common.Evaluator(base["Mfinal"], ctx.device)
        out = {}
        for name in MODELS:
            _, W = common.run_weights(base[name], [0])
            loss, err = ev.evaluate(W[-1, 0])
            out[name] = {"train_loss": loss, "train_error": err}
        return out

    return ctx.stage("base_summary", base_summary), analyses


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


RULE_FOUND = Rule(
    "gd-finds-zero-error", 1, "final training error of a perturbed-and-retrained model (per source model)", "less", 0.01,
    "zero training error", "§4.4: GD from perturbed models finds global (zero-error) minima — within 1 point of zero")
RULE_FLAT = Rule(
    "flat-global-minima", 1, "final training error of a model retrained from a perturbed M_final", "less", 0.01,
    "zero training error (M_final's), with the models distinct (pairwise 1 − cos > 1e-7)",
    "§4.4: around a global minimum, perturbed models return to (other) zero-error models — within 1 point")
RULE_SIMILAR = Rule(
    "similar-but-distinct", 1, "P(correct | correct) of a retrained model with the other retrained models minus with a "
    "randomly initialised model (per retrained model)", "greater", 0.0,
    "a randomly initialised model of the same architecture",
    "§4.4: retrained models are 'similar' (agree more with each other than chance) yet distinct (1 − cos > 1e-7)")
RULE_LOWER = Rule(
    "interpolation-lower", 1, "lowest training error inside the segment between two retrained models minus the better "
    "end (per disjoint pair)", "less", 0.0, "the two end models",
    "§4.4, Figs 25, 32: interpolated models have lower error than the ends — any improvement")
RULE_WALLS = Rule(
    "no-walls", 1, "highest training error inside the segment between two retrained models minus the worse end (per "
    "disjoint pair)", "less", 0.05, "the two end models",
    "§5: no walls between the minima — a rise of under 5 points")


def _pairs(an: dict, names=("M30", "Mfinal")) -> list[dict]:
    return [r for n in names for r in an[n].get("interpolation_pairs", [an[n]["interpolation"]["after retraining"]]
                                                 if "interpolation" in an[n] else [])]


def perturb_findings(base: dict, an: dict, scale: str) -> tuple[Finding, ...]:
    """Return the verdicts on the §4.4 claims (replicates: the retrained perturbations, or disjoint pairs of them)."""
    from dataclasses import replace

    fs = []
    mf = base["Mfinal"]

    def still_falling(name: str) -> bool:
        """True when some retraining run's loss still fell by > 1 % over its last fifth: a short run, not a minimum."""
        for c in an[name]["curves"].values():
            loss = c["train_loss"]
            tail = max(1, len(loss) // 5)
            if len(loss) > tail and loss[-1] < 0.99 * loss[-1 - tail]:
                return True
        return False

    v = judge(RULE_FOUND, [Sample(f"from {n}", an[n]["final_errors"]) for n in ("M5", "M30")])
    detail = f"M_final itself: training error {mf['train_error']:.4f}, cross-entropy {mf['train_loss']:.2e}"
    if v.verdict == "not held" and (still_falling("M5") or still_falling("M30")):
        v = replace(v, verdict="underpowered")
        detail += "; the retraining loss is still falling at the end, so the runs are short, not stuck"
    fs.append(finding("global-minima-found", v, detail,
                      {"Mfinal_train_error": mf["train_error"], "Mfinal_train_loss": mf["train_loss"]}))
    a = an["Mfinal"]
    v = judge(RULE_FLAT, Sample("from M_final", a["final_errors"]))
    detail = (f"errors after the perturbation {', '.join(f'{e:.3f}' for e in a['start_errors'])}; pairwise layer-2 "
              f"1 − cos at the end ≥ {min(a['final_cos_layer2']):.2e}")
    if min(a["final_cos_layer2"]) <= 1e-7 and v.verdict == "held":
        v = replace(v, verdict="not held")
        detail += " (some retrained models coincide)"
    if mf["train_error"] > 0 and v.verdict == "not held":
        v = replace(v, verdict="underpowered")
        detail += f"; M_final is not a zero-error model ({mf['train_error']:.4f}): no global minimum to perturb"
    fs.append(finding("flat-global-minima", v, detail, {"final_errors": a["final_errors"]}))
    tests, rows = [], {}
    for name in MODELS:
        cc = np.array([[float(x) for x in r] for r in an[name]["agreement"]["correct_given_correct"]])
        m = cc.shape[0] - 1
        per = [float(np.mean([cc[k, j] for j in range(m) if j != k]) - 0.5 * (cc[k, m] + cc[m, k])) for k in range(m)]
        tests.append(Sample(name, per))
        rows[name] = {"agreement_gain": per, "min_final_cos_layer2": min(an[name]["final_cos_layer2"])}
    v = judge(RULE_SIMILAR, tests)
    if min(r["min_final_cos_layer2"] for r in rows.values()) <= 1e-7 and v.verdict == "held":
        v = replace(v, verdict="not held")
    fs.append(finding("similar-but-distinct", v, "smallest pairwise 1 − cos at the end: " + ", ".join(
        f"{n} {r['min_final_cos_layer2']:.1e}" for n, r in rows.items()), rows))
    pairs = _pairs(an)
    lower = [float(min(r["train_error"][1:-1]) - min(r["train_error"][0], r["train_error"][-1])) for r in pairs
             if len(r["train_error"]) > 2]
    walls = [float(max(r["train_error"]) - max(r["train_error"][0], r["train_error"][-1])) for r in pairs]
    test_lower = [float(min(r["test_error"][1:-1]) - min(r["test_error"][0], r["test_error"][-1])) for r in pairs
                  if len(r["test_error"]) > 2]
    fs.append(finding("interpolation-lower", judge(RULE_LOWER, Sample("M30 and M_final pairs", lower)),
                      "test error, the same statistic: " + ", ".join(f"{x:+.4f}" for x in test_lower),
                      {"interior_minus_best_end": lower, "test_interior_minus_best_end": test_lower}))
    fs.append(finding("no-walls", judge(RULE_WALLS, Sample("M30 and M_final pairs", walls)), "",
                      {"interior_max_minus_worse_end": walls}))
    return tuple(fs)


def run(ctx: ExperimentContext, preset: PerturbPreset | None = None) -> ExperimentReport:
    """Run §4.4 at ctx.scale and return its report."""
    p = preset or PRESETS[ctx.scale]
    common.pin_preset(ctx, p)
    base, an = run_models(ctx, p)
    figs = []
    nums = {"M5": {"curves": 13, "mds": (14, 15, 16), "run1": 17, "agreement": 18},
            "M30": {"curves": 19, "mds": (20, 21, 22), "run1": 23, "agreement": 24, "interp": 25},
            "Mfinal": {"curves": 26, "mds": (27, 28, 29), "run1": 30, "agreement": 31, "interp": 32}}
    labels = {"M5": f"M_5 (SGD epoch {p.snapshots[0]})", "M30": f"M_30 (SGD epoch {p.snapshots[1]})",
              "Mfinal": f"M_final (SGD {p.sgd_epochs} + GD {p.gd_epochs})"}
    for name in MODELS:
        figs += _figures(ctx, an[name], name, nums[name], labels[name], p)
    deviations = common.data_deviations(common.dataset_of(ctx), p.subset, p.widths, ctx.scale)
    if (p.snapshots, p.sgd_epochs, p.gd_epochs, p.retrain_epochs) != ((5, 30), 60, 400, 200):
        deviations.append(f"M_5, M_30 taken at SGD epochs {p.snapshots}, {p.sgd_epochs} SGD + {p.gd_epochs} GD epochs to "
                          f"M_final, {p.retrain_epochs} GD epochs of retraining (paper: 5, 30; 60 + 400; 200)")
    deviations.append(f"GD step {p.lr_gd} (the paper does not state it)")
    deviations.append("noise std α·std of each parameter tensor (weights and biases separately)")
    if p.test_examples:
        deviations.append(f"agreement matrices and interpolation test errors on the first {p.test_examples} test examples")
    if p.every > 1:
        deviations.append(f"every {p.every}th epoch (and the last) enters MDS and curves")
    deviations.append("training errors recomputed with batch-norm statistics of the training set; test curves from the "
                      "training run's own per-epoch evaluation")
    protocol = (f"SGD (batch 100, lr {p.lr_sgd}) for {p.sgd_epochs} epochs from a random initialisation, then GD "
                f"(lr {p.lr_gd}) for {p.gd_epochs} epochs; M_5, M_30 at SGD epochs {p.snapshots}, M_final the last",
                f"each of M_5, M_30, M_final: {p.runs} perturbations with noise {p.alpha}·std per parameter tensor, each "
                f"retrained with {p.retrain_epochs} GD epochs",
                "per retraining run: training/test error and loss, MDS (1 − cos) of layers 2, 4, 6 over the runs and "
                "of run 1 alone, points written as the epoch after the perturbation",
                "agreement matrices of the final retrained models and one random initialisation on the test set",
                f"M_30 and M_final: interpolation (1 − t)·w_1 + t·w_2 of perturbations 1 and 2 at {p.interp_points} "
                f"values of t in [0, 1], before and after retraining")
    measured = {"preset": asdict(p), "base": base,
                **{name: {k: an[name][k] for k in ("start_errors", "final_errors", "final_cos_layer2",
                                                     "start_cos_layer2")} for name in MODELS}}
    return ExperimentReport("ii-perturb-retrain", "Perturb M_5, M_30, M_final and retrain with GD",
                            "Theory II §4.4, Figs 13–32", ctx.scale, ctx.seed, protocol, tuple(deviations), CLAIMS,
                            perturb_findings(base, an, ctx.scale), measured, tuple(figs), 0.0)


RULE_ZERO_THROUGHOUT = Rule(
    "zero-error-throughout", 1, "largest training error of a retraining run at any epoch", "less", 0.01,
    "zero training error (M_final's)", "App. B, Fig. 35: the small perturbations stay at zero error — within 1 point")
RULE_SMALL_DIFFERENT = Rule(
    "small-perturbation-different", 1, "layer-2 1 − cos between two retrained runs at the end over the same after the "
    "perturbation (per disjoint pair)", "greater", 0.5, "the distance the perturbation created",
    "App. B, Fig. 36: the runs end at different models — at least half the starting distance survives")


def small_findings(base: dict, a: dict, scale: str) -> tuple[Finding, ...]:
    """Return the verdicts on the App. B claims (replicates: retraining runs, disjoint pairs of them)."""
    from dataclasses import replace

    mf = base["Mfinal"]
    v = judge(RULE_ZERO_THROUGHOUT, Sample("runs", a["max_errors"]))
    detail = f"M_final training error {mf['train_error']:.4f}"
    if mf["train_error"] > 0 and v.verdict == "not held":
        v = replace(v, verdict="underpowered")
        detail += ": not a zero-error model, so the premise is not met"
    f1 = finding("zero-error-throughout", v, detail, {"Mfinal_train_error": mf["train_error"],
                                                      "max_error_per_run": a["max_errors"]})
    # pairwise distances in triu order (0,1), (0,2), ..., so the disjoint pairs (0,1), (2,3), ... are picked by index
    n = len(a["max_errors"])
    iu = list(zip(*np.triu_indices(n, 1)))
    disjoint = [iu.index((k, k + 1)) for k in range(0, n - 1, 2)]
    ratios = [a["final_cos_layer2"][i] / a["start_cos_layer2"][i] for i in disjoint if a["start_cos_layer2"][i] > 0]
    f2 = finding("small-perturbation-different", judge(RULE_SMALL_DIFFERENT, Sample("disjoint pairs", ratios)),
                 f"median pairwise layer-2 1 − cos {np.median(a['start_cos_layer2']):.2e} after the perturbation, "
                 f"{np.median(a['final_cos_layer2']):.2e} after retraining", {"final_over_start": ratios})
    return f1, f2


def run_small(ctx: ExperimentContext, preset: PerturbPreset | None = None) -> ExperimentReport:
    """Run Appendix B at ctx.scale and return its report."""
    p = preset or SMALL_PRESETS[ctx.scale]
    common.pin_preset(ctx, p)
    base_runs = train_base(ctx, p)
    run_path = retrain_mean_abs(ctx, p, "retrain_Mfinal_mean_abs", base_runs["Mfinal"])
    a = ctx.stage("analyse", lambda: analyse(run_path, p, ctx.device, False, common.seed_for(ctx, "reference")))

    def base_summary() -> dict:
        ev = common.Evaluator(base_runs["Mfinal"], ctx.device)
        _, W = common.run_weights(base_runs["Mfinal"], [0])
        loss, err = ev.evaluate(W[-1, 0])
        return {"Mfinal": {"train_loss": loss, "train_error": err}}

    base = ctx.stage("base_summary", base_summary)
    figs = _figures(ctx, a, "Mfinal_small", {"curves": 35, "mds": (36, 37, 38)},
                    f"M_final (SGD {p.sgd_epochs} + GD {p.gd_epochs}), mean-abs noise", p)
    deviations = common.data_deviations(common.dataset_of(ctx), p.subset, p.widths, ctx.scale)
    if (p.sgd_epochs, p.gd_epochs, p.retrain_epochs) != (60, 372, 400):
        deviations.append(f"{p.sgd_epochs} SGD + {p.gd_epochs} GD epochs to M_final and {p.retrain_epochs} GD epochs of "
                          f"retraining (paper: 60 + 372; 400)")
    deviations.append(f"GD step {p.lr_gd} (the paper does not state it)")
    if p.runs != 4:
        deviations.append(f"{p.runs} perturbations (paper: 4), so that {p.runs // 2} disjoint pairs are independent "
                          f"replicates of the pairwise claim")
    deviations.append("Fig. 38's caption says layer 4 twice; layer 6 is drawn")
    protocol = (f"SGD (batch 100, lr {p.lr_sgd}) for {p.sgd_epochs} epochs, then GD (lr {p.lr_gd}) for {p.gd_epochs} "
                f"epochs: M_final",
                f"{p.runs} perturbations of M_final with noise std {p.alpha}·mean|w| per parameter tensor, each "
                f"retrained with {p.retrain_epochs} GD epochs",
                "training error (batch-norm statistics recomputed) at every epoch; MDS (1 − cos) of layers 2, 4, 6")
    measured = {"preset": asdict(p), "base": base, **{k: a[k] for k in ("start_errors", "final_errors", "max_errors",
                                                                         "start_cos_layer2", "final_cos_layer2")}}
    return ExperimentReport("ii-small-perturb", "Small perturbations of the zero-error model, retrained",
                            "Theory II App. B, Figs 35–38", ctx.scale, ctx.seed, protocol, tuple(deviations),
                            SMALL_CLAIMS, small_findings(base, a, ctx.scale), measured, tuple(figs), 0.0)


EXPERIMENTS = (
    Experiment("ii-perturb-retrain", "Perturb M_5, M_30, M_final and retrain with GD", "Theory II §4.4, Figs 13–32",
               CLAIMS, run, common.dataset_choices()),
    Experiment("ii-small-perturb", "Small perturbations of the zero-error model, retrained",
               "Theory II App. B, Figs 35–38", SMALL_CLAIMS, run_small, common.dataset_choices()),
)
