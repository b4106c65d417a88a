"""Shared machinery of the Theory II CNN experiments (§4.2–4.4, App. B, §6.1).

- Data: the default data set (Fashion-MNIST padded to 32×32 where the loader has it, else digits),
  and the deviation lines every report carries (data set, training subset, widths).
- Training stages: `train_stage` runs `empirics.train.train` in `ctx.subrun(name)` with resume, so
  a killed experiment continues inside the stage it was in; the stage's summary is cached by
  `ctx.stage`.
- Layers as the paper numbers them: "a 6-layer (with the 1st layer being the input) DCNN", so the
  paper's layer L is the (L − 1)-th convolution (`paper_layer_columns`). Layer 2 is the first
  convolution, layer 6 the output convolution.
- Points for MDS: flat weights of saved epochs of chosen trajectories, and of any other model
  (interpolated models), with a label, group and epoch per point (`Points`), embedded per paper
  layer with classical MDS on 1 − cos (Theory II §4.1).
- Evaluation: `Evaluator` gives the training loss/error of any flat weight vector with batch-norm
  statistics recomputed on the training set (the `empirics.probes` 'recompute' policy), so labels
  of trained and interpolated models are measured the same way.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
import torch

from landscape_core.seeds import child_seed
from empirics.experiments import ExperimentContext, Replicate

PAPER_DATA = "cifar10"
PAPER_WIDTHS_NOTE = "the paper does not state its widths; (32, 64, 152, 56) give its 188,810 parameters on CIFAR-10"


def dataset_choices() -> tuple[str, ...]:
    """Return the data sets these experiments accept, the default first (Fashion-MNIST when the loader has it)."""
    from empirics.data import DATASETS

    order = ("fashion-mnist", "digits", "cifar10", "mnist")
    return tuple(d for d in order if d in DATASETS)


def dataset_of(ctx: ExperimentContext) -> str:
    """Return the data set of this run: the user's choice, else the default."""
    return ctx.dataset or dataset_choices()[0]


# Test examples scored per evaluation below paper scale (a seeded subset; the paper scores all of them).
TEST_SUBSET = {"smoke": 1000, "cpu": 2000, "paper": None}


def data_deviations(dataset: str, subset: int | None, widths: Sequence[int] | None,
                    scale: str | None = None) -> list[str]:
    """Return the deviation lines for the data set, training and test subsets and CNN widths actually used."""
    out = []
    if dataset != PAPER_DATA:
        out.append(f"data set {dataset} instead of CIFAR-10"
                   + (" (28×28 grey images padded to 32×32)" if dataset == "fashion-mnist" else "")
                   + (" (8×8 images: the third convolution already outputs 1×1, deeper kernels see only their centre tap)"
                      if dataset == "digits" else ""))
    if subset is not None:
        out.append(f"training set: a seeded subset of {subset} examples instead of 50,000")
    if scale is not None and TEST_SUBSET.get(scale) and dataset != "digits":
        out.append(f"test error on a seeded subset of {TEST_SUBSET[scale]:,} test examples")
    if widths is not None:
        out.append(f"CNN hidden widths {tuple(widths)} instead of the 188,810-parameter network "
                   f"({PAPER_WIDTHS_NOTE})")
    return out


def base_config(ctx: ExperimentContext, subset: int | None, widths: Sequence[int] | None, activation: str | None = None,
                rep: Replicate | None = None, **kw):
    """Return the TrainConfig of the paper's DCNN (hidden `widths`, `activation`; None: the paper's) on this
    run's data; `kw` overrides optimisation fields.

    With a replicate, the training subset and data order are drawn from the replicate's own root
    (`rep.seed("data")`), so replicates share no data draw; without one, from the experiment's seed
    (for models that are not replicates of a verdict). Below paper scale the test error is measured
    on a seeded subset of `TEST_SUBSET[scale]` test examples (scoring all 10,000 every epoch
    dominated small runs).
    """
    from empirics.train import ModelSpec, TrainConfig

    dataset = dataset_of(ctx)
    # digits has only 450 test examples: score them all
    kw.setdefault("test_subset", None if dataset == "digits" else TEST_SUBSET[ctx.scale])
    data_seed = rep.seed("data") if rep is not None else child_seed(ctx.seed, "data")
    return TrainConfig(dataset=dataset, data_dir=ctx.data_dir, subset=subset,
                       model=ModelSpec("paper-cnn", widths=None if widths is None else tuple(widths), activation=activation),
                       data_seed=data_seed, **kw)


def seed_for(ctx: ExperimentContext | Replicate, name: str) -> int:
    """Return the training seed of stage `name`: a 63-bit child of the replicate's root (or of the experiment seed)."""
    if isinstance(ctx, Replicate):
        return ctx.seed(name)
    return child_seed(ctx.seed, name)


def train_stage(ctx: ExperimentContext, name: str, config, rep: Replicate | None = None) -> dict:
    """Train `config` in the stage folder `name` (a replicate's own folder when `rep` is given), resuming a
    half-done stage, and return its summary.

    The summary holds the run folder ('run'), epochs, parameters per model and wall time; a finished
    stage is read back without training.
    """
    from empirics.train import train

    def compute() -> dict:
        rd = rep.subrun(name) if rep is not None else ctx.subrun(name)
        res = train(config, rd, resume=True, device=ctx.device, progress=ctx.progress)
        return {"run": str(rd.path), "epochs": res.epochs, "n_params": res.n_params, "seconds": res.seconds,
                "device": res.device}

    return rep.stage(name, compute) if rep is not None else ctx.stage(name, compute)


def paper_layer_columns(model: torch.nn.Module, layer: int) -> np.ndarray:
    """Return the flat-vector indices of the paper's layer `layer` (1 = input, so convolution layer − 1).

    Theory II §4.1: "a 6-layer (with the 1st layer being the input) DCNN"; weights and bias of that
    convolution.
    """
    from empirics.models import layer_slice
    from landscape_core.errors import InvalidSpecError

    if layer < 2:
        raise InvalidSpecError(f"paper layer {layer} holds no weights: layer 1 is the input")
    n = sum(p.numel() for p in model.parameters())
    return np.concatenate([np.arange(n)[s] for s in layer_slice(model, layer - 1)])


def cosine_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Return 1 − cos(a, b), the dissimilarity of Theory II §4.1."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(1.0 - a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def pairwise_cosine(W: np.ndarray) -> np.ndarray:
    """Return the (n, n) matrix of 1 − cos between the rows of W."""
    from empirics.mds import dissimilarity

    return dissimilarity(np.asarray(W, float), "cosine")


# ----------------------------------------------------------------------------------------------
# Evaluation with recomputed batch-norm statistics


class Evaluator:
    """Training loss and error of flat weight vectors of one architecture, batch norm recomputed.

    `Evaluator(run_folder, device)` reads the run's data and a model of its architecture once;
    `evaluate(w)` returns (loss, error) on the training set with the running statistics reset and
    re-estimated on the training set at w (`empirics.probes.Objective`, bn='recompute'), the one way
    every label of these experiments is measured; `correct(w, split)` gives per-example correctness
    and `test(w)` the test loss and error, on the first `test_examples` test examples (None: all).
    """

    def __init__(self, run: str, device: str = "cpu", batch_size: int | None = 1000, test_examples: int | None = None):
        from empirics.data import load_dataset
        from empirics.probes import Objective
        from empirics.train import load_run

        loaded = load_run(run, device)
        self.model = loaded.models[0]
        self.config = loaded.config
        data = load_dataset(loaded.data_spec, loaded.models[0].parameters().__next__().device,
                            dtype=loaded.config.torch_dtype)
        self.data = data
        n_test = len(data.x_test) if test_examples is None else min(test_examples, len(data.x_test))
        self.x_test, self.y_test = data.x_test[:n_test], data.y_test[:n_test]
        self.train = Objective(self.model, data.x_train, data.y_train, "cross-entropy", batch_size, "recompute")
        self.cache: dict = {}

    def evaluate(self, w: np.ndarray | torch.Tensor) -> tuple[float, float]:
        """Return (cross-entropy, error fraction) on the training set at w."""
        ev = self.train.evaluate(torch.as_tensor(w))
        return ev.loss, float(ev.error)

    def correct(self, w: np.ndarray | torch.Tensor, split: str = "test") -> np.ndarray:
        """Return per-example correctness at w on `split`, statistics recomputed on the training set."""
        self.train._load(torch.as_tensor(w, dtype=self.train.dtype, device=self.train.device), None)
        x, y = (self.x_test, self.y_test) if split == "test" else (self.data.x_train, self.data.y_train)
        with torch.no_grad():
            out = torch.cat([self.train.model(x[i:i + 1000]) for i in range(0, len(x), 1000)])
        return (out.argmax(1) == y).cpu().numpy()

    def test(self, w: np.ndarray | torch.Tensor) -> tuple[float, float]:
        """Return (cross-entropy, error) on the test set at w, statistics recomputed on the training set."""
        ok = self.correct(w, "test")
        with torch.no_grad():
            x, y = self.x_test, self.y_test
            out = torch.cat([self.train.model(x[i:i + 1000]) for i in range(0, len(x), 1000)])
            loss = float(torch.nn.functional.cross_entropy(out, y))
        return loss, float(1.0 - ok.mean())


# ----------------------------------------------------------------------------------------------
# Points for MDS


@dataclass
class Points:
    """Weight vectors to embed, with per-point metadata.

    W: (n, P) flat weights (float64).
    group: per point, the curve it belongs to (stage, run, branch...), a short string.
    epoch: per point, its epoch within its curve.
    label: per point, the text drawn (training error in %, or the epoch).
    error: per point, the training error fraction (NaN when not measured).
    """

    W: list = field(default_factory=list)
    group: list = field(default_factory=list)
    epoch: list = field(default_factory=list)
    label: list = field(default_factory=list)
    error: list = field(default_factory=list)

    def add(self, w, group: str, epoch: int, label: str, error: float = float("nan")) -> None:
        """Append one point."""
        self.W.append(np.asarray(w, dtype=np.float64))
        self.group.append(group)
        self.epoch.append(int(epoch))
        self.label.append(label)
        self.error.append(float(error))

    def select(self, keep: Iterable[bool]) -> "Points":
        """Return the points where `keep` is true."""
        idx = [i for i, k in enumerate(keep) if k]
        return Points([self.W[i] for i in idx], [self.group[i] for i in idx], [self.epoch[i] for i in idx],
                      [self.label[i] for i in idx], [self.error[i] for i in idx])

    def matrix(self) -> np.ndarray:
        """Return the (n, P) weight matrix."""
        return np.stack(self.W)


def load_stage(ctx: ExperimentContext, name: str, device):
    """Return (the loaded run, its data set) of the training stage `name`, both on `device`, in the run's dtype."""
    from empirics.data import load_dataset
    from empirics.train import load_run

    run = load_run(ctx.subrun(name).path, device=device)
    return run, load_dataset(run.data_spec, device=device, dtype=run.config.torch_dtype)


def run_weights(run: str, trajectories: Sequence[int] | None = None) -> tuple[list[int], np.ndarray]:
    """Return (epochs, W (E, K', P) float64) of a training run's saved epochs for the chosen trajectories."""
    from empirics.train import load_trajectory

    epochs, W = load_trajectory(run, "cpu")
    W = W.double().numpy()
    if trajectories is not None:
        W = W[:, list(trajectories)]
    return epochs, W


def error_label(error: float) -> str:
    """Return the training error as the paper prints it: a percentage, no decimals ('NaN' if unmeasured)."""
    return "NaN" if not np.isfinite(error) else f"{100 * error:.0f}"


def embed(points: Points, model: torch.nn.Module, layers: Sequence[int], metric: str = "cosine") -> dict:
    """Return {paper layer: MDSResult.to_dict() with the points' metadata} (Theory II §4.1)."""
    from empirics.mds import mds

    W = points.matrix()
    out = {}
    for layer in layers:
        cols = paper_layer_columns(model, layer)
        res = mds(W[:, cols], metric, 2, points.label, layer).to_dict()
        res.update({"group": list(points.group), "epoch": list(points.epoch), "error": list(points.error),
                    "paper_layer": layer, "n_weights": int(len(cols))})
        out[str(layer)] = res
    return out


def dissimilarity_correlation(points: Points, model: torch.nn.Module, a: int, b: int) -> float:
    """Return the Spearman correlation of the pairwise 1 − cos of paper layers a and b over the points.

    A measure of Theory II §4.2's "The weights of different layers tend to produce qualitatively
    similar results": 1 when both layers order every pair of models alike.
    """
    from scipy.stats import spearmanr

    W = points.matrix()
    iu = np.triu_indices(len(W), 1)
    da = pairwise_cosine(W[:, paper_layer_columns(model, a)])[iu]
    db = pairwise_cosine(W[:, paper_layer_columns(model, b)])[iu]
    return float(spearmanr(da, db).statistic)


def model_of(run: str) -> torch.nn.Module:
    """Return trajectory 0 of a run (CPU): the architecture for layer slices."""
    from empirics.train import load_run

    return load_run(run, "cpu").models[0]


def load_config(run: str):
    """Return the TrainConfig a run folder was trained with."""
    from empirics.train import run_config

    return run_config(run)
