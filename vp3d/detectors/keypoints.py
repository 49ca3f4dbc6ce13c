"""Per-frame 2D keypoints of one person, gap filling, and the layout mappings MediaPipe-33 -> COCO-17,
COCO-17 -> Human3.6M-17 (MediaPipe-33 -> Human3.6M-17 goes through COCO-17).

Shapes: T frames, J joints. Coordinates are pixels of the (upright) video frame, x right, y down.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..errors import UserError

MEDIAPIPE33 = "mediapipe33"


class NoPersonError(UserError, RuntimeError):
    """No frame of the video has a detected person, so there is nothing to lift."""


class DetectorError(UserError, RuntimeError):
    """A detector cannot run or its input cannot be used (missing weights, missing package, a keypoint file
    that does not fit the video). The message is one line that says what to do."""


class LayoutError(DetectorError, ValueError):
    """2D keypoints cannot be converted to the layout the lifter expects (e.g. Human3.6M-17 -> COCO-17:
    Human3.6M has no eyes or ears)."""


@dataclass
class Keypoints2D:
    """2D keypoints of one person over a video.

    xy: (T, J, 2) float32 pixels. Frames without a detection hold NaN until `fill_missing`.
    score: (T, J) float32 in [0, 1] (per-joint confidence; 0 on frames without a detection).
    detected: (T,) bool, True where the detector found a person on that frame.
    layout: joint order, "mediapipe33", "coco" or "h36m" (see vp3d.skeleton).
    width, height: frame size in pixels (the coordinate space of xy).
    """

    xy: np.ndarray
    score: np.ndarray
    detected: np.ndarray
    layout: str
    width: int
    height: int

    def __post_init__(self) -> None:
        self.xy = np.asarray(self.xy, dtype=np.float32)
        self.score = np.asarray(self.score, dtype=np.float32)
        self.detected = np.asarray(self.detected, dtype=bool)
        t, j = self.score.shape
        if self.xy.shape != (t, j, 2) or self.detected.shape != (t,):
            raise ValueError(f"inconsistent keypoint shapes: xy {self.xy.shape}, score {self.score.shape}, "
                             f"detected {self.detected.shape}")

    @property
    def num_frames(self) -> int:
        return int(self.detected.shape[0])

    @property
    def num_joints(self) -> int:
        return int(self.score.shape[1])


def fill_missing(kp: Keypoints2D) -> Keypoints2D:
    """Fill frames without a detection, as the reference does: linear interpolation between the nearest
    detected frames before and after; before the first / after the last detection, copy that frame.

    Filled frames get score 0 and keep detected=False, so later stages (and the render) can tell them
    apart. Raises NoPersonError when no frame has a detection. Returns a new Keypoints2D.
    """
    have = np.flatnonzero(kp.detected)
    if have.size == 0:
        raise NoPersonError(f"no person was detected in any of the {kp.num_frames} frames")
    xy = interpolate_frames(kp.xy, kp.detected)
    score = kp.score.copy()
    score[~kp.detected] = 0.0
    return replace(kp, xy=xy, score=score, detected=kp.detected.copy())


def interpolate_frames(xy: np.ndarray, present: np.ndarray) -> np.ndarray:
    """(T, J, 2) with frames where `present` is False replaced: linear between the nearest present frames,
    held at the ends. Also used to make training input the way the pipeline fills gaps."""
    have = np.flatnonzero(present)
    missing = np.flatnonzero(~present)
    out = xy.copy()
    if missing.size:
        flat = xy.reshape(len(xy), -1)
        filled = np.empty((missing.size, flat.shape[1]), dtype=np.float64)
        # np.interp interpolates linearly inside and holds the end values outside: exactly the rule above.
        for c in range(flat.shape[1]):
            filled[:, c] = np.interp(missing, have, flat[have, c])
        out[missing] = filled.reshape(missing.size, *xy.shape[1:])
    return out


# ------------------------------------------------------------------------------------ layout mappings
# BlazePose landmark indices (MediaPipe Pose, 33 landmarks).
_NOSE, _L_EYE, _R_EYE, _L_EAR, _R_EAR = 0, 2, 5, 7, 8
_L_SHOULDER, _R_SHOULDER, _L_ELBOW, _R_ELBOW, _L_WRIST, _R_WRIST = 11, 12, 13, 14, 15, 16
_L_HIP, _R_HIP, _L_KNEE, _R_KNEE, _L_ANKLE, _R_ANKLE = 23, 24, 25, 26, 27, 28

# COCO-17 keypoints are a subset of BlazePose's (BlazePose 2/5 are the eye centres; 1,3,4,6 are eye corners).
MEDIAPIPE_TO_COCO = (
    _NOSE, _L_EYE, _R_EYE, _L_EAR, _R_EAR, _L_SHOULDER, _R_SHOULDER, _L_ELBOW, _R_ELBOW,
    _L_WRIST, _R_WRIST, _L_HIP, _R_HIP, _L_KNEE, _R_KNEE, _L_ANKLE, _R_ANKLE,
)

# Head top = ear midpoint + HEAD_TOP_FACTOR * (ear midpoint - thorax). Ear level to crown is ~12 cm and
# shoulder centre to ear level ~22-25 cm on adults, hence about one half; following the neck direction
# keeps the estimate on the head when it tilts or the person leans.
HEAD_TOP_FACTOR = 0.5


def _check33(xy33: np.ndarray, score33: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xy33 = np.asarray(xy33, dtype=np.float32)
    score33 = np.asarray(score33, dtype=np.float32)
    if xy33.shape[-2:] != (33, 2) or score33.shape != xy33.shape[:-1]:
        raise ValueError(f"expected xy (..., 33, 2) and score (..., 33), got {xy33.shape} and {score33.shape}")
    return xy33, score33


def mediapipe_to_coco(xy33: np.ndarray, score33: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BlazePose-33 -> COCO-17: (..., 33, 2), (..., 33) -> (..., 17, 2), (..., 17). A pure selection."""
    xy33, score33 = _check33(xy33, score33)
    idx = list(MEDIAPIPE_TO_COCO)
    return xy33[..., idx, :].copy(), score33[..., idx].copy()


def mediapipe_to_h36m(xy33: np.ndarray, score33: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BlazePose-33 -> Human3.6M-17: (..., 33, 2), (..., 33) -> (..., 17, 2), (..., 17).

    The COCO-17 subset of the landmarks (`mediapipe_to_coco`), then `coco_to_h36m`: every joint it needs
    (hips, knees, ankles, nose, ears, shoulders, elbows, wrists) is one of COCO's.
    """
    return coco_to_h36m(*mediapipe_to_coco(xy33, score33))


# COCO-17 indices (vp3d.skeleton.COCO).
_C_NOSE, _C_L_EAR, _C_R_EAR = 0, 3, 4
_C_L_SHOULDER, _C_R_SHOULDER, _C_L_ELBOW, _C_R_ELBOW, _C_L_WRIST, _C_R_WRIST = 5, 6, 7, 8, 9, 10
_C_L_HIP, _C_R_HIP, _C_L_KNEE, _C_R_KNEE, _C_L_ANKLE, _C_R_ANKLE = 11, 12, 13, 14, 15, 16


def coco_to_h36m(xy: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """COCO-17 -> Human3.6M-17 (vp3d.skeleton.H36M order): (..., 17, 2), (..., 17) -> (..., 17, 2), (..., 17).

    The usual conversion for feeding COCO detections to an H36M-input lifter. Joints (H36M index: how it is made):
      0 hip = midpoint of the hips; 1/4 right/left hip = COCO hips, kept as they are (Human3.6M's hip
        joints sit lower and wider than COCO's; a lifter trained on H36M-style hips sees a small bias);
      2/5 knees, 3/6 feet = ankles; 8 thorax = midpoint of the shoulders; 7 spine = midpoint of hip and thorax;
      9 neck/nose = the nose itself (simple, and what most COCO->H36M converters use);
      10 head = top of the head, ear midpoint + HEAD_TOP_FACTOR * (ear midpoint - thorax);
      11-16 shoulders, elbows, wrists.
    Score of a joint made from several keypoints = the minimum of their scores (as weak as its weakest part).
    """
    xy = np.asarray(xy, dtype=np.float32)
    score = np.asarray(score, dtype=np.float32)
    if xy.shape[-2:] != (17, 2) or score.shape != xy.shape[:-1]:
        raise ValueError(f"expected COCO-17 xy (..., 17, 2) and score (..., 17), got {xy.shape} and {score.shape}")
    out_xy = np.empty(xy.shape, dtype=np.float32)
    out_s = np.empty(score.shape, dtype=np.float32)

    def take(dst: int, src: int) -> None:
        out_xy[..., dst, :] = xy[..., src, :]
        out_s[..., dst] = score[..., src]

    for dst, src in ((1, _C_R_HIP), (2, _C_R_KNEE), (3, _C_R_ANKLE), (4, _C_L_HIP), (5, _C_L_KNEE),
                     (6, _C_L_ANKLE), (9, _C_NOSE), (11, _C_L_SHOULDER), (12, _C_L_ELBOW), (13, _C_L_WRIST),
                     (14, _C_R_SHOULDER), (15, _C_R_ELBOW), (16, _C_R_WRIST)):
        take(dst, src)

    def mid(a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        return 0.5 * (xy[..., a, :] + xy[..., b, :]), np.minimum(score[..., a], score[..., b])

    hip, hip_s = mid(_C_L_HIP, _C_R_HIP)
    thorax, thorax_s = mid(_C_L_SHOULDER, _C_R_SHOULDER)
    ears, ears_s = mid(_C_L_EAR, _C_R_EAR)
    out_xy[..., 0, :], out_s[..., 0] = hip, hip_s
    out_xy[..., 8, :], out_s[..., 8] = thorax, thorax_s
    out_xy[..., 7, :], out_s[..., 7] = 0.5 * (hip + thorax), np.minimum(hip_s, thorax_s)
    out_xy[..., 10, :] = ears + HEAD_TOP_FACTOR * (ears - thorax)
    out_s[..., 10] = np.minimum(ears_s, thorax_s)
    return out_xy, out_s


# (from layout, to layout) -> mapping. Every pair a detector and a lifter can meet; Human3.6M-17 -> COCO-17
# is absent on purpose (Human3.6M has no eyes or ears to give).
_CONVERSIONS = {
    (MEDIAPIPE33, "coco"): mediapipe_to_coco,
    (MEDIAPIPE33, "h36m"): mediapipe_to_h36m,
    ("coco", "h36m"): coco_to_h36m,
}


def conversion(src: str, dst: str):
    """The function mapping (xy, score) from layout `src` to `dst`, or None when they are the same.

    Raises LayoutError (one line) for a pair that has no mapping, e.g. Human3.6M-17 keypoints (a custom 2D
    file) for a COCO-input lifter. Callers check this before running a slow detector.
    """
    if src == dst:
        return None
    convert = _CONVERSIONS.get((src, dst))
    if convert is None:
        raise LayoutError(f"2D keypoints in layout {src!r} cannot be converted to {dst!r}, the layout the lifter "
                          f"expects; known conversions: " + ", ".join(f"{a} -> {b}" for a, b in _CONVERSIONS))
    return convert


def to_layout(kp: Keypoints2D, layout: str) -> Keypoints2D:
    """Convert keypoints to `layout` ("coco" or "h36m"); returns kp itself if already in it. LayoutError if
    there is no mapping (see `conversion`)."""
    convert = conversion(kp.layout, layout)
    if convert is None:
        return kp
    xy, score = convert(kp.xy, kp.score)
    return replace(kp, xy=xy, score=score, detected=kp.detected.copy(), layout=layout)
