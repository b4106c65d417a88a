"""Critical points of the square loss, their Hessian signature and nullity, and a test of Theory II §3.3.

The critical points of L(w) = Σ_i (f(x_i; w) − y_i)² + Σ_j λ_j w_j² solve the K polynomial
equations ½∇L = J(w)ᵀ r(w) + λ ⊙ w = 0 (Theory II eq. (7)–(8); λ = 0 is the paper's system, a
generic λ > 0 makes every critical point isolated). All isolated solutions come from one homotopy
(`theory.homotopy.solve`); each is classified

* real or complex (max |Im w_j| ≤ real_tol·(1 + ‖w‖∞) after Newton refinement);
* zero-error (‖r(w)‖∞ ≤ zero_tol) or not;
* for real points, by the eigenvalues of ∇²L = 2(JᵀJ + Σ_i r_i ∇²f_i + diag λ): minimum (no negative
  eigenvalue), maximum (no positive one), saddle (both), with nullity the number of eigenvalues
  |μ| ≤ eig_tol·max(1, ‖μ‖∞).

Singular endpoints lie on positive-dimensional critical sets (the zero-error set when K > N, or
orbits of the weight-space symmetries); they are refined by Gauss–Newton onto the set and
classified the same way, and the planted zero-error solution w* is always added.

Corollary 1 / Proposition 1 (Theory II §3.3) are tested as measurable statements: zero-error
minima form a set of dimension K − N (Hessian nullity K − rank J ≥ K − N), while non-zero-error
local minima are isolated and non-degenerate (nullity 0). The report says per instance whether
that holds, and why not when it does not.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Sequence

import numpy as np

from landscape_core.progress import Progress
from landscape_core.serialize import Serializable
from landscape_core.errors import InvalidSpecError
from theory.counting import macaulay2
from theory.counting.stratified_count import StrataConfig, critical_monodromy, make_instance
from theory.network.data import planted_data, random_data
from theory.polynomials.export import to_phc
from theory.counting.genericity import generic_penalty  # re-exported: the penalty draw lives in theory.counting.genericity
from theory.counting.groebner import GroebnerCheck, count_verdict, groebner_check
from theory.homotopy.path_result import PathOutcome, cluster, is_real
from theory.polynomials.system import System, network_jets
from theory.bounds.rank import numerical_rank
from theory.homotopy.solve import SolveResult, solve
from theory.counting.strata import dead_unit_condition
from theory.network.equations import CriticalSystem
from theory.homotopy.tracker import ENDPOINT_RANK_RTOL, TrackConfig, newton_refine

KINDS = ("minimum", "saddle", "maximum", "complex")


def critical_system(crit) -> System:
    """Return the K equations Jᵀr + λ ⊙ w = 0 of a `theory.network.equations.CriticalSystem` as a System.

    PHCpack strings come from the exact expansion (small networks only); complex values and the
    Jacobian (the half Hessian JᵀJ + Σ r_i ∇²f_i + diag λ) from complex forward-mode jets.
    """
    text = to_phc(crit, expanded=True)
    polys = [p.strip() + ";" for p in text.strip().split("\n", 1)[1].split(";") if p.strip()]
    spec, data = crit.spec, crit.data
    lam = np.array([float(v) for v in crit.penalty]) if crit.penalty is not None else np.zeros(spec.n_params)

    def evaluate(w: np.ndarray) -> np.ndarray:
        r, J, _ = network_jets(spec, data, w, order=1)
        return J.T @ r + lam * np.asarray(w, dtype=complex)

    def jacobian(w: np.ndarray) -> np.ndarray:
        return half_hessian(spec, data, w, lam)

    return System(tuple(polys), tuple(crit.variable_names), evaluate, jacobian,
                    f"critical points of {spec.describe()}, N = {data.n_points}"
                    + ("" if crit.penalty is None else ", L2 penalty"))


def half_hessian(spec, data, w: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Return ½∇²L(w) = JᵀJ + Σ_i r_i ∇²f_i + diag λ, for complex w (forward-mode jets)."""
    r, J, Hs = network_jets(spec, data, w, order=2)
    return J.T @ J + np.einsum("i,ijk->jk", r, Hs) + np.diag(lam)


@dataclass(frozen=True)
class CriticalPoint(Serializable):
    """One critical point (or a representative of a positive-dimensional critical set).

    Fields:
        w: the weights (complex coordinates).
        source: 'isolated' (regular endpoint), 'singular' (endpoint on a positive-dimensional set,
            refined by Gauss–Newton), or 'planted' (the zero-error solution w* known by construction).
        endpoints: how many path endpoints landed on this point.
        real: whether w is real within the tolerance.
        loss: L(w) (real part).
        residual: ‖r(w)‖∞, the largest data-point error.
        zero_error: residual ≤ zero_tol.
        gradient: ‖½∇L(w)‖∞ after refinement.
        eigenvalues: eigenvalues of ∇²L(w) (real points only), ascending.
        n_negative, n_positive, nullity: the Hessian signature and nullity (real points only).
        kind: 'minimum', 'saddle', 'maximum' or 'complex'.
        zero_error_dimension: K − rank ∂r/∂w at w, the local dimension of the zero-error set (zero-error points).
        set_dimension: for 'singular' representatives, the nullity of the complex Hessian at a generic
            member: the local dimension of that positive-dimensional critical set (0 for isolated points).
    """

    w: tuple[complex, ...] = field(repr=False)
    source: str
    endpoints: int
    real: bool
    loss: float
    residual: float
    zero_error: bool
    gradient: float
    eigenvalues: tuple[float, ...] = field(repr=False)
    n_negative: int
    n_positive: int
    nullity: int
    kind: str
    zero_error_dimension: int | None
    set_dimension: int = 0


@dataclass(frozen=True)
class TheoryCheck(Serializable):
    """Corollary 1 / Proposition 1 of Theory II §3.3 on one instance, stated as measurable claims.

    Fields:
        zero_error_dimension: the measured dimension K − rank J of the zero-error set at its real
            minima (K − N when the equations are independent, Theory II §3.2).
        zero_error_nullities: Hessian nullity at each real zero-error minimum found.
        nonzero_minima_nullities: Hessian nullity at each real non-zero-error local minimum.
        expected_dimension: K − N.
        zero_error_degenerate: every zero-error minimum has nullity ≥ that dimension (they are degenerate).
        nonzero_minima_nondegenerate: every non-zero-error minimum has nullity 0 (isolated, non-degenerate).
        proposition1: both of the above, with at least one point of each kind; None if a kind is missing.
        verdict: one plain sentence.
    """

    zero_error_dimension: int
    expected_dimension: int
    zero_error_nullities: tuple[int, ...]
    nonzero_minima_nullities: tuple[int, ...]
    zero_error_degenerate: bool | None
    nonzero_minima_nondegenerate: bool | None
    proposition1: bool | None
    verdict: str


@dataclass(frozen=True)
class CriticalReport(Serializable):
    """All critical points found for a network and data set, classified, with the §3.3 check.

    Fields:
        network: the spec as a dict; n_params: K; n_points: N.
        penalty: λ as strings (None for the paper's unpenalised loss).
        points: the classified critical points (distinct), isolated first.
        counts: number of points per kind, and of zero-error / real / isolated points.
        solve: the homotopy result (every path accounted for); None on the strata route.
        theory: the Corollary 1 / Proposition 1 check.
        groebner: the count of complex critical points with multiplicity by Gröbner bases modulo
            two primes (`theory.counting.groebner.GroebnerCheck`s), when asked; empty otherwise. Equal counts
            equal the count over Q unless both primes are unlucky.
        tolerances: real_tol, zero_tol, eig_tol used.
        seed: the seed of data, penalty and γ.
        seconds: wall time.
    """

    network: dict
    n_params: int
    n_points: int
    penalty: tuple[str, ...] | None
    points: tuple[CriticalPoint, ...]
    counts: dict
    solve: SolveResult = field(repr=False)
    theory: TheoryCheck = None
    tolerances: dict = field(default_factory=dict)
    seed: int = 0
    seconds: float = 0.0
    groebner: tuple[GroebnerCheck, ...] = ()
    route: str = ""
    monodromy: object | None = field(default=None, repr=False)

    @property
    def completeness(self) -> str:
        """Return the completeness verdict naming its proof, or 'not proved complete: <why>'."""
        if self.monodromy is not None:
            return self.monodromy.completeness
        return self.solve.completeness

    @property
    def certified(self) -> str:
        """Return 'N distinct solutions certified, R certified real' (or why there is no certificate)."""
        if self.monodromy is not None:
            c = self.monodromy.certification
            return "not certified" if c is None else (f"{c.n_distinct} distinct solutions certified, "
                                                       f"{c.n_real} certified real")
        return self.solve.certified

    def to_dict(self) -> dict:
        """Return the JSON form, with the completeness and certification lines."""
        d = super().to_dict()
        d["completeness"], d["certified"] = self.completeness, self.certified
        return d

    @property
    def groebner_verdict(self) -> str | None:
        """Return one line: the exact count dim Q[w]/I beside the homotopy's distinct regular solutions (None if not asked)."""
        n = self.monodromy.n_isolated if self.monodromy is not None else self.solve.n_solutions
        return count_verdict(self.groebner, n) if self.groebner else None


def signature(eigenvalues: np.ndarray, eig_tol: float) -> tuple[int, int, int]:
    """Return (n_negative, n_positive, nullity) with |μ| ≤ eig_tol·max(1, ‖μ‖∞) counted as zero."""
    mu = np.asarray(eigenvalues, dtype=float)
    tol = eig_tol * max(1.0, float(np.max(np.abs(mu), initial=0.0)))
    return int((mu < -tol).sum()), int((mu > tol).sum()), int((np.abs(mu) <= tol).sum())


def classify_point(spec, data, lam: np.ndarray, w: np.ndarray, source: str, endpoints: int,
                   real_tol: float, zero_tol: float, eig_tol: float) -> CriticalPoint:
    """Return the CriticalPoint at w: reality, loss, zero error, Hessian signature and nullity."""
    w = np.asarray(w, dtype=complex)
    norm = float(np.max(np.abs(w), initial=0.0))
    real = is_real(w, real_tol)
    r, J, _ = network_jets(spec, data, w, order=1)
    grad = J.T @ r + lam * w
    residual = float(np.max(np.abs(r), initial=0.0))
    loss = complex(np.sum(r * r) + np.sum(lam * w * w)).real
    zero = residual <= zero_tol * (1 + norm)
    eig: tuple[float, ...] = ()
    n_neg = n_pos = nullity = -1
    kind = "complex"
    zdim = None
    if zero:
        # w is a Newton-refined homotopy endpoint (or the planted w*): ENDPOINT_RANK_RTOL says why 1e-10
        zdim = spec.n_params - numerical_rank(J, rtol=ENDPOINT_RANK_RTOL).rank
    if real:
        Hm = 2 * half_hessian(spec, data, w.real, lam).real
        mu = np.linalg.eigvalsh((Hm + Hm.T) / 2)
        eig = tuple(float(v) for v in mu)
        n_neg, n_pos, nullity = signature(mu, eig_tol)
        kind = "minimum" if n_neg == 0 else "maximum" if n_pos == 0 else "saddle"
    return CriticalPoint(tuple(complex(v) for v in w), source, endpoints, real, loss, residual, zero,
                         float(np.max(np.abs(grad), initial=0.0)), eig, n_neg, n_pos, nullity, kind, zdim)


def theory_check(points: Sequence[CriticalPoint], K: int, N: int) -> TheoryCheck:
    """Return the Corollary 1 / Proposition 1 verdict for the classified points (Theory II §3.3)."""
    zero = [p for p in points if p.real and p.zero_error and p.kind == "minimum"]
    nonzero = [p for p in points if p.real and not p.zero_error and p.kind == "minimum"]
    zn = tuple(p.nullity for p in zero)
    nn = tuple(p.nullity for p in nonzero)
    zdims = [p.zero_error_dimension for p in zero if p.zero_error_dimension is not None]
    zdim = min(zdims) if zdims else K - N
    zdeg = all(v >= zdim for v in zn) if zn else None
    nnon = all(v == 0 for v in nn) if nn else None
    prop = (zdeg and nnon) if (zn and nn) else None
    if prop is None:
        missing = "zero-error minima" if not zn else "non-zero-error local minima"
        verdict = (f"untestable here: no real {missing} found"
                   + (f"; zero-error minima have nullity {sorted(set(zn))} (zero-error set of dimension "
                      f"{zdim}, K − N = {K - N})" if zn else "")
                   + (f"; non-zero-error minima have nullity {sorted(set(nn))}" if nn else "")
                   + (" (degenerate, against Proposition 1's 'unlike the local non-zero minima')"
                      if nn and any(v > 0 for v in nn) else ""))
    elif prop:
        verdict = (f"holds: zero-error minima are degenerate (nullity {sorted(set(zn))} ≥ dim {zdim}, K − N = {K - N}); "
                   f"all {len(nn)} non-zero-error minima are non-degenerate (nullity 0)")
    else:
        bad = sorted(set(v for v in nn if v > 0))
        parts = []
        if not zdeg:
            parts.append(f"zero-error minima have nullity {sorted(set(zn))} < the zero-error set's dimension {zdim}")
        else:
            parts.append(f"zero-error minima are degenerate (nullity {sorted(set(zn))}, dim {zdim}, K − N = {K - N})")
        if bad:
            parts.append(f"but non-zero-error minima are degenerate too (nullity {bad})")
        verdict = "does not hold: " + ", ".join(parts)
    return TheoryCheck(zdim, K - N, zn, nn, zdeg, nnon, prop, verdict)


GROEBNER_PRIMES = (2**31 - 1, 2**31 - 19)


def strata_route(spec, penalty, data) -> str | None:
    """Return why per-stratum monodromy is not the default route for these critical points, or None when it is.

    It is when the critical points are isolated (a generic penalty), the data are seeded (the
    monodromy moves the targets), dead-unit strata exist (`theory.counting.strata`) and Macaulay2 can count
    each stratum exactly (no bias): then it proves the count complete with far fewer paths than any
    start system (Mehta (2,2,2): 33 points, about 70 paths, against 1,089 polyhedral paths of which
    1,056 diverge).
    """
    if penalty != "generic":
        return "no generic penalty: critical sets may be positive-dimensional"
    if data is not None:
        return "given data: monodromy needs seeded data"
    why = dead_unit_condition(spec)
    if why is not None:
        return why
    if spec.bias:
        return "biases: strata are not counted exactly"
    if not macaulay2.available():
        return "Macaulay2 is not installed: no exact per-stratum count"
    return None


def critical_points(spec, n_points: int, seed: int = 0, penalty: str | Sequence | None = None,
                    planted: bool = True, start: str = "auto", options: TrackConfig | None = None,
                    real_tol: float = 1e-8, zero_tol: float = 1e-8, eig_tol: float = 1e-6,
                    data=None, groebner: bool = False, progress: Progress | None = None,
                    exact_progress: Progress | None = None) -> CriticalReport:
    """Return every critical point reachable by homotopy for `spec` on seeded data, classified (Theory II §3.3).

    `penalty`: None (the paper's loss), 'generic' (random positive λ, `generic_penalty`), or K values.
    `groebner`: also count the complex critical points with multiplicity (Gröbner bases modulo
    GROEBNER_PRIMES; tiny systems). `start` 'auto': per-stratum monodromy where `strata_route`
    allows it (a complete, certified count); without a penalty total degree; else the start
    system with the fewest paths. `exact_progress`: Macaulay2's progress on the strata route
    (strata counted, strata).
    """
    if start == "auto" and strata_route(spec, penalty, data) is None:
        return _critical_by_strata(spec, n_points, seed, planted, options, real_tol, zero_tol, eig_tol, groebner,
                                   progress, exact_progress)
    if start == "auto" and penalty is None:
        # without a penalty the critical sets are positive-dimensional; total-degree paths end on
        # them (singular endpoints, one representative per set), a start with fewer paths need not
        start = "total_degree"
    t0 = time.perf_counter()
    if data is not None:
        w_star = None
    elif planted:
        data, w_star = planted_data(spec, n_points, seed)
    else:
        data, w_star = random_data(spec, n_points, seed), None
    K = spec.n_params
    if penalty == "generic":
        lam_exact = generic_penalty(K, seed)
    elif penalty is None:
        lam_exact = None
    else:
        if len(penalty) != K:
            raise InvalidSpecError(f"the penalty needs {K} coefficients, got {len(penalty)}")
        lam_exact = tuple(Fraction(v) for v in penalty)
    crit = CriticalSystem(spec, data, lam_exact)
    system = critical_system(crit)
    lam = np.zeros(K) if lam_exact is None else np.array([float(v) for v in lam_exact])
    opts = options or TrackConfig(seed=seed)
    result = solve(system, start=start, options=opts, progress=progress)
    points = [classify_point(spec, data, lam, np.array(x), "isolated", 1, real_tol, zero_tol, eig_tol)
              for x in result.solutions]
    regular = [p for p in result.paths if p.outcome == PathOutcome.REGULAR]
    counts_by_sol = cluster([np.array(p.x) for p in regular], opts.same_tol)
    points = [replace(pt, endpoints=len(g)) for pt, g in zip(points, counts_by_sol)]
    singular = [p for p in result.paths if p.outcome == PathOutcome.SINGULAR]
    points.extend(_families(system, spec, data, lam, singular, real_tol, zero_tol, eig_tol))
    if w_star is not None and lam_exact is None:
        points.append(classify_point(spec, data, lam, np.array([float(v) for v in w_star], dtype=complex),
                                     "planted", 0, real_tol, zero_tol, eig_tol))
    counts = {k: sum(p.kind == k for p in points) for k in KINDS}
    counts.update(real=sum(p.real for p in points), zero_error=sum(p.zero_error for p in points),
                  isolated=sum(p.source == "isolated" for p in points),
                  real_isolated=sum(p.real and p.source == "isolated" for p in points))
    check = theory_check(points, K, data.n_points * spec.output_dim)
    exact = tuple(groebner_check(crit.polynomials(), modulus=p) for p in GROEBNER_PRIMES) if groebner else ()
    return CriticalReport(spec.to_dict(), K, data.n_points,
                          None if lam_exact is None else tuple(str(v) for v in lam_exact), tuple(points), counts,
                          result, check, {"real_tol": real_tol, "zero_tol": zero_tol, "eig_tol": eig_tol},
                          seed, time.perf_counter() - t0, exact, result.start_system)


def _critical_by_strata(spec, n_points: int, seed: int, planted: bool, options: TrackConfig | None,
                        real_tol: float, zero_tol: float, eig_tol: float, groebner: bool,
                        progress: Progress | None, exact_progress: Progress | None = None) -> CriticalReport:
    """Return the CriticalReport of `theory.counting.stratified_count.critical_monodromy` (generic penalty), its points classified."""
    t0 = time.perf_counter()
    m = critical_monodromy(spec, n_points, seed=seed, config=StrataConfig(planted=planted, options=options),
                           progress=progress, exact_progress=exact_progress)
    data = make_instance(spec, n_points, seed, planted, None).data
    K = spec.n_params
    lam_exact = tuple(Fraction(v) for v in m.penalty)
    lam = np.array([float(v) for v in lam_exact])
    points = [classify_point(spec, data, lam, x, "isolated", 1, real_tol, zero_tol, eig_tol)
              for x in m.solution_array()]
    counts = {k: sum(p.kind == k for p in points) for k in KINDS}
    counts.update(real=sum(p.real for p in points), zero_error=sum(p.zero_error for p in points),
                  isolated=len(points), real_isolated=sum(p.real for p in points))
    check = theory_check(points, K, data.n_points * spec.output_dim)
    crit = CriticalSystem(spec, data, lam_exact)
    exact = tuple(groebner_check(crit.polynomials(), modulus=p) for p in GROEBNER_PRIMES) if groebner else ()
    return CriticalReport(spec.to_dict(), K, data.n_points, tuple(str(v) for v in lam_exact), tuple(points), counts,
                          None, check, {"real_tol": real_tol, "zero_tol": zero_tol, "eig_tol": eig_tol},
                          seed, time.perf_counter() - t0, exact, "strata monodromy", m)


def _families(system: System, spec, data, lam: np.ndarray, singular, real_tol: float, zero_tol: float,
              eig_tol: float) -> list[CriticalPoint]:
    """Return one representative per positive-dimensional critical set met by singular endpoints.

    Each endpoint is refined by Gauss–Newton onto its set; endpoints are grouped by (zero error,
    loss value, local dimension = nullity of the complex Hessian). For each group a real member is
    sought by Gauss–Newton from the real part of its least complex endpoint, so that the real
    Hessian signature can be read; otherwise the complex representative is kept.
    """
    groups: dict[tuple, list[np.ndarray]] = {}
    for p in singular:
        w, _ = newton_refine(system, np.array(p.x), steps=8)
        r, J, _ = network_jets(spec, data, w, order=1)
        norm = 1 + float(np.max(np.abs(w)))
        zero = float(np.max(np.abs(r))) <= zero_tol * norm
        loss = complex(np.sum(r * r) + np.sum(lam * w * w))
        # Gauss–Newton onto a positive-dimensional set converges only linearly, to about 1e-8
        # relative: the Hessian's vanishing eigenvalues sit near that level, hence rtol 1e-7
        dim = spec.n_params - numerical_rank(half_hessian(spec, data, w, lam), rtol=1e-7).rank
        key = (zero, round(loss.real, 6), round(loss.imag, 6), dim)
        groups.setdefault(key, []).append(w)
    out = []
    for (zero, _, _, dim), members in groups.items():
        best = min(members, key=lambda w: float(np.max(np.abs(w.imag))))
        candidate, _ = newton_refine(system, best.real.astype(complex), steps=12)
        on_set = float(np.max(np.abs(system.evaluate(candidate)))) <= 1e-9 * (1 + float(np.max(np.abs(candidate))))
        w = candidate.real.astype(complex) if on_set and np.max(np.abs(candidate.imag)) <= real_tol else best
        pt = classify_point(spec, data, lam, w, "singular", len(members), real_tol, zero_tol, eig_tol)
        out.append(replace(pt, set_dimension=dim))
    return out
