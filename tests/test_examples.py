#!/usr/bin/env python3
"""Example tests: every .tl file in the given directories must compile to a cubin.

For each example, tlc writes NAME.cubin and NAME.h into a scratch directory. An
example tlc rejects with `not yet supported` is pending, not failed, only when its
file name is in PENDING_ALLOWED below; any other such rejection fails, and so does
an allowed one that now compiles (take it off the list). A file whose name mentions sm100 is compiled for
sm_100a and must fail with exit 1, naming sm_100a, for the default sm_90a.

With --headers, each generated header is also compiled by
  gcc -std=c11   -Wall -Wextra -Werror -fsyntax-only -I$CUDA_INCLUDE
  g++ -std=c++17 -Wall -Wextra -Werror -fsyntax-only -I$CUDA_INCLUDE
in a tiny translation unit that includes it twice (the include guard), and linked:
two C translation units that include it and take the address of every function
its comment lists (so each is compiled), linked against the driver's stub
libcuda.so: no symbol defined twice, every driver function it calls exists.
CUDA_INCLUDE is --cuda-include (CMake passes the toolkit it found; the default is
$CUDA_HOME/include, else /usr/local/cuda/include); with --headers a missing cuda.h
or driver stub fails the run instead of skipping checks.

A directory that does not exist is skipped with a note. Exit codes: 0 passed,
1 failed, 77 nothing to test (CTest's SKIP_RETURN_CODE).

Usage: test_examples.py --tlc build/tlc [--headers] [--cuda-include DIR] DIR...
"""

import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile

SKIP = 77
CUDA_INCLUDE = os.path.join(os.environ.get("CUDA_HOME", "/usr/local/cuda"), "include")  # see --cuda-include

# The examples tlc may still reject with `not yet supported`, by file name. Empty:
# every example must compile.
PENDING_ALLOWED = set()


def run(command, cwd):
    result = subprocess.run(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=dict(os.environ, NO_COLOR="1"), timeout=300)
    return result.returncode, result.stdout.decode("utf-8", errors="replace")


def indent(text):
    return "".join("    | " + line + "\n" for line in text.splitlines()[:60])


def compile_example(tlc, path, scratch):
    """Returns (status, detail, header path): status is 'ok', 'pending' or 'fail'."""
    name = os.path.splitext(os.path.basename(path))[0]
    arch = "sm_100a" if "sm100" in name else "sm_90a"
    cubin = os.path.join(scratch, name + ".cubin")
    header = os.path.join(scratch, name + ".h")
    code, output = run([tlc, path, "-o", cubin, "--arch=" + arch], scratch)
    if code == 1 and "not yet supported" in output:
        first = next((l for l in output.splitlines() if "not yet supported" in l), "")
        if os.path.basename(path) in PENDING_ALLOWED:
            return "pending", first.strip(), None
        return "fail", "not yet supported, and not in PENDING_ALLOWED\n" + indent(output), None
    if os.path.basename(path) in PENDING_ALLOWED:
        return "fail", f"in PENDING_ALLOWED but no longer rejected (exit {code}): take it off the list", None
    if code != 0:
        return "fail", f"exit {code} for --arch={arch}\n" + indent(output), None
    with open(cubin, "rb") as f:
        if f.read(4) != b"\x7fELF":
            return "fail", f"{cubin} is not an ELF file", None
    if not os.path.getsize(header):
        return "fail", f"{header} is empty", None
    if arch != "sm_90a":
        # The spec: compiled for sm_100a, and a clear error for sm_90a.
        code, output = run([tlc, path, "-o", os.path.join(scratch, name + "_90.cubin")], scratch)
        if code != 1 or "sm_100a" not in output:
            return "fail", f"for sm_90a: expected exit 1 with an error naming sm_100a, got exit {code}\n" + indent(output), None
    return "ok", "", header


def compile_header(header, scratch):
    """Returns a list of failure messages (empty when both compilers accept it)."""
    base = os.path.splitext(os.path.basename(header))[0]
    include = f'#include "{os.path.basename(header)}"\n'
    problems = []
    for compiler, std, ext in (("gcc", "-std=c11", "c"), ("g++", "-std=c++17", "cpp")):
        unit = os.path.join(scratch, f"{base}_use.{ext}")
        with open(unit, "w") as f:
            f.write(include + include + "int main(void) { return 0; }\n")
        command = [compiler, std, "-Wall", "-Wextra", "-Werror", "-fsyntax-only",
                   "-I" + CUDA_INCLUDE, "-I" + os.path.dirname(header), unit]
        code, output = run(command, scratch)
        if code != 0:
            problems.append(f"{compiler} {std}: exit {code}\n" + indent(output))
    problems += link_header(header, scratch)
    return problems


def link_header(header, scratch):
    """Links two translation units that use every function the header declares."""
    stubs = sorted(glob.glob(os.path.join(os.path.dirname(CUDA_INCLUDE), "lib*", "stubs", "libcuda.so")))
    if not stubs:
        return [f"no driver stub lib*/stubs/libcuda.so beside {CUDA_INCLUDE}: cannot link"]
    with open(header, encoding="utf-8", errors="replace") as f:
        text = f.read()
    functions = sorted(set(re.findall(r"CUresult (\w+)\(", text.split("*/", 1)[0])))
    if not functions:
        return [f"{header}: its comment lists no CUresult functions"]
    base = os.path.splitext(os.path.basename(header))[0]
    units = []
    for i, entry in enumerate(("main", "other")):
        unit = os.path.join(scratch, f"{base}_link{i}.c")
        uses = "".join(f"  (void)&{name};\n" for name in functions)
        signature = "int main(void)" if entry == "main" else "int other(void)"
        with open(unit, "w") as f:
            f.write(f'#include "{os.path.basename(header)}"\n{signature} {{\n{uses}  return 0;\n}}\n')
        units.append(unit)
    command = ["gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-I" + CUDA_INCLUDE,
               "-I" + os.path.dirname(header), *units, "-o", os.path.join(scratch, base + "_link"),
               "-L" + os.path.dirname(stubs[0]), "-lcuda"]
    code, output = run(command, scratch)
    if code != 0:
        return [f"linking two C units that use {', '.join(functions)}: exit {code}\n" + indent(output)]
    return []


def main():
    global CUDA_INCLUDE
    parser = argparse.ArgumentParser(description="Compile every example (see the module docstring).")
    parser.add_argument("--tlc", required=True)
    parser.add_argument("--headers", action="store_true", help="also compile the generated headers")
    parser.add_argument("--cuda-include", default=CUDA_INCLUDE, help="the directory of cuda.h")
    parser.add_argument("dirs", nargs="+")
    options = parser.parse_args()
    tlc = os.path.abspath(options.tlc)
    CUDA_INCLUDE = os.path.abspath(options.cuda_include)
    if options.headers and not os.path.isfile(os.path.join(CUDA_INCLUDE, "cuda.h")):
        print(f"FAIL: no cuda.h in {CUDA_INCLUDE} (--cuda-include): the headers cannot be checked")
        return 1

    examples = []
    for directory in options.dirs:
        if not os.path.isdir(directory):
            print(f"SKIP {directory}: not found")
            continue
        examples += [os.path.join(os.path.abspath(directory), n)
                     for n in sorted(os.listdir(directory)) if n.endswith(".tl")]
    if not examples:
        print("SKIP: no examples found")
        return SKIP

    compiled, pending, failed = [], [], []
    with tempfile.TemporaryDirectory(prefix="tlc-examples-") as scratch:
        for path in examples:
            status, detail, header = compile_example(tlc, path, scratch)
            if status == "ok":
                problems = compile_header(header, scratch) if options.headers else []
                if problems:
                    failed.append(path)
                    print(f"FAIL {path}: its header does not compile\n" + "".join(problems))
                else:
                    compiled.append(path)
                    print(f"PASS {path}" + (" (cubin and header)" if options.headers else ""))
            elif status == "pending":
                pending.append(path)
                print(f"PENDING {path}: {detail}")
            else:
                failed.append(path)
                print(f"FAIL {path}: {detail}")

    print(f"\n{len(compiled)} compiled, {len(pending)} not yet supported, {len(failed)} failed, "
          f"{len(examples)} examples")
    if pending:
        print("not yet supported: " + ", ".join(os.path.basename(p) for p in pending))
    if failed:
        return 1
    if options.headers and not compiled:
        print("SKIP: no example compiled, so no header to check")
        return SKIP
    return 0


if __name__ == "__main__":
    sys.exit(main())
