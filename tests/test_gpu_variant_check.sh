#!/usr/bin/env bash
# The GPU tests' variant assertion without a GPU: tests/gpu/harness.h's expectVariant
# on a real tlc header (examples/tile_copy.tl). Its <kernel>_select_variant looks only
# at the pointers and sizes, so a CPU program can call it: 16-byte-aligned pointers
# must give tile_copy_aligned, pointers 8 bytes off 16 the general tile_copy. Then the
# header is broken so that it always picks the general variant, and the aligned
# expectation must fail: the check the GPU tests rely on can tell the two apart.
#
# Usage: tests/test_gpu_variant_check.sh path/to/tlc repo-root cuda-include-dir cuda-stubs-dir
set -u

TLC=$(realpath "${1:?usage: test_gpu_variant_check.sh tlc repo-root cuda-include stubs}")
ROOT=$(realpath "$2")
CUDA_INCLUDE="$3"
STUBS="$4"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tlc-variant-check.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1

[ -f "$CUDA_INCLUDE/cuda.h" ] || { echo "FAIL no cuda.h in $CUDA_INCLUDE"; exit 1; }
[ -f "$STUBS/libcuda.so" ] || { echo "FAIL no driver stub $STUBS/libcuda.so"; exit 1; }
"$TLC" "$ROOT/examples/tile_copy.tl" -o tile_copy.cubin || { echo "FAIL tlc could not compile tile_copy.tl"; exit 1; }

cat >check.cpp <<'EOF'
#include "harness.h"
#include "tile_copy.h"
using namespace gpu_test;
// No device: these pointer values are only looked at, never used.
int main() {
  Checker aligned, offBy8;
  expectVariant(tile_copy_variant_entry(tile_copy_select_variant(0x100000, 0x200000, 1000, 1000)),
                "tile_copy_aligned", "aligned", aligned);
  expectVariant(tile_copy_variant_entry(tile_copy_select_variant(0x100008, 0x200008, 1000, 1000)), "tile_copy",
                "8 bytes off 16", offBy8);
  std::printf("aligned %s, 8 bytes off %s\n", aligned.passed() ? "PASS" : "FAIL", offBy8.passed() ? "PASS" : "FAIL");
  return aligned.passed() && offBy8.passed() ? 0 : 1;
}
EOF
# The stub's soname is libcuda.so.1; nothing of it is called, it only has to load.
mkdir -p lib && ln -s "$STUBS/libcuda.so" lib/libcuda.so.1
build() {  # output name
  g++ -std=c++17 -O1 -Wall -Wextra -Werror -I"$ROOT/tests/gpu" -I"$CUDA_INCLUDE" -I. check.cpp -o "$1" \
      -L"$STUBS" -lcuda
}

failures=0
build check || { echo "FAIL check.cpp does not compile"; exit 1; }
if out=$(LD_LIBRARY_PATH=lib ./check 2>&1); then
  echo "PASS the real launcher: $out"
else
  echo "FAIL the real launcher:"; echo "$out"; failures=$((failures + 1))
fi

# Break it: the specialized variant's condition never holds.
sed -i 's/^  if (\(.*\)) return 0;$/  if (0 \&\& (\1)) return 0;/' tile_copy.h
if ! grep -q '^  if (0 && (.*)) return 0;$' tile_copy.h; then
  echo "FAIL could not break tile_copy_select_variant (its form changed?)"; exit 1
fi
build check_broken || { echo "FAIL check.cpp does not compile against the broken header"; exit 1; }
if out=$(LD_LIBRARY_PATH=lib ./check_broken 2>&1); then
  echo "FAIL a launcher that always picks the general variant passed:"; echo "$out"; failures=$((failures + 1))
elif grep -q 'aligned FAIL' <<<"$out" && grep -q 'picked variant tile_copy, expected tile_copy_aligned' <<<"$out"; then
  echo "PASS a launcher that always picks the general variant fails the aligned expectation"
else
  echo "FAIL the broken launcher failed for another reason:"; echo "$out"; failures=$((failures + 1))
fi
[ $failures -eq 0 ]
