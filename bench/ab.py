#!/usr/bin/env python3
"""ab.py: the table of an A/B run (bench/run_ab.sh writes its log).

    python3 ab.py [--all-sizes] ab.log

Log lines: `SIDE|ROUND|BENCH|{json}` (SIDE A, another side's name, or `ceiling`). Per
row (op, what, shape) of the large sizes (all sizes with --all-sizes: a dry run has
small ones only): each side's median time over its rounds and, for every side but A,
its time over A's (above 1: slower than A); each side as % of the copy ceiling
measured in the same run, and a general variant's row (odd extent, offset base) as %
of its own side's aligned row. Rows where a side's time is past 1% of A's either way
are listed after the table. Exit status 1 when a row failed its check on any side.
"""
import json
import statistics
import sys


def main(path, all_sizes=False):
    rows = {}
    sides = []
    ceiling_gbs = None
    failed = []
    header = []
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
            ceiling_gbs = row["bytes"] / row["ms"] / 1e6
            continue
        if side not in sides:
            sides.append(side)
        if row.get("status") != "PASS":
            failed.append(f"{side}: {row.get('what')} {row.get('shape')}: {row.get('status')}")
            continue
        if row.get("size") == "small" and not all_sizes:
            continue
        key = (row["op"], row["what"], row["shape"])
        entry = rows.setdefault(key, {"ms": {}, "bytes": row["bytes"], "notes": {}})
        entry["ms"].setdefault(side, []).append(row["ms"])
        entry["notes"][side] = row.get("note", "")
    sides.sort(key=lambda s: (s != "A", s))
    others = [s for s in sides if s != "A"]
    for line in header:
        print(line)
    if ceiling_gbs:
        print(f"copy ceiling: {ceiling_gbs:.1f} GB/s (measured in this run)")
    print()
    columns = ["op", "what", "shape"] + [f"{s} ms" for s in sides] + [f"{s}/A" for s in others]
    columns += [f"{s} % ceiling" for s in sides] + [f"{s} % aligned" for s in sides] + ["variants"]
    print("| " + " | ".join(columns) + " |")
    print("| " + " | ".join("---" if i < 3 or c == "variants" else "---:" for i, c in enumerate(columns)) + " |")
    median = {key: {s: statistics.median(v) for s, v in e["ms"].items()} for key, e in rows.items()}
    aligned = {}
    for (op, what, shape), e in rows.items():
        for side, ms in median[(op, what, shape)].items():
            if e["notes"].get(side, "").endswith("_aligned"):
                aligned[(op, what, side)] = ms
    moved = []
    for key, e in rows.items():
        op, what, shape = key
        times = median[key]
        if "A" not in times or not any(s in times for s in others):
            continue
        cells = [op, what, shape]
        cells += [f"{times[s]:.4f}" if s in times else "-" for s in sides]
        cells += [f"{times[s] / times['A']:.3f}" if s in times else "-" for s in others]
        cells += [f"{100 * e['bytes'] / times[s] / 1e6 / ceiling_gbs:.1f}" if s in times and ceiling_gbs else "-"
                  for s in sides]
        for s in sides:
            base = aligned.get((op, what, s))
            general = s in times and base is not None and not e["notes"].get(s, "").endswith("_aligned")
            cells.append(f"{100 * base / times[s]:.1f}" if general else "-")
        cells.append(" / ".join(e["notes"].get(s, "?") for s in sides))
        print("| " + " | ".join(cells) + " |")
        for s in others:
            if s in times and abs(times[s] / times["A"] - 1) > 0.01:
                ratio = times[s] / times["A"]
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
