"""The HTML 3D viewer (vp3d.viewer) in a real browser: headless Chromium (Debian's `chromium`) driven by
Playwright. Without Chromium the browser tests fail under CI=true (CI must install it) and skip elsewhere.

The joints files and the video are made here: poses that change every frame, and a video whose frames show
their own index as 8 black/white stripes, so the test reads which frame the page's video presents.
"""

from __future__ import annotations

import base64
import json
import math
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from poses import standing
from vp3d.skeleton import H36M
from vp3d.viewer import build_html, find_video
from vp3d.viewer.build import to_scene

FPS = 25.0
FRAMES = 60
W, H = 160, 96  # video size; 8 stripes of 20 px
BACKGROUND = (0x15, 0x17, 0x1A)  # the scene's clear colour (viewer.js)
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
               "--disable-background-networking", "--disable-component-update", "--no-first-run",
               "--disable-sync", "--mute-audio"]


def chromium_path() -> str:
    """Chromium to drive: $VP3D_CHROMIUM, else `chromium` / `chromium-browser` on PATH. Under CI=true a
    missing browser (or Playwright) is a failure, elsewhere a skip with the reason."""
    path = os.environ.get("VP3D_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    problem = None
    if not path or not Path(path).exists():
        problem = "Chromium not found (apt-get install -y chromium; or set VP3D_CHROMIUM)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "playwright is not installed (pip install -r requirements.txt)"
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser tests need headless Chromium: {problem}")
        pytest.skip(problem)
    return path


# ---------------------------------------------------------------- data

def scene_motion(n=FRAMES) -> np.ndarray:
    """(n, 17, 3) scene poses: turning about the vertical and stepping sideways, one new pose per frame."""
    base = standing()
    out = []
    for i in range(n):
        a = math.radians(3 * i)
        R = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
        out.append(base @ R.T + [0.01 * i, 0, 0])
    return np.array(out)


def file_coords(scene: np.ndarray, kind: str) -> np.ndarray:
    """Scene -> the coordinates a vp3d file of that kind holds (the inverse of the page's mapping, written
    out here independently)."""
    x, y, z = scene[..., 0], scene[..., 1], scene[..., 2]
    if kind == "world_y":
        return scene.copy()
    if kind == "world_z":  # x right, y away from the camera, z up
        return np.stack([x, -z, y], axis=-1)
    # camera frame: x right, y down, z forward; root-relative
    cam = np.stack([x, -y, -z], axis=-1)
    return cam - cam[:, :1]


def frames_of(joints, detected=None, first=0):
    detected = np.ones(len(joints), bool) if detected is None else detected
    return [{"index": first + i, "time_s": (first + i) / FPS, "detected": bool(detected[i]),
             "keypoints2d": [[0.0, 0.0, 1.0]] * 17, "joints3d": joints[i].tolist(), "root_camera": None}
            for i in range(len(joints))]


def joints_doc(kind="world_y", n=FRAMES, detected=None) -> dict:
    frame = "camera" if kind == "camera" else "world"
    joints3d = {"layout": "h36m", "joint_names": list(H36M.joint_names), "parents": list(H36M.parents),
                "units": "metres", "frame": frame}
    if frame == "world":
        joints3d["world"] = {"up_axis": "z" if kind == "world_z" else "y"}
    return {"schema": "vp3d.joints/1",
            "video": {"path": "/elsewhere/clip.mp4", "width": W, "height": H, "fps": FPS, "frame_count": n,
                      "rotation": 0},
            "joints3d": joints3d,
            "frames": frames_of(file_coords(scene_motion(n), kind), detected)}


def make_video(path: Path, n=FRAMES) -> Path:
    """H.264 clip whose frame i shows i in binary: 8 vertical stripes, white = 1, most significant first."""
    import imageio_ffmpeg
    frames = np.zeros((n, H, W, 3), np.uint8)
    for i in range(n):
        for bit in range(8):
            if (i >> (7 - bit)) & 1:
                frames[i, :, bit * 20:(bit + 1) * 20] = 255
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
                    "-s", f"{W}x{H}", "-r", str(FPS), "-i", "-", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    "-g", "5", "-crf", "12", "-movflags", "+faststart", str(path)],
                   input=frames.tobytes(), check=True, timeout=120)
    return path


def shown_video_frame(page) -> int:
    """The frame index the page's <video> presents, read from a screenshot of it."""
    from io import BytesIO

    from PIL import Image
    img = np.asarray(Image.open(BytesIO(page.locator("#video").screenshot())).convert("L"), dtype=float)
    h, w = img.shape
    bits = [img[h // 4: 3 * h // 4, int((b + 0.3) * w / 8): int((b + 0.7) * w / 8)].mean() > 128 for b in range(8)]
    return int("".join("1" if b else "0" for b in bits), 2)


# ---------------------------------------------------------------- browser

@pytest.fixture(scope="module")
def browser():
    executable = chromium_path()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        yield b
        b.close()


class Page:
    """A page of the viewer with the requests it made and the errors it raised."""

    def __init__(self, browser, html: Path, size=(1000, 520)):
        self.context = browser.new_context(viewport={"width": size[0], "height": size[1]}, offline=True)
        self.page = self.context.new_page()
        self.requests, self.errors = [], []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.goto(html.resolve().as_uri())
        self.page.wait_for_function("window.vp3dViewer && window.vp3dViewer.ready", timeout=30000)

    def js(self, expression, arg=None):
        """Evaluate in the page; a promise it returns is awaited, at most 20 s (then an error)."""
        wrapped = ("async ([source, arg]) => { const f = eval(source); const v = typeof f === 'function' ? f(arg) : f;"
                   " return await Promise.race([Promise.resolve(v), new Promise((_, no) =>"
                   " setTimeout(() => no(new Error('timed out: ' + source)), 20000))]); }")
        return self.page.evaluate(wrapped, [f"({expression})", arg])

    def settle(self):
        """Wait until two animation frames have been drawn (the page renders in requestAnimationFrame)."""
        self.js("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r())))")

    def close(self):
        self.context.close()


@pytest.fixture
def open_page(browser):
    pages = []

    def opener(html, **kw):
        pages.append(Page(browser, html, **kw))
        return pages[-1]
    yield opener
    for p in pages:
        p.close()


def expected_pixels(points: np.ndarray, cam: dict) -> np.ndarray:
    """Project scene points with the page's camera (column-major 4x4 matrices, as three.js stores them)."""
    P = np.array(cam["projection"]).reshape(4, 4).T
    V = np.array(cam["view"]).reshape(4, 4).T
    h = np.c_[points, np.ones(len(points))] @ (P @ V).T
    ndc = h[:, :3] / h[:, 3:]
    return np.c_[(ndc[:, 0] + 1) / 2 * cam["width"], (1 - ndc[:, 1]) / 2 * cam["height"]]


# ---------------------------------------------------------------- tests without a browser

def test_build_is_self_contained_and_finds_the_video(tmp_path):
    src = tmp_path / "clip.json"
    src.write_text(json.dumps(joints_doc()))
    assert find_video(src, joints_doc()) is None
    (tmp_path / "clip.vp3d.mp4").write_bytes(b"rendered")
    assert find_video(src, joints_doc()) == tmp_path / "clip.vp3d.mp4"
    (tmp_path / "clip.mp4").write_bytes(b"original")  # the original video is preferred to the render
    assert find_video(src, joints_doc()) == tmp_path / "clip.mp4"

    out = build_html(src, tmp_path / "pages" / "clip view.html")
    html = out.read_text()
    meta = json.loads(html.split('id="vp3d-meta">', 1)[1].split("</script>", 1)[0])
    assert meta["video_src"] == "../clip.mp4" and meta["frame_count"] == FRAMES and meta["fps"] == FPS
    assert "<script src" not in html and 'href="http' not in html and "import(" not in html
    assert '"three": "data:text/javascript;base64,' in html
    assert not list(tmp_path.glob("pages/.*"))
    assert build_html(src, tmp_path / "novideo.html", video=False).exists()
    assert '"video_src": null' in (tmp_path / "novideo.html").read_text()
    with pytest.raises(FileNotFoundError):
        build_html(src, tmp_path / "x.html", video=tmp_path / "missing.mp4")
    (tmp_path / "bad.json").write_text(json.dumps({"schema": "other"}))
    with pytest.raises(ValueError):
        build_html(tmp_path / "bad.json", tmp_path / "bad.html")


@pytest.mark.parametrize("kind", ["world_y", "world_z", "camera"])
def test_scene_coordinates_stand_upright(kind):
    doc = joints_doc(kind)
    scene = to_scene(np.array([f["joints3d"] for f in doc["frames"]]), doc["joints3d"]["frame"],
                     doc["joints3d"].get("world", {}).get("up_axis", "y"))
    head_above_feet = scene[:, 10, 1] - scene[:, [3, 6], 1].max(axis=1)
    assert (head_above_feet > 1.5).all()  # upright, whatever the file's frame
    expected = scene_motion()
    if kind == "camera":
        expected = expected - expected[:, :1]
    np.testing.assert_allclose(scene, expected, atol=1e-12)


def test_camera_frame_root_trajectory_moves_the_person():
    from vp3d.viewer.build import viewer_data
    doc = joints_doc("camera", n=3)
    for i, f in enumerate(doc["frames"]):
        f["root_camera"] = [0.5 * i, -0.2, 4.0 + i]
    meta, blocks = viewer_data(doc)
    scene = np.frombuffer(base64.b64decode(blocks[0]), np.float32).reshape(3, 17, 3)
    roots = scene[:, 0]
    np.testing.assert_allclose(roots, [[0.5 * i, 0.2, -4.0 - i] for i in range(3)], atol=1e-6)


# ---------------------------------------------------------------- browser tests

@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    folder = tmp_path_factory.mktemp("viewer")
    make_video(folder / "clip.mp4")
    detected = np.ones(FRAMES, bool)
    detected[20:25] = False
    (folder / "clip.json").write_text(json.dumps(joints_doc("world_y", detected=detected)))
    return build_html(folder / "clip.json", folder / "clip.html")


def test_page_loads_offline_from_disk(open_page, clip):
    page = open_page(clip)
    page.js("vp3dViewer.seek(1.0)")
    assert page.errors == []
    assert page.requests and all(u.split(":", 1)[0] in ("file", "data", "blob") for u in page.requests), \
        page.requests
    assert page.js("vp3dViewer.THREE_REVISION") == "185"
    assert page.js("document.getElementById('video').readyState") >= 1


def test_projected_joints_at_two_times_match_the_json(open_page, clip):
    page = open_page(clip)
    doc = json.loads(clip.with_suffix(".json").read_text())
    for t in (0.5, 1.7):
        frame = page.js("t => vp3dViewer.seek(t)", t)
        assert frame == math.floor(t * FPS + 1e-3)
        page.settle()
        json_joints = np.array(doc["frames"][frame]["joints3d"])  # world, Y up: scene coordinates as is
        np.testing.assert_allclose(page.js("vp3dViewer.joints()"), json_joints, atol=1e-5)
        cam = page.js("vp3dViewer.camera()")
        projected = np.array(page.js("vp3dViewer.projectedJoints()"))
        np.testing.assert_allclose(projected, expected_pixels(json_joints, cam), atol=0.05)
        # the canvas really shows the skeleton there: at each projected joint, a pixel that is not background
        from io import BytesIO

        from PIL import Image
        shot = np.asarray(Image.open(BytesIO(page.page.screenshot())).convert("RGB"), dtype=int)
        hits = 0
        for x, y in projected + [cam["left"], cam["top"]]:
            patch = shot[int(y) - 2:int(y) + 3, int(x) - 2:int(x) + 3]
            hits += (np.abs(patch - BACKGROUND).sum(axis=-1) > 60).any()
        assert hits >= 16, f"only {hits} of 17 joints drawn where they are projected"


def test_video_and_3d_stay_within_one_frame_after_seeks(open_page, clip):
    page = open_page(clip)
    page.js("() => new Promise(r => { const v = document.getElementById('video');"
            " if (v.readyState >= 2) r(); else v.addEventListener('loadeddata', () => r(), {once: true}); })")
    # seek forward and back through the page, then as a user would with the video itself
    for t in (1.9, 0.3, 1.22):
        page.js("t => vp3dViewer.seek(t)", t)
        page.settle()
        page.page.wait_for_timeout(150)
        shown = shown_video_frame(page.page)
        assert abs(shown - page.js("vp3dViewer.frameIndex()")) <= 1, (t, shown)
        assert abs(shown - math.floor(t * FPS)) <= 1, (t, shown)
    for t in (2.1, 0.66):
        page.js("""t => new Promise(r => { const v = document.getElementById('video');
                     v.addEventListener('seeked', () => r(), {once: true}); v.currentTime = t; })""", t)
        page.settle()
        page.page.wait_for_timeout(150)
        shown = shown_video_frame(page.page)
        assert abs(shown - page.js("vp3dViewer.frameIndex()")) <= 1, (t, shown)
    # the timeline seeks the video too
    page.js("""() => new Promise(r => { document.getElementById('video').addEventListener('seeked', () => r(),
                                                                                       {once: true});
                       const s = document.getElementById('timeline'); s.value = '40';
                       s.dispatchEvent(new Event('input')); })""")
    page.settle()
    page.page.wait_for_timeout(150)
    assert page.js("vp3dViewer.frameIndex()") == 40
    assert abs(shown_video_frame(page.page) - 40) <= 1
    # and while it plays: at every frame the video presents, the 3D shows that frame
    page.js(f"""() => {{ window.pairs = []; const v = document.getElementById('video');
        v.requestVideoFrameCallback(function cb(now, m) {{
            window.pairs.push([Math.floor(m.mediaTime * {FPS} + 1e-3), vp3dViewer.frameIndex()]);
            v.requestVideoFrameCallback(cb); }});
        return v.play(); }}""")
    page.page.wait_for_timeout(600)
    pairs = page.js("window.pairs")
    assert len(pairs) >= 3 and all(abs(a - b) <= 1 for a, b in pairs), pairs
    page.js("document.getElementById('video').pause()")
    page.settle()
    page.page.wait_for_timeout(150)
    shown = shown_video_frame(page.page)
    assert shown > 40 and abs(shown - page.js("vp3dViewer.frameIndex()")) <= 1


def test_screenshot_is_not_blank(open_page, clip, tmp_path):
    from io import BytesIO

    from PIL import Image
    page = open_page(clip)
    page.js("vp3dViewer.seek(0.2)")
    page.settle()
    out = tmp_path / "viewer.png"
    page.page.locator("#scene canvas").screenshot(path=str(out))
    img = np.asarray(Image.open(out).convert("RGB"), dtype=int)[60:]  # below the legend
    differs = np.abs(img - BACKGROUND).sum(axis=-1) > 30
    assert differs.mean() > 0.005, "the 3D view is blank"
    blue = (img[..., 2] > 180) & (img[..., 0] < 120)
    red = (img[..., 0] > 180) & (img[..., 1] < 120) & (img[..., 2] < 120)
    assert blue.sum() > 30 and red.sum() > 30, "left (blue) and right (red) sides not both drawn"
    # a filled-in frame is drawn grey
    page.js("vp3dViewer.seek(22 / 25 + 0.02)")
    page.settle()
    img = np.asarray(Image.open(BytesIO(page.page.locator("#scene canvas").screenshot())).convert("RGB"),
                     dtype=int)[60:]
    assert np.abs(img - BACKGROUND).sum(axis=-1).max() > 60
    assert ((img[..., 2] > 180) & (img[..., 0] < 120)).sum() < 5


@pytest.mark.parametrize("kind", ["world_z", "camera"])
def test_other_frames_are_shown_upright(open_page, tmp_path, kind):
    (tmp_path / "c.json").write_text(json.dumps(joints_doc(kind)))
    page = open_page(build_html(tmp_path / "c.json", tmp_path / "c.html"))
    page.js("vp3dViewer.seek(0.62)")
    joints = np.array(page.js("vp3dViewer.joints()"))
    expected = scene_motion()[15]
    if kind == "camera":
        expected = expected - expected[:1]
    np.testing.assert_allclose(joints, expected, atol=1e-5)
    projected = np.array(page.js("vp3dViewer.projectedJoints()"))
    assert projected[10, 1] < projected[3, 1] - 50  # head above the feet on screen


def test_several_people_in_their_colours(open_page, tmp_path):
    one, two = scene_motion(), scene_motion() + [1.2, 0, 0]
    doc = joints_doc()
    del doc["frames"]
    doc["schema"] = "vp3d.joints/2"
    doc["people"] = [
        {"track_id": 1, "first_frame": 0, "last_frame": FRAMES - 1, "frames": frames_of(one)},
        {"track_id": 4, "first_frame": 30, "last_frame": 49, "frames": frames_of(two[30:50], first=30)},
    ]
    (tmp_path / "p.json").write_text(json.dumps(doc))
    page = open_page(build_html(tmp_path / "p.json", tmp_path / "p.html"))
    meta = page.js("vp3dViewer.meta")
    assert [p["track_id"] for p in meta["people"]] == [1, 4]
    assert meta["people"][0]["colour"] != meta["people"][1]["colour"]
    page.js("vp3dViewer.seek(0.5)")  # frame 12: only the first person
    assert page.js("vp3dViewer.joints(1)") is None
    page.js("vp3dViewer.seek(1.62)")  # frame 40
    np.testing.assert_allclose(page.js("vp3dViewer.joints(0)"), one[40], atol=1e-5)
    np.testing.assert_allclose(page.js("vp3dViewer.joints(1)"), two[40], atol=1e-5)
    assert page.errors == []


def test_a_ten_minute_clip_opens_and_plays(open_page, tmp_path):
    """15,000 frames (10 min at 25 fps); the load time is measured by bench, not bounded here."""
    n = 15000
    (tmp_path / "long.json").write_text(json.dumps(joints_doc(n=n)))
    html = build_html(tmp_path / "long.json", tmp_path / "long.html")
    assert html.stat().st_size < 12e6
    page = open_page(html)
    assert page.js("vp3dViewer.meta.frame_count") == n
    page.js(f"vp3dViewer.seek({(n - 1) / FPS})")
    assert page.js("vp3dViewer.frameIndex()") == n - 1
    np.testing.assert_allclose(page.js("vp3dViewer.joints()"), scene_motion(n)[n - 1], atol=1e-4)
    page.js("vp3dViewer.seek(0)")
    page.js("document.getElementById('play').click()")  # no video: the page's own clock
    page.page.wait_for_timeout(500)
    assert page.js("vp3dViewer.frameIndex()") > 3
    assert page.errors == []


def test_missing_chromium_fails_under_ci_and_skips_elsewhere(monkeypatch):
    monkeypatch.delenv("VP3D_CHROMIUM", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="headless Chromium"):
        chromium_path()
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        chromium_path()


def test_vendored_three_is_the_pinned_release():
    import hashlib

    from vp3d.viewer.build import THREE_VERSION, VENDOR
    note = (VENDOR.parent / "README.md").read_text()
    assert f"three {THREE_VERSION}" in note
    pinned = dict(reversed(line.split()) for line in note.splitlines() if line.startswith("    ") and
                  len(line.split()) == 2)
    assert set(pinned) == {"three.module.min.js", "three.core.min.js", "OrbitControls.js", "LICENSE"}
    for name, digest in pinned.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    assert "MIT License" in (VENDOR / "LICENSE").read_text()
