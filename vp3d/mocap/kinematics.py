"""Vectorised rotation and forward-kinematics helpers shared by the BVH and ASF/AMC readers."""

from __future__ import annotations

import numpy as np


def axis_rotation(axis: str, angle: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) about the x, y or z axis by `angle` radians (right-handed)."""
    c, s = np.cos(angle), np.sin(angle)
    one, zero = np.ones_like(angle), np.zeros_like(angle)
    rows = {
        "x": ((one, zero, zero), (zero, c, -s), (zero, s, c)),
        "y": ((c, zero, s), (zero, one, zero), (-s, zero, c)),
        "z": ((c, -s, zero), (s, c, zero), (zero, zero, one)),
    }[axis.lower()]
    return np.stack([np.stack(r, axis=-1) for r in rows], axis=-2)


def euler_matrix(angles: np.ndarray, axes: str, degrees: bool = True) -> np.ndarray:
    """Matrix R = R_axes[0] @ R_axes[1] @ ... for angles (..., len(axes)).

    This is the BVH convention: channels listed "Zrotation Xrotation Yrotation" give R = Rz Rx Ry,
    i.e. the last listed axis acts first on a child's vector. (Acclaim lists the other way round; its
    reader reverses the order before calling this.)
    """
    angles = np.asarray(angles, dtype=np.float64)
    if degrees:
        angles = np.deg2rad(angles)
    out = np.broadcast_to(np.eye(3), angles.shape[:-1] + (3, 3))
    for k, axis in enumerate(axes):
        out = out @ axis_rotation(axis, angles[..., k])
    return out


def forward_kinematics(parents, offsets, local_rot, root_pos) -> tuple[np.ndarray, np.ndarray]:
    """World positions (T, J, 3) and rotations (T, J, 3, 3) of a tree in topological order (parents first).

    offsets: (J, 3) or (T, J, 3) translation of each joint in its parent's frame; local_rot: (T, J, 3, 3)
    rotation of each joint relative to its parent; root_pos: (T, 3) world position of joint 0.
    """
    n_frames, n_joints = local_rot.shape[:2]
    offsets = np.broadcast_to(offsets, (n_frames, n_joints, 3))
    world_rot = np.empty_like(local_rot)
    pos = np.empty((n_frames, n_joints, 3))
    for j, p in enumerate(parents):
        if p < 0:
            world_rot[:, j], pos[:, j] = local_rot[:, j], root_pos
        else:
            world_rot[:, j] = world_rot[:, p] @ local_rot[:, j]
            pos[:, j] = pos[:, p] + np.einsum("tij,tj->ti", world_rot[:, p], offsets[:, j])
    return pos, world_rot
