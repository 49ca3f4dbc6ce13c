"""Frames of a live source, newest first: a camera index ("0"), a stream URL FFmpeg reads (rtsp://,
http://, udp://, ...), "-" (encoded video on stdin, e.g. MPEG-TS or MJPEG), or a file (played at its own
rate with `realtime=True`, as fast as it is consumed otherwise).

A reader thread decodes continuously and keeps only the newest frame not yet taken: a frame that arrives
before the previous one was taken replaces it and is counted as dropped. So a slow consumer always works
on the present, memory stays one frame, and nothing queues without bound.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..errors import UserError


class SourceError(UserError):
    """The live source cannot be opened (one-line message naming it)."""


class SourceStalled(SourceError):
    """A camera or stream delivered no frame for the stall timeout."""


@dataclass
class Frame:
    index: int  # position in the source (0, 1, ...): dropped frames leave gaps
    time_s: float  # presentation time: the source's own for files and streams, arrival time for cameras
    arrived: float  # time.perf_counter() when the frame was decoded (latency is measured from here)
    image: np.ndarray  # (H, W, 3) uint8 BGR


def _capture(spec: str) -> tuple[cv2.VideoCapture, bool]:
    """(OpenCV capture, is_file) for a source spec."""
    if spec.isdigit():
        return cv2.VideoCapture(int(spec)), False
    if spec == "-":
        return cv2.VideoCapture("pipe:0", cv2.CAP_FFMPEG), False
    if "://" in spec:
        return cv2.VideoCapture(spec, cv2.CAP_FFMPEG), False
    path = Path(spec)
    if not path.exists():
        raise SourceError(f"{spec}: no such file, camera index or stream URL")
    return cv2.VideoCapture(str(path), cv2.CAP_FFMPEG), True


class LiveSource:
    """Frames of `spec`, newest first, from a reader thread; `next()` blocks for the next frame not yet taken
    and returns None at the end of the source. `dropped` counts frames replaced before they were taken.
    stall_timeout: seconds a camera or stream may deliver nothing before `next()` raises SourceStalled (a
    network stream that stops sending may leave the decoder waiting for good; files never stall)."""

    def __init__(self, spec: str, realtime: bool = False, stall_timeout: float = 10.0):
        self.spec = spec
        self.stall_timeout = stall_timeout
        self._cap, self.is_file = _capture(spec)
        if not self._cap.isOpened():
            self._cap.release()
            raise SourceError(f"{spec}: cannot open this video source")
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and 0 < fps < 1000 else None
        self.width = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self.realtime = realtime and self.is_file
        self.received = 0
        self.dropped = 0
        self._latest: Frame | None = None
        self._ended = False
        self._stop = threading.Event()
        self._ready = threading.Condition()
        self._thread = threading.Thread(target=self._read, name="vp3d-live-source", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        start = time.perf_counter()
        index = 0
        try:
            while not self._stop.is_set():
                ok, image = self._cap.read()
                if not ok or image is None:
                    break
                if self.is_file and self.fps:
                    t = index / self.fps
                    if self.realtime:  # a file played as a camera would deliver it
                        delay = start + t - time.perf_counter()
                        if delay > 0 and self._stop.wait(delay):
                            break
                else:
                    t = time.perf_counter() - start
                frame = Frame(index, t, time.perf_counter(), image)
                index += 1
                with self._ready:
                    self.received += 1
                    if self._latest is not None:
                        self.dropped += 1
                    self._latest = frame
                    self._ready.notify()
                if self.is_file and not self.realtime:
                    # As fast as it is consumed: wait until this frame is taken (files drop nothing then).
                    with self._ready:
                        while self._latest is not None and not self._stop.is_set():
                            self._ready.wait(0.1)
        finally:
            with self._ready:
                self._ended = True
                self._ready.notify_all()

    def next(self) -> Frame | None:
        """The newest frame not yet taken (waiting for one); None when the source has ended."""
        since = time.perf_counter()
        with self._ready:
            while self._latest is None and not self._ended:
                if not self.is_file and time.perf_counter() - since > self.stall_timeout:
                    raise SourceStalled(f"{self.spec}: no frame for {self.stall_timeout:g} s: the source stalled")
                self._ready.wait(0.1)
            frame, self._latest = self._latest, None
            self._ready.notify_all()
            return frame

    def close(self) -> None:
        self._stop.set()
        with self._ready:
            self._ready.notify_all()
        self._thread.join(timeout=5)
        if not self._thread.is_alive():  # a reader still blocked in a stalled stream keeps its decoder
            self._cap.release()

    def __enter__(self) -> "LiveSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
