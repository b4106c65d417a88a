"""Local probes of the loss landscape around trained weights (Theory II §4, Theory IIb §3).

- `Objective`: the loss and error of a model on fixed data as functions of the flat weight vector w
  (the layout of `empirics.models.get_flat`), with an explicit batch-normalisation policy.
- `perturbation_probe`: layer-wise Gaussian perturbation, σ_l = α · std(w_l) (Theory II §4.2–4.4)
  or σ_l = α · mean|w_l| (Theory II Appendix B, Fig. 35).
- `interpolate_linear`: L((1 − t) w_a + t w_b) along a line (Theory II Fig. 9, 25, 32).
- `interpolate_simplex`: L(λ_1 w_1 + λ_2 w_2 + λ_3 w_3), λ on the simplex Δ_3 (Theory IIb eq. 10, Fig. 7).
- `radius_probe`: the flatness radius r(w, δw, ε) = sup{r : |Î(w) − Î(w + r δw)| ≤ ε} of Theory IIb
  eq. 11 for T random unit directions δw over all weights or the top layer only (Table 1).
- `agreement_matrices`: P(column correct | row correct) and P(column wrong | row wrong) between
  models (Theory II Fig. 18, 24, 31).

Batch normalisation while probing (`bn=`). A network with batch norm is not a function of its
weights alone; each published code base fixes the running statistics differently:
  'eval'        the model's stored running statistics, unchanged at every probed point, model in
                eval mode. PyHessian's choice (it calls `model.eval()`).
  'recompute'   at every probed point, reset the running statistics and recompute them with one
                pass over the probe data in train mode (size-weighted average over chunks), then
                evaluate in eval mode: `empirics.bn.recompute_bn`, the same evaluation `train`
                records in metrics.json (Garipov et al.'s `utils.bn_update`). DEFAULT: it makes the
                probed quantity a function of the weights only.
  'batch'       batch statistics of each evaluation batch (train-mode normalisation, no running
                statistics kept). With `batch_size=None` the whole probe set is one batch, so this
                is again a function of the weights.
  'interpolate' interpolation only: the running statistics are interpolated with the same
                coefficients as the weights ((1 − t) μ_a + t μ_b); elsewhere it is 'eval'.
The Hessian tools differentiate `Objective.loss_fn()`: under 'recompute' the statistics are
recomputed once at the base point and then held fixed (eval mode), as PyHessian holds them fixed.
Networks without batch norm (TorchNetwork, MLP) give the same numbers under every policy.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from landscape_core.progress import Progress, report
from landscape_core.serialize import Serializable, fields_dict, to_jsonable
from empirics.bn import recompute_bn, reset_statistics
from empirics.models import get_flat, param_views
from landscape_core.errors import InvalidSpecError
from landscape_core.seeds import stream
from empirics.models import param_slices

LOSSES = ("sse", "mse", "cross-entropy")
BN_MODES = ("recompute", "eval", "batch", "interpolate")
SCALES = ("std", "mean_abs")
SUBSETS = ("all", "top")
_BN_TYPES = (nn.modules.batchnorm._BatchNorm,)


# ----------------------------------------------------------------------------------------------
# The objective as a function of flat weights


def _square_loss_targets(y: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """Return the targets of the square loss for outputs `out`: one-hot for class labels (as training uses)."""
    if not y.is_floating_point() and y.dim() == out.dim() - 1:
        return nn.functional.one_hot(y, out.shape[-1]).to(out.dtype)
    return y.reshape(out.shape)


@dataclass(frozen=True)
class Evaluation(Serializable):
    """Loss and error of one weight vector on the probe data.

    Fields:
        loss: 'sse' Σ_i ‖f(x_i) − y_i‖²; 'mse' that divided by N; 'cross-entropy' the mean over examples.
        error: fraction of misclassified examples (classification), or None for regression losses.
    """

    loss: float
    error: float | None


class Objective:
    """The loss and error of `model` on (X, Y) as functions of the flat parameter vector w.

    The model is copied, never modified. `batch_size` chunks the evaluation (None: one batch);
    `bn` is the batch-norm policy described in the module docstring.
    """

    def __init__(self, model: nn.Module, X: torch.Tensor, Y: torch.Tensor, loss: str = "cross-entropy",
                 batch_size: int | None = None, bn: str = "recompute"):
        if loss not in LOSSES:
            raise InvalidSpecError(f"unknown loss {loss!r}: choose one of {', '.join(LOSSES)}")
        if bn not in BN_MODES:
            raise InvalidSpecError(f"unknown batch-norm policy {bn!r}: choose one of {', '.join(BN_MODES)}")
        if batch_size is not None and batch_size < 1:
            raise InvalidSpecError(f"batch_size must be positive, got {batch_size}")
        if len(X) != len(Y) or len(X) == 0:
            raise InvalidSpecError(f"need as many targets as inputs (and at least one): {len(X)} vs {len(Y)}")
        self.model = copy.deepcopy(model)
        self.X, self.Y = X, Y
        self.loss_kind, self.batch_size, self.bn = loss, batch_size, bn
        self.sizes = [p.numel() for p in self.model.parameters()]
        p0 = next(self.model.parameters())
        self.dtype, self.device = p0.dtype, p0.device
        self.base_buffers = {n: b.detach().clone() for n, b in self.model.named_buffers()}
        self.has_bn = any(isinstance(m, _BN_TYPES) for m in self.model.modules())

    @property
    def n_params(self) -> int:
        """Return K."""
        return sum(self.sizes)

    def flat(self) -> torch.Tensor:
        """Return the model's own flat weights (registration order)."""
        return get_flat(self.model)

    def unflatten(self, w: torch.Tensor) -> dict[str, torch.Tensor]:
        """Return {parameter name: tensor view of w}."""
        return param_views(self.model, torch.as_tensor(w, dtype=self.dtype, device=self.device))

    def _chunks(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.X)
        step = n if self.batch_size is None else self.batch_size
        return [(self.X[i:i + step], self.Y[i:i + step]) for i in range(0, n, step)]

    def _loss_sum(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.loss_kind == "cross-entropy":
            return nn.functional.cross_entropy(out, y, reduction="sum")
        return ((out - _square_loss_targets(y, out)) ** 2).sum()

    def _normalise(self, total: torch.Tensor) -> torch.Tensor:
        return total if self.loss_kind == "sse" else total / len(self.X)

    @torch.no_grad()
    def _load(self, w: torch.Tensor, buffers: dict[str, torch.Tensor] | None) -> None:
        for p, v in zip(self.model.parameters(), self.unflatten(w).values()):
            p.copy_(v)
        source = self.base_buffers if buffers is None else buffers
        for name, b in self.model.named_buffers():
            if name in source:
                b.copy_(source[name])
        if self.bn == "recompute" and self.has_bn and buffers is None:
            self._recompute_bn()
        self._set_mode()

    def _set_mode(self) -> None:
        self.model.eval()
        if self.bn == "batch":
            for m in self.model.modules():
                if isinstance(m, _BN_TYPES):
                    # Train-mode normalisation without touching running statistics.
                    m.train()
                    m.track_running_stats = False

    def _recompute_bn(self) -> None:
        """Re-estimate the running statistics on the probe data: the toolkit's one evaluation (`empirics.bn`)."""
        recompute_bn(self.model, self.X, self.batch_size)

    @torch.no_grad()
    def outputs(self, w: torch.Tensor, buffers: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        """Return the model outputs on all of X at weights w (buffers: explicit running statistics)."""
        self._load(w, buffers)
        return torch.cat([self.model(x) for x, _ in self._chunks()])

    @torch.no_grad()
    def evaluate(self, w: torch.Tensor, buffers: dict[str, torch.Tensor] | None = None) -> Evaluation:
        """Return the loss and error at w (see `Evaluation` for the definitions)."""
        self._load(w, buffers)
        total = torch.zeros((), dtype=torch.float64, device=self.device)
        wrong = 0
        for x, y in self._chunks():
            out = self.model(x)
            total = total + self._loss_sum(out, y).to(torch.float64)
            if self.loss_kind == "cross-entropy":
                wrong += int((out.argmax(dim=1) != y).sum())
        loss = float(self._normalise(total))
        error = wrong / len(self.X) if self.loss_kind == "cross-entropy" else None
        return Evaluation(loss, error)

    @torch.no_grad()
    def evaluate_many(self, W: torch.Tensor | np.ndarray, max_models: int | None = None) -> list[Evaluation]:
        """Return `evaluate(w)` for every row w of W (M, K), many weight vectors per forward pass.

        The rows are stacked like trajectories and run through `torch.func.vmap(functional_call)`,
        `max_models` at a time (default: about 2¹⁶ example-evaluations per pass); under 'recompute'
        each row gets its own batch-norm statistics, recomputed on the probe data by the same
        `empirics.bn.recompute_bn`. Equals `evaluate` row by row up to floating-point reduction order.
        """
        from torch.func import functional_call, vmap

        if self.bn == "interpolate":
            raise InvalidSpecError("evaluate_many takes weights only; bn='interpolate' needs explicit statistics")
        W = torch.as_tensor(W, dtype=self.dtype, device=self.device)
        n_chunk = len(self._chunks()[0][0])
        step = max_models or max(1, 65536 // n_chunk)
        named = list(self.model.named_parameters())
        out: list[Evaluation] = []

        def call(params, buffers, x):
            return functional_call(self.model, (params, buffers), (x,))

        for start in range(0, W.shape[0], step):
            rows = W[start:start + step]
            m = rows.shape[0]
            params, pos = {}, 0
            for name, p in named:
                params[name] = rows[:, pos:pos + p.numel()].reshape(m, *p.shape)
                pos += p.numel()
            buffers = {n: b.expand(m, *b.shape).clone() for n, b in self.base_buffers.items()}
            batched = vmap(call, in_dims=(0, 0, None))
            if self.bn == "recompute" and self.has_bn:
                buffers = reset_statistics(buffers)
                recompute_bn(self.model, self.X, self.batch_size, forward=lambda x: batched(params, buffers, x))
            self._set_mode()
            total = torch.zeros(m, dtype=torch.float64, device=self.device)
            wrong = torch.zeros(m, dtype=torch.float64, device=self.device)
            for x, y in self._chunks():
                o = batched(params, buffers, x)  # (m, b, out)
                if self.loss_kind == "cross-entropy":
                    flat = nn.functional.cross_entropy(o.reshape(-1, o.shape[-1]), y.repeat(m), reduction="none")
                    total += flat.view(m, -1).sum(1).double()
                    wrong += (o.argmax(-1) != y).sum(1).double()
                else:
                    total += ((o - _square_loss_targets(y, o[0])) ** 2).reshape(m, -1).sum(1).double()
            loss = total if self.loss_kind == "sse" else total / len(self.X)
            out += [Evaluation(float(loss[i]), float(wrong[i]) / len(self.X) if self.loss_kind == "cross-entropy"
                               else None) for i in range(m)]
        return out

    @torch.no_grad()
    def correct(self, w: torch.Tensor, buffers: dict[str, torch.Tensor] | None = None) -> np.ndarray:
        """Return a boolean array: example i classified correctly at w (classification losses only)."""
        if self.loss_kind != "cross-entropy":
            raise InvalidSpecError("per-example correctness needs a classification loss (cross-entropy)")
        out = self.outputs(w, buffers)
        return (out.argmax(dim=1) == self.Y).cpu().numpy()

    def loss_fn(self, at: torch.Tensor | None = None) -> Callable[[torch.Tensor], torch.Tensor]:
        """Return a differentiable w ↦ L(w) (torch.func.functional_call) for Hessians.

        Running statistics are those of the policy at `at` (default: the model's own weights) and are
        held fixed; under 'batch' each chunk uses its own batch statistics.
        """
        at = self.flat() if at is None else torch.as_tensor(at, dtype=self.dtype, device=self.device)
        self._load(at, None)
        buffers = {n: b.detach().clone() for n, b in self.model.named_buffers()}
        model, chunks = self.model, self._chunks()

        def fn(w: torch.Tensor) -> torch.Tensor:
            params = self.unflatten(w)
            total = None
            for x, y in chunks:
                out = torch.func.functional_call(model, (params, buffers), (x,))
                s = self._loss_sum(out, y)
                total = s if total is None else total + s
            return self._normalise(total)

        return fn


def module_buffers(model: nn.Module) -> dict[str, torch.Tensor]:
    """Return a detached copy of the model's buffers (running statistics), e.g. for 'interpolate'."""
    return {n: b.detach().clone() for n, b in model.named_buffers()}


def _mix_buffers(buffers: Sequence[dict[str, torch.Tensor]], coeffs: Sequence[float]) -> dict[str, torch.Tensor]:
    out = {}
    for name, first in buffers[0].items():
        if torch.is_floating_point(first):
            out[name] = sum(c * b[name] for c, b in zip(coeffs, buffers))
        else:
            out[name] = first.clone()  # num_batches_tracked: an integer counter, not interpolated
    return out


# ----------------------------------------------------------------------------------------------
# Layer slices


@dataclass(frozen=True)
class Block:
    """A named block of the flat weight vector (one parameter tensor), with its weight-layer index."""

    name: str
    slice: slice
    layer: int


def blocks_of(model: nn.Module) -> list[Block]:
    """Return one Block per parameter tensor, in flat order (layer index from `empirics.models.param_slices`)."""
    return [Block(s.name, s.slice, s.layer) for s in param_slices(model)]


def top_layer_mask(blocks: Sequence[Block], n_params: int) -> np.ndarray:
    """Return a boolean mask of the weights of the highest-index layer (Theory IIb Table 1 'top layer')."""
    top = max(b.layer for b in blocks)
    mask = np.zeros(n_params, dtype=bool)
    for b in blocks:
        if b.layer == top:
            mask[b.slice] = True
    return mask


# ----------------------------------------------------------------------------------------------
# Perturbation


def layer_sigmas(w: np.ndarray, blocks: Sequence[Block], alpha: float, scale: str = "std") -> np.ndarray:
    """Return σ_l = α · std(w_l) ('std', Theory II §4.2) or α · mean|w_l| ('mean_abs', Fig. 35) per block."""
    if scale not in SCALES:
        raise InvalidSpecError(f"unknown perturbation scale {scale!r}: choose std or mean_abs")
    if not alpha >= 0:
        raise InvalidSpecError(f"the perturbation size must be non-negative, got {alpha}")
    w = np.asarray(w, dtype=float)
    stat = np.std if scale == "std" else (lambda v: np.mean(np.abs(v)))
    return np.array([alpha * float(stat(w[b.slice])) for b in blocks])


def perturb(w: np.ndarray, blocks: Sequence[Block], alpha: float, scale: str, rng: np.random.Generator
            ) -> tuple[np.ndarray, np.ndarray]:
    """Return (w + ξ, σ) with ξ_l ~ N(0, σ_l² I) independently per block, σ from `layer_sigmas`."""
    w = np.asarray(w, dtype=float)
    sig = layer_sigmas(w, blocks, alpha, scale)
    out = w.copy()
    for b, s in zip(blocks, sig):
        out[b.slice] += rng.normal(0.0, s, size=b.slice.stop - b.slice.start)
    return out, sig


@dataclass(frozen=True)
class PerturbationResult(Serializable):
    """Loss and error after layer-wise Gaussian perturbations of one model.

    Fields:
        alphas: the relative sizes α.
        scale: 'std' or 'mean_abs' (σ_l = α · that statistic of block l).
        base: evaluation at the unperturbed weights.
        loss: (len(alphas), n_samples) losses after perturbation.
        error: same shape, errors (None for regression losses).
        sigmas: (len(alphas), n_blocks) σ_l used.
        blocks: the block names, in order.
        seed: seed of the noise.
        bn: batch-norm policy.
    """

    alphas: tuple[float, ...]
    scale: str
    base: Evaluation
    loss: np.ndarray
    error: np.ndarray | None
    sigmas: np.ndarray
    blocks: tuple[str, ...]
    seed: int
    bn: str

    def to_dict(self) -> dict:
        """Return the fields with per-α means and standard deviations added."""
        out = fields_dict(self)
        stats = {"loss_mean": self.loss.mean(axis=1), "loss_std": self.loss.std(axis=1),
                 "error_mean": None if self.error is None else self.error.mean(axis=1)}
        keys = ("alphas", "scale", "base", "loss", "error")
        return {**{k: out[k] for k in keys}, **to_jsonable(stats), **{k: v for k, v in out.items() if k not in keys}}


def perturbation_probe(objective: Objective, w: torch.Tensor, blocks: Sequence[Block], alphas: Sequence[float],
                       n_samples: int = 4, scale: str = "std", seed: int = 0, progress: Progress | None = None
                       ) -> PerturbationResult:
    """Return the loss/error at w + ξ, ξ_l ~ N(0, (α s_l)² I), s_l = std or mean|·| of block l (Theory II §4)."""
    if n_samples < 1 or not alphas:
        raise InvalidSpecError("need at least one perturbation size and one sample")
    rng = stream(seed, "perturbation")
    w_np = torch.as_tensor(w).detach().cpu().double().numpy()
    base = objective.evaluate(torch.as_tensor(w_np))
    loss = np.zeros((len(alphas), n_samples))
    error = np.zeros_like(loss) if base.error is not None else None
    sigmas = np.zeros((len(alphas), len(blocks)))
    jobs = [(i, j) for i in range(len(alphas)) for j in range(n_samples)]
    for done, (i, j) in enumerate(jobs, 1):
        wp, sig = perturb(w_np, blocks, float(alphas[i]), scale, rng)
        sigmas[i] = sig
        ev = objective.evaluate(torch.as_tensor(wp))
        loss[i, j] = ev.loss
        if error is not None:
            error[i, j] = ev.error
        report(progress, done, len(jobs))
    return PerturbationResult(tuple(float(a) for a in alphas), scale, base, loss, error, sigmas,
                              tuple(b.name for b in blocks), seed, objective.bn)


# ----------------------------------------------------------------------------------------------
# Interpolation


@dataclass(frozen=True)
class InterpolationResult(Serializable):
    """Loss and error along w(t) = (1 − t) w_a + t w_b (Theory II Fig. 9, 25).

    Fields:
        ts: the coefficients t (t = 0 is w_a, t = 1 is w_b; values outside [0, 1] extrapolate).
        loss: loss at each t.
        error: error at each t (None for regression).
        distance: ‖w_b − w_a‖.
        bn: batch-norm policy ('interpolate' mixes running statistics with the same t).
    """

    ts: np.ndarray
    loss: np.ndarray
    error: np.ndarray | None
    distance: float
    bn: str

    @property
    def barrier(self) -> float:
        """Return max_t L(t) − max(L(0), L(1)) over t in [0, 1] (> 0: a wall between the two models)."""
        inside = (self.ts >= 0) & (self.ts <= 1)
        ends = [self.loss[np.argmin(np.abs(self.ts - e))] for e in (0.0, 1.0)]
        return float(self.loss[inside].max() - max(ends))

    def to_dict(self) -> dict:
        """Return the fields with the barrier added."""
        out = fields_dict(self)
        bn = out.pop("bn")
        return {**out, "barrier": self.barrier, "bn": bn}


def interpolate_linear(objective: Objective, w_a: torch.Tensor, w_b: torch.Tensor, ts: Sequence[float],
                       buffers: tuple[dict, dict] | None = None, progress: Progress | None = None
                       ) -> InterpolationResult:
    """Return L((1 − t) w_a + t w_b) and the error for each t (linear interpolation, Theory II §4.3).

    `buffers` (running statistics of the two end models) is used under bn='interpolate'.
    """
    w_a = torch.as_tensor(w_a).detach().double()
    w_b = torch.as_tensor(w_b).detach().double()
    if objective.bn == "interpolate" and buffers is None:
        raise InvalidSpecError("bn='interpolate' needs the running statistics of both end models")
    ts = np.asarray(ts, dtype=float)
    loss, err = np.zeros(ts.size), np.zeros(ts.size)
    has_err = True
    for i, t in enumerate(ts):
        buf = _mix_buffers(buffers, (1 - t, t)) if objective.bn == "interpolate" else None
        ev = objective.evaluate((1 - t) * w_a + t * w_b, buf)
        loss[i] = ev.loss
        has_err = ev.error is not None
        err[i] = ev.error if has_err else np.nan
        report(progress, i + 1, ts.size)
    return InterpolationResult(ts, loss, err if has_err else None, float(torch.linalg.norm(w_b - w_a)),
                               objective.bn)


def simplex_grid(resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (λ of shape (P, 3), planar points (P, 2)) for λ = (i, j, n − i − j)/n on Δ_3.

    The plane embedding puts w_1, w_2, w_3 at the corners (0, 0), (1, 0), (1/2, √3/2).
    """
    if resolution < 1:
        raise InvalidSpecError(f"the simplex resolution must be positive, got {resolution}")
    lam = np.array([(i, j, resolution - i - j) for i in range(resolution + 1)
                    for j in range(resolution + 1 - i)], dtype=float) / resolution
    corners = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, np.sqrt(3) / 2]])
    return lam, lam @ corners


@dataclass(frozen=True)
class SimplexResult(Serializable):
    """Loss and error on the simplex of three models (Theory IIb eq. 10, Fig. 7).

    Fields:
        lambdas: (P, 3) barycentric coefficients λ.
        xy: (P, 2) the same points embedded in the plane (corners w_1, w_2, w_3).
        loss: (P,) losses at w_λ.
        error: (P,) errors, or None.
        resolution: grid step 1/resolution.
        bn: batch-norm policy.
    """

    lambdas: np.ndarray
    xy: np.ndarray
    loss: np.ndarray
    error: np.ndarray | None
    resolution: int
    bn: str

    def landmarks(self) -> list[int]:
        """Return the grid indices of the three corners (w_1, w_2, w_3) and of the point nearest the centre."""
        corners = [int(i) for i in self.lambdas.argmax(axis=0)]
        return corners + [int(np.abs(self.lambdas - 1 / 3).sum(axis=1).argmin())]


def interpolate_simplex(objective: Objective, w1: torch.Tensor, w2: torch.Tensor, w3: torch.Tensor,
                        resolution: int = 10, buffers: tuple[dict, dict, dict] | None = None,
                        progress: Progress | None = None) -> SimplexResult:
    """Return L(w_λ) with w_λ = λ_1 w_1 + λ_2 w_2 + λ_3 w_3 on a grid of Δ_3 (Theory IIb eq. 10)."""
    W = [torch.as_tensor(v).detach().double() for v in (w1, w2, w3)]
    if objective.bn == "interpolate" and buffers is None:
        raise InvalidSpecError("bn='interpolate' needs the running statistics of the three models")
    lam, xy = simplex_grid(resolution)
    loss, err = np.zeros(len(lam)), np.zeros(len(lam))
    has_err = True
    for i, l in enumerate(lam):
        buf = _mix_buffers(buffers, l) if objective.bn == "interpolate" else None
        ev = objective.evaluate(l[0] * W[0] + l[1] * W[1] + l[2] * W[2], buf)
        loss[i] = ev.loss
        has_err = ev.error is not None
        err[i] = ev.error if has_err else np.nan
        report(progress, i + 1, len(lam))
    return SimplexResult(lam, xy, loss, err if has_err else None, resolution, objective.bn)


# ----------------------------------------------------------------------------------------------
# Flatness radius


def line_radius(f: Callable[[float], float], epsilon: float, r_init: float = 1e-3, r_max: float = 1e3,
                rel_tol: float = 1e-3, max_evals: int = 200) -> tuple[float, bool, int]:
    """Return (r, censored, evaluations): the first r where |f(r) − f(0)| exceeds ε, by doubling then bisection.

    Theory IIb eq. 11 defines r = sup{r : |Î(w) − Î(w + r δw)| ≤ ε}. We return the edge of the
    connected interval around 0 (the first crossing on a doubling grid, refined to `rel_tol`): a
    later return below ε beyond a wall is not counted. `censored` is True when no crossing occurs
    up to r_max (then r = r_max).
    """
    if not epsilon > 0:
        raise InvalidSpecError(f"epsilon must be positive, got {epsilon}")
    f0 = f(0.0)
    evals = 1
    lo, hi = 0.0, r_init
    while True:
        evals += 1
        if abs(f(hi) - f0) > epsilon:
            break
        lo = hi
        if hi >= r_max:
            return r_max, True, evals
        hi = min(2 * hi, r_max)
    while hi - lo > rel_tol * hi and evals < max_evals:
        mid = 0.5 * (lo + hi)
        evals += 1
        if abs(f(mid) - f0) > epsilon:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi), False, evals


def random_directions(n_params: int, n_directions: int, mask: np.ndarray | None, rng: np.random.Generator
                      ) -> np.ndarray:
    """Return (T, K) isotropic unit vectors (Gaussian, normalised), supported on `mask` when given."""
    D = rng.standard_normal((n_directions, n_params))
    if mask is not None:
        D[:, ~mask] = 0.0
    return D / np.linalg.norm(D, axis=1, keepdims=True)


@dataclass(frozen=True)
class RadiusResult(Serializable):
    """Flatness radii r(w, δw, ε) over T random unit directions (Theory IIb eq. 11, Table 1).

    Fields:
        radii: (T,) radius per direction.
        censored: (T,) True where no ε-crossing occurred up to r_max.
        epsilon: the tolerance ε on |Î(w) − Î(w + r δw)|.
        quantity: Î: 'loss' or 'error'.
        subset: 'all' weights or the 'top' layer only.
        r_max: search limit.
        seed: seed of the directions.
        bn: batch-norm policy.
    """

    radii: np.ndarray
    censored: np.ndarray
    epsilon: float
    quantity: str
    subset: str
    r_max: float
    seed: int
    bn: str

    @property
    def mean(self) -> float:
        """Return the mean radius (Table 1 reports mean ± std)."""
        return float(self.radii.mean())

    @property
    def std(self) -> float:
        """Return the standard deviation of the radii."""
        return float(self.radii.std())

    def to_dict(self) -> dict:
        """Return the fields with mean, std and the counts of censored and all directions added."""
        out = fields_dict(self)
        head = {k: out.pop(k) for k in ("radii", "censored")}
        return {**head, "mean": self.mean, "std": self.std, "n_censored": int(self.censored.sum()), **out,
                "n_directions": int(self.radii.size)}


def radius_along(value: Callable[[np.ndarray], float], w: np.ndarray, directions: np.ndarray, epsilon: float,
                 r_max: float = 1e3, r_init: float = 1e-3, rel_tol: float = 1e-3,
                 progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return (radii, censored) of `value` around w along each row of `directions` (see `line_radius`)."""
    radii, cens = np.zeros(len(directions)), np.zeros(len(directions), dtype=bool)
    for i, d in enumerate(directions):
        radii[i], cens[i], _ = line_radius(lambda r: value(w + r * d), epsilon, r_init, r_max, rel_tol)
        report(progress, i + 1, len(directions))
    return radii, cens


def radius_along_batched(values: Callable[[np.ndarray], np.ndarray], w: np.ndarray, directions: np.ndarray,
                         epsilon: float, r_max: float = 1e3, r_init: float = 1e-3, rel_tol: float = 1e-3,
                         max_evals: int = 200, progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return (radii, censored) like `radius_along`, taking every direction's next step in one call.

    `values(V)` returns the quantity at each row of V (M, K). Each direction follows exactly the
    doubling-then-bisection sequence of `line_radius` (so the radii are the same numbers); the
    directions advance in lockstep, so T directions cost about as many calls as one direction.
    """
    if not epsilon > 0:
        raise InvalidSpecError(f"epsilon must be positive, got {epsilon}")
    T = len(directions)
    f0 = float(values(w[None, :])[0])
    lo, hi = np.zeros(T), np.full(T, r_init)
    bisecting = np.zeros(T, dtype=bool)
    done = np.zeros(T, dtype=bool)
    radii, cens, evals = np.zeros(T), np.zeros(T, dtype=bool), np.ones(T, dtype=int)
    while not done.all():
        active = np.flatnonzero(~done)
        r = np.where(bisecting[active], 0.5 * (lo[active] + hi[active]), hi[active])
        f = np.asarray(values(w[None, :] + r[:, None] * directions[active]), dtype=float)
        for i, ri, fi in zip(active, r, f):
            evals[i] += 1
            crossed = abs(fi - f0) > epsilon
            if not bisecting[i]:
                if crossed:
                    bisecting[i] = True
                else:
                    lo[i] = hi[i]
                    if hi[i] >= r_max:
                        radii[i], cens[i], done[i] = r_max, True, True
                        continue
                    hi[i] = min(2 * hi[i], r_max)
            elif crossed:
                hi[i] = ri
            else:
                lo[i] = ri
            if bisecting[i] and not (hi[i] - lo[i] > rel_tol * hi[i] and evals[i] < max_evals):
                radii[i], done[i] = 0.5 * (lo[i] + hi[i]), True
        # every evaluation counts; what is left is at most the doubling steps to r_max and the bisection
        # steps to rel_tol of each unfinished direction, so the total shrinks to the true count as they finish
        left = sum(0 if done[i] else (int(np.ceil(np.log2(max((hi[i] - lo[i]) / (rel_tol * hi[i]), 1.0)))) if bisecting[i]
                                      else int(np.ceil(np.log2(r_max / hi[i]))) + int(np.ceil(np.log2(1 / rel_tol))))
                   for i in range(T))
        spent = int(evals.sum()) - T
        report(progress, spent, spent + left, f"{int(done.sum())}/{T} directions done")
    return radii, cens


def radius_probe(objective: Objective, w: torch.Tensor, epsilon: float = 0.05, n_directions: int = 10,
                 subset: str = "all", quantity: str = "error", seed: int = 0, r_max: float = 1e3,
                 blocks: Sequence[Block] | None = None, rel_tol: float = 1e-3,
                 progress: Progress | None = None) -> RadiusResult:
    """Return the flatness radii r(w, δw, ε) of Theory IIb eq. 11 for T random unit directions.

    `subset='top'` moves only the top layer's weights (Table 1, 'top layer'); `quantity` picks
    Î = training error (Table 1, ε = 0.05) or the loss. All directions advance together
    (`radius_along_batched`), each step evaluating every direction's next point in one batched pass
    (`Objective.evaluate_many`).
    """
    if subset not in SUBSETS:
        raise InvalidSpecError(f"unknown subset {subset!r}: choose all or top")
    if quantity not in ("loss", "error"):
        raise InvalidSpecError(f"unknown quantity {quantity!r}: choose loss or error")
    if quantity == "error" and objective.loss_kind != "cross-entropy":
        raise InvalidSpecError("the error radius needs a classification loss; use quantity='loss'")
    if n_directions < 1:
        raise InvalidSpecError(f"need at least one direction, got {n_directions}")
    w_np = torch.as_tensor(w).detach().cpu().double().numpy()
    mask = None
    if subset == "top":
        mask = top_layer_mask(blocks if blocks is not None else blocks_of(objective.model), w_np.size)
    D = random_directions(w_np.size, n_directions, mask, stream(seed, "radius directions"))

    def values(V: np.ndarray) -> np.ndarray:
        evs = objective.evaluate_many(torch.as_tensor(V))
        return np.array([ev.loss if quantity == "loss" else ev.error for ev in evs])

    radii, cens = radius_along_batched(values, w_np, D, epsilon, r_max, rel_tol=rel_tol, progress=progress)
    return RadiusResult(radii, cens, float(epsilon), quantity, subset, float(r_max), seed, objective.bn)


# ----------------------------------------------------------------------------------------------
# Agreement between models


@dataclass(frozen=True)
class AgreementResult(Serializable):
    """Conditional agreement between models on the same examples (Theory II Fig. 18).

    Fields:
        correct_given_correct: (M, M), entry (i, j) = P(model j correct | model i correct).
        wrong_given_wrong: (M, M), entry (i, j) = P(model j wrong | model i wrong) (NaN if i is never wrong).
        accuracy: (M,) fraction of examples each model gets right.
        labels: model names.
    """

    correct_given_correct: np.ndarray
    wrong_given_wrong: np.ndarray
    accuracy: np.ndarray
    labels: tuple[str, ...]


def agreement_matrices(correct: np.ndarray, labels: Sequence[str] | None = None) -> AgreementResult:
    """Return P(j correct | i correct) = |C_i ∩ C_j| / |C_i| and P(j wrong | i wrong) = |W_i ∩ W_j| / |W_i|.

    `correct` is (M, n) boolean: model i classifies example k correctly (Theory II Fig. 18, 24, 31).
    """
    C = np.asarray(correct, dtype=bool)
    if C.ndim != 2 or C.shape[0] < 1 or C.shape[1] < 1:
        raise InvalidSpecError(f"correctness must be a non-empty (models, examples) array, got shape {C.shape}")
    Cf, Wf = C.astype(float), (~C).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        cc = (Cf @ Cf.T) / Cf.sum(axis=1, keepdims=True)
        ww = (Wf @ Wf.T) / Wf.sum(axis=1, keepdims=True)
    labels = tuple(labels) if labels is not None else tuple(f"model {i + 1}" for i in range(C.shape[0]))
    return AgreementResult(cc, ww, C.mean(axis=1), labels)
