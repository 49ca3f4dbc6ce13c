"""One recording ready for the lifter: normalized 2D in, camera-frame 3D truth out (what training and
evaluation iterate over, whether it comes from Human3.6M or from mocap seen by a virtual camera)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Sequence:
    """One (subject, action, camera) recording.

    kp2d_norm: float32 (T, J, 2) normalized screen coordinates.
    pose3d:    float32 (T, 17, 3) camera frame (x right, y down, z forward), metres, root-relative (root = 0).
    traj:      float32 (T, 3) root position in the camera frame, metres.
    intrinsics: float32 (4,) [fx, fy, cx, cy], normalized screen units.
    distortion: float32 (5,) [k1, k2, k3, p1, p2] or None.
    """

    subject: str
    action: str
    camera_id: str
    kp2d_norm: np.ndarray
    pose3d: np.ndarray
    traj: np.ndarray
    intrinsics: np.ndarray
    width: int = 0
    height: int = 0
    distortion: np.ndarray | None = None

    @property
    def num_frames(self) -> int:
        return self.pose3d.shape[0]

    @property
    def name(self) -> str:
        return f"{self.subject}/{self.action}/{self.camera_id}"
