"""C.to_torch and C.from_torch: the same network in PyTorch and back, compared in float64.

Every comparison runs one forward and one backward of the same upstream gradient on both sides and
bounds each difference (output, input gradient, every parameter's gradient, running statistics) by
1e-10 times the largest magnitude in PyTorch's array, with a floor of 1e-10 (gradients of a
training-mode network reach 1e3 while some, such as a batch norm's beta feeding another batch norm,
are round-off around 1e-13 whose true value is 0). Skipped where PyTorch is absent, except the two tests
of what happens without it; CI runs them with PyTorch and torchvision installed (CONV1X1_REQUIRE_TORCH=1).
"""

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import conv1x1 as C
from conv1x1 import models

BOUND = 1e-10
NAMES = {"w": "weight", "b": "bias", "gamma": "weight", "beta": "bias"}   # the library's -> PyTorch's


@pytest.fixture(scope="module")
def torch():
    """PyTorch with one thread: otherwise its float64 grouped convolutions spin on a busy machine, and one small
    depthwise layer can take hundreds of times as long."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)


def _close(ours, theirs, what):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    ours = np.asarray(ours).reshape(theirs.shape)
    difference = float(np.max(np.abs(ours - theirs))) if ours.size else 0.0
    bound = BOUND * max(1.0, float(np.max(np.abs(theirs))) if theirs.size else 0.0)
    assert difference <= bound, f"{what}: max difference {difference:.3g} > {bound:.3g}"
    assert not np.isnan(ours).any()


def _nodes(layer):
    yield layer
    for child in layer.children:
        yield from _nodes(child)


def _stateful_pairs(layer, module):
    """Library leaves with parameters and PyTorch leaf modules with parameters, in the same (pre-)order."""
    ours = [node for node in _nodes(layer) if not node.children and node.params]
    theirs = [m for m in module.modules() if not list(m.children()) and list(m.parameters(recurse=False))]
    assert len(ours) == len(theirs), (len(ours), len(theirs))
    return list(zip(ours, theirs))


def _compare(torch, layer, module, x, rng, flatten=False):
    """One forward and backward of both; outputs, dx, every parameter's gradient and the running stats agree.

    ``flatten``: PyTorch's module flattens the scores to (N, K), the library keeps (N, K, 1, 1).
    """
    module.zero_grad(set_to_none=True)   # PyTorch adds to .grad; the library's backward overwrites
    tx = torch.tensor(x, requires_grad=True)
    theirs = module(tx)
    ours = layer.forward(x)
    expected = tuple(theirs.shape) + ((1, 1) if flatten else ())
    assert ours.shape == expected and ours.dtype == np.float64
    dout = rng.standard_normal(ours.shape)
    theirs.backward(torch.tensor(dout.reshape(tuple(theirs.shape))))
    dx = layer.backward(dout)
    _close(ours, theirs, "output")
    _close(dx, tx.grad, "input gradient")
    for leaf, m in _stateful_pairs(layer, module):
        for name, grad in leaf.grads.items():
            _close(grad, getattr(m, NAMES[name]).grad, f"{leaf!r} d{name}")
        for name, buffer in leaf.buffers.items():
            _close(buffer, getattr(m, name), f"{leaf!r} {name}")


def _same_modes(layer, module):
    ours = [node.training for node in _nodes(layer)]
    theirs = [m.training for m in module.modules()]
    return ours == theirs


# ------------------------------------------------------------------------------------ every block, both ways

BLOCKS = {  # name -> (library layer, input shape)
    "Conv1x1": (lambda: C.Conv1x1(6, 4, rng=1), (2, 6, 5, 4)),
    "Conv1x1 groups=3, no bias": (lambda: C.Conv1x1(6, 9, groups=3, bias=False, rng=1), (2, 6, 4, 5)),
    "Conv2d 3x3 stride 2 padding 1": (lambda: C.Conv2d(4, 6, 3, stride=2, padding=1, rng=1), (2, 4, 9, 8)),
    "Conv2d 5x5 same, groups 2": (lambda: C.Conv2d(4, 6, 5, padding="same", groups=2, rng=1), (2, 4, 7, 6)),
    "Conv2d depthwise": (lambda: C.Conv2d(5, 5, 3, padding=1, groups=5, bias=False, rng=1), (2, 5, 6, 6)),
    "Conv1x1 stride 2": (lambda: C.Conv1x1(4, 6, stride=2, bias=False, rng=1), (2, 4, 7, 7)),
    "ReLU": (lambda: C.ReLU(), (2, 3, 4, 4)),
    "LeakyReLU": (lambda: C.LeakyReLU(0.2), (2, 3, 4, 4)),
    "Sigmoid": (lambda: C.Sigmoid(), (2, 3, 4, 4)),
    "Tanh": (lambda: C.Tanh(), (2, 3, 4, 4)),
    "MaxPool2d ceil_mode": (lambda: C.MaxPool2d(3, stride=2, ceil_mode=True), (2, 3, 8, 8)),
    "MaxPool2d padding": (lambda: C.MaxPool2d(3, stride=2, padding=1), (2, 3, 7, 6)),
    "AvgPool2d": (lambda: C.AvgPool2d(3, stride=2, padding=1), (2, 3, 7, 6)),
    "GlobalAvgPool2d": (lambda: C.GlobalAvgPool2d(), (2, 3, 5, 4)),
    "BatchNorm2d": (lambda: C.BatchNorm2d(3, eps=1e-3, momentum=0.2), (4, 3, 5, 4)),
    "ChannelShuffle": (lambda: C.ChannelShuffle(3), (2, 12, 3, 3)),
    "Sequential": (lambda: C.Sequential(C.Conv2d(3, 4, 3, padding=1, rng=1), C.BatchNorm2d(4), C.ReLU(),
                                        C.MaxPool2d(2), C.Conv1x1(4, 2, rng=2), C.GlobalAvgPool2d()), (4, 3, 6, 6)),
    "empty Sequential": (lambda: C.Sequential(), (2, 3, 4, 4)),
    "Concat": (lambda: C.Concat(C.Conv1x1(3, 2, rng=1), C.MaxPool2d(3, stride=1, padding=1),
                                C.Sequential(C.Conv2d(3, 4, 3, padding=1, rng=2), C.Tanh())), (2, 3, 5, 5)),
    "Residual, identity": (lambda: C.Residual(C.Sequential(C.Conv1x1(4, 4, rng=1), C.Sigmoid())), (2, 4, 3, 3)),
    "Residual, projection": (lambda: C.Residual(C.Conv2d(3, 5, 3, stride=2, padding=1, rng=1),
                                                C.Conv1x1(3, 5, stride=2, rng=2)), (2, 3, 6, 6)),
    "Inception": (lambda: C.Inception(6, 2, 3, 4, 2, 3, 2, rng=1), (2, 6, 6, 6)),
    "Inception naive, no bias": (lambda: C.Inception(4, 2, 3, 3, 2, 2, 2, reductions=False, bias=False, rng=1),
                                 (2, 4, 5, 5)),
    "DepthwiseSeparable": (lambda: C.DepthwiseSeparable(4, 6, stride=2, rng=1), (4, 4, 6, 6)),
    "Bottleneck, identity": (lambda: C.Bottleneck(8, 2, 8, rng=1), (4, 8, 4, 4)),
    "Bottleneck, stride on 3x3": (lambda: C.Bottleneck(4, 2, 8, stride=2, rng=1), (4, 4, 6, 6)),
    "Bottleneck, stride on 1x1": (lambda: C.Bottleneck(4, 2, 8, stride=2, stride_on="1x1", rng=1), (4, 4, 6, 6)),
    "Fire": (lambda: C.Fire(6, 3, 4, 4, rng=1), (2, 6, 5, 5)),
    "ShuffleUnit, stride 1": (lambda: C.ShuffleUnit(12, 12, groups=3, rng=1), (4, 12, 4, 4)),
    "ShuffleUnit, stride 2, first_groups 1": (lambda: C.ShuffleUnit(6, 18, groups=3, stride=2, first_groups=1,
                                                                    mid_channels=6, rng=1), (4, 6, 6, 6)),
    "Linear": (lambda: C.Linear(6, 4, rng=1), (3, 6)),
    "Flatten": (lambda: C.Flatten(), (3, 3, 2, 2)),
    "ReLU6": (lambda: C.ReLU6(), (2, 3, 4, 4)),
    "GELU": (lambda: C.GELU(), (2, 3, 4, 4)),
    "SiLU": (lambda: C.SiLU(), (2, 3, 4, 4)),
    "Dropout p=0": (lambda: C.Dropout(0.0), (2, 3, 4, 4)),
    "DropPath p=0": (lambda: C.DropPath(0.0), (2, 3, 4, 4)),
    "LayerNorm2d": (lambda: C.LayerNorm2d(3, eps=1e-5), (2, 3, 4, 4)),
    "LayerScale": (lambda: C.LayerScale(3, init=0.5), (2, 3, 4, 4)),
    "SqueezeExcite": (lambda: C.SqueezeExcite(6, 2, rng=1), (2, 6, 4, 4)),
    "SqueezeExcite relu": (lambda: C.SqueezeExcite(6, 3, activation="relu", rng=1), (2, 6, 4, 4)),
    "InvertedResidual, residual": (lambda: C.InvertedResidual(4, 4, expand_ratio=2, rng=1), (4, 4, 5, 5)),
    "InvertedResidual, stride 2, t=1": (lambda: C.InvertedResidual(4, 6, stride=2, expand_ratio=1, rng=1),
                                        (4, 4, 6, 6)),
    "MBConv, residual": (lambda: C.MBConv(4, 4, 3, 1, 2, rng=1), (4, 4, 5, 5)),
    "MBConv 5x5, stride 2": (lambda: C.MBConv(4, 6, 5, 2, 1, rng=1), (4, 4, 6, 6)),
    "ConvNeXtBlock": (lambda: C.ConvNeXtBlock(4, layer_scale=0.5, rng=1), (2, 4, 5, 5)),
}


def _randomise(torch, module, rng):
    """New weights and running statistics drawn on the PyTorch side, so that from_torch must carry them over."""
    with torch.no_grad():
        for param in module.parameters():
            param.copy_(torch.tensor(rng.standard_normal(tuple(param.shape))))
        for name, buffer in module.named_buffers():
            if name.endswith("running_mean"):
                buffer.copy_(torch.tensor(rng.standard_normal(tuple(buffer.shape))))
            elif name.endswith("running_var"):
                buffer.copy_(torch.tensor(rng.uniform(0.5, 2.0, tuple(buffer.shape))))


def _randomise_batchnorm(torch, module, rng):
    """New gamma, beta and running statistics in every batch norm (the convolutions keep their scale)."""
    with torch.no_grad():
        for bn in (m for m in module.modules() if isinstance(m, torch.nn.BatchNorm2d)):
            for tensor, values in ((bn.weight, rng.uniform(0.5, 1.5, bn.num_features)),
                                   (bn.bias, rng.standard_normal(bn.num_features) * 0.1),
                                   (bn.running_mean, rng.standard_normal(bn.num_features) * 0.1),
                                   (bn.running_var, rng.uniform(0.5, 2.0, bn.num_features))):
                tensor.copy_(torch.tensor(values))


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("name", list(BLOCKS))
def test_to_torch_block_computes_the_same_forward_and_gradients(torch, rng, name, training):
    build, shape = BLOCKS[name]
    layer = build().train(training)
    if isinstance(layer, C.BatchNorm2d):   # running statistics that are not the starting 0 and 1
        layer.buffers["running_mean"][...], layer.buffers["running_var"][...] = rng.standard_normal(3), [.5, 1, 2]
    module = C.to_torch(layer)
    assert _same_modes(layer, module)
    _compare(torch, layer, module, rng.standard_normal(shape), rng)


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("name", list(BLOCKS))
def test_from_torch_block_carries_pytorch_weights_and_computes_the_same(torch, rng, name, training):
    build, shape = BLOCKS[name]
    module = C.to_torch(build()).train(training)
    _randomise(torch, module, rng)
    layer = C.from_torch(module)
    assert type(layer) is type(build()) and _same_modes(layer, module)
    _compare(torch, layer, module, rng.standard_normal(shape), rng)


def test_round_trip_turns_a_1x1_conv2d_into_the_conv1x1_that_computes_the_same(torch, rng):
    """The one class a round trip changes: PyTorch has one Conv2d for both, and from_torch picks Conv1x1."""
    layer = C.Conv2d(4, 6, 1, stride=2, groups=2, rng=0)
    back = C.from_torch(C.to_torch(layer))
    assert repr(back) == "Conv1x1(4, 6, groups=2, stride=2, bias=True)"
    x = rng.standard_normal((2, 4, 7, 7))
    np.testing.assert_allclose(back.forward(x), layer.forward(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", list(BLOCKS))
def test_round_trip_gives_the_same_classes_weights_buffers_and_modes(torch, rng, name):
    layer = BLOCKS[name][0]()
    for node in _nodes(layer):   # a mixture of modes, and running statistics that moved
        node.training = bool(rng.integers(2))
        for buffer in node.buffers.values():
            buffer += rng.uniform(0.1, 1.0, buffer.shape)
    back = C.from_torch(C.to_torch(layer))
    assert [type(n) for n in _nodes(back)] == [type(n) for n in _nodes(layer)]
    assert [repr(n) for n in _nodes(back)] == [repr(n) for n in _nodes(layer)]
    assert [n.training for n in _nodes(back)] == [n.training for n in _nodes(layer)]
    for attribute in ("params", "buffers"):
        ours, theirs = getattr(layer, attribute), getattr(back, attribute)
        assert list(ours) == list(theirs)
        for key in ours:
            assert theirs[key].dtype == ours[key].dtype and np.array_equal(theirs[key], ours[key]), key


# ------------------------------------------------------------------------------- every network of conv1x1.models

SLOW = {"resnet50", "googlenet", "mobilenet_v1", "squeezenet1_0", "mobilenet_v2", "efficientnet_b0",
        "convnext_tiny", "inception_v3"}   # a training step of each takes seconds


def _networks(slow):
    """Every network's name, those in ``slow`` marked slow (``python -m pytest -m slow`` runs them)."""
    return [pytest.param(name, marks=pytest.mark.slow) if name in slow else name for name in models.MODELS]


SIZE = {"inception_v3": 107}   # 64 x 64, or the smallest size whose last maps give batch norm 8 values from 2 images


def _without_random_drops(layer):
    """Dropout and DropPath set to evaluation (the identity): their masks are drawn by two different generators."""
    for node in _nodes(layer):
        if isinstance(node, (C.Dropout, C.DropPath)):
            node.eval()
    return layer


@pytest.mark.parametrize("name", _networks(SLOW))
def test_to_torch_network_trains_a_step_then_evaluates_like_the_library(torch, rng, name):
    """Training mode, then eval mode, on 64x64 images.

    Two images in training mode: every network's last maps are then 2x2, so each batch norm averages at
    least 8 values per channel (with 4 values, at 32x32, ResNet-50's gradients agree only to 7e-11 of their
    largest: batch norm on so few values is ill-conditioned). Its running statistics are updated on both
    sides and compared; then one image in eval mode uses them.
    """
    model = _without_random_drops(models.MODELS[name](num_classes=10, rng=0))
    module = C.to_torch(model)
    assert type(module).__name__ == "Network" and module.training and _same_modes(model, module)
    channels, size = model.in_channels, SIZE.get(name, 64)
    _compare(torch, model, module, rng.standard_normal((2, channels, size, size)), rng)
    model.eval()
    module.eval()
    _compare(torch, model, module, rng.standard_normal((1, channels, size, size)), rng)
    assert tuple(module(torch.zeros(1, channels, size, size, dtype=torch.float64)).shape) == (1, 10, 1, 1)


@pytest.mark.parametrize("name", _networks({"resnet50", "efficientnet_b0", "convnext_tiny", "inception_v3"}))
def test_network_round_trip_keeps_names_classes_and_cost(torch, name):
    model = models.MODELS[name](num_classes=10, rng=0).eval()
    back = C.from_torch(C.to_torch(model))
    assert type(back) is models.Network and (back.name, back.names) == (model.name, model.names)
    assert [type(n) for n in _nodes(back)] == [type(n) for n in _nodes(model)]
    assert not any(n.training for n in _nodes(back))
    assert all(np.array_equal(back.params[k], v) for k, v in model.params.items())
    size = SIZE.get(name, 64)
    ours, theirs = model.cost(size, size), back.cost(size, size)
    assert (theirs.params, theirs.macs, theirs.out_shape) == (ours.params, ours.macs, ours.out_shape)


# -------------------------------------------------------------------------- what to_torch gives PyTorch

def test_to_torch_gives_trainable_parameters_in_the_layers_dtype_holding_copies(torch):
    model = C.Sequential(C.Conv1x1(3, 4, rng=0, dtype=np.float32), C.BatchNorm2d(4, dtype=np.float32),
                         C.Conv2d(4, 2, 3, rng=1))
    module = C.to_torch(model)
    params = dict(module.named_parameters())
    assert sorted(params) == ["0.bias", "0.weight", "1.bias", "1.weight", "2.bias", "2.weight"]
    assert all(isinstance(p, torch.nn.Parameter) and p.requires_grad for p in params.values())
    assert [p.dtype for p in params.values()] == [torch.float32] * 4 + [torch.float64] * 2
    assert tuple(params["0.weight"].shape) == (4, 3, 1, 1)
    model.params["0.w"][...] = 7.0     # copies: changing one side leaves the other alone
    assert not torch.any(params["0.weight"] == 7.0)


def test_to_torch_keeps_each_layers_mode(torch):
    model = C.Sequential(C.BatchNorm2d(2), C.Sequential(C.BatchNorm2d(2), C.ReLU())).eval()
    model[1][0].train()
    module = C.to_torch(model)
    assert [m.training for m in module.modules()] == [False, False, False, True, False]


def test_to_torch_modules_survive_torch_save_and_load(torch, tmp_path, rng):
    model = C.Fire(4, 2, 3, 3, rng=0).eval()
    torch.save(C.to_torch(model), tmp_path / "fire.pt")
    module = torch.load(tmp_path / "fire.pt", weights_only=False)
    assert type(module).__name__ == "Fire" and module.config == {"in_channels": 4, "squeeze": 2, "expand1x1": 3,
                                                                  "expand3x3": 3}
    x = rng.standard_normal((1, 4, 5, 5))
    _close(model.forward(x), module(torch.tensor(x)), "output after save and load")


def test_to_torch_refuses_a_layer_class_of_your_own_naming_its_path(torch):
    class Double(C.Layer):
        def forward(self, x):
            return 2 * x

    with pytest.raises(TypeError, match=r"^1\.0: Double has no PyTorch counterpart here; supported: .*Conv1x1"):
        C.to_torch(C.Sequential(C.ReLU(), C.Sequential(Double())))


# ----------------------------------------------------------------------- from_torch on modules built in PyTorch

def _plain_torch_network(nn):
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding="same"), nn.BatchNorm2d(8), nn.LeakyReLU(0.1),
        nn.Conv2d(8, 8, (3, 3), stride=2, padding=1, groups=4, bias=False), nn.ReLU(inplace=True),
        nn.Conv2d(8, 6, 1), nn.ChannelShuffle(2), nn.Conv2d(6, 6, 1, stride=2, padding="valid"), nn.Sigmoid(),
        nn.MaxPool2d(3, stride=2, ceil_mode=True), nn.Identity(), nn.AvgPool2d(2, stride=1, padding=1),
        nn.Sequential(nn.Conv2d(6, 6, 5, padding=2), nn.Tanh()), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Dropout(0.5), nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 4))


def test_from_torch_converts_a_pytorch_sequential_layer_by_layer(torch):
    module = _plain_torch_network(torch.nn)
    layer = C.from_torch(module)
    kinds = [type(child).__name__ for child in layer]
    assert kinds == ["Conv2d", "BatchNorm2d", "LeakyReLU", "Conv2d", "ReLU", "Conv1x1", "ChannelShuffle", "Conv1x1",
                     "Sigmoid", "MaxPool2d", "Sequential", "AvgPool2d", "Sequential", "GlobalAvgPool2d",
                     "Sequential", "Dropout", "Conv1x1", "ReLU", "Conv1x1"]
    assert layer[15].p == 0.5
    assert (layer[0].padding, layer[3].groups, layer[3].bias, layer[7].stride) == (1, 4, False, 2)
    as_torch = {key.rpartition(".")[0] + "." + NAMES[key.rpartition(".")[2]] for key in layer.params}
    assert as_torch == set(dict(module.named_parameters()))     # same indices: "16.w" is "16.weight"


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_from_torch_pytorch_sequential_computes_the_same(torch, rng, training):
    module = _plain_torch_network(torch.nn).double().train(training)
    module[15].eval()   # the Dropout: the library's counterpart is the identity
    layer = C.from_torch(module)
    assert _same_modes(layer, module)
    _compare(torch, layer, module, rng.standard_normal((4, 3, 16, 16)), rng, flatten=True)


def test_from_torch_keeps_float32(torch):
    layer = C.from_torch(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4)))
    assert [p.dtype for p in layer.params.values()] == [np.float32] * 4
    assert all(b.dtype == np.float32 for b in layer.buffers.values())


def test_from_torch_converts_dropout_to_the_librarys_dropout_in_its_mode(torch):
    nn = torch.nn
    layer = C.from_torch(nn.Sequential(nn.Flatten(), nn.Linear(3, 2), nn.Dropout(0.25)))
    assert type(layer[2]) is C.Dropout and layer[2].p == 0.25 and layer[2].training
    assert not C.from_torch(nn.Sequential(nn.Dropout(0.5)).eval())[0].training


def test_from_torch_converts_a_bare_linear_and_flatten_to_the_librarys(torch, rng):
    module = torch.nn.Linear(5, 3).double()
    layer = C.from_torch(module)
    assert type(layer) is C.Linear and type(C.from_torch(torch.nn.Flatten())) is C.Flatten
    _compare(torch, layer, module, rng.standard_normal((4, 5)), rng)
    with pytest.raises(ValueError, match=r"start_dim=1"):
        C.from_torch(torch.nn.Flatten(2))


@pytest.mark.parametrize("build, error, message", [
    (lambda nn, Weird: nn.Sequential(nn.ReLU(), nn.Sequential(nn.Conv2d(3, 3, 1), Weird())), TypeError,
     r"^1\.1: Weird is not supported; supported: Sequential, Conv2d, BatchNorm2d"),
    (lambda nn, Weird: Weird(), TypeError, r"^\(top level\): Weird is not supported"),
    (lambda nn, Weird: nn.Sequential(nn.ELU()), TypeError, r"^0: ELU is not supported"),
    (lambda nn, Weird: nn.GELU(approximate="tanh"), ValueError, r"approximate='tanh'.*exact \(erf\)"),
    (lambda nn, Weird: nn.Sequential(nn.Conv3d(3, 3, 1)), TypeError, r"^0: Conv3d is not supported"),
    (lambda nn, Weird: nn.ModuleList([nn.ReLU()]), TypeError, r"^\(top level\): ModuleList is not supported"),
    (lambda nn, Weird: nn.Sequential(nn.Conv2d(3, 3, 3, dilation=2)), ValueError, r"^0: .*dilation 1"),
    (lambda nn, Weird: nn.Conv2d(3, 3, 4, padding="same"), ValueError, r"^\(top level\): .*even kernel"),
    (lambda nn, Weird: nn.Conv2d(3, 3, 3, padding_mode="reflect"), ValueError, r"padding_mode='zeros'"),
    (lambda nn, Weird: nn.AvgPool2d(3, ceil_mode=True), ValueError, r"ceil_mode=True"),
    (lambda nn, Weird: nn.AvgPool2d(3, padding=1, count_include_pad=False), ValueError, r"count_include_pad"),
    (lambda nn, Weird: nn.AdaptiveAvgPool2d(2), ValueError, r"output_size=1"),
    (lambda nn, Weird: nn.BatchNorm2d(3, affine=False), ValueError, r"affine=False"),
    (lambda nn, Weird: nn.BatchNorm2d(3, momentum=None), ValueError, r"momentum=None"),
    (lambda nn, Weird: nn.BatchNorm2d(3, track_running_stats=False), ValueError, r"track_running_stats"),
    (lambda nn, Weird: nn.Sequential(nn.Linear(3, 2)), ValueError, r"^0: .*only after a Flatten"),
    (lambda nn, Weird: nn.Sequential(nn.Flatten(), nn.Conv2d(3, 3, 1)), ValueError,
     r"^0: .*Linear layers follow it"),
    (lambda nn, Weird: nn.Sequential(nn.Flatten(0), nn.Linear(3, 2)), ValueError, r"start_dim=1"),
    (lambda nn, Weird: nn.Conv2d(3, 3, 1).bfloat16(), ValueError, r"bfloat16"),
], ids=["nested path", "top level", "ELU", "GELU tanh", "Conv3d", "ModuleList", "dilation",
        "even kernel same", "reflect padding", "avg pool ceil_mode", "count_include_pad", "adaptive 2x2",
        "BN affine", "BN cumulative", "BN without stats", "Linear alone", "Flatten then conv", "Flatten(0)",
        "bfloat16"])
def test_from_torch_refuses_what_it_cannot_convert_naming_the_path(torch, build, error, message):
    class Weird(torch.nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(error, match=message):
        C.from_torch(build(torch.nn, Weird))


def test_from_torch_refuses_a_sequential_subclass_with_its_own_forward(torch):
    class Reversed(torch.nn.Sequential):
        def forward(self, x):
            for module in reversed(self):
                x = module(x)
            return x

    with pytest.raises(TypeError, match=r"^\(top level\): Reversed is not supported"):
        C.from_torch(Reversed(torch.nn.ReLU()))


def test_from_torch_refuses_what_is_not_a_module(torch):
    with pytest.raises(TypeError, match=r"module must be a torch.nn.Module, got Conv1x1. .*conv1x1.to_torch"):
        C.from_torch(C.Conv1x1(2, 3))


# ------------------------------------------------------------------------------------------------- torchvision

def test_torchvision_resnet50_prices_as_the_librarys_resnet50(torch, torchvision):
    model = C.from_torch(torchvision.models.resnet50())
    report = model.cost(224, 224)
    assert (report.params, report.macs) == (25_557_032, 4_089_184_256)
    assert sum(isinstance(layer, C.Bottleneck) for layer in model) == 16
    assert model.name == "resnet50 (torchvision)" and model.names[4:6] == ("layer1.0", "layer1.1")


def test_torchvision_squeezenet1_0_prices_as_the_librarys_squeezenet(torch, torchvision):
    model = C.from_torch(torchvision.models.squeezenet1_0())
    report = model.cost(224, 224)
    assert (report.params, report.macs) == (1_248_424, 818_924_576)
    assert sum(isinstance(layer, C.Fire) for layer in model) == 8


@pytest.mark.slow
def test_torchvision_resnet50_computes_the_same_in_eval_mode(torch, torchvision, rng):
    module = torchvision.models.resnet50(num_classes=10).double().eval()
    _randomise_batchnorm(torch, module, rng)   # torchvision starts with gamma 1, beta 0, statistics 0 and 1
    model = C.from_torch(module)
    _compare(torch, model, module, rng.standard_normal((1, 3, 32, 32)), rng, flatten=True)


@pytest.mark.slow
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_torchvision_resnet18_and_squeezenet_compute_the_same(torch, torchvision, rng, training):
    for module in (torchvision.models.resnet18(num_classes=10), torchvision.models.squeezenet1_0(num_classes=10)):
        module = module.double().train(training)
        module.apply(lambda m: m.eval() if isinstance(m, torch.nn.Dropout) else None)
        model = C.from_torch(module)
        _compare(torch, model, module, rng.standard_normal((4, 3, 32, 32)), rng, flatten=True)


def test_torchvision_grouped_bottleneck_converts_layer_by_layer(torch, torchvision, rng):
    """ResNeXt's bottleneck has a grouped 3x3, which C.Bottleneck has not: it becomes Sequential(Residual, ReLU)."""
    from torchvision.models.resnet import Bottleneck
    module = Bottleneck(32, 8, groups=4, base_width=16).double()
    layer = C.from_torch(module)
    assert type(layer) is C.Sequential and type(layer[0]) is C.Residual and layer[0].block[3].groups == 4
    _compare(torch, layer, module, rng.standard_normal((4, 32, 5, 5)), rng)


# ------------------------------------------------------------------------------------------ without PyTorch

def test_without_torch_both_functions_say_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)   # `import torch` now raises ImportError
    for call in (lambda: C.to_torch(C.ReLU()), lambda: C.from_torch(object())):
        with pytest.raises(ImportError, match=r"PyTorch is not installed") as caught:
            call()
        assert "pip install torch==2.13.0" in str(caught.value) and "https://pytorch.org" in str(caught.value)


def test_importing_conv1x1_does_not_import_torch():
    root = Path(__file__).resolve().parents[2]
    check = "import sys, conv1x1; print(callable(conv1x1.to_torch), 'torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", check], cwd=root, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False"]


# ------------------------------------------------------------------------------------------------ the docs page

def test_docs_pytorch_page_python_blocks_run_as_written(torch, torchvision):
    import re
    text = (Path(__file__).resolve().parents[2] / "docs" / "pytorch.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 3
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # the page runs without a warning
        for block in blocks:
            exec(compile(block, "docs/pytorch.md", "exec"), namespace)  # noqa: S102 - our own docs
    assert [type(layer) for layer in namespace["back"]] == [type(layer) for layer in namespace["model"]]
    assert abs(namespace["ours"] - namespace["theirs"]) < 1e-10   # the loss after training in PyTorch
    assert (namespace["report"].params, namespace["report"].macs) == (25_557_032, 4_089_184_256)


def test_torchvision_resnet_whose_fc_is_dropout_then_linear_converts_and_computes_the_same(torch, torchvision, rng):
    """A common fine-tuning head, ``fc = Sequential(Dropout, Linear)``: the fc runs after torchvision's flatten, so
    its Linear is a 1x1 convolution on the 1x1 map, as a bare Linear fc is; the Dropout, in eval mode, the identity."""
    module = torchvision.models.resnet18(num_classes=10)
    module.fc = torch.nn.Sequential(torch.nn.Dropout(0.2), torch.nn.Linear(512, 10))
    module = module.double().eval()
    model = C.from_torch(module)
    head, linear = model.layer("fc"), module.fc[1]
    assert type(head) is C.Sequential and type(head[1]) is C.Conv1x1
    np.testing.assert_array_equal(head[1].params["w"], linear.weight.detach().numpy())
    np.testing.assert_array_equal(head[1].params["b"], linear.bias.detach().numpy())
    assert model.cost(32, 32).params == sum(p.numel() for p in module.parameters())
    x = rng.standard_normal((1, 3, 32, 32))
    with torch.no_grad():
        theirs = module(torch.tensor(x)).numpy()
    np.testing.assert_allclose(model.forward(x).reshape(theirs.shape), theirs, rtol=BOUND, atol=BOUND)


# ---------------------------------------------------------------- modules that compute other than their layers


def _small_net(torch):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1), torch.nn.ReLU(), torch.nn.Conv2d(4, 2, 1)).double()


@pytest.mark.parametrize("change, message", [
    (lambda net, torch: net.register_forward_hook(lambda m, i, o: o * 2), "Sequential has a forward hook"),
    (lambda net, torch: net[2].register_forward_pre_hook(lambda m, i: (i[0] + 1,)), "2 has a forward hook or pre-hook"),
    (lambda net, torch: setattr(net[0], "forward", lambda x: x), "0 has a forward of its own"),
    (lambda net, torch: torch.nn.utils.weight_norm(net[0]), "'weight_g'"),
    (lambda net, torch: torch.nn.utils.spectral_norm(net[2]), "2 has the parameter .weight_orig."),
    (lambda net, torch: __import__("torch.nn.utils.prune").nn.utils.prune.l1_unstructured(net[0], "weight", amount=0.5),
     "0 has the parameter .weight_orig."),
])
def test_from_torch_refuses_a_module_whose_forward_is_changed(torch, change, message):
    net = _small_net(torch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)       # weight_norm's deprecation
        change(net, torch)
    with pytest.raises(ValueError, match=message):
        C.from_torch(net)


def test_from_torch_refuses_while_a_global_forward_hook_is_registered(torch):
    net = _small_net(torch)
    handle = torch.nn.modules.module.register_module_forward_hook(lambda m, i, o: o)
    try:
        with pytest.raises(ValueError, match="global forward hook"):
            C.from_torch(net)
    finally:
        handle.remove()
    assert isinstance(C.from_torch(net), C.Sequential)         # and converts once it is gone


# -------------------------------------------------------------- torchvision: MobileNetV2, EfficientNet, ConvNeXt

TODAYS = {"mobilenet_v2": (C.InvertedResidual, 17), "efficientnet_b0": (C.MBConv, 16),
          "convnext_tiny": (C.ConvNeXtBlock, 18)}


def _torchvision_in_double(torch, torchvision, name, rng):
    """torchvision's network for 10 classes in float64, with random batch norm statistics and (ConvNeXt) layer
    scales of order 1, so that every block's branch counts; dropout and stochastic depth at evaluation, since
    their masks come from two different generators."""
    module = getattr(torchvision.models, name)(num_classes=10).double()
    _randomise_batchnorm(torch, module, rng)
    with torch.no_grad():
        for block in module.modules():
            if type(block).__name__ == "CNBlock":
                block.layer_scale.copy_(torch.tensor(rng.uniform(0.5, 1.5, tuple(block.layer_scale.shape))))
    return module


def _compare_in_order(torch, layer, module, x, rng, flatten=False):
    """As _compare, pairing the parameters and running statistics in their order on both sides (ConvNeXt's layer
    scale is a parameter of torchvision's block itself, not of a leaf module): outputs, dx, every gradient and
    every running statistic."""
    module.zero_grad(set_to_none=True)
    tx = torch.tensor(x, requires_grad=True)
    theirs = module(tx)
    ours = layer.forward(x)
    assert ours.shape == tuple(theirs.shape) + ((1, 1) if flatten else ())
    dout = rng.standard_normal(ours.shape)
    theirs.backward(torch.tensor(dout.reshape(tuple(theirs.shape))))
    _close(ours, theirs, "output")
    _close(layer.backward(dout), tx.grad, "input gradient")
    params = _layer_scales_after_their_blocks(list(module.named_parameters()))
    assert len(params) == len(layer.grads)
    for (key, grad), (name, param) in zip(layer.grads.items(), params, strict=True):
        # a parameter the pass never used (Inception's auxiliary head at evaluation): no gradient, zeros here
        _close(grad, torch.zeros_like(param) if param.grad is None else param.grad, f"{key} / {name}")
    buffers = [(n, b) for n, b in module.named_buffers() if n.rpartition(".")[2] in ("running_mean", "running_var")]
    assert len(buffers) == len(layer.buffers)
    for (key, ours_buffer), (name, buffer) in zip(layer.buffers.items(), buffers, strict=True):
        _close(ours_buffer, buffer, f"{key} / {name}")


def _layer_scales_after_their_blocks(params):
    """PyTorch lists a CNBlock's own layer_scale before its block's parameters; the library's LayerScale is the
    block's last layer but the drop path: move each layer_scale after the parameters of its block."""
    ordered, pending = [], []
    for name, param in params:
        while pending and not name.startswith(pending[-1][0][:-len("layer_scale")] + "block."):
            ordered.append(pending.pop())
        (pending if name.endswith("layer_scale") else ordered).append((name, param))
    return ordered + pending[::-1]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TODAYS))
def test_torchvision_todays_networks_read_into_the_librarys_blocks_and_compute_the_same(torch, torchvision, rng,
                                                                                       name):
    """Both modes on 64x64 images (two in training, so the last 2x2 maps give batch norm 8 values per channel):
    outputs, input gradients, every parameter's gradient and the running statistics within 1e-10 of PyTorch's
    largest magnitude; then to_torch carries the network back and computes the same again."""
    module = _torchvision_in_double(torch, torchvision, name, rng)
    block_class, count = TODAYS[name]
    for training in (True, False):
        module.train(training)
        module.apply(lambda m: m.eval() if type(m).__name__ in ("Dropout", "StochasticDepth") else None)
        model = C.from_torch(module)
        assert type(model) is models.Network and sum(isinstance(layer, block_class) for layer in model) == count
        _compare_in_order(torch, model, module, rng.standard_normal((2 if training else 1, 3, 64, 64)), rng,
                          flatten=True)
    back = C.to_torch(model)
    x = torch.tensor(rng.standard_normal((1, 3, 64, 64)))
    with torch.no_grad():
        _close(back(x).flatten(1), module(x), "to_torch(from_torch(module)) output")


@pytest.mark.parametrize("name", sorted(TODAYS))
def test_torchvision_todays_networks_price_as_the_librarys(torch, torchvision, name):
    model = C.from_torch(getattr(torchvision.models, name)().eval())
    ours, theirs = models.MODELS[name]().cost(224, 224), model.cost(224, 224)
    assert (theirs.params, theirs.macs) == (ours.params, ours.macs)
    assert [type(layer) for layer in model] == [type(layer) for layer in models.MODELS[name]()]
    assert model.names == models.MODELS[name]().names


def test_torchvision_convnext_block_linear_layers_become_1x1_convolutions(torch, torchvision, rng):
    """The lesson: the channels-last nn.Linear between two Permutes is a 1x1 convolution on the NCHW tensor."""
    from torchvision.models.convnext import CNBlock
    module = CNBlock(8, layer_scale=0.7, stochastic_depth_prob=0.0).double()
    block = C.from_torch(module)
    assert type(block) is C.ConvNeXtBlock
    inner = block[0].block
    assert [type(layer).__name__ for layer in inner] == ["Conv2d", "LayerNorm2d", "Conv1x1", "GELU", "Conv1x1",
                                                         "LayerScale", "DropPath"]
    assert np.array_equal(inner[2].params["w"], module.block[3].weight.detach().numpy())
    _compare_in_order(torch, block, module, rng.standard_normal((2, 8, 5, 5)), rng)


@pytest.mark.parametrize("build, message", [
    (lambda tv: tv.ops.StochasticDepth(0.1, "batch"), r'mode="row"'),
    (lambda tv: tv.ops.SqueezeExcitation(8, 2, scale_activation=__import__("torch").nn.Hardsigmoid),
     "sigmoid"),
])
def test_from_torch_refuses_torchvision_settings_the_library_lacks(torch, torchvision, build, message):
    with pytest.raises(ValueError, match=message):
        C.from_torch(build(torchvision))


# ---------------------------------------------------------------------------------- torchvision: Inception v3

def test_from_torch_reads_non_square_convolutions_and_pools(torch, rng):
    nn = torch.nn
    module = nn.Sequential(nn.Conv2d(3, 4, (1, 7), padding=(0, 3)), nn.Conv2d(4, 4, (7, 1), padding="same"),
                           nn.Conv2d(4, 2, (1, 1), stride=(2, 1)), nn.MaxPool2d((2, 3), stride=(2, 3), padding=(0, 1)),
                           nn.AvgPool2d((3, 1), stride=1, padding=(1, 0))).double()
    layer = C.from_torch(module)
    assert [child.kernel_size for child in layer] == [(1, 7), (7, 1), 1, (2, 3), (3, 1)]
    assert type(layer[2]) is C.Conv2d and layer[1].padding == (3, 0)
    _compare(torch, layer, module, rng.standard_normal((2, 3, 9, 12)), rng)


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_torchvision_inception_aux_head_computes_the_same(torch, torchvision, rng, training):
    """InceptionAux on its own (17x17 maps, as after Mixed_6e): its logits and, through dlogits, the gradients."""
    from torchvision.models.inception import InceptionAux
    module = InceptionAux(8, 5).double().train(training)
    _randomise_batchnorm(torch, module, rng)
    head = C.from_torch(module)
    assert type(head) is models.AuxiliaryClassifier and head.training == training
    x = rng.standard_normal((2, 8, 17, 17))
    tx = torch.tensor(x, requires_grad=True)
    theirs = module(tx)
    assert head.forward(x) is x
    logits = head.logits if training else C.Sequential.forward(head, x)
    _close(logits, theirs, "logits")
    if training:
        dlogits = rng.standard_normal(tuple(theirs.shape))
        theirs.backward(torch.tensor(dlogits))
        head.dlogits = dlogits.reshape(logits.shape)
        dout = np.zeros_like(x)
        _close(head.backward(dout), tx.grad, "input gradient through the head")
        for (key, grad), (name, param) in zip(head.grads.items(), module.named_parameters(), strict=True):
            _close(grad, param.grad, f"{key} / {name}")


@pytest.mark.slow
@pytest.mark.parametrize("aux", [False, True], ids=["without aux", "with aux"])
def test_torchvision_inception_v3_reads_into_the_library_and_computes_the_same(torch, torchvision, rng, aux):
    """107 x 107 images, the smallest whose last maps are 2x2: training (two images; without the auxiliary head,
    which needs 17x17 maps after Mixed_6e, about 299 x 299 images) and evaluation (where the head is skipped)."""
    module = torchvision.models.inception_v3(num_classes=10, aux_logits=aux, init_weights=False).double()
    _randomise_batchnorm(torch, module, rng)
    for training in ((True, False) if not aux else (False,)):
        module.train(training)
        module.dropout.eval()
        model = C.from_torch(module)
        assert type(model) is models.Network and ("AuxLogits" in model.names) == aux
        _compare_in_order(torch, model, module, rng.standard_normal((2 if training else 1, 3, 107, 107)), rng,
                          flatten=True)
    ours, theirs = models.inception_v3(num_classes=10, aux_logits=aux).cost(299, 299), model.cost(299, 299)
    assert (theirs.params, theirs.macs) == (ours.params, ours.macs)
    back = C.to_torch(model)
    x = torch.tensor(rng.standard_normal((1, 3, 107, 107)))
    with torch.no_grad():
        _close(back(x).flatten(1), module(x), "to_torch(from_torch(module)) output")
