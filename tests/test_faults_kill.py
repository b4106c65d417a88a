"""Claims about kill -9: a run killed at any moment leaves a readable folder and resumes to the same bits.

For each run kind (a training run, an experiment's stages, a grid's tasks) an uninterrupted run
counts its fault points (`tests/faults.py`: after each optimisation step, half-way through writing
any file, after a temporary is synced but before its rename, just after the rename), 20 of them
are drawn at random (seeded; at least one inside a checkpoint write and one inside a metrics.json
write), and for each a fresh run is SIGKILLed there. Then: no file of the folder is unreadable
(every JSON parses, every torch file passes its CRC check and loads), the run resumes, and the
resumed run's files equal the uninterrupted run's bit for bit (wall-clock times aside); the
temporaries the kill left are gone after the resume.
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from empirics.train import ModelSpec, TrainConfig, load_run, train
from faults import count_points, draw_kill_points, run_forked, temporaries, unreadable_files
from landscape_core.executor import DONE, LOST, grid_tasks, read_record, run_task
from theory.network.activations import parse
from theory.network.spec import NetworkSpec

KILLS = 20
# Fields that describe one invocation, not the run: wall-clock times, and the epoch a resumed run started from.
INVOCATION = ("seconds", "wall_time", "seconds_per_epoch", "created", "argv", "resumed_from")


def _config(**kw) -> TrainConfig:
    """A 3-4-1 polynomial network on 12 planted regression points, SGDL with momentum: 3 steps an epoch,
    optimiser state and two noise streams to restore; float64, one thread, milliseconds an epoch."""
    network = NetworkSpec((3, 4, 1), parse("z + z^2/4"), output_activation=False)
    base = dict(dataset="regression", model=ModelSpec.theory(network), teacher=network, n_train=12, n_test=6,
                dtype="float64", eval_batch=64, optimizer="sgdl", momentum=0.5, sgdl_noise=1e-3, batch_size=4,
                lr=0.02, epochs=3, trajectories=2, parallel="loop")
    base.update(kw)
    return TrainConfig(**base)


def _same(a, b, where: str = "", folders: tuple[str, str] = ("", "")) -> None:
    """Assert a == b exactly: tensors bitwise, dicts and lists member by member, INVOCATION fields skipped,
    and strings equal once each run's own folder (`folders`) is written '<run>'."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b), where
    elif isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), (where, sorted(set(a) ^ set(b)))
        for k in a:
            if k not in INVOCATION:
                _same(a[k], b[k], f"{where}.{k}", folders)
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{i}]", folders)
    elif isinstance(a, str) and all(folders):
        assert isinstance(b, str) and a.replace(folders[0], "<run>") == b.replace(folders[1], "<run>"), (where, a, b)
    else:
        assert a == b, (where, a, b)


def _files(folder: Path) -> list[str]:
    """Return the files of a run folder, relative, without the lock, the logs and temporaries."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if p.is_file() and p.name != ".lock" and not p.name.startswith(".") and "_submitit" not in p.parts)


def _same_folder(ref: Path, run: Path) -> None:
    """Assert two run folders hold the same files with the same contents (JSON and torch files compared
    as data, with the folders' own paths made equal; wall-clock fields skipped)."""
    assert _files(ref) == _files(run)
    folders = (str(ref), str(run))
    for name in _files(ref):
        a, b = ref / name, run / name
        if a.suffix == ".pt":
            _same(torch.load(a, weights_only=False), torch.load(b, weights_only=False), name, folders)
        elif a.suffix == ".json":
            _same(json.loads(a.read_text()), json.loads(b.read_text()), name, folders)
        elif a.suffix == ".md":
            assert _strip_times(a.read_text().replace(str(ref), "<run>")) == \
                _strip_times(b.read_text().replace(str(run), "<run>")), name
        else:
            assert a.read_bytes() == b.read_bytes(), name


def _strip_times(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if " s" not in ln and "seconds" not in ln]


def _drill(tmp_path: Path, start, resume, seed: int, must: tuple[str, ...]) -> tuple[list[int], dict]:
    """Run the drill: count points on a reference run, kill a fresh run at each of KILLS drawn points,
    check the folder, resume, compare with the reference; return the kill points and the point kinds hit."""
    ref = tmp_path / "reference"
    passed = count_points(lambda: start(ref))
    kills = draw_kill_points(passed, KILLS, seed, must)
    hit: dict[str, int] = {}
    for k in kills:
        run = tmp_path / f"killed-at-{k}"
        code, _ = run_forked(lambda: start(run), k, tmp_path / "report.json")
        assert code == -9, f"point {k} ({passed[k - 1]}): exit code {code}"
        assert unreadable_files(run) == [], passed[k - 1]
        code, _ = run_forked(lambda: resume(run), None, tmp_path / "report.json")
        assert code == 0
        _same_folder(ref, run)
        assert temporaries(run) == [], passed[k - 1]
        kind = passed[k - 1].split(":")[0]
        hit[kind] = hit.get(kind, 0) + 1
    return kills, hit


def test_a_training_run_killed_at_20_random_points_resumes_bit_identical(tmp_path):
    """Claim: SIGKILL anywhere in `train` (steps, inside checkpoint, weights, metrics.json and config writes)
    leaves a readable folder, and `train(resume=True)` ends with every file equal to an unbroken run's."""
    config = _config()
    kills, hit = _drill(tmp_path, lambda run: train(config, run, device="cpu"),
                        lambda run: train(config, run, resume=True, device="cpu"), seed=26,
                        must=("step", "mid-write:checkpoint.pt", "mid-write:metrics.json", "mid-write:epoch_",
                              "before-rename:checkpoint.pt", "after-rename:checkpoint.pt", "mid-write:config.json",
                              "mid-write:result.json"))
    assert len(kills) == KILLS and set(hit) == {"step", "mid-write", "before-rename", "after-rename"}
    final = load_run(tmp_path / "reference")
    assert final.epoch == 3 and final.status == "finished"


# ----------------------------------------------------------------------------------------------
# An experiment: two training stages and a computed stage, through run_experiment


def _drill_experiment(ctx):
    """Two training stages (the second perturbs the first's end point, as Theory II §4.2's stages do)
    and a stage computed from the first; the report lists what they measured."""
    from empirics.experiments import ExperimentReport
    from empirics.experiments.common import train_stage

    first = train_stage(ctx, "first", _config(epochs=2))
    end = ctx.stage("end-loss", lambda: {"train_loss": load_run(first["run"]).metrics[-1].train_loss})
    second = train_stage(ctx, "second", _config(epochs=1, init_from=first["run"], perturb=0.01, seed=7))
    return ExperimentReport(name="fault-drill", title="two stages and a measurement", reference="(a drill)",
                            scale=ctx.scale, seed=ctx.seed, protocol=("train", "measure", "perturb and train"),
                            deviations=(), claims=(), findings=(),
                            measured={"end_loss": end["train_loss"], "second_epochs": second["epochs"]},
                            figures=(), seconds=0.0)


def test_an_experiment_killed_at_20_random_points_resumes_bit_identical(tmp_path, monkeypatch):
    """Claim: SIGKILL anywhere in an experiment (inside a training stage, a stage record, the report)
    leaves a readable folder; running it again finishes with every file equal to an unbroken run's."""
    import empirics.experiments as experiments

    drill = experiments.Experiment("fault-drill", "a drill", "(a drill)", (), _drill_experiment)
    monkeypatch.setattr(experiments, "get", lambda name: drill)

    def start(run: Path):
        experiments.run_experiment("fault-drill", "smoke", 0, "cpu", out=str(run.parent), run_name=run.name)

    kills, hit = _drill(tmp_path, start, start, seed=27,
                        must=("step", "mid-write:checkpoint.pt", "mid-write:metrics.json", "mid-write:first.json",
                              "after-rename:end-loss.json", "mid-write:report.json"))
    assert len(kills) == KILLS and len(hit) >= 3
    assert (tmp_path / "reference" / "stages" / "second" / "checkpoint.pt").exists()


# ----------------------------------------------------------------------------------------------
# A grid of training tasks: the worker is killed


def test_a_grid_worker_killed_at_20_random_points_loses_only_its_task(tmp_path):
    """Claim: a grid worker SIGKILLed anywhere leaves every finished task done and the task it held lost
    (never a torn result); the re-run leaves finished tasks untouched, redoes the rest, and every task
    folder ends equal to an unbroken grid's."""
    tasks = grid_tasks("landscape_toolkit.grid_targets:train_run", {"seed": [0, 1, 2]},
                       {k: v for k, v in _config(epochs=1).to_dict().items() if k != "seed"})

    def worker(grid: Path):
        for task in tasks:
            run_task(task, str(grid))

    def rerun(grid: Path):
        stamps = {t.key: _stamp(grid / t.key / "result.json") for t in tasks}
        before = [read_record(grid, t) for t in tasks]
        assert [r.status for r in before].count(LOST) >= 1 or all(r.status == DONE for r in before)
        worker(grid)
        for task, rec in zip(tasks, before):
            if rec.status == DONE:  # finished before the kill: not run again
                assert _stamp(grid / task.key / "result.json") == stamps[task.key]
        assert all(read_record(grid, t).status == DONE for t in tasks)

    ref = tmp_path / "reference"
    passed = count_points(lambda: worker(ref))
    kills = draw_kill_points(passed, KILLS, 28, ("step", "mid-write:checkpoint.pt", "mid-write:result.json",
                                                 "before-rename:status", "after-rename:result.json"))
    lost_then_redone = 0
    for k in kills:
        grid = tmp_path / f"killed-at-{k}"
        code, _ = run_forked(lambda: worker(grid), k, tmp_path / "report.json")
        assert code == -9
        assert unreadable_files(grid) == [], passed[k - 1]
        statuses = [read_record(grid, t).status for t in tasks]
        # the tasks before the one in progress are done, the rest lost: one task at most was in progress
        assert statuses == sorted(statuses, key=lambda s: s != DONE), statuses
        lost_then_redone += statuses.count(LOST)
        assert run_forked(lambda: rerun(grid), None, tmp_path / "report.json")[0] == 0
        for task in tasks:
            _same_folder(ref / task.key, grid / task.key)
    assert lost_then_redone >= KILLS


def _stamp(path: Path) -> tuple[int, int] | None:
    """Return (inode, mtime in ns) of a file: a rewritten file changes both."""
    if not path.exists():
        return None
    st = path.stat()
    return st.st_ino, st.st_mtime_ns
