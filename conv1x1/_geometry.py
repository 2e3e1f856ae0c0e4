"""Output sizes of sliding-window layers (convolution, pooling), computed in one place.

Both the real layers and the cost counter use these helpers, so a shape the
counter predicts is the shape the layer returns.
"""

from __future__ import annotations

from ._validation import non_negative_int, positive_int


def resolve_padding(padding, kernel_size: int, stride: int, name: str = "padding") -> int:
    """Return the padding as an int; ``"same"`` means (K - 1) // 2 for odd K and stride 1.

    Raises
    ------
    ValueError
        For ``"same"`` with an even kernel or a stride above 1 (the output could
        not keep the input's size), or for another string.
    TypeError
        For a padding that is neither an int nor ``"same"``.
    """
    if isinstance(padding, str):
        if padding != "same":
            raise ValueError(f'{name} must be a non-negative integer or "same", got {padding!r}')
        if kernel_size % 2 == 0:
            raise ValueError(f'{name}="same" needs an odd kernel size, got kernel_size={kernel_size}: '
                             "an even kernel cannot be centred on a pixel")
        if stride != 1:
            raise ValueError(f'{name}="same" needs stride=1, got stride={stride}: a stride shrinks the output')
        return (kernel_size - 1) // 2
    return non_negative_int(padding, name)


def output_size(size: int, kernel_size: int, stride: int, padding: int, axis: str = "height") -> int:
    """``floor((size + 2 * padding - kernel_size) / stride) + 1``, or a ValueError if the kernel does not fit."""
    padded = size + 2 * padding
    if kernel_size > padded:
        raise ValueError(
            f"kernel_size {kernel_size} is larger than the padded input {axis} {padded} "
            f"({axis} {size} + 2 * padding {padding}); use a smaller kernel or more padding"
        )
    return (padded - kernel_size) // stride + 1


def window_geometry(height, width, kernel_size, stride, padding):
    """Validate a sliding window's settings and return ``(kernel, stride, padding, out_h, out_w)``."""
    kernel_size = positive_int(kernel_size, "kernel_size")
    stride = positive_int(stride, "stride")
    padding = resolve_padding(padding, kernel_size, stride)
    out_h = output_size(height, kernel_size, stride, padding, "height")
    out_w = output_size(width, kernel_size, stride, padding, "width")
    return kernel_size, stride, padding, out_h, out_w
