"""Claims checked: dim = K − r, witness degree within every Bezout-type bound and independent of the
slice, PHCpack's decomposition agrees with our witness sets, Gröbner inconsistency matches, and the
optional studies of `dimension` are attached to its report."""
from __future__ import annotations

import numpy as np
import pytest

from theory.counting import dimension as W
from theory.network.activations import linear, parse
from theory.bounds.bezout import bezout_report
from theory.network.data import planted_data, random_data
from theory.counting.groebner import zero_error_groebner
from theory.network.spec import NetworkSpec
from theory.polynomials.system import network_system
from theory.bounds.rank import numerical_rank
from theory.network.equations import ZeroErrorSystem
from theory.homotopy.tracker import ENDPOINT_RANK_RTOL

QUAD = "z + z^2/4"  # P(−4 − z) = P(z): each activated unit has a reflection symmetry


def fc(n0, width, layers, act, **kw):
    return NetworkSpec.fully_connected(n0, width, layers, act, **kw)


def test_deep_linear_scalar_zero_error_set_is_a_conic():
    # f = b·a·x: one data point gives the hyperbola a b = y/x: dimension 1, degree 2
    spec = fc(1, 1, 2, linear(), bias=False)
    rep = W.zero_error_dimension(spec, 1, seed=3)
    assert (rep.dimension, rep.degree, rep.confirmed) == (1, 2, True)
    data, _ = planted_data(spec, 1, 3)
    c = float(data.Y[0][0] / data.X[0][0])
    for a, b in rep.witness.point_array():
        assert a * b == pytest.approx(c, abs=1e-10)


@pytest.mark.parametrize("spec,n", [
    (fc(2, 2, 2, linear(), bias=False), 2),
    (fc(1, 2, 2, parse(QUAD), output_activation=False), 3),
    (fc(2, 2, 2, parse("z^2 + z"), bias=False, output_activation=False), 3),
    (fc(1, 1, 2, parse(QUAD)), 2),
])
def test_dimension_is_K_minus_N_on_random_instances(spec, n):
    rep = W.zero_error_dimension(spec, n, seed=1)
    K = spec.n_params
    assert rep.generic_rank == n
    assert rep.dimension == K - n == rep.expected_dimension
    assert rep.confirmed and rep.local_dimension_at_planted == K - n
    assert rep.witness.solve.outcomes["failed"] == 0


@pytest.mark.parametrize("spec,n", [
    (fc(1, 2, 2, parse(QUAD), output_activation=False), 3),
    (fc(1, 1, 2, parse(QUAD)), 2),
])
def test_witness_degree_never_exceeds_any_bound_from_bezout(spec, n):
    rep = W.zero_error_dimension(spec, n, seed=2)
    br = bezout_report(spec, n, seed=2)
    assert rep.degree >= 1
    assert rep.degree <= br.witness_bound and rep.degree <= br.bezout
    assert rep.degree <= rep.stable_mixed_volume <= rep.bezout
    assert rep.degree_within_bounds


def test_witness_degree_does_not_depend_on_the_slice():
    spec = fc(1, 2, 2, parse(QUAD), output_activation=False)
    data, _ = planted_data(spec, 3, 4)
    system = network_system(ZeroErrorSystem(spec, data))
    degrees = {W.witness_set(system, spec.n_params - 3, seed=s).degree for s in (10, 11, 12)}
    assert len(degrees) == 1


def test_decomposition_finds_four_reflection_components_matching_witness_degree():
    # P(z) = z + z²/4 satisfies P(−4 − z) = P(z), so (a, c) ↦ (−a, −4 − c) in either activated
    # layer fixes f: the zero-error set splits into 4 components of equal degree .
    spec = fc(1, 1, 2, parse(QUAD))
    data, _ = planted_data(spec, 2, 0)
    system = network_system(ZeroErrorSystem(spec, data))
    deco = W.decompose(system, seed=1)
    dims = {c.dimension for c in deco.components}
    assert dims == {2}
    assert len(deco.components) == 4 and len({c.degree for c in deco.components}) == 1
    assert all(c.trace_error < 1e-8 for c in deco.components)
    ours = W.witness_set(system, 2, seed=5)
    assert sum(c.degree for c in deco.components) == ours.degree


def test_groebner_detects_inconsistency_that_witness_sets_see_as_empty():
    # f = a·b·x has generic Jacobian rank 1: two random points give a·b = c1, a·b = c2 ≠ c1
    spec = fc(1, 1, 2, linear(), bias=False)
    z = ZeroErrorSystem(spec, random_data(spec, 2, 0))
    assert zero_error_groebner(z).consistent is False
    rep = W.zero_error_dimension(spec, 2, seed=0, planted=False)
    assert rep.generic_rank == 1 and rep.degree == 0 and rep.consistent is False
    planted = ZeroErrorSystem(spec, planted_data(spec, 2, 0)[0])
    assert zero_error_groebner(planted).consistent is True


def test_numerical_rank_sees_a_clear_gap():
    rng = np.random.default_rng(0)
    J = rng.normal(size=(5, 3)) @ rng.normal(size=(3, 8))
    nr = numerical_rank(J, rtol=ENDPOINT_RANK_RTOL)  # the rule witness sets use at endpoints
    assert nr.rank == 3 and nr.gap > 1e8


def test_verify_bezout_reports_degree_within_bounds():
    spec = fc(1, 2, 2, parse(QUAD), output_activation=False)
    v = W.verify_bezout(spec, 3, seed=0)
    assert v.within_bounds and v.confirmed
    assert v.measured_dimension == v.expected_dimension == spec.n_params - 3
    assert 1 <= v.measured_degree <= v.witness_bound
    assert v.failed_paths == 0


def test_dimension_is_K_minus_N_for_random_targets_too():
    # random (not planted) targets: consistent over C for N ≤ r, with no known solution
    spec = fc(2, 2, 2, parse("z^2 + z"), bias=False, output_activation=False)
    rep = W.zero_error_dimension(spec, 3, seed=7, planted=False)
    assert rep.consistent and rep.confirmed
    assert rep.dimension == spec.n_params - 3 and rep.local_dimension_at_planted is None
    assert rep.degree <= min(rep.bezout, rep.stable_mixed_volume)


def test_tree_network_zero_error_set_dimension_and_degree():
    spec = NetworkSpec.tree(1, parse(QUAD), output_activation=False)  # one node, Q = 2 units, K = 8
    rep = W.zero_error_dimension(spec, 2, seed=0)
    assert rep.dimension == spec.n_params - 2 and rep.confirmed
    assert 1 <= rep.degree <= rep.bezout


def test_dimension_report_carries_the_studies_asked_for_and_json_only_those():
    import json

    from landscape_core.serialize import to_jsonable

    spec = fc(1, 1, 2, linear(), bias=False)
    rep = W.zero_error_dimension(spec, 1, seed=3, groebner=True)
    assert rep.groebner is not None and rep.groebner.consistent and rep.monodromy is None
    doc = json.loads(json.dumps(to_jsonable(rep)))
    assert doc["groebner"]["consistent"] is True and "monodromy" not in doc and "decomposition" not in doc
    assert "slices" not in doc["witness"] and doc["witness"]["degree"] == 2


def test_dimension_monodromy_needs_a_known_solution():
    from landscape_core.errors import InvalidSpecError

    spec = fc(1, 1, 2, linear(), bias=False)
    with pytest.raises(InvalidSpecError, match="--targets planted"):
        W.zero_error_dimension(spec, 1, seed=0, planted=False, monodromy=3)


def test_dimension_degree_is_trace_certified_and_a_missing_point_makes_it_a_lower_bound():
    # the trace test passes on the full witness set; with one point dropped it fails, and the
    # degree of such a set could only be reported as a lower bound
    from dataclasses import replace
    from theory.homotopy.tracker import TrackConfig
    spec = NetworkSpec.fully_connected(1, 2, 2, parse("z + z^2/4"), output_activation=False)
    rep = W.zero_error_dimension(spec, 3, seed=0)
    assert rep.trace.passed and rep.degree_status == "complete" and rep.degree == 17
    data, _ = planted_data(spec, 3, 0)
    system = network_system(ZeroErrorSystem(spec, data))
    partial = replace(rep.witness, points=rep.witness.points[1:], degree=rep.degree - 1)
    assert not W.witness_trace_test(spec, data, system, partial, 0, TrackConfig(seed=0)).passed


def test_a_witness_set_missing_a_point_completes_itself_by_monodromy_to_the_generic_degree():
    # fc 1-2-1, P = z², N = 3 planted: at seed 0 the homotopy ends one witness path on an endpoint
    # too ill-conditioned for double precision, the trace test fails, and monodromy on the slice
    # offsets (with extended-precision refinement) completes the set; the degree then equals the
    # one measured at seed 1, where the homotopy alone passes the trace test
    spec = NetworkSpec((1, 2, 1), parse("z^2"), bias=True, output_activation=False)
    rep = W.zero_error_dimension(spec, 3, seed=0)
    other = W.zero_error_dimension(spec, 3, seed=1)
    assert other.completion is None and other.trace.passed
    assert rep.completion is not None and rep.completion.is_success and rep.trace.passed
    assert rep.witness.degree < rep.degree == other.degree
    assert rep.degree_status == "complete"
