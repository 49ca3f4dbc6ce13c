"""Lifted joints moved part of the way, across the image, onto the rays of their 2D points.

The 2D says exactly where each joint is in the image; only its depth is unknown. A lifter trained on noisy 2D
does not follow its input all the way: across the image its joints stray by centimetres from where the 2D puts
them (P1's image-plane part is about 40 mm, weights/MODEL_CARD.md "Where the error lives"). This step, with the
camera the 2D was normalized with:

1. places each frame's root-relative pose in the camera frame by least squares (the root position that makes the
   pose project best onto the 2D): the pose keeps its own size, so the person's size stays the lifter's guess;
2. takes, for every joint, the point of its 2D point's ray at the joint's own depth, and the offset from the
   joint to that point (parallel to the image plane);
3. smooths the offsets over time (the 2D's frame-to-frame jitter is not the person's motion) and moves every
   joint by a fraction of its offset; depths stay, the root goes back to the origin.

The fraction and the smoothing belong to the weights they were chosen for (LifterMeta.image_plane_weight and
image_plane_smoothing, chosen on training takes): the 2D's noise is why the lifter does not follow it fully,
so the right fraction depends on what it learned. Shapes: poses (T, J, 3) metres; kp_norm (T, J, 2) normalized
screen coordinates of the same joints (camera.normalize_screen_coordinates, principal point at the centre);
focal in normalized units (camera.normalized_focal).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d


def root_on_the_2d(poses: np.ndarray, kp_norm: np.ndarray, focal: float) -> np.ndarray:
    """(T, 3) root positions in the camera frame (metres) at which each frame's pose best projects onto its 2D.

    Linear least squares on the projection equations multiplied out, per joint and axis:
    focal * (P_x + T_x) - u_x * (P_z + T_z) = 0 (and the same in y), three unknowns per frame. vp3d.root_motion
    fits the root the same way (after evening out the pose's size over the clip)."""
    poses = np.asarray(poses, dtype=np.float64)
    u = np.moveaxis(np.asarray(kp_norm, dtype=np.float64), 2, 1)  # (T, 2, J): the x rows, then the y rows
    frames, joints = poses.shape[:2]
    a = np.zeros((frames, 2, joints, 3))
    a[:, 0, :, 0] = focal
    a[:, 1, :, 1] = focal
    a[:, :, :, 2] = -u
    b = u * poses[None, ..., 2].transpose(1, 0, 2) - focal * np.moveaxis(poses[..., :2], 2, 1)
    a, b = a.reshape(frames, 2 * joints, 3), b.reshape(frames, 2 * joints)
    normal = np.einsum("tki,tkj->tij", a, a) + 1e-9 * np.eye(3)
    return np.linalg.solve(normal, np.einsum("tki,tk->ti", a, b)[..., None])[..., 0]


def offsets_onto_the_rays(placed: np.ndarray, kp_norm: np.ndarray, focal: float) -> np.ndarray:
    """(T, J, 2) metres: from each joint of `placed` (camera frame) across the image to the point of its 2D point's
    ray at the joint's own depth."""
    return kp_norm / focal * placed[..., 2:3] - placed[..., :2]


def toward_the_2d(poses: np.ndarray, kp_norm: np.ndarray, focal: float, weight: float,
                  smoothing: float) -> np.ndarray:
    """poses (T, J, 3) root-relative, each joint moved `weight` (0-1) of the way across the image onto its 2D
    point's ray, the offsets smoothed over time with a Gaussian of `smoothing` frames (sigma; 0: none);
    root-relative again. The module's docstring says why."""
    poses = np.asarray(poses, dtype=np.float64)
    kp_norm = np.asarray(kp_norm, dtype=np.float64)
    if poses.shape[:2] != kp_norm.shape[:2]:
        raise ValueError(f"poses {poses.shape} and 2D {kp_norm.shape} differ in frames or joints")
    root = root_on_the_2d(poses, kp_norm, focal)
    offsets = offsets_onto_the_rays(poses + root[:, None], kp_norm, focal)
    if smoothing > 0 and len(poses) > 1:
        offsets = gaussian_filter1d(offsets, smoothing, axis=0, mode="nearest")
    moved = poses.copy()
    moved[..., :2] += weight * offsets
    return moved - moved[:, :1]
