"""The steps after the network for a causal lifter: the same moves toward the 2D, from the past only.

A causal model's output at frame t must not wait for later frames (live mode), so the steps the weights declare
(LifterMeta: image_plane_*, bone_rays_*, output_smoothing) become causal:
- offsets and poses are smoothed by an exponential average with a time constant of the declared smoothing (model
  frames) instead of a Gaussian, which would look ahead;
- a bone's usual length is the median over the frame and the bone_rays_window frames before it;
- the output average comes last, after both moves (as measured in weights/MODEL_CARD.md, session 23).

`CausalSteps` keeps that state, so it is fed either a whole clip at once (Lifter.lift) or a few model ticks at a
time (vp3d.live.causal): the same frames give the same poses. Shapes: poses (n, J, 3) metres, root-relative;
kp_norm (n, J, 2) normalized screen coordinates of the same joints (the moves need Human3.6M-17 input and
output); focal in normalized units.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import lfilter

from .bone_rays import bone_lengths, left_equal_right, points_at_bone_length
from .image_plane import offsets_onto_the_rays, root_on_the_2d
from .meta import LifterMeta


class ExponentialAverage:
    """y_t = y_{t-1} + (1 - k) (x_t - y_{t-1}), k = exp(-1 / tau), along axis 0; it starts at the first value."""

    def __init__(self, tau: float):
        self.keep = math.exp(-1.0 / tau) if tau > 0 else 0.0
        self.last: np.ndarray | None = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.keep == 0.0 or len(x) == 0:
            return x
        if self.last is None:
            self.last = x[0]
        y, _ = lfilter([1.0 - self.keep], [1.0, -self.keep], x, axis=0, zi=(self.keep * self.last)[None])
        self.last = y[-1]
        return y


class PastMedian:
    """Each row's median over itself and the `window` rows before it (fewer at the start), along axis 0."""

    def __init__(self, window: int):
        self.window = window
        self.history: np.ndarray | None = None  # the last `window` rows seen

    def __call__(self, x: np.ndarray) -> np.ndarray:
        rows = x if self.history is None else np.concatenate([self.history, x])
        seen = len(rows) - len(x)
        out = np.stack([np.median(rows[max(0, seen + i - self.window): seen + i + 1], axis=0) for i in range(len(x))])
        self.history = rows[max(0, len(rows) - self.window):]
        return out


class CausalSteps:
    """push(poses, kp_norm) -> the poses after the declared steps, frame by frame from the past only."""

    def __init__(self, meta: LifterMeta, focal: float, rays: bool):
        """rays: the 2D holds the output's joints (the moves toward the 2D need them); False: only the average."""
        self.focal = focal
        self.image_plane = meta.image_plane_weight if rays else 0.0
        self.bone_rays = meta.bone_rays_weight if rays else 0.0
        self.bone_rays_softness = meta.bone_rays_softness
        self._image_plane_average = ExponentialAverage(meta.image_plane_smoothing)
        self._bone_rays_average = ExponentialAverage(meta.bone_rays_smoothing)
        self._usual_lengths = PastMedian(meta.bone_rays_window)
        self._output_average = ExponentialAverage(meta.output_smoothing)

    def push(self, poses: np.ndarray, kp_norm: np.ndarray) -> np.ndarray:
        poses = np.asarray(poses, dtype=np.float64)
        kp_norm = np.asarray(kp_norm, dtype=np.float64)
        if self.image_plane > 0:
            placed = poses + root_on_the_2d(poses, kp_norm, self.focal)[:, None]
            poses = poses.copy()
            poses[..., :2] += self.image_plane * self._image_plane_average(
                offsets_onto_the_rays(placed, kp_norm, self.focal))
            poses = poses - poses[:, :1]
        if self.bone_rays > 0:
            placed = poses + root_on_the_2d(poses, kp_norm, self.focal)[:, None]
            lengths = left_equal_right(self._usual_lengths(bone_lengths(placed)))
            offsets = points_at_bone_length(placed, kp_norm, self.focal, lengths, self.bone_rays_softness) - placed
            moved = placed + self.bone_rays * self._bone_rays_average(offsets)
            poses = moved - moved[:, :1]
        return self._output_average(poses)
