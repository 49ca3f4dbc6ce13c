"""Probe (session 24): the mean of several networks' lifts, then version 10's two steps once.

    .venv/bin/python runs/probes/ensemble_probe.py detector|mediapipe train|val CKPT [CKPT ...]

Each checkpoint lifts with its declared output smoothing only (flip on); the rows: each alone with the steps
(image plane 0.3, bone rays 0.3, sigma 4, window 121), and the mean of all, then the steps.
"""
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from lifter_probes import DEFAULT_FOCAL, Lifter, training_sets, validation_sets
from vp3d.lifter.bone_rays import toward_bone_lengths
from vp3d.lifter.image_plane import toward_the_2d
from vp3d.training.metrics import mpjpe, mpjve, p_mpjpe


def steps(P, u):
    return toward_bone_lengths(toward_the_2d(P, u, DEFAULT_FOCAL, 0.3, 4.0), u, DEFAULT_FOCAL, 0.3, 4.0, 121)


lifters = []
for path in sys.argv[3:]:
    lf = Lifter.load(path)
    lf.meta = replace(lf.meta, image_plane_weight=0.0, bone_rays_weight=0.0)
    lifters.append(lf)
sets = training_sets(sys.argv[1]) if sys.argv[2] == "train" else validation_sets(sys.argv[1])
names = [Path(p).name for p in sys.argv[3:]] + ["mean of all"]
for set_name, seqs in sets.items():
    sums = {n: np.zeros(4) for n in names}
    for seq in seqs:
        lifts = [lf.lift(seq.kp2d_norm, flip=True).poses.astype(np.float64) for lf in lifters]
        for n, P in zip(names, lifts + [np.mean(lifts, axis=0)]):
            V = steps(P, seq.kp2d_norm)
            T = seq.pose3d
            sums[n] += len(T) * np.array([mpjpe(V, T), p_mpjpe(V, T), mpjve(V, T), 1])
    for n, s in sums.items():
        print(set_name, f"{n:32s}", "%.1f / %.1f / %.2f" % tuple(1000 * s[:3] / s[3]), flush=True)
