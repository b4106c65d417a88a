"""Ranks of matrices: numerical (one documented tolerance rule) and exact modulo a prime.

Numerical rule, used everywhere in the toolkit: singular values σ_1 ≥ σ_2 ≥ … count when
σ_i > rtol · σ_1, with rtol = max(m, n) · ε by default (ε the float64 machine epsilon; the rule of
LAPACK and `numpy.linalg.matrix_rank`). A caller whose matrix carries a known error (e.g. evaluated
at homotopy endpoints accurate to 1e-10) passes that relative error as `rtol`. The gap
σ_r / σ_{r+1} says how clear-cut the decision was.

The modular rank of an integer matrix reduced mod p is a lower bound on its rank over Q (a minor
that is nonzero mod p is nonzero over Q). `rank_mod_p` is the pure-Python reference (any p);
`rank_mod_p_fast` is blocked elimination for primes below 2^31 with the updates as float64 BLAS
products on 16-bit limbs (exact), for matrices with thousands of rows and columns.

Ranks of networks' Jacobians (exact mod p, well-scaled numerical) live in `theory.bounds.jacobian`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from landscape_core.seeds import stream
from landscape_core.serialize import Serializable
from landscape_core.errors import InvalidSpecError
from theory.network.rings import PRIME


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


# ----------------------------------------------------------------------------------------------
# Exact rank modulo a word-sized prime, vectorised

FAST_PRIME = 2**31 - 1  # a Mersenne prime below 2^31: products of two residues fit in int64
_LIMB_BITS = 16
_MAX_INNER = 128        # |a| < 2^30, |limb| ≤ 2^15: 128 products of 2^45 sum exactly in float64
DEFAULT_BLOCK = 128


def check_word_prime(p: int) -> int:
    """Return p if it is a prime with 2 < p < 2^31 (residue products then fit in int64), else raise."""
    from sympy import isprime

    if not isinstance(p, (int, np.integer)) or not 2 < int(p) < 2**31 or not isprime(int(p)):
        raise InvalidSpecError(f"the modulus must be a prime between 3 and 2^31 − 1, got {p!r}")
    return int(p)


def _residues(M: Any, p: int) -> np.ndarray:
    """Return M reduced mod p as a 2-D int64 array with entries in [0, p)."""
    arr = np.asarray(M)
    if arr.size == 0:
        return np.zeros((arr.shape[0] if arr.ndim == 2 else 0, 0), dtype=np.int64)
    if arr.ndim != 2:
        raise InvalidSpecError(f"expected a matrix, got an array of shape {arr.shape}")
    if arr.dtype.kind == "i" or (arr.dtype.kind == "u" and arr.dtype.itemsize < 8):
        arr = arr.astype(np.int64)
        # comparisons are far cheaper than an int64 remainder: skip it for residues already reduced
        return arr if arr.min() >= 0 and arr.max() < p else np.mod(arr, p)
    if arr.dtype.kind in "uO":  # Python ints of any size (or uint64): reduce exactly first
        return np.vectorize(lambda v: int(v) % p, otypes=[np.int64])(arr)
    raise InvalidSpecError(f"modular rank needs an integer matrix, got dtype {arr.dtype}")


def _centred(A: np.ndarray, p: int) -> np.ndarray:
    """Return residues moved to (−p/2, p/2], as float64 (|a| < 2^30)."""
    return np.where(A > p // 2, A - p, A).astype(float)


def _limbs(B: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    """Return float64 (B_0, B_1) with B ≡ B_0 + 2^16·B_1 mod p, |B_0| ≤ 2^15, |B_1| ≤ 2^14."""
    c = np.where(B > p // 2, B - p, B)
    high = (c + (1 << (_LIMB_BITS - 1))) >> _LIMB_BITS
    return (c - (high << _LIMB_BITS)).astype(float), high.astype(float)


def _product_parts(A: np.ndarray, B: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    """Return int64 (C_0, C_1 mod p) with A·B ≡ C_0 + 2^16·C_1 (mod p), |C_0| < 2^53 · ⌈k/128⌉."""
    if A.shape[1] <= _MAX_INNER:
        a = _centred(A, p)
        b0, b1 = _limbs(B, p)
        c1 = (a @ b1).astype(np.int64)
        return (a @ b0).astype(np.int64), np.remainder(c1, p, out=c1)
    c0 = np.zeros((A.shape[0], B.shape[1]), dtype=np.int64)
    c1 = np.zeros((A.shape[0], B.shape[1]), dtype=np.int64)
    for s in range(0, A.shape[1], _MAX_INNER):
        part0, part1 = _product_parts(A[:, s:s + _MAX_INNER], B[s:s + _MAX_INNER], p)
        c0 = (c0 + part0) % p
        c1 = (c1 + part1) % p
    return c0, c1


def matmul_mod(A: np.ndarray, B: np.ndarray, p: int) -> np.ndarray:
    """Return A·B mod p for int64 residues in [0, p), p < 2^31, exactly, through float64 BLAS.

    Residues are centred (|a| < 2^30) and B splits into signed 16-bit limbs B = B_0 + 2^16·B_1
    (|B_i| ≤ 2^15), so every product is below 2^45 in size and a float64 sum of 128 of them is exact
    (53-bit mantissa): A·B = A·B_0 + 2^16·(A·B_1 mod p), two BLAS products per 128 inner indices.
    Hand-written because numpy's integer matmul bypasses BLAS (tens of times slower).
    """
    c0, c1 = _product_parts(A, B, p)
    return (c0 + (c1 << _LIMB_BITS)) % p


def _schur_update(A22: np.ndarray, A21: np.ndarray, A12: np.ndarray, p: int) -> np.ndarray:
    """Return A22 − A21·A12 mod p with a single reduction of the large block (fused `matmul_mod`)."""
    c0, c1 = _product_parts(A21, A12, p)
    c0 += c1 << _LIMB_BITS  # |c0| < 2^53 and c1 << 16 < 2^47: no int64 overflow
    np.subtract(A22, c0, out=c0)
    return np.remainder(c0, p, out=c0)


def _panel_pivots(panel: np.ndarray, p: int) -> tuple[list[int], list[int]]:
    """Return (pivot rows, pivot columns) of row-echelon elimination of a panel over F_p."""
    a = panel.copy()
    free = np.ones(a.shape[0], dtype=bool)
    rows, cols = [], []
    for j in range(a.shape[1]):
        cand = np.flatnonzero((a[:, j] != 0) & free)
        if cand.size == 0:
            continue
        i, others = cand[0], cand[1:]
        pivot_row = a[i, j:] * pow(int(a[i, j]), -1, p) % p
        if others.size:
            # residues < 2^31, so each product is < 2^62 and the difference stays inside int64
            a[others, j:] = (a[others, j:] - a[others, j, None] * pivot_row[None, :]) % p
        free[i] = False
        rows.append(int(i))
        cols.append(j)
    return rows, cols


def _inverse_mod(A: np.ndarray, p: int) -> np.ndarray:
    """Return the inverse over F_p of an invertible k×k residue matrix (Gauss–Jordan)."""
    k = A.shape[0]
    aug = np.concatenate([A, np.eye(k, dtype=np.int64)], axis=1)
    for j in range(k):
        i = j + int(np.flatnonzero(aug[j:, j])[0])
        aug[[j, i]] = aug[[i, j]]
        aug[j] = aug[j] * pow(int(aug[j, j]), -1, p) % p
        f = aug[:, j].copy()
        f[j] = 0
        aug = (aug - f[:, None] * aug[j][None, :]) % p
    return aug[:, k:]


def rank_mod_p_fast(M: Any, p: int = FAST_PRIME, block: int = DEFAULT_BLOCK) -> int:
    """Return the rank over F_p of an integer matrix (p prime < 2^31): equal to `rank_mod_p(M, p)`.

    Blocked elimination by Schur complements: in a panel of `block` columns, row echelon over F_p
    finds k pivot rows P and columns C with A_PC invertible and rank A[:, panel] = k; then
    rank A = k + rank S with S = A_N,T − A_N,C A_PC⁻¹ A_P,T (N the other rows, T the columns after
    the panel; S vanishes on the panel's columns because their rank is k). The update is one
    modular matrix product (`matmul_mod`, float64 BLAS on 16-bit limbs), so the cost is
    O(m·n·r) flops in BLAS rather than in Python. Deterministic and exact: it proves the rank
    mod p, which is a lower bound on the rank over Q of the integer matrix (a minor nonzero mod p
    is nonzero).
    """
    p = check_word_prime(p)
    A = _residues(M, p)
    if A.shape[0] > A.shape[1]:
        A = A.T  # eliminate along the short side: at most min(m, n) pivots, each panel removes k rows
    if A.shape[1] > block:
        # Structured matrices (a network's Jacobian: one layer's columns are outer products of few
        # vectors) have panels of low rank, and each panel costs a full pass over A; a fixed column
        # permutation (rank unchanged) gives panels of nearly full rank, so ~rank/block passes.
        A = A[:, stream(0, "rank column order").permutation(A.shape[1])]
    A = np.ascontiguousarray(A)
    rank = 0
    while A.shape[0] and A.shape[1]:
        b = min(block, A.shape[1])
        rows, cols = _panel_pivots(A[:, :b], p)
        k = len(rows)
        if k:
            rank += k
            others = np.setdiff1d(np.arange(A.shape[0]), rows)
            factor = matmul_mod(A[np.ix_(others, cols)], _inverse_mod(A[np.ix_(rows, cols)], p), p)
            A = _schur_update(A[others, b:], factor, A[rows, b:], p)
        else:
            A = A[:, b:]
        A = A[A.any(axis=1)]  # rows reduced to zero carry no further rank
    return rank
