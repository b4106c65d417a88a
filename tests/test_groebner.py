"""Claims checked: Gröbner bases decide consistency (Nullstellensatz) and count solutions with
multiplicity for zero-dimensional ideals, over Q and modulo a prime, and the count verdict says
when primes disagree."""
from __future__ import annotations

import pytest

from theory.counting import groebner as G


def test_groebner_check_on_hand_made_ideals():
    import sympy
    from sympy.polys.rings import ring
    R, x, y = ring("x,y", sympy.QQ)
    assert G.groebner_check([x * y - 1, x]).consistent is False
    assert G.groebner_check([x * y - 1, x - y]).consistent is True


@pytest.mark.parametrize("modulus", [None, 2**31 - 1])
def test_groebner_counts_solutions_with_multiplicity(modulus):
    """dim Q[x,y]/I counts the complex solutions of a zero-dimensional ideal with multiplicity."""
    import sympy
    from sympy.polys.rings import ring
    R, x, y = ring("x,y", sympy.QQ)
    count = lambda polys: G.groebner_check(polys, modulus=modulus).n_solutions  # noqa: E731
    assert count([x**2 - 1, y**3 - sympy.Rational(2, 3)]) == 6  # Bezout, all simple
    assert count([x * y - 1, x**2 + y**2 - 4]) == 4
    assert count([x**2, x * y, y**2]) == 3  # one point of multiplicity 3
    assert count([x * y]) is None  # two lines: positive-dimensional
    assert count([x * y - 1, x]) is None and not G.groebner_check([x * y - 1, x], modulus=modulus).consistent


def test_standard_monomials_of_a_staircase():
    # leading terms x^2, x y, y^3: standard monomials 1, x, y, y^2
    assert G.standard_monomial_count([(2, 0), (1, 1), (0, 3)], 2) == 4
    assert G.standard_monomial_count([(1, 1)], 2) is None


def test_count_verdict_compares_primes_and_the_homotopy_count():
    ok = G.GroebnerCheck(True, 3, "grevlex", 0.1, 6, 7)
    assert G.count_verdict([ok, G.GroebnerCheck(True, 3, "grevlex", 0.1, 6, 11)], 6).startswith(
        "6 complex solutions with multiplicity")
    assert "all found" in G.count_verdict([ok, ok], 6)
    assert "homotopy found 5 distinct regular" in G.count_verdict([ok, ok], 5)
    assert "the primes disagree" in G.count_verdict([ok, G.GroebnerCheck(True, 3, "grevlex", 0.1, 5, 11)], 6)
    assert "no complex solution" in G.count_verdict([G.GroebnerCheck(False, 1, "grevlex", 0.1, None, 7)], 0)
