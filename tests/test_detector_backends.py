"""`--detector` backends: layout mappings, multi-person candidates, precomputed keypoint files, Keypoint R-CNN,
Detectron2, RTMPose, and the CLI with `--detector file:PATH`.

No detector weights can be downloaded here, so the model backends are checked for their plumbing, not
their accuracy: Keypoint R-CNN runs torchvision's real architecture with random weights on real frames;
RTMPose runs tiny ONNX models built in the test (their outputs follow the image, so the crop / SimCC /
back-projection arithmetic is measured); Detectron2 cannot be installed here (not on PyPI), so its
test injects a fake `detectron2` package and checks only vp3d's side of the interface.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from conftest import blob_frame, require_shared, tiny_detector_onnx, tiny_pose_onnx
from vp3d.detectors.candidates import PersonCandidates, VideoCandidates, boxes_around
from vp3d.pipeline.detect import detect_candidates
from vp3d.detectors.keypoints import (HEAD_TOP_FACTOR, DetectorError, Keypoints2D, LayoutError, coco_to_h36m,
                                      conversion, mediapipe_to_coco, mediapipe_to_h36m, to_layout)
from vp3d.detectors.openpose import openpose_to_coco
from vp3d.detectors.precomputed import PrecomputedKeypoints, read_keypoint_file
from vp3d.video import ffmpeg_exe
from vp3d.skeleton import COCO, H36M

W, H, T = 320, 180, 5  # the test clip: 5 frames of taiji.mp4 scaled to 320x180


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    src = require_shared("videos", "taiji.mp4")
    out = tmp_path_factory.mktemp("clip") / "clip.mp4"
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-i", str(src), "-frames:v",
                    str(T), "-vf", f"scale={W}:{H}", "-an", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18",
                    str(out)], check=True, timeout=60)
    return out


@pytest.fixture(scope="module")
def frames(clip) -> list[np.ndarray]:
    from vp3d.video import iter_frames
    out = list(iter_frames(clip))
    assert len(out) == T and out[0].shape == (H, W, 3)
    return out


def coco_person(cx: float = 160.0, top: float = 20.0, scale: float = 1.0) -> np.ndarray:
    """(17, 2) pixels: a person facing the camera (their left on the image's right), 150 px tall at scale 1."""
    pts = {"nose": (0, 10), "left_eye": (4, 7), "right_eye": (-4, 7), "left_ear": (8, 9), "right_ear": (-8, 9),
           "left_shoulder": (20, 30), "right_shoulder": (-20, 30), "left_elbow": (26, 55), "right_elbow": (-26, 55),
           "left_wrist": (28, 80), "right_wrist": (-28, 80), "left_hip": (12, 80), "right_hip": (-12, 80),
           "left_knee": (13, 115), "right_knee": (-13, 115), "left_ankle": (14, 150), "right_ankle": (-14, 150)}
    return np.array([(cx + scale * pts[n][0], top + scale * pts[n][1]) for n in COCO.joint_names], np.float32)


# ------------------------------------------------------------------------------------------------ layouts

def test_coco_to_h36m_builds_each_joint_as_documented():
    xy = coco_person()
    score = np.linspace(0.3, 0.95, 17).astype(np.float32)
    out, s = coco_to_h36m(xy, score)
    c = {n: i for i, n in enumerate(COCO.joint_names)}
    h = {n: i for i, n in enumerate(H36M.joint_names)}
    hip, thorax, ears = (160, 100), (160, 50), (160, 29)
    expect = {"hip": hip, "right_hip": (148, 100), "right_knee": (147, 135), "right_foot": (146, 170),
              "left_hip": (172, 100), "left_knee": (173, 135), "left_foot": (174, 170),
              "spine": (160, 75), "thorax": thorax, "neck_nose": (160, 30),
              "head": (160, ears[1] + HEAD_TOP_FACTOR * (ears[1] - thorax[1])),
              "left_shoulder": (180, 50), "left_elbow": (186, 75), "left_wrist": (188, 100),
              "right_shoulder": (140, 50), "right_elbow": (134, 75), "right_wrist": (132, 100)}
    assert set(expect) == set(H36M.joint_names)
    for name, p in expect.items():
        np.testing.assert_allclose(out[h[name]], p, err_msg=name)
    assert s[h["left_knee"]] == score[c["left_knee"]] and s[h["neck_nose"]] == score[c["nose"]]
    assert s[h["hip"]] == min(score[c["left_hip"]], score[c["right_hip"]])
    assert s[h["spine"]] == min(score[[c["left_hip"], c["right_hip"], c["left_shoulder"], c["right_shoulder"]]])
    assert s[h["head"]] == min(score[[c["left_ear"], c["right_ear"], c["left_shoulder"], c["right_shoulder"]]])
    for left, right in zip(H36M.left, H36M.right):
        assert out[left, 0] > out[right, 0], (H36M.joint_names[left], H36M.joint_names[right])
    # Whole sequences, and MediaPipe -> H36M is MediaPipe -> COCO -> H36M.
    seq, seq_s = coco_to_h36m(np.stack([xy, xy + 3]), np.stack([score, score]))
    np.testing.assert_allclose(seq[1], out + 3)
    xy33 = np.random.default_rng(0).uniform(0, 300, (4, 33, 2)).astype(np.float32)
    s33 = np.random.default_rng(1).uniform(0, 1, (4, 33)).astype(np.float32)
    for a, b in zip(mediapipe_to_h36m(xy33, s33), coco_to_h36m(*mediapipe_to_coco(xy33, s33))):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError):
        coco_to_h36m(np.zeros((18, 2)), np.zeros(18))


# OpenPose's own joint names, from its documentation (output format), to check the index tables independently.
BODY_25 = ["Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist", "MidHip", "RHip",
           "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar", "LBigToe", "LSmallToe",
           "LHeel", "RBigToe", "RSmallToe", "RHeel"]
COCO_18 = ["Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist", "RHip", "RKnee",
           "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar"]


def openpose_name(coco_name: str) -> str:
    side, _, part = coco_name.partition("_")
    return "Nose" if coco_name == "nose" else side[0].upper() + part.capitalize()


@pytest.mark.parametrize("names", [BODY_25, COCO_18], ids=["BODY_25", "COCO-18"])
def test_openpose_to_coco_matches_joint_names(names):
    n = len(names)
    xy = np.stack([np.arange(n), np.arange(n) + 100], -1).astype(np.float32)  # x = OpenPose index
    out, s = openpose_to_coco(xy, np.arange(n, dtype=np.float32) / n)
    for k, coco_name in enumerate(COCO.joint_names):
        assert names[int(out[k, 0])] == openpose_name(coco_name), coco_name
        assert s[k] == out[k, 0] / n
    with pytest.raises(ValueError):
        openpose_to_coco(np.zeros((17, 2)), np.zeros(17))


def test_every_backend_layout_converts_to_both_lifter_layouts():
    from vp3d.detectors.detectron2_backend import Detectron2Detector
    from vp3d.detectors.keypoint_rcnn import KeypointRCNNDetector
    from vp3d.detectors.mediapipe_pose import MediaPipePoseDetector
    from vp3d.detectors.rtmpose import RTMPoseDetector

    assert MediaPipePoseDetector.layout == "mediapipe33"
    for backend in (KeypointRCNNDetector, Detectron2Detector, RTMPoseDetector):
        assert backend.layout == "coco" and backend.num_joints == 17
    for src in ("mediapipe33", "coco"):
        for dst in ("coco", "h36m"):
            assert (conversion(src, dst) is None) == (src == dst)
    kp = Keypoints2D(xy=np.zeros((2, 17, 2)), score=np.ones((2, 17)), detected=[True, True], layout="h36m",
                     width=10, height=10)
    assert to_layout(kp, "h36m") is kp
    with pytest.raises(LayoutError, match="'h36m' cannot be converted to 'coco'"):
        to_layout(kp, "coco")  # a custom 2D file in H36M order for a COCO lifter: no eyes, no ears


# ------------------------------------------------------------------------------------------------ candidates

def test_single_person_takes_the_highest_person_score_per_frame():
    a, b = coco_person(100), coco_person(220)
    frames = [
        PersonCandidates(boxes=boxes_around(np.stack([a, b]), np.ones((2, 17))), xy=np.stack([a, b]),
                         score=np.full((2, 17), 0.5), person_score=[0.6, 0.9]),
        PersonCandidates.empty(17),
        PersonCandidates(boxes=np.zeros((2, 4)), xy=np.stack([a, b]), score=np.stack([np.full(17, 0.7), np.full(17, 0.2)]),
                         person_score=[0.8, 0.3]),
    ]
    kp = VideoCandidates(frames, "coco", W, H, 17).single_person()
    assert kp.detected.tolist() == [True, False, True]
    np.testing.assert_array_equal(kp.xy[0], b)
    np.testing.assert_array_equal(kp.xy[2], a)
    assert np.isnan(kp.xy[1]).all() and (kp.score[1] == 0).all()
    np.testing.assert_allclose(kp.score[2], 0.7)
    assert (kp.layout, kp.width, kp.height) == ("coco", W, H)
    # Boxes around the joints, ignoring joints with score 0.
    score = np.ones((1, 17))
    score[0, 16] = 0
    xy = a[None].copy()
    xy[0, 16] = (999, 999)
    np.testing.assert_allclose(boxes_around(xy, score)[0], (72, 27, 128, 170))  # eyes to left ankle
    with pytest.raises(ValueError, match="inconsistent"):
        PersonCandidates(boxes=np.zeros((2, 4)), xy=np.zeros((1, 17, 2)), score=np.zeros((1, 17)), person_score=[1.0])


# ------------------------------------------------------------------------------------------------ files

def track(t: int = T) -> np.ndarray:
    """(t, 17, 2) a person walking right by 4 px per frame."""
    return np.stack([coco_person(140 + 4 * i) for i in range(t)])


def write_d2_npz(path: Path, per_frame: list[list[tuple[np.ndarray, float, np.ndarray]]], w: int = W, h: int = H):
    """The file VideoPose3D's inference/infer_video_d2.py writes: per frame [[], boxes (N, 5)] and
    [[], keypoints (N, 4, 17)] with rows x, y, logit (0), probability; [[], []] without a person. The ragged
    lists become (T, 2) object arrays, as np.savez made them in the numpy of the reference's time."""
    boxes, keypoints = np.empty((len(per_frame), 2), object), np.empty((len(per_frame), 2), object)
    for i, people in enumerate(per_frame):
        boxes[i, 0], keypoints[i, 0] = [], []
        if not people:
            boxes[i, 1], keypoints[i, 1] = [], []
            continue
        boxes[i, 1] = np.array([np.r_[xy.min(0) - 5, xy.max(0) + 5, s] for xy, s, _ in people], np.float32)
        kps = np.stack([np.concatenate([xy, np.zeros((17, 1)), prob[:, None]], axis=1) for xy, _, prob in people])
        keypoints[i, 1] = kps.transpose(0, 2, 1).astype(np.float32)  # (N, 4, 17)
    segments = np.empty(len(per_frame), object)
    np.savez_compressed(path, boxes=boxes, segments=segments, keypoints=keypoints, metadata={"w": w, "h": h})
    return path


def test_reference_detections_npz_round_trip(clip, tmp_path):
    xy = track()
    prob = np.linspace(0.5, 1.0, 17).astype(np.float32)
    other = coco_person(60, scale=0.5)
    per_frame = [[(xy[0], 0.98, prob)], [(other, 0.99, prob * 0.5), (xy[1], 0.95, prob)], [],
                 [(xy[3], 0.9, prob)], [(xy[4], 0.91, prob), (other, 0.75, prob)]]
    path = write_d2_npz(tmp_path / "clip.mp4.npz", per_frame)
    det = PrecomputedKeypoints(path)
    cands = detect_candidates(clip, det)
    assert det.layout == "coco" and "VideoPose3D detections" in det.name
    assert [len(c) for c in cands.frames] == [1, 2, 0, 1, 2]
    np.testing.assert_allclose(cands.frames[1].person_score, [0.99, 0.95])
    np.testing.assert_allclose(cands.frames[1].boxes[1], np.r_[xy[1].min(0) - 5, xy[1].max(0) + 5])
    kp = cands.single_person()
    assert kp.detected.tolist() == [True, True, False, True, True]
    np.testing.assert_allclose(kp.xy[1], other)  # the reference's rule: highest box score, here the other one
    np.testing.assert_allclose(kp.xy[[0, 3, 4]], xy[[0, 3, 4]])
    np.testing.assert_allclose(kp.score[0], prob)  # joint score = the probability row
    assert (kp.width, kp.height) == (W, H)

    with pytest.raises(DetectorError, match="4 frames of keypoints but .* has 5 frames"):
        detect_candidates(clip, PrecomputedKeypoints(write_d2_npz(tmp_path / "short.npz", per_frame[:4])))
    with pytest.raises(DetectorError, match="keypoints are for 640x360 frames"):
        detect_candidates(clip, PrecomputedKeypoints(write_d2_npz(tmp_path / "big.npz", per_frame, 640, 360)))


def test_pickled_npz_cannot_run_code(tmp_path):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    boxes = np.empty(1, object)
    boxes[0] = Payload()
    np.savez(tmp_path / "evil.npz", boxes=boxes, keypoints=boxes)
    with pytest.raises(DetectorError, match="refusing to load"):
        read_keypoint_file(tmp_path / "evil.npz")
    assert not marker.exists()


def test_safe_unpickler_reads_files_written_by_numpy_1():
    """The reference's files were written by numpy 1, whose pickles name numpy.core (numpy 2: numpy._core)."""
    import io
    from vp3d.detectors.safe_npz import safe_unpickle

    obj = {"model": {"w": np.arange(6, dtype=np.float32).reshape(2, 3)}, "meta": [None, 1.5, "x", (1, 2)],
           "scalar": np.float64(2.5)}
    data = pickle.dumps(obj, protocol=2)
    if b"numpy._core" in data:
        data = data.replace(b"numpy._core", b"numpy.core")  # protocol 2 names globals as newline-ended text
    out = safe_unpickle(io.BytesIO(data))
    np.testing.assert_array_equal(out["model"]["w"], obj["model"]["w"])
    assert out["meta"] == [None, 1.5, "x", (1, 2)] and out["scalar"] == 2.5


def test_custom_2d_npz_round_trip(clip, tmp_path):
    from vp3d.detectors.custom_2d_npz import save_custom_2d_npz

    xy = track()
    xy[2] = np.nan  # a frame the writer left out
    # Exactly what the reference's data/prepare_data_2d_custom.py writes (suggest_metadata('coco') + sizes),
    # for two videos; the video name is the detection file's name without ".npz", i.e. "clip.mp4".
    metadata = {"layout_name": "coco", "num_joints": 17,
                "keypoints_symmetry": [[1, 3, 5, 7, 9, 11, 13, 15], [2, 4, 6, 8, 10, 12, 14, 16]],
                "video_metadata": {"other.mp4": {"w": 1920, "h": 1080}, "clip.mp4": {"w": W, "h": H}}}
    positions = {"other.mp4": {"custom": [np.zeros((9, 17, 2), np.float32)]}, "clip.mp4": {"custom": [xy]}}
    path = tmp_path / "data_2d_custom_test.npz"
    np.savez_compressed(path, positions_2d=positions, metadata=metadata)
    kp = detect_candidates(clip, PrecomputedKeypoints(path)).single_person()
    assert kp.layout == "coco" and kp.detected.tolist() == [True, True, False, True, True]
    np.testing.assert_allclose(kp.xy[[0, 1, 3, 4]], xy[[0, 1, 3, 4]])
    assert (kp.score[kp.detected] == 1).all() and (kp.score[2] == 0).all()

    # vp3d's own writer (`--npz-2d`), Human3.6M layout, one video under another name.
    h36m, _ = coco_to_h36m(track(), np.ones((T, 17)))
    own = save_custom_2d_npz(tmp_path / "own.npz", "taiji", h36m, W, H, layout="h36m")
    kp = detect_candidates(clip, PrecomputedKeypoints(own)).single_person()
    assert kp.layout == "h36m" and kp.detected.all()
    np.testing.assert_allclose(kp.xy, h36m)

    positions["third.mp4"] = positions.pop("clip.mp4")
    np.savez_compressed(path, positions_2d=positions, metadata=metadata)
    with pytest.raises(DetectorError, match="none named 'clip.mp4' or 'clip'"):
        detect_candidates(clip, PrecomputedKeypoints(path))


def test_coco_results_json_round_trip(clip, tmp_path):
    xy = track()

    def result(frame, pts, score, v=0.8, **extra):
        return {"image_id": frame, "category_id": 1, "score": score,
                "keypoints": np.concatenate([pts, np.full((17, 1), v)], 1).ravel().round(3).tolist(), **extra}

    results = [result(0, xy[0], 0.9), result(1, coco_person(60), 0.4), result(1, xy[1], 0.8, bbox=[100, 10, 90, 170]),
               {**result(1, coco_person(250), 0.99), "category_id": 2},  # not a person: ignored
               result(3, xy[3], 0.7, v=2)]  # frames 2 and 4 have nobody; 4 is after the last entry
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results))
    cands = detect_candidates(clip, PrecomputedKeypoints(path))
    assert [len(c) for c in cands.frames] == [1, 2, 0, 1, 0]
    np.testing.assert_allclose(cands.frames[1].boxes[1], (100, 10, 190, 180))  # COCO bbox is x, y, w, h
    kp = cands.single_person()
    assert kp.detected.tolist() == [True, True, False, True, False]
    np.testing.assert_allclose(kp.xy[[0, 1, 3]], xy[[0, 1, 3]], atol=1e-3)
    np.testing.assert_allclose(kp.score[0], 0.8)
    np.testing.assert_allclose(kp.score[3], 1.0)  # v = 2 (a ground-truth "visible" flag) clips to 1

    path.write_text(json.dumps(results + [result(5, xy[0], 0.9)]))
    with pytest.raises(DetectorError, match="6 frames of keypoints but .* has 5 frames"):
        detect_candidates(clip, PrecomputedKeypoints(path))
    path.write_text(json.dumps([{"image_id": "frame1", "keypoints": [0] * 51}]))
    with pytest.raises(DetectorError, match="image_id must be a frame index"):
        detect_candidates(clip, PrecomputedKeypoints(path))


def write_openpose(folder: Path, people_per_frame: list[list[np.ndarray]], names: list[str]) -> Path:
    """OpenPose --write_json output: <video>_<12-digit frame>_keypoints.json, people[].pose_keypoints_2d.
    Each person is COCO-17 (17, 2) joints, all found with confidence 0.6, or (17, 3) with x, y, confidence
    (confidence 0: not found, written as 0, 0, 0 the way OpenPose does)."""
    folder.mkdir()
    for i, people in enumerate(people_per_frame):
        entries = []
        for person in people:
            person = np.c_[person, np.full(17, 0.6)] if person.shape[1] == 2 else person
            arr = np.zeros((len(names), 3))
            for k, coco_name in enumerate(COCO.joint_names):
                arr[names.index(openpose_name(coco_name))] = person[k] if person[k, 2] > 0 else 0
            arr[names.index("Neck")] = (*person[5:7, :2].mean(0), 0.9)
            entries.append({"person_id": [-1], "pose_keypoints_2d": arr.ravel().tolist(), "face_keypoints_2d": [],
                            "hand_left_keypoints_2d": [], "hand_right_keypoints_2d": []})
        (folder / f"clip_{i:012d}_keypoints.json").write_text(json.dumps({"version": 1.3, "people": entries}))
    return folder


@pytest.mark.parametrize("names", [BODY_25, COCO_18], ids=["BODY_25", "COCO-18"])
def test_openpose_folder_round_trip(clip, tmp_path, names):
    xy = track()
    # Frame 1: a person without legs found (listed first) and a whole one: the whole one has the higher
    # person score (mean joint confidence) and is the one kept.
    legless = np.c_[coco_person(40), np.r_[np.full(11, 0.6), np.zeros(6)]]
    people = [[xy[0]], [legless, xy[1]], [], [xy[3]], [xy[4]]]
    folder = write_openpose(tmp_path / "op", people, names)
    det = PrecomputedKeypoints(folder)
    cands = detect_candidates(clip, det)
    assert [len(c) for c in cands.frames] == [1, 2, 0, 1, 1] and cands.layout == "coco"
    assert ("BODY_25" if names is BODY_25 else "COCO-18") in det.name
    np.testing.assert_allclose(cands.frames[1].person_score, [0.6 * 11 / 17, 0.6], rtol=1e-6)
    np.testing.assert_allclose(cands.frames[1].boxes[0], (*coco_person(40)[:11].min(0), *coco_person(40)[:11].max(0)))
    kp = cands.single_person()
    assert kp.detected.tolist() == [True, True, False, True, True]
    np.testing.assert_allclose(kp.xy[[0, 1, 3, 4]], xy[[0, 1, 3, 4]])
    np.testing.assert_allclose(kp.score[0], 0.6)

    (folder / "clip_000000000003_keypoints.json").unlink()
    with pytest.raises(DetectorError, match="jump from 2 to 4"):
        detect_candidates(clip, PrecomputedKeypoints(folder))
    (folder / "clip_000000000003_keypoints.json").write_text(json.dumps({"people": []}))
    (folder / "clip_000000000005_keypoints.json").write_text(json.dumps({"people": []}))
    with pytest.raises(DetectorError, match="6 frames of keypoints but .* has 5 frames"):
        detect_candidates(clip, PrecomputedKeypoints(folder))


def test_unknown_keypoint_files_are_one_line_errors(tmp_path):
    np.savez(tmp_path / "x.npz", foo=np.zeros(3))
    with pytest.raises(DetectorError, match=r"keys \['foo'\]"):
        read_keypoint_file(tmp_path / "x.npz")
    (tmp_path / "y.npz").write_text("not a zip")
    with pytest.raises(DetectorError, match="not a keypoint"):
        read_keypoint_file(tmp_path / "y.npz")
    with pytest.raises(DetectorError, match="no such keypoint file"):
        PrecomputedKeypoints(tmp_path / "missing.npz")
    (tmp_path / "frame.json").write_text(json.dumps({"version": 1.3, "people": []}))
    with pytest.raises(DetectorError, match="one OpenPose frame; give the folder"):
        read_keypoint_file(tmp_path / "frame.json")


# ------------------------------------------------------------------------------------------------ keypoint-rcnn

@pytest.fixture(scope="module")
def random_rcnn():
    """torchvision's keypointrcnn_resnet50_fpn with random weights (no weights can be downloaded here), at a
    small input size (shorter side 180). Random box scores pass torchvision's 0.05 floor by the dozen and the
    box and keypoint heads run on each, so the test keeps 100 proposals and 3 boxes per frame (instead of
    1000 and 100) to stay near a second per frame on a CPU."""
    import torchvision  # noqa: F401  (pinned: missing, it fails)
    import torch
    from vp3d.detectors.keypoint_rcnn import build_model

    torch.manual_seed(0)
    model = build_model(min_size=H, max_size=W)
    model.rpn._post_nms_top_n["testing"] = 100
    model.roi_heads.detections_per_img = 3
    return model


def test_keypoint_rcnn_random_weights_end_to_end(random_rcnn, clip, frames, tmp_path):
    """Real architecture and real frames, random weights: checks shapes, batching, the box and keypoint
    plumbing back to frame pixels, the person threshold and the choice of one person; not accuracy."""
    import torch
    from vp3d.detectors.keypoint_rcnn import KeypointRCNNDetector

    det = KeypointRCNNDetector(random_rcnn, batch_size=3, person_threshold=0.0)
    assert det.layout == "coco" and not det.half
    done = []
    cands = detect_candidates(clip, det, progress=done.append)  # batches of 3 + 2 frames
    assert done == [3, 5] and len(cands.frames) == T and (cands.width, cands.height) == (W, H)
    out = cands.frames
    assert all(len(c) > 0 for c in out)  # random boxes score low, but above 0
    for c in out:
        assert c.xy.shape == (len(c), 17, 2) and c.score.shape == (len(c), 17) and c.boxes.shape == (len(c), 4)
        assert ((c.score >= 0) & (c.score <= 1)).all() and ((c.person_score >= 0) & (c.person_score <= 1)).all()
        b = c.boxes
        assert (b[:, 0] >= 0).all() and (b[:, 2] <= W).all() and (b[:, 1] >= 0).all() and (b[:, 3] <= H).all()
        assert (b[:, 2] >= b[:, 0]).all() and (b[:, 3] >= b[:, 1]).all()
        # torchvision puts each keypoint inside its own box: frame pixels, not the model's resized input
        inside = (c.xy >= b[:, None, :2] - 1) & (c.xy <= b[:, None, 2:] + 1)
        assert inside.all()
    # Batched and one-by-one give the same candidates (same frame size, so the same padding in the batch),
    # and the model gets what torchvision expects: RGB float (3, H, W) in [0, 1] at the frame's own size.
    seen = []
    hook = random_rcnn.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    try:
        alone = det.detect_batch(frames[1:2])[0]
    finally:
        hook.remove()
    assert len(seen[0]) == 1 and seen[0][0].dtype == torch.float32
    np.testing.assert_allclose(seen[0][0].permute(1, 2, 0).numpy(), frames[1][..., ::-1] / 255.0, atol=1e-6)
    np.testing.assert_allclose(alone.boxes, out[1].boxes, atol=1e-2)
    np.testing.assert_allclose(alone.xy, out[1].xy, atol=1e-2)

    # The person threshold drops weaker boxes; single-person mode takes the best remaining one.
    threshold = float(np.median(out[0].person_score))
    strict = KeypointRCNNDetector(random_rcnn, person_threshold=threshold).detect_batch(frames[:1])[0]
    assert 0 < len(strict) < len(out[0]) and (strict.person_score >= threshold).all()
    kp = cands.single_person()
    assert kp.detected.all() and kp.layout == "coco"
    for i in range(T):
        best = int(np.argmax(out[i].person_score))
        np.testing.assert_array_equal(kp.xy[i], out[i].xy[best])
        np.testing.assert_array_equal(kp.score[i], out[i].score[best])

    # A state_dict file loads with weights_only=True and gives the same model.
    weights = tmp_path / "krcnn.pth"
    torch.save(random_rcnn.state_dict(), weights)
    from vp3d.detectors.keypoint_rcnn import load_state_dict
    state, source = load_state_dict(weights)
    assert source == "krcnn.pth" and state.keys() == random_rcnn.state_dict().keys()
    for k in ("backbone.body.conv1.weight", "roi_heads.keypoint_predictor.kps_score_lowres.weight"):
        assert torch.equal(state[k], random_rcnn.state_dict()[k])
    loaded = KeypointRCNNDetector.load(weights, min_size=H, person_threshold=0.05)
    assert loaded.name == "keypoint-rcnn-resnet50-fpn (krcnn.pth)"
    loaded.model.rpn._post_nms_top_n["testing"] = 100  # as in the fixture
    loaded.model.roi_heads.detections_per_img = 3
    again = loaded.detect_batch(frames[:1])[0]
    keep = out[0].person_score >= 0.05
    assert keep.any()
    np.testing.assert_allclose(again.boxes, out[0].boxes[keep], atol=1e-3)
    np.testing.assert_allclose(again.xy, out[0].xy[keep], atol=1e-3)


def test_keypoint_rcnn_missing_or_bad_weights_are_one_line_errors(tmp_path, monkeypatch):
    import torchvision  # noqa: F401  (pinned: missing, it fails)
    import urllib.error

    import torch
    from vp3d.detectors.keypoint_rcnn import KeypointRCNNDetector

    # A machine without internet: the download raises URLError (simulated, so that a machine with a network
    # does not fetch 226 MB here).
    def offline(url, dst, *args, **kwargs):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(DetectorError) as e:
        KeypointRCNNDetector.load(None)
    assert str(e.value).startswith("keypoint-rcnn: weights not found; download needs internet, or pass "
                                   "--detector-weights PATH")
    assert "\n" not in str(e.value)
    # Weights already in torch's cache (where torchvision's download puts them) are used without a download.
    from torchvision.models.detection import KeypointRCNN_ResNet50_FPN_Weights
    from vp3d.detectors.keypoint_rcnn import load_state_dict
    cached = tmp_path / "torch" / "hub" / "checkpoints" / KeypointRCNN_ResNet50_FPN_Weights.DEFAULT.url.rsplit("/", 1)[1]
    cached.parent.mkdir(parents=True, exist_ok=True)  # made by the failed download above
    torch.save({"conv.weight": torch.ones(2)}, cached)
    state, source = load_state_dict(None)
    assert torch.equal(state["conv.weight"], torch.ones(2)) and source.startswith("torchvision KeypointRCNN")
    with pytest.raises(DetectorError, match="does not fit keypointrcnn_resnet50_fpn"):
        KeypointRCNNDetector.load(None)

    with pytest.raises(DetectorError, match="weights file .*nope.pth not found"):
        KeypointRCNNDetector.load(tmp_path / "nope.pth")
    with open(tmp_path / "pickled.pth", "wb") as f:  # a full pickle (runs code on load): refused
        pickle.dump({"model": types.SimpleNamespace(a=1)}, f, protocol=2)
    with pytest.raises(DetectorError, match="not a weights-only torch file"):
        KeypointRCNNDetector.load(tmp_path / "pickled.pth")


# ------------------------------------------------------------------------------------------------ detectron2

def fake_detectron2(monkeypatch, calls: dict):
    """A stand-in `detectron2` package (the real one is not installable here: not on PyPI, built from
    source). It offers only what vp3d calls: model_zoo, get_cfg, build_model, DetectionCheckpointer, and a
    model that records its inputs and answers with Instances-like objects in frame pixels."""
    import torch
    import urllib.error

    class Instances:
        def __init__(self, boxes, scores, keypoints):
            self.pred_boxes = types.SimpleNamespace(tensor=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4))
            self.scores = torch.tensor(scores, dtype=torch.float32)
            self.pred_keypoints = torch.tensor(keypoints, dtype=torch.float32).reshape(-1, 17, 3)

        def to(self, device):
            calls.setdefault("to", []).append(device)
            return self

        def __len__(self):
            return len(self.scores)

    class Model(torch.nn.Module):
        def forward(self, inputs):
            calls["inputs"] = [(tuple(x["image"].shape), x["image"].dtype, x["height"], x["width"]) for x in inputs]
            calls["first_pixel"] = inputs[0]["image"][:, 0, 0].tolist()
            out = []
            for k, x in enumerate(inputs):
                if k % 2:
                    out.append({"instances": Instances([], [], [])})
                    continue
                kps = np.zeros((2, 17, 3))
                kps[0, :, :2], kps[1, :, :2] = coco_person(100), coco_person(200)
                kps[0, :, 2], kps[1, :, 2] = 0.9, 0.4
                out.append({"instances": Instances([[70, 15, 130, 175], [170, 15, 230, 175]], [0.8, 0.95], kps)})
            return out

    class Cfg:
        def __init__(self):
            self.MODEL = types.SimpleNamespace(ROI_HEADS=types.SimpleNamespace(SCORE_THRESH_TEST=0.05), DEVICE="cuda")
            self.INPUT = types.SimpleNamespace(MIN_SIZE_TEST=800, MAX_SIZE_TEST=1333, FORMAT="BGR")

        def merge_from_file(self, path):
            calls["config"] = path

    class DetectionCheckpointer:
        def __init__(self, model):
            self.model = model

        def load(self, path):
            if path.startswith("https://"):  # the model-zoo download on a machine without internet
                raise urllib.error.URLError("[Errno -2] Name or service not known")
            calls["checkpoint"] = self._load_file(path)
            return {}

    def build_model(cfg):
        calls["cfg"] = cfg
        return Model()

    pkg = types.ModuleType("detectron2")
    pkg.model_zoo = types.SimpleNamespace(get_config_file=lambda name: f"/zoo/configs/{name}",
                                          get_checkpoint_url=lambda name: f"https://zoo.invalid/{name}.pkl")
    modules = {"detectron2": pkg, "detectron2.model_zoo": pkg.model_zoo,
               "detectron2.config": types.SimpleNamespace(get_cfg=Cfg),
               "detectron2.modeling": types.SimpleNamespace(build_model=build_model),
               "detectron2.checkpoint": types.SimpleNamespace(DetectionCheckpointer=DetectionCheckpointer)}
    for name, mod in modules.items():
        monkeypatch.setitem(sys.modules, name, mod)


def test_detectron2_backend_with_a_fake_detectron2(monkeypatch, tmp_path, frames):
    """vp3d's side of Detectron2 only (a fake package stands in for it; see fake_detectron2)."""
    from vp3d.detectors.detectron2_backend import CONFIG, Detectron2Detector, resized_size

    calls: dict = {}
    fake_detectron2(monkeypatch, calls)
    weights = tmp_path / "model_final_997cc7.pkl"
    with open(weights, "wb") as f:  # the model zoo's .pkl format
        pickle.dump({"model": {"backbone.stem.conv1.weight": np.ones((2, 3), np.float32)},
                     "__author__": "Detectron2 Model Zoo"}, f)
    det = Detectron2Detector.load(weights, device="cpu", batch_size=2)
    assert calls["config"] == f"/zoo/configs/{CONFIG}" and CONFIG == "COCO-Keypoints/keypoint_rcnn_R_101_FPN_3x.yaml"
    assert calls["cfg"].MODEL.ROI_HEADS.SCORE_THRESH_TEST == 0.7 and calls["cfg"].MODEL.DEVICE == "cpu"
    np.testing.assert_array_equal(calls["checkpoint"]["model"]["backbone.stem.conv1.weight"], np.ones((2, 3)))
    assert det.layout == "coco" and "model_final_997cc7.pkl" in det.name

    out = det.detect_batch(frames[:2])
    # DefaultPredictor's resize: shorter side 800, longer capped at 1333 -> 750 x 1333 for 180 x 320; BGR float.
    assert resized_size(H, W, 800, 1333) == (750, 1333)
    import torch
    assert calls["inputs"] == [((3, 750, 1333), torch.float32, H, W)] * 2
    np.testing.assert_allclose(calls["first_pixel"], frames[0][0, 0].astype(np.float32), atol=2)
    assert calls["to"] == ["cpu", "cpu"] and [len(c) for c in out] == [2, 0]
    np.testing.assert_allclose(out[0].xy[1], coco_person(200))
    np.testing.assert_allclose(out[0].score[0], 0.9)
    np.testing.assert_allclose(out[0].person_score, [0.8, 0.95])
    kp = VideoCandidates(out, "coco", W, H, 17).single_person()
    assert kp.detected.tolist() == [True, False]
    np.testing.assert_allclose(kp.xy[0], coco_person(200))  # the higher box score

    from vp3d.detectors.detectron2_backend import read_weights
    torch.save({"roi_heads.w": torch.ones(2)}, tmp_path / "w.pth")  # a plain state_dict, read weights-only
    assert read_weights(tmp_path / "w.pth")["model"]["roi_heads.w"].tolist() == [1.0, 1.0]
    with pytest.raises(DetectorError, match="detectron2: weights not found; download needs internet"):
        Detectron2Detector.load(None)
    with open(tmp_path / "evil.pkl", "wb") as f:
        pickle.dump({"model": types.SimpleNamespace(a=1), "__author__": "x"}, f)
    with pytest.raises(DetectorError, match="refusing to load types.SimpleNamespace"):
        Detectron2Detector.load(tmp_path / "evil.pkl")


def test_detectron2_missing_is_one_line_with_the_install_command(monkeypatch):
    from vp3d.detectors.factory import make_detector

    monkeypatch.setitem(sys.modules, "detectron2", None)  # not importable, even where it is installed
    with pytest.raises(DetectorError) as e:
        make_detector("detectron2")
    assert "pip install 'git+https://github.com/facebookresearch/detectron2.git'" in str(e.value)
    assert "\n" not in str(e.value)


# ------------------------------------------------------------------------------------------------ rtmpose

def test_rtmpose_crop_simcc_and_back_to_frame_pixels(tmp_path):
    """Tiny ONNX models stand in for YOLOX and RTMPose (no real weights here): the pose model points at the
    brightest spot of its crop, so keypoints land on the spot in frame pixels only if the letterbox
    scaling, the crop, the SimCC decoding and the inverse mapping are all right."""
    import onnxruntime  # noqa: F401  (pinned: missing, it fails)
    from vp3d.detectors.rtmpose import RTMPoseDetector, crop_box, decode_simcc

    # Frame 320x180 -> detector input 160x160: scale 0.5. Two people and one non-person (label 1) box.
    spots = [(200.0, 90.0), (61.0, 121.0)]
    frame_boxes = np.array([[170, 40, 230, 140], [30, 80, 90, 160], [0, 0, 320, 180]], np.float32)
    dets = np.c_[frame_boxes * 0.5, [0.9, 0.6, 0.95]]
    det_path = tiny_detector_onnx(tmp_path / "det.onnx", dets, [0, 0, 1])
    pose_path = tiny_pose_onnx(tmp_path / "pose.onnx")
    det = RTMPoseDetector.load(f"{det_path},{pose_path}", batch_size=2)
    assert det.det_hw == (160, 160) and det.pose_hw == (64, 48) and det.pose_batched

    frame = blob_frame(spots)
    out = det.detect_batch([frame, frame])
    assert [len(c) for c in out] == [2, 2]
    c = out[0]
    np.testing.assert_allclose(c.boxes, frame_boxes[:2], atol=1e-3)
    np.testing.assert_allclose(c.person_score, [0.9, 0.6], atol=1e-6)
    for person, spot in enumerate(spots):
        centre, size = crop_box(frame_boxes[person], det.pose_hw)
        tolerance = size[0] / 48  # one model-input pixel, in frame pixels
        np.testing.assert_allclose(c.xy[person], np.broadcast_to(spot, (17, 2)), atol=tolerance)
    assert ((c.score >= 0) & (c.score <= 1)).all() and (c.score > 0.9).all()  # the spot is the brightest pixel

    # The folder form finds which file is which; a pose model with a fixed batch of 1 gives the same.
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "a_pose.onnx").write_bytes(tiny_pose_onnx(tmp_path / "pose1.onnx", batch=1).read_bytes())
    (folder / "b_det.onnx").write_bytes(det_path.read_bytes())
    one_by_one = RTMPoseDetector.load(folder, person_threshold=0.7)
    assert not one_by_one.pose_batched
    single = one_by_one.detect_batch([frame])[0]
    assert len(single) == 1  # 0.6 is under the threshold
    np.testing.assert_allclose(single.xy[0], c.xy[0])

    # SimCC decoding by itself: bin / 2 per axis, score = mean of the two maxima.
    sx, sy = np.zeros((1, 17, 96), np.float32), np.zeros((1, 17, 128), np.float32)
    sx[0, :, 41], sy[0, :, 100] = 0.8, 0.6
    xy, score = decode_simcc(sx, sy)
    np.testing.assert_allclose(xy[0], np.broadcast_to((20.5, 50.0), (17, 2)))
    np.testing.assert_allclose(score[0], 0.7)


def test_rtmpose_weights_errors_are_one_line(tmp_path):
    import onnxruntime  # noqa: F401  (pinned: missing, it fails)
    from vp3d.detectors.rtmpose import RTMPoseDetector

    with pytest.raises(DetectorError, match="model files not given; pass --detector-weights DET.onnx,POSE.onnx"):
        RTMPoseDetector.load(None)
    with pytest.raises(DetectorError, match="holds 0 .onnx files"):
        RTMPoseDetector.load(tmp_path)
    with pytest.raises(DetectorError, match="model file .*det.onnx not found"):
        RTMPoseDetector.load(f"{tmp_path / 'det.onnx'},{tmp_path / 'pose.onnx'}")
    (tmp_path / "junk.onnx").write_bytes(b"not onnx")
    (tmp_path / "junk2.onnx").write_bytes(b"not onnx")
    with pytest.raises(DetectorError, match="not a usable ONNX model"):
        RTMPoseDetector.load(tmp_path)


# ------------------------------------------------------------------------------------------------ CLI

def test_cli_infer_with_file_detector_end_to_end(clip, tmp_path, capsys):
    from vp3d.cli import infer_main

    xy = track()
    prob = np.full(17, 0.9, np.float32)
    npz = write_d2_npz(tmp_path / "clip.mp4.npz", [[(xy[i], 0.99, prob)] if i != 2 else [] for i in range(T)])
    out = tmp_path / "joints.json"
    rc = infer_main([str(clip), "--detector", f"file:{npz}", "--no-render", "--json", str(out), "--quiet",
                     "--device", "cpu"])
    assert rc == 0, capsys.readouterr().err
    doc = json.loads(out.read_text())
    assert doc["detector"]["name"].startswith("file:clip.mp4.npz (VideoPose3D detections npz)")
    assert doc["detector"]["layout"] == "h36m" and doc["detector"]["frames_detected"] == T - 1
    frames = doc["frames"]
    assert len(frames) == T and [f["detected"] for f in frames] == [True, True, False, True, True]
    expected, _ = coco_to_h36m(xy, np.ones((T, 17)))
    got = np.array([[p[:2] for p in f["keypoints2d"]] for f in frames])
    np.testing.assert_allclose(got[[0, 1, 3, 4]], expected[[0, 1, 3, 4]], atol=1e-3)
    np.testing.assert_allclose(got[2], 0.5 * (expected[1] + expected[3]), atol=1e-3)  # filled between neighbours
    assert np.isfinite(np.array([f["joints3d"] for f in frames])).all()

    # Wrong frame count, unknown detector, missing weights: one line each, exit 1, nothing written.
    short = write_d2_npz(tmp_path / "short.npz", [[(xy[i], 0.99, prob)] for i in range(T - 1)])
    for args, message in (([f"--detector=file:{short}"], "4 frames of keypoints but"),
                          (["--detector", "posenet"], "unknown detector 'posenet'"),
                          (["--detector", "keypoint-rcnn", "--detector-weights", str(tmp_path / "no.pth")],
                           "weights file")):  # torchvision is pinned: the weights are what is missing
        capsys.readouterr()
        rc = infer_main([str(clip), *args, "--no-render", "--json", str(tmp_path / "x.json"), "--quiet",
                         "--device", "cpu"])
        err = capsys.readouterr().err
        assert rc == 1 and message in err and err.count("\n") == 1 and "Traceback" not in err, err
        assert not (tmp_path / "x.json").exists()
