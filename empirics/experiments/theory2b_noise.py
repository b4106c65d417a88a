"""Theory IIb Fig. 1 (gradient noise of SGD is nearly Gaussian) and Fig. 2 (SGD vs SGDL training curves).

Fig. 1: at fixed weights w of a trained DCNN ("the asymptotic regime"), the minibatch gradients
∇V(w, z_i) = (1/B) Σ_{x ∈ z_i} ∇ℓ(w, x) of M minibatches z_i (B examples drawn uniformly with
replacement, batch norm in training mode as SGD sees it) are computed; for a few seeded weight
coordinates in the first, a middle and the top layer, their distribution over i is compared with the
Gaussian of the same mean and variance (skewness, excess kurtosis, Shapiro–Wilk), and the mean (the
full gradient, eq. 7) with the spread. Several B show the "not too small or too large" remark. The
verdicts use B-free statistics: B_G, the smallest minibatch size at which the median coordinate is
approximately Gaussian (from one example's skewness and kurtosis, which scale exactly as 1/√B and
1/B), and ‖ḡ‖ / √tr Σ₁.

Fig. 2: plain SGD (eq. 4/6) and SGDL (eq. 5, w ← w − γ∇V + γ′ W_t with constant γ′, "added Gaussian
(with constant power)") from the same initialisation and minibatch order; training and test error
overlaid.

A replicate is one whole run (its own training subset, initialisation and minibatch order; for
Fig. 2 its SGD run and every SGDL run from the same start), so the spread of the verdicts is the
spread of independent runs.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from scipy import stats

from empirics.device import pick_device
from empirics.experiments import identity, Claim, Experiment, ExperimentContext, ExperimentReport, Finding, Replicate
from empirics.experiments.verdicts import Premise, Rule, Sample, finding, judge
from empirics.experiments.theory2b_flatness import (IMAGE_DATASETS, data_note, dataset_of, size_deviations,
                                                    train_stage)
from empirics.data import load_dataset
from empirics.models import param_slices
from empirics.train import ModelSpec, TrainConfig, load_run, read_metrics

REF_FIG1 = "Theory IIb §3.1, Fig. 1"
REF_FIG2 = "Theory IIb §2, eq. 5, Fig. 2"


@dataclass(frozen=True)
class NoisePreset:
    """Sizes at one scale. subset: training examples per replicate (None: all); widths: CNN widths (None: the
    paper's); epochs, lr, batch: the SGD run; minibatches: M gradients per batch size (histograms); batches: the B
    shown (every B is reported; the verdict uses B-free statistics); per_layer: coordinates drawn per probed layer;
    replicates: independent replicates of Fig. 1 (each: its own subset, initialisation, minibatch order and SGD
    run); pairs: independent replicates of Fig. 2 (each: its own subset and start, SGD and every SGDL run from it);
    zero_error: the premise's bound on the probed weights' training error (fraction); test_subset: test examples
    scored (None: all); eval_every: errors measured every that many epochs (and at 0 and the last)."""

    subset: int | None
    widths: tuple[int, ...] | None
    epochs: int
    lr: float
    batch: int
    minibatches: int
    batches: tuple[int, ...]
    per_layer: int
    replicates: int
    pairs: int
    zero_error: float = 0.01
    test_subset: int | None = None
    eval_every: int = 1


PRESETS = {
    "smoke": NoisePreset(subset=120, widths=(16, 32, 64, 32), epochs=20, lr=0.1, batch=20, minibatches=200,
                           batches=(1, 2, 5, 20, 50), per_layer=2, replicates=4, pairs=4, test_subset=500,
                           eval_every=1),
    # Replicates from the smoke pilot (seed 0; verdicts.replicates_for at δ, 80 % power, at Holm's α/2 over the
    # report's two claims): Fig. 1 sd 0.031 (log10 B_G) → 3 and 0.016 (‖ḡ‖/√tr Σ₁) → 4: 4; Fig. 2 sd of the
    # final test-error gap 0.009 / 0.008 / 0.006 (ρ = 0.25 / 1 / 4) → 11, 9, 6 for sgd-better (δ = 0.01), and
    # 0.002–0.005 → 3 for sgdl-like (band 0.03): 11. A 300-example subset keeps 11 × 4 runs near 7 minutes.
    "cpu": NoisePreset(subset=300, widths=(16, 32, 64, 32), epochs=25, lr=0.1, batch=25, minibatches=400,
                         batches=(1, 4, 16, 50, 128), per_layer=2, replicates=4, pairs=11, test_subset=1000,
                         eval_every=1),
    "paper": NoisePreset(subset=None, widths=None, epochs=60, lr=0.01, batch=100, minibatches=2000,
                           batches=(10, 100, 1000), per_layer=3, replicates=5, pairs=4),
}
# Seconds at one torch thread on digits (tests): tiny CNN, two replicates.
MICRO = NoisePreset(subset=40, widths=(4, 4, 4, 4), epochs=1, lr=0.05, batch=20, minibatches=12, batches=(4, 8),
                      per_layer=1, replicates=2, pairs=2, zero_error=1.0)
PILOT_NOTE = ("smoke pilot at seed 0: sd of one replicate 0.031 (log10 B_G), 0.016 (‖ḡ‖/√tr Σ₁) → 4 replicates; "
              "final test-error gap SGDL − SGD 0.006–0.009 → 11 pairs for 80 % power at δ = 0.01 (Holm over 2 "
              "claims), curve-mean gaps 0.002–0.005 → 3 for the ±0.03 band")



CLAIM_GAUSS = Claim(
    "gradient-noise-gaussian", "Theory IIb", "§3.1, Fig. 1",
    "With typical values used in minibatch (each minibatch corresponding to z_t) training of deep nets, it turns out "
    "that the vector of gradient updates ∇V(f_t, z_t) empirically shows components with approximate Gaussian "
    "distributions (see Figure 1). [...] The histograms look approximatively Gaussian as expected (see text) for "
    "minibatches that are not too small or too large.")
CLAIM_MEAN = Claim(
    "full-gradient-small", "Theory IIb", "§3.1, Fig. 1 caption",
    "Notice that the average corresponds to the gradient of the full loss and that is empirically very small.")
CLAIM_SGDL = Claim(
    "sgdl-like-sgd", "Theory IIb", "§2, Fig. 2",
    "Equation 5 – that is SGD with added Gaussian (with constant power) – behaves in a similar way to standard SGD.")
CLAIM_SGD_BETTER = Claim(
    "sgd-better-validation", "Theory IIb", "§2, Fig. 2 caption",
    "Notice that SGD has slightly better validation performance than SGD. [read: than SGDL]")


def _config(ctx: ExperimentContext, s: NoisePreset, rep: Replicate, optimizer: str, name: str, eval_every: int = 1
            ) -> TrainConfig:
    """Return the TrainConfig of a replicate's SGD (or SGDL) run: subset, initialisation and minibatch order
    from the replicate's root (`name` names the stream of weights and order, shared by runs that are paired)."""
    return TrainConfig(dataset=dataset_of(ctx), data_dir=ctx.data_dir, subset=s.subset,
                       data_seed=rep.seed("data"), model=ModelSpec("paper-cnn", widths=s.widths),
                       optimizer=optimizer, epochs=s.epochs, lr=s.lr, batch_size=s.batch, trajectories=1,
                       sgdl_noise=0.0, sgdl_decay=0.0, seed=rep.seed(name), save_weights=False,
                       test_subset=s.test_subset, eval_every=eval_every)



def _moments(g: np.ndarray) -> dict:
    sd = float(g.std(ddof=1))
    return {"mean": float(g.mean()), "std": sd, "skew": float(stats.skew(g)), "kurtosis": float(stats.kurtosis(g)),
            "shapiro_p": float(stats.shapiro(g).pvalue) if 3 <= len(g) <= 5000 else float("nan"),
            "mean_over_std": abs(float(g.mean())) / sd if sd > 0 else float("nan")}


def _coordinates(model: torch.nn.Module, per_layer: int, rng: np.random.Generator, live: np.ndarray
                 ) -> list[tuple[str, int]]:
    """Return (name, flat index) of `per_layer` seeded weight coordinates in the first, a middle and the top layer.

    Only coordinates whose gradient is nonzero somewhere (`live`) are drawn: on 32×32 inputs the top
    convolution sees a 2×2 map, so most of its kernel taps only ever multiply padding.
    """
    weights = [s for s in param_slices(model) if s.name.endswith("weight")]
    picks = [weights[0], weights[len(weights) // 2], weights[-1]]
    out = []
    for s in picks:
        alive = np.flatnonzero(live[s.slice])
        for i in rng.choice(alive, size=min(per_layer, alive.size), replace=False):
            out.append((f"layer {s.layer} {s.name}[{int(i)}]", s.slice.start + int(i)))
    return out


def per_example_gradients(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, chunk: int = 64) -> torch.Tensor:
    """Return the (n, P) matrix of per-example gradients ∇ℓ(w, x_j) of the cross-entropy (model in eval mode).

    With batch norm at fixed (running) statistics a minibatch gradient is exactly the mean of B rows
    of this matrix (Theory IIb eq. 7: ∇V(w, z_i) = (1/B) Σ_{x ∈ z_i} ∇ℓ(w, x)), so every batch size is
    read from one matrix and the full gradient is its column mean.
    """
    from torch.func import functional_call, grad, vmap

    model.eval()
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def loss(p, xi, yi):
        out = functional_call(model, (p, buffers), (xi[None],))
        return torch.nn.functional.cross_entropy(out, yi[None])

    g = vmap(grad(loss), in_dims=(None, 0, 0))
    rows = []
    for i in range(0, len(x), chunk):
        gi = g(params, x[i:i + chunk], y[i:i + chunk])
        rows.append(torch.cat([gi[k].reshape(gi[k].shape[0], -1) for k in params], dim=1).double().cpu())
    return torch.cat(rows)


def gaussian_batch(skew: np.ndarray, kurt: np.ndarray) -> float:
    """Return B_G, the smallest minibatch size at which the median coordinate's minibatch gradient is approximately
    Gaussian: the median over coordinates of max((|γ₁|/0.5)², |κ|/1).

    The mean of B examples drawn with replacement has skewness γ₁/√B and excess kurtosis κ/B (γ₁, κ of one
    example's gradient), so a coordinate is inside |skew| ≤ 0.5 and |kurtosis| ≤ 1 exactly when B ≥ its
    max((|γ₁|/0.5)², |κ|); `gauss_score` at B is ≤ 1 exactly when B ≥ B_G. A B-free statistic of the noise.
    """
    return float(np.median(np.maximum((np.abs(skew) / 0.5) ** 2, np.abs(kurt))))


def gradient_noise_statistics(G: np.ndarray, batches: Sequence[int]) -> dict:
    """Return the B-free statistics of a per-example gradient matrix G (n, P) and their value at each B.

    ratio = ‖ḡ‖ / √tr Σ₁: the full gradient's norm against the B = 1 spread (Σ₁ the covariance of the
    rows, population form); the minibatch noise at B has √(tr Σ₁ / B), so the mean against the noise at
    B is ratio·√B. Per live coordinate (variance > 0) the population skewness γ₁ and excess kurtosis
    κ of one example's gradient; the mean of B examples drawn with replacement has exactly γ₁/√B and
    κ/B. `gauss_score[B]` is the median over coordinates of max(|γ₁|/√B / 0.5, |κ|/B / 1): ≤ 1 when
    both stay inside the tolerance of an "approximately Gaussian" histogram (|skew| 0.5, |kurtosis| 1);
    `gaussian_batch` is the B at which that median reaches 1 (`gaussian_batch`).
    """
    mean = G.mean(axis=0)
    var = G.var(axis=0)
    live = var > 1e-30 * max(float(var.max()), 1e-300)
    ratio = float(np.linalg.norm(mean) / math.sqrt(var.sum())) if var.sum() > 0 else float("nan")
    C = G[:, live] - mean[live]
    sd = np.sqrt(var[live])
    skew = (C**3).mean(axis=0) / sd**3
    kurt = (C**4).mean(axis=0) / sd**4 - 3.0
    out = {"ratio_b1": ratio, "live_coordinates": int(live.sum()), "coordinates": int(G.shape[1]),
           "median_abs_skew_b1": float(np.median(np.abs(skew))), "median_abs_kurtosis_b1": float(np.median(np.abs(kurt))),
           "gaussian_batch": gaussian_batch(skew, kurt), "by_batch": []}
    for b in batches:
        score = np.maximum(np.abs(skew) / math.sqrt(b) / 0.5, np.abs(kurt) / b / 1.0)
        out["by_batch"].append({"batch": int(b), "mean_over_noise": ratio * math.sqrt(b),
                                "median_abs_skew": float(np.median(np.abs(skew)) / math.sqrt(b)),
                                "median_abs_kurtosis": float(np.median(np.abs(kurt)) / b),
                                "gauss_score": float(np.median(score))})
    return out


def _minibatch_samples(G: np.ndarray, cols: Sequence[int], batches: Sequence[int], m: int, seed: int) -> list[dict]:
    """Return, per B, M minibatch gradients of the chosen coordinates (means of B rows drawn with replacement)."""
    rng = np.random.default_rng(seed)
    out = []
    for b in batches:
        idx = rng.integers(0, G.shape[0], size=(m, b))
        S = G[:, cols][idx].mean(axis=1)
        out.append(S)
    return out


def _noise_stage(ctx: ExperimentContext, s: NoisePreset, rep: Replicate, histograms: bool) -> dict:
    """One replicate: training loss/error, and the gradient-noise statistics at its trained weights and at its
    initialisation (the control), batch norm at statistics recomputed on the training set; with `histograms`,
    M minibatch samples of a few coordinates for Fig. 1."""
    from empirics.bn import recompute_bn
    from empirics.data import load_dataset
    from empirics.train import build_model

    dev = pick_device(ctx.device)
    run = load_run(rep.subrun("sgd").path, device=dev)
    data = load_dataset(run.data_spec, device=dev, dtype=run.config.torch_dtype)
    x, y = data.x_train, data.y_train
    trained = run.models[0]
    init = build_model(run.config.model, data.input_shape, data.output_dim, run.config.seed).to(dev).to(dtype=x.dtype)
    row, hist = {"root": rep.root}, None
    for tag, model in (("trained", copy.deepcopy(trained)), ("init", init)):
        recompute_bn(model, x, 500)
        with torch.no_grad():
            out = torch.cat([model(x[i:i + 500]) for i in range(0, len(x), 500)])
            row[f"{tag}_loss"] = float(torch.nn.functional.cross_entropy(out, y))
            row[f"{tag}_error"] = float((out.argmax(1) != y).float().mean())
        G = per_example_gradients(model, x, y).numpy()
        row[tag] = gradient_noise_statistics(G, s.batches)
        if histograms and tag == "trained":
            live = G.var(axis=0) > 0
            coords = _coordinates(model, s.per_layer, rep.stream("fig1/coordinates"), live)
            samples = _minibatch_samples(G, [c[1] for c in coords], s.batches, s.minibatches,
                                         rep.seed("fig1/minibatches"))
            hist = {"coordinates": [c[0] for c in coords], "batches": [
                {"batch": b, "components": [{"name": name, "samples": S[:, j].tolist(), **_moments(S[:, j])}
                                            for j, name in enumerate(c[0] for c in coords)]}
                for b, S in zip(s.batches, samples)]}
    return {"replicate": row, "histograms": hist}


def _asymptotic(s: NoisePreset) -> Premise:
    return Premise("zero training error", "training error at the probed weights (fraction, batch norm recomputed)",
                   s.zero_error, "at most",
                   "§3.1 looks at 'the asymptotic regime' of a trained network: SGD has fitted the training set")


# "Typical values used in minibatch training": 100, the batch of the paper's own CIFAR-10 runs (`paper` preset).
TYPICAL_BATCH = 100


def gauss_rule(s: NoisePreset) -> Rule:
    """Return rule gradient-noise-gaussian@v2 (B-free) with the preset's premise bound."""
    return Rule(
        "gradient-noise-gaussian", 2, "log10 B_G, B_G the smallest minibatch size at which the median live "
        "coordinate's minibatch gradient has |skew| ≤ 0.5 and |excess kurtosis| ≤ 1 (from one example's moments, "
        "exactly scaled to B)", "less", math.log10(TYPICAL_BATCH),
        f"B = {TYPICAL_BATCH}, a typical minibatch of deep-net training (the paper's scale of batch)",
        "§3.1: 'approximate Gaussian distributions' at 'typical values used in minibatch training': held when the "
        f"noise is Gaussian from below B = {TYPICAL_BATCH} on; δ = log10 2 (a factor 2 in B, the grain at which batch "
        "sizes are chosen), fixed before data. v2: B-free (v1 judged the score at the training batch, which the "
        "choice of B decided: 6.74 at B = 1, 0.47 at B = 50)",
        delta=math.log10(2.0), premise=_asymptotic(s))


def mean_rule(s: NoisePreset) -> Rule:
    """Return rule full-gradient-small@v2 with the preset's premise bound."""
    return Rule(
        "full-gradient-small", 2, "‖full gradient‖ / √tr Σ₁ (the B = 1 spread of the per-example gradients)", "less",
        0.1, "the per-example gradient spread at the same weights (B-free); the same ratio at initialisation is "
        "reported", "Fig. 1 caption: the average 'is empirically very small': under a tenth of one example's gradient "
        "noise; δ = 0.05, half that bound (a ratio between 0.05 and 0.1 is not clearly 'very small'), fixed before "
        "data. v2: δ and the premise named, one whole run per replicate",
        delta=0.05, premise=_asymptotic(s))


RULE_GAUSS, RULE_MEAN = gauss_rule(PRESETS["smoke"]), mean_rule(PRESETS["smoke"])


def _noise_findings(rows: list[dict], s: NoisePreset, seeds: list[int]) -> tuple[Finding, Finding]:
    bg = [math.log10(r["trained"]["gaussian_batch"]) if r["trained"]["gaussian_batch"] > 0 else float("nan")
          for r in rows]
    ratio = [r["trained"]["ratio_b1"] for r in rows]
    ratio0 = [r["init"]["ratio_b1"] for r in rows]
    err = [r["trained_error"] for r in rows]
    ok = [r for r in rows if r["trained"]["by_batch"]]  # diverged replicates have none
    table = "; ".join(
        f"B = {b}: score {np.mean([r['trained']['by_batch'][i]['gauss_score'] for r in ok]):.2f}, mean/noise "
        f"{np.mean([r['trained']['by_batch'][i]['mean_over_noise'] for r in ok]):.3f}"
        for i, b in enumerate(s.batches)) if ok else "no replicate finished"
    b0 = [r["init"]["gaussian_batch"] for r in rows]
    vg = judge(gauss_rule(s), Sample("B-free", bg, seeds, premise=err))
    vm = judge(mean_rule(s), Sample("trained weights", ratio, seeds, premise=err))
    f1 = finding(CLAIM_GAUSS.key, vg, f"B_G per replicate {', '.join(f'{10 ** x:.3g}' for x in bg)} (at initialisation "
                 f"{', '.join(f'{x:.3g}' for x in b0)}). Score at every B (replicate means; ≤ 1: Gaussian): {table}.",
                 {"log10_gaussian_batch": bg, "gaussian_batch_init": b0, "train_error": err, "by_replicate": rows})
    f2 = finding(CLAIM_MEAN.key, vm, f"the same ratio at initialisation: {np.mean(ratio0):.3f} "
                 f"(replicates {', '.join(f'{r:.3f}' for r in ratio0)}).",
                 {"ratio_trained": ratio, "ratio_init": ratio0, "train_error": err})
    return f1, f2


def run_fig1(ctx: ExperimentContext, preset: NoisePreset | None = None) -> ExperimentReport:
    """Theory IIb Fig. 1: distribution of minibatch-gradient components at fixed trained weights, over replicates."""
    from empirics.experiments.plots2b import plot_gradient_histograms, plot_noise_ratio

    s = ctx.preset(PRESETS, preset)
    reps = ctx.replicates(s.replicates)
    rows, hist, seeds, finals = [], None, [], []
    for i, rep in enumerate(reps):
        t = train_stage(ctx, "sgd", _config(ctx, s, rep, "sgd", "fig1/sgd", eval_every=s.epochs), rep)
        seeds.append(rep.root)
        if t["status"] != "finished":
            nan = {"ratio_b1": float("nan"), "gaussian_batch": float("nan"), "by_batch": []}
            rows.append({"root": rep.root, "trained_error": float("nan"), "trained": nan, "init": nan,
                         "diverged": t["message"]})
            continue
        finals.append(t["final"])
        st = rep.stage("gradient-noise", lambda rep=rep, first=hist is None: _noise_stage(ctx, s, rep, first))
        rows.append(st["replicate"])
        hist = hist or st["histograms"]
    findings = _noise_findings(rows, s, seeds)
    figures = []
    if hist is not None:
        plot_gradient_histograms(hist, ctx.path("gradient_histograms.png"))
        plot_noise_ratio([r for r in rows if r["trained"]["by_batch"]], ctx.path("mean_vs_noise.png"),
                         RULE_MEAN.margin)
        figures = [("gradient_histograms.png", "Components of ∇V(w, z_i) over minibatches i at fixed trained w "
                    "(replicate 1), one row per batch size B, with the Gaussian of equal mean and variance "
                    "(Theory IIb Fig. 1)"),
                   ("mean_vs_noise.png", "‖full gradient‖ against the minibatch noise √(tr Σ₁/B) for every B, "
                    "trained weights vs initialisation, one line per replicate")]
    measured = {"final": finals, "replicates": rows, "replicate_seeds": seeds}
    return _report_fig1(ctx, s, findings, measured, tuple(figures))


def _report_fig1(ctx, s, findings, measured, figures) -> ExperimentReport:
    n = "all" if s.subset is None else str(s.subset)
    protocol = [f"{s.replicates} independent replicates; each draws its own subset of {n} training examples of "
                f"{dataset_of(ctx)}, initialisation and minibatch order from its root and trains one DCNN by SGD "
                f"(lr {s.lr}, batch {s.batch}, {s.epochs} epochs) towards zero training error; premise: training "
                f"error at the probed weights at most {s.zero_error} (replicates missing it are excluded).",
                "At each replicate's final weights and at its initialisation (control), batch-norm statistics "
                "recomputed on the training set, the per-example gradients of every weight (torch.func); a minibatch "
                "gradient of B examples drawn with replacement is the mean of B of them.",
                "B-free statistics per replicate: ‖ḡ‖ / √tr Σ₁ (the full gradient against one example's spread) and "
                "B_G, the smallest B at which the median coordinate's minibatch gradient is approximately Gaussian "
                "(|skew| ≤ 0.5, |excess kurtosis| ≤ 1; one example's moments scaled exactly to B); the score at "
                f"every B in {s.batches} is reported.",
                f"Histograms (Fig. 1): {s.minibatches} minibatch gradients of {s.per_layer} seeded coordinates in each of "
                "the first, a middle and the top convolution (coordinates with nonzero variance), replicate 1.",
                "Rules: " + "; ".join(f"{r.tag}: {r.describe()}" for r in (gauss_rule(s), mean_rule(s))) + "."]
    deviations = [data_note(dataset_of(ctx))]
    if s.subset is not None:
        deviations.append(f"training subset of {s.subset} examples per replicate; the paper's network and data are "
                          "CIFAR-10 scale")
    if s.widths is not None:
        deviations.append(f"CNN widths {s.widths} instead of (32, 64, 152, 56)")
    deviations += ["the paper does not say which components it shows nor how long it trained; 'asymptotic regime' is "
                   f"taken as the end of {s.epochs} epochs",
                   "batch norm at statistics recomputed on the training set (fixed), so that a minibatch gradient is "
                   "the mean of per-example gradients; SGD itself normalised by minibatch statistics",
                   f"the Gaussian claim is judged by B_G against B = {TYPICAL_BATCH} (a B-free statistic), not by the "
                   "histograms at one chosen B",
                   f"replicates: {s.replicates} ({PILOT_NOTE})"]
    return ExperimentReport(*identity("iib-gradient-noise"),
                            ctx.scale, ctx.seed, tuple(protocol), tuple(deviations), (CLAIM_GAUSS, CLAIM_MEAN),
                            tuple(findings), measured, tuple(figures), 0.0)


def _curves(rep: Replicate, name: str) -> dict:
    m = read_metrics(rep.subrun(name).path)
    ep = m["epochs"]
    return {"epochs": [e["epoch"] for e in ep], "train_error": [e["train_error"] for e in ep],
            "test_error": [e["test_error"] for e in ep], "status": m["status"]}


# SGDL's added noise per step, as a multiple ρ of SGD's own per-step noise γ·√(tr Σ₁ / B) measured at the
# end of the replicate's SGD run (the asymptotic regime). The paper fixes neither γ′ nor ρ; the claim is
# judged at every ρ of the sweep.
SGDL_RATIOS = (0.25, 1.0, 4.0)

def curve_mean(curve: dict, field: str) -> float:
    """Return the mean of a one-trajectory error curve over its recorded epochs after the start (epoch 0 is shared)."""
    return float(np.mean([v[0] for e, v in zip(curve["epochs"], curve[field]) if e > 0]))


RULE_SGDL = Rule(
    "sgdl-like-sgd", 3, "error of SGDL minus SGD from the same initialisation and minibatch order, averaged over the "
    "recorded epochs of the curves (training and test, per noise ratio ρ)", "within", 0.03,
    "SGD from the same start and minibatch order (paired within each replicate)",
    "§2: 'behaves in a similar way'; the band is the paper's own: Fig. 2's caption calls SGD's edge over SGDL "
    "'slightly better', so a gap of that size still counts as similar; 0.03 (three points of error) is taken as the "
    "largest 'slight' gap, the band of v1, taken from the paper and unchanged. v3 re-registers the rule because v2 "
    "(the noise reference moved from the start to the end of SGD's run) was written after v1's data had been seen; "
    "v3 keeps v2's reference and v1's band, judges every ρ of the sweep, each replicate a whole independent run, "
    "and compares the curves (Fig. 2 overlays curves) by their mean over the recorded epochs: a smoke pilot of v3 "
    "with final errors had every final training error at 0, so that difference had no spread and no interval")
RULE_SGD_BETTER = Rule(
    "sgd-better-validation", 3, "final test error of SGDL minus SGD (per noise ratio ρ)", "greater", 0.0,
    "SGD from the same start and minibatch order (paired within each replicate)",
    "Fig. 2 caption: SGD has 'slightly better validation performance'; δ = 0.01, one point of test error, the "
    "smallest gap a 'slightly better' curve of Fig. 2 can show (below the 0.03 band of 'similar'), fixed before "
    "data. v3: δ named, each replicate a whole independent run", delta=0.01)


def _step_noise(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, lr: float, batch: int) -> tuple[float, int]:
    """Return SGD's per-step noise γ·√(tr Σ₁ / B) at the model's weights (BN recomputed) and the parameter count."""
    from empirics.bn import recompute_bn

    recompute_bn(model, x, 500)
    G = per_example_gradients(model, x, y).numpy()
    return lr * math.sqrt(float(G.var(axis=0).sum()) / batch), int(G.shape[1])


def _sgd_step_noise(ctx: ExperimentContext, rep: Replicate, config: TrainConfig) -> dict:
    """Return SGD's own per-step noise at the start and at the end of the replicate's SGD run and P."""
    from empirics.train import build_model

    dev = pick_device(ctx.device)
    run = load_run(rep.subrun("sgd").path, device=dev)
    data = load_dataset(run.data_spec, device=dev, dtype=run.config.torch_dtype)
    x, y = data.x_train, data.y_train
    init = build_model(config.model, data.input_shape, data.output_dim, config.seed).to(dev).to(dtype=x.dtype)
    start, P = _step_noise(init, x, y, config.lr, config.batch_size)
    end, _ = _step_noise(run.models[0], x, y, config.lr, config.batch_size)
    from empirics.models import get_flat

    return {"start": start, "end": end, "n_params": P, "norm": float(get_flat(run.models[0]).double().norm())}


def _final_norm(rep: Replicate, name: str) -> float:
    from empirics.models import get_flat

    run = load_run(rep.subrun(name).path, device="cpu")
    return float(get_flat(run.models[0]).double().norm())


def run_fig2(ctx: ExperimentContext, preset: NoisePreset | None = None) -> ExperimentReport:
    """Theory IIb Fig. 2: SGD and SGDL (constant noise power tied to SGD's own noise, swept), paired per replicate."""
    from dataclasses import replace

    from empirics.experiments.plots2b import plot_curves

    s = ctx.preset(PRESETS, preset)
    reps = ctx.replicates(s.pairs)
    names = {"SGD": "sgd", **{f"SGDL ρ={rho:g}": f"sgdl-rho{rho:g}" for rho in SGDL_RATIOS}}
    per_rep = []
    for rep in reps:
        base = _config(ctx, s, rep, "sgd", "fig2", s.eval_every)
        row = {"root": rep.root, "final": {}, "curves": {}, "norm": {}, "gamma_prime": {}}
        t = train_stage(ctx, "sgd", base, rep)
        if t["status"] != "finished":
            row["diverged"] = ["SGD"]
            per_rep.append(row)
            continue
        noise = rep.stage("sgd-step-noise", lambda rep=rep, base=base: _sgd_step_noise(ctx, rep, base))
        row["step_noise"] = noise
        gammas = {rho: rho * noise["end"] / math.sqrt(noise["n_params"]) for rho in SGDL_RATIOS}
        row["diverged"] = []
        for key, name in names.items():
            if key != "SGD":
                rho = float(key.split("=")[1])
                row["gamma_prime"][f"{rho:g}"] = gammas[rho]
                st = train_stage(ctx, name, replace(base, optimizer="sgdl", sgdl_noise=gammas[rho]), rep)
                if st["status"] != "finished":
                    row["diverged"].append(key)
                    continue
            c = rep.stage(f"curves-{name}", lambda rep=rep, name=name: _curves(rep, name))
            row["curves"][key] = c
            row["final"][key] = {"train": float(c["train_error"][-1][0]), "test": float(c["test_error"][-1][0]),
                                 "train_curve": curve_mean(c, "train_error"), "test_curve": curve_mean(c, "test_error")}
            row["norm"][key] = rep.stage(f"norm-{name}", lambda rep=rep, name=name: _final_norm(rep, name))
        per_rep.append(row)
    seeds = [rep.root for rep in reps]

    def diff(key: str, split: str) -> list[float]:
        return [r["final"][key][split] - r["final"]["SGD"][split] if key in r["final"] and "SGD" in r["final"]
                else float("nan") for r in per_rep]

    similar = [Sample(f"{split}, ρ = {rho:g}", diff(f"SGDL ρ={rho:g}", f"{split}_curve"), seeds)
               for rho in SGDL_RATIOS for split in ("train", "test")]
    better = [Sample(f"ρ = {rho:g}", diff(f"SGDL ρ={rho:g}", "test"), seeds) for rho in SGDL_RATIOS]
    v1 = judge(RULE_SGDL, similar)
    v2 = judge(RULE_SGD_BETTER, better)
    done = [r for r in per_rep if len(r["curves"]) == len(names)]
    curves = {}
    if done:
        for key in names:
            curves[key] = {"epochs": done[0]["curves"][key]["epochs"],
                           **{f: [[r["curves"][key][f][e][0] for r in done] for e in range(len(done[0]["curves"][key][f]))]
                              for f in ("train_error", "test_error")}}
        plot_curves(curves, ctx.path("sgd_vs_sgdl.png"), "SGD vs SGDL (eq. 5, constant γ′ = ρ × SGD's own step "
                    "noise), Theory IIb Fig. 2")
    mean = lambda key, split: float(np.nanmean([r["final"][key][split] for r in per_rep if key in r["final"]]))  # noqa: E731
    end = [r["step_noise"]["end"] for r in per_rep if "step_noise" in r]
    start = [r["step_noise"]["start"] for r in per_rep if "step_noise" in r]
    nums = (f"SGD's own step noise γ√(tr Σ₁/B): {np.mean(end):.3g} at the end of its run, {np.mean(start):.3g} at "
            "the start (means over replicates); final errors (train/test, means over replicates): "
            + ", ".join(f"{k} {mean(k, 'train'):.3f}/{mean(k, 'test'):.3f}" for k in names)
            + "; final ‖w‖: " + ", ".join(f"{k} {np.mean([r['norm'][k] for r in per_rep if k in r['norm']]):.1f}"
                                          for k in names))
    diverged = sorted({k for r in per_rep for k in r.get("diverged", [])})
    if diverged:
        nums += f"; diverged in some replicate: {', '.join(diverged)}"
    measured = {"replicates": [{k: v for k, v in r.items() if k != "curves"} for r in per_rep],
                "replicate_seeds": seeds, "diverged": diverged,
                "final_test_error": {k: [r["final"][k]["test"] if k in r["final"] else None for r in per_rep]
                                     for k in names},
                "final_train_error": {k: [r["final"][k]["train"] if k in r["final"] else None for r in per_rep]
                                      for k in names}}
    f1 = finding(CLAIM_SGDL.key, v1, nums, measured)
    f2 = finding(CLAIM_SGD_BETTER.key, v2, "", {})
    n = "all" if s.subset is None else str(s.subset)
    protocol = [f"{s.pairs} independent replicates; each draws its own subset of {n} training examples of "
                f"{dataset_of(ctx)}, initialisation and minibatch order from its root, trains one DCNN by SGD (lr "
                f"{s.lr}, batch {s.batch}, {s.epochs} epochs) and, from the same start and minibatch order, one by "
                f"SGDL for each ρ in {SGDL_RATIOS} (paired within the replicate); 'similar' compares the error "
                "curves by their mean over the recorded epochs, 'better validation' the final test error.",
                "Per replicate, SGD's own per-step noise γ√(tr Σ₁/B) at the end of its SGD run (and at the start) "
                "(per-example gradients, batch norm at statistics recomputed on the training set).",
                "SGDL: w ← w − γ∇V(w; z_t) + γ′W_t, W_t ~ N(0, I), γ′ = ρ·γ√(tr Σ₁/B)/√P constant (the added noise's "
                "norm is ρ times SGD's own at the end of the replicate's SGD run).",
                "Training and test error every few epochs, overlaid; final weight norms (batch norm makes the layers "
                "scale-invariant, so added noise that grows ‖w‖ lowers the effective step).",
                "Rules: " + "; ".join(f"{r.tag}: {r.describe()}" for r in (RULE_SGDL, RULE_SGD_BETTER)) + "."]
    deviations = [data_note(dataset_of(ctx)), "the paper does not state γ′, the step or the epochs of Fig. 2; γ′ is "
                  "tied to SGD's measured noise and swept", "training error as recorded by training (metrics.json)",
                  f"replicates: {s.pairs} ({PILOT_NOTE})"]
    deviations += size_deviations(s.subset, s.test_subset, s.widths)
    return ExperimentReport(*identity("iib-sgd-vs-sgdl"), ctx.scale, ctx.seed, tuple(protocol), tuple(deviations),
                            (CLAIM_SGDL, CLAIM_SGD_BETTER), (f1, f2), measured,
                            (("sgd_vs_sgdl.png", "Training (solid) and test (dashed) error of SGD and SGDL at each ρ "
                              "against epoch; band: min–max over replicates (Theory IIb Fig. 2)"),) if done else (),
                            0.0)


run_iib_gradient_noise, run_iib_sgd_vs_sgdl = run_fig1, run_fig2  # the names the experiment-wide tests look up


EXPERIMENTS = (
    Experiment("iib-gradient-noise", "Histograms of minibatch-gradient components at fixed weights", REF_FIG1,
               (CLAIM_GAUSS, CLAIM_MEAN), run_fig1, IMAGE_DATASETS),
    Experiment("iib-sgd-vs-sgdl", "SGD vs SGDL (eq. 5, constant noise power), training and test error overlaid",
               REF_FIG2, (CLAIM_SGDL, CLAIM_SGD_BETTER), run_fig2, IMAGE_DATASETS),
)
