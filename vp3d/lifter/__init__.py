"""The 2D -> 3D lifter: temporal convolutional model, checkpoints, inference, training, evaluation."""
