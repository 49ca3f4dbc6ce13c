"""Time the mocap collection's cache (run by hand): .venv/bin/python bench/bench_mocap_cache.py [--repeat 3]

Loads every take under ../shared/data/mocap once without a cache (parsing BVH/AMC), then with a fresh cache
file (parse + write) and `--repeat` times from that cache, and prints the seconds of each. The test
(tests/test_mocap.py) only checks that a valid cache is used; the time it saves is measured here.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from vp3d.mocap import load_collection

MOCAP = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mocap"


def timed(label: str, **kwargs) -> None:
    start = time.perf_counter()
    motions = load_collection(MOCAP, **kwargs)
    print(f"{label:<28} {time.perf_counter() - start:7.2f} s  ({len(motions)} takes)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="loads from the cache to time")
    args = parser.parse_args()
    timed("parse, no cache")
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "mocap.npz"
        timed("parse + write the cache", cache=cache)
        for i in range(args.repeat):
            timed(f"from the cache ({i + 1})", cache=cache)


if __name__ == "__main__":
    main()
