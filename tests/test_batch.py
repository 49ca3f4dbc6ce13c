"""`vp3d batch` / `vp3d-infer FOLDER`: a folder of good and bad videos, resume, crashes and Ctrl-C.

Real ffmpeg-made clips, real MediaPipe, the shipped weights, real worker processes; nothing is mocked.
The crash and Ctrl-C tests find the batch's worker processes in /proc and signal them while one is
encoding its rendered video (an ffmpeg child reading raw video), the moment with the most files open.
"""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import BIN, child_pids, cmdline, damaged_copy, decoded_frames, ffmpeg, require_shared
from vp3d.cli import main
from vp3d.detectors.mediapipe_pose import MediaPipePoseDetector
from vp3d.pipeline.detect import detect_keypoints
from vp3d.batch.run import BatchError, finished_record, options_fingerprint, parse_formats, plan_batch
from vp3d.batch.workers import partial_files
from vp3d.pipeline.infer import InferenceOptions
from vp3d.lifter.weights import default_checkpoint

KINDS = ["video", "json", "npz"]


def cut(src: Path, dst: Path, start: float, seconds: float) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    ffmpeg("-ss", start, "-i", src, "-t", seconds, "-vf", "scale=-2:240", "-an", "-c:v", "libx264",
           "-preset", "ultrafast", dst)
    return dst


def vp3d(*args, timeout=300, **kw):
    return subprocess.run([str(BIN / "vp3d"), *map(str, args)], capture_output=True, text=True, timeout=timeout, **kw)



def listing(folder: Path) -> dict[str, int]:
    """Every file under folder (hidden ones too) -> mtime_ns."""
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    if not default_checkpoint().exists():
        pytest.fail(f"shipped weights missing: {default_checkpoint()}")
    taiji, skating = require_shared("videos", "taiji.mp4"), require_shared("videos", "figure_skating.mp4")
    d = tmp_path_factory.mktemp("clips")
    return {"taiji": cut(taiji, d / "taiji.mp4", 5, 1.5), "skating": cut(skating, d / "skating.mp4", 2, 1.5),
            "taiji2": cut(taiji, d / "taiji2.mp4", 9, 2)}


# ------------------------------------------------------------------------------------------ a mixed folder

@pytest.fixture(scope="module")
def mixed(clips, tmp_path_factory):
    """Two good videos (one in a sub-folder, spaces and non-ASCII in its name, .mov), five bad ones, and
    files that are not videos; then `vp3d batch -r -j 2 --json`."""
    root = tmp_path_factory.mktemp("mixed")
    src = root / "in"
    (src / "sub dir").mkdir(parents=True)
    (src / "a.mp4").write_bytes(clips["taiji"].read_bytes())
    ffmpeg("-i", clips["skating"], "-c", "copy", src / "sub dir" / "gööd é 2.mov")
    (src / "empty.mp4").write_bytes(b"")
    (src / "text.mp4").write_text("this is not a video\n")
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac", src / "audio only.mp4")
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:size=320x240:rate=25:duration=1", "-pix_fmt", "yuv420p",
           src / "sub dir" / "nobody.mp4")
    data = clips["taiji"].read_bytes()  # moov at the end: half a file has no index
    (src / "truncated.mp4").write_bytes(data[: len(data) // 2])
    (src / "notes.txt").write_text("not a video, not even opened\n")
    (src / "README").write_text("no extension: probed, then left out\n")
    for name, frames in GOOD.items():
        assert decoded_frames(src / name) == frames
    out = root / "out"
    proc = vp3d("batch", src, "--out", out, "-r", "-j", 2, "--json")
    return src, out, proc


BAD = {"empty.mp4": "file is empty", "text.mp4": "not a readable video file", "audio only.mp4": "audio only",
       "sub dir/nobody.mp4": "no person", "truncated.mp4": "not a readable video file"}
GOOD = {"a.mp4": 36, "sub dir/gööd é 2.mov": 38}  # frames (as decoded): 1.5 s at 23.976 and 25 fps


def test_batch_processes_the_good_and_reports_the_bad(mixed):
    src, out, proc = mixed
    assert proc.returncode == 1, proc.stderr  # something failed
    assert "Traceback" not in proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert json.loads(proc.stdout) == summary  # --json prints the same document
    assert summary["schema"] == "vp3d.batch/1" and summary["formats"] == KINDS and summary["exit_code"] == 1
    assert summary["counts"] == {"ok": 2, "skipped": 0, "failed": 5, "interrupted": 0}
    rows = {r["input"]: r for r in summary["videos"]}
    assert set(rows) == set(GOOD) | set(BAD)  # notes.txt and README are not videos
    [readme] = summary["not_videos"]  # probed (no extension), not a video
    assert readme["input"] == "README" and readme["reason"].startswith("not a readable video file"), readme
    for name, words in BAD.items():
        assert rows[name]["status"] == "failed" and words in rows[name]["reason"], rows[name]
        assert rows[name]["outputs"] == {}
    # --json means no progress: stderr holds exactly one line per failed file, naming it.
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == len(BAD) and all(line.startswith("vp3d: error:") for line in lines)
    for name, words in BAD.items():
        assert any(str(src / name) in line and words in line for line in lines), name
    for name, frames in GOOD.items():
        r = rows[name]
        assert r["status"] == "ok" and r["frames"] == frames and r["frames_detected"] > 0.8 * frames
        assert r["fps_video"] > 20 and r["frames_per_second"] > 0 and set(r["outputs"]) == set(KINDS)


def test_batch_outputs_mirror_the_folders_and_nothing_else_is_left(mixed):
    _, out, _ = mixed
    files = set(listing(out))
    expected = {"summary.json", "a.vp3d.mp4", "a.json", "a.npz", ".a.vp3d-done.json",
                "sub dir/gööd é 2.vp3d.mp4", "sub dir/gööd é 2.json", "sub dir/gööd é 2.npz",
                "sub dir/.gööd é 2.vp3d-done.json"}
    assert files == expected  # no outputs of failed videos, no temporary files
    doc = json.loads((out / "sub dir" / "gööd é 2.json").read_text())
    assert len(doc["frames"]) == GOOD["sub dir/gööd é 2.mov"]
    assert np.load(out / "a.npz")["joints3d"].shape == (GOOD["a.mp4"], 17, 3)
    marker = json.loads((out / ".a.vp3d-done.json").read_text())
    assert marker["status"] == "ok" and marker["formats"] == KINDS and marker["frames"] == GOOD["a.mp4"]


def test_second_run_skips_finished_videos_and_overwrite_redoes_them(mixed):
    src, out, _ = mixed
    before = listing(out)
    # vp3d-infer with a folder is the same batch command.
    proc = subprocess.run([str(BIN / "vp3d-infer"), str(src), "--out", str(out), "-r", "-j", "2", "--quiet"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == len(BAD)  # the bad ones again
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"] == {"ok": 0, "skipped": 2, "failed": 5, "interrupted": 0}
    after = listing(out)
    assert {k: v for k, v in after.items() if k != "summary.json"} == \
           {k: v for k, v in before.items() if k != "summary.json"}  # finished outputs untouched
    skipped = {r["input"]: r for r in summary["videos"] if r["status"] == "skipped"}
    assert set(skipped) == set(GOOD) and skipped["a.mp4"]["frames"] == GOOD["a.mp4"]

    # --overwrite redoes them (here without the rendered video: JSON and NPZ are rewritten, the old
    # render is left alone since it was not asked for).
    proc = vp3d("batch", src, "--out", out, "-r", "--overwrite", "--no-render", "--quiet")
    assert proc.returncode == 1
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"] == {"ok": 2, "skipped": 0, "failed": 5, "interrupted": 0}
    redone = listing(out)
    assert redone["a.json"] > before["a.json"] and redone["sub dir/gööd é 2.npz"] > before["sub dir/gööd é 2.npz"]
    assert redone["a.vp3d.mp4"] == before["a.vp3d.mp4"]
    # The marker now records only json+npz: a run asking for the video again must redo the video.
    tasks, _ = plan_batch(src, out, KINDS, recursive=True)
    a = next(t for t in tasks if t.rel.as_posix() == "a.mp4")
    assert finished_record(a, ["json", "npz"], options_fingerprint(InferenceOptions())) is not None
    assert finished_record(a, KINDS, options_fingerprint(InferenceOptions())) is None


def test_done_marker_decides_what_is_finished(mixed, tmp_path):
    """Finished = a marker matching this input file, these options, these formats, with outputs present;
    temporary files never count and are found exactly (not another video's)."""
    src, out, _ = mixed
    tasks, _ = plan_batch(src, out, ["json", "npz"], recursive=True)
    a = next(t for t in tasks if t.rel.as_posix() == "a.mp4")
    fp = options_fingerprint(InferenceOptions())
    assert finished_record(a, ["json"], fp) is not None
    assert finished_record(a, ["json"], options_fingerprint(InferenceOptions(fov=70))) is None  # other camera
    # --strict redoes what a run without it finished (a damaged video then fails); off, markers from before
    # the option existed still match.
    assert finished_record(a, ["json"], options_fingerprint(InferenceOptions(strict=True))) is None
    assert "strict" not in fp
    assert finished_record(a, ["json", "csv"], fp) is None  # a format not written yet
    # A changed input (same content, new mtime) is not the input the outputs were made from.
    stat = a.source.stat()
    os.utime(a.source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    try:
        assert finished_record(a, ["json"], fp) is None
    finally:
        os.utime(a.source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert finished_record(a, ["json"], fp) is not None
    # Leftovers of a killed run, named as export.atomic_write and H264Writer name them (the marker is
    # hidden already, hence two dots).
    leftovers = [out / ".a.json.partial.json", out / ".a.vp3d.0123abcd.partial.mp4",
                 out / "..a.vp3d-done.json.partial.json"]
    other = [out / ".a.x.json.partial.json", out / ".ab.json.partial.json"]  # another video's (a.x.mp4, ab.mp4)
    for p in leftovers + other:
        p.write_bytes(b"half")
    try:
        assert finished_record(a, ["json"], fp) is not None  # ignored
        video_task = plan_batch(src, out, KINDS, recursive=True)[0]
        found = set(partial_files(next(t for t in video_task if t.rel.as_posix() == "a.mp4")))
        assert found == set(leftovers)
    finally:
        for p in leftovers + other:
            p.unlink()


# ------------------------------------------------------------------------------------------ damaged streams

def test_a_damaged_video_is_done_with_a_warning_or_under_strict_fails_alone(clips, tmp_path):
    """A video cut at 60% beside a whole one: its outputs cover the frames read, its row and JSON carry the
    decode warning and stderr says it once (--json: stdout is the summary). With --strict it fails like any
    bad video, one line, no outputs, and the whole one is still done."""
    src = tmp_path / "in"
    src.mkdir()
    (src / "whole.mp4").write_bytes(clips["taiji"].read_bytes())
    broken = damaged_copy(clips["taiji2"], src / "broken.mp4", "cut", at=0.6)
    n, claimed = decoded_frames(broken), 48  # 2 s at 23.976 fps
    assert 10 < n < claimed

    proc = vp3d("batch", src, "--out", tmp_path / "out", "--formats", "json", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = {r["input"]: r for r in json.loads(proc.stdout)["videos"]}
    assert rows["whole.mp4"]["status"] == "ok" and "decode_warning" not in rows["whole.mp4"]
    warning = rows["broken.mp4"]["decode_warning"]
    assert rows["broken.mp4"]["status"] == "ok" and rows["broken.mp4"]["frames"] == n
    assert (warning["frames_read"], warning["frames_claimed"]) == (n, claimed) and "partial file" in warning["ffmpeg"]
    assert json.loads((tmp_path / "out" / "broken.json").read_text())["video"]["decode_warning"] == warning
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith(f"vp3d: warning: {broken}: the video stream broke off after {n} of {claimed} frames")

    strict = tmp_path / "strict"
    proc = vp3d("batch", src, "--out", strict, "--formats", "json,npz", "--strict", "--quiet")
    assert proc.returncode == 1
    summary = json.loads((strict / "summary.json").read_text())
    rows = {r["input"]: r for r in summary["videos"]}
    assert rows["whole.mp4"]["status"] == "ok" and rows["broken.mp4"]["status"] == "failed"
    assert rows["broken.mp4"]["reason"].startswith(f"the video stream broke off after {n} of {claimed} frames")
    assert rows["broken.mp4"]["reason"].endswith("refused with --strict")
    [line] = proc.stderr.strip().splitlines()
    assert line == f"vp3d: error: {broken}: {rows['broken.mp4']['reason']}"
    assert set(listing(strict)) == {"summary.json", "whole.json", "whole.npz", ".whole.vp3d-done.json"}


# ------------------------------------------------------------------------------------------ planning

def test_plan_names_outputs_and_decides_what_is_a_video(clips, tmp_path):
    src, out = tmp_path / "in", tmp_path / "in" / "results"
    (src / "deep" / "er").mkdir(parents=True)
    for name in ["clip.mp4", "clip.mov", "summary.mp4", "deep/er/x.MKV", "no_extension", ".hidden.mp4",
                 "old.vp3d.mp4", "video_named.txt", "results/inside_out.mp4"]:
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes(clips["taiji"].read_bytes())  # all real videos, whatever the name says
    (src / "garbage.bin2").write_bytes(b"not a video, just text\n" * 80)  # fixed bytes: random ones may probe as a subtitle stream
    tasks, not_videos = plan_batch(src, out, ["json", "video"], recursive=True)
    named = {t.rel.as_posix(): t for t in tasks}
    # Hidden files, our own renders, obviously-not-video extensions (never probed) and OUT_DIR are left out;
    # a file without an extension is probed and kept because it decodes.
    assert sorted(named) == ["clip.mov", "clip.mp4", "deep/er/x.MKV", "no_extension", "summary.mp4"]
    [garbage] = not_videos
    assert garbage["input"] == "garbage.bin2" and garbage["reason"].startswith("not a readable video file"), garbage
    # Same stem in one folder (and summary.* next to summary.json): named after the whole file name.
    assert named["clip.mp4"].outputs.json == out / "clip_mp4.json"
    assert named["clip.mov"].outputs.video == out / "clip_mov.vp3d.mp4"
    assert named["summary.mp4"].outputs.json == out / "summary_mp4.json"
    assert named["deep/er/x.MKV"].outputs.json == out / "deep" / "er" / "x.json"
    assert named["deep/er/x.MKV"].marker == out / "deep" / "er" / ".x.vp3d-done.json"
    assert named["no_extension"].outputs.npz is None  # only the kinds asked for
    flat, _ = plan_batch(src, out, ["json"], recursive=False)
    assert sorted(t.rel.as_posix() for t in flat) == ["clip.mov", "clip.mp4", "no_extension", "summary.mp4"]


def test_formats_are_validated_against_outputs():
    assert parse_formats("video,json,npz") == ["video", "json", "npz"]
    assert parse_formats("npz, json ,CSV,bvh", no_render=True) == ["json", "npz", "csv", "bvh"]
    assert parse_formats("video,json", no_render=True, npz_2d=True) == ["json", "npz_2d"]
    assert parse_formats("npz-2d") == ["npz_2d"]
    with pytest.raises(BatchError, match="unknown output format mp3"):
        parse_formats("json,mp3")
    with pytest.raises(BatchError, match="no output format"):
        parse_formats("video", no_render=True)
    with pytest.raises(BatchError):
        parse_formats("world")  # a field of Outputs, but not a file


def test_batch_refuses_what_it_cannot_do_in_one_line(clips, tmp_path, capfd):
    """Checked before any worker starts, so run in-process (vp3d.cli.main is what the `vp3d` script calls)."""
    blocker = tmp_path / "file.txt"
    blocker.write_text("a regular file: no folder can be made under it, even as root\n")
    folder = clips["taiji"].parent
    cases = [(["batch", folder, "--out", blocker / "sub"], "cannot write the output folder"),
             (["batch", tmp_path / "missing", "--out", tmp_path / "o"], "no such folder"),
             (["batch", blocker, "--out", tmp_path / "o"], "not a folder"),
             (["batch", tmp_path, "--out", tmp_path / "never"], "no video files found"),
             (["batch", folder, "--out", tmp_path / "o", "--formats", "json,gif"], "unknown output format gif"),
             (["batch", folder, "--out", tmp_path / "o", "--people", "all"], "needs a multi-person detector"),
             (["batch", folder, "--out", tmp_path / "o", "--people", "2", "--detector", "rtmpose", "--formats",
               "json,csv"], "--csv hold(s) one person")]
    (tmp_path / "o").mkdir()
    for args, words in cases:
        rc = main([str(a) for a in args])
        err = capfd.readouterr().err
        lines = err.strip().splitlines()
        assert rc == 1 and len(lines) == 1 and words in lines[0], (args, err)
        assert lines[0].startswith("vp3d: error:") and "Traceback" not in err
    assert list((tmp_path / "o").iterdir()) == []
    assert not (tmp_path / "never").exists()  # a refused batch does not even create its folder


def test_batch_people_all_tracks_everyone_in_every_video(tmp_path):
    """--people in batch mode: each video's JSON holds its tracked people (vp3d.joints/2). Tiny ONNX stand-ins
    for RTMPose (test_detector_backends: two fixed person boxes, keypoints on the brightest spot of each
    crop), since no real multi-person weights can be fetched here; the videos are real H.264 files."""
    import onnxruntime  # noqa: F401  (pinned: missing, it fails)
    from conftest import blob_frame, tiny_detector_onnx, tiny_pose_onnx
    from vp3d.video import H264Writer

    src = tmp_path / "in"
    src.mkdir()
    for name, drift in (("a", 0.0), ("b", 1.0)):
        with H264Writer(src / f"{name}.mp4", 320, 180, 25) as writer:
            for t in range(30):
                writer.write(blob_frame([(200.0 + drift * t / 10, 90.0), (61.0, 121.0 - drift * t / 10)]))
    boxes = np.array([[170, 40, 230, 140], [30, 80, 90, 160]], np.float32)
    det = tiny_detector_onnx(tmp_path / "det.onnx", np.c_[boxes * 0.5, [0.9, 0.8]], [0, 0])
    pose = tiny_pose_onnx(tmp_path / "pose.onnx")
    out = tmp_path / "out"
    proc = vp3d("batch", src, "--out", out, "--people", "all", "--detector", "rtmpose", "--detector-weights",
                f"{det},{pose}", "--formats", "json,npz", "--quiet", "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert [v["status"] for v in summary["videos"]] == ["ok", "ok"]
    for name in ("a", "b"):
        doc = json.loads((out / f"{name}.json").read_text())
        assert doc["schema"] == "vp3d.joints/2" and len(doc["people"]) == 2
        npz = np.load(out / f"{name}.npz")
        assert npz["joints3d"].shape == (2, 30, 17, 3) and np.isfinite(npz["joints3d"]).all()
    assert summary["videos"][0]["people"] and len(summary["videos"][0]["people"]) == 2


# ------------------------------------------------------------------------------------------ crashes, Ctrl-C

def _worker_encoding(batch_pid: int, timeout: float = 120) -> int:
    """The pid of a batch worker while it encodes its rendered video. The render is drawn while MediaPipe
    reads, so the encoder is there from the first poses lifted during detection to the end of the render (a
    second or more even for these short clips, longer on a busy machine): a look every 0.1 s finds it."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        for w in child_pids(batch_pid):
            if "spawn_main" in cmdline(w) and any("rawvideo" in cmdline(g) for g in child_pids(w)):
                return w
        time.sleep(0.1)
    pytest.fail("no batch worker was seen rendering")


@pytest.fixture
def two_videos(clips, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for name in ["taiji", "taiji2"]:
        (src / f"{name}.mp4").write_bytes(clips[name].read_bytes())
    return src, tmp_path / "out"


def test_a_killed_worker_does_not_stop_the_batch(two_videos):
    """kill -9 of a worker in the middle of a video: the pool breaks, the video is retried alone in a fresh
    worker, and the batch completes with every output whole and no temporary file left."""
    src, out = two_videos
    proc = subprocess.Popen([str(BIN / "vp3d"), "batch", str(src), "--out", str(out), "-j", "2", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    os.kill(_worker_encoding(proc.pid), signal.SIGKILL)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0 and err == "", err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"]["ok"] == 2
    assert set(listing(out)) == {"summary.json", *(f"{n}{s}" for n in ["taiji", "taiji2"]
                                                   for s in [".vp3d.mp4", ".json", ".npz"]),
                                 ".taiji.vp3d-done.json", ".taiji2.vp3d-done.json"}


def test_ctrl_c_leaves_nothing_half_done_and_the_next_run_finishes(two_videos):
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it) while a video is being rendered:
    exit 130, no traceback, that video's files all gone (its JSON/NPZ were already written: a video is all
    its outputs or none), summary.json says interrupted; the same command then finishes the job."""
    src, out = two_videos
    proc = subprocess.Popen([str(BIN / "vp3d"), "batch", str(src), "--out", str(out), "-j", "2", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    _worker_encoding(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.strip().splitlines() == [
        "vp3d: interrupted; run the same command again to finish the rest"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["exit_code"] == 130 and summary["counts"]["interrupted"] >= 1
    finished = {r["input"] for r in summary["videos"] if r["status"] == "ok"}
    left = set(listing(out))
    expected = {"summary.json"} | {f"{Path(n).stem}{s}" for n in finished for s in [".vp3d.mp4", ".json", ".npz"]} \
        | {f".{Path(n).stem}.vp3d-done.json" for n in finished}
    assert left == expected  # nothing of the interrupted videos, no temporary files
    again = vp3d("batch", src, "--out", out, "-j", "2", "--quiet")
    assert again.returncode == 0, again.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"] == {"ok": 2 - len(finished), "skipped": len(finished), "failed": 0, "interrupted": 0}


def test_ctrl_c_while_the_workers_are_still_starting_is_one_line(two_videos):
    """Ctrl-C the moment the first worker process exists (it is still importing torch and MediaPipe): no
    worker prints a traceback; the batch ends as interrupted with its one line."""
    src, out = two_videos
    proc = subprocess.Popen([str(BIN / "vp3d"), "batch", str(src), "--out", str(out), "-j", "2", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    t0 = time.time()
    while not any("spawn_main" in cmdline(w) for w in child_pids(proc.pid)):
        assert proc.poll() is None and time.time() - t0 < 60, "no worker started"
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and err.strip().splitlines() == [
        "vp3d: interrupted; run the same command again to finish the rest"], err


# ------------------------------------------------------------------------------------------ detector reuse

def test_mediapipe_reset_forgets_the_previous_video(clips):
    """Batch workers reuse one detector: after reset() it must see the next video exactly as a new one does
    (without it, tracking carries the previous person's position over and the keypoints differ)."""
    with MediaPipePoseDetector() as reused, MediaPipePoseDetector() as fresh:
        detect_keypoints(clips["taiji"], reused)
        reused.reset()
        again = detect_keypoints(clips["skating"], reused)
        first = detect_keypoints(clips["skating"], fresh)
    assert np.array_equal(again.detected, first.detected)
    assert np.array_equal(again.xy, first.xy, equal_nan=True) and np.array_equal(again.score, first.score)
