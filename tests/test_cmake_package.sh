#!/usr/bin/env bash
# The features of tlc_add_kernels (cmake/tlcKernels.cmake), one per run: each writes a
# small project into a scratch directory, configures it against an installed tlc
# (find_package(tlc)) and builds it with Ninja and with Unix Makefiles (the driver
# stub is linked, nothing is run), then checks what tlc was asked to do and wrote.
#
#   docs_examples       README.md's and docs/cli.md's CMake examples, verbatim
#   archs               zero, one and three ARCHS
#   cuda_architectures  CMAKE_CUDA_ARCHITECTURES (90a;80-real) as the default ARCHS
#   genex               generator expressions in OPTIONS
#   same_name           a/k.tl and b/k.tl in one target (a folder each)
#   source_properties   TLC_OPTIONS and TLC_PREFIX source file properties
#   emit_source         EMIT_SOURCE: the .c is compiled into the target
#   scope               PUBLIC and PRIVATE include scope of a library
#
# Usage: tests/test_cmake_package.sh PREFIX REPO-ROOT FEATURE
#   PREFIX: a `cmake --install` of tlc (CTest's cmake_package_install fixture).
set -u
PREFIX=$(realpath "${1:?usage: test_cmake_package.sh PREFIX REPO-ROOT FEATURE}")
ROOT=$(realpath "${2:?usage: test_cmake_package.sh PREFIX REPO-ROOT FEATURE}")
FEATURE=${3:?usage: test_cmake_package.sh PREFIX REPO-ROOT FEATURE}
CUDA=${CUDA_HOME:-/usr/local/cuda}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tlc-cmake-package.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

failures=0
checks=0
pass() { checks=$((checks + 1)); echo "PASS $1"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && sed 's/^/    | /' <<<"$2"; }
finish() { echo; echo "$((checks - failures)) of $checks $FEATURE checks passed"; [ "$failures" -eq 0 ]; exit $?; }
check() {  # check DESCRIPTION COMMAND... (the command's output is shown on failure)
  local what=$1; shift
  local out
  if out=$("$@" 2>&1); then pass "$what"; else fail "$what" "$out"; fi
}

if ! command -v ninja >/dev/null; then echo "SKIP: no ninja"; exit 77; fi
[ -x "$PREFIX/bin/tlc" ] || { echo "FAIL no $PREFIX/bin/tlc (the cmake_package_install fixture)"; exit 1; }
KERNEL=$ROOT/examples/host_app/kernels/tile_copy.tl  # const BM (for -DBM=64), compiles for sm_80 too

# A project directory from the files the feature wrote to $WORK/src.
# configure_and_build GENERATOR NAME [cmake -D arguments...]: configures $WORK/src into
# $WORK/NAME and builds it verbosely; the build log is in $log, the build dir in $bin.
configure_and_build() {
  local generator=$1 name=$2; shift 2
  bin=$WORK/$name
  log=""
  local out
  if ! out=$(cmake -S "$WORK/src" -B "$bin" -G "$generator" -DCMAKE_PREFIX_PATH="$PREFIX" \
                   -DCUDAToolkit_ROOT="$CUDA" "$@" 2>&1); then
    fail "$name: configure" "$out"
    return 1
  fi
  pass "$name: configure"
  if ! log=$(cmake --build "$bin" --verbose 2>&1); then
    fail "$name: build" "$log"
    return 1
  fi
  pass "$name: build"
}
# The tlc command lines in a build log.
tlc_lines() { grep -E "bin/tlc\"? " <<<"$log"; }

write_main() {  # write_main FILE HEADER...: a main.c that includes each header
  local file=$1; shift
  : >"$file"
  for header in "$@"; do echo "#include \"$header\"" >>"$file"; done
  echo "int main(void) { return 0; }" >>"$file"
}

generators=(Ninja "Unix Makefiles")
gen_name() { [ "$1" = Ninja ] && echo ninja || echo make; }

# ---------------------------------------------------------------- features
docs_examples() {
  # The first ```cmake block after a heading, as it stands in the document.
  cmake_block() { awk -v heading="$2" '$0 == heading {found=1} found && /^```cmake$/ {inside=1; next}
                                       inside && /^```$/ {exit} inside {print}' "$1"; }
  local doc heading
  for pair in "README.md|## From CMake" "docs/cli.md|## CMake"; do
    doc=${pair%%|*}; heading=${pair#*|}
    rm -rf "$WORK/src"; mkdir -p "$WORK/src/kernels"
    cmake_block "$ROOT/$doc" "$heading" >"$WORK/src/CMakeLists.txt"
    if ! grep -q tlc_add_kernels "$WORK/src/CMakeLists.txt"; then fail "$doc: no CMake example under '$heading'"; continue; fi
    local sources
    sources=$(grep -o 'kernels/[a-z_]*\.tl' "$WORK/src/CMakeLists.txt")
    # Different kernels (the launch functions carry the kernel's name): tile_copy, scale.
    local headers=() kernels=("$KERNEL" "$ROOT/examples/host_app/kernels/scale.tl") index=0
    for source in $sources; do
      cp "${kernels[index++ % 2]}" "$WORK/src/$source"
      headers+=("$(basename "$source" .tl).h")
    done
    write_main "$WORK/src/main.c" "${headers[@]}"
    for generator in "${generators[@]}"; do
      configure_and_build "$generator" "$(basename "$doc" .md)-$(gen_name "$generator")" || continue
      [ -x "$bin/app" ] && pass "$doc example: app built with $generator" || fail "$doc example: no app" "$(ls "$bin")"
    done
  done
}

archs() {
  mkdir -p "$WORK/src"
  cp "$KERNEL" "$WORK/src/k.tl"
  write_main "$WORK/src/main.c" k.h
  cat >"$WORK/src/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.20)
project(archs LANGUAGES C)
find_package(tlc REQUIRED)
add_executable(none main.c)
tlc_add_kernels(none SOURCES k.tl)
add_executable(one main.c)
tlc_add_kernels(one SOURCES k.tl ARCHS sm_80)
add_executable(three main.c)
tlc_add_kernels(three SOURCES k.tl ARCHS sm_90a sm_80 sm_100a)
EOF
  for generator in "${generators[@]}"; do
    configure_and_build "$generator" "archs-$(gen_name "$generator")" || continue
    local lines; lines=$(tlc_lines)
    grep -q -- "tlc/none/k.cubin .*--arch=sm_90a " <<<"$lines" && pass "no ARCHS: --arch=sm_90a" || fail "no ARCHS: not --arch=sm_90a" "$lines"
    grep -q -- "tlc/one/k.cubin .*--arch=sm_80 " <<<"$lines" && pass "one ARCHS: --arch=sm_80" || fail "one ARCHS: not --arch=sm_80" "$lines"
    grep -q -- "tlc/three/k.cubin .*--arch=sm_90a,sm_80,sm_100a " <<<"$lines" && pass "three ARCHS: --arch=sm_90a,sm_80,sm_100a" \
      || fail "three ARCHS: not --arch=sm_90a,sm_80,sm_100a" "$lines"
    local expected=(none/k.cubin none/k.h one/k.cubin three/k.cubin three/k.sm_80.cubin three/k.sm_100a.cubin)
    for file in "${expected[@]}"; do
      [ -s "$bin/tlc/$file" ] && pass "$(gen_name "$generator"): wrote $file" || fail "$(gen_name "$generator"): no $file" "$(cd "$bin/tlc" && find .)"
    done
  done
}

cuda_architectures() {
  mkdir -p "$WORK/src"
  cp "$KERNEL" "$WORK/src/k.tl"
  write_main "$WORK/src/main.c" k.h
  cat >"$WORK/src/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.20)
project(cuda_architectures LANGUAGES C)
find_package(tlc REQUIRED)
add_executable(app main.c)
tlc_add_kernels(app SOURCES k.tl)
EOF
  for generator in "${generators[@]}"; do
    configure_and_build "$generator" "cuda-archs-$(gen_name "$generator")" "-DCMAKE_CUDA_ARCHITECTURES=90a;80-real;90a-virtual" || continue
    grep -q -- "--arch=sm_90a,sm_80 " <<<"$(tlc_lines)" && pass "CMAKE_CUDA_ARCHITECTURES 90a;80-real;90a-virtual: --arch=sm_90a,sm_80" \
      || fail "CMAKE_CUDA_ARCHITECTURES not used as the default ARCHS" "$(tlc_lines)"
    [ -s "$bin/tlc/app/k.sm_80.cubin" ] && pass "wrote k.sm_80.cubin" || fail "no k.sm_80.cubin" "$(cd "$bin/tlc" && find .)"
  done
}

genex() {
  mkdir -p "$WORK/src"
  cp "$KERNEL" "$WORK/src/k.tl"
  write_main "$WORK/src/main.c" k.h
  cat >"$WORK/src/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.20)
project(genex LANGUAGES C)
find_package(tlc REQUIRED)
add_executable(app main.c)
tlc_add_kernels(app SOURCES k.tl OPTIONS $<$<CONFIG:Debug>:-O0> -DBM=64 $<$<CONFIG:Debug>:--remarks>)
EOF
  # Ninja in Release (the expressions give nothing), Make in Debug (they give -O0 --remarks).
  if configure_and_build Ninja genex-release -DCMAKE_BUILD_TYPE=Release; then
    local lines; lines=$(tlc_lines)
    if grep -q -- "-DBM=64" <<<"$lines" && ! grep -q -- "-O0\|--remarks\|''\|\"\"" <<<"$lines"; then
      pass "Release: the Debug-only options are gone, no empty argument"; else fail "Release: tlc's command line" "$lines"; fi
  fi
  if configure_and_build "Unix Makefiles" genex-debug -DCMAKE_BUILD_TYPE=Debug; then
    grep -q -- "-O0 -DBM=64 --remarks" <<<"$(tlc_lines)" && pass "Debug: -O0 -DBM=64 --remarks" || fail "Debug: tlc's command line" "$(tlc_lines)"
  fi
}

same_name() {
  mkdir -p "$WORK/src/a" "$WORK/src/b" "$WORK/outside"
  cp "$KERNEL" "$WORK/src/a/k.tl"
  cp "$KERNEL" "$WORK/src/b/k.tl"
  cp "$KERNEL" "$WORK/src/k.tl"
  cp "$KERNEL" "$WORK/outside/k.tl"
  cp "$ROOT/examples/host_app/kernels/scale.tl" "$WORK/src/c.tl"  # another kernel: main.c includes c.h and k.h
  # The .h files of one name share an include guard (a tlc matter): one per translation unit.
  write_main "$WORK/src/main.c" c.h k.h
  echo '#include "a/k.h"' >"$WORK/src/a.c"
  echo '#include "b/k.h"' >"$WORK/src/b.c"
  cat >"$WORK/src/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.20)
project(same_name LANGUAGES C)
find_package(tlc REQUIRED)
add_executable(app main.c a.c b.c)
tlc_add_kernels(app SOURCES a/k.tl b/k.tl c.tl)
tlc_add_kernels(app SOURCES k.tl ../outside/k.tl)  # a second call: names shared with the first
EOF
  for generator in "${generators[@]}"; do
    configure_and_build "$generator" "same-name-$(gen_name "$generator")" || continue
    local name; name=$(gen_name "$generator")
    for file in a/k.h a/k.cubin b/k.h b/k.cubin c.h k.h; do
      [ -s "$bin/tlc/app/$file" ] && pass "$name: wrote $file" || fail "$name: no $file" "$(cd "$bin/tlc" && find .)"
    done
    if compgen -G "$bin/tlc/app/_????????/k.h" >/dev/null; then pass "$name: ../outside/k.tl wrote _HASH/k.h"
    else fail "$name: no _HASH/k.h for ../outside/k.tl" "$(cd "$bin/tlc" && find .)"; fi
  done
}

source_properties() {
  mkdir -p "$WORK/src"
  cp "$KERNEL" "$WORK/src/k.tl"
  cp "$KERNEL" "$WORK/src/plain.tl"
  write_main "$WORK/src/main.c" k.h plain.h
  cat >"$WORK/src/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.20)
project(source_properties LANGUAGES C)
find_package(tlc REQUIRED)
add_executable(app main.c)
set_source_files_properties(k.tl PROPERTIES TLC_OPTIONS "-DBM=64;$<$<CONFIG:Debug>:-O0>" TLC_PREFIX mylib)
tlc_add_kernels(app SOURCES k.tl plain.tl OPTIONS -O2)  # k.tl in Debug: -O2 ... -O0, the last wins
EOF
  for generator in "${generators[@]}"; do
    configure_and_build "$generator" "source-properties-$(gen_name "$generator")" -DCMAKE_BUILD_TYPE=Debug || continue
    local lines; lines=$(tlc_lines)
    grep -q -- "k.tl\"\? .*--prefix=mylib -O2 -DBM=64 -O0 " <<<"$lines" && pass "k.tl: --prefix=mylib, OPTIONS then TLC_OPTIONS" \
      || fail "k.tl: tlc's command line" "$lines"
    if grep "plain.tl" <<<"$lines" | grep -q -- "--prefix\|-DBM"; then fail "plain.tl got k.tl's properties" "$lines"; else pass "plain.tl: no properties of k.tl"; fi
    grep -q "mylib_load" "$bin/tlc/app/k.h" && pass "k.h has mylib_load" || fail "k.h: no mylib_load" "$(grep -m5 _load "$bin/tlc/app/k.h")"
  done
}

emit_source() {
  mkdir -p "$WORK/src"
  cp "$KERNEL" "$WORK/src/k.tl"
  printf '#include "k.h"\nint main(void) { return k_load() == CUDA_SUCCESS ? 0 : 1; }\n' >"$WORK/src/main.c"
  cat >"$WORK/src/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.20)
project(emit_source LANGUAGES C)
find_package(tlc REQUIRED)
add_executable(app main.c)
tlc_add_kernels(app SOURCES k.tl EMIT_SOURCE)
EOF
  for generator in "${generators[@]}"; do
    configure_and_build "$generator" "emit-source-$(gen_name "$generator")" || continue
    grep -q -- "--emit=cubin,header,source" <<<"$(tlc_lines)" && pass "tlc --emit=cubin,header,source" || fail "no --emit=cubin,header,source" "$(tlc_lines)"
    [ -s "$bin/tlc/app/k.c" ] && pass "wrote k.c" || fail "no k.c" "$(cd "$bin/tlc" && find .)"
    grep -qE "tlc/app/k\.c(\"| |$)" <<<"$(grep -E -- " -c " <<<"$log")" && pass "k.c compiled into app" || fail "k.c not compiled" "$log"
    [ -x "$bin/app" ] && pass "app links (k_load defined in k.c)" || fail "no app" "$(ls "$bin")"
  done
  # Without C, the .c would silently not be compiled: a configure error says so.
  sed -i 's/LANGUAGES C/LANGUAGES CXX/; s/main.c/main.cpp/' "$WORK/src/CMakeLists.txt"
  cp "$WORK/src/main.c" "$WORK/src/main.cpp"
  local out
  if out=$(cmake -S "$WORK/src" -B "$WORK/no-c" -G Ninja -DCMAKE_PREFIX_PATH="$PREFIX" -DCUDAToolkit_ROOT="$CUDA" 2>&1); then
    fail "EMIT_SOURCE without C configured" "$out"
  else
    grep -q "EMIT_SOURCE makes .c files: enable C" <<<"$out" && pass "EMIT_SOURCE without C: a configure error naming the fix" || fail "EMIT_SOURCE without C: the error" "$out"
  fi
}

scope() {
  mkdir -p "$WORK/src"
  cp "$KERNEL" "$WORK/src/k.tl"
  cp "$KERNEL" "$WORK/src/hidden.tl"
  printf '#include "k.h"\nint lib_load(void) { return k_load() == CUDA_SUCCESS; }\n' >"$WORK/src/lib.c"
  printf '#include "hidden.h"\nint hidden_lib_load(void) { return hidden_load() == CUDA_SUCCESS; }\n' >"$WORK/src/hidden_lib.c"
  printf '#include "k.h"\nint main(void) { return k_load() == CUDA_SUCCESS ? 0 : 1; }\n' >"$WORK/src/main.c"
  printf '#include "hidden.h"\nint main(void) { return 0; }\n' >"$WORK/src/leak.c"
  cat >"$WORK/src/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.20)
project(scope LANGUAGES C)
find_package(tlc REQUIRED)
add_library(kernels STATIC lib.c)
tlc_add_kernels(kernels SOURCES k.tl PUBLIC EMIT_SOURCE)
add_executable(app main.c)
target_link_libraries(app PRIVATE kernels)
add_library(hidden_kernels STATIC hidden_lib.c)
tlc_add_kernels(hidden_kernels SOURCES hidden.tl PRIVATE)
add_executable(leak leak.c)
set_target_properties(leak PROPERTIES EXCLUDE_FROM_ALL ON)
target_link_libraries(leak PRIVATE hidden_kernels)
EOF
  for generator in "${generators[@]}"; do
    local name; name=$(gen_name "$generator")
    configure_and_build "$generator" "scope-$name" || continue
    [ -x "$bin/app" ] && pass "$name: PUBLIC: app includes k.h of the library it links" || fail "$name: no app" "$(ls "$bin")"
    local out
    if out=$(cmake --build "$bin" --target leak 2>&1); then fail "$name: PRIVATE: leak.c found hidden.h" "$out"
    else grep -q "hidden.h" <<<"$out" && pass "$name: PRIVATE: hidden.h is not on a consumer's include path" || fail "$name: leak failed otherwise" "$out"; fi
  done
}

case "$FEATURE" in
  docs_examples | archs | cuda_architectures | genex | same_name | source_properties | emit_source | scope) "$FEATURE" ;;
  *) echo "test_cmake_package.sh: unknown feature '$FEATURE'"; exit 2 ;;
esac
finish
