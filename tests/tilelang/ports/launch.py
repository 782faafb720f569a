"""How the TileLang port harness launches a compiled port: the one place that knows.

scripts/build_tilelang_ports.sh compiles each configuration ID with
`tlc --emit=cubin,header,source --prefix ID` and links the generated .c (the cubin
and the launch functions) into .gpu-ports/ID/libID.so against the Driver API stub.
This module loads that library with ctypes and calls the generated
`ID_<kernel>_launch(...)`, whose parameters it reads from the generated ID.h: the
device pointers, then the symbolic dimensions, then the scalars, then the stream
(docs/header.md). So the launcher's own argument checks, grid computation, variant
choice, shared-memory opt-in and cluster launch are the ones a C program gets.

    mod = launch.load("copy__ragged")
    mod.tilelang_copy(a, b)                 # torch tensors (or raw device addresses)
    mod.copy_with_dynamic_stride(a, b, ld=2048, stream=s)
    mod.tilelang_copy.variant(a, b)         # the variant the launcher would pick
    mod.tilelang_copy.entry(0)              # its device entry name

Arguments bind by position or by the header's parameter name; a tensor passes its
data_ptr(). A launch that the launcher refuses or the driver fails raises
LaunchError with `ID_last_error()`. No torch import here: the caller passes the
stream (`torch.cuda.current_stream().cuda_stream`) and synchronizes.
"""

import ctypes
import os
import re

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
BUILD_DIR = os.environ.get("TLC_PORTS_DIR", os.path.join(REPO, ".gpu-ports"))

_CTYPES = {
    "CUdeviceptr": ctypes.c_uint64,
    "int8_t": ctypes.c_int8, "int16_t": ctypes.c_int16, "int32_t": ctypes.c_int32, "int64_t": ctypes.c_int64,
    "uint8_t": ctypes.c_uint8, "uint16_t": ctypes.c_uint16, "uint32_t": ctypes.c_uint32,
    "uint64_t": ctypes.c_uint64,
    "float": ctypes.c_float, "double": ctypes.c_double,
    "CUstream": ctypes.c_void_p,
}


class LaunchError(RuntimeError):
    pass


_libcuda = None


def ensure_context(device=0):
    """Makes the device's primary context current on this thread, unless one is.

    PyTorch's first CUDA call already does; this covers a harness that launches
    before touching torch.cuda."""
    global _libcuda
    if _libcuda is None:
        _libcuda = ctypes.CDLL("libcuda.so.1")
    cu = _libcuda
    if cu.cuInit(0) != 0:
        raise LaunchError("cuInit failed")
    ctx = ctypes.c_void_p()
    get_current = getattr(cu, "cuCtxGetCurrent", None)  # (tests/gpu/mock has none)
    if get_current is not None and get_current(ctypes.byref(ctx)) == 0 and ctx.value:
        return
    dev = ctypes.c_int()
    if cu.cuDeviceGet(ctypes.byref(dev), device) != 0:
        raise LaunchError("cuDeviceGet(%d) failed" % device)
    if cu.cuDevicePrimaryCtxRetain(ctypes.byref(ctx), dev) != 0 or cu.cuCtxSetCurrent(ctx) != 0:
        raise LaunchError("could not make device %d's primary context current" % device)


def _parse_params(text):
    params = []
    for p in text.split(","):
        p = p.strip()
        if not p or p == "void":
            continue
        ctype, name = p.rsplit(" ", 1)
        params.append((ctype.strip(), name))
    return params


class Signature:
    """A kernel's launch parameters as the header declares them, without the stream."""

    def __init__(self, name, params):
        self.name = name
        self.params = [p for p in params if p[0] != "CUstream"]  # the stream is the keyword `stream`

    def bind(self, args, kwargs):
        """The C argument values for a call by position and by the header's names."""
        if len(args) > len(self.params):
            raise TypeError("%s takes %d arguments (%s), got %d" % (
                self.name, len(self.params), ", ".join(n for _, n in self.params), len(args)))
        kwargs = dict(kwargs)
        values = list(args)
        for _, pname in self.params[len(args):]:
            key = pname.rstrip("_") if pname not in kwargs and pname.rstrip("_") in kwargs else pname
            if key not in kwargs:
                raise TypeError("%s: missing argument '%s'" % (self.name, pname))
            values.append(kwargs.pop(key))
        if kwargs:
            raise TypeError("%s: unknown arguments %s" % (self.name, sorted(kwargs)))
        return [v.data_ptr() if hasattr(v, "data_ptr") else v for v in values]


def signatures(vid, directory=None):
    """{kernel: Signature} from the configuration's generated header (ID.h)."""
    directory = directory or os.path.join(BUILD_DIR, vid)
    header = os.path.join(directory, "%s.h" % vid)
    # The declaration (header + source mode) or the banner's signature line (single header).
    pattern = re.compile(r"CUresult %s_(\w+)_launch\(([^)]*)\)" % re.escape(vid))
    out = {}
    with open(header) as f:
        for line in f:
            m = pattern.search(line)
            if m and m.group(1) not in out:
                params = _parse_params(m.group(2))
                out[m.group(1)] = (Signature(m.group(1), params), params)
    if not out:
        raise LaunchError("%s declares no %s_<kernel>_launch" % (header, vid))
    return out


class Kernel:
    def __init__(self, module, name, params):
        self.module, self.name = module, name
        self.signature = Signature(name, params)
        self.params = self.signature.params
        lib, prefix = module.lib, module.prefix + "_" + name
        self._launch = getattr(lib, prefix + "_launch")
        self._launch.restype = ctypes.c_int
        self._launch.argtypes = [_CTYPES[t] for t, _ in params]
        self._select = getattr(lib, prefix + "_select_variant")
        self._select.restype = ctypes.c_int
        self._select.argtypes = [_CTYPES[t] for t, _ in self.params]
        self._entry = getattr(lib, prefix + "_variant_entry")
        self._entry.restype = ctypes.c_char_p
        self._entry.argtypes = [ctypes.c_int]

    def _bind(self, args, kwargs):
        return self.signature.bind(args, kwargs)

    def __call__(self, *args, stream=0, **kwargs):
        values = self._bind(args, dict(kwargs))
        r = self._launch(*(values + [ctypes.c_void_p(stream or None)]))
        if r != 0:
            raise LaunchError("%s_%s_launch returned %d: %s" % (self.module.prefix, self.name, r, self.module.last_error()))

    def variant(self, *args, **kwargs):
        return self._select(*self._bind(args, dict(kwargs)))

    def entry(self, variant):
        e = self._entry(variant)
        return e.decode() if e is not None else None


class Module:
    def __init__(self, vid, directory=None):
        directory = directory or os.path.join(BUILD_DIR, vid)
        self.prefix = vid
        so = os.path.join(directory, "lib%s.so" % vid)
        if not os.path.exists(so):
            raise FileNotFoundError("no %s (build it with scripts/build_tilelang_ports.sh)" % so)
        ensure_context()
        self.lib = ctypes.CDLL(so)
        self.lib_last_error = getattr(self.lib, vid + "_last_error")
        self.lib_last_error.restype = ctypes.c_char_p
        self.kernels = {name: Kernel(self, name, params)
                        for name, (_, params) in signatures(vid, directory).items()}

    def last_error(self):
        e = self.lib_last_error()
        return e.decode() if e else ""

    def __getattr__(self, name):
        kernels = self.__dict__.get("kernels", {})
        if name in kernels:
            return kernels[name]
        raise AttributeError("%s has no kernel '%s' (it has %s)" % (self.prefix, name, ", ".join(sorted(kernels))))


_modules = {}


def load(vid):
    if vid not in _modules:
        _modules[vid] = Module(vid)
    return _modules[vid]
