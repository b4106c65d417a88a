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
from empirics.experiments import plots as xplots


@dataclass(frozen=True)
class GDBranchesPreset:
    """Sizes of one scale.

    epochs: length of the main GD trajectory (the paper does not state it; it branches at 200);
    branch_at: epochs where branches start (paper 0, 10, 50, 200); alphas: perturbation sizes as
    multiples of each layer's std (paper 0.25 and 1); lr: GD step (not stated in the paper);
    every: keep every n-th epoch as an MDS point; subset, widths: as in `common.base_config`.
    """

    epochs: int
    branch_at: tuple[int, ...]
    alphas: tuple[float, ...]
    lr: float
    every: int
    subset: int | None
    widths: tuple[int, ...] | None


PRESETS = {
    "smoke": GDBranchesPreset(epochs=10, branch_at=(0, 3, 6), alphas=(0.25, 1.0), lr=0.1, every=2, subset=400,
                              widths=(8, 16, 32, 16)),
    "cpu": GDBranchesPreset(epochs=60, branch_at=(0, 5, 15, 30), alphas=(0.25, 1.0), lr=0.1, every=3, subset=2000,
                            widths=(16, 32, 64, 32)),
    "paper": GDBranchesPreset(epochs=400, branch_at=(0, 10, 50, 200), alphas=(0.25, 1.0), lr=0.01, every=10,
                              subset=None, widths=None),
}
MICRO = GDBranchesPreset(epochs=4, branch_at=(0, 2), alphas=(0.25, 1.0), lr=0.1, every=1, subset=100,
                         widths=(4, 4, 4, 4))

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
    """Train the main trajectory in segments and every branch; return ([(start epoch, segment run)], {(b, α): run})."""
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
            name = f"branch_a{_alpha_tag(a)}_e{b:04d}"
            cfg = common.base_config(ctx, epochs=p.epochs - b, seed=common.seed_for(ctx, name), init_from=end_of[b],
                                     perturb=a, **kw)
            branches[(b, a)] = common.train_stage(ctx, name, cfg)["run"]
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
    """Return per-α embeddings (main, branches, interpolations) and the distances and errors behind the claims."""
    ev = common.Evaluator(segs[0][1], device)
    model = common.model_of(segs[0][1])
    main = main_weights(segs)
    keep = lambda e, last: e % p.every == 0 or e == last  # noqa: E731
    main_err = {e: ev.evaluate(w) for e, w in main.items() if keep(e, p.epochs)}
    out: dict = {"main": {"epoch": sorted(main_err), "train_loss": [main_err[e][0] for e in sorted(main_err)],
                          "train_error": [main_err[e][1] for e in sorted(main_err)]}, "alphas": {}}
    for a in p.alphas:
        pts, curves = common.Points(), []
        for e in sorted(main_err):
            # "NaN corresponds to randomly initialized models": we measure them instead.
            pts.add(main[e], "main", e, common.error_label(main_err[e][1]), main_err[e][1])
            curves.append("main")
        per_branch = []
        for b in p.branch_at:
            epochs, W = common.run_weights(branches[(b, a)], [0])
            bw = {b + e: w for e, w in zip(epochs, W[:, 0])}
            b_loss, b_err, i_err, i_loss = [], [], [], []
            for e in sorted(bw):
                if not keep(e, p.epochs):
                    continue
                lb, eb = ev.evaluate(bw[e])
                mid = 0.5 * (bw[e] + main[e])
                li, ei = ev.evaluate(mid)
                pts.add(bw[e], f"branch @{b}", e, common.error_label(eb), eb)
                curves.append(f"branch @{b}")
                pts.add(mid, f"average @{b}", e, common.error_label(ei), ei)
                curves.append(f"average @{b}")
                b_loss.append(lb), b_err.append(eb), i_err.append(ei), i_loss.append(li)
            end = p.epochs
            d = {L: common.cosine_distance(bw[end][c], main[end][c]) for L in (2, 3)
                 for c in [common.paper_layer_columns(model, L)]}
            d0 = {L: common.cosine_distance(bw[b][c], main[b][c]) for L in (2, 3)
                  for c in [common.paper_layer_columns(model, L)]}
            ends = [max(eb, main_err[e][1]) for eb, e in zip(b_err, [e for e in sorted(bw) if keep(e, p.epochs)])]
            cols2 = common.paper_layer_columns(model, 2)
            by_offset = [common.cosine_distance(bw[b + j][cols2], main[b + j][cols2]) for j in range(p.epochs - b + 1)]
            per_branch.append({"branch_at": b, "end_cos": d, "start_cos": d0, "cos_by_offset_layer2": by_offset, "final_error": b_err[-1],
                               "final_loss": b_loss[-1], "first_loss": b_loss[0],
                               "average_final_error": i_err[-1],
                               "average_excess_error_max": float(max(ie - en for ie, en in zip(i_err, ends))),
                               "average_excess_error_final": float(i_err[-1] - ends[-1])})
        layer = 2 if a == min(p.alphas) else 3
        out["alphas"][str(a)] = {"branches": per_branch, "layer": layer,
                                 "mds": common.embed(pts, model, (layer,))[str(layer)], "curves": curves}
    return out


def findings(m: dict, p: GDBranchesPreset, scale: str = "paper") -> tuple[Finding, ...]:
    """Return the verdicts on the §4.3 claims from a `measure` summary."""
    fs = []
    # 1. not stuck: final training error of every trajectory, and whether the loss still falls.
    finals = [m["main"]["train_error"][-1]] + [b["final_error"] for a in m["alphas"].values() for b in a["branches"]]
    losses = m["main"]["train_loss"]
    tail = max(1, len(losses) // 5)
    falling = losses[-1] < 0.99 * losses[-1 - tail]
    worst = max(finals)
    meas = {"final_train_errors": finals, "main_loss_last": losses[-1], "main_loss_before_tail": losses[-1 - tail]}
    if worst <= 0.05:
        fs.append(Finding("gd-no-local-minima", "held", f"every GD trajectory ends at training error ≤ "
                          f"{100 * worst:.1f} % (≤ 5 %)", meas))
    elif falling or scale == "smoke":
        fs.append(Finding("gd-no-local-minima", "inconclusive",
                          f"the worst trajectory ends at {100 * worst:.1f} % training error but the main loss is still "
                          f"{'falling' if falling else 'barely falling'} ({losses[-1 - tail]:.3f} → {losses[-1]:.3f} over the "
                          f"last fifth of {p.epochs} epochs): too few epochs to tell a minimum from a slow descent",
                          meas))
    else:
        fs.append(Finding("gd-no-local-minima", "not held",
                          f"the main loss has stopped falling ({losses[-1 - tail]:.3f} → {losses[-1]:.3f}) at "
                          f"{100 * worst:.1f} % training error", meas))
    # 2–3. distances of the branch ends from the main end.
    small = m["alphas"][str(min(p.alphas))]["branches"]
    bs = [b["branch_at"] for b in small]
    # Compare the branches the same number of epochs after branching (the last branch's length), so a
    # later branch is not closer only because it had fewer epochs to drift.
    k = p.epochs - max(bs)
    ends = [b["cos_by_offset_layer2"][k] for b in small]
    meas = {"branch_at": bs, "epochs_after_branching": k, "cos_layer2": ends}
    monotone = all(x > y for x, y in zip(ends, ends[1:]))
    text = (f"α = {min(p.alphas)}: layer-2 1 − cos between branch and main trajectory {k} epochs after branching: "
            + ", ".join(f"{e:.2e} (branch @{b})" for b, e in zip(bs, ends)))
    if len(bs) < 2:
        fs.append(Finding("later-less-different", "inconclusive", "fewer than two branches", meas))
    elif monotone:
        fs.append(Finding("later-less-different", "held", text + ": decreasing with the branch epoch", meas))
    else:
        v = "inconclusive" if scale == "smoke" else "not held"
        fs.append(Finding("later-less-different", v, text + ": not decreasing with the branch epoch"
                          + (f" (smoke scale: {len(bs)} branches within {p.epochs} GD epochs)" if v == "inconclusive"
                             else ""), meas))
    ratios = {f"α={a} @{b['branch_at']}": _get(b["end_cos"], 2) / max(_get(b["start_cos"], 2), 1e-30)
              for a, rec in m["alphas"].items() for b in rec["branches"] if _get(b["start_cos"], 2) > 0}
    worst_r = min(ratios.values()) if ratios else float("nan")
    fs.append(Finding("perturbation-different", "held" if worst_r > 0.1 else "not held",
                      f"every branch ends at a model distinct from the main trajectory's: the end distance keeps at "
                      f"least {worst_r:.2f} of the distance the perturbation created (threshold 0.1)"
                      if worst_r > 0.1 else
                      f"a branch returned to the main trajectory: end distance {worst_r:.2f} × its starting distance "
                      f"(< 0.1)", {"end_over_start_cos": ratios}))
    # 4. interpolated models.
    exc = {f"α={a} @{b['branch_at']}": b["average_excess_error_final"] for a, rec in m["alphas"].items()
           for b in rec["branches"]}
    small_exc = {k: v for k, v in exc.items() if k.startswith(f"α={min(p.alphas)} ")}
    worst = max(small_exc.values())
    fs.append(Finding("interpolation-reasonable", "held" if worst <= 0.05 else "not held",
                      f"α = {min(p.alphas)}: at the last epoch the average of branch and main trajectory has a training "
                      f"error at most {100 * worst:+.1f} points above the worse of the two ({'≤' if worst <= 0.05 else '>'} "
                      f"5 points); α = {max(p.alphas)}: worst {100 * max(exc.values()):+.1f} points",
                      {"average_minus_worse_end_error": exc}))
    # 5. larger perturbations, more separated (layer 3 as in Fig. 11).
    big = m["alphas"][str(max(p.alphas))]["branches"]
    pairs = [(_get(s["end_cos"], 3), _get(b["end_cos"], 3)) for s, b in zip(small, big)]
    more = sum(bb > ss for ss, bb in pairs)
    fs.append(Finding("larger-more-separated", "held" if more == len(pairs) else "not held",
                      f"layer-3 1 − cos of branch end to main end is larger for α = {max(p.alphas)} than for "
                      f"α = {min(p.alphas)} at {more} of {len(pairs)} branch epochs: "
                      + ", ".join(f"{ss:.2e} vs {bb:.2e}" for ss, bb in pairs),
                      {"end_cos_layer3_small_vs_large": pairs}))
    return tuple(fs)


def _get(d: dict, layer: int) -> float:
    return float(d[str(layer)] if str(layer) in d else d[layer])


def draw(ctx: ExperimentContext, m: dict, p: GDBranchesPreset) -> list[tuple[str, str]]:
    """Draw Figs 9–12 and return (file, caption) pairs."""
    figs = []
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
                f"classical MDS on 1 − cos: layer 2 for α = {min(p.alphas)}, layer 3 for α = {max(p.alphas)}")
    measured = {"preset": asdict(p), "main": m["main"],
                "branches": {a: r["branches"] for a, r in m["alphas"].items()},
                "stress": {a: r["mds"]["stress"] for a, r in m["alphas"].items()}}
    return ExperimentReport("ii-gd-branches", "GD branches and interpolated models (MDS)", "Theory II §4.3, Figs 9–12",
                            ctx.scale, ctx.seed, protocol, tuple(deviations), CLAIMS, findings(m, p, ctx.scale), measured,
                            tuple(figs), 0.0)


EXPERIMENTS = (Experiment("ii-gd-branches", "GD branches and interpolated models (MDS)", "Theory II §4.3, Figs 9–12",
                          CLAIMS, run, common.dataset_choices()),)
