"""Golden outputs: the exact bytes vp3d writes for the shared clips, to prove that a refactoring changed nothing.

    .venv/bin/python bench/golden_outputs.py record   # before: writes bench/golden_outputs.json
    .venv/bin/python bench/golden_outputs.py check    # after: same commands, compares, prints a table, exit 1 on a change
    .venv/bin/python bench/golden_outputs.py check --work DIR   # in DIR/<case> (default: a new temporary folder)

Every case runs the installed command line (vp3d-infer / vp3d batch) in its own folder of the work folder (the
paths inside the files are relative to it, so they stay the same wherever it is) and hashes what it wrote: JSON,
NPZ, CSV, BVH by their bytes; rendered videos (x264 --crf 0, lossless) by the MD5 of every decoded frame (ffmpeg
framemd5), so they must be pixel-identical. The cases cover each way through the package: MediaPipe with the
video drawn during detection, the video drawn after detection (--rigid-bones), joints only, precomputed 2D
(file:), several tracked people (a COCO results file with a second, shifted person), and batch mode. Hashes hold
on one machine and one install (MediaPipe and torch on this CPU); record and check on the same one. Needs
../shared/data/videos.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VIDEOS = ROOT.parent / "shared" / "data" / "videos"
BIN = Path(sys.executable).parent
GOLDEN = Path(__file__).with_name("golden_outputs.json")
ALL = ["--json", "r.json", "--npz", "r.npz", "--csv", "r.csv", "--bvh", "r.bvh"]

CASES = {
    "taiji_default_live_render": ["vp3d-infer", "taiji.mp4", "--out", "r.mp4", "--crf", "0", *ALL, "--npz-2d", "r2d.npz"],
    "skating_rigid_world_z": ["vp3d-infer", "figure_skating.mp4", "--out", "r.mp4", "--crf", "0", "--rigid-bones",
                              "--world", "--up", "z", *ALL],
    "taiji_joints_only_noflip_fov": ["vp3d-infer", "taiji.mp4", "--no-render", "--no-flip", "--fov", "70",
                                     "--json", "r.json", "--npz", "r.npz", "--angles", "r_angles.csv"],
    "taiji_precomputed_2d": ["vp3d-infer", "taiji.mp4", "--detector", "file:../taiji_default_live_render/r2d.npz",
                             "--out", "r.mp4", "--crf", "0", "--json", "r.json", "--npz", "r.npz"],
    "taiji_two_people_coco": ["vp3d-infer", "taiji.mp4", "--detector", "file:two_people.json", "--people", "all",
                              "--out", "r.mp4", "--crf", "0", "--json", "r.json", "--npz", "r.npz"],
    "taiji_largest_of_two_coco": ["vp3d-infer", "taiji.mp4", "--detector", "file:two_people.json", "--people",
                                  "largest", "--no-render", *ALL],
    "batch_two_clips": ["vp3d", "batch", "clips", "--out", "out", "-j", "1", "--crf", "0",
                        "--formats", "video,json,npz,csv,bvh", "--quiet"],
}


def two_people_coco(video: Path, out: Path) -> None:
    """COCO keypoint results with two people per frame: MediaPipe's person and a copy 45% of the width to the
    side (scored lower), so that tracking, per-person lifting, exports and drawing of several people run."""
    import cv2
    import mediapipe as mp
    coco = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)  # BlazePose -> COCO-17
    results = []
    cap = cv2.VideoCapture(str(video))
    with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1) as pose:
        frame_id = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            h, w = frame.shape[:2]
            found = pose.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)).pose_landmarks
            if found:
                lm = [found.landmark[i] for i in coco]
                for shift, score in ((0.0, 0.95), (0.45 * w, 0.8)):
                    kp = []
                    for p in lm:
                        kp += [round(p.x * w + shift, 2), round(p.y * h, 2), round(max(p.visibility, 0.0), 3)]
                    results.append({"image_id": frame_id, "category_id": 1, "keypoints": kp, "score": score})
            frame_id += 1
    cap.release()
    out.write_text(json.dumps(results))


def video_digest(path: Path) -> str:
    ffmpeg = __import__("imageio_ffmpeg").get_ffmpeg_exe()
    md5 = subprocess.run([ffmpeg, "-v", "error", "-i", str(path), "-map", "0:v", "-f", "framemd5", "-"],
                         check=True, capture_output=True, text=True).stdout
    frames = [line for line in md5.splitlines() if line and not line.startswith("#")]
    return f"{len(frames)} frames " + hashlib.sha256("\n".join(frames).encode()).hexdigest()[:16]


def digest(path: Path) -> str:
    if path.suffix in (".mp4", ".m4v", ".mov", ".mkv"):
        return video_digest(path)
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def run_all(work: Path) -> dict:
    """Run every case in its sub-folder of `work` (replaced if there) and hash what each wrote."""
    results = {}
    for name, argv in CASES.items():
        case = work / name
        shutil.rmtree(case, ignore_errors=True)  # only the case folders: --work may name a folder with other files
        case.mkdir(parents=True)
        for clip in ("taiji.mp4", "figure_skating.mp4"):
            (case / clip).symlink_to(VIDEOS / clip)
        if name.startswith("batch"):
            (case / "clips").mkdir()
            for clip in ("taiji.mp4", "figure_skating.mp4"):
                (case / "clips" / clip).symlink_to(VIDEOS / clip)
        if "_coco" in name:
            two_people_coco(VIDEOS / "taiji.mp4", case / "two_people.json")
        before = set(case.rglob("*"))
        proc = subprocess.run([str(BIN / argv[0]), *argv[1:], *([] if "--quiet" in argv else ["--quiet"])],
                              cwd=case, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"{name}: exit {proc.returncode}: {proc.stderr.strip()[-500:]}")
        written = sorted(p for p in set(case.rglob("*")) - before if p.is_file() and not p.name.startswith(".")
                         and p.name != "summary.json")  # bookkeeping: timings, mtimes
        results[name] = {str(p.relative_to(case)): digest(p) for p in written}
        print(f"{name}: {len(written)} files", file=sys.stderr)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description="Record or check the golden outputs.")
    parser.add_argument("mode", nargs="?", choices=["record", "check"], default="check")
    parser.add_argument("--work", type=Path, help="folder to run the cases in, one sub-folder each (replaced if there; "
                                                   "default: a new temporary folder, so runs never share one)")
    args = parser.parse_args()
    mode = args.mode
    work = args.work or Path(tempfile.mkdtemp(prefix="vp3d-golden-"))
    print(f"work folder: {work}", file=sys.stderr)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    results = run_all(work)
    if mode == "record":
        GOLDEN.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
        print(f"recorded {sum(map(len, results.values()))} files in {GOLDEN}")
        return 0
    golden = json.loads(GOLDEN.read_text())
    changed = 0
    print(f"{'case':32s} {'file':28s} result")
    for name in sorted(set(golden) | set(results)):
        files = sorted(set(golden.get(name, {})) | set(results.get(name, {})))
        for f in files:
            want, got = golden.get(name, {}).get(f), results.get(name, {}).get(f)
            verdict = "same" if want == got else ("missing" if got is None else "new" if want is None else "CHANGED")
            changed += verdict != "same"
            print(f"{name:32s} {f:28s} {verdict}")
    print(f"{changed} difference(s)")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
