"""Files on disk: atomic writes (synced, renamed), JSON reads that name the file, config key checks.

Every file is written to a temporary name, synced and renamed, so an interrupted run never leaves
a half-written file behind. Run folders (config, manifest, result, checkpoints) are built on these
in `landscape_core.runs`.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

from landscape_core.errors import InputFileError, OutputFileError
from landscape_core.serialize import check_known_keys, to_jsonable  # noqa: F401 - re-exported


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
        _sync_folder(path.parent)
    except OSError as exc:
        raise OutputFileError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if tmp.exists():
            tmp.unlink()


def _sync_folder(folder: Path) -> None:
    """fsync a folder, so that a rename in it survives a power cut (a killed process needs no more than the rename)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a directory; the rename itself is atomic
    finally:
        os.close(fd)


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


def atomic_write_json(path: str | os.PathLike, obj: Any, make_parents: bool = False) -> Path:
    """Write `obj` as indented JSON to `path` atomically."""
    return atomic_write_text(path, json.dumps(to_jsonable(obj), indent=2, sort_keys=False) + "\n", make_parents)
