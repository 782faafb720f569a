#!/usr/bin/env bash
# run_all.sh: runs every GPU test in this folder and prints one markdown table.
#
# Runs on the GPU machine, from the folder scripts/build_gpu_tests.sh made (.gpu/):
#   bash .gpu/run_all.sh            # all tests
#   bash .gpu/run_all.sh tile_copy  # only tests whose name contains "tile_copy"
# First `ceiling` measures the D2D copy bandwidth (512 MiB) once; every test gets it in
# TLC_CEILING_GBS and reports its GB/s as a percentage of it. The full log goes to
# run_all.log beside this script (and to $OUT when that is set). Exit status: 0 when
# every row passed and no test crashed.
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
filter="${1:-}"
log="$here/run_all.log"
: >"$log"
rows="$here/rows.txt"
: >"$rows"
status=0

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | sed 's/^/# GPU: /' | tee -a "$log"

ceiling_out="$("$here/bin/ceiling" 2>&1)"
echo "$ceiling_out" >>"$log"
ceiling="$(echo "$ceiling_out" | sed -n 's/^CEILING|//p')"
if [ -z "$ceiling" ]; then
  echo "ceiling: failed to measure; percentages are left out" | tee -a "$log"
  echo "$ceiling_out"
  status=1
else
  export TLC_CEILING_GBS="$ceiling"
  echo "$ceiling_out" | grep '^RESULT|' >>"$rows"
fi

for test in "$here"/bin/*; do
  name="$(basename "$test")"
  [ "$name" = ceiling ] && continue
  [ -n "$filter" ] && [[ "$name" != *"$filter"* ]] && continue
  echo "== $name" >>"$log"
  start=$(date +%s)
  out="$(timeout 600 "$test" 2>&1)"
  rc=$?
  echo "$out" >>"$log"
  echo "(exit $rc after $(( $(date +%s) - start )) s)" >>"$log"
  echo "$out" | grep '^RESULT|' >>"$rows"
  if [ $rc -ne 0 ]; then
    status=1
    # Show why: the lines that are no result rows (mismatches, driver errors).
    echo "$out" | grep -v '^RESULT|' | head -10 | sed "s/^/[$name] /"
    if [ $rc -ne 1 ]; then
      echo "RESULT|$name|(crashed, exit $rc)|FAIL|-|-|-|-|-" >>"$rows"
    fi
  fi
done

echo
echo "| test | shape | result | max err | ms | GB/s | % of D2D copy | variant |"
echo "| --- | --- | --- | ---: | ---: | ---: | ---: | --- |"
sed 's/^RESULT|//; s/|/ | /g; s/^/| /; s/$/ |/' "$rows"
echo
if [ -n "$ceiling" ]; then echo "D2D copy ceiling: $ceiling GB/s (cuMemcpyDtoDAsync, 512 MiB, reads + writes)."; fi
if [ $status -eq 0 ]; then echo "ALL PASS"; else echo "SOME FAILED (details: $log)"; fi
if [ -n "${OUT:-}" ] && [ -d "${OUT:-}" ]; then cp "$log" "$OUT/" 2>/dev/null; fi
exit $status
