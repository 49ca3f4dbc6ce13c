"""Which torch device to run on: "auto" and checked names. Importable without torch for "cpu"."""

from __future__ import annotations

from ..errors import INSTALL_TORCH, UserError, torch_is_installed


class DeviceError(UserError, ValueError):
    """A device name torch does not know, or a GPU this machine does not have (one line)."""


def resolve_device(device: str) -> str:
    """ "auto" -> "cuda" when torch sees a GPU, else "cpu"; any other name is checked, so that a wrong one
    is a DeviceError before any work rather than torch's traceback in the middle of it."""
    if device == "cpu":
        return device
    if not torch_is_installed():  # a light install: the numpy engine runs on the CPU only
        if device == "auto":
            return "cpu"
        raise DeviceError(f"device {device!r} needs torch, which is not installed here: {INSTALL_TORCH}")
    import torch
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        kind = torch.device(device)
    except (RuntimeError, ValueError):
        raise DeviceError(f"device {device!r}: not a device torch knows (cpu, cuda, cuda:1, mps ...)") from None
    if kind.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise DeviceError(f"device {device!r}: torch {torch.__version__} sees no CUDA GPU here; use cpu")
        if kind.index is not None and kind.index >= count:
            raise DeviceError(f"device {device!r}: torch sees {count} CUDA GPU(s) here (cuda:0 to cuda:{count - 1})")
    elif kind.type == "mps" and not torch.backends.mps.is_available():
        raise DeviceError(f"device {device!r}: Apple's MPS is not available here; use cpu")
    return device


def bfloat16_is_native(device: str) -> bool:
    """Whether torch computes bfloat16 on this device at least at float32's pace. CPUs without oneDNN's bfloat16
    kernels (no AVX-512 BF16 / AMX, e.g. AVX2-only AMD EPYC) emulate it: a 1024-channel training step ran 18x
    slower than in float32 on such a machine (bench/README.md)."""
    import torch
    kind = torch.device(device).type
    if kind == "cuda":
        return torch.cuda.is_bf16_supported()
    if kind == "cpu":
        try:
            return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):  # a torch without oneDNN's query: assume emulation
            return False
    return True
