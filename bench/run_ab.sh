#!/usr/bin/env bash
# run_ab.sh: an A/B of builds of the same kernels in one device call, from the folder
# scripts/build_bench.sh made with TLC_AB or TLC_AB_SIDES set (bin/: that build, side A;
# ab_bin/B/, ab_bin/C/, ...: the other sides; carry .bench):
#   bash .bench/run_ab.sh               # every program the other sides have
#   bash .bench/run_ab.sh transpose     # only those whose name matches it (an extended
#                                         regex: "tma_explicit|batch_sum")
# The copy ceiling first, then AB_ROUNDS rounds (default 2) of each program, A then every
# other side back to back so that all meet the same clocks and neighbours; a step that would start
# past AB_BUDGET_S seconds (default 500) is skipped and said so. The BENCH rows go to
# ab.log beside this script (and $OUT when set), prefixed with the side and the round;
# ab.py prints the table: per row the median over rounds of each side, B's time over A's,
# both as % of the ceiling, and the general rows as % of their own side's aligned row.
# AB_DRY_RUN=1: here, no GPU: both sides against the mock libcuda (tests/gpu/mock), small
# sizes, to check the plumbing (the times mean nothing).
# Exit status: 0 when every row of both sides passed its check.
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# scripts/build_bench.sh packs the programs into bins.tar.xz (see there): unpack once.
if [ -f "$here/bins.tar.xz" ] && [ ! -d "$here/bin" ]; then
  tar -C "$here" -xJf "$here/bins.tar.xz" || { echo "cannot unpack $here/bins.tar.xz" >&2; exit 2; }
fi
filter="${1:-}"
rounds="${AB_ROUNDS:-2}"
budget="${AB_BUDGET_S:-500}"
log="$here/ab.log"
: >"$log"
started=$(date +%s)
elapsed() { echo $(( $(date +%s) - started )); }
if [ "${AB_DRY_RUN:-0}" = 1 ]; then
  export BENCH_DRY_RUN=1
  export LD_LIBRARY_PATH="$here/mock${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
sides=()
for d in "$here"/ab_bin/*/; do [ -d "$d" ] && sides+=("$(basename "$d")"); done
[ ${#sides[@]} -gt 0 ] || { echo "run_ab: no side in $here/ab_bin (build with TLC_AB=... scripts/build_bench.sh)" >&2; exit 2; }
echo "# run_ab: $(timeout 20 nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)" | tee -a "$log"
sed 's/^/# A: /' "$here/build_info.txt" >>"$log" 2>/dev/null
sed 's/^/# /' "$here/ab_info.txt" >>"$log" 2>/dev/null
timeout 60 "$here/bin/ceiling" 2>&1 | grep '^BENCH|' | sed 's/^/ceiling|0|/' >>"$log"
status=0
# Every program some side has (a side whose program is A's byte for byte has none).
programs=()
while IFS= read -r name; do
  [ -n "$name" ] || continue
  [ -n "$filter" ] && ! [[ "$name" =~ $filter ]] && continue
  programs+=("$name")
done < <(for side in "${sides[@]}"; do ls "$here/ab_bin/$side"; done | grep '^tlc_' | sort -u)
for round in $(seq 1 "$rounds"); do
  for name in "${programs[@]}"; do
    [ -x "$here/bin/$name" ] || { echo "# $name: no A side" | tee -a "$log"; continue; }
    for side in A "${sides[@]}"; do
      if [ "$(elapsed)" -gt "$budget" ]; then
        echo "# skipped: $name round $round side $side (past ${budget} s)" | tee -a "$log"
        continue
      fi
      program="$here/bin/$name"
      [ "$side" != A ] && program="$here/ab_bin/$side/$name"
      [ -x "$program" ] || { echo "# $name: no side $side" >>"$log"; continue; }
      timeout 120 "$program" >"$here/ab_step.txt" 2>&1 || status=1
      grep '^BENCH|' "$here/ab_step.txt" | sed "s/^/$side|$round|/" >>"$log"
      grep -q '"status": "FAIL"' "$here/ab_step.txt" && status=1
    done
  done
done
rm -f "$here/ab_step.txt"
[ -n "${OUT:-}" ] && cp "$log" "$OUT/"
sizes=""
[ "${AB_DRY_RUN:-0}" = 1 ] && sizes="--all-sizes"
python3 "$here/ab.py" $sizes "$log" || status=1
exit $status
