"""Start a deeper temporal model from a trained shallower one, computing nearly the same function
(Net2DeeperNet, Chen et al., ICLR 2016, in its residual form).

The deeper model has the same filter widths followed by extra width-1 filters: residual blocks that mix
channels frame by frame (more capacity per frame, the same receptive field). Their weights start fresh,
except the last BatchNorm of each new block, whose scale starts at `GATE` and shift at 0: the block adds
`relu(GATE * y)`, almost nothing, so the deeper model starts where the trained one is, and the block's
output grows as training finds it useful. A scale of exactly 0 would leave it dead: ReLU has no gradient
at 0. New BatchNorm statistics are the identity (mean 0, variance 1), which `--frozen-batchnorm` keeps.
"""

from __future__ import annotations

import torch

GATE = 1e-3


def is_deepening(theirs: tuple[int, ...], ours: tuple[int, ...]) -> bool:
    """True when `ours` is `theirs` followed by one or more width-1 filters."""
    return len(ours) > len(theirs) and ours[:len(theirs)] == theirs and all(w == 1 for w in ours[len(theirs):])


def deepen_state_dict(shallow: dict[str, torch.Tensor], deep: dict[str, torch.Tensor],
                      gate: float = GATE) -> dict[str, torch.Tensor]:
    """The state dict of `deep` (a TemporalModel's with extra width-1 blocks after those of `shallow`'s model)
    starting as `shallow`: every shared key copied, the new blocks as `deep` has them (fresh) with their last
    BatchNorm gated. Raises ValueError when a shared key's shape differs or `shallow` has keys `deep` lacks."""
    missing = shallow.keys() - deep.keys()
    if missing:
        raise ValueError(f"the deeper model lacks layers of the shallower one: {', '.join(sorted(missing))}")
    out = {key: t.clone() for key, t in deep.items()}
    for key, t in shallow.items():
        if t.shape != deep[key].shape:
            raise ValueError(f"{key}: {tuple(t.shape)} in the shallower model, {tuple(deep[key].shape)} in the deeper")
        out[key] = t.clone()
    new_bns = sorted({int(k.split(".")[1]) for k in deep.keys() - shallow.keys() if k.startswith("layers_bn.")})
    for i in new_bns[1::2]:  # each block is (filter, BatchNorm, ReLU) twice: gate the second
        out[f"layers_bn.{i}.weight"] = torch.full_like(out[f"layers_bn.{i}.weight"], gate)
        out[f"layers_bn.{i}.bias"] = torch.zeros_like(out[f"layers_bn.{i}.bias"])
    return out
