"""Named exceptions for mathematical and input failures, caught once by the CLI (one line, exit 2)."""


class ToolkitError(Exception):
    """Base class: a failure the user can act on, reported as one line without a traceback."""


class InvalidSpecError(ToolkitError, ValueError):
    """A network, activation or data description that does not define a valid object."""


class ExpansionTooLarge(ToolkitError):
    """A symbolic expansion whose guaranteed term bound exceeds the allowed size."""


class InconsistentSystemError(ToolkitError):
    """A polynomial system with no complex solution (1 lies in its ideal)."""


class PathBudgetExceeded(ToolkitError):
    """A homotopy whose number of start paths exceeds the path budget."""


class SolverError(ToolkitError):
    """The external solver (PHCpack) failed or is unavailable."""


class DataError(ToolkitError):
    """A data set that is missing, malformed or fails its integrity check."""


class TrainingDiverged(ToolkitError):
    """Training produced a non-finite loss; the last good checkpoint is kept."""


class WidthConditionError(InvalidSpecError):
    """Layer widths outside the range where a connecting-path construction is proved to exist."""


class DeviceUnavailable(ToolkitError):
    """A requested torch device (e.g. 'cuda') that this machine does not have."""


class CheckpointError(ToolkitError):
    """A run folder whose checkpoint is missing, unreadable or belongs to another configuration."""
