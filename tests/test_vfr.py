"""Variable frame rate: a clip whose frame spacing changes in the middle is lifted by its timestamps, so the
3D of a motion does not depend on how densely it was filmed.

A real 6-s clip at 23.976 fps (constant), and the same clip with every frame kept for 3 s and then only every
third (the original timestamps kept: 24 fps, then 8 fps), as a phone's variable rate does.
"""

from __future__ import annotations

import csv
import json
import subprocess

import numpy as np
import pytest
from conftest import BIN, ffmpeg, require_shared, vp3d_infer

from vp3d.lifter.camera import normalize_screen_coordinates
from vp3d.lifter.inference import Lifter
from vp3d.lifter.weights import default_checkpoint
from vp3d.video import ffmpeg_exe, probe
from vp3d.video.timing import frame_times, is_variable


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("vfr")
    ffmpeg("-ss", 5, "-i", require_shared("videos", "taiji.mp4"), "-t", 6, "-vf", "scale=-2:360", "-an",
           "-c:v", "libx264", "-preset", "ultrafast", d / "cfr.mp4")
    ffmpeg("-i", d / "cfr.mp4", "-vf", r"select='lt(n\,72)+not(mod(n\,3))'", "-fps_mode", "passthrough",
           "-c:v", "libx264", "-preset", "ultrafast", d / "vfr.mp4")
    out = {}
    for name in ("cfr", "vfr"):
        done = vp3d_infer(d / f"{name}.mp4", "--no-render", "--json", d / f"{name}.json", "--npz", d / f"{name}.npz",
                          "--angles", d / f"{name}.angles.csv", "--quiet")
        assert done.returncode == 0, done.stderr
        out[name] = (json.loads((d / f"{name}.json").read_text()), np.load(d / f"{name}.npz"))
    return d, out


def test_timestamps_are_read_and_the_rate_is_called_variable(runs):
    d, out = runs
    assert not probe(d / "cfr.mp4").variable_frame_rate
    info = probe(d / "vfr.mp4")
    steps = np.diff(info.frame_times)
    assert info.variable_frame_rate and is_variable(frame_times(d / "vfr.mp4", ffmpeg_exe()))
    assert np.allclose(steps[:71], 1001 / 24000, atol=1e-4) and np.allclose(steps[72:], 3 * 1001 / 24000, atol=1e-4)
    assert out["vfr"][0]["video"]["variable_frame_rate"] is True
    assert out["cfr"][0]["video"]["variable_frame_rate"] is False


def test_each_frame_keeps_its_own_time_in_json_and_npz(runs):
    _, out = runs
    cfr_times = np.array([f["time_s"] for f in out["cfr"][0]["frames"]])
    vfr_times = np.array([f["time_s"] for f in out["vfr"][0]["frames"]])
    kept = np.r_[np.arange(72), np.arange(72, len(cfr_times))[np.arange(72, len(cfr_times)) % 3 == 0]]
    assert np.allclose(vfr_times, cfr_times[kept], atol=1e-6)
    assert np.allclose(out["vfr"][1]["time_s"], vfr_times, atol=1e-6)


def test_the_3d_of_a_motion_does_not_depend_on_the_frame_spacing(runs):
    """The 3D at the frames both clips have agrees to what MediaPipe's own 2D differences allow, and far
    better than lifting the same 2D as if it were evenly spaced at the average rate (what vp3d did before)."""
    _, out = runs
    (cfr, _), (vfr, _) = out["cfr"], out["vfr"]
    times_c = np.array([f["time_s"] for f in cfr["frames"]])
    times_v = np.array([f["time_s"] for f in vfr["frames"]])
    kept = np.searchsorted(times_c, times_v - 1e-6)
    joints_c = np.array([f["joints3d"] for f in cfr["frames"]])[kept]
    joints_v = np.array([f["joints3d"] for f in vfr["frames"]])
    by_time = np.linalg.norm(joints_v - joints_c, axis=-1).mean()

    kp = np.array([f["keypoints2d"] for f in vfr["frames"]], np.float32)[..., :2]
    lifter = Lifter.load(default_checkpoint())
    even = lifter.lift(normalize_screen_coordinates(kp, 640, 360), fps=vfr["video"]["fps"]).poses
    even -= even[:, :1]
    as_if_even = np.linalg.norm(even - joints_c, axis=-1).mean()
    # Measured: 5.5 mm by time (the 2D differs too: MediaPipe tracks over other frames and the sparse part
    # has a third of the frames), 16.1 mm as if evenly spaced.
    assert by_time < 0.012 and as_if_even > 2 * by_time, (by_time, as_if_even)


def angles_csv(path) -> tuple[str, list[dict]]:
    """The comment line and the rows of an angles CSV."""
    lines = path.read_text().splitlines()
    return lines[0], list(csv.DictReader(lines[1:]))


def test_the_angles_keep_each_frames_own_time(runs):
    """vp3d-infer --angles: time_s is the JSON's time_s, frame by frame, not frame / average fps; a constant
    rate's stays frame / fps as it always was (the same bytes)."""
    d, out = runs
    vfr = out["vfr"][0]
    comment, rows = angles_csv(d / "vfr.angles.csv")
    times = [float(r["time_s"]) for r in rows]
    assert [int(r["frame"]) for r in rows] == [f["index"] for f in vfr["frames"]]
    assert times == [f["time_s"] for f in vfr["frames"]]
    as_if_even = np.arange(len(rows)) / vfr["video"]["fps"]
    assert np.abs(np.array(times) - as_if_even).max() > 1.0  # seconds: the sparse part is far from index / fps
    assert "variable frame rate" in comment
    assert json.loads((d / "vfr.angles.summary.json").read_text())["variable_frame_rate"] is True

    cfr = out["cfr"][0]
    comment, rows = angles_csv(d / "cfr.angles.csv")
    assert [r["time_s"] for r in rows] == [f"{i / cfr['video']['fps']:.6f}" for i in range(len(rows))]
    assert "variable" not in comment and "variable_frame_rate" not in (d / "cfr.angles.summary.json").read_text()


def test_plot_ranges_go_by_each_frames_own_time(runs):
    """vp3d plot --range 3:4.5 on the variable-rate file: the summary covers the frames whose own time is in
    3..4.5 s (the sparse part: 12 frames), not those whose frame / average fps is (24)."""
    d, out = runs
    vfr = out["vfr"][0]
    done = subprocess.run([str(BIN / "vp3d"), "plot", str(d / "vfr.json"), "--angles", "knee", "--range", "3:4.5",
                           "--json"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)["summary"]["left_knee_flexion"]
    times = np.array([f["time_s"] for f in vfr["frames"]])
    detected = np.array([f["detected"] for f in vfr["frames"]])
    inside = (times >= 3 - 1e-9) & (times <= 4.5 + 1e-9)
    by_index = np.arange(len(times)) / vfr["video"]["fps"]
    assert summary["frames"] == (inside & detected).sum() != ((by_index >= 3) & (by_index <= 4.5) & detected).sum()
    _, rows = angles_csv(d / "vfr.angles.csv")
    knee = np.array([float(r["left_knee_flexion"]) if r["left_knee_flexion"] else np.nan for r in rows])[inside]
    assert summary["max"] == pytest.approx(np.nanmax(knee), abs=0.02)  # the JSON's joints are rounded to 10 um
