"""Claims about the network spec: one description, realisations that compute the same function."""
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tests.strategies import specs
from theory.network.activations import linear, parse, relu_legendre
from landscape_core.errors import InvalidSpecError
from theory.network.spec import NetworkSpec, forward, forward_point, init_weights


def test_card_example_has_fifteen_weights_in_three_layers():
    spec = NetworkSpec.fully_connected(2, 2, 3, relu_legendre(4))
    assert spec.n_params == 15
    assert [g.size for g in spec.groups] == [6, 6, 3]
    assert spec.variable_names()[:2] == ["a0", "a1"] and spec.variable_names()[-1] == "c2"


def test_variable_names_avoid_phcpack_reserved_letters():
    spec = NetworkSpec((1,) * 12, linear())
    prefixes = {name.rstrip("0123456789") for name in spec.variable_names()}
    assert not prefixes & {"e", "i", "E", "I"}


def test_tree_of_figure_2_counts_weights_per_node():
    """Theory II Fig. 2: 3 nodes × Q units × (2 weights + bias + outer coefficient)."""
    spec = NetworkSpec.tree(2, parse("z^2"), units=2)
    assert spec.n_params == 3 * 2 * 4
    assert NetworkSpec.tree(2, parse("z^2"), units=2, shared=True).n_params == 2 * 2 * 4


@given(specs(), st.integers(0, 2**16))
@settings(max_examples=40, deadline=None)
def test_straight_line_program_equals_vectorised_forward(spec, seed):
    rng = np.random.default_rng(seed)
    w = init_weights(spec, rng)
    X = rng.normal(size=(4, spec.input_dim))
    columns = forward_point(spec, list(w), [X[:, j] for j in range(spec.input_dim)])
    ref = forward(spec, w, X)
    assert np.allclose(np.stack([np.broadcast_to(c, (4,)) for c in columns], axis=1), ref, rtol=1e-12, atol=1e-12)


@given(specs(max_params=20), st.integers(0, 2**16))
@settings(max_examples=30, deadline=None)
def test_exact_rational_forward_equals_float_forward(spec, seed):
    rng = np.random.default_rng(seed)
    w = [Fraction(int(v), 8) for v in rng.integers(-8, 9, size=spec.n_params)]
    x = [Fraction(int(v), 4) for v in rng.integers(-4, 5, size=spec.input_dim)]
    exact = forward_point(spec, w, x, coerce=lambda c: c)
    approx = forward(spec, np.array([float(v) for v in w]), np.array([[float(v) for v in x]]))[0]
    assert np.allclose([float(v) for v in exact], approx, rtol=1e-9, atol=1e-9)


def test_deep_linear_network_is_the_product_of_its_matrices():
    spec = NetworkSpec((3, 4, 2, 2), linear(), bias=False)
    w = init_weights(spec, 0)
    W = [layer["W"] for layer in spec.unflatten(w)]
    X = np.random.default_rng(1).normal(size=(5, 3))
    assert np.allclose(forward(spec, w, X), X @ (W[2] @ W[1] @ W[0]).T)


def test_spec_round_trips_through_dict():
    spec = NetworkSpec.tree(2, parse("z + z^2/4"), units=3, shared=True)
    assert NetworkSpec.from_dict(spec.to_dict()) == spec


@pytest.mark.parametrize("kwargs", [dict(widths=(2,)), dict(widths=(2, 0, 1)), dict(widths=(4, 2, 1), architecture="conv"),
                                    dict(widths=(4, 3, 1), architecture="tree")])
def test_invalid_specs_raise_named_errors(kwargs):
    with pytest.raises(InvalidSpecError):
        NetworkSpec(activation=linear(), **kwargs)


def test_wrong_weight_count_is_an_error():
    spec = NetworkSpec((2, 2, 1), linear())
    with pytest.raises(InvalidSpecError):
        forward_point(spec, [1.0] * 3, [0.0, 1.0])
