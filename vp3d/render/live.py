"""The side-by-side render running in a background thread while detection goes on.

    live = LiveRender("in.mp4", "out.mp4", info, geometry_frames=120)
    live.update(keypoints, poses3d, trajectory, ready=n)   # frames [0, n) are final
    ...
    live.update(keypoints, poses3d, trajectory, ready=T, complete=True)
    rendered = live.finish()                                        # or live.abort() on an error

It draws exactly what side_by_side.render_video draws, frame by frame as soon as a frame's 3D pose can no
longer change (vp3d.pipeline.overlap decides that), so rendering and encoding use the CPU time that
the detector leaves. The one difference: the 3D panel's scale and floor come from the first
`geometry_frames` poses, with 20% to spare (render_video takes them from the whole clip, which is not
known yet); still one fixed scale for the whole video.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from ..detectors.keypoints import Keypoints2D
from ..skeleton import Layout, get_layout
from .side_by_side import Pose3DPanel, RenderResult, draw_skeleton_2d, left_panel_size, render_frames, skeleton_thickness
from ..video import DEFAULT_CRF, DEFAULT_PRESET, VideoInfo


class _Stopped(Exception):
    """The render was told to stop (abort)."""


class LiveRender:
    """Render `video_path` to `out_path` (H.264, written atomically) from keypoints and poses that arrive
    while the thread runs: Keypoints2D (gaps filled) and, as in side_by_side.render_video, poses3d (T, 17, 3)
    metres camera frame root-relative, trajectory (T, 3) or None."""

    def __init__(self, video_path: str | os.PathLike, out_path: str | os.PathLike, info: VideoInfo, *,
                 geometry_frames: int, score_threshold: float = 0.3, max_height: int = 1080,
                 azimuth_deg: float = 35.0, elevation_deg: float = 15.0, crf: int = DEFAULT_CRF, preset: str = DEFAULT_PRESET,
                 progress: Callable[[int], None] | None = None):
        self.video_path, self.out_path, self.info = Path(video_path), Path(out_path), info
        self.layout2d: Layout | None = None
        self.geometry_frames = max(1, int(geometry_frames))
        self.score_threshold = score_threshold
        self.left_w, self.left_h, self.resize = left_panel_size(info.width, info.height, max_height)
        self.view = dict(azimuth_deg=azimuth_deg, elevation_deg=elevation_deg)
        self.crf, self.preset, self.progress = crf, preset, progress
        self._cond = threading.Condition()
        self._arrays: tuple | None = None  # (xy in left-panel pixels, score, detected, poses3d, trajectory)
        self._panel: Pose3DPanel | None = None
        self._ready = 0
        self._complete = False
        self._stop = False
        self._error: BaseException | None = None
        self._result: RenderResult | None = None
        self._thread = threading.Thread(target=self._run, name="vp3d-live-render", daemon=True)
        self._thread.start()

    # -- called by the detecting thread
    def update(self, keypoints: Keypoints2D, poses3d: np.ndarray, trajectory: np.ndarray | None, ready: int,
               complete: bool = False) -> None:
        """Frames [0, ready) of these arrays are final; complete: the arrays cover the whole video.
        Raises the render's error, if it failed, so detection stops early."""
        self.raise_if_failed()
        scale = np.array([self.left_w / self.info.width, self.left_h / self.info.height]) if self.resize else 1.0
        panel = self._panel
        if panel is None and complete and ready < self.geometry_frames:  # a clip shorter than that: all of it
            panel = Pose3DPanel(poses3d, self.left_h, trajectory=trajectory, margin=1.0, **self.view)
        elif panel is None and ready >= self.geometry_frames:
            # Exactly the first geometry_frames settled poses: built from whatever had been detected when the
            # lifter finished loading, the panel's scale and floor (and so every pixel) varied from run to run.
            n = self.geometry_frames
            panel = Pose3DPanel(poses3d[:n], self.left_h, trajectory=None if trajectory is None else trajectory[:n],
                                margin=1.2, **self.view)
        with self._cond:
            self.layout2d = get_layout(keypoints.layout)
            self._arrays = (keypoints.xy.astype(np.float64) * scale, keypoints.score.astype(np.float64),
                            keypoints.detected, np.asarray(poses3d), trajectory)
            self._panel = panel
            self._ready = ready
            self._complete = complete
            self._cond.notify_all()

    def finish(self) -> RenderResult:
        """Wait for the last frame; the video is in place when this returns. Raises the render's error."""
        self._thread.join()
        self.raise_if_failed()
        return self._result

    def abort(self) -> None:
        """Stop now and delete the partial video (nothing is left at out_path)."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join()

    def raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    # -- the render thread
    def _frame_data(self, t: int):
        """Block until frame t is final (or the video is complete): -> the arrays, or None for a frame
        beyond the keypoints (picture only)."""
        with self._cond:
            while not self._stop and not self._complete and not (t < self._ready and self._panel is not None):
                self._cond.wait()
            if self._stop:
                raise _Stopped
            return (self._arrays, self._panel) if t < self._ready else (None, self._panel)

    def _run(self) -> None:
        thickness = skeleton_thickness(self.left_h)

        def draw(t: int, left: np.ndarray, right: np.ndarray) -> None:
            arrays, panel = self._frame_data(t)
            if arrays is not None:
                xy, score, detected, poses, trajectory = arrays
                draw_skeleton_2d(left, xy[t], score[t], self.layout2d, threshold=self.score_threshold,
                                 interpolated=not detected[t], thickness=thickness, line_type=cv2.LINE_AA)
                panel.draw_pose(right, poses[t], None if trajectory is None else trajectory[t])
            elif panel is not None:
                panel.draw(right, len(panel.valid))  # background only
            else:
                right[:] = 0

        def nothing_written(written: int) -> None:
            if written == 0:
                raise _Stopped

        try:
            self._result = render_frames(self.video_path, self.out_path, (self.left_w, self.left_h), self.resize,
                                         self.info.fps, draw, crf=self.crf, preset=self.preset,
                                         progress=self.progress, before_close=nothing_written)
        except _Stopped:
            pass
        except BaseException as e:  # handed to the detecting thread (update / finish)
            self._error = e
