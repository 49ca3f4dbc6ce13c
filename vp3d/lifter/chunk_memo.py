"""The network's outputs for input windows it has already seen, so that lifting a growing sequence again costs
only its new part.

While a video is detected, its people are lifted again and again with everything detected so far (so the
side-by-side render can start: vp3d.pipeline.overlap), then once more at the end. Between two of those lifts only
the last few seconds of the 2D change (frames detected since, the held tail, the edge padding), so a lift is cut
into fixed windows of CHUNK_FRAMES outputs, aligned at the sequence's start, and a window whose input bytes were
seen before takes the outputs computed then. The same input gives the same bits either way (the same matrix
products on the same shapes), so what is reused equals what would be computed.

A window of CHUNK_FRAMES outputs reads CHUNK_FRAMES + RF - 1 input frames; its layers compute on average ~150
frames beyond the window (the 243-frame model), about 1.3x the work of one long pass, in exchange for reuse and
bounded activation memory on long videos.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Callable

import numpy as np

CHUNK_FRAMES = 512  # output frames per forward pass (10 s at the model's 50 frames/s)
# Windows remembered, least recently used dropped: 104 KB each (17 joints), so at most ~27 MB; with flip (two
# windows per span) every window of the last ~22 minutes of video at 50 frames/s.
CAPACITY = 256


class ChunkMemo:
    """`memo(net, padded)` = the network's outputs for a padded sequence, window by window, reusing windows seen
    before. Safe to share between threads (a render's lifts and the final one may overlap)."""

    def __init__(self, chunk_frames: int | None = None, capacity: int = CAPACITY):
        self.chunk_frames, self.capacity = chunk_frames or CHUNK_FRAMES, capacity
        self._outputs: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, net: Callable[[np.ndarray], np.ndarray], padded: np.ndarray, receptive_field: int
                 ) -> np.ndarray:
        """padded: (T + RF - 1, J, 2) float32, C-contiguous -> net's (T, J_out, 3)."""
        n_out, step = len(padded) - receptive_field + 1, self.chunk_frames
        return np.concatenate([self._window(net, padded[start: min(n_out, start + step) + receptive_field - 1])
                               for start in range(0, n_out, step)])

    def _window(self, net, window: np.ndarray) -> np.ndarray:
        # The network's identity and the window's shape and bytes: a window is its input, wherever it sits.
        key = (id(net), window.shape, hashlib.blake2b(window.tobytes(), digest_size=16).digest())
        with self._lock:
            out = self._outputs.get(key)
            if out is not None:
                self._outputs.move_to_end(key)
                return out
        out = net(window)
        out.flags.writeable = False  # shared by every lift that reuses it
        with self._lock:
            self._outputs[key] = out
            while len(self._outputs) > self.capacity:
                self._outputs.popitem(last=False)
        return out
