"""Probe (session 24): where version 10's error sits, by oracles that know the truth (diagnosis only, never shipped).

    .venv/bin/python runs/probes/oracle_probe.py CHECKPOINT detector train|val

Rows: the lift as shipped; the same with each sequence's size set to the truth's (one factor per sequence: median
bone length ratio); each frame's size the truth's; each sequence's constant error in the lifted body's frame removed
(a bias per joint); each frame rotated onto the truth (no scale); depth error only (the truth's x, y).
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from lifter_probes import PARENTS, Lifter, training_sets, validation_sets
from vp3d.training.metrics import mpjpe, mpjve, p_mpjpe


def lengths(P):
    return np.linalg.norm(P[:, 1:] - P[:, PARENTS[1:]], axis=-1)


def body_frames(P):
    """(T, 3, 3) rotation whose columns are the lifted body's right, up, forward axes."""
    right = P[:, 1] - P[:, 4]
    up = P[:, 8] - P[:, 0]
    fwd = np.cross(right, up)
    up = np.cross(fwd, right)
    axes = [v / np.linalg.norm(v, axis=-1, keepdims=True) for v in (right, up, fwd)]
    return np.stack(axes, axis=-1)


def rotation_only(P, T):
    out = np.empty_like(P)
    for t in range(len(P)):
        a, b = P[t] - P[t].mean(0), T[t] - T[t].mean(0)
        u, _, vt = np.linalg.svd(a.T @ b)
        d = np.sign(np.linalg.det(u @ vt))
        r = u @ np.diag([1, 1, d]) @ vt
        out[t] = a @ r + T[t].mean(0)
    return out


def variants(P, T):
    out = {"as lifted": P}
    k = np.median(lengths(T)) / np.median(lengths(P))
    out["size per sequence = truth"] = P[:, :1] + k * (P - P[:, :1])
    kf = (np.sum(lengths(T), 1) / np.sum(lengths(P), 1))[:, None, None]
    out["size per frame = truth"] = P[:, :1] + kf * (P - P[:, :1])
    R = body_frames(P)
    local = np.einsum("tij,tki->tkj", R, P - T)  # error in body axes
    bias = local.mean(0)
    out["bias per sequence removed"] = P - np.einsum("tij,kj->tki", R, bias)
    out["each frame rotated onto truth"] = rotation_only(P, T)
    a, b = (P - P[:, :1]).reshape(-1, 3), (T - T[:, :1]).reshape(-1, 3)
    u, _, vt = np.linalg.svd(a.T @ b)
    r = u @ np.diag([1, 1, np.sign(np.linalg.det(u @ vt))]) @ vt
    out["one rotation per sequence"] = (P - P[:, :1]) @ r
    def about_x(angle):
        c, s = np.cos(angle), np.sin(angle)
        return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    best = min(np.linspace(-0.3, 0.3, 61), key=lambda g: np.sum((a @ about_x(g) - b) ** 2))
    out["one pitch per sequence"] = (P - P[:, :1]) @ about_x(best)
    D = P.copy(); D[..., :2] = T[..., :2] - T[:, :1, :2] + P[:, :1, :2]
    out["depth error only"] = D
    I = P.copy(); I[..., 2] = T[..., 2] - T[:, :1, 2] + P[:, :1, 2]
    out["image-plane error only"] = I
    return out


lifter = Lifter.load(sys.argv[1])
sets = training_sets(sys.argv[2]) if sys.argv[3] == "train" else validation_sets(sys.argv[2])
for name, seqs in sets.items():
    sums = {}
    for seq in seqs:
        P = lifter.lift(seq.kp2d_norm, flip=True).poses.astype(np.float64)
        T = seq.pose3d.astype(np.float64)
        for k, V in variants(P, T).items():
            sums.setdefault(k, np.zeros(4))
            sums[k] += len(T) * np.array([mpjpe(V, T), p_mpjpe(V, T), mpjve(V, T), 1])
    for k, s in sums.items():
        print(name, f"{k:32s}", "%.1f / %.1f / %.2f" % tuple(1000 * s[:3] / s[3]), flush=True)
