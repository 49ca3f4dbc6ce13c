"""2D pose detection with MediaPipe Pose (BlazePose, 33 landmarks), frame by frame (vp3d.pipeline.detect feeds it).

Uses the legacy `mp.solutions.pose.Pose` in tracking mode (static_image_mode=False): after the first
detection the landmark model follows the person from the previous frame's region, which is both faster
and steadier than detecting on every frame. One person only (MediaPipe Pose tracks one).
"""

from __future__ import annotations

import os
import sys
import types
import warnings
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from .blazepose_lite import place_lite_model
from .candidates import PersonCandidates, boxes_around
from .keypoints import MEDIAPIPE33

_VARIANTS = {0: "lite", 1: "full", 2: "heavy"}


def _import_mediapipe():
    """Import MediaPipe with its C++ logging turned down.

    The env vars must be set before the first import (glog/TFLite read them once); setdefault keeps any
    value the user chose. protobuf warns on every graph call that MediaPipe uses a deprecated API: one
    filter for just that message. Not warnings.catch_warnings() around each call: that swaps the
    process-wide filter list and undid the filter torch's import (running in a background thread
    meanwhile) had set for its own start-up warning, which then reached stderr.
    """
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore", message=".*SymbolDatabase.GetPrototype", category=UserWarning)
    with _unused_imports_skipped():
        import mediapipe as mp

    return mp


class _PyplotOnFirstUse(types.ModuleType):
    """Stands in for matplotlib.pyplot in MediaPipe's drawing helpers: the real one is imported when one
    of them first uses it."""

    def __getattr__(self, name: str):
        import matplotlib.pyplot

        return getattr(matplotlib.pyplot, name)


@contextmanager
def _unused_imports_skipped() -> Iterator[None]:
    """MediaPipe's package import pulls in matplotlib.pyplot (for a plotting helper,
    `solutions.drawing_utils.plot_landmarks`) and sounddevice (for its audio tasks; without PortAudio its
    library search runs ldconfig and the compiler three times): most of a second of every vp3d-infer run,
    for code vp3d never calls. While MediaPipe imports, `matplotlib.pyplot` is a stand-in that imports the
    real one on first use, and `sounddevice` is unavailable (MediaPipe leaves its audio recorder off, as
    on any machine without PortAudio). The entries are gone afterwards; modules already imported are kept.
    The stand-ins are process-wide for the half second of the import: what runs beside it (the lifter
    loading, torch's import) imports neither."""
    stand_ins: dict[str, types.ModuleType | None] = {}
    if "matplotlib" not in sys.modules:
        pyplot = _PyplotOnFirstUse("matplotlib.pyplot")
        matplotlib = types.ModuleType("matplotlib")
        matplotlib.pyplot = pyplot
        stand_ins.update({"matplotlib": matplotlib, "matplotlib.pyplot": pyplot})
    if "sounddevice" not in sys.modules:
        stand_ins["sounddevice"] = None  # `import sounddevice` raises ImportError, which MediaPipe expects
    sys.modules.update(stand_ins)
    try:
        yield
    finally:
        for name, module in stand_ins.items():
            if name in sys.modules and sys.modules[name] is module:
                del sys.modules[name]


@contextmanager
def _silenced_stderr() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null for the duration of the block.

    MediaPipe's TFLite/absl messages ("Created TensorFlow Lite XNNPACK delegate", "Feedback manager
    requires ...") are printed by C++ threads while the graph starts, ignoring the env vars; they can only
    be hidden at the fd level. Used only while the detector is being built (a fraction of a second), so
    nothing else is muted for longer than that.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class MediaPipePoseDetector:
    """MediaPipe BlazePose on video frames, in tracking mode.

    model_complexity: 0 lite, 1 full, 2 heavy. Full is in the mediapipe wheel, lite in vp3d's weights/
        (blazepose_lite.py); asking for heavy, which neither carries, raises instead of letting MediaPipe
        try to download it.
    quiet: hide MediaPipe's C++ start-up messages (see _silenced_stderr).
    Frames must be fed in order (tracking uses the previous frame); use one detector per video.
    """

    layout = MEDIAPIPE33
    num_joints = 33
    batch_size = 1  # frame by frame: every frame's detection is known as soon as it is decoded
    one_person = True
    reads_frames = True
    layout_known = True

    def __init__(self, model_complexity: int = 1, min_detection_confidence: float = 0.5,
                 min_tracking_confidence: float = 0.5, smooth_landmarks: bool = True, quiet: bool = True):
        if model_complexity not in _VARIANTS:
            raise ValueError(f"model_complexity must be 0, 1 or 2, got {model_complexity!r}")
        mp = _import_mediapipe()
        variant = _VARIANTS[model_complexity]
        model = Path(mp.__file__).parent / "modules" / "pose_landmark" / f"pose_landmark_{variant}.tflite"
        if variant == "lite" and not model.is_file():
            place_lite_model(model)
        if not model.is_file():
            raise RuntimeError(f"MediaPipe pose model '{variant}' (model_complexity={model_complexity}) is not "
                               f"installed ({model}); use model_complexity=0 or 1")
        self.name = f"mediapipe-blazepose-{variant}-{mp.__version__}"
        self._quiet = quiet
        self._used = False  # frames seen since the graph (re)started
        with _silenced_stderr() if quiet else nullcontext():
            self._pose = mp.solutions.pose.Pose(
                static_image_mode=False, model_complexity=model_complexity, smooth_landmarks=smooth_landmarks,
                enable_segmentation=False, min_detection_confidence=min_detection_confidence,
                min_tracking_confidence=min_tracking_confidence,
            )
            # The graph opens its TFLite models in background threads, which log as they do. One call on an
            # empty frame waits for that to finish while stderr is muted; it finds nobody, so the tracking
            # state stays empty and the first real frame runs the person detector as usual.
            self._pose.process(np.zeros((64, 64, 3), np.uint8))

    def detect(self, frame_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Landmarks of the person on this frame, or None when there is none.

        Returns xy (33, 2) float32 pixels (may fall outside the frame for hidden joints) and
        score (33,) float32 in [0, 1] (MediaPipe's landmark visibility).
        """
        if self._pose is None:
            raise RuntimeError("detector is closed")
        h, w = frame_bgr.shape[:2]
        self._used = True
        result = self._pose.process(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB))
        if result.pose_landmarks is None:
            return None
        arr = np.array([(p.x, p.y, p.visibility) for p in result.pose_landmarks.landmark], dtype=np.float32)
        xy = arr[:, :2] * np.array([w, h], dtype=np.float32)  # normalized [0, 1] -> pixels
        return xy, np.clip(arr[:, 2], 0.0, 1.0)

    def start(self, video: str | os.PathLike, width: int, height: int) -> None:
        """A new video: forget the person followed in the previous one (reset), if any frame was seen."""
        if self._used:
            self.reset()

    def detect_batch(self, frames_bgr: list[np.ndarray]) -> list[PersonCandidates]:
        """`detect` on each frame, in order: one candidate (box around the landmarks, person score 1) or none."""
        out = []
        for frame in frames_bgr:
            found = self.detect(frame)
            if found is None:
                out.append(PersonCandidates.empty(self.num_joints))
            else:
                xy, score = found[0][None], found[1][None]
                out.append(PersonCandidates(boxes=boxes_around(xy, score), xy=xy, score=score,
                                            person_score=np.ones(1, np.float32)))
        return out

    def finish(self, num_frames: int) -> None:
        """Every frame fits: there is no other input."""

    def reset(self) -> None:
        """Forget the tracked person, e.g. before the next video, keeping the loaded graph.

        Restarting the graph run clears every calculator's state (tracking region, landmark smoothing), so
        the next frames give exactly what a new detector gives (tests/test_batch.py). Measured on a busy
        2-core CPU: ~50 ms with the warm-up call, about what a new detector costs once the first one
        (~0.5 s) has loaded the models. The restart logs like the first start: same muting and warm-up.
        """
        if self._pose is None:
            raise RuntimeError("detector is closed")
        with _silenced_stderr() if self._quiet else nullcontext():
            self._pose.reset()
            self._pose.process(np.zeros((64, 64, 3), np.uint8))
        self._used = False

    def close(self) -> None:
        if self._pose is not None:
            self._pose.close()
            self._pose = None

    def __enter__(self) -> "MediaPipePoseDetector":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
