"""The 2D -> 3D lifter as inference uses it: temporal convolutional model, checkpoints, known weights, inference,
camera normalization, device. Training and evaluation live in vp3d.training."""
