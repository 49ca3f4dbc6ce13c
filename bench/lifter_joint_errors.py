"""Where a lifter's error lives, joint by joint, on both validation sets.

    .venv/bin/python bench/lifter_joint_errors.py [CKPT] [--noise detector|mediapipe|none]

The views of `vp3d evaluate` (2 fixed virtual cameras per take, flip; CMU subjects 02 and 135, and
../shared/data/mocap_validation/bandai2). Per set and joint, in mm:
- P1, and its depth part (mean |error along the camera's axis|) beside the image-plane part;
- the mean error in the true body's own frame (left = from the right to the left hip, up = from the pelvis to the
  thorax, forward = towards the face), per CMU subject and for bandai2: a mean error that survives averaging over
  thousands of frames and views is a bias of the lifter or a difference of joint definitions between capture rigs,
  not noise.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from vp3d.cli.evaluate import cmu_validation_sequences, virtual_view_sequences
from vp3d.lifter.inference import Lifter
from vp3d.lifter.weights import default_checkpoint
from vp3d.mocap import load_bvh_folder
from vp3d.skeleton import H36M
from vp3d.training.pose_augmentation import body_frames

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
JOINT = {name: i for i, name in enumerate(H36M.joint_names)}


def joint_errors(lifter: Lifter, sequences) -> dict[str, dict[str, np.ndarray]]:
    """Per group (CMU subject or the folder): (frames, 17, 3) errors in mm, in the camera frame and the body frame."""
    groups: dict[str, dict[str, list]] = {}
    for seq in sequences:
        error = (lifter.lift(seq.kp2d_norm, flip=True).poses - seq.pose3d) * 1000
        g = groups.setdefault(seq.subject, {"camera": [], "body": []})
        g["camera"].append(error)
        frames = body_frames(seq.pose3d[:, JOINT["left_hip"]] - seq.pose3d[:, JOINT["right_hip"]],
                             seq.pose3d[:, JOINT["thorax"]] - seq.pose3d[:, JOINT["hip"]])
        g["body"].append(np.einsum("tkj,tji->tki", error, frames))  # (left, up, forward) components
    return {name: {k: np.concatenate(v) for k, v in g.items()} for name, g in groups.items()}


def print_set(name: str, groups: dict[str, dict[str, np.ndarray]]) -> None:
    camera = np.concatenate([g["camera"] for g in groups.values()])
    p1 = np.linalg.norm(camera, axis=-1).mean(0)
    depth = np.abs(camera[..., 2]).mean(0)
    plane = np.linalg.norm(camera[..., :2], axis=-1).mean(0)
    print(f"\n{name}: P1 {p1.mean():.1f} mm (the root counted as 0, as P1 does); image-plane part {plane.mean():.1f}, "
          f"depth part {depth.mean():.1f}")
    print(f"{'joint':16s} {'P1':>6s} {'depth':>6s} {'plane':>6s}" + "".join(
        f" {'mean error (left, up, fwd) ' + g:>36s}" for g in groups))
    for j, joint in enumerate(H36M.joint_names):
        bias = "".join(f" {np.linalg.norm(b):8.0f} ({b[0]:+5.0f},{b[1]:+5.0f},{b[2]:+5.0f})      "
                       for b in (g["body"][:, j].mean(0) for g in groups.values()))
        print(f"{joint:16s} {p1[j]:6.0f} {depth[j]:6.0f} {plane[j]:6.0f}{bias}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoint", nargs="?", default=str(default_checkpoint()))
    p.add_argument("--noise", choices=("detector", "mediapipe", "none"), default="detector")
    args = p.parse_args()
    lifter = Lifter.load(args.checkpoint)
    print(f"{args.checkpoint}; 2D noise: {args.noise}")
    print_set("CMU 02+135", joint_errors(lifter, cmu_validation_sequences(
        SHARED / "mocap", ROOT / "runs" / "mocap_cache.npz", 2, args.noise)))
    bandai = SHARED / "mocap_validation" / "bandai2"
    print_set("bandai2", joint_errors(lifter, virtual_view_sequences(load_bvh_folder(bandai), 2, args.noise)))


if __name__ == "__main__":
    main()
