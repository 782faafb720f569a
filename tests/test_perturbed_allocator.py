#!/usr/bin/env python3
"""Allocator-independent outputs: tlc's bytes may not depend on where malloc puts nodes.

Passes that kept IR variables and buffers in containers ordered by address made
the output follow the allocator: under another malloc configuration a variant's
assumptions came out in another order, in the loop IR and in the header's checks
(issue 16). They order by creation now (ir::CreationId, ir::ById). This test
compiles every .tl file under the given directories in a plain environment and
under perturbed allocators, and requires the same bytes (both perturbations also
fill freed memory, MALLOC_PERTURB_=165):

  mmap64  GLIBC_TUNABLES=glibc.malloc.mmap_threshold=64, `tlc FILE --emit=loops`:
          the exit status, messages and loop IR. Blocks of 64 bytes or more (IR
          nodes among them) come from their own mappings once the heap's top is
          used up, placed from the top of the address space down. As cheap as a
          plain run, so every file. (In a run that also starts the LLVM backend
          this setting happens not to move the IR: hence the loop IR alone.)
  mmap0   GLIBC_TUNABLES=glibc.malloc.mmap_threshold=0, the recipe of issue 16,
          `tlc FILE --emit=loops,cubin,header -o k.cubin --remarks`: the exit
          status, messages (diagnostics, remarks), loop IR, cubin and header.
          Every block from its own mapping: several times slower, so only the
          files under --thorough (the contract programs and the examples).

Without --strict, one cause that older builds had is tolerated: a difference only
in the order of a variant's assumptions (see ASSUMPTION_ORDER_OUTPUTS), reported
(XFAIL) but not counted, so that an old build can be measured. CTest runs it with
--strict: the assumptions follow the kernel's parameters since the copy
strategies (lower/copy/Assumptions.h), and every container of variables and
buffers is ordered by ir::ById.

Usage: test_perturbed_allocator.py --tlc build/tlc [--strict] [--thorough DIR]... DIR...
"""

import argparse
import concurrent.futures
import glob
import os
import subprocess
import sys
import tempfile

SKIP = 77

PERTURBATIONS = {
    "mmap64": {"env": {"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=64", "MALLOC_PERTURB_": "165"},
               "flags": ["--emit=loops"]},
    "mmap0": {"env": {"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=0", "MALLOC_PERTURB_": "165"},
              "flags": ["--emit=loops,cubin,header", "-o", "k.cubin", "--remarks"]},  # loop IR on stdout
}

# Known and not fixed here: LowerTileOps.cpp keeps a variant's assumptions, and the
# conditions its remarks list, in maps keyed by address (`assumed_` and the `need`
# maps, std::map<const VarNode*, int64_t>). Another branch is splitting that file
# into copy strategies, so this one left it alone; which files show it changes with
# every build (it depends on where malloc puts the variables). Until the lead's
# follow-up keys those maps with ir::ById, a difference is tolerated when it can
# only be that: the file's kernels have assumptions (`assume` in its loop IR), and
# only the header, the loop IR and the messages differ, each only in the order of
# its lines and of the characters in them. --strict tolerates nothing; once it
# passes, delete this allowance.
ASSUMPTION_ORDER_OUTPUTS = {"header", "loop IR", "messages"}


def same_up_to_order(a, b):
    return sorted(sorted(line) for line in a.splitlines()) == sorted(sorted(line) for line in b.splitlines())


def assumption_order_only(base, other, whats):
    return (b"\n  assume " in base.get("loop IR", b"") and set(whats) <= ASSUMPTION_ORDER_OUTPUTS and
            all(same_up_to_order(base.get(w, b""), other.get(w, b"")) for w in whats))


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def key(path):
    return os.path.relpath(path, ROOT)


def outputs(tlc, source, env_extra, workdir, flags):
    """What `tlc FILE FLAGS` makes in one environment: {what: bytes}."""
    os.makedirs(workdir)
    env = dict(os.environ, NO_COLOR="1")
    env.pop("GLIBC_TUNABLES", None)
    env.pop("MALLOC_PERTURB_", None)
    env.update(env_extra)
    args = [tlc, source] + flags
    if "sm100" in os.path.basename(source):
        args.append("--arch=sm_100a")
    r = subprocess.run(args, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    got = {"exit status": str(r.returncode).encode(), "loop IR": r.stdout, "messages": r.stderr}
    for f, what in (("k.cubin", "cubin"), ("k.h", "header")):
        path = os.path.join(workdir, f)
        if os.path.exists(path):
            with open(path, "rb") as fh:
                got[what] = fh.read()
    return got


def check(tlc, source, perturbations, scratch):
    """The outputs that differ from a plain run's, per perturbation:
    {perturbation: ([what], only in the order of the assumptions)}."""
    plain = {}
    differ = {}
    for name in perturbations:
        flags = PERTURBATIONS[name]["flags"]
        form = " ".join(flags)
        if form not in plain:
            plain[form] = outputs(tlc, source, {}, os.path.join(scratch, "plain%d" % len(plain)), flags)
        base = plain[form]
        other = outputs(tlc, source, PERTURBATIONS[name]["env"], os.path.join(scratch, name), flags)
        whats = [w for w in sorted(set(base) | set(other)) if base.get(w) != other.get(w)]
        if whats:
            differ[name] = (whats, assumption_order_only(base, other, whats))
    return differ


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tlc", required=True)
    parser.add_argument("--thorough", action="append", default=[],
                        help="a directory whose files are also compiled under mmap0 (searched too)")
    parser.add_argument("--strict", action="store_true", help="tolerate no difference, not even in assumption order")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("dirs", nargs="*")
    args = parser.parse_args()
    tlc = os.path.abspath(args.tlc)

    jobs = {}  # source -> perturbations
    for d, thorough in [(d, False) for d in args.dirs] + [(d, True) for d in args.thorough]:
        if not os.path.isdir(d):
            print(f"note: {d} does not exist; skipped")
            continue
        for f in sorted(glob.glob(os.path.join(d, "**", "*.tl"), recursive=True)):
            f = os.path.abspath(f)
            jobs.setdefault(f, ["mmap64"])
            if thorough and "mmap0" not in jobs[f]:
                jobs[f].append("mmap0")
    if not jobs:
        print("nothing to test")
        return SKIP

    failures = []
    with tempfile.TemporaryDirectory(prefix="tlc-alloc-") as scratch:
        def one(item):
            index, (source, perturbations) = item
            return source, check(tlc, source, perturbations, os.path.join(scratch, str(index)))

        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            results = list(pool.map(one, enumerate(sorted(jobs.items()))))

    tolerated = []
    for source, differ in results:
        for p, (whats, order_only) in differ.items():
            line = f"{key(source)}: {', '.join(whats)} differ(s) under {p} ({PERTURBATIONS[p]['env']['GLIBC_TUNABLES']})"
            if order_only and not args.strict:
                tolerated.append(line)
            else:
                failures.append(line)
    for line in tolerated:
        print("XFAIL " + line + ": only the order of the assumptions (LowerTileOps.cpp, see ASSUMPTION_ORDER_OUTPUTS)")

    for f in failures:
        print("FAIL " + f)
    thorough = sum(1 for p in jobs.values() if "mmap0" in p)
    print(f"\n{len(jobs)} files under mmap64, {thorough} also under mmap0; "
          f"{len(tolerated)} tolerated differences; {len(failures)} problems")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
