"""Sizes checked before work: what a request will need, estimated before it runs, against stated limits.

Each library function that can be asked for more than a machine holds has an estimate beside it
(`theory.bounds.degrees.critical_guard_needs`, `empirics.compare.compare_needs`, `empirics.train.train_needs`,
...), returning `Need`s: an amount of memory or disk in bytes and what needs it. A command checks
them (`check_needs`) before it starts, so an impossible request is one line and exit code 2
(`RequestTooLarge`) instead of an allocation that grows until the machine runs out:

    memory  at most `memory_limit` bytes: by default 80 % of this machine's physical memory
            (the `--max-memory GB` flag of every command that checks sizes sets it);
    disk    at most the free space of the file system the request writes to.

Estimates count the largest arrays a computation holds at once (their shapes are known from the
request), with constants measured by `benchmarks/sizes.py`, which prints each estimate beside the
measured peak resident memory. Path budgets (`--max-paths`) and expansion limits are the same kind
of refusal (`PathBudgetExceeded` and `ExpansionTooLarge` derive from `RequestTooLarge`).
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from landscape_core.errors import RequestTooLarge
from landscape_core.serialize import Serializable

GB = 10**9
DEFAULT_MEMORY_FRACTION = 0.8  # of physical memory: the rest is the system's and the other processes'
RESOURCES = ("memory", "disk")


@dataclass(frozen=True)
class Need(Serializable):
    """One resource a request needs at its peak, estimated before any work.

    Fields:
        resource: 'memory' (bytes held at once) or 'disk' (bytes written).
        amount: the estimate in bytes.
        what: what needs it, in words, e.g. 'the 100,000 × 100,000 basis of the residual Jacobian'.
    """

    resource: str
    amount: int
    what: str

    def __post_init__(self) -> None:
        if self.resource not in RESOURCES:
            raise ValueError(f"resource must be one of {RESOURCES}, got {self.resource!r}")
        object.__setattr__(self, "amount", int(self.amount))


def physical_memory() -> int | None:
    """Return this machine's physical memory in bytes (None where the system does not say)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def memory_limit(max_memory_gb: float | None = None) -> tuple[int | None, str]:
    """Return (the memory limit in bytes, how it was set), from --max-memory or 80 % of physical memory."""
    if max_memory_gb is not None:
        return int(max_memory_gb * GB), "--max-memory"
    total = physical_memory()
    if total is None:
        return None, "no limit: physical memory unknown"
    return int(DEFAULT_MEMORY_FRACTION * total), \
        f"{DEFAULT_MEMORY_FRACTION:.0%} of this machine's {size_text(total)}; --max-memory GB changes it"


def size_text(amount: float) -> str:
    """Return a byte count as text in decimal units: '80.0 GB', '512 MB', '3.2 TB'."""
    for unit, scale in (("PB", 10**15), ("TB", 10**12), ("GB", GB), ("MB", 10**6), ("kB", 10**3)):
        if amount >= scale:
            value = amount / scale
            return f"{value:,.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"
    return f"{int(amount)} B"


def free_disk(folder: str | os.PathLike) -> int | None:
    """Return the free bytes of the file system that holds `folder` (or its nearest existing parent)."""
    path = Path(folder).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def check_needs(needs: Iterable[Need], max_memory_gb: float | None = None,
                out: str | os.PathLike | None = None) -> None:
    """Raise RequestTooLarge (one line) when the summed memory needs exceed the limit, or the disk needs the free space.

    Memory needs are held at once and add up; the largest is named. Disk needs are checked
    against the file system of `out` (skipped when `out` is None).
    """
    needs = list(needs)
    memory = [n for n in needs if n.resource == "memory"]
    limit, how = memory_limit(max_memory_gb)
    total = sum(n.amount for n in memory)
    if limit is not None and total > limit:
        top = max(memory, key=lambda n: n.amount)
        rest = f" (in all {size_text(total)})" if len(memory) > 1 and total > top.amount * 1.01 else ""
        raise RequestTooLarge(f"this needs about {size_text(top.amount)} of memory for {top.what}{rest}, over the "
                              f"limit of {size_text(limit)} ({how}); ask for less")
    disk = [n for n in needs if n.resource == "disk"]
    if disk and out is not None:
        free = free_disk(out)
        written = sum(n.amount for n in disk)
        if free is not None and written > free:
            top = max(disk, key=lambda n: n.amount)
            raise RequestTooLarge(f"this writes about {size_text(written)} to {out} ({top.what}), but only "
                                  f"{size_text(free)} are free there; free space or ask for less")
