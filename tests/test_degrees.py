"""Claims about exact equation degrees: propagation = closed form = measured (certified)."""
import pytest
from hypothesis import given, settings, strategies as st

from tests.strategies import specs
from theory.network.activations import parse, relu_legendre
from theory.bounds.degrees import (closed_form_degree, critical_degree_bounds, critical_term_bound, measured_critical_degrees,
                            measured_zero_error_degrees, output_degree_bound, zero_error_term_bound)
from theory.network.spec import NetworkSpec
from theory.network.data import random_data
from theory.network.equations import CriticalSystem, ZeroErrorSystem


@given(specs(max_params=60, max_degree=4), st.integers(0, 1000))
@settings(max_examples=40, deadline=None)
def test_measured_degree_equals_the_closed_form(spec, seed):
    """deg f(x_i; w) = Σ_{k=1}^{d} ℓ^k (fc, P on output) etc.: see theory.bounds.degrees' docstring."""
    closed = closed_form_degree(spec)
    assert output_degree_bound(spec) == closed
    data = random_data(spec, 2, seed)
    for m in measured_zero_error_degrees(spec, data.X, data.Y, seed=seed):
        assert (m.total, m.groups) == closed
        assert m.exact


def test_paper_degree_is_the_first_layer_degree_not_the_total():
    spec = NetworkSpec.fully_connected(2, 2, 3, relu_legendre(4))
    total, groups = closed_form_degree(spec)
    assert groups[0] == 4**3 and total == 4 + 16 + 64


def test_degrees_agree_with_sympy_expansion():
    spec = NetworkSpec.tree(2, parse("z^2 + z"), units=1, output_activation=False)
    data = random_data(spec, 2, 0)
    polys = ZeroErrorSystem(spec, data).polynomials()
    total, groups = closed_form_degree(spec)
    for p in polys:
        assert max(sum(m) for m in p.monoms()) == total
        for g, deg in zip(spec.groups, groups):
            assert max(sum(m[g.slice]) for m in p.monoms()) == deg


def test_critical_degrees_agree_with_sympy_expansion():
    spec = NetworkSpec.fully_connected(2, 2, 2, parse("z^2 + z"))
    data = random_data(spec, 3, 0)
    polys = CriticalSystem(spec, data).polynomials()
    measured = measured_critical_degrees(spec, data.X, data.Y, None, seed=0)
    bounds = critical_degree_bounds(spec)
    for p, m, b in zip(polys, measured, bounds):
        true_total = max(sum(mm) for mm in p.monoms())
        assert m.total == true_total <= b[0]
        assert tuple(max(sum(mm[g.slice]) for mm in p.monoms()) for g in spec.groups) == m.groups


def test_degree_drops_are_measured_not_assumed():
    """Zero inputs without bias make f vanish identically: the measurement sees it, the bound does not."""
    from fractions import Fraction
    from theory.network.data import ExactData

    spec = NetworkSpec((2, 2, 1), parse("z^2"), bias=False, output_activation=False)
    data = ExactData.from_arrays([[0, 0]], [[Fraction(1)]])
    (m,) = measured_zero_error_degrees(spec, data.X, data.Y, seed=0)
    assert m.total == 0 and m.total_bound == 3 and not m.exact


@given(specs(max_params=10, max_degree=2, max_depth=2), st.integers(0, 1000))
@settings(max_examples=25, deadline=None)
def test_propagated_term_bounds_never_undercount_the_expansion(spec, seed):
    """The TermCount bound (sums add, products multiply, powers count multisets) is an upper bound.

    Checked against the sympy expansion, for zero-error and critical-point equations.
    """
    data = random_data(spec, 2, seed)
    zero = ZeroErrorSystem(spec, data)
    polys = zero.polynomials(max_terms=10**7)
    assert max(len(p.terms()) for p in polys) <= zero_error_term_bound(spec)
    crit = CriticalSystem(spec, data, penalty=tuple(range(1, spec.n_params + 1)))
    if critical_term_bound(spec, data.n_points) <= 20_000:
        eqs = crit.polynomials(max_terms=10**7)
        assert max(len(p.terms()) for p in eqs) <= critical_term_bound(spec, data.n_points)


def test_term_bound_admits_the_tree_network_that_per_group_binomials_refused():
    """A depth-2 tree with z² + z and bias: 4,663 true terms; per-group binomials bounded it by 1.5 million."""
    spec = NetworkSpec.tree(2, parse("z^2 + z"), units=1, bias=True, output_activation=True)
    system = ZeroErrorSystem(spec, random_data(spec, 2, 0))
    assert system.expansion_bound() < 200_000
    assert max(len(p.terms()) for p in system.polynomials()) == 4663
