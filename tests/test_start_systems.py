"""Claims checked: each start system has exactly its root count of solutions, every start point solves
it, budgets are refused before tracking, and the m-homogeneous count is the coefficient it is defined as."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory.homotopy import start_systems as S
from theory.bounds.bezout import bezout_number, multihomogeneous_bezout
from theory.polynomials.catalog import cyclic
from landscape_core.errors import PathBudgetExceeded
from theory.polynomials.system import from_strings
from theory.homotopy.solve import solve
from theory.homotopy.tracker import TrackConfig


def test_multihomogeneous_start_has_m_bezout_many_points_and_finds_all_solutions():
    # x*y − 1 has degrees (1, 1) in ({x}, {y}), x^2*y + y − 3 has (2, 1): m-Bezout 1·1 + 1·2 = 3 < 9
    s = from_strings(["x*y - 1;", "x^2*y + y - 3;"])
    st_ = S.multihomogeneous_start(s, [[0], [1]], seed=0)
    assert st_.count == 3 == len(st_.points)
    assert st_.degree_matrix == ((1, 1), (2, 1))
    for p in st_.points:  # every start point solves the start system (independent evaluation)
        g = from_strings(list(st_.polys), names=list(s.names))
        assert np.max(np.abs(g.evaluate(p))) < 1e-9
    r = solve(s, start="multihomogeneous", groups=[[0], [1]])
    # y = 1/x: x − 3x^2... x^2/x + 1/x = 3 → x^2 − 3x + 1 = 0: two solutions
    assert r.m_bezout == 3 and r.n_solutions == 2
    xs = sorted(sol[0].real for sol in r.solutions)
    assert xs == pytest.approx(sorted(np.roots([1, -3, 1]).real), abs=1e-10)


def test_total_degree_start_points_are_the_bezout_many_roots_of_unity():
    s = from_strings(["x^2 + y - 1;", "x*y^2 - 2;"])
    st_ = S.total_degree_start(s)
    assert st_.count == 2 * 3 == len(st_.points) == len({tuple(np.round(p, 12)) for p in st_.points})
    g = from_strings(list(st_.polys), names=list(s.names))
    assert max(np.max(np.abs(g.evaluate(p))) for p in st_.points) < 1e-12


def test_projective_start_points_lie_in_the_chart_and_solve_the_start_system():
    s = from_strings(["x^2 + y - 1;", "x*y - 2;"])
    st_, target, a = S.projective_total_degree_start(s, seed=3)
    assert st_.count == 4 and len(target) == 3  # two homogenized equations and the chart
    g = from_strings(list(st_.polys), names=["xhom", "x", "y"])
    for X in st_.points:
        assert abs(X @ a - 1) < 1e-12
        assert np.max(np.abs(g.evaluate(X))) < 1e-12


def test_budget_refusal_names_bound_and_budget():
    with pytest.raises(PathBudgetExceeded, match="120 start paths.*budget of 100"):
        solve(from_strings(cyclic(5)), start="total_degree", options=TrackConfig(max_paths=100))


def test_layer_partition_groups_variables_by_letter():
    assert S.layer_partition(["a0", "a1", "b0", "c0", "c1"]) == [[0, 1], [2], [3, 4]]


def _coefficient_by_expansion(D: list[list[int]], sizes: list[int]) -> int:
    """Return the coefficient of ∏_j α_j^{k_j} in ∏_i Σ_j d_ij α_j by expanding the product with sympy."""
    import sympy

    alpha = sympy.symbols(f"a0:{len(sizes)}")
    product = sympy.Poly(math.prod((sum(d * a for d, a in zip(row, alpha)) for row in D), start=sympy.Integer(1)),
                         *alpha)
    return int(product.coeff_monomial(math.prod((a**k for a, k in zip(alpha, sizes)), start=sympy.Integer(1))))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 3), min_size=1, max_size=3).flatmap(
    lambda sizes: st.tuples(st.just(sizes), st.lists(st.lists(st.integers(0, 4), min_size=len(sizes),
                                                              max_size=len(sizes)),
                                                     min_size=sum(sizes), max_size=sum(sizes)))))
def test_m_bezout_count_is_the_coefficient_of_the_product_and_at_most_total_degree(case):
    sizes, D = case
    ours = multihomogeneous_bezout(np.array(D), sizes)
    assert ours == _coefficient_by_expansion(D, sizes)
    assert ours <= bezout_number([sum(row) for row in D])
