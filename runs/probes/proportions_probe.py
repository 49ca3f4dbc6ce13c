"""How far do bandai2's body proportions lie from CMU's? Per take, the median length of each bone group (legs, arms,
hips, shoulders, head; both sides summed) over the torso's (pelvis-spine-thorax), and the summed bone length.
Prints the mean and spread of log ratios per set and bandai2's offset from CMU training in CMU-spread units:
what --shape-spread must cover (pose augmentation's 'adult' bodies: 7% per group, 3% per bone, i.e. sigma ~0.076
of a group's log length against the torso's ~ sqrt(2) * 0.076 = 0.107 for a ratio).

    .venv/bin/python runs/probes/proportions_probe.py
"""
from pathlib import Path

import numpy as np

from vp3d.mocap import load_bvh_folder, load_collection, split
from vp3d.skeleton import H36M
from vp3d.training.pose_augmentation import _BONE_GROUPS

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
PARENTS = np.array(H36M.parents)


def group_ratios(positions: np.ndarray) -> dict[str, float]:
    lengths = np.median(np.linalg.norm(positions[:, 1:] - positions[:, PARENTS[1:]], axis=-1), axis=0)
    by_joint = np.concatenate([[0.0], lengths])
    torso = by_joint[list(_BONE_GROUPS["torso"])].sum()
    out = {g: by_joint[list(j)].sum() / torso for g, j in _BONE_GROUPS.items() if g != "torso"}
    out["size (m)"] = lengths.sum()
    return out


def table(name: str, motions) -> dict[str, np.ndarray]:
    rows = [group_ratios(m.positions) for m in motions]
    return {k: np.log(np.array([r[k] for r in rows])) for k in rows[0]} | {"n": len(rows)}


train, val = split(load_collection(SHARED / "mocap", cache=ROOT / "runs" / "mocap_cache.npz"))
sets = {"CMU train": table("CMU train", train), "CMU 02+135": table("CMU 02+135", val),
        "bandai2": table("bandai2", load_bvh_folder(SHARED / "mocap_validation" / "bandai2"))}
keys = [k for k in sets["CMU train"] if k != "n"]
print(f"{'set':12s} {'takes':>5s} " + " ".join(f"{k:>18s}" for k in keys))
for name, t in sets.items():
    print(f"{name:12s} {t['n']:5d} " + " ".join(f"{np.exp(t[k].mean()):8.3f} +-{t[k].std():6.3f}" for k in keys))
ref = sets["CMU train"]
for name in ("CMU 02+135", "bandai2"):
    print(f"{name} offset from CMU train (log ratio / CMU train's spread): "
          + ", ".join(f"{k} {sets[name][k].mean() - ref[k].mean():+.3f} ({(sets[name][k].mean() - ref[k].mean()) / ref[k].std():+.1f})"
                      for k in keys))
