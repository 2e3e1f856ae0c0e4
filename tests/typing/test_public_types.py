"""The public types of the documented calls: every call pattern of the README and the chapters, as a user writes it.

mypy and pyright check this file (``nox -s types``; ``[tool.mypy]`` and ``[tool.pyright]`` in pyproject.toml
include ``tests/typing``): a documented call that a user's type checker would refuse (``dtype=np.float32``,
``padding="same"``) is an error there, and ``assert_type`` fails there when a public type changes. pytest runs it
too, where each test also checks the value at run time, so the types stated are the types returned.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

import conv1x1 as C
from conv1x1 import cost, models, training
from conv1x1.cost import Comparison, LayerCost, Report, bottleneck_comparison, conv_cost, inception_cost
from conv1x1.cost.roofline import Prediction
from conv1x1.fast.timing import MachinePeaks, Measurement
from conv1x1.functional.pointwise import Conv1x1Cache
from conv1x1.models import Network
from conv1x1.training.train import EpochLog, Evaluation

if sys.version_info >= (3, 11):
    from typing import assert_type
else:
    from typing_extensions import assert_type

FloatArray = NDArray[np.floating[Any]]
Pair = tuple[FloatArray, FloatArray]


def _x(shape: tuple[int, ...] = (1, 192, 28, 28), dtype: type[np.floating[Any]] = np.float64) -> FloatArray:
    return np.random.default_rng(0).standard_normal(shape).astype(dtype)


# -- the lesson: functions as (out, cache) pairs ------------------------------------------------------------------

def test_conv1x1_forward_returns_the_output_and_its_cache() -> None:
    x, w, b = _x((2, 3, 4, 4)), _x((6, 3)), _x((6,))
    out, cache = C.conv1x1_forward(x, w, b)
    assert_type(out, FloatArray)
    assert_type(cache, Conv1x1Cache)
    dx, dw, db = C.conv1x1_backward(np.ones_like(out), cache)
    assert_type(dx, FloatArray)
    assert_type(dw, FloatArray)
    assert_type(db, FloatArray | None)
    strided, _ = C.conv1x1_forward(x, w, None, groups=1, stride=2)
    assert isinstance(cache, Conv1x1Cache)
    assert out.shape == (2, 6, 4, 4) and strided.shape == (2, 6, 2, 2)
    assert db is not None
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape


def test_conv1x1_returns_an_array() -> None:
    out = C.conv1x1(_x((1, 2, 3, 3)), _x((4, 2)), _x((4,)))
    assert_type(out, FloatArray)
    assert isinstance(out, np.ndarray)
    assert out.shape == (1, 4, 3, 3)


def test_conv2d_forward_takes_same_padding() -> None:
    out, _ = C.conv2d_forward(_x((1, 2, 5, 5)), _x((3, 2, 3, 3)), padding="same")
    plain, _ = C.conv2d_forward(_x((1, 2, 5, 5)), _x((3, 2, 3, 3)), padding=1)
    assert_type(out, FloatArray)
    assert out.shape == plain.shape == (1, 3, 5, 5)


def test_activation_and_pooling_pairs_return_arrays() -> None:
    x = _x((1, 2, 4, 4))
    relu, relu_cache = C.relu_forward(x)
    assert_type(relu, FloatArray)
    assert_type(C.relu_backward(np.ones_like(relu), relu_cache), FloatArray)
    assert_type(C.sigmoid_forward(x)[0], FloatArray)
    assert_type(C.tanh_forward(x)[0], FloatArray)
    assert_type(C.leaky_relu_forward(x)[0], FloatArray)
    assert_type(C.maxpool2d_forward(x, 2)[0], FloatArray)
    assert_type(C.avgpool2d_forward(x, 2)[0], FloatArray)
    assert_type(C.global_avg_pool_forward(x)[0], FloatArray)
    assert_type(C.channel_shuffle_forward(x, 2)[0], FloatArray)
    assert relu.shape == x.shape and C.maxpool2d_forward(x, 2)[0].shape == (1, 2, 2, 2)


# -- layers and containers -----------------------------------------------------------------------------------------

def test_conv1x1_layer_takes_a_float32_dtype_and_forward_returns_an_array() -> None:
    layer = C.Conv1x1(192, 32, dtype=np.float32)
    assert_type(layer, C.Conv1x1)
    out = layer.forward(_x(dtype=np.float32))
    assert_type(out, FloatArray)
    dx = layer.backward(np.ones_like(out))
    assert_type(dx, FloatArray)
    assert out.dtype == np.float32 and out.shape == (1, 32, 28, 28) and dx.shape == (1, 192, 28, 28)


def test_conv2d_layer_takes_same_padding() -> None:
    layer = C.Conv2d(16, 32, 3, padding="same")
    out = layer.forward(_x((1, 16, 8, 8)))
    assert_type(out, FloatArray)
    assert out.shape == (1, 32, 8, 8)


def test_layer_cost_is_a_report_and_parameters_are_pairs() -> None:
    layer = C.Conv1x1(192, 32, rng=0)
    report = layer.cost(28, 28)
    assert_type(report, Report)
    assert_type(report.macs, int)
    pairs = layer.parameters()
    assert_type(pairs, Iterator[Pair])
    assert report.macs == 4_816_896 and len(list(pairs)) == 2


def test_containers_forward_and_backward_return_arrays() -> None:
    net = C.Sequential(C.Conv1x1(2, 16, rng=1), C.ReLU(), C.Conv1x1(16, 1, rng=2))
    out = net.forward(_x((1, 2, 3, 3)))
    assert_type(out, FloatArray)
    assert_type(net.backward(np.ones_like(out)), FloatArray)
    branches = C.Concat(C.Conv1x1(2, 3, rng=0), C.Conv1x1(2, 4, rng=0))
    residual = C.Residual(C.Conv1x1(2, 2, rng=0))
    assert_type(branches.forward(_x((1, 2, 3, 3))), FloatArray)
    assert_type(residual.forward(_x((1, 2, 3, 3))), FloatArray)
    assert out.shape == (1, 1, 3, 3) and branches.forward(_x((1, 2, 3, 3))).shape == (1, 7, 3, 3)


# -- the cost counter ---------------------------------------------------------------------------------------------

def test_conv_cost_takes_same_padding_and_returns_a_row() -> None:
    row = conv_cost(192, 32, 28, 28, 5, padding="same")
    assert_type(row, LayerCost)
    assert_type(row.macs, int)
    assert_type(row.flops, int)
    assert row.out_shape == (32, 28, 28) and row.flops == 2 * row.macs


def test_reports_and_comparisons() -> None:
    report = inception_cost(192, 28, 28, 64, 96, 128, 16, 32, 32)
    assert_type(report, Report)
    assert_type(report.by_kind(), dict[str, dict[str, float]])
    assert_type(report.counts(), dict[str, int | None])
    assert_type(report.summary(depth=1), str)
    assert_type(report.to_json(), str)
    assert_type(report.out_shape, tuple[Any, int, int] | None)
    assert_type(report[0], LayerCost)
    comparison = bottleneck_comparison(192, 16, 32, 28, 28)
    assert_type(comparison, Comparison)
    assert_type(comparison.macs_ratio, float)
    assert report.macs == 128_049_152 and round(comparison.macs_ratio, 2) == 9.68


def test_a_roofline_prediction_takes_the_measured_peaks() -> None:
    peaks = MachinePeaks({"float32": 10.0, "float64": 5.0}, 10.0, "given")
    prediction = Report([conv_cost(192, 32, 28, 28, 1)]).predict(peaks)
    assert_type(prediction, Prediction)
    assert_type(prediction.seconds, float)
    assert prediction.seconds > 0


# -- the campus: models, training, the engine room ----------------------------------------------------------------

def test_blocks_and_networks() -> None:
    block = C.Inception(192, 64, 96, 128, 16, 32, 32, rng=0)
    assert_type(block, C.Inception)
    assert_type(C.DepthwiseSeparable(8, 16, rng=0), C.DepthwiseSeparable)
    assert_type(C.Bottleneck(256, 64, 256, stride_on="1x1"), C.Bottleneck)
    assert_type(C.Fire(96, 16, 64, 64), C.Fire)
    assert_type(C.ShuffleUnit(240, 240, groups=3), C.ShuffleUnit)
    model = models.mobilenet_v1(width_multiplier=0.25, num_classes=10, rng=0, dtype=np.float32)
    assert_type(model, Network)
    assert_type(models.resnet50(stride_on="1x1"), Network)
    assert_type(models.MODELS["googlenet"](), Network)
    assert_type(model.cost(224, 224), Report)
    assert model.cost(224, 224).out_shape == (10, 1, 1)


def test_training_calls() -> None:
    layer = C.Conv1x1(2, 1, rng=0)
    optimizer = C.SGD(layer.parameters(), lr=0.1, momentum=0.9, weight_decay=0.01)
    assert_type(optimizer, C.SGD)
    scores = _x((4, 3, 1, 1))
    loss, dscores = C.softmax_cross_entropy(scores, np.array([0, 1, 2, 0]))
    assert_type(loss, float)
    assert_type(dscores, FloatArray)
    x, y = _x((8, 2, 1, 1)), np.array([0, 0, 0, 0, 0, 0, 0, 0])
    x_train, x_test, y_train, y_test = training.data.train_test_split(x, y, test_fraction=0.25, seed=0)
    history = training.train.fit(layer, C.softmax_cross_entropy, optimizer, x_train, y_train, epochs=1, log=None)
    assert_type(history, list[EpochLog])
    evaluation = training.train.evaluate(layer, x_test, y_test)
    assert_type(evaluation, Evaluation)
    assert_type(optimizer.state_dict(), dict[str, FloatArray])
    assert len(history) == 1 and 0 <= evaluation.accuracy <= 1 and dscores.shape == scores.shape


def test_the_engine_room_and_timing() -> None:
    with C.fast.enabled():
        out = C.Conv2d(4, 4, 3, padding=1, groups=4, rng=0).forward(_x((1, 4, 6, 6)))
    assert_type(out, FloatArray)
    measurement = C.fast.timing.measure(lambda: None, macs=10, repeat=1, warmup=0)
    assert_type(measurement, Measurement)
    assert_type(measurement.spread, tuple[float, float])
    assert_type(cost.human(1234), str)
    assert out.shape == (1, 4, 6, 6) and measurement.seconds >= 0
