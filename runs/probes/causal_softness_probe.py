"""Probe (session 24): the causal lifter's bone-rays step with version 11's soft choice.

    .venv/bin/python runs/probes/causal_softness_probe.py CAUSAL_CHECKPOINT detector|mediapipe train|val

Rows: the file's declared steps with bone_rays_softness 0 (causal version 8), 0.02, 0.05 and 0.1 m (Lifter.lift
applies them through causal_steps.CausalSteps, as live mode does).
"""
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from lifter_probes import Lifter, measure, training_sets, validation_sets

lifter = Lifter.load(sys.argv[1])
base = lifter.meta
sets = training_sets(sys.argv[2]) if sys.argv[3] == "train" else validation_sets(sys.argv[2])


def with_softness(s):
    def lift(lf, kp, fwd):
        lf.meta = replace(base, bone_rays_softness=s)
        try:
            return lf.lift(kp, flip=True).poses
        finally:
            lf.meta = base
    return lift


chosen = {f"softness {s}": with_softness(s) for s in (0.0, 0.02, 0.05, 0.1)}
for name, seqs in sets.items():
    for k, (p1, p2, velocity) in measure(lifter, seqs, chosen).items():
        print(name, f"{k:16s}", "%.1f / %.1f / %.2f" % (p1, p2, velocity), flush=True)
