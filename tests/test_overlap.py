"""Rendering while detecting (vp3d.pipeline.overlap feeding vp3d.render.video): frames are rendered only once
their 3D pose can no longer change, the rendered poses are the exported ones, and the video is the same as
the one the render after detection draws."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import ffmpeg, require_shared
from conftest import small_model, walking_2d, write_official

from vp3d.detectors.keypoints import Keypoints2D, fill_missing
from vp3d.lifter.camera import image_coordinates
from vp3d.lifter.inference import Lifter
from vp3d.pipeline.infer import InferenceOptions, detector_from_options, lift_keypoints, load_lifter
from vp3d.pipeline.overlap import live_geometry_frames, settled_frames
from vp3d.pipeline.run import run_video
from vp3d.render.video import Figure, SideBySideRender, render_figures
from vp3d.video import iter_frames, probe


def render_while_detecting(video, out, options, *, detector, progress, render_progress, crf=23, **models):
    """The default run's video drawn while detecting, as vp3d.pipeline.job does it: -> (result, video path)."""
    info = probe(video)
    render = SideBySideRender(video, out, info, geometry_frames=live_geometry_frames(info), crf=crf,
                              progress=render_progress)
    try:
        people = run_video(video, options, detector=detector, progress=progress, render=render, info=info, **models)
    except BaseException:
        render.abort()
        raise
    return people.people[0].result, render.complete(people.figures(), people.num_frames).path


def test_settled_frames_stop_lookahead_before_the_last_detection():
    detected = np.ones(100, bool)
    assert settled_frames(detected, 10) == 90
    detected[60:] = False  # the person is gone since frame 60: frames after 59 may still be interpolated
    assert settled_frames(detected, 10) == 50
    assert settled_frames(detected, 0) == 60
    assert settled_frames(np.zeros(100, bool), 10) == 0
    assert settled_frames(detected[:5], 10) == 0


def detections_with_gaps(frames: int, seed: int = 0) -> Keypoints2D:
    """h36m-layout detections in pixels of a 640x480 video, with a few frames missed."""
    xy = image_coordinates(walking_2d(frames, seed=seed), 640, 480)
    found = np.random.default_rng(seed).random(frames) > 0.15
    xy[~found] = np.nan
    return Keypoints2D(xy=xy, score=np.where(found[:, None], 0.9, 0.0).repeat(17, 1), detected=found,
                       layout="h36m", width=640, height=480)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("fps", [24.0, 50.0, 59.94])
def test_settled_poses_do_not_change_as_more_frames_arrive(tmp_path, causal, fps):
    name = "cpn-ft-243-dbb-causal.bin" if causal else "pretrained_h36m_cpn.bin"
    lifter = Lifter.load(write_official(tmp_path / name, small_model(causal=causal)))
    raw = detections_with_gaps(700)
    full = lift_keypoints(lifter, fill_missing(raw), fps).poses
    settled_any = False
    for n in (40, 130, 301, 450, 699):
        prefix = Keypoints2D(xy=raw.xy[:n], score=raw.score[:n], detected=raw.detected[:n], layout="h36m",
                             width=640, height=480)
        ready = settled_frames(prefix.detected, lifter.lookahead(fps))
        np.testing.assert_allclose(lift_keypoints(lifter, fill_missing(prefix), fps).poses[:ready], full[:ready],
                                   atol=1e-5)
        settled_any |= ready > 0
    assert settled_any


@pytest.fixture(scope="module")
def small_taiji(tmp_path_factory):
    """The whole tai chi video (412 frames, 17 s) at 384x216: long enough for the render to start while
    MediaPipe is still reading, small enough to compare lossless renders."""
    out = tmp_path_factory.mktemp("small") / "taiji_small.mp4"
    ffmpeg("-i", require_shared("videos", "taiji.mp4"), "-vf", "scale=384:216", "-c:v", "libx264",
           "-preset", "ultrafast", out)
    return out


def test_rendering_starts_before_detection_ends_and_draws_what_two_passes_draw(tmp_path, small_taiji):
    """Frames are rendered while MediaPipe still has 100 of the 412 frames to read: detection is held at
    that frame until the render reports a frame written (a render that waited for the end of detection
    would never report one, and the wait would fail). The left panel (frame + 2D skeleton) is pixel for
    pixel the two-pass render's (both lossless)."""
    import threading
    options = InferenceOptions()
    lifter, checkpoint = load_lifter(options)
    detector = detector_from_options(options)
    total = 412
    rendered_before_the_end = threading.Event()

    def hold_detection(frames_detected):
        if frames_detected == total - 100:
            assert rendered_before_the_end.wait(timeout=120), "nothing was rendered with 100 frames to detect"
    rendered = []
    try:
        result, path = render_while_detecting(
            small_taiji, tmp_path / "live.mp4", options, lifter=lifter, checkpoint_path=checkpoint,
            detector=detector, crf=0, progress=hold_detection,
            render_progress=lambda n: (rendered.append(n), rendered_before_the_end.set()))
    finally:
        detector.close()
    assert len(result.poses3d) == total and rendered == list(range(1, total + 1))
    assert result.keypoints.detected.mean() > 0.9
    kp = result.keypoints
    render_figures(small_taiji, tmp_path / "two_pass.mp4", crf=0,
                   figures=[Figure(kp.xy, kp.score, kp.detected, kp.layout, result.poses3d, result.trajectory)])
    width = result.video.width
    frames = 0
    for live, two_pass in zip(iter_frames(path), iter_frames(tmp_path / "two_pass.mp4")):
        np.testing.assert_array_equal(live[:, :width], two_pass[:, :width])
        assert (live[:, width:] != live[0, width]).any()  # the 3D panel is drawn
        frames += 1
    assert frames == total


def test_detection_goes_on_while_the_lifter_is_still_loading(tmp_path, small_taiji, monkeypatch):
    """The lifter (torch import, ~1 s) loads in the background; MediaPipe does not stop for it at its
    first update. The loader here finishes only once detection is 100 frames past that update."""
    import threading

    import vp3d.pipeline.overlap as overlap
    import vp3d.pipeline.run as run
    past_first_update = threading.Event()
    real_load = run.load_lifter

    def slow_load(options):
        assert past_first_update.wait(timeout=120), "detection stopped to wait for the lifter"
        return real_load(options)

    monkeypatch.setattr(run, "load_lifter", slow_load)
    options = InferenceOptions()
    detector = detector_from_options(options)
    rendered = [0]
    try:
        result, path = render_while_detecting(
            small_taiji, tmp_path / "live.mp4", options, detector=detector,
            progress=lambda n: past_first_update.set() if n >= overlap.FIRST_UPDATE + 100 else None,
            render_progress=lambda n: rendered.__setitem__(0, n))
    finally:
        detector.close()
    assert rendered[0] == len(result.poses3d) == 412 and path.exists()


def test_detection_goes_on_while_the_render_s_poses_are_lifted(tmp_path, small_taiji, monkeypatch):
    """The live feed's lift runs beside the detector: its first one here finishes only once detection is
    100 frames past the update that started it (in the detect loop's thread, the wait would never end)."""
    import threading

    from threadpoolctl import threadpool_info

    import vp3d.pipeline.overlap as overlap
    import vp3d.pipeline.people as people
    past_first_update = threading.Event()
    real_lift, real_person_lift, lifts, blas_threads = overlap.lift_people, people.result_from_keypoints, [], set()

    def slow_first_lift(*args, **kwargs):
        lifts.append(threading.current_thread().name)
        if len(lifts) == 1:
            assert past_first_update.wait(timeout=120), "detection stopped to wait for the live lift"
        return real_lift(*args, **kwargs)

    def person_lift(*args, **kwargs):  # where the lifter runs, live or after detection: how many BLAS threads
        blas_threads.update(pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas")
        return real_person_lift(*args, **kwargs)

    monkeypatch.setattr(overlap, "lift_people", slow_first_lift)
    monkeypatch.setattr(people, "result_from_keypoints", person_lift)
    # The first lift's wait counts as its cost, and the pause after it (LIFT_PAUSE times that) could outlast the
    # clip on a loaded machine: no second lift to look at. The pause has its own test below.
    monkeypatch.setattr(overlap, "LIFT_PAUSE", 0.0)
    options = InferenceOptions()
    lifter, checkpoint = load_lifter(options)
    detector = detector_from_options(options)
    rendered = [0]
    try:
        result, path = render_while_detecting(
            small_taiji, tmp_path / "live.mp4", options, detector=detector, lifter=lifter, checkpoint_path=checkpoint,
            progress=lambda n: past_first_update.set() if n >= overlap.FIRST_UPDATE + 100 else None,
            render_progress=lambda n: rendered.__setitem__(0, n))
    finally:
        detector.close()
    assert rendered[0] == len(result.poses3d) == 412 and path.exists()
    # ... in its own thread, with one BLAS thread (two, waiting on each other beside the render, took 5-10x as long)
    assert len(lifts) >= 2 and all(name.startswith("vp3d-live-lift") for name in lifts) and blas_threads <= {1}


def test_the_render_s_lifts_are_paced_by_their_own_cost(tmp_path, small_taiji, monkeypatch):
    """A lift for the render that took t seconds is followed by the next one no sooner than LIFT_PAUSE * t after
    it ended, however often detection offers one: a wide (slow) lifter does not take a core from the detector."""
    import threading
    import time

    import vp3d.pipeline.overlap as overlap
    real_lift, spans = overlap.lift_people, []

    def slow_lift(*args, **kwargs):  # a lifter of some cost: 0.2 s more per lift
        started = time.monotonic()
        time.sleep(0.2)
        out = real_lift(*args, **kwargs)
        if threading.current_thread().name.startswith("vp3d-live-lift"):
            spans.append((started, time.monotonic()))
        return out

    monkeypatch.setattr(overlap, "lift_people", slow_lift)
    options = InferenceOptions()
    lifter, checkpoint = load_lifter(options)
    detector = detector_from_options(options)
    try:
        result, path = render_while_detecting(small_taiji, tmp_path / "live.mp4", options, detector=detector,
                                              progress=None, render_progress=None, lifter=lifter,
                                              checkpoint_path=checkpoint)
    finally:
        detector.close()
    assert len(result.poses3d) == 412 and path.exists()
    assert len(spans) >= 2
    for (start, end), (next_start, _) in zip(spans, spans[1:]):
        assert next_start - end >= overlap.LIFT_PAUSE * (end - start) * 0.99  # (the feed times a little less)


def test_a_live_lift_that_fails_stops_detection_and_leaves_nothing(tmp_path, small_taiji, monkeypatch):
    import vp3d.pipeline.overlap as overlap

    def failing_lift(*args, **kwargs):
        raise RuntimeError("the live lift failed")

    monkeypatch.setattr(overlap, "lift_people", failing_lift)
    options = InferenceOptions()
    detector = detector_from_options(options)
    frames_detected = [0]
    try:
        with pytest.raises(RuntimeError, match="the live lift failed"):
            render_while_detecting(small_taiji, tmp_path / "live.mp4", options, detector=detector,
                                   progress=lambda n: frames_detected.__setitem__(0, n), render_progress=None)
    finally:
        detector.close()
    assert frames_detected[0] < 412  # raised at a batch after the failed lift, not at the end
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_while_rendering_and_detecting_leaves_nothing(tmp_path):
    """SIGINT while MediaPipe reads and the render's encoder is open (its hidden temporary file exists):
    exit 130, one line, and neither the video nor the JSON is left."""
    video = require_shared("videos", "taiji.mp4")
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen([str(Path(sys.executable).parent / "vp3d-infer"), str(video), "--out", str(out / "r.mp4"),
                             "--json", str(out / "r.json"), "--quiet"], stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    while not any(p.name.endswith(".partial.mp4") for p in out.iterdir()):
        assert proc.poll() is None and time.time() - t0 < 120, "the render never started"
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err.strip().splitlines() == ["vp3d: interrupted"], err
    assert list(out.iterdir()) == []
