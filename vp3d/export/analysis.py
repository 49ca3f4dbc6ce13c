"""Products for looking at the motion, written beside the joints files: joint angles per frame
(`--angles clip.csv`, with its summary in clip.summary.json) and the viewer page (`--html clip.html`)."""

from __future__ import annotations

import os
from pathlib import Path

from ..angles import joint_angles, write_angles_csv, write_summary_json
from .joints import write_json


def summary_path(angles_csv: str | os.PathLike) -> Path:
    """clip.csv -> clip.summary.json: where the angles' min / max / range / mean go."""
    path = Path(angles_csv)
    return path.with_name(path.stem + ".summary.json")


def write_angles(path: str | os.PathLike, people, world) -> tuple[Path, Path]:
    """The angles of the one person of `people` (world: its WorldPoses, so trunk lean is defined) as CSV,
    and their summary as JSON; returns both paths."""
    result = people.people[0].result
    angles = joint_angles(world.positions, result.keypoints.detected, "world")
    video, first = result.video, people.people[0].start
    # a variable rate: each frame's own time (as in the joints files); a constant one: frame / fps
    times = video.times(first, len(result.keypoints.detected)) if video.variable_frame_rate else None
    csv = write_angles_csv(path, angles, video.fps, result.keypoints.detected, first, times)
    try:
        return csv, write_summary_json(summary_path(path), angles, video.fps, video.variable_frame_rate)
    except BaseException:
        csv.unlink(missing_ok=True)
        raise


def write_viewer(path: str | os.PathLike, people, json_path: Path | None, video: Path | None, worlds=None) -> Path:
    """The one-file 3D viewer of `people` (vp3d.viewer.build_html) linking `video`. It reads a joints JSON:
    `json_path` when one was written, else a temporary one written here and removed after."""
    from ..viewer import build_html
    out = Path(path)
    if json_path is not None:
        return build_html(json_path, out, video=video or False)
    temporary = out.with_name(f".{out.stem}.{os.getpid()}.joints.json")
    try:
        write_json(temporary, people, worlds)
        return build_html(temporary, out, video=video or False)
    finally:
        temporary.unlink(missing_ok=True)
