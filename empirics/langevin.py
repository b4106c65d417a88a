"""Langevin and stochastic gradient descent on a two-well potential against the Boltzmann law (Theory IIb §3, Figs 3–6).

Zhang, Liao, Rakhlin, Miranda, Golowich, Poggio, "Theory of Deep Learning IIb: Optimization
Properties of SGD", CBMM Memo No. 072, §3.2: the asymptotic law of Langevin gradient descent (GDL)
and of SGD with added noise (SGDL) is the Boltzmann distribution p(f) = e^{−U/T} / Z (eq. 9), so
among two minima of equal depth the one with the larger flat region is the likelier, and more so in
higher dimension (Fig. 3: "a flat region which is a factor 2 larger in each of the dimensions",
d = 1…5; Figs 4–5: degenerate against non-degenerate minima; Fig. 6: SGD and SGDL in 2D).

The potential (`TwoWellPotential`) is U(x) = min(φ_s(|x − a|), φ_f(|x − b|)) with
φ(r) = k · max(r − ρ, 0)²: two wells of depth 0 whose bottoms are balls of radii ρ_s and ρ_f = 2ρ_s
(ρ_s = 0 gives a non-degenerate quadratic minimum, the Fig. 4–5 case), centres a and b on the first
axis. Because U depends only on (x_1, ρ = |x_⊥|), the exact marginal of x_1 is a 2-D integral in any
dimension: p(x_1) ∝ ∫_0^∞ e^{−U(x_1, ρ)/T} ρ^{d−2} dρ (`boltzmann_marginal`); an isolated well's
mass has a closed form (`well_mass_closed_form`).

Dynamics (many particles at once, one (N, d) array; step γ):
  gdl   x ← x − γ ∇U(x) + √(2γT) ε                                   temperature T
  sgd   x ← x − γ ((1 + ā_B) ∇U(x) + z̄_B), z̄_B, ā_B means of B z_i, a_i   temperature γ v_B / 2 at the minima
  sgdl  sgd + √γ σ ε  (noise_scaling "sqrt": Langevin)                temperature γ v_B / 2 + σ²/2
        sgd + γ σ ε   (noise_scaling "gamma": eq. 8's scaling)        temperature γ v_B / 2 + γ σ²/2
SGD's loss is the empirical risk of V(x, z_i) = (1 + a_i) U(x) + ⟨z_i, x⟩ with Σ z_i = 0 and Σ a_i = 0,
so I_S = U exactly and the minibatch gradient is ∇U plus a zero-mean noise ā_B ∇U + z̄_B: z̄_B has
per-coordinate variance v_B = s²/B (indices drawn with replacement, s² the per-coordinate variance of
the z_i), and the z_i are rescaled so that this part gives SGD the temperature `temperature`. With
`sgd_loss_scales` = 0 every a_i is 0 and the noise is isotropic and state-independent: SGD is then
Langevin dynamics at T by construction. With a spread s_a > 0 of the per-example loss scales a_i the
noise ā_B ∇U is state-dependent and anisotropic (zero on the flat bottoms, growing with the slope
of the walls, along ∇U), as a network's minibatch noise is: SGD's stationary law is then not e^{−U/T}
by construction, and where it puts its mass is a measurement.

On eq. 8's remark ("a discretized Langevin diffusion, albeit with a noise scaled as γ_n rather than
√γ_n"): Euler–Maruyama with noise amplitude c·ε per step reaches, for small γ, the Boltzmann law at
T = c² / (2γ). Noise scaled as √γ (c = √γ σ) therefore has T = σ²/2 whatever the step: that is the
Langevin temperature. Noise scaled as γ (c = γ σ, the form of SGD's own gradient noise) has
T = γ σ²/2, which vanishes as γ → 0: at a fixed step it still samples a Boltzmann law, at a
temperature set by the step, and with a decreasing γ_n it anneals. Every result below is compared
with the Boltzmann law at the temperature its dynamics actually has.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from landscape_core.progress import Progress, report
from landscape_core.seeds import stream
from landscape_core.serialize import Serializable
from empirics.scales import SCALES, fill_scale_defaults
from landscape_core.errors import InvalidSpecError

DYNAMICS = ("gdl", "sgd", "sgdl")
NOISE_SCALINGS = ("sqrt", "gamma")


# ----------------------------------------------------------------------------------------------
# The potential


@dataclass(frozen=True)
class TwoWellPotential(Serializable):
    """Two wells of equal depth (0) with flat ball-shaped bottoms on the first axis.

    Fields:
        dim: d, the dimension of x.
        sharp_radius: ρ_s, radius of the sharp well's flat bottom (0: a non-degenerate minimum).
        flat_radius: ρ_f, radius of the flat well's flat bottom (Theory IIb Fig. 3: 2ρ_s).
        sharp_centre: first coordinate of the sharp well's centre a (other coordinates 0).
        flat_centre: first coordinate of the flat well's centre b.
        stiffness: k in φ(r) = k · max(r − ρ, 0)² (loss per squared distance).
    """

    dim: int
    sharp_radius: float = 0.5
    flat_radius: float = 1.0
    sharp_centre: float = -0.85
    flat_centre: float = 0.85
    stiffness: float = 4.0

    def __post_init__(self) -> None:
        if self.dim < 1 or self.sharp_radius < 0 or self.flat_radius < 0 or not self.stiffness > 0:
            raise InvalidSpecError("need dim ≥ 1, radii ≥ 0 and stiffness > 0")
        gap = abs(self.flat_centre - self.sharp_centre) - self.sharp_radius - self.flat_radius
        if gap <= 0:
            raise InvalidSpecError(f"the flat bottoms overlap (gap {gap:g}); move the centres apart")

    def _radii(self, x1: np.ndarray, rho2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.sqrt((x1 - self.sharp_centre) ** 2 + rho2), np.sqrt((x1 - self.flat_centre) ** 2 + rho2)

    def _wells(self, x1: np.ndarray, rho2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rs, rf = self._radii(x1, rho2)
        k = self.stiffness
        return k * np.maximum(rs - self.sharp_radius, 0.0) ** 2, k * np.maximum(rf - self.flat_radius, 0.0) ** 2

    def axial(self, x1: np.ndarray, rho: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (U, in flat basin) at first coordinate x1 and distance rho from the first axis.

        U = min(φ_s, φ_f); a point belongs to the flat basin where φ_f < φ_s (the active well).
        """
        us, uf = self._wells(np.asarray(x1, float), np.asarray(rho, float) ** 2)
        return np.minimum(us, uf), uf < us

    def value(self, x: np.ndarray) -> np.ndarray:
        """Return U(x) for each row of the (N, d) array x."""
        return self.axial(x[:, 0], np.sqrt(np.sum(x[:, 1:] ** 2, axis=1)))[0]

    def in_flat_basin(self, x: np.ndarray) -> np.ndarray:
        """Return, for each row of x, whether the flat well is the active one (φ_f < φ_s)."""
        return self.axial(x[:, 0], np.sqrt(np.sum(x[:, 1:] ** 2, axis=1)))[1]

    def gradient(self, x: np.ndarray) -> np.ndarray:
        """Return ∇U(x) row-wise: 2k (r − ρ)_+ (x − c)/r of the active well (c its centre)."""
        x1 = x[:, 0]
        rho2 = np.einsum("ij,ij->i", x[:, 1:], x[:, 1:])
        rs, rf = self._radii(x1, rho2)
        ds, df = np.maximum(rs - self.sharp_radius, 0.0), np.maximum(rf - self.flat_radius, 0.0)
        flat = df * df < ds * ds  # φ_f < φ_s: both wells share the stiffness k
        r = np.where(flat, rf, rs)
        # r = 0 only at a centre, where (r − ρ)_+ = 0 unless ρ = 0; the floor keeps 0/0 out.
        coef = 2.0 * self.stiffness * np.where(flat, df, ds) / np.maximum(r, 1e-300)
        g = x * coef[:, None]
        g[:, 0] = (x1 - np.where(flat, self.flat_centre, self.sharp_centre)) * coef
        return g


# ----------------------------------------------------------------------------------------------
# The Boltzmann law by quadrature and in closed form


def _unit_sphere_area(n: int) -> float:
    """Return the area of the unit sphere S^{n−1} in R^n, 2 π^{n/2} / Γ(n/2) (n ≥ 1; 2 for n = 1)."""
    return 2.0 * math.pi ** (n / 2) / math.gamma(n / 2)


def well_mass_closed_form(radius: float, stiffness: float, temperature: float, dim: int) -> float:
    """Return ∫_{R^d} e^{−k max(|x| − ρ, 0)²/T} dx in closed form.

    = |S^{d−1}| [ρ^d / d + Σ_{j=0}^{d−1} C(d−1, j) ρ^{d−1−j} · ½ Γ((j+1)/2) (T/k)^{(j+1)/2}]
    (flat ball plus Gaussian wall, expanding (ρ + u)^{d−1}); an isolated well's Boltzmann mass
    (Theory IIb eq. 9).
    """
    s = temperature / stiffness
    wall = sum(math.comb(dim - 1, j) * radius ** (dim - 1 - j) * 0.5 * math.gamma((j + 1) / 2) * s ** ((j + 1) / 2)
               for j in range(dim))
    return _unit_sphere_area(dim) * (radius**dim / dim + wall)


@dataclass(frozen=True)
class BoltzmannMarginal(Serializable):
    """The exact Boltzmann law of x_1 and the flat-basin mass, by quadrature.

    Fields:
        temperature: T of p ∝ e^{−U/T} (Theory IIb eq. 9).
        x1: the quadrature grid of the first coordinate.
        density: p(x_1) on that grid (integrates to 1 over it).
        flat_fraction: ∫_{φ_f < φ_s} p, the mass of the flat well's basin.
        tail_mass: estimated relative mass beyond the grid (a check that it is wide enough).
    """

    temperature: float
    x1: np.ndarray = field(repr=False)
    density: np.ndarray = field(repr=False)
    flat_fraction: float
    tail_mass: float


def _trapezoid_weights(grid: np.ndarray) -> np.ndarray:
    w = np.empty_like(grid)
    h = np.diff(grid)
    w[0], w[-1] = h[0] / 2, h[-1] / 2
    w[1:-1] = (h[:-1] + h[1:]) / 2
    return w


def boltzmann_marginal(potential: TwoWellPotential, temperature: float, points: int = 2001,
                       margin: float = 12.0) -> BoltzmannMarginal:
    """Return the marginal p(x_1) ∝ ∫ e^{−U(x_1, ρ)/T} |S^{d−2}| ρ^{d−2} dρ and the flat-basin mass.

    U is axially symmetric, so the d-dimensional integral reduces to (x_1, ρ) with the
    cylindrical volume element |S^{d−2}| ρ^{d−2} dρ dx_1 (d ≥ 2; d = 1 integrates x_1 alone).
    Trapezoidal rule on a `points`² grid reaching `margin` wall widths √(T/k) beyond the flat
    bottoms, where e^{−U/T} < e^{−margin²}. Theory IIb eq. 9.
    """
    if not temperature > 0:
        raise InvalidSpecError(f"temperature must be positive, got {temperature}")
    p = potential
    reach = margin * math.sqrt(temperature / p.stiffness)
    lo = min(p.sharp_centre - p.sharp_radius, p.flat_centre - p.flat_radius) - reach
    hi = max(p.sharp_centre + p.sharp_radius, p.flat_centre + p.flat_radius) + reach
    x1 = np.linspace(lo, hi, points)
    wx = _trapezoid_weights(x1)
    if p.dim == 1:
        u, flat = p.axial(x1, np.zeros_like(x1))
        weight = np.exp(-u / temperature)
        z = float(weight @ wx)
        density = weight / z
        flat_fraction = float((weight * flat) @ wx) / z
        edge = float(weight[0] + weight[-1]) / max(weight.max(), 1e-300)
        return BoltzmannMarginal(temperature, x1, density, flat_fraction, edge)
    rho = np.linspace(0.0, max(p.sharp_radius, p.flat_radius) + reach, points)
    wr = _trapezoid_weights(rho) * _unit_sphere_area(p.dim - 1) * rho ** (p.dim - 2)
    u, flat = p.axial(x1[:, None], rho[None, :])
    weight = np.exp(-u / temperature)
    marginal = weight @ wr
    z = float(marginal @ wx)
    flat_fraction = float(((weight * flat) @ wr) @ wx) / z
    edge = float(marginal[0] + marginal[-1] + weight[:, -1].max() * wr.sum()) / max(marginal.max(), 1e-300)
    return BoltzmannMarginal(temperature, x1, marginal / z, flat_fraction, edge)


# ----------------------------------------------------------------------------------------------
# Configuration and results


_SCALE_DEFAULTS = {
    # particles, steps, burn-in steps, record every `thin` steps
    "smoke": dict(dims=(1, 2, 3), n_particles=600, n_steps=2000, burn_in=1200, thin=5),
    "cpu": dict(dims=(1, 2, 3, 4, 5), n_particles=4000, n_steps=7000, burn_in=3000, thin=5),
    "paper": dict(dims=(1, 2, 3, 4, 5), n_particles=100000, n_steps=50000, burn_in=10000, thin=10),
}


@dataclass(frozen=True)
class LangevinConfig(Serializable):
    """Settings of the Theory IIb Fig. 3–6 experiment; fields left None take the `scale` preset.

    Fields:
        scale: 'smoke' (seconds), 'cpu' (a minute or two) or 'paper' (larger, for a long run).
        dims: dimensions d to run (the paper: 1–5).
        dynamics: which of 'gdl', 'sgd', 'sgdl' to run at every dimension.
        n_particles: independent chains N, simulated as one (N, d) array.
        n_steps: steps per chain; burn_in: steps discarded first; thin: record every `thin` steps.
        step: γ, the step size (per gradient of U, loss per squared distance⁻¹).
        temperature: T of GDL, and of SGD through the rescaled offsets z_i (loss units).
        n_data: n, number of offsets z_i defining SGD's empirical risk; batch: B, minibatch size.
        sgd_loss_scales: s_a, the standard deviation of the per-example loss scales a_i of SGD's empirical
            risk (0: isotropic, state-independent noise, Langevin by construction; > 0: state-dependent).
        sgdl_noise: σ of SGDL's added Gaussian noise.
        sgdl_noise_scaling: 'sqrt' (√γ σ ε: adds σ²/2 to the temperature, the Langevin scaling) or
            'gamma' (γ σ ε, eq. 8's scaling: adds γ σ²/2, vanishing with the step).
        sharp_radius, flat_radius, sharp_centre, flat_centre, stiffness: the TwoWellPotential.
        bins: histogram bins of x_1 over the quadrature range.
        seed: user seed; chains of (dynamics, d) use the stream f"langevin/{dynamics}/{d}".
    """

    scale: Literal["smoke", "cpu", "paper"] = "cpu"
    dims: tuple[int, ...] | None = None
    dynamics: tuple[str, ...] = DYNAMICS
    n_particles: int | None = None
    n_steps: int | None = None
    burn_in: int | None = None
    thin: int | None = None
    step: float = 0.02
    temperature: float = 0.09
    n_data: int = 64
    batch: int = 8
    sgdl_noise: float = 0.3
    sgdl_noise_scaling: Literal["sqrt", "gamma"] = "sqrt"
    sgd_loss_scales: float = 0.0
    sharp_radius: float = 0.5
    flat_radius: float = 1.0
    sharp_centre: float = -0.85
    flat_centre: float = 0.85
    stiffness: float = 4.0
    bins: int = 60
    seed: int = 0

    def __post_init__(self) -> None:
        fill_scale_defaults(self, _SCALE_DEFAULTS)
        object.__setattr__(self, "dims", tuple(int(d) for d in self.dims))
        object.__setattr__(self, "dynamics", tuple(self.dynamics))
        if not set(self.dynamics) <= set(DYNAMICS) or not self.dynamics:
            raise InvalidSpecError(f"dynamics must be among {DYNAMICS}, got {self.dynamics}")
        if self.sgdl_noise_scaling not in NOISE_SCALINGS:
            raise InvalidSpecError(f"sgdl_noise_scaling must be one of {NOISE_SCALINGS}")
        if not (self.step > 0 and self.temperature > 0 and self.sgdl_noise >= 0 and self.sgd_loss_scales >= 0):
            raise InvalidSpecError("need step > 0, temperature > 0, sgdl_noise ≥ 0 and sgd_loss_scales ≥ 0")
        if not 0 <= self.burn_in < self.n_steps or self.thin < 1 or self.n_particles < 2:
            raise InvalidSpecError("need 0 ≤ burn_in < n_steps, thin ≥ 1 and n_particles ≥ 2")
        if self.n_data < 2 or not 1 <= self.batch <= self.n_data or min(self.dims) < 1:
            raise InvalidSpecError("need n_data ≥ 2, 1 ≤ batch ≤ n_data and dims ≥ 1")
        if self.step * self.stiffness >= 0.5:
            raise InvalidSpecError(f"step·stiffness = {self.step * self.stiffness:g} ≥ 0.5: Euler steps would "
                                   "overshoot the walls; lower the step")

    def potential(self, dim: int) -> TwoWellPotential:
        """Return the TwoWellPotential of this configuration in dimension `dim`."""
        return TwoWellPotential(dim, self.sharp_radius, self.flat_radius, self.sharp_centre, self.flat_centre,
                                self.stiffness)

    def effective_temperature(self, dynamics: str) -> float:
        """Return the Boltzmann temperature the dynamics samples for small γ (see the module docstring)."""
        if dynamics in ("gdl", "sgd"):
            return self.temperature
        added = self.sgdl_noise**2 / 2 * (1.0 if self.sgdl_noise_scaling == "sqrt" else self.step)
        return self.temperature + added


@dataclass(frozen=True)
class ChainRun(Serializable):
    """One dynamics in one dimension against its Boltzmann law.

    Fields:
        dynamics: 'gdl', 'sgd' or 'sgdl'; dim: d.
        temperature: the Boltzmann temperature this dynamics has (`LangevinConfig.effective_temperature`).
        flat_fraction: simulated fraction of time in the flat basin, averaged over particles.
        flat_fraction_se: its standard error, std over particles / √N (the chains are independent).
        boltzmann_flat_fraction: the same mass under e^{−U/T} by quadrature.
        volume_ratio_fraction: 2^d-type low-temperature limit ρ_f^d / (ρ_s^d + ρ_f^d) (flat bottoms alone).
        bin_edges: histogram bins of x_1; histogram: simulated density of x_1 in them.
        boltzmann_bin_density: the exact density of x_1 averaged over each bin.
        total_variation: ½ Σ |p_sim − p_Boltzmann| over the bins (outside mass included).
        outside: fraction of recorded x_1 outside the bins.
        z: (simulated − Boltzmann) flat fraction / standard error.
        samples: recorded positions per particle.
        flat_fraction_halves: the flat fraction over the first and the second half of the recorded
            steps (a burn-in check: they agree when the chains had relaxed before recording).
        drift_se: the standard error of their difference, std over particles of each particle's
            second-half minus first-half fraction / √N (the chains are independent), so
            |difference| / drift_se is the drift in units of its own sampling noise.
    """

    dynamics: str
    dim: int
    temperature: float
    flat_fraction: float
    flat_fraction_se: float
    boltzmann_flat_fraction: float
    volume_ratio_fraction: float
    bin_edges: np.ndarray = field(repr=False)
    histogram: np.ndarray = field(repr=False)
    boltzmann_bin_density: np.ndarray = field(repr=False)
    total_variation: float
    outside: float
    z: float
    samples: int
    flat_fraction_halves: tuple[float, float] = (float("nan"), float("nan"))
    drift_se: float = float("nan")


@dataclass(frozen=True)
class LangevinResult(Serializable):
    """The Theory IIb Fig. 3–6 experiment: flat-basin concentration against dimension.

    Fields:
        config: the LangevinConfig (resolved).
        runs: one ChainRun per (dynamics, dim), dynamics outer.
        claim: the paper's claim tested, quoted.
        held: for GDL (the paper's Fig. 3 dynamics): True when the simulated flat fraction rises from
            the smallest to the largest d by more than 3 standard errors with no step falling by more
            than 3; False when it falls by more than 3 overall; None otherwise (inconclusive).
        boltzmann_increasing: the exact Boltzmann flat fraction rises with d at every step.
        max_abs_z: the largest |simulated − Boltzmann| / SE over all runs (bias of the finite step included).
        notes: what was run differently from the paper and why.
    """

    config: LangevinConfig
    runs: tuple[ChainRun, ...]
    claim: str
    held: bool | None
    boltzmann_increasing: bool
    max_abs_z: float
    notes: tuple[str, ...]

    def fractions(self, dynamics: str) -> tuple[tuple[int, float, float, float], ...]:
        """Return (d, simulated, SE, Boltzmann) flat fractions of one dynamics, by d."""
        return tuple((r.dim, r.flat_fraction, r.flat_fraction_se, r.boltzmann_flat_fraction)
                     for r in self.runs if r.dynamics == dynamics)


CLAIM = ("Theory IIb §3.2, Fig. 3: \"among two minimum basins of equal depth, the one with a larger volume, "
         "is much more likely in high dimensions\"; \"higher dimensionality implies higher probability of "
         "selecting the flatter minimum\" (GDL, flat region a factor 2 larger in each dimension, d = 1–5).")


# ----------------------------------------------------------------------------------------------
# Dynamics


def sgd_offsets(config: LangevinConfig, dim: int, rng: np.random.Generator) -> np.ndarray:
    """Return the n × d offsets z_i of V(x, z_i) = U(x) + ⟨z_i, x⟩: mean 0, covariance exactly s² I.

    s² = 2 T B / γ so that the minibatch noise (covariance s² I / B, indices with replacement) gives
    SGD the temperature T = γ s² / (2B) (Theory IIb eq. 7–8).
    """
    z = rng.standard_normal((config.n_data, dim))
    z -= z.mean(axis=0)
    # Whiten: n random vectors have sample correlations of order 1/√n, and anisotropic constant
    # noise has a stationary law that is not e^{−U/T} (measured: 7–10 SE off in d = 3, 4 at n = 64).
    cov = z.T @ z / config.n_data
    evals, evecs = np.linalg.eigh(cov)
    z = z @ evecs @ np.diag(evals**-0.5) @ evecs.T
    return z * math.sqrt(2.0 * config.temperature * config.batch / config.step)


def sgd_loss_scales(config: LangevinConfig, rng: np.random.Generator) -> np.ndarray:
    """Return the n per-example loss scales a_i of V(x, z_i) = (1 + a_i) U(x) + ⟨z_i, x⟩: mean 0, std exactly s_a.

    Their minibatch mean ā_B multiplies ∇U, so SGD's noise ā_B ∇U vanishes where U is flat and grows with the
    slope: state-dependent, like the minibatch noise of a network's loss (Theory IIb §3.1).
    """
    a = rng.standard_normal(config.n_data)
    a -= a.mean()
    return a / a.std() * config.sgd_loss_scales


def simulate(config: LangevinConfig, dynamics: str, dim: int, progress: Progress | None = None) -> ChainRun:
    """Return one dynamics' chains in dimension `dim` compared with the Boltzmann law at its temperature.

    All N chains advance together as one (N, d) array (module docstring for the update rules,
    Theory IIb eq. 8 and §3.2). Particles start uniformly in the box spanning both wells; after
    `burn_in` steps, x_1 and the flat-basin indicator are recorded every `thin` steps.
    """
    if dynamics not in DYNAMICS:
        raise InvalidSpecError(f"dynamics must be one of {DYNAMICS}, got {dynamics!r}")
    pot = config.potential(dim)
    temperature = config.effective_temperature(dynamics)
    rng = stream(config.seed, f"langevin/{dynamics}/{dim}")
    n, gamma = config.n_particles, config.step
    lo = min(pot.sharp_centre - pot.sharp_radius, pot.flat_centre - pot.flat_radius)
    hi = max(pot.sharp_centre + pot.sharp_radius, pot.flat_centre + pot.flat_radius)
    half = max(pot.sharp_radius, pot.flat_radius)
    x = rng.uniform(-half, half, size=(n, dim))
    x[:, 0] = rng.uniform(lo, hi, size=n)
    z = sgd_offsets(config, dim, rng) if dynamics != "gdl" else None
    a = sgd_loss_scales(config, rng) if z is not None and config.sgd_loss_scales > 0 else None
    if dynamics == "gdl":
        noise = math.sqrt(2.0 * gamma * config.temperature)
    elif dynamics == "sgdl":
        noise = config.sgdl_noise * (math.sqrt(gamma) if config.sgdl_noise_scaling == "sqrt" else gamma)
    else:
        noise = 0.0

    marginal = boltzmann_marginal(pot, temperature)
    edges = np.linspace(marginal.x1[0], marginal.x1[-1], config.bins + 1)
    counts = np.zeros(config.bins)
    inside_flat = np.zeros(n)
    records = 0
    n_records = len(range(config.burn_in, config.n_steps, config.thin))
    inside_first, first = np.zeros(n), 0
    for t in range(config.n_steps):
        g = pot.gradient(x)
        if z is not None:
            # One gather per minibatch slot: a single (N, B, d) fancy index is several times slower.
            idx = rng.integers(0, config.n_data, size=(config.batch, n))
            if a is not None:
                g *= 1.0 + (sum(a[i] for i in idx) / config.batch)[:, None]
            g += sum(z[i] for i in idx) / config.batch
        x -= gamma * g
        if noise:
            x += noise * rng.standard_normal(x.shape)
        if t >= config.burn_in and (t - config.burn_in) % config.thin == 0:
            counts += np.histogram(x[:, 0], bins=edges)[0]
            flat_now = pot.in_flat_basin(x)
            inside_flat += flat_now
            if records < n_records // 2:
                inside_first += flat_now
                first += 1
            records += 1
        if (t + 1) % 500 == 0 or t + 1 == config.n_steps:
            report(progress, t + 1, config.n_steps)

    per_particle = inside_flat / records
    drift = (inside_flat - inside_first) / max(records - first, 1) - inside_first / max(first, 1)
    drift_se = float(drift.std(ddof=1) / math.sqrt(n))
    fraction = float(per_particle.mean())
    se = float(per_particle.std(ddof=1) / math.sqrt(n))
    total = n * records
    width = np.diff(edges)
    hist = counts / (total * width)
    # Bin averages of the exact density: cumulative trapezoid, differenced at the edges.
    cdf = np.concatenate([[0.0], np.cumsum((marginal.density[1:] + marginal.density[:-1]) / 2 * np.diff(marginal.x1))])
    exact = np.diff(np.interp(edges, marginal.x1, cdf)) / width
    outside = 1.0 - counts.sum() / total
    tv = 0.5 * (float(np.abs(hist - exact) @ width) + outside)
    rs, rf = pot.sharp_radius ** dim, pot.flat_radius ** dim
    return ChainRun(dynamics, dim, temperature, fraction, se, marginal.flat_fraction, rf / (rs + rf),
                    edges, hist, exact, tv, float(outside),
                    (fraction - marginal.flat_fraction) / se if se > 0 else 0.0, records,
                    (float(inside_first.sum() / (n * max(first, 1))),
                     float((inside_flat - inside_first).sum() / (n * max(records - first, 1)))), drift_se)


def _verdict(runs: list[ChainRun]) -> bool | None:
    """Return held / not held / None from the GDL flat fractions ordered by dimension (LangevinResult.held)."""
    if len(runs) < 2:
        return None
    f = [r.flat_fraction for r in runs]
    se = [r.flat_fraction_se for r in runs]
    # chains that never leave their well give SE 0: a tiny floor keeps the ratio defined
    overall = (f[-1] - f[0]) / max(math.hypot(se[-1], se[0]), 1e-12)
    steps = [(f[i + 1] - f[i]) / max(math.hypot(se[i + 1], se[i]), 1e-12) for i in range(len(f) - 1)]
    if overall > 3 and min(steps) > -3:
        return True
    if overall < -3:
        return False
    return None


def run_langevin(config: LangevinConfig, progress: Progress | None = None) -> LangevinResult:
    """Return GDL / SGD / SGDL flat-basin fractions and x_1 histograms for d in `config.dims` beside Boltzmann.

    Theory IIb §3.2 and Figs 3–6: the asymptotic law is p ∝ e^{−U/T} (eq. 9), so the flat well
    (bottom a factor 2 wider in each dimension) should hold a mass growing with d, towards
    2^d / (1 + 2^d) as T → 0. `progress(done, total)` counts steps over all runs.
    """
    jobs = [(dyn, d) for dyn in config.dynamics for d in sorted(config.dims)]
    total = len(jobs) * config.n_steps
    runs = []
    for i, (dyn, d) in enumerate(jobs):
        inner = None if progress is None else (lambda done, _t, i=i: progress(i * config.n_steps + done, total))
        runs.append(simulate(config, dyn, d, inner))
    gdl = [r for r in runs if r.dynamics == "gdl"]
    exact = [r.boltzmann_flat_fraction for r in runs if r.dynamics == config.dynamics[0]]
    notes = (
        "Potential: flat bottoms are balls (radii ρ_s, ρ_f = 2ρ_s) with quadratic walls; the paper does not give its formula.",
        ("SGD's gradient noise comes from V(x, z_i) = U(x) + <z_i, x>: isotropic and state-independent, unlike a "
         "network's (Langevin at γ v_B / 2 by construction)." if config.sgd_loss_scales == 0 else
         f"SGD's gradient noise comes from V(x, z_i) = (1 + a_i) U(x) + <z_i, x>, loss scales a_i of spread "
         f"{config.sgd_loss_scales:g}: state-dependent (zero on the flat bottoms, along ∇U on the walls); γ v_B / 2 "
         "is its temperature at the minima only."),
        f"SGDL noise scaling '{config.sgdl_noise_scaling}': temperature "
        f"{config.effective_temperature('sgdl'):.4g} against T = {config.temperature:g} for GDL and SGD.",
        "Each run is compared with the Boltzmann law at its own temperature; the finite step γ adds an O(γ) bias.",
        "The flat fraction counts the region where the flat well is the lower one (φ_f < φ_s).",
    )
    return LangevinResult(config, tuple(runs), CLAIM, _verdict(gdl) if gdl else None,
                          bool(np.all(np.diff(exact) > 0)), float(max(abs(r.z) for r in runs)), notes)

