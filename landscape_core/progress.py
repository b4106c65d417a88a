"""The progress contract between library loops and the CLI.

A long library loop takes `progress: Progress | None` and calls `progress(done, total)` after each
unit of work (`total` may be None when unknown), or `progress(done, total, note)` with a short note
that says where the work stands ('epoch 2/20, loss 0.41'; an experiment's stage). The library never
prints; the CLI passes a callback that drives a tqdm bar on stderr (`commands._render.progress_bar`),
or None with `--no-progress`.
"""
from __future__ import annotations

from typing import Callable

Progress = Callable[..., None]  # progress(done: int, total: int | None[, note: str])


def report(progress: Progress | None, done: int, total: int | None, note: str | None = None) -> None:
    """Call `progress(done, total)` (with `note` when given) when a callback was given."""
    if progress is None:
        return
    if note is None:
        progress(done, total)
    else:
        progress(done, total, note)


def noted(progress: Progress | None, prefix: str) -> Progress | None:
    """Return a callback that forwards to `progress` with `prefix` put before every note (None stays None)."""
    if progress is None:
        return None

    def forward(done: int, total: int | None, note: str | None = None) -> None:
        progress(done, total, prefix if note is None else f"{prefix}: {note}")

    return forward
