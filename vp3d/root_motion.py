"""Root motion for a lifter without a trajectory network: where the root is in the camera frame, from the
lifted root-relative pose, the 2D keypoints and the focal length, with standing feet kept from sliding.

    traj = root_motion(poses3d, kp_norm, focal, fps)     # (T, 3) metres, camera frame (x right, y down, z ahead)

1. Fit. Per frame, the translation t that best reprojects the joints X_j + t onto the 2D keypoints u_j
   (pinhole, principal point at the image centre): least squares on the projection's linear form
   f (X_j + t)_x - u_jx (X_j + t)_z = 0 (and the same in y), 2J equations in 3 unknowns. Depth comes from
   the person's size in the image, so each frame's pose is first scaled to the clip's median total bone
   length: a lifter's frame-to-frame size wobble would otherwise become a depth wobble.
2. Smoothing. Depth is far less certain than the position across the image (a 3% size error at 4 m is 12 cm
   of depth, not of lateral position): x, y are smoothed over XY_SECONDS, z over Z_SECONDS (Gaussian sigma).
3. Foot lock. In the world frame vp3d.world makes, while a foot is on the floor (its ankle within CONTACT of
   the standing height) the root's horizontal motion is corrected so that foot stays where it is; the slow
   part of the correction (over LOCK_SECONDS) is given back, so over seconds the root follows the 2D fit
   and no drift builds up.

Measured on the validation views with version 7's poses (bench/root_motion_report.py, weights/MODEL_CARD.md,
"Root-motion settings"): the root's motion error is 116 mm on CMU and 78 on bandai2, against 736 and 856 for a
root that stays put, and the standing foot slides at 23.5 and 35.8 cm/s, against 42.0 and 53.7 with
root-relative poses.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from .skeleton import H36M
from .world import ANKLE_HEIGHT, ANKLES, to_world

# Chosen on 30 training takes (bench/root_motion_report.py's figures, the validation sets only confirming):
# the setting nearest both targets of the training issue (root motion <= 100 mm, foot-skate <= half that of
# root-relative poses). A longer depth smoothing lags real motion toward or away from the camera; a slower or
# looser lock trades root motion for skate (weights/MODEL_CARD.md, session 16).
XY_SECONDS = 0.08  # smoothing of the fitted root across the image (Gaussian sigma)
Z_SECONDS = 0.3  # ... and of its depth
LOCK_SECONDS = 0.5  # the foot lock's correction keeps only changes faster than this
CONTACT = 0.03  # metres: a foot whose ankle is this close to its standing height is on the floor


def _bone_total(poses: np.ndarray) -> np.ndarray:
    """(T,) the sum of the skeleton's bone lengths in each frame."""
    parents = np.array(H36M.parents[1:])
    return np.linalg.norm(poses[:, 1:] - poses[:, parents], axis=-1).sum(axis=1)


def fit_root(poses: np.ndarray, kp_norm: np.ndarray, focal: float) -> np.ndarray:
    """(T, 3) root positions (metres, camera frame) placing each frame's pose where it reprojects best.

    poses: (T, 17, 3) metres, root-relative, camera frame; kp_norm: (T, 17, 2) the same joints' 2D in
    normalized screen coordinates (vp3d.lifter.camera); focal: normalized focal length (f / w * 2)."""
    poses = np.asarray(poses, dtype=np.float64)
    total = _bone_total(poses)
    poses = poses * (np.median(total) / np.maximum(total, 1e-6))[:, None, None]
    u = np.asarray(kp_norm, dtype=np.float64)
    T, J = u.shape[:2]
    A = np.zeros((T, 2, J, 3))
    A[:, 0, :, 0] = focal
    A[:, 1, :, 1] = focal
    A[:, :, :, 2] = -np.moveaxis(u, 2, 1)
    b = np.moveaxis(u, 2, 1) * poses[None, ..., 2].transpose(1, 0, 2) - focal * np.moveaxis(poses[..., :2], 2, 1)
    A, b = A.reshape(T, 2 * J, 3), b.reshape(T, 2 * J)
    normal = np.einsum("tki,tkj->tij", A, A) + 1e-9 * np.eye(3)
    return np.linalg.solve(normal, np.einsum("tki,tk->ti", A, b)[..., None])[..., 0]


def smooth_root(trajectory: np.ndarray, fps: float, xy_seconds: float = XY_SECONDS,
                z_seconds: float = Z_SECONDS) -> np.ndarray:
    """(T, 3) the trajectory smoothed across the image over xy_seconds and in depth over z_seconds."""
    t = np.asarray(trajectory, dtype=np.float64)
    return np.concatenate([gaussian_filter1d(t[:, :2], xy_seconds * fps, axis=0, mode="nearest"),
                           gaussian_filter1d(t[:, 2:], z_seconds * fps, axis=0, mode="nearest")], axis=1)


def lock_feet(poses: np.ndarray, trajectory: np.ndarray, fps: float, lock_seconds: float = LOCK_SECONDS,
              contact: float = CONTACT) -> np.ndarray:
    """(T, 3) the camera-frame trajectory corrected so that a foot on the floor does not slide (world frame,
    horizontal only; changes slower than lock_seconds left to the trajectory)."""
    world = to_world(poses, trajectory)
    feet = world.positions[:, list(ANKLES)]  # (T, 2, 3), Y up, floor at 0
    standing = feet[..., 1] - ANKLE_HEIGHT < contact  # (T, 2)
    held = standing[:-1] & standing[1:]  # on the floor at both ends of the step
    steps = (feet[1:] - feet[:-1])[..., [0, 2]]  # (T-1, 2 feet, 2) horizontal
    count = held.sum(axis=1, keepdims=True)
    slide = (steps * held[..., None]).sum(axis=1) / np.maximum(count, 1)  # (T-1, 2): the standing feet's mean
    correction = np.concatenate([np.zeros((1, 2)), -np.cumsum(slide, axis=0)])
    if lock_seconds:
        correction -= gaussian_filter1d(correction, lock_seconds * fps, axis=0, mode="nearest")
    shift = np.zeros((len(correction), 3))
    shift[:, [0, 2]] = correction
    return np.asarray(trajectory, dtype=np.float64) + shift @ world.rotation  # world -> camera: R^T


def root_motion(poses: np.ndarray, kp_norm: np.ndarray, focal: float, fps: float) -> np.ndarray:
    """(T, 3) the root's camera-frame positions in metres: fitted, smoothed, feet locked (module docstring)."""
    trajectory = smooth_root(fit_root(poses, kp_norm, focal), fps)
    if len(trajectory) < 2:
        return trajectory
    return lock_feet(poses, trajectory, fps)
