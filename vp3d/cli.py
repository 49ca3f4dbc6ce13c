"""Command line: `vp3d infer|train|evaluate` and the `vp3d-infer` shortcut.

Errors a user can cause (bad video, no person, missing weights, unwritable output) end as one line
on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import NoReturn

from .argtypes import number

EXIT_ERROR = 1
SHARED_MOCAP = Path(__file__).resolve().parents[2] / "shared" / "data" / "mocap"


class UserError(Exception):
    """An error explained in one line; no traceback."""


def _user_errors():
    from .detectors.keypoints import DetectorError, NoPersonError
    from .lifter.errors import CheckpointError
    from .pipeline.batch import BatchError
    from .pipeline.infer import DeviceError
    from .pipeline.job import OutputError
    from .pipeline.video import VideoError
    return (UserError, VideoError, NoPersonError, CheckpointError, OutputError, DetectorError, BatchError,
            DeviceError)


class Progress:
    """tqdm bar on stderr for frames (rate and ETA); silent when quiet."""

    def __init__(self, quiet: bool, desc: str, total: int | None, position: int | None = None):
        self.bar = None
        if not quiet:
            from tqdm import tqdm
            self.bar = tqdm(total=total, desc=desc, unit="frame", file=sys.stderr, dynamic_ncols=True,
                            position=position)
        self.done = 0

    def __call__(self, frames_done: int) -> None:
        if self.bar is not None:
            self.bar.update(frames_done - self.done)
        self.done = frames_done

    def close(self) -> None:
        if self.bar is not None:
            if self.bar.total is not None and self.done != self.bar.total:
                self.bar.total = self.done
                self.bar.refresh()
            self.bar.close()
            self.bar = None


# ------------------------------------------------------------------------------------------ infer

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
    add_shared_arguments(p)


def _people(text: str) -> str:
    from .detectors.tracking import parse_people
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
    from .pipeline.video import DEFAULT_CRF, DEFAULT_PRESET, X264_PRESETS
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
    p.add_argument("--rigid-bones", action="store_true",
                   help="give every 3D bone its median length over the clip, directions kept (one skeleton for "
                        "animation and biomechanics; default: the model's per-frame output)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    p.add_argument("--detector", default="mediapipe", metavar="NAME",
                   help="2D keypoints from: mediapipe (default), keypoint-rcnn, detectron2, rtmpose, or "
                        "file:PATH (precomputed: reference detections or custom 2D .npz, COCO results .json, "
                        "OpenPose JSON folder)")
    p.add_argument("--detector-weights", metavar="PATH",
                   help="local model file of the detector (keypoint-rcnn: a state_dict .pth; detectron2: "
                        "model_final_*.pkl; rtmpose: DET.onnx,POSE.onnx or a folder with both)")
    p.add_argument("--detector-batch-size", type=int, default=8, metavar="N",
                   help="frames per detector forward pass for keypoint-rcnn, detectron2, rtmpose (default: 8)")
    p.add_argument("--quiet", action="store_true", help="no progress output")


def inference_options(args):
    """InferenceOptions from the arguments of add_shared_arguments."""
    from .pipeline.infer import InferenceOptions
    return InferenceOptions(checkpoint=args.checkpoint, input_layout=args.input_layout, causal=args.causal,
                            trust_checkpoint=args.trust_checkpoint, focal_length=args.focal_length,
                            fov=args.fov, flip=not args.no_flip, rigid_bones=args.rigid_bones,
                            device=args.device or "auto",
                            detector=args.detector, detector_weights=args.detector_weights,
                            detector_batch_size=args.detector_batch_size)


def run_infer(args) -> int:
    from .pipeline.job import Outputs, process_video

    summary_only = args.json == "-"
    json_path = None if args.json in (None, "-") else Path(args.json)
    quiet = args.quiet or summary_only
    if not args.input.exists():
        raise UserError(f"{args.input}: no such file")
    if args.out is None and not args.no_render:
        raise UserError("give --out OUT.mp4 for the rendered video, or --no-render with --json/--npz/--csv/--bvh")
    outputs = Outputs(video=None if args.no_render else args.out, json=json_path, npz=args.npz,
                      npz_2d=args.npz_2d, csv=args.csv, bvh=args.bvh, world=args.world, up=args.up,
                      crf=args.crf, preset=args.preset)
    if not outputs.paths():
        raise UserError("nothing to write: give --out, --json PATH, --npz, --npz-2d, --csv or --bvh")

    from .pipeline.video import probe
    info = probe(args.input)
    options = inference_options(args)
    detect_bar = Progress(quiet, f"detect {args.input.name}", info.num_frames_hint)
    render_bar = None

    def render_progress(done: int) -> None:
        # With MediaPipe the render runs while detection goes on (vp3d.pipeline.overlap): a second bar.
        nonlocal render_bar
        if render_bar is None:
            render_bar = Progress(quiet, f"render {args.out.name}", info.num_frames_hint or detect_bar.done or None,
                                  position=1)
        render_bar(done)

    try:
        if args.people is None:
            summary = process_video(args.input, outputs, options, detect_progress=detect_bar,
                                    render_progress=render_progress, info=info)
        else:
            from .pipeline.people_job import process_people
            summary = process_people(args.input, outputs, options, args.people, detect_progress=detect_bar,
                                     render_progress=render_progress)
    finally:
        detect_bar.close()
        if render_bar is not None:
            render_bar.close()
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


# ------------------------------------------------------------------------------------------ batch

def _jobs(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


def add_batch_arguments(p: argparse.ArgumentParser) -> None:
    from .pipeline.batch import DEFAULT_FORMATS, default_jobs, output_kinds
    p.add_argument("input", type=Path, help="folder of videos")
    p.add_argument("--out", type=Path, required=True, help="output folder (created; sub-folders mirror the input's)")
    p.add_argument("-r", "--recursive", action="store_true", help="also the videos in sub-folders")
    p.add_argument("-j", "--jobs", type=_jobs, default=default_jobs(),
                   help="videos processed at once, one worker process each (default: half the cores, at least 2; here %(default)s)")
    p.add_argument("--formats", default=",".join(DEFAULT_FORMATS), metavar="LIST",
                   help=f"outputs per video, comma-separated, from {','.join(output_kinds())} (default: %(default)s)")
    p.add_argument("--npz-2d", action="store_true", help="add npz_2d (2D detections, reference format) to --formats")
    p.add_argument("--overwrite", action="store_true", help="redo videos finished by an earlier run")
    p.add_argument("--json", action="store_true",
                   help="print the summary (as OUT/summary.json) on stdout instead of progress")
    add_shared_arguments(p)


def run_batch(args) -> int:
    from .pipeline import batch

    kinds = batch.parse_formats(args.formats, no_render=args.no_render, npz_2d=args.npz_2d)
    quiet = args.quiet or args.json
    report = batch.run_batch(args.input, args.out, kinds, inference_options(args), jobs=args.jobs,
                             recursive=args.recursive, overwrite=args.overwrite,
                             output_options={"world": args.world, "up": args.up, "crf": args.crf,
                                             "preset": args.preset}, people=args.people, progress=not quiet)
    summary = report.summary
    if args.json:
        print(json.dumps(summary, indent=1))
    if quiet:  # still one line per failed video: a failure is never silent
        for row in summary["videos"]:
            if row["status"] == "failed":
                print(f"vp3d: error: {args.input / row['input']}: {row['reason']}", file=sys.stderr)
    else:
        from .pipeline.batch_display import format_table
        print(format_table(summary), file=sys.stderr)
        print(f"summary: {report.summary_path}", file=sys.stderr)
    if report.exit_code == batch.EXIT_INTERRUPTED:
        print("vp3d: interrupted; run the same command again to finish the rest", file=sys.stderr)
    return report.exit_code


# ------------------------------------------------------------------------------------------ main

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vp3d", description="Video to 3D human joints (VideoPose3D-style).")
    sub = parser.add_subparsers(dest="command", required=True)
    add_infer_arguments(sub.add_parser("infer", help="video -> side-by-side 2D/3D video and joints"))
    add_batch_arguments(sub.add_parser("batch", help="every video of a folder -> outputs named after each",
                                       description=BATCH_DESCRIPTION, allow_abbrev=False))
    from .lifter.train_cli import add_train_arguments
    add_train_arguments(sub.add_parser("train", help="train the lifter on mocap"))
    from .lifter.evaluate_cli import add_evaluate_arguments
    add_evaluate_arguments(sub.add_parser("evaluate", help="P1/P2/P3/MPJVE of a checkpoint"))
    return parser


class _Terminated(KeyboardInterrupt):
    """SIGTERM (`kill`, a job scheduler's time limit) raised like Ctrl-C, so the same clean-up runs: without
    it the process died with its temporary output files and encoder left behind."""


def _raise_terminated(signum, frame):
    raise _Terminated()


def _run(handler, args, json_errors: bool = False) -> int:
    """handler(args) with the one-line errors and interruptions; json_errors: stdout is being read by a
    program (--json summaries), which then gets the error as a JSON object too."""
    if threading.current_thread() is threading.main_thread():  # signal handlers can only be set there
        signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        return handler(args)
    except _user_errors() as e:
        print(f"vp3d: error: {e}", file=sys.stderr)
        if json_errors:
            where = {"input": str(args.input)} if hasattr(args, "input") else {}
            print(json.dumps({**where, "error": str(e), "exit_code": EXIT_ERROR}))
        return EXIT_ERROR
    except _Terminated:
        print("vp3d: terminated", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print("vp3d: interrupted", file=sys.stderr)
        return 130


def main(argv: list[str] | None = None, *, exit_fast: bool = False) -> int:
    """`vp3d ...`; exit_fast: see infer_main."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["infer"]:  # one video, or a folder (batch)
        return infer_main(argv[1:], prog="vp3d infer", exit_fast=exit_fast)
    args = build_parser().parse_args(argv)
    if args.command == "batch":
        return _run(run_batch, args, json_errors=args.json)
    if args.command == "train":
        from .lifter.train_cli import run_train
        return _run(run_train, args, json_errors=args.json)
    from .lifter.evaluate_cli import run_evaluate
    return _run(run_evaluate, args, json_errors=args.json)


BATCH_DESCRIPTION = ("Every video of a folder -> outputs named after each (clip.mp4 -> clip.vp3d.mp4, clip.json, "
                     "clip.npz, ...), in parallel worker processes. Videos finished by an earlier run are skipped; "
                     "OUT/summary.json lists every video's outcome. Exit code 0 only if no video failed.")


class _ParseFailed(Exception):
    pass


class _TrialParser(argparse.ArgumentParser):
    """A parser that raises instead of printing usage and exiting: used to try an interpretation."""

    def error(self, message):
        raise _ParseFailed(message)


def _batch_args(argv: list[str], prog: str):
    """The batch arguments when argv names a folder and parses as a batch command line, else None."""
    if "-h" in argv or "--help" in argv:
        return None
    # Most runs name one video: no folder in sight, no need for the trial parse (which imports batch mode).
    if not any(not a.startswith("-") and Path(a).is_dir() for a in argv):
        return None
    trial = _TrialParser(prog=prog, add_help=False, allow_abbrev=False)  # --npz must not pass for --npz-2d
    add_batch_arguments(trial)
    try:
        args = trial.parse_args(argv)
    except _ParseFailed:
        return None
    return args if args.input.is_dir() else None


def infer_main(argv: list[str] | None = None, prog: str = "vp3d-infer", *, exit_fast: bool = False) -> int:
    """`vp3d-infer ...`; exit_fast (the console scripts): a one-video run ends the process itself, without
    the interpreter's teardown (_exit_without_teardown)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    batch_args = _batch_args(argv, prog)
    if batch_args is not None:  # `vp3d-infer FOLDER --out OUT_FOLDER ...` is `vp3d batch`
        return _run(run_batch, batch_args, json_errors=batch_args.json)
    parser = argparse.ArgumentParser(prog=prog, description="Video -> side-by-side 2D/3D video and joints. "
                                     "INPUT may be a folder: then this is `vp3d batch` (see vp3d batch -h).")
    add_infer_arguments(parser)
    args = parser.parse_args(argv)
    if args.input.is_dir():  # a folder, with options batch mode does not take: show batch's own complaint
        batch_parser = argparse.ArgumentParser(prog=prog, description=BATCH_DESCRIPTION, allow_abbrev=False)
        add_batch_arguments(batch_parser)
        batch_parser.parse_args(argv)  # exits with the usage error
    code = _run(run_infer, args, json_errors=args.json == "-")
    if exit_fast:
        _exit_without_teardown(code)
    return code


def _exit_without_teardown(code: int) -> NoReturn:
    """End a one-video run without the interpreter's teardown, which takes ~0.4 s once the CUDA build
    of torch is imported (measured for `python -c "import torch"` alone): 10% of a short clip's whole
    run. Safe only where nothing is left running or unwritten: outputs are closed and renamed into place
    (or removed) before run_infer returns, and its threads have been joined."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _interruptible(entry) -> NoReturn:
    """Run a console script's main; Ctrl-C before _run has taken over (while the command line is read and
    modules import, the first second or so) ends in the same one line instead of a traceback."""
    try:
        code = entry(exit_fast=True)
    except KeyboardInterrupt:
        print("vp3d: interrupted", file=sys.stderr)
        code = 130
    sys.exit(code)


def command() -> NoReturn:
    """The `vp3d` console script."""
    _interruptible(main)


def infer_command() -> NoReturn:
    """The `vp3d-infer` console script."""
    _interruptible(infer_main)


if __name__ == "__main__":
    command()
