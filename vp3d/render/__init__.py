"""The side-by-side video: the input frame with the 2D skeletons | the 3D poses from a fixed viewpoint.

draw.py holds the drawing on plain arrays (colours, 2D skeleton, the 3D panel of one person or several);
video.py the one renderer (SideBySideRender: decode, draw, encode in its own thread), fed with the people's
arrays (`Figure`) while detection runs or once after it, one person or N.
"""
