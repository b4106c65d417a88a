"""`cli.py solve | dimension | critical`: homotopy continuation counts, zero-error dimension and degree, critical points."""
from __future__ import annotations

import argparse
import sys

from landscape_toolkit.commands._network import DATA_DESTS, NETWORK_DESTS, add_network_args, spec_from_args
from landscape_toolkit.commands._parser import refuse_unless
from landscape_toolkit.commands._render import (add_json_flag, add_run_flags, add_progress_flag, add_size_flag, big, check_out,
                                                check_size, comma_list,
                                                key_values, nonnegative_int, positive_float, positive_int, print_json,
                                                progress_bar, save_result, table)

SMALL = dict(layers=2, degree=2, points=3, width=2, input_dim=1)
SOLUTION_FORMATS = ("json", "phc", "bertini")  # theory.polynomials.files.SOLUTION_FORMATS (kept import-free, tested)
FORMATS = ("phc", "m2", "bertini")  # theory.polynomials.files.FORMATS
SOLVE_EXAMPLES = """examples:
  cli.py solve examples/cyclic5.phc                     # 70 paths (polyhedral start), 70 solutions, 10 real
  cli.py solve examples/cyclic5.phc --start total-degree # 120 paths: 70 solutions, 50 at infinity
  cli.py solve system.m2 --export-solutions bertini -o finite_solutions
  cli.py solve examples/systems/svw.phc                 # a surface, curves of degree 6, one isolated point
  cli.py solve --width 1 --points 4 --targets planted   # a network's square zero-error system
  cli.py solve --activation 'z + z^2/4 + z^3/8' --input-dim 2 --width 2 --no-output-activation --points 9 \\
               --targets planted --monodromy
"""
DIMENSION_EXAMPLES = """examples:
  cli.py dimension                                      # fc 1-2-1, 2 random points: dimension 5, degree 36
  cli.py dimension --activation 'z + z^2/4' --no-output-activation --width 2 --input-dim 1 --points 3 \\
                   --targets planted --monodromy        # with the trace test from the planted weights
  cli.py dimension --activation 'z^2' --width 2 --points 2 --decompose --groebner
"""
CRITICAL_EXAMPLES = """examples:
  cli.py critical                                       # fc 1-1-1, degree-2 ReLU approximation, generic penalty
  cli.py critical --penalty none --no-bias               # the paper's loss: positive-dimensional critical sets
  cli.py critical --activation linear --layers 2 --input-dim 2 --width 2 --output-dim 2 --no-bias \\
                  --no-output-activation --points 1 --penalty generic --monodromy   # Mehta et al.'s 33
  cli.py critical --activation 'z^2 + z' --no-bias --points 2 --groebner
"""
CONVERT_EXAMPLES = """examples:
  cli.py convert examples/cyclic5.phc --to m2 -o cyclic5.m2
  cli.py convert cyclic5.m2 --to bertini -o input
  cli.py convert input --to phc
"""


def _tracking_args(p: argparse.ArgumentParser, start: str = "auto") -> None:
    g = p.add_argument_group("homotopy")
    g.add_argument("--start", choices=("auto", "total-degree", "multihomogeneous", "polyhedral"), default=start,
                   help="start system: auto (the fewest paths of the others; for critical points with a generic "
                        "penalty on networks with dead-unit strata, per-stratum monodromy), total degree (Bezout "
                        "many paths), layer-wise multihomogeneous, or polyhedral (Li-Wang lifted: stable mixed "
                        "volume many paths, every isolated solution in C^n)")
    g.add_argument("--max-paths", type=positive_int, default=20_000,
                   help="refuse homotopies with more start paths than this (a few minutes on 2 cores)")
    g.add_argument("--projective", action="store_true",
                   help="track total-degree paths in a random projective chart (paths at infinity converge)")
    g.add_argument("--workers", type=positive_int, default=None,
                   help="worker processes tracking path batches in parallel (default: one per core)")
    g.add_argument("--show", type=nonnegative_int, default=10, metavar="N",
                   help="rows of solutions/points shown in the table (0: none)")
    add_progress_flag(p)
    add_size_flag(p)


def _options(args: argparse.Namespace):
    from theory.homotopy.tracker import TrackOptions
    return TrackOptions(seed=args.seed, max_paths=args.max_paths, projective=args.projective, workers=args.workers)


def _guard_needs(spec, critical: bool = False) -> list:
    """Return the memory the expansion guard of the network's zero-error (or critical) system needs (theory.bounds.degrees)."""
    from theory.bounds.degrees import critical_guard_needs, zero_error_guard_needs

    return critical_guard_needs(spec) if critical else zero_error_guard_needs(spec)


def _start(args: argparse.Namespace) -> str:
    return args.start.replace("-", "_")


def _data(spec, args: argparse.Namespace):
    """Return (data, planted w* or None) from --data / --targets / --points / --seed."""
    from theory.network.data import planted_data

    if args.data is None and args.targets == "planted":
        return planted_data(spec, args.points, args.seed)
    from landscape_toolkit.commands._network import data_from_args
    return data_from_args(spec, args), None


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `solve`, `dimension` and `critical` subcommands."""
    p = sub.add_parser(
        "solve", help="every solution of a polynomial system (a file or a network) by homotopy continuation",
        description="Track every path of a homotopy (polyhedral, total-degree or multihomogeneous start, random "
                    "gamma, failed paths retried in double-double) and report every solution class: regular "
                    "solutions (real or complex, Krawczyk-certified), isolated singular ones with their "
                    "multiplicity, positive-dimensional components with their dimension (a local dimension "
                    "test) and degree (a witness set), paths at infinity and failed paths, beside the Bezout "
                    "numbers and the mixed volume, with a completeness line. Input: a system FILE in "
                    "PHCpack, Macaulay2 or Bertini format (square or not: an under-determined system is cut "
                    "to a witness set, an over-determined one randomized), or a network whose zero-error "
                    "system is square (N·n_d = K).",
        epilog=SOLVE_EXAMPLES)
    p.add_argument("file", nargs="?", default=None,
                   help="system file: PHCpack ('n' or 'n m' line, polynomials ending in ';', a 'THE SOLUTIONS' "
                        "section allowed), Macaulay2 (R = QQ[x,y]; I = ideal(...)) or Bertini input")
    p.add_argument("--variables", type=comma_list(str), default=None, metavar="X,Y,...",
                   help="FILE: the variables' order in the table and the exports (default: as the file declares "
                        "them, else sorted)")
    p.add_argument("--export-solutions", choices=SOLUTION_FORMATS, default=None,
                   help="also write the solutions: json (every class, with the positive-dimensional parts), phc "
                        "(PHCpack's solution list) or bertini (finite_solutions layout)")
    p.add_argument("--output", "-o", default=None, metavar="FILE",
                   help="file for --export-solutions (default: stdout, after the report)")
    add_network_args(p, **{**SMALL, "width": 1, "points": 4})
    _tracking_args(p)
    p.add_argument("--monodromy", action="store_true",
                   help="network only: monodromy loops over the targets from planted weights (no path budget)")
    p.add_argument("--loops-without-news", type=positive_int, default=5,
                   help="monodromy stops after this many consecutive loops find nothing new")
    p.add_argument("--max-seconds", type=positive_float, default=300.0, help="monodromy time limit in seconds")
    p.add_argument("--paths", action="store_true", help="with --json: include every path's record")
    p.add_argument("--check-gamma", action="store_true",
                   help="solve again with another gamma (seed + 1) and compare the solution sets")
    p.add_argument("--engine", choices=("phcpack", "bertini"), default="phcpack",
                   help="path tracker for a square system: PHCpack (default), or Bertini 2's total-degree homotopy "
                        "in adaptive precision (optional: pip install bertini2); same report, BKK bound and certificates")
    add_run_flags(p, optional=True)
    add_json_flag(p)
    p.set_defaults(handler=run_solve)

    v = sub.add_parser(
        "convert", help="rewrite a polynomial system file for another solver: PHCpack ↔ Macaulay2 ↔ Bertini",
        description="Read a system in PHCpack, Macaulay2 or Bertini format (detected from the extension .phc, "
                    ".m2, .bertini or the content) and write it in another: PHCpack input (its own first "
                    "line, the variables pinned in order), a Macaulay2 ring and ideal, or a Bertini input "
                    "file (exact rational coefficients where the file had decimals).",
        epilog=CONVERT_EXAMPLES)
    v.add_argument("file", help="system file (PHCpack, Macaulay2 or Bertini)")
    v.add_argument("--to", choices=FORMATS, required=True, help="the format written")
    v.add_argument("--variables", type=comma_list(str), default=None, metavar="X,Y,...",
                   help="the variables' order (default: as the file declares them, else sorted)")
    v.add_argument("--output", "-o", default=None, metavar="FILE", help="file to write (default: stdout)")
    v.set_defaults(handler=run_convert)

    d = sub.add_parser(
        "dimension", help="dimension and degree of the zero-error set by witness sets (Theory II §3.2)",
        description="Slice the zero-error set with K − r random hyperplanes (r the generic Jacobian rank), "
                    "solve by homotopy, and report its dimension (confirmed by the Jacobian rank at every "
                    "witness point) and degree (number of witness points) beside the Bezout, "
                    "multihomogeneous Bezout and mixed-volume bounds. Optional: monodromy with the trace "
                    "test, PHCpack's numerical irreducible decomposition, and a Groebner consistency check. "
                    "The default instance (fc 1-2-1, degree-2 ReLU approximation, 2 random points: 36 paths, "
                    "degree 36, trace test passed) finishes in seconds; 3 points track 200 paths and retry "
                    "failed ones, about a minute.",
        epilog=DIMENSION_EXAMPLES)
    add_network_args(d, **{**SMALL, "points": 2})
    # measured: on the 1-2-1 z + z²/4 witness system the polyhedral start reaches 8 of the 17
    # witness points that total degree finds (trace-test certified), so auto is not dimension's default
    _tracking_args(d, start="total-degree")
    d.add_argument("--monodromy", action="store_true",
                   help="also run witness monodromy from the planted weights (needs --targets planted) + trace test")
    d.add_argument("--loops-without-news", type=positive_int, default=10,
                   help="monodromy stops after this many consecutive loops find nothing new")
    d.add_argument("--decompose", action="store_true", help="also run PHCpack's cascade + factor (small systems)")
    d.add_argument("--groebner", action="store_true", help="also decide consistency exactly (sympy; tiny systems)")
    add_run_flags(d, optional=True)
    add_json_flag(d)
    d.set_defaults(handler=run_dimension)

    c = sub.add_parser(
        "critical", help="critical points of the square loss, classified (Theory II §3.3)",
        description="Solve ∇L = 0 for L = Σ (f(x_i) − y_i)² (+ Σ λ_j w_j²) by homotopy, classify every "
                    "critical point (real/complex, zero-error or not, Hessian signature and nullity), "
                    "represent positive-dimensional critical sets, and test Corollary 1 / Proposition 1.",
        epilog=CRITICAL_EXAMPLES)
    add_network_args(c, **{**SMALL, "width": 1, "points": 2})
    _tracking_args(c)
    # measured: with the paper's loss the default network's critical sets are positive-dimensional and its
    # total-degree start has 11,979 paths (over 5 minutes on 2 cores); a generic penalty isolates the
    # critical points, and its polyhedral start (777 paths) takes about a minute
    c.add_argument("--penalty", choices=("none", "generic"), default="generic",
                   help="L2 penalty: generic random λ_j > 0, which isolates the critical points (a laptop-sized "
                        "default), or none: the paper's loss, whose critical sets are positive-dimensional "
                        "(11,979 total-degree paths for the default network)")
    c.add_argument("--monodromy", action="store_true",
                   help="monodromy over (targets, penalty) on each coordinate stratum (dead hidden units, W = 0) from "
                        "weights made critical by construction, closed under sign flips, then one parameter homotopy "
                        "to the data and a generic penalty; per-component counts, proved complete against "
                        "Macaulay2's exact counts when M2 is installed, Krawczyk-certified")
    c.add_argument("--groebner", action="store_true",
                   help="also count the complex critical points exactly, with multiplicity (Gröbner bases modulo two "
                        "large primes, sympy; tiny systems), to check the homotopy count")
    c.add_argument("--loops-without-news", type=positive_int, default=5,
                   help="monodromy stops after this many consecutive loops find nothing new")
    add_run_flags(c, optional=True)
    add_json_flag(c)
    c.set_defaults(handler=run_critical)


# ----------------------------------------------------------------------------------------------
# solve


def run_solve(args: argparse.Namespace) -> int:
    """Solve a system from a file or a network and print the result."""
    from theory.homotopy.solve import solve_system, solve_zero_error

    refuse_unless(args, ["paths"], args.json, "with --json")
    refuse_unless(args, ["output"], args.export_solutions is not None, "with --export-solutions")
    refuse_unless(args, ["loops_without_news", "max_seconds"], args.monodromy, "with --monodromy")
    if args.file is not None:
        refuse_unless(args, [*NETWORK_DESTS, *DATA_DESTS[:3], "monodromy"], False,
                      "to a network's system (solve FILE solves the file's system; drop FILE to solve a network)")
    else:
        refuse_unless(args, ["variables"], False, "with a system FILE")
    if args.monodromy:
        refuse_unless(args, ["start", "max_paths", "projective", "check_gamma", "export_solutions"], False,
                      "to a homotopy from a start system, not to --monodromy")
    check_out(args)
    if args.output:
        _check_output(args.output)
    gamma_seed = args.seed + 1 if args.check_gamma else None
    if args.engine == "bertini":
        return _solve_bertini(args)
    if args.file is not None:
        from theory.polynomials.files import load_system
        loaded = load_system(args.file, args.variables)
        with progress_bar(args, "paths") as progress:
            result = solve_system(loaded.system, start=_start(args), options=_options(args), progress=progress,
                                  gamma_seed=gamma_seed)
        _save(args, result)
        _print_solve(result, args, loaded)
        return 0
    spec = spec_from_args(args)
    check_size(args, _guard_needs(spec))
    if args.monodromy:
        from theory.counting.families import square_monodromy
        with progress_bar(args, "monodromy loops") as progress:
            result = square_monodromy(spec, seed=args.seed, stop_after=args.loops_without_news,
                                      max_seconds=args.max_seconds, options=_options(args), progress=progress)
        _save(args, result)
        if args.json:
            print_json(result)
        else:
            print(key_values([("network", spec.describe()), ("weights K = points N", spec.n_params),
                              ("solutions found", result.n_solutions), ("real", result.n_real),
                              ("loops", f"{result.loops} (known after each: {', '.join(map(str, result.history))})"),
                              ("paths tracked", result.paths_tracked), ("failed paths", result.failed_paths),
                              ("completeness", result.completeness), ("seed", result.seed),
                              ("time", f"{result.seconds:.1f} s")]))
        return 0
    data, w_star = _data(spec, args)
    with progress_bar(args, "paths") as progress:
        result = solve_zero_error(spec, data, known=w_star, start=_start(args), options=_options(args),
                                  progress=progress, gamma_seed=gamma_seed)
    _save(args, result)
    _print_solve(result, args)
    if result.known_found is not None and not args.json:
        print(f"\nplanted solution w* among the solutions: "
              f"{'yes' if result.known_found else 'NO (a path was lost or w* is singular)'}")
    return 0


def _solve_bertini(args: argparse.Namespace) -> int:
    """Solve the square system (a FILE, or a network's square zero-error system) with Bertini 2 and print it."""
    from landscape_core.errors import InvalidSpecError
    from theory.homotopy.bertini import solve_bertini

    if args.monodromy or args.check_gamma or args.start != "auto":
        raise InvalidSpecError("--engine bertini runs Bertini's own total-degree homotopy: "
                               "drop --monodromy, --check-gamma and --start")
    loaded = None
    if args.file is not None:
        from theory.polynomials.files import load_system
        loaded = load_system(args.file, args.variables)
        system = loaded.system
    else:
        from theory.polynomials.system import network_system
        from theory.network.equations import ZeroErrorSystem
        spec = spec_from_args(args)
        data, _ = _data(spec, args)
        if data.n_points * spec.output_dim != spec.n_params:
            raise InvalidSpecError(f"solve needs a square zero-error system: {spec.describe()} has K = "
                                   f"{spec.n_params} weights, so use --points {spec.n_params // spec.output_dim}")
        system = network_system(ZeroErrorSystem(spec, data))
    result = solve_bertini(system, seed=args.seed)
    _save(args, result)
    _print_solve(result, args, loaded)
    return 0


def _check_output(path: str) -> None:
    """Refuse an output file that cannot be written or would replace a run folder's own file, before any work."""
    from landscape_core.records import check_writable_target
    from landscape_core.runs import check_output_file

    check_output_file(path)
    check_writable_target(path)


def _save(args: argparse.Namespace, result) -> None:
    """Save the result as the run folder --out ROOT --run NAME (if --run is given), saying where on stderr."""
    saved = save_result(args, result)
    if saved:
        print(f"saved: {saved}", file=sys.stderr)


def solution_rows(result, show: int | None = None) -> tuple[list[list], str]:
    """Return one table row per solution class and a note on the rows left out.

    Regular solutions and isolated singular ones (with their multiplicity) get a row each, the first
    `show` of each kind; every positive-dimensional part (dimension, degree, a sample point) and the
    paths at infinity and the failed ones (as counts: they end at no point of C^n) always have theirs.
    """
    n = result.n_vars
    witness = "witness point" if result.witness_dimension else "regular"
    regular = [[witness, "real" if r else "complex", 1] + [_c(z, r) for z in x]
               for x, r in zip(result.solutions, result.real)]
    singular = [["singular", "real" if r else "complex", f"mult {m}"] + [_c(z, r) for z in x]
                for x, m, r in zip(result.singular_points, result.multiplicities, result.singular_real)]
    rows = regular[:show] + singular[:show]
    rows += [[f"dim {c.dimension}, degree {'?' if c.degree is None else c.degree}", "sample point",
              f"{c.endpoints} paths"] + [_c(z) for z in c.sample] + [""] * (n - len(c.sample))
             for c in result.components]
    if result.outcomes["at_infinity"]:
        rows.append(["at infinity", "—", f"{result.outcomes['at_infinity']} paths"] + ["—"] * n)
    if result.outcomes["failed"]:
        rows.append(["failed", "—", f"{result.outcomes['failed']} paths"] + ["—"] * n)
    left = [f"{len(kind) - show} more {name}" for kind, name in ((regular, witness), (singular, "singular"))
            if show is not None and len(kind) > show]
    return rows, (f"... {', '.join(left)} (--show, --json)" if left else "")


def _print_solve(result, args: argparse.Namespace, loaded=None) -> None:
    export = None
    if args.export_solutions:
        from theory.polynomials.files import solutions_text

        export = solutions_text(result, args.export_solutions)
        if args.output:
            from landscape_core.records import atomic_write_text

            atomic_write_text(args.output, export)
            export = None
    listed = None
    if loaded is not None and loaded.listed:
        found = sum(result.contains(x) or _among(result.singular_points, x) for x in loaded.listed)
        listed = f"{len(loaded.listed)} listed in the file, {found} of them found here"
    if args.json:
        doc = result.to_dict(with_paths=args.paths)
        if listed:
            doc["listed_solutions"] = listed
        if export is not None:
            doc["export"] = {"format": args.export_solutions, "text": export}
        print_json(doc)
        return
    check = result.gamma_check
    o = result.outcomes
    rows = [("system", result.label)]
    if result.what and result.what != "the square system itself":
        rows.append(("solved", result.what))
    rows += [("variables", f"{result.n_vars}: {', '.join(result.names)}"
                           + ("" if loaded is None else f" ({loaded.declared} order)")),
             ("degrees", " ".join(map(str, result.degrees))),
             ("Bezout number", big(result.bezout)),
             ("m-homogeneous Bezout", "—" if result.m_bezout is None else big(result.m_bezout)),
             ("mixed volume (C*^n / C^n)", f"{result.mixed_volume} / {result.stable_mixed_volume}"),
             ("start system", result.start_system + (f" {result.partition}" if result.partition else "")),
             ("paths", f"{result.n_paths}: {o['regular']} regular, {o['singular']} singular, "
                       f"{o['at_infinity']} at infinity, {o['failed']} failed ({result.n_retried} retried in dd)")]
    if result.witness_dimension:
        rows.append(("witness points", f"{result.n_solutions} regular, {result.n_real} real"))
    else:
        rows.append(("isolated solutions", f"{result.n_solutions} regular, {result.n_real} real "
                                           f"(|Im| ≤ {result.options.real_tol:g}·(1+|x|))"
                     + (f"; {len(result.multiplicities)} singular" if result.multiplicities else "")))
    rows.append(("positive-dimensional", "; ".join(
        f"dimension {c.dimension}: degree {'not measured' if c.degree is None else c.degree}"
        + (f" ({c.degree_note})" if c.degree_note else "") for c in result.components) or "none found"))
    if listed:
        rows.append(("file's solutions", listed))
    rows += [("completeness", result.completeness),
             ("certified (Krawczyk)", result.certified),
             ("gamma, seed", (f"{result.gamma[0]:+.6f}{result.gamma[1]:+.6f}i" if result.engine == "phcpack"
                              else f"{result.engine}'s own") + f", seed {result.seed}"),
             ("time", f"{result.seconds:.2f} s ({result.paths_per_second:.0f} paths/s)")]
    if result.n_duplicates:
        rows.append(("WARNING", f"{result.n_duplicates} regular endpoints repeat (path jumping): rerun with another --seed"))
    if args.output and args.export_solutions:
        rows.append(("solutions written", f"{args.output} ({args.export_solutions})"))
    print(key_values(rows))
    table_rows, left = solution_rows(result, args.show)
    if table_rows:
        print()
        print(table(table_rows, ["class", "field", "paths"] + list(result.names)))
        if left:
            print(left)
    if check is not None:
        print(f"\nsecond gamma (seed {check.seeds[1]}): {check.counts[1]} solutions, union {check.union}: "
              f"{'the sets agree' if check.agree else 'the sets DIFFER (lost or jumped paths)'}")
    if export is not None:
        sys.stdout.write("\n" + export)


def _among(points, x, tol: float = 1e-4) -> bool:
    import numpy as np

    x = np.asarray(x, dtype=complex)
    return any(np.max(np.abs(np.asarray(p) - x)) <= tol * (1 + np.max(np.abs(x))) for p in points)


def run_convert(args: argparse.Namespace) -> int:
    """Read a system file and write it in another solver's format."""
    from landscape_core.records import atomic_write_text
    from theory.polynomials.files import load_system, system_text

    if args.output:
        _check_output(args.output)
    loaded = load_system(args.file, args.variables)
    text = system_text(loaded.system, args.to)
    if args.output:
        atomic_write_text(args.output, text)
        print(f"{args.file} ({loaded.format}, {loaded.system.n_equations} equations in "
              f"{loaded.system.n_vars} variables: {', '.join(loaded.system.names)}) → {args.output} ({args.to})")
    else:
        sys.stdout.write(text)
    return 0


def _c(z: complex, real: bool = False) -> str:
    """Return a coordinate for the table: its real part when the point is real, else both parts."""
    return f"{z.real:+.4g}" if real or abs(z.imag) < 1e-10 else f"{z.real:+.4g}{z.imag:+.3g}i"


# ----------------------------------------------------------------------------------------------
# dimension


def run_dimension(args: argparse.Namespace) -> int:
    """Measure and print the dimension and degree of the zero-error set."""
    from theory.counting.dimension import zero_error_dimension

    refuse_unless(args, ["loops_without_news"], args.monodromy, "with --monodromy")
    check_out(args)
    spec = spec_from_args(args)
    check_size(args, _guard_needs(spec))
    data, w_star = _data(spec, args)
    with progress_bar(args, "paths") as progress:
        rep = zero_error_dimension(spec, data.n_points, seed=args.seed, start=_start(args), options=_options(args),
                                   data=data, w_star=w_star,
                                   monodromy=args.loops_without_news if args.monodromy else None,
                                   decompose_set=args.decompose, groebner=args.groebner, progress=progress)
    _save(args, rep)
    if args.json:
        print_json(rep)
        return 0
    ws = rep.witness
    o = ws.solve.outcomes
    rows = [("network", spec.describe()), ("weights K", rep.n_params),
            ("equations N·n_d", f"{rep.n_equations} ({rep.data_kind} data)"),
            ("expected dimension K − N", rep.expected_dimension),
            ("generic Jacobian rank r", rep.generic_rank),
            ("dimension K − r", f"{rep.dimension} ({'confirmed' if rep.confirmed else 'NOT confirmed'} by the "
                                f"Jacobian rank at every witness point: {sorted(set(ws.jacobian_ranks))})"),
            ("local dimension at w*", "—" if rep.local_dimension_at_planted is None else rep.local_dimension_at_planted),
            ("degree (witness points)", f"{rep.degree} ({rep.degree_status}: " + (
                "no witness point, no trace test" if rep.trace is None else
                f"linear trace test {'passed' if rep.trace.passed else 'FAILED'}, residual {rep.trace.residual:.1e}"
                + ("" if rep.trace.passed else "; the degree is at least this") ) + ")"),
            ("bounds", f"Bezout {big(rep.bezout)}, m-Bezout {big(rep.m_bezout) if rep.m_bezout is not None else '—'}, "
                       f"mixed volume {rep.stable_mixed_volume}: degree within all: "
                       f"{'yes' if rep.degree_within_bounds else 'NO'}"),
            ("paths", f"{ws.solve.n_paths}: {o['regular']} regular, {o['singular']} singular, "
                      f"{o['at_infinity']} at infinity, {o['failed']} failed; {ws.n_spurious} off V(f)"),
            ("consistent", "yes" if rep.consistent else "no witness point: empty for these targets"),
            ("seed", rep.seed), ("time", f"{rep.seconds:.2f} s")]
    if rep.completion is not None:
        from theory.counting.dimension import COMPLETION_BUDGET
        c = rep.completion
        rows.insert(-2, ("witness completion", f"the homotopy gave {ws.degree} points, trace test failed; monodromy on "
                                               f"the slice offsets: {c.n_solutions} points in {c.loops} loops "
                                               f"({c.returncode.value}; {COMPLETION_BUDGET.describe()})"))
    if rep.monodromy is not None:
        m = rep.monodromy
        rows.append(("monodromy from w*", f"{m.n_solutions} witness points in {m.loops} loops; {m.completeness}"))
    if rep.decomposition is not None:
        dd = rep.decomposition
        rows.append(("irreducible components", "; ".join(f"dim {c.dimension} deg {c.degree}" for c in dd.components)
                     + (f"; {dd.n_isolated} isolated points" if dd.n_isolated else "")))
    if rep.groebner is not None:
        g = rep.groebner
        rows.append(("Groebner basis", f"{'consistent' if g.consistent else 'INCONSISTENT (1 in the ideal)'}, "
                                       f"{g.basis_size} polynomials, {g.seconds:.2f} s"))
    print(key_values(rows))
    return 0


# ----------------------------------------------------------------------------------------------
# critical


def run_critical(args: argparse.Namespace) -> int:
    """Find, classify and print the critical points and the §3.3 verdict."""
    refuse_unless(args, ["loops_without_news"], args.monodromy, "with --monodromy")
    if args.monodromy:
        refuse_unless(args, ["start", "max_paths", "projective", "groebner"], False,
                      "to a homotopy from a start system, not to --monodromy")
        refuse_unless(args, ["penalty"], args.penalty == "generic", "as generic with --monodromy (it moves the penalty)")
    check_out(args)
    spec = spec_from_args(args)
    check_size(args, _guard_needs(spec, critical=True))  # before sympy is imported: a refusal takes no time
    from theory.counting.critical_points import critical_points
    if args.monodromy:
        from theory.counting.stratified_count import StrataConfig, critical_monodromy
        if args.data is not None:
            from landscape_core.errors import InvalidSpecError
            raise InvalidSpecError("--monodromy uses seeded data (--points, --targets, --seed), not --data")
        with progress_bar(args, "monodromy loops") as progress, \
                progress_bar(args, "Macaulay2: strata counted") as m2:
            m = critical_monodromy(spec, args.points, seed=args.seed,
                                   config=StrataConfig(planted=args.targets == "planted",
                                                       stop_after=args.loops_without_news, options=_options(args)),
                                   progress=progress, exact_progress=m2)
        _save(args, m)
        if args.json:
            print_json(m)
            return 0
        print(key_values([("network", spec.describe()), ("penalty λ (generic)", " ".join(m.penalty)),
                          ("strata", m.strata_note),
                          ("symmetries used", ", ".join(sorted({g for c in m.components if c.monodromy
                                                                for g in c.monodromy.group})) or "none"),
                          ("symmetries left out", "; ".join(m.group.omitted) or "none"),
                          ("isolated critical points", f"{m.n_isolated} ({m.n_real} real) at the data and λ"),
                          ("per component", " + ".join(str(c.n_solutions) for c in m.components)
                           + f" = {sum(c.n_solutions for c in m.components)}"),
                          ("exact count (Macaulay2)", "—" if m.exact_total is None else m.exact_total),
                          ("draw", m.draw),
                          ("failed paths", m.failed_paths + sum(c.monodromy.failed_paths for c in m.components
                                                                if c.monodromy)),
                          ("completeness", m.completeness),
                          ("certified (Krawczyk)", m.certification.summary if m.certification else "not asked"),
                          ("seed", args.seed), ("time", f"{m.seconds:.2f} s")]))
        print()
        print(table([[c.stratum.label, c.status, f"{c.seed_condition:.1e}",
                      "—" if c.monodromy is None else f"{c.monodromy.loops} ({c.monodromy.n_orbits} orbits)",
                      c.n_solutions, "—" if c.exact is None else c.exact, c.how] for c in m.components],
                    ["stratum", "status", "seed cond", "loops", "found", "exact", "completeness"]))
        return 0
    data, _ = _data(spec, args)
    seeded = args.data is None  # critical_points draws the same seeded data (planted or random) itself
    with progress_bar(args, "paths") as progress, progress_bar(args, "Macaulay2: strata counted") as m2:
        rep = critical_points(spec, data.n_points, seed=args.seed, penalty=None if args.penalty == "none" else "generic",
                              planted=args.targets == "planted", start=_start(args), options=_options(args),
                              data=None if seeded else data, groebner=args.groebner, progress=progress,
                              exact_progress=m2)
    _save(args, rep)
    if args.json:
        print_json(rep)
        return 0
    if rep.monodromy is not None:
        m = rep.monodromy
        how = [("route", "strata monodromy (the default here: per-stratum monodromy with exact Macaulay2 counts; "
                         "--start total-degree|polyhedral|multihomogeneous tracks a start system instead)"),
               ("draw", m.draw),
               ("per stratum", ", ".join(f"{c.stratum.label} {c.n_solutions}" for c in m.components)
                + f" = {m.n_isolated}"),
               ("paths", f"{sum(c.monodromy.paths_tracked for c in m.components if c.monodromy)} tracked, "
                         f"{m.failed_paths} failed on the target leg")]
    else:
        o = rep.solve.outcomes
        how = [("route", f"{rep.solve.start_system} start system"),
               ("Bezout / m-Bezout / mixed volume", f"{big(rep.solve.bezout)} / "
                f"{big(rep.solve.m_bezout) if rep.solve.m_bezout is not None else '—'} / "
                f"{rep.solve.stable_mixed_volume}"),
               ("paths", f"{rep.solve.n_paths}: {o['regular']} regular, {o['singular']} singular, "
                         f"{o['at_infinity']} at infinity, {o['failed']} failed")]
    rows = [("network", spec.describe()), ("weights K, points N", f"{rep.n_params}, {rep.n_points}"),
            ("penalty", "none (the paper's loss)" if rep.penalty is None else "generic λ: " + " ".join(rep.penalty)),
            *how,
            ("completeness", rep.completeness),
            ("certified (Krawczyk)", rep.certified),
            *([("exact count (Groebner)", rep.groebner_verdict)] if rep.groebner else []),
            ("points", ", ".join(f"{v} {k}" for k, v in rep.counts.items())),
            ("Corollary 1 / Proposition 1", rep.theory.verdict),
            ("seed", rep.seed), ("time", f"{rep.seconds:.2f} s")]
    print(key_values(rows))
    shown = sorted(rep.points, key=lambda p: (not p.real, p.loss))[: args.show]
    if shown:
        print()
        print(table([[p.source, p.endpoints, "real" if p.real else "complex", p.kind,
                      "yes" if p.zero_error else "no", f"{p.loss:.4g}",
                      "—" if p.nullity < 0 else p.nullity, p.set_dimension,
                      "—" if p.zero_error_dimension is None else p.zero_error_dimension] for p in shown],
                    ["source", "paths", "field", "kind", "zero error", "loss", "nullity", "set dim", "zero-set dim"]))
        if len(rep.points) > len(shown):
            print(f"... {len(rep.points) - len(shown)} more (--show, --json)")
    return 0
