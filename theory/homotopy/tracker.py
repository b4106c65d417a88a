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
* failed:      anything else (NaN, no convergence at moderate ‖x‖): retried in double precision
               with a second γ (kept only if a new regular endpoint), then in double-double
               precision on the same homotopy (same γ, same start point); still failing ones are
               counted as failed, never dropped.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from landscape_core.progress import Progress, report
from landscape_core.seeds import stream
from landscape_core.serialize import Serializable
from theory.homotopy import phcpack as phc, phcpack_worker as phc_worker
from theory.homotopy.path_result import PathOutcome, PathResult, cluster, is_real
from theory.polynomials.system import HOM, System
from theory.homotopy.start_systems import DEFAULT_MAX_PATHS, StartSystem

# Relative rank tolerance (`theory.bounds.rank.numerical_rank`'s rtol) for Jacobians evaluated at
# Newton-refined endpoints and at random points: there, singular values that vanish in exact
# arithmetic sit at rounding level amplified by the polynomial evaluation (about 1e-13 relative
# for the small systems solved here), while a regular endpoint has cond(J) ≤ cond_max = 1e8, so
# its genuine singular values stay above about 1e-8·σ_max. 1e-10 lies between, two orders or
# more from each side.
ENDPOINT_RANK_RTOL = 1e-10


@dataclass(frozen=True)
class TrackConfig(Serializable):
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
        projective: track in a random affine chart of projective space (total-degree and polyhedral
            starts), so that paths to infinity converge (to x_0 = 0) instead of diverging, and
            endpoints are judged by scale-free tests (`judge_projective`).
        batch: at most this many paths per PHCpack call (progress is reported between calls).
        tasks: PHCpack threads within one worker (0: none).
        workers: worker processes tracking batches in parallel (None: one per core); the results
            are merged in start-path order, identical to one worker.
        singular_same_tol: singular endpoints within this relative distance are one point (they
            converge only to about ε^{1/m} for multiplicity m); the cluster size is the multiplicity.
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
    projective: bool = False  # measured: in a fixed chart, cyclic-5's 50 paths to its positive-dimensional set at infinity stall at x̂_0 ≈ 1e-3 (33 failed, 11 jump onto finite roots)
    batch: int = 500
    tasks: int = 0
    workers: int | None = None
    singular_same_tol: float = 1e-2


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
    """Return σ_max/σ_min of J (inf if rank deficient, non-finite, or the SVD does not converge)."""
    J = np.asarray(J)
    if not np.all(np.isfinite(J)):
        return float("inf")  # a Newton iterate that overflowed: LAPACK's SVD would not converge
    try:
        s = np.linalg.svd(J, compute_uv=False)
    except np.linalg.LinAlgError:
        return float("inf")
    return float(s[0] / s[-1]) if s[-1] > 0 else float("inf")


def classify_endpoint(system: System, raw: phc.RawEndpoint, index: int, precision: str,
                      opts: TrackConfig, max_degree: int, retried: bool = False, trust_end: bool = False) -> PathResult:
    """Return the PathResult of one PHCpack endpoint under the rules in the module docstring.

    `trust_end`: judge any endpoint by its residual (projective tracking ends every path at
    t = 1 in a bounded chart; PHCpack's end game flag is then not needed).
    """
    x = raw.x
    finite = bool(np.all(np.isfinite(x)))
    reached = finite and (trust_end or (abs(raw.t.real - 1.0) < 1e-9 and raw.m >= 1))
    norm = float(np.max(np.abs(x))) if finite and x.size else float("nan")
    residual = cond = step = float("nan")
    outcome = PathOutcome.FAILED
    if finite and norm > opts.infinity_norm:
        outcome = PathOutcome.AT_INFINITY
    elif reached:
        x, step = newton_refine(system, x)
        norm = float(np.max(np.abs(x)))
        residual = float(np.max(np.abs(system.evaluate(x))))
        cond = condition_number(system.jacobian(x))
        scale = (1.0 + norm) ** max_degree
        converged = step <= opts.tol_step * (1.0 + norm)
        if cond <= opts.cond_max and converged and residual <= opts.tol_residual * scale:
            outcome = PathOutcome.REGULAR
        elif residual <= opts.tol_singular * scale and step <= 1e-4 * (1.0 + norm) and norm <= opts.diverge_norm:
            outcome = PathOutcome.SINGULAR  # Newton still contracts, only linearly: a multiple or non-isolated point
        elif trust_end and norm > opts.diverge_norm:
            outcome = PathOutcome.AT_INFINITY  # |x_0| ≤ 1/diverge_norm in the chart: a (singular) point at infinity
    elif finite and norm > opts.diverge_norm:
        outcome = PathOutcome.AT_INFINITY
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


def scaled_condition(J: np.ndarray, x: np.ndarray) -> float:
    """Return cond₂ of D_r J D_c: rows scaled to unit norm, columns by max(1, |x_j|) (inf if rank deficient).

    Invariant under rescaling an equation or a large coordinate: the condition of the zero as a
    point of projective space, not of its size (cf. Bertini's and HomotopyContinuation.jl's
    row-scaled condition numbers).
    """
    Jc = J * np.maximum(1.0, np.abs(x))[None, :]
    norms = np.linalg.norm(Jc, axis=1)
    if np.any(norms == 0) or not np.all(np.isfinite(Jc)):
        return float("inf")
    return condition_number(Jc / norms[:, None])


def relative_residual(f: np.ndarray, J: np.ndarray, x: np.ndarray) -> float:
    """Return max_i |f_i(x)| / (‖∇f_i(x)‖₁ · max(1, ‖x‖∞)): the residual relative to the point's and the equation's scale."""
    scale = np.sum(np.abs(J), axis=1) * max(1.0, float(np.max(np.abs(x), initial=0.0)))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.abs(f) / np.where(scale > 0, scale, np.nan)
    r = np.where(np.abs(f) == 0, 0.0, r)
    return float(np.nanmax(r)) if np.any(np.isfinite(r)) else float("inf")


def judge_projective(system: System, raw: phc.RawEndpoint, index: int, precision: str, opts: TrackConfig,
                     retried: bool = False) -> PathResult:
    """Return the PathResult of a projective endpoint X = (x_0, x) by scale-free tests.

    x̂_0 = |x_0|/‖X‖∞. Exactly zero (or below 1e-14, rounding level): at infinity. Otherwise the
    affine point x = X/x_0 is refined by Newton's method and judged with a relative residual
    (`relative_residual`) and the row-scaled condition (`scaled_condition`): regular when the
    condition is ≤ cond_max, the residual ≤ tol_residual and Newton converged (relative step ≤
    tol_step), whatever ‖x‖; 'singular' when Newton still contracts with residual ≤ tol_singular
    (then `summarize_singular` measures the multiplicity by the cluster of paths ending there and
    decides whether the point is at infinity). An endpoint that is neither, with x̂_0 ≤ 1e-6 where
    PHCpack's end game reached t = 1 with projective residual ≤ 1e-6, is at infinity (singular
    there: the affine Newton iteration has nothing to converge to). Anything else is failed
    (retried by the caller).
    """
    X = raw.x
    nan = float("nan")
    if not np.all(np.isfinite(X)) or float(np.max(np.abs(X))) == 0:
        return PathResult(index, PathOutcome.FAILED, tuple(complex(v) for v in X[1:]), float(raw.t.real), nan, nan, nan,
                          float(raw.rco), precision, retried, False, nan)
    x0 = float(abs(X[0]) / np.max(np.abs(X)))
    if x0 <= 1e-14:
        return PathResult(index, PathOutcome.AT_INFINITY, tuple(complex(v) for v in X[1:]), float(raw.t.real), nan, nan, nan,
                          float(raw.rco), precision, retried, False, x0)
    x, step = newton_refine(system, X[1:] / X[0])
    f, J = system.evaluate(x), system.jacobian(x)
    norm = max(1.0, float(np.max(np.abs(x))))
    rr = relative_residual(f, J, x)
    cond = scaled_condition(J, x)
    if cond <= opts.cond_max and step <= opts.tol_step * norm and rr <= opts.tol_residual:
        outcome = PathOutcome.REGULAR
    elif rr <= opts.tol_singular and step <= 1e-4 * norm:
        outcome = PathOutcome.SINGULAR
    elif x0 <= 1e-6 and abs(raw.t.real - 1) < 1e-9 and np.isfinite(raw.res) and raw.res <= 1e-6:
        # no affine zero nearby, and PHCpack's end game met the projective system at t = 1 with
        # x_0 nearly 0: a singular point at infinity (high multiplicity: slow convergence)
        outcome = PathOutcome.AT_INFINITY
    else:
        outcome = PathOutcome.FAILED
    return PathResult(index, outcome, tuple(complex(v) for v in x), float(raw.t.real), float(np.max(np.abs(f))),
                      cond, step, float(raw.rco), precision, retried, is_real(x, opts.real_tol), x0)


def summarize_singular(paths: list[PathResult], opts: TrackConfig) -> list[PathResult]:
    """Return `paths` with singular endpoints given a multiplicity, or moved to infinity.

    Under a generic γ, a solution of multiplicity m is the endpoint of exactly m paths (Sommese–
    Wampler 2005, Thm 8.4.1), which converge only to about ε^{1/m}. Singular endpoints within
    singular_same_tol (relative) form one cluster of size m, the multiplicity. The cluster is at
    infinity when its mean x̂_0 is within the accuracy of its members: x̂_0 ≤ 10·max(spread of
    x̂_0, ε^{1/m}); a finite multiple root (x̂_0 of order 1/‖x‖) is far above that.
    """
    sing = [k for k, p in enumerate(paths) if p.outcome == PathOutcome.SINGULAR]
    if not sing:
        return paths
    hats = []
    for k in sing:
        X = np.concatenate([[paths[k].x0], np.array(paths[k].x) * paths[k].x0])  # |x̂_0| and x̂ = x0·x (up to phase)
        hats.append(X)
    groups = cluster([np.array(paths[k].x) for k in sing], opts.singular_same_tol)
    out = list(paths)
    eps = np.finfo(float).eps
    for g in groups:
        m = len(g)
        x0s = np.array([paths[sing[i]].x0 for i in g])
        accuracy = max(float(np.ptp(x0s)) if m > 1 else 0.0, eps ** (1.0 / max(m, 2)))
        at_inf = float(np.mean(x0s)) <= 10 * accuracy
        for i in g:
            p = out[sing[i]]
            out[sing[i]] = replace(p, outcome=PathOutcome.AT_INFINITY, real=False) if at_inf else replace(p, multiplicity=m)
    return out


def _batches(n: int, opts: TrackConfig, workers: int) -> list[tuple[int, int]]:
    size = max(1, min(opts.batch, -(-n // (4 * workers))))  # about four batches per worker balance the load
    return [(lo, min(lo + size, n)) for lo in range(0, n, size)]


def track_paths(system: System, start: StartSystem, gamma: complex, opts: TrackConfig,
                progress: Progress | None = None,
                projective_target: Sequence[str] | None = None) -> list[PathResult]:
    """Return one PathResult per start point, in start order; batches run on `opts.workers` processes.

    With `projective_target` (homogenized target and chart, from `start_systems.projectivize`)
    endpoints are judged by `judge_projective` and `summarize_singular`; failed paths are tracked
    again with another γ (a fresh homotopy avoids the near-singularity that stopped the path), then
    in `opts.retry` precision with the original γ; still failing ones are counted as failed.
    Without it, endpoints are judged in affine coordinates (`classify_endpoint`).
    """
    degrees = system.degrees()
    dmax = max(degrees)
    projective = projective_target is not None
    target = tuple(projective_target) if projective else system.polys
    names = ((HOM,) + system.names) if projective else system.names
    workers = opts.workers or phc_worker.default_workers()

    def judge(raw: phc.RawEndpoint, idx: int, precision: str, retried: bool) -> PathResult:
        if projective:
            return judge_projective(system, raw, idx, precision, opts, retried)
        return classify_endpoint(system, raw, idx, precision, opts, dmax, retried)

    n = len(start.points)
    spans = _batches(n, opts, workers)
    done = [0]
    total = [n]

    def finished(size: int) -> None:
        done[0] += size
        report(progress, done[0], total[0])

    # a work queue: every batch is submitted at once and each worker takes the next as it finishes
    raws = phc.track_batches(target, start.polys, [start.points[lo:hi] for lo, hi in spans], names, gamma, "d",
                             workers, on_done=lambda k, batch: finished(len(batch)))
    results: list[PathResult] = []
    for (lo, _), batch in zip(spans, raws):
        results.extend(judge(raw, lo + k, "d", False) for k, raw in enumerate(batch))
    # Failed paths: first another γ in double precision (cheap), then `opts.retry` precision with the
    # original γ (double-double is ~5× slower per path). A second-γ endpoint is accepted only when it
    # is regular and distinct from every other endpoint: with all other paths kept from γ, such a
    # point is one of the solutions the failed paths were heading for, so counts stay exact; any
    # other outcome leaves the path failed for the next retry. Paths failing every retry stay failed.
    retries = [("d", random_gamma(opts.seed, "gamma retry"))]
    if opts.retry:
        retries.append((opts.retry, gamma))
    for precision, g in retries:
        bad = [p.index for p in results if p.outcome == PathOutcome.FAILED]
        if not bad:
            break
        size = max(1, min(opts.batch, -(-len(bad) // (4 * workers))))
        chunks = [bad[k:k + size] for k in range(0, len(bad), size)]
        total[0] += len(bad)
        raws = phc.track_batches(target, start.polys, [start.points[c] for c in chunks], names, g, precision, workers,
                                 on_done=lambda k, batch: finished(len(batch)))
        second_gamma = g != gamma
        for c, batch in zip(chunks, raws):
            for idx, raw in zip(c, batch):
                again = judge(raw, idx, precision, True)
                accept = again.outcome != PathOutcome.FAILED and (projective or not second_gamma
                                                        or _new_regular(again, results, opts))
                if accept:
                    results[idx] = again
                else:
                    results[idx] = replace(results[idx], retried=True)
    if projective:
        results = summarize_singular(results, opts)
    return results


def _new_regular(p: PathResult, results: list[PathResult], opts: TrackConfig) -> bool:
    """Return whether p is regular and differs from every regular or singular endpoint in `results`."""
    if p.outcome != PathOutcome.REGULAR:
        return False
    x = np.array(p.x)
    tol = opts.same_tol * (1.0 + float(np.max(np.abs(x), initial=0.0)))
    for q in results:
        if q.outcome in (PathOutcome.REGULAR, PathOutcome.SINGULAR) and q.index != p.index and len(q.x) == len(x):
            if float(np.max(np.abs(np.array(q.x) - x), initial=0.0)) <= tol:
                return False
    return True


def random_gamma(seed: int, name: str = "gamma") -> complex:
    """Return γ = e^{iθ} with θ uniform on [0, 2π), from stream(seed, name) (recorded in every result)."""
    theta = stream(seed, name).uniform(0, 2 * np.pi)
    return complex(np.cos(theta), np.sin(theta))
