"""Each frame's 3D from its own and earlier 2D only (a causal lifter), as frames arrive.

The model runs at its own rate (Lifter.meta.fps, 50 frames/s for every shipped and official checkpoint):
arriving 2D is interpolated onto that rate's ticks by time, exactly as the offline lifter resamples a clip
(vp3d.lifter.inference.resample), and a frame's 3D is the model's output at the last tick at or before it,
at most one tick (20 ms) old. Before the first frame the window holds copies of it: the edge-frame
replication the offline lifter pads a clip's start with. So a clip at the model's rate, fed frame by frame,
gives the offline causal lifter's poses exactly.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from ..lifter.inference import Lifter


class CausalLifting:
    """push(time_s, kp_norm) -> the 3D of that moment: (J_out, 3) metres, camera frame, root-relative.

    kp_norm: (J_in, 2) normalized screen coordinates in the lifter's input layout (the newest 2D).
    """

    def __init__(self, lifter: Lifter, flip: bool = True):
        if not lifter.meta.causal:
            raise ValueError("live mode needs a causal lifter (each frame's 3D from the past only); "
                             "this checkpoint looks ahead")
        self.lifter = lifter
        self.flip = flip
        self._window: deque[np.ndarray] = deque(maxlen=lifter.receptive_field)  # 2D at the model's ticks
        self._first: float | None = None  # time of the first frame: tick k is at first + k / fps
        self._ticks = 0  # ticks in the window so far
        self._last: tuple[float, np.ndarray] | None = None
        self._pose: np.ndarray | None = None

    def _tick_time(self, k: int) -> float:
        return self._first + k / self.lifter.meta.fps

    def push(self, time_s: float, kp_norm: np.ndarray) -> np.ndarray:
        kp = np.asarray(kp_norm, dtype=np.float32)
        if self._last is None:
            self._first = time_s
            self._window.extend([kp] * self.lifter.receptive_field)
            self._ticks = 1
            changed = True
        else:
            t0, kp0 = self._last
            changed = False
            while self._tick_time(self._ticks) <= time_s + 1e-9:  # ticks up to this frame's time
                w = (self._tick_time(self._ticks) - t0) / (time_s - t0) if time_s > t0 else 1.0
                self._window.append((kp0 * (1 - w) + kp * w).astype(np.float32))
                self._ticks += 1
                changed = True
        self._last = (time_s, kp)
        if changed or self._pose is None:
            window = np.stack(self._window)
            self._pose = self.lifter.last_pose(window, self.flip)
            self._pose = self._pose - self._pose[:1]  # the root at the origin, as every export promises
        return self._pose
