"""Dynamic String Sampling (empirics/connectivity.py) on problems whose answer is known."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from empirics.models import get_flat
from empirics.connectivity import (DSSConfig, PolyRegressionConfig, dynamic_string_sampling,
                                   interpolated_losses, polynomial_regression_study, polynomial_target,
                                   train_to_level, _hyperplane_projector)
from landscape_core.errors import InvalidSpecError
from landscape_core.serialize import to_jsonable
from theory.sublevel.relu_paths import counterexample

torch.set_num_threads(1)


def relu_121():
    """The (1, 2, 1) bias-free ReLU net of theory.sublevel.relu_paths, parameters in the same flat order."""
    model = nn.Sequential(nn.Linear(1, 2, bias=False), nn.ReLU(), nn.Linear(2, 1, bias=False)).double()
    ex = counterexample()
    x, y = torch.tensor(ex.X), torch.tensor(ex.Y)
    return model, (lambda m: torch.mean((m(x) - y) ** 2)), ex


def test_torch_loss_matches_the_numpy_counterexample():
    model, loss_fn, ex = relu_121()
    rng = np.random.default_rng(0)
    for _ in range(5):
        th = rng.normal(size=4)
        with torch.no_grad():
            torch.nn.utils.vector_to_parameters(torch.tensor(th), model.parameters())
            value = float(loss_fn(model))
        assert value == pytest.approx(ex.loss(th), rel=1e-12)


def test_convex_problem_needs_no_beads():
    """For a linear model the loss is convex: the straight segment already lies in Ω(L0)."""
    torch.manual_seed(0)
    x = torch.randn(50, 3, dtype=torch.float64)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]], dtype=torch.float64)
    model = nn.Linear(3, 1).double()
    loss_fn = lambda m: torch.mean((m(x) - y) ** 2)  # noqa: E731
    a, b = get_flat(model) * 0 + 0.1, get_flat(model) * 0 - 0.1
    level = max(float(interpolated_losses(model, loss_fn, a, a, 3)[1][0]),
                float(interpolated_losses(model, loss_fn, b, b, 3)[1][0])) + 1e-9
    res = dynamic_string_sampling(model, loss_fn, a, b, DSSConfig(threshold=level))
    assert res.connected and res.n_beads == 2 and res.train_steps == 0
    assert res.normalized_length == pytest.approx(1.0, abs=1e-12)


def test_dss_cannot_connect_the_relu_minima_below_the_proved_barrier():
    model, loss_fn, ex = relu_121()
    a, b = torch.tensor(ex.theta_a), torch.tensor(ex.theta_b)
    res = dynamic_string_sampling(model, loss_fn, a, b, DSSConfig(threshold=ex.level, max_beads=12, max_steps=3000,
                                                                  lr=1e-2))
    assert not res.connected
    # some segment still carries the barrier: its interpolated max is ≥ ½ up to the grid
    assert max(res.segment_max_losses) >= ex.floor - 0.05
    assert all(f <= ex.level for f in res.bead_losses)


@pytest.mark.parametrize("constrained", [False, True])
def test_dss_connects_the_relu_minima_above_the_barrier(constrained):
    model, loss_fn, ex = relu_121()
    a, b = torch.tensor(ex.theta_a), torch.tensor(ex.theta_b)
    cfg = DSSConfig(threshold=0.7, max_beads=30, max_steps=5000, lr=1e-2, constrained=constrained, seed=1)
    before = get_flat(model)
    res = dynamic_string_sampling(model, loss_fn, a, b, cfg)
    assert torch.equal(get_flat(model), before)  # the workspace model is restored
    assert res.connected, res.reason
    assert max(res.segment_max_losses) <= 0.7 and res.n_beads >= 3  # the straight line (max 1) is refined
    assert res.normalized_length >= 1.0
    # independent recomputation of every segment maximum with the numpy loss
    for th1, th2, m in zip(res.beads, res.beads[1:], res.segment_max_losses):
        grid = max(ex.loss((1 - t) * th1 + t * th2) for t in np.linspace(0, 1, cfg.interp_points))
        assert grid == pytest.approx(m, rel=1e-12, abs=1e-15)


def test_projected_training_stays_on_the_equidistant_hyperplane():
    model, loss_fn, ex = relu_121()
    a = torch.tensor([1.0, -1.0, 1.2, 0.8], dtype=torch.float64)
    b = torch.tensor([-1.0, 1.0, 0.9, 1.1], dtype=torch.float64)
    project = _hyperplane_projector(a, b)
    theta, _, steps, _ = train_to_level(model, loss_fn, 0.3 * a + 0.7 * b, 1e-12, 300, 1e-2, project)
    centre, normal = 0.5 * (a + b), b - a
    assert steps == 300
    assert abs(float((theta - centre) @ normal)) <= 1e-10 * float(normal @ normal)


def test_polynomial_target_maps_unit_interval_onto_itself():
    x, y, coeffs = polynomial_target(5, 40, seed=3)
    fine = np.polynomial.polynomial.polyval(np.linspace(0, 1, 2001), coeffs)
    assert fine.min() == pytest.approx(0.0, abs=1e-12) and fine.max() == pytest.approx(1.0, abs=1e-12)
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0 and y.shape == (40, 1)


def test_small_polynomial_regression_study_is_consistent_and_reproducible():
    cfg = PolyRegressionConfig(thresholds=(0.04,), pairs=1, max_steps=3000, seed=0)
    a = polynomial_regression_study(cfg)
    s = a.summaries[0]
    res = a.strings[0]
    assert s.pairs == 1 and s.connected == int(res.connected)
    assert all(f <= 0.04 for f in s.endpoint_losses[0])
    if res.connected:
        assert max(res.segment_max_losses) <= 0.04 and res.normalized_length >= 1.0
        assert s.bead_counts[0] == res.n_beads == len(res.beads)
    json.dumps(to_jsonable(a))
    b = polynomial_regression_study(cfg)
    assert b.strings[0].segment_max_losses == res.segment_max_losses


def test_bad_dss_settings_are_rejected():
    for kwargs in ({"threshold": 0.0}, {"threshold": 1.0, "alpha": 1.5}, {"threshold": 1.0, "interp_points": 2},
                   {"threshold": 1.0, "jitter": -1.0}):
        with pytest.raises(InvalidSpecError):
            DSSConfig(**kwargs)
    with pytest.raises(InvalidSpecError):
        PolyRegressionConfig(thresholds=(0.01, -1.0))


@pytest.mark.slow
def test_section_4_1_reproduction_runs_and_saves_its_figure(tmp_path):
    from empirics.connectivity_plots import plot_dss_curves

    study = polynomial_regression_study(PolyRegressionConfig())
    assert all(s.connected >= 1 for s in study.summaries[:3])
    out = plot_dss_curves(to_jsonable(study.to_dict()), tmp_path / "dss.png")
    assert out.exists() and out.stat().st_size > 10_000


def test_cli_dss_small_run_saves_curves(tmp_path, capsys):
    import cli

    rc = cli.main(["dss", "--thresholds", "0.04", "--pairs", "1", "--max-steps", "3000", "--no-progress",
                   "--out", str(tmp_path), "--run", "tiny"])
    out = capsys.readouterr().out
    assert rc == 0 and "normalised lengths" in out
    assert (tmp_path / "tiny" / "dss_curves.png").exists() and (tmp_path / "tiny" / "result.json").exists()
