"""Probe (session 22): each joint moved toward the point of its 2D ray at its bone's (median lifted) length from its parent.

    .venv/bin/python runs/probes/bone_rays_probe.py CHECKPOINT detector|mediapipe train|val [BETA,SIGMA]
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))  # lifter_probes

from lifter_probes import *
from vp3d.lifter.image_plane import root_on_the_2d
from scipy.ndimage import gaussian_filter1d

def taylor(P, u, f, beta, sigma, scale=1.0):
    P = P.astype(np.float64); T = root_on_the_2d(P, u, f); placed = P + T[:, None]
    L = np.median(np.linalg.norm(placed[:, 1:] - placed[:, PARENTS[1:]], axis=-1), axis=0) * scale
    every = np.concatenate([[0.0], L]); L = ((every + every[H36M.flip_permutation()]) / 2)[1:]
    d = np.concatenate([u / f, np.ones(u.shape[:-1] + (1,))], -1)  # (T,J,3) ray directions (z = 1)
    target = placed.copy()
    for j in range(1, 17):
        p = target[:, PARENTS[j]]; dj = d[:, j]; Lj = L[j - 1]
        a = (dj * dj).sum(-1); b = (dj * p).sum(-1); c = (p * p).sum(-1) - Lj ** 2
        disc = b * b - a * c
        sq = np.sqrt(np.maximum(disc, 0))
        s1, s2 = (b - sq) / a, (b + sq) / a
        z = placed[:, j, 2]
        s = np.where(np.abs(s1 - z) < np.abs(s2 - z), s1, s2)
        target[:, j] = s[:, None] * dj
    off = target - placed
    if sigma: off = gaussian_filter1d(off, sigma, axis=0, mode="nearest")
    out = placed + beta * off
    return out - out[:, :1]

lifter = Lifter.load(sys.argv[1])
sets = training_sets(sys.argv[2]) if sys.argv[3] == "train" else validation_sets(sys.argv[2])
grid = [(b, s) for b in (0.15, 0.3, 0.45) for s in (4, 8)]
if len(sys.argv) > 4:  # one setting, e.g. "0.3,4": the single validation look
    grid = [tuple(float(x) for x in sys.argv[4].split(","))]
for name, seqs in sets.items():
    sums = {}
    for seq in seqs:
        fwd = lifter.lift(seq.kp2d_norm, flip=True).poses
        n = len(fwd)
        rows = {"as lifted": fwd, **{f"beta={b} sigma={s}": taylor(fwd, seq.kp2d_norm, DEFAULT_FOCAL, b, s) for b, s in grid}}
        for k, v in rows.items():
            s_ = sums.setdefault(k, np.zeros(4)); s_ += n * np.array([mpjpe(v, seq.pose3d), p_mpjpe(v, seq.pose3d), mpjve(v, seq.pose3d), 1])
    for k, s_ in sums.items():
        print(name, f"{k:22s}", "%.1f / %.1f / %.2f" % tuple(1000 * s_[:3] / s_[3]), flush=True)
