"""
Example 20: where the multiply-adds go, network by network
==========================================================

Every network in ``conv1x1.models.MODELS`` is priced at its input size (224x224 unless it was designed
for another) without allocating a weight, and its multiply-adds (MACs, 1 MAC = 2 FLOPs) are split by
layer kind with ``report.by_kind()``: "1x1" (pointwise), "kxk" (dense K x K), "depthwise", "grouped",
"fc" (fully connected) and "other". Networks added to the library later appear here by themselves.

Then the reason the 1x1 takes most of the work wherever a depthwise convolution sits beside it: on the
same map, a depthwise K x K costs H W C K^2 and the 1x1 after it H W C C_out, so the pointwise layer
does C_out / K^2 times the depthwise layer's MACs (hundreds of channels against 9). The figure
(optional) needs matplotlib. Chapter: :doc:`/today`.
"""

# %%
import argparse

import numpy as np

from conv1x1 import models
from conv1x1.cost import KINDS, human

parser = argparse.ArgumentParser(description="the share of MACs in 1x1, depthwise and other layers of every "
                                             "network in conv1x1.models")
parser.add_argument("--plot", metavar="FILE", help="also save the bar chart to FILE (needs matplotlib)")
args, _ = parser.parse_known_args()  # tolerate a notebook kernel's own arguments

# %% [markdown]
# The networks the library can build
# ----------------------------------
#
# ``MODELS`` maps each name to its builder; a few input sizes differ from 224 (Inception v3 was
# designed for 299x299, the course's Network in Network for the 8x8 digits). A builder the library has
# but ``MODELS`` does not list is picked up by name.

# %%
INPUT_SIZE = {"inception_v3": 299, "nin": 8}
LATER = ["mobilenet_v2", "efficientnet_b0", "convnext_tiny", "inception_v3"]   # the networks of 2018-2022
builders = dict(models.MODELS)
builders.update({name: getattr(models, name) for name in LATER if name not in builders and hasattr(models, name)})
missing = [name for name in LATER if name not in builders]
if missing:
    print(f"not in this version of conv1x1.models: {', '.join(missing)}")

reports = {}
for name, build in builders.items():
    size = INPUT_SIZE.get(name, 224)
    reports[name] = (size, build().cost(size, size))
kinds = [kind for kind in KINDS if any(r.by_kind()[kind]["macs"] for _, r in reports.values())]

# %% [markdown]
# The share of MACs by kind
# -------------------------

# %%
header = f"{'network':<16}{'input':>6}{'MACs':>9}{'params':>9}  " + "".join(f"{kind:>10}" for kind in kinds)
print(header + "   (share of MACs)")
print("-" * len(header))
shares = {}
for name, (size, report) in reports.items():
    by_kind = report.by_kind()
    shares[name] = {kind: by_kind[kind]["macs_share"] for kind in kinds}
    print(f"{name:<16}{size:>6}{human(report.macs):>9}{human(report.params):>9}  "
          + "".join(f"{shares[name][kind]:>10.1%}" for kind in kinds))

one = {name: s.get("1x1", 0.0) for name, s in shares.items()}
most = max(one, key=one.get)
least = min(one, key=one.get)
print(f"\nthe 1x1 share of MACs ranges from {one[least]:.1%} ({least}) to {one[most]:.1%} ({most}); "
      f"it is the largest kind in {sum(max(s, key=s.get) == '1x1' for s in shares.values())} of the "
      f"{len(shares)} networks")

# %% [markdown]
# Pointwise against depthwise: C_out / K^2
# ----------------------------------------
#
# In each network with depthwise layers, every depthwise K x K is paired with the next 1x1 layer after
# it. When both run on the same map, the ratio of their MACs is the 1x1's output channels over K^2
# (over g K^2 for a 1x1 with g groups, as in ShuffleNet): K^2 and g are read from the rows' MACs per
# output value (K^2 for the depthwise layer, C_in / g for the 1x1).

# %%


def depthwise_pairs(report):
    """(depthwise row, the next 1x1 row) for every depthwise layer of a report, in layer order."""
    rows = report.layers
    for i, row in enumerate(rows):
        if row.category == "depthwise":
            after = next((r for r in rows[i + 1:] if r.category in ("1x1", "grouped")), None)
            if after is not None:
                yield row, after


for name, (_, report) in reports.items():
    pairs = list(depthwise_pairs(report))
    if not pairs:
        continue
    ratios = np.array([pw.macs / dw.macs for dw, pw in pairs])
    k2 = np.array([dw.macs / np.prod(dw.out_shape) for dw, _ in pairs])                 # K^2
    groups = np.array([dw.out_shape[0] / (pw.macs / np.prod(pw.out_shape)) for dw, pw in pairs])  # C_in / (C_in / g)
    predicted = np.array([pw.out_shape[0] for _, pw in pairs]) / (groups * k2)           # C_out / (g K^2)
    agree = np.max(np.abs(ratios / predicted - 1))
    dw_total = sum(dw.macs for dw, _ in pairs)
    pw_total = sum(pw.macs for _, pw in pairs)
    print(f"{name:<16} {len(pairs):>2} pairs: pointwise / depthwise MACs from {ratios.min():.1f}x to "
          f"{ratios.max():.1f}x (median {np.median(ratios):.1f}x); C_out / (g K^2) "
          f"predicts each to a relative {agree:.0e}; the paired 1x1s do {pw_total / (pw_total + dw_total):.1%} "
          "of the pairs' MACs")

# %% [markdown]
# A stacked bar per network (optional: needs matplotlib)
# ------------------------------------------------------

# %%
try:
    import matplotlib.pyplot as plt
except ImportError:          # the figures are optional: everything above still ran
    plt = None
    print('\nmatplotlib is not installed: no figure (in a clone: pip install -e ".[examples]")')

if plt is not None:
    fig, ax = plt.subplots(figsize=(9, 3.8))
    bottom = np.zeros(len(shares))
    for kind in kinds:
        values = np.array([s[kind] for s in shares.values()])
        ax.bar(list(shares), values, bottom=bottom, label=kind)
        bottom += values
    ax.set_ylabel("share of MACs")
    ax.tick_params(axis="x", labelsize=8, labelrotation=20)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    ax.set_title("Where the multiply-adds go, by layer kind", fontsize=10)
    fig.tight_layout()
    if args.plot:
        fig.savefig(args.plot, dpi=110)
        print(f"\nfigure saved to {args.plot}")
    plt.show()
