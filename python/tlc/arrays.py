"""What the launcher needs of an array argument, from torch tensors,
``__cuda_array_interface__`` objects (CuPy, Numba, ...) or DLPack producers.

No array library is imported here: torch is recognised by duck typing, so the
package works (and its CPU tests run) where torch is not installed.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any, Optional, Tuple

from .errors import ArgumentError


@dataclass
class ArrayView:
    ptr: int                       # the address of element (0, ..., 0)
    shape: Tuple[int, ...]
    strides: Tuple[int, ...]       # in elements
    dtype: str                     # tlc's name: "float16", ...
    device_type: str               # "cuda", "cpu", ...
    device: Optional[int]          # the CUDA device ordinal, when the array says

    @property
    def device_name(self) -> str:
        return self.device_type + ("" if self.device is None else ":%d" % self.device)


# torch's dtypes by their str(), so that torch need not be imported to compare.
TORCH_DTYPES = {
    "torch.bool": "bool", "torch.int8": "int8", "torch.int16": "int16", "torch.int32": "int32",
    "torch.int64": "int64", "torch.uint8": "uint8", "torch.uint16": "uint16", "torch.uint32": "uint32",
    "torch.uint64": "uint64", "torch.float16": "float16", "torch.bfloat16": "bfloat16",
    "torch.float32": "float32", "torch.float64": "float64", "torch.float8_e4m3fn": "float8_e4m3",
    "torch.float8_e5m2": "float8_e5m2",
}
TLC_TO_TORCH = {v: k[len("torch."):] for k, v in TORCH_DTYPES.items()}

# __cuda_array_interface__ typestr (byte order aside) -> tlc dtype.
TYPESTRS = {
    "b1": "bool", "i1": "int8", "i2": "int16", "i4": "int32", "i8": "int64",
    "u1": "uint8", "u2": "uint16", "u4": "uint32", "u8": "uint64",
    "f2": "float16", "f4": "float32", "f8": "float64",
}
ITEMSIZE = {"bool": 1, "int8": 1, "int16": 2, "int32": 4, "int64": 8, "uint8": 1, "uint16": 2, "uint32": 4,
            "uint64": 8, "float16": 2, "bfloat16": 2, "float32": 4, "float64": 8, "float8_e4m3": 1,
            "float8_e5m2": 1}

# DLPack: (type code, bits) -> tlc dtype; device types.
DL_DTYPES = {(0, 8): "int8", (0, 16): "int16", (0, 32): "int32", (0, 64): "int64", (1, 8): "uint8",
             (1, 16): "uint16", (1, 32): "uint32", (1, 64): "uint64", (2, 16): "float16", (2, 32): "float32",
             (2, 64): "float64", (4, 16): "bfloat16", (6, 8): "bool"}
DL_DEVICES = {1: "cpu", 2: "cuda", 3: "cuda_host", 13: "cuda_managed"}


def is_torch_tensor(obj: Any) -> bool:
    return type(obj).__module__.startswith("torch") and hasattr(obj, "data_ptr") and hasattr(obj, "stride")


def contiguous_strides(shape: Tuple[int, ...]) -> Tuple[int, ...]:
    strides, acc = [], 1
    for extent in reversed(shape):
        strides.append(acc)
        acc *= max(extent, 1)
    return tuple(reversed(strides))


def as_array_view(obj: Any, name: str) -> ArrayView:
    """The launcher's view of ``obj``; ArgumentError (naming ``name``) when it is
    no array this package can read."""
    if isinstance(obj, ArrayView):
        return obj
    if is_torch_tensor(obj):
        dtype = TORCH_DTYPES.get(str(obj.dtype))
        if dtype is None:
            raise ArgumentError(name, "torch dtype %s has no tlc equivalent" % obj.dtype)
        device = obj.device
        return ArrayView(ptr=int(obj.data_ptr()), shape=tuple(obj.shape), strides=tuple(obj.stride()),
                         dtype=dtype, device_type=device.type, device=device.index)
    cai = getattr(obj, "__cuda_array_interface__", None)
    if cai is not None:
        return _from_cuda_array_interface(cai, name)
    if hasattr(obj, "__dlpack__"):
        return _from_dlpack(obj, name)
    raise ArgumentError(name, "expected a tensor (torch, or an object with __cuda_array_interface__ or "
                        "__dlpack__), got %s" % type(obj).__name__)


def _from_cuda_array_interface(cai: dict, name: str) -> ArrayView:
    typestr = cai.get("typestr", "")
    dtype = TYPESTRS.get(typestr[1:])
    if dtype is None or (typestr[0] == ">" and typestr[1:] not in ("b1", "i1", "u1")):
        raise ArgumentError(name, "__cuda_array_interface__ typestr %r is not a type tlc kernels take" % typestr)
    shape = tuple(int(s) for s in cai["shape"])
    itemsize = ITEMSIZE[dtype]
    if cai.get("strides") is None:
        strides = contiguous_strides(shape)
    else:
        byte_strides = tuple(int(s) for s in cai["strides"])
        if any(s % itemsize for s in byte_strides):
            raise ArgumentError(name, "strides %s (bytes) are not whole %d-byte elements" % (byte_strides, itemsize))
        strides = tuple(s // itemsize for s in byte_strides)
    if cai.get("mask") is not None:
        raise ArgumentError(name, "masked arrays are not supported")
    ptr = int(cai["data"][0] or 0)
    return ArrayView(ptr=ptr, shape=shape, strides=strides, dtype=dtype, device_type="cuda", device=None)


class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class _DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", _DLDevice), ("ndim", ctypes.c_int32),
                ("dtype", _DLDataType), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)), ("byte_offset", ctypes.c_uint64)]


def _from_dlpack(obj: Any, name: str) -> ArrayView:
    """Reads the DLTensor at the head of the producer's DLManagedTensor (the capsule
    is not consumed: the producer, which the caller holds, keeps the memory)."""
    device_type, device_id = obj.__dlpack_device__() if hasattr(obj, "__dlpack_device__") else (None, None)
    if device_type is not None and DL_DEVICES.get(int(device_type)) != "cuda":
        raise ArgumentError(name, "must be on a CUDA device, not %s" % DL_DEVICES.get(int(device_type), device_type))
    capsule = obj.__dlpack__()
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype = ctypes.c_void_p
    get.argtypes = [ctypes.py_object, ctypes.c_char_p]
    address = get(capsule, b"dltensor")
    t = _DLTensor.from_address(address)
    dtype = DL_DTYPES.get((t.dtype.code, t.dtype.bits))
    if dtype is None or t.dtype.lanes != 1:
        raise ArgumentError(name, "DLPack dtype (code %d, %d bits, %d lanes) is not a type tlc kernels take"
                            % (t.dtype.code, t.dtype.bits, t.dtype.lanes))
    shape = tuple(t.shape[i] for i in range(t.ndim))
    strides = tuple(t.strides[i] for i in range(t.ndim)) if t.strides else contiguous_strides(shape)
    ptr = (t.data or 0) + t.byte_offset
    return ArrayView(ptr=ptr, shape=shape, strides=strides, dtype=dtype,
                     device_type=DL_DEVICES.get(t.device.device_type, str(t.device.device_type)),
                     device=t.device.device_id)
