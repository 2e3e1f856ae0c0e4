"""conv1x1.cost.formulas: each row's counts (MACs, params, output size, activations, the other operations)
against the real layers, the loop reference and hand arithmetic; the formulas shown multiply out to the counts;
bytes, traffic and intensity; human and exact numbers, huge ones too; and the arguments every counter refuses.
1 MAC = 1 multiply-accumulate = 2 FLOPs."""

import itertools
import math
import signal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import conv1x1 as C
from conv1x1 import cost, reference
from conv1x1.cost import (
    Report,
    add_cost,
    batchnorm_cost,
    concat_cost,
    conv_cost,
    elementwise_cost,
    exact,
    formulas,
    global_pool_cost,
    human,
    pool_cost,
)
from conv1x1.reference import conv2d_loops


@pytest.mark.parametrize("k, stride, padding", list(itertools.product([1, 2, 3, 5], [1, 2, 3], [0, 1, 2]))
                         + [(3, 1, "same"), (5, 1, "same"), (1, 1, "same")])
@pytest.mark.parametrize("h, w", [(7, 9), (5, 5)])
def test_conv_cost_out_shape_matches_the_real_convolution(rng, k, stride, padding, h, w):
    x = rng.standard_normal((1, 2, h, w))
    out, _ = C.conv2d_forward(x, rng.standard_normal((3, 2, k, k)), stride=stride, padding=padding)
    cost = conv_cost(2, 3, h, w, k, stride, padding)
    assert cost.out_shape == out.shape[1:]
    assert cost.activations == out[0].size


@pytest.mark.parametrize("k, stride, padding", [(1, 1, 0), (3, 1, 1), (3, 2, 0), (5, 1, "same"), (2, 3, 1)])
def test_conv_cost_macs_equal_a_count_made_by_the_loop_reference(rng, k, stride, padding):
    x = rng.standard_normal((1, 3, 6, 7))
    _, counted = conv2d_loops(x, rng.standard_normal((4, 3, k, k)), None, stride, padding)
    cost = conv_cost(3, 4, 6, 7, k, stride, padding)
    # The loop reference multiplies padded zeros too, as every dense convolution does.
    assert cost.macs == counted
    assert cost.flops == 2 * counted and cost.backward_macs == 2 * counted


CONVS = [  # (C_in, C_out, H, W, K, stride, padding, groups, bias)
    (3, 4, 5, 6, 1, 1, 0, 1, True),
    (4, 6, 7, 5, 3, 1, 1, 1, True),
    (4, 8, 7, 7, 3, 2, 1, 2, False),
    (6, 6, 9, 8, 5, 2, 2, 6, True),
    (4, 4, 6, 6, 3, 3, 0, 4, False),
    (5, 7, 1, 1, 1, 1, 0, 1, True),   # a fully connected layer
]


@pytest.mark.parametrize("c_in, c_out, h, w, k, stride, padding, groups, bias", CONVS)
def test_conv_cost_equals_an_independent_count(rng, c_in, c_out, h, w, k, stride, padding, groups, bias):
    layer = C.Conv2d(c_in, c_out, k, stride=stride, padding=padding, groups=groups, bias=bias, rng=rng)
    x = rng.standard_normal((1, c_in, h, w))
    out = layer.forward(x)
    _, loop_macs = reference.conv2d_loops(x, layer.params["w"], layer.params.get("b"), stride, padding, groups)
    row = conv_cost(c_in, c_out, h, w, k, stride, padding, bias, groups=groups)
    assert row.macs == loop_macs
    assert row.flops == 2 * loop_macs
    assert row.backward_macs == 2 * loop_macs           # dx and dw: one product each
    assert row.params == sum(p.size for p in layer.params.values())
    assert row.out_shape == out.shape[1:]
    assert row.in_shape == (c_in, h, w)
    assert row.activations == out.size
    assert row.bias_adds == (out.size if bias else 0)
    assert (row.bn_ops, row.activation_ops, row.pooling_ops, row.add_ops) == (0, 0, 0, 0)
    assert row.param_bytes(np.float64) == 8 * row.params
    assert row.param_bytes() == 4 * row.params
    assert row.activation_bytes(np.float16) == 2 * out.size
    assert row.traffic_bytes(np.float64, batch=3) == 8 * (3 * (x.size + out.size) + row.params)
    assert row.traffic_bytes() == 4 * (x.size + out.size + row.params)
    assert row.intensity(np.float64) == row.macs / (8 * (x.size + out.size + row.params))
    assert str(row.macs) in row.formula.replace(",", "")
    report = layer.cost(h, w)
    assert (report.macs, report.params, report.activations) == (row.macs, row.params, row.activations)


def _numbers_of(formula):
    """'names = 28·28·32 = 25,088' -> ([28, 28, 32], 25088): the factors shown and the result shown."""
    _, numbers, result = formula.split(" = ")
    return [int(n.strip("()")) for n in numbers.split("·")], int(result.replace(",", ""))


@st.composite
def convolutions(draw):
    groups = draw(st.integers(1, 6))
    c_in = groups * draw(st.integers(1, 8))
    c_out = groups * draw(st.integers(1, 8))
    k = draw(st.integers(1, 7))
    padding = draw(st.integers(0, k - 1))
    height = draw(st.integers(max(1, k - 2 * padding), 40))
    width = draw(st.integers(max(1, k - 2 * padding), 40))
    return c_in, c_out, height, width, k, draw(st.integers(1, 4)), padding, draw(st.booleans()), groups


@settings(max_examples=300, deadline=None)
@given(convolutions())
def test_conv_cost_formulas_multiply_out_to_the_counts(conv):
    c_in, c_out, height, width, k, stride, padding, bias, groups = conv
    cost = conv_cost(c_in, c_out, height, width, k, stride, padding, bias=bias, groups=groups)
    out_h, out_w = (height + 2 * padding - k) // stride + 1, (width + 2 * padding - k) // stride + 1
    expected = out_h * out_w * c_out * (c_in // groups) * k * k
    factors, shown = _numbers_of(cost.formula)
    assert math.prod(factors) == shown == cost.macs == expected
    assert ("(C_in/groups)" in cost.formula) == (groups > 1)
    # params: C_out·(C_in/groups)·K·K (+ C_out)
    terms = cost.params_formula.split(" = ")[1].split(" + ")
    assert sum(math.prod(int(n) for n in term.split("·")) for term in terms) == cost.params
    assert cost.params == c_out * (c_in // groups) * k * k + (c_out if bias else 0)
    # the output size: evaluate the numbers of floor((H + 2p - K)/s) + 1 as written
    for part in cost.shape_formula.split("; "):
        numeric, value = part.split(" = ")[-2:]
        assert eval(numeric.replace("·", "*"), {"floor": math.floor}) == int(value)  # noqa: S307 - our own text
        assert int(value) in (out_h, out_w)
    assert cost.bias_adds == (c_out * out_h * out_w if bias else 0)


def test_conv_cost_formulas_word_for_word():
    assert conv_cost(192, 32, 28, 28, 5, padding=2).formula == \
        "H_out·W_out·C_out·C_in·K·K = 28·28·32·192·5·5 = 120,422,400"
    depthwise = conv_cost(32, 32, 112, 112, 3, padding=1, groups=32, bias=False)
    assert depthwise.formula == "H_out·W_out·C_out·(C_in/groups)·K·K = 112·112·32·1·3·3 = 3,612,672"
    assert depthwise.params_formula == "C_out·(C_in/groups)·K·K = 32·1·3·3 = 288"
    assert conv_cost(3, 8, 9, 7, 3, stride=2).shape_formula == (
        "H_out = floor((H + 2p - K)/s) + 1 = floor((9 + 2·0 - 3)/2) + 1 = 4; "
        "W_out = floor((W + 2p - K)/s) + 1 = floor((7 + 2·0 - 3)/2) + 1 = 3")


def test_conv_cost_shape_formula_of_a_square_input_names_both_sides_at_once():
    # 5x5 input, K=3, no padding, stride 1: (5 + 0 - 3) // 1 + 1 = 3
    row = conv_cost(2, 4, 5, 5, 3)
    assert row.shape_formula == "H_out = W_out = floor((H + 2p - K)/s) + 1 = floor((5 + 2·0 - 3)/1) + 1 = 3"


def test_conv_cost_shape_formula_of_a_non_square_input_gives_each_side():
    # H: (5 - 3) // 1 + 1 = 3; W: (7 - 3) // 1 + 1 = 5
    row = conv_cost(2, 4, 5, 7, 3)
    assert row.shape_formula == ("H_out = floor((H + 2p - K)/s) + 1 = floor((5 + 2·0 - 3)/1) + 1 = 3; "
                                 "W_out = floor((W + 2p - K)/s) + 1 = floor((7 + 2·0 - 3)/1) + 1 = 5")


NON_SQUARE_CONVS = [  # (C_in, C_out, H, W, kernel, stride, padding, groups)
    (4, 6, 9, 8, (1, 7), 1, (0, 3), 1), (4, 6, 9, 8, (7, 1), 1, (3, 0), 1), (3, 4, 8, 8, (5, 3), 1, (2, 1), 1),
    (4, 8, 9, 7, (3, 2), (2, 1), (1, 0), 2), (6, 6, 7, 9, (1, 3), (3, 2), (0, 1), 6),
    (3, 4, 6, 7, (3, 5), 1, "same", 1),
]


@pytest.mark.parametrize("c_in, c_out, h, w, kernel, stride, padding, groups", NON_SQUARE_CONVS)
def test_conv_cost_of_a_non_square_kernel_counts_kh_times_kw_as_the_loops_do(rng, c_in, c_out, h, w, kernel, stride,
                                                                             padding, groups):
    """MACs = H_out·W_out·C_out·(C_in/groups)·KH·KW, as the loop reference counts them; the output shape is the
    convolution's; params are the layer's arrays."""
    layer = C.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, groups=groups, rng=rng)
    x = rng.standard_normal((1, c_in, h, w))
    out, loop_macs = reference.conv2d_loops(x, layer.params["w"], layer.params["b"], stride, padding, groups)
    row = conv_cost(c_in, c_out, h, w, kernel, stride, padding, groups=groups)
    assert row.macs == loop_macs and row.out_shape == out.shape[1:]
    assert row.params == sum(p.size for p in layer.params.values())
    factors, shown = _numbers_of(row.formula)
    assert math.prod(factors) == shown == row.macs and row.formula.startswith("H_out·W_out·C_out·")
    assert "·KH·KW = " in row.formula and "·KH·KW" in row.params_formula
    for part in row.shape_formula.split("; "):      # H and W, each worked with its own settings
        numeric, value = part.split(" = ")[-2:]
        assert eval(numeric.replace("·", "*"), {"floor": math.floor}) == int(value)  # noqa: S307 - our own text
    assert [int(part.split(" = ")[-1]) for part in row.shape_formula.split("; ")] == list(out.shape[2:])


def test_conv_cost_names_a_non_square_kernel_and_stride_in_its_kind():
    assert conv_cost(8, 8, 17, 17, (1, 7), padding=(0, 3)).kind == "conv 1x7"
    assert conv_cost(8, 8, 17, 17, (3, 3), stride=(2, 1)).kind == "conv 3x3 /(2, 1)"
    assert conv_cost(8, 8, 17, 17, (3, 3), stride=(2, 2)).kind == "conv 3x3 /2"
    assert conv_cost(8, 8, 17, 17, (7, 1), padding=(3, 0), groups=8).kind == "depthwise 7x1"
    assert conv_cost(8, 8, 17, 17, (1, 7), padding=(0, 3)).category == "kxk"


def test_pool_cost_of_a_non_square_window_gives_each_side_its_own_working():
    """d2l.ai's MaxPool2d((2, 3), stride=(2, 3), padding=(0, 1)) on 4 x 4: 2 x 2 out."""
    row = pool_cost(1, 4, 4, (2, 3), stride=(2, 3), padding=(0, 1))
    assert row.out_shape == (1, 2, 2) and row.kind == "maxpool 2x3 /(2, 3)"
    assert row.shape_formula == ("H_out = floor((H + 2pH - KH)/sH) + 1 = floor((4 + 2·0 - 2)/2) + 1 = 2; "
                                 "W_out = floor((W + 2pW - KW)/sW) + 1 = floor((4 + 2·1 - 3)/3) + 1 = 2")


def test_conv_cost_categories():
    assert conv_cost(8, 8, 4, 4, 1).category == "1x1"
    assert conv_cost(8, 8, 1, 1, 1).category == "fc"
    assert conv_cost(8, 8, 4, 4, 3).category == "kxk"
    assert conv_cost(8, 8, 4, 4, 3, groups=8).category == "depthwise"
    assert conv_cost(8, 8, 4, 4, 3, groups=2).category == "grouped"
    assert conv_cost(8, 16, 4, 4, 1, groups=2).category == "grouped"
    with pytest.raises(ValueError, match="divide"):
        conv_cost(8, 6, 4, 4, 1, groups=4)


def test_conv_cost_kind_names_a_stride_of_two():
    assert conv_cost(2, 4, 8, 8, 3, stride=2, padding=1).kind == "conv 3x3 /2"
    assert conv_cost(2, 4, 8, 8, 3, stride=1, padding=1).kind == "conv 3x3"


def test_conv_cost_accepts_numpy_bools():
    # params = C_out*C_in*K*K (+ C_out) = 4*2 (+ 4)
    assert conv_cost(2, 4, 5, 5, 1, bias=np.True_).params == 12
    assert conv_cost(2, 4, 5, 5, 1, bias=np.False_).params == 8


@pytest.mark.parametrize("bias", ["no", None, 0, 1])
def test_conv_cost_refuses_a_bias_that_is_not_a_bool(bias):
    """Nonsense is refused, not read as true or false."""
    with pytest.raises(TypeError, match="bias must be True or False"):
        conv_cost(3, 4, 5, 5, 3, bias=bias)
    with pytest.raises(TypeError, match="bias must be True or False"):
        conv_cost(2, 4, 5, 5, 1, bias=bias)


@pytest.mark.parametrize("args, kwargs, error, match", [
    ((0, 32, 28, 28, 5), {}, ValueError, "in_channels"),
    ((192, -1, 28, 28, 5), {}, ValueError, "out_channels"),
    ((192, 32, 28.0, 28, 5), {}, TypeError, "height"),
    ((192, 32, 28, 0, 5), {}, ValueError, "width"),
    ((192, 32, 28, 28, 0), {}, ValueError, "kernel_size"),
    ((192, 32, 4, 4, 7), {}, ValueError, "larger than the padded input"),
    ((192, 32, 28, 28, 4), {"padding": "same"}, ValueError, "odd kernel"),
    ((192, 32, 28, 28, 5), {"padding": "same", "stride": 2}, ValueError, "stride=1"),
    ((192, 32, 28, 28, 5), {"stride": 0}, ValueError, "stride"),
    ((192, 32, 28, 28, 5), {"padding": -2}, ValueError, "padding"),
    (("192", 32, 28, 28, 5), {}, TypeError, "in_channels"),
])
def test_conv_cost_refuses_bad_sizes(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        conv_cost(*args, **kwargs)


@pytest.mark.parametrize("groups, error", [(0, ValueError), (-2, ValueError), (2.0, TypeError), (True, TypeError)])
def test_conv_cost_refuses_groups_that_are_not_a_positive_int(groups, error):
    with pytest.raises(error, match="groups"):
        conv_cost(4, 4, 3, 3, 1, groups=groups)


@pytest.mark.parametrize("kernel_size", [2, 4])
def test_conv_cost_same_padding_needs_an_odd_kernel(kernel_size):
    from conv1x1.cost import conv_cost
    with pytest.raises(ValueError, match="odd kernel size"):
        conv_cost(3, 4, 5, 5, kernel_size, padding="same")
    assert conv_cost(3, 4, 5, 5, kernel_size + 1, padding="same").out_shape == (4, 5, 5)   # odd: (K-1)/2 keeps 5


@pytest.mark.parametrize("padding, stride, match", [("valid", 1, "non-negative integer or"),
                                                    ("SAME", 1, "non-negative integer or"),
                                                    ("same", 2, "needs stride=1")])
def test_conv_cost_refuses_string_paddings_other_than_same(padding, stride, match):
    from conv1x1.cost import conv_cost
    with pytest.raises(ValueError, match=match):
        conv_cost(3, 4, 5, 5, 3, stride=stride, padding=padding)


def test_conv_cost_padding_up_to_input_plus_kernel_is_allowed():
    from conv1x1.cost import conv_cost
    # 1x1 input, K=1: padding 2 = 1 + 1 is the largest allowed; (1 + 2*2 - 1)//1 + 1 = 5
    assert conv_cost(1, 1, 1, 1, 1, padding=2).out_shape == (1, 5, 5)
    with pytest.raises(ValueError, match="padding 3 is larger"):
        conv_cost(1, 1, 1, 1, 1, padding=3)


def test_pool_cost_and_relu_cost_rows_hold_no_macs():
    pool = pool_cost(192, 28, 28, 3, stride=1, padding=1)
    assert (pool.macs, pool.params, pool.out_shape) == (0, 0, (192, 28, 28))
    assert pool_cost(8, 28, 28, 2).out_shape == (8, 14, 14)  # stride defaults to the kernel size
    relu = C.ReLU().cost(28, 28)
    assert relu.macs == 0 and relu[0].out_shape == (None, 28, 28) and "?" in str(relu)
    assert C.ReLU().cost(28, 28, in_channels=3).activations == 3 * 28 * 28


@pytest.mark.parametrize("k, stride, padding, ceil_mode", [(2, None, 0, False), (3, 2, 1, False), (3, 2, 0, True),
                                                           (3, 1, 1, False), (2, 3, 1, True)])
def test_pool_cost_counts_outputs_as_activations_and_inputs_as_pooling_ops(rng, k, stride, padding, ceil_mode):
    x = rng.standard_normal((1, 3, 7, 8))
    out, _ = C.maxpool2d_forward(x, k, stride, padding, ceil_mode)
    row = pool_cost(3, 7, 8, k, stride, padding, ceil_mode=ceil_mode)
    assert row.out_shape == out.shape[1:]
    assert row.activations == out.size                 # what the layer stores: its output
    assert row.pooling_ops == x.size                   # every input element is read once per window it is in
    assert (row.macs, row.params, row.flops, row.bias_adds) == (0, 0, 0, 0)
    layer_row = C.MaxPool2d(k, stride, padding, ceil_mode).cost(7, 8, 3)
    assert (layer_row.activations, layer_row.pooling_ops) == (out.size, x.size)


def test_pool_cost_floors_by_default_like_pytorch():
    # nn.MaxPool2d(2) on 5x5 (ceil_mode=False by default): (5 - 2) // 2 + 1 = 2; ceil would give 3
    assert pool_cost(3, 5, 5, 2).out_shape == (3, 2, 2)
    assert pool_cost(3, 5, 5, 2, ceil_mode=True).out_shape == (3, 3, 3)


def test_pool_cost_shape_formula_in_ceil_mode_without_a_dropped_window():
    # nn.MaxPool2d(2, ceil_mode=True) on 5: ceil((5 - 2)/2) + 1 = 3; the last window starts at 4 < 5: kept
    row = pool_cost(1, 5, 5, 2, stride=2, ceil_mode=True)
    assert row.out_shape == (1, 3, 3)
    assert row.shape_formula == "H_out = W_out = ceil((H + 2p - K)/s) + 1 = ceil((5 + 2·0 - 2)/2) + 1 = 3"


def test_pool_cost_shape_formula_in_ceil_mode_with_a_dropped_window():
    # nn.MaxPool2d(2, 2, padding=1, ceil_mode=True) on 5: ceil((5 + 2 - 2)/2) + 1 = 4, but window 4 would
    # start at 3*2 = 6 >= 5 + 1 (in the right padding): PyTorch drops it, 3 remain
    row = pool_cost(1, 5, 5, 2, stride=2, padding=1, ceil_mode=True)
    assert row.out_shape == (1, 3, 3)
    assert row.shape_formula == ("H_out = W_out = ceil((H + 2p - K)/s) + 1 = ceil((5 + 2·1 - 2)/2) + 1"
                                 " - 1 (a last window may not start in the padding) = 3")


def test_pool_cost_shape_formula_in_ceil_mode_with_padding_and_every_window_kept():
    # nn.MaxPool2d(2, 2, padding=1, ceil_mode=True) on 6: ceil((6 + 2 - 2)/2) + 1 = 4; window 4 starts at 6 < 6 + 1
    row = pool_cost(1, 6, 6, 2, stride=2, padding=1, ceil_mode=True)
    assert row.out_shape == (1, 4, 4)
    assert row.shape_formula == "H_out = W_out = ceil((H + 2p - K)/s) + 1 = ceil((6 + 2·1 - 2)/2) + 1 = 4"


def test_pool_cost_kind_names_a_stride_of_two():
    assert pool_cost(3, 4, 4, 2).kind == "maxpool 2x2 /2"              # stride defaults to the kernel size
    assert pool_cost(3, 4, 4, 3, stride=1, padding=1).kind == "maxpool 3x3"
    assert pool_cost(3, 9, 9, 3, stride=3, kind="avgpool").kind == "avgpool 3x3 /3"


def test_pool_cost_padding_at_most_half_the_kernel():
    # PyTorch's rule for pooling: padding <= K // 2 (3 // 2 = 1), so every window holds a real element
    assert pool_cost(3, 5, 5, 3, stride=1, padding=1).out_shape == (3, 5, 5)
    with pytest.raises(ValueError, match="padding must be at most 1"):
        pool_cost(3, 5, 5, 3, stride=1, padding=2)
    with pytest.raises(ValueError, match="padding must be at most 1"):
        pool_cost(3, 8, 8, 3, 1, 2)


@pytest.mark.parametrize("height, width", [(4.0, 4), (4, 4.0), (True, 4)])
def test_pool_cost_refuses_non_integer_sizes(height, width):
    with pytest.raises(TypeError):
        pool_cost(3, height, width, 2)


def test_global_pool_elementwise_batchnorm_add_and_concat_cost_counts():
    g = global_pool_cost(5, 3, 4)
    assert (g.out_shape, g.activations, g.pooling_ops, g.macs, g.params) == ((5, 1, 1), 5, 60, 0, 0)
    e = elementwise_cost("relu", 5, 3, 4)
    assert (e.out_shape, e.activations, e.activation_ops, e.macs) == ((5, 3, 4), 60, 60, 0)
    bn = batchnorm_cost(5, 3, 4)
    assert (bn.params, bn.bn_ops, bn.activations, bn.macs) == (2 * 5, 60, 60, 0)
    assert bn.params == sum(p.size for p in C.BatchNorm2d(5).params.values())
    a = add_cost((5, 3, 4))
    assert (a.add_ops, a.activations, a.macs, a.params) == (60, 60, 0, 0)
    c = concat_cost([(2, 3, 4), (5, 3, 4), conv_cost(1, 7, 3, 4, 1)])
    assert (c.out_shape, c.activations, c.macs) == ((14, 3, 4), 14 * 12, 0)
    assert concat_cost([(None, 3, 4), (2, 3, 4)]).out_shape == (None, 3, 4)
    with pytest.raises(ValueError):
        concat_cost([(2, 3, 4), (2, 4, 3)])
    with pytest.raises(ValueError):
        concat_cost([])
    with pytest.raises(TypeError):
        concat_cost("abc")


def test_batchnorm_cost_names_default_and_given():
    assert cost.batchnorm_cost(4, 2, 2).name == "batchnorm"
    assert cost.batchnorm_cost(4, 2, 2, name="bn1").name == "bn1"


def test_add_cost_returns_tuple_shapes_for_a_list():
    row = add_cost([2, 3, 4])
    assert row.in_shape == (2, 3, 4) and row.out_shape == (2, 3, 4)
    assert isinstance(row.in_shape, tuple) and isinstance(row.out_shape, tuple)
    assert row.add_ops == 2 * 3 * 4


def test_concat_cost_shows_its_sum():
    assert concat_cost([(64, 28, 28), (128, 28, 28)]).shape_formula == "C = 64 + 128 = 192"


def test_concat_cost_of_one_branch():
    assert cost.concat_cost([(3, 4, 5)]).out_shape == (3, 4, 5)


@pytest.mark.parametrize("branches", ["", b"", "abc", 5, None])
def test_concat_cost_refuses_branches_that_are_not_a_sequence_of_shapes(branches):
    from conv1x1.cost import concat_cost
    with pytest.raises(TypeError, match="branches"):
        concat_cost(branches)


@pytest.mark.parametrize("branches", [[(3, 4)], [(3, 4, 4, 1)], [5], [(3, 4, 4), "abc"]])
def test_concat_cost_refuses_branches_that_are_not_c_h_w(branches):
    from conv1x1.cost import concat_cost
    with pytest.raises(TypeError, match=r"branches\["):
        concat_cost(branches)


def test_concat_cost_refuses_branches_of_different_sizes():
    from conv1x1.cost import concat_cost
    with pytest.raises(ValueError, match="share H and W"):
        concat_cost([(3, 4, 4), (3, 5, 5)])
    with pytest.raises(ValueError, match="share H and W"):
        concat_cost([(3, 4, 4), (3, 4, 5)])


def test_every_cost_function_checks_its_arguments():
    with pytest.raises(TypeError, match="ceil_mode"):
        pool_cost(3, 8, 8, 2, ceil_mode="yes")
    for bad in (0, 2.0):
        for call in (lambda c: global_pool_cost(c, 4, 4), lambda c: elementwise_cost("relu", c, 4, 4),
                     lambda c: batchnorm_cost(c, 4, 4), lambda c: pool_cost(c, 4, 4, 2)):
            with pytest.raises((TypeError, ValueError)):
                call(bad)
    for h, w in ((0, 4), (4, 0), (4.0, 4)):
        for call in (global_pool_cost, batchnorm_cost, lambda c, hh, ww: elementwise_cost("relu", c, hh, ww)):
            with pytest.raises((TypeError, ValueError)):
                call(4, h, w)


@pytest.mark.parametrize("call, error, match", [
    (lambda: cost.concat_cost([1]), TypeError, r"branches\[0\]"),
    (lambda: cost.concat_cost([]), ValueError, "at least one branch"),
    (lambda: cost.human("12"), TypeError, "count"),
])
def test_concat_cost_and_human_name_their_arguments(call, error, match):
    """Errors that name the argument."""
    with pytest.raises(error, match=match):
        call()


def test_unknown_depth_rows_say_unknown():
    row = pool_cost(None, 8, 8, 2)
    assert row.out_shape == (None, 4, 4) and row.activations is None and row.pooling_ops is None
    with pytest.raises(ValueError, match="unknown depth"):
        row.traffic_bytes()
    assert elementwise_cost("relu", None, 2, 2).activation_ops is None
    assert human(None) == "?" and exact(None) == "?"


def test_layer_cost_is_immutable():
    import dataclasses
    row = conv_cost(2, 4, 5, 5, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.macs = 0
    assert hash(row) == hash(conv_cost(2, 4, 5, 5, 1))


def test_layer_cost_bytes_for_a_dtype():
    cost = conv_cost(192, 32, 28, 28, 1)
    assert cost.param_bytes(np.float32) == 4 * (192 * 32 + 32)
    assert cost.activation_bytes(np.float64) == 8 * 32 * 28 * 28


def test_layer_cost_activation_bytes_are_zero_when_the_depth_is_unknown():
    assert cost.elementwise_cost("relu", None, 4, 4).activation_bytes() == 0
    assert cost.elementwise_cost("relu", 3, 4, 4).activation_bytes(np.float32) == 3 * 4 * 4 * 4
    assert cost.elementwise_cost("relu", 3, 4, 4).activation_bytes(np.float64) == 3 * 4 * 4 * 8


@pytest.mark.parametrize("batch, error", [(0, ValueError), (-1, ValueError), (2.0, TypeError), (True, TypeError)])
def test_layer_cost_traffic_bytes_checks_batch(batch, error):
    with pytest.raises(error, match="batch"):
        conv_cost(2, 4, 5, 5, 1).traffic_bytes(np.float32, batch=batch)


@pytest.mark.parametrize("in_shape, out_shape", [((None, 4, 4), (3, 4, 4)), ((3, 4, 4), (None, 4, 4)),
                                                 ((None, 4, 4), (None, 4, 4))])
def test_layer_cost_traffic_bytes_are_unknown_when_either_depth_is_unknown(in_shape, out_shape):
    row = cost.LayerCost("x", "relu", in_shape, out_shape, 0, 0, None)
    with pytest.raises(ValueError, match="unknown depth"):
        row.traffic_bytes()


def test_layer_cost_intensity_and_traffic_of_a_1x1():
    layer = C.Conv1x1(192, 32).cost(28, 28)[0]
    assert layer.intensity(np.float32) == 4_816_896 / (4 * (150_528 + 6_176 + 25_088))
    assert layer.intensity(np.float64) == pytest.approx(layer.intensity(np.float32) / 2)
    assert layer.traffic_bytes(np.float32, batch=3) == 4 * (3 * (150_528 + 25_088) + 6_176)
    with pytest.raises(ValueError, match="unknown depth"):
        C.ReLU().cost(4, 4)[0].intensity()
    with pytest.raises(TypeError, match="dtype"):
        layer.intensity("int8")


def test_layer_cost_intensity_of_a_small_1x1_is_lower_than_of_the_5x5_it_feeds():
    reduce, five = C.Inception(192, 64, 96, 128, 16, 32, 32).cost(28, 28).children[2].layers[::2]
    assert reduce.intensity() == pytest.approx(2_408_448 / (4 * (150_528 + 3_088 + 12_544)))    # 3.6
    assert five.intensity() == pytest.approx(10_035_200 / (4 * (12_544 + 12_832 + 25_088)))     # 49.7
    assert reduce.intensity() < five.intensity() / 10


def test_layer_cost_explain_has_an_other_line_only_for_layers_with_other_counts():
    # bias adds = H_out*W_out*C_out = 1*1*4 = 4
    with_bias = conv_cost(2, 4, 1, 1, 1).explain()
    assert with_bias.splitlines()[-1] == "    other   bias adds = H_out·W_out·C_out = 1·1·4 = 4  (not in MACs)"
    without = conv_cost(2, 4, 1, 1, 1, bias=False).explain()
    assert "other" not in without
    assert len(without.splitlines()) == 4


@pytest.mark.parametrize("count, text", [
    (0, "0"), (37, "37"), (999, "999"), (1000, "1.0K"), (1049, "1.0K"), (1050, "1.1K"), (1500, "1.5K"),
    (2_400, "2.4K"), (999_949, "999.9K"), (1_000_000, "1.0M"), (4_816_896, "4.8M"), (12_443_648, "12.4M"),
    (120_422_400, "120.4M"), (3.2e9, "3.2G"), (2_500_000_000, "2.5G"), (7 * 10**12, "7.0T"), (10**15, "1.0e15"),
    (123_456_789_012_345_678, "1.2e17"), (-1500, "-1.5K"), (-12, "-12"), (2.0, "2"), (1.5, "1.5"),
    (3000.0, "3.0K"), (np.int64(2000), "2.0K"), (float("inf"), "inf"), (None, "?"),
    # a rounded 1000 carries into the next unit: 999,950 is 1000.0K to one decimal, which is 1.0M
    (999_950, "1.0M"), (999_999, "1.0M"), (999_950_000, "1.0G"), (999_949_999_999_999, "999.9T"),
    (999_950_000_000_000, "1.0e15"), (-999_950, "-1.0M"),
    # scientific from 10**15 on
    (5 * 10 ** 15, "5.0e15"), (15 * 10 ** 14, "1.5e15"), (99 * 10 ** 14, "9.9e15"), (10 ** 16, "1.0e16"),
])
def test_human_writes_counts_with_one_decimal_and_a_unit(count, text):
    assert human(count) == text


@pytest.mark.parametrize("count", ["12", True, np.True_, [1], b"1"])
def test_human_refuses_counts_that_are_not_numbers(count):
    with pytest.raises(TypeError, match="count"):
        human(count)


def test_exact_writes_commas():
    assert exact(4_816_896) == "4,816,896"
    assert exact(0) == "0"


def test_human_and_exact_print_huge_counts_or_say_how_long_they_are():
    assert human(10**5000) == "1.0e5000" and human(2 * 10**300 + 5 * 10**299) == "2.5e300"
    assert exact(10**5000) == "(a number of 5001 digits)" and exact(10**4299) == f"{10**4299:,}"
    huge = conv_cost(10**2200, 10**2200, 28, 28, 1)
    assert "digits" in huge.formula and huge.macs == 28 * 28 * 10**4400
    assert "e4402" in str(Report([huge]))


def test_unknown_and_huge_numbers_print_as_words_not_errors():
    assert "(?, 8, 8)" in pool_cost(None, 8, 8, 2).explain() and "None" not in pool_cost(None, 8, 8, 2).explain()
    assert exact(10**5000) == "(a number of 5001 digits)"
    assert exact(-10**5000) == "(a number of 5001 digits)"
    assert exact(10**4299 - 1).count(",") == 1432                 # 4299 digits still print in full


@pytest.fixture
def deadline():
    """Turn a hang (a digit-count loop that never ends) into a failure after 10 s."""
    def fail(signum, frame):
        raise TimeoutError("did not finish in 10 s")
    previous = signal.signal(signal.SIGALRM, fail)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_human_and_exact_of_numbers_where_log10_is_off(deadline):
    assert human(10 ** 512) == "1.0e512"           # log10(10**512) < 512 in floating point
    assert human(10 ** 2048) == "1.0e2048"
    assert cost.exact(10 ** 5000 - 1) == "(a number of 5000 digits)"   # log10 rounds up to 5000.0


def test_num_of_a_number_too_long_to_print():
    assert formulas._num(10 ** 5000) == "(a number of 5001 digits)"
    assert formulas._num(None) == "?" and formulas._num(12) == "12"


# (k, d): the number 10**k + d has k + 1 digits when d >= 0 and k digits when d == -1 (by construction)
DIGIT_CASES = [(k, d) for k in (1, 2, 15, 16, 17, 22, 23, 300, 511, 512, 513, 1024, 2048, 5000) for d in (-1, 0, 1)]


@pytest.mark.parametrize("k, d", DIGIT_CASES)
def test_digit_count_of_numbers_around_powers_of_ten(k, d, deadline):
    # math.log10 rounds 10**k - 1 up to k for k >= 15 and 10**512 down below 512: both corrections are needed
    expected = k + 1 if d >= 0 else k
    assert formulas._digit_count(10 ** k + d) == expected
    assert formulas._digit_count(-(10 ** k + d)) == expected


@pytest.mark.parametrize("n, digits", [(0, 1), (1, 1), (9, 1), (10, 2), (123456, 6)])
def test_digit_count_of_small_numbers(n, digits):
    assert formulas._digit_count(n) == digits


# ---------------------------------------------------------------- the pieces of today's networks

def test_linear_cost_counts_as_a_1x1_convolution_on_a_1x1_map():
    from conv1x1.cost.formulas import conv_cost, linear_cost
    linear, conv = linear_cost(768, 1000), conv_cost(768, 1000, 1, 1, 1)
    assert (linear.macs, linear.params, linear.category, linear.out_shape) == (768_000, 769_000, "fc", (1000, 1, 1))
    assert (linear.macs, linear.params, linear.formula) == (conv.macs, conv.params, conv.formula)
    assert linear.flops == 2 * 768 * 1000 and linear_cost(768, 1000, bias=False).params == 768_000


def test_layernorm_scale_identity_and_flatten_rows():
    from conv1x1.cost.formulas import channel_scale_cost, flatten_cost, identity_cost, layernorm_cost
    norm = layernorm_cost(96, 56, 56)
    assert (norm.kind, norm.params, norm.macs, norm.bn_ops) == ("layernorm", 192, 0, 96 * 56 * 56)
    gate = channel_scale_cost("channel gate", 32, 112, 112)
    assert (gate.params, gate.macs, gate.activation_ops) == (0, 0, 32 * 112 * 112)
    assert channel_scale_cost("layer scale", 96, 56, 56, params=96).params == 96
    drop = identity_cost("dropout", 1280, 1, 1)
    assert (drop.macs, drop.activation_ops, drop.out_shape) == (0, 0, (1280, 1, 1))
    assert flatten_cost(512, 2, 2).out_shape == (2048, 1, 1)
