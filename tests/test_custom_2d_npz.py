"""The reference's custom 2D dataset (vp3d.detectors.custom_2d_npz: the writer of `--npz-2d` and the one reader)
and the one pickle policy of every pickled .npz (vp3d.detectors.safe_npz): plain containers and numpy arrays are
read without running code; anything else is refused unless trusted, in one line naming the command's own flag."""

from pathlib import Path

import numpy as np
import pytest
from conftest import clip  # noqa: F401  (fixture)

from vp3d.detectors.custom_2d_npz import read_custom_2d_npz, save_custom_2d_npz
from vp3d.detectors.safe_npz import UntrustedFileError, load_npz
from vp3d.skeleton import COCO, H36M


def test_the_writer_writes_exactly_the_reference_layout_and_the_reader_reads_it_back(tmp_path):
    xy = np.random.default_rng(0).uniform(0, 640, size=(8, 17, 3)).astype(np.float32)
    path = save_custom_2d_npz(tmp_path / "data_2d_custom_myvideo", "myvideo.mp4", xy, 640, 480, "coco")
    assert path.endswith(".npz") and Path(path).is_file()

    with np.load(path, allow_pickle=True) as f:  # the reference's own way of reading it
        pos = f["positions_2d"].item()
        meta = f["metadata"].item()
    assert list(pos) == ["myvideo.mp4"] and list(pos["myvideo.mp4"]) == ["custom"]
    assert pos["myvideo.mp4"]["custom"][0].shape == (8, 17, 2)
    assert pos["myvideo.mp4"]["custom"][0].dtype == np.float32
    assert meta["layout_name"] == "coco" and meta["num_joints"] == 17
    assert meta["keypoints_symmetry"] == [list(COCO.left), list(COCO.right)]
    assert meta["video_metadata"] == {"myvideo.mp4": {"w": 640, "h": 480}}

    video = read_custom_2d_npz(path)["myvideo.mp4"]  # plain containers and arrays: no trust needed
    np.testing.assert_array_equal(video.xy, xy[..., :2])
    assert (video.width, video.height, video.layout_name) == (640, 480, "coco")
    assert video.keypoints_symmetry == (list(COCO.left), list(COCO.right))


def test_the_writer_refuses_keypoints_of_another_layout(tmp_path):
    with pytest.raises(ValueError, match="joints"):
        save_custom_2d_npz(tmp_path / "x.npz", "v", np.zeros((3, 12, 2)), 640, 480, H36M)


def foreign_object_npz(path: Path, frames: int = 72) -> Path:
    """A custom 2D dataset whose keypoints are a masked array: its pickle names numpy.ma's rebuilder, which is
    not a plain container or array (the policy cannot tell a harmless class from a hostile one by its name)."""
    xy = np.ma.masked_invalid(np.full((frames, 17, 2), 100.0, np.float32))
    np.savez(path, positions_2d={"v": {"custom": [xy]}},
             metadata={"layout_name": "h36m", "num_joints": 17, "video_metadata": {}})
    return path


def test_pickles_naming_more_than_containers_and_arrays_are_refused_unless_trusted(tmp_path):
    path = foreign_object_npz(tmp_path / "masked.npz")
    with pytest.raises(UntrustedFileError) as err:
        load_npz(path)
    message = str(err.value)
    assert message.startswith(f"{path}: refusing to load numpy.ma.core.") and "\n" not in message
    assert "trust=True" in message  # a library caller's way to allow it
    assert "pass" not in str(err.value.naming(None))  # a command without a trust flag names none
    assert "--trust-data" in str(err.value.naming("--trust-data"))
    assert read_custom_2d_npz(path, trust=True)["v"].xy.shape == (72, 17, 2)


def test_vp3d_infer_refuses_such_a_file_in_one_line_that_names_no_flag_it_lacks(clip, tmp_path):  # noqa: F811
    from conftest import vp3d_infer

    path = foreign_object_npz(tmp_path / "masked.npz")
    proc = vp3d_infer(clip, "--detector", f"file:{path}", "--no-render", "--json", tmp_path / "x.json", "--quiet")
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert str(path) in proc.stderr and "refusing to load numpy.ma.core." in proc.stderr
    assert "--trust" not in proc.stderr and "trust=True" not in proc.stderr
    assert not (tmp_path / "x.json").exists()
