"""The launch metadata (``tlc --emit=meta``, STEM.meta.json) and the launcher's rules.

Everything here is pure Python and needs no GPU: parsing the metadata, binding a
call's arguments to a kernel's parameters, the checks the C launcher header makes
(dtype, rank, shapes, strides, alignment, sizes, requirements), choosing the variant
and computing the grid. The result is a :class:`LaunchPlan`; ``driver.py`` turns it
into a ``cuLaunchKernel``. docs/python.md describes the format and the rules.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .arrays import ArrayView, as_array_view
from .errors import ArgumentError, MetadataError

FORMAT = "tlc-meta"
VERSION = 1

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
INT32_MAX = (1 << 31) - 1
GRID_LIMITS = (2147483647, 65535, 65535)

# Scalars as the kernel takes them: struct format of the value (16- and 8-bit floats
# travel as their bits, bool as a byte), and the range of an integer.
SCALAR_FORMATS = {
    "bool": "B", "int8": "b", "int16": "h", "int32": "i", "int64": "q",
    "uint8": "B", "uint16": "H", "uint32": "I", "uint64": "Q",
    "float16": "H", "bfloat16": "H", "float32": "f", "float64": "d",
    "float8_e4m3": "B", "float8_e5m2": "B",
}
INT_RANGES = {
    "int8": (-(1 << 7), (1 << 7) - 1), "int16": (-(1 << 15), (1 << 15) - 1),
    "int32": (-(1 << 31), (1 << 31) - 1), "int64": (INT64_MIN, INT64_MAX),
    "uint8": (0, (1 << 8) - 1), "uint16": (0, (1 << 16) - 1),
    "uint32": (0, (1 << 32) - 1), "uint64": (0, (1 << 64) - 1),
}


class _Overflow(Exception):
    """An expression left int64 (or divided by zero): the launcher refuses."""


def evaluate(expr: Any, env: Dict[str, int]) -> int:
    """Evaluates a metadata expression (a number, a parameter's name, or
    ``[op, operands...]``) in checked int64 arithmetic, as the header does."""
    if isinstance(expr, bool):
        return int(expr)
    if isinstance(expr, int):
        return expr
    if isinstance(expr, str):
        if expr not in env:
            raise KeyError(expr)
        return env[expr]
    if not isinstance(expr, list) or not expr or not isinstance(expr[0], str):
        raise MetadataError("malformed expression %r" % (expr,))
    op, args = expr[0], [evaluate(a, env) for a in expr[1:]] if expr[0] != "select" else None
    if op == "select":
        return evaluate(expr[2] if evaluate(expr[1], env) else expr[3], env)

    def check(v: int) -> int:
        if v < INT64_MIN or v > INT64_MAX:
            raise _Overflow()
        return v

    if op == "neg":
        return check(-args[0])
    if op == "not":
        return int(not args[0])
    if op == "bitnot":
        return ~args[0]
    a, b = args
    if op == "add":
        return check(a + b)
    if op == "sub":
        return check(a - b)
    if op == "mul":
        return check(a * b)
    if op in ("floordiv", "floormod"):
        if b == 0 or (a == INT64_MIN and b == -1):
            raise _Overflow()
        return a // b if op == "floordiv" else a % b
    if op == "min":
        return min(a, b)
    if op == "max":
        return max(a, b)
    if op == "shl":
        if b < 0 or b > 62:
            raise _Overflow()
        return check(a << b)
    if op == "shr":
        if b < 0 or b > 63:
            raise _Overflow()
        return a >> b  # Python's >> floors for either sign, as the header's helper
    if op == "bitand":
        return a & b
    if op == "bitor":
        return a | b
    if op == "bitxor":
        return a ^ b
    comparisons = {"lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b, "eq": a == b, "ne": a != b,
                   "and": bool(a) and bool(b), "or": bool(a) or bool(b)}
    if op in comparisons:
        return int(comparisons[op])
    raise MetadataError("unknown operation %r in an expression" % op)


def describe(expr: Any) -> str:
    """An expression as a reader writes it, for messages: ``N * K``."""
    if isinstance(expr, (int, str)):
        return str(expr)
    infix = {"add": "+", "sub": "-", "mul": "*", "floordiv": "//", "floormod": "%", "shl": "<<", "shr": ">>",
             "bitand": "&", "bitor": "|", "bitxor": "^", "lt": "<", "le": "<=", "gt": ">", "ge": ">=",
             "eq": "==", "ne": "!=", "and": "and", "or": "or"}
    op = expr[0]
    if op in infix:
        return "(%s %s %s)" % (describe(expr[1]), infix[op], describe(expr[2]))
    if op == "neg":
        return "-" + describe(expr[1])
    return "%s(%s)" % (op, ", ".join(describe(a) for a in expr[1:]))


# ------------------------------------------------------------------ metadata

@dataclass
class Param:
    """One parameter a caller passes, as the source declares it."""
    name: str
    kind: str                      # "tensor", "pointer" or "scalar"
    dtype: str
    element_bits: int = 0
    rank: int = 0
    shape: List[Any] = field(default_factory=list)
    strides: List[Any] = field(default_factory=list)
    elem_offset: Any = 0
    align: int = 1
    pointer: str = ""              # tensor: the kernel parameter holding its address

    @property
    def element_bytes(self) -> int:
        return max(1, self.element_bits // 8)


@dataclass
class Variant:
    entry: str
    arch: str
    threads: int
    cluster: Tuple[int, int, int]
    shared_bytes: int
    grid: List[Any]
    grid_text: str
    assumptions: List[Dict[str, Any]]
    assumptions_required: bool
    params: List[Dict[str, Any]]   # in kernel-parameter order

    def holds(self, env: Dict[str, int]) -> bool:
        """Whether every assumption holds for these arguments (``env`` has the
        addresses of pointers and the values of dimensions)."""
        return all(env[a["arg"]] % a["multiple"] == 0 for a in self.assumptions)

    def describe_assumptions(self) -> str:
        return ", ".join(("%s aligned to %d bytes" if a["kind"] == "address" else "%s %% %d == 0")
                         % (a["arg"], a["multiple"]) for a in self.assumptions)


@dataclass
class KernelMeta:
    name: str
    params: List[Param]
    dims: List[str]
    checks: Dict[str, Any]
    variants: List[Variant]

    def signature(self) -> str:
        """``tile_copy(A: float16[M, N], B: float16[M, N])``, for messages and help."""
        parts = []
        for p in self.params:
            if p.kind == "tensor":
                parts.append("%s: %s[%s]" % (p.name, p.dtype, ", ".join(describe(s) for s in p.shape)))
            elif p.kind == "pointer":
                parts.append("%s: ptr(%s)" % (p.name, p.dtype))
            else:
                parts.append("%s: %s" % (p.name, p.dtype))
        return "%s(%s)" % (self.name, ", ".join(parts))


@dataclass
class ModuleMeta:
    source: str
    archs: List[Dict[str, Any]]    # {"arch": "sm_90a", "cubin": "k.cubin" or None}
    kernels: List[KernelMeta]
    folder: str = ""               # where the metadata file lies (cubins are relative to it)

    def kernel(self, name: str) -> KernelMeta:
        for k in self.kernels:
            if k.name == name:
                return k
        raise AttributeError("%s has no kernel '%s' (it has: %s)"
                             % (self.source, name, ", ".join(k.name for k in self.kernels) or "none"))

    def cubin_path(self, arch: str) -> str:
        for a in self.archs:
            if a["arch"] == arch:
                if not a.get("cubin"):
                    raise MetadataError("the metadata names no cubin for %s (was it written by --emit=meta "
                                        "without a cubin?)" % arch)
                return os.path.join(self.folder, a["cubin"])
        raise MetadataError("the metadata has no build for %s" % arch)


def parse(text: str, folder: str = "") -> ModuleMeta:
    """Parses the metadata's JSON text; raises MetadataError when it is not tlc's."""
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise MetadataError("the metadata is not JSON: %s" % e) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise MetadataError("not tlc launch metadata (no \"format\": \"%s\")" % FORMAT)
    if doc.get("version") != VERSION:
        raise MetadataError("metadata version %r; this package reads version %d (rebuild with the matching tlc)"
                            % (doc.get("version"), VERSION))
    try:
        kernels = []
        for k in doc["kernels"]:
            params = [Param(name=p["name"], kind=p["kind"], dtype=p["dtype"],
                            element_bits=p.get("element_bits", 0), rank=p.get("rank", 0),
                            shape=p.get("shape", []), strides=p.get("strides", []),
                            elem_offset=p.get("elem_offset", 0), align=p.get("align", 1),
                            pointer=p.get("pointer", p["name"]))
                      for p in k["params"]]
            variants = [Variant(entry=v["entry"], arch=v["arch"], threads=v["threads"],
                                cluster=tuple(v["cluster"]), shared_bytes=v["shared_bytes"], grid=v["grid"],
                                grid_text=v.get("grid_text", ""), assumptions=v["assumptions"],
                                assumptions_required=v["assumptions_required"], params=v["params"])
                        for v in k["variants"]]
            kernels.append(KernelMeta(name=k["name"], params=params, dims=k["dims"], checks=k["checks"],
                                      variants=variants))
        return ModuleMeta(source=doc["source"], archs=doc["archs"], kernels=kernels, folder=folder)
    except (KeyError, TypeError) as e:
        raise MetadataError("malformed metadata: %r" % (e,)) from None


def read(path: str) -> ModuleMeta:
    with open(path, "r", encoding="utf-8") as f:
        return parse(f.read(), os.path.dirname(os.path.abspath(path)))


def meta_path_for(path: str) -> str:
    """The metadata beside a cubin (``k.cubin`` -> ``k.meta.json``); a ``.json`` is itself."""
    if path.endswith(".json"):
        return path
    stem = path[:-len(".cubin")] if path.endswith(".cubin") else path
    return stem + ".meta.json"


# ------------------------------------------------------------------ binding

def arch_fits(arch: str, capability: Tuple[int, int]) -> bool:
    """Whether a cubin for ``arch`` runs on a device of this compute capability:
    ``sm_XYa`` on XY exactly, ``sm_XY`` on the same major version from minor Y on."""
    digits = arch[3:].rstrip("af")
    major, minor = int(digits[:-1]), int(digits[-1])
    if arch.endswith("a") or arch.endswith("f"):
        return capability == (major, minor)
    return capability[0] == major and capability[1] >= minor


@dataclass
class KernelArg:
    """One kernel parameter's value, in kernel-parameter order."""
    name: str
    kind: str           # "pointer", "dim", "scalar", "tensor_map"
    fmt: str = "Q"      # struct format of the value (tensor_map: none)
    value: Any = None   # int / float; tensor_map: the map's description (dict)

    def pack(self) -> bytes:
        return struct.pack("<" + self.fmt, self.value)


@dataclass
class LaunchPlan:
    kernel: str
    variant: int        # index into the kernel's variants
    entry: str
    arch: str
    grid: Tuple[int, int, int]
    block: Tuple[int, int, int]
    cluster: Tuple[int, int, int]
    shared_bytes: int
    args: List[KernelArg]
    device: Optional[int]  # the CUDA device the arrays live on (None: not known)

    @property
    def empty(self) -> bool:
        return 0 in self.grid


def _scalar_value(p: Param, value: Any) -> Tuple[str, Any]:
    """A scalar argument as the kernel takes it: (struct format, value)."""
    t = p.dtype
    if t not in SCALAR_FORMATS:
        raise ArgumentError(p.name, "a scalar of type %s cannot be passed from Python" % t)
    if hasattr(value, "item") and not isinstance(value, (int, float, bool)):
        value = value.item()  # a 0-d array or tensor
    if t == "bool":
        return "B", 1 if bool(value) else 0
    if t in INT_RANGES:
        if isinstance(value, float) and not value.is_integer() or not isinstance(value, (int, float)):
            raise ArgumentError(p.name, "expected an integer (%s), got %r" % (t, value))
        lo, hi = INT_RANGES[t]
        value = int(value)
        if not lo <= value <= hi:
            raise ArgumentError(p.name, "%d does not fit in %s" % (value, t))
        return SCALAR_FORMATS[t], value
    if not isinstance(value, (int, float)):
        raise ArgumentError(p.name, "expected a number (%s), got %r" % (t, value))
    if t == "float16":
        return "H", struct.unpack("<H", struct.pack("<e", float(value)))[0]
    if t == "bfloat16":
        bits = struct.unpack("<I", struct.pack("<f", float(value)))[0]
        if (bits & 0x7f800000) == 0x7f800000 and bits & 0x7fffff:
            return "H", (bits >> 16) | 0x40  # a NaN stays a NaN
        return "H", ((bits + 0x7fff + ((bits >> 16) & 1)) >> 16) & 0xffff  # round to nearest even
    if t in ("float8_e4m3", "float8_e5m2"):
        if isinstance(value, int) and 0 <= value <= 255:
            return "B", value  # raw bits
        raise ArgumentError(p.name, "a %s scalar is passed as its raw bits (an int 0..255)" % t)
    return SCALAR_FORMATS[t], float(value)


def bind(kernel: KernelMeta, args: Sequence[Any], kwargs: Dict[str, Any],
         capability: Optional[Tuple[int, int]] = None,
         archs: Optional[Sequence[str]] = None,
         encode: Optional[Callable[[Dict[str, Any]], Optional[bytes]]] = None) -> LaunchPlan:
    """Binds a call's arguments and makes the launch plan, with the header's checks.

    ``capability``: the device's compute capability, which picks the architecture;
    None takes the first in ``archs`` (the metadata's order). ``encode`` turns a
    tensor map's description into its 128 bytes, or None where the driver refuses
    it (then the next variant runs, as in the header); None skips encoding.
    """
    if len(args) > len(kernel.params):
        raise TypeError("%s takes %d arguments, got %d" % (kernel.signature(), len(kernel.params), len(args)))
    values: Dict[str, Any] = {}
    for p, a in zip(kernel.params, args):
        values[p.name] = a
    extra_dims: Dict[str, int] = {}
    for name, a in kwargs.items():
        if any(p.name == name for p in kernel.params):
            if name in values:
                raise TypeError("%s got argument '%s' twice" % (kernel.name, name))
            values[name] = a
        elif name in kernel.dims:
            extra_dims[name] = a
        else:
            raise TypeError("%s has no parameter '%s' (%s)" % (kernel.name, name, kernel.signature()))
    missing = [p.name for p in kernel.params if p.name not in values]
    if missing:
        raise TypeError("%s is missing argument%s %s" % (kernel.signature(), "s" if len(missing) > 1 else "",
                                                           ", ".join("'%s'" % m for m in missing)))

    env: Dict[str, int] = {}          # dimensions, integer scalars, addresses
    where: Dict[str, str] = {}        # where each dimension's value came from
    scalars: Dict[str, Tuple[str, Any]] = {}
    views: Dict[str, ArrayView] = {}
    device: Optional[int] = None
    device_of: Optional[str] = None

    def bind_dim(name: str, value: int, source: str, arg: str) -> None:
        if name in env:
            if env[name] != value:
                own = source[len("'%s' " % arg):] if source.startswith("'%s' " % arg) else source
                raise ArgumentError(arg, "%s gives %s = %d, but %s gave %s = %d"
                                    % (own, name, value, where[name], name, env[name]))
            return
        env[name] = value
        where[name] = source

    # Arrays: dtype, rank, device, then the shapes bind the dimensions.
    for p in kernel.params:
        v = values[p.name]
        if p.kind == "scalar":
            continue
        if p.kind == "pointer" and isinstance(v, int) and not isinstance(v, bool):
            env[p.name] = v
            continue
        view = as_array_view(v, p.name)
        if p.kind == "tensor" or p.dtype != "uint8":  # an untyped ptr (uint8) takes any array
            if view.dtype != p.dtype:
                raise ArgumentError(p.name, "expected %s data, got %s" % (p.dtype, view.dtype))
        if view.device_type != "cuda":
            raise ArgumentError(p.name, "must be on a CUDA device, not %s" % view.device_name)
        if view.device is not None:
            if device is not None and view.device != device:
                raise ArgumentError(p.name, "is on cuda:%d, but '%s' is on cuda:%d" % (view.device, device_of, device))
            device, device_of = view.device, p.name
        views[p.name] = view
        if p.kind == "pointer":
            env[p.name] = view.ptr
            continue
        if len(view.shape) != p.rank:
            raise ArgumentError(p.name, "expected a rank-%d tensor [%s], got rank %d (shape %s)"
                                % (p.rank, ", ".join(describe(s) for s in p.shape), len(view.shape),
                                   tuple(view.shape)))
        for axis, (rule, extent) in enumerate(zip(p.shape, view.shape)):
            if isinstance(rule, int):
                if extent != rule:
                    raise ArgumentError(p.name, "axis %d has extent %d; the kernel needs %d" % (axis, extent, rule))
            elif isinstance(rule, str):
                bind_dim(rule, extent, "'%s' axis %d" % (p.name, axis), p.name)
            else:
                raise MetadataError("shape entry %r of '%s' is neither a constant nor a dimension" % (rule, p.name))

    # Integer scalars that are also dimensions (`A: Tensor((n,)), n: int32`).
    for p in kernel.params:
        if p.kind != "scalar":
            continue
        fmt, value = _scalar_value(p, values[p.name])
        scalars[p.name] = (fmt, value)
        if p.dtype in INT_RANGES or p.dtype == "bool":
            bind_dim(p.name, value, "argument '%s'" % p.name, p.name)
    for name, value in extra_dims.items():
        if not isinstance(value, int) or isinstance(value, bool):
            raise ArgumentError(name, "a dimension is an int, got %r" % (value,))
        bind_dim(name, value, "keyword %s=" % name, name)

    # Strides: a stride that names a dimension binds it (StridedTensor); the others
    # must be what the rule says (a Tensor is contiguous, row-major). Axes of extent
    # 1 have no meaningful stride and are not checked.
    for p in kernel.params:
        if p.kind != "tensor":
            continue
        view = views[p.name]
        for axis, rule in enumerate(p.strides):
            actual = view.strides[axis]
            if isinstance(rule, str) and rule not in env:
                bind_dim(rule, actual, "'%s' stride %d" % (p.name, axis), p.name)
                continue
            if view.shape[axis] <= 1 or 0 in view.shape:
                continue
            try:
                expected = evaluate(rule, env)
            except KeyError:
                continue  # a stride of a dimension nothing gives: reported below
            except _Overflow:
                raise ArgumentError(p.name, "its stride rule %s overflows" % describe(rule)) from None
            if actual != expected:
                # A Tensor's strides follow from the shapes (row-major): say how to get such data.
                shape_names = {r for q in kernel.params if q.kind == "tensor" for r in q.shape if isinstance(r, str)}
                contiguous = all(not isinstance(r, str) or r in shape_names for r in p.strides)
                needs = str(expected) if isinstance(rule, int) else "%s = %d" % (describe(rule), expected)
                raise ArgumentError(p.name, "stride of axis %d is %d elements, the kernel needs %s%s "
                                    "(strides %s, expected %s)"
                                    % (axis, actual, needs,
                                       " (it takes contiguous row-major data: pass x.contiguous())"
                                       if contiguous else "", tuple(view.strides),
                                       "(" + ", ".join(describe(r) for r in p.strides) + ")"))
        # The address the kernel takes: the data minus a constant elem_offset.
        offset = p.elem_offset
        if isinstance(offset, str) and offset not in env:
            bind_dim(offset, 0, "'%s' (its data pointer is the first element)" % p.name, p.name)
        offset_value = evaluate(offset, env)
        env[p.pointer] = view.ptr - offset_value * p.element_bytes if view.ptr else 0
        if view.ptr % p.align:
            raise ArgumentError(p.name, "data at 0x%x is not aligned to %d bytes (%s)"
                                % (view.ptr, p.align, "its %d-byte %s elements" % (p.element_bytes, p.dtype)
                                   if p.align == p.element_bytes else "the kernel's align=%d" % p.align))

    unbound = [d for d in kernel.dims if d not in env]
    if unbound:
        raise ArgumentError(unbound[0], "no tensor gives dimension '%s': pass it as %s=..."
                            % (unbound[0], unbound[0]))
    for d in kernel.dims:
        if not INT64_MIN <= env[d] <= INT32_MAX:
            raise ArgumentError(d, "dimension '%s' = %d does not fit in int32" % (d, env[d]))

    # The header's checks, in its order.
    checks = kernel.checks
    for name in checks.get("non_negative", []):
        if env[name] < 0:
            raise ArgumentError(name, "dimension '%s' = %d must not be negative" % (name, env[name]))
    for bound in checks.get("max", []):
        if env[bound["arg"]] > bound["max"]:
            raise ArgumentError(bound["arg"], "'%s' = %d exceeds %d: the kernel indexes it in 64-bit signed "
                                "arithmetic" % (bound["arg"], env[bound["arg"]], bound["max"]))
    for span in checks.get("spans", []):
        try:
            evaluate(span["last_offset"], env)
        except _Overflow:
            raise ArgumentError(span["tensor"], "tensor '%s' is too large: the offset of its last element "
                                "overflows 64-bit arithmetic" % span["tensor"]) from None
    for r in checks.get("requirements", []):
        try:
            value = evaluate(r["value"], env)
        except _Overflow:
            raise ArgumentError(r["what"], "%s overflows 64-bit arithmetic" % r["what"]) from None
        if r.get("minimum", 0) > 0 and value < r["minimum"]:
            raise ArgumentError(r["what"], "%s = %d is less than %d%s" % (r["what"], value, r["minimum"], r["why"]))
        if r["multiple"] > 1 and value % r["multiple"]:
            raise ArgumentError(r["what"], "%s = %d is not a multiple of %d%s"
                                % (r["what"], value, r["multiple"], r["why"]))

    # The variants of the architecture whose cubin this device runs.
    arch_list = list(archs) if archs else sorted({v.arch for v in kernel.variants}, key=lambda a: a)
    if capability is not None:
        fitting = [a for a in arch_list if arch_fits(a, capability)]
        if not fitting:
            raise ArgumentError(kernel.name, "no cubin for a device of compute capability %d.%d (built for %s)"
                                % (capability[0], capability[1], ", ".join(arch_list)))
        arch = fitting[0]
    else:
        arch = arch_list[0]
    candidates = [(i, v) for i, v in enumerate(kernel.variants) if v.arch == arch]
    choice = next((k for k, (_, v) in enumerate(candidates) if v.holds(env)), len(candidates) - 1)

    def encode_maps(variant: Variant) -> Optional[List[KernelArg]]:
        """The variant's kernel arguments, its tensor maps encoded; None when a map
        cannot be made for these arguments (the header then tries the next variant)."""
        out = []
        for q in variant.params:
            kind, name = q["kind"], q["name"]
            if kind == "pointer":
                out.append(KernelArg(name, kind, "Q", env[name]))
            elif kind == "dim":
                out.append(KernelArg(name, kind, "i", env[name]))
            elif kind == "scalar":
                fmt, value = scalars[name]
                out.append(KernelArg(name, kind, fmt, value))
            elif kind == "tensor_map":
                spec = tensor_map_spec(q, env)
                if spec is None:
                    return None
                if encode is not None:
                    encoded = encode(spec)
                    if encoded is None:
                        return None
                    spec = dict(spec, encoded=encoded)
                out.append(KernelArg(name, kind, "", spec))
            else:
                raise MetadataError("unknown kernel parameter kind %r" % kind)
        return out

    kernel_args = None
    while True:
        index, variant = candidates[choice]
        kernel_args = encode_maps(variant)
        if kernel_args is not None or choice + 1 >= len(candidates):
            break
        choice += 1

    grid = []
    for axis, rule in enumerate(variant.grid):
        try:
            extent = evaluate(rule, env)
        except _Overflow:
            raise ArgumentError(kernel.name, "the grid %s overflows 64-bit arithmetic for these arguments"
                                % variant.grid_text) from None
        if extent < 0:
            raise ArgumentError(kernel.name, "grid %s = %s = %d is negative" % ("xyz"[axis], describe(rule), extent))
        if extent > GRID_LIMITS[axis]:
            raise ArgumentError(kernel.name, "grid %s = %s = %d exceeds the device limit of %d blocks"
                                % ("xyz"[axis], describe(rule), extent, GRID_LIMITS[axis]))
        grid.append(extent)
    plan = LaunchPlan(kernel=kernel.name, variant=index, entry=variant.entry, arch=arch, grid=tuple(grid),
                      block=(variant.threads, 1, 1), cluster=variant.cluster, shared_bytes=variant.shared_bytes,
                      args=kernel_args or [], device=device)
    if plan.empty:
        return plan  # nothing to do: the header returns before the pointer checks
    last = candidates[-1][1]
    if last.assumptions_required and not last.holds(env):
        raise ArgumentError(kernel.name, "%s is required: %s uses TMA (tma_copy or a tensor map) and has no "
                            "fallback" % (last.describe_assumptions(), kernel.name))
    if kernel_args is None:
        raise ArgumentError(kernel.name, "no TMA tensor map for these arguments: a base must be 16-byte aligned, "
                            "a row stride a multiple of 16 bytes and no dimension 0")
    for p in kernel.params:
        if p.kind == "scalar":
            continue
        address = env[p.pointer if p.kind == "tensor" else p.name]
        if address == 0:
            raise ArgumentError(p.name, "is a null pointer")
    for p in kernel.params:
        if p.kind == "pointer" and env[p.name] % p.align:
            raise ArgumentError(p.name, "address 0x%x is not aligned to its %d-byte %s elements"
                                % (env[p.name], p.align, p.dtype))
    for axis in range(3):
        if plan.cluster[axis] > 1 and plan.grid[axis] % plan.cluster[axis]:
            raise ArgumentError(kernel.name, "grid %s = %d is not a multiple of %d, the cluster's extent: the grid "
                                "must be whole clusters" % ("xyz"[axis], plan.grid[axis], plan.cluster[axis]))
    return plan


def tensor_map_spec(q: Dict[str, Any], env: Dict[str, int]) -> Optional[Dict[str, Any]]:
    """A tensor map's arguments for cuTensorMapEncodeTiled / Im2col (innermost axis
    first, strides in bytes), or None where the driver would refuse them: a null or
    misaligned base, a row stride not a multiple of 16 bytes, an empty dimension (the
    header settles these without a driver call, then runs the next variant)."""
    try:
        dims = [evaluate(d, env) for d in q["dims"]][::-1]
        strides = [evaluate(s, env) * q["element_bytes"] for s in q["strides"]][::-1][1:]
    except _Overflow:
        return None
    base = env[q["base"]]
    if base == 0 or base % 16 or 0 in dims or any(s % 16 for s in strides):
        return None
    spec = {"name": q["name"], "mode": q["mode"], "data_type": q["data_type"], "base": base, "dims": dims,
            "strides": strides, "swizzle": q["swizzle"]}
    if q["mode"] == "im2col":
        if dims[1] + 2 * q["pad"] < q["span"] or dims[2] + 2 * q["pad"] < q["span"]:
            return None
        spec.update(lower=q["lower"], upper=q["upper"], channels=q["channels"], pixels=q["pixels"],
                    steps=[1, q["stride"], q["stride"], 1])
    else:
        spec.update(box=list(q["box"])[::-1], steps=[1] * len(dims))
    return spec
