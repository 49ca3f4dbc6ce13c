"""Camera-frame joints -> a gravity-aligned world frame with the feet on the floor (metres).

The lifter's 3D is in the camera frame (x right, y down, z forward) and root-relative; the camera's tilt
is unknown. `to_world` turns it into a frame that animation and analysis tools expect:

1. Up direction, estimated from the body: the median over frames of the unit hip -> thorax vector
   (component-wise median, renormalised), in camera coordinates. People are upright most of the time,
   and a median ignores the frames where they bend. On CMU takes seen by random cameras (elevation
   -5..35 deg) it is within 4 deg of the true vertical in half the cases and within 8 deg in 90%
   (a person's habitual lean limits it). When the estimate is more than `MAX_TILT_DEG` from the image's
   own up (-y), the body is taken to be lying down rather than the camera tilted, and the camera is
   assumed level (the `tilt_source` says which happened).
   With a root trajectory (trajectory models) the estimate is then levelled by the floor: a plane is
   fitted to the per-frame lowest points of the body (`lowest_points`), regularised towards the body
   estimate (5 deg prior) so that only directions in which those points spread (a walk's direction) are
   corrected, with outlier frames (jumps) dropped. It is kept only when the points lie on one plane
   (RMS under 6 cm for at least 60% of the frames), i.e. not on stairs or a climbing frame. On the same
   CMU test this brings the error to a median of 2 deg, 90% within 5.5 deg.
2. Rotation: world up = that direction; world x = the camera's right made horizontal; the third axis
   completes a right-handed frame. Y-up: x right, y up, z towards the camera (horizontal).
   Z-up: x right, y away from the camera (horizontal), z up. The viewer's left/right is kept.
3. Floor: every joint is kept above the floor, the ankles (H36M "foot" joints) `ANKLE_HEIGHT` above it
   (the ankle joint sits about 8 cm above the sole in CMU mocap).
   - Without a root trajectory (the shipped lifter) the poses are root-relative, so height is set per
     frame: the lowest point of each frame touches the floor. Walking, crouching and sitting come out
     right; jumps are flattened onto the floor. The root stays above the origin horizontally.
   - With a trajectory the root moves as predicted, and the floor is placed once for the clip at the
     25th percentile of the per-frame lowest points (robust to a few bad frames and to jumps); the
     root's first-frame position is the horizontal origin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .skeleton import H36M

ANKLE_HEIGHT = 0.08  # metres from the ankle joint down to the floor when standing
MAX_TILT_DEG = 45.0  # a larger estimated tilt is taken for a lying person, not a tilted camera
FLOOR_PERCENTILE = 25.0  # per-clip floor (trajectory models): this percentile of per-frame lowest points
FLOOR_PRIOR_DEG = 5.0  # how far the body-axis estimate of up is trusted (its typical error, degrees)
FLOOR_CONTACT_NOISE = 0.02  # metres: how level the lowest points of a walk on flat ground are
FLOOR_MAX_RMS = 0.06  # metres: lowest points further off their plane (RMS) mean uneven ground: no fit
FLOOR_MIN_FRACTION = 0.6  # ... as do fewer than this fraction of frames near the plane
THORAX = H36M.joint_names.index("thorax")
ANKLES = (H36M.joint_names.index("right_foot"), H36M.joint_names.index("left_foot"))

# World Y-up -> Z-up change of basis: (x, y, z) -> (x, -z, y), a +90 deg rotation about x.
Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
UP_AXES = ("y", "z")


def unit(v: np.ndarray) -> np.ndarray:
    """Unit vectors along the last axis (a zero vector stays zero)."""
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def estimate_up(poses_cam: np.ndarray, max_tilt_deg: float = MAX_TILT_DEG) -> tuple[np.ndarray, str]:
    """World up as a unit vector (3,) in camera coordinates, and how it was found.

    poses_cam: (T, 17, 3) Human3.6M joints in the camera frame (root-relative or not).
    """
    spine = unit(poses_cam[:, THORAX] - poses_cam[:, 0])
    up = unit(np.median(spine, axis=0))
    image_up = np.array([0.0, -1.0, 0.0])
    tilt = float(np.degrees(np.arccos(np.clip(up @ image_up, -1.0, 1.0))))
    if not np.isfinite(up).all() or tilt > max_tilt_deg:
        return image_up, (f"camera assumed level: the body axis is {tilt:.0f} deg from the image's vertical "
                          f"(over {max_tilt_deg:g} deg reads as a lying person, not a tilted camera)")
    return up, "median hip->thorax direction over the clip"


def lowest_points(points: np.ndarray, up: np.ndarray) -> np.ndarray:
    """(T, 3): per frame, the point of the body nearest the floor along `up` (3,): the lowest joint, or the
    sole under an ankle (ANKLE_HEIGHT below it), whichever is lower. points: (T, 17, 3)."""
    candidates = np.concatenate([points, points[:, list(ANKLES)] - ANKLE_HEIGHT * up], axis=1)
    lowest = np.argmin(candidates @ up, axis=1)
    return candidates[np.arange(len(points)), lowest]


def refine_up_with_floor(points: np.ndarray, up: np.ndarray, prior_deg: float = FLOOR_PRIOR_DEG,
                         contact_noise: float = FLOOR_CONTACT_NOISE) -> np.ndarray | None:
    """Tilt `up` (3,) so that the per-frame lowest points (T, 3) (camera frame, with a root trajectory)
    lie level: a least-squares floor plane through them, pulled towards `up` in the directions where the
    points spread less than contact_noise / prior (0.23 m RMS): a straight walk fixes the slope along the
    walk, not across it. Frames far off the plane (jumps, a foot in the air) are dropped after a first fit.
    None when the points do not lie on one plane (uneven ground, climbing): fewer than FLOOR_MIN_FRACTION
    of the frames fit, or those that do are further than FLOOR_MAX_RMS (RMS) from it."""
    e1 = np.cross(up, [1.0, 0.0, 0.0]) if abs(up[0]) < 0.9 else np.cross(up, [0.0, 0.0, 1.0])
    e1 = unit(e1)
    e2 = np.cross(up, e1)
    # m^2: a spread (RMS) of the points beyond sqrt(ridge) along a direction outweighs the prior there
    ridge = (contact_noise / np.radians(prior_deg)) ** 2
    keep = np.ones(len(points), bool)
    n = up
    for _ in range(2):
        p = points[keep] - points[keep].mean(axis=0)
        A = np.stack([p @ e1, p @ e2], axis=1)  # in-plane coordinates
        ab = -np.linalg.solve(A.T @ A / len(p) + ridge * np.eye(2), A.T @ (p @ up) / len(p))
        n = unit(up + ab[0] * e1 + ab[1] * e2)
        residual = (points - points[keep].mean(axis=0)) @ n
        mad = np.median(np.abs(residual - np.median(residual))) + 1e-3
        keep = np.abs(residual - np.median(residual)) < 3.0 * mad
        if keep.sum() < 3:
            return None
    flat = keep.mean() >= FLOOR_MIN_FRACTION and np.sqrt(np.mean(residual[keep] ** 2)) <= FLOOR_MAX_RMS
    return n if flat else None


def camera_to_world_rotation(up_cam: np.ndarray, up_axis: str = "y") -> np.ndarray:
    """(3, 3) rotation R with world = R @ camera, for a world whose `up_axis` ("y" or "z") is `up_cam`."""
    if up_axis not in UP_AXES:
        raise ValueError(f"up axis must be one of {UP_AXES}, not {up_axis!r}")
    up = unit(np.asarray(up_cam, dtype=np.float64))
    right = np.array([1.0, 0.0, 0.0])
    right = unit(right - (right @ up) * up)  # the camera's right, horizontal
    toward_camera = np.cross(right, up)
    y_up = np.stack([right, up, toward_camera])  # rows: world axes in camera coordinates
    return y_up if up_axis == "y" else Y_UP_TO_Z_UP @ y_up


@dataclass
class WorldPoses:
    """Joints in the world frame and how they got there."""
    positions: np.ndarray  # (T, 17, 3) metres, world frame (floor at height 0), Human3.6M order
    up_axis: str  # "y" or "z"
    rotation: np.ndarray  # (3, 3) camera -> world rotation (world = rotation @ camera + translation)
    translation: np.ndarray  # (T, 3) metres, per frame (constant over the clip with a trajectory)
    up_camera: np.ndarray  # (3,) unit world up in camera coordinates
    tilt_source: str
    floor: str  # how the floor height was set ("per frame" or "per clip ...")

    @property
    def camera_pitch_deg(self) -> float:
        """How far the camera looks down (+) or up (-) from the horizon."""
        return float(np.degrees(np.arcsin(np.clip(-self.up_camera[2], -1.0, 1.0))))

    @property
    def camera_roll_deg(self) -> float:
        """The camera's rotation about its viewing axis, + = clockwise seen from behind the camera (the
        scene's vertical then leans to the image's left)."""
        return float(np.degrees(np.arctan2(-self.up_camera[0], -self.up_camera[1])))

    def coordinates(self) -> str:
        axes = ("x right, y up, z towards the camera" if self.up_axis == "y"
                else "x right, y away from the camera, z up")
        return (f"world frame, {self.up_axis.upper()}-up: {axes} (horizontal axes from the camera's view); "
                f"metres; floor at {self.up_axis} = 0; camera tilt estimated from the body")

    def describe(self) -> dict:
        """JSON-ready summary (stored in exports next to the joints)."""
        return {"up_axis": self.up_axis, "camera_to_world_rotation": np.round(self.rotation, 6).tolist(),
                "up_in_camera": np.round(self.up_camera, 6).tolist(), "tilt_source": self.tilt_source,
                "camera_pitch_deg": round(self.camera_pitch_deg, 2),
                "camera_roll_deg": round(self.camera_roll_deg, 2), "floor": self.floor,
                "ankle_height_m": ANKLE_HEIGHT}


def floor_clearance(heights: np.ndarray) -> np.ndarray:
    """Per frame, how far the floor lies below the origin: (T,) from joint heights (T, 17) metres.

    The lowest of: every joint, and each ankle less ANKLE_HEIGHT (the sole is below the ankle joint)."""
    ankles = heights[:, list(ANKLES)] - ANKLE_HEIGHT
    return np.minimum(heights.min(axis=1), ankles.min(axis=1))


def to_world(poses3d: np.ndarray, trajectory: np.ndarray | None = None, up_axis: str = "y") -> WorldPoses:
    """Camera-frame joints -> WorldPoses (see the module docstring for every step).

    poses3d: (T, 17, 3) metres, camera frame, root-relative; trajectory: (T, 3) root in the camera frame,
    metres, or None.
    """
    poses3d = np.asarray(poses3d, dtype=np.float64)
    cam = poses3d if trajectory is None else poses3d + np.asarray(trajectory, dtype=np.float64)[:, None]
    up_cam, source = estimate_up(cam)
    if trajectory is not None and source.startswith("median"):
        levelled = refine_up_with_floor(lowest_points(cam, up_cam), up_cam)
        if levelled is not None:
            up_cam = levelled
            source += ", levelled by a floor-plane fit to the per-frame lowest points (root trajectory known)"
    R = camera_to_world_rotation(up_cam, up_axis)
    rotated = cam @ R.T
    v = "xyz".index(up_axis)
    lowest = floor_clearance(rotated[..., v])  # (T,) the height of lowest_points()
    translation = np.zeros((len(cam), 3))
    if trajectory is None:
        translation[:, v] = -lowest
        floor = "per frame: the lowest joint of each frame on the floor (root-relative input; jumps flattened)"
    else:
        horizontal = [a for a in range(3) if a != v]
        translation[:, horizontal] = -rotated[0, 0, horizontal]
        translation[:, v] = -np.percentile(lowest, FLOOR_PERCENTILE)
        floor = (f"per clip: the {FLOOR_PERCENTILE:g}th percentile of the per-frame lowest joint on the floor; "
                 "root's first-frame position is the horizontal origin")
    positions = rotated + translation[:, None]
    return WorldPoses(positions, up_axis, R, translation, up_cam, source, floor)
