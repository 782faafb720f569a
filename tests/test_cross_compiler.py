#!/usr/bin/env python3
"""Cross-compiler determinism: two tlc binaries built from the same source by different
C++ compilers (CI: gcc-12 for build/, clang-19 for build-asan/) must write the same PTX
and the same diagnostics for every .tl file of the repository.

Why a test: C++ leaves the order in which a call's arguments are evaluated to the
compiler, so IR built in nested calls (`CreateFDiv(CreateFSub(..), CreateFAdd(..))`)
comes out in a compiler-dependent instruction order. No golden notices, since each
build is deterministic on its own (docs/robustness.md, "Outputs across the compilers").

Each file runs as `tlc FILE --emit=ptx` plus the `--arch=`/`-D` options of its golden
`// RUN:` line, in the file's directory; stdout, stderr and the exit code must match.

Usage: test_cross_compiler.py --tlc A --other B [--jobs N] ROOT [EXTRA_DIR ...]
"""

import argparse
import concurrent.futures
import difflib
import os
import re
import shlex
import subprocess
import sys

RUN_LINE = re.compile(r"^\s*//\s*RUN:(.*)$")
TIMEOUT_SECONDS = 300


def collect(root, extra_dirs):
    """The .tl files to compare, sorted so that the report is stable."""
    patterns = [("tests", "golden"), ("tests", "gpu", "kernels"), ("examples",)]
    dirs = [os.path.join(root, *p) for p in patterns] + list(extra_dirs)
    files = []
    for d in dirs:
        if not os.path.isdir(d):
            continue
        for dirpath, _, names in os.walk(d):
            files += [os.path.join(dirpath, n) for n in names if n.endswith(".tl")]
    return sorted(files)


def target_options(path):
    """The options of the file's RUN line that change the code (arch, defines, -O, -lineinfo)."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = RUN_LINE.match(line)
            if not m:
                continue
            try:
                words = shlex.split(m.group(1))
            except ValueError:
                return []
            picked, i = [], 0
            while i < len(words):
                w = words[i]
                if w.startswith("--arch=") or re.fullmatch(r"-O[0-3]", w) or w == "-lineinfo":
                    picked.append(w)
                elif w.startswith("-D") and len(w) > 2:
                    picked.append(w)
                elif w in ("-D", "--arch") and i + 1 < len(words):
                    picked += [w, words[i + 1]]
                    i += 1
                i += 1
            return picked
    return []


def run(tlc, path, options):
    cmd = [tlc, os.path.basename(path), "--emit=ptx"] + options
    try:
        p = subprocess.run(cmd, cwd=os.path.dirname(path), capture_output=True,
                           timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        return ("timeout", b"", b"")
    return (p.returncode, p.stdout, p.stderr)


def compare(tlc, other, path):
    options = target_options(path)
    a, b = run(tlc, path, options), run(other, path, options)
    if a == b and a[0] != "timeout":
        return None
    if a[0] == "timeout" or b[0] == "timeout":
        return f"{path}: timed out after {TIMEOUT_SECONDS} s ({a[0]} / {b[0]})"
    if a[0] != b[0]:
        return f"{path}: exit {a[0]} against {b[0]}"
    for name, x, y in (("stdout", a[1], b[1]), ("stderr", a[2], b[2])):
        if x != y:
            diff = difflib.unified_diff(
                x.decode(errors="replace").splitlines(), y.decode(errors="replace").splitlines(),
                "tlc", "other", n=1, lineterm="")
            return f"{path}: {name} differs\n" + "\n".join(list(diff)[:40])
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tlc", required=True)
    ap.add_argument("--other", required=True, help="the tlc built by the other compiler")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("root")
    ap.add_argument("extra", nargs="*", help="more directories of .tl files (e.g. the spec's examples)")
    args = ap.parse_args()
    args.tlc, args.other = os.path.abspath(args.tlc), os.path.abspath(args.other)  # tlc runs in each file's directory
    for binary in (args.tlc, args.other):
        if not os.access(binary, os.X_OK):
            print(f"test_cross_compiler: {binary} is not an executable", file=sys.stderr)
            return 2
    files = collect(os.path.abspath(args.root), [os.path.abspath(d) for d in args.extra])
    if not files:
        print("test_cross_compiler: no .tl files found", file=sys.stderr)
        return 2
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        failures = [r for r in pool.map(lambda f: compare(args.tlc, args.other, f), files) if r]
    for failure in failures:
        print(failure)
    print(f"test_cross_compiler: {len(files) - len(failures)} of {len(files)} files give the "
          f"same PTX and diagnostics from {args.tlc} and {args.other}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
