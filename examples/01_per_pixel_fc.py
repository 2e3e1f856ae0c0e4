# %% [markdown]
# # 1. A 1x1 convolution is a fully connected layer at every pixel
#
# Four ways to compute `out[n, o, h, w] = sum_c w[o, c] * x[n, c, h, w] + b[o]`, from the most
# literal to the one the library uses. They must all give the same numbers.

# %%
import numpy as np

import conv1x1 as C
from conv1x1 import reference

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
# `w @ x[n]` applies the filters to all pixels at once. This is what the library computes.

# %%
n, c_in, h, width = x.shape
out_matmul = (w @ x.reshape(n, c_in, h * width) + b[:, None]).reshape(n, 4, h, width)
out_library = C.conv1x1(x, w, b)

# %% [markdown]
# **A dense layer per pixel**: take one pixel's channel vector (length C_in), multiply by w, add b.

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
