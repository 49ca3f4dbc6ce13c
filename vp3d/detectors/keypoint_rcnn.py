"""Keypoint R-CNN from torchvision (keypointrcnn_resnet50_fpn, COCO-17 keypoints) on batches of video frames.

A Mask R-CNN-family detector like the reference release's in-the-wild detector (Detectron's Keypoint
R-CNN), without the Detectron2 install. Weights: torchvision's COCO file, downloaded into torch's hub
cache on a connected machine (KeypointRCNN_ResNet50_FPN_Weights.DEFAULT), or a local state_dict file
(`--detector-weights PATH`, read with torch.load(weights_only=True)).

Per candidate (see candidates.PersonCandidates): boxes in pixels of the original frame (torchvision maps
them back from its resized input), person_score = the box score, joint score = sigmoid of the keypoint
head's heatmap logit at the peak (the raw logit is unbounded; the sigmoid keeps its order in [0, 1]).
"""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from .candidates import PersonCandidates, StatelessDetector
from .keypoints import DetectorError

NAME = "keypoint-rcnn"
PERSON_LABEL = 1  # torchvision's COCO person-keypoint model has two classes: 0 background, 1 person
# Boxes scoring below this are dropped: the reference ran Detectron with SCORE_THRESH_TEST = 0.7.
PERSON_THRESHOLD = 0.7
MISSING_WEIGHTS = "weights not found; download needs internet, or pass --detector-weights PATH"


def build_model(min_size: int = 800, max_size: int = 1333, box_score_thresh: float = 0.05):
    """torchvision's keypointrcnn_resnet50_fpn architecture with random weights (2 classes, 17 keypoints).

    min_size / max_size: the shorter / longer side the frames are resized to inside the model (torchvision's
    defaults; smaller is faster and less accurate). box_score_thresh: boxes under it are dropped inside the
    model, before the keypoint head runs on each remaining box (torchvision's default 0.05 keeps dozens).
    """
    from torchvision.models.detection import keypointrcnn_resnet50_fpn

    return keypointrcnn_resnet50_fpn(weights=None, weights_backbone=None, num_classes=2, num_keypoints=17,
                                     min_size=min_size, max_size=max_size, box_score_thresh=box_score_thresh)


def load_state_dict(weights: str | os.PathLike | None) -> tuple[dict, str]:
    """The model's state_dict and where it came from: a local file, or torchvision's COCO weights (from the
    hub cache, downloaded when missing). Raises DetectorError with one line when they cannot be had."""
    import torch

    if weights is None:
        from urllib.error import URLError

        from torchvision.models.detection import KeypointRCNN_ResNet50_FPN_Weights

        default = KeypointRCNN_ResNet50_FPN_Weights.DEFAULT
        # torch.hub's own cache (where torchvision keeps it), filled here rather than by
        # load_state_dict_from_url, which prints a "Downloading" line even when the download then fails.
        name = os.path.basename(urlparse(default.url).path)
        cached = Path(torch.hub.get_dir()) / "checkpoints" / name
        if not cached.is_file():
            digest = re.search(r"-([a-f0-9]+)\.", name)  # torchvision names files <model>-<sha256 prefix>.pth
            try:
                cached.parent.mkdir(parents=True, exist_ok=True)
                torch.hub.download_url_to_file(default.url, str(cached), digest.group(1) if digest else None,
                                               progress=True)
            except (URLError, OSError) as e:  # offline, DNS failure, proxy refusal, read-only cache
                raise DetectorError(f"{NAME}: {MISSING_WEIGHTS} ({type(e).__name__}: {e})") from None
        weights, source = cached, f"torchvision {default}"
    else:
        source = Path(weights).name
    path = Path(weights)
    if not path.is_file():
        raise DetectorError(f"{NAME}: weights file {path} not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DetectorError(f"{path}: not a weights-only torch file ({first})") from None
    if isinstance(state, dict) and isinstance(state.get("model"), dict):  # torchvision's training checkpoints
        state = state["model"]
    if not isinstance(state, dict):
        raise DetectorError(f"{path}: expected a state_dict, found {type(state).__name__}")
    return state, source


class KeypointRCNNDetector(StatelessDetector):
    """torchvision Keypoint R-CNN over batches of BGR frames, every person per frame.

    model: a torchvision KeypointRCNN (from `build_model`, weights loaded by the caller or by `load`).
    device: "cpu", "cuda", "cuda:1", ...
    batch_size: frames per forward pass (`detect_candidates` feeds this many).
    half: float16 autocast; default True on CUDA (about twice the speed on tensor-core GPUs), never on the
        CPU (no float16 kernels worth using there).
    person_threshold: candidates with a lower box score are dropped.
    """

    layout = "coco"
    num_joints = 17

    def __init__(self, model, device: str = "cpu", batch_size: int = 8, half: bool | None = None,
                 person_threshold: float = PERSON_THRESHOLD, source: str = "random weights"):
        import torch

        self.device = torch.device(device)
        self.half = (self.device.type == "cuda") if half is None else bool(half)
        if self.half and self.device.type != "cuda":
            raise ValueError("half precision is only supported on CUDA")
        self.model = model.eval().to(self.device)
        self.batch_size = int(batch_size)
        self.person_threshold = float(person_threshold)
        self.name = f"{NAME}-resnet50-fpn ({source}{', fp16' if self.half else ''})"

    @classmethod
    def load(cls, weights: str | os.PathLike | None = None, device: str = "cpu", batch_size: int = 8,
             half: bool | None = None, min_size: int = 800, person_threshold: float = PERSON_THRESHOLD):
        """Build the model and load `weights` (None: torchvision's COCO weights, see load_state_dict)."""
        state, source = load_state_dict(weights)
        # Boxes the detector would drop anyway are dropped inside the model, so the keypoint head (the
        # costliest part per box) only runs on people that are kept.
        model = build_model(min_size=min_size, box_score_thresh=person_threshold)
        try:
            model.load_state_dict(state)
        except RuntimeError as e:
            raise DetectorError(f"{NAME}: {source} does not fit keypointrcnn_resnet50_fpn "
                                f"({str(e).splitlines()[0]})") from None
        return cls(model, device=device, batch_size=batch_size, half=half, person_threshold=person_threshold,
                   source=source)

    def detect_batch(self, frames_bgr: list[np.ndarray]) -> list[PersonCandidates]:
        """Candidates on each of the frames: list (one per frame) of PersonCandidates with xy (N, 17, 2)
        pixels of that frame."""
        import torch

        if self.model is None:
            raise RuntimeError("detector is closed")
        # uint8 goes to the device first (4x less to copy than float), then BGR -> RGB and [0, 255] -> [0, 1],
        # torchvision's expected input; it normalizes and resizes inside the model.
        images = [torch.from_numpy(np.ascontiguousarray(f)).to(self.device, non_blocking=True)
                  .permute(2, 0, 1).flip(0).float().div_(255.0) for f in frames_bgr]
        with torch.inference_mode(), torch.autocast("cuda", dtype=torch.float16, enabled=self.half):
            outputs = self.model(images)
        return [self._candidates(o) for o in outputs]

    def _candidates(self, out: dict) -> PersonCandidates:
        keep = (out["labels"] == PERSON_LABEL) & (out["scores"] >= self.person_threshold)

        def arr(key: str) -> np.ndarray:
            return out[key][keep].float().cpu().numpy()

        keypoints, logits = arr("keypoints"), arr("keypoints_scores")
        return PersonCandidates(boxes=arr("boxes"), xy=keypoints[..., :2].reshape(-1, 17, 2),
                                score=(1.0 / (1.0 + np.exp(-np.clip(logits, -60.0, 60.0)))).reshape(-1, 17),
                                person_score=arr("scores"))

    def close(self) -> None:
        self.model = None
