# %% [markdown]
# # 3. Network in Network: a non-linearity per pixel
#
# A 1x1 convolution is linear at each pixel. So is any stack of them *without* an activation in
# between. Some per-pixel maps are not linear. Here each pixel has two channels, and the target is
# the XOR of their signs: 1 where exactly one channel is positive. No line separates those
# pixels, so a single 1x1 convolution stays near chance. Put a ReLU between two 1x1 convolutions
# (a tiny MLP run at every pixel, the "Network in Network" idea) and the task is solved.

# %%
import numpy as np

import conv1x1 as C

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


# %%
linear = C.Conv1x1(2, 1, rng=rng)                                       # one 1x1 conv: linear per pixel
mlp = C.Sequential(C.Conv1x1(2, 16, rng=rng), C.ReLU(), C.Conv1x1(16, 1, rng=rng))

linear_loss = train(linear)
mlp_loss = train(mlp)
linear_acc, mlp_acc = accuracy(linear, x_test, y_test), accuracy(mlp, x_test, y_test)

print(f"per-pixel XOR of the signs of two channels, {y_test.size:,} test pixels (chance = 50%)")
print(f"single Conv1x1(2, 1)              : loss {linear_loss:.3f}, test accuracy {linear_acc:.1%}")
print(f"Conv1x1(2, 16) -> ReLU -> Conv1x1 : loss {mlp_loss:.3f}, test accuracy {mlp_acc:.1%}")
print("the linear model stays near chance; the non-linearity between two 1x1 convs solves it")
