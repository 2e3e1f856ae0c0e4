"""
Example 13: Network in Network on real handwritten digits
=========================================================

Lin, Chen and Yan (2013), "Network In Network", arXiv:1312.4400, put a small multilayer
perceptron at every pixel: a KxK convolution followed by 1x1 convolutions with ReLUs between
them (an "mlpconv" block). Their classifier has no fully connected layer: a 1x1 convolution
to one channel per class, then global average pooling turns each channel into one score.

Here we train such a network on scikit-learn's 1,797 handwritten digits (8x8 grey images,
no download), and compare it with the same network whose 1x1 layers are linear (no ReLU
between them) and with one that has no 1x1 layers at all. Same data, seed, optimiser and epochs.

Needs scikit-learn (in a clone: ``pip install -e ".[examples]"``). The figures (learning curves, and the
trained network's feature maps before and after its 1x1 layers) need matplotlib; ``--plot FILE.png``
also saves the learning curves. Training times are those of the machine that ran the script: on the
website, the machine that built the site. Chapter: :doc:`/training`.
"""

# %%
import argparse
import time

import numpy as np

import conv1x1 as C
from conv1x1 import models
from conv1x1.training.data import load_digits, train_test_split
from conv1x1.training.losses import softmax_cross_entropy
from conv1x1.training.optim import SGD
from conv1x1.training.train import fit

parser = argparse.ArgumentParser(description="Network in Network on handwritten digits")
parser.add_argument("--epochs", type=int, default=25, help="training epochs per network (default %(default)s)")
parser.add_argument("--plot", metavar="FILE", help="also save the learning curves to FILE (needs matplotlib)")
args, _ = parser.parse_known_args()  # tolerate a notebook kernel's own arguments

x, y = load_digits()                                             # (1797, 1, 8, 8) in [0, 1], labels 0..9
x_train, x_test, y_train, y_test = train_test_split(x, y, test_fraction=0.2, seed=0)
print(f"digits: {len(x_train)} training and {len(x_test)} test images of 1x8x8, 10 classes")

# %% [markdown]
# Three networks
# --------------
#
# Each has two blocks: a 3x3 convolution, then (NiN) two 1x1 convolutions, then 2x2 max pooling
# after the first block. The second block ends in 10 channels, averaged over the image.
# ``conv1x1.models.nin`` builds all three: its ``one_by_one`` ("relu", "linear" or "none") picks which.

# %%
KINDS = {"nin": "relu", "linear 1x1": "linear", "no 1x1": "none"}   # our name -> models.nin's one_by_one
net = models.nin(rng=0)
print(f"{net}:")
for name, layer in zip(net.names, net):
    print(f"  {name:<18} {layer}")

# %% [markdown]
# Training: the same loop for all three (``conv1x1.training.train.fit``)
# ----------------------------------------------------------------------
#
# SGD with momentum 0.9, learning rate 0.03, weight decay 1e-4, batches of 32, fixed seeds.

# %%
results = {}
for kind, one_by_one in KINDS.items():
    model = models.nin(one_by_one=one_by_one, rng=0)
    cost = model.cost(8, 8, in_channels=1)
    optimizer = SGD(model.parameters(), lr=0.03, momentum=0.9, weight_decay=1e-4)
    print(f"\n{kind}: {cost.params:,} parameters, {cost.macs:,} MACs per image")
    start = time.perf_counter()
    history = fit(model, softmax_cross_entropy, optimizer, x_train, y_train, epochs=args.epochs,
                  batch_size=32, seed=0, test_data=(x_test, y_test))
    results[kind] = dict(model=model, params=cost.params, macs=cost.macs, seconds=time.perf_counter() - start,
                         accuracy=history[-1].test_accuracy, history=history)

# %% [markdown]
# What the 1x1 layers and their non-linearity bought
# --------------------------------------------------

# %%
print(f"\n{'network':<12} {'params':>8} {'MACs/image':>11} {'test accuracy':>14} {'train time (s)':>15}")
for kind, r in results.items():
    print(f"{kind:<12} {r['params']:>8,} {r['macs']:>11,} {r['accuracy']:>14.1%} {r['seconds']:>15.1f}")
total = sum(r["seconds"] for r in results.values())
print(f"total training time {total:.1f} s for {args.epochs} epochs each")

n_test = len(y_test)


def compare(better, worse, what):
    """One sentence from two measured accuracies: how many test images `what` gained or lost."""
    a, b = results[better], results[worse]
    images = round((a["accuracy"] - b["accuracy"]) * n_test)
    if a["params"] == b["params"] and a["macs"] == b["macs"]:
        price = "at no extra parameters or MACs"
    else:
        price = f"for {a['params'] - b['params']:+,} parameters and {a['macs'] - b['macs']:+,} MACs per image"
    both = f"{b['accuracy']:.1%} -> {a['accuracy']:.1%}"
    if images > 0:
        return f"{what} {images} more of {n_test} test images right ({both}), {price}"
    if images < 0:
        return f"{what} {-images} fewer of {n_test} test images right ({both}), {price}"
    return f"{what} no difference on the {n_test} test images ({both}), {price}"


print(compare("linear 1x1", "no 1x1", "the 1x1 layers (linear, no ReLU between them):"))
print(compare("nin", "linear 1x1", "their non-linearity (ReLU between the 1x1 layers):"))
print(compare("nin", "no 1x1", "both together (NiN versus no 1x1 layers):"))
nin = results["nin"]
verdict = "reaches" if nin["accuracy"] >= 0.97 else "does NOT reach"
print(f"NiN {verdict} 97%: test accuracy {nin['accuracy']:.1%} after {nin['seconds']:.1f} s of training")
print("(one split, one seed: differences of a few images may not repeat with another seed)")

# %% [markdown]
# The same training on the engine room
# ------------------------------------
#
# Inside ``with C.fast.enabled():`` every layer calls the engine room's functions (``conv1x1.fast``; in this
# network its max pooling and ReLU backward), which compute the same numbers up to rounding. The NiN again,
# same seed, timed like the plain run above:

# %%
with C.fast.enabled():
    fast_model = models.nin(rng=0)
    optimizer = SGD(fast_model.parameters(), lr=0.03, momentum=0.9, weight_decay=1e-4)
    start = time.perf_counter()
    fast_history = fit(fast_model, softmax_cross_entropy, optimizer, x_train, y_train, epochs=args.epochs,
                       batch_size=32, seed=0, test_data=(x_test, y_test))
    fast_seconds = time.perf_counter() - start
print(f"NiN training time on this machine, this run: plain path {nin['seconds']:.1f} s, fast path "
      f"{fast_seconds:.1f} s ({nin['seconds'] / fast_seconds:.2f}x); test accuracy {nin['accuracy']:.1%} plain, "
      f"{fast_history[-1].test_accuracy:.1%} fast")

# %% [markdown]
# Learning curves (optional: needs matplotlib)
# --------------------------------------------

# %%
try:
    import matplotlib.pyplot as plt
except ImportError:          # the figures are optional: everything above still ran
    plt = None
    print('\nmatplotlib is not installed: no plot (in a clone: pip install -e ".[examples]")')

if plt is not None:
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for kind, r in results.items():
        epochs = [h.epoch + 1 for h in r["history"]]
        ax_loss.plot(epochs, [h.train_loss for h in r["history"]], label=kind)
        ax_acc.plot(epochs, [h.test_accuracy for h in r["history"]], label=kind)
    ax_loss.set(xlabel="epoch", ylabel="training loss (mean over the epoch)", yscale="log")
    ax_acc.set(xlabel="epoch", ylabel="test accuracy", ylim=(0.8, 1.0))
    ax_acc.axhline(0.97, color="gray", ls="--", lw=0.8)
    ax_acc.legend()
    fig.suptitle("Network in Network on 8x8 digits (Lin, Chen, Yan 2013)")
    fig.tight_layout()
    if args.plot:
        fig.savefig(args.plot, dpi=110)
        print(f"\nplot saved to {args.plot}")
    plt.show()

# %% [markdown]
# Inside the trained network: feature maps before and after the 1x1 layers
# ------------------------------------------------------------------------
#
# One test digit through the trained NiN, layer by layer. The 3x3 convolution (and its ReLU) makes 32
# maps of 8x8; the two 1x1 layers then recombine those 32 values at every pixel into 32 new ones (an
# MLP per pixel: the maps' shapes stay, their content changes). At the end, the last 1x1 layer makes
# one 4x4 map per class, and global average pooling turns each into the class's score.

# %%
nin_model = results["nin"]["model"].eval()
digit = x_test[:1]                                            # (1, 1, 8, 8)
maps, h = [], digit
for layer in nin_model.children:
    h = layer.forward(h)
    maps.append(h)
layers = [type(layer).__name__ for layer in nin_model.children]
before, after = maps[1], maps[5]          # after 3x3 -> ReLU; after 1x1 -> ReLU -> 1x1 -> ReLU
class_maps, scores = maps[-2][0], maps[-1][0, :, 0, 0]      # (10, 4, 4) and (10,)
print(f"layers: {' -> '.join(layers)}")
print(f"test digit labelled {y_test[0]}: before the 1x1 layers {before.shape}, after them {after.shape}, "
      f"class maps {class_maps.shape}; highest score: class {int(np.argmax(scores))}")

if plt is not None:
    shown = 8
    fig, axes = plt.subplots(4, 10, figsize=(11, 5.2))
    for ax in axes.ravel():
        ax.set_xticks([]), ax.set_yticks([])
        ax.axis("off")
    axes[0, 0].imshow(digit[0, 0], cmap="gray_r")
    axes[0, 0].axis("on")
    axes[0, 0].set_title(f"input ({y_test[0]})", fontsize=8)
    for i in range(shown):
        axes[1, i].imshow(before[0, i], cmap="viridis")
        axes[2, i].imshow(after[0, i], cmap="viridis")
    axes[1, 0].set_title("after 3x3 -> ReLU (maps 0-7 of 32): BEFORE the 1x1 layers", fontsize=8, loc="left")
    axes[2, 0].set_title("after 1x1 -> ReLU -> 1x1 -> ReLU (maps 0-7 of 32): AFTER them", fontsize=8, loc="left")
    for c in range(10):
        axes[3, c].imshow(class_maps[c], cmap="magma")
        axes[3, c].set_title(f"class {c}: {scores[c]:.1f}", fontsize=7,
                             weight="bold" if c == np.argmax(scores) else None)
    axes[3, 0].text(-0.5, 4.6, "the 10 class maps (4x4), each titled with its average: the class's score", fontsize=8,
                    va="top")
    fig.suptitle("One test digit through the trained Network in Network", fontsize=11)
    plt.show()
