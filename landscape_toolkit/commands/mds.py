"""`cli.py mds`: classical MDS of saved weight trajectories, per layer (Theory II §4, Fig. 3)."""
from __future__ import annotations

from pathlib import Path

from landscape_toolkit.commands._render import (add_device_flag, add_from_flag, add_json_flag, add_progress_flag,
                                                add_run_flags, add_size_flag, check_device, check_size,
                                                comma_list, key_values, nonnegative_int, positive_int, print_json,
                                                progress_bar, table)


def register(subparsers) -> None:
    """Add the `mds` subcommand."""
    m = subparsers.add_parser(
        "mds", help="classical MDS of saved weight trajectories, per layer (Theory II §4, Fig. 3)",
        description="Embed every saved epoch of every trajectory of one or more runs in the plane with classical "
                    "MDS (1 − cosine or Euclidean), one figure per layer, points labelled by training error.",
        epilog=MDS_EXAMPLES)
    add_from_flag(m, "run folder (repeat to embed several runs together)", repeat=True, required=True)
    m.add_argument("--embed-layers", type=comma_list(nonnegative_int), default=(2,), metavar="L1,L2,...",
                   help="the weight layers embedded, one figure each, numbered from 1; 0 embeds all weights")
    m.add_argument("--metric", choices=("cosine", "euclidean"), default="cosine", help="dissimilarity (default cosine)")
    m.add_argument("--every", type=positive_int, default=1, help="keep every k-th saved epoch (default 1)")
    add_device_flag(m, default="cpu", what="re-measured errors")
    add_run_flags(m, default="mds-<first run name>")
    add_progress_flag(m)
    add_json_flag(m)
    add_size_flag(m)
    m.set_defaults(handler=run_mds)


MDS_EXAMPLES = """examples:
  cli.py mds --from runs/first                               # layer 2, 1 − cosine
  cli.py mds --from runs/a --from runs/b --embed-layers 2,4 --metric euclidean --every 2
"""


def run_mds(args) -> int:
    """Handler of `mds`: embed every saved epoch of every trajectory, per layer; save figures and the result."""
    from empirics import plots
    from empirics.probe_runs import mds_needs, runs_mds
    from landscape_core.runs import open_run

    check_device(args)
    config = {"runs": list(args.source), "layers": list(args.embed_layers), "metric": args.metric, "every": args.every}
    check_size(args, mds_needs(args.source, args.every))
    with open_run(args.out, args.run or f"mds-{Path(args.source[0]).name}", config) as rd:
        with progress_bar(args, "mds") as progress:
            res = runs_mds(args.source, args.embed_layers, args.metric, args.every, device=args.device,
                           progress=progress)
        results, table_rows, figures = {}, [], []
        for layer, r in res.layers.items():
            results[str(layer)] = {**r.to_dict(), "groups": list(res.groups), "epochs": list(res.epochs)}
            figures.append(str(plots.plot_mds(r.to_dict(), rd.file(f"mds_layer{layer}.png"), groups=res.groups)))
            table_rows.append((layer if layer else "all", res.n_weights[layer], res.n_points, f"{r.stress:.4f}",
                               f"{r.explained:.3f}"))
        metrics = {"layers": results, "n_points": res.n_points, "seconds": res.seconds, "figures": figures}
        rd.write_result(metrics)  # figures and result written while the run folder is still locked
    if args.json:
        print_json({"run_dir": str(rd.path), **{k: v for k, v in metrics.items() if k != "layers"},
                    "stress": {k: v["stress"] for k, v in results.items()}})
        return 0
    print(table(table_rows, ("layer", "weights", "models", "stress-1", "explained (2D)")))
    print()
    print(key_values([("metric", args.metric), ("output", rd.path), ("figures", ", ".join(figures)),
                      ("time", f"{res.seconds:.1f} s")]))
    return 0
