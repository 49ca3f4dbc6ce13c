"""The side-by-side video: the input frame with the 2D skeleton(s) | the 3D pose(s) from a fixed viewpoint.

side_by_side.py holds the drawing (colours, 2D skeleton, the 3D panel) and the one render loop
(`render_frames`: decode, draw, encode) that every render goes through: after detection (render_video,
render_result), while detection runs (live.py: LiveRender) and for several tracked people (people.py).
"""
