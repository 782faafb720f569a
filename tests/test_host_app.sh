#!/usr/bin/env bash
# The CMake package as a user's project sees it: `cmake --install` tlc into a prefix,
# configure a copy of examples/host_app (find_package(tlc) + tlc_add_kernels) in a
# clean directory, build it (against the CUDA driver stub: it is not run here), then:
#   - a second build does nothing (ninja: "no work to do"),
#   - touching one .tl file reruns tlc for that file only,
#   - a real change to one .tl file recompiles what includes its header.
#
# Usage: tests/test_host_app.sh path/to/tlc-build-dir [repo-root]
set -u
BUILD=$(realpath "${1:?usage: test_host_app.sh path/to/build [repo-root]}")
ROOT=$(realpath "${2:-$(dirname "$0")/..}")
CUDA=${CUDA_HOME:-/usr/local/cuda}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tlc-host-app-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

failures=0
checks=0
pass() { checks=$((checks + 1)); echo "PASS $1"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && sed 's/^/    | /' <<<"$2"; }
finish() { echo; echo "$((checks - failures)) of $checks host_app checks passed"; [ "$failures" -eq 0 ]; exit $?; }

if ! command -v ninja >/dev/null; then echo "SKIP: no ninja"; exit 77; fi

# 1. Install.
if out=$(cmake --install "$BUILD" --prefix "$WORK/prefix" 2>&1); then pass "cmake --install"; else fail "cmake --install" "$out"; finish; fi
for f in bin/tlc lib/cmake/tlc/tlcConfig.cmake lib/cmake/tlc/tlcConfigVersion.cmake lib/cmake/tlc/tlcKernels.cmake; do
  if [ -e "$WORK/prefix/$f" ]; then pass "installed $f"; else fail "not installed: $f" "$(find "$WORK/prefix")"; fi
done

# 2. Configure and build a copy of the project (touching it leaves the repo alone).
cp -r "$ROOT/examples/host_app" "$WORK/src"
if out=$(cmake -S "$WORK/src" -B "$WORK/b" -G Ninja -DCMAKE_PREFIX_PATH="$WORK/prefix" -DCUDAToolkit_ROOT="$CUDA" 2>&1); then
  pass "configure host_app with find_package(tlc)"; else fail "configure host_app" "$out"; finish; fi
if out=$(ninja -C "$WORK/b" -v 2>&1); then pass "build host_app"; else fail "build host_app" "$out"; finish; fi
[ -x "$WORK/b/host_app" ] && pass "host_app is an executable" || fail "no host_app binary" "$(ls "$WORK/b")"
for k in tile_copy scale; do
  if grep -q "kernels/$k.tl" <<<"$out"; then pass "the first build ran tlc on $k.tl"; else fail "tlc did not run on $k.tl" "$out"; fi
  [ -s "$WORK/b/tlc/host_app/$k.h" ] && pass "$k.h generated" || fail "no $k.h" "$(ls -R "$WORK/b/tlc")"
  [ -s "$WORK/b/tlc/host_app/$k.cubin" ] && [ -s "$WORK/b/tlc/host_app/$k.sm_100a.cubin" ] && pass "$k: a cubin per ARCHS entry" \
    || fail "$k: cubins missing" "$(ls -R "$WORK/b/tlc")"
  if grep -q -- "-DBM=64" <<<"$(grep "kernels/$k.tl" <<<"$out")"; then pass "OPTIONS reach tlc for $k.tl"; else fail "OPTIONS missing for $k.tl" "$out"; fi
done

# 3. Nothing changed: nothing to do.
out=$(ninja -C "$WORK/b" -d explain 2>&1)
if grep -q "no work to do" <<<"$out"; then pass "a second build does nothing"; else fail "a second build did work" "$out"; fi

# 4. Touch one .tl file: tlc runs for it alone; its header keeps its bytes and time
#    (--write-if-changed), so main.c is not recompiled.
sleep 1
touch "$WORK/src/kernels/scale.tl"
out=$(ninja -C "$WORK/b" -v 2>&1)
if grep -q "kernels/scale.tl" <<<"$out"; then pass "touching scale.tl reruns tlc on it"; else fail "touching scale.tl did not rerun tlc" "$out"; fi
if grep -q "kernels/tile_copy.tl" <<<"$out"; then fail "touching scale.tl reran tlc on tile_copy.tl" "$out"; else pass "touching scale.tl leaves tile_copy alone"; fi
if grep -q "main.c" <<<"$out"; then fail "touching scale.tl recompiled main.c (its header did not change)" "$out"; else pass "touching scale.tl keeps scale.h, so main.c is not recompiled"; fi
out=$(ninja -C "$WORK/b" -d explain 2>&1)
if grep -q "no work to do" <<<"$out"; then pass "after the touch, a build does nothing"; else fail "after the touch, a build did work" "$out"; fi

# 5. A real change to scale.tl: its kernel and the code that includes its header rebuild.
sleep 1
sed -i 's/threads=64/threads=128/' "$WORK/src/kernels/scale.tl"
out=$(ninja -C "$WORK/b" -v 2>&1)
if grep -q "kernels/scale.tl" <<<"$out" && grep -q "main.c" <<<"$out" && ! grep -q "kernels/tile_copy.tl" <<<"$out"; then
  pass "editing scale.tl rebuilds its kernel and main.c, not tile_copy"; else fail "editing scale.tl" "$out"; fi
out=$(ninja -C "$WORK/b" -d explain 2>&1)
if grep -q "no work to do" <<<"$out"; then pass "after the edit, a build does nothing"; else fail "after the edit, a build did work" "$out"; fi

# 6. The same with the Makefile generator (CMake's DEPFILE support for Make).
cp -r "$ROOT/examples/host_app" "$WORK/msrc"
if out=$(cmake -S "$WORK/msrc" -B "$WORK/m" -G "Unix Makefiles" -DCMAKE_PREFIX_PATH="$WORK/prefix" -DCUDAToolkit_ROOT="$CUDA" 2>&1) &&
   out=$(make -C "$WORK/m" 2>&1); then
  pass "Makefiles: build host_app"
  out=$(make -C "$WORK/m" 2>&1)
  if grep -q "tlc kernels/" <<<"$out"; then fail "Makefiles: a second build reran tlc" "$out"; else pass "Makefiles: a second build runs no tlc"; fi
  sleep 1
  touch "$WORK/msrc/kernels/scale.tl"
  out=$(make -C "$WORK/m" 2>&1)
  if grep -q "tlc kernels/scale.tl" <<<"$out" && ! grep -q "tlc kernels/tile_copy.tl" <<<"$out"; then
    pass "Makefiles: touching scale.tl reruns tlc for it alone"; else fail "Makefiles: touching scale.tl" "$out"; fi
  out=$(make -C "$WORK/m" 2>&1)
  if grep -q "tlc kernels/" <<<"$out"; then fail "Makefiles: after the touch, a build reran tlc" "$out"; else pass "Makefiles: after the touch, a build runs no tlc"; fi
else
  fail "Makefiles: configure or build host_app" "$out"
fi

finish
