"""Constructed Human3.6M-17 poses shared by tests (angles, viewer)."""

from __future__ import annotations

import numpy as np

from vp3d.skeleton import H36M

J = {name: i for i, name in enumerate(H36M.joint_names)}


def standing() -> np.ndarray:
    """(17, 3) world frame, Y up, metres, feet near y = 0, facing +z (the camera): the person's left is +x.
    Arms hang and legs are straight, so every angle of vp3d.angles is 0."""
    p = np.zeros((17, 3))
    p[J["hip"]] = [0, 1.0, 0]
    for side, x in (("left", 0.1), ("right", -0.1)):
        p[J[f"{side}_hip"]] = [x, 1.0, 0]
        p[J[f"{side}_knee"]] = [x, 0.55, 0]
        p[J[f"{side}_foot"]] = [x, 0.1, 0]
        p[J[f"{side}_shoulder"]] = [1.8 * x, 1.5, 0]
        p[J[f"{side}_elbow"]] = [1.8 * x, 1.2, 0]
        p[J[f"{side}_wrist"]] = [1.8 * x, 0.95, 0]
    p[J["spine"]] = [0, 1.25, 0]
    p[J["thorax"]] = [0, 1.5, 0]
    p[J["neck_nose"]] = [0, 1.6, 0.05]
    p[J["head"]] = [0, 1.7, 0]
    return p
