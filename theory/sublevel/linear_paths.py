"""Paths inside sublevel sets of deep linear networks: a complete version of Freeman & Bruna, Prop. 2.2.

Network and loss. Φ(x; θ) = W_K ⋯ W_1 x with W_k ∈ R^{n_k × n_{k−1}} (widths n_0 = n inputs,
n_K = m outputs), θ = (W_1, ..., W_K), flat layout as `NetworkSpec(widths, linear(), bias=False,
output_activation=False)`. Both risks of the draft depend on θ only through the end-to-end matrix
M = W_K ⋯ W_1 and are convex quadratics in M:

    F_e(M) = (1/L) Σ_l ‖M x_l − y_l‖²                                    (draft eq. (1))
    F_o(M) = tr(M Σ_xx Mᵀ) − 2 tr(M Σ_xy) + tr Σ_yy                      (draft eq. (2))

Width condition (proved here, the slides' BF'16 form): every hidden width is STRICTLY larger than
the smaller end, n_k > r := min(n_0, n_K) for 0 < k < K. Then for any θ_A, θ_B the path γ of
`connecting_path` satisfies γ(0) = θ_A, γ(1) = θ_B exactly and F(γ(t)) ≤ max(F(θ_A), F(θ_B))
for every loss F that is a convex function of M (F_e, F_o and any other): the path is the same
for all data. The draft's n_k ≥ r is not enough: for widths (1, 1, 1) and data y = x the level
set {F_e ≤ 0} = {w_2 w_1 = 1} is two hyperbola branches; more generally for K = 2, n_1 = r and
data with a unique invertible minimiser, sign(det W_2) is constant on the minimum level set and
takes both values (`equal_width_obstruction`, tested).

Construction (three stages, t ∈ [0, 1] split among them in proportion to their lengths):
  1. a path inside the fibre {θ : M(θ) = M_A} from θ_A to a canonical factorisation C(M_A);
  2. the straight segment C((1−s) M_A + s M_B): C is linear in M, so the end-to-end map follows
     the lifted convex path exactly and F ≤ (1−s) F(M_A) + s F(M_B) by convexity;
  3. stage 1 for θ_B, run backwards.
Along stages 1 and 3 the loss is constant (the product does not move), so the bound holds.
When n_0 ≥ n_K, C(M) carries the r = m outputs through the first m coordinates of every hidden
layer: W_1 = E_{n_1} M, W_k = E_{n_k} E_{n_{k−1}}ᵀ, W_K = E_{n_{K−1}}ᵀ with E_a = [I_m; 0] ∈
R^{a×m}; when n_0 < n_K everything is done on the transposed network (W_Kᵀ, ..., W_1ᵀ).

Fibre path (top-down induction on depth, the draft's induction made exact). For the top pair
(W = W_d ∈ R^{m×h}, B = W_{d−1}), with SVD W = U Σ Vᵀ and numerical rank ρ:
  (a) balance: (W G⁻¹, G B) with G(s) = V diag(g^s) Vᵀ, g_i = σ_i (i ≤ ρ), else 1;
      G(s) is positive definite, so the product is unchanged and W ends with singular values 1;
  (b) null move: B ← B − s P₀ B, P₀ the projector onto span(v_{ρ+1}, ..., v_h) ⊇ ker W;
  (c) completion: W ← W + s Σ_{ρ<i≤m} (1 − σ_i) u_i v_iᵀ; these rows are orthogonal to the
      columns of B after (b), so W B is unchanged and W ends with orthonormal rows F;
  (d) rotation: Fᵀ = G_1 ⋯ G_N [I_m; 0] by Givens rotations with r_kk ≥ 0 (each column k ≤ m
      has an entry below the diagonal because h > m, which is exactly where the strict width is
      used); (W, B) ← (F R(s)ᵀ, R(s) B) with R(s) = Q(1 − s) Qᵀ, Q(s) = Π G_k(s θ_k) ∈ SO(h);
  (e) clean-up: W = E_hᵀ now, and the rows m+1..h of B are scaled to 0.
  B then equals E_h M̃ with M̃ = W B, and the induction continues on (W_1, ..., W_{d−2}, M̃).

Gaps of the draft closed here:
  * left pseudo-inverse (W_KᵀW_K)⁻¹W_Kᵀ: W_K is wide (n_K ≤ n_{K−1}) so WᵀW is singular; a
    right inverse is what gives W_K W_K^† = I. The construction above needs no inverse at all:
    it moves along the group orbit (W G⁻¹, G B), G ∈ GL⁺(h), and along null-space directions.
  * endpoints: W_{K−1}(0) = W_K^† W̃_{K−1} is the projection of W_{K−1}^A onto the row space of
    W_K^A, so the draft's path reaches θ_A only up to the fibre of the product map; stages 1/3
    connect θ_A itself, and γ(0), γ(1) return copies of the given arrays bit for bit.
  * rank-deficient endpoints: W_K(t)^† is discontinuous where the rank of W_K(t) jumps (t → 0
    when W_K^A is rank deficient); steps (a)–(c) first make W_K full rank inside the fibre.
  * "W_K(t) has full rank for t ∈ (0, 1)" with V random: false when n_{K−1} = n_K (det W_K(t)
    changes sign between the endpoints), and only generic, with no conditioning bound, when
    n_{K−1} > n_K; the Givens path (d) stays orthonormal (condition number 1) for every s.
  * width condition: n_k ≥ min(n_1, n_K) ("TODO I think this is not necessary") replaced by the
    strict n_k > min(n_0, n_K), which is necessary for two layers (see above).
  * input side: the induction from the top needs n_k > n_K; when n_0 < n_K the transposed
    network is used, which the draft does not discuss.
  * shapes: the draft's W_k ∈ R^{n_k × n_{k+1}} and V ∈ R^{n_{K−1} × n_K} disagree with
    Φ = W_K ⋯ W_1 x; here W_k ∈ R^{n_k × n_{k−1}}, as torch's nn.Linear.weight.

Numerical tolerance: singular values ≤ `rank_tol`·σ_max are treated as zero in (b), which
moves the product by at most rank_tol·σ_max·‖B‖; every other step keeps it up to rounding.
`certify_path` measures the product deviation and the loss excess on a grid and compares them
with `tolerance = 1e-8 · (1 + F(0) + max(F_A, F_B))`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from landscape_core.seeds import stream
from landscape_core.serialize import Serializable, fields_dict
from landscape_core.errors import InvalidSpecError, WidthConditionError

Weights = tuple  # (W_1, ..., W_K) as float arrays, W_k of shape (n_k, n_{k−1})
Segment = tuple  # (label, function s ∈ [0, 1] -> Weights)


# ----------------------------------------------------------------------------------------------
# Shapes, products and the width condition


def check_widths(widths: Sequence[int]) -> tuple[int, ...]:
    """Return the widths as a tuple after checking n_k ≥ 1 and n_k > min(n_0, n_K) for hidden k.

    Raises WidthConditionError when a hidden width is ≤ min(n_0, n_K) (the strict BF'16 condition
    under which `connecting_path` is proved to work).
    """
    widths = tuple(int(n) for n in widths)
    if len(widths) < 2:
        raise InvalidSpecError("a linear network needs at least two widths (input, output)")
    if any(n < 1 for n in widths):
        raise InvalidSpecError(f"widths must be positive integers, got {widths}")
    r = min(widths[0], widths[-1])
    bad = [(k, n) for k, n in enumerate(widths[1:-1], start=1) if n <= r]
    if bad:
        k, n = bad[0]
        raise WidthConditionError(
            f"hidden width n_{k} = {n} must exceed min(n_0, n_K) = {r} for sublevel sets to be "
            f"connected (widths {'-'.join(map(str, widths))}); equality already fails for two layers")
    return widths


def random_weights(widths: Sequence[int], rng: np.random.Generator, scale: float = 1.0) -> Weights:
    """Return (W_1, ..., W_K) with entries N(0, scale²/n_{k−1})."""
    return tuple(rng.normal(0.0, scale / math.sqrt(widths[k - 1]), size=(widths[k], widths[k - 1]))
                 for k in range(1, len(widths)))


def widths_of(ws: Sequence[np.ndarray]) -> tuple[int, ...]:
    """Return (n_0, ..., n_K) read off the shapes, checking that consecutive shapes chain."""
    if not ws:
        raise InvalidSpecError("no weight matrices given")
    widths = [ws[0].shape[1]]
    for k, w in enumerate(ws, start=1):
        if w.ndim != 2 or w.shape[1] != widths[-1]:
            raise InvalidSpecError(f"W_{k} has shape {w.shape}, expected (·, {widths[-1]})")
        widths.append(w.shape[0])
    return tuple(widths)


def end_to_end(ws: Sequence[np.ndarray]) -> np.ndarray:
    """Return M = W_K ⋯ W_1 (draft eq. (4))."""
    out = np.asarray(ws[0], dtype=float)
    for w in ws[1:]:
        out = w @ out
    return out


def to_flat(ws: Sequence[np.ndarray]) -> np.ndarray:
    """Return the flat weight vector in the NetworkSpec fc layout (W_k row-major, no bias)."""
    return np.concatenate([np.asarray(w, dtype=float).ravel() for w in ws])


def from_flat(flat: np.ndarray, widths: Sequence[int]) -> Weights:
    """Inverse of `to_flat` for the given widths."""
    out, pos = [], 0
    for k in range(1, len(widths)):
        size = widths[k] * widths[k - 1]
        out.append(np.asarray(flat[pos:pos + size], dtype=float).reshape(widths[k], widths[k - 1]))
        pos += size
    if pos != len(flat):
        raise InvalidSpecError(f"expected {pos} weights for widths {tuple(widths)}, got {len(flat)}")
    return tuple(out)


def _embedding(a: int, r: int) -> np.ndarray:
    """Return E_a = [I_r; 0] ∈ R^{a×r}."""
    e = np.zeros((a, r))
    e[:r, :r] = np.eye(r)
    return e


def canonical_factorization(M: np.ndarray, widths: Sequence[int]) -> Weights:
    """Return C(M), a factorisation of M that is linear in M (see the module docstring).

    n_0 ≥ n_K: W_1 = E_{n_1} M, W_k = E_{n_k} E_{n_{k−1}}ᵀ, W_K = E_{n_{K−1}}ᵀ; else the transpose.
    Needs n_k ≥ min(n_0, n_K) for the product to be M (E_aᵀ E_a = I).
    """
    widths = tuple(widths)
    n, m = widths[0], widths[-1]
    if m > n:
        return tuple(w.T for w in reversed(canonical_factorization(M.T, widths[::-1])))
    K = len(widths) - 1
    if K == 1:
        return (np.array(M, dtype=float),)
    ws = [_embedding(widths[1], m) @ M]
    for k in range(2, K):
        ws.append(_embedding(widths[k], m) @ _embedding(widths[k - 1], m).T)
    ws.append(_embedding(widths[K - 1], m).T)
    return tuple(ws)


# ----------------------------------------------------------------------------------------------
# Losses that depend on θ through M only


@dataclass(frozen=True)
class LinearRegressionLoss:
    """A convex quadratic risk of the end-to-end matrix M.

    Fields:
        kind: 'empirical' (F_e, draft eq. (1)) or 'oracle' (F_o, draft eq. (2)).
        X, Y: the samples (L × n, L × m) for 'empirical'; None for 'oracle'.
        sxx, sxy, syy: E[x xᵀ] (n × n), E[x yᵀ] (n × m), E[y yᵀ] (m × m); for 'empirical' the
            sample moments (used only for the minimiser, the value is computed from residuals).
    """

    kind: str
    sxx: np.ndarray
    sxy: np.ndarray
    syy: np.ndarray
    X: np.ndarray | None = field(default=None, repr=False)
    Y: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def empirical(cls, X: np.ndarray, Y: np.ndarray) -> "LinearRegressionLoss":
        """Return F_e(M) = (1/L) Σ_l ‖M x_l − y_l‖² for samples X (L × n), Y (L × m)."""
        X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
        if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0] or X.shape[0] < 1:
            raise InvalidSpecError(f"X and Y must be (L × n) and (L × m) with L ≥ 1, got {X.shape}, {Y.shape}")
        L = X.shape[0]
        return cls("empirical", X.T @ X / L, X.T @ Y / L, Y.T @ Y / L, X, Y)

    @classmethod
    def oracle(cls, sxx: np.ndarray, sxy: np.ndarray, syy: np.ndarray) -> "LinearRegressionLoss":
        """Return F_o(M) = tr(M Σ_xx Mᵀ) − 2 tr(M Σ_xy) + tr Σ_yy from the second moments."""
        sxx, sxy, syy = (np.atleast_2d(np.asarray(a, dtype=float)) for a in (sxx, sxy, syy))
        n, m = sxy.shape
        if sxx.shape != (n, n) or syy.shape != (m, m):
            raise InvalidSpecError(f"moment shapes disagree: Σ_xx {sxx.shape}, Σ_xy {sxy.shape}, Σ_yy {syy.shape}")
        return cls("oracle", sxx, sxy, syy)

    @classmethod
    def gaussian_teacher(cls, A: np.ndarray, cov_x: np.ndarray, noise: float) -> "LinearRegressionLoss":
        """Return F_o for x ~ N(0, Σ_x), y = A x + ε, ε ~ N(0, noise² I): Σ_xy = Σ_x Aᵀ, Σ_yy = A Σ_x Aᵀ + noise² I."""
        A = np.asarray(A, dtype=float)
        return cls.oracle(cov_x, cov_x @ A.T, A @ cov_x @ A.T + noise**2 * np.eye(A.shape[0]))

    @property
    def dims(self) -> tuple[int, int]:
        """Return (n, m)."""
        return self.sxy.shape

    def __call__(self, M: np.ndarray) -> float:
        """Return F(M)."""
        if self.kind == "empirical":
            R = self.X @ M.T - self.Y
            return float(np.einsum("ij,ij->", R, R) / self.X.shape[0])
        return float(np.einsum("ij,jk,ik->", M, self.sxx, M) - 2.0 * np.einsum("ij,ji->", M, self.sxy)
                     + np.trace(self.syy))

    def of_weights(self, ws: Sequence[np.ndarray]) -> float:
        """Return F(W_K ⋯ W_1)."""
        return self(end_to_end(ws))

    def minimizer(self) -> np.ndarray:
        """Return a minimiser M* = Σ_xyᵀ Σ_xx^+ (least squares, the normal equations M Σ_xx = Σ_xyᵀ)."""
        return self.sxy.T @ np.linalg.pinv(self.sxx)


# ----------------------------------------------------------------------------------------------
# The fibre path (stage 1) and the connecting path


def _givens_reduction(F: np.ndarray) -> list[tuple[int, int, float]]:
    """Return rotations (i, j, θ) with Fᵀ = G_1 ⋯ G_N [I_m; 0] for F ∈ R^{m×h} with orthonormal rows.

    Column k of Fᵀ is rotated onto e_k by Givens rotations in the planes (k, j), j > k, with
    θ = atan2(a_j, a_k), so r_kk = hypot(...) ≥ 0; orthonormal columns then force R = [I; 0].
    """
    A = np.array(F.T, dtype=float)
    h, m = A.shape
    rotations = []
    for k in range(m):
        for j in range(k + 1, h):
            a, b = A[k, k], A[j, k]
            if b == 0.0 and a >= 0.0:
                continue
            theta = math.atan2(b, a)
            c, s = math.cos(theta), math.sin(theta)
            rk, rj = A[k].copy(), A[j].copy()
            A[k], A[j] = c * rk + s * rj, -s * rk + c * rj
            rotations.append((k, j, theta))
    return rotations


def _rotation_path(rotations: list[tuple[int, int, float]], h: int, s: float) -> np.ndarray:
    """Return Q(s) = G_1(s θ_1) ⋯ G_N(s θ_N) ∈ SO(h)."""
    Q = np.eye(h)
    for i, j, theta in rotations:
        c, sn = math.cos(s * theta), math.sin(s * theta)
        qi, qj = Q[:, i].copy(), Q[:, j].copy()
        Q[:, i], Q[:, j] = c * qi + sn * qj, -sn * qi + c * qj
    return Q


def _lift_factory(widths: tuple[int, ...], depth: int) -> Callable[[list], Weights]:
    """Return the map from a depth-d reduced network (…, T) to the full one (…, E_{n_d} T, canonical tail)."""
    K = len(widths) - 1
    m = widths[-1]
    if depth == K:
        return lambda reduced: tuple(reduced)
    head = _embedding(widths[depth], m)
    tail = [_embedding(widths[j], m) @ _embedding(widths[j - 1], m).T for j in range(depth + 1, K)]
    tail.append(_embedding(widths[K - 1], m).T)
    tail = tuple(tail)
    return lambda reduced: tuple(reduced[:-1]) + (head @ reduced[-1],) + tail


def _top_down_fibre(ws: Weights, widths: tuple[int, ...], rank_tol: float) -> list[Segment]:
    """Return segments from θ to C(M(θ)) with constant product, assuming n_k > n_K for hidden k."""
    K = len(widths) - 1
    m = widths[-1]
    segments: list[Segment] = []
    reduced = [np.array(w, dtype=float) for w in ws]
    for d in range(K, 1, -1):
        lift = _lift_factory(widths, d)
        low = reduced[:-2]
        W, B = reduced[-1], reduced[-2]
        h = W.shape[1]
        U, S, Vt = np.linalg.svd(W)
        V = Vt.T
        smax = S[0] if S.size else 0.0
        rho = int(np.sum(S > rank_tol * smax)) if smax > 0 else 0

        # (a) balance along G(s) = V diag(g^s) Vᵀ, positive definite for s ∈ [0, 1]
        g = np.ones(h)
        g[:rho] = S[:rho]
        WV, VtB = W @ V, Vt @ B

        def seg_a(s, low=low, WV=WV, VtB=VtB, V=V, Vt=Vt, g=g, lift=lift):
            gs = g ** s  # geometric: equal relative speed for large and small σ_i
            return lift(low + [V @ (gs[:, None] * VtB), (WV / gs[None, :]) @ Vt])

        segments.append(("balance", seg_a))
        B1 = V @ (g[:, None] * VtB)
        W1 = (WV / g[None, :]) @ Vt

        # (b) remove the part of B seen only by (numerically) zero singular directions of W
        Vn = V[:, rho:]
        PB = Vn @ (Vn.T @ B1)

        def seg_b(s, low=low, B1=B1, PB=PB, W1=W1, lift=lift):
            return lift(low + [B1 - s * PB, W1])

        segments.append(("null move", seg_b))
        B2 = B1 - PB

        # (c) complete W to orthonormal rows with directions orthogonal to the columns of B2
        E = (U[:, rho:m] * (1.0 - S[rho:m])[None, :]) @ Vt[rho:m] if rho < m else np.zeros_like(W1)

        def seg_c(s, low=low, B2=B2, W1=W1, E=E, lift=lift):
            return lift(low + [B2, W1 + s * E])

        segments.append(("complete rank", seg_c))
        F = W1 + E

        # (d) rotate F onto E_hᵀ inside SO(h): (F R(s)ᵀ, R(s) B2), R(s) = Q(1 − s) Qᵀ
        rotations = _givens_reduction(F)
        Q = _rotation_path(rotations, h, 1.0)

        def seg_d(s, low=low, B2=B2, F=F, Q=Q, rotations=rotations, h=h, lift=lift):
            R = _rotation_path(rotations, h, 1.0 - s) @ Q.T
            return lift(low + [R @ B2, F @ R.T])

        segments.append(("rotate", seg_d))
        B3 = Q.T @ B2
        J = _embedding(h, m).T

        # (e) rows m+1..h of B are invisible through J: scale them to zero
        below = B3.copy()
        below[:m] = 0.0

        def seg_e(s, low=low, B3=B3, below=below, J=J, lift=lift):
            return lift(low + [B3 - s * below, J])

        segments.append(("clean", seg_e))
        reduced = low + [B3[:m].copy()]
    return segments


def fibre_segments(ws: Sequence[np.ndarray], rank_tol: float = 1e-10) -> list[Segment]:
    """Return segments of a path from θ to C(M(θ)) along which M(θ) stays constant.

    Stage 1 of the module docstring; for n_0 < n_K the transposed network is used. Requires
    n_k > min(n_0, n_K) for hidden k.
    """
    ws = tuple(np.asarray(w, dtype=float) for w in ws)
    widths = check_widths(widths_of(ws))
    if widths[-1] <= widths[0]:
        return _top_down_fibre(ws, widths, rank_tol)
    transposed = _top_down_fibre(tuple(w.T for w in reversed(ws)), widths[::-1], rank_tol)

    def untranspose(fn):
        return lambda s: tuple(w.T for w in reversed(fn(s)))

    return [(label, untranspose(fn)) for label, fn in transposed]


@dataclass(frozen=True)
class DeepLinearPath:
    """A continuous path γ: [0, 1] → weights of a deep linear network with M(γ) on the lifted segment.

    Call it: `path(t)` returns (W_1(t), ..., W_K(t)); `path.flat(t)` the NetworkSpec flat vector.

    Fields:
        widths: (n_0, ..., n_K).
        theta_a, theta_b: the endpoints, returned bit for bit at t = 0 and t = 1.
        labels: the name of each piece ('A: balance', ..., 'lifted segment', ..., 'B: balance').
        breaks: the times 0 = τ_0 < ... < τ_S = 1 at which the pieces meet.
        middle: the index of the lifted segment among the pieces.
        rank_tol: relative threshold below which singular values count as zero.
    """

    widths: tuple[int, ...]
    theta_a: Weights = field(repr=False)
    theta_b: Weights = field(repr=False)
    labels: tuple[str, ...]
    breaks: tuple[float, ...]
    middle: int
    rank_tol: float
    _pieces: tuple = field(repr=False, compare=False, default=())

    def __call__(self, t: float) -> Weights:
        """Return γ(t) = (W_1(t), ..., W_K(t))."""
        t = float(t)
        if not 0.0 <= t <= 1.0:
            raise InvalidSpecError(f"path time must lie in [0, 1], got {t}")
        if t == 0.0:
            return tuple(w.copy() for w in self.theta_a)
        if t == 1.0:
            return tuple(w.copy() for w in self.theta_b)
        i = self._piece_index(t)
        lo, hi = self.breaks[i], self.breaks[i + 1]
        return self._pieces[i]((t - lo) / (hi - lo))

    def _piece_index(self, t: float) -> int:
        return min(int(np.searchsorted(self.breaks, t, side="right")) - 1, len(self._pieces) - 1)

    def flat(self, t: float) -> np.ndarray:
        """Return γ(t) as one flat vector (NetworkSpec fc layout, no bias)."""
        return to_flat(self(t))

    def lifted_time(self, t: float) -> float:
        """Return σ(t) ∈ [0, 1] with M(γ(t)) = (1 − σ) M_A + σ M_B (0 before the lifted piece, 1 after)."""
        lo, hi = self.breaks[self.middle], self.breaks[self.middle + 1]
        return float(min(1.0, max(0.0, (t - lo) / (hi - lo))))

    def sample(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Return (t, Θ): n uniform times and the n × S matrix of flat weight vectors."""
        ts = np.linspace(0.0, 1.0, n)
        return ts, np.stack([self.flat(t) for t in ts])

    def piece_endpoints(self) -> list[tuple[Weights, Weights]]:
        """Return (start, end) of every piece, to check continuity at the breaks."""
        return [(p(0.0), p(1.0)) for p in self._pieces]


def _by_arclength(fn: Callable[[float], Weights], nodes: int = 33) -> tuple[Callable[[float], Weights], float]:
    """Return (fn ∘ s, length): fn reparametrised by approximate arc length, and that length.

    s(u) interpolates the cumulative polyline length on `nodes` points, so every piece moves at
    roughly constant speed (the balance piece otherwise moves σ_max times faster at one end).
    """
    grid = np.linspace(0.0, 1.0, nodes)
    flats = np.stack([to_flat(fn(s)) for s in grid])
    cum = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(flats, axis=0), axis=1))])
    length = float(cum[-1])
    if not length > 0.0:
        return fn, 0.0
    frac = cum / length

    def reparametrised(u: float) -> Weights:
        return fn(float(np.interp(u, frac, grid)))

    return reparametrised, length


def connecting_path(theta_a: Sequence[np.ndarray], theta_b: Sequence[np.ndarray],
                    rank_tol: float = 1e-10) -> DeepLinearPath:
    """Return γ with γ(0) = θ_A, γ(1) = θ_B and M(γ(t)) = (1 − σ(t)) M_A + σ(t) M_B (Prop. 2.2, completed).

    Hence F(γ(t)) ≤ max(F(θ_A), F(θ_B)) for every convex F of M (F_e, F_o). Requires hidden
    widths n_k > min(n_0, n_K) (WidthConditionError otherwise). Pieces are reparametrised by
    approximate arc length and get time in proportion to their length, so the speed is nearly
    uniform along the whole path.
    """
    a = tuple(np.array(w, dtype=float) for w in theta_a)
    b = tuple(np.array(w, dtype=float) for w in theta_b)
    widths = check_widths(widths_of(a))
    if widths_of(b) != widths:
        raise InvalidSpecError(f"endpoints have different widths {widths} and {widths_of(b)}")
    if not all(np.all(np.isfinite(w)) for w in a + b):
        raise InvalidSpecError("endpoint weights must be finite")
    ca = canonical_factorization(end_to_end(a), widths)
    cb = canonical_factorization(end_to_end(b), widths)
    seg_a = fibre_segments(a, rank_tol)
    seg_b = fibre_segments(b, rank_tol)

    def middle(s, ca=ca, cb=cb):
        return tuple((1.0 - s) * x + s * y for x, y in zip(ca, cb))

    def backwards(fn):
        return lambda s: fn(1.0 - s)

    raw = [fn for _, fn in seg_a] + [middle] + [backwards(fn) for _, fn in reversed(seg_b)]
    labels = [f"A: {lab}" for lab, _ in seg_a] + ["lifted segment"] + [f"B: {lab}" for lab, _ in reversed(seg_b)]
    # the lifted piece stays linear in s so that σ(t) is exactly affine there
    pairs = [_by_arclength(p) if i != len(seg_a) else (p, float(np.linalg.norm(to_flat(cb) - to_flat(ca))))
             for i, p in enumerate(raw)]
    pieces = [p for p, _ in pairs]
    lengths = np.array([length for _, length in pairs])
    # a floor keeps zero-length pieces from getting zero time (the map t ↦ piece must be defined)
    weights = lengths + 1e-3 * max(lengths.max(), 1e-12)
    breaks = np.concatenate([[0.0], np.cumsum(weights) / weights.sum()])
    breaks[-1] = 1.0
    return DeepLinearPath(widths=widths, theta_a=a, theta_b=b, labels=tuple(labels),
                          breaks=tuple(float(x) for x in breaks), middle=len(seg_a),
                          rank_tol=rank_tol, _pieces=tuple(pieces))


# ----------------------------------------------------------------------------------------------
# Certificate on a grid


@dataclass(frozen=True)
class PathCertificate(Serializable):
    """Measurements of a connecting path on a uniform grid of [0, 1].

    Fields:
        widths, loss_kind: the network and the risk ('empirical' or 'oracle').
        n_grid: number of grid times (including 0 and 1).
        loss_a, loss_b: F(θ_A), F(θ_B); bound = max of the two.
        tolerance: the numerical slack 1e-8·(1 + F(0) + bound) allowed above the bound.
        max_loss, max_excess: max_t F(γ(t)) and max_t F(γ(t)) − bound on the grid.
        holds: max_excess ≤ tolerance.
        endpoints_exact: γ(0) and γ(1) equal θ_A and θ_B bit for bit.
        max_product_deviation: max_t ‖M(γ(t)) − ((1−σ)M_A + σM_B)‖_F / (1 + ‖M_A‖ + ‖M_B‖).
        max_break_gap: max over piece junctions of ‖end of piece i − start of piece i+1‖.
        max_increment: max ‖γ(t_{i+1}) − γ(t_i)‖ on the grid; path_length: Σ of the increments.
        euclidean_distance: ‖θ_B − θ_A‖.
        straight_line_max: max_t F((1−t)θ_A + tθ_B) on the same grid;
        straight_line_breaks: straight_line_max > bound + tolerance.
        n_pieces: number of pieces; ts, losses, straight_losses: the grid and both loss profiles.
    """

    widths: tuple[int, ...]
    loss_kind: str
    n_grid: int
    loss_a: float
    loss_b: float
    bound: float
    tolerance: float
    max_loss: float
    max_excess: float
    holds: bool
    endpoints_exact: bool
    max_product_deviation: float
    max_break_gap: float
    max_increment: float
    path_length: float
    euclidean_distance: float
    straight_line_max: float
    straight_line_breaks: bool
    n_pieces: int
    ts: tuple[float, ...] = field(repr=False)
    losses: tuple[float, ...] = field(repr=False)
    straight_losses: tuple[float, ...] = field(repr=False)

    def to_dict(self, profiles: bool = True) -> dict:
        """Return a JSON-serialisable dict (the loss profiles only if `profiles`)."""
        return fields_dict(self, exclude=() if profiles else ("ts", "losses", "straight_losses"))


def certify_path(path: DeepLinearPath, loss: LinearRegressionLoss, n_grid: int = 401) -> PathCertificate:
    """Return the grid measurements of `path` under `loss` (bound, exact endpoints, lifted product)."""
    if n_grid < 2:
        raise InvalidSpecError(f"the grid needs at least 2 points, got {n_grid}")
    n, m = loss.dims
    if (path.widths[0], path.widths[-1]) != (n, m):
        raise InvalidSpecError(f"loss is for {n} inputs and {m} outputs, network widths are {path.widths}")
    ts = np.linspace(0.0, 1.0, n_grid)
    ma, mb = end_to_end(path.theta_a), end_to_end(path.theta_b)
    fa, fb = loss(ma), loss(mb)
    bound = max(fa, fb)
    tol = 1e-8 * (1.0 + abs(loss(np.zeros_like(ma))) + abs(bound))
    scale = 1.0 + np.linalg.norm(ma) + np.linalg.norm(mb)
    flat_a, flat_b = to_flat(path.theta_a), to_flat(path.theta_b)
    losses, straight, dev, flats = [], [], 0.0, []
    for t in ts:
        ws = path(t)
        M = end_to_end(ws)
        losses.append(loss(M))
        sigma = path.lifted_time(t)
        dev = max(dev, float(np.linalg.norm(M - ((1 - sigma) * ma + sigma * mb))) / scale)
        flats.append(to_flat(ws))
        straight.append(loss(end_to_end(from_flat((1 - t) * flat_a + t * flat_b, path.widths))))
    steps = np.linalg.norm(np.diff(np.stack(flats), axis=0), axis=1)
    ends = path.piece_endpoints()
    gap = max((float(np.linalg.norm(to_flat(ends[i][1]) - to_flat(ends[i + 1][0]))) for i in range(len(ends) - 1)),
              default=0.0)
    exact = all(np.array_equal(x, y) for x, y in zip(path(0.0), path.theta_a)) and \
        all(np.array_equal(x, y) for x, y in zip(path(1.0), path.theta_b))
    max_loss = float(max(losses))
    return PathCertificate(
        widths=path.widths, loss_kind=loss.kind, n_grid=n_grid, loss_a=fa, loss_b=fb, bound=bound,
        tolerance=tol, max_loss=max_loss, max_excess=max_loss - bound, holds=max_loss - bound <= tol,
        endpoints_exact=exact, max_product_deviation=dev, max_break_gap=gap,
        max_increment=float(steps.max()), path_length=float(steps.sum()),
        euclidean_distance=float(np.linalg.norm(flat_b - flat_a)),
        straight_line_max=float(max(straight)), straight_line_breaks=float(max(straight)) > bound + tol,
        n_pieces=len(path.labels), ts=tuple(float(t) for t in ts), losses=tuple(losses),
        straight_losses=tuple(straight))


# ----------------------------------------------------------------------------------------------
# Endpoints for experiments and the equal-width obstruction


def fibre_equivalent(ws: Sequence[np.ndarray], rng: np.random.Generator, flip: bool = True) -> Weights:
    """Return (W_1 G_1⁻¹ ..., G_k W_k, W_{k+1} G_k⁻¹, ...) with random G_k ∈ GL(n_k): same product M.

    With `flip`, each G_k has a negative determinant with probability 1/2, so the result usually
    lies in another component of {θ : M(θ) = M} when the widths violate the strict condition.
    """
    out = [np.array(w, dtype=float) for w in ws]
    for k in range(len(out) - 1):
        h = out[k].shape[0]
        G = rng.normal(size=(h, h)) / math.sqrt(h) + np.eye(h)
        if flip and rng.random() < 0.5:
            G[0] *= -1.0
        out[k] = G @ out[k]
        out[k + 1] = out[k + 1] @ np.linalg.inv(G)
    return tuple(out)


@dataclass(frozen=True)
class EqualWidthObstruction(Serializable):
    """Two global minimisers of a two-layer linear net with n_1 = n_0 = n_2 in different components.

    On the minimum level set M(θ) = M* with M* invertible, so det W_2 ≠ 0 there and its sign
    is constant along any path inside the level set; the two points have opposite signs.

    Fields:
        n: the common width; loss_a, loss_b, min_loss: F at both points and F(M*).
        det_a, det_b: det W_2 at the two points (opposite signs).
        singular_floor: min of F over singular M, = F(M*) + σ_min(M* Σ_xx^{1/2})² (Eckart–Young
            after whitening, F(M) = F(M*) + ‖(M − M*) Σ_xx^{1/2}‖²_F): every path between the
            two points crosses det W_2 = 0, hence rises to at least this value.
        straight_line_max: max F on the straight segment between them (above min_loss).
    """

    n: int
    loss_a: float
    loss_b: float
    min_loss: float
    det_a: float
    det_b: float
    singular_floor: float
    straight_line_max: float


def equal_width_obstruction(n: int, seed: int = 0, samples: int = 50) -> EqualWidthObstruction:
    """Return the equal-width counterexample for widths (n, n, n) on Gaussian data y = A x + noise."""
    rng = stream(seed, "equal-width data")
    X = rng.normal(size=(samples, n))
    A = rng.normal(size=(n, n)) + 2 * np.eye(n)
    Y = X @ A.T + 0.1 * rng.normal(size=(samples, n))
    loss = LinearRegressionLoss.empirical(X, Y)
    M = loss.minimizer()
    a = (np.eye(n) @ M, np.eye(n))
    D = np.eye(n)
    D[0, 0] = -1.0
    b = (D @ M, D)
    ts = np.linspace(0.0, 1.0, 201)
    straight = max(loss(((1 - t) * a[1] + t * b[1]) @ ((1 - t) * a[0] + t * b[0])) for t in ts)
    evals, evecs = np.linalg.eigh(loss.sxx)
    root = (evecs * np.sqrt(np.clip(evals, 0.0, None))) @ evecs.T
    floor = loss(M) + float(np.linalg.svd(M @ root, compute_uv=False)[-1]) ** 2
    return EqualWidthObstruction(n=n, loss_a=loss.of_weights(a), loss_b=loss.of_weights(b), min_loss=loss(M),
                                 det_a=float(np.linalg.det(a[1])), det_b=float(np.linalg.det(b[1])),
                                 singular_floor=floor,
                                 straight_line_max=float(straight))


def demo_instance(widths: Sequence[int], loss_kind: str = "empirical", samples: int = 40,
                  endpoints: str = "equivalent", seed: int = 0) -> tuple[LinearRegressionLoss, Weights, Weights]:
    """Return (loss, θ_A, θ_B): a seeded regression problem y = A x + 0.3 ε and two endpoints.

    loss_kind: 'empirical' (L = `samples` Gaussian inputs) or 'oracle' (x ~ N(0, CCᵀ + 0.1 I)).
    endpoints: 'random' (entries N(0, 1/n_{k−1})) or 'equivalent' (near-optimal factorisations
    M* + 0.05 N(0, 1) moved along their fibres by random G_k with random determinant signs, so
    that the straight segment between them usually leaves the sublevel set).
    """
    widths = check_widths(widths)
    if loss_kind not in ("empirical", "oracle"):
        raise InvalidSpecError(f"loss must be 'empirical' or 'oracle', got {loss_kind!r}")
    if endpoints not in ("random", "equivalent"):
        raise InvalidSpecError(f"endpoints must be 'random' or 'equivalent', got {endpoints!r}")
    if samples < 1:
        raise InvalidSpecError(f"samples must be a positive integer, got {samples}")
    rng = stream(seed, "linear path instance")
    n, m = widths[0], widths[-1]
    A = rng.normal(size=(m, n))
    if loss_kind == "empirical":
        X = rng.normal(size=(samples, n))
        loss = LinearRegressionLoss.empirical(X, X @ A.T + 0.3 * rng.normal(size=(samples, m)))
    else:
        C = rng.normal(size=(n, n))
        loss = LinearRegressionLoss.gaussian_teacher(A, C @ C.T + 0.1 * np.eye(n), noise=0.3)
    if endpoints == "random":
        return loss, random_weights(widths, rng), random_weights(widths, rng)
    pair = []
    for _ in range(2):
        M = loss.minimizer() + 0.05 * rng.normal(size=(m, n))
        pair.append(fibre_equivalent(canonical_factorization(M, widths), rng))
    return loss, pair[0], pair[1]


def path_needs(widths: Sequence[int], samples: int) -> list:
    """Return the memory (`common.sizes.Need`) `certify_demo(widths, ..., samples)` must hold at least.

    The two endpoint networks (Σ_k n_k·n_{k−1} float64 weights each), the data (samples × (n_0 + n_K))
    and one end-to-end product (n_max²): a lower bound, the arrays certainly held at once.
    """
    from landscape_core.sizes import Need

    weights = sum(a * b for a, b in zip(widths[:-1], widths[1:]))
    numbers = 2 * weights + samples * (widths[0] + widths[-1]) + max(widths) ** 2
    return [Need("memory", 8 * numbers, f"two deep linear networks of {weights:,} weights and their data")]


def certify_demo(widths: Sequence[int], loss_kind: str = "empirical", samples: int = 40,
                 endpoints: str = "equivalent", seed: int = 0, n_grid: int = 401) -> PathCertificate:
    """Return the grid certificate of the completed Prop. 2.2 path between the endpoints of a seeded demo.

    The instance is `demo_instance(widths, loss_kind, samples, endpoints, seed)`, the path
    `connecting_path(θ_A, θ_B)` (Freeman & Bruna, Prop. 2.2: every point stays in the sublevel set
    {F ≤ max(F(θ_A), F(θ_B))} when the hidden widths exceed min(n_0, n_K)), and the certificate
    `certify_path(path, loss, n_grid)`.
    """
    loss, theta_a, theta_b = demo_instance(widths, loss_kind, samples, endpoints, seed)
    return certify_path(connecting_path(theta_a, theta_b), loss, n_grid=n_grid)
