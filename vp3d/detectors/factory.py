"""`--detector NAME`: build a 2D detector by name (every one is a `candidates.Detector`; vp3d.pipeline.detect
runs it over a video).

Backends and the keypoint layout each gives (to_layout then maps it to the lifter's input layout:
mediapipe33 -> coco / h36m, coco -> h36m):

  mediapipe       MediaPipe BlazePose, one person, tracked (mediapipe33)         [default; weights in the wheel]
  mediapipe-lite  the same with BlazePose's lite model: ~2/3 of the time a frame  [vp3d live's default; weights/]
  keypoint-rcnn   torchvision Keypoint R-CNN R50-FPN, every person (coco)        [torchvision download or PATH]
  detectron2      Detectron2 Keypoint R-CNN R101-FPN 3x, every person (coco)     [needs detectron2 installed]
  rtmpose         YOLOX boxes + RTMPose top-down, every person (coco)            [PATH: two ONNX files]
  file:PATH       keypoints computed elsewhere (see precomputed.py)              [coco, or h36m for custom npz]

Without tracking, one person per frame is the candidate with the highest person score (candidates.py).
"""

from __future__ import annotations

import os
from ..errors import INSTALL_GPU_DETECTORS
from .keypoints import DetectorError, conversion

BACKENDS = ("mediapipe", "mediapipe-lite", "keypoint-rcnn", "detectron2", "rtmpose")
MEDIAPIPE_BACKENDS = ("mediapipe", "mediapipe-lite")  # one person each, on the CPU whatever the device
ONE_CORE_BACKENDS = MEDIAPIPE_BACKENDS  # compute on one CPU core (1.01-1.07 measured): worth one of their own (vp3d.cores)
FILE_PREFIX = "file:"


def make_detector(name: str = "mediapipe", weights: str | os.PathLike | None = None, batch_size: int = 8,
                  device: str = "cpu"):
    """A detector by name: one of BACKENDS or "file:PATH". weights: the backend's local model file(s);
    batch_size: frames per forward pass for the batched backends; device: "cpu", "cuda", ...
    Raises DetectorError (one line) for an unknown name or a backend that cannot start."""
    if name.startswith(FILE_PREFIX):
        if weights is not None:
            raise DetectorError("--detector-weights has no use with --detector file:PATH")
        from .precomputed import PrecomputedKeypoints
        return PrecomputedKeypoints(name[len(FILE_PREFIX):])
    if batch_size < 1:
        raise DetectorError(f"detector batch size must be at least 1, got {batch_size}")
    if name in MEDIAPIPE_BACKENDS:
        if weights is not None:
            raise DetectorError(f"{name} uses the model of the mediapipe package (lite: of vp3d's weights/); "
                                f"--detector-weights has no use")
        from .mediapipe_pose import MediaPipePoseDetector
        return MediaPipePoseDetector(model_complexity=0 if name == "mediapipe-lite" else 1)
    if name == "keypoint-rcnn":
        try:
            from .keypoint_rcnn import KeypointRCNNDetector
            import torchvision  # noqa: F401  (checked here so that its absence is one line)
        except ImportError:
            raise DetectorError(f"keypoint-rcnn needs torch and torchvision: {INSTALL_GPU_DETECTORS}") from None
        return KeypointRCNNDetector.load(weights, device=device, batch_size=batch_size)
    if name == "detectron2":
        from .detectron2_backend import Detectron2Detector
        return Detectron2Detector.load(weights, device=device, batch_size=batch_size)
    if name == "rtmpose":
        from .rtmpose import RTMPoseDetector
        return RTMPoseDetector.load(weights, device=device, batch_size=batch_size)
    raise DetectorError(f"unknown detector {name!r}; choose one of {', '.join(BACKENDS)} or file:PATH")


def check_layout(detector, lifter_layout: str) -> None:
    """LayoutError (one line) before any decoding when the detector's layout cannot feed the lifter. A file's
    layout is only known once it is read (detect_* checks it then, through to_layout)."""
    if detector.layout_known:
        conversion(detector.layout, lifter_layout)


def single_person_message(detector_name: str) -> str:
    return (f"{detector_name} follows one person; --people needs a multi-person detector: keypoint-rcnn, "
            f"detectron2, rtmpose or file:PATH")
