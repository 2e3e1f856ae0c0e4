"""
Example 04: the bottleneck, a 1x1 reduction before a 5x5 convolution
====================================================================

Map a 28x28x192 feature map to 28x28x32 with 5x5 filters. Directly, every output value is a
dot product over a 5x5x192 window: 4,800 multiply-adds (MACs). Reduce the depth to 16 with a
1x1 convolution first, and the 5x5 filters only see 5x5x16 = 400 numbers. The counter predicts
the saving; then we time the real layers on real arrays to see how much of it shows up.

The times are those of the machine that ran the script: on the website, the machine that built the
site. Run it yourself for yours: ``python examples/04_bottleneck_cost.py [--threads 1] [--repeat 9]
[--plot sweep.png]`` (the plot needs matplotlib). Chapter: :doc:`/inception`.
"""

# %%
import argparse
import os
import sys

parser = argparse.ArgumentParser(description="direct 5x5 versus 1x1 reduce -> 5x5: predicted MACs, measured time")
parser.add_argument("--plot", metavar="FILE", help="also save the sweep's plot to FILE (needs matplotlib)")
parser.add_argument("--repeat", type=int, help="timed runs per layer (default 9; 5 when the website is built)")
parser.add_argument("--threads", type=int, help="BLAS threads (set before NumPy loads; 1 steadies the timings "
                                                "on a busy machine)")
args, _ = parser.parse_known_args()   # a notebook kernel passes arguments of its own: ignore them
repeat = args.repeat or (5 if os.environ.get("CONV1X1_GALLERY") else 9)
if args.threads:
    if "numpy" in sys.modules:
        print("--threads has no effect here: NumPy was loaded before this script ran")
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(args.threads)

import numpy as np  # noqa: E402 - after the thread count is set

import conv1x1 as C  # noqa: E402
from conv1x1.cost import bottleneck_comparison, human  # noqa: E402
from conv1x1.fast.timing import measure  # noqa: E402

rng = np.random.default_rng(0)
x = rng.standard_normal((1, 192, 28, 28)).astype(np.float32)

# %% [markdown]
# Predicted: the cost counter (1 MAC = 2 FLOPs)
# ---------------------------------------------

# %%
comparison = bottleneck_comparison(192, 16, 32, 28, 28, kernel_size=5)
print(comparison)

# %% [markdown]
# Measured: the direct 5x5 and every bottleneck width, in turns
# -------------------------------------------------------------
#
# Each turn runs the direct 5x5 once and then each bottleneck once (reduction widths 8 to 192), so
# that a burst of other work on the machine slows all of them alike. Every line below comes from the
# same turns: a width's time is the median of its runs, its speed-up the direct 5x5's median time over
# its median time (the ratio of medians), and the spread the middle half of the per-turn ratios
# (direct / bottleneck within one turn).

# %%
direct = C.Conv2d(192, 32, 5, padding="same", rng=rng, dtype=np.float32)


def bottleneck(width):
    return C.Sequential(C.Conv1x1(192, width, rng=rng, dtype=np.float32),
                        C.Conv2d(width, 32, 5, padding="same", rng=rng, dtype=np.float32))


widths = [8, 16, 32, 64, 96, 128, 192]
candidates = {"direct": direct, **{width: bottleneck(width) for width in widths}}
macs = {name: layer.cost(28, 28).macs for name, layer in candidates.items()}
times = {name: [] for name in candidates}
for turn in range(repeat):
    for name, layer in candidates.items():
        times[name].append(measure(lambda layer=layer: layer.forward(x), macs[name], repeat=1,
                                   warmup=1 if turn == 0 else 0).seconds)
times = {name: np.array(t) for name, t in times.items()}
t_direct = float(np.median(times["direct"]))


def speedup(width):
    """(ratio of medians, 25th and 75th percentile of the per-turn ratios) of the direct 5x5 over a width."""
    ratios = times["direct"] / times[width]
    low, high = np.percentile(ratios, [25, 75])
    return t_direct / float(np.median(times[width])), float(low), float(high)


print(f"\n{'reduce to':>9}  {'MACs':>8}  {'vs direct':>9}  {'time (ms)':>9}  {'measured speed-up':>17}  "
      f"{'middle half of the turns':>24}")
rows = []
for width in widths:
    t = float(np.median(times[width]))
    ratio, low, high = speedup(width)
    rows.append((width, macs[width], t))
    print(f"{width:>9}  {human(macs[width]):>8}  {macs['direct'] / macs[width]:>8.1f}x  {t * 1e3:>9.2f}  "
          f"{ratio:>16.1f}x  {low:>12.1f}x - {high:.1f}x")
print(f"{'direct':>9}  {human(macs['direct']):>8}  {1:>8.1f}x  {t_direct * 1e3:>9.2f}  {1:>16.1f}x")

# %% [markdown]
# The headline: width 16, GoogLeNet's choice, read from its row above
# -------------------------------------------------------------------

# %%
speed, low, high = speedup(16)
t_reduced = float(np.median(times[16]))
rate_direct = macs["direct"] / t_direct / 1e9
rate_reduced = macs[16] / t_reduced / 1e9
print(f"\ndirect 5x5          : {t_direct * 1e3:7.2f} ms (median of {repeat}), {rate_direct:5.1f} GMAC/s")
print(f"1x1 to 16, then 5x5 : {t_reduced * 1e3:7.2f} ms (median of {repeat}), {rate_reduced:5.1f} GMAC/s")
print(f"predicted {comparison.macs_ratio:.1f}x fewer MACs, measured {speed:.1f}x faster "
      f"(ratio of the medians of {repeat} turns; the middle half of the turns from {low:.1f}x to {high:.1f}x)")

# %% [markdown]
# Time is not MACs: the two computations do not run at the same rate (GMAC/s, billions of MACs per
# second), and the sentence below reads which one ran faster in this run.

# %%
rates = f"{rate_direct:.1f} GMAC/s for the direct 5x5 versus {rate_reduced:.1f} for the bottleneck"
if speed < comparison.macs_ratio:
    print(f"measured below predicted: {rates}. The bottleneck reached the lower rate (example 12 times "
          "layers like these one by one to find out why).")
else:
    print(f"measured at or above predicted: {rates}. Here the direct 5x5 ran at the lower rate.")
if high > 1.5 * low:
    advice = [hint for hint, needed in (("--threads 1", args.threads != 1), (f"--repeat {max(2 * repeat, 15)}",
                                                                              repeat < 15)) if needed]
    if advice:
        print(f"the turns spread widely ({low:.1f}x to {high:.1f}x), as on a busy machine: rerun with "
              f"{' and '.join(advice)} to compare")
    else:
        print(f"the turns spread widely ({low:.1f}x to {high:.1f}x) even with --threads 1 and {repeat} turns: "
              "the machine is busy; compare on a quieter one")

# %% [markdown]
# The sweep, drawn: predicted MACs (left axis) and measured time (right axis)
# ---------------------------------------------------------------------------

# %%
try:
    import matplotlib.pyplot as plt
except ImportError:          # the figures are optional: everything above still ran
    plt = None
    print('\nmatplotlib is not installed: no plot (in a clone: pip install -e ".[examples]")')

if plt is not None:
    fig, ax_macs = plt.subplots(figsize=(7.5, 4.8))
    reduce_widths = [r[0] for r in rows]
    ax_macs.plot(reduce_widths, [r[1] / 1e6 for r in rows], "o-", label="1x1 reduce -> 5x5: predicted MMACs")
    ax_macs.axhline(comparison.baseline.macs / 1e6, color="gray", ls="--", label="direct 5x5: predicted MMACs")
    ax_macs.set_xlabel("reduction width (channels after the 1x1 convolution)")
    ax_macs.set_ylabel("million multiply-adds (MACs)")
    ax_macs.set_ylim(bottom=0)
    ax_time = ax_macs.twinx()
    ax_time.plot(reduce_widths, [r[2] * 1e3 for r in rows], "s:", color="tab:red",
                 label="1x1 reduce -> 5x5: measured ms")
    ax_time.axhline(t_direct * 1e3, color="tab:red", ls="-.", lw=0.8, label="direct 5x5: measured ms")
    ax_time.set_ylabel("measured forward time (ms, median)", color="tab:red")
    ax_time.set_ylim(bottom=0)
    ax_macs.set_title("28x28x192 -> 28x28x32 with 5x5 filters: predicted MACs and measured time")
    lines = ax_macs.get_legend_handles_labels()[0] + ax_time.get_legend_handles_labels()[0]
    ax_macs.legend(lines, [line.get_label() for line in lines], loc="upper center", bbox_to_anchor=(0.5, -0.17),
                   ncol=2, fontsize=8)
    fig.tight_layout()
    if args.plot:
        fig.savefig(args.plot, dpi=110)
        print(f"\nplot saved to {args.plot}")
    plt.show()
