"""The lifter weights vp3d knows, each describing itself (in the spirit of torchvision's weight enums).

    LifterWeights.DEFAULT.value.path       # the shipped file (weights/ of the source tree)
    LifterWeights.DEFAULT.value.metrics    # {"P1 (mm), noisy 2D": 93.8, ...}: weights/MODEL_CARD.md's table
    LifterWeights.identify("x/pretrained_h36m_cpn.bin")   # the entry a file's name claims, or None

One entry per file: the shipped default and the official VideoPose3D checkpoints. A file is known by its whole
name (not by a part of it), and what it holds must fit what its name claims (`check_name_claim`, called by
checkpoint.py): official files carry no metadata, so their 2D input layout and causality come from this
registry; a file whose name is none of these needs --input-layout. `sha256` is that of the file where it is
known here: the shipped one's; the official files' hashes are not recorded (they are not published beside the
files), so only their architecture is checked. Importable without torch (the command line names the default
before any model loads).
"""

from __future__ import annotations

import hashlib
import math
import os
import warnings
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from ..shipped_files import WEIGHTS_DIR
from .errors import CheckpointError

OFFICIAL_URL = "https://dl.fbaipublicfiles.com/video-pose-3d/"
OFFICIAL_LICENCE = "CC BY-NC 4.0 (VideoPose3D, Facebook Research)"


@dataclass(frozen=True)
class Architecture:
    """The shape of a lifter's weights: enough to tell whether a file can be a known one."""

    filter_widths: tuple[int, ...]
    channels: int
    num_joints_in: int = 17
    num_joints_out: int = 17

    @property
    def receptive_field(self) -> int:
        return math.prod(self.filter_widths)

    def __str__(self) -> str:
        return (f"filter widths {','.join(map(str, self.filter_widths))} ({self.receptive_field}-frame receptive "
                f"field), {self.channels} channels, {self.num_joints_in} -> {self.num_joints_out} joints")


@dataclass(frozen=True)
class Weights:
    """One known weights file.

    file: its name; url: where it is published (None: it ships in weights/ or has no known address); sha256: of
    the file (None: not known here); input_layout: 2D joint order it expects ("h36m" or "coco"); fps: frame rate
    it was trained at (vp3d takes 50 for every official file, as the reference's Human3.6M); causal: uses past
    frames only; architecture: filter widths, channels, joints; licence, training_data: text; metrics: {name:
    value} as its model card or paper reports them; official: a published VideoPose3D file (no metadata inside).
    """

    file: str
    url: str | None
    sha256: str | None
    input_layout: str
    fps: float
    causal: bool
    architecture: Architecture
    licence: str
    training_data: str
    metrics: dict = field(default_factory=dict, hash=False)
    official: bool = False

    @property
    def receptive_field(self) -> int:
        return self.architecture.receptive_field

    @property
    def path(self) -> Path:
        """Where the file is when it ships with vp3d (WEIGHTS_DIR); official files are wherever you saved them."""
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


OFFICIAL_243 = Architecture(filter_widths=(3, 3, 3, 3, 3), channels=1024)
VP3D_243 = OFFICIAL_243  # the paper's width, since version 6 (causal: 5); earlier versions had 256 channels
VP3D_LICENCE = "Apache-2.0 (weights); data: CMU Graphics Lab Motion Capture Database terms"
CPN_TRAINING_DATA = "Human3.6M S1, S5-S8, CPN 2D detections fine-tuned on Human3.6M"


def lifter_report_metrics(cmu: tuple[float, float, float], bandai2: tuple[float, float, float]) -> dict[str, float]:
    """The registry's metrics of a vp3d lifter from bench/lifter_report.py's P1 / P2 / MPJVE on both validation sets."""
    names = ("P1 (mm)", "P2 (mm)", "MPJVE (mm/frame)")
    return {**{f"{n}, noisy 2D": v for n, v in zip(names, cmu)},
            **{f"{n}, bandai2 noisy 2D": v for n, v in zip(names, bandai2)}}


class LifterWeights(Enum):
    """The known lifter weights; DEFAULT is what vp3d uses without --checkpoint."""

    VP3D_CMU_H36M17_243F = Weights(
        file="vp3d_cmu_h36m17_243f.bin", url=None,
        sha256="22bebfe8f1c407ad25cea73930a51e3f69597c4ac00477c9febe0130c20becac",
        input_layout="h36m", fps=50.0, causal=False, architecture=VP3D_243,
        licence=VP3D_LICENCE,
        training_data="CMU mocap (162 motions, subjects other than 02 and 135), random virtual cameras, "
                      "detector-like 2D noise; version 4: version 3 fine-tuned with its BatchNorm statistics held "
                      "fixed, 12 epochs x 524,288 frames in windows of 128 output frames, weights averaged (EMA 0.998); "
                      "version 5: that fine-tuned the same way with motion recombined across takes, reversed and "
                      "reshaped at adult sizes (9 epochs), then with a velocity term (weight 0.2, 12 epochs); "
                      "version 6: that with joint angles varied as well (24 epochs), then widened to 1024 "
                      "channels (Net2WiderNet: it starts as the 256-channel function) and fine-tuned in bfloat16, "
                      "4 epochs at velocity weight 0.2 and 14 at 0.5, 262,144 frames each; version 7: that fine-tuned 12 "
                      "epochs more the same way (velocity weight 0.5) with the shoulders defined where detectors mark "
                      "them (level with the base of the neck); session 19: the same weights, declaring an output "
                      "smoothing over time of one frame's sigma (LifterMeta.output_smoothing); version 8: that fine-tuned 8 "
                      "epochs more the same way with the spine defined as the midpoint of hip and thorax (as "
                      "MediaPipe's 2D makes it); version 9: the same weights, declaring every joint moved 0.3 of the "
                      "way across the image onto its 2D point's ray, offsets smoothed over 4 frames' sigma "
                      "(LifterMeta.image_plane_weight / image_plane_smoothing, chosen on training takes); version 10: "
                      "the same weights, declaring after that every joint moved 0.3 of the way toward the point of its "
                      "2D ray at its bone's usual length (median over +-121 frames) from its parent, offsets smoothed "
                      "over 4 frames' sigma (LifterMeta.bone_rays_*, chosen on training takes); version 11: the mean "
                      "of version 10's weights and those of a fine-tune of version 8 with each arm taken from another "
                      "take (chance 0.3, 16 epochs), both with version 8's frozen BatchNorm statistics, declaring the "
                      "same steps with the bone's point on its ray chosen softly by the lifted bone's own depth change "
                      "(LifterMeta.bone_rays_softness 0.05 m, chosen on training takes)",
        # bench/lifter_report.py (vp3d evaluate: 2 fixed cameras per take, detector-like noise, flip, the declared
        # steps after the network); version 10: CMU 73.3 / 57.5 / 4.72, bandai2 56.5 / 40.3 / 3.61
        metrics=lifter_report_metrics(cmu=(71.6, 55.5, 4.61), bandai2=(55.5, 39.2, 3.52)))
    VP3D_CMU_H36M17_243F_CAUSAL = Weights(
        file="vp3d_cmu_h36m17_243f_causal.bin", url=None,
        sha256="16e8c72481e3096921b06ee98d0a8dd0ad876e07341a0b9138d82831d4f50519",
        input_layout="h36m", fps=50.0, causal=True, architecture=VP3D_243,
        licence=VP3D_LICENCE,
        training_data="the default's version 2, fine-tuned from it with causal convolutions (each frame from the 242 before "
                      "it), 9 epochs x 65,536 frames, weights averaged (EMA 0.995); version 2 (session 11): that fine-tuned "
                      "again with its BatchNorm statistics held fixed, 8 epochs x 524,288 frames in windows of 128 "
                      "output frames, EMA 0.998; version 3 (session 12): that fine-tuned the same way with motion "
                      "recombined across takes, reversed and reshaped at adult sizes, 12 epochs; version 4 (session "
                      "13): that fine-tuned 12 epochs more with joint angles varied as well (trunk, neck, shoulders, "
                      "hips, elbow and knee bend); version 5 (session 15): that widened to 1024 channels (Net2WiderNet) "
                      "and fine-tuned in bfloat16 with a velocity term (weight 0.5), 12 epochs x 262,144 frames; version 6 "
                      "(session 17): that fine-tuned 4 epochs more the same way with the shoulders defined where "
                      "detectors mark them (level with the base of the neck); version 7 (session 21): that "
                      "fine-tuned 4 epochs more the same way with the spine defined as the midpoint of hip and thorax; "
                      "version 8 (session 23): the same weights, declaring the steps after the network from the past "
                      "only (vp3d/lifter/causal_steps.py): joints moved 0.3 of the way across the image onto their 2D "
                      "rays and 0.2 of the way toward usual bone lengths along them (medians over the 121 frames "
                      "before), offsets averaged with a time constant of 15 frames, then the output averaged with one "
                      "of 1 frame (chosen on training takes); version 9 (session 25): version 8 fine-tuned 8 epochs more "
                      "in float32 with each arm and each leg taken with chance 0.3 from another take (run fbn_CLEG), "
                      "its steps choosing softly along the bone rays (softness 0.05 m, as the default's version 11)",
        # bench/lifter_report.py (as the default's); version 8: CMU 82.5 / 63.7 / 6.41, bandai2 60.3 / 45.5 / 5.46
        metrics=lifter_report_metrics(cmu=(80.3, 61.9, 6.31), bandai2=(59.3, 44.3, 5.39)))
    PRETRAINED_H36M_CPN = Weights(
        file="pretrained_h36m_cpn.bin", url=OFFICIAL_URL + "pretrained_h36m_cpn.bin", sha256=None,
        input_layout="h36m", fps=50.0, causal=False, architecture=OFFICIAL_243, licence=OFFICIAL_LICENCE,
        training_data=CPN_TRAINING_DATA,
        metrics={"P1 (mm), Human3.6M S9/S11": 46.8, "P2 (mm), Human3.6M S9/S11": 36.5}, official=True)
    CPN_FT_243_DBB_CAUSAL = Weights(
        file="cpn-ft-243-dbb-causal.bin", url=OFFICIAL_URL + "cpn-ft-243-dbb-causal.bin", sha256=None,
        input_layout="h36m", fps=50.0, causal=True, architecture=OFFICIAL_243, licence=OFFICIAL_LICENCE,
        training_data=CPN_TRAINING_DATA, official=True)
    CPN_FT_243_DBB = Weights(
        file="cpn-ft-243-dbb.bin", url=None, sha256=None,
        input_layout="h36m", fps=50.0, causal=False, architecture=OFFICIAL_243, licence=OFFICIAL_LICENCE,
        training_data=CPN_TRAINING_DATA, official=True)
    PRETRAINED_H36M_DETECTRON_COCO = Weights(
        file="pretrained_h36m_detectron_coco.bin", url=OFFICIAL_URL + "pretrained_h36m_detectron_coco.bin",
        sha256=None, input_layout="coco", fps=50.0, causal=False, architecture=OFFICIAL_243,
        licence=OFFICIAL_LICENCE,
        training_data="Human3.6M S1, S5-S8, Detectron 2D keypoints (COCO-trained, not fine-tuned)", official=True)
    PRETRAINED_HUMANEVA15_DETECTRON = Weights(
        file="pretrained_humaneva15_detectron.bin", url=OFFICIAL_URL + "pretrained_humaneva15_detectron.bin",
        sha256=None, input_layout="coco", fps=50.0, causal=False,
        architecture=Architecture((3, 3, 3), channels=1024, num_joints_out=15), licence=OFFICIAL_LICENCE,
        training_data="HumanEva-I, Detectron 2D keypoints", official=True)
    DEFAULT = VP3D_CMU_H36M17_243F
    DEFAULT_CAUSAL = VP3D_CMU_H36M17_243F_CAUSAL  # vp3d live: each frame's 3D from the past only

    @classmethod
    def identify(cls, path: str | os.PathLike) -> LifterWeights | None:
        """The entry whose file name is this file's whole name (letter case aside), or None.

        Whole names only: "my-cpn-ft-243-dbb.bin" or "pretrained_h36m_cpn (1).bin" claim nothing, since a name that
        merely contains a known one says nothing reliable about what the file holds.
        """
        name = Path(path).name.casefold()
        return next((w for w in cls if w.value.file.casefold() == name), None)


class WeightsMismatchWarning(UserWarning):
    """A file named like known weights that is used as they would be, but is not byte for byte (or not as wide as)
    the known file."""


def check_name_claim(path: str | os.PathLike, found: Architecture, has_vp3d_metadata: bool,
                     input_layout: str | None = None, causal: bool | None = None) -> Weights | None:
    """The known weights `path`'s name claims, checked against what the file holds (None: it claims none).

    found: the architecture read off the file; input_layout, causal: what its vp3d metadata states (None for
    official-layout files, which state nothing). What the name stands for when the file is used must hold, or
    CheckpointError (one line) says that it cannot be that file: its receptive field (filter widths), joints in
    and out, vp3d metadata (the shipped file has it, the published ones do not), and the input layout and
    causality its metadata states. A file that fits all that but differs in width (channels) or in its bytes
    (SHA-256, where recorded) is used as it is, with a WeightsMismatchWarning (one line).
    """
    known = LifterWeights.identify(path)
    if known is None:
        return None
    claim, arch = known.value, known.value.architecture
    wrong = []
    if found.filter_widths != arch.filter_widths:
        wrong.append(f"has filter widths {','.join(map(str, found.filter_widths))} ({found.receptive_field} "
                     f"frames), not {','.join(map(str, arch.filter_widths))} ({arch.receptive_field} frames)")
    if (found.num_joints_in, found.num_joints_out) != (arch.num_joints_in, arch.num_joints_out):
        wrong.append(f"maps {found.num_joints_in} -> {found.num_joints_out} joints, not "
                     f"{arch.num_joints_in} -> {arch.num_joints_out}")
    if has_vp3d_metadata == claim.official:
        wrong.append("has vp3d metadata, which the published files lack" if claim.official else
                     "lacks the vp3d metadata the shipped file has")
    if input_layout is not None and input_layout != claim.input_layout:
        wrong.append(f"states input layout {input_layout!r}, not {claim.input_layout!r}")
    if causal is not None and causal != claim.causal:
        wrong.append(f"states {'causal' if causal else 'symmetric'} convolutions")
    if wrong:
        raise CheckpointError(f"{path}: named like the known weights {claim.file} but {'; '.join(wrong)}: it cannot "
                              f"be that file; give it another name (and --input-layout if it has no vp3d metadata)")
    if found.channels != arch.channels:
        differs = f"has {found.channels} channels, not {arch.channels}"
    elif claim.verify(path) is False:
        differs = "its SHA-256 is not theirs"
    else:
        return claim
    # The file's own name and no line number: the one line says which file, not where in vp3d it was loaded.
    warnings.warn_explicit(f"named like the known weights {claim.file} but {differs}: not that file (retrained or "
                           f"re-saved?); using it as it is", WeightsMismatchWarning, os.fspath(path), 0)
    return claim


def default_checkpoint() -> Path:
    """The shipped default lifter: $VP3D_WEIGHTS, else LifterWeights.DEFAULT where vp3d's weights are installed."""
    return Path(os.environ.get("VP3D_WEIGHTS", LifterWeights.DEFAULT.value.path))
