"""Every person a detector found, frame by frame, and single-person selection.

Multi-person backends (keypoint-rcnn, detectron2, rtmpose, file:) report all candidates of a frame in a
`PersonCandidates`; a tracker can link them over time. Single-person mode (what `vp3d-infer` lifts) keeps,
on every frame, the candidate with the highest person score, as the reference release does
(prepare_data_2d_custom.py takes argmax of the box scores); frames without any candidate are marked not
detected and are filled later by keypoints.fill_missing.

Shapes: N candidates on a frame (N may be 0), J joints. Coordinates are pixels of the upright frame.
"""

from __future__ import annotations

import os
from contextlib import closing
from dataclasses import dataclass
from typing import Callable, Iterator, Protocol

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


class BatchDetector(Protocol):
    """What `detect_candidates` needs from a multi-person backend."""

    name: str
    layout: str
    num_joints: int
    batch_size: int

    def detect_batch(self, frames_bgr: list[np.ndarray]) -> list[PersonCandidates]: ...


class StatelessDetector:
    """Lifecycle shared by the batched backends: every frame is detected on its own, so nothing is carried
    between videos; a context manager that closes (drops its models) on exit."""

    def reset(self) -> None:
        """Nothing to forget between videos (batch mode calls this)."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _batches(frames: Iterator[np.ndarray], size: int) -> Iterator[list[np.ndarray]]:
    batch: list[np.ndarray] = []
    for frame in frames:
        batch.append(frame)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def detect_candidates(path: str | os.PathLike, detector: BatchDetector,
                      progress: Callable[[int], None] | None = None) -> VideoCandidates:
    """Run a multi-person backend over every frame of a video, `detector.batch_size` frames per call
    (decoding in a background thread). progress: optional callable(frames_done) after each batch."""
    from ..pipeline.video import iter_frames, prefetch, probe

    info = probe(path)
    out: list[PersonCandidates] = []
    with closing(prefetch(iter_frames(path))) as frames:  # on an error, stop the decode thread right away
        for batch in _batches(frames, max(1, int(detector.batch_size))):
            found = detector.detect_batch(batch)
            if len(found) != len(batch):
                raise RuntimeError(f"{detector.name} returned {len(found)} results for {len(batch)} frames")
            out.extend(found)
            if progress is not None:
                progress(len(out))
    return VideoCandidates(frames=out, layout=detector.layout, width=info.width, height=info.height,
                           num_joints=detector.num_joints)
