"""One video in, every requested output file out: the unit of work of `vp3d-infer` and of batch mode, for
the one untracked person or tracked people (`people`).

    outputs = Outputs(video=Path("r.mp4"), json=Path("r.json"))
    summary = process_video(Path("in.mp4"), outputs, InferenceOptions())
    summary = process_video(Path("in.mp4"), outputs, InferenceOptions(detector="rtmpose"), people="all")

The renderer is opened before detection and fed while it runs when it can (vp3d.pipeline.overlap), else
after it; then the joints files are written (vp3d.export). Each file is written under a temporary name
and renamed, so an error or an interruption leaves no partial outputs; `summary` is a plain dict (frames,
fps, written paths) for reports and --json.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Callable, Iterator

from ..cores import CoreSplit
from ..detectors.factory import ONE_CORE_BACKENDS
from ..errors import UserError
from ..render.video import SideBySideRender
from ..video import DEFAULT_CRF, DEFAULT_PRESET, VideoInfo, probe
from .infer import InferenceOptions, detector_from_options
from .overlap import can_overlap, live_geometry_frames
from .people import PeopleChoice, PeopleResult
from .run import run_video


class OutputError(UserError):
    """An output path cannot be written (one-line message naming it)."""


@dataclass
class Outputs:
    """Where to write each product of one video; None = not wanted."""
    video: Path | None = None  # side-by-side H.264 MP4
    json: Path | None = None  # vp3d.joints/1 JSON
    npz: Path | None = None  # same content as NPZ
    npz_2d: Path | None = None  # reference release's custom 2D dataset NPZ
    csv: Path | None = None  # one row per frame: 3D joints (metres) and 2D keypoints (pixels)
    bvh: Path | None = None  # BVH animation (always in the world frame: it needs an up axis and a floor)
    angles: Path | None = None  # joint angles per frame, CSV (world frame), and <stem>.summary.json beside it
    html: Path | None = None  # the one-file 3D viewer, linking the rendered video (or the input)
    world: bool = False  # JSON/NPZ/CSV joints in the gravity-aligned world frame (vp3d.world)
    up: str = "y"  # world up axis, "y" or "z" (BVH, and the other exports with world=True)
    crf: int = DEFAULT_CRF  # the video's x264 quality (0 lossless ... 51)
    preset: str = DEFAULT_PRESET  # the video's x264 speed/size trade-off

    def named_paths(self) -> list[tuple[str, Path]]:
        """(kind, path) of every output asked for, kind being the field's name ("video", "json", ...)."""
        return [(f.name, getattr(self, f.name)) for f in fields(self) if isinstance(getattr(self, f.name), Path)]

    def paths(self) -> list[Path]:
        return [p for _, p in self.named_paths()]

    @classmethod
    def named_after(cls, video: Path, out_dir: Path, kinds: list[str], **options) -> "Outputs":
        """Outputs for `video` inside `out_dir`, named after it: clip.mp4 -> clip.json, clip.npz, ...
        (the rendered video is clip.vp3d.mp4, so it never overwrites an input in the same folder).
        options: the other fields (world=, up=, crf=, preset=)."""
        suffix = {"video": ".vp3d.mp4", "json": ".json", "npz": ".npz", "npz_2d": ".2d.npz", "csv": ".csv",
                  "bvh": ".bvh", "angles": ".angles.csv", "html": ".html"}
        unknown = set(kinds) - set(suffix)
        if unknown:
            raise ValueError(f"unknown output kinds {sorted(unknown)}")
        return cls(**{k: out_dir / f"{video.stem}{suffix[k]}" for k in kinds}, **options)


def prove_writable(folder: Path) -> None:
    """Create `folder` and write/remove a probe file in it; raises OSError if that fails."""
    folder.mkdir(parents=True, exist_ok=True)
    probe = folder / f".vp3d-write-test-{os.getpid()}"
    probe.touch()
    probe.unlink()


def ensure_writable(path: Path) -> None:
    """Create the output's folder and prove it is writable before spending minutes on detection."""
    try:
        prove_writable(path.parent if str(path.parent) else Path("."))
    except OSError as e:
        raise OutputError(f"{path}: cannot write output here ({e.strerror or e})") from None


@contextmanager
def all_or_nothing() -> Iterator[dict[str, str]]:
    """Collect {kind: path} of the files written inside the block; if the block fails, delete them, so one
    video never ends with some of its outputs from this run and others missing (e.g. the JSON written,
    then the render interrupted)."""
    written: dict[str, str] = {}
    try:
        yield written
    except BaseException:
        for path in written.values():
            Path(path).unlink(missing_ok=True)
        raise


def write_outputs(people: PeopleResult, outputs: Outputs, render_progress: Callable[[int], None] | None = None,
                  render: SideBySideRender | None = None) -> dict[str, str]:
    """Write every requested file of one video's people, all or none; returns {kind: path}. `render`: the
    renderer of outputs.video already fed while detecting (vp3d.pipeline.overlap), completed here; without
    it the video is drawn here, after detection. The video is removed too if another file fails."""
    from ..export import joints as export
    worlds = None
    if outputs.world or outputs.bvh or outputs.angles:
        from ..world import to_world
        worlds = [to_world(p.result.poses3d, p.result.trajectory, outputs.up) for p in people.people]
    frames = worlds if outputs.world else None  # None: the camera frame
    with all_or_nothing() as written:
        if outputs.video:  # first: the long step, the one most likely to fail or be interrupted
            render = render or SideBySideRender(people.video.path, outputs.video, people.video,
                                                progress=render_progress, crf=outputs.crf, preset=outputs.preset)
            written["video"] = str(render.complete(people.figures(), people.num_frames).path)
        if outputs.json:
            written["json"] = str(export.write_json(outputs.json, people, frames))
        if outputs.npz:
            written["npz"] = str(export.write_npz(outputs.npz, people, frames))
        if outputs.csv:
            written["csv"] = str(export.write_csv(outputs.csv, people, frames))
        if outputs.bvh:
            from ..export.bvh import write_bvh
            written["bvh"] = str(write_bvh(outputs.bvh, worlds[0].positions, people.video.fps, outputs.up))
        if outputs.npz_2d:
            written["npz_2d"] = str(export.write_custom_2d_npz(outputs.npz_2d, people))
        if outputs.angles:
            from ..export.analysis import write_angles
            csv, summary = write_angles(outputs.angles, people, worlds[0])
            written["angles"], written["angles_summary"] = str(csv), str(summary)
        if outputs.html:
            from ..export.analysis import write_viewer
            video = outputs.video or people.video.path
            written["html"] = str(write_viewer(outputs.html, people, outputs.json, video, frames))
    return written


def process_video(path: Path, outputs: Outputs, options: InferenceOptions,
                  detect_progress: Callable[[int], None] | None = None,
                  render_progress: Callable[[int], None] | None = None,
                  lifter=None, checkpoint_path: Path | None = None, detector=None,
                  info: VideoInfo | None = None, people: str | None = None, cores: CoreSplit | None = None) -> dict:
    """Detect, lift and write `outputs` for one video; returns a summary dict (`info`: the video's
    probe, when the caller has it).

    people: None, the highest-scoring person of each frame, untracked; or track everyone and keep "all",
        "largest" or a number of them (tracking.parse_people): "largest" (1) writes the single-person files
        of the largest track, more people `vp3d.joints/2` JSON/NPZ and a video with each in its own colour;
        the summary then lists them under "people" (track ids and spans).
    Raises the pipeline's one-line errors (VideoError, NoPersonError, CheckpointError, OutputError; for
    `people`, OutputError for an export that holds one person only). A damaged stream (vp3d.video.integrity)
    is the summary's "decode_warning" ({frames_read, frames_claimed, ffmpeg}), or with options.strict a
    VideoError before anything is written.
    `lifter` (with its `checkpoint_path`) and `detector` let a caller that processes many videos load
    its models once. cores: the split of the machine's CPUs (vp3d.cores) when this is the only video the
    process works on (`vp3d-infer`), used for a one-core detector built here; None: no pinning.
    """
    choice = PeopleChoice.parse(people)
    if choice.tracked:
        check_people_outputs(people, [k for k in ("csv", "bvh", "npz_2d") if getattr(outputs, k)])
    prepare_outputs(outputs, path)
    t0 = time.time()
    info = info or probe(path)
    own_detector = detector is None
    # A core of the detector's own (vp3d.cores) for a one-core detector built here, so that its threads start there.
    split = cores if own_detector and options.detector in ONE_CORE_BACKENDS else None
    others = split.others if split else None
    render = None  # the renderer fed while detecting, when that can be (see overlap.can_overlap)
    try:
        with split.detector_core() if split else nullcontext():
            detector = detector or detector_from_options(options)
            try:
                if outputs.video and can_overlap(detector, options, choice):
                    render = SideBySideRender(path, outputs.video, info, geometry_frames=live_geometry_frames(info),
                                              progress=render_progress, crf=outputs.crf, preset=outputs.preset,
                                              cpus=others, encoder_threads=len(split.everything) if split else None)
                found = run_video(path, options, choice, lifter=lifter, checkpoint_path=checkpoint_path,
                                  detector=detector, progress=detect_progress, render=render, info=info,
                                  decode_cpus=others)
            finally:
                if own_detector:
                    detector.close()
        written = write_outputs(found, outputs, render_progress, render)
    except BaseException:
        if render is not None:
            render.abort()
        raise
    tracks = [{"track_id": p.track_id, "first_frame": p.first_frame, "last_frame": p.last_frame,
               "frames_detected": int(p.result.keypoints.detected.sum())} for p in found.people]
    damaged = {"decode_warning": info.decode_warning.as_json()} if info.decode_warning else {}
    return summarize(path, found.num_frames, int(found.detected().sum()), info.fps, t0, written,
                     **({"people": tracks} if choice.tracked else {}), **damaged)


def check_people_outputs(people: str, kinds: list[str]) -> int:
    """The number of people `people` asks for (0 = all); OutputError (one line) when an output kind that
    holds one person (csv, bvh, npz_2d, angles) is asked for several."""
    from ..detectors.tracking import parse_people
    count = parse_people(people)  # ValueError for a bad value: the CLI checks it while parsing
    single_only = [f"--{k.replace('_', '-')}" for k in ("csv", "bvh", "npz_2d", "angles") if k in kinds]
    if count != 1 and single_only:
        raise OutputError(f"{', '.join(single_only)} hold(s) one person; use --people largest, or --json/--npz "
                          f"for several people")
    return count


# Containers ffmpeg writes H.264 into without complaint and players open; others (or no extension) would fail
# only at the end, after the work.
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv")


def prepare_outputs(outputs: Outputs, source: Path | None = None) -> None:
    """OutputError (one line) before any work when nothing is asked for, a path cannot be written, is a
    folder, names two outputs or the input video `source` (renaming the result onto it would destroy it),
    or the rendered video has no video file extension."""
    if not outputs.paths():
        raise OutputError("nothing to write: ask for a video, JSON, NPZ or another export")
    seen: dict[Path, str] = {}
    for kind, p in outputs.named_paths():
        if p.is_dir():
            raise OutputError(f"{p}: is a folder; give a file name for the {kind} output")
        if source is not None and _same_file(p, source):
            raise OutputError(f"{p}: is the input video; give the {kind} output another name")
        key = p.resolve()
        if key in seen:
            raise OutputError(f"{p}: named for two outputs ({seen[key]} and {kind})")
        seen[key] = kind
    if outputs.video is not None and outputs.video.suffix.lower() not in VIDEO_SUFFIXES:
        raise OutputError(f"{outputs.video}: the rendered video needs a {' / '.join(VIDEO_SUFFIXES)} name")
    for p in outputs.paths():
        ensure_writable(p)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def summarize(path: Path, frames: int, frames_detected: int, fps_video: float, started: float,
              written: dict[str, str], **extra) -> dict:
    """The summary dict of one processed video (printed by --json, collected by batch mode)."""
    elapsed = time.time() - started
    return {"input": str(path), "frames": frames, "frames_detected": frames_detected, "fps_video": fps_video,
            "seconds": round(elapsed, 2), "frames_per_second": round(frames / max(elapsed, 1e-9), 2), **extra,
            "outputs": written}
