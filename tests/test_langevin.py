"""Langevin / SGD on the two-well potential against the Boltzmann law (Theory IIb §3, Figs 3–6)."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from empirics.langevin import (LangevinConfig, TwoWellPotential, boltzmann_marginal, run_langevin, sgd_offsets,
                               simulate, well_mass_closed_form)
from landscape_core.errors import InvalidSpecError


@pytest.mark.parametrize("dim", [1, 2, 3, 4, 5])
def test_quadrature_flat_fraction_equals_closed_form_for_separated_wells(dim):
    """Far apart, the wells do not interact, so the quadrature's flat mass equals M_f / (M_s + M_f)
    with each isolated well's mass in closed form (Gaussian moments of the wall)."""
    pot = TwoWellPotential(dim, sharp_centre=-6.0, flat_centre=6.0)
    t = 0.09
    ms = well_mass_closed_form(pot.sharp_radius, pot.stiffness, t, dim)
    mf = well_mass_closed_form(pot.flat_radius, pot.stiffness, t, dim)
    assert boltzmann_marginal(pot, t).flat_fraction == pytest.approx(mf / (ms + mf), abs=1e-6)


def test_closed_form_well_mass_matches_monte_carlo_in_3d():
    """The closed form equals a Monte Carlo integral of e^{−k(|x| − ρ)₊²/T} over a box (3 SE)."""
    rng = np.random.default_rng(1)
    k, rho, t, half = 4.0, 0.5, 0.09, 1.6
    x = rng.uniform(-half, half, size=(400_000, 3))
    f = np.exp(-k * np.maximum(np.linalg.norm(x, axis=1) - rho, 0.0) ** 2 / t) * (2 * half) ** 3
    assert well_mass_closed_form(rho, k, t, 3) == pytest.approx(f.mean(), abs=3 * f.std() / math.sqrt(len(f)))


@pytest.mark.parametrize("dim", [1, 3, 5])
def test_low_temperature_flat_fraction_tends_to_the_volume_ratio(dim):
    """As T → 0 the Boltzmann mass sits on the flat bottoms: flat fraction → 2^d / (1 + 2^d)."""
    frac = boltzmann_marginal(TwoWellPotential(dim), 1e-5, points=4001).flat_fraction
    assert frac == pytest.approx(2**dim / (1 + 2**dim), abs=5e-3)


def test_marginal_density_integrates_to_one_and_gradient_matches_finite_differences():
    """p(x_1) is normalised on its grid; ∇U equals central differences of U (away from the ridge)."""
    m = boltzmann_marginal(TwoWellPotential(3), 0.09)
    assert np.trapezoid(m.density, m.x1) == pytest.approx(1.0, abs=1e-9)
    pot = TwoWellPotential(4)
    x = np.random.default_rng(0).uniform(-2, 2, size=(200, 4))
    h = 1e-6
    fd = np.stack([(pot.value(x + h * e) - pot.value(x - h * e)) / (2 * h) for e in np.eye(4)], axis=1)
    near_ridge = np.abs(np.diff(pot._wells(x[:, 0], np.sum(x[:, 1:] ** 2, axis=1)), axis=0)[0]) < 1e-4
    assert np.allclose(pot.gradient(x)[~near_ridge], fd[~near_ridge], atol=1e-5)


def test_sgd_minibatch_noise_has_the_configured_temperature():
    """The offsets have mean 0 and covariance s² I exactly, so γ · (s²/B) / 2 = T in every direction."""
    cfg = LangevinConfig(scale="smoke")
    z = sgd_offsets(cfg, 4, np.random.default_rng(3))
    assert np.allclose(z.mean(axis=0), 0.0, atol=1e-10)
    cov = z.T @ z / len(z)
    assert np.allclose(cfg.step * cov / cfg.batch / 2, cfg.temperature * np.eye(4), rtol=1e-10, atol=1e-12)


def test_noise_scaling_sets_sgdl_temperature():
    """'sqrt' adds σ²/2 to the temperature whatever the step; 'gamma' (eq. 8) adds γσ²/2."""
    a = LangevinConfig(scale="smoke", sgdl_noise=0.4, sgdl_noise_scaling="sqrt")
    b = LangevinConfig(scale="smoke", sgdl_noise=0.4, sgdl_noise_scaling="gamma")
    assert a.effective_temperature("sgdl") == pytest.approx(a.temperature + 0.08)
    assert b.effective_temperature("sgdl") == pytest.approx(b.temperature + b.step * 0.08)
    with pytest.raises(InvalidSpecError):
        LangevinConfig(scale="smoke", step=0.2)


def test_gdl_histogram_in_1d_fits_the_boltzmann_density():
    """One snapshot of N independent 1-D Langevin chains is a sample of e^{−U/T}: a chi-square test on
    bins with ≥ 10 expected counts does not reject at the 0.1 % level (step γ = 0.005, bias ≪ noise)."""
    cfg = LangevinConfig(scale="smoke", dims=(1,), dynamics=("gdl",), n_particles=4000, step=0.005,
                         n_steps=6000, burn_in=5999, thin=1, bins=40, seed=7)
    run = simulate(cfg, "gdl", 1)
    width = np.diff(run.bin_edges)
    observed = run.histogram * width * cfg.n_particles
    expected = run.boltzmann_bin_density * width * cfg.n_particles
    keep = expected >= 10
    obs, exp = observed[keep], expected[keep] * observed[keep].sum() / expected[keep].sum()
    chi2 = float(np.sum((obs - exp) ** 2 / exp))
    assert chi2 < stats.chi2.ppf(0.999, keep.sum() - 1)


@pytest.mark.parametrize("dynamics", ["gdl", "sgd"])
def test_small_step_dynamics_reproduce_the_boltzmann_flat_fraction_in_2d(dynamics):
    """Euler–Maruyama (GDL) and SGD with whitened minibatch noise, both at temperature T, spend the
    Boltzmann fraction of time in the flat basin: within 4 standard errors."""
    cfg = LangevinConfig(scale="smoke", dims=(2,), dynamics=(dynamics,), n_particles=1500, step=0.01,
                         n_steps=5000, burn_in=3000, thin=5, seed=3)
    run = simulate(cfg, dynamics, 2)
    assert abs(run.flat_fraction - run.boltzmann_flat_fraction) < 4 * run.flat_fraction_se
    assert run.flat_fraction_se < 0.02


def test_smoke_experiment_reports_concentration_growing_with_dimension(tmp_path):
    """At smoke scale the GDL flat fraction grows with d (held is True), Boltzmann grows too, every run
    is within 4 SE of Boltzmann, the result is JSON, and the figures are written."""
    from empirics.landscape_plots import plot_flat_fraction, plot_langevin_histograms

    result = run_langevin(LangevinConfig(scale="smoke"))
    assert result.held is True and result.boltzmann_increasing
    assert result.max_abs_z < 4
    data = json.loads(json.dumps(result.to_dict()))
    assert [r["dim"] for r in data["runs"]][:3] == [1, 2, 3]
    for f in (plot_langevin_histograms(data, tmp_path / "h.png"), plot_flat_fraction(data, tmp_path / "f.png")):
        assert f.stat().st_size > 10_000


def test_halves_of_the_record_average_to_the_flat_fraction():
    """The burn-in check's two halves (first and second half of the recorded steps) average, weighted by their
    record counts, to the flat fraction over the whole record."""
    from empirics.langevin import LangevinConfig, simulate

    cfg = LangevinConfig(scale="smoke", dims=(2,), n_particles=50, n_steps=400, burn_in=100, thin=3, seed=3)
    r = simulate(cfg, "gdl", 2)
    n_rec = r.samples
    first = n_rec // 2
    h0, h1 = r.flat_fraction_halves
    assert (first * h0 + (n_rec - first) * h1) / n_rec == pytest.approx(r.flat_fraction, abs=1e-12)


def test_loss_scales_make_sgd_noise_state_dependent():
    """V(x, z_i) = (1 + a_i) U(x) + ⟨z_i, x⟩: the a_i have mean 0 and std s_a exactly, so the minibatch noise
    ā_B ∇U + z̄_B has variance s_a²/B · |∇U|² + v_B per direction of ∇U: zero extra noise on a flat bottom,
    growing on the walls; with s_a = 0 no scales are drawn and SGD's noise is the isotropic offsets alone."""
    from empirics.langevin import sgd_loss_scales

    cfg = LangevinConfig(scale="smoke", dims=(2,), dynamics=("sgd",), sgd_loss_scales=1.5)
    a = sgd_loss_scales(cfg, np.random.default_rng(0))
    assert a.shape == (cfg.n_data,) and a.mean() == pytest.approx(0.0, abs=1e-12) and a.std() == pytest.approx(1.5)
    pot = cfg.potential(2)
    flat_bottom, wall = np.array([[cfg.flat_centre, 0.0]]), np.array([[cfg.flat_centre + 1.5, 0.0]])
    rng = np.random.default_rng(1)
    idx = rng.integers(0, cfg.n_data, size=(20_000, cfg.batch))
    abar = a[idx].mean(axis=1)
    for x, expect_zero in ((flat_bottom, True), (wall, False)):
        g = pot.gradient(x)[0]
        extra = abar[:, None] * g[None, :]  # the state-dependent part of the minibatch noise
        var = float(extra.var(axis=0).sum())
        assert (var == 0.0) if expect_zero else var == pytest.approx(1.5**2 / cfg.batch * (g @ g), rel=0.05)
    with pytest.raises(InvalidSpecError):
        LangevinConfig(scale="smoke", sgd_loss_scales=-1.0)


def test_state_dependent_sgd_leaves_the_boltzmann_law_while_isotropic_sgd_keeps_it():
    """With isotropic offsets SGD samples e^{−U/T} (Langevin by construction); extra noise on the walls of the
    point minimum (where ∇U ≠ 0 everywhere) pushes mass to the flat ball: a measurable departure."""
    base = dict(scale="smoke", dims=(2,), dynamics=("sgd",), sharp_radius=0.0, n_particles=400, n_steps=4000,
                burn_in=2500, step=0.01, seed=3)
    iso = simulate(LangevinConfig(**base), "sgd", 2)
    state = simulate(LangevinConfig(**base, sgd_loss_scales=2.0), "sgd", 2)
    assert abs(iso.flat_fraction - iso.boltzmann_flat_fraction) < 4 * iso.flat_fraction_se + 0.02
    assert state.flat_fraction > iso.flat_fraction
