"""SGD: the update rules written out by hand, in-place updates, state round trip, bad input."""

import numpy as np
import pytest

import conv1x1 as C
from conv1x1.optim import SGD


def test_plain_sgd_step():
    p, g = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    SGD([(p, g)], lr=0.1).step()
    np.testing.assert_allclose(p, [0.95, 2.1])


def test_momentum_and_weight_decay_by_hand():
    """Three steps with a changing gradient, against the rules computed on paper."""
    p, g = np.array([1.0]), np.array([0.0])
    optimizer = SGD([(p, g)], lr=0.1, momentum=0.5, weight_decay=0.2)
    expected, buf = 1.0, None
    for grad in (1.0, -2.0, 0.5):
        g[...] = grad
        d = grad + 0.2 * expected
        buf = d if buf is None else 0.5 * buf + d
        expected -= 0.1 * buf
        optimizer.step()
        assert abs(p[0] - expected) < 1e-15


def test_updates_the_live_arrays_of_a_model_and_leaves_grads_alone(rng):
    model = C.Sequential(C.Conv1x1(3, 4, rng=rng), C.ReLU(), C.Conv1x1(4, 2, rng=rng))
    w = model[0].params["w"]
    before = w.copy()
    model.backward(rng.standard_normal(model.forward(rng.standard_normal((2, 3, 4, 4))).shape))
    grads = {name: g.copy() for name, g in model.grads.items()}
    SGD(model.parameters(), lr=0.1, momentum=0.9).step()
    assert model[0].params["w"] is w
    np.testing.assert_allclose(w, before - 0.1 * grads["0.w"])
    for name, g in model.grads.items():
        np.testing.assert_array_equal(g, grads[name])


def test_state_dict_round_trip_resumes_exactly(rng):
    def run(steps, optimizer, p, g, grads):
        for grad in grads[:steps]:
            g[...] = grad
            optimizer.step()

    grads = rng.standard_normal((6, 3))
    p1, g1 = np.ones(3), np.zeros(3)
    straight = SGD([(p1, g1)], lr=0.1, momentum=0.9)
    run(6, straight, p1, g1, grads)

    p2, g2 = np.ones(3), np.zeros(3)
    first = SGD([(p2, g2)], lr=0.1, momentum=0.9)
    run(3, first, p2, g2, grads)
    state, saved_p = first.state_dict(), p2.copy()
    p3, g3 = saved_p.copy(), np.zeros(3)
    resumed = SGD([(p3, g3)], lr=0.1, momentum=0.9)
    resumed.load_state_dict(state)
    run(3, resumed, p3, g3, grads[3:])
    np.testing.assert_array_equal(p3, p1)


def test_load_state_dict_checks_before_writing():
    p, g = np.ones(3), np.zeros(3)
    optimizer = SGD([(p, g)], lr=0.1, momentum=0.9)
    optimizer.step()
    before = optimizer.momentum_buffers[0].copy()
    with pytest.raises(ValueError, match="shape"):
        optimizer.load_state_dict({"momentum_buffer.0": np.ones(4)})
    with pytest.raises(ValueError, match="unexpected"):
        optimizer.load_state_dict({"momentum_buffer.7": np.ones(3)})
    np.testing.assert_array_equal(optimizer.momentum_buffers[0], before)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(lr=0.0), ValueError, "lr"),
    (dict(lr=-1.0), ValueError, "lr"),
    (dict(lr=float("nan")), ValueError, "lr"),
    (dict(lr="0.1"), TypeError, "lr"),
    (dict(lr=True), TypeError, "lr"),
    (dict(lr=0.1, momentum=-0.1), ValueError, "momentum"),
    (dict(lr=0.1, momentum=float("inf")), ValueError, "momentum"),
    (dict(lr=0.1, weight_decay=-1e-4), ValueError, "weight_decay"),
])
def test_bad_hyper_parameters(kwargs, error, message):
    with pytest.raises(error, match=message):
        SGD([(np.ones(2), np.zeros(2))], **kwargs)


def test_bad_parameters():
    with pytest.raises(ValueError, match="empty"):
        SGD(C.ReLU().parameters(), lr=0.1)
    with pytest.raises(TypeError, match="pairs"):
        SGD(np.ones(3), lr=0.1)
    with pytest.raises(TypeError, match="pairs"):
        SGD([np.ones(3)], lr=0.1)
    with pytest.raises(TypeError, match="floating-point"):
        SGD([(np.ones(3, dtype=int), np.zeros(3))], lr=0.1)
    with pytest.raises(ValueError, match="shape"):
        SGD([(np.ones(3), np.zeros(2))], lr=0.1)


def test_a_generator_is_read_once_and_kept(rng):
    layer = C.Conv1x1(2, 2, rng=rng)
    optimizer = SGD(layer.parameters(), lr=0.1)
    layer.grads["w"][...] = 1.0
    before = layer.params["w"].copy()
    optimizer.step()
    optimizer.step()
    np.testing.assert_allclose(layer.params["w"], before - 0.2)
