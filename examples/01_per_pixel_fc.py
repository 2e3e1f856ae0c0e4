r"""
Example 01: a 1x1 convolution is a fully connected layer at every pixel
=======================================================================

Four ways to compute

.. math:: \text{out}[n, o, h, w] = \sum_c w[o, c]\, x[n, c, h, w] + b[o],

from the most literal to the one the library uses. They must all give the same numbers. Then the
picture: one pixel's column of 192 channel values meets 32 filters and gives 32 numbers.
Chapter: :doc:`/computes`.
"""

# %%
import argparse

import numpy as np

import conv1x1 as C
from conv1x1 import reference

parser = argparse.ArgumentParser(description="a 1x1 convolution is a fully connected layer at every pixel")
args, _ = parser.parse_known_args()  # a notebook kernel passes arguments of its own: ignore them

rng = np.random.default_rng(0)
x = rng.standard_normal((2, 8, 5, 6))   # (N, C_in, H, W): 2 images, 8 channels, 5x6 pixels
w = rng.standard_normal((4, 8))         # (C_out, C_in): 4 filters, each a row of 8 weights
b = rng.standard_normal(4)              # one bias per filter

# %% [markdown]
# **Loops**: each output plane is a weighted sum of the input planes.

# %%
out_loops = reference.conv1x1_loops(x, w, b)

# %% [markdown]
# **einsum**: the definition, read as "for every o, n, h, w: sum over c".

# %%
out_einsum = np.einsum("oc,nchw->nohw", w, x) + b[None, :, None, None]

# %% [markdown]
# **matmul on the (N, C, H*W) view**: each image is a (C_in, H*W) matrix of pixel columns, and
# ``w @ x[n]`` applies the filters to all pixels at once. This is what the library computes.

# %%
n, c_in, h, width = x.shape
out_matmul = (w @ x.reshape(n, c_in, h * width) + b[:, None]).reshape(n, 4, h, width)
out_library = C.conv1x1(x, w, b)

# %% [markdown]
# **A dense layer per pixel**: take one pixel's channel vector (length C_in), multiply by ``w``, add ``b``.

# %%
out_dense = np.empty_like(out_loops)
for i in range(n):
    for row in range(h):
        for col in range(width):
            pixel = x[i, :, row, col]                     # (C_in,)
            out_dense[i, :, row, col] = w @ pixel + b     # (C_out,): a fully connected layer

# %%
print("shapes: x", x.shape, "-> out", out_library.shape, "(H and W unchanged, depth = number of filters)")
for name, result in [("einsum", out_einsum), ("matmul on (N, C, H*W)", out_matmul),
                     ("C.conv1x1 (library)", out_library), ("dense layer per pixel", out_dense)]:
    print(f"max |loops - {name:<22}| = {np.max(np.abs(out_loops - result)):.1e}")
worst = max(np.max(np.abs(out_loops - r)) for r in (out_einsum, out_matmul, out_library, out_dense))
print(f"all four agree with the loops to {worst:.1e}" if worst < 1e-12 else "MISMATCH")

# %% [markdown]
# One pixel, 192 channels, 32 filters
# -----------------------------------
#
# GoogLeNet's sizes: a 28x28 feature map with 192 channels, and a 1x1 convolution with 32 filters.
# At one pixel, the 192 numbers down the channel axis are one vector; each filter is a row of 192
# weights; the 32 dot products (plus the biases) are the 32 numbers the layer writes at that pixel.

# %%
x = rng.standard_normal((1, 192, 28, 28))
layer = C.Conv1x1(192, 32, rng=rng)
layer.params["b"][:] = rng.standard_normal(32)
out = layer.forward(x)
row, col = 10, 17
column = x[0, :, row, col]                                   # (192,): one pixel's channel values
w, b = layer.params["w"], layer.params["b"]                  # (32, 192) and (32,)
by_hand = w @ column + b                                     # (32,): 32 dot products of length 192
print(f"pixel ({row}, {col}): {column.size} channel values meet {w.shape[0]} filters of {w.shape[1]} weights "
      f"-> {by_hand.size} numbers")
print(f"max |w @ x[0, :, {row}, {col}] + b - out[0, :, {row}, {col}]| = "
      f"{np.max(np.abs(by_hand - out[0, :, row, col])):.1e}")

# %%
try:
    import matplotlib.pyplot as plt
except ImportError:          # the figures are optional: everything above still ran
    plt = None
    print('matplotlib is not installed: no figure (in a clone: pip install -e ".[examples]")')

if plt is not None:
    fig = plt.figure(figsize=(10, 4.6))
    grid = fig.add_gridspec(2, 4, width_ratios=[3.2, 8, 0.5, 0.9], height_ratios=[1, 6], wspace=0.35, hspace=0.15)
    ax_map = fig.add_subplot(grid[:, 0])
    ax_map.imshow(x[0, 0], cmap="gray")
    ax_map.scatter([col], [row], s=120, facecolors="none", edgecolors="tab:red", linewidths=2)
    ax_map.set_title("x: 28x28x192\n(channel 0 shown,\nthe pixel ringed)", fontsize=9)
    ax_map.set_xticks([]), ax_map.set_yticks([])
    ax_col = fig.add_subplot(grid[0, 1])
    ax_col.imshow(column[None, :], aspect="auto", cmap="coolwarm")
    ax_col.set_title(f"the pixel's 192 channel values x[0, :, {row}, {col}]", fontsize=9)
    ax_col.set_xticks([]), ax_col.set_yticks([])
    ax_w = fig.add_subplot(grid[1, 1])
    ax_w.imshow(w, aspect="auto", cmap="coolwarm")
    ax_w.set_xlabel("input channel c (192)")
    ax_w.set_ylabel("filter o (32)")
    ax_w.set_title("w: 32 filters, one row of 192 weights each", fontsize=9)
    ax_eq = fig.add_subplot(grid[1, 2])
    ax_eq.text(0.5, 0.5, "→", fontsize=22, ha="center", va="center")
    ax_eq.axis("off")
    ax_out = fig.add_subplot(grid[1, 3])
    ax_out.imshow(by_hand[:, None], aspect="auto", cmap="coolwarm")
    ax_out.set_title("32 numbers\nw @ x + b", fontsize=9)
    ax_out.set_xticks([]), ax_out.set_yticks([])
    fig.suptitle("A 1x1 convolution at one pixel: a dense layer from 192 channels to 32", fontsize=11)
    plt.show()
