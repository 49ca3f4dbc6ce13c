"""Start a wider temporal model from a trained narrower one, computing the same function (Net2WiderNet,
Chen et al., ICLR 2016).

Each of the C channels is repeated k times (C -> kC): a convolution writing channels repeats its output
filters, a convolution reading them divides its input weights by k, so the sum it forms is unchanged; the
BatchNorm layers repeat their parameters and statistics, and the residual sums stay channel-for-channel. In
eval mode the wide model's output equals the narrow one's (tests/test_train.py). Training breaks the
symmetry between the copies through dropout (independent masks) and a small weight jitter.
"""

from __future__ import annotations

import torch

JITTER = 1e-3  # relative noise on the widened weights, so copies start apart


def _repeat(t: torch.Tensor, dim: int, k: int) -> torch.Tensor:
    return torch.cat([t] * k, dim=dim)


def widen_state_dict(narrow: dict[str, torch.Tensor], wide: dict[str, torch.Tensor],
                     generator: torch.Generator | None = None, jitter: float = JITTER) -> dict[str, torch.Tensor]:
    """The state dict of `wide` (a TemporalModel's, k times the channels of `narrow`) computing what `narrow`
    computes (up to `jitter`, relative to each weight tensor's spread). Keys and the non-channel dimensions
    must agree; raises ValueError otherwise."""
    if narrow.keys() != wide.keys():
        raise ValueError("the two models have different layers")
    out = {}
    for key, small in narrow.items():
        big = wide[key]
        if small.shape == big.shape:
            out[key] = small.clone()
            continue
        t = small
        if small.dim() >= 1 and big.shape[0] != small.shape[0]:  # writes channels (conv out, BatchNorm)
            t = _repeat(t, 0, big.shape[0] // small.shape[0])
        if small.dim() >= 2 and big.shape[1] != small.shape[1]:  # reads channels: split the sum k ways
            k = big.shape[1] // small.shape[1]
            t = _repeat(t, 1, k) / k
        if t.shape != big.shape:
            raise ValueError(f"{key}: cannot widen {tuple(small.shape)} to {tuple(big.shape)}")
        if jitter and t.is_floating_point() and t.dim() >= 2:
            t = t + jitter * t.std() * torch.randn(t.shape, generator=generator, dtype=t.dtype)
        out[key] = t
    return out
