"""The reference release's "custom" 2D dataset (videos in the wild): its one writer and its one reader.

`data_2d_custom_<name>.npz` (data/prepare_data_2d_custom.py in the reference, `vp3d-infer --npz-2d` here):
``positions_2d`` = {video: {"custom": [float32 (T, J, 2) pixels]}} and ``metadata`` = {layout_name,
num_joints, keypoints_symmetry, video_metadata: {video: {"w": width, "h": height}}}, both pickled by
``np.savez``. Reading goes through safe_npz, so its one pickle policy holds for every command.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..skeleton import H36M, Layout, get_layout
from .safe_npz import load_npz


@dataclass(frozen=True)
class Custom2DVideo:
    """One video of a custom 2D dataset: xy float32 (T, J, C>=2) pixels as stored, the frame size the file
    states (None when it does not), joint layout name and symmetry."""

    name: str
    xy: np.ndarray
    width: int | None
    height: int | None
    layout_name: str | None
    keypoints_symmetry: tuple[list[int], list[int]]


def save_custom_2d_npz(path, video_name: str, xy_pixels: np.ndarray, width: int, height: int,
                       layout: Layout | str = H36M) -> str:
    """Write a one-video 2D dataset in the reference's "custom" format.

    xy_pixels: (T, J, C>=2) pixels; only x, y are kept (the reference model takes 2 features).
    Returns the path written (numpy appends ".npz" when missing). The file loads in the reference
    with ``-d custom -k <name>`` when named ``data_2d_custom_<name>.npz``.
    """
    lay = layout if isinstance(layout, Layout) else get_layout(layout)
    xy = np.asarray(xy_pixels, dtype=np.float32)
    if xy.ndim != 3 or xy.shape[-1] < 2:
        raise ValueError(f"expected keypoints (T, J, 2), got shape {xy.shape}")
    if xy.shape[1] != lay.num_joints:
        raise ValueError(f"{xy.shape[1]} joints given for layout {lay.name!r} "
                         f"({lay.num_joints} joints)")
    xy = np.ascontiguousarray(xy[..., :2])
    metadata = {
        "layout_name": lay.name,
        "num_joints": lay.num_joints,
        "keypoints_symmetry": [list(lay.left), list(lay.right)],
        "video_metadata": {video_name: {"w": int(width), "h": int(height)}},
    }
    positions = {video_name: {"custom": [xy]}}
    path = os.fspath(path)
    np.savez_compressed(path, positions_2d=positions, metadata=metadata)
    return path if path.endswith(".npz") else path + ".npz"


def custom_2d_videos(data: dict) -> dict[str, Custom2DVideo]:
    """The videos of a loaded custom 2D dataset ({key: object}, as safe_npz.load_npz returns it).

    Raises KeyError / IndexError / TypeError / ValueError for content that is not laid out like the format.
    """
    positions, meta = data["positions_2d"], data.get("metadata") or {}
    if not isinstance(positions, dict) or not positions:
        raise ValueError("positions_2d holds no videos")
    sizes = meta.get("video_metadata") or {}
    left, right = meta.get("keypoints_symmetry") or ([], [])
    videos = {}
    for name, entry in positions.items():
        size = sizes.get(name) or {}
        known = "w" in size and "h" in size
        videos[name] = Custom2DVideo(
            name=name, xy=np.asarray(entry["custom"][0], dtype=np.float32),
            width=int(size["w"]) if known else None, height=int(size["h"]) if known else None,
            layout_name=meta.get("layout_name"), keypoints_symmetry=(list(left), list(right)))
    return videos


def read_custom_2d_npz(path: str | os.PathLike, trust: bool = False) -> dict[str, Custom2DVideo]:
    """{video name: Custom2DVideo} of a custom 2D dataset file (safe_npz's pickle policy; see there)."""
    return custom_2d_videos(load_npz(path, trust=trust))
