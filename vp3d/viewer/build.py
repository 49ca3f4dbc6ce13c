"""One self-contained HTML page that shows a vp3d joints file in 3D (three.js), beside its video.

`build_html(joints_json, out_html, video=None)` reads a `vp3d.joints/1` or `/2` file and writes a page that
works offline from disk: three.js (vendor/three, pinned, MIT) and the page's code (viewer.js) are inlined,
the joints are embedded as base64 float32, and the video, when there is one, is linked by its path relative
to the page (it is not copied). Scene coordinates (Y up, metres, z towards the original camera):

- world frame, `--up y`: as in the file (the floor is y = 0);
- world frame, `--up z` (x right, y away, z up): (x, z, -y);
- camera frame (x right, y down, z forward): (x, -y, -z), a 180 deg turn about x, so the person stands
  upright; the floor is put at the 5th percentile of each frame's lowest point. With a root trajectory
  (`root_camera` in every frame) the joints are moved by it; without, the hip stays at the origin.
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path
from urllib.parse import quote

import numpy as np

from ..skeleton import H36M

HERE = Path(__file__).resolve().parent
VENDOR = HERE / "vendor" / "three"
THREE_VERSION = "0.185.1"

# The render's track colours (vp3d's PERSON_COLORS are BGR), as RGB hex; person k gets PERSON_HEX[k % 8].
PERSON_HEX = ("#1e96ff", "#e62828", "#3cc83c", "#ffc800", "#c850c8", "#00e6e6", "#ff7800", "#285a96")
VIDEO_SUFFIXES = (".mp4", ".webm", ".mov", ".m4v", ".mkv")


def to_scene(joints: np.ndarray, frame: str, up_axis: str = "y") -> np.ndarray:
    """(..., 3) joints of a vp3d file -> the viewer's Y-up scene coordinates (see the module docstring)."""
    j = np.asarray(joints, dtype=np.float64)
    if frame == "world":
        if up_axis == "z":
            return np.stack([j[..., 0], j[..., 2], -j[..., 1]], axis=-1)
        return j.copy()
    return j * np.array([1.0, -1.0, -1.0])


def find_video(json_path: Path, doc: dict) -> Path | None:
    """A video next to the joints file: <stem>.mp4 (or the original's file name), then <stem>.vp3d.mp4."""
    json_path = Path(json_path)
    stem = json_path.name[:-5] if json_path.name.endswith(".json") else json_path.stem
    folder = json_path.parent
    candidates = [folder / f"{stem}{suffix}" for suffix in VIDEO_SUFFIXES]
    original = (doc.get("video") or {}).get("path")
    if original:
        candidates.append(folder / Path(original).name)
    candidates.append(folder / f"{stem}.vp3d.mp4")
    for path in candidates:
        if path.is_file():
            return path
    return None


def _b64(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


def _people(doc: dict) -> list[dict]:
    """[{track_id, first_frame, frames}] for a /1 (one person from frame 0) or /2 document."""
    if "people" in doc:
        return [{"track_id": p.get("track_id", k), "first_frame": int(p.get("first_frame", p["frames"][0]["index"]
                                                                        if p["frames"] else 0)),
                 "frames": p["frames"]} for k, p in enumerate(doc["people"])]
    return [{"track_id": 0, "first_frame": int(doc["frames"][0]["index"]) if doc["frames"] else 0,
             "frames": doc["frames"]}]


def viewer_data(doc: dict) -> tuple[dict, list[str]]:
    """(metadata for the page, [base64 blocks]): per person a float32 (N, 17, 3) scene-coordinate block and
    a uint8 (N,) detected block, N = the person's frames from first_frame on."""
    joints_meta = doc.get("joints3d", {})
    frame = joints_meta.get("frame", "camera")
    up_axis = (joints_meta.get("world") or {}).get("up_axis", "y")
    video = doc.get("video", {})
    fps = float(video.get("fps") or 25.0)
    people, blocks, lowest = [], [], []
    frame_count = int(video.get("frame_count") or 0)
    for k, person in enumerate(_people(doc)):
        frames = person["frames"]
        pts = np.array([f["joints3d"] for f in frames], dtype=np.float64).reshape(-1, H36M.num_joints, 3)
        if frame == "camera" and frames and all(f.get("root_camera") is not None for f in frames):
            pts = pts + np.array([f["root_camera"] for f in frames], dtype=np.float64)[:, None, :]  # trajectory
        det = np.array([bool(f.get("detected", True)) for f in frames], dtype=np.uint8)
        scene = to_scene(pts, frame, up_axis).astype(np.float32)
        if len(scene):
            lowest.append(scene[det.astype(bool) if det.any() else slice(None), :, 1].min(axis=1))
        first = person["first_frame"]
        frame_count = max(frame_count, first + len(frames))
        people.append({"track_id": person["track_id"], "first_frame": first, "frames": len(frames),
                       "colour": PERSON_HEX[k % len(PERSON_HEX)], "joints_block": len(blocks),
                       "detected_block": len(blocks) + 1})
        blocks += [_b64(scene), _b64(det)]
    if frame == "world":
        floor = 0.0
    else:
        floor = float(np.percentile(np.concatenate(lowest), 5)) if lowest else 0.0
    meta = {
        "schema": doc.get("schema"), "frame": frame, "up_axis": up_axis, "fps": fps,
        "frame_count": frame_count, "floor_y": floor, "parents": list(H36M.parents),
        "joint_names": list(H36M.joint_names), "left": list(H36M.left), "right": list(H36M.right),
        "people": people, "multi": "people" in doc,
        "video_size": [video.get("width"), video.get("height")],
    }
    return meta, blocks


def _data_url(js: str) -> str:
    return "data:text/javascript;base64," + base64.b64encode(js.encode("utf-8")).decode("ascii")


def import_map() -> str:
    """The page's import map: three and OrbitControls as data: URLs (works from file://, no network)."""
    core = (VENDOR / "three.core.min.js").read_text(encoding="utf-8")
    module = (VENDOR / "three.module.min.js").read_text(encoding="utf-8")
    if '"./three.core.min.js"' not in module:
        raise RuntimeError("vendored three.module.min.js no longer imports ./three.core.min.js")
    # A data: URL has no folder, so the module's relative import becomes a mapped bare name.
    module = module.replace('"./three.core.min.js"', '"three/core"')
    controls = (VENDOR / "OrbitControls.js").read_text(encoding="utf-8")
    imports = {"three": _data_url(module), "three/core": _data_url(core), "three/orbit": _data_url(controls)}
    return json.dumps({"imports": imports})


def _script_safe(text: str) -> str:
    return text.replace("</", "<\\/")


def build_html(joints_json_path, out_html, video=None, title: str | None = None) -> Path:
    """Write the viewer page for `joints_json_path` to `out_html` (temp name, then rename); returns its path.

    video: a video file to play in sync (linked by its path relative to the page); None = look next to the
    JSON (find_video); False = no video.
    """
    json_path = Path(joints_json_path)
    out = Path(out_html)
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    schema = doc.get("schema", "")
    if schema not in ("vp3d.joints/1", "vp3d.joints/2"):
        raise ValueError(f"{json_path}: not a vp3d joints file (schema {schema!r})")
    meta, blocks = viewer_data(doc)
    video_path = None if video is False else (Path(video) if video else find_video(json_path, doc))
    if video_path is not None and not Path(video_path).is_file():
        raise FileNotFoundError(f"video not found: {video_path}")
    if video_path is not None:
        rel = os.path.relpath(Path(video_path).resolve(), out.resolve().parent)
        meta["video_src"] = quote(Path(rel).as_posix())
    else:
        meta["video_src"] = None
    meta["three_version"] = THREE_VERSION
    meta["source"] = json_path.name

    template = (HERE / "viewer.html").read_text(encoding="utf-8")
    script = (HERE / "viewer.js").read_text(encoding="utf-8")
    data = "\n".join(f'<script type="application/octet-stream" id="vp3d-block-{i}">{b}</script>'
                     for i, b in enumerate(blocks))
    page_title = title or f"vp3d - {json_path.name}"
    if "</script" in script.lower():
        raise RuntimeError("viewer.js must not contain '</script' (it is inlined in a <script> element)")
    values = {"TITLE": _html_escape(page_title), "IMPORTMAP": _script_safe(import_map()),
              "META": _script_safe(json.dumps(meta)), "BLOCKS": data, "SCRIPT": script}
    html = re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], template)  # one pass: no re-substitution
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(html, encoding="utf-8")
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
