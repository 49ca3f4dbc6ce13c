"""What a lifter checkpoint describes about its network: architecture, input layout, frame rate, training.

Torch-free, so that the light (numpy) engine and the command line can read and carry it; only
`build_model` imports torch, for the torch engine and training.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import TemporalModel


STEPS_AFTER_THE_NETWORK = ("output_smoothing", "image_plane_weight", "image_plane_smoothing", "bone_rays_weight",
                           "bone_rays_smoothing", "bone_rays_window", "bone_rays_softness")  # LifterMeta's fields


@dataclass
class LifterMeta:
    filter_widths: tuple[int, ...]
    channels: int
    causal: bool
    num_joints_in: int
    in_features: int
    num_joints_out: int
    input_layout: str  # "h36m" or "coco": order of the 2D keypoints the model expects
    fps: float  # frame rate the model was trained at
    dropout: float = 0.25
    name: str = ""
    has_trajectory: bool = False
    # What the trajectory model predicts. "m": the root in metres (the reference's). "focal": the root in metres
    # divided by the camera's normalized focal length (f / w * 2). The 2D is screen-normalized, so how far away a
    # person of a given size in the image stands depends on the lens: in focal units it does not, and inference
    # multiplies by the video's focal length (given, or the default field of view's).
    trajectory_units: str = "m"
    # Gaussian smoothing of the output poses over time, sigma in the model's frames (0: none). A lifter fed noisy 2D
    # jitters from frame to frame more than people do; one frame's sigma removes most of that at no cost in
    # accuracy (weights/MODEL_CARD.md, session 19). A property of weights that were measured with it, so it travels
    # in the file: official checkpoints and files without it give their raw output.
    output_smoothing: float = 0.0
    # Each joint moved this fraction of the way across the image onto its 2D point's ray, the offsets smoothed
    # over time with a Gaussian of image_plane_smoothing model frames (image_plane.py; 0: the lifter's output as
    # it is). Chosen on training takes for the weights that declare it; official checkpoints have none.
    image_plane_weight: float = 0.0
    image_plane_smoothing: float = 0.0
    # Then each joint moved this fraction of the way toward the point of its 2D ray at which its bone has its usual
    # length (the median over +-bone_rays_window model frames), the offsets smoothed over time with a Gaussian of
    # bone_rays_smoothing model frames (bone_rays.py; 0: no such step). Chosen on training takes, like the above.
    bone_rays_weight: float = 0.0
    bone_rays_smoothing: float = 0.0
    bone_rays_window: int = 0
    # Of a bone's two points on the ray: 0, the one nearer the joint's lifted depth (version 10); > 0 (metres), both,
    # weighted by how far each is from the depth the lifted bone points to (bone_rays.points_at_bone_length).
    bone_rays_softness: float = 0.0
    # A causal model's steps use the past only (causal_steps.py): each smoothing above is then an exponential
    # average's time constant, the window reaches back only, and the output smoothing comes after the moves.
    training: dict = field(default_factory=dict)  # data, command, seed, metrics (vp3d checkpoints)

    @property
    def receptive_field(self) -> int:
        return math.prod(self.filter_widths)

    @property
    def declares_steps(self) -> bool:
        """Whether anything is done to the network's poses before users get them."""
        return self.output_smoothing > 0 or self.image_plane_weight > 0 or self.bone_rays_weight > 0

    def with_steps_of(self, other: LifterMeta) -> LifterMeta:
        """A copy that declares the steps after the network `other` declares."""
        return replace(self, **{name: getattr(other, name) for name in STEPS_AFTER_THE_NETWORK})

    @classmethod
    def from_dict(cls, stored: dict) -> LifterMeta:
        """The 'vp3d_meta' entry of a checkpoint (filter widths stored as a list)."""
        return cls(**{**stored, "filter_widths": tuple(stored["filter_widths"])})

    def to_dict(self) -> dict:
        """Plain types only (lists, not tuples): what checkpoints store as 'vp3d_meta'."""
        stored = asdict(self)
        stored["filter_widths"] = list(self.filter_widths)
        return stored

    def overridden(self, causal: bool | None = None, input_layout: str | None = None,
                   fps: float | None = None) -> LifterMeta:
        """A copy with what the caller knows better than the file (None: keep the file's)."""
        given = {"causal": causal, "input_layout": input_layout, "fps": fps}
        return replace(self, **{k: v for k, v in given.items() if v is not None})

    def build_model(self, num_joints_out: int | None = None) -> TemporalModel:
        from .model import TemporalModel
        return TemporalModel(self.num_joints_in, self.in_features,
                             self.num_joints_out if num_joints_out is None else num_joints_out,
                             self.filter_widths, self.causal, self.dropout, self.channels)
