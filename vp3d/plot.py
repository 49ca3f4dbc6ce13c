"""Joint angles over time (matplotlib, Agg): one axes per angle group, left and right in the same axes,
frames that were filled in (not detected) shaded. PNG, SVG or PDF by the output's suffix."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .angles import ANGLE_GROUPS

FORMATS = (".png", ".svg", ".pdf")
SIDE_COLOURS = {"left": "tab:blue", "right": "tab:red"}
LABELS = {
    "knee": "knee flexion", "hip": "hip flexion", "elbow": "elbow flexion",
    "shoulder": "shoulder elevation", "trunk": "trunk lean from vertical",
    "pelvis": "pelvis rotation", "shoulders": "shoulder-line rotation",
}

# Why a whole group can be empty (vp3d.angles gives NaN, never a made-up number).
WHY_UNDEFINED = {"trunk": "trunk lean needs world-frame joints (vp3d-infer --world)",
                 "trunk_lean": "trunk lean needs world-frame joints (vp3d-infer --world)"}


def parse_range(text: str | None) -> tuple[float | None, float | None] | None:
    """'START:END' seconds (either side may be empty) -> (start, end); None or '' -> None."""
    if not text:
        return None
    if ":" not in text:
        raise ValueError(f"--range must be START:END in seconds, got {text!r}")
    a, b = text.split(":", 1)
    start = float(a) if a.strip() else None
    end = float(b) if b.strip() else None
    if start is not None and end is not None and end <= start:
        raise ValueError(f"--range END must be after START, got {text!r}")
    return start, end


def row_times(num_frames: int, fps: float, first_frame: int = 0, times=None) -> np.ndarray:
    """(num_frames,) seconds of video frames first_frame, first_frame + 1, ...: `times` (a variable rate's
    own times) when given, else frame / fps."""
    if times is not None:
        return np.asarray(times, dtype=np.float64)
    return (first_frame + np.arange(num_frames)) / float(fps)


def frames_in_range(num_frames: int, fps: float, first_frame: int = 0, time_range=None, times=None) -> np.ndarray:
    """(num_frames,) bool: the frames (video frames first_frame, first_frame + 1, ...; at `times` or
    frame / fps, as row_times) whose time lies in time_range ((start_s, end_s), either side None for
    open; None for all)."""
    t = row_times(num_frames, fps, first_frame, times)
    start, end = time_range or (None, None)
    return (t >= (-np.inf if start is None else start) - 1e-9) & (t <= (np.inf if end is None else end) + 1e-9)


def _half_gaps(t: np.ndarray, fps: float, variable: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per frame, how far its shading reaches back and forward: half way to the previous and to the next
    frame for a variable rate (the first and last frame: half their one gap), 0.5 / fps for a constant one."""
    if not variable or len(t) < 2:
        return np.full(len(t), 0.5 / fps), np.full(len(t), 0.5 / fps)
    half = np.diff(t) / 2
    return np.r_[half[0], half], np.r_[half, half[-1]]


def _runs(mask: np.ndarray):
    """(start, stop) index pairs of the True runs of a bool array."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2], edges[1::2]))


def plot_angles(angles: dict[str, np.ndarray], fps: float, detected=None, names=("knee", "hip"),
                time_range=None, out_path=None, title: str | None = None, first_frame: int = 0, times=None):
    """Plot the angle groups `names` (keys of vp3d.angles.ANGLE_GROUPS, or full angle names) against time.

    times: (T,) seconds of each frame for a variable frame rate (AngleSeries.times), None for frame / fps.
    time_range: (start_s, end_s) with None for an open side, or None for the whole clip. The figure is saved
    to `out_path` (format by suffix: .png, .svg, .pdf; temp name then rename) when given. Returns the
    matplotlib Figure (its axes' x-limits are the time range).
    """
    from matplotlib.figure import Figure  # no pyplot: renders with Agg, leaves the process's backend alone

    if out_path is not None and Path(out_path).suffix.lower() not in FORMATS:
        raise ValueError(f"plot format from the file name must be one of {', '.join(FORMATS)}: {out_path}")
    groups = []
    for name in names:
        if name in ANGLE_GROUPS:
            groups.append((name, ANGLE_GROUPS[name]))
        elif name in angles:
            groups.append((name, (name,)))
        else:
            raise ValueError(f"unknown angle {name!r}; known: {', '.join(ANGLE_GROUPS)} or a column name")
    T = len(next(iter(angles.values())))
    t = row_times(T, fps, first_frame, times)
    det = np.ones(T, dtype=bool) if detected is None else np.asarray(detected, dtype=bool)
    t0 = t[0] if T else 0.0
    t1 = t[-1] if T else 1.0
    if time_range is not None:
        start, end = time_range
        t0 = t0 if start is None else float(start)
        t1 = t1 if end is None else float(end)
    if t1 <= t0:
        t1 = t0 + 1.0 / fps
    shown = frames_in_range(T, fps, first_frame, time_range, times)
    before, after = _half_gaps(t, fps, times is not None)

    fig = Figure(figsize=(9, 2.4 * len(groups) + 0.6), layout="constrained")
    axes = fig.subplots(len(groups), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (group, columns) in zip(axes, groups):
        for column in columns:
            side = column.split("_", 1)[0]
            label = side if side in SIDE_COLOURS else column.replace("_", " ")
            ax.plot(t[shown], np.asarray(angles[column], dtype=float)[shown], lw=1.3,
                    color=SIDE_COLOURS.get(side, "tab:green"), label=label)
        for k, (a, b) in enumerate(_runs(~det & shown)):
            ax.axvspan(t[a] - before[a], t[b - 1] + after[b - 1], color="0.85", lw=0, zorder=0,
                       label="filled (not detected)" if k == 0 else None)
        if not any(np.isfinite(np.asarray(angles[c], dtype=float)[shown]).any() for c in columns):
            why = WHY_UNDEFINED.get(group, "undefined in every frame shown")
            ax.text(0.5, 0.5, f"no values: {why}", transform=ax.transAxes, ha="center", va="center", color="0.4")
        ax.set_ylabel(f"{LABELS.get(group, group.replace('_', ' '))} (deg)")
        ax.grid(True, lw=0.4, alpha=0.5)
        ax.legend(loc="upper right", fontsize=8, frameon=False)
    axes[-1].set_xlim(t0, t1)
    axes[-1].set_xlabel("time (s)")
    if title:
        fig.suptitle(title)
    if out_path is not None:
        out = Path(out_path)
        tmp = out.with_name(f".{out.stem}.{os.getpid()}.tmp{out.suffix}")
        try:
            fig.savefig(tmp, dpi=120)
            os.replace(tmp, out)
        finally:
            if tmp.exists():
                tmp.unlink()
    return fig
