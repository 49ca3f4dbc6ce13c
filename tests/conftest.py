"""Shared test helpers.

Real data lives outside the repository, in ../shared (relative to the repository root): data/ (videos,
mocap) and docs/. Tests that need it call `require_shared(...)`: under CI=true a missing file is a failure
(CI must have the data), elsewhere it is a skip with the reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SHARED_ROOT = Path(__file__).resolve().parents[1].parent / "shared"
SHARED = SHARED_ROOT / "data"
BIN = Path(sys.executable).parent  # the venv's console scripts (vp3d, vp3d-infer)


def require_shared(*parts: str, folder: str = "data") -> Path:
    """Path of ../shared/<folder>/<parts...>; pytest.fail under CI=true when it is missing, pytest.skip
    otherwise."""
    path = SHARED_ROOT.joinpath(folder, *parts)
    if not path.exists():
        message = f"shared test data missing: {path}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def ffmpeg(*args) -> None:
    """The bundled ffmpeg, quiet, overwriting; arguments are str()-ed."""
    from vp3d.video import ffmpeg_exe
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *map(str, args)], check=True, timeout=120)


def vp3d_infer(*args, cwd=None) -> subprocess.CompletedProcess:
    """`vp3d-infer ARGS` as a user runs it (a new process); arguments are str()-ed."""
    return subprocess.run([str(BIN / "vp3d-infer"), *map(str, args)], capture_output=True, text=True,
                          timeout=600, cwd=cwd)


def decoded_frames(path) -> int:
    """Frames OpenCV actually decodes from a video file (container counts are often wrong)."""
    import cv2
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n
