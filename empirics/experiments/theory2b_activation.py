"""Theory IIb §1.2: the DCNN with its ReLUs replaced by an approximating polynomial behaves the same.

The same DCNN, data, initialisation seeds and minibatch orders are trained twice by SGD, once with
ReLU and once with 'relu-legendre:ℓ' (the Legendre approximation of degree ℓ of the ReLU on the
interval `empirics.models` gives it after batch norm); training and test error are compared.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landscape_toolkit.common.seeds import child_seed
from empirics.experiments import Claim, Experiment, ExperimentContext, ExperimentReport, Finding
from empirics.experiments.theory2b_flatness import (IMAGE_DATASETS, data_note, dataset_of, size_deviations,
                                                    train_stage)
from empirics.train import ModelSpec, TrainConfig, read_metrics

REF = "Theory IIb §1.2"


@dataclass(frozen=True)
class ActivationSettings:
    """Sizes at one scale: subset (None: all), CNN widths (None: the paper's), epochs, lr, batch,
    trajectories K per activation, the polynomial activation, test_subset (test examples scored; None:
    all) and eval_every (errors measured every that many epochs, and at 0 and the last)."""

    subset: int | None
    widths: tuple[int, ...] | None
    epochs: int
    lr: float
    batch: int
    trajectories: int
    polynomial: str = "relu-legendre:4"
    test_subset: int | None = None
    eval_every: int = 1


SETTINGS = {
    "smoke": ActivationSettings(subset=200, widths=(16, 32, 64, 32), epochs=5, lr=0.05, batch=20, trajectories=2,
                                test_subset=500),
    "cpu": ActivationSettings(subset=2000, widths=None, epochs=10, lr=0.05, batch=50, trajectories=2,
                              test_subset=2000),
    "paper": ActivationSettings(subset=None, widths=None, epochs=60, lr=0.01, batch=100, trajectories=4),
}

CLAIM = Claim(
    "polynomial-unchanged", "Theory IIb", "§1.2",
    "Alternatively, one can replace the RELUs in the network with an approximating univariate polynomial and verify "
    "empirically that the network behavior is essentially unchanged.")
TOLERANCE = 0.03  # absolute difference in error fraction counted as "essentially unchanged"


def _curves(ctx: ExperimentContext, name: str) -> dict:
    m = read_metrics(ctx.subrun(name).path)
    return {"epochs": [e["epoch"] for e in m["epochs"]], "train_error": [e["train_error"] for e in m["epochs"]],
            "test_error": [e["test_error"] for e in m["epochs"]], "status": m["status"]}


def run(ctx: ExperimentContext) -> ExperimentReport:
    """Train ReLU and polynomial DCNNs alike and compare their errors."""
    from empirics.experiments.plots2b import plot_curves

    s = SETTINGS[ctx.scale]
    acts = {"relu": "relu", "polynomial": s.polynomial}
    stages = {}
    for name, act in acts.items():
        cfg = TrainConfig(dataset=dataset_of(ctx), data_dir=ctx.data_dir, subset=s.subset,
                          data_seed=child_seed(ctx.seed, "data"), model=ModelSpec("paper-cnn", widths=s.widths, activation=act),
                          optimizer="sgd", epochs=s.epochs, lr=s.lr, batch_size=s.batch,
                          trajectories=s.trajectories, seed=child_seed(ctx.seed, "activation"),
                          save_weights=False, test_subset=s.test_subset, eval_every=s.eval_every)
        stages[name] = train_stage(ctx, name, cfg)
    shown = {"relu": "ReLU", "polynomial": f"polynomial {s.polynomial}"}
    curves = {shown[name]: ctx.stage(f"curves-{name}", lambda n=name: _curves(ctx, n)) for name in acts}
    plot_curves(curves, ctx.path("relu_vs_polynomial.png"), f"ReLU vs polynomial activation ({s.polynomial}), "
                "Theory IIb §1.2")
    fin = {n: {k: np.asarray(c[k][-1], float) for k in ("train_error", "test_error")} for n, c in curves.items()}
    (rn, rv), (pn, pv) = fin.items()
    d_train = float(pv["train_error"].mean() - rv["train_error"].mean())
    d_test = float(pv["test_error"].mean() - rv["test_error"].mean())
    diverged = [n for n, st in stages.items() if st["status"] != "finished"]
    measured = {"final_train_error": {n: v["train_error"].tolist() for n, v in fin.items()},
                "final_test_error": {n: v["test_error"].tolist() for n, v in fin.items()},
                "poly_minus_relu_train": d_train, "poly_minus_relu_test": d_test, "diverged": diverged}
    nums = (f"final training error ReLU {rv['train_error'].mean():.3f} vs polynomial {pv['train_error'].mean():.3f}, "
            f"test error {rv['test_error'].mean():.3f} vs {pv['test_error'].mean():.3f} (means over {s.trajectories} "
            "trajectories)")
    if diverged:
        finding = Finding(CLAIM.key, "not held", f"{', '.join(diverged)} diverged at the same step size. " + nums,
                          measured)
    else:
        same = abs(d_train) <= TOLERANCE and abs(d_test) <= TOLERANCE
        finding = Finding(CLAIM.key, "held" if same else "not held",
                          nums + f"; held when both differ by ≤ {TOLERANCE}.", measured)
    n = "all" if s.subset is None else str(s.subset)
    protocol = [f"Train K = {s.trajectories} DCNNs with ReLU and K with {s.polynomial} (same initialisation seeds and "
                f"minibatch orders) by SGD (lr {s.lr}, batch {s.batch}, {s.epochs} epochs) on {n} training examples "
                f"of {dataset_of(ctx)}.",
                "Training and test error after every epoch, overlaid; verdict on the final epoch."]
    deviations = [data_note(dataset_of(ctx)),
                  f"polynomial: {s.polynomial}, the Legendre least-squares fit of the ReLU on the interval the models "
                  "module gives it after batch norm; the paper does not name its polynomial or degree",
                  "training error as recorded by training (metrics.json)"]
    deviations += size_deviations(s.subset, s.test_subset, s.widths)
    return ExperimentReport("iib-poly-activation", "DCNN with a polynomial activation vs ReLU", REF, ctx.scale,
                            ctx.seed, tuple(protocol), tuple(deviations), (CLAIM,), (finding,), measured,
                            (("relu_vs_polynomial.png", "Training (solid) and test (dashed) error of the ReLU and the "
                              "polynomial DCNN against epoch; band: min–max over trajectories"),), 0.0)


EXPERIMENTS = (
    Experiment("iib-poly-activation", "The DCNN with a polynomial activation vs ReLU: training and test error", REF,
               (CLAIM,), run, IMAGE_DATASETS),
)
