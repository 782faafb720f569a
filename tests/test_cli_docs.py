#!/usr/bin/env python3
"""docs/cli.md and `tlc --help` name the same options.

Every option in the option column of --help (the words starting with `-` before the
description) must appear in docs/cli.md, and every option in the first column of
docs/cli.md's option table must appear somewhere in --help.

Usage: test_cli_docs.py --tlc build/tlc docs/cli.md
"""

import argparse
import re
import subprocess
import sys

OPTION = re.compile(r"(?<![\w<-])(--?[A-Za-z][A-Za-z0-9-]*(?:<name>)?)")


def options_in(text):
    return {m.group(1).rstrip("-") if not m.group(1).endswith("-<name>") else m.group(1)
            for m in OPTION.finditer(text)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tlc", required=True)
    parser.add_argument("doc")
    args = parser.parse_args()
    help_text = subprocess.run([args.tlc, "--help"], stdout=subprocess.PIPE, check=True).stdout.decode()
    with open(args.doc) as f:
        doc = f.read()

    # --help: the option column is what precedes two spaces on an indented line
    # starting with '-' (a long option may take the whole line).
    in_help = set()
    for line in help_text.splitlines():
        m = re.match(r"^  (-\S.*?)(?:\s{2,}|$)", line)
        if m:
            in_help |= options_in(m.group(1))
    # docs/cli.md: the first column of table rows whose first cell starts with `-.
    in_doc = set()
    for line in doc.splitlines():
        m = re.match(r"^\|\s*(`-[^|]*?(?:\\\|[^|]*?)*)\s*\|", line)
        if m:
            in_doc |= options_in(m.group(1))

    problems = []
    for option in sorted(in_help):
        if option not in doc:
            problems.append(f"--help lists {option}, docs/cli.md does not")
    for option in sorted(in_doc):
        if option not in help_text:
            problems.append(f"docs/cli.md documents {option}, --help does not mention it")
    for p in problems:
        print("FAIL " + p)
    print(f"{len(in_help)} options in --help, {len(in_doc)} in docs/cli.md; {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
