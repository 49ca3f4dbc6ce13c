"""Probe a video: check that a file is a decodable video and describe it (size upright, frame rate, rotation).

Decoding uses OpenCV's FFmpeg backend (fast, in-process, applies the rotation metadata itself); the
diagnostics use the FFmpeg binary shipped by imageio-ffmpeg (no system FFmpeg is assumed).
"""

from __future__ import annotations

import math
import os
import re
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from ..errors import UserError
from .integrity import DecodeWarning
from .timing import frame_times, is_variable, rates_disagree

# OpenCV's FFmpeg backend prints the decoder's complaints about a damaged file ("Invalid NAL unit size",
# "partial file") straight to stderr. We decode what is there and report problems ourselves, in one line,
# so silence it (AV_LOG_QUIET). Read when the first capture opens, so setting it at import is in time;
# setdefault keeps a value the user chose for debugging.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


class VideoError(UserError, RuntimeError):
    """A video cannot be read or written. The message is one line naming the file and the problem."""


def ffmpeg_exe() -> str:
    """Path of the FFmpeg binary bundled with imageio-ffmpeg (honours IMAGEIO_FFMPEG_EXE)."""
    import imageio_ffmpeg  # local import: only the paths that really run FFmpeg pay for it

    return imageio_ffmpeg.get_ffmpeg_exe()


@dataclass
class VideoInfo:
    """What a video holds, as decoded.

    width, height: display size in pixels, i.e. after the rotation metadata is applied (frames from
        `iter_frames` have exactly this size).
    fps: frames per second (float; see `fps_fraction` for the exact rational used when encoding).
    rotation: clockwise rotation in degrees (0, 90, 180, 270) the player applies to the coded picture;
        `iter_frames` has already applied it.
    num_frames_hint: the container's frame count, or None. Often wrong (figure_skating.mp4 claims 207,
        decodes 185): only count decoded frames.
    decode_warning: set by the decode of the pipeline (vp3d.pipeline.detect) when FFmpeg reports the stream
        damaged (vp3d.video.integrity); None before that decode and for a whole stream.
    """

    path: Path
    width: int
    height: int
    fps: float
    rotation: int
    num_frames_hint: int | None
    frame_times: np.ndarray | None = None  # (N,) seconds of each frame for a variable frame rate; None: constant
    decode_warning: DecodeWarning | None = None

    @property
    def variable_frame_rate(self) -> bool:
        return self.frame_times is not None

    def times(self, first: int, count: int) -> np.ndarray:
        """(count,) seconds of frames first .. first + count - 1: their timestamps for a variable rate
        (frames past the last timestamp continue at the average rate), index / fps for a constant one."""
        index = first + np.arange(count)
        if self.frame_times is None:
            return index / self.fps
        known = self.frame_times
        extra = known[-1] + (index - (len(known) - 1)) / self.fps
        return np.where(index < len(known), known[np.minimum(index, len(known) - 1)], extra)

    @property
    def fps_fraction(self) -> Fraction:
        return fps_to_fraction(self.fps)


def fps_to_fraction(fps: float | Fraction) -> Fraction:
    """Exact rational for a frame rate: 23.976... -> 24000/1001, 25.0 -> 25.

    Containers store NTSC rates as N/1001; limiting the denominator to 1001 recovers them exactly from
    OpenCV's float, so re-encoding keeps the rate (and therefore timestamps) bit-exact.
    """
    if isinstance(fps, Fraction):
        return fps
    if not (isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0):
        raise ValueError(f"frame rate must be a positive number, got {fps!r}")
    return Fraction(fps).limit_denominator(1001)


# --------------------------------------------------------------------------------------------- probing

_STREAM_RE = re.compile(r"^\s*Stream #\d+:\d+[^:]*: (\w+): (.*)$", re.M)


def _check_file(path: Path) -> None:
    """Cheap checks first, so the common mistakes get a precise message without running a decoder."""
    if not path.exists():
        raise VideoError(f"{path}: no such file")
    if path.is_dir():
        raise VideoError(f"{path}: is a directory, not a video file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: file is empty (0 bytes)")


def _ffmpeg_video_stream(path: Path) -> str:
    """Return FFmpeg's description line of the first real video stream, or raise VideoError saying why none.

    `ffmpeg -i` (no output) only reads the headers (~20 ms); it tells "not a media file" apart from
    "a media file without video" (audio only), which OpenCV reports identically as "cannot open".
    """
    try:
        proc = subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
            capture_output=True, text=True, errors="replace", timeout=60,
        )
    except subprocess.TimeoutExpired:
        raise VideoError(f"{path}: FFmpeg timed out reading the file headers") from None
    streams = _STREAM_RE.findall(proc.stderr)
    if not streams:
        reason = "unknown format"
        for line in proc.stderr.splitlines():
            if line.startswith("Error opening input") and ":" in line:
                reason = line.rsplit(":", 1)[1].strip()
        raise VideoError(f"{path}: not a readable video file (ffmpeg: {reason})")
    # Cover art in audio files shows up as a one-picture "Video" stream: not a video.
    video = [desc for kind, desc in streams if kind == "Video" and "(attached pic)" not in desc]
    if not video:
        kinds = sorted({kind.lower() for kind, _ in streams})
        only = "audio only" if kinds == ["audio"] else "streams: " + ", ".join(kinds)
        raise VideoError(f"{path}: has no video stream ({only})")
    return video[0]


def _open_capture(path: Path) -> cv2.VideoCapture:
    """Open with OpenCV's FFmpeg backend, auto-rotation on (frames come out upright).

    Forcing CAP_FFMPEG keeps OpenCV from treating names like "img%03d.png" as image sequences.
    """
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not cap.isOpened():
        cap.release()
        raise VideoError(f"{path}: the video stream cannot be opened for decoding")
    # Auto-rotation is OpenCV's default; set it anyway (it is not accepted as an open() parameter).
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    return cap


def probe(path: str | os.PathLike) -> VideoInfo:
    """Check that `path` is a decodable video and describe it; raises VideoError otherwise.

    The first frame is decoded, so a file that probes fine yields at least one frame.
    """
    path = Path(path)
    _check_file(path)
    stream_desc = _ffmpeg_video_stream(path)
    cap = _open_capture(path)
    try:
        ok, frame = cap.read()
        if not ok or frame is None:
            raise VideoError(f"{path}: the video stream cannot be decoded (no frame could be read)")
        height, width = frame.shape[:2]  # the decoded, already rotated frame is the truth
        fps = cap.get(cv2.CAP_PROP_FPS)
        rotation = int(round(cap.get(cv2.CAP_PROP_ORIENTATION_META))) % 360
        count = cap.get(cv2.CAP_PROP_FRAME_COUNT)
    finally:
        cap.release()
    if not (math.isfinite(fps) and fps > 0):
        # OpenCV had no rate (rare containers): fall back to what FFmpeg printed for the stream.
        m = re.search(r"([\d.]+) (?:fps|tbr)", stream_desc)
        fps = float(m.group(1)) if m else 0.0
        if not fps > 0:
            raise VideoError(f"{path}: the video stream has no frame rate")
    hint = int(count) if math.isfinite(count) and count > 0 else None
    times = frame_times(path, ffmpeg_exe()) if rates_disagree(stream_desc) else None
    return VideoInfo(path=path, width=int(width), height=int(height), fps=float(fps),
                     rotation=rotation, num_frames_hint=hint,
                     frame_times=times if times is not None and is_variable(times) else None)
