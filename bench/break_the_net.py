"""Break the pipeline's wiring on purpose and check that a test notices (run by hand, takes minutes):

    .venv/bin/python bench/break_the_net.py [--only SUBSTRING ...] [--keep]

For each breakage below: the working tree (the files git tracks plus the untracked ones it does not ignore,
so uncommitted tests count; never .venv or runs/) is copied into a temporary folder, with ../shared linked
beside it as the tests expect; the breakage is applied to the copy's source as exact text substitutions;
the script checks that, with PYTHONPATH set to the copy, `import vp3d` from another folder imports the
copy (not the repository's editable install); then it runs `python -m pytest -q -x FILES` in the copy with
this repository's venv and reports whether a test failed, and which.

A substitution whose target text is not in the file exactly as often as expected is reported as
TARGET MISSING: the code changed and the breakage must be rewritten; it is never reported as caught.
Exit status: 0 when every breakage was caught, 1 when one was not, 2 when a target was missing or the
copy was not the package imported.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@dataclass
class Breakage:
    name: str
    path: str  # file of the repository to break
    substitutions: list[tuple[str, str]]  # (text found exactly once, replacement)
    tests: list[str]  # test files (or node ids) expected to catch it


BREAKAGES = [
    Breakage("result_from_keypoints lifts with fps=None, flip=False", "vp3d/pipeline/infer.py",
             [("lifted = lift_keypoints(lifter, kp, info.fps, options.flip, times, focal)",
               "lifted = lift_keypoints(lifter, kp, None, False, times, focal)")],
             ["tests/test_stage_boundaries.py"]),
    Breakage("width and height swapped when normalizing the 2D", "vp3d/pipeline/infer.py",
             [("normalize_screen_coordinates(kp.xy.astype(np.float32), kp.width, kp.height)",
               "normalize_screen_coordinates(kp.xy.astype(np.float32), kp.height, kp.width)")],
             ["tests/test_stage_boundaries.py"]),
    Breakage("lifter's chunk loop drops a frame at each chunk boundary", "vp3d/lifter/chunk_memo.py",
             [("self._window(net, padded[start: min(n_out, start + step) + receptive_field - 1])",
               "self._window(net, padded[start: min(n_out, start + step) + receptive_field - 1])[int(start > 0):]")],
             ["tests/test_lifter.py"]),  # one pass intact
    Breakage("render's lifts during detection not paced by their cost", "vp3d/pipeline/overlap.py",
             [("n >= self.next_update and time.monotonic() >= self._not_before", "n >= self.next_update")],
             ["tests/test_overlap.py"]),
    Breakage("lifter reuses a window's outputs for other input of its shape", "vp3d/lifter/chunk_memo.py",
             [("hashlib.blake2b(window.tobytes(), digest_size=16).digest())", "b'')")],
             ["tests/test_lifter.py"]),
    Breakage("live-rendered video out of the all-or-nothing clean-up, still reported", "vp3d/pipeline/job.py",
             [('            written["video"] = str(render.complete(people.figures(), people.num_frames).path)',
               "            video = str(render.complete(people.figures(), people.num_frames).path)"),
              ("    return written\n\n\ndef process_video(",
               '    return {"video": video, **written} if render is not None else written\n\n\n'
               "def process_video(")],
             ["tests/test_stage_boundaries.py"]),
    Breakage("flip augmentation off in training", "vp3d/training/train.py",
             [("flip = rng.random(windows) < 0.5", "flip = rng.random(windows) < 0.0")],
             ["tests/test_train.py"]),
    Breakage("mirroring off in the unlabeled (semi-supervised) sampler", "vp3d/training/unlabeled.py",
             [("if rng.random() < 0.5:  # mirror the image", "if rng.random() < 0.0:  # mirror the image")],
             ["tests/test_semi_supervised.py"]),
    Breakage("live render waits for the end of detection", "vp3d/pipeline/overlap.py",
             [("ready = min(s.start + settled_frames(s.raw.detected, lookahead) for s in spans)", "ready = 0")],
             ["tests/test_overlap.py"]),
]


def tree_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=REPO,
                         check=True, capture_output=True).stdout.decode()
    return sorted({f for f in out.split("\0") if f and (REPO / f).is_file()})


def copy_tree(dest: Path) -> Path:
    """The working tree at dest/repo, ../shared linked beside it; -> dest/repo."""
    repo = dest / "repo"
    for rel in tree_files():
        target = repo / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, target)
    os.symlink(SHARED, dest / "shared")
    return repo


def apply(breakage: Breakage, repo: Path) -> str | None:
    """Apply the substitutions; -> None, or what is missing."""
    path = repo / breakage.path
    text = path.read_text()
    for old, new in breakage.substitutions:
        count = text.count(old)
        if count != 1:
            return f"{breakage.path}: {old!r} found {count} times (expected once)"
        text = text.replace(old, new)
    path.write_text(text)
    return None


def imports_the_copy(repo: Path, env: dict) -> bool:
    """`import vp3d` run from / (not from the copy) with this env loads the copy's package."""
    found = subprocess.run([sys.executable, "-c", "import vp3d; print(vp3d.__file__)"], cwd="/", env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    return Path(found).resolve().is_relative_to(repo.resolve())


def run(breakage: Breakage, keep: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="vp3d-break-") as tmp:
        repo = copy_tree(Path(tmp))
        row = {"breakage": breakage.name, "tests": " ".join(breakage.tests), "caught": "?", "detail": ""}
        missing = apply(breakage, repo)
        if missing:
            return {**row, "caught": "TARGET MISSING", "detail": missing}
        env = {**os.environ, "PYTHONPATH": str(repo)}
        env.pop("VP3D_WEIGHTS", None)  # the copy's weights/ folder
        if not imports_the_copy(repo, env):
            return {**row, "caught": "NOT THE COPY", "detail": "vp3d was not imported from the copy"}
        start = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                               *breakage.tests], cwd=repo, env=env, capture_output=True, text=True)
        seconds = time.monotonic() - start
        failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", proc.stdout, re.M)
        if keep:
            kept = Path(tempfile.mkdtemp(prefix="vp3d-break-kept-"))
            (kept / "pytest.out").write_text(proc.stdout + proc.stderr)
            row["detail"] = f"output kept in {kept}; "
        if proc.returncode == 1 and failed:
            row.update(caught="yes", detail=row["detail"] + f"{failed[0]} ({seconds:.0f} s)")
        elif proc.returncode == 0:
            row.update(caught="NO", detail=row["detail"] + f"every test passed ({seconds:.0f} s)")
        else:  # collection error, usage error, interrupted: not a test that caught it
            tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:]
            row.update(caught="NO", detail=row["detail"] + f"pytest exit {proc.returncode}: {' '.join(tail)}")
        return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=[], help="run the breakages whose name contains one of these")
    parser.add_argument("--keep", action="store_true", help="keep each pytest output in a folder of its own")
    args = parser.parse_args()
    chosen = [b for b in BREAKAGES if not args.only or any(s in b.name for s in args.only)]
    rows = []
    for b in chosen:
        print(f"... {b.name}", file=sys.stderr, flush=True)
        rows.append(run(b, args.keep))
        print(f"    {rows[-1]['caught']}: {rows[-1]['detail']}", file=sys.stderr, flush=True)
    widths = [max(len(r[k]) for r in rows + [{"breakage": "breakage", "tests": "tests run", "caught": "caught"}])
              for k in ("breakage", "tests", "caught")]
    print(f"{'breakage':<{widths[0]}} | {'tests run':<{widths[1]}} | {'caught':<{widths[2]}} | failing test")
    print("-" * (sum(widths) + 25))
    for r in rows:
        print(f"{r['breakage']:<{widths[0]}} | {r['tests']:<{widths[1]}} | {r['caught']:<{widths[2]}} | {r['detail']}")
    if any(r["caught"] in ("TARGET MISSING", "NOT THE COPY") for r in rows):
        print("\nA breakage could not be applied as written (see above): fix this script, not the tests.")
        return 2
    return 0 if all(r["caught"] == "yes" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
