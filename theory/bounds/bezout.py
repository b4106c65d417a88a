"""Bezout-type bounds, expected and predicted dimension of the zero-error set (Theory II §3.2).

For N data points and a depth-d network with a degree-ℓ activation, Theory II states: each
zero-error equation has degree ℓ^d, the Bezout number is ℓ^{Nd}, the number of real zeros is of
order ℓ^{Nd/2} (Smale–Shub), and for K > N the zero-error set has dimension K − N "modulo
inconsistent equations". `bezout_report` computes each of these exactly beside the paper's value:
exact degrees (theory.bounds.degrees), the Bezout number Π_i deg(eq_i), the multihomogeneous Bezout number
over layer-wise variable groups, and the generic rank r of the N×K Jacobian, which gives the
predicted dimension K − r and flags dependent equations (r < N: the zero-error set is empty for
generic targets).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from landscape_core.serialize import Serializable
from theory.network.data import ExactData, random_data
from theory.bounds.degrees import (MeasuredDegree, closed_form_degree, critical_degree_bounds,
                            measured_zero_error_degrees)
from landscape_core.errors import InvalidSpecError
from theory.bounds.jacobian import STABLE_RULE, modular_jacobian_rank, stable_numerical_jacobian_rank
from theory.network.spec import NetworkSpec
from theory.bounds.rank import FAST_PRIME
from theory.network.equations import ZeroErrorSystem

MAX_MHOM_STATES = 2_000_000
MAX_MODULAR_WORK = 12 * 10**9  # rows·cols·min: K = 10,000 with N = 1,000 equations fits (seconds)
MAX_NUMERICAL_WORK = 2 * 10**9  # the SVD of the estimate is BLAS-2 bound: N = 500 at K = 8,000
MAX_MEASURED_PARAMS = 4_000     # degree certification restricts every equation to lines in K weights
MAX_MEASURED_DEGREE = 4_000     # univariate restrictions cost O(D²) per multiplication
MAX_CRITICAL_PARAMS = 2_000
MEASURE_BUDGET = 3 * 10**7      # Σ D²·(neurons) over measured equations: about a second of univariate products


def bezout_number(degrees: Sequence[int]) -> int:
    """Return Π_i d_i, the Bezout bound on isolated solutions of a system with these degrees."""
    return math.prod(int(d) for d in degrees)


def multihomogeneous_bezout(degrees: Sequence[Sequence[int]], group_sizes: Sequence[int]) -> int | None:
    """Return the m-homogeneous Bezout number: the coefficient of Π_j α_j^{k_j} in Π_i Σ_j d_ij α_j.

    `degrees[i][j]` is equation i's degree in group j, `group_sizes[j]` = k_j, Σ_j k_j = number of
    equations (square systems; add slices of multidegree (1,…,1) first for under-determined ones).
    Computed by dynamic programming over exponent vectors; None if that state space is too large.
    """
    k = tuple(int(s) for s in group_sizes)
    if len(degrees) != sum(k):
        raise InvalidSpecError(f"{len(degrees)} equations but {sum(k)} variables: not square")
    if math.prod(s + 1 for s in k) > MAX_MHOM_STATES:
        return None
    states: dict[tuple[int, ...], int] = {tuple(0 for _ in k): 1}
    for row in degrees:
        nxt: dict[tuple[int, ...], int] = {}
        for expo, count in states.items():
            for j, dj in enumerate(row):
                if dj and expo[j] < k[j]:
                    e = expo[:j] + (expo[j] + 1,) + expo[j + 1:]
                    nxt[e] = nxt.get(e, 0) + count * int(dj)
        states = nxt
    return states.get(k, 0)


@dataclass(frozen=True)
class JacobianRank(Serializable):
    """Generic rank of the zero-error map's Jacobian: certified mod p beside a numerical estimate.

    Fields:
        rank: numerical rank (estimate) of the row-normalised Jacobian at well-scaled random real
            weights (`theory.bounds.jacobian.stable_numerical_jacobian_rank`); None when not computed.
        rows, cols: N·n_d and K.
        tolerance: the absolute threshold rtol·σ_max; rtol: max(rows, cols)·ε (the toolkit's one rule,
            `theory.bounds.rank.numerical_rank`); gap: σ_r / σ_{r+1} (inf when r = min(rows, cols)): a
            large gap makes the estimate trustworthy, a gap near 1 says float64 cannot decide.
        modular_rank: rank over F_p of the Jacobian at random w ∈ F_p^K (`theory.bounds.jacobian.
            modular_jacobian_rank`): a certified lower bound on the generic rank over Q (None when
            over the work budget).
        p: the prime; exact: modular_rank = rows (full row rank), so the generic rank is exactly
            rows and the zero-error set has dimension K − rows for generic weights (proved).
        numerical_rule: how the estimate was made (weight scaling and tolerance), in words.
        modular_seconds, numerical_seconds: wall times of the two (0 when not computed).
        seed: the seed of the random weights.
    """

    rank: int | None
    rows: int
    cols: int
    tolerance: float | None
    rtol: float | None
    gap: float | None
    modular_rank: int | None
    p: int
    exact: bool
    numerical_rule: str
    modular_seconds: float
    numerical_seconds: float
    seed: int


# Bytes per entry of the N × K Jacobian held by each rank, measured by benchmarks/sizes.py.
MODULAR_JACOBIAN_BYTES = 48    # int64 entries: the matrix, its reduction and the blocked products' parts
NUMERICAL_JACOBIAN_BYTES = 24  # float64 entries: the matrix, its row-normalised copy, the SVD's workspace


def bezout_needs(spec: NetworkSpec, n_points: int) -> list:
    """Return the memory (`common.sizes.Need`s) of `bezout_report(spec, n_points)` that grows with the request.

    The N·n_d × K Jacobian at random weights, held by the modular rank (when its work fits
    MAX_MODULAR_WORK) and by the numerical estimate (MAX_NUMERICAL_WORK), and the critical system's
    K × K degree table (K ≤ MAX_CRITICAL_PARAMS).
    """
    from landscape_core.sizes import Need
    from theory.bounds.degrees import critical_guard_needs

    rows, cols = n_points * spec.output_dim, spec.n_params
    shape = f"the {rows:,} × {cols:,} Jacobian"
    needs = []
    if _work(rows, cols) <= MAX_MODULAR_WORK:
        needs.append(Need("memory", MODULAR_JACOBIAN_BYTES * rows * cols, f"{shape} (exact rank mod p)"))
    if _work(rows, cols) <= MAX_NUMERICAL_WORK:
        needs.append(Need("memory", NUMERICAL_JACOBIAN_BYTES * rows * cols, f"{shape} (numerical rank)"))
    if cols <= MAX_CRITICAL_PARAMS:
        needs.extend(critical_guard_needs(spec)[:1])
    return needs


def _work(rows: int, cols: int) -> int:
    """Return rows·cols·min(rows, cols): the flop order of an elimination or an SVD."""
    return rows * cols * min(rows, cols)


def jacobian_rank(system: ZeroErrorSystem, seed: int, modular: bool = True) -> JacobianRank:
    """Return the certified modular rank and the numerical estimate of ∂f(x_i; w)/∂w at random weights.

    The modular rank is computed when rows·cols·min(rows, cols) ≤ MAX_MODULAR_WORK (K = 10,000 and
    N = 1,000 fit), the numerical estimate when it is ≤ MAX_NUMERICAL_WORK (beyond, its SVD would
    dominate the report's time, and the certified rank already answers).
    """
    spec, X = system.spec, system.data.X
    rows, cols = system.n_equations, system.n_vars
    mod = num = None
    if modular and _work(rows, cols) <= MAX_MODULAR_WORK:
        mod = modular_jacobian_rank(spec, X, seed)
    overflow = False
    if _work(rows, cols) <= MAX_NUMERICAL_WORK:
        try:
            num = stable_numerical_jacobian_rank(spec, X, seed)
        except FloatingPointError:
            overflow = True
    return JacobianRank(
        rank=None if num is None else num.rank, rows=rows, cols=cols,
        tolerance=None if num is None else num.numerical.tol, rtol=None if num is None else num.numerical.rtol,
        gap=None if num is None else num.numerical.gap, modular_rank=None if mod is None else mod.rank,
        p=FAST_PRIME, exact=mod is not None and mod.rank == rows,
        numerical_rule="float64 overflow even at scaled weights: not computed" if overflow else STABLE_RULE,
        modular_seconds=0.0 if mod is None else mod.seconds, numerical_seconds=0.0 if num is None else num.seconds,
        seed=seed)


@dataclass(frozen=True)
class BezoutReport(Serializable):
    """Degrees, Bezout-type bounds and dimensions of a network's zero-error system.

    Fields:
        network: the spec (as a dict); n_params: K; n_points: N; n_equations: N·n_d.
        activation_degree: ℓ; depth: d.
        paper_degree: ℓ^d (Theory II §3.2); degree: exact total degree D of each equation
            (closed form, proven when `degrees_exact`); group_degrees: degree in each layer's weights.
        degrees_exact: every measured degree met its upper bound (certified exact).
        measured_equations: how many equations were measured (the bound covers all).
        paper_bezout: ℓ^{N d}; bezout: Π_i deg(eq_i), for the square subsystem of min(N·n_d, K)
            equations; multihomogeneous_bezout: the layer-grouped bound, with K − N·n_d generic
            hyperplane slices when under-determined (None if too large to compute). A generic
            hyperplane has degree 1 in every group, so with slices this bound can exceed `bezout`.
        witness_bound: min(bezout, multihomogeneous_bezout): a bound on the degree of the
            top-dimensional zero-error component (its number of witness points).
        critical_bezout, critical_multihomogeneous_bezout: the same bounds for the K critical-point
            equations of eq. (8) (degree bounds by propagation; λ = 0 or generic).
        paper_real_estimate: ℓ^{N d / 2} (rounded down); real_estimate: ⌊√bezout⌋ (Smale–Shub order).
        expected_dimension: K − N·n_d; jacobian: the generic Jacobian rank r; predicted_dimension: K − r.
        dependent: r < N·n_d: the equations are dependent, so for generic targets the zero-error
            set is empty (the paper's "inconsistent" case).
        repeated_inputs: how many data inputs repeat an earlier one (0 for generated data, which is
            drawn distinct; a cause of dependence that belongs to the data).
        overparametrization: K / (N·n_d).
        seed: seed of the data and the random points.
        notes: remarks for the reader (where the paper's formula and the exact algebra differ).
    """

    network: dict
    n_params: int
    n_points: int
    n_equations: int
    activation_degree: int
    depth: int
    paper_degree: int
    degree: int
    group_degrees: tuple[int, ...]
    group_sizes: tuple[int, ...]
    degrees_exact: bool
    measured_equations: int
    paper_bezout: int
    bezout: int
    multihomogeneous_bezout: int | None
    witness_bound: int
    critical_bezout: int | None
    critical_multihomogeneous_bezout: int | None
    paper_real_estimate: int
    real_estimate: int
    expected_dimension: int
    jacobian: JacobianRank | None
    predicted_dimension: int | None
    dependent: bool | None
    repeated_inputs: int
    overparametrization: float
    seed: int
    notes: tuple[str, ...] = field(default=())


def bezout_report(spec: NetworkSpec, n_points: int, seed: int = 0, data: ExactData | None = None,
                  max_measured: int = 64) -> BezoutReport:
    """Return the exact degrees, Bezout numbers and dimensions of the zero-error system of `spec`.

    Data are seeded random rationals unless given. Degrees are certified on the first
    `max_measured` equations, fewer when the degree is high (MEASURE_BUDGET; at least one: all
    equations share the propagated bound, so one equation attaining it certifies the degree).
    The Jacobian rank is certified mod p (a lower bound; exact at full row rank) up to
    MAX_MODULAR_WORK and estimated numerically up to MAX_NUMERICAL_WORK (`jacobian_rank`).
    """
    data = data if data is not None else random_data(spec, n_points, seed)
    system = ZeroErrorSystem(spec, data)
    n_eq, k = system.n_equations, system.n_vars
    l, d = spec.activation.degree, spec.depth
    total, groups = closed_form_degree(spec)
    notes = []
    sizes = tuple(g.size for g in spec.groups)
    if total <= MAX_MEASURED_DEGREE and k <= MAX_MEASURED_PARAMS:
        # one equation's restrictions cost about D² per neuron; every equation shares the bound, so a
        # single equation meeting it already certifies that the closed form is attained
        n_measure = max(1, min(max_measured, MEASURE_BUDGET // (total**2 * sum(spec.widths[1:]))))
        measured: list[MeasuredDegree] = measured_zero_error_degrees(
            spec, data.X, data.Y, seed=seed, max_equations=n_measure)
        exact = all(m.exact for m in measured) and measured[0].total_bound == total
    else:
        measured, exact = [], False
        notes.append(f"degrees not measured (degree {total} or {k} weights too large): the closed form is an upper bound")
    square = min(n_eq, k)
    bez = total**square
    if n_eq <= k:
        rows = [groups] * n_eq + [(1,) * len(groups)] * (k - n_eq)
        mhom = multihomogeneous_bezout(rows, sizes)
    else:
        mhom = multihomogeneous_bezout([groups] * k, sizes)
    crit_bez = crit_mhom = None
    if k <= MAX_CRITICAL_PARAMS:
        crit = critical_degree_bounds(spec)
        crit_bez = math.prod(t for t, _ in crit)
        crit_mhom = multihomogeneous_bezout([g for _, g in crit], sizes)
    jac = jacobian_rank(system, seed)
    if jac.modular_rank is None:
        notes.append(f"certified Jacobian rank not computed: {n_eq} × {k} is over the elimination budget")
    if jac.rank is None:
        why = ("float64 overflows even at scaled weights" if "overflow" in jac.numerical_rule
               else f"the SVD of a {n_eq} × {k} matrix is over the budget")
        notes.append(f"numerical rank estimate not computed: {why}"
                     + ("; the certified rank answers" if jac.modular_rank is not None else ""))
    if mhom is not None and mhom > bez:
        notes.append("each generic slicing hyperplane has degree 1 in every layer group, so the "
                     "multihomogeneous bound of the sliced system exceeds the total-degree one here")
    if total != l**d:
        where = ("it is the degree in the first layer's weights alone" if groups[0] == l**d else
                 f"the degree in the first layer's weights is {groups[0]}")
        notes.append(f"the paper's degree ℓ^d = {l**d} differs from the exact total degree {total}; {where}")
    if n_eq > k:
        notes.append(f"over-determined: {n_eq} equations in {k} unknowns; Bezout numbers are for {k} of them")
    if data.repeated_inputs:
        notes.append(f"{data.repeated_inputs} of the {data.n_points} inputs repeat an earlier one: their "
                     f"equations share one polynomial, so the rank drops for a reason that is the data's, "
                     f"not the network's")
    ranks = [v for v in (jac.rank, jac.modular_rank) if v is not None]
    r = max(ranks) if ranks else None
    if jac.modular_rank is not None and jac.rank is not None and jac.modular_rank != jac.rank:
        if jac.rank < jac.modular_rank:
            notes.append(f"the numerical estimate {jac.rank} is below the certified lower bound {jac.modular_rank}: "
                         f"the Jacobian is too ill-conditioned for float64 (gap {jac.gap:.3g}); the certified "
                         f"rank stands")
        else:
            notes.append(f"numerical rank {jac.rank} differs from the certified modular lower bound "
                         f"{jac.modular_rank}; trust the larger only if the singular-value gap is large")
    if jac.exact:
        notes.append(f"the certified rank equals the {n_eq} equations (full row rank): the generic rank is exactly "
                     f"{n_eq}, so for generic weights the zero-error set has dimension K − r = {k - n_eq} (proved)")
    if r is not None and r < n_eq:
        tail = ("these targets are planted, so zero-error solutions exist and form a set of dimension K − r"
                if data.kind == "planted" else "so generic targets have no zero-error solution")
        if data.repeated_inputs:
            tail += " (repeated inputs account for at least part of the drop)"
        notes.append(f"the Jacobian has rank {r} < {n_eq} equations at generic weights: the equations "
                     f"are dependent, {tail}")
    return BezoutReport(
        network=spec.to_dict(), n_params=k, n_points=data.n_points, n_equations=n_eq,
        activation_degree=l, depth=d, paper_degree=l**d, degree=total, group_degrees=groups,
        group_sizes=sizes, degrees_exact=exact, measured_equations=len(measured),
        paper_bezout=l ** (data.n_points * d), bezout=bez, multihomogeneous_bezout=mhom,
        witness_bound=min(bez, mhom) if mhom is not None else bez, critical_bezout=crit_bez,
        critical_multihomogeneous_bezout=crit_mhom,
        paper_real_estimate=math.isqrt(l ** (data.n_points * d)), real_estimate=math.isqrt(bez),
        expected_dimension=k - n_eq, jacobian=jac, predicted_dimension=None if r is None else k - r,
        dependent=None if r is None else r < n_eq, repeated_inputs=data.repeated_inputs,
        overparametrization=k / n_eq, seed=seed, notes=tuple(notes))
