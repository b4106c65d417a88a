"""Toy "basin" and "basin-fractal" landscapes through the paper's probes (Theory II §5, Figs 1, 33–34)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import integrate, stats

from empirics.toy_landscapes import (ToyLandscapeConfig, interpolation_profile, make_landscape,
                                     perturbation_curve, run_toy_landscapes)
from landscape_core.errors import InvalidSpecError


@pytest.mark.parametrize("kind", ["basin", "basin-fractal"])
def test_gradient_matches_finite_differences(kind):
    """∇L equals central differences of L at random points (walls and basin walls included)."""
    land = make_landscape(kind, 6, seed=2)
    x = np.random.default_rng(0).uniform(-1, 3, size=(100, 6))
    h = 1e-7
    fd = np.stack([(land.value(x + h * e) - land.value(x - h * e)) / (2 * h) for e in np.eye(6)], axis=1)
    assert np.allclose(land.gradient(x), fd, atol=1e-4 * (1 + np.abs(fd)))


def test_perturbation_of_a_simple_basin_follows_the_chi_distribution():
    """From the centre of a simple basin, L(x* + σε) = k (σ χ_d − ρ)₊² with χ_d the chi law: the Monte
    Carlo mean matches the integral against the chi density within 4 SE, and the loss never goes down."""
    d, k, rho, sigma = 8, 1.0, 1.0, 0.5
    land = make_landscape("basin", d, radius=rho, stiffness=k)
    x_star = land.centres[0]
    pert = perturbation_curve(land, x_star, (sigma,), 20000, 1, 0.01, np.random.default_rng(5))
    exact = integrate.quad(lambda r: k * max(sigma * r - rho, 0.0) ** 2 * stats.chi.pdf(r, d), 0, 50, limit=200)[0]
    second = integrate.quad(lambda r: (k * max(sigma * r - rho, 0.0) ** 2) ** 2 * stats.chi.pdf(r, d), 0, 50,
                            limit=200)[0]
    se = np.sqrt((second - exact**2) / 20000)
    assert abs(pert.mean_loss[0] - exact) < 4 * se
    assert pert.fraction_lower == (0.0,)


def test_fractal_walls_have_the_designed_heights():
    """Along a wall normal of one family at one level, the loss peaks at h_0 4^{−j} above the flat bottom."""
    land = make_landscape("basin-fractal", 4, wall_levels=3, wall_families=1, seed=4)
    for j in range(3):
        t = np.linspace(-0.3, 0.3, 20001)
        x = land.centres[0] + t[:, None] * land.normals[j, 0]
        # The centre lies in the flat bottom (loss 0 between walls), so the peak crossing this
        # family's wall is its designed height (other families may add their own peaks elsewhere).
        assert np.any(np.isclose(land.value(x), land.wall_height * 4.0**-j, rtol=2e-3))


def test_fractal_interpolation_shows_walls_at_several_scales_and_the_simple_basin_none():
    """Between two zero-loss minima of one basin, the simple basin's segment stays at 0 (no wall) while
    the basin-fractal one rises at ≥ 3 walls whose heights span more than a factor 4 (two levels)."""
    result = run_toy_landscapes(ToyLandscapeConfig(scale="smoke"))
    basin, fractal = result.models
    assert max(basin.minima_loss) < 1e-9 and max(fractal.minima_loss) < 1e-9
    assert basin.within.barrier < 1e-12 and basin.within.wall_heights == ()
    assert len(fractal.within.wall_heights) >= 3
    assert max(fractal.within.wall_heights) / min(fractal.within.wall_heights) > 4
    # Across basins both models rise by the ridge between bottoms, at least k (separation/2 − ρ)².
    cfg = result.config
    ridge = cfg.stiffness * (cfg.separation / 2 - cfg.radius) ** 2
    assert basin.across.barrier >= 0.9 * ridge and fractal.across.barrier >= 0.9 * ridge


def test_interpolation_grid_includes_both_ends():
    """The interpolation grid starts at t = 0 and ends at t = 1, so its ends are the two minima."""
    land = make_landscape("basin", 3)
    a, b = land.centres[0], land.centres[1]
    it = interpolation_profile(land, a, b, 11)
    assert it.t[0] == 0.0 and it.t[-1] == 1.0
    assert it.loss[0] == pytest.approx(land.value(a[None])[0]) and it.loss[-1] == pytest.approx(land.value(b[None])[0])


def test_step_size_that_would_bounce_off_the_walls_is_refused():
    """lr·max curvature ≥ 2 makes descent oscillate across walls: the config refuses it."""
    with pytest.raises(InvalidSpecError):
        ToyLandscapeConfig(scale="smoke", lr=0.05)


def test_smoke_experiment_serialises_and_draws(tmp_path):
    """The smoke experiment's result is JSON, and each of its four figures is written."""
    from empirics.landscape_plots import (plot_toy_interpolation, plot_toy_perturbation, plot_toy_slices,
                                          plot_toy_trajectories)

    data = json.loads(json.dumps(run_toy_landscapes(ToyLandscapeConfig(scale="smoke")).to_dict()))
    assert set(data["predictions"]) == {"basin", "basin-fractal"}
    for fn in (plot_toy_slices, plot_toy_perturbation, plot_toy_interpolation, plot_toy_trajectories):
        assert fn(data, tmp_path / f"{fn.__name__}.png").stat().st_size > 10_000
