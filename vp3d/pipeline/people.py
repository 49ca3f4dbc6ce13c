"""Several people in one video (`--people`): detect everyone, track, select, then lift each track on its own.

    people = run_people("clip.mp4", InferenceOptions(detector="keypoint-rcnn"), count=None)   # --people all
    for person in people.people:
        person.track_id, person.first_frame, person.last_frame
        person.result.poses3d      # (L, 17, 3) metres for video frames first_frame .. last_frame (L of them)

    one = run_largest("clip.mp4", options)   # --people largest / 1: a plain InferenceResult over all frames

Each track goes through the single-person steps (keypoints.fill_missing, to_layout, lift_keypoints) over its
own span, the frames from its first to its last detection: frames inside the span where the track was not
detected are interpolated and flagged (detected False), frames outside the span are not part of that person
(omitted from the JSON, NaN in the NPZ, not drawn). `--people largest` instead lifts the largest track over
the whole video with its ends held, exactly like the single-person path, so it writes a `vp3d.joints/1` file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..detectors.candidates import boxes_around
from ..detectors.keypoints import DetectorError, Keypoints2D, NoPersonError, conversion
from ..detectors.tracking import Track, min_track_frames, select_tracks, track
from .detect import detect_candidates
from .infer import InferenceOptions, InferenceResult, detector_from_options, load_lifter, result_from_keypoints
from ..video import VideoInfo, probe


@dataclass
class PersonResult:
    """One tracked person: `result` covers video frames first_frame .. last_frame (inclusive) only."""
    track_id: int
    first_frame: int
    last_frame: int
    result: InferenceResult


@dataclass
class PeopleResult:
    video: VideoInfo
    num_frames: int  # T, decoded frames of the video
    people: list[PersonResult]  # in order of track id
    tracks_found: int  # tracks before selection
    count: int | None  # people asked for (None: all)


def _track_of(kp: Keypoints2D) -> Track:
    """A single-person detector's output as track 0."""
    boxes = np.full((kp.num_frames, 4), np.nan, np.float32)
    boxes[kp.detected] = boxes_around(kp.xy[kp.detected], kp.score[kp.detected])
    return Track(0, kp.xy, kp.score, kp.detected.astype(np.float32), boxes, kp.detected)


def detect_tracks(path: str | os.PathLike, options: InferenceOptions, count: int | None, *, lifter,
                  detector=None, progress: Callable[[int], None] | None = None
                  ) -> tuple[VideoInfo, list[Track], list[Track], str, str]:
    """Detect and track everyone; returns (video info, all tracks, the selected ones, 2D layout, detector name).

    A single-person detector (MediaPipe) gives one track, which suffices for count == 1 only; for more it
    raises DetectorError before decoding anything."""
    from ..detectors.factory import check_layout, single_person_message

    info = probe(path)
    own = detector is None
    detector = detector or detector_from_options(options)
    try:
        check_layout(detector, lifter.meta.input_layout)
        if detector.one_person and count != 1:
            raise DetectorError(single_person_message(detector.name))
        cands = detect_candidates(path, detector, progress=progress, info=info)
        if detector.one_person:  # its one person is the track
            kp = cands.single_person()
            tracks, layout = ([_track_of(kp)] if kp.detected.any() else []), kp.layout
        else:
            tracks, layout = track(cands.frames, info.fps), cands.layout
        name = detector.name
    finally:
        if own:
            detector.close()
    conversion(layout, lifter.meta.input_layout)
    if not tracks:
        raise NoPersonError(f"{path}: no person was detected in any frame")
    return info, tracks, select_tracks(tracks, count, min_track_frames(info.fps)), layout, name


def _lift_span(tr: Track, first: int, last: int, info: VideoInfo, layout: str, lifter, checkpoint: Path,
               detector_name: str, options: InferenceOptions) -> InferenceResult:
    """Frames first..last of a track, gaps filled (ends held), lifted: an InferenceResult of last-first+1 frames."""
    span = slice(first, last + 1)
    raw = Keypoints2D(xy=tr.xy[span], score=tr.score[span], detected=tr.detected[span], layout=layout,
                      width=info.width, height=info.height)
    return result_from_keypoints(raw, info, lifter, checkpoint, detector_name, options,
                                 extras={"track_id": tr.id, "first_frame": first, "last_frame": last})


def run_people(path: str | os.PathLike, options: InferenceOptions, count: int | None, *, lifter=None,
               checkpoint_path: Path | None = None, detector=None,
               progress: Callable[[int], None] | None = None) -> PeopleResult:
    """Detect, track, keep `count` people (None: all; see tracking.select_tracks) and lift each over its span.
    Raises the pipeline's one-line errors (NoPersonError, DetectorError, VideoError, CheckpointError)."""
    if lifter is None:
        lifter, checkpoint_path = load_lifter(options)
    info, tracks, kept, layout, name = detect_tracks(path, options, count, lifter=lifter, detector=detector,
                                                     progress=progress)
    people = [PersonResult(tr.id, tr.first, tr.last,
                           _lift_span(tr, tr.first, tr.last, info, layout, lifter, checkpoint_path, name, options))
              for tr in kept]
    return PeopleResult(video=info, num_frames=len(kept[0].detected), people=people, tracks_found=len(tracks),
                        count=count)


def run_largest(path: str | os.PathLike, options: InferenceOptions, *, lifter=None,
                checkpoint_path: Path | None = None, detector=None,
                progress: Callable[[int], None] | None = None) -> InferenceResult:
    """`--people largest`: the largest track over the whole video (ends held, as the single-person path),
    so every single-person output applies. extras holds its track_id, first_frame, last_frame."""
    if lifter is None:
        lifter, checkpoint_path = load_lifter(options)
    info, _, kept, layout, name = detect_tracks(path, options, 1, lifter=lifter, detector=detector,
                                                progress=progress)
    tr = kept[0]
    result = _lift_span(tr, 0, len(tr.detected) - 1, info, layout, lifter, checkpoint_path, name, options)
    result.extras.update(first_frame=tr.first, last_frame=tr.last)
    return result
