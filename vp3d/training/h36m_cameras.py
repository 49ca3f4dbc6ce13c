"""The Human3.6M cameras of the reference release (``h36m_cameras.json``, shipped beside this module).

Intrinsics per camera id (pixels) and extrinsics per subject and camera (orientation quaternion (w, x, y, z)
camera-to-world, camera position in millimetres). The extrinsics list of a subject is in the same camera
order as the intrinsics list, which is also the order of the per-camera 2D arrays of the 2D data files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..lifter.camera import normalize_screen_coordinates

CAMERAS_JSON = Path(__file__).with_name("h36m_cameras.json")


@dataclass(frozen=True)
class H36MCamera:
    """One Human3.6M camera as seen by one subject's recordings.

    Pixel intrinsics; orientation is the camera-to-world rotation as a quaternion (w, x, y, z);
    translation is the camera position in world coordinates, in metres (the JSON holds mm).
    """

    id: str
    res_w: int
    res_h: int
    center: np.ndarray  # (2,) pixels
    focal_length: np.ndarray  # (2,) pixels
    radial_distortion: np.ndarray  # (3,) k1, k2, k3
    tangential_distortion: np.ndarray  # (2,) p1, p2
    orientation: np.ndarray  # (4,) quaternion w, x, y, z, camera -> world
    translation: np.ndarray  # (3,) metres

    def intrinsics_normalized(self) -> np.ndarray:
        """[fx, fy, cx, cy] in normalized screen units (focal = f / w * 2), float32 (4,)."""
        c = normalize_screen_coordinates(self.center.astype(np.float64), self.res_w, self.res_h)
        f = self.focal_length / self.res_w * 2
        return np.concatenate([f, c]).astype(np.float32)

    def intrinsics_full(self) -> np.ndarray:
        """[fx, fy, cx, cy, k1, k2, k3, p1, p2], normalized like the reference, float32 (9,)."""
        return np.concatenate([self.intrinsics_normalized(), self.radial_distortion,
                               self.tangential_distortion]).astype(np.float32)


def load_h36m_cameras(json_path=CAMERAS_JSON) -> dict[str, list[H36MCamera]]:
    """Read ``h36m_cameras.json`` -> {subject: [H36MCamera per camera, in intrinsics order]}.

    Subjects whose extrinsics are empty in the file (S2, S3, S4 in the release) are left out.
    """
    with open(json_path) as f:
        doc = json.load(f)
    intrinsics = doc["intrinsics"]
    cameras: dict[str, list[H36MCamera]] = {}
    for subject, extrinsics in doc["extrinsics"].items():
        # The release lists S2-S4 with empty extrinsics: those subjects have no usable recordings.
        if not all(extrinsics):
            continue
        if len(extrinsics) != len(intrinsics):
            raise ValueError(f"{json_path}: {subject} has {len(extrinsics)} extrinsics for "
                             f"{len(intrinsics)} cameras")
        cameras[subject] = [
            H36MCamera(
                id=str(intr["id"]),
                res_w=int(intr["res_w"]),
                res_h=int(intr["res_h"]),
                center=np.asarray(intr["center"], dtype=np.float64),
                focal_length=np.asarray(intr["focal_length"], dtype=np.float64),
                radial_distortion=np.asarray(intr["radial_distortion"], dtype=np.float64),
                tangential_distortion=np.asarray(intr["tangential_distortion"], dtype=np.float64),
                orientation=np.asarray(extr["orientation"], dtype=np.float64),
                translation=np.asarray(extr["translation"], dtype=np.float64) / 1000.0,
            )
            for intr, extr in zip(intrinsics, extrinsics)
        ]
    return cameras
