"""Lifted joints moved part of the way toward the point of their 2D ray at which each bone has its usual length.

A person's bones keep their length; the lifter's do not (its bone lengths vary by several per cent from frame to
frame, weights/MODEL_CARD.md "Probes"), and along the camera's line of sight, where the 2D says nothing, its
joints are furthest off (depth is about two thirds of P1). With a bone's length known, a joint's 2D point leaves
its depth only two choices: the points of its ray at that length from its parent. This step, with the camera the
2D was normalized with (Taylor's 1999 reconstruction from lengths, made soft and relative to the lifter's own
guess):

1. places each frame's root-relative pose in the camera frame by least squares (image_plane.root_on_the_2d; the
   pose keeps its own size);
2. takes each bone's length as the median of the lifted lengths over a window of frames around the frame, the
   left and right bones of a pair averaged (the lifter's own size for this person, steadied);
3. from the root outward, puts each joint at the point of its 2D ray at that length from its parent's new point,
   the one of the two nearer the joint's lifted depth (the ray's nearest point when no point is at that length);
   or, with a softness (metres, version 11), the two points' depths averaged, each weighted by a Gaussian of its
   disagreement with the parent's new depth plus the lifted bone's own change in depth: a bone keeps the direction
   in depth the lifter gave it wherever its parent went, and where the two points are about equally likely (the
   bone near the image plane, or the lifter unsure) the target is between them instead of a guess;
4. smooths the offsets from the lifted joints to those points over time and moves every joint by a fraction of
   its offset; the root goes back to the origin.

The fraction, the smoothing, the window and the softness belong to the weights they were chosen for (LifterMeta.bone_rays_*,
chosen on training takes). The window is finite so that a frame's output depends only on the frames within the
lifter's lookahead (vp3d.pipeline.overlap draws frames before the video ends). Shapes: poses (T, 17, 3) metres,
Human3.6M-17, root-relative; kp_norm (T, 17, 2) normalized screen coordinates of the same joints; focal in
normalized units (camera.normalized_focal).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d, median_filter

from ..skeleton import H36M
from .image_plane import root_on_the_2d

PARENTS = np.asarray(H36M.parents)  # every parent comes before its children, so one pass from the root suffices


def bone_lengths(poses: np.ndarray) -> np.ndarray:
    """(T, 16) metres: the length of the bone ending at each joint 1-16."""
    return np.linalg.norm(poses[:, 1:] - poses[:, PARENTS[1:]], axis=-1)


def left_equal_right(lengths: np.ndarray) -> np.ndarray:
    """(T, 16) bone lengths, each averaged with the other side's bone (a body is symmetric; one side's 2D is often
    worse than the other's)."""
    every = np.concatenate([np.zeros((len(lengths), 1)), lengths], axis=1)  # indexed by joint, the root's bone 0
    return ((every + every[:, H36M.flip_permutation()]) / 2)[:, 1:]


def usual_bone_lengths(placed: np.ndarray, window: int) -> np.ndarray:
    """(T, 16) length (metres) of the bone ending at each joint 1-16: the median over frames t-window..t+window
    (fewer at the clip's ends), averaged with the other side's bone."""
    lengths = bone_lengths(placed)
    frames = len(lengths)
    median = (median_filter(lengths, size=(2 * window + 1, 1), mode="nearest") if frames > 2 * window
              else np.empty_like(lengths))
    for t in [*range(min(window, frames)), *range(max(frames - window, window), frames)]:  # windows cut short
        median[t] = np.median(lengths[max(0, t - window):t + window + 1], axis=0)
    return left_equal_right(median)


def points_at_bone_length(placed: np.ndarray, kp_norm: np.ndarray, focal: float,
                          lengths: np.ndarray, softness: float = 0.0) -> np.ndarray:
    """(T, 17, 3) joints on their 2D rays (camera frame), each at lengths[:, j - 1] from its parent's point,
    the root where `placed` has it. softness 0: of the two points, the one nearer the joint's depth in `placed`;
    > 0 (metres): both, weighted by a Gaussian of this sigma of their distance in depth from the parent's new
    depth plus the bone's depth change in `placed` (the module's docstring says why)."""
    rays = np.concatenate([kp_norm / focal, np.ones(kp_norm.shape[:-1] + (1,))], axis=-1)  # (T, 17, 3), z = 1
    points = placed.copy()
    for joint in range(1, len(PARENTS)):
        parent, ray = points[:, PARENTS[joint]], rays[:, joint]
        # |s * ray - parent| = length, a quadratic in the depth s
        a = (ray * ray).sum(-1)
        b = (ray * parent).sum(-1)
        c = (parent * parent).sum(-1) - lengths[:, joint - 1] ** 2
        root = np.sqrt(np.maximum(b * b - a * c, 0.0))  # 0 where the ray stays further away: its nearest point
        near, far = (b - root) / a, (b + root) / a
        if softness > 0:
            expected = parent[:, 2] + placed[:, joint, 2] - placed[:, PARENTS[joint], 2]
            w_near, w_far = (np.exp(-0.5 * ((d - expected) / softness) ** 2) for d in (near, far))
            total = w_near + w_far
            nearer = np.where(np.abs(near - expected) <= np.abs(far - expected), near, far)  # both weights ~0
            depth = np.where(total > 1e-12, (w_near * near + w_far * far) / np.maximum(total, 1e-12), nearer)
        else:
            lifted_depth = placed[:, joint, 2]
            depth = np.where(np.abs(near - lifted_depth) <= np.abs(far - lifted_depth), near, far)
        points[:, joint] = depth[:, None] * ray
    return points


def toward_bone_lengths(poses: np.ndarray, kp_norm: np.ndarray, focal: float, weight: float, smoothing: float,
                        window: int, softness: float = 0.0) -> np.ndarray:
    """poses (T, 17, 3) root-relative, each joint moved `weight` (0-1) of the way toward its point at the usual
    bone length on its 2D ray (bone lengths: medians over +-`window` frames; of the ray's two points as
    points_at_bone_length chooses with `softness`), the offsets smoothed over time with a Gaussian of `smoothing`
    frames (sigma; 0: none); root-relative again. The module's docstring says why."""
    poses = np.asarray(poses, dtype=np.float64)
    kp_norm = np.asarray(kp_norm, dtype=np.float64)
    if poses.shape[1:] != (len(PARENTS), 3) or kp_norm.shape != poses.shape[:2] + (2,):
        raise ValueError(f"poses {poses.shape} and 2D {kp_norm.shape}: expected (T, 17, 3) and (T, 17, 2)")
    placed = poses + root_on_the_2d(poses, kp_norm, focal)[:, None]
    targets = points_at_bone_length(placed, kp_norm, focal, usual_bone_lengths(placed, window), softness)
    offsets = targets - placed
    if smoothing > 0 and len(poses) > 1:
        offsets = gaussian_filter1d(offsets, smoothing, axis=0, mode="nearest")
    moved = placed + weight * offsets
    return moved - moved[:, :1]
