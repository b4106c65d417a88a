"""Claims checked: per-stratum monodromy plus one parameter homotopy finds the critical points a
total-degree homotopy finds; Mehta et al.'s deep linear counts 1, 33 and 641 are reached, certified
and proved complete stratum by stratum; stagnation alone is never called complete; a count proved
at a non-generic instance (repeated penalties) is never reported as the generic count."""
from __future__ import annotations

import numpy as np
import pytest

from theory.counting import stratified_count as M
from theory.network.activations import parse
from theory.counting.stratified_count import CriticalCode, StrataConfig
from theory.counting.monodromy import MonodromyCode
from theory.network.spec import NetworkSpec

QUAD = "z + z^2/4"


def same_set(A: np.ndarray, B: np.ndarray, tol: float = 1e-6) -> bool:
    return len(A) == len(B) and all(np.min(np.max(np.abs(B - a), axis=1)) < tol for a in A)


@pytest.mark.parametrize("spec,n", [
    (NetworkSpec.fully_connected(1, 1, 2, parse("z"), bias=False), 2),
    (NetworkSpec.fully_connected(2, 1, 2, parse(QUAD), bias=False, output_activation=False), 3),
])
def test_critical_monodromy_plus_parameter_homotopy_matches_total_degree(spec, n):
    # base (y0, λ0) generic complex with w* critical by construction; one parameter homotopy to
    # the data's targets and the generic penalty; total degree solves the same penalised system
    from theory.counting import critical_points as Cr
    mono = M.critical_monodromy(spec, n, seed=0)
    td = Cr.critical_points(spec, n, seed=0, planted=False, penalty="generic", start="total_degree")
    assert td.solve.outcomes["failed"] == 0 and mono.failed_paths == 0
    assert same_set(mono.solution_array(), td.solve.solution_array())
    assert mono.n_real == td.counts["real"]


def _mehta(H: int) -> NetworkSpec:
    from theory.network.activations import linear
    return NetworkSpec((2,) * (H + 1), linear(), bias=False, output_activation=False)


def test_mehta_2_2_has_one_critical_point():
    # Mehta, Chen, Tang, Hauenstein 2018: one layer is ridge regression, one critical point
    res = M.critical_monodromy(_mehta(1), 1, seed=0)
    assert res.n_isolated == 1 and res.complete and res.certification.n_distinct == 1


def test_mehta_2_2_2_all_33_critical_points_per_stratum_certified():
    # 33 = 16 (no dead unit) + 8 + 8 (one dead hidden unit) + 1 (W = 0), each stratum's count equal
    # to Macaulay2's exact count (skipped without M2: then nothing is claimed complete)
    from theory.counting import macaulay2
    res = M.critical_monodromy(_mehta(2), 1, seed=0)
    assert [c.n_solutions for c in res.components] == [16, 8, 8, 1]
    assert res.n_isolated == 33 and res.failed_paths == 0
    assert res.certification.n_distinct == 33 and res.certification.n_certified == 33
    if macaulay2.available():
        assert res.complete and res.exact_total == 33 and all(c.complete for c in res.components)
    else:
        assert not res.complete and res.returncode is CriticalCode.UNPROVED


def test_stagnation_alone_is_never_called_complete():
    res = M.critical_monodromy(_mehta(2), 1, seed=1, config=StrataConfig(exact=False, certify=False))
    assert res.exact_total is None and not res.complete
    assert res.returncode is CriticalCode.UNPROVED
    assert all(c.monodromy.returncode is MonodromyCode.HEURISTIC_STOP for c in res.components if c.monodromy)


def test_sign_flip_group_tracks_one_representative_per_orbit():
    # the main stratum of (2,2,2): 16 points in 4 orbits of the flip group (Z/2)^2
    res = M.critical_monodromy(_mehta(2), 1, seed=0, config=StrataConfig(certify=False))
    main = res.components[0].monodromy
    assert main.n_orbits * 4 == main.n_solutions == 16 and len(main.group) == 2


@pytest.mark.slow
def test_mehta_2_2_2_2_all_641_critical_points_in_ten_minutes():
    # 641 = 384 (no dead unit) + 2·64 (one dead unit in layer 1) + 4·32 (one dead in each layer)
    # + 1 (W = 0); one dead unit in layer 2 alone carries none (exact count 0, singular seed)
    import time
    from theory.counting import macaulay2
    if not macaulay2.available():
        pytest.skip("Macaulay2 is needed for the exact per-stratum counts")
    t0 = time.perf_counter()
    res = M.critical_monodromy(_mehta(3), 1, seed=0)
    assert time.perf_counter() - t0 < 600
    counts = {c.stratum.label: c.n_solutions for c in res.components}
    assert counts["no dead unit"] == 384 and counts["W = 0"] == 1
    assert sorted(counts.values()) == [0, 0, 1, 32, 32, 32, 32, 64, 64, 384]
    assert res.n_isolated == 641 and res.exact_total == 641 and res.complete
    assert res.certification.n_distinct == 641


needs_m2 = pytest.mark.skipif(not __import__("theory.counting.macaulay2").counting.macaulay2.available(), reason="Macaulay2 is needed")


@needs_m2
def test_repeated_penalty_instance_is_not_reported_as_the_generic_count():
    # fc 3-1-3 deep linear, one point: λ with two equal output-layer penalties (the old seed-0 draw
    # k/640) has 9 critical points, proved at that instance; the generic count is 13, so the
    # report must say "this instance only", name the repeated penalties and the independent count
    from fractions import Fraction as F
    from theory.network.activations import linear
    spec = NetworkSpec((3, 1, 3), linear(), bias=False, output_activation=False)
    lam = [F(13, 160), F(11, 160), F(43, 640), F(11, 320), F(17, 320), F(11, 320)]
    res = M.critical_monodromy(spec, 1, seed=0, penalty=lam, config=StrataConfig(certify=False))
    assert res.n_isolated == res.exact_total == 9
    assert res.returncode is CriticalCode.INSTANCE_ONLY and not res.complete
    assert res.genericity.generic is False and res.genericity.repeated_penalties == ((3, 5),)
    assert res.genericity.independent_count == 13


@needs_m2
@pytest.mark.parametrize("seed", range(2))
def test_generic_draw_gives_the_generic_count_labelled_complete(seed):
    # the same network under the default draw (distinct large-denominator λ): 13 at every seed,
    # equal to the count at an independent instance
    from theory.network.activations import linear
    spec = NetworkSpec((3, 1, 3), linear(), bias=False, output_activation=False)
    res = M.critical_monodromy(spec, 1, seed=seed, config=StrataConfig(certify=False))
    assert res.n_isolated == res.exact_total == res.genericity.independent_count == 13
    assert res.returncode is CriticalCode.COMPLETE and res.complete and res.genericity.generic


TABLE = [(n0, h, nd) for h in (1, 2) for n0 in (1, 2, 3) for nd in (1, 2, 3)]


def _generic_count(widths, seed: int) -> int:
    """Macaulay2's exact count over QQ at an instance independent of the run's (data and λ from another seed)."""
    from theory.counting import macaulay2
    from theory.network.activations import linear
    from theory.network.data import random_data
    from theory.counting.genericity import generic_penalty
    from theory.network.equations import CriticalSystem

    spec = NetworkSpec(widths, linear(), bias=False, output_activation=False)
    inv = macaulay2.ideal_invariants(CriticalSystem(spec, random_data(spec, 1, seed),
                                                    generic_penalty(spec.n_params, seed)))
    return inv.degree


@needs_m2
@pytest.mark.slow
@pytest.mark.parametrize("widths", TABLE)
def test_one_hidden_layer_deep_linear_counts_equal_the_generic_count_at_seeds_0_to_3(widths):
    # every (input, width, output) with width 1 or 2 and inputs, outputs 1..3, one data point:
    # the count at seeds 0..3 equals the count at an independent instance, each labelled complete
    from theory.network.activations import linear
    spec = NetworkSpec(widths, linear(), bias=False, output_activation=False)
    generic = _generic_count(widths, 1000)
    for seed in range(4):
        res = M.critical_monodromy(spec, 1, seed=seed, config=StrataConfig(certify=False))
        assert res.n_isolated == res.exact_total == generic, (widths, seed)
        assert res.returncode is CriticalCode.COMPLETE and res.genericity.independent_count == generic


@needs_m2
@pytest.mark.parametrize("widths", [(2, 2, 2), (1, 2, 2)])
def test_two_table_entries_equal_the_generic_count_in_the_default_suite(widths):
    # (1, 2, 2) at seed 2 was 25 of 33 under the former draw
    from theory.network.activations import linear
    spec = NetworkSpec(widths, linear(), bias=False, output_activation=False)
    res = M.critical_monodromy(spec, 1, seed=2, config=StrataConfig(certify=False))
    assert res.n_isolated == res.exact_total == _generic_count(widths, 1000)
    assert res.returncode is CriticalCode.COMPLETE


@needs_m2
@pytest.mark.parametrize("seed", [0, 3])
def test_width_3_strata_are_all_reached_even_when_a_first_seed_is_ill_conditioned(seed):
    # fc 3-3-1: 13 = 3 strata with two dead units × 4 + W = 0 (the others carry none); at seed 3
    # the first random seed of one stratum is ill-conditioned and a fresh one is drawn; at seed 0
    # the former draw left two strata at 2 of 4
    from theory.network.activations import linear
    spec = NetworkSpec((3, 3, 1), linear(), bias=False, output_activation=False)
    res = M.critical_monodromy(spec, 1, seed=seed, config=StrataConfig(certify=False))
    assert res.n_isolated == res.exact_total == _generic_count((3, 3, 1), 1000)
    assert res.returncode is CriticalCode.COMPLETE


def test_a_failed_exact_count_leaves_the_count_unproved_and_says_why(monkeypatch):
    # Macaulay2 out of time: no exact count, so the loops stop on stagnation and nothing is called complete
    from landscape_core.errors import SolverError
    from theory.counting import macaulay2

    class Failed:
        def result(self):
            raise SolverError("Macaulay2 did not finish within 1 s")

        def done(self):
            return True

        def finished(self):
            return True

        def n_done(self):
            return 0

        def cancel(self):
            pass

    monkeypatch.setattr(macaulay2, "start_invariants", lambda *a, **k: Failed())
    res = M.critical_monodromy(_mehta(2), 1, seed=0, config=StrataConfig(exact=True, certify=False))
    assert res.returncode is CriticalCode.UNPROVED and not res.complete and res.exact_total is None
    assert "did not finish" in res.completeness
    assert res.n_isolated == 33  # stagnation still finds them; it just proves nothing


def test_past_the_macaulay2_budget_the_count_falls_back_to_zz_p_and_is_labelled_evidence():
    # Macaulay2 over QQ given 0.05 s: the per-stratum counts come from ZZ/p instead, the count still
    # matches them, and the verdict says evidence, never complete
    from theory.counting import macaulay2
    if not macaulay2.available():
        pytest.skip("Macaulay2 (M2) is not installed")
    seen = []
    res = M.critical_monodromy(_mehta(2), 1, seed=0, config=StrataConfig(certify=False, m2_timeout=0.05),
                               exact_progress=lambda done, total: seen.append((done, total)))
    assert res.returncode is CriticalCode.MODULAR_EVIDENCE and not res.complete
    assert res.n_isolated == res.exact_total == 33
    assert "evidence, not proof" in res.completeness and "did not finish within 0.05 s" in res.completeness
    assert all("ZZ/" in c.how for c in res.components if not c.stratum.zero)
    assert seen and all(total == 3 for _, total in seen)  # three closed strata are counted (W = 0 needs none)


def test_without_a_fallback_a_count_past_budget_stays_unproved():
    from theory.counting import macaulay2
    if not macaulay2.available():
        pytest.skip("Macaulay2 (M2) is not installed")
    res = M.critical_monodromy(_mehta(2), 1, seed=0,
                               config=StrataConfig(certify=False, m2_timeout=0.05, m2_fallback_timeout=None))
    assert res.returncode is CriticalCode.UNPROVED and res.exact_total is None


def test_loops_that_find_nothing_new_through_several_checks_end_as_stuck_not_as_complete():
    # the completeness hook stays False (short of the exact count) while the known points do not grow:
    # after STUCK_CHECKS such checks the hook answers None (a heuristic stop), so a fresh seed can try
    hook = M._unless_stuck(lambda pts: False)
    one = np.zeros((1, 2))
    assert [hook(one) for _ in range(M.STUCK_CHECKS - 1)] == [False] * (M.STUCK_CHECKS - 1)
    assert hook(one) is None
    growing = M._unless_stuck(lambda pts: False)
    assert all(growing(np.zeros((k, 2))) is False for k in range(1, 10))
    assert M._unless_stuck(lambda pts: True)(one) is True


@pytest.mark.slow
def test_a_stratum_whose_first_seed_is_stuck_is_completed_from_a_fresh_seed():
    # fc 2-3-1 with P = z + z²/4 on one point, seed 0: the stratum with layer 1 unit 1 dead has a seed
    # (cond 1.3e6) whose loops stay at 1 of 16 points; a fresh seed completes it: 105, proved
    spec = NetworkSpec((2, 3, 1), parse(QUAD), bias=False, output_activation=False)
    res = M.critical_monodromy(spec, 1, seed=0, config=StrataConfig(certify=False))
    assert res.returncode is CriticalCode.COMPLETE and res.n_isolated == res.exact_total == 105
