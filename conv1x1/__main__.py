"""``python -m conv1x1``: a short tour of the 1x1 convolution, and a cost calculator.

    python -m conv1x1                 # the tour (a few seconds)
    python -m conv1x1 cost --in 192 --reduce 16 --out 32 --size 28 --kernel 5
    python -m conv1x1 cost --in 192 --out 32 --size 28 --kernel 1
    python -m conv1x1 --help
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

import conv1x1 as C
from conv1x1.cost import Report, bottleneck_comparison, conv_cost

EXAMPLES = [
    ("01_per_pixel_fc.py", "loops, einsum, matmul and a dense layer per pixel all agree"),
    ("02_dimension_reduction.py", "28x28x192 -> 28x28x32: the number of filters is the output depth"),
    ("03_nonlinearity.py", "Network in Network: a per-pixel XOR that no single 1x1 conv can learn"),
    ("04_bottleneck_cost.py", "direct 5x5 versus 1x1 -> 5x5: predicted MACs and measured time"),
    ("05_inception_cost.py", "an Inception module with and without 1x1 reductions, per branch"),
    ("06_gradient_check.py", "verify a backward pass, and catch a wrong one"),
    ("07_einsum_paths.py", "one contraction computed six ways, timed against the raw GEMM"),
    ("08_inception_module.py", "GoogLeNet's module 3a built from the layers: forward, backward, cost"),
    ("13_nin_digits.py", "Network in Network trained on real digits: what the 1x1 layers and ReLUs buy"),
]


def tour() -> None:
    """Print the 1x1 convolution story, with numbers computed on the spot."""
    rng = np.random.default_rng(0)
    print(f"conv1x1 {C.__version__}: the 1x1 convolution in plain NumPy\n")

    print("1. A 1x1 convolution is a fully connected layer applied at every pixel:")
    print("     out[n, o, h, w] = sum_c w[o, c] * x[n, c, h, w] + b[o]")
    print("     out = np.einsum('oc,nchw->nohw', w, x) + b[None, :, None, None]\n")

    x = rng.standard_normal((1, 192, 28, 28))
    layer = C.Conv1x1(192, 32, rng=rng)
    layer.params["b"][:] = rng.standard_normal(32)
    out = layer.forward(x)
    print("2. Cutting depth: 32 filters of size 1x1x192")
    print(f"     x {_hwc(x.shape)}  --{layer!r}-->  out {_hwc(out.shape)}")
    print("     the number of filters sets the output depth; height and width stay.\n")

    dense = C.reference.conv1x1_as_dense(x, layer.params["w"], layer.params["b"])
    print("3. The same numbers from one dense layer on each pixel's 192-vector (w @ x[:, h, w] + b):")
    print(f"     max |conv1x1 - dense per pixel| = {np.max(np.abs(out - dense)):.1e}\n")

    small = C.Sequential(C.Conv1x1(4, 6, rng=rng), C.ReLU(), C.Conv1x1(6, 3, rng=rng))
    errors = C.gradcheck.check_layer(small, rng.standard_normal((2, 4, 3, 5)))
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


def _hwc(shape) -> str:
    """(N, C, H, W) -> 'HxWxC', the way papers write feature-map sizes."""
    return f"{shape[2]}x{shape[3]}x{shape[1]}"


def _indent(text: str, prefix: str = "     ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def cost_command(args, parser: argparse.ArgumentParser) -> None:
    """Print a layer's cost, or the bottleneck comparison when --reduce is given."""
    height = args.height if args.height is not None else args.size
    width = args.width if args.width is not None else args.size
    if height is None or width is None:
        parser.error("give the input size: --size S, or --height H and --width W")
    padding = "same" if args.padding == "same" else _int(args.padding, "--padding", parser)
    try:
        if args.reduce is not None:
            if args.stride != 1 or args.padding != "same":
                parser.error("--reduce compares 'same' convolutions: leave --stride and --padding at their defaults")
            print(bottleneck_comparison(args.in_channels, args.reduce, args.out_channels, height, width,
                                        kernel_size=args.kernel, bias=not args.no_bias))
        else:
            layer = conv_cost(args.in_channels, args.out_channels, height, width, args.kernel, args.stride,
                              padding, bias=not args.no_bias)
            print(Report([layer], title=f"{args.kernel}x{args.kernel} convolution, "
                                        f"{height}x{width}x{args.in_channels} input"))
    except (ValueError, TypeError) as error:
        parser.error(str(error))


def _int(text: str, flag: str, parser: argparse.ArgumentParser) -> int:
    try:
        return int(text)
    except ValueError:
        parser.error(f'{flag} must be an integer or "same", got {text!r}')


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m conv1x1",
        description="The 1x1 convolution in plain NumPy. Without a command: a short tour.",
        epilog="Example: python -m conv1x1 cost --in 192 --reduce 16 --out 32 --size 28 --kernel 5",
    )
    parser.add_argument("--version", action="version", version=f"conv1x1 {C.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="{tour,cost}")
    commands.add_parser("tour", help="the tour (the default)")
    cost = commands.add_parser(
        "cost", help="parameters, MACs and FLOPs of a convolution (1 MAC = 2 FLOPs)",
        description="Count parameters, MACs and FLOPs (1 MAC = 2 FLOPs) of a KxK convolution, "
                    "or with --reduce compare it with a 1x1 reduction followed by the KxK convolution.")
    cost.add_argument("--in", dest="in_channels", type=int, required=True, metavar="C_IN",
                      help="input channels")
    cost.add_argument("--out", dest="out_channels", type=int, required=True, metavar="C_OUT",
                      help="output channels (the number of filters)")
    cost.add_argument("--reduce", type=int, metavar="C_RED",
                      help="compare with a 1x1 reduction to C_RED channels before the KxK convolution")
    cost.add_argument("--size", type=int, help="input height and width (square)")
    cost.add_argument("--height", type=int, help="input height (overrides --size)")
    cost.add_argument("--width", type=int, help="input width (overrides --size)")
    cost.add_argument("--kernel", type=int, default=5, metavar="K", help="kernel size K (default 5)")
    cost.add_argument("--stride", type=int, default=1, help="stride (default 1)")
    cost.add_argument("--padding", default="same", help='padding: an integer or "same" (default)')
    cost.add_argument("--no-bias", action="store_true", help="count no bias parameters")
    cost.set_defaults(subparser=cost)  # so that errors print the cost command's usage
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "cost":
        cost_command(args, args.subparser)
    else:
        tour()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
