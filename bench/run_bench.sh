#!/usr/bin/env bash
# run_bench.sh: runs the performance suite and prints one markdown table.
#
# On the GPU machine, from the folder scripts/build_bench.sh made (carry .bench):
#   bash .bench/run_bench.sh              # everything
#   bash .bench/run_bench.sh tile_copy    # only the tlc programs whose name contains it
#                                         # (the ceiling and all peers still run)
#   bash .bench/run_bench.sh --dry-run    # here, no GPU: the host programs against the
#                                         # mock libcuda, small sizes, peers as far as
#                                         # torch/triton import (add --cpu-peers to run
#                                         # them on the CPU with Triton's interpreter)
# Steps: the device-to-device copy ceiling (bin/ceiling), every tlc program (bin/tlc_*),
# the torch and Triton peers (peers.py), then report.py: the table on stdout, the JSON
# in bench.json beside this script and in $OUT/bench.json when $OUT is set; the full
# log in bench.log (and $OUT). Each step has a time limit, and the whole run stays
# inside BENCH_BUDGET_S seconds (default 420, for an 8-minute slot): a step that would
# start past it is skipped and says so. Exit status: 0 when no row failed.
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# scripts/build_bench.sh packs the programs into bins.tar.xz (see there): unpack once.
if [ -f "$here/bins.tar.xz" ] && [ ! -d "$here/bin" ]; then
  tar -C "$here" -xJf "$here/bins.tar.xz" || { echo "cannot unpack $here/bins.tar.xz" >&2; exit 2; }
fi
dry=0
cpu_peers=0
filter=""
for arg in "$@"; do
  case "$arg" in
    --dry-run) dry=1 ;;
    --cpu-peers) cpu_peers=1 ;;
    -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) filter="$arg" ;;
  esac
done
export PYTHONUNBUFFERED=1
budget="${BENCH_BUDGET_S:-420}"
started=$(date +%s)
rows="$here/rows.txt"
log="$here/bench.log"
: >"$rows"
: >"$log"
status=0
python="$(command -v python3 || command -v python || true)"

say() { echo "$*" | tee -a "$log" >&2; }
elapsed() { echo $(( $(date +%s) - started )); }

if [ $dry -eq 1 ]; then
  export BENCH_DRY_RUN=1
  export LD_LIBRARY_PATH="$here/mock${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  device="CPU rehearsal (tests/gpu/mock libcuda: no GPU, times mean nothing)"
else
  device="$(timeout 20 nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)"
  device="${device:-unknown GPU (nvidia-smi gave nothing)}"
fi
say "# run_bench: $device; $(cat "$here/build_info.txt" 2>/dev/null | tr '\n' ' ')"

# run_step NAME LIMIT_S COMMAND...: runs one step under a time limit, keeps its BENCH
# rows, logs the rest, and records a crash or a timeout as a FAIL row.
run_step() {
  local name="$1" limit="$2"
  shift 2
  local left=$(( budget - $(elapsed) ))
  if [ "$left" -lt 20 ]; then
    say "== $name: skipped, the run's time budget (${budget} s) is spent"
    echo "BENCH|{\"op\": \"(skipped)\", \"impl\": \"-\", \"what\": \"$name\", \"shape\": \"-\", \"size\": \"large\", \"status\": \"skipped: time budget spent\", \"ms\": 0, \"bytes\": 0}" >>"$rows"
    return
  fi
  [ "$limit" -gt "$left" ] && limit="$left"
  say "== $name (limit ${limit} s, $(elapsed) s into the run)"
  local start=$(date +%s) output rc
  output="$(timeout -k 10 "$limit" "$@" 2>&1)"
  rc=$?
  echo "$output" >>"$log"
  echo "$output" | grep '^BENCH|' >>"$rows"
  echo "$output" | grep '^# ' >&2
  say "   exit $rc after $(( $(date +%s) - start )) s"
  if [ $rc -ne 0 ]; then
    status=1
    echo "$output" | grep -v '^BENCH|' | grep -v '^# ' | tail -8 | sed "s/^/   [$name] /" >&2
    if [ $rc -ne 1 ]; then  # 1: rows failed (they say so); anything else: it died
      local why="crashed (exit $rc)"
      [ $rc -eq 124 ] || [ $rc -eq 137 ] && why="timed out after ${limit} s"
      echo "BENCH|{\"op\": \"(crashed)\", \"impl\": \"-\", \"what\": \"$name\", \"shape\": \"-\", \"size\": \"large\", \"status\": \"FAIL: $why\", \"ms\": 0, \"bytes\": 0}" >>"$rows"
    fi
  fi
}

run_step ceiling 60 "$here/bin/ceiling"
for program in "$here"/bin/tlc_*; do
  [ -x "$program" ] || continue
  name="$(basename "$program")"
  [ -n "$filter" ] && [[ "$name" != *"$filter"* ]] && continue
  run_step "$name" 150 "$program"
done

peer_args=()
[ $dry -eq 1 ] && peer_args+=(--dry-run)
[ $cpu_peers -eq 1 ] && peer_args+=(--cpu)
if [ -n "$python" ]; then
  run_step peers 300 "$python" "$here/peers.py" "${peer_args[@]}"
else
  say "== peers: skipped, no python3"
fi

json_args=(--json "$here/bench.json")
if [ -n "${OUT:-}" ] && [ -d "${OUT:-}" ]; then json_args+=(--json "$OUT/bench.json"); fi
echo
if [ -n "$python" ]; then
  "$python" "$here/report.py" "$rows" --not-compiled "$here/not_compiled.txt" --build-failed "$here/build_failed.txt" \
    --device "$device" --command "bash .bench/run_bench.sh${*:+ $*}" "${json_args[@]}"
  [ $? -eq 0 ] || status=1
else
  echo "no python3: the raw rows are in $rows"
  cat "$rows"
fi
echo
echo "run_bench: $(elapsed) s; log: $log"
if [ -n "${OUT:-}" ] && [ -d "${OUT:-}" ]; then cp "$log" "$rows" "$OUT/" 2>/dev/null; fi
exit $status
