#!/usr/bin/env python3
"""ab.py: the table of an A/B run (bench/run_ab.sh writes its log).

    python3 ab.py [--all-sizes] ab.log

Log lines: `SIDE|ROUND|BENCH|{json}` (SIDE A, B, or `ceiling`). Per row (op, what, shape)
of the large sizes (all sizes with --all-sizes: a dry run has small ones only): each side's median time over its rounds, B's time over A's (above 1:
B slower), each side as % of the copy ceiling measured in the same run, and a general
variant's row (odd extent, offset base) as % of its own side's aligned row. Rows whose
B/A is past 1% either way are listed after the table. Exit status 1 when a row failed
its check on either side.
"""
import json
import statistics
import sys


def main(path, all_sizes=False):
    rows = {}
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
        if row.get("status") != "PASS":
            failed.append(f"{side}: {row.get('what')} {row.get('shape')}: {row.get('status')}")
            continue
        if row.get("size") == "small" and not all_sizes:
            continue
        key = (row["op"], row["what"], row["shape"])
        entry = rows.setdefault(key, {"A": [], "B": [], "bytes": row["bytes"], "notes": {}})
        entry[side].append(row["ms"])
        entry["notes"][side] = row.get("note", "")
    for line in header:
        print(line)
    if ceiling_gbs:
        print(f"copy ceiling: {ceiling_gbs:.1f} GB/s (measured in this run)")
    print()
    print("| op | what | shape | A ms | B ms | B/A | A % ceiling | B % ceiling | A % aligned | B % aligned | variant (A / B) |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    aligned = {}
    for (op, what, shape), e in rows.items():
        for side in "AB":
            if e[side] and e["notes"].get(side, "").endswith("_aligned"):
                aligned[(op, what, side)] = statistics.median(e[side])
    moved = []
    for (op, what, shape), e in rows.items():
        if not e["A"] or not e["B"]:
            continue
        a, b = statistics.median(e["A"]), statistics.median(e["B"])
        pct = lambda ms: f"{100 * e['bytes'] / ms / 1e6 / ceiling_gbs:.1f}" if ceiling_gbs else "-"
        def of_aligned(side, ms):
            base = aligned.get((op, what, side))
            return "-" if base is None or e["notes"].get(side, "").endswith("_aligned") else f"{100 * base / ms:.1f}"
        ratio = b / a
        print(f"| {op} | {what} | {shape} | {a:.4f} | {b:.4f} | {ratio:.3f} | {pct(a)} | {pct(b)} | "
              f"{of_aligned('A', a)} | {of_aligned('B', b)} | {e['notes'].get('A', '')} / {e['notes'].get('B', '')} |")
        if abs(ratio - 1) > 0.01:
            moved.append(f"{what} {shape}: B {'slower' if ratio > 1 else 'faster'} by {abs(ratio - 1) * 100:.1f}%")
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
