"""Probe (session 23): the steps after the network made causal, on the causal lifter's output.

    .venv/bin/python runs/probes/causal_steps_probe.py CAUSAL_CHECKPOINT detector|mediapipe train|val [variant ...]

Causal: a bone's usual length is the median over the W frames before the frame and the frame itself; offsets are
smoothed by an exponential average with time constant tau (model frames) instead of a Gaussian.
"""
import sys
from pathlib import Path

import numpy as np
from scipy.signal import lfilter

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))  # lifter_probes

from lifter_probes import DEFAULT_FOCAL, Lifter, measure, training_sets, validation_sets
from vp3d.lifter.bone_rays import PARENTS, points_at_bone_length
from vp3d.lifter.image_plane import root_on_the_2d
from vp3d.skeleton import H36M


def ema(x, tau):  # starts at the first value, as a stream would
    if tau <= 0:
        return x
    a = 1 - np.exp(-1 / tau)
    zi = (1 - a) * x[0]
    y, _ = lfilter([a], [1, -(1 - a)], x, axis=0, zi=zi[None])
    return y


def one_euro(x, min_cutoff, beta, rate=50.0, d_cutoff=1.0):
    """One-Euro filter (Casiez et al., CHI 2012) along axis 0, element-wise: an exponential average whose cut-off
    (Hz) rises with the signal's smoothed speed, so it lags less when the signal moves fast."""
    def alpha(cutoff):
        return 1.0 / (1.0 + rate / (2 * np.pi * cutoff))
    y = np.empty_like(x); y[0] = x[0]; dy = np.zeros_like(x[0])
    a_d = alpha(d_cutoff)
    for t in range(1, len(x)):
        dy = dy + a_d * ((x[t] - y[t - 1]) * rate - dy)
        a = alpha(min_cutoff + beta * np.abs(dy))
        y[t] = y[t - 1] + a * (x[t] - y[t - 1])
    return y


def past_lengths(placed, window):
    lengths = np.linalg.norm(placed[:, 1:] - placed[:, PARENTS[1:]], axis=-1)
    med = np.stack([np.median(lengths[max(0, t - window):t + 1], axis=0) for t in range(len(lengths))])
    every = np.concatenate([np.zeros((len(med), 1)), med], axis=1)
    return ((every + every[:, H36M.flip_permutation()]) / 2)[:, 1:]


def causal_image_plane(P, u, f, w, tau, smoother=None):
    P = P.astype(np.float64); placed = P + root_on_the_2d(P, u, f)[:, None]
    off = u / f * placed[..., 2:3] - placed[..., :2]
    moved = P.copy(); moved[..., :2] += w * (smoother(off) if smoother else ema(off, tau))
    return moved - moved[:, :1]


def causal_bone_rays(P, u, f, w, tau, window, smoother=None):
    P = P.astype(np.float64); placed = P + root_on_the_2d(P, u, f)[:, None]
    off = points_at_bone_length(placed, u, f, past_lengths(placed, window)) - placed
    moved = placed + w * (smoother(off) if smoother else ema(off, tau))
    return moved - moved[:, :1]


VARIANTS = {
    "as lifted": lambda P, u: P,
    "ip 0.3 tau 15": lambda P, u: causal_image_plane(P, u, DEFAULT_FOCAL, 0.3, 15),
    **{f"br 0.3 tau {t}": (lambda P, u, t=t: causal_bone_rays(P, u, DEFAULT_FOCAL, 0.3, t, 121)) for t in (3, 6, 15)},
    **{f"br 0.2 tau {t}": (lambda P, u, t=t: causal_bone_rays(P, u, DEFAULT_FOCAL, 0.2, t, 121)) for t in (6, 15)},
    "ip 0.3 tau 15 + br 0.3 tau 6": lambda P, u: causal_bone_rays(causal_image_plane(P, u, DEFAULT_FOCAL, 0.3, 15), u,
                                                                    DEFAULT_FOCAL, 0.3, 6, 121),
    **{f"ip 0.3 tau 15 + br {w} tau {t}": (lambda P, u, w=w, t=t: causal_bone_rays(
        causal_image_plane(P, u, DEFAULT_FOCAL, 0.3, 15), u, DEFAULT_FOCAL, w, t, 121))
        for w, t in ((0.3, 15), (0.2, 15), (0.3, 25))},
    "br 0.3 tau 25": lambda P, u: causal_bone_rays(P, u, DEFAULT_FOCAL, 0.3, 25, 121),
    **{f"ip 0.3 + br 0.2, one-euro {c} Hz beta {b}": (lambda P, u, c=c, b=b: causal_bone_rays(
        causal_image_plane(P, u, DEFAULT_FOCAL, 0.3, 0, lambda o: one_euro(o, c, b)), u, DEFAULT_FOCAL, 0.2, 0, 121,
        lambda o: one_euro(o, c, b))) for c in (0.3, 0.6) for b in (2.0, 10.0)},
    **{f"output ema tau {o}": (lambda P, u, o=o: ema(P.astype(np.float64), o)) for o in (1, 2)},
    **{f"ip 0.3 tau 15 + br 0.2 tau 15 + output ema tau {o}": (lambda P, u, o=o: ema(causal_bone_rays(
        causal_image_plane(P, u, DEFAULT_FOCAL, 0.3, 15), u, DEFAULT_FOCAL, 0.2, 15, 121), o)) for o in (1, 2)},
}

lifter = Lifter.load(sys.argv[1])
assert lifter.meta.causal
sets = training_sets(sys.argv[2]) if sys.argv[3] == "train" else validation_sets(sys.argv[2])
chosen = {k: v for k, v in VARIANTS.items() if len(sys.argv) <= 4 or k in sys.argv[4:] or k == "as lifted"}
for name, seqs in sets.items():  # lifter_probes.measure: frame-weighted P1 / P2 / MPJVE of each variant
    for k, (p1, p2, velocity) in measure(lifter, seqs, {k: (lambda lf, kp, fwd, f=f: f(fwd, kp)) for k, f in chosen.items()}).items():
        print(name, f"{k:30s}", "%.1f / %.1f / %.2f" % (p1, p2, velocity), flush=True)
