"""Lifter engines side by side: torch (today), plain numpy (BatchNorm folded, strided views + matmul) and
onnxruntime, on the shipped weights, in one run.

    .venv/bin/python bench/bench_light_lifter.py [--rounds 3] [--minutes 10] [--fps 50]

Every measurement is a fresh process per engine (so imports and peak memory are the engine's own), the
engines taking turns round after round (so a change of load on the machine hits all of them); the table
gives the median over rounds:
- import s: importing the engine's runtime (torch / numpy / onnxruntime) in a new Python;
- start-up s: loading the weights and building the engine, plus lifting one frame (first-call costs), with
  the runtime and vp3d's modules already imported;
- frames/s: video frames lifted per second, `Lifter.lift` of a `--minutes` clip's worth of 2D at `--fps`
  with flip augmentation (so twice as many network frames), padding and chunking included;
- peak RSS MB: the process's peak resident memory (ru_maxrss) at the end;
- max rel. diff: max |engine - torch| / max |torch| over those poses.
The onnxruntime candidate runs an ONNX graph of the folded network, written once before the run (a product
would ship that file; building it needs the `onnx` package, a test tool here). Its network class lives
here only: the numpy engine is the one vp3d uses (bench/README.md says why).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ENGINES = ("torch", "numpy", "onnxruntime")
IMPORTS = {"torch": "import torch", "numpy": "import numpy", "onnxruntime": "import onnxruntime"}


def onnx_graph(light_path: Path, onnx_path: Path) -> None:
    """The folded pose network of a light file as an ONNX graph: input x (1, J_in*2, T), output (1, J_out*3, T')."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from vp3d.lifter.light_weights import load_light_checkpoint

    net = load_light_checkpoint(light_path).model_pos
    inits, nodes = [], []

    def conv(name: str, src: str, layer) -> str:
        k = layer.width
        c_out = layer.matrix.shape[1]
        weight = layer.matrix.reshape(k, -1, c_out).transpose(2, 1, 0)  # back to torch's (C_out, C_in, k)
        inits.extend([numpy_helper.from_array(np.ascontiguousarray(weight), f"{name}.w"),
                      numpy_helper.from_array(layer.shift, f"{name}.b")])
        nodes.append(helper.make_node("Conv", [src, f"{name}.w", f"{name}.b"], [name], kernel_shape=[k],
                                      dilations=[layer.dilation]))
        return name

    def relu(src: str) -> str:
        nodes.append(helper.make_node("Relu", [src], [src + ".relu"]))
        return src + ".relu"

    x = relu(conv("expand", "x", net.expand))
    for i, (dilated, pointwise, res_start) in enumerate(net.blocks):
        y = relu(conv(f"b{i}.pointwise", relu(conv(f"b{i}.dilated", x, dilated)), pointwise))
        # The residual: frames res_start .. res_start + T' of the block input, T' = T - span.
        res_end = res_start - dilated.span
        inits.extend([numpy_helper.from_array(np.array([res_start], np.int64), f"b{i}.start"),
                      numpy_helper.from_array(np.array([res_end if res_end < 0 else 2 ** 62], np.int64), f"b{i}.end"),
                      numpy_helper.from_array(np.array([2], np.int64), f"b{i}.axis")])
        nodes.append(helper.make_node("Slice", [x, f"b{i}.start", f"b{i}.end", f"b{i}.axis"], [f"b{i}.res"]))
        nodes.append(helper.make_node("Add", [y, f"b{i}.res"], [f"b{i}.out"]))
        x = f"b{i}.out"
    out = conv("shrink", x, net.shrink)
    graph = helper.make_graph(
        nodes, "vp3d_lifter",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, net.num_joints_in * 2, "T"])],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, [1, net.num_joints_out * 3, "T_out"])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(onnx_path))


def swaying_2d(frames: int, joints: int = 17) -> np.ndarray:
    """(frames, joints, 2) float32 normalized 2D of a person swaying at 1 Hz (50 fps): the content does not
    change the cost, only the output values compared between engines."""
    rng = np.random.default_rng(0)
    base = rng.uniform(-0.3, 0.3, (1, joints, 2))
    t = np.arange(frames)[:, None, None] / 50
    return (base + 0.05 * np.sin(2 * np.pi * t + rng.uniform(0, 6, (1, joints, 2)))).astype(np.float32)


class OnnxNetwork:
    """An onnxruntime session called like vp3d's engines: (T, J_in, 2) -> (T - RF + 1, J_out, 3)."""

    def __init__(self, onnx_path: Path, num_joints_out: int):
        import onnxruntime as ort
        self.session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        self.num_joints_out = num_joints_out

    def __call__(self, x: np.ndarray) -> np.ndarray:
        channels_first = np.ascontiguousarray(x.reshape(len(x), -1).T[None], np.float32)
        out = self.session.run(None, {"x": channels_first})[0][0]
        return np.ascontiguousarray(out.T).reshape(out.shape[1], self.num_joints_out, 3)


def import_seconds(engine: str) -> float:
    """Seconds to import the engine's runtime in a new Python (numpy's: what every engine pays anyway)."""
    code = f"import time; t = time.perf_counter(); {IMPORTS[engine]}; print(time.perf_counter() - t)"
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def child(engine: str, weights: Path, light: Path, onnx_path: Path, frames: int, fps: float, out: Path) -> None:
    """One engine in this (fresh) process; prints a JSON line of its figures and saves its poses to `out`."""
    import resource
    import time

    exec(IMPORTS[engine])  # timed on its own (import_seconds)
    from vp3d.lifter.inference import Lifter
    from vp3d.lifter.light_weights import load_light_checkpoint

    t0 = time.perf_counter()
    if engine == "torch":
        lifter = Lifter.load(weights, engine="torch")
    else:
        lifter = Lifter(load_light_checkpoint(light))
        if engine == "onnxruntime":
            lifter.pose_net = OnnxNetwork(onnx_path, lifter.meta.num_joints_out)
    lifter.lift(swaying_2d(1))
    t_start = time.perf_counter() - t0

    kp = swaying_2d(frames)
    t0 = time.perf_counter()
    poses = lifter.lift(kp, fps=fps).poses
    t_lift = time.perf_counter() - t0
    np.save(out, poses)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"engine": engine, "startup_s": t_start, "fps": frames / t_lift, "peak_mb": peak}))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--minutes", type=float, default=10.0, help="length of the lifted 2D sequence")
    p.add_argument("--fps", type=float, default=50.0, help="its frame rate (50: the model's, no resampling)")
    p.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        engine, weights, light, onnx_path, frames, out = args.child
        child(engine, Path(weights), Path(light), Path(onnx_path), int(frames), args.fps, Path(out))
        return 0

    from vp3d.lifter.light_weights import light_form
    from vp3d.lifter.weights import default_checkpoint

    weights = default_checkpoint()
    light = light_form(weights)
    frames = round(args.minutes * 60 * args.fps)
    work = Path(tempfile.mkdtemp(prefix="vp3d-light-bench-"))
    onnx_path = work / "lifter.onnx"
    onnx_graph(light, onnx_path)
    figures: dict[str, list[dict]] = {e: [] for e in ENGINES}
    for r in range(args.rounds):
        for engine in ENGINES:
            out = work / f"{engine}.npy"
            proc = subprocess.run([sys.executable, __file__, "--fps", str(args.fps), "--child", engine, str(weights),
                                   str(light), str(onnx_path), str(frames), str(out)],
                                  capture_output=True, text=True, check=True)
            figures[engine].append({**json.loads(proc.stdout.strip().splitlines()[-1]),
                                    "import_s": import_seconds(engine)})
            print(f"round {r + 1}: {figures[engine][-1]}", file=sys.stderr)
    reference = np.load(work / "torch.npy")
    scale = np.abs(reference).max()
    print(f"\n{frames} frames ({args.minutes:g} min at {args.fps:g} fps, flip augmentation), "
          f"{weights.name}, median of {args.rounds} rounds\n")
    print("| engine | import s | start-up s | frames/s | peak RSS MB | max rel. diff vs torch |")
    print("|---|---|---|---|---|---|")
    for engine in ENGINES:
        med = {k: statistics.median(f[k] for f in figures[engine]) for k in ("import_s", "startup_s", "fps", "peak_mb")}
        diff = np.abs(np.load(work / f"{engine}.npy") - reference).max() / scale
        print(f"| {engine} | {med['import_s']:.2f} | {med['startup_s']:.3f} | {med['fps']:,.0f} | "
              f"{med['peak_mb']:.0f} | {diff:.1e} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
