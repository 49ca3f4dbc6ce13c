"""Acclaim ASF (skeleton) / AMC (motion) reader with vectorised forward kinematics.

Acclaim conventions implemented here:
- `:units length L` means one file unit is 1/L inch (CMU: L = 0.45), so metres = value * 0.0254 / L;
  `angle deg|rad` (an AMC `:RADIANS` header overrides).
- Each bone has a global rest `direction` (unit) and `length`; its `axis a b c ORDER` gives its local frame C
  (Euler angles, the first listed axis acting first); `dof` lists the AMC values of the bone, in order, and the
  rotation M is composed in that order too. Column-vector form of the Acclaim rule v*L, L = C^-1 M C:
  local rotation = C M C^-1, world = parent_world @ local, bone end = bone start + world @ (direction * length).
- Joint names: a bone's name is the joint at its *start* (lfemur = hip joint, lhand = wrist) as in BVH
  conversions of CMU data; `<bone>End` is a bone's end (headEnd = top of head); the root is `root`.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .kinematics import euler_matrix
from .mapping import load_mapping
from .motion import Motion, finish, subject_of


@dataclass
class Bone:
    name: str
    direction: np.ndarray = field(default_factory=lambda: np.zeros(3))
    length: float = 0.0
    axis: np.ndarray = field(default_factory=lambda: np.zeros(3))
    axis_order: str = "XYZ"
    dof: list[str] = field(default_factory=list)  # e.g. ["rx", "ry", "rz"] (lower case)


@dataclass
class Asf:
    bones: dict[str, Bone]           # includes "root" (its dof = the root `order`)
    children: dict[str, list[str]]
    length_unit: float = 1.0         # `:units length`
    degrees: bool = True
    root_position: np.ndarray = field(default_factory=lambda: np.zeros(3))

    @property
    def metres_per_unit(self) -> float:
        return 0.0254 / self.length_unit


def _sections(text: str) -> dict[str, list[list[str]]]:
    """Tokenised lines of each `:keyword` section (comments dropped)."""
    out, current = {}, None
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith(":"):
            key, *rest = line[1:].split()
            current = out.setdefault(key.lower(), [])
            if rest:
                current.append(rest)
        elif current is not None:
            current.append(line.split())
    return out


def read_asf(path: str | Path) -> Asf:
    sec = _sections(Path(path).read_text(errors="replace"))
    asf = Asf(bones={}, children={})
    for tok in sec.get("units", []):
        if tok[0].lower() == "length":
            asf.length_unit = float(tok[1])
        elif tok[0].lower() == "angle":
            asf.degrees = tok[1].lower().startswith("deg")
    root = Bone("root")
    for tok in sec.get("root", []):
        key = tok[0].lower()
        if key == "order":
            root.dof = [t.lower() for t in tok[1:]]
        elif key == "axis":
            root.axis_order = tok[1].upper()
        elif key == "position":
            asf.root_position = np.array([float(v) for v in tok[1:4]])
        elif key == "orientation":
            root.axis = np.array([float(v) for v in tok[1:4]])
    asf.bones["root"] = root
    bone = None
    for tok in sec.get("bonedata", []):
        key = tok[0].lower()
        if key == "begin":
            bone = Bone("")
        elif key == "end":
            asf.bones[bone.name] = bone
        elif key == "name":
            bone.name = tok[1]
        elif key == "direction":
            bone.direction = np.array([float(v) for v in tok[1:4]])
        elif key == "length":
            bone.length = float(tok[1])
        elif key == "axis":
            bone.axis, bone.axis_order = np.array([float(v) for v in tok[1:4]]), tok[4].upper()
        elif key == "dof":
            bone.dof = [t.lower() for t in tok[1:]]
    for tok in sec.get("hierarchy", []):
        if tok[0].lower() not in ("begin", "end"):
            asf.children.setdefault(tok[0], []).extend(tok[1:])
    return asf


def read_amc(path: str | Path, asf: Asf) -> tuple[dict[str, np.ndarray], bool]:
    """Per bone (T, n_dof) values, and whether angles are in degrees.

    Fast path: every frame lists the same bones in the same order (true of all CMU files), so the bone names
    are blanked out and the remaining numbers (frame index + values) reshaped in one go; a slow line-by-line
    parse handles anything else. An incomplete last frame is dropped.
    """
    text = Path(path).read_text(errors="replace")
    degrees = asf.degrees
    if re.search(r"^:RADIANS", text, flags=re.MULTILINE):
        degrees = False
    elif re.search(r"^:DEGREES", text, flags=re.MULTILINE):
        degrees = True
    first = re.search(r"^\s*\d+\s*$", text, flags=re.MULTILINE)
    if first is None:
        return {}, degrees
    body = text[first.start():]
    block = re.split(r"^\s*\d+\s*$", body, maxsplit=2, flags=re.MULTILINE)[1]
    layout = [(t[0], len(t) - 1) for t in (ln.split() for ln in block.splitlines()) if t]
    period = 1 + sum(n for _, n in layout)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        numbers = np.fromstring(re.sub(r"(?m)^\s*[A-Za-z_]\S*", " ", body), dtype=np.float64, sep=" ")
    n_frames = numbers.size // period  # a truncated last frame (golf_01.amc) is dropped
    table = numbers[: n_frames * period].reshape(n_frames, period)
    if not n_frames or not np.array_equal(table[:, 0], np.arange(table[0, 0], table[0, 0] + n_frames)):
        return _read_amc_slow(body), degrees
    out, col = {}, 1
    for name, n in layout:
        out[name] = table[:, col:col + n]
        col += n
    return out, degrees


def _read_amc_slow(body: str) -> dict[str, np.ndarray]:
    frames: list[dict[str, list[float]]] = []
    for line in body.splitlines():
        tok = line.split()
        if len(tok) == 1 and tok[0].isdigit():
            frames.append({})
        elif tok and frames:
            frames[-1][tok[0]] = [float(v) for v in tok[1:]]
    names = set(frames[0]) if frames else set()
    frames = [f for f in frames if names <= set(f)]  # drop incomplete (truncated) frames
    return {n: np.array([f[n] for f in frames], dtype=np.float64) for n in names}


def _rotation(values: np.ndarray, axes: str, degrees: bool) -> np.ndarray:
    """Acclaim lists axes in the order they act, BVH-style composition lists them outermost first."""
    return euler_matrix(values[..., ::-1], axes[::-1], degrees=degrees)


def rest_offset(asf: Asf, joint: str) -> np.ndarray:
    """Rest-pose vector from `joint`'s parent joint to `joint` (the parent bone's direction * length)."""
    if joint.endswith("End") and joint[:-3] in asf.bones:
        bone = asf.bones[joint[:-3]]
        return bone.direction * bone.length
    parent = next((p for p, kids in asf.children.items() if joint in kids), None)
    if parent is None:
        raise KeyError(f"no bone {joint!r} in the ASF")
    bone = asf.bones[parent]
    return bone.direction * bone.length if parent != "root" else np.zeros(3)


def joint_positions(asf: Asf, motion: dict[str, np.ndarray], degrees: bool,
                    joints: list[str], points: dict | None = None) -> np.ndarray:
    """World positions (T, len(joints), 3) in ASF units; `points` as in `bvh.joint_positions`.

    A joint is a bone's start (`root` = the root), `<bone>End` a bone's end.
    """
    points = points or {}
    n_frames = len(next(iter(motion.values()))) if motion else 0
    root = asf.bones["root"]
    vals = motion.get("root", np.zeros((n_frames, len(root.dof))))
    trans = np.tile(asf.root_position, (n_frames, 1))
    for i, d in enumerate(root.dof):
        if d.startswith("t"):
            trans[:, "xyz".index(d[1])] += vals[:, i]
    rot_cols = [i for i, d in enumerate(root.dof) if d.startswith("r")]
    c_root = _rotation(root.axis, root.axis_order, asf.degrees)
    world = {"root": c_root @ _rotation(vals[:, rot_cols], "".join(root.dof[i][1] for i in rot_cols), degrees)
             @ c_root.T}
    start = {"root": trans}
    queue = ["root"]
    while queue:  # breadth first: a bone's parent is always done before it
        parent = queue.pop(0)
        for name in asf.children.get(parent, []):
            bone = asf.bones[name]
            local = np.broadcast_to(np.eye(3), (n_frames, 3, 3))
            if bone.dof and name in motion:
                c = _rotation(bone.axis, bone.axis_order, asf.degrees)
                local = c @ _rotation(motion[name], "".join(d[1] for d in bone.dof), degrees) @ c.T
            world[name] = world[parent] @ local
            start[name] = start[parent] if parent == "root" else _end(asf, parent, world, start)
            queue.append(name)

    def position(name):
        if name in points:
            joint, offset = points[name]
            return start[joint] + world[joint] @ np.asarray(offset, dtype=np.float64)
        if name.endswith("End") and name[:-3] in start:
            return _end(asf, name[:-3], world, start)
        if name not in start:
            raise KeyError(f"no joint {name!r} in the ASF")
        return start[name]

    return np.stack([position(n) for n in joints], axis=1)


def _end(asf: Asf, name: str, world: dict, start: dict) -> np.ndarray:
    bone = asf.bones[name]
    return start[name] + world[name] @ (bone.direction * bone.length)


# Folders of the shared CMU AMC collection whose subject is known but not in the file names.
KNOWN_SUBJECTS = {"mjackson": "131", "martialwalk": "135", "moderndance": "05"}


def load_asf_amc(asf_path: str | Path, amc_path: str | Path, fps: float = 50.0, mapping="asf",
                 source_fps: float = 120.0, trim: bool = True) -> Motion:
    """An ASF/AMC pair as Human3.6M-17 positions in metres at `fps` (CMU AMC files are 120 fps).

    Units come from the ASF (`:units length`); a mapping's own `scale`, if any, overrides them.
    trim: drop junk frames at the start (`motion.leading_junk`); CMU's AMC files have none.
    """
    asf = read_asf(asf_path)
    motion, degrees = read_amc(amc_path, asf)
    m = load_mapping(mapping)
    points = m.resolved_points(lambda j: rest_offset(asf, j))
    pos = m.apply(joint_positions(asf, motion, degrees, m.sources(), points))
    pos *= asf.metres_per_unit if m.scale is None else m.scale
    amc_path = Path(amc_path)
    subject = subject_of(amc_path)
    subject = KNOWN_SUBJECTS.get(subject, subject)
    return finish(amc_path.stem, subject, m.name, pos, source_fps, fps, trim)
