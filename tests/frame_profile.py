"""Counting calls into vp3d's modules, in this process or (through a sitecustomize module) in the processes it
starts: tests/test_frame_path.py."""

from __future__ import annotations

import atexit
import json
import os
import sys
import threading
from collections import Counter
from pathlib import Path


def counting_hook(calls: Counter):
    """A sys.setprofile hook adding one to calls[module] for each call of a function of a vp3d module."""
    def hook(frame, event, arg):
        if event == "call":
            name = frame.f_globals.get("__name__", "")
            if name.startswith("vp3d."):
                calls[name] += 1
    return hook


def count_until_exit(out_dir: str | os.PathLike) -> None:
    """Count every thread's calls of this process from now on, written to out_dir/<pid>.json at its exit."""
    calls: Counter = Counter()
    sys.setprofile(counting_hook(calls))
    threading.setprofile(counting_hook(calls))
    atexit.register(lambda: (Path(out_dir) / f"{os.getpid()}.json").write_text(json.dumps(calls)))


def sitecustomize_source(out_dir: str | os.PathLike) -> str:
    """A sitecustomize.py that makes every Python started with it on its path count its calls into out_dir."""
    here = str(Path(__file__).resolve().parent)
    return f"import sys\nsys.path.insert(0, {here!r})\nimport frame_profile\nframe_profile.count_until_exit({str(out_dir)!r})\n"
