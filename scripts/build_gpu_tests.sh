#!/usr/bin/env bash
# build_gpu_tests.sh: builds the GPU test harness into .gpu/ (runs here, no GPU needed).
#
#   scripts/build_gpu_tests.sh            # uses build/tlc
#   TLC=build-foo/tlc scripts/build_gpu_tests.sh
#   TLC_GPU_ONLY='tile_copy_sm90a' scripts/build_gpu_tests.sh   # only configs matching this regex
#
# For every test configuration below it compiles the kernel with tlc (cubin + header)
# and the host program tests/gpu/<program>.cpp with g++ against the Driver API stub;
# then the header self-test (hand-written CUDA kernels built with nvcc, their header
# written by the real generator: needs no tlc), the `ceiling` program and run_all.sh.
# Everything the GPU machine needs is in .gpu/ (git-ignored): carry `.gpu` and run
# `bash .gpu/run_all.sh` there.
# Kernels come from examples/ in the repo when there, else from ../shared/spec/examples.
# A configuration that fails to build is reported and left out; the exit status is
# 1 when any did, 2 when nothing could be built.
# A configuration with a run-time environment (the 6th column: words NAME=VALUE, `@/`
# standing for the .gpu folder) is built into libexec/, and bin/<name> is a small
# script that runs it with that environment: run_all.sh and gpu_sanitize.sh run it
# like any other test. The LD_PRELOAD shims it may name are built into lib/.
# .gpu/configs.txt lists every program asked for (one name a line, after TLC_GPU_ONLY,
# then header_selftest and ceiling): run_all.sh fails a listed one whose binary is
# missing, so a configuration that did not build cannot pass by being absent.
set -u
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
tlc="${TLC:-build/tlc}"
cuda="${CUDA_HOME:-/usr/local/cuda}"
out=.gpu
log="$out/build.log"

# name | .tl file | tlc options | host program | host compiler defines | run-time environment
configs=(
  "tile_copy|tile_copy.tl||tile_copy.cpp|"
  "tile_copy_simt|tile_copy_simt.tl||tile_copy.cpp|"
  "tile_copy_prefer_cp_async|tile_copy_prefer_cp_async.tl||tile_copy.cpp|"
  "tile_copy_prefer_tma|tile_copy_prefer_tma.tl||tile_copy.cpp|"
  "tile_copy_prefer_sync|tile_copy_prefer_sync.tl||tile_copy.cpp|"
  "tile_copy_bf16|tile_copy.tl|-D DT=bfloat16|tile_copy.cpp|-DTLC_DTYPE_NAME=\"bf16\""
  "tile_copy_f32|tile_copy.tl|-D DT=float32|tile_copy.cpp|-DTLC_ELEM_BYTES=4 -DTLC_DTYPE_NAME=\"fp32\""
  "tile_copy_i8|tile_copy.tl|-D DT=int8|tile_copy.cpp|-DTLC_ELEM_BYTES=1 -DTLC_DTYPE_NAME=\"i8\""
  "tile_copy_64x256|tile_copy.tl|-D BM=64 -D BN=256|tile_copy.cpp|"
  "tile_copy_256x128|tile_copy.tl|-D BM=256|tile_copy.cpp|"
  "axpy_fragment|axpy_fragment.tl||axpy_fragment.cpp|"
  # Fragments past the unrolling budget (128 elements a thread, src/ir/Limits.def): the
  # copies and the Parallel loop stay loops, the fragments live in local memory.
  # 256 elements a thread, then 4096 (the per-thread cap).
  "axpy_fragment_rolled|axpy_fragment.tl|-D BM=64 -D BN=1024|axpy_fragment.cpp|"
  "axpy_fragment_cap|axpy_fragment.tl|-D BM=256 -D BN=4096|axpy_fragment.cpp|"
  "scale_ptr|scale_ptr.tl||scale_ptr.cpp|"
  "macro_scope|macro_scope.tl||macro_scope.cpp|"
  "batch_sum|batch_sum.tl||batch_sum.cpp|"
  "strided_compact|strided_compact.tl||strided_compact.cpp|"
  "elem_offset|elem_offset_copy.tl||elem_offset.cpp|"
  # TileLang's proxies: offset_factor (launcher refusals), subscript form, BaseTensor,
  # views of ptr() / make_tensor defaults, Buffer.from_ptr, StridedTensor.from_ptr.
  "proxies|proxies.tl||proxies.cpp|"
  # eviction_policy on SIMT copies: ld/st.global.L2::cache_hint at every access width.
  "eviction_simt|eviction_simt.tl||eviction_simt.cpp|"
  "eviction_simt_sm80_ptxjit|eviction_simt.tl|--arch=sm_80|eviction_simt.cpp|"
  # Part of a fragment and single fragment elements (owner-thread direct accesses).
  "fragment_part|fragment_part.tl||fragment_part.cpp|"
  "fragment_part_sm80_ptxjit|fragment_part.tl|--arch=sm_80|fragment_part.cpp|"
  # copy(A, s) with A of symbolic shape: the head tile, a too-small A refused by the launcher.
  "whole_head|whole_head.tl||whole_head.cpp|"
  "strided_compact_simt|strided_compact_simt.tl||strided_compact.cpp|"
  "im2col|im2col.tl||im2col.cpp|"
  "im2col_s2|im2col.tl|-D S=2|im2col.cpp|-DIM_S=2"
  "im2col_d2|im2col.tl|-D D=2|im2col.cpp|-DIM_D=2"
  "im2col_k5_s2_d2_p0|im2col.tl|-D KW=5 -D S=2 -D D=2 -D P=0|im2col.cpp|-DIM_KW=5 -DIM_S=2 -DIM_D=2 -DIM_P=0"
  "im2col_ragged|im2col.tl|-D NB=3 -D H=13 -D W=11 -D C=40|im2col.cpp|-DIM_NB=3 -DIM_H=13 -DIM_W=11 -DIM_C=40"
  "im2col_ragged_128x32|im2col.tl|-D NB=3 -D H=13 -D W=11 -D C=40 -D BM=128 -D BK=32 -D S=2|im2col.cpp|-DIM_NB=3 -DIM_H=13 -DIM_W=11 -DIM_C=40 -DIM_S=2"
  "im2col_c6|im2col.tl|-D NB=2 -D H=9 -D W=7 -D C=6 -D S=2|im2col.cpp|-DIM_NB=2 -DIM_H=9 -DIM_W=7 -DIM_C=6 -DIM_S=2 -DTLC_ALIGN_BYTES=4"
  "im2col_c3|im2col.tl|-D NB=2 -D H=10 -D W=10 -D C=3 -D P=2 -D D=3|im2col.cpp|-DIM_NB=2 -DIM_H=10 -DIM_W=10 -DIM_C=3 -DIM_P=2 -DIM_D=3 -DTLC_ALIGNED_ENTRY=\"unfold\""
  "c2d_im2col|c2d_im2col.tl||im2col.cpp|-DIM_NB=2 -DIM_H=30 -DIM_W=17 -DIM_C=24 -DIM_S=2 -DIM_D=2 -DIM_P=2"
  # TMA's im2col mode with ragged M (429 and 3*7*6 = 126 rows), two channel boxes per
  # tap, stride and dilation 2, a Pipelined ring (and its cp.async fallback, C = 40).
  "im2col_ragged_tma|im2col.tl|-D NB=3 -D H=13 -D W=11 -D C=64 -D BK=32|im2col.cpp|-DIM_NB=3 -DIM_H=13 -DIM_W=11 -DIM_C=64"
  "im2col_ragged_tma_s2d2|im2col.tl|-D NB=3 -D H=13 -D W=11 -D C=32 -D BM=128 -D BK=32 -D S=2 -D D=2|im2col.cpp|-DIM_NB=3 -DIM_H=13 -DIM_W=11 -DIM_C=32 -DIM_S=2 -DIM_D=2"
  "im2col_pipelined|im2col_pipelined.tl||im2col.cpp|-DIM_NB=3 -DIM_H=13 -DIM_W=11 -DIM_C=64 -DIM_S=2 -DIM_D=2"
  "im2col_swizzled128|im2col_swizzled128.tl|-D NB=3 -D H=13 -D W=11|im2col.cpp|-DIM_NB=3 -DIM_H=13 -DIM_W=11"
  "im2col_cpasync_padded|im2col_cpasync.tl|-D NB=3 -D H=13 -D W=11|im2col.cpp|-DIM_NB=3 -DIM_H=13 -DIM_W=11"
  "im2col_pipelined_c40|im2col_pipelined.tl|-D C=40 -D BK=16|im2col.cpp|-DIM_NB=3 -DIM_H=13 -DIM_W=11 -DIM_C=40 -DIM_S=2 -DIM_D=2"
  "launcher_hostile|tile_copy.tl||launcher_hostile.cpp|"
  "launcher_hostile_smem224k|tile_copy.tl|-D BN=896|launcher_hostile.cpp|"
  # 227x512 fp16: 232448 B, exactly the opt-in shared memory a Hopper block may use.
  "launcher_hostile_smem227k|tile_copy.tl|-D BM=227 -D BN=512|launcher_hostile.cpp|"
  "launcher_hostile_tma|tile_copy_prefer_tma.tl||launcher_hostile.cpp|-DTLC_LAST_ERROR=tile_copy_prefer_tma_last_error"
  "launcher_hostile_strided|strided_copy_tma.tl||launcher_hostile_strided.cpp|"
  # Dynamic shared memory beyond the device's opt-in limit, on the real driver: the shim
  # (tests/gpu/smem_limit_shim.c, preloaded) pretends an sm_86-sized limit of 101376 B.
  # 227 KB is refused naming both sizes, 64 KB (still an opt-in) runs; unshimmed, 227 KB runs.
  "launcher_smem_limit_refused|tile_copy.tl|-D BM=227 -D BN=512|launcher_smem_limit.cpp|-DTLC_EXPECT_REFUSED=1|LD_PRELOAD=@/lib/libsmem_limit_shim.so TLC_SHIM_SMEM_OPTIN=101376"
  "launcher_smem_limit_fits|tile_copy.tl|-D BM=64 -D BN=512|launcher_smem_limit.cpp||LD_PRELOAD=@/lib/libsmem_limit_shim.so TLC_SHIM_SMEM_OPTIN=101376"
  "launcher_smem_limit_unshimmed|tile_copy.tl|-D BM=227 -D BN=512|launcher_smem_limit.cpp||"
  # Two cubins in one header (sm_100a through the retargeted sm_90 PTX): an H100/H200
  # must load the sm_90a one and compute the same result.
  "tile_copy_sm90a_sm100a|tile_copy.tl|--arch=sm_90a,sm_100a|tile_copy.cpp|-DTLC_EXPECT_ARCH=\"sm_90a\""
  # sm_80 and sm_90a in one header, each lowered for its own target: Hopper takes its own.
  "tile_copy_sm80_sm90a|tile_copy.tl|--arch=sm_80,sm_90a|tile_copy.cpp|-DTLC_EXPECT_ARCH=\"sm_90a\""
  "batch_sum_sm80_sm90a|batch_sum.tl|--arch=sm_80,sm_90a|batch_sum.cpp|"
  # The sm_80 lowering (no TMA: cp.async and SIMT routes, cp.async pipelines) run on
  # Hopper: *_ptxjit configurations embed the sm_80 PTX (tests/gpu/embed_ptx.py), which
  # the driver compiles for the device; an sm_80 cubin would not load on sm_90.
  "batch_sum_sm80_ptxjit|batch_sum.tl|--arch=sm_80|batch_sum.cpp|"
  "tile_copy_sm80_ptxjit|tile_copy.tl|--arch=sm_80|tile_copy.cpp|"
  "im2col_sm80_ptxjit|im2col.tl|--arch=sm_80|im2col.cpp|"
  "im2col_ragged_sm80_ptxjit|im2col.tl|--arch=sm_80 -D NB=3 -D H=13 -D W=11 -D C=40|im2col.cpp|-DIM_NB=3 -DIM_H=13 -DIM_W=11 -DIM_C=40"
  "transpose_sm80_ptxjit|transpose_spec.tl|--arch=sm_80|transpose.cpp|"
  "axpy_fragment_sm80_ptxjit|axpy_fragment.tl|--arch=sm_80|axpy_fragment.cpp|"
  "strided_compact_sm80_ptxjit|strided_compact.tl|--arch=sm_80|strided_compact.cpp|"
  "transpose_spec|transpose_spec.tl||transpose.cpp|"
  "transpose_f32|transpose.tl||transpose.cpp|"
  "transpose_f16|transpose.tl|-D DT=float16|transpose.cpp|-DTLC_ELEM_BYTES=2 -DTLC_DTYPE_NAME=\"fp16\""
  "transpose_f16_T128|transpose.tl|-D DT=float16 -D T=128|transpose.cpp|-DTLC_ELEM_BYTES=2 -DTLC_DTYPE_NAME=\"fp16\""
  "transpose_f32_T32|transpose.tl|-D T=32|transpose.cpp|"
  "layout_hint|layout_hint.tl||layout_hint.cpp|"
  "layout_safe_value|layout_safe_value.tl||layout_safe_value.cpp|"
  # User-managed TMA (tma_copy, alloc_barrier, mbarrier_wait_parity, tma_store_wait).
  "tma_explicit|tma_explicit.tl||tma_explicit.cpp|"
  # The same protocol with a four-stage ring (tests/gpu/kernels/tma_explicit_ring4.tl).
  "tma_explicit_ring4|tma_explicit_ring4.tl||tma_explicit.cpp|-DTLC_LAST_ERROR=tma_explicit_ring4_last_error"
  "cp_async_lowlevel|cp_async_lowlevel.tl||cp_async_lowlevel.cpp|"
  # Seed surface (issue 19): the region helpers as copy operands.
  "region_helpers|region_helpers.tl||region_helpers.cpp|"
  # extract_tensormap_ptr, BYTES_PER_TENSORMAP / BYTES_PER_POINTER, integer cache modifiers.
  "cpasync_facts|cpasync_facts.tl||cpasync_facts.cpp|"
  # im2col's geometry by keyword (kernel= included) and annotations={"eviction_policy": ...}:
  # the TMA im2col mode (ragged M, two channel boxes per tap) and the cp.async fallback (C = 40).
  "im2col_keywords|im2col_keywords.tl|-D NB=3 -D H=13 -D W=11 -D C=64 -D BK=32|im2col.cpp|-DIM_NB=3 -DIM_H=13 -DIM_W=11 -DIM_C=64 -DTLC_TEST_NAME=\"im2col_keywords\""
  "im2col_keywords_c40|im2col_keywords.tl|-D NB=3 -D H=13 -D W=11 -D C=40 -D BK=16|im2col.cpp|-DIM_NB=3 -DIM_H=13 -DIM_W=11 -DIM_C=40 -DTLC_TEST_NAME=\"im2col_keywords_c40\""
  # transpose of parts of tiles (two halves; four pieces, one capped at 2-element vectors).
  "transpose_parts|transpose_parts.tl||transpose_parts.cpp|"
  "tma_descriptor|tma_descriptor_copy.tl||tma_descriptor.cpp|"
  "cluster_bias|cluster_bias.tl||cluster_bias.cpp|"
  "cluster_bias_mask4|cluster_bias_mask4.tl||cluster_bias.cpp|-DTLC_CLUSTER=4 -DTLC_LAST_ERROR=cluster_bias_mask4_last_error"
  "cluster_exchange|cluster_exchange.tl||cluster_exchange.cpp|"
  # copy_cluster(dst_block=, remote_barrier=): bulk DSMEM copies and the SIMT fallback.
  "cluster_ring|cluster_ring.tl||cluster_ring.cpp|"
  "cluster_ring4|cluster_ring.tl|-D CL=4|cluster_ring.cpp|-DTLC_CLUSTER=4"
  "cluster_ranks|cluster_ranks.tl||cluster_ranks.cpp|"
  # TileLang's explicit synchronisation (issue 20 item 4): a barrier array with parity
  # waits (a producer / consumer ring), cluster_arrive / cluster_wait.
  "sync_vocabulary|sync_vocabulary.tl||sync_vocabulary.cpp|"
  # tma_copy beyond one tensor-map box (issue 20 item 5): rows past 256 elements as plain
  # cp.async.bulk (tensor-map pieces at a ragged end or a misaligned start), parts of a tile.
  "tma_rows|tma_rows.tl||tma_rows.cpp|"
  # copy_cluster as TileLang means it (issue 20 item 6): cluster_mask's blocks hold the
  # lowest rank's tile, the others their own (TMA and general variants); dst_block under
  # a condition on the block, ordered by the program's cluster_sync().
  "cluster_mask|cluster_mask.tl||cluster_mask.cpp|"
  # TileLang's loop forms (issue 20 item 8): Pipelined(start, stop, order=, stage=),
  # vectorized and unroll loops.
  "loop_kinds|loop_kinds.tl||loop_kinds.cpp|"
  # view / reshape of global tensors (issue 20 item 7): new shape, new dtype, swapped dims.
  "views|views.tl||views.cpp|"
  # annotate_layout Layout index maps on shared tiles (transposed, XOR of pieces, padded flat).
  "index_maps|index_maps.tl||index_maps.cpp|"
  "transpose_annotated|transpose_annotated.tl||transpose.cpp|"
  "tile_copy_swizzled|tile_copy_swizzled.tl||tile_copy.cpp|"
  # float4_e2m1fn: packed copies on each path, dequantize and quantize (ragged shapes).
  "fp4|fp4_kernels.tl||fp4.cpp|"
  "fp8_casts|fp8_casts.tl||fp8_casts.cpp|"
  # Scalar casts between the numeric dtypes and float32 math, against tests/casts_math_reference.h.
  "casts_math|casts_math.tl||casts_math.cpp|"
  # float8_e8m0fnu conversions (every code; rounding toward +Inf to a power of two)
  # and float4_e2m1fn -> float16 / bfloat16 / float32 converting copies, bit-exact.
  "e8m0_fp4_casts|e8m0_fp4_casts.tl||e8m0_fp4_casts.cpp|"
  # Buffer(buffer_type="auto_broadcast"): axes of extent 1 broadcast (copy and element reads).
  "auto_broadcast|auto_broadcast.tl||auto_broadcast.cpp|"
  # The seed rows that were compile-only: async_copy, cp_async_gs, tma_copy's
  # leader_scope_threads / eviction_policy + tma_store_wait(read=False), copy_cluster's
  # eviction_policy / coalesced_width / loop_layout / annotations.
  "seed_rows|seed_rows.tl||seed_rows.cpp|"
  # Row-broadcast reads on ragged shapes (S per row, a bias and a scale per column):
  # GuardGlobalAccesses predicates the vector reads past its end (issue 17).
  "row_scale|row_broadcast.tl||row_scale.cpp|"
  "fragment_broadcast|fragment_broadcast.tl||fragment_broadcast.cpp|"
  # Issue 21 item 1: reductions of fragments and shared tiles, a softmax.
  "reductions|reductions.tl||reductions.cpp|"
  # Issue 21 item 4: the row kernels of examples/ (tests/gpu/row_kernels.cpp), as written
  # (BN = 4096: N up to 8200 in one to three column tiles) and with small tiles (many).
  "row_softmax|softmax.tl||row_kernels.cpp|-DROW_SOFTMAX"
  "row_softmax_bn128|softmax.tl|-D BN=128 -D THREADS=64|row_kernels.cpp|-DROW_SOFTMAX"
  "row_rmsnorm|rmsnorm.tl||row_kernels.cpp|-DROW_RMSNORM"
  "row_rmsnorm_bn128|rmsnorm.tl|-D BN=128 -D THREADS=64|row_kernels.cpp|-DROW_RMSNORM"
  "row_layernorm|layernorm.tl||row_kernels.cpp|-DROW_LAYERNORM"
  "row_layernorm_bn128|layernorm.tl|-D BN=128 -D THREADS=64|row_kernels.cpp|-DROW_LAYERNORM"
  "row_fp8_quant|fp8_quant.tl||row_kernels.cpp|-DROW_FP8_QUANT"
  "row_fp8_quant_bn128|fp8_quant.tl|-D BN=128 -D THREADS=64|row_kernels.cpp|-DROW_FP8_QUANT"
  # 512 threads a block: the benchmark's THREADS=512 rows (their whole-program cubins,
  # src/backend/Cubin.cpp, hold 32-44 registers a thread instead of 44-64).
  "row_softmax_t512|softmax.tl|-D THREADS=512|row_kernels.cpp|-DROW_SOFTMAX"
  "row_rmsnorm_t512|rmsnorm.tl|-D THREADS=512|row_kernels.cpp|-DROW_RMSNORM"
  "row_layernorm_t512|layernorm.tl|-D THREADS=512|row_kernels.cpp|-DROW_LAYERNORM"
  "row_fp8_quant_t512|fp8_quant.tl|-D THREADS=512|row_kernels.cpp|-DROW_FP8_QUANT"
  "row_col_sum|col_sum.tl||row_kernels.cpp|-DROW_COL_SUM"
  "row_col_sum_small|col_sum.tl|-D BM=4 -D BN=32 -D RB=8 -D THREADS=64|row_kernels.cpp|-DROW_COL_SUM"
  "row_bias_gelu|bias_gelu.tl||row_kernels.cpp|-DROW_BIAS_GELU"
  # Reductions through warp shuffles: each configuration another shape of the lowering
  # (lanes a row < 32; 4 warps a row; float16 -> float32 over 32 lanes; bfloat16 rows of
  # 2 groups a thread over 2 warps; int32 with idle threads; 2 warps with idle warps).
  "reduce_shfl_lanes|reduce_shfl.tl|-D DT=float32 -D OT=float32 -D BM=16 -D BN=32 -D T=64|reduce_shfl.cpp|-DTLC_RS_IN=0 -DTLC_RS_OUT=0 -DTLC_RS_BM=16 -DTLC_RS_BN=32"
  "reduce_shfl_warps|reduce_shfl.tl|-D DT=float32 -D OT=float32 -D BM=4 -D BN=512 -D T=128|reduce_shfl.cpp|-DTLC_RS_IN=0 -DTLC_RS_OUT=0 -DTLC_RS_BM=4 -DTLC_RS_BN=512"
  "reduce_shfl_f16|reduce_shfl.tl|-D DT=float16 -D OT=float32 -D BM=16 -D BN=256 -D T=64|reduce_shfl.cpp|-DTLC_RS_IN=1 -DTLC_RS_OUT=0 -DTLC_RS_BM=16 -DTLC_RS_BN=256"
  "reduce_shfl_bf16|reduce_shfl.tl|-D DT=bfloat16 -D OT=bfloat16 -D BM=2 -D BN=1024 -D T=64|reduce_shfl.cpp|-DTLC_RS_IN=2 -DTLC_RS_OUT=2 -DTLC_RS_BM=2 -DTLC_RS_BN=1024"
  "reduce_shfl_i32|reduce_shfl.tl|-D DT=int32 -D OT=int32 -D BM=6 -D BN=64 -D T=128|reduce_shfl.cpp|-DTLC_RS_IN=3 -DTLC_RS_OUT=3 -DTLC_RS_BM=6 -DTLC_RS_BN=64"
  "reduce_shfl_idle_warps|reduce_shfl.tl|-D DT=float32 -D OT=float32 -D BM=3 -D BN=256 -D T=128|reduce_shfl.cpp|-DTLC_RS_IN=0 -DTLC_RS_OUT=0 -DTLC_RS_BM=3 -DTLC_RS_BN=256"
  # cumsum along rows / columns, reversed, fragments and shared tiles, float32 / float16 / int32.
  "cumsum|cumsum.tl||cumsum.cpp|"
  # Atomics (issue 21): column sums, fragment tile accumulates (f32, f16x2, bf16x2),
  # a shared-then-global histogram with old values, float / int max and min.
  "atomics|atomics.tl||atomics.cpp|"
  # Issue 20's TileLang surface: T. names, no `as`, default threads, Kernel(), alloc_var,
  # run-time extents of copies, fills and Parallel loops, element copies, nested Parallel.
  "tilelang_surface|tilelang_surface.tl||tilelang_surface.cpp|"
  # The device print(...) built-in through vprintf (issue 24): stdout captured and
  # compared line by line; -lineinfo too, so its cubin keeps the line table.
  "print|print.tl|-lineinfo|print.cpp|"
  # One cubin linked from several PTX inputs: 12 kernels built in 6 groups (issues 17, 23).
  "many_kernels|many_kernels.tl||many_kernels.cpp|"
  # Index width at and past 2^31 elements (17-26 GB of device memory each; a smaller
  # device gets SKIP rows): batch_sum at K=2, M=N=46341; a 1-D copy in blocks of 1000 at
  # n = 2^31 - 1; 3-D copies with planes past 2^31 elements; shapes the launcher refuses.
  # TLC_GPU_ONLY='huge' builds just these.
  "huge_batch_sum|batch_sum.tl||huge_batch_sum.cpp|"
  "huge_index|huge_index.tl||huge_index.cpp|"
)

# im2col configurations and whether their fast variant must use TMA's im2col mode
# (1) or must not (0): checked in the PTX, so a test of the TMA path cannot pass on
# the cp.async fallback unnoticed.
declare -A im2col_tma=(
  [im2col]=1 [im2col_s2]=1 [im2col_d2]=1 [im2col_k5_s2_d2_p0]=1 [im2col_ragged_tma]=1 [im2col_ragged_tma_s2d2]=1
  [im2col_pipelined]=1 [im2col_ragged]=0 [im2col_ragged_128x32]=0 [im2col_c6]=0 [im2col_c3]=0 [c2d_im2col]=0
  [im2col_pipelined_c40]=0 [im2col_cpasync_padded]=0 [im2col_swizzled128]=1
)

die() { echo "build_gpu_tests: $*" >&2; exit 2; }

[ -f "$cuda/include/cuda.h" ] || die "no $cuda/include/cuda.h (set CUDA_HOME)"
[ -f "$cuda/lib64/stubs/libcuda.so" ] || die "no $cuda/lib64/stubs/libcuda.so (the Driver API stub)"
have_tlc=1
if [ ! -x "$tlc" ]; then
  echo "build_gpu_tests: no tlc at '$tlc' (build it: cmake --build build --target tlc, or set TLC=path/to/tlc);" \
       "only the header self-test and the ceiling are built" >&2
  have_tlc=0
fi

rm -rf "$out"
mkdir -p "$out/bin" "$out/kernels" "$out/lib" "$out/libexec"
: >"$log"
configs_list="$out/configs.txt"
: >"$configs_list"

find_source() {  # the .tl file by name: the repo's examples first, then the spec's
  for dir in examples tests/gpu/kernels ../shared/spec/examples /work/shared/spec/examples; do
    [ -f "$dir/$1" ] && { echo "$dir/$1"; return 0; }
  done
  return 1
}

host_flags=(-std=c++17 -O2 -Wall -Wextra -Werror -I"$repo/tests/gpu" -I"$cuda/include")
link_flags=(-L"$cuda/lib64/stubs" -lcuda -static-libstdc++ -static-libgcc -s)

built=()
failed=()

# The LD_PRELOAD shims (host compiler, no CUDA library: they forward to libcuda through
# dlsym(RTLD_NEXT)). A configuration naming one that failed to build fails to run.
echo "== lib/libsmem_limit_shim.so" >>"$log"
if ! gcc -std=gnu11 -O2 -Wall -Wextra -Werror -shared -fPIC -I"$cuda/include" tests/gpu/smem_limit_shim.c \
         -o "$out/lib/libsmem_limit_shim.so" -ldl >>"$log" 2>&1; then
  failed+=("libsmem_limit_shim.so (failed to compile)")
fi

# bin/<name>: runs libexec/<name> with the environment words of its configuration.
write_wrapper() {  # name, environment
  local words=() word
  read -r -a words <<<"$2"
  {
    echo '#!/bin/sh'
    echo "# Written by scripts/build_gpu_tests.sh: runs the test $1 with its environment."
    echo 'here="$(cd "$(dirname "$0")/.." && pwd)"'
    printf 'exec env'
    for word in "${words[@]}"; do printf ' %s' "${word//@\//\"\$here\"/}"; done
    echo " \"\$here/libexec/$1\" \"\$@\""
  } >"$out/bin/$1"
  chmod +x "$out/bin/$1"
}

for config in "${configs[@]}"; do
  IFS='|' read -r name source tlc_options program defines environment <<<"$config"
  [ -n "${TLC_GPU_ONLY:-}" ] && ! [[ "$name" =~ $TLC_GPU_ONLY ]] && continue
  echo "$name" >>"$configs_list"
  kdir="$out/kernels/$name"
  mkdir -p "$kdir"
  [ $have_tlc -eq 1 ] || { failed+=("$name (no tlc)"); continue; }
  src="$(find_source "$source")" || { failed+=("$name (no $source)"); continue; }

  # The kernel: tlc writes <name>.cubin and a header beside it.
  echo "== $name: $tlc $src -o $kdir/$name.cubin $tlc_options" >>"$log"
  # shellcheck disable=SC2086  # tlc_options is a list of words
  if ! "$tlc" "$src" -o "$kdir/$name.cubin" $tlc_options >>"$log" 2>&1; then
    failed+=("$name (tlc failed)")
    continue
  fi
  if [ -n "${im2col_tma[$name]:-}" ]; then
    # shellcheck disable=SC2086
    "$tlc" "$src" --emit=ptx -o "$kdir/$name.ptx" $tlc_options >>"$log" 2>&1
    uses_tma=0
    grep -q 'cp.async.bulk.tensor.4d.shared::cluster.global.im2col' "$kdir/$name.ptx" 2>/dev/null && uses_tma=1
    if [ "$uses_tma" != "${im2col_tma[$name]}" ]; then
      echo "$name: TMA im2col mode expected ${im2col_tma[$name]}, found $uses_tma in $kdir/$name.ptx" >>"$log"
      failed+=("$name (TMA im2col mode: expected ${im2col_tma[$name]}, PTX says $uses_tma)")
      continue
    fi
  fi
  header="$(cd "$kdir" && ls ./*.h 2>/dev/null | head -1)"
  if [ -z "$header" ]; then
    echo "tlc wrote no header into $kdir" >>"$log"
    failed+=("$name (no header)")
    continue
  fi
  if [[ "$name" == *_ptxjit ]]; then
    # shellcheck disable=SC2086
    if ! "$tlc" "$src" --emit=ptx -o "$kdir/$name.ptx" $tlc_options >>"$log" 2>&1 ||
       ! python3 tests/gpu/embed_ptx.py "$kdir/${header#./}" "$kdir/$name.ptx" >>"$log" 2>&1; then
      failed+=("$name (could not embed the PTX)")
      continue
    fi
  fi

  # The host program, with this configuration's header.
  read -r -a extra_defines <<<"$defines"  # words; quotes inside stay literal
  bindir=bin
  [ -z "$environment" ] || bindir=libexec  # bin/<name> will be its wrapper
  cmd=(g++ "${host_flags[@]}" -I"$kdir" "-DTLC_KERNEL_HEADER=\"${header#./}\"" "-DTLC_TEST_NAME=\"$name\""
       "${extra_defines[@]}" "tests/gpu/$program" -o "$out/$bindir/$name"
       "${link_flags[@]}")
  echo "== $name: ${cmd[*]}" >>"$log"
  if ! "${cmd[@]}" >>"$log" 2>&1; then
    failed+=("$name (host program failed to compile)")
    continue
  fi
  [ -z "$environment" ] || write_wrapper "$name" "$environment"
  built+=("$name")
done

# The Python package (python/, docs/python.md): its wheel, the kernels its GPU tests
# call (cubin + header + metadata, compiled here) and bin/python_package, which
# pip-installs the wheel into .gpu/python/site (no network, no dependencies: the GPU
# machine has torch) and runs python/tests/test_gpu.py, one RESULT row per test.
if [ -z "${TLC_GPU_ONLY:-}" ] || [[ python_package =~ $TLC_GPU_ONLY ]]; then
  echo python_package >>"$configs_list"
  pdir="$out/python"
  mkdir -p "$pdir/kernels"
  echo "== python_package" >>"$log"
  python_ok=$have_tlc
  [ $have_tlc -eq 1 ] || failed+=("python_package (no tlc)")
  # pip builds the wheel with the `wheel` package, which a pyenv python may lack
  # where the system's (Debian python3-wheel) has it.
  wheel_python=python3
  python3 -c 'import wheel' 2>/dev/null || ! /usr/bin/python3 -c 'import wheel' 2>/dev/null || wheel_python=/usr/bin/python3
  if [ $python_ok -eq 1 ] && ! "$wheel_python" -m pip wheel ./python --no-deps --no-build-isolation -q -w "$pdir" >>"$log" 2>&1; then
    failed+=("python_package (pip wheel failed)")
    python_ok=0
  fi
  rm -rf python/build python/*.egg-info
  for k in examples/tile_copy.tl tests/gpu/kernels/strided_copy_tma.tl tests/gpu/kernels/row_broadcast.tl; do
    [ $python_ok -eq 1 ] || break
    stem="$(basename "$k" .tl)"
    if ! "$tlc" "$k" -o "$pdir/kernels/$stem.cubin" --emit=cubin,header,meta >>"$log" 2>&1; then
      failed+=("python_package (tlc failed on $k)")
      python_ok=0
    fi
  done
  if [ $python_ok -eq 1 ]; then
    cp python/tests/test_gpu.py "$pdir/test_gpu.py"
    cat >"$out/bin/python_package" <<'WRAPPER'
#!/bin/sh
# Written by scripts/build_gpu_tests.sh: installs the tlc wheel and runs its GPU tests.
here="$(cd "$(dirname "$0")/.." && pwd)"
site="$here/python/site"
rm -rf "$site"
if ! python3 -m pip install --quiet --no-deps --no-index --target "$site" "$here"/python/tlc-*.whl; then
  echo "RESULT|python_package|pip install|FAIL|-|-|-|-|-"
  exit 1
fi
cd "$here/python" || exit 1
TLC_PY_INSTALLED=1 TLC_PY_KERNELS="$here/python/kernels" PYTHONPATH="$site" PYTHONDONTWRITEBYTECODE=1 \
  exec python3 test_gpu.py --rows
WRAPPER
    chmod +x "$out/bin/python_package"
    built+=(python_package)
  fi
fi

# -lineinfo end to end: a kernel broken on purpose, built with -lineinfo into debug/
# (not bin/: it must fail under compute-sanitizer, which gpu_sanitize.sh runs over
# bin/), and lineinfo_check.sh, which runs it under compute-sanitizer and ncu.
if [ -z "${TLC_GPU_ONLY:-}" ] || [[ lineinfo_broken =~ $TLC_GPU_ONLY ]]; then
  ddir="$out/debug"
  mkdir -p "$ddir"
  echo "== lineinfo_broken" >>"$log"
  tlc_path="$(realpath "$tlc" 2>/dev/null)"
  # Compiled from debug/ so that the line table names lineinfo_broken.tl as the tools find it there.
  if [ $have_tlc -eq 1 ] && cp tests/gpu/kernels/lineinfo_broken.tl "$ddir/" &&
     (cd "$ddir" && "$tlc_path" lineinfo_broken.tl -lineinfo -o lineinfo_broken.cubin) >>"$log" 2>&1 &&
     g++ "${host_flags[@]}" -I"$ddir" tests/gpu/lineinfo_broken.cpp -o "$ddir/lineinfo_broken" "${link_flags[@]}" >>"$log" 2>&1; then
    cp scripts/lineinfo_check.sh "$out/lineinfo_check.sh"
    chmod +x "$out/lineinfo_check.sh"
    built+=(lineinfo_broken)
  else
    failed+=("lineinfo_broken (build failed)")
  fi
fi

# The header self-test: kernels.cu -> cubin (nvcc), make_header -> selftest.h (the real
# generator, compiled here from src/), selftest.cpp -> bin/header_selftest.
sdir="$out/selftest"
mkdir -p "$sdir"
printf '%s\n' header_selftest ceiling >>"$configs_list"
echo "== header_selftest" >>"$log"
if [ ! -x "$cuda/bin/nvcc" ]; then
  failed+=("header_selftest (no $cuda/bin/nvcc)")
elif "$cuda/bin/nvcc" -cubin -arch=sm_90a -O3 -fmad=false tests/gpu/selftest/kernels.cu -o "$sdir/kernels.cubin" >>"$log" 2>&1 &&
     g++ -std=c++17 -O1 -Isrc tests/gpu/selftest/make_header.cpp src/backend/Header.cpp src/ir/*.cpp \
         src/support/*.cpp -o "$sdir/make_header" >>"$log" 2>&1 &&
     "$sdir/make_header" "$sdir/kernels.cubin" "$sdir/selftest.h" >>"$log" 2>&1 &&
     g++ "${host_flags[@]}" -I"$sdir" tests/gpu/selftest/selftest.cpp -o "$out/bin/header_selftest" -pthread \
         "${link_flags[@]}" >>"$log" 2>&1; then
  built+=(header_selftest)
else
  failed+=("header_selftest (build failed)")
fi

# The copy-ceiling program and the runner.
if g++ "${host_flags[@]}" tests/gpu/ceiling.cpp -o "$out/bin/ceiling" "${link_flags[@]}" >>"$log" 2>&1; then
  built+=(ceiling)
else
  failed+=("ceiling (failed to compile)")
fi
cp tests/gpu/run_all.sh "$out/run_all.sh"
cp scripts/gpu_sanitize.sh "$out/gpu_sanitize.sh"
chmod +x "$out/run_all.sh" "$out/gpu_sanitize.sh"

echo "built into $out/: ${built[*]:-nothing}"
if [ ${#failed[@]} -ne 0 ]; then
  echo "FAILED:"
  printf '  %s\n' "${failed[@]}"
  echo "details: $log"
  tail -n 30 "$log"
fi
echo "size: $(du -sh "$out" | cut -f1) (carry .gpu; run: bash .gpu/run_all.sh; bash .gpu/gpu_sanitize.sh)"
[ ${#built[@]} -gt 1 ] || exit 2
[ ${#failed[@]} -eq 0 ] || exit 1
exit 0
