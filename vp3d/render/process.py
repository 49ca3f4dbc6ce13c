"""The render process: it decodes the input a second time, draws each frame as soon as the pipeline says its
poses are final, and encodes it (vp3d.render.loop). `SideBySideRender` (video.py) starts it and feeds it.

A process, not a thread: drawing is Python (small numpy steps between OpenCV calls), and beside a Python
thread the detector's own per-frame Python waits for the interpreter lock: MediaPipe ran at 0.82 of its rate
next to one (bench/README.md). In a process of its own the drawing competes for a core, not for the lock.

Messages from the parent (one Connection): ("update", figures, panel, ready, complete), ("stop",).
To the parent: ("progress", frames_written)..., then one of ("done", RenderResult), ("stopped",),
("error", exception). Figures arrive cut to the frames not yet written (`start` moved), so updates stay small.
"""

from __future__ import annotations

import pickle
import signal
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import cv2
import numpy as np

from ..skeleton import H36M, get_layout
from .draw import Pose3DPanel, _label, draw_skeleton_2d, person_color, skeleton_thickness
from .figure import Figure
from .loop import render_frames

PROGRESS_INTERVAL = 0.1  # seconds between progress messages: the parent's listener wakes this often at most


@dataclass(frozen=True)
class RenderSettings:
    """What the render process needs besides the figures (all picklable)."""

    video_path: Path
    out_path: Path
    left_size: tuple[int, int]  # the left panel (width, height) in pixels
    resize: bool                # the input frame is scaled down to it (else only cropped to even sides)
    fps: float
    score_threshold: float
    crf: int
    preset: str


class _Stopped(Exception):
    """The parent said stop (abort), or went away before the figures were complete."""


class _Received:
    """The figures received so far; the render loop waits here until frame t is final."""

    def __init__(self):
        self._cond = threading.Condition()
        self._figures: list[Figure] = []
        self._panel: Pose3DPanel | None = None
        self._ready = 0
        self._complete = False
        self._stop = False

    def receive(self, updates: Connection) -> None:
        """Runs in its own thread, so a large update never waits for a frame to be drawn."""
        while True:
            try:
                message = updates.recv()
            except (EOFError, OSError):  # the parent is gone (it closes this only after our report): leave nothing
                message = ("stop",)
            with self._cond:
                if message[0] == "update":
                    _, self._figures, panel, self._ready, self._complete = message
                    self._panel = panel or self._panel
                elif message[0] == "stop":
                    self._stop = True
                self._cond.notify_all()
            if message[0] != "update":
                return

    def frame(self, t: int) -> tuple[list[Figure], Pose3DPanel | None]:
        """Block until frame t is final (or the video is complete): -> the figures (none for a frame beyond
        them: picture only) and the panel."""
        with self._cond:
            while not self._stop and not self._complete and not (t < self._ready and self._panel is not None):
                self._cond.wait()
            if self._stop:
                raise _Stopped
            return (self._figures if t < self._ready else []), self._panel


def _drawer(settings: RenderSettings, received: _Received):
    left_h = settings.left_size[1]
    thickness = skeleton_thickness(left_h)
    scale = left_h / 900

    def draw(t: int, left: np.ndarray, right: np.ndarray) -> None:
        figures, panel = received.frame(t)
        poses = np.full((len(figures), H36M.num_joints, 3), np.nan)
        root = None
        for k, f in enumerate(figures):
            i = t - f.start
            if not 0 <= i < len(f.xy):
                continue
            poses[k] = f.poses3d[i]
            root = None if f.trajectory is None else f.trajectory[i]
            xy, interpolated = f.xy[i], not f.detected[i]
            draw_skeleton_2d(left, xy, f.score[i], get_layout(f.layout), threshold=settings.score_threshold,
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

    return draw


def _picklable(error: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")


def main(settings: RenderSettings, updates: Connection, events: Connection) -> None:
    """The render process's whole life: render, then report how it ended."""
    # A terminal's Ctrl-C reaches the whole process group: the parent decides (it aborts, and says stop).
    # SIGINT was blocked from the spawn until now (SideBySideRender), so none can have killed us yet.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    received = _Received()
    threading.Thread(target=received.receive, args=(updates,), name="vp3d-render-updates", daemon=True).start()

    def report(*message) -> None:
        try:
            events.send(message)
        except OSError:  # the parent is gone: nobody to tell
            pass

    last_report, reported = -PROGRESS_INTERVAL, 0  # the first frame is reported at once

    def progress(written: int, final: bool = False) -> None:
        nonlocal last_report, reported
        if written != reported and (final or time.monotonic() - last_report >= PROGRESS_INTERVAL):
            last_report, reported = time.monotonic(), written
            report("progress", written)

    def nothing_written(written: int) -> None:
        if written == 0:
            raise _Stopped

    try:
        result = render_frames(settings.video_path, settings.out_path, settings.left_size, settings.resize,
                               settings.fps, _drawer(settings, received), crf=settings.crf, preset=settings.preset,
                               progress=progress, before_close=nothing_written)
    except _Stopped:
        report("stopped")
    except BaseException as e:  # handed to the parent (SideBySideRender.update / finish raise it)
        report("error", _picklable(e))
    else:
        progress(result.frames, final=True)
        report("done", result)
