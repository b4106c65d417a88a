"""Training runs: SGD, full-batch GD, SGDL and RMSProp, several trajectories at once, resumable.

A run trains K trajectories of one architecture (trajectory k seeded with seed + k: its own
initialisation, minibatch order and SGDL noise), so a run with K trajectories computes the same
numbers as K runs with one trajectory each, up to floating-point reduction order. The K models are
held as stacked tensors (leading dimension K, `torch.func.stack_module_state`) and run in one of
three ways (`parallel`): 'vmap' (`torch.func.vmap(functional_call)`, one batched kernel for all K),
'grouped' (the DCNN only: one network on K·c channels whose convolutions have groups=K,
`empirics.models.grouped_cnn_forward`), or 'loop' (one after another). Theory II §4.2 runs 8
parallel SGD trajectories per stage. `parallel='auto'` takes the grouped network for the DCNN on
every device, vmap for other models on CUDA and the loop for them on the CPU. benchmarks/train.py
on 2 shared CPU cores (K = 8, batch 100, torch's 2 threads, load average ~8): loop 11.5 s/step,
vmap 2.8, grouped 2.3 (4.9× the loop); with 1 thread the loop was faster (1.21 vs grouped 1.57), so
the choice depends on the thread count and load: pass --parallel loop for single-threaded CPU runs.
On CUDA grouped is the choice by construction (vmap turns each convolution into the same grouped
convolution, with more overhead) but not measured here; tests/test_gpu.py prints the comparison.
The optimisers act elementwise, so one torch.optim optimiser over the stacked tensors is K
independent optimisers.

Speed options, none of which is CUDA-only: `channels_last` (memory format of the images),
`compile` (torch.compile of the trajectories' forward, once per run), `precision` for the
training steps ('float32', the papers' numerics and the default; 'tf32' on CUDA; 'bf16-mixed'
autocast). All are off by default on every device: only the CPU could be measured here, where
they do not help. The hot loop indexes device tensors (no DataLoader) and never syncs with the
host inside an epoch: losses accumulate on the device and are read once per epoch.

Batch norm under vmap: every trajectory has its own running mean/variance, stacked like the
weights and passed to `functional_call` as batched buffers; in training mode each trajectory
normalises with the statistics of its own minibatch and updates its own running statistics in
place (the batched in-place update writes the k-th slice), exactly as K separate modules would.
Evaluation recomputes the statistics on the training set at the evaluated weights (`empirics.bn`:
the running statistics lag behind the weights, badly so for full-batch GD) into separate buffers,
so the training state, and bit-identical resumption, are untouched.

Updates (γ = lr, ∇V the minibatch-averaged gradient, Theory IIb eq. (4)–(6)):
    sgd      w ← w − γ ∇V(w; z_t) on minibatches of `batch_size` (Theory II §4.2: 100, γ = 0.01)
    gd       w ← w − γ ∇I_S(w), the full training set every step (Theory II §4.3)
    sgdl     w ← w − γ ∇V(w; z_t) + γ′_t W_t, W_t ~ N(0, I_P), γ′_t = γ′_0 (1 + t)^(−decay)
             (Theory IIb eq. (5): "γ′_t is a sequence going to zero")
    rmsprop  torch.optim.RMSprop (Theory II §4 compares it with SGD)

Checkpoints: after every epoch the full state (weights, batch-norm statistics, optimiser state,
every generator's state, epoch, metrics) goes atomically to run/checkpoint.pt, and the weights to
run/weights/epoch_NNNN.pt (the trajectory for MDS). A run killed at any moment restarts from its
last completed epoch and, on the CPU with the same thread count, reproduces the uninterrupted
run's numbers bit for bit (tests/test_train.py kills one and checks).
"""
from __future__ import annotations

import copy
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from empirics.bn import EVALUATION, batch_norms, recompute_bn, reset_statistics
from empirics.data import DataSpec, Dataset, batch_indices, load_dataset
from empirics.device import describe_device, pick_device, precision_context, synchronize
from empirics.models import (MLP, PaperCNN, TorchNetwork, count_params, fit_relu_approximation, grouped_cnn_forward,
                             set_flat, stacked_flat, supports_grouped)
from landscape_toolkit.common.errors import CheckpointError, InputFileError, RunNotFoundError
from landscape_toolkit.common.progress import Progress, report
from landscape_toolkit.common.seeds import child_seed
from landscape_toolkit.common.serialize import Serializable, fields_dict
from landscape_toolkit.common.errors import TrainingDiverged
from landscape_toolkit.common.errors import InvalidSpecError
from theory.networks import NetworkSpec
from landscape_toolkit.common.records import RunDir, atomic_path, check_known_keys

OPTIMIZERS = ("sgd", "gd", "sgdl", "rmsprop")
MODELS = ("paper-cnn", "mlp", "theory")
LOSSES = ("auto", "cross-entropy", "mse")
CHECKPOINT = "checkpoint.pt"
WEIGHTS_DIR = "weights"
# Fields that may change when a run is resumed: extending it, or how it is watched.
RESUMABLE_CHANGES = ("epochs", "eval_batch", "parallel", "eval_every", "channels_last", "compile")
PARALLEL = ("auto", "vmap", "grouped", "loop")
PRECISIONS = ("float32", "tf32", "bf16-mixed")


@dataclass(frozen=True)
class TrainConfig(Serializable):
    """Everything that defines a training run; saved as config.json, unknown keys are an error.

    The polynomial network of model 'theory' (and the teacher of regression data) is one
    `theory.networks.NetworkSpec`, saved through its own `to_dict`; `widths`, `activation` and
    `bias` describe the paper's CNN and the MLP only.
    """

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
    # --- model ---
    model: str = "paper-cnn"                # paper-cnn | mlp | theory
    widths: tuple[int, ...] | None = None   # paper-cnn: hidden channels; mlp: hidden widths
    activation: str = "relu"                # paper-cnn/mlp: 'relu', 'tanh' or a polynomial: 'z + z^2/4', 'relu-legendre:8[:R]'
                                            # (paper-cnn: R defaults to 4, the scale of batch-normalised inputs)
    bias: bool = True                       # mlp: additive biases
    network: NetworkSpec | None = None      # theory model and regression teacher: the polynomial network
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
    trajectories: int = 1                   # K models trained together; trajectory k uses seed + k
    seed: int = 0                           # base seed of initialisation, batch order and SGDL noise
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
        if self.widths is not None:
            object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        if isinstance(self.network, dict):
            object.__setattr__(self, "network", NetworkSpec.from_dict(self.network))
        if self.model in ("paper-cnn", "mlp"):
            # A ReLU approximation gets an interval that fits its inputs (empirics.models.fit_relu_approximation).
            object.__setattr__(self, "activation", fit_relu_approximation(self.activation, self.model == "paper-cnn"))
        checks = [
            (self.model in MODELS, f"unknown model {self.model!r}: choose one of {', '.join(MODELS)}"),
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
            (self.widths is None or all(w >= 1 for w in self.widths), f"widths must be positive, got {self.widths}"),
            (self.network is None or isinstance(self.network, NetworkSpec), "network must be a theory NetworkSpec"),
            (self.network is not None or (self.model != "theory" and self.dataset != "regression"),
             "the theory model and regression data need a network spec (the polynomial network / teacher)"),
        ]
        for ok, message in checks:
            if not ok:
                raise InvalidSpecError(message)
        if self.dataset == "regression" and self.model == "paper-cnn":
            raise InvalidSpecError("regression data are vectors: use --model theory or mlp")

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        """Inverse of `to_dict` (the network through `NetworkSpec.from_dict`); unknown keys raise InvalidSpecError."""
        check_known_keys(cls, data, "training config")
        return cls(**data)

    @property
    def torch_dtype(self) -> torch.dtype:
        """Return the torch dtype of weights and inputs."""
        return torch.float64 if self.dtype == "float64" else torch.float32

    def theory_spec(self, input_dim: int | None = None, output_dim: int | None = None) -> NetworkSpec:
        """Return the config's NetworkSpec, checked against the data's input and output sizes when given."""
        spec = self.network
        if spec is None:
            raise InvalidSpecError("this configuration holds no theory network spec")
        if input_dim is not None and spec.input_dim != input_dim:
            raise InvalidSpecError(f"the theory network takes {spec.input_dim} inputs but the data have {input_dim}: "
                                   f"set --input-dim {input_dim}")
        if output_dim is not None and spec.output_dim != output_dim:
            raise InvalidSpecError(f"the theory network has {spec.output_dim} outputs but the task needs {output_dim}: "
                                   f"set --output-dim {output_dim}")
        return spec

    def data_spec(self) -> DataSpec:
        """Return the DataSpec of the run's data (regression: the teacher is the config's theory network)."""
        teacher = self.network.to_dict() if self.dataset == "regression" else None
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


# ----------------------------------------------------------------------------------------------
# Models


def build_model(config: TrainConfig, input_shape: tuple[int, ...], output_dim: int, seed: int) -> nn.Module:
    """Return one freshly initialised model for `config` (CPU; init drawn from `seed` only).

    paper-cnn: PaperCNN(in_channels, classes, widths or PAPER_WIDTHS); mlp: MLP with hidden widths
    (default (256, 256)); theory: TorchNetwork(spec) with theory's init_weights(spec, seed).
    """
    dtype = config.torch_dtype
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if config.model == "paper-cnn":
            if len(input_shape) != 3:
                raise InvalidSpecError(f"the CNN needs image inputs (C, H, W), got shape {input_shape}")
            kwargs = {} if config.widths is None else {"widths": config.widths}
            model = PaperCNN(input_shape[0], output_dim, activation=config.activation, **kwargs)
        elif config.model == "mlp":
            hidden = config.widths if config.widths is not None else (256, 256)
            model = MLP((int(np.prod(input_shape)),) + tuple(hidden) + (output_dim,), config.activation, bias=config.bias)
        else:
            from theory.networks import init_weights

            spec = config.theory_spec(int(np.prod(input_shape)), output_dim)
            model = TorchNetwork(spec, dtype=torch.float64)
            set_flat(model, torch.from_numpy(init_weights(spec, seed)))
    return model.to(dtype)


class Trajectories:
    """K models of one architecture as stacked tensors; returns outputs (K, B, out) for inputs (K, B, ...).

    `params` and `buffers` map parameter/buffer names to tensors with a leading dimension K; the
    parameters are the leaves the optimiser updates. Batch-norm running statistics live in
    `buffers`, one slice per trajectory (see the module docstring).
    """

    def __init__(self, models: list[nn.Module], device: torch.device, vectorize: bool = True, mode: str | None = None,
                 channels_last: bool = False, compile: bool = False):
        from torch.func import stack_module_state

        params, buffers = stack_module_state([m.to(device) for m in models])
        self.params = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
        self.buffers = {k: v.detach().clone() for k, v in buffers.items()}
        self.base = copy.deepcopy(models[0]).to("meta")  # structure only; tensors come from params/buffers
        self.k = len(models)
        # mode: 'loop' (one functional_call per trajectory), 'vmap' (torch.func.vmap over the K),
        # 'grouped' (PaperCNN only: one network on K·c channels, empirics.models.grouped_cnn_forward).
        mode = mode or ("vmap" if vectorize else "loop")
        if mode == "grouped" and not supports_grouped(self.base):
            mode = "vmap"
        self.mode = mode if self.k > 1 or mode == "grouped" else "loop"
        self.vectorize = self.mode != "loop"
        self.channels_last = channels_last
        self._forward = torch.compile(self._forward_eager) if compile else self._forward_eager

    def train(self, mode: bool = True) -> "Trajectories":
        """Set train (batch statistics) or eval (running statistics) mode; return self."""
        self.base.train(mode)
        return self

    def _one(self, params: dict, buffers: dict, x: torch.Tensor) -> torch.Tensor:
        from torch.func import functional_call

        return functional_call(self.base, (params, buffers), (x,))

    def __call__(self, x: torch.Tensor, shared: bool = False, buffers: dict | None = None) -> torch.Tensor:
        """Return the K outputs; x is (K, B, ...) per trajectory, or (B, ...) for all when `shared`.

        `buffers` replaces the trajectories' own batch-norm statistics (stacked like them).
        """
        buffers = self.buffers if buffers is None else buffers
        if self.channels_last and x.dim() == (4 if shared else 5):
            x = x.contiguous(memory_format=torch.channels_last) if shared else \
                torch.stack([xk.contiguous(memory_format=torch.channels_last) for xk in x])
        return self._forward(self.params, buffers, x, shared)

    def _forward_eager(self, params: dict, buffers: dict, x: torch.Tensor, shared: bool) -> torch.Tensor:
        if self.mode == "grouped":
            return grouped_cnn_forward(self.base, params, buffers, x, shared=shared)
        if self.mode == "loop":
            outs = []
            for k in range(self.k):
                p = {n: t[k] for n, t in params.items()}
                b = {n: t[k] for n, t in buffers.items()}  # views: in-place BN updates land in slice k
                outs.append(self._one(p, b, x if shared else x[k]))
            return torch.stack(outs)
        from torch.func import vmap

        return vmap(self._one, in_dims=(0, 0, None if shared else 0))(params, buffers, x)

    @property
    def has_batch_norm(self) -> bool:
        """Return True when the architecture keeps batch-norm running statistics."""
        return bool(batch_norms(self.base))

    @torch.no_grad()
    def recomputed_buffers(self, x: torch.Tensor, batch: int | None = None) -> dict[str, torch.Tensor]:
        """Return stacked batch-norm statistics recomputed on x at the current weights (`empirics.bn`).

        The trajectories' own running statistics (part of the training state) are not touched.
        """
        fresh = reset_statistics(self.buffers)
        recompute_bn(self.base, x, batch, forward=lambda chunk: self(chunk, shared=True, buffers=fresh))
        return fresh

    def flat(self) -> torch.Tensor:
        """Return the weights as a (K, P) tensor, each row in `get_flat` order."""
        return stacked_flat(self.params)

    def model(self, k: int) -> nn.Module:
        """Return trajectory k as an ordinary module (a copy on the tensors' device)."""
        device = next(iter(self.params.values())).device
        module = copy.deepcopy(self.base).to_empty(device=device)
        with torch.no_grad():
            for name, t in module.named_parameters():
                t.copy_(self.params[name][k])
            for name, t in module.named_buffers():
                t.copy_(self.buffers[name][k])
        return module

    def state(self) -> dict:
        """Return the weights and buffers (detached clones) for checkpoints."""
        return {"params": {k: v.detach().clone() for k, v in self.params.items()},
                "buffers": {k: v.clone() for k, v in self.buffers.items()}}

    @torch.no_grad()
    def load_state(self, state: dict) -> None:
        """Copy checkpointed weights and buffers in place (the optimiser keeps its references)."""
        for k, v in state["params"].items():
            self.params[k].copy_(v)
        for k, v in state["buffers"].items():
            self.buffers[k].copy_(v)


# ----------------------------------------------------------------------------------------------
# Optimisers


class SGDL(torch.optim.SGD):
    """SGD plus decaying Gaussian weight noise: w ← w − γ ∇V(w; z_t) + γ′_t W_t (Theory IIb eq. (5)).

    γ′_t = noise · (1 + t)^(−decay) with t the step index (0 first); W_t ~ N(0, I) is drawn for
    trajectory k from generators[k] over the k-th slice of every stacked tensor, so trajectory k's
    noise does not depend on how many trajectories are trained with it.
    """

    def __init__(self, params, lr: float, noise: float, decay: float, generators: list[torch.Generator],
                 momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
        self.noise, self.decay, self.generators = noise, decay, generators
        self.t = 0  # steps taken; saved in state_dict as 'sgdl_t'


    @torch.no_grad()
    def step(self, closure: Callable | None = None):
        loss = super().step(closure)
        scale = self.noise * (1.0 + self.t) ** (-self.decay)
        if scale > 0:
            for group in self.param_groups:
                for p in group["params"]:
                    for k, g in enumerate(self.generators):
                        p[k].add_(torch.randn(p.shape[1:], generator=g, device=p.device, dtype=p.dtype), alpha=scale)
        self.t += 1
        return loss

    def state_dict(self) -> dict:
        out = super().state_dict()
        out["sgdl_t"] = self.t
        return out

    def load_state_dict(self, state_dict: dict) -> None:
        state_dict = dict(state_dict)
        t = state_dict.pop("sgdl_t", 0)
        super().load_state_dict(state_dict)
        self.t = int(t)


def make_optimizer(config: TrainConfig, params: list[torch.Tensor], noise_generators: list[torch.Generator]):
    """Return the torch optimiser for `config.optimizer` over the stacked parameter tensors."""
    if config.optimizer in ("sgd", "gd"):
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    if config.optimizer == "sgdl":
        return SGDL(params, lr=config.lr, noise=config.sgdl_noise, decay=config.sgdl_decay,
                    generators=noise_generators, momentum=config.momentum, weight_decay=config.weight_decay)
    return torch.optim.RMSprop(params, lr=config.lr, alpha=config.rmsprop_alpha, eps=config.rmsprop_eps,
                               momentum=config.momentum, weight_decay=config.weight_decay)


# ----------------------------------------------------------------------------------------------
# Losses and evaluation


def _loss_name(config: TrainConfig, data: Dataset) -> str:
    if config.loss != "auto":
        if config.loss == "cross-entropy" and data.task == "regression":
            raise InvalidSpecError("cross-entropy needs class labels; regression uses mse")
        return config.loss
    return "cross-entropy" if data.task == "classification" else "mse"


def per_trajectory_loss(out: torch.Tensor, y: torch.Tensor, loss: str, num_classes: int | None) -> torch.Tensor:
    """Return the (K,) mean losses of outputs (K, B, out) against targets (K, B[, out]).

    cross-entropy: mean_i −log softmax(f(x_i))_{y_i}; mse: mean_i ‖f(x_i) − y_i‖² (one-hot targets for
    class labels), the square loss of Theory II.
    """
    k, b = out.shape[:2]
    if loss == "cross-entropy":
        return F.cross_entropy(out.reshape(k * b, -1), y.reshape(k * b), reduction="none").view(k, b).mean(1)
    target = F.one_hot(y, num_classes).to(out.dtype) if num_classes is not None else y
    return ((out - target) ** 2).sum(-1).mean(-1)


@torch.no_grad()
def evaluate(traj: Trajectories, x: torch.Tensor, y: torch.Tensor, loss: str, num_classes: int | None,
             batch: int, buffers: dict | None = None) -> tuple[list[float], list[float] | None]:
    """Return per-trajectory (mean loss, error fraction) over (x, y) in eval mode, in chunks of `batch`.

    `buffers`: batch-norm statistics to evaluate with (default: the trajectories' running ones);
    `train` passes `traj.recomputed_buffers(x_train)`, the toolkit's one evaluation (`empirics.bn`).
    """
    traj.train(False)
    total = torch.zeros(traj.k, dtype=torch.float64, device=x.device)
    wrong = torch.zeros(traj.k, dtype=torch.float64, device=x.device)
    for start in range(0, x.shape[0], batch):
        xb, yb = x[start:start + batch], y[start:start + batch]
        out = traj(xb, shared=True, buffers=buffers)
        ys = yb.expand(traj.k, *yb.shape)
        total += per_trajectory_loss(out, ys, loss, num_classes).double() * xb.shape[0]
        if num_classes is not None:
            wrong += (out.argmax(-1) != ys).double().sum(1)
    n = x.shape[0]
    return (total / n).tolist(), ((wrong / n).tolist() if num_classes is not None else None)


# ----------------------------------------------------------------------------------------------
# Runs


def _atomic_torch_save(obj: Any, path: Path) -> None:
    with atomic_path(path) as tmp:  # a kill leaves either the old or the new file, never a torn one
        torch.save(obj, tmp)


def _initial_models(config: TrainConfig, data: Dataset) -> list[nn.Module]:
    """Return the K starting models: fresh inits (seed + k), or a run's final weights, perturbed."""
    models = [build_model(config, data.input_shape, data.output_dim, config.seed + k) for k in range(config.trajectories)]
    if config.init_from is not None:
        folder, epoch = split_init_from(config.init_from)
        start = load_run(folder, device="cpu", epoch=epoch).models[0]
        mine = {n: tuple(t.shape) for n, t in models[0].state_dict().items()}
        theirs = {n: tuple(t.shape) for n, t in start.state_dict().items()}
        if mine != theirs:
            raise CheckpointError(f"cannot start from {folder}: its model ({count_params(start):,} parameters, "
                                  f"{type(start).__name__}) is not this run's ({count_params(models[0]):,} parameters, "
                                  f"{type(models[0]).__name__}); use the same --model, --widths and data")
        for m in models:
            m.load_state_dict(start.state_dict())
    if config.perturb > 0:
        for k, m in enumerate(models):
            if k < config.unperturbed:
                continue
            g = torch.Generator().manual_seed(child_seed(config.seed + k, "start perturbation"))
            with torch.no_grad():
                for p in m.parameters():
                    # Theory II §4.2: noise with std a fraction of the tensor's own weight std;
                    # Appendix B: a fraction of its mean |w|.
                    if config.perturb_scale == "mean_abs":
                        scale = p.abs().mean()
                    else:
                        scale = p.std() if p.numel() > 1 else 0
                    p.add_(torch.randn(p.shape, generator=g, dtype=p.dtype) * (config.perturb * scale))
    return models


def split_init_from(text: str) -> tuple[str, int | None]:
    """Return (run folder, epoch or None) of an init_from value 'RUN_DIR' or 'RUN_DIR:EPOCH'."""
    head, sep, tail = text.rpartition(":")
    if sep and tail.isdigit() and head:
        return head, int(tail)
    return text, None


def parallel_mode(parallel: str, device: torch.device, model: nn.Module) -> str:
    """Return how K trajectories run: 'loop', 'vmap' or 'grouped' for the config's `parallel` on `device`.

    'auto': grouped for the DCNN (measured fastest on the CPU with torch's default threads, see the
    module docstring; on CUDA one grouped kernel per layer instead of K), else vmap on CUDA and the
    loop on the CPU.
    """
    if parallel != "auto":
        return parallel
    if supports_grouped(model):
        return "grouped"
    return "vmap" if device.type == "cuda" else "loop"


def effective_precision(precision: str, device: torch.device) -> str:
    """Return the precision training steps actually run in: tf32 exists on CUDA only (elsewhere float32)."""
    return "float32" if precision == "tf32" and device.type != "cuda" else precision


def train(config: TrainConfig, run_dir: str | os.PathLike | RunDir, resume: bool = False, device: str = "auto",
          progress: Progress | None = None, callback: Callable[[int, int], None] | None = None,
          require_checkpoint: bool = False) -> TrainResult:
    """Train config.trajectories models and return a TrainResult; writes the run folder as it goes.

    Files in the run folder: config.json, manifest.json (seed, versions, commit), data.json,
    metrics.json (status, evaluation, one EpochMetrics per epoch, epoch 0 = initialisation),
    checkpoint.pt (full state after the last completed epoch) and weights/epoch_NNNN.pt. The folder
    is locked while training (`RunDir.lock`): a second training into it fails at once with
    RunLockedError. With `resume`, training restarts from checkpoint.pt (a fresh run if there is
    none, unless `require_checkpoint`: then a missing folder is RunNotFoundError and a missing
    checkpoint CheckpointError); the config must equal the saved one except for `epochs` (which
    may only grow), `eval_batch` and `parallel`. `callback(epoch, step)` is called after every
    optimisation step, and `progress(steps done, steps to do)` (common.progress) after every step
    of this invocation. Raises TrainingDiverged on a non-finite loss or weight, keeping the last
    good checkpoint (status 'diverged'); a KeyboardInterrupt marks metrics.json 'interrupted' and
    propagates.
    """
    if isinstance(run_dir, RunDir):
        rd = run_dir
    else:
        rd = RunDir(Path(run_dir).parent, Path(run_dir).name, create=not require_checkpoint)
    if require_checkpoint and not rd.file(CHECKPOINT).exists():
        raise CheckpointError(f"{rd.path} holds no {CHECKPOINT} to resume from (the run never finished an epoch); "
                              f"start it again without --resume")
    with rd.lock():
        return _train_locked(config, rd, resume, device, progress, callback)


def _train_locked(config: TrainConfig, rd: RunDir, resume: bool, device: str, progress: Progress | None,
                  callback: Callable[[int, int], None] | None) -> TrainResult:
    """Body of `train` while the run folder is locked."""
    started = time.perf_counter()
    dev = pick_device(device)
    if config.precision == "bf16-mixed" and dev.type != "cuda":
        # measured: bfloat16 autocast on this CPU drove the DCNN to NaN within two epochs (one thread),
        # and CPUs without bfloat16 units gain no speed from it
        raise InvalidSpecError("--precision bf16-mixed is for CUDA devices; on the CPU train in float32")
    ckpt_path = rd.file(CHECKPOINT)
    checkpoint = None
    if resume and ckpt_path.exists():
        checkpoint = _read_checkpoint(ckpt_path, dev)
        _check_resumable(TrainConfig.from_dict(checkpoint["config"]), config)
    elif not resume and ckpt_path.exists():
        raise CheckpointError(f"{rd.path} already holds a run: pass --resume to continue it or choose another --run name")

    data = load_dataset(config.data_spec(), device=dev, dtype=config.torch_dtype)
    loss_name = _loss_name(config, data)
    k_count = config.trajectories
    models = _initial_models(config, data) if checkpoint is None else \
        [build_model(config, data.input_shape, data.output_dim, config.seed + k) for k in range(k_count)]
    n_params = count_params(models[0])
    mode = parallel_mode(config.parallel, dev, models[0])
    traj = Trajectories(models, dev, mode=mode, channels_last=config.channels_last, compile=config.compile)
    batch_gens = [torch.Generator().manual_seed(config.seed + k) for k in range(k_count)]
    noise_gens = [torch.Generator(device=dev).manual_seed(child_seed(config.seed + k, "sgdl noise"))
                  for k in range(k_count)]
    optimizer = make_optimizer(config, list(traj.params.values()), noise_gens)
    history: list[EpochMetrics] = []

    def measure(epoch: int, batch_loss: list[float] | None, seconds: float) -> EpochMetrics:
        # Batch-norm statistics recomputed on the training set at these weights (empirics.bn).
        stats = traj.recomputed_buffers(data.x_train, config.eval_batch) if traj.has_batch_norm else None
        tr = evaluate(traj, data.x_train, data.y_train, loss_name, data.num_classes, config.eval_batch, stats)
        te = evaluate(traj, data.x_test, data.y_test, loss_name, data.num_classes, config.eval_batch, stats)
        return EpochMetrics(epoch, tr[0], tr[1], te[0], te[1], batch_loss, seconds)

    def save(epoch: int, status: str) -> None:
        state = traj.state()
        if config.save_weights:
            rd.file(WEIGHTS_DIR).mkdir(exist_ok=True)
            _atomic_torch_save({"epoch": epoch, **state}, rd.file(WEIGHTS_DIR) / f"epoch_{epoch:04d}.pt")
        _atomic_torch_save({"epoch": epoch, "config": config.to_dict(), **state, "optimizer": optimizer.state_dict(),
                            "batch_generators": [g.get_state() for g in batch_gens],
                            "noise_generators": [g.get_state() for g in noise_gens],
                            "torch_rng": torch.get_rng_state(),
                            "metrics": [m.to_dict() for m in history]}, ckpt_path)
        _write_metrics(rd, history, status, config)

    if checkpoint is None:
        rd.start(config.to_dict(), config.seed, extra={"device": describe_device(dev), "n_params": n_params,
                                                        "trajectories": k_count,
                                                        "parallel": traj.mode if k_count > 1 else "loop",
                                                        "precision": effective_precision(config.precision, dev)})
        rd.write_json("data.json", data.to_dict())
        history.append(measure(0, None, 0.0))
        if not all(math.isfinite(v) for v in history[0].train_loss):
            _write_metrics(rd, history, "diverged", config)
            raise TrainingDiverged(f"the loss at initialisation is not finite ({history[0].train_loss}): the "
                                   f"activation overflows on these inputs; choose another --activation")
        save(0, "running")
        start_epoch, resumed_from = 0, None
    else:
        traj.load_state(checkpoint)
        optimizer.load_state_dict(checkpoint["optimizer"])
        # Generator states are CPU byte tensors even for CUDA generators; map_location moved them.
        for g, s in zip(batch_gens + noise_gens, checkpoint["batch_generators"] + checkpoint["noise_generators"]):
            g.set_state(s.cpu())
        history = [EpochMetrics(**m) for m in checkpoint["metrics"]]
        start_epoch = resumed_from = int(checkpoint["epoch"])
        rd.write_json("config.json", config.to_dict())  # records an extended epoch count

    try:
        return _epochs(config, rd, data, traj, optimizer, history, batch_gens, loss_name, start_epoch, resumed_from,
                       measure, save, dev, progress, callback, started, n_params)
    except KeyboardInterrupt:
        _write_metrics(rd, history, "interrupted", config)
        raise


def _epochs(config, rd, data, traj, optimizer, history, batch_gens, loss_name, start_epoch, resumed_from,
            measure, save, dev, progress, callback, started, n_params) -> TrainResult:
    """Run the remaining epochs of `_train_locked` and return the TrainResult."""
    k_count = traj.k
    x_all, y_all, n = data.x_train, data.y_train, data.n_train
    steps = 1 if config.optimizer == "gd" else math.ceil(n / config.batch_size)
    epoch_times = []
    total_steps, done_steps = max(config.epochs - start_epoch, 0) * steps, 0
    for epoch in range(start_epoch + 1, config.epochs + 1):
        traj.train(True)
        synchronize(dev)
        t0 = time.perf_counter()
        if config.optimizer == "gd":
            batches = None
        else:
            per_k = [batch_indices(n, config.batch_size, g, dev) for g in batch_gens]
            batches = [torch.stack([per_k[k][s] for k in range(k_count)]) for s in range(steps)]  # (K, B) each

        def after_step(step: int, epoch: int = epoch) -> None:
            nonlocal done_steps
            if callback is not None:
                callback(epoch, step)
            done_steps += 1
            report(progress, done_steps, total_steps)

        with precision_context(config.precision, dev):
            seen = run_epoch(traj, optimizer, x_all, y_all, loss_name, data.num_classes, batches,
                             gd_chunk=config.gd_chunk, after_step=after_step)
        synchronize(dev)
        seconds = time.perf_counter() - t0
        epoch_times.append(seconds)
        batch_loss = (seen / n).tolist()  # one host sync per epoch, none per step
        finite = torch.stack([torch.isfinite(t.detach().reshape(k_count, -1)).all(1) for t in traj.params.values()])
        finite = finite.all(0).tolist()
        bad = [k for k in range(k_count) if not math.isfinite(batch_loss[k]) or not finite[k]]
        measured = None if bad or not config.evaluates(epoch) else measure(epoch, batch_loss, seconds)
        if measured is not None:
            bad = [k for k in range(k_count) if not math.isfinite(measured.train_loss[k])]
        if bad:
            _write_metrics(rd, history, "diverged", config)
            loss = batch_loss[bad[0]] if measured is None else measured.train_loss[bad[0]]
            raise TrainingDiverged(
                f"training diverged in epoch {epoch} (trajectory {bad[0]}: loss {loss}); "
                f"the checkpoint of epoch {epoch - 1} is kept in {rd.path}; try a smaller --lr")
        if measured is not None:
            history.append(measured)
        save(epoch, "running" if epoch < config.epochs else "finished")
    if start_epoch >= config.epochs:
        _write_metrics(rd, history, "finished", config)
    return TrainResult(str(rd.path), history[-1].epoch, resumed_from, k_count, n_params, describe_device(dev),
                       history[-1], time.perf_counter() - started,
                       float(np.mean(epoch_times)) if epoch_times else None, data.to_dict())


def run_epoch(traj: Trajectories, optimizer, x: torch.Tensor, y: torch.Tensor, loss_name: str,
              num_classes: int | None, batches: list[torch.Tensor] | None, gd_chunk: int | None = None,
              after_step: Callable[[int], None] | None = None) -> torch.Tensor:
    """Run one epoch of optimisation steps in train mode; return the (K,) summed minibatch losses.

    `batches` holds one (K, B) index tensor per step (trajectory k's minibatch in row k): each step
    is w ← step(w, ∇ mean_i loss(x_idx[k, i])). `batches=None` takes a single full-batch gradient
    step: the gradient of the mean loss is accumulated over chunks of `gd_chunk` examples weighted
    by their size, so it is the full gradient exactly (with batch norm each chunk normalises with
    its own statistics). This is the hot loop: indexing device tensors, no DataLoader, no host sync.
    """
    traj.train(True)
    total = torch.zeros(traj.k, dtype=torch.float64, device=x.device)
    if batches is None:
        n = x.shape[0]
        chunk = gd_chunk or n
        optimizer.zero_grad(set_to_none=True)
        for start in range(0, n, chunk):
            xb, yb = x[start:start + chunk], y[start:start + chunk]
            losses = per_trajectory_loss(traj(xb, shared=True), yb.expand(traj.k, *yb.shape), loss_name, num_classes)
            (losses.sum() * (xb.shape[0] / n)).backward()
            total += losses.detach().double() * xb.shape[0]
        optimizer.step()
        if after_step is not None:
            after_step(0)
        return total
    for step, idx in enumerate(batches):
        losses = per_trajectory_loss(traj(x[idx]), y[idx], loss_name, num_classes)
        optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()  # trajectory k's gradient is that of its own mean loss
        optimizer.step()
        total += losses.detach().double() * idx.shape[1]
        if after_step is not None:
            after_step(step)
    return total


def _write_metrics(rd: RunDir, history: list[EpochMetrics], status: str, config: TrainConfig | None = None) -> None:
    record = {"status": status, "evaluation": EVALUATION, "evaluated_epochs": [m.epoch for m in history]}
    if config is not None:
        record["eval_every"] = config.eval_every
        record["test_subset"] = config.test_subset
    rd.write_json("metrics.json", {**record, "epochs": [m.to_dict() for m in history]})


def _read_checkpoint(path: Path, device: torch.device) -> dict:
    try:
        return torch.load(path, map_location=device, weights_only=False)
    except Exception as exc:  # pickle, zip and IO errors all mean the same to the user
        raise CheckpointError(f"cannot read checkpoint {path}: {exc}") from exc


def _check_resumable(saved: TrainConfig, asked: TrainConfig) -> None:
    if asked.epochs < saved.epochs:
        raise CheckpointError(f"cannot resume with {asked.epochs} epochs: the run was configured for {saved.epochs}; "
                              f"--epochs can only extend a run")
    a, b = saved.to_dict(), asked.to_dict()
    changed = sorted(k for k in a if a[k] != b[k] and k not in RESUMABLE_CHANGES)
    if changed:
        detail = ", ".join(f"{k}: saved {a[k]!r}, asked {b[k]!r}" for k in changed)
        raise CheckpointError(f"cannot resume: the run was made with a different configuration ({detail})")


# ----------------------------------------------------------------------------------------------
# Reading runs back


@dataclass(frozen=True)
class LoadedRun(Serializable):
    """A trained run read back from its folder.

    Fields:
        path: the run folder.
        config: the TrainConfig it was trained with.
        data_spec: the DataSpec of its data (`load_dataset(run.data_spec, device)` rebuilds it).
        epoch: the epoch whose weights `models` hold.
        models: one module per trajectory, in eval mode, on the requested device.
        metrics: the EpochMetrics recorded up to the checkpoint.
        status: 'running' | 'finished' | 'diverged' | 'interrupted' from metrics.json.
    """

    path: str
    config: TrainConfig
    data_spec: DataSpec
    epoch: int
    models: list[nn.Module]
    metrics: list[EpochMetrics]
    status: str

    def to_dict(self) -> dict:
        """Return the fields with the models replaced by their count (no tensors)."""
        out = fields_dict(self, exclude=("models",))
        return {**{k: out[k] for k in ("path", "config", "data_spec", "epoch")}, "trajectories": len(self.models),
                "status": out["status"], "metrics": out["metrics"]}


def _read_json(path: Path) -> Any:
    """Return the parsed JSON file `path` (InputFileError naming it when unreadable)."""
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFileError(f"cannot read {path}: {exc}") from exc


def _run_folder(run_dir: str | os.PathLike) -> Path:
    """Return the run folder as a Path (RunNotFoundError naming it when it does not exist)."""
    path = Path(run_dir)
    if not path.is_dir():
        raise RunNotFoundError(f"run folder {path} does not exist")
    return path


def read_metrics(run_dir: str | os.PathLike) -> dict:
    """Return a run's metrics.json record ({'status', 'epochs': [EpochMetrics dicts]})."""
    path = _run_folder(run_dir) / "metrics.json"
    if not path.exists():
        raise RunNotFoundError(f"{path} does not exist: not a training run folder (or it never started)")
    return _read_json(path)


def _run_shapes(path: Path, config: TrainConfig) -> tuple[tuple[int, ...], int]:
    if not (path / "data.json").exists():
        raise CheckpointError(f"{path} has no data.json: not a training run folder")
    info = _read_json(path / "data.json")
    output_dim = info["num_classes"] if info["num_classes"] is not None else config.theory_spec().output_dim
    return tuple(info["input_shape"]), int(output_dim)


def load_run(run_dir: str | os.PathLike, device: str | torch.device = "cpu", epoch: int | None = None) -> LoadedRun:
    """Return the run's models (one per trajectory) at `epoch` (default: the last checkpoint), config and data spec."""
    path = _run_folder(run_dir)
    if not (path / CHECKPOINT).exists():
        raise CheckpointError(f"{path} holds no {CHECKPOINT}: not a training run folder (or it never started)")
    dev = pick_device(device)
    ckpt = _read_checkpoint(path / CHECKPOINT, dev)
    config = TrainConfig.from_dict(ckpt["config"])
    state = ckpt
    if epoch is not None and epoch != ckpt["epoch"]:
        wpath = path / WEIGHTS_DIR / f"epoch_{epoch:04d}.pt"
        if not wpath.exists():
            raise CheckpointError(f"{path} holds no weights for epoch {epoch}")
        state = _read_checkpoint(wpath, dev)
    input_shape, output_dim = _run_shapes(path, config)
    models = []
    for k in range(config.trajectories):
        m = build_model(config, input_shape, output_dim, config.seed + k).to(dev)
        m.load_state_dict({**{n: t[k] for n, t in state["params"].items()},
                           **{n: t[k] for n, t in state["buffers"].items()}})
        models.append(m.eval())
    metrics = _read_json(path / "metrics.json") if (path / "metrics.json").exists() else {}
    return LoadedRun(str(path), config, config.data_spec(), int(state["epoch"]), models,
                     [EpochMetrics(**m) for m in ckpt["metrics"]], metrics.get("status", "unknown"))


def load_trajectory(run_dir: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[list[int], torch.Tensor]:
    """Return (epochs, W) with W of shape (E, K, P): every saved epoch's flat weights, per trajectory.

    Rows follow `empirics.models.get_flat` order, so `layer_slice(model, k)` selects layer k
    (Theory II §4.2 runs MDS on such trajectories, layer by layer).
    """
    folder = _run_folder(run_dir) / WEIGHTS_DIR
    files = sorted(folder.glob("epoch_*.pt"))
    if not files:
        raise CheckpointError(f"{folder} holds no saved weights (was the run made with save_weights?)")
    dev = pick_device(device)
    epochs, rows = [], []
    for f in files:
        state = _read_checkpoint(f, dev)
        epochs.append(int(state["epoch"]))
        rows.append(stacked_flat(state["params"]))
    return epochs, torch.stack(rows)

