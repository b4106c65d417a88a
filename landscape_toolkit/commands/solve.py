"""`cli.py solve`: every isolated solution of a polynomial system (a file or a network's zero-error system) by homotopy continuation."""
from __future__ import annotations

import argparse
import sys

from landscape_toolkit.commands._network import DATA_DESTS, NETWORK_DESTS, add_network_args, spec_from_args
from landscape_toolkit.commands._parser import refuse_unless
from landscape_toolkit.commands._render import (add_json_flag, add_run_flags, big, check_out, check_size,
                                                comma_list, key_values, positive_float, positive_int, print_json,
                                                progress_bar, table)
from landscape_toolkit.commands._homotopy import (SMALL, tracking_args, track_options, guard_needs, start_kind,
                                                  data_and_planted, check_output, save_and_say, coordinate)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `solve` subcommand."""
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
    tracking_args(p)
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


SOLUTION_FORMATS = ("json", "phc", "bertini")  # theory.polynomials.files.SOLUTION_FORMATS (kept import-free, tested)


SOLVE_EXAMPLES = """examples:
  cli.py solve examples/cyclic5.phc                     # 70 paths (polyhedral start), 70 solutions, 10 real
  cli.py solve examples/cyclic5.phc --start total-degree # 120 paths: 70 solutions, 50 at infinity
  cli.py solve system.m2 --export-solutions bertini -o finite_solutions
  cli.py solve examples/systems/svw.phc                 # a surface, curves of degree 6, one isolated point
  cli.py solve --width 1 --points 4 --targets planted   # a network's square zero-error system
  cli.py solve --activation 'z + z^2/4 + z^3/8' --input-dim 2 --width 2 --no-output-activation --points 9 \\
               --targets planted --monodromy
"""


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
        check_output(args.output)
    gamma_seed = args.seed + 1 if args.check_gamma else None
    if args.engine == "bertini":
        return _solve_bertini(args)
    if args.file is not None:
        from theory.polynomials.files import load_system
        loaded = load_system(args.file, args.variables)
        with progress_bar(args, "paths") as progress:
            result = solve_system(loaded.system, start=start_kind(args), options=track_options(args), progress=progress,
                                  gamma_seed=gamma_seed)
        save_and_say(args, result)
        _print_solve(result, args, loaded)
        return 0
    spec = spec_from_args(args)
    check_size(args, guard_needs(spec))
    if args.monodromy:
        from theory.counting.families import square_monodromy
        from theory.counting.monodromy import LoopBudget
        with progress_bar(args, "monodromy loops") as progress:
            budget = LoopBudget(stop_after=args.loops_without_news, max_seconds=args.max_seconds)
            result = square_monodromy(spec, budget, track_options(args), progress=progress)
        save_and_say(args, result)
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
    data, w_star = data_and_planted(spec, args)
    with progress_bar(args, "paths") as progress:
        result = solve_zero_error(spec, data, known=w_star, start=start_kind(args), options=track_options(args),
                                  progress=progress, gamma_seed=gamma_seed)
    save_and_say(args, result)
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
        data, _ = data_and_planted(spec, args)
        if data.n_points * spec.output_dim != spec.n_params:
            raise InvalidSpecError(f"solve needs a square zero-error system: {spec.describe()} has K = "
                                   f"{spec.n_params} weights, so use --points {spec.n_params // spec.output_dim}")
        system = network_system(ZeroErrorSystem(spec, data))
    result = solve_bertini(system, seed=args.seed)
    save_and_say(args, result)
    _print_solve(result, args, loaded)
    return 0


def solution_rows(result, show: int | None = None) -> tuple[list[list], str]:
    """Return one table row per solution class and a note on the rows left out.

    Regular solutions and isolated singular ones (with their multiplicity) get a row each, the first
    `show` of each kind; every positive-dimensional part (dimension, degree, a sample point) and the
    paths at infinity and the failed ones (as counts: they end at no point of C^n) always have theirs.
    """
    n = result.n_vars
    witness = "witness point" if result.witness_dimension else "regular"
    regular = [[witness, "real" if r else "complex", 1] + [coordinate(z, r) for z in x]
               for x, r in zip(result.solutions, result.real)]
    singular = [["singular", "real" if r else "complex", f"mult {m}"] + [coordinate(z, r) for z in x]
                for x, m, r in zip(result.singular_points, result.multiplicities, result.singular_real)]
    rows = regular[:show] + singular[:show]
    rows += [[f"dim {c.dimension}, degree {'?' if c.degree is None else c.degree}", "sample point",
              f"{c.endpoints} paths"] + [coordinate(z) for z in c.sample] + [""] * (n - len(c.sample))
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
