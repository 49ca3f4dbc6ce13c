"""Top-down 2D keypoints with RTMPose through onnxruntime: person boxes first, then keypoints in each box.

The same two-stage scheme as the reference's best 2D input (CPN on Mask R-CNN boxes). Two ONNX files, as
MMDeploy exports them for OpenMMLab's RTMPose "onnx_sdk" downloads (the files rtmlib uses):

* person detector: YOLOX with its NMS inside (e.g. yolox_m_8xb8-300e_humanart, `end2end.onnx`). Input
  (1, 3, S, S) BGR 0-255 unnormalized; the frame is scaled to fit S x S keeping its aspect ratio and padded
  with 114 at the right/bottom. Outputs `dets` (1, N, 5) x1, y1, x2, y2, score in input pixels and `labels`
  (1, N) with 0 = person.
* pose model: RTMPose with SimCC outputs (e.g. rtmpose-m_simcc-body7_pt-body7_420e-256x192, COCO-17).
  Input (B, 3, H, W) RGB normalized with ImageNet mean/std; each person box, enlarged 1.25x and widened
  or heightened to the model's aspect ratio, is warped to H x W. Outputs `simcc_x` (B, 17, W * 2) and
  `simcc_y` (B, 17, H * 2): per joint, a score for every half pixel of the crop along x and along y.

`--detector-weights DET.onnx,POSE.onnx` (that order), or a folder holding both (each is recognised by its
outputs). Nothing is downloaded. Per candidate: person score = the detector's box score; joint score = the
mean of the SimCC x and y maxima, clipped to [0, 1] (RTMPose's usual keypoint score).
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from .candidates import PersonCandidates, StatelessDetector
from .keypoints import DetectorError

NAME = "rtmpose"
MEAN_RGB = np.array([123.675, 116.28, 103.53], np.float32)
STD_RGB = np.array([58.395, 57.12, 57.375], np.float32)
BOX_PADDING = 1.25  # RTMPose's top-down crops are the box enlarged by a quarter
SIMCC_SPLIT_RATIO = 2.0  # SimCC bins per input pixel
DET_PAD_VALUE = 114
PERSON_LABEL = 0
PERSON_THRESHOLD = 0.5
WEIGHTS_HINT = "pass --detector-weights DET.onnx,POSE.onnx (or a folder with both; download them on a connected machine)"


def _session(path: Path, device: str):
    """An onnxruntime session on `device`; CUDA only where onnxruntime has it (the onnxruntime-gpu wheel),
    the CPU otherwise."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise DetectorError(f"{NAME} needs onnxruntime: pip install onnxruntime (onnxruntime-gpu for CUDA)") from None
    providers = ["CPUExecutionProvider"]
    if device.startswith("cuda") and "CUDAExecutionProvider" in ort.get_available_providers():
        device_id = int(device.split(":")[1]) if ":" in device else 0
        providers.insert(0, ("CUDAExecutionProvider", {"device_id": device_id}))
    try:
        return ort.InferenceSession(str(path), providers=providers)
    except Exception as e:  # onnxruntime raises its own exception types for unreadable or invalid models
        raise DetectorError(f"{path}: not a usable ONNX model ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None


def _is_pose_model(session) -> bool:
    """SimCC pose models have two 3-D outputs (simcc_x, simcc_y); detectors output boxes (N, 5) and labels."""
    outs = session.get_outputs()
    names = {o.name for o in outs}
    if {"simcc_x", "simcc_y"} <= names:
        return True
    if "dets" in names:
        return False
    return len(outs) == 2 and all(len(o.shape) == 3 for o in outs) and outs[0].shape[-1] != 5


def load_sessions(weights: str | os.PathLike | None, device: str = "cpu"):
    """(detector session, pose session) from "DET.onnx,POSE.onnx" or a folder with both .onnx files."""
    if weights is None:
        raise DetectorError(f"{NAME}: model files not given; {WEIGHTS_HINT}")
    text = os.fspath(weights)
    if "," in text:
        paths = [Path(p.strip()) for p in text.split(",")]
        if len(paths) != 2:
            raise DetectorError(f"{NAME}: expected two comma-separated ONNX files (detector, pose), got {len(paths)}")
    elif Path(text).is_dir():
        paths = sorted(Path(text).rglob("*.onnx"))
        if len(paths) != 2:
            raise DetectorError(f"{NAME}: {text} holds {len(paths)} .onnx files; expected 2 (detector and pose)")
    else:
        raise DetectorError(f"{NAME}: {text} is neither a folder nor DET.onnx,POSE.onnx; {WEIGHTS_HINT}")
    for p in paths:
        if not p.is_file():
            raise DetectorError(f"{NAME}: model file {p} not found; {WEIGHTS_HINT}")
    sessions = [_session(p, device) for p in paths]
    kinds = [_is_pose_model(s) for s in sessions]
    if kinds.count(True) != 1:
        raise DetectorError(f"{NAME}: need one person detector and one SimCC pose model; found "
                            f"{kinds.count(True)} pose models in {', '.join(map(str, paths))}")
    det, pose = (sessions[1], sessions[0]) if kinds[0] else (sessions[0], sessions[1])
    return det, pose, [p.name for p in paths]


def _input_hw(session, default: tuple[int, int]) -> tuple[int, int]:
    shape = session.get_inputs()[0].shape
    h, w = shape[2], shape[3]
    return (h, w) if isinstance(h, int) and isinstance(w, int) else default


def letterbox(frame: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, float]:
    """Scale the frame to fit (H, W) keeping its aspect ratio, pad right/bottom with 114.
    Returns the (H, W, 3) float32 image and the scale (input pixels per frame pixel)."""
    h, w = frame.shape[:2]
    ratio = min(size[0] / h, size[1] / w)
    out = np.full((size[0], size[1], 3), DET_PAD_VALUE, np.float32)
    new_w, new_h = int(w * ratio), int(h * ratio)
    out[:new_h, :new_w] = cv2.resize(frame, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    return out, ratio


def crop_box(box: np.ndarray, input_hw: tuple[int, int], padding: float = BOX_PADDING) -> tuple[np.ndarray, np.ndarray]:
    """Box x1, y1, x2, y2 -> (centre (2,), size (2,) = w, h) of the region the pose model sees: the box
    enlarged by `padding`, then grown along one side to the model input's aspect ratio (never squashed)."""
    x1, y1, x2, y2 = np.asarray(box, np.float32)
    centre = np.array([(x1 + x2) / 2, (y1 + y2) / 2], np.float32)
    w, h = (x2 - x1) * padding, (y2 - y1) * padding
    aspect = input_hw[1] / input_hw[0]
    if w > h * aspect:
        h = w / aspect
    else:
        w = h * aspect
    return centre, np.array([w, h], np.float32)


def warp_crop(frame: np.ndarray, centre: np.ndarray, size: np.ndarray, input_hw: tuple[int, int]) -> np.ndarray:
    """The region (centre, size) of the frame resampled to input_hw (bilinear; outside the frame is black)."""
    s = input_hw[1] / size[0]  # input pixels per frame pixel, the same along y (crop_box kept the aspect)
    m = np.array([[s, 0, input_hw[1] / 2 - s * centre[0]],
                  [0, s, input_hw[0] / 2 - s * centre[1]]], np.float32)
    return cv2.warpAffine(frame, m, (input_hw[1], input_hw[0]), flags=cv2.INTER_LINEAR)


def decode_simcc(simcc_x: np.ndarray, simcc_y: np.ndarray,
                 split_ratio: float = SIMCC_SPLIT_RATIO) -> tuple[np.ndarray, np.ndarray]:
    """SimCC (B, K, Wx), (B, K, Wy) -> positions (B, K, 2) in model-input pixels, scores (B, K).

    Position = the bin of the maximum / split_ratio; score = mean of the x and y maxima.
    """
    x = np.argmax(simcc_x, axis=-1).astype(np.float32)
    y = np.argmax(simcc_y, axis=-1).astype(np.float32)
    score = 0.5 * (simcc_x.max(-1) + simcc_y.max(-1))
    return np.stack([x, y], axis=-1) / split_ratio, score.astype(np.float32)


def crop_to_frame(xy: np.ndarray, centre: np.ndarray, size: np.ndarray, input_hw: tuple[int, int]) -> np.ndarray:
    """Model-input pixels (..., K, 2) -> frame pixels, the inverse of warp_crop."""
    wh = np.array([input_hw[1], input_hw[0]], np.float32)
    return xy / wh * size + centre - size / 2


class RTMPoseDetector(StatelessDetector):
    """YOLOX person boxes + RTMPose keypoints (COCO-17) over batches of BGR frames (use `load`).

    det_session, pose_session: onnxruntime InferenceSessions (see the module docstring for their I/O).
    batch_size: frames per detect_batch call; all their person crops go through the pose model together
        when its batch axis is dynamic, one by one otherwise.
    """

    layout = "coco"
    num_joints = 17

    def __init__(self, det_session, pose_session, batch_size: int = 8,
                 person_threshold: float = PERSON_THRESHOLD, source: str = ""):
        self.det, self.pose = det_session, pose_session
        self.batch_size = int(batch_size)
        self.person_threshold = float(person_threshold)
        self.det_hw = _input_hw(det_session, (640, 640))
        self.pose_hw = _input_hw(pose_session, (256, 192))
        self.pose_batched = not isinstance(pose_session.get_inputs()[0].shape[0], int)
        joints = pose_session.get_outputs()[0].shape[1]
        if isinstance(joints, int) and joints != 17:
            raise DetectorError(f"{NAME}: the pose model gives {joints} keypoints; a COCO-17 body model is needed")
        self.name = f"{NAME} ({source})" if source else NAME

    @classmethod
    def load(cls, weights: str | os.PathLike | None, device: str = "cpu", batch_size: int = 8,
             person_threshold: float = PERSON_THRESHOLD) -> "RTMPoseDetector":
        det, pose, names = load_sessions(weights, device)
        return cls(det, pose, batch_size=batch_size, person_threshold=person_threshold, source=" + ".join(names))

    def persons(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Person boxes (N, 4) in frame pixels (clipped to the frame) and their scores (N,)."""
        img, ratio = letterbox(frame, self.det_hw)
        feed = {self.det.get_inputs()[0].name: img.transpose(2, 0, 1)[None]}
        outs = dict(zip([o.name for o in self.det.get_outputs()], self.det.run(None, feed)))
        dets = outs.get("dets", next(iter(outs.values())))[0]
        labels = outs.get("labels", np.zeros(dets.shape[:1]))
        labels = labels[0] if labels.ndim == 2 else labels
        keep = (labels == PERSON_LABEL) & (dets[:, 4] >= self.person_threshold)
        boxes = dets[keep, :4] / ratio
        h, w = frame.shape[:2]
        boxes = np.clip(boxes, 0, [w, h, w, h]).astype(np.float32)
        return boxes, dets[keep, 4].astype(np.float32)

    def keypoints(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(M, H, W, 3) BGR uint8 crops -> positions (M, 17, 2) in crop pixels, scores (M, 17)."""
        x = ((crops[..., ::-1].astype(np.float32) - MEAN_RGB) / STD_RGB).transpose(0, 3, 1, 2)
        name = self.pose.get_inputs()[0].name
        chunks = [x] if self.pose_batched else [x[i:i + 1] for i in range(len(x))]
        xs, ys = zip(*(self.pose.run(None, {name: np.ascontiguousarray(c)})[:2] for c in chunks))
        return decode_simcc(np.concatenate(xs), np.concatenate(ys))

    def detect_batch(self, frames_bgr: list[np.ndarray]) -> list[PersonCandidates]:
        per_frame = [self.persons(f) for f in frames_bgr]
        crops, regions = [], []
        for frame, (boxes, _) in zip(frames_bgr, per_frame):
            for box in boxes:
                centre, size = crop_box(box, self.pose_hw)
                crops.append(warp_crop(frame, centre, size, self.pose_hw))
                regions.append((centre, size))
        if crops:
            xy_crop, scores = self.keypoints(np.stack(crops))
        found, k = [], 0
        for boxes, person_scores in per_frame:
            n = len(boxes)
            if n == 0:
                found.append(PersonCandidates.empty(17))
                continue
            xy = np.stack([crop_to_frame(xy_crop[k + i], *regions[k + i], self.pose_hw) for i in range(n)])
            found.append(PersonCandidates(boxes=boxes, xy=xy, score=np.clip(scores[k:k + n], 0.0, 1.0),
                                          person_score=person_scores))
            k += n
        return found

    def close(self) -> None:
        self.det = self.pose = None
