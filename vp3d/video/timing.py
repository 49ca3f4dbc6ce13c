"""When each frame of a video is shown: presentation timestamps, for videos whose frame rate varies.

Phones and screen recorders write a variable frame rate; lifting such a clip as if its frames were evenly
spaced at the average rate gets the motion's timing wrong wherever the rate changes. The timestamps are
read by demuxing the video stream without decoding it (FFmpeg's framemd5 muxer on a stream copy: one line
per packet), and only for streams whose average rate and base rate ("fps" and "tbr" in FFmpeg's stream
line) disagree, the sign of a variable rate, so constant-rate videos pay nothing.
"""

from __future__ import annotations

import os
import re
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np

# Frame intervals that differ by more than this fraction of the median one make a rate variable (constant-rate
# files have timestamps rounded to their time base: a few per mille at most).
VARIABLE_SPREAD = 0.02


def rates_disagree(stream_description: str) -> bool:
    """True when FFmpeg's stream line gives an average rate ("18.40 fps") and a base rate ("23.98 tbr") that
    differ by more than 1%."""
    fps = re.search(r"([\d.]+)k? fps", stream_description)
    tbr = re.search(r"([\d.]+)k? tbr", stream_description)
    if not fps or not tbr:
        return False
    a, b = float(fps.group(1)), float(tbr.group(1))
    return a > 0 and b > 0 and abs(a - b) / b > 0.01


def frame_times(path: str | os.PathLike, ffmpeg: str) -> np.ndarray | None:
    """(N,) float64 presentation times in seconds of the video stream's frames, the first at 0, in display
    order; None when they cannot be read. ffmpeg: the FFmpeg binary (probe.ffmpeg_exe())."""
    cmd = [ffmpeg, "-v", "error", "-i", str(Path(path)), "-map", "0:v:0", "-c", "copy", "-f", "framemd5", "-"]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=600).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    base = re.search(r"^#tb 0: (\d+)/(\d+)", out, re.M)
    if not base:
        return None
    tb = Fraction(int(base.group(1)), int(base.group(2)))
    pts = []
    for line in out.splitlines():
        if line and not line.startswith("#"):
            fields = [f.strip() for f in line.split(",")]
            if len(fields) >= 3 and fields[2].lstrip("-").isdigit():
                pts.append(int(fields[2]))
    if len(pts) < 2:
        return None
    times = np.sort(np.asarray(pts, dtype=np.float64)) * float(tb)
    return times - times[0]


def is_variable(times: np.ndarray) -> bool:
    """Whether the intervals between consecutive frames differ by more than VARIABLE_SPREAD of the median."""
    steps = np.diff(times)
    if len(steps) < 2 or np.median(steps) <= 0:
        return False
    return bool((steps.max() - steps.min()) > VARIABLE_SPREAD * np.median(steps))
