"""Claims about the zero-error and critical-point systems (Theory II eq. (5), (7)–(8))."""
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tests.strategies import specs
from theory.network.activations import parse, relu_legendre
from theory.network.data import random_data
from landscape_core.errors import ExpansionTooLarge
from theory.polynomials.export import to_phc
from theory.network.spec import NetworkSpec, init_weights
from theory.network.equations import CriticalSystem, ZeroErrorSystem


# Expansions within this bound take well under a second; the strategy draws no spec beyond it.
SYMBOLIC_MAX_TERMS = 20_000


@given(specs(max_params=12, max_degree=2, max_depth=2, max_terms=SYMBOLIC_MAX_TERMS), st.integers(0, 1000))
@settings(max_examples=25, deadline=None)
def test_symbolic_polynomials_evaluate_to_the_numpy_forward_pass(spec, seed):
    """The sympy expansion and the numeric straight-line program are the same function."""
    data = random_data(spec, 2, seed)
    system = ZeroErrorSystem(spec, data)
    polys = system.polynomials(max_terms=SYMBOLIC_MAX_TERMS)
    w = init_weights(spec, seed)
    values = np.array([float(p(*[Fraction(v) for v in w])) for p in polys])
    assert np.allclose(values, system.residuals(w), rtol=1e-9, atol=1e-9)


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
