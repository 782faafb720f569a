#!/usr/bin/env python3
"""Reproducible outputs: the same .tl file and flags give the same bytes.

For every .tl file in the given directories (those tlc rejects as `not yet
supported` are skipped), tlc compiles it

  1. in scratch directory A:   tlc src/NAME.tl -o out/NAME.cubin -MD
  2. again in A (same paths)
  3. in scratch directory B, another depth elsewhere, with the same relative paths
  4. in B with the input given by its absolute path, to out/abs.cubin

and the cubin, header and depfile of 1-3 must be byte-identical, and the cubin and
header of 4 the same as those of 1 (the depfile names the input as given, so it
differs there by design). The first example is also built as a .h + .c pair for
sm_80 and sm_90a in both directories, with identical results. A build cache or a remote build may then reuse any of them.
The header may not contain the scratch directories' paths.

Usage: test_reproducible.py --tlc build/tlc DIR...
"""

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77


def compile_in(tlc, cwd, source, cubin, extra):
    os.makedirs(os.path.join(cwd, os.path.dirname(cubin)), exist_ok=True)
    result = subprocess.run([tlc, source, "-o", cubin, "-MD"] + extra, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=dict(os.environ, NO_COLOR="1"), timeout=300)
    return result.returncode, result.stdout.decode("utf-8", errors="replace")


def read_outputs(cwd, cubin):
    stem = os.path.splitext(os.path.join(cwd, cubin))[0]
    outputs = {}
    for ext in (".cubin", ".h", ".d"):
        with open(stem + ext, "rb") as f:
            outputs[ext] = f.read()
    return outputs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tlc", required=True)
    parser.add_argument("dirs", nargs="+")
    args = parser.parse_args()
    tlc = os.path.abspath(args.tlc)

    files = []
    for d in args.dirs:
        if not os.path.isdir(d):
            print(f"note: {d} does not exist; skipped")
            continue
        files += sorted(glob.glob(os.path.join(d, "*.tl")))
    if not files:
        print("nothing to test")
        return SKIP

    failures, checked, skipped = [], 0, []
    with tempfile.TemporaryDirectory(prefix="tlc-repro-") as scratch:
        for index, path in enumerate(files):
            name = os.path.splitext(os.path.basename(path))[0]
            extra = ["--arch=sm_100a"] if "sm100" in name else []
            a = os.path.join(scratch, str(index), "a")
            b = os.path.join(scratch, str(index), "elsewhere", "deeper", "b")
            for d in (a, b):
                os.makedirs(os.path.join(d, "src"))
                shutil.copy(path, os.path.join(d, "src", name + ".tl"))
            source, cubin = os.path.join("src", name + ".tl"), os.path.join("out", name + ".cubin")

            code, output = compile_in(tlc, a, source, cubin, extra)
            if code == 1 and "not yet supported" in output:
                skipped.append(name)
                continue
            if code != 0:
                failures.append(f"{path}: exit {code}\n{output}")
                continue
            first = read_outputs(a, cubin)
            runs = {}
            code2, out2 = compile_in(tlc, a, source, cubin, extra)
            runs["the same directory, again"] = read_outputs(a, cubin) if code2 == 0 else out2
            code3, out3 = compile_in(tlc, b, source, cubin, extra)
            runs["another directory"] = read_outputs(b, cubin) if code3 == 0 else out3
            for what, outputs in runs.items():
                if isinstance(outputs, str):
                    failures.append(f"{path}: {what}: failed\n{outputs}")
                    continue
                for ext, data in first.items():
                    if outputs[ext] != data:
                        failures.append(f"{path}: {what}: {name}{ext} differs")
            code4, out4 = compile_in(tlc, b, os.path.join(b, source), os.path.join("out", "abs.cubin"), extra)
            if code4 != 0:
                failures.append(f"{path}: absolute input path: failed\n{out4}")
            else:
                absolute = read_outputs(b, os.path.join("out", "abs.cubin"))
                for ext in (".cubin", ".h"):
                    if absolute[ext] != first[ext]:
                        failures.append(f"{path}: absolute input path: {ext} differs")
            for ext, data in first.items():
                if scratch.encode() in data:
                    failures.append(f"{path}: {name}{ext} contains the scratch directory's path")
            # The depfile: the output, then the input, as given.
            expected = f"{cubin}: {source}\n".encode()
            if first[".d"] != expected:
                failures.append(f"{path}: depfile is {first['.d']!r}, expected {expected!r}")
            checked += 1
            # Once: the .h + .c pair with two architectures, from both directories.
            if checked == 1 and not extra:
                pair = ["--emit=cubin,header,source", "--arch=sm_80,sm_90a"]
                outs = []
                for d in (a, b):
                    code, output = compile_in(tlc, d, source, os.path.join("pair", name + ".cubin"), pair)
                    if code != 0:
                        failures.append(f"{path}: pair with two arches: exit {code}\n{output}")
                        break
                    stem = os.path.join(d, "pair", name)
                    outs.append([open(stem + ext, "rb").read() for ext in (".cubin", ".sm_90a.cubin", ".h", ".c", ".d")])
                if len(outs) == 2 and outs[0] != outs[1]:
                    failures.append(f"{path}: pair with two arches: outputs differ between directories")

    for failure in failures:
        print("FAIL " + failure)
    if skipped:
        print(f"skipped (not yet supported): {', '.join(skipped)}")
    print(f"{checked} examples compiled four times; {len(failures)} problems")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
