"""Library calls a grid can run (`cli.py grid TARGET`): thin wrappers from JSON arguments to one library call.

Each target takes the grid's axes and fixed settings as keyword arguments and returns a JSON-able
dict; it does no mathematics of its own. `theory` and `empirics` are imported inside the
functions, so that resolving a target in the submitting process imports neither torch nor sympy.
`TARGETS` maps the CLI names to import paths and a one-line description.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """A grid-able function: `path` ('module:function'), a one-line description for --help, and `needs`:
    the import path of a function of the same keyword arguments returning what one task needs
    (`common.sizes.Need`s, checked before the grid is submitted), or None where the task is small."""

    path: str
    help: str
    needs: str | None = None


TARGETS: dict[str, Target] = {
    "bezout": Target("landscape_toolkit.grid_targets:bezout_figures",
                    "degrees, Bezout numbers and predicted dimension of a small fc network (theory.bounds.bezout; "
                    "milliseconds): width, seed [layers=2, input_dim=2, points=4, activation='z + z^2/4']",
                    "landscape_toolkit.grid_targets:bezout_task_needs"),
    "valleys": Target("landscape_toolkit.grid_targets:valley_start",
                      "one seeded L-BFGS start of a width-p student against the valleys teacher "
                      "(theory.sublevel.valleys): width, seed [run=0, activation, input_dim, teacher_width, samples, max_iter]"),
    "experiment": Target("landscape_toolkit.grid_targets:experiment_run",
                         "one paper experiment (cli.py experiment) in the task's folder, resumed stage by stage "
                         "on a re-run: name, seed [scale=smoke, device, data_dir, dataset]"),
    "atlas-row": Target("landscape_toolkit.grid_targets:atlas_row",
                        "one row of the critical-point atlas (theory.counting.atlas.atlas_row: count, proof, certificates, "
                        "checks): widths, activation, points [config: AtlasConfig fields]"),
    "train": Target("landscape_toolkit.grid_targets:train_run",
                    "one training run (empirics.train) in the task's folder, resumed from its checkpoint "
                    "on a re-run: any TrainConfig key, e.g. seed, lr, model=mlp, widths [device=auto]",
                    "landscape_toolkit.grid_targets:train_task_needs"),
}


def bezout_figures(width: int, seed: int, layers: int = 2, input_dim: int = 2, points: int = 4,
          activation: str = "z + z^2/4") -> dict:
    """Return the Bezout figures of the fc network (input_dim, width, …, width, 1) on `points` seeded data points.

    Fields of the dict: those of `theory.bounds.bezout.bezout_report` a grid compares across widths and
    seeds: n_params K, degree D per equation, bezout D^min(N, K), multihomogeneous_bezout,
    predicted_dimension K − r, dependent, and the width and seed.
    """
    from theory.bounds.bezout import bezout_report

    rep = bezout_report(_bezout_spec(width, layers, input_dim, activation), int(points), seed=int(seed))
    return {"width": width, "seed": seed, "n_params": rep.n_params, "degree": rep.degree, "bezout": rep.bezout,
            "multihomogeneous_bezout": rep.multihomogeneous_bezout,
            "predicted_dimension": rep.predicted_dimension, "dependent": rep.dependent}


def _bezout_spec(width: int, layers: int, input_dim: int, activation: str):
    from theory.network.activations import parse
    from theory.network.spec import NetworkSpec

    return NetworkSpec.fully_connected(int(input_dim), int(width), int(layers), parse(activation))


def bezout_task_needs(width: int, seed: int = 0, layers: int = 2, input_dim: int = 2, points: int = 4,
                      activation: str = "z + z^2/4") -> list:
    """Return what one `bezout_figures` task needs (`theory.bounds.bezout.bezout_needs`)."""
    from theory.bounds.bezout import bezout_needs

    return bezout_needs(_bezout_spec(width, layers, input_dim, activation), int(points))


def valley_start(width: int, seed: int, run: int = 0, activation: str = "z^2 + z^3", input_dim: int = 2,
                 teacher_width: int = 3, samples: int = 200, max_iter: int = 3000,
                 success_tol: float = 1e-6) -> dict:
    """Return the final relative loss of start `run` at width p, exactly as `theory.sublevel.valleys.valley_experiment` runs it.

    Same teacher data (seed) and same start stream `start_stream(seed, width, run)` as the sweep,
    so a grid over width × run reproduces the sweep's `final_losses` task by task. Fields:
    final_loss, reached (final_loss ≤ success_tol), span_dimension q, regime, width, seed, run.
    """
    from theory.network.activations import parse
    from theory.sublevel.valleys import ValleyExperimentConfig, span_dimension, start_stream, teacher_data, train_two_layer

    cfg = ValleyExperimentConfig(activation=activation, input_dim=input_dim, widths=(width,),
                                 teacher_width=teacher_width, samples=samples, runs=1, max_iter=max_iter,
                                 success_tol=success_tol, seed=seed)
    act = parse(activation)
    X, Y = teacher_data(cfg)
    loss = train_two_layer(X, Y, int(width), act, start_stream(int(seed), int(width), int(run)), int(max_iter))
    q = span_dimension(act, int(input_dim))
    regime = "p < q" if width < q else ("q <= p < 2q" if width < 2 * q else "p >= 2q")
    return {"width": width, "seed": seed, "run": run, "final_loss": loss, "reached": loss <= success_tol,
            "span_dimension": q, "regime": regime}


def train_run(task_dir: str, device: str = "auto", **config) -> dict:
    """Return the TrainResult (as a dict) of one `empirics.train.train` run in `<task_dir>/run`.

    `config` holds TrainConfig keys (unknown keys are an error); as on `train`'s command line the
    model spec may be given flat: `model` as its kind, and `widths` (a list, or one width),
    `activation`, `bias`. The run resumes from its checkpoint when one exists, so a task whose
    worker was lost mid-training continues where it stopped on the next run of the grid.
    """
    from pathlib import Path

    from empirics.train import TrainConfig, train

    cfg = TrainConfig.from_dict(_nested_model(config))
    return train(cfg, Path(task_dir) / "run", resume=True, device=device).to_dict()


def train_task_needs(device: str = "auto", **config) -> list:
    """Return what one `train_run` task needs in memory (`empirics.train.train_needs`; its disk is the grid's)."""
    from empirics.train import TrainConfig, train_needs

    return [n for n in train_needs(TrainConfig.from_dict(_nested_model(config))) if n.resource == "memory"]


def _nested_model(config: dict) -> dict:
    """Return `config` with flat model keys (model=KIND, widths, activation, bias) folded into the nested spec."""
    flat = {k: config[k] for k in ("widths", "activation", "bias") if k in config}
    model = config.get("model", {})
    if not flat and not isinstance(model, str):
        return config
    spec = {"kind": model} if isinstance(model, str) else dict(model)
    if "widths" in flat and not isinstance(flat["widths"], (list, tuple)):
        flat["widths"] = [flat["widths"]]
    rest = {k: v for k, v in config.items() if k not in flat and k != "model"}
    return {**rest, "model": {**spec, **flat}}


def experiment_run(task_dir: str, name: str, scale: str = "smoke", seed: int = 0, device: str = "auto",
                   data_dir: str = "data", dataset: str | None = None) -> dict:
    """Return the report (as a dict) of one paper experiment run in `<task_dir>/run` (empirics.experiments).

    The experiment's own stage-level resume applies inside the task, so a lost worker's task
    continues from its last finished stage on the next run of the grid.
    """
    from empirics.experiments import run_experiment

    rep, _ = run_experiment(name, scale, seed, device, data_dir, dataset, out=task_dir, run_name="run")
    return rep.to_dict()


def atlas_row(widths: list, activation: str = "z", points: int = 1, config: dict | None = None) -> dict:
    """Return the atlas row (as a dict) of the fc network `widths` with activation P on `points` data points.

    `config`: AtlasConfig fields (seed, budgets, certification, the Bertini cross-check); see
    `theory.counting.atlas.atlas_row`.
    """
    from theory.counting.atlas import Architecture, AtlasConfig, atlas_row as row

    return row(Architecture(tuple(widths), activation, int(points)), AtlasConfig.from_dict(dict(config or {}))).to_dict()
