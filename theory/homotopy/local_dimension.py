"""The local dimension of a solution set at a point: is a singular endpoint isolated, or on a curve, a surface?

A singular endpoint x of a homotopy path is either an isolated root of multiplicity m > 1 or a point
of a positive-dimensional component of V(f). The test here tells them apart by sampling: if a
component of dimension ≥ d passes through x, it is tangent there to the d directions along which
the Jacobian is smallest, so the affine subspace through y₀ = x + h·(those directions) cut by d
linear equations meets V(f) within O(h²) of y₀, and Gauss–Newton on [f(y); Vᴴ(y − y₀)] = 0 drives
the residual from that of y₀ down to rounding level. At an isolated root no such point exists: the
residual on the slice stays of the order of the residual at y₀ (hᵐ-small, but not reduced).

This is the sampling form of the local dimension test (Bates, Hauenstein, Peterson, Sommese, *A
numerical local dimension test for points on the solution set of a system of polynomial equations*,
SIAM J. Numer. Anal. 47 (2009)): they count the Macaulay dual space; here the largest d that
passes is the local dimension. Degrees of the components found are measured by witness sets
(`theory.counting.dimension.witness_set`).
"""
from __future__ import annotations

import numpy as np

from landscape_core.seeds import stream
from theory.polynomials.system import System
from theory.homotopy.slicing import random_complex
from theory.homotopy.tracker import relative_residual

STEP = 1e-3  # h, relative to 1 + ‖x‖∞: beyond a singular endpoint's accuracy (ε^{1/m} ≤ 1e-5 for m ≤ 3)
OFFSET = 1e-2  # y₀ also moves off the tangent space by OFFSET·h, so f(y₀) is never already at rounding level
REDUCTION = 1e-6  # a component: Gauss–Newton reduces the residual at least this much from y₀
RESIDUAL = 1e-9  # ... down to this relative residual (`theory.homotopy.tracker.relative_residual`)


def _on_component(system: System, x: np.ndarray, V: np.ndarray, rng: np.random.Generator, iterations: int) -> bool:
    """Return whether V(f) meets the slice Vᴴ(y − y₀) = 0 near y₀ = x + h V a + offset (see the module docstring).

    The slice is kept exactly: y = y₀ + N z with N an orthonormal basis of its directions (the
    complement of V), and Gauss–Newton runs on z ↦ f(y₀ + N z).
    """
    n, d = x.size, V.shape[1]
    scale = 1.0 + float(np.max(np.abs(x)))
    h = STEP * scale
    a = random_complex(rng, d)
    y0 = x + h * (V @ a) / np.linalg.norm(a) + OFFSET * h * random_complex(rng, n) / np.sqrt(n)
    start = float(np.max(np.abs(system.evaluate(y0))))
    if not np.isfinite(start) or start == 0.0 or d >= n:
        return False  # d = n: the slice is the point y₀, on V(f) only if f vanishes identically there
    N = np.linalg.svd(V.conj().T)[2][d:].conj().T  # n × (n − d), orthonormal, orthogonal to V
    y = y0.copy()
    for _ in range(iterations):
        dz = np.linalg.lstsq(system.jacobian(y) @ N, system.evaluate(y), rcond=None)[0]
        step = N @ dz
        if not np.all(np.isfinite(step)) or float(np.max(np.abs(y - step - y0))) > 10 * h:
            return False  # no nearby point: the iteration runs away
        y = y - step
        if float(np.max(np.abs(step))) <= 1e-15 * scale:
            break
    f = system.evaluate(y)
    end = float(np.max(np.abs(f)))
    return (end <= REDUCTION * start and relative_residual(f, system.jacobian(y), y) <= RESIDUAL
            and float(np.max(np.abs(y - y0))) <= h)


def local_dimension(system: System, x, seed: int = 0, max_dimension: int | None = None, iterations: int = 40) -> int:
    """Return the local dimension of V(f) at the (approximate) solution x: 0 for an isolated point.

    Tries d = 1, 2, … up to `max_dimension` (default n − 1) with the d weakest Jacobian directions; the largest d that
    passes `_on_component` is the answer (Bates–Hauenstein–Peterson–Sommese 2009, by sampling).
    Seeded: the same seed gives the same answer.
    """
    x = np.asarray(x, dtype=complex)
    n = x.size
    top = n - 1 if max_dimension is None else min(max_dimension, n - 1)
    _, _, Vh = np.linalg.svd(system.jacobian(x))
    rng = stream(seed, "local dimension")
    found = 0
    for d in range(1, top + 1):
        V = Vh[n - d:].conj().T  # the d right singular vectors of the smallest singular values
        if not _on_component(system, x, V, rng, iterations):
            break
        found = d
    return found
