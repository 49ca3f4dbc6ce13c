"""Rotations by unit quaternions (w, x, y, z), and the world <-> camera transforms of cameras whose orientation
is given that way (Human3.6M's extrinsics: camera-to-world quaternion, camera position in world units)."""

from __future__ import annotations

import numpy as np


def qrot(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vectors v (..., 3) by unit quaternion q (4,) or (..., 4), (w, x, y, z)."""
    q = np.broadcast_to(np.asarray(q, dtype=np.float64), v.shape[:-1] + (4,))
    qvec = q[..., 1:]
    uv = np.cross(qvec, v)
    uuv = np.cross(qvec, uv)
    return v + 2 * (q[..., :1] * uv + uuv)


def qinverse(q: np.ndarray) -> np.ndarray:
    """Inverse of a unit quaternion (w, x, y, z): its conjugate."""
    q = np.asarray(q, dtype=np.float64)
    return np.concatenate([q[..., :1], -q[..., 1:]], axis=-1)


def world_to_camera(X: np.ndarray, R_quat: np.ndarray, t: np.ndarray) -> np.ndarray:
    """World points (..., 3) -> camera frame (..., 3): R^-1 (X - t).

    R_quat: camera-to-world quaternion (w, x, y, z); t: camera position in world units (metres,
    i.e. the JSON translation / 1000, as ``H36MCamera.translation`` already is).
    """
    X = np.asarray(X, dtype=np.float64)
    return qrot(qinverse(R_quat), X - np.asarray(t, dtype=np.float64))


def camera_to_world(X: np.ndarray, R_quat: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Camera-frame points (..., 3) -> world (..., 3): R X + t. Inverse of ``world_to_camera``."""
    X = np.asarray(X, dtype=np.float64)
    return qrot(R_quat, X) + np.asarray(t, dtype=np.float64)
