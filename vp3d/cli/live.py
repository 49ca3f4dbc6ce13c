"""`vp3d live SOURCE`: 3D while the motion happens, one JSON object per frame.

    vp3d live 0 --show --stats                          # the first camera, a preview window, latency figures
    vp3d live rtsp://cam.local/stream -o udp://127.0.0.1:9999
    ffmpeg -i clip.mp4 -f mpegts - | vp3d live - -o poses.jsonl
    vp3d live clip.mp4 --realtime --stats               # a file played at its own rate, as a camera would
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from ..errors import UserError



def add_live_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", help="camera index (0), stream URL (rtsp://, http://, udp://), - (video on stdin) "
                                  "or a video file")
    p.add_argument("-o", "--output", action="append", metavar="TARGET",
                   help="where each frame's JSON goes: - (stdout, the default), a file, udp://HOST:PORT or "
                        "ws://HOST:PORT (a WebSocket server); repeatable")
    p.add_argument("--realtime", action="store_true",
                   help="play a file at its own frame rate (frames the loop cannot keep up with are dropped)")
    from ..lifter.weights import LifterWeights
    p.add_argument("--checkpoint", type=Path, default=LifterWeights.DEFAULT_CAUSAL.value.path,
                   help="a causal lifter (default: the shipped causal weights)")
    p.add_argument("--input-layout", choices=["h36m", "coco"],
                   help="the checkpoint's 2D joint order, for official files whose name does not tell")
    p.add_argument("--causal", action="store_true", default=None,
                   help="the checkpoint is causal, for official files whose name does not tell")
    p.add_argument("--detector", default="mediapipe-lite", metavar="NAME",
                   help="2D detector (default: mediapipe-lite, BlazePose's lite model: about 2/3 of the full "
                        "model's time a frame, what keeps up with 25 frames/s on a 2-core CPU; mediapipe: the full "
                        "model, as vp3d-infer uses)")
    p.add_argument("--no-flip", action="store_true", help="disable test-time flip augmentation")
    p.add_argument("--frames", type=int, default=None, metavar="N", help="stop after N frames")
    p.add_argument("--stall-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="a camera or stream that delivers no frame for this long is reported as stalled and the "
                        "run ends with exit code 1 (default: 10)")
    p.add_argument("--show", action="store_true", help="a preview window with the 2D (needs a display)")
    p.add_argument("--stats", action="store_true",
                   help="at the end, print frames received / processed / dropped and the detector, lifter and "
                        "frame-to-3D latency (mean, p50, p95 ms) on stderr")


def _preview():
    """A cv2 window showing each frame with its 2D, or None (one line on stderr) when no window can open:
    no display, or one that cannot be reached (OpenCV's Qt aborts the whole process on that, so a child
    process tries first)."""
    import cv2
    display = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    if not display:
        print("vp3d: no display: --show ignored", file=sys.stderr)
        return None
    _system_fonts_for_qt()  # after importing cv2, which sets it
    try:
        probe = subprocess.run([sys.executable, "-c", _OPEN_WINDOW], capture_output=True, timeout=60)
        failed = probe.returncode != 0
    except subprocess.TimeoutExpired:
        failed = True
    if failed:
        print(f"vp3d: cannot open a window on display {display}: --show ignored", file=sys.stderr)
        return None

    def show(image, kp):
        if kp is not None:
            image = image.copy()
            for x, y in kp:
                cv2.circle(image, (int(x), int(y)), 3, (0, 200, 0), -1)
        cv2.imshow(WINDOW, image)
        cv2.waitKey(1)
    return show


WINDOW = "vp3d live"
_OPEN_WINDOW = "import cv2; cv2.namedWindow('vp3d'); cv2.waitKey(1); cv2.destroyAllWindows()"


def _system_fonts_for_qt() -> None:
    """OpenCV's wheel ships Qt without fonts yet points QT_QPA_FONTDIR at its own (empty) folder when
    imported, and Qt then warns five times on stderr: use the system's fonts instead, when it has some."""
    fonts = os.environ.get("QT_QPA_FONTDIR")
    if fonts and not Path(fonts).is_dir() and Path("/usr/share/fonts").is_dir():
        os.environ["QT_QPA_FONTDIR"] = "/usr/share/fonts"


def run_live_command(args) -> int:
    from ..live.run import run_live
    from ..live.sinks import open_sink
    from ..live.source import LiveSource
    from ..lifter.errors import CheckpointError
    from ..lifter.inference import Lifter
    from ..pipeline.infer import InferenceOptions, detector_from_options

    if not args.checkpoint.exists():
        raise UserError(f"{args.checkpoint}: no such checkpoint (live mode needs a causal lifter: --checkpoint)")
    lifter = Lifter.load(args.checkpoint, input_layout=args.input_layout, causal=args.causal)
    if not lifter.meta.causal:
        raise CheckpointError(f"{args.checkpoint}: not a causal lifter; live mode needs one whose every "
                              "frame's 3D comes from the past only (vp3d train --causal)")
    if lifter.engine == "torch":  # one thread: beside the detector, more only wait on each other
        import torch
        torch.set_num_threads(1)
    sinks = [open_sink(t) for t in (args.output or ["-"])]
    detector = detector_from_options(InferenceOptions(detector=args.detector))
    try:
        with LiveSource(args.source, realtime=args.realtime, stall_timeout=args.stall_timeout) as source:
            stats = run_live(source, detector, lifter, sinks, flip=not args.no_flip, max_frames=args.frames,
                             preview=_preview() if args.show else None)
    finally:
        detector.close()
        for sink in sinks:
            sink.close()
    # One line on how it ended (the stall message names the source itself), then --stats' figures.
    where = "" if stats.stalled else f"{args.source}: "
    print(f"vp3d live: {where}{stats.ended}; {stats.received} frames received, {stats.processed} processed, "
          f"{stats.dropped} dropped", file=sys.stderr)
    if args.stats:
        s = stats.summary()
        print(f"frames: {s['received']} received, {s['processed']} processed, {s['dropped']} dropped; "
              f"ms (mean / p50 / p95): detector {_f(s['detect_ms'])}, lifter {_f(s['lift_ms'])}, "
              f"frame to 3D {_f(s['latency_ms'])}", file=sys.stderr)
    return 1 if stats.stalled else 130 if stats.ended == "interrupted" else 0


def _f(fig: dict) -> str:
    return "-" if fig["mean"] is None else f"{fig['mean']:.1f} / {fig['p50']:.1f} / {fig['p95']:.1f}"
