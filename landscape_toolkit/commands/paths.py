"""`cli.py paths`: the completed Freeman & Bruna Prop. 2.2 path between two deep linear networks, certified on a grid
(or, with --relu, the (1, 2, 1) ReLU counterexample and its string-method barriers).

Results and figures go to the run folder ROOT/NAME (--out ROOT --run NAME): config.json, result.json,
manifest.json, *.png.
"""
from __future__ import annotations

import argparse

from landscape_toolkit.commands._parser import refuse_unless
from landscape_toolkit.commands._render import check_size, comma_list, key_values, positive_int, print_json
from landscape_toolkit.commands._sublevel import run_args, saved_run


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `paths` subcommand."""
    p = sub.add_parser("paths", epilog=PATHS_EXAMPLES,
                       help="connecting path inside a sublevel set of a deep linear network (Prop. 2.2)",
                       description="Build the completed Freeman-Bruna Prop. 2.2 path between two deep linear "
                                   "networks W_K...W_1 (hidden widths must exceed min(n_0, n_K)) and certify on a "
                                   "grid: exact endpoints, loss <= max(F_A, F_B), end-to-end map on the lifted "
                                   "segment. --relu instead shows the (1,2,1) ReLU counterexample.")
    p.add_argument("--layer-widths", type=comma_list(positive_int), default=(3, 4, 4, 2), metavar="N0,...,NK",
                   help="every layer's width n_0,...,n_K, input and output included")
    p.add_argument("--loss", choices=("empirical", "oracle"), default="empirical", help="risk F_e or F_o")
    p.add_argument("--points", type=positive_int, default=40, help="data points N of the empirical risk")
    p.add_argument("--endpoints", choices=("equivalent", "random"), default="equivalent",
                   help="near-optimal sign-flipped factorisations, or random weights")
    p.add_argument("--grid", type=positive_int, default=401, help="grid points in [0, 1]")
    p.add_argument("--relu", action="store_true", help="run the ReLU (1,2,1) counterexample instead")
    run_args(p)
    p.set_defaults(handler=run_paths)


PATHS_EXAMPLES = """examples:
  cli.py paths                                            # deep linear 3-4-4-2, empirical risk, seed 0
  cli.py paths --layer-widths 2,3,3,2 --loss oracle --endpoints random --seed 1
  cli.py paths --relu                                     # the 1-2-1 ReLU counterexample: every path reaches F = 1/2
"""


def run_paths(args: argparse.Namespace) -> int:
    """Build and certify the path (or the ReLU contrast); save metrics and the loss-profile figure."""
    from empirics.connectivity_plots import plot_path_profile, plot_relu_strings

    refuse_unless(args, ["layer_widths", "loss", "points", "endpoints", "grid"], not args.relu,
                  "to the deep linear path (--relu runs the fixed 1-2-1 ReLU counterexample)")
    if args.relu:
        from theory.sublevel.relu_paths import relu_contrast

        seeds = (args.seed, args.seed + 1, args.seed + 2)
        res, data, rd, fig = saved_run(args, "paths-relu", {"command": "paths", "relu": True, "seeds": list(seeds)},
                                        lambda: relu_contrast(seeds=seeds), plot_relu_strings, "relu_strings.png")
        if args.json:
            print_json({k: v for k, v in data.items() if k != "strings"} | {"barriers": [s.max_loss for s in res.strings],
                                                                            "run_dir": str(rd.path)})
            return 0
        ex = res.example
        print(key_values([
            ("network", "Φ(x) = u_1 ρ(w_1 x) + u_2 ρ(w_2 x), ReLU, no bias, widths 1-2-1"),
            ("data", "(x, y) = (1, 1), (-1, 1)"),
            ("minima", f"θ_A = {ex.theta_a.tolist()}, θ_B = {ex.theta_b.tolist()}, F = {ex.min_loss:g}"),
            ("proved barrier", f"{ex.floor:g} (a unit falls silent on every path; f becomes one-sided)"),
            ("level λ", f"{ex.level:g}: Ω(λ) is disconnected"),
            ("string barriers", ", ".join(f"{s.max_loss:.4f} (seed {s.seed})" for s in res.strings)),
            ("straight segment max", f"{res.straight_line_max:.4f}"),
            ("linear net, same widths", f"max on Prop. 2.2 path {res.linear_path_max:.4f} <= bound {res.linear_bound:.4f}"),
            ("figure", str(fig)),
        ]))
        return 0

    from theory.sublevel.linear_paths import certify_demo, path_needs

    check_size(args, path_needs(args.layer_widths, args.points))

    def compute():
        return certify_demo(args.layer_widths, args.loss, args.points, args.endpoints, args.seed, n_grid=args.grid)

    config = {"command": "paths", "widths": list(args.layer_widths), "loss": args.loss, "samples": args.points,
              "endpoints": args.endpoints, "grid": args.grid, "seed": args.seed}
    cert, _, rd, fig = saved_run(args, "paths", config, compute, plot_path_profile, "path_profile.png")
    if args.json:
        print_json(cert.to_dict(profiles=False) | {"seed": args.seed, "run_dir": str(rd.path)})
        return 0
    print(key_values([
        ("network", f"deep linear {'-'.join(map(str, cert.widths))} ({cert.loss_kind} risk, seed {args.seed})"),
        ("F(θ_A), F(θ_B)", f"{cert.loss_a:.6g}, {cert.loss_b:.6g}  (bound {cert.bound:.6g})"),
        ("max F on path", f"{cert.max_loss:.6g}  (excess {cert.max_excess:.2e}, tolerance {cert.tolerance:.1e})"),
        ("bound holds", "yes" if cert.holds else "NO"),
        ("endpoints exact", "yes" if cert.endpoints_exact else "NO"),
        ("product off lifted path", f"{cert.max_product_deviation:.1e} (relative)"),
        ("largest gap at breaks", f"{cert.max_break_gap:.1e}"),
        ("pieces", cert.n_pieces),
        ("path length / distance", f"{cert.path_length:.4g} / {cert.euclidean_distance:.4g}"),
        ("straight segment max F", f"{cert.straight_line_max:.6g} ({'breaks' if cert.straight_line_breaks else 'keeps'} the bound)"),
        ("run folder", str(rd.path)),
        ("figure", str(fig)),
    ]))
    return 0 if cert.holds and cert.endpoints_exact else 1
