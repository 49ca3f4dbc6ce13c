"""Training the lifter (vp3d.training.train, vp3d.training.synthetic): training input made like inference,
reproducibility, resume, checkpoints loadable by the inference path, BatchNorm recalibration, and
DistributedDataParallel under torchrun.

Tiny models and a few hundred frames: these check the machinery, not accuracy (the model card has that).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import require_shared

from vp3d.lifter.camera import image_coordinates
from vp3d.lifter.checkpoint import load_checkpoint
from vp3d.lifter.inference import Lifter
from vp3d.training.synthetic import NoiseModel, random_camera, render_view
from vp3d.training.train import MotionSampler, TrainConfig, recalibrate_batchnorm, train
from vp3d.mocap import load_bvh

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def motions():
    """Two real CMU takes: one to train on, one to validate on."""
    train_m = load_bvh(require_shared("mocap", "cmu_bvh", "01", "01_01.bvh")).positions
    val_m = load_bvh(require_shared("mocap", "cmu_bvh", "02", "02_01.bvh")).positions
    return train_m, val_m


def tiny_config(tmp_path, **kw) -> TrainConfig:
    base = dict(filter_widths=(3, 3), channels=16, epochs=2, batch_size=128, chunk=8, epoch_frames=512,
                val_views=1, bn_batches=1, out=str(tmp_path / "run"), seed=3)
    return TrainConfig(**{**base, **kw})


def test_virtual_views_are_true_projections_normalized_like_inference(motions):
    """Clean training 2D = pinhole projection of the camera-frame 3D with the view's intrinsics, in the
    inference normalization; the person stays inside the image."""
    motion = motions[0]
    rng = np.random.default_rng(0)
    for _ in range(5):
        cam = random_camera(rng, motion)
        kp, pose, traj, _ = render_view(rng, motion, None, cam)
        cam_xyz = pose + traj[:, None]
        px = cam_xyz[..., :2] / cam_xyz[..., 2:] * cam.focal_px + cam.center_px
        assert np.allclose(image_coordinates(kp, cam.width, cam.height), px, atol=1e-2)
        assert (cam_xyz[..., 2] > 0.5).all()
        hip = px[:, 0]
        inside = (hip >= 0).all(-1) & (hip[:, 0] < cam.width) & (hip[:, 1] < cam.height)
        # a static camera: a person travelling far (this take crosses the room) may leave the picture for a while
        assert inside.mean() > 0.8


def test_detector_noise_disturbs_2d_but_keeps_the_3d_target(motions):
    motion = motions[0][:300]
    cam = random_camera(np.random.default_rng(1), motion)
    clean, pose_a, _, _ = render_view(np.random.default_rng(2), motion, None, cam)
    noisy, pose_b, _, _ = render_view(np.random.default_rng(2), motion, NoiseModel(jitter=(0.01, 0.01)), cam)
    assert np.array_equal(pose_a, pose_b)
    err = np.abs(noisy - clean).mean()
    assert 1e-4 < err < 0.05  # normalized units: visibly disturbed, still the same person


def test_flip_augmentation_mirrors_inputs_and_targets_together(motions):
    sampler = MotionSampler([motions[0]], receptive_field=9, causal=False, noise=None)
    kp, target = sampler.batch(np.random.default_rng(0), windows=64, out_frames=4)
    assert kp.shape == (64, 9 + 4 - 1, 17, 2) and target.shape == (64, 4, 17, 3)
    # in every window, mirrored or not, a left joint seen left of its right partner in 2D is also
    # left of it in 3D (x of the camera frame is the image's x)
    left, right = 11, 14  # shoulders
    pad = 4
    sign_2d = torch.sign(kp[:, pad:pad + 4, left, 0] - kp[:, pad:pad + 4, right, 0])
    sign_3d = torch.sign(target[:, :, left, 0] - target[:, :, right, 0])
    # perspective can disagree when the shoulders line up with the view ray, never in most frames
    assert (sign_2d == sign_3d).float().mean() > 0.9


def test_half_of_the_training_windows_are_mirror_images(motions):
    """Flip augmentation: a real take changed so that the right wrist is always held 0.5 m above the head
    shows up in about half of a batch's windows as a person raising the LEFT wrist -- in the 2D input and
    the 3D target of the same window alike (camera and image y point down: raised = smallest y)."""
    head, left_wrist, right_wrist = 10, 13, 16
    take = motions[0].copy()
    take[:, right_wrist] = take[:, head] + np.array([0.0, 0.5, 0.0])  # world Y up
    sampler = MotionSampler([take], receptive_field=9, causal=False, noise=None)
    kp, target = sampler.batch(np.random.default_rng(0), windows=200, out_frames=4)
    left_raised_2d = kp[..., left_wrist, 1] < kp[..., right_wrist, 1]  # (windows, input frames)
    left_raised_3d = target[..., left_wrist, 1] < target[..., right_wrist, 1]  # (windows, output frames)
    mirrored = left_raised_3d[:, 0]
    # every frame of a window is the one or the other, input and target together
    assert torch.equal(left_raised_3d, mirrored[:, None].expand_as(left_raised_3d))
    assert torch.equal(left_raised_2d, mirrored[:, None].expand_as(left_raised_2d))
    assert 0.35 < mirrored.float().mean() < 0.65


def test_training_learns_writes_loadable_checkpoints_and_a_seed_reproduces_it(tmp_path, motions):
    train_m, val_m = motions
    a = train(tiny_config(tmp_path / "a", epochs=3), [train_m], [val_m[:300]], log=lambda m: None)
    b = train(tiny_config(tmp_path / "b", epochs=3), [train_m], [val_m[:300]], log=lambda m: None)
    losses = [h["loss_mm"] for h in a.history]
    assert losses[-1] < losses[0]  # it learns
    for (name, wa), wb in zip(a.model.state_dict().items(), b.model.state_dict().values()):
        assert torch.equal(wa, wb), name  # same seed, same weights
    ckpt = load_checkpoint(tmp_path / "a" / "run" / "last.bin")
    assert ckpt.meta.filter_widths == (3, 3) and ckpt.meta.channels == 16
    assert ckpt.meta.training["epochs"] == 3 and "validation" in ckpt.meta.training
    poses = Lifter(ckpt).lift(np.zeros((20, 17, 2), np.float32)).poses
    assert poses.shape == (20, 17, 3) and np.isfinite(poses).all()
    assert (tmp_path / "a" / "run" / "best.bin").exists()


def test_bfloat16_training_learns_and_saves_float32_weights_close_to_float32_training(tmp_path, motions):
    """--bf16: the passes in bfloat16, what is learned and saved float32 and near what float32 learns (the same
    batches: the seed's draws do not depend on the arithmetic)."""
    train_m, val_m = motions
    full = train(tiny_config(tmp_path / "f", epochs=3), [train_m], [val_m[:300]], log=lambda m: None)
    half = train(tiny_config(tmp_path / "h", epochs=3, bf16=True), [train_m], [val_m[:300]], log=lambda m: None)
    losses = [h["loss_mm"] for h in half.history]
    assert losses[-1] < losses[0]
    assert all(w.dtype == torch.float32 for w in half.model.state_dict().values() if w.is_floating_point())
    for h_full, h_half in zip(full.history, half.history):
        assert h_half["loss_mm"] == pytest.approx(h_full["loss_mm"], rel=0.03)
        assert h_half["val"]["noisy"]["p1"] == pytest.approx(h_full["val"]["noisy"]["p1"], rel=0.03)
    differs = [not torch.equal(a, b) for a, b in zip(full.model.parameters(), half.model.parameters())]
    assert any(differs)  # the arithmetic did change
    assert load_checkpoint(tmp_path / "h" / "run" / "last.bin").meta.training["bf16"] is True


def test_resume_continues_exactly_where_the_run_stopped(tmp_path, motions):
    train_m, val_m = motions
    straight = train(tiny_config(tmp_path / "s", epochs=2), [train_m], [val_m[:300]], log=lambda m: None)
    train(tiny_config(tmp_path / "r", epochs=1), [train_m], [val_m[:300]], log=lambda m: None)
    resumed = train(tiny_config(tmp_path / "r", epochs=2, resume=str(tmp_path / "r" / "run" / "last.bin")),
                    [train_m], [val_m[:300]], log=lambda m: None)
    # the learned weights continue exactly (BatchNorm statistics are re-estimated every epoch anyway)
    for (name, wa), wb in zip(straight.model.named_parameters(), resumed.model.parameters()):
        assert torch.allclose(wa, wb, atol=1e-6), name
    assert [h["epoch"] for h in resumed.history] == [1, 2]


def test_weight_average_is_what_is_saved_and_a_resumed_run_continues_both(tmp_path, motions):
    """--ema: checkpoints hold the moving average of the weights (validated and shipped), which lags the
    trained weights; resuming restores the trained weights and the average exactly."""
    train_m, val_m = motions
    cfg = dict(ema=0.9, trajectory=True)
    straight = train(tiny_config(tmp_path / "s", epochs=2, **cfg), [train_m], [val_m[:300]], log=lambda m: None)
    saved = load_checkpoint(tmp_path / "s" / "run" / "last.bin")
    raw = torch.load(tmp_path / "s" / "run" / "last.bin", weights_only=True)
    # the saved weights are the average: neither the trained ones nor an untouched copy of them
    name = "expand_conv.weight"
    trained = straight.model.state_dict()[name]
    assert torch.equal(raw["vp3d_raw_pos"][name], trained)
    averaged = saved.model_pos.state_dict()[name]
    assert not torch.allclose(averaged, trained)
    assert torch.allclose(averaged, raw["vp3d_ema_pos"]["module." + name])

    train(tiny_config(tmp_path / "r", epochs=1, **cfg), [train_m], [val_m[:300]], log=lambda m: None)
    resumed = train(tiny_config(tmp_path / "r", epochs=2, resume=str(tmp_path / "r" / "run" / "last.bin"), **cfg),
                    [train_m], [val_m[:300]], log=lambda m: None)
    for (n, wa), wb in zip(straight.model.named_parameters(), resumed.model.parameters()):
        assert torch.allclose(wa, wb, atol=1e-6), n
    again = load_checkpoint(tmp_path / "r" / "run" / "last.bin").model_pos.state_dict()[name]
    assert torch.allclose(again, averaged, atol=1e-6)


def test_init_from_starts_a_new_run_from_given_weights(tmp_path, motions):
    """Fine-tuning: the weights come from the file (with lr 0 they stay exactly those), the epoch count and
    history start afresh; a file of another architecture is refused."""
    train_m, val_m = motions
    first = train(tiny_config(tmp_path / "a", epochs=1), [train_m], [val_m[:300]], log=lambda m: None)
    tuned = train(tiny_config(tmp_path / "b", epochs=1, lr=0.0, velocity_weight=1.0, seed=9,
                              init_from=str(tmp_path / "a" / "run" / "last.bin")),
                  [train_m], [val_m[:300]], log=lambda m: None)
    for (name, wa), wb in zip(first.model.named_parameters(), tuned.model.parameters()):
        assert torch.equal(wa, wb), name
    assert [h["epoch"] for h in tuned.history] == [1]
    with pytest.raises(ValueError, match="architecture"):
        train(tiny_config(tmp_path / "c", epochs=1, channels=8, init_from=str(tmp_path / "a" / "run" / "last.bin")),
              [train_m], [val_m[:300]], log=lambda m: None)


def test_freeze_pose_trains_the_trajectory_alone_beside_the_given_pose_model(tmp_path, motions):
    """--freeze-pose: the pose model (weights and BatchNorm statistics) is exactly the --init-from one at every
    epoch, the trajectory model learns, and best.bin is the epoch with the lowest root error."""
    train_m, val_m = motions
    train(tiny_config(tmp_path / "a", epochs=1), [train_m], [val_m[:300]], log=lambda m: None)
    given = load_checkpoint(tmp_path / "a" / "run" / "last.bin")
    out = train(tiny_config(tmp_path / "b", epochs=3, lr=3e-3, trajectory=True, freeze_pose=True,
                            init_from=str(tmp_path / "a" / "run" / "last.bin")),
                [train_m], [val_m[:300]], log=lambda m: None)
    for name in ("last.bin", "best.bin"):
        saved = load_checkpoint(tmp_path / "b" / "run" / name)
        for key, value in given.model_pos.state_dict().items():
            assert torch.equal(saved.model_pos.state_dict()[key], value), (name, key)
        assert saved.model_traj is not None
    roots = [h["val"]["noisy"]["root_mm"] for h in out.history]
    assert len({h["val"]["noisy"]["p1"] for h in out.history}) == 1  # the pose never changes
    assert len(set(roots)) == 3  # the trajectory does
    best = torch.load(tmp_path / "b" / "run" / "best.bin", weights_only=True)
    assert best["epoch"] == 1 + int(np.argmin(roots))
    with pytest.raises(ValueError, match="--init-from"):
        train(tiny_config(tmp_path / "c", trajectory=True, freeze_pose=True), [train_m], [val_m[:300]],
              log=lambda m: None)


def test_velocity_term_needs_consecutive_outputs(tmp_path, motions):
    with pytest.raises(ValueError, match="chunk"):
        train(tiny_config(tmp_path, scheme="strided", velocity_weight=1.0), [motions[0]], [motions[1][:300]],
              log=lambda m: None)


def test_batchnorm_recalibration_gives_plain_averages_over_independent_windows(motions):
    from vp3d.lifter.model import TemporalModel
    model = TemporalModel(17, 2, 17, (3, 3), channels=8).eval()
    sampler = MotionSampler([motions[0]], receptive_field=9, causal=False, noise=None)
    recalibrate_batchnorm(model, sampler, np.random.default_rng(0), batches=3, windows=16, out_frames=2)
    # the first BatchNorm normalizes the first convolution's output: recompute its mean by hand
    rng = np.random.default_rng(0)
    feats = []
    with torch.no_grad():
        for _ in range(3):
            kp, _ = sampler.batch(rng, 16, 2)
            x = kp.reshape(16, kp.shape[1], -1).permute(0, 2, 1)
            feats.append(model.expand_conv(x).mean(dim=(0, 2)))
    assert torch.allclose(model.expand_bn.running_mean, torch.stack(feats).mean(0), atol=1e-5)
    assert not model.training  # left as it was found


def test_two_ranks_under_torchrun_hold_identical_weights(tmp_path, motions):
    """DistributedDataParallel with gloo: two CPU processes, each drawing its own batches, end a few
    steps with the same weights (gradients averaged; BatchNorm buffers broadcast from rank 0)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(HERE / "ddp_train_worker.py"), str(tmp_path),
           str(require_shared("mocap", "cmu_bvh", "01", "01_01.bvh")),
           str(require_shared("mocap", "cmu_bvh", "02", "02_01.bvh"))]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    w0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    w1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert w0.keys() == w1.keys()
    for name in w0:
        assert torch.equal(w0[name], w1[name]), name
    from vp3d.lifter.model import TemporalModel
    torch.manual_seed(7)  # the worker's seed: the weights both ranks started from
    init = TemporalModel(17, 2, 17, (3, 3), False, 0.25, 16).state_dict()
    assert not torch.equal(init["shrink.weight"], w0["shrink.weight"])  # they did train


@pytest.mark.parametrize("option, value, words", [
    ("--epochs", "0", "must be above 0"), ("--arc", "3,4", "filter widths are odd"), ("--arc", "3,x", "comma-separated"),
    ("--dropout", "1", "must be in [0, 1)"), ("--labeled-fraction", "0", "must be in (0, 1]"),
    ("--lr", "0", "must be above 0")])
def test_impossible_training_options_are_usage_errors(tmp_path, capsys, option, value, words):
    """Caught while parsing, before minutes of mocap loading (--epochs 0 used to 'train' and exit 0,
    --arc 3,x ended in a traceback)."""
    from vp3d.cli import main
    with pytest.raises(SystemExit) as stop:
        main(["train", option, value, "--out", str(tmp_path / "run")])
    last = capsys.readouterr().err.splitlines()[-1]
    assert stop.value.code == 2 and f"argument {option}: {words}" in last, last
    assert not (tmp_path / "run").exists()


def test_train_out_naming_a_file_is_one_line(tmp_path, capsys):
    from vp3d.cli import main
    taken = tmp_path / "notes.txt"
    taken.write_text("mine")
    assert main(["train", "--out", str(taken), "--epochs", "1"]) == 1
    assert capsys.readouterr().err.splitlines() == [f"vp3d: error: {taken}: is a file; --out names the folder "
                                                    "for last.bin / best.bin"]
    assert taken.read_text() == "mine"


def test_a_wider_model_starts_as_the_narrow_one():
    """Net2WiderNet: 16 -> 32 channels computes the same poses (eval mode, exactly without the jitter, within
    the jitter with it), and the copies of a channel do not start identical."""
    from conftest import small_model
    from vp3d.lifter.model import TemporalModel
    from vp3d.training.widen import widen_state_dict

    narrow = small_model(widths=(3, 3, 3))
    wide = TemporalModel(17, 2, 17, (3, 3, 3), channels=32).eval()
    x = torch.randn(2, 40, 17, 2)
    wide.load_state_dict(widen_state_dict(narrow.state_dict(), wide.state_dict(), jitter=0.0))
    torch.testing.assert_close(wide(x), narrow(x), atol=1e-5, rtol=1e-5)
    wide.load_state_dict(widen_state_dict(narrow.state_dict(), wide.state_dict(), torch.Generator().manual_seed(0)))
    assert (wide(x) - narrow(x)).abs().max() < 0.05 * narrow(x).abs().max()
    w = wide.layers_conv[0].weight
    assert not torch.equal(w[:16], w[16:])
    with pytest.raises(ValueError, match="widen|layers"):
        widen_state_dict(narrow.state_dict(), TemporalModel(17, 2, 17, (3, 3), channels=32).state_dict())


def test_a_deeper_model_starts_as_the_shallow_one_and_its_new_block_learns():
    """Net2DeeperNet: width-1 blocks appended after (3, 3, 3) keep the receptive field and start almost as the
    trained model (the new block's output gated to ~0), yet the new block gets gradients (a gate of exactly 0
    would leave it dead behind the ReLU). Layers of the shallow model the deeper one lacks are an error."""
    from conftest import small_model
    from vp3d.lifter.model import TemporalModel
    from vp3d.training.deepen import deepen_state_dict, is_deepening

    shallow = small_model(widths=(3, 3, 3))
    deep = TemporalModel(17, 2, 17, (3, 3, 3, 1), channels=16).eval()
    deep.load_state_dict(deepen_state_dict(shallow.state_dict(), deep.state_dict()))
    assert deep.receptive_field == shallow.receptive_field
    x = torch.randn(2, 40, 17, 2)
    assert (deep(x) - shallow(x)).abs().max() < 0.01 * shallow(x).abs().max()
    deep(x).square().sum().backward()
    assert deep.layers_conv[-2].weight.grad.abs().sum() > 0 and deep.layers_bn[-1].weight.grad.abs().sum() > 0
    assert is_deepening((3, 3, 3), (3, 3, 3, 1, 1)) and not is_deepening((3, 3, 3), (3, 3, 3, 3))
    with pytest.raises(ValueError, match="lacks"):
        deepen_state_dict(shallow.state_dict(), TemporalModel(17, 2, 17, (3, 3), channels=16).state_dict())


def test_a_shorter_model_keeps_the_long_ones_first_blocks():
    """A receptive field of 9 from one of 27: the (3, 3) model holds the (3, 3, 3) model's expand layer, first block
    and output projection unchanged, so every kept layer computes what it did; the dropped block's absence is all
    that differs. A model that is not a prefix is no shortening, and shapes that differ are an error."""
    from conftest import small_model
    from vp3d.lifter.model import TemporalModel
    from vp3d.training.shorten import is_shortening, shorten_state_dict

    long = small_model(widths=(3, 3, 3))
    short = TemporalModel(17, 2, 17, (3, 3), channels=16).eval()
    short.load_state_dict(shorten_state_dict(long.state_dict(), short.state_dict()))
    assert short.receptive_field == 9
    for key, t in short.state_dict().items():
        assert torch.equal(t, long.state_dict()[key]), key
    x = torch.randn(1, 40, 17, 2)
    assert short(x).shape[1] == 40 - 8 and long(x).shape[1] == 40 - 26
    assert is_shortening((3, 3, 3, 3, 3), (3, 3, 3, 3)) and not is_shortening((3, 3, 3), (3, 1))
    assert not is_shortening((3, 3, 3), (3, 3, 3)) and not is_shortening((3, 3, 3), ())
    with pytest.raises(ValueError, match="shorter"):
        shorten_state_dict(long.state_dict(), TemporalModel(17, 2, 17, (3, 3), channels=8).state_dict())


def test_init_from_a_longer_checkpoint_shortens_it(tmp_path, motions):
    """--arc a prefix of the --init-from file's: training starts from its first blocks and trains a model of the
    shorter receptive field, which saves and loads as such."""
    train_m, val_m = motions
    train(tiny_config(tmp_path / "a", epochs=1), [train_m], [val_m[:300]], log=lambda m: None)
    first = load_checkpoint(tmp_path / "a" / "run" / "last.bin")
    widths = tuple(first.meta.filter_widths)[:-1]
    short = train(tiny_config(tmp_path / "b", epochs=1, filter_widths=widths,
                              init_from=str(tmp_path / "a" / "run" / "last.bin")),
                  [train_m], [val_m[:300]], log=lambda m: None)
    loaded = load_checkpoint(tmp_path / "b" / "run" / "last.bin")
    assert loaded.meta.receptive_field == short.model.receptive_field < first.meta.receptive_field
    assert np.isfinite(short.history[-1]["val"]["clean"]["p1"])


def test_init_from_a_shallower_checkpoint_deepens_it(tmp_path, motions):
    """--arc with extra width-1 filters after the --init-from file's: training starts from the deepened weights
    (lr 0: the model is the given one up to the gated new block)."""
    train_m, val_m = motions
    first = train(tiny_config(tmp_path / "a", epochs=1), [train_m], [val_m[:300]], log=lambda m: None)
    deep = train(tiny_config(tmp_path / "b", epochs=1, lr=0.0, filter_widths=(3, 3, 1),
                             init_from=str(tmp_path / "a" / "run" / "last.bin")),
                 [train_m], [val_m[:300]], log=lambda m: None)
    shallow_p1, deep_p1 = first.history[-1]["val"]["clean"]["p1"], deep.history[-1]["val"]["clean"]["p1"]
    assert abs(deep_p1 - shallow_p1) < 0.05 * shallow_p1


def test_init_from_a_narrower_checkpoint_widens_it(tmp_path, motions):
    """--channels 2x of the --init-from file: training starts from the widened weights (lr 0: they stay)."""
    train_m, val_m = motions
    first = train(tiny_config(tmp_path / "a", epochs=1), [train_m], [val_m[:300]], log=lambda m: None)
    wide = train(tiny_config(tmp_path / "b", epochs=1, lr=0.0, channels=2 * first.model.channels,
                             init_from=str(tmp_path / "a" / "run" / "last.bin")),
                 [train_m], [val_m[:300]], log=lambda m: None)
    narrow_p1, wide_p1 = first.history[-1]["val"]["clean"]["p1"], wide.history[-1]["val"]["clean"]["p1"]
    assert abs(wide_p1 - narrow_p1) < 0.05 * narrow_p1


def test_a_learning_rate_warmup_starts_from_nothing(tmp_path, motions):
    """--lr-warmup-steps: the rate rises linearly from 0, so a run that ends early in the ramp has hardly moved
    the weights it started from, where the same run without the ramp has."""
    train_m, val_m = motions
    first = train(tiny_config(tmp_path / "a", epochs=1), [train_m], [val_m[:300]], log=lambda m: None)
    start = {n: p.detach().clone() for n, p in first.model.named_parameters()}

    def moved(**kw) -> float:
        out = train(tiny_config(tmp_path / str(len(kw)), epochs=1, lr=1e-2, seed=5,
                                init_from=str(tmp_path / "a" / "run" / "last.bin"), **kw),
                    [train_m], [val_m[:300]], log=lambda m: None)
        return sum(float((p.detach() - start[n]).abs().sum()) for n, p in out.model.named_parameters())

    assert moved(lr_warmup_steps=100_000) < 0.01 * moved()


def test_frozen_batchnorm_fine_tunes_the_network_that_is_validated_and_shipped(tmp_path, motions):
    """--frozen-batchnorm: every BatchNorm normalizes with the given model's running statistics, which stay
    exactly those in the saved files (no update, no re-estimate), while the weights learn; so with lr 0 the
    saved model computes what the given one does. Without --init-from there are no statistics to keep."""
    train_m, val_m = motions
    train(tiny_config(tmp_path / "a", epochs=1), [train_m], [val_m[:300]], log=lambda m: None)
    given_file = str(tmp_path / "a" / "run" / "last.bin")
    given = load_checkpoint(given_file).model_pos.state_dict()
    stats = [k for k in given if k.endswith(("running_mean", "running_var"))]
    assert stats

    tuned = train(tiny_config(tmp_path / "b", epochs=2, lr=3e-3, frozen_batchnorm=True, chunk=32,
                              init_from=given_file), [train_m], [val_m[:300]], log=lambda m: None)
    saved = load_checkpoint(tmp_path / "b" / "run" / "last.bin").model_pos.state_dict()
    for key in stats:
        assert torch.equal(saved[key], given[key]), key
    assert not torch.equal(saved["expand_conv.weight"], given["expand_conv.weight"])
    assert tuned.history[-1]["loss_mm"] < tuned.history[0]["loss_mm"] * 1.5  # trains, does not blow up

    train(tiny_config(tmp_path / "c", epochs=1, lr=0.0, frozen_batchnorm=True, init_from=given_file),
          [train_m], [val_m[:300]], log=lambda m: None)
    still = load_checkpoint(tmp_path / "c" / "run" / "last.bin").model_pos.state_dict()
    for key, value in given.items():
        assert torch.equal(still[key], value), key
    with pytest.raises(ValueError, match="--init-from"):
        train(tiny_config(tmp_path / "e", frozen_batchnorm=True), [train_m], [val_m[:300]], log=lambda m: None)


def refused(tmp_path, capsys, *options) -> str:
    """The one-line error of `vp3d train OPTIONS` that must not run: exit 1, no run folder written."""
    from vp3d.cli import main
    capsys.readouterr()
    assert main(["train", *options, "--out", str(tmp_path / "refused"), "--epochs", "1"]) == 1
    assert not (tmp_path / "refused").exists()
    [line] = capsys.readouterr().err.splitlines()
    return line


def test_frozen_batchnorm_without_init_from_is_one_line(tmp_path, capsys):
    assert refused(tmp_path, capsys, "--frozen-batchnorm") == (
        "vp3d: error: --frozen-batchnorm fine-tunes with the BatchNorm "
        "statistics of --init-from's model: it needs --init-from")


def test_a_wider_shape_spread_trains_and_is_recorded(tmp_path, motions, capsys):
    """--shape-spread 2 widens the body shapes of --pose-augmentation and the checkpoint says so; without
    --pose-augmentation it is a one-line error that writes nothing."""
    train_m, val_m = motions
    train(tiny_config(tmp_path / "a", epochs=1, pose_augmentation=True, body_proportions="adult", shape_spread=2.0),
          [train_m], [val_m[:300]], log=lambda m: None)
    assert load_checkpoint(tmp_path / "a" / "run" / "last.bin").meta.training["shape_spread"] == 2

    assert refused(tmp_path, capsys, "--shape-spread", "2") == (
        "vp3d: error: --shape-spread scales the body shapes of "
        "--pose-augmentation: it needs --pose-augmentation")


def test_adult_body_proportions_train_and_are_recorded(tmp_path, motions, capsys):
    """--pose-augmentation --body-proportions adult: a run trains on the varied bodies and its checkpoint says
    which bodies it saw; the option alone is a one-line error that writes nothing."""
    train_m, val_m = motions
    train(tiny_config(tmp_path / "a", epochs=1, pose_augmentation=True, body_proportions="adult"),
          [train_m], [val_m[:300]], log=lambda m: None)
    training = load_checkpoint(tmp_path / "a" / "run" / "last.bin").meta.training
    assert training["pose_augmentation"] is True and training["body_proportions"] == "adult"
    assert "joint_angles" not in training and "shape_spread" not in training

    assert refused(tmp_path, capsys, "--body-proportions", "adult") == (
        "vp3d: error: --body-proportions chooses the bodies of "
        "--pose-augmentation: it needs --pose-augmentation")


def test_varied_joint_definitions_train_and_are_recorded(tmp_path, motions, capsys):
    """--pose-augmentation --definition-jitter 0.02: a run trains on joints marked as other rigs would and its
    checkpoint says by how much; the option alone is a one-line error that writes nothing."""
    train_m, val_m = motions
    train(tiny_config(tmp_path / "a", epochs=1, pose_augmentation=True, definition_jitter=0.02),
          [train_m], [val_m[:300]], log=lambda m: None)
    assert load_checkpoint(tmp_path / "a" / "run" / "last.bin").meta.training["definition_jitter"] == 0.02

    assert refused(tmp_path, capsys, "--definition-jitter", "0.02") == (
        "vp3d: error: --definition-jitter varies the bodies of "
        "--pose-augmentation: it needs --pose-augmentation")


def assert_trains_through_the_steps_of(given: str, tmp_path, motions, **config):
    """A --steps-loss 1 run from `given` (weights that declare steps): at lr 0 it validates exactly what `given`
    lifts, its steps included; with a rate it learns other weights than the same run on the raw error alone."""
    from vp3d.training.train import ValidationSet

    train_m, val_m = motions
    still = train(tiny_config(tmp_path / "still", lr=0.0, steps_loss=1.0, init_from=given, **config),
                  [train_m], [val_m[:300]], log=lambda m: None)
    lifted = ValidationSet.build([val_m[:300]], 1).evaluate(Lifter.load(given))["noisy"]["p1"]
    assert still.history[0]["val"]["noisy"]["p1"] == pytest.approx(lifted, rel=1e-3)  # float16 file vs float32
    through = train(tiny_config(tmp_path / "through", lr=3e-3, steps_loss=1.0, init_from=given, **config),
                    [train_m], [val_m[:300]], log=lambda m: None)
    alone = train(tiny_config(tmp_path / "alone", lr=3e-3, init_from=given, **config),
                  [train_m], [val_m[:300]], log=lambda m: None)
    assert not torch.equal(through.model.expand_conv.weight, alone.model.expand_conv.weight)
    assert np.isfinite(through.history[0]["loss_mm"])
    return load_checkpoint(tmp_path / "still" / "run" / "last.bin").meta


def test_training_through_the_declared_steps_trains_for_what_users_get(tmp_path, motions, capsys):
    """--steps-loss W: the loss adds W times the error after the steps --init-from's weights declare. With lr 0 the
    run validates exactly what the given file lifts (its steps included) and declares the same steps; with a rate
    it learns other weights than the same run on the raw error alone. Without declared steps, or without
    --init-from, there is nothing to train through."""
    from vp3d.lifter.checkpoint import export_for_inference
    from vp3d.training.train import ValidationSet

    train_m, val_m = motions
    train(tiny_config(tmp_path / "a", epochs=1, chunk=32), [train_m], [val_m[:300]], log=lambda m: None)
    raw = str(tmp_path / "a" / "run" / "last.bin")
    given = str(tmp_path / "given.bin")
    export_for_inference(raw, given, output_smoothing=1.0, image_plane=(0.3, 4.0), bone_rays=(0.3, 4.0, 121, 0.05))

    saved = assert_trains_through_the_steps_of(given, tmp_path, motions, epochs=1, chunk=32)
    assert (saved.output_smoothing, saved.image_plane_weight, saved.bone_rays_softness) == (1.0, 0.3, 0.05)
    assert saved.training["steps_loss"] == 1.0
    validation = ValidationSet.build([val_m[:300]], 1)
    with_steps = validation.evaluate(Lifter.load(given))["noisy"]["p1"]
    without = validation.evaluate(Lifter.load(raw))["noisy"]["p1"]
    assert abs(with_steps - without) > 10 * 1e-3 * with_steps

    with pytest.raises(ValueError, match="declares no steps"):
        train(tiny_config(tmp_path / "e", epochs=1, chunk=32, steps_loss=1.0, init_from=raw),
              [train_m], [val_m[:300]], log=lambda m: None)
    assert refused(tmp_path, capsys, "--steps-loss", "1") == (
        "vp3d: error: --steps-loss trains through the steps "
        "--init-from's weights declare: it needs --init-from")


def test_a_causal_lifter_trains_through_its_steps_from_the_past_only(tmp_path, motions):
    """--causal --steps-loss W: a causal lifter's declared steps run from the past only (live mode); the run trains
    through those, so with lr 0 it validates exactly what the given file lifts, and with a rate it learns other
    weights than on the raw error alone."""
    from vp3d.lifter.checkpoint import export_for_inference

    train_m, val_m = motions
    train(tiny_config(tmp_path / "a", epochs=1, chunk=32, causal=True), [train_m], [val_m[:300]], log=lambda m: None)
    given = str(tmp_path / "given.bin")
    export_for_inference(str(tmp_path / "a" / "run" / "last.bin"), given, output_smoothing=1.0,
                         image_plane=(0.3, 15.0), bone_rays=(0.2, 15.0, 121, 0.05))
    assert assert_trains_through_the_steps_of(given, tmp_path, motions, epochs=1, chunk=32, causal=True).causal


def mocap_folder(root: Path, *trials: str) -> Path:
    """A mocap folder laid out like ../shared/data/mocap holding only `trials` (links to the real files)."""
    for trial in trials:
        (root / "cmu_bvh" / trial[:2]).mkdir(parents=True, exist_ok=True)
        (root / "cmu_bvh" / trial[:2] / f"{trial}.bvh").symlink_to(
            require_shared("mocap", "cmu_bvh", trial[:2], f"{trial}.bvh"))
    return root


def test_train_command_with_joint_angles_and_mediapipe_noise_records_them(tmp_path, capsys):
    """`vp3d train --joint-angles --joint-angle-scale 2 --noise-model mediapipe` on a mocap folder: the run trains
    and its checkpoint says so; the scale alone is a one-line error that writes nothing."""
    from vp3d.cli import main
    mocap = mocap_folder(tmp_path / "mocap", "01_01", "02_01")
    assert main(["train", "--mocap", str(mocap), "--cache", str(tmp_path / "cache.npz"), "--arc", "1",
                 "--channels", "8", "--epochs", "1", "--epoch-frames", "256", "--batch-size", "64", "--chunk", "4",
                 "--val-views", "1", "--bn-batches", "1", "--joint-angles", "--joint-angle-scale", "2",
                 "--noise-model", "mediapipe", "--json", "--out", str(tmp_path / "run")]) == 0
    training = load_checkpoint(tmp_path / "run" / "last.bin").meta.training
    assert training["joint_angles"] is True and training["joint_angle_scale"] == 2
    assert training["noise_model"] == "mediapipe"
    assert refused(tmp_path, capsys, "--joint-angle-scale", "2") == (
        "vp3d: error: --joint-angle-scale scales the spread of "
        "--joint-angles: it needs --joint-angles")


def test_train_command_on_a_folder_without_takes_is_one_line(tmp_path, capsys):
    from vp3d.cli import main
    (tmp_path / "mocap").mkdir()
    assert main(["train", "--mocap", str(tmp_path / "mocap"), "--out", str(tmp_path / "run")]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"vp3d: error: {tmp_path / 'mocap'}: no takes (cmu_bvh/NN/*.bvh, cmu_daz_bvh/NN/*.bvh or "
        "cmu_amc/amc/<group>/*.amc)"]
    assert not (tmp_path / "run").exists()


def test_bf16_where_bfloat16_is_emulated_warns_and_trains_in_float32(tmp_path, capsys):
    """`vp3d train --bf16` asks for speed: where this machine only emulates bfloat16 (an AVX2 CPU) that would be
    many times slower, so the run says so in one line and trains in float32; where it is native it is used."""
    from vp3d.cli import main
    from vp3d.lifter.device import bfloat16_is_native
    mocap = mocap_folder(tmp_path / "mocap", "01_01", "02_01")
    assert main(["train", "--mocap", str(mocap), "--cache", str(tmp_path / "cache.npz"), "--arc", "1",
                 "--channels", "8", "--epochs", "1", "--epoch-frames", "256", "--batch-size", "64", "--chunk", "4",
                 "--val-views", "1", "--bn-batches", "1", "--bf16", "--device", "cpu", "--json", "--out", str(tmp_path / "run")]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    native = bfloat16_is_native("cpu")
    assert load_checkpoint(tmp_path / "run" / "last.bin").meta.training.get("bf16", False) is native
    assert warnings == ([] if native else [
        "vp3d: warning: --bf16: this cpu computes bfloat16 by emulation (no AVX-512 BF16 or AMX), about 18x slower "
        "than float32; training in float32"])
