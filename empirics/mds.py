"""Classical multidimensional scaling of weight vectors (Theory II §4.1, Borg & Groenen ch. 12).

Theory II visualises a training process by embedding the weights of many saved models in the plane
with "the strain-based MDS algorithm" and "one minus cosine similarity" as dissimilarity (robust to
the weight scale that batch norm normalises out); Euclidean distance is the other option.

Classical (Torgerson) MDS: with δ_ij the dissimilarities and J = I − 11ᵀ/n, B = −½ J δ^{(2)} J;
the p-dimensional embedding is X = V_p Λ_p^{1/2} from the p largest eigenpairs of B. It minimises
the strain ‖B − XXᵀ‖_F and is exact (zero stress) when δ is Euclidean in p dimensions.
We report Kruskal's stress-1 √(Σ (d_ij − δ_ij)² / Σ δ_ij²) of the embedding distances d_ij, and
the fraction of B's positive spectrum that the p dimensions keep. Written with numpy because
scikit-learn's `MDS` is the iterative SMACOF (stress) method, not the paper's strain method, and its
`ClassicalMDS` (scikit-learn ≥ 1.8 only; the project supports ≥ 1.0) keeps only the p eigenvalues,
while `explained` and the non-Euclidean check need B's whole spectrum.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from landscape_core.serialize import Serializable
from landscape_core.errors import InvalidSpecError

METRICS = ("cosine", "euclidean")


def dissimilarity(W: np.ndarray, metric: str = "cosine") -> np.ndarray:
    """Return the (n, n) dissimilarities of the rows of W: 1 − cos(w_i, w_j) or ‖w_i − w_j‖."""
    W = np.asarray(W, dtype=float)
    if W.ndim != 2 or W.shape[0] < 2:
        raise InvalidSpecError(f"need at least two weight vectors as rows, got shape {W.shape}")
    if metric not in METRICS:
        raise InvalidSpecError(f"unknown dissimilarity {metric!r}: choose cosine or euclidean")
    G = W @ W.T
    sq = np.diag(G)
    if metric == "cosine":
        norms = np.sqrt(sq)
        if np.any(norms == 0):
            raise InvalidSpecError("cosine dissimilarity is undefined for an all-zero weight vector")
        D = 1.0 - G / np.outer(norms, norms)
    else:
        D = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * G, 0.0))
    D = 0.5 * (D + D.T)
    np.fill_diagonal(D, 0.0)
    return np.maximum(D, 0.0)


@dataclass(frozen=True)
class MDSResult(Serializable):
    """A classical MDS embedding.

    Fields:
        coords: (n, p) embedded points.
        eigenvalues: all eigenvalues of B = −½ J δ^{(2)} J, descending (negative ones: δ is not Euclidean).
        stress: Kruskal stress-1 of the embedding distances against δ.
        explained: Σ of the p kept eigenvalues / Σ of the positive eigenvalues.
        metric: 'cosine' (1 − cos) or 'euclidean'.
        labels: optional labels of the points (e.g. training errors, epochs).
        layer: the weight layer embedded (None: all weights).
    """

    coords: np.ndarray
    eigenvalues: np.ndarray
    stress: float
    explained: float
    metric: str
    labels: tuple | None = None
    layer: int | None = None


def classical_mds(D: np.ndarray, dims: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Return (X (n, dims), eigenvalues of B) with B = −½ J D^{(2)} J and X = V_p Λ_p^{1/2} (Torgerson)."""
    D = np.asarray(D, dtype=float)
    n = D.shape[0]
    if D.shape != (n, n) or not np.allclose(D, D.T):
        raise InvalidSpecError("the dissimilarity matrix must be square and symmetric")
    if not 1 <= dims < n:
        raise InvalidSpecError(f"dims must be between 1 and n − 1 = {n - 1}, got {dims}")
    J = np.eye(n) - 1.0 / n
    B = -0.5 * J @ (D ** 2) @ J
    vals, vecs = np.linalg.eigh(0.5 * (B + B.T))
    order = np.argsort(vals)[::-1]
    vals, vecs = vals[order], vecs[:, order]
    keep = np.maximum(vals[:dims], 0.0)
    X = vecs[:, :dims] * np.sqrt(keep)
    # Fix each axis's sign (largest-magnitude coordinate positive) so that reruns give the same picture.
    signs = np.sign(X[np.argmax(np.abs(X), axis=0), np.arange(dims)])
    return X * np.where(signs == 0, 1.0, signs), vals


def kruskal_stress(D: np.ndarray, X: np.ndarray) -> float:
    """Return stress-1 = √(Σ_{i<j} (‖x_i − x_j‖ − δ_ij)² / Σ_{i<j} δ_ij²)."""
    diff = X[:, None, :] - X[None, :, :]
    d = np.sqrt((diff ** 2).sum(-1))
    iu = np.triu_indices(len(D), 1)
    den = float((D[iu] ** 2).sum())
    return float(np.sqrt(((d[iu] - D[iu]) ** 2).sum() / den)) if den > 0 else 0.0


def mds(W: np.ndarray, metric: str = "cosine", dims: int = 2, labels: Sequence | None = None,
        layer: int | None = None) -> MDSResult:
    """Return the classical MDS embedding of the rows of W (one model per row) with its stress (Theory II §4.1)."""
    D = dissimilarity(W, metric)
    X, vals = classical_mds(D, dims)
    pos = vals[vals > 0].sum()
    explained = float(np.maximum(vals[:dims], 0).sum() / pos) if pos > 0 else 1.0
    return MDSResult(X, vals, kruskal_stress(D, X), explained, metric,
                     None if labels is None else tuple(labels), layer)


def mds_by_layer(W: np.ndarray, layer_slices: dict[int, Sequence[slice]], metric: str = "cosine", dims: int = 2,
                 labels: Sequence | None = None) -> dict[int, MDSResult]:
    """Return {layer: MDS of the columns of W in that layer's slices} (Theory II Fig. 3: 'layer 2 weights').

    Layer 0 stands for all weights (its result records layer None).
    """
    W = np.asarray(W, dtype=float)
    out = {}
    for layer, slices in layer_slices.items():
        cols = np.concatenate([np.arange(W.shape[1])[s] for s in slices])
        out[layer] = mds(W[:, cols], metric, dims, labels, layer if layer else None)
    return out
