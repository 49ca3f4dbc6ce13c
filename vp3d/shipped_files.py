"""Where the files that ship beside the code are (weights/ at the repository's root): the lifter weights and the
BlazePose lite model that MediaPipe's wheel does not carry.

The files stay in weights/ (one copy, their history in git); setup.cfg's data_files installs them to
<prefix>/share/vp3d/weights (sys.prefix for a venv or system install, the user base for `pip install --user`)."""

from __future__ import annotations

import site
import sys
from pathlib import Path


def _shipped_weights_dir() -> Path:
    """weights/ of the source tree (a clone, an editable install), else where a wheel put them."""
    source_tree = Path(__file__).resolve().parents[1] / "weights"
    candidates = [source_tree, Path(sys.prefix) / "share/vp3d/weights", Path(site.getuserbase()) / "share/vp3d/weights"]
    return next((d for d in candidates if (d / "MODEL_CARD.md").is_file()), source_tree)


WEIGHTS_DIR = _shipped_weights_dir()
