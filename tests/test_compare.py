"""Tests for empirics.compare: training reaches zero square loss, and there the Hessian nullity is K − rank J.

The networks are fc n_0 = 3 → h → 1 with P(z) = z + z²/4 and a linear output: every output is a
quadratic polynomial in x (a 10-dimensional space), so theory's generic rank is r = min(N, dim of
the network's image) and for h = 1 the image has dimension 5 < N = 10 (no zero of the loss exists).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from empirics.compare import (CompareConfig, gradient_descent, levenberg_marquardt, measure, residual_fn,
                              run_compare)
from empirics.models import TorchNetwork
from landscape_core.errors import InvalidSpecError
from theory.network.activations import parse
from theory.network.spec import NetworkSpec, init_weights
from theory.network.data import planted_data, random_data
from theory.network.equations import ZeroErrorSystem

torch.set_num_threads(1)
# The library's default instance (fc 3-h-1, P = z + z²/4, linear output) spelled in the network flags.
CLASSIC = ["--input-dim", "3", "--layers", "2", "--activation", "z + z^2/4", "--no-output-activation"]


@pytest.fixture(scope="module")
def sweep():
    return run_compare(CompareConfig(widths=(1, 6, 8), n_directions=6, restarts=2))


def test_overparametrized_networks_reach_zero_loss_and_nullity_equals_kernel_and_theory(sweep):
    """For h = 6 and 8 (K = 31, 41 > N = 10, theory r = 10): Σr² ≤ 1e-18, ∇²L = 2JᵀJ to 1e-8, and
    Hessian nullity = K − rank J = theory's K − r (21 and 31).

    (On these seeded data h = 3 and 4 stop at losses 1.1e-3 and 9.3e-3 although r = N: a complex
    zero-error set of dimension K − r exists, but a real zero need not — measured, see README.)"""
    rows = {r.width: r for r in sweep.rows}
    for h, dim in ((6, 21), (8, 31)):
        row = rows[h]
        assert row.reached_zero and row.loss <= 1e-18 and row.status == "zero"
        assert row.gauss_newton_gap < 1e-8
        assert row.theory_rank == 10 and row.theory_dimension == dim
        assert row.hessian_nullity == row.kernel_dim == dim
        assert row.nullity_matches_kernel and row.nullity_matches_theory
        # Flat directions of the Hessian are far flatter than random ones (quartic, not quadratic, growth).
        assert row.radius_null > 10 * row.radius_random


def test_underparametrized_network_fails_to_reach_zero_as_theory_predicts(sweep):
    """For h = 1 (K = 6) theory's rank is 5 < N: no zero exists; training stops at a positive loss."""
    row = sweep.rows[0]
    assert row.theory_rank == 5 and row.theory_dependent
    assert not row.reached_zero and row.loss > 1e-3
    # It is a genuine minimum with positive loss: stationary, no negative curvature.
    assert row.status == "minimum" and row.grad_norm < 1e-6 and row.n_negative == 0
    assert any("did not reach" in n for n in sweep.notes)


def test_torch_jacobian_agrees_with_theory_forward_mode(sweep):
    """The residual Jacobian from torch.func.jacrev equals theory's forward-mode Jacobian to 1e-12 relative."""
    assert all(r.jacobian_agreement < 1e-12 for r in sweep.rows)


def test_levenberg_marquardt_finds_planted_zero_to_1e_minus_20():
    """Planted targets y = f(x; w*) have a zero; LM from a random start reaches ‖r‖² < 1e-20 in float64,
    and the independent theory residual confirms it."""
    cfg = CompareConfig(widths=(4,), network=NetworkSpec.fully_connected(3, 1, 3, parse("z + z^2/4"),
                                                                         output_activation=False))
    spec = cfg.spec(4)
    data, _ = planted_data(spec, 12, seed=3)
    model = TorchNetwork(spec, dtype=torch.float64)
    r = residual_fn(model, torch.as_tensor(data.X_float), torch.as_tensor(data.Y_float))
    w, hist = levenberg_marquardt(r, torch.as_tensor(init_weights(spec, 5)), 400, 1e-20)
    assert hist[-1] < 1e-20
    assert ZeroErrorSystem(spec, data).loss(w.numpy()) < 1e-18
    assert all(b <= a for a, b in zip(hist, hist[1:]))  # LM only accepts decreasing steps


def test_gradient_descent_decreases_loss_but_stalls_far_from_zero():
    """Full-batch GD with a small step decreases L monotonically yet stays far above 1e-18 in 300 steps."""
    cfg = CompareConfig(widths=(3,))
    spec = cfg.spec(3)
    data = random_data(spec, 10, 0)
    model = TorchNetwork(spec, dtype=torch.float64)
    r = residual_fn(model, torch.as_tensor(data.X_float), torch.as_tensor(data.Y_float))
    _, hist = gradient_descent(r, torch.as_tensor(init_weights(spec, 1)), 300, 0.01, 1e-18)
    assert hist[-1] < hist[0] and hist[-1] > 1e-10
    assert np.all(np.diff(hist) <= 1e-12)


def test_compare_config_rejects_bad_values_and_unknown_keys():
    """Zero sizes, negative tolerances, unknown optimizer or keys: InvalidSpecError."""
    for kwargs in ({"n_points": 0}, {"widths": ()}, {"widths": (2, 0)}, {"tol": -1.0}, {"optimizer": "adam"},
                   {"data": "real"}, {"restarts": 0}):
        with pytest.raises(InvalidSpecError):
            CompareConfig(**kwargs)
    with pytest.raises(InvalidSpecError):
        CompareConfig.from_dict({"widths": [1], "colour": "red"})
    cfg = CompareConfig(widths=(2, 5))
    assert CompareConfig.from_dict(cfg.to_dict()) == cfg


def test_cli_compare_writes_report_and_table(tmp_path, capsys):
    """`cli.py compare` writes config, result, figure and manifest, prints the table; --json parses."""
    import json

    import cli

    rc = cli.main(["compare", *CLASSIC, "--width", "1,6", "--directions", "2", "--restarts", "2",
                   "--out", str(tmp_path), "--run", "cmp", "--no-progress"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "theory K−r" in out and "minimum" in out and "zero" in out
    folder = tmp_path / "cmp"
    for f in ("config.json", "result.json", "manifest.json", "compare.png"):
        assert (folder / f).exists()
    metrics = json.loads((folder / "result.json").read_text())
    assert [r["hessian_nullity"] for r in metrics["rows"]] == [1, 21]
    assert json.loads((folder / "manifest.json").read_text())["seed"] == 0
    rc = cli.main(["compare", *CLASSIC, "--width", "6", "--directions", "1", "--restarts", "2",
                   "--out", str(tmp_path), "--run", "cmp2", "--no-progress", "--json"])
    assert rc == 0 and json.loads(capsys.readouterr().out)["rows"][0]["reached_zero"]


@pytest.mark.parametrize("argv", [["compare", "--points", "0"], ["compare", "--width", "2,0"],
                                  ["compare", "--tol", "-1"], ["compare", "--activation", "z^"]])
def test_cli_compare_rejects_bad_input_with_exit_2(argv, tmp_path, capsys):
    """Zero/negative sizes and unreadable activations: one line on stderr, exit code 2, no traceback."""
    import cli

    try:
        rc = cli.main(argv + ["--out", str(tmp_path)])
    except SystemExit as exc:  # argparse type errors exit directly
        rc = exc.code
    assert rc == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_single_restart_that_stalls_is_reported_as_stalled_not_minimum():
    """With one restart, h = 3 stops above zero loss with ‖∇L‖ > 1e-6 or negative curvature: status 'stalled',
    and (the residual term of the Hessian being nonzero) nullity ≠ K − rank J is allowed there."""
    cfg = CompareConfig(widths=(3,), restarts=1, n_directions=1, max_iters=100)
    result = run_compare(cfg)
    row = result.rows[0]
    assert not row.reached_zero
    assert row.status == "stalled" and (row.grad_norm > 1e-6 or row.n_negative > 0)
    assert any("stalled" in n or "slope" in n for n in result.notes)
