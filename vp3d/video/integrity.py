"""Whether a decoded video stream was whole: FFmpeg's own word on a stream that broke off or stopped decoding.

OpenCV's decoder (decode.py) simply stops at the first frame it cannot decode, and a truncated file just ends,
so by itself a damaged file looks like a shorter one. The rule: a stream is damaged when both

- frames are missing: the decode gave fewer frames than the stream has packets or the container claims (and,
  at a constant frame rate, than its duration holds: an edit list may hide packets), and
- FFmpeg says why: a message of level error (or worse) from the input side (demuxer, parser, decoder), or a
  warning naming corruption ("Packet corrupt", "partial file", ...).

Neither alone: a container's frame count is often loose (figure_skating.mp4 claims 207 frames and has 207
packets, but its edit list shows 185, which FFmpeg decodes without a word), and a decoder's complaint about a
picture it then conceals costs no frame (the outputs cover the whole video). After the decode, `check_stream`
demuxes the video stream with the FFmpeg binary, without decoding it (a stream copy to the null muxer: about
1% of a decode), counting its packets; only when frames are missing and that pass was silent does it decode
the stream with FFmpeg too. Not caught: an MPEG-TS file cut inside its last picture, which the decoder
conceals: all of its packets are read and the claim comes from the cut file itself, so nothing is missing.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

# Warnings that name damage; other warnings (timestamps, edit lists, ...) are common in sound files.
_DAMAGE_WORDS = re.compile(r"corrupt|partial file|truncat|ended prematurely|invalid nal|error while decoding", re.I)
# "[h264 @ 0x55..] [error] Invalid NAL unit size (3874 > 3189)." with -loglevel level+warning: contexts, level, text.
_LINE = re.compile(r"^((?:\[[^\]]*\] )*?)\[(panic|fatal|error|warning)\] (.*)$")
_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")  # the container's, edit lists applied
_OUTPUT_SIDE = re.compile(r"\[(?:out#|vost#|null @|enc:)")  # our null output's complaints are not the input's


@dataclass(frozen=True)
class DecodeWarning:
    """A damaged video stream (see the module). frames_read: frames decoded (all the outputs cover);
    frames_claimed: the container's frame count, or None; ffmpeg: FFmpeg's telling line."""
    frames_read: int
    frames_claimed: int | None
    ffmpeg: str

    def describe(self) -> str:
        """'the video stream broke off after 39 of 72 frames (ffmpeg: ...)': one clause, no file name."""
        if self.frames_claimed is not None and self.frames_read < self.frames_claimed:
            what = f"the video stream broke off after {self.frames_read} of {self.frames_claimed} frames"
        else:
            what = f"the video stream is damaged ({self.frames_read} frames read)"
        return f"{what} (ffmpeg: {self.ffmpeg})"

    def warning(self, path: str | os.PathLike) -> str:
        """The warning's one line (without the 'vp3d: warning: ' every command puts first)."""
        return (f"{path}: {self.describe()}; outputs cover the {self.frames_read} frames read "
                f"(--strict makes this an error)")

    def as_json(self) -> dict:
        return asdict(self)


def _damage(stderr: str) -> str | None:
    """FFmpeg's telling line among its messages (-loglevel level+warning), or None when none reports damage:
    the container's first error (it says what happened to the file: "partial file"), else the decoder's first
    (later ones are its consequences), else the first warning naming corruption."""
    found: list[tuple[int, str]] = []
    for line in stderr.splitlines():
        m = _LINE.match(line.strip())
        if not m or _OUTPUT_SIDE.search(m.group(1)):
            continue
        contexts, level, text = m.groups()
        is_error = level != "warning"
        if is_error or _DAMAGE_WORDS.search(text):
            rank = 0 if is_error and "[in#" in contexts else 1 if is_error else 2
            found.append((rank, text.strip().rstrip(".")))
    return min(found, key=lambda f: f[0])[1] if found else None  # min keeps the first of the best rank


def _ffmpeg_pass(ffmpeg: str, path: Path, decode: bool) -> tuple[str, int | None, float | None]:
    """(FFmpeg's messages, frames or packets it passed on, the container's duration in seconds or None) for the
    first video stream, decoded or copied. Messages of level info are kept for the duration line; _damage
    reads warnings and errors only."""
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "level+info", "-i", str(path),
           "-map", "0:v:0", *([] if decode else ["-c", "copy"]), "-f", "null", "-progress", "pipe:1", "-"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=3600)
    except (OSError, subprocess.TimeoutExpired):
        return "", None, None
    counts = re.findall(r"^frame=(\d+)$", proc.stdout, re.M)
    hms = _DURATION.search(proc.stderr)
    duration = int(hms[1]) * 3600 + int(hms[2]) * 60 + float(hms[3]) if hms else None
    return proc.stderr, int(counts[-1]) if counts else None, duration


def check_stream(path: str | os.PathLike, frames_read: int, frames_claimed: int | None,
                 ffmpeg: str | None = None, fps: float | None = None) -> DecodeWarning | None:
    """A DecodeWarning when frames of the video stream of `path` are missing and FFmpeg says why, else None
    (the module's rule). frames_read: frames the decode gave; frames_claimed: the container's count (VideoInfo's
    num_frames_hint), reported with the warning; ffmpeg: the binary (default: imageio-ffmpeg's, as
    probe.ffmpeg_exe(); not imported from there: probe imports this module); fps: the constant frame rate,
    when it is one, so that the container's duration can say how many frames play (an edit list that hides
    packets, as in figure_skating.mp4, then needs no decode pass)."""
    if ffmpeg is None:
        import imageio_ffmpeg
        ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    path = Path(path)
    messages, packets, duration = _ffmpeg_pass(ffmpeg, path, decode=False)
    there = max(packets or 0, frames_claimed or 0)
    if fps and duration:
        there = min(there, round(duration * fps))
    if frames_read >= there:
        return None  # every frame there is was read: nothing to warn about, whatever FFmpeg said
    line = _damage(messages) or _damage(_ffmpeg_pass(ffmpeg, path, decode=True)[0])
    return None if line is None else DecodeWarning(frames_read, frames_claimed, line)
