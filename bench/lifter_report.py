"""Both validation sets for one or more lifter checkpoints, as the model card reports them.

    .venv/bin/python bench/lifter_report.py weights/vp3d_cmu_h36m17_243f.bin runs/ft_A/best.bin ...

For each checkpoint, `vp3d evaluate` (detector-like noisy 2D, flip, 2 fixed virtual cameras per take) on
- the CMU validation subjects 02 and 135 (each alone, and their average over actions as `vp3d evaluate` prints it),
- ../shared/data/mocap_validation/bandai2 (another capture system; validation only, never trained on),
printed as one table (P1 / P2 / MPJVE, mm and mm/frame at 50 fps). --json prints the rows instead.

--training-fit adds three training subjects measured the same way (CMU 01, 05, 08 in the original rig): how well
the model fits motion it was trained on, so that a change can be read as fitting better, generalizing better, or
both (the gap between the two is what more data or augmentation can close; the fit is what capacity and training
can). Those takes are trained on: never a figure to choose weights by.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
BANDAI = SHARED_DATA / "mocap_validation" / "bandai2"
CMU_BVH = SHARED_DATA / "mocap" / "cmu_bvh"
TRAINING_SUBJECTS = ("01", "05", "08")
VP3D = Path(sys.executable).parent / "vp3d"


def evaluate(checkpoint: str, *extra: str) -> dict:
    out = subprocess.run([str(VP3D), "evaluate", "--checkpoint", checkpoint, "--by", "sequence", "--json", *extra],
                         check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(out)


def pooled(sequences: list[dict]) -> dict:
    """Frame-weighted means of per-sequence metrics (the way the training log pools frames)."""
    w = np.array([s["n_frames"] for s in sequences], dtype=np.float64)
    return {k: float(np.sum(w * [s[k] for s in sequences]) / w.sum()) for k in ("p1", "p2", "mpjve")}


def rows(checkpoint: str, noise: str = "detector") -> list[dict]:
    cmu = evaluate(checkpoint, "--noise", noise)
    bandai = evaluate(checkpoint, "--noise", noise, "--bvh-dir", str(BANDAI))
    out = []
    for subject in ("02", "135"):
        seqs = [s for s in cmu["sequences"] if s["name"].startswith(f"{subject}/")]
        out.append({"checkpoint": checkpoint, "set": f"CMU {subject}", **pooled(seqs)})
    out.append({"checkpoint": checkpoint, "set": "CMU 02+135", **pooled(cmu["sequences"])})
    out.append({"checkpoint": checkpoint, "set": "bandai2", **pooled(bandai["sequences"])})
    return out


def training_fit_rows(checkpoint: str, noise: str = "detector") -> list[dict]:
    out, every = [], []
    for subject in TRAINING_SUBJECTS:
        seqs = evaluate(checkpoint, "--noise", noise, "--bvh-dir", str(CMU_BVH / subject))["sequences"]
        every += seqs
        out.append({"checkpoint": checkpoint, "set": f"train {subject}", **pooled(seqs)})
    out.append({"checkpoint": checkpoint, "set": "train " + "+".join(TRAINING_SUBJECTS), **pooled(every)})
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoints", nargs="+")
    p.add_argument("--json", action="store_true")
    p.add_argument("--noise", choices=("detector", "mediapipe", "none"), default="detector",
                   help="the 2D's errors (vp3d evaluate --noise): every figure of the card so far is 'detector'")
    p.add_argument("--training-fit", action="store_true",
                   help=f"also training subjects {', '.join(TRAINING_SUBJECTS)} (the fit, not a validation figure)")
    args = p.parse_args()
    table = []
    for checkpoint in args.checkpoints:
        table += rows(checkpoint, args.noise)
        if args.training_fit:
            table += training_fit_rows(checkpoint, args.noise)
    if args.json:
        print(json.dumps(table, indent=1))
        return 0
    print(f"{'checkpoint':40s} {'set':12s} {'P1':>7s} {'P2':>7s} {'MPJVE':>6s}")
    for r in table:
        print(f"{r['checkpoint']:40s} {r['set']:12s} {r['p1']:7.1f} {r['p2']:7.1f} {r['mpjve']:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
