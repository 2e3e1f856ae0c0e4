# %% [markdown]
# # 10. ResNet's bottleneck: 1x1 convolutions buy four times the width
#
# He et al. 2015 ("Deep Residual Learning for Image Recognition", arXiv:1512.03385, Fig. 5) compare
# two residual blocks of similar cost at 56x56: a *basic* block (two 3x3 convolutions on 64
# channels) and a *bottleneck* (1x1 reduce 256 -> 64, 3x3 at 64, 1x1 expand 64 -> 256). The
# bottleneck carries a 256-channel map, four times as wide, for about the same multiply-adds.

# %%
import numpy as np

import conv1x1 as C
from conv1x1.cost import human
from conv1x1.timing import measure

rng = np.random.default_rng(0)
basic = C.Sequential(
    C.Residual(C.Sequential(C.Conv2d(64, 64, 3, padding=1, bias=False, rng=rng, dtype=np.float32),
                            C.BatchNorm2d(64, dtype=np.float32), C.ReLU(),
                            C.Conv2d(64, 64, 3, padding=1, bias=False, rng=rng, dtype=np.float32),
                            C.BatchNorm2d(64, dtype=np.float32))),
    C.ReLU())
bottleneck = C.Bottleneck(256, 64, 256, rng=rng, dtype=np.float32)

# %% [markdown]
# ## Predicted: MACs and parameters by layer

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
# ## Measured: forward + backward, median of repeated runs

# %%
x64 = rng.standard_normal((1, 64, 56, 56)).astype(np.float32)
x256 = rng.standard_normal((1, 256, 56, 56)).astype(np.float32)


def step(block, x):
    out = block.forward(x)
    block.backward(np.ones_like(out))


t_basic = measure(lambda: step(basic, x64), 3 * basic_cost.macs, repeat=7)
t_bottleneck = measure(lambda: step(bottleneck, x256), 3 * bottleneck_cost.macs, repeat=7)
print(f"basic      : {t_basic}")
print(f"bottleneck : {t_bottleneck}")
time_ratio = t_bottleneck.seconds / t_basic.seconds
print(f"bottleneck / basic: {ratio:.2f}x the MACs, {time_ratio:.2f}x the time")

# %% [markdown]
# ## The rates of the two kinds of layer inside them, forward only

# %%
reduce_1x1, conv_3x3 = bottleneck.residual.block[0], basic[0].block[0]
t_1x1 = measure(lambda: reduce_1x1.forward(x256), reduce_1x1.cost(56, 56).macs, repeat=7)
t_3x3 = measure(lambda: conv_3x3.forward(x64), conv_3x3.cost(56, 56).macs, repeat=7)
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
