"""Probe (session 24): the candidates fixed before one look at the validation sets.

    .venv/bin/python runs/probes/candidates_probe.py detector|mediapipe train|val V10 ARM

(a) version 10 as shipped; (b) its network with the bone-rays step choosing, of a bone's two points on the ray, by
the lifted bone's own depth change (from the parent's new point), softly (each point weighted by a Gaussian of 5 cm
of its disagreement with that depth); (c) fbn_ARM's network (epoch 16) with (b)'s steps; (d) the mean of both
networks' lifts with (b)'s steps. Settings of (b) chosen on training takes (runs/probes/bone_choice_soft_training_*).
"""
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bone_choice_probe_lib import bone_rays
from lifter_probes import DEFAULT_FOCAL, Lifter, training_sets, validation_sets
from vp3d.lifter.bone_rays import toward_bone_lengths
from vp3d.lifter.image_plane import toward_the_2d
from vp3d.training.metrics import mpjpe, mpjve, p_mpjpe


def shipped(P, u):
    return toward_bone_lengths(toward_the_2d(P, u, DEFAULT_FOCAL, 0.3, 4.0), u, DEFAULT_FOCAL, 0.3, 4.0, 121)


def soft(P, u):
    return bone_rays(toward_the_2d(P, u, DEFAULT_FOCAL, 0.3, 4.0), u, None, "relative", False, 0.3, 0.05)


lifters = []
for path in sys.argv[3:5]:
    lf = Lifter.load(path)
    lf.meta = replace(lf.meta, image_plane_weight=0.0, bone_rays_weight=0.0)
    lifters.append(lf)
sets = training_sets(sys.argv[1]) if sys.argv[2] == "train" else validation_sets(sys.argv[1])
rows = ["(a) version 10", "(b) version 10's network, soft relative choice", "(c) fbn_ARM e16, soft relative choice",
        "(d) mean of both, soft relative choice"]
for set_name, seqs in sets.items():
    sums = {n: np.zeros(4) for n in rows}
    for seq in seqs:
        u = seq.kp2d_norm.astype(np.float64)
        a, b = (lf.lift(seq.kp2d_norm, flip=True).poses.astype(np.float64) for lf in lifters)
        for n, V in zip(rows, (shipped(a, u), soft(a, u), soft(b, u), soft((a + b) / 2, u))):
            T = seq.pose3d
            sums[n] += len(T) * np.array([mpjpe(V, T), p_mpjpe(V, T), mpjve(V, T), 1])
    for n, s in sums.items():
        print(set_name, f"{n:48s}", "%.1f / %.1f / %.2f" % tuple(1000 * s[:3] / s[3]), flush=True)
