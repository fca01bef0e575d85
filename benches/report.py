#!/usr/bin/env python3
"""Prints the tables of benches/README.md from criterion's results.

Run `cargo bench --bench compare` and `cargo bench --bench compare_mimalloc` first; this reads
target/criterion/<alloc>_<group>_<n>/<contender>/new/estimates.json and prints, for every
group and size, the median time per child and the ratios that the targets are stated in.
"""
import json
import os
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..", "target", "criterion")
SIZES = [1_000, 100_000, 1_000_000]
GROUPS = {
    "spawn_join": ["nursery", "nursery_awaited", "nursery_shielded", "raw_executor", "tokio_joinset", "futures_unordered"],
    "fail_fast": ["nursery", "raw_drop_all", "raw_cancel_loop", "tokio_abort_all"],
    "two_threads": ["nursery", "raw_executor"],
}
RATIOS = {
    "spawn_join": [("nursery", "raw_executor"), ("nursery_awaited", "raw_executor"), ("nursery_shielded", "raw_executor"),
                   ("nursery", "tokio_joinset"), ("nursery", "futures_unordered")],
    "fail_fast": [("nursery", "raw_cancel_loop"), ("nursery", "raw_drop_all"), ("nursery", "tokio_abort_all")],
    "two_threads": [("nursery", "raw_executor")],
}


def median_ns(alloc, group, n, contender):
    path = os.path.join(ROOT, f"{alloc}_{group}_{n}", contender, "new", "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)["median"]["point_estimate"]
    except FileNotFoundError:
        return None


def main():
    allocs = sys.argv[1:] or ["system", "mimalloc"]
    for alloc in allocs:
        for group, contenders in GROUPS.items():
            rows = []
            for n in SIZES:
                medians = {c: median_ns(alloc, group, n, c) for c in contenders}
                if all(v is None for v in medians.values()):
                    continue
                rows.append((n, medians))
            if not rows:
                continue
            print(f"\n#### {group}, {alloc} allocator (median ns per child)\n")
            ratio_names = [f"{a} / {b}" for a, b in RATIOS[group]]
            print("| N | " + " | ".join(contenders) + " | " + " | ".join(ratio_names) + " |")
            print("|---:|" + "---:|" * (len(contenders) + len(ratio_names)))
            for n, medians in rows:
                cells = [f"{medians[c] / n:.0f}" if medians[c] else "" for c in contenders]
                ratios = []
                for a, b in RATIOS[group]:
                    if medians.get(a) and medians.get(b):
                        ratios.append(f"{medians[a] / medians[b]:.2f}")
                    else:
                        ratios.append("")
                print(f"| {n:,} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")


if __name__ == "__main__":
    main()
