#!/usr/bin/env python3
"""The expansion budgets (issue 17, src/ir/Limits.def) end the inputs that used to run
for minutes or take gigabytes: each is compiled here under a generous hang-catching
timeout, and its peak RSS (the child's own, from wait4) must stay under 2 GB.

- a chain of macros each calling the previous one twice, depth 18 (900 bytes; 12 GB
  and killed before): refused with the budget of expanded statements per kernel;
- a (128, 4096) float32 fragment, the documented per-thread cap, copied in, scaled in
  a Parallel loop and copied out (over 400 s before): compiles, its loops kept rolled;
  the header (which embeds the cubin) stays small;
- 10,000 small kernels in one file (past 100 s and 4.5 GB before): refused at the
  first kernel past the budget of kernels per file.

Speed is not asserted (it belongs in benchmarks); the timeout only catches a hang.
Usage: test_expansion_budgets.py --tlc build/tlc
"""
import argparse
import os
import signal
import sys
import tempfile
import time

HANG_SECONDS = 60
MAX_RSS_KB = 2 * 1024 * 1024


def macro_chain(depth):
    s = "macro m0(t: SharedBuffer((32,), float32)) { t[0] = t[0] + 1.0; }\n"
    for d in range(1, depth + 1):
        s += f"macro m{d}(t: SharedBuffer((32,), float32)) {{ m{d - 1}(t); m{d - 1}(t); }}\n"
    return s + (f"kernel k(A: Tensor((N,), float32)) {{\n  with Kernel(1, threads=128) as (bx) {{\n"
                f"    s = alloc_shared((32,), float32);\n    m{depth}(s);\n  }}\n}}\n")


def fragment(m, n, threads=128):
    return f"""kernel big(A: Tensor((M, N), float32), C: Tensor((M, N), float32), alpha: float32) {{
  with Kernel(ceildiv(N, {n}), ceildiv(M, {m}), threads={threads}) as (bx, by) {{
    a = alloc_fragment(({m}, {n}), float32);
    copy(A[by * {m}, bx * {n}], a);
    for i, j in Parallel({m}, {n}) {{
      a[i, j] = a[i, j] * alpha;
    }}
    copy(a, C[by * {m}, bx * {n}]);
  }}
}}
"""


def many_kernels(count):
    return "".join(f"""kernel k{i}(A: Tensor((N,), float32), B: Tensor((N,), float32)) {{
  with Kernel(ceildiv(N, 256), threads=128) as (bx) {{
    s = alloc_shared((256,), float32);
    copy(A[bx * 256], s);
    copy(s, B[bx * 256]);
  }}
}}
""" for i in range(count))


def run(cmd, cwd):
    """(exit status or None on a hang, peak RSS in KB, stderr text) of one tlc run."""
    err_path = os.path.join(cwd, "stderr.txt")
    with open(err_path, "wb") as err, open(os.devnull, "wb") as out:
        pid = os.fork()
        if pid == 0:
            os.chdir(cwd)
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            try:
                os.execv(cmd[0], cmd)
            finally:
                os._exit(127)
    deadline = time.monotonic() + HANG_SECONDS
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            _, status, usage = os.wait4(pid, 0)
            return None, usage.ru_maxrss, open(err_path, errors="replace").read()
        time.sleep(0.05)
    code = os.waitstatus_to_exitcode(status)
    return code, usage.ru_maxrss, open(err_path, errors="replace").read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tlc", required=True)
    args = ap.parse_args()
    tlc = os.path.abspath(args.tlc)
    failures = []
    cases = [
        ("macro chain of depth 18", "chain.tl", macro_chain(18), 1,
         ["chain.tl:1:45: error: this statement brings kernel 'k' to 4097 statements after expansion, "
          "past the budget of 4096 expanded statements per kernel", "in the expansion of macro 'm18' here"]),
        ("(128, 4096) float32 fragment", "frag.tl", fragment(128, 4096), 0, []),
        ("10,000 kernels in one file", "many.tl", many_kernels(10000), 1,
         ["many.tl:28673:8: error: kernel 'k4096' is kernel number 4097 of this file; a file holds at most "
          "4096 kernels (the budget of kernels per file)"]),
    ]
    for what, name, text, want_code, want_messages in cases:
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, name), "w") as f:
                f.write(text)
            start = time.monotonic()
            code, rss_kb, err = run([tlc, name, "-o", "k.cubin"], tmp)
            seconds = time.monotonic() - start
            print(f"{what}: exit {code}, {seconds:.2f} s, peak RSS {rss_kb / 1024:.0f} MB")
            if code is None:
                failures.append(f"{what}: still running after {HANG_SECONDS} s (killed)")
                continue
            if code != want_code:
                failures.append(f"{what}: exit {code}, expected {want_code}\n{err[:2000]}")
            if rss_kb >= MAX_RSS_KB:
                failures.append(f"{what}: peak RSS {rss_kb / 1024:.0f} MB, not under 2 GB")
            for m in want_messages:
                if m not in err:
                    failures.append(f"{what}: the diagnostic lacks '{m}'; it was:\n{err[:2000]}")
            if want_code == 0:
                for out in ("k.cubin", "k.h"):
                    if not os.path.isfile(os.path.join(tmp, out)):
                        failures.append(f"{what}: no {out} written")
                header = os.path.join(tmp, "k.h")
                # The header embeds the cubin: unrolled, this one was 4.8 MB at (128, 2048).
                if os.path.isfile(header) and os.path.getsize(header) > 512 * 1024:
                    failures.append(f"{what}: the header is {os.path.getsize(header)} bytes (loops unrolled?)")
    for f in failures:
        print("FAIL:", f)
    print("ok" if not failures else f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
