"""Claims checked: the trace test tells complete from incomplete witness sets; the loop's return
code says whether it stopped on a proof (target count, passed completeness check), on stagnation
alone (a heuristic stop) or on the budget, and a completeness hook that says "incomplete" keeps
the loops going."""
from __future__ import annotations

import numpy as np
import pytest

from theory.counting.monodromy import LoopBudget

from theory.counting import monodromy as M
from theory.network.activations import parse
from theory.network.data import planted_data
from theory.counting.families import witness_family, zero_error_witness_monodromy
from theory.network.spec import NetworkSpec
from theory.homotopy.tracker import TrackConfig

QUAD = "z + z^2/4"


@pytest.fixture(scope="module")
def witness_run():
    spec = NetworkSpec.fully_connected(1, 2, 2, parse(QUAD), output_activation=False)
    return spec, zero_error_witness_monodromy(spec, 3, LoopBudget(stop_after=10, max_loops=100))


def test_trace_test_rejects_an_incomplete_witness_set(witness_run):
    spec, mono = witness_run
    data, w_star = planted_data(spec, 3, 0)
    fam, A, idx, _ = witness_family(spec, data, spec.n_params - 3, seed=0)
    w0 = np.array([float(v) for v in w_star], dtype=complex)
    full = mono.solution_array()
    b0 = -A @ w0
    rng = np.random.default_rng(1)
    partial = full[: len(full) - 3]
    t_full = M.trace_test(fam, b0, full, idx, rng, TrackConfig())
    t_part = M.trace_test(fam, b0, partial, idx, rng, TrackConfig())
    assert t_full.passed and not t_part.passed
    assert t_part.residual > 1e3 * t_full.residual


def test_return_code_names_the_stop_and_a_failing_proof_keeps_looping(witness_run):
    # from one witness point: a target count equal to the degree ends on TARGET_REACHED with all
    # points; a hook that always says "incomplete" ignores stagnation and runs out the budget
    spec, full = witness_run
    data, w_star = planted_data(spec, 3, 0)
    fam, A, idx, _ = witness_family(spec, data, spec.n_params - 3, seed=0)
    w0 = np.array([float(v) for v in w_star], dtype=complex)
    b0 = -A @ w0
    hit = M.monodromy_solve(fam, b0, [w0], options=TrackConfig(seed=0), target_count=full.n_solutions)
    assert hit.returncode is M.MonodromyCode.TARGET_REACHED and hit.is_success
    assert hit.n_solutions == full.n_solutions
    never = M.monodromy_solve(fam, b0, [w0], M.LoopBudget(stop_after=1, max_loops=3), TrackConfig(seed=0),
                               proof=lambda pts: False)
    assert never.returncode is M.MonodromyCode.BUDGET_EXHAUSTED and not never.is_success
    assert never.loops == 3 and not never.stagnated
    plain = M.monodromy_solve(fam, b0, [w0], M.LoopBudget(stop_after=1, max_loops=30), TrackConfig(seed=0))
    assert plain.returncode in (M.MonodromyCode.HEURISTIC_STOP, M.MonodromyCode.BUDGET_EXHAUSTED)
    assert plain.returncode is not M.MonodromyCode.HEURISTIC_STOP or plain.stagnated
