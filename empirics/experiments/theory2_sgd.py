"""Theory II §4.2, Figs 3–8: SGD in stages of parallel trajectories, seen through MDS of layer weights.

Protocol (Poggio & Liao 2017, "Theory of Deep Learning II: Landscape of the Empirical Risk in Deep Learning",
arXiv:1703.09833, §4.2): the training is divided into stages; in each stage K parallel
SGD trajectories (batch 100, lr 0.01) run for E epochs. "Trajectories 1 to 4 in each stage start
from the final model (denoted by P) of trajectory 1 of the previous stage. Trajectories 5 to 8 in
each stage start from a perturbed version of P", Gaussian noise of 0.01 × each layer's std. Every
epoch's weights of every trajectory are embedded by classical MDS on 1 − cos, layer 2 (Figs 3–6)
and layer 5 (Figs 7–8), points written as their training error; Fig. 5 re-embeds the later stages.

Stage 1 starts from one random initialisation (the paper does not say how its stage 1 starts).

Replicates: the claims are about what a chain of stages shows, so one replicate is one whole chain
(its own training subset, initialisation and every stage), judged once; the stages of one chain are
not independent of each other. Each chain must reach zero training error (its last P) before it
counts: Theory II's pictures are of SGD reaching its zero-error minima. `run_chain` is shared with
§6.1 (random labels, `theory2_random_labels`).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from empirics.experiments import identity, Claim, Experiment, ExperimentContext, ExperimentReport, Finding, Replicate
from empirics.experiments import common
from empirics.experiments import plots as xplots
from empirics.experiments.verdicts import Premise, Rule, Sample, finding, judge


@dataclass(frozen=True)
class SGDStagesPreset:
    """Sizes of one scale.

    stages: S training stages (paper 12); trajectories: K per stage (paper 8), of which `unperturbed`
    start exactly at P (paper 4); epochs: E per stage (paper 10); late: first stage of the separate
    "later stages" MDS (paper 5); subset: training examples (None: all); widths: CNN hidden widths
    (None: the 188,810-parameter network); lr, batch_size, perturb: the paper's 0.01, 100, 0.01;
    replicates: whole independent chains.
    """

    stages: int
    trajectories: int
    unperturbed: int
    epochs: int
    late: int
    subset: int | None
    widths: tuple[int, ...] | None
    lr: float = 0.01
    batch_size: int = 100
    perturb: float = 0.01
    replicates: int = 3


PRESETS = {
    # SGD with lr 0.1 on batches of 20 fits 100 examples (zero training error) in about 15 epochs
    "smoke": SGDStagesPreset(stages=4, trajectories=4, unperturbed=2, epochs=5, late=3, subset=100,
                             widths=(8, 16, 32, 16), lr=0.1, batch_size=20, replicates=3),
    # Replicates from the smoke pilot (seed 7, 3 chains): sd 0.0044 of spread/travel and 0.0087 of the layer
    # correlation give 80 % power at δ with 2 chains (`verdicts.replicates_for`); 3, so that one chain missing the
    # premise still leaves an interval (about 5 minutes on one core).
    "cpu": SGDStagesPreset(stages=8, trajectories=8, unperturbed=4, epochs=4, late=5, subset=200,
                           widths=(8, 16, 32, 16), lr=0.1, batch_size=20, replicates=3),
    "paper": SGDStagesPreset(stages=12, trajectories=8, unperturbed=4, epochs=10, late=5, subset=None, widths=None,
                             replicates=4),
}
MICRO = SGDStagesPreset(stages=2, trajectories=2, unperturbed=1, epochs=2, late=2, subset=40, widths=(4, 4, 4, 4),
                        lr=0.1, batch_size=20, replicates=2)

CLAIMS = (
    Claim("sgd-different", "Theory II", "§4.2, Figs 3–4",
          "In general, we observe that running any trajectory with SGD again almost always leads to a slightly "
          "different model."),
    Claim("layers-alike", "Theory II", "§4.2, Figs 7–8",
          "The weights of different layers tend to produce qualitatively similar results."),
)


def paper_deviations(p: SGDStagesPreset, dataset: str, scale: str | None = None) -> list[str]:
    """Return the ways preset `p` on `dataset` differs from §4.2's protocol."""
    out = common.data_deviations(dataset, p.subset, p.widths, scale)
    if (p.stages, p.trajectories, p.unperturbed, p.epochs) != (12, 8, 4, 10):
        out.append(f"{p.stages} stages × {p.trajectories} trajectories ({p.unperturbed} unperturbed) × {p.epochs} "
                   f"epochs instead of 12 × 8 (4) × 10")
    if (p.lr, p.batch_size) != (0.01, 100):
        out.append(f"SGD with lr {p.lr} on batches of {p.batch_size} instead of lr 0.01 on batches of 100, so that "
                   "the chain reaches zero training error on its subset within the budget")
    if p.late != 5:
        out.append(f"the separate MDS of later stages starts at stage {p.late} instead of 5")
    out.append("stage 1 starts every trajectory from the chain's one random initialisation (the paper does not say)")
    out.append("training errors of the MDS labels are measured with batch-norm statistics recomputed on the "
               "training set at each model")
    return out


def run_chain(ctx: ExperimentContext, rep: Replicate, p: SGDStagesPreset, prefix: str = "",
              random_labels: float = 0.0, embed: bool = False) -> dict:
    """Train one whole chain of §4.2's stages inside replicate `rep` and return its measured summary.

    The chain is the replicate's own: training subset and order from `rep.seed('data')`, its own
    random initialisation, every stage started from its own previous stage. Stage folders are
    `stages/rNN/<prefix>init`, `<prefix>stage01`, ...; the summary is the stage `<prefix>measure`.
    """
    kw = dict(subset=p.subset, widths=p.widths, random_labels=random_labels, optimizer="sgd", lr=p.lr,
              batch_size=p.batch_size, eval_every=max(1, p.epochs))
    init = common.train_stage(ctx, f"{prefix}init", common.base_config(
        ctx, epochs=0, trajectories=1, seed=common.seed_for(rep, f"{prefix}init"), rep=rep, **kw), rep=rep)
    runs, prev = [], init["run"]
    for s in range(1, p.stages + 1):
        name = f"{prefix}stage{s:02d}"
        cfg = common.base_config(ctx, epochs=p.epochs, trajectories=p.trajectories, init_from=prev,
                                 perturb=p.perturb, unperturbed=p.unperturbed, seed=common.seed_for(rep, name), rep=rep,
                                 **kw)
        prev = common.train_stage(ctx, name, cfg, rep=rep)["run"]
        runs.append(prev)
    return rep.stage(f"{prefix}measure", lambda: measure_stages(runs, init["run"], p, ctx.device, embed))


def measure_stages(runs: list[str], init_run: str, p: SGDStagesPreset, device: str = "cpu", embed: bool = True) -> dict:
    """Return one chain's per-stage errors and distances, its layer 2–5 correlation and (if `embed`) the MDS.

    Per stage: the training error of every final model, 1 − cos (layer 2) between reruns from P, and the
    median Euclidean distance (all weights) between the final models over their median distance
    travelled from P. `final_p_error`: the training error of the chain's last P (trajectory 1 at the
    end of the last stage). `layer_rho_2_5`: Spearman correlation of the pairwise 1 − cos of paper
    layers 2 and 5 over every saved model of the chain (Theory II §4.2's "qualitatively similar").
    """
    ev = common.Evaluator(runs[0], device)
    model = common.model_of(runs[0])
    pts = common.Points()
    _, W0 = common.run_weights(init_run)
    err0 = ev.evaluate(W0[0, 0])[1]
    pts.add(W0[0, 0], "stage 1", 0, common.error_label(err0), err0)
    curves = ["s01/t1"]
    per_stage = []
    cols2 = common.paper_layer_columns(model, 2)
    for s, run in enumerate(runs, 1):
        epochs, W = common.run_weights(run)
        last = len(epochs) - 1
        errs = []
        for e_i, e in enumerate(epochs):
            if e == 0:
                continue
            for k in range(W.shape[1]):
                err = ev.evaluate(W[e_i, k])[1] if (embed or e_i == last) else float("nan")
                pts.add(W[e_i, k], f"stage {s}", e, common.error_label(err), err)
                curves.append(f"s{s:02d}/t{k + 1}")
                if e_i == last:
                    errs.append(err)
        start, final = W[0, 0], W[-1]
        D = common.pairwise_cosine(final[:, cols2])
        iu = np.triu_indices(p.unperturbed, 1)
        euclid = np.linalg.norm(final[:, None, :] - final[None, :, :], axis=-1)
        travel = np.linalg.norm(final - start[None, :], axis=1)
        per_stage.append({
            "stage": s,
            "final_train_error": errs,
            "min_cos_unperturbed_pairs": float(D[iu].min()) if len(iu[0]) else None,
            "mean_cos_all_pairs": float(D[np.triu_indices(len(D), 1)].mean()) if len(D) > 1 else None,
            "spread_over_travel": float(np.median(euclid[np.triu_indices(len(D), 1)]) / np.median(travel))
            if len(D) > 1 else None,
        })
    out = {"points": len(pts.W), "per_stage": per_stage, "start_error": err0,
           "final_p_error": per_stage[-1]["final_train_error"][0],
           "layer_rho_2_5": common.dissimilarity_correlation(pts, model, 2, 5)}
    if embed:
        late = [g not in {f"stage {s}" for s in range(1, p.late)} for g in pts.group]
        out.update({"curves": curves, "all": common.embed(pts, model, (2, 5)),
                    "late": common.embed(pts.select(late), model, (2, 5)),
                    "late_curves": [c for c, k in zip(curves, late) if k]})
    return out


def chain_statistics(m: dict) -> dict:
    """Return one chain's descriptors: median spread/travel over its stages, layer 2–5 correlation, last P's error."""
    ratios = [s["spread_over_travel"] for s in m["per_stage"] if s["spread_over_travel"] is not None]
    mins = [s["min_cos_unperturbed_pairs"] for s in m["per_stage"] if s["min_cos_unperturbed_pairs"] is not None]
    return {"spread_over_travel": float(np.median(ratios)) if ratios else float("nan"),
            "min_cos_between_reruns": min(mins) if mins else None,
            "layer_rho_2_5": m["layer_rho_2_5"], "final_p_error": m["final_p_error"], "start_error": m["start_error"],
            "per_stage_spread": ratios}


PREMISE_FIT = Premise(
    "zero training error", "training error of the chain's last P (trajectory 1 at the end of the last stage, fraction)",
    0.0, "at most", "Theory II §4.2's stages run SGD to the zero-error minima its theory is about; a chain still "
    "misclassifying training examples has not reached them")
RULE_DIFFERENT = Rule(
    "sgd-reruns-slightly-different", 2, "median over one chain's stages of the median Euclidean distance between a "
    "stage's final models over their median distance travelled from P", "less", 1.0,
    "the distance each rerun travelled from its start P",
    "§4.2: reruns end at 'a slightly different model' — closer to each other than each is to where it started "
    "(independent displacements would give √2 ≈ 1.41); δ = 0.5: reruns at least half as far apart as they travelled "
    "are not 'slightly' different", delta=0.5, premise=PREMISE_FIT)
RULE_LAYERS = Rule(
    "layers-alike", 2, "Spearman correlation of the pairwise 1 − cos of paper layers 2 and 5 over every model of one "
    "chain", "greater", 0.5, "no more than a weak agreement of the layers' pictures (correlation 0.5)",
    "§4.2: layers give 'qualitatively similar results' — the two layers order pairs of models mostly alike; δ = 0.2: "
    "a correlation below 0.7 is too loose for 'similar'", delta=0.2, premise=PREMISE_FIT)


def sgd_findings(stats: list[dict], roots: list[int]) -> tuple[Finding, Finding]:
    """Return the verdicts on 'sgd-different' and 'layers-alike': one whole chain per replicate."""
    col = lambda k: [s[k] for s in stats]  # noqa: E731
    prem = col("final_p_error")
    mins = [x for x in col("min_cos_between_reruns") if x is not None]
    detail = (f"smallest layer-2 1 − cos between reruns from one P: {min(mins):.2e}" if mins else
              "fewer than two unperturbed trajectories per stage")
    f1 = finding("sgd-different", judge(RULE_DIFFERENT, Sample("chains", col("spread_over_travel"), roots, premise=prem)),
                 detail, {"min_cos_between_reruns": min(mins) if mins else None,
                          "spread_over_travel": col("spread_over_travel")})
    f2 = finding("layers-alike", judge(RULE_LAYERS, Sample("chains", col("layer_rho_2_5"), roots, premise=prem)),
                 "", {"spearman_layer2_layer5": col("layer_rho_2_5")})
    return f1, f2


def draw_stage_figures(ctx: ExperimentContext, m: dict, p: SGDStagesPreset, prefix: str = "",
                       what: str = "") -> list[tuple[str, str]]:
    """Draw Figs 3–8 from a `measure_stages` summary and return (file, caption) pairs."""
    figs = []
    early = list(range(1, min(3, p.stages) + 1))
    later = list(range(p.late, min(p.late + 2, p.stages) + 1))
    for layer, fig_all, fig_late in (("2", 3, 5), ("5", 7, 8)):
        res = m["all"][layer]
        f = f"{prefix}fig{fig_all}_layer{layer}_all_stages.png"
        xplots.plot_mds(res, ctx.path(f), f"Layer {layer}{what}, stages 1–{p.stages}; numbers are training errors (%)",
                        curves=m["curves"], legend_title="stage")
        figs.append((f, f"Fig. {fig_all}: MDS of layer {layer} weights of every epoch of every trajectory, all stages"))
        resl = m["late"][layer]
        f = f"{prefix}fig{fig_late}_layer{layer}_stages{p.late}-{p.stages}.png"
        xplots.plot_mds(resl, ctx.path(f), f"Layer {layer}{what}, separate MDS of stages {p.late}–{p.stages}; "
                        f"numbers are training errors (%)", curves=m["late_curves"], legend_title="stage")
        figs.append((f, f"Fig. {fig_late}: separate MDS of the later stages, layer {layer}"))
        if layer == "2":
            for fig_no, stages, source, curves in ((4, early, res, m["curves"]), (6, later, resl, m["late_curves"])):
                traj = [c.split("/")[1].replace("t", "trajectory ") for c in curves]
                panels = [(f"stage {s}", [g == f"stage {s}" for g in source["group"]]) for s in stages]
                f = f"{prefix}fig{fig_no}_layer2_stages{stages[0]}-{stages[-1]}.png"
                xplots.plot_mds_panels(source, ctx.path(f), panels, traj, curves,
                                       f"Layer 2{what}: parallel trajectories of stages {stages[0]}–{stages[-1]} "
                                       f"(trajectories 1–{p.unperturbed} start at P, the others at P perturbed); "
                                       f"numbers are training errors (%)", legend_title="trajectory")
                figs.append((f, f"Fig. {fig_no}: the parallel trajectories of stages {stages[0]}–{stages[-1]}, "
                                f"one panel per stage"))
    return figs


def run(ctx: ExperimentContext, preset: SGDStagesPreset | None = None) -> ExperimentReport:
    """Run §4.2 at ctx.scale and return its report."""
    p = ctx.preset(PRESETS, preset)
    reps = ctx.replicates(p.replicates)
    ms = [run_chain(ctx, rep, p, embed=rep.index == 0) for rep in reps]
    stats = [chain_statistics(m) for m in ms]
    roots = [rep.root for rep in reps]
    figs = draw_stage_figures(ctx, ms[0], p)
    findings = sgd_findings(stats, roots)
    protocol = (
        f"{p.replicates} replicates, each one whole chain from its own root seed: training subset and order, random "
        f"initialisation, every stage",
        f"per chain: {p.stages} stages; in each, {p.trajectories} parallel SGD trajectories (batch {p.batch_size}, lr "
        f"{p.lr}) for {p.epochs} epochs; trajectories 1–{p.unperturbed} start at P = final model of trajectory 1 of the "
        f"previous stage, the others at P plus Gaussian noise of {p.perturb} × each parameter tensor's std",
        "premise per chain: the training error of its last P (zero: the chain reached a global minimum)",
        "training error of every saved model on the training set, batch-norm statistics recomputed at the model",
        f"classical MDS on 1 − cos of layer 2 and layer 5 weights (layer 1 = input) of replicate 0's chain: all stages, "
        f"and stages {p.late}–{p.stages} separately",
        "per chain: the median over stages of the Euclidean spread of a stage's final models over their distance "
        "travelled from P; the Spearman correlation of layers 2 and 5's pairwise 1 − cos over the chain's models",
        "Rules: " + "; ".join(f"{r.tag}: {r.describe()}" for r in (RULE_DIFFERENT, RULE_LAYERS)))
    measured = {"preset": asdict(p), "roots": roots, "replicates": stats, "points": ms[0]["points"],
                "stress": {k: ms[0]["all"][k]["stress"] for k in ms[0]["all"]}}
    return ExperimentReport(*identity("ii-sgd-stages"), ctx.scale, ctx.seed, protocol,
                            tuple(paper_deviations(p, common.dataset_of(ctx), ctx.scale)), CLAIMS, findings, measured,
                            tuple(figs), 0.0)


EXPERIMENTS = (Experiment("ii-sgd-stages", "SGD in stages of parallel trajectories (MDS of layer weights)",
                          "Theory II §4.2, Figs 3–8", CLAIMS, run, common.dataset_choices()),)
