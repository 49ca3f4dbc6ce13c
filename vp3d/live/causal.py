"""Each frame's 3D from its own and earlier 2D only (a causal lifter), as frames arrive.

The model runs at its own rate (Lifter.meta.fps, 50 frames/s for every shipped and official checkpoint):
arriving 2D is interpolated onto that rate's ticks by time, exactly as the offline lifter resamples a clip
(vp3d.lifter.inference.resample), and a frame's 3D is the model's output at the last tick at or before it,
at most one tick (20 ms) old. Before the first frame the model has seen copies of it: the edge-frame
replication the offline lifter pads a clip's start with. So a clip at the model's rate, fed frame by frame,
gives the offline causal lifter's poses exactly. Each tick costs one output per layer (Lifter.causal_stream).
"""

from __future__ import annotations

import numpy as np

from ..lifter.inference import Lifter


class CausalLifting:
    """push(time_s, kp_norm) -> the 3D of that moment: (J_out, 3) metres, camera frame, root-relative.

    kp_norm: (J_in, 2) normalized screen coordinates in the lifter's input layout (the newest 2D).
    focal: the camera's normalized focal length for the steps the weights declare (default: the default field of
    view's, as Lifter.lift).
    """

    def __init__(self, lifter: Lifter, flip: bool = True, focal: float | None = None):
        if not lifter.meta.causal:
            raise ValueError("live mode needs a causal lifter (each frame's 3D from the past only); "
                             "this checkpoint looks ahead")
        self.lifter = lifter
        self._stream = lifter.causal_stream(flip)
        self._steps = lifter.causal_steps(focal)  # what the weights declare after the network, tick by tick
        self._first: float | None = None  # time of the first frame: tick k is at first + k / fps
        self._ticks = 0  # ticks fed so far
        self._last: tuple[float, np.ndarray] | None = None
        self._pose: np.ndarray | None = None

    def _tick_time(self, k: int) -> float:
        return self._first + k / self.lifter.meta.fps

    def push(self, time_s: float, kp_norm: np.ndarray) -> np.ndarray:
        kp = np.asarray(kp_norm, dtype=np.float32)
        if self._last is None:
            self._first = time_s
            self._ticks = 1
            self._pose = self._steps.push(self._stream.start(kp)[None], kp[None])[0]
        else:
            t0, kp0 = self._last
            ticks = []
            while self._tick_time(self._ticks + len(ticks)) <= time_s + 1e-9:  # ticks up to this frame's time
                w = (self._tick_time(self._ticks + len(ticks)) - t0) / (time_s - t0) if time_s > t0 else 1.0
                ticks.append(kp0 * (1 - w) + kp * w)
            if ticks:  # all at once: the layers' weights read once (streaming.py)
                ticks = np.stack(ticks)
                self._pose = self._steps.push(self._stream.steps(ticks), ticks)[-1]
                self._ticks += len(ticks)
        self._last = (time_s, kp)
        return self._pose - self._pose[:1]  # the root at the origin, as every export promises
