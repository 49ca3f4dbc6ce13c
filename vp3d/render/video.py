"""The one renderer: the side-by-side video of N people (the input frame with their 2D skeletons | their 3D
poses from a fixed viewpoint), drawn while detection still runs or after it.

    render = SideBySideRender("in.mp4", "out.mp4", info, geometry_frames=120)   # or None: after detection
    render.update(figures, ready=n)              # frames [0, n) of these figures are final
    ...
    rendered = render.complete(figures, T)       # the last update; or render.abort(): nothing left at out.mp4

A `Figure` (figure.py) is one person's arrays over its frames. One figure without a label is the default
untracked person, drawn in left/right colours; labelled figures are tracked people, each in its own colour
(see vp3d.render.draw). The render process (process.py) draws frame t as soon as it is final, so drawing and
encoding use the CPU the detector leaves without holding its interpreter lock (vp3d.pipeline.overlap decides
when frames are final). The 3D panel's scale, floor and layout are fixed once for the whole video: from the
first `geometry_frames` frames with 20% to spare, while detection runs, or from every frame (geometry_frames
None) when all are known before drawing.

Work overlaps across four places: detection in this process; decoding in a background thread of the render
process, drawing in its main thread; encoding in the FFmpeg subprocess.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

from ..skeleton import H36M
from ..video import DEFAULT_CRF, DEFAULT_PRESET, VideoInfo, probe
from . import process
from .draw import Pose3DPanel, left_panel_size
from .figure import Figure, on_frames
from .loop import RenderResult

__all__ = ["Figure", "RenderResult", "SideBySideRender", "render_figures"]

POSIX_SIGNALS = hasattr(signal, "pthread_sigmask")  # not on Windows, where Ctrl-C is not sent to a group


class SideBySideRender:
    """Render `video_path` to `out_path` (H.264, yuv420p, written atomically, audio from the input; one output
    frame per decoded input frame, exactly) from figures that arrive while the render process runs.

    geometry_frames: the 3D panel is fixed from the first this many frames (margin 1.2), or from all frames
        when the video turns out shorter; None: from all frames (margin 1.0), once complete.
    Output: left = the input frame (scaled down so the height is at most `max_height`) with the 2D
    skeletons; right = a square 3D panel of the same height (see draw.Pose3DPanel). Frames beyond the
    figures get the picture and the panel's background only. progress: optional callable(frames_written),
    called from a listener thread after the first frame, then about ten times a second and once at the end
    (when the video is in place); an exception it raises stops the render (nothing left) and is raised here."""

    def __init__(self, video_path: str | os.PathLike, out_path: str | os.PathLike, info: VideoInfo, *,
                 geometry_frames: int | None = None, score_threshold: float = 0.3, max_height: int = 1080,
                 azimuth_deg: float = 35.0, elevation_deg: float = 15.0, crf: int = DEFAULT_CRF,
                 preset: str = DEFAULT_PRESET, progress: Callable[[int], None] | None = None):
        self.video_path, self.out_path, self.info = Path(video_path), Path(out_path), info
        self.geometry_frames = None if geometry_frames is None else max(1, int(geometry_frames))
        self.left_w, self.left_h, self.resize = left_panel_size(info.width, info.height, max_height)
        self.view = dict(azimuth_deg=azimuth_deg, elevation_deg=elevation_deg)
        self.progress = progress
        self._panel: Pose3DPanel | None = None
        self._panel_sent = False
        self._written = 0  # frames the render process has reported written: never needed again
        self._error: BaseException | None = None
        self._result: RenderResult | None = None
        settings = process.RenderSettings(self.video_path, self.out_path, (self.left_w, self.left_h), self.resize,
                                          float(info.fps), score_threshold, int(crf), preset)
        # spawn, not fork: the detector's threads (MediaPipe's, torch's) do not survive a fork.
        context = multiprocessing.get_context("spawn")
        their_updates, self._updates = context.Pipe(duplex=False)
        self._events, their_events = context.Pipe(duplex=False)
        self._process = context.Process(target=process.main, args=(settings, their_updates, their_events),
                                        name="vp3d-render", daemon=True)
        # Ctrl-C in a terminal reaches the whole process group: the render process must not die of it while
        # it is still starting (a traceback), before it can ignore it. Blocked here, the signal stays blocked
        # across the spawn until the render process has set it to be ignored (process.main).
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if POSIX_SIGNALS else None
        try:
            self._process.start()
        finally:
            if POSIX_SIGNALS:
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        their_updates.close()  # ours closed in turn: the render process sees the end when we are gone
        their_events.close()
        self._listener = threading.Thread(target=self._listen, name="vp3d-render-events", daemon=True)
        self._listener.start()

    # -- called by the pipeline's thread
    def update(self, figures: list[Figure], ready: int, complete: bool = False) -> None:
        """Frames [0, ready) of these figures are final; complete: the figures cover the whole video.
        Raises the render's error, if it failed, so detection stops early."""
        self.raise_if_failed()
        scale = np.array([self.left_w / self.info.width, self.left_h / self.info.height]) if self.resize else 1.0
        panel = self._panel
        n = self.geometry_frames
        if panel is None and complete and (n is None or ready < n):  # every frame is known: all of them
            panel = self._make_panel(figures, ready, margin=1.0)
        elif panel is None and n is not None and ready >= n:
            # Exactly the first geometry_frames settled poses: built from whatever had been detected when the
            # lifter finished loading, the panel's scale and floor (and so every pixel) varied from run to run.
            panel = self._make_panel(figures, n, margin=1.2)
        self._panel = panel
        # xy keeps its dtype when not resized (x 1.0): the labels' positions are computed from it, and a float32
        # subtraction rounds differently from a float64 one.
        written = self._written
        scaled = [_from_frame(Figure(f.xy * scale, f.score.astype(np.float64), f.detected, f.layout,
                                     np.asarray(f.poses3d), f.trajectory, f.start, f.label), written)
                  for f in figures]
        self._send(("update", scaled, None if self._panel_sent else panel, ready, complete))
        self._panel_sent = panel is not None

    def _make_panel(self, figures: list[Figure], frames: int, margin: float) -> Pose3DPanel:
        """The 3D panel from the figures' first `frames` video frames."""
        labels = None if figures[0].label is None else [f.label for f in figures]
        order_x = None if labels is None else np.array([np.nanmedian(f.xy[..., 0]) for f in figures])
        trajectory = None
        if labels is None and figures[0].trajectory is not None:
            trajectory = on_frames(figures, "trajectory", frames, (3,))[0]
        return Pose3DPanel(on_frames(figures, "poses3d", frames, (H36M.num_joints, 3)), self.left_h,
                           labels=labels, order_x=order_x, trajectory=trajectory, margin=margin, **self.view)

    def complete(self, figures: list[Figure], frames: int) -> RenderResult:
        """The last update (figures over all `frames` of the video), then finish; on any error (or Ctrl-C
        while waiting) the render stops and leaves nothing."""
        try:
            self.update(figures, frames, complete=True)
            return self.finish()
        except BaseException:
            self.abort()
            raise

    def finish(self) -> RenderResult:
        """Wait for the last frame; the video is in place when this returns. Raises the render's error."""
        self._listener.join()
        self._process.join()
        self._close()
        self.raise_if_failed()
        return self._result

    def abort(self) -> None:
        """Stop now and delete the partial video (nothing is left at out_path)."""
        try:
            self._updates.send(("stop",))
        except (OSError, ValueError):  # already gone (or closed): nothing more to stop
            pass
        self._listener.join(timeout=60)
        self._process.join(timeout=10)
        if self._process.is_alive():  # stuck: its partial file may stay behind, the process must not
            self._process.terminate()
            self._process.join()
        self._close()

    def raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def _send(self, message: tuple) -> None:
        try:
            self._updates.send(message)
        except OSError:  # the render process has ended: its own report says why
            self._listener.join(timeout=10)
            self.raise_if_failed()
            raise

    def _close(self) -> None:
        self._updates.close()
        self._events.close()

    # -- the listener thread: the render process's reports
    def _listen(self) -> None:
        while True:
            try:
                kind, *value = self._events.recv()
            except (EOFError, OSError):
                self._process.join(timeout=5)
                self._error = self._error or RuntimeError(
                    f"{self.out_path}: the render process ended unexpectedly (exit code {self._process.exitcode})")
                return
            if kind == "progress":
                self._written = value[0]
                if self.progress is not None and self._error is None:
                    try:
                        self.progress(value[0])
                    except BaseException as e:  # the caller's callback stops the render: raised by finish/update
                        self._error = e
                        try:
                            self._updates.send(("stop",))
                        except (OSError, ValueError):
                            pass
                continue
            if kind == "done":
                self._result = value[0]
            elif kind == "error":
                self._error = value[0]
            return


def _from_frame(figure: Figure, t: int) -> Figure:
    """The figure from video frame t on (frames before it were drawn already): start moved, arrays cut."""
    cut = min(max(0, t - figure.start), len(figure.xy))
    if cut == 0:
        return figure
    return Figure(figure.xy[cut:], figure.score[cut:], figure.detected[cut:], figure.layout, figure.poses3d[cut:],
                  None if figure.trajectory is None else figure.trajectory[cut:], figure.start + cut, figure.label)


def render_figures(video_path: str | os.PathLike, out_path: str | os.PathLike, figures: list[Figure], *,
                   crf: int = DEFAULT_CRF, preset: str = DEFAULT_PRESET,
                   progress: Callable[[int], None] | None = None, **view) -> RenderResult:
    """Render figures known in full (the render after detection): SideBySideRender fed once.
    view: score_threshold, max_height, azimuth_deg, elevation_deg."""
    frames = max(f.end for f in figures)
    rendered = SideBySideRender(video_path, out_path, probe(video_path), crf=crf, preset=preset, progress=progress,
                                **view).complete(figures, frames)
    if rendered.frames != frames:
        warnings.warn(f"{video_path}: decoded {rendered.frames} frames but got poses for {frames}; "
                      f"the output has {rendered.frames} frames", stacklevel=2)
    return rendered
