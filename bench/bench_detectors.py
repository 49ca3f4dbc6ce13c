"""2D detector speed per backend (run by hand): python bench/bench_detectors.py [options]

For each backend and each shared 720p video, on the first --frames frames:
  detect       frames/s of the backend alone on frames already decoded into memory, per batch size
               (--batch-sizes, default 1,8,32) and precision (fp32; fp16 too for keypoint-rcnn on CUDA)
  end to end   frames/s of `vp3d-infer clip --detector NAME --no-render --json ...` as a user runs it
               (process start, model loading, decode, detect, lift, JSON; --end-to-end)

Weights: mediapipe needs none. keypoint-rcnn takes --keypoint-rcnn-weights PATH, torchvision's cached
download, or --random-weights (random init: same network cost, but its boxes are random, so detections
are capped at 2 per frame to cost what a one-person video costs; no end-to-end row, nobody is "found").
rtmpose needs --rtmpose-weights DET.onnx,POSE.onnx; detectron2 needs the package and --detectron2-weights.
Backends that cannot start are listed with the reason instead of a number.

Examples:
  python bench/bench_detectors.py --frames 8 --batch-sizes 1 --random-weights            # a CPU, briefly
  python bench/bench_detectors.py --device cuda --frames 256 --random-weights --end-to-end  # a GPU
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHARED_VIDEOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "videos"


def cut(video: Path, frames: int, out: Path) -> Path:
    from vp3d.video import ffmpeg_exe
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(video), "-frames:v", str(frames), "-an",
                    "-c:v", "libx264", "-crf", "12", "-preset", "fast", str(out)], check=True)
    return out


def build(name: str, args, batch: int, half: bool):
    """(detector, note) for one configuration; raises DetectorError when it cannot start."""
    if name == "mediapipe":
        from vp3d.detectors.mediapipe_pose import MediaPipePoseDetector
        return MediaPipePoseDetector(), ""
    if name == "keypoint-rcnn":
        from vp3d.detectors.keypoint_rcnn import KeypointRCNNDetector, build_model
        if args.random_weights and args.keypoint_rcnn_weights is None:
            model = build_model(box_score_thresh=0.7)
            model.roi_heads.detections_per_img = 2
            return KeypointRCNNDetector(model, device=args.device, batch_size=batch, half=half), "random weights"
        return KeypointRCNNDetector.load(args.keypoint_rcnn_weights, device=args.device, batch_size=batch,
                                         half=half), ""
    if name == "rtmpose":
        from vp3d.detectors.rtmpose import RTMPoseDetector
        return RTMPoseDetector.load(args.rtmpose_weights, device=args.device, batch_size=batch), ""
    if name == "detectron2":
        from vp3d.detectors.detectron2_backend import Detectron2Detector
        return Detectron2Detector.load(args.detectron2_weights, device=args.device, batch_size=batch), ""
    raise SystemExit(f"unknown backend {name}")


def sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch
        torch.cuda.synchronize()


def detect_fps(det, frames: list, batch: int, device: str) -> float:
    """Frames/s over in-memory frames, after one warm-up batch (CUDA start-up, cuDNN algorithm search)."""
    det.detect_batch(frames[:batch])
    sync(device)
    t0 = time.perf_counter()
    for i in range(0, len(frames), batch):
        det.detect_batch(frames[i:i + batch])
    sync(device)
    return len(frames) / (time.perf_counter() - t0)


def end_to_end_fps(clip: Path, name: str, weights: str | None, device: str, batch: int, tmp: Path) -> str:
    out = tmp / f"{clip.stem}.{name}.json"
    cmd = [sys.executable, "-m", "vp3d.cli", "infer", str(clip), "--detector", name, "--no-render", "--json",
           str(out), "--quiet", "--device", device, "--detector-batch-size", str(batch)]
    if weights:
        cmd += ["--detector-weights", weights]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    sec = time.perf_counter() - t0
    if proc.returncode != 0:
        return "failed: " + (proc.stderr.strip().splitlines() or ["?"])[-1][:80]
    frames = len(json.loads(out.read_text())["frames"])
    return f"{frames / sec:.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", nargs="*", type=Path, default=sorted(SHARED_VIDEOS.glob("*.mp4")))
    ap.add_argument("--frames", type=int, default=64, help="frames per video (from the start)")
    ap.add_argument("--backends", default="mediapipe,keypoint-rcnn,rtmpose,detectron2")
    ap.add_argument("--batch-sizes", default="1,8,32")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--random-weights", action="store_true", help="keypoint-rcnn with random weights")
    ap.add_argument("--keypoint-rcnn-weights")
    ap.add_argument("--rtmpose-weights")
    ap.add_argument("--detectron2-weights")
    ap.add_argument("--end-to-end", action="store_true", help="also time the whole vp3d-infer command")
    args = ap.parse_args()

    from vp3d.detectors.keypoints import DetectorError
    from vp3d.video import iter_frames

    try:
        import torch
        gpu = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else f"{torch.get_num_threads()} CPU threads"
    except Exception:  # the table header only
        gpu = args.device
    print(f"device: {args.device} ({gpu}); first {args.frames} frames of each video\n")
    print("| backend | precision | batch | video | detect fps | end-to-end fps | note |")
    print("|---|---|---|---|---|---|---|")
    batches = [int(b) for b in args.batch_sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        clips = [cut(v, args.frames, Path(tmp) / v.name) for v in args.videos]
        decoded = {c: list(iter_frames(c)) for c in clips}
        for name in args.backends.split(","):
            precisions = [False, True] if name == "keypoint-rcnn" and args.device.startswith("cuda") else [False]
            for half in precisions:
                for batch in batches if name != "mediapipe" else [1]:
                    try:
                        det, note = build(name, args, batch, half)
                    except (DetectorError, ImportError) as e:
                        print(f"| {name} | | | | | | cannot start: {e} |")
                        break
                    for clip in clips:
                        fps = detect_fps(det, decoded[clip], batch, args.device)
                        e2e = ""
                        if args.end_to_end and batch == batches[-1] and not half and note != "random weights":
                            weights = {"keypoint-rcnn": args.keypoint_rcnn_weights, "rtmpose": args.rtmpose_weights,
                                       "detectron2": args.detectron2_weights}.get(name)
                            e2e = end_to_end_fps(clip, name, weights, args.device, batch, Path(tmp))
                        print(f"| {name} | {'fp16' if half else 'fp32'} | {batch} | {clip.stem} | {fps:.1f} | {e2e} "
                              f"| {note} |", flush=True)
                    det.close()


if __name__ == "__main__":
    main()
