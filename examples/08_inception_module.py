"""
Example 08: an Inception module built from the library's layers
===============================================================

GoogLeNet's module "3a": a 28x28x192 input, four branches (1x1: 64; 1x1 96 -> 3x3: 128;
1x1 16 -> 5x5: 32; 3x3 max pool -> 1x1: 32), outputs stacked to 28x28x256. We run it forward and
backward, print its cost, and time it against a naive module built from the same layers without
the 1x1 reductions: predicted versus measured speed-up. The times are those of the machine that ran
the script: on the website, the machine that built the site. Chapter: :doc:`/inception`.
"""

# %%
import argparse
import os

import numpy as np

import conv1x1 as C
from conv1x1.cost import inception_cost
from conv1x1.fast.timing import Measurement, measure

parser = argparse.ArgumentParser(description="an Inception module built from the library's layers")
parser.add_argument("--repeat", type=int, help="timed runs per measurement (default 5; 3 when the website is built)")
args, _ = parser.parse_known_args()  # a notebook kernel passes arguments of its own: ignore them

rng = np.random.default_rng(0)
x = rng.standard_normal((1, 192, 28, 28)).astype(np.float32)

block = C.Inception(192, 64, 96, 128, 16, 32, 32, rng=rng, dtype=np.float32)
out = block.forward(x)
dx = block.backward(np.ones_like(out))
print(f"forward : x {x.shape} -> out {out.shape}  (64 + 128 + 32 + 32 = 256 channels, H and W kept)")
print(f"backward: dx {dx.shape}; {len(block.params)} parameter arrays, "
      f"{sum(p.size for p in block.params.values()):,} numbers, all with gradients")

# %% [markdown]
# Its cost, counted from the layers themselves
# --------------------------------------------

# %%
report = block.cost(28, 28)
print()
print(report)
assert report.macs == inception_cost(192, 28, 28, 64, 96, 128, 16, 32, 32).macs

# %% [markdown]
# The naive module: no 1x1 reductions, no pool projection
# -------------------------------------------------------
#
# ``C.Concat`` runs branches on the same input and stacks their outputs; the naive module is four
# such branches with the 3x3 and 5x5 convolutions applied to all 192 channels.

# %%


def branch(*layers):
    return C.Sequential(*layers)


naive = C.Concat(
    branch(C.Conv1x1(192, 64, rng=rng, dtype=np.float32), C.ReLU()),
    branch(C.Conv2d(192, 128, 3, padding=1, rng=rng, dtype=np.float32), C.ReLU()),
    branch(C.Conv2d(192, 32, 5, padding=2, rng=rng, dtype=np.float32), C.ReLU()),
    branch(C.MaxPool2d(3, stride=1, padding=1)),
)
naive_report = naive.cost(28, 28, in_channels=192)
assert naive_report.macs == inception_cost(192, 28, 28, 64, 96, 128, 16, 32, 32, reductions=False).macs


def step(module):
    result = module.forward(x)
    module.backward(np.ones_like(result))


REPEAT = args.repeat or (3 if os.environ.get("CONV1X1_GALLERY") else 5)    # fewer when the website is built
modules = [("with reductions", block, report), ("naive", naive, naive_report)]
times = {(name, what): [] for name, _, _ in modules for what in ("forward", "both")}
for turn in range(REPEAT):        # in turns, so that other work on the machine slows both modules alike
    for name, module, cost in modules:
        times[name, "forward"].append(measure(lambda module=module: module.forward(x), cost.macs, repeat=1,
                                              warmup=int(turn == 0)).seconds)
        times[name, "both"].append(measure(lambda module=module: step(module), cost.macs + cost.backward_macs,
                                           repeat=1, warmup=int(turn == 0)).seconds)
timings = {name: tuple(Measurement(float(np.median(times[name, what])), macs, tuple(times[name, what]))
                       for what, macs in (("forward", cost.macs), ("both", cost.macs + cost.backward_macs)))
           for name, _, cost in modules}
for name, _, cost in modules:
    forward, both = timings[name]
    print(f"{name:<16} {cost.macs / 1e6:6.1f}M MACs  forward {forward.seconds * 1e3:6.1f} ms   "
          f"forward + backward {both.seconds * 1e3:6.1f} ms  (medians of {REPEAT} turns)")


def speedup(what):
    """naive / with reductions: the ratio of the medians, and the lowest and highest per-turn ratio."""
    ratios = np.array(times["naive", what]) / np.array(times["with reductions", what])
    return (float(np.median(times["naive", what]) / np.median(times["with reductions", what])),
            float(ratios.min()), float(ratios.max()))


predicted = naive_report.macs / report.macs
measured_forward, low_f, high_f = speedup("forward")
measured_both, low_b, high_b = speedup("both")
print(f"\npredicted speed-up {predicted:.1f}x (MACs); measured {measured_forward:.1f}x forward "
      f"({low_f:.1f}x to {high_f:.1f}x turn by turn), {measured_both:.1f}x forward + backward "
      f"({low_b:.1f}x to {high_b:.1f}x); ratios of the medians of {REPEAT} interleaved turns")
print(f"output depth: naive {naive_report.out_shape[0]}, with reductions {report.out_shape[0]} channels")

# %% [markdown]
# Why measured and predicted differ: MACs are not seconds. Each module reaches its own rate of
# multiply-adds per second. Below, this run's rates, and one number the cost counter gives without
# any timing: the bytes each module's convolutions must at least read and write per MAC (inputs,
# weights and outputs, float32). Whether those bytes are the cause is measured layer by layer in
# example 12 (:ref:`sphx_glr_auto_examples_12_roofline.py`).

# %%
reduced_rate, naive_rate = timings["with reductions"][0].gmacs_per_second, timings["naive"][0].gmacs_per_second
print(f"achieved forward rate: with reductions {reduced_rate:.1f} GMAC/s, naive {naive_rate:.1f} GMAC/s")


def bytes_per_mac(cost):
    """Least bytes moved per MAC by the convolutions of a report: float32 inputs + weights + outputs."""
    convs = [row for row in cost.layers if row.macs]
    return sum(row.traffic_bytes(np.float32) for row in convs) / sum(row.macs for row in convs)


print(f"least bytes per MAC of the convolutions: with reductions {bytes_per_mac(report):.3f}, "
      f"naive {bytes_per_mac(naive_report):.3f} (counted, not timed)")
if measured_forward < predicted:
    print(f"measured below predicted: the reduced module ran at {reduced_rate / naive_rate:.0%} of the naive "
          "module's rate in this run")
else:
    print(f"measured at or above predicted: this run the reduced module reached {reduced_rate / naive_rate:.0%} "
          "of the naive module's rate")
print("these are one run's timings on the machine that ran the script (on the website, the build machine); "
      "a busy machine can move them several-fold between runs")

# %% [markdown]
# The same comparison drawn: for each module, the MACs the counter predicts and the time this run
# measured, both relative to the module with reductions.

# %%
try:
    import matplotlib.pyplot as plt
except ImportError:          # the figures are optional: everything above still ran
    plt = None
    print('matplotlib is not installed: no figure (in a clone: pip install -e ".[examples]")')

if plt is not None:
    bars = {"MACs (counted)": predicted, "forward time (measured)": measured_forward,
            "forward + backward time (measured)": measured_both}
    fig, ax = plt.subplots(figsize=(7, 3))
    drawn = ax.barh(list(bars)[::-1], list(bars.values())[::-1], color=["tab:red", "tab:red", "tab:blue"])
    ax.bar_label(drawn, [f"{v:.2f}x" for v in list(bars.values())[::-1]], padding=3)
    ax.axvline(1, color="k", lw=0.8)
    ax.set(xlabel="naive module / module with 1x1 reductions", xlim=(0, max(bars.values()) * 1.25),
           title="Inception 3a: what the 1x1 reductions save, counted and measured")
    fig.tight_layout()
    plt.show()
