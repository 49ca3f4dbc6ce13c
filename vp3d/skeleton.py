"""Joint layouts used across vp3d: Human3.6M-17 (the lifter's 3D output) and COCO-17.

All arrays of joints in vp3d are indexed in one of these orders; a layout is named by a plain string
("h36m" or "coco") wherever it is stored (checkpoints, exports).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Layout:
    name: str
    joint_names: tuple[str, ...]
    parents: tuple[int, ...]  # -1 for the root / for joints drawn without a parent bone
    left: tuple[int, ...]
    right: tuple[int, ...]

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    def flip_permutation(self) -> np.ndarray:
        """Index array that swaps every left joint with its right counterpart."""
        perm = np.arange(self.num_joints)
        perm[list(self.left)] = self.right
        perm[list(self.right)] = self.left
        return perm

    def bones(self) -> list[tuple[int, int]]:
        return [(p, j) for j, p in enumerate(self.parents) if p >= 0]


H36M = Layout(
    name="h36m",
    joint_names=(
        "hip", "right_hip", "right_knee", "right_foot", "left_hip", "left_knee", "left_foot",
        "spine", "thorax", "neck_nose", "head", "left_shoulder", "left_elbow", "left_wrist",
        "right_shoulder", "right_elbow", "right_wrist",
    ),
    parents=(-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15),
    left=(4, 5, 6, 11, 12, 13),
    right=(1, 2, 3, 14, 15, 16),
)

# COCO has no root; the "parents" here only define the bones drawn on screen.
COCO = Layout(
    name="coco",
    joint_names=(
        "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
        "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
        "left_knee", "right_knee", "left_ankle", "right_ankle",
    ),
    parents=(-1, 0, 0, 1, 2, -1, 5, 5, 6, 7, 8, 5, 6, 11, 12, 13, 14),
    left=(1, 3, 5, 7, 9, 11, 13, 15),
    right=(2, 4, 6, 8, 10, 12, 14, 16),
)

LAYOUTS = {H36M.name: H36M, COCO.name: COCO}


def get_layout(name: str) -> Layout:
    try:
        return LAYOUTS[name]
    except KeyError:
        raise ValueError(f"unknown keypoint layout {name!r}; known: {', '.join(LAYOUTS)}") from None


def joint_side(layout: Layout) -> np.ndarray:
    """Per joint: -1 left, +1 right, 0 centre (used for colouring)."""
    side = np.zeros(layout.num_joints, dtype=np.int8)
    side[list(layout.left)] = -1
    side[list(layout.right)] = 1
    return side


def mirror(points: np.ndarray, permutation: np.ndarray | None = None) -> np.ndarray:
    """The left-right mirror image of points (..., J, D) in camera or screen coordinates: x negated and, given
    a flip_permutation, every left joint swapped with its right one (None: no swap, as for a root trajectory).
    A new array; test-time flip augmentation mirrors the input and mirrors the output back with this."""
    out = np.array(points if permutation is None else points[..., permutation, :], copy=True)
    out[..., 0] *= -1
    return out
