"""Probes and MDS of saved training runs: load what to probe, run one of the five probes, embed trajectories.

`load_source` reads the models and data of a run folder (or three fresh MLPs on digits, `demo`);
`run_probe` dispatches to one probe of `empirics.probes` / `empirics.hessian` (Theory II §4,
Theory IIb §3) and returns a `ProbeRun`; `runs_mds` stacks every saved epoch of every trajectory
of one or more runs and embeds each weight layer with classical MDS (Theory II §4.1, Fig. 3).
The command line (`landscape_toolkit/commands/probe.py`, one renderer per kind of `PROBES`) only parses, calls these and renders.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import nn

from empirics import hessian, probes
from empirics.bn import EVALUATION, batch_norms
from empirics.data import DataSpec, load_dataset
from empirics.hessian import AUTO_EXACT_PARAMS, MAX_EXACT_PARAMS
from empirics.mds import mds_by_layer
from empirics.models import get_flat, layer_slice
from empirics.model_spec import ModelSpec
from empirics.train import TrainConfig, build_model, load_run, load_trajectory, loss_name, read_metrics
from landscape_core.errors import InvalidSpecError
from landscape_core.progress import Progress, noted, report
from landscape_core.seeds import child_seed
from landscape_core.serialize import Serializable, fields_dict, to_jsonable

KINDS = ("perturb", "interpolate", "radius", "hessian", "agreement")
HESSIAN_METHODS = ("auto", "exact", "top", "density", "all")


@dataclass(frozen=True)
class ProbeSource(Serializable):
    """What to probe: a run folder (or the digits demo), its epoch, the data split.

    Fields:
        run: run folder written by `empirics.train.train` (None with `demo`).
        demo: three freshly initialised MLPs 64-32-10 (seeds 0, 1, 2) on scikit-learn digits instead.
        epoch: the epoch whose saved weights are probed (None: the last checkpoint).
        split: 'train' or 'test', the data the probe evaluates on.
        examples: keep only the first N examples of the split (None: all).
        device: torch device name ('cpu', 'cuda', 'auto').
    """

    run: str | None = None
    demo: bool = False
    epoch: int | None = None
    split: str = "train"
    examples: int | None = None
    device: str = "cpu"


@dataclass(frozen=True)
class LoadedSource:
    """Models and data ready to probe.

    Fields:
        models: one module per trajectory, in eval mode.
        description: JSON summary (run or demo, epoch, split, examples, loss).
        X, Y: the probe data on the models' device.
        loss: the loss the run was trained with (its config's `loss`): 'cross-entropy' or 'mse'.
        fresh: seed ↦ a freshly initialised model of the same architecture (the agreement reference).
    """

    models: list[nn.Module]
    description: dict
    X: torch.Tensor
    Y: torch.Tensor
    loss: str
    fresh: Callable[[int], nn.Module]


def probe_needs(source: ProbeSource) -> list:
    """Return the memory (`common.sizes.Need`s) probing `source` must hold at least: its data and its models.

    Read from the run's config.json before anything is loaded (`empirics.train.shape_counts`):
    the training and test inputs as tensors, and K trajectories × P weights. The digits demo is
    small and fixed (nothing to check).
    """
    from empirics.checkpoints import run_config
    from empirics.train import shape_counts
    from landscape_core.sizes import Need

    if source.demo or not source.run:
        return []
    config = run_config(source.run)
    p, _, shape, n_train, n_test = shape_counts(config)
    b = 8 if config.dtype == "float64" else 4
    return [Need("memory", b * (n_train + n_test) * math.prod(shape), f"{n_train + n_test:,} inputs of shape {shape}"),
            Need("memory", b * config.trajectories * p, f"{config.trajectories} models of {p:,} weights")]


def load_source(source: ProbeSource) -> LoadedSource:
    """Return the models and probe data of `source.run` (or of the digits demo)."""
    if bool(source.run) == bool(source.demo):
        raise InvalidSpecError("give either --from RUN_FOLDER or --demo")
    if source.split not in ("train", "test"):
        raise InvalidSpecError(f"unknown split {source.split!r}: choose train or test")
    if source.demo:
        config = TrainConfig(dataset="digits", model=ModelSpec("mlp", widths=(32,)))
        data = load_dataset(DataSpec("digits"), source.device)
        models = [build_model(config.model, data.input_shape, data.output_dim, seed, config.torch_dtype).to(data.device)
                  for seed in range(3)]
        description = {"demo": "three freshly initialised MLPs 64-32-10 (seeds 0, 1, 2) on scikit-learn digits"}
    else:
        path = Path(source.run)
        run = load_run(path, source.device, epoch=source.epoch)  # RunNotFoundError names a missing folder
        config = run.config
        data = load_dataset(run.data_spec, source.device, dtype=config.torch_dtype)
        models = run.models
        description = {"run": str(path), "epoch": run.epoch, "trajectories": len(models), "model": config.model.kind}
    X, Y = (data.x_train, data.y_train) if source.split == "train" else (data.x_test, data.y_test)
    if source.examples:
        X, Y = X[:source.examples], Y[:source.examples]
    loss = loss_name(config, data)  # the loss the run was trained with, never guessed from the data
    description.update({"split": source.split, "examples": int(len(X)), "loss": loss})

    def fresh(seed: int) -> nn.Module:
        return build_model(config.model, data.input_shape, data.output_dim, seed, config.torch_dtype).to(X.device)

    return LoadedSource(models, description, X, Y, loss, fresh)


@dataclass(frozen=True)
class ProbeConfig(Serializable):
    """Settings of the five probes (each probe reads its own; the CLI defaults).

    Fields:
        bn: batch-norm policy while probing (`empirics.probes` module docstring).
        batch_size: examples per forward pass (None: all at once).
        seed: seed of noise, directions, probes and the agreement reference initialisation.
        trajectory: the trajectory probed (perturb, radius, hessian).
        alphas, scale, samples: perturb: relative sizes α, σ_l = α·std or α·mean|w_l|, draws per α.
        models, points, t_range: interpolate: two trajectories (a line over t_range with `points`
            points) or three (the simplex at resolution `points`).
        epsilon, directions, subset, quantity, r_max: radius (Theory IIb eq. 11); subset 'both'
            measures all weights and the top layer.
        method, top, probes, steps, tol: hessian: 'auto' (exact up to AUTO_EXACT_PARAMS weights,
            else top + density), 'all' (the same with every method), or one method; eigsh count,
            SLQ probes and Lanczos steps, relative zero threshold.
        reference: agreement: add a randomly initialised reference model.
    """

    bn: str = "recompute"
    batch_size: int | None = None
    seed: int = 0
    trajectory: int = 0
    alphas: tuple[float, ...] = (0.01, 0.1, 0.25, 0.5, 1.0)
    scale: str = "std"
    samples: int = 4
    models: tuple[int, ...] = (0, 1)
    points: int = 21
    t_range: tuple[float, float] = (-0.25, 1.25)
    epsilon: float = 0.05
    directions: int = 10
    subset: str = "both"
    quantity: str = "error"
    r_max: float = 1000.0
    method: str = "auto"
    top: int = 5
    probes: int = 4
    steps: int = 40
    tol: float = 1e-6
    reference: bool = True


@dataclass(frozen=True)
class HessianReport(Serializable):
    """The Hessian spectrum at one model by the methods chosen.

    Fields:
        n_params: K.
        loss: the loss at the probed weights.
        exact: all eigenvalues and the nullity (None when not computed).
        top: the extreme eigenvalues by eigsh on Hessian-vector products (None when not computed).
        density: the SLQ spectral density, with its trace estimate (None when not computed).
    """

    n_params: int
    loss: float
    exact: hessian.HessianSpectrum | None = None
    top: hessian.TopEigenvalues | None = None
    density: hessian.SpectralDensity | None = None

    def to_dict(self) -> dict:
        """Return the record with only the methods computed."""
        out = fields_dict(self, exclude=("loss",))
        return {k: v for k, v in out.items() if v is not None}


@dataclass(frozen=True)
class ProbeRun(Serializable):
    """One probe of a run.

    Fields:
        kind: 'perturb', 'interpolate', 'radius', 'hessian' or 'agreement'.
        result: the probe's result: PerturbationResult, InterpolationResult or SimplexResult,
            {subset: RadiusResult}, HessianReport, AgreementResult.
        source: the LoadedSource description (run or demo, split, examples, loss).
        options: the ProbeConfig used.
        seconds: wall time of the probe.
    """

    kind: str
    result: Any
    source: dict
    options: ProbeConfig
    seconds: float = field(default=0.0)

    def to_dict(self) -> dict:
        """Return the result.json record: probe kind, result, source, seconds."""
        return {"probe": self.kind, "result": to_jsonable(self.result), "source": self.source,
                "seconds": self.seconds}


def _pick(models: Sequence[nn.Module], index: int) -> nn.Module:
    if index >= len(models):
        raise InvalidSpecError(f"the run has {len(models)} trajectories; trajectory {index} does not exist")
    return models[index]


def hessian_methods(method: str, n_params: int) -> list[str]:
    """Return the methods `method` stands for at K = n_params ('auto'/'all' take the exact spectrum up to AUTO_EXACT_PARAMS)."""
    if method not in HESSIAN_METHODS:
        raise InvalidSpecError(f"unknown Hessian method {method!r}: choose one of {', '.join(HESSIAN_METHODS)}")
    if method == "exact" and n_params > MAX_EXACT_PARAMS:
        raise InvalidSpecError(f"an exact Hessian of {n_params:,} weights is too large (limit {MAX_EXACT_PARAMS:,}); "
                               f"use --method top or density")
    exact_ok = n_params <= AUTO_EXACT_PARAMS
    return {"auto": ["exact"] if exact_ok else ["top", "density"],
            "all": (["exact"] if exact_ok else []) + ["top", "density"]}.get(method, [method])


def hessian_report(objective: probes.Objective, options: ProbeConfig) -> HessianReport:
    """Return the Hessian spectrum at the objective's model by the methods `options.method` stands for."""
    w = objective.flat()
    fn = objective.loss_fn(w)
    k = objective.n_params
    want = hessian_methods(options.method, k)
    return HessianReport(
        n_params=k, loss=objective.evaluate(w).loss,
        exact=hessian.hessian_spectrum(fn, w, tol=options.tol) if "exact" in want else None,
        top=hessian.top_eigenvalues(fn, w, k=min(options.top, k - 1), seed=options.seed) if "top" in want else None,
        density=hessian.spectral_density(fn, w, options.probes, options.steps, options.seed)
        if "density" in want else None)


def _perturb(loaded: LoadedSource, options: ProbeConfig, objective: Callable, progress: Progress | None):
    """Layer-wise Gaussian perturbation of one trajectory's model (Theory II §4)."""
    model = _pick(loaded.models, options.trajectory)
    obj = objective(model)
    return probes.perturbation_probe(obj, obj.flat(), probes.blocks_of(model), options.alphas, options.samples,
                                     options.scale, options.seed, progress=progress)


def _interpolate(loaded: LoadedSource, options: ProbeConfig, objective: Callable, progress: Progress | None):
    """Loss along the line between two models, or on the simplex of three."""
    idx = tuple(options.models)
    if len(idx) not in (2, 3) or len(set(idx)) != len(idx):
        raise InvalidSpecError("--models takes two distinct trajectories (a line) or three (the simplex)")
    chosen = [_pick(loaded.models, i) for i in idx]
    obj = objective(chosen[0])
    ws = [get_flat(m) for m in chosen]
    buffers = tuple(probes.module_buffers(m) for m in chosen)
    if len(idx) == 3:
        return probes.interpolate_simplex(obj, *ws, resolution=options.points, buffers=buffers, progress=progress)
    if len(options.t_range) != 2 or not options.t_range[0] < options.t_range[1]:
        raise InvalidSpecError("--range takes two increasing numbers, e.g. -0.25,1.25")
    ts = np.linspace(options.t_range[0], options.t_range[1], max(options.points, 2))
    return probes.interpolate_linear(obj, ws[0], ws[1], ts, buffers=buffers, progress=progress)


def _radius(loaded: LoadedSource, options: ProbeConfig, objective: Callable, progress: Progress | None):
    """Flatness radii r(w, δw, ε) of Theory IIb eq. 11, over all weights, the top layer, or both."""
    if options.subset not in ("all", "top", "both"):
        raise InvalidSpecError(f"unknown subset {options.subset!r}: choose all, top or both")
    model = _pick(loaded.models, options.trajectory)
    obj = objective(model)
    subsets = ("all", "top") if options.subset == "both" else (options.subset,)
    return {s: probes.radius_probe(obj, obj.flat(), options.epsilon, options.directions, s, options.quantity,
                                   options.seed, options.r_max, probes.blocks_of(model),
                                   progress=noted(progress, f"{s} weights"))
            for s in subsets}


def _hessian(loaded: LoadedSource, options: ProbeConfig, objective: Callable, progress: Progress | None):
    """The Hessian spectrum at one trajectory's model."""
    return hessian_report(objective(_pick(loaded.models, options.trajectory)), options)


def _agreement(loaded: LoadedSource, options: ProbeConfig, objective: Callable, progress: Progress | None):
    """Agreement matrices of the trajectories' predictions (Theory II Fig. 18), with a random reference."""
    if loaded.loss != "cross-entropy":
        raise InvalidSpecError("agreement matrices need a classification run")
    chosen = list(loaded.models)
    labels = [f"traj {i}" for i in range(len(loaded.models))]
    if options.reference:
        chosen.append(loaded.fresh(child_seed(options.seed, "agreement reference init")))
        labels.append("random init")
    objs = [objective(m) for m in chosen]
    correct = np.stack([o.correct(o.flat()) for o in objs])
    return probes.agreement_matrices(correct, labels)


# The probe function of each kind; `KINDS` lists them in the order the command line shows.
PROBES: dict[str, Callable] = {"perturb": _perturb, "interpolate": _interpolate, "radius": _radius,
                               "hessian": _hessian, "agreement": _agreement}


def run_probe(kind: str, loaded: LoadedSource, options: ProbeConfig = ProbeConfig(),
              progress: Progress | None = None) -> ProbeRun:
    """Return the result of probe `kind` on the models `load_source` read (Theory II §4, Theory IIb §3)."""
    start = time.perf_counter()
    if kind not in PROBES:
        raise InvalidSpecError(f"unknown probe {kind!r}: choose one of {', '.join(KINDS)}")
    if options.bn == "interpolate" and kind != "interpolate":
        raise InvalidSpecError("--bn interpolate mixes running statistics along an interpolation: use it with "
                               "`probe interpolate` only")

    def objective(model: nn.Module) -> probes.Objective:
        return probes.Objective(model, loaded.X, loaded.Y, loss=loaded.loss, batch_size=options.batch_size,
                                bn=options.bn)

    result = PROBES[kind](loaded, options, objective, progress)
    return ProbeRun(kind, result, loaded.description, options, time.perf_counter() - start)


# ----------------------------------------------------------------------------------------------
# MDS of saved trajectories


def _recomputed_errors(run, epochs: Sequence[int], W: torch.Tensor) -> dict[int, list[float]]:
    """Return {epoch: [training error per trajectory]} of the saved weights W (E, K, P), batch-norm
    statistics recomputed on the training set (`empirics.bn`, through Objective's 'recompute')."""
    device = next(run.models[0].parameters()).device
    data = load_dataset(run.data_spec, device, dtype=run.config.torch_dtype)
    objective = probes.Objective(run.models[0], data.x_train, data.y_train, loss="cross-entropy",
                                 batch_size=run.config.eval_batch, bn="recompute")
    return {e: [objective.evaluate(W[i, k].to(device)).error for k in range(W.shape[1])] for i, e in enumerate(epochs)}


@dataclass(frozen=True)
class RunsMDS(Serializable):
    """Classical MDS of every saved epoch of every trajectory of some runs, per weight layer.

    Fields:
        layers: {layer: MDSResult}; layer 0 embeds all weights.
        n_weights: {layer: number of weights embedded}.
        groups: per point, the trajectory index across runs (run r, trajectory t: r·K + t).
        epochs: per point, its epoch.
        n_points: number of embedded weight vectors.
        seconds: wall time.
    """

    layers: dict
    n_weights: dict
    groups: tuple[int, ...]
    epochs: tuple[int, ...]
    n_points: int
    seconds: float


def mds_needs(runs: Sequence[str], every: int = 1) -> list:
    """Return the memory (`common.sizes.Need`s) `runs_mds(runs, every=every)` must hold at least.

    n points (every `every`-th saved epoch of every trajectory of every run, counted from the
    weight files and config.json) of P weights each, stacked, and the n × n dissimilarities (float64).
    """
    from empirics.checkpoints import run_config
    from empirics.train import shape_counts
    from landscape_core.sizes import Need

    n = weights = 0
    for run in runs:
        config = run_config(run)
        files = len(list((Path(run) / "weights").glob("epoch_*.pt")))
        n += config.trajectories * -(-files // max(every, 1))
        weights = max(weights, shape_counts(config)[0])
    return [Need("memory", 8 * n * weights, f"{n:,} saved models of {weights:,} weights"),
            Need("memory", 8 * n * n, f"the {n:,} × {n:,} dissimilarities")]


def runs_mds(runs: Sequence[str], layers: Sequence[int] = (2,), metric: str = "cosine", every: int = 1,
             device: str = "cpu", progress: Progress | None = None) -> RunsMDS:
    """Return the per-layer classical MDS of the saved weight trajectories of `runs` (Theory II §4.1, Fig. 3).

    Points are labelled by the training error of their trajectory at their epoch (or 'e<epoch>'),
    measured with batch-norm statistics recomputed on the training set (`empirics.bn`): read from
    metrics.json, or measured here for runs recorded before train measured that way. `progress`
    counts the runs read, then the layers embedded.
    """
    start = time.perf_counter()
    if every < 1:
        raise InvalidSpecError(f"every must be a positive integer, got {every}")
    rows_w, labels, groups, epochs_all, model = [], [], [], [], None
    steps = len(runs) + len(layers)
    for r_i, run_path in enumerate(runs):
        run = load_run(run_path, device)  # the models re-measure old runs' errors on `device`; MDS itself is numpy
        model = model or run.models[0]
        epochs, W = load_trajectory(run_path, "cpu")
        errors = {m.epoch: m.train_error for m in run.metrics}
        if read_metrics(run_path).get("evaluation") != EVALUATION and batch_norms(run.models[0]) \
                and run.metrics and run.metrics[0].train_error is not None:
            # Recorded before train measured with recomputed batch-norm statistics: measure again.
            errors = _recomputed_errors(run, epochs[::every], W[::every])
        for e_i in range(0, len(epochs), every):
            for t in range(W.shape[1]):
                rows_w.append(W[e_i, t].double().numpy())
                err = errors.get(epochs[e_i])
                labels.append(float(err[t]) if err is not None else f"e{epochs[e_i]}")
                groups.append(r_i * W.shape[1] + t)
                epochs_all.append(epochs[e_i])
        report(progress, r_i + 1, steps, f"read {Path(run_path).name}")
    Wm = np.stack(rows_w)
    if len(Wm) < 3:
        raise InvalidSpecError(f"MDS needs at least 3 saved weight vectors, found {len(Wm)}")
    slices = {layer: ([slice(0, Wm.shape[1])] if layer == 0 else layer_slice(model, layer)) for layer in layers}
    results = {}
    for k, (layer, sl) in enumerate(slices.items()):
        report(progress, len(runs) + k, steps, f"embedding layer {layer or 'all'} ({len(Wm)} points)")
        results.update(mds_by_layer(Wm, {layer: sl}, metric, 2, labels))
    report(progress, steps, steps)
    n_weights = {layer: int(sum(len(range(*s.indices(Wm.shape[1]))) for s in sl)) for layer, sl in slices.items()}
    return RunsMDS(results, n_weights, tuple(groups), tuple(epochs_all), len(Wm), time.perf_counter() - start)
