"""Claims checked: known root counts are reproduced, every path is accounted for, bounds hold, the
count is certified complete by BKK when reached, and a second γ reproduces the solution set."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory.polynomials.catalog import cyclic, katsura
from landscape_core.errors import InvalidSpecError
from theory.polynomials.system import from_strings
from theory.homotopy.solve import gamma_check, solve, solve_zero_error
from theory.homotopy.tracker import TrackConfig


def test_cyclic5_has_70_isolated_solutions():
    s = from_strings(cyclic(5), label="cyclic-5")
    r = solve(s, start="total_degree", options=TrackConfig(seed=1))
    assert r.bezout == 120 and r.n_paths == 120
    assert r.mixed_volume == 70
    assert r.n_solutions == 70
    assert sum(r.outcomes.values()) == r.n_paths
    assert r.outcomes["failed"] == 0 and r.n_duplicates == 0
    # the 10 real cyclic-5 roots: permutations/reversals of the golden-ratio solutions
    assert r.n_real == 10
    for x in r.solution_array():
        assert np.max(np.abs(s.evaluate(x))) < 1e-10
    assert r.bkk_complete and r.completeness.startswith("complete: 70 regular solutions = stable mixed volume 70")


def test_katsura6_has_64_regular_solutions_equal_to_bezout():
    s = from_strings(katsura(6), label="katsura-6")
    r = solve(s, options=TrackConfig(seed=2))
    assert r.bezout == 64
    assert r.n_solutions == 64 and r.outcomes["regular"] == 64
    assert r.outcomes["at_infinity"] == r.outcomes["failed"] == r.outcomes["singular"] == 0


def test_count_is_complete_by_bkk_even_when_diverging_paths_fail():
    """Bernstein/Li–Wang: isolated solutions in C^n ≤ stable mixed volume, so reaching it proves completeness.

    The critical system of x ↦ b (a x)² with a generic L2 penalty has Bezout number 121 but 21
    isolated solutions; its 100 other paths head to points at infinity of multiplicity ~50 that
    PHCpack's end game cannot reach in double precision, so they end as failed paths.
    """
    from theory.network.activations import parse
    from theory.counting.critical_points import critical_system, generic_penalty
    from theory.network.data import random_data
    from theory.network.spec import NetworkSpec
    from theory.network.equations import CriticalSystem

    spec = NetworkSpec.fully_connected(1, 1, 2, parse("z^2"), bias=False)
    crit = CriticalSystem(spec, random_data(spec, 2, 0), penalty=generic_penalty(2, 0))
    r = solve(critical_system(crit), start="total_degree", options=TrackConfig(seed=0, retry=None, projective=False))
    assert r.n_paths == 121 and r.outcomes["failed"] > 0
    assert r.n_solutions == r.stable_mixed_volume == 21
    assert r.bkk_complete and "the other 100 paths end at infinity" in r.completeness
    # the polyhedral start misses w = 0 (a zero coordinate) and says so
    p = solve(critical_system(crit), start="polyhedral", options=TrackConfig(seed=0))
    assert p.n_solutions == 21 and p.bkk_complete and p.n_paths == 21  # the Li–Wang start reaches w = 0 too


def test_solutions_never_exceed_any_root_count_bound():
    s = from_strings(["x^2 + y^2 - 4;", "x*y - 1;", "z^3 - x;"])
    r = solve(s, start="multihomogeneous", groups=[[0], [1], [2]])
    assert r.n_solutions <= min(r.bezout, r.m_bezout, r.stable_mixed_volume)
    assert r.n_solutions == 12  # 4 (x, y) intersections times 3 cube roots


def test_same_seed_same_numbers():
    s = from_strings(["x^3 - 2*y;", "y^2 - x - 1;"])
    a = solve(s, options=TrackConfig(seed=5))
    b = solve(s, options=TrackConfig(seed=5))
    assert a.gamma == b.gamma and np.allclose(a.solution_array(), b.solution_array())


def test_non_square_system_and_unknown_start_raise_named_errors():
    with pytest.raises(InvalidSpecError):
        solve(from_strings(["x + y - 1;"]))
    with pytest.raises(InvalidSpecError, match="start system must be one of"):
        solve(from_strings(["x - 1;"]), start="random")


def test_polyhedral_start_tracks_mixed_volume_paths_and_finds_torus_solutions():
    s = from_strings(cyclic(5))
    r = solve(s, start="polyhedral", options=TrackConfig(seed=4))
    assert r.n_paths == r.mixed_volume == 70
    assert r.n_solutions == 70 and r.outcomes["failed"] == 0
    td = solve(s, options=TrackConfig(seed=4))
    A, B = r.solution_array(), td.solution_array()
    assert all(np.min(np.max(np.abs(B - a), axis=1)) < 1e-8 for a in A)


@settings(max_examples=8, deadline=None)
@given(st.lists(st.tuples(st.integers(-5, 5), st.integers(-5, 5)).filter(lambda ab: ab[0] != ab[1]),
                min_size=1, max_size=3), st.integers(0, 1000))
def test_product_systems_have_exactly_their_known_roots(roots, seed):
    # (x_k − a_k)(x_k − b_k) = 0: 2^n regular real solutions, whatever γ
    names = [f"x{k}" for k in range(len(roots))]
    polys = [f"({n} - ({a}))*({n} - ({b}));" for n, (a, b) in zip(names, roots)]
    r = solve(from_strings(polys, names=names), options=TrackConfig(seed=seed))
    assert r.n_solutions == 2 ** len(roots) == r.n_real
    got = sorted(tuple(round(z.real, 9) for z in s) for s in r.solutions)
    want = sorted(tuple(float(v) for v in p) for p in itertools.product(*roots))
    assert got == want


def test_second_gamma_reproduces_the_katsura6_solution_set():
    s = from_strings(katsura(6))
    first = solve(s, options=TrackConfig(seed=11))
    g = gamma_check(s, first, seed=12)
    assert g.agree and g.union == 64 and g.counts == (64, 64)


def test_solve_with_gamma_seed_records_the_check_and_json_carries_it():
    s = from_strings(["x^2 - 2;", "x*y - 1;"])
    r = solve(s, options=TrackConfig(seed=1), gamma_seed=2)
    assert r.gamma_check is not None and r.gamma_check.seeds == (1, 2) and r.gamma_check.agree
    d = r.to_dict()
    assert d["gamma_check"]["union"] == 2 and "paths" not in d and "known_found" not in d
    assert len(r.to_dict(with_paths=True)["paths"]) == r.n_paths


def test_known_solution_is_reported_found_only_when_among_the_solutions():
    s = from_strings(["x^2 - 4;", "y - x;"])
    assert solve(s, known=[2.0, 2.0]).known_found is True
    assert solve(s, known=[2.0, -2.0]).known_found is False


def test_planted_zero_error_solution_is_found_and_non_square_instances_are_refused():
    from theory.network.activations import parse
    from theory.network.data import planted_data
    from theory.network.spec import NetworkSpec

    spec = NetworkSpec.fully_connected(1, 1, 2, parse("z + z^2/4 + z^3/8"), output_activation=False)
    data, w_star = planted_data(spec, 4, 0)
    r = solve_zero_error(spec, data, known=w_star, start="multihomogeneous")
    assert r.known_found is True and r.n_solutions >= 1
    with pytest.raises(InvalidSpecError, match="square zero-error system"):
        solve_zero_error(spec, planted_data(spec, 3, 0)[0])


@pytest.mark.slow
@pytest.mark.parametrize("name,polys,count", [("katsura-6", katsura(6), 64), ("katsura-7", katsura(7), 128),
                                              ("cyclic-6", cyclic(6), 156)])
def test_default_route_finds_the_full_known_counts(name, polys, count):
    r = solve(from_strings(polys, label=name), options=TrackConfig(seed=0))
    assert r.n_solutions == count and r.n_certified == count


def test_workers_do_not_change_the_endpoints():
    s = from_strings(katsura(5))
    one = solve(s, start="total_degree", options=TrackConfig(seed=3, workers=1), certify=False)
    two = solve(s, start="total_degree", options=TrackConfig(seed=3, workers=2, batch=4), certify=False)
    assert [p.outcome for p in one.paths] == [p.outcome for p in two.paths]
    assert np.allclose(one.solution_array(), two.solution_array())


# ----------------------------------------------------------------------------------------------
# every solution class, positive-dimensional parts, non-square systems (examples/systems)

SYSTEMS = __import__("pathlib").Path(__file__).resolve().parent.parent / "examples" / "systems"


def _solve_file(name, **kw):
    from theory.homotopy.solve import solve_system
    from theory.polynomials.files import load_system

    return solve_system(load_system(SYSTEMS / name).system, **kw)


def test_multiple_roots_are_solutions_with_their_multiplicity_and_can_prove_completeness():
    """(x − 1)²(x + 2): x = −2 regular, x = 1 of multiplicity 2 (the 'regular' endpoint a path may report there
    joins it); 1 + 2 reaches the stable mixed volume 3, so the count is proved complete. Griewank–Osborne: one
    root of multiplicity 3 = BKK 3."""
    r = _solve_file("double_root.phc")
    assert r.n_solutions == 1 and r.solutions[0][0] == pytest.approx(-2)
    assert r.multiplicities == (2,) and abs(r.singular_points[0][0] - 1) < 1e-6 and r.singular_real == (True,)
    assert r.bkk_complete and "multiplicity 2" in r.completeness
    g = _solve_file("griewank_osborne.phc")
    assert g.n_solutions == 0 and g.multiplicities == (3,) and g.bkk_complete and not g.components
    assert np.max(np.abs(g.singular_points[0])) < 1e-3


def test_points_on_a_curve_are_a_component_not_singular_points():
    """The circle system has no isolated solution: every path ends on the circle, reported as one component of
    dimension 1 whose witness set has degree 2 (never 'singular points of multiplicity 1, 1')."""
    r = _solve_file("circle.phc")
    assert r.n_solutions == 0 and r.multiplicities == ()
    assert [(c.dimension, c.degree, c.endpoints) for c in r.components] == [(1, 2, r.n_paths)]
    assert "multiplicity" not in r.completeness and "dimension 1" in r.completeness


def test_sommese_verschelde_wampler_example_is_decomposed_by_dimension():
    """SVW 2001: the sphere (dim 2, degree 2), the twisted cubic and three lines (dim 1, degree 3 + 3 = 6) and the
    isolated point (½, ½, ½); every path is accounted for."""
    r = _solve_file("svw.phc")
    assert {c.dimension: c.degree for c in r.components} == {2: 2, 1: 6}
    assert r.n_solutions == 1 and np.allclose(r.solutions[0], [0.5, 0.5, 0.5])
    assert sum(r.outcomes.values()) == r.n_paths == sum(c.endpoints for c in r.components) + 1 + r.outcomes["failed"]


def test_under_determined_system_is_a_witness_set_of_its_top_dimension():
    """One equation in two variables: no isolated solutions; a random line meets the conic in 2 witness points."""
    r = _solve_file("curve.phc")
    assert r.witness_dimension == 1 and r.n_equations == 1 and "no isolated solutions" in r.what
    assert [(c.dimension, c.degree) for c in r.components] == [(1, 2)] and r.n_solutions == 2 and r.bkk_complete


def test_over_determined_system_keeps_only_common_solutions():
    """x² + y² = 5, x = 2y, xy = 2: the randomized square system has 4 regular endpoints, 2 of them solutions."""
    r = _solve_file("overdetermined.phc")
    assert sorted(round(x[0].real, 9) for x in r.solutions) == [-2.0, 2.0]
    assert r.n_spurious == 2 and r.bkk_complete and r.n_certified is None
