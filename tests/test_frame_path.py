"""The way of one frame through the package, measured: which vp3d modules run code for every frame of a video.

`vp3d-infer clip --out r.mp4 --json r.json` (the default path: MediaPipe, the shipped lifter, the render drawn
while detecting) is run in this process under a profiler hook on every thread. A module "runs for each frame"
when its Python functions are entered at least once per frame (a generator resumed for each frame counts:
the decoder's frame iterator is one). Those modules must sit in the six stages of the architecture, in the
order data flows: video (decode, encode) -> detectors -> pipeline -> lifter -> render -> export, plus the
bottom modules everything may use (skeleton, camera, errors). A new per-frame detour through another
package (a batch helper, the CLI, a second decoder) fails here.
"""

from __future__ import annotations

import sys
import threading
from collections import Counter

from conftest import decoded_frames

from vp3d.pipeline.infer import InferenceOptions
from vp3d.pipeline.job import Outputs, process_video

STAGES = ("video", "detectors", "pipeline", "lifter", "render", "export")
BOTTOM = ("vp3d.skeleton", "vp3d.camera", "vp3d.errors", "vp3d.bones")


def package_of(module: str) -> str:
    """vp3d.render.draw -> render; vp3d.skeleton -> vp3d.skeleton (a bottom module is its own package)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 else module


def calls_per_module(run) -> Counter:
    """How often functions of each vp3d module are entered (every thread) while run() runs."""
    calls: Counter = Counter()

    def hook(frame, event, arg):
        if event == "call":
            name = frame.f_globals.get("__name__", "")
            if name.startswith("vp3d."):
                calls[name] += 1

    sys.setprofile(hook)
    threading.setprofile(hook)
    try:
        run()
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
    return calls


def test_each_frame_crosses_the_six_stages_and_nothing_else(clip, tmp_path):
    frames = decoded_frames(clip)
    outputs = Outputs(video=tmp_path / "r.mp4", json=tmp_path / "r.json")
    calls = calls_per_module(lambda: process_video(clip, outputs, InferenceOptions()))
    assert outputs.video.exists() and outputs.json.exists()

    per_frame = sorted(m for m, n in calls.items() if n >= frames)
    packages = {package_of(m) for m in per_frame}
    assert packages - set(BOTTOM) <= set(STAGES), per_frame
    # Every stage really is on the way (the hook sees them all): decode and encode, the detector, the loop,
    # the lifter's input and the drawing; exports run once per video, not per frame.
    assert {"video", "detectors", "pipeline", "render"} <= packages, per_frame
    assert any(m.startswith("vp3d.video.decode") for m in per_frame), per_frame
    assert not any(m.startswith(("vp3d.cli", "vp3d.batch", "vp3d.training", "vp3d.live")) for m in calls), \
        sorted(calls)
