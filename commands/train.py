"""`train`: train one or several trajectories (SGD, GD, SGDL, RMSProp) and write a run folder."""
from __future__ import annotations

import argparse
from pathlib import Path

from commands._network import add_network_args, spec_from_args
from commands._render import (add_json_flag, add_progress_flag, comma_list, key_values, nonnegative_float,
                              nonnegative_int, positive_float, positive_int, print_json, progress_bar)

EXAMPLES = """examples:
  cli.py train                                   # the DCNN on Fashion-MNIST (32×32), SGD, batch 100, lr 0.01
  cli.py train --dataset cifar10 --data-dir data --epochs 60 --run cifar-sgd
  cli.py train --optimizer sgdl --sgdl-noise 0.001 --trajectories 4 --random-labels
  cli.py train --dataset regression --model theory --input-dim 8 --width 32 --layers 2 --activation 'z + z^2/4' \
               --optimizer gd --lr 0.05                # the network flags of every command; P on the output by default
  cli.py train --run cifar-sgd --epochs 80 --resume   # continue (or restart after a kill) from the last epoch
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
        description="Train K trajectories of one network and write runs/<name>/ with config.json, metrics.json, "
                    "checkpoint.pt, weights/epoch_NNNN.pt, curves.png and manifest.json. Defaults follow "
                    "Theory II §4 (batch 100, lr 0.01, the 6-layer DCNN) on Fashion-MNIST padded to 32×32.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    d = p.add_argument_group("data")
    d.add_argument("--dataset", choices=["fashion-mnist", "digits", "cifar10", "mnist", "regression"],
                   default="fashion-mnist",
                   help="fashion-mnist (default: Debian's dataset-fashion-mnist, padded to 32×32), digits (8×8, "
                        "embedded, fastest), cifar10/mnist from --data-dir, or planted regression")
    d.add_argument("--data-dir", default="data",
                   help="root of torchvision's layout: cifar-10-batches-py/, MNIST/raw/, FashionMNIST/raw/")
    d.add_argument("--download", action="store_true", help="download CIFAR-10/MNIST with torchvision if missing")
    d.add_argument("--subset", type=positive_int, help="keep this many training examples (seeded choice)")
    d.add_argument("--random-labels", type=_fraction, nargs="?", const=1.0, default=0.0, metavar="P",
                   help="replace a fraction P of training labels by random classes (flag alone: P = 1)")
    d.add_argument("--data-seed", type=nonnegative_int, default=0, help="seed of split, subset, labels, regression data")
    d.add_argument("--n-train", type=positive_int, default=256, help="regression: training points")
    d.add_argument("--n-test", type=positive_int, default=256, help="regression: test points")
    d.add_argument("--noise", type=nonnegative_float, default=0.0, help="regression: target noise std")
    m = p.add_argument_group("model")
    m.add_argument("--model", choices=["paper-cnn", "mlp", "theory"], default="paper-cnn",
                   help="paper-cnn: Theory II §4.1 DCNN; mlp; theory: the polynomial network of the network flags")
    m.add_argument("--widths", type=comma_list(positive_int),
                   help="paper-cnn: 4 hidden channel counts (default 32,64,152,56); mlp: hidden widths (default 256,256)")
    # The theory network (and the regression teacher) takes the network flags every command shares;
    # --activation (default ReLU) and --no-bias also apply to the CNN and the MLP.
    add_network_args(p, data_flags=False)
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
    o.add_argument("--loss", choices=["auto", "cross-entropy", "mse"], default="auto",
                   help="auto: cross-entropy for classes, mse for regression")
    o.add_argument("--gd-chunk", type=positive_int, help="gd: examples per forward pass (default: all)")
    t = p.add_argument_group("trajectories")
    t.add_argument("--seed", type=nonnegative_int, default=0, help="trajectory k uses seed + k (default 0)")
    t.add_argument("--trajectories", type=positive_int, default=1, help="models trained together, seeds seed..seed+K-1")
    t.add_argument("--parallel", choices=["auto", "vmap", "loop"], default="auto",
                   help="K > 1: vmap all trajectories in one pass, or loop over them (auto: vmap on CUDA, loop on CPU)")
    t.add_argument("--init-from", metavar="RUN_DIR", help="start from this run's last weights (trajectory 0)")
    t.add_argument("--perturb", type=nonnegative_float, default=0.0,
                   help="start noise, as a multiple of each tensor's std (Theory II §4.2: 0.01)")
    t.add_argument("--unperturbed", type=nonnegative_int, default=0, help="leading trajectories not perturbed")
    r = p.add_argument_group("run")
    r.add_argument("--run", metavar="NAME", help="run folder name (default: dataset-model-optimizer-sSEED)")
    r.add_argument("--out", default="runs", help="root folder of runs (default runs/)")
    r.add_argument("--resume", action="store_true", help="continue the run from its last checkpoint")
    r.add_argument("--device", default="auto", help="auto (cuda when present), cpu, cuda, cuda:N")
    r.add_argument("--float64", action="store_true", help="train in double precision")
    r.add_argument("--eval-batch", type=positive_int, default=1000, help="examples per evaluation pass")
    r.add_argument("--no-weights", action="store_true", help="do not keep every epoch's weights (only the checkpoint)")
    add_progress_flag(p)
    add_json_flag(p)
    p.set_defaults(handler=run_train)


def config_from_args(args):
    """Return the TrainConfig described by the parsed arguments."""
    from empirics.train import TrainConfig

    return TrainConfig(
        dataset=args.dataset, data_dir=args.data_dir, subset=args.subset, random_labels=args.random_labels,
        data_seed=args.data_seed, download=args.download, n_train=args.n_train, n_test=args.n_test, noise=args.noise,
        model=args.model, widths=args.widths, activation=args.activation or "relu", bias=not args.no_bias,
        network=spec_from_args(args) if args.model == "theory" or args.dataset == "regression" else None,
        optimizer=args.optimizer, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size, momentum=args.momentum,
        weight_decay=args.weight_decay, sgdl_noise=args.sgdl_noise, sgdl_decay=args.sgdl_decay, loss=args.loss,
        gd_chunk=args.gd_chunk, trajectories=args.trajectories, seed=args.seed, parallel=args.parallel,
        init_from=args.init_from, perturb=args.perturb, unperturbed=args.unperturbed, eval_batch=args.eval_batch,
        save_weights=not args.no_weights, dtype="float64" if args.float64 else "float32")


def run_train(args) -> int:
    """Handler of `train`: build the config, train, draw the curves, print the summary."""
    from empirics.plots import plot_curves
    from empirics.train import read_metrics, train

    config = config_from_args(args)
    name = args.run or f"{config.dataset}-{config.model}-{config.optimizer}-s{config.seed}"
    run_dir = Path(args.out) / name
    with progress_bar(args, f"train {name}") as progress:
        result = train(config, run_dir, resume=args.resume, device=args.device, progress=progress)
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
        ("data", f"{config.dataset}: {result.data['n_train']} train / {result.data['n_test']} test, "
                 f"input {tuple(result.data['input_shape'])}"
                 + (f", {config.random_labels:.0%} labels randomised" if config.random_labels else "")),
        ("model", f"{config.model}, {result.n_params:,} parameters, "
                  + (config.network.describe() if config.model == "theory" else f"activation {config.activation}")),
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
