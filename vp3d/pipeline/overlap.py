"""Detect and render at the same time: the side-by-side video is drawn and encoded while the detector is
still reading the video, instead of after it.

A frame's 3D pose is final long before the video ends: gap filling only looks as far as the next
detection, and the symmetric lifter only `lifter.lookahead(fps)` frames ahead (the network's 121 model frames,
plus the reach of the steps its weights declare after it: 407 for the shipped file, about 8 s; plus the resampling's
neighbours). So every few dozen frames `LiveFeed` chooses and lifts
the people detected so far, in a thread of its own (detection does not wait for it), and hands them to the
renderer (vp3d.render.video.SideBySideRender), which draws the frames up to `settled_frames(...)`. The
exported joints come from the same whole-video step as without overlap, and the rendered poses equal them
(tests/test_overlap.py).

When the render cannot run during detection (`can_overlap`), the same renderer is fed once, after it
(vp3d.pipeline.job.write_outputs).
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Callable

import numpy as np

from ..cores import use
from ..detectors.candidates import VideoCandidates
from ..render.video import SideBySideRender
from ..video import VideoInfo
from .infer import InferenceOptions
from .people import PeopleChoice, choose_people, lift_people

FIRST_UPDATE = 32  # frames detected before the first lift
UPDATE_STEP = 16  # then at least this many more before the next: the frames still to draw when detection ends
# Each update lifts everything detected so far, so a wide lifter (1024 channels: ~16x the arithmetic of 256)
# updating as often as a narrow one takes a core from the detector: after a lift of t seconds the next one waits
# LIFT_PAUSE * t, which holds the lifting thread to about a third of a core whatever the lifter's cost.
LIFT_PAUSE = 2.0
GEOMETRY_SECONDS = 2.0  # the 3D panel's scale and floor come from this much motion (or the whole clip)


def settled_frames(detected: np.ndarray, lookahead: int) -> int:
    """How many leading frames have a final 3D pose, given which frames so far had a detection.

    Frames up to the last detection have their final 2D (frames after it are only held at its value
    until the next detection comes); the lifter's output at t needs 2D up to t + lookahead."""
    found = np.flatnonzero(detected)
    if found.size == 0:
        return 0
    return max(0, int(found[-1]) + 1 - lookahead)


def can_overlap(detector, options: InferenceOptions, choice: PeopleChoice) -> bool:
    """Whether the render can run while detection goes on: for every detector that looks at the frames (keypoints
    read from a file are all there at once), when frames settle before the end. They do not when an option
    draws on the whole clip (rigid_bones: median bone lengths; root_motion: the clip's median size, smoothing
    over seconds, the floor), nor for tracked people (--people): which
    tracks are kept is only known at the end (the largest by their size over the whole video; tracks shorter
    than 0.2 s dropped), each kept person's colour is its rank among the kept ones, and the 3D panel lays the
    people out by where they stand over the whole clip and spaces them by the widest reach of anyone in it."""
    return detector.reads_frames and not (options.rigid_bones or options.root_motion) and not choice.tracked


def live_geometry_frames(info: VideoInfo) -> int:
    """SideBySideRender's geometry_frames while detecting: the panel is fixed from the first GEOMETRY_SECONDS."""
    return round(GEOMETRY_SECONDS * info.fps)


class LiveFeed:
    """The detect loop's on_batch while rendering: every few dozen frames, the people detected so far are
    chosen and lifted (as after detection) and their settled frames handed to `render`.

    The lifting runs in a thread of its own, on `cpus` (vp3d.cores; None: anywhere): done in the detect
    loop's thread it held up the detector by a tenth to a quarter of a second per update, on the detector's
    own core. A batch that arrives while the previous lift is still running leaves the update to a later
    batch. The lift's errors (and the render's) are raised by the next batch; `close()` when detection ends.

    lifter: callable() -> (Lifter, checkpoint path), or None while the lifter is still loading (detection
    never waits for it: the render starts at the first update after it has loaded)."""

    def __init__(self, render: SideBySideRender, info: VideoInfo, options: InferenceOptions, choice: PeopleChoice,
                 detector_name: str, lifter: Callable[[], tuple | None], cpus: frozenset[int] | None = None):
        self.render, self.info, self.options, self.choice = render, info, options, choice
        self.detector_name, self.lifter = detector_name, lifter
        self.next_update = FIRST_UPDATE
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="vp3d-live-lift", initializer=use, initargs=(cpus,))
        self._lifting: Future | None = None
        self._not_before = 0.0  # time.monotonic() before which no update starts (LIFT_PAUSE)

    def __call__(self, cands: VideoCandidates) -> None:
        self.render.raise_if_failed()
        if self._lifting is not None:
            if not self._lifting.done():
                return
            self._lifting.result()  # its error, if it failed
        n = len(cands.frames)
        loaded = self.lifter() if n >= self.next_update and time.monotonic() >= self._not_before else None
        if loaded is None:
            return
        # Steps grow with the video (each lift covers everything so far), so the lifting stays a small,
        # bounded share of the work on long videos.
        self.next_update = n + max(UPDATE_STEP, n // 8)
        # The detect loop goes on appending to its list of frames: the lift gets the frames so far.
        self._lifting = self._pool.submit(self._lift, replace(cands, frames=list(cands.frames)), *loaded)

    def _lift(self, cands: VideoCandidates, lifter, checkpoint) -> None:
        started = time.monotonic()
        try:
            self._lift_and_update(cands, lifter, checkpoint)
        finally:
            self._not_before = time.monotonic() + LIFT_PAUSE * (time.monotonic() - started)

    def _lift_and_update(self, cands: VideoCandidates, lifter, checkpoint) -> None:
        n = len(cands.frames)
        spans, tracks_found = choose_people(cands, self.choice, self.info.fps)
        lookahead = lifter.lookahead(self.info.fps)
        ready = min(s.start + settled_frames(s.raw.detected, lookahead) for s in spans)
        if ready == 0:
            return
        so_far = lift_people(spans, self.info, lifter, checkpoint, self.detector_name, self.options, self.choice,
                             tracks_found, n)
        self.render.update(so_far.figures(), ready)

    def close(self) -> None:
        """Detection has ended: a lift still running is left to finish on its own (its update cannot undo
        the render's last one: SideBySideRender.update), and its result is not waited for."""
        self._pool.shutdown(wait=False, cancel_futures=True)
