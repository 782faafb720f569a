#!/usr/bin/env bash
# lineinfo_check.sh: -lineinfo end to end on the GPU machine (issue 24). Runs the
# kernel broken on purpose (tests/gpu/kernels/lineinfo_broken.tl, built with -lineinfo
# into .gpu/debug/ by build_gpu_tests.sh) under compute-sanitizer's memcheck, which must
# report its out-of-bounds store at lineinfo_broken.tl:9, and under Nsight Compute with
# the source page printed, which must show lines of the .tl file. One RESULT row each
# (SKIP where the tool is missing); exit 1 when a row fails.
#
#   bash .gpu/lineinfo_check.sh
# Environment: COMPUTE_SANITIZER, NCU (default: /usr/local/cuda/bin/..., then PATH).
set -u
self="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ -d "$self/debug" ]; then here=$self; else here="$(cd "$self/.." && pwd)/.gpu"; fi
debug="$here/debug"
status=0
[ -x "$debug/lineinfo_broken" ] || { echo "RESULT|lineinfo|-|FAIL|-|-|-|-|no $debug/lineinfo_broken (build_gpu_tests.sh)"; exit 1; }
find_tool() {  # name, override
  local c
  for c in "$2" "/usr/local/cuda/bin/$1" "$(command -v "$1" 2>/dev/null)"; do
    [ -n "$c" ] && [ -x "$c" ] && { echo "$c"; return 0; }
  done
  return 1
}
log="$here/lineinfo_check.log"
: >"$log"
cd "$debug" || exit 1  # the line table names lineinfo_broken.tl, relative: it is here

if cs="$(find_tool compute-sanitizer "${COMPUTE_SANITIZER:-}")"; then
  out="$("$cs" --tool memcheck "$debug/lineinfo_broken" 2>&1)"
  echo "$out" >>"$log"
  if echo "$out" | grep -q "Invalid __global__ write" && echo "$out" | grep -q "lineinfo_broken.tl:9"; then
    echo "RESULT|lineinfo_sanitizer|memcheck|PASS|-|-|-|-|reports lineinfo_broken.tl:9"
  else
    echo "RESULT|lineinfo_sanitizer|memcheck|FAIL|-|-|-|-|no report naming lineinfo_broken.tl:9 (see $log)"
    echo "$out" | grep -m5 -i "error\|at \|lineinfo" | sed 's/^/  /'
    status=1
  fi
else
  echo "RESULT|lineinfo_sanitizer|memcheck|SKIP|-|-|-|-|no compute-sanitizer"
fi

if ncu="$(find_tool ncu "${NCU:-}")"; then
  out="$("$ncu" --page source --print-source cuda --kernel-name broken "$debug/lineinfo_broken" 2>&1)"
  echo "$out" >>"$log"
  if echo "$out" | grep -q "A\[bx \* 128 + i\] = 1.0"; then
    echo "RESULT|lineinfo_ncu_source|source page|PASS|-|-|-|-|shows lineinfo_broken.tl's lines"
  else
    echo "RESULT|lineinfo_ncu_source|source page|FAIL|-|-|-|-|no .tl source line in ncu's source page (see $log)"
    echo "$out" | tail -5 | sed 's/^/  /'
    status=1
  fi
else
  echo "RESULT|lineinfo_ncu_source|source page|SKIP|-|-|-|-|no ncu"
fi
exit $status
