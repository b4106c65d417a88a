"""Every named error of the toolkit, in one module at the bottom layer (as sympy's `polyerrors`).

All derive from `ToolkitError`, which the CLI catches once and prints as one line (exit 2). The
file and run failures come first, then the mathematical failures of `theory`, then the training
and device failures of `empirics`.
"""


class ToolkitError(Exception):
    """Base class: a failure the user can act on, reported as one line without a traceback."""


# --- files and run folders -----------------------------------------------------------------------

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


# --- mathematics (theory) ------------------------------------------------------------------------

class InvalidSpecError(ToolkitError, ValueError):
    """A network, activation, configuration or option value that does not define a valid object."""


class SharedStreamError(InvalidSpecError):
    """Two replicates of a verdict that share a random stream (the same root seed): they are not independent."""


class RequestTooLarge(ToolkitError):
    """A request whose estimated size (memory, disk, terms, paths) exceeds a stated limit, refused before any work."""


class ExpansionTooLarge(RequestTooLarge):
    """A symbolic expansion whose guaranteed term bound exceeds the allowed size."""


class PathBudgetExceeded(RequestTooLarge):
    """A homotopy whose number of start paths exceeds the path budget."""


class SolverError(ToolkitError):
    """The external solver (PHCpack) failed or is unavailable."""


class DataError(ToolkitError):
    """A data set that is missing, malformed or fails its integrity check."""


class WidthConditionError(InvalidSpecError):
    """Layer widths outside the range where a connecting-path construction is proved to exist."""


# --- training and devices (empirics) -------------------------------------------------------------

class TrainingDiverged(ToolkitError):
    """Training produced a non-finite loss; the last good checkpoint is kept."""


class DeviceUnavailable(ToolkitError):
    """A requested torch device (e.g. 'cuda') that this machine does not have."""
