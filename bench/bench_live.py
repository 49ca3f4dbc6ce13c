"""`vp3d live` against its targets (run by hand; prints a table):

    .venv/bin/python bench/bench_live.py [--seconds 30] [--fps 25] [--detectors mediapipe mediapipe-lite] [VIDEO ...]

Each video (default: the shared 720p clips) is looped and cut to --seconds at its own frame rate, then played
as a camera would deliver it: `vp3d live CLIP --realtime --stats -o /dev/null --detector D` (a new process, once
per detector, one after the other; the shipped causal lifter). From its --stats line: frames received / processed / dropped, the detector's and the
lifter's time per frame and the frame-to-3D latency (p50 / p95 ms). Targets (issue 15): under 1% dropped at
25 frames/s input and a median latency under 40 ms. The last column, the median latency less the detector's
median, is what vp3d adds to MediaPipe.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from vp3d.video import ffmpeg_exe, probe

SHARED_VIDEOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "videos"
VP3D = Path(sys.executable).parent / "vp3d"
STATS = re.compile(r"frames: (\d+) received, (\d+) processed, (\d+) dropped; ms \(mean / p50 / p95\): "
                   r"detector ([\d.]+) / ([\d.]+) / ([\d.]+), lifter ([\d.]+) / ([\d.]+) / ([\d.]+), "
                   r"frame to 3D ([\d.]+) / ([\d.]+) / ([\d.]+)")


def cut(src: Path, dst: Path, seconds: float, fps: float | None) -> Path:
    """Loop `src` and cut it to `seconds`; fps: every frame re-timed to this rate (no frame dropped or repeated:
    the motion plays a little faster or slower), as a camera running at it would deliver them."""
    retime = ["-vf", f"setpts=N/({fps}*TB)", "-r", f"{fps}"] if fps else []
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-stream_loop", "-1", "-i", str(src), *retime,
                    "-t", f"{seconds}", "-an", "-c:v", "libx264", "-preset", "fast", str(dst)], check=True)
    return dst


def live(clip: Path, detector: str) -> dict:
    out = subprocess.run([str(VP3D), "live", str(clip), "--realtime", "--stats", "-o", "/dev/null", "--detector",
                          detector],
                         capture_output=True, text=True, check=True)
    m = STATS.search(out.stderr)
    if m is None:
        raise RuntimeError(f"no --stats line in: {out.stderr[-500:]}")
    v = [float(x) for x in m.groups()]
    return {"received": int(v[0]), "processed": int(v[1]), "dropped": int(v[2]), "detector_p50": v[4],
            "lifter_p50": v[7], "latency_p50": v[10], "latency_p95": v[11]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("videos", nargs="*", type=Path)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--detectors", nargs="+", default=["mediapipe", "mediapipe-lite"])
    ap.add_argument("--fps", type=float, default=None, help="play every clip at this rate (default: its own)")
    args = ap.parse_args()
    videos = args.videos or sorted(SHARED_VIDEOS.glob("*.mp4"))
    print("| video | detector | fps | received | processed | dropped | detector p50 ms | lifter p50 ms | "
          "frame to 3D p50 / p95 ms | p50 less the detector's |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="vp3d-bench-live-") as tmp:
        for video in videos:
            clip = cut(video, Path(tmp) / video.name, args.seconds, args.fps)
            for detector in args.detectors:
                r = live(clip, detector)
                print(f"| {video.stem} | {detector} | {probe(clip).fps:.2f} | {r['received']} | {r['processed']} | "
                      f"{r['dropped']} ({100 * r['dropped'] / max(1, r['received']):.1f}%) | "
                      f"{r['detector_p50']:.1f} | {r['lifter_p50']:.1f} | {r['latency_p50']:.1f} / "
                      f"{r['latency_p95']:.1f} | {r['latency_p50'] - r['detector_p50']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
