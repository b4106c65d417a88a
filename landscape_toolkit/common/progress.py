"""The progress contract between library loops and the CLI.

A long library loop takes `progress: Progress | None` and calls `progress(done, total)` after each
unit of work (`total` may be None when unknown). The library never prints; the CLI passes a
callback that drives a tqdm bar on stderr (`commands._render.progress_bar`), or None with
`--no-progress`.
"""
from __future__ import annotations

from typing import Callable, Optional

Progress = Callable[[int, Optional[int]], None]


def report(progress: Progress | None, done: int, total: int | None) -> None:
    """Call `progress(done, total)` when a callback was given."""
    if progress is not None:
        progress(done, total)
