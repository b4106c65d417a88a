"""`cli.py experiment NAME --scale smoke|cpu|paper`: the papers' figures and tables, each with report.md."""
from __future__ import annotations

import argparse

from empirics.scales import SCALES, describe_scales
from landscape_toolkit.commands._parser import given, refuse_unless
from landscape_toolkit.commands._render import (add_device_flag, add_json_flag, add_progress_flag, add_run_flags,
                                                check_device, nonnegative_int, print_json, progress_bar, table)

EPILOG = """examples:
  cli.py experiment --list                                   # every experiment, with its paper reference
  cli.py experiment ii-sgd-stages --scale smoke              # Theory II §4.2 on real data in about a minute
  cli.py experiment ii-sgd-stages --scale paper --dataset cifar10 --data-dir data --device cuda
  cli.py experiment ii-sgd-stages --scale cpu                # run again after a kill: finished stages are kept
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `experiment` subcommand."""
    p = sub.add_parser("experiment", help="run one of the papers' experiments and write report.md",
                       description="Run one of the papers' experiments (a figure or a table) at a given scale and "
                                   "write ROOT/NAME/report.md: the claim, the protocol run and its deviations "
                                   "from the paper, the measurements, per claim held / not held / underpowered "
                                   "with its estimate, 95 % interval, replicates and rule version, figures.",
                       epilog=EPILOG)
    p.add_argument("name", nargs="?", help="experiment name (see --list)")
    p.add_argument("--list", action="store_true", help="list the experiments with their paper references")
    p.add_argument("--scale", choices=SCALES, default="smoke", help=f"{describe_scales()} (default smoke)")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="base seed (default 0)")
    add_device_flag(p, what="training and probing")
    p.add_argument("--dataset", default=None, help="data set, where the experiment accepts several (see --list)")
    p.add_argument("--data-dir", default="data", help="root of torchvision's layout for CIFAR-10/MNIST (default data)")
    add_run_flags(p, default="NAME-SCALE-seedSEED")
    add_progress_flag(p)
    add_json_flag(p)
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from empirics.experiments import get, registry, run_experiment
    from landscape_core.errors import InvalidSpecError

    if args.list or not args.name:
        extra = [flag for dest, flag in given(args).items() if dest not in ("list", "json")]
        if args.list and args.name:
            raise InvalidSpecError(f"--list lists every experiment: drop {args.name!r} or --list")
        if extra:
            raise InvalidSpecError(f"{'/'.join(extra)} {'need' if len(extra) > 1 else 'needs'} an experiment NAME "
                                   f"(see --list)")
        exps = registry()
        rows = [(e.name, e.reference, ", ".join(e.datasets) or "-", e.title) for e in exps.values()]
        if args.json:
            print_json([{"name": r[0], "reference": r[1], "datasets": r[2], "title": r[3]} for r in rows])
        else:
            print(table(rows, ("experiment", "paper", "data", "what")))
        return 0
    exp = get(args.name)
    if args.dataset is not None and args.dataset not in exp.datasets:
        raise InvalidSpecError(f"experiment {args.name} " + (f"runs on {', '.join(exp.datasets)}, not {args.dataset!r}"
                                                             if exp.datasets else "uses no data set: drop --dataset"))
    refuse_unless(args, ["data_dir"], bool(exp.datasets), f"for experiments that read a data set ({args.name} reads none)")
    check_device(args)
    with progress_bar(args, args.name) as progress:
        rep, path = run_experiment(args.name, args.scale, args.seed, args.device, args.data_dir, args.dataset,
                                   args.out, args.run, progress)
    if args.json:
        print_json(rep)
        return 0
    print(f"{rep.title} ({rep.reference}), scale {rep.scale}: {rep.seconds:.1f} s")
    for f in rep.findings:
        print(f"  {f.verdict.upper():<13} {f.claim}: {f.reason}")
    print(f"report: {path}")
    return 0
