"""Lifted joints moved toward their 2D (vp3d.lifter.image_plane): depths stay, the image-plane positions go
part of the way onto the 2D points' rays, and a pose that already agrees with its 2D does not move."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require_shared, small_model, walking_2d

from vp3d.lifter.camera import project_to_2d_linear
from vp3d.lifter.checkpoint import LifterMeta, save_checkpoint
from vp3d.lifter.image_plane import root_on_the_2d, toward_the_2d
from vp3d.lifter.inference import DEFAULT_FOCAL, Lifter
from vp3d.lifter.weights import default_checkpoint
from vp3d.mocap import load_bvh

FOCAL = 1.6  # normalized: about 64 degrees of horizontal view


def a_take(frames: int = 120) -> tuple[np.ndarray, np.ndarray]:
    """(poses (T, 17, 3) root-relative in a camera frame, roots (T, 3)): a real walk 4 m in front of the camera."""
    world = load_bvh(require_shared("mocap", "cmu_bvh", "07", "07_01.bvh"), fps=50).positions[:frames]
    poses = (world - world[:, :1]) * np.array([1.0, -1.0, -1.0])  # y down, z away: the camera's axes
    roots = np.stack([0.3 + 0.1 * np.sin(np.arange(frames) / 20), np.full(frames, 0.2), np.full(frames, 4.0)], -1)
    return poses.astype(np.float64), roots


def seen(poses: np.ndarray, roots: np.ndarray) -> np.ndarray:
    return project_to_2d_linear(poses + roots[:, None], np.array([FOCAL, FOCAL, 0.0, 0.0]))


def test_the_root_that_makes_a_pose_project_onto_its_2d_is_found():
    poses, roots = a_take()
    np.testing.assert_allclose(root_on_the_2d(poses, seen(poses, roots), FOCAL), roots, atol=1e-9)


def test_a_pose_that_agrees_with_its_2d_stays_where_it_is():
    poses, roots = a_take()
    for weight in (0.5, 1.0):
        np.testing.assert_allclose(toward_the_2d(poses, seen(poses, roots), FOCAL, weight, 4.0), poses, atol=1e-9)


def test_joints_keep_their_depth_and_move_across_the_image_by_the_weight():
    """A lift that strays across the image (a wrist 8 cm off, sideways) comes back about `weight` of the way;
    with weight 1 and no smoothing every joint lands on its ray: the pose projects onto the 2D exactly, and with
    the true depths it is the true pose again, to millimetres."""
    poses, roots = a_take()
    kp = seen(poses, roots)
    strayed = poses.copy()
    strayed[:, 16, 0] += 0.08  # right wrist (H36M 16)
    for weight in (0.5, 1.0):
        moved = toward_the_2d(strayed, kp, FOCAL, weight, 0.0)
        np.testing.assert_allclose(moved[..., 2], strayed[..., 2], atol=1e-12)  # depths: the root's is 0
        wrist_off = np.linalg.norm(moved[:, 16] - poses[:, 16], axis=-1)
        assert np.all(wrist_off < (1 - 0.8 * weight) * 0.08 + 1e-3)
        assert np.linalg.norm(moved - poses, axis=-1).mean() < np.linalg.norm(strayed - poses, axis=-1).mean()
    exact = toward_the_2d(strayed, kp, FOCAL, 1.0, 0.0)
    np.testing.assert_allclose(seen(exact, root_on_the_2d(exact, kp, FOCAL)), kp, atol=1e-9)
    np.testing.assert_allclose(exact, poses, atol=0.01)  # the root fit gave way a little to the stray wrist


def test_the_2d_s_jitter_is_smoothed_before_it_moves_joints():
    """White 2D noise (about a centimetre) moves the joints from frame to frame far less with the offsets
    smoothed over time."""
    poses, roots = a_take()
    noisy = seen(poses, roots) + np.random.default_rng(0).normal(0, 0.004, (len(poses), 17, 2))
    jerk = {s: np.abs(np.diff(toward_the_2d(poses, noisy, FOCAL, 0.5, s) - poses, axis=0)).mean() for s in (0, 4)}
    assert jerk[4] < 0.2 * jerk[0]


def test_shapes_that_differ_are_refused():
    poses, roots = a_take(10)
    with pytest.raises(ValueError, match="differ"):
        toward_the_2d(poses, seen(poses, roots)[:9], FOCAL, 0.5, 4.0)


def _meta(**declared) -> LifterMeta:
    return LifterMeta(**{"filter_widths": (3, 3, 3, 3, 3), "channels": 16, "causal": False, "num_joints_in": 17,
                         "in_features": 2, "num_joints_out": 17, "input_layout": "h36m", "fps": 50.0, **declared})


def test_weights_that_declare_it_lift_toward_their_2d_in_both_engines(tmp_path):
    """meta.image_plane_weight / image_plane_smoothing travel in the file (own and light form): the lift is the
    raw one moved toward the 2D with the given focal length (the default field of view's without one), the
    lookahead grows by the smoothing's reach; smooth=False and files without it give the network's output."""
    from vp3d.lifter.light_weights import write_light

    model = small_model()
    save_checkpoint(tmp_path / "raw.bin", _meta(), model)
    save_checkpoint(tmp_path / "toward.bin", _meta(image_plane_weight=0.5, image_plane_smoothing=2.0), model)
    kp = walking_2d(80)
    raw, toward = Lifter.load(tmp_path / "raw.bin"), Lifter.load(tmp_path / "toward.bin")
    for focal in (None, 2.0):
        expected = toward_the_2d(raw.lift(kp).poses, kp, focal or DEFAULT_FOCAL, 0.5, 2.0)
        result = toward.lift(kp, focal=focal)
        np.testing.assert_allclose(result.poses, expected, atol=1e-5)
        assert result.image_plane_weight == 0.5
    assert np.abs(expected - raw.lift(kp).poses).max() > 1e-3  # it did move them
    np.testing.assert_allclose(toward.lift(kp, smooth=False).poses, raw.lift(kp).poses, atol=1e-6)
    assert toward.lift(kp, smooth=False).image_plane_weight == raw.lift(kp).image_plane_weight == 0
    assert toward.lookahead() == raw.lookahead() + 8
    light = Lifter.load(write_light(tmp_path / "toward.bin"), engine="numpy")
    np.testing.assert_allclose(light.lift(kp, focal=2.0).poses, expected, atol=1e-4)


def test_a_lifter_whose_2d_holds_other_joints_than_its_output_does_not_move_them(tmp_path):
    """COCO input (the official Detectron files): the 2D points are not the output's joints."""
    model = small_model()
    save_checkpoint(tmp_path / "coco.bin", _meta(input_layout="coco", image_plane_weight=0.5,
                                                 image_plane_smoothing=2.0), model)
    lifter = Lifter.load(tmp_path / "coco.bin")
    kp = walking_2d(40)
    np.testing.assert_allclose(lifter.lift(kp).poses, lifter.lift(kp, smooth=False).poses, atol=1e-6)
    assert lifter.lift(kp).image_plane_weight == 0


def test_the_shipped_lifter_s_3d_agrees_better_with_its_2d_and_with_the_truth():
    """The shipped weights declare the step: on validation takes (subject 02, never trained on) seen by a virtual
    camera through detector-like noise, the lifted joints lie closer to their 2D points' rays than the network's raw
    output and, on average over the takes, closer to the true joints (by 2 mm over both validation sets in the
    card; by half a millimetre at least over these six)."""
    from vp3d.training.metrics import mpjpe
    from vp3d.training.synthetic import NoiseModel, random_camera, render_view

    lifter = Lifter.load(default_checkpoint())
    assert lifter.meta.image_plane_weight > 0
    rng = np.random.default_rng(0)
    residual, error = {True: [], False: []}, {True: [], False: []}
    for trial in ("02_01", "02_02", "02_03", "02_04", "02_05", "02_06"):
        motion = load_bvh(require_shared("mocap", "cmu_bvh", "02", f"{trial}.bvh"), fps=50).positions[:400]
        camera = random_camera(rng, motion)
        kp, truth, _, intrinsics = render_view(rng, motion, NoiseModel(), camera)
        for declared in (True, False):
            poses = lifter.lift(kp, smooth=declared).poses.astype(np.float64)
            root = root_on_the_2d(poses, kp - intrinsics[2:], float(intrinsics[0]))
            reprojected = project_to_2d_linear(poses + root[:, None], intrinsics.astype(np.float64))
            residual[declared].append(np.linalg.norm(reprojected - kp, axis=-1).mean())
            error[declared].append(mpjpe(poses, truth))
    assert np.mean(residual[True]) < 0.85 * np.mean(residual[False])
    assert np.mean(error[True]) < np.mean(error[False]) - 0.0005  # metres: on average nearer the truth
