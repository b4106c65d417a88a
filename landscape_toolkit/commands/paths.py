"""`cli.py paths | valleys | dss`: connectivity of sublevel sets (Freeman & Bruna; VBB'18).

  paths    the completed Prop. 2.2 path between two deep-linear networks, certified on a grid
           (or, with --relu, the (1, 2, 1) ReLU counterexample and its string-method barriers);
  valleys  VBB'18 widths q, 2q (and 3N² for ρ = z²) plus a seeded width sweep of two-layer
           polynomial networks trained from random starts;
  dss      Dynamic String Sampling on the §4.1 polynomial regression (1-4-4-1 ReLU MLP).
Results and figures go to the run folder ROOT/NAME (--out ROOT --run NAME): config.json,
result.json, manifest.json, *.png.
"""
from __future__ import annotations

import argparse
from typing import Any, Callable

from landscape_toolkit.commands._parser import refuse_unless
from landscape_toolkit.commands._render import (add_json_flag, add_progress_flag, add_run_flags, add_size_flag, check_size,
                                                comma_list, key_values,
                                                nonnegative_int, positive_float, positive_int, print_json, progress_bar,
                                                table)


PATHS_EXAMPLES = """examples:
  cli.py paths                                            # deep linear 3-4-4-2, empirical risk, seed 0
  cli.py paths --layer-widths 2,3,3,2 --loss oracle --endpoints random --seed 1
  cli.py paths --relu                                     # the 1-2-1 ReLU counterexample: every path reaches F = 1/2
"""
VALLEYS_EXAMPLES = """examples:
  cli.py valleys --no-experiment --activation 'z^2'       # the widths alone: q, 2q, 3N²
  cli.py valleys --activation 'z^2 + z^3' --width 1,2,3,7 --restarts 10
"""
DSS_EXAMPLES = """examples:
  cli.py dss --thresholds 0.04,0.02 --pairs 2             # a quick look
  cli.py dss --thresholds 0.04,0.02,0.01,0.005 --pairs 3 --constrained
"""


def _run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=nonnegative_int, default=0, help="seed of every random choice (recorded)")
    add_run_flags(p, default="<command>-seed<seed>")
    add_progress_flag(p)
    add_json_flag(p)
    add_size_flag(p)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `paths`, `valleys` and `dss` subcommands."""
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
    _run_args(p)
    p.set_defaults(handler=run_paths)

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
    _run_args(v)
    v.set_defaults(handler=run_valleys)

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
    _run_args(d)
    d.set_defaults(handler=run_dss)


def _saved_run(args: argparse.Namespace, command: str, config: Any, compute: Callable[[], Any], plot: Callable,
               figure: str) -> tuple[Any, dict, Any, Any]:
    """Run `compute()` in the run folder ROOT/NAME (checked before any work) and draw its figure.

    Returns (the result, its JSON form, the run folder, the figure path).
    """
    from landscape_core.runs import open_run
    from landscape_core.serialize import to_jsonable

    with open_run(args.out, args.run or f"{command}-seed{args.seed}", config, args.seed) as rd:
        result = compute()
        rd.write_result(result)
    data = to_jsonable(result.to_dict())
    return result, data, rd, plot(data, rd.file(figure))


def _tracked(args: argparse.Namespace, desc: str, fn: Callable, config: Any) -> Callable[[], Any]:
    """Return a thunk computing fn(config, progress=...) with a progress bar on stderr (unless --no-progress)."""
    def compute() -> Any:
        with progress_bar(args, desc) as progress:
            return fn(config, progress=progress)

    return compute


def run_paths(args: argparse.Namespace) -> int:
    """Build and certify the path (or the ReLU contrast); save metrics and the loss-profile figure."""
    from empirics.connectivity_plots import plot_path_profile, plot_relu_strings

    refuse_unless(args, ["layer_widths", "loss", "points", "endpoints", "grid"], not args.relu,
                  "to the deep linear path (--relu runs the fixed 1-2-1 ReLU counterexample)")
    if args.relu:
        from theory.sublevel.relu_paths import relu_contrast

        seeds = (args.seed, args.seed + 1, args.seed + 2)
        res, data, rd, fig = _saved_run(args, "paths-relu", {"command": "paths", "relu": True, "seeds": list(seeds)},
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
    cert, _, rd, fig = _saved_run(args, "paths", config, compute, plot_path_profile, "path_profile.png")
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

    res, data, rd, fig = _saved_run(args, "valleys", cfg, _tracked(args, "valleys", valley_experiment, cfg),
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
    study, data, rd, fig = _saved_run(args, "dss-constrained" if args.constrained else "dss", cfg,
                                      _tracked(args, "dss strings", polynomial_regression_study, cfg),
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
