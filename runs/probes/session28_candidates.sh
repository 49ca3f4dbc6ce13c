#!/bin/sh
# Session 28's candidates as shipped files (float16, version 11's steps declared). From the repository root.
set -e
cd "$(dirname "$0")/../.."
for run in fbn_STEPS03 fbn_STEPSN; do
  .venv/bin/python -c "from vp3d.lifter.checkpoint import export_for_inference as e; e('runs/$run/e6.bin', 'runs/${run}_e6_fp16.bin', output_smoothing=1.0, image_plane=(0.3, 4.0), bone_rays=(0.3, 4.0, 121, 0.05))"
done
.venv/bin/python runs/soup.py weights/vp3d_cmu_h36m17_243f.bin runs/fbn_STEPSN_e6_fp16.bin runs/soup_v11_stepsn_raw.bin
.venv/bin/python -c "from vp3d.lifter.checkpoint import export_for_inference as e; e('runs/soup_v11_stepsn_raw.bin', 'runs/soup_v11_stepsn_fp16.bin', image_plane=(0.3, 4.0), bone_rays=(0.3, 4.0, 121, 0.05))"
