"""Lift a sequence of normalized 2D keypoints to 3D with a loaded checkpoint.

Every input frame gets a 3D pose: the 2D sequence is padded by repeating its first and last frames
(RF-1)/2 times on each side (all RF-1 on the left for a causal model), as the reference does.
Test-time flip augmentation averages the prediction with that of the mirrored input. After the network come the
steps the weights declare: a smoothing over time (meta.output_smoothing), then the joints moved part of the way
across the image onto their 2D points' rays (meta.image_plane_weight, image_plane.py), then part of the way toward
the points of those rays at which their bones have their usual lengths (meta.bone_rays_weight, bone_rays.py). A
causal model's steps use the past only (causal_steps.py), so that live mode can apply them frame by frame.

The model is applied at the frame rate it was trained at: the 2D sequence is resampled to that rate
first and the 3D is resampled back onto the video's frames, so the same motion filmed at 24 or 60
frames/s spans the same number of model frames.

All of that is numpy; the network itself is an engine behind it (a callable, (T, J_in, 2) float32 ->
(T - RF + 1, J_out, 3) float32): the numpy one (numpy_net, light weights, no torch import) or the torch
one (torch_net, any .bin, any device). `Lifter.load` picks the numpy engine when the checkpoint has a
light form (light_weights.light_form) and the device is the CPU; $VP3D_LIFTER_ENGINE=torch|numpy forces one.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Union

import numpy as np
from scipy.ndimage import gaussian_filter1d

from ..errors import INSTALL_TORCH
from ..skeleton import H36M, get_layout, mirror
from .camera import DEFAULT_FOV_DEGREES, focal_from_fov
from .chunk_memo import ChunkMemo
from .device import resolve_device
from .errors import CheckpointError
from .bone_rays import toward_bone_lengths
from .causal_steps import CausalSteps
from .image_plane import toward_the_2d
from .light_weights import LIGHT_SUFFIX, LightCheckpoint, light_form, load_light_checkpoint
from .numpy_net import NumpyTemporalNet
from .streaming import PoseStream

if TYPE_CHECKING:
    from .checkpoint import LoadedCheckpoint

Network = Callable[[np.ndarray], np.ndarray]  # (T, J_in, 2) float32 -> (T - RF + 1, J_out, 3) float32
ENGINE_ENV = "VP3D_LIFTER_ENGINE"  # "torch" or "numpy" to force an engine (comparisons, debugging)
DEFAULT_FOCAL = focal_from_fov(DEFAULT_FOV_DEGREES, 2.0)  # normalized (f / w * 2) when no focal is given
CPU_DEVICES = ("cpu", "auto")  # where the numpy engine may serve: "auto" prefers it over asking torch for a GPU


@dataclass
class LiftResult:
    poses: np.ndarray  # (T, J_out, 3) metres, camera frame, root-relative (root joint = 0)
    trajectory: np.ndarray | None  # (T, 3) root position in the camera frame, metres (trajectory models only)
    smoothing: float = 0.0  # poses smoothed over time (model frames: a Gaussian's sigma; causal: an average's tau)
    image_plane_weight: float = 0.0  # how far joints were moved across the image onto their 2D (image_plane.py)
    bone_rays_weight: float = 0.0  # how far joints were moved toward usual bone lengths on their 2D rays (bone_rays.py)


def resample(seq: np.ndarray, src_fps: float, dst_fps: float, num_out: int | None = None) -> np.ndarray:
    """Linear interpolation of (T, ...) samples taken at src_fps onto a dst_fps grid starting at t=0."""
    t_src = np.arange(len(seq)) / src_fps
    if num_out is None:
        num_out = max(1, int(np.floor(t_src[-1] * dst_fps + 1e-6)) + 1)
    return resample_at(seq, t_src, np.arange(num_out) / dst_fps)


def model_grid(times: np.ndarray, fps: float) -> np.ndarray:
    """The model's ticks (every 1/fps s from the first time) that cover `times` (seconds, increasing)."""
    return times[0] + np.arange(max(1, int(np.floor((times[-1] - times[0]) * fps + 1e-6)) + 1)) / fps


def resample_at(seq: np.ndarray, t_src: np.ndarray, t_dst: np.ndarray) -> np.ndarray:
    """Linear interpolation of (T, ...) samples taken at times t_src (increasing) at the times t_dst, held
    at the ends."""
    t_src = np.asarray(t_src, dtype=np.float64)
    t_dst = np.clip(np.asarray(t_dst, dtype=np.float64), t_src[0], t_src[-1])
    idx = np.clip(np.searchsorted(t_src, t_dst, side="right") - 1, 0, len(seq) - 1)
    nxt = np.minimum(idx + 1, len(seq) - 1)
    span = np.where(nxt > idx, t_src[nxt] - t_src[idx], 1.0)
    w = ((t_dst - t_src[idx]) / span).reshape(-1, *([1] * (seq.ndim - 1)))
    return (seq[idx] * (1 - w) + seq[nxt] * w).astype(seq.dtype)


def choose_engine(path: str | os.PathLike, device: str = "cpu", engine: str | None = None) -> str:
    """"numpy" or "torch" for checkpoint `path` on `device` ("auto", "cpu", "cuda", ...): numpy when the file
    has a light form and the device is the CPU, else torch. `engine` (or $VP3D_LIFTER_ENGINE) forces one;
    forcing numpy on a file with no light form, or a light file onto torch or a GPU, is a CheckpointError."""
    engine = engine or os.environ.get(ENGINE_ENV) or "auto"
    if engine not in ("auto", "numpy", "torch"):
        raise CheckpointError(f"lifter engine {engine!r}: use numpy or torch (${ENGINE_ENV})")
    light = light_form(path)
    if engine == "auto":
        engine = "numpy" if light is not None and device in CPU_DEVICES else "torch"
    if engine == "numpy" and (light is None or device not in CPU_DEVICES):
        raise CheckpointError(f"{path}: the numpy engine runs light (.npz) weights on the CPU; convert a .bin "
                              f"with `python -m vp3d.lifter.light_weights {path}`")
    if engine == "torch" and Path(path).suffix == LIGHT_SUFFIX:
        raise CheckpointError(f"{path}: light weights run on the CPU with the numpy engine only; "
                              f"pass their .bin for torch or a GPU")
    return engine


def smoothing_radius(sigma: float) -> int:
    """Frames on each side that gaussian_filter1d (truncated at 4 sigma, its default) reads: 0 for no smoothing."""
    return int(4.0 * sigma + 0.5) if sigma > 0 else 0


class Lifter:
    """A checkpoint ready for inference: `Lifter.load(path).lift(kp_norm, fps)`."""

    def __init__(self, checkpoint: Union[LoadedCheckpoint, LightCheckpoint], device: str = "cpu"):
        """checkpoint: light weights (numpy engine, CPU) or a torch checkpoint (torch engine on `device`)."""
        self.meta = checkpoint.meta
        if isinstance(checkpoint, LightCheckpoint):
            if device not in CPU_DEVICES:
                raise CheckpointError(f"light weights run on the CPU only, not on {device!r}")
            self.engine, self.device = "numpy", "cpu"
            self.pose_net: Network = checkpoint.model_pos
            self.traj_net: Network | None = checkpoint.model_traj
        else:
            from .torch_net import TorchTemporalNet
            self.engine, self.device = "torch", str(device)
            self.pose_net = TorchTemporalNet(checkpoint.model_pos, device)
            self.traj_net = TorchTemporalNet(checkpoint.model_traj, device) if checkpoint.model_traj else None
        self._memo = ChunkMemo()  # a lift of a longer sequence reuses the windows it shares with earlier ones
        self.input_layout = get_layout(self.meta.input_layout)
        self._in_flip = self.input_layout.flip_permutation()
        self._out_flip = H36M.flip_permutation() if self.meta.num_joints_out == H36M.num_joints else None

    @classmethod
    def load(cls, path: str | os.PathLike, device: str = "cpu", *, engine: str | None = None,
             causal: bool | None = None, input_layout: str | None = None, fps: float | None = None,
             trust: bool = False) -> "Lifter":
        """device: "cpu", "auto" (numpy engine when the file has a light form, else CUDA when torch sees a
        GPU) or a torch device name; the other arguments as checkpoint.load_checkpoint's."""
        overrides = {"causal": causal, "input_layout": input_layout, "fps": fps}
        if device not in CPU_DEVICES:
            device = resolve_device(device)  # a GPU this machine lacks (or torch missing): one line, before any file
        if choose_engine(path, device, engine) == "numpy":
            return cls(load_light_checkpoint(light_form(path), **overrides))
        try:
            from .checkpoint import load_checkpoint
        except ModuleNotFoundError as e:  # a light install: one line instead of a traceback
            if e.name != "torch":
                raise
            raise CheckpointError(f"{path}: this checkpoint needs torch, which is not installed here "
                                  f"({INSTALL_TORCH}); or convert it once where torch is, with `python -m "
                                  f"vp3d.lifter.light_weights {path}`, and pass the .npz") from None
        return cls(load_checkpoint(path, trust=trust, **overrides), resolve_device(device))

    @property
    def _same_joints(self) -> bool:
        """The 2D input holds the output's joints, in its order: what the steps toward the 2D need."""
        return self.meta.input_layout == "h36m" and self.meta.num_joints_out == H36M.num_joints

    @property
    def _image_plane_weight(self) -> float:
        """How far the declared step moves joints across the image toward their 2D (0: no such step)."""
        return self.meta.image_plane_weight if self._same_joints else 0.0

    @property
    def _bone_rays_weight(self) -> float:
        """How far the declared step moves joints toward usual bone lengths on their 2D rays (0: no such step)."""
        return self.meta.bone_rays_weight if self._same_joints else 0.0

    @property
    def receptive_field(self) -> int:
        return self.meta.receptive_field

    def lookahead(self, fps: float | None = None) -> int:
        """How many input frames after frame t (sequence at `fps`) can still change the output at t: the
        receptive field's right half (0 for a causal model), widened by the resampling's neighbours when
        `fps` is not the model's rate. Outputs further back than that are final while frames still arrive."""
        right = 0  # a causal model's steps use the past only (causal_steps.py)
        if not self.meta.causal:
            right = (self.receptive_field - 1) // 2 + smoothing_radius(self.meta.output_smoothing)
            if self._image_plane_weight > 0:
                right += smoothing_radius(self.meta.image_plane_smoothing)
            if self._bone_rays_weight > 0:  # the bone lengths' window, then the offsets' smoothing
                right += self.meta.bone_rays_window + smoothing_radius(self.meta.bone_rays_smoothing)
        if fps is None or abs(fps - self.meta.fps) <= 1e-3:
            return right
        return math.ceil((right + 1) * fps / self.meta.fps) + 1

    def _pad(self, seq: np.ndarray) -> np.ndarray:
        pad = (self.receptive_field - 1) // 2
        left, right = (2 * pad, 0) if self.meta.causal else (pad, pad)
        return np.pad(seq, ((left, right), (0, 0), (0, 0)), mode="edge")

    def _run(self, net: Network, padded: np.ndarray) -> np.ndarray:
        """padded (T + RF - 1, J, 2) -> (T, J_out, 3), in windows of chunk_memo.CHUNK_FRAMES outputs."""
        return self._memo(net, np.ascontiguousarray(padded, dtype=np.float32), self.receptive_field)

    def _predict(self, net: Network, seq: np.ndarray, flip: bool, flip_out: bool) -> np.ndarray:
        pred = self._run(net, self._pad(seq))
        if flip:
            pred_m = self._run(net, self._pad(mirror(seq, self._in_flip)))
            pred = (pred + mirror(pred_m, self._out_flip if flip_out else None)) / 2
        return pred

    def causal_steps(self, focal: float | None = None) -> CausalSteps:
        """The declared steps after a causal network, with their state, for frames fed in order (causal_steps.py):
        Lifter.lift feeds a whole clip, live mode a few ticks at a time. focal: as in lift."""
        return CausalSteps(self.meta, focal if focal is not None else DEFAULT_FOCAL, self._same_joints)

    def causal_stream(self, flip: bool = True) -> PoseStream:
        """Live mode's lifting: a causal model fed one frame (at the model's rate) at a time, each layer computing
        only its newest output (streaming.py); the poses are the offline causal lifter's. ValueError for a
        model that looks ahead."""
        if not self.meta.causal:
            raise ValueError("a causal stream needs a causal lifter; this checkpoint looks ahead")
        net = self.pose_net if self.engine == "numpy" else NumpyTemporalNet(
            self.pose_net.numpy_state(), self.meta.filter_widths, causal=True)
        use_flip = flip and self._out_flip is not None
        return PoseStream(net, self._in_flip if use_flip else None, self._out_flip)

    def lift(self, kp_norm: np.ndarray, fps: float | None = None, flip: bool = True,
             times: np.ndarray | None = None, focal: float | None = None, smooth: bool = True) -> LiftResult:
        """kp_norm: (T, J_in, 2) normalized screen coordinates in the checkpoint's input layout.

        fps: the frame rate of kp_norm; when given and different from the checkpoint's, the
        sequence is resampled to the checkpoint's rate for the model and back afterwards.
        times: (T,) seconds of each frame instead, for a variable frame rate: the sequence is resampled by
        time onto the model's ticks and the 3D back onto these times.
        focal: the camera's focal length in normalized screen units (camera.normalized_focal; default: that of
        camera.DEFAULT_FOV_DEGREES), for trajectory models that predict in focal units (meta.trajectory_units).
        smooth: apply what the weights declare after the network (meta.output_smoothing, then the joints moved
        toward their 2D: meta.image_plane_weight, then toward usual bone lengths on their 2D rays:
        meta.bone_rays_weight, both with `focal`); False: the network's raw poses.
        """
        if times is not None and len(kp_norm) > 1:
            times = np.asarray(times, dtype=np.float64)
            if times.shape != (len(kp_norm),) or np.any(np.diff(times) <= 0):
                raise ValueError("times must hold one increasing time per frame")
            grid = model_grid(times, self.meta.fps)
            on_grid = self.lift(resample_at(np.asarray(kp_norm, np.float32), times, grid), flip=flip, focal=focal,
                                smooth=smooth)
            traj = on_grid.trajectory
            return LiftResult(resample_at(on_grid.poses, grid, times).astype(np.float32),
                              None if traj is None else resample_at(traj, grid, times).astype(np.float32),
                              on_grid.smoothing, on_grid.image_plane_weight, on_grid.bone_rays_weight)
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
        poses = self._predict(self.pose_net, seq, can_flip, flip_out=True)
        camera_focal = focal if focal is not None else DEFAULT_FOCAL
        sigma = self.meta.output_smoothing if smooth and len(poses) > 1 else 0.0
        toward_2d = self._image_plane_weight if smooth else 0.0
        toward_bones = self._bone_rays_weight if smooth else 0.0
        if smooth and self.meta.causal:
            poses = self.causal_steps(camera_focal).push(poses, seq)
        elif smooth:
            if sigma > 0:
                poses = gaussian_filter1d(poses, sigma, axis=0, mode="nearest")
            if toward_2d > 0:
                poses = toward_the_2d(poses, seq, camera_focal, toward_2d, self.meta.image_plane_smoothing)
            if toward_bones > 0:
                poses = toward_bone_lengths(poses, seq, camera_focal, toward_bones, self.meta.bone_rays_smoothing,
                                            self.meta.bone_rays_window, self.meta.bone_rays_softness)
        traj = None
        if self.traj_net is not None:
            traj = self._predict(self.traj_net, seq, can_flip, flip_out=False)[:, 0]
        if resampling:
            poses = resample(poses, self.meta.fps, fps, num_out=num_frames)
            traj = resample(traj, self.meta.fps, fps, num_out=num_frames) if traj is not None else None
        if traj is not None and self.meta.trajectory_units == "focal":
            traj = traj * camera_focal
        return LiftResult(poses.astype(np.float32), None if traj is None else traj.astype(np.float32), sigma,
                          toward_2d, toward_bones)
