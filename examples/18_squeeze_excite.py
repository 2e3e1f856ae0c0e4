"""
Example 18: squeeze-and-excitation, two 1x1 convolutions that gate the channels
===============================================================================

Hu, Shen and Sun (2018), "Squeeze-and-Excitation Networks", arXiv:1709.01507, weight each channel of a
feature map by a number between 0 and 1 computed from the whole map: *squeeze* every channel to its
global average (a vector of C numbers per image), *excite* it through two small fully connected
layers (C -> C/r, ReLU, C/r -> C, sigmoid), and multiply each channel by its gate, ``x * s[:, :, None,
None]``. On a (N, C, 1, 1) map a 1x1 convolution *is* a fully connected layer, so the two layers are
1x1 convolutions, as in torchvision's and timm's SE modules. EfficientNet (Tan and Le 2019) puts one in
every block.

Here the gate runs on two photographs that ship with scikit-learn (``load_sample_image``; without
scikit-learn and Pillow the script makes two images of its own). The features are made by a 3x3
convolution with random weights and a ReLU, and the SE weights are random too: the script shows what the
gate computes, not what a trained one has learned. The figures (optional) need matplotlib.
Chapter: :doc:`/today`.
"""

# %%
import argparse

import numpy as np

import conv1x1 as C

parser = argparse.ArgumentParser(description="squeeze-and-excitation on two photographs: the gates and the "
                                             "gated channels; the two 1x1 convolutions equal a dense layer")
parser.add_argument("--channels", type=int, default=8, help="feature channels C (default %(default)s)")
parser.add_argument("--reduction", type=int, default=4, help="SE reduction ratio r (default %(default)s)")
args, _ = parser.parse_known_args()  # tolerate a notebook kernel's own arguments

# %% [markdown]
# Two photographs as a batch (N, 3, H, W)
# ---------------------------------------

# %%
try:
    from sklearn.datasets import load_sample_image
    photos = np.stack([load_sample_image(name) for name in ("china.jpg", "flower.jpg")])   # (2, 427, 640, 3)
    names = ["china.jpg", "flower.jpg"]
except ImportError as error:             # scikit-learn or Pillow missing: two images made here
    print(f"no photograph ({error}); two made-up images instead (in a clone: pip install -e \".[examples]\")")
    rows, cols = np.mgrid[0:427, 0:640] / 640
    photos = np.stack([np.stack([rows, cols, np.sin(20 * rows) ** 2], axis=-1),
                       np.stack([np.cos(15 * cols) ** 2, 1 - rows, rows * cols], axis=-1)]) * 255
    names = ["stripes", "waves"]
x = photos.transpose(0, 3, 1, 2) / 255.0                      # (2, 3, 427, 640): NHWC -> NCHW, in [0, 1]
x, _ = C.avgpool2d_forward(x, 4)                              # (2, 3, 106, 160): 4x4 averages, to stay quick
print(f"images: {', '.join(names)} as x {x.shape} (N, C, H, W), averaged over 4x4 blocks")

rng = np.random.default_rng(0)
features = C.Sequential(C.Conv2d(3, args.channels, 3, padding=1, rng=rng), C.ReLU())
u = features.forward(x)                                       # (2, C, 106, 160): the map to be gated
print(f"features: a random 3x3 convolution and a ReLU give u {u.shape}")

# %% [markdown]
# Squeeze, excite, scale
# ----------------------
#
# ``C.SqueezeExcite`` (``conv1x1.models.SqueezeExcite``) is the block: its layers are the squeeze,
# ``C.GlobalAvgPool2d`` ((N, C, H, W) -> (N, C, 1, 1)), and the excitation, two 1x1 convolutions on that
# 1 x 1 map with a ReLU between (the paper's; EfficientNet's SE has a SiLU) and a sigmoid after. The scale,
# ``C.channel_gate_forward``, multiplies each channel of u by its gate: ``u * s[:, :, None, None]``.
# Below, the steps one by one, then the block's own forward.

# %%
hidden = max(1, args.channels // args.reduction)
se = C.SqueezeExcite(args.channels, hidden, activation="relu", rng=rng)
squeeze, first, relu, second, sigmoid = se.children          # pool, 1x1 (C -> C/r), ReLU, 1x1 (C/r -> C), sigmoid

z = squeeze.forward(u)                                        # (N, C, 1, 1): one average per channel
s = sigmoid.forward(second.forward(relu.forward(first.forward(z))))[:, :, 0, 0]   # (N, C): the gates, in (0, 1)
gated, _ = C.channel_gate_forward(u, s)                       # (N, C, H, W)
print(f"squeeze z {z.shape} -> excite ({args.channels} -> {hidden} -> {args.channels}) -> gates s {s.shape} "
      f"-> gated {gated.shape}")
for name, averages, gates in zip(names, z[:, :, 0, 0], s):
    print(f"  {name:<11} channel averages " + " ".join(f"{a:5.2f}" for a in averages))
    print(f"  {'':<11} gates            " + " ".join(f"{g:5.2f}" for g in gates))
spread = np.abs(s[0] - s[1])
print(f"the gates depend on the image: they differ between the two by up to {spread.max():.2f} "
      f"(channel {int(np.argmax(spread))})")
check = np.max(np.abs(gated.mean(axis=(2, 3)) - s * z[:, :, 0, 0]))
print(f"each gated channel's average is its gate times its old average: max |difference| = {check:.1e}")
block = np.max(np.abs(se.forward(u) - gated))
print(f"C.SqueezeExcite's own forward gives the same gated map: max |se.forward(u) - gated| = {block:.1e}")

# %% [markdown]
# Two 1x1 convolutions on a 1 x 1 map are a fully connected layer
# ---------------------------------------------------------------
#
# On (N, C, 1, 1) a 1x1 convolution computes ``w @ z + b`` for each image: a dense layer on the vector
# z. ``C.Linear`` is that dense layer (``z @ w.T + b`` on (N, C) rows, after ``C.Flatten``); with the two
# 1x1 convolutions' weights, the excitation written with it gives the same gates.

# %%
fc1, fc2 = C.Linear(args.channels, hidden), C.Linear(hidden, args.channels)
fc1.params, fc2.params = first.params, second.params          # the same (C_out, C_in) weights and biases
dense_excite = C.Sequential(C.Flatten(), fc1, C.ReLU(), fc2, C.Sigmoid())
dense = dense_excite.forward(z)                               # (N, C, 1, 1) -> (N, C): the gates again
print(f"max |gates from 1x1 convolutions - gates from dense layers| = {np.max(np.abs(dense - s)):.1e}")
se_params = sum(p.size for p in se.params.values())
print(f"the excitation's {se_params} parameters ({args.channels}x{hidden} + {hidden} + {hidden}x{args.channels} + "
      f"{args.channels}) cost {2 * args.channels * hidden:,} MACs per image: the map has "
      f"{u[0].size:,} values, and the gate multiplies each once")

# %% [markdown]
# The gates and the gated channels (optional: needs matplotlib)
# -------------------------------------------------------------
#
# Left, each image's gates; right, the first image's channels before (top) and after (bottom) the gate,
# drawn on one colour scale so that a small gate darkens its channel.

# %%
try:
    import matplotlib.pyplot as plt
except ImportError:          # the figures are optional: everything above still ran
    plt = None
    print('\nmatplotlib is not installed: no figure (in a clone: pip install -e ".[examples]")')

if plt is not None:
    fig, axes = plt.subplots(1, 3, figsize=(12, 3), gridspec_kw={"width_ratios": [1, 1, 1.3]})
    for ax, photo, name in zip(axes[:2], photos, names):
        ax.imshow(photo.astype(np.uint8))
        ax.set_title(name, fontsize=9)
        ax.axis("off")
    width = 0.4
    for i, (name, gates) in enumerate(zip(names, s)):
        axes[2].bar(np.arange(args.channels) + (i - 0.5) * width, gates, width, label=name)
    axes[2].set(xlabel="channel", ylabel="gate s (sigmoid)", ylim=(0, 1), xticks=range(args.channels),
                title="SE gates, per image")
    axes[2].legend(fontsize=8)
    fig.tight_layout()
    plt.show()

    shown = min(args.channels, 8)
    fig, axes = plt.subplots(2, shown, figsize=(1.9 * shown, 3.4))
    top = u[0, :shown].max()
    for c in range(shown):
        axes[0, c].imshow(u[0, c], cmap="magma", vmin=0, vmax=top)
        axes[1, c].imshow(gated[0, c], cmap="magma", vmin=0, vmax=top)
        axes[0, c].set_title(f"channel {c}", fontsize=8)
        axes[1, c].set_title(f"x {s[0, c]:.2f}", fontsize=8)
    for ax in axes.ravel():
        ax.axis("off")
    fig.suptitle(f"{names[0]}: channels before (top) and after (bottom) the gate, one colour scale", fontsize=10)
    fig.tight_layout()
    plt.show()
