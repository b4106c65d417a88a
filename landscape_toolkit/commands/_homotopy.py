"""Flags and helpers that `solve`, `convert`, `dimension` and `critical` share: tracking options, data, saving."""
from __future__ import annotations

import argparse
import sys

from landscape_toolkit.commands._render import add_progress_flag, add_size_flag, nonnegative_int, positive_int, save_result


SMALL = dict(layers=2, degree=2, points=3, width=2, input_dim=1)


def tracking_args(p: argparse.ArgumentParser, start: str = "auto") -> None:
    g = p.add_argument_group("homotopy")
    g.add_argument("--start", choices=("auto", "total-degree", "multihomogeneous", "polyhedral"), default=start,
                   help="start system: auto (the fewest paths of the others; for critical points with a generic "
                        "penalty on networks with dead-unit strata, per-stratum monodromy), total degree (Bezout "
                        "many paths), layer-wise multihomogeneous, or polyhedral (Li-Wang lifted: stable mixed "
                        "volume many paths, every isolated solution in C^n)")
    g.add_argument("--max-paths", type=positive_int, default=20_000,
                   help="refuse homotopies with more start paths than this (a few minutes on 2 cores)")
    g.add_argument("--projective", action="store_true",
                   help="track total-degree paths in a random projective chart (paths at infinity converge)")
    g.add_argument("--workers", type=positive_int, default=None,
                   help="worker processes tracking path batches in parallel (default: one per core)")
    g.add_argument("--show", type=nonnegative_int, default=10, metavar="N",
                   help="rows of solutions/points shown in the table (0: none)")
    add_progress_flag(p)
    add_size_flag(p)


def track_options(args: argparse.Namespace):
    from theory.homotopy.tracker import TrackConfig
    return TrackConfig(seed=args.seed, max_paths=args.max_paths, projective=args.projective, workers=args.workers)


def guard_needs(spec, critical: bool = False) -> list:
    """Return the memory the expansion guard of the network's zero-error (or critical) system needs (theory.bounds.degrees)."""
    from theory.bounds.degrees import critical_guard_needs, zero_error_guard_needs

    return critical_guard_needs(spec) if critical else zero_error_guard_needs(spec)


def start_kind(args: argparse.Namespace) -> str:
    return args.start.replace("-", "_")


def data_and_planted(spec, args: argparse.Namespace):
    """Return (data, planted w* or None) from --data / --targets / --points / --seed."""
    from theory.network.data import planted_data

    if args.data is None and args.targets == "planted":
        return planted_data(spec, args.points, args.seed)
    from landscape_toolkit.commands._network import data_from_args
    return data_from_args(spec, args), None


def check_output(path: str) -> None:
    """Refuse an output file that cannot be written or would replace a run folder's own file, before any work."""
    from landscape_core.records import check_writable_target
    from landscape_core.runs import check_output_file

    check_output_file(path)
    check_writable_target(path)


def save_and_say(args: argparse.Namespace, result) -> None:
    """Save the result as the run folder --out ROOT --run NAME (if --run is given), saying where on stderr."""
    saved = save_result(args, result)
    if saved:
        print(f"saved: {saved}", file=sys.stderr)


def coordinate(z: complex, real: bool = False) -> str:
    """Return a coordinate for the table: its real part when the point is real, else both parts."""
    return f"{z.real:+.4g}" if real or abs(z.imag) < 1e-10 else f"{z.real:+.4g}{z.imag:+.3g}i"
