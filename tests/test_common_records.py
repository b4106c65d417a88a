"""Run folders: atomic records, and no run silently overwritten by another configuration."""
import json
from fractions import Fraction

import numpy as np
import pytest

from landscape_toolkit.common.errors import CheckpointError
from landscape_toolkit.common.records import atomic_write_json
from landscape_toolkit.common.runs import RunDir
from landscape_toolkit.common.serialize import to_jsonable


def test_a_folder_holding_another_configuration_is_refused_and_kept(tmp_path):
    rd = RunDir(tmp_path, "run")
    rd.start({"widths": [3, 4, 2], "seed": 0}, 0)
    rd.write_json("metrics.json", {"max_loss": 0.18})
    RunDir(tmp_path, "run").start({"widths": [3, 4, 2], "seed": 0}, 0)  # the same configuration reruns in place
    with pytest.raises(CheckpointError, match="another configuration"):
        RunDir(tmp_path, "run").start({"widths": [3, 3, 2], "seed": 0}, 0)
    assert json.loads(rd.file("config.json").read_text())["widths"] == [3, 4, 2]
    assert json.loads(rd.file("metrics.json").read_text()) == {"max_loss": 0.18}


def test_json_records_keep_exact_numbers_and_leave_no_temporary_files(tmp_path):
    path = atomic_write_json(tmp_path / "r.json", {"big": 2**80, "q": Fraction(1, 3), "a": np.arange(3)})
    doc = json.loads(path.read_text())
    assert doc == to_jsonable({"big": 2**80, "q": Fraction(1, 3), "a": np.arange(3)})
    assert int(doc["big"]) == 2**80
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_run_names_that_escape_the_root_are_refused(tmp_path):
    from landscape_toolkit.common.errors import InvalidSpecError

    for bad in ("", "..", "a/b"):
        with pytest.raises(InvalidSpecError):
            RunDir(tmp_path, bad)


def test_a_locked_run_folder_refuses_a_second_user(tmp_path):
    """Claim: while one process holds a run folder's lock, a second attempt fails at once with RunLockedError."""
    import subprocess
    import sys

    from landscape_toolkit.common.errors import RunLockedError

    rd = RunDir(tmp_path, "r")
    with rd.lock():
        code = ("import sys; sys.path.insert(0, '.');"
                "from landscape_toolkit.common.runs import RunDir; from landscape_toolkit.common.errors import RunLockedError\n"
                f"try:\n    RunDir({str(tmp_path)!r}, 'r').lock().__enter__()\nexcept RunLockedError:\n    sys.exit(3)\n")
        assert subprocess.run([sys.executable, "-c", code]).returncode == 3
        with pytest.raises(RunLockedError):
            with RunDir(tmp_path, "r").lock():
                pass
    with RunDir(tmp_path, "r").lock():  # released: usable again
        pass


def test_missing_run_is_an_error_and_names_are_plain(tmp_path):
    """Claim: opening a run that does not exist raises RunNotFoundError; names with separators are refused."""
    from landscape_toolkit.common.errors import RunNotFoundError
    from landscape_toolkit.common.errors import InvalidSpecError

    with pytest.raises(RunNotFoundError):
        RunDir(tmp_path, "nope", create=False)
    for bad in ("../../escape", "a/b", "..", "", "-x"):
        with pytest.raises(InvalidSpecError):
            RunDir(tmp_path, bad)


def test_atomic_writes_refuse_devices_and_directories_and_keep_the_umask(tmp_path):
    """Claim: writes never replace a non-regular target, need an existing folder, and honour the umask."""
    import os

    from landscape_toolkit.common.errors import OutputFileError
    from landscape_toolkit.common.records import atomic_write_text

    with pytest.raises(OutputFileError):
        atomic_write_text(tmp_path, "x")
    with pytest.raises(OutputFileError):
        atomic_write_text(tmp_path / "missing" / "f.txt", "x")
    if os.path.exists("/dev/null"):
        with pytest.raises(OutputFileError):
            atomic_write_text("/dev/null", "x")
        assert not os.path.isfile("/dev/null")
    old = os.umask(0o027)
    try:
        out = atomic_write_text(tmp_path / "f.txt", "x")
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]  # no temporary left behind
