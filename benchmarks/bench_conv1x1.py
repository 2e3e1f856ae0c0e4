"""Benchmark: the plain and the fast (``conv1x1.fast``) functions against NumPy's own matrix multiply.

A 1x1 convolution *is* a matrix multiply, so the limit is the raw GEMM ``w @ X`` with X already
laid out as (C_in, N*H*W). Two baselines are measured in the same run:

- raw GEMM: ``w @ X`` (forward); plus ``w.T @ dOut`` and ``dOut @ X.T`` for forward + backward;
- layout floor: ``np.matmul(w, x.reshape(N, C, H*W))`` without bias, what BLAS gives on the NCHW
  layout (a GEMM per image), and the same for the two backward products.

The 1x1 rows time the library's one 1x1 path (``conv1x1.fast`` uses the plain 1x1 functions: no
trick measured >= 10% there). Then a 5x5 convolution by the im2col route (the engine room takes it
too) against a GEMM of the same MACs, and max pooling timed plain against fast (plain K*K strided
comparisons versus the fast ones on stride-phase grids with a bincount scatter).

Every timing is the median of interleaved repeats (each repeat runs every candidate once, so a
noisy machine slows all of them alike). Ratios below 1.0 mean faster than the baseline.

    python benchmarks/bench_conv1x1.py            # full run
    python benchmarks/bench_conv1x1.py --quick    # under 30 s
"""

from __future__ import annotations

import argparse
import os
import platform

import numpy as np

import conv1x1 as C
from conv1x1 import fast
from conv1x1.fast.timing import median_times, peak_over_output, torch_pauses

SHAPES = [  # (N, C_in, C_out, H, W)
    (32, 192, 64, 28, 28),
    (8, 512, 128, 14, 14),
    (16, 64, 256, 56, 56),
]


def torch_candidates(x, w, b, dout, threads: int) -> dict:
    """PyTorch's conv2d with a 1x1 kernel, forward alone and forward + backward ({} without PyTorch)."""
    try:
        import torch
    except ImportError:
        return {}
    torch.set_num_threads(threads)
    tx = torch.from_numpy(x).requires_grad_()
    tw = torch.from_numpy(w.reshape(*w.shape, 1, 1).copy()).requires_grad_()
    tb = torch.from_numpy(b).requires_grad_()
    tdout = torch.from_numpy(dout)

    def step():
        for t in (tx, tw, tb):
            t.grad = None
        torch.nn.functional.conv2d(tx, tw, tb).backward(tdout)

    def forward():
        with torch.no_grad():
            return torch.nn.functional.conv2d(tx, tw, tb)

    return {"torch": step, "torch_fwd": forward}


def bench_shape(shape, dtype, repeats: int, threads: int):
    n, c_in, c_out, h, w_ = shape
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c_in, h, w_)).astype(dtype)
    w = rng.standard_normal((c_out, c_in)).astype(dtype)
    b = rng.standard_normal(c_out).astype(dtype)
    dout = rng.standard_normal((n, c_out, h, w_)).astype(dtype)
    x_gemm = np.ascontiguousarray(x.transpose(1, 0, 2, 3).reshape(c_in, -1))      # (C_in, N*H*W)
    d_gemm = np.ascontiguousarray(dout.transpose(1, 0, 2, 3).reshape(c_out, -1))  # (C_out, N*H*W)
    x3, d3 = x.reshape(n, c_in, h * w_), dout.reshape(n, c_out, h * w_)

    def both():
        _out, cache = C.conv1x1_forward(x, w, b)
        C.conv1x1_backward(dout, cache)

    candidates = {
        "gemm": lambda: w @ x_gemm,
        "floor": lambda: np.matmul(w, x3),
        "forward": lambda: C.conv1x1_forward(x, w, b),
        "gemm3": lambda: (w @ x_gemm, w.T @ d_gemm, d_gemm @ x_gemm.T),
        "floor3": lambda: (np.matmul(w, x3), np.matmul(w.T, d3), np.matmul(d3, x3.transpose(0, 2, 1))),
        "both": both,
    }
    candidates.update(torch_candidates(x, w, b, dout, threads))
    t = median_times(candidates, repeats, pause=torch_pauses(candidates))
    macs = n * h * w_ * c_in * c_out
    return {
        "shape": f"{n}x{c_in}->{c_out}x{h}x{w_}", "floor3/gemm3": t["floor3"] / t["gemm3"],
        "dtype": np.dtype(dtype).name, "t": t,
        "fwd/gemm": t["forward"] / t["gemm"], "fwd/floor": t["forward"] / t["floor"],
        "floor/gemm": t["floor"] / t["gemm"], "fb/gemm3": t["both"] / t["gemm3"],
        "fb/floor3": t["both"] / t["floor3"],
        "torch/fb": t["torch"] / t["both"] if "torch" in t else None,
        "torch/fwd": t["torch_fwd"] / t["forward"] if "torch" in t else None,
        "gflops_fwd": 2 * macs / t["forward"] / 1e9, "gflops_fb": 6 * macs / t["both"] / 1e9,
        "mem": peak_over_output(lambda: C.conv1x1_forward(x, w, b)),
    }


LEGEND = """\
/GEMM, /3GEMM: our forward (forward + backward) time over the raw GEMM w @ X (the three raw GEMMs)
/floor, /floor3: over np.matmul on the (N, C, H*W) view without bias (and its two backward matmuls)
floor, floor3: the floor's own time over the raw GEMMs (how well BLAS runs per-image GEMMs here)
GF/s: achieved GFLOP/s (2 x MACs / time; forward + backward does 3 x the forward MACs)
mem: forward peak allocation / output size; torch f, torch fb: PyTorch conv2d time / ours (forward;
     forward + backward), above 1.0 means we are faster
targets: forward <= 1.3x GEMM (or <= 1.1x floor where floor > 1.2x); forward + backward <= 1.3x 3GEMM
         (or <= 1.15x floor3 where floor3 > 1.2x); mem <= 1.1x; not slower than PyTorch
pooling line: plain / fast above 1 means the engine room is faster"""


def targets_met(r: dict) -> str:
    """Which of the targets this row misses ("met" when none)."""
    missed = []
    if not (r["fwd/gemm"] <= 1.3 or (r["floor/gemm"] > 1.2 and r["fwd/floor"] <= 1.1)):
        missed.append("fwd")
    if not (r["fb/gemm3"] <= 1.3 or (r["floor3/gemm3"] > 1.2 and r["fb/floor3"] <= 1.15)):
        missed.append("f+b")
    if r["mem"] > 1.1:
        missed.append("mem")
    if r["torch/fb"] is not None and r["torch/fb"] < 1.0:
        missed.append("torch")
    return "met" if not missed else "MISSED " + ",".join(missed)


def bench_tiny(repeats: int) -> float:
    """Seconds per forward call of a tiny (1, 3 -> 2, 4x4) convolution: the fixed overhead (validation)."""
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((1, 3, 4, 4)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    return median_times({"tiny": lambda: C.conv1x1_forward(x, w, b)}, repeats)["tiny"]


def bench_conv2d(repeats: int) -> dict:
    """The classic 5x5 "same" conv, 192 -> 32 on 28x28 (N = 8, float32): im2col, and a GEMM of equal MACs."""
    rng = np.random.default_rng(0)
    n = 8
    x = rng.standard_normal((n, 192, 28, 28)).astype(np.float32)
    w = rng.standard_normal((32, 192, 5, 5)).astype(np.float32)
    dout = rng.standard_normal((n, 32, 28, 28)).astype(np.float32)
    a = rng.standard_normal((32, 192 * 25)).astype(np.float32)
    cols = rng.standard_normal((192 * 25, n * 28 * 28)).astype(np.float32)

    def both():
        _out, cache = C.conv2d_forward(x, w, padding=2)
        C.conv2d_backward(dout, cache)

    return median_times({"plain": lambda: C.conv2d_forward(x, w, padding=2), "plain_fb": both,
                         "gemm": lambda: a @ cols}, repeats)


def bench_pool(repeats: int) -> dict:
    """3x3 max pooling, stride 1, padding 1 (Inception's pool branch) on 8x192x28x28 float32, plain and fast."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 192, 28, 28)).astype(np.float32)
    dout = rng.standard_normal(x.shape).astype(np.float32)

    def both(module):
        def run():
            _out, cache = module.maxpool2d_forward(x, 3, 1, 1)
            module.maxpool2d_backward(dout, cache)
        return run

    return median_times({"plain": lambda: C.maxpool2d_forward(x, 3, 1, 1),
                         "fast": lambda: fast.maxpool2d_forward(x, 3, 1, 1),
                         "plain_fb": both(C), "fast_fb": both(fast)}, repeats)


def blas_name() -> str:
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # older NumPy: no dict mode
        return "unknown BLAS"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats (under 30 s)")
    parser.add_argument("--repeats", type=int, help="interleaved repeats per timing (default 7, quick 5)")
    args = parser.parse_args(argv)
    repeats = args.repeats or (5 if args.quick else 7)
    threads = os.cpu_count() or 1

    print(f"conv1x1 {C.__version__} | NumPy {np.__version__} ({blas_name()}) | {platform.machine()}, "
          f"{threads} cores | median of {repeats} interleaved repeats")
    header = (f"{'N x Cin->Cout x HxW':<20} {'dtype':<7} {'fwd ms':>7} {'/GEMM':>6} {'/floor':>6} {'floor':>6} "
              f"{'f+b ms':>7} {'/3GEMM':>6} {'/floor3':>7} {'floor3':>6} {'GF/s f':>6} {'GF/s fb':>7} "
              f"{'mem':>5} {'torch f':>7} {'torch fb':>8}  targets")
    print(header)
    print("-" * len(header))
    ratios, misses = [], 0
    for shape in SHAPES:
        for dtype in (np.float32, np.float64):
            r = bench_shape(shape, dtype, repeats, threads)
            verdict = targets_met(r)
            misses += verdict != "met"
            if r["torch/fb"] is not None:
                ratios.append(r["torch/fb"])
            torch_f = f"{r['torch/fwd']:.2f}x" if r["torch/fwd"] is not None else "n/a"
            torch_fb = f"{r['torch/fb']:.2f}x" if r["torch/fb"] is not None else "n/a"
            print(f"{r['shape']:<20} {r['dtype']:<7} {r['t']['forward'] * 1e3:>7.2f} {r['fwd/gemm']:>5.2f}x "
                  f"{r['fwd/floor']:>5.2f}x {r['floor/gemm']:>5.2f}x {r['t']['both'] * 1e3:>7.2f} "
                  f"{r['fb/gemm3']:>5.2f}x {r['fb/floor3']:>6.2f}x {r['floor3/gemm3']:>5.2f}x "
                  f"{r['gflops_fwd']:>6.1f} {r['gflops_fb']:>7.1f} {r['mem']:>4.2f}x {torch_f:>7} {torch_fb:>8}  "
                  f"{verdict}")
    if ratios:
        geomean = float(np.exp(np.mean(np.log(ratios))))
        print(f"PyTorch CPU conv2d ({threads} threads) forward + backward time / ours: geometric mean {geomean:.2f}x, "
              f"worst {min(ratios):.2f}x (above 1: we are faster)")
    else:
        print("PyTorch is not installed: no comparison (pip install torch==2.13.0 to add it)")
    tiny = bench_tiny(repeats)
    print(f"tiny forward (1, 3 -> 2, 4x4): {tiny * 1e6:.1f} us per call")
    t = bench_conv2d(repeats)
    print(f"Conv2d 5x5 'same', 192 -> 32, 8x28x28 (float32), im2col (plain and fast): forward "
          f"{t['plain'] * 1e3:.2f} ms = {t['plain'] / t['gemm']:.2f}x a GEMM of the same MACs; forward + backward "
          f"{t['plain_fb'] * 1e3:.2f} ms")
    t = bench_pool(repeats)
    print(f"MaxPool 3x3 /1 pad 1, 8x192x28x28 (float32): plain {t['plain'] * 1e3:.2f} ms, fast "
          f"{t['fast'] * 1e3:.2f} ms ({t['plain'] / t['fast']:.2f}x); forward + backward plain "
          f"{t['plain_fb'] * 1e3:.2f} ms, fast {t['fast_fb'] * 1e3:.2f} ms ({t['plain_fb'] / t['fast_fb']:.2f}x)")
    print(LEGEND)
    print(f"targets met on {6 - misses} of 6 shape/dtype rows")


if __name__ == "__main__":
    main()
