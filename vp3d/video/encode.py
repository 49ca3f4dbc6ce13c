"""Encode BGR frames to H.264 with the FFmpeg binary shipped by imageio-ffmpeg."""

from __future__ import annotations

import os
import secrets
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from .probe import VideoError, ffmpeg_exe, fps_to_fraction


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
    - threads: the encoder's threads; None: x264's choice from the CPUs it may use when it starts (one, when
      started on a core of the render's own while detection runs: vp3d.cores).
    """

    def __init__(self, path: str | os.PathLike, width: int, height: int, fps: float | Fraction, *,
                 crf: int = DEFAULT_CRF, preset: str = DEFAULT_PRESET, audio_from: str | os.PathLike | None = None,
                 threads: int | None = None):
        self.path = Path(path)
        self.threads = threads
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
            *(["-threads", str(self.threads)] if self.threads else []),
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
