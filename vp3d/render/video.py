"""The one renderer: the side-by-side video of N people (the input frame with their 2D skeletons | their 3D
poses from a fixed viewpoint), drawn while detection still runs or after it.

    render = SideBySideRender("in.mp4", "out.mp4", info, geometry_frames=120)   # or None: after detection
    render.update(figures, ready=n)              # frames [0, n) of these figures are final
    ...
    rendered = render.complete(figures, T)       # the last update; or render.abort(): nothing left at out.mp4

A `Figure` is one person's arrays over its frames. One figure without a label is the default untracked
person, drawn in left/right colours; labelled figures are tracked people, each in its own colour (see
vp3d.render.draw). The render thread draws frame t as soon as it is final, so drawing and encoding use the
CPU time the detector leaves (vp3d.pipeline.overlap decides when frames are final). The 3D panel's scale,
floor and layout are fixed once for the whole video: from the first `geometry_frames` frames with 20% to
spare, while detection runs, or from every frame (geometry_frames None) when all are known before drawing.

Work overlaps across three places: decoding runs in a background thread (`prefetch`), drawing in the render
thread, encoding in the FFmpeg subprocess.
"""

from __future__ import annotations

import os
import threading
import warnings
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import cv2
import numpy as np

from ..cores import use
from ..skeleton import H36M, get_layout
from ..video import DEFAULT_CRF, DEFAULT_PRESET, H264Writer, VideoInfo, iter_frames, prefetch, probe
from .draw import Pose3DPanel, _label, draw_skeleton_2d, left_panel_size, person_color, skeleton_thickness


@dataclass
class RenderResult:
    path: Path
    frames: int      # frames written (== frames decoded from the input)
    width: int       # output size in pixels
    height: int
    fps: float


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


class _Stopped(Exception):
    """The render was told to stop (abort)."""


class SideBySideRender:
    """Render `video_path` to `out_path` (H.264, yuv420p, written atomically, audio from the input; one output
    frame per decoded input frame, exactly) from figures that arrive while the render thread runs.

    geometry_frames: the 3D panel is fixed from the first this many frames (margin 1.2), or from all frames
        when the video turns out shorter; None: from all frames (margin 1.0), once complete.
    Output: left = the input frame (scaled down so the height is at most `max_height`) with the 2D
    skeletons; right = a square 3D panel of the same height (see draw.Pose3DPanel). Frames beyond the
    figures get the picture and the panel's background only. progress: optional callable(frames_written),
    from the render thread."""

    def __init__(self, video_path: str | os.PathLike, out_path: str | os.PathLike, info: VideoInfo, *,
                 geometry_frames: int | None = None, score_threshold: float = 0.3, max_height: int = 1080,
                 azimuth_deg: float = 35.0, elevation_deg: float = 15.0, crf: int = DEFAULT_CRF,
                 preset: str = DEFAULT_PRESET, progress: Callable[[int], None] | None = None,
                 cpus: frozenset[int] | None = None, encoder_threads: int | None = None):
        self.video_path, self.out_path, self.info = Path(video_path), Path(out_path), info
        self.geometry_frames = None if geometry_frames is None else max(1, int(geometry_frames))
        self.score_threshold = score_threshold
        self.left_w, self.left_h, self.resize = left_panel_size(info.width, info.height, max_height)
        self.view = dict(azimuth_deg=azimuth_deg, elevation_deg=elevation_deg)
        self.crf, self.preset, self.progress, self.cpus = crf, preset, progress, cpus
        self.encoder_threads = encoder_threads
        self._cond = threading.Condition()
        self._updating = threading.Lock()
        self._figures: list[Figure] = []  # as given, keypoints scaled to the left panel's pixels
        self._panel: Pose3DPanel | None = None
        self._ready = 0
        self._complete = False
        self._fed = False  # an update has arrived: the caller holds this render and will finish or abort it
        self._stop = False
        self._error: BaseException | None = None
        self._result: RenderResult | None = None
        self._ended = threading.Event()  # the render thread is done with the video (see _wait)
        self._thread = threading.Thread(target=self._run, name="vp3d-render", daemon=True)
        self._thread.start()

    # -- called by the pipeline's thread
    def update(self, figures: list[Figure], ready: int, complete: bool = False) -> None:
        """Frames [0, ready) of these figures are final; complete: the figures cover the whole video.
        Raises the render's error, if it failed, so detection stops early. Updates may come from several
        threads (vp3d.pipeline.overlap lifts in its own): one at a time, and none after the complete one."""
        self.raise_if_failed()
        with self._updating:
            if not self._complete:
                self._update(figures, ready, complete)

    def _update(self, figures: list[Figure], ready: int, complete: bool) -> None:
        scale = np.array([self.left_w / self.info.width, self.left_h / self.info.height]) if self.resize else 1.0
        panel = self._panel
        n = self.geometry_frames
        if panel is None and complete and (n is None or ready < n):  # every frame is known: all of them
            panel = self._make_panel(figures, ready, margin=1.0)
        elif panel is None and n is not None and ready >= n:
            # Exactly the first geometry_frames settled poses: built from whatever had been detected when the
            # lifter finished loading, the panel's scale and floor (and so every pixel) varied from run to run.
            panel = self._make_panel(figures, n, margin=1.2)
        # xy keeps its dtype when not resized (x 1.0): the labels' positions are computed from it, and a float32
        # subtraction rounds differently from a float64 one.
        scaled = [Figure(f.xy * scale, f.score.astype(np.float64), f.detected, f.layout, np.asarray(f.poses3d),
                         f.trajectory, f.start, f.label) for f in figures]
        with self._cond:
            self._figures, self._panel, self._ready, self._complete = scaled, panel, ready, complete
            self._fed = True
            self._cond.notify_all()

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
        self._wait()
        self.raise_if_failed()
        return self._result

    def abort(self) -> None:
        """Stop now and delete the partial video (nothing is left at out_path)."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._wait()

    def _wait(self) -> None:
        # Not Thread.join() alone: on Python 3.11 a Ctrl-C that interrupts join() marks the still running
        # thread as ended (threading's bpo-45274 clean-up releases the lock the thread holds), so the abort
        # that follows returned at once, the process went on (a batch worker: exited) and the render thread
        # finished its video under the temporary name, or died in OpenCV ("terminate called without an
        # active exception"). An interrupted Event.wait() leaves nothing broken.
        self._ended.wait()
        self._thread.join()

    def raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    # -- the render thread
    def _frame_data(self, t: int) -> tuple[list[Figure], Pose3DPanel | None]:
        """Block until frame t is final (or the video is complete): -> the figures (none for a frame beyond
        them: picture only) and the panel."""
        with self._cond:
            while not self._stop and not self._complete and not (t < self._ready and self._panel is not None):
                self._cond.wait()
            if self._stop:
                raise _Stopped
            return (self._figures if t < self._ready else []), self._panel

    def _run(self) -> None:
        # Nothing is opened before the first update. A Ctrl-C that lands between this thread's start and the
        # caller's `render = SideBySideRender(...)` leaves a render nobody will abort: had it opened its
        # encoder, the file would be finished under its temporary name when the process exits. Unfed, it
        # holds nothing and just waits, on the cores it will draw on (not the detector's, which it inherits).
        try:
            use(self.cpus)  # before the decoder thread and the encoder process start: they inherit it
            with self._cond:
                while not (self._fed or self._stop):
                    self._cond.wait()
                if self._stop:
                    return
            self._render()
        finally:
            self._ended.set()

    def _render(self) -> None:
        thickness = skeleton_thickness(self.left_h)
        scale = self.left_h / 900

        def draw(t: int, left: np.ndarray, right: np.ndarray) -> None:
            figures, panel = self._frame_data(t)
            poses = np.full((len(figures), H36M.num_joints, 3), np.nan)
            root = None
            for k, f in enumerate(figures):
                i = t - f.start
                if not 0 <= i < len(f.xy):
                    continue
                poses[k] = f.poses3d[i]
                root = None if f.trajectory is None else f.trajectory[i]
                xy, interpolated = f.xy[i], not f.detected[i]
                draw_skeleton_2d(left, xy, f.score[i], get_layout(f.layout), threshold=self.score_threshold,
                                 interpolated=interpolated, thickness=thickness, line_type=cv2.LINE_AA,
                                 colour=None if f.label is None else person_color(k),
                                 label_interpolated=f.label is None)
                if f.label is not None:  # the track id above the head
                    head = xy[np.argmin(xy[:, 1])]
                    _label(left, f.label + (" interpolated" if interpolated else ""),
                           (int(head[0]) - int(20 * scale), max(int(head[1] - 14 * scale), int(30 * scale))),
                           scale, person_color(k), max(1, round(2 * scale)))
            if panel is not None:
                panel.draw(right, poses, root)
            else:
                right[:] = 0

        def nothing_written(written: int) -> None:
            if written == 0:
                raise _Stopped

        try:
            self._result = render_frames(self.video_path, self.out_path, (self.left_w, self.left_h), self.resize,
                                         self.info.fps, draw, crf=self.crf, preset=self.preset,
                                         progress=self.progress, before_close=nothing_written,
                                         encoder_threads=self.encoder_threads)
        except _Stopped:
            pass
        except BaseException as e:  # handed to the pipeline's thread (update / finish)
            self._error = e


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


# ------------------------------------------------------------------------------------------------ the loop

def left_frames(path: Path, size: tuple[int, int], resize: bool) -> Iterator[np.ndarray]:
    """Decoded frames at the left panel's size (width, height): resized when the input is larger than the
    output allows, else only cropped (by at most one pixel, to even sides: no resampling blur)."""
    w, h = size
    for frame in iter_frames(path, size=size if resize else None):
        if not resize:
            frame = frame[:h, :w]
            if frame.shape[:2] != (h, w):  # a stream whose size changes midway: fit it anyway
                frame = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)
        yield frame


def render_frames(video_path: str | os.PathLike, out_path: str | os.PathLike, left_size: tuple[int, int],
                  resize: bool, fps, draw: Callable[[int, np.ndarray, np.ndarray], None], *,
                  crf: int = DEFAULT_CRF, preset: str = DEFAULT_PRESET,
                  progress: Callable[[int], None] | None = None,
                  before_close: Callable[[int], None] | None = None,
                  encoder_threads: int | None = None) -> RenderResult:
    """The one render loop: every decoded frame of the input, side by side with a square panel of the same
    height, encoded to `out_path` (H.264, yuv420p, written atomically; audio from the input).

    left_size, resize: the left panel (left_panel_size); fps: the output's frame rate.
    draw(t, left, right): draws frame t's overlays; `left` already holds the (scaled) picture, `right` is the
        square panel to fill. It may block until frame t is known (the render running during detection).
    before_close(frames_written): called before the file is finished; raising there leaves nothing written.
    encoder_threads: x264's threads (H264Writer's threads).
    Decoding runs in a background thread (`prefetch`), drawing in the calling thread, encoding in FFmpeg.
    """
    left_w, left_h = left_size
    canvas = np.empty((left_h, left_w + left_h, 3), np.uint8)
    left, right = canvas[:, :left_w], canvas[:, left_w:]
    written = 0
    frames = prefetch(left_frames(Path(video_path), (left_w, left_h), resize))
    # closing(): on an error the decode thread stops and releases the file now, not when the traceback dies.
    with H264Writer(out_path, canvas.shape[1], canvas.shape[0], fps, crf=crf, preset=preset,
                    audio_from=video_path, threads=encoder_threads) as writer, closing(frames):
        for t, frame in enumerate(frames):
            left[:] = frame
            draw(t, left, right)
            writer.write(canvas)
            written += 1
            if progress is not None:
                progress(written)
        if before_close is not None:
            before_close(written)
    return RenderResult(path=Path(out_path), frames=written, width=canvas.shape[1], height=canvas.shape[0],
                        fps=float(fps))

