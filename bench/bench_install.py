"""What a fresh install costs: the light set (`make demo`, requirements-light.txt) against the full one (`make
test`'s requirements.txt, which was `make demo`'s install before issue 13), each into a new venv in the same run.

    .venv/bin/python bench/bench_install.py [--rounds 1] [--keep DIR]

Each round installs both, taking turns, exactly as the Makefile does (`pip install -r ...` then the package
itself, editable, without dependencies). pip's download cache is warm for both (this machine has no internet
but the package index; a user's first install adds the download of each set, ~0.25 GB light, ~3.5 GB full).
Printed: install seconds, the venv's size on disk, and the light/full ratios (targets: size <= 1.5 GB, time <=
a third of the full install's).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETS = {"full (requirements.txt)": "requirements.txt", "light (requirements-light.txt)": "requirements-light.txt"}


def install(requirements: str, venv: Path) -> float:
    """Seconds to make `venv` and install `requirements` plus vp3d into it, as the Makefile does."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    py = venv / "bin" / "python"
    subprocess.run([py, "-m", "pip", "install", "-q", "-r", ROOT / requirements], check=True, cwd=ROOT)
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "-e", ROOT], check=True,
                   cwd=ROOT)
    return time.perf_counter() - start


def size_gb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink()) / 1e9


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--only", choices=("full", "light"), help="install one set only")
    p.add_argument("--keep", type=Path, help="leave the venvs in this folder (default: removed)")
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vp3d-install-", dir=args.keep))
    seconds = {name: [] for name in SETS}
    sizes = {}
    try:
        for r in range(args.rounds):
            for name, requirements in SETS.items():
                if args.only and not name.startswith(args.only):
                    continue
                venv = work / f"{requirements.removesuffix('.txt')}-{r}"
                seconds[name].append(install(requirements, venv))
                sizes[name] = size_gb(venv)
                print(f"round {r + 1}: {name}: {seconds[name][-1]:.0f} s, {sizes[name]:.2f} GB", file=sys.stderr)
                if args.keep is None:
                    shutil.rmtree(venv)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    done = [name for name in SETS if seconds[name]]
    print("| install | seconds | venv GB |\n|---|---|---|")
    for name in done:
        print(f"| {name} | {statistics.median(seconds[name]):.0f} | {sizes[name]:.2f} |")
    if len(done) == 2:
        (full, light), (full_gb, light_gb) = ([statistics.median(seconds[n]) for n in done], [sizes[n] for n in done])
        print(f"| light / full | {light / full:.2f} | {light_gb / full_gb:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
