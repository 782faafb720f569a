#!/usr/bin/env bash
# setup.sh: install tlc's build dependencies (Debian 12 "bookworm") and build tlc
# into build/. Safe to re-run, and fast then: apt runs only when a package is
# missing, CMake configures only once, and ninja rebuilds only what changed.
#
# Needs root (or sudo) for apt, and the CUDA toolkit (12.0 or newer: cuda.h, ptxas
# and nvlink) under /usr/local/cuda, which does not come from Debian.
# Environment: BUILD_DIR (default: build), JOBS (default: the number of cores).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
JOBS=${JOBS:-$(nproc)}

PACKAGES=(antlr4 libantlr4-runtime-dev llvm-19-dev libcli11-dev doctest-dev libzstd-dev
          uuid-dev default-jre-headless ninja-build cmake g++ python3
          clang-19 libclang-rt-19-dev)  # the sanitizer + libFuzzer build (scripts/test.sh)

missing=()
for package in "${PACKAGES[@]}"; do
  # antlr4 only needs some Java runtime; an installed JDK/JRE (java on PATH) will do.
  if [ "$package" = default-jre-headless ] && command -v java >/dev/null 2>&1; then continue; fi
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$package")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: build dependencies are installed"
else
  echo "setup: installing ${missing[*]}"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "setup: error: installing packages needs root; run as root or install: ${missing[*]}" >&2
      exit 1
    fi
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
if [ ! -f "$CUDA_HOME/include/cuda.h" ] || [ ! -x "$CUDA_HOME/bin/ptxas" ] || [ ! -x "$CUDA_HOME/bin/nvlink" ]; then
  echo "setup: error: the CUDA toolkit (cuda.h, bin/ptxas, bin/nvlink) was not found under $CUDA_HOME;" >&2
  echo "setup:        install CUDA 12.0 or newer there, or set CUDA_HOME" >&2
  exit 1
fi

if [ -f "$BUILD_DIR/CMakeCache.txt" ] && [ ! -f "$BUILD_DIR/build.ninja" ]; then
  echo "setup: error: $BUILD_DIR was configured with another generator; remove it or set BUILD_DIR" >&2
  exit 1
fi
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCUDAToolkit_ROOT="$CUDA_HOME"
fi
cmake --build "$BUILD_DIR" -j "$JOBS"
echo "setup: built $BUILD_DIR/tlc"
