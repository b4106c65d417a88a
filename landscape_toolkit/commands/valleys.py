"""`cli.py valleys`: VBB'18 widths q, 2q (and 3N² for ρ = z²) and a seeded width sweep of two-layer
polynomial networks trained from random starts (Venturi, Bandeira & Bruna, arXiv:1802.06384).
"""
from __future__ import annotations

import argparse

from landscape_toolkit.commands._parser import refuse_unless
from landscape_toolkit.commands._render import check_size, comma_list, key_values, positive_int, print_json, table
from landscape_toolkit.commands._sublevel import run_args, saved_run, tracked


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `valleys` subcommand."""
    v = sub.add_parser("valleys", epilog=VALLEYS_EXAMPLES,
                       help="VBB'18 no-spurious-valley widths and a width sweep of two-layer polynomial nets",
                       description="Print q = sum_i C(n+i-1, i) over nonzero a_i (slides Cor. 6), the widths p >= q "
                                   "(no spurious valleys) and p >= 2q (one global valley), the quadratic bounds 3N^2 "
                                   "and 3N^(2^k); then train U rho(W x) from seeded random starts at each width and "
                                   "report the fraction reaching the global minimum of a noiseless teacher.")
    v.add_argument("--activation", default="z^2 + z^3", help="polynomial rho, e.g. 'z^2' or 'z + z^3'")
    v.add_argument("--input-dim", type=positive_int, default=2, help="n")
    v.add_argument("--width", type=comma_list(positive_int), default=(1, 2, 3, 4, 5, 6, 7, 14), metavar="P1,P2,...",
                   help="hidden widths p of the student U ρ(W x), one sweep point each")
    v.add_argument("--teacher-width", type=positive_int, default=3, help="teacher width p*")
    v.add_argument("--points", type=positive_int, default=200, help="data points N (Gaussian inputs)")
    v.add_argument("--restarts", type=positive_int, default=30, help="random starts per width")
    v.add_argument("--iters", type=positive_int, default=3000, help="L-BFGS iterations per start")
    v.add_argument("--layers", type=positive_int, default=1,
                   help="depth K of the quadratic network whose width bound 3N^(2^K) is printed")
    v.add_argument("--no-experiment", action="store_true", help="only print the thresholds")
    run_args(v)
    v.set_defaults(handler=run_valleys)


VALLEYS_EXAMPLES = """examples:
  cli.py valleys --no-experiment --activation 'z^2'       # the widths alone: q, 2q, 3N²
  cli.py valleys --activation 'z^2 + z^3' --width 1,2,3,7 --restarts 10
"""


def run_valleys(args: argparse.Namespace) -> int:
    """Print the VBB'18 widths and run the seeded width sweep."""
    from theory.network.activations import parse
    from theory.sublevel.valleys import ValleyExperimentConfig, valley_experiment, valley_needs, valley_thresholds

    refuse_unless(args, ["width", "teacher_width", "points", "restarts", "iters", "seed", "out", "run", "no_progress"],
                  not args.no_experiment, "to the width sweep (--no-experiment prints the thresholds only)")
    act = parse(args.activation)
    th = valley_thresholds(act, args.input_dim, layers=args.layers)
    rows = [("activation", act.to_string()), ("input dim n", args.input_dim),
            ("q (slides eq. 11)", th.q), ("dim span{ρ(<w,·>)}", th.span_dimension),
            ("no spurious valleys", f"p >= {th.no_spurious_valleys_width}"),
            ("single global valley", f"p >= {th.single_valley_width}")]
    if th.quadratic:
        rows += [("quadratic, 2 layers (slides)", f"M >= 3N² = {th.quadratic_two_layer_width}"),
                 (f"quadratic, {args.layers} layer(s)", ", ".join(f"M_{k + 1} >= {w}" for k, w in enumerate(th.quadratic_layer_widths)))]
    if args.no_experiment:
        if args.json:
            print_json(th)
        else:
            print(key_values(rows))
        return 0
    cfg = ValleyExperimentConfig(activation=args.activation, input_dim=args.input_dim, widths=args.width,
                                 teacher_width=args.teacher_width, samples=args.points, runs=args.restarts,
                                 max_iter=args.iters, seed=args.seed)
    check_size(args, valley_needs(cfg))
    from empirics.connectivity_plots import plot_valley_sweep

    res, data, rd, fig = saved_run(args, "valleys", cfg, tracked(args, "valleys", valley_experiment, cfg),
                                    plot_valley_sweep, "valley_sweep.png")
    if args.json:
        print_json(data | {"run_dir": str(rd.path)})
        return 0
    print(key_values(rows + [("teacher width p*", args.teacher_width), ("lifted optimum F*/E[y²]", f"{res.lifted_optimum:.1e}"),
                             ("seed", args.seed)]))
    print()
    print(table([(o.width, o.regime, "yes" if o.realizable else "no", f"{o.reached}/{o.runs}", f"{o.fraction:.2f}",
                  f"{o.median_final:.1e}", f"{o.worst_final:.1e}") for o in res.outcomes],
                headers=("width p", "regime", "p >= p*", "reached", "fraction", "median F/E[y²]", "worst")))
    print(f"\nrun folder: {rd.path}\nfigure: {fig}")
    return 0
