"""
Example 16: a ReLU in too few channels loses the spiral (MobileNetV2's Figure 1)
================================================================================

Sandler, Howard, Zhu, Zhmoginov and Chen (2018), "MobileNetV2: Inverted Residuals and Linear
Bottlenecks", arXiv:1801.04381, Figure 1: a 2-D spiral is embedded in n dimensions by a random
matrix T (n x 2), passed through a ReLU, and projected back with the pseudo-inverse T^+. For small n
the spiral is lost; for n = 15 to 30 it comes back. This is why MobileNetV2's projecting 1x1
convolution, the one that ends in few channels, has no ReLU after it: the *linear bottleneck*.

Here the spiral's 300 points are one image of 2 channels and 1 x 300 pixels, shape (1, 2, 1, 300), so
that T is the weight of a 1x1 convolution from 2 channels to n, and T^+ that of a 1x1 convolution back
to 2. For every n the experiment is repeated with many random T, and the script prints how much of the
spiral each n kept. The figure (optional: needs matplotlib) draws one recovered spiral per n.
Chapter: :doc:`/today`.
"""

# %%
import argparse

import numpy as np

import conv1x1 as C

parser = argparse.ArgumentParser(description="MobileNetV2's Figure 1: a spiral through a random 1x1 "
                                             "convolution to n channels, a ReLU, and back")
parser.add_argument("--points", type=int, default=300, help="points on the spiral (default %(default)s)")
parser.add_argument("--draws", type=int, default=200, help="random matrices T per n (default %(default)s)")
parser.add_argument("--plot", metavar="FILE", help="also save the grid of spirals to FILE (needs matplotlib)")
args, _ = parser.parse_known_args()  # tolerate a notebook kernel's own arguments

WIDTHS = [2, 3, 5, 10, 15, 30]

# %% [markdown]
# The spiral, as a 2-channel image
# --------------------------------
#
# Two turns of a spiral around the origin: channel 0 holds the points' x coordinates, channel 1
# their y coordinates. Centred on the origin, so that a ReLU (which keeps only positive values)
# cuts through it whatever the direction.

# %%
t = np.linspace(0.5, 4 * np.pi, args.points)
spiral = np.stack([t * np.cos(t), t * np.sin(t)]) / (4 * np.pi)     # (2, P), radius up to 1
x = spiral[None, :, None, :]                                         # (1, 2, 1, P): N, C, H, W
print(f"spiral: {args.points} points as an image of shape {x.shape} (2 channels, 1 x {args.points} pixels)")

# %% [markdown]
# Embed, ReLU, project back: three calls of the library
# -----------------------------------------------------
#
# ``conv1x1_forward(x, T)`` takes every pixel's 2 channels to n channels (T: n x 2), ``relu_forward``
# keeps the positive ones, and ``conv1x1_forward(h, T^+)`` takes them back to 2 (T^+: 2 x n, the
# pseudo-inverse, ``np.linalg.pinv``). Without the ReLU the round trip gives back x exactly, since
# T^+ T = I for a T of rank 2.


# %%
def round_trip(x, T, relu=True):
    """x (1, 2, 1, P) -> 1x1 conv to n channels -> [ReLU] -> 1x1 conv back to 2 channels, with T^+."""
    h, _ = C.conv1x1_forward(x, T)                 # (1, n, 1, P)
    if relu:
        h, _ = C.relu_forward(h)
    back, _ = C.conv1x1_forward(h, np.linalg.pinv(T))
    return back, h


rng = np.random.default_rng(0)
T = rng.standard_normal((30, 2))
linear, _ = round_trip(x, T, relu=False)
print(f"n = 30 without the ReLU: max |T^+ T x - x| = {np.max(np.abs(linear - x)):.1e}")

# %% [markdown]
# Three measures of what the ReLU lost
# ------------------------------------
#
# A point is *lost* when fewer than 2 of its n channels are positive after T: the ReLU has left it
# at most one number, and no map, linear or not, can recover two coordinates from one.
#
# A point with 2 or more positive channels can be recovered exactly, by a map that knows which
# channels were positive: solve ``T_A x = h_A`` on those rows A alone (least squares over 2 unknowns).
# The script does so for every point not lost and prints the largest error: information kept.
#
# The paper's linear read-out T^+ is another matter. The *shape error* compares its spiral with the
# original after the best single scale factor a (``a = <x, x_hat> / <x_hat, x_hat>``): for a large
# n, ``ReLU(z) = (z + |z|) / 2`` and the ``|z|`` half averages out under T^+, so the round trip tends to
# x / 2, the spiral at half its size (a rises towards 2 in the table). The shape error is
# ``|a x_hat - x| / |x|``: 0 for a perfect (scaled) spiral, 1 when nothing of it survives.


# %%
def lost_fraction(h):
    """The share of pixels with fewer than 2 positive channels after the ReLU: h (1, n, 1, P)."""
    return float(np.mean(np.sum(h[0, :, 0, :] > 0, axis=0) < 2))


def recover_on_positive_channels(h, T):
    """x from the positive channels alone, for each pixel with at least 2 of them: (2, kept), (kept,) mask.

    On the rows A where T x > 0, h_A = T_A x; the normal equations T_A^T T_A x = T_A^T h_A are one 2 x 2
    system per pixel, and T_A^T h_A = T^T h because h is 0 off A.
    """
    z = h[0, :, 0, :]                                      # (n, P)
    active = (z > 0).astype(float)                         # (n, P): 1 on A
    kept = active.sum(axis=0) >= 2
    gram = np.einsum("ip,ij,ik->pjk", active, T, T)        # (P, 2, 2): T_A^T T_A per pixel
    rhs = (T.T @ z).T                                      # (P, 2): T^T h per pixel
    ok = kept & (np.abs(np.linalg.det(gram)) > 1e-12)
    return np.linalg.solve(gram[ok], rhs[ok][:, :, None])[:, :, 0].T, ok


def shape_error(back, x):
    """|a * back - x| / |x| with the best scale a (least squares); 1.0 when back is all zeros."""
    denom = np.sum(back * back)
    scale = np.sum(back * x) / denom if denom > 0 else 0.0
    return float(np.linalg.norm(scale * back - x) / np.linalg.norm(x)), float(scale)


results, exact = {}, {}
for n in WIDTHS:
    draws = np.random.default_rng(n)
    rows, worst = [], 0.0
    for _ in range(args.draws):
        T = draws.standard_normal((n, 2))
        back, h = round_trip(x, T)
        error, scale = shape_error(back, x)
        rows.append((lost_fraction(h), error, scale))
        recovered, ok = recover_on_positive_channels(h, T)
        if ok.any():
            worst = max(worst, float(np.max(np.abs(recovered - spiral[:, ok]))))
    results[n], exact[n] = np.array(rows), worst

print(f"\n{args.draws} random T per n; medians, with the middle half of the draws in brackets")
print(f"{'n':>3}  {'points lost':>21}  {'T^+ shape error':>21}  {'best scale a':>12}  "
      f"{'max error, points not lost':>26}")
for n, r in results.items():
    q = np.percentile(r, [25, 50, 75], axis=0)            # (3, 3): quartiles of each column
    print(f"{n:>3}  {q[1, 0]:>6.1%} ({q[0, 0]:>5.1%}-{q[2, 0]:>5.1%})  {q[1, 1]:>7.3f} ({q[0, 1]:.3f}-{q[2, 1]:.3f})"
          f"  {q[1, 2]:>12.2f}  {exact[n]:>26.1e}")

# %% [markdown]
# The trend, read from the table
# ------------------------------

# %%
lost = [float(np.median(results[n][:, 0])) for n in WIDTHS]
errors = [float(np.median(results[n][:, 1])) for n in WIDTHS]
falling = all(a >= b for a, b in zip(errors, errors[1:]))
none_lost = [n for n, share in zip(WIDTHS, lost) if share == 0]
print("\nmedian share of points lost: " + ", ".join(f"{share:.1%} (n = {n})" for n, share in zip(WIDTHS, lost)))
worst = max(exact.values())
if none_lost:
    print(f"from n = {none_lost[0]} the median draw loses no point; every point not lost, in every draw, came back "
          f"from its positive channels alone to within {worst:.0e}: the information is still there")
print(f"the T^+ read-out's median shape error {'falls at every step' if falling else 'does not fall at every step'}"
      f" from n = {WIDTHS[0]} to n = {WIDTHS[-1]}: " + ", ".join(f"{e:.3f}" for e in errors)
      + f"; at n = {WIDTHS[-1]} the linear read-out still leaves an error of {errors[-1]:.2f}")
print(f"a ReLU in {WIDTHS[0]} or {WIDTHS[1]} channels destroys the spiral ({lost[0]:.0%} and {lost[1]:.0%} of the "
      "points lost in the median draw); in many channels it keeps it: the paper's Figure 1")

# %% [markdown]
# The figure: one recovered spiral per n (first random T of each n)
# -----------------------------------------------------------------

# %%
try:
    import matplotlib.pyplot as plt
except ImportError:          # the figures are optional: everything above still ran
    plt = None
    print('\nmatplotlib is not installed: no figure (in a clone: pip install -e ".[examples]")')

if plt is not None:
    fig, axes = plt.subplots(1, len(WIDTHS) + 1, figsize=(14, 2.6))
    axes[0].plot(spiral[0], spiral[1], ".", ms=2, color="k")
    axes[0].set_title("input", fontsize=9)
    for ax, n in zip(axes[1:], WIDTHS):
        T = np.random.default_rng(n).standard_normal((n, 2))   # the first draw of the table above
        back, _ = round_trip(x, T)
        ax.scatter(back[0, 0, 0], back[0, 1, 0], s=2, c=t, cmap="viridis")
        ax.set_title(f"n = {n}: {results[n][0, 0]:.0%} lost, error {results[n][0, 1]:.2f}", fontsize=8)
    for ax in axes:
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xticks([]), ax.set_yticks([])
    fig.suptitle("T^+ ReLU(T x): a spiral through n channels and back (MobileNetV2, Figure 1)", fontsize=10)
    fig.tight_layout()
    if args.plot:
        fig.savefig(args.plot, dpi=110)
        print(f"\nfigure saved to {args.plot}")
    plt.show()
