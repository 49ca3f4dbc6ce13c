"""Metrics (numpy), training losses (torch) and the evaluation runner, on hand-computed examples."""

import json
import math

import numpy as np
import pytest
import torch

from vp3d.training.evaluate import evaluate
from vp3d.training.sequence import Sequence
from vp3d.training.metrics import (bone_length_loss, bone_lengths, inverse_depth_weight, mpjpe, mpjpe_loss,
                                 mpjve, n_mpjpe, p_mpjpe, procrustes_align, velocity_loss,
                                 weighted_mpjpe_loss)


def rot_z(deg):
    a = np.radians(deg)
    return np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])


def rot_x(deg):
    a = np.radians(deg)
    return np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])


@pytest.fixture
def poses():
    return np.random.default_rng(0).normal(size=(5, 17, 3))


# Square in the xy plane and a rhombus stretched along x: the best similarity is the identity
# rotation with scale sum(x.y)/sum(y.y) = 6/10 (centroids are 0), leaving errors 0.2, 0.2, 0.4, 0.4.
SQUARE = np.array([[[1.0, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0]]])
RHOMBUS = np.array([[[2.0, 0, 0], [-2, 0, 0], [0, 1, 0], [0, -1, 0]]])


def test_mpjpe_known_offsets():
    target = np.zeros((1, 4, 3))
    pred = target + np.array([[3.0, 4, 0], [0, 0, 1], [0, 2, 0], [0, 0, 0]])  # norms 5, 1, 2, 0
    assert mpjpe(pred, target) == pytest.approx(2.0)
    # Any pose, constant offset (3, 4, 0) on every joint: exactly 5.
    t = np.random.default_rng(1).normal(size=(6, 17, 3))
    assert mpjpe(t + [3.0, 4.0, 0.0], t) == pytest.approx(5.0)


def test_mpjpe_rejects_shape_mismatch():
    with pytest.raises(ValueError):
        mpjpe(np.zeros((2, 17, 3)), np.zeros((2, 16, 3)))


def test_p_mpjpe_zero_under_similarity_but_not_p1(poses):
    # A different rotation, scale and translation per frame: Procrustes is per frame.
    pred = np.stack([2.5 * p @ (rot_z(30 * i) @ rot_x(20)) + [0.1 * i, -1.0, 3.0]
                     for i, p in enumerate(poses)])
    assert p_mpjpe(pred, poses) == pytest.approx(0.0, abs=1e-9)
    assert mpjpe(pred, poses) > 0.5
    np.testing.assert_allclose(procrustes_align(pred, poses), poses, atol=1e-9)


def test_p_mpjpe_hand_computed():
    assert mpjpe(RHOMBUS, SQUARE) == pytest.approx(0.5)
    assert p_mpjpe(RHOMBUS, SQUARE) == pytest.approx(0.3)
    # Moving the prediction rigidly (with scale) does not change the aligned error.
    moved = 0.4 * RHOMBUS @ rot_z(70) @ rot_x(-35) + [5.0, 1.0, -2.0]
    assert p_mpjpe(moved, SQUARE) == pytest.approx(0.3)


def test_p_mpjpe_does_not_use_reflections(poses):
    mirrored = poses * [-1.0, 1.0, 1.0]
    assert p_mpjpe(mirrored, poses) > 0.1
    aligned = procrustes_align(mirrored, poses)
    # The aligned prediction is a proper similarity of the prediction: the orientation of every
    # triangle of joints is kept, so it cannot coincide with the target.
    def handedness(x):
        return np.sign(np.linalg.det(x[:, 1:4] - x[:, :1]))

    assert np.all(handedness(aligned) == handedness(mirrored))


def test_p_mpjpe_accepts_leading_dims(poses):
    pred = poses + np.random.default_rng(2).normal(scale=0.1, size=poses.shape)
    batched = p_mpjpe(np.stack([pred, pred]), np.stack([poses, poses]))
    assert batched == pytest.approx(p_mpjpe(pred, poses))


def test_n_mpjpe_scale_only(poses):
    assert n_mpjpe(0.7 * poses, poses) == pytest.approx(0.0, abs=1e-12)
    assert mpjpe(0.7 * poses, poses) > 0.1
    # Scale is per frame.
    per_frame = poses * np.array([0.5, 1, 2, 3, 4])[:, None, None]
    assert n_mpjpe(per_frame, poses) == pytest.approx(0.0, abs=1e-12)
    # Scale only: a rotation is not undone.
    assert n_mpjpe(poses @ rot_z(90), poses) > 0.1


def test_n_mpjpe_hand_computed():
    target = np.array([[[1.0, 0, 0], [0, 1, 0]]])
    pred = np.array([[[2.0, 0, 0], [0, 0, 0]]])
    # scale = <t, p> / <p, p> = 2 / 4; scaled pred (1, 0, 0), (0, 0, 0): errors 0 and 1.
    assert n_mpjpe(pred, target) == pytest.approx(0.5)
    assert n_mpjpe(RHOMBUS, SQUARE) == pytest.approx(0.3)


def test_mpjve_constant_offset_is_zero(poses):
    assert mpjve(poses + [0.3, -0.2, 0.1], poses) == pytest.approx(0.0, abs=1e-12)


def test_mpjve_hand_computed_two_frames():
    target = np.array([[[0.0, 0, 0], [0, 0, 0]],
                       [[1.0, 0, 0], [0, 0, 0]]])
    pred = np.array([[[0.0, 0, 0], [5, 5, 5]],
                     [[1.0, 3, 4], [5, 5, 6]]])
    # Joint 0: velocity (1, 3, 4) vs (1, 0, 0) -> 5; joint 1: (0, 0, 1) vs 0 -> 1.
    assert mpjve(pred, target) == pytest.approx(3.0)
    # Batched (B, T, J, 3): time is the axis before joints.
    assert mpjve(np.stack([pred, pred]), np.stack([target, target])) == pytest.approx(3.0)
    with pytest.raises(ValueError):
        mpjve(pred[:1], target[:1])


def test_torch_losses():
    target = torch.zeros(1, 2, 2, 3)
    pred = torch.tensor([[[[3.0, 4, 0], [0, 0, 1]], [[0, 0, 0], [0, 0, 2]]]], requires_grad=True)
    loss = mpjpe_loss(pred, target)
    assert loss.item() == pytest.approx((5 + 1 + 0 + 2) / 4)
    loss.backward()
    assert pred.grad is not None
    # Weighted: weights broadcast over the joint errors.
    w = torch.tensor([[[2.0], [1.0]]])  # (B, T, 1)
    assert weighted_mpjpe_loss(pred, target, w).item() == pytest.approx((10 + 2 + 0 + 2) / 4)
    # Agrees with the numpy metric.
    a, b = torch.randn(3, 4, 17, 3), torch.randn(3, 4, 17, 3)
    assert mpjpe_loss(a, b).item() == pytest.approx(mpjpe(a.numpy(), b.numpy()), rel=1e-5)


def test_velocity_loss_is_the_differentiable_mpjve():
    target = torch.tensor([[[[0.0, 0, 0], [0, 0, 0]], [[1.0, 0, 0], [0, 0, 0]]]])  # (B=1, T=2, J=2, 3)
    pred = torch.tensor([[[[0.0, 0, 0], [5, 5, 5]], [[1.0, 3, 4], [5, 5, 6]]]], requires_grad=True)
    loss = velocity_loss(pred, target)
    assert loss.item() == pytest.approx(3.0)  # as test_mpjve_hand_computed_two_frames
    loss.backward()
    assert pred.grad.abs().sum() > 0
    a, b = torch.randn(3, 8, 17, 3), torch.randn(3, 8, 17, 3)
    assert velocity_loss(a, b).item() == pytest.approx(mpjve(a.numpy(), b.numpy()), rel=1e-5)
    assert velocity_loss(b + torch.tensor([0.3, -0.2, 0.1]), b).item() == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="two consecutive"):
        velocity_loss(a[:, :1], b[:, :1])


def test_trajectory_weight_is_inverse_depth():
    traj = torch.tensor([[[[0.1, 0.2, 4.0]], [[0.0, 0.0, 2.0]]]])  # (B, T, 1, 3)
    w = inverse_depth_weight(traj)
    assert w.shape == (1, 2, 1)
    torch.testing.assert_close(w, torch.tensor([[[0.25], [0.5]]]))
    # A 1 m error at 4 m depth counts 0.25.
    err = traj + torch.tensor([1.0, 0.0, 0.0])
    assert weighted_mpjpe_loss(err, traj, w).item() == pytest.approx((0.25 + 0.5) / 2)


def test_bone_length_loss():
    parents = [-1, 0, 1]
    lab = torch.tensor([[[0.0, 0, 0], [1, 0, 0], [1, 2, 0]]])  # bones 1, 2
    unl = torch.tensor([[[0.0, 0, 0], [0, 3, 0], [0, 3, 1]]],  # bones 3, 1
                       requires_grad=True)
    torch.testing.assert_close(bone_lengths(lab, parents), torch.tensor([[1.0, 2.0]]))
    loss = bone_length_loss(lab, unl, parents)
    assert loss.item() == pytest.approx((2 + 1) / 2)
    loss.backward()
    assert unl.grad is not None


# ----------------------------------------------------------------------------------------------
# evaluation runner
# ----------------------------------------------------------------------------------------------


def _seq(idx, action, T, rng):
    pose = rng.normal(scale=0.3, size=(T, 17, 3)).astype(np.float32)
    pose[:, 0] = 0
    kp = np.zeros((T, 17, 2), np.float32)
    kp[..., 0] = idx  # lets the synthetic predictor know which sequence it sees
    return Sequence(subject="S9", action=action, camera_id=f"c{idx}", kp2d_norm=kp, pose3d=pose,
                    traj=np.zeros((T, 3), np.float32), intrinsics=np.array([1, 1, 0, 0], np.float32))


@pytest.fixture
def synthetic_eval():
    rng = np.random.default_rng(3)
    seqs = [_seq(0, "Walking 1", 4, rng), _seq(1, "Eating", 3, rng), _seq(2, "Walking", 2, rng)]
    offsets = [
        np.tile([0.003, 0.004, 0.0], (4, 1)),  # 5 mm everywhere, steady
        np.array([[0, 0, 0], [0.003, 0.004, 0], [0.003, 0.004, 0]]),  # 0, 5, 5 mm: one 5 mm jump
        np.tile([0.0, 0.0, 0.010], (2, 1)),  # 10 mm, steady
    ]
    preds = [s.pose3d + o[:, None, :] for s, o in zip(seqs, offsets)]

    def predict(kp):
        return preds[int(kp[0, 0, 0])]

    return seqs, preds, predict


def test_evaluate_by_action_matches_hand_computation(synthetic_eval):
    seqs, preds, predict = synthetic_eval
    res = evaluate(predict, seqs)
    assert [g.name for g in res.groups] == ["Walking", "Eating"]
    walking, eating = res.groups
    # Walking: frame-weighted over its two sequences (4 frames at 5 mm, 2 frames at 10 mm).
    assert walking.p1 == pytest.approx((4 * 5 + 2 * 10) / 6, abs=1e-4)
    assert walking.mpjve == pytest.approx(0.0, abs=1e-4)
    assert walking.p2 == pytest.approx(0.0, abs=1e-4)  # translations are aligned away
    assert walking.n_frames == 6 and walking.n_sequences == 2
    assert eating.p1 == pytest.approx(10 / 3, abs=1e-4)
    assert eating.mpjve == pytest.approx(2.5, abs=1e-4)  # one 5 mm jump over two differences
    p3_walk = 1000 * (4 * n_mpjpe(preds[0], seqs[0].pose3d) + 2 * n_mpjpe(preds[2], seqs[2].pose3d)) / 6
    assert walking.p3 == pytest.approx(p3_walk, rel=1e-6)
    # Average: unweighted over the two action groups.
    assert res.average.p1 == pytest.approx(5.0, abs=1e-4)
    assert res.average.mpjve == pytest.approx(1.25, abs=1e-4)
    assert res.average.n_frames == 9

    table = res.to_table()
    lines = table.splitlines()
    assert lines[0].split()[:4] == ["Group", "Frames", "x", "cameras"]
    rows = {ln.split()[0]: ln.split()[1:] for ln in lines if ln and not ln.startswith(("-", "Group"))}
    assert rows["Walking"][:2] == ["6", "6.7"]
    # P1-P3 with one decimal, MPJVE with two, as the reference prints them
    assert rows["Eating"][0] == "3" and rows["Eating"][1] == "3.3" and rows["Eating"][4] == "2.50"
    assert rows["Average"][:2] == ["9", "5.0"] and rows["Average"][4] == "1.25"
    assert res.to_table(decimals=2).splitlines()[-1].split()[2] == "5.00"
    json.dumps(res.to_dict())


def test_evaluate_by_sequence_and_errors(synthetic_eval):
    seqs, _, predict = synthetic_eval
    res = evaluate(predict, seqs, group_by="sequence")
    assert [g.name for g in res.groups] == [s.name for s in seqs]
    assert res.groups[0].p1 == pytest.approx(5.0, abs=1e-4)
    assert res.groups[2].p1 == pytest.approx(10.0, abs=1e-4)
    assert res.average.p1 == pytest.approx((5 + 10 / 3 + 10) / 3, abs=1e-4)
    with pytest.raises(ValueError, match="group_by"):
        evaluate(predict, seqs, group_by="camera")
    with pytest.raises(ValueError, match="shape"):
        evaluate(lambda kp: np.zeros((1, 17, 3)), seqs)


def test_evaluate_single_frame_sequence_has_no_velocity():
    seq = _seq(0, "Posing", 1, np.random.default_rng(4))
    res = evaluate(lambda kp: seq.pose3d, [seq])
    assert res.average.p1 == 0.0 and math.isnan(res.average.mpjve)
    assert "n/a" in res.to_table()
    assert res.to_dict()["average"]["mpjve"] is None
