"""
Example 03: Network in Network, a non-linearity per pixel
=========================================================

A 1x1 convolution is linear at each pixel. So is any stack of them *without* an activation in
between. Some per-pixel maps are not linear. Here each pixel has two channels, and the target is
the XOR of their signs: 1 where exactly one channel is positive. No line separates those
pixels, so a single 1x1 convolution stays near chance (its loss stays at chance level). Put a ReLU
(``max(0, z)``) between two 1x1 convolutions (a tiny multilayer perceptron run at every pixel, the
"Network in Network" idea) and the task is solved. The last figure draws both models' decision
regions over the plane of the two channels. Chapter: :doc:`/nin`.
"""

# %%
import argparse

import numpy as np

import conv1x1 as C

parser = argparse.ArgumentParser(description="Network in Network, a non-linearity per pixel")
args, _ = parser.parse_known_args()  # a notebook kernel passes arguments of its own: ignore them

rng = np.random.default_rng(0)


def make_data(n_images, size=16):
    x = rng.standard_normal((n_images, 2, size, size))
    y = ((x[:, 0] > 0) != (x[:, 1] > 0)).astype(float)[:, None]   # (N, 1, H, W): XOR of the signs
    return x, y


x_train, y_train = make_data(16)
x_test, y_test = make_data(16)


def loss_and_grad(logits, y):
    """Binary cross-entropy on sigmoid(logits), averaged over pixels; stable for large |logits|."""
    p, _ = C.sigmoid_forward(logits)
    loss = np.mean(np.logaddexp(0, logits) - y * logits)    # log(1 + e^z) - y z
    return loss, (p - y) / y.size                            # d loss / d logits


def train(model, steps=1500, lr=0.5):
    for _ in range(steps):
        logits = model.forward(x_train)
        loss, dlogits = loss_and_grad(logits, y_train)
        model.backward(dlogits)
        for param, grad in model.parameters():              # plain SGD
            param -= lr * grad
    return loss


def accuracy(model, x, y):
    return np.mean((model.forward(x) > 0) == (y > 0.5))


# %% [markdown]
# Two linear 1x1 convolutions are one
# -----------------------------------
#
# Without an activation, ``Conv1x1(2, 16)`` then ``Conv1x1(16, 1)`` computes ``w2 @ (w1 @ x + b1) + b2``
# at each pixel, which is the single 1x1 convolution with weights ``w2 @ w1`` and bias ``w2 @ b1 + b2``.
# A ReLU in between breaks that identity: that is what makes the stack a per-pixel MLP.

# %%
first, second = C.Conv1x1(2, 16, rng=rng), C.Conv1x1(16, 1, rng=rng)
first.params["b"][:] = rng.standard_normal(16)
second.params["b"][:] = rng.standard_normal(1)
w1, b1, w2, b2 = first.params["w"], first.params["b"], second.params["w"], second.params["b"]
stacked = second.forward(first.forward(x_test))
merged = C.conv1x1(x_test, w2 @ w1, w2 @ b1 + b2)
with_relu = second.forward(C.ReLU().forward(first.forward(x_test)))
print(f"max |two linear 1x1 convs - one with w2 @ w1|      = {np.max(np.abs(stacked - merged)):.1e}")
print(f"max |with a ReLU between them - one with w2 @ w1| = {np.max(np.abs(with_relu - merged)):.1e}\n")

# %% [markdown]
# Training both on the XOR task
# -----------------------------
#
# Both models are trained by plain gradient descent on the binary cross-entropy of the sigmoid of
# their output (``loss_and_grad`` above), 1,500 steps each.
#
# Chance level: a model that says "probability 0.5" everywhere has loss ln 2 = 0.693 (binary
# cross-entropy) and, on balanced classes, 50% accuracy. A straight line through the plane of the two
# channels can still put a bit more than half of the pixels on the right side, so a linear model's
# accuracy can sit somewhat above 50% while its loss stays at ln 2: it is hardly more confident than a
# coin anywhere. It cannot separate XOR.

# %%
linear = C.Conv1x1(2, 1, rng=rng)                                       # one 1x1 conv: linear per pixel
mlp = C.Sequential(C.Conv1x1(2, 16, rng=rng), C.ReLU(), C.Conv1x1(16, 1, rng=rng))

linear_loss = train(linear)
mlp_loss = train(mlp)
linear_acc, mlp_acc = accuracy(linear, x_test, y_test), accuracy(mlp, x_test, y_test)

chance_loss = np.log(2)
print(f"per-pixel XOR of the signs of two channels, {y_test.size:,} test pixels "
      f"(chance: accuracy 50%, loss ln 2 = {chance_loss:.3f})")
print(f"single Conv1x1(2, 1)              : loss {linear_loss:.3f}, test accuracy {linear_acc:.1%}")
print(f"Conv1x1(2, 16) -> ReLU -> Conv1x1 : loss {mlp_loss:.3f}, test accuracy {mlp_acc:.1%}")
print(f"the linear model's loss is {linear_loss / chance_loss:.0%} of chance's ln 2 and its accuracy "
      f"{(linear_acc - 0.5) * 100:+.1f} points from 50%: "
      + ("it learned next to nothing" if linear_loss > 0.9 * chance_loss else "it learned something"))
print(f"the per-pixel MLP's loss is {mlp_loss / chance_loss:.0%} of chance's: "
      + ("the ReLU between two 1x1 convs solves it" if mlp_acc > 0.95 else "it has not solved it yet"))

# %% [markdown]
# Decision regions over the plane of the two channels
# ---------------------------------------------------
#
# Each pixel is a point (channel 0, channel 1). Lay a grid of such points out as one image of 2
# channels, run each trained model on it, and colour every point by the probability the model gives
# to "XOR = 1". The linear model can only split the plane with one straight line; the per-pixel MLP
# bends its boundary around the four quadrants.

# %%
try:
    import matplotlib.pyplot as plt
except ImportError:          # the figures are optional: everything above still ran
    plt = None
    print('matplotlib is not installed: no figure (in a clone: pip install -e ".[examples]")')

if plt is not None:
    side = np.linspace(-3, 3, 201)
    c0, c1 = np.meshgrid(side, side)
    plane = np.stack([c0, c1])[None]                      # (1, 2, 201, 201): every grid point is a pixel
    shown = np.random.default_rng(1).choice(y_test.size, 600, replace=False)
    points = x_test.transpose(1, 0, 2, 3).reshape(2, -1)[:, shown]
    labels = y_test.reshape(-1)[shown]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.8), sharey=True, layout="constrained")
    for ax, model, name, acc in [(axes[0], linear, "one 1x1 convolution (linear)", linear_acc),
                                 (axes[1], mlp, "1x1 -> ReLU -> 1x1 (an MLP per pixel)", mlp_acc)]:
        probability, _ = C.sigmoid_forward(model.forward(plane)[0, 0])
        regions = ax.contourf(c0, c1, probability, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.75)
        ax.contour(c0, c1, probability, levels=[0.5], colors="k", linewidths=1.5)
        ax.scatter(points[0], points[1], c=labels, cmap="RdBu_r", edgecolors="k", linewidths=0.4, s=14)
        ax.set(title=f"{name}\ntest accuracy {acc:.1%}", xlabel="channel 0", xlim=(-3, 3), ylim=(-3, 3))
    axes[0].set_ylabel("channel 1")
    fig.colorbar(regions, ax=axes, label="P(XOR = 1) given by the model")
    fig.suptitle("XOR of the signs, per pixel: test pixels (dots; red = 1) over the decision regions")
    plt.show()
