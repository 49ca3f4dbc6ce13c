"""The Motion record, resampling, trimming of junk leading frames and the fixed train/validation split."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

VALIDATION_SUBJECTS = ("02", "135")


@dataclass
class Motion:
    name: str              # file stem, e.g. "01_01", "131_03", "md_02"
    subject: str           # e.g. "01", "135"; group name where the subject is unknown ("golf", "walk")
    rig: str               # the mapping's name: "cmu", "daz", "asf" or a user's
    fps: float             # rate of `positions`
    positions: np.ndarray  # (T, 17, 3) float32, metres, world frame, Y up, vp3d.skeleton.H36M order

    @property
    def num_frames(self) -> int:
        return len(self.positions)


def subject_of(path: str | Path) -> str:
    """CMU trial names are <subject>_<trial>; otherwise the containing folder's name."""
    path = Path(path)
    m = re.match(r"^(\d+)_\d+$", path.stem)
    return m.group(1) if m else path.parent.name


def resample(positions: np.ndarray, src_fps: float, dst_fps: float) -> np.ndarray:
    """Linear interpolation in time; output frame k is at time k / dst_fps (first frames coincide)."""
    if abs(src_fps - dst_fps) < 1e-9 or len(positions) < 2:
        return positions
    n_out = int(np.floor((len(positions) - 1) * dst_fps / src_fps + 1e-6)) + 1
    t = np.arange(n_out) * (src_fps / dst_fps)
    i0 = np.minimum(t.astype(np.int64), len(positions) - 2)
    w = (t - i0)[:, None, None]
    return (1 - w) * positions[i0] + w * positions[i0 + 1]


def leading_junk(positions: np.ndarray, fps: float, speed: float = 5.0, window: float = 0.25) -> int:
    """How many frames at the start are not part of the take.

    CMU files start with a pasted T-pose (frame 0); some also hold a bogus pose for a few frames and then
    jump metres (07_12, 09_10), and the Daz conversions smear the T-pose into frames 1-3. All of these move
    every joint faster than `speed` m/s on average between two frames, which real motion never does
    (a run: about 3-4 m/s). Everything up to the last such step within the first `window` s is junk.
    """
    if len(positions) < 2:
        return 0
    head = positions[: int(window * fps) + 1]
    step = np.linalg.norm(np.diff(head, axis=0), axis=-1).mean(axis=1) * fps
    fast = np.flatnonzero(step > speed)
    return int(fast[-1]) + 1 if len(fast) else 0


def finish(name, subject, rig, positions, src_fps, fps, trim) -> Motion:
    """Drop junk leading frames (see `leading_junk`) if `trim`, resample to `fps`, pack as float32."""
    if trim:
        positions = positions[leading_junk(positions, src_fps):]
    out = resample(positions, src_fps, fps)
    return Motion(name, subject, rig, float(fps), np.ascontiguousarray(out, dtype=np.float32))


def split(motions: list[Motion]) -> tuple[list[Motion], list[Motion]]:
    """(train, validation): validation = subjects in VALIDATION_SUBJECTS, in every rig."""
    train = [m for m in motions if m.subject not in VALIDATION_SUBJECTS]
    val = [m for m in motions if m.subject in VALIDATION_SUBJECTS]
    return train, val


def labeled_subset(motions: list[Motion], fraction: float, seed: int = 0) -> tuple[list[Motion], list[Motion]]:
    """(labeled, rest) for semi-supervised experiments: whole takes drawn in a seeded order until
    `fraction` of the frames are labeled. A take present in several rigs stays on one side, so the
    rest never holds a second copy of a labeled motion."""
    if not 0 < fraction <= 1:
        raise ValueError(f"labeled fraction must be in (0, 1], got {fraction}")
    takes: dict[str, list[Motion]] = {}
    for m in motions:
        takes.setdefault(m.name, []).append(m)
    order = np.random.default_rng(seed).permutation(sorted(takes))
    total = sum(m.num_frames for m in motions)
    labeled, count = [], 0
    for name in order:
        if count >= fraction * total:
            break
        labeled += takes[name]
        count += sum(m.num_frames for m in takes[name])
    chosen = {id(m) for m in labeled}
    return labeled, [m for m in motions if id(m) not in chosen]
