"""vp3d: video -> 2D keypoints -> 3D human joints (VideoPose3D-style temporal lifting)."""

__version__ = "0.1.0"
