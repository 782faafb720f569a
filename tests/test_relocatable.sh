#!/usr/bin/env bash
# A relocatable tlc: the binary needs no build dependency at run time, and the
# packages (`cpack`: a tarball and a .deb) hold a tlc that compiles the examples from
# wherever they are unpacked.
#   - ldd: no libLLVM, libantlr4 or libz3 (ptxas and nvlink are run, not linked), and only
#     libraries the .deb's Depends covers;
#   - cpack makes the .tar.gz and the .deb; each unpacks to bin/tlc and lib/cmake/tlc,
#     and the .deb's tlc, run with an empty environment, writes the same cubin;
#   - the tarball's tlc, run from a copy of the unpacked tree with an empty
#     environment, compiles an example to PTX without any CUDA (CUDA_HOME naming an
#     empty directory), fails for a cubin there with exit 3 and a message naming
#     CUDA_HOME, and with CUDA_HOME at the real toolkit (or unset: /usr/local/cuda)
#     writes the same cubin as the build tree's tlc;
#   - where user namespaces are allowed (unshare), the same again with the build
#     dependencies hidden: libLLVM, libantlr4-runtime and /usr/local/cuda mounted
#     away, so nothing can be found by accident (no CUDA_HOME is then exit 3 too).
#
# Usage: tests/test_relocatable.sh path/to/tlc-build-dir [repo-root]
# (Internally, `--hidden WORK` reruns the last checks inside a mount namespace.)
set -u
BUILD=$(realpath "${1:?usage: test_relocatable.sh path/to/build [repo-root]}")
ROOT=$(realpath "${2:-$(dirname "$0")/..}")
CUDA=$(realpath "${CUDA_HOME:-/usr/local/cuda}")

failures=0
checks=0
pass() { checks=$((checks + 1)); echo "PASS $1"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && sed 's/^/    | /' <<<"$2"; }
finish() { echo; echo "$((checks - failures)) of $checks relocatable checks passed"; [ "$failures" -eq 0 ]; exit $?; }

# run_clean CUDA_HOME-VALUE ARGS...: the copied tlc with nothing of the caller's
# environment; CUDA_HOME unset for the value "-".
run_clean() {
  local cuda_home=$1; shift
  local env=(env -i PATH=/usr/bin:/bin LD_LIBRARY_PATH=)
  [ "$cuda_home" != - ] && env+=(CUDA_HOME="$cuda_home")
  (cd "$WORK/out" && "${env[@]}" "$TLC" "$@")
}

# The checks of a copied tlc that can reach no CUDA but the one CUDA_HOME names.
clean_checks() {
  local where=$1 cuda=$2
  local out rc
  out=$(run_clean "$WORK/no-cuda" --version 2>&1) && pass "$where: tlc --version" || fail "$where: tlc --version" "$out"
  rm -f "$WORK/out/k.ptx"
  out=$(run_clean "$WORK/no-cuda" k.tl --emit=ptx -o k.ptx 2>&1)
  if [ $? -eq 0 ] && grep -q "^.target sm_90a" "$WORK/out/k.ptx"; then pass "$where: --emit=ptx without CUDA"
  else fail "$where: --emit=ptx without CUDA" "$out"; fi
  out=$(run_clean "$WORK/no-cuda" k.tl -o k.cubin 2>&1); rc=$?
  if [ $rc -eq 3 ] && grep -q "ptxas not found" <<<"$out" && grep -q "set CUDA_HOME" <<<"$out"; then
    pass "$where: a cubin without CUDA: exit 3, 'ptxas not found ... set CUDA_HOME'"
  else fail "$where: a cubin without CUDA (exit $rc)" "$out"; fi
  [ ! -e "$WORK/out/k.cubin" ] && pass "$where: no cubin written" || fail "$where: a cubin was written without ptxas"
  out=$(run_clean "$cuda" k.tl -o k.cubin 2>&1)
  if [ $? -eq 0 ] && cmp -s "$WORK/out/k.cubin" "$WORK/expected/k.cubin" && cmp -s "$WORK/out/k.h" "$WORK/expected/k.h"; then
    pass "$where: CUDA_HOME=$cuda: the same cubin and header as the build tree's tlc"
  else fail "$where: CUDA_HOME=$cuda: cubin" "$out"; fi
  rm -f "$WORK/out/k.cubin" "$WORK/out/k.h"
  # Without CUDA_HOME: /usr/local/cuda (hidden in the namespace: then exit 3 again).
  out=$(run_clean - k.tl -o k.cubin 2>&1); rc=$?
  if [ "$where" = hidden ]; then
    [ $rc -eq 3 ] && grep -q "ptxas not found" <<<"$out" && pass "$where: no CUDA_HOME, no /usr/local/cuda: exit 3" \
      || fail "$where: no CUDA_HOME, no /usr/local/cuda (exit $rc)" "$out"
  else
    [ $rc -eq 0 ] && cmp -s "$WORK/out/k.cubin" "$WORK/expected/k.cubin" && pass "$where: no CUDA_HOME: /usr/local/cuda's ptxas and nvlink" \
      || fail "$where: no CUDA_HOME (exit $rc)" "$out"
  fi
  rm -f "$WORK/out/k.cubin" "$WORK/out/k.h"
}

# Inside `unshare -rm` (step 4): hide the build dependencies, then check again. The
# mounts vanish with the namespace.
if [ "${3:-}" = --hidden ]; then
  WORK=$4
  TLC=$WORK/moved/bin/tlc
  for lib in /usr/lib/x86_64-linux-gnu/libLLVM* /usr/lib/llvm-19/lib/libLLVM*.so* /usr/lib/x86_64-linux-gnu/libantlr4-runtime.so*; do
    [ -f "$lib" ] && mount --bind /dev/null "$lib"
  done
  mkdir -p "$WORK/cuda"
  mount --bind "$CUDA" "$WORK/cuda"
  mount -t tmpfs none "$CUDA"
  [ -d /usr/local/cuda ] && mount -t tmpfs none "$(realpath /usr/local/cuda)"
  if [ -e /usr/local/cuda/include/cuda.h ] || [ -e /usr/lib/x86_64-linux-gnu/libLLVM-19.so.1 -a -s /usr/lib/x86_64-linux-gnu/libLLVM-19.so.1 ]; then
    fail "hidden: the build dependencies are still visible"
  fi
  clean_checks "hidden" "$WORK/cuda"
  echo "HIDDEN-SUMMARY $checks $failures"
  exit 0
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tlc-relocatable.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
EXAMPLE=$ROOT/examples/tile_copy.tl

# 1. What the build tree's tlc needs from the loader.
needed=$(ldd "$BUILD/tlc" 2>&1)
if grep -qiE "libLLVM|libantlr4|libnvJitLink|libnvptxcompiler|libz3" <<<"$needed"; then
  fail "ldd tlc: a build dependency is still a shared library" "$needed"
else
  pass "ldd tlc: no libLLVM, libantlr4, libnvJitLink or libz3"
fi
# Every NEEDED library belongs to a package the .deb depends on.
unexpected=$(awk '/=>/ || /^\s*lib/ {print $1}' <<<"$needed" | grep -vE "^(linux-vdso|/lib64/ld-linux)" |
             grep -vE "^(libc|libm|libresolv|libpthread|libdl|librt|libstdc\+\+|libgcc_s|libz|libzstd)\.so" || true)
if [ -z "$unexpected" ]; then pass "ldd tlc: only libc6's libraries, libstdc++, libgcc_s, zlib and zstd (the .deb's Depends)"
else fail "ldd tlc: libraries the .deb does not depend on" "$unexpected"; fi

# 2. The packages.
if out=$(cd "$WORK" && cpack --config "$BUILD/CPackConfig.cmake" -B "$WORK/packages" 2>&1); then pass "cpack"; else fail "cpack" "$out"; finish; fi
tarball=$(ls "$WORK"/packages/tlc-*.tar.gz 2>/dev/null | head -1)
deb=$(ls "$WORK"/packages/tlc_*.deb 2>/dev/null | head -1)
[ -n "$tarball" ] && pass "cpack: $(basename "$tarball")" || fail "cpack: no tarball" "$(ls "$WORK/packages")"
[ -n "$deb" ] && pass "cpack: $(basename "$deb")" || fail "cpack: no .deb" "$(ls "$WORK/packages")"
[ -n "$tarball" ] || finish
mkdir -p "$WORK/unpacked"
tar -xzf "$tarball" -C "$WORK/unpacked" --strip-components=1
if [ -n "$deb" ]; then
  mkdir -p "$WORK/deb"
  dpkg-deb -x "$deb" "$WORK/deb"
  [ -x "$WORK/deb/usr/bin/tlc" ] && [ -f "$WORK/deb/usr/lib/cmake/tlc/tlcConfig.cmake" ] \
    && pass ".deb: usr/bin/tlc and the CMake package" || fail ".deb: contents" "$(cd "$WORK/deb" && find . -type f)"
  depends=$(dpkg-deb -f "$deb" Depends)
  grep -q "libstdc++6" <<<"$depends" && ! grep -qiE "llvm|antlr" <<<"$depends" && pass ".deb Depends: $depends" || fail ".deb Depends" "$depends"
fi
for f in bin/tlc lib/cmake/tlc/tlcConfig.cmake lib/cmake/tlc/tlcKernels.cmake; do
  [ -e "$WORK/unpacked/$f" ] && pass "tarball: $f" || fail "tarball: no $f" "$(cd "$WORK/unpacked" && find .)"
done

# 3. A copy of the unpacked tree elsewhere (the prefix is not remembered anywhere).
cp -r "$WORK/unpacked" "$WORK/moved"
rm -rf "$WORK/unpacked"
TLC=$WORK/moved/bin/tlc
mkdir -p "$WORK/no-cuda" "$WORK/out" "$WORK/expected"
cp "$EXAMPLE" "$WORK/out/k.tl"
(cd "$WORK/out" && "$BUILD/tlc" k.tl -o "$WORK/expected/k.cubin" >/dev/null 2>&1)

clean_checks "copied prefix" "$CUDA"
# Every example, as the build tree's tlc compiles it (the same bytes).
for example in "$ROOT"/examples/*.tl "$ROOT"/examples/host_app/kernels/*.tl; do
  name=$(basename "$example" .tl)
  mkdir -p "$WORK/examples/$name" "$WORK/expected/$name"
  cp "$example" "$WORK/examples/$name/$name.tl"
  (cd "$WORK/examples/$name" && "$BUILD/tlc" "$name.tl" -o "$WORK/expected/$name/$name.cubin" >/dev/null 2>&1)
  out=$(cd "$WORK/examples/$name" && env -i PATH=/usr/bin:/bin CUDA_HOME="$CUDA" "$TLC" "$name.tl" -o "$name.cubin" 2>&1)
  if [ $? -eq 0 ] && cmp -s "$WORK/examples/$name/$name.cubin" "$WORK/expected/$name/$name.cubin" &&
     cmp -s "$WORK/examples/$name/$name.h" "$WORK/expected/$name/$name.h"; then
    pass "copied prefix: examples/$name.tl: the build tree's cubin and header"
  else fail "copied prefix: examples/$name.tl" "$out$(cd "$WORK" && cmp examples/$name/$name.h expected/$name/$name.h; cmp examples/$name/$name.cubin expected/$name/$name.cubin)"; fi
done
if [ -x "${WORK}/deb/usr/bin/tlc" ]; then
  out=$(cd "$WORK/out" && env -i PATH=/usr/bin:/bin CUDA_HOME="$CUDA" "$WORK/deb/usr/bin/tlc" k.tl -o deb.cubin --header deb.h 2>&1)
  [ $? -eq 0 ] && cmp -s "$WORK/out/deb.cubin" "$WORK/expected/k.cubin" && pass ".deb's tlc: the same cubin" || fail ".deb's tlc" "$out"
fi

# 4. The same with the build dependencies mounted away (where user namespaces are allowed).
if unshare -rm true 2>/dev/null; then
  out=$(unshare -rm bash "$0" "$BUILD" "$ROOT" --hidden "$WORK" 2>&1)
  grep -v "^HIDDEN-SUMMARY" <<<"$out"
  summary=$(grep "^HIDDEN-SUMMARY" <<<"$out")
  if [ -n "$summary" ]; then
    read -r _ inner_checks inner_failures <<<"$summary"
    checks=$((checks + inner_checks)); failures=$((failures + inner_failures))
  else
    fail "hidden: the namespace run ended early" "$out"
  fi
else
  echo "NOTE: no user namespaces here (unshare -rm): the checks with the build dependencies mounted away are not run"
fi

finish
