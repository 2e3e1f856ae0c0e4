# %% [markdown]
# # 9. Depthwise-separable convolution: where MobileNet's 1x1 does the work
#
# MobileNet v1 (Howard et al. 2017, "MobileNets: Efficient Convolutional Neural Networks for Mobile
# Vision Applications", arXiv:1704.04861) replaces each dense 3x3 convolution by two layers: a
# *depthwise* 3x3 that filters every channel on its own (`groups = in_channels`), then a *pointwise*
# 1x1 that mixes the channels. Its Table 3 prices one 3x3 layer at 14x14x512: 462M multiply-adds
# (MACs) dense, 52M separable. We count both from the layers, run them, and time them.

# %%
import numpy as np

import conv1x1 as C
from conv1x1.timing import measure

rng = np.random.default_rng(0)
x = rng.standard_normal((1, 512, 14, 14)).astype(np.float32)

full = C.Conv2d(512, 512, 3, padding=1, bias=False, rng=rng, dtype=np.float32)
depthwise = C.Conv2d(512, 512, 3, padding=1, groups=512, bias=False, rng=rng, dtype=np.float32)
pointwise = C.Conv1x1(512, 512, bias=False, rng=rng, dtype=np.float32)

# %% [markdown]
# ## Predicted: MACs and parameters, from the layers' own cost

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
# ## Both compute a 14x14x512 map from the same input

# %%
out_full = full.forward(x)
out_sep = pointwise.forward(depthwise.forward(x))
print(f"dense {out_full.shape}, separable {out_sep.shape}")

# %% [markdown]
# ## Measured: forward time, median of repeated runs

# %%
REPEAT = 7
t_full = measure(lambda: full.forward(x), full_cost.macs, repeat=REPEAT)
t_dw = measure(lambda: depthwise.forward(x), dw_cost.macs, repeat=REPEAT)
t_pw = measure(lambda: pointwise.forward(x), pw_cost.macs, repeat=REPEAT)
t_sep = measure(lambda: pointwise.forward(depthwise.forward(x)), separable_macs, repeat=REPEAT)
for name, t in [("dense 3x3", t_full), ("depthwise 3x3", t_dw), ("pointwise 1x1", t_pw), ("separable", t_sep)]:
    print(f"{name:<14} {t}")

measured = t_full.seconds / t_sep.seconds
predicted = full_cost.macs / separable_macs
print(f"\npredicted {predicted:.1f}x fewer MACs; measured {measured:.1f}x faster")
time_share = t_pw.seconds / (t_pw.seconds + t_dw.seconds)
print(f"the pointwise 1x1 takes {time_share:.0%} of the two layers' time (and {pw_share:.0%} of their MACs)")

# %% [markdown]
# What the numbers say (the sentences below are chosen by the measurements just made).

# %%
rates = {"depthwise 3x3": t_dw, "pointwise 1x1": t_pw}
slowest = min(rates, key=lambda name: rates[name].gmacs_per_second)       # the lower rate, in GMAC/s
slow_share = rates[slowest].seconds / (t_pw.seconds + t_dw.seconds)
if measured < predicted:
    print(f"The measured speed-up ({measured:.1f}x) is below the predicted {predicted:.1f}x because the separable "
          f"pair ran at {t_sep.gmacs_per_second:.1f} GMAC/s against the dense layer's {t_full.gmacs_per_second:.1f}. "
          f"Its slower part was the {slowest} ({rates[slowest].gmacs_per_second:.1f} GMAC/s, {slow_share:.0%} of "
          "the pair's time)" + (": a depthwise layer does only 9 multiply-adds per value it reads, so memory, "
                                "not arithmetic, bounds it." if slowest == "depthwise 3x3" else
                                ": a small 1x1 on a 14x14 map does little work per call, so it runs well below "
                                "the rate a large matrix multiply reaches."))
else:
    print(f"The measured speed-up ({measured:.1f}x) reaches the predicted {predicted:.1f}x: the separable pair ran "
          f"at {t_sep.gmacs_per_second:.1f} GMAC/s, the dense layer at {t_full.gmacs_per_second:.1f}.")
if time_share > 0.5:
    print(f"The pointwise 1x1 takes more of the time ({time_share:.0%}) as well as most of the MACs: it is where the work is.")
else:
    print(f"The pointwise 1x1 does {pw_share:.0%} of the MACs but only {time_share:.0%} of the time: it runs at "
          f"{t_pw.gmacs_per_second:.1f} GMAC/s (one matrix multiply), the depthwise at "
          f"{t_dw.gmacs_per_second:.1f} GMAC/s.")
