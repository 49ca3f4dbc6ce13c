"""Batch mode's worker processes: one video per task, and the pool that survives crashes and Ctrl-C.

    schedule(tasks, jobs, Job(options, kinds, fingerprint, threads), on_event, rows)

A ProcessPoolExecutor (spawn) of `jobs` workers. Each loads the lifter and the detector once, on its first
video, and resets the detector between videos (MediaPipe tracks one person from frame to frame; a reset
costs ~50 ms, the first graph ~0.5 s). Every outcome of a video is a row (summary.json's `videos` entries):
ok, failed with a one-line reason, or interrupted. A worker that dies (segfault, OOM killer, kill -9)
breaks the pool: the videos that were in work are retried one at a time in a fresh one-worker pool, so
only a video that kills its worker on its own is marked failed. On Ctrl-C each worker stops its video,
deletes that video's temporary and already completed files, and returns.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import re
import signal
import sys
import threading
import time
import traceback
from collections import defaultdict
from contextlib import contextmanager
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from ..errors import UserError
from ..export.joints import atomic_write
from ..pipeline.infer import InferenceOptions, detector_from_options, load_lifter
from ..pipeline.job import Outputs, process_video

MARKER_SCHEMA = "vp3d.batch-done/1"
STATUSES = ("ok", "skipped", "failed", "interrupted")

# Failures explained by their one-line message (OSError: an input deleted meanwhile, a full disk).
_USER_ERRORS = (UserError, OSError)


@dataclass
class Task:
    """One input video and where its products go."""
    index: int
    source: Path  # the input file
    rel: Path  # source relative to the input folder: names the video in rows and progress
    outputs: Outputs
    marker: Path  # done-marker, written after every output
    frames_hint: int | None = None  # the container's frame count once probed (progress display, scheduling)


def partial_files(task: Task) -> list[Path]:
    """Temporary files a killed run may have left for this task's outputs and marker.

    The names are those of export.atomic_write (.NAME.partial.EXT) and H264Writer (.STEM.8HEX.partial.EXT);
    matched exactly, so another video's files in the same folder (maybe in work in another worker) are
    never touched.
    """
    found = []
    for path in [*task.outputs.paths(), task.marker]:
        pattern = re.compile(rf"\.(?:{re.escape(path.name)}|{re.escape(path.stem)}\.[0-9a-f]{{8}})"
                             rf"\.partial{re.escape(path.suffix)}")
        try:
            found += [p for p in path.parent.iterdir() if pattern.fullmatch(p.name)]
        except OSError:  # the folder does not exist yet
            pass
    return found


# ---------------------------------------------------------------------------------------------- rows

def one_line(e: BaseException) -> str:
    """The first line of an exception's message (its type name when it has none)."""
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


def make_row(task: Task, status: str, reason: str | None = None, summary: dict | None = None) -> dict:
    """One line of summary.json: the video (relative path), what happened and, when done, its figures
    (with --people, the tracks kept: id, first and last frame, frames detected)."""
    s = summary or {}
    return {"input": task.rel.as_posix(), "status": status, "reason": reason,
            "frames": s.get("frames"), "frames_detected": s.get("frames_detected"), "fps_video": s.get("fps_video"),
            "seconds": s.get("seconds"), "frames_per_second": s.get("frames_per_second"),
            "outputs": s.get("outputs", {}), **({"people": s["people"]} if "people" in s else {}),
            **({"decode_warning": s["decode_warning"]} if "decode_warning" in s else {})}  # damaged stream


def reason_of(task: Task, e: BaseException) -> str:
    """The error's line without the leading input path (the row names the video already)."""
    return one_line(e).removeprefix(f"{task.source}: ")


# ---------------------------------------------------------------------------------------------- worker

@dataclass
class Job:
    """What every worker gets once, at start."""
    options: InferenceOptions
    kinds: list[str]
    fingerprint: dict
    threads: int  # torch / OpenCV threads per worker: the cores shared among the workers
    people: str | None = None  # --people: "all", "largest" or N (job.process_video); None: one person, untracked


_worker: dict = {}  # per worker process: the job, the event queue, the loaded models
_busy = False  # a video is in work: SIGINT interrupts it (its temporary files are deleted on the way out)
_interrupted = False  # SIGINT seen: videos still queued here are returned untouched


def _on_sigint(signum, frame) -> None:
    # Ctrl-C reaches every process of the terminal's group. An idle worker must not die with a traceback
    # in the pool's loop; a busy one stops its video once (a second signal must not break the clean-up).
    global _busy, _interrupted
    _interrupted = True
    if _busy:
        _busy = False
        raise KeyboardInterrupt


def _watch_parent(parent: int) -> None:
    # If the batch process is killed outright, its workers must not live on, orphaned, burning CPU.
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


@contextmanager
def _starting_workers() -> Iterator[None]:
    """Around the submits that start worker processes (ProcessPoolExecutor spawns them in submit()).

    The workers begin with SIGINT blocked (the signal mask survives fork and exec) and unblock it in
    _init_worker once _on_sigint is in place: a Ctrl-C while they still import is held and handled, not
    printed as their traceback. Here, Ctrl-C and SIGTERM are noted and raised as KeyboardInterrupt after
    the block: raised inside, between a worker's start and the hand-over of its start-up data, the worker
    died with "EOFError: Ran out of input" on the terminal."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    handlers = {sig: signal.signal(sig, lambda signum, frame: caught.append(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    if caught:
        raise KeyboardInterrupt


def serve(job: Job, events) -> None:
    """Make this process a worker of `job`: its models load on the first video; `events` (anything with
    put((kind, index, value))) receives start / detect / render progress. The local pool and Ray's actors
    (ray_pool.py) both start here."""
    _worker.update(job=job, events=events)


def _init_worker(job: Job, events, parent: int) -> None:
    signal.signal(signal.SIGINT, _on_sigint)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # see _starting_workers
    serve(job, events)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    events.put(("worker", os.getpid(), None))


def _send(kind: str, index: int, value=None) -> None:
    # SimpleQueue.put writes synchronously (one small atomic pipe write): a "start" is in the pipe before
    # the video's first frame, so even a worker killed a moment later is known to have been on it.
    _worker["events"].put((kind, index, value))


def _throttled(kind: str, index: int, total: Callable[[], int | None]) -> Callable[[int], None]:
    """A progress callback that sends at most ~5 events a second (and the first frame at once)."""
    last = [0, 0.0]

    def report(done: int) -> None:
        now = time.monotonic()
        if done == 1 or done - last[0] >= 50 or now - last[1] >= 0.2:
            _send(kind, index, (done, total()))
            last[:] = done, now
    return report


def _models():
    """The lifter and the detector, loaded on the first video of this worker."""
    if "detector" not in _worker:
        import cv2
        job = _worker["job"]
        cv2.setNumThreads(job.threads)
        _worker["lifter"], _worker["checkpoint"] = load_lifter(job.options)
        _worker["detector"] = detector_from_options(job.options)
        # torch's threads only where the lifter's engine or the detector brought torch in: importing it only
        # to set them cost every worker ~0.5 GB and a second (the default path runs without torch).
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(job.threads)
    return _worker["lifter"], _worker["checkpoint"], _worker["detector"]


def _stat_key(path: Path):
    try:
        st = path.stat()
        return st.st_ino, st.st_mtime_ns, st.st_size
    except OSError:
        return None


def output_states(task: Task) -> dict:
    """The task's output files as they are before an attempt (remove_attempt compares with it)."""
    return {p: _stat_key(p) for p in task.outputs.paths()}


def remove_attempt(task: Task, before: dict) -> None:
    """Delete what a failed or killed attempt at `task` left: its temporary files, and the outputs it had
    completed (changed since `before`), so a video is all its outputs or none."""
    for p, key in before.items():
        if _stat_key(p) not in (None, key):
            p.unlink(missing_ok=True)
    for p in partial_files(task):
        p.unlink(missing_ok=True)


def process_task(task: Task) -> dict:
    """Run one video in a worker; every outcome is a row (a crash of the worker itself excepted)."""
    global _busy
    if _interrupted:
        return make_row(task, "interrupted")
    job: Job = _worker["job"]
    before = output_states(task)
    try:
        _send("start", task.index)
        task.marker.unlink(missing_ok=True)  # from here on the video is not finished
        for p in partial_files(task):
            p.unlink(missing_ok=True)
        source_stat = task.source.stat()
        # Not interruptible (_busy still False; a SIGINT meanwhile is noted and honoured just after): a
        # MediaPipe graph stopped half-way through its start logs from its C++ threads onto the restored
        # stderr, past --quiet (seen under load in test_ctrl_c_leaves_nothing_half_done).
        lifter, checkpoint, detector = _models()
        detector.reset()  # forget the previous video's person (MediaPipe tracks one from frame to frame)
        if _interrupted:
            raise KeyboardInterrupt
        _busy = True
        frames_seen = [None]  # the render draws exactly the frames detection decodes
        detect_progress = _throttled("detect", task.index, lambda: task.frames_hint)
        # The render runs while detection goes on (overlap.py): its total is the video's.
        render_progress = _throttled("render", task.index, lambda: task.frames_hint or frames_seen[0])

        def on_detect(done: int) -> None:
            frames_seen[0] = done
            detect_progress(done)

        models = dict(detect_progress=on_detect, render_progress=render_progress, lifter=lifter,
                      checkpoint_path=checkpoint, detector=detector)
        summary = process_video(task.source, task.outputs, job.options, people=job.people, **models)
        row = make_row(task, "ok", summary=summary)
        record = {"schema": MARKER_SCHEMA, **row, "formats": job.kinds, "options": job.fingerprint,
                  "source_size": source_stat.st_size, "source_mtime_ns": source_stat.st_mtime_ns,
                  "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        atomic_write(task.marker, lambda tmp: tmp.write_text(json.dumps(record, indent=1)))
        _busy = False
        return row
    except BaseException as e:  # noqa: BLE001 - every outcome becomes a row; only this video is affected
        _busy = False
        remove_attempt(task, before)
        if isinstance(e, KeyboardInterrupt):
            return make_row(task, "interrupted")
        if isinstance(e, _USER_ERRORS):
            return make_row(task, "failed", reason_of(task, e))
        # A bug or a library failing on odd input: still one line on screen; the traceback goes to
        # summary.json for a bug report.
        row = make_row(task, "failed", f"unexpected {type(e).__name__}: {reason_of(task, e)}")
        row["detail"] = traceback.format_exc()
        return row


# ---------------------------------------------------------------------------------------------- scheduler

Event = Callable[[str, Task, object], None]  # (kind, task, value): start / detect / render / done


def _result(future, task: Task) -> dict | None:
    """The row a future holds; None when the pool broke under it, or when it was dropped (cancelled) on
    Ctrl-C before it started: run_batch marks those interrupted."""
    if future.cancelled():
        return None
    try:
        return future.result()
    except BrokenProcessPool:
        return None
    except KeyboardInterrupt:  # a worker interrupted between two statements of process_task
        return make_row(task, "interrupted")
    except Exception as e:  # noqa: BLE001 - e.g. a task that could not be sent to the worker
        return make_row(task, "failed", f"unexpected {type(e).__name__}: {one_line(e)}")


def _signal_all(pids: set[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:  # already gone
            pass


def _run_pool(tasks: list[Task], workers: int, job: Job, on_event: Event,
              rows: dict[int, dict]) -> tuple[list[Task], list[Task]]:
    """Run tasks in one pool, adding their rows to `rows`. Returns (tasks in work when the pool broke,
    tasks never started). On Ctrl-C / SIGTERM: stops the workers cleanly, then re-raises KeyboardInterrupt."""
    ctx = mp.get_context("spawn")  # not fork: torch and MediaPipe threads do not survive a fork
    events = ctx.SimpleQueue()  # a fresh queue per pool: a killed worker may leave the old one locked
    by_index = {t.index: t for t in tasks}
    started: set[int] = set()
    pids: set[int] = set()

    def drain() -> None:
        while not events.empty():
            kind, key, value = events.get()
            if kind == "worker":
                pids.add(key)
                continue
            if kind == "start":
                started.add(key)
            on_event(kind, by_index[key], value)

    def collect(done) -> None:
        for f in done:
            row = _result(f, futures[f])
            if row is not None:
                rows[futures[f].index] = row
                on_event("done", futures[f], row)

    ex = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(job, events, os.getpid()))
    futures: dict = {}
    pending: set = set()
    try:
        with _starting_workers():  # may end in KeyboardInterrupt: futures and pending are set by then
            futures = {ex.submit(process_task, t): t for t in tasks}
            pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            drain()
            collect(done)
    except KeyboardInterrupt:
        # Tell the workers (a terminal's Ctrl-C reached them already; a SIGTERM to us did not): each stops
        # its video, deletes that video's temporary and completed files, and returns. Queued videos are dropped.
        drain()  # workers that announced themselves since the last look
        _signal_all(pids, signal.SIGINT)
        for f in pending:
            f.cancel()
        try:
            done, pending = wait(pending, timeout=30)
            drain()
            collect(done)
        except KeyboardInterrupt:  # pressed again: stop waiting
            pass
        if any(not f.done() for f in futures):
            _signal_all(pids, signal.SIGKILL)  # stuck (in a decoder?): the next run cleans up and redoes it
        ex.shutdown(wait=True, cancel_futures=True)
        raise
    ex.shutdown(wait=True)
    drain()
    left = [t for t in tasks if t.index not in rows]
    return [t for t in left if t.index in started], [t for t in left if t.index not in started]


def schedule(tasks: list[Task], jobs: int, job: Job, on_event: Event, rows: dict[int, dict]) -> None:
    """Run every task, adding rows to `rows`. A video in work when its worker died is retried once, alone
    in a fresh one-worker pool (so the blame is exact); dying a second time fails it."""
    crashes: dict[int, int] = defaultdict(int)
    idle_breaks = 0  # pools in a row that broke with no video in work (workers dying while starting?)
    queue, alone = list(tasks), []

    def fail(t: Task, reason: str) -> None:
        rows[t.index] = make_row(t, "failed", reason)
        on_event("done", t, rows[t.index])

    while queue or alone:
        isolating = bool(alone)
        batch = alone if isolating else queue
        workers = 1 if isolating else max(1, min(jobs, len(batch)))
        crashed, unstarted = _run_pool(batch, workers, job, on_event, rows)
        idle_breaks = idle_breaks + 1 if unstarted and not crashed else 0
        if idle_breaks >= 2:  # twice: the workers cannot start at all
            for t in unstarted:
                fail(t, "the worker process could not start")
            unstarted = []
        retry = []
        for t in crashed:
            crashes[t.index] += 1
            if crashes[t.index] >= 2:
                fail(t, "the worker process died twice while processing this video (crash or killed)")
            else:
                retry.append(t)
        if isolating:
            alone = unstarted + retry
        else:
            alone, queue = retry, unstarted
