"""Exact degrees of network equations, and bounds on their number of terms, without expanding them.

Upper bounds come from propagating degrees through the forward pass (the `Degree` ring) and
agree with closed forms (below). Lower bounds come from restricting each equation to random lines
w = a + t·b over F_p (`ModPoly`): a coefficient nonzero mod p is nonzero over Q, so the measured
degree is certified; when it meets the upper bound the degree is proven exact.

Closed forms (ℓ = deg P, d layers, equations f(x_i; w) − y_i with generic data):
  fully connected, P on the output:  D = ℓ + ℓ² + ... + ℓ^d = ℓ(ℓ^d − 1)/(ℓ − 1),
                                     degree in layer j's weights: ℓ^{d−j+1};
  fully connected, linear output:    D = 1 + ℓ + ... + ℓ^{d−1},  layer j: ℓ^{d−j};
  (ℓ = 1: D = d, multilinear: degree 1 in each layer.)
  binary tree of depth d:            E_1 = 1 + ℓ, E_k = 1 + ℓ(1 + E_{k−1}), D = E_d (·ℓ with P on
                                     the output), level j: (1 + ℓ)·ℓ^{d−j} (·ℓ with P on the output).
Proof sketch (fc): the pre-activation z_k = W_k h_{k−1} + b_k has degree 1 + deg h_{k−1} because W_k
multiplies h_{k−1}; P raises the degree ℓ-fold, so D_k = ℓ(1 + D_{k−1}) with D_0 = 0; the top-degree
form is a product of nonzero leading forms for generic data, so the bound is attained. Theory II
(§3.2) states ℓ^d: that is the degree in the first layer's weights (and in the inputs), not the
total degree in the weights, which is larger for d ≥ 2 or ℓ ≥ 2 once layers multiply.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np

from landscape_core.seeds import stream
from landscape_core.serialize import Serializable, fields_dict
from theory.network.spec import NetworkSpec, forward_point
from theory.network.rings import Degree, Dual, ModPoly, PRIME, TermCount, fraction_mod


def closed_form_degree(spec: NetworkSpec) -> tuple[int, tuple[int, ...]]:
    """Return (total degree, per-layer degrees) of one zero-error equation from the closed forms above."""
    l, d, out = spec.activation.degree, spec.depth, spec.output_activation
    if spec.architecture == "fc":
        total = sum(l**k for k in (range(1, d + 1) if out else range(0, d)))
        groups = tuple(l ** (d - j + 1) if out else l ** (d - j) for j in range(1, d + 1))
    else:
        e = 0
        for _ in range(d):
            e = 1 + l * (1 + e)
        total = l * e if out else e
        groups = tuple((1 + l) * l ** (d - j) * (l if out else 1) for j in range(1, d + 1))
    return total, groups


def _degree_vars(spec: NetworkSpec) -> list[Degree]:
    m = len(spec.groups)
    return [Degree.variable(gi, m) for gi, g in enumerate(spec.groups) for _ in range(g.size)]


def output_degree_bound(spec: NetworkSpec) -> tuple[int, tuple[int, ...]]:
    """Return (total, per-group) degree upper bounds of the network output, by propagation."""
    m = len(spec.groups)
    const = Degree.constant(m)
    outs = forward_point(spec, _degree_vars(spec), [const] * spec.input_dim,
                         coerce=lambda c: const if c != 0 else 0)
    total = max(o.total or 0 for o in outs)
    groups = tuple(max(o.groups[g] for o in outs) for g in range(m))
    return total, groups


def _term_outputs(spec: NetworkSpec, first_order: bool) -> list:
    k = spec.n_params
    w = [TermCount.variable(i) for i in range(k)]
    const = TermCount.constant()
    if first_order:
        w = [Dual(v, [1 if j == i else 0 for j in range(k)]) for i, v in enumerate(w)]
        const = Dual(const, [0] * k)
        return forward_point(spec, w, [const] * spec.input_dim, coerce=lambda c: const if c != 0 else 0)

    def power_sum(z):  # Σ a_i z^i term by term: sharper than Horner's products
        out = 0
        for i, a in enumerate(spec.activation.coeffs):
            if a != 0:
                out = out + z ** i
        return out

    return forward_point(spec, w, [const] * spec.input_dim, coerce=lambda c: const if c != 0 else 0,
                         activation=power_sum)


def _count(value) -> int:
    return value.count if isinstance(value, TermCount) else int(value != 0)


def zero_error_term_bound(spec: NetworkSpec) -> int:
    """Return an upper bound on the terms of one expanded equation f_o(x; w) − y, any data.

    Propagated through the forward pass over `TermCount` (nonzero constants stand for the data, which
    only adds terms), plus one for the target.
    """
    return max(_count(o) for o in _term_outputs(spec, first_order=False)) + 1


def critical_term_bound(spec: NetworkSpec, n_points: int) -> int:
    """Return an upper bound on the terms of one expanded critical equation Σ_i r_i ∂_j r_i + λ_j w_j.

    Each point contributes at most (terms of r_i)·(terms of ∂_j f_i) monomials; the penalty adds one.
    """
    outs = _term_outputs(spec, first_order=True)
    worst = 0
    for j in range(spec.n_params):
        per_point = sum((_count(o.val) + 1) * _count(o.grad[j]) for o in outs)
        worst = max(worst, n_points * per_point + 1)
    return worst


def term_bound(n_vars_by_group: Sequence[int], degree_by_group: Sequence[int], total_degree: int) -> int:
    """Return an upper bound on the number of terms: min(C(K+D, D), Π_g C(k_g+d_g, d_g)).

    The dense count of monomials of total degree ≤ D in K variables, and of multidegree ≤ (d_g)_g.
    """
    k = sum(n_vars_by_group)
    dense = math.comb(k + total_degree, total_degree)
    graded = math.prod(math.comb(kg + dg, dg) for kg, dg in zip(n_vars_by_group, degree_by_group))
    return min(dense, graded)


def zero_error_expansion_bound(spec: NetworkSpec) -> int:
    """Return the guaranteed bound on the terms of one expanded zero-error equation (the expansion guard).

    The smaller of the dense count over the propagated degree bounds (`term_bound`) and the count
    propagated through the forward pass (`zero_error_term_bound`).
    """
    total, groups = output_degree_bound(spec)
    return min(term_bound([g.size for g in spec.groups], groups, total), zero_error_term_bound(spec))


def critical_expansion_bound(spec: NetworkSpec, n_points: int) -> int:
    """Return the guaranteed bound on the terms of one expanded critical equation (the expansion guard)."""
    per_eq = critical_degree_bounds(spec)
    total = max(t for t, _ in per_eq)
    groups = tuple(max(g[i] for _, g in per_eq) for i in range(len(spec.groups)))
    return min(term_bound([g.size for g in spec.groups], groups, total), critical_term_bound(spec, n_points))


# Bytes per entry of the guards' tables, measured by benchmarks/sizes.py (peak resident memory).
CRITICAL_GUARD_BYTES = 16     # the K × K table of Dual gradients of `critical_degree_bounds`
ZERO_ERROR_GUARD_BYTES = 0.4  # per K·(hidden units) of the TermCount propagation of `zero_error_term_bound`


def zero_error_guard_needs(spec: NetworkSpec) -> list:
    """Return the memory (`common.sizes.Need`) of the expansion guard of a zero-error system, before computing it.

    `zero_error_term_bound` propagates term counts through the forward pass: every hidden unit
    carries counts over the K weights, so its tables grow as K·(hidden units).
    """
    from landscape_core.sizes import Need

    k, units = spec.n_params, max(1, sum(spec.widths[1:]))
    return [Need("memory", ZERO_ERROR_GUARD_BYTES * k * units,
                 f"the term counts of {k:,} weights through {units:,} units (the expansion guard)")]


def critical_guard_needs(spec: NetworkSpec) -> list:
    """Return the memory (`common.sizes.Need`) of the expansion guard of the critical system, before computing it.

    `critical_degree_bounds` carries, for each of the K weights, a forward-mode gradient over all K
    weights: a K × K table, so memory grows as K² (and the zero-error guard's tables beside it).
    """
    from landscape_core.sizes import Need

    k = spec.n_params
    return [Need("memory", CRITICAL_GUARD_BYTES * k * k,
                 f"the {k:,} × {k:,} table of degree bounds of ∂f/∂w_j (the critical system's expansion guard)"),
            *zero_error_guard_needs(spec)]


def critical_degree_bounds(spec: NetworkSpec) -> list[tuple[int, tuple[int, ...]]]:
    """Return per-equation (total, per-group) degree bounds of Σ_i r_i ∂_j f_i + λ_j w_j.

    deg ≤ deg f + deg ∂_j f, with deg ∂_j f from forward-mode propagation over the Degree ring.
    """
    m, k = len(spec.groups), spec.n_params
    const = Degree.constant(m)
    zero = Degree(None, (0,) * m)
    base = _degree_vars(spec)
    w = [Dual(base[i], [const if j == i else zero for j in range(k)]) for i in range(k)]
    dconst = Dual(const, [zero] * k)
    outs = forward_point(spec, w, [dconst] * spec.input_dim, coerce=lambda c: dconst if c != 0 else 0)
    result = []
    for j in range(k):
        tot, grp = None, (0,) * m
        for o in outs:
            prod = o.val * o.grad[j]
            if prod.total is not None and (tot is None or prod.total > tot):
                tot = prod.total
            if prod.total is not None:
                grp = tuple(map(max, grp, prod.groups))
        penalty = base[j]  # the λ_j w_j term
        tot = max(tot or 0, penalty.total)
        grp = tuple(map(max, grp, penalty.groups))
        result.append((tot, grp))
    return result


@dataclass(frozen=True)
class MeasuredDegree(Serializable):
    """Degree of one equation, measured on random lines mod p and compared with the bound.

    Fields:
        total: certified lower bound on the total degree (max over the lines tried).
        groups: certified lower bounds on the degree in each layer's weights.
        total_bound, group_bounds: upper bounds by propagation.
        exact: True when every lower bound meets its upper bound (the degrees are proven).
    """

    total: int
    groups: tuple[int, ...]
    total_bound: int
    group_bounds: tuple[int, ...]

    @property
    def exact(self) -> bool:
        """Return True when measured and bound agree everywhere."""
        return self.total == self.total_bound and self.groups == self.group_bounds

    def to_dict(self) -> dict:
        """Return the fields as JSON with the derived `exact`."""
        return {**fields_dict(self), "exact": self.exact}


def _line_weights(spec: NetworkSpec, rng: np.random.Generator, group: int | None) -> list[ModPoly]:
    a = rng.integers(1, PRIME, size=spec.n_params, dtype=np.int64)
    b = rng.integers(1, PRIME, size=spec.n_params, dtype=np.int64)
    w = []
    for gi, g in enumerate(spec.groups):
        for i in range(g.offset, g.offset + g.size):
            moving = group is None or group == gi
            w.append(ModPoly.line(int(a[i]), int(b[i]) if moving else 0))
    return w


def _coerce_mod(c: Fraction) -> ModPoly:
    return ModPoly([fraction_mod(c)])


def measured_zero_error_degrees(spec: NetworkSpec, X: Sequence[Sequence[Fraction]],
                                Y: Sequence[Sequence[Fraction]], seed: int, lines: int = 2,
                                max_equations: int | None = None) -> list[MeasuredDegree]:
    """Return the measured degrees of f(x_i; w) − y_i on `lines` random lines per variable group.

    Point i contributes n_d equations (point-major order). With `max_equations`, only the first
    equations are measured.
    """
    rng = stream(seed, "degree lines")
    bound_total, bound_groups = output_degree_bound(spec)
    m = len(spec.groups)
    restrictions = [[_line_weights(spec, rng, group) for group in [None] + list(range(m))] for _ in range(lines)]
    out: list[MeasuredDegree] = []
    for x, y in zip(X, Y):
        xs = [_coerce_mod(v) for v in x]
        per_eq_total = [0] * len(y)
        per_eq_groups = [[0] * m for _ in y]
        for line in restrictions:
            for gi, w in enumerate(line):
                fx = forward_point(spec, w, xs, coerce=_coerce_mod)
                for o, (f, t) in enumerate(zip(fx, y)):
                    deg = (f - _coerce_mod(t)).degree
                    if gi == 0:
                        per_eq_total[o] = max(per_eq_total[o], deg)
                    else:
                        per_eq_groups[o][gi - 1] = max(per_eq_groups[o][gi - 1], deg)
        for o in range(len(y)):
            out.append(MeasuredDegree(per_eq_total[o], tuple(per_eq_groups[o]), bound_total, bound_groups))
            if max_equations is not None and len(out) >= max_equations:
                return out
    return out


def measured_critical_degrees(spec: NetworkSpec, X: Sequence[Sequence[Fraction]],
                              Y: Sequence[Sequence[Fraction]], penalty: Sequence[Fraction] | None,
                              seed: int, lines: int = 2) -> list[MeasuredDegree]:
    """Return the measured degrees of the K critical-point equations (total and per group)."""
    rng = stream(seed, "degree lines")
    k, m = spec.n_params, len(spec.groups)
    bounds = critical_degree_bounds(spec)
    best_total = [0] * k
    best_groups = [[0] * m for _ in range(k)]
    one, zero = ModPoly([1]), ModPoly([])
    for _ in range(lines):
        for gi, group in enumerate([None] + list(range(m))):
            wl = _line_weights(spec, rng, group)
            w = [Dual(wl[i], [one if j == i else zero for j in range(k)]) for i in range(k)]
            g = [zero] * k
            coerce = lambda c: Dual(_coerce_mod(c), [zero] * k)  # noqa: E731
            for x, y in zip(X, Y):
                fx = forward_point(spec, w, [coerce(v) for v in x], coerce=coerce)
                for f, t in zip(fx, y):
                    r = f.val - _coerce_mod(t)
                    g = [gj + r * dj for gj, dj in zip(g, f.grad)]
            if penalty is not None:
                g = [gj + _coerce_mod(lam) * wl[j] for j, (gj, lam) in enumerate(zip(g, penalty))]
            for j in range(k):
                if gi == 0:
                    best_total[j] = max(best_total[j], g[j].degree)
                else:
                    best_groups[j][gi - 1] = max(best_groups[j][gi - 1], g[j].degree)
    return [MeasuredDegree(best_total[j], tuple(best_groups[j]), bounds[j][0], bounds[j][1]) for j in range(k)]
