"""Toy "basin" and "basin-fractal" landscapes probed like the CNN (Theory II §5, Figs 1, 33–34).

Poggio & Liao, "Theory II: Landscape of the Empirical Risk in Deep Learning", arXiv:1703.09833, §5:
the empirical risk of an over-parametrised DCNN may be "simply a collection of (hyper) basins that
each has a flat global minima" (Fig. 33); the alternative "basin-fractal" (Fig. 34) has "walls
(raised errors) between two models within the same basin", present "at all levels of errors".

Models on R^d (`ToyLandscape`):
  basin          B(x) = min_k k · max(|x − c_k| − ρ, 0)²    (K basins, flat ball-shaped bottoms)
  basin-fractal  B(x) + W(x),  W(x) = Σ_{j<J} h_0 4^{−j} Σ_{m<M} ψ((⟨u_{jm}, x⟩ − o_{jm}) / (s_0 2^{−j}))
with ψ a periodic bump of period 1 (ψ(u) = (1 − (δ/w)²)²₊, δ the distance of u to the nearest
integer): at level j, M families of parallel walls with seeded random unit normals u_{jm} and
offsets, spacing s_0 2^{−j} and height h_0 4^{−j}. Each level is the previous one shrunk by 2 in
space and 4 in height, so every level has the same curvature 4 h_0 / (w s_0)² (parabolic
self-similarity): one gradient step size resolves all levels, and the lower the error level, the
flatter its walls (the paper's "perhaps the walls in the low loss areas are just too flat to be
noticed"). Between walls the flat bottom keeps loss exactly 0, so each cell of the bottom is a
flat global minimum; outside the bottoms, cells can hold local minima at positive loss.

Instruments, as the paper applies them to the CNN:
  `perturbation_curve`   loss after x* + σ ε, ε ~ N(0, I), and after re-training (§4.4, Fig. 1D);
  `interpolation_profile` L((1 − t) a + t b), t ∈ [0, 1] (Figs 9–12, 1E): a wall shows as raised loss;
  `trajectories`          noisy gradient descent from nearby starts (Figs 9, 11, 1F).
`run_toy_landscapes` runs all three on both models so the CNN's curves can be set beside them.
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

KINDS = ("basin", "basin-fractal")


# ----------------------------------------------------------------------------------------------
# The landscapes


@dataclass(frozen=True)
class ToyLandscape:
    """A loss on R^d: K flat-bottomed basins, plus self-similar walls for 'basin-fractal'.

    Fields:
        kind: 'basin' or 'basin-fractal'.
        centres: K × d basin centres c_k.
        radius: ρ, radius of every flat bottom.
        stiffness: k, loss per squared distance outside a bottom.
        wall_height: h_0, height of the coarsest walls (loss units); level j has h_0 4^{−j}.
        wall_spacing: s_0, spacing of the coarsest walls (distance units).
        wall_width: w, half-width of a wall as a fraction of its spacing.
        normals: J × M × d unit normals u_{jm}; offsets: J × M offsets o_{jm} in [0, 1).
    """

    kind: str
    centres: np.ndarray = field(repr=False)
    radius: float
    stiffness: float
    wall_height: float
    wall_spacing: float
    wall_width: float
    normals: np.ndarray = field(repr=False)
    offsets: np.ndarray = field(repr=False)

    @property
    def dim(self) -> int:
        """Return d."""
        return self.centres.shape[1]

    def max_curvature(self) -> float:
        """Return the largest positive curvature of one wall or basin wall: max(2k, 8 h_0 / (w s_0)²).

        ψ'' = (4/w²)(3δ²/w² − 1) peaks at 8/w² at a wall's foot (δ = w); every level shares it.
        Gradient descent settles between walls only for η below 2 / this.
        """
        walls = 0.0 if self.kind == "basin" else 8.0 * self.wall_height / (self.wall_width * self.wall_spacing) ** 2
        return max(2.0 * self.stiffness, walls)

    def _basin(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        diff = x[:, None, :] - self.centres[None, :, :]
        r = np.sqrt(np.einsum("nkd,nkd->nk", diff, diff))
        k = np.argmin(r, axis=1)
        rows = np.arange(len(x))
        return diff[rows, k], r[rows, k], k

    def basin_index(self, x: np.ndarray) -> np.ndarray:
        """Return, row-wise, the index k of the basin x belongs to (the nearest centre, as all radii are equal)."""
        return self._basin(x)[2]

    def _walls(self, x: np.ndarray, grad: bool):
        if self.kind == "basin":
            return np.zeros(len(x)), (np.zeros_like(x) if grad else None)
        value = np.zeros(len(x))
        g = np.zeros_like(x) if grad else None
        w = self.wall_width
        for j in range(self.normals.shape[0]):
            spacing, height = self.wall_spacing * 2.0**-j, self.wall_height * 4.0**-j
            u = x @ self.normals[j].T / spacing - self.offsets[j]  # N × M
            delta = u - np.round(u)
            inside = np.maximum(1.0 - (delta / w) ** 2, 0.0)
            value += height * np.sum(inside**2, axis=1)
            if grad:
                dpsi = height * 2.0 * inside * (-2.0 * delta / w**2) / spacing
                g += dpsi @ self.normals[j]
        return value, g

    def value(self, x: np.ndarray) -> np.ndarray:
        """Return L(x) = B(x) + W(x) for each row of the (N, d) array x (module docstring)."""
        _, r, _ = self._basin(x)
        return self.stiffness * np.maximum(r - self.radius, 0.0) ** 2 + self._walls(x, False)[0]

    def gradient(self, x: np.ndarray) -> np.ndarray:
        """Return ∇L(x) row-wise: 2k (r − ρ)_+ (x − c)/r of the nearest basin plus Σ ψ' u / s of the walls."""
        diff, r, _ = self._basin(x)
        coef = 2.0 * self.stiffness * np.maximum(r - self.radius, 0.0) / np.maximum(r, 1e-300)
        return diff * coef[:, None] + self._walls(x, True)[1]


def make_landscape(kind: str, dim: int, n_basins: int = 2, radius: float = 1.0, separation: float = 4.0,
                   stiffness: float = 1.0, wall_height: float = 0.1, wall_spacing: float = 0.5,
                   wall_levels: int = 4, wall_families: int = 2, wall_width: float = 0.1,
                   seed: int = 0) -> ToyLandscape:
    """Return a ToyLandscape with K basins whose centres are `separation` apart, c_k = separation · e_k / √2.

    Wall normals u_{jm} and offsets o_{jm} come from the stream (seed, "toy/walls"), so 'basin' and
    'basin-fractal' built with one seed share their basins.
    """
    if kind not in KINDS:
        raise InvalidSpecError(f"kind must be one of {KINDS}, got {kind!r}")
    if not 1 <= n_basins <= dim or dim < 2:
        raise InvalidSpecError(f"need 2 ≤ d and 1 ≤ n_basins ≤ d, got d = {dim}, n_basins = {n_basins}")
    if separation <= 2 * radius or not (radius > 0 and stiffness > 0 and 0 < wall_width < 0.5):
        raise InvalidSpecError("need separation > 2·radius, radius > 0, stiffness > 0 and 0 < wall_width < 0.5")
    centres = np.zeros((n_basins, dim))
    centres[np.arange(n_basins), np.arange(n_basins)] = separation / math.sqrt(2.0)
    rng = stream(seed, "toy/walls")
    normals = rng.standard_normal((wall_levels, wall_families, dim))
    normals /= np.linalg.norm(normals, axis=2, keepdims=True)
    offsets = rng.uniform(0.0, 1.0, size=(wall_levels, wall_families))
    return ToyLandscape(kind, centres, radius, stiffness, wall_height, wall_spacing, wall_width, normals, offsets)


# ----------------------------------------------------------------------------------------------
# Dynamics and instruments


def descend(landscape: ToyLandscape, x0: np.ndarray, steps: int, lr: float, temperature: float = 0.0,
            rng: np.random.Generator | None = None, record_every: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
    """Return (final points, recorded points R × N × d or None) of noisy gradient descent from the rows of x0.

    x ← x − η ∇L(x) + √(2ηT) ε (plain gradient descent for T = 0), all rows at once; the Langevin
    form of Theory IIb eq. 8 with Langevin noise scaling.
    """
    if temperature > 0 and rng is None:
        raise InvalidSpecError("noisy descent needs a random generator")
    x = np.array(x0, dtype=float, copy=True)
    noise = math.sqrt(2.0 * lr * temperature)
    recorded = [x.copy()] if record_every else None
    for t in range(steps):
        x -= lr * landscape.gradient(x)
        if noise:
            x += noise * rng.standard_normal(x.shape)
        if record_every and ((t + 1) % record_every == 0 or t + 1 == steps):
            recorded.append(x.copy())
    return x, (np.stack(recorded) if record_every else None)


@dataclass(frozen=True)
class Perturbation(Serializable):
    """Loss around a minimum x* after Gaussian perturbation and after re-training (Theory II Fig. 1D).

    Fields:
        sigmas: per-coordinate perturbation sizes σ (x* + σ ε, ε ~ N(0, I_d)).
        base_loss: L(x*).
        mean_loss, q10_loss, q90_loss: mean and 10 % / 90 % quantiles of L(x* + σ ε) over the draws.
        fraction_lower: fraction of draws with L(x* + σ ε) < L(x*) (the paper: "almost always never go down").
        retrained_loss: mean loss after `retrain_steps` of gradient descent from each perturbed point.
        same_basin: fraction of re-trained points in x*'s basin.
        retrained_distance: mean |x_retrained − x*| / √d.
    """

    sigmas: tuple[float, ...]
    base_loss: float
    mean_loss: tuple[float, ...]
    q10_loss: tuple[float, ...]
    q90_loss: tuple[float, ...]
    fraction_lower: tuple[float, ...]
    retrained_loss: tuple[float, ...]
    same_basin: tuple[float, ...]
    retrained_distance: tuple[float, ...]


def perturbation_curve(landscape: ToyLandscape, x_star: np.ndarray, sigmas: tuple[float, ...], draws: int,
                       retrain_steps: int, lr: float, rng: np.random.Generator) -> Perturbation:
    """Return the loss after x* + σ ε (ε ~ N(0, I)) for each σ, and after plain re-training (Theory II §4.4, Fig. 1D)."""
    base = float(landscape.value(x_star[None])[0])
    home = int(landscape.basin_index(x_star[None])[0])
    out = {k: [] for k in ("mean", "q10", "q90", "lower", "re", "same", "dist")}
    for s in sigmas:
        x = x_star[None, :] + s * rng.standard_normal((draws, landscape.dim))
        loss = landscape.value(x)
        y, _ = descend(landscape, x, retrain_steps, lr)
        out["mean"].append(float(loss.mean()))
        out["q10"].append(float(np.quantile(loss, 0.1)))
        out["q90"].append(float(np.quantile(loss, 0.9)))
        out["lower"].append(float(np.mean(loss < base - 1e-12)))
        out["re"].append(float(landscape.value(y).mean()))
        out["same"].append(float(np.mean(landscape.basin_index(y) == home)))
        out["dist"].append(float(np.linalg.norm(y - x_star, axis=1).mean() / math.sqrt(landscape.dim)))
    return Perturbation(tuple(float(s) for s in sigmas), base, *(tuple(out[k]) for k in out))


@dataclass(frozen=True)
class Interpolation(Serializable):
    """Loss on the segment between two points (Theory II Figs 9–12 and 1E).

    Fields:
        label: what the two ends are.
        t: grid on [0, 1], both ends included; loss: L((1 − t) a + t b).
        distance: |b − a|.
        barrier: max_t L − max(L(a), L(b)) (> 0: a wall).
        wall_heights: heights above max(L(a), L(b)) of the interior local maxima that exceed `tol`,
            in order along t.
    """

    label: str
    t: np.ndarray = field(repr=False)
    loss: np.ndarray = field(repr=False)
    distance: float
    barrier: float
    wall_heights: tuple[float, ...]


def interpolation_profile(landscape: ToyLandscape, a: np.ndarray, b: np.ndarray, points: int, label: str = "",
                          tol: float = 1e-6) -> Interpolation:
    """Return L((1 − t) a + t b) on `points` t ∈ [0, 1] with its barrier and walls (Theory II §4.3, Fig. 1E)."""
    t = np.linspace(0.0, 1.0, points)
    loss = landscape.value((1.0 - t)[:, None] * a[None] + t[:, None] * b[None])
    ends = max(loss[0], loss[-1])
    peaks = np.flatnonzero((loss[1:-1] > loss[:-2]) & (loss[1:-1] >= loss[2:])) + 1
    walls = tuple(float(loss[i] - ends) for i in peaks if loss[i] - ends > tol)
    return Interpolation(label, t, loss, float(np.linalg.norm(b - a)), float(loss.max() - ends), walls)


@dataclass(frozen=True)
class Trajectories(Serializable):
    """Noisy gradient descent from nearby starts (Theory II Figs 9, 11 and 1F).

    Fields:
        steps: the step indices recorded.
        loss: n × R losses along each trajectory.
        projection: n × R × 2 coordinates in the plane of the first two principal components of all
            recorded points (distances preserved within that plane).
        centres_2d: the basin centres in that plane.
        final_basin: basin index of each trajectory's end.
        final_loss: L at each end.
        final_spread: mean pairwise distance of the ends / √d.
        end_barrier: the largest barrier of the segments joining ends in the same basin (0 when none).
    """

    steps: tuple[int, ...]
    loss: np.ndarray = field(repr=False)
    projection: np.ndarray = field(repr=False)
    centres_2d: np.ndarray = field(repr=False)
    final_basin: tuple[int, ...]
    final_loss: tuple[float, ...]
    final_spread: float
    end_barrier: float


def trajectories(landscape: ToyLandscape, start: np.ndarray, n: int, spread: float, steps: int, lr: float,
                 temperature: float, record_every: int, rng: np.random.Generator,
                 interp_points: int = 101) -> Trajectories:
    """Return n noisy-descent paths from start + spread · ε, projected on their two principal components."""
    x0 = start[None, :] + spread * rng.standard_normal((n, landscape.dim))
    final, rec = descend(landscape, x0, steps, lr, temperature, rng, record_every)
    r, _, d = rec.shape
    loss = landscape.value(rec.reshape(-1, d)).reshape(r, n).T
    flat = rec.reshape(-1, d)
    mean = flat.mean(axis=0)
    _, _, vt = np.linalg.svd(flat - mean, full_matrices=False)
    proj = ((rec - mean) @ vt[:2].T).transpose(1, 0, 2)
    basins = landscape.basin_index(final)
    pair_d = np.linalg.norm(final[:, None] - final[None], axis=2)
    barrier = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            if basins[i] == basins[j]:
                barrier = max(barrier, interpolation_profile(landscape, final[i], final[j], interp_points).barrier)
    recorded_steps = tuple(int(s) for s in sorted({0, *range(record_every, steps + 1, record_every), steps}))
    return Trajectories(recorded_steps, loss, proj, (landscape.centres - mean) @ vt[:2].T,
                        tuple(int(b) for b in basins), tuple(float(v) for v in landscape.value(final)),
                        float(pair_d[np.triu_indices(n, 1)].mean() / math.sqrt(d)), float(barrier))


# ----------------------------------------------------------------------------------------------
# The experiment


_SCALE_DEFAULTS = {
    "smoke": dict(dim=5, draws=200, retrain_steps=400, n_trajectories=6, trajectory_steps=1500),
    "cpu": dict(dim=50, draws=2000, retrain_steps=2000, n_trajectories=10, trajectory_steps=6000),
    "paper": dict(dim=1000, draws=5000, retrain_steps=5000, n_trajectories=20, trajectory_steps=20000),
}


@dataclass(frozen=True)
class ToyLandscapeConfig(Serializable):
    """Settings of the Theory II §5 experiment; fields left None take the `scale` preset.

    Fields:
        scale: 'smoke' (seconds), 'cpu' (under a minute), 'paper' (d = 1000).
        dim: d, the number of "weights".
        n_basins, radius, separation, stiffness: the basins (make_landscape).
        wall_height, wall_spacing, wall_levels, wall_families, wall_width: the fractal walls
            (h_0, s_0, J, M, w of the module docstring).
        sigmas: perturbation sizes σ per coordinate, in units of ρ / √d (so σ = 1 moves |x| by about ρ).
        draws: perturbations per σ; retrain_steps: gradient steps after each perturbation.
        lr: gradient step η; temperature: T of the noisy descent of the trajectories.
        interp_points: grid points of each interpolation (t = 0 and 1 included).
        n_trajectories, trajectory_steps, start_spread (units of ρ / √d), record_every: trajectories.
        seed: user seed (walls: "toy/walls"; minima, perturbations, trajectories: their own streams).
    """

    scale: Literal["smoke", "cpu", "paper"] = "cpu"
    dim: int | None = None
    n_basins: int = 2
    radius: float = 1.0
    separation: float = 4.0
    stiffness: float = 1.0
    wall_height: float = 0.1
    wall_spacing: float = 0.5
    wall_levels: int = 4
    wall_families: int = 2
    wall_width: float = 0.1
    sigmas: tuple[float, ...] = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
    draws: int | None = None
    retrain_steps: int | None = None
    lr: float = 0.005
    temperature: float = 1e-3
    interp_points: int = 801
    n_trajectories: int | None = None
    trajectory_steps: int | None = None
    start_spread: float = 0.05
    record_every: int = 25
    seed: int = 0

    def __post_init__(self) -> None:
        fill_scale_defaults(self, _SCALE_DEFAULTS)
        object.__setattr__(self, "sigmas", tuple(float(s) for s in self.sigmas))
        if self.n_basins < 2:
            raise InvalidSpecError("need n_basins ≥ 2 to interpolate across basins")
        if not (self.lr > 0 and self.temperature >= 0 and self.interp_points >= 3 and self.n_trajectories >= 2):
            raise InvalidSpecError("need lr > 0, temperature ≥ 0, interp_points ≥ 3 and n_trajectories ≥ 2")
        curvature = self.landscape("basin-fractal").max_curvature()
        if self.lr * curvature >= 2.0:
            # Beyond 2/κ gradient descent oscillates across the walls instead of settling between them.
            raise InvalidSpecError(f"lr·curvature = {self.lr * curvature:.3g} ≥ 2: gradient steps would bounce "
                                   "off the walls; lower lr or wall_height, or widen the walls")

    def landscape(self, kind: str) -> ToyLandscape:
        """Return the landscape of this configuration (same basins and walls for a given seed)."""
        return make_landscape(kind, self.dim, self.n_basins, self.radius, self.separation, self.stiffness,
                              self.wall_height, self.wall_spacing, self.wall_levels, self.wall_families,
                              self.wall_width, self.seed)


@dataclass(frozen=True)
class LandscapeSlice(Serializable):
    """Loss on the plane through three points p0, p1, p2 (orthonormalised axes e1, e2), for the figure.

    Fields:
        u, v: grid coordinates along e1 and e2 (distance units); loss: len(v) × len(u) values.
        points: the three points in (u, v) coordinates (minimum A, minimum B, other basin's minimum).
    """

    u: np.ndarray = field(repr=False)
    v: np.ndarray = field(repr=False)
    loss: np.ndarray = field(repr=False)
    points: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class ModelProbes(Serializable):
    """One toy model through the paper's instruments.

    Fields:
        kind: 'basin' or 'basin-fractal'.
        minima: the three minima (A, B in basin 0; C in basin 1) as rows, found by gradient descent.
        minima_loss: L at each.
        perturbation: the perturbation curve from minimum A.
        within: interpolation A → B (same basin); across: A → C (different basins).
        trajectories: noisy descent from nearby starts between basins 0 and 1.
        slice: the loss on the plane through A, B and C.
    """

    kind: str
    minima: np.ndarray = field(repr=False)
    minima_loss: tuple[float, ...]
    perturbation: Perturbation
    within: Interpolation
    across: Interpolation
    trajectories: Trajectories
    slice: LandscapeSlice


@dataclass(frozen=True)
class ToyLandscapeResult(Serializable):
    """The Theory II §5 experiment: what each toy model predicts for the CNN's probes.

    Fields:
        config: the ToyLandscapeConfig (resolved).
        models: ModelProbes for 'basin' and 'basin-fractal' (same basins, same seeds).
        predictions: per model, the numbers to set beside the CNN's: within- and across-basin
            barriers, the number of walls within a basin and the ratio of the highest to the lowest
            (walls at several scales when ≥ 2), the largest fraction of perturbations that lowered
            the loss, and the smallest σ whose re-training left basin A at least once in ten.
        claim: the paper's description of the two models, quoted.
    """

    config: ToyLandscapeConfig
    models: tuple[ModelProbes, ...]
    predictions: dict
    claim: str


CLAIM_TOY = ("Theory II §5: \"the landscape of empirical risk is simply a collection of (hyper) basins that each "
             "has a flat global minima\" (Fig. 33); in \"basin-fractal\" (Fig. 34) \"one should be able to find "
             "'walls' (raised errors) between two models within the same basin ... at all levels of errors\".")


def _find_minima(landscape: ToyLandscape, config: ToyLandscapeConfig) -> np.ndarray:
    """Return minima A, B (basin 0, ±0.7ρ along a seeded direction) and C (basin 1), by plain descent."""
    rng = stream(config.seed, "toy/minima")
    u = rng.standard_normal(landscape.dim)
    u /= np.linalg.norm(u)
    c0, c1 = landscape.centres[0], landscape.centres[1]
    starts = np.stack([c0 + 0.7 * config.radius * u, c0 - 0.7 * config.radius * u, c1 + 0.5 * config.radius * u])
    return descend(landscape, starts, 4 * config.retrain_steps, config.lr)[0]


def _slice(landscape: ToyLandscape, p: np.ndarray, n: int = 161) -> LandscapeSlice:
    """Return the loss on the plane through the rows of p, on a grid with equal steps along both axes."""
    e1 = p[1] - p[0]
    e1 /= np.linalg.norm(e1)
    e2 = p[2] - p[0] - ((p[2] - p[0]) @ e1) * e1
    e2 /= np.linalg.norm(e2)
    coords = (p - p[0]) @ np.stack([e1, e2]).T
    pad = 0.6 * landscape.radius
    lo, hi = coords.min(axis=0) - pad, coords.max(axis=0) + pad
    step = max(hi - lo) / (n - 1)
    u, v = np.arange(lo[0], hi[0] + step / 2, step), np.arange(lo[1], hi[1] + step / 2, step)
    grid = p[0] + u[None, :, None] * e1 + v[:, None, None] * e2
    loss = landscape.value(grid.reshape(-1, landscape.dim)).reshape(len(v), len(u))
    return LandscapeSlice(u, v, loss, coords)


def run_toy_landscapes(config: ToyLandscapeConfig, progress: Progress | None = None) -> ToyLandscapeResult:
    """Return the perturbation, interpolation and trajectory probes of the 'basin' and 'basin-fractal' models.

    Theory II §5 (Figs 1, 33, 34): perturbation x* + σ ε with re-training, interpolation within and
    across basins, noisy descent from nearby starts; both models share basins, minima starts and
    random streams, so every difference comes from the walls.
    """
    unit = config.radius / math.sqrt(config.dim)
    models, predictions = [], {}
    for i, kind in enumerate(KINDS):
        land = config.landscape(kind)
        minima = _find_minima(land, config)
        pert = perturbation_curve(land, minima[0], tuple(s * unit for s in config.sigmas), config.draws,
                                  config.retrain_steps, config.lr, stream(config.seed, "toy/perturb"))
        within = interpolation_profile(land, minima[0], minima[1], config.interp_points, "A → B (same basin)")
        across = interpolation_profile(land, minima[0], minima[2], config.interp_points, "A → C (other basin)")
        c0, c1 = land.centres[0], land.centres[1]
        # Start on the ridge's near side, so the noise decides some trajectories (Fig. 1F: early splits).
        start = c0 + 0.48 * (c1 - c0)
        traj = trajectories(land, start, config.n_trajectories, config.start_spread * unit, config.trajectory_steps,
                            config.lr, config.temperature, config.record_every, stream(config.seed, "toy/trajectories"))
        models.append(ModelProbes(kind, minima, tuple(float(v) for v in land.value(minima)), pert, within, across,
                                  traj, _slice(land, minima)))
        left = [s for s, f in zip(config.sigmas, pert.same_basin) if f < 0.9]
        predictions[kind] = {
            "within_barrier": within.barrier,
            "across_barrier": across.barrier,
            "walls_within": len(within.wall_heights),
            "wall_height_ratio": (max(within.wall_heights) / min(within.wall_heights)) if within.wall_heights else 0.0,
            "max_fraction_lower": max(pert.fraction_lower),
            "sigma_leaving_basin": left[0] if left else None,
            "trajectory_end_barrier": traj.end_barrier,
        }
        report(progress, i + 1, len(KINDS))
    return ToyLandscapeResult(config, tuple(models), predictions, CLAIM_TOY)
