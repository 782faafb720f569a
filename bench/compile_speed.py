#!/usr/bin/env python3
"""compile_speed.py: how fast tlc compiles, against nvcc on the same kernels (no GPU).

  python3 bench/compile_speed.py [--tlc build/tlc] [--nvcc /usr/local/cuda/bin/nvcc]
                                 [--repeats 5] [--sizes 1,10,100,1000] [--json PATH]
  python3 bench/compile_speed.py --memory [--memory-sizes 1,100,1000,4096] [--jobs 1,2]

1. Every spec example (../shared/spec/examples/*.tl) through `tlc FILE -o X.cubin`
   (cubin + header, the default), REPEATS times: median wall time, CPU time, peak
   memory, and tlc's own phase times (-v). Examples tlc rejects today are listed as such.
2. nvcc -cubin -arch=sm_90a -O3 on hand-written CUDA C++ equivalents (bench/cuda/*.cu:
   a shared-memory tile copy, a TMA tile copy, a transpose, an im2col, an axpy, a
   scale), the same way,
   and the ratio nvcc time / tlc time for each pair that both compile.
3. Growth: generated files of N kernels (N in --sizes; copies of the tile copy, axpy
   and scale examples under new names) through tlc, and the same number of CUDA
   kernels through nvcc: total time, time per kernel, peak memory.
4. (--memory: this section alone, no nvcc) Compile time and memory of big files:
   files of N copies of examples/tile_copy.tl's kernel under distinct names (N in
   --memory-sizes, up to the budget of 4096 kernels a file) and a file of macro-heavy
   kernels near both statement budgets of src/ir/Limits.def (each kernel about 4000
   statements, the file about 260,000), each through `tlc FILE -o X.cubin -j J` for J
   in --jobs (a tlc without -j: its one default): wall time, CPU time, peak memory.
Peak memory is the largest resident set of the compiler's process tree (ru_maxrss from
wait4, the number `/usr/bin/time -v` prints as "Maximum resident set size"); wall
time is taken around the process with a monotonic clock; CPU time (user + system of
the process tree, from wait4) is the steadier number on a shared machine. Prints markdown tables and
writes the numbers as JSON (default .bench/compile_speed.json).
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(REPO, "bench")

# tlc example -> its hand-written CUDA equivalents in bench/cuda
PAIRS = [("tile_copy", "tile_copy.cu"), ("tile_copy", "tile_copy_tma.cu"), ("transpose", "transpose.cu"),
         ("im2col", "im2col.cu"), ("axpy_fragment", "axpy.cu"), ("scale_ptr", "scale.cu")]


def measure(cmd, cwd):
    """One run: (wall seconds, CPU seconds, peak RSS MiB, returncode, stderr text)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime  # the whole process tree's user + system time
    return wall, cpu, usage.ru_maxrss / 1024.0, proc.returncode, stderr.decode(errors="replace")


def repeated(cmd, cwd, repeats):
    """Median wall time and largest peak memory of `repeats` runs, or the failure."""
    walls, cpus, peaks, last = [], [], [], ""
    for _ in range(repeats):
        wall, cpu, peak, rc, err = measure(cmd, cwd)
        if rc != 0:
            return dict(ok=False, error=first_error(err) or f"exit {rc}")
        walls.append(wall)
        cpus.append(cpu)
        peaks.append(peak)
        last = err
    return dict(ok=True, wall_s=statistics.median(walls), min_s=min(walls), cpu_s=statistics.median(cpus),
                peak_mib=max(peaks), stderr=last)


def first_error(text):
    for line in text.splitlines():
        if "error" in line:
            return re.sub(r"^\S+: error: ", "", line).strip()
    return text.strip().splitlines()[0] if text.strip() else ""


def phases(stderr):
    """tlc -v lines `tlc: NAME  12.34 ms` -> {NAME: ms}."""
    found = {}
    for m in re.finditer(r"^tlc: (\w+)\s+([0-9.]+) ms", stderr, re.M):
        found[m.group(1)] = float(m.group(2))
    return found


def spec_examples():
    for d in (os.path.join(REPO, "..", "shared", "spec", "examples"), "/work/shared/spec/examples"):
        if os.path.isdir(d):
            return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".tl"))
    return []


# ------------------------------------------------------------------ generated files

TL_CONSTS = """const BM = 128;
const BN = 128;
const FM = 64;
const FN = 256;
const BLOCK = 1024;
"""
TL_TEMPLATES = [
    """kernel copy_{i}(A: Tensor((M, N), float16), B: Tensor((M, N), float16)) {{
  with Kernel(ceildiv(N, BN), ceildiv(M, BM), threads=128) as (bx, by) {{
    A_s = alloc_shared((BM, BN), float16);
    copy(A[by * BM, bx * BN], A_s);
    copy(A_s, B[by * BM, bx * BN]);
  }}
}}
""",
    """kernel axpy_{i}(A: Tensor((M, N), float32), B: Tensor((M, N), float32),
            C: Tensor((M, N), float32), alpha: float32) {{
  with Kernel(ceildiv(N, FN), ceildiv(M, FM), threads=256) as (bx, by) {{
    a = alloc_fragment((FM, FN), float32);
    b = alloc_fragment((FM, FN), float32);
    copy(A[by * FM, bx * FN], a);
    copy(B[by * FM, bx * FN], b);
    for i, j in Parallel(FM, FN) {{
      a[i, j] = a[i, j] + alpha * b[i, j];
    }}
    copy(a, C[by * FM, bx * FN]);
  }}
}}
""",
    """kernel scale_{i}(p: ptr(float32), q: ptr(float32), n: int32, s: float32) {{
  with Kernel(ceildiv(n, BLOCK), threads=256) as (bx) {{
    X = make_tensor(p, (n,), float32);
    Y = make_tensor(q, (n,), float32);
    f = alloc_fragment((BLOCK,), float32);
    copy(X[bx * BLOCK], f, prefer_instruction="sync");
    for i in Parallel(BLOCK) {{
      f[i] = f[i] * s;
    }}
    copy(f, Y[bx * BLOCK]);
  }}
}}
""",
]


GROWTH_CUDA = ["tile_copy.cu", "axpy.cu", "scale.cu"]  # the same three jobs as TL_TEMPLATES


def generated_cu(count):
    """Kernel i: bench/cuda/<one of GROWTH_CUDA> in a namespace of its own, its entries
    renamed with the suffix _i; both entries (aligned and general) are kept, since tlc
    emits both variants of each of its kernels too."""
    includes, bodies = set(), []
    for name in GROWTH_CUDA:
        text = open(os.path.join(BENCH, "cuda", name)).read()
        includes.update(re.findall(r"^#include .*$", text, re.M))
        entries = re.findall(r'extern "C" __global__ void __launch_bounds__\(\w+\)\s+(\w+)\(', text)
        bodies.append((re.sub(r"^#include .*$", "", text, flags=re.M), entries))
    parts = [f"// {count} kernels generated by bench/compile_speed.py"] + sorted(includes)
    for i in range(count):
        text, entries = bodies[i % len(bodies)]
        for entry in entries:
            text = re.sub(rf"\b{entry}\(", f"{entry}_{i:04d}(", text)
        parts.append(f"namespace k{i:04d} {{\n{text}\n}}")
    return "\n".join(parts) + "\n"


def generated_tl(count):
    parts = [f"// {count} kernels generated by bench/compile_speed.py\n", TL_CONSTS]
    for i in range(count):
        parts.append(TL_TEMPLATES[i % len(TL_TEMPLATES)].format(i=f"{i:04d}"))
    return "\n".join(parts)


def tile_copy_copies(count):
    """N copies of examples/tile_copy.tl's kernel, tile_copy_0000 ... (one file). Each
    counts about 65 statements, so past about 4000 of them the file would pass the
    budget of 262,144 statements: more copies take 32 x 64 tiles instead of 128 x 128."""
    text = open(os.path.join(REPO, "examples", "tile_copy.tl")).read()
    if count > 4000:
        text = text.replace("const BM = 128;", "const BM = 32;").replace("const BN = 128;", "const BN = 64;")
    head, kernel = text.split("kernel tile_copy(", 1)
    body = "kernel tile_copy_{i}(" + kernel
    return f"// {count} kernels generated by bench/compile_speed.py\n" + head + "".join(
        body.replace("tile_copy_{i}", f"tile_copy_{i:04d}") for i in range(count))


# Statements sema counts for a call of macro m<d> below (Limits.def): the call, and
# each of the two calls of m<d-1> in its body; m0's body is one statement.
def chain_statements(depth):
    return 1 if depth == 0 else 2 * (1 + chain_statements(depth - 1))


MACRO_CHAIN_DEPTHS = (10, 8, 6)  # 3070 + 766 + 190 statements a kernel, near the 4096 budget


def macro_heavy(kernels=None):
    """Kernels of about 4000 expanded statements each (a chain of macros each calling
    the previous one twice), as many as the budget of 262,144 statements a file allows."""
    per_kernel = sum(chain_statements(d) + 1 for d in MACRO_CHAIN_DEPTHS) + 1  # + the calls, the alloc
    if kernels is None:
        kernels = 262144 // per_kernel
    parts = [f"// {kernels} macro-heavy kernels generated by bench/compile_speed.py\n",
             "macro m0(t: SharedBuffer((32,), float32)) { t[0] = t[0] + 1.0; }\n"]
    for d in range(1, max(MACRO_CHAIN_DEPTHS) + 1):
        parts.append(f"macro m{d}(t: SharedBuffer((32,), float32)) {{ m{d - 1}(t); m{d - 1}(t); }}\n")
    calls = " ".join(f"m{d}(s);" for d in MACRO_CHAIN_DEPTHS)
    for i in range(kernels):
        parts.append(f"kernel chain_{i:04d}(A: Tensor((N,), float32)) {{\n  with Kernel(1, threads=128) as (bx) {{\n"
                     f"    s = alloc_shared((32,), float32);\n    {calls}\n  }}\n}}\n")
    return "".join(parts), kernels, kernels * per_kernel


def memory_section(tlc, tmp, sizes, jobs, macros=True):
    """Section 4: wall, CPU and peak memory of big files, per -j."""
    has_jobs = "-j N" in subprocess.run([tlc, "--help"], capture_output=True, text=True).stdout
    job_values = jobs if has_jobs else [None]
    files = []
    for count in sizes:
        files.append((f"{count} x tile_copy" + (" (32x64)" if count > 4000 else ""), count, None,
                      tile_copy_copies(count)))
    if macros:
        text, kernels, statements = macro_heavy()
        files.append((f"{kernels} x macro chains", kernels, statements, text))
    print("| file | kernels | -j | wall s | CPU s | peak MiB | cubin KB | result |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    rows = []
    for name, count, statements, text in files:
        path = os.path.join(tmp, re.sub(r"\W+", "_", name) + ".tl")
        open(path, "w").write(text)
        outputs = {}
        for j in job_values:
            cubin = os.path.join(tmp, f"mem_{j}.cubin")
            cmd = [tlc, path, "-o", cubin] + ([f"-j{j}"] if j else [])
            wall, cpu, peak, rc, err = measure(cmd, tmp)
            ok = rc == 0
            size = os.path.getsize(cubin) / 1024 if ok else 0
            if ok:
                outputs[j] = open(cubin, "rb").read() + open(cubin[:-6] + ".h", "rb").read()
            rows.append(dict(file=name, kernels=count, statements=statements, jobs=j, wall_s=wall, cpu_s=cpu,
                             peak_mib=peak, ok=ok, error=None if ok else first_error(err) or f"exit {rc}"))
            print(f"| {name} | {count} | {j or 'default'} | {wall:.2f} | {cpu:.2f} | {peak:.0f} | "
                  f"{size:.0f} | {'ok' if ok else 'failed: ' + rows[-1]['error'][:60]} |", flush=True)
        if len(set(outputs.values())) > 1:
            print(f"| {name} | | | | | | | OUTPUTS DIFFER between -j values |")
    return rows


# ------------------------------------------------------------------ main

def fmt_ms(seconds):
    return f"{seconds * 1e3:.0f}" if seconds >= 0.1 else f"{seconds * 1e3:.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tlc", default=os.environ.get("TLC", os.path.join(REPO, "build", "tlc")))
    ap.add_argument("--nvcc", default=shutil.which("nvcc") or "/usr/local/cuda/bin/nvcc")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--sizes", default="1,10,100,1000")
    ap.add_argument("--json", default=os.path.join(REPO, ".bench", "compile_speed.json"))
    ap.add_argument("--memory", action="store_true", help="only section 4: big files' time and memory (no nvcc)")
    ap.add_argument("--memory-sizes", default="1,100,1000,4096")
    ap.add_argument("--jobs", default="1,2", help="section 4: the -j values (when tlc has -j)")
    ap.add_argument("--no-macros", action="store_true", help="section 4 without the macro-heavy file")
    args = ap.parse_args()
    tlc, nvcc = os.path.abspath(args.tlc), args.nvcc
    for tool in (tlc,) if args.memory else (tlc, nvcc):
        if not os.access(tool, os.X_OK):
            sys.exit(f"compile_speed: no executable {tool}")

    tmp = tempfile.mkdtemp(prefix="tlc_compile_speed_")
    # A private copy: colleagues rebuild build/tlc at any time, and one run must time one binary.
    built = datetime.datetime.fromtimestamp(os.path.getmtime(tlc), datetime.timezone.utc).strftime("%H:%M UTC")
    snapshot = os.path.join(tmp, "tlc")
    shutil.copy2(tlc, snapshot)
    tlc_path, tlc = tlc, snapshot
    version = subprocess.run([tlc, "--version"], capture_output=True, text=True).stdout.splitlines()
    nvcc_version = [] if args.memory else \
        subprocess.run([nvcc, "--version"], capture_output=True, text=True).stdout.strip().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor())
    env = dict(date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               machine=f"{cpu}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start",
               tlc=" / ".join(v.strip() for v in version[:4]) + f" ({tlc_path}, built {built})",
               nvcc=nvcc_version[-1] if nvcc_version else "?",
               repeats=args.repeats)
    print(f"# compile speed, {env['date']}: {env['machine']}")
    print(f"# tlc: {env['tlc']}; nvcc: {env['nvcc']}; median of {args.repeats} runs each\n")
    if args.memory:
        rows = memory_section(tlc, tmp, [int(s) for s in args.memory_sizes.split(",") if s],
                              [int(j) for j in args.jobs.split(",") if j], macros=not args.no_macros)
        if args.json:
            os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
            with open(args.json, "w") as f:
                json.dump(dict(env=env, memory=rows), f, indent=1)
        shutil.rmtree(tmp, ignore_errors=True)
        return 0 if all(r["ok"] for r in rows) else 1

    # 0. starting the process at all (nvcc is a driver of several tools). Not tlc's
    # --version: it runs ptxas --version to name the assembler a cubin would get.
    startup = {}
    for name, cmd in (("tlc", [tlc, "--help"]), ("nvcc", [nvcc, "--version"])):
        r = repeated(cmd, tmp, args.repeats)
        r.pop("stderr", None)
        startup[name] = r
    if startup["tlc"]["ok"] and startup["nvcc"]["ok"]:
        print("Starting the process alone (`tlc --help`, `nvcc --version`): tlc {:.1f} ms wall, {:.1f} ms CPU; nvcc {:.1f} ms wall, "
              "{:.1f} ms CPU.\n".format(startup["tlc"]["wall_s"] * 1e3, startup["tlc"]["cpu_s"] * 1e3,
                                       startup["nvcc"]["wall_s"] * 1e3, startup["nvcc"]["cpu_s"] * 1e3))

    # 1. the examples
    examples = {}
    print("| example | tlc ms (median) | fastest | CPU ms | peak MiB | parse | llvm | ptx | cubin | header | result |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for path in spec_examples():
        name = os.path.basename(path)[:-3]
        r = repeated([tlc, "-v", path, "-o", os.path.join(tmp, name + ".cubin")], tmp, args.repeats)
        if r["ok"]:
            ph = phases(r.pop("stderr"))
            r["phases_ms"] = ph
            print(f"| {name} | {fmt_ms(r['wall_s'])} | {fmt_ms(r['min_s'])} | {fmt_ms(r['cpu_s'])} | "
                  f"{r['peak_mib']:.0f} | "
                  + " | ".join(f"{ph.get(k, 0):.1f}" for k in ("parse", "llvm", "ptx", "cubin", "header"))
                  + " | cubin + header |")
        else:
            print(f"| {name} | - | - | - | - | | | | | | rejected: {r['error'][:90]} |")
        examples[name] = r
    ok = [r for r in examples.values() if r["ok"]]
    if ok:
        walls, cpus = [r["wall_s"] for r in ok], [r["cpu_s"] for r in ok]
        print(f"\nCompiled {len(ok)} of {len(examples)} examples. Wall: median {fmt_ms(statistics.median(walls))} ms, "
              f"slowest {fmt_ms(max(walls))} ms; CPU: median {fmt_ms(statistics.median(cpus))} ms, slowest "
              f"{fmt_ms(max(cpus))} ms (goal: 50 ms each).")

    # 2. nvcc on the hand-written equivalents
    print("\n| kernel | tlc ms | nvcc ms (.cu) | nvcc / tlc | same, CPU time | tlc peak MiB | nvcc peak MiB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    pairs = []
    for example, cu in PAIRS:
        n = repeated([nvcc, "-cubin", "-arch=sm_90a", "-O3", os.path.join(BENCH, "cuda", cu), "-o",
                      os.path.join(tmp, cu + ".cubin")], tmp, args.repeats)
        n.pop("stderr", None)
        t = examples.get(example, dict(ok=False, error="no such example"))
        ratio = n["wall_s"] / t["wall_s"] if n["ok"] and t["ok"] else None
        pairs.append(dict(example=example, cuda=cu, tlc=t, nvcc=n, ratio=ratio))
        tlc_ms = fmt_ms(t["wall_s"]) if t["ok"] else "not yet compiled"
        nvcc_ms = fmt_ms(n["wall_s"]) if n["ok"] else "failed: " + n["error"][:60]
        tlc_peak = f"{t['peak_mib']:.0f}" if t["ok"] else "-"
        nvcc_peak = f"{n['peak_mib']:.0f}" if n["ok"] else "-"
        cpu_ratio = f"{n['cpu_s'] / t['cpu_s']:.1f}x" if ratio else "-"
        print(f"| {example}.tl vs {cu} | {tlc_ms} | {nvcc_ms} | {f'{ratio:.1f}x' if ratio else '-'} | {cpu_ratio} | "
              f"{tlc_peak} | {nvcc_peak} |")

    # 3. growth with the number of kernels
    sizes = [int(s) for s in args.sizes.split(",") if s]
    print("\n| kernels in one file | tlc s | tlc ms/kernel | tlc CPU s | tlc peak MiB | nvcc s | nvcc ms/kernel "
          "| nvcc CPU s | nvcc peak MiB | nvcc / tlc |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    growth = []
    for count in sizes:
        tl_path = os.path.join(tmp, f"many_{count}.tl")
        cu_path = os.path.join(tmp, f"many_{count}.cu")
        open(tl_path, "w").write(generated_tl(count))
        open(cu_path, "w").write(generated_cu(count))
        reps = args.repeats if count <= 10 else (3 if count <= 100 else 1)
        t = repeated([tlc, "-v", tl_path, "-o", os.path.join(tmp, f"many_{count}.cubin")], tmp, reps)
        n = repeated([nvcc, "-cubin", "-arch=sm_90a", "-O3", cu_path, "-o", os.path.join(tmp, f"many_{count}_cu.cubin")],
                     tmp, reps)
        if t["ok"]:
            t["phases_ms"] = phases(t.pop("stderr"))
        n.pop("stderr", None)
        growth.append(dict(kernels=count, tlc=t, nvcc=n, repeats=reps))

        def cells(r):
            if not r["ok"]:
                return f"failed: {r['error'][:50]} | - | - | -"
            return f"{r['wall_s']:.2f} | {r['wall_s'] * 1e3 / count:.1f} | {r['cpu_s']:.2f} | {r['peak_mib']:.0f}"
        ratio = f"{n['wall_s'] / t['wall_s']:.1f}x" if t["ok"] and n["ok"] else "-"
        print(f"| {count} | {cells(t)} | {cells(n)} | {ratio} |", flush=True)

    document = dict(env=env, startup=startup, examples=examples, pairs=pairs, growth=growth)
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(document, f, indent=1)
        print(f"\n(numbers in {os.path.relpath(args.json, os.getcwd())})")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
