"""`cli.py dss`: Dynamic String Sampling on the §4.1 polynomial regression (Freeman & Bruna, arXiv:1611.01540)."""
from __future__ import annotations

import argparse

from landscape_toolkit.commands._render import (check_size, comma_list, positive_float, positive_int, print_json,
                                                table)
from landscape_toolkit.commands._sublevel import run_args, saved_run, tracked


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `dss` subcommand."""
    d = sub.add_parser("dss", epilog=DSS_EXAMPLES,
                       help="Dynamic String Sampling on polynomial regression (Freeman-Bruna §4.1)",
                       description="Train pairs of 1-4-4-1 ReLU MLPs (RMSProp) to each threshold L0 on a random "
                                   "polynomial f:[0,1]->[0,1], connect them with greedy DSS (Algorithm 1; "
                                   "--constrained: §6 hyperplane constraint) and plot normalised geodesic length "
                                   "and bead count against L0.")
    d.add_argument("--thresholds", type=comma_list(positive_float), default=(0.04, 0.02, 0.01, 0.005), help="levels L0 (MSE)")
    d.add_argument("--pairs", type=positive_int, default=3, help="endpoint pairs per threshold")
    d.add_argument("--target-degree", type=positive_int, default=4, help="degree of the target polynomial f")
    d.add_argument("--points", type=positive_int, default=64, help="data points N (equispaced inputs in [0, 1])")
    d.add_argument("--widths", type=comma_list(positive_int), default=(4, 4), metavar="H1,H2,...",
                   help="hidden widths of the MLP, layer by layer")
    d.add_argument("--alpha", type=positive_float, default=0.5, help="beads are trained to alpha*L0")
    d.add_argument("--lr", type=positive_float, default=3e-3, help="RMSProp learning rate")
    d.add_argument("--max-steps", type=positive_int, default=8000, help="optimiser steps per model")
    d.add_argument("--max-beads", type=positive_int, default=30, help="give up beyond this many beads")
    d.add_argument("--constrained", action="store_true", help="§6: beads on the equidistant hyperplane")
    run_args(d)
    d.set_defaults(handler=run_dss)


DSS_EXAMPLES = """examples:
  cli.py dss --thresholds 0.04,0.02 --pairs 2             # a quick look
  cli.py dss --thresholds 0.04,0.02,0.01,0.005 --pairs 3 --constrained
"""


def run_dss(args: argparse.Namespace) -> int:
    """Run the §4.1 DSS study and save the curves."""
    import torch

    from empirics.connectivity import PolyRegressionConfig, dss_needs, polynomial_regression_study
    from empirics.connectivity_plots import plot_dss_curves

    torch.set_num_threads(1)
    cfg = PolyRegressionConfig(thresholds=args.thresholds, pairs=args.pairs, degree=args.target_degree,
                               samples=args.points, hidden=args.widths, alpha=args.alpha, lr=args.lr, max_steps=args.max_steps,
                               max_beads=args.max_beads, constrained=args.constrained, seed=args.seed)
    check_size(args, dss_needs(cfg))
    study, data, rd, fig = saved_run(args, "dss-constrained" if args.constrained else "dss", cfg,
                                      tracked(args, "dss strings", polynomial_regression_study, cfg),
                                      plot_dss_curves, "dss_curves.png")
    if args.json:
        print_json({"config": data["config"], "seed": args.seed, "summaries": data["summaries"], "run_dir": str(rd.path)})
        return 0
    hidden = "-".join(map(str, args.widths))
    print(f"DSS on polynomial regression, 1-{hidden}-1 ReLU MLP, RMSProp lr {args.lr}, alpha {args.alpha}, "
          f"{'constrained (§6)' if args.constrained else 'greedy (Algorithm 1)'}, seed {args.seed}\n")
    print(table([(f"{s.threshold:g}", f"{s.connected}/{s.pairs}",
                  ", ".join("-" if v != v else f"{v:.3f}" for v in s.normalized_lengths),
                  ", ".join(map(str, s.bead_counts)),
                  "-" if s.mean_normalized_length != s.mean_normalized_length else f"{s.mean_normalized_length:.3f}",
                  "-" if s.mean_beads != s.mean_beads else f"{s.mean_beads:.1f}") for s in study.summaries],
                headers=("L0", "connected", "normalised lengths", "beads", "mean length", "mean beads")))
    print(f"\nrun folder: {rd.path}\nfigure: {fig}")
    return 0
