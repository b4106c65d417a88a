"""Claims about damaged run folders and two writers of one folder.

A truncated or corrupt checkpoint, weights file, config.json, metrics.json or result.json is
refused with one line that names the file (exit code 2), never read as other numbers: a checkpoint
with one flipped bit fails its CRC-32 check (torch.load alone would load it). A second process that
tries to write a run folder in use — `train`, `experiment`, `grid`, and `bezout --run`, which
computes before it saves — is refused before any work.
"""
from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

import cli
# Imported before a test patches a function they import by name, so that no patch outlives its test.
import empirics.compare  # noqa: F401
import empirics.probe_runs  # noqa: F401
from landscape_core.runs import RunDir

ROOT = Path(__file__).resolve().parent.parent
TRAIN = ["train", "--dataset", "regression", "--model", "theory", "--input-dim", "3", "--widths", "4",
         "--activation", "z + z^2/4", "--no-output-activation", "--points", "12", "--test-points", "6", "--float64",
         "--batch-size", "4", "--device", "cpu", "--no-progress", "--epochs", "3"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A finished 3-epoch training run folder (copied by each test before it damages it)."""
    out = tmp_path_factory.mktemp("trained")
    assert cli.main([*TRAIN, "--out", str(out), "--run", "r"]) == 0
    return out / "r"


def _copy(run: Path, tmp_path: Path) -> Path:
    target = tmp_path / "runs" / "r"
    shutil.copytree(run, target)
    return target


def flip_tensor_bit(path: Path) -> None:
    """Flip one bit inside the first tensor's bytes of a torch file (its zip member 'data/0')."""
    with zipfile.ZipFile(path) as archive:
        member = next(i for i in archive.infolist() if i.filename.endswith("/data/0"))
    data = bytearray(path.read_bytes())
    name_len, extra_len = struct.unpack("<HH", data[member.header_offset + 26: member.header_offset + 30])
    data[member.header_offset + 30 + name_len + extra_len + 3] ^= 0x10
    path.write_bytes(bytes(data))


def _one_line_naming(capsys, argv: list[str], file: Path) -> str:
    capsys.readouterr()
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert str(file) in err, err
    return err


def test_a_flipped_bit_in_a_checkpoint_loads_silently_in_torch_but_is_refused_here(trained, tmp_path, capsys):
    """Claim: torch.load returns other numbers from a checkpoint with one flipped bit; `train --resume` and
    `probe` refuse it naming the file, and so does `mds` for a weights file."""
    run = _copy(trained, tmp_path)
    good = torch.load(run / "checkpoint.pt", weights_only=False)
    flip_tensor_bit(run / "checkpoint.pt")
    bad = torch.load(run / "checkpoint.pt", weights_only=False)
    assert any(not torch.equal(good["params"][n], bad["params"][n]) for n in good["params"])  # silently different
    err = _one_line_naming(capsys, ["train", "--out", str(run.parent), "--run", "r", "--resume", "--epochs", "5",
                                    "--no-progress"], run / "checkpoint.pt")
    assert "fails its CRC-32 check" in err
    _one_line_naming(capsys, ["probe", "perturb", "--from", str(run), "--out", str(tmp_path), "--no-progress"],
                     run / "checkpoint.pt")
    shutil.copy(trained / "checkpoint.pt", run / "checkpoint.pt")
    flip_tensor_bit(run / "weights" / "epoch_0002.pt")
    _one_line_naming(capsys, ["mds", "--from", str(run), "--out", str(tmp_path)], run / "weights" / "epoch_0002.pt")


RESUME = ["train", "--out", "{out}", "--run", "r", "--resume", "--no-progress"]


@pytest.mark.parametrize("name, damage, argv", [
    ("checkpoint.pt", "truncate", RESUME + ["--epochs", "5"]),
    ("checkpoint.pt", "empty", ["probe", "perturb", "--from", "{run}", "--out", "{out}", "--no-progress"]),
    ("weights/epoch_0001.pt", "truncate", ["mds", "--from", "{run}", "--out", "{out}"]),
    ("config.json", "truncate", RESUME),
    ("config.json", '{"epochs": "three"}', RESUME),
    ("config.json", "[3]", RESUME),
    ("metrics.json", "truncate", ["report", "--from", "{run}", "-o", "{out}/page.html"]),
    ("data.json", "truncate", ["probe", "perturb", "--from", "{run}", "--out", "{out}", "--no-progress"]),
])
def test_a_damaged_training_file_is_refused_in_one_line_naming_it(trained, tmp_path, capsys, name, damage, argv):
    """Claim: each damaged file of a training run is refused, exit 2, with one line naming that file."""
    run = _copy(trained, tmp_path)
    target = run / name
    if damage == "truncate":
        target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
    elif damage == "empty":
        target.write_bytes(b"")
    else:
        target.write_text(damage)
    _one_line_naming(capsys, [a.format(run=run, out=run.parent) for a in argv], target)


def test_a_damaged_result_json_is_refused_by_report_and_grid(tmp_path, capsys):
    """Claim: a truncated result.json of a saved `bezout` run, and of a finished grid task, is one line naming it."""
    out = tmp_path / "runs"
    assert cli.main(["bezout", "--layers", "2", "--degree", "2", "--points", "3", "--run", "b", "--out", str(out)]) == 0
    result = out / "b" / "result.json"
    result.write_text(result.read_text()[:40])
    _one_line_naming(capsys, ["report", "--from", str(out / "b"), "-o", str(tmp_path / "page.html")], result)
    grid = ["grid", "bezout", "--axis", "width=2,3", "--set", "seed=0", "--workers", "1", "--run", "g",
            "--out", str(out), "--no-progress"]
    assert cli.main(grid) == 0
    task_result = out / "g" / "width=3" / "result.json"
    task_result.write_text("{")
    _one_line_naming(capsys, grid, task_result)


# ----------------------------------------------------------------------------------------------
# Two writers


def test_a_second_writer_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    """Claim: while a run folder is locked by another user, `train`, `experiment`, `grid` and `bezout --run`
    into it exit 2 with one line saying it is in use — and never start their computation."""
    import empirics.experiments
    import empirics.train
    import landscape_core.executor as executor
    import theory.bounds.bezout

    def no_work(*args, **kwargs):
        raise AssertionError("the computation started although the run folder is in use")

    monkeypatch.setattr(empirics.train, "load_dataset", no_work)
    monkeypatch.setattr(executor, "_pool", no_work)
    monkeypatch.setattr(theory.bounds.bezout, "bezout_report", no_work)
    drill = empirics.experiments.Experiment("busy", "never runs", "(a drill)", (), no_work)
    monkeypatch.setattr(empirics.experiments, "get", lambda name: drill)
    out = tmp_path / "runs"
    for name, argv in (("t", [*TRAIN, "--run", "t"]),
                       ("e", ["experiment", "busy", "--run", "e", "--no-progress"]),
                       ("g", ["grid", "bezout", "--axis", "width=2,3", "--set", "seed=0", "--run", "g", "--no-progress"]),
                       ("b", ["bezout", "--layers", "2", "--degree", "2", "--points", "3", "--run", "b"])):
        with RunDir(out, name).lock():
            capsys.readouterr()
            code = cli.main([*argv, "--out", str(out)])
            err = capsys.readouterr().err
        assert code == 2 and len(err.strip().splitlines()) == 1, (name, err)
        assert f"run folder {out / name} is in use by process {os.getpid()}" in err, err
        assert not (out / name / "config.json").exists(), name


def test_a_second_training_process_is_refused_at_once(tmp_path):
    """Claim: two real processes: while this one holds run folder r, `cli.py train --run r` exits 2 with one
    line naming this process, before it writes anything."""
    args = [sys.executable, str(ROOT / "cli.py"), *TRAIN, "--out", str(tmp_path), "--run", "r"]
    with RunDir(tmp_path, "r").lock():
        second = subprocess.run(args, cwd=ROOT, env=dict(os.environ, OMP_NUM_THREADS="1"), capture_output=True,
                                text=True, timeout=120)
    assert second.returncode == 2 and len(second.stderr.strip().splitlines()) == 1, second.stderr
    assert f"in use by process {os.getpid()}" in second.stderr
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == [".lock"]
