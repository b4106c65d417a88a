"""The fate of one homotopy path, and the grouping of endpoints into distinct points.

Every path ends in one of four outcomes (`PathOutcome`; the rules are in `theory.homotopy.tracker`):
regular, singular, at_infinity, failed. Endpoints are the same point when they agree to a
relative tolerance, ‖x − y‖∞ ≤ tol·(1 + ‖y‖∞); a point is real when max_j |Im x_j| ≤
real_tol·(1 + ‖x‖∞). Cf. HomotopyContinuation.jl's `PathResult` and its `return_code`.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from landscape_core.serialize import Serializable



class PathOutcome(str, enum.Enum):
    """How one homotopy path ended (HomotopyContinuation.jl's `return_code`); the values are the JSON form.

    REGULAR: a nonsingular endpoint; SINGULAR: an endpoint with a singular Jacobian (its
    multiplicity counted); AT_INFINITY: the path diverged (or converged at x_0 = 0 in a projective
    chart); FAILED: the tracker stopped short of t = 1.
    """

    REGULAR = "regular"
    SINGULAR = "singular"
    AT_INFINITY = "at_infinity"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


OUTCOMES = tuple(o.value for o in PathOutcome)  # the keys of a result's per-outcome counts, in this order


@dataclass(frozen=True)
class PathResult(Serializable):
    """The fate of one homotopy path (cf. HomotopyContinuation.jl's PathResult).

    Fields:
        index: the start point's index.
        outcome: how the path ended (`PathOutcome`).
        x: the endpoint (after Newton refinement for converged paths).
        t: the real part of the final continuation parameter.
        residual: ‖f(x)‖∞, recomputed by our evaluator.
        condition: cond₂ of the Jacobian at x (σ_max/σ_min), recomputed by numpy.
        newton_step: the last Newton correction ‖Δx‖∞.
        phc_rco: PHCpack's inverse condition number estimate.
        precision: precision of the run that produced the endpoint ('d', 'dd').
        retried: whether the path was tracked a second time in higher precision.
        real: whether the endpoint is real within `real_tol` (only meaningful if finite).
        x0: |x_0|/‖(x_0, x)‖∞ of the projective endpoint (NaN for affine tracking): near 0 the path
            went to infinity; a failed path with small x0 was still heading there.
        multiplicity: for singular endpoints, the number of paths ending at the same point (the
            multiplicity of the root under a generic γ); 1 otherwise.
    """

    index: int
    outcome: PathOutcome
    x: tuple[complex, ...]
    t: float
    residual: float
    condition: float
    newton_step: float
    phc_rco: float
    precision: str
    retried: bool
    real: bool
    x0: float = float("nan")
    multiplicity: int = 1


def is_real(x: np.ndarray, real_tol: float) -> bool:
    """Return whether max_j |Im x_j| ≤ real_tol·(1 + ‖x‖∞) (a finite point that is real to the tolerance)."""
    x = np.asarray(x, dtype=complex)
    norm = float(np.max(np.abs(x), initial=0.0))
    return bool(np.max(np.abs(x.imag), initial=0.0) <= real_tol * (1 + norm))


def cluster(points: Sequence[np.ndarray], tol: float) -> list[list[int]]:
    """Return groups of indices of points within ‖x − y‖∞ ≤ tol·(1 + ‖y‖∞) of a group's first member y."""
    groups: list[list[int]] = []
    reps: list[np.ndarray] = []
    for i, p in enumerate(points):
        p = np.asarray(p)
        for g, r in zip(groups, reps):
            if np.max(np.abs(p - r)) <= tol * (1 + np.max(np.abs(r))):
                g.append(i)
                break
        else:
            groups.append([i])
            reps.append(p)
    return groups
