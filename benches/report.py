#!/usr/bin/env python3
"""Prints the tables of benches/README.md.

`python3 benches/report.py [ALLOC...]`: the criterion tables. Run `cargo bench --bench compare`
and `cargo bench --bench compare_mimalloc` first; this reads
target/criterion/<alloc>_<group>_<n>/<contender>/new/estimates.json and prints, for every
group and size, the median time per child and the ratios that the targets are stated in.

`python3 benches/report.py interleaved [LABEL:]LOG...`: the interleaved tables, from the saved
output of one or more runs (`cargo bench --bench compare | tee LOG`). Each cell is the median,
over the runs, of that run's median; each ratio the median of the runs' ratios (a ratio always
compares contenders of the same run). Logs given as `LABEL:LOG` (e.g. `old:run1.log`) are
reported in separate rows per label, which is how the before/after table is made.
"""
import json
import os
import re
import statistics
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..", "target", "criterion")
SIZES = [20, 1_000, 10_000, 100_000, 1_000_000]
GROUPS = {
    "spawn_join": ["nursery", "nursery_awaited", "nursery_shielded", "raw_executor", "tokio_joinset", "futures_unordered"],
    "fail_fast": ["nursery", "raw_drop_all", "raw_cancel_loop", "tokio_abort_all"],
    "two_threads": ["nursery", "raw_executor"],
    "start": ["nursery", "nursery_awaited", "raw_channel"],
    "scope": ["scope", "nursery"],
    "join_next": ["nursery", "raw_executor", "tokio_joinset"],
    "limit": ["nursery", "semaphore_raw", "buffer_unordered", "tokio_semaphore"],
    "reserve": ["nursery", "semaphore_raw"],
    "snapshot": ["snapshot", "snapshot_to_string"],
    "local": ["local_nursery", "raw_local_executor", "tokio_joinset_local", "nursery"],
    "static": ["static_nursery", "raw_static_executor", "nursery", "raw_executor"],
    "set": ["nursery_set", "tokio_joinset", "handles_unordered", "nursery"],
    "race": ["race_ok", "hand_written", "race_ok_stagger"],
}
RATIOS = {
    "spawn_join": [("nursery", "raw_executor"), ("nursery_awaited", "raw_executor"), ("nursery_shielded", "raw_executor"),
                   ("nursery", "tokio_joinset"), ("nursery", "futures_unordered")],
    "fail_fast": [("nursery", "raw_cancel_loop"), ("nursery", "raw_drop_all"), ("nursery", "tokio_abort_all")],
    "two_threads": [("nursery", "raw_executor")],
    "start": [("nursery", "raw_channel"), ("nursery_awaited", "raw_channel")],
    "scope": [("scope", "nursery")],
    "join_next": [("nursery", "tokio_joinset"), ("nursery", "raw_executor")],
    "limit": [("nursery", "semaphore_raw"), ("nursery", "buffer_unordered"), ("nursery", "tokio_semaphore")],
    "reserve": [("nursery", "semaphore_raw")],
    "snapshot": [],
    "local": [("local_nursery", "raw_local_executor"), ("local_nursery", "tokio_joinset_local"), ("local_nursery", "nursery")],
    "static": [("static_nursery", "nursery"), ("static_nursery", "raw_static_executor"), ("nursery", "raw_executor")],
    "set": [("nursery_set", "tokio_joinset"), ("nursery_set", "handles_unordered"), ("nursery_set", "nursery")],
    "race": [("race_ok", "hand_written"), ("race_ok_stagger", "race_ok")],
}
# Groups whose N counts something other than children (`snapshot`: snapshots, each of a
# nursery with 10 000 pending children).
UNITS = {"snapshot": "snapshot", "race": "attempt offered, 8 per race"}


def median_ns(alloc, group, n, contender):
    path = os.path.join(ROOT, f"{alloc}_{group}_{n}", contender, "new", "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)["median"]["point_estimate"]
    except FileNotFoundError:
        return None


LINE = re.compile(r"^(\w+)/(\w+)/(\d+): (.*) \|\s*(.*)$")


def interleaved(logs):
    """Prints the interleaved tables of the saved runs `logs` ([LABEL:]PATH each)."""
    # (group) -> (alloc, n, label) -> name -> [value per run]
    table = {}
    labels = []
    for arg in logs:
        label, _, path = arg.rpartition(":") if ":" in arg else ("", "", arg)
        if label not in labels:
            labels.append(label)
        with open(path) as f:
            for line in f:
                m = LINE.match(line.strip())
                if not m:
                    continue
                alloc, group, n, cells, ratios = m.groups()
                row = table.setdefault(group, {}).setdefault((alloc, int(n), label), {})
                for cell in (cells + (", " + ratios if ratios else "")).split(", "):
                    name, value = cell.rsplit(" ", 1)
                    row.setdefault(name, []).append(float(value))
    allocs = ["system", "mimalloc"]
    for group, rows in table.items():
        contenders = GROUPS[group]
        ratio_names = [f"{a}/{b}" for a, b in RATIOS[group]]
        with_label = any(labels)
        print(f"\n#### {group}: interleaved medians, ns per {UNITS.get(group, 'child')}\n")
        head = ["allocator", "N"] + (["code"] if with_label else []) + ["runs"]
        print("| " + " | ".join(head + contenders + ratio_names) + " |")
        print("|---|---:|" + ("---|" if with_label else "") + "---:|" * (1 + len(contenders) + len(ratio_names)))
        order = sorted(rows, key=lambda k: (allocs.index(k[0]) if k[0] in allocs else 9, k[1], labels.index(k[2])))
        for key in order:
            alloc, n, label = key
            row = rows[key]
            runs = len(row[contenders[0]])
            cells = [f"{statistics.median(row[c]):.0f}" for c in contenders]
            cells += [f"{statistics.median(row[r]):.2f}" for r in ratio_names]
            first = [alloc, f"{n:,}"] + ([label] if with_label else []) + [str(runs)]
            print("| " + " | ".join(first + cells) + " |")
    if len(labels) == 2:
        changes(table, labels, allocs)


def changes(table, labels, allocs):
    """For two labels (before, after): each contender's median after / before."""
    before, after = labels
    for group, rows in table.items():
        keys = sorted({(a, n) for a, n, l in rows if (a, n, before) in rows and (a, n, after) in rows},
                      key=lambda k: (allocs.index(k[0]) if k[0] in allocs else 9, k[1]))
        if not keys:
            continue
        contenders = GROUPS[group]
        print(f"\n#### {group}: {after} / {before}, medians of the runs' medians\n")
        print("| allocator | N | " + " | ".join(contenders) + " |")
        print("|---|---:|" + "---:|" * len(contenders))
        for alloc, n in keys:
            old, new = rows[(alloc, n, before)], rows[(alloc, n, after)]
            cells = [f"{statistics.median(new[c]) / statistics.median(old[c]):.2f}" for c in contenders]
            print(f"| {alloc} | {n:,} | " + " | ".join(cells) + " |")


def main():
    if sys.argv[1:2] == ["interleaved"]:
        interleaved(sys.argv[2:])
        return
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
            print(f"\n#### {group}, {alloc} allocator (median ns per {UNITS.get(group, 'child')})\n")
            ratio_names = [f"{a} / {b}" for a, b in RATIOS[group]]
            print("| N | " + " | ".join(contenders + ratio_names) + " |")
            print("|---:|" + "---:|" * (len(contenders) + len(ratio_names)))
            for n, medians in rows:
                cells = [f"{medians[c] / n:.0f}" if medians[c] else "" for c in contenders]
                ratios = []
                for a, b in RATIOS[group]:
                    if medians.get(a) and medians.get(b):
                        ratios.append(f"{medians[a] / medians[b]:.2f}")
                    else:
                        ratios.append("")
                print(f"| {n:,} | " + " | ".join(cells + ratios) + " |")


if __name__ == "__main__":
    main()
