"""Claims checked: PHCpack never sees text it cannot handle, and its aborts and Ctrl-C reach the
caller as one exception, never a crash or a hang of the calling process."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from theory.homotopy import phcpack as phc, phcpack_worker as phc_worker
from landscape_core.errors import InvalidSpecError, SolverError
from theory.polynomials.text_checks import MAX_PARSE_COST, check_polys, parse_cost

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_unicode_minus_is_refused_before_phcpack_with_the_character_named():
    with pytest.raises(InvalidSpecError, match=r"non-ASCII character '−' \(U\+2212\) at column 3.*write '-'"):
        phc.store(["x \u2212 1;"])


def test_numbers_beyond_double_range_are_refused():
    with pytest.raises(InvalidSpecError, match="1.5e\\+400, outside the double-precision range"):
        phc.store(["1.5e+400*x - 1;"])
    with pytest.raises(InvalidSpecError, match="outside the double-precision range"):
        phc.mixed_volume(["x - 3e-400;"])


def test_parse_cost_bound_matches_the_dense_count_of_a_power():
    # (x1 + ... + x6 + 1)^2: six additions into lists of 2..7 terms, then 7·7 products inserted
    # into at most min(49, C(6 + 2, 2) = 28) terms
    assert parse_cost("(x1 + x2 + x3 + x4 + x5 + x6 + 1)^2", 6) == pytest.approx(sum(range(2, 8)) + 7 * 7 * 28)
    assert parse_cost("x^1000000 - 1", 1) < 2e6  # a monomial power is cheap, whatever its degree


def test_formula_whose_expansion_would_take_minutes_is_refused_at_once():
    xs = " + ".join(f"x{j}" for j in range(8))
    t0 = time.perf_counter()
    with pytest.raises(InvalidSpecError, match="cost PHCpack's parser over"):
        check_polys([f"({xs} + 1)^8 - 1;"], 8)  # measured: 137 s inside phcpy
    assert time.perf_counter() - t0 < 1.0
    assert parse_cost(f"({xs} + 1)^4 - 1", 8) < MAX_PARSE_COST  # small formulas pass


def test_an_ada_abort_in_a_worker_becomes_a_solver_error_with_phcpacks_message():
    # unchecked text straight into PHCpack's parser: the Unicode minus aborts the worker process
    with pytest.raises(SolverError, match="PHCpack aborted"):
        phc_worker.call(phc._store_raw, ["x \u2212 1;"], 1)
    assert phc.mixed_volume(["x^2 - 1;", "y - x;"]) == (2, 2)  # the next call gets a fresh worker


def test_ctrl_c_during_a_long_phcpack_parse_ends_the_caller_promptly():
    xs = " + ".join(f"x{j}" for j in range(8))
    script = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {ROOT!r})
        from theory.homotopy import phcpack as phc, phcpack_worker as phc_worker
        phc.mixed_volume(["x - 1;"])  # workers up
        print("ready", flush=True)
        try:
            phc_worker.call(phc._store_raw, ["({xs} + 1)^8 - 1;"] + ["x%d - 1;" % j for j in range(1, 8)], 8)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(130)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(1.0)
    t0 = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "interrupted" in out
    assert time.perf_counter() - t0 < 10  # the parse alone would take 137 s


def test_exceptions_raised_in_a_worker_keep_their_type():
    with pytest.raises(InvalidSpecError, match="PHCpack cannot parse polynomial 2"):
        phc_worker.call(phc._store_raw, ["x - 1;", "8450*x*y^2/1369 - 1;"], None)


def test_batches_in_several_workers_return_in_batch_order():
    import numpy as np
    pts = np.array([[1, 1], [-1, 1]], dtype=complex)
    out = phc.track_batches(["y - x^2;", "x + y - 2;"], ["x^2 - 1;", "y - 1;"], [pts[:1], pts[1:]], ["x", "y"],
                            gamma=np.exp(0.7j), workers=2)
    one = phc.track(["y - x^2;", "x + y - 2;"], ["x^2 - 1;", "y - 1;"], pts, ["x", "y"], gamma=np.exp(0.7j))
    assert [e.x.tolist() for b in out for e in b] == [e.x.tolist() for e in one]
