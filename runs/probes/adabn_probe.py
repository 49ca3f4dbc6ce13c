"""Probe (session 24): BatchNorm statistics partly re-estimated on each clip at test time (AdaBN), no training.

    .venv/bin/python runs/probes/adabn_probe.py CHECKPOINT detector|mediapipe train|val

The frozen statistics come from the training takes; a clip of an unseen person and motion shifts every layer's
inputs. For each clip and each alpha: running statistics = (1 - alpha) * training's + alpha * the clip's (the clip
and its mirror image, edge-padded, in one batch), then the ordinary lift with the declared steps.
"""
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from lifter_probes import Lifter, training_sets, validation_sets
from vp3d.lifter.chunk_memo import ChunkMemo
from vp3d.lifter.inference import mirror
from vp3d.training.metrics import mpjpe, mpjve, p_mpjpe

ALPHAS = (0.0, 0.1, 0.3)
torch.set_grad_enabled(False)
lifter = Lifter.load(sys.argv[1], engine="torch")
model = lifter.pose_net.model
bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm1d)]
saved = [(bn.running_mean.clone(), bn.running_var.clone()) for bn in bns]
sets = training_sets(sys.argv[2]) if sys.argv[3] == "train" else validation_sets(sys.argv[2])
for set_name, seqs in sets.items():
    sums = {a: np.zeros(4) for a in ALPHAS}
    for seq in seqs:
        kp = seq.kp2d_norm.astype(np.float32)
        both = np.stack([lifter._pad(kp), lifter._pad(mirror(kp, lifter._in_flip))])
        for a in ALPHAS:
            for bn, (m, v) in zip(bns, saved):
                bn.running_mean.copy_(m); bn.running_var.copy_(v)
            if a > 0:
                for bn in bns:
                    bn.train(); bn.momentum = a
                model(torch.from_numpy(both))
                model.eval()
            lifter._memo = ChunkMemo()
            V = lifter.lift(kp, flip=True).poses
            T = seq.pose3d
            sums[a] += len(T) * np.array([mpjpe(V, T), p_mpjpe(V, T), mpjve(V, T), 1])
    for a, s in sums.items():
        print(set_name, f"alpha {a}", "%.1f / %.1f / %.2f" % tuple(1000 * s[:3] / s[3]), flush=True)
