"""Live mode (`vp3d live`): each frame's 3D from the past only, as the offline causal lifter gives it; a
source that outruns the loop drops frames (counted) instead of queueing them; stdin, UDP and WebSocket.

Real clips, real MediaPipe, real ffmpeg; the lifter is a small causal model in the reference's format
(the shipped causal weights are checked in test_weights). `--show` opens its window on a real virtual X
server (Debian's xvfb, with xwininfo from x11-utils: `make browser` installs them); without them that test
fails under CI=true (CI must install them) and skips elsewhere.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import BIN, decoded_frames, ffmpeg, require_shared, small_model, walking_2d, write_official

from vp3d.lifter.camera import normalize_screen_coordinates
from vp3d.lifter.inference import Lifter
from vp3d.lifter.weights import LifterWeights, default_checkpoint
from vp3d.live.causal import CausalLifting


@pytest.fixture(scope="module")
def causal_bin(tmp_path_factory):
    path = tmp_path_factory.mktemp("live") / "causal.bin"
    write_official(path, small_model(causal=True))
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """2 s of the tai chi video at 25 fps, 320 px wide."""
    out = tmp_path_factory.mktemp("live_clip") / "taiji.mp4"
    ffmpeg("-ss", 5, "-i", require_shared("videos", "taiji.mp4"), "-t", 2, "-vf", "scale=320:-2,fps=25", "-an",
           "-c:v", "libx264", "-preset", "ultrafast", out)
    return out


def vp3d_live(*args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "vp3d"), "live", *map(str, args), "--input-layout", "h36m", "--causal"],
                          capture_output=True, text=True, timeout=300, **kw)


# ------------------------------------------------------------------------------------------ the lifting

def live_and_offline(causal_bin, frames: int, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """The same 2D at `fps` through CausalLifting frame by frame and through the offline causal lifter."""
    lifter = Lifter.load(causal_bin, input_layout="h36m", causal=True, fps=50)
    kp = walking_2d(frames)
    offline = lifter.lift(kp, fps=fps).poses
    stream = CausalLifting(lifter)
    return np.stack([stream.push(i / fps, kp[i]) for i in range(frames)]), offline - offline[:, :1]


def test_frame_by_frame_equals_the_offline_causal_lifter_at_its_rate(causal_bin):
    live, offline = live_and_offline(causal_bin, 150, 50.0)
    assert np.allclose(live, offline, atol=1e-5)


def test_at_another_rate_each_frame_gets_the_last_model_tick_before_it(causal_bin):
    """30 fps: the 2D is put on the model's 50 fps ticks as offline; a frame's 3D is the tick at or before it
    (at most 20 ms old), so it differs from the offline result only by up to one tick of motion."""
    live, offline = live_and_offline(causal_bin, 90, 30.0)
    one_tick = np.abs(np.diff(offline, axis=0)).max()  # the most a joint moves in one frame
    assert np.abs(live - offline).max() <= one_tick + 1e-6
    assert not np.allclose(live, offline)  # the difference is real (this test can fail)


def test_the_stream_computes_the_offline_causal_lifters_poses_on_both_engines(causal_bin):
    """Live mode's step computes one output per layer from the layers' histories (streaming.py); frame by
    frame, or a few frames at a time (more than a pass takes, too), it equals the padded sequence's output,
    flip included, on the numpy engine (the shipped causal weights) and on the torch engine (a .bin without
    light form, streamed through its numpy copy)."""
    kp = walking_2d(300)
    shipped = Lifter.load(LifterWeights.DEFAULT_CAUSAL.value.path)
    small = Lifter.load(causal_bin, input_layout="h36m", causal=True, fps=50)
    assert (shipped.engine, small.engine) == ("numpy", "torch")
    for lifter in (shipped, small):
        for flip in (True, False):
            offline = lifter.lift(kp, flip=flip, smooth=False).poses  # the network's: the steps after it are
            stream = lifter.causal_stream(flip)                         # CausalLifting's (test_causal_steps.py)
            live = np.stack([stream.start(kp[0])] + [stream.step(k) for k in kp[1:]])
            assert np.allclose(live, offline, atol=2e-5), (lifter.engine, flip)
            stream = lifter.causal_stream(flip)
            ends = np.cumsum([1, 2, 3, 19, 1, 2])
            live = np.concatenate([stream.start(kp[0])[None]] + [stream.steps(kp[a:b]) for a, b in zip(ends, ends[1:])]
                                  + [stream.steps(kp[ends[-1]:])])
            assert np.allclose(live, offline, atol=2e-5), (lifter.engine, flip)
    assert not np.allclose(shipped.causal_stream(True).start(kp[0]), shipped.causal_stream(False).start(kp[0]))
    with pytest.raises(ValueError, match="causal"):
        Lifter.load(default_checkpoint()).causal_stream()


def test_a_lifter_that_looks_ahead_is_refused(clip):
    with pytest.raises(ValueError, match="causal"):
        CausalLifting(Lifter.load(default_checkpoint()))
    done = subprocess.run([str(BIN / "vp3d"), "live", str(clip), "--checkpoint", str(default_checkpoint())],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "not a causal lifter" in done.stderr


# ------------------------------------------------------------------------------------------ the command

def test_every_frame_of_a_file_gives_one_json_object_whose_3d_is_the_causal_lifters(clip, causal_bin, tmp_path):
    out = tmp_path / "poses.jsonl"
    done = vp3d_live(clip, "--checkpoint", causal_bin, "-o", out, "--stats")
    assert done.returncode == 0, done.stderr
    frames = [json.loads(line) for line in out.read_text().splitlines()]
    assert [f["frame"] for f in frames] == list(range(50))  # a file not played in real time drops nothing
    assert done.stderr.splitlines()[0] == (f"vp3d live: {clip}: the source ended; 50 frames received, 50 processed, "
                                           f"0 dropped")
    assert "50 received, 50 processed, 0 dropped" in done.stderr
    assert all(f["detected"] for f in frames)
    # independently: the file's own 2D through the offline causal lifter (25 fps clip, 50 fps model)
    kp = np.array([f["keypoints2d"] for f in frames])[..., :2]
    lifter = Lifter.load(causal_bin, input_layout="h36m", causal=True, fps=50)
    offline = lifter.lift(normalize_screen_coordinates(kp.astype(np.float32), 320, 180), fps=25).poses
    offline -= offline[:, :1]
    live = np.array([f["joints3d"] for f in frames])
    one_tick = np.abs(np.diff(offline, axis=0)).max()
    assert np.abs(live - offline).max() <= one_tick + 1e-4  # 2D rounded to 0.01 px in the JSON


def test_a_source_faster_than_the_loop_drops_frames_and_counts_them(clip, causal_bin, tmp_path):
    """240 frames/s in real time: no 2D detector here keeps up, so frames are dropped, never queued."""
    fast = tmp_path / "fast.mp4"
    ffmpeg("-i", clip, "-vf", "setpts=PTS/8", "-r", 200, "-c:v", "libx264", "-preset", "ultrafast", fast)
    out = tmp_path / "poses.jsonl"
    done = vp3d_live(fast, "--checkpoint", causal_bin, "--realtime", "-o", out, "--stats")
    assert done.returncode == 0, done.stderr
    stats = done.stderr.strip().splitlines()[-1]
    received, processed, dropped = (int(stats.split(" received")[0].split()[-1]),
                                    int(stats.split(" processed")[0].split()[-1]),
                                    int(stats.split(" dropped")[0].split()[-1]))
    frames = [json.loads(line) for line in out.read_text().splitlines()]
    assert received == decoded_frames(fast) and dropped > 0 and processed + dropped == received and len(frames) == processed
    indices = [f["frame"] for f in frames]
    assert indices == sorted(indices) and len(set(indices)) == len(indices)  # the newest, in order


def test_video_streamed_on_stdin(clip, causal_bin):
    """`ffmpeg -re ... -f mpegts - | vp3d live -`: a stream at its own rate through a pipe (10 s: what
    arrives while the command starts waits in the pipe, and only the newest of that is lifted)."""
    from vp3d.video import ffmpeg_exe
    feed = subprocess.Popen([ffmpeg_exe(), "-v", "error", "-re", "-stream_loop", "4", "-i", str(clip), "-f", "mpegts", "-c:v", "mpeg2video",
                             "-q:v", "4", "-"], stdout=subprocess.PIPE)
    done = vp3d_live("-", "--checkpoint", causal_bin, "--stats", stdin=feed.stdout)
    feed.wait(timeout=60)
    assert done.returncode == 0, done.stderr
    frames = [json.loads(line) for line in done.stdout.splitlines()]
    stats = done.stderr.strip().splitlines()[-1]
    assert stats.startswith("frames: 250 received, ") and f"{len(frames)} processed" in stats
    assert len(frames) >= 20 and frames[-1]["joints3d"] is not None and len(frames[-1]["joints3d"]) == 17


def test_ctrl_c_ends_cleanly_with_a_summary(clip, causal_bin, tmp_path):
    """SIGINT while a file plays in real time: every line written is a whole JSON object, then one line on how
    it ended and the --stats figures, exit code 130 (the shell's for Ctrl-C)."""
    out = tmp_path / "poses.jsonl"
    run = subprocess.Popen([str(BIN / "vp3d"), "live", str(clip), "--realtime", "--stats", "--checkpoint",
                            str(causal_bin), "--input-layout", "h36m", "--causal", "-o", str(out)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while (not out.exists() or out.stat().st_size == 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130, err
    frames = [json.loads(line) for line in out.read_text().splitlines()]
    lines = err.splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"vp3d live: {clip}: interrupted; ") and lines[1].startswith("frames: ")
    assert f"{len(frames)} processed" in lines[0] and 0 < len(frames) < 50


def test_a_stream_that_stalls_is_reported_in_one_line(clip, causal_bin, tmp_path):
    """A stream on stdin that stops sending without ending (the pipe stays open): after --stall-timeout seconds
    without a frame the run ends, one line says so, exit code 1."""
    from vp3d.video import ffmpeg_exe
    stream = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(clip), "-f", "mpegts", "-c:v", "mpeg2video",
                             "-q:v", "4", "-"], capture_output=True, check=True, timeout=60).stdout
    out, err = tmp_path / "out.jsonl", tmp_path / "err.txt"
    with out.open("wb") as o, err.open("wb") as e:
        run = subprocess.Popen([str(BIN / "vp3d"), "live", "-", "--stall-timeout", "2", "--checkpoint",
                                str(causal_bin), "--input-layout", "h36m", "--causal"],
                               stdin=subprocess.PIPE, stdout=o, stderr=e)
        try:
            run.stdin.write(stream)
            run.stdin.flush()  # and not closed: the stream stalls instead of ending
            run.wait(timeout=120)
        finally:
            run.kill()
            run.stdin.close()
    message = err.read_text()
    assert run.returncode == 1, message
    assert message.count("\n") == 1 and message.startswith("vp3d live: -: no frame for 2 s: the source stalled; ")
    assert len(out.read_text().splitlines()) > 0  # what came before the stall was lifted and written


def test_udp_and_websocket_outputs_carry_the_same_frames(clip, causal_bin):
    from websockets.sync.client import connect

    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(60)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        ws_port = s.getsockname()[1]
    proc = subprocess.Popen([str(BIN / "vp3d"), "live", str(clip), "--checkpoint", str(causal_bin), "--input-layout", "h36m", "--causal", "--realtime",
                             "-o", f"udp://127.0.0.1:{udp.getsockname()[1]}", "-o", f"ws://127.0.0.1:{ws_port}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    received_ws: list[dict] = []

    def client():
        for _ in range(600):  # the server starts once the models are loaded
            try:
                with connect(f"ws://127.0.0.1:{ws_port}", open_timeout=1) as ws:
                    for message in ws:
                        received_ws.append(json.loads(message))
                return
            except (OSError, TimeoutError):
                time.sleep(0.1)
            except Exception:  # noqa: BLE001 - the server closing at the end of the source
                return
    reader = threading.Thread(target=client)
    reader.start()
    first = json.loads(udp.recv(65536))
    assert {"frame", "time_s", "detected", "keypoints2d", "joints3d", "latency_ms"} <= set(first)
    proc.communicate(timeout=300)
    reader.join(timeout=30)
    assert proc.returncode == 0
    assert received_ws and all(len(f["keypoints2d"]) == 17 for f in received_ws)


@pytest.mark.parametrize("args, words", [
    (["missing.mp4"], "missing.mp4: no such file, camera index or stream URL"),
    (["CLIP", "-o", "tcp://x:1"], "unknown output"),
])
def test_bad_input_is_one_line(clip, causal_bin, args, words):
    args = [str(clip) if a == "CLIP" else a for a in args]
    done = vp3d_live(*args, "--checkpoint", causal_bin)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("vp3d: error:") and words in done.stderr


def test_the_shipped_causal_weights_are_the_default(clip):
    done = subprocess.run([str(BIN / "vp3d"), "live", str(clip), "--frames", "10", "--stats"], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    frames = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(frames) == 10 and all(len(f["joints3d"]) == 17 for f in frames)
    pelvis_to_head = np.linalg.norm(np.array(frames[-1]["joints3d"])[10])
    assert 0.4 < pelvis_to_head < 0.9  # metres: a person, not noise


# ------------------------------------------------------------------------------------------ the preview window

def x_tools() -> None:
    """Xvfb and xwininfo on PATH; under CI=true their absence is a failure, elsewhere a skip with the reason."""
    missing = [tool for tool in ("Xvfb", "xwininfo") if not shutil.which(tool)]
    if missing:
        problem = f"{' and '.join(missing)} not found (apt-get install -y xvfb x11-utils, or make browser)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the --show test needs a virtual X server: {problem}")
        pytest.skip(problem)


@pytest.fixture
def x_display():
    """A virtual X server on a free display number (Xvfb picks it and writes it on a pipe once it accepts
    clients): yields ":N"; the server is stopped after the test."""
    x_tools()
    read, write = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "800x600x24", "-nolisten", "tcp"],
                              pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.close(write)
    number = b""
    try:
        while not number.endswith(b"\n") and select.select([read], [], [], 60)[0]:
            chunk = os.read(read, 16)
            if not chunk:  # the server exited
                break
            number += chunk
        os.close(read)
        if not number.strip():
            server.kill()
            pytest.fail(f"Xvfb did not start: {server.communicate(timeout=30)[1].decode(errors='replace')}")
        yield f":{int(number)}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def windows(display: str) -> str:
    """The names of every window on `display` (xwininfo's tree)."""
    return subprocess.run(["xwininfo", "-root", "-tree"], env={**os.environ, "DISPLAY": display},
                          capture_output=True, text=True, timeout=60).stdout


def test_show_opens_the_preview_window_on_the_display_and_still_writes_every_frame(clip, causal_bin, x_display,
                                                                                   tmp_path):
    assert '"vp3d live"' not in windows(x_display)
    out, err = tmp_path / "poses.jsonl", tmp_path / "stderr.txt"
    env = {k: v for k, v in os.environ.items() if k != "WAYLAND_DISPLAY"} | {"DISPLAY": x_display}
    with open(err, "w") as stderr:
        run = subprocess.Popen([str(BIN / "vp3d"), "live", str(clip), "--checkpoint", str(causal_bin), "--input-layout",
                                "h36m", "--causal", "--show", "--frames", "40", "-o", str(out)],
                               stdout=subprocess.DEVNULL, stderr=stderr, env=env)
        seen = False
        while not seen and run.poll() is None:  # look while it runs: the window goes with the process
            seen = '"vp3d live"' in windows(x_display)
            time.sleep(0 if seen else 0.05)
        assert run.wait(timeout=300) == 0, err.read_text()
    assert seen, "no window named 'vp3d live' appeared on the display"
    frames = [json.loads(line) for line in out.read_text().splitlines()]
    assert [f["frame"] for f in frames] == list(range(40)) and all(len(f["joints3d"]) == 17 for f in frames)
    if Path("/usr/share/fonts").is_dir():  # OpenCV's Qt has no fonts of its own; it is given the system's
        assert "QFontDatabase" not in err.read_text(), err.read_text()


def unreachable_display() -> str:
    """A display number no X server holds (no lock file, no socket)."""
    for n in range(400, 500):
        if not Path(f"/tmp/.X{n}-lock").exists() and not Path(f"/tmp/.X11-unix/X{n}").exists():
            return f":{n}"
    pytest.fail("no free display number in 400..499")


@pytest.mark.parametrize("display", [None, "unreachable"])
def test_show_without_a_usable_display_says_so_in_one_line_and_still_works(clip, causal_bin, display):
    """No DISPLAY at all, or one no server answers on (e.g. a stale ssh forwarding: OpenCV's Qt would abort
    the whole process at the first frame)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    if display:
        env["DISPLAY"] = display = unreachable_display()
    done = vp3d_live(clip, "--checkpoint", causal_bin, "--show", "--frames", "10", env=env)
    assert done.returncode == 0, done.stderr
    line = f"vp3d: cannot open a window on display {display}: --show ignored" if display else \
        "vp3d: no display: --show ignored"
    first, end = done.stderr.splitlines()  # the display's line, then how the run ended
    assert first == line
    assert end.startswith(f"vp3d live: {clip}: stopped after 10 frames (--frames); ") and "10 processed" in end
    frames = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(frames) == 10 and all(len(f["joints3d"]) == 17 for f in frames)


def test_missing_xvfb_fails_under_ci_and_skips_elsewhere(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="virtual X server"):
        x_tools()
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="xvfb x11-utils"):
        x_tools()
