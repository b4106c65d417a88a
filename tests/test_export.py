"""Claims about the exports to PHCpack, Macaulay2 and JSON: they round-trip, and refuse what would not fit."""
import json
from fractions import Fraction

import pytest

from theory.network.activations import parse, relu_legendre
from theory.network.data import ExactData, random_data
from landscape_core.errors import ExpansionTooLarge
from theory.polynomials.export import parse_equations, read_phc, to_json, to_macaulay2, to_phc
from theory.network.spec import NetworkSpec
from theory.network.rings import nested_formula_length
from theory.network.equations import CriticalSystem, ZeroErrorSystem


def _terms(poly):
    return {m: Fraction(int(c.numerator), int(c.denominator)) for m, c in poly.terms()}


@pytest.mark.parametrize("expanded", [True, False])
def test_exports_round_trip_to_the_same_polynomials(expanded):
    spec = NetworkSpec.fully_connected(2, 2, 2, parse("z + z^2/3"))
    data = random_data(spec, 3, 5)
    system = ZeroErrorSystem(spec, data)
    exact = system.polynomials()
    names = system.variable_names
    # JSON and Macaulay2 carry exact rationals: equality is exact
    doc = json.loads(to_json(system, expanded=expanded))
    assert doc["expanded"] is expanded
    for p, q in zip(exact, parse_equations(doc["equations"], doc["variables"])):
        assert _terms(p) == _terms(q)
    m2 = to_macaulay2(system, expanded=expanded)
    body = m2.split("ideal(", 1)[1].rsplit(")", 1)[0]
    m2_eqs = [e.strip() for e in body.split(",\n")]
    for p, q in zip(exact, parse_equations(m2_eqs, names)):
        assert _terms(p) == _terms(q)
    # PHCpack format carries floats: equal to double precision
    eqs, variables = read_phc(to_phc(system, expanded=expanded))
    assert sorted(variables) == sorted(names)
    for p, q in zip(exact, parse_equations(eqs, names)):
        tp, tq = _terms(p), _terms(q)
        assert set(tp) == set(tq)
        assert all(abs(float(tp[m] - tq[m])) <= 1e-12 * max(1.0, abs(float(tp[m]))) for m in tp)


def test_nested_export_of_a_deep_wide_network_is_refused_before_it_is_built():
    """Nested text grows like (width × #activation terms)^depth: depth 8, width 30 would need ~10^20 bytes."""
    spec = NetworkSpec.fully_connected(1, 30, 8, relu_legendre(6))
    data = random_data(spec, 2, 0)
    assert nested_formula_length(spec, data, exact=False) > 10**18
    with pytest.raises(ExpansionTooLarge, match="characters"):
        to_phc(ZeroErrorSystem(spec, data))


def test_nested_phc_export_has_no_zero_literals():
    """PHCpack misparses products with a literal 0.0e+00, so zero data entries are dropped."""
    spec = NetworkSpec.fully_connected(2, 2, 2, parse("z + z^2"))
    data = ExactData.from_arrays([[Fraction(2, 5), 0], [1, -1]], [[-1], [2]])
    text = to_phc(ZeroErrorSystem(spec, data), expanded=False)
    assert "0.0000000000000000e+00" not in text


def test_critical_export_is_square():
    spec = NetworkSpec.fully_connected(1, 1, 2, parse("z^2"), bias=False)
    crit = CriticalSystem(spec, random_data(spec, 2, 0))
    head = to_phc(crit).split("\n", 1)[0]
    assert head == str(spec.n_params)
