"""Probe (session 23): variants of the bone-rays step on version 10's lifts (image-plane step kept, bone rays off).

    .venv/bin/python runs/probes/bone_rays_variants_probe.py CHECKPOINT detector|mediapipe train|val [variant ...]
"""
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter1d

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))  # lifter_probes

from lifter_probes import DEFAULT_FOCAL, Lifter, measure, training_sets, validation_sets
from vp3d.lifter.bone_rays import points_at_bone_length, usual_bone_lengths
from vp3d.lifter.image_plane import root_on_the_2d

ENDS = [3, 6, 13, 16]  # feet and wrists


def bone_rays(P, u, weights, depth_only=False):
    """weights: (17,) fraction per joint."""
    P = P.astype(np.float64)
    placed = P + root_on_the_2d(P, u, DEFAULT_FOCAL)[:, None]
    off = points_at_bone_length(placed, u, DEFAULT_FOCAL, usual_bone_lengths(placed, 121)) - placed
    off = gaussian_filter1d(off, 4.0, axis=0, mode="nearest")
    if depth_only:
        off[..., :2] = 0
    moved = placed + np.asarray(weights)[None, :, None] * off
    return moved - moved[:, :1]


def per_joint(rest, ends):
    w = np.full(17, rest); w[ENDS] = ends
    return w


VARIANTS = {
    "image plane only": lambda P, u: P,
    "br 0.3 (version 10)": lambda P, u: bone_rays(P, u, per_joint(0.3, 0.3)),
    "br 0.3 depth only": lambda P, u: bone_rays(P, u, per_joint(0.3, 0.3), True),
    "br 0.4 depth only": lambda P, u: bone_rays(P, u, per_joint(0.4, 0.4), True),
    "br 0.3, ends 0.5": lambda P, u: bone_rays(P, u, per_joint(0.3, 0.5)),
    "br 0.2, ends 0.4": lambda P, u: bone_rays(P, u, per_joint(0.2, 0.4)),
    "br 0.4, ends 0.2": lambda P, u: bone_rays(P, u, per_joint(0.4, 0.2)),
}

lifter = Lifter.load(sys.argv[1])
lifter.meta = replace(lifter.meta, bone_rays_weight=0.0)
sets = training_sets(sys.argv[2]) if sys.argv[3] == "train" else validation_sets(sys.argv[2])
chosen = {k: v for k, v in VARIANTS.items() if len(sys.argv) <= 4 or k in sys.argv[4:] or k == "image plane only"}
for name, seqs in sets.items():  # lifter_probes.measure: frame-weighted P1 / P2 / MPJVE of each variant
    for k, (p1, p2, velocity) in measure(lifter, seqs, {k: (lambda lf, kp, fwd, f=f: f(fwd, kp)) for k, f in chosen.items()}).items():
        print(name, f"{k:24s}", "%.1f / %.1f / %.2f" % (p1, p2, velocity), flush=True)
