"""Claims about `cli.py bezout`: the card example, JSON output, exports, and one-line errors."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args, timeout=120):
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def test_card_example_prints_paper_and_exact_numbers():
    res = run_cli("bezout", "--layers", "3", "--degree", "4", "--points", "8")
    assert res.returncode == 0, res.stderr
    assert "paper ℓ^d = 4^3 = 64;  exact 84 (certified)" in res.stdout
    assert "2,478,758,911,082,496" in res.stdout  # 84^8
    assert "predicted dimension K−r : 7" in res.stdout


def test_json_output_is_machine_readable():
    res = run_cli("bezout", "--layers", "2", "--degree", "2", "--points", "3", "--json")
    doc = json.loads(res.stdout)
    assert doc["degree"] == 2 + 4 and doc["bezout"] == 6**3


def test_export_to_file(tmp_path):
    out = tmp_path / "sys.phc"
    res = run_cli("bezout", "--layers", "2", "--activation", "z^2", "--points", "2", "--export", "phc", "-o", str(out))
    assert res.returncode == 0, res.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == "2 9" and all(line.endswith(";") for line in lines[1:])


@pytest.mark.parametrize("args", [
    ["--layers", "0"], ["--degree", "0"], ["--points", "-3"], ["--arch", "conv"], ["--degree", "3"],
    ["--activation", "sin(z)"], ["--width", "100000000"], ["--points", "abc"], ["--radius", "0"],
    ["--layers", "2", "--degree", "4", "--points", "3", "--export", "m2", "--expanded", "--width", "3"],
    ["--layers", "8", "--degree", "6", "--width", "30", "--points", "3", "--export", "phc"],
])
def test_bad_input_gives_one_line_and_exit_code_2(args):
    res = run_cli("bezout", *args)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "error" in res.stderr


def test_help_lists_commands():
    res = run_cli("--help")
    assert res.returncode == 0 and "bezout" in res.stdout


def test_user_data_file_is_read_exactly(tmp_path):
    csv = tmp_path / "points.csv"
    csv.write_text("# x1, x2, y\n1/2, 1, 3\n-1, 0.25, 2\n")
    res = run_cli("bezout", "--layers", "2", "--degree", "2", "--data", str(csv), "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["n_points"] == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2\n")
    res = run_cli("bezout", "--data", str(bad))
    assert res.returncode == 2 and "needs 2 inputs and 1 targets" in res.stderr


def test_planted_targets_of_a_deep_linear_network_are_consistent_despite_dependence():
    res = run_cli("bezout", "--layers", "2", "--activation", "linear", "--points", "6", "--targets", "planted")
    assert res.returncode == 0
    assert "these targets are planted" in res.stdout


def test_verify_measures_dimension_and_degree_within_the_bounds():
    res = run_cli("bezout", "--layers", "2", "--activation", "z + z^2/4", "--no-output-activation", "--width", "2",
                  "--input-dim", "1", "--points", "3", "--verify", "--json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    v = doc["verification"]
    assert v["measured_dimension"] == doc["predicted_dimension"] == 4 and v["confirmed"]
    assert 0 < v["measured_degree"] <= doc["witness_bound"] and v["within_bounds"]


def test_verify_refuses_the_card_example_over_budget_in_one_line():
    res = run_cli("bezout", "--verify", timeout=60)
    assert res.returncode == 2 and "path budget" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_out_saves_the_report_as_a_run_folder(tmp_path):
    """Claim: `bezout --out ROOT --run NAME` saves result.json (the same report as --json), config.json and manifest.json."""
    import json
    import subprocess
    import sys

    out = tmp_path / "bz"
    args = [sys.executable, "cli.py", "bezout", "--layers", "2", "--points", "3"]
    saved = subprocess.run(args + ["--out", str(tmp_path), "--run", "bz"], capture_output=True, text=True)
    assert saved.returncode == 0, saved.stderr
    printed = json.loads(subprocess.run(args + ["--json"], capture_output=True, text=True).stdout)
    result = json.loads((out / "result.json").read_text())
    for key in ("degree", "bezout", "multihomogeneous_bezout", "predicted_dimension", "expected_dimension"):
        assert result[key] == printed[key]  # the same report (wall-time fields aside)
    assert result["jacobian"]["rank"] == printed["jacobian"]["rank"]
    assert json.loads((out / "manifest.json").read_text())["seed"] == 0
