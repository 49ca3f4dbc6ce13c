"""Shared test helpers.

Real data lives outside the repository, in ../shared/data (relative to the repository root). Tests that need
it call `require_shared(...)`: under CI=true a missing file is a failure (CI must have the data), elsewhere it
is a skip with the reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def require_shared(*parts: str) -> Path:
    """Path of SHARED/<parts...>; pytest.fail under CI=true when it is missing, pytest.skip otherwise."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        message = f"shared test data missing: {path}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def decoded_frames(path) -> int:
    """Frames OpenCV actually decodes from a video file (container counts are often wrong)."""
    import cv2
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n
