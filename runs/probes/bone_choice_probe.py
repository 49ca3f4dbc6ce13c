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

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bone_choice_probe_lib import bone_rays
from lifter_probes import DEFAULT_FOCAL, Lifter, training_sets, validation_sets
from vp3d.lifter.image_plane import toward_the_2d
from vp3d.training.metrics import mpjpe, mpjve, p_mpjpe

VARIANTS = {**({
    "relative, viterbi 0.05 / 0.02": ("relative", False, 0.3, 0.0, (0.05, 0.02)),
    "relative, viterbi 0.05 / 0.05": ("relative", False, 0.3, 0.0, (0.05, 0.05)),
    "relative, viterbi 0.1 / 0.02": ("relative", False, 0.3, 0.0, (0.1, 0.02)),
    "absolute, viterbi 0.05 / 0.02": ("absolute", False, 0.3, 0.0, (0.05, 0.02)),
} if "viterbi" in sys.argv[4:] else {}), **({
    "relative, soft 0.02": ("relative", False, 0.3, 0.02),
    "relative, soft 0.05": ("relative", False, 0.3, 0.05),
    "relative, soft 0.1": ("relative", False, 0.3, 0.1),
    "absolute, soft 0.05": ("absolute", False, 0.3, 0.05),
    "relative x 0.25": ("relative", False, 0.25),
    "relative x 0.35": ("relative", False, 0.35),
} if "soft" in sys.argv[4:] else {}),
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

if "viterbi" in sys.argv[4:]:
    VARIANTS = {k: v for k, v in VARIANTS.items() if "viterbi" in k or k.startswith("v10") or k == "relative depth choice"}
if "soft" in sys.argv[4:]:
    VARIANTS = {k: v for k, v in VARIANTS.items() if "oracle" not in k and "x 0.4" not in k and "x 0.5" not in k}
if "oracles" in sys.argv[4:]:  # diagnosis on the validation sets: the oracles and the shipped step only
    VARIANTS = {k: v for k, v in VARIANTS.items() if "oracle" in k or k.startswith("v10")}
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
