"""World-frame Human3.6M joints -> a BVH animation (Biovision hierarchy, for Blender and other tools).

Skeleton: the 17 Human3.6M joints (vp3d.skeleton.H36M names), plus four zero-offset helper joints as in
the CMU rigs (`right_pelvis`, `left_pelvis` under the hip, `left_collar`, `right_collar` under the
thorax). BVH gives one rotation per joint and that rotation moves all the joint's child bones rigidly;
the hip and thorax have three children each whose angles change over a take (shrugs, neck bends: up to
8 cm off a rigid fit in CMU mocap), so each extra child bone gets its own joint and FK reproduces every
joint. Leaf joints (feet, wrists, head top) end in an `End Site` (a stub for the foot, hand, head).

- Bone lengths are fixed over the clip: the median of the per-frame lengths.
- Rest pose: a T-pose standing on the floor, Y-up, facing +Z, the person's left on +X, the neck and head
  tilted as on average in CMU mocap.
- Rotations are solved from the positions: each bone belongs to one joint whose rotation takes the bone's
  rest direction onto the observed one. The hip (root) and the thorax take two directions (the bone up to
  the spine / neck, and the left-right hip / shoulder line), which fixes their twist; every other joint
  takes the smallest rotation relative to its parent (no twist added). Leaf joints keep the rest rotation.
- Channels: the root has `Xposition Yposition Zposition Zrotation Xrotation Yrotation`, every other joint
  `Zrotation Xrotation Yrotation` (degrees, R = Rz Rx Ry, the CMU order). Angles are made continuous over
  time (no 360 deg jumps, the equivalent solution nearest to the previous frame).
- Units: metres. Z-up files are the Y-up solution rotated by +90 deg about x (rest pose faces -Y).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from ..skeleton import H36M
from ..bones import median_bone_lengths, with_bone_lengths
from ..world import ANKLE_HEIGHT, Y_UP_TO_Z_UP, unit

ROTATION_ORDER = "ZXY"  # intrinsic: R = Rz @ Rx @ Ry, written "Zrotation Xrotation Yrotation"
J = {name: i for i, name in enumerate(H36M.joint_names)}

# Rest direction of each H36M bone (child joint -> unit vector from its parent), Y-up, facing +Z, left = +X.
REST_DIRECTION = {
    "right_hip": (-1, 0, 0), "right_knee": (0, -1, 0), "right_foot": (0, -1, 0),
    "left_hip": (1, 0, 0), "left_knee": (0, -1, 0), "left_foot": (0, -1, 0),
    "spine": (0, 1, 0), "thorax": (0, 1, 0),
    "neck_nose": (0, 0.95, 0.31), "head": (0, 0.82, -0.57),  # CMU medians relative to the chest
    "left_shoulder": (1, 0, 0), "left_elbow": (1, 0, 0), "left_wrist": (1, 0, 0),
    "right_shoulder": (-1, 0, 0), "right_elbow": (-1, 0, 0), "right_wrist": (-1, 0, 0),
}
# End Site offsets (metres) of the leaf joints, in the rest frame: toes, hand, top of the head.
END_SITES = {"right_foot": (0, -0.07, 0.13), "left_foot": (0, -0.07, 0.13), "head": (0, 0.05, 0),
             "left_wrist": (0.08, 0, 0), "right_wrist": (-0.08, 0, 0)}
# Zero-offset helper joints: name -> (the H36M joint they sit at, the H36M child whose bone they carry).
HELPERS = {"right_pelvis": ("hip", "right_hip"), "left_pelvis": ("hip", "left_hip"),
           "left_collar": ("thorax", "left_shoulder"), "right_collar": ("thorax", "right_shoulder")}
# Joints whose rotation is fixed by two directions: joint -> (primary child, secondary line start, end).
TWO_DIRECTIONS = {"hip": ("spine", "right_hip", "left_hip"),
                  "thorax": ("neck_nose", "right_shoulder", "left_shoulder")}


@dataclass
class BvhJoint:
    name: str
    parent: int  # index into the joint list, -1 for the root
    h36m: int  # the H36M joint it sits at
    bone_child: int | None  # the H36M joint at the end of the bone this joint's rotation carries


def skeleton() -> list[BvhJoint]:
    """The BVH joints in file (depth-first) order: H36M joints, with helpers before the bones they carry."""
    joints: list[BvhJoint] = []

    def add(name: str, parent: int) -> None:
        index = len(joints)
        h = J[HELPERS[name][0]] if name in HELPERS else J[name]
        children = [c for c, p in enumerate(H36M.parents) if p == h]
        if name in HELPERS:
            carried = J[HELPERS[name][1]]
        elif name in TWO_DIRECTIONS:
            carried = J[TWO_DIRECTIONS[name][0]]
        else:
            carried = children[0] if children else None
        joints.append(BvhJoint(name, parent, h, carried))
        if name in HELPERS:
            add(HELPERS[name][1], index)
            return
        helpers_here = {HELPERS[n][1]: n for n in HELPERS if J[HELPERS[n][0]] == h}
        for c in children:
            add(helpers_here.get(H36M.joint_names[c], H36M.joint_names[c]), index)

    add("hip", -1)
    return joints


def _smallest_rotation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(T, 3, 3) rotations taking unit vectors a (3,) or (T, 3) onto unit vectors b (T, 3) with no twist."""
    a = np.broadcast_to(a, b.shape)
    axis = np.cross(a, b)
    sin = np.linalg.norm(axis, axis=-1)
    cos = np.einsum("ti,ti->t", a, b)
    # Opposite vectors: any axis perpendicular to a will do.
    perpendicular = np.cross(a, np.array([1.0, 0.0, 0.0]))
    perpendicular = np.where(np.linalg.norm(perpendicular, axis=-1, keepdims=True) < 1e-6,
                             np.cross(a, np.array([0.0, 1.0, 0.0])), perpendicular)
    axis = np.where(sin[:, None] < 1e-9, perpendicular, axis)
    return Rotation.from_rotvec(unit(axis) * np.arctan2(sin, cos)[:, None]).as_matrix()


def _frame(primary: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    """(..., 3, 3) orthonormal frames, columns: primary, the secondary made perpendicular, their cross."""
    e1 = unit(primary)
    e3 = unit(np.cross(e1, secondary))
    return np.stack([e1, np.cross(e3, e1), e3], axis=-1)


def solve_rotations(positions: np.ndarray, joints: list[BvhJoint]) -> np.ndarray:
    """Local rotations (T, len(joints), 3, 3) that put every bone along its observed direction.

    positions: (T, 17, 3) world Y-up. Each joint's rotation relative to its parent: world_j = world_parent @ local_j.
    """
    T = len(positions)
    rest = {J[n]: unit(np.array(d, dtype=np.float64)) for n, d in REST_DIRECTION.items()}
    world = np.empty((T, len(joints), 3, 3))
    local = np.empty_like(world)
    for k, joint in enumerate(joints):
        parent_world = world[:, joint.parent] if joint.parent >= 0 else np.broadcast_to(np.eye(3), (T, 3, 3))
        if joint.bone_child is None:  # leaf: nothing to point; keep the parent's orientation
            world[:, k] = parent_world
        elif joint.name in TWO_DIRECTIONS:
            primary, start, end = (J[n] for n in TWO_DIRECTIONS[joint.name])
            observed = _frame(positions[:, primary] - positions[:, joint.h36m], positions[:, end] - positions[:, start])
            rest_frame = _frame(rest[primary], rest[end] - rest[start])
            world[:, k] = observed @ rest_frame.T
        else:
            observed = unit(positions[:, joint.bone_child] - positions[:, joint.h36m])
            in_parent = np.einsum("tji,tj->ti", parent_world, observed)  # parent_world.T @ observed
            world[:, k] = parent_world @ _smallest_rotation(rest[joint.bone_child], in_parent)
        local[:, k] = np.einsum("tji,tjk->tik", parent_world, world[:, k])
    return local


def continuous_euler(local: np.ndarray) -> np.ndarray:
    """(T, J, 3) degrees, ROTATION_ORDER, from rotation matrices (T, J, 3, 3), continuous over time.

    Each frame takes, of the two equivalent Euler triples (a, b, c) and (a+180, 180-b, c+180), each angle
    shifted by whole turns, the one nearest to the previous frame's angles."""
    T, n = local.shape[:2]
    angles = Rotation.from_matrix(local.reshape(-1, 3, 3)).as_euler(ROTATION_ORDER, degrees=True).reshape(T, n, 3)
    alternative = angles * np.array([1.0, -1.0, 1.0]) + np.array([180.0, 180.0, 180.0])
    out = np.empty_like(angles)
    out[0] = angles[0]
    for t in range(1, T):
        best = None
        for candidate in (angles[t], alternative[t]):
            shifted = candidate + 360.0 * np.round((out[t - 1] - candidate) / 360.0)
            dist = np.abs(shifted - out[t - 1]).sum(axis=-1)
            best = (shifted, dist) if best is None else (np.where((dist < best[1])[:, None], shifted, best[0]),
                                                          np.minimum(dist, best[1]))
        out[t] = best[0]
    return out


@dataclass
class BvhAnimation:
    """Everything a BVH file holds."""
    joints: list[BvhJoint]
    offsets: np.ndarray  # (J, 3) metres, each joint from its parent in the parent's rest frame (root: rest position)
    end_sites: dict[int, np.ndarray]  # joint index -> (3,) End Site offset, metres
    root_positions: np.ndarray  # (T, 3) metres
    euler_deg: np.ndarray  # (T, J, 3) in ROTATION_ORDER
    frame_time: float  # seconds


def animation_from_positions(positions: np.ndarray, fps: float, up_axis: str = "y") -> BvhAnimation:
    """positions: (T, 17, 3) metres, world frame with `up_axis` up ("y" or "z"), floor at 0."""
    to_z_up = {"y": np.eye(3), "z": Y_UP_TO_Z_UP}[up_axis]
    y_up = np.asarray(positions, dtype=np.float64) @ to_z_up  # inverse of the (orthogonal) change of basis
    lengths = median_bone_lengths(y_up)
    joints = skeleton()
    local = solve_rotations(with_bone_lengths(y_up, lengths), joints)
    offsets = np.zeros((len(joints), 3))
    for k, joint in enumerate(joints):
        if joint.name in HELPERS:
            continue  # a helper sits where its parent does
        if joint.parent < 0:
            standing = lengths[J["right_knee"]] + lengths[J["right_foot"]] + ANKLE_HEIGHT
            offsets[k] = (0.0, standing, 0.0)  # rest pose on the floor (the position channels override it)
        else:
            offsets[k] = lengths[joint.h36m] * unit(np.array(REST_DIRECTION[joint.name], dtype=np.float64))
    end_sites = {k: np.array(END_SITES[j.name], dtype=np.float64) for k, j in enumerate(joints)
                 if j.name in END_SITES}
    # Z-up: the same animation seen in the rotated basis (offsets rotate, local rotations are conjugated).
    local = to_z_up @ local @ to_z_up.T
    return BvhAnimation(joints, offsets @ to_z_up.T, {k: to_z_up @ v for k, v in end_sites.items()},
                        y_up[:, 0] @ to_z_up.T, continuous_euler(local), 1.0 / fps)


def bvh_text(anim: BvhAnimation) -> str:
    """The file's text: hierarchy exactly per the Biovision spec (tab-indented, one token group per line)."""
    lines = ["HIERARCHY"]
    children = {k: [c for c, j in enumerate(anim.joints) if j.parent == k] for k in range(len(anim.joints))}
    rot_channels = " ".join(f"{axis}rotation" for axis in ROTATION_ORDER)

    def fmt(v) -> str:
        return " ".join(f"{x:.6f}" for x in v)

    def emit(k: int, depth: int) -> None:
        pad = "\t" * depth
        joint = anim.joints[k]
        lines.append(f"{pad}{'ROOT' if joint.parent < 0 else 'JOINT'} {joint.name}")
        lines.append(pad + "{")
        lines.append(f"{pad}\tOFFSET {fmt(anim.offsets[k])}")
        if joint.parent < 0:
            lines.append(f"{pad}\tCHANNELS 6 Xposition Yposition Zposition {rot_channels}")
        else:
            lines.append(f"{pad}\tCHANNELS 3 {rot_channels}")
        for c in children[k]:
            emit(c, depth + 1)
        if k in anim.end_sites:
            lines.extend([f"{pad}\tEnd Site", f"{pad}\t{{", f"{pad}\t\tOFFSET {fmt(anim.end_sites[k])}", f"{pad}\t}}"])
        lines.append(pad + "}")

    emit(0, 0)
    T = len(anim.root_positions)
    lines += ["MOTION", f"Frames: {T}", f"Frame Time: {anim.frame_time:.8f}"]
    motion = np.concatenate([anim.root_positions, anim.euler_deg.reshape(T, -1)], axis=1)
    lines += [" ".join(f"{x:.6f}" for x in row) for row in motion]
    return "\n".join(lines) + "\n"


def write_bvh(path: str | os.PathLike, positions: np.ndarray, fps: float, up_axis: str = "y") -> Path:
    """Write world-frame joints (T, 17, 3) metres as a BVH file (atomically)."""
    from .joints import atomic_write
    text = bvh_text(animation_from_positions(positions, fps, up_axis))

    def write(tmp):
        Path(tmp).write_text(text)
    return atomic_write(path, write)
