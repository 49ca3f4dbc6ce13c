"""The way of one frame through the package, measured: which vp3d modules run code for every frame of a video.

`vp3d-infer clip --out r.mp4 --json r.json` (the default path: MediaPipe, the shipped lifter, the render drawn
while detecting) is run in this process under a profiler hook on every thread, and the render process it
starts under the same hook (installed at its start by a sitecustomize module). A module "runs for each frame"
when its Python functions are entered at least once per frame (a generator resumed for each frame counts:
the decoder's frame iterator is one). Those modules must sit in the six stages of the architecture, in the
order data flows: video (decode, encode) -> detectors -> pipeline -> lifter -> render -> export, plus the
bottom modules everything may use (skeleton, camera, errors). A new per-frame detour through another
package (a batch helper, the CLI, a second decoder) fails here.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections import Counter

from conftest import decoded_frames
from frame_profile import counting_hook, sitecustomize_source

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
    sys.setprofile(counting_hook(calls))
    threading.setprofile(counting_hook(calls))
    try:
        run()
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
    return calls


def test_each_frame_crosses_the_six_stages_and_nothing_else(clip, tmp_path, monkeypatch):
    frames = decoded_frames(clip)
    outputs = Outputs(video=tmp_path / "r.mp4", json=tmp_path / "r.json")
    hook_dir, counts_dir = tmp_path / "site", tmp_path / "counts"
    hook_dir.mkdir(), counts_dir.mkdir()
    (hook_dir / "sitecustomize.py").write_text(sitecustomize_source(counts_dir))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(hook_dir), *sys.path]))
    calls = calls_per_module(lambda: process_video(clip, outputs, InferenceOptions()))
    assert outputs.video.exists() and outputs.json.exists()
    children = [Counter(json.loads(f.read_text())) for f in counts_dir.iterdir()]
    assert len(children) == 1, "one render process"
    render_calls = children[0]

    def per_frame(counts: Counter) -> list[str]:
        return sorted(m for m, n in counts.items() if n >= frames)

    here, there = per_frame(calls), per_frame(render_calls)
    packages = {package_of(m) for m in here + there}
    assert packages - set(BOTTOM) <= set(STAGES), (here, there)
    # Every stage really is on the way (the hook sees them all): decode and encode, the detector, the loop,
    # the lifter's input and the drawing; exports run once per video, not per frame.
    assert {"video", "detectors", "pipeline", "render"} <= packages, (here, there)
    assert any(m.startswith("vp3d.video.decode") for m in here), here
    # The render process decodes its own copy, draws and encodes; nothing else runs there for each frame,
    # and no drawing runs in the detector's process.
    assert {package_of(m) for m in there} - set(BOTTOM) == {"video", "render"}, there
    assert {"vp3d.video.decode", "vp3d.video.encode", "vp3d.render.draw"} <= set(there), there
    assert not any(m.startswith("vp3d.render") for m in here), here
    assert not any(m.startswith(("vp3d.cli", "vp3d.batch", "vp3d.training", "vp3d.live"))
                   for m in calls + render_calls), sorted(calls + render_calls)
