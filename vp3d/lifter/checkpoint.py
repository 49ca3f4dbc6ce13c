"""Load and save lifter checkpoints.

Two kinds load here:
- the official VideoPose3D `.bin` files, unchanged: a dict with 'model_pos' (and maybe 'model_traj',
  'epoch', 'lr', 'optimizer', ...). They carry no metadata, so the architecture is read off the
  weight shapes and the input layout and causality come from the registry entry their whole file name
  names (weights.LifterWeights, which also checks that the file fits that entry) or from arguments;
- vp3d's own checkpoints: the same keys plus 'vp3d_meta' (architecture, input layout, frame rate,
  training data, metrics). Shipped weights may be float16; they are cast to float32 on load.

Checkpoints are pickles and pickles can run code, so loading uses `weights_only=True`. A file that
needs full unpickling (e.g. a training checkpoint holding a numpy RandomState) is refused unless the
caller passes `trust=True`.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import torch

from .errors import CheckpointError  # noqa: F401  (raised here; defined where torch is not needed)
from .meta import LifterMeta
from .model import TemporalModel
from .weights import Architecture, LifterWeights, check_name_claim

OFFICIAL_FPS = 50.0  # Human3.6M, on which every official checkpoint was trained


@dataclass
class LoadedCheckpoint:
    meta: LifterMeta
    model_pos: TemporalModel
    model_traj: TemporalModel | None
    raw: dict  # everything else that was in the file (epoch, optimizer state, ...)


def _torch_load(path: Path, trust: bool) -> dict:
    if not path.exists():
        raise CheckpointError(
            f"{path}: lifter weights not found. The default weights ship in the repository's weights/ "
            f"folder; official VideoPose3D checkpoints can be downloaded from "
            f"https://dl.fbaipublicfiles.com/video-pose-3d/<name>.bin and passed with --checkpoint.")
    try:
        data = torch.load(path, map_location="cpu", weights_only=not trust)
    except pickle.UnpicklingError as e:
        raise CheckpointError(
            f"{path}: refusing to unpickle: the file holds more than weights ({str(e).splitlines()[0][:120]}). "
            f"Loading it would run code from the file; pass --trust-checkpoint only if you trust its source.") from None
    except (RuntimeError, EOFError, OSError, ValueError) as e:
        raise CheckpointError(f"{path}: not a readable torch checkpoint ({str(e).splitlines()[0][:160]})") from None
    if not isinstance(data, dict) or "model_pos" not in data:
        raise CheckpointError(f"{path}: not a VideoPose3D-style checkpoint (no 'model_pos' entry)")
    return data


def meta_from_state_dict(state: dict, name: str, causal: bool | None, input_layout: str | None,
                         fps: float | None) -> LifterMeta:
    """Architecture of an official checkpoint, read off its weight shapes."""
    expand = state["expand_conv.weight"]  # (C, J_in*F, fw0)
    widths = [expand.shape[2]]
    i = 0
    while f"layers_conv.{2 * i}.weight" in state:
        widths.append(state[f"layers_conv.{2 * i}.weight"].shape[2])
        i += 1
    in_channels = expand.shape[1]
    in_features = 2
    if in_channels % in_features:
        raise CheckpointError(f"{name}: expand_conv has {in_channels} input channels, not a multiple of 2")
    known = LifterWeights.identify(name)
    if input_layout is None:
        if known is None:
            raise CheckpointError(
                f"{name}: cannot tell the checkpoint's 2D input layout from its name; "
                f"pass --input-layout h36m or --input-layout coco")
        input_layout = known.value.input_layout
    if causal is None:
        causal = known is not None and known.value.causal
    return LifterMeta(filter_widths=tuple(widths), channels=expand.shape[0], causal=causal,
                      num_joints_in=in_channels // in_features, in_features=in_features,
                      num_joints_out=state["shrink.weight"].shape[0] // 3, input_layout=input_layout,
                      fps=OFFICIAL_FPS if fps is None else fps, name=name)


def _check_name_claim(path: Path, meta: LifterMeta, stated: dict | None) -> None:
    """A file named like known weights must be usable as them (weights.check_name_claim): its architecture as read
    off the file, its input layout and causality as its own metadata states them (before any override)."""
    found = Architecture(tuple(meta.filter_widths), meta.channels, meta.num_joints_in, meta.num_joints_out)
    check_name_claim(path, found, stated is not None, *((stated.get("input_layout"), stated.get("causal"))
                                                        if stated is not None else (None, None)))


def _float32(state: dict) -> dict:
    return {k: (v.float() if v.is_floating_point() else v) for k, v in state.items()}


def load_checkpoint(path: str | os.PathLike, *, causal: bool | None = None, input_layout: str | None = None,
                    fps: float | None = None, trust: bool = False) -> LoadedCheckpoint:
    """Load an official or a vp3d checkpoint; models come back in eval mode, float32, on the CPU.

    causal / input_layout / fps override what the file says (needed only for official files whose
    name does not tell).
    """
    path = Path(path)
    data = _torch_load(path, trust)
    if "vp3d_meta" in data:
        meta = LifterMeta.from_dict(data["vp3d_meta"]).overridden(causal, input_layout, fps)
    else:
        meta = meta_from_state_dict(data["model_pos"], path.name, causal, input_layout, fps)

    _check_name_claim(path, meta, data.get("vp3d_meta"))
    model_pos = meta.build_model()
    try:
        model_pos.load_state_dict(_float32(data["model_pos"]))
    except RuntimeError as e:
        raise CheckpointError(f"{path}: weights do not fit the model they describe: {str(e).splitlines()[0]}") from None
    model_traj = None
    if data.get("model_traj"):
        model_traj = meta.build_model(num_joints_out=1)
        model_traj.load_state_dict(_float32(data["model_traj"]))
        model_traj.eval()
        meta.has_trajectory = True
    raw = {k: v for k, v in data.items() if k not in ("model_pos", "model_traj", "vp3d_meta")}
    return LoadedCheckpoint(meta, model_pos.eval(), model_traj, raw)


def save_checkpoint(path: str | os.PathLike, meta: LifterMeta, model_pos: torch.nn.Module,
                    model_traj: torch.nn.Module | None = None, *, epoch: int = 0, lr: float = 0.0,
                    optimizer: dict | None = None, half: bool = False, extra: dict | None = None) -> None:
    """Write the official layout plus 'vp3d_meta'; atomically (temporary name, then rename).

    `half=True` stores float16 weights (shipped weights); training checkpoints keep float32.
    """
    def state(m):
        sd = {k: v.detach().cpu() for k, v in m.state_dict().items()}
        return {k: (v.half() if half and v.is_floating_point() else v) for k, v in sd.items()}

    data = {"epoch": epoch, "lr": lr, "optimizer": optimizer, "model_pos": state(model_pos),
            "model_traj": state(model_traj) if model_traj is not None else None,
            "random_state": None, "random_state_semi": None, "vp3d_meta": meta.to_dict()}
    if extra:
        data.update(extra)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(data, tmp)
    os.replace(tmp, path)


def export_for_inference(src: str | os.PathLike, dst: str | os.PathLike, training_update: dict | None = None,
                         output_smoothing: float | None = None,
                         image_plane: tuple[float, float] | None = None,
                         bone_rays: tuple[float, float, int] | tuple[float, float, int, float] | None = None) -> None:
    """Ship a training checkpoint: float16 weights and metadata only (no optimizer state or history).
    output_smoothing: the smoothing of the output over time the shipped file declares (LifterMeta), when given;
    image_plane: (weight, smoothing) of the joints' move toward their 2D it declares (image_plane.py), when given;
    bone_rays: (weight, smoothing, window[, softness]) of their move toward usual bone lengths on their rays
    (bone_rays.py)."""
    ckpt = load_checkpoint(src)
    if training_update:
        ckpt.meta.training.update(training_update)
    if output_smoothing is not None:
        ckpt.meta.output_smoothing = float(output_smoothing)
    if image_plane is not None:
        ckpt.meta.image_plane_weight, ckpt.meta.image_plane_smoothing = map(float, image_plane)
    if bone_rays is not None:
        weight, smoothing, window, *softness = bone_rays
        ckpt.meta.bone_rays_weight, ckpt.meta.bone_rays_smoothing = float(weight), float(smoothing)
        ckpt.meta.bone_rays_window = int(window)
        ckpt.meta.bone_rays_softness = float(softness[0]) if softness else 0.0
    save_checkpoint(dst, ckpt.meta, ckpt.model_pos, ckpt.model_traj, epoch=ckpt.raw.get("epoch", 0), half=True)
