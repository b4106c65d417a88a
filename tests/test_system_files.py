"""Claims checked (theory.polynomials.files): standard PHCpack files are read as PHCpack writes them ('n m' headers,
solution sections), variables come in declared or natural sorted order, and a system written as PHCpack, Macaulay2
or Bertini input reads back as the same polynomials — and is accepted by Macaulay2 and Bertini themselves, which
count the same solutions."""
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from landscape_core.errors import InputFileError, InvalidSpecError
from theory.polynomials.files import load_system, natural_key, read_system_text, solutions_text, system_text

SYSTEMS = Path(__file__).resolve().parent.parent / "examples" / "systems"


def _same_polynomials(a, b, seed=0):
    """The two systems evaluate alike at random complex points (up to float rounding of the coefficients)."""
    rng = np.random.default_rng(seed)
    assert a.names == b.names and a.n_equations == b.n_equations
    for _ in range(3):
        x = rng.normal(size=a.n_vars) + 1j * rng.normal(size=a.n_vars)
        assert np.allclose(a.evaluate(x), b.evaluate(x), rtol=1e-12, atol=1e-12)


def test_natural_order_puts_x2_before_x10():
    assert sorted(["x10", "x2", "y", "x1"], key=natural_key) == ["x1", "x2", "x10", "y"]


def test_variables_are_sorted_not_in_order_of_first_appearance():
    sf = load_system(SYSTEMS / "three_variables.phc")  # the text names y, then x, then z
    assert sf.system.names == ("x", "y", "z") and sf.declared == "sorted"
    declared = load_system(SYSTEMS / "three_variables.phc", variables=["z", "y", "x"])
    assert declared.system.names == ("z", "y", "x") and declared.declared == "declared"
    with pytest.raises(InputFileError, match="not among"):
        load_system(SYSTEMS / "three_variables.phc", variables=["x", "y"])


def test_a_non_square_header_is_read_as_written():
    """'1 2' is one polynomial in two variables (PHCpack's own header for non-square systems)."""
    sf = load_system(SYSTEMS / "curve.phc")
    assert sf.system.n_equations == 1 and sf.system.n_vars == 2
    with pytest.raises(InvalidSpecError, match="announces 3 variables"):
        read_system_text("1 3\n x^2 + y^2 - 1;\n")
    with pytest.raises(InvalidSpecError, match="'1 2'"):
        read_system_text("1\n x^2 + y^2 - 1;\n")


def test_a_file_carrying_its_solutions_is_read_with_them():
    sf = load_system(SYSTEMS / "with_solutions.phc")
    assert sf.system.n_equations == 2
    assert [tuple(round(v.real, 12) for v in x) for x in sf.listed] == [(2.0, 1.0), (-2.0, -1.0)]


def test_other_text_after_the_polynomials_is_an_error_naming_it():
    with pytest.raises(InvalidSpecError, match="more text follows"):
        read_system_text("1\n x - 1;\n y - 2;\n")


@pytest.mark.parametrize("name", ["svw.phc", "circle.phc", "curve.phc", "three_variables.phc", "griewank_osborne.phc"])
def test_round_trip_through_every_format_keeps_the_polynomials(name):
    """phc → m2 → bertini → phc gives the same polynomials in the same variable order (exact rationals between)."""
    sf = load_system(SYSTEMS / name)
    system = sf.system
    for fmt in ("m2", "bertini", "phc"):
        back = read_system_text(system_text(system, fmt), fmt=fmt).system
        _same_polynomials(sf.system, back)
        system = back
    assert "e+" not in system_text(sf.system, "bertini")  # Bertini's parser rejects exponent notation


@pytest.mark.skipif(shutil.which("M2") is None, reason="needs Debian's macaulay2")
def test_macaulay2_reads_the_export_and_finds_the_same_dimension_and_degree(tmp_path):
    """Independent check: Macaulay2 computes dim and degree of the exported ideal: the circle system is a curve of
    degree 2, the Griewank–Osborne system a point of multiplicity 3."""
    for name, dim, degree in (("circle.phc", 1, 2), ("griewank_osborne.phc", 0, 3)):
        script = tmp_path / "check.m2"
        script.write_text(system_text(load_system(SYSTEMS / name).system, "m2") + "print(dim I); print(degree I);\n")
        out = subprocess.run(["M2", "--script", str(script)], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert out.stdout.split() == [str(dim), str(degree)], (name, out.stdout)


def test_bertini_parses_the_export_and_counts_the_same_solutions(tmp_path):
    """Independent check: Bertini 2 parses the exported input and finds the 4 solutions `solve` finds."""
    bertini = pytest.importorskip("bertini")
    from theory.homotopy.solve import solve_system

    sf = load_system(SYSTEMS / "three_variables.phc")
    text = system_text(sf.system, "bertini")
    body = text.split("INPUT", 1)[1].rsplit("END;", 1)[0]
    found = bertini.solve(bertini.parse.system(body), seed=1, mptype="double", show_progress=False,
                          directory=str(tmp_path))
    ours = solve_system(sf.system)
    assert ours.n_solutions == 4 and len(found.solutions) == 4
    assert all(ours.contains(np.asarray(x)) for x in found.solutions)  # the same points, variables in one order


def test_solutions_are_written_in_the_three_formats():
    """JSON carries every class; PHCpack's solution list reads back to the same points; Bertini's layout is a
    count, then one coordinate per line."""
    import json

    from theory.homotopy.solve import solve_system

    sf = load_system(SYSTEMS / "double_root.phc")
    r = solve_system(sf.system)
    doc = json.loads(solutions_text(r, "json"))
    assert sorted((s["class"], s["multiplicity"]) for s in doc["solutions"]) == [("regular", 1), ("singular", 2)]
    # the diagnostics written are the paths' measured ones, never placeholders
    measured = {p.residual for p in r.paths if p.outcome in ("regular", "singular")}
    assert all(s["residual"] in measured for s in doc["solutions"])
    singular = next(s for s in doc["solutions"] if s["class"] == "singular")
    assert singular["inverse_condition"] == 0.0 and singular["newton_step"] > 0
    phc = solutions_text(r, "phc")
    back = read_system_text("1\n (x - 1)^2*(x + 2);\n" + phc).listed
    assert sorted(round(x[0].real, 6) for x in back) == [-2.0, 1.0]
    lines = solutions_text(r, "bertini").splitlines()
    assert lines[0] == "2" and len([ln for ln in lines if ln.strip()]) == 3


def test_a_file_that_cannot_be_read_decoded_or_parsed_is_named(tmp_path):
    missing = tmp_path / "missing.phc"
    with pytest.raises(InputFileError, match=f"cannot read {missing}"):
        load_system(missing)
    with pytest.raises(InputFileError, match="is a directory"):
        load_system(tmp_path)
    binary = tmp_path / "binary.phc"
    binary.write_bytes(b"2\n x^2 \xff\xfe;\n")
    with pytest.raises(InputFileError, match="binary.phc as UTF-8"):
        load_system(binary)
    bad = tmp_path / "bad.phc"
    bad.write_text("2\n x^2 + y/;\n x*y - 1;\n")
    with pytest.raises(InputFileError, match="bad.phc: PHCpack cannot parse polynomial 1"):
        load_system(bad)
    with pytest.raises(InvalidSpecError, match="announces 3"):
        read_system_text("3\n x^2 - 1;\n y - x;\n")
    good = tmp_path / "good.phc"
    good.write_text("2\n x^2 + y^2 - 4;\n x*y - 1;\n")
    assert load_system(good).system.label == str(good)
