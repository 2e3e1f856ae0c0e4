"""
Example 11: where the multiply-adds go in five famous networks
==============================================================

``report.by_kind()`` adds up MACs and parameters by layer kind: "1x1" (pointwise), "kxk" (dense KxK),
"depthwise", "grouped", "fc" (a fully connected layer, i.e. a 1x1 convolution on a 1x1 map) and
"other" (batch norm). The five networks are priced at 224x224 without allocating a single weight.
Then ShuffleNet's idea (Zhang et al. 2017, arXiv:1707.01083): a grouped 1x1 plus a channel shuffle
in place of a dense 1x1.

The stacked-bar plot is shown (and saved too with ``--plot FILE.png``; it needs matplotlib, without
which the script only prints). The times in the last section are those of the machine that ran the
script: on the website, the machine that built the site. Chapter: :doc:`/networks`.
"""

# %%
import argparse
import os

import numpy as np

import conv1x1 as C
from conv1x1 import models
from conv1x1.cost import KINDS, human
from conv1x1.fast.timing import Measurement, measure

parser = argparse.ArgumentParser(description="MACs by layer kind in five networks")
parser.add_argument("--plot", metavar="FILE", help="also save the plot to FILE (needs matplotlib)")
args, _ = parser.parse_known_args()   # a notebook kernel passes arguments of its own: ignore them
REPEAT = 5 if os.environ.get("CONV1X1_GALLERY") else 11    # fewer when the website is built

# %% [markdown]
# MACs and parameters by kind, at 224 x 224 (per image; 1 MAC = 2 FLOPs)
# ----------------------------------------------------------------------

# %%
networks = {"mobilenet_v1": models.mobilenet_v1(), "resnet50 (v1.5)": models.resnet50(),
            "squeezenet1_0": models.squeezenet1_0(), "googlenet": models.googlenet(),
            "shufflenet_v1 (g=3)": models.shufflenet_v1()}
reports = {name: net.cost(224, 224) for name, net in networks.items()}
header = f"{'network':<20}{'MACs':>8}{'params':>8}  " + "".join(f"{kind:>10}" for kind in KINDS)
for share, what in (("macs_share", "MACs"), ("params_share", "params")):
    print(header + f"   (share of {what})")
    print("-" * len(header))
    for name, report in reports.items():
        shares = report.by_kind()
        print(f"{name:<20}{human(report.macs):>8}{human(report.params):>8}  "
              + "".join(f"{shares[kind][share]:>10.1%}" for kind in KINDS))
    print()

one_by_one = {name: r.by_kind()["1x1"]["macs_share"] for name, r in reports.items()}
top = max(one_by_one, key=one_by_one.get)
print(f"the 1x1 share of MACs is largest in {top}: {one_by_one[top]:.1%}")

# %% [markdown]
# A stacked bar per network: the share of MACs by kind
# ----------------------------------------------------

# %%
try:
    import matplotlib.pyplot as plt
except ImportError:          # the figures are optional: everything above still ran
    plt = None
    print('matplotlib is not installed: no plot (in a clone: pip install -e ".[examples]")')

if plt is not None:
    fig, ax = plt.subplots(figsize=(8, 3.5))
    bottom = np.zeros(len(reports))
    for kind in KINDS:
        values = np.array([r.by_kind()[kind]["macs_share"] for r in reports.values()])
        if values.any():
            ax.bar(list(reports), values, bottom=bottom, label=kind)
            bottom += values
    ax.set_ylabel("share of MACs at 224x224")
    ax.tick_params(axis="x", labelsize=8)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)   # beside the bars, not over them
    fig.tight_layout()
    if args.plot:
        fig.savefig(args.plot)
        print(f"saved {args.plot}")
    plt.show()

# %% [markdown]
# Grouped 1x1 plus channel shuffle versus a dense 1x1 (240 channels at 28x28, 3 groups)
# -------------------------------------------------------------------------------------
#
# A grouped 1x1 with g groups costs 1/g of a dense one, but its groups never exchange information;
# ShuffleNet interleaves the channels between two grouped layers so that they do.

# %%
rng = np.random.default_rng(0)
x = rng.standard_normal((8, 240, 28, 28)).astype(np.float32)
dense = C.Sequential(C.Conv1x1(240, 240, bias=False, rng=rng, dtype=np.float32),
                     C.Conv1x1(240, 240, bias=False, rng=rng, dtype=np.float32))
grouped = C.Sequential(C.Conv1x1(240, 240, bias=False, groups=3, rng=rng, dtype=np.float32), C.ChannelShuffle(3),
                       C.Conv1x1(240, 240, bias=False, groups=3, rng=rng, dtype=np.float32))
# A convolution knows its input depth; ChannelShuffle does not, so the grouped stack is told it.
dense_cost, grouped_cost = dense.cost(28, 28), grouped.cost(28, 28, in_channels=240)
print(f"dense 1x1, dense 1x1                  : {dense_cost.macs:>11,} MACs  {dense_cost.params:>7,} params")
print(f"grouped 1x1, shuffle, grouped 1x1 (g=3): {grouped_cost.macs:>10,} MACs  {grouped_cost.params:>7,} params  "
      f"({dense_cost.macs / grouped_cost.macs:.1f}x fewer)")
times = {"dense": [], "grouped": []}
for turn in range(REPEAT):        # in turns, so that other work on the machine slows both alike
    times["dense"].append(measure(lambda: dense.forward(x), 0, repeat=1, warmup=int(turn == 0)).seconds)
    times["grouped"].append(measure(lambda: grouped.forward(x), 0, repeat=1, warmup=int(turn == 0)).seconds)
t_dense = Measurement(float(np.median(times["dense"])), 8 * dense_cost.macs, tuple(times["dense"]))
t_grouped = Measurement(float(np.median(times["grouped"])), 8 * grouped_cost.macs, tuple(times["grouped"]))
print(f"dense   : {t_dense}")
print(f"grouped : {t_grouped}")
predicted = dense_cost.macs / grouped_cost.macs
ratio = t_dense.seconds / t_grouped.seconds          # above 1: the grouped stack is faster
per_turn = np.array(times["dense"]) / np.array(times["grouped"])
low, high = float(per_turn.min()), float(per_turn.max())
print(f"time ratio dense / grouped: {ratio:.1f}x (ratio of the medians of {REPEAT} interleaved turns; turn by turn "
      f"from {low:.1f}x to {high:.1f}x), against {predicted:.1f}x fewer MACs predicted (batch of 8)")
if high > 2 * low:
    print("The runs spread widely (a busy machine, or BLAS threads competing for the cores): trust the median "
          "only roughly, and rerun to compare.")
if ratio < 0.8 * predicted:
    print(f"The measured gain falls short of the prediction: the grouped products are 3x smaller matrix "
          f"multiplies ({t_grouped.gmacs_per_second:.1f} vs {t_dense.gmacs_per_second:.1f} GMAC/s), and the shuffle "
          "copies every activation without a single MAC.")
elif ratio > 1.25 * predicted:
    print(f"The measured gain exceeds the prediction: in this run the dense stack reached the lower rate "
          f"({t_dense.gmacs_per_second:.1f} GMAC/s against the grouped stack's {t_grouped.gmacs_per_second:.1f}).")
else:
    print("The measured gain is within 25% of the prediction.")
