// Unit tests for the loop-IR interpreter (src/interp): .tl kernels compiled in
// process for sm_90a (TMA) and sm_80 (cp.async), every variant run on ragged shapes
// with random inputs and poisoned outputs, each output element compared with a CPU
// reference (TMA tiled, swizzled and im2col loads, TMA stores, cp.async, SIMT
// copies, fragments); then kernels with a bug put in on purpose (a dropped
// predicate, barrier, wait or arrival), which the interpreter must catch.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>

#include "LowerForTest.h"
#include "frontend/Parser.h"
#include "interp/Interpreter.h"
#include "interp/Numerics.h"
#include "ir/Rewrite.h"
#include "ir/Target.h"
#include "lower/Lower.h"
#include "sema/Sema.h"

using namespace tlc;
using interp::HostBuffer;

namespace {

constexpr uint8_t kPoison = 0xA5;

std::unique_ptr<ir::Module> compile(const std::string& text, const Target& target, std::vector<Define> defines = {}) {
  return test::lowerForTest(text, target, std::move(defines));
}

std::optional<std::string> readFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<std::string> specExample(const std::string& name) {
  return readFile(TLC_SOURCE_DIR "/../shared/spec/examples/" + name);
}

std::vector<Target> targets() { return {Target::hopper(), *Target::fromArch("sm_80")}; }

void randomFill(HostBuffer& b, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> value(-4.0, 4.0);
  for (int64_t i = 0; i < b.elements(); ++i) b.set(i, value(rng));
}

HostBuffer poisoned(ir::DType t, int64_t elements) {
  HostBuffer b(t, elements);
  b.fill(kPoison);
  return b;
}

// Both schedules the tests use: ascending threads with asynchronous copies landing
// as late as allowed, and descending threads with them landing at once.
std::vector<interp::Options> schedules() {
  interp::Options late, early;
  early.order = interp::ThreadOrder::Descending;
  early.asyncCopies = interp::AsyncCopies::AtIssue;
  return {late, early};
}

// The first element where `got` differs from `want` by more than `tolerance`
// (relative to max(1, |want|)), as a message; empty when none does.
std::string firstMismatch(const HostBuffer& got, const std::vector<double>& want, double tolerance = 0) {
  if (got.elements() != int64_t(want.size())) return "sizes differ";
  int64_t bad = 0;
  std::string first;
  for (int64_t i = 0; i < got.elements(); ++i) {
    double g = got.get(i), w = want[size_t(i)];
    if (std::fabs(g - w) <= tolerance * std::max(1.0, std::fabs(w))) continue;
    if (bad++ == 0) first = "element " + std::to_string(i) + ": got " + std::to_string(g) + ", want " + std::to_string(w);
  }
  return bad ? first + " (" + std::to_string(bad) + " elements differ)" : "";
}

// Runs every variant of every kernel of `module` on each shape whose arguments
// satisfy the variant's assumptions, in both schedules; `bind` makes the arguments
// and the expected output for one shape, returning the output buffer to check.
// Returns how many runs each variant made (each must make at least one).
struct Case {
  std::vector<std::unique_ptr<HostBuffer>> buffers;
  interp::Arguments args;
  HostBuffer* output = nullptr;
  std::vector<double> expected;
  std::vector<std::pair<HostBuffer*, std::vector<double>>> moreOutputs;  // beyond the first
  double tolerance = 0;
  HostBuffer& buffer(ir::DType t, int64_t elements) {
    buffers.push_back(std::make_unique<HostBuffer>(t, elements));
    return *buffers.back();
  }
};
using Shape = std::vector<int32_t>;

void checkAllVariants(const std::string& source, const std::vector<Shape>& shapes,
                      const std::function<void(Case&, const Shape&)>& bind,
                      const std::vector<Target>& archs = targets(), const std::vector<Define>& defines = {}) {
  for (const Target& target : archs) {
    auto module = compile(source, target, defines);
    for (const ir::Kernel& kernel : module->kernels) {
      int runs = 0;
      for (const Shape& shape : shapes) {
        for (const interp::Options& options : schedules()) {
          Case c;
          bind(c, shape);
          if (!interp::assumptionsHold(kernel, c.args)) continue;
          std::string what = target.arch() + " " + kernel.name + " shape";
          for (int32_t s : shape) what += " " + std::to_string(s);
          what += options.order == interp::ThreadOrder::Ascending ? " ascending" : " descending";
          interp::Result r = interp::run(kernel, c.args, options);
          INFO(what);
          REQUIRE_MESSAGE(r.ok, r.text());
          std::string mismatch = firstMismatch(*c.output, c.expected, c.tolerance);
          CHECK_MESSAGE(mismatch.empty(), mismatch);
          for (auto& [output, expected] : c.moreOutputs) {
            mismatch = firstMismatch(*output, expected, c.tolerance);
            CHECK_MESSAGE(mismatch.empty(), mismatch);
          }
          ++runs;
        }
      }
      INFO(target.arch() << " " << kernel.name);
      CHECK(runs > 0);
    }
  }
}

// Every statement slot under `slot` (pre-order), for tests that break a kernel on
// purpose: `visit` may replace the statement in its slot.
void forEachStmt(ir::StmtRef& slot, const std::function<void(ir::StmtRef&)>& visit) {
  if (!slot) return;
  visit(slot);
  ir::StmtRef stmt = slot;
  switch (stmt->kind) {
    case ir::StmtKind::Seq:
      for (ir::StmtRef& child : stmt->as<ir::SeqStmt>().stmts) forEachStmt(child, visit);
      break;
    case ir::StmtKind::For:
      forEachStmt(stmt->as<ir::ForStmt>().body, visit);
      break;
    case ir::StmtKind::If:
      forEachStmt(stmt->as<ir::IfStmt>().thenBody, visit);
      forEachStmt(stmt->as<ir::IfStmt>().elseBody, visit);
      break;
    default:
      break;
  }
}

// Replaces every statement `doomed` picks by an empty sequence; returns how many.
int removeStmts(ir::Kernel& kernel, const std::function<bool(const ir::StmtNode&)>& doomed) {
  int removed = 0;
  forEachStmt(kernel.body, [&](ir::StmtRef& s) {
    if (s && doomed(*s)) {
      s = std::make_shared<ir::SeqStmt>(s->range);
      ++removed;
    }
  });
  return removed;
}

bool isIntrinsic(const ir::StmtNode& s, ir::IntrinsicOp op) {
  return s.kind == ir::StmtKind::Intrinsic && s.as<ir::IntrinsicStmt>().op == op;
}

ir::Kernel& variant(ir::Module& m, bool aligned) {
  REQUIRE(m.kernels.size() >= 2);
  return aligned ? m.kernels.front() : m.kernels.back();
}

const std::string kTileCopy = *readFile(TLC_SOURCE_DIR "/examples/tile_copy.tl");
const std::string kTranspose = *readFile(TLC_SOURCE_DIR "/examples/transpose.tl");

void bindTileCopy(Case& c, const Shape& s) {
  int32_t M = s[0], N = s[1];
  HostBuffer& A = c.buffer(ir::DType::Float16, int64_t(M) * N);
  HostBuffer& B = c.buffer(ir::DType::Float16, int64_t(M) * N);
  randomFill(A, 1);
  B.fill(kPoison);
  c.args.pointer("A", A);
  c.args.pointer("B", B);
  c.args.dim("M", M);
  c.args.dim("N", N);
  c.output = &B;
  for (int64_t i = 0; i < A.elements(); ++i) c.expected.push_back(A.get(i));
}

}  // namespace

TEST_CASE("interpreter numerics: the GPU's roundings") {
  using interp::convertScalar;
  using interp::floatScalar;
  using interp::intScalar;
  using ir::DType;
  auto toType = [](double x, DType t) { return convertScalar(floatScalar(x), DType::Float64, t).f; };
  // float16: ties to even, overflow to infinity, subnormals.
  CHECK(toType(1.0 + std::ldexp(1, -11), DType::Float16) == 1.0);
  CHECK(toType(1.0 + 3 * std::ldexp(1, -11), DType::Float16) == 1.0 + std::ldexp(1, -9));
  CHECK(std::isinf(toType(65520.0, DType::Float16)));
  CHECK(toType(65519.0, DType::Float16) == 65504.0);
  CHECK(toType(std::ldexp(1, -25), DType::Float16) == 0.0);  // a tie below the smallest subnormal goes to 0
  CHECK(toType(std::ldexp(3, -26), DType::Float16) == std::ldexp(1, -24));
  // bfloat16: 8 bits of precision, float32's range.
  CHECK(toType(1.0 + std::ldexp(1, -8), DType::BFloat16) == 1.0);
  CHECK(toType(1.0 + 3 * std::ldexp(1, -8), DType::BFloat16) == 1.0 + std::ldexp(1, -6));
  // float -> int: truncation, saturation, NaN -> 0; unsigned widening zero-extends.
  CHECK(convertScalar(floatScalar(-2.7), DType::Float32, DType::Int32).i == -2);
  CHECK(convertScalar(floatScalar(1e20), DType::Float32, DType::Int32).i == 2147483647);
  CHECK(convertScalar(floatScalar(-5.0), DType::Float32, DType::UInt8).i == 0);
  CHECK(convertScalar(floatScalar(NAN), DType::Float32, DType::Int32).i == 0);
  CHECK(convertScalar(intScalar(255), DType::UInt8, DType::Int32).i == 255);
  CHECK(convertScalar(intScalar(-1), DType::Int8, DType::UInt32).i == 4294967295LL);
  CHECK(convertScalar(intScalar(300), DType::Int32, DType::Int8).i == 44);
  CHECK(convertScalar(intScalar(1), DType::Bool, DType::Float32).f == 1.0);
  CHECK(convertScalar(floatScalar(NAN), DType::Float32, DType::Bool).i == 1);
  // fp8: e4m3 saturates at 448 and keeps NaN; e5m2 rounds to 2 mantissa bits.
  CHECK(convertScalar(floatScalar(1000.0), DType::Float32, DType::Float8E4M3).i == 0x7E);
  CHECK(convertScalar(floatScalar(NAN), DType::Float32, DType::Float8E4M3).i == 0x7F);
  CHECK(convertScalar(intScalar(0x7E), DType::Float8E4M3, DType::Float32).f == 448.0);
  CHECK(convertScalar(floatScalar(1.125), DType::Float32, DType::Float8E5M2).i == 0x3C);  // tie -> 1.0
  CHECK(convertScalar(floatScalar(-0.75), DType::Float32, DType::Float4E2M1).i == 0xA);   // tie -> -1.0
}

TEST_CASE("interpreter: tile_copy, every variant, sm_90a and sm_80, ragged shapes") {
  checkAllVariants(kTileCopy, {{37, 131}, {1, 1}, {37, 120}, {130, 8}}, bindTileCopy);
}

TEST_CASE("interpreter: transpose, every variant, sm_90a and sm_80") {
  checkAllVariants(kTranspose, {{37, 131}, {36, 132}, {1, 64}}, [](Case& c, const Shape& s) {
    int32_t M = s[0], N = s[1];
    HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(M) * N);
    HostBuffer& At = c.buffer(ir::DType::Float32, int64_t(M) * N);
    randomFill(A, 2);
    At.fill(kPoison);
    c.args.pointer("A", A);
    c.args.pointer("At", At);
    c.args.dim("M", M);
    c.args.dim("N", N);
    c.output = &At;
    c.expected.resize(size_t(M) * N);
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) c.expected[size_t(j * M + i)] = A.get(i * N + j);
  });
}

TEST_CASE("interpreter: batch_sum (a Pipelined loop: a TMA ring on sm_90a), every variant") {
  auto source = specExample("batch_sum.tl");
  if (!source) return;  // the spec's examples are not beside this checkout
  checkAllVariants(*source, {{2, 37, 127}, {4, 37, 120}, {1, 1, 8}}, [](Case& c, const Shape& s) {
    int32_t K = s[0], M = s[1], N = s[2];
    HostBuffer& A = c.buffer(ir::DType::Float16, int64_t(K) * M * N);
    HostBuffer& C = c.buffer(ir::DType::Float32, int64_t(M) * N);
    randomFill(A, 3);
    C.fill(kPoison);
    c.args.pointer("A", A);
    c.args.pointer("C", C);
    c.args.dim("K", K);
    c.args.dim("M", M);
    c.args.dim("N", N);
    c.output = &C;
    for (int64_t i = 0; i < int64_t(M) * N; ++i) {
      float sum = 0;  // in k order, rounded to float32 at each step, as the kernel adds
      for (int64_t k = 0; k < K; ++k) sum += float(A.get(k * M * N + i));
      c.expected.push_back(sum);
    }
  });
}

TEST_CASE("interpreter: axpy on fragments, every variant") {
  auto source = specExample("axpy_fragment.tl");
  if (!source) return;
  checkAllVariants(*source, {{37, 131}, {2, 260}}, [](Case& c, const Shape& s) {
    int32_t M = s[0], N = s[1];
    HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(M) * N);
    HostBuffer& B = c.buffer(ir::DType::Float32, int64_t(M) * N);
    HostBuffer& C = c.buffer(ir::DType::Float32, int64_t(M) * N);
    randomFill(A, 4);
    randomFill(B, 5);
    C.fill(kPoison);
    c.args.pointer("A", A);
    c.args.pointer("B", B);
    c.args.pointer("C", C);
    c.args.dim("M", M);
    c.args.dim("N", N);
    c.args.scalar("alpha", 0.75);
    c.output = &C;
    c.tolerance = 1e-6;  // the GPU may fuse the multiply-add
    for (int64_t i = 0; i < int64_t(M) * N; ++i) c.expected.push_back(float(A.get(i) + float(0.75f * float(B.get(i)))));
  });
}

TEST_CASE("interpreter: scale over raw pointers, every variant") {
  auto source = specExample("scale_ptr.tl");
  if (!source) return;
  checkAllVariants(*source, {{1031}, {1}, {2048}}, [](Case& c, const Shape& s) {
    int32_t n = s[0];
    HostBuffer& X = c.buffer(ir::DType::Float32, n);
    HostBuffer& Y = c.buffer(ir::DType::Float32, n);
    randomFill(X, 6);
    Y.fill(kPoison);
    c.args.pointer("p", X);
    c.args.pointer("q", Y);
    c.args.scalar("n", n);
    c.args.scalar("s", -1.5);
    c.output = &Y;
    for (int64_t i = 0; i < n; ++i) c.expected.push_back(float(X.get(i) * -1.5f));
  });
}

TEST_CASE("interpreter: strided_compact (a strided source), every variant") {
  auto source = specExample("strided_compact.tl");
  if (!source) return;
  checkAllVariants(*source, {{37, 131, 140}, {33, 136, 136}, {1, 8, 24}}, [](Case& c, const Shape& s) {
    int32_t M = s[0], N = s[1], ldx = s[2];
    HostBuffer& X = c.buffer(ir::DType::BFloat16, int64_t(M) * ldx);
    HostBuffer& Y = c.buffer(ir::DType::BFloat16, int64_t(M) * N);
    randomFill(X, 7);
    Y.fill(kPoison);
    c.args.pointer("X", X);
    c.args.pointer("Y", Y);
    c.args.dim("M", M);
    c.args.dim("N", N);
    c.args.dim("ldx", ldx);
    c.output = &Y;
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) c.expected.push_back(X.get(i * ldx + j));
  });
}

// ---- row-broadcast reads (issue 17): a vector read per element in a Parallel loop

namespace {

const std::string kRowBroadcast = *readFile(TLC_SOURCE_DIR "/tests/gpu/kernels/row_broadcast.tl");

// One kernel of a file of kernels (from its `kernel` line to the next).
std::string kernelOf(const std::string& file, const std::string& name) {
  size_t at = file.find("kernel " + name + "(");
  REQUIRE(at != std::string::npos);
  size_t end = file.find("\nkernel ", at + 1);
  return file.substr(at, end == std::string::npos ? std::string::npos : end - at);
}
std::string rowBroadcastKernel(const std::string& name) { return kernelOf(kRowBroadcast, name); }

double roundedTo(ir::DType t, double v) {
  HostBuffer b(t, 1);
  b.set(0, v);
  return b.get(0);
}

// M = 1, 17, primes; N not a multiple of any tile, and multiples (the aligned variants).
const std::vector<Shape> kRaggedShapes = {{17, 131}, {1, 7}, {31, 257}, {13, 136}, {16, 128}, {2, 64}};

void bindRowScale(Case& c, const Shape& s) {
  int32_t M = s[0], N = s[1];
  HostBuffer& X = c.buffer(ir::DType::Float16, int64_t(M) * N);
  HostBuffer& S = c.buffer(ir::DType::Float32, M);
  HostBuffer& Y = c.buffer(ir::DType::Float16, int64_t(M) * N);
  randomFill(X, 21);
  randomFill(S, 22);
  Y.fill(kPoison);
  c.args.pointer("X", X);
  c.args.pointer("S", S);
  c.args.pointer("Y", Y);
  c.args.dim("M", M);
  c.args.dim("N", N);
  c.args.scalar("alpha", 0.5);
  c.output = &Y;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j)
      c.expected.push_back(roundedTo(ir::DType::Float16, float(float(X.get(i * N + j)) * float(S.get(i))) * 0.5f));
}

// Y = X (op) V[column]: a bias (add) or a per-column scale (multiply).
void bindColumnVector(Case& c, const Shape& s, const char* vector, bool add) {
  int32_t M = s[0], N = s[1];
  HostBuffer& X = c.buffer(ir::DType::Float32, int64_t(M) * N);
  HostBuffer& V = c.buffer(ir::DType::Float32, N);
  HostBuffer& Y = c.buffer(ir::DType::Float32, int64_t(M) * N);
  randomFill(X, 23);
  randomFill(V, 24);
  Y.fill(kPoison);
  c.args.pointer("X", X);
  c.args.pointer(vector, V);
  c.args.pointer("Y", Y);
  c.args.dim("M", M);
  c.args.dim("N", N);
  c.output = &Y;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      float x = float(X.get(i * N + j)), v = float(V.get(j));
      c.expected.push_back(add ? x + v : x * v);
    }
}

}  // namespace

TEST_CASE("interpreter: row_scale (S read per row) on ragged M and N, every variant, no read past S") {
  checkAllVariants(rowBroadcastKernel("row_scale"), kRaggedShapes, bindRowScale);
}

TEST_CASE("interpreter: a bias vector per column on ragged shapes (a fragment, and global tensors directly)") {
  checkAllVariants(rowBroadcastKernel("bias_add"), kRaggedShapes,
                   [](Case& c, const Shape& s) { bindColumnVector(c, s, "B", true); });
  checkAllVariants(rowBroadcastKernel("bias_add_global"), kRaggedShapes,
                   [](Case& c, const Shape& s) { bindColumnVector(c, s, "B", true); });
}

TEST_CASE("interpreter: a per-column scale on ragged shapes (the aligned variant's read of C proven, not guarded)") {
  checkAllVariants(rowBroadcastKernel("col_scale"), kRaggedShapes,
                   [](Case& c, const Shape& s) { bindColumnVector(c, s, "C", false); });
}

// ---- fragment broadcast (issue 20): a smaller fragment read in a larger Parallel loop

namespace {

const std::string kFragmentBroadcast = *readFile(TLC_SOURCE_DIR "/tests/gpu/kernels/fragment_broadcast.tl");

// Y = X * (scale * V[row]) or X + V[column], float32 (one rounding: exact to compare).
void bindVectorOp(Case& c, const Shape& s, bool perRow, bool add, float scale) {
  int32_t M = s[0], N = s[1];
  HostBuffer& X = c.buffer(ir::DType::Float32, int64_t(M) * N);
  HostBuffer& V = c.buffer(ir::DType::Float32, perRow ? M : N);
  HostBuffer& Y = c.buffer(ir::DType::Float32, int64_t(M) * N);
  randomFill(X, 31);
  randomFill(V, 32);
  Y.fill(kPoison);
  c.args.pointer("X", X);
  c.args.pointer("V", V);
  c.args.pointer("Y", Y);
  c.args.dim("M", M);
  c.args.dim("N", N);
  c.output = &Y;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      float x = float(X.get(i * N + j)), v = float(V.get(perRow ? i : j)) * scale;
      c.expected.push_back(add ? x + v : x * v);
    }
}

}  // namespace

TEST_CASE("interpreter: fragment broadcast, a per-row scale fragment (written in its own loop) on ragged shapes") {
  checkAllVariants(kernelOf(kFragmentBroadcast, "row_scale_frag"), kRaggedShapes,
                   [](Case& c, const Shape& s) { bindVectorOp(c, s, true, false, 2.0f); });
}

TEST_CASE("interpreter: fragment broadcast along the innermost axis (a bias per column)") {
  checkAllVariants(kernelOf(kFragmentBroadcast, "col_bias_frag"), kRaggedShapes,
                   [](Case& c, const Shape& s) { bindVectorOp(c, s, false, true, 1.0f); });
}

TEST_CASE("interpreter: fragment broadcast in a loop over global tensors, and in loops past the unrolling budget") {
  checkAllVariants(kernelOf(kFragmentBroadcast, "row_scale_direct"), kRaggedShapes,
                   [](Case& c, const Shape& s) { bindVectorOp(c, s, true, false, 1.0f); });
  checkAllVariants(kernelOf(kFragmentBroadcast, "row_scale_rolled"), {{67, 515}, {1, 3}, {64, 512}},
                   [](Case& c, const Shape& s) { bindVectorOp(c, s, true, false, 1.0f); });
}

TEST_CASE("interpreter: a broadcast fragment written back by a copy and by a loop's store, once per element") {
  checkAllVariants(kernelOf(kFragmentBroadcast, "row_out"), kRaggedShapes, [](Case& c, const Shape& s) {
    int32_t M = s[0], N = s[1];
    HostBuffer& X = c.buffer(ir::DType::Float32, int64_t(M) * N);
    HostBuffer& V = c.buffer(ir::DType::Float32, M);
    HostBuffer& O = c.buffer(ir::DType::Float32, M);
    HostBuffer& P = c.buffer(ir::DType::Float32, M);
    randomFill(X, 33);
    randomFill(V, 34);
    O.fill(kPoison);
    P.fill(kPoison);
    c.args.pointer("X", X);
    c.args.pointer("V", V);
    c.args.pointer("O", O);
    c.args.pointer("P", P);
    c.args.dim("M", M);
    c.args.dim("N", N);
    c.output = &O;
    std::vector<double> want;
    for (int64_t i = 0; i < M; ++i) want.push_back(float(V.get(i)) * 3.0f);
    c.expected = want;
    c.moreOutputs.push_back({&P, want});
  });
}

TEST_CASE("fragment broadcast: the layout is the projection of the loop's, and stores to memory are left to one thread") {
  auto module = compile(kernelOf(kFragmentBroadcast, "row_out"), Target::hopper());
  std::ostringstream os;
  ir::print(*module, os);
  std::string text = os.str();
  // (16, 64) over 128 threads, 4 floats each: 2 groups per thread, one row each.
  CHECK(text.find("alloc s: local float32[2]") != std::string::npos);
  // The copy to O and the loop's store to P: only the thread whose group starts the row.
  CHECK(text.find("if (((((it * 128) + threadIdx.x) * 4) & 63) == 0) {") != std::string::npos);
  CHECK(text.find("if ((((((it * 128) + threadIdx.x) * 4) & 63) == 0) and") != std::string::npos);
}

// ---- kernels broken on purpose: the interpreter must catch each

TEST_CASE("interpreter catches: an out-of-bounds store (its predicate removed)") {
  for (const Target& target : targets()) {
    auto module = compile(kTileCopy, target);
    ir::Kernel& general = variant(*module, false);
    int unpredicated = 0;
    forEachStmt(general.body, [&](ir::StmtRef& s) {
      if (s->kind == ir::StmtKind::Store && s->as<ir::StoreStmt>().buffer->scope == ir::MemScope::Global) {
        s->as<ir::StoreStmt>().predicate = nullptr;
        ++unpredicated;
      }
    });
    REQUIRE(unpredicated > 0);
    Case c;
    bindTileCopy(c, {37, 131});
    interp::Result r = interp::run(general, c.args);
    INFO(target.arch());
    CHECK_FALSE(r.ok);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].find("out-of-bounds write of global 'B'") != std::string::npos);
    CHECK(r.errors[0].find("thread ") != std::string::npos);
    CHECK(r.errors[0].find("line 14:") != std::string::npos);  // copy(A_s, B[...])
  }
}

TEST_CASE("interpreter catches: row_scale's read of S past its end, its guard removed (the code before GuardGlobalAccesses)") {
  for (const Target& target : targets()) {
    auto module = compile(rowBroadcastKernel("row_scale"), target);
    ir::Kernel& general = variant(*module, false);
    int unguarded = 0;
    ir::RewriteHooks hooks;
    hooks.load = [&](const ir::LoadNode& l, std::vector<ir::ExprRef> idx) -> ir::ExprRef {
      if (l.buffer->name != "S") return nullptr;
      ++unguarded;
      auto n = std::make_shared<ir::LoadNode>(l.buffer, idx, l.dtype, l.lanes);
      n->boundsChecked = true;
      return n;
    };
    general.body = ir::rewriteStmt(general.body, {}, hooks);
    REQUIRE(unguarded > 0);
    Case c;
    bindRowScale(c, {17, 131});  // the second block row reads S[16 .. 31]
    interp::Result r = interp::run(general, c.args);
    INFO(target.arch());
    CHECK_FALSE(r.ok);
    REQUIRE(!r.errors.empty());
    CHECK(r.errors[0].find("out-of-bounds read of global 'S'") != std::string::npos);
  }
}

TEST_CASE("interpreter catches: a missing barrier between shared writes and other threads' reads") {
  for (const Target& target : targets()) {
    auto module = compile(kTranspose, target);
    ir::Kernel& general = variant(*module, false);
    CHECK(removeStmts(general, [](const ir::StmtNode& s) {
            return s.kind == ir::StmtKind::Barrier && s.as<ir::BarrierStmt>().barrier == ir::BarrierKind::SyncThreads;
          }) > 0);
    for (const interp::Options& options : schedules()) {
      Case c;
      int32_t M = 37, N = 131;
      HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(M) * N);
      HostBuffer& At = c.buffer(ir::DType::Float32, int64_t(M) * N);
      randomFill(A, 8);
      At.fill(kPoison);
      c.args.pointer("A", A);
      c.args.pointer("At", At);
      c.args.dim("M", M);
      c.args.dim("N", N);
      interp::Result r = interp::run(general, c.args, options);
      REQUIRE_MESSAGE(r.ok, r.text());
      int64_t wrong = 0;
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) wrong += At.get(j * M + i) != A.get(i * N + j);
      INFO(target.arch());
      CHECK(wrong > 0);  // a thread read tile elements that other threads had not written yet
    }
  }
}

TEST_CASE("interpreter catches: cp.async without its wait reads stale shared memory") {
  auto module = compile(kTileCopy, *Target::fromArch("sm_80"));
  ir::Kernel& aligned = variant(*module, true);
  REQUIRE(removeStmts(aligned, [](const ir::StmtNode& s) { return isIntrinsic(s, ir::IntrinsicOp::CpAsyncWaitGroup); }) > 0);
  Case c;
  bindTileCopy(c, {37, 136});
  REQUIRE(interp::assumptionsHold(aligned, c.args));
  interp::Result r = interp::run(aligned, c.args);
  REQUIRE_MESSAGE(r.ok, r.text());
  CHECK(firstMismatch(*c.output, c.expected).find("elements differ") != std::string::npos);
  // Where the copies land at issue the same kernel looks right: why AtWait is the default.
  Case early;
  bindTileCopy(early, {37, 136});
  interp::Options atIssue;
  atIssue.asyncCopies = interp::AsyncCopies::AtIssue;
  r = interp::run(aligned, early.args, atIssue);
  REQUIRE_MESSAGE(r.ok, r.text());
  CHECK(firstMismatch(*early.output, early.expected).empty());
}

TEST_CASE("interpreter catches: an mbarrier that never completes (a deadlock, not a hang)") {
  auto source = specExample("batch_sum.tl");
  if (!source) return;
  auto module = compile(*source, Target::hopper());
  ir::Kernel& aligned = variant(*module, true);
  REQUIRE(removeStmts(aligned, [](const ir::StmtNode& s) {
            return isIntrinsic(s, ir::IntrinsicOp::MbarrierArriveExpectTx);
          }) > 0);
  Case c;
  HostBuffer& A = c.buffer(ir::DType::Float16, 2 * 8 * 8);
  HostBuffer& C = c.buffer(ir::DType::Float32, 8 * 8);
  c.args.pointer("A", A);
  c.args.pointer("C", C);
  c.args.dim("K", 2);
  c.args.dim("M", 8);
  c.args.dim("N", 8);
  interp::Result r = interp::run(aligned, c.args);
  CHECK_FALSE(r.ok);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].find("deadlock") != std::string::npos);
  CHECK(r.errors[0].find("128 thread(s) wait on the mbarrier") != std::string::npos);
}

TEST_CASE("interpreter catches: a sync_threads that some threads never reach") {
  auto module = compile(kTileCopy, Target::hopper());
  ir::Kernel& general = variant(*module, false);
  // Only the first warp reaches the barrier between the two copies.
  int guarded = 0;
  forEachStmt(general.body, [&](ir::StmtRef& s) {
    if (s->kind != ir::StmtKind::Barrier || guarded > 0) return;  // (the visit goes on into the new If)
    ir::ExprRef firstWarp = ir::lt(ir::call(ir::Builtin::ThreadIdx, {}, ir::DType::Int32), ir::intImm(32));
    s = std::make_shared<ir::IfStmt>(s->range, firstWarp, s, nullptr);
    ++guarded;
  });
  REQUIRE(guarded == 1);
  Case c;
  bindTileCopy(c, {37, 131});
  interp::Result r = interp::run(general, c.args);
  CHECK_FALSE(r.ok);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].find("32 thread(s) wait at sync_threads") != std::string::npos);
  CHECK(r.errors[0].find("96 thread(s) have exited") != std::string::npos);
}

TEST_CASE("interpreter refuses arguments that break a variant's assumptions, or a tensor map the driver would") {
  auto module = compile(kTileCopy, Target::hopper());
  Case c;
  bindTileCopy(c, {37, 131});  // N % 8 != 0
  interp::Result r = interp::run(variant(*module, true), c.args);
  CHECK_FALSE(r.ok);
  CHECK(r.text().find("assumption N % 8 == 0") != std::string::npos);
  CHECK(r.blocksRun == 0);
}

TEST_CASE("interpreter: an imposed thread layout with a safe value (layout_hint), every variant") {
  auto source = specExample("layout_hint.tl");
  if (!source) return;
  checkAllVariants(*source, {{37, 131}, {32, 36}}, [](Case& c, const Shape& s) {
    int32_t M = s[0], N = s[1];
    HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(M) * N);
    HostBuffer& B = c.buffer(ir::DType::Float32, int64_t(M) * N);
    randomFill(A, 9);
    B.fill(kPoison);
    c.args.pointer("A", A);
    c.args.pointer("B", B);
    c.args.dim("M", M);
    c.args.dim("N", N);
    c.output = &B;
    for (int64_t i = 0; i < A.elements(); ++i) c.expected.push_back(float(A.get(i) + 1.0f));
  });
}

TEST_CASE("interpreter: one macro on a shared tile and a fragment (macro_scope), every variant") {
  auto source = specExample("macro_scope.tl");
  if (!source) return;
  checkAllVariants(*source, {{37, 131}, {32, 64}}, [](Case& c, const Shape& s) {
    int32_t M = s[0], N = s[1];
    HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(M) * N);
    HostBuffer& B = c.buffer(ir::DType::Float32, int64_t(M) * N);
    HostBuffer& C = c.buffer(ir::DType::Float32, int64_t(M) * N);
    randomFill(A, 10);
    B.fill(kPoison);
    C.fill(kPoison);
    c.args.pointer("A", A);
    c.args.pointer("B", B);
    c.args.pointer("C", C);
    c.args.dim("M", M);
    c.args.dim("N", N);
    c.output = &B;
    std::vector<double> tripled;
    for (int64_t i = 0; i < A.elements(); ++i) {
      c.expected.push_back(float(A.get(i) * 2.0f));
      tripled.push_back(float(A.get(i) * 3.0f));
    }
    c.moreOutputs.emplace_back(&C, tripled);
  });
}

TEST_CASE("interpreter: the low-level cp.async intrinsics, every variant") {
  auto source = specExample("cp_async_lowlevel.tl");
  if (!source) return;
  checkAllVariants(*source, {{37}, {16}, {1}}, [](Case& c, const Shape& s) {
    int32_t M = s[0];
    HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(M) * 64);
    HostBuffer& B = c.buffer(ir::DType::Float32, int64_t(M) * 64);
    randomFill(A, 11);
    B.fill(kPoison);
    c.args.pointer("A", A);
    c.args.pointer("B", B);
    c.args.dim("M", M);
    c.output = &B;
    for (int64_t i = 0; i < A.elements(); ++i) c.expected.push_back(A.get(i));
  });
}

TEST_CASE("interpreter: user-managed TMA and mbarriers (tma_explicit), sm_90a") {
  auto source = specExample("tma_explicit.tl");
  if (!source) return;
  checkAllVariants(
      *source, {{37, 136}, {130, 8}, {1, 128}},
      [](Case& c, const Shape& s) {
        int32_t M = s[0], N = s[1];
        HostBuffer& A = c.buffer(ir::DType::Float16, int64_t(M) * N);
        HostBuffer& B = c.buffer(ir::DType::Float16, int64_t(M) * N);
        randomFill(A, 12);
        B.fill(kPoison);
        c.args.pointer("A", A);
        c.args.pointer("B", B);
        c.args.dim("M", M);
        c.args.dim("N", N);
        c.output = &B;
        for (int64_t i = 0; i < A.elements(); ++i) c.expected.push_back(A.get(i));
      },
      {Target::hopper()});
}

TEST_CASE("interpreter: clusters of two blocks sharing a TMA multicast (cluster_bias), sm_90a") {
  auto source = specExample("cluster_bias.tl");
  if (!source) return;
  auto bind = [](Case& c, const Shape& s) {
    int32_t NB = s[0], M = s[1], N = s[2];
    HostBuffer& A = c.buffer(ir::DType::Float16, int64_t(NB) * M * N);
    HostBuffer& W = c.buffer(ir::DType::Float16, int64_t(M) * N);
    HostBuffer& C = c.buffer(ir::DType::Float16, int64_t(NB) * M * N);
    randomFill(A, 16);
    randomFill(W, 17);
    C.fill(kPoison);
    c.args.pointer("A", A);
    c.args.pointer("W", W);
    c.args.pointer("C", C);
    c.args.dim("NB", NB);
    c.args.dim("M", M);
    c.args.dim("N", N);
    c.output = &C;
    for (int64_t i = 0; i < C.elements(); ++i)
      c.expected.push_back(interp::roundToFloat(A.get(i) + W.get(i % (int64_t(M) * N)), ir::DType::Float16));
  };
  checkAllVariants(*source, {{2, 37, 131}, {4, 64, 136}}, bind, {Target::hopper()});
  // A grid that is not whole clusters: the launcher refuses it, and so does run().
  auto module = compile(*source, Target::hopper());
  Case c;
  bind(c, {3, 8, 8});
  interp::Result r = interp::run(module->kernels.back(), c.args);
  CHECK_FALSE(r.ok);
  CHECK(r.text().find("grid z = 3 is not a multiple of 2") != std::string::npos);
}

namespace {

// A one-block kernel built by hand: `threads` threads, one int32 output `out` of
// `outElements` elements, and whatever body the test gives it.
struct HandKernel {
  ir::Kernel kernel;
  ir::VarRef outData = ir::makeVar("out", ir::DType::Handle);
  ir::BufferRef out = std::make_shared<ir::Buffer>();
  HandKernel(int threads, int64_t outElements, ir::DType outType = ir::DType::Int32) {
    kernel.name = kernel.sourceName = "hand";
    kernel.threads = threads;
    for (auto& g : kernel.grid) g = ir::intImm(1);
    out->name = "out";
    out->dtype = outType;
    out->shape = {ir::intImm(outElements)};
    out->strides = {ir::intImm(1)};
    out->data = outData;
    ir::Param p;
    p.name = "out";
    p.kind = ir::ParamKind::Pointer;
    p.var = outData;
    p.elementType = outType;
    kernel.params.push_back(p);
  }
  ir::StmtRef store(int64_t index, ir::ExprRef value) {
    return std::make_shared<ir::StoreStmt>(SourceRange{}, out, std::vector<ir::ExprRef>{ir::intImm(index)}, value);
  }
  interp::Result run(HostBuffer& buffer, std::vector<ir::StmtRef> body) {
    kernel.body = std::make_shared<ir::SeqStmt>(SourceRange{}, std::move(body));
    interp::Arguments args;
    args.pointer("out", buffer);
    return interp::run(kernel, args);
  }
};

ir::ExprRef i32(int64_t v) { return ir::intImm(v); }
ir::ExprRef raw(ir::BinOp op, ir::ExprRef a, ir::ExprRef b, ir::DType t = ir::DType::Int32, int lanes = 1) {
  return std::make_shared<ir::BinaryNode>(op, a, b, t, lanes);  // unfolded, whatever the builders would fold
}

}  // namespace

TEST_CASE("interpreter: integer and vector semantics of the loop IR") {
  using ir::BinOp;
  using ir::DType;
  HandKernel k(1, 12);
  HostBuffer out(DType::Int32, 12);
  out.fill(kPoison);
  auto u32 = [](int64_t v) { return ir::intImm(v, DType::UInt32); };
  interp::Result r = k.run(out, {
      k.store(0, raw(BinOp::FloorDiv, i32(-7), i32(2))),                        // -4 (Python //)
      k.store(1, raw(BinOp::FloorMod, i32(-7), i32(2))),                        // 1 (sign of the divisor)
      k.store(2, raw(BinOp::FloorMod, i32(7), i32(-2))),                        // -1
      k.store(3, raw(BinOp::Shr, i32(-16), i32(2))),                            // -4 (arithmetic)
      k.store(4, ir::cast(DType::Int32, raw(BinOp::Shr, u32(0x80000000LL), u32(31), DType::UInt32))),  // 1
      k.store(5, ir::cast(DType::Int32, raw(BinOp::Lt, u32(0xFFFFFFFFLL), i32(1), DType::Bool))),  // in uint32: 0
      k.store(6, raw(BinOp::Mul, i32(65536), i32(65536))),                      // wraps to 0
      k.store(7, ir::cast(DType::Int32, ir::cast(DType::Float16, ir::floatImm(2049.0)))),  // 2048: fp16 rounding
      k.store(8, ir::cast(DType::Int32, ir::floatImm(-3.9))),                   // -3: truncation
      k.store(9, ir::select(raw(BinOp::Gt, i32(3), i32(2), DType::Bool), i32(10), i32(20))),
      k.store(10, raw(BinOp::Pow, i32(3), i32(4))),                            // 81
      k.store(11, ir::cast(DType::Int32, ir::call(ir::Builtin::Exp2, {ir::floatImm(5.0)}, DType::Float32))),
  });
  REQUIRE_MESSAGE(r.ok, r.text());
  std::vector<double> want = {-4, 1, -1, -4, 1, 0, 0, 2048, -3, 10, 81, 32};
  std::string mismatch = firstMismatch(out, want);
  CHECK_MESSAGE(mismatch.empty(), mismatch);

  // A 4-lane vector: loaded, added to a splat scalar, stored.
  HandKernel v(1, 8, DType::Float32);
  HostBuffer vec(DType::Float32, 8);
  for (int i = 0; i < 8; ++i) vec.set(i, i);
  auto load = std::make_shared<ir::LoadNode>(v.out, std::vector<ir::ExprRef>{i32(0)}, DType::Float32, 4);
  load->alignBytes = 16;
  auto sum = raw(BinOp::Add, load, ir::floatImm(0.5), DType::Float32, 4);
  auto st = std::make_shared<ir::StoreStmt>(SourceRange{}, v.out, std::vector<ir::ExprRef>{i32(4)}, sum);
  st->alignBytes = 16;
  r = v.run(vec, {st});
  REQUIRE_MESSAGE(r.ok, r.text());
  CHECK(firstMismatch(vec, {0, 1, 2, 3, 0.5, 1.5, 2.5, 3.5}).empty());
}

TEST_CASE("interpreter catches: misaligned vectors, division by zero, bad shifts, out-of-bounds shared and local") {
  using ir::DType;
  HostBuffer out(DType::Int32, 16);
  {
    HandKernel k(1, 16);
    auto load = std::make_shared<ir::LoadNode>(k.out, std::vector<ir::ExprRef>{i32(1)}, DType::Int32, 4);
    load->alignBytes = 16;
    interp::Result r = k.run(out, {k.store(0, ir::cast(DType::Int32, raw(ir::BinOp::Add, load, i32(0), DType::Int32, 4)))});
    CHECK(r.text().find("misaligned read of global 'out' at element 1 (4 elements)") != std::string::npos);
  }
  {
    HandKernel k(1, 16);
    interp::Result r = k.run(out, {k.store(0, raw(ir::BinOp::FloorDiv, i32(1), i32(0)))});
    CHECK(r.text().find("division by zero") != std::string::npos);
  }
  {
    HandKernel k(1, 16);
    interp::Result r = k.run(out, {k.store(0, raw(ir::BinOp::Shl, i32(1), i32(32)))});
    CHECK(r.text().find("shift by 32 of a 32-bit value") != std::string::npos);
  }
  {
    HandKernel k(2, 16);
    auto tile = std::make_shared<ir::Buffer>();
    tile->name = "tile";
    tile->scope = ir::MemScope::Shared;
    tile->dtype = DType::Int32;
    tile->shape = {i32(8)};
    tile->strides = {i32(1)};
    tile->sharedOffset = 0;
    k.kernel.dynamicSharedBytes = 64;
    k.kernel.allocations = {tile};
    // Thread t writes tile[t * 8]: thread 1 is past the 8-element tile.
    ir::ExprRef index = ir::mul(ir::call(ir::Builtin::ThreadIdx, {}, DType::Int32), i32(8));
    auto st = std::make_shared<ir::StoreStmt>(SourceRange{{0, 7, 3}, {}}, tile, std::vector<ir::ExprRef>{index}, i32(1));
    interp::Result r = k.run(out, {st});
    CHECK(r.text().find("thread 1, line 7:3: out-of-bounds write of shared 'tile' at element 8") != std::string::npos);
  }
  {
    HandKernel k(1, 16);
    auto regs = std::make_shared<ir::Buffer>();
    regs->name = "regs";
    regs->scope = ir::MemScope::Local;
    regs->dtype = DType::Float32;
    regs->shape = {i32(4)};
    regs->strides = {i32(1)};
    k.kernel.allocations = {regs};
    auto read = std::make_shared<ir::LoadNode>(regs, std::vector<ir::ExprRef>{i32(4)}, DType::Float32, 1);
    interp::Result r = k.run(out, {k.store(0, ir::cast(DType::Int32, read))});
    CHECK(r.text().find("out-of-bounds read of local 'regs' at element 4") != std::string::npos);
  }
}

TEST_CASE("interpreter: TMA load and store of a 128-byte swizzled tile (cp.async and SIMT on sm_80)") {
  const std::string source = R"(
kernel swizzle_copy(A: Tensor((M, N), float16), B: Tensor((M, N), float16)) {
  with Kernel(ceildiv(N, 64), ceildiv(M, 16), threads=128) as (bx, by) {
    s = alloc_shared((16, 64), float16);
    annotate_layout({s: swizzled(s, 128)});
    copy(A[by * 16, bx * 64], s, prefer_instruction="tma");
    copy(s, B[by * 16, bx * 64], prefer_instruction="tma");
  }
}
)";
  checkAllVariants(source, {{37, 136}, {16, 64}, {37, 131}}, [](Case& c, const Shape& s) { bindTileCopy(c, s); });
  // The sm_90a aligned variant copies by TMA, through swizzled tensor maps.
  auto module = compile(source, Target::hopper());
  bool swizzledMap = false;
  for (const ir::Param& p : variant(*module, true).params)
    swizzledMap = swizzledMap || (p.kind == ir::ParamKind::TensorMap && p.tensorMap->swizzleBytes == 128);
  CHECK(swizzledMap);
}

TEST_CASE("interpreter: fragment loops kept rolled past the unrolling budget (copy, fill, Parallel), ragged shapes") {
  // 8 x 4096 float32 on 128 threads: 256 elements a thread, past
  // limits::UnrolledElementsPerThread, so the copies, the fill and the Parallel loop
  // stay loops indexed by their variable (the fragments live in local memory).
  const std::string source = R"(
kernel rolled(A: Tensor((M, N), float32), B: Tensor((M, N), float32), alpha: float32) {
  with Kernel(ceildiv(N, 4096), ceildiv(M, 8), threads=128) as (bx, by) {
    f = alloc_fragment((8, 4096), float32);
    g = alloc_fragment((8, 4096), float32);
    fill(g, 1.5);
    copy(A[by * 8, bx * 4096], f);
    for i, j in Parallel(8, 4096) {
      f[i, j] = f[i, j] * alpha + g[i, j] + cast(j % 5, float32);
    }
    copy(f, B[by * 8, bx * 4096]);
  }
}
)";
  for (const Target& target : targets()) {
    auto module = compile(source, target);
    for (ir::Kernel& kernel : module->kernels) {
      int rolled = 0, unrolled = 0;
      forEachStmt(kernel.body, [&](ir::StmtRef& s) {
        if (s->kind != ir::StmtKind::For) return;
        rolled += s->as<ir::ForStmt>().keepRolled;
        unrolled += s->as<ir::ForStmt>().kind == ir::ForKind::Unrolled;
      });
      INFO(target.arch() << " " << kernel.name);
      CHECK(rolled == 4);  // the fill, both copies, the Parallel loop
      CHECK(unrolled == 0);
    }
  }
  checkAllVariants(source, {{9, 4100}, {8, 4096}, {3, 77}}, [](Case& c, const Shape& s) {
    int32_t M = s[0], N = s[1];
    HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(M) * N);
    HostBuffer& B = c.buffer(ir::DType::Float32, int64_t(M) * N);
    randomFill(A, 17);
    B.fill(kPoison);
    c.args.pointer("A", A);
    c.args.pointer("B", B);
    c.args.dim("M", M);
    c.args.dim("N", N);
    c.args.scalar("alpha", 0.5);
    c.output = &B;
    c.tolerance = 1e-6;  // the GPU may fuse the multiply-add
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j)
        c.expected.push_back(float(A.get(i * N + j)) * 0.5f + 1.5f + float((j % 4096) % 5));
  });
}

// A tile whose vector groups do not divide the block's threads: an (8, 24) float32
// tile is 48 groups of 4 for 128 threads, so threads 48 to 127 have no group and
// the copies' partition must guard them off (and thread 47 must still copy its
// group). Global -> shared, shared -> shared and shared -> global, on ragged shapes
// (the global predicate is separate from the partition's guard) and on whole tiles.
TEST_CASE("interpreter: copies of a tile whose groups do not divide the threads, every variant") {
  const std::string source = R"(
kernel ragged_groups(A: Tensor((M, N), float32), B: Tensor((M, N), float32)) {
  with Kernel(ceildiv(N, 24), ceildiv(M, 8), threads=128) as (bx, by) {
    s = alloc_shared((8, 24), float32);
    t = alloc_shared((8, 24), float32);
    copy(A[by * 8, bx * 24], s);
    copy(s, t);
    copy(t, B[by * 8, bx * 24]);
  }
}
)";
  checkAllVariants(source, {{8, 24}, {16, 48}, {13, 37}, {1, 5}, {9, 26}}, [](Case& c, const Shape& s) {
    int32_t M = s[0], N = s[1];
    HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(M) * N);
    HostBuffer& B = c.buffer(ir::DType::Float32, int64_t(M) * N);
    randomFill(A, 11);
    B.fill(kPoison);
    c.args.pointer("A", A);
    c.args.pointer("B", B);
    c.args.dim("M", M);
    c.args.dim("N", N);
    c.output = &B;
    for (int64_t i = 0; i < A.elements(); ++i) c.expected.push_back(A.get(i));
  });
}


TEST_CASE("interpreter: a Parallel loop with integer, float and select arithmetic") {
  const std::string source = R"(
kernel mix(A: Tensor((M, N), float32), B: Tensor((M, N), float32)) {
  with Kernel(ceildiv(N, 32), ceildiv(M, 8), threads=64) as (bx, by) {
    f = alloc_fragment((8, 32), float32);
    copy(A[by * 8, bx * 32], f);
    for i, j in Parallel(8, 32) {
      f[i, j] = if_then_else(f[i, j] > 0.0, f[i, j] * 2.0, abs(f[i, j])) + cast((bx * 32 + j) % 3, float32) - cast((by * 8 + i) // 2, float32);
    }
    copy(f, B[by * 8, bx * 32]);
  }
}
)";
  checkAllVariants(source, {{37, 131}, {9, 32}}, [](Case& c, const Shape& s) {
    int32_t M = s[0], N = s[1];
    HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(M) * N);
    HostBuffer& B = c.buffer(ir::DType::Float32, int64_t(M) * N);
    randomFill(A, 13);
    B.fill(kPoison);
    c.args.pointer("A", A);
    c.args.pointer("B", B);
    c.args.dim("M", M);
    c.args.dim("N", N);
    c.output = &B;
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        float a = float(A.get(i * N + j));
        float v = (a > 0 ? a * 2.0f : std::fabs(a)) + float(j % 3) - float(i / 2);
        c.expected.push_back(v);
      }
  });
}

TEST_CASE("interpreter catches: a TMA ring without the barrier that frees a stage before it is refilled") {
  auto source = specExample("batch_sum.tl");
  if (!source) return;
  auto module = compile(*source, Target::hopper());
  ir::Kernel& aligned = variant(*module, true);
  // The sync_threads in the loop (at the copy, line 14) keeps the next TMA load out
  // of the stage that other threads may still be reading.
  REQUIRE(removeStmts(aligned, [](const ir::StmtNode& b) {
            return b.kind == ir::StmtKind::Barrier && b.as<ir::BarrierStmt>().barrier == ir::BarrierKind::SyncThreads &&
                   b.range.begin.line == 14;
          }) == 1);
  for (const interp::Options& options : schedules()) {
    int32_t K = 5, M = 37, N = 136;
    Case c;
    HostBuffer& A = c.buffer(ir::DType::Float16, int64_t(K) * M * N);
    HostBuffer& C = c.buffer(ir::DType::Float32, int64_t(M) * N);
    randomFill(A, 14);
    C.fill(kPoison);
    c.args.pointer("A", A);
    c.args.pointer("C", C);
    c.args.dim("K", K);
    c.args.dim("M", M);
    c.args.dim("N", N);
    interp::Result r = interp::run(aligned, c.args, options);
    int64_t wrong = 0;
    for (int64_t i = 0; i < int64_t(M) * N; ++i) {
      float sum = 0;
      for (int64_t k = 0; k < K; ++k) sum += float(A.get(k * M * N + i));
      wrong += C.get(i) != sum;
    }
    INFO(r.text());
    CHECK((!r.ok || wrong > 0));  // a deadlock (one thread ran phases ahead) or another k's data
  }
}

TEST_CASE("interpreter: im2col (TMA im2col mode on sm_90a), small images, strides 1 and 2") {
  auto source = specExample("im2col.tl");
  if (!source) return;
  for (int stride : {1, 2}) {
    // One 5 x 7 image of 64 channels, a 3 x 3 filter, padding 1.
    const int64_t H = 5, W = 7, C = 64, K = 3, P = 1, S = stride;
    const int64_t OH = (H + 2 * P - K) / S + 1, OW = (W + 2 * P - K) / S + 1;
    std::vector<Define> defines = {{"NB", "1"}, {"H", "5"}, {"W", "7"}, {"S", std::to_string(S)}};
    auto module = compile(*source, Target::hopper(), defines);
    bool im2colMode = false;
    for (const ir::Param& p : variant(*module, true).params)
      im2colMode = im2colMode || (p.kind == ir::ParamKind::TensorMap && p.tensorMap->im2col);
    CHECK(im2colMode);
    checkAllVariants(
        *source, {{0}},
        [&](Case& c, const Shape&) {
          HostBuffer& img = c.buffer(ir::DType::Float16, H * W * C);
          HostBuffer& col = c.buffer(ir::DType::Float16, OH * OW * K * K * C);
          randomFill(img, 15);
          col.fill(kPoison);
          c.args.pointer("img", img);
          c.args.pointer("col", col);
          c.output = &col;
          for (int64_t oh = 0; oh < OH; ++oh)
            for (int64_t ow = 0; ow < OW; ++ow)
              for (int64_t kh = 0; kh < K; ++kh)
                for (int64_t kw = 0; kw < K; ++kw)
                  for (int64_t ch = 0; ch < C; ++ch) {
                    int64_t y = oh * S - P + kh, x = ow * S - P + kw;
                    bool inside = y >= 0 && y < H && x >= 0 && x < W;
                    c.expected.push_back(inside ? img.get((y * W + x) * C + ch) : 0.0);
                  }
        },
        // The traversal stride matters only to TMA's im2col mode: stride 2 on sm_90a alone.
        stride == 1 ? targets() : std::vector<Target>{Target::hopper()}, defines);
  }
}

TEST_CASE("interpreter catches: a multicast before the other block of the cluster has initialised its mbarrier") {
  auto source = specExample("cluster_bias.tl");
  if (!source) return;
  auto module = compile(*source, Target::hopper());
  ir::Kernel& aligned = variant(*module, true);
  // The cluster_sync before the multicast (at the copy_cluster, line 11) makes every
  // block's barrier initialisation visible to the issuing block.
  REQUIRE(removeStmts(aligned, [](const ir::StmtNode& s) {
            return s.kind == ir::StmtKind::Barrier && s.as<ir::BarrierStmt>().barrier == ir::BarrierKind::ClusterSync &&
                   s.range.begin.line == 11;
          }) == 1);
  Case c;
  int32_t NB = 2, M = 64, N = 128;
  HostBuffer& A = c.buffer(ir::DType::Float16, int64_t(NB) * M * N);
  HostBuffer& W = c.buffer(ir::DType::Float16, int64_t(M) * N);
  c.args.pointer("A", A);
  c.args.pointer("W", W);
  c.args.pointer("C", A);
  c.args.dim("NB", NB);
  c.args.dim("M", M);
  c.args.dim("N", N);
  interp::Result r = interp::run(aligned, c.args);
  CHECK_FALSE(r.ok);
  CHECK(r.text().find("of block (0, 0, 1) used before mbarrier_init") != std::string::npos);
}

// Index width (WidenIndices): the interpreter evaluates integers at their IR type,
// wrapping as the GPU does, so a 32-bit index that overflows shows here. Block
// `base` of a copy in blocks of 1000 starts at 2147483000; with n = 2147483000 every
// element of it is past n. In int32 its threads' indices from 2147483648 on wrap
// negative, pass `< n` and read before A (an out-of-bounds fault); in int64 every
// predicate is false and nothing is touched (the buffers can be tiny).
TEST_CASE("interpreter: a block past 2^31 elements touches nothing (int64 indices)") {
  const std::string source = R"(
kernel k(A: Tensor((n,), float32), B: Tensor((n,), float32), base: int32) {
  with Kernel(1, threads=1000) as (bx) {
    x = alloc_fragment((1000,), float32);
    copy(A[(base + bx) * 1000], x);
    copy(x, B[(base + bx) * 1000]);
  }
}
)";
  for (const Target& target : targets()) {
    auto module = compile(source, target);
    int runs = 0;
    for (const ir::Kernel& kernel : module->kernels) {
      HostBuffer A(ir::DType::Float32, 4), B = poisoned(ir::DType::Float32, 4);
      interp::Arguments args;
      args.pointer("A", A);
      args.pointer("B", B);
      args.dim("n", 2147483000);
      args.scalar("base", 2147483);
      if (!interp::assumptionsHold(kernel, args)) continue;
      interp::Result r = interp::run(kernel, args);
      INFO(kernel.name << ": " << r.text());
      CHECK(r.ok);
      for (int64_t i = 0; i < 4; ++i) CHECK(B.bytes[size_t(i) * 4] == kPoison);
      ++runs;
    }
    CHECK(runs >= 1);
  }
}

// ---- the seed surface (issue 19): the GPU tests' kernels, run on ragged shapes

namespace {

std::string gpuKernel(const std::string& file) { return *readFile(TLC_SOURCE_DIR "/tests/gpu/kernels/" + file); }

// B = A * scale, and a copy of A in the tensor named `second`.
void bindScaledCopy(Case& c, const Shape& s, const char* second, float scale) {
  int32_t M = s[0], N = s[1];
  HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(M) * N);
  HostBuffer& B = c.buffer(ir::DType::Float32, int64_t(M) * N);
  HostBuffer& C = c.buffer(ir::DType::Float32, int64_t(M) * N);
  randomFill(A, 31);
  B.fill(kPoison);
  C.fill(kPoison);
  c.args.pointer("A", A);
  c.args.pointer("B", B);
  c.args.pointer(second, C);
  c.args.dim("M", M);
  c.args.dim("N", N);
  c.output = &B;
  std::vector<double> same;
  for (int64_t i = 0; i < A.elements(); ++i) {
    c.expected.push_back(float(A.get(i) * scale));
    same.push_back(A.get(i));
  }
  c.moreOutputs.emplace_back(&C, same);
}

}  // namespace

TEST_CASE("interpreter: copies through the region helpers (region_helpers.tl), every variant, ragged shapes") {
  checkAllVariants(gpuKernel("region_helpers.tl"), kRaggedShapes,
                   [](Case& c, const Shape& s) { bindScaledCopy(c, s, "C", 2.0f); });
}

TEST_CASE("interpreter: extract_tensormap_ptr, BYTES_PER_* and cutedsl's cache-modifier enum (cpasync_facts.tl), sm_90a") {
  checkAllVariants(
      gpuKernel("cpasync_facts.tl"), {{37}, {16}, {1}},
      [](Case& c, const Shape& s) {
        int32_t M = s[0];
        HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(M) * 64);
        HostBuffer& B = c.buffer(ir::DType::Float32, int64_t(M) * 64);
        HostBuffer& C = c.buffer(ir::DType::Float32, int64_t(M) * 64);
        HostBuffer& F = c.buffer(ir::DType::Int64, 4);
        randomFill(A, 32);
        B.fill(kPoison);
        C.fill(kPoison);
        F.fill(kPoison);
        c.args.pointer("A", A);
        c.args.pointer("B", B);
        c.args.pointer("C", C);
        c.args.pointer("F", F);
        c.args.dim("M", M);
        c.output = &B;
        std::vector<double> same;
        for (int64_t i = 0; i < A.elements(); ++i) {
          c.expected.push_back(A.get(i));
          same.push_back(A.get(i));
        }
        c.moreOutputs.emplace_back(&C, same);
        c.moreOutputs.emplace_back(&F, std::vector<double>{128, 8, 0, 1});
      },
      {Target::hopper()});
}

TEST_CASE("interpreter: im2col by keyword, kernel= and annotations= (im2col_keywords.tl), TMA and cp.async") {
  const std::string source = gpuKernel("im2col_keywords.tl");
  // One 5 x 7 image, a 3 x 3 filter, padding 1; C = 64 takes TMA's im2col mode,
  // C = 40 with BK = 16 the cp.async route.
  for (int64_t C : {64, 40}) {
    const int64_t H = 5, W = 7, K = 3, P = 1;
    const int64_t OH = H + 2 * P - K + 1, OW = W + 2 * P - K + 1;
    std::vector<Define> defines = {{"NB", "1"}, {"H", "5"}, {"W", "7"}, {"C", std::to_string(C)},
                                   {"BK", C == 64 ? "32" : "16"}};
    checkAllVariants(
        source, {{0}},
        [&](Case& c, const Shape&) {
          HostBuffer& img = c.buffer(ir::DType::Float16, H * W * C);
          HostBuffer& col = c.buffer(ir::DType::Float16, OH * OW * K * K * C);
          randomFill(img, 33);
          col.fill(kPoison);
          c.args.pointer("img", img);
          c.args.pointer("col", col);
          c.output = &col;
          for (int64_t oh = 0; oh < OH; ++oh)
            for (int64_t ow = 0; ow < OW; ++ow)
              for (int64_t kh = 0; kh < K; ++kh)
                for (int64_t kw = 0; kw < K; ++kw)
                  for (int64_t ch = 0; ch < C; ++ch) {
                    int64_t y = oh - P + kh, x = ow - P + kw;
                    bool inside = y >= 0 && y < H && x >= 0 && x < W;
                    c.expected.push_back(inside ? img.get((y * W + x) * C + ch) : 0.0);
                  }
        },
        targets(), defines);
  }
}

TEST_CASE("interpreter: transpose of parts of tiles (transpose_parts.tl), every variant, ragged shapes") {
  checkAllVariants(gpuKernel("transpose_parts.tl"), {{37, 131}, {1, 7}, {64, 64}, {65, 128}, {130, 66}},
                   [](Case& c, const Shape& s) {
                     int32_t M = s[0], N = s[1];
                     HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(M) * N);
                     HostBuffer& B = c.buffer(ir::DType::Float32, int64_t(M) * N);
                     randomFill(A, 34);
                     B.fill(kPoison);
                     c.args.pointer("A", A);
                     c.args.pointer("B", B);
                     c.args.dim("M", M);
                     c.args.dim("N", N);
                     c.output = &B;
                     for (int64_t j = 0; j < N; ++j)
                       for (int64_t i = 0; i < M; ++i) c.expected.push_back(A.get(i * N + j));
                   });
}

// Issue 20's TileLang surface on ragged shapes: T. names, `with` without `as`, the
// default 128 threads, alloc_var, run-time extents (a copy's slice, a Parallel loop's
// min(n, 256), a fill's chunked tail [n, N), a Parallel loop over N in chunks), and a
// copy of one element inside a Parallel loop.
TEST_CASE("interpreter: TileLang-style run-time extents, alloc_var and element copies on ragged shapes") {
  const std::string source = R"(
kernel ragged(A: T.Tensor((M, N), T.float32), B: T.Tensor((M, N), T.float32), C: T.Tensor((M, N), T.float32),
              len: T.int32) {
  with T.Kernel(M) as bx {
    S = T.alloc_shared((256,), T.float32);
    n = T.alloc_var(T.int32, init=T.min(len, N));
    T.copy(A[bx, 0:n], S);
    for i in T.Parallel(T.min(n, 256)) { S[i] = S[i] * 2.0 + T.cast(i % 3, T.float32); }
    T.copy(S[0:n], B[bx, 0:n]);
    T.fill(B[bx, n:N], 7.0);
    for j in T.Parallel(N) { T.copy(A[bx, j], C[bx, j]); }
  }
}
)";
  checkAllVariants(source, {{5, 200, 77}, {3, 256, 300}, {2, 1, 0}, {7, 131, 131}, {1, 9, 4}}, [](Case& c, const Shape& s) {
    int32_t M = s[0], N = s[1], len = s[2];
    HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(M) * N);
    HostBuffer& B = c.buffer(ir::DType::Float32, int64_t(M) * N);
    HostBuffer& C = c.buffer(ir::DType::Float32, int64_t(M) * N);
    randomFill(A, 23);
    B.fill(kPoison);
    C.fill(kPoison);
    c.args.pointer("A", A);
    c.args.pointer("B", B);
    c.args.pointer("C", C);
    c.args.dim("M", M);
    c.args.dim("N", N);
    c.args.scalar("len", len);
    int32_t n = std::min(len, N);
    std::vector<double> copied;
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double a = A.get(i * N + j);
        c.expected.push_back(j < n ? double(float(a) * 2.0f + float(j % 3)) : 7.0);
        copied.push_back(a);
      }
    c.output = &B;
    c.moreOutputs = {{&C, copied}};
  });
}

// Nested Parallel loops are one loop nest; the inner extent (i + 1) reads the outer
// index (a compile-time bound of 8, guarded); the fill's run-time rows stop at M.
TEST_CASE("interpreter: nested Parallel loops with a triangular inner extent, ragged M") {
  const std::string source = R"(
kernel triangle(D: T.Tensor((M, N), T.float32)) {
  with T.Kernel(T.ceildiv(M, 8), threads=64) as by {
    T.fill(D[by * 8:T.min(by * 8 + 8, M), 0:8], 0.0);
    for i in T.Parallel(8) {
      for j in T.Parallel(i + 1) { D[by * 8 + i, j] = T.cast(i * 10 + j, T.float32); }
    }
  }
}
)";
  checkAllVariants(source, {{13, 11}, {8, 8}, {1, 9}, {29, 8}}, [](Case& c, const Shape& s) {
    int32_t M = s[0], N = s[1];
    HostBuffer& D = c.buffer(ir::DType::Float32, int64_t(M) * N);
    D.fill(kPoison);
    c.args.pointer("D", D);
    c.args.dim("M", M);
    c.args.dim("N", N);
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j)
        c.expected.push_back(j >= 8 ? D.get(i * N + j) : j <= i % 8 ? double((i % 8) * 10 + j) : 0.0);
    c.output = &D;
  });
}

// Kernel() with no grid, no `as` and the default threads; an alloc_var accumulated in a
// serial loop; a Parallel loop of a run-time extent with no bound (chunks of 128),
// with n past the tensor (reads give 0, writes are skipped), 0 and negative.
TEST_CASE("interpreter: one block, alloc_var and an unbounded run-time Parallel extent") {
  const std::string source = R"(
kernel one_block(X: T.Tensor((L,), T.float32), Y: T.Tensor((L,), T.float32), out: T.Tensor((1,), T.float32),
                 n: T.int32) {
  with T.Kernel() {
    acc = T.alloc_var(T.float32);
    for k in T.serial(n) { acc += X[k]; }
    for i in T.Parallel(n) { Y[i] = X[i] * 2.0; }
    if T.get_thread_binding() == 0 { out[0] = acc; }
  }
}
)";
  checkAllVariants(source, {{1, 1}, {300, 299}, {128, 128}, {200, 205}, {7, 0}, {9, -3}}, [](Case& c, const Shape& s) {
    int32_t L = s[0], n = s[1];
    HostBuffer& X = c.buffer(ir::DType::Float32, L);
    HostBuffer& Y = c.buffer(ir::DType::Float32, L);
    HostBuffer& out = c.buffer(ir::DType::Float32, 1);
    randomFill(X, 29);
    Y.fill(kPoison);
    out.fill(kPoison);
    c.args.pointer("X", X);
    c.args.pointer("Y", Y);
    c.args.pointer("out", out);
    c.args.dim("L", L);
    c.args.scalar("n", n);
    float sum = 0;
    for (int32_t k = 0; k < n; ++k) sum += k < L ? float(X.get(k)) : 0.0f;
    for (int32_t i = 0; i < L; ++i) c.expected.push_back(i < n ? double(float(X.get(i)) * 2.0f) : Y.get(i));
    c.output = &Y;
    c.moreOutputs = {{&out, {double(sum)}}};
  });
}

// tests/gpu/kernels/sync_vocabulary.tl: `ring`, a producer / consumer pair of warp
// groups handing tiles through a two-stage ring on a barrier array (run-time indices,
// parity waits, TileLang's spellings); `swap`, blocks of a cluster exchanging rows
// through global memory across the split cluster barrier (cluster_arrive / _wait).
const std::string kSyncVocabulary = *readFile(TLC_SOURCE_DIR "/tests/gpu/kernels/sync_vocabulary.tl");

ir::Kernel& kernelNamed(ir::Module& m, const std::string& name) {
  for (ir::Kernel& k : m.kernels)
    if (k.name == name) return k;
  FAIL("no kernel " << name);
  throw std::logic_error("unreachable");
}

void bindProducerConsumer(Case& c, const Shape& s) {
  int32_t M = s[0], N = s[1];
  HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(M) * N);
  HostBuffer& B = c.buffer(ir::DType::Float32, int64_t(M) * N);
  randomFill(A, 41);
  B.fill(kPoison);
  c.args.pointer("A", A);
  c.args.pointer("B", B);
  c.args.dim("M", M);
  c.args.dim("N", N);
  for (int64_t i = 0; i < int64_t(M) * N; ++i) c.expected.push_back(double(float(A.get(i)) * 2.0f + 1.0f));
  c.output = &B;
}

void bindSwap(Case& c, const Shape& s) {
  int32_t M = s[0], N = s[1];
  const int32_t BM = 16;
  HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(M) * N);
  HostBuffer& W = c.buffer(ir::DType::Float32, int64_t(M) * N);
  HostBuffer& B = c.buffer(ir::DType::Float32, int64_t(M) * N);
  HostBuffer& C = c.buffer(ir::DType::Float32, int64_t(M) * N);
  randomFill(A, 43);
  W.fill(kPoison);
  B.fill(kPoison);
  C.fill(kPoison);
  c.args.pointer("A", A);
  c.args.pointer("W", W);
  c.args.pointer("B", B);
  c.args.pointer("C", C);
  c.args.dim("M", M);
  c.args.dim("N", N);
  std::vector<double> plusOne;
  for (int64_t r = 0; r < M; ++r) {
    int64_t block = r / BM, partnerRow = (block ^ 1) * BM + r % BM;
    for (int64_t j = 0; j < N; ++j) {
      c.expected.push_back(partnerRow < M ? double(float(A.get(partnerRow * N + j)) * 2.0f) : 0.0);
      plusOne.push_back(double(float(A.get(r * N + j)) + 1.0f));
    }
  }
  c.output = &B;
  c.moreOutputs = {{&C, plusOne}};
}

// Runs kernel `name` of `module` on each shape, in both schedules.
void checkKernel(ir::Module& module, const std::string& name, const std::vector<Shape>& shapes,
                 const std::function<void(Case&, const Shape&)>& bind) {
  ir::Kernel& kernel = kernelNamed(module, name);
  for (const Shape& shape : shapes)
    for (const interp::Options& options : schedules()) {
      Case c;
      bind(c, shape);
      INFO(name << " shape " << shape[0] << " " << shape[1]
                << (options.order == interp::ThreadOrder::Ascending ? " ascending" : " descending"));
      interp::Result r = interp::run(kernel, c.args, options);
      REQUIRE_MESSAGE(r.ok, r.text());
      std::string mismatch = firstMismatch(*c.output, c.expected);
      CHECK_MESSAGE(mismatch.empty(), mismatch);
      for (auto& [output, expected] : c.moreOutputs) {
        mismatch = firstMismatch(*output, expected);
        CHECK_MESSAGE(mismatch.empty(), mismatch);
      }
    }
}

TEST_CASE("interpreter: a producer / consumer ring on a barrier array with parity waits, ragged N, sm_90a") {
  auto module = compile(kSyncVocabulary, Target::hopper());
  REQUIRE(module->kernels.size() == 4);  // ring, swap, tma_ring, remote: one variant each
  checkKernel(*module, "ring", {{3, 1}, {2, 127}, {1, 300}, {2, 643}, {1, 1031}}, bindProducerConsumer);
}

TEST_CASE("interpreter: blocks of a cluster exchanging rows across cluster_arrive / cluster_wait, ragged shapes") {
  auto module = compile(kSyncVocabulary, Target::hopper());
  checkKernel(*module, "swap", {{1, 1}, {17, 65}, {32, 64}, {45, 131}, {70, 3}}, bindSwap);
}

TEST_CASE("interpreter: a TMA ring on run-time elements of a barrier array (tma_load(D, bars[stage], ...)), ragged M") {
  auto module = compile(kSyncVocabulary, Target::hopper());
  checkKernel(*module, "tma_ring", {{1, 8}, {37, 136}, {130, 8}, {16, 64}, {53, 200}}, [](Case& c, const Shape& s) {
    int32_t M = s[0], N = s[1];
    HostBuffer& A = c.buffer(ir::DType::Float16, int64_t(M) * N);
    HostBuffer& B = c.buffer(ir::DType::Float16, int64_t(M) * N);
    randomFill(A, 47);
    B.fill(kPoison);
    c.args.pointer("A", A);
    c.args.pointer("B", B);
    c.args.dim("M", M);
    c.args.dim("N", N);
    c.output = &B;
    for (int64_t i = 0; i < A.elements(); ++i) c.expected.push_back(A.get(i));
  });
}

TEST_CASE("interpreter: the exchange through the partner's barrier (mbarrier_arrive(got[0], cta_id)), ragged shapes") {
  auto module = compile(kSyncVocabulary, Target::hopper());
  checkKernel(*module, "remote", {{1, 1}, {17, 65}, {32, 64}, {45, 131}, {70, 3}}, [](Case& c, const Shape& s) {
    bindSwap(c, s);
    c.moreOutputs.clear();  // remote writes no C
  });
  // Without the remote arrivals, nothing completes the barrier: a deadlock, reported.
  ir::Kernel& remote = kernelNamed(*module, "remote");
  REQUIRE(removeStmts(remote, [](const ir::StmtNode& s) { return isIntrinsic(s, ir::IntrinsicOp::MbarrierArriveRemote); }) ==
          1);
  Case c;
  bindSwap(c, {17, 65});
  interp::Result r = interp::run(remote, c.args);
  CHECK_FALSE(r.ok);
  CHECK(r.text().find("deadlock") != std::string::npos);
}

TEST_CASE("interpreter catches: a cluster_wait removed, a cluster_wait without its arrive, two arrivals") {
  auto isBarrier = [](ir::BarrierKind k) {
    return [k](const ir::StmtNode& s) { return s.kind == ir::StmtKind::Barrier && s.as<ir::BarrierStmt>().barrier == k; };
  };
  {
    auto module = compile(kSyncVocabulary, Target::hopper());
    ir::Kernel& swap = kernelNamed(*module, "swap");
    REQUIRE(removeStmts(swap, isBarrier(ir::BarrierKind::ClusterWait)) == 1);
    Case c;
    bindSwap(c, {45, 131});
    interp::Result r = interp::run(swap, c.args);
    REQUIRE_MESSAGE(r.ok, r.text());
    CHECK_FALSE(firstMismatch(*c.output, c.expected).empty());  // rank 0 read W before rank 1 wrote it
  }
  {
    auto module = compile(kSyncVocabulary, Target::hopper());
    ir::Kernel& swap = kernelNamed(*module, "swap");
    REQUIRE(removeStmts(swap, isBarrier(ir::BarrierKind::ClusterArrive)) == 1);
    Case c;
    bindSwap(c, {45, 131});
    interp::Result r = interp::run(swap, c.args);
    CHECK_FALSE(r.ok);
    CHECK(r.text().find("cluster_wait without a cluster_arrive before it") != std::string::npos);
  }
  {
    auto module = compile(kSyncVocabulary, Target::hopper());
    ir::Kernel& swap = kernelNamed(*module, "swap");
    REQUIRE(removeStmts(swap, isBarrier(ir::BarrierKind::ClusterWait)) == 1);
    // The wait's place taken by a second arrival.
    int replaced = 0;
    forEachStmt(swap.body, [&](ir::StmtRef& s) {
      if (s->kind == ir::StmtKind::Barrier && s->as<ir::BarrierStmt>().barrier == ir::BarrierKind::ClusterArrive &&
          replaced++ == 0)
        s = std::make_shared<ir::SeqStmt>(s->range, std::vector<ir::StmtRef>{s, s});
    });
    Case c;
    bindSwap(c, {17, 65});
    interp::Result r = interp::run(swap, c.args);
    CHECK_FALSE(r.ok);
    CHECK(r.text().find("cluster_arrive twice without a cluster_wait between") != std::string::npos);
  }
}

TEST_CASE("interpreter catches: the producer / consumer ring without its parity waits") {
  auto module = compile(kSyncVocabulary, Target::hopper());
  ir::Kernel& kernel = kernelNamed(*module, "ring");
  REQUIRE(removeStmts(kernel, [](const ir::StmtNode& s) { return isIntrinsic(s, ir::IntrinsicOp::MbarrierWaitParity); }) ==
          2);
  Case c;
  bindProducerConsumer(c, {2, 643});
  interp::Options consumersFirst;
  consumersFirst.order = interp::ThreadOrder::Descending;
  interp::Result r = interp::run(kernel, c.args, consumersFirst);
  REQUIRE_MESSAGE(r.ok, r.text());
  CHECK_FALSE(firstMismatch(*c.output, c.expected).empty());  // the consumers read stages not yet filled
}
