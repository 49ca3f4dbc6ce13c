"""Stage boundaries, end to end: what `vp3d-infer` writes equals the stages run one by one by the test.

Each case cuts two seconds of the tai chi video with ffmpeg (landscape 320x180 or portrait 192x256, at 24 or
60 frames/s), runs the real `vp3d-infer` (MediaPipe, the shipped lifter, ffmpeg) and recomputes here what
each stage should have handed on: MediaPipe's keypoints of the clip, and the shipped lifter applied to those
keypoints, normalized by the test's own formula with the clip's width and height, at the clip's frame rate,
with the flip augmentation the command line asked for. The four cases pair each orientation with both frame
rates, flip on and off, and the render drawn while detecting or none; each case also checks that it tells
the wiring apart (a wrong frame rate, flip or width/height would move the joints far beyond the tolerance).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import decoded_frames, ffmpeg, require_shared, vp3d_infer

from vp3d.detectors.keypoints import fill_missing, to_layout
from vp3d.detectors.mediapipe_pose import MediaPipePoseDetector
from vp3d.pipeline.detect import detect_keypoints
from vp3d.lifter.inference import Lifter
from vp3d.pipeline import job
from vp3d.pipeline.infer import InferenceOptions
from vp3d.lifter.weights import default_checkpoint
from vp3d.pipeline.job import Outputs, process_video
from vp3d.video import probe

SECONDS = 2
# orientation -> (width, height, ffmpeg filter); the portrait crop keeps the man (left of centre) inside it
SHAPES = {"landscape": (320, 180, "scale=320:180"), "portrait": (192, 256, "crop=540:720:150:0,scale=192:256")}
# case -> (orientation, frames per second, flip augmentation, render while detecting)
CASES = {
    "landscape-24fps-flip-render": ("landscape", 24, True, True),
    "landscape-60fps-noflip": ("landscape", 60, False, False),
    "portrait-24fps-noflip-render": ("portrait", 24, False, True),
    "portrait-60fps-flip": ("portrait", 60, True, False),
}
JOINTS_TOLERANCE = 1e-4  # metres: the same model in two processes, float32
KEYPOINTS_TOLERANCE = 1e-3  # pixels: the same MediaPipe graph in two processes


def screen_normalized(xy: np.ndarray, width: float, height: float) -> np.ndarray:
    """VideoPose3D's screen normalization written out: x from -1 to 1 across the width, y scaled by the
    same factor (aspect ratio kept), the image centre at 0."""
    return (xy / width * 2 - np.array([1.0, height / width])).astype(np.float32)


def root_relative(poses: np.ndarray) -> np.ndarray:
    return poses - poses[:, :1]


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """clips(orientation, fps) -> a SECONDS-long cut of the tai chi video, made once per module."""
    src = require_shared("videos", "taiji.mp4")
    folder = tmp_path_factory.mktemp("boundary_clips")
    made = {}

    def clip(orientation: str, fps: int):
        if (orientation, fps) not in made:
            out = folder / f"taiji_{orientation}_{fps}.mp4"
            ffmpeg("-ss", 5, "-i", src, "-t", SECONDS, "-vf", f"{SHAPES[orientation][2]},fps={fps}", "-an",
                   "-c:v", "libx264", "-preset", "ultrafast", out)
            made[orientation, fps] = out
        return made[orientation, fps]
    return clip


@pytest.fixture(scope="module")
def lifter():
    if not default_checkpoint().exists():
        pytest.fail(f"shipped weights missing: {default_checkpoint()}")
    return Lifter.load(default_checkpoint())


@pytest.fixture(scope="module", params=list(CASES))
def case(request, clips, tmp_path_factory):
    """One `vp3d-infer` run: -> dict of the case's settings, its clip, the NPZ and the rendered video (or None)."""
    orientation, fps, flip, render = CASES[request.param]
    clip = clips(orientation, fps)
    out = tmp_path_factory.mktemp(request.param)
    args = ["--npz", out / "r.npz", "--quiet"]
    args += ["--out", out / "r.mp4"] if render else ["--no-render"]
    args += [] if flip else ["--no-flip", "--no-smoothing"]
    proc = vp3d_infer(clip, *args)
    assert proc.returncode == 0, proc.stderr
    width, height, _ = SHAPES[orientation]
    with np.load(out / "r.npz") as npz:
        arrays = dict(npz)
    return {"clip": clip, "width": width, "height": height, "fps": fps, "flip": flip, "npz": arrays,
            "video": out / "r.mp4" if render else None}


def test_the_export_describes_the_clip_and_the_flip_setting(case):
    """Header: the clip's own size and rate, one entry per decoded frame, and `flip_augmentation` and the output
    smoothing and the moves toward the 2D and toward usual bone lengths as the command line set them (the shipped
    weights declare 1 frame, 0.3 and 0.3 of the way; --no-smoothing: none); the
    rendered video (when asked) has every frame, the 3D panel beside the picture."""
    npz, frames = case["npz"], decoded_frames(case["clip"])
    assert frames == SECONDS * case["fps"]
    assert (int(npz["width"]), int(npz["height"])) == (case["width"], case["height"])
    assert float(npz["fps"]) == pytest.approx(case["fps"], abs=1e-3)
    assert npz["keypoints2d"].shape == (frames, 17, 2) and npz["joints3d"].shape == (frames, 17, 3)
    lifter = json.loads(str(npz["metadata"]))["lifter"]
    assert lifter["flip_augmentation"] is case["flip"]
    assert lifter["output_smoothing_frames"] == (1.0 if case["flip"] else 0.0)
    assert lifter["moved_toward_the_2d"] == (0.3 if case["flip"] else 0.0)
    assert lifter["moved_toward_usual_bone_lengths"] == (0.3 if case["flip"] else 0.0)
    if case["video"] is not None:
        video = probe(case["video"])
        assert (video.width, video.height) == (case["width"] + case["height"], case["height"])
        assert decoded_frames(case["video"]) == frames


def test_the_2d_keypoints_are_mediapipes_on_the_clip(case):
    """Detector -> export: the exported 2D is what MediaPipe finds in the clip (run here, in this process),
    gaps filled, in the lifter's layout, in pixels of the clip."""
    with MediaPipePoseDetector() as detector:
        raw = detect_keypoints(case["clip"], detector)
    expected = to_layout(fill_missing(raw), "h36m")
    npz = case["npz"]
    assert expected.detected.mean() > 0.9  # the man is in the picture
    np.testing.assert_array_equal(npz["detected"], expected.detected)
    np.testing.assert_allclose(npz["keypoints2d"], expected.xy, atol=KEYPOINTS_TOLERANCE)


def test_the_3d_joints_are_the_lifter_on_the_exported_2d(case, lifter):
    """2D -> lifter -> export: joints3d = Lifter.lift(normalized 2D, clip fps, flip, smoothing as set; the case
    without flip is also run with --no-smoothing) made root-relative, the normalization by the clip's width and
    height. Each miswiring of that boundary -- the flip setting ignored, the frame rate not passed (no
    resampling to the model's 50 fps), width and height swapped, the smoothing setting ignored -- gives joints
    far from the export on this very clip, so the comparison can fail."""
    npz, fps, flip = case["npz"], case["fps"], case["flip"]
    kp2d = npz["keypoints2d"]

    def lifted(width, height, at_fps, with_flip, smooth=flip):
        return root_relative(lifter.lift(screen_normalized(kp2d, width, height), fps=at_fps, flip=with_flip,
                                         smooth=smooth).poses)

    w, h = case["width"], case["height"]
    np.testing.assert_allclose(npz["joints3d"], lifted(w, h, fps, flip), atol=JOINTS_TOLERANCE)
    for wrong in (lifted(w, h, fps, not flip), lifted(w, h, None, flip), lifted(h, w, fps, flip),
                  lifted(w, h, fps, flip, smooth=not flip)):
        assert np.abs(wrong - npz["joints3d"]).max() > 10 * JOINTS_TOLERANCE


def test_a_later_output_failing_takes_the_live_rendered_video_away(clips, tmp_path, monkeypatch):
    """The default run draws the video while MediaPipe reads (vp3d.pipeline.overlap). When an output written
    after it fails -- here the 2D NPZ, whose folder is removed while detection runs -- the finished video and
    the JSON and NPZ written before the failure are all removed: nothing is left behind."""
    clip = clips("landscape", 24)
    out, gone = tmp_path / "out", tmp_path / "gone"
    outputs = Outputs(video=out / "r.mp4", json=out / "r.json", npz=out / "r.npz", npz_2d=gone / "r.2d.npz")
    live_runs = []

    def run_video(*args, **kwargs):  # the real run, noting whether it feeds the renderer while detecting
        live_runs.append(kwargs["render"] is not None)
        return real_run_video(*args, **kwargs)
    real_run_video = job.run_video
    monkeypatch.setattr(job, "run_video", run_video)
    rendered = []

    def remove_the_2d_folder(frames_detected):  # prepare_outputs made it; it goes before the exports
        if frames_detected == 1:
            gone.rmdir()
    with pytest.raises(FileNotFoundError):
        process_video(clip, outputs, InferenceOptions(), detect_progress=remove_the_2d_folder,
                      render_progress=rendered.append)
    assert live_runs == [True]  # the video was drawn while detecting ...
    assert rendered[-1] == SECONDS * 24  # ... and finished, every frame, before the failure
    assert list(out.iterdir()) == []
