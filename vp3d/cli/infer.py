"""`vp3d infer` / `vp3d-infer`: one video -> side-by-side video and joints; the options it shares with batch mode."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..argtypes import number
from ..errors import UserError
from .common import Progress


def add_infer_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", type=Path, help="input video")
    p.add_argument("--out", type=Path, help="side-by-side MP4 to write (H.264)")
    p.add_argument("--json", nargs="?", const="-", metavar="PATH",
                   help="write per-frame joints as JSON to PATH; with no PATH, print a machine-readable "
                        "summary on stdout instead of progress")
    p.add_argument("--npz", type=Path, metavar="PATH", help="write per-frame joints as NPZ")
    p.add_argument("--npz-2d", type=Path, metavar="PATH",
                   help="write the 2D detections in the reference release's custom dataset NPZ format")
    p.add_argument("--csv", type=Path, metavar="PATH",
                   help="write per-frame joints as CSV (3D metres and 2D pixels, one row per frame)")
    p.add_argument("--bvh", type=Path, metavar="PATH",
                   help="write a BVH animation (world frame, feet on the floor) for Blender and other tools")
    p.add_argument("--angles", type=Path, metavar="PATH",
                   help="write joint angles per frame as CSV (degrees, world frame; definitions in the README), "
                        "their min / max / range / mean beside it as <name>.summary.json")
    p.add_argument("--html", type=Path, metavar="PATH",
                   help="write the interactive 3D viewer: one HTML file that works offline, playing the rendered "
                        "video (or the input) in sync")
    add_shared_arguments(p)


def _people(text: str) -> str:
    from ..detectors.tracking import parse_people
    try:
        parse_people(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text.strip().lower()


def add_shared_arguments(p: argparse.ArgumentParser) -> None:
    """Options of the inference itself, shared by `vp3d infer` (one video) and `vp3d batch` (a folder)."""
    p.add_argument("--world", action="store_true",
                   help="JSON/NPZ/CSV joints in a gravity-aligned world frame with the floor at 0 (camera tilt "
                        "estimated from the body) instead of the camera frame")
    p.add_argument("--up", choices=["y", "z"], default="y", help="up axis of the world frame and BVH (default: y)")
    p.add_argument("--no-render", action="store_true", help="skip the video; only export joints")
    p.add_argument("--people", type=_people, metavar="all|largest|N",
                   help="track everyone (multi-person detectors and file: only) and keep all, the largest, or "
                        "the N largest people; each is lifted on its own (default: the highest-scoring person "
                        "of each frame, untracked)")
    from ..video import DEFAULT_CRF, DEFAULT_PRESET, X264_PRESETS
    p.add_argument("--crf", type=number(0, 51, int, include_low=True, include_high=True), default=DEFAULT_CRF,
                   metavar="0-51",
                   help=f"quality of the rendered video: 0 lossless, higher is smaller (default: {DEFAULT_CRF})")
    p.add_argument("--preset", choices=X264_PRESETS, default=DEFAULT_PRESET,
                   help=f"x264 speed/size of the rendered video; slower presets make smaller files "
                        f"(default: {DEFAULT_PRESET})")
    p.add_argument("--checkpoint", type=Path, help="lifter checkpoint (default: the shipped weights)")
    p.add_argument("--input-layout", choices=["h36m", "coco"],
                   help="2D layout of an official checkpoint whose file name does not tell")
    p.add_argument("--causal", action="store_true", default=None,
                   help="treat an official checkpoint as causal (names containing 'causal' are)")
    p.add_argument("--trust-checkpoint", action="store_true",
                   help="allow full unpickling of a checkpoint (runs code from the file: trusted files only)")
    cam = p.add_mutually_exclusive_group()
    cam.add_argument("--focal-length", type=number(0), metavar="PIXELS",
                     help="camera focal length in pixels")
    cam.add_argument("--fov", type=number(0, 180), metavar="DEGREES",
                     help="horizontal field of view in degrees")
    p.add_argument("--no-flip", action="store_true", help="disable test-time flip augmentation")
    p.add_argument("--no-smoothing", action="store_true",
                   help="the network's raw 3D, without what its weights declare after the network (the shipped "
                        "lifter's: a smoothing over time of one frame's sigma, against 2D jitter, and every joint "
                        "moved 0.3 of the way across the image onto its 2D point's ray, then 0.3 of the way toward the "
                        "point of that ray at which its bone has its usual length)")
    p.add_argument("--rigid-bones", action="store_true",
                   help="give every 3D bone its median length over the clip, directions kept (one skeleton for "
                        "animation and biomechanics; default: the model's per-frame output)")
    p.add_argument("--root-motion", action="store_true",
                   help="place the root in the camera frame from the 2D (the person travels in --world, BVH, the "
                        "3D panel and root_camera; standing feet kept from sliding) when the lifter has no "
                        "trajectory model, as the shipped one (default: root-relative joints)")
    p.add_argument("--device", default=None,
                   help="cpu, cuda, cuda:1 ... (default: weights with a light form, as the shipped ones, on the CPU "
                        "with the numpy engine; other checkpoints on cuda when available)")
    p.add_argument("--detector", default="mediapipe", metavar="NAME",
                   help="2D keypoints from: mediapipe (default), mediapipe-lite (BlazePose lite: faster, less "
                        "accurate), keypoint-rcnn, detectron2, rtmpose, or "
                        "file:PATH (precomputed: reference detections or custom 2D .npz, COCO results .json, "
                        "OpenPose JSON folder)")
    p.add_argument("--detector-weights", metavar="PATH",
                   help="local model file of the detector (keypoint-rcnn: a state_dict .pth; detectron2: "
                        "model_final_*.pkl; rtmpose: DET.onnx,POSE.onnx or a folder with both)")
    p.add_argument("--detector-batch-size", type=int, default=8, metavar="N",
                   help="frames per detector forward pass for keypoint-rcnn, detectron2, rtmpose (default: 8)")
    p.add_argument("--strict", action="store_true",
                   help="a video stream that breaks off or stops decoding part-way is an error, with no outputs "
                        "(default: a warning, and outputs for the frames read)")
    p.add_argument("--quiet", action="store_true", help="no progress output (warnings and errors still show)")


def inference_options(args):
    """InferenceOptions from the arguments of add_shared_arguments."""
    from ..pipeline.infer import InferenceOptions
    return InferenceOptions(checkpoint=args.checkpoint, input_layout=args.input_layout, causal=args.causal,
                            trust_checkpoint=args.trust_checkpoint, focal_length=args.focal_length,
                            fov=args.fov, flip=not args.no_flip, smoothing=not args.no_smoothing,
                            rigid_bones=args.rigid_bones,
                            root_motion=args.root_motion,
                            device=args.device or "auto",
                            detector=args.detector, detector_weights=args.detector_weights,
                            detector_batch_size=args.detector_batch_size, strict=args.strict)


def run_infer(args) -> int:
    from ..cores import CoreSplit
    from ..pipeline.job import Outputs, process_video

    summary_only = args.json == "-"
    json_path = None if args.json in (None, "-") else Path(args.json)
    quiet = args.quiet or summary_only
    if not args.input.exists():
        raise UserError(f"{args.input}: no such file")
    if args.out is None and not args.no_render:
        raise UserError("give --out OUT.mp4 for the rendered video, or --no-render with --json/--npz/--csv/--bvh")
    outputs = Outputs(video=None if args.no_render else args.out, json=json_path, npz=args.npz,
                      npz_2d=args.npz_2d, csv=args.csv, bvh=args.bvh, angles=args.angles, html=args.html,
                      world=args.world, up=args.up,
                      crf=args.crf, preset=args.preset)
    if not outputs.paths():
        raise UserError("nothing to write: give --out, --json PATH, --npz, --npz-2d, --csv, --bvh, --angles or --html")

    from ..video import probe
    info = probe(args.input)
    options = inference_options(args)
    detect_bar = Progress(quiet, f"detect {args.input.name}", info.num_frames_hint)
    render_bar = None

    def render_progress(done: int) -> None:
        # The render may run while detection goes on (vp3d.pipeline.overlap): a second bar.
        nonlocal render_bar
        if render_bar is None:
            render_bar = Progress(quiet, f"render {args.out.name}", info.num_frames_hint or detect_bar.done or None,
                                  position=1)
        render_bar(done)

    try:
        # The one video of this process: a one-core detector gets a core of its own (vp3d.cores).
        summary = process_video(args.input, outputs, options, detect_progress=detect_bar,
                                render_progress=render_progress, info=info, people=args.people,
                                cores=CoreSplit.here())
    finally:
        detect_bar.close()
        if render_bar is not None:
            render_bar.close()
    if "decode_warning" in summary:  # said once, whatever --quiet or --json: stdout keeps the one JSON line
        from ..video import DecodeWarning
        print(f"vp3d: warning: {DecodeWarning(**summary['decode_warning']).warning(args.input)}", file=sys.stderr)
    if summary_only:
        print(json.dumps(summary))
    elif not args.quiet:
        print(f"{args.input}: {summary['frames']} frames ({summary['frames_detected']} with a person) in "
              f"{summary['seconds']:.1f} s ({summary['frames_per_second']:.1f} frames/s)", file=sys.stderr)
        for person in summary.get("people", ()):
            print(f"  person #{person['track_id']}: frames {person['first_frame']}-{person['last_frame']} "
                  f"({person['frames_detected']} detected)", file=sys.stderr)
        for kind, path in summary["outputs"].items():
            print(f"  {kind}: {path}", file=sys.stderr)
    return 0
