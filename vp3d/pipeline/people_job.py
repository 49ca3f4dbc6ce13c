"""`--people`: one video in, the tracked people's output files out (the multi-person twin of job.process_video).

    summary = process_people(Path("in.mp4"), Outputs(json=Path("r.json")), InferenceOptions(detector="rtmpose"), "all")

"largest" (or 1) writes the single-person files (`vp3d.joints/1`, every export kind) for the largest track;
"all" and N >= 2 write `vp3d.joints/2` JSON/NPZ (export_people) and a video with each person in its own
colour (render_people). CSV, BVH and the custom 2D NPZ hold one person, so they need "largest".
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np

from ..detectors.tracking import parse_people
from .infer import InferenceOptions
from .job import OutputError, Outputs, all_or_nothing, prepare_outputs, summarize, write_outputs
from .people import PeopleResult, run_largest, run_people


def write_people_outputs(people: PeopleResult, outputs: Outputs,
                         render_progress: Callable[[int], None] | None = None) -> dict[str, str]:
    """Write the JSON, NPZ and video of several people, all or none; returns {kind: path}."""
    from .export_people import write_people_json, write_people_npz
    worlds = None
    if outputs.world:
        from ..world import to_world
        worlds = [to_world(p.result.poses3d, p.result.trajectory, outputs.up) for p in people.people]
    with all_or_nothing() as written:
        if outputs.video:  # first: the long step, the one most likely to fail or be interrupted
            from .render_people import render_people
            written["video"] = str(render_people(people, outputs.video, progress=render_progress, crf=outputs.crf,
                                                 preset=outputs.preset))
        if outputs.json:
            written["json"] = str(write_people_json(outputs.json, people, worlds))
        if outputs.npz:
            written["npz"] = str(write_people_npz(outputs.npz, people, worlds))
    return written


def check_people_outputs(people: str, kinds: list[str]) -> int:
    """The number of people `people` asks for (0 = all); OutputError (one line) when an output kind that
    holds one person (csv, bvh, npz_2d) is asked for several."""
    count = parse_people(people)  # ValueError for a bad value: the CLI checks it while parsing
    single_only = [f"--{k.replace('_', '-')}" for k in ("csv", "bvh", "npz_2d") if k in kinds]
    if count != 1 and single_only:
        raise OutputError(f"{', '.join(single_only)} hold(s) one person; use --people largest, or --json/--npz "
                          f"for several people")
    return count


def process_people(path: Path, outputs: Outputs, options: InferenceOptions, people: str,
                   detect_progress: Callable[[int], None] | None = None,
                   render_progress: Callable[[int], None] | None = None,
                   lifter=None, checkpoint_path: Path | None = None, detector=None) -> dict:
    """Detect, track, select (`people`: "all", "largest" or a number, see tracking.parse_people), lift and
    write `outputs`; returns a summary dict like job.process_video's plus "people" (track ids and spans).
    Raises the pipeline's one-line errors; OutputError for an export that holds one person only."""
    count = check_people_outputs(people, [k for k in ("csv", "bvh", "npz_2d") if getattr(outputs, k)])
    prepare_outputs(outputs, path)
    t0 = time.time()
    kw = dict(lifter=lifter, checkpoint_path=checkpoint_path, detector=detector, progress=detect_progress)
    if count == 1:
        result = run_largest(path, options, **kw)
        written = write_outputs(result, outputs, render_progress)
        frames, detected = len(result.poses3d), int(result.keypoints.detected.sum())
        tracks = [{"track_id": result.extras["track_id"], "first_frame": result.extras["first_frame"],
                   "last_frame": result.extras["last_frame"], "frames_detected": detected}]
        fps = result.video.fps
    else:
        found = run_people(path, options, count, **kw)
        written = write_people_outputs(found, outputs, render_progress)
        frames, fps = found.num_frames, found.video.fps
        tracks = [{"track_id": p.track_id, "first_frame": p.first_frame, "last_frame": p.last_frame,
                   "frames_detected": int(p.result.keypoints.detected.sum())} for p in found.people]
        anyone = np.zeros(frames, bool)  # frames where at least one kept person was detected
        for p in found.people:
            anyone[p.first_frame: p.last_frame + 1] |= p.result.keypoints.detected
        detected = int(anyone.sum())
    return summarize(path, frames, detected, fps, t0, written, people=tracks)
