"""The declared steps in torch (vp3d.training.differentiable_steps) compute what the numpy steps the lifter runs
compute, window by window, and pass gradients back to the network's poses."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter1d
from test_image_plane import FOCAL, a_take, seen

from vp3d.lifter.bone_rays import bone_lengths, left_equal_right, toward_bone_lengths, usual_bone_lengths
from vp3d.lifter.causal_steps import CausalSteps, PastMedian
from vp3d.lifter.image_plane import toward_the_2d
from vp3d.lifter.meta import LifterMeta
from vp3d.training import differentiable_steps as steps


def declaring(**declared) -> LifterMeta:
    return LifterMeta(filter_widths=(3, 3, 3, 3, 3), channels=16, causal=False, num_joints_in=17, in_features=2,
                      num_joints_out=17, input_layout="h36m", fps=50.0, **declared)


VERSION_11 = declaring(output_smoothing=1.0, image_plane_weight=0.3, image_plane_smoothing=4.0, bone_rays_weight=0.3,
                       bone_rays_smoothing=4.0, bone_rays_window=121, bone_rays_softness=0.05)


def lifted_windows(frames: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two windows of a real walk as a lifter might give them: (poses (2, L, 17, 3) root-relative with errors in
    depth and across the image, their true 2D (2, L, 17, 2), focal lengths (2,))."""
    rng = np.random.default_rng(0)
    poses, roots = a_take(2 * frames)
    kp = seen(poses, roots)
    lifted = poses + rng.normal(0, 0.03, poses.shape) * np.array([0.5, 0.5, 1.0])
    lifted -= lifted[:, :1]
    return lifted.reshape(2, frames, 17, 3), kp.reshape(2, frames, 17, 2), np.array([FOCAL, FOCAL])


def numpy_steps(poses, kp, focal, declared: LifterMeta) -> np.ndarray:
    """inference.Lifter.lift's order, one clip at a time."""
    out = []
    for p, u, f in zip(poses, kp, focal):
        p = gaussian_filter1d(p, declared.output_smoothing, axis=0, mode="nearest")
        p = toward_the_2d(p, u, f, declared.image_plane_weight, declared.image_plane_smoothing)
        out.append(toward_bone_lengths(p, u, f, declared.bone_rays_weight, declared.bone_rays_smoothing,
                                       declared.bone_rays_window, declared.bone_rays_softness))
    return np.stack(out)


@pytest.mark.parametrize("softness", [0.0, 0.05])
def test_each_window_comes_out_as_the_numpy_steps_make_a_clip_of_it(softness):
    poses, kp, focal = lifted_windows()
    declared = replace(VERSION_11, bone_rays_softness=softness)
    ours = steps.after_steps(*map(torch.from_numpy, (poses, kp, focal)), declared)
    # a micrometre: where a ray misses its sphere, torch's square root is held at 1e-6 (its gradient finite)
    np.testing.assert_allclose(ours.numpy(), numpy_steps(poses, kp, focal, declared), atol=1e-6)


CAUSAL_VERSION_9 = replace(declaring(output_smoothing=1.0, image_plane_weight=0.3, image_plane_smoothing=15.0,
                                     bone_rays_weight=0.2, bone_rays_smoothing=15.0, bone_rays_window=121,
                                     bone_rays_softness=0.05), causal=True)


@pytest.mark.parametrize("softness", [0.0, 0.05])
def test_a_causal_lifter_s_windows_come_out_as_its_causal_steps_make_a_clip_of_them(softness):
    poses, kp, focal = lifted_windows()
    declared = replace(CAUSAL_VERSION_9, bone_rays_softness=softness)
    ours = steps.after_steps(*map(torch.from_numpy, (poses, kp, focal)), declared)
    theirs = np.stack([CausalSteps(declared, f, rays=True).push(p, u) for p, u, f in zip(poses, kp, focal)])
    np.testing.assert_allclose(ours.numpy(), theirs, atol=1e-6)


def test_the_causal_steps_look_only_at_the_past():
    """A frame's output may not wait for later frames (live mode): changing the last frames changes nothing before."""
    poses, kp, focal = map(torch.from_numpy, lifted_windows())
    later = poses.clone()
    later[:, -5:] += 0.1
    before = steps.after_steps(poses, kp, focal, CAUSAL_VERSION_9)
    after = steps.after_steps(later, kp, focal, CAUSAL_VERSION_9)
    assert torch.equal(before[:, :-5], after[:, :-5]) and not torch.equal(before[:, -5:], after[:, -5:])


@pytest.mark.parametrize("window", [3, 121])
def test_past_bone_lengths_are_the_live_mode_s_medians(window):
    poses, _, _ = lifted_windows(40)
    ours = steps.past_bone_lengths(torch.from_numpy(poses), window).numpy()
    theirs = np.stack([left_equal_right(PastMedian(window)(bone_lengths(p))) for p in poses])
    np.testing.assert_allclose(ours, theirs, atol=1e-12)


@pytest.mark.parametrize("window", [5, 121])
def test_usual_bone_lengths_are_numpy_s_medians_cut_short_at_the_ends(window):
    poses, _, _ = lifted_windows(40)
    ours = steps.usual_bone_lengths(torch.from_numpy(poses), window).numpy()
    np.testing.assert_allclose(ours, np.stack([usual_bone_lengths(p, window) for p in poses]), atol=1e-12)


@pytest.mark.parametrize("declared", [VERSION_11, CAUSAL_VERSION_9], ids=["symmetric", "causal"])
def test_the_steps_move_a_lift_toward_the_truth_and_pass_gradients_to_every_joint(declared):
    """The steps exist to lower the error; a loss after them must reach every joint of the network's output."""
    poses, kp, focal = lifted_windows()
    truth, _ = a_take(2 * len(poses[0]))
    truth = torch.from_numpy(truth.reshape(poses.shape))
    lifted = torch.from_numpy(poses).requires_grad_(True)
    moved = steps.after_steps(lifted, torch.from_numpy(kp), torch.from_numpy(focal), declared)
    error = torch.linalg.vector_norm(moved - truth, dim=-1).mean()
    assert error < torch.linalg.vector_norm(lifted - truth, dim=-1).mean()
    error.backward()
    assert torch.isfinite(lifted.grad).all()
    assert (lifted.grad[..., 1:, :].abs().sum(dim=(0, 1)) > 0).all()  # the root is held at the origin


def test_a_lifter_declares_steps_when_any_moves_its_poses_and_another_can_take_them_over():
    assert VERSION_11.declares_steps and not declaring().declares_steps
    assert declaring(image_plane_weight=0.3).declares_steps
    wide = replace(declaring(), channels=1024)
    assert wide.with_steps_of(VERSION_11) == replace(VERSION_11, channels=1024)
