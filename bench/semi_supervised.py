"""Does back-projection on unlabeled 2D help? The paper's semi-supervised experiment on the CMU split.

A small labeled fraction of the training takes keeps its 3D; every other training take is seen only
as 2D by one virtual camera with detector-like noise, written as `vp3d-infer --npz` files. Two runs
with the same model, seed and budget: labeled only, and labeled + those unlabeled files
(`vp3d train --unlabeled`). Validation: subjects 02 and 135, as in training.

    .venv/bin/python bench/semi_supervised.py [--fraction 0.02] [--epochs 48] [--epoch-frames 65536]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from vp3d.cli.common import SHARED_MOCAP
from vp3d.detectors.keypoints import Keypoints2D
from vp3d.lifter.camera import image_coordinates
from vp3d.lifter.checkpoint import LifterMeta
from vp3d.training.synthetic import NoiseModel, random_camera, render_view
from vp3d.mocap import labeled_subset, load_collection, split
from vp3d.export.joints import write_npz
from vp3d.pipeline.infer import InferenceResult
from vp3d.pipeline.people import PeopleResult
from vp3d.video import VideoInfo

CLIP_FRAMES = 250  # 5 s at 50 fps


def write_unlabeled(motion: np.ndarray, path: Path, rng: np.random.Generator) -> None:
    """What `vp3d-infer --npz` writes for a video of `motion` from a virtual camera (3D left out)."""
    cam = random_camera(rng, motion)
    kp_norm, _, _, _ = render_view(rng, motion, NoiseModel(), cam)
    T = len(kp_norm)
    kp = Keypoints2D(xy=image_coordinates(kp_norm, cam.width, cam.height), score=np.ones((T, 17)),
                     detected=np.ones(T, bool), layout="h36m", width=cam.width, height=cam.height)
    meta = LifterMeta((1,), 1, False, 17, 2, 17, "h36m", 50.0)
    result = InferenceResult(video=VideoInfo(path.with_suffix(".mp4"), cam.width, cam.height, 50.0, 0, T),
                             keypoints=kp, poses3d=np.zeros((T, 17, 3), np.float32), trajectory=None,
                             lifter=meta, checkpoint=Path("none"), detector_name="virtual camera",
                             focal_px=cam.focal_px, focal_source="virtual camera")
    write_npz(path, PeopleResult.of_one(result))


LAST_EPOCHS = 10  # validation error swings by ~5 mm from epoch to epoch: compare the means of the last 10


def run(cmd: list[str]) -> dict:
    """Noisy-2D validation averaged over the run's last LAST_EPOCHS epochs (`vp3d train --json`)."""
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    epochs = [json.loads(line)["val"]["noisy"] for line in out.strip().splitlines()[:-1]][-LAST_EPOCHS:]
    return {k: float(np.mean([e[k] for e in epochs])) for k in epochs[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mocap", type=Path, default=SHARED_MOCAP)
    ap.add_argument("--fraction", type=float, default=0.02)
    ap.add_argument("--arc", default="3,3,3")
    ap.add_argument("--channels", type=int, default=256)
    ap.add_argument("--epochs", type=int, default=48)
    ap.add_argument("--semi-options", default="",
                    help="extra `vp3d train` options of the semi-supervised run, e.g. --bone-length-term")
    ap.add_argument("--epoch-frames", type=int, default=65536)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--out", type=Path, default=Path("runs/semi"))
    args = ap.parse_args()

    train_m, _ = split(load_collection(args.mocap, cache=Path("runs/mocap_cache.npz")))
    labeled, rest = labeled_subset(train_m, args.fraction, args.seed)
    unlabeled_dir = args.out / "unlabeled"
    unlabeled_dir.mkdir(parents=True, exist_ok=True)
    for old in unlabeled_dir.glob("*.npz"):
        old.unlink()
    rng = np.random.default_rng(args.seed)
    for i, m in enumerate(rest):
        # One camera per clip of at most CLIP_FRAMES, like a person filming: a camera framed for a whole
        # long take would show the person far smaller than the labeled windows do.
        for k, start in enumerate(range(0, m.num_frames, CLIP_FRAMES)):
            clip = m.positions[start: start + CLIP_FRAMES]
            if len(clip) >= 25:
                write_unlabeled(clip, unlabeled_dir / f"{i:03d}_{m.name}_{m.rig}_{k:02d}.npz", rng)
    n_lab, n_unl = sum(m.num_frames for m in labeled), sum(m.num_frames for m in rest)

    common = [sys.executable, "-m", "vp3d.cli", "train", "--mocap", str(args.mocap), "--arc", args.arc,
              "--channels", str(args.channels), "--epochs", str(args.epochs), "--epoch-frames",
              str(args.epoch_frames), "--seed", str(args.seed), "--labeled-fraction", str(args.fraction),
              "--val-views", "1", "--json"]
    rows = [("labeled only", run(common + ["--out", str(args.out / "labeled")])),
            ("labeled + unlabeled 2D", run(common + ["--out", str(args.out / "semi"), "--unlabeled",
                                                      str(unlabeled_dir), *args.semi_options.split()]))]
    print(f"labeled {n_lab} frames ({len(labeled)} motions), unlabeled {n_unl} frames ({len(rest)} motions); "
          f"arc {args.arc}, {args.channels} ch, {args.epochs} x {args.epoch_frames} labeled frames, seed {args.seed}")
    print(f"validation (noisy 2D), mean of the last {LAST_EPOCHS} epochs")
    print("| training data | val P1 (mm) | P2 (mm) | MPJVE (mm/frame) |\n|---|---|---|---|")
    for name, v in rows:
        print(f"| {name} | {v['p1']:.1f} | {v['p2']:.1f} | {v['mpjve']:.2f} |")


if __name__ == "__main__":
    main()
