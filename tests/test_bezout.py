"""Claims about Bezout-type bounds and the generic Jacobian rank (Theory II §3.2–3.3)."""
import itertools
import math
from math import comb

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from theory.network.activations import linear, parse, relu_legendre
from theory.bounds.bezout import bezout_number, bezout_report, jacobian_rank, multihomogeneous_bezout
from theory.bounds.rank import rank_mod_p
from theory.network.spec import NetworkSpec
from theory.network.data import random_data
from theory.network.equations import ZeroErrorSystem


def test_card_example_numbers():
    """3 layers, ℓ = 4, N = 8, K = 15: exact degree 84, Bezout 84^8, paper 4^24, rank 8, dimension 7."""
    spec = NetworkSpec.fully_connected(2, 2, 3, relu_legendre(4))
    r = bezout_report(spec, 8, seed=0)
    assert (r.n_params, r.n_equations, r.degree, r.paper_degree) == (15, 8, 84, 64)
    assert r.degrees_exact
    assert r.bezout == 84**8 and r.paper_bezout == 4**24
    assert r.real_estimate == math.isqrt(84**8)
    assert r.jacobian.rank == 8 and r.jacobian.modular_rank == 8
    assert r.expected_dimension == r.predicted_dimension == 7 and not r.dependent
    assert r.witness_bound <= r.bezout


def test_multihomogeneous_with_one_group_is_the_bezout_number():
    assert multihomogeneous_bezout([(3,), (4,), (5,)], (3,)) == bezout_number([3, 4, 5])


def test_bilinear_system_count_is_a_binomial():
    """n bilinear equations in (x ∈ C^a, y ∈ C^b), a + b = n: the 2-homogeneous count is C(n, a)."""
    for a, b in [(1, 1), (2, 3), (3, 3)]:
        n = a + b
        assert multihomogeneous_bezout([(1, 1)] * n, (a, b)) == comb(n, a)
        assert bezout_number([2] * n) == 2**n >= comb(n, a)


@given(st.lists(st.integers(1, 3), min_size=1, max_size=3), st.data())
@settings(max_examples=50, deadline=None)
def test_multihomogeneous_never_exceeds_bezout_when_multidegrees_sum_to_the_degree(sizes, data):
    """Π_i Σ_j d_ij bounds every coefficient of Π_i (Σ_j d_ij α_j), the m-Bezout number among them."""
    n = sum(sizes)
    rows = [tuple(data.draw(st.integers(0, 4)) for _ in sizes) for _ in range(n)]
    mhom = multihomogeneous_bezout(rows, sizes)
    assert mhom <= bezout_number([sum(r) for r in rows])


def test_multihomogeneous_matches_brute_force_expansion():
    rows, sizes = [(2, 1), (1, 3), (2, 2)], (2, 1)
    import sympy

    a, b = sympy.symbols("a b")
    prod = sympy.expand(math.prod((r[0] * a + r[1] * b) for r in rows))
    assert multihomogeneous_bezout(rows, sizes) == sympy.Poly(prod, a, b).coeff_monomial(a**2 * b)


def test_rank_mod_p_of_known_matrices():
    assert rank_mod_p([[1, 2], [2, 4]]) == 1
    assert rank_mod_p([[1, 0, 0], [0, 1, 0], [0, 0, 1]]) == 3
    assert rank_mod_p([[0, 0], [0, 0]]) == 0


def test_generic_jacobian_is_full_rank_for_polynomial_networks():
    spec = NetworkSpec.fully_connected(2, 3, 2, parse("z + z^2/4"))
    system = ZeroErrorSystem(spec, random_data(spec, 6, 0))
    jac = jacobian_rank(system, seed=1)
    assert jac.rank == jac.modular_rank == 6
    assert jac.gap > 1e6


@pytest.mark.parametrize("n0,width,layers,points", [(2, 3, 3, 8), (3, 2, 2, 10), (1, 4, 2, 5)])
def test_deep_linear_jacobian_rank_drops_to_the_affine_map_dimension(n0, width, layers, points):
    """A linear network computes an affine map x ↦ Mx + c: its N outputs span at most n_0 + 1 directions."""
    spec = NetworkSpec.fully_connected(n0, width, layers, linear())
    r = bezout_report(spec, points, seed=0)
    expected = min(n0 + 1, points, spec.n_params)
    assert r.jacobian.rank == r.jacobian.modular_rank == expected
    assert r.dependent == (expected < points)
    assert r.predicted_dimension == spec.n_params - expected


def test_quadratic_without_bias_has_a_rank_deficiency():
    """P(z) = z² and no bias: f(x) = Σ_j a_j (w_j·x)² depends on w only through a quadratic form in x,
    whose dimension n_0(n_0+1)/2 caps the rank."""
    spec = NetworkSpec((2, 4, 1), parse("z^2"), bias=False, output_activation=False)
    r = bezout_report(spec, 8, seed=0)
    assert r.jacobian.rank == 3 and r.dependent


def test_report_serialises_to_json():
    import json

    from landscape_core.serialize import to_jsonable

    spec = NetworkSpec.tree(2, parse("z^2 + z"), units=1, output_activation=False)
    doc = json.loads(json.dumps(to_jsonable(bezout_report(spec, 3, seed=0))))
    assert doc["n_params"] == spec.n_params and doc["jacobian"]["rank"] == 3
