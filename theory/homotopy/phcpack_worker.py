"""PHCpack in child processes: a crash, a hang or Ctrl-C inside phcpy becomes one Python exception.

PHCpack is Ada behind a C layer. A malformed input can raise an Ada exception that aborts the
whole process (`CONSTRAINT_ERROR ... range check failed`), and its string parser runs for minutes
without returning to Python, so Ctrl-C is not seen until it finishes. Every phcpy call therefore
runs in a worker: a fresh interpreter (`python -c 'from theory.homotopy.phcpack_worker import serve; ...'`,
not `multiprocessing`, whose spawn context re-runs the caller's main script) in its own session,
so the terminal's Ctrl-C reaches only the parent. A worker writes its C-level stdout to /dev/null
and its stderr to a log file, and talks to the parent over two pipes (pickled calls and results,
`multiprocessing.connection.Connection`). The parent waits in Python, so:

* an abort of the worker (end of file on its pipe) is raised as `SolverError` with the last line
  PHCpack wrote to stderr;
* Ctrl-C interrupts the parent's wait; the busy workers are killed and KeyboardInterrupt propagates;
* named exceptions raised inside a worker (InvalidSpecError, SolverError) are re-raised as is.

Workers stay alive between calls (importing phcpy costs about half a second). PHCpack's state is
global per process, so each task stores everything it needs: tasks are independent, and batches of
paths run in parallel on several workers (`map_tasks`). Inside a worker, calls run in place.
"""
from __future__ import annotations

import atexit
import ctypes
import os
import subprocess
import sys
import tempfile
from multiprocessing.connection import Connection, wait
from typing import Any, Callable, Sequence

from landscape_core.errors import SolverError
from theory.homotopy import phcpack_loader as phcpy_session

_IN_WORKER = False
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_WORKERS: list["_Worker"] = []
_LOG_DIR: str | None = None


def default_workers() -> int:
    """Return the number of worker processes used when none is asked for: one per core."""
    return max(1, os.cpu_count() or 1)


def in_worker() -> bool:
    """Return whether this process is a PHCpack worker (then phcpy calls run in place)."""
    return _IN_WORKER


def serve(read_fd: int, write_fd: int) -> None:
    """Run as a worker: silence fd 1, import phcpy, then answer (fn, args) calls until end of file."""
    global _IN_WORKER
    _IN_WORKER = True
    _die_with_parent()
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    sys.stdout = open(os.devnull, "w")
    rx, tx = Connection(read_fd, writable=False), Connection(write_fd, readable=False)
    try:
        phcpy_session.load()
    except Exception as exc:  # reported with the first call
        failure: BaseException | None = exc
    else:
        failure = None
    while True:
        try:
            fn, args = rx.recv()
        except (EOFError, OSError):
            return
        try:
            if failure is not None:
                raise failure
            tx.send((True, fn(*args)))
        except Exception as exc:  # sent back and re-raised in the parent
            try:
                tx.send((False, exc))
            except Exception:
                tx.send((False, SolverError(f"{type(exc).__name__}: {exc}")))


def _die_with_parent() -> None:
    """Ask Linux to kill this worker when its parent dies (a busy PHCpack call never reads end of file)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG = 1, SIGKILL = 9
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)


class _Worker:
    """One worker process and its two pipe ends in the parent."""

    def __init__(self, log_dir: str) -> None:
        r1, w1 = os.pipe()  # parent → worker
        r2, w2 = os.pipe()  # worker → parent
        self.log = os.path.join(log_dir, f"worker-{len(_WORKERS)}-{os.getpid()}-{id(self)}.err")
        code = f"from theory.homotopy.phcpack_worker import serve; serve({r1}, {w2})"
        # the package root reaches the child through its environment, not a sys.path patch
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (_ROOT, os.environ.get("PYTHONPATH")) if p)}
        with open(self.log, "ab") as err:
            self.proc = subprocess.Popen([sys.executable, "-c", code], pass_fds=(r1, w2), stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=err, start_new_session=True, env=env)
        os.close(r1)
        os.close(w2)
        self.tx, self.rx = Connection(w1, readable=False), Connection(r2, writable=False)
        self.busy = False

    def last_error_line(self) -> str:
        try:
            with open(self.log, encoding="utf-8", errors="replace") as fh:
                lines = [ln.strip() for ln in fh.read().splitlines() if ln.strip()]
        except OSError:
            return ""
        return lines[-1] if lines else ""

    def kill(self) -> None:
        for c in (self.tx, self.rx):
            try:
                c.close()
            except OSError:
                pass
        try:
            self.proc.kill()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        try:
            os.unlink(self.log)
        except OSError:
            pass


def _workers(n: int) -> list[_Worker]:
    global _LOG_DIR
    if _LOG_DIR is None:
        _LOG_DIR = tempfile.mkdtemp(prefix="phcpack-")
    for w in list(_WORKERS):
        if w.proc.poll() is not None:
            w.kill()
            _WORKERS.remove(w)
    while len(_WORKERS) < n:
        _WORKERS.append(_Worker(_LOG_DIR))
    return _WORKERS[:n]


def shutdown() -> None:
    """Stop every worker process; the next call starts new ones."""
    while _WORKERS:
        _WORKERS.pop().kill()


def _cleanup() -> None:
    shutdown()
    if _LOG_DIR is not None:
        try:
            os.rmdir(_LOG_DIR)
        except OSError:
            pass


atexit.register(_cleanup)


def _died(w: _Worker) -> SolverError:
    why = w.last_error_line()
    code = w.proc.poll()
    w.kill()
    if w in _WORKERS:
        _WORKERS.remove(w)
    return SolverError("PHCpack aborted" + (f": {why}" if why else f" (its worker process exited with code {code})"))


def map_tasks(fn: Callable, tasks: Sequence[tuple], workers: int | None = None,
              on_done: Callable[[int, Any], None] | None = None) -> list:
    """Return [fn(*args) for args in tasks], computed in worker processes, in task order.

    A work queue: each worker takes the next task as soon as it finishes one, and `on_done(k,
    value)` is called as task k finishes (in completion order), so progress can be reported.

    `fn` must be a module-level function (it is pickled by name). Raises SolverError when a worker
    dies (PHCpack aborted), KeyboardInterrupt after killing the busy workers on Ctrl-C, and
    re-raises an exception raised by `fn` after the tasks in flight finish.
    """
    if _IN_WORKER:
        out = []
        for k, args in enumerate(tasks):
            out.append(fn(*args))
            if on_done is not None:
                on_done(k, out[-1])
        return out
    if not tasks:
        return []
    n = default_workers() if workers is None else max(1, int(workers))
    pool = _workers(min(n, len(tasks)))
    results: list = [None] * len(tasks)
    queue = list(range(len(tasks)))[::-1]
    running: dict[Connection, tuple[_Worker, int]] = {}
    error: BaseException | None = None
    try:
        while queue or running:
            for w in pool:
                if not w.busy and queue and error is None:
                    k = queue.pop()
                    try:
                        w.tx.send((fn, tuple(tasks[k])))
                    except (BrokenPipeError, OSError):
                        raise _died(w) from None
                    w.busy = True
                    running[w.rx] = (w, k)
            if not running:
                break
            for conn in wait(list(running)):
                w, k = running.pop(conn)
                try:
                    ok, value = conn.recv()
                except (EOFError, OSError):
                    raise _died(w) from None
                w.busy = False
                if ok:
                    results[k] = value
                    if on_done is not None and error is None:
                        on_done(k, value)
                elif error is None:
                    error = value
    except BaseException:
        for w, _ in running.values():  # a worker mid-task would answer a call that is gone
            w.kill()
            if w in _WORKERS:
                _WORKERS.remove(w)
        raise
    if error is not None:
        raise error
    return results


def call(fn: Callable, *args) -> Any:
    """Return fn(*args) computed in a worker process (in place inside a worker)."""
    if _IN_WORKER:
        return fn(*args)
    return map_tasks(fn, [args], 1)[0]
