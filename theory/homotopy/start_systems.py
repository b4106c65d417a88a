"""Start systems with all their solutions known, one per kind of root count (Sommese–Wampler 2005, ch. 8).

* total degree: g_i(x) = x_i^{d_i} − 1, with ∏ d_i start points (the Bezout number), in affine
  coordinates or in a random affine chart of P^n (`projective_total_degree_start`, §3.7);
* multihomogeneous: for a partition of the variables into groups G_1..G_m and degrees d_ij of
  equation i in group j, g_i = ∏_j ∏_{k ≤ d_ij} L_ijk(x_{G_j}) with random affine forms L; its
  start points number the m-homogeneous Bezout number, the coefficient of ∏_j α_j^{|G_j|} in
  ∏_i Σ_j d_ij α_j (Morgan–Sommese 1987; counted by `theory.bounds.bezout.multihomogeneous_bezout`);
* polyhedral: PHCpack's random-coefficient system with the supports of f after a random constant
  is added to every equation lacking one (Li–Wang 1996, "The BKK root count in C^n", Math. Comp.
  65): its MV(S_i ∪ {0}) solutions lie in the torus, and the γ-trick homotopy from it to f is a
  coefficient-parameter homotopy in the family with supports S_i ∪ {0}, whose generic member has
  MV(S_i ∪ {0}) roots in C^n, so every isolated solution of f in C^n is reached, zero coordinates
  included (Morgan–Sommese 1989). `lifted=False` gives the plain torus-only start (Huber–Sturmfels
  1995);
* auto: whichever of the above has the fewest paths (the mixed volume is computed only for up to
  MAX_MV_VARS variables: PHCpack's mixed-volume computation takes minutes beyond).

`projectivize` puts any start system and its target in one random affine chart of P^n
(Sommese–Wampler 2005, §3.7), so paths to infinity end at finite points with x_0 = 0.

Each start system is refused (PathBudgetExceeded) before it is built when its count of paths
exceeds the budget. Random coefficients come from named streams of the recorded seed.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np

from landscape_core.text import count_text
from landscape_core.seeds import stream
from theory.homotopy import phcpack as phc
from theory.bounds.bezout import MAX_MHOM_STATES, bezout_number, multihomogeneous_bezout
from landscape_core.errors import InvalidSpecError, PathBudgetExceeded
from theory.polynomials.system import HOM, System, complex_literal, homogenize, homogenize_strings, linear_string
from theory.homotopy.slicing import random_complex

START_SYSTEMS = ("auto", "total_degree", "multihomogeneous", "polyhedral")
MAX_MV_VARS = 10  # PHCpack's mixed volume of the 12-variable Mehta (2,2,2) critical system runs for minutes
DEFAULT_MAX_PATHS = 20_000  # about 1–3 minutes of PHCpack tracking for small systems on 2 cores


@dataclass(frozen=True)
class StartSystem:
    """A start system with all its solutions known.

    Fields:
        kind: 'total_degree', 'multihomogeneous' or 'polyhedral'.
        lifted: polyhedral only: the start has a constant term in every equation (Li–Wang), so it
            reaches solutions with zero coordinates.
        polys: the start polynomials g in PHCpack syntax.
        points: the start solutions (complex, one row per path).
        count: the number of start solutions (the Bezout or m-Bezout number, or the mixed volume).
        partition: the variable groups (multihomogeneous only).
        degree_matrix: d_ij, the degree of equation i in group j (multihomogeneous only).
    """

    kind: str
    polys: tuple[str, ...]
    points: np.ndarray = field(repr=False, compare=False)
    count: int
    partition: tuple[tuple[str, ...], ...] | None = None
    degree_matrix: tuple[tuple[int, ...], ...] | None = None
    lifted: bool = False


def check_budget(count: int, max_paths: int, what: str, hint: str = "") -> None:
    """Raise PathBudgetExceeded with one line naming the bound, the budget and the way forward."""
    if count > max_paths:
        raise PathBudgetExceeded(
            f"{what} has {count_text(count)} start paths, over the path budget of {max_paths:,}: "
            f"raise --max-paths, {hint + ', ' if hint else ''}use --monodromy, or a smaller network")


def layer_partition(names: Sequence[str]) -> list[list[int]]:
    """Return the variable groups by name prefix letter (a0.. | b0.. | ...): the network's layers."""
    groups: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        groups.setdefault(n.rstrip("0123456789") or n, []).append(i)
    return list(groups.values())


def _roots_of_unity_grid(degrees: Sequence[int]) -> np.ndarray:
    """Return the ∏ d_i points whose i-th coordinate is a d_i-th root of unity (solutions of x_i^{d_i} = 1)."""
    roots = [np.exp(2j * np.pi * np.arange(d) / d) for d in degrees]
    return np.array(list(itertools.product(*roots)), dtype=complex).reshape(bezout_number(degrees), len(degrees))


def total_degree_start(system: System, max_paths: int = DEFAULT_MAX_PATHS) -> StartSystem:
    """Return g_i = x_i^{d_i} − 1 and its ∏ d_i solutions (products of roots of unity)."""
    degrees = system.degrees()
    count = bezout_number(degrees)
    check_budget(count, max_paths, "the total-degree start system (Bezout number)",
                 "try --start multihomogeneous")
    polys = tuple(f"{n}^{d} - 1;" for n, d in zip(system.names, degrees))
    return StartSystem("total_degree", polys, _roots_of_unity_grid(degrees), count)


def projective_total_degree_start(system: System, seed: int, max_paths: int = DEFAULT_MAX_PATHS
                                  ) -> tuple[StartSystem, list[str], np.ndarray]:
    """Return (start system, homogenized target with chart, chart coefficients) in the chart a·(x_0, x) = 1.

    Start g_j = x_j^{d_j} − x_0^{d_j}; both systems share the random affine chart, so paths to
    infinity end at finite points with x_0 = 0 (Sommese–Wampler 2005, §3.7; Bertini's default).
    """
    degrees = system.degrees()
    count = bezout_number(degrees)
    check_budget(count, max_paths, "the total-degree start system (Bezout number)",
                 "try --start multihomogeneous")
    target, _ = homogenize(system)
    a = random_complex(stream(seed, "projective chart"), system.n_vars + 1)
    names = (HOM,) + system.names
    chart = linear_string(a, -1.0, names)
    polys = tuple(f"{n}^{d} - {HOM}^{d};" for n, d in zip(system.names, degrees)) + (chart,)
    X = np.hstack([np.ones((count, 1), dtype=complex), _roots_of_unity_grid(degrees)])
    X = X / (X @ a)[:, None]
    return StartSystem("total_degree", polys, X, count), target + [chart], a


def group_degrees(system: System, groups: Sequence[Sequence[int]], seed: int) -> np.ndarray:
    """Return d_ij, the degree of equation i in the variables of group j, measured numerically.

    Along x_G = s·u (u random, the other variables random) f_i is a polynomial in s of degree
    d_ij; its coefficients come from the discrete Fourier transform of samples on the unit
    circle, and d_ij is the last coefficient above 1e-9 of the largest (generic points).
    """
    rng = stream(seed, "group degrees")
    total = system.degrees()
    M = max(total) + 1
    s = np.exp(2j * np.pi * np.arange(M) / M)
    out = np.zeros((system.n_equations, len(groups)), dtype=int)
    for j, g in enumerate(groups):
        base = random_complex(rng, system.n_vars)
        u = random_complex(rng, len(g))
        samples = []
        for sk in s:
            x = base.copy()
            x[list(g)] = sk * u
            samples.append(system.evaluate(x))
        coeffs = np.fft.fft(np.array(samples), axis=0) / M  # coefficient k of s^k, times M/M
        mags = np.abs(coeffs)
        for i in range(system.n_equations):
            big = np.nonzero(mags[:, i] > 1e-9 * max(mags[:, i].max(), 1e-300))[0]
            out[i, j] = int(big.max()) if len(big) else 0
    return out


def multihomogeneous_start(system: System, groups: Sequence[Sequence[int]], seed: int,
                           max_paths: int = DEFAULT_MAX_PATHS) -> StartSystem:
    """Return the random linear-product start system for the variable groups and its m-Bezout many solutions.

    g_i = ∏_j ∏_{k<d_ij} (a_ijk · x_{G_j} + b_ijk); a solution picks, for each equation i, one
    group j(i) (each group picked |G_j| times) and one factor k, and solves the resulting
    square linear system in each group (Sommese–Wampler 2005, §8.4.2).
    """
    groups = [list(g) for g in groups]
    if sorted(i for g in groups for i in g) != list(range(system.n_vars)):
        raise InvalidSpecError("the variable groups must partition the variables")
    D = group_degrees(system, groups, seed)
    sizes = [len(g) for g in groups]
    count = multihomogeneous_bezout(D, sizes)
    if count is None:
        raise PathBudgetExceeded(
            f"the multihomogeneous start system over {len(groups)} groups has too many exponent states "
            f"(over {MAX_MHOM_STATES:,}) to count its paths: use fewer groups or --start total-degree")
    check_budget(count, max_paths, "the multihomogeneous start system (m-Bezout number)")
    rng = stream(seed, "multihomogeneous start")
    forms = {}  # (i, j, k) -> (a over the group's variables, b)
    polys = []
    for i in range(system.n_equations):
        factors = []
        for j, g in enumerate(groups):
            for k in range(D[i, j]):
                a = random_complex(rng, len(g))
                b = complex(random_complex(rng, 1)[0])
                forms[i, j, k] = (a, b)
                factors.append("(" + linear_string(a, b, [system.names[v] for v in g])[:-1] + ")")
        polys.append("*".join(factors) + ";" if factors else "1;")
    points = []

    def assign(i: int, remaining: list[int], picks: list[tuple[int, int]]) -> None:
        if i == system.n_equations:
            x = np.zeros(system.n_vars, dtype=complex)
            for j, g in enumerate(groups):
                rows = [(forms[e, j, k]) for e, (jj, k) in enumerate(picks) if jj == j]
                A = np.array([a for a, _ in rows])
                b = np.array([bb for _, bb in rows])
                x[g] = np.linalg.solve(A, -b)
            points.append(x)
            return
        for j in range(len(groups)):
            if remaining[j] and D[i, j]:
                remaining[j] -= 1
                for k in range(D[i, j]):
                    assign(i + 1, remaining, picks + [(j, k)])
                remaining[j] += 1

    assign(0, sizes, [])
    names = tuple(tuple(system.names[v] for v in g) for g in groups)
    return StartSystem("multihomogeneous", tuple(polys), np.array(points, dtype=complex).reshape(-1, system.n_vars),
                       count, names, tuple(tuple(int(v) for v in row) for row in D))


def lifted_polys(system: System, seed: int) -> list[str]:
    """Return the polynomials with a random constant added to each one lacking a constant term (f_i(0) = 0)."""
    rng = stream(seed, "constant terms")
    at_zero = system.evaluate(np.zeros(system.n_vars, dtype=complex))
    out = []
    for p, v in zip(system.polys, at_zero):
        body = p.strip().rstrip(";")
        c = complex(random_complex(rng, 1)[0])
        out.append(f"{body};" if abs(v) > 0 else f"({body}) + {complex_literal(c)};")
    return out


def polyhedral_start(system: System, seed: int, max_paths: int = DEFAULT_MAX_PATHS, lifted: bool = True) -> StartSystem:
    """Return PHCpack's random-coefficient start system for the supports of `system` and its mixed-volume many solutions.

    `lifted` (Li–Wang 1996): the supports get the origin first, so every isolated solution in C^n is
    reached; otherwise (Huber–Sturmfels 1995) only those in (C*)^n.
    """
    polys = lifted_polys(system, seed) if lifted else list(system.polys)
    q, pts, mv = phc.polyhedral_start(polys, system.names, seed)
    check_budget(mv, max_paths, "the polyhedral start system (mixed volume)")
    return StartSystem("polyhedral", tuple(q), pts, len(pts), lifted=lifted)


def projectivize(system: System, st: StartSystem, seed: int) -> tuple[StartSystem, list[str]]:
    """Return (start system and points in a random chart a·(x_0, x) = 1 of P^n, target homogenized with the chart).

    Each pair f_i, g_i is homogenized to the same degree D_i = max(deg f_i, deg g_i), so the
    homotopy γ(1 − t)² g^h + t² f^h stays homogeneous; both share the chart.
    """
    d_f = system.degrees()
    d_g = phc.degrees(st.polys, n_vars=system.n_vars)
    D = [max(a, b) for a, b in zip(d_f, d_g)]
    target, _ = homogenize_strings(system.polys, system.names, D)
    start, _ = homogenize_strings(st.polys, system.names, D)
    a = random_complex(stream(seed, "projective chart"), system.n_vars + 1)
    chart = linear_string(a, -1.0, (HOM,) + system.names)
    X = np.hstack([np.ones((len(st.points), 1), dtype=complex), st.points])
    X = X / (X @ a)[:, None]
    return replace(st, polys=tuple(start) + (chart,), points=X), target + [chart]


def path_counts(system: System, seed: int, groups: Sequence[Sequence[int]] | None = None) -> dict[str, int]:
    """Return the number of paths of each start system that is cheap to count (Bezout, m-Bezout, lifted mixed volume)."""
    counts = {"total_degree": bezout_number(system.degrees())}
    groups = layer_partition(system.names) if groups is None else groups
    if len(groups) > 1:
        m = multihomogeneous_bezout(group_degrees(system, groups, seed), [len(g) for g in groups])
        if m is not None:
            counts["multihomogeneous"] = int(m)
    if system.n_vars <= MAX_MV_VARS:
        counts["polyhedral"] = phc.mixed_volume(lifted_polys(system, seed))[0]
    return counts


def start_system(system: System, kind: str, seed: int, max_paths: int = DEFAULT_MAX_PATHS,
                 groups: Sequence[Sequence[int]] | None = None,
                 projective: bool = False) -> tuple[StartSystem, list[str] | None]:
    """Return (the start system of `kind` for `system`, the homogenized target with chart or None).

    'auto' picks the kind with the fewest paths (`path_counts`). The target is not None for
    projective tracking (total-degree starts; polyhedral and multihomogeneous starts are tracked
    in affine coordinates); `groups` default to the network's layers (`layer_partition`).
    """
    if kind not in START_SYSTEMS:
        raise InvalidSpecError(f"start system must be one of {START_SYSTEMS}, got {kind!r}")
    if kind == "auto":
        counts = path_counts(system, seed, groups)
        kind = min(counts, key=lambda k: (counts[k], START_SYSTEMS.index(k)))
    if kind == "total_degree":
        st = total_degree_start(system, max_paths)
    elif kind == "polyhedral":
        st = polyhedral_start(system, seed, max_paths)
    else:
        groups = layer_partition(system.names) if groups is None else groups
        return multihomogeneous_start(system, groups, seed, max_paths), None
    if not projective or kind != "total_degree":
        # measured: cyclic-5's 70 polyhedral paths tracked in a chart end on only 59 distinct
        # solutions (11 paths jump), affine they end on all 70; polyhedral paths stay affine
        return st, None
    return projectivize(system, st, seed)
