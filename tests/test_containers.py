"""conv1x1.containers: Sequential, Concat and Residual name their children's params, grads and buffers, run
forward and backward through them (gradient checks, reference loops), reach them with train/eval, add up their
costs, and refuse what they cannot hold: a non-layer, a layer used twice, branches of different sizes, a
shortcut of another shape."""

import numpy as np
import pytest

import conv1x1 as C
from conv1x1 import reference
from conv1x1.cost import bottleneck_comparison
from conv1x1.gradcheck import check_layer

pytestmark = pytest.mark.usefixtures("both_paths")  # the containers on the plain path and under C.fast.enabled()


def test_sequential_names_its_params_by_position_and_runs_in_order(rng):
    first, second = C.Conv1x1(3, 4, rng=rng), C.Conv1x1(4, 2, bias=False, rng=rng)
    net = C.Sequential(first, C.ReLU(), second)
    assert net.layers == (first, net[1], second) and len(net) == 3
    assert list(net.params) == ["0.w", "0.b", "2.w"]
    assert net.params["2.w"] is second.params["w"]
    x = rng.standard_normal((2, 3, 2, 2))
    np.testing.assert_array_equal(net(x), second(np.maximum(first(x), 0)))


def test_container_params_grads_and_parameters_name_every_child(rng):
    net = C.Sequential(C.Conv1x1(2, 3, rng=rng), C.ReLU(), C.BatchNorm2d(3))
    assert list(net.params) == ["0.w", "0.b", "2.gamma", "2.beta"]
    assert list(net.grads) == ["0.w", "0.b", "2.gamma", "2.beta"]
    assert list(net.buffers) == ["2.running_mean", "2.running_var"]
    pairs = list(net.parameters())
    assert len(pairs) == 4
    assert pairs[0][0] is net[0].params["w"] and pairs[3][1] is net[2].grads["beta"]
    assert len(net) == 3 and list(net) == list(net.layers)


def test_sequential_parameters_let_plain_sgd_reduce_a_loss(rng):
    net = C.Sequential(C.Conv1x1(3, 8, rng=rng), C.Tanh(), C.Conv1x1(8, 1, rng=rng))
    x = rng.standard_normal((4, 3, 5, 5))
    target = np.sin(x.sum(axis=1, keepdims=True))
    losses = []
    for _ in range(50):
        out = net.forward(x)
        losses.append(0.5 * np.mean((out - target) ** 2))
        net.backward((out - target) / out.size)
        for param, grad in net.parameters():
            param -= 0.5 * grad
    assert losses[-1] < 0.5 * losses[0]


def test_sequential_train_and_eval_reach_every_child():
    net = C.Sequential(C.Conv1x1(2, 2), C.Sequential(C.BatchNorm2d(2), C.ReLU()))
    net.eval()
    assert [layer.training for layer in (net, net[0], net[1], net[1][0], net[1][1])] == [False] * 5
    net.train()
    assert [layer.training for layer in (net, net[0], net[1], net[1][0], net[1][1])] == [True] * 5


def test_empty_sequential_is_the_identity_and_returns_copies():
    """It returns a copy of x, not x itself, and passes dout back as a copy too."""
    net = C.Sequential()
    x = np.arange(4.0).reshape(1, 1, 2, 2)
    out = net.forward(x)
    np.testing.assert_array_equal(out, x)
    assert out is not x
    out[...] = 5
    assert x.max() == 3
    dout = np.ones((1, 1, 2, 2))
    dx = net.backward(dout)
    np.testing.assert_array_equal(dx, dout)
    assert dx is not dout


def test_sequential_refuses_non_layers():
    with pytest.raises(TypeError, match="argument 1 is function"):
        C.Sequential(C.ReLU(), lambda v: v)


class _ForwardOnly:
    def forward(self, x):
        return x


class _BackwardOnly:
    def backward(self, dout):
        return dout


@pytest.mark.parametrize("layer", [_ForwardOnly(), _BackwardOnly(), object()])
def test_containers_need_forward_and_backward(layer):
    with pytest.raises(TypeError):
        C.Sequential(C.Conv1x1(3, 2, rng=0), layer)


def test_containers_refuse_a_layer_used_twice():
    """Its cache would be overwritten."""
    relu = C.ReLU()
    with pytest.raises(ValueError, match="appears twice.*cache"):
        C.Sequential(C.Conv1x1(2, 2), relu, C.Conv1x1(2, 2), relu)
    conv = C.Conv1x1(2, 2)
    with pytest.raises(ValueError, match="appears twice"):
        C.Concat(C.Sequential(conv), C.Sequential(C.ReLU(), conv))
    with pytest.raises(ValueError, match="appears twice"):
        C.Sequential(relu, C.Conv1x1(2, 2), relu)
    with pytest.raises(ValueError, match="appears twice"):
        C.Concat(C.Sequential(relu), relu)


def test_concat_needs_a_branch():
    with pytest.raises(ValueError, match="at least one branch"):
        C.Concat()


@pytest.mark.parametrize("make", [lambda: C.Concat(C.Sequential()), lambda: C.Residual(C.Sequential())])
def test_containers_check_and_cast_dout_themselves(make):
    """An empty Sequential checks nothing, so the container's own dout check is all there is.
    """
    net = make()
    out = net.forward(np.ones((1, 2, 2, 2)))
    dx = net.backward(np.ones(out.shape, dtype=np.float32))
    assert dx.dtype == np.float64
    with pytest.raises(TypeError, match="dout"):
        net.backward(np.ones(out.shape, dtype=int))
    with pytest.raises(ValueError, match="dout"):
        net.backward(np.ones((1, 2, 2, 3)))


def test_sequential_cost_matches_bottleneck_comparison_and_the_output_shape(rng):
    net = C.Sequential(C.Conv1x1(192, 16, rng=rng), C.ReLU(), C.Conv2d(16, 32, 5, padding=2, rng=rng))
    report = net.cost(28, 28)
    comparison = bottleneck_comparison(192, 16, 32, 28, 28)
    assert report.macs == comparison.candidate.macs and report.params == comparison.candidate.params
    assert report.out_shape == net.forward(np.zeros((1, 192, 28, 28))).shape[1:]
    assert report[1].kind == "relu" and report[1].out_shape == (16, 28, 28)
    assert C.Conv1x1(192, 32).cost(28, 28).macs == 28 * 28 * 192 * 32


def test_container_costs_with_unknown_depth_or_empty_parts():
    """Container costs."""
    report = C.Concat(C.ReLU(), C.MaxPool2d(3, 1, 1)).cost(4, 5)
    assert report.out_shape == (None, 4, 5) and report.macs == 0
    assert C.Sequential(C.Sequential(), C.ReLU()).cost(4, 5, in_channels=3).out_shape == (3, 4, 5)
    assert C.Concat(C.Sequential()).cost(4, 5, in_channels=3).out_shape == (3, 4, 5)
    assert C.Concat(C.Sequential(), C.Conv1x1(3, 2)).cost(4, 5, in_channels=3).out_shape == (5, 4, 5)


def test_container_cost_rows_are_named_by_their_path():
    report = C.Sequential(C.Conv1x1(3, 3), C.BatchNorm2d(3), C.ChannelShuffle(3)).cost(4, 4, 3)
    assert [row.name for row in report.layers] == ["0", "1", "2"]
    report = C.Residual(C.Conv1x1(3, 3), C.Conv1x1(3, 3)).cost(4, 4, 3)
    assert [row.name for row in report.layers] == ["0", "1", "add"]
    assert C.BatchNorm2d(2).cost(4, 4).layers[0].name == "BatchNorm2d"
    assert C.ChannelShuffle(2).cost(4, 4).layers[0].name == "ChannelShuffle(2)"
    # an unknown depth on one side cannot be compared: no error
    assert C.Residual(C.ReLU(), C.Conv1x1(3, 3)).cost(4, 4).out_shape == (None, 4, 4)


def test_concat_of_arbitrary_branches_runs_passes_the_gradient_check_and_prices(rng):
    both = C.Concat(C.Sequential(C.Conv1x1(3, 2, rng=rng), C.Tanh()), C.MaxPool2d(3, stride=1, padding=1))
    x = rng.standard_normal((2, 3, 4, 5))
    assert both.forward(x).shape == (2, 5, 4, 5)
    assert max(check_layer(both, x).values()) < 1e-7
    report = both.cost(4, 5, in_channels=3)
    assert report.out_shape == (5, 4, 5) and report.macs == 3 * 2 * 20
    with pytest.raises(TypeError, match="Concat takes Layer objects"):
        C.Concat(C.ReLU(), "relu")


def _with_random_bias(layer, rng):
    layer.params["b"][...] = rng.standard_normal(layer.params["b"].shape)
    return layer


def test_concat_backward_splits_dout_by_branch_width_and_sums_the_input_gradients(rng):
    a = _with_random_bias(C.Conv1x1(3, 2, rng=rng), rng)
    b = _with_random_bias(C.Conv1x1(3, 4, rng=rng), rng)
    net = C.Concat(a, C.Sequential(b, C.ReLU()))
    x = rng.standard_normal((2, 3, 2, 2))
    out = net.forward(x)
    ya = reference.conv1x1_loops(x, a.params["w"], a.params["b"])
    yb = np.maximum(reference.conv1x1_loops(x, b.params["w"], b.params["b"]), 0)
    np.testing.assert_allclose(out, np.concatenate([ya, yb], axis=1), rtol=1e-12, atol=1e-12)
    errors = check_layer(net, x)
    assert max(errors.values()) < 1e-7, errors


def test_concat_names_branches_of_different_sizes():
    """The error names each branch and its output shape; the second case differs in height only."""
    both = C.Concat(C.MaxPool2d(2), C.ReLU())
    with pytest.raises(ValueError, match=r"same N, H and W; got branch 0 \(MaxPool2d.*\(1, 2, 2, 2\).*branch 1 "
                                         r"\(ReLU\(\)\) -> \(1, 2, 4, 4\)"):
        both.forward(np.zeros((1, 2, 4, 4)))
    net = C.Concat(C.Conv2d(1, 1, 1, stride=2), C.ReLU())     # (1, 1, 4, 1) -> (1, 1, 2, 1) and (1, 1, 4, 1)
    with pytest.raises(ValueError, match=r"same N, H and W; .* -> \(1, 1, 2, 1\), .* -> \(1, 1, 4, 1\)"):
        net.forward(np.ones((1, 1, 4, 1)))


def test_residual_adds_the_identity_or_the_shortcut_and_sums_the_gradients(rng):
    block = _with_random_bias(C.Conv1x1(3, 3, rng=rng), rng)
    res = C.Residual(block)
    x = rng.standard_normal((2, 3, 4, 4))
    np.testing.assert_allclose(res.forward(x), x + reference.conv1x1_loops(x, block.params["w"], block.params["b"]),
                               rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal((2, 3, 4, 4))
    np.testing.assert_allclose(res.backward(dout), np.einsum("oc,nohw->nchw", block.params["w"], dout) + dout)
    assert res.children == (block,) and res.shortcut is None
    assert max(check_layer(res, x).values()) < 1e-7
    block2 = _with_random_bias(C.Conv1x1(3, 5, rng=rng), rng)
    short = _with_random_bias(C.Conv1x1(3, 5, rng=rng), rng)
    res2 = C.Residual(block2, short)
    expected = (reference.conv1x1_loops(x, block2.params["w"], block2.params["b"])
                + reference.conv1x1_loops(x, short.params["w"], short.params["b"]))
    np.testing.assert_allclose(res2.forward(x), expected, rtol=1e-12, atol=1e-12)
    assert max(check_layer(res2, x).values()) < 1e-7
    with pytest.raises(ValueError, match="must match"):
        C.Residual(C.Conv1x1(3, 5)).forward(x)


def test_residual_with_a_projection_passes_the_gradient_check_and_prices_the_add(rng, randomise_params, all_below):
    res = C.Residual(C.Sequential(C.Conv2d(3, 4, 3, stride=2, padding=1, rng=0), C.Tanh()),
                     C.Conv2d(3, 4, 1, stride=2, rng=1))
    randomise_params(res, rng)
    assert all_below(check_layer(res, rng.standard_normal((2, 3, 5, 5))))
    report = res.cost(5, 5)
    assert [row.kind for row in report.layers][-1] == "add" and report.out_shape == (4, 3, 3)
    assert report.macs == 3 * 3 * 4 * 3 * 9 + 3 * 3 * 4 * 3
    assert sorted(res.params) == ["0.0.b", "0.0.w", "1.b", "1.w"]


def test_residual_cost_adds_the_shortcut_and_refuses_a_mismatch():
    res = C.Residual(C.Conv1x1(3, 5), C.Conv1x1(3, 5, bias=False))
    report = res.cost(4, 4, 3)
    assert report.macs == 2 * 16 * 5 * 3 and report.add_ops == 5 * 16 and report.out_shape == (5, 4, 4)
    with pytest.raises(ValueError, match="must match"):
        C.Residual(C.Conv1x1(3, 5), C.Conv1x1(3, 4)).cost(4, 4, 3)
    with pytest.raises(ValueError, match="must match"):
        C.Residual(C.Conv1x1(3, 5)).cost(4, 4, 3)
    assert C.Residual(C.ReLU()).cost(4, 4).out_shape == (None, 4, 4)


def test_residual_train_and_eval_reach_block_and_shortcut():
    res = C.Residual(C.Sequential(C.BatchNorm2d(2)), C.BatchNorm2d(2))
    res.eval()
    assert not res.block[0].training and not res.shortcut.training
    res.train()
    assert res.block[0].training and res.shortcut.training


def test_residual_refuses_a_shape_mismatch():
    res = C.Residual(C.Conv1x1(3, 4))
    with pytest.raises(ValueError, match="projection shortcut"):
        res.forward(np.ones((1, 3, 2, 2)))
    with pytest.raises(ValueError, match="must match"):
        res.cost(2, 2, in_channels=3)
