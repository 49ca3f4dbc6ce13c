"""Interactive 3D viewer of a vp3d joints file: one self-contained HTML page (see build.py)."""

from .build import build_html, find_video

__all__ = ["build_html", "find_video"]
