"""Lifter speed on this machine, as ratios against baselines measured in the same run.

    python bench/bench_lifter.py [--channels 256] [--seconds 3]

Prints three tables:
1. Training throughput (output frames/s) of the chunked scheme against the reference's strided
   single-frame scheme (the plain way to get uncorrelated batches), and the single-frame baseline.
2. Training throughput of the scheme the shipped weights are fine-tuned with (`--frozen-batchnorm --chunk 128
   --batch-size 2048`: 16 windows x 128 output frames, BatchNorm in its inference form, dropout on), in float32
   and with `--bf16`, at 256 and 1024 channels, and of the default scheme, as achieved GFLOP/s (forward +
   backward = 3x the forward's convolutions) / the matmul GFLOP/s of the same arithmetic.
3. Inference throughput of the 243-frame model over one long sequence (with and without flip
   augmentation) against the fp32 matrix-multiply rate: achieved GFLOP/s / matmul GFLOP/s.
"""

from __future__ import annotations

import argparse
import time

import torch

from vp3d.lifter.model import TemporalModel, TemporalModelStrided
from vp3d.training.train import hold_batchnorm_statistics


def timed(fn, seconds: float) -> float:
    """Seconds per call, after one warm-up call, averaged over at least `seconds`."""
    fn()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds or n < 2:
        fn()
        n += 1
    return (time.perf_counter() - t0) / n


def train_step(model, x, bf16: bool = False):
    opt = torch.optim.Adam(model.parameters(), amsgrad=True)

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):  # as vp3d train --bf16
            loss = model(x).float().pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def matmul_gflops(seconds: float, dtype=torch.float32) -> float:
    a, b = torch.randn(2048, 2048, dtype=dtype), torch.randn(2048, 2048, dtype=dtype)
    return 2 * 2048 ** 3 / timed(lambda: a @ b, seconds) / 1e9


def conv_flops(model: torch.nn.Module, x: torch.Tensor) -> float:
    """Multiply-adds x 2 of every convolution in one forward pass over x, counted from the layers' outputs."""
    total = []

    def count(conv, _inputs, out):
        total.append(2 * conv.weight.numel() * out.shape[0] * out.shape[-1])
    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, torch.nn.Conv1d)]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return float(sum(total))


def conv_flops_per_output_frame(model: TemporalModel) -> float:
    """Multiply-adds x 2 of one output frame of the dilated model on a long sequence."""
    flops = 2 * model.expand_conv.weight.numel()
    flops += sum(2 * conv.weight.numel() for conv in model.layers_conv)
    return flops + 2 * model.shrink.weight.numel()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--channels", type=int, default=256)
    ap.add_argument("--seconds", type=float, default=3.0)
    args = ap.parse_args()
    C, s = args.channels, args.seconds
    torch.manual_seed(0)

    rows = []
    strided = TemporalModelStrided(channels=C).train()
    base = 256 / timed(train_step(strided, torch.randn(256, 243, 17, 2)), s)
    rows.append(("strided single-frame (reference), batch 256", base))
    for chunk, windows in ((16, 64), (32, 32), (64, 16)):
        model = TemporalModel(channels=C).train()
        fps = chunk * windows / timed(train_step(model, torch.randn(windows, 242 + chunk, 17, 2)), s)
        rows.append((f"chunked, {windows} windows x {chunk} outputs", fps))
    rf1 = TemporalModel(channels=C, filter_widths=(1, 1, 1, 1, 1)).train()
    rows.append(("single-frame baseline (RF 1), batch 1024", 1024 / timed(train_step(rf1, torch.randn(1024, 1, 17, 2)), s)))
    print(f"\nTraining throughput, 243-frame model, {C} channels, {torch.get_num_threads()} threads")
    print(f"{'scheme':48s} {'frames/s':>10s} {'x strided':>10s}")
    for name, fps in rows:
        print(f"{name:48s} {fps:10.0f} {fps / base:10.2f}")

    gflops, gflops_bf16 = matmul_gflops(s), matmul_gflops(s, torch.bfloat16)
    print(f"\nTraining against the matmul rate here (float32 {gflops:.0f}, bfloat16 {gflops_bf16:.0f} GFLOP/s), "
          f"243 frames, 16 x 128 = windows x output frames per step unless said")
    print(f"{'scheme':56s} {'frames/s':>10s} {'GFLOP/s':>9s} {'of matmul':>10s}")
    for name, channels, frozen, windows, chunk, bf16 in (
            ("64 x 16, batch statistics (the default)", C, False, 64, 16, False),
            ("frozen statistics (the shipped weights' fine-tunes)", C, True, 16, 128, False),
            ("frozen statistics, --bf16", C, True, 16, 128, True),
            ("frozen statistics", 1024, True, 16, 128, False),
            ("frozen statistics, --bf16", 1024, True, 16, 128, True)):
        model = TemporalModel(channels=channels)
        model = hold_batchnorm_statistics(model) if frozen else model.train()
        x = torch.randn(windows, 242 + chunk, 17, 2)
        sec = timed(train_step(model, x, bf16), s)
        achieved = 3 * conv_flops(model, x) / sec / 1e9
        print(f"{name + f', {channels} ch':56s} {windows * chunk / sec:10.0f} {achieved:9.0f} "
              f"{achieved / (gflops_bf16 if bf16 else gflops):10.2f}")

    print(f"\nInference, one 10,000-frame sequence; fp32 matmul rate here: {gflops:.0f} GFLOP/s")
    print(f"{'model':32s} {'frames/s':>10s} {'GFLOP/s':>9s} {'of matmul':>10s}")
    for channels in (C, 1024):
        model = TemporalModel(channels=channels).eval()
        x = torch.randn(1, 10_000 + 242, 17, 2)
        with torch.no_grad():
            sec = timed(lambda: model(x), s)
        fps = 10_000 / sec
        achieved = fps * conv_flops_per_output_frame(model) / 1e9
        print(f"{f'243 frames, {channels} ch':32s} {fps:10.0f} {achieved:9.0f} {achieved / gflops:10.2f}")
        print(f"{'  with flip augmentation':32s} {fps / 2:10.0f}")


if __name__ == "__main__":
    main()
