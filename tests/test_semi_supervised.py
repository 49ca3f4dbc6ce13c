"""Semi-supervised training (the paper's back-projection): unlabeled 2D comes from `vp3d-infer --npz`
exports, a trajectory model places the root, and the 2D reprojection and bone-length losses train on it.

Small models and short runs: these check the machinery; bench/semi_supervised.py measures the gain.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import require_shared

from vp3d.cli import main
from vp3d.detectors.keypoints import Keypoints2D
from vp3d.lifter.camera import image_coordinates, project_to_2d_linear
from vp3d.lifter.checkpoint import LifterMeta, load_checkpoint
from vp3d.lifter.inference import Lifter
from vp3d.training.synthetic import random_camera, render_view
from vp3d.training.train import MotionSampler, TrainConfig, train
from vp3d.training.unlabeled import UnlabeledDataError, UnlabeledSampler, load_unlabeled
from vp3d.mocap import labeled_subset, load_bvh
from vp3d.export.joints import write_npz
from vp3d.pipeline.infer import InferenceResult
from vp3d.pipeline.people import PeopleResult
from vp3d.video import VideoInfo
from vp3d.skeleton import H36M


@pytest.fixture(scope="module")
def motions():
    train_m = load_bvh(require_shared("mocap", "cmu_bvh", "01", "01_01.bvh")).positions
    val_m = load_bvh(require_shared("mocap", "cmu_bvh", "02", "02_01.bvh")).positions
    return train_m, val_m


def export_view(path: Path, motion: np.ndarray, seed: int, fps: float = 50.0) -> tuple[np.ndarray, object]:
    """Write what `vp3d-infer --npz` writes for a video of `motion` filmed by a virtual camera.
    Returns the true normalized 2D and the camera."""
    rng = np.random.default_rng(seed)
    cam = random_camera(rng, motion)
    kp_norm, pose, traj, _ = render_view(rng, motion, None, cam)
    T = len(kp_norm)
    kp = Keypoints2D(xy=image_coordinates(kp_norm, cam.width, cam.height), score=np.ones((T, 17)),
                     detected=np.ones(T, bool), layout="h36m", width=cam.width, height=cam.height)
    meta = LifterMeta((3, 3), 16, False, 17, 2, 17, "h36m", 50.0)
    result = InferenceResult(video=VideoInfo(path.with_suffix(".mp4"), cam.width, cam.height, fps, 0, T),
                             keypoints=kp, poses3d=pose, trajectory=None, lifter=meta, checkpoint=Path("x.bin"),
                             detector_name="virtual camera", focal_px=cam.focal_px, focal_source="test")
    write_npz(path, PeopleResult.of_one(result))
    return kp_norm, cam


def test_unlabeled_file_gives_the_inference_normalization_and_intrinsics(tmp_path, motions):
    kp_norm, cam = export_view(tmp_path / "clip.npz", motions[0], seed=0)
    seq = load_unlabeled(tmp_path / "clip.npz")
    assert np.allclose(seq.kp2d_norm, kp_norm, atol=1e-4)
    assert seq.intrinsics[0] == pytest.approx(cam.focal_px / cam.width * 2, rel=1e-5)
    assert np.allclose(seq.intrinsics[2:], 0.0)  # principal point at the image centre (as exported)


def test_unlabeled_file_at_another_frame_rate_is_resampled_to_the_training_rate(tmp_path, motions):
    motion = motions[0][::2]  # 25 fps
    export_view(tmp_path / "slow.npz", motion, seed=1, fps=25.0)
    seq = load_unlabeled(tmp_path / "slow.npz", fps=50.0)
    assert len(seq.kp2d_norm) == 2 * len(motion) - 1


def test_files_that_cannot_train_are_refused_in_one_line(tmp_path):
    bad = tmp_path / "notes.npz"
    bad.write_text("not a zip")
    with pytest.raises(UnlabeledDataError, match="notes.npz"):
        load_unlabeled(bad)


def with_principal_point(path: Path, center_px: tuple[float, float]) -> Path:
    """Rewrite an export's camera metadata with another principal point (a calibrated camera's)."""
    with np.load(path) as f:
        arrays = dict(f)
    meta = json.loads(str(arrays["metadata"]))
    meta["camera"]["principal_point_px"] = list(center_px)
    np.savez(path, **{**arrays, "metadata": np.array(json.dumps(meta))})
    return path


def mirrored_2d(kp: np.ndarray) -> np.ndarray:
    """The mirror image of (..., 17, 2) normalized 2D: x negated, each left_* joint swapped with its right_*
    partner (paired by name here, not by the package's permutation)."""
    names = list(H36M.joint_names)
    partner = [names.index(n.replace("left_", "right_") if n.startswith("left_") else n.replace("right_", "left_"))
               for n in names]
    return kp[..., partner, :] * np.array([-1, 1], np.float32)


def test_unlabeled_windows_are_runs_of_the_file_half_of_them_mirrored(tmp_path, motions):
    """Each window is a run of the file's frames (edges repeated), its 2D target the output frames' own
    input; about half of the windows are mirror images, and exactly those have the principal point
    mirrored too (the file's camera has an off-centre one, so that mirroring it shows)."""
    export_view(tmp_path / "a.npz", motions[1][:400], seed=2)
    seq = load_unlabeled(with_principal_point(tmp_path / "a.npz", (900.0, 200.0)))
    assert seq.intrinsics[2] > 0.05 and seq.intrinsics[3] < -0.05  # right of and above the centre
    sampler = UnlabeledSampler([seq], receptive_field=9, causal=False)
    kp, target, intr = sampler.batch(np.random.default_rng(0), windows=64, out_frames=4)
    assert kp.shape == (64, 12, 17, 2) and target.shape == (64, 4, 17, 2) and intr.shape == (64, 4)
    assert torch.equal(target, kp[:, 4:8])  # the 2D target of an output frame is its own input
    frames = len(seq.kp2d_norm)
    runs = seq.kp2d_norm[np.clip(np.arange(frames)[:, None] + np.arange(12) - 4, 0, frames - 1)]  # (T, 12, 17, 2)

    def is_a_run(window: np.ndarray) -> bool:
        return bool((np.abs(runs - window).max(axis=(1, 2, 3)) == 0).any())

    mirror_k = seq.intrinsics * np.array([1, 1, -1, 1], np.float32)
    mirrored = []
    for window, k in zip(kp.numpy(), intr.numpy()):
        if is_a_run(window):
            np.testing.assert_array_equal(k, seq.intrinsics)
            mirrored.append(False)
        else:
            assert is_a_run(mirrored_2d(window)), "a window that is neither a run of the file nor its mirror"
            np.testing.assert_array_equal(k, mirror_k)
            mirrored.append(True)
    assert 0.3 < np.mean(mirrored) < 0.7


def test_labeled_windows_reproject_onto_their_2d_inputs(motions):
    """What the 2D loss relies on: pose + trajectory projected with the view's intrinsics = the input."""
    sampler = MotionSampler([motions[0]], receptive_field=9, causal=False, noise=None)
    kp, pose, traj, intr = sampler.batch_with_camera(np.random.default_rng(0), windows=16, out_frames=4)
    projected = project_to_2d_linear(pose + traj[:, :, None], intr[:, None])
    assert torch.allclose(projected, kp[:, 4:8], atol=1e-4)


def test_labeled_subset_takes_whole_takes_up_to_the_fraction():
    takes = [load_bvh(require_shared("mocap", "cmu_bvh", "02", f"02_0{i}.bvh")) for i in (1, 2, 3, 4)]
    daz = [load_bvh(require_shared("mocap", "cmu_daz_bvh", "02", f"02_0{i}.bvh")) for i in (1, 2, 3, 4)]
    labeled, rest = labeled_subset(takes + daz, 0.3, seed=0)
    names = {m.name for m in labeled}
    assert names and not names & {m.name for m in rest}  # a take never on both sides
    share = sum(m.num_frames for m in labeled) / sum(m.num_frames for m in takes + daz)
    assert 0.3 <= share < 0.8
    assert labeled_subset(takes + daz, 0.3, seed=0)[0] == labeled  # seeded


def test_semi_supervised_training_runs_and_ships_a_trajectory_model(tmp_path, motions):
    train_m, val_m = motions
    export_view(tmp_path / "u1.npz", val_m, seed=3)
    unlabeled = [load_unlabeled(tmp_path / "u1.npz")]
    config = TrainConfig(filter_widths=(3, 3), channels=16, epochs=2, batch_size=128, chunk=8, epoch_frames=512,
                         val_views=1, bn_batches=1, out=str(tmp_path / "run"), seed=3, warmup_epochs=1,
                         bone_length_term=True)  # the paper's full loss (off by default)
    outcome = train(config, [train_m], [val_m], log=lambda m: None, unlabeled=unlabeled)
    assert len(outcome.history) == 2
    ckpt = load_checkpoint(tmp_path / "run" / "last.bin")
    assert ckpt.model_traj is not None and ckpt.meta.has_trajectory
    lifted = Lifter(ckpt).lift(unlabeled[0].kp2d_norm[:50])
    assert lifted.trajectory.shape == (50, 3) and np.isfinite(lifted.trajectory).all()


def test_reprojection_term_enters_the_loss_scaled_by_its_weight(tmp_path, motions):
    """Same batches (same seeds), weights 0, 0.5 and 1: the step's loss grows linearly with the weight."""
    from vp3d.lifter.model import TemporalModel
    from vp3d.training.train import MotionSampler, _trajectory_step
    from vp3d.training.unlabeled import UnlabeledSampler
    export_view(tmp_path / "u1.npz", motions[1], seed=3)
    unlabeled = UnlabeledSampler([load_unlabeled(tmp_path / "u1.npz")], receptive_field=9, causal=False)
    sampler = MotionSampler([motions[0]], receptive_field=9, causal=False, noise=None)

    def loss(weight):  # fresh models each time: a step updates BatchNorm's running statistics
        torch.manual_seed(0)
        pose, traj = TemporalModel(17, 2, 17, (3, 3), channels=16), TemporalModel(17, 2, 1, (3, 3), channels=16)
        torch.manual_seed(1)
        return _trajectory_step(pose, traj, sampler, unlabeled, np.random.default_rng(2), 8, 4, True, False, 0.0,
                                "cpu", reprojection_weight=weight).item()
    base, half, full = loss(0.0), loss(0.5), loss(1.0)
    assert full - base > 1e-4  # the 2D term is there
    assert full - base == pytest.approx(2 * (half - base), rel=1e-4)


def test_train_command_takes_unlabeled_exports(tmp_path, motions, capsys):
    (tmp_path / "u").mkdir()
    export_view(tmp_path / "u" / "clip.npz", motions[1], seed=4)
    out = tmp_path / "run"
    code = main(["train", "--arc", "1", "--channels", "8", "--epochs", "1", "--epoch-frames", "256",
                 "--batch-size", "64", "--chunk", "4", "--val-views", "1", "--bn-batches", "1",
                 "--labeled-fraction", "0.05", "--unlabeled", str(tmp_path / "u"), "--warmup-epochs", "0",
                 "--bone-length-term",
                 "--out", str(out), "--cache", str(tmp_path / "cache.npz"), "--json"])
    assert code == 0
    ckpt = load_checkpoint(out / "last.bin")
    assert ckpt.model_traj is not None
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]  # --json: an object per epoch
    assert [line.get("epoch") for line in lines] == [1, None] and lines[0]["val"] == lines[1]["validation"]
    assert main(["train", "--unlabeled", str(tmp_path / "missing"), "--out", str(out)]) == 1
    assert "missing: no such file" in capsys.readouterr().err


def test_unlabeled_windows_use_the_running_batchnorm_statistics(tmp_path, motions):
    """The unlabeled pass normalizes as inference does and leaves BatchNorm's statistics to the labeled
    windows: after one step, with or without unlabeled data, the running statistics are the same."""
    from vp3d.lifter.model import TemporalModel
    from vp3d.training.train import MotionSampler, _trajectory_step, batchnorm_running_statistics
    export_view(tmp_path / "u1.npz", motions[1], seed=3)
    unlabeled = UnlabeledSampler([load_unlabeled(tmp_path / "u1.npz")], receptive_field=9, causal=False)
    sampler = MotionSampler([motions[0]], receptive_field=9, causal=False, noise=None)

    def running_means(with_unlabeled):
        torch.manual_seed(0)
        pose, traj = TemporalModel(17, 2, 17, (3, 3), channels=16), TemporalModel(17, 2, 1, (3, 3), channels=16)
        loss = _trajectory_step(pose, traj, sampler, unlabeled if with_unlabeled else None,
                                np.random.default_rng(2), 8, 4, True, False, 0.0, "cpu")
        assert pose.training and traj.training and loss.requires_grad
        return [m.running_mean.clone() for net in (pose, traj) for m in net.modules()
                if isinstance(m, torch.nn.BatchNorm1d)]

    for a, b in zip(running_means(False), running_means(True)):
        torch.testing.assert_close(a, b)

    model = TemporalModel(17, 2, 17, (3, 3), channels=16, dropout=0.25)
    with batchnorm_running_statistics(model):
        assert not model.expand_bn.training and model.drop.training  # dropout still on
    assert model.expand_bn.training
