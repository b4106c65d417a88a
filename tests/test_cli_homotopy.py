"""Claims checked: `solve`, `dimension` and `critical` print what the library computes, emit valid
JSON, and turn bad input into one line on stderr with exit code 2."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import cli

ROOT = Path(__file__).resolve().parent.parent


def run(capsys, *argv):
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_solve_file_reports_all_four_circle_hyperbola_intersections(tmp_path, capsys):
    f = tmp_path / "sys.phc"
    f.write_text("2\n x^2 + y^2 - 4;\n x*y - 1;\n")
    code, out, _ = run(capsys, "solve", str(f), "--json")
    doc = json.loads(out)
    assert code == 0 and doc["n_solutions"] == 4 and doc["n_real"] == 4 and doc["bezout"] == 4
    assert sum(doc["outcomes"].values()) == doc["n_paths"]


def test_solve_network_text_table_names_the_bounds(capsys):
    code, out, _ = run(capsys, "solve", "--activation", "z + z^2/4 + z^3/8", "--no-output-activation",
                       "--points", "4", "--targets", "planted", "--start", "multihomogeneous")
    assert code == 0
    assert "Bezout number" in out and "mixed volume" in out and "2 regular, 2 real" in out
    assert "planted solution w* among the solutions: yes" in out


def test_solve_check_gamma_json_carries_the_comparison(tmp_path, capsys):
    f = tmp_path / "sys.phc"
    f.write_text("2\n x^2 + y^2 - 4;\n x*y - 1;\n")
    code, out, _ = run(capsys, "solve", str(f), "--check-gamma", "--no-progress", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["gamma_check"]["seeds"] == [0, 1] and doc["gamma_check"]["union"] == 4


def test_dimension_and_critical_json(capsys):
    code, out, _ = run(capsys, "dimension", "--activation", "z + z^2/4", "--no-output-activation",
                       "--width", "2", "--points", "3", "--targets", "planted", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["dimension"] == 4 and doc["confirmed"] and doc["degree"] == 17
    code, out, _ = run(capsys, "critical", "--activation", "linear", "--no-bias", "--points", "2", "--penalty", "none", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["theory"]["nonzero_minima_nondegenerate"] is False


@pytest.mark.parametrize("argv,message", [
    (["solve", "/nonexistent.phc"], "cannot read /nonexistent.phc"),
    (["solve", "--points", "3"], "square zero-error system"),
    (["solve", "--layers", "3", "--width", "2", "--points", "13", "--degree", "4", "--max-paths", "1000"],
     "over the path budget of 1,000"),
    (["dimension", "--monodromy"], "--targets planted"),
])
def test_bad_input_is_one_line_exit_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_unparsable_file_is_one_line_exit_2(tmp_path, capsys):
    f = tmp_path / "bad.phc"
    f.write_text("2\n x^2 + y/;\n x*y - 1;\n")
    code, _, err = run(capsys, "solve", str(f))
    assert code == 2 and "cannot parse polynomial 1" in err and "bad.phc" in err


def test_critical_monodromy_cli_reports_isolated_points(capsys):
    code, out, _ = run(capsys, "critical", "--activation", "linear", "--no-bias", "--points", "2",
                       "--monodromy", "--json")
    doc = json.loads(out)
    # f = a·b·x with a generic penalty: 1 + 4 isolated critical points (see test_critical)
    assert code == 0 and doc["n_isolated"] == 5 and doc["failed_paths"] == 0


def test_critical_default_route_prints_the_proof_and_the_certificates(capsys):
    from theory.counting import macaulay2
    if not macaulay2.available():
        pytest.skip("Macaulay2 is not installed")
    code, out, _ = run(capsys, "critical", "--activation", "z^2", "--no-bias", "--layers", "2", "--width", "1",
                       "--input-dim", "1", "--points", "2", "--penalty", "generic", "--no-progress")
    assert code == 0 and "strata monodromy" in out
    assert "complete: 21 = the exact count 21 (Macaulay2" in out
    assert "21 distinct solutions certified" in out
    code, out, _ = run(capsys, "critical", "--activation", "z^2", "--no-bias", "--layers", "2", "--width", "1",
                       "--input-dim", "1", "--points", "2", "--penalty", "generic", "--no-progress", "--json")
    doc = json.loads(out)
    assert doc["route"] == "strata monodromy" and doc["completeness"].startswith("complete: 21")
    assert doc["monodromy"]["returncode"] == "complete" and doc["monodromy"]["exact_total"] == 21
    assert doc["certified"].startswith("21 distinct solutions certified")


def test_solve_report_prints_certificates_and_completeness(tmp_path, capsys):
    f = tmp_path / "sys.phc"
    f.write_text("2\n x^2 + y^2 - 4;\n x*y - 1;\n")
    code, out, _ = run(capsys, "solve", str(f), "--no-progress")
    assert code == 0 and "4 distinct solutions certified, 4 certified real" in out
    assert "complete: 4 regular solutions = stable mixed volume 4" in out
    doc = json.loads(run(capsys, "solve", str(f), "--no-progress", "--json")[1])
    assert doc["certified"] == "4 distinct solutions certified, 4 certified real"
    assert doc["completeness"].startswith("complete: 4")


def test_critical_text_report_states_completeness_and_the_groebner_count(capsys):
    code, out, _ = run(capsys, "critical", "--activation", "z^2", "--no-bias", "--layers", "2", "--width", "1",
                       "--input-dim", "1", "--points", "2", "--penalty", "generic", "--groebner",
                       "--start", "total-degree")
    assert code == 0
    assert "complete: 21 regular solutions = stable mixed volume 21" in out
    assert "21 distinct solutions certified" in out
    assert "21 complex solutions with multiplicity" in out and "all found" in out


def test_out_saves_solve_results_as_a_run_folder(tmp_path):
    """Claim: `solve FILE --out ROOT --run NAME` saves result.json (the same counts as --json), config.json, manifest.json."""
    import json
    import subprocess
    import sys

    out = tmp_path / "s"
    run = subprocess.run([sys.executable, "cli.py", "solve", "examples/cyclic5.phc", "--out", str(tmp_path), "--run", "s", "--no-progress"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    result = json.loads((out / "result.json").read_text())
    assert result["n_solutions"] == 70
    assert json.loads((out / "config.json").read_text())["file"] == "examples/cyclic5.phc"
    assert (out / "manifest.json").is_file()


SYSTEMS = Path(__file__).resolve().parent.parent / "examples" / "systems"


def test_solve_table_shows_every_solution_class(capsys):
    """Claim: the table has a row per regular solution, per isolated singular one (with its multiplicity), per
    positive-dimensional part (dimension, degree, a sample point) and the failed paths as a count."""
    code, out, _ = run(capsys, "solve", str(SYSTEMS / "circle.phc"), "--no-progress")
    assert code == 0
    assert any(r.startswith("dim 1, degree 2") and "6 paths" in r for r in out.splitlines())
    assert "multiplicity 1, 1" not in out
    code, out, _ = run(capsys, "solve", str(SYSTEMS / "double_root.phc"), "--no-progress")
    rows = out.split("class ")[1].splitlines()
    assert code == 0 and any(r.startswith("singular") and "mult 2" in r for r in rows)
    assert any(r.startswith("regular") and "-2" in r for r in rows)
    code, out, _ = run(capsys, "solve", str(ROOT / "examples/cyclic5.phc"), "--start", "total-degree", "--no-progress")
    assert code == 0 and any(r.startswith("at infinity") and "50 paths" in r for r in out.splitlines())


def test_solve_show_counts_the_rows_left_out(capsys):
    """Claim: --show N prints N regular solutions and says how many more there are (cyclic-5: 70)."""
    code, out, _ = run(capsys, "solve", str(ROOT / "examples/cyclic5.phc"), "--show", "30", "--no-progress")
    assert code == 0 and "... 40 more regular (--show, --json)" in out
    assert len([r for r in out.splitlines() if r.startswith("regular ")]) == 30
    with pytest.raises(SystemExit) as exc:
        run(capsys, "solve", str(ROOT / "examples/cyclic5.phc"), "--show", "-1")
    assert exc.value.code == 2 and "-1" in capsys.readouterr().err


def test_solutions_export_and_system_conversion_round_trip(capsys, tmp_path):
    """Claim: `convert` writes Macaulay2 and Bertini input that `solve` reads back to the same solutions, and
    `--export-solutions` writes them as JSON (every class) or PHCpack's list."""
    m2, bertini_in = tmp_path / "s.m2", tmp_path / "s.bertini"
    assert run(capsys, "convert", str(SYSTEMS / "three_variables.phc"), "--to", "m2", "-o", str(m2))[0] == 0
    assert run(capsys, "convert", str(m2), "--to", "bertini", "-o", str(bertini_in))[0] == 0
    code, _, err = run(capsys, "solve", str(bertini_in), "--export-solutions", "json", "-o", str(tmp_path / "s.json"),
                       "--no-progress")
    assert code == 0, err
    doc = json.loads((tmp_path / "s.json").read_text())
    assert doc["variables"] == ["x", "y", "z"] and len(doc["solutions"]) == 4
    assert {s["class"] for s in doc["solutions"]} == {"regular"} and sum(s["real"] for s in doc["solutions"]) == 2
    code, out, _ = run(capsys, "solve", str(SYSTEMS / "with_solutions.phc"), "--export-solutions", "phc",
                       "--no-progress")
    assert code == 0 and "2 listed in the file, 2 of them found here" in out and "THE SOLUTIONS :" in out


def test_standard_phcpack_files_are_accepted(capsys):
    """Claim: a '1 2' header (one equation, two variables) is solved as a witness set with a line saying so;
    a file with a solutions section is read."""
    code, out, err = run(capsys, "solve", str(SYSTEMS / "curve.phc"), "--no-progress")
    assert code == 0, err
    assert "1 equation in 2 variables" in out and "dimension 1: degree 2" in out
