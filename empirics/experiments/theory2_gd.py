"""Theory II §4.3, Figs 9–12: full-batch GD, perturbed branches, and the models interpolated between them.

Protocol (Poggio & Liao 2017, arXiv:1703.09833, §4.3): "We train a model from scratch using BGD. At epoch
0, 10, 50 and 200, we create a branch by perturbing the model by adding a Gaussian noise to all layers",
std α·S with S each layer's weight std (α = 0.25 in Figs 9–10, α = 1 in Figs 11–12). "We also
interpolate (by averaging) the models between the branches and the main trajectory, epoch by epoch.
The interpolated models are evaluated on the entire training set". Main trajectory, branches and the
interpolated models together enter one MDS (layer 2 for α = 0.25, layer 3 for α = 1), each point
written as its training error.

Replicates: each is a whole independent run: its own training subset and initialisation (its root
seed), its own main GD trajectory, and its own branches (one noise draw per branch epoch and α),
each started from that main trajectory's saved epoch (`init_from RUN:EPOCH`). The claims concern
global minima, so every verdict is gated on the premise that the replicate's main trajectory reaches
zero training error (full-batch GD on a subset small enough to interpolate).

Distances are Euclidean over all weights: GD moves the first convolution far less than the noise
injects (1 − cos of layer 2 travels about 0.002 while α = 0.25 injects 0.03), so a kept fraction of
the layer-2 distance near 1 said only that GD barely moved. The branch separation is therefore
judged against how far GD itself moves: a kept fraction counts only where the main trajectory travels
at least as far as the gap it could close, and the separation at the end is measured in units of the
main trajectory's own travel.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from empirics.experiments import identity, Claim, Experiment, ExperimentContext, ExperimentReport, Finding, Replicate
from empirics.experiments import common
from empirics.experiments.verdicts import Premise, Rule, Sample, finding, judge
from empirics.experiments import plots as xplots


@dataclass(frozen=True)
class GDBranchesPreset:
    """Sizes of one scale.

    epochs: length of the main GD trajectory (the paper does not state it; it branches at 200);
    branch_at: epochs where branches start (paper 0, 10, 50, 200); alphas: perturbation sizes as
    multiples of each layer's std (paper 0.25 and 1); lr: GD step (not stated in the paper);
    every: keep every n-th epoch as an MDS point; subset, widths: as in `common.base_config`;
    replicates: whole independent runs (subset, initialisation, main trajectory, branches).
    """

    epochs: int
    branch_at: tuple[int, ...]
    alphas: tuple[float, ...]
    lr: float
    every: int
    subset: int | None
    widths: tuple[int, ...] | None
    replicates: int = 3


PRESETS = {
    # full-batch GD with lr 0.5 fits 80 examples (zero training error) in about 20 epochs
    "smoke": GDBranchesPreset(epochs=30, branch_at=(0, 3, 8), alphas=(0.25, 1.0), lr=0.5, every=3, subset=80,
                              widths=(8, 16, 32, 16), replicates=4),
    # Replicates from the smoke pilot (seed 7, 4 replicates; sd per replicate → replicates for 80 % power at δ,
    # `verdicts.replicates_for`): not-stuck 0.0027 → 3; later-less-different 0.15 → 21; perturbation-different
    # 0.12–0.28 → over 50; interpolation 0.0073 → 3; larger-more-separated 0.0073 → 7. 8 replicates fit about 6
    # minutes on one core (power at δ then ≈ 1, 0.36, 0.07–0.17, 1, 0.91); 21 would not fit the 15-minute budget.
    "cpu": GDBranchesPreset(epochs=40, branch_at=(0, 4, 10, 20), alphas=(0.25, 1.0), lr=0.5, every=4, subset=100,
                            widths=(8, 16, 32, 16), replicates=8),
    "paper": GDBranchesPreset(epochs=400, branch_at=(0, 10, 50, 200), alphas=(0.25, 1.0), lr=0.01, every=10,
                              subset=None, widths=None, replicates=6),
}
MICRO = GDBranchesPreset(epochs=4, branch_at=(0, 2), alphas=(0.25, 1.0), lr=0.5, every=1, subset=40,
                         widths=(4, 4, 4, 4), replicates=2)

CLAIMS = (
    Claim("gd-no-local-minima", "Theory II", "§4.3, Fig. 9",
          "First, surprisingly, BGD does not get stuck in any local minima, indicating some good properties of the "
          "landscape."),
    Claim("later-less-different", "Theory II", "§4.3, Fig. 9",
          "Another interesting observation is that as training proceeds, the same amount of perturbation are less able "
          "to lead to a drastically different trajectory."),
    Claim("perturbation-different", "Theory II", "§4.3, Fig. 9",
          "Nevertheless, a perturbation almost always leads to at least a slightly different model."),
    Claim("interpolation-reasonable", "Theory II", "§4.3, Fig. 9",
          "It is also intriguing to see interpolated models to have very reasonable performance."),
    Claim("larger-more-separated", "Theory II", "§4.3, Fig. 11", "Larger perturbations leads to more separated branches."),
)


def _alpha_tag(a: float) -> str:
    return f"{a:g}".replace(".", "p")


def branch_name(a: float, b: int) -> str:
    """Return the stage name of the branch started at epoch b with noise α·S."""
    return f"branch_a{_alpha_tag(a)}_e{b:04d}"


def train_replicate(ctx: ExperimentContext, rep: Replicate, p: GDBranchesPreset) -> tuple[str, dict]:
    """Train one replicate's main trajectory and its branches; return (main run, {(b, α): branch run}).

    Everything is drawn from the replicate's root: training subset and order (`rep.seed('data')`), the
    main trajectory's initialisation, each branch's noise. Each branch starts from the main run's saved
    epoch b (`init_from RUN:b`) and runs with GD to the main trajectory's last epoch.
    """
    # evaluation during training only at the ends: `measure` evaluates what the claims need
    kw = dict(subset=p.subset, widths=p.widths, optimizer="gd", lr=p.lr, eval_every=max(1, p.epochs))
    main = common.train_stage(ctx, "main", common.base_config(ctx, epochs=p.epochs, seed=common.seed_for(rep, "main"),
                                                              rep=rep, **kw), rep=rep)["run"]
    branches = {}
    for a in p.alphas:
        for b in p.branch_at:
            name = branch_name(a, b)
            cfg = common.base_config(ctx, epochs=p.epochs - b, seed=common.seed_for(rep, name), init_from=f"{main}:{b}",
                                     perturb=a, rep=rep, **kw)
            branches[(b, a)] = common.train_stage(ctx, name, cfg, rep=rep)["run"]
    return main, branches


def predicted_classes(ev: common.Evaluator, w: np.ndarray):
    """Return the predicted class of every scored test example at w (batch-norm statistics recomputed on the training set)."""
    import torch

    ev.train._load(torch.as_tensor(w, dtype=ev.train.dtype, device=ev.train.device), None)
    with torch.no_grad():
        out = torch.cat([ev.train.model(ev.x_test[i:i + 1000]) for i in range(0, len(ev.x_test), 1000)])
    return out.argmax(1).cpu().numpy()


def measure(main_run: str, branches: dict, p: GDBranchesPreset, device: str = "cpu", embed: bool = False) -> dict:
    """Return one replicate's distances, errors and disagreements behind the claims (and, if `embed`, the MDS).

    Per branch (b, α): d_b = ‖branch_b − main_b‖ (what the noise injected), d_E = ‖branch_E − main_E‖ at the
    last epoch E, the main trajectory's travel ‖main_E − main_b‖, the branch's final training loss and
    error, the training and test error of ½(branch_E + main_E), and the fraction of scored test examples on
    which branch_E and main_E predict different classes. Norms are Euclidean over all weights.
    """
    ev = common.Evaluator(main_run, device)
    model = common.model_of(main_run)
    epochs, W = common.run_weights(main_run, [0])
    main = {e: w for e, w in zip(epochs, W[:, 0])}
    end = p.epochs
    keep = lambda e: e % p.every == 0 or e == end  # noqa: E731
    main_eval = {e: ev.evaluate(w) for e, w in main.items() if keep(e)}
    pred_end = predicted_classes(ev, main[end])
    travel_total = float(np.linalg.norm(main[end] - main[0]))
    out: dict = {"main": {"epoch": sorted(main_eval), "train_loss": [main_eval[e][0] for e in sorted(main_eval)],
                          "train_error": [main_eval[e][1] for e in sorted(main_eval)]},
                 "final_error": main_eval[end][1], "final_loss": main_eval[end][0], "initial_loss": main_eval[0][0],
                 "travel_total": travel_total, "test_examples": int(len(pred_end)), "alphas": {}}
    cols = {L: common.paper_layer_columns(model, L) for L in (2, 3)}
    for a in p.alphas:
        pts, curves, per_branch = common.Points(), [], []
        if embed:
            for e in sorted(main_eval):
                # "NaN corresponds to randomly initialized models": we measure them instead.
                pts.add(main[e], "main", e, common.error_label(main_eval[e][1]), main_eval[e][1])
                curves.append("main")
        for b in p.branch_at:
            be, BW = common.run_weights(branches[(b, a)], [0])
            bw = {b + e: w for e, w in zip(be, BW[:, 0])}
            if embed:
                for e in sorted(bw):
                    if keep(e):
                        eb = ev.evaluate(bw[e])[1]
                        ei = ev.evaluate(0.5 * (bw[e] + main[e]))[1]
                        pts.add(bw[e], f"branch @{b}", e, common.error_label(eb), eb)
                        pts.add(0.5 * (bw[e] + main[e]), f"average @{b}", e, common.error_label(ei), ei)
                        curves += [f"branch @{b}", f"average @{b}"]
            lb, eb = ev.evaluate(bw[end])
            ei = ev.evaluate(0.5 * (bw[end] + main[end]))[1]
            gap = [float(np.linalg.norm(bw[e] - main[e])) for e in range(b, end + 1)]
            te = [ev.test(w)[1] for w in (bw[end], main[end], 0.5 * (bw[end] + main[end]))]
            per_branch.append({
                "branch_at": b, "injected": gap[0], "end_distance": gap[-1],
                "kept": gap[-1] / max(gap[0], 1e-30), "kept_by_epoch": [g / max(gap[0], 1e-30) for g in gap],
                "main_travel": float(np.linalg.norm(main[end] - main[b])),
                "end_over_main_travel": gap[-1] / max(travel_total, 1e-30),
                "final_error": eb, "final_loss": lb, "average_final_error": ei,
                "average_excess_error_final": float(ei - max(eb, main_eval[end][1])),
                "test_error": te[0], "average_test_error": te[2],
                "average_excess_test_error": float(te[2] - max(te[0], te[1])),
                "test_disagreement": float(np.mean(predicted_classes(ev, bw[end]) != pred_end)),
                "end_cos": {L: common.cosine_distance(bw[end][c], main[end][c]) for L, c in cols.items()},
                "start_cos": {L: common.cosine_distance(bw[b][c], main[b][c]) for L, c in cols.items()}})
        layer = 2 if a == min(p.alphas) else 3
        rec = {"branches": per_branch, "layer": layer}
        if embed:
            rec.update({"mds": common.embed(pts, model, (layer,))[str(layer)], "curves": curves})
        out["alphas"][str(a)] = rec
    return out


PREMISE_ZERO = Premise(
    "zero training error", "training error of the replicate's main GD trajectory at its last epoch (fraction)", 0.0,
    "at most", "Theory II's claims are about global minima, zero training error; full-batch GD on a subset small "
    "enough to interpolate must reach it before branches can be said to (not) get stuck")
PREMISE_MOVES = Premise(
    "GD moves as far as the noise", "distance the main trajectory travels from the branch epoch to the end over the "
    "distance the noise injected (Euclidean, all weights)", 1.0, "at least",
    "a kept fraction near 1 says nothing when GD moves less than the gap it could close")

RULE_NOT_STUCK = Rule(
    "gd-not-stuck", 2, "largest final training loss over the replicate's branches, as a fraction of the main "
    "trajectory's loss at initialisation", "less", 0.05,
    "the global minimum of the cross-entropy on an interpolated subset (0)",
    "§4.3: 'BGD does not get stuck in any local minima' — every branch removes at least 95 % of the initial loss, "
    "as the replicate's main trajectory does when it interpolates; δ = 0.03: a worst branch keeping more than 2 % "
    "(about 0.05 nats on ten classes) while its main trajectory is at zero error has not reached the global minimum",
    delta=0.03, premise=PREMISE_ZERO)
RULE_LATER = Rule(
    "gd-later-less-different", 2, "least-squares change, from the first to the last branch epoch, of a branch's end "
    "distance from the main trajectory in units of the main trajectory's own travel from initialisation to the end "
    "(α the smaller, Euclidean over all weights)", "less", 0.0,
    "no change with the branch epoch", "§4.3: 'as training proceeds, the same amount of perturbation are less able "
    "to lead to a drastically different trajectory'; δ = 0.1: a tenth of the main trajectory's own travel is the "
    "smallest change of separation an MDS picture of that trajectory shows", delta=0.1, premise=PREMISE_ZERO)
RULE_DIFFERENT = Rule(
    "gd-perturbation-different", 2, "a branch's end distance from the main trajectory over the distance the noise "
    "injected at the branch epoch (kept fraction, α the smaller, Euclidean over all weights), per branch epoch in the "
    "first third of the run (later, GD travels less than the noise injects: pilot)",
    "greater", 0.05, "the injected distance, counted only where GD itself travels at least that far",
    "§4.3: 'a perturbation almost always leads to at least a slightly different model'; margin 0.05: GD closing 95 % "
    "of the gap brings the branch back to the same model; δ = 0.05: keeping a tenth of it is 'slightly different'",
    delta=0.05, premise=PREMISE_MOVES)
RULE_INTERP = Rule(
    "gd-interpolation-reasonable", 2, "test error of ½(branch + main) at the end minus the worse of the two end "
    "models' test errors, largest over the replicate's branches of the smaller α", "less", 0.05,
    "the worse of the two end models", "§4.3: interpolated models have 'very reasonable performance' — within 5 "
    "points of the models they average; δ = 0.03: an average more than 2 points worse than both ends is not what the "
    "figure shows. Test error, because on an interpolated subset the training error of every end model is zero and "
    "that of the averages too, leaving no spread", delta=0.03, premise=PREMISE_ZERO)
RULE_LARGER = Rule(
    "gd-larger-more-separated", 2, "fraction of scored test examples on which the branch's end model and the main "
    "trajectory's end model predict different classes, α the larger minus α the smaller (mean over branch epochs)",
    "greater", 0.0, "the branch of the smaller α started at the same epoch",
    "§4.3, Fig. 11: 'Larger perturbations leads to more separated branches'; the weight distance grows with α by "
    "construction, the end models' behaviour need not (GD could bring both to the same function); δ = 0.01: one "
    "test prediction in a hundred", delta=0.01, premise=PREMISE_ZERO)
RULES = (RULE_NOT_STUCK, RULE_LATER, RULE_DIFFERENT, RULE_INTERP, RULE_LARGER)


def _slope_change(bs: list[int], y: list[float]) -> float:
    """Return the least-squares slope of y on bs times the span of bs (the fitted change from first to last)."""
    x = np.asarray(bs, float)
    y = np.asarray(y, float)
    return float((y - y.mean()) @ (x - x.mean()) / ((x - x.mean()) @ (x - x.mean())) * (x.max() - x.min()))


def replicate_statistics(m: dict, p: GDBranchesPreset) -> dict:
    """Return one replicate's value of every claim's statistic and its premise values (rules above)."""
    small, big = m["alphas"][str(min(p.alphas))]["branches"], m["alphas"][str(max(p.alphas))]["branches"]
    every = [r for rec in m["alphas"].values() for r in rec["branches"]]
    by_b = lambda rs: {r["branch_at"]: r for r in rs}  # noqa: E731
    sb, bb = by_b(small), by_b(big)
    return {
        "main_final_error": m["final_error"],
        "worst_loss_fraction": max(r["final_loss"] for r in every) / m["initial_loss"],
        "worst_final_error": max(r["final_error"] for r in every),
        "separation_change": _slope_change(list(p.branch_at), [sb[b]["end_over_main_travel"] for b in p.branch_at]),
        "separation": [sb[b]["end_over_main_travel"] for b in p.branch_at],
        "kept": [sb[b]["kept"] for b in p.branch_at],
        "travel_over_injected": [sb[b]["main_travel"] / max(sb[b]["injected"], 1e-30) for b in p.branch_at],
        "interp_excess": max(r["average_excess_test_error"] for r in small),
        "interp_excess_train": max(r["average_excess_error_final"] for r in small),
        "disagreement_small": [sb[b]["test_disagreement"] for b in p.branch_at],
        "disagreement_large": [bb[b]["test_disagreement"] for b in p.branch_at],
        "disagreement_difference": float(np.mean([bb[b]["test_disagreement"] - sb[b]["test_disagreement"]
                                                  for b in p.branch_at])),
    }


def findings(stats: list[dict], roots: list[int], p: GDBranchesPreset) -> tuple[Finding, ...]:
    """Return the verdicts on the §4.3 claims: one value per replicate (its own main trajectory and branches)."""
    col = lambda k: [s[k] for s in stats]  # noqa: E731
    prem = col("main_final_error")
    a_s, a_b = f"{min(p.alphas):g}", f"{max(p.alphas):g}"
    fs = []
    v = judge(RULE_NOT_STUCK, Sample("all branches", col("worst_loss_fraction"), roots, premise=prem))
    fs.append(finding("gd-no-local-minima", v, "worst branch's final training error per replicate: "
                      + ", ".join(f"{x:.3f}" for x in col("worst_final_error")),
                      {"worst_loss_fraction": col("worst_loss_fraction"), "worst_final_error": col("worst_final_error"),
                       "main_final_error": prem}))
    v = judge(RULE_LATER, Sample(f"α = {a_s}", col("separation_change"), roots, premise=prem))
    sep = np.array(col("separation"))
    fs.append(finding("later-less-different", v, "end distance over the main trajectory's travel per branch epoch "
                      "(mean over replicates): " + ", ".join(f"@{b}: {x:.3f}" for b, x in zip(p.branch_at, sep.mean(0))),
                      {"separation": sep.tolist(), "separation_change": col("separation_change")}))
    kept, mov = np.array(col("kept")), np.array(col("travel_over_injected"))
    early = [i for i, b in enumerate(p.branch_at) if b <= p.epochs / 3]
    tests = [Sample(f"α = {a_s} @{p.branch_at[i]}", kept[:, i].tolist(), roots, premise=mov[:, i].tolist())
             for i in early]
    late = [i for i, b in enumerate(p.branch_at) if b > p.epochs / 3]
    fs.append(finding("perturbation-different", judge(RULE_DIFFERENT, tests),
                      "GD's travel over the injected distance per branch epoch (mean): "
                      + ", ".join(f"@{b}: {x:.2f}" for b, x in zip(p.branch_at, mov.mean(0)))
                      + ("; branches after the first third of the run are reported, not judged: kept "
                         + ", ".join(f"@{p.branch_at[i]}: {kept[:, i].mean():.2f}" for i in late) if late else ""),
                      {"kept": kept.tolist(), "travel_over_injected": mov.tolist(),
                       "judged_branch_epochs": [p.branch_at[i] for i in early]}))
    v = judge(RULE_INTERP, Sample(f"α = {a_s}", col("interp_excess"), roots, premise=prem))
    fs.append(finding("interpolation-reasonable", v, "training-error excess of the average per replicate: "
                      + ", ".join(f"{x:+.3f}" for x in col("interp_excess_train")),
                      {"interp_excess": col("interp_excess"), "interp_excess_train": col("interp_excess_train")}))
    v = judge(RULE_LARGER, Sample(f"α = {a_b} − α = {a_s}", col("disagreement_difference"), roots, premise=prem))
    fs.append(finding("larger-more-separated", v, "test disagreement with the main end model (mean over replicates "
                      f"and branch epochs): α = {a_s} {np.mean(col('disagreement_small')):.3f}, α = {a_b} "
                      f"{np.mean(col('disagreement_large')):.3f}",
                      {"disagreement_small": col("disagreement_small"), "disagreement_large": col("disagreement_large")}))
    return tuple(fs)


def draw(ctx: ExperimentContext, m: dict, p: GDBranchesPreset) -> list[tuple[str, str]]:
    """Draw Figs 9–12 and the branch-distance trajectories of replicate 0; return (file, caption) pairs."""
    xplots.plot_branch_distances(m, ctx.path("branch_distances.png"), p.epochs, key="kept_by_epoch",
                                 ylabel="distance to main / injected (all weights)")
    figs = [("branch_distances.png", "Replicate 0: each branch's Euclidean distance (all weights) from the main "
             "trajectory at the same epoch, divided by the distance the noise injected, against epoch; colour = "
             f"branch epoch; left α = {min(p.alphas):g}, right α = {max(p.alphas):g}")]
    for a, fig_all, fig_split in ((min(p.alphas), 9, 10), (max(p.alphas), 11, 12)):
        rec = m["alphas"][str(a)]
        res, L = rec["mds"], rec["layer"]
        f = f"fig{fig_all}_layer{L}_alpha{_alpha_tag(a)}.png"
        xplots.plot_mds(res, ctx.path(f), f"Layer {L}: GD main trajectory, branches (noise {a:g}·S) and their "
                        f"averages; numbers are training errors (%)", curves=rec["curves"], legend_title="trajectory")
        figs.append((f, f"Fig. {fig_all}: MDS of layer {L} weights (replicate 0), branches perturbed with std {a:g}·S"))
        panels = [(f"branch at epoch {b}", [g in ("main", f"branch @{b}", f"average @{b}") for g in res["group"]])
                  for b in p.branch_at]
        f = f"fig{fig_split}_layer{L}_alpha{_alpha_tag(a)}_branches.png"
        xplots.plot_mds_panels(res, ctx.path(f), panels, res["group"], rec["curves"],
                               f"Layer {L}, noise {a:g}·S: each branch with the main trajectory and their averages "
                               f"(numbers: training error %)", legend_title="trajectory")
        figs.append((f, f"Fig. {fig_split}: the branches of Fig. {fig_all} one per panel"))
    return figs


def run(ctx: ExperimentContext, preset: GDBranchesPreset | None = None) -> ExperimentReport:
    """Run §4.3 at ctx.scale and return its report."""
    p = ctx.preset(PRESETS, preset)
    reps = ctx.replicates(p.replicates)
    ms = []
    for rep in reps:
        main, branches = train_replicate(ctx, rep, p)
        ms.append(rep.stage("measure", lambda: measure(main, branches, p, ctx.device, embed=rep.index == 0)))
    stats = [replicate_statistics(m, p) for m in ms]
    roots = [rep.root for rep in reps]
    figs = draw(ctx, ms[0], p)
    dataset = common.dataset_of(ctx)
    deviations = common.data_deviations(dataset, p.subset, p.widths, ctx.scale)
    if p.branch_at != (0, 10, 50, 200):
        deviations.append(f"branches at epochs {p.branch_at} instead of 0, 10, 50, 200")
    deviations.append(f"main trajectory of {p.epochs} GD epochs with lr {p.lr} (the paper states neither), on a "
                      "subset small enough for GD to interpolate")
    deviations.append("perturbation std α·std of each parameter tensor (weights and biases separately)")
    deviations.append("test disagreement and the test error of interpolated models are scored on each replicate's "
                      "own seeded subset of test examples; the paper judges the averages by training error, which is "
                      "zero throughout on an interpolated subset")
    if p.every > 1:
        deviations.append(f"every {p.every}-th epoch (and the last) enters the MDS")
    deviations.append("models at initialisation are evaluated (the paper labels them NaN); the figures show replicate 0")
    protocol = (f"{p.replicates} replicates, each a whole independent run from its own root seed: training subset, "
                f"initialisation, main trajectory and branches",
                f"per replicate: GD (full training subset each step, lr {p.lr}) for {p.epochs} epochs",
                f"at epochs {p.branch_at}: a branch started from the main model plus Gaussian noise of α·S per "
                f"parameter tensor, α ∈ {p.alphas}, trained with GD to epoch {p.epochs}",
                "epoch by epoch, the average ½(branch + main) of each branch with the main trajectory",
                "training loss and error of every model on the training subset, batch-norm statistics recomputed",
                "premise per replicate: the main trajectory's final training error (zero: the subset is interpolated); "
                "kept fractions are judged at the branch epochs of the run's first third, each replicate counting only "
                "where GD travels at least as far as the noise injected",
                "Rules: " + "; ".join(f"{r.tag}: {r.describe()}" for r in RULES),
                f"classical MDS on 1 − cos (replicate 0): layer 2 for α = {min(p.alphas)}, layer 3 for α = {max(p.alphas)}")
    measured = {"preset": asdict(p), "roots": roots, "replicates": stats, "main": ms[0]["main"],
                "stress": {a: r["mds"]["stress"] for a, r in ms[0]["alphas"].items()}}
    return ExperimentReport(*identity("ii-gd-branches"),
                            ctx.scale, ctx.seed, protocol, tuple(deviations), CLAIMS, findings(stats, roots, p),
                            measured, tuple(figs), 0.0)


EXPERIMENTS = (Experiment("ii-gd-branches", "GD branches and interpolated models (MDS)", "Theory II §4.3, Figs 9–12",
                          CLAIMS, run, common.dataset_choices()),)
