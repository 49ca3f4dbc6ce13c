"""The lifter's one-line error, importable without torch (the CLI and batch mode name it before any model loads)."""


class CheckpointError(Exception):
    """A checkpoint cannot be used; the message names the file and what to do."""
