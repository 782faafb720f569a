#!/usr/bin/env python3
"""Replace the cubin a single-architecture tlc header embeds by PTX text.

An sm_80 cubin does not run on a Hopper GPU (SASS is compatible only within one
major version), but its PTX does: cuLibraryLoadData JIT-compiles PTX for the
device. The GPU tests of the sm_80 lowering (configurations named *_ptxjit in
scripts/build_gpu_tests.sh) embed `tlc --arch=sm_80 --emit=ptx`'s output in the
header tlc wrote for sm_80, so the H200 runs exactly the code lowering chose for
sm_80 (no TMA, cp.async pipelines), compiled by the driver instead of ptxas.

Usage: embed_ptx.py HEADER PTX
"""
import re
import sys


def main():
    header_path, ptx_path = sys.argv[1], sys.argv[2]
    header = open(header_path).read()
    ptx = open(ptx_path, "rb").read() + b"\0"  # cuLibraryLoadData reads PTX as a C string
    # The cubin is a string literal (its pieces hold no '"': quotes are octal escapes).
    pattern = re.compile(r'(TLC_ALIGNAS\(64\) static const unsigned char (\w+)_cubin)\[\d+\] =((?:\s*"[^"]*")+);')
    matches = pattern.findall(header)
    if len(matches) != 1:
        sys.exit("embed_ptx: expected one embedded cubin in %s, found %d" % (header_path, len(matches)))
    body = ",".join("0x%02x" % b for b in ptx)
    header = pattern.sub(lambda m: "%s[%d] = {%s};" % (m.group(1), len(ptx), body), header)
    open(header_path, "w").write(header)


if __name__ == "__main__":
    main()
