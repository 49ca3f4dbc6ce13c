"""The one loop over a video's frames: decode (once, in a background thread) -> detect, a batch at a time.

    cands = detect_candidates("clip.mp4", detector)      # VideoCandidates: every person on every frame
    kp = detect_keypoints("clip.mp4", detector)          # Keypoints2D: the highest-scoring person per frame

Every detector is a `vp3d.detectors.candidates.Detector`: it is started for the video, fed consecutive
batches of `detector.batch_size` decoded frames and told how many frames there were; it never opens the
video itself. `on_batch` sees the candidates so far after each batch, which lets the render run while
detection goes on (vp3d.pipeline.overlap).
"""

from __future__ import annotations

import os
from contextlib import closing
from typing import Callable, Iterator

import numpy as np

from ..detectors.candidates import Detector, PersonCandidates, VideoCandidates
from ..detectors.keypoints import Keypoints2D
from ..video import VideoInfo, check_stream, iter_frames, prefetch, probe


def _batches(frames: Iterator[np.ndarray], size: int) -> Iterator[list[np.ndarray]]:
    batch: list[np.ndarray] = []
    for frame in frames:
        batch.append(frame)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def detect_candidates(path: str | os.PathLike, detector: Detector, progress: Callable[[int], None] | None = None,
                      on_batch: Callable[[VideoCandidates], None] | None = None,
                      info: VideoInfo | None = None, decode_cpus: frozenset[int] | None = None) -> VideoCandidates:
    """Every person the detector finds on every decoded frame of the video.

    progress: optional callable(frames_done) after each batch.
    on_batch: optional callable(candidates so far) after each batch.
    info: the video's probe, when the caller has it already (saves reading the headers again); its
        decode_warning is set here when FFmpeg reports the stream damaged (vp3d.video.integrity).
    decode_cpus: the CPUs of the decode thread (vp3d.cores), or None: wherever the scheduler puts it.
    Raises VideoError / DetectorError (one line) for a video or an input that cannot be used."""
    info = info or probe(path)
    detector.start(path, info.width, info.height)
    out: list[PersonCandidates] = []

    def so_far() -> VideoCandidates:
        return VideoCandidates(frames=out, layout=detector.layout, width=info.width, height=info.height,
                               num_joints=detector.num_joints)

    with closing(prefetch(iter_frames(path), cpus=decode_cpus)) as frames:  # on an error, stop the decode thread right away
        for batch in _batches(frames, max(1, int(detector.batch_size))):
            found = detector.detect_batch(batch)
            if len(found) != len(batch):
                raise RuntimeError(f"{detector.name} returned {len(found)} results for {len(batch)} frames")
            out.extend(found)
            if progress is not None:
                progress(len(out))
            if on_batch is not None:
                on_batch(so_far())
    detector.finish(len(out))
    info.decode_warning = check_stream(path, len(out), info.num_frames_hint,
                                       fps=None if info.variable_frame_rate else info.fps)
    return so_far()


def detect_keypoints(path: str | os.PathLike, detector: Detector, progress: Callable[[int], None] | None = None,
                     on_batch: Callable[[VideoCandidates], None] | None = None,
                     info: VideoInfo | None = None) -> Keypoints2D:
    """One person's 2D keypoints on every frame, in the detector's layout: the candidate with the highest
    person score (NaN / not detected where there is nobody; see keypoints.fill_missing)."""
    return detect_candidates(path, detector, progress, on_batch, info).single_person()
