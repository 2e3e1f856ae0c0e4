"""
Example 02: cutting depth, 28x28x192 -> 28x28x32, and a photograph's colours
============================================================================

A 1x1 convolution changes only the depth. Its number of filters *is* the output depth; height
and width stay as they are. This is how networks shrink a thick feature map cheaply. Then the same
idea on a real photograph: turning RGB into grey is one 1x1 filter, and projecting the three
colour channels onto two (by PCA) is a 1x1 convolution too. Chapter: :doc:`/depth`.
"""

# %%
import argparse

import numpy as np

import conv1x1 as C
from conv1x1.cost import conv_cost

parser = argparse.ArgumentParser(description="cutting depth, 28x28x192 -> 28x28x32, and a photograph's colours")
args, _ = parser.parse_known_args()  # a notebook kernel passes arguments of its own: ignore them

rng = np.random.default_rng(0)
x = rng.standard_normal((1, 192, 28, 28))   # one 28x28 feature map with 192 channels

# %%
layer = C.Conv1x1(192, 32, rng=rng)          # 32 filters, each of size 1x1x192
out = layer.forward(x)
print(f"input  {x.shape}  = 28x28x192")
print(f"layer  {layer!r}: w {layer.params['w'].shape}, b {layer.params['b'].shape}")
print(f"output {out.shape}  = 28x28x32  (H and W kept: {out.shape[2:] == x.shape[2:]})")

# %% [markdown]
# The number of filters sets the depth, whatever it is. The cost grows with it linearly:
# every output value is one dot product of length 192, i.e. 192 multiply-adds (MACs).

# %%
print(f"\n{'filters':>7}  {'output shape':<18} {'params':>8} {'MACs':>12}")
for filters in (8, 16, 32, 64, 192, 256):
    out = C.Conv1x1(192, filters, rng=rng).forward(x)
    cost = conv_cost(192, filters, 28, 28, 1)
    assert out.shape[1:] == cost.out_shape      # the counter predicts the real shape
    print(f"{filters:>7}  {str(out.shape):<18} {cost.params:>8,} {cost.macs:>12,}")

# %% [markdown]
# Memory shrinks by the same factor: the 32-channel map holds 6x fewer numbers than the 192-channel one.

# %%
print(f"\nactivations: {x[0].size:,} numbers in, {28 * 28 * 32:,} out ({x[0].size / (28 * 28 * 32):.0f}x fewer)")

# %% [markdown]
# A photograph through 1x1 convolutions
# -------------------------------------
#
# scikit-learn ships two photographs (``sklearn.datasets.load_sample_image``, no download). As an
# array (N, C, H, W) a colour photo has 3 channels: red, green, blue. A grey image is one weighted sum
# of the three at every pixel (the ITU-R BT.601 weights 0.299, 0.587, 0.114): a 1x1 convolution with
# one filter.

# %%
try:
    from sklearn.datasets import load_sample_image
    photo = load_sample_image("china.jpg")                 # (427, 640, 3) uint8; needs Pillow too
except ImportError as error:
    photo = None
    print(f"\nno photograph: {error} (in a clone: pip install -e \".[examples]\")")

if photo is not None:
    image = photo.transpose(2, 0, 1)[None, :, ::2, ::2] / 255.0      # (1, 3, 214, 320), values in [0, 1]
    w_grey = np.array([[0.299, 0.587, 0.114]])                      # (C_out=1, C_in=3): one filter
    grey = C.conv1x1(image, w_grey)                                 # (1, 1, 214, 320)
    by_hand = 0.299 * image[:, 0] + 0.587 * image[:, 1] + 0.114 * image[:, 2]
    print(f"\nphotograph {image.shape} -> grey {grey.shape} with one 1x1 filter {w_grey.ravel()}; "
          f"max |conv1x1 - weighted sum by hand| = {np.max(np.abs(grey[:, 0] - by_hand)):.1e}")

# %% [markdown]
# Three colours to two channels, and back
# ---------------------------------------
#
# Which two channels keep the most of the colours? Treat every pixel's (r, g, b) as a point; PCA finds
# the directions in which those points vary most. Projecting onto the top two directions is a 1x1
# convolution with 2 filters (the directions are the rows of ``w``, the bias subtracts the mean colour),
# and mapping back is a 1x1 convolution with 3 filters. What the two channels cannot hold is the
# reconstruction error.

# %%
if photo is not None:
    pixels = image[0].reshape(3, -1).T                        # (H*W, 3): one row per pixel
    mean = pixels.mean(axis=0)
    variances, directions = np.linalg.eigh(np.cov(pixels, rowvar=False))   # ascending eigenvalues
    top = directions[:, ::-1][:, :2]                          # (3, 2): the two largest directions
    w_down, b_down = top.T, -top.T @ mean                     # 3 -> 2 channels
    w_up, b_up = top, mean                                    # 2 -> 3 channels
    two = C.conv1x1(image, w_down, b_down)                    # (1, 2, H, W)
    back = C.conv1x1(two, w_up, b_up)                         # (1, 3, H, W)
    kept = variances[::-1][:2].sum() / variances.sum()
    rms = np.sqrt(np.mean((back - image) ** 2))
    print(f"3 -> 2 channels with w {w_down.shape}, then 2 -> 3 with w {w_up.shape}: {two.shape} -> {back.shape}")
    print(f"the two channels keep {kept:.2%} of the colour variance; reconstruction error: RMS {rms * 255:.1f} "
          f"of 255, largest {np.max(np.abs(back - image)) * 255:.0f} of 255")
    one = C.conv1x1(C.conv1x1(image, top[:, :1].T, -top[:, :1].T @ mean), top[:, :1], mean)
    print(f"with one channel instead of two: RMS {np.sqrt(np.mean((one - image) ** 2)) * 255:.1f} of 255 "
          f"({variances[::-1][0] / variances.sum():.2%} of the variance)")

# %%
try:
    import matplotlib.pyplot as plt
except ImportError:          # the figures are optional: everything above still ran
    plt = None
    print('matplotlib is not installed: no figures (in a clone: pip install -e ".[examples]")')

if plt is not None:
    fig, ax = plt.subplots(figsize=(7, 3.2))
    filters = np.array([8, 16, 32, 64, 128, 192, 256])
    ax.plot(filters, [conv_cost(192, f, 28, 28, 1).macs / 1e6 for f in filters], "o-", label="MACs (millions)")
    ax.plot(filters, [conv_cost(192, f, 28, 28, 1).params / 1e3 for f in filters], "s--",
            label="parameters (thousands)")
    ax.set(xlabel="number of filters = output depth", title="A 1x1 convolution on 28x28x192: cost grows with depth")
    ax.legend()
    fig.tight_layout()
    plt.show()

if plt is not None and photo is not None:
    def as_rgb(a):
        return np.clip(a[0].transpose(1, 2, 0), 0, 1)

    fig, axes = plt.subplots(2, 3, figsize=(10, 5.2))
    panels = [(as_rgb(image), None, "the photograph: 3 channels (r, g, b)"),
              (grey[0, 0], "gray", "grey: ONE 1x1 filter [0.299, 0.587, 0.114]"),
              (as_rgb(back), None, f"3 -> 2 -> 3 channels: {kept:.1%} of the variance"),
              (two[0, 0], "gray", "channel 1 of 2 (PCA, a 1x1 filter)"),
              (two[0, 1], "gray", "channel 2 of 2 (PCA, a 1x1 filter)"),
              (np.abs(back - image)[0].max(axis=0) * 255, "magma", f"reconstruction error, RMS {rms * 255:.1f}/255")]
    for ax, (picture, cmap, title) in zip(axes.ravel(), panels):
        shown = ax.imshow(picture, cmap=cmap)
        ax.set_title(title, fontsize=9)
        ax.set_xticks([]), ax.set_yticks([])
    fig.colorbar(shown, ax=axes[1, 2], fraction=0.035)
    fig.suptitle("A photograph through 1x1 convolutions (sklearn's china.jpg, every second pixel)", fontsize=11)
    fig.tight_layout()
    plt.show()
