"""Several people's joints to JSON and NPZ (schema `vp3d.joints/2`, documented in README.md).

`vp3d.joints/2` is `vp3d.joints/1` with the per-frame list moved into one entry per tracked person:
the header blocks (video, camera, detector, lifter, joints3d) are the same, "frames" is replaced by
"people": [{"track_id", "first_frame", "last_frame", "frames_detected", "frames": [...]}], where each
person's frames are `vp3d.joints/1` frame objects for video frames first_frame .. last_frame only ("index"
is the video frame). A "tracking" block says how people were chosen. With --world each person gets its own
"world" block (the world frame is estimated from each body).

The NPZ holds the `vp3d.joints/1` arrays with a leading person axis P over all T video frames, NaN (and
detected False) outside each person's span: keypoints2d (P,T,J,2), scores2d (P,T,J), detected (P,T),
in_track (P,T), joints3d (P,T,17,3), root_camera (P,T,3) for trajectory models, camera_to_world (P,3,3) and
world_translation (P,T,3) with --world; plus track_ids, first_frame, last_frame (P,), fps, width, height,
joint_names, parents and metadata (the JSON header as a string).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..detectors.tracking import OKS_KAPPA
from .export import atomic_write, describe, frame_records, joints3d_for_export, npz_header, save_npz

SCHEMA = "vp3d.joints/2"


def describe_people(people, worlds=None) -> dict:
    """The header of a PeopleResult (vp3d.pipeline.people); worlds: one WorldPoses per person, or None."""
    worlds = worlds or [None] * len(people.people)
    head = describe(people.people[0].result, worlds[0])
    head["schema"] = SCHEMA
    head["joints3d"].pop("world", None)  # per person: each body gives its own estimate
    head["video"]["frame_count"] = people.num_frames
    any_detected = np.zeros(people.num_frames, bool)
    for p in people.people:
        any_detected[p.first_frame:p.last_frame + 1] |= p.result.keypoints.detected
    head["detector"]["frames_detected"] = int(any_detected.sum())
    head["tracking"] = {
        "people": "all" if people.count is None else people.count,
        "tracks_found": people.tracks_found,
        "method": f"box IoU + keypoint similarity (OKS-like, kappa {OKS_KAPPA}), Hungarian assignment, "
                  f"constant-velocity prediction; tracks unseen for more than 0.5 s end",
        "outside_track": "omitted (JSON) / NaN (NPZ): a person exists only from first_frame to last_frame",
    }
    return head


def _person_block(p, world) -> dict:
    return {"track_id": p.track_id, "first_frame": p.first_frame, "last_frame": p.last_frame,
            "frames_detected": int(p.result.keypoints.detected.sum()),
            **({} if world is None else {"world": world.describe()})}


def write_people_json(path: str | os.PathLike, people, worlds=None) -> Path:
    worlds = worlds or [None] * len(people.people)
    doc = {**describe_people(people, worlds),
           "people": [{**_person_block(p, w), "frames": list(frame_records(p.result, w, p.first_frame))}
                      for p, w in zip(people.people, worlds)]}

    def write(tmp):
        with open(tmp, "w") as f:
            json.dump(doc, f, separators=(",", ":"))
    return atomic_write(path, write)


def _stack(people, values, shape_tail, dtype=np.float32, fill=np.nan) -> np.ndarray:
    """(P, T, *shape_tail): each person's span values placed on the video's frames, `fill` elsewhere."""
    out = np.full((len(people.people), people.num_frames, *shape_tail), fill, dtype)
    for k, (p, v) in enumerate(zip(people.people, values)):
        out[k, p.first_frame:p.last_frame + 1] = v
    return out


def write_people_npz(path: str | os.PathLike, people, worlds=None) -> Path:
    worlds = worlds or [None] * len(people.people)
    ps = people.people
    j = ps[0].result.keypoints.num_joints
    arrays = {
        "track_ids": np.array([p.track_id for p in ps], np.int32),  # (P,)
        "first_frame": np.array([p.first_frame for p in ps], np.int32),  # (P,)
        "last_frame": np.array([p.last_frame for p in ps], np.int32),  # (P,) inclusive
        "keypoints2d": _stack(people, [p.result.keypoints.xy for p in ps], (j, 2)),  # (P, T, J, 2) pixels
        "scores2d": _stack(people, [p.result.keypoints.score for p in ps], (j,), fill=0.0),  # (P, T, J)
        "detected": _stack(people, [p.result.keypoints.detected for p in ps], (), bool, False),  # (P, T)
        "in_track": _stack(people, [True] * len(ps), (), bool, False),  # (P, T)
        # (P, T, 17, 3) metres: camera frame, root-relative; or each person's world frame
        "joints3d": _stack(people, [joints3d_for_export(p.result, w) for p, w in zip(ps, worlds)], (17, 3)),
        **npz_header(people.video, describe_people(people, worlds)),
    }
    if ps[0].result.trajectory is not None:
        arrays["root_camera"] = _stack(people, [p.result.trajectory for p in ps], (3,))  # (P, T, 3) metres
    if worlds[0] is not None:  # world = camera_to_world[p] @ camera + world_translation[p, t]
        arrays["camera_to_world"] = np.stack([w.rotation for w in worlds]).astype(np.float64)  # (P, 3, 3)
        arrays["world_translation"] = _stack(people, [w.translation for w in worlds], (3,))  # (P, T, 3)
    return save_npz(path, arrays)
