"""A second engine for square systems: Bertini 2 (`pip install bertini2`), as a cross-check of PHCpack.

Bertini (Bates, Hauenstein, Sommese, Wampler, *Numerically Solving Polynomial Systems with
Bertini*, SIAM 2013) is the engine Mehta, Chen, Tang and Hauenstein (arXiv:1810.07716) counted
deep-linear critical points with. Its Python package `bertini2` runs a total-degree homotopy with
a power-series endgame; `mptype='adaptive'` (adaptive precision, Bates–Hauenstein–Sommese–Wampler
2008) is the default here because in double precision it loses paths that adaptive precision
keeps (x² + y² = 3/2, xy = i/4: 3 of 4 roots in double at seed 1, 4 of 4 adaptive).

The engine is optional: `available()` says whether it is installed, and `solve_bertini` raises
`SolverError` with the install line when it is not. The result is the toolkit's `SolveResult`
(every path accounted for, BKK completeness from PHCpack's mixed volume, Krawczyk certificates),
so the two engines are compared like with like.
"""
from __future__ import annotations

import re
import tempfile
import time
from dataclasses import replace

import numpy as np

from landscape_core.errors import InvalidSpecError, SolverError
from theory.bounds.bezout import bezout_number
from theory.homotopy.path_result import PathOutcome, cluster, is_real
from theory.polynomials.system import System
from theory.homotopy.start_systems import MAX_MV_VARS
from theory.homotopy.tracker import TrackConfig

INSTALL_HINT = "install the optional Bertini 2 engine: .venv/bin/pip install bertini2 (or pip install '.[bertini]')"
MPTYPES = ("adaptive", "double", "multiple")
_NUMBER = re.compile(r"(?<![A-Za-z_0-9])(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)")
_IMAG = re.compile(r"(?<![A-Za-z_0-9])i(?![A-Za-z_0-9])")


def available() -> bool:
    """Return whether the `bertini` module of the bertini2 package imports."""
    try:
        import bertini  # noqa: F401
    except ImportError:
        return False
    return True


def _positional(match: re.Match) -> str:
    # Bertini's parser rejects exponents such as e+00: write the shortest exact positional decimal
    return np.format_float_positional(float(match.group(1)), unique=True, trim="-")


def bertini_input(system: System) -> str:
    """Return the system in Bertini's input syntax (one variable group, functions f0..f{n−1}).

    PHCpack's `i` becomes Bertini's `I`; float literals are written positionally (the shortest
    decimal that reads back to the same double), because Bertini rejects `e+00` exponents.
    """
    if "I" in system.names:
        raise InvalidSpecError("'I' is Bertini's imaginary unit and cannot name a variable")
    lines = [f"variable_group {', '.join(system.names)};",
             f"function {', '.join(f'f{k}' for k in range(len(system.polys)))};"]
    for k, poly in enumerate(system.polys):
        body = poly.strip().rstrip(";").replace("**", "^")
        body = _IMAG.sub("I", _NUMBER.sub(_positional, body))
        lines.append(f"f{k} = {body};")
    return "\n".join(lines) + "\n"


def _code_name(code) -> str:
    return str(code).rsplit(".", 1)[-1]


# Bertini's end codes for paths whose norm grows past its security bound: they diverge to infinity
DIVERGED = ("SecurityMaxNormReached", "GoingToInfinity")


def _outcome(meta, x: np.ndarray) -> PathOutcome:
    """Return the toolkit's path outcome (regular, singular, at_infinity, failed) of one Bertini endpoint."""
    code = _code_name(meta.endgame_success_code)
    if code in DIVERGED or (code == "Success" and not meta.is_finite):
        return PathOutcome.AT_INFINITY
    if code != "Success" or not np.all(np.isfinite(x)):
        return PathOutcome.FAILED
    return PathOutcome.SINGULAR if meta.is_singular else PathOutcome.REGULAR


def solve_bertini(system: System, seed: int = 0, mptype: str = "adaptive", certify: bool = True,
                  mixed_volume: bool | None = None):
    """Return the `theory.homotopy.solve.SolveResult` of Bertini 2's total-degree homotopy on a square system.

    Outcomes per path from Bertini's endgame metadata (success, finite, singular); the distinct
    regular endpoints are clustered with the toolkit's tolerance, judged real by its rule, certified
    by Krawczyk (`theory.counting.certify`), and the BKK bound (PHCpack's stable mixed volume) decides
    completeness exactly as for PHCpack's solve. `seed` fixes Bertini's γ, start points and patch.
    """
    from theory.homotopy import phcpack as phc
    from theory.homotopy.solve import SolveResult, certify_solutions

    if not system.is_square:
        raise InvalidSpecError(f"solve needs a square system: {system.n_equations} equations in {system.n_vars} variables")
    if mptype not in MPTYPES:
        raise InvalidSpecError(f"unknown Bertini precision {mptype!r}: choose one of {', '.join(MPTYPES)}")
    try:
        import bertini
    except ImportError:
        raise SolverError(f"Bertini 2 is not installed: {INSTALL_HINT}") from None
    t0 = time.perf_counter()
    try:
        target = bertini.parse.system(bertini_input(system))
    except Exception as exc:  # noqa: BLE001 - the parser raises its own RuntimeError types
        raise SolverError(f"Bertini could not parse the system: {exc}") from None
    with tempfile.TemporaryDirectory() as records:
        run = bertini.solve(target, seed=int(seed) % 2**31, mptype=mptype, show_progress=False, directory=records)
        solver = run.solver
        points = [np.asarray(x, dtype=complex) for x in solver.all_solutions()]
        metas = list(solver.solution_metadata())
    outcomes = {"regular": 0, "singular": 0, "at_infinity": 0, "failed": 0}
    regular = []
    for x, meta in zip(points, metas):
        kind = _outcome(meta, x)
        outcomes[kind.value] += 1
        if kind == "regular":
            regular.append(x)
    opts = TrackConfig(seed=seed)
    groups = cluster(regular, opts.same_tol) if regular else []
    sols = tuple(tuple(complex(v) for v in regular[g[0]]) for g in groups)
    real = tuple(bool(is_real(np.array(s), opts.real_tol)) for s in sols)
    degrees = system.degrees()
    mv = smv = None
    if mixed_volume if mixed_volume is not None else system.n_vars <= MAX_MV_VARS:
        mv, smv = phc.mixed_volume(system.polys)
    seconds = time.perf_counter() - t0
    result = SolveResult(system.label, system.n_vars, f"bertini2 total degree ({mptype})", None, tuple(degrees),
                         bezout_number(degrees), None, mv, smv, len(points), outcomes, 0, sols, real, len(sols),
                         sum(real), len(regular) - len(sols), (), (float("nan"), float("nan")), seed, opts, (),
                         False, seconds, len(points) / max(seconds, 1e-9), tuple(system.names), engine="bertini2")
    if certify and result.n_solutions:
        result = certify_solutions(system, result)
    return replace(result, seconds=time.perf_counter() - t0)
