"""Claims checked: systems read from strings evaluate what they say, bad input raises named errors, and
homogenization is exact (files: tests/test_system_files.py)."""
from __future__ import annotations

import numpy as np
import pytest

from theory.polynomials import system as P
from landscape_core.errors import InvalidSpecError


def test_unparsable_polynomial_raises_a_named_error():
    with pytest.raises(InvalidSpecError, match="cannot parse"):
        P.from_strings(["8450*a0*b0^2/1369 - 1;"])


def test_from_strings_evaluates_and_differentiates_like_the_formula():
    s = P.from_strings(["x^2*y + 3*x - 1;", "y - 2*i;"])
    x = np.array([0.3 - 1.1j, 2.0 + 0.5j])
    assert np.allclose(s.evaluate(x), [x[0] ** 2 * x[1] + 3 * x[0] - 1, x[1] - 2j], atol=1e-14)
    assert np.allclose(s.jacobian(x), [[2 * x[0] * x[1] + 3, x[0] ** 2], [0, 1]], atol=1e-14)


def test_with_linear_appends_the_affine_equations():
    s = P.from_strings(["x*y - 1;"], names=["x", "y"])
    A, b = np.array([[1.0, 2.0j]]), np.array([0.5])
    t = s.with_linear(A, b)
    x = np.array([1.5 + 0.2j, -0.7j])
    assert t.n_equations == 2 and t.is_square
    assert np.allclose(t.evaluate(x), [x[0] * x[1] - 1, x[0] + 2j * x[1] + 0.5], atol=1e-14)
    # the PHCpack string of the slice evaluates to the same affine form
    u = P.from_strings(list(t.polys), names=["x", "y"])
    assert np.allclose(u.evaluate(x), t.evaluate(x), atol=1e-12)


def test_homogenize_is_exact_on_a_small_example():
    s = P.from_strings(["x^2*y + 3*x - 1;", "y - 2;"])
    polys, degs = P.homogenize(s)
    assert degs == [3, 1]
    hom = P.from_strings(polys, names=[P.HOM, "x", "y"])
    rng = np.random.default_rng(0)
    x = rng.normal(size=2) + 1j * rng.normal(size=2)
    lam = 0.7 - 0.2j
    # f^h(λ, λx) = λ^d f(x)
    got = hom.evaluate(np.concatenate([[lam], lam * x]))
    assert np.allclose(got, [lam**3 * s.evaluate(x)[0], lam * s.evaluate(x)[1]], atol=1e-12)
