"""The one render loop: every decoded frame of the input, its overlays drawn by a callback, encoded."""

from __future__ import annotations

import os
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import cv2
import numpy as np

from ..video import DEFAULT_CRF, DEFAULT_PRESET, H264Writer, iter_frames, prefetch


@dataclass
class RenderResult:
    path: Path
    frames: int      # frames written (== frames decoded from the input)
    width: int       # output size in pixels
    height: int
    fps: float


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
                  before_close: Callable[[int], None] | None = None) -> RenderResult:
    """The one render loop: every decoded frame of the input, side by side with a square panel of the same
    height, encoded to `out_path` (H.264, yuv420p, written atomically; audio from the input).

    left_size, resize: the left panel (left_panel_size); fps: the output's frame rate.
    draw(t, left, right): draws frame t's overlays; `left` already holds the (scaled) picture, `right` is the
        square panel to fill. It may block until frame t is known (the render running during detection).
    before_close(frames_written): called before the file is finished; raising there leaves nothing written.
    Decoding runs in a background thread (`prefetch`), drawing in the calling thread, encoding in FFmpeg.
    """
    left_w, left_h = left_size
    canvas = np.empty((left_h, left_w + left_h, 3), np.uint8)
    left, right = canvas[:, :left_w], canvas[:, left_w:]
    written = 0
    frames = prefetch(left_frames(Path(video_path), (left_w, left_h), resize))
    # closing(): on an error the decode thread stops and releases the file now, not when the traceback dies.
    with H264Writer(out_path, canvas.shape[1], canvas.shape[0], fps, crf=crf, preset=preset,
                    audio_from=video_path) as writer, closing(frames):
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

