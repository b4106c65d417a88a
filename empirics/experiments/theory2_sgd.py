"""Theory II §4.2, Figs 3–8: SGD in stages of parallel trajectories, seen through MDS of layer weights.

Protocol (Poggio & Liao 2017, §4.2): the training is divided into stages; in each stage K parallel
SGD trajectories (batch 100, lr 0.01) run for E epochs. "Trajectories 1 to 4 in each stage start
from the final model (denoted by P) of trajectory 1 of the previous stage. Trajectories 5 to 8 in
each stage start from a perturbed version of P", Gaussian noise of 0.01 × each layer's std. Every
epoch's weights of every trajectory are embedded by classical MDS on 1 − cos, layer 2 (Figs 3–6)
and layer 5 (Figs 7–8), points written as their training error; Fig. 5 re-embeds the later stages.

Stage 1 starts from one random initialisation (the paper does not say how its stage 1 starts).
`run_stages` is shared with §6.1 (random labels, `theory2_random_labels`).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from empirics.experiments import Claim, Experiment, ExperimentContext, ExperimentReport, Finding
from empirics.experiments import common
from empirics.experiments import plots as xplots
from empirics.experiments.verdicts import Rule, Sample, finding, judge


@dataclass(frozen=True)
class SGDStagesPreset:
    """Sizes of one scale.

    stages: S training stages (paper 12); trajectories: K per stage (paper 8), of which `unperturbed`
    start exactly at P (paper 4); epochs: E per stage (paper 10); late: first stage of the separate
    "later stages" MDS (paper 5); subset: training examples (None: all); widths: CNN hidden widths
    (None: the 188,810-parameter network); lr, batch_size, perturb: the paper's 0.01, 100, 0.01.
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


PRESETS = {
    "smoke": SGDStagesPreset(stages=4, trajectories=4, unperturbed=2, epochs=2, late=3, subset=400, widths=(8, 16, 32, 16)),
    "cpu": SGDStagesPreset(stages=12, trajectories=8, unperturbed=4, epochs=2, late=5, subset=1000,
                           widths=(16, 32, 64, 32)),
    "paper": SGDStagesPreset(stages=12, trajectories=8, unperturbed=4, epochs=10, late=5, subset=None, widths=None),
}
MICRO = SGDStagesPreset(stages=2, trajectories=2, unperturbed=1, epochs=2, late=2, subset=100, widths=(4, 4, 4, 4))

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
    if p.late != 5:
        out.append(f"the separate MDS of later stages starts at stage {p.late} instead of 5")
    out.append("stage 1 starts every trajectory from one random initialisation (the paper does not say)")
    out.append("training errors of the MDS labels are measured with batch-norm statistics recomputed on the "
               "training set at each model")
    return out


def run_stages(ctx: ExperimentContext, p: SGDStagesPreset, prefix: str = "", random_labels: float = 0.0) -> dict:
    """Train the stages of §4.2 and return the measured summary (embeddings, errors, distances).

    Stage folders are `<prefix>init`, `<prefix>stage01`, ...; the summary is the stage
    `<prefix>measure`.
    """
    kw = dict(subset=p.subset, widths=p.widths, random_labels=random_labels, optimizer="sgd", lr=p.lr,
              batch_size=p.batch_size)
    init = common.train_stage(ctx, f"{prefix}init", common.base_config(
        ctx, epochs=0, trajectories=1, seed=common.seed_for(ctx, f"{prefix}init"), **kw))
    runs, prev = [], init["run"]
    for s in range(1, p.stages + 1):
        name = f"{prefix}stage{s:02d}"
        cfg = common.base_config(ctx, epochs=p.epochs, trajectories=p.trajectories, init_from=prev,
                                 perturb=p.perturb, unperturbed=p.unperturbed, seed=common.seed_for(ctx, name), **kw)
        prev = common.train_stage(ctx, name, cfg)["run"]
        runs.append(prev)
    return ctx.stage(f"{prefix}measure", lambda: measure_stages(runs, init["run"], p, ctx.device))


def measure_stages(runs: list[str], init_run: str, p: SGDStagesPreset, device: str = "cpu") -> dict:
    """Return the embeddings (layers 2 and 5, all and later stages), per-stage errors and distances."""
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
        for e_i, e in enumerate(epochs):
            if e == 0:
                continue
            for k in range(W.shape[1]):
                err = ev.evaluate(W[e_i, k])[1]
                pts.add(W[e_i, k], f"stage {s}", e, common.error_label(err), err)
                curves.append(f"s{s:02d}/t{k + 1}")
        start, final = W[0, 0], W[-1]
        fin = final[:, cols2]
        D = common.pairwise_cosine(fin)
        u = p.unperturbed
        iu = np.triu_indices(u, 1)
        euclid = np.linalg.norm(final[:, None, :] - final[None, :, :], axis=-1)
        travel = np.linalg.norm(final - start[None, :], axis=1)
        errs = [e for e, g in zip(pts.error, pts.group) if g == f"stage {s}"][-W.shape[1]:]
        per_stage.append({
            "stage": s,
            "final_train_error": errs,
            "min_cos_unperturbed_pairs": float(D[iu].min()) if len(iu[0]) else None,
            "mean_cos_all_pairs": float(D[np.triu_indices(len(D), 1)].mean()) if len(D) > 1 else None,
            "spread_over_travel": float(np.median(euclid[np.triu_indices(len(D), 1)]) / np.median(travel))
            if len(D) > 1 else None,
            # layer 2 vs layer 5 over this stage's models only: one value per stage (a replicate)
            "layer_rho_2_5": common.dissimilarity_correlation(pts.select([g == f"stage {s}" for g in pts.group]),
                                                              model, 2, 5)
            if sum(g == f"stage {s}" for g in pts.group) > 2 else None,
        })
    late = [g not in {f"stage {s}" for s in range(1, p.late)} for g in pts.group]
    out = {"points": len(pts.W), "curves": curves, "per_stage": per_stage,
           "all": common.embed(pts, model, (2, 5)),
           "late": common.embed(pts.select(late), model, (2, 5)),
           "late_curves": [c for c, k in zip(curves, late) if k],
           "layer_rho_2_5": common.dissimilarity_correlation(pts, model, 2, 5),
           "start_error": err0}
    return out


RULE_DIFFERENT = Rule(
    "sgd-reruns-slightly-different", 1, "median distance between a stage's final models over their median distance "
    "travelled from P (one value per stage)", "less", 1.0, "the distance each rerun travelled from its start P",
    "§4.2: reruns end at 'a slightly different model' — closer to each other than to where they started; a stage "
    "whose reruns coincide (1 − cos ≤ 1e-7) is reported")
RULE_LAYERS = Rule(
    "layers-alike", 1, "Spearman correlation of the pairwise 1 − cos of paper layers 2 and 5 over one stage's models",
    "greater", 0.5, "no relation between the layers' pictures (correlation 0)",
    "§4.2: layers give 'qualitatively similar results' — the two layers order pairs of models mostly alike")


def sgd_findings(m: dict, p: SGDStagesPreset) -> tuple[Finding, Finding]:
    """Return the verdicts on 'sgd-different' and 'layers-alike' (replicates: the stages, each from its own P)."""
    stages = m["per_stage"]
    ratios = [s["spread_over_travel"] for s in stages if s["spread_over_travel"] is not None]
    mins = [s["min_cos_unperturbed_pairs"] for s in stages if s["min_cos_unperturbed_pairs"] is not None]
    rhos = [s.get("layer_rho_2_5") for s in stages if s.get("layer_rho_2_5") is not None]
    v1 = judge(RULE_DIFFERENT, Sample("stages", ratios))
    detail = (f"smallest layer-2 1 − cos between reruns from one P: {min(mins):.2e}" if mins else
              "fewer than two unperturbed trajectories per stage")
    if mins and min(mins) <= 1e-7 and v1.verdict == "held":
        from dataclasses import replace

        v1 = replace(v1, verdict="not held")
        detail += " — some reruns coincide"
    f1 = finding("sgd-different", v1, detail, {"min_cos_between_reruns": min(mins) if mins else None,
                                                "median_spread_over_travel": float(np.median(ratios)) if ratios
                                                else float("nan"), "spread_over_travel": ratios})
    f2 = finding("layers-alike", judge(RULE_LAYERS, Sample("stages", rhos)),
                 f"over all {m['points']} models together: {m['layer_rho_2_5']:.2f}",
                 {"spearman_layer2_layer5": m["layer_rho_2_5"], "per_stage": rhos})
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
    p = preset or PRESETS[ctx.scale]
    common.pin_preset(ctx, p)
    m = run_stages(ctx, p)
    figs = draw_stage_figures(ctx, m, p)
    findings = sgd_findings(m, p)
    protocol = (
        f"one random initialisation of the DCNN (seed from the experiment seed); start error {100 * m['start_error']:.0f} %",
        f"{p.stages} stages; in each, {p.trajectories} parallel SGD trajectories (batch {p.batch_size}, lr {p.lr}) for "
        f"{p.epochs} epochs; trajectories 1–{p.unperturbed} start at P = final model of trajectory 1 of the previous "
        f"stage, the others at P plus Gaussian noise of {p.perturb} × each parameter tensor's std",
        "training error of every saved model on the training set, batch-norm statistics recomputed at the model",
        f"classical MDS on 1 − cos of layer 2 and layer 5 weights (layer 1 = input): all stages, and stages "
        f"{p.late}–{p.stages} separately",
        "distances between the final models of each stage: 1 − cos (layer 2) between reruns from P, and the "
        "Euclidean spread of the final models over their distance travelled from P")
    measured = {"preset": asdict(p), "per_stage": m["per_stage"], "layer_rho_2_5": m["layer_rho_2_5"],
                "points": m["points"], "stress": {k: m["all"][k]["stress"] for k in m["all"]}}
    return ExperimentReport("ii-sgd-stages", "SGD in stages of parallel trajectories (MDS of layer weights)",
                            "Theory II §4.2, Figs 3–8", ctx.scale, ctx.seed, protocol,
                            tuple(paper_deviations(p, common.dataset_of(ctx), ctx.scale)), CLAIMS, findings, measured,
                            tuple(figs), 0.0)


EXPERIMENTS = (Experiment("ii-sgd-stages", "SGD in stages of parallel trajectories (MDS of layer weights)",
                          "Theory II §4.2, Figs 3–8", CLAIMS, run, common.dataset_choices()),)
