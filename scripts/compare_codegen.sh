#!/usr/bin/env bash
# compare_codegen.sh: which generated code a change touches, before any GPU run.
#
#   scripts/compare_codegen.sh OLD_TLC NEW_TLC [ptx|cubin]
#
# Compiles the corpus with both tlc binaries and compares the outputs byte for byte:
# every .tl of examples/, the spec's examples, tests/gpu/kernels, tests/golden and
# tests/tilelang that OLD_TLC compiles, at sm_90a; the examples and GPU kernels again
# at sm_80; and every benchmark configuration of scripts/build_bench.sh with its -D
# options. `ptx` (the default) compares --emit=ptx; `cubin` compares the cubins'
# ELF sections except .note.nv.tkinfo (the note naming the tools that made it), i.e.
# the machine code. Prints one line per output that differs (DIFF) or that the new
# tlc no longer compiles (NEWFAIL), then a count. A change whose outputs are all the
# same needs no GPU A/B; one that differs lists what the A/B must cover.
# Exit status: 0 when every output is the same, 1 otherwise.
set -u
old=$(realpath "${1:?usage: compare_codegen.sh OLD_TLC NEW_TLC [ptx|cubin]}")
new=$(realpath "${2:?usage: compare_codegen.sh OLD_TLC NEW_TLC [ptx|cubin]}")
mode=${3:-ptx}
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
spec="$repo/../shared/spec/examples"
[ -d "$spec" ] || spec=/work/shared/spec/examples
work=$(mktemp -d "${TMPDIR:-/tmp}/tlc-compare.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$repo" || exit 2

# Same machine code: every section but the toolkit note, by name, type, flags and bytes.
sections_equal() {
  python3 - "$1" "$2" <<'EOF'
import struct, sys
def sections(path):
    data = open(path, "rb").read()
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    entsize, count, names = struct.unpack_from("<HHH", data, 0x3A)
    headers = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * entsize) for i in range(count)]
    strtab = headers[names][4]
    out = {}
    for h in headers:
        name = data[strtab + h[0]:data.index(b"\0", strtab + h[0])].decode()
        out[name] = (h[1], h[2], h[7], data[h[4]:h[4] + h[5]] if h[1] != 8 else b"")
    out.pop(".note.nv.tkinfo", None)
    return out
sys.exit(0 if sections(sys.argv[1]) == sections(sys.argv[2]) else 1)
EOF
}

compared=0
same=0
differ=0
compare_one() {  # compare_one FILE OPTIONS...
  local file=$1
  shift
  if [ "$mode" = cubin ]; then
    "$old" "$file" -o "$work/old.cubin" --header "$work/old.h" "$@" >/dev/null 2>&1 || return 0
    if ! "$new" "$file" -o "$work/new.cubin" --header "$work/new.h" "$@" >/dev/null 2>&1; then
      echo "NEWFAIL $file $*"; differ=$((differ + 1)); return 0
    fi
    compared=$((compared + 1))
    if sections_equal "$work/old.cubin" "$work/new.cubin"; then same=$((same + 1)); else echo "DIFF $file $*"; differ=$((differ + 1)); fi
  else
    "$old" "$file" --emit=ptx -o "$work/old.ptx" "$@" >/dev/null 2>&1 || return 0
    if ! "$new" "$file" --emit=ptx -o "$work/new.ptx" "$@" >/dev/null 2>&1; then
      echo "NEWFAIL $file $*"; differ=$((differ + 1)); return 0
    fi
    compared=$((compared + 1))
    if cmp -s "$work/old.ptx" "$work/new.ptx"; then same=$((same + 1)); else echo "DIFF $file $*"; differ=$((differ + 1)); fi
  fi
}

for file in examples/*.tl examples/host_app/kernels/*.tl "$spec"/*.tl tests/gpu/kernels/*.tl \
            $(find tests/golden tests/tilelang -name '*.tl' | sort); do
  [ -f "$file" ] && compare_one "$file"
done
for file in examples/*.tl "$spec"/*.tl tests/gpu/kernels/*.tl; do
  [ -f "$file" ] && compare_one "$file" --arch=sm_80
done
# The benchmark configurations: "name|source.tl|tlc options|..." lines of build_bench.sh.
while IFS='|' read -r _ source options _; do
  for dir in examples tests/gpu/kernels "$spec"; do
    if [ -f "$dir/$source" ]; then
      # shellcheck disable=SC2086  # the options are words
      compare_one "$dir/$source" $options
      break
    fi
  done
done < <(grep -oE '^  "[A-Za-z0-9_]+\|[A-Za-z0-9_]+\.tl\|[^|]*\|' scripts/build_bench.sh | tr -d '"')

echo "compared $compared outputs ($mode): $same the same, $differ differ or no longer compile"
[ "$differ" -eq 0 ]
