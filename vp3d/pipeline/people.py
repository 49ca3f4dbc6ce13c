"""Which people of a video are lifted, and their results: the step between detection and lifting.

    choice = PeopleChoice.parse(None)           # default: the best-scored candidate of each frame, untracked
    choice = PeopleChoice.parse("all")          # --people all / largest / N: everyone tracked, some kept
    spans, tracks_found = choose_people(candidates, choice)        # 2D of each chosen person over its frames
    people = lift_people(spans, info, lifter, checkpoint, "mediapipe", options, choice, tracks_found)
    people.people[0].result.poses3d             # (L, 17, 3) metres for video frames start .. start + L - 1

One person is a track like any other: the default mode gives one person over every frame (the highest-scoring
candidate of each frame, gaps filled, ends held), `--people largest` the largest track over every frame
(ends held as well, so both write the single-person `vp3d.joints/1` files), and `--people all` / N each kept
track over its own span, the frames from its first to its last detection: frames inside the span where the
track was not detected are interpolated and flagged (detected False), frames outside it are not part of that
person (omitted from the JSON, NaN in the NPZ, not drawn). Every person goes through the same steps
(keypoints.fill_missing, to_layout, lift_keypoints: vp3d.pipeline.infer.result_from_keypoints).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from ..detectors.candidates import VideoCandidates, boxes_around
from ..detectors.keypoints import Keypoints2D, NoPersonError
from ..detectors.tracking import Track, min_track_frames, parse_people, select_tracks, track
from ..render.video import Figure
from ..video import VideoInfo
from .infer import InferenceOptions, InferenceResult, result_from_keypoints


@dataclass(frozen=True)
class PeopleChoice:
    """tracked False: the highest-scoring candidate of each frame, untracked (no --people). tracked True:
    everyone linked into tracks (vp3d.detectors.tracking), the `count` largest kept (None: all)."""
    tracked: bool = False
    count: int | None = 1

    @classmethod
    def parse(cls, people: str | None) -> "PeopleChoice":
        """From `--people` ("all", "largest", "N"; ValueError otherwise) or None."""
        return cls() if people is None else cls(True, parse_people(people))

    @property
    def several(self) -> bool:
        """Tracked people that may be more than one: `vp3d.joints/2` files, each drawn in its own colour."""
        return self.tracked and self.count != 1


@dataclass
class PersonSpan:
    """One chosen person's raw 2D (detector layout, NaN where not detected) on video frames start .. start + L - 1.
    track_id: None for the untracked person; first_frame, last_frame: its first and last detection."""
    track_id: int | None
    start: int
    raw: Keypoints2D
    first_frame: int
    last_frame: int


@dataclass
class PersonResult:
    """One lifted person: `result` covers video frames start .. start + L - 1; first_frame, last_frame are its
    first and last detection (a tracked person's span when several are kept)."""
    track_id: int | None
    first_frame: int
    last_frame: int
    start: int
    result: InferenceResult


@dataclass
class PeopleResult:
    video: VideoInfo
    num_frames: int  # T, decoded frames of the video
    people: list[PersonResult]  # in order of track id; one for the default mode and --people largest
    tracks_found: int  # tracks before selection (0 untracked)
    choice: PeopleChoice

    @classmethod
    def of_one(cls, result: InferenceResult) -> "PeopleResult":
        """One untracked person's result over every frame (vp3d.lift_video's, say), as the exports take it."""
        first, last = detection_span(result.keypoints.detected)
        return cls(result.video, len(result.poses3d), [PersonResult(None, first, last, 0, result)], 0, PeopleChoice())

    def detected(self) -> np.ndarray:
        """(T,) bool: the frames where at least one person was detected."""
        anyone = np.zeros(self.num_frames, bool)
        for p in self.people:
            anyone[p.start:p.start + len(p.result.keypoints.detected)] |= p.result.keypoints.detected
        return anyone

    def figures(self) -> list[Figure]:
        """What the renderer draws (vp3d.render.video): the untracked or largest person unlabelled, several
        tracked people labelled with their track ids."""
        return [Figure(p.result.keypoints.xy, p.result.keypoints.score, p.result.keypoints.detected,
                       p.result.keypoints.layout, p.result.poses3d, p.result.trajectory, p.start,
                       f"#{p.track_id}" if self.choice.several else None) for p in self.people]


def detection_span(detected: np.ndarray) -> tuple[int, int]:
    """First and last frame with a detection of (T,) bool; (0, T - 1) when there is none."""
    found = np.flatnonzero(detected)
    return (int(found[0]), int(found[-1])) if found.size else (0, len(detected) - 1)


def _track_of(kp: Keypoints2D) -> Track:
    """A single-person detector's output as track 0."""
    boxes = np.full((kp.num_frames, 4), np.nan, np.float32)
    boxes[kp.detected] = boxes_around(kp.xy[kp.detected], kp.score[kp.detected])
    return Track(0, kp.xy, kp.score, kp.detected.astype(np.float32), boxes, kp.detected)


def _span(tr: Track, start: int, stop: int, cands: VideoCandidates) -> PersonSpan:
    part = slice(start, stop)
    raw = Keypoints2D(xy=tr.xy[part], score=tr.score[part], detected=tr.detected[part], layout=cands.layout,
                      width=cands.width, height=cands.height)
    return PersonSpan(tr.id, start, raw, tr.first, tr.last)


def choose_people(cands: VideoCandidates, choice: PeopleChoice, fps: float, one_person: bool = False
                  ) -> tuple[list[PersonSpan], int]:
    """The people `choice` keeps among a video's candidates, each with its 2D over the frames it is lifted on,
    and the number of tracks found (0 untracked). fps: the video's frame rate (tracking's time limits);
    one_person: the detector follows one person (MediaPipe), whose candidates are the one track.
    Tracked: NoPersonError (one line) when nobody was detected; the untracked person is checked when lifted."""
    frames = len(cands.frames)
    if not choice.tracked:
        kp = cands.single_person()
        return [PersonSpan(None, 0, kp, *detection_span(kp.detected))], 0
    if one_person:
        kp = cands.single_person()
        tracks = [_track_of(kp)] if kp.detected.any() else []
    else:
        tracks = track(cands.frames, fps)
    if not tracks:
        raise NoPersonError("no person was detected in any frame")
    kept = select_tracks(tracks, choice.count, min_track_frames(fps))
    if choice.several:  # each over its own span
        return [_span(tr, tr.first, tr.last + 1, cands) for tr in kept], len(tracks)
    return [_span(kept[0], 0, frames, cands)], len(tracks)  # the largest over every frame, as one person


def lift_people(spans: list[PersonSpan], info: VideoInfo, lifter, checkpoint: Path | None, detector_name: str,
                options: InferenceOptions, choice: PeopleChoice, tracks_found: int, num_frames: int
                ) -> PeopleResult:
    """Fill, convert and lift each chosen person (NoPersonError for a person never detected).

    With one BLAS thread: the lifts during detection run beside MediaPipe and the render (vp3d.pipeline.overlap),
    the last one beside the render's tail, where two threads waiting on each other took 5-10x as long; and the
    joints' last bits do not depend on the machine's CPU count."""
    people = []
    with threadpool_limits(1, "blas"):
        for s in spans:
            extras = {} if s.track_id is None else {"track_id": s.track_id, "first_frame": s.first_frame,
                                                      "last_frame": s.last_frame}
            result = result_from_keypoints(s.raw, info, lifter, checkpoint, detector_name, options, extras=extras,
                                           start=s.start)
            people.append(PersonResult(s.track_id, s.first_frame, s.last_frame, s.start, result))
    return PeopleResult(video=info, num_frames=num_frames, people=people, tracks_found=tracks_found, choice=choice)
