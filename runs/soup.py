"""Uniform soup: the mean of the (averaged) pose weights of several fine-tunes from one start, frozen BatchNorm
statistics shared by all; exported float16 with the output smoothing."""
import sys, torch
from vp3d.lifter.checkpoint import load_checkpoint, save_checkpoint
srcs, dst = sys.argv[1:-1], sys.argv[-1]
cks = [load_checkpoint(s) for s in srcs]
base = cks[0]
sd = base.model_pos.state_dict()
for k in sd:
    if sd[k].is_floating_point():
        sd[k] = torch.stack([c.model_pos.state_dict()[k].float() for c in cks]).mean(0)
for c in cks[1:]:
    for k, v in c.model_pos.state_dict().items():
        if 'running' in k:
            assert torch.equal(v, base.model_pos.state_dict()[k]), k
base.model_pos.load_state_dict(sd)
base.meta.output_smoothing = 1.0
base.meta.training.update(soup=srcs)
save_checkpoint(dst, base.meta, base.model_pos, None, epoch=0, half=True)
print("wrote", dst)
