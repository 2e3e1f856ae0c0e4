"""
Example 07: one contraction, many routes, and why the fast path looks as it does
================================================================================

``out = einsum('oc,nchw->nohw', w, x)`` can be computed in several ways that give the same
numbers at very different speeds. The yardstick is the raw GEMM: one BLAS matrix multiply
``w @ X`` with X already laid out as (C_in, N*H*W). Nothing can do the same MACs much faster.

The times are those of the machine that ran the script: on the website, the machine that built the
site. Chapter: :doc:`/performance`.
"""

# %%
import argparse
import os

import numpy as np

import conv1x1 as C
from conv1x1.cost import conv_cost
from conv1x1.fast.timing import measure

parser = argparse.ArgumentParser(description="one contraction, many routes, and why the fast path looks as it does")
parser.add_argument("--repeat", type=int, help="timed runs per measurement (default 5; 3 when the website is built)")
args, _ = parser.parse_known_args()  # a notebook kernel passes arguments of its own: ignore them

rng = np.random.default_rng(0)
n, c_in, c_out, h, w_ = 8, 192, 64, 28, 28
x = rng.standard_normal((n, c_in, h, w_)).astype(np.float32)
w = rng.standard_normal((c_out, c_in)).astype(np.float32)
macs = n * conv_cost(c_in, c_out, h, w_, 1).macs
x_gemm = np.ascontiguousarray(x.transpose(1, 0, 2, 3).reshape(c_in, -1))  # (C_in, N*H*W), made once

routes = {
    "raw GEMM w @ X (baseline)": lambda: w @ x_gemm,
    "np.einsum (no optimize)": lambda: np.einsum("oc,nchw->nohw", w, x),
    "np.einsum (optimize=True)": lambda: np.einsum("oc,nchw->nohw", w, x, optimize=True),
    "np.tensordot + transpose": lambda: np.ascontiguousarray(np.tensordot(w, x, axes=(1, 1)).transpose(1, 0, 2, 3)),
    "matmul on (N, C, H*W) view": lambda: np.matmul(w, x.reshape(n, c_in, h * w_)).reshape(n, c_out, h, w_),
    "C.conv1x1 (library)": lambda: C.conv1x1(x, w),
    "C.fast.conv1x1 (engine room)": lambda: C.fast.conv1x1(x, w),
}

# %% [markdown]
# First, all routes agree (float32, so to about 1e-5 relative).

# %%
reference = C.conv1x1(x, w)
for name, route in list(routes.items())[1:]:
    diff = np.max(np.abs(route() - reference)) / np.max(np.abs(reference))
    print(f"{name:<29} max relative difference {diff:.1e}")

# %% [markdown]
# Then the clock: the median of several runs, interleaved so that a noisy machine hurts all alike.

# %%
REPEAT = args.repeat or (3 if os.environ.get("CONV1X1_GALLERY") else 5)    # fewer when the website is built
times = {name: [] for name in routes}
for _ in range(REPEAT):
    for name, route in routes.items():
        times[name].append(measure(route, macs, repeat=1, warmup=0).seconds)
baseline = np.median(times["raw GEMM w @ X (baseline)"])
print(f"\n{n}x{c_in}x{h}x{w_} -> {c_out} channels, float32, {macs / 1e6:.0f}M MACs; median of {REPEAT} rounds")
print(f"{'route':<29} {'ms':>8} {'x GEMM':>8} {'GFLOP/s':>8}")
for name in routes:
    t = np.median(times[name])
    print(f"{name:<29} {t * 1e3:>8.2f} {t / baseline:>7.2f}x {2 * macs / t / 1e9:>8.1f}")

# %% [markdown]
# Why: plain ``np.einsum`` runs its own loops in C, one multiply-add at a time, and never calls BLAS.
# With ``optimize=True`` it hands the work to ``tensordot``, which calls BLAS but must copy x into
# (C, N*H*W) order first and the result back to NCHW. The (N, C, H*W) view is free for a
# contiguous NCHW array (a reshape, no copy), and ``w @ x[n]`` is a plain GEMM per image: that is
# the library's fast path; the table shows how close to the raw GEMM it gets on this machine.

# %%
try:
    import matplotlib.pyplot as plt
except ImportError:          # the figures are optional: everything above still ran
    plt = None
    print('matplotlib is not installed: no figure (in a clone: pip install -e ".[examples]")')

if plt is not None:
    names = list(routes)[::-1]
    slowdowns = [np.median(times[name]) / baseline for name in names]
    fig, ax = plt.subplots(figsize=(8, 3.6))
    bars = ax.barh(names, slowdowns, color=["tab:green" if "GEMM" in n else "tab:blue" for n in names])
    ax.bar_label(bars, [f"{v:.2f}x" for v in slowdowns], padding=3, fontsize=8)
    ax.axvline(1, color="k", lw=0.8)
    ax.set(xscale="log", xlabel="time / raw GEMM time (log scale; 1 = as fast as one BLAS call)",
           title=f"Seven routes to one 1x1 convolution ({macs / 1e6:.0f}M MACs, float32)")
    ax.set_xlim(right=max(slowdowns) * 3)
    fig.tight_layout()
    plt.show()
