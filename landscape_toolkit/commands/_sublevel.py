"""Flags and the run-folder helper that `paths`, `valleys` and `dss` share."""
from __future__ import annotations

import argparse
from typing import Any, Callable

from landscape_toolkit.commands._render import (add_json_flag, add_progress_flag, add_run_flags, add_size_flag,
                                                nonnegative_int, progress_bar)


def run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=nonnegative_int, default=0, help="seed of every random choice (recorded)")
    add_run_flags(p, default="<command>-seed<seed>")
    add_progress_flag(p)
    add_json_flag(p)
    add_size_flag(p)


def saved_run(args: argparse.Namespace, command: str, config: Any, compute: Callable[[], Any], plot: Callable,
               figure: str) -> tuple[Any, dict, Any, Any]:
    """Run `compute()` in the run folder ROOT/NAME (checked before any work) and draw its figure.

    Returns (the result, its JSON form, the run folder, the figure path).
    """
    from landscape_core.runs import open_run
    from landscape_core.serialize import to_jsonable

    with open_run(args.out, args.run or f"{command}-seed{args.seed}", config, args.seed) as rd:
        result = compute()
        rd.write_result(result)
    data = to_jsonable(result.to_dict())
    return result, data, rd, plot(data, rd.file(figure))


def tracked(args: argparse.Namespace, desc: str, fn: Callable, config: Any) -> Callable[[], Any]:
    """Return a thunk computing fn(config, progress=...) with a progress bar on stderr (unless --no-progress)."""
    def compute() -> Any:
        with progress_bar(args, desc) as progress:
            return fn(config, progress=progress)

    return compute
