"""Readers of the Human3.6M data files of the VideoPose3D reference release, and the sequences built from them.

* ``data_3d_h36m.npz``: ``positions_3d`` = {subject: {action: float32 (T, 32, 3)}}, world frame,
  metres, the 32-joint Human3.6M skeleton. ``load_h36m_3d`` keeps the 17 joints of ``vp3d.skeleton.H36M``.
* ``data_2d_h36m_<name>.npz``: ``positions_2d`` = {subject: {action: [float32 (T, 17, 2+) per
  camera, pixels]}} and ``metadata`` = {num_joints, keypoints_symmetry, layout_name?}.

Both hold pickled dicts; they are read with vp3d.detectors.safe_npz's one policy (containers and numpy arrays
only, unless ``trust=True``). The cameras are in h36m_cameras.py, their quaternion geometry in quaternion.py.
Files that do not fit together (a subject or action one of them lacks, 2D shorter than its 3D) raise
``H36MDataError``, which tells which of them is at fault.

Conventions of the sequences built here (what the lifter trains and is evaluated on): 2D keypoints
normalized with ``camera.normalize_screen_coordinates`` using each camera's resolution; 3D in the camera
frame (x right, y down, z forward), metres, root-relative (root joint exactly 0), with the root's
camera-frame position kept separately as the trajectory.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ..detectors.safe_npz import load_npz
from ..errors import UserError
from ..lifter.camera import normalize_screen_coordinates
from .h36m_cameras import H36MCamera
from .quaternion import world_to_camera
from .sequence import Sequence

KEPT_JOINTS_OF_32 = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)
"""Indices into the 32-joint Human3.6M skeleton that give the 17 joints of ``skeleton.H36M``."""

TRAIN_SUBJECTS = ("S1", "S5", "S6", "S7", "S8")
TEST_SUBJECTS = ("S9", "S11")
FPS = 50


class H36MDataError(UserError, KeyError, ValueError):
    """The 3D, 2D and camera data do not fit together. ``source`` is the one at fault: "3d", "2d" or
    "cameras". A KeyError (missing subject or action) and a ValueError (wrong lengths) at once, as the
    errors it replaces were; str() is the plain message (not KeyError's quoted one)."""

    def __init__(self, message: str, source: str):
        super().__init__(message)
        self.source = source

    def __str__(self) -> str:
        return str(self.args[0])


def _entries(path, keys: Iterable[str], trust: bool, optional: Iterable[str] = ()) -> dict:
    """{key: object} of the named entries of an ``np.savez`` file; KeyError naming the file for a missing one."""
    data = load_npz(path, trust=trust)
    for key in keys:
        if key not in data:
            raise KeyError(f"{path} has no key {key!r} (keys: {', '.join(data)})")
    return {key: data[key] for key in (*keys, *optional) if key in data}


# ----------------------------------------------------------------------------------------------
# 3D and 2D readers
# ----------------------------------------------------------------------------------------------


def select_h36m_joints(pose: np.ndarray) -> np.ndarray:
    """(T, 32, 3) Human3.6M-32 -> (T, 17, 3) in ``skeleton.H36M`` order; (T, 17, 3) passes through."""
    if pose.shape[-2] == 32:
        return pose[..., list(KEPT_JOINTS_OF_32), :]
    if pose.shape[-2] == 17:
        return pose
    raise ValueError(f"expected 32 or 17 joints, got shape {pose.shape}")


def load_h36m_3d(path, trust: bool = False) -> dict[str, dict[str, np.ndarray]]:
    """Read ``data_3d_h36m.npz``.

    Returns {subject: {action: float32 (T, 17, 3)}}: world frame, metres, ``skeleton.H36M`` joints.
    """
    raw = _entries(path, ["positions_3d"], trust)["positions_3d"]
    return {subject: {action: np.ascontiguousarray(select_h36m_joints(np.asarray(pos)), dtype=np.float32)
                      for action, pos in actions.items()}
            for subject, actions in raw.items()}


@dataclass
class H36M2D:
    """Contents of a ``data_2d_h36m_<name>.npz``.

    positions: {subject: {action: [float32 (T, J, C) per camera]}}, pixels, C >= 2 (x, y first).
    metadata: the file's metadata dict (num_joints, keypoints_symmetry, maybe layout_name).
    """

    positions: dict[str, dict[str, list[np.ndarray]]]
    metadata: dict = field(default_factory=dict)

    @property
    def num_joints(self) -> int:
        return int(self.metadata.get("num_joints", self._first().shape[-2]))

    @property
    def keypoints_symmetry(self) -> tuple[list[int], list[int]]:
        left, right = self.metadata["keypoints_symmetry"]
        return list(left), list(right)

    @property
    def layout_name(self) -> str | None:
        return self.metadata.get("layout_name")

    def _first(self) -> np.ndarray:
        for actions in self.positions.values():
            for cams in actions.values():
                return cams[0]
        raise ValueError("empty 2D dataset")


def load_h36m_2d(path, trust: bool = False) -> H36M2D:
    """Read ``data_2d_h36m_<name>.npz`` (pixels, per camera)."""
    data = _entries(path, ["positions_2d"], trust, optional=["metadata"])
    positions = {subject: {action: [np.asarray(k, dtype=np.float32) for k in cams]
                           for action, cams in actions.items()}
                 for subject, actions in data["positions_2d"].items()}
    metadata = data.get("metadata", {})
    return H36M2D(positions=positions, metadata=dict(metadata) if metadata is not None else {})


# ----------------------------------------------------------------------------------------------
# sequences
# ----------------------------------------------------------------------------------------------


def split_root(pose: np.ndarray, root: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(T, J, 3) -> root-relative pose (T, J, 3) with the root exactly 0, and trajectory (T, 3)."""
    traj = pose[:, root].copy()
    rel = pose - pose[:, root:root + 1]
    rel[:, root] = 0.0
    return rel, traj


def cut_to_length(kp2d: np.ndarray, length: int, where: str = "") -> np.ndarray:
    """Drop the extra trailing 2D frames of sequences recorded longer than the mocap (T >= length)."""
    if kp2d.shape[0] < length:
        raise H36MDataError(f"2D sequence {where} has {kp2d.shape[0]} frames, fewer than the "
                            f"{length} frames of its 3D ground truth", "2d")
    return kp2d[:length]


def normalize_2d(kp2d: np.ndarray, camera: H36MCamera) -> np.ndarray:
    """Pixels (T, J, C>=2) -> normalized (T, J, 2) with the camera's resolution (extra channels dropped)."""
    xy = np.asarray(kp2d[..., :2], dtype=np.float32)
    return normalize_screen_coordinates(xy, camera.res_w, camera.res_h).astype(np.float32)


def _matches(action: str, filters: Iterable[str] | None) -> bool:
    # Prefix match like the reference's --actions option ("Walking" selects "Walking 1" too).
    return filters is None or any(action.startswith(a) for a in filters)


def h36m_sequences(data3d: Mapping[str, Mapping[str, np.ndarray]],
                   data2d: H36M2D | Mapping[str, Mapping[str, list[np.ndarray]]],
                   cameras: Mapping[str, list[H36MCamera]],
                   subjects: Iterable[str],
                   actions: Iterable[str] | None = None) -> list[Sequence]:
    """Build one ``Sequence`` per (subject, action, camera).

    data3d: from ``load_h36m_3d`` (world metres, 17 joints); data2d: ``load_h36m_2d`` result (or its
    positions dict), pixels; cameras: ``load_h36m_cameras`` result; actions: optional name prefixes.
    Order: subjects as given, actions in file order, cameras in camera order. Raises ``H36MDataError``
    (naming the data at fault) when a subject or action is missing or a 2D sequence is too short.
    """
    positions2d = data2d.positions if isinstance(data2d, H36M2D) else data2d
    actions = list(actions) if actions is not None else None
    out: list[Sequence] = []
    for subject in subjects:
        if subject not in data3d:
            raise H36MDataError(f"subject {subject!r} not in the 3D data (has {', '.join(data3d)})", "3d")
        if subject not in positions2d:
            raise H36MDataError(f"subject {subject!r} not in the 2D data (has {', '.join(positions2d)})", "2d")
        if subject not in cameras:
            raise H36MDataError(f"subject {subject!r} has no camera extrinsics (has {', '.join(cameras)})",
                                "cameras")
        cams = cameras[subject]
        for action, world in data3d[subject].items():
            if not _matches(action, actions):
                continue
            if action not in positions2d[subject]:
                raise H36MDataError(f"{subject} {action!r} has 3D but no 2D keypoints", "2d")
            kps = positions2d[subject][action]
            if len(kps) != len(cams):
                raise H36MDataError(f"{subject} {action!r}: {len(kps)} 2D camera views for {len(cams)} cameras",
                                    "2d")
            for cam, kp in zip(cams, kps):
                out.append(_make_sequence(subject, action, cam, world, kp))
    return out


def _make_sequence(subject: str, action: str, cam: H36MCamera, world: np.ndarray,
                   kp: np.ndarray) -> Sequence:
    pose_cam = world_to_camera(world, cam.orientation, cam.translation)
    pose3d, traj = split_root(pose_cam)
    kp = cut_to_length(kp, world.shape[0], f"{subject}/{action}/{cam.id}")
    return Sequence(
        subject=subject, action=action, camera_id=cam.id,
        kp2d_norm=normalize_2d(kp, cam),
        pose3d=pose3d.astype(np.float32),
        traj=traj.astype(np.float32),
        intrinsics=cam.intrinsics_normalized(),
        width=cam.res_w, height=cam.res_h,
        distortion=cam.intrinsics_full()[4:],
    )
