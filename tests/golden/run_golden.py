#!/usr/bin/env python3
"""Golden tests: run tlc on every .tl file under the given directories and check its
output against the file's own `// CHECK` lines, FileCheck-style.

Directives, each on a `//` comment line of the .tl file:

  // RUN: <args>        tlc's arguments (a leading `tlc` is optional). `%s` is the
                        file's name and `%t` a fresh empty directory. tlc runs in
                        the file's directory, so diagnostics read `fail_x.tl:3:5: ...`.
                        Default: `%s --emit=ast`. At most one RUN line per file.
  // EXIT: <n>          the expected exit code. Default: 1 for files named fail_*.tl,
                        else 0.
  // CHECK: <text>      a line at or after the previous match contains <text>.
  // CHECK-NEXT: <text> the line right after the previous match contains <text>.
  // CHECK-NOT: <text>  no line between the previous match and the next one (or the
                        end of the output) contains <text>.
  // UPDATE: all        --update may rewrite this file's CHECK lines (see below).

<text> is matched literally (leading and trailing spaces dropped) except inside
`{{...}}`, which is a Python regular expression. Output is stdout and stderr together,
in the order tlc wrote them.

Update mode (`--update`): for every fail_*.tl file and every file marked
`// UPDATE: all` whose exit code is the expected one, replace all its CHECK lines
with a block at the end of the file holding every non-empty output line (CHECK for
the first line, CHECK-NEXT for the lines that follow it directly, then
`CHECK-NOT: {{.}}`: nothing more), and print a diff, so a reviewer sees the change
in git. Such a file pins its whole output. Other files have hand-picked CHECK lines
that no output can regenerate: they are only checked, and one that fails says so
(fix its CHECK lines by hand, or mark it `// UPDATE: all`).

Usage: run_golden.py --tlc build/tlc [--update] [-v] [DIR_OR_FILE ...]
"""

import argparse
import difflib
import os
import re
import shlex
import subprocess
import sys
import tempfile

DIRECTIVE = re.compile(r"^\s*//\s*(RUN|EXIT|CHECK|CHECK-NEXT|CHECK-NOT|UPDATE):(.*)$")
TIMEOUT_SECONDS = 120


class TestFileError(Exception):
    """The .tl file's directives are malformed."""


class Check:
    def __init__(self, kind, text, line_number):
        self.kind = kind  # "CHECK", "CHECK-NEXT" or "CHECK-NOT"
        self.text = text
        self.line_number = line_number
        self.regex = pattern_to_regex(text)

    def matches(self, line):
        return self.regex.search(line) is not None

    def __str__(self):
        return f"{self.kind}: {self.text}  (line {self.line_number})"


def pattern_to_regex(text):
    parts = re.split(r"\{\{(.*?)\}\}", text)
    # re.split with one group alternates literal, regex, literal, ...
    source = "".join(part if i % 2 else re.escape(part) for i, part in enumerate(parts))
    try:
        return re.compile(source)
    except re.error as error:
        raise TestFileError(f"bad regular expression in '{text}': {error}")


def escape_for_check(line):
    """A literal output line as CHECK text: `{{` would start a regex, so quote it."""
    return line.replace("{{", "{{\\{\\{}}")


class GoldenFile:
    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            self.text = f.read()
        self.run_args = None
        self.expected_exit = 1 if self.name.startswith("fail_") else 0
        self.checks = []
        self.updatable = self.name.startswith("fail_")  # --update may rewrite its CHECK lines
        for number, line in enumerate(self.text.splitlines(), 1):
            match = DIRECTIVE.match(line)
            if not match:
                continue
            kind, value = match.group(1), match.group(2).strip()
            if kind == "RUN":
                if self.run_args is not None:
                    raise TestFileError(f"line {number}: more than one RUN line")
                self.run_args = shlex.split(value)
                if self.run_args[:1] == ["tlc"]:
                    self.run_args = self.run_args[1:]
            elif kind == "EXIT":
                if not value.isdigit():
                    raise TestFileError(f"line {number}: EXIT needs a number, got '{value}'")
                self.expected_exit = int(value)
            elif kind == "UPDATE":
                if value != "all":
                    raise TestFileError(f"line {number}: UPDATE takes 'all', got '{value}'")
                self.updatable = True
            else:
                if kind == "CHECK-NEXT" and not any(c.kind != "CHECK-NOT" for c in self.checks):
                    raise TestFileError(f"line {number}: CHECK-NEXT without a CHECK before it")
                self.checks.append(Check(kind, value, number))
        if self.run_args is None:
            self.run_args = ["%s", "--emit=ast"]

    def command(self, tlc, temp_dir):
        args = [a.replace("%s", self.name).replace("%t", temp_dir) for a in self.run_args]
        return [tlc] + args


def run_tlc(tlc, golden):
    with tempfile.TemporaryDirectory(prefix="tlc-golden-") as temp_dir:
        command = golden.command(tlc, temp_dir)
        env = dict(os.environ, NO_COLOR="1", TERM="dumb")
        try:
            result = subprocess.run(command, cwd=os.path.dirname(golden.path) or ".",
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    env=env, timeout=TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            return command, None, f"(timed out after {TIMEOUT_SECONDS} s)"
        output = result.stdout.decode("utf-8", errors="replace")
        return command, result.returncode, output


def match_checks(checks, output):
    """Returns None when every check holds, else a message saying which failed."""
    lines = output.splitlines()
    position = 0         # the first line the next CHECK may match
    last_match = None    # the line the previous CHECK or CHECK-NEXT matched
    pending_not = []

    def violated_not(begin, end):
        for check in pending_not:
            for i in range(begin, end):
                if check.matches(lines[i]):
                    return f"{check}\n  matched output line {i + 1}: {lines[i]}"
        return None

    for check in checks:
        if check.kind == "CHECK-NOT":
            pending_not.append(check)
            continue
        if check.kind == "CHECK-NEXT":
            found = last_match + 1 if last_match is not None and last_match + 1 < len(lines) else None
            if found is None or not check.matches(lines[found]):
                actual = lines[found] if found is not None else "(end of output)"
                return f"{check}\n  the next line is: {actual}"
        else:
            found = next((i for i in range(position, len(lines)) if check.matches(lines[i])), None)
            if found is None:
                after = f"after output line {position}" if position else "in the output"
                return f"{check}\n  not found {after}"
        problem = violated_not(position, found)
        if problem:
            return problem
        pending_not = []
        position = found + 1
        last_match = found
    return violated_not(position, len(lines))


def describe_exit(code):
    if code is None:
        return "no exit (timeout)"
    if code < 0:
        return f"killed by signal {-code}"
    return f"exit {code}"


def check_file(tlc, golden):
    """Returns (passed, report)."""
    command, code, output = run_tlc(tlc, golden)
    problems = []
    if code != golden.expected_exit:
        problems.append(f"expected exit {golden.expected_exit}, got {describe_exit(code)}")
    mismatch = match_checks(golden.checks, output)
    if mismatch:
        problems.append(mismatch)
    if not problems:
        return True, ""
    shown = output.splitlines()
    if len(shown) > 80:
        shown = shown[:80] + [f"... ({len(shown) - 80} more lines)"]
    report = [f"FAIL {golden.path}",
              f"  command (in {os.path.dirname(golden.path) or '.'}): {shlex.join(command)}"]
    report += ["  " + line for p in problems for line in p.splitlines()]
    report.append("  output:")
    report += ["    | " + line for line in shown]
    if golden.updatable:
        report.append("  (if the new output is right: run_golden.py --update, then review the diff)")
    else:
        report.append("  (hand-written CHECK lines: --update leaves them; fix them by hand, or mark the"
                      " file `// UPDATE: all` to pin its whole output)")
    return False, "\n".join(report)


def checks_block(output):
    block = []
    previous_was_checked = False
    for line in output.splitlines():
        if not line.strip():
            previous_was_checked = False
            continue
        kind = "CHECK-NEXT" if previous_was_checked else "CHECK"
        block.append(f"// {kind}: {escape_for_check(line.strip())}")
        previous_was_checked = True
    block.append("// CHECK-NOT: {{.}}")  # and nothing after the last line
    return block


def is_check_line(line):
    match = DIRECTIVE.match(line)
    return match is not None and match.group(1).startswith("CHECK")


def without_checks(text):
    lines = [line for line in text.splitlines() if not is_check_line(line)]
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def update_file(tlc, golden):
    """Rewrites an updatable file's CHECK block from tlc's output.

    The block goes at the end so the code keeps its line numbers; tlc runs again on
    the rewritten file until the output is stable (an error at the end of the file
    moves with the block's length once). Returns (status, message)."""
    original = golden.text
    body = without_checks(original)
    new_text = original
    for _ in range(4):
        command, code, output = run_tlc(tlc, golden)
        if code != golden.expected_exit:
            golden.text = original
            with open(golden.path, "w", encoding="utf-8", errors="surrogateescape") as f:
                f.write(original)
            return "error", (f"NOT UPDATED {golden.path}: expected exit {golden.expected_exit}, "
                             f"got {describe_exit(code)}\n" + output)
        new_text = "\n".join(body + [""] + checks_block(output)) + "\n"
        if new_text == golden.text:
            break
        with open(golden.path, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(new_text)
        golden.text = new_text
    if new_text == original:
        return "same", ""
    diff = difflib.unified_diff(original.splitlines(), new_text.splitlines(),
                                golden.path + " (before)", golden.path + " (after)", lineterm="")
    return "updated", "\n".join(diff)


def collect(paths):
    files = []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, names in os.walk(path):
                dirs.sort()
                files += [os.path.join(root, n) for n in sorted(names) if n.endswith(".tl")]
        elif path.endswith(".tl"):
            files.append(path)
        else:
            raise SystemExit(f"run_golden.py: not a directory or .tl file: {path}")
    return files


def main():
    parser = argparse.ArgumentParser(description="Run tlc's golden tests (see the module docstring).")
    parser.add_argument("--tlc", default=os.environ.get("TLC", "build/tlc"), help="the tlc binary")
    parser.add_argument("--update", action="store_true",
                        help="rewrite the CHECK lines of fail_*.tl files and files marked "
                             "`// UPDATE: all` from the actual output")
    parser.add_argument("-v", "--verbose", action="store_true", help="name every file that passes")
    parser.add_argument("paths", nargs="*", help="directories or .tl files (default: this directory)")
    options = parser.parse_args()

    tlc = os.path.abspath(options.tlc)
    if not os.access(tlc, os.X_OK):
        print(f"run_golden.py: tlc not found at {tlc} (build it, or pass --tlc)", file=sys.stderr)
        return 2
    files = collect(options.paths or [os.path.dirname(os.path.abspath(__file__))])
    if not files:
        print("run_golden.py: no .tl files found")
        return 0

    passed, failed, updated = 0, [], 0
    for path in files:
        try:
            golden = GoldenFile(path)
        except (TestFileError, OSError) as error:
            failed.append(path)
            print(f"FAIL {path}: {error}")
            continue
        except ValueError as error:  # shlex: unbalanced quotes
            failed.append(path)
            print(f"FAIL {path}: RUN line: {error}")
            continue
        if options.update and golden.updatable:
            status, message = update_file(tlc, golden)
            if status == "updated":
                updated += 1
                print(message)
            elif status == "error":
                failed.append(path)
                print(message)
                continue
            golden = GoldenFile(path)  # the new CHECK lines
        ok, report = check_file(tlc, golden)
        if ok:
            passed += 1
            if options.verbose:
                print(f"PASS {path}")
        else:
            failed.append(path)
            print(report)

    summary = f"{passed} passed, {len(failed)} failed, {len(files)} golden files"
    if options.update:
        summary += f"; {updated} updated"
    print(summary)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
