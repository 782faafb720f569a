#!/usr/bin/env bash
# fuzz_headers.sh: compiles the launcher headers of fuzz inputs with real C and C++
# compilers, which fuzz_backend itself only checks textually (a compiler per input
# would slow it a hundredfold).
#
#   scripts/fuzz_headers.sh [--build DIR] [--max N] FILE...
#
# Each FILE (a .tl input, e.g. from fuzz_backend's corpus) is replayed by
# DIR/tests/fuzz/fuzz_backend with TLC_FUZZ_HEADERS set, which writes its headers
# (tests/fuzz/fuzz_backend.cpp): single.h (sm_90a), multi.h (sm_80 + sm_90a) and the
# pair fuzz.h + fuzz.c. Each header is included twice (the guard) in a C11 and a
# C++17 unit, and fuzz.c is compiled as C11, all with -Wall -Wextra -Werror, as the
# example_headers test does. Inputs that do not reach the header writer are skipped;
# --max N compiles the headers of the first N inputs that do (in the order given).
# Exit 0 when every header compiles, 1 otherwise (the compiler's output is shown).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$ROOT/build-asan
max=0
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --max) max=$2; shift 2 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "fuzz_headers.sh: no inputs" >&2; exit 0; }
cuda_include=${CUDA_HOME:-/usr/local/cuda}/include

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Replayed one by one: a file libFuzzer cannot run (a directory, unreadable) is named.
replayed=0
for input in "$@"; do
  if [ "$max" != 0 ] && [ "$(find "$tmp/h" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l)" -ge "$max" ]; then break; fi
  TLC_FUZZ_HEADERS=$tmp/h "$build/tests/fuzz/fuzz_backend" "$input" >"$tmp/replay.log" 2>&1 || {
    tail -n 30 "$tmp/replay.log"
    echo "fuzz_headers.sh: fuzz_backend failed on $input" >&2
    exit 1
  }
  replayed=$((replayed + 1))
done

flags=(-Wall -Wextra -Werror -fsyntax-only "-I$cuda_include")
status=0
compiled=0
check() {  # DIR COMPILER STD UNIT
  local out
  if ! out=$("$2" "$3" "${flags[@]}" "-I$1" "$4" 2>&1); then
    echo "fuzz_headers.sh: $2 $3 rejects $4:" >&2
    echo "$out" | head -n 40 >&2
    status=1
  fi
  compiled=$((compiled + 1))
}
for dir in "$tmp"/h/*/; do
  [ -d "$dir" ] || continue
  for header in single.h multi.h fuzz.h; do
    [ -f "$dir/$header" ] || continue
    printf '#include "%s"\n#include "%s"\nint main(void) { return 0; }\n' "$header" "$header" >"$dir/use_${header%.h}.c"
    cp "$dir/use_${header%.h}.c" "$dir/use_${header%.h}.cpp"
    check "$dir" gcc -std=c11 "$dir/use_${header%.h}.c"
    check "$dir" g++ -std=c++17 "$dir/use_${header%.h}.cpp"
  done
  [ -f "$dir/fuzz.c" ] && check "$dir" gcc -std=c11 "$dir/fuzz.c"
done
echo "fuzz_headers.sh: $replayed inputs replayed, $(find "$tmp/h" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l) reached the header writer, $compiled compilations, $([ $status = 0 ] && echo all clean || echo FAILURES)"
exit $status
