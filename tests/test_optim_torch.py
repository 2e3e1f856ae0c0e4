"""SGD against torch.optim.SGD: the same steps give the same parameters."""

import numpy as np
import pytest

from conv1x1.optim import SGD

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("momentum, weight_decay", [(0.0, 0.0), (0.9, 0.0), (0.0, 1e-2), (0.9, 5e-2)])
def test_five_steps_match_pytorch(rng, momentum, weight_decay):
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
