"""A thin, quiet, serialised door to PHCpack (phcpy 1.1.x): every phcpy call in the toolkit goes here.

phcpy has quirks that must not leak into the mathematics:

* `import phcpy` and several solvers print to the C-level stdout (file descriptor 1), which
  Python's `contextlib.redirect_stdout` cannot catch; `quiet()` redirects the descriptor itself.
* `phcpy.solver.solve(..., verbose=False)` returns no solutions in this build, so the blackbox
  solver is only ever run with verbose=True inside `quiet()`.
* PHCpack keeps systems, solutions and homotopies in global containers: one lock serialises
  all calls, so two threads never interleave a store and a track.
* The symbol table orders variables by first appearance in the input, not by our order, so
  coordinates are always read back by name (`parse_solution`), never by position.
* The double-double and quad-double trackers silently do nothing with tasks=0 (one task works),
  and report t with a garbage imaginary part: only Re t is read.
* A parse failure makes later calls return None; `store` checks the return code first and
  raises `InvalidSpecError` naming the polynomial.
* Non-ASCII text (a Unicode minus) aborts the process inside Ada, numbers beyond the double range
  are misread, and nested formulas whose expansion is huge keep the string parser busy for
  minutes, deaf to Ctrl-C. `check_polys` refuses all three before phcpy sees the text, and every
  call runs in a worker process (`theory.homotopy.phcpack_worker`), so an abort or Ctrl-C becomes one exception.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from landscape_core.errors import InvalidSpecError, SolverError
from landscape_core.seeds import seed_sequence
from theory.homotopy import phcpack_worker as phc_worker
from theory.homotopy.phcpack_loader import load, quiet, session  # noqa: F401  (re-exported: the door's session)
from theory.polynomials.text_checks import check_polys

PRECISIONS = ("d", "dd", "qd")


def version() -> str:
    """Return the PHCpack version string, e.g. 'PHCv2.4.86 released 2022-05-30'."""
    return phc_worker.call(_version_here)


def _version_here() -> str:
    with session():
        from phcpy.phcpy2c3 import py2c_PHCpack_version_string  # phcpy: heavy optional library, in workers only
        return py2c_PHCpack_version_string().strip()


def set_seed(seed: int) -> None:
    """Fix PHCpack's own random generator in this process (used by its start systems and cascades).

    Only meaningful inside a worker, before the call that draws: functions that need PHCpack's
    generator take the seed and set it there.
    """
    # PHCpack takes a positive C int: a 31-bit state of the named stream 'phcpack' under the user seed
    state = int(seed_sequence(seed, "phcpack").generate_state(1, dtype=np.uint32)[0] >> 1) or 1
    with session():
        from phcpy.phcpy2c3 import py2c_set_seed  # phcpy: heavy optional library, in workers only
        py2c_set_seed(state)


def _terminated(polys: Sequence[str]) -> list[str]:
    out = []
    for p in polys:
        p = p.strip()
        if not p:
            raise InvalidSpecError("empty polynomial in system")
        out.append(p if p.endswith(";") else p + ";")
    return out


def pin_order(polys: Sequence[str], names: Sequence[str]) -> list[str]:
    """Return `polys` with '0*x1 + ... + 0*xn + (...)' around the first one, so PHCpack's symbol table is `names` in order."""
    polys = _terminated(polys)
    if not polys or not names:
        return polys
    lead = " + ".join(f"0*{n}" for n in names)
    return [f"{lead} + ({polys[0][:-1]});"] + polys[1:]


def store(polys: Sequence[str], n_vars: int | None = None) -> list[str]:
    """Store `polys` in PHCpack's standard container and return the symbol table (variable names in PHC order).

    Raises InvalidSpecError naming the first polynomial PHCpack cannot parse (or `check_polys` refuses).
    In the parent process this only checks the parse (in a worker) and returns the symbol table.
    """
    polys = _terminated(polys)
    check_polys(polys, n_vars)
    return phc_worker.call(_store_raw, polys, n_vars)


def _store_raw(polys: Sequence[str], n_vars: int | None = None) -> list[str]:
    """Store unchecked text in this process's container (in a worker only: `store` checks first)."""
    with session():
        # phcpy: heavy optional library, in workers only
        from phcpy.phcpy2c3 import (py2c_syscon_clear_standard_system, py2c_syscon_clear_symbol_table,
                                    py2c_syscon_initialize_number_of_standard_polynomials,
                                    py2c_syscon_store_standard_polynomial, py2c_syscon_string_of_symbols)
        py2c_syscon_clear_standard_system()
        py2c_syscon_clear_symbol_table()
        nvar = len(polys) if n_vars is None else n_vars
        py2c_syscon_initialize_number_of_standard_polynomials(len(polys))
        for k, p in enumerate(polys):
            fail = py2c_syscon_store_standard_polynomial(len(p), nvar, k + 1, p)
            if fail != 0:
                py2c_syscon_clear_standard_system()
                py2c_syscon_clear_symbol_table()
                shown = p if len(p) < 80 else p[:77] + "..."
                raise InvalidSpecError(f"PHCpack cannot parse polynomial {k + 1}: {shown!r}")
        return py2c_syscon_string_of_symbols().split()


def symbols(polys: Sequence[str]) -> list[str]:
    """Return the variables of `polys` in PHCpack's order of first appearance."""
    polys = _terminated(polys)
    check_polys(polys)
    return phc_worker.call(_symbols_here, polys)


def _symbols_here(polys: Sequence[str]) -> list[str]:
    with session():
        from phcpy.solver import names_of_variables  # phcpy: heavy optional library, in workers only
        return list(names_of_variables(_terminated(polys)))


def degrees(polys: Sequence[str], n_vars: int | None = None) -> list[int]:
    """Return the total degree of each polynomial after PHCpack's expansion."""
    check_polys(_terminated(polys), n_vars)
    return phc_worker.call(_degrees_here, polys, n_vars)


def _degrees_here(polys: Sequence[str], n_vars: int | None) -> list[int]:
    store(polys, n_vars)
    with session():
        from phcpy.phcpy2c3 import py2c_syscon_degree_of_standard_polynomial  # phcpy: heavy optional library, in workers only
        return [int(py2c_syscon_degree_of_standard_polynomial(k + 1)) for k in range(len(polys))]


# PHCpack computes mixed volumes through a random lifting drawn from its own generator. Measured over
# 30 seeds each: cyclic-5, katsura-4, x^2 + y^2 - 4 with xy - 1, Griewank–Osborne and x^4 - 1 always
# give the same counts, but the univariate cubic x^3 - 3x + 2 (mixed volume 3) gives 4 under 10 of the
# 30 seeds. So the generator is seeded (the same seed, the same counts), and one polynomial in one
# variable, whose mixed volumes are exact by inspection, never goes to PHCpack.


def mixed_volume(polys: Sequence[str], seed: int = 0) -> tuple[int, int]:
    """Return (mixed volume, stable mixed volume) of a square system: the BKK bounds on (C*)^n and C^n roots.

    For one polynomial in one variable they are max − min exponent and the max exponent (the roots
    in C* and in C); otherwise PHCpack's counts under a seed derived from `seed`.
    """
    polys = _terminated(polys)
    check_polys(polys)
    if len(polys) == 1:
        exponents = _univariate_exponents(polys[0])
        if exponents is not None:
            return max(exponents) - min(exponents), max(exponents)
    mv, smv = phc_worker.call(_mixed_volume_here, polys, seed)
    if mv < 0 or smv < 0:
        raise SolverError(f"PHCpack mixed volume failed (code {min(mv, smv)})")
    return int(mv), int(smv)


def _univariate_exponents(poly: str) -> list[int] | None:
    """Return the exponents of the nonzero terms of a polynomial in one variable (None if it has more or none)."""
    import sympy

    expr = sympy.sympify(poly.strip().rstrip(";").replace("^", "**"), locals={"i": sympy.I, "I": sympy.I})
    free = sorted(expr.free_symbols, key=str)
    if len(free) != 1:
        return None
    return [m[0] for m in sympy.Poly(sympy.expand(expr), free[0]).monoms()]


def _mixed_volume_here(polys: Sequence[str], seed: int) -> tuple[int, int]:
    store(polys)  # parse check with a clear error first
    set_seed(seed)
    with session() as phcpy:
        return phcpy.solver.mixed_volume(polys, stable=True, checkin=False)


def m_homogeneous_start(polys: Sequence[str], partition: str, seed: int) -> tuple[list[str], list[str]]:
    """Return (linear-product start system, its solution strings) for the variable `partition` ('{ a0 a1 }{ b0 }')."""
    polys = _terminated(polys)
    check_polys(polys)
    out = phc_worker.call(_m_homogeneous_start_here, polys, partition, seed)
    if out is None:
        raise SolverError("PHCpack could not build the multihomogeneous start system")
    return list(out[0]), list(out[1])


def _m_homogeneous_start_here(polys: Sequence[str], partition: str, seed: int):
    store(polys)
    set_seed(seed)
    with session() as phcpy:
        return phcpy.solver.m_homogeneous_start_system(polys, partition, checkin=False)


def m_partition_bezout(polys: Sequence[str], partition: str) -> int:
    """Return PHCpack's m-homogeneous Bezout number for `partition` (an independent check of ours)."""
    polys = _terminated(polys)
    check_polys(polys)
    return phc_worker.call(_m_partition_bezout_here, polys, partition)


def _m_partition_bezout_here(polys: Sequence[str], partition: str) -> int:
    store(polys)
    with session() as phcpy:
        return int(phcpy.solver.m_partition_bezout_number(polys, partition))


def make_solution(names: Sequence[str], values: Sequence[complex]) -> str:
    """Return a PHCpack solution string with coordinates `values` for variables `names`."""
    lines = ["t :  0.000000000000000E+00   0.000000000000000E+00", "m : 1", "the solution for t :"]
    for n, v in zip(names, values):
        v = complex(v)
        lines.append(f" {n} : {v.real: .17E}  {v.imag: .17E}")
    lines.append("== err :  0.000E+00 = rco :  1.000E+00 = res :  0.000E+00 =")
    return "\n".join(lines)


_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_COORD = re.compile(rf"^\s*(\S+)\s*:\s*({_NUM})\s+({_NUM})\s*$")
_DIAG = re.compile(rf"err\s*:\s*({_NUM}|NaN|nan|-?inf)\s*=\s*rco\s*:\s*({_NUM}|NaN|nan|-?inf)\s*=\s*res\s*:\s*({_NUM}|NaN|nan|-?inf)")


@dataclass(frozen=True)
class RawEndpoint:
    """One solution string from PHCpack, parsed.

    Fields:
        t: final value of the continuation parameter (1 when the path reached the target).
        m: PHCpack's multiplicity field (0 when its end game gave up).
        err: last Newton correction (forward error estimate).
        rco: estimate of the inverse condition number of the Jacobian.
        res: residual at the endpoint (backward error), as PHCpack measured it.
        x: coordinates ordered as the caller's variable list (NaN where PHCpack gave none).
    """

    t: complex
    m: int
    err: float
    rco: float
    res: float
    x: np.ndarray


def parse_solution(text: str, names: Sequence[str]) -> RawEndpoint:
    """Return the parsed solution string, coordinates taken by variable name in the order of `names`."""
    head, _, body = text.partition("the solution for t :")
    t_match = re.search(rf"t\s*:\s*({_NUM})\s+({_NUM})", head)
    m_match = re.search(r"m\s*:\s*(-?\d+)", head)
    values = {}
    for line in body.split("==")[0].splitlines():
        mm = _COORD.match(line)
        if mm:
            values[mm.group(1)] = complex(float(mm.group(2)), float(mm.group(3)))
    diag = _DIAG.search(text)
    x = np.array([values.get(n, complex("nan")) for n in names], dtype=complex)
    t = complex(float(t_match.group(1)), float(t_match.group(2))) if t_match else complex("nan")
    err, rco, res = (float(v) for v in diag.groups()) if diag else (np.nan, np.nan, np.nan)
    return RawEndpoint(t=t, m=int(m_match.group(1)) if m_match else 0, err=err, rco=rco, res=res, x=x)


def track(target: Sequence[str], start: Sequence[str], start_points: Sequence[Sequence[complex]],
          names: Sequence[str], gamma: complex, precision: str = "d", tasks: int = 0) -> list[RawEndpoint]:
    """Return one endpoint per start point of H(x,t) = γ(1−t)² g(x) + t² f(x), tracked from t=0 to t=1.

    PHCpack's artificial-parameter homotopy (the gamma trick; Morgan 1987, Sommese–Wampler 2005
    §8.4); `names` fixes the coordinate order of start points and endpoints. The returned list
    always has len(start_points) entries: a path PHCpack does not report back is returned with
    NaN coordinates and t = 0 so that it is counted as failed, never dropped.
    """
    if precision not in PRECISIONS:
        raise InvalidSpecError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    target, start = pin_order(target, names), pin_order(start, names)
    check_polys(target, len(names))
    check_polys(start, len(names))
    return phc_worker.call(_track_here, target, start, np.asarray(start_points, dtype=complex), tuple(names),
                           complex(gamma), precision, tasks)


def track_batches(target: Sequence[str], start: Sequence[str], batches: Sequence[np.ndarray], names: Sequence[str],
                  gamma: complex, precision: str = "d", workers: int | None = None,
                  on_done: Callable[[int, list[RawEndpoint]], None] | None = None) -> list[list[RawEndpoint]]:
    """Return `track` of each batch of start points, the batches spread over `workers` processes, in batch order.

    All batches are queued at once; each worker takes the next as it finishes one, and
    `on_done(k, endpoints)` is called as batch k finishes. Each worker stores the systems and
    tracks its batch independently (PHCpack's state is per process), so the endpoints are the
    same as with one worker.
    """
    if precision not in PRECISIONS:
        raise InvalidSpecError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    target, start = pin_order(target, names), pin_order(start, names)
    check_polys(target, len(names))
    check_polys(start, len(names))
    tasks = [(target, start, np.asarray(b, dtype=complex), tuple(names), complex(gamma), precision, 0)
             for b in batches]
    return phc_worker.map_tasks(_track_here, tasks, workers, on_done)


def _track_here(target: Sequence[str], start: Sequence[str], start_points, names: Sequence[str],
                gamma: complex, precision: str, tasks: int) -> list[RawEndpoint]:
    symbols_target = store(target, n_vars=len(names))
    if set(symbols_target) - set(names):
        raise InvalidSpecError(f"system uses variables {sorted(set(symbols_target) - set(names))} not in {list(names)}")
    sols = [make_solution(names, p) for p in start_points]
    if not sols:
        return []
    with session() as phcpy:
        # In this build the double-double and quad-double trackers return the start solutions
        # untouched when tasks == 0; one task runs them.
        n_tasks = tasks if precision == "d" else max(tasks, 1)
        raw = phcpy.trackers.track(target, start, sols, precision=precision, gamma=complex(gamma), tasks=n_tasks)
    raw = raw or []
    out = [parse_solution(s, names) for s in raw]
    nan = np.full(len(names), complex("nan"))
    while len(out) < len(sols):
        out.append(RawEndpoint(t=0j, m=0, err=np.nan, rco=np.nan, res=np.nan, x=nan.copy()))
    return out


def blackbox_solve(polys: Sequence[str], tasks: int = 0) -> list[str]:
    """Return the solution strings of PHCpack's blackbox solver (run verbose, output discarded)."""
    polys = _terminated(polys)
    check_polys(polys)
    sols = phc_worker.call(_blackbox_here, polys, tasks)
    if sols is None:
        raise SolverError("PHCpack's blackbox solver returned nothing")
    return list(sols)


def _blackbox_here(polys: Sequence[str], tasks: int):
    store(polys)
    with session() as phcpy:
        return phcpy.solver.solve(polys, verbose=True, tasks=tasks, checkin=False)


def decompose(polys: Sequence[str], n_vars: int, top_dim: int, seed: int, loops: int = 20,
              tasks: int = 0) -> dict[int, tuple[list[str], list[str], list | None]]:
    """Return PHCpack's numerical irreducible decomposition: dim → (embedded system, witness points, factors).

    Cascade of homotopies (Sommese–Verschelde 2000) with filtering, then monodromy
    factorisation with the linear trace test (Sommese–Verschelde–Wampler 2002).
    """
    polys = _terminated(polys)
    check_polys(polys, n_vars)
    deco = phc_worker.call(_decompose_here, polys, n_vars, top_dim, seed, loops, tasks)
    out = {}
    for dim, entry in deco.items():
        out[int(dim)] = (list(entry[0]), list(entry[1]), list(entry[2]) if len(entry) > 2 else None)
    return out


def _decompose_here(polys, n_vars: int, top_dim: int, seed: int, loops: int, tasks: int):
    store(polys, n_vars=n_vars)
    set_seed(seed)
    with session() as phcpy:
        return phcpy.factor.solve(n_vars, top_dim, polys, verbose=True, nbloops=loops, tasks=tasks)


def polyhedral_start(polys: Sequence[str], names: Sequence[str], seed: int) -> tuple[list[str], np.ndarray, int]:
    """Return (random-coefficient start system, its solutions by name, mixed volume) by polyhedral homotopy.

    Huber–Sturmfels 1995: the start system has the supports of `polys` and random coefficients,
    and exactly mixed-volume many solutions, all in (C*)^n. To reach solutions with zero
    coordinates, give `polys` a constant term each first (`start_systems.lifted_polys`, Li–Wang 1996).
    """
    pinned = pin_order(polys, names)
    check_polys(pinned, len(names))
    q, qsols, mv = phc_worker.call(_polyhedral_start_here, pinned, len(names), seed)
    points = np.array([parse_solution(x, names).x for x in qsols], dtype=complex).reshape(len(qsols), len(names))
    return [p if p.strip().endswith(";") else p + ";" for p in q], points, int(mv)


def _polyhedral_start_here(pinned: Sequence[str], n_vars: int, seed: int):
    store(pinned, n_vars=n_vars)
    set_seed(seed)
    with session() as phcpy:
        mv = phcpy.solver.mixed_volume(pinned, stable=False, checkin=False)
        if mv < 0:
            raise SolverError(f"PHCpack mixed volume failed (code {mv})")
        q, qsols = phcpy.solver.random_coefficient_system(verbose=False)
    return list(q), list(qsols), int(mv)


def expand(polys: Sequence[str], names: Sequence[str]) -> list[str]:
    """Return the polynomials as PHCpack expands them (terms with float or complex coefficients)."""
    pinned = pin_order(polys, names)
    check_polys(pinned, len(names))
    return phc_worker.call(_expand_here, pinned, len(names))


def _expand_here(pinned: Sequence[str], n_vars: int) -> list[str]:
    store(pinned, n_vars=n_vars)
    with session():
        from phcpy.interface import load_standard_system  # phcpy: heavy optional library, in workers only
        return list(load_standard_system())
