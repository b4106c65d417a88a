"""Claims checked: the phcpy door is silent, orders coordinates by name, and reports parse errors."""
from __future__ import annotations

import numpy as np
import pytest

from theory.homotopy import phcpack as phc
from landscape_core.errors import InvalidSpecError


def test_import_and_blackbox_print_nothing_to_stdout(capfd):
    phc.load()
    sols = phc.blackbox_solve(["x^2 - 4;", "x + y - 1;"])
    out = capfd.readouterr().out
    assert out == "" and len(sols) == 2


def test_coordinates_follow_our_variable_order_not_phcpacks():
    # PHCpack's symbol table would be (y, x): y appears first
    names = ["x", "y"]
    ends = phc.track(["y - x^2;", "x + y - 2;"], ["x^2 - 1;", "y - 1;"], [[1, 1], [-1, 1]], names,
                     gamma=np.exp(0.7j))
    got = sorted((round(e.x[0].real, 9), round(e.x[1].real, 9)) for e in ends)
    assert got == [(-2.0, 4.0), (1.0, 1.0)]


def test_double_double_tracking_actually_tracks():
    ends = phc.track(["y - x^2;", "x + y - 2;"], ["x^2 - 1;", "y - 1;"], [[1, 1], [-1, 1]], ["x", "y"],
                     gamma=np.exp(0.7j), precision="dd")
    assert all(abs(e.t.real - 1) < 1e-12 for e in ends)
    got = sorted(round(e.x[0].real, 12) for e in ends)
    assert got == [-2.0, 1.0]


def test_parse_error_names_the_polynomial():
    with pytest.raises(InvalidSpecError, match="polynomial 2"):
        phc.store(["x - 1;", "8450*x*y^2/1369 - 1;"])


def test_parse_solution_round_trip():
    text = phc.make_solution(["a0", "b1"], [1 + 2j, -3.5])
    e = phc.parse_solution(text, ["b1", "a0"])
    assert e.x[0] == -3.5 and e.x[1] == 1 + 2j and e.rco == 1.0


def test_mixed_volume_of_cyclic5_is_70():
    x = [f"x{i}" for i in range(5)]
    cyclic5 = [" + ".join("*".join(x[(i + j) % 5] for j in range(k)) for i in range(5)) + ";" for k in range(1, 5)]
    assert phc.mixed_volume(cyclic5 + ["x0*x1*x2*x3*x4 - 1;"]) == (70, 70)


def test_mixed_volumes_are_seeded_and_exact_for_one_variable():
    """Claim: the BKK counts are the same for the same seed, and for one polynomial in one variable they are the
    exponent span (roots in C*) and the degree (roots in C): x^3 − 3x + 2 has 3 and 3 under every seed (PHCpack's
    random lifting gave 4 under a third of its seeds), x^5 + x^2 has 3 and 5."""
    assert {phc.mixed_volume(["x^3 - 3*x + 2;"], seed=s) for s in range(8)} == {(3, 3)}
    assert phc.mixed_volume(["x^5 + x^2;"]) == (3, 5)
    assert phc.mixed_volume(["x^2 + y^2 - 4;", "x*y - 1;"], seed=7) == phc.mixed_volume(["x^2 + y^2 - 4;", "x*y - 1;"], seed=7) == (4, 4)
