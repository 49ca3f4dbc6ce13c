"""Light weights: a lifter checkpoint as a plain .npz that the numpy engine reads without torch.

    .venv/bin/python -m vp3d.lifter.light_weights weights/vp3d_cmu_h36m17_243f.bin   # -> weights/....npz
    .venv/bin/python -m vp3d.lifter.light_weights pretrained_h36m_cpn.bin cpn.npz [--causal] [--input-layout h36m]

A .bin checkpoint is a torch pickle; reading it needs torch. Its light form is derived from it once, by this
module (with torch), and holds the same things:
- "model_pos.<name>" (and "model_traj.<name>" for a trajectory model): every floating-point tensor of the
  state dict under its reference name, with its stored dtype and bits (float16 for shipped weights);
- "vp3d_meta": the LifterMeta as JSON (official files get theirs from their name and the arguments here);
- "source_sha256": the SHA-256 of the .bin it came from, so a test can tell a stale light file.
The .bin stays the one source of truth: tests/test_light_lifter.py checks that the shipped .npz is its
current light form. Loading uses np.load without pickles, so a light file cannot run code.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import CheckpointError
from .meta import LifterMeta
from .numpy_net import NumpyTemporalNet
from .weights import WEIGHTS_DIR

LIGHT_SUFFIX = ".npz"
NETWORKS = ("model_pos", "model_traj")


@dataclass
class LightCheckpoint:
    """A light file loaded for the numpy engine (the counterpart of checkpoint.LoadedCheckpoint)."""
    meta: LifterMeta
    model_pos: NumpyTemporalNet
    model_traj: NumpyTemporalNet | None
    source_sha256: str


def light_form(path: str | os.PathLike) -> Path | None:
    """The light file that can stand in for checkpoint `path`, or None: `path` itself when it is one, the
    .npz beside a .bin shipped in weights/ (kept equal to it by the tests), and nothing for any other .bin
    (a user's or an official file: convert it with this module and pass the .npz)."""
    path = Path(path)
    if path.suffix == LIGHT_SUFFIX:
        return path
    light = path.with_suffix(LIGHT_SUFFIX)
    shipped = path.resolve().parent == WEIGHTS_DIR.resolve()
    return light if shipped and light.is_file() else None


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_light_arrays(path: str | os.PathLike) -> tuple[LifterMeta, dict[str, dict[str, np.ndarray]], str]:
    """(meta, {network: {parameter name: array as stored}}, source_sha256) of a light file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: light lifter weights not found")
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = LifterMeta.from_dict(json.loads(str(data["vp3d_meta"])))
            source = str(data["source_sha256"])
            states = {net: {k[len(net) + 1:]: data[k] for k in data.files if k.startswith(net + ".")}
                      for net in NETWORKS}
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as e:
        raise CheckpointError(f"{path}: not a light lifter file ({str(e).splitlines()[0][:160]})") from None
    return meta, {net: state for net, state in states.items() if state}, source


def load_light_checkpoint(path: str | os.PathLike, *, causal: bool | None = None, input_layout: str | None = None,
                          fps: float | None = None) -> LightCheckpoint:
    """A light file ready for the numpy engine; causal / input_layout / fps override what it says."""
    meta, states, source = read_light_arrays(path)
    meta = meta.overridden(causal, input_layout, fps)
    try:
        nets = {net: NumpyTemporalNet(state, meta.filter_widths, meta.causal) for net, state in states.items()}
    except (KeyError, ValueError, IndexError) as e:
        raise CheckpointError(f"{path}: weights do not fit the model they describe ({e})") from None
    meta.has_trajectory = "model_traj" in nets
    return LightCheckpoint(meta, nets["model_pos"], nets.get("model_traj"), source)


def write_light(src: str | os.PathLike, dst: str | os.PathLike | None = None, *, causal: bool | None = None,
                input_layout: str | None = None, fps: float | None = None, trust: bool = False) -> Path:
    """Derive the light form of checkpoint `src` (any that checkpoint.load_checkpoint reads; needs torch) and
    write it to `dst` (default: beside it, .npz), atomically. Returns dst."""
    from .checkpoint import load_checkpoint

    src = Path(src)
    dst = Path(dst) if dst is not None else src.with_suffix(LIGHT_SUFFIX)
    loaded = load_checkpoint(src, causal=causal, input_layout=input_layout, fps=fps, trust=trust)
    # The tensors as the file stores them (load_checkpoint's models hold float32 copies of float16 weights).
    import torch
    stored = torch.load(src, map_location="cpu", weights_only=not trust)
    arrays = {"vp3d_meta": np.array(json.dumps(loaded.meta.to_dict())), "source_sha256": np.array(file_sha256(src))}
    for net in NETWORKS:
        for name, tensor in (stored.get(net) or {}).items():
            if tensor.is_floating_point():  # not BatchNorm's num_batches_tracked counters
                arrays[f"{net}.{name}"] = tensor.numpy()
    tmp = dst.with_name(dst.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, dst)
    return dst


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m vp3d.lifter.light_weights",
                                description="Write the light (.npz, numpy engine) form of a lifter checkpoint.")
    p.add_argument("checkpoint", type=Path, help="a vp3d or official VideoPose3D .bin")
    p.add_argument("out", type=Path, nargs="?", help="the .npz to write (default: beside the checkpoint)")
    p.add_argument("--causal", action="store_true", default=None, help="official files whose name does not tell")
    p.add_argument("--input-layout", choices=("h36m", "coco"), help="official files whose name does not tell")
    p.add_argument("--trust-checkpoint", action="store_true", help="unpickle a file that holds more than weights")
    args = p.parse_args(argv)
    out = write_light(args.checkpoint, args.out, causal=args.causal, input_layout=args.input_layout,
                      trust=args.trust_checkpoint)
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
