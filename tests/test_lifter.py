"""The lifter: model shapes, padding, flip augmentation, causality, checkpoints, frame-rate handling."""

import numpy as np
import pytest
import torch

from conftest import small_model, walking_2d, write_official
from vp3d.lifter.camera import focal_from_fov, image_coordinates, normalize_screen_coordinates
from vp3d.lifter.checkpoint import CheckpointError, LifterMeta, load_checkpoint, save_checkpoint
from vp3d.lifter.inference import Lifter, resample
from vp3d.lifter.model import TemporalModel, TemporalModelStrided, count_parameters
from vp3d.lifter.weights import WeightsMismatchWarning
from vp3d.skeleton import COCO, H36M


def test_normalization_round_trip_keeps_aspect_ratio():
    px = np.array([[0, 0], [1280, 720], [640, 360]], np.float32)
    norm = normalize_screen_coordinates(px, 1280, 720)
    assert np.allclose(norm[0], [-1, -720 / 1280]) and np.allclose(norm[1], [1, 720 / 1280])
    assert np.allclose(norm[2], [0, 0])
    assert np.allclose(image_coordinates(norm, 1280, 720), px)


def test_field_of_view_gives_the_pinhole_focal_length():
    assert focal_from_fov(90, 1280) == pytest.approx(640)  # half the width over tan(45 deg)
    for impossible in (0, 180, -10):
        with pytest.raises(ValueError):
            focal_from_fov(impossible, 1280)


def test_parameter_counts_match_the_paper():
    assert count_parameters(TemporalModel()) == 16_952_371
    assert count_parameters(TemporalModel(filter_widths=(3, 3, 3))) == 8_555_571
    assert count_parameters(TemporalModel(num_joints_out=1)) == 16_903_171


@pytest.mark.parametrize("causal", [False, True])
def test_strided_training_variant_equals_dilated_model(causal):
    model = small_model(causal)
    strided = TemporalModelStrided(17, 2, 17, (3, 3, 3, 3, 3), causal=causal, channels=16).eval()
    strided.load_state_dict(model.state_dict())
    x = torch.from_numpy(walking_2d(243 + 4))[None]
    dilated = model(x)[0]
    one_by_one = torch.stack([strided(x[:, i: i + 243])[0, 0] for i in range(5)])
    assert torch.allclose(dilated, one_by_one, atol=1e-5)


@pytest.mark.parametrize("frames", [1, 50, 243, 1000])
@pytest.mark.parametrize("causal", [False, True])
def test_every_input_frame_gets_a_pose(tmp_path, frames, causal):
    lifter = Lifter.load(write_official(tmp_path / "pretrained_h36m_cpn.bin", small_model(causal)), causal=causal)
    out = lifter.lift(walking_2d(frames))
    assert out.poses.shape == (frames, 17, 3) and np.isfinite(out.poses).all()


def test_edge_replication_padding_matches_a_hand_padded_forward_pass(tmp_path):
    model = small_model()
    lifter = Lifter.load(write_official(tmp_path / "pretrained_h36m_cpn.bin", model))
    kp = walking_2d(30)
    padded = np.concatenate([np.repeat(kp[:1], 121, 0), kp, np.repeat(kp[-1:], 121, 0)])
    with torch.no_grad():
        expected = model(torch.from_numpy(padded)[None])[0].numpy()
    assert np.allclose(lifter.lift(kp, flip=False).poses, expected, atol=1e-5)


@pytest.mark.parametrize("fps, flip", [(None, False), (24.0, True)])
def test_long_sequences_lifted_in_windows_equal_one_pass(tmp_path, monkeypatch, fps, flip):
    """Long videos go through the model chunk_memo.CHUNK_FRAMES outputs at a time (bounded memory). With
    windows of 97 frames, 1000 input frames (more after resampling 24 -> 50 fps) take several forward passes,
    whose joined output is the single pass's, frame for frame: none lost, doubled or shifted at a boundary."""
    import vp3d.lifter.chunk_memo as chunk_memo
    checkpoint = write_official(tmp_path / "pretrained_h36m_cpn.bin", small_model())
    kp = walking_2d(1000)

    def lift_counting_passes(window_frames):
        monkeypatch.setattr(chunk_memo, "CHUNK_FRAMES", window_frames)
        lifter, passes = Lifter.load(checkpoint), []
        network = lifter.pose_net

        def counted(x):
            out = network(x)
            passes.append(len(out))
            return out
        lifter.pose_net = counted
        return lifter.lift(kp, fps=fps, flip=flip).poses, passes

    whole, passes = lift_counting_passes(10 ** 6)
    model_frames = 1000 if fps is None else 2082  # 41.6 s at 50 fps
    assert passes == [model_frames] * (2 if flip else 1)  # one pass per sequence (and one for its mirror image)
    chunked, passes = lift_counting_passes(97)
    assert sorted(set(passes)) == [model_frames % 97, 97]  # full windows and the remainder
    assert len(passes) == (2 if flip else 1) * -(-model_frames // 97)
    assert chunked.shape == whole.shape == (1000, 17, 3)
    np.testing.assert_allclose(chunked, whole, atol=1e-5)


@pytest.mark.parametrize("flip", [False, True])
def test_lifting_a_sequence_again_as_it_grows_computes_only_its_new_windows(tmp_path, monkeypatch, flip):
    """A video's people are lifted again and again while it is detected (the render's lifts, then the final
    one): a window of the model's input seen before is not computed again, and the poses are the same bits as
    a fresh lifter's."""
    import vp3d.lifter.chunk_memo as chunk_memo
    monkeypatch.setattr(chunk_memo, "CHUNK_FRAMES", 100)
    checkpoint = write_official(tmp_path / "pretrained_h36m_cpn.bin", small_model())
    lifter = Lifter.load(checkpoint)
    network, passes = lifter.pose_net, []

    def counted(x):
        passes.append(len(x))
        return network(x)
    lifter.pose_net = counted
    # Jitter: the walk repeats itself, and a repeated window is (rightly) not computed twice.
    kp = walking_2d(1000) + np.random.default_rng(0).normal(0, 0.002, (1000, 17, 2)).astype(np.float32)
    lifter.lift(kp[:650], flip=flip)
    assert len(passes) == (2 if flip else 1) * 7
    passes.clear()
    grown = lifter.lift(kp, flip=flip).poses
    # Windows 0-4 read input frames up to 499 + 121 = 620 (edge padding from 650 on): the same as before. Window 5
    # reads frames to 720, past the old end: computed again, with windows 6-9.
    assert len(passes) == (2 if flip else 1) * 5
    np.testing.assert_array_equal(grown, Lifter.load(checkpoint).lift(kp, flip=flip).poses)

def mirror(kp, perm):
    out = kp[:, perm].copy()
    out[..., 0] *= -1
    return out


def test_flip_augmentation_makes_the_lifter_mirror_equivariant(tmp_path):
    lifter = Lifter.load(write_official(tmp_path / "pretrained_h36m_cpn.bin", small_model()))
    kp = walking_2d(60)
    pose = lifter.lift(kp).poses
    pose_of_mirror = lifter.lift(mirror(kp, H36M.flip_permutation())).poses
    assert np.allclose(pose_of_mirror, mirror(pose, H36M.flip_permutation()), atol=1e-5)
    # Without augmentation a (random) model is not equivariant: the test above is not vacuous.
    plain = lifter.lift(mirror(kp, H36M.flip_permutation()), flip=False).poses
    assert not np.allclose(plain, mirror(lifter.lift(kp, flip=False).poses, H36M.flip_permutation()), atol=1e-3)


def test_causal_outputs_do_not_depend_on_future_frames(tmp_path):
    lifter = Lifter.load(write_official(tmp_path / "cpn-ft-243-dbb-causal.bin", small_model(causal=True)))
    assert lifter.meta.causal
    kp = walking_2d(300)
    changed = kp.copy()
    changed[200:] += 0.3
    a, b = lifter.lift(kp).poses, lifter.lift(changed).poses
    assert np.allclose(a[:200], b[:200], atol=1e-6)
    assert not np.allclose(a[200:], b[200:], atol=1e-3)


def test_official_checkpoint_architecture_and_layout_come_from_the_file(tmp_path):
    model = small_model()  # the published receptive field, narrower (16 channels): used as it is, with a warning
    with pytest.warns(WeightsMismatchWarning, match="16 channels"):
        ckpt = load_checkpoint(write_official(tmp_path / "pretrained_h36m_detectron_coco.bin", model))
    assert ckpt.meta.filter_widths == (3, 3, 3, 3, 3) and ckpt.meta.channels == 16
    assert ckpt.meta.input_layout == "coco" and not ckpt.meta.causal and ckpt.meta.fps == 50
    lifter = Lifter(ckpt)
    kp = walking_2d(40)
    # COCO input is flipped with COCO's own left/right pairs: equivariance holds in that layout.
    assert np.allclose(lifter.lift(mirror(kp, COCO.flip_permutation())).poses,
                       mirror(lifter.lift(kp).poses, H36M.flip_permutation()), atol=1e-5)


def test_unknown_official_name_needs_a_layout(tmp_path):
    path = write_official(tmp_path / "my_model.bin", small_model())
    with pytest.raises(CheckpointError, match="--input-layout"):
        load_checkpoint(path)
    assert load_checkpoint(path, input_layout="coco").meta.input_layout == "coco"


def test_checkpoints_that_need_unpickling_are_refused_unless_trusted(tmp_path):
    path = write_official(tmp_path / "pretrained_h36m_cpn.bin", small_model(), with_random_state=True)
    with pytest.raises(CheckpointError, match="trust"):
        load_checkpoint(path)
    assert load_checkpoint(path, trust=True).meta.channels == 16


def test_missing_weights_say_how_to_get_them(tmp_path):
    with pytest.raises(CheckpointError, match="dl.fbaipublicfiles.com"):
        load_checkpoint(tmp_path / "nope.bin")


def test_own_checkpoint_round_trip_keeps_metadata_and_float16_weights(tmp_path):
    model = small_model()
    meta = LifterMeta(filter_widths=(3, 3, 3, 3, 3), channels=16, causal=False, num_joints_in=17, in_features=2,
                      num_joints_out=17, input_layout="h36m", fps=50.0, training={"data": "test", "seed": 1})
    save_checkpoint(tmp_path / "own.bin", meta, model, half=True)
    ckpt = load_checkpoint(tmp_path / "own.bin")
    assert ckpt.meta.training == {"data": "test", "seed": 1} and ckpt.meta.input_layout == "h36m"
    assert next(ckpt.model_pos.parameters()).dtype == torch.float32
    kp = walking_2d(20)
    assert np.allclose(Lifter(ckpt).lift(kp).poses, Lifter.load(write_official(tmp_path / "pretrained_h36m_cpn.bin", model)).lift(kp).poses, atol=2e-2)


def test_weights_that_declare_output_smoothing_give_their_raw_poses_smoothed_in_both_engines(tmp_path):
    """meta.output_smoothing (sigma in model frames) travels in the file, own and light form alike: the lifted
    poses are the raw ones smoothed over time, and the lookahead grows by the filter's reach. A file without it
    (every official checkpoint) gives its raw output."""
    from scipy.ndimage import gaussian_filter1d
    from vp3d.lifter.light_weights import write_light

    model = small_model()
    meta = LifterMeta(filter_widths=(3, 3, 3, 3, 3), channels=16, causal=False, num_joints_in=17, in_features=2,
                      num_joints_out=17, input_layout="h36m", fps=50.0)
    save_checkpoint(tmp_path / "raw.bin", meta, model)
    meta.output_smoothing = 1.0
    save_checkpoint(tmp_path / "smooth.bin", meta, model)
    kp = walking_2d(80)
    raw, smooth = Lifter.load(tmp_path / "raw.bin"), Lifter.load(tmp_path / "smooth.bin")
    expected = gaussian_filter1d(raw.lift(kp).poses, 1.0, axis=0, mode="nearest")
    np.testing.assert_allclose(smooth.lift(kp).poses, expected, atol=1e-6)
    assert np.abs(np.diff(expected, axis=0)).mean() < np.abs(np.diff(raw.lift(kp).poses, axis=0)).mean()
    assert smooth.lookahead() == raw.lookahead() + 4
    assert (smooth.lift(kp).smoothing, smooth.lift(kp, smooth=False).smoothing, raw.lift(kp).smoothing) == (1.0, 0, 0)
    light = Lifter.load(write_light(tmp_path / "smooth.bin"), engine="numpy")
    np.testing.assert_allclose(light.lift(kp).poses, expected, atol=1e-4)


def test_resample_is_linear_and_keeps_endpoints():
    seq = np.arange(5, dtype=np.float32)[:, None]  # 0..4 at 10 fps = 0.4 s
    up = resample(seq, 10, 20)
    assert np.allclose(up[:, 0], np.arange(9) / 2)
    assert np.allclose(resample(up, 20, 10, num_out=5), seq)


def test_same_motion_at_two_frame_rates_gives_the_same_poses(tmp_path):
    lifter = Lifter.load(write_official(tmp_path / "pretrained_h36m_cpn.bin", small_model()))
    t50 = np.arange(0, 4, 1 / 50)
    t25 = np.arange(0, 4, 1 / 25)

    def motion(t):
        phase = np.sin(2 * np.pi * 0.5 * t)[:, None, None]
        return (np.linspace(-0.3, 0.3, 34).reshape(1, 17, 2) * (1 + 0.3 * phase)).astype(np.float32)

    at50 = lifter.lift(motion(t50), fps=50).poses
    at25 = lifter.lift(motion(t25), fps=25).poses
    assert at25.shape[0] == len(t25)
    # Frames at the same instants agree (up to interpolation of a smooth motion), away from the edges.
    assert np.abs(at50[::2][10:-10] - at25[10:-10]).max() < 2e-3
