"""Saving results: atomic JSON writes and run folders with config, metrics and a manifest.

A run folder `runs/<name>/` holds `config.json`, `metrics.json`, figures and `manifest.json`
(seed, package versions, git commit). Every file is written to a temporary name and renamed, so
an interrupted run never leaves a half-written file behind.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

from landscape_toolkit.common.serialize import to_jsonable


def check_known_keys(cls: type, data: dict, what: str) -> None:
    """Raise InvalidSpecError naming every key of `data` that is not a field of dataclass `cls`."""
    from landscape_toolkit.common.errors import InvalidSpecError

    unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
    if unknown:
        raise InvalidSpecError(f"unknown {what} keys: {', '.join(unknown)}")


def _umask() -> int:
    """Return the process umask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_writable_target(path: str | os.PathLike, make_parents: bool = False) -> Path:
    """Return `path` as a Path after checking it can be replaced by a regular file.

    Refuses (OutputFileError) a target that exists and is not a regular file (a directory, a device
    such as /dev/full, a FIFO), and a missing parent folder unless `make_parents`.
    """
    from landscape_toolkit.common.errors import OutputFileError

    path = Path(path)
    if path.exists() and not path.is_file():
        kind = "a directory" if path.is_dir() else "not a regular file"
        raise OutputFileError(f"cannot write {path}: it is {kind}")
    if not path.parent.is_dir():
        if not make_parents:
            raise OutputFileError(f"cannot write {path}: folder {path.parent} does not exist")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputFileError(f"cannot create folder {path.parent}: {exc.strerror or exc}") from None
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, make_parents: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it is synced, given the umask's mode and renamed.

    Whatever writes to the yielded path (text, `fig.savefig(tmp, format=...)`, `torch.save`), the
    target is either the old file or the complete new one: on any failure (full disk, Ctrl-C) the
    temporary file is removed and the target untouched. OSError becomes OutputFileError naming `path`.
    """
    from landscape_toolkit.common.errors import OutputFileError

    path = check_writable_target(path, make_parents)
    try:
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputFileError(f"cannot write {path}: {exc.strerror or exc}") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; match what open() would have made
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputFileError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_bytes(path: str | os.PathLike, data: bytes, make_parents: bool = False) -> Path:
    """Write `data` to `path` atomically (see `atomic_path`)."""
    with atomic_path(path, make_parents) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str, make_parents: bool = False) -> Path:
    """Write `text` (UTF-8) to `path` atomically (see `atomic_path`)."""
    return atomic_write_bytes(path, text.encode("utf-8"), make_parents)


def read_json_file(path: str | os.PathLike, what: str = "file") -> Any:
    """Return the parsed JSON at `path`; unreadable, undecodable or malformed files raise InputFileError."""
    from landscape_toolkit.common.errors import InputFileError

    try:
        return json.loads(Path(path).read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise InputFileError(f"{what} {path} does not exist") from None
    except OSError as exc:
        raise InputFileError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InputFileError(f"{what} {path} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{what} {path} is not valid JSON ({exc.msg}, line {exc.lineno})") from None


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write `obj` as indented JSON to `path` atomically."""
    return atomic_write_text(path, json.dumps(to_jsonable(obj), indent=2, sort_keys=False) + "\n")


def git_commit(repo: str | os.PathLike | None = None) -> str | None:
    """Return the current git commit of the toolkit (with '+dirty' for local changes), or None."""
    cwd = Path(repo) if repo else Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                              text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")


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
    """Return the provenance record of a run: seed, versions, commit, command line, time."""
    record = {
        "seed": seed,
        "versions": package_versions(),
        "git_commit": git_commit(),
        "argv": list(sys.argv),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    if extra:
        record.update(extra)
    return record


def check_run_name(name: str) -> str:
    """Return `name` if it is a plain folder name (no separators, not '.'/'..'), else raise InvalidSpecError."""
    if not name or "/" in name or "\\" in name or name in {".", ".."} or name.startswith("-") or "\0" in name:
        from landscape_toolkit.common.errors import InvalidSpecError
        raise InvalidSpecError(f"invalid run name {name!r}: use a plain folder name (letters, digits, '-', '_', '.')")
    return name


def check_config(folder: str | os.PathLike, config: Any) -> None:
    """Raise CheckpointError if `folder/config.json` exists and holds another configuration than `config`.

    Reads only; creates nothing, so commands can call it before any work.
    """
    path = Path(folder) / "config.json"
    if path.exists() and read_json_file(path, "config.json") != json.loads(json.dumps(to_jsonable(config))):
        from landscape_toolkit.common.errors import CheckpointError
        raise CheckpointError(f"{folder} holds a run with another configuration: "
                              f"choose another run name or remove that folder")


class RunDir:
    """A run folder `root/name` holding config.json, metrics.json, manifest.json and figures."""

    def __init__(self, root: str | os.PathLike, name: str, create: bool = True):
        check_run_name(name)
        self.path = Path(root) / name
        if not create and not self.path.is_dir():
            from landscape_toolkit.common.errors import RunNotFoundError
            raise RunNotFoundError(f"no run {name!r} in {root}/ (looked for the folder {self.path})")
        if create:
            try:
                self.path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                from landscape_toolkit.common.errors import OutputFileError
                raise OutputFileError(f"cannot create run folder {self.path}: {exc.strerror or exc}") from None
        self._lock_handle = None

    @contextlib.contextmanager
    def lock(self) -> Iterator["RunDir"]:
        """Hold an exclusive lock on the run folder for the duration of the block.

        A second process that tries to use the same run folder at the same time gets RunLockedError
        at once, instead of two runs writing into one folder. The lock is an `flock` on `.lock`, so
        it is released when the process dies, however it dies.
        """
        import fcntl

        from landscape_toolkit.common.errors import RunLockedError

        handle = open(self.path / ".lock", "a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "another process"
            handle.close()
            raise RunLockedError(f"run folder {self.path} is in use by {owner}; wait for it or choose "
                                 f"another run name") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()}")
        handle.flush()
        try:
            yield self
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            handle.close()

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

    def start(self, config: Any, seed: int | None, extra: dict | None = None) -> None:
        """Write config.json and manifest.json at the start of a run.

        A folder that already holds another configuration is never overwritten (CheckpointError);
        the same configuration is rerun in place.
        """
        check_config(self.path, config)
        self.write_json("config.json", config)
        self.write_json("manifest.json", manifest(seed, extra))
