"""Fault injection for the tests: run a function in a forked process and SIGKILL it at its n-th fault point.

A fault point is a moment where a real kill would leave the most damage; in the child they are
counted in the order they happen:

    step           an optimisation step has just been taken (empirics.train's epoch loop)
    mid-write      half of a file's bytes are in its temporary file (JSON and torch files alike)
    before-rename  the temporary is complete and synced, the target not yet replaced
    after-rename   the target has just been replaced

Each point is recorded as 'kind:file name' (e.g. 'mid-write:checkpoint.pt'). The child is forked
from the test process (torch already imported, so a kill point costs milliseconds rather than a
new interpreter) and killed by `os.kill(getpid(), SIGKILL)`: no handler, no `finally`, no flush,
exactly what `kill -9` does. `count_points` runs the function to completion (in this process, so
that the children start with everything imported) and returns the points it passed, from which a
test draws its kill points.
"""
from __future__ import annotations

import io
import json
import multiprocessing
import os
import pathlib
import signal
import traceback
from pathlib import Path
from typing import Callable

KINDS = ("step", "mid-write", "before-rename", "after-rename")


class _Points:
    """The fault points passed so far in this process; SIGKILL at number `kill_at` (1-based)."""

    def __init__(self, kill_at: int | None):
        self.kill_at = kill_at
        self.passed: list[str] = []

    def hit(self, kind: str, name: str) -> None:
        self.passed.append(f"{kind}:{name}")
        if len(self.passed) == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)


def _target_name(path: str | os.PathLike) -> str:
    """Return the name of the file being written: the target's for an atomic-write temporary '.NAME.XXXXXXXX.tmp'."""
    return Path(path).name[1:].rsplit(".", 2)[0] if _is_temporary(path) else Path(path).name


def _is_temporary(path: str | os.PathLike) -> bool:
    name = Path(path).name
    return name.startswith(".") and name.endswith(".tmp")


def _install(points: _Points) -> Callable[[], None]:
    """Patch the calls through which the toolkit writes and trains; return the function that undoes it."""
    import torch

    import empirics.train

    real_write_bytes, real_replace, real_save = pathlib.Path.write_bytes, os.replace, torch.save
    real_run_epoch = empirics.train.run_epoch

    def write_bytes(self, data):
        with open(self, "wb") as handle:
            handle.write(data[: len(data) // 2])
            handle.flush()
            points.hit("mid-write", _target_name(self))
            handle.write(data[len(data) // 2:])
        return len(data)

    def save(obj, f, *args, **kwargs):
        if not hasattr(f, "write"):
            f = stack_open(f)
        buffer = io.BytesIO()
        real_save(obj, buffer, *args, **kwargs)
        data = buffer.getvalue()
        f.write(data[: len(data) // 2])
        f.flush()
        points.hit("mid-write", _target_name(f.name))
        f.write(data[len(data) // 2:])
        f.flush()

    opened = []

    def stack_open(path):
        opened.append(open(path, "wb"))  # closed when the process ends (or is killed)
        return opened[-1]

    def replace(src, dst, *args, **kwargs):
        if not _is_temporary(src):
            return real_replace(src, dst, *args, **kwargs)
        points.hit("before-rename", Path(dst).name)
        real_replace(src, dst, *args, **kwargs)
        points.hit("after-rename", Path(dst).name)

    def run_epoch(*args, after_step=None, **kwargs):
        def step(i, *rest):
            if after_step is not None:
                after_step(i, *rest)
            points.hit("step", "")
        return real_run_epoch(*args, after_step=step, **kwargs)

    pathlib.Path.write_bytes = write_bytes
    os.replace = replace
    torch.save = save
    empirics.train.run_epoch = run_epoch

    def undo() -> None:
        pathlib.Path.write_bytes, os.replace, torch.save = real_write_bytes, real_replace, real_save
        empirics.train.run_epoch = real_run_epoch

    return undo


def _child(fn: Callable[[], object], kill_at: int | None, report: str) -> None:
    points = _Points(kill_at)
    _install(points)
    try:
        fn()
    except BaseException:  # noqa: BLE001 - reported to the parent, which fails the test
        Path(report).write_text(json.dumps({"error": traceback.format_exc(), "points": points.passed}))
        os._exit(1)
    Path(report).write_text(json.dumps({"error": None, "points": points.passed}))
    os._exit(0)


def run_forked(fn: Callable[[], object], kill_at: int | None, report: str | os.PathLike,
               timeout: float = 120) -> tuple[int, list[str]]:
    """Run `fn()` in a forked process, SIGKILLed at fault point `kill_at` (None: never); return (exit code, points).

    The exit code is -9 for a kill, 0 for a clean return; an exception in the child fails with
    AssertionError carrying its traceback. `points` lists the fault points passed (empty after a kill).
    """
    report = Path(report)
    report.unlink(missing_ok=True)
    proc = multiprocessing.get_context("fork").Process(target=_child, args=(fn, kill_at, str(report)))
    proc.start()
    proc.join(timeout)
    if proc.exitcode is None:
        proc.kill()
        proc.join()
        raise AssertionError(f"the child did not finish in {timeout} s")
    if proc.exitcode == 1:
        raise AssertionError(json.loads(report.read_text())["error"])
    passed = json.loads(report.read_text())["points"] if report.exists() else []
    return proc.exitcode, passed


def count_points(fn: Callable[[], object]) -> list[str]:
    """Return the fault points `fn()` passes when it runs to completion.

    Run in this process, not a forked one: what `fn` imports and initialises on first use then
    stays imported for the forked children, which start warm.
    """
    points = _Points(None)
    undo = _install(points)
    try:
        fn()
    finally:
        undo()
    return points.passed


def draw_kill_points(passed: list[str], n: int, seed: int, must: tuple[str, ...] = ()) -> list[int]:
    """Return n distinct 1-based kill points drawn at random from `passed`, at least one matching each of `must`.

    `must` holds prefixes such as 'mid-write:checkpoint.pt' or 'step': the draw first takes one
    point of each (at random among those that match), then fills up uniformly.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    chosen: set[int] = set()
    for prefix in must:
        candidates = [i + 1 for i, p in enumerate(passed) if p.startswith(prefix) and i + 1 not in chosen]
        assert candidates, f"no fault point {prefix!r} in this run"
        chosen.add(int(rng.choice(candidates)))
    rest = [i for i in range(1, len(passed) + 1) if i not in chosen]
    chosen.update(int(i) for i in rng.choice(rest, size=min(n - len(chosen), len(rest)), replace=False))
    return sorted(chosen)


def temporaries(folder: str | os.PathLike) -> list[Path]:
    """Return the atomic-write temporaries anywhere under `folder`."""
    return [p for p in Path(folder).rglob(".*.tmp")]


def unreadable_files(folder: str | os.PathLike) -> list[str]:
    """Return the files under `folder` that the toolkit's readers refuse: JSON that does not parse,
    torch files that fail their CRC check or do not load (temporaries, which nothing reads, excepted)."""
    from landscape_core.errors import ToolkitError
    from landscape_core.records import read_json_file
    from landscape_core.runs import load_checkpoint

    bad = []
    for path in sorted(Path(folder).rglob("*")):
        if not path.is_file() or _is_temporary(path):
            continue
        try:
            if path.suffix == ".json":
                read_json_file(path)
            elif path.suffix == ".pt":
                load_checkpoint(path)
        except ToolkitError as exc:
            bad.append(f"{path}: {exc}")
    return bad
