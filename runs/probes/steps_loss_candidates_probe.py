"""Probe (session 27): the candidates fixed before one look at the validation sets, each lifted as shipped (flip,
the steps its file declares: version 11's).

    .venv/bin/python runs/probes/steps_loss_candidates_probe.py detector|mediapipe train|val FILE [FILE ...]

Files (float16, made with export_for_inference and runs/soup.py; runs/probes/steps_loss_candidates.sh): (a) version
11; (b) fbn_LEG2 epoch 6 (version 11 fine-tuned on the raw error, legs and arms recombined: the control); (c)
fbn_STEPS epoch 6 (the same trained through the steps, --steps-loss 1); (d) the mean of version 11's and (c)'s
weights.
Session 28 (`sh runs/probes/steps_loss_candidates.sh fbn_STEPSN stepsn fbn_STEPS03 fbn_STEPSN`): (f) fbn_STEPS03 epoch 6 (--steps-loss 0.3); (e') fbn_STEPSN epoch 6
(--steps-loss 1 --shape-spread 0.5); (g') the mean of version 11's and (e')'s weights.
Session 29 (`EPOCH=12 sh runs/probes/steps_loss_candidates.sh fbn_STEPSN stepsn12 fbn_STEPSN`): fbn_STEPSN epoch 12
(the compare point fixed in session 28) and the mean of version 11's and its weights.
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from lifter_probes import Lifter, training_sets, validation_sets
from vp3d.training.metrics import mpjpe, mpjve, p_mpjpe

lifters = {path: Lifter.load(path) for path in sys.argv[3:]}
sets = training_sets(sys.argv[1]) if sys.argv[2] == "train" else validation_sets(sys.argv[1])
for set_name, seqs in sets.items():
    sums = {n: np.zeros(4) for n in lifters}
    for seq in seqs:
        T = seq.pose3d
        for n, lifter in lifters.items():
            V = lifter.lift(seq.kp2d_norm, flip=True).poses.astype(np.float64)
            sums[n] += len(T) * np.array([mpjpe(V, T), p_mpjpe(V, T), mpjve(V, T), 1])
    for n, s in sums.items():
        print(set_name, f"{n:40s}", "%.1f / %.1f / %.2f" % tuple(1000 * s[:3] / s[3]), flush=True)
