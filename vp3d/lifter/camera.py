"""Screen normalization and pinhole projection, as in the reference release.

Normalized screen coordinates map x from [0, w] pixels to [-1, 1] and scale y by the same factor,
so the aspect ratio is kept: X_norm = X / w * 2 - [1, h / w].
"""

from __future__ import annotations

import numpy as np

DEFAULT_FOV_DEGREES = 55.0
"""Horizontal field of view assumed when the user gives no intrinsics: a typical phone / action
camera main lens (about 28 mm equivalent is ~65 deg, consumer camcorders 45-55 deg)."""


def normalize_screen_coordinates(X: np.ndarray, w: float, h: float) -> np.ndarray:
    """Pixels (..., 2) -> normalized coordinates (..., 2)."""
    assert X.shape[-1] == 2
    return X / w * 2 - np.array([1, h / w], dtype=X.dtype)


def image_coordinates(X: np.ndarray, w: float, h: float) -> np.ndarray:
    """Normalized coordinates (..., 2) -> pixels (..., 2)."""
    assert X.shape[-1] == 2
    return (X + np.array([1, h / w], dtype=X.dtype)) * w / 2


def focal_from_fov(fov_degrees: float, width: float) -> float:
    """Focal length in pixels for a horizontal field of view (0 < fov < 180 degrees)."""
    if not 0 < fov_degrees < 180:
        raise ValueError(f"a horizontal field of view is between 0 and 180 degrees, not {fov_degrees}")
    return 0.5 * width / np.tan(np.radians(fov_degrees) / 2)


def normalized_focal(focal_px: float, width: float) -> float:
    """A focal length in normalized screen units (f / w * 2): 1 / tan(half the horizontal field of view)."""
    return focal_px / width * 2


def normalized_intrinsics(focal_px: float, width: float, height: float,
                          center_px: tuple[float, float] | None = None) -> np.ndarray:
    """[fx, fy, cx, cy] in normalized screen units (focal = f / w * 2; centre like a point)."""
    if center_px is None:
        center_px = (width / 2, height / 2)
    c = normalize_screen_coordinates(np.asarray(center_px, dtype=np.float64), width, height)
    f = normalized_focal(focal_px, width)
    return np.array([f, f, c[0], c[1]], dtype=np.float32)


def project_to_2d_linear(X, intrinsics):
    """Pinhole projection without distortion.

    X: (..., J, 3) camera-space points (z forward); intrinsics: (..., 4) [fx, fy, cx, cy] in the same
    units as the desired output. Works on numpy arrays and torch tensors.
    """
    if isinstance(X, np.ndarray):
        z = np.clip(X[..., 2:3], 1e-4, None)
    else:  # a torch tensor (not imported here: inference's import path stays free of torch until it is needed)
        z = X[..., 2:3].clamp(min=1e-4)
    xy = X[..., :2] / z
    f = intrinsics[..., None, :2]
    c = intrinsics[..., None, 2:]
    return f * xy + c
