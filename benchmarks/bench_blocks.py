"""Benchmark: depthwise convolution, batch norm and one MobileNet block, ours against PyTorch CPU in the same run.

Rows (float32): a depthwise 3x3 convolution at stride 1 and 2 (and at stride 2 on one small 14x14 map,
where per-call overheads dominate), batch norm in training mode, and one
MobileNet v1 depthwise-separable block (depthwise 3x3 -> BN -> ReLU -> 1x1 -> BN -> ReLU), each forward
and forward + backward, for

- fast : ``conv1x1.fast`` (its depthwise route on stride-phase grids, at both strides),
- plain: the plain functions (``conv1x1.conv2d_forward`` with groups: im2col and one matmul with a group axis),
- torch: PyTorch's own CPU kernels (skipped when PyTorch is not installed).

Ratios are ours / PyTorch (above 1.0: PyTorch is faster). Targets: depthwise and batch norm
forward + backward within 3x of PyTorch. Also: the peak memory of a depthwise forward over its output,
and the whole MobileNet v1 forward on one (1, 3, 224, 224) float32 image (the layers: the plain path).
Every timing is the median of interleaved repeats (``conv1x1.fast.timing.median_times``).

    python benchmarks/bench_blocks.py            # full run
    python benchmarks/bench_blocks.py --quick    # fewer repeats
"""

from __future__ import annotations

import argparse
import os
import platform

import numpy as np

import conv1x1 as C
from conv1x1 import fast, models
from conv1x1.fast.timing import measure, median_times, peak_over_output, torch_pauses

N, CHANNELS, SIZE = 8, 128, 56       # a MobileNet-sized depthwise layer: 8 x 128 x 56 x 56


def _torch(threads):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


def depthwise_candidates(x, w, stride, torch):
    """Forward and forward + backward of a depthwise 3x3 (padding 1), for fast, plain and torch."""
    candidates = {}
    for name, module in (("fast", fast), ("plain", C)):
        def forward(module=module):
            return module.conv2d_forward(x, w, None, stride, 1, x.shape[1])

        def both(module=module, forward=forward):
            out, cache = forward()
            module.conv2d_backward(np.ones_like(out), cache)
        candidates[f"{name} f"], candidates[f"{name} fb"] = forward, both
    if torch is not None:
        tx, tw = torch.from_numpy(x).requires_grad_(), torch.from_numpy(w).requires_grad_()

        def t_forward():
            with torch.no_grad():
                return torch.nn.functional.conv2d(tx, tw, None, stride, 1, 1, x.shape[1])

        def t_both():
            tx.grad = tw.grad = None
            out = torch.nn.functional.conv2d(tx, tw, None, stride, 1, 1, x.shape[1])
            out.backward(torch.ones_like(out))
        candidates["torch f"], candidates["torch fb"] = t_forward, t_both
    return candidates


def batchnorm_candidates(x, torch):
    """Batch norm in training mode: our layer (one implementation: plain) and torch's."""
    layer = C.BatchNorm2d(x.shape[1], dtype=np.float32)
    dout = np.ones_like(x)

    def both():
        layer.forward(x)
        layer.backward(dout)
    candidates = {"plain f": lambda: layer.forward(x), "plain fb": both}
    if torch is not None:
        bn = torch.nn.BatchNorm2d(x.shape[1])
        tx = torch.from_numpy(x).requires_grad_()
        tdout = torch.from_numpy(dout)

        def t_forward():
            with torch.no_grad():
                return bn(tx)

        def t_both():
            tx.grad = None
            bn.zero_grad()
            bn(tx).backward(tdout)
        candidates["torch f"], candidates["torch fb"] = t_forward, t_both
    return candidates


def _block_functions(module, block):
    """Forward + backward of a DepthwiseSeparable block through ``module``'s conv functions (fast or plain)."""
    dw, bn1, pw, bn2 = block[0], block[1], block[3], block[4]
    w_dw, w_pw = dw.params["w"], pw.params["w"]

    def forward(x):
        a, c1 = module.conv2d_forward(x, w_dw, None, dw.stride, 1, dw.groups)
        b, c2 = C.batchnorm_forward(a, bn1.params["gamma"], bn1.params["beta"])
        r1, c3 = C.relu_forward(b)
        d, c4 = module.conv1x1_forward(r1, w_pw)
        e, c5 = C.batchnorm_forward(d, bn2.params["gamma"], bn2.params["beta"])
        out, c6 = C.relu_forward(e)
        return out, (c1, c2, c3, c4, c5, c6)

    def both(x):
        out, (c1, c2, c3, c4, c5, c6) = forward(x)
        g = C.relu_backward(np.ones_like(out), c6)
        g = C.batchnorm_backward(g, c5)[0]
        g = module.conv1x1_backward(g, c4)[0]
        g = C.relu_backward(g, c3)
        g = C.batchnorm_backward(g, c2)[0]
        return module.conv2d_backward(g, c1)[0]
    return forward, both


def block_candidates(x, c_out, torch):
    block = C.DepthwiseSeparable(x.shape[1], c_out, rng=0, dtype=np.float32)
    candidates = {}
    for name, module in (("fast", fast), ("plain", C)):
        forward, both = _block_functions(module, block)
        candidates[f"{name} f"], candidates[f"{name} fb"] = (lambda f=forward: f(x)), (lambda b=both: b(x))
    if torch is not None:
        nn = torch.nn
        c_in = x.shape[1]
        t_block = nn.Sequential(nn.Conv2d(c_in, c_in, 3, padding=1, groups=c_in, bias=False), nn.BatchNorm2d(c_in),
                                nn.ReLU(), nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())
        tx = torch.from_numpy(x).requires_grad_()

        def t_forward():
            with torch.no_grad():
                return t_block(tx)

        def t_both():
            tx.grad = None
            t_block.zero_grad()
            out = t_block(tx)
            out.backward(torch.ones_like(out))
        candidates["torch f"], candidates["torch fb"] = t_forward, t_both
    return candidates


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--repeats", type=int, help="interleaved repeats per timing (default 7, quick 3)")
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 7)
    threads = os.cpu_count() or 1
    torch = _torch(threads)
    print(f"conv1x1 {C.__version__} | NumPy {np.__version__} | "
          f"{'PyTorch ' + torch.__version__ if torch else 'no PyTorch'} | {platform.machine()}, {threads} cores | "
          f"float32, median of {repeats} interleaved repeats")

    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, CHANNELS, SIZE, SIZE)).astype(np.float32)
    w = rng.standard_normal((CHANNELS, 1, 3, 3)).astype(np.float32)
    x_block = rng.standard_normal((N, 256, 28, 28)).astype(np.float32)
    x_small = rng.standard_normal((1, 240, 14, 14)).astype(np.float32)   # one image, a late-stage layer
    w_small = rng.standard_normal((240, 1, 3, 3)).astype(np.float32)
    rows = [(f"depthwise 3x3 /1 {N}x{CHANNELS}x{SIZE}x{SIZE}", depthwise_candidates(x, w, 1, torch), True),
            (f"depthwise 3x3 /2 {N}x{CHANNELS}x{SIZE}x{SIZE}", depthwise_candidates(x, w, 2, torch), True),
            ("depthwise 3x3 /2 1x240x14x14", depthwise_candidates(x_small, w_small, 2, torch), True),
            (f"batch norm {N}x{CHANNELS}x{SIZE}x{SIZE}", batchnorm_candidates(x, torch), True),
            (f"MobileNet block {N}x256->256x28x28", block_candidates(x_block, 256, torch), False)]

    header = (f"{'row':<38} {'impl':<6} {'fwd ms':>8} {'f+b ms':>8} {'/torch f':>9} {'/torch fb':>10}  target")
    print(header)
    print("-" * len(header))
    misses = 0
    for label, candidates, has_target in rows:
        t = median_times(candidates, repeats, pause=torch_pauses(candidates))
        for impl in ("fast", "plain"):
            if f"{impl} f" not in t:
                continue
            f, fb = t[f"{impl} f"], t[f"{impl} fb"]
            ratio_f = f"{f / t['torch f']:.2f}x" if "torch f" in t else "-"
            ratio_fb = f"{fb / t['torch fb']:.2f}x" if "torch fb" in t else "-"
            verdict = ""
            if has_target and "torch fb" in t:
                met = fb / t["torch fb"] <= 3
                verdict = "met (f+b <= 3x torch)" if met else "MISSED (f+b > 3x torch)"
                misses += not met and impl == "fast" or (not met and "fast f" not in t)
            print(f"{label:<38} {impl:<6} {f * 1e3:8.2f} {fb * 1e3:8.2f} {ratio_f:>9} {ratio_fb:>10}  {verdict}")
            label = ""
        if "torch f" in t:
            print(f"{'':<38} {'torch':<6} {t['torch f'] * 1e3:8.2f} {t['torch fb'] * 1e3:8.2f}")

    print()
    for stride in (1, 2):
        for impl, module in (("fast", fast), ("plain", C)):
            ratio = peak_over_output(lambda m=module, s=stride: m.conv2d_forward(x, w, None, s, 1, CHANNELS))
            print(f"peak memory of a depthwise 3x3 /{stride} forward, {impl:<5}: {ratio:5.2f}x its output"
                  + ("  (target <= 2x: " + ("met)" if ratio <= 2 else "MISSED)") if impl == "fast" else ""))

    model = models.mobilenet_v1(rng=0, dtype=np.float32).eval()
    image = rng.standard_normal((1, 3, 224, 224)).astype(np.float32)
    report = model.cost(224, 224)
    t = measure(lambda: model.forward(image), report.macs, repeat=max(3, repeats // 2))
    print(f"\nMobileNet v1 forward, (1, 3, 224, 224) float32, {report.macs / 1e6:.0f}M MACs (layers, plain path): {t}")
    print(f"\ntargets missed by the fast path (or the only path): {misses}")


if __name__ == "__main__":
    main()
