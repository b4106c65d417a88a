"""Claims about polynomial activations and ReLU approximations (Theory II §3.1)."""
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from theory.activations import (PolyActivation, degree_for_accuracy, linear, parse, relu, relu_approximation,
                                relu_chebyshev, relu_legendre, relu_minimax, sup_error)
from theory.errors import InvalidSpecError


def test_parse_reads_exact_rational_coefficients():
    act = parse("z + z^2/4")
    assert act.coeffs == (Fraction(0), Fraction(1), Fraction(1, 4))
    assert parse("0, 1, 1/4") == PolyActivation((0, 1, Fraction(1, 4)), name="0, 1, 1/4")
    assert parse("linear").degree == 1 and linear().is_linear


@pytest.mark.parametrize("bad", ["", "relu", "sin(z)", "z^-1", "3", "0*z"])
def test_parse_rejects_non_polynomials_and_constants(bad):
    with pytest.raises(InvalidSpecError):
        parse(bad)


@given(st.lists(st.fractions(min_value=-50, max_value=50, max_denominator=20), min_size=2, max_size=6),
       st.floats(-3, 3))
@settings(max_examples=40, deadline=None)
def test_horner_evaluation_equals_numpy_polyval(coeffs, z):
    if all(c == 0 for c in coeffs[1:]):
        coeffs[-1] = Fraction(1)
    act = PolyActivation(tuple(coeffs))
    expected = np.polynomial.polynomial.polyval(z, [float(c) for c in act.coeffs])
    assert act(z) == pytest.approx(expected, rel=1e-12, abs=1e-9)
    assert act(Fraction(z), coerce=lambda c: c) == pytest.approx(expected, rel=1e-12, abs=1e-9)


def test_legendre_projection_is_exact_and_matches_numerical_least_squares():
    """The exact rational Legendre projection equals a numerical L² fit on [−R, R]."""
    act = relu_legendre(4, Fraction(2))
    assert act.coeffs == (Fraction(15, 128), Fraction(1, 2), Fraction(105, 256), Fraction(0), Fraction(-105, 2048))
    # scaling: p_R(z) = R·p_1(z/R) with p_1 = 15/256 + z/2 + 105/128 z² − 105/256 z⁴
    x, wq = np.polynomial.legendre.leggauss(200)
    z = 2 * x
    fit = np.polynomial.legendre.Legendre.fit(z, relu(z), 4, w=np.sqrt(wq), domain=[-2, 2])
    numeric = fit.convert(kind=np.polynomial.Polynomial, domain=[-1, 1], window=[-1, 1]).coef
    # fit on a quadrature grid of a kinked function converges slowly: compare to 1e-3
    assert np.allclose(numeric, act.float_coeffs(), atol=2e-3)


@pytest.mark.parametrize("method", ["chebyshev", "legendre", "minimax"])
def test_sup_error_falls_with_degree(method):
    errors = [sup_error(relu_approximation(d, method)).sup_error for d in (2, 4, 8, 16, 32)]
    assert all(a > b for a, b in zip(errors, errors[1:]))
    assert errors[-1] < 0.02


def test_sup_error_matches_dense_grid():
    act = relu_chebyshev(6, 1)
    z = np.linspace(-1, 1, 200001)
    grid = np.abs(np.polynomial.polynomial.polyval(z, act.float_coeffs()) - relu(z)).max()
    assert sup_error(act).sup_error == pytest.approx(grid, rel=1e-6)


def test_minimax_is_no_worse_than_the_other_schemes():
    for d in (2, 4, 8):
        best = sup_error(relu_minimax(d)).sup_error
        assert best <= sup_error(relu_legendre(d)).sup_error + 1e-9
        assert best <= sup_error(relu_chebyshev(d)).sup_error + 1e-9
    # the best quadratic for |z|/2 on [−1, 1] has error 1/16 (equioscillation at 0, ±1/√2, ±1)
    assert sup_error(relu_minimax(2)).sup_error == pytest.approx(1 / 16, abs=1e-6)


@pytest.mark.parametrize("method", ["legendre", "minimax"])
@pytest.mark.parametrize("eps", [0.1, 0.05, 0.02])
def test_degree_for_accuracy_is_minimal(method, eps):
    res = degree_for_accuracy(eps, method)
    assert res.sup_error <= eps
    assert all(err > eps for deg, err in res.errors if deg < res.degree)


def test_odd_degree_relu_approximation_is_refused_not_silently_lowered():
    """ReLU's even part |z|/2 makes every symmetric scheme's degree-3 polynomial have degree 2."""
    assert relu_legendre(3).degree == 2
    with pytest.raises(InvalidSpecError, match="exact degree 2"):
        relu_approximation(3, "legendre")


def test_invalid_arguments_raise_named_errors():
    with pytest.raises(InvalidSpecError):
        relu_approximation(0)
    with pytest.raises(InvalidSpecError):
        relu_approximation(4, radius=-1)
    with pytest.raises(InvalidSpecError):
        degree_for_accuracy(0)
    with pytest.raises(InvalidSpecError):
        relu_approximation(4, method="taylor")


def test_minimax_error_follows_bernsteins_constant():
    """Bernstein (1914): ℓ·E_ℓ(|z|) → β ≈ 0.2801695 on [−1, 1]; ReLU = z/2 + |z|/2 halves it."""
    beta = 0.2801694990
    err = sup_error(relu_minimax(32)).sup_error
    assert 32 * err == pytest.approx(beta / 2, rel=0.01)
