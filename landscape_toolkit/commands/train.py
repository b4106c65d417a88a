"""`train`: train one or several trajectories (SGD, GD, SGDL, RMSProp) and write a run folder."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from landscape_toolkit.commands._network import add_network_args, spec_from_args
from landscape_toolkit.commands._render import (add_device_flag, add_json_flag, add_progress_flag, add_run_flags, add_size_flag,
                                                check_device, check_size, comma_list, count_or_all, key_values,
                                                nonnegative_float, nonnegative_int, positive_float, positive_int,
                                                print_json, progress_bar)

# Fashion-MNIST is sampled by default so that `train` runs in minutes on a laptop's CPU (measured:
# the DCNN takes about 0.5 s per SGD step of 100 images on 2 cores, so 60,000 images are 10 minutes an
# epoch); the papers' whole sets are `--train-examples all --test-examples all`.
LAPTOP = {"train_examples": 5000, "test_examples": 1000}
LARGE_SETS = ("fashion-mnist",)  # the default data set, installed whole; CIFAR-10 and MNIST come as the user has them
EXAMPLES = """examples:
  cli.py train                                   # the DCNN on 5,000 Fashion-MNIST images (32×32), SGD, batch 100
  cli.py train --train-examples all --test-examples all --epochs 60   # the whole set, as the paper
  cli.py train --dataset cifar10 --data-dir data --epochs 60 --run cifar-sgd
  cli.py train --optimizer sgdl --sgdl-noise 0.001 --trajectories 4 --random-labels
  cli.py train --dataset regression --model theory --input-dim 8 --widths 32 --activation 'z + z^2/4' \
               --optimizer gd --lr 0.05                # one hidden layer of 32; P on the output by default
  cli.py train --dataset digits --model mlp --widths 64,64 --activation tanh
  cli.py train --run cifar-sgd --resume              # continue (or restart after a kill) with the saved settings
  cli.py train --run cifar-sgd --resume --epochs 80  # ... and extend it to 80 epochs
  cli.py train --run stage2 --init-from runs/cifar-sgd:5 --perturb 0.01 --perturb-scale mean_abs --trajectories 4
"""


def _fraction(text: str) -> float:
    value = nonnegative_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1], got {text}")
    return value


def register(subparsers) -> None:
    """Add the `train` subcommand."""
    p = subparsers.add_parser(
        "train", help="train networks (SGD/GD/SGDL/RMSProp) with per-epoch checkpoints into runs/<name>/",
        description="Train K trajectories of one network and write runs/<name>/ with config.json, metrics.json, result.json, "
                    "checkpoint.pt, weights/epoch_NNNN.pt, curves.png and manifest.json. Defaults follow "
                    "Theory II §4 (batch 100, lr 0.01, the 6-layer DCNN) on Fashion-MNIST padded to 32×32.",
        epilog=EXAMPLES)
    d = p.add_argument_group("data")
    d.add_argument("--dataset", choices=["fashion-mnist", "digits", "cifar10", "mnist", "regression"],
                   default="fashion-mnist",
                   help="fashion-mnist (default: Debian's dataset-fashion-mnist, padded to 32×32), digits (8×8, "
                        "embedded, fastest), cifar10/mnist from --data-dir, or planted regression")
    d.add_argument("--data-dir", default="data",
                   help="root of torchvision's layout: cifar-10-batches-py/, MNIST/raw/, FashionMNIST/raw/")
    d.add_argument("--download", action="store_true", help="download CIFAR-10/MNIST with torchvision if missing")
    d.add_argument("--train-examples", type=count_or_all, default=LAPTOP["train_examples"], metavar="N|all",
                   help=f"train on N training examples, a seeded choice, or all (default: {LAPTOP['train_examples']:,} "
                        f"of Fashion-MNIST's 60,000, minutes on a laptop; all of the other sets)")
    d.add_argument("--test-examples", type=count_or_all, default=LAPTOP["test_examples"], metavar="N|all",
                   help=f"score N test examples, a seeded choice recorded in data.json, or all (default: "
                        f"{LAPTOP['test_examples']:,} of Fashion-MNIST's 10,000; all of the other sets)")
    d.add_argument("--random-labels", type=_fraction, nargs="?", const=1.0, default=0.0, metavar="P",
                   help="replace a fraction P of training labels by random classes (flag alone: P = 1)")
    d.add_argument("--data-seed", type=nonnegative_int, default=0, help="seed of split, subset, labels, regression data")
    d.add_argument("--points", type=positive_int, default=256, help="regression: training data points N")
    d.add_argument("--test-points", type=positive_int, default=256, help="regression: test data points")
    d.add_argument("--noise", type=nonnegative_float, default=0.0, help="regression: target noise std")
    m = p.add_argument_group("model (one description: empirics.model_spec.ModelSpec)")
    m.add_argument("--model", choices=["paper-cnn", "mlp", "theory"], default="paper-cnn",
                   help="paper-cnn: Theory II §4.1 DCNN; mlp; theory: the polynomial network of the network flags")
    m.add_argument("--widths", type=comma_list(positive_int), metavar="H1,H2,...",
                   help="hidden widths of every kind, layer by layer (defaults: the paper-cnn's channels 32,64,152,56; "
                        f"the mlp's 256,256; the theory network's {','.join(map(str, THEORY_HIDDEN))}, and the "
                        f"regression teacher's)")
    # The theory network (and the regression teacher) takes the network flags every command shares, with
    # --widths in place of --width/--layers; --activation (default ReLU) and --no-bias also apply to the MLP.
    add_network_args(p, width=None, data_flags=False)
    o = p.add_argument_group("optimisation")
    o.add_argument("--optimizer", choices=["sgd", "gd", "sgdl", "rmsprop"], default="sgd",
                   help="minibatch SGD, full-batch GD, SGD + Langevin noise (Theory IIb eq. 5), RMSProp")
    o.add_argument("--epochs", type=nonnegative_int, default=20, help="passes over the training set (default 20)")
    o.add_argument("--lr", type=positive_float, default=0.01, help="step size γ (default 0.01, Theory II §4.2)")
    o.add_argument("--batch-size", type=positive_int, default=100, help="examples per step (default 100)")
    o.add_argument("--momentum", type=nonnegative_float, default=0.0, help="heavy-ball momentum (default 0)")
    o.add_argument("--weight-decay", type=nonnegative_float, default=0.0, help="L2 coefficient")
    o.add_argument("--sgdl-noise", type=nonnegative_float, default=1e-3, help="SGDL γ′_0, weight-noise std per step")
    o.add_argument("--sgdl-decay", type=nonnegative_float, default=0.5, help="SGDL: γ′_t = γ′_0 (1+t)^-decay")
    o.add_argument("--rmsprop-alpha", type=nonnegative_float, default=0.99, help="RMSProp smoothing of the squared gradient")
    o.add_argument("--rmsprop-eps", type=positive_float, default=1e-8, help="RMSProp denominator guard")
    o.add_argument("--loss", choices=["auto", "cross-entropy", "mse"], default="auto",
                   help="auto: cross-entropy for classes, mse for regression")
    o.add_argument("--gd-chunk", type=positive_int, help="gd: examples per forward pass (default: all)")
    t = p.add_argument_group("trajectories")
    t.add_argument("--seed", type=nonnegative_int, default=0, help="any non-negative integer; trajectory k is the run of seed + k, with named streams for its weights, "
                        "batch order and noise (default 0)")
    t.add_argument("--trajectories", type=positive_int, default=1, help="models trained together, seeds seed..seed+K-1")
    t.add_argument("--parallel", choices=["auto", "vmap", "grouped", "loop"], default="auto",
                   help="K > 1: vmap all trajectories in one pass, grouped (the DCNN as one network with groups=K "
                        "convolutions), or loop over them (auto: grouped for the DCNN, else vmap on CUDA, loop on CPU)")
    t.add_argument("--init-from", metavar="RUN[:EPOCH]",
                   help="start from this run's weights (trajectory 0) at EPOCH (default: its last); a run folder, "
                        "or a run name under --out")
    t.add_argument("--perturb", type=nonnegative_float, default=0.0,
                   help="start noise, as a multiple of each tensor's std (Theory II §4.2: 0.01) or mean |w|")
    t.add_argument("--perturb-scale", choices=("std", "mean_abs"), default="std",
                   help="σ = perturb · std(w) per tensor (§4.2, default) or perturb · mean|w| (Appendix B)")
    t.add_argument("--unperturbed", type=nonnegative_int, default=0, help="leading trajectories not perturbed")
    add_run_flags(p, default="dataset-model-optimizer-sSEED")
    r = p.add_argument_group("run")
    r.add_argument("--resume", action="store_true",
                   help="continue run NAME from its last checkpoint with its saved configuration (only --epochs, to "
                        "extend it, --eval-batch, --eval-every and --parallel may be given; other flags must match)")
    add_device_flag(r, what="training")
    r.add_argument("--float64", action="store_true", help="train in double precision")
    r.add_argument("--precision", choices=["float32", "tf32", "bf16-mixed"], default="float32",
                   help="training steps: float32 (default, the papers' numerics), tf32 (CUDA TensorFloat-32; float32 "
                        "elsewhere) or bf16-mixed (autocast); evaluation stays float32")
    r.add_argument("--channels-last", action="store_true", help="images in channels_last memory format (GPU speed)")
    r.add_argument("--compile", action="store_true", help="torch.compile the forward pass once per run")
    r.add_argument("--eval-batch", type=positive_int, default=1000, help="examples per evaluation pass")
    r.add_argument("--eval-every", type=positive_int, default=1, metavar="K",
                   help="measure train/test loss and error every K epochs and after the last (default 1; "
                        "metrics.json lists the evaluated epochs)")
    r.add_argument("--no-weights", action="store_true", help="do not keep every epoch's weights (only the checkpoint)")
    add_progress_flag(p)
    add_json_flag(p)
    add_size_flag(p)
    p.set_defaults(handler=run_train)


THEORY_HIDDEN = (2, 2)  # the theory network's hidden widths without --widths (the other commands' 3 layers of width 2)
# Every train flag is named after its TrainConfig field (tests/test_cli_flags.py checks both ways),
# except these, whose field has another name or form; the model flags all feed `model` (and the
# regression `teacher`, the polynomial network of the same flags).
_CONVERTED = {"no_weights": ("save_weights", lambda v: not v),
              "float64": ("dtype", lambda v: "float64" if v else "float32"),
              "train_examples": ("subset", None), "test_examples": ("test_subset", None),
              "points": ("n_train", None), "test_points": ("n_test", None)}
MODEL_FLAGS = ("model", "widths", "activation", "no_bias", "layers", "degree", "approx", "radius", "arch",
               "input_dim", "output_dim", "units", "shared", "no_output_activation")
MODEL_FIELDS = ("model", "teacher")
NOT_CONFIG = ("run", "out", "resume", "device", "no_progress", "json", "handler", "command", "_given", "max_memory")


def config_from_args(args: argparse.Namespace, given: set[str] = frozenset()):
    """Return the TrainConfig described by the parsed arguments (each flag to its field; the model flags to
    one ModelSpec, and to the regression teacher). `given`: the flags given, to refuse --layers for fc and
    --widths for a theory tree."""
    from empirics.train import ModelSpec, TrainConfig
    from landscape_core.errors import InvalidSpecError

    if not args.resume:  # on --resume the flags given are checked against the saved run instead
        check_train_flags(args)
    if args.dataset not in LARGE_SETS:  # the laptop-sized sample is for the large sets; the small ones are whole
        args = argparse.Namespace(**{**vars(args), **{k: None for k in LAPTOP if k not in given}})
    if "layers" in given and args.arch == "fc":
        raise InvalidSpecError("--layers is the depth of --arch tree; a fully connected network takes its hidden "
                               "widths from --widths")
    if "widths" in given and args.arch == "tree" and args.model == "theory":
        raise InvalidSpecError("a tree's widths follow from its depth --layers: drop --widths")
    values = {}
    for dest, value in vars(args).items():
        if dest in NOT_CONFIG or dest in MODEL_FLAGS:
            continue
        field, convert = _CONVERTED.get(dest, (dest, None))
        values[field] = convert(value) if convert else value
    network = None
    if args.model == "theory" or args.dataset == "regression":
        network = spec_from_args(args, hidden=None if args.arch == "tree" else (args.widths or THEORY_HIDDEN))
    if args.model == "theory":
        values["model"] = ModelSpec.theory(network)
    else:
        values["model"] = ModelSpec(args.model, widths=args.widths, activation=args.activation, bias=not args.no_bias)
    values["teacher"] = network if args.dataset == "regression" else None
    return TrainConfig.from_dict(values)


def check_train_flags(args: argparse.Namespace) -> None:
    """Refuse (InvalidSpecError) train flags the chosen data, optimizer or model would ignore."""
    from landscape_toolkit.commands._parser import refuse_unless

    regression = args.dataset == "regression"
    refuse_unless(args, ["points", "test_points", "noise"], regression, "with --dataset regression")
    refuse_unless(args, ["random_labels"], not regression, "to classification data sets")
    refuse_unless(args, ["download"], args.dataset in ("cifar10", "mnist"), "with --dataset cifar10 or mnist")
    refuse_unless(args, ["data_dir"], args.dataset in ("cifar10", "mnist"),
                  "with --dataset cifar10 or mnist (the others are installed or built in)")
    refuse_unless(args, ["sgdl_noise", "sgdl_decay"], args.optimizer == "sgdl", "with --optimizer sgdl")
    refuse_unless(args, ["rmsprop_alpha", "rmsprop_eps"], args.optimizer == "rmsprop", "with --optimizer rmsprop")
    refuse_unless(args, ["gd_chunk"], args.optimizer == "gd", "with --optimizer gd")
    refuse_unless(args, ["batch_size"], args.optimizer != "gd", "to minibatch optimizers (gd takes every example)")
    refuse_unless(args, ["perturb_scale", "unperturbed"], args.perturb > 0, "with --perturb")
    refuse_unless(args, ["parallel"], args.trajectories > 1, "with --trajectories above 1")
    polynomial = args.model == "theory" or regression
    refuse_unless(args, ["layers", "degree", "approx", "radius", "arch", "input_dim", "output_dim", "units", "shared",
                         "no_output_activation"], polynomial,
                  "to the polynomial network (--model theory, or the teacher of --dataset regression)")


def given_fields(given: set[str]) -> set[str]:
    """Return the TrainConfig fields set by the flags (argparse dests) given on the command line."""
    fields = {_CONVERTED.get(d, (d,))[0] for d in given if d not in NOT_CONFIG and d not in MODEL_FLAGS}
    return fields | (set(MODEL_FIELDS) if given & set(MODEL_FLAGS) else set())


def given_flags(args: argparse.Namespace) -> set[str]:
    """Return the train flags (argparse dests) given on the command line, a flag given with its default value
    included: `--resume` checks exactly those against the saved run."""
    from landscape_toolkit.commands._parser import given

    return set(given(args)) - set(NOT_CONFIG)


def run_train(args: argparse.Namespace) -> int:
    """Handler of `train`: build the config (or read it back with --resume), train, draw the curves, print the summary."""
    from empirics.plots import plot_curves
    from empirics.train import read_metrics, resumed_config, saved_config, train, train_needs
    from landscape_core.runs import CHECKPOINT, RunDir, check_run_name

    given = given_flags(args)
    check_device(args)
    if args.init_from and not Path(args.init_from.rpartition(":")[0] or args.init_from).exists():
        # a run name under --out
        from empirics.train import split_init_from

        folder, epoch = split_init_from(args.init_from)
        if (Path(args.out) / folder).is_dir():
            args.init_from = str(Path(args.out) / folder) + ("" if epoch is None else f":{epoch}")
    config = config_from_args(args, given)
    name = check_run_name(args.run or f"{config.dataset}-{config.model.kind}-{config.optimizer}-s{config.seed}")
    if args.resume:
        saved = saved_config(RunDir(args.out, name, create=False).path)  # RunNotFoundError for a misspelt name
        config = resumed_config(saved, config, given_fields(given))
    run_dir = Path(args.out) / name
    check_size(args, train_needs(config), out=args.out)
    hint = f"cli.py train --run {name}" + (f" --out {args.out}" if args.out != "runs" else "") + " --resume"
    try:
        with progress_bar(args, f"train {name}") as progress:
            result = train(config, run_dir, resume=args.resume, device=args.device, progress=progress,
                           require_checkpoint=args.resume)
    except KeyboardInterrupt:
        if (run_dir / CHECKPOINT).exists():
            print(f"cli.py train: interrupted; metrics.json says 'interrupted'; continue with: {hint}", file=sys.stderr)
        else:  # nothing to resume from: the folder was removed again (common.runs.discard_on_failure)
            print("cli.py train: interrupted before the first checkpoint; nothing was kept: run the same command "
                  "again to start afresh", file=sys.stderr)
        return 130
    figure = plot_curves(read_metrics(run_dir), run_dir / "curves.png", run_dir.name)
    if args.json:
        out = result.to_dict()
        out["figure"] = str(figure)
        print_json(out)
        return 0
    f = result.final
    fmt = lambda xs: "n/a" if xs is None else ", ".join(f"{x:.4g}" for x in xs)  # noqa: E731
    print(key_values([
        ("run", result.run_dir),
        ("data", f"{config.dataset}: {result.data['n_train']:,} train / {result.data['n_test']:,} test, "
                 f"input {tuple(result.data['input_shape'])}"
                 + (f", {config.random_labels:.0%} labels randomised" if config.random_labels else "")
                 + (" (a seeded sample: --train-examples all --test-examples all for the whole set)"
                    if config.dataset in LARGE_SETS and (config.subset or config.test_subset) else "")),
        ("model", f"{config.model.describe()}, {result.n_params:,} parameters"),
        ("optimizer", f"{config.optimizer}, lr {config.lr}, batch {'all' if config.optimizer == 'gd' else config.batch_size}"),
        ("trajectories", f"{result.trajectories} (seeds {config.seed}..{config.seed + result.trajectories - 1})"),
        ("device", result.device),
        ("epochs", f"{result.epochs}" + (f" (resumed from {result.resumed_from})" if result.resumed_from is not None else "")),
        ("train loss", fmt(f.train_loss)),
        ("train error", fmt(f.train_error)),
        ("test loss", fmt(f.test_loss)),
        ("test error", fmt(f.test_error)),
        ("time", f"{result.seconds:.1f} s total, " + (f"{result.seconds_per_epoch:.3g} s per epoch (optimisation)"
                                                        if result.seconds_per_epoch is not None else
                                                        "no epoch left to run")),
        ("figure", str(figure)),
    ]))
    return 0
