#!/usr/bin/env bash
# CLI tests: tlc's command line as a user and a build system see it: --help and
# --version, the exit codes 0/1/2/3, output paths and their defaults, atomic
# outputs (a failed compile writes nothing and keeps the old file), --emit to a file.
#
# Usage: tests/test_cli.sh path/to/tlc [repo-root]
set -u

TLC=$(realpath "${1:?usage: test_cli.sh path/to/tlc [repo-root]}")
ROOT=$(realpath "${2:-$(dirname "$0")/..}")
EXAMPLE="$ROOT/examples/tile_copy.tl"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tlc-cli-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
export NO_COLOR=1

failures=0
checks=0
pass() { checks=$((checks + 1)); echo "PASS $1"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && sed 's/^/    | /' <<<"$2"; }

# run ARGS...: runs tlc, leaving the exit code in $rc, stdout in $out, stderr in $err.
run() {
  "$TLC" "$@" >"$WORK/.out" 2>"$WORK/.err"
  rc=$?
  out=$(cat "$WORK/.out")
  err=$(cat "$WORK/.err")
}

# expect_exit CODE DESCRIPTION ARGS...
expect_exit() {
  local code=$1 what=$2
  shift 2
  run "$@"
  if [ "$rc" -eq "$code" ]; then pass "$what (exit $code)"; else fail "$what: expected exit $code, got $rc" "$out$err"; fi
}

# expect_text HAYSTACK NEEDLE DESCRIPTION
expect_text() {
  if grep -qF -- "$2" <<<"$1"; then pass "$3"; else fail "$3: '$2' not in output" "$1"; fi
}

no_temp_files_left() {
  local leftovers
  leftovers=$(find "$WORK" -name '*.tlc-*.tmp')
  if [ -z "$leftovers" ]; then pass "$1: no temporary files left"; else fail "$1: temporary files left" "$leftovers"; fi
}

cat >good.tl <<'EOF'
const BM = 128;
EOF
cat >bad_syntax.tl <<'EOF'
kernel broken(A: Tensor((M, N), float16) {
EOF
cp "$EXAMPLE" k.tl

# ---------------------------------------------------------------- --help, --version
expect_exit 0 "--help" --help
help=$out
for flag in -o --header --emit --arch -O0 -O3 -D --remarks -ferror-limit= -Werror " -w " \
            -fcolor-diagnostics -fno-color-diagnostics -fdiagnostics-color= -W\<name\> -Wno- \
            -MD -MMD -MF -MT -MQ -MP -lineinfo @FILE --write-if-changed --prefix -v --verbose -h --help --version \
            -fsyntax-only "-j N" --time-report --nvtx \
            tokens ast " ir " loops llvm ptx cubin header meta sass Usage: Example; do
  expect_text "$help" "$flag" "--help mentions '$flag'"
done
# Every option the help names is one the parser knows (no 'unknown option').
for flag in --remarks -Werror -Wno-error -w -Wall -Wextra -Wno-all -Werror=all -fcolor-diagnostics \
            -fno-color-diagnostics -fdiagnostics-color=auto -fdiagnostics-color=always \
            -fdiagnostics-color=never -v --verbose --emit=ast --arch=sm_90a -O2 -DX=1 -ferror-limit=5 \
            -MD -MMD -MP -MQx -lineinfo --write-if-changed -fsyntax-only -j2 --time-report --nvtx; do
  run "$flag"
  if [ "$rc" -eq 2 ] && grep -qF "no input file" <<<"$err"; then pass "'$flag' is accepted"
  else fail "'$flag' is not accepted as documented (exit $rc)" "$err"; fi
done
expect_exit 0 "-h" -h
expect_exit 0 "--help wins over mistakes" --bogus --help

if [ -w /dev/full ]; then
  for flag in --help --version; do
    "$TLC" $flag >/dev/full 2>"$WORK/.err"; rc=$?
    if [ "$rc" -eq 3 ]; then pass "$flag to a full stdout (exit 3)"; else fail "$flag to /dev/full: expected exit 3, got $rc"; fi
  done
fi
expect_exit 0 "--version" --version
if grep -qE '^tlc [0-9]+\.[0-9]+' <<<"$out"; then pass "--version starts with 'tlc X.Y'"; else fail "--version first line" "$out"; fi
expect_text "$out" "LLVM 19" "--version names LLVM"
expect_text "$out" "CUDA" "--version names CUDA"
expect_text "$out" "ptxas: " "--version names the ptxas a cubin would get"
CUDA_HOME="$WORK/no_such_cuda" run --version
if [ "$rc" -eq 0 ]; then pass "--version without a toolkit (exit 0)"; else fail "--version without a toolkit: exit $rc" "$err"; fi
expect_text "$out" "ptxas: not found (looked for ptxas in CUDA_HOME=$WORK/no_such_cuda/bin)" "--version without a toolkit: says so"

# ---------------------------------------------------------------- exit 2: bad usage
expect_exit 2 "no input file" ; expect_text "$err" "tlc: error: no input file" "no input: message"
expect_exit 2 "unknown option" good.tl --bogus; expect_text "$err" "unknown option '--bogus'" "unknown option: message"
expect_exit 2 "bad --emit value" good.tl --emit=tokens,foo; expect_text "$err" "unknown --emit stage 'foo'" "bad --emit: message"
expect_exit 2 "-D without =" good.tl -D BM; expect_text "$err" "-D expects NAME=VALUE, got 'BM'" "-D without =: message"
expect_exit 2 "-D with empty name" good.tl -D=4
expect_exit 2 "-D twice for one name" good.tl -D BM=64 -DBM=32
expect_text "$err" "tlc: error: -D BM given twice (BM=64, then BM=32)" "-D twice: names both"
expect_exit 2 "bad -O level" good.tl -O5; expect_text "$err" "-O5" "bad -O: message"
expect_exit 2 "bad -ferror-limit" good.tl -ferror-limit=many
expect_exit 2 "bad --arch spelling" good.tl --arch=hopper
expect_exit 2 "two input files" good.tl k.tl; expect_text "$err" "more than one input file" "two inputs: message"
expect_exit 2 "-o without a value" good.tl -o; expect_text "$err" "'-o' needs a value" "-o without a value: message"
# The message names the option as the user spelt it.
expect_exit 2 "-MF without a value" good.tl -MF; expect_text "$err" "tlc: error: option '-MF' needs a value" "-MF without a value: message"
expect_exit 2 "-MT without a value" good.tl -MT; expect_text "$err" "tlc: error: option '-MT' needs a value" "-MT without a value: message"
expect_exit 2 "-ferror-limit= without a value" good.tl -ferror-limit=
expect_text "$err" "tlc: error: option '-ferror-limit=' needs a value" "-ferror-limit= without a value: message"
expect_exit 2 "output over the input" k.tl -o k.tl
expect_exit 2 "--header without header" k.tl --emit=cubin --header x.h
expect_exit 2 "header and tokens into one -o file" k.tl --emit=tokens,header -o k_both.h
expect_text "$err" "tlc: error: -o 'k_both.h' would hold the header and tokens in one file: a header is a file of its own (name it with --header PATH)" "header and tokens into one file: names both"
expect_exit 2 "an unsupported --arch" good.tl --arch=sm_99
if [ -z "$(ls -A | grep -v -e '^good.tl$' -e '^bad_syntax.tl$' -e '^k.tl$' -e '^\.out$' -e '^\.err$')" ]; then
  pass "usage errors write nothing"; else fail "usage errors wrote files" "$(ls -A)"; fi

# ---------------------------------------------------------------- exit 3: I/O
expect_exit 3 "missing input" missing.tl
expect_text "$err" "tlc: error: cannot open 'missing.tl': No such file or directory" "missing input: message"
mkdir -p adir.tl
expect_exit 3 "input is a directory" adir.tl
expect_exit 3 "output directory missing" k.tl -o no/such/dir/k.cubin
expect_text "$err" "cannot write 'no/such/dir/k.cubin'" "unwritable output: message"
# What tlc reads is bounded, whatever the input names: a stream without end, a file
# over 16 MiB, and (exit 1, a diagnostic at the token) more than two million tokens.
# (The stream is a pipe of 32 MiB, not /dev/zero itself, so that a regression cannot
# read without end on the machine running the tests.)
head -c $((32 * 1024 * 1024)) /dev/zero | "$TLC" /dev/stdin >"$WORK/.out" 2>"$WORK/.err"
rc=$?; err=$(cat "$WORK/.err")
if [ "$rc" -eq 3 ]; then pass "input: a stream past 16 MiB (exit 3)"; else fail "a stream past 16 MiB: expected exit 3, got $rc" "$err"; fi
expect_text "$err" "tlc: error: cannot open '/dev/stdin': larger than the limit of 16 MiB" "input: a stream past 16 MiB: message"
head -c $((16 * 1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >huge.tl
expect_exit 3 "input over 16 MiB" huge.tl
expect_text "$err" "tlc: error: cannot open 'huge.tl': larger than the limit of 16 MiB" "input over 16 MiB: message"
rm -f huge.tl
awk 'BEGIN { for (i = 0; i < 1000001; i++) print ";;" }' >tokens.tl
expect_exit 1 "more than 2,000,000 tokens" tokens.tl --emit=ast
expect_text "$err" "tokens.tl:1000001:1: error: more than 2000000 tokens in one file, the most tlc reads (split the file)" "more than 2,000,000 tokens: message at the first token past the limit"
expect_exit 1 "more than 2,000,000 tokens, --emit=tokens" tokens.tl --emit=tokens
rm -f tokens.tl

# ---------------------------------------------------------------- exit 0 and 1: tokens
expect_exit 0 "--emit=tokens" good.tl --emit=tokens
expect_text "$out" "'const'" "--emit=tokens prints the tokens"
expect_exit 0 "-D glued and separate" good.tl --emit=tokens -DBM=64 -D BN=32
expect_exit 1 "syntax error" bad_syntax.tl --emit=ast
expect_text "$err" "bad_syntax.tl:1:" "syntax error: file:line: in the diagnostic"
expect_text "$err" "error:" "syntax error: says error"

# ---------------------------------------------------------------- atomic outputs
printf 'OLD CUBIN' >old.cubin
printf 'OLD HEADER' >old.h
expect_exit 1 "failing compile" bad_syntax.tl -o old.cubin
if [ "$(cat old.cubin)" = "OLD CUBIN" ] && [ "$(cat old.h)" = "OLD HEADER" ]; then
  pass "a failing compile keeps the existing outputs"; else fail "a failing compile clobbered an output"; fi
expect_exit 1 "failing compile, fresh names" bad_syntax.tl -o fresh.cubin
if [ ! -e fresh.cubin ] && [ ! -e fresh.h ]; then pass "a failing compile creates no output"
else fail "a failing compile created an output" "$(ls -l fresh.*)"; fi
no_temp_files_left "failing compile"

# ---------------------------------------------------------------- full compile (exit 0)
mkdir -p build inc
expect_exit 0 "compile the example" k.tl -o build/k.cubin
if [ -s build/k.cubin ] && [ "$(head -c 4 build/k.cubin | od -An -c | tr -d ' ')" = '177ELF' ]; then
  pass "-o writes an ELF cubin"; else fail "-o did not write an ELF cubin" "$(ls -l build)"; fi
if [ -s build/k.h ]; then pass "the header defaults to the cubin's path with .h"; else fail "no build/k.h" "$(ls -l build)"; fi
[ -z "$err" ] && pass "a successful build prints nothing on stderr" || fail "a successful build printed on stderr" "$err"
[ -z "$out" ] && pass "a build prints nothing on stdout" || fail "a build printed on stdout" "$out"
no_temp_files_left "successful compile"

# An output name as long as a name can be (255 bytes): the temporary file beside it
# must not be longer.
long_stem=$(printf 'k%.0s' $(seq 1 249))
expect_exit 0 "a 255-byte output name" k.tl -o "build/$long_stem.cubin" --header build/long.h
[ -s "build/$long_stem.cubin" ] && pass "a 255-byte output name: written" || fail "a 255-byte output name" "$(ls build)"
expect_exit 0 "a 250-byte --emit=ptx output name" k.tl --emit=ptx -o "build/${long_stem:0:246}.ptx"
no_temp_files_left "long output names"

expect_exit 0 "--header PATH" k.tl -o build/k2.cubin --header inc/k2.h
if [ -s inc/k2.h ] && [ ! -e build/k2.h ]; then pass "--header chooses the header's path"; else fail "--header" "$(ls -l build inc)"; fi

expect_exit 0 "default output names" k.tl
if [ -s k.cubin ] && [ -s k.h ]; then pass "without -o: k.cubin and k.h in the current directory"; else fail "default names" "$(ls -l)"; fi

cp build/k.cubin before.cubin
expect_exit 3 "header directory missing" k.tl -o build/k.cubin --header no/such/dir/k.h
if cmp -s before.cubin build/k.cubin; then pass "a failed header write leaves the cubin as it was"; else fail "cubin replaced although the header could not be written"; fi
no_temp_files_left "failed header write"

expect_exit 0 "--emit=ptx -o file.ptx" k.tl --emit=ptx -o k.ptx
if grep -q '^\.version' k.ptx && grep -q 'sm_90a' k.ptx; then pass "k.ptx is PTX for sm_90a"; else fail "k.ptx" "$(head -20 k.ptx)"; fi
[ -z "$out" ] && pass "--emit=ptx -o prints nothing on stdout" || fail "--emit=ptx -o printed on stdout" "$out"

expect_exit 0 "--emit=ptx to stdout" k.tl --emit=ptx
expect_text "$out" ".entry" "--emit=ptx prints the kernel entry"
if [ -w /dev/full ]; then
  "$TLC" k.tl --emit=ptx >/dev/full 2>"$WORK/.err"; rc=$?
  if [ "$rc" -eq 3 ]; then pass "stdout that cannot be written (exit 3)"; else fail "stdout to /dev/full: expected exit 3, got $rc" "$(cat "$WORK/.err")"; fi
fi
expect_exit 0 "--emit=header to stdout" k.tl --emit=header
expect_text "$out" "CUresult" "--emit=header prints the header"
expect_exit 0 "several text stages" k.tl --emit=ptx,ast
if [ "$(grep -n '=====' <<<"$out" | cut -d' ' -f3 | tr '\n' ' ')" = "ast ptx " ]; then
  pass "several stages print in pipeline order"; else fail "stage order" "$(grep '=====' <<<"$out")"; fi

expect_exit 0 "-v" k.tl -v -o build/k3.cubin
expect_text "$err" "tlc: wrote build/k3.cubin" "-v prints what it wrote (cubin)"
expect_text "$err" "build/k3.h" "-v prints what it wrote (header)"
for phase in read parse sema lower llvm ptx cubin header; do
  if grep -qE "^tlc: $phase +[0-9.]+ ms" <<<"$err"; then pass "-v times '$phase'"; else fail "-v does not time '$phase'" "$err"; fi
done
expect_exit 0 "-O0" k.tl -O0 --emit=ptx
# The last -O wins (a per-file -O0 after a project's -O2).
expect_exit 0 "-O2 then -O0" k.tl -O2 -O0 --emit=ptx -o build/o2_o0.ptx
"$TLC" k.tl -O0 --emit=ptx -o build/o0.ptx 2>/dev/null
"$TLC" k.tl -O2 --emit=ptx -o build/o2.ptx 2>/dev/null
if cmp -s build/o2_o0.ptx build/o0.ptx && ! cmp -s build/o2_o0.ptx build/o2.ptx; then pass "-O2 -O0 is -O0 (the last -O wins)"
else fail "-O2 -O0 is not -O0" "$(ls -la build/o*.ptx)"; fi

# ---------------------------------------------------------------- `-`: stdin and stdout
# `-o -` is stdout for text; with the cubin a usage error that says why. No file
# named `-` is ever made.
expect_exit 0 "--emit=ptx -o -" k.tl --emit=ptx -o -
expect_text "$out" ".entry tile_copy" "--emit=ptx -o -: the PTX on stdout"
expect_exit 2 "-o - with the default cubin,header" k.tl -o -
expect_text "$err" "tlc: error: -o - writes to stdout, but the default outputs are a cubin (binary) and a header" "-o - with the defaults: says why"
expect_exit 2 "-o - with --emit=cubin" k.tl --emit=cubin -o -
expect_text "$err" "the cubin is binary" "-o - with the cubin: says why"
expect_exit 2 "--header -" k.tl -o build/k.cubin --header -
[ ! -e - ] && pass "'-' as an output makes no file named '-'" || fail "a file named '-' was made"
# `-` as the input: stdin, named <stdin>, under the same 16 MiB limit.
"$TLC" - --emit=ptx <k.tl >"$WORK/.out" 2>"$WORK/.err"; rc=$?; out=$(cat "$WORK/.out")
if [ "$rc" -eq 0 ] && grep -q ".entry tile_copy" <<<"$out"; then pass "stdin: --emit=ptx (exit 0)"; else fail "stdin: --emit=ptx: exit $rc" "$(cat "$WORK/.err")"; fi
"$TLC" - -o stdin.cubin -MD <k.tl >"$WORK/.out" 2>"$WORK/.err"; rc=$?
if [ "$rc" -eq 0 ] && cmp -s stdin.cubin build/k.cubin; then pass "stdin: the same cubin as from the file"; else fail "stdin: cubin (exit $rc)" "$(cat "$WORK/.err")"; fi
expect_text "$(head -3 stdin.h)" "<stdin>" "stdin: the header names <stdin>"
expect_text "$(cat stdin.h)" "static inline CUresult stdin_load(void)" "stdin: the module's symbols take the -o file's stem"
if [ "$(cat stdin.d)" = "stdin.cubin:" ]; then pass "stdin: the depfile has no prerequisites"; else fail "stdin: depfile" "$(cat stdin.d)"; fi
"$TLC" - <k.tl >"$WORK/.out" 2>"$WORK/.err"; rc=$?; err=$(cat "$WORK/.err")
if [ "$rc" -eq 2 ]; then pass "stdin without -o (exit 2)"; else fail "stdin without -o: expected exit 2, got $rc" "$err"; fi
expect_text "$err" "the source is read from stdin ('-'), so the cubin has no default name: name it with -o" "stdin without -o: message"
"$TLC" - --emit=ast <bad_syntax.tl >"$WORK/.out" 2>"$WORK/.err"; rc=$?; err=$(cat "$WORK/.err")
if [ "$rc" -eq 1 ]; then pass "stdin: a syntax error (exit 1)"; else fail "stdin: syntax error: expected exit 1, got $rc" "$err"; fi
expect_text "$err" "<stdin>:1:" "stdin: diagnostics name <stdin>"
head -c $((16 * 1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' | "$TLC" - --emit=ast >"$WORK/.out" 2>"$WORK/.err"; rc=$?; err=$(cat "$WORK/.err")
if [ "$rc" -eq 3 ]; then pass "stdin past 16 MiB (exit 3)"; else fail "stdin past 16 MiB: expected exit 3, got $rc" "$err"; fi
expect_text "$err" "tlc: error: cannot read <stdin>: larger than the limit of 16 MiB" "stdin past 16 MiB: message"

# ---------------------------------------------------------------- @response files
# GCC's rules: whitespace separates, quotes group, a backslash escapes; nested files.
mkdir -p rsp "dir with space"
printf '%s\n' "--emit=ptx -o 'dir with space/k.ptx'" '@rsp/inner.rsp' >rsp/outer.rsp
printf '%s\n' '-D "BM=64"' "-DBN=6\\4 -O2" >rsp/inner.rsp
expect_exit 0 "@file, nested, quoted" k.tl @rsp/outer.rsp
"$TLC" k.tl --emit=ptx -o direct.ptx -D BM=64 -DBN=64 -O2
if [ -s "dir with space/k.ptx" ] && cmp -s "dir with space/k.ptx" direct.ptx; then
  pass "@file: the same PTX as the arguments given directly"; else fail "@file: PTX differs or is missing" "$(ls "dir with space")"; fi
expect_exit 2 "@file missing" k.tl @rsp/missing.rsp
expect_text "$err" "tlc: error: cannot read response file 'rsp/missing.rsp': No such file or directory" "@file missing: message"
printf '%s\n' "-D ''" >rsp/empty.rsp
expect_exit 2 "@file: '' is an empty argument" k.tl @rsp/empty.rsp
expect_text "$err" "-D expects NAME=VALUE, got ''" "@file: '' arrives as an empty argument"
printf '%s\n' '@rsp/self.rsp' >rsp/self.rsp
expect_exit 2 "@file that names itself" k.tl @rsp/self.rsp
expect_text "$err" "nested more than 16 deep" "@file that names itself: message"
printf '%s\n' "-o 'open" >rsp/open.rsp
expect_exit 2 "@file with an open quote" k.tl @rsp/open.rsp
expect_text "$err" "has a quote that is not closed" "@file with an open quote: message"

# ---------------------------------------------------------------- -lineinfo
# The cubin keeps a line table: different bytes from one without, the same bytes
# on every run.
mkdir -p li
expect_exit 0 "-lineinfo" k.tl -lineinfo -o li/a.cubin
expect_exit 0 "-lineinfo, again" k.tl -lineinfo -o li/b.cubin
expect_exit 0 "without -lineinfo" k.tl -o li/plain.cubin
if cmp -s li/a.cubin li/b.cubin; then pass "-lineinfo: the same bytes on every run"; else fail "-lineinfo: two runs differ"; fi
if [ -s li/a.cubin ] && ! cmp -s li/a.cubin li/plain.cubin; then pass "-lineinfo: the cubin differs from one without"; else fail "-lineinfo: the cubin is the same as without"; fi
if grep -qa "k.tl" li/a.cubin && ! grep -qa "k.tl" li/plain.cubin; then pass "-lineinfo: the cubin's line table names k.tl"
else fail "-lineinfo: k.tl not named in the cubin (or named without -lineinfo)"; fi
if command -v readelf >/dev/null; then
  if readelf -S li/a.cubin | grep -q "\.nv_debug_line_sass\|\.debug_line" && ! readelf -S li/plain.cubin | grep -q "\.debug_line"; then
    pass "-lineinfo: the cubin has a line section"; else fail "-lineinfo: no line section" "$(readelf -S li/a.cubin | grep -i debug)"; fi
fi
cp k.tl 'li/q"uote.tl'
expect_exit 2 "-lineinfo with a quote in the input's name" 'li/q"uote.tl' -lineinfo -o li/q.cubin
expect_text "$err" "-lineinfo: the input's name cannot be written in PTX's .file" "-lineinfo with a quote: says why"
cp k.tl 'li/back\slash.tl'
expect_exit 0 "-lineinfo with a backslash in the input's name" 'li/back\slash.tl' -lineinfo -o li/bs.cubin
expect_exit 0 "-lineinfo with two architectures" k.tl -lineinfo --arch=sm_80,sm_90a -o li/multi.cubin
if grep -qa "k.tl" li/multi.sm_90a.cubin; then pass "-lineinfo: every architecture's cubin"; else fail "-lineinfo: the second cubin has no line table"; fi

# ---------------------------------------------------------------- outputs to pipes and links
# A device or pipe is written in place, never renamed over (`-o /dev/null` must not
# turn /dev/null into a regular file), and makes no header named after it; a symbolic
# link stays a link, the file it names being replaced. (Tested on a FIFO: a regression
# must not be able to replace a real device of the machine running the tests.)
mkfifo pipe.cubin
timeout 60 cat pipe.cubin >from_pipe.bin &
reader=$!
"$TLC" k.tl -o pipe.cubin >"$WORK/.out" 2>"$WORK/.err" &
writer=$!
# A tlc that renamed over the FIFO would leave the reader waiting: a writer opens it here.
( sleep 30; [ -p pipe.cubin ] || exec 3>pipe.cubin ) >/dev/null 2>&1 &
unblock=$!
wait "$writer"; rc=$?
wait "$reader"
kill "$unblock" 2>/dev/null
if [ "$rc" -eq 0 ]; then pass "-o FIFO (exit 0)"; else fail "-o FIFO: expected exit 0, got $rc" "$(cat "$WORK/.err")"; fi
if [ -p pipe.cubin ]; then pass "-o FIFO: still a FIFO"; else fail "-o FIFO: replaced by a $(stat -c %F pipe.cubin)"; fi
if cmp -s from_pipe.bin build/k.cubin; then pass "-o FIFO: the reader got the cubin"; else fail "-o FIFO: the reader got $(stat -c %s from_pipe.bin) bytes"; fi
if [ ! -e pipe.h ]; then pass "-o FIFO: no header named after the FIFO"; else fail "-o FIFO made pipe.h"; fi
no_temp_files_left "-o FIFO"
expect_exit 2 "-MD beside a FIFO" k.tl -o pipe.cubin -MD
expect_text "$err" "-MD would write the dependency file beside 'pipe.cubin', which is a device or pipe (name it with -MF)" "-MD beside a FIFO: names the fix"
expect_exit 2 "--emit=source with a quote in the header's name" k.tl --emit=cubin,header,source -o build/k6.cubin --header 'q"uote.h'
expect_text "$err" "the header's file name cannot be written in the .c's #include" "--emit=source with a quote: says why"
expect_exit 2 "--emit=source beside a FIFO header" k.tl --emit=cubin,header,source -o build/k5.cubin --header pipe.cubin
expect_text "$err" "--emit=source writes the .c beside the header, and 'pipe.cubin' is a device or pipe" "--emit=source beside a FIFO: says why"

cp build/k.cubin target.cubin
printf 'OLD' >target.cubin
ln -s target.cubin linked.cubin
expect_exit 0 "-o symbolic link" k.tl -o linked.cubin
if [ -L linked.cubin ] && [ "$(readlink linked.cubin)" = target.cubin ]; then pass "-o symbolic link: still the same link"
else fail "-o symbolic link: replaced" "$(ls -l linked.cubin)"; fi
if cmp -s target.cubin build/k.cubin; then pass "-o symbolic link: the linked file holds the cubin"; else fail "-o symbolic link: target.cubin not written"; fi
no_temp_files_left "-o symbolic link"
cp k.tl k_copy.tl
ln -s k_copy.tl source_link.cubin
expect_exit 2 "-o a link to the input" k_copy.tl -o source_link.cubin
expect_text "$err" "output 'source_link.cubin' would overwrite the input" "-o a link to the input: refused"
expect_exit 2 "-o the input spelt another way" k_copy.tl --emit=ptx -o ./k_copy.tl
if cmp -s k.tl k_copy.tl; then pass "the input is intact"; else fail "the input was overwritten"; fi

# ---------------------------------------------------------------- diagnostics flags
expect_exit 2 "bad -fdiagnostics-color" good.tl -fdiagnostics-color=sometimes
expect_text "$err" "invalid -fdiagnostics-color value 'sometimes'" "bad -fdiagnostics-color: message"
expect_exit 0 "unknown -W name is a warning" good.tl --emit=tokens -Wfrobnicate
expect_text "$err" "warning: unknown warning option '-Wfrobnicate'" "unknown -W name: message"
expect_exit 0 "-Wno-unknown-warning-option quiets it" good.tl --emit=tokens -Wfrobnicate -Wno-unknown-warning-option
[ -z "$err" ] && pass "-Wno-unknown-warning-option: no message" || fail "-Wno-unknown-warning-option printed" "$err"
expect_exit 0 "-w quiets it" good.tl --emit=tokens -Wno-frobnicate -w
expect_exit 2 "unknown -W name with -Werror" good.tl --emit=tokens -Werror -Wfrobnicate
expect_exit 0 "-Werror -Wno-error" good.tl --emit=tokens -Werror -Wno-error -Wfrobnicate
expect_exit 1 "-fdiagnostics-color=always colors" bad_syntax.tl --emit=ast -fdiagnostics-color=always
if grep -q $'\033\[' <<<"$err"; then pass "-fdiagnostics-color=always: escape codes"; else fail "-fdiagnostics-color=always: no color" "$err"; fi
expect_exit 1 "-fcolor-diagnostics colors" bad_syntax.tl --emit=ast -fcolor-diagnostics
if grep -q $'\033\[' <<<"$err"; then pass "-fcolor-diagnostics: escape codes"; else fail "-fcolor-diagnostics: no color" "$err"; fi
expect_exit 1 "-fdiagnostics-color=never" bad_syntax.tl --emit=ast -fdiagnostics-color=never
if grep -q $'\033\[' <<<"$err"; then fail "-fdiagnostics-color=never colored" "$err"; else pass "-fdiagnostics-color=never: plain"; fi
expect_exit 1 "-fdiagnostics-color=auto to a file" bad_syntax.tl --emit=ast -fdiagnostics-color=auto
if grep -q $'\033\[' <<<"$err"; then fail "-fdiagnostics-color=auto colored a file" "$err"; else pass "-fdiagnostics-color=auto: plain when stderr is no terminal"; fi

# ---------------------------------------------------------------- dependency files
mkdir -p dep
expect_exit 0 "-MD" k.tl -o dep/k.cubin -MD
if [ "$(cat dep/k.d)" = "dep/k.cubin: k.tl" ]; then pass "-MD writes dep/k.d: 'dep/k.cubin: k.tl'"; else fail "-MD depfile" "$(cat dep/k.d 2>&1)"; fi
[ -z "$err" ] && pass "-MD: silent on success" || fail "-MD printed on success" "$err"
expect_exit 0 "-MF -MT" k.tl -o dep/k.cubin -MF dep/custom.d -MT 'my target' -MT '$(OUT)'
if [ "$(cat dep/custom.d)" = 'my target $(OUT): k.tl' ]; then pass "-MF/-MT: path, targets as given"; else fail "-MF/-MT depfile" "$(cat dep/custom.d 2>&1)"; fi
# -MT is written as given (a Make variable stays one), -MQ quoted for Make, in order.
expect_exit 0 "-MT and -MQ" k.tl -o dep/k.cubin -MF dep/mq.d -MT '$(OUT)' -MQ 'my $k' -MQglued#
if [ "$(cat dep/mq.d)" = '$(OUT) my\ $$k glued\#: k.tl' ]; then pass "-MT as given, -MQ quoted, in order"; else fail "-MT/-MQ depfile" "$(cat dep/mq.d 2>&1)"; fi
expect_exit 2 "-MQ without a value" k.tl -o dep/k.cubin -MQ
expect_text "$err" "option '-MQ' needs a value" "-MQ without a value: message"
rm -f dep/k.d
expect_exit 0 "-MMD" k.tl -o dep/k.cubin -MMD
if [ "$(cat dep/k.d)" = "dep/k.cubin: k.tl" ]; then pass "-MMD writes the same depfile as -MD"; else fail "-MMD depfile" "$(cat dep/k.d 2>&1)"; fi
expect_exit 2 "-MF -" k.tl -o dep/k.cubin -MF -
[ ! -e - ] && pass "-MF -: no file named '-'" || fail "-MF - made a file named '-'"
expect_exit 0 "-MFpath glued" k.tl -o dep/k.cubin -MFdep/glued.d
[ -s dep/glued.d ] && pass "-MFpath writes the depfile" || fail "-MFpath" "$(ls dep)"
expect_exit 0 "-MD with --emit=ptx -o" k.tl --emit=ptx -o dep/k.ptx -MD
if [ "$(cat dep/k.d)" = "dep/k.ptx: k.tl" ]; then pass "-MD names the text output when there is no cubin"; else fail "-MD --emit=ptx" "$(cat dep/k.d)"; fi
expect_exit 2 "-MD with only stdout" k.tl --emit=ptx -MD
expect_text "$err" "-MD needs an output file" "-MD to stdout: message"
expect_exit 2 "-MF over the cubin" k.tl -o dep/k.cubin -MF dep/k.cubin
rm -f dep/fail.d
expect_exit 1 "-MD on a failing compile" bad_syntax.tl -o dep/fail.cubin -MD
[ ! -e dep/fail.d ] && pass "a failing compile writes no depfile" || fail "a failing compile wrote a depfile"

# ---------------------------------------------------------------- --write-if-changed
mkdir -p wic
expect_exit 0 "first build" k.tl -o wic/k.cubin -MD
touch -d '2001-01-01 00:00:00' wic/k.cubin wic/k.h wic/k.d
before=$(stat -c '%i %Y' wic/k.cubin wic/k.h wic/k.d)
expect_exit 0 "--write-if-changed, same bytes" k.tl -o wic/k.cubin -MD --write-if-changed -v
if [ "$(stat -c '%i %Y' wic/k.cubin wic/k.h wic/k.d)" = "$before" ]; then
  pass "--write-if-changed leaves identical outputs untouched (inode, mtime)"; else fail "--write-if-changed touched identical outputs"; fi
expect_text "$err" "wic/k.cubin (unchanged)" "--write-if-changed says 'unchanged'"
expect_exit 0 "--write-if-changed, new bytes" k.tl -o wic/k.cubin -MD --write-if-changed -D BM=64
if [ "$(stat -c %Y wic/k.cubin)" != "$(date -d '2001-01-01 00:00:00' +%s)" ] && [ "$(stat -c %Y wic/k.d)" = "$(date -d '2001-01-01 00:00:00' +%s)" ]; then
  pass "--write-if-changed rewrites what changed (cubin), keeps what did not (depfile)"; else fail "--write-if-changed with a change" "$(ls -l --time-style=+%s wic)"; fi
expect_exit 0 "without --write-if-changed" k.tl -o wic/k.cubin -MD -D BM=64
if [ "$(stat -c %Y wic/k.d)" != "$(date -d '2001-01-01 00:00:00' +%s)" ]; then pass "without --write-if-changed every output is rewritten"; else fail "the depfile was not rewritten"; fi
no_temp_files_left "--write-if-changed"

# ---------------------------------------------------------------- reproducible header
mkdir -p sub/dir
cp k.tl sub/dir/k.tl
expect_exit 0 "compile by a longer path" "$WORK/sub/dir/k.tl" -o abs.cubin
if grep -qF "$WORK" abs.h; then fail "the header embeds the input's directory" "$(grep -F "$WORK" abs.h | head -3)"; else pass "the header names the input by file name only"; fi
expect_text "$(head -1 abs.h)" "kernels of k.tl." "the header's banner names k.tl"

# ---------------------------------------------------------------- --prefix
mkdir -p pre
expect_exit 2 "bad --prefix" k.tl --prefix 9lives
expect_text "$err" "invalid --prefix '9lives'" "bad --prefix: message"
expect_exit 0 "--prefix one" k.tl -o pre/one.cubin --prefix one
expect_exit 0 "--prefix two" k.tl -o pre/two.cubin --prefix two -D BM=64
expect_text "$(cat pre/one.h)" "static inline CUresult one_tile_copy_launch(" "--prefix names the launcher"
expect_text "$(cat pre/one.h)" "static inline const char *one_last_error(void)" "--prefix names last_error"
expect_text "$(cat pre/one.h)" "static inline CUresult one_load(void)" "--prefix names load"
# Two headers with the same kernel name, told apart by --prefix, in one C program.
cat >pre/use.c <<'EOF2'
#include "one.h"
#include "two.h"
int main(void) {
  CUresult r = one_tile_copy_launch(0, 0, -1, 1, NULL);
  const tlc_kernel_info *info = two_tile_copy_info(0);
  return (r == CUDA_ERROR_INVALID_VALUE && info && info->block[0] > 0 && one_last_error()[0] != 0) ? 0 : 1;
}
EOF2
CUDA=${CUDA_HOME:-/usr/local/cuda}
if [ -f "$CUDA/lib64/stubs/libcuda.so" ]; then
  if out=$(gcc -std=c11 -Wall -Wextra -Werror -Wpedantic -I"$CUDA/include" -Ipre pre/use.c -o pre/use \
               -L"$CUDA/lib64/stubs" -lcuda 2>&1); then
    pass "two --prefix headers with one kernel name link in one C program"; else fail "two --prefix headers" "$out"; fi
fi

# ---------------------------------------------------------------- several --arch
mkdir -p multi
expect_exit 0 "--arch=sm_80,sm_90a" k.tl -o multi/k.cubin --arch=sm_80,sm_90a -MD
if [ -s multi/k.cubin ] && [ -s multi/k.sm_90a.cubin ] && [ -s multi/k.h ]; then
  pass "several --arch: the first cubin at -o, the others at STEM.ARCH.cubin"; else fail "several --arch: files" "$(ls multi)"; fi
expect_text "$(cat multi/k.h)" "k_cubin_sm_90a[" "several --arch: the header embeds each cubin"
expect_text "$(cat multi/k.h)" "CUDA_ERROR_NO_BINARY_FOR_GPU" "several --arch: no cubin for the device is an error"
expect_text "$(head -3 multi/k.h)" "Generated by tlc for sm_80, sm_90a" "several --arch: the banner names both"
expect_exit 0 "--arch repeated" k.tl -o multi/r.cubin --arch sm_80 --arch sm_89
[ -s multi/r.sm_89.cubin ] && pass "--arch repeated: one cubin each" || fail "--arch repeated" "$(ls multi)"
expect_exit 2 "--arch twice the same" k.tl --arch=sm_80,sm_80
expect_exit 2 "several --arch with a text stage" k.tl --arch=sm_80,sm_90a --emit=ptx
expect_exit 2 "--arch spelled badly in a list" k.tl --arch=sm_80,hopper
cat >multi/use.c <<'EOF2'
#include "k.h"
int main(void) { return k_arch() == NULL && tile_copy_info(0) != NULL ? 0 : 1; }
EOF2
for std in "gcc -std=c11 -x c" "g++ -std=c++17 -x c++"; do
  if out=$($std -Wall -Wextra -Werror -Wpedantic -I"$CUDA/include" -Imulti multi/use.c -o multi/use \
               -L"$CUDA/lib64/stubs" -lcuda 2>&1); then
    pass "a two-arch header compiles and links (${std%% *})"; else fail "two-arch header (${std%% *})" "$out"; fi
done

# ---------------------------------------------------------------- .h + .c pair
mkdir -p pair
expect_exit 0 "--emit=cubin,header,source" k.tl -o pair/k.cubin --emit=cubin,header,source
if [ -s pair/k.h ] && [ -s pair/k.c ] && ! grep -q "static inline CUresult tile_copy_launch" pair/k.h; then
  pass "the pair: declarations in k.h, definitions in k.c"; else fail "the pair" "$(ls -l pair)"; fi
expect_text "$(cat pair/k.h)" "CUresult tile_copy_launch(CUdeviceptr A" "the pair's header declares the launcher"
expect_text "$(head -3 pair/k.c)" '#include "k.h"' "the pair's source includes its header"
expect_exit 0 "a second pair, two arches, --prefix" k.tl -o pair/two.cubin --emit=cubin,header,source --arch=sm_80,sm_90a --prefix two
expect_exit 2 "--emit=source without header" k.tl --emit=cubin,source -o pair/x.cubin
expect_exit 2 "--emit=header,source to stdout" k.tl --emit=header,source
cat >pair/use.cpp <<'EOF2'
#include "k.h"
#include "two.h"
#include <cstring>
int main() {
  CUresult r = tile_copy_launch(0, 0, -1, 4, nullptr);
  const tlc_kernel_info *info = two_tile_copy_info(0);
  return r == CUDA_ERROR_INVALID_VALUE && std::strncmp(k_last_error(), "tile_copy_launch", 16) == 0 && info ? 0 : 1;
}
EOF2
flags=(-Wall -Wextra -Werror -Wpedantic -I"$CUDA/include" -Ipair)
if out=$(gcc -std=c11 "${flags[@]}" -c pair/k.c -o pair/k.o 2>&1 && gcc -std=c11 "${flags[@]}" -c pair/two.c -o pair/two.o 2>&1 &&
         g++ -std=c++17 -x c++ "${flags[@]}" -c pair/k.c -o pair/k_cpp.o 2>&1 &&
         g++ -std=c++17 "${flags[@]}" pair/use.cpp pair/k.o pair/two.o -o pair/use -L"$CUDA/lib64/stubs" -lcuda 2>&1); then
  pass "two pairs: the .c files compile as C11 (and C++17), a C++ program links against both"; else fail "the pairs do not build" "$out"; fi

# A header named like one it includes would include itself in place of the real one.
mkdir -p shadow
cp "$EXAMPLE" shadow/cuda.tl
cp "$EXAMPLE" shadow/stdio.tl
expect_exit 2 "cuda.tl: its default header cuda.h would hide <cuda.h>" shadow/cuda.tl -o shadow/cuda.cubin
expect_text "$err" "the header 'shadow/cuda.h' would hide <cuda.h>" "cuda.tl: the refusal names the header"
[ ! -e shadow/cuda.cubin ] && pass "cuda.tl: nothing written" || fail "cuda.tl: a cubin was written"
expect_exit 2 "--header STDIO.H (case-insensitive file systems)" shadow/stdio.tl -o shadow/s.cubin --header shadow/STDIO.H
expect_exit 0 "cuda.tl with --header kernels_cuda.h" shadow/cuda.tl -o shadow/cuda.cubin --header shadow/kernels_cuda.h
# Two headers of one prefix from different sources (a/k.tl, b/k.tl) have different
# include guards: both included is a compile error about their functions, not the
# second one silently skipped.
mkdir -p guard/a guard/b
cp "$EXAMPLE" guard/a/k.tl
sed 's/BM = 128/BM = 64/' "$EXAMPLE" >guard/b/k.tl
expect_exit 0 "a/k.tl" guard/a/k.tl -o guard/a/k.cubin
expect_exit 0 "b/k.tl" guard/b/k.tl -o guard/b/k.cubin
guard_a=$(grep -m1 '^#ifndef' guard/a/k.h)
guard_b=$(grep -m1 '^#ifndef' guard/b/k.h)
[ "$guard_a" != "$guard_b" ] && pass "a/k.h and b/k.h have different include guards" || fail "one include guard for a/k.h and b/k.h" "$guard_a"
printf '#include "a/k.h"\n#include "b/k.h"\nint main(void) { return 0; }\n' >guard/both.c
if gcc -std=c11 -I"$CUDA/include" -Iguard -c guard/both.c -o guard/both.o 2>guard/both.log; then
  fail "including a/k.h and b/k.h compiles: the second header would be skipped or merged silently"
else
  expect_text "$(cat guard/both.log)" "redefinition of" "including both: a compile error naming the functions"
fi

# ---------------------------------------------------------------- -fsyntax-only, -j
mkdir -p syntax_only
expect_exit 0 "-fsyntax-only, a sound file" k.tl -fsyntax-only -o syntax_only/k.cubin -MD
if [ -z "$(ls -A syntax_only)" ] && [ -z "$out$err" ]; then pass "-fsyntax-only writes and prints nothing"
else fail "-fsyntax-only wrote or printed something" "$(ls syntax_only)$out$err"; fi
cat >sema_error.tl <<'EOF'
kernel k(A: Tensor((N,), float32)) {
  with Kernel(1, threads=128) as (bx) {
    A_s = alloc_shared((128,), float32);
    copy(A[0], B_s);
  }
}
EOF
expect_exit 1 "-fsyntax-only, a sema error" sema_error.tl -fsyntax-only
expect_text "$err" "sema_error.tl:4:" "-fsyntax-only reports sema's errors, located"
expect_exit 1 "-fsyntax-only, a syntax error" bad_syntax.tl -fsyntax-only
expect_exit 2 "-fsyntax-only with --emit" k.tl -fsyntax-only --emit=ptx
expect_text "$err" "-fsyntax-only checks the source and writes nothing: it takes no --emit" "-fsyntax-only with --emit: message"
mkdir -p build
expect_exit 0 "-j 1" k.tl -j 1 -o build/kj1.cubin
expect_exit 0 "-j2" k.tl -j2 -o build/kj2.cubin
if cmp -s build/kj1.cubin build/kj2.cubin && cmp -s build/kj1.h build/kj2.h; then pass "-j1 and -j2 write the same bytes"
else fail "-j1 and -j2 differ"; fi
cat >three.tl <<'EOF'
kernel a(A: Tensor((N,), float32)) { with Kernel(1, threads=32) as (bx) { A[bx] = 1.0; } }
kernel b(A: Tensor((N,), float32)) { with Kernel(1, threads=32) as (bx) { A[bx] = 2.0; } }
EOF
expect_exit 0 "--time-report" three.tl --time-report -o build/three.cubin
for phase in parse sema lower llvm ptx cubin header total; do
  if grep -qE "^tlc: $phase +[0-9.]+ ms" <<<"$err"; then pass "--time-report times '$phase'"; else fail "--time-report does not time '$phase'" "$err"; fi
done
expect_text "$err" "tlc: time: kernels a .. b (2): lower " "--time-report: a line per group of kernels"
if grep -q "tlc: wrote" <<<"$err"; then fail "--time-report lists the files written (that is -v)" "$err"; else pass "--time-report alone does not list the files"; fi
expect_exit 2 "-j 0" k.tl -j 0; expect_text "$err" "invalid -j value '0'" "-j 0: message"
expect_exit 2 "-j x" k.tl -jx; expect_text "$err" "invalid -j value 'x'" "-j x: message"

# ---------------------------------------------------------------- --emit=meta
# With the cubin: STEM.meta.json beside it, naming the cubin; alone: printed, and
# the run stops after lowering (no cubin is assembled).
expect_exit 0 "--emit=cubin,header,meta" k.tl --emit=cubin,header,meta -o build/km.cubin
if [ -f build/km.cubin ] && [ -f build/km.h ] && [ -f build/km.meta.json ]; then pass "meta goes beside the cubin"
else fail "meta is not beside the cubin" "$(ls build)"; fi
expect_text "$(cat build/km.meta.json)" '"cubin": "km.cubin"' "meta names its cubin by file name"
expect_exit 0 "--emit=meta alone" k.tl --emit=meta
expect_text "$out" '"format": "tlc-meta"' "--emit=meta prints the metadata"
expect_text "$out" '"cubin": null' "--emit=meta alone names no cubin"
first=$out
run k.tl --emit=meta
if [ "$out" = "$first" ]; then pass "--emit=meta is deterministic"; else fail "--emit=meta differs between runs"; fi
expect_exit 0 "--emit=meta -o file" k.tl --emit=meta -o build/only.meta.json
if [ -f build/only.meta.json ] && [ ! -f build/only.cubin ]; then pass "--emit=meta -o writes only the metadata"
else fail "--emit=meta -o wrote something else" "$(ls build)"; fi
expect_exit 0 "meta of two architectures" k.tl --arch=sm_90a,sm_80 --emit=cubin,meta -o build/two.cubin
expect_text "$(cat build/two.meta.json)" '{"arch": "sm_80", "cubin": "two.sm_80.cubin"}' "meta names every architecture's cubin"
expect_exit 1 "--emit=meta of a broken file" bad_syntax.tl --emit=cubin,meta -o build/km.cubin
if grep -q '"cubin": "km.cubin"' build/km.meta.json; then pass "a failed compile keeps the old metadata"
else fail "a failed compile changed the metadata"; fi

# ---------------------------------------------------------------- --emit=sass, --nvtx
# sass runs the toolkit's cuobjdump: a fake one here (TLC_CUOBJDUMP) shows what tlc
# asks of it and what it makes of the answer; none found is exit 3, naming where.
cat >fake_cuobjdump <<'EOF'
#!/bin/sh
echo "$2" >>"$(dirname "$0")/fake_cuobjdump.files"
[ -s "$2" ] || { echo "no cubin at $2"; exit 1; }
case "$1" in
  -res-usage) printf 'Resource usage:\n Common:\n  GLOBAL:0\n Function tile_copy:\n  REG:18 STACK:0 SHARED:0 LOCAL:0 CONSTANT[0]:376\n' ;;
  -sass) printf '\nFatbin elf code:\n\tcode for sm_90a\n\t\tFunction : tile_copy\n        /*0000*/                   LDC R1, c[0x0][0x28] ;  /* %s */\n' "$2" ;;
  *) exit 2 ;;
esac
EOF
chmod +x fake_cuobjdump
TLC_CUOBJDUMP="$WORK/fake_cuobjdump" run k.tl --emit=sass
if [ "$rc" -eq 0 ]; then pass "--emit=sass with a cuobjdump (exit 0)"; else fail "--emit=sass: exit $rc" "$err"; fi
expect_text "$out" "//   tile_copy: REG:18 STACK:0 SHARED:0 LOCAL:0" "--emit=sass: a resource line per entry"
expect_text "$out" "LDC R1, c[0x0][0x28] ;  /* <cubin> */" "--emit=sass: the SASS, the temporary name replaced"
if [ "$(wc -l <fake_cuobjdump.files)" -eq 2 ] && ! [ -e "$(head -1 fake_cuobjdump.files)" ]; then
  pass "--emit=sass: the temporary cubin is removed"
else fail "--emit=sass: temporary cubin left or not passed" "$(cat fake_cuobjdump.files)"; fi
TLC_CUOBJDUMP=/nonexistent/cuobjdump TLC_NVDISASM=/nonexistent/nvdisasm run k.tl --emit=sass
if [ "$rc" -eq 3 ]; then pass "--emit=sass without the tools (exit 3)"; else fail "--emit=sass without the tools: exit $rc" "$err"; fi
expect_text "$err" "--emit=sass needs cuobjdump or nvdisasm from the CUDA toolkit; looked for \$TLC_CUOBJDUMP (/nonexistent/cuobjdump)" "--emit=sass without the tools: says where it looked"
expect_exit 2 "--nvtx without a header" k.tl --emit=ptx --nvtx
expect_text "$err" "--nvtx puts NVTX ranges in the header's launchers" "--nvtx without a header: message"
expect_exit 0 "--nvtx" k.tl -o build/knvtx.cubin --nvtx
expect_text "$(cat build/knvtx.h)" 'nvtxRangePushA("tile_copy");' "--nvtx: a range around the launcher"
cuda_include="${CUDA_HOME:-/usr/local/cuda}/include"
if [ -f "$cuda_include/nvtx3/nvToolsExt.h" ] && command -v gcc >/dev/null; then
  echo 'int main(void) { return 0; }' >nvtx_main.c
  if gcc -std=c11 -Wall -Wextra -Werror -fsyntax-only -I"$cuda_include" -include build/knvtx.h nvtx_main.c 2>nvtx.err &&
     g++ -std=c++17 -Wall -Wextra -Werror -fsyntax-only -I"$cuda_include" -include build/knvtx.h -x c++ nvtx_main.c 2>>nvtx.err; then
    pass "--nvtx: the header compiles warning-free as C11 and C++17"
  else fail "--nvtx: the header does not compile" "$(cat nvtx.err)"; fi
fi

# ---------------------------------------------------------------- the assembler (ptxas, nvlink)
# Fake toolkits (CUDA_HOME/bin with a ptxas and an nvlink of ours), TMPDIR a fresh
# directory so that anything the assembler leaves behind is seen.
fake_toolkit() {  # fake_toolkit DIR PTXAS-BODY: a toolkit whose nvlink succeeds
  mkdir -p "$1/bin"
  printf '#!/bin/sh
%s
' "$2" >"$1/bin/ptxas"
  printf '#!/bin/sh
exit 0
' >"$1/bin/nvlink"
  chmod +x "$1/bin/ptxas" "$1/bin/nvlink"
}
mkdir -p asm_tmp
fake_toolkit "$WORK/killed_cuda" 'kill -9 $$'
CUDA_HOME="$WORK/killed_cuda" TMPDIR="$WORK/asm_tmp" run k.tl -o build/killed.cubin
if [ "$rc" -eq 3 ]; then pass "a ptxas killed by a signal (exit 3)"; else fail "a ptxas killed by a signal: exit $rc" "$err"; fi
expect_text "$err" "ptx assembly failed: ptxas (killed by signal 9" "a killed ptxas: says how it ended"
[ ! -e build/killed.cubin ] && pass "a killed ptxas: no cubin written" || fail "a killed ptxas: a cubin was written"
# ptxas's own message names the file it read: the user sees the batch's name instead.
fake_toolkit "$WORK/failing_cuda" 'for a; do case "$a" in *.ptx) echo "ptxas $a, line 7; error   : Unknown symbol in $a"; esac; done; exit 255'
CUDA_HOME="$WORK/failing_cuda" TMPDIR="$WORK/asm_tmp" run k.tl -o build/failing.cubin
if [ "$rc" -eq 3 ]; then pass "a failing ptxas (exit 3)"; else fail "a failing ptxas: exit $rc" "$err"; fi
expect_text "$err" "ptxas tile_copy.ptx, line 7; error   : Unknown symbol in tile_copy.ptx" "a failing ptxas: its message names the batch"
if grep -q "asm_tmp\|/tlc-" <<<"$err"; then fail "a failing ptxas: the temporary directory shows in the message" "$err"
else pass "a failing ptxas: no temporary path in the message"; fi
# nvlink's messages name the objects it read: the user sees the batch's name instead.
fake_toolkit "$WORK/linkfail_cuda" 'exit 0'
printf '#!/bin/sh\nfor a; do case "$a" in *.o) echo "nvlink error   : Undefined reference to x in '"'"'$a'"'"'";; esac; done; exit 1\n' >"$WORK/linkfail_cuda/bin/nvlink"
CUDA_HOME="$WORK/linkfail_cuda" TMPDIR="$WORK/asm_tmp" run k.tl -o build/linkfail.cubin
if [ "$rc" -eq 3 ]; then pass "a failing nvlink (exit 3)"; else fail "a failing nvlink: exit $rc" "$err"; fi
expect_text "$err" "ptx assembly failed: nvlink (exit 1)" "a failing nvlink: says so"
expect_text "$err" "Undefined reference to x in 'tile_copy.o'" "a failing nvlink: its message names the batch's object"
if grep -q "asm_tmp\|/tlc-" <<<"$err"; then fail "a failing nvlink: the temporary directory shows in the message" "$err"
else pass "a failing nvlink: no temporary path in the message"; fi
# A file of one batch with IEEE divisions (ptxas's slow-path calls) is assembled
# whole-program, by ptxas alone: its failures are reported the same way.
cat > div.tl <<'TL'
kernel halve(A: Tensor((N,), float32), d: float32) {
  with Kernel(ceildiv(N, 256), threads=256) as (bx) {
    a = alloc_fragment((256,), float32);
    copy(A[bx * 256], a);
    for i in Parallel(256) { a[i] = a[i] / d; }
    copy(a, A[bx * 256]);
  }
}
TL
CUDA_HOME="$WORK/failing_cuda" TMPDIR="$WORK/asm_tmp" run div.tl -o build/div_failing.cubin
if [ "$rc" -eq 3 ]; then pass "whole-program: a failing ptxas (exit 3)"; else fail "whole-program: a failing ptxas: exit $rc" "$err"; fi
expect_text "$err" "ptxas halve.ptx, line 7; error   : Unknown symbol in halve.ptx" "whole-program: a failing ptxas names the batch"
if grep -q "asm_tmp\|/tlc-" <<<"$err"; then fail "whole-program: the temporary directory shows in the message" "$err"
else pass "whole-program: no temporary path in the message"; fi
# linkfail_cuda's ptxas succeeds and writes nothing; its nvlink is not run here.
CUDA_HOME="$WORK/linkfail_cuda" TMPDIR="$WORK/asm_tmp" run div.tl -o build/div_empty.cubin
if [ "$rc" -eq 3 ] && grep -q "cannot assemble the cubin: ptxas succeeded but wrote no cubin" <<<"$err" &&
   ! grep -q "nvlink\|asm_tmp\|/tlc-" <<<"$err"; then pass "whole-program: a ptxas that writes no cubin (exit 3, no nvlink)"
else fail "whole-program: a ptxas that writes no cubin: exit $rc" "$err"; fi
[ ! -e build/div_empty.cubin ] && pass "whole-program: no cubin written after a failure" || fail "whole-program: a cubin was written"
# A toolkit that does not assemble the architecture (CUDA 13's ptxas and sm_70): said
# as the toolkit's limit, with what to do, not as a failure of tlc's PTX.
fake_toolkit "$WORK/cuda13" 'case "$*" in *--version*) echo "Cuda compilation tools, release 13.0, V13.0.88"; exit 0;; esac
for a; do case "$a" in -arch=sm_7[0-2]|-arch=sm_100a) echo "ptxas fatal   : Value '"'"'${a#-arch=}'"'"' is not defined for option '"'"'gpu-name'"'"'"; exit 255;; esac; done; exit 0'
CUDA_HOME="$WORK/cuda13" TMPDIR="$WORK/asm_tmp" run k.tl --arch=sm_70 -o build/sm70.cubin
if [ "$rc" -eq 3 ]; then pass "an architecture the toolkit dropped (exit 3)"; else fail "an architecture the toolkit dropped: exit $rc" "$err"; fi
expect_text "$err" "tlc: error: cannot assemble the cubin: $WORK/cuda13/bin/ptxas (Cuda compilation tools, release 13.0, V13.0.88) does not assemble sm_70 (CUDA 13 dropped sm_50 to sm_72): set CUDA_HOME to a toolkit that does (CUDA 12), or stop at --emit=ptx" "an architecture the toolkit dropped: says so and what to do"
if grep -q "ptx assembly failed" <<<"$err"; then fail "an architecture the toolkit dropped: reported as an assembly failure" "$err"
else pass "an architecture the toolkit dropped: not reported as an assembly failure"; fi
[ ! -e build/sm70.cubin ] && pass "an architecture the toolkit dropped: no cubin written" || fail "an architecture the toolkit dropped: a cubin was written"
# One too new for the toolkit (an older CUDA and sm_100a): a newer toolkit, not CUDA 12.
CUDA_HOME="$WORK/cuda13" TMPDIR="$WORK/asm_tmp" run k.tl --arch=sm_100a -o build/sm100a.cubin
if [ "$rc" -eq 3 ] && grep -q "does not assemble sm_100a: set CUDA_HOME to a newer toolkit, or stop at --emit=ptx" <<<"$err" &&
   ! grep -q "CUDA 13 dropped" <<<"$err"; then pass "an architecture too new for the toolkit: says so (exit 3)"
else fail "an architecture too new for the toolkit: exit $rc" "$err"; fi
CUDA_HOME="$WORK/cuda13" run k.tl --arch=sm_70 --emit=ptx -o build/sm70.ptx
if [ "$rc" -eq 0 ] && grep -q "^.target sm_70" build/sm70.ptx; then pass "--arch=sm_70 --emit=ptx needs no ptxas"
else fail "--arch=sm_70 --emit=ptx: exit $rc" "$err"; fi
# The real toolkit, when it is CUDA 13 or newer (CUDA 12 still assembles sm_70).
real_ptxas="${CUDA_HOME:-/usr/local/cuda}/bin/ptxas"
if [ -x "$real_ptxas" ] && "$real_ptxas" --version | grep -q "release 1[3-9]\."; then
  TMPDIR="$WORK/asm_tmp" run k.tl --arch=sm_72 -o build/sm72.cubin
  if [ "$rc" -eq 3 ] && grep -q "does not assemble sm_72 (CUDA 13 dropped sm_50 to sm_72)" <<<"$err"; then
    pass "the toolkit's ptxas and sm_72: the toolkit's limit (exit 3)"
  else fail "the toolkit's ptxas and sm_72: exit $rc" "$err"; fi
fi
CUDA_HOME="$WORK/no_such_cuda" run k.tl -o build/nocuda.cubin
if [ "$rc" -eq 3 ]; then pass "no ptxas in CUDA_HOME (exit 3)"; else fail "no ptxas in CUDA_HOME: exit $rc" "$err"; fi
expect_text "$err" "ptxas not found (looked for ptxas in CUDA_HOME=$WORK/no_such_cuda/bin): set CUDA_HOME" "no ptxas: says where it looked"
mkdir -p "$WORK/half_cuda/bin" && cp "$WORK/failing_cuda/bin/ptxas" "$WORK/half_cuda/bin/"
CUDA_HOME="$WORK/half_cuda" run k.tl -o build/half.cubin
if [ "$rc" -eq 3 ]; then pass "a ptxas without nvlink beside it (exit 3)"; else fail "a ptxas without nvlink: exit $rc" "$err"; fi
expect_text "$err" "has no nvlink beside it" "a ptxas without nvlink: message"
TMPDIR="$WORK/no_such_tmp" run k.tl -o build/notmp.cubin
if [ "$rc" -eq 3 ]; then pass "an unusable TMPDIR (exit 3)"; else fail "an unusable TMPDIR: exit $rc" "$err"; fi
expect_text "$err" "cannot make a temporary directory $WORK/no_such_tmp/tlc-XXXXXX" "an unusable TMPDIR: message"
if [ -x "${CUDA_HOME:-/usr/local/cuda}/bin/ptxas" ]; then
  TMPDIR="$WORK/asm_tmp" run k.tl -o build/asm_ok.cubin -j 2
  if [ "$rc" -eq 0 ] && [ -s build/asm_ok.cubin ]; then pass "the toolkit's ptxas and nvlink (exit 0)"; else fail "the toolkit's ptxas: exit $rc" "$err"; fi
fi
leftovers=$(find asm_tmp -mindepth 1)
if [ -z "$leftovers" ]; then pass "the assembler's temporary directories are removed, after success and failure"
else fail "the assembler left files in TMPDIR" "$leftovers"; fi

echo
echo "$((checks - failures)) of $checks CLI checks passed"
[ "$failures" -eq 0 ]
