"""Probe (session 29): the two steps' fractions re-chosen for a network trained through them (--steps-loss), on
training takes only (subjects 01, 05, 08; no validation look).

    .venv/bin/python runs/probes/steps_retune_probe.py CHECKPOINT detector|mediapipe

The lift is taken with the declared output smoothing only (flip on); then image plane a and bone rays b with
version 11's smoothing (sigma 4 frames), window (+-121 frames) and soft choice (0.05 m). A network trained through
(0.3, 0.3) has learnt to expect those moves; whether it now wants other ones is what this asks.
"""
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))  # lifter_probes

from lifter_probes import DEFAULT_FOCAL, Lifter, measure, training_sets
from vp3d.lifter.bone_rays import toward_bone_lengths
from vp3d.lifter.image_plane import toward_the_2d


def steps(P, u, a, b):
    return toward_bone_lengths(toward_the_2d(P, u, DEFAULT_FOCAL, a, 4.0), u, DEFAULT_FOCAL, b, 4.0, 121, 0.05)


GRID = [(a, b) for a in (0.2, 0.3, 0.4) for b in (0.2, 0.3, 0.4)]
lifter = Lifter.load(sys.argv[1])
lifter.meta = replace(lifter.meta, image_plane_weight=0.0, bone_rays_weight=0.0)
variants = {f"ip {a} br {b}": (lambda lf, kp, fwd, a=a, b=b: steps(fwd, kp, a, b)) for a, b in GRID}
for name, seqs in training_sets(sys.argv[2]).items():
    for k, (p1, p2, velocity) in measure(lifter, seqs, variants).items():
        print(name, f"{k:16s}", "%.1f / %.1f / %.2f" % (p1, p2, velocity), flush=True)
