"""Probe (session 24): which of a bone's two points on the ray the bone-rays step picks, and with which lengths.

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


def targets(placed, kp, lengths, reference):
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
        points[:, j] = depth[:, None] * ray
    return points


def bone_rays(P, kp, T, choice, oracle_lengths, weight=0.3):
    placed = P + root_on_the_2d(P, kp, DEFAULT_FOCAL)[:, None]
    lengths = bone_lengths(T) if oracle_lengths else usual_bone_lengths(placed, 121)
    truth = T - T[:, :1] + placed[:, :1]
    if choice == "absolute":
        ref = lambda pts, j: placed[:, j, 2]
    elif choice == "relative":
        ref = lambda pts, j: pts[:, PARENTS[j], 2] + placed[:, j, 2] - placed[:, PARENTS[j], 2]
    else:  # oracle: the truth's bone depth change from the new parent
        ref = lambda pts, j: pts[:, PARENTS[j], 2] + truth[:, j, 2] - truth[:, PARENTS[j], 2]
    offsets = gaussian_filter1d(targets(placed, kp, lengths, ref) - placed, 4.0, axis=0, mode="nearest")
    moved = placed + weight * offsets
    return moved - moved[:, :1]


VARIANTS = {
    "image plane only": None,
    "v10 (absolute depth choice)": ("absolute", False),
    "relative depth choice": ("relative", False),
    "relative depth choice x 0.4": ("relative", False, 0.4),
    "relative depth choice x 0.5": ("relative", False, 0.5),
    "oracle choice": ("oracle", False),
    "oracle lengths": ("absolute", True),
    "oracle choice and lengths": ("oracle", True),
    "oracle choice and lengths x 1.0": ("oracle", True, 1.0),
}

lifter = Lifter.load(sys.argv[1])
lifter.meta = replace(lifter.meta, image_plane_weight=0.0, bone_rays_weight=0.0)
sets = training_sets(sys.argv[2]) if sys.argv[3] == "train" else validation_sets(sys.argv[2])
for set_name, seqs in sets.items():
    sums = {n: np.zeros(4) for n in VARIANTS}
    for seq in seqs:
        u = seq.kp2d_norm.astype(np.float64)
        P = toward_the_2d(lifter.lift(seq.kp2d_norm, flip=True).poses, u, DEFAULT_FOCAL, 0.3, 4.0)
        T = seq.pose3d.astype(np.float64)
        for n, v in VARIANTS.items():
            V = P if v is None else bone_rays(P, u, T, *v)
            sums[n] += len(T) * np.array([mpjpe(V, T), p_mpjpe(V, T), mpjve(V, T), 1])
    for n, s in sums.items():
        print(set_name, f"{n:32s}", "%.1f / %.1f / %.2f" % tuple(1000 * s[:3] / s[3]), flush=True)
