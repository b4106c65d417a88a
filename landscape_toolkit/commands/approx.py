"""`cli.py approx`: polynomial approximations of the ReLU, their sup-norm errors, and ℓ(ε)."""
from __future__ import annotations

import argparse

from landscape_toolkit.commands._render import (add_json_flag, add_run_flags, check_out, comma_list, positive_float,
                                                positive_int, print_json, save_result, table)

MAX_DEGREE = 400  # theory.network.activations.MAX_DEGREE, written out to keep parser construction import-free (tested)
EXAMPLES = """examples:
  cli.py approx --epsilon 0.01                       # ℓ(ε) of each scheme on [-1, 1]
  cli.py approx --degree 4,8,12 --radius 4 --plot approx.png
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `approx` subcommand."""
    p = sub.add_parser(
        "approx", help="ReLU polynomial approximations: sup-norm error by degree and the smallest ℓ(ε)",
        description="Theory II §3.1 approximates the ReLU within ε in the sup norm on [-R, R] by a polynomial of "
                    "degree ℓ(ε). For each scheme (Chebyshev interpolation, least-squares Legendre projection, "
                    "discrete minimax) print the sup-norm error at the chosen degrees and the smallest degree "
                    "that reaches --epsilon. Errors are computed in the Chebyshev/Legendre basis, exact at "
                    f"every degree up to {MAX_DEGREE}.",
        epilog=EXAMPLES)
    p.add_argument("--epsilon", type=positive_float, default=0.01, help="target sup-norm error ε")
    p.add_argument("--radius", type=positive_float, default=1.0, help="half-width R of the interval, in [1e-6, 1e6]")
    p.add_argument("--degree", type=comma_list(positive_int), default=(2, 4, 8, 16, 32), metavar="L1,L2,...",
                   help=f"degrees ℓ at which to tabulate the error, comma-separated: 1 or even, at most {MAX_DEGREE}")
    p.add_argument("--max-degree", type=positive_int, default=MAX_DEGREE,
                   help=f"search limit for ℓ(ε), at most {MAX_DEGREE}")
    p.add_argument("--plot", default=None, metavar="FIGURE",
                   help="save a figure of the approximations and errors (.png, .pdf, .svg, ...)")
    add_run_flags(p, optional=True)
    add_json_flag(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Tabulate errors and ℓ(ε) for the three schemes."""
    from landscape_core.figures import check_figure_path
    from theory.network.activations import RELU_METHODS, approximation_table

    check_out(args)
    if args.plot:
        from landscape_core.runs import check_output_file

        check_output_file(args.plot, "--plot")
        check_figure_path(args.plot)
    tab = approximation_table(args.epsilon, args.radius, args.degree, args.max_degree)
    result = tab.to_dict()
    if args.plot:
        from theory.figures.relu_approximations import plot_relu_approximations

        plot_relu_approximations(args.plot, args.radius, args.degree, tab.sup_error)
        result["figure"] = args.plot
    saved = save_result(args, result)
    if args.json:
        print_json(result)
        return 0
    rows = [[m] + [f"{e:.3e}" for e in tab.sup_error[m]] + [tab.degree_for_epsilon[m], f"{tab.error_at_that_degree[m]:.3e}"]
            for m in RELU_METHODS]
    print(f"sup-norm error of degree-ℓ approximations of ReLU on [-{args.radius:g}, {args.radius:g}]")
    print(table(rows, ["scheme"] + [f"ℓ={d}" for d in args.degree] + [f"ℓ(ε={args.epsilon:g})", "error"]))
    print("odd degrees coincide with the even degree below: ReLU's even part |z|/2 has no odd terms")
    if args.plot:
        print(f"figure: {args.plot}")
    if saved:
        print(f"saved: {saved}")
    return 0
