"""Probe (session 27): a checkpoint on `vp3d train`'s own validation (T: CMU 02+135 and bandai2, one fixed camera
per take, seed 0, detector-like noise), after the steps version 11 declares, so that runs trained on the raw error
and runs trained through the steps (--steps-loss) compare on what users get.

    .venv/bin/python runs/probes/training_validation_probe.py [--steps-of WEIGHTS] CHECKPOINT [CHECKPOINT ...]

--steps-of: the file whose declared steps every checkpoint gets (default version 11's; session 29: causal version 9's
for causal checkpoints, whose steps run from the past only).
"""
import sys
from pathlib import Path

from vp3d.lifter.checkpoint import load_checkpoint
from vp3d.lifter.inference import Lifter
from vp3d.mocap import load_bvh_folder, load_collection, split
from vp3d.training.train import ValidationSet

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
args = sys.argv[1:]
steps_of = args[1] if args[:1] == ["--steps-of"] else ROOT / "weights" / "vp3d_cmu_h36m17_243f.bin"
checkpoints = args[2:] if args[:1] == ["--steps-of"] else args
steps = load_checkpoint(steps_of).meta
_, val = split(load_collection(SHARED / "mocap", cache=ROOT / "runs" / "mocap_cache.npz"))
sets = {"CMU": ValidationSet.build([m.positions for m in val], 1),
        "bandai2": ValidationSet.build([m.positions for m in load_bvh_folder(SHARED / "mocap_validation" / "bandai2")], 1)}
for path in checkpoints:
    lifter = Lifter.load(path)
    lifter.meta = lifter.meta.with_steps_of(steps)
    figures = {name: s.evaluate(lifter)["noisy"] for name, s in sets.items()}
    print(path, " | ".join(f"{n} P1 {f['p1']:.1f} P2 {f['p2']:.1f} MPJVE {f['mpjve']:.2f}" for n, f in figures.items()),
          flush=True)
