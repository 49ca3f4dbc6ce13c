"""Training and evaluating the lifter: what `vp3d train` and `vp3d evaluate` need and inference does not.

train.py (the training loop), train_config.py (its options), synthetic.py (virtual cameras and detector-like
2D noise over 3D motion), pose_augmentation.py (new motion from real takes), unlabeled.py (2D-only exports for
semi-supervised training), metrics.py (MPJPE and its protocols, losses, root-motion errors), evaluate.py
(metrics over a set of sequences) and the Human3.6M data files of the reference release. Imports vp3d.lifter
(model, checkpoints, inference), never the other way round.
"""
