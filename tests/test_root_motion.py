"""Root motion fitted to the 2D (vp3d.root_motion, `--root-motion`): the root is where the pose reprojects, depth
is smoothed more than the position across the image, a standing foot does not slide, and on real mocap seen by
virtual cameras it beats a root that stays put, on both validation capture systems."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import require_shared, vp3d_infer
from poses import standing

from vp3d.lifter.inference import Lifter
from vp3d.lifter.weights import default_checkpoint
from vp3d.mocap import load_bvh
from vp3d.root_motion import fit_root, lock_feet, root_motion, smooth_root
from vp3d.training import metrics
from vp3d.training.synthetic import NoiseModel, random_camera, render_view
from vp3d.world import ANKLE_HEIGHT, ANKLES, to_world

FPS = 50.0


def camera_frame(pose_world: np.ndarray) -> np.ndarray:
    """A Y-up world pose -> the camera frame (x right, y down, z ahead) of a camera looking at it: (17, 3)."""
    return pose_world * np.array([1.0, -1.0, -1.0])


def test_the_fit_finds_the_translation_that_reprojects_the_pose():
    rng = np.random.default_rng(0)
    pose = camera_frame(standing())
    pose -= pose[:1]
    truth = np.stack([rng.uniform(-1, 1, 30), rng.uniform(-0.5, 0.5, 30), rng.uniform(2, 8, 30)], axis=1)
    focal = 1.7
    points = pose[None] + truth[:, None]
    kp = focal * points[..., :2] / points[..., 2:]
    np.testing.assert_allclose(fit_root(np.repeat(pose[None], 30, 0), kp, focal), truth, atol=1e-6)
    # a pose lifted at the wrong size in some frames is brought to the clip's median size first
    sizes = np.where(np.arange(30) % 5 == 0, 1.2, 1.0)[:, None, None]
    np.testing.assert_allclose(fit_root(pose[None] * sizes, kp, focal), truth, atol=1e-6)


def test_depth_is_smoothed_more_than_the_position_across_the_image():
    t = np.arange(500) / FPS
    wobble = 0.05 * np.sin(2 * np.pi * 3 * t)  # 3 Hz, 5 cm
    traj = np.stack([t + wobble, 0 * t, 4 + wobble], axis=1)
    out = smooth_root(traj, FPS)
    middle = slice(150, 350)
    lateral_left = np.abs(out[middle, 0] - t[middle]).max()
    depth_left = np.abs(out[middle, 2] - 4).max()
    assert depth_left < 0.005 < lateral_left < 0.05  # depth wobble (nearly) gone, lateral only damped
    np.testing.assert_allclose(out[middle, 0].mean(), t[middle].mean(), atol=0.01)  # the walk is kept


def test_a_standing_foot_stops_sliding_and_the_slow_travel_stays():
    T = 300
    pose = np.repeat(camera_frame(standing())[None], T, 0)
    pose -= pose[:, :1]
    t = np.arange(T) / FPS
    jitter = 0.03 * np.sin(2 * np.pi * 4 * t)  # what a noisy fit adds: the feet slide back and forth

    def foot_speed(tr):
        return 100 * metrics.foot_skate(to_world(pose, tr).positions, FPS, ANKLES, ANKLE_HEIGHT)

    in_place = np.stack([jitter, 0 * t, 5 + 0 * t], axis=1)
    assert foot_speed(lock_feet(pose, in_place, FPS)) < 0.3 * foot_speed(in_place)
    drifting = in_place + np.stack([0.3 * t, 0 * t, 0 * t], axis=1)  # a slow drift across the image stays
    locked = lock_feet(pose, drifting, FPS)
    middle = slice(75, 225)  # away from the clip's ends
    assert np.polyfit(t[middle], locked[middle, 0], 1)[0] == pytest.approx(0.3, abs=0.05)


def test_the_lower_foot_holds_the_root_and_a_swinging_foot_does_not_move_it():
    """One foot on the floor, the other raised 20 cm and swinging 30 cm back and forth (a kick, a step in the
    air): the root keeps the standing foot in place instead of following the swing or the fit's jitter."""
    T = 300
    t = np.arange(T) / FPS
    world = np.repeat(standing()[None], T, 0)
    right, left = ANKLES
    world[:, left, 1] += 0.2
    world[:, left, 0] += 0.15 * np.sin(2 * np.pi * 1.5 * t)
    pose = camera_frame(world)
    pose -= pose[:, :1]
    in_place = np.stack([0.03 * np.sin(2 * np.pi * 4 * t), 0 * t, 5 + 0 * t], axis=1)
    locked = lock_feet(pose, in_place, FPS)
    standing_foot = (pose[:, right] + locked)[:, [0, 2]]
    assert np.abs(np.diff(standing_foot, axis=0)).max() < 0.1 * np.abs(np.diff(in_place[:, [0, 2]], axis=0)).max()


@pytest.fixture(scope="module")
def lifter():
    return Lifter.load(default_checkpoint())


@pytest.mark.parametrize("take", [("mocap", "cmu_bvh", "02", "02_01.bvh"),
                                  ("mocap_validation", "bandai2", "dataset-2_walk-turn-left_active_001.bvh")],
                         ids=["cmu-walk", "bandai2-walk"])
def test_on_validation_walks_the_root_moves_like_the_truth_and_the_feet_slide_less(lifter, take):
    """Three virtual cameras on a validation walk (never trained on), detector-like 2D, the shipped lifter: the
    fitted root's motion error is under half that of a root held at its true mean, and the lower foot slides
    less than with root-relative poses."""
    motion = load_bvh(require_shared(*take)).positions
    rng = np.random.default_rng(11)
    for _ in range(3):
        cam = random_camera(rng, motion)
        kp, _, truth, intr = render_view(rng, motion, NoiseModel(), cam)
        poses = lifter.lift(kp, focal=float(intr[0])).poses
        traj = root_motion(poses, kp, float(intr[0]), FPS)
        held = np.repeat(truth.mean(0, keepdims=True), len(truth), 0)
        assert metrics.root_errors(traj, truth)[1] < 0.5 * metrics.root_errors(held, truth)[1]
        skate = metrics.foot_skate(to_world(poses, traj).positions, FPS, ANKLES, ANKLE_HEIGHT)
        assert skate < metrics.foot_skate(to_world(poses).positions, FPS, ANKLES, ANKLE_HEIGHT)


def bvh_root(path) -> np.ndarray:
    """(frames, 3): the root's position channels of a BVH file's motion lines."""
    motion = [line for line in path.read_text().splitlines()[1:] if line[:1].isdigit() or line[:1] == "-"]
    return np.array([[float(v) for v in line.split()[:3]] for line in motion])


def test_root_motion_on_the_command_line(clip, tmp_path):
    """`vp3d-infer --root-motion`: root_camera on every frame of the JSON, said where it comes from, and the BVH
    root travels; without it the joints stay root-relative."""
    out = vp3d_infer(clip, "--no-render", "--json", tmp_path / "r.json", "--bvh", tmp_path / "r.bvh",
                     "--root-motion", "--quiet")
    assert out.returncode == 0, out.stderr
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["joints3d"]["root_trajectory"] is True
    assert "fitted" in doc["joints3d"]["root_source"]
    roots = np.array([f["root_camera"] for f in doc["frames"]])
    assert roots.shape == (len(doc["frames"]), 3) and np.all((roots[:, 2] > 1) & (roots[:, 2] < 20))
    # Three seconds of tai chi: the person steps about half a metre (metres in vp3d's BVH); root-relative
    # output keeps the root where it is.
    assert np.ptp(bvh_root(tmp_path / "r.bvh")[:, [0, 2]], axis=0).max() > 0.2
    plain = vp3d_infer(clip, "--no-render", "--json", tmp_path / "p.json", "--bvh", tmp_path / "p.bvh", "--quiet")
    assert plain.returncode == 0, plain.stderr
    assert np.ptp(bvh_root(tmp_path / "p.bvh")[:, [0, 2]], axis=0).max() < 1e-6
    head = json.loads((tmp_path / "p.json").read_text())["joints3d"]
    assert head["root_trajectory"] is False and "root_source" not in head
