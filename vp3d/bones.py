"""Constant bone lengths: Human3.6M-17 joints with every bone at one length over the whole clip.

The lifter predicts each frame's joints on their own, so a bone's length wanders from frame to frame
(upper arms by 13-16% over the taiji clip). Animation and biomechanics want one skeleton: here each bone
keeps its predicted direction and takes the median of its predicted lengths, placed from the root outwards.
On the CMU validation views this changes the errors very little (P1 79.9 -> 79.8 mm, MPJVE 6.30 -> 6.18
mm/frame, by action), so it is an option (`--rigid-bones`), off by default: outputs stay those of the model.
"""

from __future__ import annotations

import numpy as np

from .skeleton import H36M


def median_bone_lengths(positions: np.ndarray) -> np.ndarray:
    """(17,) metres: per joint, the median over frames of the distance to its parent (0 for the root).

    positions: (T, 17, 3) Human3.6M order."""
    lengths = np.zeros(H36M.num_joints)
    for p, j in H36M.bones():
        lengths[j] = np.median(np.linalg.norm(positions[:, j] - positions[:, p], axis=-1))
    return lengths


def with_bone_lengths(positions: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """(T, 17, 3) float64: the same root and bone directions, each bone rescaled to `lengths` (17,) metres."""
    out = np.empty_like(positions, dtype=np.float64)
    out[:, 0] = positions[:, 0]
    for p, j in H36M.bones():  # parents come first in H36M order
        bone = positions[:, j] - positions[:, p]
        out[:, j] = out[:, p] + lengths[j] * bone / np.maximum(np.linalg.norm(bone, axis=-1, keepdims=True), 1e-12)
    return out


def rigid_bones(positions: np.ndarray) -> np.ndarray:
    """(T, 17, 3) in the dtype given: every bone at its median length over the clip, directions kept."""
    return with_bone_lengths(positions, median_bone_lengths(positions)).astype(positions.dtype)
