"""Batch mode: every video of a folder through `process_video`, in worker processes, resumable.

    report = run_batch(Path("videos"), Path("out"), ["video", "json", "npz"], InferenceOptions(), jobs=2)
    report.exit_code     # 0: nothing failed; 1: some video failed; 130: interrupted
    report.summary       # what OUT_DIR/summary.json holds (schema vp3d.batch/1)

Which files: the folder's regular files (sub-folders too with recursive=True); hidden files and folders,
OUT_DIR itself and our rendered videos (*.vp3d.mp4) are left out. A file with a video extension is a
video; a file with an obviously non-video extension (text, images, data, audio, our own outputs) is passed
over without opening it; anything else is probed and kept only if it decodes. The videos to do are probed
(vp3d.video.probe, a few threads) before any worker starts: those that fail are reported as failed
at once, the others' frame counts feed the progress display and the longest-first order.

Outputs of IN_DIR/sub/clip.mp4 go to OUT_DIR/sub/ (with --recursive the sub-folders are kept), named
after the input by `Outputs.named_after` (clip.vp3d.mp4, clip.json, clip.npz, ...). Inputs that would
share names (clip.mp4 and clip.mov in one folder, or summary.mp4 next to summary.json) are named after
their whole file name instead (clip_mp4.json, clip_mov.json).

Finished: after all of a video's outputs, its worker writes a done-marker, OUT_DIR/sub/.clip.vp3d-done.json
(atomically: temporary name, then rename), holding the video's summary, the formats and options used and
the input's size and mtime. A later run skips a video whose marker still matches (same input file, same
options, the formats asked for covered, outputs present) and redoes everything else. A video is started by
deleting its marker and the temporary files (.NAME.partial...) a killed run may have left, so neither a
half-written file nor a stale marker ever counts as finished.

Parallel: `jobs` worker processes, each loading its models once; a failing video is a row with its
one-line reason and the others go on; a crashed worker is replaced and its video retried once, alone
(workers.py). Ctrl-C or SIGTERM stops the workers cleanly and still writes summary.json.
Progress and the final table: display.py.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path

from ..errors import UserError
from .display import BatchProgress
from .ray_pool import RaySettings
from .workers import (MARKER_SCHEMA, STATUSES, Event, Job, Task, make_row, one_line,
                            reason_of, schedule)
from ..export.joints import atomic_write
from ..pipeline.infer import InferenceOptions, detector_from_options, load_lifter
from ..lifter.weights import default_checkpoint
from ..pipeline.job import OutputError, Outputs, check_people_outputs, prove_writable
from ..video import probe

SUMMARY_NAME = "summary.json"
SUMMARY_SCHEMA = "vp3d.batch/1"
MARKER_SUFFIX = ".vp3d-done.json"
DEFAULT_FORMATS = ("video", "json", "npz")
EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130

VIDEO_EXTENSIONS = frozenset(
    ".mp4 .m4v .mov .qt .mkv .webm .avi .wmv .asf .flv .f4v .mpg .mpeg .mpe .m2v .ts .mts .m2ts .3gp .3g2 "
    ".ogv .mxf .vob .dv .y4m .h264 .264 .hevc .265 .lrv".split())
# Passed over without running FFmpeg: never what someone means by "a video" (FFmpeg would happily decode
# a JPEG as a one-frame video), and our own outputs are among them.
NOT_VIDEO_EXTENSIONS = frozenset(
    ".txt .md .rst .json .jsonl .csv .tsv .xml .yaml .yml .html .pdf .log .ini .cfg .toml .npz .npy .pkl .pt "
    ".pth .bin .bvh .c3d .fbx .zip .tar .gz .bz2 .xz .7z .jpg .jpeg .png .bmp .tif .tiff .webp .heic .dng "
    ".cr2 .nef .thm .srt .vtt .ass .wav .mp3 .aac .flac .ogg .opus .m4a .wma .py .sh .exe .so .dll .db .sqlite "
    ".lock .tmp .part .partial".split())
RENDER_SUFFIX = ".vp3d.mp4"  # Outputs.named_after's name for the rendered video


class BatchError(UserError):
    """The batch as a whole cannot run (missing input folder, unwritable output folder, bad formats)."""


# ---------------------------------------------------------------------------------------------- planning

def output_kinds() -> list[str]:
    """Every kind of output file Outputs knows (its path fields), in its order: video, json, npz, ..."""
    return [f.name for f in fields(Outputs) if "Path" in str(f.type)]


def parse_formats(text: str, no_render: bool = False, npz_2d: bool = False) -> list[str]:
    """'video,json,npz' plus the --no-render / --npz-2d shortcuts -> Outputs kinds, in Outputs' field order.

    Any path field of Outputs is a valid kind (exports added to Outputs are available here without change).
    """
    known = output_kinds()
    wanted = {k.strip().lower().replace("-", "_") for k in text.split(",") if k.strip()}
    if no_render:
        wanted.discard("video")
    if npz_2d:
        wanted.add("npz_2d")
    unknown = wanted - set(known)
    if unknown:
        raise BatchError(f"unknown output format {', '.join(sorted(unknown))} (choose from {', '.join(known)})")
    if not wanted:
        raise BatchError("no output format left to write: give --formats (e.g. json,npz)")
    kinds = [k for k in known if k in wanted]
    try:
        Outputs.named_after(Path("x.mp4"), Path("."), kinds)
    except ValueError as e:
        raise BatchError(f"output formats: {e}") from None
    return kinds


def find_inputs(in_dir: Path, out_dir: Path, recursive: bool) -> tuple[list[Path], list[dict]]:
    """The candidate videos under in_dir (sorted by path) and the probed files that are not videos
    ({"input": relative path, "reason": one line})."""
    skip_dir = out_dir.resolve()
    videos: list[Path] = []
    not_videos: list[dict] = []
    for folder, dirs, files in os.walk(in_dir):  # os.walk does not follow folder symlinks: no loops
        folder = Path(folder)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and (folder / d).resolve() != skip_dir) \
            if recursive else []
        for name in sorted(files):
            path = folder / name
            ext = path.suffix.lower()
            if name.startswith(".") or name.endswith(RENDER_SUFFIX) or ext in NOT_VIDEO_EXTENSIONS:
                continue
            if not path.is_file():  # a socket, a fifo, a dangling link
                continue
            if ext not in VIDEO_EXTENSIONS:
                try:
                    probe(path)
                except Exception as e:  # noqa: BLE001 - whatever the reason, it is not a video we can read
                    reason = one_line(e).removeprefix(f"{path}: ")
                    not_videos.append({"input": path.relative_to(in_dir).as_posix(), "reason": reason})
                    continue
            videos.append(path)
    return videos, not_videos


def _output_stems(rels: list[Path]) -> dict[Path, str]:
    """The name stem of each input's outputs: its own stem, or its whole name with dots made underscores
    where two inputs of one folder share a stem (or an input would write over summary.json)."""
    groups: dict[tuple[Path, str], list[Path]] = defaultdict(list)
    for rel in rels:
        groups[(rel.parent, rel.stem)].append(rel)
    stems = {}
    for (parent, stem), group in groups.items():
        clash = len(group) > 1 or (parent == Path(".") and stem == Path(SUMMARY_NAME).stem)
        for rel in group:
            stems[rel] = rel.name.replace(".", "_") if clash else rel.stem
    return stems


def plan_batch(in_dir: Path, out_dir: Path, kinds: list[str], recursive: bool = False,
               output_options: dict | None = None) -> tuple[list[Task], list[dict]]:
    """Tasks for every video under in_dir, and the files probed and found not to be videos.
    output_options: Outputs' other fields (world=, up=) for every video."""
    sources, not_videos = find_inputs(in_dir, out_dir, recursive)
    rels = [s.relative_to(in_dir) for s in sources]
    stems = _output_stems(rels)
    tasks = []
    for i, (source, rel) in enumerate(zip(sources, rels)):
        folder = out_dir / rel.parent
        outputs = Outputs.named_after(Path(stems[rel] + rel.suffix), folder, kinds, **(output_options or {}))
        tasks.append(Task(i, source, rel, outputs, folder / f".{stems[rel]}{MARKER_SUFFIX}"))
    return tasks, not_videos


def options_fingerprint(options: InferenceOptions, output_options: dict | None = None,
                        people: str | None = None) -> dict:
    """What the outputs depend on (everything but the device and batch size), JSON-normalized."""
    opts = asdict(options)
    opts["people"] = people
    for k in ("device", "detector_batch_size"):
        opts.pop(k, None)
    if not opts["strict"]:  # markers from before --strict still match; a --strict run redoes what one without did
        del opts["strict"]
    opts["checkpoint"] = str(Path(options.checkpoint) if options.checkpoint else default_checkpoint())
    kinds = output_kinds()
    defaults = {f.name: f.default for f in fields(Outputs) if f.name not in kinds}  # world=False, up="y"
    opts["outputs"] = {**defaults, **(output_options or {})}
    return json.loads(json.dumps(opts, default=str))


def finished_record(task: Task, kinds: list[str], fingerprint: dict) -> dict | None:
    """The video's done-marker if it proves the requested outputs are complete and current, else None."""
    try:
        record = json.loads(task.marker.read_text())
        st = task.source.stat()
    except (OSError, ValueError):
        return None
    current = (isinstance(record, dict) and record.get("schema") == MARKER_SCHEMA
               and record.get("source_size") == st.st_size and record.get("source_mtime_ns") == st.st_mtime_ns
               and record.get("options") == fingerprint and set(kinds) <= set(record.get("formats", ()))
               and all(p.is_file() for p in task.outputs.paths()))
    return record if current else None


# ---------------------------------------------------------------------------------------------- batch

@dataclass
class BatchReport:
    summary: dict  # the content of summary.json
    summary_path: Path
    exit_code: int


def check_out_dir(out_dir: Path) -> None:
    """Create out_dir and prove it writable before any work (one-line BatchError otherwise)."""
    try:
        prove_writable(out_dir)
    except OSError as e:
        raise BatchError(f"{out_dir}: cannot write the output folder ({e.strerror or e})") from None


def default_jobs() -> int:
    """Half the usable cores (MediaPipe and x264 use a few threads of their own per worker), but two on a
    2-core machine: there -j 2 processes a folder 1.25x as fast as -j 1 (bench/README.md)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return min(cores, max(2, cores // 2))


def run_batch(in_dir: Path, out_dir: Path, kinds: list[str], options: InferenceOptions, *, jobs: int = 1,
              recursive: bool = False, overwrite: bool = False, output_options: dict | None = None,
              people: str | None = None, progress: bool = False, on_event: Event | None = None,
              ray: RaySettings | None = None) -> BatchReport:
    """Process every video under in_dir into out_dir and write out_dir/summary.json.

    kinds: Outputs kinds (parse_formats); output_options: Outputs' other fields (world=, up=);
    people: as vp3d-infer --people ("all", "largest", N; None: the single-person path);
    progress: show BatchProgress on stderr; on_event: or receive its events yourself;
    ray: run the videos on Ray (ray_pool.py) instead of local worker processes (`jobs` is then unused).
    One video's failure never raises: it is a row. Raises BatchError, CheckpointError or DetectorError
    (one line) only when the batch as a whole cannot run.
    """
    t0 = time.time()
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    in_dir, out_dir = Path(in_dir), Path(out_dir)
    if not in_dir.exists():
        raise BatchError(f"{in_dir}: no such folder")
    if not in_dir.is_dir():
        raise BatchError(f"{in_dir}: is a file, not a folder (vp3d-infer takes one video)")
    if options.detector.startswith("file:"):
        raise BatchError(f"--detector {options.detector}: a keypoint file belongs to one video; not usable for a folder")
    if people is not None:
        from ..detectors.factory import MEDIAPIPE_BACKENDS, single_person_message
        if options.detector in MEDIAPIPE_BACKENDS:
            raise BatchError(single_person_message(options.detector))
        try:
            check_people_outputs(people, kinds)
        except OutputError as e:
            raise BatchError(str(e)) from None
    if ray is not None:
        from .ray_pool import import_ray
        import_ray()  # the install hint before any work
    tasks, not_videos = plan_batch(in_dir, out_dir, kinds, recursive, output_options)
    if not tasks:  # before check_out_dir creates the folder: a refused batch leaves nothing behind
        others = f"; {len(not_videos)} other file(s) are not videos" if not_videos else ""
        hint = "" if recursive else " (add --recursive for sub-folders)"
        raise BatchError(f"{in_dir}: no video files found{others}{hint}")
    check_out_dir(out_dir)
    fingerprint = options_fingerprint(options, output_options, people)
    rows: dict[int, dict] = {}
    todo = []
    for t in tasks:
        record = None if overwrite else finished_record(t, kinds, fingerprint)
        if record is None:
            todo.append(t)
        else:
            rows[t.index] = {**make_row(t, "skipped", summary=record), "reason": "finished by an earlier run"}
    interrupted = False
    ray_run = None
    if todo:
        # A bad checkpoint or a detector that cannot start is one error for the batch, not one per video
        # (MediaPipe's model ships inside its wheel: not worth a second graph start here).
        load_lifter(options)
        if options.detector != "mediapipe":
            detector_from_options(options).close()
        display = BatchProgress(len(todo)) if progress else None
        on_event = on_event or display or (lambda *a: None)
        previous = _term_as_interrupt()
        try:
            todo = _probe_all(todo, rows, on_event)
            if display is not None and all(t.frames_hint for t in todo):
                display.frames.total = sum(t.frames_hint for t in todo)
            todo.sort(key=lambda t: t.frames_hint or 0, reverse=True)  # longest first: the tail is a short one
            threads = max(1, (os.cpu_count() or 1) // max(1, min(jobs, len(todo))))  # cores shared by workers
            job = Job(options, list(kinds), fingerprint, threads, people)
            if ray is None:
                schedule(todo, jobs, job, on_event, rows)
            else:
                from .ray_pool import schedule_on_ray
                ray_run = {}  # interrupted while Ray starts: still recorded as a Ray run
                ray_run = schedule_on_ray(todo, ray, job, on_event, rows)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            _restore_term(previous)
            if display is not None:
                display.close()
    for t in tasks:
        rows.setdefault(t.index, make_row(t, "interrupted"))
    videos = sorted(rows.values(), key=lambda r: r["input"])
    counts = {s: sum(r["status"] == s for r in videos) for s in STATUSES}
    exit_code = EXIT_INTERRUPTED if interrupted else EXIT_FAILED if counts["failed"] else EXIT_OK
    summary = {"schema": SUMMARY_SCHEMA, "input_dir": str(in_dir), "output_dir": str(out_dir), "formats": list(kinds),
               "recursive": recursive, "jobs": jobs, "overwrite": overwrite, "started_at": started_at,
               "seconds": round(time.time() - t0, 2), "exit_code": exit_code, "counts": counts,
               "frames_processed": sum(r["frames"] or 0 for r in videos if r["status"] == "ok"),
               "videos": videos, "not_videos": not_videos, **({"ray": ray_run} if ray is not None else {})}
    path = atomic_write(out_dir / SUMMARY_NAME, lambda tmp: tmp.write_text(json.dumps(summary, indent=1)))
    return BatchReport(summary, path, exit_code)


def _probe_all(tasks: list[Task], rows: dict[int, dict], on_event: Event) -> list[Task]:
    """Probe every video before any worker starts (threads: FFmpeg runs in a subprocess and OpenCV
    releases the GIL). Those that fail are failed rows at once, without a worker; the others get their
    frames_hint and are returned."""
    def check(task: Task) -> str | None:
        try:
            task.frames_hint = probe(task.source).num_frames_hint
            return None
        except Exception as e:  # noqa: BLE001 - any reason is this one file's failure
            return reason_of(task, e)

    with ThreadPoolExecutor(max_workers=4) as ex:
        reasons = list(ex.map(check, tasks))
    good = []
    for task, reason in zip(tasks, reasons):
        if reason is None:
            good.append(task)
        else:
            rows[task.index] = make_row(task, "failed", reason)
            on_event("done", task, rows[task.index])
    return good


def _term_as_interrupt():
    """SIGTERM (kill, a job scheduler) stops the batch as Ctrl-C does: workers clean up, summary written."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum, frame):
        raise KeyboardInterrupt
    return signal.signal(signal.SIGTERM, handler)


def _restore_term(previous) -> None:
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)
