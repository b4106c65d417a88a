"""Grids of independent tasks: one `submit`/`gather` seam over a process pool, submitit's local executor and Slurm.

A `Task` names a library function by import path ('module:function'), its keyword arguments (JSON
values) and a key. It runs in its own folder `<root>/<grid>/<key>/` and leaves there:

    config.json      what runs (function, kwargs, key), written before it is submitted (common.runs)
    status           one word: running | done | failed
    result.json      on success, written atomically: the return value (as JSON) and the wall time
    error.json       on failure: the error as one line and the wall time; traceback.txt beside it

The folders are the record. A re-run skips every task whose status is `done`; a worker that dies
loses only the task it held (its status stays `running`, so the next run redoes it); a task that
raises is recorded as failed without stopping the others; `gather` builds the table from the
folders, whichever backend ran them, and saves it as `<root>/<grid>/results.json`.

Backends:
    local           concurrent.futures.ProcessPoolExecutor (spawned workers, `workers` at once,
                    default os.cpu_count()). Chosen over joblib because it is the standard library
                    and its futures report each task as it finishes; tasks carry only small JSON
                    arguments, so joblib's memory-mapping of large arrays would buy nothing.
    submitit-local  submitit's LocalExecutor (one subprocess per task, `workers` at once): the
                    Slurm code path without a cluster, used in tests.
    slurm           submitit's AutoExecutor on Slurm: one job array, with partition, time limit,
                    GPUs, cores and memory per task passed through (`ExecutorConfig`). Jobs import
                    the submitting code (`import_roots` go first on their PYTHONPATH); their states
                    come from squeue, not submitit's sacct watcher (`slurm_states`), so clusters
                    without accounting work quietly; a job that ends without a result is a lost
                    task with Slurm's state and its log's last error line; a refused submission is
                    one BackendError line.
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import io
import itertools
import json
import multiprocessing
import os
import shlex
import subprocess
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from landscape_core.errors import CheckpointError, ToolkitError
from landscape_core.progress import Progress, report
from landscape_core.records import atomic_write_json, atomic_write_text, read_json_file
from landscape_core.runs import CONFIG, RESULT, RunDir, check_config, manifest, write_config
from landscape_core.serialize import Serializable, to_jsonable

BACKENDS = ("local", "submitit-local", "slurm")
TASK_FILE, STATUS_FILE, RESULT_FILE = CONFIG, "status", RESULT  # each task folder is a run folder (common.runs)
ERROR_FILE, TRACEBACK_FILE = "error.json", "traceback.txt"
GRID_FILE, RESULTS_FILE, SUBMITIT_DIR = "grid.json", "results.json", "_submitit"
RUNNING, DONE, FAILED, LOST = "running", "done", "failed", "lost"
# Environment variables that size the thread pools of BLAS, OpenMP and torch in a worker.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class GridSpecError(ToolkitError, ValueError):
    """A grid, task or executor option that does not describe a runnable grid."""


class BackendError(ToolkitError):
    """An executor backend that cannot start here (submitit missing, no Slurm on this machine)."""


# ----------------------------------------------------------------------------------------------
# Tasks and grids


@dataclass(frozen=True)
class Task(Serializable):
    """One unit of work: `function(**kwargs)`, run in the folder `<grid>/<key>/`.

    Fields:
        function: import path 'package.module:function'. A function with a parameter named
            `task_dir` also receives its folder (as a string), for files of its own.
        kwargs: keyword arguments, JSON values only (normalised through JSON: tuples become lists).
        key: the folder name, unique in its grid, e.g. 'seed=0,width=4'.
    """

    function: str
    kwargs: dict
    key: str

    def __post_init__(self) -> None:
        module, _, name = self.function.partition(":")
        if not module or not name:
            raise GridSpecError(f"task function must be 'module:function', got {self.function!r}")
        if not self.key or "/" in self.key or "\\" in self.key or self.key[0] in "._" or len(self.key) > 200:
            raise GridSpecError(f"invalid task key {self.key!r}: a folder name of at most 200 characters, "
                                f"without '/', not starting with '.' or '_'")
        try:
            normalised = json.loads(json.dumps(self.kwargs, allow_nan=False))
        except (TypeError, ValueError) as exc:
            raise GridSpecError(f"task {self.key}: arguments must be JSON values ({exc})") from None
        object.__setattr__(self, "kwargs", normalised)


def _key_value(value: Any) -> str:
    """Return the text of an axis value inside a task key (JSON spelling for booleans and None)."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float, str)):
        return repr(value) if isinstance(value, float) else str(value)
    raise GridSpecError(f"axis values must be numbers, strings, booleans or null, got {value!r}")


def grid_tasks(function: str, axes: dict[str, list], fixed: dict | None = None) -> tuple[Task, ...]:
    """Return one Task per point of the cartesian product of `axes`, keyed 'name=value,...' in axis order.

    `axes` maps argument names to their values (e.g. {'seed': [0, 1, 2], 'width': [2, 4]} gives six
    tasks, 'seed=0,width=2' … 'seed=2,width=4', the last axis varying fastest); `fixed` holds the
    arguments shared by every task. An axis may not repeat a fixed argument or a value.
    """
    fixed = dict(fixed or {})
    if not axes:
        raise GridSpecError("a grid needs at least one axis, e.g. seed=0,1,2")
    for name, values in axes.items():
        if not name.isidentifier():
            raise GridSpecError(f"axis name {name!r} is not an argument name")
        if name in fixed:
            raise GridSpecError(f"{name} is both an axis and a fixed argument")
        if len(values) == 0:
            raise GridSpecError(f"axis {name} has no values")
        texts = [_key_value(v) for v in values]
        if len(set(texts)) != len(texts):
            raise GridSpecError(f"axis {name} repeats a value: {', '.join(texts)}")
    names = list(axes)
    tasks = []
    for combo in itertools.product(*(axes[n] for n in names)):
        key = ",".join(f"{n}={_key_value(v)}" for n, v in zip(names, combo))
        tasks.append(Task(function, {**fixed, **dict(zip(names, combo))}, key))
    return tuple(tasks)


def resolve(function: str) -> Callable:
    """Return the function named by the import path 'module:function'."""
    module, _, name = function.partition(":")
    try:
        target = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise GridSpecError(f"cannot import {function}: {exc}") from None
    if not callable(target):
        raise GridSpecError(f"{function} is not callable")
    return target


def _takes_task_dir(fn: Callable) -> bool:
    return "task_dir" in inspect.signature(fn).parameters


def check_task(task: Task) -> None:
    """Raise GridSpecError unless `task.function` imports and accepts `task.kwargs`.

    Run in the submitting process, so that a misspelt argument is one error before anything runs
    rather than one failure per task.
    """
    fn = resolve(task.function)
    kwargs = dict(task.kwargs)
    if "task_dir" in kwargs:
        raise GridSpecError("task_dir is given by the grid, not as an argument")
    if _takes_task_dir(fn):
        kwargs["task_dir"] = ""
    try:
        inspect.signature(fn).bind(**kwargs)
    except TypeError as exc:
        raise GridSpecError(f"{task.function} ({task.key}): {exc}") from None


# ----------------------------------------------------------------------------------------------
# Running one task (in a worker)


def one_line(exc: BaseException) -> str:
    """Return 'ErrorType: first line of the message', the form a grid reports a failure in."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def read_status(folder: Path) -> str | None:
    """Return the status word in `folder` (running, done, failed), or None if the task never started."""
    try:
        return (folder / STATUS_FILE).read_text().strip() or None
    except FileNotFoundError:
        return None


def is_finished(folder: Path) -> bool:
    """Return whether the task in `folder` completed (status done and its result.json present)."""
    return read_status(folder) == DONE and (folder / RESULT_FILE).exists()


def run_task(task: Task, grid_dir: str) -> str:
    """Return the final status ('done' or 'failed') of `task`, run in `<grid_dir>/<key>/`; 'done' at once if finished.

    An exception of the task is recorded (error.json: one line and the wall time; traceback.txt)
    and not raised, so one failing task never stops the others. KeyboardInterrupt and a killed
    process leave the status `running`, which the next run redoes.
    """
    folder = Path(grid_dir) / task.key
    if is_finished(folder):
        return DONE
    folder.mkdir(parents=True, exist_ok=True)
    # a failure left by an earlier run is not this run's
    for stale in (ERROR_FILE, TRACEBACK_FILE, RESULT_FILE):
        (folder / stale).unlink(missing_ok=True)
    atomic_write_text(folder / STATUS_FILE, RUNNING + "\n")
    started = time.perf_counter()
    try:
        fn = resolve(task.function)
        kwargs = dict(task.kwargs)
        if _takes_task_dir(fn):
            kwargs["task_dir"] = str(folder)
        value = fn(**kwargs)
    except Exception as exc:  # noqa: BLE001 - every task failure is recorded, whatever its type
        wall = time.perf_counter() - started
        atomic_write_text(folder / TRACEBACK_FILE, traceback.format_exc())
        atomic_write_json(folder / ERROR_FILE, {"key": task.key, "error": one_line(exc), "wall_time": wall})
        atomic_write_text(folder / STATUS_FILE, FAILED + "\n")
        return FAILED
    wall = time.perf_counter() - started
    atomic_write_json(folder / RESULT_FILE, {"key": task.key, "function": task.function, "kwargs": task.kwargs,
                                             "wall_time": wall, "result": to_jsonable(value)})
    # the marker comes last: a worker killed between the two writes leaves a task that reruns
    atomic_write_text(folder / STATUS_FILE, DONE + "\n")
    return DONE


def _limit_threads(threads: int) -> None:
    """Pool initializer: size BLAS/OpenMP/torch thread pools so that the workers share the cores.

    Runs before the task imports numpy or torch, which read these variables once, at import;
    values the user set are kept.
    """
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, str(threads))


# ----------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class TaskRecord(Serializable):
    """The outcome of one task of a grid, read from its folder.

    Fields:
        key: the task key ('seed=0,width=4').
        status: done | failed | lost (no result: the worker or job ended before the task did,
            or it never ran); a re-run redoes failed and lost tasks.
        wall_time: seconds spent in the task's function (None when lost).
        result: the function's return value as JSON (done only).
        error: one line, 'ErrorType: message' (failed and lost).
        skipped: finished in an earlier run and not run again.
        kwargs: the task's arguments.
    """

    key: str
    status: str
    wall_time: float | None
    result: Any = None
    error: str | None = None
    skipped: bool = False
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class GridResult(Serializable):
    """The table of a grid: one TaskRecord per task, in grid order, with counts.

    Fields:
        folder: the grid's run folder `<root>/<grid>`.
        backend: the executor that ran this invocation (local, submitit-local, slurm).
        records: one TaskRecord per task.
        done, failed, lost: tasks per status; skipped: done tasks finished in an earlier run.
        wall_time: seconds from submission to the end of gathering (this invocation).
    """

    folder: str
    backend: str
    records: tuple[TaskRecord, ...]
    done: int
    failed: int
    lost: int
    skipped: int
    wall_time: float

    def record(self, key: str) -> TaskRecord:
        """Return the record of the task `key` (KeyError if the grid has none)."""
        for rec in self.records:
            if rec.key == key:
                return rec
        raise KeyError(key)


def read_record(grid_dir: Path, task: Task, skipped: bool = False, lost_reason: str | None = None) -> TaskRecord:
    """Return the TaskRecord of `task` from its folder under `grid_dir`."""
    folder = Path(grid_dir) / task.key
    status = read_status(folder)
    if status == DONE and (folder / RESULT_FILE).exists():
        doc = read_json_file(folder / RESULT_FILE, "task result")
        return TaskRecord(task.key, DONE, doc.get("wall_time"), doc.get("result"), None, skipped, task.kwargs)
    if status == FAILED and (folder / ERROR_FILE).exists():
        doc = read_json_file(folder / ERROR_FILE, "task error")
        return TaskRecord(task.key, FAILED, doc.get("wall_time"), None, doc.get("error"), False, task.kwargs)
    reason = lost_reason or ("the worker stopped before the task finished" if status == RUNNING else "never ran")
    return TaskRecord(task.key, LOST, None, None, reason, False, task.kwargs)


def _table(grid_dir: Path, backend: str, tasks: tuple[Task, ...], skipped: set[str], lost: dict[str, str],
           wall_time: float) -> GridResult:
    """Return the GridResult read from the task folders, and save it as results.json."""
    records = tuple(read_record(grid_dir, t, t.key in skipped, lost.get(t.key)) for t in tasks)
    count = {s: sum(r.status == s for r in records) for s in (DONE, FAILED, LOST)}
    result = GridResult(str(grid_dir), backend, records, count[DONE], count[FAILED], count[LOST],
                        sum(r.skipped for r in records), wall_time)
    atomic_write_json(grid_dir / RESULTS_FILE, result)
    return result


def read_grid(root: str | os.PathLike, grid: str) -> GridResult:
    """Return the table of the grid `<root>/<grid>` as its folders hold it now (e.g. a Slurm grid still running)."""
    grid_dir = RunDir(root, grid, create=False).path
    doc = read_json_file(grid_dir / GRID_FILE, "grid description")
    tasks = tuple(Task(**t) for t in doc["tasks"])
    return _table(grid_dir, doc["backend"], tasks, set(), {}, 0.0)


# ----------------------------------------------------------------------------------------------
# Backends


@dataclass(frozen=True)
class ExecutorConfig(Serializable):
    """How a grid runs; every backend reads the fields that apply to it.

    Fields:
        workers: tasks at once: local processes and submitit-local jobs (None: os.cpu_count()),
            Slurm array parallelism (None: no limit beyond the cluster's).
        timeout_min: submitit backends: minutes per task before its job is stopped (Slurm --time).
        partition: slurm: --partition (None: the cluster's default).
        gpus: submitit backends: GPUs per task (Slurm --gpus-per-node; submitit-local sets
            CUDA_VISIBLE_DEVICES, and 0 hides every GPU).
        cpus_per_task: submitit backends: cores per task.
        mem_gb: slurm: memory per task in GB (None: the cluster's default).
        poll_s: seconds between checks of submitit jobs (None: 0.1 for submitit-local; for slurm,
            where every check queries the scheduler, a tenth of the time since submission, from
            0.5 s up to 15 s).
    """

    workers: int | None = None
    timeout_min: int = 60
    partition: str | None = None
    gpus: int = 0
    cpus_per_task: int = 1
    mem_gb: float | None = None
    poll_s: float | None = None

    def __post_init__(self) -> None:
        if self.workers is not None and self.workers < 1:
            raise GridSpecError(f"workers must be a positive integer, got {self.workers}")
        if self.timeout_min < 1 or self.cpus_per_task < 1 or self.gpus < 0:
            raise GridSpecError("timeout_min and cpus_per_task must be positive and gpus non-negative")


def submitit_parameters(backend: str, options: ExecutorConfig) -> dict:
    """Return the keyword arguments of submitit's `AutoExecutor.update_parameters` for `backend`."""
    params: dict[str, Any] = {"name": "grid", "timeout_min": int(options.timeout_min), "nodes": 1,
                              "tasks_per_node": 1, "cpus_per_task": int(options.cpus_per_task),
                              "gpus_per_node": int(options.gpus)}
    if backend == "slurm":
        if options.mem_gb is not None:
            params["mem_gb"] = float(options.mem_gb)
        if options.partition:
            params["slurm_partition"] = options.partition
        if options.workers is not None:
            params["slurm_array_parallelism"] = int(options.workers)
    return params


def import_roots(functions: Iterable[str]) -> list[str]:
    """Return the folders from which this process imports the toolkit and the modules of `functions`.

    A submitit job runs `python -m submitit.core._submit` in a fresh interpreter, which must import
    the same code as the submitting process (a source checkout, a worktree, a test module) rather
    than whatever the interpreter's site-packages would find; these folders go first on its
    PYTHONPATH.
    """
    roots: list[str] = []
    tops = ["landscape_toolkit", "theory", "empirics"] + [f.partition(":")[0].split(".")[0] for f in functions]
    for top in dict.fromkeys(tops):
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            continue
        if spec is None:
            continue
        if spec.submodule_search_locations:
            places = [Path(p).parent for p in spec.submodule_search_locations]
        elif spec.origin and spec.origin not in ("built-in", "frozen"):
            places = [Path(spec.origin).parent]
        else:
            continue
        roots.extend(str(p) for p in places if str(p) not in roots)
    return roots


def _submitit_executor(backend: str, folder: Path, options: ExecutorConfig, functions: Iterable[str] = ()):
    """Return a configured submitit AutoExecutor for 'submitit-local' or 'slurm'."""
    try:
        import submitit
    except ImportError:
        raise BackendError(f"the {backend} executor needs submitit: pip install submitit") from None
    try:
        executor = submitit.AutoExecutor(folder=folder, cluster="local" if backend == "submitit-local" else "slurm")
    except RuntimeError as exc:  # SlurmExecutor refuses to start where srun is missing
        raise BackendError(f"the slurm executor cannot start here: {exc}") from None
    params = submitit_parameters(backend, options)
    roots = import_roots(functions)
    if backend == "slurm" and roots:
        path = ":".join(shlex.quote(r) for r in roots)
        params["slurm_setup"] = [f"export PYTHONPATH={path}${{PYTHONPATH:+:$PYTHONPATH}}"]
    executor.update_parameters(**params)
    return executor


@contextlib.contextmanager
def _submission_errors(backend: str) -> Iterator[None]:
    """Turn a refused submission (sbatch's error lines, which submitit prints and raises) into one BackendError."""
    from submitit.core.utils import UncompletedJobError

    printed = io.StringIO()
    try:
        with contextlib.redirect_stderr(printed):
            yield
    except (UncompletedJobError, OSError) as exc:
        lines = [ln.strip() for ln in (str(exc) or printed.getvalue()).splitlines() if ln.strip()]
        errors = [ln for ln in lines if "error" in ln.lower()] or lines or [type(exc).__name__]
        raise BackendError(f"could not submit the grid to {backend}: {'; '.join(errors[-3:])}") from None


@dataclass
class Submission:
    """A grid handed to a backend: what `gather` waits on (a live handle, not a result).

    Fields:
        grid_dir: the run folder; backend: its executor; tasks: every task of the grid.
        skipped: keys finished in an earlier run (not submitted).
        handles: key → Future (local) or submitit Job, for tasks submitted so far.
        queue: tasks not yet submitted (submitit-local starts `workers` jobs at a time).
        started: time.perf_counter() at submission.
    """

    grid_dir: Path
    backend: str
    tasks: tuple[Task, ...]
    skipped: set[str]
    options: ExecutorConfig
    handles: dict[str, Any] = field(default_factory=dict)
    queue: list[Task] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    _pool: Any = None
    _executor: Any = None
    _lock: Any = None

    def release(self) -> None:
        """Release the grid folder's lock (gather does it; call it only to abandon a submission)."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None


def _check_folders(grid_dir: Path, tasks: tuple[Task, ...]) -> None:
    """Write each task's config.json (the task); refuse a folder that holds another task (CheckpointError)."""
    for task in tasks:
        folder = grid_dir / task.key
        if check_config(folder, task) is None:
            folder.mkdir(parents=True, exist_ok=True)
            write_config(folder / TASK_FILE, task)


def submit(tasks: tuple[Task, ...] | list[Task], root: str | os.PathLike, grid: str, backend: str = "local",
           options: ExecutorConfig | None = None) -> Submission:
    """Return a Submission after handing every unfinished task of the grid `<root>/<grid>` to `backend`.

    Checks first, in this process, that every task's function imports and accepts its arguments,
    that keys are unique and that no task folder holds another task; writes grid.json (tasks,
    backend, options) and manifest.json. Tasks whose folder says `done` are skipped.
    """
    options = options or ExecutorConfig()
    tasks = tuple(tasks)
    if backend not in BACKENDS:
        raise GridSpecError(f"unknown executor {backend!r}: choose one of {', '.join(BACKENDS)}")
    if not tasks:
        raise GridSpecError("a grid needs at least one task")
    keys = [t.key for t in tasks]
    if len(set(keys)) != len(keys):
        raise GridSpecError(f"task keys repeat: {sorted({k for k in keys if keys.count(k) > 1})}")
    for function in {t.function for t in tasks}:
        resolve(function)
    for task in tasks:
        check_task(task)
    run_dir = RunDir(root, grid)
    grid_dir = run_dir.path
    # one submitting process per grid folder, from submit to the end of gather
    lock = contextlib.ExitStack()
    lock.enter_context(run_dir.lock())
    try:
        return _submit_locked(tasks, grid_dir, backend, options, lock)
    except BaseException:
        lock.close()
        raise


def _submit_locked(tasks: tuple[Task, ...], grid_dir: Path, backend: str, options: ExecutorConfig,
                   lock: contextlib.ExitStack) -> Submission:
    """Return the Submission of `submit`, once the grid folder is locked."""
    _check_folders(grid_dir, tasks)
    atomic_write_json(grid_dir / GRID_FILE, {"backend": backend, "options": options, "tasks": tasks})
    atomic_write_json(grid_dir / "manifest.json", manifest(None, {"backend": backend}))
    skipped = {t.key for t in tasks if is_finished(grid_dir / t.key)}
    pending = [t for t in tasks if t.key not in skipped]
    # a status left by an earlier run would hide whether this run started the task
    for task in pending:
        (grid_dir / task.key / STATUS_FILE).unlink(missing_ok=True)
    sub = Submission(grid_dir, backend, tasks, skipped, options, _lock=lock)
    if not pending:
        return sub
    workers = options.workers or os.cpu_count() or 1
    if backend == "local":
        sub._pool = _pool(len(pending), options)
        sub.handles = {t.key: sub._pool.submit(run_task, t, str(grid_dir)) for t in pending}
        return sub
    sub._executor = _submitit_executor(backend, grid_dir / SUBMITIT_DIR, options, {t.function for t in pending})
    if backend == "slurm":
        # one job array: the scheduler queues it, and slurm_array_parallelism caps it
        with _submission_errors(backend):
            jobs = sub._executor.map_array(run_task, pending, [str(grid_dir)] * len(pending))
        sub.handles = {t.key: j for t, j in zip(pending, jobs)}
    else:
        # LocalExecutor starts every job it is given at once: feed it `workers` at a time
        sub.queue = list(pending)
        _top_up(sub, workers)
    return sub


def _pool(n_tasks: int, options: ExecutorConfig) -> ProcessPoolExecutor:
    """Return a process pool of min(workers, n_tasks) spawned workers, their threads sharing the cores."""
    cores = os.cpu_count() or 1
    n = min(options.workers or cores, n_tasks)
    # spawn, not fork: forking a process whose BLAS or torch threads are running can deadlock;
    # the price is that a script calling `submit` needs the `if __name__ == "__main__":` guard
    return ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_limit_threads, initargs=(max(1, cores // n),))


def _top_up(sub: Submission, limit: int) -> None:
    """Submit queued tasks until `limit` submitit jobs are unfinished."""
    running = sum(1 for k, j in sub.handles.items() if not j.done())
    while sub.queue and running < limit:
        task = sub.queue.pop(0)
        sub.handles[task.key] = sub._executor.submit(run_task, task, str(sub.grid_dir))
        running += 1


def gather(sub: Submission, progress: Progress | None = None) -> GridResult:
    """Return the grid's table once every submitted task has ended, calling `progress(done, total)` as they do.

    A worker or job that dies is recorded as `lost` with its one-line reason; the other tasks go
    on. The table is also saved as `<grid>/results.json`.
    """
    try:
        lost = _wait(sub, progress)
    finally:
        sub.release()
    return _table(sub.grid_dir, sub.backend, sub.tasks, sub.skipped, lost, time.perf_counter() - sub.started)


def _wait(sub: Submission, progress: Progress | None) -> dict[str, str]:
    """Return {key: one-line reason} for tasks whose worker or job died, once every submitted task has ended."""
    total = len(sub.tasks)
    finished = len(sub.skipped)
    report(progress, finished, total)
    if sub._pool is not None:
        return _wait_pool(sub, progress, finished, total)
    if sub.backend == "slurm" and sub.handles:
        return _wait_slurm(sub, progress, finished, total)
    if sub._executor is not None:
        return _wait_local_jobs(sub, progress, finished, total)
    return {}


def _wait_pool(sub: Submission, progress: Progress | None, finished: int, total: int) -> dict[str, str]:
    """Return {key: one-line reason} for process-pool tasks whose worker died, once every task has ended.

    A dying worker breaks the whole pool, which stops the workers beside it: the tasks they held are
    lost, but tasks that never started (no status) go on in a fresh pool.
    """
    lost: dict[str, str] = {}
    by_key = {t.key: t for t in sub.tasks}
    futures = dict(sub.handles)
    while futures:
        broken: list[tuple[str, str]] = []
        keys = {fut: key for key, fut in futures.items()}
        try:
            for fut in as_completed(keys):
                try:
                    fut.result()
                except BrokenProcessPool as exc:
                    broken.append((keys[fut], one_line(exc)))
                    continue
                except Exception as exc:  # noqa: BLE001 - e.g. a result that cannot be unpickled
                    lost[keys[fut]] = one_line(exc)
                finished += 1
                report(progress, finished, total)
        finally:
            sub._pool.shutdown(wait=True, cancel_futures=True)
        restart = [by_key[k] for k, _ in broken if read_status(sub.grid_dir / k) is None]
        for key, reason in broken:
            if read_status(sub.grid_dir / key) is not None:
                lost[key] = reason
                finished += 1
                report(progress, finished, total)
        futures = {}
        if restart:
            sub._pool = _pool(len(restart), sub.options)
            futures = {t.key: sub._pool.submit(run_task, t, str(sub.grid_dir)) for t in restart}
    return lost


def _wait_local_jobs(sub: Submission, progress: Progress | None, finished: int, total: int) -> dict[str, str]:
    """Return {key: one-line reason} for submitit-local jobs that died, once every job has ended.

    Jobs are polled every `options.poll_s` seconds (0.1 by default); the queue of tasks not yet
    submitted is topped up to `options.workers` running jobs as jobs end.
    """
    lost: dict[str, str] = {}
    workers = sub.options.workers or os.cpu_count() or 1
    poll = sub.options.poll_s or 0.1
    waiting = dict(sub.handles)
    try:
        while waiting or sub.queue:
            for key, job in list(waiting.items()):
                if job.done():
                    try:
                        job.result()
                    except Exception as exc:  # noqa: BLE001 - a killed job loses only its task
                        lost[key] = one_line(exc)
                    del waiting[key]
                    finished += 1
                    report(progress, finished, total)
            if sub.backend == "submitit-local" and sub.queue:
                before = set(sub.handles)
                _top_up(sub, workers)
                waiting.update({k: j for k, j in sub.handles.items() if k not in before})
            if waiting:
                time.sleep(poll)
    except BaseException:
        # interrupted: stop local jobs (their tasks stay `running` and rerun next time)
        for job in waiting.values():
            job.cancel(check=False)
        raise
    return lost


# Slurm job states after which a job never runs again (squeue's long names).
SLURM_ENDED = ("BOOT_FAIL", "CANCELLED", "COMPLETED", "DEADLINE", "FAILED", "NODE_FAIL", "OUT_OF_MEMORY",
               "PREEMPTED", "REVOKED", "SPECIAL_EXIT", "TIMEOUT")
# Seconds without an answer from the controller after which gathering stops (the jobs may still run).
SLURM_SILENCE_S = 120.0


def slurm_states(job_ids: Iterable[str]) -> dict[str, str]:
    """Return {job id: state} for the Slurm jobs (array elements 'A_i') squeue still knows.

    squeue rather than sacct: it answers from the controller's memory, so it works on clusters
    without accounting storage, where sacct fails; a job it no longer lists ended more than
    MinJobAge (default 300 s) ago. Raises BackendError when squeue cannot reach the controller.
    """
    arrays = sorted({j.split("_")[0] for j in job_ids})
    if not arrays:
        return {}
    cmd = ["squeue", "--noheader", "--array", "--states=all", "--format=%i|%T", f"--jobs={','.join(arrays)}"]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        raise BackendError(f"squeue failed: {exc}") from None
    if out.returncode != 0:
        # squeue exits 1 with 'Invalid job id specified' once every job of a request is purged
        if "invalid job id" in out.stderr.lower():
            return {}
        raise BackendError(f"squeue failed: {' '.join(out.stderr.split()) or f'exit code {out.returncode}'}")
    states = {}
    for line in out.stdout.splitlines():
        job, _, state = line.strip().partition("|")
        if job:
            states[job] = state.strip()
    return states


def _slurm_lost_reason(job: Any, state: str | None) -> str:
    """Return one line saying how a Slurm job ended without a result, with its log's last error line."""
    how = f"ended {state}" if state else "ended (squeue no longer lists it)"
    line = f"Slurm job {job.job_id} {how} before its task finished"
    try:
        errors = [ln.strip() for ln in job.paths.stderr.read_text(errors="replace").splitlines()
                  if "error" in ln.lower() and ln.strip()]
    except OSError:
        errors = []
    # slurmstepd's own lines say why (memory limit, time limit, cancelled); a traceback's last line otherwise
    steps = [e for e in errors if e.startswith("slurmstepd")]
    detail = (steps or errors)[-1] if (steps or errors) else ""
    return f"{line}: {detail}" if detail else line


def _wait_slurm(sub: Submission, progress: Progress | None, finished: int, total: int) -> dict[str, str]:
    """Return {key: one-line reason} for Slurm tasks whose job ended without a result, once every job has ended.

    A job is over when its result file exists or squeue says it ended (or no longer lists it).
    submitit's own watcher is never asked: it polls sacct, which fails and warns on every poll
    on clusters without accounting. Checks come every 0.5 s at first and at most every 15 s
    (`options.poll_s` fixes the interval); a controller silent for SLURM_SILENCE_S seconds
    ends gathering with a BackendError (the jobs keep running; the same command gathers them later).
    """
    lost: dict[str, str] = {}
    waiting = dict(sub.handles)
    silent_since = None
    while waiting:
        try:
            states = slurm_states(j.job_id for j in waiting.values())
            silent_since = None
        except BackendError:
            silent_since = silent_since or time.perf_counter()
            if time.perf_counter() - silent_since > SLURM_SILENCE_S:
                raise
            states = None
        for key, job in list(waiting.items()):
            if job.paths.result_pickle.exists():
                try:
                    job.result()
                except Exception as exc:  # noqa: BLE001 - the job itself failed outside the task
                    lost[key] = one_line(exc)
            elif states is not None and (states.get(job.job_id) in SLURM_ENDED or job.job_id not in states):
                # the result is written before the job ends: a job that ended without one is lost
                if job.paths.result_pickle.exists():
                    continue
                lost[key] = _slurm_lost_reason(job, states.get(job.job_id))
            else:
                continue
            del waiting[key]
            finished += 1
            report(progress, finished, total)
        if waiting:
            elapsed = time.perf_counter() - sub.started
            time.sleep(sub.options.poll_s or min(15.0, max(0.5, elapsed / 10)))
    return lost


def run_grid(tasks: tuple[Task, ...] | list[Task], root: str | os.PathLike, grid: str, backend: str = "local",
             options: ExecutorConfig | None = None, progress: Progress | None = None) -> GridResult:
    """Return the table of the grid `<root>/<grid>` after running its unfinished tasks on `backend`.

    `submit` then `gather`: the one call the CLI makes.
    """
    return gather(submit(tasks, root, grid, backend, options), progress)
