"""2D keypoints: gap filling, MediaPipe-33 -> COCO / Human3.6M mapping, and MediaPipe on real footage."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import require_shared
from vp3d.detectors.keypoints import (HEAD_TOP_FACTOR, Keypoints2D, NoPersonError, fill_missing,
                                      mediapipe_to_coco, mediapipe_to_h36m, to_layout)
from vp3d.video import ffmpeg_exe
from vp3d.skeleton import COCO, H36M

# ------------------------------------------------------------------------------------------------ fill_missing


def keypoints(xy, detected, score=None) -> Keypoints2D:
    xy = np.asarray(xy, np.float32)
    score = np.ones(xy.shape[:2], np.float32) if score is None else score
    return Keypoints2D(xy=xy, score=score, detected=np.asarray(detected), layout="coco", width=100, height=100)


def test_fill_missing_interpolates_inside_and_copies_at_the_edges():
    nan = np.nan
    # One joint, x only varies: frames 1 and 4 detected (x = 10 and 40), 0, 2, 3, 5 missing.
    xy = np.array([[[nan, nan]], [[10, 5]], [[nan, nan]], [[nan, nan]], [[40, 8]], [[nan, nan]]], np.float32)
    detected = [False, True, False, False, True, False]
    score = np.array([[0], [0.9], [0], [0], [0.7], [0]], np.float32)
    out = fill_missing(keypoints(xy, detected, score))
    np.testing.assert_allclose(out.xy[:, 0, 0], [10, 10, 20, 30, 40, 40])
    np.testing.assert_allclose(out.xy[:, 0, 1], [5, 5, 6, 7, 8, 8])
    np.testing.assert_allclose(out.score[:, 0], [0, 0.9, 0, 0, 0.7, 0])  # filled frames carry no confidence
    assert out.detected.tolist() == detected  # filled frames stay marked as not detected
    assert np.isnan(xy).any()  # the input is untouched


def test_fill_missing_without_gaps_changes_nothing():
    kp = keypoints(np.arange(12, dtype=np.float32).reshape(3, 2, 2), [True, True, True])
    out = fill_missing(kp)
    np.testing.assert_array_equal(out.xy, kp.xy)
    np.testing.assert_array_equal(out.score, kp.score)


def test_fill_missing_without_any_person_raises():
    kp = keypoints(np.full((4, 17, 2), np.nan), [False] * 4, np.zeros((4, 17), np.float32))
    with pytest.raises(NoPersonError):
        fill_missing(kp)


def test_keypoints_shapes_are_checked():
    with pytest.raises(ValueError):
        Keypoints2D(xy=np.zeros((3, 17, 2)), score=np.zeros((3, 16)), detected=np.ones(3, bool), layout="coco",
                    width=10, height=10)


# ------------------------------------------------------------------------------------------------ mapping

def synthetic_blazepose() -> tuple[np.ndarray, np.ndarray]:
    """A person facing the camera (their left on the image's right), in pixels, with distinct scores."""
    xy = np.zeros((33, 2), np.float32)
    pts = {
        0: (100, 40),                                  # nose
        1: (104, 35), 2: (106, 35), 3: (108, 35),      # left eye inner / centre / outer
        4: (96, 35), 5: (94, 35), 6: (92, 35),         # right eye
        7: (112, 38), 8: (88, 38),                     # left ear, right ear
        9: (103, 46), 10: (97, 46),                    # mouth left, right
        11: (130, 70), 12: (70, 70),                   # shoulders L, R
        13: (140, 110), 14: (60, 110),                 # elbows
        15: (145, 150), 16: (55, 150),                 # wrists
        23: (115, 150), 24: (85, 150),                 # hips
        25: (117, 210), 26: (83, 210),                 # knees
        27: (118, 270), 28: (82, 270),                 # ankles
        29: (116, 278), 30: (84, 278), 31: (124, 280), 32: (76, 280),  # heels, foot index
    }
    for i, p in pts.items():
        xy[i] = p
    for i in range(17, 23):  # hand points near the wrists
        xy[i] = xy[15 if i % 2 else 16]
    score = np.linspace(0.5, 0.98, 33).astype(np.float32)
    return xy, score


def test_mediapipe_to_coco_selects_the_matching_landmarks():
    xy33, s33 = synthetic_blazepose()
    xy, s = mediapipe_to_coco(xy33, s33)
    assert xy.shape == (17, 2) and s.shape == (17,)
    expected = [0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]
    np.testing.assert_array_equal(xy, xy33[expected])
    np.testing.assert_array_equal(s, s33[expected])
    # Left joints are the person's left: on the image's right for a person facing the camera.
    for left, right in zip(COCO.left, COCO.right):
        assert xy[left, 0] > xy[right, 0], (COCO.joint_names[left], COCO.joint_names[right])


def test_mediapipe_to_h36m_exact_joints():
    xy33, s33 = synthetic_blazepose()
    xy, s = mediapipe_to_h36m(xy33, s33)
    j = {name: i for i, name in enumerate(H36M.joint_names)}
    expect = {
        "hip": (100, 150), "right_hip": (85, 150), "right_knee": (83, 210), "right_foot": (82, 270),
        "left_hip": (115, 150), "left_knee": (117, 210), "left_foot": (118, 270),
        "thorax": (100, 70), "spine": (100, 110), "neck_nose": (100, 40),
        # ear midpoint (100, 38) + 0.5 * ((100, 38) - thorax (100, 70)) = (100, 22)
        "head": (100, 38 + HEAD_TOP_FACTOR * (38 - 70)),
        "left_shoulder": (130, 70), "left_elbow": (140, 110), "left_wrist": (145, 150),
        "right_shoulder": (70, 70), "right_elbow": (60, 110), "right_wrist": (55, 150),
    }
    for name, p in expect.items():
        np.testing.assert_allclose(xy[j[name]], p, err_msg=name)
    assert HEAD_TOP_FACTOR == 0.5
    # Scores: copied for single landmarks, the minimum of the parts for made-up joints.
    assert s[j["left_knee"]] == s33[25] and s[j["right_wrist"]] == s33[16] and s[j["neck_nose"]] == s33[0]
    assert s[j["hip"]] == min(s33[23], s33[24])
    assert s[j["thorax"]] == min(s33[11], s33[12])
    assert s[j["spine"]] == min(s33[11], s33[12], s33[23], s33[24])
    assert s[j["head"]] == min(s33[7], s33[8], s33[11], s33[12])
    for left, right in zip(H36M.left, H36M.right):
        assert xy[left, 0] > xy[right, 0], (H36M.joint_names[left], H36M.joint_names[right])


def test_mappings_work_on_whole_sequences():
    xy33, s33 = synthetic_blazepose()
    seq_xy = np.stack([xy33, xy33 + 5, xy33 - 5])
    seq_s = np.stack([s33] * 3)
    xy, s = mediapipe_to_h36m(seq_xy, seq_s)
    assert xy.shape == (3, 17, 2) and s.shape == (3, 17)
    np.testing.assert_allclose(xy[1], mediapipe_to_h36m(xy33, s33)[0] + 5)
    kp = Keypoints2D(xy=seq_xy, score=seq_s, detected=np.ones(3, bool), layout="mediapipe33", width=200, height=300)
    coco = to_layout(kp, "coco")
    assert coco.layout == "coco" and coco.xy.shape == (3, 17, 2) and (coco.width, coco.height) == (200, 300)
    h36m = to_layout(coco, "h36m")  # COCO -> H36M exists (tests/test_detector_backends.py checks it)
    np.testing.assert_allclose(h36m.xy, to_layout(kp, "h36m").xy)
    with pytest.raises(ValueError, match="cannot be converted"):
        to_layout(h36m, "coco")  # Human3.6M has no eyes or ears
    with pytest.raises(ValueError):
        mediapipe_to_coco(np.zeros((17, 2)), np.zeros(17))


# ------------------------------------------------------------------------------------------------ MediaPipe

@pytest.fixture(scope="module")
def taiji_40(tmp_path_factory) -> Path:
    """The first 40 frames of taiji.mp4 (the man stands facing the camera)."""
    src = require_shared("videos", "taiji.mp4")
    out = tmp_path_factory.mktemp("taiji") / "taiji40.mp4"
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-i", str(src),
                    "-frames:v", "40", "-an", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", str(out)],
                   check=True, timeout=60)
    return out


def test_mediapipe_finds_the_taiji_person_with_plausible_keypoints(taiji_40: Path):
    from vp3d.detectors.mediapipe_pose import MediaPipePoseDetector
    from vp3d.pipeline.detect import detect_keypoints

    done = []
    with MediaPipePoseDetector() as det:
        assert det.layout == "mediapipe33"
        assert det.name == "mediapipe-blazepose-full-0.10.14"
        kp = detect_keypoints(taiji_40, det, progress=done.append)
    assert done == list(range(1, 41))
    assert kp.num_frames == 40 and kp.detected.all()
    assert (kp.width, kp.height, kp.layout) == (1280, 720, "mediapipe33")
    assert kp.xy.shape == (40, 33, 2) and kp.score.shape == (40, 33)
    assert ((kp.score >= 0) & (kp.score <= 1)).all()

    c = to_layout(kp, "coco")
    xy = c.xy
    assert (xy[..., 0] > 0).all() and (xy[..., 0] < 1280).all()
    assert (xy[..., 1] > 0).all() and (xy[..., 1] < 720).all()
    assert (c.score > 0.5).all()  # full body in view, nothing hidden

    def length(a: str, b: str) -> np.ndarray:
        n = COCO.joint_names
        return np.linalg.norm(xy[:, n.index(a)] - xy[:, n.index(b)], axis=-1)

    # Nose to ankles: a standing man filling most of the 720 px frame.
    stature = 0.5 * (xy[:, 15, 1] + xy[:, 16, 1]) - xy[:, 0, 1]
    assert (stature > 350).all() and (stature < 720).all()
    for side in ("left", "right"):
        for (a, b), (lo, hi) in {("hip", "knee"): (0.18, 0.35), ("knee", "ankle"): (0.15, 0.32),
                                 ("shoulder", "elbow"): (0.12, 0.26), ("elbow", "wrist"): (0.09, 0.22)}.items():
            ratio = length(f"{side}_{a}", f"{side}_{b}") / stature
            assert ((ratio > lo) & (ratio < hi)).all(), (side, a, b, ratio.min(), ratio.max())
    for a, b in (("hip", "knee"), ("knee", "ankle"), ("shoulder", "elbow")):
        sym = length(f"left_{a}", f"left_{b}") / length(f"right_{a}", f"right_{b}")
        assert ((sym > 0.8) & (sym < 1.25)).all(), (a, b)
    # He faces the camera: his left shoulder and hip are on the image's right.
    assert (xy[:, 5, 0] > xy[:, 6, 0]).all() and (xy[:, 11, 0] > xy[:, 12, 0]).all()
    # He barely moves in these 1.7 s: tracking must not jump around.
    assert np.abs(np.diff(xy, axis=0)).max() < 20


def test_mediapipe_without_person_returns_none():
    from vp3d.detectors.mediapipe_pose import MediaPipePoseDetector

    with MediaPipePoseDetector() as det:
        assert det.detect(np.zeros((240, 320, 3), np.uint8)) is None
    with pytest.raises(RuntimeError, match="closed"):
        det.detect(np.zeros((240, 320, 3), np.uint8))


def run_python(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_mediapipe_starts_without_matplotlib_or_sounddevice_and_its_plot_helper_still_works():
    """MediaPipe's import brings matplotlib.pyplot and sounddevice, which vp3d never uses (most of a second of
    start-up); vp3d's detector starts without them, and MediaPipe's plotting helper still gets the real
    pyplot when someone calls it. Where matplotlib is already imported, MediaPipe gets it as usual."""
    build = ("import sys; from vp3d.detectors.mediapipe_pose import MediaPipePoseDetector; "
             "MediaPipePoseDetector().close(); ")
    assert run_python(build + "print(sorted({'matplotlib', 'sounddevice', 'mediapipe'} & set(sys.modules)))") \
        == "['mediapipe']"
    assert run_python(build + "from mediapipe.python.solutions import drawing_utils; import matplotlib.pyplot; "
                              "print(drawing_utils.plt.figure is matplotlib.pyplot.figure)") == "True"
    assert run_python("import matplotlib.pyplot; " + build + "from mediapipe.python.solutions import "
                      "drawing_utils; print(drawing_utils.plt is matplotlib.pyplot)") == "True"


def test_mediapipe_models_that_are_not_installed_are_refused():
    from vp3d.detectors.mediapipe_pose import MediaPipePoseDetector

    with pytest.raises(ValueError):
        MediaPipePoseDetector(model_complexity=3)
    import mediapipe

    heavy = Path(mediapipe.__file__).parent / "modules" / "pose_landmark" / "pose_landmark_heavy.tflite"
    if heavy.exists():
        pytest.skip("this mediapipe install has the heavy model")
    with pytest.raises(RuntimeError, match="not installed"):
        MediaPipePoseDetector(model_complexity=2)  # "heavy" is not in the wheel; it must not try to download


def test_mediapipe_lite_runs_offline_from_weights_and_finds_what_the_full_model_finds(taiji_40: Path):
    """--detector mediapipe-lite: BlazePose's lite model, which the wheel lacks, comes from vp3d's weights/ (put
    where MediaPipe would download it, checked by its hash); on the same frames its joints lie within a few
    percent of the person's height of the full model's."""
    import hashlib

    from vp3d.detectors.blazepose_lite import LITE_SHA256
    from vp3d.detectors.factory import make_detector
    from vp3d.pipeline.detect import detect_keypoints

    with make_detector("mediapipe-lite") as lite:
        assert lite.name == "mediapipe-blazepose-lite-0.10.14"
        fast = detect_keypoints(taiji_40, lite)
    import mediapipe
    placed = Path(mediapipe.__file__).parent / "modules" / "pose_landmark" / "pose_landmark_lite.tflite"
    assert hashlib.sha256(placed.read_bytes()).hexdigest() == LITE_SHA256
    with make_detector("mediapipe") as full:
        ref = detect_keypoints(taiji_40, full)
    assert fast.detected.all()
    a, b = to_layout(fast, "h36m").xy, to_layout(ref, "h36m").xy
    height = np.ptp(b[..., 1], axis=1).mean()
    gap = np.linalg.norm(a - b, axis=-1) / height
    assert np.median(gap) < 0.03 and gap.max() < 0.15
    assert not np.allclose(a, b)  # another model, not the full one under another name


def test_a_wrong_or_unwritable_lite_model_is_one_line(tmp_path):
    from vp3d.detectors.blazepose_lite import place_lite_model
    from vp3d.detectors.keypoints import DetectorError

    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a model")
    with pytest.raises(DetectorError, match="not the BlazePose lite model") as e:
        place_lite_model(tmp_path / "target.tflite", source=bad)
    assert "\n" not in str(e.value) and not (tmp_path / "target.tflite").exists()
    with pytest.raises(DetectorError, match="not there"):
        place_lite_model(tmp_path / "target.tflite", source=tmp_path / "missing.tflite")
    with pytest.raises(DetectorError, match="cannot place"):
        place_lite_model(tmp_path / "no_such_folder" / "target.tflite")
    assert list(tmp_path.iterdir()) == [bad]
