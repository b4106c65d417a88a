"""The run protocol: a frozen Config, a library function, a frozen Result, and one run folder.

Every computation the toolkit saves follows one pattern: the caller builds a frozen configuration
(specs nested: network, data, optimiser, seed), calls one library function, gets a frozen result,
and this module turns the pair into the run folder `ROOT/NAME/`:

    config.json     the configuration; every integer exact (seeds of any width read back unchanged)
    manifest.json   seed, package versions, git commit, command line, time, and `diff`: the code
                    diff against the commit when the tree is dirty (results kept beside the code
                    that produced them, as cifar10-airbench does)
    result.json     the result (`RunDir.write_result`)
    *.png, *.pdf    figures, drawn into `RunDir.file(name)` by the plotting functions, which write
                    through `common.figures.save_figure` (format checked, atomic, closed)
    checkpoint.pt   state to resume from, and any other torch file (`RunDir.save_checkpoint`)
    .lock           held while the run is in use (a second user fails at once, RunLockedError)

Training adds metrics.json (its per-epoch log, rewritten after every epoch), data.json and
weights/. Every file is written to a temporary name, synced and renamed (and the folder synced): an
interrupted run never leaves a torn file, and the temporaries a killed writer leaves are removed
when the folder is next locked. Checkpoints are verified against their CRC-32s when loaded
(`check_checkpoint`): a damaged file is refused by name, never read as other numbers. A command
that computes first and saves at the end claims its folder before the computation (`claim_run`).
`open_run` checks the folder before any work: a folder holding another
configuration is refused (CheckpointError) unless the differences lie in the fields the caller
declares resumable (a training run's epochs, how it is watched); the same configuration reruns in
place. A command that fails before it saved anything to resume from (`discard_on_failure`) removes
what it wrote, so the corrected command is not refused by the failed one's config.json; work that
can be resumed (a checkpoint, a finished stage, a result) is kept. `read_run` reads any run folder back.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from landscape_core.errors import (CheckpointError, InvalidSpecError, OutputFileError, RunLockedError,
                                             RunNotFoundError)
from landscape_core.records import atomic_path, atomic_write_json, read_json_file
from landscape_core.serialize import Serializable, exact_ints, to_jsonable

CONFIG = "config.json"
MANIFEST = "manifest.json"
RESULT = "result.json"
CHECKPOINT = "checkpoint.pt"
# A diff larger than this is recorded by its size only (a manifest stays readable).
MAX_DIFF_CHARS = 1_000_000
# The files a run folder's protocol writes: `check_output_file` never lets a user's -o replace them.
RUN_FILES = frozenset({CONFIG, MANIFEST, RESULT, CHECKPOINT, ".lock", "data.json", "metrics.json", "report.json",
                       "report.md", "results.json"})
# What a run writes before any work it could resume from: removed again when the command fails.
BOOKKEEPING = frozenset({CONFIG, MANIFEST, ".lock", "data.json", "metrics.json"})


def config_record(config: Any) -> Any:
    """Return the JSON form of a configuration as config.json holds it (every integer exact)."""
    with exact_ints():
        return json.loads(json.dumps(to_jsonable(config)))


def write_config(path: str | os.PathLike, config: Any) -> Path:
    """Write `config` as JSON to `path` atomically, every integer exact."""
    with exact_ints():
        return atomic_write_json(path, config)


def check_run_name(name: str) -> str:
    """Return `name` if it is a plain folder name (no separators, not '.'/'..'), else raise InvalidSpecError."""
    if not name or "/" in name or "\\" in name or name in {".", ".."} or name.startswith("-") or "\0" in name:
        raise InvalidSpecError(f"invalid run name {name!r}: use a plain folder name (letters, digits, '-', '_', '.')")
    return name


def config_differences(saved: Any, asked: Any, resumable: Iterable[str] = ()) -> list[str]:
    """Return the top-level keys whose values differ between two config records, outside `resumable`.

    Records that are not both dicts differ as a whole ('<config>') when unequal.
    """
    if not isinstance(saved, dict) or not isinstance(asked, dict):
        return [] if saved == asked else ["<config>"]
    skip = set(resumable)
    return sorted(k for k in set(saved) | set(asked) if k not in skip and saved.get(k) != asked.get(k))


def check_config(folder: str | os.PathLike, config: Any, resumable: Iterable[str] = ()) -> Any | None:
    """Return the config record saved in `folder` (None when there is none); refuse another configuration.

    Raises CheckpointError when `folder/config.json` holds a configuration that differs from
    `config` in a field outside `resumable`. Reads only; creates nothing, so it runs before any work.
    """
    path = Path(folder) / CONFIG
    if not path.exists():
        return None
    saved = read_json_file(path, CONFIG)
    differ = config_differences(saved, config_record(config), resumable)
    if differ:
        raise CheckpointError(f"{folder} holds a run with another configuration ({', '.join(differ)}): "
                              f"choose another run name or remove that folder")
    return saved


def git_commit(repo: str | os.PathLike | None = None) -> str | None:
    """Return the current git commit of the toolkit (with '+dirty' for local changes), or None."""
    state = _own_git_state(False) if repo is None else _git_state(repo, with_diff=False)
    return None if state is None else state[0]


@functools.lru_cache(maxsize=2)
def _own_git_state(with_diff: bool) -> tuple[str, str | None] | None:
    """Return `_git_state` of the toolkit's own source, read once per process.

    The code a process runs is the code it imported, so one reading serves every run it starts (a
    grid worker's tasks, an experiment's stages): three git calls per run folder would otherwise
    cost more than a small run.
    """
    return _git_state(None, with_diff)


def _git(args: list[str], cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=True).stdout


def _git_state(repo: str | os.PathLike | None, with_diff: bool) -> tuple[str, str | None] | None:
    """Return (commit[+dirty], diff of tracked files against HEAD or None when clean), or None outside git."""
    cwd = Path(repo) if repo else Path(__file__).resolve().parent.parent
    try:
        head = _git(["rev-parse", "HEAD"], cwd).strip()
        dirty = _git(["status", "--porcelain", "--untracked-files=no"], cwd).strip()
        diff = _git(["diff", "HEAD"], cwd) if dirty and with_diff else None
    except (OSError, subprocess.SubprocessError):
        return None
    if diff is not None and len(diff) > MAX_DIFF_CHARS:
        diff = f"<diff of {len(diff):,} characters not recorded>"
    return head + ("+dirty" if dirty else ""), diff


def package_versions(names: tuple[str, ...] = ("numpy", "scipy", "sympy", "torch", "phcpy")) -> dict:
    """Return the installed versions of the named packages (None where absent), without importing them."""
    from importlib import metadata

    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name if name != "phcpy" else "PHCpy")
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def manifest(seed: int | None, extra: dict | None = None) -> dict:
    """Return the provenance record of a run: seed, versions, commit, code diff when dirty, command line, time."""
    state = _own_git_state(True)
    record = {
        "seed": seed,
        "versions": package_versions(),
        "git_commit": None if state is None else state[0],
        "argv": list(sys.argv),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    if state is not None and state[1] is not None:
        record["diff"] = state[1]
    if extra:
        record.update(extra)
    return record


def enclosing_run(path: str | os.PathLike) -> Path | None:
    """Return the run folder (a folder holding config.json or report.json) that holds `path`, or None."""
    for folder in Path(os.path.abspath(path)).parents:
        if (folder / CONFIG).is_file() or (folder / "report.json").is_file():
            return folder
    return None


def check_output_file(path: str | os.PathLike, flag: str = "--output") -> Path:
    """Return `path` after refusing (OutputFileError) an output file that would replace a run folder's own file.

    A user's export (`-o`, `--plot`) may be written beside a run's files, but never over one: any
    existing file inside a run folder, and the names a run writes (config.json, result.json, ...),
    are the run's.
    """
    target = Path(path)
    run = enclosing_run(target)
    if run is not None and (target.exists() or target.name in RUN_FILES or target.name.startswith(".")):
        raise OutputFileError(f"{flag} {path} would replace a file of the run folder {run}: write it elsewhere "
                              f"or under a new name")
    return target


def run_folder(path: str | os.PathLike) -> Path:
    """Return an existing run folder as a Path (RunNotFoundError naming it otherwise)."""
    path = Path(path)
    if not path.is_dir():
        raise RunNotFoundError(f"run folder {path} does not exist")
    return path


def _acquire(folder: Path):
    """Return the open `.lock` of `folder`, flock'ed exclusively (RunLockedError when another holder has it)."""
    import fcntl

    try:
        handle = open(folder / ".lock", "a+")
    except OSError as exc:
        raise OutputFileError(f"cannot lock run folder {folder}: {exc.strerror or exc}") from None
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "another process"
        handle.close()
        raise RunLockedError(f"run folder {folder} is in use by {owner}; wait for it or choose "
                             f"another run name") from None
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()}")
        handle.flush()
    except OSError:
        pass  # the owner's name is a courtesy (e.g. on a full disk); the flock is the lock
    remove_stale_temporaries(folder)
    return handle


def _release(handle) -> None:
    import fcntl

    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    try:
        handle.close()
    except OSError:
        pass  # the owner's name could not be flushed (a full disk); the lock is released all the same


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Remove and return the temporary files of interrupted atomic writes in `folder` and its plain subfolders.

    `records.atomic_path` writes `.NAME.XXXXXXXX.tmp` beside its target and renames it; a process
    killed before the rename leaves it behind. Nothing reads these files, so once the folder is
    locked they are garbage. Subfolders that are run folders of their own (they hold config.json,
    e.g. a grid's task folders or an experiment's training stages) are left to their own users.
    """
    folder = Path(folder)
    places = [folder] + [d for d in folder.iterdir() if d.is_dir() and not (d / CONFIG).exists()] \
        if folder.is_dir() else []
    removed = []
    for place in places:
        for tmp in place.glob(".*.tmp"):
            try:
                tmp.unlink()
            except OSError:
                continue
            removed.append(tmp)
    return removed


# Run folders claimed by this process for the rest of a command (`claim_run`): path -> lock handle.
_CLAIMS: dict[Path, Any] = {}


def claim_run(root: str | os.PathLike, name: str) -> Path:
    """Lock the run folder `root/name` until `release_claims`, and return its path; RunLockedError if in use.

    For commands that compute first and save at the end (`save_run`): claimed before the
    computation, a folder another process is using is refused before any work, and no second
    process can write it meanwhile. `open_run` in this process then uses the claim instead of
    locking again. A folder the claim had to create is removed again if nothing was saved in it.
    """
    path = Path(root) / check_run_name(name)
    key = path.resolve()
    if key in _CLAIMS:
        return path
    created = not path.exists()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputFileError(f"cannot create run folder {path}: {exc.strerror or exc}") from None
    try:
        _CLAIMS[key] = (_acquire(path), created)
    except BaseException:
        if created:
            shutil.rmtree(path, ignore_errors=True)
        raise
    return path


def release_claims() -> None:
    """Release every run folder `claim_run` locked in this process (removing those it created and left empty)."""
    while _CLAIMS:
        path, (handle, created) = _CLAIMS.popitem()
        _release(handle)
        if created and {p.name for p in path.iterdir()} <= {".lock"}:
            shutil.rmtree(path, ignore_errors=True)


class RunDir:
    """A run folder `root/name`; writes go through here (config, manifest, result, figures, checkpoints)."""

    def __init__(self, root: str | os.PathLike, name: str, create: bool = True):
        check_run_name(name)
        self.path = Path(root) / name
        if not create and not self.path.is_dir():
            raise RunNotFoundError(f"no run {name!r} in {root}/ (looked for the folder {self.path})")
        if create:
            try:
                self.path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise OutputFileError(f"cannot create run folder {self.path}: {exc.strerror or exc}") from None

    @classmethod
    def at(cls, path: str | os.PathLike, create: bool = True) -> "RunDir":
        """Return the RunDir of the folder `path` (its parent is the root, its last part the name)."""
        path = Path(path)
        return cls(path.parent, path.name, create=create)

    @contextlib.contextmanager
    def lock(self) -> Iterator["RunDir"]:
        """Hold an exclusive lock on the run folder for the duration of the block.

        A second process that tries to use the same run folder at the same time gets RunLockedError
        at once, instead of two runs writing into one folder. The lock is an `flock` on `.lock`, so
        it is released when the process dies, however it dies. Once locked, the temporary files
        that a killed writer left behind (`.NAME.*.tmp`, never read) are removed (`remove_stale_temporaries`).
        """
        handle = _acquire(self.path)
        try:
            yield self
        finally:
            _release(handle)

    def file(self, name: str) -> Path:
        """Return the path of a file inside the run folder."""
        return self.path / name

    def write_json(self, name: str, obj: Any) -> Path:
        """Write `obj` to `name` inside the run folder, atomically."""
        return atomic_write_json(self.path / name, obj)

    def read_json(self, name: str) -> Any | None:
        """Return the parsed JSON file `name`, or None if it does not exist."""
        path = self.path / name
        if not path.exists():
            return None
        return read_json_file(path, what=name)

    def start(self, config: Any, seed: int | None, extra: dict | None = None, resumable: Iterable[str] = ()) -> None:
        """Write config.json and manifest.json at the start of a run.

        A folder that already holds another configuration (outside the `resumable` fields) is never
        overwritten (CheckpointError); the same configuration is rerun in place.
        """
        check_config(self.path, config, resumable)
        write_config(self.path / CONFIG, config)
        with exact_ints():  # the manifest's seed, like the config's, reads back exactly
            self.write_json(MANIFEST, manifest(seed, extra))

    def write_config(self, config: Any) -> Path:
        """Rewrite config.json (a resumed run that changed a resumable field, e.g. extended epochs)."""
        return write_config(self.path / CONFIG, config)

    def write_result(self, result: Any) -> Path:
        """Write the result (a Serializable dataclass or JSON-able value) as result.json."""
        return self.write_json(RESULT, result)

    def save_checkpoint(self, obj: Any, name: str = CHECKPOINT) -> Path:
        """Write `obj` with torch.save to `name` (relative, sub-folders created) atomically, fsync'd."""
        import torch

        path = self.file(name)
        with atomic_path(path, make_parents=True) as tmp:  # a kill leaves the old file or the new one
            # through a Python file object, so that a full disk is OSError (ENOSPC), which atomic_path
            # names; given a path, torch's own writer fails with an unexplained 'unexpected pos'
            with open(tmp, "wb") as handle:
                torch.save(obj, handle)
        return path

    def load_checkpoint(self, name: str = CHECKPOINT, map_location: Any = "cpu") -> dict:
        """Return the torch object saved as `name` (CheckpointError naming it when missing or unreadable)."""
        return load_checkpoint(self.file(name), map_location)


def load_checkpoint(path: str | os.PathLike, map_location: Any = "cpu") -> dict:
    """Return the torch object saved at `path` (CheckpointError naming it when missing or unreadable)."""
    import torch

    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path} does not exist")
    check_checkpoint(path)
    try:
        return torch.load(path, map_location=map_location, weights_only=False)
    except Exception as exc:  # pickle, zip and IO errors all mean the same to the user
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"cannot read checkpoint {path}: {first}") from exc


def check_checkpoint(path: str | os.PathLike) -> None:
    """Raise CheckpointError naming `path` when the torch file there is truncated or any byte of it changed.

    torch.save writes a zip archive with a CRC-32 per member, but torch.load never checks them: a
    flipped bit in a tensor loads as a silently different number. Python's zipfile reads every
    member and compares its CRC (`testzip`), at about the speed of reading the file; a truncated
    file has lost its central directory. Files in torch's legacy (non-zip) format pass unchecked.
    """
    import zipfile

    path = Path(path)
    try:
        with open(path, "rb") as handle:
            if handle.read(4) != b"PK\x03\x04":
                if path.stat().st_size == 0:
                    raise CheckpointError(f"checkpoint {path} is empty (truncated)")
                return  # not a zip archive: torch's legacy format, or not a checkpoint (torch.load says)
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except zipfile.BadZipFile as exc:
        raise CheckpointError(f"checkpoint {path} is truncated or damaged ({exc})") from None
    except (OSError, EOFError, zipfile.LargeZipFile) as exc:
        raise CheckpointError(f"cannot read checkpoint {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if bad is not None:
        raise CheckpointError(f"checkpoint {path} is corrupt: its member {bad} fails its CRC-32 check")


def holds_resumable_work(folder: str | os.PathLike) -> bool:
    """Return whether `folder` holds any file beyond the BOOKKEEPING a run writes before its work.

    A checkpoint, a finished stage (`stages/*.json`), saved weights, a result or a figure all count.
    """
    root = Path(folder)
    return any(_is_work(p) for p in root.rglob("*")) if root.is_dir() else False


def _is_work(path: Path) -> bool:
    """Return whether `path` is a file of work: neither BOOKKEEPING nor a killed writer's temporary."""
    temporary = path.name.startswith(".") and path.name.endswith(".tmp")
    return path.is_file() and path.name not in BOOKKEEPING and not temporary


def checkpoint_exists(folder: str | os.PathLike) -> bool:
    """Return whether `folder` (or a sub-run inside it) holds a checkpoint to resume from."""
    root = Path(folder)
    return root.is_dir() and any(root.rglob(CHECKPOINT))


def clear_stale(folder: str | os.PathLike) -> bool:
    """Remove the bookkeeping a run left when it was killed before any resumable work (SIGKILL, SIGTERM, power
    loss: no handler ran); return whether there was some.

    Only a folder holding nothing but BOOKKEEPING files, and not locked by a live process, is cleared, so a
    stale config.json never refuses the corrected command; a folder in use, or with work in it, is left alone.
    """
    root = Path(folder)
    if not root.is_dir() or holds_resumable_work(root) or not any(root.iterdir()):
        return False
    try:
        with RunDir.at(root, create=False).lock():
            for p in sorted(root.rglob("*"), key=lambda q: len(q.parts), reverse=True):
                with contextlib.suppress(OSError):
                    p.unlink() if (p.is_file() or p.is_symlink()) else p.rmdir()
    except RunLockedError:
        return False
    return True


def snapshot(folder: str | os.PathLike) -> tuple[bool, frozenset]:
    """Return (whether `folder` exists, the paths under it): what `discard_on_failure` leaves in place."""
    root = Path(folder)
    return (True, frozenset(root.rglob("*"))) if root.is_dir() else (False, frozenset())


@contextlib.contextmanager
def discard_on_failure(folder: str | os.PathLike, before: tuple[bool, frozenset] | None = None) -> Iterator[None]:
    """Run the block; if it raises (Ctrl-C included) before it saved resumable work, remove what it wrote.

    Only the files that were not in the folder before (`before`, a `snapshot` taken earlier; by
    default at entry) are removed, then the empty folders created since; when the block added work
    (a checkpoint, a finished stage, a result), the folder is kept whole, so the same command
    resumes it, and what was there before is never touched. Use it while holding the folder's lock:
    another process's folder (RunLockedError) is never touched.
    """
    root = Path(folder)
    existed, paths = snapshot(root) if before is None else before
    try:
        yield
    except RunLockedError:
        raise
    except BaseException:
        new_work = root.is_dir() and any(_is_work(p) and p not in paths for p in root.rglob("*"))
        if not new_work:
            _remove_new(root, paths)
            if not existed:  # the folder this run created (an open lock on its removed .lock does not keep it)
                with contextlib.suppress(OSError):
                    root.rmdir()
        raise


def _remove_new(root: Path, before: frozenset) -> None:
    """Remove the files under `root` not in `before`, then the emptied folders created since."""
    if not root.is_dir():
        return
    new = [p for p in root.rglob("*") if p not in before]
    for p in new:
        if p.is_file() or p.is_symlink():
            with contextlib.suppress(OSError):
                p.unlink()
    for p in sorted((p for p in new if p.is_dir()), key=lambda q: len(q.parts), reverse=True):
        with contextlib.suppress(OSError):
            p.rmdir()


@contextlib.contextmanager
def open_run(root: str | os.PathLike, name: str, config: Any, seed: int | None = None, *,
             extra: dict | None = None, resumable: Iterable[str] = ()) -> Iterator[RunDir]:
    """Yield the locked run folder `root/name` with config.json and manifest.json written.

    The folder is checked before anything is created: a run name with separators is
    InvalidSpecError, a folder holding another configuration CheckpointError, one in use
    RunLockedError. Call it before the computation, so a conflict costs no work. When the block
    fails before the folder holds resumable work, the folder is left as it was (`discard_on_failure`).
    """
    check_run_name(name)
    clear_stale(Path(root) / name)
    check_config(Path(root) / name, config, resumable)
    before = snapshot(Path(root) / name)
    run = RunDir(root, name)
    claimed = run.path.resolve() in _CLAIMS
    with contextlib.nullcontext(run) if claimed else run.lock(), discard_on_failure(run.path, before):
        run.start(config, seed, extra, resumable)
        yield run


def save_run(root: str | os.PathLike, name: str, config: Any, result: Any, seed: int | None = None,
             extra: dict | None = None) -> RunDir:
    """Write a finished computation as the run folder `root/name` (config, manifest, result.json); return it."""
    with open_run(root, name, config, seed, extra=extra) as run:
        run.write_result(result)
    return run


@dataclass(frozen=True)
class RunRecord(Serializable):
    """A run folder read back.

    Fields:
        path: the run folder.
        config: config.json (None if absent).
        manifest: manifest.json (None if absent).
        result: result.json (None if absent: a run still in progress, or a training run's log only).
    """

    path: str
    config: Any
    manifest: Any
    result: Any


def read_run(path: str | os.PathLike) -> RunRecord:
    """Return the config, manifest and result of the run folder `path` (RunNotFoundError when missing)."""
    run = RunDir.at(run_folder(path), create=False)
    return RunRecord(str(run.path), run.read_json(CONFIG), run.read_json(MANIFEST), run.read_json(RESULT))
