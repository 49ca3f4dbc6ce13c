"""What batch mode shows on stderr: a progress display while it runs, a table at the end."""

from __future__ import annotations

import sys

from .workers import STATUSES, Task


def _figures(row: dict) -> str:
    if row["frames"] is None:
        return ""
    speed = f", {row['frames_per_second']:.1f} frames/s" if row["status"] == "ok" else ""
    return f"{row['frames']} frames at {row['fps_video']:.2f} fps{speed}"


def row_line(row: dict) -> str:
    """'ok      sub/clip.mp4  72 frames at 23.98 fps, 31.0 frames/s' or 'failed  x.mp4: reason'."""
    if row["status"] in ("failed", "interrupted") and row["reason"]:
        return f"{row['status']:<11} {row['input']}: {row['reason']}"
    return f"{row['status']:<11} {row['input']}  {_figures(row)}".rstrip()


def format_table(summary: dict) -> str:
    """The end-of-batch table: one row per video, then the totals."""
    head = f"{'status':<11} {'frames':>7} {'fps':>7} {'frames/s':>9} {'seconds':>8}  video"
    lines = [head, "-" * len(head)]
    for r in summary["videos"]:
        num = lambda v, f: "-" if v is None else format(v, f)  # noqa: E731
        speed = r["frames_per_second"] if r["status"] == "ok" else None
        secs = r["seconds"] if r["status"] == "ok" else None
        name = f"{r['input']}: {r['reason']}" if r["status"] in ("failed", "interrupted") and r["reason"] else r["input"]
        lines.append(f"{r['status']:<11} {num(r['frames'], 'd'):>7} {num(r['fps_video'], '.2f'):>7} "
                     f"{num(speed, '.1f'):>9} {num(secs, '.1f'):>8}  {name}")
    c = summary["counts"]
    total = ", ".join(f"{c[s]} {s}" for s in STATUSES if c[s] or s != "interrupted")
    lines.append(f"{len(summary['videos'])} videos: {total} in {summary['seconds']:.1f} s")
    return "\n".join(lines)


class BatchProgress:
    """Progress on stderr: videos done (with ETA), frames detected (with rate), the videos in work, and a
    line per finished video. Use as the `on_event` of run_batch."""

    def __init__(self, total_videos: int):
        from tqdm import tqdm
        self.videos = tqdm(total=total_videos, desc="videos", unit="video", file=sys.stderr, dynamic_ncols=True,
                           position=0)
        self.frames = tqdm(desc="frames", unit="frame", file=sys.stderr, dynamic_ncols=True, position=1)
        self.active: dict[int, str] = {}
        self.counted: dict[int, int] = {}

    def __call__(self, kind: str, task: Task, value) -> None:
        name = task.rel.as_posix()
        if kind == "start":
            self.active[task.index] = f"{name} starting"
            self.counted[task.index] = 0  # a retried video counts its frames again
        elif kind in ("detect", "render"):
            done, total = value
            if kind == "detect":
                self.frames.update(done - self.counted.get(task.index, 0))
                self.counted[task.index] = done
            self.active[task.index] = f"{name} {kind} {done}/{total or '?'}"
        elif kind == "done":
            self.active.pop(task.index, None)
            seen = self.counted.pop(task.index, 0)
            if value["status"] == "ok" and value["frames"]:
                self.frames.update(value["frames"] - seen)  # the last frames after the last throttled event
            self.videos.update(1)
            self.videos.write(row_line(value), file=sys.stderr)
        self.videos.set_postfix_str(" | ".join(self.active.values()))

    def close(self) -> None:
        self.frames.close()
        self.videos.close()
