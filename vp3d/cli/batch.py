"""`vp3d batch` (and `vp3d-infer FOLDER`): every video of a folder."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .infer import add_shared_arguments, inference_options


def _jobs(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def _fraction_or_more(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def add_batch_arguments(p: argparse.ArgumentParser) -> None:
    from ..batch.run import DEFAULT_FORMATS, default_jobs, output_kinds
    p.add_argument("input", type=Path, help="folder of videos")
    p.add_argument("--out", type=Path, required=True, help="output folder (created; sub-folders mirror the input's)")
    p.add_argument("-r", "--recursive", action="store_true", help="also the videos in sub-folders")
    p.add_argument("-j", "--jobs", type=_jobs, default=default_jobs(),
                   help="videos processed at once, one worker process each (default: half the cores, at least 2; here %(default)s)")
    p.add_argument("--formats", default=",".join(DEFAULT_FORMATS), metavar="LIST",
                   help=f"outputs per video, comma-separated, from {','.join(output_kinds())} (default: %(default)s)")
    p.add_argument("--npz-2d", action="store_true", help="add npz_2d (2D detections, reference format) to --formats")
    p.add_argument("--overwrite", action="store_true", help="redo videos finished by an earlier run")
    p.add_argument("--json", action="store_true",
                   help="print the summary (as OUT/summary.json) on stdout instead of progress")
    p.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                   help="run the videos on a Ray cluster: ADDRESS of its head (host:port, or auto for the "
                        "cluster this runs in); no ADDRESS: a local Ray instance. -j is then the number of "
                        "worker slots; OUT must be storage every node sees (needs vp3d[ray])")
    p.add_argument("--cpus-per-video", type=_positive, default=1.0, metavar="N",
                   help="with --ray: CPUs each worker slot holds (default: 1)")
    p.add_argument("--gpus-per-video", type=_fraction_or_more, default=0.0, metavar="N",
                   help="with --ray: GPUs each worker slot holds, fractions allowed (default: 0)")
    add_shared_arguments(p)


def _ray_settings(args):
    if args.ray is None:
        return None
    from ..batch.ray_pool import RaySettings
    return RaySettings(address=None if args.ray == "local" else args.ray, slots=args.jobs,
                       cpus_per_video=args.cpus_per_video, gpus_per_video=args.gpus_per_video)


def run_batch(args) -> int:
    from ..batch import run as batch

    kinds = batch.parse_formats(args.formats, no_render=args.no_render, npz_2d=args.npz_2d)
    quiet = args.quiet or args.json
    report = batch.run_batch(args.input, args.out, kinds, inference_options(args), jobs=args.jobs,
                             recursive=args.recursive, overwrite=args.overwrite,
                             output_options={"world": args.world, "up": args.up, "crf": args.crf,
                                             "preset": args.preset}, people=args.people, progress=not quiet,
                             ray=_ray_settings(args))
    summary = report.summary
    if args.json:
        print(json.dumps(summary, indent=1))
    from ..video import DecodeWarning
    for row in summary["videos"]:  # said once, whatever --quiet or --json (rows of skipped videos too)
        if row.get("decode_warning"):
            print(f"vp3d: warning: {DecodeWarning(**row['decode_warning']).warning(args.input / row['input'])}",
                  file=sys.stderr)
    if quiet:  # still one line per failed video: a failure is never silent
        for row in summary["videos"]:
            if row["status"] == "failed":
                print(f"vp3d: error: {args.input / row['input']}: {row['reason']}", file=sys.stderr)
    else:
        from ..batch.display import format_table
        print(format_table(summary), file=sys.stderr)
        print(f"summary: {report.summary_path}", file=sys.stderr)
    if report.exit_code == batch.EXIT_INTERRUPTED:
        print("vp3d: interrupted; run the same command again to finish the rest", file=sys.stderr)
    return report.exit_code


BATCH_DESCRIPTION = ("Every video of a folder -> outputs named after each (clip.mp4 -> clip.vp3d.mp4, clip.json, "
                     "clip.npz, ...), in parallel worker processes. Videos finished by an earlier run are skipped; "
                     "OUT/summary.json lists every video's outcome. Exit code 0 only if no video failed.")
