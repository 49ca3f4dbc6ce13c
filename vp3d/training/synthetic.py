"""Training input made the way the pipeline sees video: 3D motion seen by random virtual cameras,
projected with their intrinsics, disturbed like a 2D detector, normalized like inference.

World motion comes in as (T, 17, 3) metres, Y up, Human3.6M order (vp3d.mocap). Cameras use the
OpenCV convention: x right, y down, z forward.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

from ..detectors.keypoints import interpolate_frames
from ..skeleton import H36M
from ..lifter.camera import normalize_screen_coordinates

IMAGE_SIZES = ((1920, 1080), (1280, 720), (720, 1280), (1080, 1920), (1080, 1080), (640, 480), (1000, 1000))


@dataclass
class VirtualCamera:
    R: np.ndarray  # (3, 3) world -> camera rotation (rows: right, down, forward)
    position: np.ndarray  # (3,) camera centre in world metres
    focal_px: float
    center_px: np.ndarray  # (2,) principal point in pixels
    width: int
    height: int

    def to_camera(self, X: np.ndarray) -> np.ndarray:
        """World points (..., 3) -> camera frame (..., 3)."""
        return (X - self.position) @ self.R.T

    def project(self, X_cam: np.ndarray) -> np.ndarray:
        """Camera-frame points (..., 3) -> pixels (..., 2)."""
        z = np.clip(X_cam[..., 2:3], 0.1, None)
        return X_cam[..., :2] / z * self.focal_px + self.center_px


def look_at(position: np.ndarray, target: np.ndarray, roll: float = 0.0) -> np.ndarray:
    forward = target - position
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    c, s = np.cos(roll), np.sin(roll)
    right, down = c * right + s * down, -s * right + c * down
    return np.stack([right, down, forward])


def random_camera(rng: np.random.Generator, motion: np.ndarray) -> VirtualCamera:
    """A camera that keeps the person of `motion` (T, 17, 3) in view, as a filming person would:
    any azimuth, eye level to moderately above, a focal length for 40-75 degrees of horizontal
    view, at a distance where the person fills 30-90% of the image height."""
    w, h = IMAGE_SIZES[rng.integers(len(IMAGE_SIZES))]
    fov = np.radians(rng.uniform(40, 75))
    focal = 0.5 * w / np.tan(fov / 2)
    root = motion[:, 0]
    stature = max(1.0, float(np.percentile(motion[..., 1].max(1) - motion[..., 1].min(1), 90)))
    extent = np.ptp(root[:, [0, 2]], axis=0).max() if len(root) > 1 else 0.0
    fill = rng.uniform(0.3, 0.9)
    distance = max(focal * stature / (fill * h), 1.5 + extent)
    target = root.mean(0) + rng.normal(0, [0.3, 0.2, 0.3])
    azimuth = rng.uniform(0, 2 * np.pi)
    elevation = np.radians(rng.uniform(-5, 35))
    offset = np.array([np.cos(elevation) * np.sin(azimuth), np.sin(elevation), np.cos(elevation) * np.cos(azimuth)])
    position = target + distance * offset
    R = look_at(position, target, roll=np.radians(rng.normal(0, 3)))
    center = np.array([w / 2, h / 2]) * (1 + rng.normal(0, 0.02, 2))
    return VirtualCamera(R, position, focal, center, w, h)


@dataclass
class NoiseModel:
    """Detector-like 2D errors, in units of the person's height in the image.

    `NoiseModel()` is the original model (white jitter, the same for every joint) and draws exactly the
    same random numbers as it always has: it defines the noisy validation sets of past results. The
    fields after `max_gap` shape the jitter like a real detector's and are off by default:
    `joint_scale` (per-joint multiplier), `jitter_time` (temporally correlated jitter) and `motion_jitter`
    (jitter that grows with the joint's own speed, as under motion blur). The two time-based ones are in
    seconds and need `fps`, the frame rate of the sequences given to `apply`. `fitted_to_mediapipe()` is
    a preset fitted to MediaPipe on real video (bench/noise_model_fit.py).
    """
    jitter: tuple[float, float] = (0.0, 0.012)  # per-frame Gaussian sigma, drawn per sequence
    bias: float = 0.01  # per-sequence, per-joint constant offset sigma
    outlier_rate: tuple[float, float] = (0.0, 0.004)  # probability per joint and frame
    outlier_size: float = 0.08
    gap_probability: float = 0.3  # chance that a sequence has missed detections
    max_gap: int = 15  # frames
    joint_scale: tuple[float, ...] | None = None  # per-joint factor on the jitter sigma (H36M order); None: all 1
    jitter_time: float = 0.0  # s: correlation time of the jitter, a first-order autoregressive process; 0: white
    motion_jitter: tuple[float, float] = (0.0, 0.0)  # s, drawn per sequence: extra sigma = this x joint speed
    fps: float = 50.0  # frame rate of the sequences given to apply (the training rate); for the two fields above

    @property
    def jitter_correlation(self) -> float:
        """Lag-1 autocorrelation of the jitter at `fps`: exp(-1 / (fps * jitter_time)), 0 when white."""
        return float(np.exp(-1.0 / (self.fps * self.jitter_time))) if self.jitter_time > 0 else 0.0

    @classmethod
    def named(cls, name: str, fps: float = 50.0) -> "NoiseModel":
        """"detector": the original model (`NoiseModel()`, the noisy validation of every past result);
        "mediapipe": the preset fitted to MediaPipe on real video (`fitted_to_mediapipe`)."""
        if name == "detector":
            return cls()
        if name == "mediapipe":
            return cls.fitted_to_mediapipe(fps)
        raise ValueError(f"unknown 2D noise model {name!r} (detector, mediapipe)")

    @classmethod
    def fitted_to_mediapipe(cls, fps: float = 50.0) -> "NoiseModel":
        """MediaPipe Pose (vp3d's default detector, landmark smoothing on), fitted by bench/noise_model_fit.py
        to the two shared clips: taiji (static camera, fast arm swings, 23.976 fps, person ~580 px) and
        figure_skating (moving broadcast camera, 25 fps, ~400 px). Measured on the residual of a 9-frame
        Savitzky-Golay fit, in % of the person's 2D height h (taiji / figure_skating; CMU clean = the
        floor of real motion; the whole table is in bench/README.md):

        - jitter of still joints (< 0.2 h/s), robust std: 0.10 / 0.28 (CMU clean 0.08): the detector's
          share 0.06 / 0.27, i.e. sigma 0.12 / 0.55 % through this filter -> `jitter` 0-0.5 %.
        - jitter grows with the joint's own speed: 0.36 / 0.67 / 1.39 at 0.2-0.4 / 0.4-0.8 / 0.8-1.6 h/s
          on taiji (0.022 s x speed), 0.43 / 0.44 / 0.50 on figure_skating (0.006-0.02 s); CMU clean
          0.12 / 0.15 / 0.22 -> `motion_jitter` 0.004-0.025 s.
        - not white: residual lag-1 autocorrelation (all frames) 0.01 / -0.14 and share of the residual
          power above 8 Hz 0.21 / 0.26, where white jitter gives -0.26 and 0.37 -> `jitter_time` 0.1 s
          (an AR(1) with lag-1 0.66 at 24 fps, 0.82 at 50 fps; the jitter alone has residual lag-1
          -0.14 at 24 fps; on CMU motion the preset gives -0.12 and 0.28).
        - per joint, still frames, both clips alike: mid-hip, spine and thorax (means of two or four
          detected points) 0.80-0.85 of the hips, knees 1.37-1.47 -> `joint_scale`; the other joints
          disagree between the clips and stay 1.
        - jumps > 5 % h from frame to frame beyond the smooth motion, joints slower than 0.4 h/s:
          0.15 / 2.5 % of joint-frames -> `outlier_rate` 0-0.5 % (NoiseModel(): 0-0.4 %).
        - no missed detection in either clip: gaps as in NoiseModel(). The per-joint bias cannot be
          measured in 2D without 3D truth: 1 % as in NoiseModel().
        Two clips, one of them from a moving camera, give two points, not a distribution: the ranges
        span the two clips and are not fitted to more.

        fps: the rate of the sequences it will see (50 = training); the time-based fields are in seconds.
        """
        scale = np.ones(H36M.num_joints)
        scale[[0, 7, 8]] = 0.8
        scale[[2, 5]] = 1.4
        return cls(jitter=(0.0, 0.005), bias=0.01, outlier_rate=(0.0, 0.005), outlier_size=0.08,
                   joint_scale=tuple(float(v) for v in scale), jitter_time=0.1, motion_jitter=(0.004, 0.025),
                   fps=fps)

    def apply(self, rng: np.random.Generator, xy: np.ndarray) -> np.ndarray:
        """xy: (T, J, 2) pixels -> disturbed copy; missed frames are filled the way the pipeline
        fills them (linear interpolation, edges held)."""
        T, J, _ = xy.shape
        size = float(np.median(np.ptp(xy[..., 1], axis=1))) + 1e-6
        out = xy + rng.normal(0, self.bias * size, (1, J, 2))
        out = out + self._jitter(rng, xy, rng.uniform(*self.jitter) * size, size)
        outliers = rng.random((T, J)) < rng.uniform(*self.outlier_rate)
        out[outliers] += rng.normal(0, self.outlier_size * size, (int(outliers.sum()), 2))
        if T > 2 and rng.random() < self.gap_probability:
            missing = np.zeros(T, bool)
            for _ in range(rng.integers(1, 4)):
                start = rng.integers(T)
                missing[start: start + rng.integers(1, self.max_gap + 1)] = True
            if not missing.all():
                out = interpolate_frames(out, ~missing)
        return out.astype(np.float32)

    def _jitter(self, rng: np.random.Generator, xy: np.ndarray, sigma: float, size: float) -> np.ndarray:
        """(T, J, 2) pixels: white Gaussian of `sigma` when the shaping fields are off (the original
        draws, bit for bit); else per-joint and speed-dependent sigma on a unit AR(1) process."""
        shaped = self.joint_scale is not None or self.jitter_time > 0 or self.motion_jitter != (0.0, 0.0)
        if not shaped:
            return rng.normal(0, sigma, xy.shape)
        unit = rng.normal(0, 1, xy.shape)
        rho = self.jitter_correlation
        if rho > 0 and len(unit) > 1:  # stationary AR(1): e0 = w0, e_t = rho e_(t-1) + sqrt(1 - rho^2) w_t
            gain = np.sqrt(1 - rho * rho)
            unit = lfilter([gain], [1.0, -rho], unit, axis=0, zi=unit[:1] * (1 - gain))[0]
        scale = np.ones(xy.shape[1]) if self.joint_scale is None else np.asarray(self.joint_scale, float)
        sigma_tj = sigma * scale[None, :]
        if self.motion_jitter != (0.0, 0.0):
            blur = rng.uniform(*self.motion_jitter)
            speed = np.linalg.norm(np.gradient(xy, axis=0), axis=-1) * self.fps if len(xy) > 1 else 0.0
            sigma_tj = np.sqrt(sigma_tj ** 2 + (blur * speed) ** 2)  # speed: pixels/s
        return unit * sigma_tj[..., None]


def scale_bones(rng: np.random.Generator, pose: np.ndarray, sigma: float = 0.05) -> np.ndarray:
    """Vary body proportions: each bone (left and right alike) scaled by its own factor."""
    factors = np.ones(H36M.num_joints)
    flip = H36M.flip_permutation()
    for j in range(1, H36M.num_joints):
        if flip[j] >= j:  # draw once per left/right pair
            factors[j] = factors[flip[j]] = np.exp(rng.normal(0, sigma))
    out = pose.copy()
    for j, parent in enumerate(H36M.parents):
        if parent >= 0:
            out[..., j, :] = out[..., parent, :] + factors[j] * (pose[..., j, :] - pose[..., parent, :])
    return out


def render_view(rng: np.random.Generator, motion: np.ndarray, noise: NoiseModel | None,
                camera: VirtualCamera | None = None):
    """One view of a world motion (T, 17, 3).

    Returns (kp2d_norm (T, 17, 2) float32, pose3d (T, 17, 3) root-relative camera-frame metres,
    trajectory (T, 3) root in camera frame, intrinsics_norm (4,) [fx, fy, cx, cy] normalized).
    """
    cam = camera or random_camera(rng, motion)
    X = cam.to_camera(motion)
    xy = cam.project(X)
    if noise is not None:
        xy = noise.apply(rng, xy)
    kp = normalize_screen_coordinates(xy.astype(np.float32), cam.width, cam.height)
    c = normalize_screen_coordinates(cam.center_px.astype(np.float32), cam.width, cam.height)
    f = cam.focal_px / cam.width * 2
    intr = np.array([f, f, c[0], c[1]], dtype=np.float32)
    traj = X[:, 0].astype(np.float32)
    pose = (X - X[:, :1]).astype(np.float32)
    return kp, pose, traj, intr


def time_warp(motion: np.ndarray, start: float, count: int, speed: float) -> np.ndarray:
    """`count` frames read from `motion` at fractional positions start + k*speed, edges held."""
    pos = np.clip(start + speed * np.arange(count), 0, len(motion) - 1)
    i0 = np.floor(pos).astype(int)
    i1 = np.minimum(i0 + 1, len(motion) - 1)
    w = (pos - i0)[:, None, None]
    return motion[i0] * (1 - w) + motion[i1] * w
