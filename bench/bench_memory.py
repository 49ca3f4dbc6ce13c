"""Peak resident memory of `vp3d-infer` on a long 720p video (run by hand; prints a table).

    python bench/bench_memory.py                 # 10 minutes of 720p, rendered video + JSON + NPZ
    python bench/bench_memory.py --minutes 0.5 --no-render

The long video is the shared taiji clip (1280x720, 23.976 fps) looped with `ffmpeg -stream_loop` and
stream-copied (no re-encoding, so making it takes seconds). The command runs as a user runs it, and its
memory is polled from /proc every 0.1 s:

  python peak     VmHWM of the vp3d-infer process (the kernel's own high-water mark: exact)
  tree peak       largest sampled sum of VmRSS over the process and its children (the x264 encoder, the
                  ffmpeg probes); sampled, so a short spike can be missed
  max child       ru_maxrss of the largest child process (kernel figure, from wait4)

Target (issue 4): a 10-minute video stays under 1.5 GB resident.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vp3d.video import ffmpeg_exe

SHARED_VIDEOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "videos"
TARGET_MB = 1500


def make_long_video(src: Path, minutes: float, dst: Path) -> None:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-stream_loop", "-1", "-i", str(src), "-t", f"{minutes * 60:.3f}",
                    "-map", "0:v:0", "-c", "copy", str(dst)], check=True)


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            for t in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (t / "children").read_text().split()]
        except OSError:
            pass
    return pids


def measure(cmd: list[str]) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    hwm = tree_peak = 0
    while proc.poll() is None:
        hwm = max(hwm, _status_kb(proc.pid, "VmHWM"))
        tree_peak = max(tree_peak, sum(_status_kb(p, "VmRSS") for p in _tree(proc.pid)))
        time.sleep(0.1)
    wall = time.perf_counter() - t0
    err = proc.stderr.read()
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{err}")
    max_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux; includes ffmpeg above
    return {"wall": wall, "python_mb": hwm / 1024, "tree_mb": tree_peak / 1024, "max_child_mb": max_child / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the looped video (default: 10)")
    ap.add_argument("--no-render", action="store_true", help="only JSON + NPZ (no side-by-side video)")
    ap.add_argument("--source", type=Path, default=SHARED_VIDEOS / "taiji.mp4", help="clip to loop (720p)")
    args = ap.parse_args()
    if not args.source.exists():
        sys.exit(f"{args.source}: not found")
    with tempfile.TemporaryDirectory(prefix="vp3d-bench-mem-") as tmp:
        tmp = Path(tmp)
        video = tmp / "long.mp4"
        make_long_video(args.source, args.minutes, video)
        from vp3d.video import probe
        info = probe(video)
        cmd = [str(Path(sys.executable).parent / "vp3d-infer"), str(video), "--json", str(tmp / "r.json"),
               "--npz", str(tmp / "r.npz"), "--quiet"]
        cmd += ["--no-render"] if args.no_render else ["--out", str(tmp / "r.mp4")]
        m = measure(cmd)
        import numpy as np
        frames = int(np.load(tmp / "r.npz")["joints3d"].shape[0])
    mode = "json+npz" if args.no_render else "video+json+npz"
    print(f"| video | outputs | frames | wall s | frames/s | python peak MB | tree peak MB | max child MB | < {TARGET_MB} MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    ok = "yes" if max(m["python_mb"], m["tree_mb"]) < TARGET_MB else "NO"
    print(f"| {args.minutes:g} min {info.width}x{info.height} @ {info.fps:.3f} | {mode} | {frames} | {m['wall']:.1f} | "
          f"{frames / m['wall']:.1f} | {m['python_mb']:.0f} | {m['tree_mb']:.0f} | {m['max_child_mb']:.0f} | {ok} |")


if __name__ == "__main__":
    main()
