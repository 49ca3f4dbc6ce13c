"""Per-frame joints to JSON and NPZ (schema `vp3d.joints/1`, documented in README.md).

3D joints are in metres, Human3.6M 17-joint order, in the camera frame (x right, y down, z forward)
and root-relative (the hip joint is the origin). 2D keypoints are in pixels of the upright video.
Files are written to a temporary name and renamed, so a failure leaves no partial file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..skeleton import H36M, get_layout

SCHEMA = "vp3d.joints/1"
COORDINATES_3D = ("camera frame: x right, y down, z forward (away from the camera), metres; "
                  "root-relative: joint 0 (hip) is the origin of every frame")


def atomic_write(path: str | os.PathLike, write) -> Path:
    """Call write(tmp_path), then rename tmp_path to path (same directory, so the rename is atomic)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.partial{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def describe(result) -> dict:
    """Everything but the per-frame arrays, as stored in both JSON and NPZ."""
    video, kp, lift = result.video, result.keypoints, result.lifter
    layout2d = get_layout(kp.layout)
    return {
        "schema": SCHEMA,
        "video": {"path": str(video.path), "width": video.width, "height": video.height, "fps": video.fps,
                  "frame_count": int(len(kp.xy)), "rotation": video.rotation},
        "camera": {"focal_length_px": result.focal_px, "principal_point_px": [video.width / 2, video.height / 2],
                   "source": result.focal_source},
        "detector": {"name": result.detector_name, "layout": layout2d.name,
                     "joint_names": list(layout2d.joint_names), "units": "pixels",
                     "frames_detected": int(kp.detected.sum())},
        "lifter": {"checkpoint": str(result.checkpoint), "receptive_field": lift.receptive_field,
                   "causal": lift.causal, "channels": lift.channels, "trained_fps": lift.fps,
                   "input_layout": lift.input_layout, "flip_augmentation": result.flip},
        "joints3d": {"layout": H36M.name, "joint_names": list(H36M.joint_names), "parents": list(H36M.parents),
                     "units": "metres", "coordinates": COORDINATES_3D,
                     "root_trajectory": result.trajectory is not None},
    }


def write_json(path: str | os.PathLike, result) -> Path:
    kp = result.keypoints
    fps = result.video.fps
    frames = []
    for i in range(len(kp.xy)):
        frames.append({
            "index": i,
            "time_s": round(i / fps, 6),
            "detected": bool(kp.detected[i]),
            "keypoints2d": np.round(np.concatenate([kp.xy[i], kp.score[i, :, None]], 1), 3).tolist(),
            "joints3d": np.round(result.poses3d[i], 5).tolist(),
            "root_camera": None if result.trajectory is None else np.round(result.trajectory[i], 5).tolist(),
        })
    doc = {**describe(result), "frames": frames}

    def write(tmp):
        with open(tmp, "w") as f:
            json.dump(doc, f, separators=(",", ":"))
    return atomic_write(path, write)


def write_npz(path: str | os.PathLike, result) -> Path:
    kp = result.keypoints
    arrays = {
        "keypoints2d": kp.xy.astype(np.float32),  # (T, J, 2) pixels
        "scores2d": kp.score.astype(np.float32),  # (T, J)
        "detected": kp.detected.astype(bool),  # (T,)
        "joints3d": result.poses3d.astype(np.float32),  # (T, 17, 3) metres, camera frame, root-relative
        "fps": np.float64(result.video.fps),
        "width": np.int32(result.video.width),
        "height": np.int32(result.video.height),
        "joint_names": np.array(H36M.joint_names),
        "parents": np.array(H36M.parents, dtype=np.int32),
        "metadata": np.array(json.dumps(describe(result))),
    }
    if result.trajectory is not None:
        arrays["root_camera"] = result.trajectory.astype(np.float32)  # (T, 3) metres

    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)
    return atomic_write(path, write)


def write_custom_2d_npz(path: str | os.PathLike, result) -> Path:
    """The reference release's custom 2D dataset format (positions_2d / metadata), readable by its
    tooling (`run.py -d custom -k <name>`)."""
    from ..lifter.h36m import save_custom_2d_npz
    kp = result.keypoints
    name = Path(result.video.path).name

    def write(tmp):
        save_custom_2d_npz(tmp, name, kp.xy, result.video.width, result.video.height, kp.layout)
    return atomic_write(path, write)
