"""How MediaPipe's 2D differs from the lifter's synthetic training noise, and a NoiseModel fitted to it.

    .venv/bin/python bench/noise_model_fit.py [--views 1] [--seed 0] [--workdir /tmp/noisefit]

Real: `vp3d-infer CLIP --no-render --npz` (MediaPipe, vp3d's default detector) on the two shared clips,
run once and kept in --workdir. Synthetic: every CMU training motion (never subjects 02 and 135),
resampled to each clip's frame rate, seen by `random_camera`, projected clean, with `NoiseModel()` and with
`NoiseModel.fitted_to_mediapipe(fps=<clip rate>)` (the same cameras for all three).

Every statistic is computed by one function (`clip_stats`) from one (T, 17, 2) pixel sequence, in % of the
person's 2D height h (median over the clip of the vertical extent of the 17 joints). The residual is the
signal minus a Savitzky-Golay fit (9 frames, order 2; ~0.37 s at 24-25 fps), trimmed by 4 frames at both
ends; a joint's speed is the derivative of that fit in h/s. "Still" = speed < 0.2 h/s. Jitter = robust std
(1.4826 x median absolute deviation) of the residual, x and y pooled. Real motion leaks into the residual
too, more the faster a joint moves: the CMU clean column is that floor for CMU's motion (not for the
clips'). Synthetic columns: median [10th-90th percentile] over sequences.

Prints the table, then the numbers the preset was fitted from; --fit adds the preset with other correlation
times and outlier rates (what chose them).
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
from scipy.signal import savgol_filter, welch

from vp3d.training.synthetic import NoiseModel, random_camera
from vp3d.mocap import load_collection, resample, split

VIDEOS = Path("/work/shared/data/videos")
MOCAP = "/work/shared/data/mocap"
CLIPS = ("taiji", "figure_skating")
WINDOW, ORDER = 9, 2
EDGE = WINDOW // 2
STILL = 0.2  # h/s
SLOW = 0.4  # h/s, for jumps
JUMP = 0.05  # h per frame beyond the smooth motion
SPEED_BINS = ((0.2, 0.4), (0.4, 0.8), (0.8, 1.6))
BANDS = ((2, 4), (4, 8), (8, 100))
GROUPS = {"mid-hip/spine/thorax": [0, 7, 8], "hips": [1, 4], "knees": [2, 5], "ankles": [3, 6], "nose": [9],
          "head": [10], "shoulders": [11, 14], "elbows": [12, 15], "wrists": [13, 16]}
R_HIP, L_HIP, THORAX, NOSE, HEAD, L_SHOULDER, R_SHOULDER = 1, 4, 8, 9, 10, 11, 14

# (key, label, kind): kind "scale" compares on a log scale, "linear" by difference, "info" is not compared.
ROWS = [("jit_still", "jitter, still joints", "scale")]
ROWS += [(f"jit_still_{g}", f"  {g}", "scale") for g in GROUPS]
ROWS += [(f"jit_speed_{lo}", f"jitter at {lo}-{hi} h/s", "scale") for lo, hi in SPEED_BINS]
ROWS += [("std_all", "residual std, all frames", "scale"),
         ("lag1_still", "residual lag-1 autocorr, still", "linear"),
         ("lag1_all", "residual lag-1 autocorr, all frames", "linear")]
ROWS += [(f"band_{lo}", f"residual power share {lo}-{hi} Hz" if hi < 100 else f"residual power share {lo}+ Hz", "linear")
         for lo, hi in BANDS]
ROWS += [("jump_all", "jump rate > 5% h, all (% joint-frames)", "scale"),
         ("jump_slow", "jump rate > 5% h, joint < 0.4 h/s", "scale"),
         ("hip_shoulder", "hip / shoulder width, frontal frames", "info"),
         ("nose_up", "nose above thorax, frontal", "info"),
         ("head_up", "head above thorax, frontal", "info")]


def detections(clip: str, workdir: Path) -> tuple[np.ndarray, float]:
    """MediaPipe's (T, 17, 2) pixels and the clip's fps, run once per workdir."""
    npz = workdir / f"{clip}.npz"
    if not npz.exists():
        workdir.mkdir(parents=True, exist_ok=True)
        exe = Path(sys.executable).with_name("vp3d-infer")
        subprocess.run([str(exe), str(VIDEOS / f"{clip}.mp4"), "--no-render", "--npz", str(npz), "--quiet"], check=True)
    with np.load(npz) as z:
        if not z["detected"].all():
            print(f"note: {clip}: {int((~z['detected']).sum())} frames without a detection (filled by vp3d)")
        return z["keypoints2d"].astype(np.float64), float(z["fps"])


def robust_std(x: np.ndarray) -> float:
    """1.4826 x MAD of (N, ..., 2) samples about each column's median, all columns pooled; NaN if < 10."""
    if len(x) < 10:
        return float("nan")
    return float(1.4826 * np.median(np.abs(x - np.median(x, axis=0))))


def lag1(r: np.ndarray, ok: np.ndarray) -> float:
    """Lag-1 autocorrelation of residuals r (T, J, 2) over the pairs (t, t+1) where ok (T-1, J)."""
    rc = r - r.mean(axis=0)
    num = (rc[1:] * rc[:-1]).sum(-1)[ok].sum()
    den = 0.5 * ((rc[1:] ** 2).sum(-1) + (rc[:-1] ** 2).sum(-1))[ok].sum()
    return float(num / den) if ok.sum() >= 10 else float("nan")


def clip_stats(xy: np.ndarray, fps: float) -> dict[str, float]:
    """Every statistic of the table for one (T, 17, 2) pixel sequence at `fps`."""
    h = float(np.median(np.ptp(xy[..., 1], axis=1)))
    smooth = savgol_filter(xy, WINDOW, ORDER, axis=0, mode="interp")
    r = ((xy - smooth) / h)[EDGE:-EDGE]
    speed = np.linalg.norm(savgol_filter(xy, WINDOW, ORDER, deriv=1, axis=0, mode="interp"), axis=-1)[EDGE:-EDGE]
    speed = speed * fps / h
    still = speed < STILL
    s = {"jit_still": robust_std(r[still]), "std_all": float(r.std())}
    for g, idx in GROUPS.items():
        s[f"jit_still_{g}"] = robust_std(r[:, idx][still[:, idx]])
    for lo, hi in SPEED_BINS:
        s[f"jit_speed_{lo}"] = robust_std(r[(speed >= lo) & (speed < hi)])
    s["lag1_still"] = lag1(r, still[1:] & still[:-1])
    s["lag1_all"] = lag1(r, np.ones((len(r) - 1, r.shape[1]), bool))
    f, p = welch(r.reshape(len(r), -1), fs=fps, nperseg=min(64, len(r)), axis=0)
    p = p.sum(axis=1)
    above = p[f >= BANDS[0][0]].sum()
    for lo, hi in BANDS:
        s[f"band_{lo}"] = float(p[(f >= lo) & (f < hi)].sum() / above)
    step = np.linalg.norm(np.diff(r, axis=0), axis=-1)
    s["jump_all"] = 100 * float((step > JUMP).mean())
    slow = (speed[1:] < SLOW) & (speed[:-1] < SLOW)
    s["jump_slow"] = 100 * float((step[slow] > JUMP).mean()) if slow.any() else float("nan")
    shoulders = np.linalg.norm(xy[:, L_SHOULDER] - xy[:, R_SHOULDER], axis=-1)
    frontal = shoulders >= 0.9 * np.percentile(shoulders, 95)
    hips = np.linalg.norm(xy[:, L_HIP] - xy[:, R_HIP], axis=-1)
    s["hip_shoulder"] = float(np.median(hips[frontal] / shoulders[frontal]))
    s["nose_up"] = float(np.median(xy[frontal, THORAX, 1] - xy[frontal, NOSE, 1]) / h)
    s["head_up"] = float(np.median(xy[frontal, THORAX, 1] - xy[frontal, HEAD, 1]) / h)
    for key in s:
        if key.startswith(("jit", "std", "nose", "head")):
            s[key] *= 100
    return s


def clean_views(motions, fps: float, views: int, rng: np.random.Generator):
    """(T, 17, 2) clean pixel sequences: each motion of >= 2 s resampled to `fps`, seen by `views` cameras."""
    for m in motions:
        pos = resample(m.positions.astype(np.float64), m.fps, fps)
        if len(pos) < 2 * fps:
            continue
        for _ in range(views):
            cam = random_camera(rng, pos)
            yield cam.project(cam.to_camera(pos))


def synthetic(motions, fps_list, views: int, seed: int) -> dict[str, list[dict]]:
    """Per-sequence stats of CMU clean / NoiseModel() / fitted, over every motion, view and clip rate."""
    rng = np.random.default_rng(seed)
    out = {"clean": [], "default": [], "fitted": []}
    for fps in fps_list:
        fitted = NoiseModel.fitted_to_mediapipe(fps=fps)
        for xy in clean_views(motions, fps, views, rng):
            out["clean"].append(clip_stats(xy, fps))
            out["default"].append(clip_stats(NoiseModel().apply(rng, xy).astype(np.float64), fps))
            out["fitted"].append(clip_stats(fitted.apply(rng, xy).astype(np.float64), fps))
    return out


def summary(per_seq: list[dict], key: str) -> tuple[float, str]:
    v = np.array([d[key] for d in per_seq], dtype=np.float64)
    med, lo, hi = np.nanmedian(v), np.nanpercentile(v, 10), np.nanpercentile(v, 90)
    return float(med), f"{fmt(med)} [{fmt(lo)}-{fmt(hi)}]"


def fmt(v: float) -> str:
    return "-" if not np.isfinite(v) else f"{v:.3f}" if abs(v) < 1 else f"{v:.2f}"


def closer(kind: str, real: float, default: float, fitted: float) -> str:
    if kind == "info" or not np.isfinite(real):
        return ""
    dist = (lambda m: abs(np.log(max(m, 1e-6) / max(real, 1e-6)))) if kind == "scale" else (lambda m: abs(m - real))
    return "fitted" if dist(fitted) < dist(default) else "NoiseModel()"


def print_table(real: dict[str, dict], syn: dict[str, list[dict]]) -> None:
    head = ["statistic (% of h unless noted)", *(f"MediaPipe {c}" for c in real), "CMU clean", "NoiseModel()",
            "fitted", "closer (taiji / skating)"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    score = {"fitted": 0, "NoiseModel()": 0}
    for key, label, kind in ROWS:
        cells = [fmt(real[c][key]) for c in real]
        meds = {}
        for name in ("clean", "default", "fitted"):
            meds[name], text = summary(syn[name], key)
            cells.append(text)
        wins = [closer(kind, real[c][key], meds["default"], meds["fitted"]) for c in real]
        for w in wins:
            if w:
                score[w] += 1
        print(f"| {label} | " + " | ".join(cells) + f" | {' / '.join(wins) if any(wins) else ''} |")
    print(f"\nrows x clips where the synthetic median is closer to MediaPipe: {score}")


def ar1_residual(rho: float) -> tuple[float, float]:
    """(residual std, residual lag-1 autocorrelation) of a unit-variance AR(1) process after the
    Savitzky-Golay residual filter (interior frames), exactly."""
    n = 4 * WINDOW
    impulse = np.zeros(n)
    impulse[n // 2] = 1
    h = impulse - savgol_filter(impulse, WINDOW, ORDER, mode="constant")  # the residual filter's taps
    lag = np.subtract.outer(np.arange(n), np.arange(n))  # cov(y_t, y_t+k) = sum_ij h_i h_j R(j - i - k)
    c0, c1 = (h @ rho ** np.abs(lag + k) @ h for k in (0, 1))
    return float(np.sqrt(c0)), float(c1 / c0)


def print_fit(real: dict[str, dict], fps: dict[str, float], clean: list[dict]) -> None:
    """What the preset's numbers come from: the detector's share of the jitter (the CMU floor removed in
    quadrature), the speed coefficient per bin, the per-joint ratios of still jitter."""
    floor = {key: summary(clean, key)[0] for key, _, _ in ROWS}
    print("\nAR(1) jitter through the residual filter (exact): rho -> residual std / lag-1: "
          + ", ".join("{:.2f} -> {:.2f} / {:.2f}".format(r, *ar1_residual(r)) for r in (0, 0.3, 0.5, 0.66, 0.8, 0.95)))
    print("  (never above -0.11: the clips' positive still lag-1 is motion leakage (CMU clean alone is positive too)\n"
          "  and, likely, errors lasting several frames, so the correlation time is fitted by simulation: --fit)")
    print("fit, detector share = sqrt(measured^2 - CMU clean^2):")
    for c, s in real.items():
        fitted = NoiseModel.fitted_to_mediapipe(fps=fps[c])
        gain = ar1_residual(fitted.jitter_correlation)[0]
        det = np.sqrt(max(s["jit_still"] ** 2 - floor["jit_still"] ** 2, 0))
        extra = [s[f"jit_speed_{lo}"] ** 2 - floor[f"jit_speed_{lo}"] ** 2 - det ** 2 for lo, _ in SPEED_BINS]
        coefs = [np.sqrt(max(e, 0)) / gain / (0.5 * (lo + hi)) / 100 for e, (lo, hi) in zip(extra, SPEED_BINS)]
        groups = {g: np.sqrt(max(s[f"jit_still_{g}"] ** 2 - floor[f"jit_still_{g}"] ** 2, 0)) for g in GROUPS}
        print(f"  {c}: still jitter {det:.3f} (residual) -> sigma {det / gain / 100:.4f} at the preset's AR(1) gain "
              f"{gain:.2f}; motion jitter (s) at {', '.join(f'{lo}-{hi}' for lo, hi in SPEED_BINS)} h/s: "
              + ", ".join(f"{v:.4f}" for v in coefs))
        ratios = ", ".join(f"{g} {v / groups['hips']:.2f}" for g, v in groups.items())
        print(f"    still jitter per group / hips: {ratios}")


def grid(real: dict[str, dict], motions, fps: float, seed: int) -> None:
    """The preset with other correlation times and outlier rates, on views at `fps`: the rows they move."""
    keys = ("lag1_still", "lag1_all", "band_2", "band_8", "jump_slow", "jit_still")
    rng = np.random.default_rng(seed)
    views = list(clean_views(motions, fps, 1, rng))
    print(f"\n--fit: preset variants at {fps:.3f} fps, medians over {len(views)} sequences")
    print("| variant | " + " | ".join(keys) + " |\n|" + "---|" * (len(keys) + 1))
    for c, s in real.items():
        print(f"| MediaPipe {c} | " + " | ".join(fmt(s[k]) for k in keys) + " |")
    base = NoiseModel.fitted_to_mediapipe(fps=fps)
    for change in ({"jitter_time": 0.0}, {"jitter_time": 0.05}, {}, {"jitter_time": 0.2},
                   {"outlier_rate": (0.0, 0.002)}, {"outlier_rate": (0.0, 0.01)}):
        model = dataclasses.replace(base, **change)
        stats = [clip_stats(model.apply(rng, xy).astype(np.float64), fps) for xy in views]
        print(f"| {change or 'preset'} | " + " | ".join(summary(stats, k)[1] for k in keys) + " |")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--views", type=int, default=1, help="virtual cameras per motion and clip rate")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/noisefit"), help="MediaPipe's detections are kept here")
    ap.add_argument("--fit", action="store_true",
                    help="also run the preset with other correlation times and outlier rates")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/noisefit_cache.npz"), help="mocap collection cache")
    args = ap.parse_args(argv)
    real, fps = {}, {}
    for clip in CLIPS:
        xy, fps[clip] = detections(clip, args.workdir)
        real[clip] = clip_stats(xy, fps[clip])
    motions, _ = split(load_collection(MOCAP, cache=args.cache))
    syn = synthetic(motions, sorted(set(fps.values())), args.views, args.seed)
    print(f"{len(motions)} CMU training motions, {len(syn['clean'])} synthetic sequences "
          f"(at {', '.join(f'{v:.3f}' for v in sorted(set(fps.values())))} fps); fitted = "
          f"{dataclasses.replace(NoiseModel.fitted_to_mediapipe(), fps=0)}\n")
    print_table(real, syn)
    print_fit(real, fps, syn["clean"])
    if args.fit:
        grid(real, motions, fps[CLIPS[0]], args.seed)


if __name__ == "__main__":
    main()
