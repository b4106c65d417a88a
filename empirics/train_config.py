"""What defines a training run and what it returns: TrainConfig, EpochMetrics, TrainResult, the resume rule.

`TrainConfig` is saved as config.json (`common.runs`); unknown keys are an error. A run is resumed
by one rule (`resumed_config`): the saved configuration, with only the `RESUMABLE` fields taken
from the request (epochs, which may only grow, and how the run is watched or executed).

Seeds (`landscape_core.seeds`): trajectory k is the run of seed + k, and each of its
random choices has its own named stream under that seed: 'weights' (initialisation), 'batch order',
'sgdl noise', 'start perturbation'; the data have their own seed, `data_seed`. Seeds of any width
are recorded exactly.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Iterable

import torch

from empirics.data import DataSpec
from empirics.model_spec import KINDS, ModelSpec
from landscape_core.errors import CheckpointError, InvalidSpecError
from landscape_core.seeds import check_seed
from landscape_core.serialize import Config, Serializable
from theory.network.spec import NetworkSpec

OPTIMIZERS = ("sgd", "gd", "sgdl", "rmsprop")
MODELS = KINDS
LOSSES = ("auto", "cross-entropy", "mse")
# Fields that may change when a run is resumed: extending it, or how it is watched.
RESUMABLE = ("epochs", "eval_batch", "parallel", "eval_every", "channels_last", "compile")
PARALLEL = ("auto", "vmap", "grouped", "loop")
PRECISIONS = ("float32", "tf32", "bf16-mixed")


@dataclass(frozen=True)
class TrainConfig(Config):
    """Everything that defines a training run; saved as config.json, unknown keys are an error.

    The network is one nested `empirics.model_spec.ModelSpec` (`model`), kept apart from the
    training settings; the teacher of regression data is data, its own `teacher` NetworkSpec.
    """

    CONFIG_NAME = "training config"

    # --- data ---
    dataset: str = "fashion-mnist"          # fashion-mnist | digits | cifar10 | mnist | regression
    data_dir: str = "data"                  # root of torchvision's layout (cifar-10-batches-py/, MNIST/raw/, FashionMNIST/raw/)
    subset: int | None = None               # training examples kept (seeded choice); None keeps all
    test_subset: int | None = None          # test examples scored (seeded choice, recorded in data.json); None: all
    random_labels: float = 0.0              # fraction of training labels replaced by random classes
    data_seed: int = 0                      # seed of the split, subset, random labels, regression data
    download: bool = False                  # let torchvision download CIFAR-10/MNIST when missing
    n_train: int = 256                      # regression: training points
    n_test: int = 256                       # regression: test points
    noise: float = 0.0                      # regression: std of Gaussian noise on training targets
    teacher: NetworkSpec | None = None      # regression: the polynomial network that plants the targets (data, not the model)
    # --- model (the network's shape, apart from the training settings; resume pins it) ---
    model: ModelSpec = field(default_factory=ModelSpec)  # empirics.model_spec: kind, widths, activation, bias, theory network
    # --- optimisation ---
    optimizer: str = "sgd"                  # sgd | gd | sgdl | rmsprop
    epochs: int = 10                        # passes over the training set
    lr: float = 0.01                        # step size γ on the example-averaged gradient
    batch_size: int = 100                   # examples per step (gd: the whole training set)
    momentum: float = 0.0                   # heavy-ball coefficient (0: plain SGD as in the paper)
    weight_decay: float = 0.0               # L2 coefficient λ, adds λw to the gradient
    sgdl_noise: float = 1e-3                # γ′_0: std of the Gaussian added to every weight per step
    sgdl_decay: float = 0.5                 # γ′_t = γ′_0 (1 + t)^(−sgdl_decay), t = step index from 0
    rmsprop_alpha: float = 0.99             # RMSProp smoothing of the squared gradient
    rmsprop_eps: float = 1e-8               # RMSProp denominator guard
    loss: str = "auto"                      # auto (classification: cross-entropy, regression: mse) | cross-entropy | mse
    gd_chunk: int | None = None             # gd: examples per forward pass (None: all at once; BN then sees full-batch statistics)
    # --- trajectories ---
    trajectories: int = 1                   # K models trained together; trajectory k is the run of seed + k
    seed: int = 0                           # base seed (any width): named streams weights, batch order, sgdl noise
    parallel: str = "auto"                  # K > 1: vmap | grouped (paper-cnn: groups=K convolutions) | loop (one after
                                            # another) | auto (paper-cnn: grouped; else vmap on CUDA, loop on CPU)
    init_from: str | None = None            # 'RUN_DIR' or 'RUN_DIR:EPOCH': that run's weights (trajectory 0; default its last epoch) start every trajectory
    perturb: float = 0.0                    # start noise std, as a multiple of each tensor's std (Theory II §4.2: 0.01) or mean |w|
    perturb_scale: str = "std"              # std (Theory II §4.2) | mean_abs (Appendix B: σ = perturb · mean |w| per tensor)
    unperturbed: int = 0                    # leading trajectories started without perturbation (Theory II: 4 of 8)
    # --- evaluation and output ---
    eval_batch: int = 1000                  # examples per forward pass when evaluating
    eval_every: int = 1                     # evaluate after every k-th epoch (and always after the last and at 0)
    save_weights: bool = True               # keep every epoch's weights in weights/ (for MDS and probes)
    dtype: str = "float32"                  # float32 | float64 (theory comparisons)
    # --- speed (the numbers stay those of float32 up to rounding, except precision) ---
    precision: str = "float32"              # training steps: float32 (the papers') | tf32 (CUDA matmul/conv; CPU: float32)
                                            # | bf16-mixed (autocast to bfloat16); evaluation always runs in `dtype`
    channels_last: bool = False             # images in channels_last memory format (helps cuDNN; off by default)
    compile: bool = False                   # torch.compile the trajectories' forward once per run (off by default)

    def __post_init__(self) -> None:
        check_seed(self.seed)
        check_seed(self.data_seed)
        if isinstance(self.model, dict):
            object.__setattr__(self, "model", ModelSpec.from_dict(self.model))
        if isinstance(self.teacher, dict):
            object.__setattr__(self, "teacher", NetworkSpec.from_dict(self.teacher))
        checks = [
            (isinstance(self.model, ModelSpec), "model must be an empirics.model_spec.ModelSpec"),
            (self.optimizer in OPTIMIZERS, f"unknown optimizer {self.optimizer!r}: choose one of {', '.join(OPTIMIZERS)}"),
            (self.loss in LOSSES, f"unknown loss {self.loss!r}: choose one of {', '.join(LOSSES)}"),
            (self.dtype in ("float32", "float64"), f"dtype must be float32 or float64, got {self.dtype!r}"),
            (self.epochs >= 0, f"epochs must be >= 0, got {self.epochs}"),
            (self.lr > 0 and math.isfinite(self.lr), f"lr must be a positive number, got {self.lr}"),
            (self.batch_size >= 1, f"batch size must be >= 1, got {self.batch_size}"),
            (self.trajectories >= 1, f"trajectories must be >= 1, got {self.trajectories}"),
            (self.sgdl_noise >= 0 and self.sgdl_decay >= 0, "sgdl noise and decay must be >= 0"),
            (self.perturb >= 0, f"perturb must be >= 0, got {self.perturb}"),
            (self.perturb_scale in ("std", "mean_abs"), f"perturb_scale must be std or mean_abs, got {self.perturb_scale!r}"),
            (0 <= self.unperturbed <= self.trajectories, "unperturbed must lie between 0 and trajectories"),
            (self.eval_batch >= 1, "eval_batch must be >= 1"),
            (self.eval_every >= 1, f"eval_every must be >= 1, got {self.eval_every}"),
            (self.test_subset is None or self.test_subset >= 1, f"test_subset must be >= 1, got {self.test_subset}"),
            (self.parallel in PARALLEL, f"parallel must be one of {', '.join(PARALLEL)}, got {self.parallel!r}"),
            (self.precision in PRECISIONS, f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}"),
            (self.precision == "float32" or self.dtype == "float32", "a faster precision applies to float32 runs only"),
            (self.gd_chunk is None or self.gd_chunk >= 1, "gd_chunk must be >= 1"),
            (self.teacher is None or isinstance(self.teacher, NetworkSpec), "teacher must be a theory NetworkSpec"),
            ((self.teacher is not None) == (self.dataset == "regression"),
             "regression data need a teacher network (and only regression data take one)"),
        ]
        for ok, message in checks:
            if not ok:
                raise InvalidSpecError(message)
        if self.dataset == "regression" and self.model.kind == "paper-cnn":
            raise InvalidSpecError("regression data are vectors: use --model theory or mlp")


    @property
    def torch_dtype(self) -> torch.dtype:
        """Return the torch dtype of weights and inputs."""
        return torch.float64 if self.dtype == "float64" else torch.float32

    def data_spec(self) -> DataSpec:
        """Return the DataSpec of the run's data (regression: planted by the config's teacher network)."""
        teacher = self.teacher.to_dict() if self.teacher is not None else None
        return DataSpec(self.dataset, data_dir=self.data_dir, subset=self.subset, random_labels=self.random_labels,
                        seed=self.data_seed, download=self.download, teacher=teacher, n_train=self.n_train,
                        n_test=self.n_test, noise=self.noise, test_subset=self.test_subset)

    def evaluates(self, epoch: int) -> bool:
        """Return True when metrics are measured after `epoch`: 0, every eval_every-th, and the last."""
        return epoch == 0 or epoch % self.eval_every == 0 or epoch >= self.epochs


@dataclass(frozen=True)
class EpochMetrics(Serializable):
    """Measurements after one evaluated epoch, one entry per trajectory (`TrainConfig.eval_every`).

    Fields:
        epoch: epochs completed (0: the initialisation).
        train_loss: loss on the whole training set, eval mode with batch-norm statistics recomputed on the
            training set at these weights (`empirics.bn`, the toolkit's one evaluation).
        train_error: fraction misclassified on the training set (None for regression).
        test_loss: loss on the test set (the same statistics of the training set).
        test_error: fraction misclassified on the test set (None for regression).
        batch_loss: mean minibatch loss seen during the epoch, train mode (None at epoch 0).
        seconds: wall time of the epoch's optimisation steps (device synchronised), evaluation excluded.

    With eval_every = k > 1 only epochs 0, k, 2k, ... and the last are measured; metrics.json lists
    them under 'evaluated_epochs'.
    """

    epoch: int
    train_loss: list[float]
    train_error: list[float] | None
    test_loss: list[float]
    test_error: list[float] | None
    batch_loss: list[float] | None
    seconds: float


@dataclass(frozen=True)
class TrainResult(Serializable):
    """The outcome of `train`.

    Fields:
        run_dir: the run folder.
        epochs: epochs completed in total.
        resumed_from: the checkpoint epoch this invocation started from (None for a fresh run).
        trajectories: K, the number of models trained.
        n_params: parameters per model.
        device: the device, in words.
        final: the last EpochMetrics.
        seconds: wall time of this invocation (data loading included).
        seconds_per_epoch: mean optimisation time per epoch in this invocation (None if none ran).
        data: summary of the data set (`Dataset.to_dict()`).
    """

    run_dir: str
    epochs: int
    resumed_from: int | None
    trajectories: int
    n_params: int
    device: str
    final: EpochMetrics
    seconds: float
    seconds_per_epoch: float | None
    data: dict = field(default_factory=dict)


# Kept for callers of the earlier name.
RESUMABLE_CHANGES = RESUMABLE


def split_init_from(text: str) -> tuple[str, int | None]:
    """Return (run folder, epoch or None) of an init_from value 'RUN_DIR' or 'RUN_DIR:EPOCH'."""
    head, sep, tail = text.rpartition(":")
    if sep and tail.isdigit() and head:
        return head, int(tail)
    return text, None


def resumed_config(saved: TrainConfig, asked: TrainConfig, given: Iterable[str] | None = None) -> TrainConfig:
    """Return the configuration a resumed run continues with: `saved`, with the RESUMABLE fields of `asked`.

    The one resume rule. The model spec is one field: any other shape is refused, as is any other
    non-resumable setting. `given` names the fields the caller set explicitly (the CLI passes the
    flags given on its command line); None means every field of `asked` counts. A given field
    outside RESUMABLE that differs from the saved run raises CheckpointError naming it, and so does
    fewer epochs than saved (a run is extended, never shortened).
    """
    names = [f.name for f in fields(saved)]
    touched = set(names) if given is None else set(given) & set(names)
    differ = sorted(f for f in touched if f not in RESUMABLE and getattr(saved, f) != getattr(asked, f))
    if differ:
        shown = lambda v: v.describe() if hasattr(v, "describe") else repr(v)  # noqa: E731  (specs in one line)
        detail = ", ".join(f"{f}: saved {shown(getattr(saved, f))}, asked {shown(getattr(asked, f))}" for f in differ)
        raise CheckpointError(f"cannot resume: the run was made with another configuration ({detail}); give only "
                              f"--run NAME --resume (and --epochs to extend the run)")
    if "epochs" in touched and asked.epochs < saved.epochs:
        raise CheckpointError(f"cannot resume with {asked.epochs} epochs: the run is configured for {saved.epochs} "
                              f"epochs and --epochs can only extend it")
    return replace(saved, **{f: getattr(asked, f) for f in touched & set(RESUMABLE)})
