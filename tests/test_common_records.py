"""Run folders: atomic records, and no run silently overwritten by another configuration."""
import json
from fractions import Fraction

import numpy as np
import pytest

from common.errors import CheckpointError
from common.records import RunDir, atomic_write_json
from common.serialize import to_jsonable


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
    from theory.errors import InvalidSpecError

    for bad in ("", "..", "a/b"):
        with pytest.raises(InvalidSpecError):
            RunDir(tmp_path, bad)
