"""Per-frame joints of a video's people to JSON, NPZ and CSV (schemas `vp3d.joints/1` and `/2`, documented in
README.md). Every writer takes the people of one video (a PeopleResult of vp3d.pipeline.people) and, for
the world frame, one WorldPoses per person.

3D joints are in metres, Human3.6M 17-joint order, in the camera frame (x right, y down, z forward)
and root-relative (the hip joint is the origin) -- or, when a `WorldPoses` (vp3d.world) is
passed, in its gravity-aligned world frame with the floor at 0; `joints3d.frame` says which.
2D keypoints are in pixels of the upright video.
Files are written to a temporary name and renamed, so a failure leaves no partial file.

One person (the default untracked one, or `--people largest`): schema `vp3d.joints/1`, its frames over the
whole video. Several tracked people (`--people all` / N): schema `vp3d.joints/2`, which is `vp3d.joints/1`
with the per-frame list moved into one entry per tracked person: the header blocks (video, camera,
detector, lifter, joints3d) are the same, "frames" is replaced by "people": [{"track_id", "first_frame",
"last_frame", "frames_detected", "frames": [...]}], where each person's frames are `vp3d.joints/1` frame
objects for video frames first_frame .. last_frame only ("index" is the video frame). A "tracking" block
says how people were chosen. With --world each person gets its own "world" block (the world frame is
estimated from each body). CSV and the custom 2D NPZ hold one person only.

The `/2` NPZ holds the `vp3d.joints/1` arrays with a leading person axis P over all T video frames, NaN (and
detected False) outside each person's span: keypoints2d (P,T,J,2), scores2d (P,T,J), detected (P,T),
in_track (P,T), joints3d (P,T,17,3), root_camera (P,T,3) for trajectory models, camera_to_world (P,3,3) and
world_translation (P,T,3) with --world; plus track_ids, first_frame, last_frame (P,), fps, width, height,
joint_names, parents and metadata (the JSON header as a string).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterator

import numpy as np

from ..skeleton import H36M, get_layout

SCHEMA = "vp3d.joints/1"
SCHEMA_PEOPLE = "vp3d.joints/2"
COORDINATES_3D = ("camera frame: x right, y down, z forward (away from the camera), metres; "
                  "root-relative: joint 0 (hip) is the origin of every frame")


def atomic_write(path: str | os.PathLike, write) -> Path:
    """Call write(tmp_path), then rename tmp_path to path (same directory, so the rename is atomic)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.partial{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def joints3d_for_export(result, world=None) -> np.ndarray:
    """(T, 17, 3) metres: the world-frame joints when `world` (WorldPoses) is given, else the camera frame."""
    return result.poses3d if world is None else world.positions


def describe(people, worlds=None) -> dict:
    """Everything but the per-frame arrays, as stored in both JSON and NPZ.

    `worlds`: the WorldPoses each person's 3D joints were exported in, or None for the camera frame."""
    worlds = worlds or [None] * len(people.people)
    result, world = people.people[0].result, worlds[0]
    video, kp, lift = result.video, result.keypoints, result.lifter
    layout2d = get_layout(kp.layout)
    head = {
        "schema": SCHEMA,
        "video": {"path": str(video.path), "width": video.width, "height": video.height, "fps": video.fps,
                  "frame_count": int(len(kp.xy)), "rotation": video.rotation,
                  "variable_frame_rate": video.variable_frame_rate,
                  **({"decode_warning": video.decode_warning.as_json()} if video.decode_warning else {})},
        "camera": {"focal_length_px": result.focal_px, "principal_point_px": [video.width / 2, video.height / 2],
                   "source": result.focal_source},
        "detector": {"name": result.detector_name, "layout": layout2d.name,
                     "joint_names": list(layout2d.joint_names), "units": "pixels",
                     "frames_detected": int(kp.detected.sum())},
        "lifter": {"checkpoint": str(result.checkpoint), "receptive_field": lift.receptive_field,
                   "causal": lift.causal, "channels": lift.channels, "trained_fps": lift.fps,
                   "input_layout": lift.input_layout, "flip_augmentation": result.flip,
                   "output_smoothing_frames": result.smoothing,
                   "moved_toward_the_2d": result.image_plane_weight,
                   "moved_toward_usual_bone_lengths": result.bone_rays_weight},
        "joints3d": {"layout": H36M.name, "joint_names": list(H36M.joint_names), "parents": list(H36M.parents),
                     "units": "metres", "frame": "camera" if world is None else "world",
                     "coordinates": COORDINATES_3D if world is None else world.coordinates(),
                     "root_trajectory": result.trajectory is not None, "rigid_bones": result.rigid_bones,
                     **({"root_source": result.root_source} if result.root_source else {}),
                     **({} if world is None else {"world": world.describe()})},
    }
    if not people.choice.several:
        return head
    from ..detectors.tracking import OKS_KAPPA  # not at the top: tracking imports scipy, single-person runs do not
    head["schema"] = SCHEMA_PEOPLE
    head["joints3d"].pop("world", None)  # per person: each body gives its own estimate
    head["video"]["frame_count"] = people.num_frames
    head["detector"]["frames_detected"] = int(people.detected().sum())
    head["tracking"] = {
        "people": "all" if people.choice.count is None else people.choice.count,
        "tracks_found": people.tracks_found,
        "method": f"box IoU + keypoint similarity (OKS-like, kappa {OKS_KAPPA}), Hungarian assignment, "
                  f"constant-velocity prediction; tracks unseen for more than 0.5 s end",
        "outside_track": "omitted (JSON) / NaN (NPZ): a person exists only from first_frame to last_frame",
    }
    return head


def _one(people, worlds):
    """The one person of a single-person file, and its world frame (None: camera)."""
    if people.choice.several:
        raise ValueError("this export holds one person; several tracked people go to JSON or NPZ")
    return people.people[0], (worlds or [None])[0]


def frame_records(result, world=None, first_frame: int = 0) -> Iterator[dict]:
    """The per-frame JSON objects of `result`, one at a time; its frame i is video frame first_frame + i
    (a track's span)."""
    kp = result.keypoints
    joints3d = joints3d_for_export(result, world)
    times = result.video.times(first_frame, len(kp.xy))
    for i in range(len(kp.xy)):
        yield {
            "index": first_frame + i,
            "time_s": round(float(times[i]), 6),
            "detected": bool(kp.detected[i]),
            "keypoints2d": np.round(np.concatenate([kp.xy[i], kp.score[i, :, None]], 1), 3).tolist(),
            "joints3d": np.round(joints3d[i], 5).tolist(),
            "root_camera": None if result.trajectory is None else np.round(result.trajectory[i], 5).tolist(),
        }


def write_json(path: str | os.PathLike, people, worlds=None) -> Path:
    """The vp3d.joints/1 document of one person, or /2 of several, its frames written one by one: as one
    Python object tree an hour of video would take ~0.6 GB at the end of the run (~7 KB per frame). The
    bytes are json.dump's."""
    worlds = worlds or [None] * len(people.people)
    head = json.dumps(describe(people, worlds), separators=(",", ":"))

    def write_frames(f, p, world) -> None:
        for i, record in enumerate(frame_records(p.result, world, p.start)):
            f.write(("," if i else "") + json.dumps(record, separators=(",", ":")))

    def write(tmp):
        with open(tmp, "w") as f:
            if not people.choice.several:
                f.write(head[:-1] + ',"frames":[')
                write_frames(f, people.people[0], worlds[0])
                f.write("]}")
                return
            f.write(head[:-1] + ',"people":[')
            for k, (p, world) in enumerate(zip(people.people, worlds)):
                block = json.dumps(_person_block(p, world), separators=(",", ":"))
                f.write(("," if k else "") + block[:-1] + ',"frames":[')
                write_frames(f, p, world)
                f.write("]}")
            f.write("]}")
    return atomic_write(path, write)


def npz_header(video, metadata: dict) -> dict[str, np.ndarray]:
    """The NPZ fields every joints file has (vp3d.joints/1 and /2): the video's rate and size, the 3D
    joints' names and parents, and the JSON document's metadata as a string."""
    return {"fps": np.float64(video.fps), "width": np.int32(video.width), "height": np.int32(video.height),
            "joint_names": np.array(H36M.joint_names), "parents": np.array(H36M.parents, dtype=np.int32),
            "metadata": np.array(json.dumps(metadata))}


def write_npz(path: str | os.PathLike, people, worlds=None) -> Path:
    """The arrays of vp3d.joints/1 over the video's T frames for one person; with a leading person axis P
    (NaN outside each person's span) and the tracks' ids and spans for several (vp3d.joints/2)."""
    worlds = worlds or [None] * len(people.people)
    several, ps = people.choice.several, people.people

    def on_frames(values, tail, dtype=np.float32, fill=np.nan) -> np.ndarray:
        """(P, T, *tail) for several people, each one's values placed on its frames; (T, *tail) for one."""
        out = np.full((len(ps), people.num_frames, *tail), fill, dtype)
        for k, (p, v) in enumerate(zip(ps, values)):
            out[k, p.start:p.start + len(p.result.keypoints.xy)] = v
        return out if several else out[0]

    j = ps[0].result.keypoints.num_joints
    arrays = {}
    if several:
        arrays["track_ids"] = np.array([p.track_id for p in ps], np.int32)  # (P,)
        arrays["first_frame"] = np.array([p.first_frame for p in ps], np.int32)  # (P,)
        arrays["last_frame"] = np.array([p.last_frame for p in ps], np.int32)  # (P,) inclusive
    arrays["keypoints2d"] = on_frames([p.result.keypoints.xy for p in ps], (j, 2))  # ([P,] T, J, 2) pixels
    arrays["scores2d"] = on_frames([p.result.keypoints.score for p in ps], (j,), fill=0.0)  # ([P,] T, J)
    arrays["detected"] = on_frames([p.result.keypoints.detected for p in ps], (), bool, False)  # ([P,] T)
    if several:
        arrays["in_track"] = on_frames([True] * len(ps), (), bool, False)  # (P, T)
    # ([P,] T, 17, 3) metres: camera frame, root-relative; or each person's world frame (metadata joints3d.frame)
    arrays["joints3d"] = on_frames([joints3d_for_export(p.result, w) for p, w in zip(ps, worlds)], (17, 3))
    arrays.update(npz_header(people.video, describe(people, worlds)))
    arrays["time_s"] = people.video.times(0, people.num_frames)  # (T,) seconds of each video frame
    if ps[0].result.trajectory is not None:
        arrays["root_camera"] = on_frames([p.result.trajectory for p in ps], (3,))  # ([P,] T, 3) metres
    if worlds[0] is not None:  # world = camera_to_world[p] @ camera + world_translation[p, t]
        rotations = np.stack([w.rotation for w in worlds]).astype(np.float64)
        arrays["camera_to_world"] = rotations if several else rotations[0]  # ([P,] 3, 3)
        arrays["world_translation"] = on_frames([w.translation for w in worlds], (3,))  # ([P,] T, 3) metres
    return save_npz(path, arrays)


def save_npz(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> Path:
    """Compressed NPZ, written atomically."""
    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)
    return atomic_write(path, write)


def csv_columns(result, world=None) -> list[str]:
    """Column names of `write_csv` for one person's InferenceResult, in order."""
    layout2d = get_layout(result.keypoints.layout)
    cols = ["frame", "time_s", "detected"]
    cols += [f"{name}_{axis}" for name in H36M.joint_names for axis in "xyz"]
    if world is None and result.trajectory is not None:
        cols += [f"root_camera_{axis}" for axis in "xyz"]
    cols += [f"{name}_{part}" for name in layout2d.joint_names for part in ("x_px", "y_px", "score")]
    return cols


def write_csv(path: str | os.PathLike, people, worlds=None) -> Path:
    """The one person's table (ValueError for several people), one row per frame: frame, time_s, detected
    (1/0), then <joint>_x/_y/_z in metres (Human3.6M order), root_camera_x/_y/_z (trajectory models, camera
    frame only), then the 2D keypoints <joint>_x_px, <joint>_y_px (pixels) and <joint>_score in the lifter's
    2D layout. A first `#` line states the frame
    and units (read with e.g. pandas.read_csv(path, comment="#"))."""
    person, world = _one(people, worlds)
    result = person.result
    kp = result.keypoints
    T = len(kp.xy)
    frame_text = COORDINATES_3D if world is None else world.coordinates()
    header = (f"# {SCHEMA} CSV; 3D joints <name>_x/_y/_z: {frame_text}; 2D keypoints <name>_x_px/_y_px: "
              f"pixels of the upright video ({kp.layout} layout), <name>_score in [0, 1]; "
              f"detected=0: no person found, keypoints interpolated; fps {result.video.fps:g}")
    parts = [np.arange(T)[:, None], result.video.times(0, T)[:, None], kp.detected[:, None],
             joints3d_for_export(result, world).reshape(T, -1)]
    formats = ["%d", "%.6f", "%d"] + ["%.5f"] * (3 * H36M.num_joints)
    if world is None and result.trajectory is not None:
        parts.append(result.trajectory)
        formats += ["%.5f"] * 3
    parts.append(np.concatenate([kp.xy, kp.score[..., None]], axis=-1).reshape(T, -1))
    formats += ["%.2f", "%.2f", "%.3f"] * kp.xy.shape[1]
    table = np.concatenate([np.asarray(p, dtype=np.float64) for p in parts], axis=1)

    def write(tmp):
        with open(tmp, "w", newline="") as f:
            f.write(header + "\n" + ",".join(csv_columns(result, world)) + "\n")
            np.savetxt(f, table, fmt=formats, delimiter=",")
    return atomic_write(path, write)


def write_custom_2d_npz(path: str | os.PathLike, people) -> Path:
    """The one person's 2D (ValueError for several people) in the reference release's custom 2D dataset
    format (positions_2d / metadata), readable by its tooling (`run.py -d custom -k <name>`)."""
    from ..detectors.custom_2d_npz import save_custom_2d_npz
    result = _one(people, None)[0].result
    kp = result.keypoints
    name = Path(result.video.path).name

    def write(tmp):
        save_custom_2d_npz(tmp, name, kp.xy, result.video.width, result.video.height, kp.layout)
    return atomic_write(path, write)


def _person_block(p, world) -> dict:
    return {"track_id": p.track_id, "first_frame": p.first_frame, "last_frame": p.last_frame,
            "frames_detected": int(p.result.keypoints.detected.sum()),
            **({} if world is None else {"world": world.describe()})}
