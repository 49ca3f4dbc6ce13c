"""The one error type for everything a user can cause.

Every error a user can cause (a bad video, nobody in it, missing or wrong weights, an unknown detector, an
unwritable output, bad training data) is a `UserError` whose message is one line naming the file or option
and the problem. The command line (vp3d.cli) and batch mode catch this one class and print that line; any
other exception is a bug and keeps its traceback.

The subclasses live with what they describe (VideoError in vp3d.video, DetectorError in vp3d.detectors,
CheckpointError in vp3d.lifter, ...) and keep their older builtin bases (RuntimeError, ValueError, ...),
so code that caught those still does.
"""


class UserError(Exception):
    """An error explained in one line; no traceback."""
