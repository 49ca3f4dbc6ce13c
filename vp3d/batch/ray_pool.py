"""Batch mode on a Ray cluster (`vp3d batch --ray [ADDRESS]`): the videos, outputs, done-markers, retries
and rows of the local pool (workers.py), scheduled by Ray instead of a ProcessPoolExecutor.

    schedule_on_ray(tasks, RaySettings(address="auto", slots=8, gpus_per_video=0.5), job, on_event, rows)

One long-lived actor per worker slot, created with what a video needs (`cpus_per_video`, `gpus_per_video`),
holds the detector and the lifter, loaded on its first video; every video is one call on an idle actor,
running `workers.process_task`, the function the local workers run, so the files written are the same. The
output folder must therefore be storage every node sees at the same path (NFS, a mounted bucket).

An actor that dies (its node lost, the OOM killer, kill -9) takes its video with it: the driver deletes
what that attempt left (temporary files, outputs it had completed: a video is all its outputs or none) and
gives the video once more to a fresh actor; dying a second time fails it. Ctrl-C / SIGTERM kill the actors
in work and clean their videos up the same way. Ray stays an optional dependency (`vp3d[ray]`).
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from dataclasses import dataclass

from ..errors import UserError
from .workers import Event, Job, Task, make_row, one_line, output_states, process_task, remove_attempt, serve

INSTALL_HINT = "vp3d batch --ray needs Ray: pip install 'vp3d[ray]' (or pip install 'ray>=2.40,<3')"


@dataclass
class RaySettings:
    address: str | None = None  # None: start a local Ray instance; "auto": the cluster this runs in; host:port
    slots: int = 2  # actors, i.e. videos in work at once
    cpus_per_video: float = 1.0  # Ray resources each actor holds (and torch/OpenCV threads it uses)
    gpus_per_video: float = 0.0


class _EventBox:
    """The progress events of every actor, held until the driver takes them (a Ray actor of its own)."""

    def __init__(self) -> None:
        self.items: list = []

    def put(self, item) -> None:
        self.items.append(item)

    def take(self) -> list:
        items, self.items = self.items, []
        return items


class _SendEvents:
    """What a worker's `events.put` is on Ray: a call on the event box that does not wait for its answer (a
    queue's put waits for a round trip, up to ten times a second per video, inside the detect loop). Calls from
    one actor reach the box in the order they were made."""

    def __init__(self, box) -> None:
        self.box = box

    def put(self, item) -> None:
        self.box.put.remote(item)


class _VideoWorker:
    """One worker slot: the models of `job`, loaded once, and one video at a time."""

    def __init__(self, job: Job, events) -> None:
        serve(job, events)

    def pid(self) -> int:
        return os.getpid()

    def process(self, task: Task) -> dict:
        return process_task(task)


def import_ray():
    """The ray module, or UserError with the one-line install hint."""
    try:
        import ray
    except ImportError:
        raise UserError(INSTALL_HINT) from None
    return ray


def schedule_on_ray(tasks: list[Task], settings: RaySettings, job: Job, on_event: Event,
                    rows: dict[int, dict]) -> dict:
    """Run every task on Ray, adding their rows to `rows`; returns what summary.json records about the run
    ({"address", "slots", "worker_deaths"}). On Ctrl-C / SIGTERM: videos in work are stopped and cleaned
    up, then KeyboardInterrupt is re-raised (run_batch marks what is left interrupted)."""
    ray = import_ray()

    started_here = not ray.is_initialized()
    if started_here and settings.address is None:
        # Ray runs its workers at niceness 15 by default: on a machine that also does other work (here: a
        # training beside the batch) they got ~2% of a core and the batch crawled. In the instance we start,
        # the videos are the job; a cluster's own setting is left alone.
        os.environ.setdefault("RAY_worker_niceness", "0")
    if started_here:
        try:
            ray.init(address=settings.address, include_dashboard=False, log_to_driver=False,
                     logging_level=logging.ERROR, configure_logging=True)
        except ConnectionError as e:
            raise UserError(f"--ray {settings.address}: cannot connect to a Ray cluster there ({one_line(e)})") from None
    box = ray.remote(num_cpus=0)(_EventBox).remote()  # progress events: the actors put, the driver takes
    events = _SendEvents(box)
    worker_cls = ray.remote(num_cpus=settings.cpus_per_video, num_gpus=settings.gpus_per_video,
                            max_restarts=0)(_VideoWorker)
    job = Job(job.options, job.kinds, job.fingerprint, max(1, int(settings.cpus_per_video)), job.people)
    by_index = {t.index: t for t in tasks}
    idle = [worker_cls.remote(job, events) for _ in range(max(1, min(settings.slots, len(tasks))))]
    queue = list(tasks)
    running: dict = {}  # ObjectRef -> (actor, task, output states before the attempt)
    crashes: dict[int, int] = defaultdict(int)
    deaths = 0

    def drain() -> None:
        # An event can reach the box after its video's result reached the driver (two senders): a finished
        # video's late progress is dropped.
        for kind, index, value in ray.get(box.take.remote()):
            if kind != "worker" and index not in rows:
                on_event(kind, by_index[index], value)

    def finish(task: Task, row: dict) -> None:
        rows[task.index] = row
        on_event("done", task, row)

    try:
        while queue or running:
            while idle and queue:
                actor, task = idle.pop(), queue.pop(0)
                running[actor.process.remote(task)] = (actor, task, output_states(task))
            done, _ = ray.wait(list(running), num_returns=1, timeout=0.2)
            drain()
            for ref in done:
                actor, task, before = running.pop(ref)
                try:
                    finish(task, ray.get(ref))
                except ray.exceptions.RayActorError as e:
                    deaths += 1
                    remove_attempt(task, before)
                    crashes[task.index] += 1
                    if crashes[task.index] >= 2:
                        finish(task, make_row(task, "failed", "the worker died twice while processing this "
                                                              f"video (crash or killed): {one_line(e)}"))
                    else:
                        queue.insert(0, task)  # next, on a fresh actor
                    actor = worker_cls.remote(job, events)
                idle.append(actor)
        drain()
    except KeyboardInterrupt:
        for actor, task, before in running.values():
            ray.kill(actor)
            remove_attempt(task, before)
            finish(task, make_row(task, "interrupted"))
        raise
    finally:
        for actor in idle + [a for a, _, _ in running.values()]:
            ray.kill(actor)
        if started_here:
            ray.shutdown()
    return {"address": settings.address or "local", "slots": settings.slots, "worker_deaths": deaths}
