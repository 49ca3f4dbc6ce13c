"""Probe (session 27): do the lifter's knees and elbows bend the wrong way (diagnosis)?

    .venv/bin/python runs/probes/knee_hinge_probe.py CHECKPOINT detector train|val

For each knee: s = (thigh x shin) . (the pelvis's right axis) / (|thigh| |shin|), the sine of the knee's bend about
the hips' axis, signed; a knee bends one way only, so the truth's s keeps one sign (beyond a few degrees of
hyperextension). Rows: share of frames with s beyond -sin(10 / 20 deg) against the truth's direction, in the truth
and in the lift as shipped; and P1 of the shin's end (ankle) on frames where the lift's knee bends the wrong way
vs the others. Elbows the same about the chest's right axis (a weaker rule: the upper arm turns).
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from lifter_probes import Lifter, training_sets, validation_sets

KNEES = {"right knee": (1, 2, 3, (1, 4)), "left knee": (4, 5, 6, (1, 4))}  # hip, knee, ankle; right axis from
ELBOWS = {"right elbow": (14, 15, 16, (14, 11)), "left elbow": (11, 12, 13, (14, 11))}  # shoulders: R 14, L 11


def bend(P, a, b, c, axis):
    right = P[:, axis[0]] - P[:, axis[1]]
    right /= np.linalg.norm(right, axis=-1, keepdims=True)
    u, v = P[:, b] - P[:, a], P[:, c] - P[:, b]
    n = np.cross(u, v)
    return (n * right).sum(-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1))


lifter = Lifter.load(sys.argv[1])
sets = training_sets(sys.argv[2]) if sys.argv[3] == "train" else validation_sets(sys.argv[2])
for set_name, seqs in sets.items():
    rows = {}
    for seq in seqs:
        P = lifter.lift(seq.kp2d_norm, flip=True).poses.astype(np.float64)
        T = seq.pose3d.astype(np.float64)
        for name, (a, b, c, axis) in {**KNEES, **ELBOWS}.items():
            st, sp = bend(T, a, b, c, axis), bend(P, a, b, c, axis)
            err = np.linalg.norm(P[:, c] - T[:, c], axis=-1)
            r = rows.setdefault(name, {"n": 0, "truth_pos": 0, "s_t": [], "s_p": [], "err": []})
            r["n"] += len(T); r["s_t"].append(st); r["s_p"].append(sp); r["err"].append(err)
    for name, r in rows.items():
        st, sp, err = (np.concatenate(r[k]) for k in ("s_t", "s_p", "err"))
        sign = np.sign(np.median(st[np.abs(st) > 0.2]))  # the direction knees/elbows bend in the truth
        st, sp = sign * st, sign * sp
        out = [f"{set_name:14s} {name:12s} bend sign {sign:+.0f}"]
        for deg in (10, 20):
            lim = -np.sin(np.radians(deg))
            out.append(f"wrong >{deg} deg: truth {100 * np.mean(st < lim):4.1f}% lift {100 * np.mean(sp < lim):4.1f}%")
        wrong = sp < -np.sin(np.radians(10))
        out.append(f"end error wrong/right {1000 * err[wrong].mean() if wrong.any() else float('nan'):.0f}/"
                   f"{1000 * err[~wrong].mean():.0f} mm")
        print(" | ".join(out), flush=True)
