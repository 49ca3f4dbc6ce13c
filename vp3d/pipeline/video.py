"""Video in and out: probe a file, stream its frames upright, and encode frames to H.264.

Decoding uses OpenCV's FFmpeg backend (fast, in-process, applies the rotation metadata itself);
diagnostics and encoding use the FFmpeg binary shipped by imageio-ffmpeg (no system FFmpeg is assumed).
Frames are always BGR uint8 arrays of shape (H, W, 3), the OpenCV convention.
"""

from __future__ import annotations

import math
import os
import queue
import re
import secrets
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Iterator, TypeVar

import cv2
import numpy as np

T = TypeVar("T")

# OpenCV's FFmpeg backend prints the decoder's complaints about a damaged file ("Invalid NAL unit size",
# "partial file") straight to stderr. We decode what is there and report problems ourselves, in one line,
# so silence it (AV_LOG_QUIET). Read when the first capture opens, so setting it at import is in time;
# setdefault keeps a value the user chose for debugging.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


class VideoError(RuntimeError):
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
    """

    path: Path
    width: int
    height: int
    fps: float
    rotation: int
    num_frames_hint: int | None

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
    return VideoInfo(path=path, width=int(width), height=int(height), fps=float(fps),
                     rotation=rotation, num_frames_hint=hint)


# --------------------------------------------------------------------------------------------- decoding

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


def prefetch(items: Iterable[T], depth: int = 8) -> Iterator[T]:
    """Iterate `items` in a background thread, `depth` items ahead, yielding them in order.

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


# --------------------------------------------------------------------------------------------- encoding

DEFAULT_CRF = 23  # x264 quality: 0 lossless, 23 x264's default, 51 worst
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
# The encoder is the render's largest cost and the render shares the CPU with detection: "ultrafast"
# encodes ~2.3x as fast as "veryfast" for ~2.2x the bytes (bench/README.md); --preset trades back.
DEFAULT_PRESET = "ultrafast"


class H264Writer:
    """Encode BGR frames to an H.264 (libx264, yuv420p) file through an FFmpeg subprocess.

    with H264Writer("out.mp4", width, height, fps) as w:
        for frame in frames:          # BGR uint8 (height, width, 3)
            w.write(frame)

    - The frame rate is passed as an exact rational (`fps_to_fraction`) and frames are never dropped or
      duplicated (-fps_mode passthrough), so the output has exactly the frames written, at exactly that rate.
    - yuv420p needs even dimensions: an odd width/height is cropped by one pixel (out_width/out_height).
    - BGR -> YUV 4:2:0 is done here with OpenCV (BT.601 limited range, as FFmpeg's own default) because
      it is faster than FFmpeg's swscale and halves the bytes sent through the pipe.
    - The file is written under a hidden temporary name in the same directory and renamed to `path` only
      when close() succeeds; on an exception inside the `with` block (or abort()) the temporary file is
      deleted, so `path` never holds a half-written video.
    - MP4/MOV outputs get `-movflags +faststart` (index at the front: playable while downloading).
    - audio_from: a file whose first audio track, if it has one, goes into the output (AAC), e.g. the input
      video of a render, whose sound a viewer expects; its timing is the file's own, so with frames of that
      same video the two stay in sync. The video track is never cut to the audio's length.
    """

    def __init__(self, path: str | os.PathLike, width: int, height: int, fps: float | Fraction, *,
                 crf: int = DEFAULT_CRF, preset: str = DEFAULT_PRESET, audio_from: str | os.PathLike | None = None):
        self.path = Path(path)
        self.audio_from = None if audio_from is None else Path(audio_from)
        self.width, self.height = int(width), int(height)
        self.out_width, self.out_height = self.width - self.width % 2, self.height - self.height % 2
        if self.out_width < 2 or self.out_height < 2:
            raise ValueError(f"frame size {width}x{height} is too small to encode")
        self.fps = fps_to_fraction(fps)
        self.crf, self.preset = int(crf), preset
        self.frames_written = 0
        self._proc: subprocess.Popen | None = None
        self._stderr = None
        self._tmp: Path | None = None

    # -- lifecycle
    def __enter__(self) -> "H264Writer":
        self.open()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def open(self) -> None:
        if self._proc is not None:
            raise RuntimeError("H264Writer is already open")
        if not self.path.parent.is_dir():
            raise VideoError(f"{self.path}: output directory does not exist")
        # Same directory -> the final rename is atomic; same suffix -> FFmpeg picks the same muxer.
        self._tmp = self.path.with_name(f".{self.path.stem}.{secrets.token_hex(4)}.partial{self.path.suffix}")
        cmd = [
            ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{self.out_width}x{self.out_height}",
            "-framerate", f"{self.fps.numerator}/{self.fps.denominator}", "-i", "pipe:0",
        ]
        if self.audio_from is None:
            cmd += ["-an"]
        else:  # "?": a source without sound gives a silent output, not an error
            cmd += ["-i", str(self.audio_from), "-map", "0:v:0", "-map", "1:a:0?", "-c:a", "aac", "-b:a", "160k"]
        cmd += [
            "-c:v", "libx264", "-preset", self.preset, "-crf", str(self.crf), "-pix_fmt", "yuv420p",
            "-colorspace", "smpte170m", "-color_range", "tv",  # what the BT.601 conversion in write() produces
            "-fps_mode", "passthrough",
        ]
        if self.path.suffix.lower() in (".mp4", ".mov", ".m4v"):
            cmd += ["-movflags", "+faststart"]
        cmd.append(str(self._tmp))
        # stderr to a file, not a pipe: a chatty FFmpeg could otherwise fill the pipe and deadlock us.
        self._stderr = tempfile.TemporaryFile()
        # A session of its own: a terminal's Ctrl-C goes to the whole foreground group, and FFmpeg would end
        # the file at once, racing our clean-up (which aborts it, or finishes it, as the caller decides).
        # If we die, it sees the end of its input and exits.
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._stderr,
                                      start_new_session=True)

    def write(self, frame: np.ndarray) -> None:
        """Append one BGR uint8 frame of shape (height, width, 3)."""
        if self._proc is None:
            raise RuntimeError("H264Writer is not open (use it as a context manager or call open())")
        if frame.shape != (self.height, self.width, 3) or frame.dtype != np.uint8:
            raise ValueError(f"expected a uint8 frame of shape {(self.height, self.width, 3)}, "
                             f"got {frame.dtype} {frame.shape}")
        if frame.shape[:2] != (self.out_height, self.out_width):
            frame = frame[: self.out_height, : self.out_width]
        yuv = cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420)
        try:
            self._proc.stdin.write(yuv.data)
        except (BrokenPipeError, OSError):
            self._proc.wait()
            tail = self._stderr_tail()
            self.abort()
            raise VideoError(f"{self.path}: encoder stopped unexpectedly ({tail})") from None
        self.frames_written += 1

    def close(self) -> None:
        """Finish encoding and move the file into place; raises VideoError if FFmpeg failed."""
        if self._proc is None:
            return
        try:
            self._proc.stdin.close()
        except OSError:
            pass
        rc = self._proc.wait()
        tail = self._stderr_tail()
        if rc != 0 or self.frames_written == 0:
            self.abort()
            why = "no frames were written" if self.frames_written == 0 else f"ffmpeg exit code {rc}: {tail}"
            raise VideoError(f"{self.path}: encoding failed ({why})")
        os.replace(self._tmp, self.path)
        self._finish()

    def abort(self) -> None:
        """Stop the encoder and delete the temporary file; `path` is left untouched."""
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            try:
                self._proc.stdin.close()
            except OSError:
                pass
            self._proc.wait()
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
        self._finish()

    # -- helpers
    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        text = self._stderr.read().decode("utf-8", "replace").strip()
        return " | ".join(text.splitlines()[-3:]) or "no message"

    def _finish(self) -> None:
        self._proc = None
        self._tmp = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
