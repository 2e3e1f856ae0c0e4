# %% [markdown]
# # 4. The bottleneck: a 1x1 reduction before a 5x5 convolution
#
# Map a 28x28x192 feature map to 28x28x32 with 5x5 filters. Directly, every output value is a
# dot product over a 5x5x192 window: 4,800 multiply-adds (MACs). Reduce the depth to 16 with a
# 1x1 convolution first, and the 5x5 filters only see 5x5x16 = 400 numbers. The counter predicts
# the saving; then we time the real layers on real arrays to see how much of it shows up.
#
# Run with `--plot FILE.png` to save a plot (needs matplotlib; without it the script only prints).

# %%
import argparse

import numpy as np

import conv1x1 as C
from conv1x1.cost import bottleneck_comparison, human, measure

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--plot", default="bottleneck.png", help="where to save the plot (default %(default)s)")
parser.add_argument("--repeat", type=int, default=5, help="timed runs per layer (median is reported)")
args, _ = parser.parse_known_args()  # tolerate a notebook kernel's own arguments

rng = np.random.default_rng(0)
x = rng.standard_normal((1, 192, 28, 28)).astype(np.float32)

# %% [markdown]
# ## Predicted: the cost counter (1 MAC = 2 FLOPs)

# %%
comparison = bottleneck_comparison(192, 16, 32, 28, 28, kernel_size=5)
print(comparison)

# %% [markdown]
# ## Measured: the same two computations on real float32 arrays

# %%
direct = C.Conv2d(192, 32, 5, padding="same", rng=rng, dtype=np.float32)


def bottleneck(width):
    return C.Sequential(C.Conv1x1(192, width, rng=rng, dtype=np.float32),
                        C.Conv2d(width, 32, 5, padding="same", rng=rng, dtype=np.float32))


reduced = bottleneck(16)
t_direct = measure(lambda: direct.forward(x), comparison.baseline.macs, repeat=args.repeat)
t_reduced = measure(lambda: reduced.forward(x), comparison.candidate.macs, repeat=args.repeat)
speedup = t_direct.seconds / t_reduced.seconds
worst, best = t_direct.spread[0] / t_reduced.spread[1], t_direct.spread[1] / t_reduced.spread[0]
print(f"\ndirect 5x5          : {t_direct}")
print(f"1x1 to 16, then 5x5 : {t_reduced}")
print(f"predicted {comparison.macs_ratio:.1f}x fewer MACs, measured {speedup:.1f}x faster "
      f"(median of {args.repeat}; from {worst:.1f}x to {best:.1f}x between the slowest and fastest runs)")
# Time is not MACs: the two computations do not run at the same rate (GMAC/s).
rates = f"{t_direct.gmacs_per_second:.1f} GMAC/s for the direct 5x5 versus {t_reduced.gmacs_per_second:.1f} for the bottleneck"
if speedup < comparison.macs_ratio:
    print(f"measured below predicted: {rates}. The bottleneck's small layers do less work per number moved "
          "and per Python call, so they reach a lower rate.")
else:
    print(f"measured at or above predicted: {rates}. Here the direct 5x5 ran at the lower rate (its larger "
          "im2col copy costs time but no MACs).")
print("timings on a busy machine, or with BLAS threads competing for cores, can move several-fold between runs")

# %% [markdown]
# ## A sweep of the reduction width
#
# The saving shrinks as the reduction widens; at 192 (no reduction at all) the 1x1 layer is pure
# extra cost.

# %%
widths = [8, 16, 32, 64, 96, 128, 192]
rows = []
print(f"\n{'reduce to':>9}  {'MACs':>8}  {'vs direct':>9}  {'time (ms)':>9}  {'measured speed-up':>17}")
for width in widths:
    layers = bottleneck(width)
    macs = layers.cost(28, 28).macs
    timing = measure(lambda: layers.forward(x), macs, repeat=args.repeat)
    rows.append((width, macs, timing.seconds))
    print(f"{width:>9}  {human(macs):>8}  {comparison.baseline.macs / macs:>8.1f}x  {timing.seconds * 1e3:>9.2f}  "
          f"{t_direct.seconds / timing.seconds:>16.1f}x")
print(f"{'direct':>9}  {human(comparison.baseline.macs):>8}  {1:>8.1f}x  {t_direct.seconds * 1e3:>9.2f}  {1:>16.1f}x")

# %% [markdown]
# ## Plot (optional: needs matplotlib)

# %%
try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("\nmatplotlib is not installed: no plot (pip install 'conv1x1[plot]')")
else:
    fig, ax_macs = plt.subplots(figsize=(7, 4))
    reduce_widths = [r[0] for r in rows]
    ax_macs.plot(reduce_widths, [r[1] / 1e6 for r in rows], "o-", label="1x1 reduce -> 5x5: predicted MMACs")
    ax_macs.axhline(comparison.baseline.macs / 1e6, color="gray", ls="--", label="direct 5x5: predicted MMACs")
    ax_macs.set_xlabel("reduction width (channels after the 1x1 convolution)")
    ax_macs.set_ylabel("million multiply-adds (MACs)")
    ax_time = ax_macs.twinx()
    ax_time.plot(reduce_widths, [r[2] * 1e3 for r in rows], "s:", color="tab:red", label="measured time (ms)")
    ax_time.set_ylabel("measured forward time (ms)", color="tab:red")
    ax_macs.set_title("28x28x192 -> 28x28x32 with 5x5 filters")
    lines = ax_macs.get_legend_handles_labels()[0] + ax_time.get_legend_handles_labels()[0]
    ax_macs.legend(lines, [line.get_label() for line in lines], loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(args.plot, dpi=110)
    print(f"\nplot saved to {args.plot}")
