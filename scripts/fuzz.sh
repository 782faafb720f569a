#!/usr/bin/env bash
# fuzz.sh: runs the libFuzzer targets (tests/fuzz): the frontend, sema and lowering
# (fuzz_frontend, fuzz_frontend_tokens), then the backend (fuzz_backend: LLVM codegen
# with its verifier, PTX, the header writer).
#
#   scripts/fuzz.sh [--build DIR] [--seconds N] [--backend-seconds N] [--seed N] [--corpus DIR]
#
# --build            a build dir configured with -DTLC_FUZZ=ON (default: build-asan, which
#                    scripts/test.sh makes); it must hold the three targets
# --seconds          time for the two frontend targets, split between them
#                    (default: $TLC_FUZZ_SECONDS or 60; 0 skips them)
# --backend-seconds  time for fuzz_backend (default: $TLC_FUZZ_BACKEND_SECONDS or 45;
#                    0 skips it)
# --seed             libFuzzer's -seed (CI passes 1, so a bounded run is mostly reproducible)
# --corpus           keep the corpora grown here (default: a temporary directory); the
#                    backend's goes to its own subdirectory, DIR/backend
#
# Seeds: every .tl file in the repository and in ../shared/spec/examples. A crash, a
# sanitizer report, a timeout (-timeout=10 s per input) or memory past -rss_limit_mb
# fails the run; the reproducer is written under DIR/fuzz-artifacts/, and
# `DIR/tests/fuzz/TARGET FILE` replays it. Each target's last line gives the executions.
# Then the headers of fuzz_backend's newest corpus entries (what this run found new),
# then the largest seeds: the headers of the first $TLC_FUZZ_HEADER_INPUTS (default 10)
# that reach the header writer are compiled by gcc and g++ (scripts/fuzz_headers.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$ROOT/build-asan
seconds=${TLC_FUZZ_SECONDS:-60}
backend_seconds=${TLC_FUZZ_BACKEND_SECONDS:-45}
seed=0
corpus=
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --backend-seconds) backend_seconds=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --corpus) corpus=$2; shift 2 ;;
    *) echo "fuzz.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
# Whole seconds only: libFuzzer reads -max_total_time=0 as "no limit", so 0 skips
# the targets here instead of reaching it.
for value in "$seconds" "$backend_seconds"; do
  case "$value" in
    '' | *[!0-9]*) echo "fuzz.sh: '$value' is not a whole number of seconds" >&2; exit 2 ;;
  esac
done
targets=()
[ "$seconds" = 0 ] || targets+=(fuzz_frontend fuzz_frontend_tokens)
[ "$backend_seconds" = 0 ] || targets+=(fuzz_backend)
[ ${#targets[@]} -gt 0 ] || { echo "fuzz.sh: both budgets are 0: nothing to run" >&2; exit 2; }
for target in "${targets[@]}"; do
  [ -x "$build/tests/fuzz/$target" ] || { echo "fuzz.sh: no $build/tests/fuzz/$target (configure with -DTLC_FUZZ=ON)" >&2; exit 2; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/seeds"
n=0
while IFS= read -r -d '' file; do
  n=$((n + 1))
  cp "$file" "$tmp/seeds/$n.tl"
done < <(find "$ROOT/examples" "$ROOT/tests" "$ROOT/../shared/spec/examples" -name '*.tl' -print0 2>/dev/null)
[ -n "$corpus" ] || corpus=$tmp/corpus
mkdir -p "$corpus" "$build/fuzz-artifacts"

# Leak checking stays on: the phases own their memory, and fuzz_backend frees each
# input's LLVM module and context (what LLVM keeps for the process is still reachable).
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
half=$(( (seconds + 1) / 2 ))
status=0
for target in "${targets[@]}"; do
  budget=$half
  dir=$corpus
  if [ "$target" = fuzz_backend ]; then
    # Its own corpus: what is new coverage for the backend is not for the frontend.
    budget=$backend_seconds
    dir=$corpus/backend
    mkdir -p "$dir"
  fi
  echo "fuzz.sh: $target for ${budget}s over $n seed files (seed $seed)"
  log=$tmp/$target.log
  if ! "$build/tests/fuzz/$target" -max_total_time="$budget" -seed="$seed" -timeout=10 -rss_limit_mb=2048 \
         -max_len=16384 -dict="$ROOT/tests/fuzz/tl.dict" -print_final_stats=1 \
         -artifact_prefix="$build/fuzz-artifacts/$target-" "$dir" "$tmp/seeds" >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz.sh: $target FAILED; reproducer in $build/fuzz-artifacts/" >&2
    status=1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  rss=$(grep -o 'stat::peak_rss_mb: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  echo "fuzz.sh: $target: $runs executions, peak RSS ${rss} MB, corpus $(find "$dir" -maxdepth 1 -type f | wc -l) files"
done
if [ "$backend_seconds" != 0 ]; then
  # New corpus entries first; a short run may find none (the seeds take most of it),
  # so seeds fill up to the count (their sm_80 + sm_90a headers are compiled nowhere else).
  want=${TLC_FUZZ_HEADER_INPUTS:-10}
  inputs=()
  while IFS= read -r f; do inputs+=("$corpus/backend/$f"); done < <(ls -t "$corpus/backend" | head -n "$want")
  while IFS= read -r f; do inputs+=("$f"); done < <(ls -S "$tmp"/seeds/*.tl)
  "$ROOT/scripts/fuzz_headers.sh" --build "$build" --max "$want" "${inputs[@]}" || status=1
fi
exit $status
