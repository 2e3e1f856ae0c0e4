"""
Example 17: a linear bottleneck against a ReLU bottleneck, trained on digits
============================================================================

MobileNetV2 (Sandler et al. 2018, arXiv:1801.04381) builds its network of *inverted residual* blocks: a
1x1 convolution expands a thin map (the bottleneck) t times, a 3x3 depthwise convolution filters it, and
a second 1x1 convolution projects it back to the thin map, which is added to the block's input. The
projecting 1x1 has no ReLU after it, a *linear bottleneck*: example 16 showed what a ReLU does in few
channels. The paper's Figure 6(a) trains both on ImageNet and finds the linear one better.

Here the two networks are the same in every layer, weight and seed except one ReLU after each
projecting 1x1, and both are trained on scikit-learn's 1,797 handwritten digits (8x8 pixels) with the
same data, optimiser and epochs, for several seeds. The script prints every seed's test accuracy and the
difference with its spread, whatever it is. With the default few epochs neither network has finished
learning; ``--epochs 20 --seeds 5`` trains longer (several minutes).

Needs scikit-learn (in a clone: ``pip install -e ".[examples]"``). The figure (optional) needs matplotlib.
Chapter: :doc:`/today`.
"""

# %%
import argparse
import time

import numpy as np

import conv1x1 as C
from conv1x1.training.data import load_digits, train_test_split
from conv1x1.training.losses import softmax_cross_entropy
from conv1x1.training.optim import SGD
from conv1x1.training.train import fit

parser = argparse.ArgumentParser(description="linear bottleneck versus ReLU bottleneck (MobileNetV2's inverted "
                                             "residual) on handwritten digits")
parser.add_argument("--epochs", type=int, default=6, help="training epochs per network (default %(default)s)")
parser.add_argument("--seeds", type=int, default=3, help="seeds per network (default %(default)s)")
parser.add_argument("--width", type=int, default=8, help="bottleneck channels (default %(default)s)")
parser.add_argument("--expansion", type=int, default=4, help="expansion factor t (default %(default)s)")
args, _ = parser.parse_known_args()  # tolerate a notebook kernel's own arguments

x, y = load_digits()                                             # (1797, 1, 8, 8) in [0, 1], labels 0..9
x_train, x_test, y_train, y_test = train_test_split(x, y, test_fraction=0.2, seed=0)
print(f"digits: {len(x_train)} training and {len(x_test)} test images of 1x8x8, 10 classes")

# %% [markdown]
# Two networks, one ReLU apart
# ----------------------------
#
# A 3x3 stem to ``width`` channels, two inverted residual blocks (1x1 expand to ``t * width`` channels,
# batch norm, ReLU; 3x3 depthwise, batch norm, ReLU; 1x1 project back to ``width``, batch norm; then
# the block's input added), a 2x2 max pooling between them, and Network in Network's classifier: a 1x1
# convolution to 10 channels and a global average. ``relu_bottleneck=True`` adds a ReLU after each
# projecting 1x1's batch norm: the only difference.
#
# The library's ``C.InvertedResidual`` (``conv1x1.models``, the block of ``models.mobilenet_v2``) is this
# block with ReLU6 in place of ReLU, and always linear: it has no ReLU bottleneck to compare with, so
# both blocks are written out here from their layers.

# %%


def conv_bn(c_in, c_out, k, rng, groups=1, relu=True):
    """[conv (no bias: batch norm follows), batch norm, ReLU], as in MobileNetV2."""
    conv = (C.Conv1x1(c_in, c_out, bias=False, rng=rng) if k == 1 else
            C.Conv2d(c_in, c_out, k, padding=k // 2, groups=groups, bias=False, rng=rng))
    return [conv, C.BatchNorm2d(c_out)] + ([C.ReLU()] if relu else [])


def inverted_residual(width, t, rng, relu_bottleneck):
    """1x1 expand -> 3x3 depthwise -> 1x1 project (linear unless relu_bottleneck), plus the input."""
    wide = t * width
    return C.Residual(C.Sequential(*conv_bn(width, wide, 1, rng),
                                   *conv_bn(wide, wide, 3, rng, groups=wide),        # depthwise
                                   *conv_bn(wide, width, 1, rng, relu=relu_bottleneck)))


def network(relu_bottleneck, seed):
    rng = np.random.default_rng(seed)
    return C.Sequential(*conv_bn(1, args.width, 3, rng),
                        inverted_residual(args.width, args.expansion, rng, relu_bottleneck),
                        C.MaxPool2d(2),                                               # 8x8 -> 4x4
                        inverted_residual(args.width, args.expansion, rng, relu_bottleneck),
                        C.Conv1x1(args.width, 10, rng=rng), C.GlobalAvgPool2d())      # (N, 10, 1, 1) scores


KINDS = {"linear bottleneck": False, "ReLU bottleneck": True}
for kind, relu in KINDS.items():
    cost = network(relu, 0).cost(8, 8, in_channels=1)
    print(f"{kind:<18}: {cost.params:,} parameters, {cost.macs:,} MACs per image")
print(network(False, 0))

# %% [markdown]
# Training: same data, seeds, optimiser and epochs
# ------------------------------------------------
#
# SGD with momentum 0.9, learning rate 0.05, weight decay 1e-4, batches of 64. Seed s draws both
# networks' initial weights (the same ones: the ReLU has none) and the batches' order. The engine room
# (``C.fast.enabled()``) runs the same arithmetic faster.

# %%
results = {kind: [] for kind in KINDS}
start = time.perf_counter()
with C.fast.enabled():
    for seed in range(args.seeds):
        for kind, relu in KINDS.items():
            model = network(relu, seed)
            optimizer = SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
            history = fit(model, softmax_cross_entropy, optimizer, x_train, y_train, epochs=args.epochs,
                          batch_size=64, seed=seed, test_data=(x_test, y_test), log=lambda *_: None)
            results[kind].append({"model": model.eval(), "history": history,
                                  "accuracy": history[-1].test_accuracy})
        print(f"seed {seed}: " + ", ".join(f"{kind} {results[kind][-1]['accuracy']:.1%}" for kind in KINDS))
seconds = time.perf_counter() - start
print(f"{2 * args.seeds} trainings of {args.epochs} epochs in {seconds:.1f} s on this machine")

# %% [markdown]
# The measured difference
# -----------------------
#
# The test set holds 359 images, so one image is 0.28 points. The difference per seed pairs the two
# networks that started from the same weights.

# %%
linear = np.array([r["accuracy"] for r in results["linear bottleneck"]])
relu = np.array([r["accuracy"] for r in results["ReLU bottleneck"]])
difference = linear - relu
n_test = len(y_test)
ddof = 1 if args.seeds > 1 else 0                            # the sample standard deviation
print(f"\n{'':<18} {'mean':>6} {'std':>6} {'min':>6} {'max':>6}   (test accuracy over {args.seeds} seeds, "
      f"{args.epochs} epochs)")
for kind, values in (("linear bottleneck", linear), ("ReLU bottleneck", relu)):
    print(f"{kind:<18} {values.mean():>6.1%} {values.std(ddof=ddof):>6.1%} {values.min():>6.1%} {values.max():>6.1%}")
print(f"{'linear - ReLU':<18} {difference.mean():>+6.1%} {difference.std(ddof=ddof):>6.1%} {difference.min():>+6.1%} "
      f"{difference.max():>+6.1%}   (points, per seed)")
wins = int(np.sum(difference > 0))
losses = int(np.sum(difference < 0))
if difference.mean() > 0:
    verdict = f"the linear bottleneck scored higher on average, by {100 * difference.mean():.1f} points"
elif difference.mean() < 0:
    verdict = f"the ReLU bottleneck scored higher on average, by {-100 * difference.mean():.1f} points"
else:
    verdict = "the two scored the same on average"
print(f"measured: {verdict} ({round(difference.mean() * n_test):+d} of {n_test} test images); higher in {wins} of "
      f"{args.seeds} seeds, lower in {losses}, equal in {args.seeds - wins - losses}")
within = abs(difference.mean()) < 2 * difference.std(ddof=ddof) / np.sqrt(args.seeds)
if args.seeds < 5 or within:
    reason = "a difference within twice its standard error" if within else f"only {args.seeds} seeds"
    more = [f"--seeds {5 if args.seeds < 5 else 2 * args.seeds}"]                # never the run's own settings
    if args.epochs < 20:
        more.append("--epochs 20")
    print(f"{reason}: read it as a hint, not a result (rerun with {' '.join(more)} to narrow it)")

# %% [markdown]
# What the ReLU removes
# ---------------------
#
# The first block's projecting 1x1 (after its batch norm) on the test images, in the first seed's two
# trained networks: how many of the values the bottleneck carries are negative, which a ReLU there
# sets to zero.

# %%


def bottleneck_values(model, x):
    """The first inverted residual's block output (before the input is added): (N, width, 8, 8)."""
    h = x
    for layer in model.children:
        if isinstance(layer, C.Residual):
            return layer.block.forward(h)
        h = layer.forward(h)
    raise ValueError("no Residual block in the model")


for kind in KINDS:
    values = bottleneck_values(results[kind][0]["model"], x_test)
    print(f"{kind:<18}: {np.mean(values < 0):5.1%} of the bottleneck's values negative, "
          f"{np.mean(values == 0):5.1%} exactly zero")

# %% [markdown]
# Learning curves (optional: needs matplotlib)
# --------------------------------------------

# %%
try:
    import matplotlib.pyplot as plt
except ImportError:          # the figures are optional: everything above still ran
    plt = None
    print('\nmatplotlib is not installed: no figure (in a clone: pip install -e ".[examples]")')

if plt is not None:
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for (kind, runs), color in zip(results.items(), ("tab:blue", "tab:red")):
        for i, r in enumerate(runs):
            epochs = [h.epoch + 1 for h in r["history"]]
            ax.plot(epochs, [h.test_accuracy for h in r["history"]], color=color, alpha=0.7,
                    label=kind if i == 0 else None)
    ax.set(xlabel="epoch", ylabel="test accuracy", ylim=(0, 1),
           title="Inverted residuals on 8x8 digits: linear vs ReLU bottleneck (one line per seed)")
    ax.legend()
    fig.tight_layout()
    plt.show()
