"""Peak resident memory of this process and its children (Macaulay2, PHCpack workers), sampled.

`resource.getrusage` gives the peak of one process over its whole life, and a pool worker lives
through many tasks; so while a block runs, a thread sums the resident set of the process tree
from /proc every `interval` seconds and keeps the largest sum. Where /proc is missing (not Linux)
the peak is None.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024 if hasattr(os, "sysconf") else 4


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            out.extend(int(v) for v in task.read_text().split())
        except OSError:
            continue
    return out


def tree_rss_mb(pid: int | None = None) -> float | None:
    """Return the resident memory of `pid` (default: this process) and all its descendants, MiB."""
    root = os.getpid() if pid is None else pid
    if not Path(f"/proc/{root}/statm").exists():
        return None
    total, stack, seen = 0, [root], set()
    while stack:
        p = stack.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * PAGE_KB
        except (OSError, IndexError, ValueError):
            continue
        stack.extend(_children(p))
    return total / 1024


class PeakMemory:
    """Context manager: `peak_mb` is the largest resident memory of the process tree seen inside the block."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.peak_mb: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self) -> None:
        now = tree_rss_mb()
        if now is not None:
            self.peak_mb = now if self.peak_mb is None else max(self.peak_mb, now)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> "PeakMemory":
        self._sample()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()
