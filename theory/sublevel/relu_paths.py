"""A ReLU network whose sublevel sets are disconnected at widths where linear ones are connected.

Slides (BF'16): "for any architecture there exists a distribution P_(X,Y) such that N_u > 1 in
the ReLU case". Here is a small instance with a complete proof, at the widths (1, 2, 1) that the
strict linear condition n_1 > min(n_0, n_2) = 1 declares connected.

Network. Φ(x; θ) = Σ_{j=1,2} u_j ρ(w_j x), ρ(z) = max(z, 0), scalar x, no biases; flat layout
θ = (w_1, w_2, u_1, u_2) as NetworkSpec fc widths (1, 2, 1) without bias. Since ρ(w x) = w x⁺ for
w > 0 and |w| x⁻ for w < 0 (x± = max(±x, 0)), every such network computes

    f(x) = a(θ) x⁺ + b(θ) x⁻,   a = Σ_{w_j > 0} u_j w_j,   b = Σ_{w_j < 0} u_j |w_j|.

Data: x ∈ {+1, −1} with y = 1, F(θ) = ½ Σ_l (f(x_l) − y_l)² = ½((a − 1)² + (b − 1)²).

Claim. Let S₊ = {w_1 > 0 > w_2}, S₋ = {w_1 < 0 < w_2}. θ_A = (1, −1, 1, 1) ∈ S₊ and its
unit-swapped copy θ_B = (−1, 1, 1, 1) ∈ S₋ are global minima (F = 0). Every continuous path from
S₊ to S₋ has max_t F(γ(t)) ≥ ½, so Ω_F(λ) is disconnected for every λ ∈ [0, ½).

Proof. w_1 changes sign along γ, so by the intermediate value theorem there is a first τ with
w_1(τ) = 0 or w_2(τ) = 0. At τ one unit is silent and the other is one-sided, so a(γ(τ)) = 0 or
b(γ(τ)) = 0, hence F(γ(τ)) ≥ min(min_b F(0, b), min_a F(a, 0)) = ½ (`one_sided_floor`). ∎

The bound is attained (shrink u_1, flip w_1 while u_1 = 0, trade u_2 for u_1, flip w_2, regrow
u_2), so ½ is the exact barrier; `string_method` finds paths whose maximum approaches it from
above, never below. The tests check the proof's inequality at the exact crossing time of many
random paths, not only on grids.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from landscape_core.seeds import stream
from scipy.optimize import brentq

from landscape_core.serialize import Serializable, fields_dict
from landscape_core.errors import InvalidSpecError

WIDTHS = (1, 2, 1)


def relu_forward(theta: np.ndarray, X: np.ndarray, hidden: int) -> np.ndarray:
    """Return Φ(X; θ) = ρ(X Wᵀ) Uᵀ for θ = (W row-major (h × n), U (m × h)), X of shape (L, n)."""
    n = X.shape[1]
    W = theta[: hidden * n].reshape(hidden, n)
    U = theta[hidden * n:].reshape(-1, hidden)
    return np.maximum(X @ W.T, 0.0) @ U.T


def relu_loss_and_grad(theta: np.ndarray, X: np.ndarray, Y: np.ndarray, hidden: int) -> tuple[float, np.ndarray]:
    """Return (F, ∇F) for the mean squared error F(θ) = (1/L) Σ_l ‖Φ(x_l; θ) − y_l‖² (by backpropagation)."""
    n = X.shape[1]
    L = X.shape[0]
    W = theta[: hidden * n].reshape(hidden, n)
    U = theta[hidden * n:].reshape(-1, hidden)
    Z = X @ W.T
    H = np.maximum(Z, 0.0)
    R = H @ U.T - Y
    F = float(np.sum(R * R) / L)
    dP = 2.0 * R / L
    dU = dP.T @ H
    dZ = (dP @ U) * (Z > 0)
    dW = dZ.T @ X
    return F, np.concatenate([dW.ravel(), dU.ravel()])


@dataclass(frozen=True)
class ReluCounterexample(Serializable):
    """The (1, 2, 1) bias-free ReLU instance of the module docstring.

    Fields:
        X, Y: the two samples (x, y) = (1, 1), (−1, 1), shapes (2, 1).
        theta_a, theta_b: the two global minima (w_1, w_2, u_1, u_2) = (1, −1, 1, 1), (−1, 1, 1, 1).
        min_loss: F at both minima (0).
        floor: the proved barrier ½ = min over one-sided fits.
        level: a level λ ∈ [min_loss, floor) at which Ω_F(λ) is disconnected (floor / 2).
    """

    X: np.ndarray = field(repr=False)
    Y: np.ndarray = field(repr=False)
    theta_a: np.ndarray
    theta_b: np.ndarray
    min_loss: float
    floor: float
    level: float

    def loss(self, theta: np.ndarray) -> float:
        """Return F(θ) = (1/L) Σ_l (Φ(x_l; θ) − y_l)²."""
        return relu_loss_and_grad(np.asarray(theta, dtype=float), self.X, self.Y, 2)[0]

    def to_dict(self) -> dict:
        """Return the fields as JSON, with the widths and the samples flattened to one list each."""
        return {"widths": list(WIDTHS), "X": self.X.ravel().tolist(), "Y": self.Y.ravel().tolist(),
                **fields_dict(self, exclude=("X", "Y"))}


def one_sided_floor(x: np.ndarray, y: np.ndarray) -> float:
    """Return min(min_b F(0, b), min_a F(a, 0)) for f = a x⁺ + b x⁻ on scalar data (least squares).

    F(a, b) = (1/L) Σ_l (a x_l⁺ + b x_l⁻ − y_l)²; with one coefficient fixed at 0 the other has
    the closed form ⟨x±, y⟩ / ‖x±‖² (0 when ‖x±‖ = 0).
    """
    x, y = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
    best = np.inf
    for side in (np.maximum(x, 0.0), np.maximum(-x, 0.0)):
        c = float(side @ y / (side @ side)) if side @ side > 0 else 0.0
        best = min(best, float(np.mean((c * side - y) ** 2)))
    return best


def counterexample() -> ReluCounterexample:
    """Return the (1, 2, 1) ReLU instance with two global minima in different components of Ω_F(λ)."""
    X = np.array([[1.0], [-1.0]])
    Y = np.array([[1.0], [1.0]])
    a = np.array([1.0, -1.0, 1.0, 1.0])
    b = np.array([-1.0, 1.0, 1.0, 1.0])
    floor = one_sided_floor(X, Y)
    fa = relu_loss_and_grad(a, X, Y, 2)[0]
    return ReluCounterexample(X=X, Y=Y, theta_a=a, theta_b=b, min_loss=fa, floor=floor, level=0.5 * floor)


@dataclass(frozen=True)
class CrossingCheck(Serializable):
    """The loss where a path first silences a hidden unit (the step of the proof).

    Fields:
        time: τ, the first time at which w_1 or w_2 vanishes (found by bracketing and brentq).
        unit: which unit (0 or 1) vanishes first.
        loss: F(γ(τ)).
        grid_max: max of F on the grid used to bracket τ.
    """

    time: float
    unit: int
    loss: float
    grid_max: float


def first_silencing(path: Callable[[float], np.ndarray], example: ReluCounterexample, n_grid: int = 2001) -> CrossingCheck:
    """Return F at the first time a path from S₊ silences a unit (w_j(τ) = 0), to 1e-14 in time.

    The path must start in S₊ (w_1 > 0 > w_2) and end in S₋; raises InvalidSpecError otherwise.
    """
    ts = np.linspace(0.0, 1.0, n_grid)
    thetas = np.stack([np.asarray(path(t), dtype=float) for t in ts])
    w = thetas[:, :2]
    if not (w[0, 0] > 0 > w[0, 1] and w[-1, 0] < 0 < w[-1, 1]):
        raise InvalidSpecError("the path must run from {w_1 > 0 > w_2} to {w_1 < 0 < w_2}")
    signs = np.sign(w) != np.sign(w[0])
    first = np.argmax(signs.any(axis=1))  # first grid index where some w_j has left its start sign
    unit = int(np.argmax(signs[first]))
    if w[first, unit] == 0.0:
        tau = float(ts[first])
    else:
        tau = brentq(lambda t: float(np.asarray(path(t))[unit]), ts[first - 1], ts[first], xtol=1e-14)
    grid_max = max(example.loss(th) for th in thetas)
    return CrossingCheck(time=tau, unit=unit, loss=example.loss(path(tau)), grid_max=float(grid_max))


def polyline(points: np.ndarray) -> Callable[[float], np.ndarray]:
    """Return the piecewise-linear path through `points` (rows), uniform in the index."""
    points = np.asarray(points, dtype=float)
    k = len(points) - 1

    def at(t: float) -> np.ndarray:
        u = min(max(float(t), 0.0), 1.0) * k
        i = min(int(u), k - 1)
        return (1.0 - (u - i)) * points[i] + (u - i) * points[i + 1]

    return at


@dataclass(frozen=True)
class StringResult(Serializable):
    """A minimum-energy-path search between the two minima (simplified string method).

    Fields:
        seed: the seed of the initial perturbation.
        images: the final string (n_images × 4), endpoints θ_A and θ_B.
        max_loss: max of F along the polyline through the images (grid of 4001 plus the exact
            crossing time of `first_silencing`).
        crossing: the first-silencing check of that polyline.
        iterations, step: the schedule used.
        profile: F along the polyline at 201 uniform parameter values (for figures).
    """

    seed: int
    images: np.ndarray = field(repr=False)
    max_loss: float
    crossing: CrossingCheck
    iterations: int
    step: float
    profile: tuple[float, ...] = field(repr=False, default=())


def string_method(example: ReluCounterexample, seed: int, n_images: int = 33, iterations: int = 1500,
                  step: float = 0.05, perturbation: float = 0.5) -> StringResult:
    """Return a low-barrier path from θ_A to θ_B found by the string method (E, Ren, Vanden-Eijnden 2002).

    Start: the straight segment plus a seeded random bump t(1−t)·N(0, perturbation²); each
    iteration takes a gradient step on the interior images and redistributes them at equal
    arc length (np.interp per coordinate). Endpoints are fixed (they are minima).
    """
    if n_images < 3 or iterations < 0 or step <= 0:
        raise InvalidSpecError("need n_images ≥ 3, iterations ≥ 0 and step > 0")
    rng = stream(seed, "string perturbation")
    s = np.linspace(0.0, 1.0, n_images)[:, None]
    bump = rng.normal(scale=perturbation, size=(1, 4)) + rng.normal(scale=perturbation / 4, size=(n_images, 4))
    images = (1 - s) * example.theta_a + s * example.theta_b + s * (1 - s) * bump
    for _ in range(iterations):
        for i in range(1, n_images - 1):
            images[i] -= step * relu_loss_and_grad(images[i], example.X, example.Y, 2)[1]
        seg = np.linalg.norm(np.diff(images, axis=0), axis=1)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        target = np.linspace(0.0, cum[-1], n_images)
        images = np.stack([np.interp(target, cum, images[:, j]) for j in range(4)], axis=1)
        images[0], images[-1] = example.theta_a, example.theta_b
    path = polyline(images)
    crossing = first_silencing(path, example, n_grid=4001)
    max_loss = max(crossing.grid_max, crossing.loss)
    profile = tuple(example.loss(path(t)) for t in np.linspace(0.0, 1.0, 201))
    return StringResult(seed=seed, images=images, max_loss=float(max_loss), crossing=crossing,
                        iterations=iterations, step=step, profile=profile)


@dataclass(frozen=True)
class ReluContrast(Serializable):
    """The ReLU counterexample next to the linear network of the same widths on the same data.

    Fields:
        example: the instance; strings: the string-method searches (one per seed).
        best_barrier: the lowest max-loss over all strings found (≥ floor, by the proof).
        straight_line_max: max F on the straight segment θ_A → θ_B.
        linear_bound, linear_path_max: for Φ = U W x (same widths, same endpoints), the bound
            max(F(θ_A), F(θ_B)) and the max along the connecting path of theory.sublevel.linear_paths.
    """

    example: ReluCounterexample
    strings: tuple[StringResult, ...]
    best_barrier: float
    straight_line_max: float
    linear_bound: float
    linear_path_max: float


def relu_contrast(seeds: Sequence[int] = (0, 1, 2), iterations: int = 1500) -> ReluContrast:
    """Return the string-method barriers of the ReLU instance and the linear path on the same data."""
    from theory.sublevel.linear_paths import LinearRegressionLoss, certify_path, connecting_path, from_flat

    ex = counterexample()
    strings = tuple(string_method(ex, seed, iterations=iterations) for seed in seeds)
    ts = np.linspace(0.0, 1.0, 2001)
    straight = max(ex.loss((1 - t) * ex.theta_a + t * ex.theta_b) for t in ts)
    loss = LinearRegressionLoss.empirical(ex.X, ex.Y)
    cert = certify_path(connecting_path(from_flat(ex.theta_a, WIDTHS), from_flat(ex.theta_b, WIDTHS)), loss, 401)
    return ReluContrast(example=ex, strings=strings, best_barrier=min(s.max_loss for s in strings),
                        straight_line_max=float(straight), linear_bound=cert.bound, linear_path_max=cert.max_loss)
