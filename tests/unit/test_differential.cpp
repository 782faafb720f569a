// Differential fuzzing of lowering (issue 25): random well-typed tile programs whose
// meaning the generator knows (what every output element must hold, computed here
// from the program's description, not from any IR), compiled to loop IR and run in
// the interpreter on ragged shapes and misaligned bases, every variant, sm_90a and
// sm_80, both thread schedules. A lowering bug in a predicate, a partition, an index,
// a layout, a copy path, a pipeline or a barrier shows as an output element that
// differs, an element left poisoned, or an interpreter error (out of bounds, a race
// between schedules, a deadlock).
//
// A program: an M x N (or N) tensor A copied to B tile by tile, by one of several
// paths (global -> global; through a shared tile, a fragment or both, in either
// order; a Parallel loop over global elements; a serial or Pipelined loop of tiles
// over the row), with dtype conversions on the way and an element-wise operation in
// a Parallel loop on the fragment or shared tile; A's tiles may start a few rows
// further on than B's (reading past A's end, which must give zeros).
//
// CI runs TLC_DIFF_PROGRAMS programs (default 60) from seed TLC_DIFF_SEED (default 1);
// a long run: `TLC_DIFF_PROGRAMS=5000 TLC_DIFF_SEED=7 build/tlc_unit_tests -tc='differential*'`.
// A failure prints the program's source and the shape, enough to reproduce it.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "LowerForTest.h"
#include "interp/Interpreter.h"
#include "ir/Target.h"

using namespace tlc;
using interp::HostBuffer;

namespace {

enum class Path {
  GlobalToGlobal,      // copy(A[region], B[region])
  ViaShared,           // A -> s -> B, the operation on s
  ViaFragment,         // A -> f -> B, the operation on f
  SharedThenFragment,  // A -> s -> f -> B
  FragmentThenShared,  // A -> f -> s -> B
  ParallelOnGlobal,    // B[i, j] = op(A[i, j]) in a Parallel loop over the tile
  RowLoop,             // one block per row tile, a serial or Pipelined loop over column tiles
};
constexpr int kPaths = 7;

enum class Op { Identity, TimesTwoPlusOne, Negate, MaxHalf };
constexpr int kOps = 4;

struct DTypeInfo {
  ir::DType dtype;
  const char* name;
  bool isFloat;
};
const DTypeInfo kFloats[] = {{ir::DType::Float32, "float32", true},
                             {ir::DType::Float16, "float16", true},
                             {ir::DType::BFloat16, "bfloat16", true}};
const DTypeInfo kInts[] = {{ir::DType::Int32, "int32", false}, {ir::DType::Int16, "int16", false}};

struct Program {
  int rank = 2;
  int BM = 1, BN = 1, threads = 128;
  DTypeInfo in{}, mid{}, out{};
  Path path = Path::ViaShared;
  Op op = Op::Identity;
  int stages = 0;  // RowLoop: 0 a serial `for k in range`, else Pipelined(num_stages=stages)
  int shift = 0;   // A's tiles start this many rows (rank 1: elements) further on

  // The value B holds for an A element `a` (exact in A's dtype): converted to the
  // intermediate dtype, the operation done there (its result rounded to it), then
  // converted to B's dtype. Every conversion is one rounding to nearest (the
  // integer family only widens, and its values stay small).
  double expected(double a) const {
    double v = roundTo(mid.dtype, a);
    switch (op) {
      case Op::Identity: break;
      case Op::TimesTwoPlusOne: v = roundTo(mid.dtype, v * 2 + 1); break;
      case Op::Negate: v = -v; break;
      case Op::MaxHalf: v = mid.isFloat ? std::max(v, 0.5) : std::max(v, 3.0); break;
    }
    return roundTo(out.dtype, v);
  }

  static double roundTo(ir::DType t, double x) {
    HostBuffer one(t, 1);
    one.set(0, x);
    return one.get(0);
  }

  std::string opOn(const std::string& x) const {
    switch (op) {
      case Op::Identity: return x;
      case Op::TimesTwoPlusOne: return x + " * 2 + 1";
      case Op::Negate: return "-" + x;
      case Op::MaxHalf: return mid.isFloat ? "max(" + x + ", 0.5)" : "max(" + x + ", 3)";
    }
    return x;
  }

  // The tile's shape, its origin in the tensor, a region of it, and the loop over it.
  std::string tileShape() const {
    return rank == 1 ? "(" + std::to_string(BN) + ",)" : "(" + std::to_string(BM) + ", " + std::to_string(BN) + ")";
  }
  // `source`: A's side, `shift` further along the first axis.
  std::string plusShift(bool source) const { return source && shift ? " + " + std::to_string(shift) : ""; }
  std::string origin(const std::string& col, bool source) const {
    return rank == 1 ? col + " * " + std::to_string(BN) + plusShift(source)
                     : "by * " + std::to_string(BM) + plusShift(source) + ", " + col + " * " + std::to_string(BN);
  }
  std::string region(const std::string& col, bool source) const {
    auto slice = [](const std::string& start, int extent) {
      return start + " : " + start + " + " + std::to_string(extent);
    };
    std::string c = col + " * " + std::to_string(BN);
    if (rank == 1) return slice(c + plusShift(source), BN);
    return slice("by * " + std::to_string(BM) + plusShift(source), BM) + ", " + slice(c, BN);
  }
  std::string parallelHead() const {
    return rank == 1 ? "for j in Parallel(" + std::to_string(BN) + ")"
                     : "for i, j in Parallel(" + std::to_string(BM) + ", " + std::to_string(BN) + ")";
  }
  std::string element(const std::string& buffer) const { return buffer + (rank == 1 ? "[j]" : "[i, j]"); }
  std::string globalElement(const std::string& buffer, bool source) const {
    std::string j = "bx * " + std::to_string(BN) + " + j";
    return buffer + (rank == 1 ? "[" + j + plusShift(source) + "]"
                               : "[by * " + std::to_string(BM) + " + i" + plusShift(source) + ", " + j + "]");
  }
  std::string opLoop(const std::string& tile) const {
    if (op == Op::Identity) return "";
    return "    " + parallelHead() + " { " + element(tile) + " = " + opOn(element(tile)) + "; }\n";
  }

  std::string source() const {
    std::ostringstream s;
    std::string shape = rank == 1 ? "(N,)" : "(M, N)";
    s << "kernel k(A: Tensor(" << shape << ", " << in.name << "), B: Tensor(" << shape << ", " << out.name << ")) {\n";
    std::string grid = rank == 1 ? "ceildiv(N, " + std::to_string(BN) + ")"
                                 : "ceildiv(N, " + std::to_string(BN) + "), ceildiv(M, " + std::to_string(BM) + ")";
    std::string blocks = rank == 1 ? "bx" : "(bx, by)";
    if (path == Path::RowLoop) {
      grid = rank == 1 ? "1" : "ceildiv(M, " + std::to_string(BM) + ")";
      blocks = rank == 1 ? "bz" : "by";
    }
    s << "  with Kernel(" << grid << ", threads=" << threads << ") as " << blocks << " {\n";
    std::string sh = "s = alloc_shared(" + tileShape() + ", " + mid.name + ");\n";
    std::string fr = "f = alloc_fragment(" + tileShape() + ", " + mid.name + ");\n";
    switch (path) {
      case Path::GlobalToGlobal:
        s << "    copy(A[" << region("bx", true) << "], B[" << region("bx", false) << "]);\n";
        break;
      case Path::ViaShared:
        s << "    " << sh << "    copy(A[" << origin("bx", true) << "], s);\n" << opLoop("s") << "    copy(s, B[" << origin("bx", false) << "]);\n";
        break;
      case Path::ViaFragment:
        s << "    " << fr << "    copy(A[" << origin("bx", true) << "], f);\n" << opLoop("f") << "    copy(f, B[" << origin("bx", false) << "]);\n";
        break;
      case Path::SharedThenFragment:
        s << "    " << sh << "    " << fr << "    copy(A[" << origin("bx", true) << "], s);\n    copy(s, f);\n"
          << opLoop("f") << "    copy(f, B[" << origin("bx", false) << "]);\n";
        break;
      case Path::FragmentThenShared:
        s << "    " << sh << "    " << fr << "    copy(A[" << origin("bx", true) << "], f);\n" << opLoop("f")
          << "    copy(f, s);\n    copy(s, B[" << origin("bx", false) << "]);\n";
        break;
      case Path::ParallelOnGlobal: {
        std::string value = opOn(globalElement("A", true));
        if (op == Op::TimesTwoPlusOne || op == Op::Negate) value = "(" + value + ")";
        s << "    " << parallelHead() << " { " << globalElement("B", false) << " = cast(" << value << ", " << out.name << "); }\n";
        break;
      }
      case Path::RowLoop: {
        std::string loop = stages ? "for k in Pipelined(ceildiv(N, " + std::to_string(BN) + "), num_stages=" +
                                        std::to_string(stages) + ")"
                                  : "for k in range(ceildiv(N, " + std::to_string(BN) + "))";
        s << "    " << sh << "    " << loop << " {\n      copy(A[" << origin("k", true) << "], s);\n";
        std::string body = opLoop("s");
        if (!body.empty()) s << "  " << body;
        s << "      copy(s, B[" << origin("k", false) << "]);\n    }\n";
        break;
      }
    }
    s << "  }\n}\n";
    return s.str();
  }
};

template <class T, size_t K>
const T& pick(std::mt19937& rng, const T (&options)[K]) {
  return options[std::uniform_int_distribution<size_t>(0, K - 1)(rng)];
}

Program randomProgram(std::mt19937& rng) {
  Program p;
  auto chance = [&](double x) { return std::uniform_real_distribution<double>(0, 1)(rng) < x; };
  p.rank = chance(0.25) ? 1 : 2;
  const int rows[] = {1, 2, 3, 4, 8, 16, 32};
  const int cols[] = {1, 2, 4, 5, 8, 16, 32, 64, 128};
  const int threads[] = {32, 64, 96, 128, 256};
  p.BM = p.rank == 1 ? 1 : pick(rng, rows);
  p.BN = pick(rng, cols);
  p.threads = pick(rng, threads);
  p.path = Path(std::uniform_int_distribution<int>(0, kPaths - 1)(rng));
  if (chance(0.75)) {
    p.in = pick(rng, kFloats);
    p.mid = chance(0.5) ? p.in : pick(rng, kFloats);
    p.out = chance(0.5) ? p.mid : pick(rng, kFloats);
  } else {  // integers: int16 -> int32 widening only, so every value stays exact
    p.in = pick(rng, kInts);
    p.mid = p.in.dtype == ir::DType::Int16 && chance(0.5) ? kInts[0] : p.in;
    p.out = p.mid.dtype == ir::DType::Int16 && chance(0.5) ? kInts[0] : p.mid;
  }
  // A copy between global tensors and a Parallel loop over global elements have no
  // intermediate tile; the copy has no operation.
  if (p.path == Path::GlobalToGlobal) {
    p.mid = p.in;
    p.op = Op::Identity;
  } else {
    p.op = Op(std::uniform_int_distribution<int>(0, kOps - 1)(rng));
  }
  if (p.path == Path::ParallelOnGlobal) p.mid = p.in;
  if (p.path == Path::RowLoop) p.stages = std::uniform_int_distribution<int>(0, 3)(rng);
  if (chance(0.3)) p.shift = std::uniform_int_distribution<int>(1, 3)(rng);
  return p;
}

int envInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

// Runs every variant of `module` on one shape; returns the variants that ran.
int runShape(const Program& p, const ir::Module& module, int M, int N, int64_t misalignElements, uint32_t seed,
             const std::string& what) {
  int ran = 0;
  const int64_t count = p.rank == 1 ? int64_t(N) : int64_t(M) * N;
  for (const ir::Kernel& kernel : module.kernels) {
    for (interp::ThreadOrder order : {interp::ThreadOrder::Ascending, interp::ThreadOrder::Descending}) {
      HostBuffer A(p.in.dtype, count), B(p.out.dtype, count);
      std::mt19937 rng(seed);
      std::uniform_int_distribution<int> small(-100, 100);
      std::uniform_real_distribution<double> value(-4.0, 4.0);
      for (int64_t i = 0; i < count; ++i) A.set(i, p.in.isFloat ? value(rng) : small(rng));
      B.fill(0xA5);
      const int64_t bytesIn = int64_t(ir::bits(p.in.dtype) / 8), bytesOut = int64_t(ir::bits(p.out.dtype) / 8);
      A.addressOffset = misalignElements * bytesIn;
      B.addressOffset = misalignElements * bytesOut;
      interp::Arguments args;
      args.pointer("A", A);
      args.pointer("B", B);
      if (p.rank == 2) args.dim("M", M);
      args.dim("N", N);
      if (!interp::assumptionsHold(kernel, args)) continue;
      interp::Options options;
      options.order = order;
      if (order == interp::ThreadOrder::Descending) options.asyncCopies = interp::AsyncCopies::AtIssue;
      interp::Result r = interp::run(kernel, args, options);
      const std::string run = what + ", variant " + kernel.name +
                              (order == interp::ThreadOrder::Ascending ? ", ascending" : ", descending");
      INFO(run);
      REQUIRE_MESSAGE(r.ok, r.text());
      int64_t bad = 0;
      std::string first;
      for (int64_t i = 0; i < count; ++i) {
        // B's element (m, n) comes from A's (m + shift, n); past A's end, a copy reads
        // (and a guarded load gives) zero, A's default safe value.
        int64_t from = p.rank == 1 ? i + p.shift : i + int64_t(p.shift) * N;
        double want = p.expected(from < count ? A.get(from) : 0.0), got = B.get(i);
        if (got == want || (std::isnan(got) && std::isnan(want))) continue;
        if (bad++ == 0)
          first = "element " + std::to_string(i) + ": A " + std::to_string(A.get(i)) + ", B " + std::to_string(got) +
                  ", want " + std::to_string(want);
      }
      CHECK_MESSAGE(bad == 0, first << " (" << bad << " of " << count << " elements differ)");
      if (bad) return -1;
      ++ran;
    }
  }
  return ran;
}

// Both targets, three shapes (aligned, one and three elements off); returns the runs.
int checkProgram(const Program& p, std::mt19937& rng, const std::string& label) {
  static const int extents[] = {1, 2, 3, 7, 8, 13, 16, 31, 33, 64, 97, 130};
  const std::string source = p.source();
  int runs = 0;
  for (const Target& target : {Target::hopper(), *Target::fromArch("sm_80")}) {
    INFO(label << " for " << target.arch() << ":\n" << source);
    auto module = test::lowerForTest(source, target);
    for (int shape = 0; shape < 3; ++shape) {
      int M = pick(rng, extents), N = pick(rng, extents);
      // Shape 0 aligned, then a base one element past alignment (the general variant),
      // then one of three elements past it.
      int64_t misalign = shape == 0 ? 0 : shape == 1 ? 1 : 3;
      std::ostringstream what;
      what << "M " << M << " N " << N << " misaligned by " << misalign << " elements";
      int ran = runShape(p, *module, M, N, misalign, rng(), what.str());
      REQUIRE(ran >= 0);
      runs += ran;
    }
  }
  return runs;
}

// ------------------------------------------------------------------ reductions

// A reduction program: R = reduce_<op>(A) along `dim` (1: per row, R (M,); 0: per
// column, R (N,)), one block per BM rows (BN columns), a loop over the other axis's
// tiles: the first tile with clear=True, the rest with clear=False. Inputs are small
// integers, so every order of summation gives the same float32 (or float16/bfloat16
// max) and the result is exact. A ragged last tile adds its padding's zeros (a copy's
// safe value) to the fold, as the language says.
enum class Reduce { Sum, Max, Min, AbsSum, AbsMax };
const char* const kReduceNames[] = {"reduce_sum", "reduce_max", "reduce_min", "reduce_abssum", "reduce_absmax"};

struct ReductionProgram {
  Reduce op = Reduce::Sum;
  int dim = 1;
  int BM = 1, BN = 1, threads = 128;
  DTypeInfo in{}, out{};
  bool srcShared = false, dstShared = false;

  std::string source() const {
    std::ostringstream s;
    const std::string outShape = dim == 1 ? "(M,)" : "(N,)";
    const std::string tile = "(" + std::to_string(BM) + ", " + std::to_string(BN) + ")";
    const std::string kept = "(" + std::to_string(dim == 1 ? BM : BN) + ",)";
    auto at = [&](const std::string& k) {
      return dim == 1 ? "b * " + std::to_string(BM) + ", " + k + " * " + std::to_string(BN)
                      : k + " * " + std::to_string(BM) + ", b * " + std::to_string(BN);
    };
    const std::string tiles = dim == 1 ? "ceildiv(N, " + std::to_string(BN) + ")" : "ceildiv(M, " + std::to_string(BM) + ")";
    s << "kernel k(A: Tensor((M, N), " << in.name << "), R: Tensor(" << outShape << ", " << out.name << ")) {\n"
      << "  with Kernel(" << (dim == 1 ? "ceildiv(M, " + std::to_string(BM) + ")" : "ceildiv(N, " + std::to_string(BN) + ")")
      << ", threads=" << threads << ") as b {\n"
      << "    x = " << (srcShared ? "alloc_shared(" : "alloc_fragment(") << tile << ", " << in.name << ");\n"
      << "    r = " << (dstShared ? "alloc_shared(" : "alloc_fragment(") << kept << ", " << out.name << ");\n"
      << "    copy(A[" << at("0") << "], x);\n"
      << "    " << kReduceNames[int(op)] << "(x, r, dim=" << dim << ", clear=True);\n"
      << "    for k in range(1, " << tiles << ") {\n"
      << "      copy(A[" << at("k") << "], x);\n"
      << "      " << kReduceNames[int(op)] << "(x, r, dim=" << dim << ", clear=False);\n"
      << "    }\n"
      << "    copy(r, R[b * " << (dim == 1 ? BM : BN) << "]);\n"
      << "  }\n}\n";
    return s.str();
  }

  double fold(double acc, double v) const {
    switch (op) {
      case Reduce::Sum: return acc + v;
      case Reduce::Max: return std::max(acc, v);
      case Reduce::Min: return std::min(acc, v);
      case Reduce::AbsSum: return acc + std::fabs(v);
      case Reduce::AbsMax: return std::max(acc, std::fabs(v));
    }
    return acc;
  }
};

ReductionProgram randomReduction(std::mt19937& rng) {
  ReductionProgram p;
  auto chance = [&](double x) { return std::uniform_real_distribution<double>(0, 1)(rng) < x; };
  const int rows[] = {1, 2, 4, 8, 16, 32, 64};
  const int cols[] = {1, 2, 8, 16, 32, 64, 128};
  const int threads[] = {32, 64, 128, 256};
  p.op = Reduce(std::uniform_int_distribution<int>(0, 4)(rng));
  p.dim = chance(0.7) ? 1 : 0;
  p.BM = pick(rng, rows);
  p.BN = pick(rng, cols);
  p.threads = pick(rng, threads);
  p.srcShared = chance(0.25);
  p.dstShared = chance(0.25);
  if (chance(0.2)) {
    p.in = p.out = kInts[0];
  } else {
    p.in = pick(rng, kFloats);
    // Sums go to float32 (exact for these integers); max/min/absmax may stay in the input's dtype.
    bool summing = p.op == Reduce::Sum || p.op == Reduce::AbsSum;
    p.out = summing || chance(0.5) ? kFloats[0] : p.in;
  }
  return p;
}

int checkReduction(const ReductionProgram& p, std::mt19937& rng, const std::string& label) {
  static const int extents[] = {1, 2, 3, 7, 8, 13, 16, 31, 33, 64, 97, 130};
  const std::string source = p.source();
  int runs = 0;
  for (const Target& target : {Target::hopper(), *Target::fromArch("sm_80")}) {
    INFO(label << " for " << target.arch() << ":\n" << source);
    auto module = test::lowerForTest(source, target);
    for (int shape = 0; shape < 2; ++shape) {
      const int M = pick(rng, extents), N = pick(rng, extents);
      const int64_t misalign = shape == 0 ? 0 : 1;
      const int64_t kept = p.dim == 1 ? M : N;
      const uint32_t seed = rng();
      for (const ir::Kernel& kernel : module->kernels) {
        for (interp::ThreadOrder order : {interp::ThreadOrder::Ascending, interp::ThreadOrder::Descending}) {
          HostBuffer A(p.in.dtype, int64_t(M) * N), R(p.out.dtype, kept);
          std::mt19937 values(seed);
          std::uniform_int_distribution<int> small(-8, 8);
          for (int64_t i = 0; i < A.elements(); ++i) A.set(i, small(values));
          R.fill(0xA5);
          A.addressOffset = misalign * int64_t(ir::bits(p.in.dtype) / 8);
          R.addressOffset = misalign * int64_t(ir::bits(p.out.dtype) / 8);
          interp::Arguments args;
          args.pointer("A", A);
          args.pointer("R", R);
          args.dim("M", M);
          args.dim("N", N);
          if (!interp::assumptionsHold(kernel, args)) continue;
          interp::Options options;
          options.order = order;
          if (order == interp::ThreadOrder::Descending) options.asyncCopies = interp::AsyncCopies::AtIssue;
          interp::Result r = interp::run(kernel, args, options);
          const std::string what = "M " + std::to_string(M) + " N " + std::to_string(N) + " misaligned by " +
                                   std::to_string(misalign) + ", variant " + kernel.name +
                                   (order == interp::ThreadOrder::Ascending ? ", ascending" : ", descending");
          INFO(what);
          REQUIRE_MESSAGE(r.ok, r.text());
          const int reduced = p.dim == 1 ? N : M, tileAlong = p.dim == 1 ? p.BN : p.BM;
          for (int64_t o = 0; o < kept; ++o) {
            double acc = 0;
            for (int e = 0; e < reduced; ++e) {
              double v = p.dim == 1 ? A.get(o * N + e) : A.get(int64_t(e) * N + o);
              // Sums and absolute values start from 0; max and min from the first element.
              acc = e > 0 ? p.fold(acc, v) : p.op == Reduce::Max || p.op == Reduce::Min ? v : p.fold(0.0, v);
            }
            if (reduced % tileAlong != 0) acc = p.fold(acc, 0.0);  // the ragged tile's padding
            double want = Program::roundTo(p.out.dtype, acc), got = R.get(o);
            CHECK_MESSAGE(got == want, "R[" << o << "] = " << got << ", want " << want);
            if (got != want) return -1;
          }
          ++runs;
        }
      }
    }
  }
  return runs;
}

}  // namespace

TEST_CASE("differential: random reductions against a direct fold") {
  const int programs = envInt("TLC_DIFF_PROGRAMS", 60) / 2;
  const uint32_t seed = uint32_t(envInt("TLC_DIFF_SEED", 1));
  std::mt19937 rng(seed + 1000);
  int runs = 0;
  for (int n = 0; n < programs; ++n) {
    int ran = checkReduction(randomReduction(rng), rng, "reduction " + std::to_string(n) + " of seed " + std::to_string(seed));
    REQUIRE(ran >= 0);
    runs += ran;
  }
  MESSAGE("differential: " << programs << " reductions from seed " << seed << ", " << runs << " interpreted runs");
  CHECK(runs > 0);
}

TEST_CASE("differential: programs the fuzzer found broken") {
  std::mt19937 rng(5);
  // Seed 2, 2026-12-05: a (1,) fragment filled by copy(s, f) reached the loop-IR
  // verifier unlowered (an internal error): the single-element copy stored to the
  // fragment's tile instead of its owner's register.
  for (Path path : {Path::SharedThenFragment, Path::FragmentThenShared, Path::ViaFragment}) {
    Program p;
    p.rank = 1;
    p.BN = 1;
    p.threads = 256;
    p.in = p.mid = p.out = kFloats[1];
    p.path = path;
    p.op = Op::TimesTwoPlusOne;
    CHECK(checkProgram(p, rng, "a one-element fragment, path " + std::to_string(int(path))) > 0);
    p.rank = 2;
    p.BM = 1;
    CHECK(checkProgram(p, rng, "a (1, 1) fragment, path " + std::to_string(int(path))) > 0);
  }
  // Seed 3, program 83: a Pipelined ring of (1, 8) float16 tiles put its stages 16
  // bytes apart, where TMA loads need 128-byte aligned shared addresses (the GPU
  // faults). Stages are now padded to 128 bytes (to the swizzle's period if swizzled).
  for (int stages : {2, 3, 4}) {
    Program p;
    p.BM = 1;
    p.BN = 8;
    p.threads = 256;
    p.in = p.mid = p.out = kFloats[1];
    p.path = Path::RowLoop;
    p.stages = stages;
    CHECK(checkProgram(p, rng, "a ring of 16-byte tiles, " + std::to_string(stages) + " stages") > 0);
    p.BM = 3;
    p.BN = 4;
    p.in = p.mid = p.out = kFloats[0];
    CHECK(checkProgram(p, rng, "a ring of 48-byte tiles, " + std::to_string(stages) + " stages") > 0);
  }
}

TEST_CASE("differential: random tile programs, their known meaning against the interpreted loop IR") {
  const int programs = envInt("TLC_DIFF_PROGRAMS", 60);
  const uint32_t seed = uint32_t(envInt("TLC_DIFF_SEED", 1));
  std::mt19937 rng(seed);
  int runs = 0;
  for (int n = 0; n < programs; ++n)
    runs += checkProgram(randomProgram(rng), rng, "program " + std::to_string(n) + " of seed " + std::to_string(seed));
  MESSAGE("differential: " << programs << " programs from seed " << seed << ", " << runs << " interpreted runs");
  CHECK(runs > 0);
}
