"""Every person a detector found, frame by frame, and single-person selection.

Every detector (the `Detector` protocol) reports all candidates of a frame in a `PersonCandidates` (MediaPipe,
which follows one person, at most one); a tracker can link them over time. Single-person mode (what `vp3d-infer` lifts) keeps,
on every frame, the candidate with the highest person score, as the reference release does
(prepare_data_2d_custom.py takes argmax of the box scores); frames without any candidate are marked not
detected and are filled later by keypoints.fill_missing.

Shapes: N candidates on a frame (N may be 0), J joints. Coordinates are pixels of the upright frame.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .keypoints import Keypoints2D


@dataclass
class PersonCandidates:
    """The people found on one frame.

    boxes: (N, 4) float32 pixels, x1, y1, x2, y2.
    xy: (N, J, 2) float32 pixels.
    score: (N, J) float32 in [0, 1], per-joint confidence (each backend documents what it is).
    person_score: (N,) float32 in [0, 1], confidence that the candidate is a person (box score).
    """

    boxes: np.ndarray
    xy: np.ndarray
    score: np.ndarray
    person_score: np.ndarray

    def __post_init__(self) -> None:
        self.boxes = np.asarray(self.boxes, dtype=np.float32).reshape(-1, 4)
        self.xy = np.asarray(self.xy, dtype=np.float32)
        self.score = np.asarray(self.score, dtype=np.float32)
        self.person_score = np.asarray(self.person_score, dtype=np.float32).reshape(-1)
        n = len(self.person_score)
        if (len(self.boxes) != n or self.xy.ndim != 3 or self.xy.shape[0] != n or self.xy.shape[2] != 2
                or self.score.shape != self.xy.shape[:2]):
            raise ValueError(f"inconsistent candidate shapes: boxes {self.boxes.shape}, xy {self.xy.shape}, "
                             f"score {self.score.shape}, person_score {self.person_score.shape}")

    @classmethod
    def empty(cls, num_joints: int) -> "PersonCandidates":
        return cls(np.zeros((0, 4)), np.zeros((0, num_joints, 2)), np.zeros((0, num_joints)), np.zeros(0))

    def __len__(self) -> int:
        return len(self.person_score)

    def best(self) -> int | None:
        """Index of the candidate with the highest person score (the first one on ties), None if there is none."""
        return int(np.argmax(self.person_score)) if len(self) else None


def boxes_around(xy: np.ndarray, score: np.ndarray) -> np.ndarray:
    """(N, J, 2), (N, J) -> (N, 4): the box around each candidate's joints with a score > 0 (all joints when
    none has). For sources that give no boxes (OpenPose, custom 2D files, COCO results without "bbox")."""
    xy = np.asarray(xy, dtype=np.float32)
    seen = (np.asarray(score) > 0) & np.isfinite(xy).all(-1)
    seen[~seen.any(-1)] = True
    lo = np.where(seen[..., None], xy, np.inf).min(1)
    hi = np.where(seen[..., None], xy, -np.inf).max(1)
    return np.concatenate([lo, hi], axis=-1).reshape(-1, 4)


@dataclass
class VideoCandidates:
    """Per-frame candidates of a whole video.

    frames: one PersonCandidates per decoded frame (T entries).
    layout: joint order of every candidate ("coco", "h36m", ...; see vp3d.skeleton).
    width, height: frame size in pixels.
    """

    frames: list[PersonCandidates]
    layout: str
    width: int
    height: int
    num_joints: int

    def single_person(self) -> Keypoints2D:
        """The highest-scoring person on each frame as Keypoints2D (NaN, score 0, detected=False where the
        frame has no candidate)."""
        t, j = len(self.frames), self.num_joints
        xy = np.full((t, j, 2), np.nan, np.float32)
        score = np.zeros((t, j), np.float32)
        detected = np.zeros(t, bool)
        for i, cands in enumerate(self.frames):
            k = cands.best()
            if k is not None:
                xy[i], score[i], detected[i] = cands.xy[k], cands.score[k], True
        return Keypoints2D(xy=xy, score=score, detected=detected, layout=self.layout, width=self.width,
                           height=self.height)


class Detector(Protocol):
    """What every 2D detector is: a small callable on frames that never opens a file. The one loop that
    decodes a video and feeds it (vp3d.pipeline.detect) is the only caller; it calls, per video,
    `start`, then `detect_batch` on consecutive batches of `batch_size` frames in order, then `finish`.

    Declared attributes (no probing of what a detector can do):
      name: what the outputs record as the 2D source.
      layout, num_joints: joint order and count of its candidates (see vp3d.skeleton).
      batch_size: frames per detect_batch call.
      one_person: follows one person from frame to frame (at most one candidate per frame), so it cannot
        give several people to track (MediaPipe).
      reads_frames: looks at the pixels (False: keypoints computed elsewhere, `file:PATH`).
      layout_known: `layout` holds before the first video starts (False: only once `start` has read it).
    """

    name: str
    layout: str
    num_joints: int
    batch_size: int
    one_person: bool
    reads_frames: bool
    layout_known: bool

    def start(self, video: str | os.PathLike, width: int, height: int) -> None:
        """A new video of this frame size begins: forget everything about the previous one. `video` (its
        path) names it in messages and picks it in inputs that hold several videos; it is never opened."""

    def detect_batch(self, frames_bgr: list[np.ndarray]) -> list[PersonCandidates]:
        """The candidates of each frame (BGR uint8, upright), in order: one PersonCandidates per frame."""

    def finish(self, num_frames: int) -> None:
        """Every frame of the video has been seen; DetectorError (one line) when they do not fit the input."""

    def close(self) -> None: ...


class StatelessDetector:
    """Lifecycle shared by the batched backends: every frame is detected on its own, so nothing is carried
    between videos; a context manager that closes (drops its models) on exit."""

    one_person = False
    reads_frames = True
    layout_known = True

    def start(self, video: str | os.PathLike, width: int, height: int) -> None:
        """Nothing to forget between videos."""

    def reset(self) -> None:
        """Nothing to forget between videos."""

    def finish(self, num_frames: int) -> None:
        """Every frame fits: there is no other input."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
