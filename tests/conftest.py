"""Shared test helpers.

Helpers shared by several test files live here (tests never import each other): the 3-second tai chi
`clip` fixture, damaged_copy (a video cut short or overwritten in the middle), the small lifter and
reference-format checkpoints (small_model, write_official, walking_2d), tiny ONNX stand-ins for RTMPose
(tiny_pose_onnx, tiny_detector_onnx, blob_frame) and audio_seconds.

Real data lives outside the repository, in ../shared (relative to the repository root): data/ (videos,
mocap) and docs/. Tests that need it call `require_shared(...)`: under CI=true a missing file is a failure
(CI must have the data), elsewhere it is a skip with the reason.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SHARED_ROOT = Path(__file__).resolve().parents[1].parent / "shared"
SHARED = SHARED_ROOT / "data"
BIN = Path(sys.executable).parent  # the venv's console scripts (vp3d, vp3d-infer)


def require_shared(*parts: str, folder: str = "data") -> Path:
    """Path of ../shared/<folder>/<parts...>; pytest.fail under CI=true when it is missing, pytest.skip
    otherwise."""
    path = SHARED_ROOT.joinpath(folder, *parts)
    if not path.exists():
        message = f"shared test data missing: {path}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def ffmpeg(*args) -> None:
    """The bundled ffmpeg, quiet, overwriting; arguments are str()-ed."""
    from vp3d.video import ffmpeg_exe
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *map(str, args)], check=True, timeout=120)


def vp3d_infer(*args, cwd=None) -> subprocess.CompletedProcess:
    """`vp3d-infer ARGS` as a user runs it (a new process); arguments are str()-ed."""
    return subprocess.run([str(BIN / "vp3d-infer"), *map(str, args)], capture_output=True, text=True,
                          timeout=600, cwd=cwd)


def decoded_frames(path) -> int:
    """Frames OpenCV actually decodes from a video file (container counts are often wrong)."""
    import cv2
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n


def damaged_copy(src: Path, dst: Path, damage: str = "cut", at: float = 0.6) -> Path:
    """A damaged copy of the video `src`, in dst's container (.mp4 with its index at the front, so what is
    left still plays; .mkv; .ts): the bytes cut at `at` of the file ("cut"), or 4 KB there overwritten with
    noise ("noise"), as a broken download or a failing disk leaves a file."""
    whole = dst.with_name(f"whole-{dst.name}")
    ffmpeg("-i", src, "-map", "0:v", "-c", "copy", *(["-movflags", "+faststart"] if dst.suffix == ".mp4" else []),
           whole)
    data = bytearray(whole.read_bytes())
    whole.unlink()
    where = int(len(data) * at)
    if damage == "cut":
        del data[where:]
    elif damage == "noise":
        data[where:where + 4096] = np.random.default_rng(16).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    else:
        raise ValueError(f"damage must be cut or noise, not {damage!r}")
    dst.write_bytes(bytes(data))
    return dst


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """Three seconds of the tai chi video (72 frames at 23.976 fps), re-encoded."""
    src = require_shared("videos", "taiji.mp4")
    out = tmp_path_factory.mktemp("clip") / "taiji 3s é.mp4"  # spaces and non-ASCII on purpose
    ffmpeg("-ss", 5, "-i", src, "-t", 3, "-c:v", "libx264", "-preset", "ultrafast", out)
    return out


# ------------------------------------------------------------------------------ small lifters

def small_model(causal=False, widths=(3, 3, 3, 3, 3), joints_in=17):
    """A small TemporalModel (16 channels) with non-trivial BatchNorm statistics, in eval mode."""
    import torch
    from vp3d.lifter.model import TemporalModel

    torch.manual_seed(0)
    model = TemporalModel(joints_in, 2, 17, widths, causal=causal, channels=16)
    # Non-trivial BatchNorm statistics, as a trained model has.
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return model.eval()



def write_official(path, model, with_random_state=False):
    """A file laid out like the reference release's checkpoints."""
    import torch

    data = {"epoch": 80, "lr": 1e-5, "optimizer": None, "model_pos": model.state_dict(), "model_traj": None}
    if with_random_state:  # training checkpoints pickle a numpy RandomState: not loadable weights-only
        data["random_state"] = np.random.RandomState(0).get_state()
    torch.save(data, path)
    return path



def walking_2d(T, joints=17, seed=0):
    """(T, joints, 2) float32 normalized 2D that sways smoothly, like a walking person's."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(-0.3, 0.3, (1, joints, 2))
    t = np.arange(T)[:, None, None] / 50
    return (base + 0.05 * np.sin(2 * np.pi * t + rng.uniform(0, 6, (1, joints, 2)))).astype(np.float32)


# ------------------------------------------------------------------------------ video

def audio_seconds(path: Path) -> float | None:
    """Duration of the file's audio track in seconds (decoded), or None when it has no audio."""
    from vp3d.video import ffmpeg_exe

    err = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path), "-map", "0:a:0?", "-f", "null", "-"],
                         capture_output=True, text=True).stderr
    if "Audio:" not in err:
        return None
    h, m, s = re.findall(r"time=(\d+):(\d+):([\d.]+)", err)[-1]
    return int(h) * 3600 + int(m) * 60 + float(s)


# ------------------------------------------------------- tiny ONNX stand-ins for RTMPose (no real weights here)

def tiny_pose_onnx(path: Path, in_hw=(64, 48), batch: int | str = "batch") -> Path:
    """A SimCC-shaped ONNX stand-in for RTMPose: every joint's simcc_x is the brightest value of each image
    column (two bins per pixel) and simcc_y that of each row, so the decoded keypoint is the brightest spot
    of the crop. Built with the onnx helper API (no real RTMPose weights can be downloaded here)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    h, w = in_hw

    def const(name, values):
        return numpy_helper.from_array(np.asarray(values, np.int64), name)

    nodes = [
        helper.make_node("ReduceMean", ["input"], ["m"], axes=[1], keepdims=0),  # (B, H, W)
        helper.make_node("ReduceMax", ["m"], ["px"], axes=[1], keepdims=1),  # (B, 1, W)
        helper.make_node("ReduceMax", ["m"], ["py_col"], axes=[2], keepdims=1),  # (B, H, 1)
        helper.make_node("Transpose", ["py_col"], ["py"], perm=[0, 2, 1]),  # (B, 1, H)
    ]
    for src, n, out in (("px", w, "simcc_x"), ("py", h, "simcc_y")):
        nodes += [
            helper.make_node("Unsqueeze", [src, "axis3"], [f"{src}4"]),  # (B, 1, n, 1)
            helper.make_node("Expand", [f"{src}4", "two"], [f"{src}2"]),  # (B, 1, n, 2)
            helper.make_node("Reshape", [f"{src}2", "flat"], [f"{src}f"]),  # (B, 1, 2n)
            helper.make_node("Expand", [f"{src}f", "joints"], [out]),  # (B, 17, 2n)
        ]
    graph = helper.make_graph(
        nodes, "tiny_simcc",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, 3, h, w])],
        [helper.make_tensor_value_info("simcc_x", TensorProto.FLOAT, [batch, 17, 2 * w]),
         helper.make_tensor_value_info("simcc_y", TensorProto.FLOAT, [batch, 17, 2 * h])],
        [const("axis3", [3]), const("two", [1, 1, 1, 2]), const("flat", [0, 1, -1]), const("joints", [1, 17, 1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def tiny_detector_onnx(path: Path, dets: np.ndarray, labels: list[int], in_hw=(160, 160)) -> Path:
    """An end2end-YOLOX-shaped ONNX stand-in: input (1, 3, S, S), outputs dets (1, N, 5) and labels (1, N),
    fixed boxes given in detector-input pixels (the input is read only to be a real graph input)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    n = len(labels)
    nodes = [helper.make_node("ReduceMax", ["input"], ["peak"], keepdims=0),
             helper.make_node("Mul", ["peak", "zero"], ["nothing"]),
             helper.make_node("Add", ["boxes", "nothing"], ["dets"]),
             helper.make_node("Identity", ["classes"], ["labels"])]
    graph = helper.make_graph(
        nodes, "tiny_det",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, *in_hw])],
        [helper.make_tensor_value_info("dets", TensorProto.FLOAT, [1, n, 5]),
         helper.make_tensor_value_info("labels", TensorProto.INT64, [1, n])],
        [numpy_helper.from_array(np.asarray(dets, np.float32)[None], "boxes"),
         numpy_helper.from_array(np.float32(0), "zero"),
         numpy_helper.from_array(np.asarray(labels, np.int64)[None], "classes")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def blob_frame(centres, size=(320, 180)) -> np.ndarray:
    """A dark BGR frame of `size` (width, height) with a bright Gaussian spot (sigma 3 px) at each centre (x, y)."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.zeros((h, w), np.float32)
    for cx, cy in centres:
        img = np.maximum(img, np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * 3.0 ** 2)))
    return np.repeat((img * 255).astype(np.uint8)[..., None], 3, axis=2)


# ------------------------------------------------------------------------------ processes (kill tests)

def child_pids(pid: int) -> list[int]:
    """The live child processes of `pid` (from /proc; [] once it is gone)."""
    try:
        return [int(c) for t in os.listdir(f"/proc/{pid}/task")
                for c in Path(f"/proc/{pid}/task/{t}/children").read_text().split()]
    except OSError:
        return []


def cmdline(pid: int) -> str:
    """The command line of process `pid`, arguments joined by spaces ("" once it is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""
