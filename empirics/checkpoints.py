"""Training runs on disk: the checkpoint, the per-epoch weights, metrics.json, and reading runs back.

Everything is written through the run protocol (`landscape_core.runs.RunDir`: atomic,
synced). After every epoch `save_state` writes the full state (weights, batch-norm statistics,
optimiser state, every generator's state, epoch, metrics) to checkpoint.pt, and the weights to
weights/epoch_NNNN.pt (the trajectory for MDS); `write_metrics` rewrites metrics.json, the run's
per-epoch log with its status. `load_run` and `load_trajectory` read any training run back.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from empirics.bn import EVALUATION
from empirics.data import DataSpec
from empirics.device import pick_device
from empirics.models import stacked_flat
from empirics.train_config import EpochMetrics, TrainConfig
from empirics.trajectories import build_model
from landscape_core.errors import CheckpointError, InvalidSpecError, RunNotFoundError
from landscape_core.records import read_json_file
from landscape_core.runs import CHECKPOINT, RunDir, config_record, load_checkpoint, run_folder
from landscape_core.serialize import Serializable, fields_dict

WEIGHTS_DIR = "weights"
METRICS = "metrics.json"


def write_metrics(rd: RunDir, history: list[EpochMetrics], status: str, config: TrainConfig | None = None) -> None:
    """Rewrite metrics.json: status ('running' | 'finished' | 'diverged' | 'interrupted'), evaluation, epochs."""
    record = {"status": status, "evaluation": EVALUATION, "evaluated_epochs": [m.epoch for m in history]}
    if config is not None:
        record["eval_every"] = config.eval_every
        record["test_subset"] = config.test_subset
    rd.write_json(METRICS, {**record, "epochs": [m.to_dict() for m in history]})


def save_state(rd: RunDir, epoch: int, config: TrainConfig, state: dict, training: dict,
               history: list[EpochMetrics], status: str) -> None:
    """Write epoch `epoch`: weights/epoch_NNNN.pt (if config.save_weights), checkpoint.pt and metrics.json.

    `state` holds the stacked 'params' and 'buffers'; `training` the optimiser's and generators'
    states. The checkpoint bundles them with the config and the metrics, as nanoGPT's does.
    """
    if config.save_weights:
        rd.save_checkpoint({"epoch": epoch, **state}, f"{WEIGHTS_DIR}/epoch_{epoch:04d}.pt")
    rd.save_checkpoint({"epoch": epoch, "config": config_record(config), **state, **training,
                        "metrics": [m.to_dict() for m in history]})
    write_metrics(rd, history, status, config)


def read_state(rd: RunDir, device: torch.device) -> dict:
    """Return the checkpoint of run folder `rd` on `device` (CheckpointError when unreadable)."""
    return rd.load_checkpoint(CHECKPOINT, map_location=device)


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


def read_metrics(run_dir: str | os.PathLike) -> dict:
    """Return a run's metrics.json record ({'status', 'epochs': [EpochMetrics dicts]})."""
    path = run_folder(run_dir) / "metrics.json"
    if not path.exists():
        raise RunNotFoundError(f"{path} does not exist: not a training run folder (or it never started)")
    return read_json_file(path)


def _run_shapes(path: Path, config: TrainConfig) -> tuple[tuple[int, ...], int]:
    if not (path / "data.json").exists():
        raise CheckpointError(f"{path} has no data.json: not a training run folder")
    info = read_json_file(path / "data.json")
    output_dim = info["num_classes"] if info["num_classes"] is not None else config.teacher.output_dim
    return tuple(info["input_shape"]), int(output_dim)


def load_run(run_dir: str | os.PathLike, device: str | torch.device = "cpu", epoch: int | None = None) -> LoadedRun:
    """Return the run's models (one per trajectory) at `epoch` (default: the last checkpoint), config and data spec."""
    path = run_folder(run_dir)
    if not (path / CHECKPOINT).exists():
        raise CheckpointError(f"{path} holds no {CHECKPOINT}: not a training run folder (or it never started)")
    dev = pick_device(device)
    ckpt = load_checkpoint(path / CHECKPOINT, dev)
    config = TrainConfig.from_dict(ckpt["config"])
    state = ckpt
    if epoch is not None and epoch != ckpt["epoch"]:
        wpath = path / WEIGHTS_DIR / f"epoch_{epoch:04d}.pt"
        if not wpath.exists():
            raise CheckpointError(f"{path} holds no weights for epoch {epoch}")
        state = load_checkpoint(wpath, dev)
    input_shape, output_dim = _run_shapes(path, config)
    models = []
    for k in range(config.trajectories):
        m = build_model(config.model, input_shape, output_dim, config.seed + k, config.torch_dtype).to(dev)
        m.load_state_dict({**{n: t[k] for n, t in state["params"].items()},
                           **{n: t[k] for n, t in state["buffers"].items()}})
        models.append(m.eval())
    metrics = read_json_file(path / METRICS) if (path / "metrics.json").exists() else {}
    return LoadedRun(str(path), config, config.data_spec(), int(state["epoch"]), models,
                     [EpochMetrics(**m) for m in ckpt["metrics"]], metrics.get("status", "unknown"))


def load_trajectory(run_dir: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[list[int], torch.Tensor]:
    """Return (epochs, W) with W of shape (E, K, P): every saved epoch's flat weights, per trajectory.

    Rows follow `empirics.models.get_flat` order, so `layer_slice(model, k)` selects layer k
    (Theory II §4.2 runs MDS on such trajectories, layer by layer).
    """
    folder = run_folder(run_dir) / WEIGHTS_DIR
    files = sorted(folder.glob("epoch_*.pt"))
    if not files:
        raise CheckpointError(f"{folder} holds no saved weights (was the run made with save_weights?)")
    dev = pick_device(device)
    epochs, rows = [], []
    for f in files:
        state = load_checkpoint(f, dev)
        epochs.append(int(state["epoch"]))
        rows.append(stacked_flat(state["params"]))
    return epochs, torch.stack(rows)



def saved_config(run_dir: str | os.PathLike) -> TrainConfig:
    """Return the TrainConfig a run was made with, to resume it (CheckpointError without a checkpoint)."""
    rd = RunDir.at(run_folder(run_dir), create=False)
    if not rd.file(CHECKPOINT).exists():
        raise CheckpointError(f"{rd.path} holds no {CHECKPOINT} to resume from; start it again without --resume")
    return run_config(rd.path)


def run_config(run_dir: str | os.PathLike) -> TrainConfig:
    """Return the TrainConfig of a training run folder (config.json; CheckpointError when it has none)."""
    saved = RunDir.at(run_folder(run_dir), create=False).read_json("config.json")
    if saved is None:
        raise CheckpointError(f"{run_dir} holds no config.json: not a training run folder")
    try:
        return TrainConfig.from_dict(saved)
    except InvalidSpecError as exc:
        raise CheckpointError(f"{Path(run_dir) / 'config.json'} is not a training configuration: {exc}") from None
