"""The one path of a video: decode -> detect -> choose people -> lift each, feeding the renderer while
detection runs when it can.

    people = run_video("clip.mp4", InferenceOptions())                              # one person, untracked
    people = run_video("clip.mp4", InferenceOptions(detector="rtmpose"), PeopleChoice.parse("all"))
    result = lift_video("clip.mp4")          # vp3d.lift_video: the one person's InferenceResult
    result.poses3d      # (T, 17, 3) metres, camera frame, root-relative, Human3.6M order
    result.keypoints    # Keypoints2D in the lifter's input layout, pixels, gaps filled and flagged
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..detectors.factory import check_layout, single_person_message
from ..detectors.keypoints import DetectorError, NoPersonError, conversion
from ..render.video import SideBySideRender
from ..video import VideoError, VideoInfo, probe
from .detect import detect_candidates
from .infer import InferenceOptions, InferenceResult, detector_from_options, load_lifter
from .overlap import LiveFeed
from .people import PeopleChoice, PeopleResult, choose_people, lift_people

if TYPE_CHECKING:
    from ..lifter.inference import Lifter


class _LifterLoad:
    """The lifter, loading in a background thread while the detector starts (its torch import alone takes about
    a second on a CPU), or given. Its input layout is checked against the detector's as soon as it is there."""

    def __init__(self, pool: ThreadPoolExecutor, options: InferenceOptions, detector, lifter: Lifter | None,
                 checkpoint: Path | None):
        self.detector, self.lifter, self.checkpoint = detector, lifter, checkpoint
        self.loading: Future | None = pool.submit(load_lifter, options) if lifter is None else None
        if lifter is not None:
            check_layout(detector, lifter.meta.input_layout)

    def if_loaded(self) -> tuple[Lifter, Path | None] | None:
        """(lifter, checkpoint path) if it has loaded, else None; raises its loading or layout error."""
        return self.get() if self.loading is None or self.loading.done() else None

    def get(self) -> tuple[Lifter, Path | None]:
        """(lifter, checkpoint path), waiting for it."""
        if self.loading is not None:
            self.lifter, self.checkpoint = self.loading.result()
            self.loading = None
            check_layout(self.detector, self.lifter.meta.input_layout)
        return self.lifter, self.checkpoint


def run_video(path: str | os.PathLike, options: InferenceOptions | None = None,
              choice: PeopleChoice = PeopleChoice(), *, lifter: Lifter | None = None,
              checkpoint_path: Path | None = None, detector=None, progress: Callable[[int], None] | None = None,
              render: SideBySideRender | None = None, info: VideoInfo | None = None,
              decode_cpus: frozenset[int] | None = None) -> PeopleResult:
    """Detect, choose and lift the people of one video (`info`: its probe, when the caller has it).

    choice: which people (PeopleChoice; default: the best-scored candidate of each frame, untracked).
    render: a renderer to feed while detection runs (only when overlap.can_overlap); the caller completes it.
    decode_cpus: the CPUs of the decode thread (vp3d.cores), or None: wherever the scheduler puts it.
    `detector` (from detector_from_options) is used as given and left open; otherwise the one named by
    options.detector is built and closed here. Without a `lifter`, the one `options` names loads while
    the detector starts. A stream FFmpeg reports damaged is lifted up to its break, info.decode_warning saying
    so; with options.strict it is a VideoError. Raises VideoError / NoPersonError / CheckpointError /
    DetectorError with one-line messages."""
    options = options or InferenceOptions()
    info = info or probe(path)
    own_detector = detector is None
    detector = detector or detector_from_options(options)
    try:
        if choice.several and detector.one_person:
            raise DetectorError(single_person_message(detector.name))
        with ThreadPoolExecutor(1) as pool:
            model = _LifterLoad(pool, options, detector, lifter, checkpoint_path)
            # Without a render to feed, each batch still raises the lifter's loading or layout error as soon
            # as it is known, not after the whole video.
            feed = None if render is None else LiveFeed(render, info, options, choice, detector.name,
                                                         model.if_loaded, cpus=decode_cpus)
            try:
                cands = detect_candidates(path, detector, progress=progress,
                                           on_batch=feed or (lambda cands: model.if_loaded()), info=info,
                                           decode_cpus=decode_cpus)
                lifter, checkpoint_path = model.get()
            except BaseException:
                if model.loading is not None:
                    model.loading.cancel()
                raise
            finally:
                if feed is not None:
                    feed.close()
    finally:
        if own_detector:
            detector.close()
    if options.strict and info.decode_warning is not None:
        raise VideoError(f"{path}: {info.decode_warning.describe()}; refused with --strict")
    try:
        conversion(cands.layout, lifter.meta.input_layout)
        spans, tracks_found = choose_people(cands, choice, info.fps, detector.one_person)
        return lift_people(spans, info, lifter, checkpoint_path, detector.name, options, choice, tracks_found,
                           len(cands.frames))
    except NoPersonError as e:
        raise NoPersonError(f"{path}: {e}") from None


def lift_video(path: str | os.PathLike, detector="mediapipe", *, progress: Callable[[int], None] | None = None,
               **options) -> InferenceResult:
    """One video -> InferenceResult (`vp3d.lift_video`): 2D from `detector` (a name of
    vp3d.detectors.factory, "file:PATH", or a detector from make_detector, used as given and left open),
    lifted by the lifter `options` name (any InferenceOptions field: checkpoint, fov, flip, device, ...)."""
    if isinstance(detector, str):
        people = run_video(path, InferenceOptions(detector=detector, **options), progress=progress)
    else:
        people = run_video(path, InferenceOptions(**options), detector=detector, progress=progress)
    return people.people[0].result
