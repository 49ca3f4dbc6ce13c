"""Decode a video: its frames one at a time, upright, BGR uint8 (H, W, 3), the OpenCV convention; and
`prefetch`, which runs the decoding in a background thread. The one place frames are decoded.
"""

from __future__ import annotations

import os
import queue
import threading
from pathlib import Path
from typing import Iterable, Iterator, TypeVar

import cv2
import numpy as np

from ..cores import use
from .probe import _check_file, _ffmpeg_video_stream, _open_capture

T = TypeVar("T")


def iter_frames(path: str | os.PathLike, *, size: tuple[int, int] | None = None) -> Iterator[np.ndarray]:
    """Yield the video's frames one at a time, upright, as BGR uint8 arrays (H, W, 3).

    size: optional (width, height) to resize every frame to (INTER_AREA, meant for downscaling);
        doing it here lets `prefetch` run it in the decode thread.
    Only one frame is held at a time. A damaged or truncated file yields the frames that decode and then
    stops; raises VideoError when the file cannot be opened at all.
    """
    path = Path(path)
    _check_file(path)
    _ffmpeg_video_stream(path)  # precise error for audio-only / non-video files, before OpenCV complains
    cap = _open_capture(path)
    try:
        while True:
            ok, frame = cap.read()
            if not ok or frame is None:
                return
            if size is not None and (frame.shape[1], frame.shape[0]) != tuple(size):
                frame = cv2.resize(frame, tuple(size), interpolation=cv2.INTER_AREA)
            yield frame
    finally:
        cap.release()


class _Failure:
    def __init__(self, exc: BaseException):
        self.exc = exc


_END = object()


def prefetch(items: Iterable[T], depth: int = 8, cpus: frozenset[int] | None = None) -> Iterator[T]:
    """Iterate `items` in a background thread, `depth` items ahead, yielding them in order; the thread (and
    the decoder threads it starts) on `cpus` when given (vp3d.cores).

    Used to overlap decoding (OpenCV releases the GIL while decoding) with drawing and encoding.
    Exceptions in the producer are re-raised in the consumer; if the consumer stops early, the producer
    is told to stop and its generator is closed (releasing the decoder) in its own thread.
    """
    q: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def worker() -> None:
        use(cpus)
        it = iter(items)
        try:
            for item in it:
                if not put(item):
                    return
            put(_END)
        except BaseException as exc:  # noqa: BLE001 - handed over to the consumer thread
            put(_Failure(exc))
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=worker, name="vp3d-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item
    finally:
        stop.set()
        thread.join(timeout=10)
