"""Detectron2 Keypoint R-CNN R101-FPN 3x: the reference release's in-the-wild 2D detector (COCO-17).

Used only when the `detectron2` package is importable (it is not on PyPI; it builds from source). The
setup follows the reference's inference/infer_video_d2.py: model-zoo config
COCO-Keypoints/keypoint_rcnn_R_101_FPN_3x.yaml, boxes scoring under 0.7 dropped, the model-zoo weights
unless `--detector-weights PATH` gives a local file. Frames are resized like Detectron2's DefaultPredictor
(shorter side to INPUT.MIN_SIZE_TEST, longer side at most INPUT.MAX_SIZE_TEST; OpenCV's bilinear instead
of PIL's) and several go through the model per call. Output: candidates.PersonCandidates with joint score
= Detectron2's keypoint probability (pred_keypoints[..., 2]) and person score = the box score, exactly what
the reference saves.

Weights are read without unpickling code: .pkl model-zoo files with safe_npz's restricted unpickler, other
files with torch.load(weights_only=True).
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import cv2
import numpy as np

from .candidates import PersonCandidates, StatelessDetector
from .keypoints import DetectorError

NAME = "detectron2"
CONFIG = "COCO-Keypoints/keypoint_rcnn_R_101_FPN_3x.yaml"
INSTALL = "pip install 'git+https://github.com/facebookresearch/detectron2.git'"
PERSON_THRESHOLD = 0.7  # the reference's cfg.MODEL.ROI_HEADS.SCORE_THRESH_TEST


def _import_detectron2():
    try:
        from detectron2 import model_zoo
        from detectron2.checkpoint import DetectionCheckpointer
        from detectron2.config import get_cfg
        from detectron2.modeling import build_model
    except ImportError:
        raise DetectorError(f"{NAME} is not installed; install it with: {INSTALL} (or use --detector "
                            f"keypoint-rcnn, the same kind of model from torchvision)") from None
    return model_zoo, DetectionCheckpointer, get_cfg, build_model


def read_weights(path: str | os.PathLike) -> dict:
    """A Detectron2 checkpoint as DetectionCheckpointer expects it: {"model": {name: array}, ...}.

    .pkl: the model zoo's format ({"model", "__author__"}) or a Caffe2/Detectron1 file ({"blobs"} or a flat
    dict), read with the restricted unpickler; anything else: torch.load(weights_only=True). The same result
    as DetectionCheckpointer._load_file, without unpickling arbitrary objects.
    """
    import torch

    from .safe_npz import safe_unpickle

    path = str(path)
    if path.endswith(".pkl"):
        with open(path, "rb") as f:
            data = safe_unpickle(f)
        if "model" in data and "__author__" in data:
            return data
        blobs = data.get("blobs", data)
        # Detectron1 files carry optimizer momenta next to the weights; Detectron2 drops them the same way.
        return {"model": {k: v for k, v in blobs.items() if not k.endswith("_momentum")}, "__author__": "Caffe2",
                "matching_heuristics": True}
    data = torch.load(path, map_location="cpu", weights_only=True)
    data = data if "model" in data else {"model": data}
    data["matching_heuristics"] = True  # what Detectron2 does for .pth files (name matching on load)
    return data


def resized_size(height: int, width: int, min_size: int, max_size: int) -> tuple[int, int]:
    """(new_h, new_w) of Detectron2's ResizeShortestEdge: shorter side -> min_size, longer side <= max_size."""
    scale = min_size / min(height, width)
    new_h, new_w = height * scale, width * scale
    if max(new_h, new_w) > max_size:
        shrink = max_size / max(new_h, new_w)
        new_h, new_w = new_h * shrink, new_w * shrink
    return int(new_h + 0.5), int(new_w + 0.5)


class Detectron2Detector(StatelessDetector):
    """A Detectron2 keypoint model over batches of BGR frames (use `load`)."""

    layout = "coco"
    num_joints = 17

    def __init__(self, model, cfg, device: str = "cpu", batch_size: int = 8, source: str = ""):
        self.model = model
        self.device = device
        self.batch_size = int(batch_size)
        self.min_size, self.max_size = int(cfg.INPUT.MIN_SIZE_TEST), int(cfg.INPUT.MAX_SIZE_TEST)
        self.rgb = cfg.INPUT.FORMAT == "RGB"
        self.name = f"{NAME}-keypoint_rcnn_R_101_FPN_3x ({source})"

    @classmethod
    def load(cls, weights: str | os.PathLike | None = None, device: str = "cpu", batch_size: int = 8,
             person_threshold: float = PERSON_THRESHOLD) -> "Detectron2Detector":
        model_zoo, DetectionCheckpointer, get_cfg, build_model = _import_detectron2()

        class SafeCheckpointer(DetectionCheckpointer):
            # _load_file is fvcore's documented hook for reading a checkpoint file; replaced so that no file
            # is fully unpickled.
            def _load_file(self, filename):
                return read_weights(filename)

        cfg = get_cfg()
        cfg.merge_from_file(model_zoo.get_config_file(CONFIG))
        cfg.MODEL.ROI_HEADS.SCORE_THRESH_TEST = float(person_threshold)
        cfg.MODEL.DEVICE = device
        if weights is not None and not Path(weights).is_file():
            raise DetectorError(f"{NAME}: weights file {weights} not found")
        source = str(weights) if weights is not None else model_zoo.get_checkpoint_url(CONFIG)
        model = build_model(cfg)
        model.eval()
        try:
            SafeCheckpointer(model).load(source)
        except pickle.UnpicklingError as e:  # a refused or broken weights file
            raise DetectorError(f"{NAME}: {source}: {str(e).splitlines()[0] if str(e) else 'unreadable'}") from None
        except OSError as e:  # includes urllib's URLError: offline, DNS failure, proxy refusal
            if weights is not None:
                raise DetectorError(f"{NAME}: cannot read {weights} ({e})") from None
            raise DetectorError(f"{NAME}: weights not found; download needs internet, or pass "
                                f"--detector-weights PATH (model_final_*.pkl of {CONFIG})") from None
        return cls(model, cfg, device=device, batch_size=batch_size,
                   source=Path(weights).name if weights is not None else "model zoo weights")

    def detect_batch(self, frames_bgr: list[np.ndarray]) -> list[PersonCandidates]:
        """Candidates on each frame: xy (N, 17, 2) pixels of the original frame (Detectron2 scales its
        outputs back to "height" x "width")."""
        import torch

        if self.model is None:
            raise RuntimeError("detector is closed")
        inputs = []
        for frame in frames_bgr:
            h, w = frame.shape[:2]
            new_h, new_w = resized_size(h, w, self.min_size, self.max_size)
            img = cv2.resize(frame[:, :, ::-1] if self.rgb else frame, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
            inputs.append({"image": torch.as_tensor(np.ascontiguousarray(img.transpose(2, 0, 1)), dtype=torch.float32),
                           "height": h, "width": w})
        with torch.inference_mode():
            outputs = self.model(inputs)
        found = []
        for out in outputs:
            inst = out["instances"].to("cpu")
            if len(inst) == 0:
                found.append(PersonCandidates.empty(17))
                continue
            kps = inst.pred_keypoints.numpy()
            found.append(PersonCandidates(boxes=inst.pred_boxes.tensor.numpy(), xy=kps[..., :2],
                                          score=np.clip(kps[..., 2], 0.0, 1.0), person_score=inst.scores.numpy()))
        return found

    def close(self) -> None:
        self.model = None
