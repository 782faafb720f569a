"""The CUDA driver, through ctypes on libcuda (no compiled extension, no compiler
at run time, no dependency beyond the driver itself).

Only what a launch needs: load a cubin as a context-independent library
(``cuLibraryLoadData``, CUDA 12.0+, as the C header does), get a kernel's function
for the current context, encode tensor maps, launch (``cuLaunchKernel``, or
``cuLaunchKernelEx`` with a cluster dimension).
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
from typing import Any, Dict, List, Optional, Tuple

from .errors import CudaError

TENSOR_MAP_DATA_TYPES = {
    "CU_TENSOR_MAP_DATA_TYPE_UINT8": 0, "CU_TENSOR_MAP_DATA_TYPE_UINT16": 1, "CU_TENSOR_MAP_DATA_TYPE_UINT32": 2,
    "CU_TENSOR_MAP_DATA_TYPE_INT32": 3, "CU_TENSOR_MAP_DATA_TYPE_UINT64": 4, "CU_TENSOR_MAP_DATA_TYPE_INT64": 5,
    "CU_TENSOR_MAP_DATA_TYPE_FLOAT16": 6, "CU_TENSOR_MAP_DATA_TYPE_FLOAT32": 7,
    "CU_TENSOR_MAP_DATA_TYPE_FLOAT64": 8, "CU_TENSOR_MAP_DATA_TYPE_BFLOAT16": 9,
}
SWIZZLES = {0: 0, 32: 1, 64: 2, 128: 3}
L2_PROMOTION_128B = 2
CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8
CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED = 14
CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION = 4
CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL = 9
CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75
CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76

_lock = threading.Lock()
_lib = None


class _LaunchAttribute(ctypes.Structure):
    _fields_ = [("id", ctypes.c_int), ("pad", ctypes.c_char * 4), ("value", ctypes.c_uint32 * 16)]


class _LaunchConfig(ctypes.Structure):
    _fields_ = [("gridDimX", ctypes.c_uint), ("gridDimY", ctypes.c_uint), ("gridDimZ", ctypes.c_uint),
                ("blockDimX", ctypes.c_uint), ("blockDimY", ctypes.c_uint), ("blockDimZ", ctypes.c_uint),
                ("sharedMemBytes", ctypes.c_uint), ("hStream", ctypes.c_void_p),
                ("attrs", ctypes.POINTER(_LaunchAttribute)), ("numAttrs", ctypes.c_uint)]


def libcuda() -> ctypes.CDLL:
    """The driver library, loaded and initialised once."""
    global _lib
    with _lock:
        if _lib is None:
            try:
                lib = ctypes.CDLL("libcuda.so.1")
            except OSError as e:
                raise CudaError("dlopen(libcuda.so.1)", -1, "no CUDA driver", str(e)) from None
            _check(lib, "cuInit", lib.cuInit(0))
            _lib = lib
        return _lib


def _check(lib: ctypes.CDLL, call: str, status: int) -> None:
    if status != 0:
        name = ctypes.c_char_p()
        lib.cuGetErrorName(status, ctypes.byref(name))
        text = ctypes.c_char_p()
        lib.cuGetErrorString(status, ctypes.byref(text))
        raise CudaError(call, status, (name.value or b"").decode(), (text.value or b"").decode())


def check(call: str, status: int) -> None:
    _check(libcuda(), call, status)


def current_device() -> int:
    """The device of the current context (torch's current device makes it)."""
    lib = libcuda()
    device = ctypes.c_int()
    check("cuCtxGetDevice", lib.cuCtxGetDevice(ctypes.byref(device)))
    return device.value


def ensure_context(device: Optional[int]) -> None:
    """Makes the primary context of ``device`` current when no context is (as the
    CUDA runtime does on first use); a current context of another device is left
    alone: the caller sees the launch's error."""
    lib = libcuda()
    ctx = ctypes.c_void_p()
    check("cuCtxGetCurrent", lib.cuCtxGetCurrent(ctypes.byref(ctx)))
    if ctx.value:
        return
    dev = ctypes.c_int()
    check("cuDeviceGet", lib.cuDeviceGet(ctypes.byref(dev), device or 0))
    check("cuDevicePrimaryCtxRetain", lib.cuDevicePrimaryCtxRetain(ctypes.byref(ctx), dev))
    check("cuCtxSetCurrent", lib.cuCtxSetCurrent(ctx))


@contextlib.contextmanager
def on_device(device: Optional[int]):
    """Runs the body with a context of ``device`` current: the current one when it is
    that device's, else the device's primary context pushed for the body (arrays on
    cuda:1 while cuda:0 is current launch on cuda:1, as torch's device guard does)."""
    if device is None:
        yield
        return
    ensure_context(device)
    if current_device() == device:
        yield
        return
    lib = libcuda()
    dev, ctx = ctypes.c_int(), ctypes.c_void_p()
    check("cuDeviceGet", lib.cuDeviceGet(ctypes.byref(dev), device))
    check("cuDevicePrimaryCtxRetain", lib.cuDevicePrimaryCtxRetain(ctypes.byref(ctx), dev))
    check("cuCtxPushCurrent", lib.cuCtxPushCurrent(ctx))
    try:
        yield
    finally:
        popped = ctypes.c_void_p()
        lib.cuCtxPopCurrent(ctypes.byref(popped))
        lib.cuDevicePrimaryCtxRelease(dev)


def pointer_device(ptr: int) -> Optional[int]:
    """The device a pointer was allocated on (None: not device memory)."""
    lib = libcuda()
    ordinal = ctypes.c_int(-1)
    status = lib.cuPointerGetAttribute(ctypes.byref(ordinal), CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL,
                                       ctypes.c_uint64(ptr))
    return ordinal.value if status == 0 else None


def capability(device: int) -> Tuple[int, int]:
    lib = libcuda()
    dev = ctypes.c_int()
    check("cuDeviceGet", lib.cuDeviceGet(ctypes.byref(dev), device))
    major, minor = ctypes.c_int(), ctypes.c_int()
    check("cuDeviceGetAttribute", lib.cuDeviceGetAttribute(ctypes.byref(major),
                                                            CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev))
    check("cuDeviceGetAttribute", lib.cuDeviceGetAttribute(ctypes.byref(minor),
                                                            CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev))
    return major.value, minor.value


class Library:
    """One cubin loaded as a CUDA library (context-independent), its kernels'
    handles resolved on first use."""

    def __init__(self, image: bytes):
        lib = libcuda()
        self._image = ctypes.create_string_buffer(image, len(image))  # kept alive with the library
        self._handle = ctypes.c_void_p()
        check("cuLibraryLoadData", lib.cuLibraryLoadData(ctypes.byref(self._handle), self._image, None, None, 0,
                                                         None, None, 0))
        self._kernels: Dict[str, ctypes.c_void_p] = {}

    def function(self, entry: str) -> ctypes.c_void_p:
        """The entry's CUfunction in the current context."""
        lib = libcuda()
        kernel = self._kernels.get(entry)
        if kernel is None:
            kernel = ctypes.c_void_p()
            check("cuLibraryGetKernel(%s)" % entry,
                  lib.cuLibraryGetKernel(ctypes.byref(kernel), self._handle, entry.encode()))
            self._kernels[entry] = kernel
        function = ctypes.c_void_p()
        check("cuKernelGetFunction", lib.cuKernelGetFunction(ctypes.byref(function), kernel))
        return function

    def unload(self) -> None:
        if self._handle.value:
            check("cuLibraryUnload", libcuda().cuLibraryUnload(self._handle))
            self._handle = ctypes.c_void_p()


def encode_tensor_map(spec: Dict[str, Any]) -> Optional[bytes]:
    """The 128 bytes of a CUtensorMap (tiled or im2col); None where the driver
    refuses these arguments (then the launcher runs the next variant)."""
    lib = libcuda()
    storage = (ctypes.c_uint8 * 192)()
    address = (ctypes.addressof(storage) + 63) & ~63  # CUtensorMap is 64-byte aligned
    rank = len(spec["dims"])
    dims = (ctypes.c_uint64 * rank)(*spec["dims"])
    strides = (ctypes.c_uint64 * max(1, rank - 1))(*spec["strides"])
    steps = (ctypes.c_uint32 * rank)(*spec["steps"])
    data_type = TENSOR_MAP_DATA_TYPES[spec["data_type"]]
    swizzle = SWIZZLES[spec["swizzle"]]
    if spec["mode"] == "im2col":
        lower = (ctypes.c_int * 2)(*spec["lower"])
        upper = (ctypes.c_int * 2)(*spec["upper"])
        status = lib.cuTensorMapEncodeIm2col(ctypes.c_void_p(address), data_type, rank,
                                             ctypes.c_void_p(spec["base"]), dims, strides, lower, upper,
                                             ctypes.c_uint(spec["channels"]), ctypes.c_uint(spec["pixels"]), steps,
                                             0, swizzle, L2_PROMOTION_128B, 0)
    else:
        box = (ctypes.c_uint32 * rank)(*spec["box"])
        status = lib.cuTensorMapEncodeTiled(ctypes.c_void_p(address), data_type, rank,
                                            ctypes.c_void_p(spec["base"]), dims, strides if rank > 1 else None, box,
                                            steps, 0, swizzle, L2_PROMOTION_128B, 0)
    if status != 0:
        return None
    return ctypes.string_at(address, 128)


def launch(function: ctypes.c_void_p, plan: Any, stream: int) -> None:
    """cuLaunchKernel (cuLaunchKernelEx for a cluster) of ``plan`` on ``stream``."""
    lib = libcuda()
    if plan.shared_bytes > 48 * 1024:
        check("cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)",
              lib.cuFuncSetAttribute(function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, plan.shared_bytes))
    keep: List[Any] = []
    pointers = (ctypes.c_void_p * max(1, len(plan.args)))()
    for i, arg in enumerate(plan.args):
        if arg.kind == "tensor_map":
            storage = (ctypes.c_uint8 * 192)()
            address = (ctypes.addressof(storage) + 63) & ~63
            ctypes.memmove(address, arg.value["encoded"], 128)
            keep.append(storage)
            pointers[i] = address
        else:
            data = ctypes.create_string_buffer(arg.pack(), 8)
            keep.append(data)
            pointers[i] = ctypes.addressof(data)
    gx, gy, gz = plan.grid
    cx, cy, cz = plan.cluster
    if cx * cy * cz != 1:
        if cx * cy * cz > 8:
            check("cuFuncSetAttribute(NON_PORTABLE_CLUSTER_SIZE_ALLOWED)",
                  lib.cuFuncSetAttribute(function, CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED, 1))
        attribute = _LaunchAttribute()
        attribute.id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION
        attribute.value[0], attribute.value[1], attribute.value[2] = cx, cy, cz
        config = _LaunchConfig(gx, gy, gz, plan.block[0], 1, 1, plan.shared_bytes, ctypes.c_void_p(stream or None),
                               ctypes.pointer(attribute), 1)
        check("cuLaunchKernelEx(%s)" % plan.entry, lib.cuLaunchKernelEx(ctypes.byref(config), function, pointers, None))
        return
    check("cuLaunchKernel(%s)" % plan.entry,
          lib.cuLaunchKernel(function, ctypes.c_uint(gx), ctypes.c_uint(gy), ctypes.c_uint(gz),
                             ctypes.c_uint(plan.block[0]), ctypes.c_uint(1), ctypes.c_uint(1),
                             ctypes.c_uint(plan.shared_bytes), ctypes.c_void_p(stream or None), pointers, None))
