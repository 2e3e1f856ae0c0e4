"""
Example 15: moving on to PyTorch, the same network and weights, one call each way
=================================================================================

``C.to_torch(model)`` gives the ``torch.nn.Module`` that computes what a model of this library computes,
with copies of its weights; ``C.from_torch(module)`` goes back. Here the Network in Network of example 13
trains a few epochs on the digits with this library, crosses to PyTorch and trains a few more there
with ``torch.optim.SGD``, then comes back. At each crossing we measure how far apart the two sides' scores
are. Meanwhile the library trains its own copy the same way with ``C.SGD``: both optimisers use PyTorch's
rule (momentum buffer ``buf = momentum * buf + g + weight_decay * p``, step ``p -= lr * buf``), so the two
runs should stay together. Last, torchvision's ResNet-50 is read into the library and priced.

Needs PyTorch (``pip install torch==2.13.0``; without it the script says so and stops) and scikit-learn
for the digits (in a clone: ``pip install -e ".[examples]"``); the last part needs torchvision. The website
runs it only where the build machine has PyTorch. Chapter: :doc:`/pytorch`.
"""

# %%
import argparse
import copy
import importlib
import sys
import types

import numpy as np

import conv1x1 as C
from conv1x1 import models
from conv1x1.training.data import batches, load_digits, train_test_split
from conv1x1.training.losses import softmax_cross_entropy
from conv1x1.training.optim import SGD
from conv1x1.training.train import evaluate, fit

parser = argparse.ArgumentParser(description="Train here, then in PyTorch, then here again")
parser.add_argument("--epochs", type=int, default=5, help="epochs on each side (default %(default)s)")
args, _ = parser.parse_known_args()  # tolerate a notebook kernel's own arguments

try:
    import torch
except ImportError:
    print("PyTorch is not installed, and this example carries a network to PyTorch and back: it stops here.\n"
          "Install the CPU build with `pip install torch==2.13.0` (see https://pytorch.org for others) and run "
          "it again.")
    sys.exit(0)

torch.manual_seed(0)
torch.set_num_threads(1)   # PyTorch's float64 convolutions run no faster on this small network with more
LR, MOMENTUM, WEIGHT_DECAY, BATCH = 0.03, 0.9, 1e-4, 32   # example 13's settings

x, y = load_digits()                                             # (1797, 1, 8, 8) in [0, 1], labels 0..9
x_train, x_test, y_train, y_test = train_test_split(x, y, test_fraction=0.2, seed=0)

# %% [markdown]
# Train here: example 13's Network in Network (float64)
# -----------------------------------------------------
#
# ``conv1x1.models.nin`` builds it, layer for layer and (from the same seed) weight for weight.

# %%
model = models.nin(rng=0)     # 3x3 conv -> ReLU -> 1x1 -> ReLU -> 1x1 -> ReLU -> max pool, again to 10 maps, averaged
history = fit(model, softmax_cross_entropy, SGD(model.parameters(), lr=LR, momentum=MOMENTUM,
                                                weight_decay=WEIGHT_DECAY),
              x_train, y_train, epochs=args.epochs, batch_size=BATCH, seed=0, test_data=(x_test, y_test))
here = evaluate(model, x_test, y_test)
print(f"after {args.epochs} epochs here: test accuracy {here.accuracy:.1%}")

# %% [markdown]
# Carry it to PyTorch
# -------------------
#
# The scores keep the library's shape, (N, 10, 1, 1): ``.flatten(1)`` gives PyTorch's usual (N, 10).

# %%
module = C.to_torch(model)
print(module)
module.eval()
with torch.no_grad():
    scores = module(torch.tensor(x_test)).numpy()
crossing = np.abs(scores - model.forward(x_test)).max()
print(f"crossing to PyTorch: max |PyTorch - library| over the {len(x_test)} test images' scores = {crossing:.1e}")

# %% [markdown]
# Train on in PyTorch, with torch.optim.SGD and the same settings, batches and order
# ----------------------------------------------------------------------------------
#
# A twin of the model stays here and trains the same epochs with ``C.SGD``, fresh like PyTorch's optimiser.

# %%
twin = copy.deepcopy(model)
optimizer = torch.optim.SGD(module.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
last = 2 * args.epochs
for epoch in range(args.epochs, last):
    module.train()
    for xb, yb in batches(x_train, y_train, BATCH, seed=0, epoch=epoch):   # fit's batches for this epoch
        loss = torch.nn.functional.cross_entropy(module(torch.tensor(xb)).flatten(1), torch.tensor(yb))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
fit(twin, softmax_cross_entropy, SGD(twin.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY),
    x_train, y_train, epochs=last, batch_size=BATCH, seed=0, start_epoch=args.epochs, log=None)
module.eval()
with torch.no_grad():
    scores = module(torch.tensor(x_test)).numpy()
there = float(np.mean(scores.reshape(len(x_test), -1).argmax(axis=1) == y_test))
steps = args.epochs * len(list(batches(x_train, y_train, BATCH)))
apart = np.abs(scores - twin.forward(x_test)).max()
print(f"after {args.epochs} more epochs in PyTorch: test accuracy {there:.1%}")
print(f"the twin trained here with C.SGD: test accuracy {evaluate(twin, x_test, y_test).accuracy:.1%}; after "
      f"{steps} steps on each side, max |PyTorch - twin| over the test scores = {apart:.1e}")

# %% [markdown]
# Bring it back
# -------------

# %%
back = C.from_torch(module)
print(f"{back}: {' -> '.join(back.names)}")
returned = np.abs(back.forward(x_test) - scores).max()
print(f"crossing back: max |library - PyTorch| over the test scores = {returned:.1e}")
print(f"back here: test accuracy {evaluate(back, x_test, y_test).accuracy:.1%}")
print(f"accuracies: {here.accuracy:.1%} here after {args.epochs} epochs -> {there:.1%} in PyTorch after "
      f"{last} -> {evaluate(back, x_test, y_test).accuracy:.1%} back here")

# %% [markdown]
# Read torchvision's ResNet-50 and price it with this library's report
# --------------------------------------------------------------------
#
# ``C.from_torch`` knows torchvision's ResNet (its Bottleneck blocks), SqueezeNet (its Fire modules),
# MobileNetV2, EfficientNet, ConvNeXt and Inception v3.
# Pricing allocates nothing more: the converted network holds torchvision's (random) weights.

# %%


def import_torchvision():
    """torchvision, or None. Its 0.28.0 wheel's compiled operators do not load beside torch's CPU build
    ("operator torchvision::nms does not exist"); its model definitions are pure Python and need none of
    them, so on that error an empty module stands in for the operator registrations."""
    try:
        return importlib.import_module("torchvision")
    except ImportError:
        return None
    except RuntimeError:
        for name in [name for name in sys.modules if name.split(".")[0] == "torchvision"]:
            del sys.modules[name]
        sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
        return importlib.import_module("torchvision")


torchvision = import_torchvision()
if torchvision is None:
    print("torchvision is not installed: skipping ResNet-50 (`pip install torchvision` to see it)")
else:
    resnet = C.from_torch(torchvision.models.resnet50())
    report = resnet.cost(224, 224)
    print(report.summary(depth=1))
    print(report.by_kind_table())
    library = C.models.resnet50().cost(224, 224)
    same = (report.params, report.macs) == (library.params, library.macs)
    print(f"torchvision's ResNet-50: {report.params:,} parameters, {report.macs:,} MACs at 224x224 "
          f"({'the same as' if same else 'NOT the same as'} conv1x1.models.resnet50())")
