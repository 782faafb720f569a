#!/usr/bin/env bash
# gpu_sanitize.sh: compute-sanitizer's memcheck, racecheck and synccheck over every GPU
# test program, on the GPU machine. One command:
#
#   bash .gpu/gpu_sanitize.sh            # every test in .gpu/bin (build_gpu_tests.sh copies this script there)
#   bash .gpu/gpu_sanitize.sh tile_copy  # only tests whose name contains "tile_copy"
#   scripts/gpu_sanitize.sh              # from the repository: uses .gpu/
#
# Each checker runs each test once (`ceiling`, a bandwidth probe, is left out, and so is
# `python_package`: a Python interpreter with torch and torch.compile under the
# checkers tests torch more than tlc; its kernels are the C tests' own) with
# TLC_GPU_QUICK=1, so the timing loops launch once instead of 105 times. A test fails
# a checker when compute-sanitizer reports an error (--error-exitcode) or the test
# itself fails. Prints one line per test and checker, then one summary line per checker:
#   SANITIZE|memcheck|17 tests|0 errors|0 failed
# The full output goes to gpu_sanitize.log beside the tests (and to $OUT when set);
# gpu_sanitize.progress ($OUT when set) gets one line per run as it finishes.
# Environment: COMPUTE_SANITIZER (default: /usr/local/cuda/bin/compute-sanitizer, then
# PATH), TLC_SANITIZE_TIMEOUT (seconds per run, default 900), TLC_SANITIZE_TOOLS
# (default "memcheck racecheck synccheck"), TLC_SANITIZE_JOBS (runs at once, default 6:
# the checkers spend their time on the host, so separate processes share the GPU well).
# Exit status: 0 when every run was clean.
set -u
self="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ -d "$self/bin" ]; then here=$self; else here="$(cd "$self/.." && pwd)/.gpu"; fi
filter="${1:-}"
[ -d "$here/bin" ] || { echo "gpu_sanitize: no $here/bin (run scripts/build_gpu_tests.sh)" >&2; exit 2; }

cs=${COMPUTE_SANITIZER:-}
if [ -z "$cs" ]; then
  for candidate in /usr/local/cuda/bin/compute-sanitizer /usr/local/cuda/compute-sanitizer/compute-sanitizer \
                   "$(command -v compute-sanitizer 2>/dev/null)"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] && { cs=$candidate; break; }
  done
fi
[ -n "$cs" ] || { echo "gpu_sanitize: compute-sanitizer not found (set COMPUTE_SANITIZER)" >&2; exit 2; }

log="$here/gpu_sanitize.log"
: >"$log"
export TLC_GPU_QUICK=1
timeout_s=${TLC_SANITIZE_TIMEOUT:-900}
tools=${TLC_SANITIZE_TOOLS:-memcheck racecheck synccheck}
max_jobs=${TLC_SANITIZE_JOBS:-6}
results="$(mktemp -d)"
progress="${OUT:-$here}/gpu_sanitize.progress"
[ -d "$(dirname "$progress")" ] || progress="$here/gpu_sanitize.progress"
: >"$progress"
trap 'rm -rf "$results"' EXIT
echo "# $("$cs" --version 2>/dev/null | tail -1)" | tee -a "$log"

# One checker over one test: its output in $results/TOOL.NAME.out, and
# "exit-status error-count seconds" in $results/TOOL.NAME.res.
check_one() {
  local tool=$1 test=$2 name start out rc n
  name="$(basename "$test")"
  local extra=()
  [ "$tool" = memcheck ] && extra=(--leak-check full --check-device-heap yes)
  [ "$tool" = racecheck ] && extra=(--racecheck-report hazard)
  start=$(date +%s)
  out="$(timeout "$timeout_s" "$cs" --tool "$tool" --error-exitcode 99 "${extra[@]}" "$test" 2>&1)"
  rc=$?
  n="$(echo "$out" | grep -o 'ERROR SUMMARY: [0-9]* error' | grep -o '[0-9][0-9]*' | tail -1)"
  n=${n:-0}
  [ $rc -eq 99 ] && [ "$n" -eq 0 ] && n=1
  echo "$out" >"$results/$tool.$name.out"
  echo "$rc $n $(( $(date +%s) - start ))" >"$results/$tool.$name.res"
  # One line per finished run as it finishes, so a run cut short still says what it saw.
  echo "$tool $name exit=$rc errors=$n $(( $(date +%s) - start ))s" >>"$progress"
}

selected=()
for test in "$here"/bin/*; do
  name="$(basename "$test")"
  [ "$name" = ceiling ] || [ "$name" = python_package ] && continue
  [ -n "$filter" ] && [[ "$name" != *"$filter"* ]] && continue
  selected+=("$test")
done

for tool in $tools; do
  for test in "${selected[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$max_jobs" ]; do wait -n; done
    check_one "$tool" "$test" &
  done
done
wait

# The report, in a fixed order whatever order the runs finished in.
summaries=()
status=0
for tool in $tools; do
  tests=0 errors=0 failed=0
  for test in "${selected[@]}"; do
    name="$(basename "$test")"
    tests=$((tests + 1))
    read -r rc n seconds <"$results/$tool.$name.res"
    echo "== $tool $name" >>"$log"
    cat "$results/$tool.$name.out" >>"$log"
    errors=$((errors + n))
    verdict=clean
    if [ "$rc" -ne 0 ]; then
      failed=$((failed + 1))
      status=1
      case $rc in
        99) verdict="$n errors" ;;
        124) verdict="timed out after ${timeout_s}s" ;;
        *) verdict="test failed (exit $rc)" ;;
      esac
      grep -E '^========= (Invalid|Race|Barrier|Error|Program hit|Leaked|  )|^\s+(at|by) |FAIL' "$results/$tool.$name.out" | grep -v 'Host Frame' | head -8 |
        sed "s/^/[$tool $name] /"
    fi
    printf '%-10s %-36s %-24s %ss\n' "$tool" "$name" "$verdict" "$seconds" | tee -a "$log"
  done
  summaries+=("SANITIZE|$tool|$tests tests|$errors errors|$failed failed")
done
echo
printf '%s\n' "${summaries[@]}" | tee -a "$log"
[ -n "${OUT:-}" ] && [ -d "${OUT:-}" ] && cp "$log" "$OUT/" 2>/dev/null
exit $status
