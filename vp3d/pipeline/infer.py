"""One person's 2D -> 3D: fill gaps -> lifter layout -> normalize -> lift (result_from_keypoints), and the
options, models and result type every run shares (InferenceOptions, load_lifter, detector_from_options,
InferenceResult). vp3d.pipeline.run runs a whole video through it.

    result = result_from_keypoints(raw, info, lifter, checkpoint, "mediapipe", InferenceOptions())
    result.poses3d      # (T, 17, 3) metres, camera frame, root-relative, Human3.6M order
    result.keypoints    # Keypoints2D in the lifter's input layout, pixels, gaps filled and flagged
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..detectors.keypoints import Keypoints2D, fill_missing, to_layout
from ..lifter.camera import DEFAULT_FOV_DEGREES, focal_from_fov, normalize_screen_coordinates, normalized_focal
from ..lifter.device import resolve_device
from ..lifter.weights import default_checkpoint
from ..bones import rigid_bones
from ..video import VideoInfo

if TYPE_CHECKING:  # torch is imported when a lifter is loaded, not with this module (see job.process_video)
    from ..lifter.checkpoint import LifterMeta
    from ..lifter.inference import Lifter

@dataclass
class InferenceOptions:
    checkpoint: str | os.PathLike | None = None  # None: the shipped default
    input_layout: str | None = None  # official checkpoints whose name does not tell
    causal: bool | None = None
    trust_checkpoint: bool = False
    focal_length: float | None = None  # pixels
    fov: float | None = None  # horizontal field of view, degrees
    flip: bool = True
    smoothing: bool = True  # the output smoothing the lifter's weights declare (LifterMeta.output_smoothing)
    rigid_bones: bool = False  # every bone at its median length over the clip (vp3d.bones)
    root_motion: bool = False  # place the root from the 2D when the lifter has no trajectory network (vp3d.root_motion)
    device: str = "auto"  # "cpu", "cuda", "cuda:1", ...; "auto": CUDA when torch sees a GPU
    detector: str = "mediapipe"  # a backend of vp3d.detectors.factory, or "file:PATH"
    detector_weights: str | os.PathLike | None = None  # the backend's local model file(s)
    detector_batch_size: int = 8  # frames per forward pass (batched backends)
    strict: bool = False  # a stream FFmpeg reports damaged is a VideoError, not a warning (vp3d.video.integrity)


@dataclass
class InferenceResult:
    video: VideoInfo
    keypoints: Keypoints2D  # lifter input layout, pixels; filled frames have detected=False
    poses3d: np.ndarray  # (T, 17, 3) metres, camera frame, root-relative
    trajectory: np.ndarray | None  # (T, 3) root position in the camera frame, metres
    lifter: LifterMeta
    checkpoint: Path
    detector_name: str
    focal_px: float
    focal_source: str
    flip: bool = True
    smoothing: float = 0.0  # Gaussian sigma (the lifter's frames) applied to poses3d over time; 0: raw output
    image_plane_weight: float = 0.0  # how far joints were moved across the image onto their 2D (lifter.image_plane)
    bone_rays_weight: float = 0.0  # how far joints were moved toward usual bone lengths on their rays (lifter.bone_rays)
    rigid_bones: bool = False  # poses3d had their bones set to constant lengths (vp3d.bones)
    root_source: str | None = None  # where `trajectory` comes from: the lifter's network, or fitted (root_motion)
    extras: dict = field(default_factory=dict)


def camera_focal(info: VideoInfo, focal_length: float | None, fov: float | None) -> tuple[float, str]:
    if focal_length is not None:
        return float(focal_length), "given focal length"
    if fov is not None:
        return focal_from_fov(fov, info.width), f"given horizontal field of view {fov:g} deg"
    return focal_from_fov(DEFAULT_FOV_DEGREES, info.width), f"default horizontal field of view {DEFAULT_FOV_DEGREES:g} deg"


def load_lifter(options: InferenceOptions) -> tuple[Lifter, Path]:
    from ..lifter.inference import Lifter
    path = Path(options.checkpoint) if options.checkpoint else default_checkpoint()
    lifter = Lifter.load(path, device=options.device, causal=options.causal,
                         input_layout=options.input_layout, trust=options.trust_checkpoint)
    return lifter, path


def detector_from_options(options: InferenceOptions):
    """The 2D detector options.detector names (see vp3d.detectors.factory); DetectorError with one line
    when it cannot start."""
    from ..detectors.factory import MEDIAPIPE_BACKENDS, make_detector
    # MediaPipe runs on the CPU whatever the device: asking torch about GPUs would only cost its import.
    device = "cpu" if options.detector in MEDIAPIPE_BACKENDS else resolve_device(options.device)
    return make_detector(options.detector, weights=options.detector_weights, batch_size=options.detector_batch_size,
                         device=device)


def result_from_keypoints(raw: Keypoints2D, info: VideoInfo, lifter: Lifter, checkpoint_path: Path | None,
                          detector_name: str, options: InferenceOptions, extras: dict | None = None,
                          start: int = 0) -> InferenceResult:
    """One person's raw detections (detector layout, NaN where missed) over video frames start, start + 1, ...
    -> gaps filled, lifter layout, lifted."""
    kp = to_layout(fill_missing(raw), lifter.meta.input_layout)
    times = info.times(start, len(kp.xy)) if info.variable_frame_rate else None
    focal, source = camera_focal(info, options.focal_length, options.fov)
    lifted = lift_keypoints(lifter, kp, info.fps, options.flip, times, focal, options.smoothing)
    poses = rigid_bones(lifted.poses) if options.rigid_bones else lifted.poses
    trajectory, root_source = lifted.trajectory, None if lifted.trajectory is None else "trajectory network"
    if trajectory is None and options.root_motion:
        trajectory = fitted_root_motion(kp, poses, focal, info.fps)
        root_source = "fitted to the 2D keypoints, feet locked (vp3d.root_motion)"
    return InferenceResult(video=info, keypoints=kp, poses3d=poses, trajectory=trajectory,
                           lifter=lifter.meta, checkpoint=Path(checkpoint_path or ""), detector_name=detector_name,
                           focal_px=focal, focal_source=source, flip=options.flip,
                           smoothing=lifted.smoothing, image_plane_weight=lifted.image_plane_weight,
                           bone_rays_weight=lifted.bone_rays_weight,
                           rigid_bones=options.rigid_bones,
                           root_source=root_source,
                           extras=extras or {})


def fitted_root_motion(kp: Keypoints2D, poses: np.ndarray, focal_px: float, fps: float) -> np.ndarray:
    """(T, 3) camera-frame root positions (metres) for a lifter without a trajectory network: the poses placed
    where they reproject onto the 2D (vp3d.root_motion), from the same joints in Human3.6M order."""
    from ..root_motion import root_motion
    h36m = to_layout(kp, "h36m")
    kp_norm = normalize_screen_coordinates(h36m.xy.astype(np.float64), kp.width, kp.height)
    return root_motion(poses, kp_norm, normalized_focal(focal_px, kp.width), fps)


def lift_keypoints(lifter: Lifter, kp: Keypoints2D, fps: float, flip: bool = True, times: np.ndarray | None = None,
                   focal_px: float | None = None, smooth: bool = True):
    """Filled 2D keypoints (pixels, lifter layout) -> LiftResult on the video's frames (`times`: each frame's
    seconds, for a variable frame rate; focal_px: the camera's focal length in pixels, which places the root of
    trajectory models that predict in focal units; default: the default field of view's)."""
    kp_norm = normalize_screen_coordinates(kp.xy.astype(np.float32), kp.width, kp.height)
    focal = None if focal_px is None else normalized_focal(focal_px, kp.width)
    lifted = lifter.lift(kp_norm, fps=fps, flip=flip, times=times, focal=focal, smooth=smooth)
    # The model also predicts the root joint (near, not at, zero); exports promise it at the origin.
    lifted.poses -= lifted.poses[:, :1]
    return lifted
