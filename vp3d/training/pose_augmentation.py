"""More motion from the same mocap, in pose space (not only in camera space).

Every function takes and returns world motion (T, 17, 3): metres, Y up, Human3.6M-17 order. Validation
motions never pass through here: the sampler only draws training takes.

- `recombine`: the legs and root path of one take with the trunk, arms and head of another, time-aligned,
  the upper body turned with the lower body's pelvis (the idea of Li et al., CVPR 2020, "Cascaded deep
  monocular 3D human pose estimation with evolutionary training data": crossover of body parts).
- `recombine_limb`: one arm of another take, its upper arm and forearm pointing in the donor's chest frame as they
  did there, on this take's shoulder with this take's bone lengths (a finer crossover: arm motion is what the
  data has least of per joint, and the wrists carry the largest error); or one leg, its thigh and shin pointing
  in the donor's upright pelvis frame (stances the takes do not have: one leg of a kick, of a lunge, of a walk).
- `vary_proportions`: body proportions well beyond the +-5% of the baseline recipe: taller and shorter
  people, long or short limbs, broad or narrow hips and shoulders, now and then a child's proportions
  (PoseAug, Gong et al., CVPR 2021, augments bone lengths and ratios the same way).
- `reverse`: motion played backwards (walking backwards, arms lowered instead of raised: plausible for
  almost everything CMU holds; a fall or a jump's landing the other way round is the rare exception).
- `vary_joint_angles`: the same motion with other joint angles: the trunk bent and twisted, the head turned,
  arms and legs raised or swung differently, elbows and knees more or less bent within their range (Li et
  al.'s mutation of local joint angles; PoseAug's joint-angle augmentation). Every bone keeps its length.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..skeleton import H36M
from ..world import unit
from .quaternion import qrot

LOWER = (1, 2, 3, 4, 5, 6)  # hips, knees, feet (the root, joint 0, comes with them)
UPPER = tuple(range(7, 17))  # spine, thorax, nose, head, arms
_R_HIP, _L_HIP = 1, 4
_BONE_GROUPS = {  # child joint -> group of the bone that ends at it
    "legs": (2, 3, 5, 6), "hips": (1, 4), "torso": (7, 8), "head": (9, 10), "shoulders": (11, 14),
    "arms": (12, 13, 15, 16),
}


def pelvis_yaw(motion: np.ndarray) -> np.ndarray:
    """(T,) heading of the pelvis about the vertical, radians (from the right hip to the left hip)."""
    v = motion[:, _L_HIP] - motion[:, _R_HIP]
    return np.arctan2(v[:, 2], v[:, 0])


def _yaw_rotation(angle: np.ndarray) -> np.ndarray:
    """(T,) radians -> (T, 3, 3) rotations about +Y that turn a heading of 0 into `angle` as pelvis_yaw measures."""
    c, s = np.cos(angle), np.sin(angle)
    R = np.zeros((len(angle), 3, 3))
    R[:, 0, 0], R[:, 0, 2], R[:, 1, 1], R[:, 2, 0], R[:, 2, 2] = c, -s, 1, s, c
    return R


def recombine(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Root and legs of `lower`, everything above the pelvis from `upper` (same length T), turned each
    frame by the difference of the two pelvis headings so that the trunk faces where the hips face as
    it did in its own take."""
    if lower.shape != upper.shape:
        raise ValueError(f"takes to recombine differ in shape: {lower.shape} vs {upper.shape}")
    turn = _yaw_rotation(pelvis_yaw(lower) - pelvis_yaw(upper))
    relative = upper[:, UPPER] - upper[:, :1]
    out = lower.copy()
    out[:, UPPER] = lower[:, :1] + np.einsum("tij,tkj->tki", turn, relative)
    return out


@dataclass
class Proportions:
    """Spread of body proportions (log-normal sigmas of scale factors)."""
    stature: float = 0.08  # the whole body: ~1.45-1.95 m for a 1.7 m take within two sigma
    group: float = 0.07  # legs, arms, torso, head, hip width, shoulder width: each its own factor
    bone: float = 0.03  # then every bone (left and right alike)
    child_probability: float = 0.1  # a child: 0.55-0.85 of the size, head relatively bigger, legs shorter
    # Rescale the body-part and bone factors so that the sum of the bone lengths stays the take's: the shape
    # varies, the size only by `stature`. Size is what 2D alone cannot tell and what P1 pays for in full.
    keep_size: bool = False

    @classmethod
    def named(cls, name: str) -> "Proportions":
        """"wide": the spread above; "adult": the same shapes at the baseline recipe's adult sizes (the summed
        bone length kept, then a 6% stature spread as without pose augmentation, no children)."""
        if name == "wide":
            return cls()
        if name == "adult":
            return cls(stature=0.06, child_probability=0.0, keep_size=True)
        raise ValueError(f"unknown body proportions {name!r} (wide, adult)")

    def with_shape_spread(self, factor: float) -> "Proportions":
        """The body-part and per-bone spreads times `factor` (stature and children kept): above 1, bodies shaped
        further from the takes'; below 1, nearer, for bone lengths a lift can predict."""
        return replace(self, group=self.group * factor, bone=self.bone * factor)


def vary_proportions(rng: np.random.Generator, motion: np.ndarray, spread: Proportions = Proportions()) -> np.ndarray:
    """The same motion performed by a person of other proportions: every bone keeps its direction,
    its length changes by the product of a whole-body, a body-part and a per-bone factor."""
    factors = np.ones(H36M.num_joints)
    for joints in _BONE_GROUPS.values():
        factors[list(joints)] *= np.exp(rng.normal(0, spread.group))
    flip = H36M.flip_permutation()
    for j in range(1, H36M.num_joints):
        if flip[j] >= j:
            factors[j] *= np.exp(rng.normal(0, spread.bone))
            factors[flip[j]] = factors[j]
    if spread.keep_size:
        lengths = np.linalg.norm(motion[0, 1:] - motion[0, list(H36M.parents[1:])], axis=-1)
        factors[1:] *= lengths.sum() / (factors[1:] * lengths).sum()
    size = np.exp(rng.normal(0, spread.stature))
    if rng.random() < spread.child_probability:
        size *= rng.uniform(0.55, 0.85)
        factors[list(_BONE_GROUPS["head"])] *= 1.25  # a child's head is a larger part of its height
        factors[list(_BONE_GROUPS["legs"])] *= 0.9
    out = motion.copy()
    for j, parent in enumerate(H36M.parents):  # parents come before children in H36M order
        if parent >= 0:
            out[:, j] = out[:, parent] + factors[j] * (motion[:, j] - motion[:, parent])
    root = motion[:, :1]
    return root + size * (out - root)


@dataclass
class AngleSpread:
    """Standard deviations, in degrees, of the joint-angle offsets (elbows and knees: of log factors). Each
    offset is drawn per motion as a value at its middle frame and a rate of change, so the posture drifts
    slowly, as a person's own would: by about one standard deviation in `drift_seconds`."""
    trunk: float = 8.0  # bent forward or back, sideways, and twisted at the spine
    neck: float = 12.0  # nodded and turned
    shoulder: float = 15.0  # the upper arm turned about the shoulder, about an axis fixed to the chest
    hip: float = 10.0  # the thigh turned about the hip, about an axis fixed to the pelvis
    elbow: float = 0.25  # more or less bent: the log of a factor on the angle from straight
    knee: float = 0.2
    max_flexion: float = 150.0  # elbows and knees bend at most this far (degrees from straight)
    drift_seconds: float = 5.0

    def scaled(self, factor: float) -> "AngleSpread":
        """Every joint's spread times `factor` (the flexion limit and the drift's pace kept)."""
        return replace(self, **{name: getattr(self, name) * factor
                                for name in ("trunk", "neck", "shoulder", "hip", "elbow", "knee")})


_J = {name: i for i, name in enumerate(H36M.joint_names)}
_UP = np.array([0.0, 1.0, 0.0])


def _rotate(points: np.ndarray, centre: np.ndarray, axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """(T, k, 3) points turned about (T, 3) centres and (T, 3) unit axes by (T,) radians (right-hand rule)."""
    half = angle[:, None] / 2
    turn = np.concatenate([np.cos(half), np.sin(half) * axis], axis=-1)[:, None]  # (T, 1, 4) unit quaternions
    return centre[:, None] + qrot(turn, points - centre[:, None])


def body_frames(left: np.ndarray, up: np.ndarray) -> np.ndarray:
    """(T, 3, 3) body frames from (T, 3) left and up directions (up made orthogonal to left), columns: the person's
    left, up and forward (the way the face points)."""
    left = unit(left)
    up = unit(up - (up * left).sum(-1, keepdims=True) * left)
    return np.stack([left, up, np.cross(left, up)], axis=-1)


def _pelvis_frame(m: np.ndarray) -> np.ndarray:
    left = m[:, _J["left_hip"]] - m[:, _J["right_hip"]]
    left[:, 1] = 0.0  # the pelvis frame stays upright: hips bend against the vertical
    return body_frames(left, np.broadcast_to(_UP, left.shape))


def _chest_frame(m: np.ndarray) -> np.ndarray:
    return body_frames(m[:, _J["left_shoulder"]] - m[:, _J["right_shoulder"]], m[:, _J["thorax"]] - m[:, _J["spine"]])


LIMBS = {"arm": (("shoulder", "elbow", "wrist"), _chest_frame), "leg": (("hip", "knee", "foot"), _pelvis_frame)}


def recombine_limb(body: np.ndarray, donor: np.ndarray, side: str, limb: str = "arm") -> np.ndarray:
    """`body` (T, 17, 3) with the `side` ("left" / "right") `limb`'s ("arm": elbow and wrist, from the chest;
    "leg": knee and foot, from the upright pelvis) two bones pointing, in body's frame of that trunk part, where
    the donor's (same length T) point in the donor's; every bone keeps body's length, every other joint stays."""
    if body.shape != donor.shape:
        raise ValueError(f"takes to recombine differ in shape: {body.shape} vs {donor.shape}")
    names, frame = LIMBS[limb]
    root, middle, end = (_J[f"{side}_{j}"] for j in names)
    to_body = frame(body) @ np.swapaxes(frame(donor), -1, -2)  # donor's trunk frame -> body's
    out = body.copy()
    for parent, child in ((root, middle), (middle, end)):
        length = np.linalg.norm(body[:, child] - body[:, parent], axis=-1, keepdims=True)
        direction = unit(np.einsum("tij,tj->ti", to_body, donor[:, child] - donor[:, parent]))
        out[:, child] = out[:, parent] + length * direction
    return out


def _bend(m: np.ndarray, joint: int, end: int, factor: np.ndarray, max_flexion: float) -> None:
    """Bend the hinge at `joint` (elbow, knee) `factor` (T,) times as far from straight as it is, in place, up
    to max_flexion radians. A factor rather than an added angle: a straight limb has no defined hinge axis
    (the direction it would bend depends on a rotation the joint positions do not show), and a factor leaves
    it straight instead of bending it whichever way the noise of a nearly straight limb points."""
    upper = unit(m[:, joint] - m[:, H36M.parents[joint]])
    lower = unit(m[:, end] - m[:, joint])
    now = np.arccos(np.clip((upper * lower).sum(-1), -1.0, 1.0))
    wanted = np.minimum(now * factor, np.maximum(max_flexion, now))
    m[:, [end]] = _rotate(m[:, [end]], m[:, joint], unit(np.cross(upper, lower)), wanted - now)


def vary_joint_angles(rng: np.random.Generator, motion: np.ndarray, spread: AngleSpread = AngleSpread(),
                      fps: float = 50.0) -> np.ndarray:
    """The motion with every joint's angle offset (slowly varying, `AngleSpread`): trunk, neck, shoulders,
    elbows, hips, knees, each side its own. Rotations about the joints, so every bone keeps its length; the
    pelvis, hips and spine joint stay where they were."""
    t = (np.arange(len(motion)) - (len(motion) - 1) / 2) / (fps * spread.drift_seconds)

    def offset(sigma_deg: float) -> np.ndarray:  # (T,) radians
        return np.radians(drift(sigma_deg))

    def drift(sigma: float) -> np.ndarray:  # (T,): a value at the middle frame and a rate of change
        a, b = rng.normal(0.0, sigma, 2)
        return a + b * t

    def turn(joints, about: int, axis: np.ndarray, angle: np.ndarray) -> None:
        m[:, joints] = _rotate(m[:, joints], m[:, about], axis, angle)

    m = motion.copy()
    pelvis = _pelvis_frame(m)
    above_spine = list(range(_J["thorax"], H36M.num_joints))
    spine = _J["spine"]
    turn(above_spine, spine, pelvis[..., 0], offset(spread.trunk))  # forward / back
    turn(above_spine, spine, pelvis[..., 2], offset(spread.trunk))  # sideways
    turn(above_spine, spine, unit(m[:, _J["thorax"]] - m[:, spine]), offset(spread.trunk))  # twist
    chest = _chest_frame(m)
    head = [_J["neck_nose"], _J["head"]]
    turn(head, _J["thorax"], chest[..., 0], offset(spread.neck))
    turn(head, _J["thorax"], chest[..., 1], offset(spread.neck))
    for side in ("left", "right"):
        shoulder, elbow, wrist = (_J[f"{side}_{j}"] for j in ("shoulder", "elbow", "wrist"))
        turn([elbow, wrist], shoulder, chest @ unit(rng.normal(size=3)), offset(spread.shoulder))
        _bend(m, elbow, wrist, np.exp(drift(spread.elbow)), np.radians(spread.max_flexion))
        hip, knee, foot = (_J[f"{side}_{j}"] for j in ("hip", "knee", "foot"))
        turn([knee, foot], hip, pelvis @ unit(rng.normal(size=3)), offset(spread.hip))
        _bend(m, knee, foot, np.exp(drift(spread.knee)), np.radians(spread.max_flexion))
    return m


def _segment_frames(m: np.ndarray) -> np.ndarray:
    """(T, 17, 3, 3) a frame per joint of the body part it sits on, columns left, up, forward: the upright
    pelvis for the root and hips, the chest for the spine, thorax, head and shoulders, and for a limb joint (elbow,
    wrist, knee, foot) its bone from the parent (up along the bone towards the parent, left as near its trunk
    part's left, as `LIMBS` pairs them, as it can be)."""
    frames = np.repeat(_chest_frame(m)[:, None], H36M.num_joints, axis=1)
    frames[:, [0, _R_HIP, _L_HIP]] = _pelvis_frame(m)[:, None]
    for names, trunk_frame in LIMBS.values():
        trunk = trunk_frame(m)
        for joint in (_J[f"{side}_{name}"] for side in ("left", "right") for name in names[1:]):
            up = unit(m[:, H36M.parents[joint]] - m[:, joint])
            # A limb along the trunk's left (an arm held out sideways) has no left to lean on: use forward there.
            along_left = np.abs((up * trunk[..., 0]).sum(-1, keepdims=True)) > 0.9
            reference = np.where(along_left, trunk[..., 2], trunk[..., 0])
            left = unit(reference - (reference * up).sum(-1, keepdims=True) * up)
            frames[:, joint] = np.stack([left, up, np.cross(left, up)], axis=-1)
    return frames


def vary_joint_definitions(rng: np.random.Generator, motion: np.ndarray, sigma: float) -> np.ndarray:
    """The motion with every joint moved by its own constant offset, Gaussian with `sigma` metres per axis, in
    the frame of the body part it sits on (`_segment_frames`): the same motion as another rig would mark it.
    Only that joint moves (a definition, not a posture: its children stay), so bone lengths change a little."""
    offsets = rng.normal(0.0, sigma, (H36M.num_joints, 3))
    return motion + np.einsum("tjik,jk->tji", _segment_frames(motion), offsets)


def reverse(motion: np.ndarray) -> np.ndarray:
    """The motion played backwards."""
    return motion[::-1].copy()
