#!/usr/bin/env bash
# run_all.sh: runs every GPU test in this folder and prints one markdown table.
#
# Runs on the GPU machine, from the folder scripts/build_gpu_tests.sh made (.gpu/):
#   bash .gpu/run_all.sh            # all tests
#   bash .gpu/run_all.sh tile_copy  # only tests whose name contains "tile_copy"
#   RUN_ALL_BUDGET_S=300 bash .gpu/run_all.sh   # stop starting tests after 300 s
# With a budget (a device call has a time limit) a test gets at most the seconds left,
# a test that would start past it is not run and gets a NOT RUN row, and the table of
# what did run is still printed: a call's `timeout` around the runner would lose it.
# A run with NOT RUN rows is no pass (exit status 1, "NOT ALL RUN").
# First `ceiling` measures the D2D copy bandwidth (512 MiB) once; every test gets it in
# TLC_CEILING_GBS and reports its GB/s as a percentage of it. The full log goes to
# run_all.log beside this script (and to $OUT when that is set). Exit status: 0 when
# every row passed and no test crashed.
# Nothing passes by being absent: configs.txt (written by build_gpu_tests.sh) names
# every program that was asked for; one whose binary is missing (it failed to build),
# one that exits 0 without a RESULT row, and one that fails without a FAIL row each
# get a FAIL row of their own. Without configs.txt the runner refuses to run.
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
filter="${1:-}"
log="$here/run_all.log"
: >"$log"
rows="$here/rows.txt"
: >"$rows"
status=0
budget="${RUN_ALL_BUDGET_S:-0}"
case "$budget" in
  '' | *[!0-9]*) echo "run_all: RUN_ALL_BUDGET_S='$budget' is not a number of seconds" >&2; exit 2 ;;
esac
started=$(date +%s)
not_run=0

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | sed 's/^/# GPU: /' | tee -a "$log"

configs="$here/configs.txt"
if [ ! -f "$configs" ]; then
  echo "run_all: no $configs (rebuild .gpu with scripts/build_gpu_tests.sh)" | tee -a "$log"
  echo "SOME FAILED (details: $log)"
  exit 1
fi
# fail_row <name> <why>: a row of its own for a program that reported nothing usable.
fail_row() { echo "RESULT|$1|($2)|FAIL|-|-|-|-|-" >>"$rows"; status=1; }
# seconds_left: what is left of RUN_ALL_BUDGET_S (600, a test's own limit, without one).
seconds_left() {
  if [ "$budget" -gt 0 ]; then echo $(( budget - ($(date +%s) - started) )); else echo 600; fi
}

ceiling=""
if [ ! -x "$here/bin/ceiling" ]; then
  echo "ceiling: no binary; percentages are left out" | tee -a "$log"
  fail_row ceiling "binary missing: failed to build"
else
  ceiling_out="$("$here/bin/ceiling" 2>&1)"
  echo "$ceiling_out" >>"$log"
  ceiling="$(echo "$ceiling_out" | sed -n 's/^CEILING|//p')"
  if [ -z "$ceiling" ]; then
    echo "ceiling: failed to measure; percentages are left out" | tee -a "$log"
    echo "$ceiling_out"
    fail_row ceiling "no CEILING row"
  else
    export TLC_CEILING_GBS="$ceiling"
    echo "$ceiling_out" | grep '^RESULT|' >>"$rows"
  fi
fi

# The programs asked for, in build order, then any other binary found in bin/.
names=()
while IFS= read -r name; do [ -n "$name" ] && names+=("$name"); done <"$configs"
for test in "$here"/bin/*; do
  [ -e "$test" ] || continue
  name="$(basename "$test")"
  grep -qxF "$name" "$configs" || names+=("$name")
done

for name in "${names[@]}"; do
  test="$here/bin/$name"
  [ "$name" = ceiling ] && continue
  [ -n "$filter" ] && [[ "$name" != *"$filter"* ]] && continue
  echo "== $name" >>"$log"
  if [ ! -x "$test" ]; then
    echo "[$name] no binary: it failed to build (see build.log)" | tee -a "$log"
    fail_row "$name" "binary missing: failed to build"
    continue
  fi
  limit=$(seconds_left)
  [ "$limit" -gt 600 ] && limit=600
  if [ "$limit" -lt 5 ]; then
    echo "RESULT|$name|(not run: past RUN_ALL_BUDGET_S=$budget s)|NOT RUN|-|-|-|-|-" >>"$rows"
    echo "(not run: past the budget)" >>"$log"
    not_run=$((not_run + 1))
    continue
  fi
  start=$(date +%s)
  out="$(timeout "$limit" "$test" 2>&1)"
  rc=$?
  echo "$out" >>"$log"
  echo "(exit $rc after $(( $(date +%s) - start )) s)" >>"$log"
  echo "$out" | grep '^RESULT|' >>"$rows"
  if [ $rc -eq 124 ] && [ "$limit" -lt 600 ]; then
    # Stopped by the budget, not by its own 600 s: what it finished stands, the rest
    # did not run.
    echo "RESULT|$name|(cut short at RUN_ALL_BUDGET_S=$budget s)|NOT RUN|-|-|-|-|-" >>"$rows"
    not_run=$((not_run + 1))
  elif [ $rc -ne 0 ]; then
    status=1
    # Show why: the lines that are no result rows (mismatches, driver errors).
    echo "$out" | grep -v '^RESULT|' | head -10 | sed "s/^/[$name] /"
    if [ $rc -eq 124 ]; then
      fail_row "$name" "timed out after $limit s"
    elif [ $rc -ne 1 ]; then
      fail_row "$name" "crashed, exit $rc"
    elif ! echo "$out" | grep -q '^RESULT|.*|FAIL|'; then
      fail_row "$name" "exit 1 without a FAIL row"
    fi
  elif ! echo "$out" | grep -q '^RESULT|'; then
    echo "[$name] exited 0 but printed no RESULT row" | tee -a "$log"
    fail_row "$name" "exit 0 without a RESULT row"
  fi
done
# A FAIL row fails the run even when its program exited 0.
grep -q '^RESULT|[^|]*|[^|]*|FAIL|' "$rows" && status=1

echo
echo "| test | shape | result | max err | ms | GB/s | % of D2D copy | variant |"
echo "| --- | --- | --- | ---: | ---: | ---: | ---: | --- |"
sed 's/^RESULT|//; s/|/ | /g; s/^/| /; s/$/ |/' "$rows"
echo
if [ -n "$ceiling" ]; then echo "D2D copy ceiling: $ceiling GB/s (cuMemcpyDtoDAsync, 512 MiB, reads + writes)."; fi
if [ $not_run -gt 0 ]; then echo "NOT ALL RUN: $not_run programs past the budget of $budget s"; fi
if [ $status -ne 0 ]; then echo "SOME FAILED (details: $log)"; elif [ $not_run -eq 0 ]; then echo "ALL PASS"; fi
[ $not_run -gt 0 ] && status=1
if [ -n "${OUT:-}" ] && [ -d "${OUT:-}" ]; then cp "$log" "$OUT/" 2>/dev/null; fi
exit $status
