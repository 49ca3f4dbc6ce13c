"""A causal model one frame at a time (live mode): every layer computes only its newest output.

A causal TemporalModel's output at frame t depends on its input at frames t - RF + 1 .. t. Computed from that
window alone, the shipped 256-channel model needs about 12.7 M multiply-adds for one output; computed as the
frames come, each layer's earlier outputs are already known, so a new frame costs one output per layer (a
width-k layer dilated by d reads its input at t - (k-1)d, ..., t - d, t): about 1.1 M multiply-adds. The result
is the dense forward pass's (NumpyTemporalNet.__call__) within float32 rounding.

    stream = CausalStream(net, batch=2)      # net: a causal NumpyTemporalNet
    y0 = stream.start(x0)                    # x0 (B, J_in, 2): history = copies of the first frame
    y = stream.step(x)                       # x (B, J_in, 2), the next frame -> (B, J_out, 3) metres
    ys = stream.steps(xs)                    # xs (n, B, J_in, 2), the next n frames at once

start() is the edge-frame replication the offline lifter pads a clip's start with: every layer's history is
what RF copies of the first frame would leave in it.
"""

from __future__ import annotations

import numpy as np

from ..skeleton import mirror
from .numpy_net import FoldedConv, NumpyTemporalNet


class _History:
    """The last rows (B, C) a layer received, in a ring long enough for `extra` new rows at once."""

    def __init__(self, span: int, extra: int, batch: int, channels: int):
        self.rows = np.zeros((span + extra, batch, channels), np.float32)
        self.newest = len(self.rows) - 1

    def fill(self, row: np.ndarray) -> None:
        self.rows[:] = row
        self.newest = len(self.rows) - 1

    def push(self, rows: np.ndarray) -> None:
        """rows (n, B, C), oldest first."""
        at = (self.newest + 1 + np.arange(len(rows))) % len(self.rows)
        self.rows[at] = rows
        self.newest = int(at[-1])

    def latest(self, n: int) -> np.ndarray:
        """(n,) ring positions of the n newest rows, oldest first."""
        return (self.newest - np.arange(n - 1, -1, -1)) % len(self.rows)

    def taps(self, conv: FoldedConv, n: int) -> np.ndarray:
        """(n * B, k * C): for each of the n newest rows, the rows `conv` reads for its output there, oldest
        first (the order of conv.matrix)."""
        back = conv.dilation * np.arange(conv.width - 1, -1, -1)
        rows = self.rows[(self.latest(n)[:, None] - back) % len(self.rows)]  # (n, k, B, C)
        return rows.transpose(0, 2, 1, 3).reshape(n * rows.shape[2], -1)


def _apply(conv: FoldedConv, x: np.ndarray) -> np.ndarray:
    return np.maximum(x @ conv.matrix + conv.shift, 0)


class CausalStream:
    """`net` (causal) run on `batch` sequences side by side, a few frames at a time.

    Several new frames go through each layer together (steps): the layer's weights are read once for all of
    them, which is most of a small step's cost (a 25 frames/s source gives two 50 frames/s ticks a frame)."""

    MAX_FRAMES = 8  # new frames per pass through the layers; more are taken in turns

    def __init__(self, net: NumpyTemporalNet, batch: int = 1):
        if not net.causal:
            raise ValueError("a stream needs a causal model: a symmetric one's output waits for later frames")
        self.net, self.batch = net, batch
        # the input history of the expanding layer and of each block's dilated layer
        self._convs = [net.expand] + [dilated for dilated, _, _ in net.blocks]
        self._history = [_History(conv.span, self.MAX_FRAMES, batch, conv.matrix.shape[0] // conv.width)
                         for conv in self._convs]

    def _layer(self, i: int, n: int) -> np.ndarray:
        """Layer i's n newest outputs (n, B, C) from its history."""
        history = self._history[i]
        y = _apply(self._convs[i], history.taps(self._convs[i], n))
        if i > 0:
            _, pointwise, _ = self.net.blocks[i - 1]
            # the residual: a causal block's output is aligned with its newest input
            y = _apply(pointwise, y) + history.rows[history.latest(n)].reshape(n * self.batch, -1)
        return y.reshape(n, self.batch, -1)

    def _output(self, rows: np.ndarray) -> np.ndarray:
        shrink = self.net.shrink
        return (rows @ shrink.matrix + shrink.shift).reshape(len(rows), self.batch, self.net.num_joints_out, 3)

    def start(self, x: np.ndarray) -> np.ndarray:
        """x (B, J_in, 2): the first frame; every history as if the model had seen it RF times -> (B, J_out, 3)."""
        rows = np.asarray(x, np.float32).reshape(1, self.batch, -1)
        for i, history in enumerate(self._history):
            history.fill(rows[0])  # constant input: every output in the history is the same
            rows = self._layer(i, 1)
        return self._output(rows)[0]

    def steps(self, x: np.ndarray) -> np.ndarray:
        """x (n, B, J_in, 2): the next n frames -> (n, B, J_out, 3), the model's output for each."""
        x = np.asarray(x, np.float32)
        outputs = []
        for first in range(0, len(x), self.MAX_FRAMES):
            rows = x[first: first + self.MAX_FRAMES].reshape(-1, self.batch, x[0, 0].size)
            for i, history in enumerate(self._history):
                history.push(rows)
                rows = self._layer(i, len(rows))
            outputs.append(self._output(rows))
        return np.concatenate(outputs)

    def step(self, x: np.ndarray) -> np.ndarray:
        """x (B, J_in, 2): the next frame -> (B, J_out, 3)."""
        return self.steps(np.asarray(x)[None])[0]


class PoseStream:
    """One person's 2D frames -> 3D poses, optionally with test-time flip (the mirrored input as a second
    sequence of the same stream, its output mirrored back and averaged, as Lifter.lift does).

    in_flip / out_flip: the input and output layouts' left-right permutations; in_flip None: no flip."""

    def __init__(self, net: NumpyTemporalNet, in_flip: np.ndarray | None = None, out_flip: np.ndarray | None = None):
        self.in_flip, self.out_flip = in_flip, out_flip
        self._stream = CausalStream(net, batch=1 if in_flip is None else 2)

    def _batch(self, kp: np.ndarray) -> np.ndarray:
        kp = np.asarray(kp, np.float32)
        return kp[None] if self.in_flip is None else np.stack([kp, mirror(kp, self.in_flip)])

    def _pose(self, out: np.ndarray) -> np.ndarray:
        return out[0] if self.in_flip is None else (out[0] + mirror(out[1], self.out_flip)) / 2

    def start(self, kp: np.ndarray) -> np.ndarray:
        """kp (J_in, 2) normalized 2D of the first frame -> (J_out, 3) metres."""
        return self._pose(self._stream.start(self._batch(kp)))

    def steps(self, kp: np.ndarray) -> np.ndarray:
        """kp (n, J_in, 2): the next n frames at the model's rate -> (n, J_out, 3) metres."""
        return np.stack([self._pose(out) for out in self._stream.steps(np.stack([self._batch(k) for k in kp]))])

    def step(self, kp: np.ndarray) -> np.ndarray:
        """kp (J_in, 2): the next frame at the model's rate -> (J_out, 3) metres."""
        return self.steps(np.asarray(kp)[None])[0]
