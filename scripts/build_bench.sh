#!/usr/bin/env bash
# build_bench.sh: builds the performance suite (bench/) into .bench/ (here, no GPU needed).
#
#   scripts/build_bench.sh                 # uses build/tlc
#   TLC=build-foo/tlc scripts/build_bench.sh
#
# For every configuration below it compiles the kernel with tlc (cubin + launcher
# header) and the host program bench/tlc/<program> with g++ against the Driver API stub
# (static libstdc++/libgcc, so it runs on the GPU machine as built here). A kernel tlc
# rejects today is written to .bench/not_compiled.txt with tlc's first error and shows
# in the table as "not yet compiled by tlc": the suite grows as tlc does. A host
# program that fails to build against a header tlc did write is a real failure
# (.bench/build_failed.txt). Then the copy-ceiling program, the Python peers
# (peers.py, triton_kernels.py), report.py, run_bench.sh, and a host-memory mock of
# libcuda (tests/gpu/mock) for the CPU-only rehearsal:
#   bash .bench/run_bench.sh --dry-run     # here: plumbing, checks, table, JSON
#   bash .bench/run_bench.sh               # on the GPU machine (carry .bench)
# Kernels come from examples/ in the repo when there, else from the spec's examples.
#
# An A/B of compilers in one device call:
#   TLC_AB=/path/to/other/tlc [TLC_AB_ENV="VAR=value ..."] [TLC_AB_ONLY=regex] scripts/build_bench.sh
# also builds each configuration (whose name matches TLC_AB_ONLY) with the other tlc
# (run under TLC_AB_ENV) into .bench/ab_bin/B/: side B against this build, side A. More
# sides at once: TLC_AB_SIDES="B:/path/tlc:VAR=value VAR2=value;C:/path/tlc:" (name,
# tlc, environment; the same tlc under two environments makes two sides). On the GPU
# machine
#   bash .bench/run_ab.sh [filter]
# runs every side of each program back to back, in rounds, and prints bench/ab.py's table.
# A side's program that is A's byte for byte (the switch did not change that kernel) is
# deleted, not run: ab_info.txt lists them, and the A/B times only what changed.
# Exit status: 0 when everything that tlc compiles was built, 1 otherwise.
set -u
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
tlc="${TLC:-build/tlc}"
cuda="${CUDA_HOME:-/usr/local/cuda}"
out=.bench
log="$out/build.log"

# name | .tl | tlc options | host program | host defines | kernel | op | shapes (small ones marked small:)
configs=(
  "tile_copy|tile_copy.tl||copy2d.cpp||tile_copy|tile copy|16384x16384 fp16;small:256x256 fp16"
  # Two 8 KB tiles users write: 128-byte rows against 256-byte rows (issue 22: the spec's
  # 64 x 64 im2col and fp16 transpose tiles run 3-4 points behind wider ones).
  "tile_copy_64x64|tile_copy.tl|-D BM=64 -D BN=64|copy2d.cpp||tile_copy|tile copy|16384x16384 fp16;small:256x256 fp16"
  "tile_copy_32x128|tile_copy.tl|-D BM=32 -D BN=128|copy2d.cpp||tile_copy|tile copy|16384x16384 fp16;small:256x256 fp16"
  "tma_explicit|tma_explicit.tl||copy2d.cpp||stream_rows|tile copy|16384x16384 fp16;small:256x256 fp16"
  # The spec's ring four stages deep (tests/gpu/kernels/tma_explicit_ring4.tl): how much of
  # tma_explicit's distance to the ceiling is its two-stage ring.
  "tma_explicit_ring4|tma_explicit_ring4.tl||copy2d.cpp||stream_rows|tile copy|16384x16384 fp16;small:256x256 fp16"
  "transpose|transpose.tl||transpose.cpp||transpose2d|transpose|8192x8192 fp32;small:256x256 fp32"
  "transpose_T32|transpose.tl|-D T=32|transpose.cpp||transpose2d|transpose|8192x8192 fp32;small:256x256 fp32"
  "transpose_f16|transpose.tl|-D DT=float16|transpose.cpp|-DTR_ELEM_BYTES=2 -DTR_LARGE=16384|transpose2d|transpose|16384x16384 fp16;small:256x256 fp16"
  # The load into s by TMA where lowering picks cp.async (tests/gpu/kernels/transpose_tma_load.tl).
  "transpose_f16_tma_load|transpose_tma_load.tl|-D DT=float16|transpose.cpp|-DTR_ELEM_BYTES=2 -DTR_LARGE=16384|transpose2d|transpose|16384x16384 fp16;small:256x256 fp16"
  "transpose_tma_load|transpose_tma_load.tl||transpose.cpp||transpose2d|transpose|8192x8192 fp32;small:256x256 fp32"
  "transpose_grouped|transpose_grouped.tl||transpose.cpp||transpose2d|transpose|8192x8192 fp32;small:256x256 fp32"
  "transpose_grouped_f16|transpose_grouped.tl|-D DT=float16|transpose.cpp|-DTR_ELEM_BYTES=2 -DTR_LARGE=16384|transpose2d|transpose|16384x16384 fp16;small:256x256 fp16"
  "transpose_f16_T128|transpose.tl|-D DT=float16 -D T=128|transpose.cpp|-DTR_ELEM_BYTES=2 -DTR_LARGE=16384|transpose2d|transpose|16384x16384 fp16;small:256x256 fp16"
  "im2col_large|im2col.tl|-D NB=32 -D C=256|im2col.cpp|-DIM_NB=32 -DIM_C=256 -DIM_SIZE=\"large\"|unfold|im2col|N32 56x56 C256 fp16 3x3 s1 p1"
  "im2col_bm32_bk128_large|im2col.tl|-D NB=32 -D C=256 -D BM=32 -D BK=128|im2col.cpp|-DIM_NB=32 -DIM_C=256 -DIM_SIZE=\"large\"|unfold|im2col|N32 56x56 C256 fp16 3x3 s1 p1"
  "im2col_tma_bk128_large|im2col.tl|-D NB=32 -D C=256 -D BK=128|im2col.cpp|-DIM_NB=32 -DIM_C=256 -DIM_SIZE=\"large\"|unfold|im2col|N32 56x56 C256 fp16 3x3 s1 p1"
  "im2col_tma_bm128_bk128_large|im2col.tl|-D NB=32 -D C=256 -D BM=128 -D BK=128|im2col.cpp|-DIM_NB=32 -DIM_C=256 -DIM_SIZE=\"large\"|unfold|im2col|N32 56x56 C256 fp16 3x3 s1 p1"
  "im2col_cpasync_large|im2col_cpasync.tl|-D NB=32 -D C=256|im2col.cpp|-DIM_NB=32 -DIM_C=256 -DIM_SIZE=\"large\"|unfold|im2col|N32 56x56 C256 fp16 3x3 s1 p1"
  "im2col_cpasync_bm32_bk128_large|im2col_cpasync.tl|-D NB=32 -D C=256 -D BM=32 -D BK=128|im2col.cpp|-DIM_NB=32 -DIM_C=256 -DIM_SIZE=\"large\"|unfold|im2col|N32 56x56 C256 fp16 3x3 s1 p1"
  # Two 64x64 tiles a block, both loads in flight before the first store.
  "im2col_two_tiles_large|im2col_two_tiles.tl|-D NB=32 -D C=256|im2col.cpp|-DIM_NB=32 -DIM_C=256 -DIM_SIZE=\"large\"|unfold|im2col|N32 56x56 C256 fp16 3x3 s1 p1"
  "im2col_two_tiles_s2_large|im2col_two_tiles.tl|-D NB=32 -D C=256 -D S=2|im2col.cpp|-DIM_NB=32 -DIM_C=256 -DIM_S=2 -DIM_SIZE=\"large\"|unfold|im2col|N32 56x56 C256 fp16 3x3 s2 p1"
  # The spec's 64x64 tile loaded as four 16-pixel im2col loads (a tile-shape sweep put
  # 64-pixel boxes last and 16-pixel ones first: docs/performance.md, thirteenth session).
  "im2col_split16_large|im2col_split16.tl|-D NB=32 -D C=256|im2col.cpp|-DIM_NB=32 -DIM_C=256 -DIM_SIZE=\"large\"|unfold|im2col|N32 56x56 C256 fp16 3x3 s1 p1"
  "im2col_split16_s2_large|im2col_split16.tl|-D NB=32 -D C=256 -D S=2|im2col.cpp|-DIM_NB=32 -DIM_C=256 -DIM_S=2 -DIM_SIZE=\"large\"|unfold|im2col|N32 56x56 C256 fp16 3x3 s2 p1"
  "im2col_s2_large|im2col.tl|-D NB=32 -D C=256 -D S=2|im2col.cpp|-DIM_NB=32 -DIM_C=256 -DIM_S=2 -DIM_SIZE=\"large\"|unfold|im2col|N32 56x56 C256 fp16 3x3 s2 p1"
  "im2col_small|im2col.tl|-D NB=1 -D H=8 -D W=8|im2col.cpp|-DIM_NB=1 -DIM_H=8 -DIM_W=8 -DIM_SIZE=\"small\"|unfold|im2col|small:N1 8x8 C64 fp16 3x3 s1 p1"
  "batch_sum|batch_sum.tl||batch_sum.cpp||batch_sum|batch sum|16x4096x4096 fp16->fp32;small:4x256x256 fp16->fp32"
  "axpy_fragment|axpy_fragment.tl||axpy.cpp||axpy|axpy|16384x16384 fp32;small:256x256 fp32"
  "scale_ptr|scale_ptr.tl||scale.cpp||scale|scale|n=134217728 fp32;small:n=65536 fp32"
  "macro_scope|macro_scope.tl||macro_scope.cpp||twice|B=2A, C=3A|8192x8192 fp32;small:256x256 fp32"
  "strided_compact|strided_compact.tl||strided_compact.cpp||compact|strided compact|16384x8192 bf16 of ldx=16384;small:256x256 bf16 of ldx=512"
  # Issue 21 item 4: the row kernels of examples/ (bench/tlc/row_kernels.cpp, one build per kernel).
  "softmax|softmax.tl||row_kernels.cpp|-DROW_SOFTMAX|softmax|softmax|16384x4096 fp16;small:256x1024 fp16"
  "rmsnorm|rmsnorm.tl||row_kernels.cpp|-DROW_RMSNORM|rmsnorm|rmsnorm|16384x4096 fp16;small:256x1024 fp16"
  "layernorm|layernorm.tl||row_kernels.cpp|-DROW_LAYERNORM|layernorm|layernorm|16384x4096 fp16;small:256x1024 fp16"
  "fp8_quant|fp8_quant.tl||row_kernels.cpp|-DROW_FP8_QUANT|fp8_quant|fp8 quant|16384x4096 fp16;small:256x1024 fp16"
  # The same with 512 threads a block (a row block's registers spread thinner: 8 elements a thread).
  "softmax_t512|softmax.tl|-D THREADS=512|row_kernels.cpp|-DROW_SOFTMAX|softmax|softmax|16384x4096 fp16"
  "rmsnorm_t512|rmsnorm.tl|-D THREADS=512|row_kernels.cpp|-DROW_RMSNORM|rmsnorm|rmsnorm|16384x4096 fp16"
  "layernorm_t512|layernorm.tl|-D THREADS=512|row_kernels.cpp|-DROW_LAYERNORM|layernorm|layernorm|16384x4096 fp16"
  "fp8_quant_t512|fp8_quant.tl|-D THREADS=512|row_kernels.cpp|-DROW_FP8_QUANT|fp8_quant|fp8 quant|16384x4096 fp16"
  "col_sum|col_sum.tl||row_kernels.cpp|-DROW_COL_SUM|col_sum|col sum|16384x4096 fp16->fp32;small:256x1024 fp16->fp32"
  "bias_gelu|bias_gelu.tl||row_kernels.cpp|-DROW_BIAS_GELU|bias_gelu|bias+gelu|16384x4096 fp16;small:256x1024 fp16"
)

die() { echo "build_bench: $*" >&2; exit 2; }

[ -f "$cuda/include/cuda.h" ] || die "no $cuda/include/cuda.h (set CUDA_HOME)"
[ -f "$cuda/lib64/stubs/libcuda.so" ] || die "no $cuda/lib64/stubs/libcuda.so (the Driver API stub)"
[ -x "$tlc" ] || die "no tlc at '$tlc' (build it: cmake --build build --target tlc, or set TLC=path/to/tlc)"

rm -rf "$out"
mkdir -p "$out/bin" "$out/kernels" "$out/mock"
: >"$log"
: >"$out/not_compiled.txt"
: >"$out/build_failed.txt"

find_source() {  # the .tl file by name: the repo's examples first, then the spec's
  for dir in examples tests/gpu/kernels ../shared/spec/examples /work/shared/spec/examples; do
    [ -f "$dir/$1" ] && { echo "$dir/$1"; return 0; }
  done
  return 1
}

host_flags=(-std=c++17 -O2 -Wall -Wextra -Werror -I"$repo/bench" -I"$repo/tests/gpu" -I"$cuda/include")
link_flags=(-L"$cuda/lib64/stubs" -lcuda -static-libstdc++ -static-libgcc -s)

built=()
not_compiled=()
failed=()
build_config() {  # CONFIG TLC BIN_DIR KERNELS_DIR [VAR=value ...]: one configuration; 0 when built
  local config="$1" tlc="$2" bindir="$3" kroot="$4"
  shift 4
  local name source tlc_options program defines kernel op shapes kdir what src why cmd extra_defines
  IFS='|' read -r name source tlc_options program defines kernel op shapes <<<"$config"
  kdir="$kroot/$name"
  mkdir -p "$kdir"
  what="$source${tlc_options:+ $tlc_options}"
  src="$(find_source "$source")" || { echo "$name|$op|$what|$shapes|no $source found" >>"$not_compiled_file";
                                      not_compiled+=("$name (no $source)"); return 1; }

  # The kernel: tlc writes <name>.cubin and <name>.h beside it.
  echo "== $name: $tlc $src -o $kdir/$name.cubin $tlc_options" >>"$log"
  # shellcheck disable=SC2086  # tlc_options is a list of words
  if ! env "$@" "$tlc" "$src" -o "$kdir/$name.cubin" $tlc_options >"$kdir/tlc.log" 2>&1; then
    cat "$kdir/tlc.log" >>"$log"
    why="$(grep -m1 'error' "$kdir/tlc.log" | sed 's/^[^ ]*: error: //; s/|/\//g')"
    echo "$name|$op|$what|$shapes|tlc: ${why:-failed}" >>"$not_compiled_file"
    not_compiled+=("$name (${why:-tlc failed})")
    return 1
  fi
  cat "$kdir/tlc.log" >>"$log"
  [ -f "$kdir/$name.h" ] || { echo "$name|$op|$what|$shapes|tlc wrote no header" >>"$build_failed_file";
                              failed+=("$name (no header)"); return 1; }

  read -r -a extra_defines <<<"$defines"  # words; quotes inside stay literal
  cmd=(g++ "${host_flags[@]}" -I"$kdir" "-DTLC_KERNEL_HEADER=\"$name.h\"" "-DBENCH_KERNEL=$kernel"
       "-DBENCH_WHAT=\"$what\"" "${extra_defines[@]}" "bench/tlc/$program" -o "$bindir/tlc_$name" "${link_flags[@]}")
  echo "== $name: ${cmd[*]}" >>"$log"
  if ! "${cmd[@]}" >>"$log" 2>&1; then
    echo "$name|$op|$what|$shapes|host program bench/tlc/$program did not compile against $name.h (see build.log)" \
      >>"$build_failed_file"
    failed+=("$name (host program failed to compile)")
    return 1
  fi
  rm -f "$kdir/$name.h"  # embedded in the program; keeps what travels small
  return 0
}

not_compiled_file="$out/not_compiled.txt"
build_failed_file="$out/build_failed.txt"
for config in "${configs[@]}"; do
  build_config "$config" "$tlc" "$out/bin" "$out/kernels" && built+=("${config%%|*}")
done
# The other sides of an A/B (see the top): TLC_AB_SIDES, or TLC_AB and TLC_AB_ENV as side B.
ab_sides="${TLC_AB_SIDES:-}"
[ -z "$ab_sides" ] && [ -n "${TLC_AB:-}" ] && ab_sides="B:$TLC_AB:${TLC_AB_ENV:-}"
if [ -n "$ab_sides" ]; then
  : >"$out/ab_info.txt"
  not_compiled_file="$out/ab_not_compiled.txt"
  build_failed_file="$out/ab_build_failed.txt"
  : >"$not_compiled_file"
  : >"$build_failed_file"
  IFS=';' read -r -a side_list <<<"$ab_sides"
  for side in "${side_list[@]}"; do
    IFS=':' read -r side_name side_tlc side_env <<<"$side"
    [[ "$side_name" =~ ^[A-Za-z0-9_]+$ && "$side_name" != A ]] || die "side name '$side_name' (a word, not A)"
    [ -x "$side_tlc" ] || die "no tlc at '$side_tlc' (side $side_name)"
    mkdir -p "$out/ab_bin/$side_name" "$out/ab_kernels/$side_name"
    read -r -a side_vars <<<"$side_env"
    echo "$side_name: $("$side_tlc" --version 2>&1 | head -1) ($side_tlc); environment: ${side_env:-none}" >>"$out/ab_info.txt"
    for config in "${configs[@]}"; do
      [[ "${config%%|*}" =~ ${TLC_AB_ONLY:-.} ]] || continue
      build_config "$config" "$side_tlc" "$out/ab_bin/$side_name" "$out/ab_kernels/$side_name" "${side_vars[@]}" ||
        continue
      # A side whose program is A's byte for byte (the same cubin and header) would only
      # measure noise: it is not carried, and ab_info.txt says so.
      config_name="${config%%|*}"
      if cmp -s "$out/bin/tlc_$config_name" "$out/ab_bin/$side_name/tlc_$config_name"; then
        rm -f "$out/ab_bin/$side_name/tlc_$config_name"
        echo "$side_name: $config_name is A's program byte for byte (not run)" >>"$out/ab_info.txt"
      else
        built+=("$config_name ($side_name)")
      fi
    done
  done
fi

# The copy ceiling, the peers, the report and the runner.
if g++ "${host_flags[@]}" bench/ceiling.cpp -o "$out/bin/ceiling" "${link_flags[@]}" >>"$log" 2>&1; then
  built+=(ceiling)
else
  failed+=("ceiling (failed to compile)")
fi
cp bench/peers.py bench/triton_kernels.py bench/report.py bench/run_bench.sh bench/run_ab.sh bench/ab.py "$out/"
chmod +x "$out/run_bench.sh" "$out/run_ab.sh"
# The rehearsal's stand-in for libcuda.so.1 (never used unless --dry-run): the tests'
# mock, whose tensor-map encoder refuses, so launchers fall back to SIMT.
if ! gcc -std=gnu11 -O2 -fPIC -shared -I"$cuda/include" -o "$out/mock/libcuda.so.1" tests/gpu/mock/mock_cuda.c \
     -lm >>"$log" 2>&1; then
  failed+=("mock libcuda for --dry-run (failed to compile)")
fi
{
  echo "tlc: $("$tlc" --version 2>&1 | head -1)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "built: $(date -u '+%Y-%m-%d %H:%M UTC')"
} >"$out/build_info.txt"

# The programs are static host binaries of about 1 MB each, 60 MB and more with an A/B's
# sides: packed they are 3 MB, well under what a device call carries (64 MiB).
# run_bench.sh and run_ab.sh unpack them where they run.
packed=(bin)
[ -d "$out/ab_bin" ] && packed+=(ab_bin)
if tar -C "$out" -cJf "$out/bins.tar.xz" "${packed[@]}"; then
  rm -rf "${packed[@]/#/$out/}"
else
  failed+=("bins.tar.xz (could not pack ${packed[*]})")
fi

echo "built into $out/: ${built[*]:-nothing}"
if [ ${#not_compiled[@]} -ne 0 ]; then
  echo "not yet compiled by tlc (listed as such in the table):"
  printf '  %s\n' "${not_compiled[@]}"
fi
if [ ${#failed[@]} -ne 0 ]; then
  echo "FAILED:"
  printf '  %s\n' "${failed[@]}"
  echo "details: $log"
fi
echo "size: $(du -sh "$out" | cut -f1) (carry .bench; run: bash .bench/run_bench.sh)"
[ ${#failed[@]} -eq 0 ] || exit 1
exit 0
