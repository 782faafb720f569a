#!/usr/bin/env python3
"""Snapshot what tlc makes of every .tl file of the repository and the spec.

For each .tl under examples/, tests/ and ../shared/spec/examples (when present),
writes into OUT/<relative path>/: the cubin and header (for each --arch given),
the loop IR (--emit=loops), the PTX, and tlc's stderr with --remarks, plus the exit
status. Two snapshots compared with `diff -r` show every change a patch makes to
generated code: a refactor must leave them byte-identical.

Usage: snapshot_outputs.py --tlc build/tlc --out DIR [--arch sm_90a] [--jobs N]
Environment is passed through, so `GLIBC_TUNABLES=glibc.malloc.mmap_threshold=0
MALLOC_PERTURB_=165 snapshot_outputs.py ...` snapshots under a perturbed allocator.
"""

import argparse
import concurrent.futures
import glob
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def sources():
    found = []
    for pattern in ("examples/**/*.tl", "tests/**/*.tl"):
        found += sorted(glob.glob(os.path.join(ROOT, pattern), recursive=True))
    spec = os.path.join(os.path.dirname(ROOT), "shared", "spec", "examples")
    found += sorted(glob.glob(os.path.join(spec, "*.tl")))
    return found


def snapshot_one(tlc, source, out_root, archs):
    rel = os.path.relpath(source, os.path.dirname(ROOT))
    out = os.path.join(out_root, rel)
    os.makedirs(out, exist_ok=True)
    log = []
    for arch in archs:
        runs = [
            (["-o", os.path.join(out, arch + ".cubin"), "--remarks"], arch + ".stderr"),
            (["--emit=loops", "-o", os.path.join(out, arch + ".loops")], arch + ".loops.stderr"),
            (["--emit=ptx", "-o", os.path.join(out, arch + ".ptx")], arch + ".ptx.stderr"),
        ]
        for flags, errname in runs:
            try:
                r = subprocess.run([tlc, source, "--arch=" + arch] + flags, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, timeout=300, env=dict(os.environ, NO_COLOR="1"))
                text = r.stdout.decode("utf-8", "replace").replace(os.path.dirname(ROOT), "<root>")
                log.append("%s %s: exit %d" % (arch, " ".join(flags[:1]), r.returncode))
            except subprocess.TimeoutExpired:
                text = "TIMEOUT\n"
                log.append("%s %s: timeout" % (arch, " ".join(flags[:1])))
            with open(os.path.join(out, errname), "w") as f:
                f.write(text)
    with open(os.path.join(out, "status"), "w") as f:
        f.write("\n".join(log) + "\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tlc", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--arch", action="append")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    a = p.parse_args()
    tlc = os.path.abspath(a.tlc)
    archs = a.arch or ["sm_90a"]
    srcs = sources()
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
        list(pool.map(lambda s: snapshot_one(tlc, s, a.out, archs), srcs))
    print("snapshot: %d files into %s" % (len(srcs), a.out))


if __name__ == "__main__":
    sys.exit(main())
