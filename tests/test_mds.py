"""Tests for empirics.mds: classical MDS recovers configurations with a known exact embedding."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.spatial import procrustes
from scipy.spatial.distance import cdist

from empirics.mds import classical_mds, dissimilarity, kruskal_stress, mds, mds_by_layer
from landscape_core.errors import InvalidSpecError


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(4, 12))
def test_points_in_the_plane_embedded_in_high_dimension_are_recovered_exactly(seed, n):
    """Planar points rotated into R^50 have Euclidean distances realisable in 2D: stress ≈ 0 and
    the embedding equals the original configuration up to a rigid motion (Procrustes disparity ≈ 0)."""
    rng = np.random.default_rng(seed)
    P = rng.standard_normal((n, 2)) * rng.uniform(0.5, 5.0)
    Q, _ = np.linalg.qr(rng.standard_normal((50, 50)))
    W = P @ Q[:2] + rng.standard_normal(50)  # rotate and translate into R^50
    res = mds(W, metric="euclidean")
    assert res.stress < 1e-8
    assert res.explained == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(cdist(res.coords, res.coords), cdist(P, P), atol=1e-8 * (1 + np.abs(P).max()))
    _, _, disparity = procrustes(P, res.coords)
    assert disparity < 1e-12


def test_cosine_dissimilarity_matches_direct_formula_and_ignores_scale():
    """1 − cos(w_i, w_j) entrywise, unchanged when each model's weights are rescaled (the BN argument of §4.1)."""
    rng = np.random.default_rng(0)
    W = rng.standard_normal((6, 30))
    D = dissimilarity(W, "cosine")
    for i in range(6):
        for j in range(6):
            cos = W[i] @ W[j] / np.linalg.norm(W[i]) / np.linalg.norm(W[j])
            assert D[i, j] == pytest.approx(1 - cos if i != j else 0.0, abs=1e-12)
    scaled = W * rng.uniform(0.1, 10.0, size=(6, 1))
    np.testing.assert_allclose(dissimilarity(scaled, "cosine"), D, atol=1e-12)
    np.testing.assert_allclose(mds(scaled).coords, mds(W).coords, atol=1e-9)


def test_stress_is_positive_when_dissimilarities_are_not_planar():
    """The regular simplex on 4 points (all distances 1) needs 3 dimensions: 2D stress > 0, 3D stress ≈ 0,
    and B = ½ J has eigenvalues 1/2, 1/2, 1/2, 0."""
    D = 1.0 - np.eye(4)
    X2, vals = classical_mds(D, 2)
    np.testing.assert_allclose(np.sort(vals)[::-1], [0.5, 0.5, 0.5, 0.0], atol=1e-12)
    assert kruskal_stress(D, X2) > 0.1
    X3, _ = classical_mds(D, 3)
    assert kruskal_stress(D, X3) < 1e-10


def test_mds_by_layer_uses_only_that_layers_columns():
    """Layer 1 moves along a line and layer 2 is constant up to tiny noise: layer 1's embedding is 1D-exact."""
    t = np.linspace(0, 1, 7)
    W = np.concatenate([np.outer(t, np.ones(10)) + 0.3, np.ones((7, 5))], axis=1)
    res = mds_by_layer(W, {1: [slice(0, 10)], 2: [slice(10, 15)]}, metric="euclidean", labels=list(t))
    assert res[1].layer == 1 and res[1].labels == tuple(t)
    np.testing.assert_allclose(np.abs(res[1].coords[:, 0] - res[1].coords[0, 0]), t * np.sqrt(10), atol=1e-9)
    assert np.allclose(res[2].coords, 0.0)


def test_mds_rejects_bad_input():
    """Fewer than two models, unknown metric, zero vectors under cosine, too many dimensions."""
    with pytest.raises(InvalidSpecError):
        mds(np.ones((1, 4)))
    with pytest.raises(InvalidSpecError):
        mds(np.ones((3, 4)), metric="manhattan")
    with pytest.raises(InvalidSpecError):
        mds(np.r_[np.zeros((1, 4)), np.ones((2, 4))], metric="cosine")
    with pytest.raises(InvalidSpecError):
        mds(np.eye(3), dims=3)
