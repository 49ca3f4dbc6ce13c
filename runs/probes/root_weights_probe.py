"""Probe (session 24): the root fit with the trunk's joints weighted above the limbs'.

    .venv/bin/python runs/probes/root_weights_probe.py train|val

vp3d.root_motion places each frame's pose by least squares over all 17 joints; the wrists, ankles, knees and elbows
carry the lifter's largest depth errors (weights/MODEL_CARD.md, "Where the error lives"), and a limb lifted too
deep or too shallow pulls the root with it. Rows: the limbs' joints (knees, feet, elbows, wrists) weighted w against
1 for the trunk and head, then smoothing and the foot lock as shipped; root / root motion (mm) / foot-skate (cm/s).
"""
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import vp3d.lifter.image_plane as image_plane
import vp3d.root_motion as rm
from root_motion_report import BANDAI, table
from vp3d.cli.common import SHARED_MOCAP
from vp3d.lifter.inference import Lifter
from vp3d.lifter.weights import default_checkpoint
from vp3d.mocap import load_bvh_folder, load_collection, split
from vp3d.training.train import ValidationSet

LIMBS = [2, 3, 5, 6, 12, 13, 15, 16]
original = image_plane.root_on_the_2d


def weighted(limb_weight):
    w = np.ones(17)
    w[LIMBS] = limb_weight

    def root_on_the_2d(poses, kp_norm, focal):
        poses = np.asarray(poses, dtype=np.float64)
        u = np.moveaxis(np.asarray(kp_norm, dtype=np.float64), 2, 1)
        frames, joints = poses.shape[:2]
        a = np.zeros((frames, 2, joints, 3))
        a[:, 0, :, 0] = focal
        a[:, 1, :, 1] = focal
        a[:, :, :, 2] = -u
        b = u * poses[None, ..., 2].transpose(1, 0, 2) - focal * np.moveaxis(poses[..., :2], 2, 1)
        s = np.sqrt(w)[None, None, :]
        a, b = (a * s[..., None]).reshape(frames, 2 * joints, 3), (b * s).reshape(frames, 2 * joints)
        normal = np.einsum("tki,tkj->tij", a, a) + 1e-9 * np.eye(3)
        return np.linalg.solve(normal, np.einsum("tki,tk->ti", a, b)[..., None])[..., 0]
    return root_on_the_2d


class Args:
    z_seconds, lock_seconds, contact = rm.Z_SECONDS, rm.LOCK_SECONDS, rm.CONTACT


lifter = Lifter.load(default_checkpoint())
train, val = split(load_collection(SHARED_MOCAP, cache=ROOT / "runs" / "mocap_cache.npz"))
if sys.argv[1] == "train":
    chosen = [train[int(i)] for i in np.linspace(0, len(train) - 1, 30)]
    sets = {"30 CMU training takes": ValidationSet.build([m.positions for m in chosen], 1)}
else:
    sets = {"CMU 02 + 135": ValidationSet.build([m.positions for m in val], 1),
            "bandai2": ValidationSet.build([m.positions for m in load_bvh_folder(BANDAI)], 1)}
for limb_weight in [float(x) for x in sys.argv[2:]] or (1.0, 0.5, 0.3, 0.1):
    rm.root_on_the_2d = weighted(limb_weight)  # the fit only; the lifter's own steps keep theirs
    for name, views in sets.items():
        print(f"\nlimb weight {limb_weight}", flush=True)
        table(name, views, lifter, {}, Args)
    sys.stdout.flush()
