#!/usr/bin/env bash
# test.sh: install and build (scripts/setup.sh), then run every test with CTest:
# unit tests, golden tests (one per tests/golden directory), CLI tests, the
# example compile test and the header compile test; then all of it again under
# ASan + UBSan with a bounded fuzz run (build-asan, below). Ends with CTest's summary.
# Extra arguments go to ctest, e.g. `scripts/test.sh -R golden`.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BUILD_DIR=${BUILD_DIR:-$ROOT/build}
export JOBS=${JOBS:-$(nproc)}

"$ROOT/scripts/setup.sh"
cd "$BUILD_DIR"
ctest --output-on-failure -j "$JOBS" "$@"

# The same suite again under ASan + UBSan, in a second build dir built with clang-19
# (-DTLC_SANITIZE=ON, asserts on), plus the bounded libFuzzer run (the `fuzz` test:
# scripts/fuzz.sh: TLC_FUZZ_SECONDS for the frontend targets, default 60, and
# TLC_FUZZ_BACKEND_SECONDS for fuzz_backend, default 45), which needs -DTLC_FUZZ=ON.
# TLC_SANITIZE_SUITE=0 skips it. LLVM and ANTLR are uninstrumented static libraries
# (linked in as in build/; ptxas and nvlink run as processes);
# the cross_compiler test compares its PTX with build/'s (gcc) for every .tl file;
# leak detection is on; tests/sanitizers/lsan.supp lists leaks that are not ours
# (none at present).
# Any report exits with 86, a code no test expects, so it fails the test that ran it.
if [ "${TLC_SANITIZE_SUITE:-1}" != 0 ]; then
  ASAN_BUILD_DIR=${ASAN_BUILD_DIR:-$ROOT/build-asan}
  if [ ! -f "$ASAN_BUILD_DIR/build.ninja" ]; then
    cmake -S "$ROOT" -B "$ASAN_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
          "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g" \
          -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
          -DTLC_SANITIZE=ON -DTLC_FUZZ=ON -DCUDAToolkit_ROOT="${CUDA_HOME:-/usr/local/cuda}"
  fi
  # The cross_compiler test compares this clang-built tlc's PTX with the gcc-built one's.
  cmake "$ASAN_BUILD_DIR" -DTLC_COMPARE_WITH="$BUILD_DIR/tlc" >/dev/null
  cmake --build "$ASAN_BUILD_DIR" -j "$JOBS"
  echo "test.sh: the suite again under ASan + UBSan ($ASAN_BUILD_DIR)"
  cd "$ASAN_BUILD_DIR"
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:exitcode=86:strict_string_checks=1:detect_stack_use_after_return=1} \
  LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/tests/sanitizers/lsan.supp:print_suppressions=0} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=86} \
    ctest --output-on-failure -j "$JOBS" "$@"
fi
