"""The steps a lifter's weights declare after the network, in torch and differentiable, for training through them.

At inference the network's poses are smoothed over time, moved part of the way across the image onto their 2D
points' rays (vp3d.lifter.image_plane) and part of the way toward the points of those rays at usual bone lengths
(vp3d.lifter.bone_rays). The network was trained for its raw output, and the steps were chosen afterwards; a loss
on what the steps make of its output trains it for what users get: for instance, the bone-rays step takes its
choice between a bone's two points on the ray from the sign of the lifted bone's depth change, which a network
trained for raw error leaves near zero wherever it is unsure. These are the same computations as the numpy
modules (tests/test_differentiable_steps.py holds them equal), on a batch of training windows: poses (W, L, 17, 3)
metres root-relative, kp_norm (W, L, 17, 2) normalized screen coordinates of the same frames, focal (W,)
normalized. A window's ends are a clip's ends (smoothing repeats the edge frame; bone-length medians are cut short),
as for a clip of L frames. A causal lifter's weights declare the same steps from the past only
(vp3d.lifter.causal_steps): its window starts as a clip starts (averages at the first value, medians over the
frames seen so far).
"""

from __future__ import annotations

import math

import torch

from ..lifter.bone_rays import PARENTS
from ..lifter.meta import LifterMeta
from ..skeleton import H36M

FLIP = H36M.flip_permutation()


def gaussian_smooth(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """x (W, L, ...) smoothed along L as scipy's gaussian_filter1d(mode="nearest", truncate=4) does."""
    if sigma <= 0 or x.shape[1] < 2:
        return x
    radius = int(4.0 * sigma + 0.5)
    taps = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    kernel = torch.exp(-0.5 * (taps / sigma) ** 2)
    kernel = kernel / kernel.sum()
    w, length = x.shape[:2]
    series = x.reshape(w, length, -1).transpose(1, 2).reshape(-1, 1, length)  # (W * features, 1, L)
    padded = torch.cat([series[..., :1].expand(-1, -1, radius), series, series[..., -1:].expand(-1, -1, radius)], -1)
    out = torch.nn.functional.conv1d(padded, kernel.view(1, 1, -1))
    return out.reshape(w, -1, length).transpose(1, 2).reshape(x.shape)


def root_on_the_2d(poses: torch.Tensor, kp_norm: torch.Tensor, focal: torch.Tensor) -> torch.Tensor:
    """(W, L, 3) root positions in the camera frame at which each frame's pose best projects onto its 2D
    (image_plane.root_on_the_2d)."""
    f = focal.view(-1, 1, 1).to(poses.dtype)
    u = kp_norm.to(poses.dtype)
    w, length, joints = poses.shape[:3]
    a = torch.zeros(w, length, 2, joints, 3, dtype=poses.dtype, device=poses.device)
    a[:, :, 0, :, 0] = f.expand(w, length, joints)
    a[:, :, 1, :, 1] = f.expand(w, length, joints)
    a[:, :, :, :, 2] = -u.transpose(2, 3)
    b = u.transpose(2, 3) * poses[..., 2].unsqueeze(2) - f.unsqueeze(-1) * poses[..., :2].transpose(2, 3)
    a, b = a.reshape(w, length, 2 * joints, 3), b.reshape(w, length, 2 * joints)
    normal = a.transpose(-1, -2) @ a + 1e-9 * torch.eye(3, dtype=poses.dtype, device=poses.device)
    return torch.linalg.solve(normal, (a.transpose(-1, -2) @ b.unsqueeze(-1)))[..., 0]


def offsets_onto_the_rays(poses: torch.Tensor, kp_norm: torch.Tensor, focal: torch.Tensor) -> torch.Tensor:
    """(W, L, 17, 2) image_plane.offsets_onto_the_rays of the root-relative poses placed on their 2D."""
    placed = poses + root_on_the_2d(poses, kp_norm, focal).unsqueeze(2)
    return kp_norm / focal.view(-1, 1, 1, 1) * placed[..., 2:3] - placed[..., :2]


def toward_the_2d(poses: torch.Tensor, kp_norm: torch.Tensor, focal: torch.Tensor, weight: float,
                  smoothing: float) -> torch.Tensor:
    """image_plane.toward_the_2d on a batch of windows."""
    offsets = gaussian_smooth(offsets_onto_the_rays(poses, kp_norm, focal), smoothing)
    moved = torch.cat([poses[..., :2] + weight * offsets, poses[..., 2:]], -1)
    return moved - moved[:, :, :1]


def exponential_average(x: torch.Tensor, tau: float) -> torch.Tensor:
    """x (W, L, ...) averaged along L from the past only, as causal_steps.ExponentialAverage does from a clip's
    start: y_0 = x_0, y_t = k y_(t-1) + (1 - k) x_t with k = exp(-1 / tau); one (L, L) weight matrix."""
    if tau <= 0:
        return x
    keep = math.exp(-1.0 / tau)
    t = torch.arange(x.shape[1], device=x.device)
    lag = (t[:, None] - t[None, :]).to(x.dtype)
    weights = torch.where(lag >= 0, (1 - keep) * keep ** lag.clamp(min=0), torch.zeros_like(lag))
    weights[:, 0] = keep ** t.to(x.dtype)  # the average starts at the first value: x_0 carries the rest
    return torch.einsum("ts,ws...->wt...", weights, x)


def _bone_lengths(placed: torch.Tensor) -> torch.Tensor:
    return torch.linalg.vector_norm(placed[:, :, 1:] - placed[:, :, PARENTS[1:]], dim=-1)


def _left_equal_right(lengths: torch.Tensor) -> torch.Tensor:
    every = torch.cat([torch.zeros_like(lengths[..., :1]), lengths], -1)
    return ((every + every[..., FLIP]) / 2)[..., 1:]


def _medians(lengths: torch.Tensor, before: int, after: int) -> torch.Tensor:
    """(W, L, 16) each frame's median over frames t-before..t+after, cut short at the window's ends."""
    nan = torch.full_like(lengths[:, :1], float("nan"))
    spans = torch.cat([nan.expand(-1, before, -1), lengths, nan.expand(-1, after, -1)], 1)
    # numpy's median: the two middle values averaged
    return torch.nanquantile(spans.unfold(1, before + after + 1, 1), 0.5, dim=-1)


def usual_bone_lengths(placed: torch.Tensor, window: int) -> torch.Tensor:
    """(W, L, 16) bone_rays.usual_bone_lengths on a batch: medians over frames t-window..t+window, cut short at
    the window's ends, each averaged with the other side's bone."""
    reach = min(window, placed.shape[1] - 1)
    return _left_equal_right(_medians(_bone_lengths(placed), reach, reach))


def past_bone_lengths(placed: torch.Tensor, window: int) -> torch.Tensor:
    """(W, L, 16) the causal steps' usual lengths on a batch: medians over frames t-window..t (fewer at the
    window's start), each averaged with the other side's bone."""
    return _left_equal_right(_medians(_bone_lengths(placed), min(window, placed.shape[1] - 1), 0))


def points_at_bone_length(placed: torch.Tensor, kp_norm: torch.Tensor, focal: torch.Tensor, lengths: torch.Tensor,
                          softness: float) -> torch.Tensor:
    """bone_rays.points_at_bone_length on a batch (softness > 0: the soft choice version 11 declares)."""
    f = focal.view(-1, 1, 1).to(placed.dtype)
    rays = torch.cat([kp_norm / f.unsqueeze(-1), torch.ones_like(kp_norm[..., :1])], -1)
    points = [placed[:, :, 0]]
    for joint in range(1, len(PARENTS)):
        parent, ray = points[PARENTS[joint]], rays[:, :, joint]
        a = (ray * ray).sum(-1)
        b = (ray * parent).sum(-1)
        c = (parent * parent).sum(-1) - lengths[..., joint - 1] ** 2
        # the square root's gradient is infinite at 0 (the ray just touching the sphere): keep it finite
        root = torch.sqrt(torch.clamp(b * b - a * c, min=1e-12))
        near, far = (b - root) / a, (b + root) / a
        if softness > 0:
            expected = parent[..., 2] + placed[:, :, joint, 2] - placed[:, :, PARENTS[joint], 2]
            w_near = torch.exp(-0.5 * ((near - expected) / softness) ** 2)
            w_far = torch.exp(-0.5 * ((far - expected) / softness) ** 2)
            total = w_near + w_far
            nearer = torch.where((near - expected).abs() <= (far - expected).abs(), near, far)
            depth = torch.where(total > 1e-12, (w_near * near + w_far * far) / torch.clamp(total, min=1e-12), nearer)
        else:
            lifted = placed[:, :, joint, 2]
            depth = torch.where((near - lifted).abs() <= (far - lifted).abs(), near, far)
        points.append(depth.unsqueeze(-1) * ray)
    return torch.stack(points, 2)


def toward_bone_lengths(poses: torch.Tensor, kp_norm: torch.Tensor, focal: torch.Tensor, weight: float,
                        smoothing: float, window: int, softness: float) -> torch.Tensor:
    """bone_rays.toward_bone_lengths on a batch of windows."""
    placed = poses + root_on_the_2d(poses, kp_norm, focal).unsqueeze(2)
    targets = points_at_bone_length(placed, kp_norm, focal, usual_bone_lengths(placed, window), softness)
    moved = placed + weight * gaussian_smooth(targets - placed, smoothing)
    return moved - moved[:, :, :1]


def after_causal_steps(poses: torch.Tensor, kp_norm: torch.Tensor, focal: torch.Tensor,
                       steps: LifterMeta) -> torch.Tensor:
    """(W, L, 17, 3): causal_steps.CausalSteps on a batch of windows, each fed as a whole clip."""
    if steps.image_plane_weight > 0:
        offsets = exponential_average(offsets_onto_the_rays(poses, kp_norm, focal), steps.image_plane_smoothing)
        moved = torch.cat([poses[..., :2] + steps.image_plane_weight * offsets, poses[..., 2:]], -1)
        poses = moved - moved[:, :, :1]
    if steps.bone_rays_weight > 0:
        placed = poses + root_on_the_2d(poses, kp_norm, focal).unsqueeze(2)
        lengths = past_bone_lengths(placed, steps.bone_rays_window)
        offsets = points_at_bone_length(placed, kp_norm, focal, lengths, steps.bone_rays_softness) - placed
        moved = placed + steps.bone_rays_weight * exponential_average(offsets, steps.bone_rays_smoothing)
        poses = moved - moved[:, :, :1]
    return exponential_average(poses, steps.output_smoothing)


def after_steps(poses: torch.Tensor, kp_norm: torch.Tensor, focal: torch.Tensor, steps: LifterMeta) -> torch.Tensor:
    """(W, L, 17, 3): the network's poses as the steps `steps` declares leave them, in inference's order (a causal
    lifter's from the past only)."""
    if steps.causal:
        return after_causal_steps(poses, kp_norm, focal, steps)
    poses = gaussian_smooth(poses, steps.output_smoothing)
    if steps.image_plane_weight > 0:
        poses = toward_the_2d(poses, kp_norm, focal, steps.image_plane_weight, steps.image_plane_smoothing)
    if steps.bone_rays_weight > 0:
        poses = toward_bone_lengths(poses, kp_norm, focal, steps.bone_rays_weight, steps.bone_rays_smoothing,
                                    steps.bone_rays_window, steps.bone_rays_softness)
    return poses
