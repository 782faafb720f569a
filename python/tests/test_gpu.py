"""GPU tests of the tlc Python package: kernels called on torch tensors, against
torch. Skipped (cleanly) without torch or a CUDA device.

The kernels come from $TLC_PY_KERNELS (a folder with tile_copy.cubin,
strided_copy_tma.cubin, row_broadcast.cubin and their .meta.json, made by
scripts/build_gpu_tests.sh), else are compiled with $TLC into a temporary cache.

On the GPU machine, .gpu/bin/python_package runs this file with ``--rows``: one
``RESULT|...`` row per test for .gpu/run_all.sh, exit 1 when one failed.
"""

import os
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
if "tlc" not in sys.modules and os.path.isdir(os.path.join(REPO, "python", "tlc")) and \
        not os.environ.get("TLC_PY_INSTALLED"):
    sys.path.insert(0, os.path.join(REPO, "python"))

import tlc  # noqa: E402

try:
    import torch
    HAVE_GPU = torch.cuda.is_available()
except ImportError:  # torch is optional: these tests need it
    torch = None
    HAVE_GPU = False

KERNELS = {"tile_copy": "examples/tile_copy.tl", "strided_copy_tma": "tests/gpu/kernels/strided_copy_tma.tl",
           "row_broadcast": "tests/gpu/kernels/row_broadcast.tl"}
_modules = {}


def module(name):
    """The compiled kernels of KERNELS[name], loaded once."""
    if name not in _modules:
        folder = os.environ.get("TLC_PY_KERNELS")
        if folder:
            _modules[name] = tlc.load(os.path.join(folder, name + ".cubin"))
        else:
            cache = os.environ.get("TLC_CACHE_DIR") or os.path.join(tempfile.gettempdir(), "tlc-py-gpu-tests")
            _modules[name] = tlc.compile(os.path.join(REPO, KERNELS[name]), cache_dir=cache)
    return _modules[name]


@unittest.skipUnless(HAVE_GPU, "needs torch and a CUDA device")
class TileCopyOnTorch(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(1234)
        self.mod = module("tile_copy")

    def test_three_lines(self):
        a = torch.randn(1000, 304, device="cuda", dtype=torch.float16)
        b = torch.empty_like(a)
        plan = self.mod.tile_copy(a, b)
        torch.cuda.synchronize()
        self.assertTrue(torch.equal(a, b))
        self.assertEqual(plan.entry, "tile_copy_aligned")

    def test_ragged_shapes(self):
        for m, n in ((257, 131), (1, 1), (7, 301), (129, 1000), (3, 8), (128, 128)):
            with self.subTest(shape=(m, n)):
                a = torch.randn(m, n, device="cuda", dtype=torch.float16)
                b = torch.full_like(a, float("nan"))  # poisoned
                plan = self.mod.tile_copy(a, b)
                torch.cuda.synchronize()
                self.assertTrue(torch.equal(a, b))
                self.assertEqual(plan.variant, 0 if n % 8 == 0 else 1)

    def test_empty_launches_nothing(self):
        a = torch.empty(0, 64, device="cuda", dtype=torch.float16)
        self.assertTrue(self.mod.tile_copy(a, torch.empty_like(a)).empty)

    def test_misaligned_base_runs_the_general_variant(self):
        big = torch.randn(64 * 65 + 1, device="cuda", dtype=torch.float16)
        a = big[1:1 + 64 * 64].view(64, 64)  # contiguous, its base 2 bytes past a multiple of 16
        b = torch.zeros(64, 64, device="cuda", dtype=torch.float16)
        plan = self.mod.tile_copy(a, b)
        torch.cuda.synchronize()
        self.assertEqual(plan.variant, 1)
        self.assertTrue(torch.equal(a, b))

    def test_refusals(self):
        a = torch.randn(64, 64, device="cuda", dtype=torch.float16)
        cases = [
            ((a.float(), a.clone()), "argument 'A': expected float16 data, got float32"),
            ((a, a.cpu()), "argument 'B' must be on a CUDA device, not cpu"),
            ((a.t(), a.clone()), "argument 'A': stride of axis 0 is 1 elements"),
            ((a[:, :32], torch.empty(64, 32, device="cuda", dtype=torch.float16)), "argument 'A': stride of axis 0"),
            ((a, torch.empty(64, 63, device="cuda", dtype=torch.float16)), "argument 'B': axis 1 gives N = 63"),
            ((a[0], a), "argument 'A': expected a rank-2 tensor"),
        ]
        for args, message in cases:
            with self.subTest(message=message):
                with self.assertRaisesRegex(tlc.ArgumentError, message):
                    self.mod.tile_copy(*args)

    def test_other_stream(self):
        a = torch.randn(513, 200, device="cuda", dtype=torch.float16)
        b = torch.zeros_like(a)
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            self.mod.tile_copy(a, b)
        s.synchronize()
        self.assertTrue(torch.equal(a, b))

    def test_array_protocols(self):
        a = torch.randn(100, 72, device="cuda", dtype=torch.float16)

        class OnlyCAI:
            def __init__(self, t):
                self.__cuda_array_interface__ = t.__cuda_array_interface__

        class OnlyDLPack:
            def __init__(self, t):
                self.t = t

            def __dlpack__(self, stream=None):
                return self.t.__dlpack__()

            def __dlpack_device__(self):
                return self.t.__dlpack_device__()

        for wrap in (OnlyCAI, OnlyDLPack):
            with self.subTest(protocol=wrap.__name__):
                b = torch.zeros_like(a)
                self.mod.tile_copy(wrap(a), wrap(b))
                torch.cuda.synchronize()
                self.assertTrue(torch.equal(a, b))
        try:
            import cupy
        except ImportError:
            return
        x = cupy.random.rand(33, 80).astype(cupy.float16)
        y = cupy.zeros_like(x)
        self.mod.tile_copy(x, y)
        cupy.cuda.Device().synchronize()
        self.assertTrue(bool((x == y).all()))

    def test_cuda_graph(self):
        a = torch.randn(300, 136, device="cuda", dtype=torch.float16)
        b = torch.zeros_like(a)
        self.mod.tile_copy(a, b)  # warm-up: the cubin is loaded outside the capture
        torch.cuda.synchronize()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            self.mod.tile_copy(a, b)
        a.copy_(torch.randn_like(a))
        b.zero_()
        graph.replay()
        torch.cuda.synchronize()
        self.assertTrue(torch.equal(a, b))

    def test_torch_compile_and_graph_through_the_custom_op(self):
        op = tlc.torch_op(self.mod.tile_copy, name="tlc_test::tile_copy", outputs=["B"])
        a = torch.randn(77, 200, device="cuda", dtype=torch.float16)
        self.assertTrue(torch.equal(op(a), a))

        @torch.compile(fullgraph=True)
        def twice(x):
            return op(x) * 2

        self.assertTrue(torch.equal(twice(a), a * 2))
        c = torch.randn(130, 40, device="cuda", dtype=torch.float16)
        self.assertTrue(torch.equal(twice(c), c * 2))  # another shape (a recompile or a dynamic one)
        static = torch.randn(64, 64, device="cuda", dtype=torch.float16)
        op(static)
        torch.cuda.synchronize()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            out = op(static)
        static.copy_(torch.randn_like(static))
        graph.replay()
        torch.cuda.synchronize()
        self.assertTrue(torch.equal(out, static))


@unittest.skipUnless(HAVE_GPU, "needs torch and a CUDA device")
class StridedAndScalars(unittest.TestCase):
    def test_strided_views_tma_and_fallback(self):
        mod = module("strided_copy_tma")
        big = torch.randn(200, 144, device="cuda", dtype=torch.float16)
        for start, n, variant in ((0, 128, 0), (0, 61, 1), (1, 128, 1), (8, 64, 0)):
            with self.subTest(start=start, n=n):
                x = big[:, start:start + n]  # rows 144 elements apart: ldx = 144
                y = torch.full((200, n), float("nan"), device="cuda", dtype=torch.float16)
                plan = mod.strided_copy(x, y)
                torch.cuda.synchronize()
                self.assertTrue(torch.equal(x, y))
                self.assertEqual(plan.variant, variant)

    def test_row_scale_scalar(self):
        mod = module("row_broadcast")
        for m, n in ((33, 130), (1, 7), (129, 256)):
            with self.subTest(shape=(m, n)):
                x = torch.randn(m, n, device="cuda", dtype=torch.float16)
                s = torch.randn(m, device="cuda", dtype=torch.float32)
                y = torch.full_like(x, float("nan"))
                mod.row_scale(x, s, y, 0.5)
                torch.cuda.synchronize()
                ref = (x.float() * s[:, None] * 0.5).half()
                self.assertTrue(torch.allclose(y.float(), ref.float(), atol=1e-2, rtol=1e-2))
        with self.assertRaisesRegex(tlc.ArgumentError, "argument 'alpha'"):
            mod.row_scale(x, s, y, "half")


class RowResult(unittest.TextTestResult):
    """Prints one run_all.sh row per test: RESULT|name|shape|PASS/FAIL/SKIP|...|variant."""

    def _row(self, test, status, why=""):
        name = "python_" + test.id().split(".")[-1].replace("test_", "")
        took = "%.1f" % ((time.time() - getattr(self, "_began", time.time())) * 1000)
        print("RESULT|%s|torch|%s|-|%s|-|-|%s" % (name, status, took if status != "SKIP" else "-",
                                                  why.replace("|", "/")[:80] or "-"), flush=True)

    def startTest(self, test):
        self._began = time.time()
        super().startTest(test)

    def addSuccess(self, test):
        super().addSuccess(test)
        self._row(test, "PASS")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._row(test, "FAIL", str(err[1]).splitlines()[0] if str(err[1]) else "")

    def addError(self, test, err):
        super().addError(test, err)
        self._row(test, "FAIL", "%s: %s" % (err[0].__name__, str(err[1]).splitlines()[0] if str(err[1]) else ""))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._row(test, "SKIP", reason)

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            print("  subtest %s failed: %s" % (subtest._subDescription(), err[1]), flush=True)


if __name__ == "__main__":
    if "--rows" in sys.argv:
        sys.argv.remove("--rows")
        suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
        # verbosity 0: no progress dots, which would share a line with a RESULT row
        # once stdout and stderr are merged (run_all.sh reads rows by line start).
        result = unittest.TextTestRunner(resultclass=RowResult, verbosity=0, stream=sys.stderr).run(suite)
        sys.exit(0 if result.wasSuccessful() else 1)
    unittest.main()
