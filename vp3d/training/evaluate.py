"""Evaluation runner: Protocols 1-3 and MPJVE per action, averaged like the reference release.

The reference evaluates each action group (Human3.6M action name up to the first space, so
"Walking 1" and "Walking" form one group "Walking", across test subjects and all cameras) as the
frame-weighted mean of its per-sequence errors, then reports the unweighted mean over groups.
MPJVE is weighted the same way (by the sequence's frame count T, although it has T - 1
differences) to stay number-for-number comparable.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

import numpy as np

from .metrics import mpjpe, mpjve, n_mpjpe, p_mpjpe
from .sequence import Sequence

MM_PER_M = 1000.0

Predictor = Callable[[np.ndarray], np.ndarray]
"""kp2d_norm float32 (T, J, 2) -> root-relative camera-frame poses (T, 17, 3) in metres."""


@dataclass
class GroupResult:
    """Errors of one group (or one sequence): p1, p2, p3 in mm, mpjve in mm per frame."""

    name: str
    p1: float
    p2: float
    p3: float
    mpjve: float
    n_frames: int
    n_sequences: int


@dataclass
class EvalResult:
    groups: list[GroupResult]
    average: GroupResult  # unweighted mean over groups; n_frames / n_sequences are totals
    sequences: list[GroupResult]  # one entry per evaluated sequence
    group_by: str

    def to_dict(self) -> dict:
        """JSON-ready dict; units: mm (p1, p2, p3) and mm/frame (mpjve)."""
        return {
            "group_by": self.group_by,
            "units": {"p1": "mm", "p2": "mm", "p3": "mm", "mpjve": "mm/frame"},
            "groups": [_clean(asdict(g)) for g in self.groups],
            "average": _clean(asdict(self.average)),
            "sequences": [_clean(asdict(s)) for s in self.sequences],
        }

    def to_table(self, decimals: int = 1, velocity_decimals: int = 2) -> str:
        """Aligned text table: one row per group, then "Average". P1-P3 with ``decimals``, MPJVE with
        ``velocity_decimals`` (the reference prints 1 and 2). A row's frames are summed over its
        sequences, i.e. over cameras too."""
        header = ["Group", "Frames x cameras", "P1 (mm)", "P2 (mm)", "P3 (mm)", "MPJVE (mm/frame)"]
        rows = [_row(g, decimals, velocity_decimals) for g in self.groups + [self.average]]
        widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]

        def fmt(r: list[str]) -> str:
            return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))

        rule = "-" * len(fmt(header))
        lines = [fmt(header), rule] + [fmt(r) for r in rows[:-1]] + [rule, fmt(rows[-1])]
        return "\n".join(lines)


def _row(g: GroupResult, decimals: int, velocity_decimals: int) -> list[str]:
    return ([g.name, str(g.n_frames)] + [_num(v, decimals) for v in (g.p1, g.p2, g.p3)]
            + [_num(g.mpjve, velocity_decimals)])


def _num(v: float, decimals: int) -> str:
    return "n/a" if math.isnan(v) else f"{v:.{decimals}f}"


def _clean(d: dict) -> dict:
    # JSON has no NaN; MPJVE is undefined for groups of one-frame sequences.
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in d.items()}


def group_key(seq: Sequence, group_by: str) -> str:
    """Row a sequence belongs to: its action name before the first space, or the sequence itself."""
    if group_by == "action":
        return seq.action.split(" ")[0]
    if group_by == "sequence":
        return seq.name
    raise ValueError(f"group_by must be 'action' or 'sequence', got {group_by!r}")


def evaluate_sequence(pred: np.ndarray, seq: Sequence) -> GroupResult:
    """Errors of one predicted sequence (T, 17, 3) metres against ``seq.pose3d``; mm."""
    pred = np.asarray(pred)
    if pred.shape != seq.pose3d.shape:
        raise ValueError(f"{seq.name}: predictor returned shape {pred.shape}, "
                         f"expected {seq.pose3d.shape}")
    T = seq.num_frames
    return GroupResult(
        name=seq.name,
        p1=MM_PER_M * mpjpe(pred, seq.pose3d),
        p2=MM_PER_M * p_mpjpe(pred, seq.pose3d),
        p3=MM_PER_M * n_mpjpe(pred, seq.pose3d),
        mpjve=MM_PER_M * mpjve(pred, seq.pose3d) if T >= 2 else math.nan,
        n_frames=T,
        n_sequences=1,
    )


def _pool(name: str, parts: list[GroupResult]) -> GroupResult:
    """Frame-weighted mean of per-sequence errors (the reference's per-action accumulation)."""
    w = np.array([p.n_frames for p in parts], dtype=np.float64)

    def wmean(values: list[float], weights: np.ndarray) -> float:
        values = np.asarray(values, dtype=np.float64)
        ok = ~np.isnan(values) & (weights > 0)
        return float(np.sum(values[ok] * weights[ok]) / np.sum(weights[ok])) if ok.any() else math.nan

    return GroupResult(
        name=name,
        p1=wmean([p.p1 for p in parts], w),
        p2=wmean([p.p2 for p in parts], w),
        p3=wmean([p.p3 for p in parts], w),
        mpjve=wmean([p.mpjve for p in parts], w),
        n_frames=int(w.sum()),
        n_sequences=sum(p.n_sequences for p in parts),
    )


def _average(groups: list[GroupResult]) -> GroupResult:
    """Unweighted mean over groups (each Human3.6M action counts once, as in the paper's tables)."""
    def mean(values: list[float]) -> float:
        values = [v for v in values if not math.isnan(v)]
        return float(np.mean(values)) if values else math.nan

    return GroupResult(
        name="Average",
        p1=mean([g.p1 for g in groups]),
        p2=mean([g.p2 for g in groups]),
        p3=mean([g.p3 for g in groups]),
        mpjve=mean([g.mpjve for g in groups]),
        n_frames=sum(g.n_frames for g in groups),
        n_sequences=sum(g.n_sequences for g in groups),
    )


def evaluate(predict: Predictor, sequences: Iterable[Sequence], group_by: str = "action",
             progress: Callable[[int], None] | None = None) -> EvalResult:
    """Run ``predict`` on every sequence and report P1, P2, P3 (mm) and MPJVE (mm/frame).

    predict: kp2d_norm (T, J, 2) -> (T, 17, 3) root-relative camera-frame metres (the predicted
    root is scored as predicted, like the reference). group_by: "action" (reference grouping) or
    "sequence" (one row per subject/action/camera). Groups keep first-seen order. progress: called
    after each sequence with the frames evaluated so far (summed over sequences).
    """
    per_seq: list[GroupResult] = []
    members: dict[str, list[GroupResult]] = {}
    frames_done = 0
    for seq in sequences:
        key = group_key(seq, group_by)
        result = evaluate_sequence(predict(seq.kp2d_norm), seq)
        per_seq.append(result)
        members.setdefault(key, []).append(result)
        frames_done += seq.num_frames
        if progress is not None:
            progress(frames_done)
    if not per_seq:
        raise ValueError("no sequences to evaluate")
    groups = [_pool(name, parts) for name, parts in members.items()]
    return EvalResult(groups=groups, average=_average(groups), sequences=per_seq, group_by=group_by)
