"""`vp3d evaluate --h36m-dir` as a user runs it (a new process) on small files in exactly the reference
release's formats: what goes wrong with the files or the options ends in one `vp3d: error:` line naming the
file and the problem (and, with --json, one {input, error, exit_code} object on stdout), never a traceback;
what goes right prints the reference's table (MPJVE with two decimals) with progress on stderr."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from vp3d.lifter.checkpoint import LifterMeta, save_checkpoint
from vp3d.skeleton import H36M
from vp3d.training.h36m import KEPT_JOINTS_OF_32
from vp3d.training.h36m_cameras import CAMERAS_JSON, load_h36m_cameras
from vp3d.training.quaternion import world_to_camera

BIN = Path(sys.executable).parent
FRAMES = {"S9": {"Walking 1": 20, "Eating": 15}, "S11": {"Walking": 12}}
CAMERAS = 4  # per subject in the shipped camera file, as in the release


def world_poses(T, seed):
    """(T, 32, 3) world metres around a person standing at the stage centre (z up)."""
    rng = np.random.default_rng(seed)
    return (np.array([0.0, 0.0, 1.0]) + rng.normal(scale=0.3, size=(T, 32, 3))).astype(np.float32)


def reference_data():
    """data3d {subject: {action: (T, 32, 3)}} and data2d {subject: {action: [pixels (T, 17, 3) per camera]}}:
    the release's layouts, the 2D projected through the shipped cameras (with a score channel)."""
    cams = load_h36m_cameras(CAMERAS_JSON)
    data3d, data2d = {}, {}
    for i, (subject, actions) in enumerate(FRAMES.items()):
        data3d[subject], data2d[subject] = {}, {}
        for j, (action, T) in enumerate(actions.items()):
            world = world_poses(T, 10 * i + j)
            data3d[subject][action] = world
            views = []
            for cam in cams[subject]:
                xyz = world_to_camera(world[:, list(KEPT_JOINTS_OF_32)], cam.orientation, cam.translation)
                px = cam.focal_length * xyz[..., :2] / xyz[..., 2:] + cam.center
                views.append(np.concatenate([px, np.ones_like(px[..., :1])], axis=-1).astype(np.float32))
            data2d[subject][action] = views
    return data3d, data2d


def write_h36m(folder: Path, data3d, data2d) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(folder / "data_3d_h36m.npz", positions_3d=data3d)
    metadata = {"num_joints": 17, "keypoints_symmetry": [list(H36M.left), list(H36M.right)], "layout_name": "h36m"}
    np.savez_compressed(folder / "data_2d_h36m_gt.npz", positions_2d=data2d, metadata=metadata)
    return folder


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A tiny lifter (receptive field 9, 8 channels): the numbers do not matter here, only the command."""
    torch.manual_seed(0)
    meta = LifterMeta(filter_widths=(3, 3), channels=8, causal=False, num_joints_in=17, in_features=2,
                      num_joints_out=17, input_layout="h36m", fps=50.0)
    path = tmp_path_factory.mktemp("ckpt") / "tiny.bin"
    save_checkpoint(path, meta, meta.build_model().eval())
    return path


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return write_h36m(tmp_path_factory.mktemp("h36m") / "good", *reference_data())


def evaluate(folder, checkpoint, *extra, trust=True) -> subprocess.CompletedProcess:
    """`vp3d evaluate --h36m-dir FOLDER -k gt --checkpoint CKPT [--trust-data] EXTRA`."""
    return subprocess.run([str(BIN / "vp3d"), "evaluate", "--h36m-dir", str(folder), "-k", "gt", "--checkpoint",
                           str(checkpoint), *(["--trust-data"] if trust else []), *map(str, extra)],
                          capture_output=True, text=True, timeout=300)


def assert_one_line_error(proc, path, *words):
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("vp3d: error: "), proc.stderr
    assert str(path) in lines[0] and all(w in lines[0] for w in words), lines[0]
    return lines[0]


def without_eating_2d(data3d, data2d):
    del data2d["S9"]["Eating"]


def short_eating_2d(data3d, data2d):
    data2d["S9"]["Eating"] = [kp[:10] for kp in data2d["S9"]["Eating"]]


def without_s11_2d(data3d, data2d):
    del data2d["S11"]


def no_change(data3d, data2d):
    pass


def masked_walking_3d(data3d, data2d):
    """A masked array is no plain container or array: its pickle names numpy.ma's rebuilder."""
    data3d["S9"]["Walking 1"] = np.ma.masked_invalid(data3d["S9"]["Walking 1"])


# (how the files differ from good ones, options, the file named, words of the message)
CASES = {
    "subject absent from the files": (no_change, ["--subjects", "S1"], "data_3d_h36m.npz", ["'S1'", "S9, S11"]),
    "action matching nothing": (no_change, ["--actions", "Foo"], "data_3d_h36m.npz", ["'Foo'", "Walking, Eating"]),
    "3D without 2D": (without_eating_2d, [], "data_2d_h36m_gt.npz", ["S9", "'Eating'", "no 2D"]),
    "2D shorter than 3D": (short_eating_2d, [], "data_2d_h36m_gt.npz", ["S9/Eating", "10 frames", "15 frames"]),
    "subject without 2D": (without_s11_2d, [], "data_2d_h36m_gt.npz", ["'S11'", "2D"]),
    "pickles naming more than arrays, untrusted": (masked_walking_3d, None, "data_3d_h36m.npz",  # None: no --trust-data
                                                   ["refusing to load numpy.ma.core.", "pass --trust-data"]),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_files_and_options_are_one_line_naming_the_file(tmp_path, checkpoint, case):
    change, options, name, words = CASES[case]
    data3d, data2d = reference_data()
    change(data3d, data2d)
    folder = write_h36m(tmp_path / "h36m", data3d, data2d)
    proc = evaluate(folder, checkpoint, "--json", *(options or []), trust=options is not None)
    line = assert_one_line_error(proc, folder / name, *words)
    assert "--trust-pickle" not in line
    assert json.loads(proc.stdout) == {"input": str(folder), "error": line.removeprefix("vp3d: error: "),
                                       "exit_code": 1}
    assert len(proc.stdout.splitlines()) == 1


def test_without_json_an_error_leaves_stdout_empty(good, checkpoint):
    proc = evaluate(good, checkpoint, "--subjects", "S1")
    assert_one_line_error(proc, good / "data_3d_h36m.npz", "'S1'")
    assert proc.stdout == ""


@pytest.fixture(scope="module")
def table_run(good, checkpoint):
    """The table of "S9, S11" (a space after the comma), progress shown."""
    return evaluate(good, checkpoint, "--subjects", "S9, S11")


@pytest.fixture(scope="module")
def quiet_run(good, checkpoint):
    return evaluate(good, checkpoint, "--subjects", "S9,S11", "--quiet")


def test_subjects_with_spaces_after_the_commas_are_the_same_subjects(table_run, quiet_run):
    assert table_run.returncode == quiet_run.returncode == 0, table_run.stderr + quiet_run.stderr
    assert table_run.stdout == quiet_run.stdout
    assert "Human3.6M gt S9,S11" in quiet_run.stdout


def test_table_prints_mpjve_with_two_decimals_and_counts_frames_times_cameras(table_run):
    assert table_run.returncode == 0, table_run.stderr
    lines = table_run.stdout.splitlines()
    header = next(line for line in lines if line.startswith("Group"))
    assert "Frames x cameras" in header
    rows = {line.split()[0]: line for line in lines if line.split()[0] in ("Walking", "Eating", "Average")}
    assert set(rows) == {"Walking", "Eating", "Average"}
    for row in rows.values():
        assert re.search(r" \d+\.\d \s+\d+\.\d \s+\d+\.\d \s+\d+\.\d\d$", row), row
    assert rows["Walking"].split()[1] == str((20 + 12) * CAMERAS)
    assert rows["Average"].split()[1] == str((20 + 15 + 12) * CAMERAS)


def test_progress_on_stderr_unless_quiet_or_json(good, checkpoint, table_run, quiet_run):
    assert "evaluate" in table_run.stderr and f"{47 * CAMERAS}/{47 * CAMERAS}" in table_run.stderr
    assert "Traceback" not in table_run.stderr
    assert quiet_run.returncode == 0 and quiet_run.stderr == "", quiet_run.stderr
    as_json = evaluate(good, checkpoint, "--json")
    assert as_json.returncode == 0 and as_json.stderr == "", as_json.stderr
    report = json.loads(as_json.stdout)
    assert report["average"]["n_frames"] == 47 * CAMERAS
