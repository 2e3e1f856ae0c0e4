"""``python -m conv1x1``: a short tour of the 1x1 convolution.

Run ``python -m conv1x1 --help`` for the options.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

import conv1x1 as C


def tour() -> None:
    """Print the 1x1 convolution story, with numbers computed on the spot."""
    rng = np.random.default_rng(0)
    print(f"conv1x1 {C.__version__}: the 1x1 convolution in plain NumPy\n")

    print("1. A 1x1 convolution is a fully connected layer applied at every pixel:")
    print("     out[n, o, h, w] = sum_c w[o, c] * x[n, c, h, w] + b[o]")
    print("     out = np.einsum('oc,nchw->nohw', w, x) + b[None, :, None, None]\n")

    x = rng.standard_normal((1, 192, 28, 28))
    layer = C.Conv1x1(192, 32, rng=rng)
    out = layer.forward(x)
    print("2. Cutting depth: 32 filters of size 1x1x192")
    print(f"     x {_hwc(x.shape)}  --{layer!r}-->  out {_hwc(out.shape)}")
    print("     the number of filters sets the output depth; height and width stay.\n")

    dense = C.reference.conv1x1_as_dense(x, layer.params["w"], layer.params["b"])
    print("3. The same numbers from one dense layer on each pixel's 192-vector:")
    print(f"     max |conv1x1 - dense per pixel| = {np.max(np.abs(out - dense)):.1e}\n")

    small = C.Sequential(C.Conv1x1(4, 6, rng=rng), C.ReLU(), C.Conv1x1(6, 3, rng=rng))
    x_small = rng.standard_normal((2, 4, 3, 5))
    x_small += np.sign(x_small) * 0.1  # keep off ReLU's kink at 0
    errors = C.gradcheck.check_layer(small, x_small)
    print("4. Gradient check of Conv1x1(4, 6) -> ReLU -> Conv1x1(6, 3), central differences in float64:")
    print(f"     max relative error {max(errors.values()):.1e} over x and {len(errors) - 1} parameter arrays"
          " (below 1e-7: the backward pass is right)\n")

    print("Next: python -m conv1x1 --help")


def _hwc(shape) -> str:
    """(N, C, H, W) -> 'HxWxC', the way papers write feature-map sizes."""
    return f"{shape[2]}x{shape[3]}x{shape[1]}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m conv1x1",
        description="A tour of the 1x1 convolution (run without arguments).",
    )
    parser.add_argument("--version", action="version", version=f"conv1x1 {C.__version__}")
    return parser


def main(argv=None) -> int:
    build_parser().parse_args(argv)
    tour()
    return 0


if __name__ == "__main__":
    sys.exit(main())
