"""`--detector NAME`: build a 2D detector by name, and run any of them over a video to one person's keypoints.

Backends and the keypoint layout each gives (to_layout then maps it to the lifter's input layout:
mediapipe33 -> coco / h36m, coco -> h36m):

  mediapipe       MediaPipe BlazePose, one person, tracked (mediapipe33)         [default; weights in the wheel]
  keypoint-rcnn   torchvision Keypoint R-CNN R50-FPN, every person (coco)        [torchvision download or PATH]
  detectron2      Detectron2 Keypoint R-CNN R101-FPN 3x, every person (coco)     [needs detectron2 installed]
  rtmpose         YOLOX boxes + RTMPose top-down, every person (coco)            [PATH: two ONNX files]
  file:PATH       keypoints computed elsewhere (see precomputed.py)              [coco, or h36m for custom npz]

Multi-person backends reduce to one person per frame by the highest person score (candidates.py).
"""

from __future__ import annotations

import os
from typing import Callable

from .keypoints import DetectorError, Keypoints2D, conversion

BACKENDS = ("mediapipe", "keypoint-rcnn", "detectron2", "rtmpose")
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
    if name == "mediapipe":
        if weights is not None:
            raise DetectorError("mediapipe uses the model inside the mediapipe package; --detector-weights has no use")
        from .mediapipe_pose import MediaPipePoseDetector
        return MediaPipePoseDetector()
    if name == "keypoint-rcnn":
        try:
            from .keypoint_rcnn import KeypointRCNNDetector
            import torchvision  # noqa: F401  (checked here so that its absence is one line)
        except ImportError:
            raise DetectorError("keypoint-rcnn needs torchvision: pip install torchvision (matching your torch)") from None
        return KeypointRCNNDetector.load(weights, device=device, batch_size=batch_size)
    if name == "detectron2":
        from .detectron2_backend import Detectron2Detector
        return Detectron2Detector.load(weights, device=device, batch_size=batch_size)
    if name == "rtmpose":
        from .rtmpose import RTMPoseDetector
        return RTMPoseDetector.load(weights, device=device, batch_size=batch_size)
    raise DetectorError(f"unknown detector {name!r}; choose one of {', '.join(BACKENDS)} or file:PATH")


def detect_keypoints(path: str | os.PathLike, detector,
                     progress: Callable[[int], None] | None = None) -> Keypoints2D:
    """One person's 2D keypoints on every frame of the video, in the detector's layout (NaN / not detected
    where there is nobody; see keypoints.fill_missing).

    Three kinds of detector: `read(video)` (file:), `detect_batch(frames)` (multi-person backends, run in
    batches), `detect(frame)` (MediaPipe, frame by frame with tracking).
    """
    if hasattr(detector, "read") or hasattr(detector, "detect_batch"):
        return detect_people(path, detector, progress).single_person()
    from .mediapipe_pose import detect_video
    return detect_video(path, detector, progress=progress)


def check_layout(detector, lifter_layout: str) -> None:
    """LayoutError (one line) before any decoding when the detector's layout cannot feed the lifter. A file's
    layout is only known once it is read (detect_* checks it then, through to_layout)."""
    if not hasattr(detector, "read"):
        conversion(detector.layout, lifter_layout)


def detect_people(path: str | os.PathLike, detector, progress: Callable[[int], None] | None = None):
    """Every person's candidates on every frame (VideoCandidates), for tracking (`--people`).

    Only backends that report all people can give them (file:, keypoint-rcnn, detectron2, rtmpose);
    MediaPipe follows one person, so it raises DetectorError (one line) instead.
    """
    if hasattr(detector, "read"):
        return detector.read(path, progress)
    if hasattr(detector, "detect_batch"):
        from .candidates import detect_candidates
        return detect_candidates(path, detector, progress)
    raise DetectorError(single_person_message(detector.name))


def single_person_message(detector_name: str) -> str:
    return (f"{detector_name} follows one person; --people needs a multi-person detector: keypoint-rcnn, "
            f"detectron2, rtmpose or file:PATH")
