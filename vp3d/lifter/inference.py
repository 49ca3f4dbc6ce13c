"""Lift a sequence of normalized 2D keypoints to 3D with a loaded checkpoint.

Every input frame gets a 3D pose: the 2D sequence is padded by repeating its first and last frames
(RF-1)/2 times on each side (all RF-1 on the left for a causal model), as the reference does.
Test-time flip augmentation averages the prediction with that of the mirrored input.

The model is applied at the frame rate it was trained at: the 2D sequence is resampled to that rate
first and the 3D is resampled back onto the video's frames, so the same motion filmed at 24 or 60
frames/s spans the same number of model frames.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np
import torch

from ..skeleton import H36M, get_layout
from .checkpoint import LoadedCheckpoint, load_checkpoint

MAX_CHUNK_FRAMES = 8192  # output frames per forward pass; bounds activation memory on long videos


@dataclass
class LiftResult:
    poses: np.ndarray  # (T, J_out, 3) metres, camera frame, root-relative (root joint = 0)
    trajectory: np.ndarray | None  # (T, 3) root position in the camera frame, metres (trajectory models only)


def resample(seq: np.ndarray, src_fps: float, dst_fps: float, num_out: int | None = None) -> np.ndarray:
    """Linear interpolation of (T, ...) samples taken at src_fps onto a dst_fps grid starting at t=0."""
    t_src = np.arange(len(seq)) / src_fps
    if num_out is None:
        num_out = max(1, int(np.floor(t_src[-1] * dst_fps + 1e-6)) + 1)
    t_dst = np.arange(num_out) / dst_fps
    t_dst = np.clip(t_dst, 0, t_src[-1])
    idx = np.clip(np.searchsorted(t_src, t_dst, side="right") - 1, 0, len(seq) - 1)
    nxt = np.minimum(idx + 1, len(seq) - 1)
    span = np.where(nxt > idx, t_src[nxt] - t_src[idx], 1.0)
    w = ((t_dst - t_src[idx]) / span).reshape(-1, *([1] * (seq.ndim - 1)))
    return (seq[idx] * (1 - w) + seq[nxt] * w).astype(seq.dtype)


class Lifter:
    """A checkpoint ready for inference: `Lifter.load(path).lift(kp_norm, fps)`."""

    def __init__(self, checkpoint: LoadedCheckpoint, device: str | torch.device = "cpu"):
        self.meta = checkpoint.meta
        self.device = torch.device(device)
        self.model_pos = checkpoint.model_pos.to(self.device).eval()
        self.model_traj = checkpoint.model_traj.to(self.device).eval() if checkpoint.model_traj else None
        self.input_layout = get_layout(self.meta.input_layout)
        self._in_flip = self.input_layout.flip_permutation()
        self._out_flip = H36M.flip_permutation() if self.meta.num_joints_out == H36M.num_joints else None

    @classmethod
    def load(cls, path: str | os.PathLike, device: str | torch.device = "cpu", **kwargs) -> "Lifter":
        return cls(load_checkpoint(path, **kwargs), device)

    @property
    def receptive_field(self) -> int:
        return self.meta.receptive_field

    def lookahead(self, fps: float | None = None) -> int:
        """How many input frames after frame t (sequence at `fps`) can still change the output at t: the
        receptive field's right half (0 for a causal model), widened by the resampling's neighbours when
        `fps` is not the model's rate. Outputs further back than that are final while frames still arrive."""
        right = 0 if self.meta.causal else (self.receptive_field - 1) // 2
        if fps is None or abs(fps - self.meta.fps) <= 1e-3:
            return right
        return math.ceil((right + 1) * fps / self.meta.fps) + 1

    def _pad(self, seq: np.ndarray) -> np.ndarray:
        pad = (self.receptive_field - 1) // 2
        left, right = (2 * pad, 0) if self.meta.causal else (pad, pad)
        return np.pad(seq, ((left, right), (0, 0), (0, 0)), mode="edge")

    @torch.no_grad()
    def _run(self, model: torch.nn.Module, padded: np.ndarray) -> np.ndarray:
        """padded (T + RF - 1, J, 2) -> (T, J_out, 3), in chunks of at most MAX_CHUNK_FRAMES outputs."""
        rf = self.receptive_field
        n_out = len(padded) - rf + 1
        x = torch.from_numpy(np.ascontiguousarray(padded, dtype=np.float32)).to(self.device)
        out = []
        for start in range(0, n_out, MAX_CHUNK_FRAMES):
            stop = min(n_out, start + MAX_CHUNK_FRAMES)
            out.append(model(x[None, start: stop + rf - 1])[0].cpu())
        return torch.cat(out).numpy()

    def _predict(self, model: torch.nn.Module, seq: np.ndarray, flip: bool, flip_out: bool) -> np.ndarray:
        pred = self._run(model, self._pad(seq))
        if flip:
            mirrored = seq[:, self._in_flip].copy()
            mirrored[..., 0] *= -1
            pred_m = self._run(model, self._pad(mirrored))
            pred_m[..., 0] *= -1
            if flip_out:
                pred_m = pred_m[:, self._out_flip]
            pred = (pred + pred_m) / 2
        return pred

    def lift(self, kp_norm: np.ndarray, fps: float | None = None, flip: bool = True) -> LiftResult:
        """kp_norm: (T, J_in, 2) normalized screen coordinates in the checkpoint's input layout.

        fps: the frame rate of kp_norm; when given and different from the checkpoint's, the
        sequence is resampled to the checkpoint's rate for the model and back afterwards.
        """
        kp_norm = np.asarray(kp_norm, dtype=np.float32)
        if kp_norm.ndim != 3 or kp_norm.shape[1:] != (self.meta.num_joints_in, self.meta.in_features):
            raise ValueError(f"expected 2D keypoints of shape (T, {self.meta.num_joints_in}, "
                             f"{self.meta.in_features}), got {kp_norm.shape}")
        if len(kp_norm) == 0:
            raise ValueError("cannot lift an empty sequence")
        num_frames = len(kp_norm)
        resampling = fps is not None and abs(fps - self.meta.fps) > 1e-3 and num_frames > 1
        seq = resample(kp_norm, fps, self.meta.fps) if resampling else kp_norm
        can_flip = flip and self._out_flip is not None
        poses = self._predict(self.model_pos, seq, can_flip, flip_out=True)
        traj = None
        if self.model_traj is not None:
            traj = self._predict(self.model_traj, seq, can_flip, flip_out=False)[:, 0]
        if resampling:
            poses = resample(poses, self.meta.fps, fps, num_out=num_frames)
            traj = resample(traj, self.meta.fps, fps, num_out=num_frames) if traj is not None else None
        return LiftResult(poses.astype(np.float32), None if traj is None else traj.astype(np.float32))
