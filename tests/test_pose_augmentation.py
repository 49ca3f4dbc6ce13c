"""Pose-space augmentation (vp3d.training.pose_augmentation): new motion made from real takes must still be a
body — the parts it takes keep their shape, bones keep their directions, left and right stay alike."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require_shared

from vp3d.training.pose_augmentation import (LOWER, UPPER, Proportions, pelvis_yaw, recombine, reverse,
                                           vary_proportions)
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


def test_named_proportions_refuse_an_unknown_name():
    with pytest.raises(ValueError, match="unknown body proportions"):
        Proportions.named("giant")


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
