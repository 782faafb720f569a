#!/usr/bin/env python3
"""ab.py: the table of an A/B run (bench/run_ab.sh writes its log).

    python3 ab.py [--all-sizes] ab.log

Log lines: `SIDE|ROUND|BENCH|{json}` (SIDE A, another side's name, or `ceiling`). Per
row (op, impl, what, shape) of the large sizes (all sizes with --all-sizes: a dry run
has small ones only): each side's median time over its rounds and, for every side but
A, its time over A's (above 1: slower than A); each side's rates as report.py computes
them for a run (% of the copy ceiling measured in the same run, and for a general
variant's row, whose `baseline` names its aligned row, % of that row on the same side).
Rows where a side's time is past 1% of A's either way are listed after the table.
Exit status 1 when a row failed its check on any side.
"""
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import add_rates, ceiling_of, peak_of  # noqa: E402  (beside this file, here and in .bench)


def key_of(row):
    return (row.get("op"), row.get("impl"), row.get("what"), row.get("shape"))


def main(path, all_sizes=False):
    ceiling_rows, timed, failed, header = [], {}, [], []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("#"):
            header.append(line)
            continue
        parts = line.split("|", 3)
        if len(parts) != 4 or parts[2] != "BENCH":
            continue
        side, _round, _, payload = parts
        row = json.loads(payload)
        if side == "ceiling":
            ceiling_rows.append(row)
            continue
        if row.get("status") != "PASS":
            failed.append(f"{side}: {row.get('what')} {row.get('shape')}: {row.get('status')}")
            continue
        if row.get("size") == "small" and not all_sizes:
            continue
        timed.setdefault(side, {}).setdefault(key_of(row), []).append(row)
    ceiling, _ = ceiling_of(ceiling_rows)
    peak = peak_of(ceiling_rows)
    # One row per side and key: the median time over the rounds, then report.py's rates.
    rated = {}
    for side, rows in timed.items():
        medians = []
        for runs in rows.values():
            row = dict(runs[0])
            row["ms"] = statistics.median(r["ms"] for r in runs)
            medians.append(row)
        add_rates(medians, ceiling, peak)
        rated[side] = {key_of(r): r for r in medians}
    sides = sorted(rated, key=lambda s: (s != "A", s))
    others = [s for s in sides if s != "A"]
    for line in header:
        print(line)
    if ceiling:
        print(f"copy ceiling: {ceiling:.1f} GB/s (measured in this run)")
    print()
    columns = ["op", "what", "shape"] + [f"{s} ms" for s in sides] + [f"{s}/A" for s in others]
    columns += [f"{s} % ceiling" for s in sides] + [f"{s} % aligned" for s in sides] + ["variants"]
    print("| " + " | ".join(columns) + " |")
    print("| " + " | ".join("---" if i < 3 or c == "variants" else "---:" for i, c in enumerate(columns)) + " |")
    moved = []
    for key, a in rated.get("A", {}).items():
        row = {s: rated[s].get(key) for s in sides}
        if not any(row[s] for s in others):
            continue
        op, _impl, what, shape = key
        cells = [op, what, shape]
        cells += [f"{row[s]['ms']:.4f}" if row[s] else "-" for s in sides]
        cells += [f"{row[s]['ms'] / a['ms']:.3f}" if row[s] else "-" for s in others]
        cells += [f"{row[s]['pct_of_ceiling']:.1f}" if row[s] and ceiling else "-" for s in sides]
        cells += [f"{row[s]['pct_of_aligned']:.1f}" if row[s] and row[s].get("baseline") else "-" for s in sides]
        cells.append(" / ".join(row[s].get("note", "?") if row[s] else "-" for s in sides))
        print("| " + " | ".join(cells) + " |")
        for s in others:
            if row[s] and abs(row[s]["ms"] / a["ms"] - 1) > 0.01:
                ratio = row[s]["ms"] / a["ms"]
                moved.append(f"{what} {shape}: {s} {'slower' if ratio > 1 else 'faster'} than A by {abs(ratio - 1) * 100:.1f}%")
    print()
    print("moved by more than 1%:" if moved else "no row moved by more than 1%")
    for m in moved:
        print(f"- {m}")
    for f in failed:
        print(f"FAILED {f}")
    return 1 if failed else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    all_sizes = "--all-sizes" in args
    args = [a for a in args if a != "--all-sizes"]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(args[0], all_sizes))
