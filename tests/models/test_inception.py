"""conv1x1.models.inception: the Inception module's branches follow the paper, concatenate in order, carry the
widths and channels its attributes name, pass the gradient check, cost what conv1x1.cost.inception_cost prices,
and refuse bad calls in the module's own words."""

import numpy as np
import pytest

import conv1x1 as C
from conv1x1.cost import inception_cost
from conv1x1.gradcheck import check_layer

# Tests that run the module's forward or backward pass take both paths (tests/conftest.py's both_paths): the plain one
# and the engine room's, under C.fast.enabled(). The ones that only build and price it run once.


def _small_module(rng):
    return C.Inception(3, 2, 2, 3, 2, 2, 2, rng=rng)


@pytest.mark.usefixtures("both_paths")
def test_inception_branches_follow_the_paper_and_concatenate_in_order(rng):
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


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("reductions", [True, False])
def test_inception_in_channels_out_channels_and_widths_are_the_channels_its_forward_passes(rng, reductions):
    """Every width different, so that a width in the wrong place shows: the attributes against the arrays."""
    block = C.Inception(5, 2, 3, 4, 1, 6, 7, reductions=reductions, rng=0)
    widths, x = block.widths, rng.standard_normal((2, 5, 6, 5))
    outs = [branch.forward(x) for branch in block.branches]
    last = widths["pool_proj"] if reductions else block.in_channels
    assert [out.shape[1] for out in outs] == [widths["n1x1"], widths["n3x3"], widths["n5x5"], last] == [2, 4, 6, last]
    if reductions:
        assert [block.branches[i][0].forward(x).shape[1] for i in (1, 2)] == [widths["n3x3_reduce"],
                                                                              widths["n5x5_reduce"]] == [3, 1]
    assert block.forward(x).shape[1] == block.out_channels == sum(out.shape[1] for out in outs)
    with pytest.raises(ValueError, match=r"Inception\(5, .*\) expects 5 input channels but x has 6"):
        block.forward(np.zeros((2, 6, 6, 5)))


@pytest.mark.usefixtures("both_paths")
def test_inception_passes_the_gradient_check(rng):
    """The whole module, float64 central differences; bound 1e-7 on x and all 12 parameter arrays."""
    block = _small_module(rng)
    for name, param in block.params.items():
        if name.endswith("b"):  # off zero: a zero bias after a dead ReLU sits exactly on the next kink
            param[...] = rng.standard_normal(param.shape)
    x = rng.standard_normal((2, 3, 5, 4))
    errors = check_layer(block, x)
    assert len(errors) == 13 and max(errors.values()) < 1e-7, errors


@pytest.mark.usefixtures("both_paths")
def test_inception_backward_sums_the_branches(rng):
    block = _small_module(rng)
    x = rng.standard_normal((1, 3, 4, 4))
    out = block.forward(x)
    dout = rng.standard_normal(out.shape)
    dx = block.backward(dout)
    parts = np.split(dout, [2, 5, 7], axis=1)
    expected = sum(branch.backward(part) for branch, part in zip(block.branches, parts))
    np.testing.assert_allclose(dx, expected, rtol=1e-12)


@pytest.mark.usefixtures("both_paths")
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
def test_inception_cost_matches_inception_cost_and_its_arrays(widths):
    """One description feeds the layers and the cost: every row of the layers' own report equals inception_cost's."""
    block = C.Inception(*widths, rng=0)
    report = block.cost(28, 28)
    expected = inception_cost(widths[0], 28, 28, *widths[1:])
    assert report.macs == expected.macs and report.params == expected.params
    assert report.to_dict() == expected.to_dict()
    naive = C.Inception(*widths, reductions=False).cost(11, 9)
    assert naive.to_dict() == inception_cost(widths[0], 11, 9, *widths[1:], reductions=False).to_dict()
    assert report.params == sum(p.size for p in block.params.values())
    assert report.out_shape == (block.out_channels, 28, 28)


@pytest.mark.usefixtures("both_paths")
def test_inception_refuses_bad_calls_and_names_itself(rng):
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
