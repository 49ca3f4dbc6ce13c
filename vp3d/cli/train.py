"""`vp3d train`: train the lifter on CMU-style mocap filmed by virtual cameras, supervised or semi-supervised.

    vp3d train --epochs 32 --channels 256 --out runs/tcn243      # the shipped default's recipe (weights/)
    vp3d train --labeled-fraction 0.02 --unlabeled out/*.npz     # + 2D from vp3d-infer --npz, reprojected

Progress goes to stderr; `--json` prints one object per epoch on stdout, then {validation, out}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..argtypes import count, filter_widths, number
from ..training.train_config import TrainConfig


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    from .common import SHARED_MOCAP
    d = TrainConfig()
    p.add_argument("--mocap", type=Path, default=SHARED_MOCAP,
                   help="folder of CMU-style mocap (BVH / ASF+AMC), split by subject (default: ../shared/data/mocap)")
    p.add_argument("--cache", type=Path, default=Path("runs/mocap_cache.npz"), help="cache of the parsed mocap")
    p.add_argument("--arc", type=filter_widths, default=d.filter_widths, metavar="3,3,3,3,3",
                   help="filter widths (odd, >= 1); the receptive field is their product (default: 243 frames)")
    p.add_argument("--channels", type=count, default=d.channels)
    p.add_argument("--causal", action="store_true")
    p.add_argument("--dropout", type=number(0, 1, include_low=True), default=d.dropout)
    p.add_argument("--epochs", type=count, default=d.epochs)
    p.add_argument("--batch-size", type=count, default=d.batch_size, help="output frames per step")
    p.add_argument("--chunk", type=count, default=d.chunk, help="output frames per window (chunked scheme)")
    p.add_argument("--scheme", choices=["chunked", "strided"], default=d.scheme)
    p.add_argument("--lr", type=number(0), default=d.lr)
    p.add_argument("--lr-decay", type=number(0, 1, include_high=True), default=d.lr_decay,
                   help="learning rate factor per epoch")
    p.add_argument("--lr-warmup-steps", type=number(0, cast=int, include_low=True), default=d.lr_warmup_steps,
                   help="raise the learning rate linearly from 0 over the run's first N steps (fine-tuning: "
                        "keeps Adam's first steps from throwing the given weights off; default: 0, none)")
    p.add_argument("--ema", type=number(0, 1, include_low=True), default=d.ema, metavar="DECAY",
                   help="validate, save and ship an exponential moving average of the weights with this "
                        "decay per step (e.g. 0.999: about the last 1,000 steps); default 0: off")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--epoch-frames", type=count, default=None, help="output frames per epoch (default: all)")
    p.add_argument("--bn-batches", type=number(0, cast=int, include_low=True), default=d.bn_batches,
                   help="batches of independent windows that re-estimate BatchNorm statistics each epoch")
    p.add_argument("--frozen-batchnorm", action="store_true",
                   help="fine-tune with BatchNorm's running statistics of --init-from held fixed (needs "
                        "--init-from): allows few long windows per step (--chunk 128), the cheaper scheme")
    p.add_argument("--bf16", action="store_true",
                   help="forward and backward passes in bfloat16 (weights, optimizer and losses stay float32; "
                        "validation and the saved weights float32): several times the float32 rate on CPUs with "
                        "AMX (bench/README.md); where bfloat16 is emulated (AVX2 CPUs), a warning and float32")
    p.add_argument("--val-views", type=count, default=d.val_views, help="virtual cameras per validation motion")
    p.add_argument("--no-noise", action="store_true", help="train on clean projections (no detector noise)")
    p.add_argument("--noise-model", choices=("detector", "mediapipe"), default=d.noise_model,
                   help="the training 2D's errors: 'detector' (the original model, as validation uses) or "
                        "'mediapipe' (fitted to MediaPipe on real video: steadier on still joints, jitter "
                        "growing with speed, correlated in time; bench/noise_model_fit.py)")
    p.add_argument("--pose-augmentation", action="store_true",
                   help="more motion from the same takes: body parts recombined across takes, wide body "
                        "proportions (children included), reversed motion")
    p.add_argument("--body-proportions", choices=("wide", "adult"),
                   help="with --pose-augmentation: 'wide' varies the size too (children included); 'adult' "
                        "varies the shape only, at adult sizes (P1 pays for every size error 2D cannot tell)")
    p.add_argument("--shape-spread", type=number(0, include_low=True), default=d.shape_spread, metavar="S",
                   help="with --pose-augmentation: the spread of body shapes (legs, arms, trunk, head, hip and "
                        "shoulder width against each other; each bone) times S (default 1: 7%% per body part, "
                        "3%% per bone; with --steps-loss 1, 2 measured worse and 0.5 better on both validation "
                        "sets, weights/MODEL_CARD.md session 28)")
    p.add_argument("--joint-angles", action="store_true",
                   help="half the training windows with other joint angles: trunk bent and twisted, head "
                        "turned, arms and legs turned at shoulder and hip, elbows and knees more or less bent "
                        "(bone lengths kept)")
    p.add_argument("--joint-angle-scale", type=float, default=d.joint_angle_scale, metavar="S",
                   help="with --joint-angles: every joint's spread times S (default 1: 8 deg trunk, 12 neck, 15 "
                        "shoulders, 10 hips; elbow and knee bend factors e^(0.25 / 0.2 sigma))")
    p.add_argument("--arm-recombination", type=number(0, 1, include_low=True, include_high=True),
                   default=d.arm_recombination, metavar="P",
                   help="each arm, with chance P, from another take: its upper arm and forearm pointing in this "
                        "take's chest frame as they did in the other's, this take's bone lengths (default 0: never)")
    p.add_argument("--leg-recombination", type=number(0, 1, include_low=True, include_high=True),
                   default=d.leg_recombination, metavar="P",
                   help="each leg, with chance P, from another take: its thigh and shin pointing in this take's "
                        "upright pelvis frame as they did in the other's, this take's bone lengths (default 0: never)")
    p.add_argument("--definition-jitter", type=number(0, include_low=True), default=d.definition_jitter,
                   metavar="M", help="with --pose-augmentation: each joint moved by its own constant offset of M metres "
                        "per axis (Gaussian) in the frame of its body part, as another rig would mark it (default 0; 0.02 measured "
                        "a loss, weights/MODEL_CARD.md session 26)")
    p.add_argument("--val-bvh", type=Path, action="append", default=[], metavar="DIR",
                   help="a folder of BVH takes (any supported rig) measured each epoch beside the CMU "
                        "validation split, never trained on; repeatable")
    p.add_argument("--trajectory", action="store_true", help="also train a trajectory model (root position)")
    p.add_argument("--trajectory-units", choices=("focal", "m"), default=d.trajectory_units,
                   help="what the trajectory model predicts: the root divided by the normalized focal length "
                        "(default: depth then follows from the person's size in the image whatever the lens; "
                        "inference multiplies by the video's focal length) or metres (the reference's)")
    p.add_argument("--freeze-pose", action="store_true",
                   help="with --trajectory and --init-from: train the trajectory model alone beside the given "
                        "pose model, held fixed (half the cost per step; best.bin by root error)")
    p.add_argument("--labeled-fraction", type=number(0, 1, include_high=True), default=1.0,
                   help="use only this fraction of the training frames as labeled 3D (whole takes, seeded)")
    p.add_argument("--unlabeled", type=Path, nargs="+", metavar="NPZ",
                   help="semi-supervised: 2D keypoint files from `vp3d-infer --npz` (or folders of them)")
    p.add_argument("--warmup-epochs", type=number(0, cast=int, include_low=True), default=d.warmup_epochs,
                   help="semi-supervised: supervised epochs before the 2D reprojection loss starts")
    p.add_argument("--bone-length-term", action=argparse.BooleanOptionalAction, default=d.bone_length_term,
                   help="semi-supervised: the paper's bone-length loss (default: off; it made validation worse "
                        "in every CMU run, bench/README.md)")
    p.add_argument("--reprojection-weight", type=number(0, include_low=True), default=d.reprojection_weight,
                   help="semi-supervised: weight of the 2D reprojection loss (default: 1, the reference's)")
    p.add_argument("--velocity-weight", type=number(0, include_low=True), default=d.velocity_weight,
                   help="weight of a velocity term (error of frame-to-frame motion; not in the reference), "
                        "chunked scheme")
    p.add_argument("--steps-loss", type=number(0, include_low=True), default=d.steps_loss, metavar="W",
                   help="with --init-from: add W times the error (and velocity term) of the output after the steps "
                        "--init-from's weights declare (smoothing, toward the 2D, toward usual bone lengths), as "
                        "users get it; the saved weights declare the same steps and validation measures after "
                        "them; a --causal lifter's steps run from the past only, as in live mode (default 0: the "
                        "raw output only; 1 measured a CMU gain and a bandai2 loss, weights/MODEL_CARD.md session 27)")
    p.add_argument("--out", type=Path, default=Path(d.out), help="output folder for last.bin / best.bin")
    p.add_argument("--resume", help="checkpoint (last.bin) to continue from")
    p.add_argument("--init-from", metavar="CKPT",
                   help="fine-tune: start from these weights (same architecture) with a new optimizer and schedule")
    p.add_argument("--device", default=None)
    p.add_argument("--threads", type=count, default=None, help="CPU threads for torch")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per epoch on stdout, then {validation, out} (instead of the log on stderr)")


def _load_unlabeled(paths: list[Path]):
    from ..errors import UserError
    from ..training.unlabeled import UnlabeledDataError, load_unlabeled
    files = []
    for p in paths:
        if p.is_dir():
            files += sorted(p.glob("*.npz"))
        elif p.exists():
            files.append(p)
        else:
            raise UserError(f"{p}: no such file or folder")
    if not files:
        raise UserError(f"{', '.join(map(str, paths))}: no .npz files of 2D keypoints found")
    try:
        return [load_unlabeled(f) for f in files]
    except UnlabeledDataError as e:
        raise UserError(str(e)) from None


def run_train(args) -> int:
    import torch

    from ..errors import UserError
    from ..training.train import train
    from ..lifter.device import bfloat16_is_native, resolve_device
    from ..mocap import load_collection, split

    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device or "auto")
    if args.freeze_pose and not (args.trajectory and (args.init_from or args.resume) and not args.unlabeled):
        raise UserError("--freeze-pose trains the trajectory model beside the pose model of --init-from: it needs "
                        "--trajectory and --init-from, and no --unlabeled data")
    if args.frozen_batchnorm and not (args.init_from or args.resume):
        raise UserError("--frozen-batchnorm fine-tunes with the BatchNorm statistics of --init-from's model: it "
                        "needs --init-from")
    if args.joint_angle_scale != 1 and not args.joint_angles:
        raise UserError("--joint-angle-scale scales the spread of --joint-angles: it needs --joint-angles")
    if args.body_proportions and not args.pose_augmentation:
        raise UserError("--body-proportions chooses the bodies of --pose-augmentation: it needs --pose-augmentation")
    if args.shape_spread != 1 and not args.pose_augmentation:
        raise UserError("--shape-spread scales the body shapes of --pose-augmentation: it needs --pose-augmentation")
    if args.definition_jitter and not args.pose_augmentation:
        raise UserError("--definition-jitter varies the bodies of --pose-augmentation: it needs --pose-augmentation")
    if args.steps_loss and not (args.init_from or args.resume):
        raise UserError("--steps-loss trains through the steps --init-from's weights declare: it needs --init-from")
    if args.out.exists() and not args.out.is_dir():
        raise UserError(f"{args.out}: is a file; --out names the folder for last.bin / best.bin")
    if not args.mocap.exists():
        raise UserError(f"{args.mocap}: mocap folder not found")
    motions = load_collection(args.mocap, cache=args.cache)
    train_m, val_m = split(motions)
    if not train_m or not val_m:
        raise UserError(f"{args.mocap}: need motions of both training and validation subjects")
    if args.labeled_fraction < 1:
        from ..mocap import labeled_subset
        train_m, _ = labeled_subset(train_m, args.labeled_fraction, args.seed)
    unlabeled = _load_unlabeled(args.unlabeled) if args.unlabeled else None
    from ..mocap import load_bvh_folder
    extra_validation = {d.name: [m.positions for m in load_bvh_folder(d)] for d in args.val_bvh}
    bf16 = args.bf16 and bfloat16_is_native(device)
    if args.bf16 and not bf16:  # emulated bfloat16 would make the run many times slower, not faster
        print(f"vp3d: warning: --bf16: this {device} computes bfloat16 by emulation (no AVX-512 BF16 or AMX), "
              "about 18x slower than float32; training in float32", file=sys.stderr)
    config = TrainConfig(
        filter_widths=args.arc, channels=args.channels, causal=args.causal,
        dropout=args.dropout, epochs=args.epochs, batch_size=args.batch_size, chunk=args.chunk,
        scheme=args.scheme, lr=args.lr, lr_decay=args.lr_decay, lr_warmup_steps=args.lr_warmup_steps, ema=args.ema,
        frozen_batchnorm=args.frozen_batchnorm, bf16=bf16,
        seed=args.seed, noise=not args.no_noise, noise_model=args.noise_model,
        epoch_frames=args.epoch_frames, val_views=args.val_views, bn_batches=args.bn_batches, out=str(args.out),
        resume=args.resume, init_from=args.init_from, velocity_weight=args.velocity_weight,
        trajectory=args.trajectory, freeze_pose=args.freeze_pose, trajectory_units=args.trajectory_units,
        pose_augmentation=args.pose_augmentation, body_proportions=args.body_proportions or "wide",
        shape_spread=args.shape_spread,
        joint_angles=args.joint_angles, joint_angle_scale=args.joint_angle_scale,
        arm_recombination=args.arm_recombination, leg_recombination=args.leg_recombination,
        definition_jitter=args.definition_jitter, steps_loss=args.steps_loss,
        warmup_epochs=args.warmup_epochs,
        bone_length_term=args.bone_length_term, reprojection_weight=args.reprojection_weight,
        data_description=(f"CMU mocap at {args.mocap}: {len(train_m)} training motions "
                          f"({sum(len(m.positions) for m in train_m)} frames at 50 fps), validation subjects "
                          f"{sorted({m.subject for m in val_m})} ({len(val_m)} motions)"),
        command="vp3d train " + " ".join(sys.argv[2:]))

    def log(msg):
        if args.json:
            return
        print(msg, file=sys.stderr, flush=True)

    def on_epoch(entry):
        if args.json:
            print(json.dumps(entry), flush=True)

    result = train(config, [m.positions for m in train_m], [m.positions for m in val_m], log=log,
                   device=device, unlabeled=unlabeled, on_epoch=on_epoch,
                   extra_validation=extra_validation).final_validation
    if args.json:
        print(json.dumps({"validation": result, "out": str(args.out)}))
    return 0
