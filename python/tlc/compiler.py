"""``tlc.compile``: run the tlc binary on a .tl file, cached by content hash."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from typing import Dict, Iterable, Optional, Union

from .errors import CompileError


def find_tlc(tlc: Optional[str] = None) -> str:
    """The tlc binary: ``tlc`` if given, else $TLC, else ``tlc`` on the PATH."""
    candidate = tlc or os.environ.get("TLC") or shutil.which("tlc")
    if not candidate or not os.path.exists(candidate):
        raise CompileError("cannot find the tlc binary: pass tlc=PATH, set $TLC, or put tlc on the PATH")
    return os.path.abspath(candidate)


def default_cache_dir() -> str:
    """$TLC_CACHE_DIR, else $XDG_CACHE_HOME/tlc, else ~/.cache/tlc."""
    if os.environ.get("TLC_CACHE_DIR"):
        return os.environ["TLC_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tlc")


def _version(tlc: str) -> str:
    result = subprocess.run([tlc, "--version"], capture_output=True, text=True)
    return result.stdout


def compile(source: str, defines: Optional[Dict[str, Union[int, str]]] = None,  # noqa: A001
            arch: Union[str, Iterable[str], None] = None, options: Iterable[str] = (),
            cache_dir: Optional[str] = None, tlc: Optional[str] = None, load: bool = True):
    """Compiles ``source`` (a .tl path) with ``-D NAME=VALUE`` per define and loads it.

    The outputs go to ``cache_dir/<hash>/`` (default_cache_dir()), where the hash is
    of the source's bytes, the defines, arch, options and ``tlc --version``: a second
    call with the same inputs runs no compiler. The directory appears whole (written
    beside it, then renamed). Returns the loaded Module, or the cubin's path with
    ``load=False``. CompileError carries tlc's diagnostics.
    """
    binary = find_tlc(tlc)
    with open(source, "rb") as f:
        text = f.read()
    archs = [arch] if isinstance(arch, str) else list(arch or [])
    args = []
    for name, value in sorted((defines or {}).items()):
        args += ["-D", "%s=%s" % (name, value)]
    if archs:
        args.append("--arch=" + ",".join(archs))
    args += list(options)
    key = hashlib.sha256()
    for part in (text, "\0".join(args).encode(), _version(binary).encode(), os.path.basename(source).encode()):
        key.update(hashlib.sha256(part).digest())
    digest = key.hexdigest()[:32]
    root = cache_dir or default_cache_dir()
    stem = os.path.splitext(os.path.basename(source))[0] or "kernel"
    folder = os.path.join(root, digest)
    cubin = os.path.join(folder, stem + ".cubin")
    if not os.path.exists(os.path.join(folder, stem + ".meta.json")):
        os.makedirs(root, exist_ok=True)
        staging = tempfile.mkdtemp(prefix=digest + ".", dir=root)
        try:
            command = [binary, os.path.abspath(source), "-o", os.path.join(staging, stem + ".cubin"),
                       "--emit=cubin,header,meta"] + args
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0:
                raise CompileError("tlc failed on %s (exit %d)" % (source, result.returncode), result.stderr,
                                   result.returncode)
            try:
                os.rename(staging, folder)
            except OSError:
                if not os.path.exists(os.path.join(folder, stem + ".meta.json")):
                    raise
        finally:
            if os.path.exists(staging):
                shutil.rmtree(staging, ignore_errors=True)
    if not load:
        return cubin
    from . import load as _load
    return _load(cubin)
