"""conv1x1.models.inception_v3: Inception v3's modules and network against torchvision's definition (parameters,
multiply-adds layer by layer, output sizes), the paper's stated cost, and the auxiliary classifier's contract:
the identity on the main path, logits on the side in training, their gradient added when given."""

import numpy as np
import pytest

import conv1x1 as C
from conv1x1 import models
from conv1x1.models.inception_v3 import inception_a, inception_b, inception_c, inception_d, inception_e


def test_inception_v3_counts_torchvisions_parameters_and_multiply_adds_layer_by_layer(torchvision, torch_macs):
    for aux in (False, True):
        theirs = torchvision.models.inception_v3(aux_logits=aux, init_weights=False)
        report = models.inception_v3(aux_logits=aux).cost(299, 299)
        assert report.params == sum(p.numel() for p in theirs.parameters())
    theirs = torchvision.models.inception_v3(aux_logits=False, init_weights=False)
    report = models.inception_v3().cost(299, 299)
    assert [row.macs for row in report.layers if row.macs] == torch_macs(theirs, 299)


def test_inception_v3_totals_and_the_papers_figures():
    """torchvision documents 27,161,264 parameters (with the auxiliary head) and 5.71 GFLOPS (multiply-adds); the
    paper's abstract says 5 billion multiply-adds and fewer than 25 million parameters (without the head)."""
    plain, with_aux = models.inception_v3().cost(299, 299), models.inception_v3(aux_logits=True).cost(299, 299)
    assert (plain.params, plain.macs) == (23_834_568, 5_713_216_096)
    assert with_aux.params == 27_161_264 and round(plain.macs / 1e9, 2) == 5.71
    assert plain.params < 25e6 and 1.14 < plain.macs / 5e9 < 1.15


def test_inception_v3_grid_sizes_and_module_widths():
    shapes = {child.name: child.out_shape for child in models.inception_v3().cost(299, 299).children}
    assert shapes["Conv2d_1a_3x3"] == (32, 149, 149) and shapes["maxpool2"] == (192, 35, 35)
    assert [shapes[f"Mixed_5{x}"] for x in "bcd"] == [(256, 35, 35), (288, 35, 35), (288, 35, 35)]
    assert shapes["Mixed_6a"] == (768, 17, 17) and shapes["Mixed_6e"] == (768, 17, 17)
    assert shapes["Mixed_7a"] == (1280, 8, 8) and shapes["Mixed_7c"] == (2048, 8, 8)


def test_inception_c_factorizes_the_7x7_into_a_row_and_a_column():
    """A 1x7 then a 7x1 cover a 7x7 window with 14 weights per channel pair instead of 49."""
    module = inception_c(768, 128)
    kernels = [node.kernel_size for node in _nodes(module) if isinstance(node, C.Conv2d)]
    assert kernels == [(1, 7), (7, 1), (7, 1), (1, 7), (7, 1), (1, 7)]


def _nodes(layer):
    yield layer
    for child in layer.children:
        yield from _nodes(child)


@pytest.mark.parametrize("build, c_in, out", [
    (lambda: inception_a(8, 4, rng=0), 8, 64 + 64 + 96 + 4), (lambda: inception_b(8, rng=0), 8, 384 + 96 + 8),
    (lambda: inception_c(8, 4, rng=0), 8, 768), (lambda: inception_d(8, rng=0), 8, 320 + 192 + 8),
    (lambda: inception_e(8, rng=0), 8, 320 + 768 + 768 + 192)])
def test_inception_v3_modules_give_their_widths(rng, build, c_in, out):
    module = build().eval()
    x = rng.standard_normal((1, c_in, 9, 9))
    y = module.forward(x)
    assert y.shape[1] == out and module.cost(9, 9, c_in).out_shape == y.shape[1:]


def test_auxiliary_classifier_is_the_identity_on_the_main_path_with_logits_beside_it_in_training(rng):
    head = models.AuxiliaryClassifier(6, 3, rng=0)
    for param in head.params.values():
        param[...] = rng.standard_normal(param.shape) * 0.3
    x = rng.standard_normal((2, 6, 17, 17))
    assert head.forward(x) is x and head.logits.shape == (2, 3, 1, 1)
    dout = rng.standard_normal(x.shape)
    np.testing.assert_array_equal(head.backward(dout), dout)          # no dlogits: nothing from the head
    head.forward(x)
    head.dlogits = dlogits = rng.standard_normal((2, 3, 1, 1))
    dx = head.backward(dout)
    # central differences along one random direction v (eps 1e-6): d/dt of sum(dlogits * logits(x + t v))
    v = rng.standard_normal(x.shape)

    def loss(t):
        return float(np.sum(dlogits * C.Sequential.forward(head, x + t * v)))
    numeric = (loss(1e-6) - loss(-1e-6)) / 2e-6
    assert abs(float(np.sum((dx - dout) * v)) - numeric) < 1e-6 * abs(numeric)
    head.eval()
    assert head.forward(x) is x and head.logits is None


def test_auxiliary_classifier_is_priced_beside_an_unchanged_main_path():
    report = models.AuxiliaryClassifier(768, 1000).cost(17, 17)
    assert report.out_shape == (768, 17, 17) and report.params == 3_326_696


def test_inception_v3_runs_forward_and_backward_on_its_smallest_input(rng):
    """75 x 75 is the smallest input torchvision's definition takes (its last grid is then 1x1)."""
    net = models.inception_v3(num_classes=10, rng=0).eval()
    x = rng.standard_normal((1, 3, 75, 75))
    out = net.forward(x)
    assert out.shape == (1, 10, 1, 1)
    dx = net.backward(rng.standard_normal(out.shape))
    assert dx.shape == x.shape and np.isfinite(dx).all()
