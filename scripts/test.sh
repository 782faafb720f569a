#!/usr/bin/env bash
# test.sh: install and build (scripts/setup.sh), then run every test with CTest:
# unit tests, golden tests (one per tests/golden directory), CLI tests, the
# example compile test and the header compile test. Ends with CTest's summary.
# Extra arguments go to ctest, e.g. `scripts/test.sh -R golden`.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BUILD_DIR=${BUILD_DIR:-$ROOT/build}
export JOBS=${JOBS:-$(nproc)}

"$ROOT/scripts/setup.sh"
cd "$BUILD_DIR"
ctest --output-on-failure -j "$JOBS" "$@"
