"""The settings of one training run (`vp3d train`'s options), kept free of torch so that the command line
can show their defaults without importing it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TrainConfig:
    filter_widths: tuple[int, ...] = (3, 3, 3, 3, 3)
    channels: int = 256
    causal: bool = False
    dropout: float = 0.25
    epochs: int = 60
    batch_size: int = 1024  # output frames per optimisation step (all ranks together)
    chunk: int = 16  # output frames per window ("chunked" scheme): 64 independent windows per 1024 frames
    bn_batches: int = 8  # batches of independent windows that re-estimate BatchNorm statistics per epoch
    trajectory: bool = False  # also train a trajectory model (root position in the camera frame)
    # Train the trajectory model alone beside a finished pose model (from init_from, held fixed). With
    # supervised 3D the two networks share no weights and no loss term, so this is the same trajectory
    # training at half the cost of a step; best.bin is then chosen by the root's error.
    freeze_pose: bool = False
    trajectory_units: str = "focal"  # "focal" or "m" (the reference's): see vp3d.lifter.meta.LifterMeta
    # Semi-supervised: epochs of supervised training before the 2D losses start, and the paper's
    # bone-length term (unlabeled mean bone lengths follow the labeled ones). Defaults from the CMU runs
    # (bench/README.md): 3 warm-up epochs; the bone-length term off, as it raised validation error in
    # every run with it (2% labeled, mean of epochs 24-33: P1 137.6 with it, 129.6 without).
    warmup_epochs: int = 3
    bone_length_term: bool = False
    reprojection_weight: float = 1.0  # semi-supervised: weight of the 2D reprojection term (reference: 1)
    velocity_weight: float = 0.0  # weight of the velocity term (MPJVE of consecutive outputs); chunked only
    # Weight of the same loss on the output after the steps init_from's weights declare (differentiable_steps.py):
    # the network trained for what users get; the run's weights then declare those steps. 0: raw output only.
    steps_loss: float = 0.0
    scheme: str = "chunked"
    lr: float = 1e-3
    lr_decay: float = 0.95
    # Linear ramp of the learning rate over the run's first steps: Adam's first steps move every weight by about
    # lr whatever its gradient, which throws a fine-tuned model far off before it settles (bench/README.md).
    lr_warmup_steps: int = 0
    # Fine-tuning with BatchNorm in its inference form: each layer normalizes with the given model's running
    # statistics (not updated) while its scale and shift still learn. A step then needs no batch statistics,
    # so windows can be long (few, long chunks cost far less per output frame: bench/README.md), and the
    # network trained is exactly the one validated and shipped (no precise-BN re-estimate).
    frozen_batchnorm: bool = False
    # Forward and backward in bfloat16 under autocast (weights, Adam and the losses stay float32): on a CPU with
    # AMX the convolutions run several times the float32 rate (bench/README.md); validation stays float32.
    bf16: bool = False
    ema: float = 0.0  # decay of an exponential moving average of the weights (per step); 0: off
    seed: int = 1234
    fps: float = 50.0
    noise: bool = True
    noise_model: str = "detector"  # the training 2D's errors: NoiseModel.named (validation keeps "detector")
    pose_augmentation: bool = False  # recombined body parts, wide proportions, reversed motion (pose_augmentation.py)
    body_proportions: str = "wide"  # with pose_augmentation: "wide" (children too) or "adult" (Proportions.named)
    shape_spread: float = 1.0  # with pose_augmentation: the proportions' shape spreads times this
    joint_angles: bool = False  # half the windows with other joint angles (pose_augmentation.vary_joint_angles)
    joint_angle_scale: float = 1.0  # with joint_angles: AngleSpread's spreads times this
    arm_recombination: float = 0.0  # chance of each arm coming from another take (pose_augmentation.recombine_limb)
    leg_recombination: float = 0.0  # ... and of each leg
    definition_jitter: float = 0.0  # m per axis: each joint's offset per window (pose_augmentation.vary_joint_definitions)
    epoch_frames: int | None = None  # output frames per epoch; default: one pass over the training frames
    val_views: int = 2  # virtual cameras per validation motion
    out: str = "runs/lifter"
    resume: str | None = None
    init_from: str | None = None  # start from these weights (fine-tuning): a new run, new optimizer and schedule
    data_description: str = ""
    command: str = ""
    extra: dict = field(default_factory=dict)
