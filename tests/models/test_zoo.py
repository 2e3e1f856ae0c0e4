"""conv1x1.models.zoo: MobileNet v1, ResNet-50, SqueezeNet 1.0, ShuffleNet v1 and GoogLeNet are built without
drawing weights, run forward and backward, pass the channels their layers name, and are priced to their papers'
tables (every published number derived again here by plain arithmetic); a PyTorch ShuffleNet counts the same."""

import inspect
import tracemalloc

import numpy as np
import pytest

import conv1x1 as C
from conv1x1 import models, reference

# Tests that run a network's forward or backward pass take both paths (tests/conftest.py's both_paths): the plain
# one and the engine room's, under C.fast.enabled(). Building and pricing a network runs no layer: once is enough.
SLOW = {"resnet50"}   # a forward and backward pass of it takes seconds
# The big networks take their plain path in the fast suite and the engine room's in the slow one: the engine room's
# functions are checked against the plain ones in tests/fast, and on the small networks here, on both paths.
BIG = {"convnext_tiny", "efficientnet_b0", "googlenet", "inception_v3"}


def _networks_on_both_paths(slow=SLOW):
    """(path, name) for every network on both paths; the names in ``slow`` and the big networks' fast path are
    marked slow. The path goes to tests/conftest.py's both_paths fixture."""
    return [pytest.param(path, name, id=f"{path}-{name}",
                         marks=[pytest.mark.slow] if name in slow or (name in BIG and path == "fast") else [])
            for name in sorted(models.MODELS) for path in ("plain", "fast")]


@pytest.mark.parametrize("alpha, error", [(0, ValueError), (0.0, ValueError), (-0.5, ValueError), (1.01, ValueError),
                                          (2, ValueError), (float("nan"), ValueError), (True, TypeError),
                                          ("0.5", TypeError)])
def test_mobilenet_v1_width_multiplier_must_be_a_number_in_zero_one(alpha, error):
    with pytest.raises(error, match="width_multiplier"):
        models.mobilenet_v1(width_multiplier=alpha)


def test_models_registry_and_bad_arguments():
    assert set(models.MODELS) == {"mobilenet_v1", "resnet50", "squeezenet1_0", "shufflenet_v1", "googlenet",
                                  "mobilenet_v2", "efficientnet_b0", "convnext_tiny", "nin", "inception_v3"}
    with pytest.raises(ValueError, match="width_multiplier"):
        models.mobilenet_v1(1.5)
    with pytest.raises(ValueError, match="stride_on"):
        models.resnet50("2x2")
    with pytest.raises(TypeError, match="num_classes"):
        models.googlenet(num_classes=10.0)


def _unallocated(model):
    return all(layer._params is None for layer in _leaves(model))


def _leaves(layer):
    if not layer.children:
        yield layer
    for child in layer.children:
        yield from _leaves(child)


@pytest.mark.parametrize("name", sorted(models.MODELS))
def test_models_build_and_price_in_little_memory_without_drawing_weights(name):
    tracemalloc.start()
    model = models.MODELS[name]()
    report = model.cost(224, 224)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 50e6, peak
    classes = inspect.signature(models.MODELS[name]).parameters["num_classes"].default   # the NiN's digits: 10
    assert _unallocated(model) and report.out_shape == (classes, 1, 1)


SIZE = {"inception_v3": 107}   # a small image for each network: 64 x 64, or more where 64 leaves no pixels


# inception_v3's plain forward and backward also run in tests/models/test_inception_v3.py, on its smallest input
@pytest.mark.parametrize("both_paths, name", _networks_on_both_paths(SLOW | {"inception_v3"}), indirect=["both_paths"])
def test_models_run_forward_and_backward_on_a_small_image(rng, both_paths, name):
    model = models.MODELS[name](num_classes=10, rng=0)
    size = SIZE.get(name, 64)
    x = rng.standard_normal((1, model.in_channels, size, size))
    out = model.forward(x)
    assert out.shape == (1, 10, 1, 1)
    dx = model.backward(rng.standard_normal(out.shape))
    assert dx.shape == x.shape and np.isfinite(dx).all()
    assert all(np.isfinite(g).all() for _, g in model.parameters())
    assert model.cost(size, size).params == sum(p.size for p, _ in model.parameters())  # cost counts what runs


@pytest.mark.parametrize("both_paths, name", _networks_on_both_paths(), indirect=["both_paths"])
def test_models_layers_in_and_out_channels_are_the_channels_their_forward_passes(rng, both_paths, name):
    """Every named layer's in_channels, out_channels (a block's too) and num_features against the arrays that
    go in and come out of it in a forward pass, and the network's in_channels against its input."""
    model = models.MODELS[name](num_classes=10, rng=0)
    x = rng.standard_normal((1, model.in_channels, SIZE.get(name, 64), SIZE.get(name, 64)))
    checked = 0
    for label, layer in zip(model.names, model, strict=True):
        out = layer.forward(x)
        for attribute, array in (("in_channels", x), ("out_channels", out), ("num_features", x)):
            if hasattr(layer, attribute):
                assert getattr(layer, attribute) == array.shape[1], (label, attribute)
                checked += 1
        x = out
    assert x.shape == (1, 10, 1, 1) and checked > 2 * len(model) // 3


def test_mobilenet_v1_cost_counts_the_parameters_it_builds():
    model = models.mobilenet_v1(0.25, num_classes=7, rng=0)
    assert model.cost(96, 96).params == sum(p.size for p, _ in model.parameters())
    assert model.eval() is model and not model.layer("block2")[1].training


# MobileNet v1: (c_out, stride) of the 13 depthwise-separable blocks, Table 1 of the paper.
MOBILENET_PLAN = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]


def _mobilenet_by_hand(alpha=1.0, size=224):
    """Mult-adds and params of MobileNet v1, from Table 1, split by kind."""
    size = (size - 1) // 2 + 1                                       # conv1: 3x3 stride 2, padding 1
    c = int(32 * alpha)
    macs = {"kxk": size * size * c * 3 * 9, "depthwise": 0, "1x1": 0, "fc": 0}
    params = 3 * 9 * c + 2 * c                                       # conv1 + its batch norm
    for c_out, stride in MOBILENET_PLAN:
        c_out = int(c_out * alpha)
        size = (size - 1) // stride + 1
        macs["depthwise"] += size * size * c * 9
        macs["1x1"] += size * size * c * c_out
        params += 9 * c + 2 * c + c * c_out + 2 * c_out
        c = c_out
    macs["fc"] = c * 1000
    params += c * 1000 + 1000
    return macs, params


def test_mobilenet_v1_totals_and_table_2_split():
    """Howard et al. 2017 (arXiv:1704.04861): 569M mult-adds and 4.2M parameters (Table 1 / 6), and Table 2's
    split: 1x1 94.86%, depthwise 3.06%, FC 0.18%, conv 3x3 (dense, the first layer) 1.91%.
    The paper prints 1.19% for the dense 3x3: a digit swap, since the four shares must add up to 100%
    and 94.86 + 3.06 + 0.18 + 1.91 = 100.01 while with 1.19 they add up to 99.29."""
    report = models.mobilenet_v1().cost(224, 224)
    macs, params = _mobilenet_by_hand()
    assert report.macs == sum(macs.values()) and report.params == params
    assert round(report.macs / 1e6) == 569 and round(report.params / 1e6, 1) == 4.2
    shares = {kind: round(100 * entry["macs_share"], 2) for kind, entry in report.by_kind().items()}
    assert shares == {"1x1": 94.86, "depthwise": 3.06, "fc": 0.18, "kxk": 1.91, "grouped": 0.0, "other": 0.0}
    assert report.by_kind()["kxk"]["macs"] == macs["kxk"]


@pytest.mark.parametrize("alpha, paper_macs, paper_params", [(1.0, 569, 4.2), (0.75, 325, 2.6), (0.5, 149, 1.3),
                                                             (0.25, 41, 0.5)])
def test_mobilenet_v1_table_6_width_multiplier(alpha, paper_macs, paper_params):
    """Table 6 of Howard et al. 2017: million mult-adds and million parameters per width multiplier."""
    report = models.mobilenet_v1(alpha).cost(224, 224)
    macs, params = _mobilenet_by_hand(alpha)
    assert (report.macs, report.params) == (sum(macs.values()), params)
    assert round(report.macs / 1e6) == paper_macs and round(report.params / 1e6, 1) == paper_params


@pytest.mark.parametrize("alpha", [1.0, 0.25])
def test_mobilenet_v1_accepts_the_width_multiplier_bounds(alpha):
    """Both ends of (0, 1] are accepted and used as given."""
    model = models.mobilenet_v1(width_multiplier=alpha)
    assert model.layer("conv1").out_channels == 32 * alpha and model.layer("fc").in_channels == 1024 * alpha


@pytest.mark.parametrize("size, paper_macs", [(224, 569), (192, 418), (160, 290), (128, 186)])
def test_mobilenet_v1_table_7_resolution(size, paper_macs):
    """Table 7 of Howard et al. 2017: million mult-adds per input resolution (4.2M parameters throughout).
    The paper's whole millions are within 1M of the exact counts (160: exact 290.7M, printed 290)."""
    report = models.mobilenet_v1().cost(size, size)
    assert report.macs == sum(_mobilenet_by_hand(1.0, size)[0].values())
    assert abs(report.macs / 1e6 - paper_macs) < 1 and round(report.params / 1e6, 1) == 4.2


def _resnet50_macs_by_hand(stride_on):
    """ResNet-50 multiply-adds from the paper's Table 1 (50-layer column), convolutions and FC only."""
    total = 112 * 112 * 64 * 3 * 49                                  # conv1 7x7/2
    c_in, size = 64, 56                                              # after the 3x3/2 max pool
    for mid, blocks, stride in [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]:
        for j in range(blocks):
            s = stride if j == 0 else 1
            out = size // s
            reduce_size = out if stride_on == "1x1" else size        # where the first 1x1 runs
            total += reduce_size ** 2 * c_in * mid + out * out * mid * mid * 9 + out * out * mid * 4 * mid
            if j == 0:
                total += out * out * c_in * 4 * mid                  # projection shortcut
            c_in, size = 4 * mid, out
    return total + 2048 * 1000


def test_resnet50_both_variants_and_where_they_differ():
    """He et al. 2015 (arXiv:1512.03385), Table 1: "3.8 x 10^9" FLOPs (multiply-adds) for ResNet-50 with the
    stride on the first 1x1; the exact count is 3.858e9, which the paper's one decimal truncates. torchvision
    puts the stride on the 3x3 ("v1.5"): 4.09e9. The difference sits in three layers only: the first 1x1 of
    conv3_1, conv4_1 and conv5_1 runs on the input map (4x the pixels) instead of the subsampled one, 3/4 * H^2
    * C_in * C_mid = 77,070,336 more MACs each; every 3x3 costs the same in both."""
    paper, torchvision = models.resnet50("1x1").cost(224, 224), models.resnet50("3x3").cost(224, 224)
    assert paper.macs == _resnet50_macs_by_hand("1x1") and 3.8e9 <= paper.macs < 3.9e9
    assert torchvision.macs == _resnet50_macs_by_hand("3x3") and round(torchvision.macs / 1e9, 2) == 4.09
    assert paper.params == torchvision.params == 25_557_032                 # torchvision's resnet50 count
    differ = [(a.name, b.macs - a.macs) for a, b in zip(paper.layers, torchvision.layers) if a.macs != b.macs]
    each = 3 * 56 * 56 * 256 * 128 // 4
    assert differ == [("conv3_1.0.0.0", each), ("conv4_1.0.0.0", each), ("conv5_1.0.0.0", each)]
    assert each == 77_070_336 and torchvision.macs - paper.macs == 3 * each


# SqueezeNet 1.0, Iandola et al. 2016 (arXiv:1602.07360), Table 1: (name, output size at 227 x 227 input,
# parameters before pruning). The table's input row says 224x224, but its 111x111 conv1 output needs 227.
SQUEEZENET_TABLE1 = [
    ("conv1", (96, 111, 111), 14_208), ("maxpool1", (96, 55, 55), 0),
    ("fire2", (128, 55, 55), 11_920), ("fire3", (128, 55, 55), 12_432), ("fire4", (256, 55, 55), 45_344),
    ("maxpool4", (256, 27, 27), 0),
    ("fire5", (256, 27, 27), 49_440), ("fire6", (384, 27, 27), 104_880), ("fire7", (384, 27, 27), 111_024),
    ("fire8", (512, 27, 27), 188_992), ("maxpool8", (512, 13, 13), 0), ("fire9", (512, 13, 13), 197_184),
    ("conv10", (1000, 13, 13), 513_000), ("pool", (1000, 1, 1), 0),
]


def _fire_params(c_in, s, e1, e3):
    return c_in * s + s + s * e1 + e1 + s * 9 * e3 + e3


def test_squeezenet1_0_total_and_table_1_per_module():
    report = models.squeezenet1_0().cost(227, 227)
    assert report.params == 1_248_424
    by_name = {child.title if isinstance(child, C.report.Report) else child.name: child for child in report.children}
    for name, shape, params in SQUEEZENET_TABLE1:
        assert by_name[name].out_shape == shape and by_name[name].params == params, name
    assert _fire_params(96, 16, 64, 64) == 11_920 and _fire_params(512, 64, 256, 256) == 197_184
    assert 96 * 3 * 49 + 96 == 14_208 and 512 * 1000 + 1000 == 513_000
    assert models.squeezenet1_0().cost(224, 224).params == 1_248_424   # the count does not depend on the size


# GoogLeNet, Szegedy et al. 2014 (arXiv:1409.4842), Table 1: (name, output (C, H, W), paper's params in K,
# paper's ops in M). The ops column is our MACs rounded to the million, except two rows (see the test).
GOOGLENET_TABLE1 = [
    ("conv1", (64, 112, 112), 2.7, 34), ("conv2", (192, 56, 56), 112, 360),
    ("inception_3a", (256, 28, 28), 159, 128), ("inception_3b", (480, 28, 28), 380, 304),
    ("inception_4a", (512, 14, 14), 364, 73), ("inception_4b", (512, 14, 14), 437, 88),
    ("inception_4c", (512, 14, 14), 463, 100), ("inception_4d", (528, 14, 14), 580, 119),
    ("inception_4e", (832, 14, 14), 840, 170), ("inception_5a", (832, 7, 7), 1072, 54),
    ("inception_5b", (1024, 7, 7), 1388, 71), ("fc", (1000, 1, 1), 1000, 1),
]


def _inception_weights(c_in, n1, r3, n3, r5, n5, proj):
    return c_in * n1 + c_in * r3 + r3 * 9 * n3 + c_in * r5 + r5 * 25 * n5 + c_in * proj


def test_googlenet_table_1_per_module():
    """Ops: every row's MACs are within 1M of the paper's millions (4a: exact 73.6M, printed 73) except conv1
    (paper 34M; exact 118M: 34M is the paper's own 2.7K params times 112x112 output pixels, so that row
    undercounts the weights, not the pixels)
    and inception_5a (paper 54M; exact 51.1M). Params: the paper's column reads as units of 1024 weights,
    biases left out; it is within 1K of the exact count for conv2 (112.0), 3a (159.5), 3b (379.0), 4b (438.0)
    and fc (1000.0), and differs elsewhere: 4a 366.8 (paper 364), 4c 497.5 (463, 7.5% low), 4d 590.5 (580),
    4e 847.0 (840), 5a 1018.0 (1072, 5% high), 5b 1409.0 (1388), and conv1 9.2 (2.7)."""
    report = models.googlenet().cost(224, 224)
    rows = {child.title if isinstance(child, C.report.Report) else child.name: child for child in report.children}
    conv2 = C.report.Report([rows["conv2_reduce"], rows["conv2"]])
    rows["conv2"] = conv2
    exact_weights = {"conv1": 3 * 49 * 64, "conv2": 64 * 64 + 64 * 9 * 192, "fc": 1024 * 1000}
    for name, widths in models.zoo.GOOGLENET_MODULES.items():
        exact_weights[name] = _inception_weights(*widths)
    for name, shape, paper_k, paper_m in GOOGLENET_TABLE1:
        row = rows[name]
        assert row.out_shape == shape, name
        pixels = shape[1] * shape[2]
        assert row.macs == exact_weights[name] * pixels, name            # MACs = weights x output pixels
        if name not in ("conv1", "inception_5a"):
            assert abs(row.macs / 1e6 - paper_m) < 1, name
        close = abs(exact_weights[name] / 1024 - paper_k) <= 1
        assert close == (name in ("conv2", "inception_3a", "inception_3b", "inception_4b", "fc")), name
        if name != "conv1":
            assert 0.94 < exact_weights[name] / 1024 / paper_k < 1.08, name
    assert (round(rows["conv1"].macs / 1e6), round(rows["inception_5a"].macs / 1e6, 1)) == (118, 51.1)
    assert round(2.7e3 * 112 * 112 / 1e6) == 34
    assert report.params == 6_998_552   # torchvision's googlenet without aux and BN differs: this is the paper's


# Table 1 of the paper: complexity (MFLOPs, which the paper uses for multiply-adds) for g = 1, 2, 3, 4, 8.
TABLE_1 = {1: 143, 2: 140, 3: 137, 4: 133, 8: 137}


STAGE_2_WIDTHS = {1: 144, 2: 200, 3: 240, 4: 272, 8: 384}


@pytest.mark.parametrize("groups", sorted(TABLE_1))
def test_shufflenet_v1_table_1_complexity_is_the_macs_without_the_fc_layer(groups):
    report = models.shufflenet_v1(groups).cost(224, 224)
    fc = report.layers[-1]
    assert fc.name == "fc" and fc.macs == 1000 * 4 * STAGE_2_WIDTHS[groups]
    assert round((report.macs - fc.macs) / 1e6) == TABLE_1[groups]
    assert abs(report.macs / 1e6 - TABLE_1[groups]) < 1.6          # with the FC layer: within 1.6M


@pytest.mark.parametrize("groups", sorted(TABLE_1))
def test_shufflenet_v1_table_1_output_sizes_and_widths(groups):
    net = models.shufflenet_v1(groups)
    report = net.cost(224, 224)
    shapes = {child.name: child.out_shape for child in report.children}
    width = STAGE_2_WIDTHS[groups]
    assert shapes["conv1"] == (24, 112, 112) and shapes["maxpool"] == (24, 56, 56)
    assert shapes["stage2_4"] == (width, 28, 28)
    assert shapes["stage3_8"] == (2 * width, 14, 14)
    assert shapes["stage4_4"] == (4 * width, 7, 7)
    assert shapes["fc"] == (1000, 1, 1)
    assert sum(name.startswith("stage") for name in net.names) == 4 + 8 + 4


def test_shufflenet_v1_table_2_half_width_complexity_counts_the_fc_layer():
    """Table 2: "ShuffleNet 0.5x", 38 MFLOPs; with g = 3 and the official code's widths (12, 120, 240, 480)
    the count *with* the FC layer rounds to it (without it, to 37)."""
    net = models.shufflenet_v1(3, width_multiplier=0.5)
    report = net.cost(224, 224)
    assert [child.out_shape[0] for child in report.children if child.name in ("conv1", "stage2_4", "stage3_8",
                                                                               "stage4_4")] == [12, 120, 240, 480]
    assert round(report.macs / 1e6) == 38
    assert round((report.macs - report.layers[-1].macs) / 1e6) == 37


def test_shufflenet_v1_at_half_width_costs_about_a_quarter():
    """The paper: "ShuffleNet s x ... overall complexity will be roughly s^2 times"."""
    full, half = (models.shufflenet_v1(3, s).cost(224, 224).macs for s in (1.0, 0.5))
    assert 0.25 < half / full < 0.3


def test_shufflenet_v1_is_mostly_grouped_1x1_work():
    shares = models.shufflenet_v1(3).cost(224, 224).by_kind()
    assert shares["grouped"]["macs_share"] > 0.75
    assert shares["grouped"]["macs"] + shares["1x1"]["macs"] > 0.8 * sum(v["macs"] for v in shares.values())


def test_shufflenet_v1_defaults_are_the_papers_g3_1x_1000_classes():
    net = models.shufflenet_v1()
    assert net.layer("stage2_1").groups == 3 and net.layer("stage2_1").out_channels == 240
    assert net.layer("fc").out_channels == 1000


def test_shufflenet_v1_stem_is_a_3x3_stride_2_convolution_and_a_3x3_stride_2_max_pool():
    """The docstring and Table 1: conv1 3x3/2 (24 channels, padding 1), then max pool 3x3/2 (padding 1)."""
    net = models.shufflenet_v1(3)
    conv, pool = net.layer("conv1"), net.layer("maxpool")
    assert (conv.kernel_size, conv.stride, conv.padding, conv.out_channels) == (3, 2, 1, 24)
    assert (pool.kernel_size, pool.stride, pool.padding) == (3, 2, 1)


@pytest.mark.usefixtures("both_paths")
def test_shufflenet_v1_stem_forward_is_conv_bn_relu_then_the_max_pool_loops():
    net = models.shufflenet_v1(3, width_multiplier=0.25, num_classes=10, rng=0)
    x = np.random.default_rng(3).standard_normal((1, 3, 20, 20))
    stem = x
    for name in ("conv1", "bn1", "relu1"):
        stem = net.layer(name).forward(stem)
    np.testing.assert_allclose(net.layer("maxpool").forward(stem), reference.maxpool2d_loops(stem, 3, 2, 1),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("scale", [0.04, 0.06, 0.09, 0.25])
def test_shufflenet_v1_conv1_width_is_24_times_the_scale_rounded_down_but_at_least_1(scale):
    """The docstring: every width, conv1's too, times s, rounded down (at least one channel)."""
    net = models.shufflenet_v1(1, width_multiplier=scale, num_classes=10)
    assert net.layer("conv1").out_channels == max(1, int(24 * scale))
    assert net.layer("stage2_1").in_channels == max(1, int(24 * scale))
    assert net.cost(32, 32).out_shape == (10, 1, 1)


@pytest.mark.usefixtures("both_paths")
def test_shufflenet_v1_runs_forward_and_backward_on_a_small_image(rng):
    net = models.shufflenet_v1(3, width_multiplier=0.25, num_classes=10, rng=0)
    x = rng.standard_normal((2, 3, 64, 64))
    out = net.forward(x)
    assert out.shape == (2, 10, 1, 1)
    dx = net.backward(np.ones_like(out))
    assert dx.shape == x.shape and np.isfinite(dx).all()
    assert set(net.grads) == set(net.params)


@pytest.mark.usefixtures("both_paths")
def test_shufflenet_v1_is_reproducible_from_a_seed_and_keeps_its_dtype():
    """Evaluation mode: on a 32x32 image Stage 4's maps are 1x1, too few values for batch statistics."""
    x = np.random.default_rng(0).standard_normal((1, 3, 32, 32))
    a, b = (models.shufflenet_v1(3, width_multiplier=0.25, num_classes=10, rng=0).eval() for _ in range(2))
    np.testing.assert_array_equal(a.forward(x), b.forward(x))
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name], err_msg=name)
    net32 = models.shufflenet_v1(3, width_multiplier=0.25, num_classes=10, rng=0, dtype=np.float32).eval()
    assert net32.forward(x.astype(np.float32)).dtype == np.float32
    for name, p in {**net32.params, **net32.buffers}.items():
        assert p.dtype == np.float32, name


def test_shufflenet_v1_and_its_units_from_an_int_seed_equal_those_from_a_generator_of_it():
    """check_rng: an int seeds one Generator, shared by every layer in turn (not one fresh Generator per layer)."""
    pairs = [(C.ShuffleUnit(12, 12, groups=3, rng=0), C.ShuffleUnit(12, 12, groups=3, rng=np.random.default_rng(0))),
             (models.shufflenet_v1(3, width_multiplier=0.25, num_classes=10, rng=0),
              models.shufflenet_v1(3, width_multiplier=0.25, num_classes=10, rng=np.random.default_rng(0)))]
    for seeded, generated in pairs:
        assert set(seeded.params) == set(generated.params)
        for name in seeded.params:
            np.testing.assert_array_equal(seeded.params[name], generated.params[name], err_msg=name)


@pytest.mark.parametrize("groups, scale, message", [
    (2, 0.5, "Stage 2's bottleneck 25"), (8, 0.5, "groups=8"), (5, 1.0, "groups"), (3, 0.0, "width_multiplier")])
def test_shufflenet_v1_refuses_widths_its_groups_cannot_split(groups, scale, message):
    with pytest.raises(ValueError, match=message):
        models.shufflenet_v1(groups, width_multiplier=scale)


def test_shufflenet_v1_checks_stage_3s_widths_too():
    """g = 2 at 0.25x: widths 6, 50, 100, 200. Stage 2's and 4's split into 2 groups, Stage 3's bottleneck
    (100 // 4 = 25) does not.
    """
    with pytest.raises(ValueError, match="Stage 3's bottleneck 25"):
        models.shufflenet_v1(2, width_multiplier=0.25)


@pytest.mark.slow   # PyTorch runs each network on a 224x224 image
@pytest.mark.parametrize("groups", [1, 3, 8])
def test_shufflenet_v1_cost_equals_a_count_of_a_hand_built_torch_network(torch, torch_twins, groups):
    """MACs counted by forward hooks on PyTorch's own layers (conv: out pixels x C_out x C_in/groups x K x K;
    linear: in x out), in the order they run, and PyTorch's parameter count, against our report."""
    macs = []

    def count(module, inputs, output):
        if isinstance(module, torch.nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            macs.append(output.numel() * module.in_channels // module.groups * k)
        else:
            macs.append(module.in_features * module.out_features)
    theirs = torch_twins.shufflenet_v1(groups).eval()
    for module in theirs.modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
            module.register_forward_hook(count)
    with torch.no_grad():
        theirs(torch.zeros(1, 3, 224, 224))
    report = models.shufflenet_v1(groups).cost(224, 224)
    assert [row.macs for row in report.layers if row.macs] == macs
    assert report.params == sum(p.numel() for p in theirs.parameters())


# ---------------------------------------------------------------- today's networks against torchvision and the papers

@pytest.mark.parametrize("name", ["mobilenet_v2", "efficientnet_b0", "convnext_tiny"])
def test_todays_networks_count_torchvisions_parameters_and_multiply_adds_layer_by_layer(torchvision, torch_macs,
                                                                                         name):
    theirs = getattr(torchvision.models, name)()
    report = models.MODELS[name]().cost(224, 224)
    assert report.params == sum(p.numel() for p in theirs.parameters())
    assert [row.macs for row in report.layers if row.macs] == torch_macs(theirs, 224)


# name -> (torchvision's documented parameter count, the paper's multiply-adds in millions and parameters in
# millions, as printed): MobileNetV2 Table 4, EfficientNet-B0 Table 2, ConvNeXt-T Table 1 (ImageNet-1K).
PAPERS = {"mobilenet_v2": (3_504_872, 300, 3.4), "efficientnet_b0": (5_288_548, 390, 5.3),
          "convnext_tiny": (28_589_128, 4500, 28)}


@pytest.mark.parametrize("name", sorted(PAPERS))
def test_todays_networks_reproduce_their_papers_counts(name):
    """The multiply-adds are the papers' to their printed precision: 385.8M is 0.39B and 4,455.5M is 4.5G;
    MobileNetV2's 300.8M is printed 300M, within 1M (299.5M without the classifier's 1.28M). The parameters are
    torchvision's published counts; the papers print 3.4M (MobileNetV2: torchvision's definition, whose layers
    are the paper's Table 2, has 3,504,872, 3.5M), 5.3M and 28M (28.6M, truncated)."""
    report = models.MODELS[name]().cost(224, 224)
    tv_params, paper_macs, paper_params = PAPERS[name]
    assert report.params == tv_params
    assert abs(report.macs / 1e6 - paper_macs) < {300: 1, 390: 5, 4500: 50}[paper_macs]
    assert abs(report.params / 1e6 - paper_params) < 0.65


def test_todays_networks_do_most_of_their_work_in_1x1_convolutions():
    shares = {name: models.MODELS[name]().cost(224, 224).by_kind()["1x1"]["macs_share"]
              for name in ("mobilenet_v2", "efficientnet_b0", "convnext_tiny")}
    assert all(share > 0.85 for share in shares.values()), shares


def test_mobilenet_v2_blocks_follow_table_2():
    net = models.mobilenet_v2()
    blocks = [layer for layer in net if isinstance(layer, C.InvertedResidual)]
    assert len(blocks) == 17 and net.names[1:18] == tuple(f"features.{i}" for i in range(1, 18))
    widths = [(b.out_channels, b.stride, b.expand_ratio) for b in blocks]
    assert widths[0] == (16, 1, 1) and widths[1] == (24, 2, 6) and widths[-1] == (320, 1, 6)
    assert sum(any(isinstance(layer, C.Residual) for layer in b) for b in blocks) == 10
    shapes = {child.name: child.out_shape for child in net.cost(224, 224).children}
    assert shapes["features.0"] == (32, 112, 112) and shapes["features.17"] == (320, 7, 7)


def test_efficientnet_b0_and_convnext_tiny_stochastic_depth_grows_linearly_to_its_last_block():
    b0 = [layer.drop_path for layer in models.efficientnet_b0() if isinstance(layer, C.MBConv)]
    assert len(b0) == 16 and b0[0] == 0 and b0[-1] == pytest.approx(0.2 * 15 / 16)
    tiny = [layer.drop_path for layer in models.convnext_tiny() if isinstance(layer, C.ConvNeXtBlock)]
    assert len(tiny) == 18 and tiny[0] == 0 and tiny[-1] == pytest.approx(0.1)


def _examples_nin(kind="nin", seed=0):
    """The network of examples/13_nin_digits.py (``network(kind)``) and examples/15_to_pytorch.py (``nin()``)."""
    rng = np.random.default_rng(seed)

    def conv(c_in, c_out, k):
        return C.Conv2d(c_in, c_out, k, padding="same", rng=rng) if k > 1 else C.Conv1x1(c_in, c_out, rng=rng)

    def mlpconv(c_in, width, c_out):
        if kind == "no 1x1":
            return [conv(c_in, c_out, 3)]
        between = [C.ReLU()] if kind == "nin" else []
        return [conv(c_in, width, 3), C.ReLU(), conv(width, width, 1), *between, conv(width, c_out, 1)]

    return C.Sequential(*mlpconv(1, 32, 32), C.ReLU(), C.MaxPool2d(2), *mlpconv(32, 64, 10), C.GlobalAvgPool2d())


@pytest.mark.parametrize("kind, one_by_one", [("nin", "relu"), ("linear 1x1", "linear"), ("no 1x1", "none")])
def test_nin_is_the_examples_network_layer_for_layer_and_weight_for_weight(rng, kind, one_by_one):
    ours, theirs = models.nin(one_by_one=one_by_one, rng=0), _examples_nin(kind, seed=0)
    assert [repr(layer) for layer in ours] == [repr(layer) for layer in theirs]
    assert list(ours.params) == list(theirs.params)
    assert all(np.array_equal(ours.params[k], theirs.params[k]) for k in ours.params)
    x = rng.standard_normal((2, 1, 8, 8))
    np.testing.assert_array_equal(ours.forward(x), theirs.forward(x))
    assert ours.cost(8, 8).macs == theirs.cost(8, 8, 1).macs


def test_todays_networks_refuse_bad_arguments():
    with pytest.raises(ValueError, match=r"\bp\b"):
        models.efficientnet_b0(stochastic_depth=2.0)
    with pytest.raises(ValueError, match="one_by_one"):
        models.nin(one_by_one="gelu")
    with pytest.raises(TypeError, match="widths"):
        models.nin(widths=(32, 6.4))
