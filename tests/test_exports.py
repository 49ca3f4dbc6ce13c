"""Exports for animation and analysis tools: CSV, BVH and the gravity-aligned world frame.

The motion is real: CMU mocap takes (../shared/data/mocap) filmed by a virtual camera, so the true
vertical, floor and joint positions are known. The BVH files are read back with two independent readers
(vp3d.mocap.bvh and the PyPI `bvh` package) and replayed through forward kinematics.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from bvh import Bvh
from conftest import require_shared, vp3d_infer
from scipy.spatial.transform import Rotation

from vp3d.detectors.keypoints import Keypoints2D
from vp3d.lifter.checkpoint import LifterMeta
from vp3d.training.synthetic import VirtualCamera, look_at
from vp3d.mocap import load_bvh
from vp3d.mocap.bvh import joint_positions, read_bvh
from vp3d import bones
from vp3d.export import joints as export
from vp3d.export.bvh import write_bvh
from vp3d.pipeline.infer import InferenceResult
from vp3d.pipeline.job import Outputs, write_outputs
from vp3d.pipeline.people import PeopleResult
from vp3d.video import VideoInfo
from vp3d.world import ANKLE_HEIGHT, Y_UP_TO_Z_UP, estimate_up, floor_clearance, to_world
from vp3d.skeleton import H36M

J = {n: i for i, n in enumerate(H36M.joint_names)}
LEAVES = ("right_foot", "left_foot", "head", "left_wrist", "right_wrist")
FPS = 25.0


def take(trial: str) -> np.ndarray:
    """World positions (T, 17, 3) of a CMU BVH take at 25 fps: metres, Y up, floor near 0."""
    return load_bvh(require_shared("mocap", "cmu_bvh", trial[:2], f"{trial}.bvh"), fps=FPS).positions.astype(float)


@pytest.fixture(scope="module")
def walk() -> np.ndarray:
    return take("07_01")  # a straight walk


@pytest.fixture(scope="module")
def dance() -> np.ndarray:
    return take("05_03")  # turns, arms up


def filming_camera(world: np.ndarray, pitch_deg: float, roll_deg: float = 0.0, azimuth_deg: float = 30.0,
                   distance: float = 6.0) -> VirtualCamera:
    """A 1280x720, 60-degree camera looking down at the take's middle by `pitch_deg`, rolled by `roll_deg`."""
    target = world[:, 0].mean(axis=0)
    pitch, azimuth = np.radians(pitch_deg), np.radians(azimuth_deg)
    position = target + distance * np.array([np.cos(pitch) * np.sin(azimuth), np.sin(pitch),
                                             np.cos(pitch) * np.cos(azimuth)])
    focal = 640 / np.tan(np.radians(30))
    return VirtualCamera(look_at(position, target, np.radians(roll_deg)), position, focal, np.array([640.0, 360.0]),
                         1280, 720)


def true_up(camera: VirtualCamera) -> np.ndarray:
    return camera.R @ np.array([0.0, 1.0, 0.0])


def filmed(world: np.ndarray, camera: VirtualCamera, trajectory: bool = False) -> InferenceResult:
    """What the pipeline would report for `world` seen by `camera`, if the detector and lifter were exact:
    root-relative camera-frame joints, the projected 2D keypoints, frame 3 marked as not detected."""
    X = camera.to_camera(world)
    T = len(X)
    detected = np.ones(T, bool)
    detected[3] = False
    kp = Keypoints2D(camera.project(X).astype(np.float32), np.where(detected[:, None], 0.9, 0.0) * np.ones(17),
                     detected, "h36m", camera.width, camera.height)
    meta = LifterMeta(filter_widths=(3, 3, 3), channels=64, causal=False, num_joints_in=17, in_features=2,
                      num_joints_out=17, input_layout="h36m", fps=50.0, has_trajectory=trajectory)
    return InferenceResult(VideoInfo(Path("cmu.mp4"), camera.width, camera.height, FPS, 0, T), kp,
                           poses3d=X - X[:, :1], trajectory=X[:, 0] if trajectory else None, lifter=meta,
                           checkpoint=Path("exact.bin"), detector_name="projected mocap",
                           focal_px=camera.focal_px, focal_source="virtual camera")


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1, 1))))


def rescaled_to_median_bones(positions: np.ndarray) -> np.ndarray:
    """The test's own bone-length normalisation: same root and bone directions, each bone at its median
    length over the clip."""
    out = positions.copy()
    for j, p in enumerate(H36M.parents):
        if p >= 0:
            bone = positions[:, j] - positions[:, p]
            length = np.median(np.linalg.norm(bone, axis=-1))
            out[:, j] = out[:, p] + length * bone / np.linalg.norm(bone, axis=-1, keepdims=True)
    return out


def test_rigid_bones_keep_root_and_directions_and_take_the_median_lengths(walk):
    rng = np.random.default_rng(3)
    wobbly = walk + rng.normal(0, 0.01, walk.shape)  # bones now change length from frame to frame
    rigid = bones.rigid_bones(wobbly.astype(np.float32))
    assert rigid.dtype == np.float32
    np.testing.assert_allclose(rigid, rescaled_to_median_bones(wobbly), atol=1e-5)
    lengths = np.linalg.norm(rigid[:, 1:] - rigid[:, list(H36M.parents[1:])], axis=-1)
    np.testing.assert_allclose(lengths, np.broadcast_to(bones.median_bone_lengths(wobbly)[1:], lengths.shape),
                               atol=1e-5)


# --- world frame ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("pitch, roll", [(0, 0), (25, 3), (-5, -4)])
def test_world_up_is_estimated_from_the_body(walk, pitch, roll):
    camera = filming_camera(walk, pitch, roll)
    result = filmed(walk, camera)
    up, source = estimate_up(result.poses3d)
    assert angle_deg(up, true_up(camera)) < 8.0, source
    world = to_world(result.poses3d)
    assert world.camera_pitch_deg == pytest.approx(pitch, abs=8.0)
    assert world.camera_roll_deg == pytest.approx(roll, abs=8.0)


def test_root_relative_world_frame_stands_every_frame_on_the_floor(walk):
    camera = filming_camera(walk, pitch_deg=25, roll_deg=3)
    world = to_world(filmed(walk, camera).poses3d)
    P = world.positions
    # Per frame, the lowest point (a joint, or a sole ANKLE_HEIGHT under an ankle) is at height 0.
    np.testing.assert_allclose(floor_clearance(P[..., 1]), 0.0, atol=1e-9)
    assert (P[..., 1] > -1e-9).all() and (P[:, [J["right_foot"], J["left_foot"]], 1] >= ANKLE_HEIGHT - 1e-9).all()
    # Heights match the mocap's (its floor is at 0, ankles ~8 cm up) within the tilt error.
    for joint in ("hip", "head", "left_wrist"):
        assert np.abs(P[:, J[joint], 1] - walk[:, J[joint], 1]).mean() < 0.06, joint
    np.testing.assert_allclose(P[:, 0, [0, 2]], 0.0, atol=1e-9)  # no trajectory: root above the origin
    # A proper rotation (nothing mirrored) whose x axis is the camera's right.
    assert np.linalg.det(world.rotation) == pytest.approx(1.0) and world.rotation[0, 0] > 0.99


def test_world_frame_with_a_trajectory_keeps_the_path_level(walk):
    camera = filming_camera(walk, pitch_deg=20, roll_deg=-3)
    result = filmed(walk, camera, trajectory=True)
    world = to_world(result.poses3d, result.trajectory)
    assert "floor-plane fit" in world.tilt_source
    assert angle_deg(world.up_camera, true_up(camera)) < 3.0
    P = world.positions
    np.testing.assert_allclose(P[0, 0, [0, 2]], 0.0, atol=1e-9)  # starts above the origin
    # Over the 3.5 m walk the floor contacts stay level (no slope from a wrong tilt; the mocap's own floor
    # rises by 1 deg) and the hip rises and falls over the feet as in the mocap.
    along = (P[:, 0, [0, 2]] - P[0, 0, [0, 2]]) @ unit(P[-1, 0, [0, 2]] - P[0, 0, [0, 2]])
    slope = np.polyfit(along, floor_clearance(P[..., 1]), 1)[0]
    assert abs(slope) < 0.01 and np.ptp(along) > 3.0
    hip_over_floor = P[:, 0, 1] - floor_clearance(P[..., 1])
    np.testing.assert_allclose(hip_over_floor, walk[:, 0, 1] - floor_clearance(walk[..., 1]), atol=0.03)
    # The walked distance is preserved (a rigid motion of the capture).
    path = np.linalg.norm(np.diff(P[:, 0, [0, 2]], axis=0), axis=-1).sum()
    true_path = np.linalg.norm(np.diff(walk[:, 0, [0, 2]], axis=0), axis=-1).sum()
    assert path == pytest.approx(true_path, rel=0.02)


def test_z_up_world_is_the_y_up_world_turned_about_x(walk):
    poses = filmed(walk, filming_camera(walk, 15)).poses3d
    y_up, z_up = to_world(poses, up_axis="y"), to_world(poses, up_axis="z")
    np.testing.assert_allclose(z_up.positions, y_up.positions @ Y_UP_TO_Z_UP.T, atol=1e-12)
    assert (z_up.positions[:, J["head"], 2] > z_up.positions[:, J["hip"], 2]).all()
    assert "Z-up" in z_up.coordinates() and "Y-up" in y_up.coordinates()


def test_a_person_lying_down_is_not_read_as_a_tilted_camera(walk):
    lying = walk @ Rotation.from_euler("x", 90, degrees=True).as_matrix().T  # the body axis along the ground
    poses = filmed(lying, filming_camera(lying, pitch_deg=10)).poses3d
    up, source = estimate_up(poses)
    np.testing.assert_allclose(up, [0, -1, 0])
    assert "camera assumed level" in source


# --- BVH -----------------------------------------------------------------------------------------------------

def bvh_fk_with_the_bvh_package(path: Path, names: list[str]) -> np.ndarray:
    """Forward kinematics from the PyPI `bvh` parser's numbers and scipy rotations (no vp3d code)."""
    mocap = Bvh(path.read_text())
    joints = mocap.get_joints_names()
    world_rot, pos = {}, {}
    for name in joints:
        channels = mocap.joint_channels(name)
        values = np.array(mocap.frames_joint_channels(name, channels))  # (T, channels)
        rot_axes = "".join(c[0] for c in channels if c.endswith("rotation"))
        rot_cols = [k for k, c in enumerate(channels) if c.endswith("rotation")]
        local = Rotation.from_euler(rot_axes.upper(), values[:, rot_cols], degrees=True)  # intrinsic = BVH order
        parent = mocap.joint_parent(name)
        if parent is None:
            pos[name] = values[:, [channels.index(f"{a}position") for a in "XYZ"]]
            world_rot[name] = local
        else:
            p = parent.name
            pos[name] = pos[p] + world_rot[p].apply(np.array(mocap.joint_offset(name)))
            world_rot[name] = world_rot[p] * local
    return np.stack([pos[n] for n in names], axis=1)


@pytest.mark.parametrize("up_axis", ["y", "z"])
def test_bvh_replays_the_positions_through_forward_kinematics(dance, tmp_path, up_axis):
    world = to_world(filmed(dance, filming_camera(dance, 20, 2)).poses3d, up_axis=up_axis)
    path = write_bvh(tmp_path / "dance.bvh", world.positions, FPS, up_axis)
    expected = rescaled_to_median_bones(world.positions)
    names = list(H36M.joint_names)
    replayed = joint_positions(read_bvh(path), names)
    independent = bvh_fk_with_the_bvh_package(path, names)
    for fk in (replayed, independent):
        error = np.linalg.norm(fk - expected, axis=-1)
        assert error.max() < 0.01  # metres; in fact about a micrometre (file rounding)
    # Against the raw input the only difference is the fixed bone lengths.
    assert np.linalg.norm(replayed - world.positions, axis=-1).mean() < 0.02


def test_bvh_hierarchy_follows_the_spec(walk, tmp_path):
    world = to_world(filmed(walk, filming_camera(walk, 10)).poses3d)
    path = write_bvh(tmp_path / "walk.bvh", world.positions, FPS)
    text = path.read_text()
    assert text.startswith("HIERARCHY\nROOT hip\n{\n\tOFFSET ")
    assert f"\nMOTION\nFrames: {len(walk)}\nFrame Time: 0.04000000\n" in text
    mocap = Bvh(text)
    names = mocap.get_joints_names()
    # The 17 Human3.6M joints, plus zero-offset pelvis and collar joints that carry one bone each.
    assert set(names) == set(H36M.joint_names) | {"right_pelvis", "left_pelvis", "left_collar", "right_collar"}
    for helper in ("right_pelvis", "left_pelvis", "left_collar", "right_collar"):
        assert mocap.joint_offset(helper) == (0.0, 0.0, 0.0)
    helper_sits_at = {"right_pelvis": "hip", "left_pelvis": "hip", "left_collar": "thorax", "right_collar": "thorax"}
    for name in H36M.joint_names[1:]:
        parent = mocap.joint_parent(name).name
        assert helper_sits_at.get(parent, parent) == H36M.joint_names[H36M.parents[J[name]]]
    assert mocap.joint_channels("hip") == ["Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation",
                                           "Yrotation"]
    assert all(mocap.joint_channels(n) == ["Zrotation", "Xrotation", "Yrotation"] for n in names[1:])
    assert mocap.nframes == len(mocap.frames) == len(walk) and mocap.frame_time == pytest.approx(1 / FPS)
    end_sites = {node.parent.name for node in mocap.search("End", "Site")}
    assert end_sites == set(LEAVES)
    # The project's reader sees the same numbers.
    ours = read_bvh(path)
    assert [n for n in ours.names if not n.endswith("End")] == names
    np.testing.assert_allclose(ours.motion, np.array(mocap.frames, dtype=float))


def test_bvh_rest_pose_is_a_t_pose_with_the_clips_median_bones(walk, tmp_path):
    world = to_world(filmed(walk, filming_camera(walk, 10)).poses3d)
    mocap = Bvh(write_bvh(tmp_path / "walk.bvh", world.positions, FPS).read_text())
    for j, p in enumerate(H36M.parents):
        if p < 0:
            continue
        median = np.median(np.linalg.norm(world.positions[:, j] - world.positions[:, p], axis=-1))
        assert np.linalg.norm(mocap.joint_offset(H36M.joint_names[j])) == pytest.approx(median, abs=1e-6)
    assert np.sign(mocap.joint_offset("right_knee")) @ [0, -1, 0] == 1  # legs hang down
    assert mocap.joint_offset("left_elbow")[0] > 0 > mocap.joint_offset("right_elbow")[0]  # arms out sideways
    leg = -mocap.joint_offset("right_knee")[1] - mocap.joint_offset("right_foot")[1]
    assert mocap.joint_offset("hip")[1] == pytest.approx(leg + ANKLE_HEIGHT, abs=1e-5)  # standing on the floor


def test_bvh_root_heading_winds_continuously_through_two_turns(walk, tmp_path):
    turn = Rotation.from_euler("y", np.linspace(0, 720, len(walk))[:, None], degrees=True)
    turning = np.stack([turn[t].apply(walk[t] - walk[t, 0] * [1, 0, 1]) for t in range(len(walk))])
    world = to_world(filmed(turning, filming_camera(turning, 10)).poses3d)
    motion = read_bvh(write_bvh(tmp_path / "turn.bvh", world.positions, FPS)).motion
    yaw = motion[:, 5]  # the root's Yrotation: heading for an upright body
    assert np.abs(np.diff(motion[:, 3:], axis=0)).max() < 45  # no 360-degree jumps anywhere
    assert abs(yaw[-1] - yaw[0]) == pytest.approx(720, abs=25)


# --- CSV, JSON, NPZ and the job ---------------------------------------------------------------------------------

def read_csv(path: Path) -> tuple[str, list[str], np.ndarray]:
    lines = path.read_text().splitlines()
    return lines[0], lines[1].split(","), np.loadtxt(lines[2:], delimiter=",", ndmin=2)


def test_csv_has_a_row_per_frame_and_a_column_per_joint_and_axis(walk, tmp_path):
    result = filmed(walk, filming_camera(walk, 10))
    comment, columns, table = read_csv(export.write_csv(tmp_path / "j.csv", PeopleResult.of_one(result)))
    assert comment.startswith("# ") and "metres" in comment and "camera frame" in comment and "pixels" in comment
    assert columns[:6] == ["frame", "time_s", "detected", "hip_x", "hip_y", "hip_z"]
    assert columns[3 + 3 * 17 - 1] == "right_wrist_z" and columns[3 + 3 * 17] == "hip_x_px"
    assert columns[-3:] == ["right_wrist_x_px", "right_wrist_y_px", "right_wrist_score"]
    assert table.shape == (len(walk), 3 + 17 * 3 + 17 * 3)
    col = {name: k for k, name in enumerate(columns)}
    np.testing.assert_array_equal(table[:, col["frame"]], np.arange(len(walk)))
    np.testing.assert_allclose(table[:, col["time_s"]], np.arange(len(walk)) / FPS, atol=1e-6)
    assert table[3, col["detected"]] == 0 and table[:, col["detected"]].sum() == len(walk) - 1
    np.testing.assert_allclose(table[:, [col["left_knee_x"], col["left_knee_y"], col["left_knee_z"]]],
                               result.poses3d[:, J["left_knee"]], atol=1e-5)
    np.testing.assert_allclose(table[:, [col["head_x_px"], col["head_y_px"]]], result.keypoints.xy[:, J["head"]],
                               atol=0.006)


def test_json_frames_are_streamed_into_one_plain_document(walk, tmp_path):
    """Written frame by frame (no whole-clip object tree), the file is exactly what json.dump of the whole
    document gives, and each frame holds the arrays of the result."""
    result = filmed(walk, filming_camera(walk, 10, azimuth_deg=70), trajectory=True)
    text = export.write_json(tmp_path / "j.json", PeopleResult.of_one(result)).read_text()
    doc = {**export.describe(PeopleResult.of_one(result)), "frames": list(export.frame_records(result))}
    assert text == json.dumps(doc, separators=(",", ":"))
    frames = json.loads(text)["frames"]
    assert [f["index"] for f in frames] == list(range(len(walk)))
    np.testing.assert_allclose([f["joints3d"] for f in frames], result.poses3d, atol=1e-5)
    np.testing.assert_allclose([f["root_camera"] for f in frames], result.trajectory, atol=1e-5)
    assert [f["detected"] for f in frames] == result.keypoints.detected.tolist()


def test_a_failing_export_takes_the_outputs_written_before_it_away(walk, tmp_path):
    """All or nothing per video: JSON, NPZ and CSV are written, then the custom 2D NPZ fails (its folder is
    missing) -> none of them is left behind."""
    result = filmed(walk, filming_camera(walk, 10))
    outputs = Outputs(json=tmp_path / "a.json", npz=tmp_path / "a.npz", csv=tmp_path / "a.csv",
                      npz_2d=tmp_path / "gone" / "a.2d.npz")
    with pytest.raises(OSError):
        write_outputs(PeopleResult.of_one(result), outputs)
    assert list(tmp_path.iterdir()) == []


def test_world_exports_say_which_frame_they_are_in(walk, tmp_path):
    result = filmed(walk, filming_camera(walk, 20))
    outputs = Outputs(json=tmp_path / "w.json", npz=tmp_path / "w.npz", csv=tmp_path / "w.csv",
                      bvh=tmp_path / "w.bvh", world=True, up="z")
    written = write_outputs(PeopleResult.of_one(result), outputs)
    assert set(written) == {"json", "npz", "csv", "bvh"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.bvh", "w.csv", "w.json", "w.npz"]  # no partials
    doc = json.loads((tmp_path / "w.json").read_text())
    assert doc["schema"] == "vp3d.joints/1"
    assert doc["joints3d"]["frame"] == "world" and "Z-up" in doc["joints3d"]["coordinates"]
    assert doc["joints3d"]["world"]["up_axis"] == "z" and doc["joints3d"]["world"]["camera_pitch_deg"] > 10
    npz = np.load(tmp_path / "w.npz")
    camera = result.poses3d  # root-relative camera frame
    np.testing.assert_allclose(npz["joints3d"], camera @ npz["camera_to_world"].T + npz["world_translation"][:, None],
                               atol=1e-5)
    assert json.loads(str(npz["metadata"]))["joints3d"]["frame"] == "world"
    np.testing.assert_allclose(np.array(doc["frames"][7]["joints3d"]), npz["joints3d"][7], atol=1e-5)
    comment, columns, table = read_csv(tmp_path / "w.csv")
    assert "world frame, Z-up" in comment
    np.testing.assert_allclose(table[:, columns.index("head_z")], npz["joints3d"][:, J["head"], 2], atol=1e-5)
    # The camera-frame default says so too (and keeps the /1 layout).
    plain = json.loads(export.write_json(tmp_path / "c.json", PeopleResult.of_one(result)).read_text())
    assert plain["joints3d"]["frame"] == "camera" and "world" not in plain["joints3d"]


def test_outputs_named_after_the_video_include_csv_and_bvh(tmp_path):
    outputs = Outputs.named_after(Path("in/clip.mp4"), tmp_path, ["csv", "bvh", "json"], world=True, up="z")
    assert (outputs.csv.name, outputs.bvh.name, outputs.json.name) == ("clip.csv", "clip.bvh", "clip.json")
    assert outputs.world and outputs.up == "z" and len(outputs.paths()) == 3


# --- end to end ----------------------------------------------------------------------------------------------

def test_cli_writes_world_csv_and_bvh_for_a_real_clip(clip, tmp_path):  # noqa: F811
    out = tmp_path / "exports"
    proc = vp3d_infer(clip, "--no-render", "--quiet", "--world", "--csv", out / "t.csv", "--bvh", out / "t.bvh",
                      "--json", out / "t.json")
    assert proc.returncode == 0, proc.stderr
    comment, columns, table = read_csv(out / "t.csv")
    assert "world frame, Y-up" in comment and table.shape[0] == 72
    xyz = table[:, 3:3 + 17 * 3].reshape(72, 17, 3)
    # The tai chi man stands on the floor, upright, his head 1.3-1.9 m up.
    np.testing.assert_allclose(floor_clearance(xyz[..., 1]), 0.0, atol=2e-5)
    assert 1.3 < np.median(xyz[:, J["head"], 1]) < 1.9
    doc = json.loads((out / "t.json").read_text())
    assert doc["joints3d"]["frame"] == "world"
    assert abs(doc["joints3d"]["world"]["camera_pitch_deg"]) < 30
    bvh = read_bvh(out / "t.bvh")
    assert len(bvh.motion) == 72 and bvh.frame_time == pytest.approx(1001 / 24000, rel=1e-6)
    replayed = joint_positions(bvh, list(H36M.joint_names))
    assert np.linalg.norm(replayed - rescaled_to_median_bones(xyz), axis=-1).max() < 0.01
