"""
Example 06: how to verify a backward pass
=========================================

A backward pass is easy to get subtly wrong. The cure is to compare it with a numerical estimate:
nudge each input entry by +-eps, see how much the loss ``sum(out * dout)`` moves, divide by 2 eps
(central differences). In float64, a correct backward pass agrees to a relative error below 1e-7.
Chapter: :doc:`/gradients`.
"""

# %%
import argparse

import numpy as np

import conv1x1 as C
from conv1x1.gradcheck import check_layer, numerical_gradient, rel_error

parser = argparse.ArgumentParser(description="how to verify a backward pass")
args, _ = parser.parse_known_args()  # a notebook kernel passes arguments of its own: ignore them

rng = np.random.default_rng(0)
x = rng.standard_normal((2, 3, 4, 5))     # float64: float32 cannot resolve a nudge of 1e-6
w = rng.standard_normal((6, 3))
b = rng.standard_normal(6)

# %% [markdown]
# Step by step, on the functions
# ------------------------------

# %%
out, cache = C.conv1x1_forward(x, w, b)
dout = rng.standard_normal(out.shape)     # a random upstream gradient, never all ones
dx, dw, db = C.conv1x1_backward(dout, cache)

dx_num = numerical_gradient(lambda v: C.conv1x1(v, w, b), x, dout)
dw_num = numerical_gradient(lambda v: C.conv1x1(x, v, b), w, dout)
db_num = numerical_gradient(lambda v: C.conv1x1(x, w, v), b, dout)
print("conv1x1_backward against central differences (relative error, bound 1e-7):")
for name, analytic, numeric in [("dx", dx, dx_num), ("dw", dw, dw_num), ("db", db, db_num)]:
    print(f"  {name}: {rel_error(analytic, numeric):.1e}")

# %% [markdown]
# A deliberately wrong backward pass
# ----------------------------------
#
# A classic mistake: forgetting to sum the weight gradient over the batch (using only image 0).
# The check catches it at once.

# %%


def wrong_backward(dout, cache):
    x, w = cache.x, cache.w
    dx = np.einsum("oc,nohw->nchw", w, dout)
    dw = np.einsum("ohw,chw->oc", dout[0], x[0])   # BUG: only the first image
    return dx, dw, dout.sum((0, 2, 3))


_, dw_wrong, _ = wrong_backward(dout, cache)
error = rel_error(dw_wrong, dw_num)
print(f"\nwrong backward (batch not summed): dw relative error {error:.1e} -> "
      f"{'CAUGHT' if error > 1e-7 else 'missed'}")

# %% [markdown]
# One call for a whole layer
# --------------------------
#
# ``check_layer`` runs forward and backward with a random dout and checks the input gradient and every
# parameter's gradient. Here: a small per-pixel MLP, and a layer whose backward is wrong.

# %%
mlp = C.Sequential(C.Conv1x1(3, 8, rng=rng), C.ReLU(), C.Conv1x1(8, 2, rng=rng))
errors = check_layer(mlp, x)
print("\ncheck_layer(Conv1x1 -> ReLU -> Conv1x1):")
for name, value in errors.items():
    print(f"  {name:<4} {value:.1e}")


class LeakyButWrong(C.LeakyReLU):
    """Forward is a leaky ReLU; backward forgets the slope on the negative side."""

    def backward(self, dout):
        return C.relu_backward(dout, self.require_cache().x)


wrong = check_layer(LeakyButWrong(0.1), x)
print(f"check_layer(LeakyReLU with a ReLU backward): x {wrong['x']:.1e} -> "
      f"{'CAUGHT' if wrong['x'] > 1e-7 else 'missed'}")

# %% [markdown]
# Why eps = 1e-6? Too large a nudge and the central difference is a poor slope (its error shrinks like
# eps squared); too small and float64 round-off takes over (its error grows like 1 / eps). A linear
# function such as the 1x1 convolution in ``w`` has no curvature, so only round-off shows; ``tanh``
# curves, so both do. Below, the relative error of each for nudges from 1e-12 to 1e-1.

# %%
steps = np.logspace(-12, -1, 23)
dout_x = rng.standard_normal(x.shape)
_, tanh_cache = C.tanh_forward(x)
dx_tanh = C.tanh_backward(dout_x, tanh_cache)
curves = {
    "tanh (curved)": [rel_error(dx_tanh, numerical_gradient(lambda v: C.tanh_forward(v)[0], x, dout_x, eps=eps))
                      for eps in steps],
    "1x1 convolution, dw (linear)": [rel_error(dw, numerical_gradient(lambda v: C.conv1x1(x, v, b), w, dout, eps=eps))
                                     for eps in steps],
}
for name, errors_by_step in curves.items():
    best = steps[int(np.argmin(errors_by_step))]
    print(f"{name}: smallest relative error {min(errors_by_step):.1e} at eps = {best:.0e}; at eps = 1e-6: "
          f"{errors_by_step[int(np.argmin(np.abs(steps - 1e-6)))]:.1e}; at eps = 1e-1: {errors_by_step[-1]:.1e}")

try:
    import matplotlib.pyplot as plt
except ImportError:          # the figures are optional: everything above still ran
    plt = None
    print('matplotlib is not installed: no figure (in a clone: pip install -e ".[examples]")')

if plt is not None:
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for name, errors_by_step in curves.items():
        ax.loglog(steps, errors_by_step, "o-", ms=3, label=name)
    ax.axhline(1e-7, color="tab:red", ls="--", lw=0.8, label="the bound used here: 1e-7")
    ax.axvline(1e-6, color="gray", ls=":", lw=0.8, label="eps = 1e-6")
    ax.set(xlabel="eps (the nudge)", ylabel="relative error (float64)",
           title="Central differences: round-off on the left, truncation on the right")
    ax.legend(fontsize=8)
    fig.tight_layout()
    plt.show()
