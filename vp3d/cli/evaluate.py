"""`vp3d evaluate`: Protocols 1-3 and MPJVE of a checkpoint, as a table or JSON.

Two data sources:
- the CMU validation split (subjects 02 and 135) seen by fixed, seeded virtual cameras, with clean or
  detector-like noisy 2D (`--mocap DIR`, the default);
- the reference release's Human3.6M files (`--h36m-dir DIR -k cpn_ft_h36m_dbb`): the equivalent of
  `run.py -k cpn_ft_h36m_dbb -arc 3,3,3,3,3 --evaluate pretrained_h36m_cpn.bin` is
  `vp3d evaluate --h36m-dir data -k cpn_ft_h36m_dbb --checkpoint pretrained_h36m_cpn.bin`.
Their pickles are read by vp3d.detectors.safe_npz (containers and numpy arrays only); one that needs more is
refused unless --trust-data is given.
"""

from __future__ import annotations

import argparse
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np

from ..detectors.safe_npz import UntrustedFileError
from ..training.h36m import H36MDataError, h36m_sequences, load_h36m_2d, load_h36m_3d
from ..training.h36m_cameras import CAMERAS_JSON, load_h36m_cameras
from ..training.sequence import Sequence

TRUST_DATA = "--trust-data"
"""The flag that lets a data file's pickles name more than containers and numpy arrays (the refusal names it)."""
H36M_TEST_SUBJECTS = "S9,S11"
UNREADABLE = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, pickle.UnpicklingError)
"""What reading a damaged or foreign data file raises."""


def add_evaluate_arguments(p: argparse.ArgumentParser) -> None:
    from .common import SHARED_MOCAP
    p.add_argument("--checkpoint", type=Path, help="lifter checkpoint (default: the shipped weights)")
    p.add_argument("--input-layout", choices=["h36m", "coco"], help="2D layout of an official checkpoint")
    p.add_argument("--causal", action="store_true", default=None)
    p.add_argument("--trust-checkpoint", action="store_true", help="allow full unpickling of the checkpoint")
    p.add_argument("--mocap", type=Path, default=SHARED_MOCAP, help="CMU mocap folder (validation split)")
    p.add_argument("--cache", type=Path, default=Path("runs/mocap_cache.npz"))
    p.add_argument("--bvh-dir", type=Path,
                   help="instead of the CMU split: every BVH take in this folder (any supported rig, e.g. "
                        "../shared/data/mocap_validation/bandai2), seen by the same kind of virtual cameras")
    p.add_argument("--noise", choices=["detector", "mediapipe", "none"], default="detector",
                   help="2D input of the CMU split or --bvh-dir: detector-like noise (default; the model every "
                        "past result used), noise fitted to MediaPipe on real video, or clean projections")
    p.add_argument("--views", type=int, default=2, help="virtual cameras per CMU validation motion")
    p.add_argument("--h36m-dir", type=Path, help="folder with data_3d_h36m.npz and data_2d_h36m_<keypoints>.npz")
    p.add_argument("-k", "--keypoints", default="cpn_ft_h36m_dbb", help="2D detections name (with --h36m-dir)")
    p.add_argument("--subjects", default=H36M_TEST_SUBJECTS, help="Human3.6M test subjects, comma-separated")
    p.add_argument("--actions", default=None, help="comma-separated action prefixes (default: all)")
    p.add_argument("--cameras", type=Path, default=CAMERAS_JSON, help="Human3.6M camera parameters JSON")
    p.add_argument(TRUST_DATA, action="store_true",
                   help="allow full unpickling of Human3.6M npz files whose pickles hold more than containers and "
                        "numpy arrays (runs code from the file: trusted files only)")
    p.add_argument("--by", choices=["action", "sequence"], default="action", help="table rows")
    p.add_argument("--no-flip", action="store_true", help="disable test-time flip augmentation")
    p.add_argument("--no-smoothing", action="store_true",
                   help="measure the network's raw 3D, without what its weights declare after the network (output "
                        "smoothing, joints moved toward their 2D and toward usual bone lengths along its rays)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table (and no progress)")
    p.add_argument("--quiet", action="store_true", help="no progress output")


def cmu_validation_sequences(mocap: Path, cache: Path | None, views: int, noise: str, seed: int = 0) -> list[Sequence]:
    """Fixed views of the validation subjects' motions: same cameras and noise on every call."""
    from ..mocap import load_collection, split
    _, val = split(load_collection(mocap, cache=cache))
    return virtual_view_sequences(val, views, noise, seed)


def virtual_view_sequences(val, views: int, noise: str, seed: int = 0) -> list[Sequence]:
    """Motions (vp3d.mocap.Motion) seen by fixed, seeded virtual cameras: same cameras and noise on every call.
    noise: "none" or a NoiseModel.named name."""
    from ..training.synthetic import NoiseModel, random_camera, render_view
    model = None if noise == "none" else NoiseModel.named(noise)
    rng = np.random.default_rng(seed)
    seqs = []
    for motion in val:
        for v in range(views):
            cam = random_camera(rng, motion.positions)
            noise_rng = np.random.default_rng([seed, v, len(seqs)])
            kp, pose, traj, intr = render_view(noise_rng, motion.positions, model, cam)
            seqs.append(Sequence(subject=motion.subject, action=motion.name, camera_id=f"virtual{v}",
                                 kp2d_norm=kp, pose3d=pose, traj=traj, intrinsics=intr,
                                 width=cam.width, height=cam.height))
    return seqs


def name_list(text: str | None) -> list[str]:
    """Comma-separated names, "S9, S11" -> ["S9", "S11"]: spaces around a name dropped, empty names skipped."""
    return [name.strip() for name in (text or "").split(",") if name.strip()]


def _naming(path: Path, e: Exception) -> str:
    """The first line of ``e``'s message, led by ``path`` unless the message starts with it already."""
    text = str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)  # KeyError's str() is quoted
    text = (text.splitlines() or [type(e).__name__])[0]
    return text if text.startswith(str(path)) else f"{path}: {text}"


def _read(path: Path, load):
    """load(path), with the failures of a file that cannot be used as one line naming it (UserError)."""
    from ..errors import UserError
    try:
        return load(path)
    except UntrustedFileError as e:
        raise e.naming(TRUST_DATA) from None
    except UNREADABLE as e:
        raise UserError(_naming(path, e)) from None


def h36m_eval_sequences(args) -> list[Sequence]:
    """The sequences of --subjects (and --actions) from the reference's files; every problem with them is a
    UserError naming the file at fault."""
    from ..errors import UserError
    files = {"3d": args.h36m_dir / "data_3d_h36m.npz", "2d": args.h36m_dir / f"data_2d_h36m_{args.keypoints}.npz",
             "cameras": args.cameras}
    for f in (files["3d"], files["2d"]):
        if not f.exists():
            raise UserError(f"{f}: not found (reference release layout: data_3d_h36m.npz, data_2d_h36m_<name>.npz)")
    if not files["cameras"].exists():
        raise UserError(f"{files['cameras']}: camera parameters not found")
    subjects, actions = name_list(args.subjects), name_list(args.actions) or None
    if not subjects:
        raise UserError(f"--subjects {args.subjects!r}: no subject given")
    data3d = _read(files["3d"], lambda f: load_h36m_3d(f, trust=args.trust_data))
    data2d = _read(files["2d"], lambda f: load_h36m_2d(f, trust=args.trust_data))
    cameras = _read(files["cameras"], load_h36m_cameras)
    try:
        sequences = h36m_sequences(data3d, data2d, cameras, subjects, actions)
    except H36MDataError as e:
        raise UserError(_naming(files[e.source], e)) from None
    if not sequences:
        have = dict.fromkeys(action.split(" ")[0] for subject in subjects for action in data3d[subject])
        wanted = f" starting with {' or '.join(map(repr, actions))}" if actions else ""
        raise UserError(f"{files['3d']}: no action{wanted} for {', '.join(subjects)} "
                        f"(actions: {', '.join(have) or 'none'})")
    return sequences


def run_evaluate(args) -> int:
    from ..errors import UserError
    from .common import Progress

    args.input = args.h36m_dir or args.bvh_dir or args.mocap  # what a --json error names as "input" (vp3d.cli.common._run)
    if args.h36m_dir:  # the data first: a problem with it shows without waiting for torch and the model
        sequences = h36m_eval_sequences(args)
        source = f"Human3.6M {args.keypoints} {','.join(name_list(args.subjects))}"
    elif args.bvh_dir:
        from ..mocap import load_bvh_folder
        sequences = virtual_view_sequences(load_bvh_folder(args.bvh_dir), args.views, args.noise)
        source = f"{args.bvh_dir}, {args.views} virtual cameras per take, 2D noise: {args.noise}"
    else:
        if not args.mocap.exists():
            raise UserError(f"{args.mocap}: mocap folder not found (give --mocap or --h36m-dir)")
        sequences = cmu_validation_sequences(args.mocap, args.cache, args.views, args.noise)
        source = f"CMU validation split, {args.views} virtual cameras per motion, 2D noise: {args.noise}"
    if not sequences:
        raise UserError(f"{args.input}: nothing to evaluate")
    # Imported here, not at the top: `vp3d batch` builds this parser too, and should not wait for torch.
    from ..training.evaluate import evaluate
    from ..lifter.inference import Lifter
    from ..lifter.device import resolve_device
    from ..lifter.weights import default_checkpoint
    lifter = Lifter.load(args.checkpoint or default_checkpoint(), device=resolve_device(args.device), causal=args.causal,
                         input_layout=args.input_layout, trust=args.trust_checkpoint)
    if sequences[0].kp2d_norm.shape[1] != lifter.meta.num_joints_in:
        raise UserError(f"the 2D data has {sequences[0].kp2d_norm.shape[1]} joints, the checkpoint expects "
                        f"{lifter.meta.num_joints_in}")
    flip, smooth = not args.no_flip, not args.no_smoothing
    bar = Progress(args.quiet or args.json, "evaluate", sum(s.num_frames for s in sequences))
    try:
        result = evaluate(lambda kp: lifter.lift(kp, flip=flip, smooth=smooth).poses, sequences, group_by=args.by,
                          progress=bar)
    finally:
        bar.close()
    if args.json:
        print(json.dumps({"source": source, "checkpoint": str(args.checkpoint or default_checkpoint()),
                          **result.to_dict()}))
    else:
        print(f"{source}; checkpoint {args.checkpoint or default_checkpoint()}")
        print("P1 = MPJPE, P2 = P-MPJPE, P3 = N-MPJPE (mm); MPJVE (mm/frame)")
        print(result.to_table())
    return 0
