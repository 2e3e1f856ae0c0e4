"""SGD: the update rules written out by hand, in-place updates, state round trip, PyTorch, bad input."""


import numpy as np
import pytest

import conv1x1 as C
from conv1x1.training.optim import SGD


def test_sgd_plain_step():
    p, g = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    SGD([(p, g)], lr=0.1).step()
    np.testing.assert_allclose(p, [0.95, 2.1])


def test_sgd_with_momentum_and_weight_decay_follows_the_rules_by_hand():
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


def test_sgd_updates_the_live_arrays_of_a_model_and_leaves_the_grads_alone(rng):
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


def test_sgd_reads_a_generator_of_pairs_once_and_keeps_them(rng):
    """A layer's parameters() and a generator expression."""
    layer = C.Conv1x1(2, 2, rng=rng)
    optimizer = SGD(layer.parameters(), lr=0.1)
    layer.grads["w"][...] = 1.0
    before = layer.params["w"].copy()
    optimizer.step()
    optimizer.step()
    np.testing.assert_allclose(layer.params["w"], before - 0.2)
    p, g = np.array([1.0]), np.array([2.0])
    optimizer = SGD(((a, b) for a, b in [(p, g)]), lr=0.5)
    optimizer.step()                       # p = 1 - 0.5 * 2 = 0
    optimizer.step()                       # p = 0 - 0.5 * 2 = -1
    np.testing.assert_array_equal(p, [-1.0])


def test_sgd_state_dict_round_trip_resumes_exactly(rng):
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


def test_sgd_load_state_dict_checks_before_writing():
    p, g = np.ones(3), np.zeros(3)
    optimizer = SGD([(p, g)], lr=0.1, momentum=0.9)
    optimizer.step()
    before = optimizer.momentum_buffers[0].copy()
    with pytest.raises(ValueError, match="shape"):
        optimizer.load_state_dict({"momentum_buffer.0": np.ones(4)})
    with pytest.raises(ValueError, match="unexpected"):
        optimizer.load_state_dict({"momentum_buffer.7": np.ones(3)})
    np.testing.assert_array_equal(optimizer.momentum_buffers[0], before)


def test_sgd_load_state_dict_accepts_a_list_and_steps_from_it():
    p, g = np.array([1.0, 1.0]), np.array([1.0, -1.0])
    optimizer = SGD([(p, g)], lr=0.5, momentum=0.5)
    optimizer.load_state_dict({"momentum_buffer.0": [2.0, 4.0]})
    assert isinstance(optimizer.momentum_buffers[0], np.ndarray)
    optimizer.step()
    # buf = 0.5 * [2, 4] + [1, -1] = [2, 1]; p = [1, 1] - 0.5 * [2, 1] = [0, 0.5]
    np.testing.assert_array_equal(optimizer.momentum_buffers[0], [2.0, 1.0])
    np.testing.assert_array_equal(p, [0.0, 0.5])


def test_sgd_load_state_dict_refuses_buffers_without_momentum():
    p, g = np.zeros(2), np.zeros(2)
    optimizer = SGD([(p, g)], lr=0.1)
    with pytest.raises(ValueError, match="momentum=0"):
        optimizer.load_state_dict({"momentum_buffer.0": np.ones(2)})
    assert optimizer.momentum_buffers == [None]


def test_sgd_load_state_dict_refuses_buffers_without_momentum_when_some_are_missing():
    pairs = [(np.zeros(2), np.zeros(2)), (np.zeros(3), np.zeros(3))]
    optimizer = SGD(pairs, lr=0.1)
    with pytest.raises(ValueError, match="momentum=0"):
        optimizer.load_state_dict({"momentum_buffer.1": np.ones(3)})


@pytest.mark.parametrize("name", ["momentum_buffer.1", "momentum_buffer.x", "momentum_buffer", "buffer.0"])
def test_sgd_load_state_dict_refuses_names_it_does_not_know(name):
    optimizer = SGD([(np.zeros(2), np.zeros(2))], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="unexpected optimizer state"):
        optimizer.load_state_dict({name: np.zeros(2)})


def test_sgd_repr_names_the_hyperparameters():
    p, g = np.zeros(2), np.zeros(2)
    assert repr(SGD([(p, g)], lr=0.1, momentum=0.9)) == "SGD(lr=0.1, momentum=0.9, weight_decay=0.0)"


def test_sgd_hyperparameters_become_floats():
    from conv1x1.training.optim import SGD
    optimizer = SGD([(np.zeros(2), np.zeros(2))], lr=1, momentum=np.float32(0.5), weight_decay=0)
    assert repr(optimizer) == "SGD(lr=1.0, momentum=0.5, weight_decay=0.0)"
    assert all(type(v) is float for v in (optimizer.lr, optimizer.momentum, optimizer.weight_decay))


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
def test_sgd_refuses_bad_hyperparameters(kwargs, error, message):
    with pytest.raises(error, match=message):
        SGD([(np.ones(2), np.zeros(2))], **kwargs)


@pytest.mark.parametrize("name", ["lr", "momentum", "weight_decay"])
@pytest.mark.parametrize("value", ["0.1", True, None, np.array(0.1)])
def test_sgd_hyperparameters_must_be_real_numbers(name, value):
    from conv1x1.training.optim import SGD
    kwargs = {"lr": 0.1, name: value}
    with pytest.raises(TypeError, match=name):
        SGD([(np.zeros(2), np.zeros(2))], **kwargs)


@pytest.mark.parametrize("kwargs", [{"lr": 0.0}, {"lr": -0.1}, {"lr": float("nan")}, {"lr": float("inf")},
                                    {"lr": 0.1, "momentum": -0.5}, {"lr": 0.1, "weight_decay": -1e-4},
                                    {"lr": 0.1, "momentum": float("inf")}])
def test_sgd_hyperparameters_must_be_finite_and_in_range(kwargs):
    from conv1x1.training.optim import SGD
    with pytest.raises(ValueError, match="finite number"):
        SGD([(np.zeros(2), np.zeros(2))], **kwargs)


def test_sgd_refuses_bad_parameters():
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


def test_sgd_refuses_no_parameters():
    from conv1x1.training.optim import SGD
    with pytest.raises(ValueError, match="empty"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match="empty"):
        SGD(iter(()), lr=0.1)


@pytest.mark.parametrize("pairs, error", [
    ([np.zeros(2)], TypeError),                               # not a pair
    ([(np.zeros(2),)], TypeError),                            # one array
    ([(np.zeros(2), np.zeros(2, dtype=int))], TypeError),    # integer grad
    ([([0.0, 0.0], np.zeros(2))], TypeError),                 # a list cannot be updated in place
    ([(np.zeros(2), np.zeros(3))], ValueError),               # shapes differ
])
def test_sgd_checks_every_pair(pairs, error):
    from conv1x1.training.optim import SGD
    with pytest.raises(error):
        SGD(pairs, lr=0.1)


@pytest.mark.parametrize("pair", [[np.zeros(2), np.zeros(2)], (np.zeros(2), np.zeros(2), np.zeros(2)), np.zeros(2)])
def test_sgd_items_must_be_two_tuples(pair):
    from conv1x1.training.optim import SGD
    with pytest.raises(TypeError, match=r"\(param, grad\) pairs; item 0"):
        SGD([pair], lr=0.1)


def test_sgd_refuses_a_param_and_grad_of_different_dtypes():
    """The momentum buffer takes the param's dtype: with a grad of another dtype, a saved state would not reload."""
    with pytest.raises(TypeError, match=r"pair 0: param is float32 but grad is float64"):
        C.SGD([(np.zeros(2, np.float32), np.ones(2))], lr=0.1, momentum=0.9)


@pytest.mark.parametrize("momentum, weight_decay", [(0.0, 0.0), (0.9, 0.0), (0.0, 1e-2), (0.9, 5e-2)])
def test_sgd_five_steps_equal_torch(torch, rng, momentum, weight_decay):
    w0, b0 = rng.standard_normal((4, 3)), rng.standard_normal(4)
    grads = [(rng.standard_normal((4, 3)), rng.standard_normal(4)) for _ in range(5)]

    w, b, dw, db = w0.copy(), b0.copy(), np.zeros((4, 3)), np.zeros(4)
    ours = SGD([(w, dw), (b, db)], lr=0.1, momentum=momentum, weight_decay=weight_decay)
    tw = torch.tensor(w0, requires_grad=True)
    tb = torch.tensor(b0, requires_grad=True)
    theirs = torch.optim.SGD([tw, tb], lr=0.1, momentum=momentum, weight_decay=weight_decay)
    for gw, gb in grads:
        dw[...], db[...] = gw, gb
        ours.step()
        tw.grad, tb.grad = torch.tensor(gw), torch.tensor(gb)
        theirs.step()
    np.testing.assert_allclose(w, tw.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b, tb.detach().numpy(), rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- Adam and AdamW

@pytest.mark.parametrize("name, weight_decay", [("Adam", 0.0), ("Adam", 0.1), ("AdamW", 0.0), ("AdamW", 0.1)])
def test_adam_and_adamw_six_steps_equal_torch(torch, rng, name, weight_decay):
    """Six steps of fresh random gradients on two parameters, with betas and eps away from the defaults;
    every step's parameters and the moments at the end agree with torch.optim to 1e-12."""
    w0, b0 = rng.standard_normal((3, 4)), rng.standard_normal(3)
    w, b = w0.copy(), b0.copy()
    gw, gb = np.zeros_like(w), np.zeros_like(b)
    settings = dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=weight_decay)
    ours = getattr(C, name)([(w, gw), (b, gb)], **settings)
    tw, tb = torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    theirs = getattr(torch.optim, name)([tw, tb], **settings)
    for _ in range(6):
        gw[...], gb[...] = rng.standard_normal(w.shape), rng.standard_normal(b.shape)
        tw.grad, tb.grad = torch.tensor(gw), torch.tensor(gb)
        ours.step()
        theirs.step()
        np.testing.assert_allclose(w, tw.detach().numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(b, tb.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.exp_avg_sq[0], theirs.state[tw]["exp_avg_sq"].numpy(), rtol=1e-12)
    assert ours.step_count == 6


def test_adam_and_adamw_differ_only_where_weight_decay_acts(rng):
    """With weight decay 0 they take the same steps; with decay, AdamW shrinks p directly."""
    runs = {}
    for name, decay in (("Adam", 0.0), ("AdamW", 0.0), ("Adam", 0.5), ("AdamW", 0.5)):
        p, g = np.ones(3), np.array([1.0, -2.0, 0.5])
        getattr(C, name)([(p, g)], lr=0.1, weight_decay=decay).step()
        runs[name, decay] = p
    assert np.array_equal(runs["Adam", 0.0], runs["AdamW", 0.0])
    assert not np.allclose(runs["Adam", 0.5], runs["AdamW", 0.5])
    np.testing.assert_allclose(runs["AdamW", 0.5], runs["AdamW", 0.0] - 0.1 * 0.5 * 1.0, rtol=1e-12)


def test_adam_state_dict_resumes_the_same_steps(rng):
    grads = rng.standard_normal((4, 5))
    p1, g1 = np.zeros(5), np.zeros(5)
    straight = C.Adam([(p1, g1)], lr=0.1)
    for g in grads:
        g1[...] = g
        straight.step()
    p2, g2 = np.zeros(5), np.zeros(5)
    first = C.Adam([(p2, g2)], lr=0.1)
    for g in grads[:2]:
        g2[...] = g
        first.step()
    resumed = C.Adam([(p2, g2)], lr=0.1)
    resumed.load_state_dict(first.state_dict())
    for g in grads[2:]:
        g2[...] = g
        resumed.step()
    np.testing.assert_array_equal(p1, p2)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"lr": 0}, ValueError, "lr"), ({"betas": (0.9, 1.0)}, ValueError, r"\[0, 1\)"),
    ({"betas": 0.9}, TypeError, "pair"), ({"eps": -1.0}, ValueError, "eps"),
    ({"weight_decay": float("nan")}, ValueError, "weight_decay")])
def test_adam_refuses_bad_hyperparameters(kwargs, error, message):
    with pytest.raises(error, match=message):
        C.Adam([(np.zeros(2), np.zeros(2))], **kwargs)


def test_adam_load_state_dict_refuses_a_mismatched_state_and_changes_nothing():
    optimizer = C.Adam([(np.zeros(2), np.zeros(2))])
    with pytest.raises(ValueError, match=r"'exp_avg\.0' has shape \(3,\)"):
        optimizer.load_state_dict({"step": np.array(1), "exp_avg.0": np.zeros(3), "exp_avg_sq.0": np.zeros(3)})
    with pytest.raises(ValueError, match="together"):
        optimizer.load_state_dict({"step": np.array(1), "exp_avg.0": np.zeros(2)})
    assert optimizer.step_count == 0 and optimizer.exp_avg == [None]
