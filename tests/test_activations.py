"""Claims about polynomial activations and ReLU approximations (Theory II §3.1)."""
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from theory.network.activations import (MAX_DEGREE, RELU_METHODS, PolyActivation, degree_for_accuracy, linear, parse, relu,
                                relu_approximation, relu_chebyshev, relu_legendre, relu_minimax, relu_series,
                                relu_sup_error, sup_error)
from landscape_core.errors import InvalidSpecError


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


def _mp_sup_lower_bound(act: PolyActivation, points) -> tuple[float, float]:
    """Return max |P − ReLU| over `points`, P evaluated from its exact monomials in mpmath (no cancellation loss)."""
    import mpmath

    with mpmath.workdps(40 + act.degree // 2):  # monomial terms reach ~2^ℓ times the value: carry those digits
        coeffs = [mpmath.mpf(c.numerator) / c.denominator for c in act.coeffs]
        best, arg = mpmath.mpf(-1), 0.0
        for z in points:
            x = mpmath.mpf(float(z))
            val = abs(mpmath.polyval(coeffs[::-1], x) - max(x, 0))
            if val > best:
                best, arg = val, float(z)
        return float(best), arg


@pytest.mark.parametrize("method", ["chebyshev", "legendre", "minimax"])
@pytest.mark.parametrize("degree", [48, 128, pytest.param(MAX_DEGREE, marks=pytest.mark.slow)])
def test_sup_error_is_attained_and_never_exceeded_in_high_precision(method, degree):
    """The reported sup error is attained at its argmax and no point of a dense grid exceeds it, the error
    being evaluated independently in mpmath from the exact monomial coefficients networks use."""
    act = relu_approximation(degree, method, 1)
    res = relu_sup_error(degree, method, 1)
    via_monomials = sup_error(act)  # exact conversion of the monomials to the Chebyshev basis
    assert via_monomials.sup_error == pytest.approx(res.sup_error, rel=1e-9)
    attained, _ = _mp_sup_lower_bound(act, [res.argmax])
    assert attained == pytest.approx(res.sup_error, rel=1e-9)
    n = 400
    grid = np.concatenate([np.cos(np.pi * np.arange(n + 1) / n), np.linspace(-0.05, 0.05, 101)])
    on_grid, _ = _mp_sup_lower_bound(act, grid)
    assert on_grid <= res.sup_error * (1 + 1e-9)
    assert on_grid >= 0.9 * res.sup_error  # the grid comes close: the maximum is not an isolated spike


def test_chebyshev_errors_match_the_independent_figures_of_the_issue():
    """An independent Chebyshev evaluation gives 0.0061, 0.0046, 0.0023 at ℓ = 48, 64, 128 (numpy's
    Chebyshev class interpolating on [−1, 1], its error on a dense grid through the kink), and 7.44e-4
    at the largest degree accepted."""
    z = np.concatenate([np.linspace(-1, 1, 200001), [0.0]])
    for degree, expected in ((48, 0.0061), (64, 0.0046), (128, 0.0023), (MAX_DEGREE, 0.000744)):
        reference = np.polynomial.Chebyshev.interpolate(relu, degree)
        dense = np.abs(reference(z) - relu(z)).max()
        got = relu_sup_error(degree, "chebyshev").sup_error
        assert got == pytest.approx(expected, abs=5e-5)
        assert dense <= got * (1 + 1e-9) and dense == pytest.approx(got, rel=1e-3)


def test_series_scale_with_the_radius_and_match_numpy_on_that_interval():
    """P_R(z) = R·q(z/R): the series on [−R, R] equals numpy's interpolant built on [−R, R] directly."""
    z = np.linspace(-10, 10, 2001)
    direct = np.polynomial.Chebyshev.interpolate(relu, 128, domain=[-10, 10])
    assert np.allclose(relu_series(128, "chebyshev", 10)(z), direct(z), atol=1e-12)
    assert relu_sup_error(64, "legendre", 10).sup_error == pytest.approx(10 * relu_sup_error(64, "legendre").sup_error,
                                                                         rel=1e-12)


def test_legendre_series_coefficients_match_gauss_quadrature():
    """c_k = (2k+1)/2 ∫_0^1 s P_k(s) ds, the closed form against 400-point Gauss–Legendre quadrature."""
    x, w = np.polynomial.legendre.leggauss(400)
    s, w = (x + 1) / 2, w / 2  # nodes and weights on [0, 1]
    coef = relu_series(60, "legendre").coef
    for k in range(61):
        pk = np.polynomial.legendre.legval(s, [0] * k + [1])
        assert coef[k] == pytest.approx((2 * k + 1) / 2 * np.sum(w * s * pk), abs=1e-12)


@pytest.mark.parametrize("method", ["chebyshev", "legendre", "minimax"])
def test_monomial_form_has_the_requested_degree_at_high_degree_and_radius(method):
    """Exact basis conversion keeps the leading coefficient (float conversion used to drop it: ℓ = 172
    came out of degree 170, and at R = 10 ℓ = 32 of degree 22)."""
    assert relu_approximation(172, method, 1).degree == 172
    assert relu_approximation(32, method, 10).degree == 32


def test_radius_is_read_as_typed_and_bounded():
    """A float radius is the decimal the user typed (0.1 → 1/10); absurd radii are refused in one line."""
    assert relu_legendre(4, 0.1).radius == Fraction(1, 10)
    relu_legendre(MAX_DEGREE, 0.1).to_dict()  # 1/10^k stays printable
    for bad in (1e308, 1e-308, 0.0):
        with pytest.raises(InvalidSpecError, match="radius"):
            relu_approximation(4, "legendre", bad)
        with pytest.raises(InvalidSpecError, match="radius"):
            relu_sup_error(4, "legendre", bad)


@pytest.mark.parametrize("method", ["chebyshev", "legendre", "minimax"])
def test_degree_for_accuracy_is_minimal_against_every_lower_degree(method):
    """No candidate degree below ℓ(ε) reaches ε, each checked by its own sup-error computation."""
    for eps in (0.1, 0.03, 0.01):
        res = degree_for_accuracy(eps, method)
        assert res.sup_error <= eps
        below = [1] + list(range(2, res.degree, 2))
        assert all(relu_sup_error(d, method).sup_error > eps for d in below if d < res.degree)
        assert all(b > eps for _, b in res.lower_bounds)
        assert all(relu_sup_error(d, method).sup_error >= b for d, b in res.lower_bounds)


def test_degree_for_accuracy_at_one_percent_is_30_32_14():
    """The figures quoted in the README: ℓ(0.01) = 30 (Chebyshev), 32 (Legendre), 14 (minimax)."""
    assert [degree_for_accuracy(0.01, m).degree for m in RELU_METHODS] == [30, 32, 14]


def test_unreachable_accuracy_is_refused_naming_max_degree():
    with pytest.raises(InvalidSpecError, match=r"not reached below --max-degree 40 .*at ℓ = 40"):
        degree_for_accuracy(1e-3, "legendre", max_degree=40)
    with pytest.raises(InvalidSpecError, match="--max-degree"):
        degree_for_accuracy(1e-2, "legendre", max_degree=MAX_DEGREE + 2)


def test_approximation_table_reaches_epsilon_at_its_degree_and_matches_the_single_errors():
    """Theory II §3.1: ℓ(ε) is the smallest tabulated degree with sup error ≤ ε; the table is the per-degree errors."""
    from theory.network.activations import RELU_METHODS, approximation_table, relu_sup_error

    tab = approximation_table(0.05, radius=2.0, degrees=(2, 6), max_degree=60)
    for m in RELU_METHODS:
        assert tab.error_at_that_degree[m] <= 0.05
        assert tab.sup_error[m] == [relu_sup_error(d, m, 2.0).sup_error for d in (2, 6)]
        below = tab.degree_for_epsilon[m] - 2
        if below >= 2:
            assert relu_sup_error(below, m, 2.0).sup_error > 0.05
