"""`vp3d view result.json [-o result.html] [--video clip.mp4 | --no-video]`: the interactive 3D viewer page.

One self-contained HTML file (vp3d.viewer.build_html) that works offline from disk: the skeleton(s) in 3D,
with the video beside it in sync when one is found next to the JSON or given.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import UserError


def add_view_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", type=Path, help="a joints file written by vp3d-infer --json (vp3d.joints/1 or /2)")
    p.add_argument("-o", "--out", type=Path, help="the HTML page to write (default: INPUT with .html)")
    video = p.add_mutually_exclusive_group()
    video.add_argument("--video", type=Path, help="the video to play in sync (default: one found next to INPUT: "
                                                  "<stem>.mp4, the original's name, <stem>.vp3d.mp4)")
    video.add_argument("--no-video", action="store_true", help="the 3D only, even if a video is next to INPUT")
    p.add_argument("--title", help="the page's title")
    p.add_argument("--json", action="store_true", help="print {input, out, video} on stdout")


def read_joints_json(path: Path) -> dict:
    """A vp3d joints document, or UserError in one line naming the file and the problem."""
    if not path.is_file():
        raise UserError(f"{path}: no such file" if not path.exists() else f"{path}: is not a file")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UserError(f"{path}: not a JSON file ({e})") from None
    schema = doc.get("schema") if isinstance(doc, dict) else None
    if schema not in ("vp3d.joints/1", "vp3d.joints/2"):
        raise UserError(f"{path}: not a vp3d joints file (schema {schema!r}); write one with vp3d-infer --json")
    return doc


def run_view(args) -> int:
    from ..viewer import build_html
    from ..viewer.build import find_video

    doc = read_joints_json(args.input)
    out = args.out or args.input.with_suffix(".html")
    if out.is_dir():
        raise UserError(f"{out}: is a folder; give a file name for the page")
    if args.video is not None and not args.video.is_file():
        raise UserError(f"{args.video}: video not found")
    video = False if args.no_video else (args.video or find_video(args.input, doc))
    try:
        build_html(args.input, out, video=video if video else False, title=args.title)
    except OSError as e:
        raise UserError(f"{out}: cannot write the page ({e.strerror or e})") from None
    summary = {"input": str(args.input), "out": str(out), "video": str(video) if video else None}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{out}" + (f" (video: {video})" if video else " (no video)"), file=sys.stderr)
    return 0
