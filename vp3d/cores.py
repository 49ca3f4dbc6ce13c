"""A CPU core of its own for a detector that computes on one (MediaPipe), the other cores for what runs beside
it: decoding, drawing the side-by-side video, encoding it.

Why (bench/README.md, session 12, 2-core machine): MediaPipe keeps one core busy (1.01-1.07 cores; pinned to
one core it runs as fast as free), and a full x264 transcode pinned to the other core costs it 1%. Yet in
`vp3d-infer`, unpinned, the scheduler moves the render thread, the decoders and x264 onto MediaPipe's core now
and then: the whole command took 0.79 of MediaPipe alone as a command's rate on taiji; with this split, 0.96.
MediaPipe's graph threads inherit the core of the thread that builds the detector, and threads and processes
started later inherit the core of the thread that starts them: so the pipeline's thread takes the detector's
core before building it (`detector_core`, which moves every other thread away from it for the while), and each
helper thread it starts moves itself to `others` first thing (`use`).

Only for one video at a time in one process (`vp3d-infer`): batch workers share the machine and are not split.
The detector's core is the one the calling thread runs on when the split is made, so a second `vp3d-infer`
started beside a first (which the scheduler places on the less busy core) does not pile onto the first's core.
Linux only (sched_setaffinity); elsewhere, or with a single CPU allowed, there is nothing to split.
"""

from __future__ import annotations

import os
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator


@dataclass(frozen=True)
class CoreSplit:
    """detector: the CPU of the detecting thread and the threads it starts; others: every other allowed CPU;
    everything: the CPUs the process was allowed before the split."""

    detector: frozenset[int]
    others: frozenset[int]
    everything: frozenset[int]

    @classmethod
    def of(cls, allowed: set[int] | frozenset[int], current: int | None) -> CoreSplit | None:
        """The split of the `allowed` CPUs with the detector on `current` (when allowed; else the lowest), or
        None with fewer than two CPUs."""
        if len(allowed) < 2:
            return None
        mine = current if current in allowed else min(allowed)
        return cls(frozenset({mine}), frozenset(allowed) - {mine}, frozenset(allowed))

    @classmethod
    def here(cls) -> CoreSplit | None:
        """The split for the calling thread of this process, or None where threads cannot be pinned."""
        if not sys.platform.startswith("linux"):
            return None
        return cls.of(os.sched_getaffinity(0), current_cpu())

    @contextmanager
    def detector_core(self) -> Iterator[None]:
        """Within: the calling thread on the detector's core, every other thread of the process on the others
        (the BLAS and OpenCV pools that start with their imports would otherwise share the detector's core);
        after: each of those threads back on the CPUs it had, and the ones started meanwhile (the render's, which
        then finishes the frames still to draw on every CPU; OpenCV's pool) on every CPU."""
        me = threading.get_native_id()
        before = {tid: _cpus_of(tid) for tid in _threads() if tid != me}
        for tid in before:
            use(self.others, tid)
        mine = _cpus_of(me)
        use(self.detector)
        try:
            yield
        finally:
            use(mine)
            for tid in _threads():  # and the threads started meanwhile (the render's, OpenCV's pool) on every CPU
                if tid in before:
                    use(before[tid], tid)
                elif tid != me:
                    use(self.everything, tid)
            for pid in child_processes():  # and the processes they started (the encoder)
                for tid in _threads(pid):
                    use(self.everything, tid)


def _threads(process: int | str = "self") -> list[int]:
    try:
        return [int(t) for t in os.listdir(f"/proc/{process}/task")]
    except OSError:
        return []


def child_processes() -> list[int]:
    """The processes this process's threads have started and that still run (/proc/self/task/*/children)."""
    pids = []
    for tid in _threads():
        try:
            with open(f"/proc/self/task/{tid}/children") as f:
                pids += [int(p) for p in f.read().split()]
        except OSError:
            pass
    return pids


def _cpus_of(thread: int) -> frozenset[int] | None:
    try:
        return frozenset(os.sched_getaffinity(thread))
    except OSError:
        return None


def current_cpu() -> int | None:
    """The CPU the calling thread last ran on (/proc/thread-self/stat, field 39), or None if unreadable."""
    try:
        with open("/proc/thread-self/stat") as f:
            after_name = f.read().rsplit(")", 1)[1].split()
        return int(after_name[36])  # field 39 of the line; the fields after "(name)" start at field 3
    except (OSError, IndexError, ValueError):
        return None


def use(cpus: frozenset[int] | None, thread: int = 0) -> None:
    """Run the calling thread (or the one of this native id), and what it starts from now on, on `cpus`;
    None: leave it where it is. Pinning only saves time, so a refusal (a container's policy, a thread that has
    just ended) leaves things as they were."""
    if cpus is None:
        return
    try:
        os.sched_setaffinity(thread, cpus)
    except OSError:
        pass
