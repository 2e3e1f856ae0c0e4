# %% [markdown]
# # 2. Cutting depth: 28x28x192 -> 28x28x32
#
# A 1x1 convolution changes only the depth. Its number of filters *is* the output depth; height
# and width stay as they are. This is how networks shrink a thick feature map cheaply.

# %%
import numpy as np

import conv1x1 as C
from conv1x1.cost import conv_cost

rng = np.random.default_rng(0)
x = rng.standard_normal((1, 192, 28, 28))   # one 28x28 feature map with 192 channels

# %%
layer = C.Conv1x1(192, 32, rng=rng)          # 32 filters, each of size 1x1x192
out = layer.forward(x)
print(f"input  {x.shape}  = 28x28x192")
print(f"layer  {layer!r}: w {layer.params['w'].shape}, b {layer.params['b'].shape}")
print(f"output {out.shape}  = 28x28x32  (H and W kept: {out.shape[2:] == x.shape[2:]})")

# %% [markdown]
# The number of filters sets the depth, whatever it is. The cost grows with it linearly:
# every output value is one dot product of length 192, i.e. 192 multiply-adds (MACs).

# %%
print(f"\n{'filters':>7}  {'output shape':<18} {'params':>8} {'MACs':>12}")
for filters in (8, 16, 32, 64, 192, 256):
    out = C.Conv1x1(192, filters, rng=rng).forward(x)
    cost = conv_cost(192, filters, 28, 28, 1)
    assert out.shape[1:] == cost.out_shape      # the counter predicts the real shape
    print(f"{filters:>7}  {str(out.shape):<18} {cost.params:>8,} {cost.macs:>12,}")

# %% [markdown]
# Memory shrinks by the same factor: the 32-channel map holds 6x fewer numbers than the 192-channel one.

# %%
print(f"\nactivations: {x[0].size:,} numbers in, {28 * 28 * 32:,} out ({x[0].size / (28 * 28 * 32):.0f}x fewer)")
