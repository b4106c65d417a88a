"""Claims about the rings the forward pass runs over."""
from fractions import Fraction

import numpy as np
from hypothesis import given, settings, strategies as st

from tests.strategies import specs
from theory.network.data import random_data
from theory.network.rings import PRIME, Degree, Jet, ModPoly, fraction_mod, nested_equations, nested_formula_length


@given(st.lists(st.integers(-50, 50), min_size=1, max_size=6), st.lists(st.integers(-50, 50), min_size=1, max_size=6),
       st.integers(-20, 20))
@settings(max_examples=60, deadline=None)
def test_modpoly_arithmetic_is_a_ring_homomorphism_of_evaluation(a, b, t):
    """Evaluating at t commutes with + and * (mod p)."""
    A, B = ModPoly(a), ModPoly(b)
    ev = lambda P: sum(c * t**i for i, c in enumerate(P.c)) % PRIME  # noqa: E731
    ref = lambda coeffs: sum(c * t**i for i, c in enumerate(coeffs)) % PRIME  # noqa: E731
    assert ev(A + B) == (ref(a) + ref(b)) % PRIME
    assert ev(A * B) == ref(a) * ref(b) % PRIME


def test_fraction_mod_inverts_denominators():
    assert fraction_mod(Fraction(1, 3)) * 3 % PRIME == 1
    assert fraction_mod(Fraction(-2, 5)) * 5 % PRIME == PRIME - 2


def test_degree_ring_adds_under_products_and_maxes_under_sums():
    x, y = Degree.variable(0, 2), Degree.variable(1, 2)
    p = x * x * y + y + 1
    assert (p.total, p.groups) == (3, (2, 1))
    assert (x * 0).total is None


def test_jet_second_derivatives_of_a_cubic():
    w = np.array([0.3, -1.2])
    a, b = Jet.variables(w, second_order=True)
    f = a * a * b + b * 2.0  # f = a²b + 2b
    assert np.allclose(f.grad[0], [2 * w[0] * w[1], w[0] ** 2 + 2])
    assert np.allclose(f.hess[0], [[2 * w[1], 2 * w[0]], [2 * w[0], 0]])


@given(specs(max_params=14, max_degree=3, max_depth=3), st.integers(1, 4), st.booleans(), st.integers(0, 1000))
@settings(max_examples=25, deadline=None)
def test_nested_length_bound_is_never_below_the_text(spec, n_points, exact, seed):
    """The propagated length bound that guards the nested export is an upper bound on its size."""
    data = random_data(spec, n_points, seed)
    text = nested_equations(spec, data, exact)
    assert sum(map(len, text)) <= nested_formula_length(spec, data, exact)
