"""Theory II §4.3, Figs 9–12: full-batch GD, perturbed branches, and the models interpolated between them.

Protocol (Poggio & Liao 2017, §4.3): "We train a model from scratch using BGD. At epoch 0, 10, 50
and 200, we create a branch by perturbing the model by adding a Gaussian noise to all layers", std
α·S with S each layer's weight std (α = 0.25 in Figs 9–10, α = 1 in Figs 11–12). "We also interpolate
(by averaging) the models between the branches and the main trajectory, epoch by epoch. The
interpolated models are evaluated on the entire training set". Main trajectory, branches and the
interpolated models together enter one MDS (layer 2 for α = 0.25, layer 3 for α = 1), each point
written as its training error.

The main trajectory is trained in segments between branch epochs (`init_from` the previous segment:
plain GD keeps no optimiser state, so the segments are one uninterrupted run), and each branch starts
from the segment ending at its epoch.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from empirics.experiments import Claim, Experiment, ExperimentContext, ExperimentReport, Finding
from empirics.experiments import common
from empirics.experiments.verdicts import Rule, Sample, finding, judge
from empirics.experiments import plots as xplots


@dataclass(frozen=True)
class GDBranchesPreset:
    """Sizes of one scale.

    epochs: length of the main GD trajectory (the paper does not state it; it branches at 200);
    branch_at: epochs where branches start (paper 0, 10, 50, 200); alphas: perturbation sizes as
    multiples of each layer's std (paper 0.25 and 1); lr: GD step (not stated in the paper);
    every: keep every n-th epoch as an MDS point; subset, widths: as in `common.base_config`;
    draws: independent noise draws per (branch epoch, α) — the replicates of every statistic.
    """

    epochs: int
    branch_at: tuple[int, ...]
    alphas: tuple[float, ...]
    lr: float
    every: int
    subset: int | None
    widths: tuple[int, ...] | None
    draws: int = 3


PRESETS = {
    "smoke": GDBranchesPreset(epochs=10, branch_at=(0, 3, 6), alphas=(0.25, 1.0), lr=0.1, every=2, subset=400,
                              widths=(8, 16, 32, 16), draws=3),
    # 24 branches (2 α × 4 epochs × 3 draws) of full-batch GD: 50 epochs on 1,000 examples keep it within 15 minutes
    "cpu": GDBranchesPreset(epochs=50, branch_at=(0, 5, 15, 30), alphas=(0.25, 1.0), lr=0.1, every=3, subset=1000,
                            widths=(16, 32, 64, 32), draws=3),
    "paper": GDBranchesPreset(epochs=400, branch_at=(0, 10, 50, 200), alphas=(0.25, 1.0), lr=0.01, every=10,
                              subset=None, widths=None),
}
MICRO = GDBranchesPreset(epochs=4, branch_at=(0, 2), alphas=(0.25, 1.0), lr=0.1, every=1, subset=100,
                         widths=(4, 4, 4, 4), draws=2)

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


def train_all(ctx: ExperimentContext, p: GDBranchesPreset) -> tuple[list[tuple[int, str]], dict]:
    """Train the main trajectory in segments and every branch; return ([(start epoch, segment run)], {(b, α, draw): run})."""
    kw = dict(subset=p.subset, widths=p.widths, optimizer="gd", lr=p.lr)
    seed = common.seed_for(ctx, "main")
    bounds = sorted(set(p.branch_at) | {0, p.epochs})
    segs = [(0, common.train_stage(ctx, "main_e0000", common.base_config(ctx, epochs=0, seed=seed, **kw))["run"])]
    for lo, hi in zip(bounds, bounds[1:]):
        cfg = common.base_config(ctx, epochs=hi - lo, seed=common.seed_for(ctx, f"main {lo}"), init_from=segs[-1][1], **kw)
        segs.append((lo, common.train_stage(ctx, f"main_e{hi:04d}", cfg)["run"]))
    end_of = {0: segs[0][1], **{hi: run for (lo, run), hi in zip(segs[1:], bounds[1:])}}
    branches = {}
    for a in p.alphas:
        for b in p.branch_at:
            for i in range(p.draws):
                # draw 0 keeps the single-draw stage name, so earlier runs continue
                name = f"branch_a{_alpha_tag(a)}_e{b:04d}" + (f"_r{i}" if i else "")
                cfg = common.base_config(ctx, epochs=p.epochs - b, seed=common.seed_for(ctx, name),
                                         init_from=end_of[b], perturb=a, **kw)
                branches[(b, a, i)] = common.train_stage(ctx, name, cfg)["run"]
    return segs, branches


def main_weights(segs: list[tuple[int, str]]) -> dict[int, np.ndarray]:
    """Return {main epoch: flat weights} over the segments."""
    out = {}
    for lo, run in segs:
        epochs, W = common.run_weights(run, [0])
        for e, w in zip(epochs, W[:, 0]):
            out[lo + e] = w
    return out


def measure(segs, branches, p: GDBranchesPreset, device: str = "cpu") -> dict:
    """Return per-α embeddings (main, draw-0 branches, interpolations) and, per branch and noise draw, the
    distances and errors behind the claims.

    Distances are 1 − cos from the main trajectory at the same epoch, layer 2 (and 3 at the ends); `kept`
    is that distance divided by the one the perturbation injected at the branch epoch (the baseline:
    for noise α·S it is about 1 − 1/√(1 + α²) whatever GD does afterwards).
    """
    ev = common.Evaluator(segs[0][1], device)
    model = common.model_of(segs[0][1])
    main = main_weights(segs)
    keep = lambda e, last: e % p.every == 0 or e == last  # noqa: E731
    main_err = {e: ev.evaluate(w) for e, w in main.items() if keep(e, p.epochs)}
    out: dict = {"main": {"epoch": sorted(main_err), "train_loss": [main_err[e][0] for e in sorted(main_err)],
                          "train_error": [main_err[e][1] for e in sorted(main_err)]}, "alphas": {}}
    cols = {L: common.paper_layer_columns(model, L) for L in (2, 3)}
    end = p.epochs
    for a in p.alphas:
        pts, curves = common.Points(), []
        for e in sorted(main_err):
            # "NaN corresponds to randomly initialized models": we measure them instead.
            pts.add(main[e], "main", e, common.error_label(main_err[e][1]), main_err[e][1])
            curves.append("main")
        per_branch = []
        for b in p.branch_at:
            for i in range(p.draws):
                epochs, W = common.run_weights(branches[(b, a, i)], [0])
                bw = {b + e: w for e, w in zip(epochs, W[:, 0])}
                if i == 0:
                    for e in sorted(bw):
                        if not keep(e, p.epochs):
                            continue
                        eb = ev.evaluate(bw[e])[1]
                        ei = ev.evaluate(0.5 * (bw[e] + main[e]))[1]
                        pts.add(bw[e], f"branch @{b}", e, common.error_label(eb), eb)
                        curves.append(f"branch @{b}")
                        pts.add(0.5 * (bw[e] + main[e]), f"average @{b}", e, common.error_label(ei), ei)
                        curves.append(f"average @{b}")
                lb, eb = ev.evaluate(bw[end])
                li, ei = ev.evaluate(0.5 * (bw[end] + main[end]))
                d = {L: common.cosine_distance(bw[end][c], main[end][c]) for L, c in cols.items()}
                d0 = {L: common.cosine_distance(bw[b][c], main[b][c]) for L, c in cols.items()}
                by_offset = [common.cosine_distance(bw[b + j][cols[2]], main[b + j][cols[2]])
                             for j in range(p.epochs - b + 1)]
                per_branch.append({"branch_at": b, "draw": i, "end_cos": d, "start_cos": d0,
                                   "cos_by_offset_layer2": by_offset,
                                   "kept_layer2": [x / max(by_offset[0], 1e-30) for x in by_offset],
                                   "final_error": eb, "final_loss": lb, "average_final_error": ei,
                                   "average_excess_error_final": float(ei - max(eb, main_err[end][1]))})
        layer = 2 if a == min(p.alphas) else 3
        out["alphas"][str(a)] = {"branches": per_branch, "layer": layer,
                                 "mds": common.embed(pts, model, (layer,))[str(layer)], "curves": curves}
    return out


RULE_NOT_STUCK = Rule(
    "gd-not-stuck", 1, "largest final training error over the branches of one noise draw", "less", 0.05,
    "zero training error (the global minimum of the training loss)",
    "§4.3: 'BGD does not get stuck in any local minima' — every trajectory within 5 points of zero error; a loss "
    "still falling over the last fifth of the run cannot refute it")
RULE_LATER = Rule(
    "gd-later-less-different", 1, "least-squares slope, over the branch epochs, of the layer-2 distance k epochs "
    "after branching divided by the distance the noise injected (per branch epoch: one noise draw each)", "less", 0.0,
    "the injected-noise distance at the branch epoch (kept fraction 1: GD neither closes nor widens the gap)",
    "§4.3: 'the same amount of perturbation are less able to lead to a drastically different trajectory' as training "
    "proceeds — any decrease of the kept fraction with the branch epoch")
RULE_DIFFERENT = Rule(
    "gd-perturbation-different", 1, "layer-2 distance at the end divided by the distance injected, per (α, branch "
    "epoch)", "greater", 0.1, "the injected-noise distance at the branch epoch",
    "§4.3: 'a perturbation almost always leads to at least a slightly different model' — at least a tenth of the "
    "injected distance survives")
RULE_INTERP = Rule(
    "gd-interpolation-reasonable", 1, "training error of ½(branch + main) at the end minus the worse of the two, "
    "largest over the branch epochs of one draw (α the smaller)", "less", 0.05, "the worse of the two end models",
    "§4.3: interpolated models have 'very reasonable performance' — within 5 points of the models they average")
RULE_LARGER = Rule(
    "gd-larger-more-separated", 1, "kept fraction of the layer-3 distance at the end for the larger α minus the "
    "smaller α (mean over branch epochs, paired by draw)", "greater", 0.0,
    "the injected-noise distance of each α (the end distance alone grows with α by construction)",
    "§4.3, Fig. 11: 'Larger perturbations leads to more separated branches' — beyond what the larger noise injects")


def _draw_values(branches: list[dict], fn, p: GDBranchesPreset) -> list[float]:
    """Return fn(records of one draw) per draw."""
    return [fn([r for r in branches if r.get("draw", 0) == i]) for i in range(p.draws)]


def findings(m: dict, p: GDBranchesPreset, scale: str = "paper") -> tuple[Finding, ...]:
    """Return the verdicts on the §4.3 claims from a `measure` summary (rules above, replicates = noise draws)."""
    from dataclasses import replace

    small_a, big_a = str(min(p.alphas)), str(max(p.alphas))
    small, big = m["alphas"][small_a]["branches"], m["alphas"][big_a]["branches"]
    every = [r for rec in m["alphas"].values() for r in rec["branches"]]
    fs = []
    # 1. not stuck
    losses = m["main"]["train_loss"]
    tail = max(1, len(losses) // 5)
    falling = losses[-1] < 0.99 * losses[-1 - tail]
    v = judge(RULE_NOT_STUCK, Sample("all branches", _draw_values(every, lambda rs: max(r["final_error"] for r in rs), p)))
    note = (f"main trajectory loss {losses[-1 - tail]:.3f} → {losses[-1]:.3f} over the last fifth of {p.epochs} epochs "
            f"({'still falling' if falling else 'flat'}); main final training error {m['main']['train_error'][-1]:.3f}")
    if v.verdict == "not held" and falling:
        v = replace(v, verdict="underpowered")
        note += "; the loss is still falling, so a high error here is a short run, not a local minimum"
    fs.append(finding("gd-no-local-minima", v, note, {"main_loss_last": losses[-1]}))
    # 2. later branches less different, against the injected baseline, same number of epochs after branching
    k = p.epochs - max(p.branch_at)
    bs = np.array(p.branch_at, float)

    def slope(rs):
        y = np.array([next(r["kept_layer2"][k] for r in rs if r["branch_at"] == b) for b in p.branch_at])
        return float((y - y.mean()) @ (bs - bs.mean()) / ((bs - bs.mean()) @ (bs - bs.mean())))

    kept = {b: [r["kept_layer2"][k] for r in small if r["branch_at"] == b] for b in p.branch_at}
    v = judge(RULE_LATER, Sample(f"α = {small_a}, {k} epochs after branching", _draw_values(small, slope, p)))
    fs.append(finding("later-less-different", v, "kept fraction per branch epoch (mean over draws): " + ", ".join(
        f"@{b}: {np.mean(x):.3f}" for b, x in kept.items()), {"kept_layer2": kept, "epochs_after_branching": k}))
    # 3. a perturbation leads to a different model
    tests = [Sample(f"α = {a} @{b}", [_get(r["end_cos"], 2) / max(_get(r["start_cos"], 2), 1e-30)
                                      for r in rec["branches"] if r["branch_at"] == b])
             for a, rec in m["alphas"].items() for b in p.branch_at]
    fs.append(finding("perturbation-different", judge(RULE_DIFFERENT, tests)))
    # 4. interpolated models
    v = judge(RULE_INTERP, Sample(f"α = {small_a}", _draw_values(
        small, lambda rs: max(r["average_excess_error_final"] for r in rs), p)))
    fs.append(finding("interpolation-reasonable", v, f"α = {big_a} for comparison: worst excess "
                      f"{max(r['average_excess_error_final'] for r in big):+.3f}"))
    # 5. larger perturbation, more separated, beyond the injection (layer 3, Fig. 11)
    kept3 = lambda rs: float(np.mean([_get(r["end_cos"], 3) / max(_get(r["start_cos"], 3), 1e-30) for r in rs]))  # noqa: E731
    diff = np.array(_draw_values(big, kept3, p)) - np.array(_draw_values(small, kept3, p))
    raw = [(_get(sr["end_cos"], 3), _get(br["end_cos"], 3)) for sr, br in zip(small, big)]
    fs.append(finding("larger-more-separated", judge(RULE_LARGER, Sample(f"α = {big_a} − α = {small_a}", diff)),
                      "the raw end distances (which grow with α by construction): "
                      + ", ".join(f"{a_:.2e} vs {b_:.2e}" for a_, b_ in raw[:4]),
                      {"end_cos_layer3_small_vs_large": raw}))
    return tuple(fs)


def _get(d: dict, layer: int) -> float:
    return float(d[str(layer)] if str(layer) in d else d[layer])


def draw(ctx: ExperimentContext, m: dict, p: GDBranchesPreset) -> list[tuple[str, str]]:
    """Draw Figs 9–12 and the branch-distance trajectories; return (file, caption) pairs."""
    xplots.plot_branch_distances(m, ctx.path("branch_distances.png"), p.epochs)
    figs = [("branch_distances.png", "Each branch's layer-2 distance (1 − cos) from the main trajectory at the same "
             "epoch, divided by the distance the noise injected, against epoch; one line per noise draw, colour = "
             "branch epoch; left α = " f"{min(p.alphas):g}, right α = {max(p.alphas):g}")]
    for a, fig_all, fig_split in ((min(p.alphas), 9, 10), (max(p.alphas), 11, 12)):
        rec = m["alphas"][str(a)]
        res, L = rec["mds"], rec["layer"]
        f = f"fig{fig_all}_layer{L}_alpha{_alpha_tag(a)}.png"
        xplots.plot_mds(res, ctx.path(f), f"Layer {L}: GD main trajectory, branches (noise {a:g}·S) and their "
                        f"averages; numbers are training errors (%)", curves=rec["curves"], legend_title="trajectory")
        figs.append((f, f"Fig. {fig_all}: MDS of layer {L} weights, branches perturbed with std {a:g}·S"))
        panels = []
        for b in p.branch_at:
            mask = [g in ("main", f"branch @{b}", f"average @{b}") for g in res["group"]]
            panels.append((f"branch at epoch {b}", mask))
        f = f"fig{fig_split}_layer{L}_alpha{_alpha_tag(a)}_branches.png"
        xplots.plot_mds_panels(res, ctx.path(f), panels, res["group"], rec["curves"],
                               f"Layer {L}, noise {a:g}·S: each branch with the main trajectory and their averages "
                               f"(numbers: training error %)", legend_title="trajectory")
        figs.append((f, f"Fig. {fig_split}: the branches of Fig. {fig_all} one per panel"))
    return figs


def run(ctx: ExperimentContext, preset: GDBranchesPreset | None = None) -> ExperimentReport:
    """Run §4.3 at ctx.scale and return its report."""
    p = preset or PRESETS[ctx.scale]
    common.pin_preset(ctx, p)
    segs, branches = train_all(ctx, p)
    m = ctx.stage("measure", lambda: measure(segs, branches, p, ctx.device))
    figs = draw(ctx, m, p)
    dataset = common.dataset_of(ctx)
    deviations = common.data_deviations(dataset, p.subset, p.widths, ctx.scale)
    if p.branch_at != (0, 10, 50, 200):
        deviations.append(f"branches at epochs {p.branch_at} instead of 0, 10, 50, 200")
    deviations.append(f"main trajectory of {p.epochs} GD epochs with lr {p.lr} (the paper states neither)")
    deviations.append("perturbation std α·std of each parameter tensor (weights and biases separately)")
    if p.every > 1:
        deviations.append(f"every {p.every}th epoch (and the last) enters the MDS")
    deviations.append("models at initialisation are evaluated (the paper labels them NaN)")
    protocol = (f"GD (full training set each step, lr {p.lr}) from one random initialisation for {p.epochs} epochs",
                f"at epochs {p.branch_at}: a branch started from the main model plus Gaussian noise of α·S per "
                f"parameter tensor, α ∈ {p.alphas}, trained with GD to epoch {p.epochs}",
                "epoch by epoch, the average ½(branch + main) of each branch with the main trajectory",
                "training loss and error of every model on the training set, batch-norm statistics recomputed",
                f"{p.draws} independent noise draws per (branch epoch, α): the replicates of every verdict; distances "
                "are judged against the distance the noise injected (kept fraction)",
                "Rules: " + "; ".join(f"{r.tag}: {r.describe()}" for r in (RULE_NOT_STUCK, RULE_LATER, RULE_DIFFERENT,
                                                                            RULE_INTERP, RULE_LARGER)),
                f"classical MDS on 1 − cos (noise draw 1): layer 2 for α = {min(p.alphas)}, layer 3 for α = {max(p.alphas)}")
    measured = {"preset": asdict(p), "main": m["main"],
                "branches": {a: r["branches"] for a, r in m["alphas"].items()},
                "stress": {a: r["mds"]["stress"] for a, r in m["alphas"].items()}}
    return ExperimentReport("ii-gd-branches", "GD branches and interpolated models (MDS)", "Theory II §4.3, Figs 9–12",
                            ctx.scale, ctx.seed, protocol, tuple(deviations), CLAIMS, findings(m, p, ctx.scale), measured,
                            tuple(figs), 0.0)


EXPERIMENTS = (Experiment("ii-gd-branches", "GD branches and interpolated models (MDS)", "Theory II §4.3, Figs 9–12",
                          CLAIMS, run, common.dataset_choices()),)
