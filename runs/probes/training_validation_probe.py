"""Probe (session 27): a checkpoint on `vp3d train`'s own validation (T: CMU 02+135 and bandai2, one fixed camera
per take, seed 0, detector-like noise), after the steps version 11 declares, so that runs trained on the raw error
and runs trained through the steps (--steps-loss) compare on what users get.

    .venv/bin/python runs/probes/training_validation_probe.py CHECKPOINT [CHECKPOINT ...]
"""
import sys
from pathlib import Path

from vp3d.lifter.checkpoint import load_checkpoint
from vp3d.lifter.inference import Lifter
from vp3d.mocap import load_bvh_folder, load_collection, split
from vp3d.training.train import ValidationSet

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
steps = load_checkpoint(ROOT / "weights" / "vp3d_cmu_h36m17_243f.bin").meta
_, val = split(load_collection(SHARED / "mocap", cache=ROOT / "runs" / "mocap_cache.npz"))
sets = {"CMU": ValidationSet.build([m.positions for m in val], 1),
        "bandai2": ValidationSet.build([m.positions for m in load_bvh_folder(SHARED / "mocap_validation" / "bandai2")], 1)}
for path in sys.argv[1:]:
    lifter = Lifter.load(path)
    lifter.meta = lifter.meta.with_steps_of(steps)
    figures = {name: s.evaluate(lifter)["noisy"] for name, s in sets.items()}
    print(path, " | ".join(f"{n} P1 {f['p1']:.1f} P2 {f['p2']:.1f} MPJVE {f['mpjve']:.2f}" for n, f in figures.items()),
          flush=True)
