"""
Example 09: depthwise-separable convolution, where MobileNet's 1x1 does the work
================================================================================

MobileNet v1 (Howard et al. 2017, "MobileNets: Efficient Convolutional Neural Networks for Mobile
Vision Applications", arXiv:1704.04861) replaces each dense 3x3 convolution by two layers: a
*depthwise* 3x3 that filters every channel on its own (``groups = in_channels``), then a *pointwise*
1x1 that mixes the channels. Its Table 3 prices one 3x3 layer at 14x14x512: 462M multiply-adds
(MACs) dense, 52M separable. We count both from the layers, run them, and time them. The times are
those of the machine that ran the script: on the website, the machine that built the site.
Chapter: :doc:`/networks`.
"""

# %%
import argparse
import os

import numpy as np

import conv1x1 as C
from conv1x1.fast.timing import Measurement, measure

parser = argparse.ArgumentParser(description="depthwise-separable convolution, where MobileNet's 1x1 does the work")
parser.add_argument("--repeat", type=int, help="timed runs per measurement (default 7; 3 when the website is built)")
args, _ = parser.parse_known_args()  # a notebook kernel passes arguments of its own: ignore them

rng = np.random.default_rng(0)
x = rng.standard_normal((1, 512, 14, 14)).astype(np.float32)

full = C.Conv2d(512, 512, 3, padding=1, bias=False, rng=rng, dtype=np.float32)
depthwise = C.Conv2d(512, 512, 3, padding=1, groups=512, bias=False, rng=rng, dtype=np.float32)
pointwise = C.Conv1x1(512, 512, bias=False, rng=rng, dtype=np.float32)

# %% [markdown]
# Predicted: MACs and parameters, from the layers' own cost
# ---------------------------------------------------------

# %%
full_cost = full.cost(14, 14)
dw_cost, pw_cost = depthwise.cost(14, 14), pointwise.cost(14, 14)
separable_macs = dw_cost.macs + pw_cost.macs
separable_params = dw_cost.params + pw_cost.params
print(f"dense 3x3           : {full_cost.macs:>11,} MACs  {full_cost.params:>9,} params")
print(f"depthwise 3x3       : {dw_cost.macs:>11,} MACs  {dw_cost.params:>9,} params")
print(f"pointwise 1x1       : {pw_cost.macs:>11,} MACs  {pw_cost.params:>9,} params")
print(f"separable (dw + pw) : {separable_macs:>11,} MACs  {separable_params:>9,} params")
print(f"paper, Table 3: 462M vs 52M  ->  ours {full_cost.macs / 1e6:.0f}M vs {separable_macs / 1e6:.1f}M, "
      f"{full_cost.macs / separable_macs:.1f}x fewer MACs (1/C_out + 1/9 = {1 / 512 + 1 / 9:.3f} of the dense cost)")
pw_share = pw_cost.macs / separable_macs
print(f"the pointwise 1x1 does {pw_share:.1%} of the separable layer's MACs")

# %% [markdown]
# Both compute a 14x14x512 map from the same input
# ------------------------------------------------

# %%
out_full = full.forward(x)
out_sep = pointwise.forward(depthwise.forward(x))
print(f"dense {out_full.shape}, separable {out_sep.shape}")

# %% [markdown]
# Measured: forward time, median of interleaved runs
# --------------------------------------------------

# %%
REPEAT = args.repeat or (3 if os.environ.get("CONV1X1_GALLERY") else 7)    # fewer when the website is built
layers = {"dense": (full, full_cost.macs), "depthwise": (depthwise, dw_cost.macs),
          "pointwise": (pointwise, pw_cost.macs)}
turns = {name: [] for name in layers}
for turn in range(REPEAT):        # in turns, so that other work on the machine slows all three alike
    for name, (layer, macs) in layers.items():
        turns[name].append(measure(lambda layer=layer: layer.forward(x), macs, repeat=1,
                                   warmup=int(turn == 0)).seconds)
t_full, t_dw, t_pw = (Measurement(float(np.median(turns[name])), macs, tuple(turns[name]))
                      for name, (_, macs) in layers.items())
for name, t in [("dense 3x3", t_full), ("depthwise 3x3", t_dw), ("pointwise 1x1", t_pw)]:
    print(f"{name:<14} {t}")

t_pair = t_dw.seconds + t_pw.seconds                        # the separable layer: its two layers' medians
pair_rate = separable_macs / t_pair / 1e9
measured = t_full.seconds / t_pair
predicted = full_cost.macs / separable_macs
per_turn = np.array(turns["dense"]) / (np.array(turns["depthwise"]) + np.array(turns["pointwise"]))
print(f"\npredicted {predicted:.1f}x fewer MACs; measured {measured:.1f}x faster (the dense layer's median time "
      f"over the sum of the two separable layers' medians, {REPEAT} interleaved turns; turn by turn from "
      f"{per_turn.min():.1f}x to {per_turn.max():.1f}x)")
time_share = t_pw.seconds / (t_pw.seconds + t_dw.seconds)
print(f"the pointwise 1x1 takes {time_share:.0%} of the two layers' time (and {pw_share:.0%} of their MACs)")

# %% [markdown]
# What the numbers say (the sentences below are chosen by the measurements just made). Had the
# separable pair run at the dense layer's rate, it would have taken its MACs divided by that rate; the
# time each layer took beyond its share of that is the time it *lost*, and the verdict names the layer
# that lost the most.

# %%
dense_rate = full_cost.macs / t_full.seconds                            # MACs per second
parts = {"depthwise 3x3": (t_dw, dw_cost.macs), "pointwise 1x1": (t_pw, pw_cost.macs)}
lost = {name: t.seconds - macs / dense_rate for name, (t, macs) in parts.items()}   # seconds beyond the dense rate
for name, (t, macs) in parts.items():
    print(f"{name}: {t.seconds * 1e3:.2f} ms at {t.gmacs_per_second:.1f} GMAC/s; at the dense layer's "
          f"{dense_rate / 1e9:.1f} GMAC/s it would take {macs / dense_rate * 1e3:.2f} ms: "
          f"{lost[name] * 1e3:+.2f} ms")
worst = max(lost, key=lost.get)
other = min(lost, key=lost.get)
shortfall = sum(lost.values())
if measured < predicted and shortfall > 0 and lost[worst] > 0:
    print(f"The measured speed-up ({measured:.1f}x) is below the predicted {predicted:.1f}x: the separable pair "
          f"ran at {pair_rate:.1f} GMAC/s against the dense layer's {t_full.gmacs_per_second:.1f}. "
          f"The {worst} lost the most time, {lost[worst] * 1e3:.2f} ms beyond what its MACs take at the dense rate; "
          f"the {other} {'gained' if lost[other] < 0 else 'lost'} {abs(lost[other]) * 1e3:.2f} ms (net "
          f"{shortfall * 1e3:+.2f} ms)"
          + (": a depthwise layer does only 9 multiply-adds per value it reads." if worst == "depthwise 3x3" else
             ": it does most of the MACs, so a drop in its rate costs the most time."))
else:
    print(f"The measured speed-up ({measured:.1f}x) reaches the predicted {predicted:.1f}x: the separable pair ran "
          f"at {pair_rate:.1f} GMAC/s, the dense layer at {t_full.gmacs_per_second:.1f}.")
print(f"The pointwise 1x1 does {pw_share:.0%} of the MACs and took {time_share:.0%} of the two layers' time.")

# %%
try:
    import matplotlib.pyplot as plt
except ImportError:          # the figures are optional: everything above still ran
    plt = None
    print('matplotlib is not installed: no figure (in a clone: pip install -e ".[examples]")')

if plt is not None:
    fig, ax = plt.subplots(figsize=(7, 2.8))
    shares = {"MACs (counted)": (dw_cost.macs / separable_macs, pw_share),
              "time (measured)": (1 - time_share, time_share)}
    for row, (dw, pw) in enumerate(shares.values()):
        ax.barh(row, dw, color="tab:blue", label="depthwise 3x3" if row == 0 else None)
        ax.barh(row, pw, left=dw, color="tab:orange", label="pointwise 1x1" if row == 0 else None)
        ax.text(dw + pw / 2, row, f"{pw:.0%}", ha="center", va="center", color="white", weight="bold")
        if dw > 0.06:
            ax.text(dw / 2, row, f"{dw:.0%}", ha="center", va="center", color="white", weight="bold")
    ax.set(yticks=[0, 1], yticklabels=list(shares), xlim=(0, 1), xlabel="share of the separable layer",
           title="Separable 3x3 at 14x14x512: who does the MACs, who takes the time")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=2, fontsize=8)
    fig.tight_layout()
    plt.show()
