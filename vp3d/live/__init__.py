"""Live mode (`vp3d live SOURCE`): 3D while the motion happens, frame by frame with a causal lifter.

source.py (frames from a camera, a stream, stdin or a file, the newest one kept and the rest dropped
and counted) -> the 2D detector, one frame at a time -> causal.py (the 2D resampled to the model's rate
by time, each frame's 3D from the past only) -> sinks.py (one JSON object per frame: stdout, a file,
UDP, WebSocket). run.py owns the loop and the latency figures.
"""
