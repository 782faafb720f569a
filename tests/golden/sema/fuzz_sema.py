#!/usr/bin/env python3
"""Fuzz pass for semantic analysis: mutate .tl inputs token by token and make sure tlc
never crashes on them.

Each variant is one of three kinds, in turn:
  - one to three random token edits (delete a token, duplicate one, swap two
    neighbours, replace one with a token from elsewhere in the seeds, insert one);
  - one to three names, numbers or strings replaced by others of the same class,
    which keeps the syntax valid and so reaches the semantic analysis;
  - one or two numbers replaced by sizes (1, 3, 33, 127, 1024, ...), which mostly
    keeps a program valid and so exercises lowering with odd sizes (--emit=ptx).
tlc runs on every variant (`--emit=ir` by default); the outcome must be exit 0 or 1,
with no "internal compiler error" in the output and no signal. With a sanitizer
build of tlc (-fsanitize=address,undefined), a sanitizer report counts as a crash
too. A failing variant is written to the output directory as crash_<n>.tl.

Not a golden test (the golden runner only runs *.tl files); run it by hand:

  tests/golden/sema/fuzz_sema.py --tlc build/tlc --count 2000 [--seed 1] [--emit ir] [--out DIR] SEEDS...

SEEDS are .tl files or directories (default: tests/golden/sema and the examples).
Exit status 1 when any variant crashed.
"""

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile

# Comments, strings, numbers, names, multi-character operators, then any one character.
TOKEN = re.compile(
    r"//[^\n]*|/\*.*?\*/|\"[^\"\n]*\"|\d+\.\d*(?:[eE][-+]?\d+)?|\d+|[A-Za-z_][A-Za-z_0-9.]*"
    r"|\*\*|//|<<|>>|<=|>=|==|!=|\+=|-=|\*=|->|\S",
    re.S,
)


def seed_files(paths):
    out = []
    for p in paths:
        if os.path.isdir(p):
            for root, _, files in os.walk(p):
                out += [os.path.join(root, f) for f in sorted(files) if f.endswith(".tl")]
        elif p.endswith(".tl"):
            out.append(p)
    return out


def tokens_of(text):
    # Keep comments out of the edits: they only carry test directives.
    return [m for m in TOKEN.finditer(text) if not m.group(0).startswith(("//", "/*"))]


def token_class(tok):
    if tok.startswith('"'):
        return "string"
    if tok[0].isdigit():
        return "number"
    if tok[0].isalpha() or tok[0] == "_":
        return "name"
    return None


def mutate_same_class(text, classes, rng):
    for _ in range(rng.randint(1, 3)):
        toks = [t for t in tokens_of(text) if token_class(t.group(0))]
        if not toks:
            return text
        t = rng.choice(toks)
        text = text[: t.start()] + rng.choice(classes[token_class(t.group(0))]) + text[t.end():]
    return text


SIZES = ["1", "2", "3", "4", "7", "8", "16", "31", "32", "33", "64", "96", "100", "127", "128", "256", "1000", "1024"]


def mutate_numbers(text, rng):
    for _ in range(rng.randint(1, 2)):
        toks = [t for t in tokens_of(text) if token_class(t.group(0)) == "number"]
        if not toks:
            return text
        t = rng.choice(toks)
        text = text[: t.start()] + rng.choice(SIZES) + text[t.end():]
    return text


def mutate(text, pool, rng):
    for _ in range(rng.randint(1, 3)):
        toks = tokens_of(text)
        if not toks:
            return text
        i = rng.randrange(len(toks))
        t = toks[i]
        op = rng.choice(["delete", "duplicate", "swap", "replace", "insert"])
        if op == "delete":
            text = text[: t.start()] + text[t.end():]
        elif op == "duplicate":
            text = text[: t.end()] + " " + t.group(0) + text[t.end():]
        elif op == "swap" and i + 1 < len(toks):
            u = toks[i + 1]
            text = text[: t.start()] + u.group(0) + text[t.end(): u.start()] + t.group(0) + text[u.end():]
        elif op == "replace":
            text = text[: t.start()] + rng.choice(pool) + text[t.end():]
        else:
            text = text[: t.start()] + rng.choice(pool) + " " + text[t.start():]
    return text


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tlc", required=True)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--emit", default="ir", help="the --emit stage to run to (default ir; ptx also runs lowering and LLVM)")
    ap.add_argument("--out", default=None, help="where crash_<n>.tl files go (default: a temp dir)")
    ap.add_argument("paths", nargs="*")
    args = ap.parse_args()

    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.normpath(os.path.join(here, "..", "..", ".."))
    paths = args.paths or [here, os.path.join(repo, "examples"), os.path.join(repo, "tests", "golden", "lower")]
    seeds = [(f, open(f, encoding="utf-8", errors="replace").read()) for f in seed_files(paths)]
    if not seeds:
        sys.exit("no seed files")
    pool = sorted({m.group(0) for _, text in seeds for m in tokens_of(text)})
    pool += ["0", "-1", "1", "2147483647", "2147483648", "9223372036854775807", "4294967296", "99999999999", "()", "[", "]", ":", ",", "=", "float4_e2m1fn",
             "float8_e5m2", "bool", "int64", "\"shared\"", "\"local\"", "\"global\"", "\"tma\"", "True"]
    classes = {}
    for tok in pool:
        if token_class(tok):
            classes.setdefault(token_class(tok), []).append(tok)
    rng = random.Random(args.seed)
    out_dir = args.out or tempfile.mkdtemp(prefix="tlc-fuzz-")
    os.makedirs(out_dir, exist_ok=True)
    crashes = 0
    accepted = 0
    with tempfile.TemporaryDirectory() as work:
        variant = os.path.join(work, "variant.tl")
        for n in range(args.count):
            name, text = rng.choice(seeds)
            kind = n % 3
            mutated = (mutate(text, pool, rng) if kind == 0 else mutate_same_class(text, classes, rng) if kind == 1
                       else mutate_numbers(text, rng))
            with open(variant, "w", encoding="utf-8") as f:
                f.write(mutated)
            try:
                r = subprocess.run([args.tlc, variant, "--emit=" + args.emit, "-o", os.devnull],
                                   capture_output=True, text=True, errors="replace", timeout=30)
                output = r.stdout + r.stderr
                bad = None
                if r.returncode < 0:
                    bad = f"signal {-r.returncode}"
                elif r.returncode not in (0, 1):
                    bad = f"exit {r.returncode}"
                elif "internal compiler error" in output:
                    bad = "internal compiler error"
                elif "runtime error:" in output or "AddressSanitizer" in output:
                    bad = "sanitizer report"  # a build with -fsanitize=address,undefined
                accepted += r.returncode == 0
            except subprocess.TimeoutExpired:
                bad, output = "timeout", ""
            if bad:
                crashes += 1
                path = os.path.join(out_dir, f"crash_{crashes}.tl")
                with open(path, "w", encoding="utf-8") as f:
                    f.write(mutated)
                print(f"{bad}: {path} (from {name})")
                for line in output.splitlines()[-4:]:
                    print("    " + line)
    print(f"{args.count} variants, {accepted} accepted, {crashes} crashed" +
          (f"; reproducers in {out_dir}" if crashes else ""))
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
