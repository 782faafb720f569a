"""Call tlc-compiled kernels from Python.

    import tlc, torch
    mod = tlc.load("build/tile_copy.cubin")      # reads build/tile_copy.meta.json
    a = torch.randn(1000, 300, device="cuda", dtype=torch.float16)
    b = torch.empty_like(a)
    mod.tile_copy(a, b)                          # on torch's current stream

The launcher's checks (dtype, rank, shapes, strides, alignment, device, sizes) raise
:class:`ArgumentError` naming the argument. ``tlc.compile`` runs the tlc binary
(cached by content hash); ``tlc.torch_op`` makes a kernel a ``torch.library``
custom op that works under ``torch.compile`` and in CUDA graphs. docs/python.md.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Optional

from . import meta as _meta
from .compiler import compile, default_cache_dir, find_tlc  # noqa: A001 (tlc.compile is the API)
from .errors import ArgumentError, CompileError, CudaError, MetadataError, TlcError
from .meta import LaunchPlan, ModuleMeta, KernelMeta

__all__ = ["load", "compile", "torch_op", "Module", "Kernel", "ArgumentError", "CompileError", "CudaError",
           "MetadataError", "TlcError", "LaunchPlan", "default_cache_dir", "find_tlc"]
__version__ = "0.1.0"


def _torch_stream(device: Optional[int]) -> int:
    """torch's current stream on ``device`` (0, the legacy default stream, without torch)."""
    import sys
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return 0
    return int(torch.cuda.current_stream(device).cuda_stream)


def _stream_handle(stream: Any) -> int:
    """A stream given by the caller: an int handle, a torch.cuda.Stream, or an
    object with ``cuda_stream``, ``ptr``, ``handle`` or ``__cuda_stream__``."""
    if stream is None:
        return 0
    if isinstance(stream, int):
        return stream
    if hasattr(stream, "__cuda_stream__"):
        return int(stream.__cuda_stream__()[1])
    for attribute in ("cuda_stream", "ptr", "handle"):
        if hasattr(stream, attribute):
            return int(getattr(stream, attribute))
    raise TypeError("stream= expects an int handle or a stream object, got %s" % type(stream).__name__)


class Kernel:
    """One source kernel: call it on arrays, as its .tl signature declares
    (dimensions come from the arrays; one no array gives is a keyword)."""

    def __init__(self, module: "Module", kernel_meta: KernelMeta):
        self._module = module
        self.meta = kernel_meta
        self.__name__ = kernel_meta.name
        self.__doc__ = "%s (from %s)" % (kernel_meta.signature(), module.meta.source)

    def __repr__(self) -> str:
        return "<tlc kernel %s>" % self.meta.signature()

    def plan(self, *args: Any, **kwargs: Any) -> LaunchPlan:
        """The launch these arguments make (checks, variant, grid), without launching.
        Tensor maps are encoded only when a driver is at hand."""
        kwargs.pop("stream", None)
        return self._module._plan(self.meta, args, kwargs, encode=False)

    def __call__(self, *args: Any, stream: Any = None, **kwargs: Any) -> LaunchPlan:
        """Launches on ``stream`` (default: torch's current stream on the arrays'
        device, else the default stream). Returns the launch plan (variant, grid)."""
        plan = self._module._plan(self.meta, args, kwargs, encode=True)
        if plan.empty:
            return plan
        from . import driver
        handle = _stream_handle(stream) if stream is not None else _torch_stream(plan.device)
        with driver.on_device(plan.device):
            function = self._module._library().function(plan.entry)
            driver.launch(function, plan, handle)
        return plan


class Module:
    """A loaded cubin and its metadata; its kernels are attributes."""

    def __init__(self, module_meta: ModuleMeta, cubin_path: Optional[str] = None):
        self.meta = module_meta
        self._cubin_path = cubin_path
        self._libraries: Dict[str, Any] = {}
        self._capabilities: Dict[int, tuple] = {}
        self.kernels = {k.name: Kernel(self, k) for k in module_meta.kernels}

    def __getattr__(self, name: str) -> Kernel:
        kernels = self.__dict__.get("kernels", {})
        if name in kernels:
            return kernels[name]
        raise AttributeError("%s has no kernel '%s' (it has: %s)"
                             % (self.__dict__["meta"].source, name, ", ".join(kernels) or "none"))

    def __dir__(self):
        return list(super().__dir__()) + list(self.kernels)

    def __repr__(self) -> str:
        return "<tlc module %s: %s>" % (self.meta.source, ", ".join(self.kernels))

    def _device(self, plan_device: Optional[int]) -> int:
        from . import driver
        driver.ensure_context(plan_device)
        return driver.current_device() if plan_device is None else plan_device

    def _device_of(self, plan: LaunchPlan) -> Optional[int]:
        """The arrays' device: torch's, else the driver's answer for a pointer."""
        from . import driver
        if plan.device is not None:
            return plan.device
        for arg in plan.args:
            if arg.kind == "pointer" and arg.value:
                device = driver.pointer_device(arg.value)
                if device is not None:
                    return device
        return None

    def _arch(self, device: int) -> str:
        from . import driver
        if device not in self._capabilities:
            self._capabilities[device] = driver.capability(device)
        cap = self._capabilities[device]
        for a in self.meta.archs:
            if _meta.arch_fits(a["arch"], cap):
                return a["arch"]
        raise CudaError("tlc.load", 209, "CUDA_ERROR_NO_BINARY_FOR_GPU",
                        "%s was built for %s; this device is compute capability %d.%d"
                        % (self.meta.source, ", ".join(a["arch"] for a in self.meta.archs), cap[0], cap[1]))

    def _plan(self, kernel_meta: KernelMeta, args, kwargs, encode: bool) -> LaunchPlan:
        archs = [a["arch"] for a in self.meta.archs]
        if not encode:
            return _meta.bind(kernel_meta, args, kwargs, archs=archs)
        from . import driver
        # The device: the arrays' (torch says; a raw pointer asks the driver).
        device = self._device(self._device_of(_meta.bind(kernel_meta, args, kwargs, archs=archs)))
        arch = self._arch(device)
        with driver.on_device(device):
            plan = _meta.bind(kernel_meta, args, kwargs, archs=[arch], encode=driver.encode_tensor_map)
        plan.device = device
        return plan

    def _library(self):
        from . import driver
        device = driver.current_device()
        arch = self._arch(device)
        library = self._libraries.get(arch)
        if library is None:
            path = self.meta.cubin_path(arch) if self._cubin_path is None or len(self.meta.archs) > 1 \
                else self._cubin_path
            with open(path, "rb") as f:
                library = driver.Library(f.read())
            self._libraries[arch] = library
        return library


def load(path: str, meta_path: Optional[str] = None) -> Module:
    """Loads ``kernel.cubin`` (or its ``kernel.meta.json``) written by
    ``tlc kernel.tl --emit=cubin,header,meta`` (or ``--emit=cubin,meta``). The cubin
    is read now and loaded on the GPU at the first launch."""
    meta_file = meta_path or _meta.meta_path_for(path)
    if not os.path.exists(meta_file):
        raise MetadataError("no launch metadata at %s: compile with --emit=cubin,header,meta (or use "
                            "tlc.compile)" % meta_file)
    module_meta = _meta.read(meta_file)
    cubin = path if path.endswith(".cubin") else None
    return Module(module_meta, cubin)


def torch_op(kernel: Kernel, name: Optional[str] = None, outputs=(), mutates=(), **fixed: Any):
    """Registers ``kernel`` as a torch.library custom op; see tlc.torch_ops.torch_op."""
    from .torch_ops import torch_op as _torch_op
    return _torch_op(kernel, name=name, outputs=outputs, mutates=mutates, **fixed)
