"""A light install (`pip install vp3d` without extras, pinned in requirements-light.txt): video to 3D without torch,
and a one-line `pip install` hint for every command that needs an extra.

The environment is a real venv holding vp3d installed from the wheel its source builds, beside exactly the
packages requirements-light.txt names: their files are linked from the test venv (same versions) rather than
downloaded again, so torch, torchvision and the test tools are absent as on a user's light install. The install's
size and time are bench/bench_install.py's job.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

from vp3d.lifter.weights import LifterWeights

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ("setup.cfg", "pyproject.toml", "README.md", "vp3d", "weights")


def light_requirements() -> list[str]:
    lines = (ROOT / "requirements-light.txt").read_text().splitlines()
    return [line.split("==")[0].strip() for line in lines if "==" in line and not line.startswith("#")]


def link_installed(distribution: str, site_packages: Path) -> None:
    """Link what `distribution` installed in this test venv's site-packages into another site-packages."""
    ours = Path(sysconfig.get_paths()["purelib"])
    tops = {Path(f).parts[0] for f in metadata.distribution(distribution).files if not str(f).startswith("..")}
    for top in tops:
        if not (site_packages / top).exists() and (ours / top).exists():
            (site_packages / top).symlink_to(ours / top)


@pytest.fixture(scope="module")
def light(tmp_path_factory):
    """(venv folder, its bin/) with vp3d installed from its wheel and only the light set beside it."""
    tmp = tmp_path_factory.mktemp("light")
    src = tmp / "src"
    src.mkdir()
    for name in SOURCE:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
                    "-w", tmp / "dist", src], check=True, capture_output=True)
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    site_packages = Path(subprocess.run([venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()"
                                         "['purelib'])"], capture_output=True, text=True, check=True).stdout.strip())
    for requirement in light_requirements():
        link_installed(requirement, site_packages)
    wheel = next((tmp / "dist").glob("vp3d-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "-q", "--no-deps",
                    "--no-index", wheel], check=True, capture_output=True)
    return venv, venv / "bin"


def run(light, *args, cwd=None) -> subprocess.CompletedProcess:
    venv, bin_dir = light
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VP3D_", "PYTHON"))}
    return subprocess.run([bin_dir / args[0], *map(str, args[1:])], capture_output=True, text=True, timeout=600,
                          cwd=cwd, env=env)


def test_the_light_install_has_no_torch(light):
    proc = run(light, "python", "-c", "import torch")
    assert proc.returncode != 0 and "No module named 'torch'" in proc.stderr


def test_the_wheel_installs_the_shipped_weights_where_vp3d_finds_them(light, tmp_path):
    venv, _ = light
    proc = run(light, "python", "-c", "from vp3d.lifter.weights import default_checkpoint as d; print(d())",
               cwd=tmp_path)  # not from a source tree
    path = Path(proc.stdout.strip())
    assert path == venv / "share" / "vp3d" / "weights" / LifterWeights.DEFAULT.value.file
    assert path.read_bytes() == LifterWeights.DEFAULT.value.path.read_bytes()
    assert path.with_suffix(".npz").is_file() and (path.parent / "MODEL_CARD.md").is_file()


def test_vp3d_infer_turns_a_video_into_3d_without_torch(light, clip, tmp_path):
    out = tmp_path / "out"
    proc = run(light, "vp3d-infer", clip, "--out", out / "r.mp4", "--json", out / "r.json", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads((out / "r.json").read_text())
    poses = np.array([f["joints3d"] for f in result["frames"] if f["joints3d"]])
    assert len(poses) > 0.9 * len(result["frames"]) and np.isfinite(poses).all()
    assert (out / "r.mp4").stat().st_size > 0


@pytest.mark.parametrize("args, extra", [
    (["vp3d", "train", "--help"], "vp3d[torch]"),
    (["vp3d", "evaluate"], "vp3d[torch]"),
    (["vp3d-infer", "{clip}", "--device", "cuda", "--no-render", "--json", "{out}"], "vp3d[torch]"),
    (["vp3d-infer", "{clip}", "--detector", "keypoint-rcnn", "--no-render", "--json", "{out}"], "vp3d[gpu-detectors]"),
    (["vp3d-infer", "{clip}", "--checkpoint", "{bin}", "--no-render", "--json", "{out}"], "vp3d[torch]"),
])
def test_a_command_that_needs_an_extra_says_which_pip_install_in_one_line(light, clip, tmp_path, args, extra):
    official = tmp_path / "mine.bin"  # a .bin without its light form needs torch
    shutil.copy(LifterWeights.DEFAULT.value.path, official)
    out = tmp_path / "r.json"
    args = [a.format(clip=clip, out=out, bin=official) for a in args]
    proc = run(light, *args, cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith("vp3d: error: ") and "Traceback" not in proc.stderr
    assert f"pip install '{extra}'" in proc.stderr
    assert not out.exists()


def test_root_motion_and_bvh_need_no_torch_either(light, clip, tmp_path):
    """--root-motion (scipy, the world frame) and the BVH writer are part of the light install."""
    out = tmp_path / "out"
    proc = run(light, "vp3d-infer", clip, "--no-render", "--json", out / "r.json", "--bvh", out / "r.bvh",
               "--root-motion", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    frames = json.loads((out / "r.json").read_text())["frames"]
    assert all(f["root_camera"] is not None for f in frames if f["joints3d"])
    assert (out / "r.bvh").stat().st_size > 0
