"""`probe`, `mds` and `compare`: landscape probes of trained runs, MDS of trajectories, theory against training."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from commands._render import (add_json_flag, key_values, nonnegative_int, positive_float, positive_int, print_json,
                              table)
from theory.errors import InvalidSpecError

PROBE_EXAMPLES = """examples:
  cli.py train --run digits-cnn --trajectories 3 --epochs 30 --lr 0.1 --subset 600
  cli.py probe perturb --run runs/digits-cnn --alphas 0.01,0.1,0.25,1
  cli.py probe interpolate --run runs/digits-cnn --models 0,1          # a line; --models 0,1,2: the simplex
  cli.py probe radius --run runs/digits-cnn --epsilon 0.05 --subset both
  cli.py probe hessian --run runs/digits-cnn --method all --examples 200
  cli.py probe agreement --run runs/digits-cnn --split test
  cli.py probe hessian --demo                                          # a fresh MLP on digits, no run needed
"""

COMPARE_EXAMPLES = """examples:
  cli.py compare                                  # fc 3-h-1, P = z + z^2/4, N = 10, h = 1,2,3,4,6,8
  cli.py compare --layers 3 --widths 1,2,3,4 --points 16
  cli.py compare --optimizer gd --iters 5000      # plain gradient descent: where it fails to reach zero
"""


def _csv(kind):
    def parse(text: str):
        try:
            values = tuple(kind(v) for v in text.replace(" ", "").split(",") if v)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated values, got {text!r}") from None
        if not values:
            raise argparse.ArgumentTypeError("expected at least one value")
        return values

    return parse


def _positive_ints(text: str) -> tuple[int, ...]:
    values = _csv(int)(text)
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def _nonnegative_floats(text: str) -> tuple[float, ...]:
    values = _csv(float)(text)
    if any(not v >= 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected non-negative numbers, got {text!r}")
    return values


# ----------------------------------------------------------------------------------------------
# Parsers


def _common(parser: argparse.ArgumentParser) -> None:
    src = parser.add_argument_group("source")
    src.add_argument("--run", help="run folder written by `cli.py train`")
    src.add_argument("--demo", action="store_true", help="probe freshly initialised MLPs on digits instead of a run")
    src.add_argument("--epoch", type=nonnegative_int, help="use this epoch's saved weights (default: the last)")
    src.add_argument("--split", choices=("train", "test"), default="train", help="data the probe evaluates on")
    src.add_argument("--examples", type=positive_int, help="use only the first N examples of the split")
    src.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto (default cpu)")
    pr = parser.add_argument_group("probe")
    pr.add_argument("--bn", choices=("recompute", "eval", "batch", "interpolate"), default="recompute",
                    help="batch-norm statistics while probing: recompute at every point (default, Garipov et al.), "
                         "eval (stored, PyHessian), batch (batch statistics), interpolate (interpolation only, "
                         "mixes running statistics)")
    pr.add_argument("--batch-size", type=positive_int, help="examples per forward pass (default: all at once)")
    pr.add_argument("--seed", type=int, default=0, help="seed of noise, directions and probes (default 0)")
    out = parser.add_argument_group("output")
    out.add_argument("--name", help="output folder name under --out (default: <kind>-<run name>)")
    out.add_argument("--out", default="runs", help="parent folder of run folders (default runs)")
    out.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")
    add_json_flag(parser)


def register(subparsers) -> None:
    """Add the `probe`, `mds` and `compare` subcommands."""
    p = subparsers.add_parser(
        "probe", help="probe the landscape around trained models: perturb, interpolate, radius, hessian, agreement",
        description="Local probes of a trained run (Theory II §4, Theory IIb §3). Each writes runs/<name>/ with "
                    "config.json, metrics.json, a figure and manifest.json.",
        epilog=PROBE_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    kinds = p.add_subparsers(dest="kind", metavar="KIND", parser_class=type(p))
    kinds.required = True

    k = kinds.add_parser("perturb", help="layer-wise Gaussian perturbation, σ_l = α·std or α·mean|w| (Theory II §4)")
    _common(k)
    k.add_argument("--alphas", type=_nonnegative_floats, default=(0.01, 0.1, 0.25, 0.5, 1.0),
                   help="relative sizes α (default 0.01,0.1,0.25,0.5,1)")
    k.add_argument("--scale", choices=("std", "mean_abs"), default="std",
                   help="σ_l = α·std(w_l) (§4.2) or α·mean|w_l| (Appendix B) (default std)")
    k.add_argument("--samples", type=positive_int, default=4, help="perturbations per α (default 4)")
    k.add_argument("--trajectory", type=nonnegative_int, default=0, help="which trajectory of the run (default 0)")

    k = kinds.add_parser("interpolate", help="loss along a line between two models, or on the simplex of three")
    _common(k)
    k.add_argument("--models", type=_csv(int), default=(0, 1),
                   help="trajectories to interpolate: two (line) or three (simplex, Theory IIb eq. 10) (default 0,1)")
    k.add_argument("--points", type=positive_int, default=21, help="points on the line / simplex resolution")
    k.add_argument("--range", type=_csv(float), default=(-0.25, 1.25), help="t range of the line (default -0.25,1.25)")

    k = kinds.add_parser("radius", help="flatness radius r(w, δw, ε) of Theory IIb eq. 11 (Table 1)")
    _common(k)
    k.add_argument("--epsilon", type=positive_float, default=0.05, help="tolerance ε (default 0.05, Table 1)")
    k.add_argument("--directions", type=positive_int, default=10, help="random unit directions T (default 10)")
    k.add_argument("--subset", choices=("all", "top", "both"), default="both", help="all weights, top layer, or both")
    k.add_argument("--quantity", choices=("error", "loss"), default="error", help="Î: training error or loss")
    k.add_argument("--r-max", type=positive_float, default=1000.0, help="search limit (default 1000)")
    k.add_argument("--trajectory", type=nonnegative_int, default=0, help="which trajectory (default 0)")

    k = kinds.add_parser("hessian", help="Hessian spectrum: exact (small K), top eigenvalues (eigsh), SLQ density")
    _common(k)
    k.add_argument("--method", choices=("auto", "exact", "top", "density", "all"), default="auto",
                   help="auto: exact when K ≤ 2000, else top + density; all: every method that fits")
    k.add_argument("--top", type=positive_int, default=5, help="number of top eigenvalues (default 5)")
    k.add_argument("--probes", type=positive_int, default=4, help="SLQ probes (default 4)")
    k.add_argument("--steps", type=positive_int, default=40, help="SLQ Lanczos steps (default 40)")
    k.add_argument("--tol", type=positive_float, default=1e-6, help="relative zero threshold for the nullity")
    k.add_argument("--trajectory", type=nonnegative_int, default=0, help="which trajectory (default 0)")

    k = kinds.add_parser("agreement", help="P(col correct | row correct), P(col wrong | row wrong) (Theory II Fig. 18)")
    _common(k)
    k.add_argument("--no-reference", action="store_true", help="omit the randomly initialised reference model")
    for sub in kinds.choices.values():
        sub.set_defaults(handler=run_probe)

    m = subparsers.add_parser(
        "mds", help="classical MDS of saved weight trajectories, per layer (Theory II §4, Fig. 3)",
        description="Embed every saved epoch of every trajectory of one or more runs in the plane with classical "
                    "MDS (1 − cosine or Euclidean), one figure per layer, points labelled by training error.",
        epilog="examples:\n  cli.py mds --run runs/digits-cnn --layers 2,4\n"
               "  cli.py mds --run runs/a --run runs/b --metric euclidean --every 2",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    m.add_argument("--run", action="append", required=True, help="run folder (repeat to embed several runs together)")
    m.add_argument("--layers", type=_csv(int), default=(2,), help="weight layers to embed; 0 means all weights (default 2)")
    m.add_argument("--metric", choices=("cosine", "euclidean"), default="cosine", help="dissimilarity (default cosine)")
    m.add_argument("--every", type=positive_int, default=1, help="keep every k-th saved epoch (default 1)")
    m.add_argument("--name", help="output folder name (default mds-<first run name>)")
    m.add_argument("--out", default="runs", help="parent folder (default runs)")
    add_json_flag(m)
    m.set_defaults(handler=run_mds)

    c = subparsers.add_parser(
        "compare", help="train polynomial networks to zero loss; Hessian nullity vs K − rank J vs theory's K − r",
        description="For a sweep of hidden widths (K/N from under- to over-parametrized), train theory's "
                    "polynomial network to zero square loss in float64 and compare the Hessian nullity, the "
                    "Jacobian rank and the flatness radius with theory's predicted dimension K − r.",
        epilog=COMPARE_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("--input-dim", type=positive_int, default=3, help="n_0 (default 3)")
    c.add_argument("--widths", type=_positive_ints, default=(1, 2, 3, 4, 6, 8), help="hidden widths (default 1,2,3,4,6,8)")
    c.add_argument("--layers", type=positive_int, default=2, help="weight layers d (default 2)")
    c.add_argument("--activation", default="z + z^2/4", help="polynomial activation (default 'z + z^2/4')")
    c.add_argument("--points", type=positive_int, default=10, help="data points N (default 10)")
    c.add_argument("--no-bias", action="store_true", help="no biases")
    c.add_argument("--output-activation", action="store_true", help="apply P at the output too")
    c.add_argument("--data", choices=("random", "planted"), default="random",
                   help="random targets (generic) or targets of a random network of the widest width")
    c.add_argument("--optimizer", choices=("lm", "gd"), default="lm", help="Levenberg–Marquardt or gradient descent")
    c.add_argument("--iters", type=positive_int, default=400, help="iterations per restart (default 400)")
    c.add_argument("--lr", type=positive_float, default=0.01, help="gd step size (default 0.01)")
    c.add_argument("--restarts", type=positive_int, default=3, help="initialisations per width (default 3)")
    c.add_argument("--zero-loss", type=positive_float, default=1e-18, help="Σr² counted as zero (default 1e-18)")
    c.add_argument("--tol", type=positive_float, default=1e-9, help="relative eigenvalue threshold τ (default 1e-9)")
    c.add_argument("--epsilon", type=positive_float, default=1e-4, help="flatness-radius ε on Σr² (default 1e-4)")
    c.add_argument("--directions", type=positive_int, default=20, help="radius directions (default 20)")
    c.add_argument("--seed", type=int, default=0, help="seed of data, inits, directions (default 0)")
    c.add_argument("--name", default="compare", help="output folder name (default compare)")
    c.add_argument("--out", default="runs", help="parent folder (default runs)")
    c.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    add_json_flag(c)
    c.set_defaults(handler=run_compare_cmd)


# ----------------------------------------------------------------------------------------------
# Loading what to probe


def _source(args):
    """Return (models, description dict, X, Y, loss kind, config factory) for --run or --demo."""
    from empirics.data import DataSpec, load_dataset
    from empirics.train import TrainConfig, build_model, load_run

    if bool(args.run) == bool(args.demo):
        raise InvalidSpecError("give either --run RUN_FOLDER or --demo")
    if args.demo:
        config = TrainConfig(dataset="digits", model="mlp", widths=(32,))
        data = load_dataset(DataSpec("digits"), args.device)
        models = [build_model(config, data.input_shape, data.output_dim, seed).to(data.device) for seed in range(3)]
        source = {"demo": "three freshly initialised MLPs 64-32-10 (seeds 0, 1, 2) on scikit-learn digits"}
    else:
        path = Path(args.run)
        if not path.is_dir():
            raise InvalidSpecError(f"run folder {path} does not exist")
        run = load_run(path, args.device, epoch=args.epoch)
        config = run.config
        data = load_dataset(run.data_spec, args.device, dtype=config.torch_dtype)
        models = run.models
        source = {"run": str(path), "epoch": run.epoch, "trajectories": len(models), "model": config.model}
    X, Y = (data.x_train, data.y_train) if args.split == "train" else (data.x_test, data.y_test)
    if args.examples:
        X, Y = X[:args.examples], Y[:args.examples]
    loss = "cross_entropy" if data.num_classes is not None else "mse"
    source.update({"split": args.split, "examples": int(len(X)), "loss": loss})

    def fresh(seed: int):
        return build_model(config, data.input_shape, data.output_dim, seed).to(X.device)

    return models, source, X, Y, loss, fresh


def _pick(models, index: int):
    if index >= len(models):
        raise InvalidSpecError(f"the run has {len(models)} trajectories; trajectory {index} does not exist")
    return models[index]


# ----------------------------------------------------------------------------------------------
# Handlers


def run_probe(args) -> int:
    """Handler of `probe KIND`: load the models, run one probe, save config, metrics, figure, manifest."""
    import torch

    from empirics import plots, probes
    from common.records import RunDir

    start = time.perf_counter()
    if args.bn == "interpolate" and args.kind != "interpolate":
        raise InvalidSpecError("--bn interpolate mixes running statistics along an interpolation: use it with "
                               "`probe interpolate` only")
    models, source, X, Y, loss, fresh = _source(args)
    name = args.name or f"{args.kind}-{Path(args.run).name if args.run else 'demo'}"
    rd = RunDir(args.out, name)
    options = {k: v for k, v in vars(args).items() if k not in ("handler", "json", "no_progress", "out", "name")}
    rd.start({"probe": args.kind, **options, "source": source}, args.seed)
    show = not args.no_progress
    objective = lambda model: probes.Objective(model, X, Y, loss=loss, batch_size=args.batch_size, bn=args.bn)  # noqa: E731
    rows, summary, figure = [], [], rd.file(f"{args.kind}.png")

    if args.kind == "perturb":
        model = _pick(models, args.trajectory)
        obj = objective(model)
        res = probes.perturbation_probe(obj, obj.flat(), probes.blocks_of(model), args.alphas, args.samples,
                                        args.scale, args.seed, progress=show)
        metrics = res.to_dict()
        plots.plot_perturbation(metrics, figure)
        err = metrics["error_mean"] or [None] * len(res.alphas)
        rows = [(f"{a:g}", f"{m:.4g} ± {s:.2g}", "n/a" if e is None else f"{e:.4f}")
                for a, m, s, e in zip(res.alphas, metrics["loss_mean"], metrics["loss_std"], err)]
        headers = ("α", "loss (mean ± std)", "error (mean)")
        summary = [("unperturbed", f"loss {res.base.loss:.4g}, error {res.base.error}"), ("scale", args.scale)]
    elif args.kind == "interpolate":
        idx = tuple(args.models)
        if len(idx) not in (2, 3) or len(set(idx)) != len(idx):
            raise InvalidSpecError("--models takes two distinct trajectories (a line) or three (the simplex)")
        chosen = [_pick(models, i) for i in idx]
        obj = objective(chosen[0])
        ws = [torch.cat([p.detach().reshape(-1) for p in m.parameters()]) for m in chosen]
        buffers = tuple(probes.module_buffers(m) for m in chosen)
        if len(idx) == 2:
            if len(args.range) != 2 or not args.range[0] < args.range[1]:
                raise InvalidSpecError("--range takes two increasing numbers, e.g. -0.25,1.25")
            import numpy as np

            ts = np.linspace(args.range[0], args.range[1], max(args.points, 2))
            res = probes.interpolate_linear(obj, ws[0], ws[1], ts, buffers=buffers, progress=show)
            metrics = res.to_dict()
            plots.plot_interpolation(metrics, figure)
            rows = [(f"{t:.3f}", f"{l:.4g}", "n/a" if res.error is None else f"{e:.4f}")
                    for t, l, e in zip(res.ts, res.loss, res.error if res.error is not None else res.ts)]
            headers = ("t", "loss", "error")
            summary = [("distance", f"{res.distance:.4g}"), ("barrier", f"{res.barrier:.4g}"), ("bn", args.bn)]
        else:
            res = probes.interpolate_simplex(obj, *ws, resolution=args.points, buffers=buffers, progress=show)
            metrics = res.to_dict()
            plots.plot_simplex(metrics, figure, "error" if res.error is not None else "loss")
            corners = [int(i) for i in (res.lambdas.argmax(axis=0))]
            centre = int(abs(res.lambdas - 1 / 3).sum(axis=1).argmin())
            rows = [(f"({', '.join(f'{v:.2f}' for v in res.lambdas[i])})", f"{res.loss[i]:.4g}",
                     "n/a" if res.error is None else f"{res.error[i]:.4f}") for i in corners + [centre]]
            headers = ("λ", "loss", "error")
            summary = [("grid points", len(res.lambdas)), ("max loss", f"{res.loss.max():.4g}"), ("bn", args.bn)]
    elif args.kind == "radius":
        model = _pick(models, args.trajectory)
        obj = objective(model)
        subsets = ("all", "top") if args.subset == "both" else (args.subset,)
        results = [probes.radius_probe(obj, obj.flat(), args.epsilon, args.directions, s, args.quantity,
                                       args.seed, args.r_max, probes.blocks_of(model), progress=show)
                   for s in subsets]
        metrics = {s: r.to_dict() for s, r in zip(subsets, results)}
        plots.plot_radius([r.to_dict() for r in results], figure, names=list(subsets))
        rows = [(s, f"{r.mean:.4g} ± {r.std:.2g}", int(r.censored.sum()), r.radii.size) for s, r in zip(subsets, results)]
        headers = ("weights", "radius (mean ± std)", "censored", "directions")
        summary = [("ε", args.epsilon), ("quantity", args.quantity)]
    elif args.kind == "hessian":
        from empirics import hessian

        model = _pick(models, args.trajectory)
        obj = objective(model)
        w = obj.flat()
        fn = obj.loss_fn(w)
        k = obj.n_params
        method = args.method
        exact_ok = k <= 2000
        if method == "exact" and not exact_ok:
            raise InvalidSpecError(f"an exact Hessian of {k:,} weights is too large here; use --method top or density")
        want = {"auto": ["exact"] if exact_ok else ["top", "density"],
                "all": (["exact"] if exact_ok else []) + ["top", "density"]}.get(method, [method])
        metrics = {"n_params": k}
        if "exact" in want:
            metrics["exact"] = hessian.hessian_spectrum(fn, w, tol=args.tol).to_dict()
        if "top" in want:
            metrics["top"] = hessian.top_eigenvalues(fn, w, k=min(args.top, k - 1), seed=args.seed).to_dict()
        if "density" in want:
            metrics["density"] = hessian.spectral_density(fn, w, args.probes, args.steps, args.seed).to_dict()
        plots.plot_hessian(metrics, figure)
        rows = []
        if "exact" in metrics:
            e = metrics["exact"]
            rows.append(("exact", f"{e['eigenvalues'][0]:.4g}", f"{e['eigenvalues'][-1]:.4g}",
                         f"nullity {e['nullity']} (τ = {e['tol']:g}), {e['n_negative']} negative"))
        if "top" in metrics:
            t = metrics["top"]
            rows.append(("eigsh", f"{t['eigenvalues'][0]:.4g}", f"{t['eigenvalues'][-1]:.4g}",
                         f"top {len(t['eigenvalues'])}, {t['n_matvec']} HVPs"))
        if "density" in metrics:
            import numpy as np

            d = metrics["density"]
            nodes = np.array(d["nodes"])
            weights = np.array(d["weights"])
            trace = float(np.mean(np.sum(weights * nodes, axis=1))) * k
            rows.append(("SLQ", f"{nodes.max():.4g}", f"{nodes.min():.4g}", f"trace ≈ {trace:.4g}"))
        headers = ("method", "λ_max", "λ_min", "notes")
        summary = [("parameters", f"{k:,}"), ("loss at w", f"{obj.evaluate(w).loss:.4g}")]
    else:  # agreement
        if loss != "cross_entropy":
            raise InvalidSpecError("agreement matrices need a classification run")
        import numpy as np

        chosen = list(models)
        labels = [f"traj {i}" for i in range(len(models))]
        if not args.no_reference:
            chosen.append(fresh(10_000 + args.seed))
            labels.append("random init")
        objs = [objective(m) for m in chosen]
        correct = np.stack([o.correct(o.flat()) for o in objs])
        res = probes.agreement_matrices(correct, labels)
        metrics = res.to_dict()
        plots.plot_agreement(metrics, figure)
        rows = [(lab, f"{acc:.4f}", " ".join(f"{v:.2f}" for v in cc))
                for lab, acc, cc in zip(labels, res.accuracy, res.correct_given_correct)]
        headers = ("model", "accuracy", "P(col correct | row correct)")
        summary = [("split", args.split)]
    metrics = {"probe": args.kind, "result": metrics, "source": source, "seconds": time.perf_counter() - start}
    rd.write_json("metrics.json", metrics)
    if args.json:
        print_json({**metrics, "run_dir": str(rd.path), "figure": str(figure)})
        return 0
    print(key_values([("probe", args.kind), ("source", source.get("run") or source.get("demo")),
                      ("data", f"{source['split']}, {source['examples']} examples, loss {loss}"),
                      ("batch norm", args.bn)] + summary))
    print()
    print(table(rows, headers))
    print()
    print(key_values([("output", rd.path), ("figure", figure), ("time", f"{metrics['seconds']:.1f} s")]))
    return 0


def run_mds(args) -> int:
    """Handler of `mds`: embed every saved epoch of every trajectory, per layer; save figures and metrics."""
    import numpy as np

    from empirics import plots
    from empirics.mds import mds
    from empirics.models import layer_slice
    from empirics.train import load_run, load_trajectory
    from common.records import RunDir

    start = time.perf_counter()
    rows_w, labels, groups, epochs_all, model = [], [], [], [], None
    for r_i, run_path in enumerate(args.run):
        path = Path(run_path)
        if not path.is_dir():
            raise InvalidSpecError(f"run folder {path} does not exist")
        run = load_run(path, "cpu")
        model = model or run.models[0]
        epochs, W = load_trajectory(path, "cpu")
        errors = {m.epoch: m.train_error for m in run.metrics}
        for e_i in range(0, len(epochs), args.every):
            for t in range(W.shape[1]):
                rows_w.append(W[e_i, t].double().numpy())
                err = errors.get(epochs[e_i])
                labels.append(float(err[t]) if err is not None else f"e{epochs[e_i]}")
                groups.append(r_i * W.shape[1] + t)
                epochs_all.append(epochs[e_i])
    Wm = np.stack(rows_w)
    if len(Wm) < 3:
        raise InvalidSpecError(f"MDS needs at least 3 saved weight vectors, found {len(Wm)}")
    name = args.name or f"mds-{Path(args.run[0]).name}"
    rd = RunDir(args.out, name)
    rd.start({"runs": list(args.run), "layers": list(args.layers), "metric": args.metric, "every": args.every}, None)
    results, table_rows, figures = {}, [], []
    for layer in args.layers:
        if layer == 0:
            cols = np.arange(Wm.shape[1])
        else:
            cols = np.concatenate([np.arange(Wm.shape[1])[s] for s in layer_slice(model, layer)])
        res = mds(Wm[:, cols], args.metric, 2, labels, layer if layer else None)
        results[str(layer)] = {**res.to_dict(), "groups": groups, "epochs": epochs_all}
        fig = plots.plot_mds(res.to_dict(), rd.file(f"mds_layer{layer}.png"), groups=groups)
        figures.append(str(fig))
        table_rows.append((layer if layer else "all", cols.size, len(Wm), f"{res.stress:.4f}", f"{res.explained:.3f}"))
    metrics = {"layers": results, "n_points": len(Wm), "seconds": time.perf_counter() - start, "figures": figures}
    rd.write_json("metrics.json", metrics)
    if args.json:
        print_json({"run_dir": str(rd.path), **{k: v for k, v in metrics.items() if k != "layers"},
                    "stress": {k: v["stress"] for k, v in results.items()}})
        return 0
    print(table(table_rows, ("layer", "weights", "models", "stress-1", "explained (2D)")))
    print()
    print(key_values([("metric", args.metric), ("output", rd.path), ("figures", ", ".join(figures)),
                      ("time", f"{metrics['seconds']:.1f} s")]))
    return 0


def run_compare_cmd(args) -> int:
    """Handler of `compare`: run the sweep, save config/metrics/figure/manifest, print the table."""
    from empirics.compare import CompareConfig, run_compare
    from empirics.plots import plot_compare
    from common.records import RunDir

    config = CompareConfig(input_dim=args.input_dim, widths=args.widths, layers=args.layers,
                           activation=args.activation, n_points=args.points, bias=not args.no_bias,
                           output_activation=args.output_activation, data=args.data, optimizer=args.optimizer,
                           max_iters=args.iters, lr=args.lr, restarts=args.restarts, zero_loss=args.zero_loss,
                           tol=args.tol, epsilon=args.epsilon, n_directions=args.directions, seed=args.seed)
    rd = RunDir(args.out, args.name)
    rd.start(config, config.seed)
    result = run_compare(config, progress=not args.no_progress)
    metrics = result.to_dict()
    rd.write_json("metrics.json", metrics)
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
