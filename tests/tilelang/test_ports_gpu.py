#!/usr/bin/env python3
"""GPU harness of the TileLang ports: runs each compiling port as TileLang's test runs it.

    scripts/build_tilelang_ports.sh                 # here: .gpu-ports/ (no GPU needed)
    python3 tests/tilelang/test_ports_gpu.py        # on the GPU machine (carry .gpu-ports)
    python3 tests/tilelang/test_ports_gpu.py -k copy__ragged   # some cases (unittest's -k)
    python3 -m pytest tests/tilelang/test_ports_gpu.py          # also works where pytest is

One case per configuration of tests/tilelang/ports_table.py that compiles (CTest
`tilelang_ports` checks that each has one): random inputs, outputs poisoned
before the launch (NaN, or a value the kernel never writes), the launch through
tests/tilelang/ports/launch.py, and an element-by-element comparison with the
torch reference of the TileLang test, at its tolerance (rtol/atol, and
max_mismatched_ratio where TileLang's profiler or torch_assert_close allows one).
Shapes are TileLang's and at least one ragged shape more. Without torch or a
CUDA device every case is skipped; a configuration the manifest says compiles
but that was not built fails. The last line says how many passed.

Importing this module needs neither torch nor a GPU: check_ports.py reads CASES
and runs selftest(), which feeds compare() wrong outputs to prove it can fail.
"""

import math
import os
import re
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "ports"))
import ports_table  # noqa: E402

try:  # the GPU machine has torch; the build machine may not
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Failed to initialize NumPy" where numpy is absent
        import torch
except ImportError:  # pragma: no cover - depends on the machine
    torch = None

SEED = 20260520
DEV = "cuda"  # "cpu" in dry_run()

# --------------------------------------------------------------------------- comparison


def _flat(x):
    if torch is not None and isinstance(x, torch.Tensor):
        return x.detach().to("cpu").double().flatten().tolist(), tuple(x.shape)
    if isinstance(x, (list, tuple)):
        flat, shape = [], [len(x)]
        inner = None
        for e in x:
            f, s = _flat(e) if isinstance(e, (list, tuple)) else ([float(e)], ())
            flat += f
            inner = s
        return flat, tuple(shape) + tuple(inner or ())
    return [float(x)], ()


def _is_tensor(x):
    return torch is not None and isinstance(x, torch.Tensor)


def _compare_tensors(out, ref, rtol, atol):
    """(number of elements, indices of the misses (first 5), number of misses), in torch."""
    o = out.detach().to("cpu").float().double().flatten()
    r = ref.detach().to("cpu").float().double().flatten()
    nan_o, nan_r = torch.isnan(o), torch.isnan(r)
    inf = torch.isinf(o) | torch.isinf(r)
    close = (o - r).abs() <= atol + rtol * r.abs()
    ok = torch.where(nan_o | nan_r, nan_o & nan_r, torch.where(inf, o == r, close))
    bad = (~ok).nonzero().flatten()
    return o.numel(), [(int(k), o[k].item(), r[k].item()) for k in bad[:5]], int(bad.numel())


def _compare_lists(o, r, rtol, atol):
    bad = []
    for k, (a, b) in enumerate(zip(o, r)):
        if math.isnan(a) or math.isnan(b):
            ok = math.isnan(a) and math.isnan(b)
        elif math.isinf(a) or math.isinf(b):
            ok = a == b
        else:
            ok = abs(a - b) <= atol + rtol * abs(b)
        if not ok:
            bad.append(k)
    return len(o), [(k, o[k], r[k]) for k in bad[:5]], len(bad)


def compare(out, ref, rtol=0.0, atol=0.0, max_mismatched_ratio=0.0, name="out"):
    """None when out matches ref element by element, else a message naming the first misses.

    An element matches when |out - ref| <= atol + rtol * |ref|, or both are NaN; a
    NaN (the poison) against a number never does. Up to max_mismatched_ratio of the
    elements may miss (TileLang's profiler allows 1%, torch_assert_close 0.1%).
    Torch tensors (any device; fp8 through float32) or nested lists of numbers."""
    if _is_tensor(out) and _is_tensor(ref):
        os_, rs = tuple(out.shape), tuple(ref.shape)
        if os_ != rs:
            return "%s: shape %s, reference %s" % (name, os_, rs)
        n, first, nbad = _compare_tensors(out, ref, rtol, atol)
    else:
        o, os_ = _flat(out)
        r, rs = _flat(ref)
        if os_ != rs:
            return "%s: shape %s, reference %s" % (name, os_, rs)
        n, first, nbad = _compare_lists(o, r, rtol, atol)
    if nbad <= max_mismatched_ratio * n:
        return None
    shape = rs or (n,)

    def where(k):
        idx = []
        for extent in reversed(shape):
            idx.append(k % extent)
            k //= extent
        return list(reversed(idx))
    misses = ", ".join("%s%s = %r (want %r)" % (name, where(k), a, b) for k, a, b in first)
    return "%s: %d of %d elements differ (rtol %g, atol %g, allowed %d): %s" % (
        name, nbad, n, rtol, atol, int(max_mismatched_ratio * n), misses)


def selftest():
    """Problems found feeding compare() outputs it must reject (and one it must accept)."""
    problems = []
    ref = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    good = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.000001]]
    wrong = [[1.0, 2.0, 3.0], [4.0, 5.5, 6.0]]
    poisoned = [[1.0, 2.0, 3.0], [4.0, float("nan"), 6.0]]
    if compare(good, ref, rtol=1e-5, atol=1e-5) is not None:
        problems.append("selftest: compare() rejects a matching output")
    for label, out in (("a wrong element", wrong), ("a poisoned (NaN) element", poisoned)):
        if compare(out, ref, rtol=1e-2, atol=1e-2) is None:
            problems.append("selftest: compare() accepts an output with %s" % label)
    if compare([[1, 2, 3]], ref) is None:
        problems.append("selftest: compare() accepts an output of another shape")
    if compare([5, 6, 8], [5, 6, 7]) is None:
        problems.append("selftest: compare() accepts an integer off by one at tolerance 0")
    if compare([1.0] * 999 + [2.0], [1.0] * 1000, max_mismatched_ratio=0.001) is not None:
        problems.append("selftest: compare() rejects one miss in 1000 at max_mismatched_ratio 0.001")
    if compare([1.0] * 998 + [2.0, 2.0], [1.0] * 1000, max_mismatched_ratio=0.001) is None:
        problems.append("selftest: compare() accepts two misses in 1000 at max_mismatched_ratio 0.001")
    if torch is not None:  # the torch path of _flat, on the CPU
        a = torch.randn(7, 5)
        if compare(a.clone(), a, atol=0) is not None:
            problems.append("selftest: compare() rejects an identical torch tensor")
        b = a.clone()
        b[3, 4] += 1.0
        msg = compare(b, a, rtol=1e-2, atol=1e-2)
        if msg is None or "[3, 4]" not in msg:
            problems.append("selftest: compare() misses (or misplaces) a wrong torch element: %r" % msg)
        # A wrong reference fails a case: a float16 output against a reference shifted
        # by 0.5 must not pass at the copy cases' tolerance.
        p = a.clone()
        p[6, 0] = float("nan")
        if compare(p, a, rtol=1e-2, atol=1e-2) is None:
            problems.append("selftest: compare() accepts a poisoned (NaN) torch element")
        i = torch.arange(10, dtype=torch.int64)
        j = i.clone()
        j[9] = -77
        if compare(j, i) is None:
            problems.append("selftest: compare() accepts a poisoned int64 element")
        h = torch.randn(16, 16).half()
        if compare(h, h.float() + 0.5, rtol=1e-2, atol=1e-2) is None:
            problems.append("selftest: compare() accepts a float16 output against a wrong reference")
    return problems


# --------------------------------------------------------------------------- cases

CASES = {}


def case(*vids):
    def register(fn):
        for vid in vids:
            if vid in CASES:
                raise SystemExit("test_ports_gpu.py: two cases for " + vid)
            CASES[vid] = fn
        return fn
    return register


def _port_consts(port):
    """The integer and dtype consts a port file declares (its defaults)."""
    consts = {}
    with open(os.path.join(ports_table.PORTS_DIR, port + ".tl")) as f:
        for line in f:
            m = re.match(r"const (\w+) = (.+);", line.strip())
            if not m:
                continue
            value = m.group(2).strip()
            if re.fullmatch(r"-?\d+", value):
                consts[m.group(1)] = int(value)
            elif re.fullmatch(r"(T\.)?\w+", value):
                consts[m.group(1)] = value[2:] if value.startswith("T.") else value
    return consts


_TABLE = {vid: (port, defines) for vid, port, defines in ports_table.variants()}


def _torch_dtype(name):
    return {"float": torch.float32, "float32": torch.float32, "float16": torch.float16,
            "bfloat16": torch.bfloat16, "int8": torch.int8, "int16": torch.int16, "int32": torch.int32,
            "int64": torch.int64, "uint8": torch.uint8, "float8_e4m3fn": torch.float8_e4m3fn,
            "float8_e4m3": torch.float8_e4m3fn, "float8_e5m2": torch.float8_e5m2}[name]


class Ctx:
    """What a case works with: its parameters (the port's consts, then the row's -D)."""

    def __init__(self, vid, dry_signatures=None):
        import launch
        self.vid = vid
        port, defines = _TABLE[vid]
        self.p = _port_consts(port)
        self.p.update(defines)
        self.dry = dry_signatures  # {kernel: launch.Signature}: bind the arguments, run nothing
        self.mod = launch.load(vid) if dry_signatures is None else None
        self.gen = torch.Generator(device="cpu")
        self.gen.manual_seed(SEED)
        self.failures = []
        self.ran = []

    def dt(self, key_or_name):
        return _torch_dtype(self.p.get(key_or_name, key_or_name))

    def randn(self, shape, dtype="float32"):
        return torch.randn(*shape, generator=self.gen).to(self.dt(dtype)).to(DEV)

    def randint(self, lo, hi, shape, dtype):
        return torch.randint(lo, hi, tuple(shape), generator=self.gen).to(self.dt(dtype)).to(DEV)

    def poison(self, shape, dtype, value=None):
        dt = self.dt(dtype)
        if value is None:
            value = float("nan") if dt.is_floating_point else -77
        return torch.full(tuple(shape), value, dtype=dt, device=DEV)

    def launch(self, kernel, *args, **kwargs):
        if self.dry is not None:
            if kernel not in self.dry:
                raise AttributeError("%s has no kernel '%s' (it has %s)" % (self.vid, kernel, ", ".join(sorted(self.dry))))
            self.dry[kernel].bind(args, kwargs)
            return
        k = getattr(self.mod, kernel)
        variant = k.variant(*args, **kwargs)
        k(*args, stream=torch.cuda.current_stream().cuda_stream, **kwargs)
        torch.cuda.synchronize()
        self.ran.append("%s -> %s" % (kernel, k.entry(variant)))  # which variant ran (stderr)

    def check(self, out, ref, rtol=0.0, atol=0.0, max_mismatched_ratio=0.0, name="out"):
        msg = compare(out, ref, rtol, atol, max_mismatched_ratio, name)
        if msg:
            self.failures.append(msg)


def _cdiv(a, b):
    return -(-a // b)


@case("copy", "copy__1024x576_32x576", "copy__1024x576_32x576_f32", "copy__f16_to_bf16", "copy__bf16_to_f16",
      "copy__ragged", "copy__ragged_small")
def _copy(c):
    M, N = c.p["M"], c.p["N"]
    a = c.randn((M, N), "src_dtype")
    b = c.poison((M, N), "dst_dtype")
    c.launch("tilelang_copy", a, b)
    c.check(b, a.to(c.dt("dst_dtype")), rtol=1e-2, atol=1e-2, name="B")


@case("copy_buffer_load_with_parallel", "copy_buffer_load_with_parallel__ragged")
def _copy_parallel(c):
    M, N = c.p["M"], c.p["N"]
    a = c.randn((M, N), "dtype")
    b = c.poison((M, N), "dtype")
    c.launch("copy_buffer_load_with_parallel", a, b)
    c.check(b, a, rtol=1e-2, atol=1e-2, name="B")


@case("copy_oob_safe_value", "copy_oob_safe_value__to_f16", "copy_oob_safe_value__ragged")
def _copy_oob(c):
    M, N, bm, bn = c.p["M"], c.p["N"], c.p["block_M"], c.p["block_N"]
    pm, pn = _cdiv(M, bm) * bm, _cdiv(N, bn) * bn
    a = c.randn((M, N), "src_dtype")
    for kernel, fill in (("copy_oob_pad", c.p["pad_value"]), ("copy_oob_default", 0)):
        b = c.poison((pm, pn), "dst_dtype")
        c.launch(kernel, a, b)
        ref = torch.full((pm, pn), fill, dtype=c.dt("dst_dtype"), device=DEV)
        ref[:M, :N] = a.to(c.dt("dst_dtype"))
        c.check(b, ref, rtol=1e-2, atol=1e-2, name=kernel + ".B")


@case("elementwise_copy_oob_safe_value", "elementwise_copy_oob_safe_value__ragged")
def _elementwise_copy_oob(c):
    M, N, pm, pn = c.p["M"], c.p["N"], c.p["padded_M"], c.p["padded_N"]
    a = c.randn((M, N), "dtype")
    b = c.poison((pm, pn), "dtype")
    c.launch("elementwise_copy_oob", a, b)
    ref = torch.full((pm, pn), c.p["pad_value"], dtype=torch.float32, device=DEV)
    ref[:M, :N] = a
    c.check(b, ref, rtol=1e-2, atol=1e-2, name="B")


@case("copy_with_stride", "copy_with_stride__ragged")
def _copy_with_stride(c):
    M, N, NN = c.p["M"], c.p["N"], c.p["NN"]
    a = c.randn((M, NN), "dtype")
    b = c.poison((M, N), "dtype")
    c.launch("copy_with_stride", a[:, :N], b)
    c.check(b, a[:, :N], rtol=1e-2, atol=1e-2, name="B (static NN)")
    b2 = c.poison((M, N), "dtype")
    c.launch("copy_with_dynamic_stride", a[:, :N], b2, ld=NN)
    c.check(b2, a[:, :N], rtol=1e-2, atol=1e-2, name="B (dynamic NN)")


@case("copy_bufferload", "copy_bufferload__ragged")
def _copy_bufferload(c):
    T_ = c.p["num_tokens"]
    idx = torch.randperm(T_, generator=c.gen).to(torch.int32).to(DEV)
    x = c.randn((T_,), "dtype")
    ref = (x.float() + 1).to(x.dtype)
    c.launch("copy_bufferload", idx, x)
    c.check(x, ref, rtol=1e-2, atol=1e-2, name="x")


@case("copy_bufferload_cross_dtype", "copy_bufferload_cross_dtype__int16", "copy_bufferload_cross_dtype__ragged")
def _copy_bufferload_cross(c):
    T_ = c.p["num_tokens"]
    hi = 30000 if c.p["index_dtype"] == "int16" else 1000000
    indices = c.randint(0, hi, (T_,), "index_dtype")
    out = c.poison((T_,), "int32")
    c.launch("copy_bufferload_cross_dtype", indices, out)
    c.check(out, indices.to(torch.int32), name="out")


@case("copy_fp4", "copy_fp4__ragged")
def _copy_fp4(c):
    M, N = c.p["M"], c.p["N"]
    a = c.randint(0, 256, (M, N // 2), "uint8")
    b = torch.bitwise_not(a)  # every byte poisoned: differs from its expected value
    c.launch("tilelang_copy_fp4", a, b)
    c.check(b, a, name="B bytes")


_FP4_VALUES = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0]


@case("copy_fp4__to_f16", "copy_fp4__to_bf16")
def _copy_fp4_convert(c):
    M, N = c.p["M"], c.p["N"]
    a = c.randint(0, 256, (M, N // 2), "uint8")
    b = c.poison((M, N), "dst_dtype")
    c.launch("tilelang_copy_fp4", a, b)
    # Element j of a row is nibble j % 2 (low first) of byte j // 2, decoded exactly.
    table = torch.tensor(_FP4_VALUES, dtype=torch.float32, device=DEV)
    codes = torch.stack(((a & 15).long(), (a >> 4).long()), dim=-1).reshape(M, N)
    c.check(b, table[codes].to(c.dt("dst_dtype")), name="B")


@case("copy_fp8_e8m0")
def _copy_fp8_e8m0(c):
    M, N = c.p["M"], c.p["N"]
    a = c.randint(0, 256, (M, N), "uint8")  # every code, NaN (255) too: a copy moves bytes
    b = torch.bitwise_not(a)
    c.launch("tilelang_copy_e8m0", a, b)
    c.check(b, a, name="B bytes")


@case("cumsum", "cumsum__dim1", "cumsum__f32", "cumsum__ragged")
def _cumsum(c):
    M, N, bm, bn, dim = c.p["M"], c.p["N"], c.p["block_M"], c.p["block_N"], c.p["dim"]
    a = c.randn((M, N), "dtype")
    ref = torch.empty((M, N), dtype=torch.float32, device=DEV)
    for r0 in range(0, M, bm):  # TileLang's reference: each block's tile on its own
        for c0 in range(0, N, bn):
            tile = a[r0:r0 + bm, c0:c0 + bn].float()
            ref[r0:r0 + bm, c0:c0 + bn] = tile.cumsum(dim)  # reverse = False, the port's const
    for kernel in ("cumsum_smem", "cumsum_fragment"):
        b = c.poison((M, N), "dtype")
        c.launch(kernel, a, b)
        c.check(b, ref.to(c.dt("dtype")), rtol=1e-2, atol=1e-2, name=kernel + ".B")


@case("issue_1601_vectorized_fp8_fill")
def _issue_1601(c):
    a = torch.full((8,), 0x7E, dtype=torch.uint8, device=DEV)  # poisoned: e4m3 code 126 (448)
    c.launch("vectorized_fp8_zero", a)
    c.check(a, torch.zeros(8, dtype=torch.uint8, device=DEV), name="A bytes")  # +0.0 is code 0


@case("issue_2682_vectorized_select")
def _issue_2682(c):
    n = c.p["NUM_ELEMENTS"]
    src = torch.tensor([-1.5, 0.0, 2.0, -0.25][:n], dtype=torch.float32, device=DEV)
    dst = c.poison((n,), "float32")
    c.launch("vectorized_select", src, dst)
    c.check(dst, torch.where(src > 0, src, src + 1.0), name="destination")


@case("issue_2635_round_mode", "issue_2635_round_mode__e4m3", "issue_2635_round_mode__e5m2")
def _issue_2635(c):
    # TileLang's test only compiles; ours runs: halves of both signs (where the modes
    # differ), then random values. Ties away from zero: sign(x) * floor(|x| + 1/2) in
    # float64 (exact for these dtypes), the result representable in the dtype.
    halves = torch.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, -3.5], dtype=torch.float64)
    rest = torch.randn(8, generator=c.gen, dtype=torch.float64) * 6
    a = torch.cat([halves, rest]).to(c.dt("dtype")).to(DEV)
    b = c.poison((16,), "dtype", 0.0)
    b.fill_(float("nan"))
    c.launch("round_ties_away", a, b)
    x = a.double()
    c.check(b.double(), torch.sign(x) * torch.floor(x.abs() + 0.5), name="B")


@case("tma_copy_block")
def _tma_copy_block(c):
    M, K = c.p["M"], c.p["K"]
    a = c.randn((M, K))
    b = c.poison((1,), "float32")
    c.launch("block_tma_copy", a, b)  # one block (ceildiv(256, 256)): B[0] = A[0, 0]
    c.check(b, a[0:1, 0].clone(), name="B")


@case("tma_copy_cluster_mask")
def _tma_copy_cluster_mask(c):
    iters, tile = c.p["iters"], c.p["tile"]
    a = c.randn((iters, tile, tile))
    b = c.poison((2, iters, tile, tile), "float32")
    c.launch("main", a, b)
    # Both blocks of the cluster are in the mask: each receives every tile (TileLang's test).
    for rank in range(2):
        c.check(b[rank], a, name="B[%d]" % rank)


@case("cluster_barrier")
def _cluster_barrier(c):
    a = c.poison((128,), "int32")
    c.launch("cluster_barrier", a)  # TileLang's test: it runs to completion


@case("cluster_rank")
def _cluster_rank(c):
    a = c.poison((128,), "int32")
    c.launch("cta_rank_in_cluster", a)
    c.check(a, torch.arange(128, dtype=torch.int32, device=DEV) % c.p["cluster_size"], name="A")


@case("tma_dsmem_simt_barrier", "tma_dsmem_simt_barrier__n31")
def _tma_dsmem_simt_barrier(c):
    a = c.randn((c.p["M"], c.p["N_tile"]))
    b = c.poison((c.p["M"], c.p["N_tile"]), "float32")
    c.launch("store_cluster_slice", a, b)
    c.check(b, a, name="B")


@case("tma_dsmem_simt_no_barrier")
def _tma_dsmem_simt_no_barrier(c):
    a = c.randn((c.p["N"],))
    b = c.poison((c.p["N"],), "float32")
    c.launch("store_cluster_no_barrier", a, b)
    c.check(b, a, name="B")


@case("tma_dsmem_store_cluster", "tma_dsmem_store_cluster__n127")
def _tma_dsmem_store_cluster(c):
    a = c.randn((c.p["N"],))
    b = c.poison((c.p["N"],), "float32")
    c.launch("store_cluster", a, b)
    c.check(b, a, name="B")


@case("tma_multicast")
def _tma_multicast(c):
    M, N, bm, bn, mask = c.p["M"], c.p["N"], c.p["block_M"], c.p["block_N"], c.p["cluster_mask"]
    a = c.randn((M, N), "float16")
    b = c.poison((M, N), "float16")
    c.launch("tma_multicast", a, b)
    # Clusters of 4 blocks along x: a rank in the mask gets the tile of the mask's
    # lowest rank (the multicast source), the others their own (TileLang's test).
    ref = a.clone()
    low = (mask & -mask).bit_length() - 1
    for bx in range(N // bn):
        rank = bx % 4
        if mask >> rank & 1:
            src = bx - rank + low
            ref[:, bx * bn:(bx + 1) * bn] = a[:, src * bn:(src + 1) * bn]
    c.check(b, ref, name="B")


@case("fp4_tma_roundtrip", "fp4_tma_roundtrip__ragged")
def _fp4_roundtrip(c):
    M, N = c.p["M"], c.p["N"]
    a = c.randint(0, 256, (M, N // 2), "uint8")
    b = torch.bitwise_not(a)
    c.launch("fp4_roundtrip", a, b)
    c.check(b, a, name="B bytes")


@case("safe_value_shift", "safe_value_shift__ragged")
def _safe_value_shift(c):
    M, N, pad = c.p["M"], c.p["N"], c.p["pad_value"]
    a = c.randn((M, N), "dtype")
    b = c.poison((M, N), "dtype")
    c.launch("safe_value_shift", a, b)
    ref = torch.full_like(a, pad)
    ref[10:, :] = a[:M - 10, :]
    c.check(b, ref, rtol=1e-2, atol=1e-2, name="B")


@case("parallel_static", "parallel_static__ragged")
def _parallel_static(c):
    L = c.p["length"]
    a = c.randn((L,), "dtype")
    b = c.poison((L,), "dtype")
    c.launch("parallel_elementwise_static", a, b)
    c.check(b, a + 1.0, rtol=1e-5, atol=1e-5, name="B")


@case("parallel_dynamic", "parallel_dynamic__ragged")
def _parallel_dynamic(c):
    L = c.p["max_len"]
    a = c.randn((L,), "dtype")
    for valid_len in (0, 13, 200, 600, L - 1):
        b = c.poison((L,), "dtype")
        c.launch("parallel_elementwise_dynamic", a, b, valid_len=valid_len)
        ref = torch.zeros_like(a)
        clip = min(valid_len, L)
        ref[:clip] = a[:clip] - 1.0
        c.check(b, ref, rtol=1e-5, atol=1e-5, name="B (valid_len=%d)" % valid_len)


@case("alloc_var", "alloc_var__ragged")
def _alloc_var(c):
    N = c.p["N"]
    a = c.randn((N,), "dtype")
    b = c.poison((N,), "dtype")
    c.launch("alloc_var", a, b)
    c.check(b, a, rtol=1e-2, atol=1e-2, name="alloc_var.B")
    b = c.poison((N,), "dtype")
    c.launch("alloc_var_add", a, b)
    c.check(b, (a.float() + 1).to(a.dtype), rtol=1e-2, atol=1e-2, name="alloc_var_add.B")


@case("alloc_var_init", "alloc_var_init__ragged")
def _alloc_var_init(c):
    N = c.p["N"]
    a = c.randint(-1000, 1000, (N,), "dtype")
    b = c.poison((N,), "dtype")
    c.launch("alloc_var_with_initializer", a, b)
    c.check(b, torch.full_like(a, c.p["init_value"]), name="with_initializer.B")
    b = c.poison((N,), "dtype")
    c.launch("alloc_multi_vars_with_initializer", a, b)
    c.check(b, torch.full_like(a, 3), name="multi_vars.B")


@case("fill_int8_negative", "fill_int8_negative__m128", "fill_int8_negative__m1", "fill_int8_negative__p5",
      "fill_int8_negative__ragged")
def _fill_int8(c):
    M, N, v = c.p["M"], c.p["N"], c.p["value"]
    out = c.poison((M, N), "int8", value=77)
    c.launch("fill_int8", out)
    c.check(out, torch.full((M, N), v, dtype=torch.int8, device=DEV), name="out")


def _atomic_sum(c, kernel):
    K, M, N = c.p["K"], c.p["M"], c.p["N"]
    a = c.randn((K, M, N), "dtype")
    b = c.randn((M, N), "dtype")  # TileLang starts from zeros; any start tells add from store
    ref = b + a.sum(dim=0)
    c.launch(kernel, a, b)
    c.check(b, ref, rtol=1e-3, atol=1e-3, name="B")


@case("atomic_add", "atomic_add__ragged")
def _atomic_add(c):
    _atomic_sum(c, "atomic_add")


@case("atomic_memory_order", "atomic_memory_order__ragged")
def _atomic_memory_order(c):
    _atomic_sum(c, "atomic_with_memory_order")


@case("atomic_add_mixed_dtype", "atomic_add_mixed_dtype__bf16", "atomic_add_mixed_dtype__ragged")
def _atomic_mixed(c):
    N = c.p["N"]
    src = torch.arange(1, N + 1, dtype=c.dt("src_dtype"), device=DEV)
    out = torch.zeros(N, dtype=c.dt("dst_dtype"), device=DEV)
    c.launch("atomic_add_mixed", src, out)
    c.check(out, src.to(c.dt("dst_dtype")), rtol=1e-2, atol=1e-2, name="Out")


@case("atomic_addx2", "atomic_addx2__f32", "atomic_addx2__bf16", "atomic_addx2__ragged",
      "atomic_addx4", "atomic_addx4__ragged")
def _atomic_addx(c):
    M, N = c.p["M"], c.p["N"]
    x4 = c.vid.startswith("atomic_addx4")
    dtype = "float32" if x4 else c.p["dtype"]
    a = c.randn((M, N), dtype)
    b = c.randn((M, N), dtype)  # any start tells add from store
    ref = (b.float() + a.float()).to(b.dtype)
    c.launch("atomic_addx4" if x4 else "atomic_addx2", a, b)
    tol = 1e-6 if dtype == "float32" else 1e-2
    c.check(b, ref, rtol=tol, atol=tol, name="B")


@case("tma_copy_per_warp", "tma_copy_per_warp__ragged")
def _tma_copy_per_warp(c):
    M, K = c.p["M"], c.p["K"]
    a = c.randn((M, K))
    b = c.poison((M,), "float32")
    c.launch("per_warp_tma_copy", a, b)  # alloc_barrier([warp_size] * num_warps)
    c.check(b, a[:, 0], name="B")


@case("atomic_different_memory_orders")
def _atomic_orders(c):
    M, N = c.p["M"], c.p["N"]
    a = c.randn((M, N), "dtype")
    b, cc, d = c.randn((M, N), "dtype"), c.randn((M, N), "dtype"), c.randn((M, N), "dtype")
    rb, rc, rd = b + a, torch.maximum(cc, a), torch.minimum(d, a)
    c.launch("atomic_different_orders", a, b, cc, d)
    c.check(b, rb, rtol=1e-6, atol=1e-6, name="B (add, release)")
    c.check(cc, rc, name="C (max, relaxed)")
    c.check(d, rd, name="D (min, relaxed)")


@case("atomic_return_prev")
def _atomic_return_prev(c):
    M, N = c.p["M"], c.p["N"]
    a = c.randn((M, N), "dtype")
    b = c.randn((M, N), "dtype")
    b0 = b.clone()
    old = c.poison((M, N), "dtype")
    c.launch("atomic_with_return_prev", a, b, old)
    c.check(old, b0, name="old_vals")  # each element is updated once: its old value is B's start
    c.check(b, b0 + a, rtol=1e-6, atol=1e-6, name="B")


@case("clamp_fp8", "clamp_fp8__e5m2")
def _clamp_fp8(c):
    n = c.p["N"]
    a = (c.randn((n,)) * 2).to(c.dt("dtype"))
    b = (c.randn((n,)) * 2).to(c.dt("dtype"))
    fa, fb = a.float(), b.float()
    for kernel, ref in (("fp8_max", torch.maximum(fa, fb)), ("fp8_min", torch.minimum(fa, fb)),
                        ("fp8_clamp", fa.clamp(-1.0, 1.0))):
        out = c.poison((n,), "dtype", 0.0)
        out.fill_(float("nan"))
        c.launch(kernel, a, b, out)
        c.check(out.float(), ref, name="C of " + kernel)


@case("clamp_fp8_vectorized", "clamp_fp8_vectorized__e5m2", "clamp_fp8_vectorized__ragged")
def _clamp_fp8_vectorized(c):
    n = c.p["N"]
    a = (c.randn((n,)) * 2).to(c.dt("dtype"))
    b = (c.randn((n,)) * 2).to(c.dt("dtype"))
    out = c.poison((n,), "dtype", 0.0)
    out.fill_(float("nan"))
    c.launch("fp8_vectorized_max", a, b, out)
    c.check(out.float(), torch.maximum(a.float(), b.float()), name="C")


@case("elementwise_add", "elementwise_add__ragged")
def _elementwise_add(c):
    M, N = c.p["M"], c.p["N"]
    a, b = c.randn((M, N), "in_dtype"), c.randn((M, N), "in_dtype")
    out = c.poison((M, N), "out_dtype")
    c.launch("elementwise_add", a, b, out)
    c.check(out, a + b, rtol=1e-2, atol=1e-2, name="C")


@case("tma_1d_elementwise_add", "tma_1d_elementwise_add__128x128", "tma_1d_elementwise_add__256x256",
      "tma_1d_elementwise_add__ragged")
def _tma_1d_add(c):
    M, N = c.p["M"], c.p["N"]
    a, b = c.randn((M, N), "in_dtype"), c.randn((M, N), "in_dtype")
    out = c.poison((M, N), "out_dtype")
    c.launch("elem_add", a, b, out)
    c.check(out, a + b, rtol=1e-2, atol=1e-2, name="C")


def _rms_ref(x):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-12)


@case("rms_norm", "rms_norm__ragged")
def _rms_norm(c):
    M, N = c.p["M"], c.p["N"]
    a = c.randn((M, N))
    b = c.poison((M, N), "float32")
    c.launch("rms_norm", a, b)
    c.check(b, _rms_ref(a), rtol=1e-2, atol=1e-2, max_mismatched_ratio=0.01, name="B")


@case("rms_norm_splitk", "rms_norm_splitk__ragged")
def _rms_norm_splitk(c):
    M, N = c.p["M"], c.p["N"]
    a = c.randn((M, N))
    b = c.poison((M, N), "float32")
    c.launch("rms_norm_splitk", a, b)
    c.check(b, _rms_ref(a), rtol=1e-2, atol=1e-2, max_mismatched_ratio=0.01, name="B")


@case("per_token_cast_fp8", "per_token_cast_fp8__1024", "per_token_cast_fp8__ragged")
def _per_token_cast(c):
    M, N, G = c.p["M"], c.p["N"], c.p["group_size"]
    x = c.randn((M, N))
    x_fp8 = torch.full((M, N), 0x7F, dtype=torch.uint8, device=DEV).view(torch.float8_e4m3fn)  # NaN
    x_amax = c.poison((M, _cdiv(N, G)), "float32")
    c.launch("per_token_cast_to_fp8", x, x_fp8, x_amax)
    # TileLang's ref_program.
    new_n = _cdiv(N, 128) * 128
    x_view = torch.nn.functional.pad(x, (0, new_n - N)).view(M, -1, 128)
    amax = x_view.abs().float().amax(dim=2).view(M, -1).clamp(1e-4)
    ref_fp8 = (x_view * (448.0 / amax.unsqueeze(2))).to(torch.float8_e4m3fn).view(M, -1)[:, :N].contiguous()
    c.check(x_fp8.float(), ref_fp8.float(), rtol=0.01, atol=0.01, max_mismatched_ratio=0.001, name="X_fp8")
    c.check(x_amax, (amax / 448.0).view(M, -1), rtol=0.01, atol=0.01, max_mismatched_ratio=0.001, name="X_amax")


_REDUCE_KERNELS = [("reduce_sum_ff", "sum"), ("reduce_max_ff", "max"), ("reduce_min_ff", "min"),
                   ("reduce_abssum_ff", "abssum"), ("reduce_absmax_ff", "absmax"), ("reduce_sum_ss", "sum"),
                   ("reduce_max_ss", "max"), ("reduce_sum_fs", "sum")]


def _reduce_ref(a, op):  # TileLang's _ref
    if op == "sum":
        return a.sum(dim=1).to(a.dtype)
    if op == "max":
        return a.max(dim=1).values
    if op == "min":
        return a.min(dim=1).values
    if op == "abssum":
        return a.abs().sum(dim=1).to(a.dtype)
    return a.abs().max(dim=1).values


@case("reduce", "reduce__i32", "reduce__i64_192x64", "reduce__f32_192x64", "reduce__f32_32x32_t16",
      "reduce__f32_16x16_t8", "reduce__bf16", "reduce__f16_64x128_t256", "reduce__ragged")
def _reduce(c):
    M, N = c.p["M"], c.p["N"]
    dt = c.p["dtype"]
    if dt in ("int32", "int64"):
        a = c.randint(-100, 100, (M, N), dt)
        tol = 0.0
    else:
        a = c.randn((M, N), dt)
        tol = 1e-1 if dt in ("float16", "bfloat16") else 1e-2
    for kernel, op in _REDUCE_KERNELS:
        b = c.poison((M,), dt)
        c.launch(kernel, a, b)
        c.check(b, _reduce_ref(a, op), rtol=tol, atol=tol, name=kernel + ".B")


@case("clamp_value_range", "clamp_value_range__f32", "clamp_value_range__ragged")
def _clamp_value_range(c):
    N, bn = c.p["N"], c.p["block_N"]
    a = c.randn((1, N), "dtype")
    b = c.poison((1, N), "dtype")
    c.launch("clamp_value_range", a, b)
    # Per block of block_N: clamp to [min * 0.5, max * 0.5] of the block's values; a
    # ragged last block also sees the copy's zero padding, as in TileLang.
    ref = torch.empty_like(a)
    for t in range(0, N, bn):
        blk = a[0, t:t + bn].float()
        pad = torch.zeros(bn - blk.numel(), device=a.device)
        full = torch.cat([blk, pad])
        lo = (full.min().to(a.dtype) * 0.5).float()
        hi = (full.max().to(a.dtype) * 0.5).float()
        ref[0, t:t + bn] = torch.minimum(torch.maximum(blk, lo), hi).to(a.dtype)
    c.check(b, ref, rtol=1e-3, atol=1e-3, name="B")


@case("copy_oob_lexical_scope")
def _copy_oob_lexical_scope(c):
    M, N, BM, BN = c.p["M"], c.p["N"], c.p["BM"], c.p["BN"]
    a = c.randint(-50, 50, (M, N), "int32")
    out = c.poison((BM, BN), "int32")
    c.launch("lexical_scope", a, out)
    # The outer sblock's safe value (-1) past A: the inner scope's -99 is its own.
    ref = torch.full((BM, BN), -1, dtype=torch.int32, device=DEV)
    ref[:M, :N] = a[:BM, :BN]
    c.check(out, ref, name="Out")


@case("pointer_table_copy", "pointer_table_copy__ragged_f32")
def _pointer_table_copy(c):
    n = c.p["N"]
    base = c.randn((n + 1,), "dtype")
    # The table holds a device address (torch int64, as TileLang's test builds it);
    # base[1:] is misaligned by one element: nothing is assumed of a loaded address.
    for name, src in (("aligned", base[:n]), ("misaligned", base[1:])):
        table = torch.tensor([src.data_ptr()], dtype=torch.int64, device=DEV)
        out = c.poison((n,), "dtype")
        c.launch("pointer_table_copy", table, out)
        c.check(out, src, name="out (%s source)" % name)


@case("pointer_table_multi_copy", "pointer_table_multi_copy__ragged", "pointer_table_multi_copy__bf16")
def _pointer_table_multi_copy(c):
    g, n = c.p["G"], c.p["N"]
    # Block bx copies what src_ptrs[bx] points to: allocation k starts
    # k elements in (odd k: a misaligned address); with g > 2 the first listed again last.
    srcs = [c.randn((n + k,), "dtype")[k:] for k in range(g)]
    if g > 2:
        srcs[-1] = srcs[0]
    table = torch.tensor([s.data_ptr() for s in srcs], dtype=torch.int64, device=DEV)
    out = c.poison((g, n), "dtype")
    c.launch("pointer_table_multi_copy", table, out)
    c.check(out, torch.stack(srcs, dim=0), name="out")


@case("scalar_copy_annotations")
def _scalar_copy_annotations(c):
    a = c.randn((1,))
    b = c.poison((1,), "float32")
    c.launch("scalar_copy_annotations", a, b)  # the namespaced annotations are skipped (a warning)
    c.check(b, a, name="B")


@case("reduce_batch")
def _reduce_batch(c):
    M, N = c.p["M"], c.p["N"]
    a = c.randn((M, N), c.p["dtype"])
    b = c.poison((M,), c.p["dtype"])
    c.launch("reduce_sum_sf_batch", a, b)  # batch= only schedules: the plain row sums
    c.check(b, a.sum(dim=1), rtol=1e-4, atol=1e-4, name="B")


@case("tma_copy_strided_row", "tma_copy_strided_row__ragged")
def _tma_strided_row(c):
    rows, cols, stride = c.p["rows"], c.p["cols"], c.p["row_stride"]
    padded = torch.arange(rows * stride, dtype=torch.float32, device=DEV).reshape(rows, stride)
    b = c.poison((cols,), "float32")
    c.launch("strided_row", padded[:, :cols], b)
    c.check(b, padded[1, :cols], name="B")


@case("tma_copy_padded_multirow", "tma_copy_padded_multirow__ragged")
def _tma_padded(c):
    rows, cols, stride = c.p["rows"], c.p["cols"], c.p["row_stride"]
    source = torch.arange(rows * cols, dtype=torch.float32, device=DEV).reshape(rows, cols)
    padded = torch.full((rows, stride), -1.0, dtype=torch.float32, device=DEV)
    padded[:, :cols] = source
    out = c.poison((rows, cols), "float32")
    c.launch("padded_load", padded[:, :cols], out)
    c.check(out, source, name="load.B")
    dst = torch.full((rows, stride), -1.0, dtype=torch.float32, device=DEV)
    c.launch("padded_store", source, dst[:, :cols])
    ref = torch.full((rows, stride), -1.0, dtype=torch.float32, device=DEV)
    ref[:, :cols] = source
    c.check(dst, ref, name="store.B (padding untouched)")


@case("tma_store_auto", "tma_store_auto__ragged")
def _tma_store_auto(c):
    M, N = c.p["M"], c.p["N"]
    a = c.randn((M, N), "dtype")
    out = c.poison((M, N), "dtype")
    c.launch("auto_tma_store", a, out)
    c.check(out, a, rtol=1e-2, atol=1e-2, name="C")


@case("tma_store_full_shape")
def _tma_store_full_shape(c):
    # TileLang checks the generated source only; the stored tile is never written, so
    # only the launches are checked (they return CUDA_SUCCESS and complete).
    out = c.poison((128, 128), "dtype")
    c.launch("full_shape_tma_store", out)
    c.launch("tma_store_wait_read")


@case("issue_1008_fill_static")
def _issue_1008(c):
    for n in (256, 100):
        x = torch.full((n,), 5, dtype=torch.int64, device=DEV)
        c.launch("fill_static_region", x, num_tokens=n)
        ref = torch.full((n,), 5, dtype=torch.int64, device=DEV)
        ref[:min(128, n)] = 0
        c.check(x, ref, name="x (num_tokens=%d)" % n)


@case("issue_1008_fill_dynamic")
def _issue_1008_dynamic(c):
    # a, b = alloc_var(int), alloc_var(int): both 0, so x[a:b] is empty and x is untouched.
    for n in (256, 7):
        x = torch.full((n,), 5, dtype=torch.int64, device=DEV)
        c.launch("fill_dynamic_region", x, num_tokens=n)
        c.check(x, torch.full((n,), 5, dtype=torch.int64, device=DEV), name="x (num_tokens=%d)" % n)


@case("issue_1728_serial_range")
def _issue_1728(c):
    # TileLang compiles it only (a serial loop over a run-time range, a tuple
    # assignment in its body); it must also run, writing nothing.
    for n in (1, 333):
        a = c.randn((n,))
        before = a.clone()
        c.launch("qwq", a, num_tokens=n)
        c.check(a, before, name="A (num_tokens=%d)" % n)


@case("parallel_vectorize_var")
def _parallel_vectorize_var(c):
    c.launch("parallel_vectorize_local_and_var")  # TileLang checks the source only; it must run


@case("alloc_global")
def _alloc_global(c):
    n = c.p["N"]
    a = c.randn((n,), "dtype")
    b = c.poison((n,), "dtype")
    workspace = c.poison((n,), "dtype")  # T.alloc_global's C: the caller's here
    c.launch("alloc_global", a, b, workspace)
    c.check(b, a, name="B")


@case("issue_2883_large_parallel")
def _issue_2883(c):
    # One row of 8192 bytes in a buffer of even row stride (T.assume(stride % 2 == 0)).
    base = c.randint(0, 256, (2, 9000), "uint8")
    src = base[:1, :8192]
    dst_base = c.poison((2, 9000), "uint8", 77)
    dst = dst_base[:1, :8192]
    c.launch("large_parallel", dst, src, stride=9000)
    c.check(dst, src, name="dst")
    c.check(dst_base[:, 8192:], torch.full((2, 808), 77, dtype=torch.uint8, device=DEV), name="dst past the row")
    if c.dry is None:
        # An odd stride breaks the kernel's assume: the launcher refuses it.
        odd = c.randint(0, 256, (1, 8193), "uint8")[:, :8192]
        try:
            c.launch("large_parallel", c.poison((1, 8193), "uint8", 77)[:, :8192], odd, stride=8193)
            c.failures.append("an odd stride was not refused (assume(stride % 2 == 0))")
        except Exception as e:  # the package's exception names the assumption
            if "multiple of 2" not in str(e):
                c.failures.append("odd stride refused for another reason: %s" % e)


@case("issue_1678_alloc_var_max")
def _issue_1678(c):
    c.launch("qwq_kernel")  # compile-and-run only, as in TileLang


@case("issue_1690_reduce_to_scalar")
def _issue_1690(c):
    a = c.randn((c.p["N"],))
    c.launch("reduce_to_scalar", a)  # TileLang compiles it only; it must also run


@case("issue_1374_broadcast_div", "issue_1374_broadcast_div__ragged", "issue_1374_broadcast_div__ragged_div5")
def _issue_1374(c):
    # B is read and written (+=): A is never 0, so a B element left unwritten shows.
    rows, a_cols, b_cols, g = c.p["rows"], c.p["a_cols"], c.p["b_cols"], c.p["group"]
    a = c.randint(1, 100, (rows, a_cols), "int32") * (1 - 2 * c.randint(0, 2, (rows, a_cols), "int32"))
    b = c.randint(-1000, 1000, (rows, b_cols), "int32")
    ref = b + a[:, torch.arange(b_cols, device=b.device) // g]
    c.launch("issue_1374", a, b)  # TileLang compiles it only; it must also run
    c.check(b, ref, name="B")


@case("reduce_fragment_layout", "reduce_fragment_layout__ragged")
def _reduce_fragment_layout(c):
    rows, width = c.p["rows"], c.p["width"]
    x = torch.rand((rows, width), generator=c.gen).to(DEV)  # TileLang's torch.rand: positive sums
    out = c.poison((rows, width), "float32")
    c.launch("fragment_reduce", x, out)
    c.check(out, x / x.sum(dim=1, keepdim=True), rtol=1e-5, atol=1e-6, name="out")


@case("clamp_within_bounds", "clamp_within_bounds__f32", "clamp_within_bounds__ragged")
def _clamp_within_bounds(c):
    n = c.p["N"]
    a = c.randn((n,), "dtype") * 0.1  # TileLang's test: half the values outside [-0.05, 0.05]
    b = c.poison((n,), "dtype")
    c.launch("clamp_within_bounds", a, b)
    c.check(b, a.clamp(-0.05, 0.05), name="B")  # the port's min_val / max_val consts


@case("shared_fill_cast_zero")
def _shared_fill_cast_zero(c):
    out = c.poison((128,), "float32")
    c.launch("shared_fill_cast_zero", out)
    c.check(out, torch.zeros(128, dtype=torch.float32, device=DEV), name="out")


@case("issue_1026_shared_swap")
def _issue_1026(c):
    c.launch("shared_kernel")  # TileLang checks the source has no barrier; it must run


@case("issue_1001_cumsum_view")
def _issue_1001(c):
    # TileLang runs it only (the scan through T.view(smem, (1, hidden)) stays in shared
    # memory); it must run, for TileLang's one token and a ragged count, leaving x as is.
    for n in (1, 7):
        x = c.randn((n, 128))
        before = x.clone()
        c.launch("cumsum_view", x, num_tokens=n)
        c.check(x, before, name="x (num_tokens=%d)" % n)


@case("issue_1237_dynamic_copy_extent")
def _issue_1237(c):
    for n in (1, 100, 1024):  # TileLang builds it only; the copy of `len` elements must run
        x = c.randint(0, 100, (n,), "int32")
        c.launch("sample_kernel", x, len=n)


# test_tilelang_language_reshape.py: reshapes of global tensors, shared tiles and
# fragments (the same elements in row-major order), TileLang's tolerance.


def _check_reshape(c, kernel, flat_in):
    """A's elements, row-major, in B of the other shape: (N,) <-> (N // M, M)."""
    N, M = c.p["N"], c.p["M"]
    shapes = ((N,), (N // M, M))
    src, dst = shapes if flat_in else shapes[::-1]
    a = c.randn(src, "dtype")
    b = c.poison(dst, "dtype")
    c.launch(kernel, a, b)
    c.check(b, a.reshape(dst), rtol=1e-2, atol=1e-2, name="B")


@case("reshape", "reshape__f16", "reshape__ragged")
def _reshape(c):
    _check_reshape(c, "reshape_test", flat_in=True)


@case("reshape_smem_1d_2_2d", "reshape_smem_1d_2_2d__f16", "reshape_smem_1d_2_2d__ragged")
def _reshape_smem_1d_2_2d(c):
    _check_reshape(c, "reshape_smem_1d_2_2d", flat_in=True)


@case("reshape_smem_2d_2_1d", "reshape_smem_2d_2_1d__f16", "reshape_smem_2d_2_1d__ragged")
def _reshape_smem_2d_2_1d(c):
    _check_reshape(c, "reshape_smem_2d_2_1d", flat_in=False)


@case("reshape_layout_transform_shared", "reshape_layout_transform_shared__f16",
      "reshape_layout_transform_shared__ragged")
def _reshape_layout_transform_shared(c):
    # The tile is swizzled; its reshape reads the logical elements, row-major.
    _check_reshape(c, "reshape_layout_transform_shared", flat_in=False)


@case("reshape_fragment", "reshape_fragment__f16", "reshape_fragment__ragged")
def _reshape_fragment(c):
    _check_reshape(c, "reshape_fragment", flat_in=False)  # ragged: 999 elements over 32 threads


@case("reduce_after_reshape", "reduce_after_reshape__f16", "reduce_after_reshape__ragged")
def _reduce_after_reshape(c):
    # Rows of 32 float32 / 64 float16: warp shuffles; rows of 37: through shared scratch.
    N, M = c.p["N"], c.p["M"]
    a = c.randn((N,), "dtype")
    b = c.poison((N // M,), "dtype")
    c.launch("reduce_after_reshape", a, b)
    c.check(b, torch.max(a.reshape(N // M, M), dim=1).values, rtol=1e-2, atol=1e-2, name="B")


@case("reduce_absmax_after_reshape_3d", "reduce_absmax_after_reshape_3d__ragged",
      "reduce_absmax_after_reshape_3d__m5")
def _reduce_absmax_3d(c):
    M, N, G, P = c.p["M"], c.p["N"], c.p["num_groups"], c.p["num_per_channels"]
    a = c.randint(-100, 100, (M, N), "dtype")
    b = c.poison((M, G), "dtype")
    c.launch("reduce_absmax_after_reshape_3d", a, b)
    c.check(b, a.abs().reshape(M, G, P).max(dim=2).values, name="B")


# --------------------------------------------------------------------------- dry run


def dry_run(header_dir):
    """Problems found running every case on the CPU with launches that do nothing.

    Each launch binds its arguments against the generated header in header_dir
    (ID.h, compiled with --prefix ID) and leaves the outputs as poisoned, so every
    case that checks an output must fail; a case that passes could not tell a kernel
    that did nothing from a correct one (the few that only launch are listed in
    LAUNCH_ONLY), and a Python error is a bug of the case. Needs torch (CPU)."""
    global DEV
    import launch
    problems = []
    ran = 0
    DEV, saved = "cpu", DEV
    try:
        for vid, fn in sorted(CASES.items()):
            if not os.path.exists(os.path.join(header_dir, vid + ".h")):
                continue  # not compiled (the manifest says whether it should be)
            ran += 1
            c = Ctx(vid, dry_signatures={k: sig for k, (sig, _) in launch.signatures(vid, header_dir).items()})
            try:
                fn(c)
            except Exception as e:  # noqa: BLE001 - any error is the case's bug
                problems.append("dry run of %s: %s: %s" % (vid, type(e).__name__, e))
                continue
            if not c.failures and vid not in LAUNCH_ONLY:
                problems.append("dry run of %s: passes with launches that do nothing" % vid)
            if c.failures and vid in LAUNCH_ONLY:
                problems.append("dry run of %s: checks an output but is listed in LAUNCH_ONLY" % vid)
    finally:
        DEV = saved
    print("dry run: %d GPU cases run on the CPU with launches that do nothing, %d problems" % (ran, len(problems)))
    return problems


# Cases that only launch (TileLang's test checks the source, or nothing): they pass
# on a launch that returns CUDA_SUCCESS and completes.
LAUNCH_ONLY = {"tma_store_full_shape", "issue_1678_alloc_var_max", "issue_1690_reduce_to_scalar",
               "issue_1026_shared_swap", "issue_1237_dynamic_copy_extent", "cluster_barrier",
               "issue_1728_serial_range", "parallel_vectorize_var", "issue_1008_fill_dynamic",
               "issue_1001_cumsum_view"}


# --------------------------------------------------------------------------- runner


def _manifest():
    status = {}
    path = os.path.join(ports_table.PORTS_DIR, "MANIFEST")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if line.strip() and not line.startswith("#"):
                    vid, _, s = line.rstrip("\n").partition(": ")
                    status[vid] = s
    return status


class TileLangPorts(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if torch is None:
            raise unittest.SkipTest("torch is not installed")
        if not torch.cuda.is_available():
            raise unittest.SkipTest("no CUDA device")
        torch.zeros(1, device=DEV)  # makes the primary context current


def _make_test(vid, fn):
    def test(self):
        import launch
        so = os.path.join(launch.BUILD_DIR, vid, "lib%s.so" % vid)
        if not os.path.exists(so):
            if _manifest().get(vid) == "compiles":
                self.fail("%s: the manifest says it compiles but %s is missing "
                          "(run scripts/build_tilelang_ports.sh and carry .gpu-ports)" % (vid, so))
            self.skipTest("%s: not built" % vid)
        c = Ctx(vid)
        fn(c)
        sys.stderr.write("  %s: %s\n" % (vid, "; ".join(sorted(set(c.ran)))))
        if c.failures:
            self.fail("\n".join(c.failures))
    test.__name__ = "test_" + vid
    return test


for _vid, _fn in sorted(CASES.items()):
    setattr(TileLangPorts, "test_" + _vid, _make_test(_vid, _fn))


def main():
    prog = unittest.main(module=__name__, exit=False, verbosity=2)
    r = prog.result

    def vid_of(test):  # None for the class (setUpClass skipped or failed)
        tid = test.id()
        return tid.rsplit(".test_", 1)[1] if ".test_" in tid else None
    whole = [reason for t, reason in r.skipped if vid_of(t) is None]
    if whole:
        print("RESULT tilelang_ports: every case skipped (%s)" % whole[0])
        return 0
    failed = {vid_of(t) for t, _ in r.failures + r.errors}
    skipped = {vid_of(t) for t, _ in r.skipped}
    ran = r.testsRun
    passed = ran - len(failed) - len(skipped)
    ports = {}
    for vid in CASES:
        if vid in skipped:
            continue
        ports.setdefault(_TABLE[vid][0], []).append(vid not in failed)
    ports_ok = sum(all(v) for v in ports.values())
    print("RESULT tilelang_ports: %d of %d configurations pass (%d failed, %d skipped); "
          "%d of %d compiling ports pass every configuration" % (
              passed, ran, len(failed), len(skipped), ports_ok, len(ports)))
    return 0 if r.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
