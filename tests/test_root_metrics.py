"""Root-motion metrics (vp3d.training.metrics.root_errors, foot_skate): what the trajectory model is judged by."""

from __future__ import annotations

import numpy as np

from vp3d.training.metrics import foot_skate, root_errors
from vp3d.world import ANKLE_HEIGHT, ANKLES


def test_root_motion_error_ignores_a_constant_offset_but_root_error_does_not():
    t = np.linspace(0, 2, 101)
    truth = np.stack([np.sin(t), 0 * t, 4 + t], axis=1)
    shifted = truth + [0.0, 0.1, -0.5]
    root, motion = root_errors(shifted, truth)
    assert np.isclose(root, np.linalg.norm([0.0, 0.1, -0.5]))
    assert motion < 1e-12
    wobbly = truth + np.stack([0.02 * np.sin(9 * t), 0 * t, 0 * t], axis=1)
    assert 0.005 < root_errors(wobbly, truth)[1] < 0.02


def standing(frames: int, foot_path: np.ndarray) -> np.ndarray:
    """(T, 17, 3) poses whose right ankle follows `foot_path` (T, 3) on the floor; the left foot 30 cm up."""
    pos = np.zeros((frames, 17, 3))
    pos[:, :, 1] = 1.0
    pos[:, ANKLES[0]] = foot_path
    pos[:, ANKLES[1]] = foot_path + [0.2, 0.3, 0.0]
    return pos


def test_a_planted_foot_does_not_skate_a_sliding_one_does_at_its_speed():
    frames, fps = 50, 25.0
    planted = np.tile([0.0, ANKLE_HEIGHT, 0.0], (frames, 1))
    assert foot_skate(standing(frames, planted), fps, ANKLES, ANKLE_HEIGHT) == 0
    sliding = planted + np.outer(np.arange(frames) / fps, [0.3, 0.0, 0.4])  # 0.5 m/s along the floor
    assert np.isclose(foot_skate(standing(frames, sliding), fps, ANKLES, ANKLE_HEIGHT), 0.5)


def test_a_foot_in_the_air_is_not_skating():
    frames, fps = 50, 25.0
    flying = np.tile([0.0, ANKLE_HEIGHT + 0.2, 0.0], (frames, 1)) + np.outer(np.arange(frames) / fps, [1.0, 0, 0])
    pos = standing(frames, flying)
    pos[:, ANKLES[1], 1] = flying[:, 1] + 0.1
    assert np.isnan(foot_skate(pos, fps, ANKLES, ANKLE_HEIGHT))
