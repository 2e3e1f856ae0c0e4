"""
Example 05: the cost of an Inception module, with and without 1x1 reductions
============================================================================

GoogLeNet's module "3a" takes a 28x28x192 map through four branches side by side (1x1; 3x3;
5x5; 3x3 max pool) and stacks their outputs along channels. The naive version (figure 2(a) of
the paper) runs the 3x3 and 5x5 convolutions straight on all 192 channels, and its pool branch
passes all 192 channels on, so the output gets thicker with every module. The real one puts 1x1
convolutions in front of the 3x3 and 5x5 (reductions) and after the pool (projection). The figure
at the end draws both modules, branch by branch, with channel widths and MACs from the counter.
Chapter: :doc:`/inception`.
"""

# %%
import argparse

from conv1x1.cost import human, inception_cost

parser = argparse.ArgumentParser(description="the cost of an Inception module, with and without 1x1 reductions")
args, _ = parser.parse_known_args()  # a notebook kernel passes arguments of its own: ignore them

widths = dict(n1x1=64, n3x3_reduce=96, n3x3=128, n5x5_reduce=16, n5x5=32, pool_proj=32)  # GoogLeNet 3a
naive = inception_cost(192, 28, 28, **widths, reductions=False)
reduced = inception_cost(192, 28, 28, **widths)
print(naive, end="\n\n")
print(reduced, end="\n\n")

# %% [markdown]
# Per branch
# ----------
#
# A report of a container is a tree: ``report.children`` holds one report per branch (each with its
# own totals), then the concatenation.

# %%
BRANCHES = ["1x1", "3x3", "5x5", "pool"]


def per_branch(report):
    """{branch: (params, MACs, output channels)} from the report's four branch sub-reports."""
    return {name: (branch.params, branch.macs, branch.out_shape[0])
            for name, branch in zip(BRANCHES, report.children[:4])}


print(f"{'branch':<7} {'naive MACs':>11} {'reduced MACs':>13} {'saving':>7}   "
      f"{'naive out C':>11} {'reduced out C':>13}")
naive_rows, reduced_rows = per_branch(naive), per_branch(reduced)
for branch in BRANCHES:
    (_, n_macs, n_c), (_, r_macs, r_c) = naive_rows[branch], reduced_rows[branch]
    saving = f"{n_macs / r_macs:.1f}x" if n_macs else "adds"   # the pool projection is new work
    print(f"{branch:<7} {human(n_macs):>11} {human(r_macs):>13} {saving:>7}   {n_c:>11} {r_c:>13}")
print(f"{'total':<7} {human(naive.macs):>11} {human(reduced.macs):>13} {naive.macs / reduced.macs:>6.1f}x   "
      f"{naive.out_shape[0]:>11} {reduced.out_shape[0]:>13}")

# %% [markdown]
# The reductions cut the module's multiply-adds by more than half and its parameters likewise, and
# keep the output at 256 channels instead of 416 (the naive pool branch alone passes on 192).
# The published GoogLeNet table lists 128M operations for this module: the same count.

# %%
print(f"\nparams: naive {naive.params:,}, reduced {reduced.params:,} ({naive.params / reduced.params:.1f}x fewer)")
print(f"MACs:   naive {naive.macs:,}, reduced {reduced.macs:,} ({naive.macs / reduced.macs:.1f}x fewer)")

# %% [markdown]
# The two modules, drawn
# ----------------------
#
# Each box is a layer of the report (ReLUs left out), with the depth it outputs and its MACs; each
# branch is headed by its total. The input is 28x28x192 in both; only the boxes' numbers differ.

# %%
try:
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch
except ImportError:          # the figures are optional: everything above still ran
    plt = None
    print('matplotlib is not installed: no figure (in a clone: pip install -e ".[examples]")')

COLOURS = {"1x1": "#f4a261", "kxk": "#6fa8dc", "other": "#93c47d"}


def draw_module(ax, report, title):
    """Boxes for every layer of each branch (bottom to top), the input below, the concatenation above."""
    def box(x, y, text, colour, w=0.9, h=0.78):
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02", fc=colour, ec="k", lw=0.8))
        ax.text(x, y, text, ha="center", va="center", fontsize=8.5)

    box(1.5, 0, "input 28x28x192", "#dddddd", w=3.8, h=0.6)
    for i, (name, branch) in enumerate(zip(BRANCHES, report.children[:4])):
        layers = [row for row in branch.layers if row.kind != "relu"]
        ax.annotate("", xy=(i, 0.55), xytext=(i, 0.3), arrowprops=dict(arrowstyle="->", lw=0.8))
        for level, row in enumerate(layers, start=1):
            kind = "other" if row.macs == 0 else ("1x1" if row.kind.endswith("1x1") else "kxk")
            box(i, level, f"{row.kind}\n-> {row.out_shape[0]} ch\n{human(row.macs)} MACs" if row.macs
                else f"{row.kind}\n-> {row.out_shape[0]} ch\nno MACs", COLOURS[kind])
        ax.annotate("", xy=(i, 3.2), xytext=(i, len(layers) + 0.42), arrowprops=dict(arrowstyle="->", lw=0.8))
        ax.text(i, 3.4, f"{name}: {human(branch.macs)} MACs", ha="center", fontsize=8.5, weight="bold")
    box(1.5, 4.0, f"concatenate: 28x28x{report.out_shape[0]}   ({human(report.macs)} MACs in all)", "#dddddd",
        w=3.8, h=0.6)
    ax.set(xlim=(-0.6, 3.6), ylim=(-0.5, 4.5), title=title)
    ax.axis("off")


if plt is not None:
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.2))
    draw_module(axes[0], naive, "naive module (no 1x1 reductions)")
    draw_module(axes[1], reduced, "GoogLeNet's module 3a (1x1 reductions and pool projection)")
    handles = [plt.Rectangle((0, 0), 1, 1, fc=c, ec="k") for c in COLOURS.values()]
    fig.legend(handles, ["1x1 convolution", "3x3 / 5x5 convolution", "max pooling"], loc="lower center", ncol=3,
               fontsize=8)
    fig.suptitle(f"Inception 3a on 28x28x192: {human(naive.macs)} MACs naive, {human(reduced.macs)} with 1x1 "
                 f"reductions ({naive.macs / reduced.macs:.1f}x fewer)")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    plt.show()
