"""Monodromy solving on PHCpack's trackers: all solutions of a parametrized family from one known solution.

For a family F(w; p) = 0 whose equations are affine in the parameters p (targets y, slice offsets
b, penalty λ), PHCpack's homotopy γ(1−t)² F(w; p_a) + t² F(w; p_b) equals c(t)·F(w; p(t)) with
p(t) = (γ(1−t)² p_a + t² p_b)/c(t): a parameter homotopy along a random complex path, so one
call moves every known solution from p_a to p_b. Walking the triangle p_0 → p_1 → p_2 → p_0
with fresh random p_1, p_2 and γ's permutes the solutions at p_0 by an element of the monodromy
group, which acts transitively on the solutions of an irreducible family (Sommese–Wampler 2005,
§15.4; Duff, Hill, Jensen, Lee, Leykin, Sommars 2019 for the method HomotopyContinuation.jl's
monodromy_solve uses). Solutions are collected until `stop_after` consecutive loops add none.

Completeness is assessed two ways and reported: the stagnation criterion, and — for witness
sets, where the parameters are slice offsets — the linear trace test (Sommese, Verschelde,
Wampler 2002): along parallel slices b_0 + s·v the sum of the witness points of a union of
complete components is affine in s, and fails to be for a proper subset.

Start solutions come by construction: pick weights w*, compute the targets they fit
(`theory.data.planted_data`), or slice through w*.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from landscape_toolkit.common.progress import Progress, report
from landscape_toolkit.common.seeds import stream
from landscape_toolkit.common.serialize import Serializable
from theory import phc
from landscape_toolkit.common.errors import InvalidSpecError
from theory.path_result import cluster, is_real
from theory.polysystem import System, complex_literal, linear_string, network_jets, network_system
from theory.slicing import random_complex, witness_slice
from theory.strata import Stratum
from theory.tracker import TrackOptions, classify_endpoint, newton_refine

if TYPE_CHECKING:
    from theory.symmetry import GroupAction


@dataclass(frozen=True)
class Family:
    """A square polynomial system F(w; p) affine in the parameters p, in two realisations.

    Fields:
        names: the variables.
        polys: p ↦ PHCpack strings of F(·; p).
        evaluate: (w, p) ↦ F(w; p).
        jacobian: (w, p) ↦ ∂F/∂w.
        n_params: the number of parameters.
        label: a description.
    """

    names: tuple[str, ...]
    polys: Callable[[np.ndarray], list[str]] = field(repr=False)
    evaluate: Callable[[np.ndarray, np.ndarray], np.ndarray] = field(repr=False)
    jacobian: Callable[[np.ndarray, np.ndarray], np.ndarray] = field(repr=False)
    n_params: int
    label: str = "family"
    max_degree: int | None = None  # the largest total degree of F(·; p) for generic p (None: ask PHCpack per move)

    def at(self, p: np.ndarray) -> System:
        """Return the System F(·; p)."""
        p = np.asarray(p, dtype=complex)
        return System(tuple(self.polys(p)), self.names, lambda w: self.evaluate(w, p),
                        lambda w: self.jacobian(w, p), f"{self.label} at p")


@dataclass(frozen=True)
class TraceTest(Serializable):
    """The linear trace test on a witness set.

    Fields:
        residual: |(tr(s₂) − tr(0))/s₂ − (tr(s₁) − tr(0))/s₁| relative to the trace scale.
        passed: residual ≤ tol: the points form complete components.
        tol: the tolerance used.
        failed_paths: paths lost while moving the slices (the test is void if > 0).
    """

    residual: float
    passed: bool
    tol: float
    failed_paths: int


@dataclass(frozen=True)
class MonodromyResult(Serializable):
    """Solutions found by monodromy loops, and how completeness was assessed.

    Fields:
        label: the family.
        n_solutions: number of distinct solutions at the base parameters.
        solutions: the solutions (complex).
        n_real: how many are real (real_tol of the track options).
        base: the base parameters p_0 (as [re, im] pairs).
        loops: loops run; stop_after: the stagnation criterion (k loops without news).
        history: number of known solutions after each loop.
        paths_tracked: total paths tracked (3 per orbit representative per loop, plus the trace test).
        failed_paths: paths that failed on some leg (counted, their solutions simply not carried).
        stagnated: whether the loop ended by the stagnation criterion (not by max_loops or time).
        trace: the trace test, if the family is a witness-set family.
        completeness: one sentence on how completeness was assessed.
        seed: seed of parameters and γ's.
        seconds: wall time.
        n_orbits: orbits under the group action (= n_solutions without a group).
        group: labels of the group generators used (empty: none).
    """

    label: str
    n_solutions: int
    solutions: tuple[tuple[complex, ...], ...] = field(repr=False)
    n_real: int
    base: tuple = field(repr=False)
    loops: int
    stop_after: int
    history: tuple[int, ...]
    paths_tracked: int
    failed_paths: int
    stagnated: bool
    trace: TraceTest | None
    completeness: str
    seed: int
    seconds: float
    n_orbits: int = 0
    group: tuple[str, ...] = ()

    def solution_array(self) -> np.ndarray:
        """Return the solutions as a complex array (n_solutions, n_vars)."""
        return np.array(self.solutions, dtype=complex).reshape(len(self.solutions), -1)


def move(family: Family, points: np.ndarray, p_from: np.ndarray, p_to: np.ndarray, gamma: complex,
         opts: TrackOptions) -> tuple[list[np.ndarray | None], int]:
    """Return (endpoints at p_to, one per point or None where the path failed, number failed).

    A parameter homotopy ends every path at t = 1 in affine space, so an endpoint is judged by
    its own Newton convergence, residual and condition (`classify_endpoint` with trust_end),
    not by PHCpack's end-game flag; batches of 8 or more paths are spread over worker processes.
    """
    if len(points) == 0:
        return [], 0
    start, target = family.at(p_from), family.at(p_to)
    points = np.asarray(points, dtype=complex)
    batched = getattr(phc, "track_batches", None)
    if batched is not None and len(points) >= 8:
        halves = [b for b in np.array_split(points, 2) if len(b)]
        raws = [r for part in batched(target.polys, start.polys, halves, family.names, gamma, "d") for r in part]
    else:
        raws = phc.track(target.polys, start.polys, points, family.names, gamma, "d", opts.tasks)
    dmax = family.max_degree or max(1, max(target.degrees()))
    out, failed = [], 0
    for k, raw in enumerate(raws):
        res = _judge(target, raw, k, "d", opts, dmax)
        if res.outcome != "regular" and opts.retry:
            again = phc.track(target.polys, start.polys, points[k:k + 1], family.names, gamma, opts.retry,
                              max(opts.tasks, 1))
            res = _judge(target, again[0], k, opts.retry, opts, dmax, retried=True)
        if res.outcome == "regular":
            out.append(np.array(res.x))
        else:
            out.append(None)
            failed += 1
    return out, failed


def _judge(target: System, raw, k: int, precision: str, opts: TrackOptions, dmax: int, retried: bool = False):
    reached = bool(np.all(np.isfinite(raw.x))) and abs(raw.t.real - 1.0) < 1e-9
    return classify_endpoint(target, raw, k, precision, opts, dmax, retried=retried, trust_end=reached)


def _is_new(x: np.ndarray, known: list[np.ndarray], tol: float) -> bool:
    return all(np.max(np.abs(x - k)) > tol * (1 + np.max(np.abs(k))) for k in known)


def monodromy_solve(family: Family, base: np.ndarray, start: Sequence[np.ndarray], seed: int = 0,
                    stop_after: int = 3, max_loops: int = 50, max_seconds: float = 300.0,
                    target_count: "int | Callable[[], int | None] | None" = None, options: TrackOptions | None = None,
                    trace_slices: tuple[int, int] | None = None, group: "GroupAction | None" = None,
                    accept: Callable[[np.ndarray], bool] | None = None,
                    progress: Progress | None = None) -> MonodromyResult:
    """Return all solutions of F(w; base) reachable by monodromy loops from `start`.

    Stops after `stop_after` consecutive loops without a new solution, after `max_loops`, after
    `max_seconds`, or when `target_count` solutions are known (a callable is asked before each
    loop: a count that arrives while monodromy runs, e.g. from a background Macaulay2 run). `trace_slices` = (i, j) marks the
    parameters p[i:j] as slice offsets, enabling the linear trace test. `group`: a finite group of
    signed permutations g with F(g w; p) = g F(w; p) for every p (`theory.symmetry`); the known
    set is closed under it and only one representative per orbit is tracked, since g commutes
    with every parameter homotopy (Duff et al. 2019, §4; HomotopyContinuation.jl's group_action).
    `accept`: solutions failing it are not collected (e.g. points of another component that a
    path jumped to).
    """
    opts = options or TrackOptions(seed=seed)
    rng = stream(seed, "monodromy loops")
    base = np.asarray(base, dtype=complex)
    known: list[np.ndarray] = []
    reps: list[np.ndarray] = []
    sys0 = family.at(base)

    def add(x: np.ndarray) -> bool:
        if not _is_new(x, known, opts.same_tol) or (accept is not None and not accept(x)):
            return False
        reps.append(x)
        known.extend(group.orbit(x, opts.same_tol) if group is not None else [x])
        return True

    for x in start:
        x, _ = newton_refine(sys0, np.asarray(x, dtype=complex))
        if np.max(np.abs(sys0.evaluate(x))) > 1e-8 * (1 + np.max(np.abs(x))):
            raise InvalidSpecError("a start point does not solve the system at the base parameters")
        add(x)
    t0 = time.perf_counter()
    history, tracked, failed, quiet_loops, loops = [], 0, 0, 0, 0
    stagnated = False
    def count() -> int | None:
        return target_count() if callable(target_count) else target_count

    while (loops < max_loops and time.perf_counter() - t0 < max_seconds
           and not (count() is not None and len(known) >= count())):
        loops += 1
        p1 = random_complex(rng, family.n_params)
        p2 = random_complex(rng, family.n_params)
        pts = np.array(reps)
        for a, b in [(base, p1), (p1, p2), (p2, base)]:
            ends, nf = move(family, pts, a, b, np.exp(2j * np.pi * rng.uniform()), opts)
            tracked += len(pts)
            failed += nf
            keep = [e for e in ends if e is not None]
            pts = np.array(keep).reshape(len(keep), len(family.names))
        added = sum(add(x) for x in pts)
        history.append(len(known))
        report(progress, loops, max_loops)
        quiet_loops = 0 if added else quiet_loops + 1
        if quiet_loops >= stop_after:
            stagnated = True
            break
    trace = None
    if trace_slices is not None and known:
        trace = trace_test(family, base, np.array(known), trace_slices, rng, opts)
        tracked += 2 * len(known)
    target = count()
    reached = target is not None and len(known) >= target
    stop = (f"the known count {target} was reached" if reached else
            f"stagnation: {stop_after} consecutive loops found nothing new (a heuristic stop, not a proof)"
            if stagnated else "stopped by the loop/time limit before stagnation")
    how = (stop + (f"; linear trace test {'passed' if trace.passed else 'FAILED'} (residual {trace.residual:.1e})"
                   + (": the points form complete irreducible components (others not reached from the start may exist)"
                      if trace.passed else ": components are incomplete") if trace else
                   "; no trace test (the parameters are not slices)"))
    sols = tuple(tuple(complex(v) for v in x) for x in known)
    real = sum(is_real(x, opts.real_tol) for x in known)
    return MonodromyResult(family.label, len(known), sols, real, tuple((z.real, z.imag) for z in base), loops,
                           stop_after, tuple(history), tracked, failed, stagnated, trace, how, seed,
                           time.perf_counter() - t0, len(reps),
                           tuple(g.label for g in group.generators) if group is not None else ())


def trace_test(family: Family, base: np.ndarray, points: np.ndarray, slices: tuple[int, int],
               rng: np.random.Generator, opts: TrackOptions, tol: float = 1e-7) -> TraceTest:
    """Return the linear trace test of witness points under parallel translation of the slice offsets.

    tr(s) = Σ_i c·w_i(s) for a random c; complete components ⇔ tr affine in s (SVW 2002, §4).
    """
    i, j = slices
    v = np.zeros(family.n_params, dtype=complex)
    v[i:j] = random_complex(rng, j - i)
    c = random_complex(rng, len(family.names))
    s1, s2 = 0.3 + 0.1j, -0.4 + 0.25j
    tr0 = complex(np.sum(points @ c))
    lost = 0
    traces = []
    for s in (s1, s2):
        ends, nf = move(family, points, base, base + s * v, np.exp(2j * np.pi * rng.uniform()), opts)
        lost += nf
        traces.append(complex(sum(e @ c for e in ends if e is not None)))
    d1, d2 = (traces[0] - tr0) / s1, (traces[1] - tr0) / s2
    scale = max(1.0, abs(tr0), abs(d1))
    residual = abs(d1 - d2) / scale
    return TraceTest(float(residual), bool(residual <= tol and lost == 0), tol, lost)


# ----------------------------------------------------------------------------------------------
# Families built from networks


def _fx_system(spec, data):
    """Return (nested strings of f(x_i; w) without targets, evaluator of (f, ∂f/∂w))."""
    from theory.data import ExactData
    from theory.systems import ZeroErrorSystem

    zero_y = tuple(tuple(Fraction(0) for _ in row) for row in data.Y)
    bare = ZeroErrorSystem(spec, ExactData(data.X, zero_y, data.seed, data.kind))
    texts = bare.formulas(exact=False)
    return texts, bare.data


def witness_family(spec, data, dim: int, seed: int) -> tuple[Family, np.ndarray, tuple[int, int], np.ndarray]:
    """Return (family in the slice offsets b, its R and A fixed; base b_0; slice index range; R).

    F(w; b) = [R·(f(x_i; w) − y_i); A w + b]: the witness-set family of the zero-error set.
    """
    from theory.systems import ZeroErrorSystem

    system = network_system(ZeroErrorSystem(spec, data))
    # the same draw as theory.witness.witness_set(system, dim, seed): same R, same slice directions A
    cut = witness_slice(system, dim, seed)
    rand, R, A = cut.randomized, cut.R, cut.A
    fixed = list(rand.polys)

    def polys(b: np.ndarray) -> list[str]:
        return fixed + [linear_string(row, c, system.names) for row, c in zip(A, b)]

    def evaluate(w, b):
        return np.concatenate([rand.evaluate(w), A @ w + b])

    def jacobian(w, b):
        return np.vstack([rand.jacobian(w), A])

    fam = Family(system.names, polys, evaluate, jacobian, dim, f"witness family of {spec.describe()}, N = {data.n_points}")
    return fam, A, (0, dim), R


def target_family(spec, data) -> Family:
    """Return the family F(w; y) = f(x_i; w) − y_i (square when K = N·n_d), parameters the targets y."""
    texts, bare = _fx_system(spec, data)
    names = tuple(spec.variable_names())

    def polys(y: np.ndarray) -> list[str]:
        return [f"{t} - {complex_literal(c)};" for t, c in zip(texts, y)]

    def evaluate(w, y):
        return network_jets(spec, bare, w, order=0)[0] - y

    def jacobian(w, y):
        return network_jets(spec, bare, w, order=1)[1]

    return Family(names, polys, evaluate, jacobian, len(texts), f"targets family of {spec.describe()}, N = {data.n_points}")


def zero_error_witness_monodromy(spec, n_points: int, seed: int = 0, stop_after: int = 10,
                                 max_seconds: float = 300.0, options: TrackOptions | None = None,
                                 progress: Progress | None = None, data=None, w_star=None) -> MonodromyResult:
    """Return the witness points of the zero-error set found by monodromy from the planted solution w*.

    The slice A w + b_0 = 0 is chosen through w* (b_0 = −A w*), so w* is a witness point by
    construction; loops move b; the trace test certifies completeness. Data and w* default to
    `theory.data.planted_data(spec, n_points, seed)`; given ones must fit (w* solves them).
    """
    from theory.data import planted_data

    if data is None or w_star is None:
        data, w_star = planted_data(spec, n_points, seed)
    n_points = data.n_points
    K = spec.n_params
    dim = K - n_points * spec.output_dim
    if dim < 1:
        raise InvalidSpecError(f"the zero-error set of {n_points} points is {dim}-dimensional: use the targets family")
    fam, A, idx, _ = witness_family(spec, data, dim, seed)
    w0 = np.array([float(v) for v in w_star], dtype=complex)
    b0 = -A @ w0
    return monodromy_solve(fam, b0, [w0], seed=seed, stop_after=stop_after, max_seconds=max_seconds,
                           options=options, trace_slices=idx, progress=progress)


def square_monodromy(spec, seed: int = 0, stop_after: int = 3, max_seconds: float = 300.0,
                     options: TrackOptions | None = None,
                     progress: Progress | None = None) -> MonodromyResult:
    """Return the isolated zero-error solutions of a square instance (N·n_d = K) found by monodromy over y.

    Start: the planted w*, whose exact targets y* are the base parameters.
    """
    from theory.data import planted_data

    K = spec.n_params
    if K % spec.output_dim:
        raise InvalidSpecError("K must be a multiple of the output dimension for a square instance")
    data, w_star = planted_data(spec, K // spec.output_dim, seed)
    fam = target_family(spec, data)
    y0 = data.Y_float.ravel().astype(complex)
    w0 = np.array([float(v) for v in w_star], dtype=complex)
    return monodromy_solve(fam, y0, [w0], seed=seed, stop_after=stop_after, max_seconds=max_seconds,
                           options=options, progress=progress)


# ----------------------------------------------------------------------------------------------
# Critical points: the family J(w)ᵀ(f(w) − y) + λ ⊙ w = 0 in the parameters (y, λ)


def _poly_string(poly, names: Sequence[str]) -> str:
    """Return a sympy PolyElement over QQ as a PHCpack string with float coefficients."""
    terms = []
    for monom, coeff in poly.terms():
        c = float(Fraction(int(coeff.numerator), int(coeff.denominator)))
        factors = [f"{n}^{e}" if e > 1 else n for n, e in zip(names, monom) if e]
        terms.append("*".join([f"({c:+.17e})"] + factors))
    return " + ".join(terms) if terms else "0"


def critical_family(spec, data) -> Family:
    """Return the family F(w; y, λ) = J(w)ᵀ(f(w) − y) + λ ⊙ w (half the gradient of the penalised loss).

    Affine in p = (y, λ) (N·n_d + K parameters), so PHCpack's gamma homotopy between two members is
    a parameter homotopy. Expanded through sympy: small networks only (ExpansionTooLarge otherwise).
    """
    from theory.data import ExactData
    from theory.systems import ZeroErrorSystem

    zero_y = tuple(tuple(Fraction(0) for _ in row) for row in data.Y)
    bare = ExactData(data.X, zero_y, data.seed, data.kind)
    f = ZeroErrorSystem(spec, bare).polynomials()
    gens = f[0].ring.gens
    names = tuple(spec.variable_names())
    K, n = len(gens), len(f)
    A_polys = [sum((fi * fi.diff(g) for fi in f), f[0].ring.zero) for g in gens]
    B_polys = [[fi.diff(g) for fi in f] for g in gens]
    A = [_poly_string(a, names) for a in A_polys]
    B = [[_poly_string(b, names) for b in row] for row in B_polys]
    dmax = max([1] + [sum(m) for q in A_polys + [b for row in B_polys for b in row] for m in q.monoms()])

    def polys(p: np.ndarray) -> list[str]:
        y, lam = p[:n], p[n:]
        out = []
        for j in range(K):
            terms = [f"({A[j]})"] + [f"{complex_literal(-y[i])}*({B[j][i]})" for i in range(n)]
            terms.append(f"{complex_literal(lam[j])}*{names[j]}")
            out.append(" + ".join(terms) + ";")
        return out

    def evaluate(w, p):
        fw, J, _ = network_jets(spec, bare, w, order=1)
        return J.T @ (fw - p[:n]) + p[n:] * np.asarray(w, dtype=complex)

    def jacobian(w, p):
        fw, J, Hs = network_jets(spec, bare, w, order=2)
        return J.T @ J + np.einsum("i,ijk->jk", fw - p[:n], Hs) + np.diag(p[n:])

    return Family(names, polys, evaluate, jacobian, n + K, f"critical family of {spec.describe()}, N = {data.n_points}",
                  dmax)


@dataclass(frozen=True)
class ComponentCount(Serializable):
    """The isolated critical points on one coordinate stratum (`theory.strata`), and how complete they are.

    Fields:
        stratum: the stratum (dead units, or W = 0).
        status: 'solved', or 'skipped: ...' (e.g. a singular seed) with the reason.
        seed_condition: cond₂ of the full system's Jacobian at the embedded seed (inf: singular).
        monodromy: the monodromy solve on the stratum's restricted family (None for W = 0 or skipped).
        n_solutions: distinct regular critical points on the open stratum at the target (y, λ).
        exact: the exact count on the open stratum (Macaulay2 degrees of the closed strata, Möbius
            inversion), or None when not computed.
        complete: n_solutions equals the exact count (a proof; stagnation alone never sets it).
        how: one sentence on how completeness was assessed.
    """

    stratum: Stratum
    status: str
    seed_condition: float
    monodromy: MonodromyResult | None = field(repr=False)
    n_solutions: int
    exact: int | None
    complete: bool
    how: str


@dataclass(frozen=True)
class CriticalMonodromyResult(Serializable):
    """Critical points of a penalised square loss found per stratum by monodromy and one parameter homotopy.

    Fields:
        components: one ComponentCount per coordinate stratum (`theory.strata.network_strata`).
        strata_note: which strata exist and why.
        group: the symmetries used, and those left out with why (`theory.symmetry`).
        n_isolated: distinct isolated critical points at the target (y_data, λ), all strata.
        n_real: how many of them are real.
        solutions: those critical points (full weight vectors).
        failed_paths: target-leg paths that did not end at a regular point (counted).
        penalty: the target λ as strings.
        exact_total: the exact number of complex critical points with multiplicity (Macaulay2),
            or None when not computed.
        complete: every component is proved complete (or n_isolated = exact_total).
        completeness: one sentence.
        certification: Krawczyk certificates of the solutions on the exact target system
            (`theory.certify`), or None when not asked.
        seconds: wall time.
    """

    components: tuple[ComponentCount, ...]
    strata_note: str
    group: "GroupAction"
    n_isolated: int
    n_real: int
    solutions: tuple[tuple[complex, ...], ...] = field(repr=False)
    failed_paths: int
    penalty: tuple[str, ...]
    exact_total: int | None
    complete: bool
    completeness: str
    certification: object | None
    seconds: float

    def solution_array(self) -> np.ndarray:
        """Return the critical points as a complex array."""
        return np.array(self.solutions, dtype=complex).reshape(len(self.solutions), -1)

    @property
    def monodromy(self) -> MonodromyResult | None:
        """Return the monodromy solve of the stratum without dead units."""
        return self.components[0].monodromy


def _representatives(points: np.ndarray, group, tol: float) -> list[np.ndarray]:
    """Return one point per group orbit among `points`."""
    reps: list[np.ndarray] = []
    seen: list[np.ndarray] = []
    for x in points:
        if _is_new(x, seen, tol):
            reps.append(x)
            seen.extend(group.orbit(x, tol) if group is not None else [x])
    return reps


def _on_open_stratum(spec, tol: float = 1e-8) -> Callable[[np.ndarray], bool]:
    """Return w ↦ whether no hidden unit of `spec` is dead at w (incoming row, bias, outgoing column ≈ 0).

    Points with a dead unit lie on a deeper stratum, counted there.
    """
    from theory.symmetry import hidden_units

    units = [row + bias + col for (_, _, row, bias, col) in hidden_units(spec)] if spec.architecture == "fc" else []

    def live(w: np.ndarray) -> bool:
        scale = tol * (1 + float(np.max(np.abs(w))))
        return all(float(np.max(np.abs(w[idx]))) > scale for idx in units)

    return live


def exact_stratum_counts(spec, data, lam_t, strata, zero_regular: bool, timeout: float = 300.0) -> dict[str, int]:
    """Return the exact number of critical points on each open stratum (Macaulay2), by Möbius inversion.

    closed(S) = degree of the critical ideal of the network with S's units removed (its complex
    critical points with multiplicity); W = 0 counts 1 when it is a regular critical point.
    """
    return start_stratum_counts(spec, data, lam_t, strata, zero_regular, timeout)()


def start_stratum_counts(spec, data, lam_t, strata, zero_regular: bool, timeout: float = 300.0):
    """Start `exact_stratum_counts` in one background Macaulay2 run; return a function that waits for it.

    One M2 process for all strata (its start-up, about 1.5 s, paid once), running while the
    caller tracks paths on the other core.
    """
    from theory.macaulay2 import start_invariants
    from theory.strata import mobius_open_counts, reduced_penalty, reduced_spec
    from theory.systems import CriticalSystem

    solved = [s for s in strata if not s.zero]
    pending = start_invariants([CriticalSystem(reduced_spec(spec, s), data, reduced_penalty(lam_t, s))
                                for s in solved], timeout=timeout)
    memo: list[dict[str, int]] = []

    def wait() -> dict[str, int]:
        if not memo:
            closed = {s.label: (1 if zero_regular else 0) for s in strata if s.zero}
            for s, inv in zip(solved, pending.result()):
                closed[s.label] = inv.degree if inv.dim == 0 else -1
            memo.append({} if any(v < 0 for v in closed.values()) else mobius_open_counts(tuple(strata), closed))
        return memo[0]

    def ready() -> bool:
        return bool(memo) or pending._proc.poll() is not None

    wait.ready = ready  # type: ignore[attr-defined]
    return wait


def critical_monodromy(spec, n_points: int, seed: int = 0, penalty: Sequence | None = None, planted: bool = False,
                       stop_after: int = 5, max_seconds: float = 300.0,
                       options: TrackOptions | None = None, exact: bool | None = None, certify: bool = True,
                       progress: Progress | None = None) -> CriticalMonodromyResult:
    """Return the isolated critical points of Σ(f(x_i) − y_i)² + Σ λ_j w_j², per coordinate stratum.

    Each stratum of `theory.strata.network_strata` (dead hidden units; W = 0) is a union of
    components of the incidence variety of its own, which monodromy cannot leave, so each is
    seeded separately: weights w* of the reduced network made critical at generic complex
    (y₀, λ₀) by λ₀_j = −[Jᵀ(f − y₀)]_j / w*_j; strata whose seed is singular in the full system are
    skipped and said so. Monodromy (closed under the sign-flip symmetries of `theory.symmetry`)
    collects the stratum's points at (y₀, λ₀); one parameter homotopy (Morgan–Sommese 1989)
    carries them to the data's y and the penalty λ (default `theory.critical.generic_penalty`).
    `exact`: count each stratum exactly with Macaulay2 (default: when M2 is installed and the
    network has no bias); a stratum is complete only when its count equals the exact one.
    `certify`: Krawczyk certificates on the exact target system (`theory.certify`).
    """
    from theory import macaulay2
    from theory.critical import generic_penalty
    from theory.data import planted_data, random_data
    from theory.networks import init_weights
    from theory.strata import network_strata, reduced_penalty, reduced_spec
    from theory.symmetry import network_group, verified
    from theory.tracker import condition_number

    t0 = time.perf_counter()
    data = planted_data(spec, n_points, seed)[0] if planted else random_data(spec, n_points, seed)
    opts = options or TrackOptions(seed=seed)
    n, K = data.n_points * spec.output_dim, spec.n_params
    lam_t = tuple(Fraction(v) for v in (penalty if penalty is not None else generic_penalty(K, seed)))
    lam_f = np.array([float(v) for v in lam_t])
    strata, note = network_strata(spec, "critical")
    full = critical_family(spec, data)
    target = np.concatenate([data.Y_float.ravel(), lam_f]).astype(complex)
    rng = stream(seed, "critical monodromy")
    zero = np.zeros(K, dtype=complex)
    others = [np.concatenate([random_complex(rng, n), random_complex(rng, K)]) for _ in range(2)]
    zero_solves = all(np.max(np.abs(full.evaluate(zero, p))) < 1e-12 for p in others + [target])
    zero_cond = condition_number(full.jacobian(zero, target)) if zero_solves else float("inf")
    strata = tuple(s for s in strata if not s.zero or zero_solves)
    if exact is None:
        exact = macaulay2.available() and not spec.bias
    exact_counts = start_stratum_counts(spec, data, lam_t, strata, zero_cond <= opts.cond_max) if exact else None

    def known(label: str) -> int | None:
        """The exact count of a stratum once Macaulay2 has answered (monodromy does not wait for it)."""
        return exact_counts().get(label) if exact_counts is not None and exact_counts.ready() else None

    group_all = network_group(spec, lam_f, parameters_move_penalty=True)
    components, found, failed = [], [], 0
    for s in strata:
        want = known(s.label)
        if s.zero:
            ok = zero_cond <= opts.cond_max
            if ok:
                found.append(zero)
            comp = ComponentCount(s, "solved" if ok else "skipped: W = 0 is a singular critical point", zero_cond,
                                  None, int(ok), want, ok and want == 1,
                                  "complete: one regular point (multiplicity 1), critical for all parameters" if ok
                                  else "singular: not counted")
            components.append(comp)
            continue
        rspec = reduced_spec(spec, s)
        fam = critical_family(rspec, data)
        srng = stream(seed, f"critical monodromy {s.label}")
        w0 = init_weights(rspec, seed).astype(complex)
        base = np.concatenate([random_complex(srng, n), np.zeros(rspec.n_params, dtype=complex)])
        base[n:] = -fam.evaluate(w0, base) / w0
        full_base = np.concatenate([base[:n], random_complex(srng, K)])
        full_base[n + np.array(s.kept)] = base[n:]
        cond = condition_number(full.jacobian(s.embed(w0, K), full_base))
        if not cond <= opts.cond_max:
            components.append(ComponentCount(s, f"skipped: the seed is singular (cond {cond:.1e})", cond, None, 0,
                                             want, want == 0,
                                             "complete: the exact count is 0 (no isolated critical point here)"
                                             if want == 0 else "not solved: no regular seed"))
            continue
        group = verified(network_group(rspec, None, parameters_move_penalty=True),
                         lambda w: float(np.max(np.abs(fam.evaluate(w, base)))), [w0])
        live = _on_open_stratum(rspec)
        mono = monodromy_solve(fam, base, [w0], seed=seed, stop_after=stop_after, max_seconds=max_seconds,
                               target_count=lambda label=s.label: known(label), options=opts, group=group,
                               accept=live, progress=progress)
        reps = _representatives(mono.solution_array(), group, opts.same_tol)
        rtarget = np.concatenate([target[:n], target[n + np.array(s.kept)]])
        ends, nf = move(fam, np.array(reps), base, rtarget, np.exp(2j * np.pi * srng.uniform()), opts)
        failed += nf
        here: list[np.ndarray] = []
        for e in ends:
            if e is None or not live(e):
                continue
            for x in group.orbit(e, opts.same_tol):
                if _is_new(x, here, opts.same_tol):
                    here.append(x)
        found.extend(s.embed(x, K) for x in here)
        complete = want is not None and len(here) == want
        how = (f"complete: {len(here)} = the exact count (Macaulay2)" if complete else
               f"NOT complete: {len(here)} of the exact {want}" if want is not None else
               f"not proved complete: {mono.completeness}")
        components.append(ComponentCount(s, "solved", cond, mono, len(here), want, complete, how))
    counts = exact_counts() if exact_counts is not None else {}
    components = [_with_exact(c, counts.get(c.stratum.label)) for c in components]
    groups = cluster(found, opts.same_tol)
    sols = [found[gr[0]] for gr in groups]
    real = sum(is_real(x, opts.real_tol) for x in sols)
    total = sum(counts.values()) if counts else None
    complete = bool(components) and all(c.complete for c in components) and total == len(sols)
    completeness = (f"complete: {len(sols)} = the exact count {total} (Macaulay2, sum over strata), every stratum attained"
                    if complete else
                    f"NOT complete: {len(sols)} found, the exact count is {total}" if total is not None else
                    f"not proved complete: {len(sols)} found; per-stratum monodromy stopped by stagnation "
                    f"(a heuristic stop), no exact count")
    cert = None
    if certify and sols:
        cert = certify_critical(spec, data, lam_t, np.array(sols))
    return CriticalMonodromyResult(tuple(components), note, group_all, len(sols), real,
                                   tuple(tuple(complex(v) for v in x) for x in sols), failed,
                                   tuple(str(v) for v in lam_t), total, complete, completeness, cert,
                                   time.perf_counter() - t0)


def _with_exact(c: ComponentCount, want: int | None) -> ComponentCount:
    """Return the component judged against the exact count `want` (Macaulay2), which may arrive after its solve."""
    from dataclasses import replace as _replace

    if c.stratum.zero:
        return _replace(c, exact=want, complete=c.n_solutions == 1 and want == 1)
    if c.status != "solved":
        return _replace(c, exact=want, complete=want == 0,
                        how="complete: the exact count is 0 (no isolated critical point here)" if want == 0
                        else "not solved: no regular seed")
    complete = want is not None and c.n_solutions == want
    how = (f"complete: {c.n_solutions} = the exact count (Macaulay2)" if complete else
           f"NOT complete: {c.n_solutions} of the exact {want}" if want is not None else
           f"not proved complete: {c.monodromy.completeness}")
    return _replace(c, exact=want, complete=complete, how=how)


def certify_critical(spec, data, lam_t, solutions: np.ndarray):
    """Return the Krawczyk certification (`theory.certify.certify`) of critical points on the exact system ∇L/2 = 0."""
    from theory.certify import certify, terms_from_sympy
    from theory.systems import CriticalSystem

    polys = CriticalSystem(spec, data, tuple(lam_t)).polynomials()
    ring = polys[0].ring
    return certify(terms_from_sympy([p.as_expr() for p in polys], list(ring.symbols)), solutions)
