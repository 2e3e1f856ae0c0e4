"""
Example 10: ResNet's bottleneck, where 1x1 convolutions buy four times the width
================================================================================

He et al. 2015 ("Deep Residual Learning for Image Recognition", arXiv:1512.03385, Fig. 5) compare
two residual blocks of similar cost at 56x56: a *basic* block (two 3x3 convolutions on 64
channels) and a *bottleneck* (1x1 reduce 256 -> 64, 3x3 at 64, 1x1 expand 64 -> 256). The
bottleneck carries a 256-channel map, four times as wide, for about the same multiply-adds. The
times are those of the machine that ran the script: on the website, the machine that built the site.
The last section prices where ResNet-50 puts its stride: on a 1x1 (the paper) or on the 3x3
(torchvision's "v1.5"). Chapter: :doc:`/networks`.
"""

# %%
import argparse
import os

import numpy as np

import conv1x1 as C
from conv1x1 import models
from conv1x1.cost import human
from conv1x1.fast.timing import Measurement, measure

parser = argparse.ArgumentParser(description="ResNet's bottleneck, where 1x1 convolutions buy four times the width")
parser.add_argument("--repeat", type=int, help="timed runs per measurement (default 7; 3 when the website is built)")
args, _ = parser.parse_known_args()  # a notebook kernel passes arguments of its own: ignore them

REPEAT = args.repeat or (3 if os.environ.get("CONV1X1_GALLERY") else 7)    # fewer when the website is built
rng = np.random.default_rng(0)
basic = C.Sequential(
    C.Residual(C.Sequential(C.Conv2d(64, 64, 3, padding=1, bias=False, rng=rng, dtype=np.float32),
                            C.BatchNorm2d(64, dtype=np.float32), C.ReLU(),
                            C.Conv2d(64, 64, 3, padding=1, bias=False, rng=rng, dtype=np.float32),
                            C.BatchNorm2d(64, dtype=np.float32))),
    C.ReLU())
bottleneck = C.Bottleneck(256, 64, 256, rng=rng, dtype=np.float32)

# %% [markdown]
# Predicted: MACs and parameters by layer
# ---------------------------------------

# %%
basic_cost, bottleneck_cost = basic.cost(56, 56, in_channels=64), bottleneck.cost(56, 56)
print("bottleneck 256 -> 64 -> 64 -> 256:")
for row in bottleneck_cost.layers:
    if row.macs:
        print(f"  {row.name:<10} {row.kind:<9} {human(row.macs):>7} MACs  {human(row.params):>6} params")
print(f"basic block (64 channels): {basic_cost.macs:,} MACs, {basic_cost.params:,} params")
print(f"bottleneck (256 channels): {bottleneck_cost.macs:,} MACs, {bottleneck_cost.params:,} params")
ratio = bottleneck_cost.macs / basic_cost.macs
print(f"width {256 // 64}x, MACs {ratio:.2f}x")
one_by_one = sum(row.macs for row in bottleneck_cost.layers if row.category == "1x1")
print(f"the two 1x1 layers do {one_by_one / bottleneck_cost.macs:.0%} of the bottleneck's MACs")

# %% [markdown]
# Measured: forward + backward, medians of interleaved runs
# ---------------------------------------------------------

# %%
x64 = rng.standard_normal((1, 64, 56, 56)).astype(np.float32)
x256 = rng.standard_normal((1, 256, 56, 56)).astype(np.float32)


def step(block, x):
    out = block.forward(x)
    block.backward(np.ones_like(out))


def in_turns(candidates):
    """{name: Measurement} of {name: (fn, macs)}, timed in turns (one call of each, REPEAT times), so that
    other work on the machine slows all of them alike."""
    times = {name: [] for name in candidates}
    for turn in range(REPEAT):
        for name, (fn, macs) in candidates.items():
            times[name].append(measure(fn, macs, repeat=1, warmup=int(turn == 0)).seconds)
    return {name: Measurement(float(np.median(times[name])), macs, tuple(times[name]))
            for name, (_, macs) in candidates.items()}


timed = in_turns({"basic": (lambda: step(basic, x64), 3 * basic_cost.macs),
                  "bottleneck": (lambda: step(bottleneck, x256), 3 * bottleneck_cost.macs)})
t_basic, t_bottleneck = timed["basic"], timed["bottleneck"]
print(f"basic      : {t_basic}")
print(f"bottleneck : {t_bottleneck}")
time_ratio = t_bottleneck.seconds / t_basic.seconds
per_turn = np.array(t_bottleneck.times) / np.array(t_basic.times)
print(f"bottleneck / basic: {ratio:.2f}x the MACs, {time_ratio:.2f}x the time (ratio of the medians of {REPEAT} "
      f"interleaved turns; turn by turn from {per_turn.min():.2f}x to {per_turn.max():.2f}x)")

# %% [markdown]
# The rates of the two kinds of layer inside them, forward only
# -------------------------------------------------------------

# %%
reduce_1x1, conv_3x3 = bottleneck.residual.block[0], basic[0].block[0]
timed = in_turns({"1x1": (lambda: reduce_1x1.forward(x256), reduce_1x1.cost(56, 56).macs),
                  "3x3": (lambda: conv_3x3.forward(x64), conv_3x3.cost(56, 56).macs)})
t_1x1, t_3x3 = timed["1x1"], timed["3x3"]
print(f"1x1 reduce 256 -> 64 : {t_1x1}")
print(f"3x3 64 -> 64         : {t_3x3}")
rate_ratio = t_1x1.gmacs_per_second / t_3x3.gmacs_per_second

# %%
if time_ratio > 1.5 * ratio:
    print(f"The bottleneck costs more time than its MACs predict ({time_ratio:.2f}x vs {ratio:.2f}x): its "
          "activations are four times larger, and batch norm, ReLU and the residual add, which do no MACs, "
          "read and write every one of them.")
elif time_ratio < ratio / 1.5:
    print(f"The bottleneck is faster than its MACs predict ({time_ratio:.2f}x vs {ratio:.2f}x).")
else:
    print(f"Time follows the MACs ({time_ratio:.2f}x vs {ratio:.2f}x): four times the width for about the "
          "same price, as the paper designed it.")
if rate_ratio > 1.2:
    print(f"Its 1x1 layers are plain matrix multiplies and ran at {rate_ratio:.1f}x the rate of the 3x3 "
          "convolution (GMAC/s above): the MACs the 1x1 layers take over come cheap.")
elif rate_ratio < 1 / 1.2:
    print(f"Here the 1x1 layer ran at only {rate_ratio:.2f}x the rate of the 3x3 convolution (GMAC/s above): "
          "on this machine the MACs it takes over are not cheaper ones.")
else:
    print(f"The 1x1 and 3x3 layers ran at similar rates ({rate_ratio:.2f}x): MACs predict time here.")

# %% [markdown]
# Stride on the 1x1 or on the 3x3: ResNet-50's two versions
# ---------------------------------------------------------
#
# The first block of stages 3, 4 and 5 halves the map. The paper puts the stride on the block's first
# 1x1 convolution; torchvision's "v1.5" moves it to the 3x3. A strided 1x1 reads only one pixel in
# four (every second row and column) and never looks at the others; a strided 3x3's windows still
# cover every pixel. Moving the stride costs MACs: the first 1x1 then runs on the full-size map.

# %%
paper, v15 = models.resnet50(stride_on="1x1").cost(224, 224), models.resnet50(stride_on="3x3").cost(224, 224)
blocks = ["conv3_1", "conv4_1", "conv5_1"]
ROLES = {"0.0.0": "1x1 reduce", "0.0.3": "3x3", "0.0.6": "1x1 expand", "0.1.0": "1x1 shortcut"}


def block_rows(report, block):
    """{role: (kind, MACs)} of the convolutions of one downsampling block."""
    rows = {row.name[len(block) + 1:]: row for row in report.layers if row.name.startswith(block + ".")}
    return {role: (rows[key].kind, rows[key].macs) for key, role in ROLES.items()}


print(f"{'block':<8} {'layer':<13} {'stride on the 1x1 (paper)':>27} {'stride on the 3x3 (v1.5)':>27}")
for block in blocks:
    a, b = block_rows(paper, block), block_rows(v15, block)
    for role in ROLES.values():
        print(f"{block:<8} {role:<13} {a[role][0]:>12} {a[role][1]:>14,} {b[role][0]:>12} {b[role][1]:>14,}")
print(f"whole network at 224x224: {paper.macs:,} MACs with the stride on the 1x1, {v15.macs:,} on the 3x3 "
      f"({v15.macs / paper.macs - 1:+.1%})")

# %%
try:
    import matplotlib.pyplot as plt
except ImportError:          # the figures are optional: everything above still ran
    plt = None
    print('matplotlib is not installed: no figures (in a clone: pip install -e ".[examples]")')

same = all(block_rows(r, block) == block_rows(r, blocks[0]) for r in (paper, v15) for block in blocks)
print(f"the three downsampling blocks cost the same layer by layer: {same}")

if plt is not None:
    fig, (ax_grid, ax_bars) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1, 1.6]},
                                           layout="constrained")
    size = 8
    read_by_1x1 = np.zeros((size, size))
    read_by_1x1[::2, ::2] = 1                              # the pixels a stride-2 1x1 reads
    ax_grid.imshow(read_by_1x1, cmap="Oranges", vmin=-0.1, vmax=1.2)
    ax_grid.set_xticks(np.arange(-0.5, size), minor=True)
    ax_grid.set_yticks(np.arange(-0.5, size), minor=True)
    ax_grid.grid(which="minor", color="gray", lw=0.5)
    ax_grid.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    ax_grid.add_patch(plt.Rectangle((1.5, 1.5), 3, 3, fill=False, ec="tab:blue", lw=2.5))
    ax_grid.set_title("stride 2 on an 8x8 map: a 1x1 reads the 16\norange pixels only; one 3x3 window (blue)\n"
                      "covers 9, and the windows cover every pixel", fontsize=9)
    roles = list(ROLES.values())
    a, b = block_rows(paper, blocks[0]), block_rows(v15, blocks[0])
    x_pos = np.arange(len(roles))
    bars_a = ax_bars.bar(x_pos - 0.2, [a[r][1] / 1e6 for r in roles], 0.4,
                         label=f"stride on the 1x1 (paper): {paper.macs / 1e9:.2f}G MACs in all")
    bars_b = ax_bars.bar(x_pos + 0.2, [b[r][1] / 1e6 for r in roles], 0.4,
                         label=f"stride on the 3x3 (v1.5): {v15.macs / 1e9:.2f}G MACs in all")
    ax_bars.bar_label(bars_a, [a[r][0] for r in roles], fontsize=6.5, padding=2)
    ax_bars.bar_label(bars_b, [b[r][0] for r in roles], fontsize=6.5, padding=2)
    ax_bars.set_xticks(x_pos, roles)
    ax_bars.set(ylabel="million MACs", ylim=(0, 160),
                title="the first block of stages 3, 4 and 5 (each costs the same), layer by layer")
    ax_bars.legend(fontsize=8, loc="upper left")
    plt.show()
