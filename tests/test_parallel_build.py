#!/usr/bin/env python3
"""Kernels built one at a time, on -j threads (issue 17, 23; tlc/Pipeline.cpp):

1. The same bytes for every -j: a file of 24 kernels of four kinds (a tile copy, an
   axpy over fragments, a scaled 1-D copy, a copy whose TMA request lowering refuses
   with a warning) compiled with -j1, -j2 and -j3 gives the same cubin, header and
   diagnostics (--remarks: lowering's remarks and warnings, nvlink's resource
   remarks), in source order, and the same --emit=loops,ptx text. An error in
   lowering (the warning under -Werror) is reported for every kernel, in source
   order, with no outputs, for every -j.
2. Memory bounded by the kernels in flight: 1000 small kernels in one file compile
   (default -j) with a peak RSS (wait4's ru_maxrss of the process) under --max-rss-mb
   (0: not checked, for sanitizer builds whose shadow memory inflates the RSS).
   Before the kernels were built one at a time this file's peak grew with its size.
3. A kernel's code does not depend on its neighbours: the PTX of a kernel's entries in
   the 24-kernel file is the PTX they have in a file of their own, byte for byte but
   for the numbers of branch labels.

No timing is asserted; a timeout only catches a hang.
Usage: test_parallel_build.py --tlc build/tlc [--max-rss-mb 400]
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

HANG_SECONDS = 300

COPY = """kernel copy_{i}(A: Tensor((M, N), float16), B: Tensor((M, N), float16)) {{
  with Kernel(ceildiv(N, 64), ceildiv(M, 32), threads=128) as (bx, by) {{
    A_s = alloc_shared((32, 64), float16);
    copy(A[by * 32, bx * 64], A_s);
    copy(A_s, B[by * 32, bx * 64]);
  }}
}}
"""
AXPY = """kernel axpy_{i}(A: Tensor((M, N), float32), B: Tensor((M, N), float32), alpha: float32) {{
  with Kernel(ceildiv(N, 64), ceildiv(M, 16), threads=128) as (bx, by) {{
    a = alloc_fragment((16, 64), float32);
    copy(A[by * 16, bx * 64], a);
    for i, j in Parallel(16, 64) {{
      a[i, j] = a[i, j] * alpha;
    }}
    copy(a, B[by * 16, bx * 64]);
  }}
}}
"""
SCALE = """kernel scale_{i}(A: Tensor((N,), float32), B: Tensor((N,), float32), s: float32) {{
  with Kernel(ceildiv(N, 128), threads=128) as (bx) {{
    for i in Parallel(128) {{
      B[bx * 128 + i] = A[bx * 128 + i] * s;
    }}
  }}
}}
"""
NO_TMA = """kernel no_tma_{i}(A: Tensor((M, 1001), float16), B: Tensor((M, 1001), float16)) {{
  with Kernel(ceildiv(1001, 64), ceildiv(M, 64), threads=128) as (bx, by) {{
    s = alloc_shared((64, 64), float16);
    copy(A[by * 64, bx * 64], s, prefer_instruction="tma");
    copy(s, B[by * 64, bx * 64]);
  }}
}}
"""


def mixed(count):
    kinds = [COPY, AXPY, SCALE, NO_TMA]
    return "".join(kinds[i % len(kinds)].format(i=i) for i in range(count))


def entry_text(ptx, name):
    """The text of `.entry name(` up to its closing brace, or None. Branch labels are
    numbered by the function's place in its LLVM module ($L__BB<function>_<block>):
    kernels without loops share a module with their neighbours, so the number goes."""
    start = ptx.find(b".entry " + name.encode() + b"(")
    if start < 0:
        return None
    end = ptx.find(b"\n}\n", start)
    return re.sub(rb"\$L__BB\d+_", b"$L__BB_", ptx[start:end + 3])


def run(cmd, cwd):
    """(exit status or None on a hang, peak RSS in KB, stderr bytes) of one tlc run."""
    err_path = os.path.join(cwd, "stderr.txt")
    with open(err_path, "wb") as err, open(os.devnull, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err)
        deadline = time.monotonic() + HANG_SECONDS
        while True:
            done, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(proc.pid, signal.SIGKILL)
                os.wait4(proc.pid, 0)
                return None, 0, b""
            time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss, open(err_path, "rb").read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tlc", required=True)
    ap.add_argument("--max-rss-mb", type=int, default=400)
    args = ap.parse_args()
    tlc = os.path.abspath(args.tlc)
    failures = []

    def check(ok, what):
        print(("PASS: " if ok else "FAIL: ") + what)
        if not ok:
            failures.append(what)

    with tempfile.TemporaryDirectory(prefix="tlc_parallel_") as tmp:
        # 1. The same bytes for every -j.
        open(os.path.join(tmp, "mixed.tl"), "w").write(mixed(24))
        runs = {}
        for jobs in (1, 2, 3):
            out = f"j{jobs}"
            os.makedirs(os.path.join(tmp, out))
            rc, _, err = run([tlc, "mixed.tl", "-o", f"{out}/mixed.cubin", f"-j{jobs}", "--remarks"], tmp)
            check(rc == 0, f"-j{jobs}: 24 kernels compile (exit {rc}: {err[-300:]!r})")
            files = {}
            for name in ("mixed.cubin", "mixed.h"):
                path = os.path.join(tmp, out, name)
                files[name] = open(path, "rb").read() if os.path.exists(path) else None
            rc_text = subprocess.run([tlc, "mixed.tl", "--emit=loops,ptx", f"-j{jobs}", "-o", "-"], cwd=tmp,
                                     capture_output=True)
            runs[jobs] = (files, err, rc_text.stdout)
        base_files, base_err, base_text = runs[1]
        for jobs in (2, 3):
            files, err, text = runs[jobs]
            check(files == base_files, f"-j{jobs}: cubin and header are the bytes of -j1")
            check(err == base_err, f"-j{jobs}: the diagnostics of -j1, in the same order")
            check(text == base_text, f"-j{jobs}: --emit=loops,ptx prints the text of -j1")
        lines = base_err.decode().splitlines()
        warned = [line.split(":")[1] for line in lines if "[-Wprefer-instruction]" in line]
        check(len(warned) == 6 and warned == sorted(warned, key=int), "the 6 lowering warnings come in source order")
        # One remark per variant: kernel i's general one is named NAME_i (its fast one NAME_i_aligned).
        entries = [line.split("'")[1] for line in lines if "registers" in line]
        general = [int(e.rsplit("_", 1)[-1]) for e in entries if not e.endswith("_aligned")]
        check(general == list(range(24)), "the resource remarks come in source order")
        check(base_text.count(b".version") == 1 and base_text.count(b"tlc_dynamic_shared[];") == 1,
              "--emit=ptx of several kernels is one PTX module (one header, one dynamic shared array)")

        errs = {}
        for jobs in (1, 3):
            rc, _, err = run([tlc, "mixed.tl", "-o", f"werror{jobs}.cubin", f"-j{jobs}", "-Werror"], tmp)
            check(rc == 1, f"-j{jobs} -Werror: lowering's errors end the build with exit 1 (got {rc})")
            check(not os.path.exists(os.path.join(tmp, f"werror{jobs}.cubin")), f"-j{jobs} -Werror: no cubin")
            errs[jobs] = err
        check(errs[1] == errs[3], "-Werror: the same errors for -j1 and -j3")
        check(errs[1].count(b"error: prefer_instruction") == 6, "-Werror: every kernel's lowering error is reported")

        # 3. A kernel's PTX is the one it has in a file of its own: each source kernel is
        # an LLVM module of its own, optimized at the level its code asks for (a loop-free
        # axpy at O1 even in a group with tile copies, whose loops want O3).
        grouped = subprocess.run([tlc, "mixed.tl", "--emit=ptx", "-o", "-"], cwd=tmp, capture_output=True).stdout
        kinds = [(COPY, "copy"), (AXPY, "axpy"), (SCALE, "scale"), (NO_TMA, "no_tma")]
        for i in (4, 5, 6, 7, 21):
            kind, name = kinds[i % len(kinds)]
            open(os.path.join(tmp, "alone.tl"), "w").write(kind.format(i=i))
            alone = subprocess.run([tlc, "alone.tl", "--emit=ptx", "-o", "-"], cwd=tmp, capture_output=True).stdout
            for entry in (f"{name}_{i}_aligned", f"{name}_{i}"):
                mine, own = entry_text(grouped, entry), entry_text(alone, entry)
                if own is None and entry.endswith("_aligned"):
                    continue  # no fast variant for this kind
                check(own is not None and mine == own,
                      f"{entry}: the PTX of its entry in the 24-kernel file is the one it has alone")

        # 2. 1000 kernels under a memory bound.
        open(os.path.join(tmp, "many.tl"), "w").write("".join(SCALE.format(i=i) for i in range(1000)))
        rc, peak_kb, err = run([tlc, "many.tl", "-o", "many.cubin"], tmp)
        check(rc == 0, f"1000 kernels compile (exit {rc}: {err[-300:]!r})")
        print(f"peak RSS of 1000 kernels: {peak_kb / 1024:.0f} MiB")
        if args.max_rss_mb:
            check(peak_kb < args.max_rss_mb * 1024,
                  f"1000 kernels: peak RSS {peak_kb / 1024:.0f} MiB < {args.max_rss_mb} MiB")
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
