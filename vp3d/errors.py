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


# What to install for a feature a light install (`pip install vp3d`, requirements-light.txt) lacks: the extras
# of setup.cfg, named in each one-line error that meets their absence.
INSTALL_TORCH = "pip install 'vp3d[torch]'"
INSTALL_GPU_DETECTORS = "pip install 'vp3d[gpu-detectors]'"


def torch_is_installed() -> bool:
    """Whether torch can be imported, without importing it (~1 s and ~500 MB once imported)."""
    from importlib.util import find_spec
    return find_spec("torch") is not None
