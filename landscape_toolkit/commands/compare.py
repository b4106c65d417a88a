"""`cli.py compare`: polynomial networks trained to zero loss, Hessian nullity against K − rank J and theory's K − r."""
from __future__ import annotations

from landscape_toolkit.commands._network import add_network_args, spec_from_args
from landscape_toolkit.commands._parser import refuse_unless
from landscape_toolkit.commands._render import (add_json_flag, add_progress_flag, add_run_flags, add_size_flag,
                                                check_size, key_values, nonnegative_int, positive_float,
                                                positive_int, print_json, progress_bar, table)


def register(subparsers) -> None:
    """Add the `compare` subcommand."""
    c = subparsers.add_parser(
        "compare", help="train polynomial networks to zero loss; Hessian nullity vs K − rank J vs theory's K − r",
        description="For a sweep of hidden widths (K/N from under- to over-parametrized), train theory's "
                    "polynomial network to zero square loss in float64 and compare the Hessian nullity, the "
                    "Jacobian rank and the flatness radius with theory's predicted dimension K − r.",
        epilog=COMPARE_EXAMPLES)
    add_network_args(c, width=(1, 2, 3, 4, 6, 8), data_flags=False)
    c.add_argument("--points", type=positive_int, default=10, help="data points N")
    c.add_argument("--targets", choices=("random", "planted"), default="random",
                   help="random targets (generic) or targets of a random network of the widest width")
    c.add_argument("--optimizer", choices=("lm", "gd"), default="lm", help="Levenberg–Marquardt or gradient descent")
    c.add_argument("--iters", type=positive_int, default=400, help="iterations per restart (default 400)")
    c.add_argument("--lr", type=positive_float, default=0.01, help="gd step size (default 0.01)")
    c.add_argument("--restarts", type=positive_int, default=3, help="initialisations per width (default 3)")
    c.add_argument("--zero-loss", type=positive_float, default=1e-18, help="Σr² counted as zero (default 1e-18)")
    c.add_argument("--tol", type=positive_float, default=1e-9, help="relative eigenvalue threshold τ (default 1e-9)")
    c.add_argument("--epsilon", type=positive_float, default=1e-4, help="flatness-radius ε on Σr² (default 1e-4)")
    c.add_argument("--directions", type=positive_int, default=20, help="radius directions (default 20)")
    c.add_argument("--seed", type=nonnegative_int, default=0, help="seed of data, inits, directions (default 0)")
    add_run_flags(c, default="compare")
    add_progress_flag(c)
    add_json_flag(c)
    add_size_flag(c)
    c.set_defaults(handler=run_compare_cmd)


COMPARE_EXAMPLES = """examples:
  cli.py compare                                  # fc 2-h-h-1, P = relu-legendre:4 on the output too, N = 10
  cli.py compare --input-dim 3 --layers 2 --activation 'z + z^2/4' --no-output-activation   # fc 3-h-1
  cli.py compare --layers 3 --width 1,2,3,4 --points 16
  cli.py compare --optimizer gd --iters 5000      # plain gradient descent: where it fails to reach zero
"""


def run_compare_cmd(args) -> int:
    """Handler of `compare`: run the sweep, save config/metrics/figure/manifest, print the table."""
    from empirics.compare import CompareConfig, compare_needs, run_compare
    from empirics.plots import plot_compare
    from landscape_core.runs import open_run

    refuse_unless(args, ["lr"], args.optimizer == "gd", "with --optimizer gd (Levenberg–Marquardt sets its own steps)")
    config = CompareConfig(network=spec_from_args(args), widths=args.width, n_points=args.points, data=args.targets,
                           optimizer=args.optimizer, max_iters=args.iters, lr=args.lr, restarts=args.restarts,
                           zero_loss=args.zero_loss, tol=args.tol, epsilon=args.epsilon,
                           n_directions=args.directions, seed=args.seed)
    check_size(args, compare_needs(config))
    with open_run(args.out, args.run or "compare", config, config.seed) as rd, \
            progress_bar(args, "compare") as progress:
        result = run_compare(config, progress=progress)
        rd.write_result(result)
        metrics = result.to_dict()
        figure = plot_compare(metrics, rd.file("compare.png"))
    if args.json:
        print_json({**metrics, "run_dir": str(rd.path), "figure": str(figure)})
        return 0
    fmt = lambda v: "n/a" if v is None else v  # noqa: E731
    rows = [(r.width, r.n_params, r.n_points, f"{r.ratio:.2f}", f"{r.loss:.2e}", r.status,
             f"{r.grad_norm:.1e}", r.n_negative, r.jacobian_rank, r.hessian_nullity, r.kernel_dim, fmt(r.theory_dimension), r.paper_dimension,
             f"{r.gauss_newton_gap:.1e}", f"{r.radius_random:.3g}", "n/a" if r.radius_null is None else f"{r.radius_null:.3g}",
             "=" if r.nullity_matches_kernel else "≠")
            for r in result.rows]
    print(key_values([("network", result.network), ("data", f"N = {config.n_points} {config.data} points, seed {config.seed}"),
                      ("training", f"{config.optimizer}, {config.max_iters} iterations, best of {config.restarts}; "
                                   f"zero loss: Σr² ≤ {config.zero_loss:g}"),
                      ("thresholds", f"λ zero if |λ| ≤ {config.tol:g}·max|λ|; rank J counts σ² > {config.tol:g}·σ_1²; "
                                     f"radius ε = {config.epsilon:g} on Σr²")]))
    print()
    print(table(rows, ("h", "K", "N", "K/N", "loss", "status", "‖∇L‖", "λ<0", "rank J", "null H", "K−rankJ", "theory K−r", "K−N",
                       "‖H−2JᵀJ‖/‖H‖", "radius", "radius(null)", "null=K−rankJ")))
    for note in result.notes:
        print(f"note: {note}")
    print()
    print(key_values([("output", rd.path), ("figure", figure), ("time", f"{result.seconds:.1f} s")]))
    return 0
