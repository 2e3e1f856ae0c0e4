r"""
Example 12: a roofline measured on this machine
===============================================

Example 08 found GoogLeNet's Inception module 3a with 1x1 reductions faster than the naive
module, but by less than the MAC ratio. Here every layer of both modules is timed on its own
input and set against the roofline model (Williams, Waterman and Patterson 2009, "Roofline: an
insightful visual performance model for multicore architectures", CACM 52(4)):

.. math:: \text{time} \geq \max\left(\frac{\text{MACs}}{\text{GEMM rate}},\;
          \frac{\text{bytes}}{\text{memory bandwidth}}\right)

with bytes = itemsize x (input + parameter + output elements), the traffic no layer can avoid.
A layer's arithmetic intensity (MACs per byte) says which term wins: below the "ridge"
(GEMM rate / bandwidth) a layer waits for memory, above it for arithmetic.

Everything timed here is timed on the machine that ran the script: on the website, the machine that
built the site (2 cores shared with other work, so expect noise). Run it yourself:
``python examples/12_roofline.py [--plot roofline.png] [--repeat 15] [--threads 1]``.
Chapter: :doc:`/roofline`.
"""

# %%
import argparse
import contextlib
import os
import statistics
import sys
import time

parser = argparse.ArgumentParser(description="Inception 3a, layer by layer, against this machine's roofline")
parser.add_argument("--plot", metavar="PATH", help="save a log-log roofline plot (needs matplotlib)")
parser.add_argument("--repeat", type=int, help="timed runs per layer (default 15; 7 when the website is built)")
parser.add_argument("--threads", type=int, help="BLAS threads (set before NumPy loads; 1 steadies the timings "
                                                "on a busy machine)")
args, _ = parser.parse_known_args()   # a notebook kernel passes arguments of its own (-f kernel.json): ignore them
args.repeat = args.repeat or (7 if os.environ.get("CONV1X1_GALLERY") else 15)
if args.threads:
    if "numpy" in sys.modules:
        print("--threads has no effect here: NumPy was loaded before this script ran")
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(args.threads)

import numpy as np  # noqa: E402 - after the thread count is set

import conv1x1 as C  # noqa: E402
from conv1x1.fast.timing import Measurement, machine_peaks, measure  # noqa: E402

DTYPE = np.float32
# Every container to study: (name, module, input (C, H, W)). Any layer made of layers works.
MODULES = [
    ("Inception 3a", C.Inception(192, 64, 96, 128, 16, 32, 32, rng=0, dtype=DTYPE), (192, 28, 28)),
    ("naive 3a", C.Inception(192, 64, 96, 128, 16, 32, 32, reductions=False, rng=0, dtype=DTYPE), (192, 28, 28)),
    ("one MobileNet block", C.DepthwiseSeparable(32, 64, rng=0, dtype=DTYPE), (32, 112, 112)),
]

# %% [markdown]
# This machine's peaks
# --------------------
#
# Measured once per process, in about three seconds: the best rate of a large matrix multiply, and
# the best rate of a large memory copy (bytes read + bytes written). Best, not median: a roof is an
# upper bound, and other work on the machine only ever slows a run down. A peak measured while the
# machine was busy comes out too low, and then some layer "beats" the roof; the table below checks.

# %%
peaks = machine_peaks(seconds=3.0)
ridge = peaks.ridge(DTYPE)
print(f"GEMM {peaks.gmacs['float32']:.1f} GMAC/s (float32), {peaks.gmacs['float64']:.1f} GMAC/s (float64); "
      f"memory copy {peaks.gb_per_second:.1f} GB/s")
print(f"  how: {peaks.how}")
print(f"  ridge: layers above {ridge:.1f} MACs per float32 byte are compute-bound, below it memory-bound\n")

# %% [markdown]
# Each layer on its own input
# ---------------------------
#
# One forward pass of the whole module records what every leaf layer receives (a layer's
# ``forward`` is briefly wrapped); then each leaf's forward is timed alone on that input. Leaves are
# named by their place in the tree ("1.2": branch 1, layer 2), the names the cost report uses.


# %%
def leaves(layer, name=""):
    """(name, layer) of every leaf, depth first, named as the containers name their cost rows."""
    if not layer.children:
        yield name, layer
    for i, child in enumerate(layer.children):
        yield from leaves(child, f"{name}.{i}" if name else str(i))


def leaf_inputs(module, x):
    """{leaf name: the input it received} from one forward pass of ``module``."""
    seen = {}
    for name, leaf in leaves(module):
        def spy(inp, name=name, forward=leaf.forward):
            seen[name] = inp
            return forward(inp)
        leaf.forward = spy                      # an instance attribute: shadows the method
    try:
        module.forward(x)
    finally:
        for _, leaf in leaves(module):
            del leaf.forward
    return seen


def study(title, module, shape, seed=0):
    """Time every leaf of a module on its own input; return the rows, the report and the input."""
    x = np.random.default_rng(seed).standard_normal((1, *shape)).astype(DTYPE)   # the same x on both routes
    report = module.cost(shape[1], shape[2], in_channels=shape[0])
    predicted = {row["name"]: row for row in report.predict(peaks, DTYPE).rows}
    costs = {layer.name: layer for layer in report.layers}
    inputs = leaf_inputs(module, x)
    rows = []
    for name, leaf in leaves(module):
        if name not in costs:
            print(f"  ({title}: leaf {name} has no cost row of that name; not compared)")
            continue
        m = measure(lambda leaf=leaf, inp=inputs[name]: leaf.forward(inp), costs[name].macs, repeat=args.repeat,
                    warmup=2)
        rows.append({"name": name, "cost": costs[name], "measured": m, **predicted[name]})
    return {"title": title, "module": module, "x": x, "report": report, "rows": rows,
            "predicted": sum(row["seconds"] for row in predicted.values())}


def whole_modules(routes):
    """Time every whole module on every route in turns: {route: [Measurement per module]}.

    Each turn runs each module once on the plain route and once on the engine room, so a burst of
    other work on the machine slows both routes alike.
    """
    times = {route: [[] for _ in MODULES] for route in routes}
    for turn in range(args.repeat + 2):                       # the first two turns are a warm-up
        for route, studied in routes.items():
            with C.fast.enabled() if route == "engine room" else contextlib.nullcontext():
                for i, result in enumerate(studied):
                    start = time.perf_counter()
                    result["module"].forward(result["x"])
                    if turn >= 2:
                        times[route][i].append(time.perf_counter() - start)
    return {route: [Measurement(statistics.median(t), r["report"].macs, tuple(t)) for t, r in zip(ts, routes[route])]
            for route, ts in times.items()}


results = [study(title, module, shape) for title, module, shape in MODULES]
with C.fast.enabled():                                        # the same leaves on the engine room's functions
    fast_results = [study(title, module, shape) for title, module, shape in MODULES]
wholes = whole_modules({"plain": results, "engine room": fast_results})
for result, whole in zip(results, wholes["plain"]):
    result["whole"] = whole
for result, whole in zip(fast_results, wholes["engine room"]):
    result["whole"] = whole

for result in results:
    print(f"{result['title']}: measured against predicted, float32, one image")
    print(f"  {'layer':<6} {'kind':<12} {'MACs':>8} {'MACs/byte':>9} {'bound':>7}  {'predicted':>10}  "
          f"{'measured (median, min-max)':>28}  {'x pred.':>7}  {'GMAC/s':>6}")
    for row in result["rows"]:
        m = row["measured"]
        low, high = m.spread
        rate = f"{m.gmacs_per_second:6.1f}" if row["macs"] else "     -"
        print(f"  {row['name']:<6} {row['kind']:<12} {C.cost.human(row['macs']):>8} {row['intensity']:9.2f} "
              f"{row['bound']:>7}  {row['seconds'] * 1e6:8.1f}us  {m.seconds * 1e6:8.1f}us "
              f"({low * 1e6:7.1f}-{high * 1e6:8.1f}us)  {m.seconds / row['seconds']:6.1f}x  {rate}")
    leaf_sum = sum(row["measured"].seconds for row in result["rows"])
    whole = result["whole"]
    print(f"  whole module: predicted {result['predicted'] * 1e3:.2f} ms, measured {whole.seconds * 1e3:.2f} ms "
          f"(min-max {whole.spread[0] * 1e3:.2f}-{whole.spread[1] * 1e3:.2f} ms); the leaves alone add up to "
          f"{leaf_sum * 1e3:.2f} ms\n")

# %% [markdown]
# No layer can beat its roofline bound. If one does, the bound was wrong in this run: a GEMM peak
# measured on a busy machine is too low (the compute bound), or the layer's data sat in a cache,
# faster than the memory copy measured on arrays far larger than any cache (the memory bound).

# %%
beaten = [(result["title"], row) for result in results for row in result["rows"]
          if row["measured"].seconds < row["seconds"]]
if beaten:
    print(f"WARNING: {len(beaten)} layer(s) ran faster than their roofline bound, which a true bound forbids:")
    for title, row in beaten:
        why = ("the GEMM peak above was measured too low (a busy machine during its runs)" if row["bound"] == "compute"
               else "its data came from a cache, faster than the memory copy measured on arrays larger than the caches")
        print(f"  {title} {row['name']} {row['kind']}: {row['measured'].seconds / row['seconds']:.2f}x its "
              f"{row['bound']} bound; likely {why}")
    print("  Read this run's 'x pred.' column as rough; rerun on a quiet machine (--threads 1, larger --repeat).")
else:
    print("No layer ran faster than its roofline bound allows: the bounds held in this run.")

# %% [markdown]
# Why the reduced module's speed-up is below its MAC ratio
# --------------------------------------------------------
#
# Time is MACs divided by the rate reached, so the measured speed-up is exactly the MAC ratio
# times (reduced module's rate / naive module's rate). The question is which layers pull the
# reduced module's rate down.

# %%


def group(result, test):
    """Leaves for which test(row) holds: their MACs, measured seconds, predicted seconds and intensities."""
    rows = [row for row in result["rows"] if test(row)]
    return {"macs": sum(row["macs"] for row in rows), "seconds": sum(row["measured"].seconds for row in rows),
            "predicted": sum(row["seconds"] for row in rows), "intensity": [row["intensity"] for row in rows]}


def rate(g):
    return g["macs"] / g["seconds"] / 1e9


def verdict(reduced, naive):
    """The numbers behind the verdict on one route (plain or engine room), and the verdict as a sentence."""
    mac_ratio = naive["report"].macs / reduced["report"].macs
    measured_ratio = naive["whole"].seconds / reduced["whole"].seconds
    one = group(reduced, lambda row: row["cost"].category == "1x1")
    big = group(reduced, lambda row: row["cost"].category == "kxk")
    convs = [group(r, lambda row: row["macs"] > 0) for r in (naive, reduced)]
    free = [group(r, lambda row: row["macs"] == 0) for r in (naive, reduced)]
    pool = group(reduced, lambda row: row["kind"].startswith("maxpool"))
    layer_time = sum(row["measured"].seconds for row in reduced["rows"])
    conv_ratio = convs[0]["seconds"] / convs[1]["seconds"]
    free_share = free[1]["seconds"] / layer_time
    causes = []
    if conv_ratio < mac_ratio and rate(one) < rate(big) and max(one["intensity"]) < min(big["intensity"]):
        causes.append(f"its small 1x1 convolutions have low intensity ({min(one['intensity']):.1f}-"
                      f"{max(one['intensity']):.1f} MACs/byte against {min(big['intensity']):.1f}+ for the 3x3 and "
                      f"5x5; {sum(i < ridge for i in one['intensity'])} of {len(one['intensity'])} below the ridge "
                      f"{ridge:.1f}) and ran at {rate(one):.1f} GMAC/s against {rate(big):.1f}, so even the "
                      f"convolutions alone sped up only {conv_ratio:.2f}x")
    if free_share >= 0.2:
        causes.append(f"layers without MACs (ReLUs, max pooling) took {free_share:.0%} of its time, "
                      f"{free[1]['seconds'] * 1e3:.2f} ms against {free[0]['seconds'] * 1e3:.2f} ms "
                      "in the naive module: a cost both modules pay, which no MAC count sees")
    if measured_ratio >= mac_ratio:
        text = (f"the measured speed-up {measured_ratio:.2f}x is not below the MAC ratio {mac_ratio:.2f}x")
    elif causes:
        text = f"{measured_ratio:.2f}x and not {mac_ratio:.2f}x: " + "; and ".join(causes)
        if conv_ratio >= mac_ratio:
            text += (f". Not the small 1x1 layers: among the convolutions alone the speed-up ({conv_ratio:.2f}x) "
                     "is not below the MAC ratio")
    else:
        text = (f"{measured_ratio:.2f}x and not {mac_ratio:.2f}x, but neither usual explanation holds: the "
                f"convolutions alone sped up {conv_ratio:.2f}x and MAC-free layers took only {free_share:.0%} of "
                "the time; the rest is measurement noise or overhead")
    return {"mac_ratio": mac_ratio, "measured": measured_ratio, "conv_ratio": conv_ratio, "free_share": free_share,
            "free": free, "convs": convs, "one": one, "big": big, "pool": pool, "layer_time": layer_time,
            "text": text}


reduced, naive = results[0], results[1]
plain = verdict(reduced, naive)
predicted_ratio = naive["predicted"] / reduced["predicted"]
print(f"MAC ratio (naive / reduced): {naive['report'].macs:,} / {reduced['report'].macs:,} = "
      f"{plain['mac_ratio']:.2f}x")
print(f"roofline-predicted speed-up: {predicted_ratio:.2f}x;  measured speed-up: {plain['measured']:.2f}x "
      f"(= {plain['mac_ratio']:.2f} x {reduced['whole'].gmacs_per_second:.1f} / "
      f"{naive['whole'].gmacs_per_second:.1f} GMAC/s, the two modules' rates)")

one, big = plain["one"], plain["big"]
print(f"\nIn the reduced module (sums of per-layer medians, {plain['layer_time'] * 1e3:.2f} ms in all):")
print(f"  its 1x1 convolutions: {one['macs'] / reduced['report'].macs:5.1%} of the MACs in "
      f"{one['seconds'] / plain['layer_time']:5.1%} of the time, {rate(one):5.1f} GMAC/s, intensity "
      f"{min(one['intensity']):.1f}-{max(one['intensity']):.1f} MACs/byte")
print(f"  its 3x3 and 5x5     : {big['macs'] / reduced['report'].macs:5.1%} of the MACs in "
      f"{big['seconds'] / plain['layer_time']:5.1%} of the time, {rate(big):5.1f} GMAC/s, intensity "
      f"{min(big['intensity']):.1f}-{max(big['intensity']):.1f} MACs/byte")
print(f"  its ReLUs and pool  :   0.0% of the MACs in {plain['free_share']:5.1%} of the time "
      f"({plain['free'][1]['seconds'] * 1e3:.2f} ms; the roofline allows {plain['free'][1]['predicted'] * 1e6:.0f} us)")
print(f"The naive module's ReLUs and pool took {plain['free'][0]['seconds'] * 1e3:.2f} ms. Convolutions alone: "
      f"naive {plain['convs'][0]['seconds'] * 1e3:.2f} ms, reduced {plain['convs'][1]['seconds'] * 1e3:.2f} ms, "
      f"a speed-up of {plain['conv_ratio']:.2f}x.")

worst = max(reduced["rows"], key=lambda row: row["measured"].seconds - row["seconds"])
print(f"Furthest above its roofline: {worst['name']} {worst['kind']}, {worst['measured'].seconds * 1e3:.2f} ms "
      f"measured against {worst['seconds'] * 1e6:.0f} us predicted.")
spreads = [r["whole"].spread[1] / r["whole"].spread[0] for r in results]
if max(spreads) > 2:
    print(f"(The slowest run of a module took {max(spreads):.1f}x its fastest: this machine is busy. Timings "
          "steady with --threads 1 and a larger --repeat.)")
if plain["measured"] >= plain["mac_ratio"]:
    print(f"\nThis run disagrees: {plain['text']}.")
else:
    print(f"\nWhy {plain['text']}.")

# %% [markdown]
# The plain route and the engine room, side by side
# -------------------------------------------------
#
# The plain max pooling (``conv1x1.functional``) walks the 9 positions of its window over strided
# views of the padded map and records, element by element, which position won (the backward pass
# needs it): it runs far above its roofline. The engine room's (``conv1x1.fast.maxpool2d_forward``)
# copies the map once into contiguous stride phases and takes the maxima there. Under
# ``with C.fast.enabled():`` every layer calls the engine room's functions where it has them (here the
# max pooling, ReLU's backward and the depthwise convolution; the 1x1 and the dense convolutions are the
# same code). Every leaf above was also timed that way, and the whole modules were timed in turns, plain
# and engine room alternating; the verdict is read again from the engine room's numbers.

# %%
fast = verdict(fast_results[0], fast_results[1])
routes = {"plain": plain, "engine room": fast}
print(f"{'route':<12} {'3x3 max pool':>12} {'x its roofline':>14} {'MAC-free share':>14} "
      f"{'convolutions alone':>18} {'whole module':>12}  (speed-ups naive / reduced; MAC ratio "
      f"{plain['mac_ratio']:.2f}x)")
for name, v in routes.items():
    pool = v["pool"]
    print(f"{name:<12} {pool['seconds'] * 1e3:>9.2f} ms {pool['seconds'] / pool['predicted']:>13.0f}x "
          f"{v['free_share']:>14.0%} {v['conv_ratio']:>17.2f}x {v['measured']:>11.2f}x")
for name, v in routes.items():
    print(f"{name}: {v['text']}.")
conv_ratios = (plain["conv_ratio"], fast["conv_ratio"])
if max(conv_ratios) > 1.1 * min(conv_ratios):
    print(f"The convolutions run the same code on both routes, so the gap between their two speed-ups "
          f"({conv_ratios[0]:.2f}x and {conv_ratios[1]:.2f}x) is this machine's noise: read both verdicts with "
          "that margin.")
pool_ratio = plain["pool"]["seconds"] / fast["pool"]["seconds"]
print(f"The engine room's max pooling ran {pool_ratio:.1f}x faster than the plain one in this run "
      f"({plain['pool']['seconds'] * 1e3:.2f} ms against {fast['pool']['seconds'] * 1e3:.2f} ms).")
if fast["measured"] > plain["measured"]:
    print(f"On the engine room the module's measured speed-up rises from {plain['measured']:.2f}x to "
          f"{fast['measured']:.2f}x (MAC ratio {plain['mac_ratio']:.2f}x): part of the plain route's gap to the MAC "
          "ratio was the plain max pooling, a layer both modules pay for and no MAC count sees.")
else:
    print(f"The module's measured speed-up did not rise on the engine room in this run ({plain['measured']:.2f}x "
          f"plain, {fast['measured']:.2f}x engine room): the max pooling was not what held it back here.")

# %% [markdown]
# The roofline plot
# -----------------
#
# x: intensity (MACs per byte), y: the rate each layer reached (GMAC/s), both log scale. The roof
# is min(GEMM rate, bandwidth x intensity): no point should lie above it. Layers without MACs (ReLU,
# pooling) reach 0 GMAC/s and cannot be drawn on a log axis; their times are in the tables above.

# %%
try:
    import matplotlib.pyplot as plt
except ImportError:          # the figures are optional: everything above still ran
    plt = None
    print('\nmatplotlib is not installed: no plot (in a clone: pip install -e ".[examples]")')

if plt is not None:
    fig, ax = plt.subplots(figsize=(8, 5))
    points = [row["intensity"] for result in results for row in result["rows"] if row["macs"]]
    xs = np.logspace(np.log10(min(points + [ridge]) / 4), np.log10(max(points) * 2), 200)
    peak = peaks.gmacs["float32"]
    ax.plot(xs, np.minimum(peak, peaks.gb_per_second * xs), "k-", label="roof (this machine, this run)")
    ax.axvline(ridge, color="gray", ls=":", lw=0.8)
    ax.text(ridge, peak * 1.08, f" ridge {ridge:.1f}", fontsize=7, color="gray")
    for marker, result in zip("os^D", results):
        rows = [row for row in result["rows"] if row["macs"]]
        ax.scatter([r["intensity"] for r in rows], [r["measured"].gmacs_per_second for r in rows],
                   marker=marker, label=result["title"])
        for r in rows:
            ax.annotate(f"{r['name']} {r['kind']}", (r["intensity"], r["measured"].gmacs_per_second),
                        fontsize=6.5, xytext=(3, 3), textcoords="offset points")
    ax.set(xscale="log", yscale="log", xlabel="arithmetic intensity (MACs per byte, float32)",
           ylabel="GMAC/s reached (median)", title="Inception 3a and a MobileNet block, layer by layer, "
                                                   "against this machine's roofline")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    if args.plot:
        fig.savefig(args.plot, dpi=120)
        print(f"\nsaved the roofline plot to {args.plot}")
    plt.show()
