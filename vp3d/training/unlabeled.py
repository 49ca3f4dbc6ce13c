"""Unlabeled 2D for semi-supervised training: keypoint files exported by `vp3d-infer --npz`, with
the image size and camera intrinsics that the back-projection loss needs.

    seqs = [load_unlabeled(p, fps=50) for p in paths]
    sampler = UnlabeledSampler(seqs, receptive_field=243, causal=False)
    kp, target2d, intrinsics = sampler.batch(rng, windows=64, out_frames=16)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import UserError
from ..skeleton import H36M
from ..lifter.camera import normalize_screen_coordinates, normalized_intrinsics
from ..lifter.inference import resample


class UnlabeledDataError(UserError, ValueError):
    """An unlabeled file cannot be used (one line naming the file)."""


@dataclass
class UnlabeledSequence:
    name: str
    kp2d_norm: np.ndarray  # (T, 17, 2) Human3.6M order, reference screen normalization, at the training rate
    intrinsics: np.ndarray  # (4,) [fx, fy, cx, cy] in the same normalized units


def load_unlabeled(path: str | os.PathLike, fps: float = 50.0, layout: str = "h36m") -> UnlabeledSequence:
    """A `vp3d-infer --npz` file -> its 2D keypoints normalized like inference, resampled to `fps`.

    Frames where the detector found nobody were filled by the pipeline; they are kept (they are what
    inference sees too) but a file with no detected frame at all is refused.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as f:
            xy = f["keypoints2d"].astype(np.float32)
            detected = f["detected"].astype(bool)
            width, height, src_fps = int(f["width"]), int(f["height"]), float(f["fps"])
            meta = json.loads(str(f["metadata"]))
    except (OSError, KeyError, ValueError) as e:
        raise UnlabeledDataError(f"{path}: not a vp3d-infer NPZ export ({e})") from None
    found = meta.get("detector", {}).get("layout")
    if found != layout or xy.shape[1:] != (H36M.num_joints, 2):
        raise UnlabeledDataError(f"{path}: 2D keypoints are in layout {found!r} {xy.shape[1:]}, training needs "
                                 f"{layout!r} (17, 2)")
    if not detected.any():
        raise UnlabeledDataError(f"{path}: no frame with a detected person")
    camera = meta.get("camera", {})
    focal = camera.get("focal_length_px")
    if not focal:
        raise UnlabeledDataError(f"{path}: no camera focal length in its metadata")
    center = camera.get("principal_point_px") or (width / 2, height / 2)
    kp = normalize_screen_coordinates(xy, width, height)
    kp = resample(kp, src_fps, fps)
    return UnlabeledSequence(path.stem, kp.astype(np.float32),
                             normalized_intrinsics(float(focal), width, height, tuple(center)))


class UnlabeledSampler:
    """Windows of unlabeled 2D with edge replication, mirrored half of the time like labeled data."""

    def __init__(self, sequences: list[UnlabeledSequence], receptive_field: int, causal: bool):
        self.sequences = sequences
        lengths = np.array([len(s.kp2d_norm) for s in sequences], dtype=np.float64)
        self.weights = lengths / lengths.sum()
        self.total_frames = int(lengths.sum())
        self.rf = receptive_field
        self.pad = (receptive_field - 1) // 2
        self.causal = causal
        self.flip = H36M.flip_permutation()

    def batch(self, rng: np.random.Generator, windows: int, out_frames: int):
        """-> inputs (W, RF + L - 1, 17, 2), 2D targets of the output frames (W, L, 17, 2),
        intrinsics (W, 4); all torch float32."""
        left = 2 * self.pad if self.causal else self.pad
        n_in = self.rf + out_frames - 1
        kps, intr = [], []
        for _ in range(windows):
            seq = self.sequences[rng.choice(len(self.sequences), p=self.weights)]
            first_out = rng.integers(len(seq.kp2d_norm))
            idx = np.clip(np.arange(n_in) + first_out - left, 0, len(seq.kp2d_norm) - 1)
            kp, k = seq.kp2d_norm[idx].copy(), seq.intrinsics.copy()
            if rng.random() < 0.5:  # mirror the image: x -> -x, left <-> right, principal point too
                kp = kp[:, self.flip] * np.array([-1, 1], np.float32)
                k[2] = -k[2]
            kps.append(kp)
            intr.append(k)
        kp = np.stack(kps)
        target = kp[:, left: left + out_frames]
        return torch.from_numpy(kp), torch.from_numpy(np.ascontiguousarray(target)), torch.from_numpy(np.stack(intr))
