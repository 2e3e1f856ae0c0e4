"""PyTorch twins of the blocks and of ShuffleNet, written from the papers (never from conv1x1.models), for the
comparisons in test_blocks.py and test_zoo.py, and a counter of the multiply-adds PyTorch runs. A test that takes
``torch_twins`` or ``torch_macs`` skips where torch is absent."""

from types import SimpleNamespace

import pytest


@pytest.fixture
def torch_macs(torch):
    """``torch_macs(module, size)``: the multiply-adds of every Conv2d and Linear of a PyTorch module in the order
    they run on a 1 x 3 x size x size input in evaluation mode, counted by forward hooks on PyTorch's own modules:
    output elements x C_in / groups x K_h x K_w, or output elements x in_features."""
    def macs(module, size):
        counted = []

        def count(layer, inputs, output):
            if isinstance(layer, torch.nn.Conv2d):
                counted.append(output.numel() * layer.in_channels // layer.groups * layer.kernel_size[0]
                               * layer.kernel_size[1])
            else:
                counted.append(output.numel() * layer.in_features)
        for layer in module.modules():
            if isinstance(layer, (torch.nn.Conv2d, torch.nn.Linear)):
                layer.register_forward_hook(count)
        with torch.no_grad():
            module.eval()(torch.zeros(1, 3, size, size))
        return counted
    return macs


@pytest.fixture
def torch_twins(torch):
    return SimpleNamespace(**_residual_blocks(torch), **_shufflenet(torch))


def _residual_blocks(torch):
    nn = torch.nn

    class Bottleneck(nn.Module):
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

    def depthwise_separable(c_in, c_out, stride):
        return nn.Sequential(nn.Conv2d(c_in, c_in, 3, stride=stride, padding=1, groups=c_in, bias=False),
                             nn.BatchNorm2d(c_in), nn.ReLU(),
                             nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())

    return {"bottleneck": Bottleneck, "depthwise_separable": depthwise_separable}


def _shufflenet(torch):
    nn = torch.nn

    class ShuffleUnit(nn.Module):
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

    def shufflenet_v1(groups):
        """ShuffleNet v1 from the paper's Table 1."""
        width = {1: 144, 2: 200, 3: 240, 4: 272, 8: 384}[groups]
        layers = [nn.Conv2d(3, 24, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(24), nn.ReLU(),
                  nn.MaxPool2d(3, stride=2, padding=1)]
        c_in = 24
        for stage, units in enumerate((4, 8, 4)):
            c_out = width * 2 ** stage
            for j in range(units):
                first_groups = 1 if (stage, j) == (0, 0) else groups
                layers.append(ShuffleUnit(c_in, c_out, groups, 2 if j == 0 else 1, first_groups))
                c_in = c_out
        return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, 1000))

    return {"shuffle_unit": ShuffleUnit, "shufflenet_v1": shufflenet_v1}
