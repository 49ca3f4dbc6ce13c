"""Angle plots (vp3d.plot): written in each format, not blank, the time range respected."""

from __future__ import annotations


import numpy as np
import pytest

from vp3d.angles import ANGLE_NAMES
from vp3d.plot import frames_in_range, parse_range, plot_angles

FPS = 25.0


def angles(T=100):
    t = np.arange(T) / FPS
    a = {name: np.full(T, 10.0) for name in ANGLE_NAMES}
    a["left_knee_flexion"] = 45 + 40 * np.sin(2 * np.pi * t)
    a["right_knee_flexion"] = 45 - 40 * np.sin(2 * np.pi * t)
    detected = np.ones(T, dtype=bool)
    detected[30:40] = False
    for name in a:
        a[name][~detected] = np.nan
    return a, detected


def test_png_is_written_and_not_blank(tmp_path):
    from PIL import Image
    a, det = angles()
    out = tmp_path / "angles.png"
    fig = plot_angles(a, FPS, det, names=("knee", "hip"), out_path=out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert img.std() > 10  # not a flat image
    reds = (img[..., 0] > 180) & (img[..., 1] < 100) & (img[..., 2] < 100)
    blues = (img[..., 2] > 150) & (img[..., 0] < 100)
    assert reds.sum() > 200 and blues.sum() > 200  # left and right curves drawn
    assert len(fig.axes) == 2
    knee = fig.axes[0]
    assert {line.get_label() for line in knee.get_lines()} == {"left", "right"}
    assert any(p.get_label() == "filled (not detected)" for p in knee.patches)
    assert not list(tmp_path.glob(".*"))


def test_svg_and_pdf(tmp_path):
    a, det = angles()
    plot_angles(a, FPS, det, names=("elbow", "trunk", "pelvis"), out_path=tmp_path / "a.svg")
    text = (tmp_path / "a.svg").read_text()
    assert "<svg" in text and "<path" in text
    plot_angles(a, FPS, det, names=("shoulder",), out_path=tmp_path / "a.pdf")
    assert (tmp_path / "a.pdf").read_bytes()[:5] == b"%PDF-"
    assert (tmp_path / "a.pdf").stat().st_size > 2000


def test_time_range_is_respected(tmp_path):
    a, det = angles()
    fig = plot_angles(a, FPS, det, names=("knee",), time_range=(1.0, 2.5), out_path=tmp_path / "r.png")
    ax = fig.axes[0]
    assert ax.get_xlim() == pytest.approx((1.0, 2.5))
    for line in ax.get_lines():
        x = line.get_xdata()
        assert x.min() >= 1.0 - 1e-9 and x.max() <= 2.5 + 1e-9 and len(x) == 38
    fig = plot_angles(a, FPS, det, names=("knee",), time_range=parse_range("2:"))
    assert fig.axes[0].get_xlim() == pytest.approx((2.0, 99 / FPS))


def test_bad_arguments():
    a, det = angles()
    with pytest.raises(ValueError):
        plot_angles(a, FPS, det, names=("ankle",))
    with pytest.raises(ValueError):
        plot_angles(a, FPS, det, out_path="x.jpg")
    with pytest.raises(ValueError):
        parse_range("5")
    with pytest.raises(ValueError):
        parse_range("3:2")
    assert parse_range(None) is None and parse_range(":4") == (None, 4.0)


def test_a_variable_rate_is_drawn_at_the_frames_own_times(tmp_path):
    """50 frames at 25 fps, then 50 at a third of that (a phone's variable rate): the curves, the shading of
    filled frames and the time range go by each frame's own time, not frame / average fps."""
    a, det = angles()
    det[30:40], det[60:62] = True, False  # one filled run, in the sparse part
    times = np.r_[np.arange(50) / FPS, 2.0 + 3 * np.arange(50) / FPS]
    average = 100 / times[-1]
    fig = plot_angles(a, average, det, names=("knee",), out_path=tmp_path / "v.png", times=times)
    ax = fig.axes[0]
    for line in ax.get_lines():
        assert np.array_equal(line.get_xdata(), times)
    assert ax.get_xlim() == pytest.approx((0.0, times[-1]))
    span = next(p for p in ax.patches if p.get_label() == "filled (not detected)")
    left, right = span.get_x(), span.get_x() + span.get_width()
    assert (left, right) == pytest.approx((times[60] - 1.5 / FPS, times[61] + 1.5 / FPS))  # half way to neighbours
    inside = frames_in_range(100, average, time_range=(3.0, 5.0), times=times)
    assert inside.sum() == 17 != frames_in_range(100, average, time_range=(3.0, 5.0)).sum()
    fig = plot_angles(a, average, det, names=("knee",), time_range=(3.0, 5.0), times=times)
    assert np.array_equal(fig.axes[0].get_lines()[0].get_xdata(), times[inside])
