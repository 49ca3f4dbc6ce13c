"""Benchmark the side-by-side render (run by hand): .venv/bin/python bench/bench_render.py [--frames 300]

For each shared 720p video, on its first N frames (cut once, re-encoded at high quality, so every stage
reads the same file), prints frames/s of:
  decode only            iter_frames (OpenCV/FFmpeg decoding, upright BGR frames)
  draw only              2D overlay + 3D panel + canvas copy, on one decoded frame reused (no I/O)
  render+encode          the whole render_figures (decode thread + draw + H.264 encode), what users wait for
  ffmpeg decode->encode  plain FFmpeg transcode of the same frames, same x264 settings (input size)
  ffmpeg ... padded      the same, padded to the render's output size (same pixels encoded as render+encode)
and the ratio of render+encode to each baseline. The 2D/3D poses are synthetic: the detector and lifter
are not part of this measurement.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from vp3d.render.draw import Pose3DPanel, _output_size, draw_skeleton_2d
from vp3d.render.video import Figure, render_figures
from vp3d.video import ffmpeg_exe, iter_frames, probe
from vp3d.skeleton import H36M

SHARED_VIDEOS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "videos"


def synthetic_inputs(t: int, width: int, height: int):
    """Standing Human3.6M pose waving an arm (metres, camera frame) and its pinhole projection (pixels)."""
    p = np.zeros((17, 3))
    p[1:4] = [(-0.12, 0, 0), (-0.12, 0.45, 0), (-0.12, 0.9, 0)]
    p[4:7] = [(0.12, 0, 0), (0.12, 0.45, 0), (0.12, 0.9, 0)]
    p[7:11] = [(0, -0.25, 0), (0, -0.5, 0), (0, -0.62, -0.05), (0, -0.75, 0)]
    p[11:14] = [(0.18, -0.48, 0), (0.22, -0.2, 0), (0.24, 0.05, 0)]
    p[14:17] = [(-0.18, -0.48, 0), (-0.22, -0.2, 0), (-0.24, 0.05, 0)]
    poses = np.repeat(p[None], t, axis=0)
    poses[:, 13, 1] -= 0.4 * (1 - np.cos(np.linspace(0, 6 * np.pi, t)))
    cam = poses + [0.0, 0.0, 4.0]
    f = 0.9 * width
    xy = np.stack([width / 2 + f * cam[..., 0] / cam[..., 2], height / 2 + f * cam[..., 1] / cam[..., 2]], -1)
    score = np.ones((t, 17))
    score[:, 13] = 0.2  # one low-confidence joint, so that drawing path is exercised too
    detected = np.ones(t, bool)
    detected[::10] = False
    return xy, score, detected, poses


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def bench_video(src: Path, frames: int, workdir: Path, preset: str, crf: int) -> list[tuple[str, int, float]]:
    clip = workdir / f"{src.stem}_first{frames}.mp4"
    ffmpeg("-i", str(src), "-frames:v", str(frames), "-an", "-c:v", "libx264", "-preset", "veryfast",
           "-crf", "16", "-pix_fmt", "yuv420p", str(clip))
    info = probe(clip)
    n = sum(1 for _ in iter_frames(clip))  # also warms the page cache for the timings below
    xy, score, detected, poses = synthetic_inputs(n, info.width, info.height)
    left_w, left_h = _output_size(info.width, info.height, 1080)
    rows = []

    rows.append(("decode only", n, timed(lambda: sum(1 for _ in iter_frames(clip)))))

    frame = next(iter_frames(clip))
    canvas = np.empty((left_h, left_w + left_h, 3), np.uint8)
    left, right = canvas[:, :left_w], canvas[:, left_w:]

    def draw_all():
        panel = Pose3DPanel(poses[None], left_h)  # set-up cost included: it is part of every render
        for t in range(n):
            left[:] = frame[:left_h, :left_w]
            draw_skeleton_2d(left, xy[t], score[t], H36M, interpolated=not detected[t], thickness=max(2, round(left_h / 300)))
            panel.draw(right, poses[t][None])

    rows.append(("draw only", n, timed(draw_all)))
    out = workdir / "render.mp4"
    rows.append(("render+encode", n, timed(lambda: render_figures(clip, out, [Figure(xy, score, detected, H36M.name, poses)],
                                                                   crf=crf, preset=preset))))
    enc = ["-an", "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p"]
    rows.append(("ffmpeg decode->encode", n, timed(lambda: ffmpeg("-i", str(clip), *enc, str(workdir / "base.mp4")))))
    pad = f"pad={canvas.shape[1]}:{canvas.shape[0]}:0:0"
    rows.append(("ffmpeg ... padded", n, timed(lambda: ffmpeg("-i", str(clip), "-vf", pad, *enc,
                                                             str(workdir / "base_padded.mp4")))))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=300, help="first N frames of each video (default 300)")
    ap.add_argument("--videos", nargs="*", type=Path,
                    default=[SHARED_VIDEOS / "taiji.mp4", SHARED_VIDEOS / "figure_skating.mp4"])
    ap.add_argument("--preset", default="veryfast", help="x264 preset for render and baselines")
    ap.add_argument("--crf", type=int, default=23)
    args = ap.parse_args()
    missing = [str(v) for v in args.videos if not v.is_file()]
    if missing:
        print(f"missing videos: {', '.join(missing)}", file=sys.stderr)
        return 2
    print(f"cpus available: {len(os.sched_getaffinity(0))}, x264 preset {args.preset}, crf {args.crf}")
    with tempfile.TemporaryDirectory(prefix="vp3d-bench-") as tmp:
        for video in args.videos:
            rows = bench_video(video, args.frames, Path(tmp), args.preset, args.crf)
            info = probe(video)
            out_w, out_h = _output_size(info.width, info.height, 1080)
            print(f"\n{video.name} ({info.width}x{info.height}, first {rows[0][1]} frames; "
                  f"render output {out_w + out_h}x{out_h})")
            print(f"{'stage':<24}{'frames':>7}{'seconds':>9}{'frames/s':>10}")
            fps = {}
            for name, n, sec in rows:
                fps[name] = n / sec
                print(f"{name:<24}{n:>7}{sec:>9.2f}{fps[name]:>10.1f}")
            r = fps["render+encode"]
            print(f"render+encode / ffmpeg decode->encode: {r / fps['ffmpeg decode->encode']:.2f}x; "
                  f"/ padded to the same size: {r / fps['ffmpeg ... padded']:.2f}x; "
                  f"/ decode only: {r / fps['decode only']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
