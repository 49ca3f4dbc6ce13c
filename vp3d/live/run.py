"""The live loop: take the newest frame, find the person's 2D, lift it causally, send one JSON object.

    stats = run_live(LiveSource("0"), detector, lifter, [open_sink("-")])

Per frame the object is {"frame", "time_s", "detected", "keypoints2d" (J_in x [x, y, score] pixels, the
lifter's input layout, or null), "joints3d" (17 x [x, y, z] metres, camera frame, root-relative, or null
before the first detection), "latency_ms" (from the frame's decoding to its 3D)}. A frame without a person
keeps the last 2D seen (the pose holds) with "detected": false.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import numpy as np

from ..detectors.candidates import VideoCandidates
from ..detectors.keypoints import to_layout
from ..lifter.camera import normalize_screen_coordinates
from .causal import CausalLifting
from .source import LiveSource, SourceStalled


@dataclass
class LiveStats:
    received: int = 0  # frames the source delivered
    processed: int = 0
    dropped: int = 0  # replaced by a newer frame before they could be processed
    detect_ms: list[float] = field(default_factory=list)
    lift_ms: list[float] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)  # frame decoded -> its 3D sent
    ended: str = ""  # why the loop stopped: "the source ended", "stopped after N frames", "interrupted", a stall
    stalled: bool = False

    def summary(self) -> dict:
        def figures(values: list[float]) -> dict:
            if not values:
                return {"mean": None, "p50": None, "p95": None}
            v = np.asarray(values)
            return {"mean": round(float(v.mean()), 2), "p50": round(float(np.percentile(v, 50)), 2),
                    "p95": round(float(np.percentile(v, 95)), 2)}
        return {"received": self.received, "processed": self.processed, "dropped": self.dropped,
                "detect_ms": figures(self.detect_ms), "lift_ms": figures(self.lift_ms),
                "latency_ms": figures(self.latency_ms)}


def frame_message(index: int, time_s: float, detected: bool, kp: np.ndarray | None, score: np.ndarray | None,
                  pose: np.ndarray | None, latency_ms: float) -> str:
    keypoints = None if kp is None else np.round(np.concatenate([kp, score[:, None]], 1).astype(np.float64), 2).tolist()
    joints = None if pose is None else np.round(pose.astype(np.float64), 5).tolist()
    return json.dumps({"frame": index, "time_s": round(time_s, 4), "detected": detected, "keypoints2d": keypoints,
                       "joints3d": joints, "latency_ms": round(latency_ms, 2)}, separators=(",", ":"))


def run_live(source: LiveSource, detector, lifter, sinks: list, *, flip: bool = True,
             max_frames: int | None = None, preview=None) -> LiveStats:
    """Until the source ends (or `max_frames` frames are processed, or Ctrl-C, or the source stalls: each
    ends the loop cleanly, stats.ended says which). preview: optional callable(image, kp) showing each frame."""
    from threadpoolctl import threadpool_limits

    causal = CausalLifting(lifter, flip)
    stats = LiveStats()
    detector.start(source.spec, source.width, source.height)
    # One BLAS thread: the lifter's matrices are small, and threads waiting on each other beside the
    # detector cost 5x (measured: 18 vs 96 ms a step on the busy 2-core CPU).
    with threadpool_limits(1, "blas"):
        try:
            _loop(source, detector, lifter, sinks, causal, stats, max_frames, preview)
        except KeyboardInterrupt:
            stats.ended = "interrupted"
        except SourceStalled as e:
            stats.ended, stats.stalled = str(e), True
    detector.finish(stats.processed)
    stats.received, stats.dropped = source.received, source.dropped
    return stats


def _loop(source: LiveSource, detector, lifter, sinks: list, causal: CausalLifting, stats: LiveStats,
          max_frames: int | None, preview) -> None:
    last: tuple[np.ndarray, np.ndarray] | None = None  # the latest 2D seen (pixels) and its scores
    while True:
        if max_frames is not None and stats.processed >= max_frames:
            stats.ended = f"stopped after {max_frames} frames (--frames)"
            return
        frame = source.next()
        if frame is None:
            stats.ended = "the source ended"
            return
        t0 = time.perf_counter()
        found = detector.detect_batch([frame.image])[0]
        one = VideoCandidates(frames=[found], layout=detector.layout, width=source.width,
                              height=source.height, num_joints=detector.num_joints).single_person()
        kp = to_layout(one, lifter.meta.input_layout)
        t1 = time.perf_counter()
        detected = bool(kp.detected[0])
        if detected:
            last = (kp.xy[0], kp.score[0])
        pose = None
        if last is not None:
            norm = normalize_screen_coordinates(last[0], source.width, source.height)
            pose = causal.push(frame.time_s, norm)
        t2 = time.perf_counter()
        latency = 1000 * (t2 - frame.arrived)
        message = frame_message(frame.index, frame.time_s, detected, None if last is None else last[0],
                                None if last is None else last[1], pose, latency)
        for sink in sinks:
            sink.send(message)
        if preview is not None:
            preview(frame.image, last[0] if last is not None and detected else None)
        stats.processed += 1
        stats.detect_ms.append(1000 * (t1 - t0))
        stats.lift_ms.append(1000 * (t2 - t1))
        stats.latency_ms.append(latency)
