"""K models of one architecture trained as one: model construction, stacked trajectories, optimisers, losses.

`build_model` turns a ModelSpec into one freshly initialised module (its 'weights' stream);
`Trajectories` holds K of them as stacked tensors and runs them by vmap, grouped convolutions or a
loop (`parallel_mode`, see `empirics.train`); `SGDL` and `make_optimizer` give the update rules of
Theory IIb eq. (4)–(6); `per_trajectory_loss`, `evaluate` and `run_epoch` are the loss, the
evaluation and the hot loop of one epoch.
"""
from __future__ import annotations

import copy
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from empirics.bn import batch_norms, recompute_bn, reset_statistics
from empirics.data import Dataset
from empirics.models import MLP, PaperCNN, TorchNetwork, grouped_cnn_forward, set_flat, stacked_flat, supports_grouped
from empirics.model_spec import ModelSpec
from empirics.train_config import TrainConfig
from landscape_core.errors import InvalidSpecError
from landscape_core.seeds import child_seed, stream
from theory.network.spec import init_weights

def build_model(spec: ModelSpec, input_shape: tuple[int, ...], output_dim: int, seed: int,
                dtype: torch.dtype = torch.float32) -> nn.Module:
    """Return one freshly initialised model of `spec` (CPU, `dtype`; init drawn from the stream 'weights' of `seed`).

    paper-cnn: PaperCNN(in_channels, classes, spec.widths); mlp: MLP with hidden widths spec.widths;
    theory: TorchNetwork(spec.network) with theory's init_weights(network, stream(seed, 'weights')).
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(child_seed(seed, "weights"))  # torch.nn initialisers draw from the global generator
        if spec.kind == "paper-cnn":
            if len(input_shape) != 3:
                raise InvalidSpecError(f"the CNN needs image inputs (C, H, W), got shape {input_shape}")
            model = PaperCNN(input_shape[0], output_dim, widths=spec.widths, activation=spec.activation)
        elif spec.kind == "mlp":
            model = MLP((int(np.prod(input_shape)),) + tuple(spec.widths) + (output_dim,), spec.activation,
                        bias=spec.bias)
        else:
            network = spec.checked_network(int(np.prod(input_shape)), output_dim)
            model = TorchNetwork(network, dtype=torch.float64)
            set_flat(model, torch.from_numpy(init_weights(network, stream(seed, "weights"))))
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


def loss_name(config: TrainConfig, data: Dataset) -> str:
    """Return the loss a run trains (and is probed) with: the config's, or for 'auto' the task's."""
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

