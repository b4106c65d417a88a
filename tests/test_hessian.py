"""Tests for empirics.hessian: exact Hessian, eigsh on Hessian-vector products and SLQ against closed forms."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from landscape_core.seeds import stream
from empirics.hessian import (flat_hessian, hessian_spectrum, hvp_fn, lanczos, spectral_density, spectrum_of,
                              top_eigenvalues)
from landscape_core.errors import InvalidSpecError

torch.set_num_threads(1)


def quadratic(eigenvalues, seed=0):
    """Return (A = Q diag(λ) Qᵀ, fn(w) = ½ wᵀAw + bᵀw) with a random orthogonal Q: ∇²fn = A exactly."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((len(eigenvalues), len(eigenvalues))))
    A = torch.tensor(Q @ np.diag(eigenvalues) @ Q.T)
    b = torch.tensor(rng.standard_normal(len(eigenvalues)))
    return A, (lambda w: 0.5 * w @ A @ w + b @ w)


def test_exact_hessian_of_quadratic_is_its_matrix_and_nullity_counts_zero_eigenvalues():
    """∇²(½wᵀAw + bᵀw) = A; with 3 zero eigenvalues out of 8 the nullity is 3 and the rank 5."""
    lam = np.array([5.0, 3.0, 2.0, 1.0, 0.5, 0.0, 0.0, 0.0])
    A, fn = quadratic(lam)
    w = torch.randn(8, dtype=torch.float64)
    np.testing.assert_allclose(flat_hessian(fn, w).numpy(), A.numpy(), atol=1e-12)
    spec = hessian_spectrum(fn, w, tol=1e-9)
    np.testing.assert_allclose(spec.eigenvalues, np.sort(lam)[::-1], atol=1e-12)
    assert (spec.nullity, spec.rank, spec.n_negative) == (3, 5, 0)
    assert spec.gap[0] == pytest.approx(0.5) and spec.gap[1] < 1e-12
    assert spec.trace == pytest.approx(lam.sum())


def test_exact_hessian_of_nonquadratic_function_matches_hand_derivative():
    """For L(w) = (w0 w1 − 1)² the Hessian is [[2w1², 4w0w1 − 2], [4w0w1 − 2, 2w0²]]."""
    fn = lambda w: (w[0] * w[1] - 1.0) ** 2  # noqa: E731
    w = torch.tensor([0.7, -1.3], dtype=torch.float64)
    a, b = 0.7, -1.3
    expected = np.array([[2 * b * b, 4 * a * b - 2], [4 * a * b - 2, 2 * a * a]])
    np.testing.assert_allclose(flat_hessian(fn, w).numpy(), expected, atol=1e-12)


def test_hvp_equals_matrix_vector_product():
    """The forward-over-reverse HVP equals A v for the quadratic."""
    A, fn = quadratic(np.linspace(-1, 4, 12), seed=3)
    v = torch.randn(12, dtype=torch.float64)
    hvp = hvp_fn(fn, torch.zeros(12, dtype=torch.float64))
    np.testing.assert_allclose(hvp(v).numpy(), (A @ v).numpy(), atol=1e-12)


def test_top_eigenvalues_by_eigsh_match_known_spectrum():
    """eigsh on HVPs returns the 3 largest (and the 2 most negative) eigenvalues of a known 60×60 spectrum."""
    lam = np.concatenate([[10.0, 7.0, 4.0], np.linspace(-2.0, 1.0, 57)])
    _, fn = quadratic(lam, seed=1)
    w = torch.zeros(60, dtype=torch.float64)
    top = top_eigenvalues(fn, w, k=3, which="LA", seed=0, tol=1e-10)
    np.testing.assert_allclose(top.eigenvalues, [10.0, 7.0, 4.0], rtol=1e-8)
    low = top_eigenvalues(fn, w, k=2, which="SA", seed=0, tol=1e-10)
    np.testing.assert_allclose(low.eigenvalues, np.sort(lam)[:2][::-1], rtol=1e-8)
    assert top.n_matvec > 0
    with pytest.raises(InvalidSpecError):
        top_eigenvalues(fn, w, k=60)


def test_lanczos_quadrature_reproduces_probe_moments_exactly():
    """Gauss quadrature from m Lanczos steps: Σ_j τ_j² θ_j^p = vᵀA^p v/‖v‖² for p ≤ 2m − 1 (here m = 6, p ≤ 5)."""
    lam = np.linspace(-1.0, 3.0, 40)
    A, fn = quadratic(lam, seed=2)
    dens = spectral_density(fn, torch.zeros(40, dtype=torch.float64), n_probes=3, n_steps=6, seed=7)
    rng = stream(7, "slq probes")  # the probes of spectral_density(seed=7): its own stream of the seed
    An = A.numpy()
    for probe in range(3):
        v = rng.choice([-1.0, 1.0], size=40)
        for p in range(6):
            exact = v @ np.linalg.matrix_power(An, p) @ v / (v @ v)
            quad = float(np.sum(dens.weights[probe] * dens.nodes[probe] ** p))
            assert quad == pytest.approx(exact, rel=1e-8, abs=1e-10)
    # The density is a probability density on the grid (trapezoid integral ≈ 1).
    assert np.trapezoid(dens.density, dens.grid) == pytest.approx(1.0, abs=1e-3)


def test_full_lanczos_recovers_all_eigenvalues():
    """With m = K steps and full reorthogonalisation the Ritz values are the whole spectrum."""
    lam = np.array([3.0, 2.0, 1.0, 0.5, -0.25, -1.0])
    A, _ = quadratic(lam, seed=4)
    a, b = lanczos(lambda x: A.numpy() @ x, np.ones(6) + np.arange(6) * 0.1, 6)
    T = np.diag(a) + np.diag(b, 1) + np.diag(b, -1)
    np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(T)), np.sort(lam), atol=1e-10)


def test_nullity_uses_relative_threshold():
    """|λ| ≤ tol·max|λ| counts as zero; a negative eigenvalue above the threshold counts as negative."""
    spec = spectrum_of(np.diag([100.0, 1e-3, 1e-9, -1e-8, -2.0]), tol=1e-9)
    assert (spec.nullity, spec.n_negative) == (2, 1)
    assert spec.gap == (1e-3, 1e-8)


@pytest.mark.parametrize("bn", ["recompute", "eval", "batch"])
def test_hvp_of_batchnorm_cnn_matches_finite_differences_of_gradients(bn):
    """On a small PaperCNN (batch norm, no affine) in float64, H v equals (∇L(w + hv) − ∇L(w − hv)) / 2h
    to 1e-5 relative, for every batch-norm policy (the statistics held as the policy prescribes)."""
    from empirics.models import PaperCNN
    from empirics.probes import Objective

    torch.manual_seed(0)
    model = PaperCNN(in_channels=1, num_classes=3, widths=(2, 3, 2, 2), activation="tanh").double()
    X = torch.randn(12, 1, 8, 8, dtype=torch.float64)
    y = torch.randint(0, 3, (12,))
    obj = Objective(model, X, y, bn=bn)
    w = obj.flat()
    fn = obj.loss_fn(w)
    v = torch.randn_like(w)
    hv = hvp_fn(fn, w)(v)
    grad = torch.func.grad(fn)
    h = 1e-5
    fd = (grad(w + h * v) - grad(w - h * v)) / (2 * h)
    assert float(torch.linalg.norm(hv - fd) / torch.linalg.norm(fd)) < 1e-5
