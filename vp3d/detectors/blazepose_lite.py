"""BlazePose's lite landmark model (MediaPipe Pose, model_complexity=0) offline.

The mediapipe wheel (0.10.14) carries only the full landmark model; for the lite one MediaPipe downloads
`pose_landmark_lite.tflite` into its own package folder at first use, which needs the internet. vp3d ships that
file in weights/ and puts it where MediaPipe would have downloaded it, checked by its SHA-256, so the lite model
works on a machine that has never been online. The file comes from the npm package @mediapipe/pose
0.5.1675469404 (Apache-2.0), whose full model is byte for byte the wheel's.

Why lite: about two thirds of the full model's time per frame on this CPU, which is what `vp3d live` needs to
keep up with 25 frames/s (weights/BLAZEPOSE_LITE.md has the measurements)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..shipped_files import WEIGHTS_DIR
from .keypoints import DetectorError

LITE_FILE = "mediapipe_pose_landmark_lite.tflite"
LITE_SHA256 = "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61"


def place_lite_model(target: Path, source: Path | None = None) -> None:
    """Copy the shipped lite model (default: weights/) to `target`, MediaPipe's path for it: whole or not at all
    (a temporary name, then rename). DetectorError (one line) if the shipped file is missing or not the
    expected one, or the folder cannot be written."""
    source = WEIGHTS_DIR / LITE_FILE if source is None else source
    try:
        data = source.read_bytes()
    except OSError as e:
        raise DetectorError(f"{source}: the BlazePose lite model is not there ({e.strerror}); the full model "
                            f"(--detector mediapipe) needs no file") from None
    if hashlib.sha256(data).hexdigest() != LITE_SHA256:
        raise DetectorError(f"{source}: not the BlazePose lite model vp3d ships (SHA-256 differs)")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, target)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise DetectorError(f"{target.parent}: cannot place the BlazePose lite model in MediaPipe's folder "
                            f"({e.strerror}); copy {source} there as {target.name}") from None
