"""Video in and out: probe a file (probe.py), stream its frames upright (decode.py), ask FFmpeg whether the
stream was whole (integrity.py), encode frames to H.264 (encode.py). Frames are always BGR uint8 arrays of shape (H, W, 3), the OpenCV convention.
"""

from .decode import iter_frames, prefetch
from .encode import DEFAULT_CRF, DEFAULT_PRESET, X264_PRESETS, H264Writer
from .integrity import DecodeWarning, check_stream
from .probe import VideoError, VideoInfo, ffmpeg_exe, fps_to_fraction, probe

__all__ = ["DEFAULT_CRF", "DEFAULT_PRESET", "X264_PRESETS", "DecodeWarning", "H264Writer", "VideoError", "VideoInfo",
           "check_stream", "ffmpeg_exe", "fps_to_fraction", "iter_frames", "prefetch", "probe"]
