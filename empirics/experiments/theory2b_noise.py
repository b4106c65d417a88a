"""Theory IIb Fig. 1 (gradient noise of SGD is nearly Gaussian) and Fig. 2 (SGD vs SGDL training curves).

Fig. 1: at fixed weights w of a trained DCNN ("the asymptotic regime"), the minibatch gradients
∇V(w, z_i) = (1/B) Σ_{x ∈ z_i} ∇ℓ(w, x) of M minibatches z_i (B examples drawn uniformly with
replacement, batch norm in training mode as SGD sees it) are computed; for a few seeded weight
coordinates in the first, a middle and the top layer, their distribution over i is compared with the
Gaussian of the same mean and variance (skewness, excess kurtosis, Shapiro–Wilk), and the mean (the
full gradient, eq. 7) with the spread. Several B show the "not too small or too large" remark.

Fig. 2: plain SGD (eq. 4/6) and SGDL (eq. 5, w ← w − γ∇V + γ′ W_t with constant γ′, "added Gaussian
(with constant power)") from the same initialisations and minibatch orders; training and test error
overlaid.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats

from landscape_toolkit.common.seeds import child_seed, stream
from empirics.device import pick_device
from empirics.experiments import Claim, Experiment, ExperimentContext, ExperimentReport, Finding
from empirics.experiments.theory2b_flatness import (IMAGE_DATASETS, data_note, dataset_of, size_deviations,
                                                    train_stage)
from empirics.data import load_dataset
from empirics.models import param_slices
from empirics.train import ModelSpec, TrainConfig, load_run, read_metrics

REF_FIG1 = "Theory IIb §3.1, Fig. 1"
REF_FIG2 = "Theory IIb §2, eq. 5, Fig. 2"


@dataclass(frozen=True)
class NoiseSettings:
    """Sizes at one scale. subset: training examples (None: all); widths: CNN widths (None: the paper's);
    epochs, lr, batch: the SGD run; minibatches: M gradients per batch size; batches: the B tested
    (the last is the reference for the verdict); per_layer: coordinates drawn per probed layer;
    trajectories: K per optimiser (Fig. 2); sgdl_noise: γ′ (weight units per step); test_subset: test
    examples scored (None: all); eval_every: errors measured every that many epochs (and at 0 and the last)."""

    subset: int | None
    widths: tuple[int, ...] | None
    epochs: int
    lr: float
    batch: int
    minibatches: int
    batches: tuple[int, ...]
    per_layer: int
    trajectories: int
    sgdl_noise: float
    test_subset: int | None = None
    eval_every: int = 1


SETTINGS = {
    "smoke": NoiseSettings(subset=200, widths=(16, 32, 64, 32), epochs=5, lr=0.1, batch=20, minibatches=100,
                           batches=(2, 10, 50), per_layer=2, trajectories=2, sgdl_noise=2e-3, test_subset=500),
    "cpu": NoiseSettings(subset=2000, widths=(16, 32, 64, 32), epochs=12, lr=0.05, batch=50, minibatches=400,
                         batches=(4, 32, 128), per_layer=2, trajectories=2, sgdl_noise=2e-3, test_subset=2000),
    "paper": NoiseSettings(subset=None, widths=None, epochs=60, lr=0.01, batch=100, minibatches=2000,
                           batches=(10, 100, 1000), per_layer=3, trajectories=4, sgdl_noise=1e-3),
}

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


def _config(ctx: ExperimentContext, s: NoiseSettings, optimizer: str, k: int, name: str, eval_every: int = 1
            ) -> TrainConfig:
    return TrainConfig(dataset=dataset_of(ctx), data_dir=ctx.data_dir, subset=s.subset,
                       data_seed=child_seed(ctx.seed, "data"), model=ModelSpec("paper-cnn", widths=s.widths),
                       optimizer=optimizer, epochs=s.epochs, lr=s.lr, batch_size=s.batch, trajectories=k,
                       sgdl_noise=s.sgdl_noise, sgdl_decay=0.0, seed=child_seed(ctx.seed, name),
                       save_weights=False, test_subset=s.test_subset, eval_every=eval_every)


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


def _noise_stage(ctx: ExperimentContext, s: NoiseSettings) -> dict:
    dev = pick_device(ctx.device)
    run = load_run(ctx.subrun("sgd").path, device=dev)
    data = load_dataset(run.data_spec, device=dev, dtype=run.config.torch_dtype)
    model = copy.deepcopy(run.models[0]).train()  # minibatch statistics, as SGD sees them
    params = list(model.parameters())
    probe = min(data.n_train, 512)
    g_all = torch.autograd.grad(torch.nn.functional.cross_entropy(model(data.x_train[:probe]), data.y_train[:probe]),
                                params)
    live = (torch.cat([g.reshape(-1) for g in g_all]) != 0).cpu().numpy()
    coords = _coordinates(model, s.per_layer, stream(ctx.seed, "fig1/coordinates"), live)
    idx = torch.tensor([c[1] for c in coords], device=dev)
    out = {"coordinates": [c[0] for c in coords], "batches": []}
    for b in s.batches:
        gen = torch.Generator().manual_seed(child_seed(ctx.seed, f"fig1/minibatches/{b}"))
        rows = []
        for _ in range(s.minibatches):
            pick = torch.randint(0, data.n_train, (b,), generator=gen).to(dev)
            loss = torch.nn.functional.cross_entropy(model(data.x_train[pick]), data.y_train[pick])
            grads = torch.autograd.grad(loss, params)
            rows.append(torch.cat([g.reshape(-1) for g in grads])[idx].double().cpu().numpy())
        G = np.stack(rows)
        comps = [{"name": name, "samples": G[:, j].tolist(), **_moments(G[:, j])} for j, name in enumerate(out["coordinates"])]
        out["batches"].append({"batch": b, "components": comps})
    return out


def _num(x) -> float:
    """Return x as a float, NaN for the JSON stand-ins of non-finite values (a component constant over minibatches)."""
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")


def _gauss_findings(noise: dict, s: NoiseSettings) -> tuple[Finding, Finding]:
    summary = []
    for row in noise["batches"]:
        c = row["components"]
        col = {k: np.array([_num(x[k]) for x in c]) for k in ("skew", "kurtosis", "shapiro_p", "mean_over_std")}
        summary.append({"batch": row["batch"], "median_abs_skew": float(np.nanmedian(np.abs(col["skew"]))),
                        "median_abs_kurtosis": float(np.nanmedian(np.abs(col["kurtosis"]))),
                        "fraction_shapiro_p_above_0.01": float(np.mean(col["shapiro_p"] > 0.01)),
                        "median_mean_over_std": float(np.nanmedian(col["mean_over_std"])),
                        "constant_components": int(np.sum(~np.isfinite(col["skew"])))})
    ref = summary[-1]
    text = "; ".join(f"B = {r['batch']}: median |skew| {r['median_abs_skew']:.2f}, |excess kurtosis| "
                     f"{r['median_abs_kurtosis']:.2f}, Shapiro p > 0.01 in {r['fraction_shapiro_p_above_0.01']:.0%}"
                     for r in summary)
    if not np.isfinite(ref["median_abs_skew"]):
        f1 = Finding(CLAIM_GAUSS.key, "inconclusive", f"{text}: every probed component is constant over minibatches.",
                     {"by_batch": summary})
        f2 = Finding(CLAIM_MEAN.key, "inconclusive", "every probed component is constant over minibatches.", {})
        return f1, f2
    gauss = ref["median_abs_skew"] < 0.5 and ref["median_abs_kurtosis"] < 1.0
    f1 = Finding(CLAIM_GAUSS.key, "held" if gauss else "not held",
                 f"{text} over {s.minibatches} minibatches (rule at B = {ref['batch']}: median |skew| < 0.5 and "
                 "|excess kurtosis| < 1).", {"by_batch": summary})
    floor = 1.0 / math.sqrt(s.minibatches)
    small = ref["median_mean_over_std"] < 0.25
    f2 = Finding(CLAIM_MEAN.key, "held" if small else "not held",
                 f"median |mean| / std of the components at B = {ref['batch']}: {ref['median_mean_over_std']:.3f} "
                 f"(sampling floor ≈ {floor:.3f}; held when < 0.25: the full gradient is small beside the noise).",
                 {"median_mean_over_std": ref["median_mean_over_std"], "floor": floor})
    return f1, f2


def run_fig1(ctx: ExperimentContext) -> ExperimentReport:
    """Theory IIb Fig. 1: distribution of minibatch-gradient components at fixed trained weights."""
    from empirics.experiments.plots2b import plot_gradient_histograms

    s = SETTINGS[ctx.scale]
    trained = train_stage(ctx, "sgd", _config(ctx, s, "sgd", 1, "fig1/sgd", eval_every=s.epochs))
    if trained["status"] != "finished":
        reason = f"SGD diverged: {trained['message']}"
        return _report_fig1(ctx, s, tuple(Finding(c.key, "inconclusive", reason) for c in (CLAIM_GAUSS, CLAIM_MEAN)),
                            {}, ())
    noise = ctx.stage("gradient-noise", lambda: _noise_stage(ctx, s))
    findings = _gauss_findings(noise, s)
    plot_gradient_histograms(noise, ctx.path("gradient_histograms.png"))
    measured = {"final": trained["final"], **{f.claim: f.measured for f in findings}}
    return _report_fig1(ctx, s, findings, measured,
                        (("gradient_histograms.png", "Components of ∇V(w, z_i) over minibatches i at fixed trained w, "
                          "one row per batch size B, with the Gaussian of equal mean and variance (Theory IIb Fig. 1)"),))


def _report_fig1(ctx, s, findings, measured, figures) -> ExperimentReport:
    n = "all" if s.subset is None else str(s.subset)
    protocol = [f"Train one DCNN by SGD (lr {s.lr}, batch {s.batch}, {s.epochs} epochs) on {n} training examples of "
                f"{dataset_of(ctx)}.",
                f"At the final weights, {s.minibatches} minibatch gradients ∇V(w, z_i) for each B in {s.batches} "
                "(examples drawn uniformly with replacement; batch norm in training mode, as during SGD).",
                f"{s.per_layer} seeded weight coordinates in each of the first, a middle and the top convolution; "
                "their skewness, excess kurtosis, Shapiro–Wilk p-value and |mean| / std over minibatches (coordinates "
                "drawn among those with a nonzero gradient on the first 512 examples: the top convolution's taps "
                "that only see padding are inert)."]
    deviations = [data_note(dataset_of(ctx))]
    if s.subset is not None:
        deviations.append(f"training subset of {s.subset} examples; the paper's network and data are CIFAR-10 scale")
    if s.widths is not None:
        deviations.append(f"CNN widths {s.widths} instead of (32, 64, 152, 56)")
    deviations.append("the paper does not say which components it shows nor how long it trained; 'asymptotic regime' "
                      f"is taken as the end of {s.epochs} epochs")
    return ExperimentReport("iib-gradient-noise", "Minibatch gradient noise at fixed weights: nearly Gaussian?", REF_FIG1,
                            ctx.scale, ctx.seed, tuple(protocol), tuple(deviations), (CLAIM_GAUSS, CLAIM_MEAN),
                            tuple(findings), measured, tuple(figures), 0.0)


def _curves(ctx: ExperimentContext, name: str) -> dict:
    m = read_metrics(ctx.subrun(name).path)
    ep = m["epochs"]
    return {"epochs": [e["epoch"] for e in ep], "train_error": [e["train_error"] for e in ep],
            "test_error": [e["test_error"] for e in ep], "status": m["status"]}


def run_fig2(ctx: ExperimentContext) -> ExperimentReport:
    """Theory IIb Fig. 2: SGD and SGDL (constant noise power) from the same starts, curves overlaid."""
    from empirics.experiments.plots2b import plot_curves

    s = SETTINGS[ctx.scale]
    runs = {opt: train_stage(ctx, opt, _config(ctx, s, opt, s.trajectories, "fig2", s.eval_every))
            for opt in ("sgd", "sgdl")}
    curves = {opt.upper(): ctx.stage(f"curves-{opt}", lambda opt=opt: _curves(ctx, opt)) for opt in ("sgd", "sgdl")}
    plot_curves(curves, ctx.path("sgd_vs_sgdl.png"), "SGD vs SGDL (eq. 5, constant γ′), Theory IIb Fig. 2")
    final = {k: {"train": np.asarray(v["train_error"][-1], float), "test": np.asarray(v["test_error"][-1], float)}
             for k, v in curves.items()}
    d_train = float(final["SGDL"]["train"].mean() - final["SGD"]["train"].mean())
    d_test = float(final["SGDL"]["test"].mean() - final["SGD"]["test"].mean())
    k = s.trajectories
    se = math.sqrt((final["SGD"]["test"].var(ddof=1) + final["SGDL"]["test"].var(ddof=1)) / k) if k > 1 else 0.0
    diverged = [k2 for k2, r in runs.items() if r["status"] != "finished"]
    measured = {"final_train_error": {k2: v["train"].tolist() for k2, v in final.items()},
                "final_test_error": {k2: v["test"].tolist() for k2, v in final.items()},
                "sgdl_minus_sgd_train": d_train, "sgdl_minus_sgd_test": d_test, "test_se": se, "diverged": diverged}
    nums = (f"final training error SGD {final['SGD']['train'].mean():.3f} vs SGDL {final['SGDL']['train'].mean():.3f}; "
            f"test error SGD {final['SGD']['test'].mean():.3f} vs SGDL {final['SGDL']['test'].mean():.3f} (means over "
            f"{k} trajectories, SE of the test difference {se:.3f})")
    if diverged:
        f1 = Finding(CLAIM_SGDL.key, "not held", f"{', '.join(diverged)} diverged. " + nums, measured)
    else:
        similar = abs(d_train) <= 0.03 and abs(d_test) <= 0.03
        f1 = Finding(CLAIM_SGDL.key, "held" if similar else "not held",
                     nums + "; held when both differ by ≤ 0.03.", measured)
    # Welch's t-test: with K = 2 trajectories per optimiser, 2 SE is far from significant.
    p = float(stats.ttest_ind(final["SGDL"]["test"], final["SGD"]["test"], equal_var=False).pvalue) \
        if k > 1 and se > 0 else float("nan")
    measured["test_p_value"] = p
    if p < 0.05 and d_test > 0:
        f2 = Finding(CLAIM_SGD_BETTER.key, "held", nums + f": SGD's test error is lower (Welch p = {p:.2g}).", measured)
    elif p < 0.05 and d_test < 0:
        f2 = Finding(CLAIM_SGD_BETTER.key, "not held", nums + f": SGDL's test error is lower (Welch p = {p:.2g}).",
                     measured)
    else:
        f2 = Finding(CLAIM_SGD_BETTER.key, "inconclusive", nums + f": not significant (Welch p = {p:.2g}).", measured)
    n = "all" if s.subset is None else str(s.subset)
    protocol = [f"Train K = {s.trajectories} DCNNs by SGD and K by SGDL from the same initialisations and minibatch "
                f"orders (lr {s.lr}, batch {s.batch}, {s.epochs} epochs, {n} training examples of {dataset_of(ctx)}).",
                f"SGDL: w ← w − γ∇V(w; z_t) + γ′W_t, W_t ~ N(0, I), γ′ = {s.sgdl_noise} constant (sgdl_decay 0).",
                "Training and test error after every epoch, overlaid; verdict on the final epoch (similar: both "
                "differences ≤ 0.03; SGD better: Welch's t-test on the final test errors, p < 0.05)."]
    deviations = [data_note(dataset_of(ctx)), "the paper does not state γ′, the step or the epochs of Fig. 2",
                  "training error as recorded by training (metrics.json)"]
    deviations += size_deviations(s.subset, s.test_subset, s.widths)
    return ExperimentReport("iib-sgd-vs-sgdl", "SGD vs SGDL with constant noise power: training curves overlaid",
                            REF_FIG2, ctx.scale, ctx.seed, tuple(protocol), tuple(deviations),
                            (CLAIM_SGDL, CLAIM_SGD_BETTER), (f1, f2), measured,
                            (("sgd_vs_sgdl.png", "Training (solid) and test (dashed) error of SGD and SGDL against "
                              "epoch; band: min–max over trajectories (Theory IIb Fig. 2)"),), 0.0)


EXPERIMENTS = (
    Experiment("iib-gradient-noise", "Histograms of minibatch-gradient components at fixed weights", REF_FIG1,
               (CLAIM_GAUSS, CLAIM_MEAN), run_fig1, IMAGE_DATASETS),
    Experiment("iib-sgd-vs-sgdl", "SGD vs SGDL (eq. 5, constant noise power), training and test error overlaid",
               REF_FIG2, (CLAIM_SGDL, CLAIM_SGD_BETTER), run_fig2, IMAGE_DATASETS),
)
