"""Benchmark: the README's tour, step by step, at its default sizes: seconds, load average, what it printed.

Run: .venv/bin/python benchmarks/tour.py [--out DIR] [--json FILE] [--markdown]
Every step runs `cli.py` in a fresh folder DIR (default: a temporary one) where `examples/` is linked
to the repository's, so the README's relative paths and `runs/` work as for a new user. For each
step it prints the wall time, the processor time it used (user + system, its workers included:
nearly independent of the machine's load), the 1-minute load average before it (the machine may be
shared: compare wall times only at similar load), the exit code, and the line of the output that
says what the step found. The tour's target is two minutes a step on 2 cores; the figure is printed
beside the time, never asserted (tests/test_readme_tour.py checks what the steps print).
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PREFIX = ".venv/bin/python cli.py "
TARGET_SECONDS = 120  # the tour's promise: each step within two minutes on 2 cores


def tour_commands(readme: str | Path = ROOT / "README.md") -> list[list[str]]:
    """Return the tour's command lines (the arguments after `cli.py`) in README order.

    The tour is the block under '## A tour': continuation lines are joined and comments cut, so the
    README is the one place the tour is written.
    """
    text = Path(readme).read_text(encoding="utf-8")
    section = text.split("## A tour", 1)[1].split("\n## ", 1)[0]
    lines, current = [], ""
    for line in section.splitlines():
        stripped = line.strip()
        if current:
            current += " " + stripped
        elif stripped.startswith(PREFIX):
            current = stripped[len(PREFIX):]
        else:
            continue
        if current.endswith("\\"):
            current = current[:-1]
            continue
        lines.append(current)
        current = ""
    return [shlex.split(line, comments=True) for line in lines]


def prepare(folder: Path) -> Path:
    """Return `folder` with `examples/` linked to the repository's (the tour's relative paths)."""
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "examples"
    if not link.exists():
        link.symlink_to(ROOT / "examples")
    return folder


def run_step(argv: list[str], cwd: Path, timeout: float = 900) -> dict:
    """Return {command, seconds, cpu, load, code, stdout, stderr} of one `cli.py` run in `cwd`.

    `cpu` is the processor time (user + system) the step and its workers used: unlike the wall time
    it hardly depends on what else the machine runs, and on 2 idle cores the wall time is about it
    divided by the cores the step keeps busy (at most 2).
    """
    import resource

    load = os.getloadavg()[0]
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run([sys.executable, str(ROOT / "cli.py"), *argv], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - used.ru_utime) + (after.ru_stime - used.ru_stime)
    return {"command": " ".join(shlex.quote(a) for a in argv), "seconds": time.perf_counter() - start, "cpu": cpu,
            "load": load, "code": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}


# Per step (the command's first words), the start of the output line that says what it found.
HEADLINES = (("bezout", "degree per equation"), ("approx", "minimax"), ("solve examples/systems", "positive-dimensional"),
             ("solve", "completeness"), ("critical", "completeness"), ("dimension", "degree (witness points)"),
             ("experiment --list", "ii-basins"), ("experiment", "report:"), ("train", "train error"),
             ("probe radius", "all "), ("grid", "2 tasks"), ("report", "report:"))


def headline(step: dict) -> str:
    """Return the line of a step's output that says what it found."""
    start = next((key for cmd, key in HEADLINES if step["command"].startswith(cmd)), None)
    lines = [ln.strip() for ln in step["stdout"].splitlines() if ln.strip()]
    picked = [ln for ln in lines if start is not None and ln.startswith(start)]
    text = " ".join((picked or lines[-1:] or [step["stderr"].strip()[-200:]])[0].split())
    return text if len(text) <= 140 else text[:137] + "..."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="folder to run the tour in (default: a temporary one)")
    parser.add_argument("--json", default=None, help="also write the measurements to this file")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown (for the README)")
    args = parser.parse_args(argv)
    folder = prepare(Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="tour-")))
    steps = []
    for command in tour_commands():
        step = run_step(command, folder)
        steps.append(step)
        mark = "" if step["seconds"] <= TARGET_SECONDS else "  OVER 2 MIN"
        print(f"{step['seconds']:7.1f} s  cpu {step['cpu']:7.1f} s  load {step['load']:5.2f}  exit {step['code']}  "
              f"cli.py {step['command']}{mark}", file=sys.stderr)
    if args.markdown:
        print("| step | wall s | cpu s | load (1 min) | what it printed |\n|---|---|---|---|---|")
        for s in steps:
            print(f"| `{s['command'][:70]}` | {s['seconds']:.1f} | {s['cpu']:.1f} | {s['load']:.2f} | {headline(s)} |")
    else:
        for s in steps:
            print(f"{s['seconds']:7.1f} s  cpu {s['cpu']:7.1f} s  load {s['load']:5.2f}  {s['command'][:60]:<60}  "
                  f"{headline(s)}")
    if args.json:
        Path(args.json).write_text(json.dumps(steps, indent=1))
    return 0 if all(s["code"] == 0 for s in steps) else 1


if __name__ == "__main__":
    sys.exit(main())
