"""Probe (session 23): the two steps after the network re-tuned together, and repeated, on the symmetric lifter.

    .venv/bin/python runs/probes/steps_grid_probe.py CHECKPOINT detector|mediapipe train|val [variant ...]

The lift is taken with the declared output smoothing only; then k rounds of (image plane a, bone rays b), each with
the offsets smoothed over sigma 4 frames and bone lengths over +-121 frames.
"""
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))  # lifter_probes

from lifter_probes import DEFAULT_FOCAL, Lifter, measure, training_sets, validation_sets
from vp3d.lifter.bone_rays import toward_bone_lengths
from vp3d.lifter.image_plane import toward_the_2d


def rounds(P, u, a, b, k):
    for _ in range(k):
        if a:
            P = toward_the_2d(P, u, DEFAULT_FOCAL, a, 4.0)
        if b:
            P = toward_bone_lengths(P, u, DEFAULT_FOCAL, b, 4.0, 121)
    return P


GRID = [(a, b, 1) for a in (0.2, 0.3, 0.4, 0.5) for b in (0.2, 0.3, 0.4)] + [(0.3, 0.3, 2), (0.2, 0.2, 2), (0.15, 0.15, 3)]
VARIANTS = {"smoothed only": lambda P, u: P, **{f"ip {a} br {b} x{k}": (lambda P, u, a=a, b=b, k=k: rounds(P, u, a, b, k))
                                               for a, b, k in GRID}}

lifter = Lifter.load(sys.argv[1])
lifter.meta = replace(lifter.meta, image_plane_weight=0.0, bone_rays_weight=0.0)
sets = training_sets(sys.argv[2]) if sys.argv[3] == "train" else validation_sets(sys.argv[2])
chosen = {k: v for k, v in VARIANTS.items() if len(sys.argv) <= 4 or k in sys.argv[4:] or k == "smoothed only"}
for name, seqs in sets.items():  # lifter_probes.measure: frame-weighted P1 / P2 / MPJVE of each variant
    for k, (p1, p2, velocity) in measure(lifter, seqs, {k: (lambda lf, kp, fwd, f=f: f(fwd, kp)) for k, f in chosen.items()}).items():
        print(name, f"{k:24s}", "%.1f / %.1f / %.2f" % (p1, p2, velocity), flush=True)
