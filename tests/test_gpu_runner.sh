#!/usr/bin/env bash
# GPU runner tests without a GPU: tests/gpu/run_all.sh on a fake .gpu/ folder whose
# bin/ holds shell scripts standing in for test programs. run_all.sh must fail (exit
# status, a FAIL row, no "ALL PASS") for a configuration whose binary is missing, a
# program that exits 0 without a RESULT row, one that crashes, one that exits 1
# without a FAIL row, and a missing configs.txt; and pass when everything passes. With
# RUN_ALL_BUDGET_S, what did not run fails the run too, and the table is still printed.
#
# Usage: tests/test_gpu_runner.sh [repo-root]
set -u

ROOT=$(realpath "${1:-$(dirname "$0")/..}")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tlc-gpu-runner.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

failures=0
checks=0
pass() { checks=$((checks + 1)); echo "PASS $1"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && sed 's/^/    | /' <<<"$2"; }

# fake_program <dir> <name> <body>: bin/<name>, a shell script with that body.
fake_program() {
  printf '#!/bin/sh\n%s\n' "$3" >"$1/bin/$2"
  chmod +x "$1/bin/$2"
}

# make_gpu <dir> <config names...>: a .gpu folder with run_all.sh, configs.txt listing
# the names plus header_selftest and ceiling, a ceiling that reports 3000 GB/s and a
# passing header_selftest.
make_gpu() {
  local dir="$1"
  shift
  mkdir -p "$dir/bin"
  cp "$ROOT/tests/gpu/run_all.sh" "$dir/run_all.sh"
  printf '%s\n' "$@" header_selftest ceiling >"$dir/configs.txt"
  fake_program "$dir" ceiling 'echo "CEILING|3000.0"; echo "RESULT|ceiling|512 MiB|PASS|-|1.0|3000.0|100.0|-"'
  fake_program "$dir" header_selftest 'echo "RESULT|header_selftest|launch|PASS|0|-|-|-|-"'
}

# run_runner <dir> [filter]: runs run_all.sh there (no nvidia-smi needed), leaving the
# exit status in $rc and everything it printed in $out.
run_runner() {
  out=$(OUT= bash "$1/run_all.sh" ${2:+"$2"} 2>&1)
  rc=$?
}

# expect_failed <description> <row pattern>: the run failed, said so, and has the row.
expect_failed() {
  if [ $rc -eq 0 ]; then
    fail "$1: exit status 0" "$out"
  elif grep -q '^ALL PASS' <<<"$out"; then
    fail "$1: printed ALL PASS" "$out"
  elif ! grep -q 'SOME FAILED' <<<"$out"; then
    fail "$1: no SOME FAILED line" "$out"
  elif ! grep -qE "$2" <<<"$out"; then
    fail "$1: no row matching '$2'" "$out"
  else
    pass "$1"
  fi
}

passing='echo "RESULT|good|8x8|PASS|0|0.0100|10.0|0.3|tile_copy_v0"'

# Everything passes: the baseline the failures below differ from by one program.
make_gpu "$WORK/ok" good
fake_program "$WORK/ok" good "$passing"
run_runner "$WORK/ok"
if [ $rc -eq 0 ] && grep -q '^ALL PASS' <<<"$out" && grep -q '| good | 8x8 | PASS |' <<<"$out"; then
  pass "all programs pass: ALL PASS, exit 0"
else
  fail "all programs pass: expected ALL PASS and exit 0 (exit $rc)" "$out"
fi

# A configuration that was asked for but has no binary (it failed to build).
make_gpu "$WORK/missing" good absent
fake_program "$WORK/missing" good "$passing"
run_runner "$WORK/missing"
expect_failed "missing binary" '^\| absent \| \(binary missing: failed to build\) \| FAIL \|'

# A program that exits 0 but prints no RESULT row.
make_gpu "$WORK/silent" good silent
fake_program "$WORK/silent" good "$passing"
fake_program "$WORK/silent" silent 'echo "nothing to report"; exit 0'
run_runner "$WORK/silent"
expect_failed "silent program" '^\| silent \| \(exit 0 without a RESULT row\) \| FAIL \|'

# A program that crashes after a passing row.
make_gpu "$WORK/crash" good crash
fake_program "$WORK/crash" good "$passing"
fake_program "$WORK/crash" crash 'echo "RESULT|crash|8x8|PASS|0|-|-|-|v0"; kill -SEGV $$'
run_runner "$WORK/crash"
expect_failed "crashing program" '^\| crash \| \(crashed, exit 139\) \| FAIL \|'

# A program that exits 1 with only PASS rows (it failed somewhere it did not report).
make_gpu "$WORK/exit1" good quiet_failure
fake_program "$WORK/exit1" good "$passing"
fake_program "$WORK/exit1" quiet_failure 'echo "RESULT|quiet_failure|8x8|PASS|0|-|-|-|v0"; exit 1'
run_runner "$WORK/exit1"
expect_failed "exit 1 without a FAIL row" '^\| quiet_failure \| \(exit 1 without a FAIL row\) \| FAIL \|'

# A FAIL row from a program that still exits 0.
make_gpu "$WORK/failrow" good liar
fake_program "$WORK/failrow" good "$passing"
fake_program "$WORK/failrow" liar 'echo "RESULT|liar|8x8|FAIL|1|-|-|-|v0"; exit 0'
run_runner "$WORK/failrow"
expect_failed "FAIL row with exit 0" '^\| liar \| 8x8 \| FAIL \|'

# The ceiling did not build: no percentages, and the run fails.
make_gpu "$WORK/noceiling" good
fake_program "$WORK/noceiling" good "$passing"
rm "$WORK/noceiling/bin/ceiling"
run_runner "$WORK/noceiling"
expect_failed "missing ceiling" '^\| ceiling \| \(binary missing: failed to build\) \| FAIL \|'

# A filter that leaves out the missing configuration does not fail for it.
run_runner "$WORK/missing" good
if [ $rc -eq 0 ] && grep -q '^ALL PASS' <<<"$out" && ! grep -q absent <<<"$out"; then
  pass "filter leaves out the missing configuration"
else
  fail "filter 'good': expected ALL PASS without 'absent' (exit $rc)" "$out"
fi

# No configs.txt: an old or hand-made folder cannot tell what is missing.
make_gpu "$WORK/noconfigs" good
fake_program "$WORK/noconfigs" good "$passing"
rm "$WORK/noconfigs/configs.txt"
run_runner "$WORK/noconfigs"
expect_failed "no configs.txt" 'no .*configs\.txt'

# A budget (RUN_ALL_BUDGET_S): a program that would start past it is not run and gets a
# NOT RUN row, one still running at it is cut short; the table of what ran is printed
# and the run is no pass.
make_gpu "$WORK/budget" slow good
fake_program "$WORK/budget" slow 'echo "RESULT|slow|8x8|PASS|0|-|-|-|v0"; sleep 30'
fake_program "$WORK/budget" good "$passing"
begin=$(date +%s)
out=$(OUT= RUN_ALL_BUDGET_S=8 bash "$WORK/budget/run_all.sh" 2>&1)
rc=$?
took=$(( $(date +%s) - begin ))
if [ $rc -ne 0 ] && [ $took -lt 20 ] && ! grep -q 'ALL PASS\|SOME FAILED' <<<"$out" &&
   grep -q '^NOT ALL RUN: 3 programs' <<<"$out" && grep -q '^| slow | 8x8 | PASS |' <<<"$out" &&
   grep -qE '^\| slow \| \(cut short at RUN_ALL_BUDGET_S=8 s\) \| NOT RUN \|' <<<"$out" &&
   grep -qE '^\| good \| \(not run: past RUN_ALL_BUDGET_S=8 s\) \| NOT RUN \|' <<<"$out"; then
  pass "budget: NOT RUN rows, the table printed, exit 1 (${took} s)"
else
  fail "budget: expected NOT RUN rows for slow and good, the table and exit 1 within 20 s (exit $rc, ${took} s)" "$out"
fi
# Within the budget nothing changes.
out=$(OUT= RUN_ALL_BUDGET_S=60 bash "$WORK/ok/run_all.sh" 2>&1)
rc=$?
if [ $rc -eq 0 ] && grep -q '^ALL PASS' <<<"$out" && ! grep -q 'NOT RUN' <<<"$out"; then
  pass "budget not reached: ALL PASS"
else
  fail "budget not reached: expected ALL PASS (exit $rc)" "$out"
fi

# A budget that is no number of seconds is refused before anything runs.
out=$(OUT= RUN_ALL_BUDGET_S=5m bash "$WORK/ok/run_all.sh" 2>&1)
rc=$?
if [ $rc -eq 2 ] && grep -q "RUN_ALL_BUDGET_S='5m' is not a number" <<<"$out" && ! grep -q '| good |' <<<"$out"; then
  pass "budget '5m' refused"
else
  fail "budget '5m': expected exit 2 and a message before any test (exit $rc)" "$out"
fi

echo "$checks checks, $failures failed"
[ $failures -eq 0 ]
