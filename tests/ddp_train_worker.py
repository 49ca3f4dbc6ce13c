"""Run by tests/test_train.py under `torchrun --nproc_per_node 2`: a few training steps with
DistributedDataParallel (gloo on the CPU), then each rank saves the weights it holds."""

import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist

from vp3d.training.train import TrainConfig, train
from vp3d.mocap import load_bvh

out = Path(sys.argv[1])
train_motion = load_bvh(sys.argv[2]).positions
val_motion = load_bvh(sys.argv[3]).positions[:200]
config = TrainConfig(filter_widths=(3, 3), channels=16, epochs=2, batch_size=128, chunk=8, epoch_frames=512,
                     val_views=1, bn_batches=1, out=str(out / "run"), seed=7)
model = train(config, [train_motion], [val_motion], log=lambda msg: None).model
torch.save(model.state_dict(), out / f"rank{dist.get_rank()}.pt")
dist.barrier()  # both ranks have saved
# End without tearing gloo down: its C++ threads sometimes abort the process as they are destroyed
# ("terminate called without an active exception", exit -6; seen once in a CI run), after all the work.
sys.stdout.flush()
os._exit(0)
