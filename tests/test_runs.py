"""The run protocol (landscape_core.runs): one folder per run, conflicts refused before work,
configurations recorded exactly, results and checkpoints written atomically, any run read back."""
import json
import subprocess
from dataclasses import dataclass

import pytest

from landscape_core.errors import CheckpointError, InvalidSpecError
from landscape_core.runs import (RunDir, _git_state, config_record, open_run, read_run, save_run)
from landscape_core.serialize import Serializable, to_jsonable


def test_a_folder_holding_another_configuration_is_refused_and_kept(tmp_path):
    rd = RunDir(tmp_path, "run")
    rd.start({"widths": [3, 4, 2], "seed": 0}, 0)
    rd.write_json("metrics.json", {"max_loss": 0.18})
    RunDir(tmp_path, "run").start({"widths": [3, 4, 2], "seed": 0}, 0)  # the same configuration reruns in place
    with pytest.raises(CheckpointError, match="another configuration"):
        RunDir(tmp_path, "run").start({"widths": [3, 3, 2], "seed": 0}, 0)
    assert json.loads(rd.file("config.json").read_text())["widths"] == [3, 4, 2]
    assert json.loads(rd.file("metrics.json").read_text()) == {"max_loss": 0.18}


def test_run_names_that_escape_the_root_are_refused(tmp_path):
    from landscape_core.errors import InvalidSpecError

    for bad in ("", "..", "a/b"):
        with pytest.raises(InvalidSpecError):
            RunDir(tmp_path, bad)


def test_a_locked_run_folder_refuses_a_second_user(tmp_path):
    """Claim: while one process holds a run folder's lock, a second attempt fails at once with RunLockedError."""
    import subprocess
    import sys

    from landscape_core.errors import RunLockedError

    rd = RunDir(tmp_path, "r")
    with rd.lock():
        code = ("import sys; sys.path.insert(0, '.');"
                "from landscape_core.runs import RunDir; from landscape_core.errors import RunLockedError\n"
                f"try:\n    RunDir({str(tmp_path)!r}, 'r').lock().__enter__()\nexcept RunLockedError:\n    sys.exit(3)\n")
        assert subprocess.run([sys.executable, "-c", code]).returncode == 3
        with pytest.raises(RunLockedError):
            with RunDir(tmp_path, "r").lock():
                pass
    with RunDir(tmp_path, "r").lock():  # released: usable again
        pass


def test_missing_run_is_an_error_and_names_are_plain(tmp_path):
    """Claim: opening a run that does not exist raises RunNotFoundError; names with separators are refused."""
    from landscape_core.errors import RunNotFoundError
    from landscape_core.errors import InvalidSpecError

    with pytest.raises(RunNotFoundError):
        RunDir(tmp_path, "nope", create=False)
    for bad in ("../../escape", "a/b", "..", "", "-x"):
        with pytest.raises(InvalidSpecError):
            RunDir(tmp_path, bad)

def test_open_run_refuses_another_configuration_before_the_computation_starts(tmp_path):
    """Claim: a folder holding another configuration is refused on entry, so the computation never runs
    and the folder keeps its files; a refused run name creates no folder."""
    save_run(tmp_path, "r", {"widths": [3, 4, 2]}, {"loss": 0.5})
    ran = []
    with pytest.raises(CheckpointError, match="widths"):
        with open_run(tmp_path, "r", {"widths": [3, 3, 2]}):
            ran.append(1)
    assert not ran
    assert json.loads((tmp_path / "r" / "config.json").read_text()) == {"widths": [3, 4, 2]}
    assert json.loads((tmp_path / "r" / "result.json").read_text()) == {"loss": 0.5}
    with pytest.raises(InvalidSpecError):
        with open_run(tmp_path, "../escape", {}):
            ran.append(1)
    assert not ran and not (tmp_path.parent / "escape").exists()


def test_resumable_fields_may_change_and_are_recorded_others_may_not(tmp_path):
    """Claim: fields declared resumable may differ from the saved configuration (the new value is written);
    any other difference is refused, naming the field."""
    with open_run(tmp_path, "r", {"epochs": 1, "lr": 0.1}, resumable=("epochs",)) as rd:
        rd.write_result({"epochs": 1})  # work done: the folder is a run, not a killed start
    with open_run(tmp_path, "r", {"epochs": 3, "lr": 0.1}, resumable=("epochs",)) as rd:
        rd.write_result({"epochs": 3})
    assert json.loads((tmp_path / "r" / "config.json").read_text()) == {"epochs": 3, "lr": 0.1}
    with pytest.raises(CheckpointError, match="lr"):
        with open_run(tmp_path, "r", {"epochs": 3, "lr": 0.2}, resumable=("epochs",)):
            pass


@dataclass(frozen=True)
class _Config(Serializable):
    seed: int
    widths: tuple


@dataclass(frozen=True)
class _Result(Serializable):
    count: int
    values: tuple


def test_config_json_keeps_seeds_of_any_width_exactly_and_runs_read_back(tmp_path):
    """Claim: config.json stores a seed ≥ 2^63 as a JSON integer that reads back equal (results keep their
    string form for huge ints); read_run returns exactly what was written."""
    seed = 2**70 + 12345
    config, result = _Config(seed, (3, 4)), _Result(2**60, (0.5, 1.5))
    run = save_run(tmp_path, "r", config, result, seed)
    text = (tmp_path / "r" / "config.json").read_text()
    assert str(seed) in text and f'"{seed}"' not in text
    back = read_run(run.path)
    assert back.config == {"seed": seed, "widths": [3, 4]} == config_record(config)
    assert back.result == to_jsonable(result) and back.result["count"] == str(2**60)
    assert back.manifest["seed"] == seed
    with pytest.raises(CheckpointError):  # the same name with another seed is another configuration
        save_run(tmp_path, "r", _Config(seed + 1, (3, 4)), result)


def test_manifest_records_the_code_diff_only_when_the_tree_is_dirty(tmp_path):
    """Claim: the provenance names the commit, marked +dirty with the diff of tracked files when changed."""
    git = lambda *a: subprocess.run(["git", *a], cwd=tmp_path, check=True, capture_output=True, text=True)  # noqa: E731
    git("init", "-q")
    (tmp_path / "f.py").write_text("x = 1\n")
    git("add", "f.py")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "c")
    head = git("rev-parse", "HEAD").stdout.strip()
    assert _git_state(tmp_path, with_diff=True) == (head, None)
    (tmp_path / "f.py").write_text("x = 2\n")
    commit, diff = _git_state(tmp_path, with_diff=True)
    assert commit == head + "+dirty" and "-x = 1" in diff and "+x = 2" in diff


def test_checkpoints_are_replaced_whole_or_not_at_all(tmp_path, monkeypatch):
    """Claim: save_checkpoint writes a torch file that loads back equal; a failure while writing keeps the old
    file and leaves no temporary behind."""
    torch = pytest.importorskip("torch")
    run = RunDir(tmp_path, "r")
    run.save_checkpoint({"epoch": 1, "w": torch.arange(3.0)})
    run.save_checkpoint({"epoch": 0}, "weights/epoch_0000.pt")
    assert run.load_checkpoint()["epoch"] == 1 and torch.equal(run.load_checkpoint()["w"], torch.arange(3.0))

    def broken(obj, handle):
        handle.write(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", broken)
    with pytest.raises(Exception, match="No space left"):
        run.save_checkpoint({"epoch": 2})
    monkeypatch.undo()
    assert run.load_checkpoint()["epoch"] == 1
    assert sorted(p.name for p in run.path.iterdir()) == ["checkpoint.pt", "weights"]


def test_a_block_that_fails_before_any_work_leaves_nothing_and_work_is_kept(tmp_path):
    """Claim: open_run's block failing (an exception or Ctrl-C) with only bookkeeping written removes the folder
    it created; failing after a result or a checkpoint keeps the folder whole (the same command resumes it);
    a pre-existing folder's files are never removed."""
    with pytest.raises(ValueError):
        with open_run(tmp_path, "new", {"a": 1}):
            raise ValueError("bad epoch")
    assert not (tmp_path / "new").exists()
    with pytest.raises(KeyboardInterrupt):
        with open_run(tmp_path, "worked", {"a": 1}) as rd:
            rd.file("stages").mkdir()
            rd.write_json("stages/one.json", [1])
            raise KeyboardInterrupt
    assert (tmp_path / "worked" / "config.json").is_file() and (tmp_path / "worked" / "stages" / "one.json").is_file()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(ValueError):
        with open_run(tmp_path, "mine", {"a": 1}):
            raise ValueError
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep" and not (tmp_path / "mine" / "config.json").exists()
