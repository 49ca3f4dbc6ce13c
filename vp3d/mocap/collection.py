"""Load the whole shared CMU collection (three rigs) with an optional npz cache."""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np

from ..errors import UserError
from .asf_amc import load_asf_amc
from .bvh import load_bvh
from .mapping import HERE
from .motion import Motion

CACHE_VERSION = 1        # the key also hashes this package's code and mappings
CMU_FPS = 120.0          # every CMU take; 16_01/16_02 headers claim 30 fps (wrong, see README.md)
# Files left out of the collection, with why (README.md has the evidence).
EXCLUDED = {
    "cmu_daz_bvh/07/07_12.bvh": "broken Daz retarget: body ~0.9 m below the floor, legs 30-55 cm off the CMU take",
    "cmu_daz_bvh/09/09_10.bvh": "broken Daz retarget: straight-legged run, feet 0.6 m below the floor",
}


def collection_files(root: str | Path) -> list[tuple[str, Path, Path | None]]:
    """(kind, path, asf) for every motion under root: cmu_bvh, cmu_daz_bvh, cmu_amc/amc/<group> (+ its ASF).

    Files in EXCLUDED are left out."""
    root = Path(root)
    files = [("bvh", p, None) for d in ("cmu_bvh", "cmu_daz_bvh") for p in sorted((root / d).glob("*/*.bvh"))
             if p.relative_to(root).as_posix() not in EXCLUDED]
    for group in sorted((root / "cmu_amc" / "amc").glob("*")):
        asf = root / "cmu_amc" / "asf" / f"{group.name}.asf"
        files += [("amc", p, asf) for p in sorted(group.glob("*.amc"))]
    return files


def _cache_key(root: Path, files, fps: float) -> str:
    h = hashlib.sha1(f"{CACHE_VERSION} {fps}".encode())
    for src in sorted(HERE.glob("*.py")) + sorted(HERE.glob("*.json")):  # changed code or mapping: rebuild
        h.update(src.read_bytes())
    for _, path, asf in files:
        for p in (path, asf) if asf else (path,):
            st = p.stat()
            h.update(f"{p.relative_to(root)} {st.st_size} {st.st_mtime_ns}".encode())
    return h.hexdigest()


def _save(path: Path, key: str, motions: list[Motion]) -> None:
    meta = [{"name": m.name, "subject": m.subject, "rig": m.rig, "fps": m.fps} for m in motions]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")  # write then rename: a killed run leaves no broken cache
    np.savez(tmp, key=key, meta=json.dumps(meta), lengths=np.array([m.num_frames for m in motions]),
             positions=np.concatenate([m.positions for m in motions]) if motions else np.zeros((0, 17, 3)))
    tmp.replace(path)


def _load(path: Path, key: str) -> list[Motion] | None:
    try:
        with np.load(path) as z:
            if str(z["key"]) != key:
                return None
            meta, lengths, positions = json.loads(str(z["meta"])), z["lengths"], z["positions"]
    except (OSError, KeyError, ValueError):
        return None
    chunks = np.split(positions, np.cumsum(lengths)[:-1]) if len(lengths) else []
    return [Motion(m["name"], m["subject"], m["rig"], m["fps"], c) for m, c in zip(meta, chunks)]


class MocapFolderError(UserError, ValueError):
    """A folder of takes that cannot be read (one line naming it)."""


def load_collection(root: str | Path, fps: float = 50.0, cache: str | Path | None = None) -> list[Motion]:
    """Every motion of the three rigs under `root` (= .../shared/data/mocap), at `fps`.

    cache: an .npz path; reused when the files, mappings, fps and CACHE_VERSION match, else rebuilt.
    Files that fail to load are skipped with a warning (so one bad file cannot block training).
    """
    root = Path(root)
    files = collection_files(root)
    if not files:
        raise MocapFolderError(f"{root}: no takes (cmu_bvh/NN/*.bvh, cmu_daz_bvh/NN/*.bvh or cmu_amc/amc/<group>/*.amc)")
    key = _cache_key(root, files, fps) if cache else ""
    if cache and Path(cache).exists():
        motions = _load(Path(cache), key)
        if motions is not None:
            return motions
    motions = []
    for kind, path, asf in files:
        try:
            if kind == "bvh":
                motions.append(load_bvh(path, fps=fps, source_fps=CMU_FPS))
            else:
                motions.append(load_asf_amc(asf, path, fps=fps, source_fps=CMU_FPS))
        except Exception as e:  # noqa: BLE001 - report and go on, see docstring
            warnings.warn(f"skipping {path}: {type(e).__name__}: {e}")
    if cache:
        _save(Path(cache), key, motions)
    return motions


def load_bvh_folder(folder: str | Path, fps: float = 50.0) -> list[Motion]:
    """Every BVH take in `folder` (not recursive), rig detected from its joint names, at `fps`: a validation
    set from another capture system. MocapFolderError if the folder is missing, holds no take, or a take
    cannot be read."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MocapFolderError(f"{folder}: no such folder")
    paths = sorted(folder.glob("*.bvh"))
    if not paths:
        raise MocapFolderError(f"{folder}: no .bvh files in this folder")
    motions = []
    for path in paths:
        try:
            motions.append(load_bvh(path, fps=fps))
        except (OSError, KeyError, ValueError) as e:
            raise MocapFolderError(f"{path}: {e}") from None
    return motions
