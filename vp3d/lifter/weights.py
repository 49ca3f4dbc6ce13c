"""The lifter weights vp3d knows, each describing itself (in the spirit of torchvision's weight enums).

    LifterWeights.DEFAULT.path             # the shipped file (weights/ of the source tree)
    LifterWeights.DEFAULT.metrics          # {"P1 (mm), noisy 2D": 93.8, ...}: weights/MODEL_CARD.md's table
    LifterWeights.identify("x/pretrained_h36m_cpn.bin")   # the entry a file name claims, or None

One entry per file: the shipped default and the official VideoPose3D checkpoints. Official files carry no
metadata, so their 2D input layout is known from their name through this registry (checkpoint.py); a file
whose name names none of them needs --input-layout. `sha256` is that of the published file where it is
recorded here (`verify` compares a file with it). Importable without torch (the command line names the
default before any model loads).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

WEIGHTS_DIR = Path(__file__).resolve().parents[2] / "weights"
OFFICIAL_URL = "https://dl.fbaipublicfiles.com/video-pose-3d/"
OFFICIAL_LICENCE = "CC BY-NC 4.0 (VideoPose3D, Facebook Research)"


@dataclass(frozen=True)
class Weights:
    """One known weights file.

    file: its name; url: where it is published (None: it ships in weights/); sha256: of the published file
    (None: not recorded here); input_layout: 2D joint order it expects ("h36m" or "coco"); fps: frame rate
    it was trained at (vp3d takes 50 for every official file, as the reference's Human3.6M); causal: uses past frames only; receptive_field: frames per output frame; licence,
    training_data: text; metrics: {name: value} as its model card or paper reports them.
    """

    file: str
    url: str | None
    sha256: str | None
    input_layout: str
    fps: float
    causal: bool
    receptive_field: int
    licence: str
    training_data: str
    metrics: dict = field(default_factory=dict, hash=False)
    official: bool = False  # a published VideoPose3D file (no metadata inside: layout known by name only)

    @property
    def path(self) -> Path:
        """Where the file is when it ships with vp3d (weights/); official files are wherever you saved them."""
        return WEIGHTS_DIR / self.file

    def verify(self, path: str | os.PathLike) -> bool | None:
        """Whether the file at `path` is this one, byte for byte (None when no SHA-256 is recorded)."""
        if self.sha256 is None:
            return None
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest() == self.sha256


class LifterWeights(Enum):
    """The known lifter weights; DEFAULT is what vp3d uses without --checkpoint."""

    VP3D_CMU_H36M17_243F = Weights(
        file="vp3d_cmu_h36m17_243f.bin", url=None,
        sha256="03aac1004bf50ae8c5079f3f7af30c580d55a326626260e04f97fbf62569d1db",
        input_layout="h36m", fps=50.0, causal=False, receptive_field=243,
        licence="Apache-2.0 (weights); data: CMU Graphics Lab Motion Capture Database terms",
        training_data="CMU mocap (162 motions, subjects other than 02 and 135), random virtual cameras, "
                      "detector-like 2D noise",
        metrics={"P1 (mm), noisy 2D": 93.8, "P2 (mm), noisy 2D": 75.8, "MPJVE (mm/frame), noisy 2D": 6.11,
                 "P1 (mm), clean 2D": 91.5, "P2 (mm), clean 2D": 75.0, "MPJVE (mm/frame), clean 2D": 4.87})
    PRETRAINED_H36M_CPN = Weights(
        file="pretrained_h36m_cpn.bin", url=OFFICIAL_URL + "pretrained_h36m_cpn.bin", sha256=None,
        input_layout="h36m", fps=50.0, causal=False, receptive_field=243, licence=OFFICIAL_LICENCE,
        training_data="Human3.6M S1, S5-S8, CPN 2D detections fine-tuned on Human3.6M",
        metrics={"P1 (mm), Human3.6M S9/S11": 46.8, "P2 (mm), Human3.6M S9/S11": 36.5}, official=True)
    CPN_FT_243_DBB_CAUSAL = Weights(  # before CPN_FT_243_DBB: identify() takes the first name that fits
        file="cpn-ft-243-dbb-causal.bin", url=OFFICIAL_URL + "cpn-ft-243-dbb-causal.bin", sha256=None,
        input_layout="h36m", fps=50.0, causal=True, receptive_field=243, licence=OFFICIAL_LICENCE,
        training_data="Human3.6M S1, S5-S8, CPN 2D detections fine-tuned on Human3.6M", official=True)
    CPN_FT_243_DBB = Weights(
        file="cpn-ft-243-dbb.bin", url=None, sha256=None,
        input_layout="h36m", fps=50.0, causal=False, receptive_field=243, licence=OFFICIAL_LICENCE,
        training_data="Human3.6M S1, S5-S8, CPN 2D detections fine-tuned on Human3.6M", official=True)
    PRETRAINED_H36M_DETECTRON_COCO = Weights(
        file="pretrained_h36m_detectron_coco.bin", url=OFFICIAL_URL + "pretrained_h36m_detectron_coco.bin",
        sha256=None, input_layout="coco", fps=50.0, causal=False, receptive_field=243, licence=OFFICIAL_LICENCE,
        training_data="Human3.6M S1, S5-S8, Detectron 2D keypoints (COCO-trained, not fine-tuned)", official=True)
    PRETRAINED_HUMANEVA15_DETECTRON = Weights(
        file="pretrained_humaneva15_detectron.bin", url=OFFICIAL_URL + "pretrained_humaneva15_detectron.bin",
        sha256=None, input_layout="coco", fps=50.0, causal=False, receptive_field=27, licence=OFFICIAL_LICENCE,
        training_data="HumanEva-I, Detectron 2D keypoints", official=True)
    DEFAULT = VP3D_CMU_H36M17_243F

    @classmethod
    def identify(cls, path: str | os.PathLike, official_only: bool = False) -> LifterWeights | None:
        """The entry whose file name (without .bin) is part of this file's name, or None."""
        name = Path(path).name
        return next((w for w in cls if Path(w.value.file).stem in name and (w.value.official or not official_only)),
                    None)


def default_checkpoint() -> Path:
    """The shipped default lifter: $VP3D_WEIGHTS, else LifterWeights.DEFAULT in weights/ of the source tree."""
    return Path(os.environ.get("VP3D_WEIGHTS", LifterWeights.DEFAULT.value.path))
