"""Benchmark: whole networks, ours against the same networks built by hand in PyTorch CPU, in the same run.

Four networks, float32, in training mode (batch norm on the batch's statistics):

- NiN: the Network in Network of ``examples/13_nin_digits.py``, batch 32 of 1x8x8 digits,
- MobileNet v1, batch 4 of 3x224x224,
- SqueezeNet 1.0, batch 4 of 3x224x224,
- ResNet-50 (torchvision's "v1.5": the stride on the 3x3), batch 2 of 3x224x224.

For each: one forward, and one training step (forward + backward, from a fixed random ``dout``, down
to the input's gradient) by

- fast : our layers under ``conv1x1.fast.enabled()`` (the engine room's functions),
- plain: our layers as a student steps into them (the plain functions),
- torch: the same network written out in ``torch.nn`` (``nn.ReLU(inplace=True)`` and an in-place
  residual add, as torchvision writes them), our weights copied in; both compute the same numbers,
  checked before timing (largest difference of the outputs and of the input's gradients, relative to
  the largest value).

Ratios are ours / PyTorch (above 1.0: PyTorch is faster). Targets, fast path: forward +
backward within 1.5x of PyTorch on every network and within 1.2x on the geometric mean. Every timing
is the median of interleaved repeats (``conv1x1.fast.timing.median_times``): each repeat runs every
candidate of a network once, so a busy machine slows them alike; PyTorch's after a pause of
``conv1x1.fast.timing.LIBRARY_PAUSE`` seconds and one untimed call: an idle OpenBLAS worker keeps
spinning on a core for a while after NumPy's matmul returns, and took that core from PyTorch's
next timing, which flattered us (docs/performance.md, "Whole networks", has the figures). Both libraries get 2
threads (``--threads``): ``torch.set_num_threads(2)``, and NumPy's BLAS through ``OPENBLAS_NUM_THREADS`` (and
its MKL and OpenMP cousins), set below before NumPy is imported. NumPy's element-wise loops run on one
thread; PyTorch's on both.

Then, per network, where our time goes: the forward and backward time of each kind of layer (its own
time, without its children's: a ``Concat``'s is joining and splitting, a ``Residual``'s the add), one
training step, median of the repeats, fast and plain. And the roofline: the time the network would take
if every layer ran at this machine's GEMM rate or copy bandwidth, whichever binds
(``Report.predict(conv1x1.fast.timing.machine_peaks())``); forward + backward is three times the forward's
(the backward does twice the forward's MACs, ``LayerCost.backward_macs``, and at least twice its
traffic). With ``--tricks``, what each trick of the engine room buys: one training step on the fast
path without it (its plain functions back) over the step with all.

    python benchmarks/bench_networks.py                          # all four, 5 repeats
    python benchmarks/bench_networks.py --networks nin mobilenet --repeats 9
    python benchmarks/bench_networks.py --quick --no-profile      # 3 repeats, timings only
    python benchmarks/bench_networks.py --tricks --threads 1      # what each trick buys, one thread each
"""

from __future__ import annotations

import os
import sys

THREADS = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv[:-1] else 2
for _variable in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ[_variable] = str(THREADS)    # before NumPy loads its BLAS, which reads them once

import argparse  # noqa: E402
import contextlib  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import conv1x1 as C  # noqa: E402
from conv1x1 import models  # noqa: E402
from conv1x1.fast.timing import machine_peaks, median_times, torch_pauses  # noqa: E402

TARGET_EACH, TARGET_MEAN = 1.5, 1.2
PATHS = {"fast": lambda: C.fast.enabled(), "plain": contextlib.nullcontext}


# ---------------------------------------------------------------- our networks

def nin(rng=0, dtype=np.float32):
    """Example 13's Network in Network (its "nin" kind), in float32: two mlpconv blocks, a max pool, GAP."""
    rng = np.random.default_rng(rng)

    def mlpconv(c_in, width, c_out):
        return [C.Conv2d(c_in, width, 3, padding="same", rng=rng, dtype=dtype), C.ReLU(),
                C.Conv1x1(width, width, rng=rng, dtype=dtype), C.ReLU(), C.Conv1x1(width, c_out, rng=rng, dtype=dtype)]

    return C.Sequential(*mlpconv(1, 32, 32), C.ReLU(), C.MaxPool2d(2), *mlpconv(32, 64, 10), C.GlobalAvgPool2d())


NETWORKS = {  # name: (builder of ours, taking a dtype; builder of PyTorch's; batch, channels, size)
    "nin": (lambda dtype: nin(0, dtype), "torch_nin", 32, 1, 8),
    "mobilenet": (lambda dtype: models.mobilenet_v1(rng=0, dtype=dtype), "torch_mobilenet", 4, 3, 224),
    "squeezenet": (lambda dtype: models.squeezenet1_0(rng=0, dtype=dtype), "torch_squeezenet", 4, 3, 224),
    "resnet50": (lambda dtype: models.resnet50("3x3", rng=0, dtype=dtype), "torch_resnet50", 2, 3, 224),
}
LABELS = {"nin": "NiN on 8x8 digits", "mobilenet": "MobileNet v1", "squeezenet": "SqueezeNet 1.0",
          "resnet50": "ResNet-50"}


# ---------------------------------------------------------------- the same networks in PyTorch, by hand

def torch_nin(nn):
    def mlpconv(c_in, width, c_out):
        return [nn.Conv2d(c_in, width, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(width, width, 1),
                nn.ReLU(inplace=True), nn.Conv2d(width, c_out, 1)]

    return nn.Sequential(*mlpconv(1, 32, 32), nn.ReLU(inplace=True), nn.MaxPool2d(2), *mlpconv(32, 64, 10),
                         nn.AdaptiveAvgPool2d(1))


def _conv_bn_relu(nn, c_in, c_out, k, stride=1, groups=1):
    return [nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True)]


def torch_mobilenet(nn):
    layers, c_in = _conv_bn_relu(nn, 3, 32, 3, 2), 32
    plan = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    for c_out, stride in plan:       # depthwise 3x3 -> BN -> ReLU -> pointwise 1x1 -> BN -> ReLU
        layers += _conv_bn_relu(nn, c_in, c_in, 3, stride, groups=c_in) + _conv_bn_relu(nn, c_in, c_out, 1)
        c_in = c_out
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Conv2d(1024, 1000, 1))


def torch_squeezenet(nn):
    import torch

    class Fire(nn.Module):
        def __init__(self, c_in, squeeze, e1, e3):
            super().__init__()
            self.squeeze = nn.Conv2d(c_in, squeeze, 1)
            self.expand1x1, self.expand3x3 = nn.Conv2d(squeeze, e1, 1), nn.Conv2d(squeeze, e3, 3, padding=1)

        def forward(self, x):
            x = torch.relu_(self.squeeze(x))
            return torch.cat([torch.relu_(self.expand1x1(x)), torch.relu_(self.expand3x3(x))], 1)

    def pool():
        return nn.MaxPool2d(3, 2, ceil_mode=True)

    return nn.Sequential(nn.Conv2d(3, 96, 7, stride=2), nn.ReLU(inplace=True), pool(),
                         Fire(96, 16, 64, 64), Fire(128, 16, 64, 64), Fire(128, 32, 128, 128), pool(),
                         Fire(256, 32, 128, 128), Fire(256, 48, 192, 192), Fire(384, 48, 192, 192),
                         Fire(384, 64, 256, 256), pool(), Fire(512, 64, 256, 256),
                         nn.Conv2d(512, 1000, 1), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1))


def torch_resnet50(nn):
    import torch

    class Bottleneck(nn.Module):
        def __init__(self, c_in, mid, c_out, stride):
            super().__init__()
            self.block = nn.Sequential(*_conv_bn_relu(nn, c_in, mid, 1), *_conv_bn_relu(nn, mid, mid, 3, stride),
                                       nn.Conv2d(mid, c_out, 1, bias=False), nn.BatchNorm2d(c_out))
            self.shortcut = None
            if stride != 1 or c_in != c_out:
                self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

        def forward(self, x):
            out = self.block(x)
            out += x if self.shortcut is None else self.shortcut(x)
            return torch.relu_(out)

    layers, c_in = _conv_bn_relu(nn, 3, 64, 7, 2) + [nn.MaxPool2d(3, 2, 1)], 64
    for mid, blocks, stride in [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]:
        for j in range(blocks):
            layers.append(Bottleneck(c_in, mid, 4 * mid, stride if j == 0 else 1))
            c_in = 4 * mid
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Conv2d(2048, 1000, 1))


def copy_weights(ours, theirs, torch):
    """Our parameters into PyTorch's, in order (both list them layer by layer, w before b, gamma before beta)."""
    pairs = list(zip(ours.params.items(), theirs.parameters()))
    if len(pairs) != len(ours.params) or len(pairs) != len(list(theirs.parameters())):
        raise RuntimeError(f"{len(ours.params)} parameters here, {len(list(theirs.parameters()))} in PyTorch's")
    with torch.no_grad():
        for (name, p), q in pairs:
            if p.size != q.numel():
                raise RuntimeError(f"{name}: shape {p.shape} here, {tuple(q.shape)} in PyTorch's")
            q.copy_(torch.from_numpy(p).reshape(q.shape))


# ---------------------------------------------------------------- one network's candidates

def _relative(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


def candidates(name, torch):
    """{candidate name: callable} for one network (float32), and the network itself."""
    build, torch_build, batch, channels, size = NETWORKS[name]
    ours = build(np.float32)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((batch, channels, size, size)).astype(np.float32)
    dout = rng.standard_normal(ours.forward(x).shape).astype(np.float32)
    found = {}
    for path, context in PATHS.items():
        def forward(context=context):
            with context():
                return ours.forward(x)

        def step(context=context):
            with context():
                ours.forward(x)
                return ours.backward(dout)
        found[f"{path} f"], found[f"{path} fb"] = forward, step
    if torch is not None:
        theirs = globals()[torch_build](torch.nn)
        copy_weights(ours, theirs, torch)
        tx, tdout = torch.from_numpy(x).requires_grad_(), torch.from_numpy(dout)

        def t_forward():
            with torch.no_grad():
                return theirs(tx)

        def t_step():
            theirs.zero_grad(set_to_none=True)
            tx.grad = None
            theirs(tx).backward(tdout)
        found["torch f"], found["torch fb"] = t_forward, t_step
    return ours, found


def agreement(name, torch) -> str:
    """How closely ours (both paths) and PyTorch's agree: out and the input's gradient, float64 and float32.

    The largest difference over the largest value. In float32 the input's gradient differs more than the
    output: rounding differences grow through the backward pass (batch norm divides by small deviations);
    in float64 both agree to about 1e-13, so the networks compute the same thing.
    """
    build, torch_build, batch, channels, size = NETWORKS[name]
    rng = np.random.default_rng(3)
    x = rng.standard_normal((batch, channels, size, size))
    parts = []
    for dtype in (np.float64, np.float32):
        ours, theirs = build(dtype), globals()[torch_build](torch.nn)
        theirs = theirs.double() if dtype == np.float64 else theirs
        copy_weights(ours, theirs, torch)
        tx = torch.from_numpy(x.astype(dtype)).requires_grad_()
        tout = theirs(tx)
        dout = rng.standard_normal(tuple(tout.shape)).astype(dtype)
        tout.backward(torch.from_numpy(dout))
        for path, context in PATHS.items():
            with context():
                out, dx = ours.forward(x.astype(dtype)), ours.backward(dout)
            parts.append(f"{np.dtype(dtype).name} {path}: out {_relative(out, tout.detach().numpy()):.0e}, "
                         f"dx {_relative(dx, tx.grad.numpy()):.0e}")
    return "ours against PyTorch, largest difference / largest value: " + "; ".join(parts)


# ---------------------------------------------------------------- the profile

def layer_kind(layer) -> str:
    """What a profile row calls a layer: its kind, with the convolutions told apart."""
    if isinstance(layer, C.Conv2d):
        if layer.groups > 1 and layer.groups == layer.in_channels == layer.out_channels:
            return f"depthwise {layer.kernel_size}x{layer.kernel_size}"
        return f"conv {layer.kernel_size}x{layer.kernel_size}" + (f"/{layer.stride}" if layer.stride > 1 else "")
    if isinstance(layer, C.Conv1x1):
        return "conv 1x1" + (f"/{layer.stride}" if layer.stride > 1 else "")
    names = [(C.BatchNorm2d, "batch norm"), (C.ReLU, "relu"), (C.MaxPool2d, "max pool"),
             (C.GlobalAvgPool2d, "global avg pool"), (C.AvgPool2d, "avg pool"),
             (C.Concat, "concat (join, split, sum)"), (C.Residual, "residual (add)"),
             (C.Sequential, "sequential (its loop)")]      # blocks and networks are Sequentials too
    return next((label for kind, label in names if isinstance(layer, kind)), type(layer).__name__)


@contextlib.contextmanager
def timed_layers(model, totals):
    """Time every layer's forward and backward, each without its children's time, into ``totals``.

    ``totals[(kind, "forward" or "backward")]`` accumulates seconds; the wrappers are instance attributes,
    deleted on the way out.
    """
    stack = [0.0]           # time spent in children of the call being timed, one entry per open call

    def wrap(layer, method):
        inner, key = getattr(layer, method), (layer_kind(layer), method)

        def timed(arg):
            stack.append(0.0)
            start = time.perf_counter()
            try:
                return inner(arg)
            finally:
                elapsed = time.perf_counter() - start
                children = stack.pop()
                totals[key] = totals.get(key, 0.0) + elapsed - children
                stack[-1] += elapsed
        return timed

    layers = list(_walk(model))
    for layer in layers:
        layer.forward, layer.backward = wrap(layer, "forward"), wrap(layer, "backward")
    try:
        yield
    finally:
        for layer in layers:
            del layer.forward, layer.backward


def _walk(layer):
    yield layer
    for child in layer.children:
        yield from _walk(child)


def profile(model, x, dout, repeats):
    """{path: {(kind, forward/backward): median seconds per training step}}, the paths interleaved."""
    runs = {path: [] for path in PATHS}
    for _ in range(repeats):
        for path, context in PATHS.items():
            totals = {}
            with context(), timed_layers(model, totals):
                model.forward(x)
                model.backward(dout)
            runs[path].append(totals)
    return {path: {key: statistics.median(run.get(key, 0.0) for run in found) for key in found[0]}
            for path, found in runs.items()}


def print_profile(medians):
    kinds = sorted({kind for key in medians["fast"] for kind in [key[0]]},
                   key=lambda kind: -sum(medians["fast"].get((kind, m), 0) for m in ("forward", "backward")))
    totals = {path: sum(found.values()) for path, found in medians.items()}
    header = (f"  {'layer kind':<27} {'fast fwd':>9} {'fast bwd':>9} {'share':>6}   {'plain fwd':>9} "
              f"{'plain bwd':>9} {'share':>6}")
    print(header + "\n  " + "-" * (len(header) - 2))
    for kind in kinds:
        cells = []
        for path in PATHS:
            f, b = (medians[path].get((kind, m), 0.0) for m in ("forward", "backward"))
            cells.append(f"{f * 1e3:9.1f} {b * 1e3:9.1f} {(f + b) / totals[path]:6.0%}")
        print(f"  {kind:<27} " + "   ".join(cells))
    print(f"  {'total (ms, one step)':<27} " + "   ".join(
        f"{sum(v for (k, m), v in medians[p].items() if m == 'forward') * 1e3:9.1f} "
        f"{sum(v for (k, m), v in medians[p].items() if m == 'backward') * 1e3:9.1f} {'':>6}" for p in PATHS))


# ---------------------------------------------------------------- what each trick buys

TRICKS = {  # trick: the conv1x1.functional functions it replaces, and their plain module
    "depthwise on phase grids": ("conv2d", ("conv2d_forward", "conv2d_backward")),
    "max pooling on phase grids": ("pooling", ("maxpool2d_forward", "maxpool2d_backward")),
    "ReLU backward by a mask": ("activations", ("relu_backward",)),
}


@contextlib.contextmanager
def without(trick):
    """Inside C.fast.enabled(): the plain functions back for one trick."""
    family, names = TRICKS[trick]
    fast_functions = {name: getattr(C.functional, name) for name in names}
    for name in names:
        setattr(C.functional, name, getattr(getattr(C.functional, family), name))
    try:
        yield
    finally:
        for name, function in fast_functions.items():
            setattr(C.functional, name, function)


def trick_times(model, x, dout, repeats):
    """{candidate: (median wall seconds, median CPU seconds)} of one training step on the fast path, with every
    trick ("all") and without each one, interleaved. CPU seconds (``time.process_time``, every thread of this
    process) move less when other programs share the cores; with ``--threads 1`` they are the step's work."""
    def step(trick=None):
        def run():
            with C.fast.enabled(), (without(trick) if trick else contextlib.nullcontext()):
                model.forward(x)
                model.backward(dout)
        return run
    candidates = {"all": step(), **{trick: step(trick) for trick in TRICKS}}
    runs = {name: [] for name in candidates}
    for run in candidates.values():
        run()                                   # warm up
    for _ in range(repeats):
        for name, run in candidates.items():
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            runs[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    return {name: tuple(statistics.median(values) for values in zip(*found)) for name, found in runs.items()}


def print_tricks(found):
    (wall, cpu) = found["all"]
    print(f"  {'trick':<28} {'one step without it / with all: wall time':>42}  {'CPU time':>9}")
    for trick in TRICKS:
        print(f"  {trick:<28} {found[trick][0] / wall:41.2f}x  {found[trick][1] / cpu:8.2f}x")


# ---------------------------------------------------------------- the run

def _torch():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(THREADS)
    return torch


def _blas() -> str:
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas['name']} {blas.get('version', '')}".strip()
    except Exception:       # older NumPy: no mode="dicts"
        return "BLAS"


def _load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def _torch_version(torch) -> str:
    """PyTorch's version and threads, for the header."""
    return f"PyTorch {torch.__version__} (set_num_threads({torch.get_num_threads()}))" if torch else "no PyTorch"


def _load_at_end() -> str:
    """The load average now, read against the cores: this run's own threads count in it."""
    load, cores = _load(), os.cpu_count()
    verdict = (f"above {cores}: other programs shared the {cores} cores" if load > cores
               else f"within the {cores} cores")
    own = f"{THREADS} thread{'s' if THREADS > 1 else ''}"
    return f"load average {load:.2f} at the end, this run's own {own} included ({verdict})"


def measure_network(name, torch, peaks, repeats, args):
    """Agreement, timings, and (as asked) the profile and the tricks of one network: (median times, roofline)."""
    _, _, batch, channels, size = NETWORKS[name]
    print(f"\n{LABELS[name]}, batch {batch} of {channels}x{size}x{size}")
    if torch is not None:
        print(agreement(name, torch))
    model, found = candidates(name, torch)
    prediction = model.cost(size, size, in_channels=channels).predict(peaks, np.float32, batch)
    times = median_times(found, repeats, pause=torch_pauses(found))
    rng = np.random.default_rng(2)
    x = rng.standard_normal((batch, channels, size, size)).astype(np.float32)
    dout = rng.standard_normal(model.forward(x).shape).astype(np.float32)
    if not args.no_profile:
        print_profile(profile(model, x, dout, repeats))
    if args.tricks:
        print_tricks(trick_times(model, x, dout, repeats))
    return times, prediction.seconds


def print_rows(name, t, roofline, ratios) -> int:
    """One network's rows of the table (fast, plain, torch, roofline); returns 1 if the fast path missed."""
    _, _, batch, _, _ = NETWORKS[name]
    label, missed = f"{LABELS[name]}, batch {batch}", 0
    for path in PATHS:
        f, fb = t[f"{path} f"], t[f"{path} fb"]
        cells, verdict = ["-", "-"], ""
        if "torch f" in t:
            for i, part in enumerate(("f", "fb")):
                ratio = t[f"{path} {part}"] / t[f"torch {part}"]
                ratios[(path, part)].append(ratio)
                cells[i] = f"{ratio:.2f}x"
            if path == "fast":
                missed = int(fb / t["torch fb"] > TARGET_EACH)
                verdict = f"{'MISSED' if missed else 'met'} (f+b <= {TARGET_EACH}x torch)"
        print(f"{label:<34} {path:<6} {f * 1e3:8.1f} {fb * 1e3:8.1f} {cells[0]:>9} {cells[1]:>10} "
              f"{fb / (3 * roofline):12.1f}x  {verdict}")
        label = ""
    if "torch f" in t:
        print(f"{'':<34} {'torch':<6} {t['torch f'] * 1e3:8.1f} {t['torch fb'] * 1e3:8.1f} {'':>9} {'':>10} "
              f"{t['torch fb'] / (3 * roofline):12.1f}x")
    print(f"{'':<34} {'roofline':<8} {roofline * 1e3:6.1f} {3 * roofline * 1e3:8.1f}")
    return missed


def print_means(ratios) -> int:
    """The geometric means of the ratios, fast and plain; returns 1 if the fast path missed its target."""
    missed = 0
    for path in PATHS:
        f, fb = (math.exp(statistics.fmean(map(math.log, ratios[(path, part)]))) for part in ("f", "fb"))
        verdict = ""
        if path == "fast":
            missed = int(fb > TARGET_MEAN)
            verdict = f"{'MISSED' if missed else 'met'} (f+b <= {TARGET_MEAN}x torch)"
        print(f"{'geometric mean':<34} {path:<6} {'':>8} {'':>8} {f:8.2f}x {fb:9.2f}x {'':>13}  {verdict}")
    return missed


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--networks", nargs="+", choices=list(NETWORKS), default=list(NETWORKS),
                        help="which networks (default: all four)")
    parser.add_argument("--repeats", type=int, help="interleaved repeats per timing (default 5, quick 3)")
    parser.add_argument("--quick", action="store_true", help="3 repeats")
    parser.add_argument("--no-profile", action="store_true", help="skip the per-layer-kind profile")
    parser.add_argument("--tricks", action="store_true",
                        help="also time the fast path without each trick in turn (what each one buys)")
    parser.add_argument("--threads", type=int, default=2,
                        help="threads for NumPy's BLAS and for PyTorch (default 2; read before NumPy loads)")
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 5)
    torch = _torch()
    print(f"conv1x1 {C.__version__} | NumPy {np.__version__} ({_blas()}, OPENBLAS_NUM_THREADS="
          f"{os.environ['OPENBLAS_NUM_THREADS']}) | "
          f"{_torch_version(torch)} | "
          f"{platform.machine()}, {os.cpu_count()} cores, load average {_load():.2f} at the start | float32, "
          f"training mode, median of {repeats} interleaved repeats")
    peaks = machine_peaks()
    print(f"this machine: {peaks}")
    results = {name: measure_network(name, torch, peaks, repeats, args) for name in args.networks}

    print("\nours / PyTorch (above 1.0: PyTorch is faster); ms are medians; roofline: this machine's GEMM rate "
          "or copy bandwidth, whichever binds, for every layer")
    header = (f"{'network':<34} {'path':<6} {'fwd ms':>8} {'f+b ms':>8} {'/torch f':>9} {'/torch fb':>10} "
              f"{'/roofline fb':>13}  target")
    print(header + "\n" + "-" * len(header))
    ratios = {(path, part): [] for path in PATHS for part in ("f", "fb")}
    misses = sum(print_rows(name, t, roofline, ratios) for name, (t, roofline) in results.items())
    if ratios[("fast", "fb")]:
        misses += print_means(ratios)
        print(f"\ntargets missed by the fast path: {misses}")
    print(_load_at_end())


if __name__ == "__main__":
    main()
