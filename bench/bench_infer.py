"""Whole-pipeline speed on the shared 720p videos (run by hand): python bench/bench_infer.py [--frames 300]

Each video is cut (or looped, if shorter) to exactly --frames frames, re-encoded once so all rows read
the same file. Per video, frames/s of each stage measured in one run, and the ratio of the whole command
to the floor:
  mediapipe alone   the bare mp.solutions.pose loop over the same frames (decode + detect, no vp3d code)
  ... as a command  the same loop as its own process (python start and the mediapipe import included):
                    the floor for the whole command, which pays those too
  decode            vp3d.video.iter_frames
  detect            vp3d's detect_video (decode thread + MediaPipe + layout)
  lift              the shipped lifter over the clip's 2D (with flip augmentation)
  render+encode     render_figures (decode thread + drawing + H.264), the old and the current x264 preset
  two passes        detect, lift, then render, one after the other, models loaded (in this process)
  overlapped        the same with the render running while MediaPipe detects (vp3d.pipeline.overlap),
                    as vp3d-infer does it
  whole command     `vp3d-infer clip --out ... --json ... --quiet` as a user runs it (process start included)
The floors and the whole command are the best of 3 runs each.
and, in seconds, the whole command's fixed cost: the same command on the clip's first frame only (process
start, imports, model loading, the first frame, writing the outputs).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

from vp3d.detectors.keypoints import fill_missing, to_layout
from vp3d.detectors.mediapipe_pose import MediaPipePoseDetector
from vp3d.pipeline.detect import detect_keypoints
from vp3d.pipeline.infer import InferenceOptions, lift_keypoints, result_from_keypoints
from vp3d.lifter.weights import default_checkpoint
from vp3d.lifter.inference import Lifter
from vp3d.pipeline.job import Outputs, process_video
from vp3d.render.video import Figure, render_figures
from vp3d.video import DEFAULT_PRESET, ffmpeg_exe, iter_frames, probe

SHARED_VIDEOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "videos"


def clock(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def best_of(runs: int, fn):
    """(seconds, result) of the fastest of `runs` calls: the floor and the whole command vary by up to
    15% from run to run on this shared 2-core machine, and their ratio is what the target is about."""
    return min((clock(fn) for _ in range(runs)), key=lambda r: r[0])


def mediapipe_alone(path: Path) -> int:
    import mediapipe as mp
    cap = cv2.VideoCapture(str(path))
    n = 0
    with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1) as pose:
        while True:
            ok, frame = cap.read()
            if not ok:
                return n
            pose.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            n += 1


def bench(video: Path, frames: int, tmp: Path) -> list[tuple[str, float]]:
    clip = tmp / f"{video.stem}.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-stream_loop", "-1", "-i", str(video), "-frames:v", str(frames),
                    "-an", "-c:v", "libx264", "-crf", "12", "-preset", "fast", str(clip)], check=True)
    rows = []
    sec, n = best_of(3, lambda: mediapipe_alone(clip))
    rows.append(("mediapipe alone (floor)", n / sec))
    loop = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import bench_infer as b; " \
           f"from pathlib import Path; b.mediapipe_alone(Path({str(clip)!r}))"
    sec, _ = best_of(3, lambda: subprocess.run([sys.executable, "-c", loop], check=True, capture_output=True))
    rows.append(("mediapipe alone, as a command", n / sec))
    sec, n = clock(lambda: sum(1 for _ in iter_frames(clip)))
    rows.append(("decode", n / sec))
    with MediaPipePoseDetector() as det:
        sec, raw = clock(lambda: detect_keypoints(clip, det))
    rows.append(("detect", n / sec))
    lifter = Lifter.load(default_checkpoint())
    kp = to_layout(fill_missing(raw), lifter.meta.input_layout)
    info = probe(clip)
    sec, lifted = clock(lambda: lift_keypoints(lifter, kp, info.fps))
    rows.append(("lift (243 frames, flip)", n / sec))
    for preset in ("veryfast", DEFAULT_PRESET):
        sec, _ = clock(lambda: render_figures(clip, tmp / "render.mp4", preset=preset, figures=[
            Figure(kp.xy, kp.score, kp.detected, kp.layout, lifted.poses)]))
        rows.append((f"render+encode, x264 {preset}", n / sec))
    options = InferenceOptions()
    with MediaPipePoseDetector() as det:
        def two_passes():
            result = result_from_keypoints(detect_keypoints(clip, det), info, lifter, None, det.name, options)
            k = result.keypoints
            render_figures(clip, tmp / "two_pass.mp4",
                           figures=[Figure(k.xy, k.score, k.detected, k.layout, result.poses3d, result.trajectory)])
        sec, _ = clock(two_passes)
        rows.append(("detect+lift+render, 2 passes", n / sec))
        for preset in (DEFAULT_PRESET, "veryfast"):
            det.reset()
            sec, _ = clock(lambda: process_video(clip, Outputs(video=tmp / "overlap.mp4", preset=preset), options,
                                                 lifter=lifter, detector=det))
            rows.append((f"overlapped, x264 {preset}", n / sec))
    cmd = [str(Path(sys.executable).parent / "vp3d-infer"), str(clip), "--out", str(tmp / "whole.mp4"),
           "--json", str(tmp / "whole.json"), "--quiet"]
    sec, _ = best_of(3, lambda: subprocess.run(cmd, check=True))
    rows.append(("whole command", n / sec))
    first = tmp / f"{video.stem}_1.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(clip), "-frames:v", "1", "-c:v", "libx264",
                    "-crf", "12", str(first)], check=True)
    fixed, _ = best_of(3, lambda: subprocess.run([cmd[0], str(first), *cmd[2:]], check=True))
    return rows, fixed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("videos", nargs="*", type=Path,
                    default=[SHARED_VIDEOS / "taiji.mp4", SHARED_VIDEOS / "figure_skating.mp4"])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for video in args.videos:
            rows, fixed = bench(video, args.frames, Path(tmp))
            floor = rows[0][1]
            print(f"\n{video.name}, {args.frames} frames (looped if shorter), 720p, {cv2.getNumThreads()} OpenCV threads")
            print(f"{'stage':34s} {'frames/s':>9s} {'x mediapipe alone':>18s}")
            for name, fps in rows:
                print(f"{name:34s} {fps:9.1f} {fps / floor:18.2f}")
            print(f"whole command's fixed cost (a 1-frame clip, best of 3): {fixed:.2f} s")


if __name__ == "__main__":
    main()
