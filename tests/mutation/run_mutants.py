#!/usr/bin/env python3
# Mutation testing of tlc (issue 25): applies each mutant of tests/mutation/mutants.py
# (one small source edit), rebuilds, runs the CPU suite (CTest), records whether a test
# failed (killed) or none did (survived), and always restores the file. Results go to
# a JSON-lines log (one line per mutant, so an interrupted run resumes) and a markdown
# table. Run from a clean checkout with a configured build directory:
#
#   tests/mutation/run_mutants.py --build build                      # full CPU suite
#   tests/mutation/run_mutants.py --build build --tests 'unit|golden' # a faster subset
#   tests/mutation/run_mutants.py --check                            # snippets only
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from mutants import MUTANTS  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
JOBS = 1


def read(path):
    with open(os.path.join(REPO, path), encoding="utf-8") as f:
        return f.read()


def write(path, text):
    with open(os.path.join(REPO, path), "w", encoding="utf-8") as f:
        f.write(text)


def restore(path):
    # git, not a saved copy: whatever happened to the file, it ends as committed.
    subprocess.run(["git", "checkout", "--", path], cwd=REPO, check=True)


def check(m):
    """None if the mutant applies, else why not."""
    if not os.path.exists(os.path.join(REPO, m["file"])):
        return "no file " + m["file"]
    n = read(m["file"]).count(m["before"])
    if n != 1:
        return "snippet occurs %d times in %s" % (n, m["file"])
    if m["before"] == m["after"]:
        return "replacement equals the original"
    return None


def dirty(path):
    return subprocess.run(["git", "diff", "--quiet", "HEAD", "--", path], cwd=REPO).returncode != 0


FAILED = re.compile(r"Test\s+#\d+:\s+(\S+)\s+\.*\s*\**(Failed|Timeout|Exception|Not Run|SEGFAULT|Subprocess)")


def run_ctest(build, tests, exclude, timeout, total_timeout):
    cmd = ["ctest", "--test-dir", build, "--stop-on-failure", "--timeout", str(timeout), "-j", str(JOBS)]
    if tests:
        cmd += ["-R", tests]
    if exclude:
        cmd += ["-E", exclude]
    t = time.time()
    try:
        p = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=total_timeout)
        out, rc = p.stdout, p.returncode
    except subprocess.TimeoutExpired as e:
        return "killed", "suite timeout", time.time() - t
    failed = [m.group(1) for m in FAILED.finditer(out)]
    if rc == 0:
        return "survived", "", time.time() - t
    if failed:
        return "killed", failed[0], time.time() - t
    if "No tests were found" in out:
        raise SystemExit("ctest found no tests matching " + repr(tests))
    return "killed", "ctest rc %d" % rc, time.time() - t


def build_targets(build, targets, timeout):
    cmd = ["ninja", "-C", build] + targets
    try:
        p = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, "build timeout"
    return p.returncode == 0, p.stdout[-2000:]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", default="build", help="configured build directory (Ninja)")
    ap.add_argument("--tests", default="", help="ctest -R regex (default: the whole CPU suite)")
    ap.add_argument("--exclude", default="", help="ctest -E regex")
    ap.add_argument("--targets", default="", help="ninja targets to rebuild (default: all)")
    ap.add_argument("--only", default="", help="comma-separated mutant ids, or a regex over ids")
    ap.add_argument("--timeout", type=int, default=300, help="per-test ctest timeout, seconds")
    ap.add_argument("--suite-timeout", type=int, default=1800, help="whole-suite timeout per mutant, seconds")
    ap.add_argument("--log", default=os.path.join(HERE, "results.jsonl"), help="JSON-lines results (appended)")
    ap.add_argument("--resume", action="store_true", help="skip mutants already in the log for this --tests")
    ap.add_argument("--no-baseline", action="store_true", help="skip the unmutated run")
    ap.add_argument("--check", action="store_true", help="only check that every mutant applies")
    ap.add_argument("--table", action="store_true", help="print the markdown table of the log and exit")
    ap.add_argument("-j", "--jobs", type=int, default=1, help="ctest -j")
    args = ap.parse_args()
    global JOBS
    JOBS = args.jobs

    if args.table:
        print_table(args.log)
        return 0

    mutants = MUTANTS
    if args.only:
        ids = args.only.split(",")
        byid = {m["id"]: m for m in MUTANTS}
        if all(i in byid for i in ids):
            mutants = [byid[i] for i in ids]  # in the order given
        else:
            mutants = [m for m in MUTANTS if re.fullmatch(args.only, m["id"])]
    seen_ids = set()
    bad = 0
    for m in MUTANTS:
        if m["id"] in seen_ids:
            print("duplicate id", m["id"]); bad += 1
        seen_ids.add(m["id"])
        why = check(m)
        if why:
            print("%s: %s" % (m["id"], why)); bad += 1
    if bad:
        return 2
    if args.check:
        print("%d mutants apply" % len(MUTANTS))
        return 0

    for path in sorted({m["file"] for m in mutants}):
        if dirty(path):
            raise SystemExit(path + " has local changes: commit or stash them first (it is restored with git checkout)")

    build = os.path.abspath(os.path.join(REPO, args.build)) if not os.path.isabs(args.build) else args.build
    targets = args.targets.split() if args.targets else []
    done = set()
    if args.resume and os.path.exists(args.log):
        for line in open(args.log):
            r = json.loads(line)
            if r.get("tests") == args.tests:
                done.add(r["id"])

    # Ctrl-C or a kill: restore first, then stop.
    current = {"file": None}

    def on_signal(signum, frame):
        if current["file"]:
            restore(current["file"])
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_signal)

    if not args.no_baseline:
        ok, out = build_targets(build, targets, args.suite_timeout)
        if not ok:
            raise SystemExit("the unmutated tree does not build:\n" + out)
        verdict, first, secs = run_ctest(build, args.tests, args.exclude, args.timeout, args.suite_timeout)
        print("baseline: %s in %.0f s%s" % ("passes" if verdict == "survived" else "FAILS", secs,
                                            "" if verdict == "survived" else " (" + first + ")"), flush=True)
        if verdict != "survived":
            raise SystemExit("the unmutated suite fails: a mutant's failure would mean nothing")

    for m in mutants:
        if m["id"] in done:
            continue
        text = read(m["file"])
        t0 = time.time()
        current["file"] = m["file"]
        try:
            write(m["file"], text.replace(m["before"], m["after"], 1))
            ok, out = build_targets(build, targets, args.suite_timeout)
            if not ok:
                verdict, first, secs = "killed", "compiler", 0.0
            else:
                verdict, first, secs = run_ctest(build, args.tests, args.exclude, args.timeout, args.suite_timeout)
        finally:
            restore(m["file"])
            current["file"] = None
        r = dict(id=m["id"], file=m["file"], what=m["what"], verdict=verdict, first=first,
                 tests=args.tests, seconds=round(time.time() - t0))
        with open(args.log, "a") as f:
            f.write(json.dumps(r) + "\n")
        print("%-28s %-8s %s (%d s)" % (m["id"], verdict, first, r["seconds"]), flush=True)

    # Leave the build matching the restored sources.
    build_targets(build, targets, args.suite_timeout)
    print_table(args.log)
    return 0


def print_table(log):
    rows = {}
    for line in open(log):
        r = json.loads(line)
        rows[(r["id"], r["tests"])] = r  # the latest run of a mutant under a subset wins
    order = {m["id"]: i for i, m in enumerate(MUTANTS)}
    rows = sorted(rows.values(), key=lambda r: (order.get(r["id"], 1 << 30), r["tests"]))
    print("| mutant | file | edit | suite | verdict | first failing test |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print("| %s | %s | %s | %s | %s | %s |" % (r["id"], r["file"], r["what"], (r["tests"] or "full").replace("|", "\\|"),
                                                  r["verdict"], r["first"] or "-"))
    latest = {}
    for r in rows:
        latest.setdefault(r["id"], []).append(r)
    killed = sum(1 for rs in latest.values() if any(r["verdict"] == "killed" for r in rs))
    print("\n%d of %d mutants killed (%.0f%%)" % (killed, len(latest), 100.0 * killed / max(1, len(latest))))


if __name__ == "__main__":
    sys.exit(main())
