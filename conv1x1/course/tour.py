"""The tour that ``python -m conv1x1`` prints: the 1x1 convolution's story, with numbers computed on the spot."""

from __future__ import annotations

import numpy as np

from .. import __version__, gradcheck, reference
from ..containers import Sequential
from ..cost import bottleneck_comparison
from ..layers import Conv1x1, ReLU

EXAMPLES = [
    ("01_per_pixel_fc.py", "loops, einsum, matmul and a dense layer per pixel all agree"),
    ("02_dimension_reduction.py", "28x28x192 -> 28x28x32: the number of filters is the output depth"),
    ("03_nonlinearity.py", "Network in Network: a per-pixel XOR that no single 1x1 conv can learn"),
    ("04_bottleneck_cost.py", "direct 5x5 versus 1x1 -> 5x5: predicted MACs and measured time"),
    ("05_inception_cost.py", "an Inception module with and without 1x1 reductions, per branch"),
    ("06_gradient_check.py", "verify a backward pass, and catch a wrong one"),
    ("07_einsum_paths.py", "one contraction computed seven ways, timed against the raw GEMM"),
    ("08_inception_module.py", "GoogLeNet's module 3a built from the layers: forward, backward, cost"),
    ("09_depthwise_separable.py", "a 3x3 layer at 14x14x512, dense vs depthwise-separable: MACs and time"),
    ("10_resnet_bottleneck.py", "bottleneck 256->64->64->256 vs a basic block: similar MACs, 4x the width"),
    ("11_where_the_macs_go.py", "MACs by layer kind in five networks; grouped 1x1 + shuffle vs dense 1x1"),
    ("12_roofline.py", "every layer of module 3a timed against this machine's roofline"),
    ("13_nin_digits.py", "Network in Network trained on real digits: what the 1x1 layers and ReLUs buy"),
    ("14_shufflenet.py", "ShuffleNet: grouped 1x1s at 1/g the cost, the shuffle, Table 1's complexities"),
    ("15_to_pytorch.py", "NiN trained here, then in PyTorch, then back here; torchvision's ResNet-50 priced"),
    ("16_spiral_relu.py", "MobileNetV2's spiral: a ReLU in n channels, for n from 2 to 30, and back"),
    ("17_linear_bottleneck.py", "a linear against a ReLU bottleneck, trained on digits over several seeds"),
    ("18_squeeze_excite.py", "squeeze-and-excitation: two 1x1s on a pooled map gate a photograph's channels"),
    ("19_conv1x1_is_linear.py", "a 1x1 conv as a Linear on channels-last, a transformer MLP, PointNet; NCHW vs NHWC"),
    ("20_modern_macs.py", "where the MACs go in every network of conv1x1.models; pointwise / depthwise = C_out / K^2"),
]


def tour() -> None:
    """Print the 1x1 convolution story, with numbers computed on the spot."""
    rng = np.random.default_rng(0)
    print(f"conv1x1 {__version__}: the 1x1 convolution in plain NumPy\n", flush=True)   # at once, even on a pipe

    print("1. A 1x1 convolution is a fully connected layer applied at every pixel:")
    print("     out[n, o, h, w] = sum_c w[o, c] * x[n, c, h, w] + b[o]")
    print("     out = np.einsum('oc,nchw->nohw', w, x) + b[None, :, None, None]\n")

    x = rng.standard_normal((1, 192, 28, 28))
    layer = Conv1x1(192, 32, rng=rng)
    layer.params["b"][:] = rng.standard_normal(32)
    out = layer.forward(x)
    print("2. Cutting depth: 32 filters of size 1x1x192")
    print(f"     x {_hwc(x.shape)}  --{layer!r}-->  out {_hwc(out.shape)}")
    print("     the number of filters sets the output depth; height and width stay.\n")

    dense = reference.conv1x1_as_dense(x, layer.params["w"], layer.params["b"])
    print("3. The same numbers from one dense layer on each pixel's 192-vector (w @ x[:, h, w] + b):")
    print(f"     max |conv1x1 - dense per pixel| = {np.max(np.abs(out - dense)):.1e}\n")

    small = Sequential(Conv1x1(4, 6, rng=rng), ReLU(), Conv1x1(6, 3, rng=rng))
    errors = gradcheck.check_layer(small, rng.standard_normal((2, 4, 3, 5)))
    print("4. Gradient check of Conv1x1(4, 6) -> ReLU -> Conv1x1(6, 3), central differences in float64:")
    print(f"     max relative error {max(errors.values()):.1e} over x and {len(errors) - 1} parameter arrays"
          " (below 1e-7: the backward pass is right)\n")

    comparison = bottleneck_comparison(192, 16, 32, 28, 28, kernel_size=5)
    print("5. The Inception bottleneck: 28x28x192 -> 28x28x32 with a 5x5 convolution")
    print(_indent(str(comparison).split("\n\n")[0]))
    print(f"     a 1x1 reduction to 16 channels first needs {comparison.macs_ratio:.1f}x fewer multiply-adds "
          "(1 MAC = 2 FLOPs)\n")

    print("Next, from a clone of the repository, run the examples:")
    for name, what in EXAMPLES:
        print(f"     python examples/{name:<27} {what}")
    print("   and price your own layers: python -m conv1x1 cost --help")


def _hwc(shape: tuple[int, ...]) -> str:
    """(N, C, H, W) -> 'HxWxC', the way papers write feature-map sizes."""
    return f"{shape[2]}x{shape[3]}x{shape[1]}"


def _indent(text: str, prefix: str = "     ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())
