"""The last lift of a long video, fresh against after the lifts made while it was detected (run by hand):

    .venv/bin/python bench/bench_relift.py [--minutes 1 10] [--checkpoint weights/vp3d_cmu_h36m17_243f.bin]

While a video is detected its people are lifted again and again for the side-by-side render
(vp3d/pipeline/overlap.py), then once more when detection ends. vp3d.lifter.chunk_memo lets a lift reuse the
windows of the model's input it shares with the previous one; this prints, per video length, the seconds of that
last lift after an update 12 s before the end (what the command pays once detection is over) and of the same lift
by a fresh lifter (no reuse), with one BLAS thread as the pipeline lifts, and whether both gave the same bits.
The 2D is random (the lift's cost does not depend on it): 50 frames/s, the model's rate, so no resampling.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from vp3d.lifter.inference import Lifter
from vp3d.lifter.weights import default_checkpoint

MODEL_FPS = 50
UPDATE_BEFORE_END_S = 12


def seconds(lifter: Lifter, kp: np.ndarray) -> tuple[float, np.ndarray]:
    t0 = time.perf_counter()
    poses = lifter.lift(kp).poses
    return time.perf_counter() - t0, poses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 10])
    parser.add_argument("--checkpoint", default=str(default_checkpoint()))
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"{'video':>10}  {'last lift after updates (s)':>28}  {'fresh lifter (s)':>16}  {'ratio':>6}  same bits")
    with threadpool_limits(1, "blas"):
        for minutes in args.minutes:
            kp = rng.normal(0, 0.3, (round(minutes * 60 * MODEL_FPS), 17, 2)).astype(np.float32)
            reusing = Lifter.load(args.checkpoint)
            reusing.lift(kp[:len(kp) - UPDATE_BEFORE_END_S * MODEL_FPS])
            t_reuse, poses_reuse = seconds(reusing, kp)
            t_fresh, poses_fresh = seconds(Lifter.load(args.checkpoint), kp)
            print(f"{minutes:>8g} m  {t_reuse:>28.2f}  {t_fresh:>16.2f}  {t_fresh / t_reuse:>6.1f}  "
                  f"{np.array_equal(poses_reuse, poses_fresh)}")


if __name__ == "__main__":
    main()
