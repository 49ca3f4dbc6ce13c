"""`vp3d plot result.json [--angles knee,hip] [-o angles.png] [--range START:END]`: joint angles over time.

Angles (vp3d.angles, definitions there and in the README) of one person of a joints file, left and right in
one axes per group, filled-in frames shaded; PNG, SVG or PDF by the output's suffix. `--json` prints the
summary per angle (min, max, range of motion, mean) on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import UserError
from .view import read_joints_json


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give at least one angle, e.g. knee,hip")
    return names


def add_plot_arguments(p: argparse.ArgumentParser) -> None:
    from ..angles import ANGLE_GROUPS
    p.add_argument("input", type=Path, help="a joints file written by vp3d-infer --json (vp3d.joints/1 or /2)")
    p.add_argument("--angles", type=_names, default=["knee", "hip"], metavar="knee,hip",
                   help=f"angle groups ({', '.join(ANGLE_GROUPS)}) or single angle names; default: knee,hip")
    p.add_argument("-o", "--out", type=Path,
                   help="the figure (.png, .svg or .pdf; default: INPUT with .angles.png)")
    p.add_argument("--range", dest="time_range", metavar="START:END",
                   help="seconds of the video to show (either side may be empty)")
    p.add_argument("--person", type=int, default=0, help="which person of a several-people file (0 = first)")
    p.add_argument("--json", action="store_true", help="print {input, out, summary} on stdout")


def run_plot(args) -> int:
    from ..angles import ANGLE_GROUPS, angle_summary, angles_from_joints_json
    from ..plot import FORMATS, frames_in_range, parse_range, plot_angles

    doc = read_joints_json(args.input)
    out = args.out or args.input.with_name(args.input.name.removesuffix(".json") + ".angles.png")
    if out.suffix.lower() not in FORMATS:
        raise UserError(f"{out}: the figure needs a {' / '.join(FORMATS)} name")
    try:
        time_range = parse_range(args.time_range)
    except ValueError as e:
        raise UserError(str(e)) from None
    people = len(doc.get("people", [])) if "people" in doc else 1
    if not 0 <= args.person < people:
        raise UserError(f"{args.input}: has {people} person(s); --person must be 0..{people - 1}")
    series = angles_from_joints_json(doc, args.person)
    unknown = [n for n in args.angles if n not in ANGLE_GROUPS and n not in series.angles]
    if unknown:
        raise UserError(f"unknown angle(s) {', '.join(unknown)}; known: {', '.join(ANGLE_GROUPS)} "
                        f"or one of {', '.join(series.angles)}")
    try:
        plot_angles(series.angles, series.fps, series.detected, names=args.angles, time_range=time_range,
                    out_path=out, title=args.input.name, first_frame=series.first_frame, times=series.times)
    except OSError as e:
        raise UserError(f"{out}: cannot write the figure ({e.strerror or e})") from None
    shown = [c for n in args.angles for c in ANGLE_GROUPS.get(n, (n,))]
    inside = frames_in_range(len(series.detected), series.fps, series.first_frame, time_range, series.times)
    summary = angle_summary({c: series.angles[c][inside] for c in shown})
    if args.json:
        print(json.dumps({"input": str(args.input), "out": str(out), "summary": summary}))
    else:
        print(str(out), file=sys.stderr)
    return 0
