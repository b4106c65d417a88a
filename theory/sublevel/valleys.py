"""No-spurious-valley widths for two-layer polynomial networks U ρ(W x) (Venturi–Bandeira–Bruna '18).

Quantities (slides, "VBB'18" and "Polynomial Activations"):
  * intrinsic dimension of ρ(z) = a_0 + a_1 z + ... + a_d z^d on inputs x ∈ R^n (Corollary 6,
    eq. (11)):  q = Σ_{i=1}^{d} C(n+i−1, i) · 1{a_i ≠ 0};
  * Theorem 5: no spurious valleys when the hidden width p ≥ q, a single global valley when p ≥ 2q;
  * quadratic networks ρ(z) = z² (slides, "Between linear and ReLU"): simple landscape when
    M ≥ 3N² (two layers) and M_k ≥ 3N^{2^k} for all k ≤ K (K layers).

What we measured against the slides: the span of {x ↦ ρ(⟨w, x⟩) : w ∈ R^n} is the direct sum of
the spaces of homogeneous polynomials of degree i over the i with a_i ≠ 0 (scaling w by c
separates the degrees, a Vandermonde argument; powers ⟨w, x⟩^i span degree-i forms), so its
dimension is Σ_{i=0}^{d} C(n+i−1, i)·1{a_i ≠ 0}: one more than eq. (11) when a_0 ≠ 0 (the
constant function). `span_dimension` returns that exact dimension; `measured_span_dimension`
estimates it as a numerical rank, independently; `intrinsic_dimension` follows eq. (11), and
the thresholds below use the span dimension, the safe choice (equal to q whenever a_0 = 0).
For ρ = z² on R^N, q = N(N+1)/2, so VBB's 2q = N(N+1) improves on the slides' 3N².

Experiment (`valley_experiment`): a teacher U* ρ(W* x) of width p* labels L Gaussian inputs
without noise, so the global minimum of every student of width p ≥ p* is 0 (and equals the
lifted least-squares optimum F*, which is computed independently over the monomial features).
Students of several widths are trained by L-BFGS (scipy) from seeded random starts; a run
"reaches the global minimum" when its final relative loss F / mean(y²) ≤ `success_tol`.
For p < p* the teacher is not exactly representable, yet a few runs can still get below the
tolerance: two units with nearly equal w and large opposite u approximate a derivative term
(border rank), with weights that grow without bound. Those widths are marked not realizable.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from landscape_core.seeds import stream
from landscape_core.serialize import Serializable
from theory.network.activations import PolyActivation, parse
from landscape_core.errors import InvalidSpecError
from theory.bounds.rank import numerical_rank


# ----------------------------------------------------------------------------------------------
# Dimensions and thresholds


def _check_dim(n: int) -> None:
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise InvalidSpecError(f"input dimension must be a positive integer, got {n!r}")


def intrinsic_dimension(activation: PolyActivation, n: int) -> int:
    """Return q = Σ_{i=1}^{d} C(n+i−1, i)·1{a_i ≠ 0} (slides, Corollary 6, eq. (11))."""
    _check_dim(n)
    return sum(math.comb(n + i - 1, i) for i, a in enumerate(activation.coeffs) if i >= 1 and a != 0)


def span_dimension(activation: PolyActivation, n: int) -> int:
    """Return dim span{ρ(⟨w, ·⟩) : w ∈ R^n} = Σ_{i=0}^{d} C(n+i−1, i)·1{a_i ≠ 0} (q, plus 1 if a_0 ≠ 0)."""
    _check_dim(n)
    return intrinsic_dimension(activation, n) + (1 if activation.coeffs[0] != 0 else 0)


def measured_span_dimension(activation: PolyActivation, n: int, seed: int = 0, rtol: float = 1e-9) -> int:
    """Return the numerical rank of [ρ(⟨w_k, x_l⟩)]_{k,l} for random w_k, x_l (an independent check).

    Uses 2·D + 10 random directions and points (D = span_dimension) with entries N(0, 1/n), and
    counts singular values above rtol·σ_max.
    """
    D = span_dimension(activation, n)
    rng = stream(seed, "span directions")
    k = 2 * D + 10
    Wr = rng.normal(size=(k, n)) / math.sqrt(n)
    Xr = rng.normal(size=(k, n)) / math.sqrt(n)
    A = np.polynomial.polynomial.polyval(Wr @ Xr.T, activation.float_coeffs())
    return numerical_rank(A, rtol=rtol).rank


@dataclass(frozen=True)
class ValleyThresholds(Serializable):
    """Widths from the slides for two-layer networks U ρ(W x) on R^n.

    Fields:
        input_dim: n.
        activation: the polynomial ρ (as `PolyActivation.to_dict()`).
        q: the intrinsic dimension of eq. (11) (degrees i ≥ 1).
        span_dimension: the exact dimension of span{ρ(⟨w, ·⟩)} (adds 1 when a_0 ≠ 0).
        no_spurious_valleys_width: smallest p with the VBB'18 Theorem 5 guarantee (= span_dimension).
        single_valley_width: smallest p with a single global valley (2 × span_dimension).
        quadratic: whether ρ(z) = c z² exactly (the quadratic-network propositions apply).
        quadratic_two_layer_width: 3N² (slides' proposition), None unless quadratic.
        quadratic_layer_widths: (3N^{2^1}, ..., 3N^{2^K}) for the K-layer proposition, () unless quadratic.
    """

    input_dim: int
    activation: dict
    q: int
    span_dimension: int
    no_spurious_valleys_width: int
    single_valley_width: int
    quadratic: bool
    quadratic_two_layer_width: int | None
    quadratic_layer_widths: tuple[int, ...]


def quadratic_layer_widths(N: int, layers: int) -> tuple[int, ...]:
    """Return (3N^{2^k})_{k=1..K}: the widths M_k of the slides' K-layer quadratic proposition."""
    _check_dim(N)
    if layers < 1:
        raise InvalidSpecError(f"layers must be at least 1, got {layers}")
    return tuple(3 * N ** (2**k) for k in range(1, layers + 1))


def valley_thresholds(activation: PolyActivation, n: int, layers: int = 1) -> ValleyThresholds:
    """Return the VBB'18 widths (p ≥ q, p ≥ 2q) and, for ρ = c z², the quadratic bounds 3N², 3N^{2^k}."""
    q = intrinsic_dimension(activation, n)
    D = span_dimension(activation, n)
    quad = activation.degree == 2 and activation.coeffs[0] == 0 and activation.coeffs[1] == 0
    return ValleyThresholds(
        input_dim=n, activation=activation.to_dict(), q=q, span_dimension=D,
        no_spurious_valleys_width=D, single_valley_width=2 * D, quadratic=quad,
        quadratic_two_layer_width=3 * n * n if quad else None,
        quadratic_layer_widths=quadratic_layer_widths(n, layers) if quad else ())


# ----------------------------------------------------------------------------------------------
# Training two-layer polynomial networks


def monomial_features(X: np.ndarray, activation: PolyActivation) -> np.ndarray:
    """Return the L × D matrix of monomials of the degrees i with a_i ≠ 0 (the lifted features)."""
    cols = []
    n = X.shape[1]
    for i, a in enumerate(activation.coeffs):
        if a == 0:
            continue
        for combo in itertools.combinations_with_replacement(range(n), i):
            cols.append(np.prod(X[:, list(combo)], axis=1) if combo else np.ones(X.shape[0]))
    return np.stack(cols, axis=1)


def two_layer_loss_and_grad(theta: np.ndarray, X: np.ndarray, Y: np.ndarray, width: int,
                            coeffs: np.ndarray) -> tuple[float, np.ndarray]:
    """Return (F, ∇F) for F = (1/L) Σ_l ‖U ρ(W x_l) − y_l‖², θ = (W (p × n) row-major, U (m × p))."""
    n, m = X.shape[1], Y.shape[1]
    W = theta[: width * n].reshape(width, n)
    U = theta[width * n:].reshape(m, width)
    Z = X @ W.T
    H = np.polynomial.polynomial.polyval(Z, coeffs)
    R = H @ U.T - Y
    L = X.shape[0]
    dP = 2.0 * R / L
    dZ = (dP @ U) * np.polynomial.polynomial.polyval(Z, np.polynomial.polynomial.polyder(coeffs))
    return float(np.sum(R * R) / L), np.concatenate([(dZ.T @ X).ravel(), (dP.T @ H).ravel()])


@dataclass(frozen=True)
class ValleyExperimentConfig(Serializable):
    """Configuration of the width sweep.

    Fields:
        activation: ρ as text for `theory.network.activations.parse` ('z^2 + z^3').
        input_dim: n.
        widths: student hidden widths p to sweep.
        teacher_width: p* of the teacher U* ρ(W* x) (the labels are noiseless).
        samples: L, number of Gaussian inputs x ~ N(0, I_n).
        runs: random starts per width.
        max_iter: L-BFGS iteration cap per run.
        success_tol: a run reaches the global minimum when F / mean(y²) ≤ success_tol.
        seed: seeds the data and, through one named stream per (width, run), each start.
    """

    activation: str = "z^2 + z^3"
    input_dim: int = 2
    widths: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 14)
    teacher_width: int = 3
    samples: int = 200
    runs: int = 30
    max_iter: int = 3000
    success_tol: float = 1e-6
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "widths", tuple(int(p) for p in self.widths))
        for name in ("input_dim", "teacher_width", "samples", "runs", "max_iter"):
            if int(getattr(self, name)) < 1:
                raise InvalidSpecError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if not self.widths or min(self.widths) < 1:
            raise InvalidSpecError(f"widths must be positive integers, got {self.widths}")
        if not self.success_tol > 0:
            raise InvalidSpecError(f"success_tol must be positive, got {self.success_tol}")
        parse(self.activation)  # fail early on a bad activation


@dataclass(frozen=True)
class WidthOutcome(Serializable):
    """Results of the random starts at one width.

    Fields:
        width: p; realizable: p ≥ teacher width (so the global minimum is 0).
        regime: 'p < q', 'q ≤ p < 2q' or 'p ≥ 2q' (q: the span dimension).
        runs: number of starts; reached: how many ended with F/mean(y²) ≤ success_tol.
        fraction: reached / runs.
        median_final, worst_final: median and largest final relative loss.
        final_losses: every run's final relative loss.
    """

    width: int
    realizable: bool
    regime: str
    runs: int
    reached: int
    fraction: float
    median_final: float
    worst_final: float
    final_losses: tuple[float, ...] = field(repr=False)


@dataclass(frozen=True)
class ValleyExperiment(Serializable):
    """The width sweep: fraction of random starts reaching the global minimum, per width.

    Fields:
        config: the ValleyExperimentConfig (as a dict); seed: its seed.
        thresholds: the ValleyThresholds for (ρ, n).
        lifted_optimum: F* / mean(y²), the convex least-squares optimum over the monomial features
            (0 up to rounding for the noiseless teacher: an independent value of the global minimum).
        outcomes: one WidthOutcome per width.
    """

    config: dict
    seed: int
    thresholds: ValleyThresholds
    lifted_optimum: float
    outcomes: tuple[WidthOutcome, ...]


def teacher_data(cfg: ValleyExperimentConfig) -> tuple[np.ndarray, np.ndarray]:
    """Return (X, Y): L Gaussian inputs and the noiseless labels of a random width-p* teacher."""
    act = parse(cfg.activation)
    rng = stream(cfg.seed, "teacher data")
    X = rng.normal(size=(cfg.samples, cfg.input_dim))
    Wt = rng.normal(size=(cfg.teacher_width, cfg.input_dim)) / math.sqrt(cfg.input_dim)
    Ut = rng.normal(size=(1, cfg.teacher_width))
    return X, np.polynomial.polynomial.polyval(X @ Wt.T, act.float_coeffs()) @ Ut.T


def start_stream(seed: int, width: int, run: int) -> np.random.Generator:
    """Return the random stream of start `run` at width p under the sweep's seed (its own named stream)."""
    return stream(seed, f"valleys/start/p={int(width)}/run={int(run)}")


def train_two_layer(X: np.ndarray, Y: np.ndarray, width: int, activation: PolyActivation,
                    seed: int | np.random.Generator, max_iter: int) -> float:
    """Return the final relative loss F/mean(y²) of L-BFGS from a seeded start W ~ N(0, 1/n), U ~ N(0, 1/p)."""
    from scipy.optimize import minimize

    coeffs = activation.float_coeffs()
    scale = float(np.mean(Y**2)) or 1.0
    rng = seed if isinstance(seed, np.random.Generator) else stream(seed, "valleys start")
    n, m = X.shape[1], Y.shape[1]
    theta0 = np.concatenate([rng.normal(size=width * n) / math.sqrt(n), rng.normal(size=m * width) / math.sqrt(width)])

    def fun(theta):
        f, g = two_layer_loss_and_grad(theta, X, Y, width, coeffs)
        return f / scale, g / scale

    with np.errstate(over="ignore", invalid="ignore"):
        res = minimize(fun, theta0, jac=True, method="L-BFGS-B",
                       options={"maxiter": max_iter, "gtol": 1e-12, "ftol": 1e-15})
    return float(res.fun) if np.isfinite(res.fun) else float("inf")


def valley_needs(cfg: ValleyExperimentConfig) -> list:
    """Return the memory (`common.sizes.Need`s) `valley_experiment(cfg)` must hold at least, before it runs.

    The lifted features: an L × D float64 matrix (L samples, D = Σ C(n+i−1, i) monomials over the
    nonzero a_i) and its least-squares copy; each student of width p: its L × p pre-activations,
    activations and their gradients. Lower bounds (the arrays certainly held), not calibrated peaks.
    """
    from landscape_core.sizes import Need

    d = valley_thresholds(parse(cfg.activation), cfg.input_dim).span_dimension
    p = max(cfg.widths)
    return [Need("memory", 2 * 8 * cfg.samples * d, f"the {cfg.samples:,} × {d:,} lifted features and their "
                                                     f"least-squares copy"),
            Need("memory", 3 * 8 * cfg.samples * p, f"the {cfg.samples:,} × {p:,} activations of the widest student")]


def valley_experiment(cfg: ValleyExperimentConfig,
                      progress: Callable[[int, int], None] | None = None) -> ValleyExperiment:
    """Return the fraction of seeded L-BFGS starts that reach the global minimum 0, for each width."""
    act = parse(cfg.activation)
    th = valley_thresholds(act, cfg.input_dim)
    X, Y = teacher_data(cfg)
    feats = monomial_features(X, act)
    coef, *_ = np.linalg.lstsq(feats, Y, rcond=None)
    lifted = float(np.mean((feats @ coef - Y) ** 2) / np.mean(Y**2))
    D = th.span_dimension
    outcomes, done, total = [], 0, len(cfg.widths) * cfg.runs
    for p in cfg.widths:
        finals = []
        for r in range(cfg.runs):
            finals.append(train_two_layer(X, Y, p, act, start_stream(cfg.seed, p, r), cfg.max_iter))
            done += 1
            if progress is not None:
                progress(done, total)
        arr = np.array(finals)
        reached = int(np.sum(arr <= cfg.success_tol))
        regime = "p < q" if p < D else ("q <= p < 2q" if p < 2 * D else "p >= 2q")
        outcomes.append(WidthOutcome(width=p, realizable=p >= cfg.teacher_width, regime=regime, runs=cfg.runs,
                                     reached=reached, fraction=reached / cfg.runs,
                                     median_final=float(np.median(arr)), worst_final=float(arr.max()),
                                     final_losses=tuple(float(v) for v in arr)))
    return ValleyExperiment(config=cfg.to_dict(), seed=cfg.seed, thresholds=th, lifted_optimum=lifted,
                            outcomes=tuple(outcomes))
