"""Hypothesis strategies for network specs shared by the theory tests.

Preconditions are encoded in the strategies rather than filtered afterwards (as sympy's
`test_hypothesis.py` does): only network shapes within the weight budget are ever drawn, and with
`max_terms` only activation degrees whose guaranteed term bound, the one the expansion guard
checks (`theory.bounds.degrees.zero_error_expansion_bound`), stays within it.
"""
from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from itertools import product

from hypothesis import strategies as st

from theory.network.activations import PolyActivation
from theory.bounds.degrees import zero_error_expansion_bound
from theory.network.spec import NetworkSpec

_LEADS = [Fraction(1), Fraction(-1, 2), Fraction(1, 3), Fraction(2)]


@st.composite
def activations(draw, max_degree: int = 3, degrees: tuple[int, ...] | None = None) -> PolyActivation:
    """A polynomial activation of degree 1..max_degree (or one of `degrees`) with small rational coefficients."""
    degree = draw(st.sampled_from(degrees)) if degrees else draw(st.integers(1, max_degree))
    coeffs = [draw(st.fractions(min_value=-2, max_value=2, max_denominator=4)) for _ in range(degree)]
    lead = draw(st.sampled_from(_LEADS))
    return PolyActivation(tuple(coeffs) + (lead,))


def _build(shape: tuple, act: PolyActivation) -> NetworkSpec:
    if shape[0] == "fc":
        _, widths, bias, out_act = shape
        return NetworkSpec(widths, act, bias=bias, output_activation=out_act)
    _, depth, units, shared, bias, out_act = shape
    return NetworkSpec.tree(depth, act, units=units, bias=bias, shared=shared, output_activation=out_act)


def _dense(degree: int) -> PolyActivation:
    # Every coefficient nonzero: term and degree bounds only grow with the nonzero coefficients, so
    # this activation's bound covers every activation of the same degree.
    return PolyActivation((Fraction(1),) * (degree + 1))


@lru_cache(maxsize=None)
def _shapes(arch: str, max_depth: int, max_width: int, max_degree: int, max_params: int,
            max_terms: int | None) -> tuple[tuple[tuple, tuple[int, ...]], ...]:
    """Return every (shape, admissible degrees) of `arch` within the weight and term budgets."""
    if arch == "fc":
        candidates = [("fc", widths, bias, out)
                      for depth in range(1, max_depth + 1)
                      for widths in product(range(1, max_width + 1), repeat=depth + 1)
                      for bias, out in product((False, True), repeat=2)]
    else:
        candidates = [("tree", depth, units, shared, bias, out)
                      for depth in range(1, min(max_depth, 2) + 1) for units in (1, 2)
                      for shared, bias, out in product((False, True), repeat=3)]
    out = []
    for shape in candidates:
        if _build(shape, _dense(1)).n_params > max_params:
            continue
        degrees = tuple(d for d in range(1, max_degree + 1)
                        if max_terms is None or zero_error_expansion_bound(_build(shape, _dense(d))) <= max_terms)
        if degrees:
            out.append((shape, degrees))
    return tuple(out)


@st.composite
def specs(draw, max_depth: int = 3, max_width: int = 3, max_degree: int = 3, max_params: int = 40,
          max_terms: int | None = None) -> NetworkSpec:
    """A small fc or tree network spec with at most `max_params` weights.

    With `max_terms`, one expanded zero-error equation has a guaranteed term bound of at most
    `max_terms`, so `ZeroErrorSystem.polynomials(max_terms)` never refuses it.
    """
    arch = draw(st.sampled_from(("fc", "tree")))
    pool = (_shapes(arch, max_depth, max_width, max_degree, max_params, max_terms)
            or _shapes("fc" if arch == "tree" else "tree", max_depth, max_width, max_degree, max_params, max_terms))
    shape, degrees = draw(st.sampled_from(pool))
    return _build(shape, draw(activations(degrees=degrees)))
