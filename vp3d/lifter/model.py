"""Dilated temporal convolutional model of Pavllo et al., CVPR 2019 (Section 3, Figure 2).

A sequence of 2D poses (B, T, J_in, 2) becomes a sequence of 3D poses (B, T - RF + 1, J_out, 3):

    expand:  Conv1d(J_in*2 -> C, width fw[0])  -> BN -> ReLU -> Dropout
    block i: Conv1d(C -> C, width fw[i], dilation fw[0]*...*fw[i-1]) -> BN -> ReLU -> Dropout
             Conv1d(C -> C, width 1)                                  -> BN -> ReLU -> Dropout
             + residual (the block input, sliced to the valid output frames)
    shrink:  Conv1d(C -> J_out*3, width 1)

The receptive field is the product of the filter widths (3,3,3,3,3 -> 243 frames). Parameter
names match the reference release so its checkpoints load unchanged.

`TemporalModelStrided` is the reference's single-frame training variant: the same parameters, but
strided instead of dilated convolutions, so an input of exactly RF frames costs one output frame.
Training with it draws uncorrelated frames into each batch; its state_dict loads into
`TemporalModel` for inference.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class _TemporalBase(nn.Module):
    def __init__(self, num_joints_in: int, in_features: int, num_joints_out: int,
                 filter_widths: tuple[int, ...], causal: bool, dropout: float, channels: int):
        super().__init__()
        for fw in filter_widths:
            if fw % 2 == 0:
                raise ValueError(f"filter widths must be odd, got {filter_widths}")
        self.num_joints_in = num_joints_in
        self.in_features = in_features
        self.num_joints_out = num_joints_out
        self.filter_widths = tuple(filter_widths)
        self.causal = causal
        self.channels = channels

        self.drop = nn.Dropout(dropout)
        self.relu = nn.ReLU(inplace=True)
        self.expand_bn = nn.BatchNorm1d(channels, momentum=0.1)
        self.shrink = nn.Conv1d(channels, num_joints_out * 3, 1)

    @property
    def receptive_field(self) -> int:
        return math.prod(self.filter_widths)

    def set_bn_momentum(self, momentum: float) -> None:
        self.expand_bn.momentum = momentum
        for bn in self.layers_bn:
            bn.momentum = momentum

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, T, J_in, F) -> (B, T - RF + 1, J_out, 3)."""
        if x.dim() != 4 or x.shape[-2] != self.num_joints_in or x.shape[-1] != self.in_features:
            raise ValueError(f"expected input (B, T, {self.num_joints_in}, {self.in_features}), "
                             f"got {tuple(x.shape)}")
        batch = x.shape[0]
        x = x.reshape(batch, x.shape[1], -1).permute(0, 2, 1)
        x = self._forward_blocks(x)
        return x.permute(0, 2, 1).reshape(batch, -1, self.num_joints_out, 3)


class TemporalModel(_TemporalBase):
    """Dilated model for inference (and chunked training) over whole sequences."""

    def __init__(self, num_joints_in: int = 17, in_features: int = 2, num_joints_out: int = 17,
                 filter_widths: tuple[int, ...] = (3, 3, 3, 3, 3), causal: bool = False,
                 dropout: float = 0.25, channels: int = 1024):
        super().__init__(num_joints_in, in_features, num_joints_out, filter_widths, causal, dropout, channels)
        self.expand_conv = nn.Conv1d(num_joints_in * in_features, channels, filter_widths[0], bias=False)

        layers_conv, layers_bn = [], []
        self.pad = [filter_widths[0] // 2]
        self.causal_shift = [filter_widths[0] // 2 if causal else 0]
        dilation = filter_widths[0]
        for fw in filter_widths[1:]:
            self.pad.append((fw - 1) * dilation // 2)
            self.causal_shift.append((fw // 2) * dilation if causal else 0)
            layers_conv.append(nn.Conv1d(channels, channels, fw, dilation=dilation, bias=False))
            layers_bn.append(nn.BatchNorm1d(channels, momentum=0.1))
            layers_conv.append(nn.Conv1d(channels, channels, 1, dilation=1, bias=False))
            layers_bn.append(nn.BatchNorm1d(channels, momentum=0.1))
            dilation *= fw
        self.layers_conv = nn.ModuleList(layers_conv)
        self.layers_bn = nn.ModuleList(layers_bn)

    def _forward_blocks(self, x: torch.Tensor) -> torch.Tensor:
        x = self.drop(self.relu(self.expand_bn(self.expand_conv(x))))
        for i in range(len(self.pad) - 1):
            pad, shift = self.pad[i + 1], self.causal_shift[i + 1]
            # A valid convolution shortens the sequence by 2*pad; the residual keeps the frames the
            # convolution output is aligned with (shifted right in causal mode: only past frames).
            res = x[:, :, pad + shift: x.shape[2] - pad + shift]
            x = self.drop(self.relu(self.layers_bn[2 * i](self.layers_conv[2 * i](x))))
            x = res + self.drop(self.relu(self.layers_bn[2 * i + 1](self.layers_conv[2 * i + 1](x))))
        return self.shrink(x)


class TemporalModelStrided(_TemporalBase):
    """Single-frame training variant: strided convolutions, RF input frames -> 1 output frame."""

    def __init__(self, num_joints_in: int = 17, in_features: int = 2, num_joints_out: int = 17,
                 filter_widths: tuple[int, ...] = (3, 3, 3, 3, 3), causal: bool = False,
                 dropout: float = 0.25, channels: int = 1024):
        super().__init__(num_joints_in, in_features, num_joints_out, filter_widths, causal, dropout, channels)
        self.expand_conv = nn.Conv1d(num_joints_in * in_features, channels, filter_widths[0],
                                     stride=filter_widths[0], bias=False)
        layers_conv, layers_bn = [], []
        for fw in filter_widths[1:]:
            layers_conv.append(nn.Conv1d(channels, channels, fw, stride=fw, bias=False))
            layers_bn.append(nn.BatchNorm1d(channels, momentum=0.1))
            layers_conv.append(nn.Conv1d(channels, channels, 1, dilation=1, bias=False))
            layers_bn.append(nn.BatchNorm1d(channels, momentum=0.1))
        self.layers_conv = nn.ModuleList(layers_conv)
        self.layers_bn = nn.ModuleList(layers_bn)

    def _forward_blocks(self, x: torch.Tensor) -> torch.Tensor:
        x = self.drop(self.relu(self.expand_bn(self.expand_conv(x))))
        for i in range(len(self.filter_widths) - 1):
            fw = self.filter_widths[i + 1]
            # After a stride-fw convolution, output k summarises inputs [k*fw, k*fw + fw); the
            # residual takes the centre one (the last one in causal mode).
            offset = fw - 1 if self.causal else fw // 2
            res = x[:, :, offset::fw]
            x = self.drop(self.relu(self.layers_bn[2 * i](self.layers_conv[2 * i](x))))
            x = res + self.drop(self.relu(self.layers_bn[2 * i + 1](self.layers_conv[2 * i + 1](x))))
        return self.shrink(x)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
