"""Several people: tracking (vp3d.detectors.tracking), `--people` selection, and the multi-person outputs.

The motion is real: MediaPipe's COCO-17 keypoints of the taiji dancer on a short low-resolution cut of
../shared/data/videos/taiji.mp4, copied and moved to make several people.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import require_shared
from vp3d.detectors.candidates import PersonCandidates, boxes_around
from vp3d.detectors.tracking import min_track_frames, parse_people, select_tracks, track

FPS = 25.0  # the taiji clip's rate; max_gap_s 0.5 s = 12 frames
FRAMES = 48


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """The first 48 frames of taiji.mp4 at 320x180 (the dancer about 140 px tall, in the middle)."""
    from vp3d.video import ffmpeg_exe
    src = require_shared("videos", "taiji.mp4")
    out = tmp_path_factory.mktemp("people") / "taiji48.mp4"
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-i", str(src),
                    "-frames:v", str(FRAMES), "-vf", "scale=320:180", "-an", "-c:v", "libx264", "-preset",
                    "ultrafast", "-crf", "20", str(out)], check=True, timeout=60)
    return out


@pytest.fixture(scope="module")
def dancer(clip) -> tuple[np.ndarray, np.ndarray]:
    """MediaPipe's real detections of the dancer: xy (48, 17, 2) pixels and score (48, 17), COCO-17."""
    from vp3d.detectors.keypoints import to_layout
    from vp3d.detectors.mediapipe_pose import MediaPipePoseDetector
    from vp3d.pipeline.detect import detect_keypoints
    with MediaPipePoseDetector() as det:
        kp = to_layout(detect_keypoints(clip, det), "coco")
    assert kp.detected.all()
    return kp.xy, kp.score


def frames_of(people: list[tuple[np.ndarray, np.ndarray, np.ndarray]], seed: int = 0) -> list[PersonCandidates]:
    """Per-frame candidates of several people, each (xy (T, J, 2), score (T, J), present (T,)), listed in a
    shuffled order on every frame (detectors give no stable order)."""
    rng = np.random.default_rng(seed)
    out = []
    for t in range(len(people[0][0])):
        here = [(xy[t], s[t]) for xy, s, present in people if present[t]]
        rng.shuffle(here)
        if not here:
            out.append(PersonCandidates.empty(people[0][0].shape[1]))
            continue
        xy = np.stack([h[0] for h in here])
        score = np.stack([h[1] for h in here])
        out.append(PersonCandidates(boxes_around(xy, score), xy, score, np.full(len(here), 0.9)))
    return out


def moving(xy: np.ndarray, start_dx: float, end_dx: float) -> np.ndarray:
    """The keypoints (T, J, 2) shifted horizontally, the shift going linearly from start_dx to end_dx pixels."""
    return xy + np.stack([np.linspace(start_dx, end_dx, len(xy)), np.zeros(len(xy))], 1)[:, None, :]


def owner(tr, truth: list[np.ndarray]) -> set[int]:
    """Which ground-truth people the track's detections are, frame by frame (a set of one when no swap)."""
    found = set()
    for t in np.flatnonzero(tr.detected):
        found |= {k for k, xy in enumerate(truth) if np.allclose(tr.xy[t], xy[t])}
    return found


# ------------------------------------------------------------------------------------------------ tracking

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_people_crossing_keep_their_ids(dancer, seed):
    xy, score = dancer
    # A walks left to right, B right to left (the dance played backwards): their boxes overlap for about
    # a dozen frames around frame 24, where their hips pass through the same point.
    a = moving(xy, -120, 120)
    b = moving(xy[::-1], 120, -120)
    present = np.ones(FRAMES, bool)
    tracks = track(frames_of([(a, score, present), (b, score[::-1], present)], seed), FPS)
    assert len(tracks) == 2
    assert [owner(tr, [a, b]) for tr in tracks] in ([{0}, {1}], [{1}, {0}])
    assert all(tr.detected.all() for tr in tracks)


def test_crossing_with_one_hidden_behind_the_other_keeps_both_ids(dancer):
    xy, score = dancer
    a = moving(xy, -120, 120)
    b = moving(xy[::-1], 120, -120)
    hidden = np.ones(FRAMES, bool)
    hidden[20:29] = False  # B behind A for 9 frames (0.36 s) right where they cross
    tracks = track(frames_of([(a, score, np.ones(FRAMES, bool)), (b, score[::-1], hidden)]), FPS)
    assert len(tracks) == 2
    by_owner = {min(owner(tr, [a, b])): tr for tr in tracks}
    assert [owner(tr, [a, b]) for tr in tracks] in ([{0}, {1}], [{1}, {0}])
    assert (by_owner[1].detected == hidden).all()  # the hidden frames are marked not detected
    assert by_owner[0].detected.all()


def test_short_absence_keeps_the_id_and_a_long_one_starts_a_new_track(dancer):
    xy, score = dancer
    short = np.ones(FRAMES, bool)
    short[10:16] = False  # 6 frames = 0.24 s < max_gap_s 0.5 s
    [one] = track(frames_of([(xy, score, short)]), FPS)
    assert (one.id, one.first, one.last) == (0, 0, FRAMES - 1)
    assert (one.detected == short).all()
    assert np.isnan(one.xy[12]).all() and (one.score[12] == 0).all()

    long = np.ones(FRAMES, bool)
    long[10:30] = False  # 20 frames = 0.8 s: the person is taken for someone new when seen again
    first, second = track(frames_of([(xy, score, long)]), FPS)
    assert (first.id, first.first, first.last) == (0, 0, 9)
    assert (second.id, second.first, second.last) == (1, 30, FRAMES - 1)
    # ... unless the caller allows longer gaps
    [joined] = track(frames_of([(xy, score, long)]), FPS, max_gap_s=1.0)
    assert (joined.first, joined.last, joined.frames_detected) == (0, FRAMES - 1, FRAMES - 20)


def test_people_standing_apart_and_a_newcomer(dancer):
    xy, score = dancer
    late = np.arange(FRAMES) >= 30  # a third person walks in at frame 30
    people = [(xy - [100, 0], score, np.ones(FRAMES, bool)), (xy, score, np.ones(FRAMES, bool)),
              (xy + [100, 0], score, late)]
    tracks = track(frames_of(people, seed=5), FPS)
    assert [(tr.first, tr.last) for tr in tracks][2] == (30, FRAMES - 1)
    assert [owner(tr, [p[0] for p in people]) for tr in tracks][2] == {2}
    assert sorted(min(owner(tr, [p[0] for p in people])) for tr in tracks) == [0, 1, 2]


# ------------------------------------------------------------------------------------------------ --people

def test_parse_people():
    assert parse_people("all") is None
    assert parse_people("largest") == 1 and parse_people("LARGEST") == 1
    assert parse_people("3") == 3
    for bad in ("0", "-1", "most", ""):
        with pytest.raises(ValueError, match="--people takes all, largest or a number"):
            parse_people(bad)


def test_select_largest_n_and_all(dancer):
    xy, score = dancer
    centre = xy.mean(axis=(0, 1))
    always = np.ones(FRAMES, bool)
    flicker = np.zeros(FRAMES, bool)
    flicker[5:7] = True  # a 2-frame false detection, big but too short to be a person
    people = [((xy - centre) * 0.5 + [60, 90], score, always),  # small, id 0
              ((xy - centre) * 1.0 + [160, 90], score, always),  # big, id 1
              ((xy - centre) * 0.8 + [260, 90], score, always),  # middle, id 2
              ((xy - centre) * 1.3 + [160, 90] + [0, 400], score, flicker)]  # id 3
    tracks = track(frames_of(people, seed=3), FPS)
    assert [tr.id for tr in tracks] == [0, 1, 2, 3]
    sizes = {min(owner(tr, [p[0] for p in people])): tr.id for tr in tracks}
    minimum = min_track_frames(FPS)
    assert minimum == 5
    assert [tr.id for tr in select_tracks(tracks, 1, minimum)] == [sizes[1]]
    assert [tr.id for tr in select_tracks(tracks, 2, minimum)] == sorted([sizes[1], sizes[2]])
    assert [tr.id for tr in select_tracks(tracks, None, minimum)] == [0, 1, 2]  # in id order, flicker dropped
    assert [tr.id for tr in select_tracks(tracks, 10, minimum)] == [0, 1, 2]
    assert sizes[3] == 3
    # Nothing long enough: the largest is kept rather than nobody.
    assert [tr.id for tr in select_tracks([tracks[3]], None, minimum)] == [3]


# ------------------------------------------------------------------------------------------------ end to end

@pytest.fixture(scope="module")
def two_people_json(dancer, tmp_path_factory) -> tuple[Path, list[np.ndarray]]:
    """A COCO keypoint results JSON with the dancer and a copy of him 100 px to the right, who is missing
    on frames 20-23 (hidden); the entries of a frame are in a shuffled order. Returns (path, [xy A, xy B])."""
    xy, score = dancer
    b_xy = xy + [100, 0]
    rng = np.random.default_rng(7)
    results = []
    for t in range(FRAMES):
        here = [(xy[t], 0.95)] + ([] if 20 <= t <= 23 else [(b_xy[t], 0.9)])
        rng.shuffle(here)
        for kxy, s in here:
            kp = np.concatenate([kxy, score[t, :, None]], 1)
            results.append({"image_id": t, "category_id": 1, "score": s, "keypoints": kp.ravel().tolist()})
    path = tmp_path_factory.mktemp("people_json") / "people.json"
    path.write_text(json.dumps(results))
    return path, [xy, b_xy]


def hip_x(frames: list[dict]) -> np.ndarray:
    """Joint 0 (hip centre, Human3.6M) x pixels of each frame object of a vp3d.joints JSON."""
    return np.array([f["keypoints2d"][0][0] for f in frames])


def test_vp3d_infer_people_all_writes_two_tracks_and_a_video(clip, two_people_json, tmp_path, capsys):
    from vp3d.cli import infer_main
    from vp3d.video import iter_frames

    people_json, (a_xy, b_xy) = two_people_json
    out_json, out_npz, out_mp4 = tmp_path / "out.json", tmp_path / "out.npz", tmp_path / "out.mp4"
    rc = infer_main([str(clip), "--detector", f"file:{people_json}", "--people", "all", "--json", str(out_json),
                     "--npz", str(out_npz), "--out", str(out_mp4), "--device", "cpu", "--quiet"])
    assert rc == 0, capsys.readouterr().err
    doc = json.loads(out_json.read_text())
    assert doc["schema"] == "vp3d.joints/2" and "frames" not in doc
    assert doc["video"]["frame_count"] == FRAMES
    assert doc["tracking"]["people"] == "all" and doc["tracking"]["tracks_found"] == 2
    a, b = doc["people"]
    assert (a["track_id"], b["track_id"]) in ((0, 1), (1, 0))
    if hip_x(a["frames"]).mean() > hip_x(b["frames"]).mean():
        a, b = b, a
    a_hip = (a_xy[:, 11] + a_xy[:, 12]) / 2  # COCO hips -> the Human3.6M hip centre
    assert np.allclose(hip_x(a["frames"]), a_hip[:, 0], atol=0.01)  # A is A on every frame: no swap
    seen = np.array([not 20 <= t <= 23 for t in range(FRAMES)])
    assert np.allclose(hip_x(b["frames"])[seen], a_hip[seen, 0] + 100, atol=0.01)
    assert np.allclose(hip_x(b["frames"])[~seen], a_hip[~seen, 0] + 100, atol=3)  # interpolated over 0.2 s
    for person in (a, b):
        assert (person["first_frame"], person["last_frame"]) == (0, FRAMES - 1)
        assert [f["index"] for f in person["frames"]] == list(range(FRAMES))
        assert np.array(person["frames"][5]["joints3d"]).shape == (17, 3)
    assert [f["detected"] for f in b["frames"]] == seen.tolist()
    assert b["frames_detected"] == FRAMES - 4 and a["frames_detected"] == FRAMES
    assert all(k[2] == 0 for k in b["frames"][21]["keypoints2d"])  # interpolated: score 0

    npz = np.load(out_npz)
    assert npz["keypoints2d"].shape == (2, FRAMES, 17, 2) and npz["joints3d"].shape == (2, FRAMES, 17, 3)
    assert sorted(npz["track_ids"].tolist()) == [0, 1] and npz["in_track"].all()
    assert json.loads(str(npz["metadata"]))["schema"] == "vp3d.joints/2"

    frames = list(iter_frames(out_mp4))
    assert len(frames) == FRAMES and frames[0].shape == (180, 320 + 180, 3)
    # Both people are drawn in their own colour: blue (person shown first) and red (second) on the left panel.
    left = frames[10][:, :320].astype(int)
    blue = (left[..., 0] > 200) & (left[..., 2] < 120)
    red = (left[..., 2] > 200) & (left[..., 0] < 120)
    assert blue.sum() > 30 and red.sum() > 30


def test_vp3d_infer_people_largest_writes_the_single_person_file(clip, two_people_json, tmp_path, capsys):
    from vp3d.cli import infer_main

    people_json, (a_xy, _) = two_people_json
    out_json = tmp_path / "largest.json"
    rc = infer_main([str(clip), "--detector", f"file:{people_json}", "--people", "largest", "--no-render",
                     "--json", str(out_json), "--device", "cpu", "--quiet"])
    assert rc == 0, capsys.readouterr().err
    doc = json.loads(out_json.read_text())
    assert doc["schema"] == "vp3d.joints/1" and len(doc["frames"]) == FRAMES
    # B is missing on 4 frames, so A (seen on all 48) is the larger track.
    assert np.allclose(hip_x(doc["frames"]), (a_xy[:, 11, 0] + a_xy[:, 12, 0]) / 2, atol=0.01)


def test_people_all_with_mediapipe_and_with_csv_are_one_line_errors(clip, tmp_path, capsys):
    from vp3d.cli import infer_main

    rc = infer_main([str(clip), "--people", "all", "--no-render", "--json", str(tmp_path / "o.json"),
                     "--device", "cpu", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert rc == 1 and "\n" not in err and "follows one person" in err and "keypoint-rcnn" in err

    rc = infer_main([str(clip), "--people", "2", "--no-render", "--csv", str(tmp_path / "o.csv"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert rc == 1 and "\n" not in err and "--csv" in err and "--people largest" in err
    assert not (tmp_path / "o.json").exists() and not (tmp_path / "o.csv").exists()

    with pytest.raises(SystemExit) as e:
        infer_main([str(clip), "--people", "0", "--no-render", "--json", str(tmp_path / "o.json")])
    assert e.value.code == 2
    assert "--people takes all, largest or a number" in capsys.readouterr().err
