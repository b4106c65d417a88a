"""Figures on disk: format checked before any work, written atomically, closed after writing.

`save_figure` is the one way the toolkit writes a matplotlib figure: the format comes from the
extension (checked by `check_figure_path`, which commands call before computing anything), the
file appears whole or not at all (`common.records.atomic_path`), and the figure is closed so long
runs do not accumulate memory.
"""
from __future__ import annotations

import os
from pathlib import Path

from landscape_core.errors import InvalidSpecError
from landscape_core.records import atomic_path


def figure_formats() -> dict[str, str]:
    """Return the file formats matplotlib can write here, by extension."""
    from matplotlib.backend_bases import FigureCanvasBase

    return FigureCanvasBase.get_supported_filetypes()


def check_figure_path(path: str | os.PathLike, flag: str = "--plot") -> Path:
    """Return `path` as a Path if its extension names a format matplotlib writes (InvalidSpecError otherwise)."""
    path = Path(path)
    ext = path.suffix.lower().lstrip(".")
    formats = figure_formats()
    if ext not in formats:
        shown = f"format .{ext}" if ext else "file name without an extension"
        raise InvalidSpecError(f"{flag} {path}: unsupported figure {shown}; use one of "
                               + ", ".join(f".{e}" for e in sorted(formats)))
    return path


def save_figure(fig, path: str | os.PathLike, dpi: int = 130, make_parents: bool = False, **savefig_kw) -> Path:
    """Write `fig` to `path` atomically in the format its extension names, close it, and return the path."""
    import matplotlib.pyplot as plt

    path = check_figure_path(path, flag="figure")
    try:
        with atomic_path(path, make_parents=make_parents) as tmp:
            fig.savefig(tmp, format=path.suffix.lower().lstrip("."), dpi=dpi, **savefig_kw)
    finally:
        plt.close(fig)
    return path
