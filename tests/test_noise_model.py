"""NoiseModel (vp3d.training.synthetic): the default draws exactly what it always drew (it defines the
validation sets of past results); the MediaPipe preset's jitter has the correlation and per-joint scale
it documents. bench/noise_model_fit.py measures the preset against the detector."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import require_shared
from scipy.signal import savgol_filter

from vp3d.detectors.keypoints import interpolate_frames
from vp3d.training.synthetic import NoiseModel


def legacy_apply(rng: np.random.Generator, xy: np.ndarray) -> np.ndarray:
    """NoiseModel().apply as it was before the jitter could be shaped (commit 1adc32f), frozen."""
    T, J, _ = xy.shape
    size = float(np.median(np.ptp(xy[..., 1], axis=1))) + 1e-6
    out = xy + rng.normal(0, 0.01 * size, (1, J, 2))
    out = out + rng.normal(0, rng.uniform(0.0, 0.012) * size, out.shape)
    outliers = rng.random((T, J)) < rng.uniform(0.0, 0.004)
    out[outliers] += rng.normal(0, 0.08 * size, (int(outliers.sum()), 2))
    if T > 2 and rng.random() < 0.3:
        missing = np.zeros(T, bool)
        for _ in range(rng.integers(1, 4)):
            start = rng.integers(T)
            missing[start: start + rng.integers(1, 15 + 1)] = True
        if not missing.all():
            out = interpolate_frames(out, ~missing)
    return out.astype(np.float32)


def poses(T: int = 40) -> np.ndarray:
    return np.random.default_rng(123).uniform(100, 600, (T, 17, 2))


@pytest.mark.parametrize("seed", range(12))
def test_default_draws_what_it_always_drew(seed):
    xy = poses()
    rng_new, rng_old = np.random.default_rng(seed), np.random.default_rng(seed)
    assert np.array_equal(NoiseModel().apply(rng_new, xy), legacy_apply(rng_old, xy))
    assert np.array_equal(rng_new.random(4), rng_old.random(4))  # as many numbers consumed


def test_default_matches_outputs_recorded_before_the_change():
    """Sums of NoiseModel().apply outputs saved from the implementation before the change."""
    recorded = {0: 471576.57260894775, 1: 476454.7983856201, 2: 476439.4599533081}
    for seed, total in recorded.items():
        out = NoiseModel().apply(np.random.default_rng(seed), poses())
        assert float(out.astype(np.float64).sum()) == pytest.approx(total, rel=1e-9)


def jitter_only(fps: float) -> NoiseModel:
    """The preset without outliers and gaps: its jitter alone (and the per-joint bias, constant)."""
    return dataclasses.replace(NoiseModel.fitted_to_mediapipe(fps=fps), outlier_rate=(0.0, 0.0), gap_probability=0.0)


@pytest.mark.parametrize("fps", [23.976, 50.0])
def test_fitted_jitter_has_its_autocorrelation_and_joint_scale(fps):
    model = jitter_only(fps)
    assert model.jitter_correlation == pytest.approx(np.exp(-1 / (fps * 0.1)))
    still = np.tile(poses(1), (6000, 1, 1))  # a still person: no motion jitter, no motion in the residual
    noise = model.apply(np.random.default_rng(0), still).astype(np.float64) - still
    noise -= noise.mean(axis=0)  # the per-joint bias
    lag1 = (noise[1:] * noise[:-1]).sum() / (noise ** 2).sum()
    assert lag1 == pytest.approx(model.jitter_correlation, abs=0.02)
    std = noise.std(axis=(0, 2))
    scale = np.asarray(model.joint_scale)
    np.testing.assert_allclose(std / std[1], scale / scale[1], rtol=0.08)  # relative to the right hip
    assert scale[[0, 7, 8]].tolist() == [0.8] * 3 and scale[[2, 5]].tolist() == [1.4] * 2


def test_fitted_residual_lag1_is_the_documented_one():
    """The docstring: the jitter alone has a 9-frame Savitzky-Golay residual lag-1 of -0.14 at 24 fps."""
    still = np.tile(poses(1), (6000, 1, 1))
    noise = jitter_only(23.976).apply(np.random.default_rng(1), still).astype(np.float64) - still
    r = (noise - savgol_filter(noise, 9, 2, axis=0))[4:-4]
    r -= r.mean(axis=0)
    assert (r[1:] * r[:-1]).sum() / (r ** 2).sum() == pytest.approx(-0.14, abs=0.02)


def test_motion_jitter_grows_with_speed():
    """A joint moving fast gets more jitter than a still one; speeds are per second at `fps`."""
    T = 2000
    xy = np.tile(poses(1), (T, 1, 1))
    xy[:, 13, 0] += np.arange(T) * 10.0  # the left wrist moves 10 px per frame
    model = dataclasses.replace(jitter_only(50.0), jitter=(0.0, 0.0), bias=0.0, motion_jitter=(0.02, 0.02))
    noise = model.apply(np.random.default_rng(2), xy).astype(np.float64) - xy
    assert np.abs(noise[:, 16]).max() < 1e-3  # still: no jitter (float32 rounding only)
    assert noise[:, 13].std() == pytest.approx(0.02 * 10 * 50, rel=0.1)  # 0.02 s x 500 px/s


@pytest.mark.parametrize("name", ["detector", "mediapipe"])
def test_noise_models_have_names_for_the_command_line(name):
    assert isinstance(NoiseModel.named(name), NoiseModel)
    with pytest.raises(ValueError, match="unknown 2D noise model 'blur'"):
        NoiseModel.named("blur")


def lag1_correlation(error: np.ndarray) -> float:
    """Lag-1 autocorrelation over time of a (T, J, 2) error, each joint's constant offset removed."""
    e = error - error.mean(axis=0)
    return float((e[1:] * e[:-1]).sum() / (e * e).sum())


def test_evaluation_views_differ_only_in_the_named_noise():
    """`vp3d evaluate --noise none|detector|mediapipe`: the same cameras and 3D, three kinds of 2D; the original
    model's jitter is white, the MediaPipe preset's correlated in time (as the detector's: bench/README.md)."""
    from types import SimpleNamespace

    from vp3d.cli.evaluate import virtual_view_sequences
    from vp3d.mocap import load_bvh
    takes = [SimpleNamespace(subject=t[:2], name=t, positions=load_bvh(require_shared(
        "mocap", "cmu_bvh", t[:2], f"{t}.bvh")).positions[:400]) for t in ("01_01", "02_01", "03_01")]
    views = {noise: virtual_view_sequences(takes, 2, noise) for noise in ("none", "detector", "mediapipe")}
    correlation = {}
    for noise in ("detector", "mediapipe"):
        for clean, noisy in zip(views["none"], views[noise]):
            assert np.array_equal(clean.pose3d, noisy.pose3d) and np.array_equal(clean.intrinsics, noisy.intrinsics)
            assert not np.allclose(clean.kp2d_norm, noisy.kp2d_norm)
        correlation[noise] = np.median([lag1_correlation(n.kp2d_norm - c.kp2d_norm)
                                        for c, n in zip(views["none"], views[noise])])
    assert correlation["detector"] < 0.2 < 0.5 < correlation["mediapipe"]
