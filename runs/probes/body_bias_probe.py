"""Probe (session 24): a constant error per joint in the lifted body's own frame, estimated from the 2D.

    .venv/bin/python runs/probes/body_bias_probe.py CHECKPOINT detector|mediapipe train|val

Oracle (runs/probes/oracle_probe.py): removing each sequence's mean error in the lifted body's frame takes CMU 02+135
from 73.3 to 57.5 mm and bandai2 from 56.5 to 26.1. As the person turns, a body-frame offset of a joint shows in
the image in changing directions, so the 2D residuals (the offsets from each placed joint across the image onto its
ray) over many frames tell all three of its components. Per joint j, ridge least squares over the frames of a
window: min_b sum_t |R_t[:2] b - o_tj|^2 + lam * n * |b|^2 (R_t: lifted body axes in the camera frame, o_tj: the 2D
offset), then every joint moved by w * R_t b (depth included), root-relative again.
"""
import sys
from pathlib import Path

import numpy as np
from scipy.ndimage import uniform_filter1d

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from lifter_probes import DEFAULT_FOCAL, Lifter, measure, training_sets, validation_sets
from vp3d.lifter.image_plane import offsets_onto_the_rays, root_on_the_2d


def body_frames(P):
    right = P[:, 1] - P[:, 4]
    up = P[:, 8] - P[:, 0]
    fwd = np.cross(right, up)
    up = np.cross(fwd, right)
    return np.stack([v / np.linalg.norm(v, axis=-1, keepdims=True) for v in (right, up, fwd)], axis=-1)


def windowed_sum(x, window):
    """Sums over t-window..t+window along axis 0 (whole sequence when window is None)."""
    if window is None or len(x) <= 2 * window + 1:
        return np.broadcast_to(x.sum(0, keepdims=True), x.shape)
    return uniform_filter1d(x, 2 * window + 1, axis=0, mode="constant") * (2 * window + 1)


def body_bias(P, kp, lam, w, window=None):
    P = np.asarray(P, np.float64)
    root = root_on_the_2d(P, kp, DEFAULT_FOCAL)
    o = offsets_onto_the_rays(P + root[:, None], kp, DEFAULT_FOCAL)  # (T, J, 2)
    R = body_frames(P)  # (T, 3, 3) body -> camera
    A = R[:, :2, :]  # (T, 2, 3)
    AtA = np.einsum("tki,tkj->tij", A, A)  # (T, 3, 3), same for every joint
    Ato = np.einsum("tki,tjk->tji", A, o)  # (T, J, 3)
    n = windowed_sum(np.ones(len(P)), window)
    S = windowed_sum(AtA, window) + lam * n[:, None, None] * np.eye(3)
    rhs = windowed_sum(Ato, window)
    b = np.linalg.solve(S[:, None], rhs[..., None])[..., 0]  # (T, J, 3) in body axes
    moved = P + w * np.einsum("tij,tkj->tki", R, b)
    return (moved - moved[:, :1]).astype(np.float32)


VARIANTS = {"as lifted": lambda P, u: P}
for window in (None, 121):
    for lam in (0.1, 0.3, 1.0):
        for w in (0.5, 1.0):
            VARIANTS[f"bias lam {lam} w {w} window {window}"] = (
                lambda P, u, lam=lam, w=w, window=window: body_bias(P, u, lam, w, window))

lifter = Lifter.load(sys.argv[1])
sets = training_sets(sys.argv[2]) if sys.argv[3] == "train" else validation_sets(sys.argv[2])
chosen = {k: v for k, v in VARIANTS.items() if len(sys.argv) <= 4 or k in sys.argv[4:] or k == "as lifted"}
for name, seqs in sets.items():
    for k, (p1, p2, velocity) in measure(lifter, seqs, {k: (lambda lf, kp, fwd, f=f: f(fwd, kp)) for k, f in chosen.items()}).items():
        print(name, f"{k:36s}", "%.1f / %.1f / %.2f" % (p1, p2, velocity), flush=True)
