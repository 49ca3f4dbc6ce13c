"""Start a temporal model with a shorter receptive field from a trained longer one: its first blocks kept.

The dilated model's blocks see 3, 9, 27, 81, 243 frames in turn; a model with filter widths 3,3,3,3 is the
243-frame model without its last (dilation 81) block, every kept layer computing what it computed before (and
with frozen BatchNorm statistics normalized as before). Only the last projection now reads features that skipped
the dropped block's residual, so the short model starts near, not at, a good function and needs a fine-tune.
Why a shorter field at all: a lifter that reads less context may lean less on the training motions' long
patterns, which unseen motions do not follow (weights/MODEL_CARD.md, session 24).
"""

from __future__ import annotations

import torch


def is_shortening(theirs: tuple[int, ...], ours: tuple[int, ...]) -> bool:
    """True when `ours` is a proper, non-empty prefix of `theirs`."""
    return 0 < len(ours) < len(theirs) and theirs[:len(ours)] == ours


def shorten_state_dict(long: dict[str, torch.Tensor], short: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The state dict of `short` (a TemporalModel whose blocks are the first of `long`'s model) taken from `long`:
    every key of `short` copied. Raises ValueError when `long` lacks a key or a shape differs."""
    out = {}
    for key, t in short.items():
        if key not in long:
            raise ValueError(f"the longer model lacks {key}")
        if long[key].shape != t.shape:
            raise ValueError(f"{key}: {tuple(long[key].shape)} in the longer model, {tuple(t.shape)} in the shorter")
        out[key] = long[key].clone()
    return out
