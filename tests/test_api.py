"""The public API at the package top (`import vp3d`), as the README shows it, and the weights registry."""

import re
import subprocess
import sys
from pathlib import Path

from conftest import ffmpeg, require_shared
from vp3d.lifter.weights import LifterWeights

ROOT = Path(__file__).resolve().parents[1]


def readme_example() -> str:
    """The first Python block of README.md's "Python API" section."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("### Python API"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_import_vp3d_is_light_and_names_the_api():
    """`import vp3d` loads neither torch nor a detector; the API names resolve on first use."""
    code = ("import sys, vp3d; assert 'torch' not in sys.modules and 'mediapipe' not in sys.modules; "
            "print(sorted(n for n in vp3d.__all__ if callable(getattr(vp3d, n))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['Lifter', 'LifterWeights', 'UserError', 'lift_video', 'make_detector']"


def test_readme_example_runs_on_a_clip(tmp_path):
    """The README's example, run as written in a folder holding clip.mp4 (2 s of the tai chi video)."""
    ffmpeg("-ss", 5, "-i", require_shared("videos", "taiji.mp4"), "-t", 2, "-c:v", "libx264", "-preset",
           "ultrafast", tmp_path / "clip.mp4")
    proc = subprocess.run([sys.executable, "-c", readme_example()], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    shape, p1 = proc.stdout.split("\n")[-2].rsplit(" ", 1)
    assert shape.startswith("(") and shape.endswith(", 17, 3)")
    assert float(p1) == LifterWeights.DEFAULT.value.metrics["P1 (mm), noisy 2D"]  # the shipped weights' card
