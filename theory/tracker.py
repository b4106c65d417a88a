"""Path tracking on PHCpack's trackers, Newton refinement and the classification of every endpoint.

Paths of H(x, t) = γ(1 − t)² g(x) + t² f(x) are tracked by PHCpack with γ a random unit complex
number drawn from the recorded seed (the gamma trick: for all but finitely many γ on the circle,
every path is smooth for t ∈ [0, 1); Sommese–Wampler, *The Numerical Solution of Systems of
Polynomials*, 2005, §7.4), in affine coordinates with PHCpack's end game, or (option `projective`)
in a random affine chart of P^n so that paths to infinity stay bounded. Each endpoint is refined
by Newton's method in numpy, its residual and Jacobian condition number recomputed independently
of PHCpack, and classified:

* regular:     PHCpack's end game converged, residual ≤ tol, cond(J) ≤ cond_max, and Newton's
               last correction ≤ tol_step (quadratic convergence);
* singular:    converged with residual ≤ tol_singular and a small (linear-rate) Newton correction
               but not regular (a multiple root or a point on a positive-dimensional component);
* at_infinity: x_0 ≈ 0 in projective tracking, or a non-regular endpoint with ‖x‖∞ > diverge_norm
               (PHCpack's end game converges only slowly to singular points at infinity), or
               ‖x‖∞ > infinity_norm;
* failed:      anything else (NaN, no convergence at moderate ‖x‖): retried once in double-double
               precision on the same homotopy (same γ, same start point); still failing ones are
               counted as failed, never dropped.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from common.progress import Progress, report
from common.seeds import stream
from common.serialize import Serializable
from theory import phc
from theory.path_result import PathResult, is_real
from theory.polysystem import HOM, System
from theory.start_systems import DEFAULT_MAX_PATHS, StartSystem

# Relative rank tolerance (`theory.rank.numerical_rank`'s rtol) for Jacobians evaluated at
# Newton-refined endpoints and at random points: there, singular values that vanish in exact
# arithmetic sit at rounding level amplified by the polynomial evaluation (about 1e-13 relative
# for the small systems solved here), while a regular endpoint has cond(J) ≤ cond_max = 1e8, so
# its genuine singular values stay above about 1e-8·σ_max. 1e-10 lies between, two orders or
# more from each side.
ENDPOINT_RANK_RTOL = 1e-10


@dataclass(frozen=True)
class TrackOptions(Serializable):
    """Tolerances and limits of the tracker and of the endpoint classification.

    Fields:
        seed: seeds γ, the start systems' random coefficients and PHCpack's generator.
        max_paths: refuse start systems with more paths than this.
        tol_residual: regular endpoints need ‖f(x)‖∞ ≤ tol_residual·(1 + ‖x‖∞)^{max deg} after Newton.
        tol_singular: the same bound for singular endpoints (they converge only to about √ε).
        cond_max: endpoints with cond₂(J) above this are singular.
        tol_step: regular endpoints need a last Newton correction ≤ tol_step·(1 + ‖x‖∞), i.e. Newton
            converged quadratically (near a multiple root it only halves the error per step).
        real_tol: a solution is real when max_j |Im x_j| ≤ real_tol·(1 + ‖x‖∞).
        same_tol: two endpoints are the same solution when ‖x − y‖∞ ≤ same_tol·(1 + ‖x‖∞).
        diverge_norm: a non-regular endpoint with ‖x‖∞ above this is at infinity (in projective
            tracking: |x_0| ≲ 1/diverge_norm; singular points at infinity converge slowly).
        infinity_norm: any endpoint with ‖x‖∞ above this is at infinity.
        retry: the precision ('dd' or 'qd') for a second attempt at failed paths; None for none.
        projective: track total-degree homotopies in a random affine chart of projective space, so
            that paths to infinity converge (to x_0 = 0) instead of diverging.
        batch: paths per PHCpack call (progress is reported between calls).
        tasks: PHCpack threads (0: none; the machine is shared).
    """

    seed: int = 0
    max_paths: int = DEFAULT_MAX_PATHS
    tol_residual: float = 1e-9
    tol_singular: float = 1e-5
    cond_max: float = 1e8
    tol_step: float = 1e-11
    real_tol: float = 1e-8
    same_tol: float = 1e-6
    diverge_norm: float = 1e2
    infinity_norm: float = 1e8
    retry: str | None = "dd"
    projective: bool = False
    batch: int = 500
    tasks: int = 0


def newton_refine(system: System, x: np.ndarray, steps: int = 3) -> tuple[np.ndarray, float]:
    """Return (x after Gauss–Newton steps x ← x − J⁺f(x), last correction ‖Δx‖∞); stops when it stops improving."""
    x = np.array(x, dtype=complex)
    last = np.inf
    for _ in range(steps):
        f = system.evaluate(x)
        if not np.all(np.isfinite(f)):
            break
        dx = np.linalg.lstsq(system.jacobian(x), f, rcond=None)[0]
        step = float(np.max(np.abs(dx))) if dx.size else 0.0
        if not np.isfinite(step) or step > 1e-2 * (1 + np.max(np.abs(x))):
            break  # far from a solution: Newton would wander
        x = x - dx
        last = step
        if step <= 1e-15 * (1 + np.max(np.abs(x))):
            break
    return x, last


def condition_number(J: np.ndarray) -> float:
    """Return σ_max/σ_min of J (inf if rank deficient)."""
    s = np.linalg.svd(J, compute_uv=False)
    return float(s[0] / s[-1]) if s[-1] > 0 else float("inf")


def classify_endpoint(system: System, raw: phc.RawEndpoint, index: int, precision: str,
                      opts: TrackOptions, max_degree: int, retried: bool = False, trust_end: bool = False) -> PathResult:
    """Return the PathResult of one PHCpack endpoint under the rules in the module docstring.

    `trust_end`: judge any endpoint by its residual (projective tracking ends every path at
    t = 1 in a bounded chart; PHCpack's end game flag is then not needed).
    """
    x = raw.x
    finite = bool(np.all(np.isfinite(x)))
    reached = finite and (trust_end or (abs(raw.t.real - 1.0) < 1e-9 and raw.m >= 1))
    norm = float(np.max(np.abs(x))) if finite and x.size else float("nan")
    residual = cond = step = float("nan")
    outcome = "failed"
    if finite and norm > opts.infinity_norm:
        outcome = "at_infinity"
    elif reached:
        x, step = newton_refine(system, x)
        norm = float(np.max(np.abs(x)))
        residual = float(np.max(np.abs(system.evaluate(x))))
        cond = condition_number(system.jacobian(x))
        scale = (1.0 + norm) ** max_degree
        converged = step <= opts.tol_step * (1.0 + norm)
        if cond <= opts.cond_max and converged and residual <= opts.tol_residual * scale:
            outcome = "regular"
        elif residual <= opts.tol_singular * scale and step <= 1e-4 * (1.0 + norm) and norm <= opts.diverge_norm:
            outcome = "singular"  # Newton still contracts, only linearly: a multiple or non-isolated point
        elif trust_end and norm > opts.diverge_norm:
            outcome = "at_infinity"  # |x_0| ≤ 1/diverge_norm in the chart: a (singular) point at infinity
    elif finite and norm > opts.diverge_norm:
        outcome = "at_infinity"
    if finite and np.isnan(residual):
        residual = float(np.max(np.abs(system.evaluate(x))))
    real = finite and is_real(x, opts.real_tol)
    return PathResult(index, outcome, tuple(complex(v) for v in x), float(raw.t.real), residual, cond, step,
                      float(raw.rco), precision, retried, real)


def dehomogenize(raw: phc.RawEndpoint, infinity_tol: float) -> tuple[phc.RawEndpoint, bool]:
    """Return (the affine endpoint x/x_0, whether x_0 ≈ 0, i.e. the path ended at infinity)."""
    X = raw.x
    if not np.all(np.isfinite(X)):
        return raw, False
    if abs(X[0]) <= infinity_tol * max(float(np.max(np.abs(X))), 1e-300):
        return raw, True
    return phc.RawEndpoint(raw.t, max(raw.m, 1), raw.err, raw.rco, raw.res, X[1:] / X[0]), False


def track_paths(system: System, start: StartSystem, gamma: complex, opts: TrackOptions,
                progress: Progress | None = None,
                projective_target: Sequence[str] | None = None) -> list[PathResult]:
    """Return one PathResult per start point: track in double, retry failures in `opts.retry` precision.

    With `projective_target` (homogenized target and chart, from `projective_total_degree_start`)
    paths run in the chart and endpoints with |x_0| ≤ 1e-8·‖X‖ are at infinity.
    """
    degrees = system.degrees()
    dmax = max(degrees)
    projective = projective_target is not None
    target = tuple(projective_target) if projective else system.polys
    names = ((HOM,) + system.names) if projective else system.names

    def judge(raw: phc.RawEndpoint, idx: int, precision: str, retried: bool) -> PathResult:
        if projective:
            X = raw.x
            x0 = float(abs(X[0]) / max(float(np.max(np.abs(X))), 1e-300)) if np.all(np.isfinite(X)) else float("nan")
            raw, infinite = dehomogenize(raw, 1e-8)
            if infinite:
                return PathResult(idx, "at_infinity", tuple(complex(v) for v in raw.x[1:]), float(raw.t.real),
                                  float("nan"), float("nan"), float("nan"), float(raw.rco), precision, retried, False, x0)
            return replace(classify_endpoint(system, raw, idx, precision, opts, dmax, retried, trust_end=True), x0=x0)
        return classify_endpoint(system, raw, idx, precision, opts, dmax, retried)

    results: list[PathResult] = []
    n = len(start.points)
    for lo in range(0, n, opts.batch):
        chunk = start.points[lo:lo + opts.batch]
        raws = phc.track(target, start.polys, chunk, names, gamma, "d", opts.tasks)
        results.extend(judge(r, lo + k, "d", False) for k, r in enumerate(raws))
        report(progress, min(lo + opts.batch, n), n)
    if opts.retry:
        bad = [r.index for r in results if r.outcome == "failed"]
        if bad:
            raws = phc.track(target, start.polys, start.points[bad], names, gamma, opts.retry, max(opts.tasks, 1))
            for idx, raw in zip(bad, raws):
                again = judge(raw, idx, opts.retry, True)
                old = results[idx]
                results[idx] = again if again.outcome != "failed" else replace(old, retried=True)
    return results


def random_gamma(seed: int) -> complex:
    """Return γ = e^{iθ} with θ uniform on [0, 2π), from stream(seed, 'gamma') (recorded in every result)."""
    theta = stream(seed, "gamma").uniform(0, 2 * np.pi)
    return complex(np.cos(theta), np.sin(theta))
