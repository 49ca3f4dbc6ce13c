"""Joint angles from 3D Human3.6M-17 joints, in degrees, one value per frame.

Input: `joints3d (T, 17, 3)` metres in Human3.6M order (`vp3d.skeleton.H36M`), `detected (T,)` (frames
that were filled in get NaN in every angle, never an interpolated number) and the frame the joints are in:
"world" (Y up, as written by `--world --up y`) or "camera" (x right, y down, z forward). Frames whose
bones have zero length (degenerate poses) are NaN too.

Body axes, rebuilt per frame from the joints (H3.6M has no marker clusters, so there are no segment
frames beyond these):

- trunk axis `up_b` = thorax (8) - hip centre (0);
- left axis `left_b` = left hip (4) - right hip (1);
- forward `fwd_b` = left_b x up_b, normalised (for a person standing upright facing +z in a Y-up frame,
  left is +x and forward is +z).

Definitions (bones by joint index; all angles in degrees):

| name | bones | 0 deg means | sign / range |
| --- | --- | --- | --- |
| `{left,right}_knee_flexion` | thigh hip->knee (1->2 / 4->5), shank knee->ankle (2->3 / 5->6) | straight leg | angle between the two bone directions, 0..180; + = bent. Unsigned: H3.6M has no toe, so hyperextension reads as a small positive angle |
| `{left,right}_hip_flexion` | thigh hip->knee vs. the trunk's downward axis -up_b, in the sagittal plane (fwd_b, up_b) | thigh along the trunk (standing) | atan2(thigh.fwd_b, thigh.(-up_b)); + = knee forward (flexion), - = knee behind (extension), -180..180. Abduction alone gives 0 |
| `{left,right}_elbow_flexion` | upper arm shoulder->elbow (11->12 / 14->15), forearm elbow->wrist (12->13 / 15->16) | straight arm | angle between the two bone directions, 0..180; + = bent |
| `{left,right}_shoulder_elevation` | upper arm shoulder->elbow vs. the trunk's downward axis -up_b | arm hanging along the trunk | 3D angle, 0..180 (90 = arm horizontal when the trunk is upright, in any plane: flexion or abduction; 180 = overhead) |
| `trunk_lean` | trunk axis hip centre->thorax (0->8) vs. the world's up (+Y) | upright | 0..180, unsigned total tilt (forward, backward or sideways). World frame only: NaN for camera-frame joints, whose gravity direction is not known |
| `pelvis_rotation` | hip line right hip->left hip (1->4), projected on the horizontal plane | hip line parallel to the image plane with the left hip on the image's right (square to the camera, facing it) | about the vertical, right-hand rule (+ = counter-clockwise seen from above = the body turns to its left), -180..180 (+-180 = back to the camera). Camera frame: about the camera's vertical (-y), i.e. relative to the camera |
| `shoulder_rotation` | shoulder line right shoulder->left shoulder (14->11), as `pelvis_rotation` | as `pelvis_rotation` | as `pelvis_rotation` |

Rotations are not unwrapped: a person turning round crosses +-180.

How these relate to the conventions of the field
-------------------------------------------------
OpenSim models (gait2392, Rajagopal 2015) and the ISB recommendations (Wu et al. 2002, 2005) use joint
coordinate systems built from segment frames with three rotations per joint. The joints here define no
segment rotation about the bones, so only the angles that two or three joint centres fix are given:

| vp3d | OpenSim coordinate | ISB | Sports2D (2D, image plane) |
| --- | --- | --- | --- |
| `*_knee_flexion` | `knee_angle_r/_l` (gait2392 / Rajagopal: flexion is **negative** there; vp3d's is positive, so knee_angle = -knee_flexion) | knee flexion (+), Grood & Suntay | "right knee" / "left knee" (ankle-knee-hip, flexion, 0 = straight) |
| `*_hip_flexion` | `hip_flexion_r/_l` (+ flexion), but relative to the pelvis segment; vp3d's reference is the hip->thorax trunk axis, so lumbar flexion is included | hip flexion (+) | "right hip" / "left hip" (thigh vs. the hip->neck trunk line, flexion) |
| `*_elbow_flexion` | `elbow_flex_r/_l` (+ flexion, 0 = straight) | elbow flexion (+) | "right elbow" / "left elbow" (0 = straight) |
| `*_shoulder_elevation` | no single coordinate: combines `arm_flex` and `arm_add` (shoulder_elv in the Holzbaur/MoBL arm models is this angle) | thoracohumeral elevation: the 2nd rotation of the Y-X-Y sequence (same magnitude; its sign convention varies between implementations) | "right shoulder" / "left shoulder" (arm vs. the hip->neck trunk line, signed flexion in the image) |
| `trunk_lean` | `pelvis_tilt` + `lumbar_extension` combined, total tilt, unsigned | trunk/thorax inclination to the global vertical | segment "trunk" (neck-hip line from the image's horizontal: upright = 90, so lean = abs(90 - trunk) for motion in the image plane) |
| `pelvis_rotation` | `pelvis_rotation` (about the vertical, in the global frame; its 0 is the lab's axis, here the camera's) | pelvis rotation (global) | none: segment "pelvis" is the hip line's tilt in the image (obliquity), not a rotation about the vertical |
| `shoulder_rotation` | no coordinate (thorax rotation = pelvis_rotation + lumbar_rotation) | thorax rotation (global) | none: segment "shoulders" is the shoulder line's tilt in the image |

Sports2D measures in the image (2D), so its angles equal these only for motion in a plane parallel to the
image; vp3d's are 3D and do not depend on the camera's viewpoint (except the rotations' zero).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .skeleton import H36M

FRAMES = ("world", "camera")

# name -> the columns it stands for (left before right); used by `vp3d plot --angles knee,hip`.
ANGLE_GROUPS: dict[str, tuple[str, ...]] = {
    "knee": ("left_knee_flexion", "right_knee_flexion"),
    "hip": ("left_hip_flexion", "right_hip_flexion"),
    "elbow": ("left_elbow_flexion", "right_elbow_flexion"),
    "shoulder": ("left_shoulder_elevation", "right_shoulder_elevation"),
    "trunk": ("trunk_lean",),
    "pelvis": ("pelvis_rotation",),
    "shoulders": ("shoulder_rotation",),
}
ANGLE_NAMES: tuple[str, ...] = tuple(n for group in ANGLE_GROUPS.values() for n in group)

_J = {name: i for i, name in enumerate(H36M.joint_names)}


def _unit(v: np.ndarray) -> np.ndarray:
    """Unit vectors along the last axis; NaN where the length is (near) zero."""
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 1e-9, v / np.where(n > 0, n, 1.0), np.nan)


def _angle_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle in degrees between vectors a and b (..., 3), 0..180; NaN for zero-length vectors."""
    cos = np.sum(_unit(a) * _unit(b), axis=-1)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def _bone(joints: np.ndarray, a: str, b: str) -> np.ndarray:
    return joints[:, _J[b]] - joints[:, _J[a]]


def joint_angles(joints3d, detected=None, frame: str = "world") -> dict[str, np.ndarray]:
    """Per-frame angles in degrees (see the module docstring): {name: (T,) float64}, in ANGLE_NAMES order.

    joints3d: (T, 17, 3) metres, Human3.6M-17. detected: (T,) bool, None = all detected; NaN where False.
    frame: "world" (Y up) or "camera" (x right, y down, z forward).
    """
    joints = np.asarray(joints3d, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[1:] != (H36M.num_joints, 3):
        raise ValueError(f"joints3d must be (T, {H36M.num_joints}, 3), got {joints.shape}")
    if frame not in FRAMES:
        raise ValueError(f"frame must be one of {FRAMES}, got {frame!r}")
    T = joints.shape[0]
    mask = np.ones(T, dtype=bool) if detected is None else np.asarray(detected, dtype=bool).reshape(-1)
    if mask.shape != (T,):
        raise ValueError(f"detected must be ({T},), got {mask.shape}")

    if frame == "camera":
        # Rotate 180 deg about x: (x, -y, -z) is Y up, z towards the camera, same handedness.
        joints = joints * np.array([1.0, -1.0, -1.0])
    up_world = np.array([0.0, 1.0, 0.0])

    up_b = _unit(_bone(joints, "hip", "thorax"))
    left_b = _bone(joints, "right_hip", "left_hip")
    fwd_b = _unit(np.cross(left_b, up_b))

    out: dict[str, np.ndarray] = {}
    for side in ("left", "right"):
        out[f"{side}_knee_flexion"] = _angle_between(_bone(joints, f"{side}_hip", f"{side}_knee"),
                                                     _bone(joints, f"{side}_knee", f"{side}_foot"))
    for side in ("left", "right"):
        thigh = _bone(joints, f"{side}_hip", f"{side}_knee")
        along = np.sum(thigh * -up_b, axis=-1)
        ahead = np.sum(thigh * fwd_b, axis=-1)
        deg = np.degrees(np.arctan2(ahead, along))
        deg[~np.isfinite(along) | ~np.isfinite(ahead) | (np.linalg.norm(thigh, axis=-1) < 1e-9)] = np.nan
        out[f"{side}_hip_flexion"] = deg
    for side in ("left", "right"):
        out[f"{side}_elbow_flexion"] = _angle_between(_bone(joints, f"{side}_shoulder", f"{side}_elbow"),
                                                      _bone(joints, f"{side}_elbow", f"{side}_wrist"))
    for side in ("left", "right"):
        out[f"{side}_shoulder_elevation"] = _angle_between(
            _bone(joints, f"{side}_shoulder", f"{side}_elbow"), -up_b)
    if frame == "world":
        out["trunk_lean"] = _angle_between(up_b, np.broadcast_to(up_world, up_b.shape))
    else:
        out["trunk_lean"] = np.full(T, np.nan)
    out["pelvis_rotation"] = _heading(_bone(joints, "right_hip", "left_hip"))
    out["shoulder_rotation"] = _heading(_bone(joints, "right_shoulder", "left_shoulder"))

    for name in out:
        out[name] = np.where(mask, out[name], np.nan).astype(np.float64)
    return out


def _heading(line: np.ndarray) -> np.ndarray:
    """Rotation of a right->left line about +Y (Y up, z towards the viewer), degrees, 0 = along +x."""
    x, z = line[:, 0], line[:, 2]
    deg = np.degrees(np.arctan2(-z, x))
    deg[np.hypot(x, z) < 1e-9] = np.nan
    return deg


class AngleSeries(NamedTuple):
    angles: dict[str, np.ndarray]  # name -> (T,) degrees, NaN where not detected
    detected: np.ndarray  # (T,) bool
    fps: float  # the average rate for a variable one
    first_frame: int  # video frame of row 0 (a person of a vp3d.joints/2 file starts at its first_frame)
    times: np.ndarray | None = None  # (T,) seconds of each row's frame for a variable frame rate; None: constant
    # (row t at (first_frame + t) / fps), as vp3d.video.VideoInfo.frame_times


def angles_from_joints_json(data: dict, person: int = 0) -> AngleSeries:
    """Angles of a parsed vp3d.joints/1 document, or of person k (index into `people`) of a /2 document,
    over that person's own span first_frame..last_frame. A file of a variable-rate video gives its frames'
    own times (frames[].time_s); a constant-rate one, and an older file without times, gives None."""
    frame = data.get("joints3d", {}).get("frame", "camera")
    world = data.get("joints3d", {}).get("world") or {}
    if "frames" in data:
        frames = data["frames"]
        first = int(frames[0].get("index", 0)) if frames else 0
    else:
        entry = data["people"][person]
        frames = entry["frames"]
        first = int(entry.get("first_frame", frames[0].get("index", 0) if frames else 0))
    joints = np.array([f["joints3d"] for f in frames], dtype=np.float64).reshape(-1, H36M.num_joints, 3)
    detected = np.array([bool(f.get("detected", True)) for f in frames], dtype=bool)
    if frame == "world" and world.get("up_axis", "y") == "z":
        joints = joints[..., [0, 2, 1]] * np.array([1.0, 1.0, -1.0])  # x, z, -y: Y up, z towards camera
    times = None
    if data["video"].get("variable_frame_rate") and frames and all("time_s" in f for f in frames):
        times = np.array([float(f["time_s"]) for f in frames], dtype=np.float64)
    return AngleSeries(joint_angles(joints, detected, frame), detected, float(data["video"]["fps"]), first, times)


def write_angles_csv(path, angles: dict[str, np.ndarray], fps: float, detected=None, first_frame: int = 0,
                     times=None) -> Path:
    """CSV: a '#' comment line (units, definitions), header `frame,time_s,detected,<angle names>`, one row
    per frame (video frame `first_frame + t`), NaN written as an empty field. time_s: `times[t]`, the
    frames' own times of a variable-rate video (fps is then their average), or (first_frame + t) / fps
    when None. Written to a temporary name, then renamed. Read it with `pandas.read_csv(path, comment="#")`."""
    path = Path(path)
    names = list(angles)
    T = len(next(iter(angles.values()))) if angles else 0
    det = np.ones(T, dtype=bool) if detected is None else np.asarray(detected, dtype=bool)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            rate = f"{fps:.6g} fps" if times is None else \
                f"variable frame rate ({fps:.6g} fps on average; time_s: each frame's own time)"
            f.write(f"# vp3d joint angles, degrees, {rate}; empty = not detected (filled-in frame) "
                    "or undefined; definitions: vp3d/angles.py\n")
            f.write(",".join(["frame", "time_s", "detected", *names]) + "\n")
            for t in range(T):
                time_s = (first_frame + t) / fps if times is None else float(times[t])
                cells = [str(first_frame + t), f"{time_s:.6f}", "1" if det[t] else "0"]
                for name in names:
                    v = float(angles[name][t])
                    cells.append("" if math.isnan(v) else f"{v:.3f}")
                f.write(",".join(cells) + "\n")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def angle_summary(angles: dict[str, np.ndarray]) -> dict[str, dict]:
    """Per angle over its non-NaN frames: {min, max, range (max - min, the range of motion), mean, frames};
    values None when no frame has the angle."""
    summary = {}
    for name, values in angles.items():
        v = np.asarray(values, dtype=np.float64)
        v = v[np.isfinite(v)]
        if v.size == 0:
            summary[name] = {"min": None, "max": None, "range": None, "mean": None, "frames": 0}
        else:
            lo, hi = float(v.min()), float(v.max())
            summary[name] = {"min": round(lo, 3), "max": round(hi, 3), "range": round(hi - lo, 3),
                             "mean": round(float(v.mean()), 3), "frames": int(v.size)}
    return summary


def write_summary_json(path, angles: dict[str, np.ndarray], fps: float, variable_frame_rate: bool = False) -> Path:
    """The CSV's companion JSON: {"schema": "vp3d.angles_summary/1", "units": "degrees", "fps", "summary"},
    with "variable_frame_rate": true after "fps" (then the average rate) for a variable-rate video."""
    path = Path(path)
    doc = {"schema": "vp3d.angles_summary/1", "units": "degrees", "fps": fps,
           **({"variable_frame_rate": True} if variable_frame_rate else {}),
           "definitions": "vp3d/angles.py", "summary": angle_summary(angles)}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
