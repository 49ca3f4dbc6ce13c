"""Lifters compared on real clips, where there is no truth: how well the 3D agrees with its own 2D, how smooth it
is, how constant its bones are.

    .venv/bin/vp3d-infer ../shared/data/videos/taiji.mp4 --no-render --npz taiji.npz    # 2D once (MediaPipe)
    .venv/bin/python bench/lifter_real_video.py taiji.npz [skating.npz ...] --weights A.bin B.bin ...

Each NPZ is vp3d's joint export (its 2D keypoints in pixels, the video's size, frame rate and focal length). For
each clip and checkpoint, the table prints:
- 2D miss (mm): mean distance, across the image at the joint's depth, between each lifted joint (placed where the
  pose best projects onto the 2D, vp3d.lifter.image_plane.root_on_the_2d) and its 2D point's ray;
- acceleration (mm/frame^2 at the video's rate): mean norm of the joints' second differences, root-relative;
- bone variation: mean over bones of each bone length's standard deviation over its mean.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from vp3d.lifter.bone_rays import bone_lengths
from vp3d.lifter.camera import normalize_screen_coordinates, normalized_focal
from vp3d.lifter.image_plane import offsets_onto_the_rays, root_on_the_2d
from vp3d.lifter.inference import Lifter


def figures(poses: np.ndarray, kp_norm: np.ndarray, focal: float) -> tuple[float, float, float]:
    poses = poses.astype(np.float64)
    placed = poses + root_on_the_2d(poses, kp_norm, focal)[:, None]
    miss = np.linalg.norm(offsets_onto_the_rays(placed, kp_norm, focal), axis=-1).mean()
    acceleration = np.linalg.norm(np.diff(poses, 2, axis=0), axis=-1).mean()
    lengths = bone_lengths(poses)
    variation = (lengths.std(axis=0) / lengths.mean(axis=0)).mean()
    return 1000 * miss, 1000 * acceleration, variation


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("clips", nargs="+", type=Path, help="vp3d joint exports (--npz) of real clips")
    p.add_argument("--weights", nargs="+", required=True)
    args = p.parse_args()
    lifters = {w: Lifter.load(w) for w in args.weights}
    print("| clip | weights | 2D miss (mm) | acceleration (mm/frame^2) | bone variation |\n|---|---|---|---|---|")
    for clip in args.clips:
        d = np.load(clip)
        width, height, fps = int(d["width"]), int(d["height"]), float(d["fps"])
        focal = normalized_focal(json.loads(str(d["metadata"]))["camera"]["focal_length_px"], width)
        kp_norm = normalize_screen_coordinates(d["keypoints2d"].astype(np.float64), width, height)
        for name, lifter in lifters.items():
            poses = lifter.lift(kp_norm.astype(np.float32), fps=fps, focal=focal).poses
            miss, acceleration, variation = figures(poses, kp_norm, focal)
            print(f"| {clip.stem} | {name} | {miss:.1f} | {acceleration:.2f} | {variation:.3f} |", flush=True)


if __name__ == "__main__":
    main()
