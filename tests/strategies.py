"""Hypothesis strategies for network specs shared by the theory tests."""
from fractions import Fraction

from hypothesis import strategies as st

from theory.activations import PolyActivation
from theory.networks import NetworkSpec


@st.composite
def activations(draw, max_degree: int = 3) -> PolyActivation:
    """A polynomial activation of degree 1..max_degree with small rational coefficients."""
    degree = draw(st.integers(1, max_degree))
    coeffs = [draw(st.fractions(min_value=-2, max_value=2, max_denominator=4)) for _ in range(degree)]
    lead = draw(st.sampled_from([Fraction(1), Fraction(-1, 2), Fraction(1, 3), Fraction(2)]))
    return PolyActivation(tuple(coeffs) + (lead,))


@st.composite
def specs(draw, max_depth: int = 3, max_width: int = 3, max_degree: int = 3, max_params: int = 40) -> NetworkSpec:
    """A small fc or tree network spec with at most `max_params` weights."""
    act = draw(activations(max_degree))
    bias = draw(st.booleans())
    out_act = draw(st.booleans())
    if draw(st.booleans()):
        depth = draw(st.integers(1, max_depth))
        widths = tuple(draw(st.integers(1, max_width)) for _ in range(depth + 1))
        spec = NetworkSpec(widths, act, bias=bias, output_activation=out_act)
    else:
        depth = draw(st.integers(1, 2))
        spec = NetworkSpec.tree(depth, act, units=draw(st.integers(1, 2)), bias=bias,
                                shared=draw(st.booleans()), output_activation=out_act)
    from hypothesis import assume

    assume(spec.n_params <= max_params)
    return spec
