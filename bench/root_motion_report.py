"""Root motion on both validation sets (run by hand; prints a table):

    .venv/bin/python bench/root_motion_report.py [CHECKPOINT ...]
    .venv/bin/python bench/root_motion_report.py --training-takes 30 --z-seconds 1 --lock-seconds 1 --contact 0.05

The second form is how vp3d.root_motion's constants were chosen (session 16): the same table on 30 training takes
(evenly spaced over the training split, so the validation sets only confirm), with the smoothing and foot lock set
by hand instead of the module's defaults.

For the validation views `vp3d train` uses (CMU subjects 02 + 135, and ../shared/data/mocap_validation/bandai2;
one virtual camera per take, detector-like noisy 2D, the camera's own focal length), the shipped lifter's poses
placed by
- nothing: the root held at its true mean position (what root-relative output is at best),
- vp3d.root_motion step by step: the per-frame fit, smoothed, then feet locked (what `--root-motion` does),
- the trajectory network of each CHECKPOINT given (its own poses), for comparison,
as root error / root-motion error (mm, camera frame; the motion error removes each take's mean offset) and
foot-skate (cm/s, world frame, vp3d.training.metrics.foot_skate), frame-weighted over the takes, next to the
skate of root-relative poses (the placement without a trajectory) and of the truth.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from vp3d.cli.common import SHARED_MOCAP
from vp3d.lifter.inference import Lifter
from vp3d.lifter.weights import default_checkpoint
from vp3d.mocap import load_bvh_folder, load_collection, split
from vp3d import root_motion
from vp3d.root_motion import fit_root, lock_feet, smooth_root
from vp3d.training import metrics
from vp3d.training.train import ANKLE_HEIGHT, ANKLES, ValidationSet
from vp3d.world import to_world

ROOT = Path(__file__).resolve().parents[1]
BANDAI = ROOT.parent / "shared" / "data" / "mocap_validation" / "bandai2"


def table(name: str, views: ValidationSet, lifter: Lifter, others: dict[str, Lifter], args) -> None:
    frames = np.array([len(t) for t in views.trajectories], dtype=np.float64)

    def mean(v) -> float:
        v = np.asarray(v, dtype=np.float64)
        seen = ~np.isnan(v)
        return float(np.sum(v[seen] * frames[seen]) / frames[seen].sum())

    def skate(poses, traj=None) -> float:
        return 100 * metrics.foot_skate(to_world(poses, traj).positions, views.fps, ANKLES, ANKLE_HEIGHT)

    def row(label, poses, trajs):
        e = np.array([metrics.root_errors(p, t) for p, t in zip(trajs, views.trajectories)])
        s = [skate(p, t) for p, t in zip(poses, trajs)]
        print(f"| {label} | {1000 * mean(e[:, 0]):.0f} | {1000 * mean(e[:, 1]):.0f} | {mean(s):.1f} |")

    poses = [lifter.lift(kp, focal=f).poses for kp, f in zip(views.noisy, views.focals)]
    print(f"\n{name}: {len(frames)} takes, {int(frames.sum())} frames; foot-skate of root-relative poses "
          f"{mean([skate(p) for p in poses]):.1f} cm/s, of the truth "
          f"{mean([skate(p, t) for p, t in zip(views.targets, views.trajectories)]):.1f}")
    print("| root placed by | root (mm) | root motion (mm) | foot-skate (cm/s) |\n|---|---|---|---|")
    row("nothing: held at its true mean", poses, [np.repeat(t.mean(0, keepdims=True), len(t), 0)
                                                  for t in views.trajectories])
    fitted = [fit_root(p, kp, f) for p, kp, f in zip(poses, views.noisy, views.focals)]
    row("fit per frame", poses, fitted)
    smoothed = [smooth_root(t, views.fps, z_seconds=args.z_seconds) for t in fitted]
    row("fit, smoothed", poses, smoothed)
    row("**fit, smoothed, feet locked (--root-motion)**", poses,
        [lock_feet(p, t, views.fps, args.lock_seconds, args.contact) for p, t in zip(poses, smoothed)])
    for label, other in others.items():
        lifted = [other.lift(kp, focal=f) for kp, f in zip(views.noisy, views.focals)]
        if lifted[0].trajectory is not None:
            row(f"trajectory network of {label}", [r.poses for r in lifted], [r.trajectory for r in lifted])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoints", nargs="*", help="trajectory models to compare")
    ap.add_argument("--training-takes", type=int, metavar="N",
                    help="measure on N training takes (evenly spaced) instead of the validation sets")
    ap.add_argument("--z-seconds", type=float, default=root_motion.Z_SECONDS, help="depth smoothing (sigma)")
    ap.add_argument("--lock-seconds", type=float, default=root_motion.LOCK_SECONDS, help="foot lock's time scale")
    ap.add_argument("--contact", type=float, default=root_motion.CONTACT, help="foot contact height (m)")
    args = ap.parse_args()
    lifter = Lifter.load(default_checkpoint())
    others = {c: Lifter.load(c) for c in args.checkpoints}
    train, val = split(load_collection(SHARED_MOCAP, cache=ROOT / "runs" / "mocap_cache.npz"))
    print(f"depth smoothed over {args.z_seconds} s, foot lock {args.lock_seconds} s, contact {args.contact} m")
    if args.training_takes:
        chosen = [train[int(i)] for i in np.linspace(0, len(train) - 1, args.training_takes)]
        table(f"{len(chosen)} CMU training takes", ValidationSet.build([m.positions for m in chosen], 1), lifter,
              others, args)
        return
    table("CMU 02 + 135", ValidationSet.build([m.positions for m in val], 1), lifter, others, args)
    table("bandai2", ValidationSet.build([m.positions for m in load_bvh_folder(BANDAI)], 1), lifter, others, args)


if __name__ == "__main__":
    main()
