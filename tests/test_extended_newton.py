"""Claims checked: Newton with extended-precision residuals recovers a regular zero too ill-conditioned
for double-precision Newton to pass the quadratic-convergence test, and does not call a double root
regular."""
from __future__ import annotations

import mpmath
import numpy as np

from theory.homotopy.extended_newton import refine_extended
from theory.polynomials.system import System
from theory.homotopy.tracker import TrackConfig, newton_refine

EPS = mpmath.mpf("1e-6")


def _residual(w):
    x, y = w
    return [x + y - 2, x * y - 1 + EPS ** 2]  # zeros (1 ± ε, 1 ∓ ε): Jacobian determinant ±2ε


def _jacobian(w: np.ndarray) -> np.ndarray:
    return np.array([[1, 1], [w[1], w[0]]], dtype=complex)


def test_extended_precision_refines_an_ill_conditioned_regular_zero_past_the_double_floor():
    x0 = np.array([1 + 1e-6 + 3e-9, 1 - 1e-6 - 2e-9], dtype=complex)
    ref = refine_extended(_residual, _jacobian, x0)
    with mpmath.workdps(40):
        exact = [1 + EPS, 1 - EPS]
        assert all(abs(mpmath.mpc(complex(v)) - e) < 1e-15 for v, e in zip(ref.x, exact))
    assert ref.regular and ref.step <= 1e-20
    # double-precision Newton stalls above the regular-endpoint step test (1e-11 relative)
    f = lambda w: np.array([w[0] + w[1] - 2, w[0] * w[1] - 1 + 1e-12], dtype=complex)  # noqa: E731
    sysd = System(("0;", "0;"), ("x", "y"), f, _jacobian, "ill-conditioned")
    _, step = newton_refine(sysd, x0)
    assert step > TrackConfig().tol_step * 3


def test_a_double_root_is_not_called_regular():
    # (x − 1)² = 0, y = 1: Newton converges only linearly at the double root
    res = lambda w: [(w[0] - 1) ** 2, w[1] - 1]  # noqa: E731
    jac = lambda w: np.array([[2 * (w[0] - 1), 0], [0, 1]], dtype=complex)  # noqa: E731
    ref = refine_extended(res, jac, np.array([1 + 1e-4, 1], dtype=complex))
    assert not ref.regular
