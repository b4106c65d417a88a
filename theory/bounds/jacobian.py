"""Jacobians of networks ∂f(x_i; w)/∂w and their ranks: certified mod p, estimated in floating point.

Rows are the N·n_d outputs (point-major: row i·n_d + o), columns the K weights in the spec's flat
layout. Two ranks, with what each proves:
- `modular_jacobian_rank`: the Jacobian mod a prime p < 2^31 at random w ∈ F_p^K and its exact rank
  (`theory.bounds.rank.rank_mod_p_fast`): a certified lower bound on the generic rank over Q. When it
  equals the number of rows the generic rank is exactly that (full row rank).
- `stable_numerical_jacobian_rank`: the float Jacobian at weights scaled so that every layer's
  pre-activations stay O(1) (degree ℓ^d polynomials overflow at N(0, 1/fan_in) weights), its rank
  by the toolkit's one tolerance rule (`theory.bounds.rank.numerical_rank`): an estimate.
Fully connected networks take a vectorised path (whole layers as matrix products, reverse mode
by layer: O(K·N·n_d) work); trees go through a reverse-mode tape over `theory.network.spec.forward_point`.
For K in the hundreds of thousands, `empirics.jacobian_rank` sketches J through Jacobian–vector
products (an estimate).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Sequence

import numpy as np

from landscape_core.seeds import stream
from landscape_core.serialize import Serializable
from landscape_core.errors import InvalidSpecError
from theory.network.spec import NetworkSpec, forward_point
from theory.bounds.rank import FAST_PRIME, NumericalRank, check_word_prime, matmul_mod, numerical_rank, rank_mod_p_fast
from theory.network.rings import Degree, fraction_mod


# ----------------------------------------------------------------------------------------------
# Fully connected networks: whole layers at once


class _Arith:
    """Arithmetic of the vectorised pass: F_p on int64 residues (p < 2^31), or float64 when p is None."""

    def __init__(self, p: int | None):
        self.p = p

    def mm(self, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        return A @ B if self.p is None else matmul_mod(A, B, self.p)

    def mul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        # residues < 2^31, so each product is < 2^62: exact in int64 before the reduction
        return a * b if self.p is None else (a * b) % self.p

    def add(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a + b if self.p is None else (a + b) % self.p

    def horner(self, coeffs: Sequence, z: np.ndarray) -> np.ndarray:
        acc = np.full_like(z, coeffs[-1])
        for c in reversed(coeffs[:-1]):
            acc = self.add(self.mul(acc, z), np.full_like(z, c))
        return acc


def _fc_forward(spec: NetworkSpec, w: np.ndarray, H0: np.ndarray, ar: _Arith,
                coeffs: Sequence) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Return (inputs H_{k−1}, pre-activations Z_k) of every layer, each (width × N), as `forward_point` computes them."""
    Hs, Zs, H = [], [], H0
    for g, activated in zip(spec.groups, spec.activated_layers()):
        n_out, n_in = spec.widths[g.layer], spec.widths[g.layer - 1]
        W = w[g.offset:g.offset + n_out * n_in].reshape(n_out, n_in)
        Z = ar.mm(W, H)
        if spec.bias:
            Z = ar.add(Z, w[g.offset + n_out * n_in:g.offset + g.size][:, None])
        Hs.append(H)
        Zs.append(Z)
        H = ar.horner(coeffs, Z) if activated else Z
    return Hs, Zs


def _fc_jacobian(spec: NetworkSpec, w: np.ndarray, X: np.ndarray, ar: _Arith, coeffs: Sequence) -> np.ndarray:
    """Return the (N·n_d, K) Jacobian of a fully connected network at w on inputs X (N × n_0), by layers.

    Reverse mode by layer: D_k[o, a, i] = ∂f_o(x_i)/∂z_k[a] with D_d[o, o, i] = P′(z_d[o](x_i)) (or 1
    for a linear output) and D_{k−1} = P′(Z_{k−1}) ⊙ W_kᵀ D_k; then ∂f_o(x_i)/∂W_k[a, b] =
    D_k[o, a, i]·h_{k−1}[b](x_i) and ∂f_o(x_i)/∂b_k[a] = D_k[o, a, i].
    """
    n, n_out = X.shape[0], spec.output_dim
    dcoeffs = [i * c if ar.p is None else i * c % ar.p for i, c in enumerate(coeffs)][1:]
    Hs, Zs = _fc_forward(spec, w, np.ascontiguousarray(X.T), ar, coeffs)
    activated = spec.activated_layers()
    dtype = np.int64 if ar.p is not None else float
    J = np.zeros((n, n_out, spec.n_params), dtype=dtype)
    D = np.zeros((n_out, n_out, n), dtype=dtype)
    last = ar.horner(dcoeffs, Zs[-1]) if activated[-1] else np.ones_like(Zs[-1])
    D[np.arange(n_out), np.arange(n_out)] = last
    for g in reversed(spec.groups):
        k = g.layer
        n_k, n_in = spec.widths[k], spec.widths[k - 1]
        H = Hs[k - 1]
        # (o, a, i) × (b, i) → (i, o, a, b)
        block = ar.mul(D.transpose(2, 0, 1)[:, :, :, None], H.T[:, None, None, :])
        J[:, :, g.offset:g.offset + n_k * n_in] = block.reshape(n, n_out, n_k * n_in)
        if spec.bias:
            J[:, :, g.offset + n_k * n_in:g.offset + g.size] = D.transpose(2, 0, 1)
        if k > 1:
            W = w[g.offset:g.offset + n_k * n_in].reshape(n_k, n_in)
            back = ar.mm(np.ascontiguousarray(W.T), D.transpose(1, 0, 2).reshape(n_k, n_out * n))
            back = back.reshape(n_in, n_out, n).transpose(1, 0, 2)
            D = ar.mul(back, ar.horner(dcoeffs, Zs[k - 2])[None]) if activated[k - 2] else back
    return J.reshape(n * n_out, spec.n_params)


# ----------------------------------------------------------------------------------------------
# Any network: reverse mode over the straight-line program
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
    if spec.architecture == "fc":
        return _fc_jacobian(spec, modular_weights(spec, seed, p), xs, _Arith(p),
                            [coeffs[c] for c in spec.activation.coeffs])
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
    coeffs = spec.activation.float_coeffs()
    if spec.architecture == "fc":
        on = spec.activated_layers()
        with np.errstate(over="ignore", invalid="ignore"):
            Zs = _fc_forward(spec, w, np.stack(columns), _Arith(None), list(coeffs))[1]
            return (np.array([float(np.sqrt(np.mean(z**2))) if a else np.nan for z, a in zip(Zs, on)]),
                    np.array([float(np.max(np.abs(z))) if a else np.nan for z, a in zip(Zs, on)]))
    seen: list[np.ndarray] = []

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
    Raises FloatingPointError when the Jacobian still overflows float64.
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
    with np.errstate(over="ignore", invalid="ignore"):
        if spec.architecture == "fc":
            J = _fc_jacobian(spec, w, Xf, _Arith(None), list(spec.activation.float_coeffs()))
        else:
            J = _reverse_jacobian(spec, list(w), columns, len(Xf), float, None)
    if not np.isfinite(J).all():
        raise FloatingPointError("the float64 Jacobian overflows even at scaled weights: no numerical estimate")
    norms = np.linalg.norm(J, axis=1)
    J = J / np.where(norms > 0, norms, 1.0)[:, None]
    num = numerical_rank(J, rtol)
    return StableJacobianRank(num.rank, J.shape[0], J.shape[1], num, tuple(map(float, scales)),
                              tuple(map(float, rms)), tuple(map(float, top)), target, seed,
                              time.perf_counter() - t0)
