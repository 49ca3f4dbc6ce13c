"""BVH reader: hierarchy + motion parsing and vectorised forward kinematics.

Conventions (those of the Biovision format as written by MotionBuilder, Daz, cgspeed and most tools):
- rotation channels are Euler angles in degrees, composed in the order listed (R = R1 R2 R3), any order;
- a joint's position channels (the root's, or any other joint's) replace its OFFSET;
- an `End Site` becomes a joint named `<parent>End` (the name the independent CSV dumps use).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .kinematics import euler_matrix, forward_kinematics
from .mapping import detect_mapping, load_mapping
from .motion import Motion, finish, subject_of


@dataclass
class BvhData:
    names: list[str]
    parents: list[int]
    offsets: np.ndarray            # (J, 3) file units
    channels: list[list[str]]      # per joint, e.g. ["Zrotation", "Xrotation", "Yrotation"]; [] for end sites
    frame_time: float              # seconds, as the header claims
    motion: np.ndarray             # (T, total channels) float64

    def column(self, joint: int) -> int:
        """First motion column of `joint`."""
        return sum(len(c) for c in self.channels[:joint])


def _parse_hierarchy(lines: list[str]):
    names, parents, offsets, channels, stack = [], [], [], [], []
    pending = None  # index of the joint whose '{' has not been seen yet
    for raw in lines:
        tok = raw.split()
        if not tok:
            continue
        key = tok[0].upper()
        if key in ("ROOT", "JOINT") or (key == "END" and len(tok) > 1 and tok[1].upper() == "SITE"):
            parent = stack[-1] if stack else -1
            name = raw.strip()[len(tok[0]):].strip() if key != "END" else f"{names[parent]}End"
            while name in names:  # several end sites under one joint
                name += "_"
            names.append(name), parents.append(parent), offsets.append((0.0, 0.0, 0.0)), channels.append([])
            pending = len(names) - 1
        elif key == "{":
            stack.append(pending)
        elif key == "}":
            stack.pop()
        elif key == "OFFSET":
            offsets[stack[-1]] = tuple(float(v) for v in tok[1:4])
        elif key == "CHANNELS":
            channels[stack[-1]] = tok[2:2 + int(tok[1])]
    return names, parents, np.array(offsets, dtype=np.float64), channels


def _parse_numbers(text: str, n_cols: int, n_frames: int) -> np.ndarray:
    """All frames as (T, n_cols): a fast C parser; Python's float() only if that one stopped early."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        values = np.fromstring(text, dtype=np.float64, sep=" ")
    if values.size < n_cols * n_frames:  # fromstring stops silently at a token it cannot read
        values = np.array([float(v) for v in text.split()], dtype=np.float64)
    if n_cols == 0:
        return np.zeros((0, 0))
    return values[: values.size - values.size % n_cols].reshape(-1, n_cols)  # whole frames only


def read_bvh(path: str | Path) -> BvhData:
    text = Path(path).read_text(errors="replace")
    m = re.search(r"^\s*MOTION\s*$", text, flags=re.MULTILINE)
    if m is None:
        raise ValueError(f"{path}: no MOTION section")
    names, parents, offsets, channels = _parse_hierarchy(text[: m.start()].splitlines())
    body = text[m.end():]
    frames = re.search(r"Frames:\s*(\d+)", body)
    ftime = re.search(r"Frame Time:\s*([-+0-9.eE]+)[^\n]*\n", body)
    if frames is None or ftime is None:
        raise ValueError(f"{path}: missing 'Frames:' or 'Frame Time:'")
    motion = _parse_numbers(body[ftime.end():], sum(len(c) for c in channels), int(frames.group(1)))
    if len(motion) != int(frames.group(1)):
        warnings.warn(f"{path}: header says {frames.group(1)} frames, data has {len(motion)}")
    return BvhData(names, parents, offsets, channels, float(ftime.group(1)), motion)


def _ancestors_closure(parents: list[int], wanted: list[int]) -> list[int]:
    keep = set()
    for j in wanted:
        while j >= 0 and j not in keep:
            keep.add(j)
            j = parents[j]
    return sorted(keep)


def rest_offset(bvh: BvhData, joint: str) -> np.ndarray:
    """Rest-pose vector from `joint`'s parent to `joint` (file units, parent frame)."""
    return bvh.offsets[bvh.names.index(joint)]


def joint_positions(bvh: BvhData, joints: list[str], points: dict | None = None) -> np.ndarray:
    """World positions (T, len(joints), 3) in file units.

    `points` adds rigidly attached points {name: (joint, offset)} (offset in that joint's rest frame) that
    `joints` may name. Only the joints needed and their ancestors are computed (fingers etc. are skipped).
    """
    points = points or {}
    index = {n: i for i, n in enumerate(bvh.names)}
    missing = [j for j in joints if j not in index and j not in points] + \
              [p for p, _ in points.values() if p not in index]
    if missing:
        raise KeyError(f"joints not in the BVH: {missing}")
    wanted = [index[j] for j in joints if j in index] + [index[p] for p, _ in points.values()]
    subset = _ancestors_closure(bvh.parents, wanted)
    remap = {old: new for new, old in enumerate(subset)}
    n_frames = len(bvh.motion)
    offsets = np.broadcast_to(bvh.offsets[subset], (n_frames, len(subset), 3)).copy()
    rot = np.broadcast_to(np.eye(3), (n_frames, len(subset), 3, 3)).copy()
    for new, old in enumerate(subset):
        col, chans = bvh.column(old), bvh.channels[old]
        for k, c in enumerate(chans):  # position channels replace the offset (axes not given keep it)
            if c.lower().endswith("position"):
                offsets[:, new, "xyz".index(c[0].lower())] = bvh.motion[:, col + k]
        rot_idx = [(col + k, c[0]) for k, c in enumerate(chans) if c.lower().endswith("rotation")]
        if rot_idx:
            cols, axes = zip(*rot_idx)
            rot[:, new] = euler_matrix(bvh.motion[:, list(cols)], "".join(axes))
    parents = [remap.get(bvh.parents[old], -1) for old in subset]
    # offsets[:, 0] is the root's position: its channels, or its OFFSET when it has none.
    pos, world = forward_kinematics(parents, offsets, rot, offsets[:, 0])
    out = []
    for name in joints:
        if name in points:
            parent, offset = points[name]
            j = remap[index[parent]]
            out.append(pos[:, j] + world[:, j] @ np.asarray(offset, dtype=np.float64))
        else:
            out.append(pos[:, remap[index[name]]])
    return np.stack(out, axis=1)


def _header_fps(frame_time: float) -> float:
    """Rate from `Frame Time`, snapped to a whole number when the header just rounded it (.0083333 -> 120)."""
    fps = 1.0 / frame_time
    return float(round(fps)) if abs(fps - round(fps)) < 1e-3 * fps else fps


def load_bvh(path: str | Path, mapping=None, fps: float = 50.0, source_fps: float | None = None,
             trim: bool = True) -> Motion:
    """A BVH file as Human3.6M-17 positions in metres at `fps`.

    mapping: shipped name, JSON path, dict or JointMapping; default: detected from the joint names.
    source_fps: the true capture rate when the header's `Frame Time` is wrong (default: trust the header).
    trim: drop the pasted T-pose and other junk frames at the start (`motion.leading_junk`).
    """
    bvh = read_bvh(path)
    m = detect_mapping(bvh.names) if mapping is None else load_mapping(mapping)
    points = m.resolved_points(lambda j: rest_offset(bvh, j))
    pos = m.apply(joint_positions(bvh, m.sources(), points)) * (1.0 if m.scale is None else m.scale)
    src = source_fps or _header_fps(bvh.frame_time)
    return finish(Path(path).stem, subject_of(path), m.name, pos, src, fps, trim)
