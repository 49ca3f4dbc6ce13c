"""The lifter's one-line error, importable without torch (the CLI and batch mode name it before any model loads)."""

from ..errors import UserError


class CheckpointError(UserError):
    """A checkpoint cannot be used; the message names the file and what to do."""
