"""vp3d: video -> 2D keypoints -> 3D human joints (VideoPose3D-style temporal lifting).

The public API (loaded on first use, so `import vp3d` stays light):

    result = vp3d.lift_video("clip.mp4")          # -> InferenceResult: poses3d (T, 17, 3) metres, keypoints, ...
    lifter = vp3d.Lifter.load(vp3d.LifterWeights.DEFAULT.value.path)
    detector = vp3d.make_detector("mediapipe")    # or keypoint-rcnn, detectron2, rtmpose, file:PATH

Everything else lives in the sub-packages (see README.md, "Layout").
"""

__version__ = "0.1.0"

__all__ = ["Lifter", "LifterWeights", "UserError", "lift_video", "make_detector"]


def __getattr__(name: str):
    if name == "lift_video":
        from .pipeline.run import lift_video
        return lift_video
    if name == "Lifter":
        from .lifter.inference import Lifter
        return Lifter
    if name == "LifterWeights":
        from .lifter.weights import LifterWeights
        return LifterWeights
    if name == "make_detector":
        from .detectors.factory import make_detector
        return make_detector
    if name == "UserError":
        from .errors import UserError
        return UserError
    raise AttributeError(f"module 'vp3d' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
