#!/usr/bin/env bash
# build_tilelang_ports.sh: builds the TileLang ports for the GPU harness into .gpu-ports/
# (runs here, no GPU needed).
#
#   scripts/build_tilelang_ports.sh                  # uses build/tlc
#   TLC=build-foo/tlc scripts/build_tilelang_ports.sh
#   TLC_PORTS_ONLY='^copy' scripts/build_tilelang_ports.sh   # only configurations matching
#
# For every configuration of tests/tilelang/ports_table.py it runs
#   tlc PORT.tl --emit=cubin,header,source --prefix ID -o .gpu-ports/ID/ID.cubin [-D ...]
# and links the generated ID.c (the embedded cubin and the launch functions) into
# .gpu-ports/ID/libID.so with gcc against the Driver API stub (libcuda.so.1 is the
# real driver's on the GPU machine). tests/tilelang/ports/launch.py loads it with
# ctypes. A configuration tlc rejects is listed in .gpu-ports/rejected.txt (the
# manifest, tests/tilelang/ports/MANIFEST, says which are expected); the harness
# fails a case whose configuration the manifest says compiles but is not built.
# On the GPU machine (carry .gpu-ports):
#   python3 tests/tilelang/test_ports_gpu.py
# Exit status: 0, or 1 when a configuration the manifest says compiles did not build.
set -u
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
tlc="$(realpath "${TLC:-build/tlc}")"
cuda="${CUDA_HOME:-/usr/local/cuda}"
out=.gpu-ports
[ -x "$tlc" ] || { echo "build_tilelang_ports: no tlc at '$tlc'" >&2; exit 2; }
[ -f "$cuda/include/cuda.h" ] || { echo "build_tilelang_ports: no $cuda/include/cuda.h (set CUDA_HOME)" >&2; exit 2; }
[ -f "$cuda/lib64/stubs/libcuda.so" ] || { echo "build_tilelang_ports: no $cuda/lib64/stubs/libcuda.so" >&2; exit 2; }

rm -rf "$out"
mkdir -p "$out"
log="$out/build.log"
: >"$log"
: >"$out/built.txt"
: >"$out/rejected.txt"
manifest=tests/tilelang/ports/MANIFEST
built=0
rejected=0
unexpected=()
while read -r id file flags; do
  [ -n "${TLC_PORTS_ONLY:-}" ] && ! [[ "$id" =~ $TLC_PORTS_ONLY ]] && continue
  dir="$out/$id"
  mkdir -p "$dir"
  echo "== $id: tlc $file --emit=cubin,header,source --prefix $id $flags" >>"$log"
  # shellcheck disable=SC2086  # flags is a list of words
  if ! (cd tests/tilelang/ports && "$tlc" "$file" --emit=cubin,header,source --prefix "$id" \
          -o "$repo/$dir/$id.cubin" $flags) >>"$log" 2>&1; then
    rm -rf "$dir"
    echo "$id" >>"$out/rejected.txt"
    rejected=$((rejected + 1))
    grep -qx "$id: compiles" "$manifest" && unexpected+=("$id (tlc failed; the manifest says it compiles)")
    continue
  fi
  if ! gcc -std=c11 -O1 -shared -fPIC -I"$cuda/include" "$dir/$id.c" -o "$dir/lib$id.so" \
         -L"$cuda/lib64/stubs" -lcuda >>"$log" 2>&1; then
    unexpected+=("$id (gcc failed on the generated .c)")
    rm -rf "$dir"
    continue
  fi
  rm -f "$dir/$id.c" "$dir/$id.cubin"   # embedded in the .so; the header stays for launch.py
  echo "$id" >>"$out/built.txt"
  built=$((built + 1))
done < <(python3 tests/tilelang/ports_table.py)

echo "build_tilelang_ports: built $built configurations into $out/, $rejected rejected by tlc (see $out/rejected.txt)"
echo "size: $(du -sh "$out" | cut -f1) (carry .gpu-ports; run: python3 tests/tilelang/test_ports_gpu.py)"
if [ ${#unexpected[@]} -ne 0 ]; then
  echo "FAILED:"
  printf '  %s\n' "${unexpected[@]}"
  echo "details: $log"
  exit 1
fi
exit 0
