"""Max pooling and the Inception module: values, gradients, cost and contract."""

import numpy as np
import pytest

import conv1x1 as C
from conv1x1.cost import inception_cost
from conv1x1.gradcheck import check_layer, numerical_gradient, rel_error
from conv1x1.reference import maxpool2d_loops

pytestmark = pytest.mark.usefixtures("both_paths")  # plain and conv1x1.fast: same results

POOLS = [(2, None, 0), (3, 1, 1), (3, 2, 1), (2, 1, 0), (3, 3, 0), (1, None, 0)]


def test_maxpool_layer(rng):
    layer = C.MaxPool2d(3, stride=1, padding=1)
    assert layer.params == {} and repr(layer) == "MaxPool2d(kernel_size=3, stride=1, padding=1)"
    x = rng.permutation(50).reshape(1, 2, 5, 5) / 7.0
    assert max(check_layer(layer, x).values()) < 1e-7
    assert layer.cost(28, 28, in_channels=192)[0].out_shape == (192, 28, 28)


def _small_module(rng):
    return C.Inception(3, 2, 2, 3, 2, 2, 2, rng=rng)


def test_inception_structure_and_forward(rng):
    block = _small_module(rng)
    kinds = [[type(layer).__name__ for layer in branch.layers] for branch in block.branches]
    assert kinds == [["Conv1x1", "ReLU"], ["Conv1x1", "ReLU", "Conv2d", "ReLU"],
                     ["Conv1x1", "ReLU", "Conv2d", "ReLU"], ["MaxPool2d", "Conv1x1", "ReLU"]]
    assert (block.branches[1][2].kernel_size, block.branches[1][2].padding) == (3, 1)
    assert (block.branches[2][2].kernel_size, block.branches[2][2].padding) == (5, 2)
    x = rng.standard_normal((2, 3, 6, 5))
    out = block.forward(x)
    assert out.shape == (2, 2 + 3 + 2 + 2, 6, 5)
    # Concatenated in branch order
    np.testing.assert_array_equal(out[:, :2], block.branches[0].forward(x))
    np.testing.assert_array_equal(out[:, 7:], block.branches[3].forward(x))


def test_inception_gradient_check(rng):
    """The whole module, float64 central differences; bound 1e-7 on x and all 12 parameter arrays."""
    block = _small_module(rng)
    for name, param in block.params.items():
        if name.endswith("b"):  # off zero: a zero bias after a dead ReLU sits exactly on the next kink
            param[...] = rng.standard_normal(param.shape)
    x = rng.standard_normal((2, 3, 5, 4))
    errors = check_layer(block, x)
    assert len(errors) == 13 and max(errors.values()) < 1e-7, errors


def test_inception_backward_sums_the_branches(rng):
    block = _small_module(rng)
    x = rng.standard_normal((1, 3, 4, 4))
    out = block.forward(x)
    dout = rng.standard_normal(out.shape)
    dx = block.backward(dout)
    parts = np.split(dout, [2, 5, 7], axis=1)
    expected = sum(branch.backward(part) for branch, part in zip(block.branches, parts))
    np.testing.assert_allclose(dx, expected, rtol=1e-12)


def test_inception_parameters_reach_every_array(rng):
    block = _small_module(rng)
    pairs = list(block.parameters())
    assert len(pairs) == len(block.params) == 12
    assert block.params["1.2.w"] is block.branches[1][2].params["w"]
    out = block.forward(rng.standard_normal((1, 3, 4, 4)))
    block.backward(np.ones_like(out))
    before = block.branches[2][2].params["w"].copy()
    for param, grad in block.parameters():
        param -= 0.1 * grad
    assert not np.array_equal(before, block.branches[2][2].params["w"])


@pytest.mark.parametrize("widths", [(192, 64, 96, 128, 16, 32, 32), (256, 128, 128, 192, 32, 96, 64),
                                    (5, 1, 2, 3, 4, 5, 6)])
def test_inception_cost_matches_the_counter_and_its_arrays(widths):
    block = C.Inception(*widths, rng=0)
    report = block.cost(28, 28)
    expected = inception_cost(widths[0], 28, 28, *widths[1:])
    assert report.macs == expected.macs and report.params == expected.params
    assert report.params == sum(p.size for p in block.params.values())
    assert report.out_shape == (block.out_channels, 28, 28)


def test_inception_errors(rng):
    block = _small_module(rng)
    with pytest.raises(RuntimeError, match="forward must run first"):
        block.backward(np.zeros((1, 9, 4, 4)))
    with pytest.raises(ValueError, match="expects 3 input channels but x has 4"):
        block.forward(np.zeros((1, 4, 4, 4)))
    block.forward(np.zeros((1, 3, 4, 4)))
    with pytest.raises(ValueError, match="dout"):
        block.backward(np.zeros((1, 8, 4, 4)))
    with pytest.raises(ValueError, match="n5x5_reduce"):
        C.Inception(3, 2, 2, 3, 0, 2, 2)
    assert repr(block) == "Inception(3, 2, 2, 3, 2, 2, 2)"


def test_concat_of_arbitrary_branches(rng):
    both = C.Concat(C.Sequential(C.Conv1x1(3, 2, rng=rng), C.Tanh()), C.MaxPool2d(3, stride=1, padding=1))
    x = rng.standard_normal((2, 3, 4, 5))
    assert both.forward(x).shape == (2, 5, 4, 5)
    assert max(check_layer(both, x).values()) < 1e-7
    report = both.cost(4, 5, in_channels=3)
    assert report.out_shape == (5, 4, 5) and report.macs == 3 * 2 * 20
    with pytest.raises(TypeError, match="Concat takes Layer objects"):
        C.Concat(C.ReLU(), "relu")
