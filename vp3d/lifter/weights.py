"""The lifter weights vp3d knows: where the shipped default is.

Importable without torch (the command line names the default before any model loads).
"""

from __future__ import annotations

import os
from pathlib import Path

WEIGHTS_DIR = Path(__file__).resolve().parents[2] / "weights"
DEFAULT_WEIGHTS = "vp3d_cmu_h36m17_243f.bin"


def default_checkpoint() -> Path:
    """The shipped default lifter: $VP3D_WEIGHTS, else weights/ of the source tree."""
    return Path(os.environ.get("VP3D_WEIGHTS", WEIGHTS_DIR / DEFAULT_WEIGHTS))
