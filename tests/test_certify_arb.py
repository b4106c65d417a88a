"""Claims checked: the Arb-ball Krawczyk test certifies regular zeros that the double-precision test
cannot (two roots 2·10⁻¹⁰ apart), proves them real and distinct, refuses a point that is not near a
zero, and `combine` recounts the set with the new certificates as a proved lower bound."""
from __future__ import annotations

import numpy as np
import sympy as sp
from sympy import QQ
from sympy.polys.rings import ring

from theory.counting.certify import certify, combine, terms_from_sympy
from theory.counting.certify_arb import certify_balls

R, x, y = ring("x,y", QQ)
EPS = QQ(1, 10**10)
# zeros (1 ± ε, ε(1 ± ε)) with ε = 10⁻¹⁰: regular, but cond ≈ 10¹⁰, beyond double-precision Krawczyk
POLYS = [(x - 1) ** 2 - EPS ** 2 + y * EPS ** 3, y - x * EPS]
ZEROS = np.array([[1 + 1e-10, 1e-10], [1 - 1e-10, 1e-10]], dtype=complex)


def _terms():
    return terms_from_sympy([p.as_expr() for p in POLYS], [sp.Symbol("x"), sp.Symbol("y")])


def test_ill_conditioned_zeros_fail_in_double_and_are_certified_real_and_distinct_in_arb():
    double = certify(_terms(), ZEROS)
    assert double.n_certified == 0
    balls = certify_balls(POLYS, ZEROS)
    assert all(b.certified and b.real is True and b.precision >= 128 for b in balls)
    # the enclosure holds the exact zero 1 + ε (to the float's rounding)
    assert abs(balls[0].enclosure_centre[0] - (1 + 1e-10)) <= balls[0].enclosure_radius + 1e-15
    merged = combine(_terms(), double, balls, "double, then Arb")
    assert (merged.n_certified, merged.n_distinct, merged.n_real, merged.n_high_precision) == (2, 2, 2, 2)
    assert merged.n_undecided_pairs == 0 and "Arb" in merged.summary


def test_a_point_far_from_every_zero_is_not_certified():
    far = certify_balls(POLYS, np.array([[3.0, 0.5]]))
    assert not far[0].certified and far[0].enclosure_radius == float("inf")


def test_the_same_zero_twice_counts_once():
    double = certify(_terms(), np.vstack([ZEROS[:1], ZEROS[:1]]))
    balls = certify_balls(POLYS, np.vstack([ZEROS[:1], ZEROS[:1]]))
    merged = combine(_terms(), double, balls, "double, then Arb")
    assert merged.n_certified == 2 and merged.n_distinct == 1


def test_complex_zeros_are_certified_non_real():
    R2, z = ring("z", QQ)
    polys = [z ** 2 + 1]
    balls = certify_balls(polys, np.array([[1j], [-1j]]))
    assert all(b.certified and b.real is False for b in balls)
