#!/usr/bin/env python3
"""CTest `tilelang_ports`: compiles every TileLang port configuration, compares with the manifest.

    python3 tests/tilelang/check_ports.py --tlc build/tlc            # check
    python3 tests/tilelang/check_ports.py --tlc build/tlc --update   # rewrite the manifest

Each configuration of tests/tilelang/ports_table.py (every port file with its
defaults, plus the -D rows the GPU harness runs) is compiled with tlc, and the
outcome, `compiles` or `rejected: <first error, without file:line:col>`, is compared with
tests/tilelang/ports/MANIFEST. Any difference fails the test: a port that starts
compiling is as much news as one that stops (update the manifest, review the diff,
and give a newly compiling port a case in test_ports_gpu.py). It also checks that
every port names the TileLang test it ports, that every compiling configuration has
a GPU case and no case names a configuration that is not in the table, and runs the
harness's comparison self-test (it must catch a wrong output) and, where torch is
installed, a dry run of every GPU case on the CPU with launches that do nothing
(each must fail on its poisoned outputs, and bind its arguments to the generated
header's launch function). Prints
`N of M ports compile`: a port compiles when its defaults do.
"""

import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ports_table  # noqa: E402

MANIFEST = os.path.join(ports_table.PORTS_DIR, "MANIFEST")
MANIFEST_HEADER = """\
# Expected outcome of compiling each configuration of the TileLang ports with tlc:
# `ID: compiles` or `ID: rejected: <first error without file:line:col>`. ID is the port's file stem,
# `__suffix` for a -D row of tests/tilelang/ports_table.py. Checked by CTest
# `tilelang_ports` (tests/tilelang/check_ports.py); `--update` rewrites this file.
"""


def compile_one(tlc, vid, port, defines, outdir):
    # --prefix ID: the header's functions are the ones build_tilelang_ports.sh builds, and
    # the dry run binds the GPU cases' arguments against them.
    cmd = [tlc, port + ".tl", "-o", os.path.join(outdir, vid + ".cubin"), "--prefix", vid] + \
        ports_table.define_flags(defines)
    try:
        r = subprocess.run(cmd, cwd=ports_table.PORTS_DIR, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        return "rejected: timed out after 300 s"
    if r.returncode == 0:
        return "compiles"
    lines = [line.rstrip() for line in r.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "error:" in line]
    first = (errors or lines or ["exit status %d, no message" % r.returncode])[0]
    # Without the line and column: editing a port's comments must not change its status.
    first = re.sub(r"^[^:\s]+\.tl:\d+:\d+: ", "", first)
    return "rejected: " + first


def read_manifest():
    expected = {}
    with open(MANIFEST) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            vid, _, status = line.partition(": ")
            expected[vid] = status
    return expected


def write_manifest(outcomes):
    with open(MANIFEST, "w") as f:
        f.write(MANIFEST_HEADER)
        for vid, status in outcomes:
            f.write("%s: %s\n" % (vid, status))


def lint_headers(problems):
    for port in ports_table.ports():
        with open(os.path.join(ports_table.PORTS_DIR, port + ".tl")) as f:
            head = f.read(2000)
        if not head.startswith("// Port of tile-ai/tilelang") or "::" not in head:
            problems.append("%s.tl: the header comment must start with '// Port of tile-ai/tilelang' "
                            "and name the test as path::function" % port)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tlc", default=os.path.join(HERE, "..", "..", "build", "tlc"))
    ap.add_argument("--update", action="store_true", help="rewrite the manifest from this run")
    ap.add_argument("-j", type=int, default=2, help="compilations at a time (default 2)")
    args = ap.parse_args()
    tlc = os.path.abspath(args.tlc)

    rows = ports_table.variants()
    with tempfile.TemporaryDirectory(prefix="tlc_ports_") as tmp:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.j)) as pool:
            futures = [pool.submit(compile_one, tlc, vid, port, d, tmp) for vid, port, d in rows]
            outcomes = [(vid, fut.result()) for (vid, _, _), fut in zip(rows, futures)]
        import test_ports_gpu  # imports torch only when it runs on a GPU
        problems = test_ports_gpu.dry_run(tmp) if test_ports_gpu.torch is not None else []
        if test_ports_gpu.torch is None:
            print("check_ports: torch is not installed: the dry run of the GPU cases is skipped")

    if args.update:
        write_manifest(outcomes)
        print("check_ports: wrote %s (review it with git diff)" % os.path.relpath(MANIFEST))
    else:
        expected = read_manifest()
        for vid, status in outcomes:
            if vid not in expected:
                problems.append("%s: not in the manifest (now: %s)" % (vid, status))
            elif expected[vid] != status:
                problems.append("%s: the manifest says\n    %s\n  now\n    %s" % (vid, expected[vid], status))
        for vid in sorted(set(expected) - {vid for vid, _ in outcomes}):
            problems.append("%s: in the manifest but not a configuration of ports_table.py" % vid)

    lint_headers(problems)

    # The GPU cases and the table must agree, and the comparison must be able to fail.
    compiling = {vid for vid, status in outcomes if status == "compiles"}
    case_ids = set(test_ports_gpu.CASES)
    for vid in sorted(case_ids - {vid for vid, _, _ in rows}):
        problems.append("test_ports_gpu.py: case for '%s', which is no configuration of ports_table.py" % vid)
    for vid in sorted(compiling - case_ids):
        problems.append("%s compiles but test_ports_gpu.py has no case for it" % vid)
    problems += test_ports_gpu.selftest()

    by_port = {}
    for (vid, port, _), (_, status) in zip(rows, outcomes):
        if vid == port:
            by_port[port] = status == "compiles"
    n_ports = sum(by_port.values())
    n_rows = sum(1 for _, s in outcomes if s == "compiles")
    for p in problems:
        print("FAIL " + p)
    print("%d of %d ports compile (%d of %d configurations)" % (n_ports, len(by_port), n_rows, len(outcomes)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
