"""The written outputs besides the video: joints.py (JSON / NPZ / CSV, schemas `vp3d.joints/1` for one
person and `vp3d.joints/2` for several, and the reference release's custom 2D NPZ) and bvh.py (BVH animation).
"""
