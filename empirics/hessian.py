"""Hessians of a loss over a flat weight vector: exact for small networks, Lanczos for large ones.

Every function here takes `fn: w ↦ L(w)`, a differentiable torch function of the flat parameter
vector (`empirics.probes.Objective.loss_fn()` builds one from a model and data), and the point w.

- `hessian_spectrum`: the exact K×K Hessian by `torch.func.hessian` (reverse-over-reverse) and all
  its eigenvalues, with the nullity by `theory.bounds.rank.numerical_rank` (the toolkit's one rank rule) at
  a stated relative tolerance. For K up to a few thousand (`AUTO_EXACT_PARAMS`, `MAX_EXACT_PARAMS`).
- `top_eigenvalues`: the extreme eigenvalues from Hessian-vector products (forward-over-reverse,
  `torch.func.jvp` of `torch.func.grad`), through `scipy.sparse.linalg.eigsh` on a LinearOperator
  (the PyHessian power/Lanczos computation, done by ARPACK).
- `spectral_density`: stochastic Lanczos quadrature (Ghorbani, Krishnan & Xiao 2019; PyHessian's
  `density`): m Lanczos steps from each of n Rademacher probes give Gauss quadrature nodes θ_j and
  weights τ_j², and φ(t) = (1/n) Σ_probes Σ_j τ_j² g_σ(t − θ_j) with a Gaussian kernel g_σ; the
  tridiagonal's eigenpairs come from `scipy.linalg.eigh_tridiagonal`.

Batch normalisation is whatever `fn` does; `empirics.probes.Objective` documents the choices.
"""
from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import torch

from landscape_core.serialize import Serializable, fields_dict
from landscape_core.errors import InvalidSpecError
from theory.bounds.rank import numerical_rank
from landscape_core.seeds import stream

LossFn = Callable[[torch.Tensor], torch.Tensor]
MAX_EXACT_PARAMS = 20_000  # beyond this the K×K Hessian (3.2 GB at 20,000) is refused
AUTO_EXACT_PARAMS = 2_000  # up to this an automatic choice takes the exact spectrum (seconds on a CPU)


@contextmanager
def quiet_forward_ad() -> Iterator[None]:
    """Silence torch's own deprecation notice raised when forward-mode AD first loads its decompositions."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*is deprecated", category=FutureWarning)
        yield


@dataclass(frozen=True)
class HessianSpectrum(Serializable):
    """All eigenvalues of the exact Hessian at one point, and its numerical nullity.

    Fields:
        eigenvalues: the K eigenvalues, descending.
        tol: relative tolerance: λ counts as zero when |λ| ≤ tol · max_i |λ_i| (`theory.bounds.rank`'s rtol).
        nullity: number of eigenvalues counted as zero.
        n_negative: eigenvalues below −tol · max|λ| (negative curvature beyond the tolerance).
        gap: (smallest |λ| above the threshold, largest |λ| at or below it), showing the separation.
        trace: Σ λ_i.
        n_params: K.
    """

    eigenvalues: np.ndarray
    tol: float
    nullity: int
    n_negative: int
    gap: tuple[float | None, float | None]
    trace: float
    n_params: int

    @property
    def rank(self) -> int:
        """Return K − nullity."""
        return self.n_params - self.nullity

    def to_dict(self) -> dict:
        """Return the fields with the rank and the method ('exact') added."""
        out = fields_dict(self)
        return {**{k: out[k] for k in ("eigenvalues", "tol", "nullity")}, "rank": self.rank,
                **{k: out[k] for k in ("n_negative", "gap", "trace", "n_params")}, "method": "exact"}


@dataclass(frozen=True)
class TopEigenvalues(Serializable):
    """The k extreme Hessian eigenvalues from Hessian-vector products.

    Fields:
        eigenvalues: descending.
        which: 'LA' (largest algebraic), 'SA' (smallest algebraic) or 'LM' (largest magnitude).
        n_matvec: Hessian-vector products used.
        seed: seed of the starting vector.
    """

    eigenvalues: np.ndarray
    which: str
    n_matvec: int
    seed: int

    def to_dict(self) -> dict:
        """Return the fields with the method ('eigsh') added."""
        return {**fields_dict(self), "method": "eigsh"}


@dataclass(frozen=True)
class SpectralDensity(Serializable):
    """A smoothed Hessian eigenvalue density from stochastic Lanczos quadrature.

    Fields:
        grid: points t where the density is evaluated.
        density: φ(t), integrating to ≈ 1 over the grid.
        nodes: (n_probes, m) Ritz values θ_j of each probe's Lanczos tridiagonal.
        weights: (n_probes, m) quadrature weights τ_j² (each row sums to 1).
        sigma: standard deviation of the Gaussian kernel.
        n_steps: Lanczos steps m.
        seed: seed of the Rademacher probes.
        n_params: K, the dimension of the Hessian.
    """

    grid: np.ndarray
    density: np.ndarray
    nodes: np.ndarray
    weights: np.ndarray
    sigma: float
    n_steps: int
    seed: int
    n_params: int

    def moment(self, p: int) -> float:
        """Return the SLQ estimate of tr(H^p)/K = mean over probes of Σ_j τ_j² θ_j^p."""
        return float(np.mean(np.sum(self.weights * self.nodes ** p, axis=1)))

    @property
    def trace(self) -> float:
        """Return the SLQ (Hutchinson) estimate of tr(H) = K · moment(1)."""
        return self.n_params * self.moment(1)

    def to_dict(self) -> dict:
        """Return the fields with the probe count, the trace estimate and the method ('slq') added."""
        return {**fields_dict(self), "n_probes": int(self.nodes.shape[0]), "trace": self.trace, "method": "slq"}


def flat_hessian(fn: LossFn, w: torch.Tensor) -> torch.Tensor:
    """Return the K×K Hessian ∇²L(w) of a scalar function of the flat weights (torch.func.hessian)."""
    w = torch.as_tensor(w).detach()
    if w.ndim != 1:
        raise InvalidSpecError(f"the weights must be a flat vector, got shape {tuple(w.shape)}")
    if w.numel() > MAX_EXACT_PARAMS:
        raise InvalidSpecError(f"an exact Hessian of {w.numel():,} weights is too large "
                               f"(limit {MAX_EXACT_PARAMS:,}); use top eigenvalues or the spectral density")
    with quiet_forward_ad():
        H = torch.func.hessian(fn)(w)
    return 0.5 * (H + H.T)  # symmetric up to rounding; symmetrise so eigvalsh sees one triangle's truth


def spectrum_of(H: np.ndarray, tol: float = 1e-9) -> HessianSpectrum:
    """Return the eigenvalues of a symmetric K×K matrix H and its nullity K − rank, rank by `theory.bounds.rank.numerical_rank`.

    For symmetric H the singular values are |λ_i|, so the rank rule σ_i > tol · σ_1 counts the
    eigenvalues with |λ| > tol · max|λ|; negative curvature beyond the same threshold is reported apart.
    """
    if not tol > 0:
        raise InvalidSpecError(f"the tolerance must be positive, got {tol}")
    H = 0.5 * (np.asarray(H, dtype=float) + np.asarray(H, dtype=float).T)
    values = np.linalg.eigvalsh(H)[::-1].copy()
    rank = numerical_rank(H, rtol=tol)
    mags = np.abs(values)
    above, below = mags[mags > rank.tol], mags[mags <= rank.tol]
    gap = (float(above.min()) if above.size else None, float(below.max()) if below.size else None)
    return HessianSpectrum(values, tol, int(values.size) - rank.rank, int((values < -rank.tol).sum()), gap,
                           float(values.sum()), int(values.size))


def hessian_spectrum(fn: LossFn, w: torch.Tensor, tol: float = 1e-9) -> HessianSpectrum:
    """Return all eigenvalues of the exact Hessian at w and its nullity #{|λ_i| ≤ tol · max|λ|}.

    At a zero of the square loss L = Σ_i r_i², ∇²L = 2JᵀJ + 2 Σ_i r_i ∇²r_i = 2JᵀJ, so the nullity
    equals K − rank J (Theory II §3.3: the zero-error minima are degenerate).
    """
    if not tol > 0:
        raise InvalidSpecError(f"the tolerance must be positive, got {tol}")
    return spectrum_of(flat_hessian(fn, w).detach().to(torch.float64).cpu().numpy(), tol)


def hvp_fn(fn: LossFn, w: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """Return v ↦ ∇²L(w) v by forward-over-reverse differentiation (one gradient's cost, no K×K matrix)."""
    w = torch.as_tensor(w).detach()
    grad = torch.func.grad(fn)

    def hvp(v: torch.Tensor) -> torch.Tensor:
        with quiet_forward_ad():
            return torch.func.jvp(grad, (w,), (v.to(dtype=w.dtype, device=w.device),))[1]

    return hvp


def hessian_operator(fn: LossFn, w: torch.Tensor):
    """Return the Hessian at w as a scipy LinearOperator on float64 numpy vectors (Hessian-vector products)."""
    from scipy.sparse.linalg import LinearOperator

    w = torch.as_tensor(w).detach()
    hvp = hvp_fn(fn, w)
    counter = {"n": 0}

    def matvec(x: np.ndarray) -> np.ndarray:
        counter["n"] += 1
        v = torch.as_tensor(np.asarray(x, dtype=np.float64).ravel(), device=w.device)
        return hvp(v).detach().to(torch.float64).cpu().numpy()

    op = LinearOperator((w.numel(), w.numel()), matvec=matvec, dtype=np.float64)
    op.counter = counter  # type: ignore[attr-defined]
    return op


def top_eigenvalues(fn: LossFn, w: torch.Tensor, k: int = 5, which: str = "LA", seed: int = 0,
                    tol: float = 1e-6, maxiter: int | None = None) -> TopEigenvalues:
    """Return the k extreme Hessian eigenvalues by implicitly restarted Lanczos (ARPACK eigsh) on HVPs.

    `which='LA'` gives the top of the spectrum (PyHessian's `eigenvalues`); 'SA' the most negative.
    """
    from scipy.sparse.linalg import eigsh

    w = torch.as_tensor(w).detach()
    n = w.numel()
    if not 1 <= k < n:
        raise InvalidSpecError(f"k must be between 1 and K − 1 = {n - 1}, got {k}")
    if which not in ("LA", "SA", "LM"):
        raise InvalidSpecError(f"which must be LA, SA or LM, got {which!r}")
    op = hessian_operator(fn, w)
    v0 = stream(seed, "eigsh start").standard_normal(n)
    values = eigsh(op, k=k, which=which, v0=v0, tol=tol, maxiter=maxiter, return_eigenvectors=False)
    return TopEigenvalues(np.sort(values)[::-1].copy(), which, int(op.counter["n"]), seed)


def lanczos(matvec: Callable[[np.ndarray], np.ndarray], v0: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (α, β) of the m-step Lanczos tridiagonalisation from v0, with full reorthogonalisation.

    Written here because scipy exposes no Lanczos that returns the tridiagonal (ARPACK keeps it
    internal), and SLQ needs its eigenvectors' first components. Stops early on an invariant subspace.
    """
    n = v0.size
    m = min(m, n)
    Q = np.zeros((m, n))
    alpha, beta = [], []
    q = v0 / np.linalg.norm(v0)
    b = 0.0
    q_prev = np.zeros(n)
    for j in range(m):
        Q[j] = q
        z = matvec(q) - b * q_prev
        a = float(q @ z)
        z = z - a * q
        # Full reorthogonalisation: without it Ritz values repeat ("ghosts") in floating point.
        z = z - Q[: j + 1].T @ (Q[: j + 1] @ z)
        alpha.append(a)
        b = float(np.linalg.norm(z))
        if j == m - 1 or b <= 1e-12 * max(1.0, abs(a)):
            break
        beta.append(b)
        q_prev, q = q, z / b
    return np.array(alpha), np.array(beta)


def spectral_density(fn: LossFn, w: torch.Tensor, n_probes: int = 4, n_steps: int = 40, seed: int = 0,
                     sigma: float | None = None, n_grid: int = 400) -> SpectralDensity:
    """Return the SLQ density φ(t) = (1/n) Σ_probes Σ_j τ_j² g_σ(t − θ_j) of the Hessian spectrum at w.

    Each probe v (Rademacher, normalised) gives the tridiagonal T_m = S diag(θ) Sᵀ; the weights are
    τ_j² = S_{0j}², so Σ_j τ_j² θ_j^p = vᵀH^p v/‖v‖² exactly for p ≤ 2m − 1 (Gauss quadrature).
    σ defaults to 1% of the spectral range, as in PyHessian's density plots.
    """
    from scipy.linalg import eigh_tridiagonal

    if n_probes < 1 or n_steps < 1:
        raise InvalidSpecError(f"n_probes and n_steps must be positive, got {n_probes}, {n_steps}")
    w = torch.as_tensor(w).detach()
    op = hessian_operator(fn, w)
    rng = stream(seed, "slq probes")
    nodes, weights = [], []
    m = min(n_steps, w.numel())
    for _ in range(n_probes):
        v = rng.choice([-1.0, 1.0], size=w.numel())
        a, b = lanczos(op.matvec, v, m)
        theta, S = eigh_tridiagonal(a, b)
        # Pad early-stopped probes with zero-weight nodes so every probe has m columns.
        th, tau = np.zeros(m), np.zeros(m)
        th[: theta.size], tau[: theta.size] = theta, S[0] ** 2
        th[theta.size:] = theta[-1]
        nodes.append(th)
        weights.append(tau)
    nodes_a, weights_a = np.array(nodes), np.array(weights)
    lo, hi = float(nodes_a.min()), float(nodes_a.max())
    span = max(hi - lo, 1e-12 * max(1.0, abs(hi)))
    sig = float(sigma) if sigma else 0.01 * span
    grid = np.linspace(lo - 5 * sig, hi + 5 * sig, n_grid)
    kern = np.exp(-0.5 * ((grid[None, None, :] - nodes_a[:, :, None]) / sig) ** 2) / (sig * np.sqrt(2 * np.pi))
    density = np.einsum("pj,pjt->t", weights_a, kern) / n_probes
    return SpectralDensity(grid, density, nodes_a, weights_a, sig, m, seed, int(w.numel()))
