"""One person's arrays to draw (`Figure`), as the pipeline hands them to the renderer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..skeleton import H36M, get_layout


@dataclass
class Figure:
    """One person to draw, on video frames start .. start + L - 1 (not drawn on others).

    xy: (L, J, 2) pixels of the input video, in `layout` order; score: (L, J) in [0, 1];
    detected: (L,) bool, False on frames filled in by interpolation (drawn grey and labelled).
    poses3d: (L, 17, 3) metres, camera frame, root-relative, Human3.6M order; trajectory: optional (L, 3)
        camera-frame root positions (the 3D view of one unlabelled person follows it).
    label: None for the one untracked person; "#3" for a tracked one.
    """

    xy: np.ndarray
    score: np.ndarray
    detected: np.ndarray
    layout: str
    poses3d: np.ndarray
    trajectory: np.ndarray | None = None
    start: int = 0
    label: str | None = None

    def __post_init__(self) -> None:
        num, joints = len(self.xy), get_layout(self.layout).num_joints
        if np.shape(self.xy) != (num, joints, 2) or np.shape(self.score) != (num, joints) \
                or np.shape(self.detected) != (num,) or np.shape(self.poses3d) != (num, H36M.num_joints, 3) \
                or (self.trajectory is not None and np.shape(self.trajectory) != (num, 3)):
            raise ValueError(f"inconsistent figure: xy {np.shape(self.xy)}, score {np.shape(self.score)}, "
                             f"detected {np.shape(self.detected)}, poses3d {np.shape(self.poses3d)} "
                             f"(layout {self.layout})")

    @property
    def end(self) -> int:
        """One past the last video frame of the figure."""
        return self.start + len(self.xy)


def on_frames(figures: list[Figure], values: str, frames: int, tail: tuple[int, ...]) -> np.ndarray:
    """(P, frames, *tail) float64: each figure's `values` ("poses3d", "trajectory") on video frames
    [0, frames), NaN where it is absent."""
    out = np.full((len(figures), frames, *tail), np.nan)
    for k, f in enumerate(figures):
        part = getattr(f, values)[:max(0, frames - f.start)]
        out[k, f.start:f.start + len(part)] = part
    return out
