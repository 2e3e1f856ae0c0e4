"""
Example 19: a 1x1 convolution is a Linear layer on channels-last
================================================================

"Is a 1x1 convolution the same as an MLP, a Linear layer?" Yes: at every pixel it computes ``w @ x + b``
on that pixel's channel vector. Which name a library uses depends only on where the channels sit:

- an image (N, C, H, W), channels first, is what ``C.conv1x1_forward`` takes;
- the same image channels-last (N, H, W, C) takes a Linear layer, ``x @ w.T + b`` on the last axis.
  ConvNeXt (Liu et al. 2022) writes its pointwise layers this way: ``pwconv1 = nn.Linear(dim, 4 * dim)
  # pointwise/1x1 convs, implemented with linear layers``;
- a transformer's MLP applies the same Linear to every token of (N, T, C);
- PointNet (Qi et al. 2017) applies a "shared MLP" to every point of (N, C, P), written as a
  convolution with kernel size 1.

The script computes each both ways, in float64, and prints the largest difference. Then it times the
channels-first and the channels-last route on this machine (on the website, the machine that built
the site) and prints the ratio it measured, with its spread: which is faster depends on the machine,
the shapes and the BLAS library, and the script makes no claim beyond what it measured.
Chapter: :doc:`/today`.
"""

# %%
import argparse
import os

import numpy as np

import conv1x1 as C
from conv1x1.fast.timing import measure

parser = argparse.ArgumentParser(description="a 1x1 convolution as a Linear on channels-last, a transformer's "
                                             "MLP and PointNet's shared MLP; NCHW against NHWC timed")
parser.add_argument("--repeat", type=int, help="interleaved timing pairs (default 15; 7 when the website is built)")
parser.add_argument("--batch", type=int, default=1, help="images in the timed batch (default %(default)s)")
args, _ = parser.parse_known_args()  # tolerate a notebook kernel's own arguments
repeat = args.repeat or (7 if os.environ.get("CONV1X1_GALLERY") else 15)

rng = np.random.default_rng(0)


def linear(x, w, b):
    """``C.linear_forward`` on the last axis: x (..., C_in), w (C_out, C_in), b (C_out,) -> (..., C_out).

    ``C.linear_forward`` (what ``C.Linear`` runs) takes (rows, C_in); every leading axis becomes one row
    of a single matrix product, (rows, C_in) @ (C_in, C_out), as PyTorch's Linear does.
    """
    rows = x.reshape(-1, x.shape[-1])                         # (N*H*W, C_in): a view when x is contiguous
    out, _ = C.linear_forward(rows, w, b)                     # rows @ w.T + b
    return out.reshape(*x.shape[:-1], w.shape[0])


# %% [markdown]
# An image, channels-first and channels-last
# ------------------------------------------
#
# ``x.transpose(0, 2, 3, 1)`` moves the channels to the end (N, H, W, C); the Linear mixes them at every
# pixel; ``.transpose(0, 3, 1, 2)`` moves them back.

# %%
x = rng.standard_normal((2, 96, 14, 14))                     # (N, C_in, H, W), float64
w, b = rng.standard_normal((384, 96)) / np.sqrt(96), rng.standard_normal(384)
conv, _ = C.conv1x1_forward(x, w, b)                          # (2, 384, 14, 14)
channels_last = linear(x.transpose(0, 2, 3, 1), w, b)         # (2, 14, 14, 384)
print(f"conv1x1_forward(x {x.shape}) -> {conv.shape}; linear(x.transpose(0, 2, 3, 1)) -> {channels_last.shape}")
print(f"  image, 1x1 conv vs Linear on channels-last: max |diff| = "
      f"{np.max(np.abs(conv - channels_last.transpose(0, 3, 1, 2))):.1e}")

# %% [markdown]
# A transformer's MLP over tokens (N, T, C)
# -----------------------------------------
#
# Linear(C, 4C), GELU, Linear(4C, C), the same at every token. Tokens (N, T, C) become an image of one
# row, (N, C, 1, T), for the 1x1 convolutions. ``C.gelu_forward`` is the exact GELU, x * Phi(x) with Phi
# the standard normal's distribution function (PyTorch's default; the layer is ``C.GELU``).

# %%
tokens = rng.standard_normal((2, 16, 32))                     # (N, T, C): 2 sequences of 16 tokens, 32 wide
w1, b1 = rng.standard_normal((128, 32)) / np.sqrt(32), rng.standard_normal(128)
w2, b2 = rng.standard_normal((32, 128)) / np.sqrt(128), rng.standard_normal(32)
mlp = linear(C.gelu_forward(linear(tokens, w1, b1))[0], w2, b2)   # (N, T, C)
image = tokens.transpose(0, 2, 1)[:, :, None, :]              # (N, C, 1, T)
h, _ = C.conv1x1_forward(image, w1, b1)
as_conv, _ = C.conv1x1_forward(C.gelu_forward(h)[0], w2, b2)      # (N, C, 1, T)
print(f"  tokens {tokens.shape}, MLP 32 -> 128 -> 32 vs two 1x1 convolutions on (N, C, 1, T): max |diff| = "
      f"{np.max(np.abs(mlp - as_conv[:, :, 0, :].transpose(0, 2, 1))):.1e}")

# %% [markdown]
# PointNet's shared MLP over points (N, C, P)
# -------------------------------------------
#
# Each point's 3 coordinates go through the same MLP (3 -> 64 -> 64, ReLU after each), then a max over
# the points gives one global feature per cloud, whatever the points' order. PointNet writes the shared
# MLP as ``Conv1d(3, 64, 1)``; here it is a 1x1 convolution on (N, C, 1, P), and the Linear on the
# points-last layout (N, P, C) gives the same numbers.

# %%
points = rng.standard_normal((2, 3, 500))                     # (N, 3, P): 2 clouds of 500 points
v1, c1 = rng.standard_normal((64, 3)), rng.standard_normal(64)
v2, c2 = rng.standard_normal((64, 64)) / 8, rng.standard_normal(64)
per_point = np.maximum(linear(np.maximum(linear(points.transpose(0, 2, 1), v1, c1), 0), v2, c2), 0)  # (N, P, 64)
h, _ = C.relu_forward(C.conv1x1_forward(points[:, :, None, :], v1, c1)[0])
shared, _ = C.relu_forward(C.conv1x1_forward(h, v2, c2)[0])   # (N, 64, 1, P)
print(f"  points {points.shape}, shared MLP 3 -> 64 -> 64 vs 1x1 convolutions on (N, C, 1, P): max |diff| = "
      f"{np.max(np.abs(per_point - shared[:, :, 0, :].transpose(0, 2, 1))):.1e}")
shuffled = rng.permutation(points.shape[2])
h, _ = C.relu_forward(C.conv1x1_forward(points[:, :, None, shuffled], v1, c1)[0])
again, _ = C.relu_forward(C.conv1x1_forward(h, v2, c2)[0])
print(f"  global feature (max over points), points shuffled vs not: max |diff| = "
      f"{np.max(np.abs(shared.max(axis=3) - again.max(axis=3))):.1e}")

# %% [markdown]
# Channels-first against channels-last, timed on this machine
# -----------------------------------------------------------
#
# ConvNeXt-T's first pointwise layer: 96 -> 384 channels on a 56x56 map, float32. NCHW is
# ``C.conv1x1_forward`` (one (384, 96) @ (96, H*W) product per image); NHWC is ``linear`` on an input
# already stored channels-last (one (N*H*W, 96) @ (96, 384) product), as in a network that keeps that
# layout from layer to layer. A third route converts on the way: transpose to NHWC, Linear, and back to
# NCHW, with copies. The three run in turns (NCHW, NHWC, NHWC with copies, NCHW, ...), so a burst of
# other work slows all alike; each turn gives one ratio, and the script prints the median ratio and the
# middle half of the ratios.

# %%
x32 = rng.standard_normal((args.batch, 96, 56, 56)).astype(np.float32)
x32_last = np.ascontiguousarray(x32.transpose(0, 2, 3, 1))  # (N, 56, 56, 96), stored channels-last
w32, b32 = (rng.standard_normal((384, 96)) / np.sqrt(96)).astype(np.float32), np.zeros(384, np.float32)
macs = args.batch * 56 * 56 * 384 * 96
routes = {
    "NCHW, conv1x1_forward": lambda: C.conv1x1_forward(x32, w32, b32),
    "NHWC, linear": lambda: linear(x32_last, w32, b32),
    "NCHW -> NHWC -> NCHW copies": lambda: np.ascontiguousarray(
        linear(np.ascontiguousarray(x32.transpose(0, 2, 3, 1)), w32, b32).transpose(0, 3, 1, 2)),
}
same = np.max(np.abs(routes["NCHW, conv1x1_forward"]()[0] - routes["NHWC, linear"]().transpose(0, 3, 1, 2)))
print(f"\nfloat32, {args.batch}x96x56x56 -> 384 channels ({macs:,} MACs): max |NCHW - NHWC| = {same:.1e}")
turns = [{name: measure(fn, macs, repeat=1) for name, fn in routes.items()} for _ in range(repeat)]
base = "NCHW, conv1x1_forward"
for name in routes:
    seconds = np.array([turn[name].seconds for turn in turns])
    ratios = np.array([turn[base].seconds / turn[name].seconds for turn in turns])
    low, high = np.percentile(ratios, [25, 75])
    print(f"  {name:<28} {np.median(seconds) * 1e3:7.2f} ms median, {macs / np.median(seconds) / 1e9:5.1f} GMAC/s;"
          f" NCHW time / this time: {np.median(ratios):.2f}x (middle half {low:.2f}-{high:.2f}x)")

ratios = np.array([turn[base].seconds / turn["NHWC, linear"].seconds for turn in turns])
median = float(np.median(ratios))
low, high = np.percentile(ratios, [25, 75])
if low > 1:
    verdict = f"the channels-last Linear was faster in this run: {median:.2f}x, every ratio of the middle half above 1"
elif high < 1:
    verdict = (f"the channels-first conv1x1_forward was faster in this run: the Linear took {1 / median:.2f}x its "
               "time, every ratio of the middle half below 1")
else:
    verdict = (f"no clear winner in this run: the median ratio is {median:.2f}x and the middle half "
               f"({low:.2f}-{high:.2f}x) spans 1")
print(f"NCHW against NHWC, median of {repeat} interleaved turns: {verdict}")
