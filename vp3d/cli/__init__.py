"""Command line: `vp3d infer|batch|train|evaluate` (main.py) and the `vp3d-infer` shortcut, one module per
command (infer.py, batch.py, train.py, evaluate.py) and what they share (common.py: one-line user errors,
interruptions, progress bars)."""

from .main import command, infer_command, infer_main, main

__all__ = ["command", "infer_command", "infer_main", "main"]
