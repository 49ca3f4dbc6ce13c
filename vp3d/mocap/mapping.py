"""Joint-name mappings from a source rig to the Human3.6M-17 layout.

A mapping is a small JSON object (the shipped ones sit next to this file as `<name>.json`):

    {
      "name": "cmu",                      # becomes Motion.rig
      "scale": 0.056444,                  # source units -> metres (optional; ASF files carry their own units)
      "points": {                         # optional extra points rigidly attached to a source joint:
        "NeckBase": {"joint": "Spine1",   #   position = joint + joint_rotation @ offset, where offset is
                     "offset": "Spine1"}  #   [x, y, z] in source units in the joint's rest frame, or the
      },                                  #   name of a joint whose rest offset (from its parent) is reused
      "joints": {                         # all 17 Human3.6M joints (vp3d.skeleton.H36M.joint_names):
        "right_knee": "RightLeg",         #   one source joint (or point), or
        "hip": {"LeftUpLeg": 0.5, "RightUpLeg": 0.5},   # an affine blend: weights summing to 1
        ...
      }
    }

Weights may be negative (extrapolation, e.g. a wrist beyond a joint), but must sum to 1 so that the result
does not depend on where the world origin is. An `End Site` is the joint `<parent>End` (e.g. "HeadEnd").

Shipped correspondence (R/L alike; "+T" adds the thorax bone T = NeckBase - Spine1 that the CMU BVH
conversion drops, "+S" shifts the Daz arm to the fitted shoulder, "+K" the Daz shin to the fitted knee, "-7.5"
and "-4" lower a point by that many cm in the clavicle's frame, see "Shoulders" below):

    H36M       cmu (BVH, MotionBuilder names)     asf (Acclaim)       daz (offsets in cm, segment frame)
    hip        mid(LeftUpLeg, RightUpLeg)         mid(lfemur,rfemur)  mid(lThigh, rThigh)
    r_hip      RightUpLeg                         rfemur              rThigh
    r_knee     RightLeg                           rtibia              rThigh + (-0.6, -39.5, -3.8)
    r_foot     RightFoot (ankle)                  rfoot               rShin + (0.3, -41.5, -3.0) +K
    spine      mid(hip, thorax)                   mid(hip, thorax)    mid(hip, thorax)
    thorax     NeckBase = Spine1 + its rest offset lowerneck          chest + (0, 15.7, -5.7)
    neck_nose  Nose = Head + (0, -0.08, 1.63) +T  head + (0,-.1, 1.57) head + (0, 4.1, 5.7)   (the nose tip)
    head       HeadEnd +T                         headEnd             head + (0, 14.1, -4.6)
    l_shoulder LeftArm +T -7.5                    lhumerus -7.5       lCollar + (15.5, 2.7, -0.5) -7.5
    l_elbow    LeftForeArm +T -4                  lradius -4          lForeArm +S -4
    l_wrist    1.5 LeftHand - 0.5 LeftForeArm +T -4  lhand -4         lForeArm + (26.5, -6.2, -0.4) +S -4

The spine (joint 7) is the midpoint of the hip (root) and the thorax in every rig, as `coco_to_h36m` makes it from
MediaPipe's 2D, which has no spine landmark: the rigs' own spine joints sat at different heights (CMU's Spine 0.47-0.48
of the way from hip to thorax, bandai2's 0.54, Human3.6M's 0.48), and the lifter learnt CMU's from 2D input that
real video never gives it (session 20).
The nose (joint 9) is a point fixed in the head's frame, 11 cm below the head top and 9.5 cm in front of the
head axis (the offsets were fitted per rig over upright frames, facing from the shoulders): the 2D detector
sees the nose tip, and its place in front of the face is the main cue for which way a person faces.
The cmu rig is the ASF skeleton minus two bones (thorax, lwrist = half the forearm): the blends put them back,
so cmu_bvh/05 and the original cmu_amc/moderndance takes agree to 3 mm. The Daz figure has its own rest pose
and proportions (forearm bent 17 deg forward, legs straight, shoulders 23 cm apart); its points were fitted by
least squares to the cmu joints of the 36 takes both rigs have (subject 02, validation, held out).
`cmu_acclaim_names` is the cmu rig with Acclaim names (cmu_daz_bvh/16: lfemur, thorax, lwrist, ...).

Shoulders (joints 11 and 14) are where a detector marks them, not CMU's arm pivot. CMU's clavicle rises 7 cm from
the base of the neck to the humerus, so its pivot sits 7.5 cm above the thorax and 9-11 cm under the nose tip;
MediaPipe's shoulders (whose midpoint is the thorax in `coco_to_h36m`), the second capture system's (bandai2:
thorax 4 cm above them, nose 18 cm) and Human3.6M's (thorax -> shoulder 151 mm, mostly sideways) sit level with
the thorax or below it. So the shoulder point is fixed to the clavicle 7.5 cm below the pivot: level with the
thorax, the nose 16-19 cm above (0.45-0.51 shoulder widths; MediaPipe on the shared clips 0.49-0.56, bandai2
0.52). The elbow and wrist hang from a pivot lowered 4 cm in the same frame, so that the hanging upper arm keeps
the proportion of Human3.6M and bandai2 (0.30 of the leg, 0.34 at CMU's pivot); the upper arm's length then
follows the arm's elevation by +-3.5 cm, as the distance from a point on the trunk to the elbow does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

import numpy as np

from ..skeleton import H36M

HERE = Path(__file__).resolve().parent
BUILTIN_MAPPINGS = ("cmu", "cmu_acclaim_names", "daz", "asf", "bandai")
BVH_MAPPINGS = ("cmu", "cmu_acclaim_names", "daz", "bandai")  # tried in this order when detecting a BVH's rig

MappingLike = Union[str, Path, dict, "JointMapping"]


@dataclass
class JointMapping:
    name: str
    joints: dict[str, dict[str, float]]            # H36M joint -> {source name: weight}
    scale: float | None = None
    points: dict[str, tuple[str, object]] = field(default_factory=dict)  # name -> (joint, offset)

    def sources(self) -> list[str]:
        """Source names the blends use (joints and attached points), in first-use order."""
        return list(dict.fromkeys(s for h in H36M.joint_names for s in self.joints[h]))

    def required_joints(self) -> set[str]:
        """Source-rig joints that must exist for this mapping to apply."""
        return {s for s in self.sources() if s not in self.points} | \
               {j for j, off in self.points.values()} | \
               {off for _, off in self.points.values() if isinstance(off, str)}

    def matrix(self) -> np.ndarray:
        """(17, S) blend weights over `sources()`."""
        src = {s: i for i, s in enumerate(self.sources())}
        w = np.zeros((H36M.num_joints, len(src)))
        for h, name in enumerate(H36M.joint_names):
            for s, weight in self.joints[name].items():
                w[h, src[s]] = weight
        return w

    def resolved_points(self, rest_offset) -> dict[str, tuple[str, np.ndarray]]:
        """Points with joint-name offsets replaced by vectors, using the reader's `rest_offset(name)`."""
        return {n: (j, rest_offset(off) if isinstance(off, str) else np.asarray(off, dtype=np.float64))
                for n, (j, off) in self.points.items()}

    def apply(self, source_positions: np.ndarray) -> np.ndarray:
        """(T, S, 3) positions of `sources()` -> (T, 17, 3)."""
        return np.einsum("hs,tsc->thc", self.matrix(), source_positions)


def _from_dict(d: dict) -> JointMapping:
    missing = set(H36M.joint_names) - set(d.get("joints", {}))
    if missing:
        raise ValueError(f"mapping {d.get('name', '?')!r} lacks H36M joints: {sorted(missing)}")
    joints = {}
    for h, spec in d["joints"].items():
        if h not in H36M.joint_names:
            raise ValueError(f"unknown H36M joint {h!r}; expected {H36M.joint_names}")
        blend = {spec: 1.0} if isinstance(spec, str) else {str(k): float(v) for k, v in spec.items()}
        if abs(sum(blend.values()) - 1.0) > 1e-6:
            raise ValueError(f"weights for {h!r} sum to {sum(blend.values())}, not 1: {blend}")
        joints[h] = blend
    points = {n: (p["joint"], p["offset"]) for n, p in d.get("points", {}).items()}
    scale = d.get("scale")
    return JointMapping(str(d.get("name", "custom")), joints, None if scale is None else float(scale), points)


def load_mapping(mapping: MappingLike) -> JointMapping:
    """A JointMapping from a shipped name ("cmu", "daz", ...), a JSON file path, a dict, or a JointMapping."""
    if isinstance(mapping, JointMapping):
        return mapping
    if isinstance(mapping, dict):
        return _from_dict(mapping)
    if isinstance(mapping, str) and mapping in BUILTIN_MAPPINGS:
        mapping = HERE / f"{mapping}.json"
    return _from_dict(json.loads(Path(mapping).read_text()))


def detect_mapping(joint_names, candidates=BVH_MAPPINGS) -> JointMapping:
    """The first shipped mapping whose source joints all exist among `joint_names`."""
    names = set(joint_names)
    for cand in candidates:
        m = load_mapping(cand)
        if m.required_joints() <= names:
            return m
    raise ValueError("unknown rig: no shipped joint mapping fits these joint names "
                     f"({sorted(names)[:12]}...); pass mapping= (a JSON path or dict, see vp3d/mocap/README.md)")
