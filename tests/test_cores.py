"""A core of its own for a one-core detector (vp3d.cores): while `vp3d-infer` detects with MediaPipe, MediaPipe's
threads and the pipeline's thread run on one CPU and the decoding, drawing and encoding on the others; after it,
every thread is back where it was (the render's on every CPU). Real MediaPipe, real video, real threads, read from /proc."""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from vp3d.cores import CoreSplit, child_processes, current_cpu
from vp3d.pipeline.infer import InferenceOptions
from vp3d.pipeline.job import Outputs, process_video

needs_two_cpus = pytest.mark.skipif(not sys.platform.startswith("linux") or len(os.sched_getaffinity(0)) < 2,
                                    reason="pinning threads needs Linux and two CPUs")


def test_the_detector_keeps_the_core_it_runs_on_and_everything_else_gets_the_rest():
    assert CoreSplit.of({0, 1}, current=1) == CoreSplit(frozenset({1}), frozenset({0}), frozenset({0, 1}))
    assert CoreSplit.of({2, 5, 7}, current=5).others == {2, 7}
    assert CoreSplit.of({2, 5}, current=0).detector == {2}  # not running on an allowed CPU: the lowest
    assert CoreSplit.of({2, 5}, current=None).detector == {2}
    assert CoreSplit.of({3}, current=3) is None  # one CPU: nothing to split


@needs_two_cpus
def test_the_current_cpu_is_one_the_thread_may_run_on():
    assert current_cpu() in os.sched_getaffinity(0)


def thread_cpus(process: int | str = "self") -> dict[int, tuple[str, frozenset[int]]]:
    """Every thread of a process: native id -> (its name as the kernel knows it, the CPUs it may run on)."""
    out = {}
    for tid in map(int, os.listdir(f"/proc/{process}/task")):
        try:
            name = Path(f"/proc/{process}/task/{tid}/comm").read_text().strip()
            out[tid] = (name, frozenset(os.sched_getaffinity(tid)))
        except OSError:  # the thread ended meanwhile
            pass
    return out


def run(clip: Path, out: Path, cores: CoreSplit | None, detector: str = "mediapipe"):
    """process_video as vp3d-infer runs it, recording the CPUs of the pipeline's thread and of MediaPipe's threads
    at each detected frame and of the render thread at each drawn one."""
    seen = {"pipeline": set(), "mediapipe": set(), "render while detecting": [], "render": set(), "encoder": set()}

    def detecting(done: int) -> None:
        seen["pipeline"].add(frozenset(os.sched_getaffinity(0)))
        seen["mediapipe"].update(cpus for name, cpus in thread_cpus().values() if name.startswith("mediapipe"))
        seen["render while detecting"] += [frozenset(os.sched_getaffinity(t.native_id))
                                           for t in threading.enumerate() if t.name == "vp3d-render"]

    def drawing(done: int) -> None:
        assert threading.current_thread().name == "vp3d-render"
        seen["render"].add(frozenset(os.sched_getaffinity(0)))
        seen["encoder"] |= {cpus for pid in child_processes() for _, cpus in thread_cpus(pid).values()}

    summary = process_video(clip, Outputs(video=out / "r.mp4", json=out / "r.json"),
                            InferenceOptions(detector=detector), detect_progress=detecting, render_progress=drawing,
                            cores=cores)
    return seen, summary


@needs_two_cpus
def test_mediapipe_and_the_pipeline_run_on_one_core_the_render_on_the_others(clip, tmp_path):
    split = CoreSplit.here()
    before = thread_cpus()
    everything = frozenset(os.sched_getaffinity(0))

    seen, summary = run(clip, tmp_path, split)

    assert seen["pipeline"] == {split.detector}
    assert seen["mediapipe"] == {split.detector}
    # The render waits (or draws) on the other cores while MediaPipe detects, and draws on every core after it.
    assert seen["render while detecting"][-1] == split.others
    assert seen["render"] <= {split.others, split.everything}
    # x264, started on the other cores, on every CPU too for the frames drawn after detection (3-s clip: all).
    assert split.everything in seen["render"] and split.everything in seen["encoder"]
    assert summary["frames"] == 72 and (tmp_path / "r.mp4").stat().st_size > 0
    after = thread_cpus()
    assert after[threading.get_native_id()][1] == everything
    for tid, (name, cpus) in after.items():  # the threads there before (BLAS, OpenCV pools) are back where they were,
        assert cpus == (before[tid][1] if tid in before else everything), name  # the others on every CPU


@needs_two_cpus
def test_the_split_changes_where_threads_run_not_what_comes_out(clip, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    split_seen, _ = run(clip, tmp_path / "a", CoreSplit.here())
    free_seen, _ = run(clip, tmp_path / "b", None)
    everything = frozenset(os.sched_getaffinity(0))
    assert free_seen["pipeline"] == free_seen["render"] == {everything}
    assert set(free_seen["render while detecting"]) == {everything}
    assert split_seen["pipeline"] != free_seen["pipeline"]
    a = json.loads((tmp_path / "a" / "r.json").read_text())["frames"]
    b = json.loads((tmp_path / "b" / "r.json").read_text())["frames"]
    assert len(a) == len(b) == 72
    # The same detections; the lifter's sums may round differently with BLAS's threads elsewhere.
    np.testing.assert_array_equal([f["keypoints2d"] for f in a], [f["keypoints2d"] for f in b])
    np.testing.assert_allclose([f["joints3d"] for f in a], [f["joints3d"] for f in b], atol=1e-4)


@needs_two_cpus
def test_a_detector_that_uses_every_core_is_not_pinned(clip, tmp_path):
    """Keypoints from a file (like the torch and ONNX detectors, which spread over every core) are not split."""
    process_video(clip, Outputs(npz_2d=tmp_path / "kp.npz"), InferenceOptions())  # MediaPipe's keypoints, in a file
    everything = frozenset(os.sched_getaffinity(0))
    seen, summary = run(clip, tmp_path, CoreSplit.here(), detector=f"file:{tmp_path / 'kp.npz'}")
    assert summary["frames"] == 72
    assert seen["pipeline"] <= {everything} and seen["render"] == {everything}
