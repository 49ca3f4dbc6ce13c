"""Detect and render at the same time: the side-by-side video is drawn and encoded while the detector is
still reading the video, instead of in a second pass afterwards.

A frame's 3D pose is final long before the video ends: gap filling only looks as far as the next
detection, and the symmetric lifter only `lifter.lookahead(fps)` frames ahead (121 model frames for the
243-frame model, plus the resampling's neighbours). So every few dozen frames the detections so far are
filled, lifted and handed to a LiveRender thread, which renders the frames up to
`settled_frames(...)`. The exported joints come from the same whole-video step as without overlap, and
the rendered poses equal them (tests/test_overlap.py).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from ..detectors.candidates import VideoCandidates
from ..detectors.keypoints import NoPersonError
from ..detectors.factory import check_layout
from .detect import detect_keypoints
from .infer import InferenceOptions, InferenceResult, load_lifter, result_from_keypoints
from ..render.live import LiveRender
from ..video import DEFAULT_CRF, DEFAULT_PRESET, VideoInfo, probe

if TYPE_CHECKING:
    from ..lifter.inference import Lifter

FIRST_UPDATE = 32  # frames detected before the first lift
GEOMETRY_SECONDS = 2.0  # the 3D panel's scale and floor come from this much motion (or the whole clip)


def settled_frames(detected: np.ndarray, lookahead: int) -> int:
    """How many leading frames have a final 3D pose, given which frames so far had a detection.

    Frames up to the last detection have their final 2D (frames after it are only held at its value
    until the next detection comes); the lifter's output at t needs 2D up to t + lookahead."""
    found = np.flatnonzero(detected)
    if found.size == 0:
        return 0
    return max(0, int(found[-1]) + 1 - lookahead)


def can_overlap(detector, options: InferenceOptions) -> bool:
    """The render runs while detection goes on for every detector that looks at the frames (not for keypoints
    read from a file, which are all there at once), when frames settle before the end: no option draws on
    the whole clip (rigid_bones: median bone lengths)."""
    return detector.reads_frames and not options.rigid_bones


def run_video_rendering(path: str | os.PathLike, out_video: Path, options: InferenceOptions, *, detector,
                        lifter: Lifter | None = None, checkpoint_path: Path | None = None,
                        progress: Callable[[int], None] | None = None,
                        render_progress: Callable[[int], None] | None = None,
                        crf: int = DEFAULT_CRF, preset: str = DEFAULT_PRESET,
                        info: VideoInfo | None = None) -> tuple[InferenceResult, Path]:
    """run_video (vp3d.pipeline.infer) and the side-by-side video at once, for a frame-by-frame detector.
    Without a `lifter`, the one `options` names loads in the background while the detector starts reading
    (its torch import takes about a second). Returns the result and the written video (x264 quality `crf`,
    0 = lossless, and `preset`); on any error nothing is left at out_video. `info`: the video's probe,
    when the caller has it."""
    info = info or probe(path)
    live = LiveRender(path, out_video, info, geometry_frames=round(GEOMETRY_SECONDS * info.fps),
                      progress=render_progress, crf=crf, preset=preset)
    next_update = FIRST_UPDATE

    with ThreadPoolExecutor(1) as pool:
        loading = pool.submit(load_lifter, options) if lifter is None else None

        def loaded_lifter() -> Lifter:
            nonlocal lifter, checkpoint_path, loading
            if loading is not None:
                lifter, checkpoint_path = loading.result()
                loading = None
                check_layout(detector, lifter.meta.input_layout)
            return lifter

        def on_batch(cands: VideoCandidates) -> None:
            nonlocal next_update
            n = len(cands.frames)
            if n < next_update or (loading is not None and not loading.done()):
                # Detection never waits for the lifter (its torch import takes ~1 s on a CPU): the render
                # starts at the first update after it has loaded.
                return
            # Steps grow with the video (each lift covers everything so far), so the lifting stays a
            # small, bounded share of the work on long videos.
            next_update = n + max(FIRST_UPDATE, n // 8)
            raw = cands.single_person()
            ready = settled_frames(raw.detected, loaded_lifter().lookahead(info.fps))
            if ready == 0:
                live.raise_if_failed()
                return
            partial = result_from_keypoints(raw, info, lifter, checkpoint_path, detector.name, options)
            live.update(partial.keypoints, partial.poses3d, partial.trajectory, ready)

        try:
            if lifter is not None:
                check_layout(detector, lifter.meta.input_layout)
            raw = detect_keypoints(path, detector, progress=progress, on_batch=on_batch, info=info)
            try:
                result = result_from_keypoints(raw, info, loaded_lifter(), checkpoint_path, detector.name, options)
            except NoPersonError as e:
                raise NoPersonError(f"{path}: {e}") from None
            live.update(result.keypoints, result.poses3d, result.trajectory, len(raw.detected), complete=True)
            rendered = live.finish()
        except BaseException:
            live.abort()
            if loading is not None:
                loading.cancel()
            raise
    return result, rendered.path
