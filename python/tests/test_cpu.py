"""CPU tests of the tlc Python package: the metadata, argument binding and the
launcher's checks, against fake arrays that expose __cuda_array_interface__ (no
GPU, no torch). Metadata comes from the tlc binary ($TLC; tests that need it are
skipped without it) or is written here by hand.

Run: TLC=build/tlc PYTHONPATH=python python3 -m unittest discover -s python/tests
(CTest's python_package test does this; pytest runs it too).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "python"))

import tlc  # noqa: E402
from tlc import meta as M  # noqa: E402
from tlc.arrays import ITEMSIZE, contiguous_strides  # noqa: E402
from tlc.torch_ops import output_shapes  # noqa: E402

TLC = os.environ.get("TLC")
needs_tlc = unittest.skipUnless(TLC and os.path.exists(TLC), "set $TLC to the tlc binary")

TYPESTR = {"float16": "<f2", "float32": "<f4", "float64": "<f8", "int32": "<i4", "int64": "<i8", "uint8": "|u1",
           "int8": "|i1", "bool": "|b1"}


class FakeArray:
    """A device array as CuPy or Numba describe one (never dereferenced)."""

    def __init__(self, shape, dtype="float16", ptr=0x7f0000000000, strides=None):
        self.shape, self.dtype, self.ptr = tuple(shape), dtype, ptr
        self.strides = strides  # in elements; None: contiguous

    @property
    def __cuda_array_interface__(self):
        size = ITEMSIZE[self.dtype]
        return {"shape": self.shape, "typestr": TYPESTR[self.dtype], "data": (self.ptr, False), "version": 3,
                "strides": None if self.strides is None else tuple(s * size for s in self.strides)}


class FakeHostArray:
    """A DLPack producer on the CPU (refused before its capsule is read)."""

    def __dlpack_device__(self):
        return (1, 0)

    def __dlpack__(self, stream=None):
        raise AssertionError("a host array's capsule must not be read")


def emit_meta(path, *flags):
    result = subprocess.run([TLC, os.path.join(REPO, path), "--emit=meta"] + list(flags),
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(result.stderr)
    return result.stdout


def kernel_meta(path, name, *flags):
    return M.parse(emit_meta(path, *flags)).kernel(name)


BASE = 0x7f0000000000


class ExpressionTests(unittest.TestCase):
    def test_floor_semantics_like_the_header(self):
        self.assertEqual(M.evaluate(["floordiv", -7, 2], {}), -4)
        self.assertEqual(M.evaluate(["floormod", -7, 2], {}), 1)
        self.assertEqual(M.evaluate(["shr", -5, 1], {}), -3)
        self.assertEqual(M.evaluate(["neg", ["shr", ["neg", "N"], 7]], {"N": 300}), 3)  # ceildiv(300, 128)
        self.assertEqual(M.evaluate(["select", ["lt", "a", 3], 10, 20], {"a": 1}), 10)

    def test_overflow_and_zero_divisor_refuse(self):
        for e in (["mul", 1 << 62, 4], ["floordiv", 1, 0], ["shl", 1, 63], ["add", M.INT64_MAX, 1]):
            with self.assertRaises(M._Overflow):
                M.evaluate(e, {})

    def test_describe(self):
        self.assertEqual(M.describe(["mul", "N", 2]), "(N * 2)")


class MetadataTests(unittest.TestCase):
    HAND = {
        "format": "tlc-meta", "version": 1, "source": "k.tl", "archs": [{"arch": "sm_90a", "cubin": "k.cubin"}],
        "kernels": [{
            "name": "scale", "dims": ["N"],
            "params": [{"name": "X", "kind": "tensor", "dtype": "float32", "element_bits": 32, "rank": 1,
                        "shape": ["N"], "strides": [1], "elem_offset": 0, "align": 4, "pointer": "X"},
                       {"name": "s", "kind": "scalar", "dtype": "float16"}],
            "checks": {"non_negative": ["N"], "max": [], "spans": [], "requirements": []},
            "variants": [{"entry": "scale", "arch": "sm_90a", "threads": 64, "cluster": [1, 1, 1],
                          "shared_bytes": 0, "grid": [["floordiv", ["add", "N", 63], 64], 1, 1],
                          "grid_text": "(ceildiv(N, 64), 1, 1)", "assumptions": [],
                          "assumptions_required": False,
                          "params": [{"name": "X", "kind": "pointer", "dtype": "float32"},
                                     {"name": "N", "kind": "dim", "dtype": "int32"},
                                     {"name": "s", "kind": "scalar", "dtype": "float16"}]}]}]}

    def test_parse_and_bind_hand_written(self):
        module = M.parse(json.dumps(self.HAND), "/some/dir")
        self.assertEqual(module.cubin_path("sm_90a"), "/some/dir/k.cubin")
        k = module.kernel("scale")
        self.assertEqual(k.signature(), "scale(X: float32[N], s: float16)")
        plan = M.bind(k, [FakeArray((100,), "float32"), 1.5], {})
        self.assertEqual(plan.grid, (2, 1, 1))
        self.assertEqual([(a.name, a.fmt, a.value) for a in plan.args],
                         [("X", "Q", BASE), ("N", "i", 100), ("s", "H", 0x3e00)])
        self.assertEqual(plan.args[2].pack(), b"\x00\x3e")

    def test_not_metadata(self):
        with self.assertRaisesRegex(tlc.MetadataError, "not tlc launch metadata"):
            M.parse('{"kernels": []}')
        with self.assertRaisesRegex(tlc.MetadataError, "version 7"):
            M.parse(json.dumps(dict(self.HAND, version=7)))
        with self.assertRaisesRegex(tlc.MetadataError, "not JSON"):
            M.parse("{")
        with self.assertRaisesRegex(AttributeError, "no kernel 'nope'.*scale"):
            M.parse(json.dumps(self.HAND)).kernel("nope")

    def test_meta_path_beside_the_cubin(self):
        self.assertEqual(M.meta_path_for("build/k.cubin"), "build/k.meta.json")
        self.assertEqual(M.meta_path_for("build/k.meta.json"), "build/k.meta.json")

    def test_load_without_metadata_says_how_to_make_it(self):
        with tempfile.TemporaryDirectory() as d:
            with self.assertRaisesRegex(tlc.MetadataError, "--emit=cubin,header,meta"):
                tlc.load(os.path.join(d, "k.cubin"))

    def test_arch_fits(self):
        self.assertTrue(M.arch_fits("sm_90a", (9, 0)))
        self.assertFalse(M.arch_fits("sm_90a", (10, 0)))
        self.assertTrue(M.arch_fits("sm_80", (8, 6)))
        self.assertFalse(M.arch_fits("sm_80", (9, 0)))

    def test_scalars(self):
        k = M.parse(json.dumps(self.HAND)).kernel("scale")
        with self.assertRaisesRegex(tlc.ArgumentError, "argument 's': expected a number"):
            M.bind(k, [FakeArray((4,), "float32"), "x"], {})
        p = M.Param("n", "scalar", "int32")
        with self.assertRaisesRegex(tlc.ArgumentError, "does not fit in int32"):
            M._scalar_value(p, 1 << 31)
        self.assertEqual(M._scalar_value(M.Param("b", "scalar", "bfloat16"), 1.0), ("H", 0x3f80))


@needs_tlc
class TileCopyTests(unittest.TestCase):
    """examples/tile_copy.tl: A, B: Tensor((M, N), float16); variant 0 needs 16-byte
    aligned bases and N % 8 == 0."""

    @classmethod
    def setUpClass(cls):
        cls.k = kernel_meta("examples/tile_copy.tl", "tile_copy")

    def call(self, a, b, **kw):
        return M.bind(self.k, [a, b], kw)

    def test_metadata(self):
        self.assertEqual([(p.name, p.kind, p.dtype, p.shape) for p in self.k.params],
                         [("A", "tensor", "float16", ["M", "N"]), ("B", "tensor", "float16", ["M", "N"])])
        self.assertEqual([v.entry for v in self.k.variants], ["tile_copy_aligned", "tile_copy"])
        self.assertEqual(self.k.dims, ["M", "N"])

    def test_aligned_picks_variant_0(self):
        plan = self.call(FakeArray((1000, 304)), FakeArray((1000, 304), ptr=BASE + 0x100000))
        self.assertEqual((plan.variant, plan.entry, plan.grid), (0, "tile_copy_aligned", (3, 8, 1)))
        self.assertEqual([a.name for a in plan.args], ["A", "M", "N", "B"])  # the PTX parameter order
        self.assertEqual(plan.block, (128, 1, 1))

    def test_ragged_and_misaligned_pick_the_general_variant(self):
        self.assertEqual(self.call(FakeArray((7, 301)), FakeArray((7, 301), ptr=BASE + 4096)).variant, 1)
        self.assertEqual(self.call(FakeArray((8, 64), ptr=BASE + 2), FakeArray((8, 64))).variant, 1)

    def test_refusals_name_the_argument(self):
        cases = [
            ((FakeArray((8, 64), "float32"), FakeArray((8, 64))), "argument 'A': expected float16 data, got float32"),
            ((FakeArray((8, 64)), FakeArray((8,))), "argument 'B': expected a rank-2 tensor"),
            ((FakeArray((8, 64)), FakeArray((8, 65))), "argument 'B': axis 1 gives N = 65, but 'A' axis 1 gave N = 64"),
            ((FakeArray((8, 64), strides=(128, 1)), FakeArray((8, 64))),
             "argument 'A': stride of axis 0 is 128 elements, the kernel needs N = 64"),
            ((FakeArray((8, 64), ptr=BASE + 1), FakeArray((8, 64))), "argument 'A': data at 0x.* not aligned to 2 bytes"),
            ((FakeArray((8, 64), ptr=0), FakeArray((8, 64))), "argument 'A' is a null pointer"),
            ((FakeHostArray(), FakeArray((8, 64))), "argument 'A' must be on a CUDA device, not cpu"),
            ((object(), FakeArray((8, 64))), "argument 'A': expected a tensor"),
        ]
        for args, message in cases:
            with self.subTest(message=message):
                with self.assertRaisesRegex(tlc.ArgumentError, message) as caught:
                    self.call(*args)
                self.assertIn(caught.exception.argument, ("A", "B"))

    def test_missing_and_unknown_arguments(self):
        with self.assertRaisesRegex(TypeError, "missing argument 'B'"):
            M.bind(self.k, [FakeArray((8, 64))], {})
        with self.assertRaisesRegex(TypeError, "no parameter 'C'"):
            M.bind(self.k, [FakeArray((8, 64)), FakeArray((8, 64))], {"C": 1})

    def test_empty_grid_launches_nothing(self):
        plan = self.call(FakeArray((0, 64), ptr=0), FakeArray((0, 64), ptr=0))
        self.assertTrue(plan.empty)

    def test_strides_of_extent_one_axes_are_free(self):
        self.assertEqual(self.call(FakeArray((1, 64), strides=(4096, 1)), FakeArray((1, 64))).grid, (1, 1, 1))


@needs_tlc
class StridedTmaTests(unittest.TestCase):
    """tests/gpu/kernels/strided_copy_tma.tl: X: StridedTensor((M, N), (ldx, 1)), loaded by
    TMA in variant 0 (a tensor map), which needs ldx * 2 % 16 == 0."""

    @classmethod
    def setUpClass(cls):
        cls.k = kernel_meta("tests/gpu/kernels/strided_copy_tma.tl", "strided_copy")

    def test_stride_binds_the_dimension_and_the_map(self):
        encoded = []
        plan = M.bind(self.k, [FakeArray((100, 64), strides=(72, 1)), FakeArray((100, 64), ptr=BASE + 65536)], {},
                      encode=lambda spec: encoded.append(spec) or b"\0" * 128)
        self.assertEqual(plan.variant, 0)
        maps = [a for a in plan.args if a.kind == "tensor_map"]
        self.assertEqual(len(maps), 1)
        spec = encoded[0]
        self.assertEqual((spec["dims"], spec["strides"], spec["box"], spec["data_type"]),
                         ([64, 100], [144], [64, 64], "CU_TENSOR_MAP_DATA_TYPE_FLOAT16"))

    def test_a_stride_tma_cannot_take_runs_the_general_variant(self):
        plan = M.bind(self.k, [FakeArray((100, 60), strides=(61, 1)), FakeArray((100, 60))], {},
                      encode=lambda spec: b"\0" * 128)
        self.assertEqual(plan.entry, "strided_copy")
        refused = M.bind(self.k, [FakeArray((100, 64), strides=(72, 1)), FakeArray((100, 64))], {},
                         encode=lambda spec: None)  # the driver refuses the map: the next variant
        self.assertEqual(refused.entry, "strided_copy")


@needs_tlc
class ScalarTests(unittest.TestCase):
    def test_row_scale_alpha(self):
        k = kernel_meta("tests/gpu/kernels/row_broadcast.tl", "row_scale")
        plan = M.bind(k, [FakeArray((33, 130)), FakeArray((33,), "float32"), FakeArray((33, 130)), 2.0], {})
        alpha = [a for a in plan.args if a.name == "alpha"][0]
        self.assertEqual((alpha.fmt, alpha.value), ("f", 2.0))
        with self.assertRaisesRegex(tlc.ArgumentError, "argument 'S': axis 0 gives M = 32, but 'X' axis 0 gave M = 33"):
            M.bind(k, [FakeArray((33, 130)), FakeArray((32,), "float32"), FakeArray((33, 130)), 2.0], {})

    def test_output_shapes_for_torch_op(self):
        k = kernel_meta("tests/gpu/kernels/row_broadcast.tl", "row_scale")

        class Shaped:
            def __init__(self, *shape):
                self.shape = shape
        shapes = output_shapes(k, ["Y"], {"X": Shaped(33, 130), "S": Shaped(33)})
        self.assertEqual(shapes, {"Y": [33, 130]})


CUDA_INCLUDE = os.path.join(os.environ.get("CUDA_HOME", "/usr/local/cuda"), "include")


@needs_tlc
@unittest.skipUnless(os.path.exists(os.path.join(CUDA_INCLUDE, "cuda.h")) and shutil.which("gcc"),
                     "needs gcc and cuda.h")
class HeaderAgreementTests(unittest.TestCase):
    """The package chooses the variant the C header's <kernel>_select_variant chooses,
    for the same arguments: a C program built against the real header (only its
    static inline select function is called: nothing to link) prints the header's
    choices for a grid of addresses and shapes, the package binds fake arrays alike."""

    def choices(self, source, kernel, c_args, cases):
        with tempfile.TemporaryDirectory() as d:
            header = os.path.join(d, "k.h")
            subprocess.run([TLC, os.path.join(REPO, source), "--emit=header", "--header", header], check=True,
                           capture_output=True)
            lines = ["  printf(\"%%d\\n\", %s_select_variant(%s));" % (kernel, c_args(*case)) for case in cases]
            program = os.path.join(d, "main.c")
            with open(program, "w") as f:
                f.write('#include "k.h"\nint main(void) {\n%s\n  return 0;\n}\n' % "\n".join(lines))
            binary = os.path.join(d, "main")
            subprocess.run(["gcc", "-std=c11", "-w", "-I" + CUDA_INCLUDE, "-I" + d, program, "-o", binary],
                           check=True, capture_output=True)
            return [int(x) for x in subprocess.run([binary], check=True, capture_output=True, text=True).stdout.split()]

    def test_tile_copy(self):
        k = kernel_meta("examples/tile_copy.tl", "tile_copy")
        cases = [(m, n, oa, ob) for m in (1, 7, 128) for n in (1, 8, 60, 64, 301) for oa in (0, 2, 8, 16)
                 for ob in (0, 4)]
        header = self.choices("examples/tile_copy.tl", "tile_copy",
                              lambda m, n, oa, ob: "%dull, %dull, %d, %d" % (BASE + oa, BASE + 65536 + ob, m, n), cases)
        package = [M.bind(k, [FakeArray((m, n), ptr=BASE + oa), FakeArray((m, n), ptr=BASE + 65536 + ob)], {}).variant
                   for m, n, oa, ob in cases]
        self.assertEqual(package, header)
        self.assertEqual(set(header), {0, 1})

    def test_strided_tma(self):
        k = kernel_meta("tests/gpu/kernels/strided_copy_tma.tl", "strided_copy")
        cases = [(m, n, ldx, ox) for m in (5, 64) for n in (8, 61, 64) for ldx in (64, 72, 75) for ox in (0, 2, 16)
                 if ldx >= n]
        header = self.choices("tests/gpu/kernels/strided_copy_tma.tl", "strided_copy",
                              lambda m, n, ldx, ox: "%dull, %dull, %d, %d, %d" % (BASE + ox, BASE + 65536, m, n, ldx),
                              cases)
        package = [M.bind(k, [FakeArray((m, n), ptr=BASE + ox, strides=(ldx, 1)),
                              FakeArray((m, n), ptr=BASE + 65536)], {}).variant for m, n, ldx, ox in cases]
        self.assertEqual(package, header)
        self.assertEqual(set(header), {0, 1})


class FakeDriver:
    """Stands in for libcuda in tlc.driver: records the calls a launch makes and
    reads back the kernel parameters it was handed."""

    def __init__(self):
        self.launches, self.maps, self.attributes = [], [], []

    def cuTensorMapEncodeTiled(self, address, data_type, rank, base, dims, strides, box, steps, interleave, swizzle,
                               l2, oob):
        import ctypes
        self.maps.append((data_type, rank, base.value, list(dims), list(strides or []), list(box), swizzle, l2))
        ctypes.memset(address.value, 0x5A, 128)
        return 0

    def cuFuncSetAttribute(self, function, attribute, value):
        self.attributes.append((attribute, value))
        return 0

    def cuLaunchKernel(self, function, gx, gy, gz, bx, by, bz, shared, stream, pointers, extra):
        import ctypes
        self.launches.append({"grid": (gx.value, gy.value, gz.value), "block": (bx.value, by.value, bz.value),
                              "shared": shared.value, "stream": stream.value, "pointers": pointers,
                              "read": lambda i, n: ctypes.string_at(pointers[i], n)})
        return 0


@needs_tlc
class DriverTests(unittest.TestCase):
    """tlc.driver's launch on a fake libcuda: the parameter bytes and launch shape."""

    def setUp(self):
        from tlc import driver
        self.driver, self.fake = driver, FakeDriver()
        self.saved, driver._lib = driver._lib, self.fake

    def tearDown(self):
        self.driver._lib = self.saved

    def test_launch_packs_the_parameters_in_kernel_order(self):
        import struct
        k = kernel_meta("tests/golden/cli/emit_meta.tl", "scaled_copy")
        x = FakeArray((100, 64), strides=(72, 1))
        y = FakeArray((100, 64), ptr=BASE + 65536)
        plan = M.bind(k, [x, y, 0.5], {}, encode=self.driver.encode_tensor_map)
        self.assertEqual(plan.entry, "scaled_copy_aligned")
        self.assertEqual(self.fake.maps, [(6, 2, BASE, [64, 100], [144], [64, 64], 0, 2)])
        self.driver.launch(None, plan, 0x1234)
        launch = self.fake.launches[0]
        self.assertEqual((launch["grid"], launch["block"], launch["shared"], launch["stream"]),
                         ((1, 2, 1), (128, 1, 1), 8200, 0x1234))
        read = launch["read"]
        self.assertEqual(struct.unpack("<Q", read(0, 8))[0], BASE)           # X
        self.assertEqual([struct.unpack("<i", read(i, 4))[0] for i in (1, 2, 3)], [100, 64, 72])  # M, N, ldx
        self.assertEqual(struct.unpack("<Q", read(4, 8))[0], BASE + 65536)   # Y
        self.assertEqual(struct.unpack("<f", read(5, 4))[0], 0.5)            # alpha
        self.assertEqual(read(6, 128), b"\x5a" * 128)                        # X_tmap, by value
        self.assertEqual(self.fake.attributes, [])                            # no opt-in below 48 KB


try:
    import torch
except ImportError:  # CI may have no torch: the test below is skipped
    torch = None


@needs_tlc
@unittest.skipUnless(torch is not None, "needs torch")
class TorchOpTests(unittest.TestCase):
    def test_fake_implementation_gives_the_output_shape(self):
        module = tlc.Module(M.parse(emit_meta("tests/gpu/kernels/row_broadcast.tl")))
        op = tlc.torch_op(module.row_scale, name="tlc_cpu_test::row_scale", outputs=["Y"])
        self.assertIn("row_scale(Tensor X, Tensor S, float alpha) -> Tensor", str(op._schemas.values()))
        x = torch.empty(33, 130, dtype=torch.float16, device="meta")
        s = torch.empty(33, dtype=torch.float32, device="meta")
        y = op(x, s, 2.0)
        self.assertEqual((tuple(y.shape), y.dtype, y.device.type), ((33, 130), torch.float16, "meta"))
        from torch._subclasses.fake_tensor import FakeTensorMode
        with FakeTensorMode():
            y = op(torch.empty(5, 7, dtype=torch.float16, device="cuda"),
                   torch.empty(5, dtype=torch.float32, device="cuda"), 1.0)
            self.assertEqual(tuple(y.shape), (5, 7))


@needs_tlc
class EmitMetaTests(unittest.TestCase):
    def test_deterministic(self):
        self.assertEqual(emit_meta("examples/transpose.tl"), emit_meta("examples/transpose.tl"))

    def test_compile_caches_by_content(self):
        with tempfile.TemporaryDirectory() as cache:
            src = os.path.join(cache, "k.tl")
            with open(os.path.join(REPO, "examples/tile_copy.tl")) as f:
                text = f.read()
            with open(src, "w") as f:
                f.write(text)
            try:
                first = tlc.compile(src, defines={"BM": 64}, cache_dir=cache, tlc=TLC, load=False)
            except tlc.CompileError as e:
                if "ptxas not found" in str(e):
                    self.skipTest("no CUDA toolkit (ptxas) here")
                raise
            self.assertTrue(os.path.exists(first))
            meta_file = M.meta_path_for(first)
            self.assertTrue(os.path.exists(meta_file))
            stamp = os.stat(meta_file).st_mtime_ns
            self.assertEqual(tlc.compile(src, defines={"BM": 64}, cache_dir=cache, tlc=TLC, load=False), first)
            self.assertEqual(os.stat(meta_file).st_mtime_ns, stamp)  # not compiled again
            other = tlc.compile(src, defines={"BM": 32}, cache_dir=cache, tlc=TLC, load=False)
            self.assertNotEqual(other, first)
            module = tlc.load(first)
            self.assertEqual(list(module.kernels), ["tile_copy"])
            self.assertIn("A: float16[M, N]", module.tile_copy.__doc__)
            with open(src, "a") as f:
                f.write("\nkernel broken(A: Tensor((M,), float16)) { nonsense }\n")
            with self.assertRaises(tlc.CompileError) as caught:
                tlc.compile(src, cache_dir=cache, tlc=TLC, load=False)
            self.assertIn("error", caught.exception.stderr)


if __name__ == "__main__":
    unittest.main()
