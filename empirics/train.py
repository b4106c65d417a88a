"""Training runs: SGD, full-batch GD, SGDL and RMSProp, several trajectories at once, resumable.

A run trains K trajectories of one architecture (trajectory k is the run of seed + k: its own
initialisation, minibatch order and SGDL noise, each a named stream of that seed), so a run with K
trajectories computes the same numbers as K runs with one trajectory each, up to floating-point
reduction order. The K models are
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

Checkpoints (`empirics.checkpoints`, through `common.runs`): after every epoch the full state
(weights, batch-norm statistics, optimiser state, every generator's state, epoch, metrics) goes
atomically to run/checkpoint.pt, and the weights to run/weights/epoch_NNNN.pt (the trajectory for
MDS). A run killed at any moment restarts from its last completed epoch and, on the CPU with the
same thread count, reproduces the uninterrupted run's numbers bit for bit (tests/test_train.py
kills one and checks).

Modules: `empirics.train_config` (TrainConfig, EpochMetrics, TrainResult, the resume rule),
`empirics.trajectories` (model construction, stacked trajectories, optimisers, losses, one epoch),
`empirics.checkpoints` (checkpoint, weights, metrics.json, reading runs back), and this one: the
epoch loop (`train`). The names of all four are importable from here.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from empirics.checkpoints import (METRICS, WEIGHTS_DIR, LoadedRun, load_run, load_trajectory, read_metrics,  # noqa: F401
                                  read_state, run_config, save_state, saved_config, write_metrics)
from empirics.data import Dataset, batch_indices, load_dataset
from empirics.device import describe_device, pick_device, precision_context, synchronize
from empirics.models import count_params
from empirics.model_spec import ModelSpec  # noqa: F401
from empirics.train_config import (LOSSES, MODELS, OPTIMIZERS, PARALLEL, PRECISIONS, RESUMABLE,  # noqa: F401
                                   RESUMABLE_CHANGES, EpochMetrics, TrainConfig, TrainResult, resumed_config,
                                   split_init_from)
from empirics.trajectories import (SGDL, Trajectories, build_model, effective_precision, evaluate,  # noqa: F401
                                   loss_name, make_optimizer, parallel_mode, per_trajectory_loss, run_epoch)
from landscape_core.errors import CheckpointError, InvalidSpecError, TrainingDiverged
from landscape_core.progress import Progress, report
from landscape_core.runs import CHECKPOINT, RunDir, clear_stale, discard_on_failure, snapshot
from landscape_core.seeds import child_seed


# Copies of the weights a trajectory holds besides the optimiser's buffers: the weights, their
# gradients, and the copy torch.save serialises at each checkpoint.
WEIGHT_COPIES = 3
# Activations kept per example by a training step, as a multiple of the forward pass's outputs
# (saved for the backward pass, and their gradients), measured by benchmarks/sizes.py.
ACTIVATION_COPIES = 3
FILE_BLOCK = 4096  # bytes: files are counted in whole blocks, as most file systems store them
REAL_FORWARD_PARAMS = 2**24  # weights up to which `shape_counts` runs a real model (64 MB in float32)


def _optimizer_buffers(config: TrainConfig) -> int:
    """Return the buffers per weight the optimiser keeps (momentum, RMSProp's square average)."""
    return int(config.momentum > 0) + int(config.optimizer == "rmsprop")


def _blocks(n_bytes: int) -> int:
    return -(-int(n_bytes) // FILE_BLOCK) * FILE_BLOCK


def shape_counts(config: TrainConfig) -> tuple[int, int, tuple[int, ...], int, int]:
    """Return (weights P, activation numbers A per example, input shape, training and test examples) of `config`.

    The model is built on torch's meta device (shapes without storage), so any size costs nothing
    to count. A sums the outputs of every leaf module for one example: a model of up to
    REAL_FORWARD_PARAMS weights is realised and run on one example (torch's first meta forward
    imports its decompositions: seconds), a larger one runs on the meta device.
    """
    from empirics.data import data_shape

    n_train, n_test, shape, outputs = data_shape(config.data_spec())
    with torch.device("meta"):
        model = build_model(config.model, shape, outputs, config.seed, config.torch_dtype)
    p = count_params(model)
    device = "cpu" if p <= REAL_FORWARD_PARAMS else "meta"
    with torch.device(device), torch.no_grad():
        if device == "cpu":
            model = build_model(config.model, shape, outputs, config.seed, config.torch_dtype)
        outs: list[int] = []
        hooks = [m.register_forward_hook(lambda _m, _i, o: outs.append(o[0].numel()))
                 for m in model.modules() if not list(m.children())]
        model.eval()(torch.zeros((1, *shape), dtype=config.torch_dtype))  # eval: batch norm takes one example
        for h in hooks:
            h.remove()
    return p, max(1, sum(outs)), tuple(shape), n_train, n_test


def train_needs(config: TrainConfig) -> list:
    """Return what `train(config)` holds at its peak in memory (on the CPU) and writes to disk, from shapes alone.

    The model is built on torch's meta device (shapes without storage), so a request for billions
    of weights costs nothing to estimate. With K trajectories of P weights, A numbers of
    activations per example and b bytes per number:
      memory: the data (n_train + n_test inputs, twice: the normalising copy and the tensor),
              K·P·b·(WEIGHT_COPIES + optimiser buffers), and K·batch·A·b·ACTIVATION_COPIES for a
              training step or K·eval_batch·A·b for an evaluation chunk, whichever is larger;
      disk:   weights/ (epochs + 1 files of K·P·b, unless save_weights is off), checkpoint.pt
              (two at once while it is replaced) and metrics.json, in whole blocks.
    """
    from landscape_core.sizes import Need

    p, a, shape, n_train, n_test = shape_counts(config)
    b = 8 if config.dtype == "float64" else 4
    k = config.trajectories
    batch = (config.gd_chunk or n_train) if config.optimizer == "gd" else min(config.batch_size, n_train)
    state = k * p * b * (WEIGHT_COPIES + _optimizer_buffers(config))
    step = max(k * batch * a * b * ACTIVATION_COPIES, k * min(config.eval_batch, max(n_train, n_test)) * a * b)
    data = 2 * (n_train + n_test) * math.prod(shape) * b
    weights = k * p * b
    files = (config.epochs + 1) * _blocks(weights + 2_000) if config.save_weights else 0
    checkpoint = 2 * _blocks(weights * (1 + _optimizer_buffers(config)) + 2_000)
    metrics = _blocks((config.epochs + 1) * (200 + 100 * k))
    return [Need("memory", state, f"{k} × {p:,} weights with their gradients and optimiser state"),
            Need("memory", step, f"the activations of {k} × {batch:,} examples ({a:,} numbers each)"),
            Need("memory", data, f"{n_train + n_test:,} inputs of shape {tuple(shape)}"),
            Need("disk", files + checkpoint + metrics,
                 f"{config.epochs + 1} weight files of {k} × {p:,} numbers, the checkpoint and metrics.json")]


def trajectory_generator(config: TrainConfig, k: int, name: str, device: torch.device | str = "cpu") -> torch.Generator:
    """Return the torch generator of stream `name` of trajectory k (the run of seed config.seed + k)."""
    return torch.Generator(device=device).manual_seed(child_seed(config.seed + k, name))


def initial_models(config: TrainConfig, data: Dataset) -> list[nn.Module]:
    """Return the K starting models: fresh inits (seed + k), or a run's weights, perturbed (Theory II §4.2)."""
    models = [build_model(config.model, data.input_shape, data.output_dim, config.seed + k, config.torch_dtype)
              for k in range(config.trajectories)]
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
            g = trajectory_generator(config, k, "start perturbation")
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


@dataclass
class LoopState:
    """Everything the epoch loop reads and updates; one instance per `train` call.

    Fields:
        config, run: the run's TrainConfig and its folder.
        data, loss: the loaded data set and the loss trained ('cross-entropy' or 'mse').
        traj, optimizer: the K stacked models and their optimiser.
        batch_gens, noise_gens: per trajectory, the 'batch order' and 'sgdl noise' generators.
        device, n_params, started: the device, parameters per model, perf_counter at the call.
        history: the EpochMetrics measured so far; start_epoch: the epoch the loop continues after;
        resumed_from: that epoch when resuming, else None.
    """

    config: TrainConfig
    run: RunDir
    data: Dataset
    loss: str
    traj: Trajectories
    optimizer: torch.optim.Optimizer
    batch_gens: list[torch.Generator]
    noise_gens: list[torch.Generator]
    device: torch.device
    n_params: int
    started: float
    history: list[EpochMetrics] = field(default_factory=list)
    start_epoch: int = 0
    resumed_from: int | None = None

    def measure(self, epoch: int, batch_loss: list[float] | None, seconds: float) -> EpochMetrics:
        """Return the metrics of the current weights (batch-norm statistics recomputed on the training set)."""
        c, d, traj = self.config, self.data, self.traj
        stats = traj.recomputed_buffers(d.x_train, c.eval_batch) if traj.has_batch_norm else None
        tr = evaluate(traj, d.x_train, d.y_train, self.loss, d.num_classes, c.eval_batch, stats)
        te = evaluate(traj, d.x_test, d.y_test, self.loss, d.num_classes, c.eval_batch, stats)
        return EpochMetrics(epoch, tr[0], tr[1], te[0], te[1], batch_loss, seconds)

    def save(self, epoch: int, status: str) -> None:
        """Checkpoint epoch `epoch` (weights, optimiser, generators, metrics) and mark metrics.json `status`."""
        training = {"optimizer": self.optimizer.state_dict(),
                    "batch_generators": [g.get_state() for g in self.batch_gens],
                    "noise_generators": [g.get_state() for g in self.noise_gens],
                    "torch_rng": torch.get_rng_state()}
        save_state(self.run, epoch, self.config, self.traj.state(), training, self.history, status)

    def restore(self, checkpoint: dict) -> None:
        """Continue from a checkpoint: weights, optimiser, generators, metrics and epoch."""
        self.traj.load_state(checkpoint)
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        # Generator states are CPU byte tensors even for CUDA generators; map_location moved them.
        for g, s in zip(self.batch_gens + self.noise_gens,
                        checkpoint["batch_generators"] + checkpoint["noise_generators"]):
            g.set_state(s.cpu())
        self.history = [EpochMetrics(**m) for m in checkpoint["metrics"]]
        self.start_epoch = self.resumed_from = int(checkpoint["epoch"])

    def mark(self, status: str) -> None:
        """Rewrite metrics.json with `status` and the metrics so far."""
        write_metrics(self.run, self.history, status, self.config)


def train(config: TrainConfig, run_dir: str | os.PathLike | RunDir, resume: bool = False, device: str = "auto",
          progress: Progress | None = None, callback: Callable[[int, int], None] | None = None,
          require_checkpoint: bool = False) -> TrainResult:
    """Train config.trajectories models and return a TrainResult; writes the run folder as it goes.

    Files in the run folder (`common.runs`): config.json, manifest.json (seed, versions, commit,
    code diff), data.json, metrics.json (status, evaluation, one EpochMetrics per epoch, epoch 0 =
    initialisation), result.json (the TrainResult, when the call returns), checkpoint.pt (full
    state after the last completed epoch) and weights/epoch_NNNN.pt. The folder is locked while
    training (`RunDir.lock`): a second training into it fails at once with RunLockedError. With
    `resume`, training restarts from checkpoint.pt (a fresh run if there is none, unless
    `require_checkpoint`: then a missing folder is RunNotFoundError and a missing checkpoint
    CheckpointError); the config must equal the saved one except for the RESUMABLE fields
    (`empirics.train_config.resumed_config`; `epochs` may only grow). `callback(epoch, step)` is
    called after every optimisation step, and `progress(steps done, steps to do)` after every step
    of this invocation. Raises TrainingDiverged on a non-finite loss or weight, keeping the last
    good checkpoint (status 'diverged'); a KeyboardInterrupt marks metrics.json 'interrupted' and
    propagates.
    """
    folder = run_dir.path if isinstance(run_dir, RunDir) else Path(run_dir)
    clear_stale(folder)  # a run killed before its first checkpoint left only bookkeeping
    before = snapshot(folder)
    rd = run_dir if isinstance(run_dir, RunDir) else RunDir.at(run_dir, create=not require_checkpoint)
    if require_checkpoint and not rd.file(CHECKPOINT).exists():
        raise CheckpointError(f"{rd.path} holds no {CHECKPOINT} to resume from (the run never finished an epoch); "
                              f"start it again without --resume")
    # a run that fails before its first checkpoint leaves nothing behind that would refuse the corrected command
    with rd.lock(), discard_on_failure(rd.path, before):
        result = _train_locked(config, rd, resume, device, progress, callback)
        rd.write_result(result)
        return result


def _train_locked(config: TrainConfig, rd: RunDir, resume: bool, device: str, progress: Progress | None,
                  callback: Callable[[int, int], None] | None) -> TrainResult:
    """Body of `train` while the run folder is locked."""
    started = time.perf_counter()
    dev = pick_device(device)
    if config.precision == "bf16-mixed" and dev.type != "cuda":
        # measured: bfloat16 autocast on this CPU drove the DCNN to NaN within two epochs (one thread),
        # and CPUs without bfloat16 units gain no speed from it
        raise InvalidSpecError("--precision bf16-mixed is for CUDA devices; on the CPU train in float32")
    checkpoint = None
    if resume and rd.file(CHECKPOINT).exists():
        checkpoint = read_state(rd, dev)
        resumed_config(TrainConfig.from_dict(checkpoint["config"]), config)
    elif not resume and rd.file(CHECKPOINT).exists():
        raise CheckpointError(f"{rd.path} already holds a run: pass --resume to continue it or choose another --run name")

    data = load_dataset(config.data_spec(), device=dev, dtype=config.torch_dtype)
    k_count = config.trajectories
    models = initial_models(config, data) if checkpoint is None else \
        [build_model(config.model, data.input_shape, data.output_dim, config.seed + k, config.torch_dtype)
         for k in range(k_count)]
    traj = Trajectories(models, dev, mode=parallel_mode(config.parallel, dev, models[0]),
                        channels_last=config.channels_last, compile=config.compile)
    noise_gens = [trajectory_generator(config, k, "sgdl noise", dev) for k in range(k_count)]
    state = LoopState(config, rd, data, loss_name(config, data), traj,
                      make_optimizer(config, list(traj.params.values()), noise_gens),
                      [trajectory_generator(config, k, "batch order") for k in range(k_count)], noise_gens,
                      dev, count_params(models[0]), started)

    if checkpoint is None:
        rd.start(config, config.seed, resumable=RESUMABLE,
                 extra={"device": describe_device(dev), "n_params": state.n_params, "trajectories": k_count,
                        "parallel": traj.mode if k_count > 1 else "loop",
                        "precision": effective_precision(config.precision, dev)})
        rd.write_json("data.json", data.to_dict())
        report(progress, 0, None, f"measuring the initial weights on {data.n_train:,} + {len(data.y_test):,} examples")
        state.history.append(state.measure(0, None, 0.0))
        if not all(math.isfinite(v) for v in state.history[0].train_loss):
            state.mark("diverged")
            raise TrainingDiverged(f"the loss at initialisation is not finite ({state.history[0].train_loss}): the "
                                   f"activation overflows on these inputs; choose another --activation")
        state.save(0, "running")
    else:
        state.restore(checkpoint)
        rd.write_config(config)  # records an extended epoch count

    try:
        return _run_epochs(state, progress, callback)
    except KeyboardInterrupt:
        state.mark("interrupted")
        raise


def _loss_note(last: EpochMetrics) -> str:
    """Return ', train loss L, error E' of the last measured epoch (mean over trajectories), or ''."""
    if not last.train_loss:
        return ""
    loss = float(np.mean(last.train_loss))
    error = "" if last.train_error is None else f", error {float(np.mean(last.train_error)):.3f}"
    return f"; after epoch {last.epoch}: loss {loss:.3g}{error}"


def _run_epochs(state: LoopState, progress: Progress | None, callback: Callable[[int, int], None] | None) -> TrainResult:
    """Run the remaining epochs of `state` and return the TrainResult."""
    config, data, traj, dev = state.config, state.data, state.traj, state.device
    k_count = traj.k
    x_all, y_all, n = data.x_train, data.y_train, data.n_train
    steps = 1 if config.optimizer == "gd" else math.ceil(n / config.batch_size)
    epoch_times = []
    total_steps, done_steps = max(config.epochs - state.start_epoch, 0) * steps, 0
    for epoch in range(state.start_epoch + 1, config.epochs + 1):
        traj.train(True)
        synchronize(dev)
        t0 = time.perf_counter()
        if config.optimizer == "gd":
            batches = None
        else:
            per_k = [batch_indices(n, config.batch_size, g, dev) for g in state.batch_gens]
            batches = [torch.stack([per_k[k][s] for k in range(k_count)]) for s in range(steps)]  # (K, B) each

        note = f"epoch {epoch}/{config.epochs}" + _loss_note(state.history[-1])

        def after_step(step: int, epoch: int = epoch, note: str = note) -> None:
            nonlocal done_steps
            if callback is not None:
                callback(epoch, step)
            done_steps += 1
            report(progress, done_steps, total_steps, note)

        with precision_context(config.precision, dev):
            seen = run_epoch(traj, state.optimizer, x_all, y_all, state.loss, data.num_classes, batches,
                             gd_chunk=config.gd_chunk, after_step=after_step)
        synchronize(dev)
        seconds = time.perf_counter() - t0
        epoch_times.append(seconds)
        batch_loss = (seen / n).tolist()  # one host sync per epoch, none per step
        finite = torch.stack([torch.isfinite(t.detach().reshape(k_count, -1)).all(1) for t in traj.params.values()])
        finite = finite.all(0).tolist()
        bad = [k for k in range(k_count) if not math.isfinite(batch_loss[k]) or not finite[k]]
        if not bad and config.evaluates(epoch):
            report(progress, done_steps, total_steps, f"epoch {epoch}/{config.epochs}: measuring")
        measured = None if bad or not config.evaluates(epoch) else state.measure(epoch, batch_loss, seconds)
        if measured is not None:
            bad = [k for k in range(k_count) if not math.isfinite(measured.train_loss[k])]
        if bad:
            state.mark("diverged")
            loss = batch_loss[bad[0]] if measured is None else measured.train_loss[bad[0]]
            raise TrainingDiverged(
                f"training diverged in epoch {epoch} (trajectory {bad[0]}: loss {loss}); "
                f"the checkpoint of epoch {epoch - 1} is kept in {state.run.path}; try a smaller --lr")
        if measured is not None:
            state.history.append(measured)
        state.save(epoch, "running" if epoch < config.epochs else "finished")
    if state.start_epoch >= config.epochs:
        state.mark("finished")
    last = state.history[-1]
    return TrainResult(str(state.run.path), last.epoch, state.resumed_from, k_count, state.n_params,
                       describe_device(dev), last, time.perf_counter() - state.started,
                       float(np.mean(epoch_times)) if epoch_times else None, data.to_dict())
