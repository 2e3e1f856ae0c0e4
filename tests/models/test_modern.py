"""conv1x1.models.modern: squeeze-and-excitation, MobileNetV2's inverted residual, EfficientNet's MBConv and
ConvNeXt's block: gradient checks in float64, the structure each paper describes, their cost, and the settings
each refuses. Their agreement with torchvision's modules is tested in tests/bridge/test_bridge.py."""

import numpy as np
import pytest

import conv1x1 as C
from conv1x1.gradcheck import numerical_gradient

pytestmark = pytest.mark.usefixtures("both_paths")

BOUND = 1e-7   # largest difference from central differences, over the largest entry of the gradient


def _randomise(layer, rng):
    """Random parameters (batch norm's gamma near 1), so no gradient is checked at a special point."""
    for name, param in layer.params.items():
        param[...] = (rng.uniform(0.5, 1.5, param.shape) if name.endswith("gamma")
                      else rng.standard_normal(param.shape) * 0.5)
    return layer


@pytest.mark.parametrize("make, shape", [
    (lambda: C.SqueezeExcite(6, 2), (2, 6, 3, 3)),
    (lambda: C.SqueezeExcite(6, 2, activation="relu"), (2, 6, 3, 3)),
    (lambda: C.InvertedResidual(4, 4, expand_ratio=2), (2, 4, 4, 4)),
    (lambda: C.InvertedResidual(4, 6, stride=2, expand_ratio=1), (2, 4, 7, 7)),
    (lambda: C.MBConv(4, 4, 3, 1, 2), (2, 4, 4, 4)),
    (lambda: C.MBConv(4, 6, 5, 2, 1), (2, 4, 5, 5)),
    (lambda: C.ConvNeXtBlock(4, layer_scale=0.5), (2, 4, 3, 3)),
], ids=["SE silu", "SE relu", "InvertedResidual residual", "InvertedResidual stride 2 t=1", "MBConv residual",
        "MBConv 5x5 stride 2", "ConvNeXtBlock"])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_modern_blocks_pass_the_gradient_check(rng, make, shape, training):
    """Central differences in float64 (eps 1e-5) for x and every parameter; bound: the largest difference below
    1e-7 of the gradient's largest entry. Not rel_error entry by entry: batch norm makes some entries tiny
    (2.4e-4 against a largest of 3.9), whose estimates are off by round-off (5e-10) far above 1e-7 of their
    size. A wrong gradient is off by 1e-2 or more. Drop paths are built with p = 0."""
    block = _randomise(make(), rng).train(training)
    x = rng.standard_normal(shape)
    out = block.forward(x)
    dout = rng.standard_normal(out.shape)
    analytic = {"x": block.backward(dout), **{name: grad.copy() for name, grad in block.grads.items()}}
    numeric = {"x": numerical_gradient(block.forward, x.copy(), dout, 1e-5)}
    for name, param in block.params.items():
        numeric[name] = numerical_gradient(lambda _: block.forward(x), param, dout, 1e-5)
    errors = {name: np.max(np.abs(analytic[name] - numeric[name])) / np.max(np.abs(numeric[name]))
              for name in analytic}
    assert len(errors) == 1 + len(block.params) and all(e < BOUND for e in errors.values()), errors


def test_squeeze_excite_multiplies_each_channel_by_its_gate(rng):
    se = _randomise(C.SqueezeExcite(6, 3, rng=0), rng)
    x = rng.standard_normal((2, 6, 4, 5))
    pooled = x.mean(axis=(2, 3))
    hidden = pooled @ se[1].params["w"].T + se[1].params["b"]
    hidden = hidden / (1 + np.exp(-hidden))                        # SiLU
    s = 1 / (1 + np.exp(-(hidden @ se[3].params["w"].T + se[3].params["b"])))
    np.testing.assert_allclose(se.forward(x), x * s[:, :, None, None], rtol=1e-12)


def test_squeeze_excite_cost_is_its_two_small_1x1s_and_the_gate():
    report = C.SqueezeExcite(96, 4).cost(56, 56)
    rows = report.layers
    assert [row.category for row in rows if row.macs] == ["fc", "fc"] and report.macs == 2 * 96 * 4
    assert rows[-1].kind == "channel gate" and rows[-1].activation_ops == 96 * 56 * 56
    assert report.out_shape == (96, 56, 56) and report.params == 96 * 4 + 4 + 4 * 96 + 96


def test_inverted_residual_ends_in_a_linear_bottleneck_and_adds_its_input_only_when_it_can():
    """The projecting 1x1 is followed by batch norm only: no ReLU6 in the narrow space (the linear bottleneck)."""
    kept = C.InvertedResidual(24, 24, stride=1, expand_ratio=6)
    layers = kept[0].block.layers
    assert type(kept[0]) is C.Residual and [type(layer).__name__ for layer in layers[-2:]] == ["Conv1x1",
                                                                                                "BatchNorm2d"]
    assert sum(type(layer) is C.ReLU6 for layer in layers) == 2
    for changed in (C.InvertedResidual(24, 32), C.InvertedResidual(24, 24, stride=2)):
        assert not any(isinstance(layer, C.Residual) for layer in changed)
    assert len(C.InvertedResidual(32, 16, expand_ratio=1)) == 5          # no expansion: dw, BN, ReLU6, 1x1, BN


def test_inverted_residual_pointwise_work_is_c_in_plus_c_out_over_9_times_the_depthwise():
    by_kind = C.InvertedResidual(64, 96, expand_ratio=6).cost(14, 14).by_kind()
    assert by_kind["1x1"]["macs"] * 9 == (64 + 96) * by_kind["depthwise"]["macs"]


def test_convnext_block_starts_close_to_the_identity_and_holds_most_weights_in_its_1x1s(rng):
    block = C.ConvNeXtBlock(8, rng=0)
    x = rng.standard_normal((1, 8, 5, 5))
    assert 0 < np.max(np.abs(block.forward(x) - x)) < 1e-4                # layer scale 1e-6
    report = block.cost(5, 5)
    one_by_one = sum(row.params for row in report.layers if row.category == "1x1")
    assert one_by_one == 8 * 32 + 32 + 32 * 8 + 8 and report.params - one_by_one == 8 * 49 + 8 + 2 * 8 + 8


def test_mbconv_drops_its_residual_branch_per_image_in_training_only(rng):
    block = C.MBConv(4, 4, 3, 1, 2, drop_path=1.0, rng=0)   # p = 1: every image skips the block
    x = rng.standard_normal((3, 4, 5, 5))
    np.testing.assert_array_equal(block.forward(x), x)
    assert not np.allclose(block.eval().forward(x), x)


@pytest.mark.parametrize("build, error, message", [
    (lambda: C.SqueezeExcite(8, 2, activation="gelu"), ValueError, "activation"),
    (lambda: C.InvertedResidual(8, 8, stride=3), ValueError, "stride"),
    (lambda: C.MBConv(8, 8, 7, 1, 6), ValueError, "kernel_size"),
    (lambda: C.MBConv(8, 8, 3, 1, 6, drop_path=1.5), ValueError, r"\bp\b"),
    (lambda: C.ConvNeXtBlock(0), ValueError, "channels"),
])
def test_modern_blocks_refuse_settings_their_papers_do_not_have(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_squeeze_excite_refuses_an_input_of_another_depth():
    with pytest.raises(ValueError, match=r"SqueezeExcite\(6, 2\) expects 6 input channels"):
        C.SqueezeExcite(6, 2).forward(np.zeros((1, 4, 3, 3)))
