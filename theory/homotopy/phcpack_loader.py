"""phcpy loaded once per process, quietly and under one lock: the piece `theory.homotopy.phcpack` and `theory.homotopy.phcpack_worker` share.

`import phcpy` prints a banner to the C-level stdout (file descriptor 1), which Python's
`contextlib.redirect_stdout` cannot catch; `quiet()` redirects the descriptor itself. PHCpack
keeps systems, solutions and homotopies in global containers, so one lock serialises all calls.
"""
from __future__ import annotations

import contextlib
import ctypes
import io
import os
import sys
import threading
from typing import Iterator

from landscape_core.errors import SolverError

_LOCK = threading.RLock()
_MODULE = None


def _flush_c_stdio() -> None:
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):  # pragma: no cover - non-POSIX
        pass


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence file descriptor 1 (C and Ada stdout) and sys.stdout for the duration of the block."""
    sys.stdout.flush()
    saved = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        try:
            sys.stdout.flush()
        except ValueError:
            pass
        _flush_c_stdio()  # C/Ada buffers would otherwise be written after fd 1 is restored
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)


@contextlib.contextmanager
def session() -> Iterator[object]:
    """Yield the phcpy module with the global lock held and stdout silenced."""
    with _LOCK, quiet():
        yield load()


def load():
    """Return the imported phcpy package (banner suppressed); SolverError if it is missing."""
    global _MODULE
    if _MODULE is None:
        with _LOCK, quiet():
            try:  # phcpy: a heavy optional library (Ada behind C), imported on first use only
                import phcpy  # noqa: F401
                import phcpy.cascades  # noqa: F401
                import phcpy.factor  # noqa: F401
                import phcpy.sets  # noqa: F401
                import phcpy.solver  # noqa: F401
                import phcpy.trackers  # noqa: F401
            except ImportError as exc:  # pragma: no cover - depends on the machine
                raise SolverError(f"phcpy (PHCpack) is not available: {exc}") from None
            _MODULE = phcpy
    return _MODULE
