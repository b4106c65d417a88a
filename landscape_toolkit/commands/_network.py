"""Network flags: one set, with the same names and defaults in every command that builds a network.

bezout, solve, dimension and critical (and train and compare) take them from here. Tree depth is
`--layers`; P is applied at the output unless `--no-output-activation` (Theory II eq. (5)). `train`,
which describes the CNN and the MLP too, takes hidden widths as its own `--widths` instead of
`--width`/`--layers` (fully connected depth = number of widths + 1).
"""
from __future__ import annotations

import argparse

from landscape_toolkit.commands._render import comma_list, nonnegative_int, positive_float, positive_int


def add_network_args(parser: argparse.ArgumentParser, layers: int = 3, degree: int = 4, points: int = 8,
                     width: int | tuple[int, ...] | None = 2, input_dim: int = 2, data_flags: bool = True) -> None:
    """Add --layers, --degree/--activation, --approx, --radius, --width, --input-dim, --output-dim,
    --arch, --units, --shared, --no-bias, --no-output-activation and, with `data_flags`, the exact-data
    flags --points, --targets, --data, --seed.

    `width=None` leaves out --width (and --layers counts only a tree's depth): the caller gives the
    hidden widths of every layer with its own --widths (train), passed to `spec_from_args`. A tuple
    `width` makes --width a comma-separated sweep (compare: one network per hidden width).
    """
    g = parser.add_argument_group("network")
    layers_help = (f"number of weight layers d; for --arch tree, the tree depth (2^d inputs) (default {layers})"
                   if width is not None else
                   f"--arch tree: the tree depth d (2^d inputs) (default {layers}); a fully connected network has "
                   f"one layer more than its --widths")
    g.add_argument("--layers", type=positive_int, default=layers, help=layers_help)
    g.add_argument("--degree", type=positive_int, default=degree,
                   help=f"degree ℓ of the polynomial ReLU approximation used as activation (default {degree})")
    g.add_argument("--activation", default=None, metavar="POLY",
                   help="explicit activation polynomial instead of a ReLU approximation, e.g. 'z^2', "
                        "'z + z^2/4', 'linear' (deep linear network), or '0,1,1/4' (coefficients)")
    g.add_argument("--approx", choices=("legendre", "chebyshev", "minimax"), default="legendre",
                   help="ReLU approximation scheme for --degree (default legendre: exact rationals)")
    g.add_argument("--radius", type=positive_float, default=1.0,
                   help="half-width R of the interval [-R, R] of the ReLU approximation (default 1)")
    g.add_argument("--arch", choices=("fc", "tree"), default="fc",
                   help="fully connected (fc) or the compositional binary tree of Theory II Fig. 2 (default fc)")
    if isinstance(width, tuple):
        g.add_argument("--width", type=comma_list(positive_int), default=width, metavar="H1,H2,...",
                       help="hidden width h of every hidden layer (fc), one network per value swept")
    elif width is not None:
        g.add_argument("--width", type=positive_int, default=width, help=f"hidden width (fc) (default {width})")
    g.add_argument("--input-dim", type=positive_int, default=input_dim,
                   help=f"input dimension n_0 (fc) (default {input_dim})")
    g.add_argument("--output-dim", type=positive_int, default=1, help="output dimension n_d (fc) (default 1)")
    g.add_argument("--units", type=positive_int, default=2, help="units per tree node Q (default 2)")
    g.add_argument("--shared", action="store_true", help="tree: share node weights across a level (eq. 5)")
    g.add_argument("--no-bias", action="store_true", help="no additive biases")
    g.add_argument("--no-output-activation", action="store_true",
                   help="linear output layer; by default P is applied at the output too, as in Theory II eq. (5), "
                        "for every architecture")
    if not data_flags:
        return
    g.add_argument("--points", type=positive_int, default=points, help=f"number of data points N (default {points})")
    g.add_argument("--targets", choices=("random", "planted"), default="random",
                   help="random targets (a generic instance) or planted ones, fitted exactly by random rational "
                        "weights (a consistent system with a known solution)")
    g.add_argument("--data", default=None, metavar="FILE",
                   help="read the N data points instead: JSON {\"X\": [[..]], \"Y\": [[..]]} or CSV rows "
                        "'x_1,...,x_n0,y_1,...' (numbers or fractions like 1/3, kept exact); overrides --points")
    g.add_argument("--seed", type=nonnegative_int, default=0, help="seed for data and random points (default 0)")


def spec_from_args(args: argparse.Namespace, hidden: tuple[int, ...] | None = None):
    """Return the NetworkSpec described by the network flags (raises InvalidSpecError).

    `hidden` gives the hidden widths of a fully connected network instead of --width and --layers.
    """
    from theory.network.activations import parse, relu_approximation
    from theory.network.spec import NetworkSpec

    check_network_flags(args)
    if args.activation is not None:
        act = parse(args.activation)
    else:
        act = relu_approximation(args.degree, method=args.approx, radius=args.radius)
    if args.arch == "tree":
        return NetworkSpec.tree(args.layers, act, units=args.units, bias=not args.no_bias, shared=args.shared,
                                output_activation=not args.no_output_activation)
    if hidden is not None:
        return NetworkSpec((args.input_dim, *hidden, args.output_dim), act, bias=not args.no_bias,
                           output_activation=not args.no_output_activation)
    width = args.width[0] if isinstance(args.width, tuple) else args.width  # a sweep's template: its first width
    return NetworkSpec.fully_connected(args.input_dim, width, args.layers, act, output_dim=args.output_dim,
                                       bias=not args.no_bias, output_activation=not args.no_output_activation)


def data_from_args(spec, args: argparse.Namespace):
    """Return the ExactData chosen by --data / --targets / --points / --seed (raises InputFileError)."""
    from theory.network.data import planted_data, random_data, read_dataset

    if args.data:
        return read_dataset(args.data, spec)
    if args.targets == "planted":
        return planted_data(spec, args.points, args.seed)[0]
    return random_data(spec, args.points, args.seed)


NETWORK_DESTS = ("layers", "degree", "activation", "approx", "radius", "arch", "width", "input_dim", "output_dim",
                 "units", "shared", "no_bias", "no_output_activation")
DATA_DESTS = ("points", "targets", "data", "seed")


def check_network_flags(args: argparse.Namespace) -> None:
    """Refuse (InvalidSpecError) network flags that contradict each other or that the network would ignore.

    --activation gives P itself (--degree/--approx/--radius describe a ReLU approximation); a tree's
    widths follow from --layers and --units (--width/--input-dim/--output-dim are fc); --units and
    --shared describe a tree; --data FILE holds the points and the targets (--points, --targets).
    """
    from landscape_toolkit.commands._parser import refuse_together, refuse_unless

    refuse_together(args, ["activation"], ["degree", "approx", "radius"],
                    "--activation gives the polynomial P itself; --degree/--approx/--radius build a ReLU approximation")
    tree = getattr(args, "arch", "fc") == "tree"
    refuse_unless(args, ["width", "input_dim", "output_dim"], not tree,
                  "for --arch fc (a tree's widths follow from --layers and --units)")
    refuse_unless(args, ["units", "shared"], tree, "with --arch tree")
    refuse_together(args, ["data"], ["points", "targets"], "--data FILE holds the data points and their targets")
