#!/bin/sh
# Candidates as shipped files (float16, the base weights' steps declared): each RUN's epoch E (EPOCH, default 6), and
# the mean of the base weights with SOUP_RUN's epoch E as runs/soup_TAG_NAME_fp16.bin. From anywhere; paths from the
# repository root. The base (BASE, TAG, STEPS) defaults to version 11 (v11, its steps); causal version 9:
#   BASE=weights/vp3d_cmu_h36m17_243f_causal.bin TAG=c9 STEPS="image_plane=(0.3, 15.0), bone_rays=(0.2, 15.0, 121, 0.05)"
#   session 27: sh runs/probes/steps_loss_candidates.sh fbn_STEPS steps fbn_LEG2 fbn_STEPS
#   session 28: sh runs/probes/steps_loss_candidates.sh fbn_STEPSN stepsn fbn_STEPS03 fbn_STEPSN
#   session 29: EPOCH=12 sh runs/probes/steps_loss_candidates.sh fbn_STEPSN stepsn12 fbn_STEPSN
set -e
cd "$(dirname "$0")/../.."
soup_run=$1; name=$2; shift 2
e=${EPOCH:-6}
base=${BASE:-weights/vp3d_cmu_h36m17_243f.bin}
tag=${TAG:-v11}
steps=${STEPS:-"image_plane=(0.3, 4.0), bone_rays=(0.3, 4.0, 121, 0.05)"}
export_steps() {  # $1 source checkpoint, $2 float16 file; $3 "output_smoothing=1.0, " for raw runs
  .venv/bin/python -c "from vp3d.lifter.checkpoint import export_for_inference as e; e('$1', '$2', $3$steps)"
}
for run in "$@"; do
  export_steps "runs/$run/e$e.bin" "runs/${run}_e${e}_fp16.bin" "output_smoothing=1.0, "
done
.venv/bin/python runs/soup.py "$base" "runs/${soup_run}_e${e}_fp16.bin" "runs/soup_${tag}_${name}_raw.bin"
export_steps "runs/soup_${tag}_${name}_raw.bin" "runs/soup_${tag}_${name}_fp16.bin" ""
