"""
Example 14: ShuffleNet, grouped 1x1 convolutions and a channel shuffle
======================================================================

Zhang, Zhou, Lin, Sun 2017 ("ShuffleNet: An Extremely Efficient Convolutional Neural Network for
Mobile Devices", arXiv:1707.01083). In MobileNet and in ResNet's bottleneck the 1x1 convolutions do
most of the multiply-adds. ShuffleNet *groups* them: a 1x1 with g groups costs 1/g as much, and the
network spends the savings on width. Grouping alone would split the network into g towers that never
exchange information; a channel shuffle between two grouped layers mixes them again, at no MACs.
The times are those of the machine that ran the script: on the website, the machine that built the
site. Chapter: :doc:`/networks`.
"""

# %%
import argparse
import os

import numpy as np

import conv1x1 as C
from conv1x1 import models
from conv1x1.cost import human
from conv1x1.fast.timing import Measurement, measure
from conv1x1.gradcheck import check_layer

parser = argparse.ArgumentParser(description="ShuffleNet, grouped 1x1 convolutions and a channel shuffle")
parser.add_argument("--repeat", type=int, help="timed runs per measurement (default 9; 3 when the website is built)")
args, _ = parser.parse_known_args()  # a notebook kernel passes arguments of its own: ignore them

REPEAT = args.repeat or (3 if os.environ.get("CONV1X1_GALLERY") else 9)    # fewer when the website is built

# %% [markdown]
# A 1x1 convolution with g groups costs 1/g (240 -> 240 channels at 28x28, per image)
# -----------------------------------------------------------------------------------

# %%
dense = C.Conv1x1(240, 240, bias=False).cost(28, 28)
for g in (1, 2, 3, 4, 8):
    cost = C.Conv1x1(240, 240, groups=g, bias=False).cost(28, 28)
    saving = "dense" if g == 1 else f"{dense.macs / cost.macs:.0f}x fewer"
    print(f"groups {g}: {cost.macs:>10,} MACs, {cost.params:>6,} params  ({saving})")

# %% [markdown]
# Without the shuffle the groups never talk
# -----------------------------------------
#
# Two grouped 1x1 layers, 3 groups. Which input channels can change output channel 0? Exactly those
# where the gradient of output channel 0 is not zero. The shuffle deals the channels of each group out
# to all g groups of the next layer, so with at least g channels per group (true in every ShuffleNet
# stage) one shuffle reaches every input; with fewer it takes more.

# %%
def reaches(stack, channels):
    """The input channels on which output channel 0 depends (its gradient there is not zero)."""
    x = np.random.default_rng(0).standard_normal((1, channels, 3, 3))
    out = stack.forward(x)
    dout = np.zeros_like(out)
    dout[:, 0] = 1.0
    dx = stack.backward(dout)
    return [int(c) for c in np.flatnonzero(np.abs(dx).sum(axis=(0, 2, 3)))]


for channels in (9, 6):
    def grouped(seed, channels=channels):
        return C.Conv1x1(channels, channels, groups=3, bias=False, rng=seed)
    without = C.Sequential(grouped(1), grouped(2))
    once = C.Sequential(grouped(1), C.ChannelShuffle(3), grouped(2))
    per_group = channels // 3
    print(f"{channels} channels in 3 groups ({per_group} per group):")
    print(f"  grouped, grouped         : output channel 0 reaches input channels {reaches(without, channels)}")
    print(f"  grouped, shuffle, grouped: output channel 0 reaches input channels {reaches(once, channels)}")
    seen = len(reaches(once, channels))
    print(f"  {len(reaches(without, channels))} of {channels} inputs without the shuffle, {seen} of {channels} "
          f"with it" + ("" if seen == channels else f" (a group of {per_group} channels can feed only "
                                                     f"{per_group} of the 3 groups)"))

# %% [markdown]
# The same question for every output channel, drawn: a dark square at (output o, input c) means
# output channel o depends on input channel c (its gradient there is not zero), 9 channels in 3 groups.

# %%
def dependence(stack, channels):
    """(channels, channels) booleans: [o, c] is True when output channel o depends on input channel c."""
    x = np.random.default_rng(0).standard_normal((1, channels, 3, 3))
    out = stack.forward(x)
    rows = []
    for o in range(channels):
        dout = np.zeros_like(out)
        dout[:, o] = 1.0
        rows.append(np.abs(stack.backward(dout)).sum(axis=(0, 2, 3)) > 0)
    return np.array(rows)


def grouped9(seed):
    return C.Conv1x1(9, 9, groups=3, bias=False, rng=seed)


stacks = {"grouped 1x1, grouped 1x1": C.Sequential(grouped9(1), grouped9(2)),
          "grouped 1x1, shuffle, grouped 1x1": C.Sequential(grouped9(1), C.ChannelShuffle(3), grouped9(2))}
links = {name: dependence(stack, 9) for name, stack in stacks.items()}
for name, matrix in links.items():
    print(f"{name}: {int(matrix.sum())} of 81 (output, input) pairs connected")

try:
    import matplotlib.pyplot as plt
except ImportError:          # the figures are optional: everything else still runs
    plt = None
    print('matplotlib is not installed: no figures (in a clone: pip install -e ".[examples]")')

if plt is not None:
    fig, axes = plt.subplots(1, 2, figsize=(8, 4), layout="constrained")
    for ax, (name, matrix) in zip(axes, links.items()):
        ax.imshow(matrix, cmap="Greys", vmin=0, vmax=1.3)
        ax.set_xticks(range(9)), ax.set_yticks(range(9))
        for edge in (2.5, 5.5):
            ax.axvline(edge, color="tab:red", lw=0.8), ax.axhline(edge, color="tab:red", lw=0.8)
        ax.set(title=f"{name}\n{int(matrix.sum())} of 81 pairs connected", xlabel="input channel c",
               ylabel="output channel o")
    fig.suptitle("Which inputs reach which outputs (9 channels, 3 groups; red lines: group borders)")
    plt.show()

# %% [markdown]
# Table 1: the whole network at 224 x 224 for g = 1, 2, 3, 4, 8
# -------------------------------------------------------------
#
# The paper's "MFLOPs" are multiply-adds, i.e. MACs here. More groups buy wider layers for about the
# same cost. Table 1's numbers come out to the nearest million when the final FC layer is left out (a
# fit: the paper's other tables count it).

# %%
TABLE_1 = {1: 143, 2: 140, 3: 137, 4: 133, 8: 137}   # the paper's complexity, MFLOPs (= million MACs)
print(f"{'g':>2} {'Stage 2 width':>14} {'paper':>7} {'MACs without FC':>16} {'with FC':>12} {'params':>10}")
for g, paper in TABLE_1.items():
    report = models.shufflenet_v1(g).cost(224, 224)
    fc = report.layers[-1].macs
    width = report.children[4].out_shape[0]
    print(f"{g:>2} {width:>14} {paper:>6}M {report.macs - fc:>16,} {report.macs:>12,} {report.params:>10,}")

# %% [markdown]
# Where the multiply-adds go (g = 3)
# ----------------------------------

# %%
report = models.shufflenet_v1(3).cost(224, 224)
for kind, row in report.by_kind().items():
    if row["macs"]:
        print(f"{kind:<10} {human(row['macs']):>7} MACs  {row['macs_share']:6.1%}")

# %% [markdown]
# Measured: the same unit with dense (g = 1) and grouped (g = 3) 1x1s, forward + backward
# ---------------------------------------------------------------------------------------
#
# 240 channels at 28x28, a batch of 8, float32: the two units differ only in their 1x1s' groups.

# %%
rng = np.random.default_rng(0)
x = rng.standard_normal((8, 240, 28, 28)).astype(np.float32)
units = {g: C.ShuffleUnit(240, 240, groups=g, rng=rng, dtype=np.float32) for g in (1, 3)}


def step(unit):
    out = unit.forward(x)
    unit.backward(np.ones_like(out))


costs = {g: unit.cost(28, 28) for g, unit in units.items()}
turns = {g: [] for g in units}
for turn in range(REPEAT):        # in turns, so that other work on the machine slows both units alike
    for g, unit in units.items():
        turns[g].append(measure(lambda u=unit: step(u), 0, repeat=1, warmup=int(turn == 0)).seconds)
times = {g: Measurement(float(np.median(turns[g])), 8 * 3 * costs[g].macs, tuple(turns[g])) for g in units}
for g in units:
    print(f"g = {g}: {costs[g].macs:>10,} MACs per image; forward + backward {times[g]}")
predicted = costs[1].macs / costs[3].macs
measured = times[1].seconds / times[3].seconds
per_turn = np.array(turns[1]) / np.array(turns[3])
low, high = float(per_turn.min()), float(per_turn.max())
print(f"g = 1 over g = 3: {predicted:.2f}x the MACs, {measured:.2f}x the time (ratio of the medians of {REPEAT} "
      f"interleaved turns; turn by turn from {low:.2f}x to {high:.2f}x)")
if high > 2 * low:
    print(f"The turns spread widely ({low:.2f}x to {high:.2f}x: a busy machine?): trust the medians only roughly, "
          "and rerun to compare.")


# %% [markdown]
# Where the time goes inside the g = 3 unit: each layer of its branch, forward, on its own input
# ----------------------------------------------------------------------------------------------

# %%
layer_costs = costs[3].layers                       # the same rows as the branch's layers, in order
h, rows = x, []
for layer, row in zip(units[3][0].block, layer_costs):
    t = measure(lambda lay=layer, xin=h: lay.forward(xin), 8 * row.macs, repeat=REPEAT)
    rows.append((row.name, row.kind, row.macs, t.seconds))
    h = layer.forward(h)
total = sum(seconds for *_, seconds in rows)
for (name, kind, macs, seconds), row in zip(rows, layer_costs):
    print(f"  {name:<8} {kind:<22} -> {str(row.out_shape):<15} {human(macs):>6} MACs  {seconds * 1e3:7.2f} ms  "
          f"{seconds / total:6.1%}")
grouped_time = sum(seconds for _, kind, _, seconds in rows if "grouped" in kind) / total
grouped_macs = sum(macs for _, kind, macs, _ in rows if "grouped" in kind) / costs[3].macs
slowest = max(rows, key=lambda r: r[3])
print(f"Forward, the two grouped 1x1s do {grouped_macs:.0%} of the unit's MACs and took {grouped_time:.0%} of "
      f"its branch's time in this run; the slowest layer was {slowest[0]} ({slowest[1]}, {slowest[3] / total:.0%}).")
if grouped_time < grouped_macs / 2:
    print("So time does not follow the MACs inside the unit: grouping shrank the 1x1s, but not the batch norms, "
          "ReLU, shuffle and depthwise 3x3 around them, which do few or no MACs yet read and write every "
          "activation." + (" That is why the unit's time falls short of its MAC ratio." if measured < 0.8 * predicted
                           else ""))
else:
    print("Here the grouped 1x1s are still where the unit spends most of its time, as their MACs predict.")

# %% [markdown]
# Check the unit's gradients yourself (float64, batch norm with fixed statistics)
# -------------------------------------------------------------------------------
#
# Batch norm's beta starts at 0. With 3 bottleneck channels in 3 groups, each channel of the last 1x1
# reads one channel, so a window that the first ReLU zeroed stays exactly 0 down to the final ReLU's
# kink, where no derivative exists. Random betas move the check off the kinks (as ``check_layer`` advises).

# %%
unit = C.ShuffleUnit(6, 12, groups=3, stride=2, rng=0).eval()
for name, param in unit.params.items():
    if name.endswith("beta"):
        param[...] = np.random.default_rng(2).normal(0, 0.5, param.shape)
errors = check_layer(unit, np.random.default_rng(1).standard_normal((2, 6, 7, 7)))
worst = max(errors, key=errors.get)
print(f"stride-2 unit, {len(errors)} arrays checked: largest relative error {errors[worst]:.1e} ({worst}), "
      f"bound 1e-7: {'pass' if errors[worst] < 1e-7 else 'FAIL'}")
