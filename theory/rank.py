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

Ranks of a network's Jacobian ∂f(x_i; w)/∂w (rows N·n_d, columns the K weights), two ways:
- `modular_jacobian_rank`: the Jacobian mod p at random w ∈ F_p^K, by reverse mode over the
  straight-line program `theory.networks.forward_point`: proves a lower bound on the generic rank.
- `stable_numerical_jacobian_rank`: the float Jacobian at weights scaled so that every layer's
  pre-activations stay O(1) (degree ℓ^d polynomials overflow at N(0, 1/fan_in) weights): an estimate.
For K in the hundreds of thousands, `empirics.jacobian_rank` sketches J through Jacobian–vector
products (an estimate).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Sequence

import numpy as np

from common.seeds import stream
from common.serialize import Serializable
from theory.errors import InvalidSpecError
from theory.networks import NetworkSpec, forward_point
from theory.rings import PRIME, Degree, fraction_mod


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


# ----------------------------------------------------------------------------------------------
# Jacobians of a network at one point, by reverse mode over the straight-line program
#
# Forward mode carries a K-vector per intermediate value (O(K) work per operation, O(K²·N) in all);
# reverse mode carries an n_out-vector per value (O(n_out·N) per operation), which is what makes
# K in the thousands cheap. No library differentiates modulo p, hence this small tape.


class _Tape:
    """The operations of one forward pass, for reverse-mode differentiation over F_p or float64."""

    def __init__(self, p: int | None):
        self.p = p
        self.edges: list[tuple[tuple[int, Any], ...]] = []  # per node: (parent, partial or None = 1)

    def reduce(self, x: Any) -> Any:
        return x if self.p is None else x % self.p

    def node(self, val: Any, edges: tuple[tuple[int, Any], ...]) -> "_Var":
        self.edges.append(edges)
        return _Var(val, len(self.edges) - 1, self)


class _Var:
    """A value of the forward pass (a scalar or one entry per data point) recorded on a tape."""

    __slots__ = ("val", "index", "tape")
    __array_ufunc__ = None  # make numpy defer `array * var` to `var.__rmul__`

    def __init__(self, val: Any, index: int, tape: _Tape):
        self.val, self.index, self.tape = val, index, tape

    def __add__(self, other: Any) -> "_Var":
        t = self.tape
        if isinstance(other, _Var):
            return t.node(t.reduce(self.val + other.val), ((self.index, None), (other.index, None)))
        return t.node(t.reduce(self.val + other), ((self.index, None),))

    __radd__ = __add__

    def __mul__(self, other: Any) -> "_Var":
        t = self.tape
        if isinstance(other, _Var):
            return t.node(t.reduce(self.val * other.val), ((self.index, other.val), (other.index, self.val)))
        return t.node(t.reduce(self.val * other), ((self.index, other),))

    __rmul__ = __mul__


def _reverse_jacobian(spec: NetworkSpec, w: Sequence, columns: list[np.ndarray], n_points: int,
                      coerce: Callable[[Fraction], Any], p: int | None,
                      record: Callable[[Any], None] | None = None) -> np.ndarray:
    """Return the (N·n_d, K) Jacobian of `forward_point` at w, rows point-major, mod p or in float64."""
    tape = _Tape(p)
    weights = [tape.node(v, ()) for v in w]  # nodes 0..K−1 are the weights

    def act(z: _Var) -> _Var:
        if record is not None:
            record(z.val)
        return spec.activation(z, coerce)

    outs = forward_point(spec, weights, columns, coerce=coerce, activation=act)
    dtype = np.int64 if p is not None else float
    n_out, k = len(outs), spec.n_params
    adj: list[Any] = [None] * len(tape.edges)
    for o, f in enumerate(outs):
        if isinstance(f, _Var):
            seed = np.zeros((n_points, n_out), dtype=dtype)
            seed[:, o] = 1
            adj[f.index] = seed if adj[f.index] is None else tape.reduce(adj[f.index] + seed)
    for i in range(len(tape.edges) - 1, k - 1, -1):
        a = adj[i]
        if a is None:
            continue
        adj[i] = None  # free as we go: only the frontier of the sweep stays in memory
        for parent, partial in tape.edges[i]:
            if partial is None:
                c = a
            else:
                partial = np.asarray(partial)
                c = tape.reduce(a * (partial[:, None] if partial.ndim else partial))
            adj[parent] = c if adj[parent] is None else tape.reduce(adj[parent] + c)
    J = np.zeros((n_points * n_out, k), dtype=dtype)
    for j in range(k):
        if adj[j] is not None:
            J[:, j] = np.broadcast_to(adj[j], (n_points, n_out)).ravel()
    return J


def _exact_inputs(X: Any, spec: NetworkSpec) -> list[list[Fraction]]:
    rows = [[Fraction(v) for v in np.atleast_1d(row)] for row in X]
    if any(len(r) != spec.input_dim for r in rows):
        raise InvalidSpecError(f"inputs must have {spec.input_dim} coordinates")
    return rows


def modular_weights(spec: NetworkSpec, seed: int, p: int = FAST_PRIME) -> np.ndarray:
    """Return the K random nonzero residues mod p at which `modular_jacobian_fast` evaluates (stream 'modular weights')."""
    return stream(seed, "modular weights").integers(1, check_word_prime(p), size=spec.n_params, dtype=np.int64)


def modular_jacobian_fast(spec: NetworkSpec, X: Any, seed: int = 0, p: int = FAST_PRIME) -> np.ndarray:
    """Return the (N·n_d) × K Jacobian ∂f(x_i; w)/∂w mod p at random w ∈ F_p^K, as int64 residues.

    Rows are point-major (row i·n_d + o), columns follow the spec's flat layout. Computed exactly by
    reverse mode over the straight-line program `forward_point` with values in F_p, vectorised over
    the N points: O(n_d·N) work per operation. Inputs and the activation's coefficients are rationals
    reduced mod p (Z_(p) → F_p is a ring map, so this is the image of the rational Jacobian); a
    denominator divisible by p is refused (InvalidSpecError: choose another prime).

    Its rank is a certified lower bound on the generic rank over Q of the Jacobian on these inputs:
    a minor nonzero at a point of F_p^K is a nonzero polynomial mod p, hence a nonzero polynomial
    over Q, hence nonzero at generic real weights.
    """
    p = check_word_prime(p)
    rows = _exact_inputs(X, spec)
    try:
        xs = np.array([[fraction_mod(v, p) for v in r] for r in rows], dtype=np.int64).reshape(len(rows), -1)
        coeffs = {c: fraction_mod(c, p) for c in spec.activation.coeffs}
    except ZeroDivisionError as exc:
        raise InvalidSpecError(f"{exc}: the Jacobian is not defined mod {p}; choose another prime") from None
    w = [int(v) for v in modular_weights(spec, seed, p)]
    columns = [xs[:, j] for j in range(spec.input_dim)]
    return _reverse_jacobian(spec, w, columns, len(rows), lambda c: coeffs[c], p)


@dataclass(frozen=True)
class ModularJacobianRank(Serializable):
    """Rank of a network's Jacobian modulo a prime at random weights: a certified lower bound.

    rank: rank over F_p of the (N·n_d) × K Jacobian at random w ∈ F_p^K.
    rows, cols: N·n_d and K.
    p: the prime; seed: seed of the weights (stream 'modular weights').
    seconds: wall time (Jacobian and rank).
    proves: 'lower bound': generic rank over Q ≥ rank (equality with probability ≥ 1 − deg/p per
        Schwartz–Zippel, not proved).
    """

    rank: int
    rows: int
    cols: int
    p: int
    seed: int
    seconds: float
    proves: str = "lower bound"


def modular_jacobian_rank(spec: NetworkSpec, X: Any, seed: int = 0, p: int = FAST_PRIME) -> ModularJacobianRank:
    """Return rank_F_p of `modular_jacobian_fast(spec, X, seed, p)`: a certified lower bound on the generic rank."""
    t0 = time.perf_counter()
    J = modular_jacobian_fast(spec, X, seed, p)
    r = rank_mod_p_fast(J, p)
    return ModularJacobianRank(r, J.shape[0], J.shape[1], p, seed, time.perf_counter() - t0)


# ----------------------------------------------------------------------------------------------
# A numerically stable Jacobian at depth


STABLE_RULE = ("layer k's weights σ_k·u_k·G_k/√fan_in, G_k standard normal, σ_k set layer by layer so that the "
               "RMS over the data of layer k's pre-activations is R/2 (R the activation's radius, 1 if none), "
               "u_k ~ U(0.9, 1.1); Jacobian rows scaled to unit 2-norm; rank = #{σ_i > max(m, n)·ε·σ_1}")


@dataclass(frozen=True)
class StableJacobianRank(Serializable):
    """Numerical rank of a network's Jacobian at well-scaled random weights: an estimate.

    rank: numerical rank of the row-normalised Jacobian (`numerical` holds tol, rtol, gap).
    rows, cols: N·n_d and K.
    numerical: the NumericalRank of the row-normalised Jacobian.
    layer_scales: σ_k·u_k per layer (weights = σ_k·u_k·G_k/√fan_in).
    preactivation_rms, preactivation_max: RMS and max |z| of each layer's pre-activations at the
        weights used (nan for layers without activation).
    target_rms: R/2, the RMS the scales aim at.
    seed: seed of G (stream 'stable weights') and of u (stream 'stable jitter').
    seconds: wall time.
    rule: the scaling and tolerance rule, in words.
    proves: 'estimate': in exact arithmetic the rank at Gaussian weights equals the generic rank with
        probability 1, but the floating-point decision can err either way; `modular_jacobian_rank`
        gives the proof of a lower bound.
    """

    rank: int
    rows: int
    cols: int
    numerical: NumericalRank
    layer_scales: tuple[float, ...]
    preactivation_rms: tuple[float, ...]
    preactivation_max: tuple[float, ...]
    target_rms: float
    seed: int
    seconds: float
    rule: str = STABLE_RULE
    proves: str = "estimate"


def _layer_of_activations(spec: NetworkSpec) -> list[int]:
    """Return, for each activation call of `forward_point` in order, the layer of its pre-activation."""
    d, layers = spec.depth, []
    w = [Degree.variable(g.layer - 1, d) for g in spec.groups for _ in range(g.size)]

    def act(z: Degree) -> Degree:
        # the deepest layer whose weights a pre-activation involves is the layer it belongs to
        layers.append(max(i for i, g in enumerate(z.groups) if g > 0) + 1)
        return spec.activation(z, lambda c: c)

    forward_point(spec, w, [Fraction(1)] * spec.input_dim, coerce=lambda c: c, activation=act)
    return layers


def _preactivation_stats(spec: NetworkSpec, w: np.ndarray, columns: list[np.ndarray],
                         layers: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Return (RMS, max |z|) over the data of each layer's pre-activations at w (nan without any)."""
    seen: list[np.ndarray] = []
    coeffs = spec.activation.float_coeffs()

    def act(z: np.ndarray) -> np.ndarray:
        seen.append(np.asarray(z, dtype=float))
        return np.polynomial.polynomial.polyval(z, coeffs)

    with np.errstate(over="ignore", invalid="ignore"):
        forward_point(spec, w, columns, activation=act)
    rms, top = np.full(spec.depth, np.nan), np.full(spec.depth, np.nan)
    for k in range(1, spec.depth + 1):
        zs = [np.ravel(z) for z, layer in zip(seen, layers) if layer == k]
        if zs:
            z = np.concatenate(zs)
            rms[k - 1], top[k - 1] = float(np.sqrt(np.mean(z**2))), float(np.max(np.abs(z)))
    return rms, top


def _fan_in_scaled_normals(spec: NetworkSpec, rng: np.random.Generator) -> np.ndarray:
    w = rng.standard_normal(spec.n_params)
    for g in spec.groups:
        w[g.slice] /= np.sqrt(spec.widths[g.layer - 1] if spec.architecture == "fc" else 2)
    return w


def stable_numerical_jacobian_rank(spec: NetworkSpec, X: Any, seed: int = 0, rtol: float | None = None,
                                   max_iterations: int = 4) -> StableJacobianRank:
    """Return the numerical rank of ∂f(x_i; w)/∂w at random weights scaled so pre-activations stay O(1).

    Rule (`STABLE_RULE`): with G standard normal (stream 'stable weights'), layer by layer, σ_k is set so
    that the RMS of layer k's pre-activations over the N inputs is R/2 (a fixed-point step
    σ_k ← σ_k·(R/2)/RMS, exact after one step when they are linear in the layer's weights), then
    multiplied by an independent u_k ~ U(0.9, 1.1) (stream 'stable jitter'). Given the directions of
    the G_k, each layer's radius then has a density, so w has a density on R^K and, in exact
    arithmetic, J(w) has the generic rank with probability 1 (the rank-deficient weights form a proper
    algebraic set). A polynomial of degree ℓ kept near [−R, R] neither overflows nor flattens to its
    linear part, unlike N(0, 1/fan_in)
    weights at depth (degree ℓ^d). Rows of J are scaled to unit norm (rank unchanged) and
    r = #{σ_i > rtol·σ_1}, rtol = max(m, n)·ε unless given. An estimate, not a proof.
    """
    t0 = time.perf_counter()
    Xf = np.asarray([[float(v) for v in np.atleast_1d(row)] for row in X], dtype=float).reshape(len(X), -1)
    if Xf.shape[1] != spec.input_dim:
        raise InvalidSpecError(f"inputs must have {spec.input_dim} coordinates, got {Xf.shape[1]}")
    columns = [Xf[:, j] for j in range(spec.input_dim)]
    target = float(spec.activation.radius or 1) / 2
    layers = _layer_of_activations(spec)
    scales = np.ones(spec.depth)

    def scaled(g: np.ndarray) -> np.ndarray:
        return g * np.concatenate([np.full(grp.size, scales[grp.layer - 1]) for grp in spec.groups])

    base = _fan_in_scaled_normals(spec, stream(seed, "stable weights"))
    jitter = stream(seed, "stable jitter").uniform(0.9, 1.1, size=spec.depth)
    for k in range(1, spec.depth + 1):
        for _ in range(max_iterations):
            rms = _preactivation_stats(spec, scaled(base), columns, layers)[0][k - 1]
            if not np.isfinite(rms) or rms == 0 or abs(rms / target - 1) < 0.02:
                break
            scales[k - 1] *= target / rms
        # an independent radial factor per layer gives the weights a density on R^K (see docstring)
        scales[k - 1] *= jitter[k - 1]
    w = scaled(base)
    rms, top = _preactivation_stats(spec, w, columns, layers)
    J = _reverse_jacobian(spec, list(w), columns, len(Xf), float, None)
    norms = np.linalg.norm(J, axis=1)
    J = J / np.where(norms > 0, norms, 1.0)[:, None]
    num = numerical_rank(J, rtol)
    return StableJacobianRank(num.rank, J.shape[0], J.shape[1], num, tuple(map(float, scales)),
                              tuple(map(float, rms)), tuple(map(float, top)), target, seed,
                              time.perf_counter() - t0)
