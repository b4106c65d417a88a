"""Dynamic String Sampling (Freeman & Bruna, Algorithm 1 and §6) for any torch model and loss.

A string of beads θ_1, ..., θ_B (flat parameter vectors) joins two trained models. For each
pair of neighbours the interpolated loss max_t F((1−t) θ_i + t θ_{i+1}) is measured on a grid;
where it exceeds the threshold L_0 a new bead is inserted at the maximiser t* and trained
towards α·L_0 (draft §3.2 uses α < 1; a bead that stops between α·L_0 and L_0 is kept, as
Algorithm 1 line 8 only asks for L_0), then the two new segments are checked, left first, exactly the
recursion FindConnection(Φ_1, Φ_3), FindConnection(Φ_3, Φ_2) of Algorithm 1. The string
certifies a path in Ω_F(L_0) up to the interpolation grid; failing to converge (more than
`max_beads` beads, or a bead that cannot be trained to α·L_0) proves nothing (draft §3.2).

Constrained variant (draft §6): a new bead is kept on the hyperplane equidistant from its two
neighbours, {θ : ⟨θ − (θ_i + θ_j)/2, θ_j − θ_i⟩ = 0}, by projecting after every optimiser step,
so beads cannot slide back onto a neighbour.

Outputs: the beads, the maximum interpolated loss of each segment, the number of beads and the
normalised geodesic length Σ_i ‖θ_{i+1} − θ_i‖ / ‖θ_B − θ_1‖ (draft §3–4).

`polynomial_regression_study` reproduces §4.1: a 1-4-4-1 ReLU MLP trained with RMSProp on a
polynomial f: [0, 1] → [0, 1], DSS at several thresholds L_0, normalised length and bead count
against L_0.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn
from landscape_core.progress import Progress, report
from landscape_core.seeds import child_seed, stream
from landscape_core.serialize import Serializable, fields_dict
from empirics.models import get_flat, set_flat
from landscape_core.errors import InvalidSpecError

LossFn = Callable[[nn.Module], torch.Tensor]


@dataclass(frozen=True)
class DSSConfig(Serializable):
    """Settings of Dynamic String Sampling.

    Fields:
        threshold: L_0, the level every interpolated segment must stay below (loss units).
        alpha: new beads are trained to α·L_0 (0 < α ≤ 1).
        interp_points: grid points t ∈ [0, 1] per segment for the interpolated maximum.
        max_beads: give up (connected = False) when the string would exceed this many beads.
        max_steps: optimiser steps allowed to train one bead.
        lr: RMSProp learning rate (per full-batch step).
        constrained: train new beads on the equidistant hyperplane of their neighbours (§6).
        jitter: a new bead starts at the interpolated point plus Gaussian noise of this size times
            the segment length (seeded): an exact interpolation can sit on a critical point where the
            gradient vanishes (for two unit-swapped ReLU nets, t* = ½ gives W = 0, a dead network).
        seed: seeds the jitter (bead k uses the named stream 'dss jitter k' of the seed).
    """

    threshold: float
    alpha: float = 0.5
    interp_points: int = 33
    max_beads: int = 40
    max_steps: int = 20000
    lr: float = 1e-3
    constrained: bool = False
    jitter: float = 1e-3
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.jitter >= 0:
            raise InvalidSpecError(f"jitter must be non-negative, got {self.jitter}")
        if not (self.threshold > 0 and math.isfinite(self.threshold)):
            raise InvalidSpecError(f"threshold L0 must be a positive number, got {self.threshold}")
        if not 0 < self.alpha <= 1:
            raise InvalidSpecError(f"alpha must lie in (0, 1], got {self.alpha}")
        if self.interp_points < 3 or self.max_beads < 2 or self.max_steps < 1 or not self.lr > 0:
            raise InvalidSpecError("need interp_points ≥ 3, max_beads ≥ 2, max_steps ≥ 1 and lr > 0")


@dataclass(frozen=True)
class DSSResult(Serializable):
    """The string found by Dynamic String Sampling.

    Fields:
        config: the DSSConfig as a dict.
        connected: every segment's interpolated maximum is ≤ L_0.
        reason: '' when connected, else why the search stopped.
        beads: B × S array of flat parameter vectors, θ_1 first, θ_B last.
        bead_losses: F at each bead.
        bead_depths: recursion depth at which each bead was inserted (0 for the two ends).
        segment_max_losses: max_t F((1−t) θ_i + t θ_{i+1}) on the grid, for each of the B−1 segments.
        n_beads: B.
        path_length: Σ ‖θ_{i+1} − θ_i‖; euclidean_distance: ‖θ_B − θ_1‖;
        normalized_length: path_length / euclidean_distance (≥ 1).
        train_steps: optimiser steps spent on all beads.
    """

    config: dict
    connected: bool
    reason: str
    beads: np.ndarray = field(repr=False)
    bead_losses: tuple[float, ...]
    bead_depths: tuple[int, ...]
    segment_max_losses: tuple[float, ...]
    n_beads: int
    path_length: float
    euclidean_distance: float
    normalized_length: float
    train_steps: int

    def to_dict(self, beads: bool = True) -> dict:
        """Return a JSON-serialisable dict (bead vectors only if `beads`)."""
        out = fields_dict(self, exclude=() if beads else ("beads",))
        return {k: out.get(k) for k in (f.name for f in dataclasses.fields(self))}


def loss_at(model: nn.Module, loss_fn: LossFn, theta: torch.Tensor) -> float:
    """Return F(θ): load θ into `model` and evaluate `loss_fn(model)` without gradients."""
    with torch.no_grad():
        set_flat(model, theta)
        return float(loss_fn(model))


def interpolated_losses(model: nn.Module, loss_fn: LossFn, a: torch.Tensor, b: torch.Tensor,
                        points: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (t, F((1−t) a + t b)) on `points` uniform t ∈ [0, 1]."""
    ts = np.linspace(0.0, 1.0, points)
    return ts, np.array([loss_at(model, loss_fn, (1.0 - t) * a + t * b) for t in ts])


def _hyperplane_projector(a: torch.Tensor, b: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """Return θ ↦ its orthogonal projection onto {θ : ⟨θ − (a+b)/2, b − a⟩ = 0} (draft §6)."""
    centre, normal = 0.5 * (a + b), b - a
    nn2 = float(normal @ normal)
    if nn2 == 0.0:
        return lambda theta: theta
    return lambda theta: theta - (float((theta - centre) @ normal) / nn2) * normal


def train_to_level(model: nn.Module, loss_fn: LossFn, theta0: torch.Tensor, target: float, max_steps: int,
                   lr: float, project: Callable[[torch.Tensor], torch.Tensor] | None = None
                   ) -> tuple[torch.Tensor, float, int, bool]:
    """Return (θ, F(θ), steps, reached): full-batch RMSProp from θ_0 until F ≤ target or max_steps.

    With `project`, θ is projected after every step (projected RMSProp for the §6 constraint).
    """
    set_flat(model, project(theta0) if project is not None else theta0)
    opt = torch.optim.RMSprop(model.parameters(), lr=lr)
    loss = float("inf")
    for step in range(max_steps + 1):
        opt.zero_grad(set_to_none=True)
        value = loss_fn(model)
        loss = float(value.detach())
        if not math.isfinite(loss):
            break
        if loss <= target or step == max_steps:
            break
        value.backward()
        opt.step()
        if project is not None:
            set_flat(model, project(get_flat(model)))
    theta = get_flat(model)
    return theta, loss, step, math.isfinite(loss) and loss <= target


def dynamic_string_sampling(model: nn.Module, loss_fn: LossFn, theta_a: torch.Tensor, theta_b: torch.Tensor,
                            cfg: DSSConfig, progress: Progress | None = None) -> DSSResult:
    """Return the bead string of Algorithm 1 (greedy DSS; §6 constraint if cfg.constrained) from θ_a to θ_b.

    `model` is used as a workspace (its parameters are restored afterwards); `loss_fn(model)`
    returns the full-batch loss as a scalar tensor. `progress(beads, max_beads)` is called after
    each insertion.
    """
    saved = get_flat(model)
    a, b = theta_a.detach().clone().to(saved), theta_b.detach().clone().to(saved)
    if a.shape != saved.shape or b.shape != saved.shape:
        raise InvalidSpecError(f"endpoints must have the model's {saved.numel()} parameters")
    beads, depths = [a, b], [0, 0]
    seg_max: list[float] = []
    steps_total, reason, i, inserted = 0, "", 0, 0
    try:
        while i < len(beads) - 1:
            ts, curve = interpolated_losses(model, loss_fn, beads[i], beads[i + 1], cfg.interp_points)
            worst = float(np.max(curve))
            if worst <= cfg.threshold:
                seg_max.append(worst)
                i += 1
                continue
            if len(beads) >= cfg.max_beads:
                reason = f"more than {cfg.max_beads} beads needed"
                break
            k = int(np.argmax(curve[1:-1])) + 1  # interior maximiser t* (endpoints are trained beads)
            t = float(ts[k])
            start = (1.0 - t) * beads[i] + t * beads[i + 1]
            if cfg.jitter > 0:
                gen = torch.Generator().manual_seed(child_seed(cfg.seed, f"dss jitter {inserted}"))
                noise = torch.randn(start.shape, generator=gen, dtype=torch.float64).to(start)
                start = start + cfg.jitter * float(torch.linalg.vector_norm(beads[i + 1] - beads[i])) * noise / math.sqrt(start.numel())
            inserted += 1
            project = _hyperplane_projector(beads[i], beads[i + 1]) if cfg.constrained else None
            theta, value, steps, reached = train_to_level(model, loss_fn, start, cfg.alpha * cfg.threshold,
                                                          cfg.max_steps, cfg.lr, project)
            steps_total += steps
            # Algorithm 1 line 8 asks for L_0; α·L_0 is only the training target (draft §3.2)
            if not reached and not value <= cfg.threshold:
                reason = f"a bead could not be trained below L0 = {cfg.threshold:.3g} (reached {value:.3g})"
                break
            beads.insert(i + 1, theta)
            depths.insert(i + 1, max(depths[i], depths[i + 1]) + 1)
            report(progress, len(beads), cfg.max_beads)
        # segments after a failure: record their interpolated maxima too, for the report
        for j in range(len(seg_max), len(beads) - 1):
            seg_max.append(float(np.max(interpolated_losses(model, loss_fn, beads[j], beads[j + 1],
                                                            cfg.interp_points)[1])))
        losses = tuple(loss_at(model, loss_fn, th) for th in beads)
    finally:
        set_flat(model, saved)
    arr = torch.stack(beads).cpu().double().numpy()
    length = float(np.sum(np.linalg.norm(np.diff(arr, axis=0), axis=1)))
    dist = float(np.linalg.norm(arr[-1] - arr[0]))
    connected = not reason and all(m <= cfg.threshold for m in seg_max)
    return DSSResult(config=cfg.to_dict(), connected=connected, reason=reason, beads=arr, bead_losses=losses,
                     bead_depths=tuple(depths), segment_max_losses=tuple(seg_max), n_beads=len(beads),
                     path_length=length, euclidean_distance=dist,
                     normalized_length=length / dist if dist > 0 else float("nan"), train_steps=steps_total)


# ----------------------------------------------------------------------------------------------
# §4.1: polynomial regression with a 1-4-4-1 ReLU MLP


@dataclass(frozen=True)
class PolyRegressionConfig(Serializable):
    """The §4.1 study.

    Fields:
        thresholds: the levels L_0 (mean squared error) at which strings are built.
        pairs: independent pairs of endpoints per threshold.
        degree: degree of the random target polynomial (rescaled to map [0, 1] onto [0, 1]).
        samples: number of equispaced inputs in [0, 1].
        hidden: hidden widths of the MLP (the paper's 1-4-4-1 is (4, 4)).
        alpha, lr, max_steps, max_beads, interp_points, constrained: passed to DSSConfig; lr and
            max_steps also train the endpoints.
        restarts: random initialisations tried per endpoint before giving up (dead ReLUs).
        seed: seeds the target polynomial and every initialisation.
    """

    thresholds: tuple[float, ...] = (0.04, 0.02, 0.01, 0.005)
    pairs: int = 3
    degree: int = 4
    samples: int = 64
    hidden: tuple[int, ...] = (4, 4)
    alpha: float = 0.5
    lr: float = 3e-3
    max_steps: int = 8000
    max_beads: int = 30
    interp_points: int = 33
    constrained: bool = False
    restarts: int = 5
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "thresholds", tuple(float(t) for t in self.thresholds))
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        if not self.thresholds or min(self.thresholds) <= 0:
            raise InvalidSpecError(f"thresholds must be positive, got {self.thresholds}")
        if not self.hidden or min(self.hidden) < 1:
            raise InvalidSpecError(f"hidden widths must be positive, got {self.hidden}")
        for name in ("pairs", "degree", "samples", "restarts", "max_steps"):
            if int(getattr(self, name)) < 1:
                raise InvalidSpecError(f"{name} must be a positive integer, got {getattr(self, name)}")
        DSSConfig(threshold=min(self.thresholds), alpha=self.alpha, interp_points=self.interp_points,
                  max_beads=self.max_beads, max_steps=self.max_steps, lr=self.lr)


def polynomial_target(degree: int, samples: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """Return (x, y, coefficients): a seeded random polynomial rescaled so that f([0, 1]) = [0, 1].

    Coefficients ~ N(0, 1) (lowest degree first), then f ← (f − min) / (max − min) over a fine grid
    of [0, 1]; x are `samples` equispaced points of [0, 1], as float64 column tensors.
    """
    rng = stream(seed, "polynomial target")
    coeffs = rng.normal(size=degree + 1)
    fine = np.linspace(0.0, 1.0, 2001)
    vals = np.polynomial.polynomial.polyval(fine, coeffs)
    lo, hi = vals.min(), vals.max()
    coeffs = coeffs / (hi - lo)
    coeffs[0] -= lo / (hi - lo)
    x = np.linspace(0.0, 1.0, samples)
    y = np.polynomial.polynomial.polyval(x, coeffs)
    return (torch.tensor(x, dtype=torch.float64)[:, None], torch.tensor(y, dtype=torch.float64)[:, None], coeffs)


def relu_mlp(hidden: Sequence[int], seed: int) -> nn.Module:
    """Return the 1-h_1-...-1 ReLU MLP (float64) with torch's default init under `seed`."""
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(child_seed(seed, "weights"))  # torch.nn initialisers draw from the global generator
    layers, width = [], 1
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, 1))
    model = nn.Sequential(*layers).double()
    torch.random.set_rng_state(gen_state)
    return model


@dataclass(frozen=True)
class ThresholdSummary(Serializable):
    """DSS statistics at one threshold L_0 over the endpoint pairs.

    Fields:
        threshold: L_0; pairs: strings attempted; connected: how many converged.
        normalized_lengths, bead_counts: per pair (NaN / count at failure for failed strings).
        mean_normalized_length, mean_beads: over the connected strings (NaN if none).
        endpoint_losses: the (F(θ_1), F(θ_2)) of each pair.
    """

    threshold: float
    pairs: int
    connected: int
    normalized_lengths: tuple[float, ...]
    bead_counts: tuple[int, ...]
    mean_normalized_length: float
    mean_beads: float
    endpoint_losses: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class PolyRegressionStudy(Serializable):
    """§4.1 reproduction: DSS statistics against L_0 for the 1-4-4-1 ReLU MLP.

    Fields:
        config: the PolyRegressionConfig as a dict; seed: its seed.
        target_coefficients: the rescaled target polynomial, lowest degree first.
        summaries: one ThresholdSummary per L_0, in the order given.
        strings: every DSSResult (without bead vectors in `to_dict`), threshold-major.
    """

    config: dict
    seed: int
    target_coefficients: tuple[float, ...]
    summaries: tuple[ThresholdSummary, ...]
    strings: tuple[DSSResult, ...] = field(repr=False)

    def to_dict(self) -> dict:
        """Return the fields, the strings without their bead vectors."""
        out = fields_dict(self, exclude=("strings",))
        return {**out, "strings": [s.to_dict(beads=False) for s in self.strings]}


def _trained_endpoint(cfg: PolyRegressionConfig, loss_fn: LossFn, level: float, seed_parts: tuple) -> tuple[nn.Module, torch.Tensor, float]:
    last = (None, None, float("inf"))
    for attempt in range(cfg.restarts):
        seed = child_seed(cfg.seed, f"dss endpoint {seed_parts} attempt {attempt}")
        model = relu_mlp(cfg.hidden, seed)
        theta, value, _, reached = train_to_level(model, loss_fn, get_flat(model), level, cfg.max_steps, cfg.lr)
        last = (model, theta, value)
        if reached:
            return last
    raise InvalidSpecError(f"no initialisation out of {cfg.restarts} trained to L0 = {level:g} "
                           f"(best {last[2]:.3g}); raise --max-steps or the threshold")


def dss_needs(cfg: PolyRegressionConfig) -> list:
    """Return the memory (`common.sizes.Need`) `polynomial_regression_study(cfg)` must hold at least.

    A string holds up to max_beads + 2 models of the 1-h_1-…-1 MLP (float32 weights), and each
    forward pass the samples × Σ h activations: a lower bound, the arrays certainly held at once.
    """
    from landscape_core.sizes import Need

    widths = (1, *cfg.hidden, 1)
    weights = sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))
    numbers = (cfg.max_beads + 2) * weights + cfg.samples * sum(cfg.hidden)
    return [Need("memory", 4 * numbers, f"a string of {cfg.max_beads + 2} MLPs of {weights:,} weights")]


def polynomial_regression_study(cfg: PolyRegressionConfig,
                                progress: Progress | None = None) -> PolyRegressionStudy:
    """Return DSS normalised lengths and bead counts against L_0 for the §4.1 polynomial regression."""
    x, y, coeffs = polynomial_target(cfg.degree, cfg.samples, cfg.seed)

    def loss_fn(model: nn.Module) -> torch.Tensor:
        return torch.mean((model(x) - y) ** 2)

    summaries, strings, done = [], [], 0
    total = len(cfg.thresholds) * cfg.pairs
    for ti, level in enumerate(cfg.thresholds):
        dss = DSSConfig(threshold=level, alpha=cfg.alpha, interp_points=cfg.interp_points, max_beads=cfg.max_beads,
                        max_steps=cfg.max_steps, lr=cfg.lr, constrained=cfg.constrained, seed=cfg.seed)
        lengths, counts, ends, ok = [], [], [], 0
        for k in range(cfg.pairs):
            m1, th1, f1 = _trained_endpoint(cfg, loss_fn, level, (ti, k, 1))
            _, th2, f2 = _trained_endpoint(cfg, loss_fn, level, (ti, k, 2))
            res = dynamic_string_sampling(m1, loss_fn, th1, th2, dss)
            strings.append(res)
            ok += res.connected
            lengths.append(res.normalized_length if res.connected else float("nan"))
            counts.append(res.n_beads)
            ends.append((f1, f2))
            done += 1
            report(progress, done, total)
        good = [i for i, s in enumerate(strings[-cfg.pairs:]) if s.connected]
        summaries.append(ThresholdSummary(
            threshold=level, pairs=cfg.pairs, connected=ok, normalized_lengths=tuple(lengths),
            bead_counts=tuple(counts),
            mean_normalized_length=float(np.mean([lengths[i] for i in good])) if good else float("nan"),
            mean_beads=float(np.mean([counts[i] for i in good])) if good else float("nan"),
            endpoint_losses=tuple(ends)))
    return PolyRegressionStudy(config=cfg.to_dict(), seed=cfg.seed, target_coefficients=tuple(float(c) for c in coeffs),
                               summaries=tuple(summaries), strings=tuple(strings))
