"""The whole command against MediaPipe alone as a command, on the shared clips as they are (run by hand):

    python bench/bench_whole_command.py [--rounds 4] [--baseline TREE] [VIDEO ...]

Per clip and round, one after the other (rounds interleave, so the machine's drift spreads over all rows):
  mediapipe as a command   a fresh Python that imports MediaPipe and runs its pose loop over the decoded clip
                           (bench_infer.mediapipe_alone): the floor of any command that detects every frame
  vp3d-infer               `vp3d-infer CLIP --out OUT.mp4 --json OUT.json --quiet` from this tree
  baseline                 the same command from another checkout (--baseline, e.g. a `git worktree` of the
                           commit before a change), run with PYTHONPATH pointing at it
Prints each one's median wall seconds and the ratio MediaPipe / command (issue 13's target: at least 0.95),
and the ratio to MediaPipe's loop alone inside its command ("in-process": no Python start, no import).
Unlike bench_infer.py, the clips are not re-encoded: a container's quirks (figure_skating.mp4's edit list)
cost what they cost a user. --seconds N loops each clip to N seconds first (re-encoded once, as bench_infer
does; issue 13's second target is 0.8 of MediaPipe in-process on 50-second clips).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vp3d.video import ffmpeg_exe

SHARED_VIDEOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "videos"
INFER = [sys.executable, "-c", "import sys; from vp3d.cli import infer_command; sys.argv[0] = 'vp3d-infer'; "
                               "sys.exit(infer_command())"]


def seconds(cmd: list[str], env: dict | None, cwd: str) -> tuple[float, str]:
    """(wall seconds, stdout) of the command, run in `cwd` (not in a checkout: `python -c` puts the working
    folder first on sys.path, before PYTHONPATH)."""
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=cwd, text=True).stdout
    return time.perf_counter() - t0, out


def looped(video: Path, seconds_long: float, folder: str) -> Path:
    out = Path(folder) / f"{video.stem}_{seconds_long:g}s.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-stream_loop", "-1", "-i", str(video), "-t", str(seconds_long),
                    "-an", "-c:v", "libx264", "-crf", "12", "-preset", "fast", str(out)], check=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--baseline", type=Path, help="another checkout of vp3d to compare with")
    ap.add_argument("--seconds", type=float, help="loop each clip to this length first")
    ap.add_argument("videos", nargs="*", type=Path,
                    default=[SHARED_VIDEOS / "taiji.mp4", SHARED_VIDEOS / "figure_skating.mp4"])
    args = ap.parse_args()
    here = Path(__file__).resolve().parent
    runs: dict[tuple[str, str], list[float]] = {}
    loops: dict[str, list[float]] = {}  # MediaPipe's loop alone, inside its command
    with tempfile.TemporaryDirectory() as tmp:
        videos = [looped(v, args.seconds, tmp) for v in args.videos] if args.seconds else args.videos
        out = ["--out", f"{tmp}/r.mp4", "--json", f"{tmp}/r.json", "--quiet"]
        commands = {
            "mediapipe as a command": ([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(here)!r}); "
                                        "import bench_infer as b, time; from pathlib import Path; "
                                        "t = time.perf_counter(); b.mediapipe_alone(Path(sys.argv[1])); "
                                        "print(time.perf_counter() - t)"], None, False),
            "vp3d-infer": (INFER, None, True),
        }
        if args.baseline:
            env = dict(os.environ, PYTHONPATH=str(args.baseline.resolve()))
            commands[f"baseline ({args.baseline.name})"] = (INFER, env, True)
        for r in range(args.rounds):
            for video in videos:
                for name, (cmd, env, with_outputs) in commands.items():
                    took, said = seconds([*cmd, str(video.resolve()), *(out if with_outputs else [])], env, tmp)
                    runs.setdefault((video.name, name), []).append(took)
                    if not with_outputs:
                        loops.setdefault(video.name, []).append(float(said.split()[-1]))
            print(f"round {r + 1} of {args.rounds} done", file=sys.stderr)
    print(f"\n{'clip':24s} {'command':28s} {'median s':>9s} {'runs':>30s} {'MediaPipe / it':>15s} "
          f"{'in-process / it':>16s}")
    for video in videos:
        floor = statistics.median(runs[(video.name, "mediapipe as a command")])
        loop = statistics.median(loops[video.name])
        for name in commands:
            times = runs[(video.name, name)]
            med = statistics.median(times)
            print(f"{video.name:24s} {name:28s} {med:9.2f} {' '.join(f'{t:.2f}' for t in times):>30s} "
                  f"{floor / med:15.2f} {loop / med:16.2f}")


if __name__ == "__main__":
    main()
