"""``conv1x1.fast.enabled()``: the layers take the engine room's functions inside the block and the plain ones
outside it, with the same results and caches each backward can read; float32 stays float32 through networks."""

import contextlib
import threading

import numpy as np
import pytest

import conv1x1 as C
from conv1x1 import fast, functional, models


def _plain_functions():
    return {name: getattr(functional, name) for name in fast.FUNCTIONS}


def test_enabled_swaps_the_functional_functions_and_puts_the_plain_ones_back():
    plain = _plain_functions()
    assert plain["conv2d_forward"] is functional.conv2d.conv2d_forward
    with fast.enabled():
        for name in fast.FUNCTIONS:
            assert getattr(functional, name) is getattr(fast, name), name
        assert C.conv2d_forward is functional.conv2d.conv2d_forward      # the package's own names stay plain
    assert _plain_functions() == plain


def test_enabled_puts_the_plain_functions_back_after_an_exception():
    plain = _plain_functions()
    with pytest.raises(ZeroDivisionError), fast.enabled():
        assert functional.relu_backward is fast.relu_backward
        raise ZeroDivisionError("inside the block")
    assert _plain_functions() == plain
    layer = C.Conv2d(4, 4, 3, padding=1, groups=4, rng=0)
    layer.forward(np.ones((1, 4, 5, 5)))
    assert type(layer.cache).__name__ == "Conv2dCache"                     # a layer takes the plain path again


def test_enabled_blocks_nest_and_the_last_one_to_close_restores():
    plain = _plain_functions()
    with fast.enabled():
        with fast.enabled():
            pass
        assert functional.maxpool2d_forward is fast.maxpool2d_forward     # the outer block is still open
    assert _plain_functions() == plain


def test_enabled_is_process_wide_not_thread_local():
    """A block open in one thread sends every thread's layers down the fast path, as documented."""
    opened, release = threading.Event(), threading.Event()

    def hold():
        with fast.enabled():
            opened.set()
            release.wait(10)
    worker = threading.Thread(target=hold)
    worker.start()
    try:
        assert opened.wait(10)
        assert functional.conv2d_backward is fast.conv2d_backward
    finally:
        release.set()
        worker.join()
    assert functional.conv2d_backward is functional.conv2d.conv2d_backward


def test_layers_take_the_fast_path_only_inside_the_block(rng):
    """A depthwise layer's cache tells the route: the phase-grid route's DepthwiseCache inside, im2col outside."""
    layer = C.Conv2d(6, 6, 3, stride=2, padding=1, groups=6, rng=0)
    x = rng.standard_normal((2, 6, 9, 9))
    dout = rng.standard_normal((2, 6, 5, 5))
    out = layer.forward(x)
    dx = layer.backward(dout)
    dw = layer.grads["w"].copy()
    assert not isinstance(layer.cache, fast.DepthwiseCache)
    with fast.enabled():
        fast_out = layer.forward(x)
        assert isinstance(layer.cache, fast.DepthwiseCache)
        fast_dx = layer.backward(dout)
    np.testing.assert_allclose(fast_out, out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fast_dx, dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.grads["w"], dw, rtol=1e-12, atol=1e-12)


def test_the_fast_backward_reads_a_plain_forwards_cache_but_not_the_other_way_for_depthwise(rng):
    """Every fast backward takes the plain caches. The depthwise route's cache holds x, not the im2col matrix,
    so the plain backward refuses it with a TypeError naming the cache it expected (enabled()'s docstring)."""
    model = C.Sequential(C.Conv2d(4, 4, 3, padding=1, groups=4, rng=0), C.BatchNorm2d(4), C.ReLU(),
                         C.MaxPool2d(3, stride=2, padding=1), C.Conv2d(4, 6, 3, padding=1, rng=1))
    x = rng.standard_normal((2, 4, 8, 8))
    out = model.forward(x)
    dout = rng.standard_normal(out.shape)
    want = model.backward(dout)
    model.forward(x)
    with fast.enabled():
        got = model.backward(dout)                  # plain caches, fast backward passes
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    with fast.enabled():
        model.forward(x)
    with pytest.raises(TypeError, match="Conv2dCache"):
        model.backward(dout)


def _leaves(layer):
    if not layer.children:
        yield layer
    for child in layer.children:
        yield from _leaves(child)


NETWORKS = [
    (lambda dtype: models.mobilenet_v1(width_multiplier=0.25, num_classes=10, rng=0, dtype=dtype), 32),
    (lambda dtype: models.squeezenet1_0(num_classes=10, rng=0, dtype=dtype), 48),
    (lambda dtype: models.resnet50(num_classes=10, rng=0, dtype=dtype), 32),
    (lambda dtype: models.shufflenet_v1(3, width_multiplier=0.5, num_classes=10, rng=0, dtype=dtype), 32),
]
NETWORK_IDS = ["mobilenet", "squeezenet", "resnet50", "shufflenet"]


def _step(model, x, path):
    """One forward and backward on ``path``: (out, dx, {name: parameter gradient})."""
    with fast.enabled() if path == "fast" else contextlib.nullcontext():
        out = model.forward(x)
        dx = model.backward(np.linspace(-1, 1, out.size, dtype=out.dtype).reshape(out.shape))
    return out, dx, {name: grad.copy() for name, grad in model.grads.items()}


@pytest.mark.parametrize("build, size", NETWORKS, ids=NETWORK_IDS)
def test_float32_stays_float32_through_whole_networks_on_the_fast_path(rng, build, size):
    """Every layer's output and input gradient, and every parameter gradient, is float32."""
    model = build(np.float32)
    seen = []

    def recorded(method, name):
        def call(array):
            seen.append((name, method(array)))
            return seen[-1][1]
        return call
    for layer in _leaves(model):
        layer.forward, layer.backward = recorded(layer.forward, repr(layer)), recorded(layer.backward, repr(layer))
    _, _, grads = _step(model, rng.standard_normal((2, 3, size, size)).astype(np.float32), "fast")
    assert len(seen) == 2 * len(list(_leaves(model)))
    assert all(array.dtype == np.float32 for _, array in seen), [n for n, a in seen if a.dtype != np.float32]
    assert all(grad.dtype == np.float32 for grad in grads.values())


@pytest.mark.parametrize("build, size", NETWORKS, ids=NETWORK_IDS)
def test_whole_networks_give_the_same_numbers_on_both_paths(rng, build, size):
    """Output, input gradient and every parameter gradient, float64 to 1e-9 (float32 rounding is amplified
    by batch norm on these small maps, down to two values per channel at the last stage)."""
    model = build(np.float64)
    x = rng.standard_normal((2, 3, size, size))
    plain, fast_path = _step(model, x, "plain"), _step(model, x, "fast")
    for want, got in zip(plain[:2], fast_path[:2]):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9 * np.abs(want).max())
    largest = max(np.abs(grad).max() for grad in plain[2].values())     # some are zero up to rounding
    for name, grad in plain[2].items():
        np.testing.assert_allclose(fast_path[2][name], grad, rtol=1e-9, atol=1e-9 * largest, err_msg=name)
