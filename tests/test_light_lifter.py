"""The light lifter: the numpy engine gives the torch engine's poses, the shipped .npz is the .bin's light form,
the engine is chosen by file and device, and the default `vp3d-infer` never imports torch."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from conftest import BIN, small_model, walking_2d
from vp3d.lifter import chunk_memo, inference
from vp3d.lifter.checkpoint import CheckpointError, load_checkpoint
from vp3d.lifter.inference import ENGINE_ENV, Lifter, choose_engine
from vp3d.lifter.light_weights import file_sha256, read_light_arrays, write_light
from vp3d.lifter.model import TemporalModel
from vp3d.lifter.weights import LifterWeights, default_checkpoint

SHIPPED = LifterWeights.DEFAULT.value.path
RELATIVE = 1e-4  # of the output's scale: float32 rounding of another order of operations is ~1e-6


def assert_close_relative(light: np.ndarray, reference: np.ndarray) -> None:
    """Equal within RELATIVE times the reference's largest magnitude (elementwise relative error is
    meaningless for coordinates near zero)."""
    np.testing.assert_allclose(light, reference, rtol=0, atol=RELATIVE * np.abs(reference).max())


def write_official_with_trajectory(path, causal: bool, trajectory: bool):
    """A reference-layout checkpoint (as conftest.write_official), with a trajectory model when asked: one
    root position per frame, its own weights and BatchNorm statistics."""
    traj = None
    if trajectory:
        torch.manual_seed(1)
        traj = TemporalModel(17, 2, 1, (3, 3, 3, 3, 3), causal=causal, channels=16).eval()
        for m in traj.modules():
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    data = {"epoch": 80, "lr": 1e-5, "optimizer": None, "model_pos": small_model(causal).state_dict(),
            "model_traj": traj.state_dict() if traj is not None else None}
    torch.save(data, path)
    return path


@pytest.mark.parametrize("shipped", [w.value.path for w in LifterWeights if not w.value.official],
                         ids=lambda p: p.name)
def test_shipped_light_weights_are_the_current_light_form_of_the_shipped_bin(shipped):
    """One source of truth: the .npz holds the .bin's tensors bit for bit and its metadata. After retraining,
    regenerate it: python -m vp3d.lifter.light_weights weights/vp3d_cmu_h36m17_243f.bin"""
    light = shipped.with_suffix(".npz")
    meta, states, source = read_light_arrays(light)
    assert source == file_sha256(shipped), f"{light.name} was derived from another {shipped.name}: regenerate it"
    stored = torch.load(shipped, map_location="cpu", weights_only=True)
    for net in ("model_pos", "model_traj"):
        tensors = {k: v.numpy() for k, v in (stored.get(net) or {}).items() if v.is_floating_point()}
        assert sorted(states.get(net, {})) == sorted(tensors)
        for name, array in tensors.items():
            assert states[net][name].dtype == array.dtype == np.float16
            assert states[net][name].tobytes() == array.tobytes(), name
    assert meta == load_checkpoint(shipped).meta


@pytest.mark.parametrize("fps, flip", [(None, False), (24.0, True), (59.94, True)])
def test_light_engine_gives_the_torch_lifters_poses_on_the_shipped_weights(fps, flip):
    light, reference = Lifter.load(SHIPPED), Lifter.load(SHIPPED, engine="torch")
    assert (light.engine, reference.engine) == ("numpy", "torch")
    kp = walking_2d(700)
    assert_close_relative(light.lift(kp, fps=fps, flip=flip).poses, reference.lift(kp, fps=fps, flip=flip).poses)


@pytest.mark.filterwarnings("ignore:named like the known weights")  # small stand-ins for the official files
@pytest.mark.parametrize("name, causal", [("pretrained_h36m_cpn.bin", False), ("cpn-ft-243-dbb-causal.bin", True)])
@pytest.mark.parametrize("trajectory", [False, True])
@pytest.mark.parametrize("chunk", [None, 97])
def test_converted_official_checkpoints_give_the_torch_lifters_outputs(tmp_path, monkeypatch, name, causal,
                                                                        trajectory, chunk):
    """Official-format files (symmetric and causal, with and without a trajectory model), converted once:
    same poses and root trajectory, with the same padding, flip, resampling and chunking."""
    if chunk:  # several forward passes per sequence (the torch side too)
        monkeypatch.setattr(chunk_memo, "CHUNK_FRAMES", chunk)
    official = write_official_with_trajectory(tmp_path / name, causal, trajectory)
    light = Lifter.load(write_light(official))
    reference = Lifter.load(official)
    assert (light.engine, reference.engine) == ("numpy", "torch")
    assert light.meta == reference.meta and light.meta.causal == causal and light.meta.has_trajectory == trajectory
    kp = walking_2d(400)
    got, want = light.lift(kp, fps=30.0), reference.lift(kp, fps=30.0)
    assert_close_relative(got.poses, want.poses)
    if trajectory:
        assert got.trajectory.shape == want.trajectory.shape == (400, 3)
        assert_close_relative(got.trajectory, want.trajectory)
    else:
        assert got.trajectory is None and want.trajectory is None


@pytest.mark.filterwarnings("ignore:named like the known weights")
def test_the_engine_follows_the_weights_file_and_the_device(tmp_path, monkeypatch):
    monkeypatch.delenv(ENGINE_ENV, raising=False)
    assert choose_engine(SHIPPED, "auto") == choose_engine(SHIPPED, "cpu") == "numpy"
    assert choose_engine(SHIPPED, "cuda") == "torch"  # GPUs run the .bin
    official = write_official_with_trajectory(tmp_path / "pretrained_h36m_cpn.bin", False, False)
    assert choose_engine(official, "auto") == "torch"  # no light form beside a user's or an official file
    with pytest.raises(CheckpointError, match="python -m vp3d.lifter.light_weights"):
        choose_engine(official, "cpu", engine="numpy")
    light = write_light(official)
    assert choose_engine(light, "auto") == "numpy"
    with pytest.raises(CheckpointError, match="numpy engine only"):
        choose_engine(light, "cuda")
    monkeypatch.setenv(ENGINE_ENV, "torch")
    assert choose_engine(SHIPPED, "auto") == "torch"


def test_without_torch_a_bin_checkpoint_says_what_to_install(monkeypatch):
    """A light install has no torch: the torch engine's files are refused in one line, the light ones run."""
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails as if it were not installed
    monkeypatch.delitem(sys.modules, "vp3d.lifter.checkpoint")
    monkeypatch.setenv(ENGINE_ENV, "torch")
    with pytest.raises(CheckpointError, match=r"needs torch, which is not installed.*light_weights"):
        Lifter.load(SHIPPED)
    monkeypatch.delenv(ENGINE_ENV)
    assert Lifter.load(SHIPPED).lift(walking_2d(5)).poses.shape == (5, 17, 3)


def test_a_file_that_is_not_light_weights_is_a_one_line_error(tmp_path):
    bad = tmp_path / "weights.npz"
    bad.write_text("not a zip")
    with pytest.raises(CheckpointError, match="not a light lifter file"):
        Lifter.load(bad)


# Runs a console script and writes, when the process ends (os._exit included: one-video runs end that way),
# the packages it had imported (top-level names) to the file named by its first argument.
TORCH_SPY = """
import json, os, runpy, sys
report_path, script = sys.argv[1], sys.argv[2]

def report():
    with open(report_path, "w") as f:
        json.dump(sorted({m.split(".")[0] for m in sys.modules}), f)

real_exit = os._exit
os._exit = lambda code: (report(), real_exit(code))
sys.argv = sys.argv[2:]
try:
    runpy.run_path(script, run_name="__main__")
finally:
    report()
"""


def run_spied_infer(tmp_path, *args, env=None) -> list[str]:
    spy, report = tmp_path / "spy.py", tmp_path / "torch_modules.json"
    spy.write_text(TORCH_SPY)
    proc = subprocess.run([sys.executable, str(spy), str(report), str(BIN / "vp3d-infer"), *map(str, args)],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(report.read_text())


def test_default_vp3d_infer_never_imports_torch(clip, tmp_path):
    """Nor what MediaPipe's own import would bring and vp3d never runs (matplotlib, sounddevice: most of a
    second of start-up)."""
    env = {k: v for k, v in os.environ.items() if k not in (ENGINE_ENV, "VP3D_WEIGHTS")}
    out = tmp_path / "out"
    imported = run_spied_infer(tmp_path, clip, "--out", out / "r.mp4", "--json", out / "r.json", "--quiet", env=env)
    assert "mediapipe" in imported
    assert not {"torch", "matplotlib", "sounddevice"} & set(imported)
    assert (out / "r.mp4").stat().st_size > 0 and json.loads((out / "r.json").read_text())["frames"]
    # The check can fail: the torch engine on the same clip shows up in it.
    assert "torch" in run_spied_infer(tmp_path, clip, "--no-render", "--json", out / "t.json", "--quiet",
                                      env={**env, ENGINE_ENV: "torch"})


def test_the_default_weights_are_the_shipped_bin_whose_light_form_runs(monkeypatch):
    monkeypatch.delenv("VP3D_WEIGHTS", raising=False)
    assert default_checkpoint() == SHIPPED and Lifter.load(default_checkpoint(), "auto").engine == "numpy"


def write_focal_unit_lifter(path, units="focal"):
    """A small 27-frame lifter with a trajectory model predicting in `units` (random weights)."""
    from vp3d.lifter.checkpoint import save_checkpoint
    from vp3d.lifter.meta import LifterMeta
    meta = LifterMeta(filter_widths=(3, 3, 3), channels=16, causal=False, num_joints_in=17, in_features=2,
                      num_joints_out=17, input_layout="h36m", fps=50.0, has_trajectory=True, trajectory_units=units)
    torch.manual_seed(0)
    pos, traj = meta.build_model().eval(), meta.build_model(num_joints_out=1).eval()
    save_checkpoint(path, meta, pos, traj)
    return path


@pytest.mark.parametrize("engine", ["torch", "numpy"])
def test_a_trajectory_in_focal_units_is_placed_by_the_cameras_focal_length(tmp_path, engine):
    """Trajectory models trained in focal units (vp3d train --trajectory-units focal) predict the root divided
    by the normalized focal length: the root in metres scales with the focal length given (a longer lens: the
    same image is a person further away), the default field of view's when none is; the pose does not move.
    Metre models (the reference's) ignore the focal length."""
    kp = walking_2d(40)
    path = write_focal_unit_lifter(tmp_path / "focal.bin")
    if engine == "numpy":
        path = write_light(path)
    lifter = Lifter.load(path, engine=engine)
    unit = lifter.lift(kp, focal=1.0)
    longer = lifter.lift(kp, focal=2.5)
    np.testing.assert_allclose(longer.trajectory, 2.5 * unit.trajectory, rtol=1e-5)
    np.testing.assert_allclose(lifter.lift(kp).trajectory, inference.DEFAULT_FOCAL * unit.trajectory, rtol=1e-5)
    np.testing.assert_array_equal(longer.poses, unit.poses)
    assert inference.DEFAULT_FOCAL == pytest.approx(1 / np.tan(np.radians(55 / 2)))

    metres = Lifter.load(write_focal_unit_lifter(tmp_path / "metres.bin", units="m"), engine="torch")
    np.testing.assert_array_equal(metres.lift(kp, focal=2.5).trajectory, metres.lift(kp).trajectory)


def test_vp3d_infer_places_a_focal_unit_root_by_the_lens_it_is_told(clip, tmp_path):
    """--fov reaches the trajectory: the same video through a narrower lens puts the person further away."""
    path = write_focal_unit_lifter(tmp_path / "focal.bin")
    roots = {}
    for fov in (40, 70):
        out = tmp_path / f"r{fov}.json"
        proc = subprocess.run([BIN / "vp3d-infer", clip, "--checkpoint", path, "--fov", str(fov), "--no-render",
                               "--json", out, "--quiet"], capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        roots[fov] = np.array([f["root_camera"] for f in json.loads(out.read_text())["frames"]])
    ratio = np.tan(np.radians(70 / 2)) / np.tan(np.radians(40 / 2))
    np.testing.assert_allclose(roots[40], ratio * roots[70], rtol=1e-3, atol=1e-4)


def test_the_light_engine_keeps_the_shipped_weights_as_stored():
    """Memory (a 10-minute video's target): the numpy engine holds the shipped float16 weights as float16 and
    widens a layer only for its product; the folded float32 copy is made for the live stream only."""
    lifter = Lifter.load(default_checkpoint())
    net = lifter.pose_net
    convs = [net.expand, *(conv for dilated, pointwise, _ in net.blocks for conv in (dilated, pointwise)), net.shrink]
    assert lifter.engine == "numpy" and all(conv.weights.dtype == np.float16 for conv in convs)
    lifter.lift(walking_2d(300))
    assert not any("matrix" in vars(conv) for conv in convs)
