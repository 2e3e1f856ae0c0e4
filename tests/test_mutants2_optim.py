"""Tests written to kill mutants of conv1x1/optim.py that survived the suite (second mutation run).

Expected updates follow torch.optim.SGD's rules, worked by hand next to each assertion:
buf = g on the first step, buf = momentum * buf + g afterwards, p = p - lr * buf.
"""

import numpy as np
import pytest

from conv1x1.optim import SGD


def test_repr_names_the_hyperparameters():
    p, g = np.zeros(2), np.zeros(2)
    assert repr(SGD([(p, g)], lr=0.1, momentum=0.9)) == "SGD(lr=0.1, momentum=0.9, weight_decay=0.0)"


def test_load_state_dict_refuses_buffers_without_momentum():
    p, g = np.zeros(2), np.zeros(2)
    optimizer = SGD([(p, g)], lr=0.1)
    with pytest.raises(ValueError, match="momentum=0"):
        optimizer.load_state_dict({"momentum_buffer.0": np.ones(2)})
    assert optimizer.momentum_buffers == [None]


def test_load_state_dict_refuses_buffers_without_momentum_when_some_are_missing():
    pairs = [(np.zeros(2), np.zeros(2)), (np.zeros(3), np.zeros(3))]
    optimizer = SGD(pairs, lr=0.1)
    with pytest.raises(ValueError, match="momentum=0"):
        optimizer.load_state_dict({"momentum_buffer.1": np.ones(3)})


def test_load_state_dict_accepts_a_list_and_steps_from_it():
    p, g = np.array([1.0, 1.0]), np.array([1.0, -1.0])
    optimizer = SGD([(p, g)], lr=0.5, momentum=0.5)
    optimizer.load_state_dict({"momentum_buffer.0": [2.0, 4.0]})
    assert isinstance(optimizer.momentum_buffers[0], np.ndarray)
    optimizer.step()
    # buf = 0.5 * [2, 4] + [1, -1] = [2, 1]; p = [1, 1] - 0.5 * [2, 1] = [0, 0.5]
    np.testing.assert_array_equal(optimizer.momentum_buffers[0], [2.0, 1.0])
    np.testing.assert_array_equal(p, [0.0, 0.5])


@pytest.mark.parametrize("name", ["momentum_buffer.1", "momentum_buffer.x", "momentum_buffer", "buffer.0"])
def test_load_state_dict_refuses_names_it_does_not_know(name):
    optimizer = SGD([(np.zeros(2), np.zeros(2))], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="unexpected optimizer state"):
        optimizer.load_state_dict({name: np.zeros(2)})
