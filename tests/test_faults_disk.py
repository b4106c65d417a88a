"""Claims about a full disk: one error line and exit code 2, every file written before intact, and the
run resumes to the same bits once there is room again.

The output root is a small tmpfs mounted for the test (so this needs root, as CI has; skipped
otherwise). A run that cannot fit is refused before any work (`train` sizes what it writes); a
disk that another writer fills is met two ways: the last byte taken just before a chosen write (a
weights file, the checkpoint, metrics.json), so that each kind of write is seen failing, and a real
training process whose disk is filled while it runs.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import cli
import empirics.checkpoints
from test_faults_kill import _same_folder

ROOT = Path(__file__).resolve().parent.parent
TRAIN = ["train", "--dataset", "regression", "--model", "theory", "--input-dim", "3", "--widths", "4",
         "--activation", "z + z^2/4", "--no-output-activation", "--points", "12", "--test-points", "6", "--float64",
         "--batch-size", "4", "--device", "cpu", "--no-progress", "--run", "r"]


def _mount(folder: Path, size: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs as a small disk here (needs root): {out.stderr.strip()}")


@pytest.fixture
def small_disk(tmp_path):
    """Yield a function mounting a tmpfs of a given size at tmp_path/disk (unmounted afterwards)."""
    if os.geteuid() != 0:
        pytest.skip("a small disk is a tmpfs mount, which needs root")
    disk = tmp_path / "disk"
    mounted = []

    def mount(size: str) -> Path:
        _mount(disk, size)
        mounted.append(disk)
        return disk

    yield mount
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _fill(disk: Path) -> Path:
    """Take every free byte of `disk` (another writer filling it); return the filler file."""
    filler = disk / "filler"
    with open(filler, "ab", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError:
            pass
    return filler


def _compare_prefix(ref: Path, run: Path, same_epochs: bool = True) -> int:
    """Assert every file of the interrupted run equals the reference's (checkpoint: the reference's weights
    and metrics of the same epoch); return the checkpoint's epoch. Without `same_epochs` the reference
    may have been asked for another number of epochs (earlier epochs do not depend on it)."""
    ckpt = torch.load(run / "checkpoint.pt", weights_only=False)
    epoch = ckpt["epoch"]
    same = torch.load(ref / "weights" / f"epoch_{epoch:04d}.pt", weights_only=False)
    for group in ("params", "buffers"):
        for name, t in same[group].items():
            assert torch.equal(t, ckpt[group][name]), name
    for w in (run / "weights").glob("epoch_*.pt"):
        a, b = torch.load(ref / "weights" / w.name, weights_only=False), torch.load(w, weights_only=False)
        assert all(torch.equal(a["params"][n], b["params"][n]) for n in a["params"]), w.name
    ref_metrics = json.loads((ref / "metrics.json").read_text())["epochs"]
    run_metrics = json.loads((run / "metrics.json").read_text())["epochs"]
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    assert strip(run_metrics) == strip(ref_metrics[: len(run_metrics)])
    for name in ("config.json", "data.json"):
        a, b = json.loads((run / name).read_text()), json.loads((ref / name).read_text())
        if not same_epochs and name == "config.json":
            a.pop("epochs"), b.pop("epochs")
        assert a == b, name
    return epoch


def _train(out: Path, *extra: str) -> None:
    """Train the reference run in this process (12 epochs unless `extra` says otherwise)."""
    assert cli.main([*TRAIN, "--out", str(out), "--epochs", "12", *extra]) == 0


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """An unbroken 12-epoch run of TRAIN, on an ordinary disk (one thread, as every test here runs)."""
    out = tmp_path_factory.mktemp("reference")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _train(out)
    finally:
        torch.set_num_threads(threads)
    return out / "r"


@pytest.mark.parametrize("victim", ["weights", "checkpoint", "metrics"])
def test_a_disk_that_fills_before_a_write_stops_training_in_one_line_and_keeps_every_earlier_file(
        small_disk, reference, monkeypatch, capsys, victim):
    """Claim: when another writer takes the last free byte just before epoch 5's weights file, checkpoint or
    metrics.json, `train` prints one line naming that file with 'No space left on device' and exits 2; the
    files of epochs 0–4 equal an unbroken run's, and once there is room `--resume` ends bit-identical to it."""
    disk = small_disk("4m")
    real_save, real_write = empirics.checkpoints.RunDir.save_checkpoint, empirics.checkpoints.write_metrics

    def save_checkpoint(self, obj, name="checkpoint.pt"):
        if obj.get("epoch") == 5 and victim == ("checkpoint" if name == "checkpoint.pt" else "weights"):
            _fill(disk)
        return real_save(self, obj, name)

    def write_metrics(rd, history, status, config=None):
        if victim == "metrics" and history and history[-1].epoch == 5:
            _fill(disk)
        return real_write(rd, history, status, config)

    monkeypatch.setattr(empirics.checkpoints.RunDir, "save_checkpoint", save_checkpoint)
    monkeypatch.setattr(empirics.checkpoints, "write_metrics", write_metrics)
    capsys.readouterr()
    code = cli.main([*TRAIN, "--out", str(disk), "--epochs", "12"])
    err = capsys.readouterr().err
    named = {"weights": "weights/epoch_0005.pt", "checkpoint": "/checkpoint.pt", "metrics": "/metrics.json"}[victim]
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert err.startswith("cli.py train: error: cannot write ") and named in err and "No space left on device" in err
    run = disk / "r"
    assert _compare_prefix(reference, run) == (4 if victim != "metrics" else 5)
    (disk / "filler").unlink()
    monkeypatch.undo()
    assert cli.main([*TRAIN[:-2], "--out", str(disk), "--run", "r", "--resume"]) == 0
    _same_folder(reference, run)


def test_a_run_that_cannot_fit_its_disk_is_refused_before_any_work(small_disk, capsys):
    """Claim: 60 epochs of weight files do not fit a 96 KiB disk: `train` says how much it would write and how
    much is free, in one line with exit 2, and writes nothing."""
    disk = small_disk("96k")
    capsys.readouterr()
    code = cli.main([*TRAIN, "--out", str(disk), "--epochs", "60"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "this writes about" in err and "are free there" in err
    assert not (disk / "r").exists()


def test_a_disk_filled_by_another_process_stops_a_real_training_process_in_one_line(small_disk, tmp_path):
    """Claim: a real `cli.py train` process whose disk another writer fills mid-run prints one line, exits 2,
    and leaves every file it wrote readable and equal to an unbroken run's."""
    disk = small_disk("2m")
    args = [sys.executable, str(ROOT / "cli.py"), *TRAIN, "--epochs", "300", "--out", str(disk)]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, OMP_NUM_THREADS="1"))
    metrics = disk / "r" / "metrics.json"
    deadline = time.time() + 120
    while proc.poll() is None and time.time() < deadline:
        try:
            if len(json.loads(metrics.read_text())["epochs"]) >= 3:
                break
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.02)
    _fill(disk)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and len(err.strip().splitlines()) == 1, err
    assert "No space left on device" in err and "Traceback" not in err
    _train(tmp_path / "ref", "--epochs", "60")
    epoch = _compare_prefix(tmp_path / "ref" / "r", disk / "r", same_epochs=False)
    assert 2 <= epoch < 60


def test_a_full_disk_under_a_saved_result_is_one_line_and_exit_2(small_disk, tmp_path, capsys):
    """Claim: `bezout --run` and `grid` on a full disk fail with one line and exit 2, never a traceback."""
    disk = small_disk("1m")
    _fill(disk)
    for args in (["bezout", "--layers", "2", "--degree", "2", "--points", "3", "--run", "b"],
                 ["grid", "bezout", "--axis", "width=2,3", "--set", "seed=0", "--workers", "1", "--run", "g",
                  "--no-progress"]):
        capsys.readouterr()
        code = cli.main([*args, "--out", str(disk)])
        err = capsys.readouterr().err
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert "No space left on device" in err, err
