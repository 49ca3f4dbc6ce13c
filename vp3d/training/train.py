"""Supervised training of the temporal lifter on 3D motion seen through virtual cameras.

Two schemes give the same model:
- "chunked": the dilated model over windows of RF + L - 1 input frames -> L output frames (cheap per
  output frame, but the L frames of a window are correlated);
- "strided": the reference's single-frame variant, RF input frames -> 1 output frame (every frame
  of a batch independent, more computation per frame).
bench/bench_train.py measures both; chunked with short windows is the default here (see README).

Runs unchanged under `torchrun` (DistributedDataParallel; gloo on CPU, NCCL on GPU): each rank
draws its own batches, gradients are averaged, rank 0 validates and writes checkpoints.
"""

from __future__ import annotations

import math
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from ..skeleton import H36M
from ..world import ANKLE_HEIGHT, ANKLES, to_world
from . import metrics
from ..lifter.checkpoint import LifterMeta, LoadedCheckpoint, load_checkpoint, save_checkpoint
from ..lifter.inference import Lifter
from ..lifter.model import TemporalModel, TemporalModelStrided
from ..lifter.camera import project_to_2d_linear
from .deepen import deepen_state_dict, is_deepening
from .differentiable_steps import after_steps
from .shorten import is_shortening, shorten_state_dict
from .pose_augmentation import (AngleSpread, Proportions, recombine, recombine_limb, reverse, vary_joint_angles,
                                vary_joint_definitions, vary_proportions)
from .synthetic import NoiseModel, random_camera, render_view, scale_bones, time_warp
from .train_config import TrainConfig
from .unlabeled import UnlabeledSampler, UnlabeledSequence
from .widen import widen_state_dict

FLIP = H36M.flip_permutation()
MIN_DEPTH = 0.5  # metres: semi-supervised reprojection


class MotionSampler:
    """Draws training windows from world motions with camera, body and speed augmentation."""

    def __init__(self, motions: list[np.ndarray], receptive_field: int, causal: bool, noise: NoiseModel | None,
                 pose_augmentation: bool = False, proportions: Proportions = Proportions(),
                 joint_angles: AngleSpread | None = None, arm_recombination: float = 0.0,
                 leg_recombination: float = 0.0, definition_jitter: float = 0.0):
        """joint_angles: the spread of joint angles varied in half the windows (None: postures as taken);
        arm_recombination / leg_recombination: the chance of each arm / leg coming from another take (0: never);
        definition_jitter: metres per axis of each joint's constant offset per window (0: CMU's definitions)."""
        self.definition_jitter = definition_jitter
        self.recombination = {"arm": arm_recombination, "leg": leg_recombination}
        self.pose_augmentation = pose_augmentation
        self.joint_angles = joint_angles
        self.proportions = proportions
        self.motions = [m for m in motions if len(m) > 1]
        lengths = np.array([len(m) for m in self.motions], dtype=np.float64)
        self.weights = lengths / lengths.sum()
        self.total_frames = int(lengths.sum())
        self.rf = receptive_field
        self.pad = (receptive_field - 1) // 2
        self.causal = causal
        self.noise = noise

    def window(self, rng: np.random.Generator, out_frames: int):
        """One window: inputs (RF + L - 1, 17, 2) normalized 2D, targets (L, 17, 3) metres root-relative,
        root trajectory (L, 3) metres in the camera frame, intrinsics (4,) normalized."""
        speed = float(np.exp(rng.uniform(np.log(0.8), np.log(1.25))))
        n_in = self.rf + out_frames - 1
        left = self.first_output_frame
        seg = self._segment(rng, n_in, left, speed)
        if self.pose_augmentation:
            if rng.random() < 0.5:
                seg = recombine(seg, self._segment(rng, n_in, left, speed))
            if rng.random() < 0.2:
                seg = reverse(seg)
        for limb, chance in self.recombination.items():
            if chance > 0:  # no draw otherwise: the runs before it keep their random numbers
                for side in ("left", "right"):
                    if rng.random() < chance:
                        seg = recombine_limb(seg, self._segment(rng, n_in, left, speed), side, limb)
        if self.joint_angles is not None and rng.random() < 0.5:  # half keep the postures people took
            seg = vary_joint_angles(rng, seg, self.joint_angles)
        if self.pose_augmentation:
            seg = vary_proportions(rng, seg, self.proportions)
            if self.definition_jitter > 0:  # after the proportions: an offset in metres, not scaled with the body
                seg = vary_joint_definitions(rng, seg, self.definition_jitter)
        else:
            seg = scale_bones(rng, seg) * np.exp(rng.normal(0, 0.06))
        kp, pose, traj, intr = render_view(rng, seg, self.noise)
        out = slice(left, left + out_frames)
        return kp, pose[out], traj[out], intr

    @property
    def first_output_frame(self) -> int:
        """The input frame of a window that its first output frame is the pose of."""
        return 2 * self.pad if self.causal else self.pad

    def _segment(self, rng: np.random.Generator, frames: int, left: int, speed: float) -> np.ndarray:
        """`frames` frames of a random take (drawn by length) at `speed`, the first output frame `left` in."""
        motion = self.motions[rng.choice(len(self.motions), p=self.weights)]
        first_out = rng.uniform(0, len(motion) - 1)
        return time_warp(motion, first_out - left * speed, frames, speed)

    def batch(self, rng: np.random.Generator, windows: int, out_frames: int):
        """-> inputs (W, RF + L - 1, 17, 2), targets (W, L, 17, 3): torch float32."""
        kp, pose, _, _ = self.batch_with_camera(rng, windows, out_frames)
        return kp, pose

    def batch_with_camera(self, rng: np.random.Generator, windows: int, out_frames: int):
        """As `batch`, plus root trajectories (W, L, 3) and intrinsics (W, 4)."""
        kps, poses, trajs, intrs = map(np.stack, zip(*(self.window(rng, out_frames) for _ in range(windows))))
        flip = rng.random(windows) < 0.5  # the reference's flip augmentation, half of each batch
        kps[flip] = kps[flip][:, :, FLIP] * np.array([-1, 1], np.float32)
        poses[flip] = poses[flip][:, :, FLIP] * np.array([-1, 1, 1], np.float32)
        trajs[flip] = trajs[flip] * np.array([-1, 1, 1], np.float32)
        intrs[flip] = intrs[flip] * np.array([1, 1, -1, 1], np.float32)
        return tuple(torch.from_numpy(np.ascontiguousarray(a)) for a in (kps, poses, trajs, intrs))


@dataclass
class ValidationSet:
    """Fixed views of the validation motions: the same cameras and noise every epoch."""
    clean: list[np.ndarray]
    noisy: list[np.ndarray]
    targets: list[np.ndarray]
    trajectories: list[np.ndarray] | None = None  # (T, 3) true root positions in the camera frame, metres
    fps: float = 50.0
    focals: list[float] | None = None  # each view's normalized focal length (f / w * 2)

    @classmethod
    def build(cls, motions: list[np.ndarray], views: int, seed: int = 0, fps: float = 50.0) -> "ValidationSet":
        rng = np.random.default_rng(seed)
        clean, noisy, targets, trajectories, focals = [], [], [], [], []
        for m in motions:
            for _ in range(views):
                cam = random_camera(rng, m)
                kp_clean, pose, traj, intrinsics = render_view(rng, m, None, cam)
                kp_noisy, _, _, _ = render_view(rng, m, NoiseModel(), cam)
                clean.append(kp_clean), noisy.append(kp_noisy), targets.append(pose), trajectories.append(traj)
                focals.append(float(intrinsics[0]))
        return cls(clean, noisy, targets, trajectories, fps, focals)

    def evaluate(self, lifter: Lifter) -> dict:
        """P1, P2, N (scale-aligned P1: what is left when the person's size is known) and MPJVE in millimetres (MPJVE per frame at the training rate) on clean and
        detector-like noisy 2D, pooled over all frames. With a trajectory model, also on noisy 2D: the root's
        camera-frame error and the error of its motion (per-sequence offset removed), millimetres, and
        foot-skate (cm/s, vp3d.training.metrics.foot_skate) in the world frame vp3d's --world makes: with the
        predicted trajectory, with root-relative poses (the placement without one), and of the truth."""
        out = {}
        for name, inputs in (("clean", self.clean), ("noisy", self.noisy)):
            focals = self.focals or [None] * len(inputs)
            lifted = [lifter.lift(kp, focal=f) for kp, f in zip(inputs, focals)]
            preds = [r.poses for r in lifted]
            pred, target = np.concatenate(preds), np.concatenate(self.targets)
            vel = np.concatenate([metrics.velocity_errors(p, t) for p, t in zip(preds, self.targets)], axis=0)
            out[name] = {"p1": 1000 * metrics.mpjpe(pred, target), "p2": 1000 * metrics.p_mpjpe(pred, target),
                         "n": 1000 * metrics.n_mpjpe(pred, target), "mpjve": 1000 * float(vel.mean())}
            if name == "noisy" and lifted[0].trajectory is not None and self.trajectories is not None:
                out[name].update(self._root_motion(lifted))
        return out

    def _root_motion(self, lifted) -> dict:
        def skate(poses, traj=None) -> float:
            world = to_world(poses, traj).positions
            return 100 * metrics.foot_skate(world, self.fps, ANKLES, ANKLE_HEIGHT)

        frames = np.array([len(t) for t in self.trajectories], dtype=np.float64)
        errors = np.array([metrics.root_errors(r.trajectory, t) for r, t in zip(lifted, self.trajectories)])
        skates = np.array([[skate(r.poses, r.trajectory), skate(r.poses), skate(p, t)]
                           for r, p, t in zip(lifted, self.targets, self.trajectories)])
        def mean(v: np.ndarray) -> float:  # frame-weighted over the sequences where v is defined
            seen = ~np.isnan(v)
            return float(np.sum(v[seen] * frames[seen]) / frames[seen].sum()) if seen.any() else float("nan")
        return {"root_mm": 1000 * mean(errors[:, 0]), "root_motion_mm": 1000 * mean(errors[:, 1]),
                "foot_skate_cm_s": mean(skates[:, 0]), "foot_skate_root_relative_cm_s": mean(skates[:, 1]),
                "foot_skate_truth_cm_s": mean(skates[:, 2])}


def _root_log(val: dict) -> str:
    """The root's figures for an epoch's log line (trajectory models), else nothing."""
    v = val["noisy"]
    if "root_mm" not in v:
        return ""
    return (f"  root {v['root_mm']:.0f} motion {v['root_motion_mm']:.0f} mm skate {v['foot_skate_cm_s']:.1f} cm/s "
            f"(root-relative {v['foot_skate_root_relative_cm_s']:.1f}, truth {v['foot_skate_truth_cm_s']:.1f})")


def _selection_error(val: dict, config: TrainConfig) -> float:
    """What best.bin minimizes: P1 on noisy 2D, or the root's error when only the trajectory model trains."""
    return val["noisy"]["root_mm"] if config.freeze_pose else val["noisy"]["p1"]


def _distributed() -> tuple[int, int]:
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def bn_momentum(epoch: int, epochs: int, start: float = 0.1, end: float = 0.001) -> float:
    """The reference's schedule: 0.1 decaying exponentially to 0.001 over the run."""
    return start * math.exp(-epoch / epochs * math.log(start / end))


@dataclass
class TrainOutcome:
    model: torch.nn.Module  # the trained model as this process holds it (every rank: the same weights)
    history: list[dict]  # per epoch: loss_mm, val (rank 0 only), frames/s

    @property
    def final_validation(self) -> dict:
        return self.history[-1]["val"] if self.history else {}


def _pose_loss(pred: torch.Tensor, target: torch.Tensor, velocity_weight: float) -> torch.Tensor:
    loss = metrics.mpjpe_loss(pred, target)
    if velocity_weight:
        loss = loss + velocity_weight * metrics.velocity_loss(pred, target)
    return loss


def _trajectory_step(model, model_traj, sampler: MotionSampler, unlabeled: UnlabeledSampler | None,
                     rng: np.random.Generator, windows: int, out_frames: int, with_2d_losses: bool,
                     bone_length_term: bool, velocity_weight: float, device,
                     reprojection_weight: float = 1.0, freeze_pose: bool = False,
                     focal_units: bool = False) -> torch.Tensor:
    """Loss of one step with a trajectory model: supervised pose + 1/z-weighted trajectory on labeled
    windows; on unlabeled windows (after the warm-up) the 2D reprojection of pose + trajectory (times
    `reprojection_weight`), and the bone-length term. freeze_pose: the trajectory term alone (the pose
    model is not run). focal_units: the trajectory model predicts the root divided by each view's normalized
    focal length (LifterMeta.trajectory_units)."""
    kp, target, traj, intr = sampler.batch_with_camera(rng, windows, out_frames)
    kp = kp.to(device)
    traj = traj.to(device)[:, :, None]
    if focal_units:
        traj = traj / intr.to(device)[:, None, None, :1]
    loss = metrics.weighted_mpjpe_loss(model_traj(kp), traj, metrics.inverse_depth_weight(traj))
    if freeze_pose:
        return loss
    pose = model(kp)
    loss = loss + _pose_loss(pose, target.to(device), velocity_weight)
    if unlabeled is not None and with_2d_losses:
        # Unlabeled windows go through their own forward pass: in one concatenated batch (the
        # reference's way) their BatchNorm statistics leak into the labeled half, and unlabeled
        # video rarely matches the virtual cameras' distribution (measured: 2x worse validation
        # before the 2D loss even starts). Their BatchNorm layers use the running statistics, as
        # at inference: normalized by the unlabeled batch's own statistics, the 2D loss tuned the
        # weights to a normalization the model never sees again (bench/README.md: with batch
        # statistics the unlabeled data made validation worse, with running ones better).
        u_kp, u_target2d, u_intr = unlabeled.batch(rng, windows, out_frames)
        u_kp = u_kp.to(device)
        with batchnorm_running_statistics(model, model_traj):
            u_pose = model(u_kp)
            u_root = model_traj(u_kp)
            points = u_pose + (u_root * u_intr.to(device)[:, None, None, :1] if focal_units else u_root)
        # A person closer than MIN_DEPTH is never right; clamping there keeps a trajectory that is still
        # poor early on from sending projections (and gradients) to infinity.
        points = torch.cat([points[..., :2], points[..., 2:].clamp(min=MIN_DEPTH)], dim=-1)
        projected = project_to_2d_linear(points, u_intr.to(device)[:, None])
        loss = loss + reprojection_weight * metrics.mpjpe_loss(projected, u_target2d.to(device))
        if bone_length_term:
            loss = loss + metrics.bone_length_loss(pose, u_pose, H36M.parents)
    return loss


def _batchnorms(model: torch.nn.Module) -> list[torch.nn.Module]:
    return [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]


def hold_batchnorm_statistics(model: torch.nn.Module) -> torch.nn.Module:
    """`--frozen-batchnorm`'s training mode: every BatchNorm normalizes with its running statistics and does not
    update them; everything else (dropout) trains. Returns the model."""
    model.train()
    for norm in _batchnorms(model):
        norm.eval()
    return model


@contextmanager
def batchnorm_running_statistics(*models: torch.nn.Module):
    """Inside: the models' BatchNorm layers normalize with their running statistics and do not update
    them (eval mode); everything else, dropout included, stays as it was."""
    norms = [m for model in models for m in _batchnorms(model)]
    modes = [m.training for m in norms]
    for m in norms:
        m.eval()
    try:
        yield
    finally:
        for m, mode in zip(norms, modes):
            m.train(mode)


def _init_weights(path: str, meta: LifterMeta, model: torch.nn.Module, model_traj: torch.nn.Module | None) -> None:
    """Copy a checkpoint's weights (any vp3d or official file that fits the architecture) into the models; a
    pose model with a multiple of its channels (vp3d.training.widen) or extra width-1 blocks (vp3d.training.deepen)
    starts as the same function; one with fewer blocks (a shorter receptive field, vp3d.training.shorten) keeps the
    given model's first blocks."""
    loaded = load_checkpoint(path)
    theirs = loaded.meta
    widening = meta.channels != theirs.channels and meta.channels % theirs.channels == 0
    deepening = is_deepening(tuple(theirs.filter_widths), tuple(meta.filter_widths))
    shortening = is_shortening(tuple(theirs.filter_widths), tuple(meta.filter_widths))
    if (tuple(theirs.filter_widths) != tuple(meta.filter_widths) and not (deepening or shortening)) \
            or theirs.num_joints_in != 17 or (theirs.channels != meta.channels and not widening) \
            or (widening and (deepening or shortening)):
        raise ValueError(f"{path}: its architecture (filter widths {theirs.filter_widths}, {theirs.channels} "
                         f"channels, {theirs.num_joints_in} joints in) is not the one being trained")
    if widening or deepening or shortening:  # vp3d.training.widen, .deepen, .shorten
        if model_traj is not None:
            raise ValueError(f"{path}: a wider, deeper or shorter model is started from another for the pose model "
                             f"only (train without --trajectory)")
        given, mine = loaded.model_pos.state_dict(), model.state_dict()
        if widening:
            model.load_state_dict(widen_state_dict(given, mine, torch.Generator().manual_seed(0)))
        else:
            model.load_state_dict(deepen_state_dict(given, mine) if deepening else shorten_state_dict(given, mine))
        return
    model.load_state_dict(loaded.model_pos.state_dict())
    if model_traj is not None and loaded.model_traj is not None:
        if theirs.trajectory_units != meta.trajectory_units:
            raise ValueError(f"{path}: its trajectory model predicts in {theirs.trajectory_units!r} units, not "
                             f"{meta.trajectory_units!r} (--trajectory-units)")
        model_traj.load_state_dict(loaded.model_traj.state_dict())


def recalibrate_batchnorm(model: torch.nn.Module, sampler: MotionSampler, rng: np.random.Generator,
                          batches: int, windows: int = 64, out_frames: int = 4, device="cpu") -> None:
    """Re-estimate BatchNorm running statistics as plain averages over `batches` batches of independent
    windows ("precise BN"). The running averages collected during chunked training lag behind the
    weights and come from windows whose frames are correlated; validation and the exported model
    need population statistics, or the output drifts from epoch to epoch. Dropout is off while
    collecting, so the statistics match what each layer sees at inference (no variance shift)."""
    norms = _batchnorms(model)
    if not norms or batches <= 0:
        return
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    was_training = model.training
    model.train()
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.eval()
    with torch.no_grad():
        for _ in range(batches):
            kp, _ = sampler.batch(rng, windows, out_frames)
            model(kp.to(device))
    for m, momentum in zip(norms, saved):
        m.momentum = momentum
    model.train(was_training)


def train(config: TrainConfig, train_motions: list[np.ndarray], val_motions: list[np.ndarray],
          log=print, device: str = "cpu", unlabeled: list[UnlabeledSequence] | None = None,
          on_epoch=None, extra_validation: dict[str, list[np.ndarray]] | None = None) -> TrainOutcome:
    """Train, validating after every epoch (`on_epoch(entry)` gets each epoch's history entry: epoch,
    loss_mm, val {noisy, clean: p1, p2, mpjve}, train_frames_per_s, seconds).

    With `unlabeled` 2D sequences this is the paper's semi-supervised scheme: every step also lifts a
    batch of unlabeled windows, adds the predicted trajectory, projects with the sequence's intrinsics
    and penalizes the distance to the input 2D (after `warmup_epochs`), plus the bone-length term if
    `bone_length_term`.
    `extra_validation` names further validation-only motion sets (e.g. another capture system), measured
    each epoch beside the main one (entry["val_extra"][name]); they never choose the best epoch.
    Writes <out>/last.bin every epoch and <out>/best.bin (lowest noisy-2D P1; root error with freeze_pose).
    """
    rank, world = _distributed()
    device = torch.device(device if device != "cuda" or torch.cuda.is_available() else "cpu")
    if device.type == "cuda" and world > 1:
        device = torch.device("cuda", rank % torch.cuda.device_count())
    torch.manual_seed(config.seed)  # identical initial weights on every rank
    rng = np.random.default_rng([config.seed, rank])

    meta = LifterMeta(filter_widths=tuple(config.filter_widths), channels=config.channels, causal=config.causal,
                      num_joints_in=17, in_features=2, num_joints_out=17, input_layout="h36m", fps=config.fps,
                      dropout=config.dropout, name=Path(config.out).name)
    rf = meta.receptive_field
    if config.steps_loss:  # the run's weights declare the steps they were trained through, and validation uses them
        if config.trajectory or config.scheme == "strided":
            raise ValueError("--steps-loss trains a pose model (chunked scheme, no trajectory) through the steps its "
                             "weights declare")
        source = config.resume or config.init_from
        meta = meta.with_steps_of(load_checkpoint(source).meta) if source else meta
        if not meta.declares_steps:
            raise ValueError(f"{source or 'a new model'}: declares no steps after the network for --steps-loss to "
                             f"train through")
    strided = config.scheme == "strided"
    out_frames = 1 if strided else config.chunk
    if config.velocity_weight and out_frames < 2:
        raise ValueError("the velocity term needs the chunked scheme with --chunk 2 or more")
    model_cls = TemporalModelStrided if strided else TemporalModel
    model = model_cls(17, 2, 17, meta.filter_widths, meta.causal, meta.dropout, meta.channels).to(device)
    semi = bool(unlabeled)
    model_traj = None
    meta.has_trajectory = config.trajectory or semi
    if meta.has_trajectory:
        meta.trajectory_units = config.trajectory_units
    if meta.has_trajectory:
        model_traj = model_cls(17, 2, 1, meta.filter_widths, meta.causal, meta.dropout, meta.channels).to(device)
    if config.frozen_batchnorm and not (config.init_from or config.resume):
        raise ValueError("--frozen-batchnorm fine-tunes with the running statistics of --init-from's model: "
                         "it needs --init-from (or --resume)")
    if config.freeze_pose and not (config.trajectory and (config.init_from or config.resume) and not semi):
        raise ValueError("--freeze-pose trains the trajectory model beside the pose model of --init-from: it "
                         "needs --trajectory and --init-from, and no unlabeled data")
    params = list(model.parameters()) + (list(model_traj.parameters()) if model_traj is not None else [])
    if config.freeze_pose:
        model.requires_grad_(False)
        params = list(model_traj.parameters())
    optimizer = torch.optim.Adam(params, lr=config.lr, amsgrad=True)
    lr, start_epoch, history, best = config.lr, 0, [], float("inf")
    torch_rng = None

    if config.init_from and not config.resume:
        _init_weights(config.init_from, meta, model, model_traj)
        log(f"initialized from {config.init_from}")
    if config.resume:
        ckpt = torch.load(config.resume, map_location="cpu", weights_only=True)
        model.load_state_dict(ckpt["model_pos"])
        if model_traj is not None:
            model_traj.load_state_dict(ckpt["model_traj"])
        optimizer.load_state_dict(ckpt["optimizer"])
        lr, start_epoch = ckpt["lr"], ckpt["epoch"]
        history = ckpt.get("vp3d_history", [])
        torch_rng = ckpt.get("vp3d_torch_rng")
        best = min((_selection_error(h["val"], config) for h in history), default=float("inf"))
        if ckpt.get("vp3d_rng"):
            rng.bit_generator.state = ckpt["vp3d_rng"][rank] if rank < len(ckpt["vp3d_rng"]) else rng.bit_generator.state
        log(f"resumed from {config.resume} at epoch {start_epoch}")

    # The weights validated, saved and shipped: an exponential moving average of the trained ones when
    # config.ema is set. Single epochs of fine-tuning swung 10-30 mm in P1 (global scale and orientation)
    # while P2 barely moved (weights/MODEL_CARD.md); averaging the weights over the last ~1/(1-ema) steps
    # evaluates the middle of that wandering instead of wherever the last step left it.
    ema = ema_traj = None
    if config.ema:
        average = get_ema_multi_avg_fn(config.ema)
        ema = AveragedModel(model, multi_avg_fn=average, use_buffers=True)
        ema_traj = AveragedModel(model_traj, multi_avg_fn=average, use_buffers=True) if model_traj is not None else None
        if config.resume and "vp3d_ema_pos" in ckpt:
            model.load_state_dict(ckpt["vp3d_raw_pos"])
            ema.load_state_dict(ckpt["vp3d_ema_pos"])
            if model_traj is not None:
                model_traj.load_state_dict(ckpt["vp3d_raw_traj"])
                ema_traj.load_state_dict(ckpt["vp3d_ema_traj"])

    ddp = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    ddp_traj = model_traj
    if model_traj is not None and world > 1:
        ddp_traj = torch.nn.parallel.DistributedDataParallel(model_traj)
    sampler = MotionSampler(train_motions, rf, meta.causal, NoiseModel.named(config.noise_model) if config.noise else None,
                            pose_augmentation=config.pose_augmentation,
                            proportions=Proportions.named(config.body_proportions)
                            .with_shape_spread(config.shape_spread),
                            joint_angles=AngleSpread().scaled(config.joint_angle_scale) if config.joint_angles
                            else None, arm_recombination=config.arm_recombination,
                            leg_recombination=config.leg_recombination,
                            definition_jitter=config.definition_jitter)
    unlabeled_sampler = UnlabeledSampler(unlabeled, rf, meta.causal) if semi else None
    validation = ValidationSet.build(val_motions, config.val_views) if rank == 0 else None
    extra_sets = {name: ValidationSet.build(m, config.val_views) for name, m in (extra_validation or {}).items()
                  if rank == 0}
    epoch_frames = config.epoch_frames or sampler.total_frames
    windows_per_step = max(1, config.batch_size // out_frames // world)
    steps = max(1, epoch_frames // (windows_per_step * out_frames * world))
    out_dir = Path(config.out)
    if rank == 0:
        out_dir.mkdir(parents=True, exist_ok=True)
        log(f"training {rf}-frame model, {config.channels} channels, scheme {config.scheme}, "
            f"{sampler.total_frames} training frames, {steps} steps/epoch of "
            f"{windows_per_step * out_frames * world} frames, {world} process(es)")
        if semi:
            log(f"semi-supervised: {unlabeled_sampler.total_frames} unlabeled frames in {len(unlabeled)} "
                f"sequences, 2D losses after {config.warmup_epochs} warm-up epoch(s)")

    eval_model = TemporalModel(17, 2, 17, meta.filter_widths, meta.causal, meta.dropout, meta.channels)
    eval_traj = None
    if model_traj is not None:
        eval_traj = TemporalModel(17, 2, 1, meta.filter_widths, meta.causal, meta.dropout, meta.channels)
    if torch_rng is not None:  # restored last: everything above may draw from torch's generator
        torch.set_rng_state(torch_rng)
    for epoch in range(start_epoch, config.epochs):
        t0 = time.time()
        for m in (model, model_traj):
            if m is not None:
                m.train()
                m.set_bn_momentum(bn_momentum(epoch, config.epochs))
                if config.frozen_batchnorm:
                    hold_batchnorm_statistics(m)
        for group in optimizer.param_groups:
            group["lr"] = lr
        loss_sum = 0.0
        with_2d_losses = semi and epoch >= config.warmup_epochs
        for step in range(steps):
            ramp = (epoch * steps + step + 1) / config.lr_warmup_steps if config.lr_warmup_steps else 1.0
            if ramp <= 1.0:
                for group in optimizer.param_groups:
                    group["lr"] = lr * ramp
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=config.bf16):
                if model_traj is None:
                    kp, target, _, intrinsics = sampler.batch_with_camera(rng, windows_per_step, out_frames)
                    pred, target = ddp(kp.to(device)), target.to(device)
                    loss = _pose_loss(pred, target, config.velocity_weight)
                    if config.steps_loss:
                        first = sampler.first_output_frame
                        seen = kp[:, first:first + out_frames].to(device)
                        users_get = after_steps(pred.float(), seen, intrinsics[:, 0].to(device), meta)
                        loss = loss + config.steps_loss * _pose_loss(users_get, target, config.velocity_weight)
                else:
                    loss = _trajectory_step(ddp, ddp_traj, sampler, unlabeled_sampler, rng, windows_per_step,
                                            out_frames, with_2d_losses, config.bone_length_term,
                                            config.velocity_weight, device, config.reprojection_weight,
                                            config.freeze_pose, meta.trajectory_units == "focal")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            for averaged, trained in ((ema, model), (ema_traj, model_traj)):
                if averaged is not None:
                    averaged.update_parameters(trained)
            loss_sum += loss.item()
        lr *= config.lr_decay
        train_time = time.time() - t0
        if rank != 0:
            continue
        for trained, averaged, exported in ((model, ema, eval_model), (model_traj, ema_traj, eval_traj)):
            if trained is not None:
                exported.load_state_dict((averaged.module if averaged is not None else trained).state_dict())
                if config.freeze_pose and trained is model:
                    continue  # the given pose model exactly, its BatchNorm statistics included
                if config.frozen_batchnorm:
                    continue  # trained with these statistics: re-estimating them would change the network
                recalibrate_batchnorm(exported.to(device), sampler, np.random.default_rng([config.seed, 7, epoch]),
                                      config.bn_batches, device=device)
                exported.cpu()
        lifter = Lifter(LoadedCheckpoint(meta, eval_model.eval(), eval_traj.eval() if eval_traj else None, {}),
                        device)
        val = validation.evaluate(lifter)
        val_extra = {name: s.evaluate(lifter) for name, s in extra_sets.items()}
        entry = {"epoch": epoch + 1, "loss_mm": 1000 * loss_sum / steps, "val": val, "val_extra": val_extra,
                 "train_frames_per_s": steps * windows_per_step * out_frames * world / train_time,
                 "seconds": time.time() - t0}
        history.append(entry)
        if on_epoch is not None:
            on_epoch(entry)
        log(f"epoch {epoch + 1:3d}/{config.epochs}  loss {entry['loss_mm']:6.1f} mm  "
            f"val P1 {val['noisy']['p1']:6.1f}  P2 {val['noisy']['p2']:6.1f}  N {val['noisy']['n']:6.1f}  MPJVE {val['noisy']['mpjve']:5.2f} mm "
            f"(noisy 2D) | clean P1 {val['clean']['p1']:6.1f}  lr {lr:.2e}  "
            f"{entry['train_frames_per_s']:.0f} frames/s  {entry['seconds']:.0f}s"
            + _root_log(val)
            + "".join(f" | {name} P1 {v['noisy']['p1']:6.1f} P2 {v['noisy']['p2']:6.1f} N {v['noisy']['n']:6.1f} MPJVE {v['noisy']['mpjve']:5.2f}"
                      + _root_log(v) for name, v in val_extra.items()))
        meta.training = {"data": config.data_description, "command": config.command, "seed": config.seed,
                         "epochs": epoch + 1, "scheme": config.scheme, "validation": val,
                         "validation_extra": val_extra, "pose_augmentation": config.pose_augmentation,
                         **({"body_proportions": config.body_proportions} if config.pose_augmentation else {}),
                         **({"shape_spread": config.shape_spread}
                            if config.pose_augmentation and config.shape_spread != 1 else {}),
                         **({"joint_angles": True} if config.joint_angles else {}),
                         **({"joint_angle_scale": config.joint_angle_scale}
                            if config.joint_angles and config.joint_angle_scale != 1 else {}),
                         **({"arm_recombination": config.arm_recombination} if config.arm_recombination else {}),
                         **({"leg_recombination": config.leg_recombination} if config.leg_recombination else {}),
                         **({"definition_jitter": config.definition_jitter} if config.definition_jitter else {}),
                         **({"steps_loss": config.steps_loss} if config.steps_loss else {}),
                         **({"noise_model": config.noise_model} if config.noise_model != "detector" else {}),
                         **({"bf16": True} if config.bf16 else {}),
                         "ema": config.ema,
                         **config.extra}
        extra = {"vp3d_history": history, "vp3d_rng": [rng.bit_generator.state],
                 "vp3d_torch_rng": torch.get_rng_state()}  # dropout masks: a resumed run continues exactly
        if ema is not None:  # model_pos holds the averaged weights; training continues from the raw ones
            extra.update(vp3d_raw_pos=model.state_dict(), vp3d_ema_pos=ema.state_dict())
            if model_traj is not None:
                extra.update(vp3d_raw_traj=model_traj.state_dict(), vp3d_ema_traj=ema_traj.state_dict())
        save_checkpoint(out_dir / "last.bin", meta, eval_model, eval_traj, epoch=epoch + 1, lr=lr,
                        optimizer=optimizer.state_dict(), extra=extra)
        if _selection_error(val, config) < best:
            best = _selection_error(val, config)
            save_checkpoint(out_dir / "best.bin", meta, eval_model, eval_traj, epoch=epoch + 1, lr=lr, extra=extra)
    if world > 1:
        # Parameters agree through averaged gradients; BatchNorm running statistics are each rank's own
        # since the last forward pass: take rank 0's, so every rank ends with the same model.
        for m in (model, model_traj):
            for buffer in (m.buffers() if m is not None else ()):
                dist.broadcast(buffer, 0)
        dist.barrier()
    return TrainOutcome(model, history)
