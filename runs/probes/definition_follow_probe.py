"""Probe (session 26): does a lifter follow a joint marked elsewhere, or snap it back to CMU's definition?

    .venv/bin/python runs/probes/definition_follow_probe.py CHECKPOINT [SIGMA]

Training takes only (CMU subjects 01, 05, 08; one fixed virtual camera each, detector-like noise), never the
validation sets. Each take is seen twice by the same camera with the same 2D noise: as captured, and with every
joint moved by its own constant offset in its body part's frame (vp3d.training.pose_augmentation.
vary_joint_definitions, SIGMA metres per axis, default 0.02), as another rig would mark it. Both are lifted
(network and declared smoothing only, no steps toward the 2D). Printed: how much of the true change of the
root-relative pose the lift's change follows (least-squares slope of the lift's change on the truth's, 1 = follows,
0 = snaps back), across the image (x, y) and in depth (z), and P1 of the moved take's lift against the moved truth
and against the unmoved truth.
"""
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
from vp3d.lifter.inference import Lifter
from vp3d.mocap import load_bvh_folder
from vp3d.training.metrics import mpjpe
from vp3d.training.pose_augmentation import vary_joint_definitions
from vp3d.training.synthetic import NoiseModel, random_camera, render_view

lifter = Lifter.load(sys.argv[1])
lifter.meta = replace(lifter.meta, image_plane_weight=0.0, bone_rays_weight=0.0)
sigma = float(sys.argv[2]) if len(sys.argv) > 2 else 0.02
takes = [m for s in ("01", "05", "08") for m in load_bvh_folder(ROOT.parent / "shared" / "data" / "mocap" / "cmu_bvh" / s)]
noise = NoiseModel.named("detector")
rng = np.random.default_rng(0)
num = np.zeros(2)
den = np.zeros(2)
p1_moved = p1_unmoved = frames = 0.0
for k, take in enumerate(takes):
    world = take.positions.astype(np.float64)
    moved_world = vary_joint_definitions(rng, world, sigma)
    cam = random_camera(rng, world)
    lifts, truths = [], []
    for motion in (world, moved_world):
        kp, pose, _, _ = render_view(np.random.default_rng([1, k]), motion, noise, cam)
        lifts.append(lifter.lift(kp, flip=True).poses.astype(np.float64))
        truths.append(pose.astype(np.float64))
    d_lift, d_true = lifts[1] - lifts[0], truths[1] - truths[0]
    for axis, sl in enumerate((slice(0, 2), slice(2, 3))):
        num[axis] += (d_lift[..., sl] * d_true[..., sl]).sum()
        den[axis] += (d_true[..., sl] ** 2).sum()
    n = len(world)
    p1_moved += n * mpjpe(lifts[1], truths[1])
    p1_unmoved += n * mpjpe(lifts[1], truths[0])
    frames += n
print(f"{sys.argv[1]}  sigma {sigma}  {len(takes)} takes, {int(frames)} frames")
print(f"  follows the moved joints: across the image {num[0] / den[0]:.2f}, in depth {num[1] / den[1]:.2f}")
print(f"  P1 of the moved take's lift: against the moved truth {1000 * p1_moved / frames:.1f} mm, "
      f"against the unmoved truth {1000 * p1_unmoved / frames:.1f} mm")
