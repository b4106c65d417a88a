"""`cli.py critical`: the critical points of a network's (penalised) square loss, counted and classified."""
from __future__ import annotations

import argparse
from dataclasses import replace

from landscape_toolkit.commands._network import add_network_args, spec_from_args
from landscape_toolkit.commands._parser import refuse_unless
from landscape_toolkit.commands._render import (add_json_flag, add_run_flags, big, check_out, check_size,
                                                key_values, positive_int, print_json, progress_bar, table)
from landscape_toolkit.commands._homotopy import (SMALL, tracking_args, track_options, guard_needs, start_kind,
                                                  data_and_planted, save_and_say)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `critical` subcommand."""
    c = sub.add_parser(
        "critical", help="critical points of the square loss, classified (Theory II §3.3)",
        description="Solve ∇L = 0 for L = Σ (f(x_i) − y_i)² (+ Σ λ_j w_j²) by homotopy, classify every "
                    "critical point (real/complex, zero-error or not, Hessian signature and nullity), "
                    "represent positive-dimensional critical sets, and test Corollary 1 / Proposition 1.",
        epilog=CRITICAL_EXAMPLES)
    add_network_args(c, **{**SMALL, "width": 1, "points": 2})
    tracking_args(c)
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


CRITICAL_EXAMPLES = """examples:
  cli.py critical                                       # fc 1-1-1, degree-2 ReLU approximation, generic penalty
  cli.py critical --penalty none --no-bias               # the paper's loss: positive-dimensional critical sets
  cli.py critical --activation linear --layers 2 --input-dim 2 --width 2 --output-dim 2 --no-bias \\
                  --no-output-activation --points 1 --penalty generic --monodromy   # Mehta et al.'s 33
  cli.py critical --activation 'z^2 + z' --no-bias --points 2 --groebner
"""


def run_critical(args: argparse.Namespace) -> int:
    """Find, classify and print the critical points and the §3.3 verdict."""
    refuse_unless(args, ["loops_without_news"], args.monodromy, "with --monodromy")
    if args.monodromy:
        refuse_unless(args, ["start", "max_paths", "projective", "groebner"], False,
                      "to a homotopy from a start system, not to --monodromy")
        refuse_unless(args, ["penalty"], args.penalty == "generic", "as generic with --monodromy (it moves the penalty)")
    check_out(args)
    spec = spec_from_args(args)
    check_size(args, guard_needs(spec, critical=True))  # before sympy is imported: a refusal takes no time
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
                                                       budget=replace(StrataConfig.budget,
                                                                      stop_after=args.loops_without_news),
                                                       options=track_options(args)),
                                   progress=progress, exact_progress=m2)
        save_and_say(args, m)
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
        print(table([[c.stratum.label, c.status_line, f"{c.seed_condition:.1e}",
                      "—" if c.monodromy is None else f"{c.monodromy.loops} ({c.monodromy.n_orbits} orbits)",
                      c.n_solutions, "—" if c.exact is None else c.exact, c.how] for c in m.components],
                    ["stratum", "status", "seed cond", "loops", "found", "exact", "completeness"]))
        return 0
    data, _ = data_and_planted(spec, args)
    seeded = args.data is None  # critical_points draws the same seeded data (planted or random) itself
    with progress_bar(args, "paths") as progress, progress_bar(args, "Macaulay2: strata counted") as m2:
        rep = critical_points(spec, data.n_points, seed=args.seed, penalty=None if args.penalty == "none" else "generic",
                              planted=args.targets == "planted", start=start_kind(args), options=track_options(args),
                              data=None if seeded else data, groebner=args.groebner, progress=progress,
                              exact_progress=m2)
    save_and_say(args, rep)
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
