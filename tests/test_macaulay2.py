"""Claims checked: Macaulay2's dim I and degree I of a zero-error ideal equal the dimension and the
witness-point count that `dimension` measures (degree of the projective closure = points on a
generic affine slice), its critical-point counts equal the known Mehta et al. counts, and a
missing M2 is one named error with an install hint."""
from __future__ import annotations

import pytest

from theory.counting import macaulay2 as M2
from theory.network.activations import linear, parse
from theory.counting.critical_points import generic_penalty
from theory.network.data import random_data
from landscape_core.errors import SolverError
from theory.network.spec import NetworkSpec
from theory.network.equations import CriticalSystem

needs_m2 = pytest.mark.skipif(not M2.available(), reason="Macaulay2 (M2) is not installed")


def test_parse_reads_the_marked_lines_among_other_output():
    out = "-- warning: something\nDIM=3\n\nDEGREE=17\n"
    assert M2.parse_invariants(out) == (3, 17)
    assert M2.parse_invariants("DIM=-1\nDEGREE=0\n") == (-1, 0)
    with pytest.raises(SolverError):
        M2.parse_invariants("i1 : oops\n")


def test_missing_m2_raises_solver_error_with_install_hint(monkeypatch):
    monkeypatch.setattr(M2.shutil, "which", lambda name: None)
    with pytest.raises(SolverError, match="apt-get install macaulay2"):
        M2.m2_binary()


@needs_m2
def test_mehta_2_2_2_has_33_complex_critical_points():
    # Mehta, Chen, Tang, Hauenstein 2018 (arXiv:1810.07716): widths 2, one point, generic λ
    spec = NetworkSpec((2, 2, 2), linear(), bias=False, output_activation=False)
    crit = CriticalSystem(spec, random_data(spec, 1, 0), generic_penalty(spec.n_params, 0))
    inv = M2.ideal_invariants(crit)
    assert (inv.dim, inv.degree) == (0, 33)


CASES = [((1, 2, 1), "z + z^2/4", 3), ((1, 2, 1), "z^2 + z", 4), ((2, 1, 1), "z + z^2/4", 2),
         ((2, 1, 1), "z + z^3/8", 2), ((1, 2, 1), "z + z^2/4 + z^3/8", 3)]


@needs_m2
@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("widths,act,n", CASES)
def test_dimension_and_trace_certified_degree_equal_macaulay2(widths, act, n, seed):
    # 15 random planted instances: dim = K − r measured at witness points equals M2's dim I, and the
    # witness-point count (trace test passed: complete) equals M2's degree I
    from theory.network.equations import ZeroErrorSystem
    from theory.network.data import planted_data
    from theory.counting.dimension import zero_error_dimension

    spec = NetworkSpec(widths, parse(act), bias=True, output_activation=False)
    data, w_star = planted_data(spec, n, seed)
    rep = zero_error_dimension(spec, n, seed=seed, data=data, w_star=w_star)
    inv = M2.ideal_invariants(ZeroErrorSystem(spec, data))
    assert rep.degree_status == "complete" and rep.trace.passed
    assert (rep.dimension, rep.degree) == (inv.dim, inv.degree)


PLANTED_FAMILY = [(act, n, seed) for act in ("z^2", "z + z^2/4", "z^2 + z^3", "1 + z + z^2")
                  for n in (1, 2, 3) for seed in range(3)]
DEFAULT_FEW = [("z^2", 3, 0), ("z + z^2/4", 2, 1), ("1 + z + z^2", 1, 2)]


def _witness_against_m2(act: str, n: int, seed: int) -> None:
    from theory.network.data import planted_data
    from theory.network.equations import ZeroErrorSystem
    from theory.counting.dimension import zero_error_dimension

    spec = NetworkSpec((1, 2, 1), parse(act), bias=True, output_activation=False)
    data, w_star = planted_data(spec, n, seed)
    rep = zero_error_dimension(spec, n, seed=seed, data=data, w_star=w_star)
    inv = M2.ideal_invariants(ZeroErrorSystem(spec, data))
    assert rep.degree_status == "complete" and rep.trace.passed
    assert (rep.dimension, rep.degree) == (inv.dim, inv.degree)


@needs_m2
@pytest.mark.slow
@pytest.mark.parametrize("act,n,seed", PLANTED_FAMILY)
def test_witness_dimension_and_degree_equal_macaulay2_on_all_36_planted_networks(act, n, seed):
    # fc 1-2-1 with bias, 4 activations × N = 1..3 × seeds 0..2: the witness set (completed by
    # monodromy where the trace test failed) has M2's dimension and degree, trace-test proved
    _witness_against_m2(act, n, seed)


@needs_m2
@pytest.mark.parametrize("act,n,seed", DEFAULT_FEW)
def test_witness_dimension_and_degree_equal_macaulay2_on_a_few_planted_networks(act, n, seed):
    # three of the 36, one of them (z², N = 3, seed 0) needing the monodromy completion
    _witness_against_m2(act, n, seed)
