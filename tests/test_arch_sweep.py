#!/usr/bin/env python3
"""Every architecture --arch accepts ends in a diagnostic, never in a toolchain failure.

For every .tl file under the given directories (not the fail_*.tl goldens, which are
errors by design, nor tests/fuzz) and every architecture tlc accepts (the list its
error for an unsupported --arch gives, from src/ir/Targets.def), tlc compiles the file
to a cubin. A valid program compiles (exit 0); one the target cannot
run is refused by sema at its line (exit 1, a located `error:`). Exit 3 (ptxas or
nvlink failed on tlc's PTX), a crash or an internal error is a bug: the user got PTX
that the target does not have, which is what this sweep found for sm_75 (eviction
policies, cp.async; docs/robustness.md, findings). Architectures the installed
ptxas does not assemble (CUDA 13 dropped sm_70 and sm_72) are swept with
--emit=ptx, which needs no toolkit. Files that need -D values or other options fail
with exit 1 or 2 alike on every architecture and are not this test's concern; exit 2
is only accepted when sm_90a gives it too.

Usage: test_arch_sweep.py --tlc build/tlc [--jobs N] DIR...
Exit status: 0 when every compile ended in 0 or a located diagnostic, 1 otherwise,
77 (skip) without a ptxas.
"""

import argparse
import concurrent.futures
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
LOCATED_ERROR = re.compile(r"^[^\s:][^:]*:\d+:\d+: error: ", re.M)


def architectures(tlc):
    # The error for an unsupported one lists them all (src/ir/Targets.def).
    with tempfile.TemporaryDirectory() as tmp:
        empty = os.path.join(tmp, "empty.tl")
        open(empty, "w").close()
        probe = subprocess.run([tlc, empty, "--arch=sm_99", "--emit=ptx"], capture_output=True, text=True)
    listed = re.search(r"tlc compiles for ([^)]*)\)", probe.stderr)
    if not listed:
        raise SystemExit(f"cannot read the architectures from tlc's error: {probe.stderr!r}")
    return [a.strip() for a in listed.group(1).split(",")]


def assembles(ptxas, arch):
    """Whether the installed ptxas knows the architecture at all."""
    ptx = f".version 8.0\n.target {arch}\n.address_size 64\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "probe.ptx")
        with open(path, "w") as f:
            f.write(ptx)
        result = subprocess.run([ptxas, f"-arch={arch}", path, "-o", os.path.join(tmp, "probe.o")],
                                capture_output=True, text=True)
    return "is not defined for option 'gpu-name'" not in result.stdout + result.stderr


def compile_one(tlc, index, source, arch, text_only, scratch):
    out = os.path.join(scratch, f"{arch}-{index}")
    command = [tlc, source, f"--arch={arch}"] + (["--emit=ptx", "-o", out + ".ptx"] if text_only else ["-o", out + ".cubin"])
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=dict(os.environ, NO_COLOR="1"))
    except subprocess.TimeoutExpired:
        return source, arch, None, "timed out after 300 s"
    return source, arch, result.returncode, result.stdout + result.stderr


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tlc", required=True)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("dirs", nargs="+")
    args = parser.parse_args()

    ptxas = os.path.join(os.environ.get("CUDA_HOME", "/usr/local/cuda"), "bin", "ptxas")
    if not os.access(ptxas, os.X_OK):
        ptxas = shutil.which("ptxas") or ""
    if not ptxas:
        print("skip: no ptxas (CUDA_HOME or /usr/local/cuda)")
        return SKIP

    sources = []
    for d in args.dirs:
        if not os.path.isdir(d):
            print(f"skip: {d} (absent)")
            continue
        for path in sorted(glob.glob(os.path.join(d, "**", "*.tl"), recursive=True)):
            name = os.path.basename(path)
            if name.startswith("fail_") or "fuzz" in path.split(os.sep):
                continue
            sources.append(path)
    archs = architectures(args.tlc)
    text_only = {a: not assembles(ptxas, a) for a in archs}
    print(f"{len(sources)} files x {len(archs)} architectures ("
          + ", ".join(a + (" as PTX" if text_only[a] else "") for a in archs) + ")")

    failures = []
    counts = {}
    with tempfile.TemporaryDirectory() as scratch, concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        jobs = [pool.submit(compile_one, args.tlc, i, s, a, text_only[a], scratch)
                for i, s in enumerate(sources) for a in archs]
        results = {}
        for job in concurrent.futures.as_completed(jobs):
            source, arch, rc, output = job.result()
            results[(source, arch)] = (rc, output)
    for (source, arch), (rc, output) in sorted(results.items()):
        counts[rc] = counts.get(rc, 0) + 1
        why = None
        if rc is None:
            why = output
        elif rc == 1:
            if "internal error" in output or not LOCATED_ERROR.search(output):
                why = "exit 1 without a located error"
        elif rc == 2:
            if results.get((source, "sm_90a"), (None,))[0] != 2:
                why = "a usage error on this architecture only"
        elif rc != 0:
            why = f"exit {rc}"
        if why:
            failures.append(f"{source} --arch={arch}: {why}\n    " + "\n    ".join(output.strip().splitlines()[:6]))
    print("exit codes: " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items(), key=lambda kv: str(kv[0]))))
    for f in failures:
        print("FAIL " + f)
    print(f"{len(results) - len(failures)} of {len(results)} compiles ended in success or a located diagnostic")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
