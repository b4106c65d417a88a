"""Theory IIb §1.2: the DCNN with its ReLUs replaced by an approximating polynomial behaves the same.

The same DCNN, data, initialisation seeds and minibatch orders are trained by SGD with ReLU and with
'relu-legendre:ℓ' for several degrees ℓ (the Legendre approximation of the ReLU on [−4, 4], the
interval `empirics.models` gives it after batch norm); each activation gets the learning rate of a
small grid that trains it best (a polynomial's slope outside the interval differs from the ReLU's).
Every report states, per degree, the approximation's worst error on the interval, its error at
z = 0, its value at z = 8 (outside the interval a polynomial turns over), and the fraction of the
trained network's pre-activations that fall outside the interval. The claim ("one can replace the
ReLUs with an approximating polynomial") is an existence claim: held when some degree leaves
training and test error unchanged within the margin (the held side corrected over the degrees).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from landscape_core.seeds import child_seed
from empirics.experiments import Claim, Experiment, ExperimentContext, ExperimentReport
from empirics.experiments.verdicts import ALPHA, Rule, Sample, finding, judge
from empirics.experiments.theory2b_flatness import (IMAGE_DATASETS, data_note, dataset_of, size_deviations,
                                                    train_stage)
from empirics.train import ModelSpec, TrainConfig, read_metrics

REF = "Theory IIb §1.2"


@dataclass(frozen=True)
class ActivationSettings:
    """Sizes at one scale: subset (None: all), CNN widths (None: the paper's), epochs, batch, trajectories K per
    activation (the replicates), the polynomial degrees, the learning-rate grid tried for every activation,
    test_subset (test examples scored; None: all) and eval_every (errors measured every that many epochs)."""

    subset: int | None
    widths: tuple[int, ...] | None
    epochs: int
    batch: int
    trajectories: int
    degrees: tuple[int, ...] = (2, 4, 8)
    lrs: tuple[float, ...] = (0.05, 0.0125)
    test_subset: int | None = None
    eval_every: int = 1


SETTINGS = {
    "smoke": ActivationSettings(subset=150, widths=(16, 32, 64, 32), epochs=5, batch=20, trajectories=3,
                                degrees=(4, 8), lrs=(0.05, 0.0125), test_subset=500),
    "cpu": ActivationSettings(subset=1000, widths=(16, 32, 64, 32), epochs=10, batch=50, trajectories=3,
                              degrees=(2, 4, 8), lrs=(0.05, 0.0125), test_subset=2000),
    "paper": ActivationSettings(subset=None, widths=None, epochs=60, batch=100, trajectories=4, degrees=(2, 4, 8, 16),
                                lrs=(0.01, 0.0025)),
}
INTERVAL = 4.0  # the approximation interval [−4, 4] after batch norm (empirics.models.BN_RADIUS)

CLAIM = Claim(
    "polynomial-unchanged", "Theory IIb", "§1.2",
    "Alternatively, one can replace the RELUs in the network with an approximating univariate polynomial and verify "
    "empirically that the network behavior is essentially unchanged.")
RULE = Rule(
    "polynomial-unchanged", 1, "final error of the polynomial DCNN minus the ReLU DCNN from the same initialisation "
    "and minibatch order (training and test, per degree)", "within", 0.03,
    "the ReLU DCNN, each at its best learning rate of the grid (paired per trajectory)",
    "§1.2: 'essentially unchanged' — three points of error either way; an existence claim over degrees")
TOLERANCE = RULE.margin  # absolute difference in error fraction counted as "essentially unchanged"


def _curves(ctx: ExperimentContext, name: str) -> dict:
    m = read_metrics(ctx.subrun(name).path)
    return {"epochs": [e["epoch"] for e in m["epochs"]], "train_error": [e["train_error"] for e in m["epochs"]],
            "test_error": [e["test_error"] for e in m["epochs"]], "status": m["status"]}


def approximation(degree: int) -> dict:
    """Return the ReLU approximation's worst error on [−4, 4], its error at 0 and its value at z = 8."""
    import torch

    from empirics.models import make_activation

    m = make_activation(f"relu-legendre:{degree}:{INTERVAL:g}")
    z = torch.linspace(-INTERVAL, INTERVAL, 4001, dtype=torch.float64)
    with torch.no_grad():
        y = m(z)
        at = m(torch.tensor([0.0, 2 * INTERVAL], dtype=torch.float64))
    return {"sup_error": float((y - torch.relu(z)).abs().max()), "error_at_0": float(at[0]),
            "value_at_8": float(at[1])}


def outside_fraction(ctx: ExperimentContext, name: str) -> list[float]:
    """Return per trajectory the fraction of activation inputs (training set, eval mode) with |z| > 4."""
    import torch

    from empirics.device import pick_device
    from empirics.experiments.common import load_stage

    dev = pick_device(ctx.device)
    run, data = load_stage(ctx, name, dev)
    out = []
    for model in run.models:
        model.eval()
        counts = [0, 0]

        def hook(_m, inp, _o):
            z = inp[0]
            counts[0] += int((z.abs() > INTERVAL).sum())
            counts[1] += z.numel()

        acts = [m for m in model.modules() if type(m).__name__ in ("Polynomial", "ReLU")]
        handles = [m.register_forward_hook(hook) for m in acts]
        with torch.no_grad():
            for i in range(0, len(data.x_train), 500):
                model(data.x_train[i:i + 500])
        for h in handles:
            h.remove()
        out.append(counts[0] / max(counts[1], 1))
    return out


def run(ctx: ExperimentContext) -> ExperimentReport:
    """Train ReLU and polynomial DCNNs alike (each at its best learning rate) and judge the replacement per degree."""
    from empirics.experiments.common import pin_preset
    from empirics.experiments.plots2b import plot_curves

    s = SETTINGS[ctx.scale]
    pin_preset(ctx, s)
    acts = {"relu": "relu", **{f"poly{d}": f"relu-legendre:{d}" for d in s.degrees}}
    base = TrainConfig(dataset=dataset_of(ctx), data_dir=ctx.data_dir, subset=s.subset,
                       data_seed=child_seed(ctx.seed, "data"), model=ModelSpec("paper-cnn", widths=s.widths),
                       optimizer="sgd", epochs=s.epochs, lr=s.lrs[0], batch_size=s.batch,
                       trajectories=s.trajectories, seed=child_seed(ctx.seed, "activation"),
                       save_weights=False, test_subset=s.test_subset, eval_every=s.eval_every)
    chosen, tried = {}, {}
    for name, act in acts.items():
        scores = {}
        for j, lr in enumerate(s.lrs):
            stage = f"{name}-lr{j}"
            st = train_stage(ctx, stage, replace(base, model=replace(base.model, activation=act), lr=lr))
            c = ctx.stage(f"curves-{stage}", lambda n=stage: _curves(ctx, n)) if st["status"] == "finished" else None
            scores[lr] = (float(np.mean(c["train_error"][-1])) if c else float("inf"), stage, c)
        lr = min(scores, key=lambda k: scores[k][0])
        chosen[name] = {"lr": lr, "stage": scores[lr][1], "curves": scores[lr][2]}
        tried[name] = {f"{k:g}": v[0] for k, v in scores.items()}
    shown = {"relu": "ReLU", **{f"poly{d}": f"Legendre degree {d}" for d in s.degrees}}
    curves = {f"{shown[n]} (lr {c['lr']:g})": c["curves"] for n, c in chosen.items() if c["curves"] is not None}
    plot_curves(curves, ctx.path("relu_vs_polynomial.png"), "ReLU vs polynomial activations (Legendre on [−4, 4]), "
                "Theory IIb §1.2")
    fin = {n: {k: np.asarray(c["curves"][k][-1], float) for k in ("train_error", "test_error")}
           for n, c in chosen.items() if c["curves"] is not None}
    approx = {d: approximation(d) for d in s.degrees}
    outside = {n: ctx.stage(f"outside-{c['stage']}", lambda st=c["stage"]: outside_fraction(ctx, st))
               for n, c in chosen.items() if c["curves"] is not None}
    per_degree = {}
    for d in s.degrees:
        n = f"poly{d}"
        if n not in fin or "relu" not in fin:
            per_degree[d] = judge(RULE, Sample(f"degree {d} (diverged)", []), alpha=ALPHA / len(s.degrees))
            continue
        per_degree[d] = judge(RULE, [Sample(f"degree {d} {k.split('_')[0]}", fin[n][k] - fin["relu"][k])
                                     for k in ("train_error", "test_error")], alpha=ALPHA / len(s.degrees))
    held = [d for d, v in per_degree.items() if v.verdict == "held"]
    if held:
        best = per_degree[held[0]]
    elif all(v.verdict == "not held" for v in per_degree.values()):
        best = per_degree[s.degrees[-1]]
    else:
        best = next(v for v in per_degree.values() if v.verdict == "underpowered")
    verdict_word = "held" if held else ("not held" if all(v.verdict == "not held" for v in per_degree.values())
                                        else "underpowered")
    best = replace(best, verdict=verdict_word)
    lines = []
    for d in s.degrees:
        a, v = approx[d], per_degree[d]
        out = outside.get(f"poly{d}")
        lines.append(f"degree {d}: {v.verdict} ({v.summary()}); sup error on [−4, 4] {a['sup_error']:.3f}, error at 0 "
                     f"{a['error_at_0']:.3f}, P(8) = {a['value_at_8']:.3g}, pre-activations outside [−4, 4] "
                     + (f"{np.mean(out):.2e}" if out else "n/a") + f", lr {chosen[f'poly{d}']['lr']:g}")
    relu_out = outside.get("relu")
    detail = ("per degree (each at level α/" f"{len(s.degrees)}): " + "; ".join(lines)
              + f". ReLU lr {chosen['relu']['lr']:g}" + (f", its BN'd inputs outside [−4, 4]: {np.mean(relu_out):.2e}"
                                                        if relu_out else ""))
    measured = {"final_train_error": {n: v["train_error"].tolist() for n, v in fin.items()},
                "final_test_error": {n: v["test_error"].tolist() for n, v in fin.items()},
                "learning_rate": {n: c["lr"] for n, c in chosen.items()}, "lr_grid_train_error": tried,
                "approximation": {str(d): a for d, a in approx.items()}, "outside_fraction": outside,
                "per_degree": {str(d): v.to_dict() for d, v in per_degree.items()}}
    f = finding(CLAIM.key, best, detail, measured)
    n = "all" if s.subset is None else str(s.subset)
    protocol = [f"Train K = {s.trajectories} DCNNs with ReLU and K with relu-legendre:ℓ for ℓ in {s.degrees} (same "
                f"initialisation seeds and minibatch orders: trajectory k is replicate k, paired across activations) by "
                f"SGD (batch {s.batch}, {s.epochs} epochs) on {n} training examples of {dataset_of(ctx)}, at every "
                f"learning rate of {s.lrs}; each activation keeps the rate with the lowest mean final training error.",
                "Per degree: the approximation's sup error on [−4, 4], its error at 0, P(8), and the fraction of the "
                "trained network's activation inputs outside [−4, 4] (training set, eval mode).",
                f"Rule {RULE.tag}: {RULE.describe()}; held when some degree is held at level α/{len(s.degrees)} (an "
                "existence claim), not held when every degree is not held."]
    deviations = [data_note(dataset_of(ctx)),
                  "polynomials: Legendre least-squares fits of the ReLU on [−4, 4] (after batch norm); the paper does "
                  "not name its polynomial or degree",
                  "the learning rate is chosen per activation on the same runs' final training error (a small "
                  "selection effect, the same for every activation)",
                  "training error as recorded by training (metrics.json)"]
    deviations += size_deviations(s.subset, s.test_subset, s.widths)
    return ExperimentReport("iib-poly-activation", "DCNN with a polynomial activation vs ReLU", REF, ctx.scale,
                            ctx.seed, tuple(protocol), tuple(deviations), (CLAIM,), (f,), measured,
                            (("relu_vs_polynomial.png", "Training (solid) and test (dashed) error of the ReLU and the "
                              "polynomial DCNNs (each at its chosen learning rate) against epoch; band: min–max over "
                              "trajectories"),), 0.0)


EXPERIMENTS = (
    Experiment("iib-poly-activation", "The DCNN with a polynomial activation vs ReLU: training and test error", REF,
               (CLAIM,), run, IMAGE_DATASETS),
)
