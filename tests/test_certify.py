"""Tests of theory/counting/certify.py: Krawczyk certificates, distinct and real counts, rigour of the disk arithmetic."""
from __future__ import annotations

import json
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from landscape_core.serialize import dumps
from theory.counting.certify import (PolyTerms, _abs_down, _abs_up, _add, _compile, _evaluate, _mul, _mul_point, _sub, _sum,
                            certify,
                            krawczyk, terms_from_strings, terms_from_sympy)
from landscape_core.errors import InvalidSpecError

x, y, z = sp.symbols("x y z")


def exact_value(coeffs, exps, point) -> mpmath.mpc:
    """Σ c_t point^{e_t} at 60 digits from the exact binary values of c and point (an independent evaluation)."""
    with mpmath.workdps(60):
        total = mpmath.mpc(0)
        for c, e in zip(coeffs, exps):
            term = mpmath.mpc(c.real, c.imag)
            for p, k in zip(point, e):
                term *= mpmath.mpc(p.real, p.imag) ** int(k)
            total += term
        return total


def inside_disk(value: mpmath.mpc, centre: complex, radius: float) -> bool:
    with mpmath.workdps(60):
        return abs(value - mpmath.mpc(centre.real, centre.imag)) <= mpmath.mpf(radius)


# --- certification counts --------------------------------------------------------------------

def test_cubic_with_three_real_roots_certifies_three_distinct_real_zeros():
    terms = terms_from_sympy([(x - 1) * (x - 2) * (x - 3)], [x])
    result = certify(terms, [1 + 1e-9, 2 - 1e-10 + 1e-12j, 3.0])
    assert (result.n_certified, result.n_distinct, result.n_real, result.n_nonreal) == (3, 3, 3, 0)
    for cert, root in zip(result.certificates, (1, 2, 3)):
        assert cert.real is True
        assert np.all(np.abs(cert.enclosure_centre - root) <= cert.enclosure_radius)
        assert cert.contraction < 1


def test_system_with_one_real_and_two_nonreal_zeros_counts_each_kind():
    # x³ − 2x² + x − 2 = (x − 2)(x² + 1): zeros (2, 2), (i, i), (−i, −i)
    terms = terms_from_sympy([x**3 - 2 * x**2 + x - 2, y - x], [x, y])
    sols = [[2, 2], [1j + 1e-10, 1j], [-1j, -1j - 1e-11]]
    result = certify(terms, sols)
    assert (result.n_certified, result.n_distinct, result.n_real, result.n_nonreal) == (3, 3, 1, 2)
    assert [c.real for c in result.certificates] == [True, False, False]


def test_circle_and_hyperbola_zeros_are_all_nonreal():
    # x² + y² = 1, xy = 1  ⇒  x⁴ − x² + 1 = 0: x = e^{±iπ/6}, e^{±5iπ/6}, y = 1/x, none real
    xs = np.exp(1j * np.pi * np.array([1, -1, 5, -5]) / 6)
    sols = np.stack([xs, 1 / xs], axis=1)
    result = certify(terms_from_sympy([x**2 + y**2 - 1, x * y - 1], [x, y]), sols)
    assert (result.n_certified, result.n_distinct, result.n_real, result.n_nonreal) == (4, 4, 0, 4)


def test_approximation_far_from_every_zero_is_not_certified():
    terms = terms_from_sympy([(x - 1) * (x - 2) * (x - 3), y**2 - 2], [x, y])
    result = certify(terms, [[1.37, 1.5], [2.5 + 0.3j, -1.0]])
    assert result.n_certified == 0 and result.n_distinct == 0
    assert all("failed" in c.reason for c in result.certificates)


def test_double_root_is_never_certified():
    # a box holding a double root cannot pass: K(X) ⊂ int X would make Df invertible at the zero
    terms = terms_from_sympy([(x - 1) ** 2], [x])
    near = [1.0, 1 + 1e-8, 1 - 1e-6, 1 + 1e-12j, 1 + 1e-4]
    result = certify(terms, near, radius_factors=(1024.0, 64.0, 8.0, 2.0, 1.1))
    assert result.n_certified == 0
    assert "singular" in result.certificates[0].reason


def test_double_root_beside_a_regular_zero_certifies_only_the_regular_one():
    # the (x − 500)² issue example: the double root must not pass, the regular zero y = 1 with x = 2 must
    terms = terms_from_sympy([(x - 500) ** 2 * (x - 2), y - 1], [x, y])
    result = certify(terms, [[500 + 1e-7, 1], [2, 1]])
    assert [c.certified for c in result.certificates] == [False, True]


def test_two_approximations_of_one_zero_count_once():
    terms = terms_from_sympy([x**2 - 2, y - x], [x, y])
    s = np.sqrt(2)
    sols = [[s + 1e-10, s], [s - 1e-10, s + 1e-11], [-s, -s]]
    result = certify(terms, sols)
    assert result.n_certified == 3
    assert result.n_distinct == 2 and result.n_undecided_pairs == 0
    labels = [c.distinct for c in result.certificates]
    assert labels[0] == labels[1] != labels[2]


def test_far_apart_approximations_of_one_zero_are_merged_by_a_joint_box():
    # boxes around 1 ± 1e-7 with radii ~1e-13 neither contain each other's enclosure: a joint box decides
    terms = terms_from_sympy([x - 1], [x])
    result = certify(terms, [1 + 1e-7, 1 - 1e-7], radius_factors=(2.0,))
    assert result.n_certified == 2 and result.n_distinct == 1 and result.n_undecided_pairs == 0


def test_large_norm_regular_solutions_certify_scale_free():
    # x = 500, y = ±√2; x·z = 1e9 puts z = 2e6; a zero coordinate (w = 0) needs an absolute floor
    w = sp.Symbol("w")
    terms = terms_from_sympy([x - 500, y**2 - 2, x * z - 10**9, w * (w - 1) + 0 * x], [x, y, z, w])
    s = np.sqrt(2)
    result = certify(terms, [[500, s, 2e6, 0], [500 * (1 + 1e-13), -s, 2e6 * (1 - 1e-12), 1e-20]])
    assert (result.n_certified, result.n_distinct, result.n_real) == (2, 2, 2)
    big = terms_from_sympy([x - 10**12, y * x - 3 * 10**12], [x, y])
    assert certify(big, [[1e12 + 1e-3, 3.0]]).n_real == 1


def test_cyclic5_solutions_from_numpy_newton_certify():
    n = 5
    v = sp.symbols(f"v0:{n}")
    eqs = [sum(sp.prod(v[(i + k) % n] for k in range(d)) for i in range(n)) for d in range(1, n)]
    eqs.append(sp.prod(v) - 1)
    # known cyclic-5 zeros: (1, ω, ω², ω³, ω⁴)·ω^j with ω a primitive fifth root of unity, 0 ≤ j < 5
    om = np.exp(2j * np.pi / 5)
    sols = np.array([[om ** (k + j) for k in range(n)] for j in range(5)])
    sols = sols * (1 + 1e-12)
    result = certify(terms_from_sympy(eqs, v), sols)
    assert result.n_certified == 5 and result.n_distinct == 5
    assert result.n_real == 0 and result.n_nonreal == 5


def test_complex_coefficients_give_no_real_verdict_but_still_prove_nonreal():
    terms = terms_from_sympy([x**2 - (1 + 2 * sp.I)], [x])
    r = complex(np.sqrt(1 + 2j))
    result = certify(terms, [r, -r])
    assert not result.real_coefficients
    assert result.n_distinct == 2 and result.n_real == 0 and result.n_nonreal == 2
    with pytest.raises(InvalidSpecError):
        certify(terms, [r], real_coefficients=True)


def test_real_coefficient_zero_tracked_as_complex_is_recentred_and_proved_real():
    terms = terms_from_sympy([x**2 - 3 * y, y - 1], [x, y])
    result = certify(terms, [[np.sqrt(3) + 1e-13j, 1 - 1e-14j]])
    cert = result.certificates[0]
    assert cert.real is True and np.all(cert.centre.imag == 0)


# --- the Krawczyk operator -------------------------------------------------------------------

def test_krawczyk_box_contains_the_zero_and_fails_when_too_large():
    terms = terms_from_sympy([x**2 - 2], [x])
    good = krawczyk(terms, [1.4], 0.1)
    assert good.ok
    assert abs(good.centre[0] - np.sqrt(2)) <= good.radii[0] and good.radii[0] < 0.1
    # a box of radius 2 around 1.4 also holds −√2: uniqueness is impossible, the test must fail
    assert not krawczyk(terms, [1.4], 2.0).ok


def test_krawczyk_with_given_y_matches_default_choice_at_the_zero():
    terms = terms_from_sympy([x**2 + y**2 - 1, x - y], [x, y])
    c = 1 / np.sqrt(2)
    y_inv = np.linalg.inv(np.array([[2 * c, 2 * c], [1, -1]]))
    assert krawczyk(terms, [c, c], 1e-6, y=y_inv).ok
    assert not krawczyk(terms, [c, c], 1e-6, y=np.zeros((2, 2))).ok


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 4), seed=st.integers(0, 2**32 - 1), scale=st.sampled_from([1e-3, 1.0, 1e4]),
       noise=st.sampled_from([0.0, 1e-12, 1e-9]))
def test_linear_system_certified_box_contains_exact_and_numpy_solution(n, seed, scale, noise):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n)) + 3 * np.eye(n)
    assume(np.linalg.cond(a) < 1e3)
    b = scale * (rng.normal(size=n) + 1j * rng.normal(size=n))
    coeffs = [np.append(a[i], -b[i]) for i in range(n)]
    exps = [np.vstack([np.eye(n, dtype=int), np.zeros((1, n), int)]) for _ in range(n)]
    x_np = np.linalg.solve(a, b)
    guess = x_np * (1 + noise * rng.normal(size=n))
    result = certify(PolyTerms.from_arrays(coeffs, exps), [guess])
    cert = result.certificates[0]
    assert cert.certified
    with mpmath.workdps(60):
        exact = mpmath.lu_solve(mpmath.matrix([[mpmath.mpc(v.real, v.imag) for v in row] for row in a]),
                                mpmath.matrix([mpmath.mpc(v.real, v.imag) for v in b]))
        for k in range(n):
            assert inside_disk(exact[k], cert.enclosure_centre[k], cert.enclosure_radius)
            assert inside_disk(exact[k], cert.centre[k], cert.radius)
    assert np.all(np.abs(x_np - cert.centre) <= cert.radius)


# --- rigour of the interval evaluation -------------------------------------------------------

finite = st.floats(min_value=-1e150, max_value=1e150, allow_nan=False, allow_infinity=False)  # subnormals included
complexes = st.builds(complex, finite, finite)
radii = st.one_of(st.just(0.0), st.floats(min_value=0.0, max_value=1e140, allow_nan=False))
directions = st.sampled_from([(1, 0), (0, 1), (-1, 0), (Fraction(3, 5), Fraction(4, 5)), (Fraction(-4, 5), Fraction(3, 5))])


def exact(z: complex) -> tuple[Fraction, Fraction]:
    return Fraction(z.real), Fraction(z.imag)


def on_rim(a: complex, alpha: float, d) -> tuple[Fraction, Fraction]:
    """The exact point a + α·d with |d| = 1 exactly (a point of the disk's boundary)."""
    return Fraction(a.real) + Fraction(alpha) * d[0], Fraction(a.imag) + Fraction(alpha) * d[1]


def in_disk_exactly(p: tuple[Fraction, Fraction], c, r) -> bool:
    return (p[0] - Fraction(c.real)) ** 2 + (p[1] - Fraction(c.imag)) ** 2 <= Fraction(float(r)) ** 2


@settings(max_examples=150, deadline=None)
@given(a=complexes, b=complexes, alpha=radii, beta=radii, da=directions, db=directions)
def test_disk_sum_difference_and_product_enclose_the_exact_results(a, b, alpha, beta, da, db):
    # exact rational arithmetic on points of the two disks; the computed disk must hold the result
    p, q = on_rim(a, alpha, da), on_rim(b, beta, db)
    args = (np.array(a), np.array(alpha), np.array(b), np.array(beta))
    c, r = _add(*args)
    assert in_disk_exactly((p[0] + q[0], p[1] + q[1]), c, r)
    c, r = _sub(*args)
    assert in_disk_exactly((p[0] - q[0], p[1] - q[1]), c, r)
    c, r = _mul(*args)
    assert in_disk_exactly((p[0] * q[0] - p[1] * q[1], p[0] * q[1] + p[1] * q[0]), c, r)
    c, r = _mul_point(np.array(a), np.array(b), np.array(beta))
    p = exact(a)
    assert in_disk_exactly((p[0] * q[0] - p[1] * q[1], p[0] * q[1] + p[1] * q[0]), c, r)


@settings(max_examples=100, deadline=None)
@given(zs=st.lists(complexes, min_size=1, max_size=8), w=complexes)
def test_disk_sums_and_moduli_bound_the_exact_values(zs, w):
    c, r = _sum(np.array(zs), np.zeros(len(zs)), axis=0)
    total = (sum(exact(z)[0] for z in zs), sum(exact(z)[1] for z in zs))
    assert in_disk_exactly(total, c, r)
    m2 = exact(w)[0] ** 2 + exact(w)[1] ** 2
    assert Fraction(float(_abs_up(np.array(w)))) ** 2 >= m2 >= Fraction(float(_abs_down(np.array(w)))) ** 2


@st.composite
def poly_and_box(draw):
    n = draw(st.integers(1, 3))
    n_terms = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    exps = rng.integers(0, 5, size=(n_terms, n))
    mags = 10.0 ** rng.integers(-8, 9, size=n_terms)
    coeffs = mags * (rng.normal(size=n_terms) + 1j * rng.normal(size=n_terms))
    centre = (10.0 ** rng.integers(-3, 4)) * (rng.normal(size=n) + 1j * rng.normal(size=n))
    radius = float(draw(st.sampled_from([0.0, 1e-15, 1e-8, 1e-2, 1.0]))) * max(1.0, float(np.abs(centre).max()))
    return coeffs, exps, centre, radius, rng


@settings(max_examples=60, deadline=None)
@given(poly_and_box())
def test_disk_evaluation_encloses_exact_values_at_points_of_the_box(case):
    coeffs, exps, centre, radius, rng = case
    n = centre.size
    block = _compile(PolyTerms.from_arrays([coeffs] + [np.ones(1)] * (n - 1),
                                           [exps] + [np.eye(n, dtype=int)[k:k + 1] for k in range(1, n)])).f
    fc, fr = _evaluate(block, centre[None], np.full((1, n), radius))
    for _ in range(5):
        d = rng.normal(size=n) + 1j * rng.normal(size=n)
        point = centre + radius * rng.uniform(0, 1, size=n) * d / np.abs(d)
        point = np.where(np.abs(point - centre) <= radius, point, centre)  # the rounded sample stays in the box
        assert inside_disk(exact_value(coeffs, exps, point), fc[0, 0], fr[0, 0])


def test_disk_evaluation_encloses_an_exact_value_lost_to_cancellation():
    # (x − 1)^6 expanded, at x = 1 + 2⁻²⁰: the float sum is rounding noise, the disk must still hold 2⁻¹²⁰
    poly = sp.Poly((x - 1) ** 6, x)
    coeffs = np.array([complex(int(c)) for c in poly.coeffs()])
    exps = np.array([m for m in poly.monoms()])
    point = np.array([1 + 2.0 ** -20 + 0j])
    block = _compile(PolyTerms.from_arrays([coeffs], [exps])).f
    fc, fr = _evaluate(block, point[None], np.zeros((1, 1)))
    assert inside_disk(exact_value(coeffs, exps, point), fc[0, 0], fr[0, 0])
    assert fr[0, 0] > 0


def test_disk_evaluation_encloses_a_cancelling_sum_of_many_terms():
    # 30 constant terms (no products): only the summation bound can account for the lost digits
    rng = np.random.default_rng(11)
    consts = np.concatenate([[1e16, 1.0, -1e16, 1.0 / 3, 2.0 ** -30], rng.normal(size=25) * 10.0 ** rng.integers(-8, 17, 25)])
    consts = np.concatenate([consts, -consts[5:] * (1 + 2.0 ** -40)]).astype(complex) * (1 + 1j)
    block = _compile(PolyTerms.from_arrays([consts], [np.zeros((consts.size, 1), int)])).f
    fc, fr = _evaluate(block, np.zeros((1, 1), complex), np.zeros((1, 1)))
    total = sum(Fraction(c.real) for c in consts)
    assert in_disk_exactly((total, total), fc[0, 0], fr[0, 0])


def test_jacobian_disks_enclose_exact_derivatives():
    # f = (x³y − 2y² + 1/3, xy − 7): Df = [[3x²y, x³ − 4y], [y, x]], evaluated at 60 digits
    terms = terms_from_sympy([x**3 * y - 2 * y**2 + sp.Rational(1, 3), x * y - 7], [x, y])
    centre = np.array([[1.3 + 0.2j, -0.7 + 1.1j]])
    jc, jr = _evaluate(_compile(terms).df, centre, np.full((1, 2), 1e-3))
    rng = np.random.default_rng(5)
    for _ in range(10):
        p = centre[0] + 1e-3 * rng.uniform(0, 0.99, 2) * np.exp(2j * np.pi * rng.uniform(size=2))
        with mpmath.workdps(60):
            a, b = (mpmath.mpc(v.real, v.imag) for v in p)
            exact = [3 * a**2 * b, a**3 - 4 * b, b, a]
        for k in range(4):
            assert inside_disk(exact[k], jc[0, k], jr[0, k])


# --- input helpers ---------------------------------------------------------------------------

def test_inexact_rational_coefficients_are_held_as_disks_around_their_float():
    terms = terms_from_sympy([3 * x - 1], [x])
    c = dict(zip(map(tuple, terms.exponents[0]), zip(terms.coefficients[0], terms.coefficient_radii[0])))
    assert c[(1,)] == (3, 0.0)
    assert c[(0,)][0] == -1 and c[(0,)][1] == 0.0
    third = terms_from_sympy([x - sp.Rational(1, 3)], [x])
    centre, rad = third.coefficients[0][1], third.coefficient_radii[0][1]
    assert 0 < rad <= 2.0 ** -54 and abs(sp.Rational(centre.real) + sp.Rational(1, 3)) <= sp.Rational(rad)
    # x = 1/3 exactly is the zero: it must lie in the certified box although no float equals it
    cert = certify(third, [1 / 3]).certificates[0]
    assert cert.certified and abs(sp.Rational(cert.centre[0].real) - sp.Rational(1, 3)) <= sp.Rational(cert.radius)


def test_phcpack_strings_parse_to_the_same_terms_as_sympy():
    text = ["x^2 + (1.5e+00+2.5e-01*i)*x*y - 3.1E-01;", "y^3 - 2*x + i;"]
    parsed = terms_from_strings(text, ["x", "y"])
    expected = terms_from_sympy([x**2 + (sp.Rational(3, 2) + sp.I / 4) * x * y - sp.Rational(31, 100),
                                 y**3 - 2 * x + sp.I], [x, y])
    for k in range(2):
        got = sorted(zip(map(tuple, parsed.exponents[k]), parsed.coefficients[k], parsed.coefficient_radii[k]))
        want = sorted(zip(map(tuple, expected.exponents[k]), expected.coefficients[k], expected.coefficient_radii[k]))
        assert got == want
    assert not parsed.real
    assert terms_from_strings(["x^2 - 2;"], ["x"]).real


def test_bad_inputs_raise_named_errors():
    with pytest.raises(InvalidSpecError):
        terms_from_strings(["x + q;"], ["x"])
    with pytest.raises(InvalidSpecError):
        terms_from_strings(["x + 1;"], ["i"])
    with pytest.raises(InvalidSpecError):
        terms_from_sympy([x - sp.sqrt(2)], [x])
    with pytest.raises(InvalidSpecError):
        certify(terms_from_sympy([x + y], [x, y]), [[0, 0]])  # not square
    with pytest.raises(InvalidSpecError):
        PolyTerms.from_arrays([np.ones(2)], [np.array([[1], [-1]])])


def test_plain_coefficient_exponent_pairs_are_accepted_and_results_serialise():
    pairs = [(np.array([1.0, -4.0]), np.array([[2], [0]]))]
    result = certify(pairs, [[2.0], [-2.0], [np.nan]])
    assert (result.n_solutions, result.n_certified, result.n_distinct, result.n_real) == (3, 2, 2, 2)
    assert result.certificates[2].reason == "non-finite approximation"
    data = json.loads(dumps(result))
    assert data["n_distinct"] == 2 and len(data["certificates"]) == 3
    assert result.summary.startswith("2 distinct solutions certified, 2 certified real")
