"""Grouped and depthwise convolution, batch norm, channel shuffle, ceil-mode and average pooling and three
blocks against PyTorch, in float64 to 1e-10. Skipped when PyTorch is absent (it is never a dependency)."""

import numpy as np
import pytest

import conv1x1 as C
from conv1x1 import fast

torch = pytest.importorskip("torch")
nn = torch.nn
TOL = {"rtol": 1e-10, "atol": 1e-10}


def _close(ours, theirs):
    np.testing.assert_allclose(ours, theirs.detach().numpy(), **TOL)


def test_batchnorm_train_steps_running_stats_and_eval_equal_torch(rng):
    ours = C.BatchNorm2d(3, eps=1e-3, momentum=0.2)
    theirs = nn.BatchNorm2d(3, eps=1e-3, momentum=0.2).double()
    gamma, beta = rng.uniform(0.5, 1.5, 3), rng.standard_normal(3)
    ours.params["gamma"][...], ours.params["beta"][...] = gamma, beta
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(gamma))
        theirs.bias.copy_(torch.tensor(beta))
    def step(x):
        """One forward and backward of both; outputs and gradients must agree."""
        dout = rng.standard_normal(x.shape)
        tx = torch.tensor(x, requires_grad=True)
        tout = theirs(tx)
        tout.backward(torch.tensor(dout))
        _close(ours.forward(x), tout)
        _close(ours.backward(dout), tx.grad)
        _close(ours.grads["gamma"], theirs.weight.grad)

    for _ in range(3):                                   # training steps: outputs, gradients, running stats
        step(rng.standard_normal((4, 3, 5, 2)) * 2 + 1)
        _close(ours.grads["beta"], theirs.bias.grad)
        theirs.zero_grad()
        _close(ours.running_mean, theirs.running_mean)
        _close(ours.running_var, theirs.running_var)
    ours.eval()
    theirs.eval()
    step(rng.standard_normal((2, 3, 3, 3)))


def _copy_weights(ours, theirs):
    """Copy our parameters into the torch module's, in order (both list them layer by layer, gamma before beta)."""
    pairs = list(zip(ours.params.values(), theirs.parameters()))
    assert len(pairs) == len(ours.params) == len(list(theirs.parameters()))
    with torch.no_grad():
        for ours_p, theirs_p in pairs:
            theirs_p.copy_(torch.tensor(ours_p).reshape(theirs_p.shape))
    return pairs


class TorchBottleneck(nn.Module):
    def __init__(self, c_in, mid, c_out, stride, stride_on):
        super().__init__()
        s1, s3 = (stride, 1) if stride_on == "1x1" else (1, stride)
        self.block = nn.Sequential(
            nn.Conv2d(c_in, mid, 1, stride=s1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(),
            nn.Conv2d(mid, mid, 3, stride=s3, padding=1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(),
            nn.Conv2d(mid, c_out, 1, bias=False), nn.BatchNorm2d(c_out))
        self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        return torch.relu(self.block(x) + self.shortcut(x))


def _torch_depthwise_separable(c_in, c_out, stride):
    return nn.Sequential(nn.Conv2d(c_in, c_in, 3, stride=stride, padding=1, groups=c_in, bias=False),
                         nn.BatchNorm2d(c_in), nn.ReLU(),
                         nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())


class TorchShuffleUnit(nn.Module):
    """The paper's Figure 2 (b) and (c), written out in PyTorch."""

    def __init__(self, c_in, c_out, groups, stride, first_groups):
        super().__init__()
        mid, branch_out = c_out // 4, c_out if stride == 1 else c_out - c_in
        layers = [nn.Conv2d(c_in, mid, 1, groups=first_groups, bias=False), nn.BatchNorm2d(mid), nn.ReLU()]
        if first_groups > 1:
            layers.append(nn.ChannelShuffle(first_groups))
        layers += [nn.Conv2d(mid, mid, 3, stride=stride, padding=1, groups=mid, bias=False), nn.BatchNorm2d(mid),
                   nn.Conv2d(mid, branch_out, 1, groups=groups, bias=False), nn.BatchNorm2d(branch_out)]
        self.branch, self.stride = nn.Sequential(*layers), stride

    def forward(self, x):
        if self.stride == 1:
            return torch.relu(self.branch(x) + x)
        return torch.relu(torch.cat([nn.functional.avg_pool2d(x, 3, 2, 1), self.branch(x)], dim=1))


def _torch_shufflenet_v1(groups):
    """ShuffleNet v1 written out in PyTorch from the paper's Table 1 (not from our models module)."""
    width = {1: 144, 2: 200, 3: 240, 4: 272, 8: 384}[groups]
    layers = [nn.Conv2d(3, 24, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(24), nn.ReLU(),
              nn.MaxPool2d(3, stride=2, padding=1)]
    c_in = 24
    for stage, units in enumerate((4, 8, 4)):
        c_out = width * 2 ** stage
        for j in range(units):
            first_groups = 1 if (stage, j) == (0, 0) else groups
            layers.append(TorchShuffleUnit(c_in, c_out, groups, 2 if j == 0 else 1, first_groups))
            c_in = c_out
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, 1000))
