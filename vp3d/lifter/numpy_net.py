"""The light engine: TemporalModel's inference forward pass (vp3d.lifter.model) in plain numpy.

    net = NumpyTemporalNet(state, filter_widths=(3, 3, 3, 3, 3), causal=False)
    poses = net(padded)          # (T, J_in, 2) float32 -> (T - RF + 1, J_out, 3) float32

`state` holds the reference's parameter names (expand_conv.weight, layers_bn.3.running_var, ...) as numpy
arrays, float16 or float32. In eval mode every BatchNorm is an affine map per channel: a scale and a shift
per output channel after the convolution. Dropout is the identity at inference. What is left per layer is a
matrix product:

- activations are time-major, (T, C) row-major, so one frame's channels are contiguous;
- a width-k convolution with dilation d reads frames t, t+d, ..., t+(k-1)d: a strided view (T', k, C) of the
  activations (no copy), flattened to (T', k*C) and multiplied by the weights laid out as (k*C, C_out).

The weights stay in the dtype they were stored in (float16 for shipped files) and a layer's are widened to
float32 only for its product: the 1024-channel network holds 34 MB instead of 68 (a 10-minute video's memory
target, bench/README.md), for a conversion per layer and pass. The live stream, which reads every weight for a
frame or two at a time, uses `FoldedConv.matrix`: float32 with the BatchNorm folded in, made on first use.
"""

from __future__ import annotations

from functools import cached_property
from typing import Mapping

import numpy as np
from numpy.lib.stride_tricks import as_strided

BATCHNORM_EPS = 1e-5  # torch.nn.BatchNorm1d's default, which the reference's models use


class FoldedConv:
    """Conv1d (no bias) followed by an eval-mode BatchNorm1d, as one affine map on time-major activations."""

    def __init__(self, weight: np.ndarray, bn: Mapping[str, np.ndarray] | None, dilation: int = 1,
                 bias: np.ndarray | None = None):
        """weight: (C_out, C_in, k) as torch stores it, float16 or float32 (kept so); bn: the BatchNorm's
        weight, bias, running_mean and running_var (C_out,), or None (then `bias`, (C_out,) or None, is the
        convolution's own)."""
        weight = np.asarray(weight)
        if weight.dtype not in (np.float16, np.float32):
            weight = weight.astype(np.float32)
        c_out, c_in, self.width = weight.shape
        self.dilation = dilation
        # (C_out, C_in, k) -> (k, C_in, C_out) -> (k*C_in, C_out): row j*C_in + c multiplies frame t + j*d,
        # channel c, the order of the strided view's flattening.
        self.weights = np.ascontiguousarray(weight.transpose(2, 1, 0).reshape(self.width * c_in, c_out))
        if bn is None:
            self.scale = None
            self.shift = np.zeros(c_out, np.float32) if bias is None else np.asarray(bias, np.float32)
        else:
            # y = (conv(x) - mean) / sqrt(var + eps) * gamma + beta  ==  conv(x) * scale + shift, computed in
            # float64 so that the fold adds no rounding of its own.
            scale = np.asarray(bn["weight"], np.float64) / np.sqrt(np.asarray(bn["running_var"], np.float64)
                                                                   + BATCHNORM_EPS)
            self.shift = (np.asarray(bn["bias"], np.float64)
                          - np.asarray(bn["running_mean"], np.float64) * scale).astype(np.float32)
            self.scale = scale.astype(np.float32)

    @cached_property
    def matrix(self) -> np.ndarray:
        """(k*C_in, C_out) float32 with the BatchNorm's scale folded in: y = x @ matrix + shift."""
        if self.scale is None:
            return self.weights.astype(np.float32)
        return (self.weights.astype(np.float64) * self.scale).astype(np.float32)

    @property
    def span(self) -> int:
        """Input frames per output frame, minus one: how much shorter the output is than the input."""
        return (self.width - 1) * self.dilation

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """x: (T, C_in) float32, C-contiguous -> (T - span, C_out) float32."""
        frames, channels = x.shape
        out_frames = frames - self.span
        step_t, step_c = x.strides
        windows = as_strided(x, shape=(out_frames, self.width, channels),
                             strides=(step_t, self.dilation * step_t, step_c), writeable=False)
        y = windows.reshape(out_frames, self.width * channels) @ self.weights.astype(np.float32, copy=False)
        if self.scale is not None:
            y *= self.scale
        y += self.shift
        return y


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0, out=x)


class NumpyTemporalNet:
    """A TemporalModel in eval mode, for one sequence at a time; its output equals the torch model's within
    float32 rounding."""

    def __init__(self, state: Mapping[str, np.ndarray], filter_widths: tuple[int, ...], causal: bool):
        def bn(prefix: str) -> dict[str, np.ndarray]:
            return {k: state[f"{prefix}.{k}"] for k in ("weight", "bias", "running_mean", "running_var")}

        self.filter_widths = tuple(filter_widths)
        self.causal = causal
        self.num_joints_in = state["expand_conv.weight"].shape[1] // 2
        self.num_joints_out = state["shrink.weight"].shape[0] // 3
        self.expand = FoldedConv(state["expand_conv.weight"], bn("expand_bn"))
        # Block i: a width-fw convolution dilated by the product of the widths before it, then a width-1 one,
        # plus the residual: the block input at the frames the output is aligned with (model.py's pad/shift).
        self.blocks: list[tuple[FoldedConv, FoldedConv, int]] = []
        dilation = filter_widths[0]
        for i, fw in enumerate(filter_widths[1:]):
            pad = (fw - 1) * dilation // 2
            shift = (fw // 2) * dilation if causal else 0
            self.blocks.append((FoldedConv(state[f"layers_conv.{2 * i}.weight"], bn(f"layers_bn.{2 * i}"), dilation),
                                FoldedConv(state[f"layers_conv.{2 * i + 1}.weight"], bn(f"layers_bn.{2 * i + 1}")),
                                pad + shift))
            dilation *= fw
        self.shrink = FoldedConv(state["shrink.weight"], None, bias=state["shrink.bias"])

    @property
    def receptive_field(self) -> int:
        return int(np.prod(self.filter_widths))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """x: (T, J_in, 2) normalized 2D, T >= RF -> (T - RF + 1, J_out, 3) metres, root-relative."""
        frames = len(x)
        x = _relu(self.expand(np.ascontiguousarray(x, np.float32).reshape(frames, -1)))
        for dilated, pointwise, res_start in self.blocks:
            y = _relu(dilated(x))
            y = _relu(pointwise(y))
            y += x[res_start: res_start + len(y)]
            x = y
        return self.shrink(x).reshape(len(x), self.num_joints_out, 3)
