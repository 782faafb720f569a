"""``tlc.torch_op``: a tlc kernel as a torch.library custom op, so that it works
under ``torch.compile`` (the fake implementation gives the outputs' shapes from the
kernel's shape rules, without running anything) and in CUDA graphs (the launch
goes on torch's current stream, which a capture records)."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

from .errors import MetadataError
from .meta import INT_RANGES, KernelMeta, evaluate

_libraries: Dict[str, Any] = {}  # torch.library.Library per namespace, kept alive


def _schema_type(kernel: KernelMeta, name: str) -> str:
    p = next(p for p in kernel.params if p.name == name)
    if p.kind == "tensor":
        return "Tensor"
    if p.kind == "pointer":
        raise MetadataError("torch_op: parameter '%s' is a ptr; a custom op takes tensors and scalars" % name)
    if p.dtype == "bool":
        return "bool"
    if p.dtype in INT_RANGES:
        return "SymInt"
    return "float"


def output_shapes(kernel: KernelMeta, outputs: Iterable[str], inputs: Dict[str, Any],
                  dims: Optional[Dict[str, Any]] = None) -> Dict[str, List[Any]]:
    """The shapes of the output tensors, from the inputs' shapes by the kernel's
    shape rules (a constant, or a dimension an input's axis gives). Works on
    anything with ``.shape`` (fake tensors, symbolic sizes)."""
    env: Dict[str, Any] = dict(dims or {})
    for p in kernel.params:
        value = inputs.get(p.name)
        if p.kind == "tensor" and value is not None:
            for rule, extent in zip(p.shape, value.shape):
                if isinstance(rule, str):
                    env.setdefault(rule, extent)
        elif p.kind == "scalar" and value is not None and p.dtype in INT_RANGES:
            env.setdefault(p.name, value)
    shapes = {}
    for name in outputs:
        p = next(p for p in kernel.params if p.name == name)
        shape = []
        for rule in p.shape:
            if isinstance(rule, str) and rule not in env:
                raise MetadataError("torch_op: no input gives dimension '%s' of output '%s'" % (rule, name))
            shape.append(env[rule] if isinstance(rule, str) else evaluate(rule, {}))
        shapes[name] = shape
    return shapes


def torch_op(kernel, name: Optional[str] = None, outputs: Iterable[str] = (), mutates: Iterable[str] = (),
             **fixed: Any):
    """Registers ``kernel`` (a tlc.Kernel) as the custom op ``name`` (default
    ``tlc::<kernel>``) and returns it (``torch.ops.tlc.<kernel>``).

    - ``outputs``: tensor parameters the op allocates (contiguous, on the inputs'
      device) and returns, in this order; their shapes come from the shape rules.
    - ``mutates``: tensor parameters the kernel writes in place (``Tensor(a!)``).
    - ``fixed``: dimensions no input gives (``K=64``), fixed at registration.

    The op's arguments are the other parameters, in the kernel's order.
    """
    import torch

    meta: KernelMeta = kernel.meta
    outputs, mutates = list(outputs), list(mutates)
    names = [p.name for p in meta.params]
    for n in outputs + mutates:
        if n not in names or next(p for p in meta.params if p.name == n).kind != "tensor":
            raise MetadataError("torch_op: '%s' is no tensor parameter of %s" % (n, meta.signature()))
    inputs = [n for n in names if n not in outputs]
    qualified = name or "tlc::" + meta.name
    namespace, opname = qualified.split("::", 1)
    alias = iter("abcdefghijklmnopqrstuvwxyz")
    arguments = []
    for n in inputs:
        t = _schema_type(meta, n)
        if n in mutates:
            t = "Tensor(%s!)" % next(alias)
        arguments.append("%s %s" % (t, n))
    returns = "()" if not outputs else "Tensor" if len(outputs) == 1 else "(" + ", ".join(["Tensor"] * len(outputs)) + ")"
    schema = "%s(%s) -> %s" % (opname, ", ".join(arguments), returns)
    dtypes = {p.name: getattr(torch, _torch_dtype(p.dtype)) for p in meta.params if p.kind == "tensor"}

    def allocate(values: Dict[str, Any], device) -> Dict[str, Any]:
        shapes = output_shapes(meta, outputs, values, fixed)
        return {n: torch.empty(shapes[n], dtype=dtypes[n], device=device) for n in outputs}

    def device_of(values: Dict[str, Any]):
        for v in values.values():
            if isinstance(v, torch.Tensor):
                return v.device
        return torch.device("cuda")

    def result(made: Dict[str, Any]):
        if not outputs:
            return None
        return made[outputs[0]] if len(outputs) == 1 else tuple(made[n] for n in outputs)

    def run(*args):
        values = dict(zip(inputs, args))
        made = allocate(values, device_of(values))
        values.update(made)
        kernel(*[values[n] for n in names], **fixed)
        return result(made)

    def fake(*args):
        values = dict(zip(inputs, args))
        return result(allocate(values, device_of(values)))

    library = _libraries.get(namespace)
    if library is None:
        library = _libraries[namespace] = torch.library.Library(namespace, "FRAGMENT")
    library.define(schema)
    library.impl(opname, run, "CUDA")
    register_fake = getattr(torch.library, "register_fake", None) or torch.library.impl_abstract
    register_fake(qualified)(fake)
    return getattr(getattr(torch.ops, namespace), opname)


def _torch_dtype(dtype: str) -> str:
    from .arrays import TLC_TO_TORCH
    if dtype not in TLC_TO_TORCH:
        raise MetadataError("torch_op: %s has no torch dtype" % dtype)
    return TLC_TO_TORCH[dtype]
