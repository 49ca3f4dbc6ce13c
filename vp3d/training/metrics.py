"""Pose error metrics (numpy, for evaluation) and training losses (torch).

Evaluation metrics follow the reference release of VideoPose3D exactly, so numbers are comparable
with the paper:

* Protocol 1, ``mpjpe``: mean Euclidean distance between predicted and true joints.
* Protocol 2, ``p_mpjpe``: the same after aligning each predicted frame to its target with a
  similarity transform (rotation, uniform scale, translation; least squares, Procrustes). Only
  proper rotations are allowed: a mirrored pose is not "explained away" by the alignment.
* Protocol 3, ``n_mpjpe``: the same after scaling each predicted frame by the least-squares factor
  ``sum_j <target_j, pred_j> / sum_j <pred_j, pred_j>`` (no centring, no rotation).
* ``mpjve``: mean per-joint velocity error, the MPJPE of the first time difference (per frame, so
  the unit is input unit per frame; Human3.6M runs at 50 fps).

All metrics return a float in the units of the inputs (metres in, metres out; multiply by 1000 for
mm). Poses are arrays of shape (..., J, 3): any leading dimensions are frames / batches, the last
two are joints and coordinates. Metrics are computed in float64.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

# ----------------------------------------------------------------------------------------------
# numpy metrics (evaluation)
# ----------------------------------------------------------------------------------------------


def _as_pair(pred, target) -> tuple[np.ndarray, np.ndarray]:
    pred = np.asarray(pred, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if pred.shape != target.shape:
        raise ValueError(f"prediction {pred.shape} and target {target.shape} differ in shape")
    if pred.ndim < 2:
        raise ValueError(f"poses must be (..., J, D), got shape {pred.shape}")
    return pred, target


def joint_errors(pred, target) -> np.ndarray:
    """Per-joint Euclidean error: (..., J, D), (..., J, D) -> (..., J), input units."""
    pred, target = _as_pair(pred, target)
    return np.linalg.norm(pred - target, axis=-1)


def mpjpe(pred, target) -> float:
    """Protocol 1: mean per-joint position error.

    pred, target: (..., J, D) with D = 3 (or 2 for image-space errors). Returns the mean over all
    frames and joints, in input units.
    """
    return float(np.mean(joint_errors(pred, target)))


def procrustes_align(pred, target) -> np.ndarray:
    """Align every frame of ``pred`` to ``target`` with a least-squares similarity transform.

    pred, target: (..., J, 3). Returns the aligned prediction, same shape, float64. Per frame it
    solves min over s > 0, R in SO(3), t of sum_j |s * pred_j @ R + t - target_j|^2 (Umeyama).
    The sign correction on the last singular direction keeps det(R) = +1, so a reflection is
    never used: that would let a left/right-mirrored prediction score perfectly.
    """
    pred, target = _as_pair(pred, target)
    shape = pred.shape
    Y = pred.reshape(-1, shape[-2], shape[-1])  # (N, J, 3) prediction, to be moved
    X = target.reshape(-1, shape[-2], shape[-1])  # (N, J, 3) target

    mu_y = Y.mean(axis=1, keepdims=True)
    mu_x = X.mean(axis=1, keepdims=True)
    Y0 = Y - mu_y
    X0 = X - mu_x

    # Row-vector convention: Y0 @ R ~ X0. H = Y0^T X0 = U S Vt, optimal proper R = U D Vt.
    H = np.matmul(Y0.transpose(0, 2, 1), X0)
    U, S, Vt = np.linalg.svd(H)
    d = np.sign(np.linalg.det(np.matmul(U, Vt)))
    d[d == 0] = 1.0
    D = np.ones_like(S)
    D[:, -1] = d
    R = np.matmul(U * D[:, None, :], Vt)

    var_y = np.sum(Y0 ** 2, axis=(1, 2))
    # A prediction collapsed to one point has no defined scale; scale 0 maps it onto the target centroid.
    scale = np.where(var_y > 1e-12, np.sum(S * D, axis=1) / np.maximum(var_y, 1e-12), 0.0)

    aligned = scale[:, None, None] * np.matmul(Y0, R) + mu_x
    return aligned.reshape(shape)


def p_mpjpe(pred, target) -> float:
    """Protocol 2: MPJPE after per-frame Procrustes alignment (rotation, scale, translation).

    pred, target: (..., J, 3), input units. Frames are aligned independently.
    """
    return mpjpe(procrustes_align(pred, target), target)


def scale_align(pred, target) -> np.ndarray:
    """Scale every frame of ``pred`` by its least-squares factor towards ``target``.

    pred, target: (..., J, D). Factor per frame = sum_j <target_j, pred_j> / sum_j |pred_j|^2,
    the reference definition (poses are root-relative, so no centring is done).
    """
    pred, target = _as_pair(pred, target)
    num = np.sum(target * pred, axis=(-1, -2), keepdims=True)
    den = np.sum(pred * pred, axis=(-1, -2), keepdims=True)
    scale = np.where(den > 1e-12, num / np.maximum(den, 1e-12), 0.0)
    return scale * pred


def n_mpjpe(pred, target) -> float:
    """Protocol 3: MPJPE after per-frame scale-only alignment. pred, target: (..., J, D)."""
    return mpjpe(scale_align(pred, target), target)


def velocity_errors(pred, target, time_axis: int = -3) -> np.ndarray:
    """Per-joint error of the frame-to-frame displacement.

    pred, target: (..., T, J, D) with time on ``time_axis`` (default: the axis before joints).
    Returns (..., T - 1, J), input units per frame.
    """
    pred, target = _as_pair(pred, target)
    return np.linalg.norm(np.diff(pred, axis=time_axis) - np.diff(target, axis=time_axis), axis=-1)


def mpjve(pred, target, time_axis: int = -3) -> float:
    """Mean per-joint velocity error, input units per frame.

    pred, target: (T, J, D) or (..., T, J, D). Velocity is the first difference between consecutive
    frames (not divided by the frame time, as in the reference). Needs T >= 2.
    """
    err = velocity_errors(pred, target, time_axis)
    if err.size == 0:
        raise ValueError("MPJVE needs at least two frames")
    return float(np.mean(err))


def root_errors(pred_traj, true_traj) -> tuple[float, float]:
    """Root position errors of one sequence: pred_traj, true_traj (T, 3) root positions in the camera frame.

    Returns (mean distance, mean distance after removing the sequence's mean offset). The second is the
    error of the root's motion (travelling, turning, jumping) without the error of where the person stands,
    which a single camera only knows up to its depth estimate. Input units."""
    pred, target = _as_pair(np.asarray(pred_traj)[:, None], np.asarray(true_traj)[:, None])
    offset = (pred - target).mean(axis=0, keepdims=True)
    return float(np.mean(joint_errors(pred, target))), float(np.mean(joint_errors(pred - offset, target)))


def foot_skate(world_positions, fps: float, ankles: Sequence[int], ankle_height: float,
               contact: float = 0.05) -> float:
    """Mean horizontal speed (input units per second) of the lower foot while it is within `contact` of the
    floor: a foot that stands should not slide.

    world_positions: (T, J, 3), Y up, floor at y = 0; `ankles`: the two ankle joints, which sit
    `ankle_height` above the sole. NaN when no frame has a foot on the floor."""
    pos = np.asarray(world_positions, dtype=np.float64)
    if len(pos) < 2:
        return float("nan")
    feet = pos[:, list(ankles)]  # (T, 2, 3)
    lower = np.argmin(feet[:-1, :, 1], axis=1)
    frames = np.arange(len(pos) - 1)
    here, after = feet[frames, lower], feet[frames + 1, lower]
    on_floor = here[:, 1] - ankle_height < contact
    if not on_floor.any():
        return float("nan")
    step = np.linalg.norm((after - here)[:, [0, 2]], axis=-1)
    return float(step[on_floor].mean() * fps)


# ----------------------------------------------------------------------------------------------
# torch losses (training)
# ----------------------------------------------------------------------------------------------


def mpjpe_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Differentiable MPJPE: mean Euclidean distance over all leading dims and joints.

    pred, target: (..., J, D) tensors; D = 3 for poses, 2 for the semi-supervised 2D reprojection
    term. Returns a scalar tensor in input units.
    """
    if pred.shape != target.shape:
        raise ValueError(f"prediction {tuple(pred.shape)} and target {tuple(target.shape)} differ in shape")
    return torch.mean(torch.linalg.vector_norm(pred - target, dim=-1))


def weighted_mpjpe_loss(pred: torch.Tensor, target: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """MPJPE with a weight per joint error: mean(w * |pred - target|).

    pred, target: (..., J, D); w broadcastable to (..., J), e.g. (B, T, 1) for the trajectory
    (J = 1) with w = 1 / z_root (see ``inverse_depth_weight``): far people move less on screen, so
    their absolute depth errors count less.
    """
    if pred.shape != target.shape:
        raise ValueError(f"prediction {tuple(pred.shape)} and target {tuple(target.shape)} differ in shape")
    return torch.mean(w * torch.linalg.vector_norm(pred - target, dim=-1))


def velocity_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Differentiable MPJVE: mean distance between predicted and true frame-to-frame displacements.

    pred, target: (B, T, J, 3) with consecutive frames on axis 1 (the chunked scheme's output
    frames). Not in the reference: MPJPE alone does not ask consecutive outputs to agree, and their
    independent errors are exactly what MPJVE measures.
    """
    if pred.shape != target.shape:
        raise ValueError(f"prediction {tuple(pred.shape)} and target {tuple(target.shape)} differ in shape")
    if pred.shape[1] < 2:
        raise ValueError("the velocity loss needs at least two consecutive output frames per window")
    return mpjpe_loss(pred.diff(dim=1), target.diff(dim=1))


def inverse_depth_weight(traj: torch.Tensor) -> torch.Tensor:
    """Trajectory loss weight 1 / z: traj (..., J, 3) camera-space positions -> (..., J)."""
    return 1.0 / traj[..., 2]


def bone_lengths(pose: torch.Tensor, parents: Sequence[int]) -> torch.Tensor:
    """Length of each bone: pose (..., J, 3) -> (..., n_bones), bones = joints with a parent >= 0."""
    child = [j for j, p in enumerate(parents) if p >= 0]
    parent = [parents[j] for j in child]
    return torch.linalg.vector_norm(pose[..., child, :] - pose[..., parent, :], dim=-1)


def bone_length_loss(pred_labeled: torch.Tensor, pred_unlabeled: torch.Tensor,
                     parents: Sequence[int]) -> torch.Tensor:
    """Semi-supervised bone-length term of the reference.

    pred_labeled, pred_unlabeled: (..., J, 3) predicted poses (batch and time dims may differ).
    Returns mean over bones of |mean labeled length - mean unlabeled length|: it ties the
    unlabeled predictions to the scale of the labeled subjects without any 3D target.
    """
    lab = bone_lengths(pred_labeled, parents)
    unl = bone_lengths(pred_unlabeled, parents)
    lab = lab.reshape(-1, lab.shape[-1]).mean(dim=0)
    unl = unl.reshape(-1, unl.shape[-1]).mean(dim=0)
    return torch.mean(torch.abs(lab - unl))
