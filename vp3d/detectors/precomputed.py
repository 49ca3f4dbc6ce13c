"""`--detector file:PATH`: 2D keypoints computed elsewhere, read instead of running a detector.

The video is still needed (frame size, frame rate, frame count, render); the file must have one entry per
decoded frame of it, else a one-line DetectorError says how many each has. Formats, told apart by content:

* Reference detections (`.npz` from VideoPose3D's inference/infer_video_d2.py, one per video): keys
  `boxes`, `keypoints`, `segments`, `metadata`. Per frame i, `boxes[i][1]` is (N, 5) float x1, y1, x2, y2,
  score and `keypoints[i][1]` is (N, 4, 17): rows x, y, logit (written as 0), probability, COCO-17 order;
  both are empty lists on frames without a person. `metadata` = {"w": width, "h": height}.
  Joint score = the probability row; person score = the box score. Layout "coco".
* Reference custom 2D dataset (`.npz`, data_2d_custom_<name>.npz from prepare_data_2d_custom.py or
  `vp3d-infer --npz-2d`): `positions_2d` = {video: {"custom": [(T, J, 2) pixels]}}, `metadata` with
  `layout_name` ("coco" or "h36m") and `video_metadata` {video: {"w", "h"}}. A file with several videos
  needs one named like the input video (its file name, or its name without extension). The format has no
  confidences: joint score 1 (0 and not detected on frames holding NaN).
* COCO keypoint results (`.json`): a list of {"image_id", "category_id", "keypoints": [x, y, v] * 17,
  "score", "bbox"?}. image_id is the 0-based frame index; frames without an entry have no person;
  category_id, when present, must be 1 (person). Joint score = v clipped to [0, 1]; person score = "score"
  (1 when absent); box = "bbox" [x, y, w, h] when present, else around the joints.
* OpenPose (a folder of `*_keypoints.json`, one per frame; see openpose.py): BODY_25 or COCO-18, mapped to COCO-17.

Pickled `.npz` files are read with safe_npz's one policy (containers and numpy arrays only, no code runs; a
file whose pickles need more is refused: vp3d-infer has no flag to trust it).
"""

from __future__ import annotations

import json
import os
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import openpose
from .candidates import PersonCandidates, boxes_around
from .custom_2d_npz import custom_2d_videos
from .keypoints import DetectorError
from .safe_npz import UntrustedFileError, load_npz

PREFIX = "file:"


@dataclass
class _Read:
    """What a reader found: per-frame candidates, their layout, a format name, the frame size (width,
    height) the file states (or None), and whether the file's frame count is exact (COCO results are not:
    trailing frames without a person leave no entry)."""

    frames: list[PersonCandidates]
    layout: str
    num_joints: int
    fmt: str
    size: tuple[int, int] | None = None
    exact_length: bool = True


def _read_d2_npz(path: Path, data: dict) -> _Read:
    boxes, keypoints = data["boxes"], data["keypoints"]
    if len(boxes) != len(keypoints):
        raise DetectorError(f"{path}: {len(boxes)} frames of boxes but {len(keypoints)} of keypoints")
    frames = []
    for i in range(len(boxes)):
        bb, kp = boxes[i][1], keypoints[i][1]
        if len(bb) == 0 or len(kp) == 0:  # the reference's rule for "no person on this frame"
            frames.append(PersonCandidates.empty(17))
            continue
        bb = np.asarray(bb, np.float32).reshape(-1, 5)
        kp = np.asarray(kp, np.float32)
        if kp.ndim != 3 or kp.shape[1:] != (4, 17) or len(kp) != len(bb):
            raise DetectorError(f"{path}: frame {i} has keypoints of shape {kp.shape} for {len(bb)} boxes; "
                                f"expected (N, 4, 17)")
        frames.append(PersonCandidates(boxes=bb[:, :4], xy=kp[:, :2].transpose(0, 2, 1),
                                       score=np.clip(kp[:, 3], 0.0, 1.0), person_score=bb[:, 4]))
    meta = data.get("metadata")
    size = (int(meta["w"]), int(meta["h"])) if isinstance(meta, dict) and "w" in meta and "h" in meta else None
    return _Read(frames, "coco", 17, "VideoPose3D detections npz", size)


def _read_custom_npz(path: Path, data: dict, video_name: str) -> _Read:
    videos = custom_2d_videos(data)
    stem = os.path.splitext(video_name)[0]
    name = next(iter(videos)) if len(videos) == 1 else \
        next((n for n in (video_name, stem) if n in videos), None)
    if name is None:
        raise DetectorError(f"{path}: holds videos {sorted(videos)[:5]}, none named {video_name!r} or {stem!r}")
    video = videos[name]
    xy, layout = video.xy, video.layout_name
    if layout not in ("coco", "h36m") or xy.ndim != 3 or xy.shape[1] != 17 or xy.shape[2] < 2:
        raise DetectorError(f"{path}: layout {layout!r} with keypoints {xy.shape}; expected layout_name 'coco' "
                            f"or 'h36m' and (T, 17, 2)")
    xy = xy[..., :2]
    present = np.isfinite(xy).all(axis=(1, 2))
    frames = [PersonCandidates(boxes=boxes_around(xy[i:i + 1], np.ones((1, 17))), xy=xy[i:i + 1],
                               score=np.ones((1, 17)), person_score=np.ones(1))
              if present[i] else PersonCandidates.empty(17) for i in range(len(xy))]
    size = None if video.width is None else (video.width, video.height)
    return _Read(frames, layout, 17, "VideoPose3D custom 2D npz", size)


def _read_coco_json(path: Path, results) -> _Read:
    if isinstance(results, dict) and "people" in results:
        raise DetectorError(f"{path}: one OpenPose frame; give the folder that holds all of them")
    if not isinstance(results, list):
        raise DetectorError(f"{path}: expected a COCO keypoint results list [{{image_id, keypoints, score}}, ...]")
    per_frame: dict[int, list[dict]] = {}
    for k, r in enumerate(results):
        try:
            if r.get("category_id", 1) != 1:
                continue
            frame, kp = r["image_id"], r["keypoints"]
        except (AttributeError, KeyError) as e:
            raise DetectorError(f"{path}: entry {k} lacks {e} (need image_id and keypoints)") from None
        if not isinstance(frame, int) or frame < 0 or len(kp) != 51:
            raise DetectorError(f"{path}: entry {k}: image_id must be a frame index >= 0 and keypoints 17 x "
                                f"[x, y, v] (got image_id {frame!r}, {len(kp)} values)")
        per_frame.setdefault(frame, []).append(r)
    frames = []
    for i in range(max(per_frame, default=-1) + 1):
        people = per_frame.get(i, [])
        if not people:
            frames.append(PersonCandidates.empty(17))
            continue
        kp = np.asarray([p["keypoints"] for p in people], np.float32).reshape(-1, 17, 3)
        xy, score = kp[..., :2], np.clip(kp[..., 2], 0.0, 1.0)
        boxes = boxes_around(xy, score)
        for j, p in enumerate(people):
            if p.get("bbox") is not None:
                x, y, w, h = (float(v) for v in p["bbox"])
                boxes[j] = (x, y, x + w, y + h)
        frames.append(PersonCandidates(boxes=boxes, xy=xy, score=score,
                                       person_score=[float(p.get("score", 1.0)) for p in people]))
    return _Read(frames, "coco", 17, "COCO keypoint results JSON", exact_length=False)


def read_keypoint_file(path: str | os.PathLike, video_name: str = "") -> _Read:
    """Read any supported file (see the module docstring); raises DetectorError with one line."""
    path = Path(path)
    if path.is_dir():
        frames, model = openpose.read_folder(path)
        return _Read(frames, "coco", 17, f"OpenPose JSON ({model})")
    if not path.is_file():
        raise DetectorError(f"{path}: no such keypoint file or folder")
    if path.suffix.lower() == ".json":
        try:
            results = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, ValueError) as e:
            raise DetectorError(f"{path}: not readable JSON ({e})") from None
        return _read_coco_json(path, results)
    try:
        data = load_npz(path)
    except UntrustedFileError as e:
        raise DetectorError(str(e.naming(None))) from None
    except pickle.UnpicklingError as e:
        raise DetectorError(f"{path}: {e}") from None
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
        raise DetectorError(f"{path}: not a keypoint .npz, .json or OpenPose folder ({e})") from None
    try:
        if "boxes" in data and "keypoints" in data:
            return _read_d2_npz(path, data)
        if "positions_2d" in data:
            return _read_custom_npz(path, data, video_name)
    except (KeyError, IndexError, TypeError, ValueError) as e:
        raise DetectorError(f"{path}: malformed keypoint file ({type(e).__name__}: {e})") from None
    raise DetectorError(f"{path}: keys {sorted(data)}; expected the reference detections (boxes, keypoints) "
                        f"or a custom 2D dataset (positions_2d, metadata)")


class PrecomputedKeypoints:
    """`file:PATH` as a detector: answers each frame by its index from the file, never looking at (or opening)
    the video. The loop still decodes the video once, to know how many frames it has.

    The file is read when a video starts (so errors name that video); when the video's frames are all seen,
    the file's frame count and, where the file states it, its frame size are checked against the video's.
    """

    batch_size = 64  # frames per call: answering one is a list look-up
    one_person = False
    reads_frames = False
    layout_known = False  # the file says which, once read

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.exists():
            raise DetectorError(f"{self.path}: no such keypoint file or folder")
        self.name = f"{PREFIX}{self.path.name}"
        self.layout = "coco"  # until read: the layout of the file read last
        self.num_joints = 17
        self._found: _Read | None = None
        self._video: str | os.PathLike = ""
        self._size = (0, 0)
        self._next = 0

    def start(self, video: str | os.PathLike, width: int, height: int) -> None:
        """Read the file for this video (one line DetectorError when it cannot be used)."""
        self._found = read_keypoint_file(self.path, Path(video).name)
        self._video, self._size, self._next = video, (int(width), int(height)), 0
        self.layout, self.num_joints = self._found.layout, self._found.num_joints
        self.name = f"{PREFIX}{self.path.name} ({self._found.fmt})"

    def detect_batch(self, frames_bgr: list) -> list[PersonCandidates]:
        """The file's candidates of the next len(frames_bgr) frames (their pixels are not looked at)."""
        if self._found is None:
            raise RuntimeError("start() a video first")
        first, self._next = self._next, self._next + len(frames_bgr)
        have = self._found.frames
        return [have[i] if i < len(have) else PersonCandidates.empty(self._found.num_joints)
                for i in range(first, self._next)]

    def finish(self, num_frames: int) -> None:
        """The file must have one entry per decoded frame (COCO results: at most one) and fit the frame size."""
        found, (width, height) = self._found, self._size
        have = len(found.frames)
        if have > num_frames or (found.exact_length and have != num_frames):
            raise DetectorError(f"{self.path}: {have} frames of keypoints but {self._video} has {num_frames} "
                                f"frames")
        if found.size is not None and found.size != (width, height):
            raise DetectorError(f"{self.path}: keypoints are for {found.size[0]}x{found.size[1]} frames but "
                                f"{self._video} is {width}x{height}")

    def reset(self) -> None:
        """Nothing to forget between videos: `start` reads the file anew for each."""

    def close(self) -> None:
        pass
