"""The side-by-side render: drawing rules on plain arrays (vp3d.render.draw), and whole videos (vp3d.render.video)."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor, TimeoutError
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from conftest import require_shared
from vp3d.render.draw import (CENTRE_COLOR, LEFT_COLOR, LOW_CONF_COLOR, PANEL_BACKGROUND, RIGHT_COLOR, Pose3DPanel,
                              _output_size, bone_colors, draw_skeleton_2d)
from vp3d.render.video import Figure, SideBySideRender, render_figures
from vp3d.video import H264Writer, ffmpeg_exe, iter_frames, probe
from vp3d.skeleton import COCO, H36M

J = {name: i for i, name in enumerate(H36M.joint_names)}


def standing_pose() -> np.ndarray:
    """(17, 3) Human3.6M pose in metres, camera frame (x right, y down, z forward), root-relative, of a person
    facing the camera: their left side is at +x."""
    p = np.zeros((17, 3))
    p[J["right_hip"]], p[J["right_knee"]], p[J["right_foot"]] = (-0.12, 0, 0), (-0.12, 0.45, 0), (-0.12, 0.9, 0)
    p[J["left_hip"]], p[J["left_knee"]], p[J["left_foot"]] = (0.12, 0, 0), (0.12, 0.45, 0), (0.12, 0.9, 0)
    p[J["spine"]], p[J["thorax"]], p[J["neck_nose"]], p[J["head"]] = (0, -0.25, 0), (0, -0.5, 0), (0, -0.62, -0.05), (0, -0.75, 0)
    p[J["left_shoulder"]], p[J["left_elbow"]], p[J["left_wrist"]] = (0.18, -0.48, 0), (0.22, -0.2, 0), (0.24, 0.05, 0)
    p[J["right_shoulder"]], p[J["right_elbow"]], p[J["right_wrist"]] = (-0.18, -0.48, 0), (-0.22, -0.2, 0), (-0.24, 0.05, 0)
    return p


def moving_poses(t: int) -> np.ndarray:
    """(T, 17, 3): the standing pose raising its left arm and swinging the right one."""
    poses = np.repeat(standing_pose()[None], t, axis=0)
    phase = np.linspace(0, 2 * np.pi, t)
    poses[:, J["left_wrist"], 1] -= 0.4 * (1 - np.cos(phase))
    poses[:, J["right_wrist"], 2] += 0.3 * np.sin(phase)
    return poses


def project(poses: np.ndarray, width: int, height: int) -> np.ndarray:
    """Pinhole projection of root-relative poses placed 4 m in front of the camera -> (T, 17, 2) pixels."""
    cam = poses + np.array([0.0, 0.0, 4.0])
    f = 0.9 * width
    return np.stack([width / 2 + f * cam[..., 0] / cam[..., 2], height / 2 + f * cam[..., 1] / cam[..., 2]], -1)


# ------------------------------------------------------------------------------------------------ drawing rules

def pixel(img: np.ndarray, xy) -> np.ndarray:
    return img[int(round(xy[1])), int(round(xy[0]))].astype(int)


def test_bone_colours_follow_the_sides():
    colours = dict(bone_colors(H36M))
    assert colours[(J["left_hip"], J["left_knee"])] == LEFT_COLOR
    assert colours[(J["right_shoulder"], J["right_elbow"])] == RIGHT_COLOR
    assert colours[(J["spine"], J["thorax"])] == CENTRE_COLOR
    coco = dict(bone_colors(COCO))
    assert coco[(5, 6)] == CENTRE_COLOR  # the shoulder line joins both sides
    assert coco[(11, 13)] == LEFT_COLOR and coco[(12, 14)] == RIGHT_COLOR


def test_2d_skeleton_colours_low_confidence_and_filled_frames():
    xy = project(standing_pose()[None], 640, 480)[0]
    score = np.ones(17)
    img = np.zeros((480, 640, 3), np.uint8)
    draw_skeleton_2d(img, xy, score, H36M, thickness=3)
    mid = lambda a, b: 0.5 * (xy[J[a]] + xy[J[b]])
    assert np.abs(pixel(img, mid("left_hip", "left_knee")) - LEFT_COLOR).max() < 40
    assert np.abs(pixel(img, mid("right_hip", "right_knee")) - RIGHT_COLOR).max() < 40
    assert np.abs(pixel(img, mid("spine", "thorax")) - CENTRE_COLOR).max() < 40

    # A joint below the threshold is a hollow grey ring (radius thickness + 3 = 6): inside it stays
    # background (below the centre: the thin grey bone comes in from the elbow above), its rim is grey.
    score[J["left_wrist"]] = 0.1
    img = np.zeros((480, 640, 3), np.uint8)
    draw_skeleton_2d(img, xy, score, H36M, thickness=3, threshold=0.3)
    wrist = xy[J["left_wrist"]]
    assert (pixel(img, wrist + [0, 2]) < 40).all()
    assert np.abs(pixel(img, wrist + [0, 6]) - LOW_CONF_COLOR).max() < 60

    # A filled-in frame: grey skeleton and a label in the top-left corner.
    img = np.zeros((480, 640, 3), np.uint8)
    draw_skeleton_2d(img, xy, np.ones(17), H36M, thickness=3, interpolated=True)
    assert np.abs(pixel(img, mid("left_hip", "left_knee")) - LOW_CONF_COLOR).max() < 60
    assert img[:60, :320].max() == 255  # white label text


def test_3d_panel_viewpoint_scale_and_floor():
    poses = moving_poses(50)
    panel = Pose3DPanel(poses[None], 400, azimuth_deg=0, elevation_deg=0)
    pix = np.stack([panel.pixels(pose)[0] for pose in poses])  # (T, 17, 2) panel pixels, fixed for the clip
    assert pix.shape == (50, 17, 2)
    assert (pix > 0).all() and (pix < 400).all()  # the clip's extent fits, whatever the frame
    # Seen from the original camera: the head is up, the person's left (+x) on the panel's right.
    assert (pix[:, J["head"], 1] < pix[:, J["hip"], 1]).all()
    assert (pix[:, J["left_hip"], 0] > pix[:, J["right_hip"], 0]).all()
    # Fixed scale: a joint that does not move stays on the same pixel in every frame.
    assert np.ptp(pix[:, J["left_foot"]], axis=0).max() < 1e-9
    # The floor is at the lowest foot height (camera y = +0.9 m -> world y = -0.9 m).
    assert panel.floor == pytest.approx(-0.9)

    img = np.zeros((400, 400, 3), np.uint8)
    panel.draw(img, poses[10][None])
    assert np.abs(pixel(img, pix[10, J["left_knee"]]) - LEFT_COLOR).max() < 40
    assert np.abs(pixel(img, pix[10, J["right_knee"]]) - RIGHT_COLOR).max() < 40
    assert (img[5, 200] == PANEL_BACKGROUND).all()

    # Turning the viewer moves the person's right side towards the viewer: from 90 degrees to the right of
    # the camera the left and right hips overlap on screen, separated only in depth.
    side = Pose3DPanel(poses[None], 400, azimuth_deg=90, elevation_deg=0)
    side_pix = side.pixels(poses[0])[0]
    assert abs(side_pix[J["left_hip"], 0] - side_pix[J["right_hip"], 0]) < 1e-6


def test_3d_panel_follows_the_trajectory():
    poses = moving_poses(20)
    # 1.3 m: not a whole number of grid steps, so the grid must look different at the end.
    trajectory = np.stack([np.linspace(0, 1.3, 20), np.zeros(20), np.full(20, 5.0)], axis=1)
    panel = Pose3DPanel(poses[None], 300, trajectory=trajectory)
    # The view follows the root horizontally: the root stays put on screen, the grid slides instead.
    hips = np.stack([panel.pixels(pose, root=root)[0][J["hip"]] for pose, root in zip(poses, trajectory)])
    assert np.ptp(hips, axis=0).max() < 1e-9
    a, b = np.zeros((300, 300, 3), np.uint8), np.zeros((300, 300, 3), np.uint8)
    panel.draw(a, poses[:1], trajectory[0])
    panel.draw(b, poses[19:], trajectory[19])
    assert not np.array_equal(a[250:], b[250:])


def test_output_size_is_even_and_at_most_1080_high():
    assert _output_size(1280, 720, 1080) == (1280, 720)
    assert _output_size(3840, 2160, 1080) == (1920, 1080)
    assert _output_size(1080, 1920, 1080) == (608, 1080)
    assert _output_size(1279, 719, 1080) == (1278, 718)


# ------------------------------------------------------------------------------------------------ whole videos

@pytest.fixture(scope="module")
def taiji_30(tmp_path_factory) -> Path:
    src = require_shared("videos", "taiji.mp4")
    out = tmp_path_factory.mktemp("taiji") / "taiji30.mp4"
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-i", str(src),
                    "-frames:v", "30", "-an", "-c:v", "libx264", "-preset", "ultrafast", str(out)],
                   check=True, timeout=60)
    return out


def render_video(video: Path, out: Path, xy, score, detected, layout, poses, **options):
    """One untracked person's arrays, drawn after detection."""
    return render_figures(video, out, [Figure(xy, score, detected, layout.name, poses)], **options)


def inputs(t: int, width: int, height: int):
    poses = moving_poses(t)
    xy = project(poses, width, height)
    score = np.ones((t, 17))
    detected = np.ones(t, bool)
    detected[10:13] = False
    return xy, score, detected, poses


def test_render_taiji_clip_keeps_frames_and_rate(taiji_30: Path, tmp_path: Path):
    out = tmp_path / "side_by_side.mp4"
    xy, score, detected, poses = inputs(30, 1280, 720)
    done = []
    result = render_video(taiji_30, out, xy, score, detected, H36M, poses, progress=done.append)
    assert done[-1] == 30 and result.frames == 30
    info = probe(out)
    assert (info.width, info.height) == (1280 + 720, 720) == (result.width, result.height)
    assert info.fps_fraction == Fraction(24000, 1001)
    assert sum(1 for _ in iter_frames(out)) == 30
    assert sorted(p.name for p in tmp_path.iterdir()) == ["side_by_side.mp4"]
    # Left: the input picture is there (not blank) ... right: the dark 3D panel with a skeleton.
    frame = next(iter_frames(out))
    source = next(iter_frames(taiji_30))
    assert np.abs(frame[:100, :1280].astype(int) - source[:100]).mean() < 6
    panel = frame[:, 1280:]
    assert np.median(panel) < 60 and panel.max() > 150


def test_an_update_after_the_complete_one_changes_nothing(taiji_30: Path, tmp_path: Path):
    """The live feed lifts in a thread of its own: a partial update of its that arrives after the pipeline's
    complete one (other poses, fewer frames) must not reach the video."""
    xy, score, detected, poses = inputs(30, 1280, 720)
    whole = [Figure(xy, score, detected, H36M.name, poses)]
    late = [Figure(xy[:20] + 40, score[:20], detected[:20], H36M.name, poses[:20] * 0.5)]
    render_video(taiji_30, tmp_path / "once.mp4", xy, score, detected, H36M, poses, crf=0)
    render = SideBySideRender(taiji_30, tmp_path / "late.mp4", probe(taiji_30), crf=0)
    render.update(whole, 30, complete=True)
    render.update(late, 20)
    with ThreadPoolExecutor(1) as pool:  # a render that took the late update waits for frames 20-29 forever
        finished = pool.submit(render.finish)
        try:
            finished.result(timeout=120)
        except TimeoutError:
            render.abort()
            pytest.fail("the render took the late update and waits for frames it will never get")
    for once, late_frame in zip(iter_frames(tmp_path / "once.mp4"), iter_frames(tmp_path / "late.mp4")):
        np.testing.assert_array_equal(once, late_frame)


def test_render_scales_large_inputs_down_to_1080(tmp_path: Path):
    big = tmp_path / "big.mp4"
    with H264Writer(big, 2560, 1440, 30, preset="ultrafast") as w:
        for i in range(3):
            w.write(np.full((1440, 2560, 3), 60 + 40 * i, np.uint8))
    xy, score, detected, poses = inputs(3, 2560, 1440)
    out = tmp_path / "out.mp4"
    result = render_video(big, out, xy, score, detected, H36M, poses, max_height=1080)
    info = probe(out)
    assert (info.width, info.height) == (1920 + 1080, 1080) == (result.width, result.height)
    assert sum(1 for _ in iter_frames(out)) == 3
    # The keypoints were scaled with the picture: the left knee is drawn where it lands at 1920x1080.
    frame = next(iter_frames(out))
    knee = xy[0, J["left_knee"]] * 0.75
    assert np.abs(pixel(frame, knee) - LEFT_COLOR).max() < 70


def test_render_failure_leaves_no_file(taiji_30: Path, tmp_path: Path):
    xy, score, detected, poses = inputs(30, 1280, 720)
    out = tmp_path / "out.mp4"
    with pytest.raises(ValueError):
        render_video(taiji_30, out, xy[:, :16], score, detected, H36M, poses)  # wrong joint count

    def stop_after_5(n: int) -> None:
        if n == 5:
            raise KeyboardInterrupt  # e.g. the user pressing Ctrl-C mid-render

    with pytest.raises(KeyboardInterrupt):
        render_video(taiji_30, out, xy, score, detected, H36M, poses, progress=stop_after_5)
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_while_the_render_finishes_stops_it_and_leaves_nothing(taiji_30: Path, tmp_path: Path):
    """Ctrl-C (a real SIGINT to the main thread) while the pipeline waits for the render's last frames: the
    render thread is stopped and waited for, and no file is left. Python 3.11's Thread.join(), interrupted,
    takes the running thread for ended: waiting on it alone let the process go on while the render finished
    its video under the temporary name (a batch worker's left-over .partial.mp4)."""
    xy, score, detected, poses = inputs(30, 1280, 720)
    slowly = lambda n: time.sleep(0.05)  # noqa: E731 - 30 frames take 1.5 s: the signal lands mid-render
    render = SideBySideRender(taiji_30, tmp_path / "out.mp4", probe(taiji_30), progress=slowly)
    ctrl_c = threading.Timer(0.3, signal.pthread_kill, (threading.main_thread().ident, signal.SIGINT))
    ctrl_c.start()
    with pytest.raises(KeyboardInterrupt):
        render.complete([Figure(xy, score, detected, H36M.name, poses)], 30)
    ctrl_c.join()
    assert not [t for t in threading.enumerate() if t.name == "vp3d-render"]
    assert list(tmp_path.iterdir()) == []


def test_render_with_fewer_poses_than_frames_still_writes_every_frame(taiji_30: Path, tmp_path: Path):
    xy, score, detected, poses = inputs(25, 1280, 720)
    out = tmp_path / "short.mp4"
    with pytest.warns(UserWarning, match="decoded 30 frames but got poses for 25"):
        result = render_video(taiji_30, out, xy, score, detected, H36M, poses)
    assert result.frames == 30 and sum(1 for _ in iter_frames(out)) == 30
