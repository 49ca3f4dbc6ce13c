"""Probe (session 25): does the lifter's small size cost root motion? The root's depth comes from the pose's size
against the 2D's (vp3d.root_motion.fit_root): a pose k times too small is placed k times too near, and a take that
moves in depth moves k times too little. Here the shipped lifter's poses are scaled by a constant before the
placement (fit, smoothing, foot lock as `--root-motion`), and, as diagnosis, by each take's true size ratio;
also the truth's own poses placed the same way (how much of the error is the placement itself).

    .venv/bin/python runs/probes/root_size_probe.py train|val K [K ...]
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from root_motion_report import BANDAI, ROOT
from vp3d.cli.common import SHARED_MOCAP
from vp3d.lifter.inference import Lifter
from vp3d.lifter.weights import default_checkpoint
from vp3d.mocap import load_bvh_folder, load_collection, split
from vp3d.root_motion import _bone_total, fit_root, lock_feet, smooth_root
from vp3d.training import metrics
from vp3d.training.train import ANKLE_HEIGHT, ANKLES, ValidationSet
from vp3d.world import to_world


def table(name, views, lifter, scales):
    frames = np.array([len(t) for t in views.trajectories], dtype=np.float64)
    mean = lambda v: float(np.sum(np.asarray(v) * frames) / frames.sum())
    poses = [lifter.lift(kp, focal=f).poses.astype(np.float64) for kp, f in zip(views.noisy, views.focals)]
    ratio = np.array([np.median(_bone_total(T)) / np.median(_bone_total(P)) for T, P in zip(views.targets, poses)])
    print(f"\n{name}: {len(frames)} takes; true / lifted size: median {np.median(ratio):.3f}, "
          f"quartiles {np.percentile(ratio, 25):.3f}-{np.percentile(ratio, 75):.3f}")
    print("| poses scaled by | root (mm) | root motion (mm) | foot-skate (cm/s) |\n|---|---|---|---|")
    for k in list(scales) + ["truth's ratio"]:
        ks = ratio if isinstance(k, str) else np.full(len(poses), k)
        scaled = [p * s for p, s in zip(poses, ks)]
        trajs = [lock_feet(p, smooth_root(fit_root(p, kp, f), views.fps), views.fps)
                 for p, kp, f in zip(scaled, views.noisy, views.focals)]
        e = np.array([metrics.root_errors(t, g) for t, g in zip(trajs, views.trajectories)])
        s = [100 * metrics.foot_skate(to_world(p, t).positions, views.fps, ANKLES, ANKLE_HEIGHT) for p, t in zip(scaled, trajs)]
        print(f"| {k} | {1000 * mean(e[:, 0]):.0f} | {1000 * mean(e[:, 1]):.0f} | {mean(s):.1f} |", flush=True)
    for label, placed in (("the truth's poses (oracle), noisy 2D", views.noisy), ("the truth's poses, clean 2D", views.clean)):
        truth = [np.asarray(T, dtype=np.float64) for T in views.targets]
        for what, make in (("fit only", lambda p, kp, f: fit_root(p, kp, f)),
                           ("as --root-motion", lambda p, kp, f: lock_feet(p, smooth_root(fit_root(p, kp, f), views.fps), views.fps))):
            trajs = [make(p, kp, f) for p, kp, f in zip(truth, placed, views.focals)]
            e = np.array([metrics.root_errors(t, g) for t, g in zip(trajs, views.trajectories)])
            print(f"| {label}, {what} | {1000 * mean(e[:, 0]):.0f} | {1000 * mean(e[:, 1]):.0f} | |", flush=True)


lifter = Lifter.load(default_checkpoint())
scales = [float(k) for k in sys.argv[2:]]
train, val = split(load_collection(SHARED_MOCAP, cache=ROOT / "runs" / "mocap_cache.npz"))
if sys.argv[1] == "train":
    chosen = [train[int(i)] for i in np.linspace(0, len(train) - 1, 30)]
    table("30 CMU training takes", ValidationSet.build([m.positions for m in chosen], 1), lifter, scales)
else:
    table("CMU 02 + 135", ValidationSet.build([m.positions for m in val], 1), lifter, scales)
    table("bandai2", ValidationSet.build([m.positions for m in load_bvh_folder(BANDAI)], 1), lifter, scales)
