"""Benchmark: grid throughput of the executor backends: local process pool (1, 2 workers) vs submitit's local executor.

Run: .venv/bin/python benchmarks/grid.py [--tasks 40] [--target trivial|bezout]
Each configuration runs a fresh grid of N tasks (submit to gather, results written to task folders)
and prints tasks/s with the ratio to the 1-worker pool, then the cost of a re-run that finds every
task finished. `trivial` tasks do nothing (json.dumps of the task index), so the figures are the
seam's own overhead; `bezout` tasks compute a small Bezout report (theory.bounds.bezout) each.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from landscape_core.executor import ExecutorConfig, Task, grid_tasks, run_grid  # noqa: E402


def tasks_for(target: str, n: int) -> list[Task]:
    """Return N tasks of the chosen kind."""
    if target == "trivial":
        return [Task("json:dumps", {"obj": i}, f"i={i}") for i in range(n)]
    return list(grid_tasks("landscape_toolkit.grid_targets:bezout_figures", {"seed": list(range(n))}, {"width": 2}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=40, help="tasks per grid (default 40)")
    parser.add_argument("--submitit-tasks", type=int, default=12,
                        help="tasks per submitit-local grid (default 12: it starts two Python processes per task)")
    parser.add_argument("--target", choices=("trivial", "bezout"), default="trivial")
    args = parser.parse_args()
    configs = [("local", 1), ("local", 2), ("submitit-local", 1), ("submitit-local", 2)]
    print(f"{args.target} tasks: {args.tasks} per local grid, {args.submitit_tasks} per submitit-local grid; "
          f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}")
    print(f"{'backend':<16} {'workers':>7} {'tasks':>6} {'seconds':>8} {'tasks/s':>8} {'vs local-1':>10} {'re-run s':>9}")
    base = None
    with tempfile.TemporaryDirectory() as root:
        for backend, workers in configs:
            name = f"{backend}-{workers}"
            tasks = tasks_for(args.target, args.tasks if backend == "local" else args.submitit_tasks)
            options = ExecutorConfig(workers=workers, timeout_min=10)
            t0 = time.perf_counter()
            result = run_grid(tasks, root, name, backend, options)
            seconds = time.perf_counter() - t0
            assert result.done == len(tasks), (result.failed, result.lost)
            t1 = time.perf_counter()
            again = run_grid(tasks, root, name, backend, options)
            rerun = time.perf_counter() - t1
            assert again.skipped == len(tasks)
            rate = len(tasks) / seconds
            base = base or rate
            print(f"{backend:<16} {workers:>7} {len(tasks):>6} {seconds:>8.2f} {rate:>8.1f} {rate / base:>9.2f}x {rerun:>9.3f}")


if __name__ == "__main__":
    main()
