"""Claims about the exact data sets of the polynomial systems: planted targets and files read exactly."""
import json
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from landscape_core.errors import InputFileError
from theory.network.activations import parse
from theory.network.data import ExactData, planted_data, random_data, read_dataset
from landscape_core.errors import InvalidSpecError
from theory.network.spec import NetworkSpec
from theory.network.equations import ZeroErrorSystem

SPEC = NetworkSpec.fully_connected(2, 2, 2, parse("z + z^2/4"))


def test_planted_data_is_fitted_exactly_by_its_weights():
    spec = SPEC
    data, w_star = planted_data(spec, 5, seed=3)
    system = ZeroErrorSystem(spec, data)
    assert all(p(*w_star) == 0 for p in system.polynomials())
    assert np.abs(system.residuals(np.array([float(v) for v in w_star]))).max() < 1e-12


def test_random_data_is_reproducible_from_its_seed_and_has_no_zero_coordinates():
    """Same seed, same exact points; zero coordinates are excluded because they are not generic."""
    a, b = random_data(SPEC, 6, seed=4), random_data(SPEC, 6, seed=4)
    assert a == b and a.seed == 4 and a.kind == "random"
    assert all(v != 0 for row in a.X + a.Y for v in row)
    assert random_data(SPEC, 6, seed=5) != a


def test_csv_and_json_files_are_read_exactly(tmp_path):
    """Decimals and fractions become the exact rationals they denote ('0.1' = 1/10)."""
    csv = tmp_path / "points.csv"
    csv.write_text("# x1, x2, y\n1/3, 0.1, 2\n-1, 0.25, -7/2\n")
    data = read_dataset(str(csv), SPEC)
    assert data.X == ((Fraction(1, 3), Fraction(1, 10)), (Fraction(-1), Fraction(1, 4)))
    assert data.Y == ((Fraction(2),), (Fraction(-7, 2),))
    js = tmp_path / "points.json"
    js.write_text(json.dumps({"X": [["1/3", 0.1], [-1, 0.25]], "Y": [[2], ["-7/2"]]}))
    assert read_dataset(str(js), SPEC) == data


@pytest.mark.parametrize("name, content, message", [
    ("missing.csv", None, "does not exist"),
    ("bad.json", "{not json", "cannot read data"),
    ("keys.json", '{"X": [[1, 2]]}', "cannot read data"),
    ("words.csv", "a, b, c\n", "cannot read data"),
    ("empty.csv", "# nothing\n", "no data points"),
    ("short.csv", "1, 2\n", "needs 2 inputs and 1 targets"),
    ("latin1.csv", b"1, 2, 3 \xe9\n", "cannot read data"),
])
def test_unreadable_data_files_raise_an_input_file_error_naming_the_file(tmp_path, name, content, message):
    """Missing, undecodable, unparsable or ill-shaped files are file errors, not specification errors."""
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(InputFileError, match=message) as info:
        read_dataset(str(path), SPEC)
    assert str(path) in str(info.value)
    assert not isinstance(info.value, InvalidSpecError)


def test_data_json_keeps_exact_rationals_and_the_point_count():
    data = ExactData.from_arrays([[Fraction(2, 5), 0]], [[-1]])
    assert data.to_dict() == {"kind": "given", "seed": None, "n_points": 1, "X": [["2/5", "0"]], "Y": [["-1"]]}


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 400), n0=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_generated_inputs_are_always_distinct(n, n0, seed):
    """Claim: random and planted data never repeat an input (repeats would drop the rank for a trivial reason)."""
    spec = NetworkSpec.fully_connected(n0, 1, 1, parse("z + z^2/4"))
    assert random_data(spec, n, seed).repeated_inputs == 0
    if n <= 60:
        assert planted_data(spec, n, seed)[0].repeated_inputs == 0


def test_repeated_inputs_are_counted_and_reported_by_bezout(tmp_path):
    """Claim: user data with a repeated input is reported as such by the bezout report."""
    from theory.bounds.bezout import bezout_report

    spec = NetworkSpec.fully_connected(1, 2, 2, parse("z + z^2/4"), output_activation=False)
    f = tmp_path / "d.csv"
    f.write_text("1/3,1\n1/2,2\n1/3,5\n")
    data = read_dataset(str(f), spec)
    assert data.repeated_inputs == 1
    rep = bezout_report(spec, data.n_points, data=data)
    assert rep.repeated_inputs == 1
    assert any("repeat" in n for n in rep.notes)
