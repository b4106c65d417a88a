"""Claims about the zero-error and critical-point systems (Theory II eq. (5), (7)–(8))."""
import json
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tests.strategies import specs
from theory.activations import parse, relu_legendre
from theory.errors import ExpansionTooLarge
from theory.networks import NetworkSpec, forward, init_weights
from theory.systems import (CriticalSystem, ZeroErrorSystem, nested_formula_length, parse_equations, planted_data,
                            random_data, read_phc, to_json, to_macaulay2, to_phc)


def _terms(poly):
    return {m: Fraction(int(c.numerator), int(c.denominator)) for m, c in poly.terms()}


@given(specs(max_params=12, max_degree=2, max_depth=2), st.integers(0, 1000))
@settings(max_examples=25, deadline=None)
def test_symbolic_polynomials_evaluate_to_the_numpy_forward_pass(spec, seed):
    """The sympy expansion and the numeric straight-line program are the same function."""
    data = random_data(spec, 2, seed)
    system = ZeroErrorSystem(spec, data)
    polys = system.polynomials()
    w = init_weights(spec, seed)
    values = np.array([float(p(*[Fraction(v) for v in w])) for p in polys])
    assert np.allclose(values, system.residuals(w), rtol=1e-9, atol=1e-9)


def test_planted_data_is_fitted_exactly_by_its_weights():
    spec = NetworkSpec.fully_connected(2, 2, 2, parse("z + z^2/4"))
    data, w_star = planted_data(spec, 5, seed=3)
    system = ZeroErrorSystem(spec, data)
    assert all(p(*w_star) == 0 for p in system.polynomials())
    assert np.abs(system.residuals(np.array([float(v) for v in w_star]))).max() < 1e-12


def test_jacobian_matches_central_differences():
    spec = NetworkSpec.tree(2, parse("z + z^2/4"), units=2, output_activation=True)
    system = ZeroErrorSystem(spec, random_data(spec, 4, 0))
    w = init_weights(spec, 1)
    J = system.jacobian(w)
    eps = 1e-6
    fd = np.stack([(system.residuals(w + eps * e) - system.residuals(w - eps * e)) / (2 * eps)
                   for e in np.eye(len(w))], axis=1)
    assert np.allclose(J, fd, atol=1e-7)


def test_critical_system_is_half_the_gradient_and_its_jacobian_is_half_the_hessian():
    """Against sympy: g_j = Σ r ∂_j f + λ_j w_j and ∂g/∂w, evaluated exactly."""
    spec = NetworkSpec.fully_connected(2, 2, 2, parse("z^2 + z"))
    data = random_data(spec, 3, 1)
    lam = tuple(Fraction(k + 1, 7) for k in range(spec.n_params))
    crit = CriticalSystem(spec, data, penalty=lam)
    polys = crit.polynomials()
    w = init_weights(spec, 2)
    wq = [Fraction(v) for v in w]
    grad_sym = np.array([float(p(*wq)) for p in polys])
    assert np.allclose(crit.gradient(w), grad_sym, rtol=1e-10, atol=1e-10)
    gens = polys[0].ring.gens
    hess_sym = np.array([[float(p.diff(x)(*wq)) for x in gens] for p in polys])
    assert np.allclose(crit.hessian(w), hess_sym, rtol=1e-9, atol=1e-9)
    # the loss value too: Σ r² + Σ λ w²
    r = ZeroErrorSystem(spec, data).residuals(w)
    assert crit.loss(w) == pytest.approx(r @ r + sum(float(l) * v * v for l, v in zip(lam, w)))


def test_expansion_guard_refuses_the_card_example():
    """One zero-error equation of the 3-layer, degree-4 network has too many terms to expand."""
    spec = NetworkSpec.fully_connected(2, 2, 3, relu_legendre(4))
    system = ZeroErrorSystem(spec, random_data(spec, 8, 0))
    with pytest.raises(ExpansionTooLarge):
        system.polynomials()
    assert system.expansion_bound() > 10**6
    # the nested export still works, instantly
    assert to_phc(system).startswith("8 15\n")


@pytest.mark.parametrize("expanded", [True, False])
def test_exports_round_trip_to_the_same_polynomials(expanded):
    spec = NetworkSpec.fully_connected(2, 2, 2, parse("z + z^2/3"))
    data = random_data(spec, 3, 5)
    system = ZeroErrorSystem(spec, data)
    exact = system.polynomials()
    names = system.variable_names
    # JSON and Macaulay2 carry exact rationals: equality is exact
    doc = json.loads(to_json(system, expanded=expanded))
    assert doc["expanded"] is expanded
    for p, q in zip(exact, parse_equations(doc["equations"], doc["variables"])):
        assert _terms(p) == _terms(q)
    m2 = to_macaulay2(system, expanded=expanded)
    body = m2.split("ideal(", 1)[1].rsplit(")", 1)[0]
    m2_eqs = [e.strip() for e in body.split(",\n")]
    for p, q in zip(exact, parse_equations(m2_eqs, names)):
        assert _terms(p) == _terms(q)
    # PHCpack format carries floats: equal to double precision
    eqs, variables = read_phc(to_phc(system, expanded=expanded))
    assert sorted(variables) == sorted(names)
    for p, q in zip(exact, parse_equations(eqs, names)):
        tp, tq = _terms(p), _terms(q)
        assert set(tp) == set(tq)
        assert all(abs(float(tp[m] - tq[m])) <= 1e-12 * max(1.0, abs(float(tp[m]))) for m in tp)


@given(specs(max_params=14, max_degree=3, max_depth=3), st.integers(1, 4), st.booleans(), st.integers(0, 1000))
@settings(max_examples=25, deadline=None)
def test_nested_length_bound_is_never_below_the_text(spec, n_points, exact, seed):
    """The propagated length bound that guards the nested export is an upper bound on its size."""
    data = random_data(spec, n_points, seed)
    text = ZeroErrorSystem(spec, data).formulas(exact=exact, max_chars=10**9)
    assert sum(map(len, text)) <= nested_formula_length(spec, data, exact)


def test_nested_export_of_a_deep_wide_network_is_refused_before_it_is_built():
    """Nested text grows like (width × #activation terms)^depth: depth 8, width 30 would need ~10^20 bytes."""
    spec = NetworkSpec.fully_connected(1, 30, 8, relu_legendre(6))
    data = random_data(spec, 2, 0)
    assert nested_formula_length(spec, data, exact=False) > 10**18
    with pytest.raises(ExpansionTooLarge, match="characters"):
        to_phc(ZeroErrorSystem(spec, data))


def test_nested_phc_export_has_no_zero_literals():
    """PHCpack misparses products with a literal 0.0e+00, so zero data entries are dropped."""
    spec = NetworkSpec.fully_connected(2, 2, 2, parse("z + z^2"))
    from theory.systems import Dataset

    data = Dataset.from_arrays([[Fraction(2, 5), 0], [1, -1]], [[-1], [2]])
    text = to_phc(ZeroErrorSystem(spec, data), expanded=False)
    assert "0.0000000000000000e+00" not in text


def test_critical_export_is_square():
    spec = NetworkSpec.fully_connected(1, 1, 2, parse("z^2"), bias=False)
    crit = CriticalSystem(spec, random_data(spec, 2, 0))
    head = to_phc(crit).split("\n", 1)[0]
    assert head == str(spec.n_params)
