"""Joint angles (vp3d.angles) on constructed poses whose angles are known by construction."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from poses import J, standing
from vp3d.angles import (ANGLE_NAMES, angle_summary, angles_from_joints_json, joint_angles, write_angles_csv,
                         write_summary_json)
from vp3d.skeleton import H36M


def rot_x(deg):
    a = math.radians(deg)
    return np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])


def rot_y(deg):
    a = math.radians(deg)
    return np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])


def rot_z(deg):
    a = math.radians(deg)
    return np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])


def bend(p, joint, children, R):
    """Rotate the joints `children` about joint `joint` by R (a rigid change of one limb)."""
    p = p.copy()
    c = p[J[joint]]
    for name in children:
        p[J[name]] = c + R @ (p[J[name]] - c)
    return p


def angles_of(p, frame="world"):
    return {k: float(v[0]) for k, v in joint_angles(p[None], None, frame).items()}


def test_standing_pose_is_all_zero():
    a = angles_of(standing())
    for name in ANGLE_NAMES:
        assert a[name] == pytest.approx(0.0, abs=1e-6), name


def test_knee_bent_90_is_90_and_only_that_knee():
    # shank rotated backwards (foot behind): about +x by -90 deg takes (0, -1, 0) to (0, 0, -1)
    p = bend(standing(), "right_knee", ["right_foot"], rot_x(-90))
    a = angles_of(p)
    assert a["right_knee_flexion"] == pytest.approx(90.0, abs=1e-6)
    assert a["left_knee_flexion"] == pytest.approx(0.0, abs=1e-6)
    assert a["right_hip_flexion"] == pytest.approx(0.0, abs=1e-6)


def test_hip_flexion_signed_and_abduction_is_not_flexion():
    # thigh forward 90 deg (knee towards +z): about +x by +90 takes (0, -1, 0) to (0, 0, 1)... check sign
    leg = ["left_knee", "left_foot"]
    forward = bend(standing(), "left_hip", leg, rot_x(-90))
    assert forward[J["left_knee"]][2] > 0.4  # knee ahead of the body
    assert angles_of(forward)["left_hip_flexion"] == pytest.approx(90.0, abs=1e-6)
    assert angles_of(forward)["left_knee_flexion"] == pytest.approx(0.0, abs=1e-6)
    back = bend(standing(), "left_hip", leg, rot_x(20))
    assert angles_of(back)["left_hip_flexion"] == pytest.approx(-20.0, abs=1e-6)
    sideways = bend(standing(), "left_hip", leg, rot_z(30))  # abduction: the knee moves out to +x
    assert sideways[J["left_knee"]][0] > 0.1
    assert angles_of(sideways)["left_hip_flexion"] == pytest.approx(0.0, abs=1e-6)


def test_elbow_and_shoulder_elevation():
    arm = ["right_elbow", "right_wrist"]
    raised = bend(standing(), "right_shoulder", arm, rot_x(-45))  # flexion 45 deg, arm forward
    a = angles_of(raised)
    assert a["right_shoulder_elevation"] == pytest.approx(45.0, abs=1e-6)
    assert a["right_elbow_flexion"] == pytest.approx(0.0, abs=1e-6)
    abducted = bend(standing(), "left_shoulder", ["left_elbow", "left_wrist"], rot_z(90))  # arm out sideways
    assert angles_of(abducted)["left_shoulder_elevation"] == pytest.approx(90.0, abs=1e-6)
    bent = bend(standing(), "right_elbow", ["right_wrist"], rot_x(-120))
    assert angles_of(bent)["right_elbow_flexion"] == pytest.approx(120.0, abs=1e-6)


def test_trunk_lean_30_in_world_and_nan_in_camera_frame():
    p = standing()
    hip = p[J["hip"]].copy()
    upper = ["spine", "thorax", "neck_nose", "head", "left_shoulder", "left_elbow", "left_wrist",
             "right_shoulder", "right_elbow", "right_wrist"]
    leaning = p.copy()
    for name in upper:
        leaning[J[name]] = hip + rot_x(30) @ (p[J[name]] - hip)  # forward lean: thorax moves to +z
    a = angles_of(leaning)
    assert a["trunk_lean"] == pytest.approx(30.0, abs=1e-6)
    # legs stay vertical while the trunk leans forward: the hips are flexed by the lean
    assert a["left_hip_flexion"] == pytest.approx(30.0, abs=1e-6)
    assert a["left_shoulder_elevation"] == pytest.approx(0.0, abs=1e-6)  # arms move with the trunk
    camera = leaning * np.array([1, -1, -1])
    assert math.isnan(angles_of(camera, "camera")["trunk_lean"])


def test_pelvis_and_shoulder_rotation_20():
    p = standing()
    turned = (rot_y(20) @ p.T).T  # the whole body turns 20 deg counter-clockwise seen from above
    a = angles_of(turned)
    assert a["pelvis_rotation"] == pytest.approx(20.0, abs=1e-6)
    assert a["shoulder_rotation"] == pytest.approx(20.0, abs=1e-6)
    twisted = p.copy()
    for name in ("left_shoulder", "right_shoulder"):
        twisted[J[name]] = (rot_y(-35) @ p[J[name]])
    a = angles_of(twisted)
    assert a["pelvis_rotation"] == pytest.approx(0.0, abs=1e-6)
    assert a["shoulder_rotation"] == pytest.approx(-35.0, abs=1e-6)
    back = angles_of((rot_y(180) @ p.T).T)
    assert abs(back["pelvis_rotation"]) == pytest.approx(180.0, abs=1e-6)


def test_camera_frame_matches_world_frame_for_a_level_camera():
    p = bend(bend(standing(), "right_knee", ["right_foot"], rot_x(-70)), "left_hip",
             ["left_knee", "left_foot"], rot_x(-40))
    p = (rot_y(15) @ p.T).T
    world = angles_of(p)
    camera = angles_of(p * np.array([1, -1, -1]), "camera")  # y down, z away from the viewer
    for name in ANGLE_NAMES:
        if name != "trunk_lean":
            assert camera[name] == pytest.approx(world[name], abs=1e-6), name


def test_filled_frames_are_nan_and_detected_frames_are_not():
    poses = np.stack([standing(), bend(standing(), "left_knee", ["left_foot"], rot_x(-60)), standing()])
    detected = np.array([True, False, True])
    a = joint_angles(poses, detected, "world")
    for name in ANGLE_NAMES:
        assert math.isnan(a[name][1]), name
        assert np.isfinite(a[name][[0, 2]]).all(), name


def test_mirroring_swaps_left_and_right():
    rng = np.random.default_rng(0)
    p = standing()
    p = bend(p, "right_knee", ["right_foot"], rot_x(-50))
    p = bend(p, "left_hip", ["left_knee", "left_foot"], rot_x(-25) @ rot_z(10))
    p = bend(p, "right_shoulder", ["right_elbow", "right_wrist"], rot_z(-60))
    p = bend(p, "left_elbow", ["left_wrist"], rot_x(-80))
    p = (rot_y(25) @ p.T).T + rng.normal(0, 0.01, p.shape)
    mirrored = (p * np.array([-1, 1, 1]))[H36M.flip_permutation()]
    a, m = angles_of(p), angles_of(mirrored)
    for name in ANGLE_NAMES:
        if name.startswith("left_"):
            assert m[name] == pytest.approx(a["right_" + name[5:]], abs=1e-6), name
            assert m["right_" + name[5:]] == pytest.approx(a[name], abs=1e-6), name
    assert m["trunk_lean"] == pytest.approx(a["trunk_lean"], abs=1e-6)
    assert m["pelvis_rotation"] == pytest.approx(-a["pelvis_rotation"], abs=1e-6)
    assert m["shoulder_rotation"] == pytest.approx(-a["shoulder_rotation"], abs=1e-6)


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        joint_angles(np.zeros((3, 16, 3)))
    with pytest.raises(ValueError):
        joint_angles(np.zeros((3, 17, 3)), frame="image")
    with pytest.raises(ValueError):
        joint_angles(np.zeros((3, 17, 3)), detected=np.ones(2, bool))


def test_degenerate_bones_give_nan_not_a_number():
    p = standing()
    p[J["left_foot"]] = p[J["left_knee"]]
    assert math.isnan(angles_of(p)["left_knee_flexion"])


def test_csv_summary_and_json(tmp_path):
    poses = np.stack([standing(), bend(standing(), "left_knee", ["left_foot"], rot_x(-60)), standing(),
                      bend(standing(), "left_knee", ["left_foot"], rot_x(-30))])
    detected = np.array([True, True, False, True])
    angles = joint_angles(poses, detected, "world")
    out = write_angles_csv(tmp_path / "angles.csv", angles, fps=25.0, detected=detected)
    lines = out.read_text().splitlines()
    assert lines[0].startswith("#")
    rows = list(csv.DictReader(lines[1:]))
    assert list(rows[0])[:3] == ["frame", "time_s", "detected"] and list(rows[0])[3:] == list(ANGLE_NAMES)
    assert [r["detected"] for r in rows] == ["1", "1", "0", "1"]
    assert float(rows[1]["left_knee_flexion"]) == pytest.approx(60.0, abs=1e-3)
    assert rows[2]["left_knee_flexion"] == ""  # filled frame: no number
    assert float(rows[3]["time_s"]) == pytest.approx(3 / 25.0)
    assert not list(tmp_path.glob(".*tmp"))

    s = angle_summary(angles)["left_knee_flexion"]
    assert s["min"] == pytest.approx(0.0, abs=1e-3) and s["max"] == pytest.approx(60.0, abs=1e-3)
    assert s["range"] == pytest.approx(60.0, abs=1e-3) and s["mean"] == pytest.approx(30.0, abs=1e-3)
    assert s["frames"] == 3
    assert angle_summary({"x": np.full(3, np.nan)})["x"]["min"] is None
    doc = json.loads(write_summary_json(tmp_path / "angles.json", angles, 25.0).read_text())
    assert doc["summary"]["left_knee_flexion"]["range"] == pytest.approx(60.0, abs=1e-3)


def test_from_joints_json_documents():
    poses = [standing(), bend(standing(), "right_knee", ["right_foot"], rot_x(-90))]
    frames = [{"index": i, "time_s": i / 30, "detected": True, "joints3d": p.tolist()} for i, p in enumerate(poses)]
    doc = {"schema": "vp3d.joints/1", "video": {"fps": 30.0}, "joints3d": {"frame": "world",
                                                                           "world": {"up_axis": "y"}},
           "frames": frames}
    a, det, fps, first, times = angles_from_joints_json(doc)
    assert fps == 30.0 and det.all() and first == 0 and a["right_knee_flexion"][1] == pytest.approx(90.0)
    assert times is None  # a constant rate: frame / fps
    # Z-up world file: x right, y away from the camera, z up
    zup = [{**f, "joints3d": (np.asarray(f["joints3d"])[:, [0, 2, 1]] * [1, -1, 1]).tolist()} for f in frames]
    turned = [{**f, "joints3d": (np.asarray(f["joints3d"]) @ rot_z(20).T).tolist()} for f in zup]
    a = angles_from_joints_json({**doc, "joints3d": {"frame": "world", "world": {"up_axis": "z"}},
                                 "frames": turned})[0]
    assert a["trunk_lean"][0] == pytest.approx(0.0, abs=1e-6)
    assert a["pelvis_rotation"][0] == pytest.approx(20.0, abs=1e-6)
    cam_frames = [{**f, "joints3d": (np.asarray(f["joints3d"]) * [1, -1, -1]).tolist()} for f in frames]
    people = {"schema": "vp3d.joints/2", "video": {"fps": 30.0}, "joints3d": {"frame": "camera"},
              "people": [{"track_id": 3, "first_frame": 7, "frames": cam_frames}]}
    series = angles_from_joints_json(people, person=0)
    a = series.angles
    assert a["right_knee_flexion"][1] == pytest.approx(90.0) and math.isnan(a["trunk_lean"][0])
    assert series.first_frame == 7


def test_a_variable_rate_keeps_each_frames_own_time():
    """A joints file of a variable-rate video gives its frames' time_s (a constant-rate or older file: None,
    frame / fps); the CSV writes those times and says the rate is variable, the summary too."""
    poses = [standing()] * 4
    spaced = [0.0, 0.04, 0.2, 0.5]  # not i / fps for any fps
    frames = [{"index": i, "time_s": t, "detected": True, "joints3d": p.tolist()}
              for i, (t, p) in enumerate(zip(spaced, poses))]
    doc = {"schema": "vp3d.joints/1", "video": {"fps": 8.0, "variable_frame_rate": True},
           "joints3d": {"frame": "world"}, "frames": frames}
    series = angles_from_joints_json(doc)
    assert series.times.tolist() == spaced
    assert angles_from_joints_json({**doc, "video": {"fps": 8.0, "variable_frame_rate": False}}).times is None
    assert angles_from_joints_json({**doc, "video": {"fps": 8.0}}).times is None  # older files


def test_csv_and_summary_of_a_variable_rate(tmp_path):
    angles = joint_angles(np.stack([standing()] * 4), None, "world")
    out = write_angles_csv(tmp_path / "angles.csv", angles, fps=8.0, first_frame=2, times=[0.1, 0.14, 0.3, 0.6])
    lines = out.read_text().splitlines()
    assert "variable frame rate (8 fps on average" in lines[0]
    rows = list(csv.DictReader(lines[1:]))
    assert [(r["frame"], r["time_s"]) for r in rows] == [("2", "0.100000"), ("3", "0.140000"), ("4", "0.300000"),
                                                         ("5", "0.600000")]
    doc = json.loads(write_summary_json(tmp_path / "s.json", angles, 8.0, variable_frame_rate=True).read_text())
    assert doc["variable_frame_rate"] is True and doc["fps"] == 8.0
    assert "variable_frame_rate" not in json.loads(write_summary_json(tmp_path / "c.json", angles, 8.0).read_text())
