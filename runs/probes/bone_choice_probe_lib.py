"""Functions of bone_choice_probe.py (session 24): which of a bone's two points on the ray the bone-rays step picks, and with which lengths.

    .venv/bin/python runs/probes/bone_choice_probe.py CHECKPOINT detector|mediapipe train|val

Version 10 picks the point nearer the joint's lifted depth in the camera frame, after its parent has moved. Variants:
the point nearer the parent's new depth plus the lifted bone's depth change (the bone's own direction, not the
joint's old place); and, as diagnosis only, oracles: the truth's bone direction decides, the truth's lengths.
"""
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter1d

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from lifter_probes import DEFAULT_FOCAL, Lifter, training_sets, validation_sets
from vp3d.lifter.bone_rays import PARENTS, bone_lengths, left_equal_right, usual_bone_lengths
from vp3d.lifter.image_plane import root_on_the_2d, toward_the_2d
from vp3d.training.metrics import mpjpe, mpjve, p_mpjpe


def viterbi(near, far, ray, ref, data_sigma, step_sigma):
    """(T,) depths: per frame near or far, the sequence minimizing sum of ((depth - ref) / data_sigma)^2 and
    (|jump of the 3D point| / step_sigma)^2 between frames."""
    cand = np.stack([near, far], 1)  # (T, 2)
    pts = cand[..., None] * ray[:, None]  # (T, 2, 3)
    data = ((cand - ref[:, None]) / data_sigma) ** 2
    T = len(near)
    cost = data[0].copy()
    back = np.zeros((T, 2), dtype=np.int8)
    for t in range(1, T):
        jump = ((pts[t][:, None] - pts[t - 1][None]) ** 2).sum(-1) / step_sigma ** 2  # (now, before)
        total = cost[None, :] + jump
        back[t] = np.argmin(total, 1)
        cost = total[np.arange(2), back[t]] + data[t]
    path = np.empty(T, dtype=np.int64)
    path[-1] = int(np.argmin(cost))
    for t in range(T - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return cand[np.arange(T), path]


def targets(placed, kp, lengths, reference, soft=0.0, smooth_choice=None):
    rays = np.concatenate([kp / DEFAULT_FOCAL, np.ones(kp.shape[:-1] + (1,))], axis=-1)
    points = placed.copy()
    for j in range(1, 17):
        parent, ray = points[:, PARENTS[j]], rays[:, j]
        a = (ray * ray).sum(-1); b = (ray * parent).sum(-1)
        c = (parent * parent).sum(-1) - lengths[:, j - 1] ** 2
        root = np.sqrt(np.maximum(b * b - a * c, 0.0))
        near, far = (b - root) / a, (b + root) / a
        ref = reference(points, j)
        depth = np.where(np.abs(near - ref) <= np.abs(far - ref), near, far)
        if smooth_choice is not None:
            depth = viterbi(near, far, ray, ref, *smooth_choice)
        if soft > 0:  # each of the two points weighted by how well it agrees with the reference depth
            wn, wf = np.exp(-0.5 * ((near - ref) / soft) ** 2), np.exp(-0.5 * ((far - ref) / soft) ** 2)
            depth = np.where(wn + wf > 1e-12, (wn * near + wf * far) / np.maximum(wn + wf, 1e-12), depth)
        points[:, j] = depth[:, None] * ray
    return points


def bone_rays(P, kp, T, choice, oracle_lengths, weight=0.3, soft=0.0, smooth_choice=None):
    placed = P + root_on_the_2d(P, kp, DEFAULT_FOCAL)[:, None]
    lengths = bone_lengths(T) if oracle_lengths else usual_bone_lengths(placed, 121)
    truth = None if T is None else T - T[:, :1] + placed[:, :1]
    if choice == "absolute":
        ref = lambda pts, j: placed[:, j, 2]
    elif choice == "relative":
        ref = lambda pts, j: pts[:, PARENTS[j], 2] + placed[:, j, 2] - placed[:, PARENTS[j], 2]
    else:  # oracle: the truth's bone depth change from the new parent
        ref = lambda pts, j: pts[:, PARENTS[j], 2] + truth[:, j, 2] - truth[:, PARENTS[j], 2]
    offsets = gaussian_filter1d(targets(placed, kp, lengths, ref, soft, smooth_choice) - placed, 4.0, axis=0, mode="nearest")
    moved = placed + weight * offsets
    return moved - moved[:, :1]

