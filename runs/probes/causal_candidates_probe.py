"""Probe (session 25): the causal candidates, fixed before one look at the validation sets.

    .venv/bin/python runs/probes/causal_candidates_probe.py detector|mediapipe train|val CAUSAL_V8 CLEG SOUP

(a) causal version 8 as shipped; (b) its network with version 11's soft choice on the bone rays (softness 0.05 m,
chosen on training takes in session 24: runs/probes/causal_softness_training_detector.txt); (c) run fbn_CLEG's last
epoch with (b)'s steps; (d) the mean of causal version 8's and fbn_CLEG's weights (runs/soup.py; both keep causal
version 7's BatchNorm statistics) with (b)'s steps. Each file's steps run as live mode runs them (CausalSteps).
"""
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from lifter_probes import Lifter, training_sets, validation_sets
from vp3d.training.metrics import mpjpe, mpjve, p_mpjpe

v8, cleg, soup = (Lifter.load(p) for p in sys.argv[3:6])
steps = replace(v8.meta, bone_rays_softness=0.05)
for lf in (cleg, soup):  # the same steps for every candidate: causal version 8's, soft
    lf.meta = replace(steps, name=lf.meta.name, training=lf.meta.training)
soft_v8 = Lifter.load(sys.argv[3])
soft_v8.meta = steps
rows = {"(a) causal version 8": v8, "(b) its network, soft choice": soft_v8, "(c) fbn_CLEG, soft choice": cleg,
        "(d) mean of (b)'s and (c)'s weights, soft choice": soup}
sets = training_sets(sys.argv[1]) if sys.argv[2] == "train" else validation_sets(sys.argv[1])
for set_name, seqs in sets.items():
    sums = {n: np.zeros(4) for n in rows}
    for seq in seqs:
        T = seq.pose3d
        for n, lf in rows.items():
            V = lf.lift(seq.kp2d_norm, flip=True).poses.astype(np.float64)
            sums[n] += len(T) * np.array([mpjpe(V, T), p_mpjpe(V, T), mpjve(V, T), 1])
    for n, s in sums.items():
        print(set_name, f"{n:50s}", "%.1f / %.1f / %.2f" % tuple(1000 * s[:3] / s[3]), flush=True)
