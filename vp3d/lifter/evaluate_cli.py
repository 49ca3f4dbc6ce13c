"""`vp3d evaluate`: Protocols 1-3 and MPJVE of a checkpoint, as a table or JSON.

Two data sources:
- the CMU validation split (subjects 02 and 135) seen by fixed, seeded virtual cameras, with clean or
  detector-like noisy 2D (`--mocap DIR`, the default);
- the reference release's Human3.6M files (`--h36m-dir DIR -k cpn_ft_h36m_dbb`): the equivalent of
  `run.py -k cpn_ft_h36m_dbb -arc 3,3,3,3,3 --evaluate pretrained_h36m_cpn.bin` is
  `vp3d evaluate --h36m-dir data -k cpn_ft_h36m_dbb --checkpoint pretrained_h36m_cpn.bin --trust-data`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from .h36m import Sequence, h36m_sequences, load_h36m_2d, load_h36m_3d, load_h36m_cameras

CAMERAS_JSON = Path(__file__).with_name("h36m_cameras.json")
H36M_TEST_SUBJECTS = "S9,S11"


def add_evaluate_arguments(p: argparse.ArgumentParser) -> None:
    from ..cli import SHARED_MOCAP
    p.add_argument("--checkpoint", type=Path, help="lifter checkpoint (default: the shipped weights)")
    p.add_argument("--input-layout", choices=["h36m", "coco"], help="2D layout of an official checkpoint")
    p.add_argument("--causal", action="store_true", default=None)
    p.add_argument("--trust-checkpoint", action="store_true", help="allow full unpickling of the checkpoint")
    p.add_argument("--mocap", type=Path, default=SHARED_MOCAP, help="CMU mocap folder (validation split)")
    p.add_argument("--cache", type=Path, default=Path("runs/mocap_cache.npz"))
    p.add_argument("--bvh-dir", type=Path,
                   help="instead of the CMU split: every BVH take in this folder (any supported rig, e.g. "
                        "../shared/data/mocap_validation/bandai2), seen by the same kind of virtual cameras")
    p.add_argument("--noise", choices=["detector", "none"], default="detector",
                   help="2D input of the CMU split or --bvh-dir: detector-like noise (default) or clean projections")
    p.add_argument("--views", type=int, default=2, help="virtual cameras per CMU validation motion")
    p.add_argument("--h36m-dir", type=Path, help="folder with data_3d_h36m.npz and data_2d_h36m_<keypoints>.npz")
    p.add_argument("-k", "--keypoints", default="cpn_ft_h36m_dbb", help="2D detections name (with --h36m-dir)")
    p.add_argument("--subjects", default=H36M_TEST_SUBJECTS, help="Human3.6M test subjects")
    p.add_argument("--actions", default=None, help="comma-separated action prefixes (default: all)")
    p.add_argument("--cameras", type=Path, default=CAMERAS_JSON, help="Human3.6M camera parameters JSON")
    p.add_argument("--trust-data", action="store_true",
                   help="allow unpickling the Human3.6M npz files (they hold pickled dicts)")
    p.add_argument("--by", choices=["action", "sequence"], default="action", help="table rows")
    p.add_argument("--no-flip", action="store_true", help="disable test-time flip augmentation")
    p.add_argument("--device", default="cpu")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def cmu_validation_sequences(mocap: Path, cache: Path | None, views: int, noisy: bool, seed: int = 0) -> list[Sequence]:
    """Fixed views of the validation subjects' motions: same cameras and noise on every call."""
    from ..mocap import load_collection, split
    _, val = split(load_collection(mocap, cache=cache))
    return virtual_view_sequences(val, views, noisy, seed)


def virtual_view_sequences(val, views: int, noisy: bool, seed: int = 0) -> list[Sequence]:
    """Motions (vp3d.mocap.Motion) seen by fixed, seeded virtual cameras: same cameras and noise on every call."""
    from .synthetic import NoiseModel, random_camera, render_view
    rng = np.random.default_rng(seed)
    seqs = []
    for motion in val:
        for v in range(views):
            cam = random_camera(rng, motion.positions)
            noise_rng = np.random.default_rng([seed, v, len(seqs)])
            kp, pose, traj, intr = render_view(noise_rng, motion.positions, NoiseModel() if noisy else None, cam)
            seqs.append(Sequence(subject=motion.subject, action=motion.name, camera_id=f"virtual{v}",
                                 kp2d_norm=kp, pose3d=pose, traj=traj, intrinsics=intr,
                                 width=cam.width, height=cam.height))
    return seqs


def h36m_eval_sequences(args) -> list[Sequence]:
    from ..cli import UserError
    d3, d2 = args.h36m_dir / "data_3d_h36m.npz", args.h36m_dir / f"data_2d_h36m_{args.keypoints}.npz"
    for f in (d3, d2):
        if not f.exists():
            raise UserError(f"{f}: not found (reference release layout: data_3d_h36m.npz, data_2d_h36m_<name>.npz)")
    try:
        data3d = load_h36m_3d(d3, trust=args.trust_data)
        data2d = load_h36m_2d(d2, trust=args.trust_data)
    except ValueError as e:
        raise UserError(str(e).replace("trust=True", "--trust-data").splitlines()[0]) from None
    actions = args.actions.split(",") if args.actions else None
    return h36m_sequences(data3d, data2d, load_h36m_cameras(args.cameras), args.subjects.split(","), actions)


def run_evaluate(args) -> int:
    # Imported here, not at the top: `vp3d batch` builds this parser too, and should not wait for torch.
    from .evaluate import evaluate
    from .inference import Lifter
    from ..cli import UserError
    from ..pipeline.infer import default_checkpoint, resolve_device

    lifter = Lifter.load(args.checkpoint or default_checkpoint(), device=resolve_device(args.device), causal=args.causal,
                         input_layout=args.input_layout, trust=args.trust_checkpoint)
    if args.h36m_dir:
        sequences = h36m_eval_sequences(args)
        source = f"Human3.6M {args.keypoints} {args.subjects}"
    elif args.bvh_dir:
        from ..mocap import load_bvh_folder
        try:
            motions = load_bvh_folder(args.bvh_dir)
        except (OSError, ValueError) as e:
            raise UserError(f"{args.bvh_dir}: {e}") from None
        sequences = virtual_view_sequences(motions, args.views, args.noise == "detector")
        source = f"{args.bvh_dir}, {args.views} virtual cameras per take, 2D noise: {args.noise}"
    else:
        if not args.mocap.exists():
            raise UserError(f"{args.mocap}: mocap folder not found (give --mocap or --h36m-dir)")
        sequences = cmu_validation_sequences(args.mocap, args.cache, args.views, args.noise == "detector")
        source = f"CMU validation split, {args.views} virtual cameras per motion, 2D noise: {args.noise}"
    if sequences and sequences[0].kp2d_norm.shape[1] != lifter.meta.num_joints_in:
        raise UserError(f"the 2D data has {sequences[0].kp2d_norm.shape[1]} joints, the checkpoint expects "
                        f"{lifter.meta.num_joints_in}")
    flip = not args.no_flip
    result = evaluate(lambda kp: lifter.lift(kp, flip=flip).poses, sequences, group_by=args.by)
    if args.json:
        print(json.dumps({"source": source, "checkpoint": str(args.checkpoint or default_checkpoint()),
                          **result.to_dict()}))
    else:
        print(f"{source}; checkpoint {args.checkpoint or default_checkpoint()}")
        print("P1 = MPJPE, P2 = P-MPJPE, P3 = N-MPJPE (mm); MPJVE (mm/frame)")
        print(result.to_table())
    return 0
