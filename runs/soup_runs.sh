#!/bin/bash
cd /work/main
for s in 1 2; do
  .venv/bin/vp3d train --init-from weights/vp3d_cmu_h36m17_243f.bin --bf16 --channels 1024 --epoch-frames 262144 --frozen-batchnorm --pose-augmentation --body-proportions adult --joint-angles --velocity-weight 0.5 --chunk 128 --batch-size 2048 --epochs 4 --lr 1e-4 --lr-warmup-steps 64 --lr-decay 0.9 --ema 0.998 --val-views 1 --seed $((1234 + s)) --threads 2 --val-bvh ../shared/data/mocap_validation/bandai2 --out runs/fbn_S$s > runs/fbn_S$s.log 2>&1 < /dev/null
done
