"""OpenPose output (one `<name>_<frame>_keypoints.json` per frame, from `--write_json DIR`) -> COCO-17.

Each file: {"version": ..., "people": [{"pose_keypoints_2d": [x0, y0, c0, x1, y1, c1, ...], ...}, ...]}.
Coordinates are pixels (OpenPose's default --keypoint_scale 0); a joint OpenPose did not find is 0, 0, 0.
The body model is told apart by the length: 25 joints = BODY_25, 18 = COCO-18 (OpenPose's "COCO" model,
which adds a neck to COCO-17 and orders joints differently).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from .candidates import PersonCandidates, boxes_around
from .keypoints import DetectorError

# COCO-17 order (vp3d.skeleton.COCO) -> index in each OpenPose body model.
# BODY_25: 0 nose, 1 neck, 2-4 right shoulder/elbow/wrist, 5-7 left shoulder/elbow/wrist, 8 mid hip,
#   9-11 right hip/knee/ankle, 12-14 left hip/knee/ankle, 15/16 right/left eye, 17/18 right/left ear, 19-24 feet.
BODY25_TO_COCO = (0, 16, 15, 18, 17, 5, 2, 6, 3, 7, 4, 12, 9, 13, 10, 14, 11)
# COCO-18: 0 nose, 1 neck, 2-4 right arm, 5-7 left arm, 8-10 right leg, 11-13 left leg, 14/15 right/left eye,
#   16/17 right/left ear.
COCO18_TO_COCO = (0, 15, 14, 17, 16, 5, 2, 6, 3, 7, 4, 11, 8, 12, 9, 13, 10)
TO_COCO = {25: ("BODY_25", BODY25_TO_COCO), 18: ("COCO-18", COCO18_TO_COCO)}

_FRAME_RE = re.compile(r"(\d+)_keypoints\.json$")


def openpose_to_coco(xy: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(..., 25 or 18, 2), (..., 25 or 18) -> (..., 17, 2), (..., 17): a pure selection (COCO-17's joints
    all exist in both models)."""
    xy, score = np.asarray(xy, np.float32), np.asarray(score, np.float32)
    if xy.shape[-2] not in TO_COCO or xy.shape[-1] != 2 or score.shape != xy.shape[:-1]:
        raise ValueError(f"expected OpenPose BODY_25 or COCO-18 keypoints, got xy {xy.shape}, score {score.shape}")
    idx = list(TO_COCO[xy.shape[-2]][1])
    return xy[..., idx, :].copy(), score[..., idx].copy()


def frame_files(folder: Path) -> list[Path]:
    """The folder's `*_keypoints.json` files in frame order (by the number before `_keypoints.json`, which
    OpenPose writes as 12 digits counted from 0). Raises DetectorError when there are none or numbers skip."""
    numbered = []
    for p in folder.iterdir():
        m = _FRAME_RE.search(p.name)
        if m:
            numbered.append((int(m.group(1)), p))
    if not numbered:
        raise DetectorError(f"{folder}: no OpenPose *_keypoints.json files in this folder")
    numbered.sort()
    numbers = [n for n, _ in numbered]
    for a, b in zip(numbers, numbers[1:]):
        if b != a + 1:
            raise DetectorError(f"{folder}: OpenPose frame numbers jump from {a} to {b}; one file per frame is needed")
    return [p for _, p in numbered]


def read_frame(path: Path) -> tuple[PersonCandidates, str]:
    """One OpenPose JSON -> (COCO-17 candidates, body model name).

    Joint score = OpenPose's confidence c (0 for joints it did not find). OpenPose gives no person score:
    person_score = mean confidence over the 17 COCO joints (a person seen whole and sharply outranks a
    partial one); box = around the joints found.
    """
    try:
        data = json.loads(path.read_text())
        people = data["people"]
        flat = [np.asarray(p["pose_keypoints_2d"], np.float32) for p in people]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DetectorError(f"{path}: not an OpenPose keypoints file ({type(e).__name__}: {e})") from None
    if not flat:
        return PersonCandidates.empty(17), ""
    bad = [len(f) for f in flat if len(f) not in (3 * n for n in TO_COCO)]
    if bad or len({len(f) for f in flat}) > 1:
        raise DetectorError(f"{path}: pose_keypoints_2d has {(bad or [len(f) for f in flat])[0]} values per "
                            f"person; expected 75 (BODY_25) or 54 (COCO-18), the same for everyone")
    arr = np.stack(flat).reshape(len(flat), -1, 3)
    xy, score = openpose_to_coco(arr[..., :2], arr[..., 2])
    score = np.clip(score, 0.0, 1.0)
    return PersonCandidates(boxes=boxes_around(xy, score), xy=xy, score=score, person_score=score.mean(-1)), \
        TO_COCO[arr.shape[1]][0]


def read_folder(folder: Path) -> tuple[list[PersonCandidates], str]:
    """All frames of an OpenPose output folder -> (per-frame COCO-17 candidates, body model name)."""
    frames, models = [], set()
    for path in frame_files(folder):
        cands, model = read_frame(path)
        frames.append(cands)
        if model:
            models.add(model)
    if len(models) > 1:
        raise DetectorError(f"{folder}: frames from different OpenPose body models ({', '.join(sorted(models))})")
    return frames, (models.pop() if models else "no people")
