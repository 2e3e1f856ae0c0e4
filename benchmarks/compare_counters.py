"""What other FLOP/MAC counters print, and how to get each of their numbers from our counts.

For four models built by hand in ``torch.nn`` (the classic 5x5 "same" conv 192 -> 32 on 28x28, a 1x1
reduction to 16 then that 5x5, GoogLeNet's Inception 3a, ResNet-50 v1.5 on 224x224; MobileNet v1 too),
this script runs every counter that is installed -- fvcore, thop, ptflops (both back-ends),
torchinfo, calflops and PyTorch's own ``torch.utils.flop_counter.FlopCounterMode`` -- and writes
each printed number as an exact formula in quantities it computes itself from forward hooks on the
model's modules, never from the tools:

- M: multiply-accumulates (MACs) of the convolutions and the fully connected layer
  (``out elements * C_in/groups * K*K``; ``out elements * in_features``);
- B = Bc + Bf: bias adds, one per output element of a conv (Bc) or linear (Bf) layer with a bias;
- N: batch-norm elements (output elements of the BN layers); Nc: BN channels, summed over BN layers;
- R: ReLU elements (output elements of every ReLU call);
- Pin, Pout, Pwin: max-pool input elements, output elements, window elements (Pout * K*K);
- Gin, Gout: global average-pool input and output elements;
- A: residual-add elements (output elements of each ``out += identity``).

None of these packages is a dependency of conv1x1, and nothing in the library or its tests
imports this script. Absent packages print "not installed". calflops 0.3.2 imports transformers
without declaring it, hence transformers below. Run it in a venv that has them::

    pip install torch==2.13.0 fvcore thop ptflops torchinfo calflops transformers
    python benchmarks/compare_counters.py            # all models
    python benchmarks/compare_counters.py --quick    # skip ResNet-50 and MobileNet
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import logging
import sys
import warnings
from importlib import metadata

try:
    import torch
    from torch import nn
except ImportError:  # the script still says what it needs
    torch = nn = None

TOOLS = ["fvcore", "thop", "ptflops", "torchinfo", "calflops"]
CHECK, CROSS = "\u2713", "\u2717"

SYMBOLS = {  # what each of our own counts is (all for one image)
    "M": "MACs of convs + FC",
    "B": "bias adds (Bc + Bf)",
    "Bc": "conv bias adds",
    "Bf": "FC bias adds",
    "N": "BN elements",
    "Nc": "BN channels (sum over BN layers)",
    "R": "ReLU elements",
    "Pin": "max-pool input elements",
    "Pout": "max-pool output elements",
    "Pwin": "max-pool window elements",
    "Gin": "global avg-pool input elements",
    "Gout": "global avg-pool output elements",
    "A": "residual-add elements",
}

# How each printed number is made of our counts: {symbol: coefficient}. Found by reading each tool's
# counting rules and checked here on every model; a formula that misses is marked with a cross.
FORMULAS = {
    "fvcore": {"M": 1, "N": 2, "Gin": 1},
    "thop": {"M": 1, "N": 4, "Gin": 1, "Gout": 1},
    "ptflops[pytorch]": {"M": 1, "B": 1, "N": 2, "R": 2, "Pin": 2, "Gin": 2},
    "ptflops[pytorch, count_functional=False]": {"M": 1, "B": 1, "N": 2, "R": 1, "Pin": 1, "Gin": 1},
    "ptflops[aten]": {"M": 1, "B": 1},
    "torchinfo": {"M": 1, "B": 1, "Nc": 2},
    "calflops flops": {"M": 2, "Bc": 1, "N": 2, "R": 1, "Pin": 1, "Gin": 1},
    "calflops macs": {"M": 1},
    "FlopCounterMode": {"M": 2},
}


def formula_text(terms) -> str:
    return " + ".join(sym if c == 1 else f"{c}{sym}" for sym, c in terms.items())


def formula_value(terms, q) -> int:
    return sum(c * q[sym] for sym, c in terms.items())


# --------------------------------------------------------------------------- models, by hand
if nn is not None:

    class Concat(nn.Module):
        """Run branches on the same input and concatenate their outputs along channels."""

        def __init__(self, *branches):
            super().__init__()
            self.branches = nn.ModuleList(branches)

        def forward(self, x):
            return torch.cat([branch(x) for branch in self.branches], dim=1)

    class Bottleneck(nn.Module):
        """torchvision's ResNet bottleneck (v1.5: the stride sits on the 3x3 conv)."""

        expansion = 4

        def __init__(self, c_in, width, stride=1):
            super().__init__()
            c_out = width * self.expansion
            self.conv1 = nn.Conv2d(c_in, width, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(width)
            self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(width)
            self.conv3 = nn.Conv2d(width, c_out, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(c_out)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = None
            if stride != 1 or c_in != c_out:
                self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                                nn.BatchNorm2d(c_out))

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            out = self.bn3(self.conv3(out))
            out += identity  # the residual add
            return self.relu(out)


def conv5x5():
    """(a) The classic 5x5 "same" conv 192 -> 32, with bias."""
    return nn.Conv2d(192, 32, 5, padding=2)


def reduce_then_5x5():
    """(b) 1x1 conv 192 -> 16, then 5x5 16 -> 32; biases, no activations."""
    return nn.Sequential(nn.Conv2d(192, 16, 1), nn.Conv2d(16, 32, 5, padding=2))


def inception_3a():
    """(c) GoogLeNet Inception 3a: ReLU after every conv, biases, concat (Szegedy et al. 2014)."""
    def conv(c_in, c_out, k):
        return [nn.Conv2d(c_in, c_out, k, padding=k // 2), nn.ReLU(inplace=True)]
    return Concat(nn.Sequential(*conv(192, 64, 1)),
                  nn.Sequential(*conv(192, 96, 1), *conv(96, 128, 3)),
                  nn.Sequential(*conv(192, 16, 1), *conv(16, 32, 5)),
                  nn.Sequential(nn.MaxPool2d(3, 1, 1), *conv(192, 32, 1)))


def resnet50():
    """(d) ResNet-50 as torchvision defines it (He et al. 2015, arXiv:1512.03385; "v1.5")."""
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
              nn.MaxPool2d(3, 2, 1)]
    c_in = 64
    for width, blocks, stride in [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]:
        for i in range(blocks):
            layers.append(Bottleneck(c_in, width, stride if i == 0 else 1))
            c_in = width * Bottleneck.expansion
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 1000)]
    return nn.Sequential(*layers)


def mobilenet_v1():
    """MobileNet v1, width 1.0 (Howard et al. 2017, arXiv:1704.04861): conv-BN-ReLU, no conv biases."""
    def conv_bn(c_in, c_out, k, stride, groups=1):
        return [nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups, bias=False),
                nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
    layers = conv_bn(3, 32, 3, 2)
    c_in = 32
    for c_out, stride in [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), *[(512, 1)] * 5,
                          (1024, 2), (1024, 1)]:
        layers += conv_bn(c_in, c_in, 3, stride, groups=c_in) + conv_bn(c_in, c_out, 1, 1)
        c_in = c_out
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1024, 1000)]
    return nn.Sequential(*layers)


MODELS = [  # key, title, builder, input shape
    ("5x5", "(a) 5x5 conv 192->32, 28x28", conv5x5, (1, 192, 28, 28)),
    ("1x1->5x5", "(b) 1x1 192->16, then 5x5 16->32, 28x28", reduce_then_5x5, (1, 192, 28, 28)),
    ("inception3a", "(c) Inception 3a, 28x28x192", inception_3a, (1, 192, 28, 28)),
    ("resnet50", "(d) ResNet-50 (torchvision v1.5), 224x224", resnet50, (1, 3, 224, 224)),
    ("mobilenet_v1", "(e) MobileNet v1, 224x224", mobilenet_v1, (1, 3, 224, 224)),
]


# --------------------------------------------------------------------------- our own counts
def reference_counts(model, shape) -> dict:
    """Count every quantity from module shapes seen by forward hooks (one forward pass)."""
    q = dict.fromkeys(SYMBOLS, 0)

    def hook(module, inputs, output):
        x, n_out = inputs[0], output.numel()
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            q["M"] += n_out * module.in_channels // module.groups * kh * kw
            q["Bc"] += n_out if module.bias is not None else 0
        elif isinstance(module, nn.Linear):
            q["M"] += n_out * module.in_features
            q["Bf"] += n_out if module.bias is not None else 0
        elif isinstance(module, nn.BatchNorm2d):
            q["N"] += n_out
            q["Nc"] += module.num_features
        elif isinstance(module, nn.ReLU):
            q["R"] += n_out
        elif isinstance(module, nn.MaxPool2d):
            k = module.kernel_size
            q["Pout"] += n_out
            q["Pin"] += x.numel()
            q["Pwin"] += n_out * (k * k if isinstance(k, int) else k[0] * k[1])
        elif isinstance(module, nn.AdaptiveAvgPool2d):
            q["Gin"] += x.numel()
            q["Gout"] += n_out
        elif isinstance(module, Bottleneck):
            q["A"] += n_out  # out + identity has the block's output shape

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    try:
        with torch.no_grad():
            model(torch.zeros(shape))
    finally:
        for h in handles:
            h.remove()
    q["B"] = q["Bc"] + q["Bf"]
    return q


def conv1x1_counts(key):
    """The conv1x1 library's own MAC count, or a sentence saying why there is none."""
    try:
        from conv1x1 import cost
    except ImportError:
        return "n/a (conv1x1 not installed)"
    if key == "5x5":
        return cost.bottleneck_comparison(192, 16, 32, 28, 28, kernel_size=5).baseline.macs
    if key == "1x1->5x5":
        return cost.bottleneck_comparison(192, 16, 32, 28, 28, kernel_size=5).candidate.macs
    if key == "inception3a":
        return cost.inception_cost(192, 28, 28, 64, 96, 128, 16, 32, 32).macs
    try:
        import conv1x1.models as conv_models
        return getattr(conv_models, key)().cost(224, 224).macs
    except (ImportError, AttributeError):
        return "n/a (conv1x1.models not available)"


# --------------------------------------------------------------------------- the tools
def version(package):
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


@contextlib.contextmanager
def quiet():
    """Silence what the tools print and warn while they count."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        logging.disable(logging.CRITICAL)
        try:
            yield
        finally:
            logging.disable(logging.NOTSET)


def run_fvcore(model, x):
    from fvcore.nn import FlopCountAnalysis
    return [("fvcore", "total(); its table says \"#flops\"", int(FlopCountAnalysis(model, x).total()))]


def run_thop(model, x):
    from thop import profile
    macs, _params = profile(model, inputs=(x,), verbose=False)
    return [("thop", "profile() -> \"macs\" (README); no unit", int(macs))]  # a float in a DoubleTensor, integral


def run_ptflops(model, x):
    import ptflops
    rows = []
    for name, options in [("pytorch", {"backend": "pytorch"}),
                          ("pytorch, count_functional=False",
                           {"backend": "pytorch", "backend_specific_config": {"count_functional": False}}),
                          ("aten", {"backend": "aten"})]:
        try:
            macs, _ = ptflops.get_model_complexity_info(model, tuple(x.shape[1:]), as_strings=False,
                                                        print_per_layer_stat=False, **options)
        except TypeError:  # an older ptflops without these arguments
            rows.append((f"ptflops[{name}]", "n/a (this ptflops has no such option)", None))
            continue
        rows.append((f"ptflops[{name}]", "string \"GMac\" / \"MMac\"", int(macs)))
    return rows


def run_torchinfo(model, x):
    from torchinfo import summary
    result = summary(model, input_data=x, verbose=0)
    line = next((line for line in str(result).splitlines() if "mult-adds" in line), "Total mult-adds")
    return [("torchinfo", f"\"{line.split(':')[0]}\"", int(result.total_mult_adds))]


def run_calflops(model, x):
    from calflops import calculate_flops
    flops, macs, _ = calculate_flops(model, input_shape=tuple(x.shape), output_as_string=False,
                                     print_results=False, print_detailed=False)
    return [("calflops flops", "flops; string \"GFLOPS\" / \"MFLOPS\"", int(flops)),
            ("calflops macs", "macs; string \"GMACs\" / \"MMACs\"", int(macs))]


def run_flop_counter_mode(model, x):
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False)
    with counter:
        model(x)
    return [("FlopCounterMode", "get_total_flops(); its table says \"FLOP\"", counter.get_total_flops())]


def ptflops_on_a_lone_relu():
    """What ptflops's pytorch back-end prints for a lone nn.ReLU on 16 elements (one op each)."""
    if importlib.util.find_spec("ptflops") is None:
        return "ptflops not installed"
    import ptflops
    counts = []
    for config in ({}, {"count_functional": False}):
        with quiet():
            macs, _ = ptflops.get_model_complexity_info(
                nn.Sequential(nn.ReLU()), (1, 4, 4), as_strings=False, print_per_layer_stat=False,
                backend="pytorch", backend_specific_config=config)
        counts.append(int(macs))
    return f"{counts[0]} (default), {counts[1]} (count_functional=False)"


RUNNERS = {"fvcore": run_fvcore, "thop": run_thop, "ptflops": run_ptflops, "torchinfo": run_torchinfo,
           "calflops": run_calflops, "torch": run_flop_counter_mode}


def measure_tools(builder, shape) -> list:
    """Run every installed tool on a fresh copy of the model (some tools leave hooks or buffers)."""
    rows = []
    for package, run in RUNNERS.items():
        if package != "torch" and importlib.util.find_spec(package) is None:
            rows.append((package, "not installed", None))
            continue
        torch.manual_seed(0)
        model = builder().eval()
        try:
            with quiet(), torch.no_grad():
                rows += run(model, torch.randn(shape))
        except Exception as error:  # a tool that fails on a model is a finding too
            rows.append((package, f"failed: {type(error).__name__}: {error}"[:100], None))
    return rows


# --------------------------------------------------------------------------- main
def model_table(q, rows) -> list:
    """Lines of one model's table: tool, printed number, its label, the formula and a check."""
    lines = [f"  {'tool':40s} {'printed':>15s}  {'as the tool names it':38s} formula (our counts)"]
    for tool, label, value in rows:
        terms = FORMULAS.get(tool)
        if value is None or terms is None:
            lines.append(f"  {tool:40s} {'-':>15s}  {label}")
            continue
        expected = formula_value(terms, q)
        mark = CHECK if expected == value else f"{CROSS} (formula gives {expected:,}, off by {value - expected:+,})"
        lines.append(f"  {tool:40s} {value:>15,}  {label:38s} = {formula_text(terms)} {mark}")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the three small models")
    args = parser.parse_args(argv)
    if torch is None:
        print("torch not installed: nothing to compare (pip install torch==2.13.0)")
        return 0
    print("versions: " + ", ".join(f"{p} {version(p) or 'not installed'}" for p in ["torch", *TOOLS]))
    print("our counts: " + "; ".join(f"{sym} = {text}" for sym, text in SYMBOLS.items()))
    print("ptflops[pytorch] on a lone nn.ReLU over 16 elements:", ptflops_on_a_lone_relu())
    summary, checks = {}, []
    for key, title, builder, shape in MODELS:
        if args.quick and key in ("resnet50", "mobilenet_v1"):
            continue
        print(f"\n## {title}, input {shape}")
        torch.manual_seed(0)
        q = reference_counts(builder().eval(), shape)
        print("our counts: " + ", ".join(f"{sym}={value:,}" for sym, value in q.items() if value))
        ours = conv1x1_counts(key)
        agrees = "" if isinstance(ours, str) else (" (= M)" if ours == q["M"] else f" {CROSS} (M = {q['M']:,})")
        print(f"conv1x1.cost MACs: {ours if isinstance(ours, str) else f'{ours:,}'}{agrees}")
        rows = measure_tools(builder, shape)
        print("\n".join(model_table(q, rows)))
        for tool, _label, value in rows:
            ok = value is not None and tool in FORMULAS and formula_value(FORMULAS[tool], q) == value
            summary.setdefault(tool, {})[key] = (value, ok)
            checks += [ok] if value is not None else []
    print("\n## Summary (Markdown): printed value per model, and the formula that reproduces it")
    keys = [key for key, *_ in MODELS if any(key in cells for cells in summary.values())]
    print("| tool | " + " | ".join(keys) + " | formula |")
    print("|---" * (len(keys) + 2) + "|")
    for tool, cells in summary.items():
        values = [cells.get(key, (None, False)) for key in keys]
        text = [("-" if v is None else f"{v:,}" + ("" if ok else f" {CROSS}")) for v, ok in values]
        print(f"| {tool} | " + " | ".join(text) + f" | {formula_text(FORMULAS.get(tool, {})) or '-'} |")
    print(f"\n{sum(checks)} of {len(checks)} printed numbers reproduced exactly by their formula")
    return 0


if __name__ == "__main__":
    sys.exit(main())
