"""The base of every error the CLI reports as one line (exit 2), and the failures of files and runs.

Mathematical failures live in `theory.errors`, training failures in `empirics.errors`; all derive
from `ToolkitError`, which `cli.py` catches once.
"""


class ToolkitError(Exception):
    """Base class: a failure the user can act on, reported as one line without a traceback."""


class InputFileError(ToolkitError):
    """A file given by the user that cannot be read, decoded or parsed; the message names it."""


class OutputFileError(ToolkitError):
    """A file that cannot be written (missing folder, not a regular file, read-only or full disk)."""


class RunNotFoundError(ToolkitError):
    """A run folder (or a file a command needs inside one) that does not exist."""


class CheckpointError(ToolkitError):
    """A run folder whose checkpoint is missing, unreadable or belongs to another configuration."""


class RunLockedError(ToolkitError):
    """A run folder that another process is using right now."""
