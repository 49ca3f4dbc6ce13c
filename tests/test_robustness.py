"""Awkward single videos through `vp3d-infer`: real ffmpeg-made inputs, real MediaPipe, the shipped weights.

Each case either succeeds with sane outputs or ends with one line naming the file, exit code 1 and no
output files; a damaged stream succeeds for the frames read with one warning line (or, with --strict, fails
so). Cases already in test_cli.py (missing, empty, text named .mp4, no person from testsrc, unwritable
output, names with spaces / non-ASCII, a new output folder) are not repeated here; the batch versions are in
test_batch.py. Most cases call the CLI's entry point in-process (same code path, no interpreter start-up
per case); the damaged files run as subprocesses with a timeout, so a decoder that hangs fails the test
instead of hanging it.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import damaged_copy, decoded_frames, require_shared
from vp3d.cli import infer_main
from vp3d.lifter.weights import default_checkpoint
from vp3d.video import ffmpeg_exe, probe

BIN = Path(sys.executable).parent
BASE_FRAMES = 72  # 3 s at 23.976 fps


def ffmpeg(*args):
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *map(str, args)], check=True, timeout=120)



@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """Three seconds of tai chi at 426x240, no audio: the raw material of every case."""
    if not default_checkpoint().exists():
        pytest.fail(f"shipped weights missing: {default_checkpoint()}")
    src = require_shared("videos", "taiji.mp4")
    out = tmp_path_factory.mktemp("robust") / "base.mp4"
    ffmpeg("-ss", 5, "-i", src, "-t", 3, "-vf", "scale=-2:240", "-an", "-c:v", "libx264", "-preset", "ultrafast", out)
    assert decoded_frames(out) == BASE_FRAMES
    return out


def infer(capfd, video, out_dir, *extra):
    """Run `vp3d-infer VIDEO --out OUT/r.mp4 --json OUT/r.json --npz OUT/r.npz --quiet` in-process."""
    rc = infer_main([str(video), "--out", str(out_dir / "r.mp4"), "--json", str(out_dir / "r.json"),
                     "--npz", str(out_dir / "r.npz"), "--quiet", *map(str, extra)])
    _, err = capfd.readouterr()
    return rc, err


def assert_clean_success(rc, err, out_dir):
    assert rc == 0 and err == "", err  # --quiet: not even a decoder warning
    assert sorted(p.name for p in out_dir.iterdir()) == ["r.json", "r.mp4", "r.npz"]  # no temporary leftovers
    return json.loads((out_dir / "r.json").read_text()), np.load(out_dir / "r.npz")


def assert_clean_failure(rc, err, name, out_dir, words):
    assert rc == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vp3d: error:") and name in lines[0], err
    assert words in lines[0], err
    assert "Traceback" not in err
    assert not out_dir.exists() or list(out_dir.iterdir()) == []


def run_cli(*args, timeout=120):
    return subprocess.run([str(BIN / "vp3d-infer"), *map(str, args)], capture_output=True, text=True, timeout=timeout)


# ------------------------------------------------------------------------------------------ damaged files

def assert_one_warning(err, name, frames_read, frames_claimed, ffmpeg_words):
    """stderr is exactly the decode warning: one line naming the file, the frames read and claimed, FFmpeg's
    words and --strict."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vp3d: warning: ") and name in lines[0], err
    assert f"broke off after {frames_read} of {frames_claimed} frames (ffmpeg: " in lines[0], err
    assert ffmpeg_words in lines[0] and lines[0].endswith(f"outputs cover the {frames_read} frames read "
                                                          f"(--strict makes this an error)"), err


def test_truncated_mp4_with_index_first_is_processed_up_to_the_break_with_one_warning(base, tmp_path):
    """moov at the front (faststart), file cut at 60%: the frames up to the cut decode and every output covers
    them; the break is said once, even with --quiet, on stderr and in the JSON (video.decode_warning)."""
    cut = damaged_copy(base, tmp_path / "cut.mp4", "cut", at=0.6)
    out = tmp_path / "out"
    proc = run_cli(cut, "--out", out / "r.mp4", "--json", out / "r.json", "--quiet", timeout=120)
    n = decoded_frames(cut)
    assert proc.returncode == 0 and 10 < n < BASE_FRAMES, proc.stderr
    assert_one_warning(proc.stderr, "cut.mp4", n, BASE_FRAMES, "partial file")
    doc = json.loads((out / "r.json").read_text())
    assert doc["video"]["frame_count"] == len(doc["frames"]) == n
    warning = doc["video"]["decode_warning"]
    assert (warning["frames_read"], warning["frames_claimed"]) == (n, BASE_FRAMES)
    assert "partial file" in warning["ffmpeg"]
    assert decoded_frames(out / "r.mp4") == n


def test_overwritten_bytes_warn_once_beside_the_json_summary_on_stdout(base, tmp_path):
    """4 KB of noise mid-file: the decoder stops there. With --json (summary on stdout) stdout stays one
    JSON document, which carries the warning too; stderr has the one warning line."""
    broken = damaged_copy(base, tmp_path / "noisy.mp4", "noise", at=0.6)
    n = decoded_frames(broken)
    assert 10 < n < BASE_FRAMES
    out = tmp_path / "out"
    proc = run_cli(broken, "--no-render", "--npz", out / "r.npz", "--json")
    assert proc.returncode == 0, proc.stderr
    assert_one_warning(proc.stderr, "noisy.mp4", n, BASE_FRAMES, "Invalid NAL unit size")
    summary = json.loads(proc.stdout)
    assert summary["frames"] == n and summary["decode_warning"]["frames_read"] == n
    assert "Invalid NAL unit size" in summary["decode_warning"]["ffmpeg"]
    assert np.load(out / "r.npz")["joints3d"].shape == (n, 17, 3)
    assert json.loads(str(np.load(out / "r.npz")["metadata"]))["video"]["decode_warning"] == summary["decode_warning"]


@pytest.mark.parametrize("damage", ["cut", "noise"])
def test_strict_makes_a_damaged_stream_one_error_and_writes_nothing(base, tmp_path, damage):
    """--strict: the same finding is the error line, exit code 1, and no output file (the render drawn while
    detecting included)."""
    broken = damaged_copy(base, tmp_path / f"{damage} clip.mp4", damage, at=0.6)
    out = tmp_path / "out"
    proc = run_cli(broken, "--strict", "--quiet", "--out", out / "r.mp4", "--json", out / "r.json", "--npz",
                   out / "r.npz", "--csv", out / "r.csv")
    assert_clean_failure(proc.returncode, proc.stderr, f"{damage} clip.mp4", out, f"of {BASE_FRAMES} frames (ffmpeg: ")
    assert proc.stderr.strip().endswith("refused with --strict")


def test_strict_leaves_a_whole_video_alone(base, capfd, tmp_path):
    out = tmp_path / "out"
    rc, err = infer(capfd, base, out, "--strict", "--no-render")
    assert rc == 0 and err == "", err
    assert "decode_warning" not in json.loads((out / "r.json").read_text())["video"]


def test_truncated_mp4_without_index_fails_clearly(base, tmp_path):
    """moov at the end (FFmpeg's default), file cut in half: there is no index to decode anything with."""
    data = base.read_bytes()
    cut = tmp_path / "cut end.mp4"
    cut.write_bytes(data[: len(data) // 2])
    out = tmp_path / "out"
    proc = run_cli(cut, "--out", out / "r.mp4", "--json", out / "r.json", timeout=120)
    assert_clean_failure(proc.returncode, proc.stderr, "cut end.mp4", out, "not a readable video file")


def test_audio_only_file_is_refused(capfd, tmp_path):
    src = tmp_path / "sound.mp4"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac", src)
    out = tmp_path / "out"
    rc, err = infer(capfd, src, out)
    assert_clean_failure(rc, err, "sound.mp4", out, "audio only")


# ------------------------------------------------------------------------------------------ very short

@pytest.mark.parametrize("frames", [1, 10])
def test_clips_shorter_than_the_receptive_field(base, capfd, tmp_path, frames):
    """1 and 10 frames against the lifter's 243-frame window: padded, one pose per frame, all finite."""
    src = tmp_path / f"{frames}f.mp4"
    ffmpeg("-i", base, "-frames:v", frames, "-c:v", "libx264", "-preset", "ultrafast", src)
    out = tmp_path / "out"
    doc, npz = assert_clean_success(*infer(capfd, src, out), out)
    assert doc["video"]["frame_count"] == len(doc["frames"]) == frames
    assert npz["joints3d"].shape == (frames, 17, 3) and np.isfinite(npz["joints3d"]).all()
    assert all(f["detected"] for f in doc["frames"])
    assert decoded_frames(out / "r.mp4") == frames


# ------------------------------------------------------------------------------------------ geometry and timing

def test_portrait_phone_video_with_rotation_metadata_comes_out_upright(base, capfd, tmp_path):
    """A phone's portrait clip: landscape pictures stored sideways plus a display rotation. Everything we
    write is in the upright (displayed) frame: JSON size, 2D keypoints, the rendered video."""
    coded = tmp_path / "sideways.mp4"
    # A 136x240 upright crop around the person, stored rotated 90 deg counter-clockwise (240x136)...
    ffmpeg("-i", base, "-vf", "crop=136:240,transpose=2", "-c:v", "libx264", "-preset", "ultrafast", coded)
    src = tmp_path / "portrait.mp4"
    # ... with a display matrix turning it back 90 deg clockwise, as a phone records it.
    ffmpeg("-display_rotation", -90, "-i", coded, "-c", "copy", src)
    assert probe(src).rotation == 90
    out = tmp_path / "out"
    doc, npz = assert_clean_success(*infer(capfd, src, out), out)
    v = doc["video"]
    assert (v["width"], v["height"], v["rotation"]) == (136, 240, 90)
    rendered = probe(out / "r.mp4")
    assert rendered.height == 240 and rendered.width == 136 + 240 and rendered.rotation == 0
    detected = npz["detected"]
    assert detected.sum() > 20
    xy = npz["keypoints2d"][detected]
    head, ankles = xy[:, 10, 1], (xy[:, 3, 1] + xy[:, 6, 1]) / 2
    assert np.median(ankles - head) > 0.4 * 240  # standing, head up: upright, not lying sideways
    assert (xy[..., 0].mean() > 0) and (xy[..., 0].mean() < 136)


def test_variable_frame_rate_keeps_every_frame_and_the_duration(base, capfd, tmp_path):
    """First second at 23.976 fps, then every third frame: 24 + 16 = 40 frames over 3 s. Every decoded
    frame gets a pose and an output frame; the output runs at the average rate, so it lasts as long."""
    src = tmp_path / "vfr.mp4"
    ffmpeg("-i", base, "-vf", r"select=lt(n\,24)+not(mod(n\,3))", "-fps_mode", "vfr", "-c:v", "libx264",
           "-preset", "ultrafast", src)
    n = decoded_frames(src)
    assert n == 40
    out = tmp_path / "out"
    doc, npz = assert_clean_success(*infer(capfd, src, out), out)
    fps = doc["video"]["fps"]
    assert doc["video"]["frame_count"] == len(doc["frames"]) == npz["joints3d"].shape[0] == n
    assert 8 < fps < 24  # between the two rates of the clip
    assert abs(n / fps - 3.0) < 0.3  # same duration as the input
    times = [f["time_s"] for f in doc["frames"]]
    assert times == sorted(times) and times[0] == 0
    rendered = probe(out / "r.mp4")
    assert decoded_frames(out / "r.mp4") == n and abs(rendered.fps - fps) < 0.01


def test_4k_frames(base, capfd, tmp_path):
    """Five 3840x2160 frames: detection on the full picture, the render scaled down to at most 1080 high."""
    src = tmp_path / "uhd.mp4"
    ffmpeg("-i", base, "-frames:v", 5, "-vf", "scale=3840:2160", "-c:v", "libx264", "-preset", "ultrafast", src)
    out = tmp_path / "out"
    doc, npz = assert_clean_success(*infer(capfd, src, out), out)
    assert (doc["video"]["width"], doc["video"]["height"], doc["video"]["frame_count"]) == (3840, 2160, 5)
    assert npz["detected"].all() and npz["keypoints2d"][..., 1].max() > 1000  # pixels of the 4K frame
    rendered = probe(out / "r.mp4")
    assert rendered.height <= 1080 and decoded_frames(out / "r.mp4") == 5


# ------------------------------------------------------------------------------------------ people

def test_person_leaving_the_frame_is_flagged_and_filled(base, capfd, tmp_path):
    """Frames 25-45 blacked out (the person is gone for 0.9 s): exactly those are flagged not detected,
    their keypoints interpolated between the last and next detection, and the poses stay finite."""
    src = tmp_path / "gap.mp4"
    ffmpeg("-i", base, "-vf", "drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='between(n,25,45)'",
           "-c:v", "libx264", "-preset", "ultrafast", src)
    out = tmp_path / "out"
    doc, npz = assert_clean_success(*infer(capfd, src, out), out)
    missing = [f["index"] for f in doc["frames"] if not f["detected"]]
    assert missing == list(range(25, 46))
    xy, score = npz["keypoints2d"], npz["scores2d"]
    assert np.isfinite(xy).all() and np.isfinite(npz["joints3d"]).all()
    assert (score[25:46] == 0).all() and (score[:25].max(axis=1) > 0).all()
    # Linear interpolation between frame 24 and frame 46.
    w = (35 - 24) / (46 - 24)
    assert np.allclose(xy[35], (1 - w) * xy[24] + w * xy[46], atol=0.05)
    assert doc["frames"][35]["keypoints2d"][0][2] == 0  # score 0 in the JSON too


def test_no_person_from_a_plain_colour_source(capfd, tmp_path):
    """test_cli covers testsrc's pattern; a flat grey picture is the other classic 'nobody' input."""
    src = tmp_path / "grey wall ü.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:size=320x240:rate=25:duration=1", "-pix_fmt", "yuv420p", src)
    out = tmp_path / "out"
    rc, err = infer(capfd, src, out)
    assert_clean_failure(rc, err, "grey wall ü.mp4", out, "no person")


# ------------------------------------------------------------------------------------------ options

@pytest.mark.parametrize("option, value, words", [
    ("--fov", "0", "must be in (0, 180)"), ("--fov", "180", "must be in (0, 180)"), ("--fov", "wide", "not a number"),
    ("--focal-length", "-5", "must be above 0"), ("--crf", "52", "must be in [0, 51]"), ("--crf", "20.5", "not a number")])
def test_impossible_camera_and_quality_values_are_usage_errors(base, capfd, tmp_path, option, value, words):
    """An infinite focal length (--fov 0) used to be accepted and lifted silently."""
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as stop:
        infer(capfd, base, out, option, value)
    err = capfd.readouterr().err
    last = err.splitlines()[-1]
    assert stop.value.code == 2 and f"argument {option}: " in last and words in last, err
    assert not out.exists()


@pytest.mark.parametrize("device, words", [("tpu", "not a device torch knows"), ("cuda:7", "CUDA GPU")])
def test_a_device_this_machine_lacks_is_one_line_not_a_traceback(base, capfd, tmp_path, device, words):
    out = tmp_path / "out"
    rc, err = infer(capfd, base, out, "--device", device)
    assert_clean_failure(rc, err, repr(device), out, words)
