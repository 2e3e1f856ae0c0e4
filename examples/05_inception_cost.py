# %% [markdown]
# # 5. The cost of an Inception module, with and without 1x1 reductions
#
# GoogLeNet's module "3a" takes a 28x28x192 map through four branches side by side (1x1; 3x3;
# 5x5; 3x3 max pool) and stacks their outputs along channels. The naive version (figure 2(a) of
# the paper) runs the 3x3 and 5x5 convolutions straight on all 192 channels, and its pool branch
# passes all 192 channels on, so the output gets thicker with every module. The real one puts 1x1
# convolutions in front of the 3x3 and 5x5 (reductions) and after the pool (projection).

# %%
from conv1x1.cost import human, inception_cost

widths = dict(n1x1=64, n3x3_reduce=96, n3x3=128, n5x5_reduce=16, n5x5=32, pool_proj=32)  # GoogLeNet 3a
naive = inception_cost(192, 28, 28, **widths, reductions=False)
reduced = inception_cost(192, 28, 28, **widths)
print(naive, end="\n\n")
print(reduced, end="\n\n")

# %% [markdown]
# ## Per branch
#
# A report of a container is a tree: `report.children` holds one report per branch (each with its
# own totals), then the concatenation.

# %%
BRANCHES = ["1x1", "3x3", "5x5", "pool"]


def per_branch(report):
    """{branch: (params, MACs, output channels)} from the report's four branch sub-reports."""
    return {name: (branch.params, branch.macs, branch.out_shape[0])
            for name, branch in zip(BRANCHES, report.children[:4])}


print(f"{'branch':<7} {'naive MACs':>11} {'reduced MACs':>13} {'saving':>7}   {'naive out C':>11} {'reduced out C':>13}")
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
