"""Probe (session 25): test-time camera roll. A roll of the camera about its optical axis rotates the normalized 2D about
the image centre and the camera-frame 3D about the z axis, exactly; training's cameras roll by N(0, 3 degrees). Lift the
2D rolled by each angle, roll each lift back, average (as flip does for left and right), then version 11's steps.

    .venv/bin/python runs/probes/roll_tta_probe.py CHECKPOINT detector|mediapipe train|val DEG[,DEG...] ...

Each argument after the set is one list of angles in degrees (0 = no roll; "0" alone is the checkpoint as shipped).
"""
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bone_choice_probe_lib import bone_rays
from lifter_probes import DEFAULT_FOCAL, Lifter, training_sets, validation_sets
from vp3d.lifter.image_plane import toward_the_2d
from vp3d.training.metrics import mpjpe, mpjve, p_mpjpe


def steps(P, u):
    """Version 11's steps: 0.3 toward the 2D, then 0.3 toward bone rays, soft choice 5 cm."""
    return bone_rays(toward_the_2d(P, u, DEFAULT_FOCAL, 0.3, 4.0), u, None, "relative", False, 0.3, 0.05)


def rotation_z(deg):
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def rolled_lift(lf, kp, angles, cache):
    lifts = []
    for a in angles:
        if a not in cache:
            R = rotation_z(a)
            P = lf.lift((kp @ R[:2, :2].T).astype(np.float32), flip=True).poses.astype(np.float64)
            cache[a] = P @ R  # rolled back: R^T applied to each row vector
        lifts.append(cache[a])
    return np.mean(lifts, 0)


lf = Lifter.load(sys.argv[1])
lf.meta = replace(lf.meta, image_plane_weight=0.0, bone_rays_weight=0.0)
sets = training_sets(sys.argv[2]) if sys.argv[3] == "train" else validation_sets(sys.argv[2])
variants = [tuple(float(a) for a in v.split(",")) for v in sys.argv[4:]]
for set_name, seqs in sets.items():
    sums = {v: np.zeros(4) for v in variants}
    for seq in seqs:
        u = seq.kp2d_norm.astype(np.float64)
        cache = {}
        for v in variants:
            V = steps(rolled_lift(lf, seq.kp2d_norm.astype(np.float64), v, cache), u)
            T = seq.pose3d
            sums[v] += len(T) * np.array([mpjpe(V, T), p_mpjpe(V, T), mpjve(V, T), 1])
    for v, s in sums.items():
        print(set_name, f"roll {','.join('%g' % a for a in v):24s}", "%.1f / %.1f / %.2f" % tuple(1000 * s[:3] / s[3]), flush=True)
