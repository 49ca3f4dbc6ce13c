"""The console scripts: `vp3d infer|batch|train|evaluate|view|plot|live` and the `vp3d-infer` shortcut.

Errors a user can cause (bad video, no person, missing weights, unwritable output) end as one line
on stderr and a non-zero exit, never a traceback (common._run).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import NoReturn

from ..errors import INSTALL_TORCH, UserError, torch_is_installed
from .batch import BATCH_DESCRIPTION, add_batch_arguments, run_batch
from .common import _run
from .infer import add_infer_arguments, run_infer


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vp3d", description="Video to 3D human joints (VideoPose3D-style).")
    sub = parser.add_subparsers(dest="command", required=True)
    add_infer_arguments(sub.add_parser("infer", help="video -> side-by-side 2D/3D video and joints"))
    add_batch_arguments(sub.add_parser("batch", help="every video of a folder -> outputs named after each",
                                       description=BATCH_DESCRIPTION, allow_abbrev=False))
    from .train import add_train_arguments
    add_train_arguments(sub.add_parser("train", help="train the lifter on mocap"))
    from .evaluate import add_evaluate_arguments
    add_evaluate_arguments(sub.add_parser("evaluate", help="P1/P2/P3/MPJVE of a checkpoint"))
    from .view import add_view_arguments
    add_view_arguments(sub.add_parser("view", help="joints JSON -> one HTML page with the 3D viewer (offline)"))
    from .live import add_live_arguments
    add_live_arguments(sub.add_parser("live", help="camera / stream / file -> one JSON object of 3D per frame, "
                                                   "as frames arrive (causal lifter)"))
    from .plot import add_plot_arguments
    add_plot_arguments(sub.add_parser("plot", help="joints JSON -> joint angles over time (PNG, SVG, PDF)"))
    return parser


def main(argv: list[str] | None = None, *, exit_fast: bool = False) -> int:
    """`vp3d ...`; exit_fast: see infer_main."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["infer"]:  # one video, or a folder (batch)
        return infer_main(argv[1:], prog="vp3d infer", exit_fast=exit_fast)
    if argv[:1] in (["train"], ["evaluate"]) and not torch_is_installed():  # a light install: --help included
        return _run(_needs_torch, argparse.Namespace(command=argv[0]), json_errors="--json" in argv)
    args = build_parser().parse_args(argv)
    if args.command == "batch":
        return _run(run_batch, args, json_errors=args.json)
    if args.command == "train":
        from .train import run_train
        return _run(run_train, args, json_errors=args.json)
    if args.command == "view":
        from .view import run_view
        return _run(run_view, args, json_errors=args.json)
    if args.command == "live":
        from .live import run_live_command
        return _run(run_live_command, args)
    if args.command == "plot":
        from .plot import run_plot
        return _run(run_plot, args, json_errors=args.json)
    from .evaluate import run_evaluate
    return _run(run_evaluate, args, json_errors=args.json)


def _needs_torch(args) -> NoReturn:
    raise UserError(f"vp3d {args.command} needs torch, which is not installed here: {INSTALL_TORCH}")


class _ParseFailed(Exception):
    pass


class _TrialParser(argparse.ArgumentParser):
    """A parser that raises instead of printing usage and exiting: used to try an interpretation."""

    def error(self, message):
        raise _ParseFailed(message)


def _batch_args(argv: list[str], prog: str):
    """The batch arguments when argv names a folder and parses as a batch command line, else None."""
    if "-h" in argv or "--help" in argv:
        return None
    # Most runs name one video: no folder in sight, no need for the trial parse (which imports batch mode).
    if not any(not a.startswith("-") and Path(a).is_dir() for a in argv):
        return None
    trial = _TrialParser(prog=prog, add_help=False, allow_abbrev=False)  # --npz must not pass for --npz-2d
    add_batch_arguments(trial)
    try:
        args = trial.parse_args(argv)
    except _ParseFailed:
        return None
    return args if args.input.is_dir() else None


def infer_main(argv: list[str] | None = None, prog: str = "vp3d-infer", *, exit_fast: bool = False) -> int:
    """`vp3d-infer ...`; exit_fast (the console scripts): a one-video run ends the process itself, without
    the interpreter's teardown (_exit_without_teardown)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    batch_args = _batch_args(argv, prog)
    if batch_args is not None:  # `vp3d-infer FOLDER --out OUT_FOLDER ...` is `vp3d batch`
        return _run(run_batch, batch_args, json_errors=batch_args.json)
    parser = argparse.ArgumentParser(prog=prog, description="Video -> side-by-side 2D/3D video and joints. "
                                     "INPUT may be a folder: then this is `vp3d batch` (see vp3d batch -h).")
    add_infer_arguments(parser)
    args = parser.parse_args(argv)
    if args.input.is_dir():  # a folder, with options batch mode does not take: show batch's own complaint
        batch_parser = argparse.ArgumentParser(prog=prog, description=BATCH_DESCRIPTION, allow_abbrev=False)
        add_batch_arguments(batch_parser)
        batch_parser.parse_args(argv)  # exits with the usage error
    code = _run(run_infer, args, json_errors=args.json == "-")
    if exit_fast:
        _exit_without_teardown(code)
    return code


def _exit_without_teardown(code: int) -> NoReturn:
    """End a one-video run without the interpreter's teardown, which takes ~0.4 s once the CUDA build
    of torch is imported (measured for `python -c "import torch"` alone): 10% of a short clip's whole
    run. Safe only where nothing is left running or unwritten: outputs are closed and renamed into place
    (or removed) before run_infer returns, and its threads have been joined."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _interruptible(entry) -> NoReturn:
    """Run a console script's main; Ctrl-C before _run has taken over (while the command line is read and
    modules import, the first second or so) ends in the same one line instead of a traceback."""
    try:
        code = entry(exit_fast=True)
    except KeyboardInterrupt:
        print("vp3d: interrupted", file=sys.stderr)
        code = 130
    sys.exit(code)


def command() -> NoReturn:
    """The `vp3d` console script."""
    _interruptible(main)


def infer_command() -> NoReturn:
    """The `vp3d-infer` console script."""
    _interruptible(infer_main)
