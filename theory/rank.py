"""Ranks of matrices: numerical (one documented tolerance rule) and exact modulo a prime.

Numerical rule, used everywhere in the toolkit: singular values σ_1 ≥ σ_2 ≥ … count when
σ_i > rtol · σ_1, with rtol = max(m, n) · ε by default (ε the float64 machine epsilon; the rule of
LAPACK and `numpy.linalg.matrix_rank`). A caller whose matrix carries a known error (e.g. evaluated
at homotopy endpoints accurate to 1e-10) passes that relative error as `rtol`. The gap
σ_r / σ_{r+1} says how clear-cut the decision was.

The modular rank of an integer matrix reduced mod p is a lower bound on its rank over Q (a minor
that is nonzero mod p is nonzero over Q).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from common.serialize import Serializable
from theory.rings import PRIME


@dataclass(frozen=True)
class NumericalRank(Serializable):
    """Numerical rank of a matrix.

    rank: number of singular values above `tol`.
    tol: the absolute threshold rtol · σ_max.
    rtol: the relative threshold used (default max(m, n) · ε).
    gap: σ_r / σ_{r+1} (inf when r is 0 or full, or σ_{r+1} = 0).
    sigma_max: the largest singular value.
    """

    rank: int
    tol: float
    rtol: float
    gap: float
    sigma_max: float


def default_rtol(shape: tuple[int, ...]) -> float:
    """Return the default relative tolerance max(m, n) · ε."""
    return max(shape) * float(np.finfo(float).eps) if shape else float(np.finfo(float).eps)


def numerical_rank(J: np.ndarray, rtol: float | None = None) -> NumericalRank:
    """Return the numerical rank of J: #{σ_i > rtol · σ_1}, rtol = max(m, n) · ε unless given."""
    J = np.asarray(J)
    rtol = default_rtol(J.shape) if rtol is None else float(rtol)
    s = np.linalg.svd(J, compute_uv=False) if J.size else np.zeros(0)
    if s.size == 0 or not s[0] > 0:
        return NumericalRank(0, 0.0, rtol, float("inf"), float(s[0]) if s.size else 0.0)
    tol = rtol * float(s[0])
    r = int((s > tol).sum())
    gap = float(s[r - 1] / s[r]) if 0 < r < len(s) and s[r] > 0 else float("inf")
    return NumericalRank(r, tol, rtol, gap, float(s[0]))


def rank_mod_p(rows: list[list[int]], p: int = PRIME) -> int:
    """Return the rank of an integer matrix over F_p (Gaussian elimination)."""
    m = [list(r) for r in rows]
    rank, n_cols = 0, len(m[0]) if m else 0
    for col in range(n_cols):
        pivot = next((i for i in range(rank, len(m)) if m[i][col] % p), None)
        if pivot is None:
            continue
        m[rank], m[pivot] = m[pivot], m[rank]
        inv = pow(m[rank][col], -1, p)
        m[rank] = [v * inv % p for v in m[rank]]
        for i in range(len(m)):
            if i != rank and m[i][col] % p:
                f = m[i][col]
                m[i] = [(a - f * b) % p for a, b in zip(m[i], m[rank])]
        rank += 1
    return rank
