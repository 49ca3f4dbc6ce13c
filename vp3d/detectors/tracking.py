"""Link per-frame person candidates into tracks over a video, and choose which tracks to keep (`--people`).

    tracks = track(video_candidates.frames, fps=30)      # every person, each with its own id
    kept = select_tracks(tracks, parse_people("all"))    # or "largest", or "2" (the two largest)

Tracking by detection, frame by frame (pure numpy/scipy):

1. Every live track predicts where it is now: its last box and keypoints moved by its velocity (an
   exponential average of the box centre's motion, pixels per frame) times the frames since it was last seen.
   The velocity is what keeps two people who cross apart: where their boxes overlap, each track still
   expects its person to come out on its own side.
2. Similarity of a track and a candidate = mean of box IoU and an OKS-like keypoint similarity
   (exp(-d² / (2 s² κ²)) averaged over joints seen in both, s² = the predicted box area, κ = OKS_KAPPA).
3. scipy.optimize.linear_sum_assignment pairs tracks and candidates for the highest total similarity;
   pairs below `min_similarity` are refused.
4. A candidate left over starts a new track (ids count up from 0 in order of appearance). A track not
   matched on a frame is missed there (detected False); after more than `max_gap_s` seconds of misses it
   ends, and a person who comes back later gets a new id. Short occlusions (a person walking behind
   another, a detector dropping a frame or two) therefore keep the id.

Shapes: T frames of the video, J joints, pixels of the upright frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .candidates import PersonCandidates

OKS_KAPPA = 0.1  # per-joint falloff as a fraction of the person's scale (COCO's 2*sigma is 0.05-0.21)
VELOCITY_SMOOTHING = 0.5  # weight of the newest displacement in the velocity average


@dataclass
class Track:
    """One person over the video.

    id: track id, unique in the video (0, 1, ... in order of first appearance; ids of dropped tracks leave gaps).
    xy: (T, J, 2) float32 pixels; NaN on frames where the track has no detection.
    score: (T, J) float32 in [0, 1]; 0 where not detected.
    person_score: (T,) float32, the candidate's person (box) score; 0 where not detected.
    boxes: (T, 4) float32 pixels x1, y1, x2, y2; NaN where not detected.
    detected: (T,) bool.
    """

    id: int
    xy: np.ndarray
    score: np.ndarray
    person_score: np.ndarray
    boxes: np.ndarray
    detected: np.ndarray

    @property
    def first(self) -> int:
        """First frame with a detection."""
        return int(np.flatnonzero(self.detected)[0])

    @property
    def last(self) -> int:
        """Last frame with a detection (inclusive)."""
        return int(np.flatnonzero(self.detected)[-1])

    @property
    def frames_detected(self) -> int:
        return int(self.detected.sum())

    @property
    def size(self) -> float:
        """Sum over detected frames of sqrt(box area), pixels·frames: big and long-lived people rank first."""
        b = self.boxes[self.detected]
        return float(np.sqrt(np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)).sum())


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(M, 4), (N, 4) boxes x1, y1, x2, y2 -> (M, N) intersection over union in [0, 1]."""
    a, b = np.asarray(a, np.float64)[:, None], np.asarray(b, np.float64)[None]
    w = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    h = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = w * h

    def area(x):
        return np.clip(x[..., 2] - x[..., 0], 0, None) * np.clip(x[..., 3] - x[..., 1], 0, None)
    union = area(a) + area(b) - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def keypoint_similarity(xy_a: np.ndarray, score_a: np.ndarray, area_a: np.ndarray, xy_b: np.ndarray,
                        score_b: np.ndarray) -> np.ndarray:
    """OKS-like similarity of M reference poses with N candidates -> (M, N) in [0, 1].

    xy_a: (M, J, 2) pixels, score_a: (M, J), area_a: (M,) pixels² (the scale s² of each reference);
    xy_b: (N, J, 2), score_b: (N, J). Averaged over joints with score > 0 in both; 0 when there is none.
    """
    d2 = ((np.asarray(xy_a, np.float64)[:, None] - np.asarray(xy_b, np.float64)[None]) ** 2).sum(-1)  # (M, N, J)
    seen = (np.asarray(score_a)[:, None] > 0) & (np.asarray(score_b)[None] > 0) & np.isfinite(d2)
    s2 = np.maximum(np.asarray(area_a, np.float64), 1.0)[:, None, None]
    sim = np.exp(-np.where(seen, d2, 0.0) / (2 * s2 * OKS_KAPPA ** 2))
    n = seen.sum(-1)
    return np.where(n > 0, (sim * seen).sum(-1) / np.maximum(n, 1), 0.0)


@dataclass
class _Live:
    """A track being built: where it was last seen and how it moves."""
    id: int
    last_frame: int
    box: np.ndarray  # (4,)
    xy: np.ndarray  # (J, 2)
    score: np.ndarray  # (J,)
    velocity: np.ndarray  # (2,) pixels per frame, box centre

    def predicted(self, frame: int) -> tuple[np.ndarray, np.ndarray]:
        """Box (4,) and keypoints (J, 2) moved on by the velocity to `frame`."""
        shift = self.velocity * (frame - self.last_frame)
        return self.box + np.tile(shift, 2), self.xy + shift


def _centre(box: np.ndarray) -> np.ndarray:
    return 0.5 * (box[:2] + box[2:])


def track(frames: Sequence[PersonCandidates], fps: float, *, max_gap_s: float = 0.5,
          min_similarity: float = 0.1) -> list[Track]:
    """Link the candidates of each frame (frames: T PersonCandidates, as VideoCandidates.frames) into tracks.

    fps: the video's frame rate (frames per second); max_gap_s: seconds a track may go unseen and still be
    continued (at least one frame); min_similarity: the least similarity (see the module docstring) for a
    candidate to continue a track. Returns the tracks in order of id; candidates with NaN keypoints are
    ignored.
    """
    from scipy.optimize import linear_sum_assignment  # here, not at the top: single-person runs never pay its import
    t_total = len(frames)
    max_gap = max(1, int(round(max_gap_s * fps)))
    live: list[_Live] = []
    found: dict[int, list[tuple[int, np.ndarray, np.ndarray, float, np.ndarray]]] = {}
    next_id = 0
    num_joints = None
    for t, cands in enumerate(frames):
        num_joints = cands.xy.shape[1] if num_joints is None else num_joints
        keep = np.flatnonzero(np.isfinite(cands.xy).all(axis=(1, 2)) & np.isfinite(cands.boxes).all(1))
        live = [tr for tr in live if t - tr.last_frame <= max_gap]
        matched_det: set[int] = set()
        if live and keep.size:
            pred = [tr.predicted(t) for tr in live]
            pboxes = np.stack([p[0] for p in pred])
            pxy = np.stack([p[1] for p in pred])
            area = np.clip(pboxes[:, 2] - pboxes[:, 0], 1, None) * np.clip(pboxes[:, 3] - pboxes[:, 1], 1, None)
            sim = 0.5 * box_iou(pboxes, cands.boxes[keep]) + 0.5 * keypoint_similarity(
                pxy, np.stack([tr.score for tr in live]), area, cands.xy[keep], cands.score[keep])
            rows, cols = linear_sum_assignment(-sim)
            for r, c in zip(rows, cols):
                if sim[r, c] < min_similarity:
                    continue
                tr, k = live[r], int(keep[c])
                box = cands.boxes[k].astype(np.float64)
                step = (_centre(box) - _centre(tr.box)) / (t - tr.last_frame)
                tr.velocity = VELOCITY_SMOOTHING * step + (1 - VELOCITY_SMOOTHING) * tr.velocity
                tr.last_frame, tr.box = t, box
                tr.xy, tr.score = cands.xy[k].astype(np.float64), cands.score[k]
                found[tr.id].append((t, cands.xy[k], cands.score[k], float(cands.person_score[k]), box))
                matched_det.add(k)
        for k in keep:
            if int(k) in matched_det:
                continue
            box = cands.boxes[k].astype(np.float64)
            live.append(_Live(next_id, t, box, cands.xy[k].astype(np.float64), cands.score[k], np.zeros(2)))
            found[next_id] = [(t, cands.xy[k], cands.score[k], float(cands.person_score[k]), box)]
            next_id += 1
    return [_assemble(i, rows, t_total, num_joints or 0) for i, rows in found.items()]


def _assemble(track_id: int, rows, t_total: int, num_joints: int) -> Track:
    xy = np.full((t_total, num_joints, 2), np.nan, np.float32)
    score = np.zeros((t_total, num_joints), np.float32)
    person = np.zeros(t_total, np.float32)
    boxes = np.full((t_total, 4), np.nan, np.float32)
    detected = np.zeros(t_total, bool)
    for t, kxy, ks, ps, box in rows:
        xy[t], score[t], person[t], boxes[t], detected[t] = kxy, ks, ps, box, True
    return Track(track_id, xy, score, person, boxes, detected)


# ------------------------------------------------------------------------------------------ --people

ALL = "all"
LARGEST = "largest"


def parse_people(text: str) -> int | None:
    """`--people` value -> how many tracks to keep: "all" -> None, "largest" -> 1, "N" -> N (>= 1).
    Raises ValueError with a one-line message otherwise."""
    text = str(text).strip().lower()
    if text == ALL:
        return None
    if text == LARGEST:
        return 1
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"--people takes all, largest or a number of people >= 1, not {text!r}")
    return n


def min_track_frames(fps: float) -> int:
    """Tracks detected on fewer frames than this (0.2 s, at least 3 frames) are taken for flickering false
    detections and dropped by select_tracks."""
    return max(3, int(math.ceil(0.2 * fps)))


def select_tracks(tracks: Sequence[Track], count: int | None, min_frames: int = 1) -> list[Track]:
    """The `count` largest tracks (Track.size; None: all of them) among those detected on at least
    `min_frames` frames, returned in order of id (first appearance). When every track is shorter, the
    largest one is kept anyway, so a clip with a person in it never ends up with nobody."""
    usable = [tr for tr in tracks if tr.frames_detected >= min_frames]
    if not usable and tracks:
        usable = [max(tracks, key=lambda tr: tr.size)]
    ranked = sorted(usable, key=lambda tr: (-tr.size, tr.id))
    kept = ranked if count is None else ranked[:count]
    return sorted(kept, key=lambda tr: tr.id)
