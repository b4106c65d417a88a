"""`cli.py probe KIND`: local probes of trained runs (perturb, interpolate, radius, hessian, agreement)."""
from __future__ import annotations

import argparse
from pathlib import Path

from landscape_toolkit.commands._parser import refuse_together, refuse_unless
from landscape_toolkit.commands._render import (add_device_flag, add_from_flag, add_json_flag, add_progress_flag,
                                                add_run_flags, add_size_flag, check_device, check_size,
                                                comma_list, count_or_all, key_values, nonnegative_float,
                                                nonnegative_int, positive_float, positive_int, print_json,
                                                progress_bar, table)


def register(subparsers) -> None:
    """Add the `probe` subcommand and its kinds."""
    p = subparsers.add_parser(
        "probe", help="probe the landscape around trained models: perturb, interpolate, radius, hessian, agreement",
        description="Local probes of a trained run (Theory II §4, Theory IIb §3). Each writes runs/<name>/ with "
                    "config.json, result.json, a figure and manifest.json.",
        epilog=PROBE_EXAMPLES)
    kinds = p.add_subparsers(dest="kind", metavar="KIND", parser_class=type(p))
    kinds.required = True

    k = kinds.add_parser("perturb", help="layer-wise Gaussian perturbation, σ_l = α·std or α·mean|w| (Theory II §4)",
                         description="Perturb each layer by Gaussian noise of size α·std(w_l) (Theory II §4) or "
                                     "α·mean|w_l| (Appendix B) and measure the loss and error, several draws per α.",
                         epilog=KIND_EXAMPLES["perturb"])
    _common(k)
    k.add_argument("--alphas", type=comma_list(nonnegative_float), default=(0.01, 0.1, 0.25, 0.5, 1.0),
                   help="relative sizes α (default 0.01,0.1,0.25,0.5,1)")
    k.add_argument("--scale", choices=("std", "mean_abs"), default="std",
                   help="σ_l = α·std(w_l) (§4.2) or α·mean|w_l| (Appendix B) (default std)")
    k.add_argument("--draws", dest="samples", type=positive_int, default=4, help="perturbations drawn per α")
    k.add_argument("--trajectory", type=nonnegative_int, default=0, help="which trajectory of the run (default 0)")

    k = kinds.add_parser("interpolate", help="loss along a line between two models, or on the simplex of three",
                         description="Loss and error along (1 − t) w_a + t w_b between two trajectories, or on the "
                                     "simplex of three (Theory IIb eq. 10).", epilog=KIND_EXAMPLES["interpolate"])
    _common(k)
    k.add_argument("--trajectory", dest="models", type=comma_list(nonnegative_int), default=(0, 1), metavar="I,J[,K]",
                   help="the trajectories interpolated: two (a line) or three (the simplex, Theory IIb eq. 10)")
    k.add_argument("--grid", dest="points", type=positive_int, default=21,
                   help="grid points on the line, or the simplex's resolution")
    k.add_argument("--range", type=comma_list(float), default=(-0.25, 1.25), help="t range of the line (default -0.25,1.25)")

    k = kinds.add_parser("radius", help="flatness radius r(w, δw, ε) of Theory IIb eq. 11 (Table 1)",
                         description="Flatness radius r(w, δw, ε) = sup{r : |Î(w) − Î(w + r δw)| ≤ ε} (Theory IIb "
                                     "eq. 11) along random unit directions, for all weights and the top layer "
                                     "(Table 1); every direction advances in one batched pass per step.",
                         epilog=KIND_EXAMPLES["radius"])
    _common(k)
    k.add_argument("--epsilon", type=positive_float, default=0.05, help="tolerance ε (default 0.05, Table 1)")
    k.add_argument("--directions", type=positive_int, default=RADIUS_DIRECTIONS,
                   help="random unit directions T, searched together in one batched pass per step")
    k.add_argument("--weights", dest="subset", choices=("all", "top", "both"), default="both",
                   help="the weights a direction moves: all, the top layer, or both, one after the other")
    k.add_argument("--quantity", choices=("error", "loss"), default="error", help="Î: training error or loss")
    k.add_argument("--r-max", type=positive_float, default=1000.0, help="search limit (default 1000)")
    k.add_argument("--trajectory", type=nonnegative_int, default=0, help="which trajectory (default 0)")

    k = kinds.add_parser("hessian", help="Hessian spectrum: exact (small K), top eigenvalues (eigsh), SLQ density",
                         description="The Hessian of the loss at a trained model: the exact spectrum and nullity for "
                                     "small K, the top eigenvalues by eigsh on Hessian-vector products, the SLQ "
                                     "spectral density.", epilog=KIND_EXAMPLES["hessian"])
    _common(k)
    k.add_argument("--method", choices=("auto", "exact", "top", "density", "all"), default="auto",
                   help="auto: the exact spectrum for small K (empirics.hessian.AUTO_EXACT_PARAMS, 2,000), "
                        "else top + density; all: every method that fits")
    k.add_argument("--top", type=positive_int, default=5, help="number of top eigenvalues (default 5)")
    k.add_argument("--probes", type=positive_int, default=4, help="SLQ probes (default 4)")
    k.add_argument("--steps", type=positive_int, default=40, help="SLQ Lanczos steps (default 40)")
    k.add_argument("--tol", type=positive_float, default=1e-6, help="relative zero threshold for the nullity")
    k.add_argument("--trajectory", type=nonnegative_int, default=0, help="which trajectory (default 0)")

    k = kinds.add_parser("agreement", help="P(col correct | row correct), P(col wrong | row wrong) (Theory II Fig. 18)",
                         description="Conditional agreement between the trajectories of a run (and a randomly "
                                     "initialised reference) on the same examples (Theory II Fig. 18).",
                         epilog=KIND_EXAMPLES["agreement"])
    _common(k)
    k.add_argument("--no-reference", action="store_true", help="omit the randomly initialised reference model")
    for sub in kinds.choices.values():
        add_size_flag(sub)
        sub.set_defaults(handler=run_probe)


PROBE_EXAMPLES = """examples:
  cli.py train --dataset digits --run digits-cnn --trajectories 3 --epochs 30 --lr 0.1
  cli.py probe perturb --from runs/digits-cnn --alphas 0.01,0.1,0.25,1
  cli.py probe interpolate --from runs/digits-cnn --trajectory 0,1      # a line; --trajectory 0,1,2: the simplex
  cli.py probe radius --from runs/digits-cnn --epsilon 0.05 --weights both
  cli.py probe hessian --from runs/digits-cnn --method all --examples 200
  cli.py probe agreement --from runs/digits-cnn --split test
  cli.py probe hessian --demo                                          # a fresh MLP on digits, no run needed
"""


KIND_EXAMPLES = {
    "perturb": """examples:
  cli.py probe perturb --from runs/first                          # α = 0.01 ... 1, 4 draws each, 300 examples
  cli.py probe perturb --from runs/first --alphas 0.01,0.1 --draws 8 --scale mean_abs --examples all
  cli.py probe perturb --demo
""",
    "interpolate": """examples:
  cli.py probe interpolate --from runs/stage --trajectory 0,1     # the line between trajectories 0 and 1
  cli.py probe interpolate --from runs/stage --trajectory 0,1,2 --grid 11   # the simplex of three minima
  cli.py probe interpolate --demo --range=-0.5,1.5               # '=' before a negative number
""",
    "radius": """examples:
  cli.py probe radius --from runs/first                           # all weights and the top layer, 5 directions
  cli.py probe radius --from runs/first --weights top --directions 20 --quantity loss
  cli.py probe radius --from runs/first --examples all            # the whole training set (Table 1's protocol)
""",
    "hessian": """examples:
  cli.py probe hessian --demo                                     # exact spectrum of a small MLP
  cli.py probe hessian --from runs/first --method top --top 10
  cli.py probe hessian --from runs/first --method density --probes 8 --steps 80
""",
    "agreement": """examples:
  cli.py probe agreement --from runs/stage --split test
  cli.py probe agreement --demo --no-reference
""",
}


# The probes' default number of examples: a laptop-sized sample of the split; `--examples all` takes the
# whole split, as the papers do. Measured: one batched step of the radius search, 10 DCNN models on
# 1,000 Fashion-MNIST images with batch-norm statistics recomputed, takes 30 s on 2 cores at load 14
# (about 4 s idle), and a search takes about 22 steps per set of weights; 60,000 images did not finish
# in 5 minutes. With 5 directions the tour's radius step used 119 s of processor time on 500 images, 70 s
# on 300 (radii 4.75 and 4.71 for all weights).
DEFAULT_EXAMPLES = 300


RADIUS_DIRECTIONS = 5


def _common(parser: argparse.ArgumentParser) -> None:
    src = parser.add_argument_group("source")
    add_from_flag(src, "run folder written by `cli.py train`")
    src.add_argument("--demo", action="store_true", help="probe freshly initialised MLPs on digits instead of a run")
    src.add_argument("--epoch", type=nonnegative_int, help="use this epoch's saved weights (default: the last)")
    src.add_argument("--split", choices=("train", "test"), default="train", help="data the probe evaluates on")
    src.add_argument("--examples", type=count_or_all, default=DEFAULT_EXAMPLES, metavar="N|all",
                     help=f"probe the first N examples of the split, or all of them (default {DEFAULT_EXAMPLES:,}: "
                          f"minutes on a laptop; the papers use all)")
    add_device_flag(src, default="cpu")
    pr = parser.add_argument_group("probe")
    pr.add_argument("--bn", choices=("recompute", "eval", "batch", "interpolate"), default="recompute",
                    help="batch-norm statistics while probing: recompute at every point (default, Garipov et al.), "
                         "eval (stored, PyHessian), batch (batch statistics), interpolate (interpolation only, "
                         "mixes running statistics)")
    pr.add_argument("--batch-size", type=positive_int, help="examples per forward pass (default: all at once)")
    pr.add_argument("--seed", type=nonnegative_int, default=0, help="seed of noise, directions and probes (default 0)")
    add_run_flags(parser, default="<kind>-<source run name>")
    add_progress_flag(parser)
    add_json_flag(parser)


_OPTION_FIELDS = {"range": "t_range"}


def _options(args):
    """Return the ProbeConfig named by the parsed flags of `probe KIND` (flags a kind lacks keep their defaults)."""
    from dataclasses import fields

    from empirics.probe_runs import ProbeConfig

    given = {_OPTION_FIELDS.get(k, k): v for k, v in vars(args).items() if v is not None}
    given["reference"] = not getattr(args, "no_reference", False)
    return ProbeConfig(**{f.name: given[f.name] for f in fields(ProbeConfig) if f.name in given})


def run_probe(args) -> int:
    """Handler of `probe KIND`: run one probe into its run folder (config, result, figure, manifest), print the table."""
    from empirics.probe_runs import ProbeSource, load_source, probe_needs, run_probe as probe
    from landscape_core.runs import open_run

    refuse_unless(args, ["epoch"], not args.demo, "to a run's saved epochs (--demo probes fresh models)")
    refuse_together(args, ["source"], ["demo"], "--from probes a run, --demo fresh models on digits")
    check_device(args)
    options = _options(args)
    source = ProbeSource(run=args.source, demo=args.demo, epoch=args.epoch, split=args.split,
                         examples=args.examples, device=args.device)
    name = args.run or f"{args.kind}-{Path(args.source).name if args.source else 'demo'}"
    check_size(args, probe_needs(source))
    # The folder is checked (and locked) before the models are loaded or anything is computed.
    with open_run(args.out, name, {"probe": args.kind, "source": source, "options": options}, args.seed) as rd:
        loaded = load_source(source)
        with progress_bar(args, args.kind) as progress:
            done = probe(args.kind, loaded, options, progress=progress)
        rd.write_result(done)
    metrics = done.to_dict()
    figure, res, result = rd.file(f"{args.kind}.png"), done.result, metrics["result"]
    rows, headers, summary = RENDERERS[args.kind](res, result, figure, args)
    if args.json:
        print_json({**metrics, "run_dir": str(rd.path), "figure": str(figure)})
        return 0
    src = done.source
    print(key_values([("probe", args.kind), ("source", src.get("run") or src.get("demo")),
                      ("data", f"{src['split']}, {src['examples']} examples, loss {src['loss']}"),
                      ("batch norm", args.bn)] + summary))
    print()
    print(table(rows, headers))
    print()
    print(key_values([("output", rd.path), ("figure", figure), ("time", f"{done.seconds:.1f} s")]))
    return 0


# ----------------------------------------------------------------------------------------------
# One renderer per probe kind: the figure, then (table rows, headers, summary lines).
# `empirics.probe_runs.PROBES` holds the probe functions under the same keys (a test checks both tables agree).


def _render_perturb(res, result, figure, args):
    from empirics import plots

    plots.plot_perturbation(result, figure)
    err = result["error_mean"] or [None] * len(res.alphas)
    rows = [(f"{a:g}", f"{m:.4g} ± {s:.2g}", "n/a" if e is None else f"{e:.4f}")
            for a, m, s, e in zip(res.alphas, result["loss_mean"], result["loss_std"], err)]
    summary = [("unperturbed", f"loss {res.base.loss:.4g}, error {res.base.error}"), ("scale", args.scale)]
    return rows, ("α", "loss (mean ± std)", "error (mean)"), summary


def _render_interpolate(res, result, figure, args):
    from empirics import plots

    if len(args.models) == 2:
        plots.plot_interpolation(result, figure)
        rows = [(f"{t:.3f}", f"{l:.4g}", "n/a" if res.error is None else f"{e:.4f}")
                for t, l, e in zip(res.ts, res.loss, res.error if res.error is not None else res.ts)]
        summary = [("distance", f"{res.distance:.4g}"), ("barrier", f"{res.barrier:.4g}"), ("bn", args.bn)]
        return rows, ("t", "loss", "error"), summary
    plots.plot_simplex(result, figure, "error" if res.error is not None else "loss")
    rows = [(f"({', '.join(f'{v:.2f}' for v in res.lambdas[i])})", f"{res.loss[i]:.4g}",
             "n/a" if res.error is None else f"{res.error[i]:.4f}") for i in res.landmarks()]
    summary = [("grid points", len(res.lambdas)), ("max loss", f"{res.loss.max():.4g}"), ("bn", args.bn)]
    return rows, ("λ", "loss", "error"), summary


def _render_radius(res, result, figure, args):
    from empirics import plots

    plots.plot_radius(list(result.values()), figure, names=list(result))
    rows = [(s, f"{r.mean:.4g} ± {r.std:.2g}", int(r.censored.sum()), r.radii.size) for s, r in res.items()]
    return rows, ("weights", "radius (mean ± std)", "censored", "directions"), [("ε", args.epsilon),
                                                                               ("quantity", args.quantity)]


def _render_hessian(res, result, figure, args):
    from empirics import plots

    plots.plot_hessian(result, figure)
    rows = []
    if res.exact is not None:
        e = res.exact
        rows.append(("exact", f"{e.eigenvalues[0]:.4g}", f"{e.eigenvalues[-1]:.4g}",
                     f"nullity {e.nullity} (τ = {e.tol:g}), {e.n_negative} negative"))
    if res.top is not None:
        t = res.top
        rows.append(("eigsh", f"{t.eigenvalues[0]:.4g}", f"{t.eigenvalues[-1]:.4g}",
                     f"top {len(t.eigenvalues)}, {t.n_matvec} HVPs"))
    if res.density is not None:
        d = res.density
        rows.append(("SLQ", f"{d.nodes.max():.4g}", f"{d.nodes.min():.4g}", f"trace ≈ {d.trace:.4g}"))
    summary = [("parameters", f"{res.n_params:,}"), ("loss at w", f"{res.loss:.4g}")]
    return rows, ("method", "λ_max", "λ_min", "notes"), summary


def _render_agreement(res, result, figure, args):
    from empirics import plots

    plots.plot_agreement(result, figure)
    rows = [(lab, f"{acc:.4f}", " ".join(f"{v:.2f}" for v in cc))
            for lab, acc, cc in zip(res.labels, res.accuracy, res.correct_given_correct)]
    return rows, ("model", "accuracy", "P(col correct | row correct)"), [("split", args.split)]


RENDERERS = {"perturb": _render_perturb, "interpolate": _render_interpolate, "radius": _render_radius,
             "hessian": _render_hessian, "agreement": _render_agreement}
