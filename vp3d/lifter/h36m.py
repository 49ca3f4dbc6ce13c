"""Readers (and one writer) for the Human3.6M data files of the VideoPose3D reference release.

Files and their layout (all written by ``np.savez`` with pickled Python objects inside):

* ``data_3d_h36m.npz``: ``positions_3d`` = {subject: {action: float32 (T, 32, 3)}}, world frame,
  metres, the 32-joint Human3.6M skeleton. ``load_h36m_3d`` keeps the 17 joints of ``vp3d.skeleton.H36M``.
* ``data_2d_h36m_<name>.npz``: ``positions_2d`` = {subject: {action: [float32 (T, 17, 2+) per
  camera, pixels]}} and ``metadata`` = {num_joints, keypoints_symmetry, layout_name?}.
* ``data_2d_custom_<name>.npz`` (videos in the wild): ``positions_2d`` = {video: {"custom":
  [float32 (T, J, 2) pixels]}} and ``metadata`` = {layout_name, num_joints, keypoints_symmetry,
  video_metadata: {video: {"w": width, "h": height}}}.
* ``h36m_cameras.json``: intrinsics per camera id (pixels) and extrinsics per subject and camera
  (orientation quaternion (w, x, y, z) camera-to-world, camera position in millimetres). The
  extrinsics list of a subject is in the same camera order as the intrinsics list, which is also
  the order of the per-camera 2D arrays.

Reading pickled objects can execute arbitrary code, so every reader of an ``.npz`` needs an explicit
``trust=True``; without it they raise ``UntrustedFileError`` naming the file. Files that do not fit
together (a subject or action one of them lacks, 2D shorter than its 3D) raise ``H36MDataError``,
which tells which of them is at fault.

Conventions of the sequences built here (what the lifter trains and is evaluated on): 2D
keypoints normalized with ``camera.normalize_screen_coordinates`` using each camera's resolution;
3D in the camera frame (x right, y down, z forward), metres, root-relative (root joint exactly 0),
with the root's camera-frame position kept separately as the trajectory.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Iterable, Mapping

import numpy as np

from vp3d.errors import UserError
from vp3d.lifter.camera import normalize_screen_coordinates
from vp3d.skeleton import H36M, Layout, get_layout

KEPT_JOINTS_OF_32 = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)
"""Indices into the 32-joint Human3.6M skeleton that give the 17 joints of ``skeleton.H36M``."""

TRAIN_SUBJECTS = ("S1", "S5", "S6", "S7", "S8")
TEST_SUBJECTS = ("S9", "S11")
FPS = 50

TRUST_FLAG = "--trust-data"
"""Command-line flag (of `vp3d evaluate`) that maps to ``trust=True``; named in the refusal message."""


class UntrustedFileError(UserError, ValueError):
    """Raised when a pickled ``.npz`` would be loaded without ``trust=True``."""


class H36MDataError(UserError, KeyError, ValueError):
    """The 3D, 2D and camera data do not fit together. ``source`` is the one at fault: "3d", "2d" or
    "cameras". A KeyError (missing subject or action) and a ValueError (wrong lengths) at once, as the
    errors it replaces were; str() is the plain message (not KeyError's quoted one)."""

    def __init__(self, message: str, source: str):
        super().__init__(message)
        self.source = source

    def __str__(self) -> str:
        return str(self.args[0])


# ----------------------------------------------------------------------------------------------
# pickled .npz access
# ----------------------------------------------------------------------------------------------


def _load_pickled_npz(path, keys: Iterable[str], trust: bool, optional: Iterable[str] = ()) -> dict:
    """Return {key: unpickled object} for an ``np.savez`` file holding Python objects.

    ``trust`` must be True: ``allow_pickle`` lets the file run code while it is read.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    if not trust:
        raise UntrustedFileError(
            f"{path} stores pickled Python objects; reading it (numpy allow_pickle=True) can execute "
            f"arbitrary code embedded in the file. Load it only if you trust where it came from: pass "
            f"trust=True (on the command line: {TRUST_FLAG}).")
    optional = tuple(optional)
    out = {}
    with np.load(path, allow_pickle=True) as f:
        for key in list(keys) + list(optional):
            if key not in f.files:
                if key in optional:
                    continue
                raise KeyError(f"{path} has no key {key!r} (keys: {', '.join(f.files)})")
            value = f[key]
            # np.savez wraps a dict into a 0-d object array.
            out[key] = value.item() if value.dtype == object and value.shape == () else value
    return out


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
    Needs ``trust=True`` (the file is a pickle).
    """
    raw = _load_pickled_npz(path, ["positions_3d"], trust)["positions_3d"]
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
    """Read ``data_2d_h36m_<name>.npz`` (pixels, per camera). Needs ``trust=True``."""
    data = _load_pickled_npz(path, ["positions_2d"], trust, optional=["metadata"])
    positions = {subject: {action: [np.asarray(k, dtype=np.float32) for k in cams]
                           for action, cams in actions.items()}
                 for subject, actions in data["positions_2d"].items()}
    metadata = data.get("metadata", {})
    return H36M2D(positions=positions, metadata=dict(metadata) if metadata is not None else {})


# ----------------------------------------------------------------------------------------------
# cameras
# ----------------------------------------------------------------------------------------------


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


def load_h36m_cameras(json_path) -> dict[str, list[H36MCamera]]:
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


# ----------------------------------------------------------------------------------------------
# sequences
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sequence:
    """One (subject, action, camera) recording, ready for the lifter.

    kp2d_norm: float32 (T, J, 2) normalized screen coordinates.
    pose3d:    float32 (T, 17, 3) camera frame, metres, root-relative (root = 0).
    traj:      float32 (T, 3) root position in the camera frame, metres.
    intrinsics: float32 (4,) [fx, fy, cx, cy], normalized screen units.
    distortion: float32 (5,) [k1, k2, k3, p1, p2] or None.
    """

    subject: str
    action: str
    camera_id: str
    kp2d_norm: np.ndarray
    pose3d: np.ndarray
    traj: np.ndarray
    intrinsics: np.ndarray
    width: int = 0
    height: int = 0
    distortion: np.ndarray | None = None

    @property
    def num_frames(self) -> int:
        return self.pose3d.shape[0]

    @property
    def name(self) -> str:
        return f"{self.subject}/{self.action}/{self.camera_id}"


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


# ----------------------------------------------------------------------------------------------
# the reference's "custom" 2D dataset (videos in the wild)
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Custom2DVideo:
    """One video of a custom 2D dataset: xy float32 (T, J, 2) pixels, frame size, joint layout."""

    name: str
    xy: np.ndarray
    width: int
    height: int
    layout_name: str
    keypoints_symmetry: tuple[list[int], list[int]]


def _layout_of(layout: Layout | str) -> Layout:
    return layout if isinstance(layout, Layout) else get_layout(layout)


def save_custom_2d_npz(path, video_name: str, xy_pixels: np.ndarray, width: int, height: int,
                       layout: Layout | str = H36M) -> str:
    """Write a one-video 2D dataset in the reference's "custom" format.

    xy_pixels: (T, J, C>=2) pixels; only x, y are kept (the reference model takes 2 features).
    Returns the path written (numpy appends ".npz" when missing). The file loads in the reference
    with ``-d custom -k <name>`` when named ``data_2d_custom_<name>.npz``.
    """
    lay = _layout_of(layout)
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


def load_custom_2d_npz(path, trust: bool = False) -> dict[str, Custom2DVideo]:
    """Read a "custom" 2D dataset -> {video_name: Custom2DVideo}. Needs ``trust=True``."""
    data = _load_pickled_npz(path, ["positions_2d", "metadata"], trust)
    meta = data["metadata"]
    video_meta = meta.get("video_metadata", {})
    left, right = meta.get("keypoints_symmetry", ([], []))
    videos = {}
    for name, entry in data["positions_2d"].items():
        xy = np.asarray(entry["custom"][0], dtype=np.float32)
        size = video_meta.get(name, {})
        videos[name] = Custom2DVideo(
            name=name, xy=xy, width=int(size.get("w", 0)), height=int(size.get("h", 0)),
            layout_name=str(meta.get("layout_name", "")),
            keypoints_symmetry=(list(left), list(right)),
        )
    return videos
