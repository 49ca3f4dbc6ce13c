"""Time the HTML viewer on a 10-minute clip (run by hand): .venv/bin/python bench/bench_viewer_load.py

Makes a vp3d.joints/1 file of 15,000 frames (25 fps, a person turning and stepping), builds the page
(vp3d.viewer.build_html) and opens it `--repeat` times in headless Chromium (Debian's `chromium`, driven
by Playwright), printing: the build time, the page's size, the time from navigation to the viewer being
ready (drawn, controls live), and the frames the page's own clock shows per second while playing at 1x
(the scene should keep up with the clip's rate). tests/test_viewer.py only checks that such a file opens
and plays; the times are measured here.

2026-12-01, 2 cores shared with two training runs, Chromium 156 with SwiftShader (software WebGL, no GPU):
build_html 1.0 s (7.8 MB JSON -> 5.2 MB page); ready 0.76-0.82 s after navigation; playing 24.7 clip
frames/s for a 25 fps clip, 20-22 renders/s (software rendering on the busy CPU; a GPU renders every frame).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from vp3d.skeleton import H36M
from vp3d.viewer import build_html

ARGS = ["--no-sandbox", "--disable-gpu", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
        "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"]


def joints_file(path: Path, frames: int, fps: float) -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(0, 0.25, (17, 3)) + [0, 1.0, 0]
    out = []
    for i in range(frames):
        a = math.radians(0.5 * i)
        R = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
        out.append({"index": i, "time_s": i / fps, "detected": i % 50 != 0,
                    "joints3d": np.round(base @ R.T, 4).tolist()})
    doc = {"schema": "vp3d.joints/1", "video": {"path": "x.mp4", "width": 1280, "height": 720, "fps": fps,
                                               "frame_count": frames, "rotation": 0},
           "joints3d": {"layout": "h36m", "joint_names": list(H36M.joint_names), "frame": "world",
                        "world": {"up_axis": "y"}},
           "frames": out}
    path.write_text(json.dumps(doc))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=15000)
    parser.add_argument("--fps", type=float, default=25.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "long.json"
        joints_file(src, args.frames, args.fps)
        start = time.perf_counter()
        html = build_html(src, Path(tmp) / "long.html", video=False)
        print(f"build_html                {time.perf_counter() - start:6.2f} s  "
              f"({src.stat().st_size / 1e6:.1f} MB JSON -> {html.stat().st_size / 1e6:.1f} MB page)")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
            for k in range(args.repeat):
                page = browser.new_page(viewport={"width": 1280, "height": 720})
                page.goto(html.as_uri())
                page.wait_for_function("window.vp3dViewer && window.vp3dViewer.ready", timeout=60000)
                ready = page.evaluate("vp3dViewer.loadedMs") / 1000
                page.evaluate("document.getElementById('play').click()")
                f0, r0 = page.evaluate("[vp3dViewer.frameIndex(), vp3dViewer.renderCount()]")
                page.wait_for_timeout(3000)
                f1, r1 = page.evaluate("[vp3dViewer.frameIndex(), vp3dViewer.renderCount()]")
                print(f"open #{k + 1}: ready after {ready:5.2f} s; playing: {(f1 - f0) / 3:5.1f} clip frames/s, "
                      f"{(r1 - r0) / 3:5.1f} renders/s (clip: {args.fps:g} fps)", flush=True)
                page.close()
            browser.close()


if __name__ == "__main__":
    main()
