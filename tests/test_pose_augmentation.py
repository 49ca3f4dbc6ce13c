"""Pose-space augmentation (vp3d.training.pose_augmentation): new motion made from real takes must still be a
body — the parts it takes keep their shape, bones keep their directions, left and right stay alike."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require_shared

from vp3d.training.pose_augmentation import (LOWER, UPPER, AngleSpread, Proportions, _segment_frames, body_frames,
                                           pelvis_yaw, recombine, recombine_limb, reverse, vary_joint_angles,
                                           vary_joint_definitions, vary_proportions)
from vp3d.training.train import MotionSampler
from vp3d.mocap import load_bvh
from vp3d.skeleton import H36M

BONES = H36M.bones()


def take(trial: str, frames: int = 200) -> np.ndarray:
    path = require_shared("mocap", "cmu_bvh", trial[:2], f"{trial}.bvh")
    return load_bvh(path, fps=50).positions[:frames].astype(np.float64)


def bone_vectors(motion: np.ndarray) -> np.ndarray:
    return np.stack([motion[:, j] - motion[:, p] for p, j in BONES], axis=1)


def yaw_of(v: np.ndarray) -> np.ndarray:
    return np.arctan2(v[..., 2], v[..., 0])


def test_recombined_lower_body_is_the_lower_take():
    walk, dance = take("07_01", 100), take("05_02", 100)  # a walk and modern dance
    mixed = recombine(walk, dance)
    np.testing.assert_allclose(mixed[:, (0, *LOWER)], walk[:, (0, *LOWER)])


def test_recombined_upper_body_keeps_its_shape_and_faces_with_the_hips():
    lower, upper = take("07_01", 100), take("05_02", 100)
    mixed = recombine(lower, upper)
    own = upper[:, UPPER] - upper[:, :1]
    new = mixed[:, UPPER] - mixed[:, :1]
    # Only turned about the vertical: heights and all distances within the upper body are unchanged.
    np.testing.assert_allclose(new[..., 1], own[..., 1], atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(new, axis=-1), np.linalg.norm(own, axis=-1), atol=1e-9)
    # The shoulders face relative to the hips as they did in their own take.
    shoulders = H36M.joint_names.index("left_shoulder"), H36M.joint_names.index("right_shoulder")

    def twist(m):
        d = yaw_of(m[:, shoulders[0]] - m[:, shoulders[1]]) - pelvis_yaw(m)
        return np.angle(np.exp(1j * d))
    np.testing.assert_allclose(twist(mixed), twist(upper), atol=1e-6)
    assert np.abs(twist(lower) - twist(upper)).max() > 0.1  # the two takes did differ


def test_recombining_takes_of_different_lengths_is_refused():
    with pytest.raises(ValueError, match="shape"):
        recombine(take("07_01", 100), take("05_02", 90))


J = {name: i for i, name in enumerate(H36M.joint_names)}


def chest_coordinates(motion: np.ndarray, joint: str, parent: str) -> np.ndarray:
    """(T, 3) unit direction of the bone parent -> joint in the chest's own frame (left, up, forward)."""
    chest = body_frames(motion[:, J["left_shoulder"]] - motion[:, J["right_shoulder"]],
                        motion[:, J["thorax"]] - motion[:, J["spine"]])
    bone = motion[:, J[joint]] - motion[:, J[parent]]
    return np.einsum("tji,tj->ti", chest, bone / np.linalg.norm(bone, axis=-1, keepdims=True))


def pelvis_coordinates(motion: np.ndarray, joint: str, parent: str) -> np.ndarray:
    """(T, 3) the unit bone from parent to joint in the upright pelvis frame (left, up, forward)."""
    left = motion[:, J["left_hip"]] - motion[:, J["right_hip"]]
    left[:, 1] = 0.0
    pelvis = body_frames(left, np.broadcast_to(np.array([0.0, 1.0, 0.0]), left.shape))
    bone = motion[:, J[joint]] - motion[:, J[parent]]
    return np.einsum("tji,tj->ti", pelvis, bone / np.linalg.norm(bone, axis=-1, keepdims=True))


def hip_coordinates(motion: np.ndarray, joint: str, parent: str) -> np.ndarray:
    """(T, 3) the unit bone from parent to joint in the frame of the hips and the spine (whatever the camera)."""
    frame = body_frames(motion[:, J["left_hip"]] - motion[:, J["right_hip"]], motion[:, J["spine"]] - motion[:, J["hip"]])
    bone = motion[:, J[joint]] - motion[:, J[parent]]
    return np.einsum("tji,tj->ti", frame, bone / np.linalg.norm(bone, axis=-1, keepdims=True))


@pytest.mark.parametrize("side, limb, joints, frame", [
    ("left", "arm", ("left_shoulder", "left_elbow", "left_wrist"), chest_coordinates),
    ("right", "leg", ("right_hip", "right_knee", "right_foot"), pelvis_coordinates)])
def test_a_recombined_limb_points_as_the_donor_s_did_from_this_body_s_trunk(side, limb, joints, frame):
    """A walk gets an arm (a leg) of modern dance: its two bones point, from this body's chest (upright pelvis),
    as the donor's did from the donor's; every bone keeps this body's length, every other joint stays."""
    body, donor = take("07_01", 100), take("05_02", 100)
    mixed = recombine_limb(body, donor, side, limb)
    for parent, joint in zip(joints, joints[1:]):
        np.testing.assert_allclose(frame(mixed, joint, parent), frame(donor, joint, parent), atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(bone_vectors(mixed), axis=-1),
                               np.linalg.norm(bone_vectors(body), axis=-1), atol=1e-9)
    moved = [J[joints[1]], J[joints[2]]]
    others = [j for j in range(H36M.num_joints) if j not in moved]
    np.testing.assert_array_equal(mixed[:, others], body[:, others])
    assert np.linalg.norm(mixed[:, moved] - body[:, moved], axis=-1).mean() > 0.05  # metres: another limb


def test_recombining_arms_of_takes_of_different_lengths_is_refused():
    with pytest.raises(ValueError, match="differ in shape"):
        recombine_limb(take("07_01", 100), take("05_02", 90), "right")


def test_varied_proportions_keep_bone_directions_and_symmetry():
    motion = take("09_01")
    rng = np.random.default_rng(3)
    before = bone_vectors(motion)
    for _ in range(20):
        after = bone_vectors(vary_proportions(rng, motion))
        cos = np.sum(before * after, -1) / np.linalg.norm(before, axis=-1) / np.linalg.norm(after, axis=-1)
        np.testing.assert_allclose(cos, 1, atol=1e-9)
        ratio = np.linalg.norm(after, axis=-1) / np.linalg.norm(before, axis=-1)
        np.testing.assert_allclose(ratio, ratio[:1].repeat(len(ratio), 0))  # one factor per bone for the take
        flip = H36M.flip_permutation()
        for k, (_, j) in enumerate(BONES):
            mirror = [i for i, (_, c) in enumerate(BONES) if c == flip[j]][0]
            np.testing.assert_allclose(ratio[0, k], ratio[0, mirror])


def test_varied_proportions_span_tall_short_and_children():
    motion = take("09_01", 20)
    rng = np.random.default_rng(0)
    height = motion[:, H36M.joint_names.index("head"), 1] - motion[:, H36M.joint_names.index("right_foot"), 1]
    sizes = []
    for _ in range(400):
        m = vary_proportions(rng, motion, Proportions())
        h = m[:, H36M.joint_names.index("head"), 1] - m[:, H36M.joint_names.index("right_foot"), 1]
        sizes.append(np.median(h / height))
    sizes = np.array(sizes)
    assert sizes.min() < 0.75 and sizes.max() > 1.15  # well beyond the old +-6%
    assert 0.03 < np.mean(sizes < 0.8) < 0.25  # children (and small adults) now and then, not mostly


def test_adult_proportions_vary_the_shape_at_adult_sizes():
    """"adult": bone lengths still vary as much within a body, but the summed bone length (the size 2D alone
    cannot tell) only by the stature spread, and never a child's."""
    motion = take("09_01", 20)
    rng = np.random.default_rng(0)
    before = np.linalg.norm(bone_vectors(motion)[0], axis=-1)
    sizes, shapes = [], []
    for _ in range(400):
        after = np.linalg.norm(bone_vectors(vary_proportions(rng, motion, Proportions.named("adult")))[0], axis=-1)
        sizes.append(after.sum() / before.sum())
        shapes.append(after / before / sizes[-1])
    sizes, shapes = np.array(sizes), np.array(shapes)
    assert 0.05 < np.std(np.log(sizes)) < 0.07  # the stature spread alone (6%)
    assert sizes.min() > 0.8  # no children
    assert np.std(np.log(shapes), axis=0).mean() > 0.05  # legs, arms, hips... still vary against each other


def test_a_wider_shape_spread_varies_the_shape_more_and_the_size_no_more():
    motion = take("09_01", 20)
    before = np.linalg.norm(bone_vectors(motion)[0], axis=-1)

    def spreads(proportions):
        rng = np.random.default_rng(0)
        after = np.array([np.linalg.norm(bone_vectors(vary_proportions(rng, motion, proportions))[0], axis=-1)
                          for _ in range(400)])
        sizes = after.sum(axis=1) / before.sum()
        return np.std(np.log(sizes)), np.std(np.log(after / before / sizes[:, None]), axis=0).mean()

    size1, shape1 = spreads(Proportions.named("adult"))
    size2, shape2 = spreads(Proportions.named("adult").with_shape_spread(2))
    assert 1.7 < shape2 / shape1 < 2.3
    assert abs(size2 - size1) < 0.01


def test_named_proportions_refuse_an_unknown_name():
    with pytest.raises(ValueError, match="unknown body proportions"):
        Proportions.named("giant")


J = {name: i for i, name in enumerate(H36M.joint_names)}


def flexion_deg(motion: np.ndarray, joint: str, end: str) -> np.ndarray:
    j, e = J[joint], J[end]
    upper = motion[:, j] - motion[:, H36M.parents[j]]
    lower = motion[:, e] - motion[:, j]
    cos = np.sum(upper * lower, -1) / np.linalg.norm(upper, axis=-1) / np.linalg.norm(lower, axis=-1)
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def test_varied_joint_angles_keep_every_bone_length_and_the_pelvis():
    motion = take("05_02")  # modern dance: bent and straight limbs, twists
    rng = np.random.default_rng(5)
    for _ in range(10):
        varied = vary_joint_angles(rng, motion)
        np.testing.assert_allclose(np.linalg.norm(bone_vectors(varied), axis=-1),
                                   np.linalg.norm(bone_vectors(motion), axis=-1), atol=1e-9)
        still = [J["hip"], J["right_hip"], J["left_hip"], J["spine"]]
        np.testing.assert_array_equal(varied[:, still], motion[:, still])


def test_varied_joint_angles_move_the_limbs_by_centimetres_to_decimetres_and_slowly():
    """A new posture, not a new body or new noise: hands and feet move away from where they were by a
    plausible amount, and the change itself moves slower than the motion does."""
    motion = take("07_01")  # a walk
    rng = np.random.default_rng(0)
    ends = [J[j] for j in ("left_wrist", "right_wrist", "left_foot", "right_foot", "head")]
    moved, drift = [], []
    for _ in range(50):
        change = vary_joint_angles(rng, motion) - motion
        moved.append(np.linalg.norm(change[:, ends], axis=-1).mean())
        drift.append(np.linalg.norm(np.diff(change[:, ends], axis=0), axis=-1).mean())
    assert 0.04 < np.median(moved) < 0.2  # metres
    own_speed = np.linalg.norm(np.diff(motion[:, ends], axis=0), axis=-1).mean()
    assert np.median(drift) < 0.25 * own_speed


def test_a_scaled_spread_moves_the_limbs_proportionally_further():
    """`vp3d train --joint-angle-scale 2`: the same draws, every angle offset doubled: hands and feet move about
    twice as far from where they were."""
    motion = take("07_01")
    ends = [J[j] for j in ("left_wrist", "right_wrist", "left_foot", "right_foot", "head")]

    def moved(spread: AngleSpread) -> float:
        rng = np.random.default_rng(0)
        return float(np.median([np.linalg.norm((vary_joint_angles(rng, motion, spread) - motion)[:, ends],
                                               axis=-1).mean() for _ in range(30)]))
    assert AngleSpread().scaled(2).trunk == 16.0 and AngleSpread().scaled(2).max_flexion == 150.0
    assert 1.6 < moved(AngleSpread().scaled(2)) / moved(AngleSpread()) < 2.4


def test_elbows_and_knees_bend_within_their_range_and_a_straight_limb_stays_straight():
    motion = take("05_02")
    straight = motion.copy()  # the right arm held straight through the take
    upper = motion[:, J["right_elbow"]] - motion[:, J["right_shoulder"]]
    forearm = np.linalg.norm(motion[:, J["right_wrist"]] - motion[:, J["right_elbow"]], axis=-1, keepdims=True)
    straight[:, J["right_wrist"]] = straight[:, J["right_elbow"]] + forearm * upper / np.linalg.norm(
        upper, axis=-1, keepdims=True)
    rng = np.random.default_rng(2)
    spread = AngleSpread(elbow=1.0, knee=1.0)  # large factors: the limit must hold
    for _ in range(20):
        varied = vary_joint_angles(rng, straight, spread)
        assert flexion_deg(varied, "right_elbow", "right_wrist").max() < 1e-4
        for joint, end in (("left_elbow", "left_wrist"), ("right_knee", "right_foot"), ("left_knee", "left_foot")):
            before, after = flexion_deg(straight, joint, end), flexion_deg(varied, joint, end)
            assert after.max() <= max(spread.max_flexion, before.max()) + 1e-6
    bent = [flexion_deg(vary_joint_angles(rng, motion), "left_elbow", "left_wrist").mean() for _ in range(50)]
    own = flexion_deg(motion, "left_elbow", "left_wrist").mean()
    assert min(bent) < 0.8 * own and max(bent) > 1.2 * own  # more and less bent than the dancer held it


def test_varied_definitions_move_each_joint_alone_by_centimetres():
    """Another rig's marking of the same motion: every joint sits somewhere else by about sigma per axis, and a
    joint's offset is its own (a knee placed further forward does not move the foot); sigma 0 is the take itself."""
    motion = take("07_01")  # a walk
    rng = np.random.default_rng(3)
    np.testing.assert_array_equal(vary_joint_definitions(rng, motion, 0.0), motion)
    offsets = np.stack([(vary_joint_definitions(rng, motion, 0.02) - motion)[0] for _ in range(200)])
    per_axis = np.linalg.norm(offsets, axis=-1).mean() / (2 * np.sqrt(2 / np.pi))  # a 3D Gaussian's mean norm
    assert 0.018 < per_axis < 0.022
    assert abs(np.corrcoef(offsets[:, J["left_knee"], 1], offsets[:, J["left_foot"], 1])[0, 1]) < 0.2


def test_a_varied_definition_is_fixed_on_its_body_part_as_the_body_moves():
    """A knee marked 3 cm forward stays 3 cm in front of the thigh whichever way the walker turns and bends:
    each joint's offset, in its body part's frame, is one constant for the whole take; and turning the whole
    take turns the varied take with it."""
    motion = take("07_01")
    varied = vary_joint_definitions(np.random.default_rng(4), motion, 0.03)
    local = np.einsum("tjik,tji->tjk", _segment_frames(motion), varied - motion)
    np.testing.assert_allclose(local, np.broadcast_to(local[:1], local.shape), atol=1e-9)
    turn = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])  # a quarter turn about the vertical
    np.testing.assert_allclose(vary_joint_definitions(np.random.default_rng(4), motion @ turn.T, 0.03),
                               varied @ turn.T, atol=1e-9)


def test_reverse_plays_backwards():
    motion = take("09_01", 50)
    np.testing.assert_array_equal(reverse(motion)[0], motion[-1])
    np.testing.assert_array_equal(reverse(reverse(motion)), motion)


def test_sampler_with_pose_augmentation_draws_new_bodies_from_the_training_takes_only():
    """Windows are root-relative poses whose hips width varies more than the takes' own (proportions), and
    the training windows still hold the takes' own motion: a sampler over one still take gives still poses."""
    still = np.repeat(take("09_01", 1), 300, axis=0)  # one frame held: any motion in a window is made up
    sampler = MotionSampler([still], receptive_field=9, causal=False, noise=None, pose_augmentation=True)
    rng = np.random.default_rng(1)
    _, poses = sampler.batch(rng, 64, 4)
    poses = poses.numpy()
    assert np.abs(np.diff(poses, axis=1)).max() < 1e-5
    hips = np.linalg.norm(poses[:, 0, 1] - poses[:, 0, 4], axis=-1)
    assert hips.std() / hips.mean() > 0.05


def test_sampler_with_joint_angles_draws_other_postures_of_a_still_take():
    """With `joint_angles`, windows of one held frame show that person in other postures, each window a
    slowly changing one; without it, every window holds the take's posture (only sizes and mirroring vary)."""
    still = np.repeat(take("09_01", 1), 300, axis=0)
    for joint_angles in (None, AngleSpread()):
        sampler = MotionSampler([still], receptive_field=9, causal=False, noise=None, joint_angles=joint_angles)
        _, poses = sampler.batch(np.random.default_rng(1), 64, 8)
        poses = poses.numpy().astype(np.float64)
        # Elbow angles, the smaller first: neither bone lengths nor mirroring change them.
        elbows = np.sort([flexion_deg(poses[:, 0], "left_elbow", "left_wrist"),
                          flexion_deg(poses[:, 0], "right_elbow", "right_wrist")], axis=0)
        differ = np.abs(elbows - np.median(elbows, axis=1, keepdims=True)).max(axis=0) > 1.0  # degrees
        if joint_angles is not None:
            assert 0.3 < differ.mean() < 0.7  # about half the windows varied
        else:
            assert not differ.any()
        assert np.abs(np.diff(poses, axis=1)).max() < 2e-3  # metres per frame: slow, not noise


@pytest.mark.parametrize("limb", ["arm", "leg"])
def test_sampler_with_limb_recombination_gives_one_body_the_limb_of_another_take(limb):
    """Each arm (leg) comes from another take with the given chance: over two still takes, a window's left upper
    arm (thigh) points from its chest (pelvis) as the other take's does in about P / 2 of the windows (the donor is a
    random take, half the time the same one), and never without recombination. Which body a window shows is told
    by the limb of the other kind, which stays."""
    a, b = take("09_01", 1), take("05_02", 351)[350:]  # standing, and a dance step with the arm raised
    stills = [np.repeat(a, 300, axis=0), np.repeat(b, 300, axis=0)]
    arm = lambda m: chest_coordinates(m, "left_elbow", "left_shoulder")[0]
    leg = lambda m: hip_coordinates(m, "left_knee", "left_hip")[0]
    swapped_limb, kept_limb = (arm, leg) if limb == "arm" else (leg, arm)
    own = {name: swapped_limb(m) for name, m in (("a", a), ("b", b))}
    body_of = {name: kept_limb(m) for name, m in (("a", a), ("b", b))}
    assert np.linalg.norm(own["a"] - own["b"]) > 0.2 and np.linalg.norm(body_of["a"] - body_of["b"]) > 0.2
    for chance, share in ((0.0, (0.0, 0.0)), (0.5, (0.15, 0.35))):
        sampler = MotionSampler(stills, receptive_field=9, causal=False, noise=None,
                                **{f"{limb}_recombination": chance})
        rng = np.random.default_rng(5)
        swapped = []
        for _ in range(200):
            pose = sampler.window(rng, 2)[1].astype(np.float64)  # camera frame: trunk coordinates do not care
            body = min(body_of, key=lambda n: np.linalg.norm(kept_limb(pose) - body_of[n]))
            limb_of = min(own, key=lambda n: np.linalg.norm(swapped_limb(pose) - own[n]))
            swapped.append(limb_of != body)
        assert share[0] <= np.mean(swapped) <= share[1]
