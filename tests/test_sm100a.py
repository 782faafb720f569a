#!/usr/bin/env python3
"""The Blackwell route in CI (no Blackwell GPU anywhere: compile and assemble only).

For the spec's acceptance program gather4_sm100.tl (tma_gather4 with a user barrier),
tests/gpu/kernels/gather4_scatter4_sm100.tl (gather4 and scatter4 both) and
gather4_scatter4_hints_sm100.tl (the same with eviction_policy= and swizzle=):

  1. `tlc --arch=sm_100a` exits 0 and writes a cubin: an ELF file whose e_flags name
     SM 100 (ptxas assembled the PTX for sm_100a), and a header;
  2. its PTX (`--emit=ptx`) is `.version 8.6` / `.target sm_100a` and holds the
     tile::gather4 (and scatter4) tensor copies; when ptxas is installed, it
     assembles that PTX for sm_100a on its own too;
  3. `tlc --arch=sm_90a` exits 1 with, at each Blackwell-only call's line:column,
     `tma_gather4 needs --arch=sm_100a (Blackwell); this build targets sm_90a`;
  4. `tlc --arch=sm_90a,sm_100a` fails the same way (every arch is checked);
  5. every other example (examples/, the spec's) that compiles for sm_90a compiles
     for sm_100a too, to an SM 100 cubin (the retargeted sm_90 PTX route).

The spec's program is skipped with a note when the spec's directory is missing.

Usage: test_sm100a.py --tlc build/tlc --repo REPO [--spec DIR]
Exit codes: 0 passed, 1 failed.
"""

import argparse
import glob
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile


def run(command, cwd):
    result = subprocess.run(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=dict(os.environ, NO_COLOR="1"), timeout=300)
    return result.returncode, result.stdout.decode("utf-8", errors="replace")


def elf_sm(path):
    """The SM number in a CUDA ELF's e_flags (bits 8..15), or None if not ELF64."""
    with open(path, "rb") as f:
        head = f.read(64)
    if len(head) < 52 or head[:4] != b"\x7fELF" or head[4] != 2:
        return None
    (flags,) = struct.unpack_from("<I", head, 48)
    return (flags >> 8) & 0xFF


def blackwell_calls(source):
    """(line, column, op) of every tma_gather4/tma_scatter4/tma_gather4_bytes call."""
    calls = []
    with open(source) as f:
        for number, line in enumerate(f, 1):
            code = line.split("//", 1)[0]
            for m in re.finditer(r"\b(tma_gather4_bytes|tma_gather4|tma_scatter4)\s*\(", code):
                calls.append((number, m.start() + 1, m.group(1)))
    return calls


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tlc", required=True)
    parser.add_argument("--repo", required=True)
    parser.add_argument("--spec", default=None, help="the spec's examples (default: REPO/../shared/spec/examples)")
    args = parser.parse_args()
    tlc = os.path.abspath(args.tlc)
    repo = os.path.abspath(args.repo)
    spec = os.path.abspath(args.spec or os.path.join(repo, "..", "shared", "spec", "examples"))
    programs = [os.path.join(repo, "tests", "gpu", "kernels", name)
                for name in ("gather4_scatter4_sm100.tl", "gather4_scatter4_hints_sm100.tl")]
    spec_program = os.path.join(spec, "gather4_sm100.tl")
    if os.path.isfile(spec_program):
        programs.insert(0, spec_program)
    else:
        print(f"note: no {spec_program}; checking the repository's program only")
    ptxas = shutil.which("ptxas") or ("/usr/local/cuda/bin/ptxas" if os.access("/usr/local/cuda/bin/ptxas", os.X_OK) else None)

    failures = []
    checks = 0

    def check(ok, what, detail=""):
        nonlocal checks
        checks += 1
        print(("PASS " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)
            for line in detail.splitlines()[:40]:
                print("    | " + line)

    with tempfile.TemporaryDirectory(prefix="tlc-sm100a-") as scratch:
        for program in programs:
            name = os.path.splitext(os.path.basename(program))[0]
            cubin = os.path.join(scratch, name + ".cubin")
            code, output = run([tlc, program, "--arch=sm_100a", "-o", cubin], scratch)
            check(code == 0, f"{name}: --arch=sm_100a compiles (exit {code})", output)
            if code == 0:
                sm = elf_sm(cubin)
                check(sm == 100, f"{name}: the cubin is an ELF for SM 100 (got {sm})")
                check(os.path.getsize(os.path.join(scratch, name + ".h")) > 0, f"{name}: a header is written")

            ptx_path = os.path.join(scratch, name + ".ptx")
            code, output = run([tlc, program, "--arch=sm_100a", "--emit=ptx", "-o", ptx_path], scratch)
            ptx = open(ptx_path).read() if code == 0 and os.path.exists(ptx_path) else ""
            check(re.search(r"^\.version 8\.6\n\.target sm_100a\n", ptx, re.M) is not None,
                  f"{name}: the PTX says .version 8.6 / .target sm_100a", output + ptx[:400])
            check(".tile::gather4.mbarrier::complete_tx::bytes" in ptx, f"{name}: the PTX holds tile::gather4")
            if "scatter4" in name:
                check(".tile::scatter4.bulk_group" in ptx, f"{name}: the PTX holds tile::scatter4")
            if "hints" in name:  # eviction_policy= on both: an L2 cache-policy operand each
                check(".tile::gather4.mbarrier::complete_tx::bytes.L2::cache_hint" in ptx and
                      ".tile::scatter4.bulk_group.L2::cache_hint" in ptx, f"{name}: the PTX holds both .L2::cache_hint forms")
            if ptxas and ptx:
                code, output = run([ptxas, "-arch=sm_100a", ptx_path, "-o", os.path.join(scratch, name + ".ptxas.cubin")],
                                   scratch)
                check(code == 0, f"{name}: ptxas -arch=sm_100a assembles the PTX", output)

            calls = blackwell_calls(program)
            check(len(calls) > 0, f"{name}: has Blackwell-only calls to check")
            for archs in ("sm_90a", "sm_90a,sm_100a"):
                code, output = run([tlc, program, "--arch=" + archs, "-o", os.path.join(scratch, "x.cubin")],
                                   os.path.dirname(program))
                check(code == 1, f"{name}: --arch={archs} fails with exit 1 (got {code})", output)
                for line, column, op in calls:
                    want = (f"{os.path.basename(program)}:{line}:{column}: error: {op} needs --arch=sm_100a "
                            "(Blackwell); this build targets sm_90a")
                    check(want in output, f"{name}: --arch={archs}: {op} at {line}:{column} names the target",
                          "want: " + want + "\n" + output)

        # 5. The rest of the examples: sm_100a takes whatever sm_90a takes.
        others = sorted(glob.glob(os.path.join(repo, "examples", "*.tl")) + glob.glob(os.path.join(spec, "*.tl")))
        for program in others:
            if "sm100" in os.path.basename(program):
                continue
            name = os.path.splitext(os.path.basename(program))[0]
            code90, _ = run([tlc, program, "-o", os.path.join(scratch, "e90.cubin")], scratch)
            if code90 != 0:
                continue  # not yet supported for sm_90a either
            cubin = os.path.join(scratch, "e100.cubin")
            code, output = run([tlc, program, "--arch=sm_100a", "-o", cubin], scratch)
            check(code == 0 and elf_sm(cubin) == 100, f"{name}: compiles for sm_90a and for sm_100a (SM 100 cubin)", output)

    print(f"\n{checks - len(failures)} of {checks} checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
