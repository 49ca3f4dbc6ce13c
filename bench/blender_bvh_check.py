"""Does Blender's own BVH importer replay our BVH exactly? Run by hand with a Python that has `bpy`
(Blender as a module, `pip install bpy`; it needs numpy 1.x, so not in the project's .venv):

    .venv/bin/vp3d-infer clip.mp4 --no-render --bvh out.bvh
    .venv/bin/python bench/blender_bvh_check.py expected out.bvh out.expected.npz   # our FK, project venv
    BPY_PYTHON bench/blender_bvh_check.py blender out.bvh out.expected.npz [z]      # Blender, prints errors

"expected" replays the file through vp3d's own BVH reader (forward kinematics, tested against the PyPI `bvh`
parser in tests/test_exports.py); "blender" imports it with bpy.ops.import_anim.bvh (Y-up file -> Blender's
Z-up scene, the importer's defaults) and compares every bone's head, every frame, with those positions.
"""

from __future__ import annotations

import sys

import numpy as np


def expected(bvh_path: str, out_path: str) -> None:
    from vp3d.mocap.bvh import joint_positions, read_bvh
    bvh = read_bvh(bvh_path)
    names = [n for n, c in zip(bvh.names, bvh.channels) if c]  # joints; End Sites carry no channels
    np.savez(out_path, names=np.array(names), positions=joint_positions(bvh, names))


def blender(bvh_path: str, expected_path: str, up: str = "y") -> None:
    """up: the file's up axis (vp3d-infer --up): a Y-up file is imported with the importer's defaults, a
    Z-up one with axis_up="Z", axis_forward="Y" (Blender's own axes: no conversion)."""
    import bpy
    ref = np.load(expected_path)
    names, want = list(ref["names"]), ref["positions"]  # (T, J, 3) metres, Y up
    bpy.ops.wm.read_factory_settings(use_empty=True)
    axes = dict(axis_forward="-Z", axis_up="Y") if up == "y" else dict(axis_forward="Y", axis_up="Z")
    bpy.ops.import_anim.bvh(filepath=bvh_path, global_scale=1.0, frame_start=1, use_fps_scale=False,
                            update_scene_fps=True, update_scene_duration=True, rotate_mode="NATIVE", **axes)
    arm = next(o for o in bpy.context.scene.objects if o.type == "ARMATURE")
    # Y-up file -> Blender's Z-up scene: (x, y, z) -> (x, -z, y); a Z-up file is already in Blender's axes.
    to_blender = np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], float) if up == "y" else np.eye(3)
    errors = np.zeros((len(want), len(names)))
    for t in range(len(want)):
        bpy.context.scene.frame_set(t + 1)
        for j, name in enumerate(names):
            head = np.array(arm.matrix_world @ arm.pose.bones[name].head)
            errors[t, j] = np.linalg.norm(head - to_blender @ want[t, j])
    print(f"{bvh_path}: {len(want)} frames x {len(names)} joints imported by Blender {bpy.app.version_string}")
    print(f"bone heads vs the file's forward kinematics: mean {1000 * errors.mean():.4f} mm, "
          f"max {1000 * errors.max():.4f} mm (worst joint: {names[int(errors.max(0).argmax())]})")


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    {"expected": expected, "blender": blender}[mode](*args)
