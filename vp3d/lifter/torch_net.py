"""The torch engine: a TemporalModel on a torch device, called like the numpy engine (numpy in, numpy out).

Used for .bin checkpoints that have no light form (official and user files), for --device cuda, and in
training; importing this module imports torch.
"""

from __future__ import annotations

import numpy as np
import torch


class TorchTemporalNet:
    """model: a TemporalModel (vp3d.lifter.model); it is put in eval mode on `device`."""

    def __init__(self, model: torch.nn.Module, device: str | torch.device = "cpu"):
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()

    @torch.no_grad()
    def __call__(self, x: np.ndarray) -> np.ndarray:
        """x: (T, J_in, 2) float32 normalized 2D, T >= RF -> (T - RF + 1, J_out, 3) float32 on the CPU."""
        batch = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(self.device)[None]
        return self.model(batch)[0].cpu().numpy()

    def numpy_state(self) -> dict[str, np.ndarray]:
        """The weights as numpy arrays under the reference's names (what NumpyTemporalNet takes)."""
        return {k: v.detach().cpu().numpy() for k, v in self.model.state_dict().items()}
