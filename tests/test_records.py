"""Files on disk: atomic writes that keep exact numbers, refuse non-regular targets and honour the umask."""
import json
from fractions import Fraction

import numpy as np
import pytest

from landscape_core.records import atomic_write_json
from landscape_core.serialize import to_jsonable


def test_json_records_keep_exact_numbers_and_leave_no_temporary_files(tmp_path):
    path = atomic_write_json(tmp_path / "r.json", {"big": 2**80, "q": Fraction(1, 3), "a": np.arange(3)})
    doc = json.loads(path.read_text())
    assert doc == to_jsonable({"big": 2**80, "q": Fraction(1, 3), "a": np.arange(3)})
    assert int(doc["big"]) == 2**80
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_atomic_writes_refuse_devices_and_directories_and_keep_the_umask(tmp_path):
    """Claim: writes never replace a non-regular target, need an existing folder, and honour the umask."""
    import os

    from landscape_core.errors import OutputFileError
    from landscape_core.records import atomic_write_text

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
