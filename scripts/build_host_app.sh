#!/usr/bin/env bash
# build_host_app.sh: installs tlc into a prefix and builds examples/host_app against
# it, as a user's project would (find_package(tlc) + tlc_add_kernels). No GPU needed:
# host_app links the CUDA driver stub.
#
#   scripts/build_host_app.sh                 # tlc from build/ (BUILD_DIR to change)
#   BUILD_DIR=build-foo scripts/build_host_app.sh
#
# Everything goes under .host_app/ (git-ignored: /build*/ and /.host_app/ are not
# tracked): prefix/ (the installed tlc), build/ (host_app's build). When .gpu/ exists
# (scripts/build_gpu_tests.sh made it), the binary is copied to .gpu/bin/host_app so
# that `bash .gpu/run_all.sh` runs it with the other GPU tests; else run
# .host_app/build/host_app on the GPU machine.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
build="${BUILD_DIR:-build}"
out="$repo/.host_app"
cuda="${CUDA_HOME:-/usr/local/cuda}"

[ -x "$build/tlc" ] || { echo "build_host_app: no $build/tlc (build tlc first, or set BUILD_DIR)" >&2; exit 2; }
rm -rf "$out"
mkdir -p "$out"
cmake --install "$build" --prefix "$out/prefix" >"$out/install.log"
cmake -S examples/host_app -B "$out/build" -G Ninja -DCMAKE_PREFIX_PATH="$out/prefix" \
      -DCUDAToolkit_ROOT="$cuda" -DCMAKE_BUILD_TYPE=Release -DCMAKE_EXE_LINKER_FLAGS="-static-libgcc" \
      >"$out/configure.log"
cmake --build "$out/build"
echo "build_host_app: built $out/build/host_app"
if [ -d .gpu ]; then
  mkdir -p .gpu/bin
  cp "$out/build/host_app" .gpu/bin/host_app
  echo "build_host_app: copied to .gpu/bin/host_app (bash .gpu/run_all.sh runs it)"
fi
