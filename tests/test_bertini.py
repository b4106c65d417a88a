"""Claims checked: Bertini 2's total-degree homotopy, read through the toolkit's SolveResult, finds
cyclic-5's 70 solutions (the stable mixed volume: complete) and Katsura-3's 8, every path accounted
for and the solutions Krawczyk-certified; the input writer never emits the `e+00` exponents Bertini
rejects; `solve --engine bertini` prints the same report. Skipped when bertini2 is not installed."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from theory.homotopy import bertini
from theory.polynomials.catalog import cyclic, katsura
from theory.polynomials.system import from_strings

pytestmark = pytest.mark.skipif(not bertini.available(), reason="bertini2 is not installed (pip install bertini2)")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_input_has_positional_numbers_and_bertinis_imaginary_unit():
    from theory.polynomials.system import System
    system = System(("x^2 + (+1.5e+00)*y - 2.5e-03;", "x*y - i*2.0E+01;"), ("x", "y"), None, None, "t")
    text = bertini.bertini_input(system)
    assert "e+" not in text.lower() and "e-" not in text.lower()
    assert "(+1.5)*y" in text and "0.0025" in text and "I*20" in text
    assert text.splitlines()[0] == "variable_group x, y;"


def test_cyclic5_is_complete_and_certified():
    res = bertini.solve_bertini(from_strings(cyclic(5), label="cyclic-5"), seed=0)
    assert res.engine == "bertini2" and res.n_paths == 120 == sum(res.outcomes.values())
    assert res.n_solutions == 70 == res.stable_mixed_volume and res.n_real == 10
    assert res.n_certified == 70 and res.completeness.startswith("complete")
    assert res.outcomes["at_infinity"] == 50 and res.outcomes["failed"] == 0  # Bertini's security bound


def test_katsura3_has_eight_regular_solutions():
    res = bertini.solve_bertini(from_strings(katsura(3), label="katsura-3"), seed=1)
    assert res.n_solutions == 8 and res.outcomes["regular"] == 8


def test_solve_engine_bertini_from_the_command_line():
    done = subprocess.run([sys.executable, "cli.py", "solve", "examples/cyclic5.phc", "--engine", "bertini",
                           "--no-progress", "--show", "0"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "bertini2 total degree" in done.stdout and "70 regular, 10 real" in done.stdout
    assert "bertini2's own, seed 0" in done.stdout  # Bertini keeps its γ to itself: no placeholder number
    bad = subprocess.run([sys.executable, "cli.py", "solve", "examples/cyclic5.phc", "--engine", "bertini",
                          "--monodromy"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
