"""`cli.py grid`: run a library function over a grid of arguments (seed × width …), locally or on Slurm.

    cli.py grid bezout --axis seed=0,1 --axis width=2,3,4 --run bezout-grid
    cli.py grid valleys --axis width=1,2,3,7 --axis run=0,1,2 --set max_iter=500 --executor slurm \\
                        --slurm-partition gpu --slurm-time 30 --run valleys-grid

Each task runs in `<out>/<run>/<key>/` (common.executor); running the same command again skips the
tasks that finished and redoes the failed and lost ones. Exit code 1 when a task failed or was lost.
"""
from __future__ import annotations

import argparse
import math

from landscape_toolkit.commands._parser import refuse_unless
from landscape_toolkit.commands._render import (add_json_flag, add_progress_flag, add_run_flags, add_size_flag,
                                                check_size, comma_list,
                                                nonnegative_int, positive_float, positive_int, print_json,
                                                progress_bar, table)
from landscape_core.executor import BACKENDS, ExecutorConfig, GridResult, GridSpecError, grid_tasks, run_grid
from landscape_core.errors import ToolkitError
from landscape_core.sizes import size_text
from landscape_toolkit.grid_targets import TARGETS


def value(text: str):
    """Return the JSON-like value of a command-line word: integer, number, true/false/null, else the text."""
    for cast in (int, float):
        try:
            parsed = cast(text)
        except ValueError:
            continue
        if isinstance(parsed, float) and not math.isfinite(parsed):
            break
        return parsed
    return {"true": True, "false": False, "null": None}.get(text, text)


def _name_and_text(text: str, what: str) -> tuple[str, str]:
    name, sep, rest = text.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return name, rest


def axis_spec(text: str) -> tuple[str, tuple]:
    """Parse 'name=v1,v2,...' into (name, values)."""
    name, rest = _name_and_text(text, "NAME=V1,V2,... (e.g. seed=0,1,2)")
    return name, comma_list(value)(rest)


def setting(text: str) -> tuple[str, object]:
    """Parse 'key=value' into (key, value); a comma-separated value becomes a list (e.g. widths=2,4,1)."""
    name, rest = _name_and_text(text, "KEY=VALUE (e.g. layers=3)")
    if "," in rest:
        return name, list(comma_list(value)(rest))
    return name, value(rest.strip())


EXAMPLES = """examples:
  cli.py grid bezout --axis width=2,3,4 --axis seed=0,1 --run bezout-grid     # milliseconds per task
  cli.py grid experiment --axis name=iib-langevin --axis seed=0,1 --set scale=smoke --run sweep
  cli.py grid train --axis lr=0.01,0.1 --set model=mlp --set dataset=digits --set epochs=5 --run lr-sweep
  cli.py grid valleys --axis width=1,2,3,7 --axis run=0,1,2 --executor slurm --slurm-partition gpu --run v
"""
# Type names of the targets' annotations (from `from __future__ import annotations`) and the values they take.
_TYPES = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,)}


def check_arguments(target: str, values: dict[str, list]) -> None:
    """Refuse (GridSpecError), before any task runs, an argument TARGET does not take or a value of the wrong type.

    A misspelt name or a word where a number belongs would fail every task the same way, and running
    the grid again could not help.
    """
    import inspect

    from empirics.train_config import TrainConfig  # noqa: F401  (train's keys, below)
    from landscape_core.executor import resolve

    fn = resolve(TARGETS[target].path)
    params = {k: v for k, v in inspect.signature(fn).parameters.items() if k != "task_dir"}
    takes_any = any(v.kind is inspect.Parameter.VAR_KEYWORD for v in params.values())
    names = [k for k, v in params.items() if v.kind is not inspect.Parameter.VAR_KEYWORD]
    if takes_any and target == "train":
        from dataclasses import fields

        names += [f.name for f in fields(TrainConfig)] + ["widths", "activation", "bias"]
    for name, vals in values.items():
        if name not in names:
            raise GridSpecError(f"grid {target} takes no argument {name!r}; it takes {', '.join(names)}")
        kind = params[name].annotation if name in params else None
        accepted = next((_TYPES[t] for t in _TYPES if kind == t), None)
        for v in vals:
            if accepted and not (isinstance(v, accepted) and not (isinstance(v, bool) and bool not in accepted)):
                raise GridSpecError(f"{name}={v!r}: grid {target} takes {name} as {kind}")
    missing = [k for k, v in params.items() if v.default is inspect.Parameter.empty
               and v.kind is not inspect.Parameter.VAR_KEYWORD and k not in values]
    if missing:
        raise GridSpecError(f"grid {target} needs {', '.join(missing)}: give each as --axis NAME=V1,V2 or --set NAME=V")


def register(subparsers) -> None:
    """Add the `grid` subcommand."""
    targets = "; ".join(f"{name}: {t.help}" for name, t in TARGETS.items())
    p = subparsers.add_parser(
        "grid", help="run a library function over a grid of arguments, locally or on Slurm",
        description="Run TARGET once per point of the cartesian product of the --axis values, each task in "
                    "its own folder <out>/<run>/<key>/; a re-run skips finished tasks. Targets: " + targets,
        epilog=EXAMPLES)
    p.add_argument("target", choices=sorted(TARGETS), help="the library function to run (see above)")
    p.add_argument("--axis", action="append", type=axis_spec, default=[], metavar="NAME=V1,V2,...",
                   help="an argument and its values; several --axis give their product (e.g. --axis seed=0,1,2)")
    p.add_argument("--set", action="append", type=setting, default=[], metavar="KEY=VALUE", dest="settings",
                   help="an argument shared by every task (e.g. --set layers=3)")
    p.add_argument("--executor", choices=BACKENDS, default="local",
                   help="local process pool (default), submitit's local executor, or Slurm through submitit")
    p.add_argument("--workers", type=positive_int, default=None,
                   help="tasks at once (local default: the number of cores; slurm: array parallelism)")
    p.add_argument("--slurm-partition", default=None, help="slurm: partition")
    p.add_argument("--slurm-time", type=positive_int, default=60, metavar="MIN",
                   help="submitit backends: minutes per task before its job is stopped (default 60)")
    p.add_argument("--slurm-gpus", type=nonnegative_int, default=0, metavar="G",
                   help="submitit backends: GPUs per task (default 0)")
    p.add_argument("--slurm-cpus", type=positive_int, default=1, metavar="C",
                   help="submitit backends: cores per task (default 1)")
    p.add_argument("--slurm-mem", type=positive_float, default=None, metavar="GB", help="slurm: memory per task")
    add_run_flags(p, required=True)
    add_json_flag(p)
    add_progress_flag(p)
    add_size_flag(p)
    p.set_defaults(handler=run)


def _summary(record) -> str:
    """Return the scalar fields of a task's result (or its error) as one short line."""
    if record.error is not None:
        return record.error
    if isinstance(record.result, dict) and isinstance(record.result.get("findings"), list):
        # an experiment: its verdicts, claim by claim
        text = "; ".join(f"{f.get('claim')}: {f.get('verdict')}" for f in record.result["findings"])
        return text if len(text) <= 100 else text[:97] + "..."
    if isinstance(record.result, dict):
        text = ", ".join(f"{k}={v}" for k, v in record.result.items()
                         if not isinstance(v, (dict, list)) and k not in record.kwargs)
    else:
        text = str(record.result)
    return text if len(text) <= 100 else text[:97] + "..."


def render(result: GridResult) -> str:
    """Return the grid's table and a summary line."""
    rows = [(r.key, r.status + (" (earlier)" if r.skipped else ""),
             "" if r.wall_time is None else f"{r.wall_time:.2f}", _summary(r)) for r in result.records]
    lines = [table(rows, headers=("task", "status", "seconds", "result"))]
    lines.append(f"\n{len(result.records)} tasks: {result.done} done ({result.skipped} finished earlier), "
                 f"{result.failed} failed, {result.lost} lost, in {result.wall_time:.1f} s on {result.backend}; "
                 f"results in {result.folder}/results.json")
    if result.lost:
        lines.append("run the same command again to redo the lost tasks (and the failed ones)")
    elif result.failed:
        lines.append("a failed task fails again unless its error above was transient (memory, a killed worker): "
                     "correct what it names, then run the same command again")
    return "\n".join(lines)


def task_needs(target, tasks, workers: int | None, executor: str) -> list:
    """Return the memory the grid holds at once on this machine: its `workers` largest tasks' (none on Slurm).

    Each task's needs come from the target's estimate (`grid_targets.Target.needs`); on Slurm the
    tasks run elsewhere, one job each, and --slurm-mem states their limit.
    """
    import os

    from landscape_core.executor import resolve
    from landscape_core.sizes import Need

    if target.needs is None or executor == "slurm":
        return []
    estimate = resolve(target.needs)

    def memory(task) -> int:
        try:
            return sum(n.amount for n in estimate(**task.kwargs) if n.resource == "memory")
        except (ToolkitError, TypeError, ValueError):
            return 0  # an invalid task fails in its worker, recorded with its own error line

    per_task = sorted(((memory(t), t.key) for t in tasks), reverse=True)
    at_once = per_task[: workers or os.cpu_count() or 1]
    return [Need("memory", sum(a for a, _ in at_once), f"{len(at_once)} tasks at once (the largest: {at_once[0][1]}, "
                                                        f"{size_text(at_once[0][0])})")]


def run(args: argparse.Namespace) -> int:
    """Run the grid and print its table; return 1 if a task failed or was lost."""
    axes: dict[str, list] = {}
    for name, values in args.axis:
        if name in axes:
            raise GridSpecError(f"--axis {name} given twice")
        axes[name] = list(values)
    fixed = dict(args.settings)
    slurm = args.executor != "local"
    refuse_unless(args, ["slurm_partition", "slurm_time", "slurm_gpus", "slurm_cpus", "slurm_mem"], slurm,
                  "with --executor slurm or submitit-local")
    refuse_unless(args, ["slurm_partition", "slurm_mem"], args.executor == "slurm", "with --executor slurm")
    check_arguments(args.target, {**axes, **{k: [v] for k, v in fixed.items()}})
    tasks = grid_tasks(TARGETS[args.target].path, axes, fixed)
    check_size(args, task_needs(TARGETS[args.target], tasks, args.workers, args.executor))
    options = ExecutorConfig(workers=args.workers, timeout_min=args.slurm_time, partition=args.slurm_partition,
                              gpus=args.slurm_gpus, cpus_per_task=args.slurm_cpus, mem_gb=args.slurm_mem)
    with progress_bar(args, f"grid {args.run}") as progress:
        result = run_grid(tasks, args.out, args.run, args.executor, options, progress)
    if args.json:
        print_json(result)
    else:
        print(render(result))
    return 1 if result.failed or result.lost else 0
