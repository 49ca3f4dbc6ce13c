"""Changes at inference time measured without training, on the sequences of bench/lifter_report.py.

    .venv/bin/python bench/lifter_probes.py [CHECKPOINT] [--probe bones|reverse|hips|image-plane|bone-rays ...] [--training]

Each probe lifts both validation sets (CMU subjects 02 and 135, bandai2; 2 fixed virtual cameras per take,
detector-like noise, flip, the checkpoint's declared smoothing) and prints P1 / P2 / MPJVE (mm, mm/frame at 50
fps, frame-weighted) for the lift as it is and for each variant:
- bones: the output's bone lengths held at each sequence's median (left = right, or not), directions kept; every
  bone scaled by one factor (the person's size, which 2D cannot tell).
- reverse: test-time time reversal (the 2D played backwards, lifted, reversed back), alone and averaged with the
  forward lift, as flip is averaged.
- hips: the 2D hip points moved towards their midpoint (0.82: where MediaPipe's sit relative to the shoulders on
  the shared clips; 0.67: relative to the trunk): what a hip definition that differs between training and
  inference costs.
- image-plane: every joint moved a fraction of the way across the image onto its 2D point's ray, offsets smoothed
  over time (vp3d/lifter/image_plane.py; the default field of view's focal length, as `vp3d evaluate`), for
  fractions 0.3 / 0.5 / 0.7 and sigmas 2 / 4 / 8 frames. Choose them with --training (CMU training subjects 01, 05,
  08: takes the model was trained on, never the validation sets), then measure the choice on the validation sets.
- bone-rays: every joint moved 0.3 of the way toward the point of its 2D ray at its bone's usual length from its
  parent (vp3d/lifter/bone_rays.py; offsets smoothed with sigma 4), the usual length the median over +-30 / 60 /
  121 / 250 frames or the whole clip. Probe weights that do not declare the step.
The first row of every probe reproduces bench/lifter_report.py's figures for the same checkpoint.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from vp3d.cli.evaluate import cmu_validation_sequences, virtual_view_sequences
from vp3d.lifter.bone_rays import toward_bone_lengths
from vp3d.lifter.image_plane import toward_the_2d
from vp3d.lifter.inference import DEFAULT_FOCAL, Lifter
from vp3d.lifter.weights import default_checkpoint
from vp3d.mocap import load_bvh_folder
from vp3d.skeleton import H36M
from vp3d.training.metrics import mpjpe, mpjve, p_mpjpe

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
PARENTS = np.array(H36M.parents)
HIPS = (1, 4)


def training_sets(noise: str = "detector") -> dict[str, list]:
    takes = [m for subject in ("01", "05", "08") for m in load_bvh_folder(SHARED / "mocap" / "cmu_bvh" / subject)]
    return {"train 01+05+08": virtual_view_sequences(takes, 2, noise)}


def validation_sets(noise: str = "detector") -> dict[str, list]:
    return {"CMU 02+135": cmu_validation_sequences(SHARED / "mocap", ROOT / "runs" / "mocap_cache.npz", 2, noise),
            "bandai2": virtual_view_sequences(load_bvh_folder(SHARED / "mocap_validation" / "bandai2"), 2, noise)}


def with_bone_lengths(poses: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """(T, 17, 3) poses rebuilt from the root with each bone's direction kept and its length from (T|1, 16)."""
    bones = poses[:, 1:] - poses[:, PARENTS[1:]]
    unit = bones / np.maximum(np.linalg.norm(bones, axis=-1, keepdims=True), 1e-9)
    out = poses.copy()
    for j in range(1, H36M.num_joints):  # parents come before children in H36M order
        out[:, j] = out[:, PARENTS[j]] + lengths[..., j - 1, None] * unit[:, j - 1]
    return out


def median_lengths(poses: np.ndarray, symmetric: bool) -> np.ndarray:
    lengths = np.median(np.linalg.norm(poses[:, 1:] - poses[:, PARENTS[1:]], axis=-1), axis=0)
    if symmetric:
        every = np.concatenate([[0.0], lengths])
        lengths = ((every + every[H36M.flip_permutation()]) / 2)[1:]
    return with_bone_lengths(poses, lengths[None])


def scaled_bones(poses: np.ndarray, factor: float) -> np.ndarray:
    return poses[:, :1] + factor * (poses - poses[:, :1])


def hips_moved(kp2d: np.ndarray, factor: float) -> np.ndarray:
    out = kp2d.copy()
    mid = kp2d[:, HIPS].mean(axis=1, keepdims=True)
    out[:, HIPS] = mid + factor * (kp2d[:, HIPS] - mid)
    return out


Variant = Callable[[Lifter, np.ndarray, np.ndarray], np.ndarray]  # (lifter, 2D, its forward lift) -> poses


def variants(probe: str) -> dict[str, Variant]:
    as_lifted: dict[str, Variant] = {"as lifted": lambda lifter, kp, fwd: fwd}
    if probe == "bones":
        return {**as_lifted,
                "median bone lengths, left = right": lambda lifter, kp, fwd: median_lengths(fwd, True),
                "median bone lengths": lambda lifter, kp, fwd: median_lengths(fwd, False),
                **{f"every bone x {k}": (lambda lifter, kp, fwd, k=k: scaled_bones(fwd, k)) for k in (0.97, 1.03)}}
    if probe == "reverse":
        last: dict[int, np.ndarray] = {}  # the reversed lift of the sequence at hand, for both rows

        def backwards(lifter, kp, fwd):
            if id(kp) not in last:
                last.clear()
                last[id(kp)] = lifter.lift(kp[::-1].copy(), flip=True).poses[::-1]
            return last[id(kp)]
        return {**as_lifted, "time reversed": backwards,
                "average of forward and reversed": lambda lifter, kp, fwd: (fwd + backwards(lifter, kp, fwd)) / 2}
    if probe == "hips":
        out = dict(as_lifted)
        for k in (0.82, 0.67):
            out[f"2D hips x {k}"] = lambda lifter, kp, fwd, k=k: lifter.lift(hips_moved(kp, k), flip=True).poses
        return out
    if probe == "image-plane":
        return {**as_lifted, **{f"toward the 2D x {w}, sigma {s}": (
            lambda lifter, kp, fwd, w=w, s=s: toward_the_2d(fwd, kp, DEFAULT_FOCAL, w, s).astype(np.float32))
            for w in (0.3, 0.5, 0.7) for s in (2.0, 4.0, 8.0)}}
    if probe == "bone-rays":
        return {**as_lifted, **{f"toward usual bone lengths x 0.3, sigma 4, window {w}": (
            lambda lifter, kp, fwd, w=w: toward_bone_lengths(fwd, kp, DEFAULT_FOCAL, 0.3, 4.0, w).astype(np.float32))
            for w in (30, 60, 121, 250)},
                "toward usual bone lengths x 0.3, sigma 4, whole clip": lambda lifter, kp, fwd: toward_bone_lengths(
                    fwd, kp, DEFAULT_FOCAL, 0.3, 4.0, len(fwd)).astype(np.float32)}
    raise ValueError(probe)


def measure(lifter: Lifter, sequences: Iterable, chosen: dict[str, Variant]) -> dict[str, tuple[float, float, float]]:
    sums = {name: np.zeros(4) for name in chosen}
    for seq in sequences:
        forward = lifter.lift(seq.kp2d_norm, flip=True).poses
        n = len(seq.pose3d)
        for name, variant in chosen.items():
            poses = variant(lifter, seq.kp2d_norm, forward)
            sums[name] += n * np.array([mpjpe(poses, seq.pose3d), p_mpjpe(poses, seq.pose3d),
                                        mpjve(poses, seq.pose3d), 1.0])
    return {name: tuple(1000 * s[:3] / s[3]) for name, s in sums.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoint", nargs="?", default=str(default_checkpoint()))
    p.add_argument("--probe", nargs="+", choices=("bones", "reverse", "hips", "image-plane", "bone-rays"),
                   default=["bones", "reverse", "hips"])
    p.add_argument("--noise", choices=("detector", "mediapipe"), default="detector",
                   help="the 2D's errors (vp3d evaluate --noise): 'detector' as every figure of the card")
    p.add_argument("--training", action="store_true",
                   help="training subjects 01, 05, 08 instead of the validation sets: where to choose a setting")
    args = p.parse_args()
    lifter = Lifter.load(args.checkpoint)
    if "image-plane" in args.probe and lifter.meta.image_plane_weight > 0:
        p.error(f"{args.checkpoint} moves its joints toward the 2D already (image_plane_weight "
                f"{lifter.meta.image_plane_weight}): probe the weights without it")
    if "bone-rays" in args.probe and lifter.meta.bone_rays_weight > 0:
        p.error(f"{args.checkpoint} moves its joints toward usual bone lengths already: probe the weights without it")
    sets = training_sets(args.noise) if args.training else validation_sets(args.noise)
    chosen = {name: v for probe in args.probe for name, v in variants(probe).items()}
    results = {set_name: measure(lifter, seqs, chosen) for set_name, seqs in sets.items()}
    print(f"{args.checkpoint}: P1 / P2 / MPJVE")
    print(f"| variant | {' | '.join(sets)} |\n|---|{'---|' * len(sets)}")
    for name in chosen:
        print(f"| {name} | " + " | ".join("%.1f / %.1f / %.2f" % results[s][name] for s in sets) + " |")


if __name__ == "__main__":
    main()
