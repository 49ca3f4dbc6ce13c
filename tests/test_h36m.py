"""Readers of the reference release's Human3.6M files (vp3d.training.h36m, h36m_cameras, quaternion), on tiny
synthetic files in the same formats, and the Human3.6M camera file the package ships."""

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import require_shared

from vp3d.detectors.safe_npz import UntrustedFileError
from vp3d.lifter.camera import image_coordinates, project_to_2d_linear
from vp3d.skeleton import H36M
from vp3d.training.evaluate import evaluate
from vp3d.training.h36m import KEPT_JOINTS_OF_32, h36m_sequences, load_h36m_2d, load_h36m_3d
from vp3d.training.h36m_cameras import CAMERAS_JSON, load_h36m_cameras
from vp3d.training.quaternion import camera_to_world, world_to_camera

SHIPPED_CAMERAS = CAMERAS_JSON  # package data (setup.cfg)

RES_W, RES_H = 1000, 1002
FOCAL = (1150.0, 1140.0)
CENTER = (510.0, 505.0)
CAM_POS_MM = (100.0, -200.0, -3000.0)  # camera 3 m behind the origin, looking along +z


def write_cameras(path):
    doc = {
        "intrinsics": [{"id": "cam0", "center": list(CENTER), "focal_length": list(FOCAL),
                        "radial_distortion": [0.1, 0.2, 0.3], "tangential_distortion": [0.4, 0.5],
                        "res_w": RES_W, "res_h": RES_H, "azimuth": 0}],
        "extrinsics": {"S9": [{"orientation": [1.0, 0.0, 0.0, 0.0], "translation": list(CAM_POS_MM)}],
                       "S2": [{}]},
    }
    path.write_text(json.dumps(doc))
    return path


def world_poses(T, seed):
    """(T, 32, 3) world metres; joint j of frame t sits near (j, t) so the selection is visible."""
    rng = np.random.default_rng(seed)
    pos = rng.normal(scale=0.2, size=(T, 32, 3)).astype(np.float32)
    pos[..., 0] = np.arange(32)[None, :] * 0.01
    pos[..., 2] += 1.0
    return pos


@pytest.fixture
def files(tmp_path):
    data3d = {"S9": {"Walking 1": world_poses(5, 0), "Eating": world_poses(3, 1)}}
    np.savez_compressed(tmp_path / "data_3d_h36m.npz", positions_3d=data3d)
    cams = load_h36m_cameras(write_cameras(tmp_path / "cams.json"))
    # 2D = exact pinhole projection of the camera-frame 3D, in pixels, with two extra trailing
    # frames on "Walking 1" (the release's 2D is sometimes longer than the mocap) and a score channel.
    cam = cams["S9"][0]
    data2d = {"S9": {}}
    for action, world in data3d["S9"].items():
        kept = world[:, list(KEPT_JOINTS_OF_32)]
        cam_xyz = kept - np.array(CAM_POS_MM, np.float32) / 1000
        px = np.asarray(FOCAL) * cam_xyz[..., :2] / cam_xyz[..., 2:] + np.asarray(CENTER)
        kp = np.concatenate([px, np.ones_like(px[..., :1])], axis=-1).astype(np.float32)
        if action == "Walking 1":
            kp = np.concatenate([kp, kp[-2:] + 50], axis=0)
        data2d["S9"][action] = [kp]
    metadata = {"num_joints": 17, "keypoints_symmetry": [list(H36M.left), list(H36M.right)],
                "layout_name": "h36m"}
    np.savez_compressed(tmp_path / "data_2d_h36m_gt.npz", positions_2d=data2d, metadata=metadata)
    return tmp_path, data3d, data2d, cams


def test_3d_loader_keeps_the_17_joints(files):
    tmp, data3d, _, _ = files
    loaded = load_h36m_3d(tmp / "data_3d_h36m.npz")
    assert list(loaded) == ["S9"] and list(loaded["S9"]) == ["Walking 1", "Eating"]
    walk = loaded["S9"]["Walking 1"]
    assert walk.shape == (5, 17, 3) and walk.dtype == np.float32
    np.testing.assert_allclose(walk[0, :, 0] * 100, KEPT_JOINTS_OF_32, atol=1e-4)
    np.testing.assert_array_equal(walk, data3d["S9"]["Walking 1"][:, list(KEPT_JOINTS_OF_32)])


def test_pickles_naming_more_than_containers_and_arrays_need_trust(tmp_path):
    """The release's files are pickled dicts of arrays: read without trust, as no code from them can run. A pickle
    that names anything else (here numpy.ma's masked-array rebuilder) is refused unless trusted."""
    path = tmp_path / "data_3d_h36m.npz"
    np.savez(path, positions_3d={"S9": {"Walking": np.ma.masked_invalid(world_poses(3, 0))}})
    with pytest.raises(UntrustedFileError) as err:
        load_h36m_3d(path)
    message = str(err.value)
    assert message.startswith(f"{path}: refusing to load numpy.ma.core.") and "trust=True" in message
    assert load_h36m_3d(path, trust=True)["S9"]["Walking"].shape == (3, 17, 3)


def test_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_h36m_3d(tmp_path / "nope.npz")


def test_2d_loader(files):
    tmp = files[0]
    d2 = load_h36m_2d(tmp / "data_2d_h36m_gt.npz")
    assert d2.num_joints == 17 and d2.layout_name == "h36m"
    assert d2.keypoints_symmetry == (list(H36M.left), list(H36M.right))
    assert d2.positions["S9"]["Walking 1"][0].shape == (7, 17, 3)


def test_cameras_json(files):
    cams = files[3]
    assert list(cams) == ["S9"]  # S2 has empty extrinsics, as in the release
    cam = cams["S9"][0]
    np.testing.assert_allclose(cam.translation, np.array(CAM_POS_MM) / 1000)
    fx, fy, cx, cy = cam.intrinsics_normalized()
    assert fx == pytest.approx(FOCAL[0] / RES_W * 2) and fy == pytest.approx(FOCAL[1] / RES_W * 2)
    assert cx == pytest.approx(CENTER[0] / RES_W * 2 - 1)
    assert cy == pytest.approx(CENTER[1] / RES_W * 2 - RES_H / RES_W)
    np.testing.assert_allclose(cam.intrinsics_full()[4:], [0.1, 0.2, 0.3, 0.4, 0.5], rtol=1e-6)


def test_world_to_camera_identity_rotation_and_translation():
    t = np.array(CAM_POS_MM) / 1000
    X = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]])
    np.testing.assert_allclose(world_to_camera(X, [1, 0, 0, 0], t), X - [0.1, -0.2, -3.0])


def test_world_to_camera_rotation_convention():
    # Orientation is camera-to-world: +90 deg about z maps camera x onto world y, so a point one
    # metre along world y from the camera is one metre along the camera's x.
    q = [np.cos(np.pi / 4), 0, 0, np.sin(np.pi / 4)]
    t = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(world_to_camera(t + [0, 1, 0], q, t), [1, 0, 0], atol=1e-12)
    X = np.random.default_rng(0).normal(size=(4, 17, 3))
    np.testing.assert_allclose(camera_to_world(world_to_camera(X, q, t), q, t), X, atol=1e-12)


def test_sequences(files):
    tmp, data3d, data2d, cams = files
    d3 = load_h36m_3d(tmp / "data_3d_h36m.npz")
    d2 = load_h36m_2d(tmp / "data_2d_h36m_gt.npz")
    seqs = h36m_sequences(d3, d2, cams, ["S9"])
    assert [(s.subject, s.action, s.camera_id) for s in seqs] == [("S9", "Walking 1", "cam0"),
                                                                  ("S9", "Eating", "cam0")]
    walk = seqs[0]
    # 2D cut to the 3D length, score channel dropped, normalized with the camera's resolution.
    assert walk.kp2d_norm.shape == (5, 17, 2)
    assert walk.pose3d.shape == (5, 17, 3) and walk.traj.shape == (5, 3)
    px = data2d["S9"]["Walking 1"][0][:5, :, :2]
    np.testing.assert_allclose(walk.kp2d_norm, px / RES_W * 2 - [1, RES_H / RES_W], atol=1e-6)
    # 3D: camera frame (identity rotation: minus the camera position), root-relative, root kept as traj.
    cam_xyz = d3["S9"]["Walking 1"] - np.array(CAM_POS_MM, np.float32) / 1000
    np.testing.assert_array_equal(walk.pose3d[:, 0], 0)
    np.testing.assert_allclose(walk.traj, cam_xyz[:, 0], atol=1e-6)
    np.testing.assert_allclose(walk.pose3d + walk.traj[:, None], cam_xyz, atol=1e-6)
    # Normalized intrinsics reproduce the normalized 2D from the camera-frame 3D.
    proj = project_to_2d_linear(walk.pose3d + walk.traj[:, None], walk.intrinsics)
    np.testing.assert_allclose(proj, walk.kp2d_norm, atol=1e-5)
    # Action filter is a prefix match, like the reference's --actions.
    assert [s.action for s in h36m_sequences(d3, d2, cams, ["S9"], actions=["Eat"])] == ["Eating"]


def test_sequences_reject_short_2d(files):
    tmp, _, _, cams = files
    d3 = load_h36m_3d(tmp / "data_3d_h36m.npz")
    d2 = load_h36m_2d(tmp / "data_2d_h36m_gt.npz")
    d2.positions["S9"]["Eating"] = [d2.positions["S9"]["Eating"][0][:2]]
    with pytest.raises(ValueError, match="fewer"):
        h36m_sequences(d3, d2, cams, ["S9"])
    with pytest.raises(KeyError, match="S11"):
        h36m_sequences(d3, d2, cams, ["S11"])


def test_sequences_evaluate_end_to_end(files):
    tmp, _, _, cams = files
    d3 = load_h36m_3d(tmp / "data_3d_h36m.npz")
    d2 = load_h36m_2d(tmp / "data_2d_h36m_gt.npz")
    seqs = h36m_sequences(d3, d2, cams, ["S9"])
    truth = {s.kp2d_norm.tobytes(): s.pose3d for s in seqs}
    res = evaluate(lambda kp: truth[kp.tobytes()] + [0.0, 0.0, 0.02], seqs)
    assert [g.name for g in res.groups] == ["Walking", "Eating"]
    assert res.average.p1 == pytest.approx(20.0, abs=1e-3)
    assert res.average.p2 == pytest.approx(0.0, abs=1e-3)
    assert res.average.mpjve == pytest.approx(0.0, abs=1e-3)


def test_shipped_cameras_are_the_documented_ones():
    """The camera file the package ships (what `vp3d evaluate` reads by default) holds the same values as
    the project's documented copy in ../shared/docs."""
    shipped = json.loads(SHIPPED_CAMERAS.read_text())
    assert shipped == json.loads(require_shared("h36m_cameras.json", folder="docs").read_text())


def test_shipped_cameras_look_at_the_stage():
    """The quaternion convention is right if every camera of the shipped file sees the capture area in
    front of it, upright."""
    cams = load_h36m_cameras(SHIPPED_CAMERAS)
    assert set(cams) == {"S1", "S5", "S6", "S7", "S8", "S9", "S11"}
    for subject, cam_list in cams.items():
        assert [c.id for c in cam_list] == ["54138969", "55011271", "58860488", "60457274"]
        for cam in cam_list:
            floor, head = world_to_camera(np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 1.7]]),
                                          cam.orientation, cam.translation)
            assert 3.0 < floor[2] < 7.0
            uv = project_to_2d_linear(np.stack([floor, head])[None], cam.intrinsics_normalized())[0]
            px = image_coordinates(uv, cam.res_w, cam.res_h)
            assert np.all((px > 0) & (px < [cam.res_w, cam.res_h]))
            assert px[1, 1] < px[0, 1]  # world up (z) is image up (smaller y)


def test_evaluate_command_on_reference_format_files(files, capsys):
    """`vp3d evaluate --h36m-dir D -k gt --checkpoint CKPT` — the one-command equivalent of the reference's
    `run.py -k ... --evaluate ...` — reports what the lifter itself gives."""
    from conftest import small_model, write_official

    from vp3d.cli import main
    from vp3d.training import metrics
    from vp3d.lifter.inference import Lifter

    tmp, _, _, cams = files
    ckpt = write_official(tmp / "small_official_layout.bin", small_model(widths=(3, 3)))
    args = ["evaluate", "--h36m-dir", str(tmp), "-k", "gt", "--subjects", "S9", "--cameras", str(tmp / "cams.json"),
            "--checkpoint", str(ckpt), "--input-layout", "h36m", "--by", "sequence"]
    assert main(args + ["--json"]) == 0  # pickles of plain dicts and arrays: no --trust-data needed
    report = json.loads(capsys.readouterr().out)
    seqs = h36m_sequences(load_h36m_3d(tmp / "data_3d_h36m.npz"),
                          load_h36m_2d(tmp / "data_2d_h36m_gt.npz"), cams, ["S9"])
    lifter = Lifter.load(ckpt, input_layout="h36m")
    preds = [lifter.lift(s.kp2d_norm).poses for s in seqs]
    # like the reference: per-group means, then their unweighted average
    p1 = np.mean([1000 * metrics.mpjpe(p, s.pose3d) for p, s in zip(preds, seqs)])
    p2 = np.mean([1000 * metrics.p_mpjpe(p, s.pose3d) for p, s in zip(preds, seqs)])
    assert report["average"]["p1"] == pytest.approx(p1, rel=1e-4)
    assert report["average"]["p2"] == pytest.approx(p2, rel=1e-4)
    assert len(report["groups"]) == len(seqs) == 2

    assert main(args + ["--trust-data"]) == 0  # the flag of old command lines still works; the table
    table = capsys.readouterr().out
    assert "P1" in table and "P2" in table and "P3" in table and "MPJVE" in table
