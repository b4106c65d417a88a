"""Named exceptions for mathematical and input failures of `theory`, caught once by the CLI (one line, exit 2)."""
from common.errors import ToolkitError


class InvalidSpecError(ToolkitError, ValueError):
    """A network, activation or option value that does not define a valid object."""


class ExpansionTooLarge(ToolkitError):
    """A symbolic expansion whose guaranteed term bound exceeds the allowed size."""


class PathBudgetExceeded(ToolkitError):
    """A homotopy whose number of start paths exceeds the path budget."""


class SolverError(ToolkitError):
    """The external solver (PHCpack) failed or is unavailable."""


class DataError(ToolkitError):
    """A data set that is missing, malformed or fails its integrity check."""


class WidthConditionError(InvalidSpecError):
    """Layer widths outside the range where a connecting-path construction is proved to exist."""
