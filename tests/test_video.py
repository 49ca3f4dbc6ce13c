"""Video decoding, probing and H.264 encoding (vp3d.video), on real files built with the real FFmpeg."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import types
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from conftest import SHARED, audio_seconds, damaged_copy, decoded_frames, require_shared
from vp3d.video import (DecodeWarning, H264Writer, VideoError, check_stream, ffmpeg_exe, fps_to_fraction,
                        iter_frames, prefetch, probe)


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args],
                   check=True, timeout=60)


def stream_line(path: Path) -> str:
    """FFmpeg's description of the first video stream (codec, pixel format, size, rate)."""
    err = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    return next(line for line in err.splitlines() if "Video:" in line)


def pattern_frame(i: int, width: int = 64, height: int = 48) -> np.ndarray:
    """An asymmetric picture (a white block in the top-left corner, a red bar along the top edge) whose
    orientation is unambiguous, with a grey level that changes per frame."""
    img = np.full((height, width, 3), 40 + 4 * i, np.uint8)
    img[4:20, 4:20] = 255
    img[0:3, 24:60] = (0, 0, 255)
    return img


@pytest.fixture
def small_clip(tmp_path: Path) -> Path:
    path = tmp_path / "pattern.mp4"
    with H264Writer(path, 64, 48, 10, crf=10) as w:
        for i in range(10):
            w.write(pattern_frame(i))
    return path


# ----------------------------------------------------------------------------------------------- real videos

def test_figure_skating_decodes_its_true_frame_count_not_the_header_count():
    path = require_shared("videos", "figure_skating.mp4")
    info = probe(path)
    assert (info.width, info.height, info.fps, info.rotation) == (1280, 720, 25.0, 0)
    assert info.num_frames_hint == 207  # what the container claims ...
    frames = iter_frames(path)
    assert isinstance(frames, types.GeneratorType)  # streamed, not a list of every frame
    count = 0
    for frame in frames:
        assert frame.shape == (720, 1280, 3) and frame.dtype == np.uint8
        count += 1
    assert count == 185  # ... and what really decodes


def test_taiji_probe_and_decode():
    path = require_shared("videos", "taiji.mp4")
    info = probe(path)
    assert (info.width, info.height, info.rotation) == (1280, 720, 0)
    assert info.fps_fraction == Fraction(24000, 1001)
    # The decode thread hands over the same frames, in order, as plain decoding.
    first = next(iter_frames(path))
    assert np.array_equal(next(prefetch(iter_frames(path))), first)
    assert sum(1 for _ in prefetch(iter_frames(path), depth=4)) == 412


# ----------------------------------------------------------------------------------------------- errors

def assert_one_line_naming(err: pytest.ExceptionInfo, path: Path, words: str) -> None:
    message = str(err.value)
    assert str(path) in message and "\n" not in message
    assert words in message


def test_missing_file(tmp_path: Path):
    path = tmp_path / "nothere.mp4"
    with pytest.raises(VideoError) as err:
        probe(path)
    assert_one_line_naming(err, path, "no such file")
    with pytest.raises(VideoError):
        next(iter_frames(path))


def test_zero_byte_file(tmp_path: Path):
    path = tmp_path / "empty.mp4"
    path.touch()
    with pytest.raises(VideoError) as err:
        probe(path)
    assert_one_line_naming(err, path, "empty")


def test_text_file_named_mp4(tmp_path: Path):
    path = tmp_path / "notes.mp4"
    path.write_text("these are not the frames you are looking for\n")
    with pytest.raises(VideoError) as err:
        probe(path)
    assert_one_line_naming(err, path, "not a readable video file")
    with pytest.raises(VideoError):
        next(iter_frames(path))


def test_audio_only_file(tmp_path: Path):
    path = tmp_path / "tone.mp4"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac", str(path))
    with pytest.raises(VideoError) as err:
        probe(path)
    assert_one_line_naming(err, path, "no video stream (audio only)")
    with pytest.raises(VideoError):
        next(iter_frames(path))


def test_directory_is_not_a_video(tmp_path: Path):
    with pytest.raises(VideoError) as err:
        probe(tmp_path)
    assert_one_line_naming(err, tmp_path, "directory")


# ----------------------------------------------------------------------------------------------- rotation

@pytest.mark.parametrize("ccw_degrees", [90, 180, 270])
def test_rotated_clip_comes_out_upright(small_clip: Path, tmp_path: Path, ccw_degrees: int):
    """A phone-style clip: the same coded pictures plus a display rotation; frames must come out as a
    player shows them. FFmpeg's -display_rotation is counter-clockwise, like np.rot90."""
    rotated = tmp_path / f"rot{ccw_degrees}.mp4"
    ffmpeg("-display_rotation", str(ccw_degrees), "-i", str(small_clip), "-c", "copy", str(rotated))
    info = probe(rotated)
    quarter_turns = ccw_degrees // 90
    assert info.rotation == (360 - ccw_degrees) % 360  # reported clockwise
    assert (info.width, info.height) == ((48, 64) if quarter_turns % 2 else (64, 48))
    plain = list(iter_frames(small_clip))
    upright = list(iter_frames(rotated))
    assert len(upright) == len(plain) == 10
    for a, b in zip(plain, upright):
        expected = np.rot90(a, quarter_turns)
        assert b.shape == expected.shape
        assert np.abs(b.astype(int) - expected).mean() < 1.0  # same bitstream: identical up to rounding


# ----------------------------------------------------------------------------------------------- damaged files

def decode_with_deadline(path: Path, seconds: float = 30.0) -> int:
    """Count decoded frames in a thread; fail (instead of hanging the suite) if it takes too long."""
    result: dict = {}

    def run():
        try:
            result["count"] = sum(1 for _ in iter_frames(path))
        except VideoError as exc:
            result["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"decoding {path} did not finish within {seconds} s"
    if "error" in result:
        raise result["error"]
    return result["count"]


def noisy_clip(path: Path, frames: int = 48) -> None:
    """Random frames: they do not compress, so the file's bytes are spread evenly over its frames."""
    rng = np.random.default_rng(0)
    with H264Writer(path, 96, 64, 24) as w:  # +faststart: the index is at the front
        for _ in range(frames):
            w.write(rng.integers(0, 256, (64, 96, 3), dtype=np.uint8))


def test_truncated_file_yields_what_decodes_and_stops(tmp_path: Path):
    whole = tmp_path / "whole.mp4"
    noisy_clip(whole)
    cut = tmp_path / "cut.mp4"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    count = decode_with_deadline(cut)
    assert 0 < count < 48


def test_truncated_file_without_index_is_a_clear_error(tmp_path: Path):
    """Without +faststart the MP4 index (moov) is written last; cutting the file loses it."""
    whole = tmp_path / "moov_at_end.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=96x64:rate=24", "-frames:v", "48", "-c:v", "libx264",
           "-pix_fmt", "yuv420p", str(whole))
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(VideoError, match="cut.mp4"):
        probe(cut)
    with pytest.raises(VideoError):
        decode_with_deadline(cut)


# ----------------------------------------------------------------------------------------------- damaged streams

@pytest.fixture(scope="module")
def moving_clip(tmp_path_factory) -> Path:
    """Three seconds (72 frames at 24 fps) of FFmpeg's moving test pattern, H.264."""
    path = tmp_path_factory.mktemp("moving") / "moving.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=24", "-frames:v", "72", "-c:v", "libx264",
           "-pix_fmt", "yuv420p", str(path))
    return path


def test_every_shared_clip_decodes_whole_with_no_warning():
    """The shared clips are sound, figure_skating.mp4 included: its container claims 207 frames and 185
    decode (an edit list hides 22), which FFmpeg decodes without a word: a loose claim is not damage."""
    clips = sorted(require_shared("videos").glob("*.mp4"))
    assert clips, f"no clips in {SHARED / 'videos'}"
    for path in clips:
        frames = decoded_frames(path)
        info = probe(path)
        assert check_stream(path, frames, info.num_frames_hint) is None, path.name
        assert check_stream(path, frames, info.num_frames_hint, fps=info.fps) is None, path.name


def test_an_edit_list_that_hides_packets_needs_no_decode_pass(monkeypatch):
    """figure_skating.mp4 has 207 packets and plays 185 frames: at a constant frame rate the container's duration
    (7.40 s) says so, and FFmpeg only demuxes the stream (about 1% of a decode) instead of decoding it again."""
    from vp3d.video import integrity
    path = require_shared("videos", "figure_skating.mp4")
    info, frames = probe(path), decoded_frames(path)
    passes = []
    real_pass = integrity._ffmpeg_pass
    monkeypatch.setattr(integrity, "_ffmpeg_pass", lambda *a, **k: passes.append(k) or real_pass(*a, **k))
    assert (frames, info.num_frames_hint) == (185, 207)
    assert check_stream(path, frames, info.num_frames_hint, fps=info.fps) is None
    assert passes == [{"decode": False}]
    assert check_stream(path, frames, info.num_frames_hint) is None  # without the rate: the decode pass decides
    assert passes[1:] == [{"decode": False}, {"decode": True}]


@pytest.mark.parametrize("container", [".mp4", ".mkv", ".ts"])
def test_a_whole_stream_in_any_container_has_no_warning(moving_clip, tmp_path, container):
    whole = tmp_path / f"whole{container}"
    ffmpeg("-i", str(moving_clip), "-c", "copy", str(whole))
    assert check_stream(whole, decoded_frames(whole), probe(whole).num_frames_hint) is None


@pytest.mark.parametrize("container, damage, words", [
    (".mp4", "cut", "partial file"), (".mkv", "cut", "File ended prematurely"),
    (".mp4", "noise", "Invalid NAL unit size"), (".ts", "noise", "Packet corrupt")])
def test_a_stream_cut_short_or_overwritten_is_reported_in_ffmpegs_words(moving_clip, tmp_path, container, damage,
                                                                         words):
    """The decode stops part-way; FFmpeg says why (the container's complaint first: it tells what happened to
    the file); the container's 72 frames are reported as claimed."""
    broken = damaged_copy(moving_clip, tmp_path / f"broken{container}", damage)
    frames = decoded_frames(broken)
    assert 0 < frames < 72
    info = probe(broken)
    warning = check_stream(broken, frames, info.num_frames_hint)
    assert warning is not None and (warning.frames_read, warning.frames_claimed) == (frames, 72)
    assert check_stream(broken, frames, info.num_frames_hint, fps=info.fps) == warning  # its duration holds them all
    assert warning.ffmpeg and words in warning.ffmpeg
    assert "\n" not in warning.ffmpeg and "@ 0x" not in warning.ffmpeg and "[error]" not in warning.ffmpeg


def test_the_decode_warning_reads_as_one_line():
    cut = DecodeWarning(frames_read=39, frames_claimed=72, ffmpeg="stream 0, offset 0x26942: partial file")
    assert cut.warning("clip.mp4") == ("clip.mp4: the video stream broke off after 39 of 72 frames (ffmpeg: stream 0, "
                                       "offset 0x26942: partial file); outputs cover the 39 frames read "
                                       "(--strict makes this an error)")
    assert cut.as_json() == {"frames_read": 39, "frames_claimed": 72,
                             "ffmpeg": "stream 0, offset 0x26942: partial file"}
    unclaimed = DecodeWarning(frames_read=71, frames_claimed=None, ffmpeg="Packet corrupt (stream = 0, dts = 249874)")
    assert unclaimed.describe() == ("the video stream is damaged (71 frames read) "
                                    "(ffmpeg: Packet corrupt (stream = 0, dts = 249874))")


# ----------------------------------------------------------------------------------------------- encoding

def test_h264_writer_keeps_frame_count_and_exact_rate(tmp_path: Path):
    out = tmp_path / "out.mp4"
    with H264Writer(out, 64, 48, 24000 / 1001, crf=10) as w:
        for i in range(37):
            w.write(pattern_frame(i))
    assert w.frames_written == 37
    info = probe(out)
    assert info.fps_fraction == Fraction(24000, 1001)
    assert (info.width, info.height) == (64, 48)
    frames = list(iter_frames(out))
    assert len(frames) == 37
    # Lossy but faithful: the picture (and its orientation) survives the round trip.
    assert np.abs(frames[5].astype(int) - pattern_frame(5)).mean() < 4
    line = stream_line(out)
    assert "h264" in line and "yuv420p" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]  # no temporary left behind


def test_h264_writer_takes_the_sound_of_the_source_video(tmp_path: Path):
    """audio_from: the source's audio track goes into the output beside every written frame; a source
    without sound gives a silent file, not an error."""
    loud, mute = tmp_path / "loud.mp4", tmp_path / "mute.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=25:duration=2",
                    "-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-pix_fmt", "yuv420p", "-c:a", "aac",
                    "-shortest", str(loud)], check=True)
    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(loud), "-an", "-c", "copy", str(mute)], check=True)
    for source, sound in [(loud, True), (mute, False)]:
        out = tmp_path / f"out_{source.stem}.mp4"
        with H264Writer(out, 64, 48, 25, audio_from=source) as w:
            for i in range(50):
                w.write(pattern_frame(i))
        assert len(list(iter_frames(out))) == 50
        seconds = audio_seconds(out)
        assert (seconds is not None and abs(seconds - 2.0) < 0.1) if sound else seconds is None, seconds


def test_h264_writer_crops_odd_sizes_to_even(tmp_path: Path):
    out = tmp_path / "odd.mp4"
    with H264Writer(out, 65, 49, 25) as w:
        assert (w.out_width, w.out_height) == (64, 48)
        for i in range(3):
            w.write(np.zeros((49, 65, 3), np.uint8))
    assert (probe(out).width, probe(out).height) == (64, 48)


def test_h264_writer_leaves_nothing_on_exception(tmp_path: Path):
    out = tmp_path / "never.mp4"
    with pytest.raises(RuntimeError, match="boom"):
        with H264Writer(out, 64, 48, 25) as w:
            for i in range(5):
                w.write(pattern_frame(i))
            assert not out.exists()  # only the hidden temporary exists while writing
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_at_a_terminal_reaches_the_pipeline_not_its_encoder(tmp_path: Path):
    """A terminal sends Ctrl-C to its whole foreground process group. The encoder runs in a session of its
    own, so that our clean-up decides how it ends (abort, or finish the file) rather than FFmpeg's own SIGINT
    handling racing with it (which closed the file under the writer: a broken pipe, reported as a failure
    instead of an interruption)."""
    out = tmp_path / "r.mp4"
    script = f"""
import time
import numpy as np
from vp3d.video import H264Writer
frame = np.zeros((48, 64, 3), np.uint8)
with H264Writer({str(out)!r}, 64, 48, 25) as writer:
    for _ in range(5):
        writer.write(frame)
    try:
        print("writing", flush=True)
        time.sleep(60)
    except KeyboardInterrupt:
        pass
    for _ in range(5):
        writer.write(frame)
print("closed", flush=True)
"""
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    assert proc.stdout.readline().strip() == "writing"
    os.killpg(proc.pid, signal.SIGINT)  # the terminal's way: everyone in the group
    out_text, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and out_text.strip() == "closed", err
    assert decoded_frames(out) == 10


def test_h264_writer_does_not_replace_existing_file_on_failure(tmp_path: Path):
    out = tmp_path / "keep.mp4"
    out.write_bytes(b"previous result")
    with pytest.raises(ValueError):
        with H264Writer(out, 64, 48, 25) as w:
            w.write(np.zeros((10, 10, 3), np.uint8))  # wrong size
    assert out.read_bytes() == b"previous result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.mp4"]


def test_h264_writer_without_frames_is_an_error(tmp_path: Path):
    out = tmp_path / "nothing.mp4"
    with pytest.raises(VideoError, match="no frames"):
        with H264Writer(out, 64, 48, 25):
            pass
    assert list(tmp_path.iterdir()) == []


def test_fps_to_fraction():
    assert fps_to_fraction(24000 / 1001) == Fraction(24000, 1001)
    assert fps_to_fraction(30000 / 1001) == Fraction(30000, 1001)
    assert fps_to_fraction(25.0) == 25
    assert fps_to_fraction(12.5) == Fraction(25, 2)
    with pytest.raises(ValueError):
        fps_to_fraction(0)


def test_prefetch_propagates_errors_and_stops_early():
    def numbers():
        yield 1
        yield 2
        raise KeyError("producer failed")

    got = []
    with pytest.raises(KeyError):
        for x in prefetch(numbers()):
            got.append(x)
    assert got == [1, 2]

    closed = threading.Event()

    def endless():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()

    for x in prefetch(endless(), depth=2):
        if x == 3:
            break
    assert closed.wait(5)  # the producer's generator was closed: a decoder would be released
