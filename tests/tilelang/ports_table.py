"""The configurations of the TileLang ports (tests/tilelang/ports/*.tl) that get compiled.

One row per configuration: the port (a .tl file's stem), a suffix naming the
configuration ("" for the file's own defaults) and the -D overrides, written as
TileLang's test called the kernel factory (its shapes, blocks, dtypes) plus at least
one more ragged shape of our own. Three readers share this table, so that what is
compiled, checked and run is one list:

- tests/tilelang/check_ports.py (CTest `tilelang_ports`) compiles every row and
  compares the outcome with tests/tilelang/ports/MANIFEST;
- scripts/build_tilelang_ports.sh builds every row that compiles into .gpu-ports/;
- tests/tilelang/test_ports_gpu.py runs its cases on those builds.

Every port has its default row even when nothing overrides it, so that a port tlc
rejects today is compiled too and noticed the day it starts compiling.

`python3 tests/tilelang/ports_table.py` prints the rows: `ID FILE [-D NAME=VALUE ...]`.
"""

import os
import sys

PORTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ports")

# port: [(suffix, {const: value}), ...]. The default row ("", {}) is added for
# every port in PORTS_DIR that is not listed, and first for every listed one.
_ROWS = {
    "alloc_var": [("ragged", {"N": 1000})],
    "alloc_var_init": [("ragged", {"N": 250, "init_value": -3})],
    "atomic_add": [("ragged", {"K": 3, "M": 100, "N": 75})],
    "atomic_add_mixed_dtype": [("bf16", {"dst_dtype": "bfloat16"}), ("ragged", {"N": 13})],
    "atomic_memory_order": [("ragged", {"K": 3, "M": 50, "N": 37})],
    "atomic_addx2": [("f32", {"dtype": "float32"}), ("bf16", {"dtype": "bfloat16"}),
                     ("ragged", {"M": 30, "N": 62})],
    "atomic_addx4": [("ragged", {"M": 15, "N": 62})],
    "clamp_fp8": [("e5m2", {"dtype": "float8_e5m2"})],
    "clamp_fp8_vectorized": [("e5m2", {"dtype": "float8_e5m2"}), ("ragged", {"N": 1000})],
    "copy": [
        ("1024x576_32x576", {"N": 576, "block_M": 32, "block_N": 576}),
        ("1024x576_32x576_f32", {"N": 576, "block_M": 32, "block_N": 576,
                                 "src_dtype": "float32", "dst_dtype": "float32"}),
        ("f16_to_bf16", {"M": 256, "N": 256, "dst_dtype": "bfloat16"}),
        ("bf16_to_f16", {"M": 256, "N": 256, "src_dtype": "bfloat16"}),
        ("ragged", {"M": 1000, "N": 999}),
        ("ragged_small", {"M": 77, "N": 131, "block_M": 32, "block_N": 64}),
    ],
    "clamp_value_range": [("f32", {"dtype": "float32"}), ("ragged", {"N": 1000})],
    "clamp_within_bounds": [("f32", {"dtype": "float32"}), ("ragged", {"N": 1000})],
    "cumsum": [("dim1", {"dim": 1}), ("f32", {"M": 256, "N": 256, "dtype": "float32"}),
               ("ragged", {"M": 200, "N": 300, "dim": 1, "dtype": "float32"})],
    "issue_1374_broadcast_div": [("ragged", {"rows": 13, "a_cols": 7, "b_cols": 217}),
                                 ("ragged_div5", {"rows": 5, "a_cols": 11, "b_cols": 51, "group": 5})],
    "issue_2635_round_mode": [("e4m3", {"dtype": "float8_e4m3"}), ("e5m2", {"dtype": "float8_e5m2"})],
    "tma_copy_per_warp": [("ragged", {"M": 30})],
    "reshape": [("f16", {"N": 2048, "M": 64, "dtype": "float16"}), ("ragged", {"N": 999, "M": 37})],
    "reshape_smem_1d_2_2d": [("f16", {"N": 2048, "M": 64, "dtype": "float16"}), ("ragged", {"N": 999, "M": 37})],
    "reshape_smem_2d_2_1d": [("f16", {"N": 2048, "M": 64, "dtype": "float16"}), ("ragged", {"N": 999, "M": 37})],
    "reshape_fragment": [("f16", {"N": 2048, "M": 64, "dtype": "float16"}), ("ragged", {"N": 999, "M": 37})],
    # ragged: 7 rows of 48 float32 (192-byte rows under the 128-byte swizzle)
    "reshape_layout_transform_shared": [("f16", {"N": 2048, "M": 64, "dtype": "float16"}),
                                        ("ragged", {"N": 336, "M": 48})],
    "reduce_after_reshape": [("f16", {"N": 2048, "M": 64, "dtype": "float16"}), ("ragged", {"N": 999, "M": 37})],
    "reduce_absmax_after_reshape_3d": [
        ("ragged", {"M": 3, "N": 300, "num_groups": 5, "num_per_channels": 60, "threads": 96}),
        ("m5", {"M": 5, "N": 256, "num_groups": 2, "num_per_channels": 128}),
    ],
    "tma_dsmem_simt_barrier": [("n31", {"N_tile": 31})],
    "tma_dsmem_store_cluster": [("n127", {"N": 127})],
    "copy_buffer_load_with_parallel": [("ragged", {"M": 1000, "N": 1001})],
    "copy_bufferload": [("ragged", {"num_tokens": 97})],
    "copy_bufferload_cross_dtype": [("int16", {"index_dtype": "int16"}),
                                    ("ragged", {"num_tokens": 97, "index_dtype": "int16"})],
    "copy_fp4": [("to_f16", {"dst_dtype": "float16"}), ("to_bf16", {"dst_dtype": "bfloat16"}),
                 ("ragged", {"M": 1000, "N": 998})],
    "copy_oob_safe_value": [("to_f16", {"dst_dtype": "float16"}),
                            ("ragged", {"M": 33, "N": 97, "block_M": 16})],
    "copy_with_stride": [("ragged", {"M": 1000, "N": 999, "NN": 1003})],
    "elementwise_add": [("ragged", {"M": 1000, "N": 999})],
    "elementwise_copy_oob_safe_value": [("ragged", {"M": 50, "N": 95})],
    "fill_int8_negative": [("m128", {"value": -128}), ("m1", {"value": -1}), ("p5", {"value": 5}),
                           ("ragged", {"M": 7, "N": 129, "value": -3})],
    "fp4_tma_roundtrip": [("ragged", {"M": 100, "N": 288})],  # rows of whole 16 bytes (TMA)
    "parallel_dynamic": [("ragged", {"max_len": 500, "threads": 128})],
    "parallel_static": [("ragged", {"length": 97})],
    "per_token_cast_fp8": [("1024", {"M": 1024, "N": 1024}), ("ragged", {"M": 100, "N": 1000})],
    "pointer_table_copy": [("ragged_f32", {"N": 97, "dtype": "float32"})],
    "pointer_table_multi_copy": [("ragged", {"G": 5, "N": 131}), ("bf16", {"G": 3, "dtype": "bfloat16"})],
    "reduce": [
        ("i32", {"dtype": "int32"}),
        ("i64_192x64", {"M": 192, "N": 64, "dtype": "int64"}),
        ("f32_192x64", {"M": 192, "N": 64}),
        ("f32_32x32_t16", {"M": 32, "N": 32, "threads": 16}),
        ("f32_16x16_t8", {"M": 16, "N": 16, "threads": 8}),
        ("bf16", {"dtype": "bfloat16"}),
        ("f16_64x128_t256", {"M": 64, "N": 128, "dtype": "float16", "threads": 256}),
        ("ragged", {"M": 37, "N": 53, "threads": 64}),
    ],
    "reduce_fragment_layout": [("ragged", {"rows": 3, "width": 200})],
    "rms_norm": [("ragged", {"M": 999, "N": 1000, "blk_m": 2})],
    "rms_norm_splitk": [("ragged", {"M": 999, "N": 1000})],
    "safe_value_shift": [("ragged", {"M": 1000, "N": 999})],
    "tma_1d_elementwise_add": [("128x128", {"M": 128}), ("256x256", {"N": 256}),
                               ("ragged", {"M": 300, "N": 257})],
    "tma_copy_padded_multirow": [("ragged", {"rows": 3, "cols": 36, "row_stride": 44})],  # TMA: 16-byte rows
    "tma_copy_strided_row": [("ragged", {"rows": 3, "cols": 36, "row_stride": 44})],
    "tma_store_auto": [("ragged", {"M": 200, "N": 300})],
}


def variant_id(port, suffix):
    """The configuration's name: a C identifier, also the header's --prefix."""
    return port if not suffix else port + "__" + suffix


def ports():
    """Every port file's stem, sorted."""
    return sorted(f[:-3] for f in os.listdir(PORTS_DIR) if f.endswith(".tl"))


def variants():
    """[(id, port, {const: value})] for every configuration, ports in order."""
    out = []
    for port in ports():
        out.append((variant_id(port, ""), port, {}))
        for suffix, defines in _ROWS.get(port, []):
            out.append((variant_id(port, suffix), port, dict(defines)))
    unknown = sorted(set(_ROWS) - set(ports()))
    if unknown:
        raise SystemExit("ports_table.py: rows for ports that have no .tl file: " + ", ".join(unknown))
    return out


def define_flags(defines):
    flags = []
    for name, value in defines.items():
        flags += ["-D", "%s=%s" % (name, value)]
    return flags


if __name__ == "__main__":
    for vid, port, defines in variants():
        sys.stdout.write(" ".join([vid, port + ".tl"] + define_flags(defines)) + "\n")
