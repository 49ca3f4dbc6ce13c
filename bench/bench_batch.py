"""Batch throughput: `vp3d batch -j 2` against `-j 1` on the same folder (run by hand; prints a table).

    python bench/bench_batch.py                          # 6 clips of 10 s at 720p from the shared videos
    python bench/bench_batch.py --videos 2 --seconds 2 --height 240     # a quick check that it works
    python bench/bench_batch.py --ray [--no-single]      # also `--ray -j 2` (a local Ray instance started
                                                         # by the command): Ray's overhead vs the local pool

The folder is cut from the shared videos (taiji and figure_skating, alternately, from different start
times), re-encoded once. Each run writes to a fresh output folder with the default formats (rendered video,
JSON, NPZ) unless --formats says otherwise, and is timed as a whole command (process start, worker start,
model loading included). The ratio is the -j 2 throughput over the -j 1 throughput: on N free cores the
ideal is min(2, N / threads per video); MediaPipe and x264 each use a few threads, which is why the
default -j is half the cores.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vp3d.video import ffmpeg_exe

SHARED_VIDEOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "videos"


def make_folder(folder: Path, videos: int, seconds: float, height: int) -> None:
    sources = [SHARED_VIDEOS / "taiji.mp4", SHARED_VIDEOS / "figure_skating.mp4"]
    for i in range(videos):
        src = sources[i % 2]
        start = (i // 2) * 1.5 % 5  # different pieces of the same clip
        subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-ss", f"{start}", "-stream_loop", "-1", "-i", str(src),
                        "-t", f"{seconds}", "-vf", f"scale=-2:{height}", "-an", "-c:v", "libx264", "-preset", "fast",
                        str(folder / f"clip{i:02d}_{src.stem}.mp4")], check=True)


def run(folder: Path, out: Path, jobs: int, formats: str, ray: bool = False) -> dict:
    cmd = [str(Path(sys.executable).parent / "vp3d"), "batch", str(folder), "--out", str(out), "-j", str(jobs),
           "--formats", formats, "--json", *(["--ray"] if ray else [])]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"batch failed ({proc.returncode}):\n{proc.stderr}")
    summary = json.loads(proc.stdout)
    return {"jobs": jobs, "scheduler": "ray" if ray else "local", "wall": wall, "videos": summary["counts"]["ok"],
            "frames": summary["frames_processed"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--videos", type=int, default=6)
    ap.add_argument("--seconds", type=float, default=10.0, help="length of each clip")
    ap.add_argument("--height", type=int, default=720, help="clip height in pixels")
    ap.add_argument("--formats", default="video,json,npz")
    ap.add_argument("--ray", action="store_true", help="also run with --ray -j 2 (Ray installed: vp3d[ray])")
    ap.add_argument("--no-single", action="store_true", help="skip the -j 1 run (with --ray: only local -j 2 vs Ray)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="vp3d-bench-batch-") as tmp:
        tmp = Path(tmp)
        folder = tmp / "in"
        folder.mkdir()
        make_folder(folder, args.videos, args.seconds, args.height)
        rows = [run(folder, tmp / f"out_j{j}", j, args.formats) for j in ((2,) if args.no_single else (1, 2))]
        if args.ray:
            rows.append(run(folder, tmp / "out_ray_j2", 2, args.formats, ray=True))
    base = rows[0]["frames"] / rows[0]["wall"]
    print(f"{args.videos} videos x {args.seconds:g} s at {args.height}p, formats {args.formats}")
    print(f"| scheduler | -j | videos | frames | wall s | videos/min | frames/s | throughput vs local -j "
          f"{rows[0]['jobs']} |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        fps = r["frames"] / r["wall"]
        print(f"| {r['scheduler']} | {r['jobs']} | {r['videos']} | {r['frames']} | {r['wall']:.1f} | "
              f"{60 * r['videos'] / r['wall']:.1f} | {fps:.1f} | {fps / base:.2f} |")
    if args.ray:
        overhead = rows[-1]["wall"] / rows[-2]["wall"] - 1
        print(f"Ray vs the local pool at -j 2: {100 * overhead:+.1f}% wall time (target: under +10%)")


if __name__ == "__main__":
    main()
