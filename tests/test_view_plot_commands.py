"""`vp3d view` and `vp3d plot` as a user runs them, on the joints of a real clip (vp3d-infer --json --world):
the page embeds those joints and links the video found beside them; the figure and the printed summary
are the angles of that file; bad input is one line, a non-zero exit and no output."""

from __future__ import annotations

import base64
import json
import re
import subprocess

import numpy as np
import pytest
from conftest import BIN, vp3d_infer

from vp3d.angles import angles_from_joints_json


def vp3d(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "vp3d"), *map(str, args)], capture_output=True, text=True, timeout=300,
                          cwd=cwd)


def meta_of(page: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="vp3d-meta">(.*?)</script>', page, re.S).group(1))


@pytest.fixture(scope="module")
def result(clip, tmp_path_factory):
    """r.json (world frame, Y up) and r.mp4 of the 3-s tai chi clip, side by side in one folder."""
    folder = tmp_path_factory.mktemp("viewplot")
    done = vp3d_infer(clip, "--out", folder / "r.mp4", "--json", folder / "r.json", "--world", "--quiet",
                      "--html", folder / "direct.html", "--angles", folder / "angles.csv")
    assert done.returncode == 0, done.stderr
    return folder


def test_view_writes_one_page_with_the_joints_and_the_video_beside_them(result):
    done = vp3d("view", "r.json", "--json", cwd=result)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary == {"input": "r.json", "out": "r.html", "video": "r.mp4"}
    page = (result / "r.html").read_text(encoding="utf-8")
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page  # offline
    assert meta_of(page)["video_src"] == "r.mp4"  # linked relative to the page, not copied
    # the embedded float32 block of the skeleton holds the file's joints (Y-up world: unchanged)
    doc = json.loads((result / "r.json").read_text())
    expected = np.array([f["joints3d"] for f in doc["frames"]], np.float32)
    blocks = re.findall(r'<script type="application/octet-stream" id="vp3d-block-\d+">([^<]*)</script>', page)
    arrays = [np.frombuffer(base64.b64decode(b), np.float32) for b in blocks]
    assert any(a.size == expected.size and np.allclose(a, expected.ravel(), atol=1e-6) for a in arrays)


def test_view_without_video_and_to_a_chosen_name(result):
    done = vp3d("view", "r.json", "--no-video", "-o", "sub/page.html", cwd=result)
    assert done.returncode == 0, done.stderr
    page = (result / "sub" / "page.html").read_text(encoding="utf-8")
    assert meta_of(page)["video_src"] is None


def test_plot_draws_the_files_angles_and_prints_their_summary(result):
    done = vp3d("plot", "r.json", "--angles", "knee, trunk", "--range", "0.5:2.5", "--json", cwd=result)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["out"] == "r.angles.png"
    assert (result / "r.angles.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    series = angles_from_joints_json(json.loads((result / "r.json").read_text()))
    t = np.arange(len(series.detected)) / series.fps
    inside = (t >= 0.5 - 1e-9) & (t <= 2.5 + 1e-9)
    for name in ("left_knee_flexion", "right_knee_flexion", "trunk_lean"):
        values = series.angles[name][inside]
        values = values[np.isfinite(values)]
        assert out["summary"][name]["frames"] == len(values) > 0  # world frame: trunk lean is defined
        assert out["summary"][name]["max"] == pytest.approx(values.max(), abs=1e-3)
        assert out["summary"][name]["range"] == pytest.approx(np.ptp(values), abs=2e-3)
    assert set(out["summary"]) == {"left_knee_flexion", "right_knee_flexion", "trunk_lean"}


@pytest.mark.parametrize("args, words", [
    (["view", "missing.json"], "missing.json: no such file"),
    (["view", "r.mp4"], "r.mp4: not a JSON file"),
    (["view", "r.json", "--video", "nope.mp4"], "nope.mp4: video not found"),
    (["plot", "r.json", "--angles", "knees"], "unknown angle(s) knees"),
    (["plot", "r.json", "-o", "fig.jpg"], "fig.jpg: the figure needs"),
    (["plot", "r.json", "--range", "3:1"], "END must be after START"),
    (["plot", "r.json", "--person", "2"], "has 1 person(s)"),
])
def test_bad_input_is_one_line_and_writes_nothing(result, args, words):
    before = set(result.rglob("*"))
    done = vp3d(*args, cwd=result)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("vp3d: error: ") and words in done.stderr
    assert set(result.rglob("*")) == before


def test_infer_writes_the_page_and_the_angles_directly(result):
    """vp3d-infer --html --angles: the page links the rendered video and embeds the run's joints; the angles
    CSV holds vp3d.angles of the JSON's world-frame joints, frame by frame, and its summary sits beside it."""
    page = (result / "direct.html").read_text(encoding="utf-8")
    assert meta_of(page)["video_src"] == "r.mp4"
    doc = json.loads((result / "r.json").read_text())
    series = angles_from_joints_json(doc)
    import csv
    with open(result / "angles.csv", newline="") as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    assert len(rows) == len(doc["frames"])
    for name in ("left_knee_flexion", "trunk_lean", "pelvis_rotation"):
        from_csv = np.array([float(r[name]) if r[name] else np.nan for r in rows])
        assert np.allclose(from_csv, series.angles[name], atol=0.02, equal_nan=True), name  # JSON joints rounded to 10 um
    summary = json.loads((result / "angles.summary.json").read_text())["summary"]
    assert summary["left_knee_flexion"]["max"] == pytest.approx(np.nanmax(series.angles["left_knee_flexion"]), abs=0.02)


def test_batch_writes_pages_and_angles_and_several_people_refuse_angles(result, clip, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.mp4").write_bytes(clip.read_bytes())
    done = vp3d("batch", folder, "--out", tmp_path / "out", "--formats", "json,html,angles", "--quiet")
    assert done.returncode == 0, done.stderr
    assert {p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")} == \
        {"a.json", "a.html", "a.angles.csv", "a.angles.summary.json", "summary.json"}
    refused = vp3d("batch", folder, "--out", tmp_path / "p", "--formats", "json,angles", "--people", "all",
                   "--detector", "keypoint-rcnn")  # refused before any detector loads
    assert refused.returncode == 1 and "--angles" in refused.stderr and refused.stderr.count("\n") == 1
