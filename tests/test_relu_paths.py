"""The (1, 2, 1) ReLU counterexample: two global minima that no path below ½ connects."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from landscape_core.errors import InvalidSpecError
from theory.sublevel.linear_paths import check_widths
from theory.sublevel.relu_paths import (WIDTHS, counterexample, first_silencing, one_sided_floor, polyline,
                               relu_contrast, relu_forward, relu_loss_and_grad, string_method)


def test_both_endpoints_are_global_minima_in_opposite_sign_regions():
    ex = counterexample()
    assert ex.loss(ex.theta_a) == 0.0 and ex.loss(ex.theta_b) == 0.0 and ex.min_loss == 0.0
    assert ex.theta_a[0] > 0 > ex.theta_a[1] and ex.theta_b[0] < 0 < ex.theta_b[1]
    assert ex.floor == pytest.approx(0.5, abs=1e-15) and ex.min_loss <= ex.level < ex.floor


def test_same_widths_satisfy_the_linear_connectivity_condition():
    """The contrast: (1, 2, 1) passes n_1 > min(n_0, n_2), so the linear net's sublevel sets are connected."""
    assert check_widths(WIDTHS) == WIDTHS


def test_network_computes_a_two_slope_function():
    rng = np.random.default_rng(0)
    x = np.linspace(-2, 2, 41)[:, None]
    for _ in range(20):
        th = rng.normal(size=4)
        w, u = th[:2], th[2:]
        a = sum(u[j] * w[j] for j in range(2) if w[j] > 0)
        b = sum(u[j] * -w[j] for j in range(2) if w[j] < 0)
        want = a * np.maximum(x, 0) + b * np.maximum(-x, 0)
        assert np.allclose(relu_forward(th, x, 2), want, atol=1e-12)


def test_gradient_agrees_with_central_differences():
    ex = counterexample()
    rng = np.random.default_rng(1)
    for _ in range(10):
        th = rng.normal(size=4)
        _, g = relu_loss_and_grad(th, ex.X, ex.Y, 2)
        h = 1e-6
        fd = [(ex.loss(th + h * e) - ex.loss(th - h * e)) / (2 * h) for e in np.eye(4)]
        assert np.allclose(g, fd, atol=1e-6)


def test_one_sided_floor_equals_a_brute_force_minimum():
    rng = np.random.default_rng(2)
    for _ in range(5):
        x, y = rng.normal(size=9), rng.normal(size=9)
        cs = np.linspace(-5, 5, 20001)
        brute = min(min(np.mean((c * np.maximum(s * x, 0) - y) ** 2) for c in cs) for s in (1, -1))
        assert one_sided_floor(x, y) == pytest.approx(brute, abs=1e-6)
        assert one_sided_floor(x, y) <= brute + 1e-12


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 4), st.floats(0.1, 3.0))
def test_every_path_between_the_minima_reaches_the_floor_where_a_unit_falls_silent(seed, controls, spread):
    """The proof's inequality, at the exact first time w_1 or w_2 vanishes on a random curve."""
    ex = counterexample()
    rng = np.random.default_rng(seed)
    mids = rng.normal(scale=spread, size=(controls, 4))
    path = polyline(np.vstack([ex.theta_a, mids, ex.theta_b]))
    check = first_silencing(path, ex, n_grid=801)
    w = path(check.time)[:2]
    assert abs(w[check.unit]) <= 1e-9
    assert check.loss >= ex.floor - 1e-9
    assert max(check.loss, check.grid_max) > ex.level


def test_first_silencing_rejects_paths_that_do_not_switch_regions():
    ex = counterexample()
    with pytest.raises(InvalidSpecError):
        first_silencing(polyline(np.vstack([ex.theta_a, ex.theta_a])), ex)


def test_string_method_barriers_stay_above_the_floor_and_approach_it():
    """Numerical search: every path found rises above the level; the best is within 2% of ½."""
    res = relu_contrast(seeds=(0, 1, 2), iterations=1500)
    floor = res.example.floor
    for s in res.strings:
        assert s.max_loss >= floor - 1e-9 and s.max_loss > res.example.level
    assert res.best_barrier <= 1.02 * floor
    assert res.straight_line_max == pytest.approx(1.0, abs=1e-12)  # W = 0 at t = ½: f ≡ 0
    assert res.linear_path_max <= res.linear_bound + 1e-9


def test_string_method_is_reproducible_for_a_seed():
    ex = counterexample()
    a, b = string_method(ex, seed=5, iterations=50), string_method(ex, seed=5, iterations=50)
    assert np.array_equal(a.images, b.images) and a.max_loss == b.max_loss


def test_cli_relu_counterexample_reports_barriers_above_the_level(tmp_path, capsys):
    import json

    import cli

    rc = cli.main(["paths", "--relu", "--json", "--out", str(tmp_path)])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and min(out["barriers"]) >= out["example"]["floor"] - 1e-9 > out["example"]["level"]
    assert (tmp_path / "paths-relu-seed0" / "relu_strings.png").exists()
