"""Named exceptions of training and devices, caught once by the CLI (one line, exit 2)."""
from common.errors import CheckpointError, ToolkitError

__all__ = ["CheckpointError", "DeviceUnavailable", "TrainingDiverged"]


class TrainingDiverged(ToolkitError):
    """Training produced a non-finite loss; the last good checkpoint is kept."""


class DeviceUnavailable(ToolkitError):
    """A requested torch device (e.g. 'cuda') that this machine does not have."""
