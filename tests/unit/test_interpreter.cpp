// Unit tests for the loop-IR interpreter (src/interp): .tl kernels compiled in
// process for sm_90a (TMA) and sm_80 (cp.async), every variant run on ragged shapes
// with random inputs and poisoned outputs, each output element compared with a CPU
// reference (TMA tiled, swizzled and im2col loads, TMA stores, cp.async, SIMT
// copies, fragments); then kernels with a bug put in on purpose (a dropped
// predicate, barrier, wait or arrival), which the interpreter must catch.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>

#include "LowerForTest.h"
#include "frontend/Parser.h"
#include "interp/Interpreter.h"
#include "interp/Numerics.h"
#include "ir/Limits.h"
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

// The first element where |got - want| exceeds its own `allowed`, as a message (NaN,
// e.g. a poisoned element never written, always fails); empty when none does.
std::string firstMismatchWithin(const HostBuffer& got, const std::vector<double>& want, const std::vector<double>& allowed) {
  if (got.elements() != int64_t(want.size()) || want.size() != allowed.size()) return "sizes differ";
  int64_t bad = 0;
  std::string first;
  for (int64_t i = 0; i < got.elements(); ++i) {
    double g = got.get(i), w = want[size_t(i)];
    if (std::fabs(g - w) <= allowed[size_t(i)]) continue;
    if (bad++ == 0)
      first = "element " + std::to_string(i) + ": got " + std::to_string(g) + ", want " + std::to_string(w) +
              " (allowed " + std::to_string(allowed[size_t(i)]) + ")";
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
  // When set: the allowed |got - want| of each element of `output` (instead of
  // `tolerance`), for references with a relative and an absolute part.
  std::vector<double> allowed;
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
          std::string mismatch = c.allowed.empty() ? firstMismatch(*c.output, c.expected, c.tolerance)
                                                   : firstMismatchWithin(*c.output, c.expected, c.allowed);
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

// A (M, N) `dtype` tensor A, random, and its transpose At (N, M), poisoned.
void bindTranspose(Case& c, const Shape& s, ir::DType dtype, uint32_t seed) {
  int32_t M = s[0], N = s[1];
  HostBuffer& A = c.buffer(dtype, int64_t(M) * N);
  HostBuffer& At = c.buffer(dtype, int64_t(M) * N);
  randomFill(A, seed);
  At.fill(kPoison);
  c.args.pointer("A", A);
  c.args.pointer("At", At);
  c.args.dim("M", M);
  c.args.dim("N", N);
  c.output = &At;
  c.expected.resize(size_t(M) * N);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) c.expected[size_t(j * M + i)] = A.get(i * N + j);
}

TEST_CASE("interpreter: transpose, every variant, sm_90a and sm_80") {
  checkAllVariants(kTranspose, {{37, 131}, {36, 132}, {1, 64}},
                   [](Case& c, const Shape& s) { bindTranspose(c, s, ir::DType::Float32, 2); });
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

// Two TMA loads in a row (OverlapTmaLoads issues both before either wait): each
// tile is read only after its own wait, on ragged shapes (TMA's zero fill past the
// edges) and on sm_80 (no TMA: cp.async or SIMT copies).
const char* kTwoTmaLoads = R"(
kernel add2(A: Tensor((M, N), float32), B: Tensor((M, N), float32), C: Tensor((M, N), float32)) {
  with Kernel(ceildiv(N, 32), ceildiv(M, 16), threads=128) as (bx, by) {
    a = alloc_shared((16, 32), float32);
    b = alloc_shared((16, 32), float32);
    copy(A[by * 16, bx * 32], a, prefer_instruction="tma");
    copy(B[by * 16, bx * 32], b, prefer_instruction="tma");
    for i, j in Parallel(16, 32) {
      C[by * 16 + i, bx * 32 + j] = a[i, j] + b[i, j];
    }
  }
}
)";

// Two (M, N) float32 inputs A and B, random, and the output C, poisoned: the binding of
// the element-wise kernels below (the expected values are each test's own).
std::pair<HostBuffer*, HostBuffer*> bindTwoInputs(Case& c, const Shape& s, uint32_t seedA, uint32_t seedB) {
  int32_t M = s[0], N = s[1];
  HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(M) * N);
  HostBuffer& B = c.buffer(ir::DType::Float32, int64_t(M) * N);
  HostBuffer& C = c.buffer(ir::DType::Float32, int64_t(M) * N);
  randomFill(A, seedA);
  randomFill(B, seedB);
  C.fill(kPoison);
  c.args.pointer("A", A);
  c.args.pointer("B", B);
  c.args.pointer("C", C);
  c.args.dim("M", M);
  c.args.dim("N", N);
  c.output = &C;
  return {&A, &B};
}

TEST_CASE("interpreter: two TMA loads in flight at once (issued before their waits), every variant, ragged") {
  checkAllVariants(kTwoTmaLoads, {{37, 131}, {16, 32}, {1, 1}, {33, 96}}, [](Case& c, const Shape& s) {
    auto [A, B] = bindTwoInputs(c, s, 11, 12);
    for (int64_t i = 0; i < int64_t(s[0]) * s[1]; ++i) c.expected.push_back(float(A->get(i)) + float(B->get(i)));
  });
}

TEST_CASE("interpreter: axpy on fragments, every variant") {
  auto source = specExample("axpy_fragment.tl");
  if (!source) return;
  checkAllVariants(*source, {{37, 131}, {2, 260}}, [](Case& c, const Shape& s) {
    auto [A, B] = bindTwoInputs(c, s, 4, 5);
    c.args.scalar("alpha", 0.75);
    c.tolerance = 1e-6;  // the GPU may fuse the multiply-add
    for (int64_t i = 0; i < int64_t(s[0]) * s[1]; ++i)
      c.expected.push_back(float(A->get(i) + float(0.75f * float(B->get(i)))));
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

// Y = X op (scale * V[vAt(i, j)]), float32 (one rounding: exact to compare), V of
// vSize elements; X and V random from the seeds, Y poisoned.
void bindVectorRead(Case& c, const Shape& s, int64_t vSize, const std::function<int64_t(int64_t, int64_t)>& vAt,
                    bool add, float scale, uint64_t seedX, uint64_t seedV) {
  int32_t M = s[0], N = s[1];
  HostBuffer& X = c.buffer(ir::DType::Float32, int64_t(M) * N);
  HostBuffer& V = c.buffer(ir::DType::Float32, vSize);
  HostBuffer& Y = c.buffer(ir::DType::Float32, int64_t(M) * N);
  randomFill(X, seedX);
  randomFill(V, seedV);
  Y.fill(kPoison);
  c.args.pointer("X", X);
  c.args.pointer("V", V);
  c.args.pointer("Y", Y);
  c.args.dim("M", M);
  c.args.dim("N", N);
  c.output = &Y;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      float x = float(X.get(i * N + j)), v = float(V.get(vAt(i, j))) * scale;
      c.expected.push_back(add ? x + v : x * v);
    }
}

// Y = X * (scale * V[row]) or X + V[column].
void bindVectorOp(Case& c, const Shape& s, bool perRow, bool add, float scale) {
  bindVectorRead(c, s, perRow ? s[0] : s[1], [perRow](int64_t i, int64_t j) { return perRow ? i : j; }, add, scale, 31, 32);
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

TEST_CASE("interpreter: fragments read with divided indices (a[i, j // 8], h[i, j // 6], r[i // 4, j]), ragged") {
  checkAllVariants(kernelOf(kFragmentBroadcast, "div_reads"), kRaggedShapes, [](Case& c, const Shape& s) {
    int32_t M = s[0], N = s[1];
    int32_t tiles = (N + 63) / 64, C = 8 * tiles, D = 11 * tiles, Q = (M + 3) / 4;
    HostBuffer& X = c.buffer(ir::DType::Float32, int64_t(M) * N);
    HostBuffer& G = c.buffer(ir::DType::Float32, int64_t(M) * C);
    HostBuffer& H = c.buffer(ir::DType::Float32, int64_t(M) * D);
    HostBuffer& R = c.buffer(ir::DType::Float32, int64_t(Q) * N);
    HostBuffer& Y = c.buffer(ir::DType::Float32, int64_t(M) * N);
    HostBuffer& GO = c.buffer(ir::DType::Float32, int64_t(M) * C);
    HostBuffer& HP = c.buffer(ir::DType::Float32, int64_t(M) * D);
    randomFill(X, 51);
    randomFill(G, 52);
    randomFill(H, 53);
    randomFill(R, 54);
    for (HostBuffer* out : {&Y, &GO, &HP}) out->fill(kPoison);
    c.args.pointer("X", X);
    c.args.pointer("G", G);
    c.args.pointer("H", H);
    c.args.pointer("R", R);
    c.args.pointer("Y", Y);
    c.args.pointer("GO", GO);
    c.args.pointer("HP", HP);
    c.args.dim("M", M);
    c.args.dim("N", N);
    c.args.dim("C", C);
    c.args.dim("D", D);
    c.args.dim("Q", Q);
    c.output = &Y;
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        float g = float(G.get(i * C + j / 8)) * 2.0f;
        float h = float(H.get(i * D + (j / 64) * 11 + (j % 64) / 6));
        float r = float(R.get((i / 4) * N + j));
        c.expected.push_back(float(float(float(X.get(i * N + j)) + g) + h) - r);
      }
    std::vector<double> go, hp;
    for (int64_t e = 0; e < int64_t(M) * C; ++e) go.push_back(float(G.get(e)) * 2.0f);
    for (int64_t e = 0; e < int64_t(M) * D; ++e) hp.push_back(float(H.get(e)) + 1.0f);
    c.moreOutputs.push_back({&GO, go});
    c.moreOutputs.push_back({&HP, hp});
  });
}

TEST_CASE("interpreter: a fragment read with the loop's variables swapped (v[j, i]), ragged") {
  checkAllVariants(kernelOf(kFragmentBroadcast, "transposed_read"), kRaggedShapes, [](Case& c, const Shape& s) {
    const int64_t M = s[0];  // V is (N, M): Y[i, j] = X[i, j] * V[j, i]
    bindVectorRead(c, s, int64_t(s[0]) * s[1], [M](int64_t i, int64_t j) { return j * M + i; }, false, 1.0f, 55, 56);
  });
}

TEST_CASE("interpreter: fragments read other than as a covering broadcast go through shared memory, ragged") {
  checkAllVariants(kernelOf(kFragmentBroadcast, "staged_reads"), kRaggedShapes, [](Case& c, const Shape& s) {
    int32_t M = s[0], N = s[1], L = M + 1;
    HostBuffer& X = c.buffer(ir::DType::Float32, int64_t(M) * N);
    HostBuffer& U = c.buffer(ir::DType::Float32, int64_t(M) * 8);
    HostBuffer& W = c.buffer(ir::DType::Float32, L);
    HostBuffer& V = c.buffer(ir::DType::Float32, M);
    HostBuffer& Y = c.buffer(ir::DType::Float32, int64_t(M) * N);
    randomFill(X, 61);
    randomFill(U, 62);
    randomFill(W, 63);
    randomFill(V, 64);
    Y.fill(kPoison);
    c.args.pointer("X", X);
    c.args.pointer("U", U);
    c.args.pointer("W", W);
    c.args.pointer("V", V);
    c.args.pointer("Y", Y);
    c.args.dim("M", M);
    c.args.dim("N", N);
    c.args.dim("L", L);
    c.output = &Y;
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        float v0 = float(V.get(i / 16 * 16));
        float y = float(float(X.get(i * N + j)) + float(U.get(i * 8 + j % 8))) - float(W.get(i + 1));
        y = y + (v0 + 1.0f);
        y = y + ((v0 + 1.0f) + 1.0f);
        c.expected.push_back(y);
      }
  });
}

TEST_CASE("fragments read other than as a covering broadcast: staged once per loop, barriers both ways, a remark") {
  auto module = compile(kernelOf(kFragmentBroadcast, "staged_reads"), Target::hopper());
  std::ostringstream os;
  ir::print(*module, os);
  std::string text = os.str();
  CHECK(text.find("alloc u_staged: shared.dyn float32[16, 8]") != std::string::npos);
  CHECK(text.find("alloc w_staged: shared.dyn float32[17]") != std::string::npos);
  CHECK(text.find("alloc s_staged: shared.dyn float32[16]") != std::string::npos);
  // The loops read the tiles; a barrier stands before each staging copy of s in the
  // serial loop (the previous iteration's reads) and after it.
  CHECK(text.find("+ u_staged[") != std::string::npos);
  CHECK(text.find("- w_staged[") != std::string::npos);
  CHECK(text.find("+ s_staged[0])") != std::string::npos);
}

TEST_CASE("fragment broadcast with divided indices: one register a group where the divisor spans it, owners store") {
  auto module = compile(kernelOf(kFragmentBroadcast, "div_reads"), Target::hopper());
  std::ostringstream os;
  ir::print(*module, os);
  std::string text = os.str();
  // (16, 64) over 128 threads, 4 floats a group, 2 groups a thread: g[i, j // 8] one
  // register a group, h[i, j // 6] one a lane, r[i // 4, j] one a lane.
  CHECK(text.find("alloc g: local float32[2]") != std::string::npos);
  CHECK(text.find("alloc h: local float32[8]") != std::string::npos);
  CHECK(text.find("alloc r: local float32[8]") != std::string::npos);
}

// ---- reductions (issue 21): reduce_* of fragments and shared tiles

namespace {

const std::string kReductions = *readFile(TLC_SOURCE_DIR "/tests/gpu/kernels/reductions.tl");

// Element (i, j) of an (M, N) tensor as a tile covering it sees it: 0 (the copy's
// safe value) past the tensor's edge.
double tileElement(const HostBuffer& X, int32_t N, int64_t i, int64_t j) { return j < N ? X.get(i * N + j) : 0.0; }

}  // namespace

TEST_CASE("interpreter: reduce_max/min/sum/abssum/absmax of float32 rows, clear=False across column tiles, ragged") {
  checkAllVariants(kernelOf(kReductions, "rows_f32"), {{17, 131}, {1, 7}, {16, 64}, {33, 200}, {4, 1}},
                   [](Case& c, const Shape& s) {
                     int32_t M = s[0], N = s[1];
                     HostBuffer& X = c.buffer(ir::DType::Float32, int64_t(M) * N);
                     randomFill(X, 41);
                     c.args.pointer("X", X);
                     c.args.dim("M", M);
                     c.args.dim("N", N);
                     int64_t cols = (N + 63) / 64 * 64;
                     std::vector<std::vector<double>> want(5);
                     for (int64_t i = 0; i < M; ++i) {
                       double mx = -1e300, mn = 1e300, sm = 0, ab = 0, am = 0;
                       for (int64_t j = 0; j < cols; ++j) {
                         double x = tileElement(X, N, i, j);
                         mx = std::max(mx, x), mn = std::min(mn, x), sm += x, ab += std::fabs(x);
                         am = std::max(am, std::fabs(x));
                       }
                       for (int k = 0; k < 5; ++k) want[size_t(k)].push_back(std::vector<double>{mx, mn, sm, ab, am}[size_t(k)]);
                     }
                     const char* names[] = {"MX", "MN", "SM", "AS", "AM"};
                     for (int k = 0; k < 5; ++k) {
                       HostBuffer& out = c.buffer(ir::DType::Float32, M);
                       out.fill(kPoison);
                       c.args.pointer(names[k], out);
                       if (k == 0) {
                         c.output = &out;
                         c.expected = want[0];
                       } else {
                         c.moreOutputs.push_back({&out, want[size_t(k)]});
                       }
                     }
                     c.tolerance = 1e-5;  // float32 sums in another order than the float64 reference's
                   });
}

TEST_CASE("interpreter: reductions of float16 (4, 200) tiles accumulate in float32: rows and columns (dim=0), ragged") {
  checkAllVariants(kernelOf(kReductions, "rows_f16"), {{5, 201}, {1, 3}, {4, 200}, {9, 77}, {3, 401}},
                   [](Case& c, const Shape& s) {
                     int32_t M = s[0], N = s[1], R = (M + 3) / 4;
                     HostBuffer& X = c.buffer(ir::DType::Float16, int64_t(M) * N);
                     randomFill(X, 42);
                     HostBuffer& SM = c.buffer(ir::DType::Float32, M);
                     HostBuffer& MX = c.buffer(ir::DType::Float32, M);
                     HostBuffer& CS = c.buffer(ir::DType::Float32, int64_t(R) * N);
                     SM.fill(kPoison);
                     MX.fill(kPoison);
                     CS.fill(kPoison);
                     c.args.pointer("X", X);
                     c.args.pointer("SM", SM);
                     c.args.pointer("MX", MX);
                     c.args.pointer("CS", CS);
                     c.args.dim("M", M);
                     c.args.dim("N", N);
                     c.args.dim("R", R);
                     int64_t cols = (N + 199) / 200 * 200;
                     std::vector<double> sm, mx, cs;
                     for (int64_t i = 0; i < M; ++i) {
                       double a = 0, b = -1e300;
                       for (int64_t j = 0; j < cols; ++j) a += tileElement(X, N, i, j), b = std::max(b, tileElement(X, N, i, j));
                       sm.push_back(a);
                       mx.push_back(b);
                     }
                     // Column sums of each row block's first column tile; rows past M read 0.
                     for (int64_t r = 0; r < R; ++r)
                       for (int64_t j = 0; j < N; ++j) {
                         double a = 0;
                         for (int64_t i = r * 4; i < std::min<int64_t>(M, r * 4 + 4); ++i) a += j < 200 ? X.get(i * N + j) : 0;
                         cs.push_back(j < 200 ? a : CS.get(r * N + j));  // the copy writes the first 200 columns
                       }
                     c.output = &SM;
                     c.expected = sm;
                     c.moreOutputs.push_back({&MX, mx});
                     c.moreOutputs.push_back({&CS, cs});
                     c.tolerance = 1e-5;
                   });
}

TEST_CASE("interpreter: a float16 row softmax (reduce_max, exp(x - m), reduce_sum, divide), ragged rows") {
  checkAllVariants(kernelOf(kReductions, "softmax_f16"), {{17, 128}, {1, 7}, {9, 100}, {8, 1}, {23, 127}},
                   [](Case& c, const Shape& s) {
                     int32_t M = s[0], N = s[1];
                     HostBuffer& X = c.buffer(ir::DType::Float16, int64_t(M) * N);
                     HostBuffer& Y = c.buffer(ir::DType::Float16, int64_t(M) * N);
                     randomFill(X, 43);
                     Y.fill(kPoison);
                     c.args.pointer("X", X);
                     c.args.pointer("Y", Y);
                     c.args.dim("M", M);
                     c.args.dim("N", N);
                     c.output = &Y;
                     for (int64_t i = 0; i < M; ++i) {
                       double m = -1e300, sum = 0;
                       for (int64_t j = 0; j < N; ++j) m = std::max(m, X.get(i * N + j));
                       for (int64_t j = 0; j < N; ++j) sum += std::exp(X.get(i * N + j) - m);
                       for (int64_t j = 0; j < N; ++j) c.expected.push_back(std::exp(X.get(i * N + j) - m) / sum);
                     }
                     c.tolerance = 1e-3;  // float16 output (half an ulp: 2^-11 relative), float32 exp
                   });
}

TEST_CASE("interpreter: reduce_max of a shared tile into a shared tile, ragged") {
  checkAllVariants(kernelOf(kReductions, "rows_shared"), {{17, 96}, {1, 5}, {33, 95}, {36, 92}}, [](Case& c, const Shape& s) {
    int32_t M = s[0], N = s[1];
    HostBuffer& X = c.buffer(ir::DType::Float32, int64_t(M) * N);
    HostBuffer& MX = c.buffer(ir::DType::Float32, M);
    randomFill(X, 44);
    MX.fill(kPoison);
    c.args.pointer("X", X);
    c.args.pointer("MX", MX);
    c.args.dim("M", M);
    c.args.dim("N", N);
    c.output = &MX;
    for (int64_t i = 0; i < M; ++i) {
      double m = -1e300;
      for (int64_t j = 0; j < 96; ++j) m = std::max(m, tileElement(X, N, i, j));
      c.expected.push_back(m);
    }
  });
}

TEST_CASE("interpreter: reduce_sum of a vector into a (1,) shared tile, two stages with a ragged last step") {
  checkAllVariants(kernelOf(kReductions, "vector_sum"), {{1}, {300}, {301}, {1000}, {7}}, [](Case& c, const Shape& s) {
    int32_t N = s[0];
    HostBuffer& X = c.buffer(ir::DType::Float32, N);
    HostBuffer& Y = c.buffer(ir::DType::Float32, 1);
    randomFill(X, 45);
    Y.fill(kPoison);
    c.args.pointer("X", X);
    c.args.pointer("Y", Y);
    c.args.dim("N", N);
    c.output = &Y;
    double sum = 0;
    for (int64_t j = 0; j < N; ++j) sum += X.get(j);
    c.expected.push_back(sum);
    c.tolerance = 1e-5;
  });
}

// ---- reductions through warp shuffles (tests/gpu/kernels/reduce_shfl.tl)

namespace {

const std::string kReduceShfl = *readFile(TLC_SOURCE_DIR "/tests/gpu/kernels/reduce_shfl.tl");

// One kernel of reduce_shfl.tl with the file's consts (which -D overrides).
std::string shflKernel(const std::string& name) {
  return kReduceShfl.substr(0, kReduceShfl.find("\nkernel ")) + "\n" + kernelOf(kReduceShfl, name);
}

// One configuration of reduce_shfl.tl: its -D values and what its lowering takes.
struct ShflConfig {
  const char* what;
  ir::DType dt, ot;
  int bm, bn, threads;
  double tolerance;  // relative (to max(1, |want|)): float32 sums in another order; bfloat16's rounding
  // (the sums are rounded to OT after each tile, as clear=False stores them: the
  // references do the same)
};

const ShflConfig kShflConfigs[] = {
    {"8 lanes a row, 2 iterations", ir::DType::Float32, ir::DType::Float32, 16, 32, 64, 1e-5},
    {"rows = the block: 4 warps a row", ir::DType::Float32, ir::DType::Float32, 4, 512, 128, 1e-5},
    {"float16 -> float32, 32 lanes a row", ir::DType::Float16, ir::DType::Float32, 16, 256, 64, 1e-5},
    {"bfloat16, rows of 2 groups a thread over 2 warps", ir::DType::BFloat16, ir::DType::BFloat16, 2, 1024, 64, 1e-2},
    {"int32, 16 lanes a row, idle threads in the last iteration", ir::DType::Int32, ir::DType::Int32, 6, 64, 128, 0},
    {"2 warps a row, idle warps in the last iteration", ir::DType::Float32, ir::DType::Float32, 3, 256, 128, 1e-5},
    // Columns of 257 float32 summed in another order than the reference's: 1e-4.
    {"256 elements a thread: loops kept rolled", ir::DType::Float32, ir::DType::Float32, 128, 128, 64, 1e-4},
};

}  // namespace

TEST_CASE("interpreter: reductions through warp shuffles, every op and dtype, clear=False, broadcast back, ragged") {
  for (const ShflConfig& k : kShflConfigs) {
    std::string what = k.what;
    INFO(what);
    std::vector<Define> defines = {{"DT", ir::name(k.dt)},
                                   {"OT", ir::name(k.ot)},
                                   {"BM", std::to_string(k.bm)},
                                   {"BN", std::to_string(k.bn)},
                                   {"T", std::to_string(k.threads)}};
    // Primes, 1, a whole tile, and neither.
    std::vector<Shape> shapes = {{k.bm, k.bn}, {1, 1}, {2 * k.bm + 1, 2 * k.bn + 3}, {7, k.bn - 1}, {13, 5}};
    checkAllVariants(shflKernel("rows"), shapes, [&](Case& c, const Shape& s) {
      int32_t M = s[0], N = s[1];
      HostBuffer& X = c.buffer(k.dt, int64_t(M) * N);
      randomFill(X, 51u + uint32_t(M) * 7u + uint32_t(N));
      c.args.pointer("X", X);
      c.args.dim("M", M);
      c.args.dim("N", N);
      int64_t cols = (N + k.bn - 1) / k.bn * k.bn;
      std::vector<std::vector<double>> want(5);
      std::vector<double> d;
      HostBuffer acc(k.ot, 2);  // the sums as dst holds them between tiles
      for (int64_t i = 0; i < M; ++i) {
        double mx = -1e300, mn = 1e300, sm = 0, ab = 0, am = 0, first = -1e300, tsm = 0, tab = 0;
        for (int64_t j = 0; j < cols; ++j) {
          double x = tileElement(X, N, i, j);
          mx = std::max(mx, x), mn = std::min(mn, x), tsm += x, tab += std::fabs(x), am = std::max(am, std::fabs(x));
          if (j < k.bn) first = std::max(first, x);
          if ((j + 1) % k.bn == 0) {  // the end of a tile: dst = round(dst + the tile's sum)
            acc.set(0, sm + tsm), acc.set(1, ab + tab);
            sm = acc.get(0), ab = acc.get(1), tsm = 0, tab = 0;
          }
        }
        double row[5] = {mx, mn, sm, ab, am};
        for (int r = 0; r < 5; ++r) want[size_t(r)].push_back(row[r]);
        // D: the first tile minus its row maxima (as OT), rounded to DT.
        HostBuffer m(k.ot, 1), v(k.dt, 1);
        m.set(0, first);
        for (int64_t j = 0; j < k.bn; ++j) {
          v.set(0, tileElement(X, N, i, j) - m.get(0));
          d.push_back(v.get(0));
        }
      }
      const char* names[] = {"MX", "MN", "SM", "AS", "AM"};
      for (int r = 0; r < 5; ++r) {
        HostBuffer& out = c.buffer(k.ot, M);
        out.fill(kPoison);
        c.args.pointer(names[r], out);
        if (r == 0) {
          c.output = &out;
          c.expected = want[0];
        } else {
          c.moreOutputs.push_back({&out, want[size_t(r)]});
        }
      }
      HostBuffer& D = c.buffer(k.dt, int64_t(M) * k.bn);
      D.fill(kPoison);
      c.args.pointer("D", D);
      c.moreOutputs.push_back({&D, d});
      c.tolerance = k.tolerance;
    }, targets(), defines);
  }
}

TEST_CASE("interpreter: reductions down the columns (dim=0) through shuffles, every op and dtype, clear=False, ragged") {
  for (const ShflConfig& k : kShflConfigs) {
    std::string what = k.what;
    INFO(what);
    std::vector<Define> defines = {{"DT", ir::name(k.dt)},
                                   {"OT", ir::name(k.ot)},
                                   {"BM", std::to_string(k.bm)},
                                   {"BN", std::to_string(k.bn)},
                                   {"T", std::to_string(k.threads)}};
    std::vector<Shape> shapes = {{k.bm, k.bn}, {1, 1}, {2 * k.bm + 1, 2 * k.bn + 3}, {k.bm + 6, 7}, {13, 5}};
    checkAllVariants(shflKernel("cols"), shapes, [&](Case& c, const Shape& s) {
      int32_t M = s[0], N = s[1];
      HostBuffer& X = c.buffer(k.dt, int64_t(M) * N);
      randomFill(X, 53u + uint32_t(M) * 5u + uint32_t(N));
      c.args.pointer("X", X);
      c.args.dim("M", M);
      c.args.dim("N", N);
      int64_t rows = (M + k.bm - 1) / k.bm * k.bm;
      // Element (i, j) as the tiles see it: 0 past the tensor's edge.
      auto at = [&](int64_t i, int64_t j) { return i < M && j < N ? X.get(i * N + j) : 0.0; };
      std::vector<std::vector<double>> want(5);
      std::vector<double> firstMax;
      HostBuffer acc(k.ot, 2);  // the sums as dst holds them between tiles
      for (int64_t j = 0; j < N; ++j) {
        double mx = -1e300, mn = 1e300, sm = 0, ab = 0, am = 0, first = -1e300, tsm = 0, tab = 0;
        for (int64_t i = 0; i < rows; ++i) {
          double x = at(i, j);
          mx = std::max(mx, x), mn = std::min(mn, x), tsm += x, tab += std::fabs(x), am = std::max(am, std::fabs(x));
          if (i < k.bm) first = std::max(first, x);
          if ((i + 1) % k.bm == 0) {  // the end of a tile: dst = round(dst + the tile's sum)
            acc.set(0, sm + tsm), acc.set(1, ab + tab);
            sm = acc.get(0), ab = acc.get(1), tsm = 0, tab = 0;
          }
        }
        double col[5] = {mx, mn, sm, ab, am};
        for (int r = 0; r < 5; ++r) want[size_t(r)].push_back(col[r]);
        firstMax.push_back(first);
      }
      // D: the first row tile minus its column maxima (as OT), rounded to DT.
      std::vector<double> d;
      HostBuffer m(k.ot, 1), v(k.dt, 1);
      for (int64_t i = 0; i < k.bm; ++i)
        for (int64_t j = 0; j < N; ++j) {
          m.set(0, firstMax[size_t(j)]);
          v.set(0, at(i, j) - m.get(0));
          d.push_back(v.get(0));
        }
      const char* names[] = {"MX", "MN", "SM", "AS", "AM"};
      for (int r = 0; r < 5; ++r) {
        HostBuffer& out = c.buffer(k.ot, N);
        out.fill(kPoison);
        c.args.pointer(names[r], out);
        if (r == 0) {
          c.output = &out;
          c.expected = want[0];
        } else {
          c.moreOutputs.push_back({&out, want[size_t(r)]});
        }
      }
      HostBuffer& D = c.buffer(k.dt, int64_t(k.bm) * N);
      D.fill(kPoison);
      c.args.pointer("D", D);
      c.moreOutputs.push_back({&D, d});
      c.tolerance = k.tolerance;
    }, targets(), defines);
  }
}

TEST_CASE("interpreter: the shuffle lowering's shape (loop IR of reduce_shfl.tl's cross-warp configuration)") {
  auto module = compile(kReduceShfl, Target::hopper(),
                        {{"DT", "float32"}, {"OT", "float32"}, {"BM", "4"}, {"BN", "512"}, {"T", "128"}});
  std::ostringstream os;
  ir::print(*module, os);
  std::string text = os.str();
  CHECK(text.find("shfl_bfly(part, 16)") != std::string::npos);
  CHECK(text.find("shfl_bfly(part, 1)") != std::string::npos);
  CHECK(text.find("x_reduce") == std::string::npos);  // the fallback's scratch tile is gone
  CHECK(text.find("alloc x_warps: shared.dyn float32[4, 4] at +0") != std::string::npos);  // one tile for the ten reductions
}

TEST_CASE("interpreter catches: a divergent warp shuffle (half the lanes skip it)") {
  auto module = compile(shflKernel("rows"), Target::hopper(),
                        {{"DT", "float32"}, {"OT", "float32"}, {"BM", "16"}, {"BN", "32"}, {"T", "64"}});
  ir::Kernel& kernel = module->kernels.back();
  int wrapped = 0;
  forEachStmt(kernel.body, [&](ir::StmtRef& s) {
    if (wrapped || s->kind != ir::StmtKind::Let) return;
    const ir::ExprRef& v = s->as<ir::LetStmt>().value;
    if (v->kind != ir::ExprKind::Call || v->as<ir::CallNode>().builtin != ir::Builtin::ShflBfly) return;
    ir::ExprRef lane = ir::floorMod(ir::call(ir::Builtin::ThreadIdx, {}, ir::DType::Int32), ir::intImm(32));
    const ir::VarRef& other = s->as<ir::LetStmt>().var;
    auto skip = std::make_shared<ir::LetStmt>(s->range, other, ir::floatImm(0, other->dtype));
    s = std::make_shared<ir::IfStmt>(s->range, ir::lt(lane, ir::intImm(16)), s, skip);
    ++wrapped;
  });
  REQUIRE(wrapped == 1);
  Case c;
  HostBuffer& X = c.buffer(ir::DType::Float32, 16 * 32);
  randomFill(X, 52);
  c.args.pointer("X", X);
  c.args.dim("M", 16);
  c.args.dim("N", 32);
  for (const char* name : {"MX", "MN", "SM", "AS", "AM"}) c.args.pointer(name, c.buffer(ir::DType::Float32, 16));
  c.args.pointer("D", c.buffer(ir::DType::Float32, 16 * 32));
  interp::Result r = interp::run(kernel, c.args);
  CHECK_FALSE(r.ok);
  INFO(r.text());
  CHECK(r.text().find("divergent") != std::string::npos);
}

// ---- cumsum (tests/gpu/kernels/cumsum.tl)

namespace {

const std::string kCumsum = *readFile(TLC_SOURCE_DIR "/tests/gpu/kernels/cumsum.tl");

// The inclusive scan of each (bm, bn) tile of X along `dim` (reversed: from the
// axis's end), elements past the tensor's edge reading 0, each prefix rounded to `t`.
std::vector<double> tileScans(const HostBuffer& X, int32_t M, int32_t N, int bm, int bn, int dim, bool reverse, ir::DType t) {
  std::vector<double> out(size_t(M) * N);
  HostBuffer round(t, 1);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      int64_t r0 = i / bm * bm, c0 = j / bn * bn;
      double sum = 0;
      int64_t n = dim == 0 ? bm : bn, at = dim == 0 ? i - r0 : j - c0;
      for (int64_t k = 0; k < n; ++k) {
        if (reverse ? k < at : k > at) continue;
        int64_t ii = dim == 0 ? r0 + k : i, jj = dim == 0 ? j : c0 + k;
        sum += ii < M && jj < N ? X.get(ii * N + jj) : 0.0;
      }
      round.set(0, sum);
      out[size_t(i * N + j)] = round.get(0);
    }
  return out;
}

void bindScan(Case& c, const Shape& s, ir::DType t, int bm, int bn, int dim, bool reverse, double tolerance) {
  int32_t M = s[0], N = s[1];
  HostBuffer& X = c.buffer(t, int64_t(M) * N);
  HostBuffer& Y = c.buffer(t, int64_t(M) * N);
  randomFill(X, 61u + uint32_t(M) * 3u + uint32_t(N));
  Y.fill(kPoison);
  c.args.pointer("X", X);
  c.args.pointer("Y", Y);
  c.args.dim("M", M);
  c.args.dim("N", N);
  c.output = &Y;
  c.expected = tileScans(X, M, N, bm, bn, dim, reverse, t);
  c.tolerance = tolerance;
}

const std::vector<Shape> kScanShapes = {{17, 67}, {1, 1}, {16, 48}, {3, 5}, {31, 41}};

}  // namespace

TEST_CASE("interpreter: cumsum of a float32 fragment along its rows, in place, ragged") {
  checkAllVariants(kernelOf(kCumsum, "frag_rows"), kScanShapes, [](Case& c, const Shape& s) {
    bindScan(c, s, ir::DType::Float32, 8, 32, 1, false, 1e-5);
  });
}

TEST_CASE("interpreter: cumsum of a float16 fragment down its columns, reversed, into another fragment") {
  checkAllVariants(kernelOf(kCumsum, "frag_cols_rev"), kScanShapes, [](Case& c, const Shape& s) {
    bindScan(c, s, ir::DType::Float16, 16, 24, 0, true, 2e-3);  // float32 sums, rounded once to float16
  });
}

TEST_CASE("interpreter: cumsum of a shared tile along its rows, reversed, in place (src=, dim=-1)") {
  checkAllVariants(kernelOf(kCumsum, "shared_rows_rev"), kScanShapes, [](Case& c, const Shape& s) {
    bindScan(c, s, ir::DType::Float32, 8, 40, 1, true, 1e-5);
  });
}

TEST_CASE("interpreter: cumsum of an int32 shared tile down its columns into a fragment") {
  checkAllVariants(kernelOf(kCumsum, "shared_to_frag"), kScanShapes, [](Case& c, const Shape& s) {
    bindScan(c, s, ir::DType::Int32, 12, 16, 0, false, 0);
  });
}

TEST_CASE("interpreter: cumsum of a vector in chunks of 100 (rank 1)") {
  checkAllVariants(kernelOf(kCumsum, "vector"), {{1}, {100}, {101}, {257}, {7}}, [](Case& c, const Shape& s) {
    int32_t N = s[0];
    HostBuffer& X = c.buffer(ir::DType::Float32, N);
    HostBuffer& Y = c.buffer(ir::DType::Float32, N);
    randomFill(X, 62u + uint32_t(N));
    Y.fill(kPoison);
    c.args.pointer("X", X);
    c.args.pointer("Y", Y);
    c.args.dim("N", N);
    c.output = &Y;
    c.expected = tileScans(X, 1, N, 1, 100, 1, false, ir::DType::Float32);
    c.tolerance = 1e-5;
  });
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

// B = A through a user-managed TMA ring (stream_rows): every element, after poisoning B.
void checkStreamRows(const std::string& source, const std::vector<Shape>& shapes) {
  checkAllVariants(
      source, shapes,
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

TEST_CASE("interpreter: user-managed TMA and mbarriers (tma_explicit), sm_90a") {
  auto source = specExample("tma_explicit.tl");
  if (!source) return;
  checkStreamRows(*source, {{37, 136}, {130, 8}, {1, 128}});
}

TEST_CASE("interpreter: the same ring four stages deep (tma_explicit_ring4), sm_90a") {
  // 1 to 6 tiles of 64 rows (the prologue's guarded loads, every stage's parity
  // flipping), a ragged last tile and a column block past N.
  checkStreamRows(*readFile(TLC_SOURCE_DIR "/tests/gpu/kernels/tma_explicit_ring4.tl"),
                  {{1, 128}, {64, 8}, {130, 136}, {192, 16}, {257, 8}, {321, 24}, {384, 8}});
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

// A fragment that lives across a loop of the user's (an accumulator) stays in
// registers in the general variant too: the same (96, 96) fragment as below, summed
// over K rows of A, has no kept-rolled loop in either variant.
TEST_CASE("interpreter: an accumulator fragment across a user loop is unrolled in both variants, ragged shapes") {
  const std::string source = R"(
kernel acc_rows(A: Tensor((K, M, N), float32), C: Tensor((M, N), float32)) {
  with Kernel(ceildiv(N, 96), ceildiv(M, 96), threads=96) as (bx, by) {
    acc = alloc_fragment((96, 96), float32);
    clear(acc);
    for k in range(K) {
      f = alloc_fragment((96, 96), float32);
      copy(A[k, by * 96, bx * 96], f);
      for i, j in Parallel(96, 96) {
        acc[i, j] += f[i, j];
      }
    }
    copy(acc, C[by * 96, bx * 96]);
  }
}
)";
  static_assert(ir::limits::GeneralUnrolledElementsPerThread < 96 && ir::limits::UnrolledElementsPerThread >= 96);
  auto module = compile(source, Target::hopper());
  REQUIRE(module->kernels.size() == 2);
  for (ir::Kernel& kernel : module->kernels) {
    int rolled = 0;
    forEachStmt(kernel.body, [&](ir::StmtRef& s) {
      if (s->kind == ir::StmtKind::For) rolled += s->as<ir::ForStmt>().keepRolled;
    });
    INFO(kernel.name);
    CHECK(rolled == 0);
  }
  checkAllVariants(source, {{2, 32, 96}, {3, 37, 131}, {1, 1, 5}}, [](Case& c, const Shape& s) {
    int32_t K = s[0], M = s[1], N = s[2];
    HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(K) * M * N);
    HostBuffer& C = c.buffer(ir::DType::Float32, int64_t(M) * N);
    randomFill(A, 31);
    C.fill(kPoison);
    c.args.pointer("A", A);
    c.args.pointer("C", C);
    c.args.dim("K", K);
    c.args.dim("M", M);
    c.args.dim("N", N);
    c.output = &C;
    for (int64_t i = 0; i < int64_t(M) * N; ++i) {
      float sum = 0;
      for (int64_t k = 0; k < K; ++k) sum += float(A.get(k * M * N + i));
      c.expected.push_back(sum);
    }
  });
}

// Loops over memory past limits::UnrolledStepsPerThread (AlignedUnrolledStepsPerThread
// in the aligned variant) are a rolled loop of PartialUnrollSteps steps and an unrolled
// remainder (issue 23). A (10, 200) float32 tile on 96 threads: 2000 elements, 21
// steps a thread for scalar accesses (five rolled iterations of 4, a remainder of 1,
// the last step guarded: 2000 is not a multiple of 96). The fill, the copies and the
// Parallel loop over shared memory.
TEST_CASE("interpreter: partially unrolled copies, fill and Parallel loops with a remainder, ragged shapes") {
  const std::string source = R"(
kernel partial(A: Tensor((M, N), float32), B: Tensor((M, N), float32)) {
  with Kernel(ceildiv(N, 200), ceildiv(M, 10), threads=96) as (bx, by) {
    s = alloc_shared((10, 200), float32);
    t = alloc_shared((10, 200), float32);
    fill(t, 0.25);
    copy(A[by * 10, bx * 200], s);
    for i, j in Parallel(10, 200) {
      t[i, j] = t[i, j] + s[i, j] * 2.0;
    }
    copy(t, B[by * 10, bx * 200]);
  }
}
)";
  static_assert(ir::limits::PartialUnrollSteps == 4 && ir::limits::UnrolledStepsPerThread < 21 &&
                    ir::limits::AlignedUnrolledStepsPerThread < 21,
                "the shapes of this test are chosen for these values");
  for (const Target& target : targets()) {
    auto module = compile(source, target);
    for (ir::Kernel& kernel : module->kernels) {
      int partial = 0;
      forEachStmt(kernel.body, [&](ir::StmtRef& s) {
        if (s->kind != ir::StmtKind::For) return;
        const auto& loop = s->as<ir::ForStmt>();
        if (loop.keepRolled && loop.var->name == "chunk") ++partial;
      });
      INFO(target.arch() << " " << kernel.name);
      CHECK(partial >= 2);  // at least the fill and the Parallel loop
    }
  }
  checkAllVariants(source, {{10, 200}, {37, 131}, {1, 5}, {33, 97}, {21, 403}}, [](Case& c, const Shape& s) {
    int32_t M = s[0], N = s[1];
    HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(M) * N);
    HostBuffer& B = c.buffer(ir::DType::Float32, int64_t(M) * N);
    randomFill(A, 23);
    B.fill(kPoison);
    c.args.pointer("A", A);
    c.args.pointer("B", B);
    c.args.dim("M", M);
    c.args.dim("N", N);
    c.output = &B;
    c.tolerance = 1e-6;  // the GPU may fuse the multiply-add
    for (int64_t i = 0; i < int64_t(M) * N; ++i) c.expected.push_back(0.25f + float(A.get(i)) * 2.0f);
  });
}

// The general variant keeps a fragment past limits::GeneralUnrolledElementsPerThread
// rolled (in local memory); the aligned variant unrolls it. A (96, 96) float32
// fragment on 96 threads: 96 elements a thread.
TEST_CASE("interpreter: a fragment unrolled in the aligned variant, kept rolled in the general one, ragged shapes") {
  const std::string source = R"(
kernel frag(A: Tensor((M, N), float32), C: Tensor((M, N), float32)) {
  with Kernel(ceildiv(N, 96), ceildiv(M, 96), threads=96) as (bx, by) {
    f = alloc_fragment((96, 96), float32);
    copy(A[by * 96, bx * 96], f);
    for i, j in Parallel(96, 96) {
      f[i, j] = f[i, j] * 3.0;
    }
    copy(f, C[by * 96, bx * 96]);
  }
}
)";
  static_assert(ir::limits::GeneralUnrolledElementsPerThread < 96 && ir::limits::UnrolledElementsPerThread >= 96);
  auto module = compile(source, Target::hopper());
  REQUIRE(module->kernels.size() == 2);
  for (ir::Kernel& kernel : module->kernels) {
    int rolled = 0;
    forEachStmt(kernel.body, [&](ir::StmtRef& s) {
      if (s->kind == ir::StmtKind::For) rolled += s->as<ir::ForStmt>().keepRolled;
    });
    INFO(kernel.name);
    CHECK(rolled == (kernel.name == "frag_aligned" ? 0 : 3));  // both copies and the Parallel loop
  }
  checkAllVariants(source, {{32, 96}, {37, 131}, {1, 5}, {65, 190}}, [](Case& c, const Shape& s) {
    int32_t M = s[0], N = s[1];
    HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(M) * N);
    HostBuffer& C = c.buffer(ir::DType::Float32, int64_t(M) * N);
    randomFill(A, 29);
    C.fill(kPoison);
    c.args.pointer("A", A);
    c.args.pointer("C", C);
    c.args.dim("M", M);
    c.args.dim("N", N);
    c.output = &C;
    for (int64_t i = 0; i < int64_t(M) * N; ++i) c.expected.push_back(float(A.get(i)) * 3.0f);
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

TEST_CASE("interpreter: round's modes (TileLang's T.round(x, mode)) on float32, bfloat16 and fp8, ragged N") {
  // Halves of both signs (where the modes differ), integers and random values.
  const std::string source = R"(
kernel rounds(A: Tensor((N,), float32), H: Tensor((N,), bfloat16), E: Tensor((N,), float8_e4m3),
              B: Tensor((4, N), float32), HB: Tensor((2, N), bfloat16), EB: Tensor((2, N), float8_e4m3)) {
  with Kernel(ceildiv(N, 64), threads=64) as (bx) {
    for i in Parallel(64) {
      B[0, bx * 64 + i] = round(A[bx * 64 + i]);
      B[1, bx * 64 + i] = round(A[bx * 64 + i], "ties-to-even");
      B[2, bx * 64 + i] = round(A[bx * 64 + i], "ties-away-from-zero");
      B[3, bx * 64 + i] = round(A[bx * 64 + i], rounding_mode="ties-away-from-zero");
      HB[0, bx * 64 + i] = round(H[bx * 64 + i]);
      HB[1, bx * 64 + i] = round(H[bx * 64 + i], "ties-away-from-zero");
      EB[0, bx * 64 + i] = round(E[bx * 64 + i]);
      EB[1, bx * 64 + i] = round(E[bx * 64 + i], "ties-away-from-zero");
    }
  }
}
)";
  checkAllVariants(source, {{131}, {1}, {64}}, [](Case& c, const Shape& s) {
    int32_t N = s[0];
    HostBuffer& A = c.buffer(ir::DType::Float32, N);
    HostBuffer& H = c.buffer(ir::DType::BFloat16, N);
    HostBuffer& E = c.buffer(ir::DType::Float8E4M3, N);
    std::mt19937 gen(29);
    std::uniform_real_distribution<double> dist(-20.0, 20.0);
    for (int32_t i = 0; i < N; ++i) {
      double v = i % 3 == 0 ? double(i % 41 - 20) / 2.0 : dist(gen);  // -10.0 .. 10.0 in halves
      A.set(i, v);
      H.set(i, v);
      E.set(i, v);
    }
    HostBuffer& B = c.buffer(ir::DType::Float32, int64_t(4) * N);
    HostBuffer& HB = c.buffer(ir::DType::BFloat16, int64_t(2) * N);
    HostBuffer& EB = c.buffer(ir::DType::Float8E4M3, int64_t(2) * N);
    B.fill(0xA5);
    HB.fill(0xA5);
    EB.fill(0x7F);
    for (auto [name, buf] : {std::pair{"A", &A}, {"H", &H}, {"E", &E}, {"B", &B}, {"HB", &HB}, {"EB", &EB}})
      c.args.pointer(name, *buf);
    c.args.dim("N", N);
    c.output = &B;
    for (int r = 0; r < 4; ++r)
      for (int32_t i = 0; i < N; ++i) c.expected.push_back(r < 2 ? std::nearbyint(A.get(i)) : std::round(A.get(i)));
    // bfloat16 and fp8 round in float32 and convert back: exact, the integral value itself.
    std::vector<double> h, e;
    for (int r = 0; r < 2; ++r)
      for (int32_t i = 0; i < N; ++i) {
        h.push_back(r == 0 ? std::nearbyint(H.get(i)) : std::round(H.get(i)));
        e.push_back(r == 0 ? std::nearbyint(E.get(i)) : std::round(E.get(i)));
      }
    c.moreOutputs.push_back({&HB, h});
    c.moreOutputs.push_back({&EB, e});
  }, {Target::hopper()});  // fp8 conversions need sm_89 (sema says so on sm_80)
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

// One NHWC image (NB = 1) of C float16 channels and its column matrix for a K x K
// filter, padding P, stride S: `img` random, `col` poisoned, the expected columns in
// row-major order (zeros where a tap falls in the padding).
void bindIm2col(Case& c, int64_t H, int64_t W, int64_t C, int64_t K, int64_t P, int64_t S, uint32_t seed) {
  const int64_t OH = (H + 2 * P - K) / S + 1, OW = (W + 2 * P - K) / S + 1;
  HostBuffer& img = c.buffer(ir::DType::Float16, H * W * C);
  HostBuffer& col = c.buffer(ir::DType::Float16, OH * OW * K * K * C);
  randomFill(img, seed);
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
}

TEST_CASE("interpreter: im2col (TMA im2col mode on sm_90a), small images, strides 1 and 2") {
  auto source = specExample("im2col.tl");
  if (!source) return;
  for (int stride : {1, 2}) {
    // One 5 x 7 image of 64 channels, a 3 x 3 filter, padding 1.
    const int64_t H = 5, W = 7, C = 64, K = 3, P = 1, S = stride;
    std::vector<Define> defines = {{"NB", "1"}, {"H", "5"}, {"W", "7"}, {"S", std::to_string(S)}};
    auto module = compile(*source, Target::hopper(), defines);
    bool im2colMode = false;
    for (const ir::Param& p : variant(*module, true).params)
      im2colMode = im2colMode || (p.kind == ir::ParamKind::TensorMap && p.tensorMap->im2col);
    CHECK(im2colMode);
    checkAllVariants(
        *source, {{0}},
        [&](Case& c, const Shape&) { bindIm2col(c, H, W, C, K, P, S, 15); },
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

// The benchmark's im2col kernels with several loads a block (im2col_two_tiles.tl: two
// 64x64 tiles a block; im2col_split16.tl: a 64x64 tile as four 16-pixel loads), every
// load in flight before the first wait (OverlapTmaLoads). A 9 x 9 image has 81 output
// pixels at stride 1: the second 64-pixel tile is ragged (17 rows), and in the second
// block of split16 one part is ragged and two lie wholly past the end (zeros loaded,
// stores guarded); 5 x 7 (35 pixels) and stride 2 (25) leave parts past the end too.
TEST_CASE("interpreter: im2col with several loads in flight a block (two tiles; four 16-pixel parts), ragged") {
  for (const char* file : {"im2col_two_tiles.tl", "im2col_split16.tl"}) {
    const std::string source = gpuKernel(file);
    for (auto [stride, H, W] : {std::tuple<int64_t, int64_t, int64_t>{1, 5, 7}, {1, 9, 9}, {2, 9, 9}}) {
      const int64_t C = 64, K = 3, P = 1, S = stride;
      std::vector<Define> defines = {
          {"NB", "1"}, {"H", std::to_string(H)}, {"W", std::to_string(W)}, {"S", std::to_string(S)}};
      auto module = compile(source, Target::hopper(), defines);
      bool im2colMode = false;
      for (const ir::Param& p : variant(*module, true).params)
        im2colMode = im2colMode || (p.kind == ir::ParamKind::TensorMap && p.tensorMap->im2col);
      CHECK_MESSAGE(im2colMode, file);
      checkAllVariants(
          source, {{0}},
          [&](Case& c, const Shape&) { bindIm2col(c, H, W, C, K, P, S, uint32_t(16 + stride)); },
          stride == 1 ? targets() : std::vector<Target>{Target::hopper()}, defines);
    }
  }
}

TEST_CASE("interpreter: im2col by keyword, kernel= and annotations= (im2col_keywords.tl), TMA and cp.async") {
  const std::string source = gpuKernel("im2col_keywords.tl");
  // One 5 x 7 image, a 3 x 3 filter, padding 1; C = 64 takes TMA's im2col mode,
  // C = 40 with BK = 16 the cp.async route.
  for (int64_t C : {64, 40}) {
    const int64_t H = 5, W = 7, K = 3, P = 1;
    std::vector<Define> defines = {{"NB", "1"}, {"H", "5"}, {"W", "7"}, {"C", std::to_string(C)},
                                   {"BK", C == 64 ? "32" : "16"}};
    checkAllVariants(
        source, {{0}},
        [&](Case& c, const Shape&) { bindIm2col(c, H, W, C, K, P, 1, 33); },
        targets(), defines);
  }
}

// The benchmark's transpose with its load by TMA (transpose_tma_load.tl): TMA's zero
// fill past the edges on ragged shapes, float32 and float16 (the 8-byte pieces).
TEST_CASE("interpreter: transpose with its load by TMA (transpose_tma_load.tl), float32 and float16, ragged") {
  const std::string source = gpuKernel("transpose_tma_load.tl");
  for (ir::DType dtype : {ir::DType::Float32, ir::DType::Float16}) {
    std::vector<Define> defines = {{"DT", dtype == ir::DType::Float32 ? "float32" : "float16"}};
    checkAllVariants(
        source, {{37, 131}, {64, 128}, {1, 64}},
        [&](Case& c, const Shape& s) { bindTranspose(c, s, dtype, 21); },
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


// ---- proxies: Buffer's elem_offset and offset_factor, views of untyped pointers

namespace {

// A tile copy through a tensor that starts `off` elements past its pointer (a
// multiple of 8, offset_factor: lowering may use it for the vector width), one whose
// offset is its own dimension (offset_factor without elem_offset), and views of an
// untyped ptr() (float32 by default) and a typed one (Buffer.from_ptr, data=).
const char* kProxyCopies = R"(
kernel offset_copy(A: Buffer((M, N), float16, elem_offset=off, offset_factor=8), B: Tensor((M, N), float16)) {
  with Kernel(ceildiv(N, 64), ceildiv(M, 16), threads=128) as (bx, by) {
    s = alloc_shared((16, 64), float16);
    copy(A[by * 16, bx * 64], s);
    copy(s, B[by * 16, bx * 64]);
  }
}
kernel own_offset(A: Buffer[(M, N), float16, None, None, None, "global", 0, 4], B: Tensor((M, N), float16)) {
  with Kernel(ceildiv(N, 64), ceildiv(M, 16), threads=128) as (bx, by) {
    f = alloc_fragment((16, 64), float16);
    copy(A[by * 16, bx * 64], f);
    copy(f, B[by * 16, bx * 64]);
  }
}
kernel views(p: ptr(), q: ptr(float32), n: int32) {
  with Kernel(ceildiv(n, 128), threads=128) as (bx) {
    X = Tensor((n,), data=p);
    Y = Buffer.from_ptr(q, (n,), float32);
    t = alloc_shared((128,), float32);
    copy(X[bx * 128], t);
    copy(t, Y[bx * 128]);
  }
}
)";

}  // namespace

TEST_CASE("interpreter: Buffer elem_offset with offset_factor, and views of ptr(), every variant, ragged shapes") {
  CHECK(compile(kProxyCopies, Target::hopper())->kernels.size() >= 3);  // the three together
  std::string offsetCopy = kProxyCopies;
  offsetCopy = offsetCopy.substr(0, offsetCopy.find("kernel own_offset"));
  std::string ownOffset = kProxyCopies;
  ownOffset = ownOffset.substr(ownOffset.find("kernel own_offset"));
  ownOffset = ownOffset.substr(0, ownOffset.find("kernel views"));
  std::string views = kProxyCopies;
  views = views.substr(views.find("kernel views"));
  const std::vector<Shape> shapes = {{37, 131, 8}, {1, 8, 0}, {64, 200, 24}, {17, 1, 40}};
  auto bind = [](const char* offsetName) {
    return [offsetName](Case& c, const Shape& s) {
      int32_t M = s[0], N = s[1], off = s[2];
      HostBuffer& A = c.buffer(ir::DType::Float16, int64_t(off) + int64_t(M) * N);
      HostBuffer& B = c.buffer(ir::DType::Float16, int64_t(M) * N);
      randomFill(A, 11);
      B.fill(kPoison);
      c.args.pointer("A", A);
      c.args.pointer("B", B);
      c.args.dim("M", M);
      c.args.dim("N", N);
      c.args.dim(offsetName, off);
      c.output = &B;
      for (int64_t i = 0; i < B.elements(); ++i) c.expected.push_back(A.get(off + i));
    };
  };
  checkAllVariants(offsetCopy, shapes, bind("off"));
  checkAllVariants(ownOffset, shapes, bind("A_elem_offset"));
  checkAllVariants(views, {{1031}, {1}, {256}}, [](Case& c, const Shape& s) {
    int32_t n = s[0];
    HostBuffer& X = c.buffer(ir::DType::Float32, n);
    HostBuffer& Y = c.buffer(ir::DType::Float32, n);
    randomFill(X, 12);
    Y.fill(kPoison);
    c.args.pointer("p", X);
    c.args.pointer("q", Y);
    c.args.scalar("n", n);
    c.output = &Y;
    for (int64_t i = 0; i < n; ++i) c.expected.push_back(X.get(i));
  });

  // The offset is a fact: no variant assumes it, the aligned one vectorizes by it, and
  // an offset that breaks it is refused (the launcher's requirement).
  auto m = compile(offsetCopy, Target::hopper());
  for (const ir::Kernel& k : m->kernels) {
    REQUIRE(k.requirements.size() == 1);
    CHECK(k.requirements[0].multiple == 8);
    for (const ir::Assumption& a : k.assumptions) CHECK(a.param->name != "off");
  }
  HostBuffer A(ir::DType::Float16, 3 + 64 * 64), B(ir::DType::Float16, 64 * 64);
  interp::Arguments args;
  args.pointer("A", A);
  args.pointer("B", B);
  args.dim("M", 64);
  args.dim("N", 64);
  args.dim("off", 3);
  interp::Result r = interp::run(m->kernels.back(), args);
  CHECK_FALSE(r.ok);
  CHECK(r.text().find("the elem_offset of tensor 'A' (off) must be a multiple of 8") != std::string::npos);
}

// ---- eviction_policy on SIMT copies: the hint rides on the global accesses

TEST_CASE("interpreter: copies with eviction_policy (SIMT, hinted loads and stores), every variant, ragged shapes") {
  // Global -> shared (cp.async passed over for the hint), shared -> global, global ->
  // global, one element (A's last into D).
  const char* source = R"(
kernel evict(A: Tensor((M, N), float16), B: Tensor((M, N), float16), C: Tensor((M, N), float16),
             D: Tensor((1,), float16)) {
  with Kernel(ceildiv(N, 64), ceildiv(M, 16), threads=128) as (bx, by) {
    s = alloc_shared((16, 64), float16);
    copy(A[by * 16, bx * 64], s, eviction_policy="evict_first");
    copy(s, B[by * 16, bx * 64], eviction_policy="evict_last");
    copy(A[by * 16 : by * 16 + 16, bx * 64 : bx * 64 + 64], C[by * 16, bx * 64], eviction_policy="evict_first");
    if bx == 0 and by == 0 {
      copy(A[M - 1, N - 1], D[0], eviction_policy="evict_last");
    }
  }
}
)";
  for (const Target& target : targets()) {
    auto m = compile(source, target);
    for (const ir::Kernel& k : m->kernels) {
      std::ostringstream text;
      ir::print(k, text);
      bool aligned = k.name != "evict";
      if (aligned) CHECK(text.str().find("x8 {evict_first} if") != std::string::npos);
      CHECK(text.str().find("{evict_last} =") != std::string::npos);
      CHECK(text.str().find("cp_async") == std::string::npos);
    }
  }
  checkAllVariants(source, {{37, 131}, {1, 8}, {64, 200}, {16, 64}}, [](Case& c, const Shape& s) {
    int32_t M = s[0], N = s[1];
    HostBuffer& A = c.buffer(ir::DType::Float16, int64_t(M) * N);
    HostBuffer& B = c.buffer(ir::DType::Float16, int64_t(M) * N);
    HostBuffer& C = c.buffer(ir::DType::Float16, int64_t(M) * N);
    HostBuffer& D = c.buffer(ir::DType::Float16, 1);
    randomFill(A, 21);
    B.fill(kPoison);
    C.fill(kPoison);
    D.fill(kPoison);
    c.args.pointer("A", A);
    c.args.pointer("B", B);
    c.args.pointer("C", C);
    c.args.pointer("D", D);
    c.args.dim("M", M);
    c.args.dim("N", N);
    c.output = &B;
    for (int64_t i = 0; i < A.elements(); ++i) c.expected.push_back(A.get(i));
    c.moreOutputs.push_back({&C, c.expected});
    c.moreOutputs.push_back({&D, {A.get(A.elements() - 1)}});
  });
}

// ---- copies of part of a fragment, and of one element of it

TEST_CASE("interpreter: copies and fills of part of a fragment and of single fragment elements, every variant, ragged shapes") {
  // f = A's tile; rows 0..8 of it replaced by C's (a global region into part of f),
  // columns 32..64 of rows 8..16 from a shared tile; element (3, 5) from C's (0, 0),
  // rows 12..14 / columns 0..8 filled with 1.5 and row 1 / columns 40..64 cleared (fills
  // of part of f: the owners set their elements), element (15, 63) of f stored to D[1]
  // and the whole f to B; part of f (rows 4..12,
  // columns 16..48) to E at (by * 8, bx * 32) of its own grid.
  const char* source = R"(
kernel part(A: Tensor((M, N), float32), B: Tensor((M, N), float32), C: Tensor((M, N), float32),
            D: Tensor((2,), float32), E: Tensor((M, N), float32)) {
  with Kernel(ceildiv(N, 64), ceildiv(M, 16), threads=128) as (bx, by) {
    f = alloc_fragment((16, 64), float32);
    s = alloc_shared((8, 32), float32);
    copy(A[by * 16, bx * 64], f);
    copy(C[by * 16 : by * 16 + 8, bx * 64 : bx * 64 + 64], f[0:8, :]);
    copy(C[by * 16 + 8, bx * 64 + 32], s);
    copy(s, f[8:16, 32:64]);
    copy(C[0, 0], f[3, 5]);
    fill(f[12:14, 0:8], 1.5);
    clear(f[1, 40:64]);
    if bx == 0 and by == 0 {
      copy(f[15, 63], D[1]);
    }
    copy(f, B[by * 16, bx * 64]);
    copy(f[4:12, 16:48], E[by * 16 + 4, bx * 64 + 16]);
  }
}
)";
  checkAllVariants(source, {{37, 131}, {16, 64}, {1, 8}, {48, 200}}, [](Case& c, const Shape& s) {
    int32_t M = s[0], N = s[1];
    int64_t n = int64_t(M) * N;
    HostBuffer& A = c.buffer(ir::DType::Float32, n);
    HostBuffer& B = c.buffer(ir::DType::Float32, n);
    HostBuffer& C = c.buffer(ir::DType::Float32, n);
    HostBuffer& D = c.buffer(ir::DType::Float32, 2);
    HostBuffer& E = c.buffer(ir::DType::Float32, n);
    randomFill(A, 31);
    randomFill(C, 32);
    B.fill(kPoison);
    D.fill(kPoison);
    E.fill(kPoison);
    for (auto [name, buf] : {std::pair{"A", &A}, {"B", &B}, {"C", &C}, {"D", &D}, {"E", &E}}) c.args.pointer(name, *buf);
    c.args.dim("M", M);
    c.args.dim("N", N);
    // The reference: each block's fragment over its tile (out-of-bounds elements 0).
    auto at = [&](const HostBuffer& X, int64_t i, int64_t j) { return i < M && j < N ? X.get(i * N + j) : 0.0; };
    HostBuffer poison = poisoned(ir::DType::Float32, 1);
    std::vector<double> b(static_cast<size_t>(n), 0.0);
    std::vector<double> e(static_cast<size_t>(n), poison.get(0));
    double d1 = poison.get(0);
    for (int64_t by = 0; by < (M + 15) / 16; ++by)
      for (int64_t bx = 0; bx < (N + 63) / 64; ++bx) {
        double f[16][64];
        for (int i = 0; i < 16; ++i)
          for (int j = 0; j < 64; ++j) {
            int64_t gi = by * 16 + i, gj = bx * 64 + j;
            f[i][j] = i < 8 ? at(C, gi, gj) : j >= 32 ? at(C, by * 16 + 8 + (i - 8), bx * 64 + 32 + (j - 32)) : at(A, gi, gj);
          }
        f[3][5] = at(C, 0, 0);
        for (int i = 12; i < 14; ++i)
          for (int j = 0; j < 8; ++j) f[i][j] = 1.5;
        for (int j = 40; j < 64; ++j) f[1][j] = 0.0;
        if (bx == 0 && by == 0) d1 = f[15][63];
        for (int i = 0; i < 16; ++i)
          for (int j = 0; j < 64; ++j) {
            int64_t gi = by * 16 + i, gj = bx * 64 + j;
            if (gi < M && gj < N) b[size_t(gi * N + gj)] = f[i][j];
            if (i >= 4 && i < 12 && j >= 16 && j < 48 && gi < M && gj < N) e[size_t(gi * N + gj)] = f[i][j];
          }
      }
    c.output = &B;
    c.expected = b;
    c.moreOutputs.push_back({&D, {poison.get(0), d1}});
    c.moreOutputs.push_back({&E, e});
  });
}

// ---- a whole tensor of symbolic shape copied with a tile: its head, launcher-checked

TEST_CASE("interpreter: copy(A, s) of a symbolic A is its head tile, every variant; a too-small A is refused") {
  const char* source = R"(
kernel head(A: Tensor((M, N), float16), B: Tensor((M, N), float16)) {
  with Kernel(1, threads=128) as (bx) {
    s = alloc_shared((32, 64), float16);
    copy(A, s);
    copy(s, B);
  }
}
)";
  checkAllVariants(source, {{32, 64}, {37, 131}, {100, 64}, {33, 72}}, [](Case& c, const Shape& s) {
    int32_t M = s[0], N = s[1];
    HostBuffer& A = c.buffer(ir::DType::Float16, int64_t(M) * N);
    HostBuffer& B = c.buffer(ir::DType::Float16, int64_t(M) * N);
    randomFill(A, 41);
    B.fill(kPoison);
    c.args.pointer("A", A);
    c.args.pointer("B", B);
    c.args.dim("M", M);
    c.args.dim("N", N);
    c.output = &B;
    HostBuffer poison = poisoned(ir::DType::Float16, 1);
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) c.expected.push_back(i < 32 && j < 64 ? A.get(i * N + j) : poison.get(0));
  });
  auto m = compile(source, Target::hopper());
  for (auto [M, N, what] : {std::tuple{31, 64, "dimension 0 of tensor 'A' (M) must be at least 32"},
                            std::tuple{32, 63, "dimension 1 of tensor 'A' (N) must be at least 64"}}) {
    HostBuffer A(ir::DType::Float16, int64_t(M) * N), B(ir::DType::Float16, int64_t(M) * N);
    interp::Arguments args;
    args.pointer("A", A);
    args.pointer("B", B);
    args.dim("M", M);
    args.dim("N", N);
    interp::Result r = interp::run(m->kernels.back(), args);
    CHECK_FALSE(r.ok);
    CHECK_MESSAGE(r.text().find(what) != std::string::npos, r.text());
  }
}


// ---- atomics (issue 21): atomic_add / atomic_max / atomic_min on global and shared
// elements, and atomic_add of a fragment into a global region. Destinations start
// at known values (atomics accumulate), not poison.

namespace {

const std::string kAtomics = *readFile(TLC_SOURCE_DIR "/tests/gpu/kernels/atomics.tl");

void randomInit(HostBuffer& b, uint32_t seed) { randomFill(b, seed); }

// Y = Y0 + X added `times` times, each add rounded once to Y's dtype.
void bindTileAccumulate(Case& c, const Shape& s, ir::DType t, int times) {
  int32_t M = s[0], N = s[1];
  HostBuffer& X = c.buffer(t, int64_t(M) * N);
  HostBuffer& Y = c.buffer(t, int64_t(M) * N);
  randomFill(X, 31);
  randomInit(Y, 32);
  c.args.pointer("X", X);
  c.args.pointer("Y", Y);
  c.args.dim("M", M);
  c.args.dim("N", N);
  c.output = &Y;
  for (int64_t i = 0; i < int64_t(M) * N; ++i) {
    double y = Y.get(i);
    for (int k = 0; k < times; ++k) y = roundedTo(t, y + X.get(i));
    c.expected.push_back(y);
  }
}

const std::vector<Shape> kAtomicShapes = {{17, 131}, {1, 7}, {31, 257}, {13, 136}, {32, 64}, {2, 1}};

}  // namespace

TEST_CASE("interpreter: col_sum, atomic_add of each element into S (N,) over row blocks, ragged M and N") {
  checkAllVariants(kernelOf(kAtomics, "col_sum"), {{17, 131}, {1, 7}, {71, 257}, {64, 128}, {3, 1}}, [](Case& c, const Shape& s) {
    int32_t M = s[0], N = s[1];
    HostBuffer& X = c.buffer(ir::DType::Float32, int64_t(M) * N);
    HostBuffer& S = c.buffer(ir::DType::Float32, N);
    randomFill(X, 33);
    randomInit(S, 34);
    c.args.pointer("X", X);
    c.args.pointer("S", S);
    c.args.dim("M", M);
    c.args.dim("N", N);
    c.output = &S;
    for (int64_t j = 0; j < N; ++j) {
      double sum = S.get(j);
      for (int64_t i = 0; i < M; ++i) sum += X.get(i * N + j);
      c.expected.push_back(sum);
    }
    // M + 1 float32 roundings of partial sums of at most 4 (M + 1) in magnitude.
    c.tolerance = double(M + 1) * 4.0 * double(M + 1) * 0x1p-24;
  });
}

TEST_CASE("interpreter: atomic_add of a float32 fragment into a global tile (twice), ragged M and N, every variant") {
  checkAllVariants(kernelOf(kAtomics, "tile_acc_f32"), kAtomicShapes,
                   [](Case& c, const Shape& s) { bindTileAccumulate(c, s, ir::DType::Float32, 2); });
}

TEST_CASE("interpreter: atomic_add of float16 / bfloat16 fragments (f16x2 / bf16x2 pairs where aligned), ragged") {
  checkAllVariants(kernelOf(kAtomics, "tile_acc_f16"), kAtomicShapes,
                   [](Case& c, const Shape& s) { bindTileAccumulate(c, s, ir::DType::Float16, 1); });
  checkAllVariants(kernelOf(kAtomics, "tile_acc_bf16"), kAtomicShapes,
                   [](Case& c, const Shape& s) { bindTileAccumulate(c, s, ir::DType::BFloat16, 1); },
                   {Target::hopper()});
}

TEST_CASE("interpreter: histogram, int32 atomic_add on shared then global, old values returned") {
  for (const Target& target : targets()) {
    auto module = compile(kernelOf(kAtomics, "histogram"), target);
    for (const ir::Kernel& kernel : module->kernels)
      for (int32_t L : {1031, 1, 256, 700})
        for (const interp::Options& options : schedules()) {
          int32_t blocks = (L + 255) / 256;
          HostBuffer V(ir::DType::Int32, L), H(ir::DType::Int32, 64), F(ir::DType::Int32, blocks);
          std::mt19937 rng{uint32_t(L)};
          std::vector<int64_t> count(64, 0), perBlock0(blocks, 0);
          for (int32_t i = 0; i < L; ++i) {
            int v = int(rng() % 64);
            V.set(i, v);
            ++count[v];
            if (v == 0) ++perBlock0[i / 256];
          }
          for (int b = 0; b < 64; ++b) H.set(b, 1000 * b - 7);
          F.fill(kPoison);
          interp::Arguments args;
          args.pointer("V", V);
          args.pointer("H", H);
          args.pointer("F", F);
          args.dim("L", L);
          args.dim("B", blocks);
          INFO(target.arch() << " " << kernel.name << " L " << L);
          interp::Result r = interp::run(kernel, args, options);
          REQUIRE_MESSAGE(r.ok, r.text());
          for (int b = 0; b < 64; ++b) CHECK(H.get(b) == double(1000 * b - 7 + count[size_t(b)]));
          // Blocks run in order: block b saw bin 0's count of the blocks before it.
          double before = -7;
          for (int b = 0; b < blocks; ++b) {
            CHECK(F.get(b) == before);
            before += double(perBlock0[size_t(b)]);
          }
        }
  }
}

TEST_CASE("interpreter: atomic_max / atomic_min of float32 (negatives, -0.0) and int32, and the old values") {
  for (const Target& target : targets()) {
    auto module = compile(kernelOf(kAtomics, "extremes"), target);
    for (const ir::Kernel& kernel : module->kernels)
      for (int32_t L : {300, 1, 129})
        for (bool negativeOnly : {false, true})
          for (const interp::Options& options : schedules()) {
            HostBuffer X(ir::DType::Float32, L), I(ir::DType::Int32, L), R(ir::DType::Float32, 4), Q(ir::DType::Int32, 4),
                P(ir::DType::Float32, L);
            randomFill(X, uint32_t(L) + 40);
            std::mt19937 rng{uint32_t(L)};
            for (int32_t i = 0; i < L; ++i) {
              if (negativeOnly) X.set(i, -std::fabs(X.get(i)));
              I.set(i, int(rng() % 20001) - 10000);
            }
            if (L > 1) X.set(1, negativeOnly ? -0.0 : 0.0);
            R.set(0, -1e30);
            R.set(1, 1e30);
            R.set(2, -1e30);
            R.set(3, 5);
            Q.set(0, -2147483647);
            Q.set(1, 2147483647);
            Q.set(2, 9);
            Q.set(3, 9);
            P.fill(kPoison);
            interp::Arguments args;
            args.pointer("X", X);
            args.pointer("I", I);
            args.pointer("R", R);
            args.pointer("Q", Q);
            args.pointer("P", P);
            args.dim("L", L);
            INFO(target.arch() << " " << kernel.name << " L " << L << std::string(negativeOnly ? " negative" : ""));
            interp::Result r = interp::run(kernel, args, options);
            REQUIRE_MESSAGE(r.ok, r.text());
            double mx = roundedTo(ir::DType::Float32, -1e30), mn = roundedTo(ir::DType::Float32, 1e30);
            int64_t imx = -2147483647, imn = 2147483647;
            for (int32_t i = 0; i < L; ++i) {
              mx = std::max(mx, X.get(i));
              mn = std::min(mn, X.get(i));
              imx = std::max<int64_t>(imx, int64_t(I.get(i)));
              imn = std::min<int64_t>(imn, int64_t(I.get(i)));
            }
            CHECK(R.get(0) == mx);
            CHECK(R.get(1) == mn);
            CHECK(R.get(2) == mx);
            CHECK(R.get(3) == 5);
            CHECK(Q.get(0) == double(imx));
            CHECK(Q.get(1) == double(imn));
            CHECK(Q.get(2) == 9);
            // Each old value is the start or an input, and at most the final maximum;
            // the thread that brought the maximum saw less (or the same value).
            for (int32_t i = 0; i < L; ++i) {
              double p = P.get(i);
              bool known = p == roundedTo(ir::DType::Float32, -1e30);
              for (int32_t k = 0; k < L && !known; ++k) known = p == X.get(k);
              CHECK(known);
              CHECK(p <= mx);
            }
          }
  }
}

TEST_CASE("atomicCombine: float32 max / min order -0.0 below +0.0 and negatives by magnitude, ints by signedness") {
  using interp::atomicCombine;
  using interp::floatScalar;
  using interp::intScalar;
  auto fmax = [](double old, double v) { return atomicCombine(ir::AtomicOp::Max, ir::DType::Float32, floatScalar(old), floatScalar(v)).f; };
  auto fmin = [](double old, double v) { return atomicCombine(ir::AtomicOp::Min, ir::DType::Float32, floatScalar(old), floatScalar(v)).f; };
  CHECK(fmax(-3, -2) == -2);
  CHECK(fmax(-2, -3) == -2);
  CHECK(fmax(-1, 2) == 2);
  CHECK(fmax(2, -1) == 2);
  CHECK(std::signbit(fmax(-0.0, 0.0)) == false);
  CHECK(std::signbit(fmax(0.0, -0.0)) == false);
  CHECK(fmin(-3, -2) == -3);
  CHECK(fmin(2, -1) == -1);
  CHECK(fmin(1, 2) == 1);
  CHECK(std::signbit(fmin(0.0, -0.0)) == true);
  CHECK(atomicCombine(ir::AtomicOp::Max, ir::DType::UInt32, intScalar(0xFFFFFFFF), intScalar(1)).i == 0xFFFFFFFF);
  CHECK(atomicCombine(ir::AtomicOp::Max, ir::DType::Int32, intScalar(-1), intScalar(1)).i == 1);
  CHECK(atomicCombine(ir::AtomicOp::Add, ir::DType::Int32, intScalar(2147483647), intScalar(1)).i == -2147483648LL);
  CHECK(atomicCombine(ir::AtomicOp::Add, ir::DType::Float16, floatScalar(2048), floatScalar(1)).f == 2048);  // ties to even
}

TEST_CASE("interpreter catches: a tile accumulate's atomic_add past the ragged edge, its predicate removed") {
  for (const Target& target : targets()) {
    auto module = compile(kernelOf(kAtomics, "tile_acc_f32"), target);
    ir::Kernel& general = variant(*module, false);
    int unguarded = 0;
    ir::RewriteHooks hooks;
    hooks.store = [&](const ir::StoreStmt& st, std::vector<ir::ExprRef> idx, ir::ExprRef value) -> ir::StmtRef {
      if (st.atomic != ir::AtomicOp::Add) return nullptr;
      ++unguarded;
      auto n = ir::moveStore(st, st.buffer, idx, value);
      n->predicate = nullptr;
      return n;
    };
    general.body = ir::rewriteStmt(general.body, {}, hooks);
    REQUIRE(unguarded > 0);
    Case c;
    bindTileAccumulate(c, {17, 131}, ir::DType::Float32, 2);
    interp::Result r = interp::run(general, c.args);
    INFO(target.arch());
    CHECK_FALSE(r.ok);
    REQUIRE(!r.errors.empty());
    CHECK(r.errors[0].find("global 'Y'") != std::string::npos);
  }
}

TEST_CASE("interpreter: atomic_add of a broadcast fragment adds each element once (its holders do not all add it)") {
  const std::string source = R"(
kernel k(X: Tensor((M, N), float32), V: Tensor((M,), float32), O: Tensor((M,), float32)) {
  with Kernel(1, ceildiv(M, 16), threads=128) as (bx, by) {
    x = alloc_fragment((16, 64), float32);
    s = alloc_fragment((16,), float32);
    copy(X[by * 16, 0], x);
    copy(V[by * 16], s);
    for i, j in Parallel(16, 64) { x[i, j] = x[i, j] * s[i]; }
    atomic_add(O[by * 16], s);
  }
}
)";
  checkAllVariants(source, {{17, 64}, {1, 3}, {32, 100}}, [](Case& c, const Shape& s) {
    int32_t M = s[0], N = s[1];
    HostBuffer& X = c.buffer(ir::DType::Float32, int64_t(M) * N);
    HostBuffer& V = c.buffer(ir::DType::Float32, M);
    HostBuffer& O = c.buffer(ir::DType::Float32, M);
    randomFill(X, 41);
    randomFill(V, 42);
    for (int64_t i = 0; i < M; ++i) O.set(i, 1.0);
    c.args.pointer("X", X);
    c.args.pointer("V", V);
    c.args.pointer("O", O);
    c.args.dim("M", M);
    c.args.dim("N", N);
    c.output = &O;
    for (int64_t i = 0; i < M; ++i) c.expected.push_back(float(1.0f + float(V.get(i))));
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

TEST_CASE("interpreter: print writes one line per thread, labelled as written") {
  // Two blocks of 32 threads; threads 0 and 1 of each print an element of A, its
  // index and a float, with the message; the lines are vprintf's format (Codegen).
  const char* text = R"(
kernel show(A: Tensor((N,), float16), s: float32) {
  with Kernel(ceildiv(N, 32), threads=32) as (bx) {
    for i in Parallel(32) {
      if i < 2 {
        print(A[bx * 32 + i], bx * 32 + i, s * 2.0, i == 0, msg="row");
      }
    }
  }
}
)";
  auto loopIR = test::lowerForTest(text);
  const ir::Kernel& kernel = loopIR->kernels.back();
  interp::HostBuffer a(ir::DType::Float16, 40);
  for (int i = 0; i < 40; ++i) a.set(i, 0.5 * i);
  interp::Arguments args;
  args.pointer("A", a);
  args.dim("N", 40);
  args.scalar("s", 1.25);
  std::ostringstream printed;
  interp::Options options;
  options.printOut = &printed;
  interp::Result r = interp::run(kernel, args, options);
  REQUIRE_MESSAGE(r.ok, r.text());
  CHECK(printed.str() ==
        "[block (0, 0, 0) thread 0] row A[bx * 32 + i] = 0, bx * 32 + i = 0, s * 2.0 = 2.5, i == 0 = 1\n"
        "[block (0, 0, 0) thread 1] row A[bx * 32 + i] = 0.5, bx * 32 + i = 1, s * 2.0 = 2.5, i == 0 = 0\n"
        "[block (1, 0, 0) thread 0] row A[bx * 32 + i] = 16, bx * 32 + i = 32, s * 2.0 = 2.5, i == 0 = 1\n"
        "[block (1, 0, 0) thread 1] row A[bx * 32 + i] = 16.5, bx * 32 + i = 33, s * 2.0 = 2.5, i == 0 = 0\n");
}

TEST_CASE("interpreter: the GPU print test's kernel prints the lines tests/gpu/print.cpp expects") {
  // tests/gpu/kernels/print.tl on N = 131 (three blocks, the last ragged): the same
  // text the GPU test compares the captured stdout with, in the interpreter's order.
  auto loopIR = test::lowerForTest(*readFile(TLC_SOURCE_DIR "/tests/gpu/kernels/print.tl"));
  const ir::Kernel& kernel = loopIR->kernels.back();
  const int N = 131;
  interp::HostBuffer a(ir::DType::Float16, N);
  for (int i = 0; i < N; ++i) a.set(i, 0.5 * (i % 64) - 3.0);
  interp::Arguments args;
  args.pointer("A", a);
  args.dim("N", N);
  args.scalar("s", 1.25);
  std::ostringstream printed;
  interp::Options options;
  options.printOut = &printed;
  interp::Result r = interp::run(kernel, args, options);
  REQUIRE_MESSAGE(r.ok, r.text());
  std::string want;
  for (int b = 0; b * 64 < N; ++b)
    for (int t = 0; t < 2 && b * 64 + t < N; ++t) {
      char line[256];
      std::snprintf(line, sizeof line,
                    "[block (%d, 0, 0) thread %d] 100%% row A[bx * 64 + i] = %g, bx * 64 + i = %d, s * 2.0 = %g, "
                    "i == 0 = %d, cast(bx, int64) * 3000000000 = %lld\n",
                    b, t, 0.5 * ((b * 64 + t) % 64) - 3.0, b * 64 + t, 2.5, t == 0 ? 1 : 0, (long long)b * 3000000000LL);
      want += line;
    }
  CHECK(printed.str() == want);
}

// ---- the row kernels of examples/ (issue 21 item 4): softmax, rmsnorm, layernorm,
// per-token fp8 quantization, column sums with atomics, bias + GELU. Each runs as
// written (BN = 4096 columns a tile: N <= 4096 in one tile, 4099 in two) and with
// small tiles (-D BN=128 -D THREADS=64: N = 1000 is 8 tiles, the online statistics
// across tiles), on ragged M and N, against float64 references. Tolerances (stated
// in docs/language.md, "Row kernels"): float16 outputs within 2^-10 relative (half a
// float16 ulp is 2^-11; the rest for float32 exp / rsqrt and sums of up to 4099
// terms) plus 2^-24 absolute (float16 subnormals); fp8 codes and scales exact against
// the reference rounded where the kernel rounds (scale to float32, x / scale to
// float32, then to e4m3); column sums within (M + blocks + 1) 2^-24 sum |terms|.

namespace {

std::string exampleFile(const std::string& name) { return *readFile(TLC_SOURCE_DIR "/examples/" + name); }

// N in {1, 7, 127, 1000, 4096, 4099} with the examples' tiles, and small tiles that
// make N = 129 and 1000 several column tiles.
const std::vector<Shape> kRowShapes = {{3, 1}, {2, 7}, {3, 127}, {2, 1000}, {2, 4096}, {3, 4099}};
const std::vector<Shape> kRowShapesSmallTiles = {{5, 1}, {3, 127}, {2, 129}, {3, 1000}};
const std::vector<Define> kSmallTiles = {{"BN", "128"}, {"THREADS", "64"}};

double halfUlpAllowance(double want) { return std::ldexp(std::fabs(want), -10) + std::ldexp(1.0, -24); }

void bindSoftmax(Case& c, const Shape& s) {
  int32_t M = s[0], N = s[1];
  HostBuffer& X = c.buffer(ir::DType::Float16, int64_t(M) * N);
  HostBuffer& Y = c.buffer(ir::DType::Float16, int64_t(M) * N);
  randomFill(X, 51u + uint32_t(N));
  Y.fill(kPoison);
  c.args.pointer("X", X);
  c.args.pointer("Y", Y);
  c.args.dim("M", M);
  c.args.dim("N", N);
  c.output = &Y;
  for (int64_t i = 0; i < M; ++i) {
    double m = -1e300, sum = 0;
    for (int64_t j = 0; j < N; ++j) m = std::max(m, X.get(i * N + j));
    for (int64_t j = 0; j < N; ++j) sum += std::exp(X.get(i * N + j) - m);
    for (int64_t j = 0; j < N; ++j) {
      double y = std::exp(X.get(i * N + j) - m) / sum;
      c.expected.push_back(y);
      c.allowed.push_back(halfUlpAllowance(y));
    }
  }
}

void bindRmsnorm(Case& c, const Shape& s) {
  int32_t M = s[0], N = s[1];
  HostBuffer& X = c.buffer(ir::DType::Float16, int64_t(M) * N);
  HostBuffer& W = c.buffer(ir::DType::Float16, N);
  HostBuffer& Y = c.buffer(ir::DType::Float16, int64_t(M) * N);
  randomFill(X, 52u + uint32_t(N));
  randomFill(W, 53u + uint32_t(N));
  Y.fill(kPoison);
  c.args.pointer("X", X);
  c.args.pointer("W", W);
  c.args.pointer("Y", Y);
  c.args.dim("M", M);
  c.args.dim("N", N);
  c.output = &Y;
  for (int64_t i = 0; i < M; ++i) {
    double sq = 0;
    for (int64_t j = 0; j < N; ++j) sq += X.get(i * N + j) * X.get(i * N + j);
    double r = 1.0 / std::sqrt(sq / N + 1e-6);
    for (int64_t j = 0; j < N; ++j) {
      double y = X.get(i * N + j) * r * W.get(j);
      c.expected.push_back(y);
      c.allowed.push_back(halfUlpAllowance(y));
    }
  }
}

void bindLayernorm(Case& c, const Shape& s) {
  int32_t M = s[0], N = s[1];
  HostBuffer& X = c.buffer(ir::DType::Float16, int64_t(M) * N);
  HostBuffer& W = c.buffer(ir::DType::Float16, N);
  HostBuffer& B = c.buffer(ir::DType::Float16, N);
  HostBuffer& Y = c.buffer(ir::DType::Float16, int64_t(M) * N);
  randomFill(X, 54u + uint32_t(N));
  randomFill(W, 55u + uint32_t(N));
  randomFill(B, 56u + uint32_t(N));
  Y.fill(kPoison);
  c.args.pointer("X", X);
  c.args.pointer("W", W);
  c.args.pointer("B", B);
  c.args.pointer("Y", Y);
  c.args.dim("M", M);
  c.args.dim("N", N);
  c.output = &Y;
  for (int64_t i = 0; i < M; ++i) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < N; ++j) mean += X.get(i * N + j);
    mean /= N;
    for (int64_t j = 0; j < N; ++j) var += (X.get(i * N + j) - mean) * (X.get(i * N + j) - mean);
    double rstd = 1.0 / std::sqrt(var / N + 1e-5);
    for (int64_t j = 0; j < N; ++j) {
      double scaled = (X.get(i * N + j) - mean) * rstd * W.get(j);
      c.expected.push_back(scaled + B.get(j));
      // Relative to both terms: the float32 mean and variance err relative to the
      // normalized value, which the bias may cancel.
      c.allowed.push_back(halfUlpAllowance(std::fabs(scaled) + std::fabs(B.get(j))));
    }
  }
}

void bindFp8Quant(Case& c, const Shape& s) {
  int32_t M = s[0], N = s[1];
  HostBuffer& X = c.buffer(ir::DType::Float16, int64_t(M) * N);
  HostBuffer& Q = c.buffer(ir::DType::Float8E4M3, int64_t(M) * N);
  HostBuffer& S = c.buffer(ir::DType::Float32, M);
  randomFill(X, 57u + uint32_t(N));
  if (M > 2)  // an all-zero row: the scale stays finite (AMAX_MIN), every code 0
    for (int64_t j = 0; j < N; ++j) X.set(2 * int64_t(N) + j, 0.0);
  Q.fill(kPoison);
  S.fill(kPoison);
  c.args.pointer("X", X);
  c.args.pointer("Q", Q);
  c.args.pointer("S", S);
  c.args.dim("M", M);
  c.args.dim("N", N);
  c.output = &Q;
  std::vector<double> scales;
  for (int64_t i = 0; i < M; ++i) {
    double amax = 0;
    for (int64_t j = 0; j < N; ++j) amax = std::max(amax, std::fabs(X.get(i * N + j)));
    double scale = roundedTo(ir::DType::Float32, std::max(amax, roundedTo(ir::DType::Float32, 1e-4)) / 448.0);
    scales.push_back(scale);
    const double inverse = roundedTo(ir::DType::Float32, 1.0 / scale);  // the kernel's R[i]
    for (int64_t j = 0; j < N; ++j)
      c.expected.push_back(roundedTo(ir::DType::Float8E4M3, roundedTo(ir::DType::Float32, X.get(i * N + j) * inverse)));
  }
  c.moreOutputs.push_back({&S, scales});
}

void bindColSum(Case& c, const Shape& s, int32_t RB) {
  int32_t M = s[0], N = s[1];
  HostBuffer& X = c.buffer(ir::DType::Float16, int64_t(M) * N);
  HostBuffer& S = c.buffer(ir::DType::Float32, N);
  randomFill(X, 58u + uint32_t(N));
  randomFill(S, 59u + uint32_t(N));  // the kernel adds into S
  c.args.pointer("X", X);
  c.args.pointer("S", S);
  c.args.dim("M", M);
  c.args.dim("N", N);
  c.output = &S;
  const double roundings = double(M + (M + RB - 1) / RB + 1);
  for (int64_t j = 0; j < N; ++j) {
    double sum = S.get(j), scale = std::fabs(S.get(j));
    for (int64_t i = 0; i < M; ++i) sum += X.get(i * N + j), scale += std::fabs(X.get(i * N + j));
    c.expected.push_back(sum);
    c.allowed.push_back(roundings * std::ldexp(scale, -24));
  }
}

void bindBiasGelu(Case& c, const Shape& s) {
  int32_t M = s[0], N = s[1];
  HostBuffer& X = c.buffer(ir::DType::Float16, int64_t(M) * N);
  HostBuffer& B = c.buffer(ir::DType::Float16, N);
  HostBuffer& Y = c.buffer(ir::DType::Float16, int64_t(M) * N);
  randomFill(X, 60u + uint32_t(N));
  randomFill(B, 61u + uint32_t(N));
  Y.fill(kPoison);
  c.args.pointer("X", X);
  c.args.pointer("B", B);
  c.args.pointer("Y", Y);
  c.args.dim("M", M);
  c.args.dim("N", N);
  c.output = &Y;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double v = X.get(i * N + j) + B.get(j);
      double y = 0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v)));
      c.expected.push_back(y);
      // tanh's 8 float32 ulp near tanh = -1 are absolute: up to 0.5 |v| 2^-20.
      c.allowed.push_back(std::ldexp(std::fabs(y), -10) + std::ldexp(std::fabs(v), -20) + std::ldexp(1.0, -24));
    }
}

}  // namespace

TEST_CASE("interpreter: examples/softmax.tl, N = 1 .. 4099 (two column tiles), and small tiles (online max and sum)") {
  checkAllVariants(exampleFile("softmax.tl"), kRowShapes, bindSoftmax, {Target::hopper()});
  checkAllVariants(exampleFile("softmax.tl"), kRowShapesSmallTiles, bindSoftmax, targets(), kSmallTiles);
}

TEST_CASE("interpreter: examples/rmsnorm.tl (weight), N = 1 .. 4099, and small tiles") {
  checkAllVariants(exampleFile("rmsnorm.tl"), kRowShapes, bindRmsnorm, {Target::hopper()});
  checkAllVariants(exampleFile("rmsnorm.tl"), kRowShapesSmallTiles, bindRmsnorm, targets(), kSmallTiles);
}

TEST_CASE("interpreter: examples/layernorm.tl (weight and bias), N = 1 .. 4099, and small tiles") {
  checkAllVariants(exampleFile("layernorm.tl"), kRowShapes, bindLayernorm, {Target::hopper()});
  checkAllVariants(exampleFile("layernorm.tl"), kRowShapesSmallTiles, bindLayernorm, targets(), kSmallTiles);
}

TEST_CASE("interpreter: examples/fp8_quant.tl, per-token e4m3 codes and float32 scales, exact; an all-zero row") {
  checkAllVariants(exampleFile("fp8_quant.tl"), kRowShapes, bindFp8Quant, {Target::hopper()});
  checkAllVariants(exampleFile("fp8_quant.tl"), kRowShapesSmallTiles, bindFp8Quant, {Target::hopper()}, kSmallTiles);
}

TEST_CASE("interpreter: examples/col_sum.tl, atomic_add of per-block column sums, ragged M and N") {
  checkAllVariants(exampleFile("col_sum.tl"), {{3, 7}, {600, 300}, {1, 1}, {5, 256}},
                   [](Case& c, const Shape& s) { bindColSum(c, s, 256); });
  checkAllVariants(exampleFile("col_sum.tl"), {{17, 131}, {1, 7}, {9, 33}, {8, 32}, {40, 64}},
                   [](Case& c, const Shape& s) { bindColSum(c, s, 8); }, targets(),
                   {{"BM", "4"}, {"BN", "32"}, {"RB", "8"}, {"THREADS", "64"}});
}

TEST_CASE("interpreter: examples/bias_gelu.tl (tanh form), ragged M and N") {
  checkAllVariants(exampleFile("bias_gelu.tl"), {{33, 257}, {1, 7}, {32, 256}, {5, 1000}, {2, 4099}}, bindBiasGelu);
}

// buffer_type="auto_broadcast": B is (R, C) with R either 1 or M and C either 1 or
// N; an axis of extent 1 broadcasts (TVM's stride 0), through a copy into a shared
// tile and through element reads in a Parallel loop, on ragged shapes.
const char* kAutoBroadcast = R"(
const BM = 32;
const BN = 64;
kernel KERNEL(X: Tensor((M, N), float32), B: Buffer((R, C), float32, buffer_type="auto_broadcast"),
              Y: Tensor((M, N), float32)) {
  with Kernel(ceildiv(N, BN), ceildiv(M, BM), threads=128) as (bx, by) {
    s = alloc_shared((BM, BN), float32);
    copy(B[by * BM, bx * BN], s);
    for i, j in Parallel(BM, BN) {
      Y[by * BM + i, bx * BN + j] = X[by * BM + i, bx * BN + j] + s[i, j] * VIA;
    }
  }
}
)";

void bindAutoBroadcast(Case& c, const Shape& s) {
  int32_t M = s[0], N = s[1], R = s[2] ? M : 1, C = s[3] ? N : 1;
  HostBuffer& X = c.buffer(ir::DType::Float32, int64_t(M) * N);
  HostBuffer& B = c.buffer(ir::DType::Float32, int64_t(R) * C);
  HostBuffer& Y = c.buffer(ir::DType::Float32, int64_t(M) * N);
  randomFill(X, 3);
  randomFill(B, 4);
  Y.fill(kPoison);
  c.args.pointer("X", X);
  c.args.pointer("B", B);
  c.args.pointer("Y", Y);
  c.args.dim("M", M);
  c.args.dim("N", N);
  c.args.dim("R", R);
  c.args.dim("C", C);
  c.output = &Y;
  for (int32_t i = 0; i < M; ++i)
    for (int32_t j = 0; j < N; ++j)
      c.expected.push_back(double(float(X.get(int64_t(i) * N + j) +
                                        float(B.get(int64_t(R == 1 ? 0 : i) * C + (C == 1 ? 0 : j))))));
}

TEST_CASE("interpreter: buffer_type=\"auto_broadcast\" repeats axes of extent 1 (copy and element reads), ragged") {
  const std::vector<Shape> shapes = {{1, 1, 0, 0},   {37, 1, 0, 0},  {37, 1, 1, 0},  {100, 67, 0, 0}, {100, 67, 1, 0},
                                     {100, 67, 0, 1}, {100, 67, 1, 1}, {33, 130, 0, 1}, {1, 130, 1, 1}};
  std::string viaCopy = kAutoBroadcast;
  viaCopy.replace(viaCopy.find("KERNEL"), 6, "via_copy");
  viaCopy.replace(viaCopy.find("s[i, j] * VIA"), 13, "s[i, j]");
  checkAllVariants(viaCopy, shapes, bindAutoBroadcast);
  std::string viaElements = kAutoBroadcast;
  viaElements.replace(viaElements.find("KERNEL"), 6, "via_elements");
  viaElements.replace(viaElements.find("s[i, j] * VIA"), 13, "B[by * BM + i, bx * BN + j]");
  checkAllVariants(viaElements, shapes, bindAutoBroadcast);
}

// The seed rows of tests/gpu/kernels/seed_rows.tl (async_copy; cp_async_gs; tma_copy
// with leader_scope_threads=64, an eviction policy and tma_store_wait(read=False);
// copy_cluster with its keywords), every variant, both schedules, ragged shapes that
// each variant's assumptions admit, against the copy itself.
TEST_CASE("interpreter: the seed rows (async_copy, cp_async_gs, tma_copy leader groups, copy_cluster keywords)") {
  const std::string text = *readFile(TLC_SOURCE_DIR "/tests/gpu/kernels/seed_rows.tl");
  auto module = compile(text, Target::hopper());
  const std::vector<Shape> shapes = {{17, 131}, {1, 7}, {33, 136}, {16, 64}, {5, 8}};
  for (const ir::Kernel& kernel : module->kernels) {
    bool cluster = kernel.sourceName.rfind("cluster_", 0) == 0;
    int runs = 0;
    for (const Shape& s : shapes)
      for (const interp::Options& options : schedules()) {
        int32_t M = s[0], N = s[1];
        HostBuffer a(ir::DType::Float16, int64_t(M) * N), out(ir::DType::Float16, int64_t(M) * N * (cluster ? 2 : 1));
        randomFill(a, uint32_t(M + N));
        out.fill(kPoison);
        interp::Arguments args;
        args.pointer(cluster ? "W" : "A", a);
        args.pointer(cluster ? "C" : "B", out);
        args.dim("M", M);
        args.dim("N", N);
        if (!interp::assumptionsHold(kernel, args)) continue;
        INFO(kernel.name << " " << M << "x" << N);
        interp::Result r = interp::run(kernel, args, options);
        REQUIRE_MESSAGE(r.ok, r.text());
        std::vector<double> expected;
        for (int c = 0; c < (cluster ? 2 : 1); ++c)
          for (int64_t i = 0; i < a.elements(); ++i) expected.push_back(a.get(i));
        std::string mismatch = firstMismatch(out, expected, 0);
        CHECK_MESSAGE(mismatch.empty(), mismatch);
        ++runs;
      }
    INFO(kernel.name);
    CHECK(runs > 0);
  }
}

// tests/gpu/kernels/tma_rows.tl (issue 20 item 5): tma_copy of rows longer than a TMA
// box (cp.async.bulk inside the tensor, the tensor map in pieces past its end or from
// a misaligned start) and into / out of parts of a shared tile.
const std::string kTmaRows = *readFile(TLC_SOURCE_DIR "/tests/gpu/kernels/tma_rows.tl");

void bindCopy2d(Case& c, const Shape& s, ir::DType t) {
  int32_t M = s[0], N = s[1];
  HostBuffer& A = c.buffer(t, int64_t(M) * N);
  HostBuffer& B = c.buffer(t, int64_t(M) * N);
  randomFill(A, 53);
  B.fill(kPoison);
  c.args.pointer("A", A);
  c.args.pointer("B", B);
  c.args.dim("M", M);
  c.args.dim("N", N);
  c.output = &B;
  for (int64_t i = 0; i < A.elements(); ++i) c.expected.push_back(A.get(i));
}

int countIntrinsics(ir::Kernel& k, ir::IntrinsicOp op) {
  int n = 0;
  forEachStmt(k.body, [&](ir::StmtRef& s) { n += isIntrinsic(*s, op) ? 1 : 0; });
  return n;
}

TEST_CASE("interpreter: tma_copy of 1024-element rows (cp.async.bulk, tensor-map pieces at the ragged end), ragged N") {
  auto module = compile(kTmaRows, Target::hopper());
  ir::Kernel& rows = kernelNamed(*module, "rows");
  CHECK(countIntrinsics(rows, ir::IntrinsicOp::BulkLoad) == 1);
  CHECK(countIntrinsics(rows, ir::IntrinsicOp::BulkStore) == 1);
  checkKernel(*module, "rows", {{1, 1024}, {3, 1028}, {2, 2052}, {1, 4}, {5, 3000}},
              [](Case& c, const Shape& s) { bindCopy2d(c, s, ir::DType::Float32); });
}

TEST_CASE("interpreter: tma_copy of a rank-1 tensor in runs of 1000 float16 (pieces of 256 and 232), ragged N") {
  auto module = compile(kTmaRows, Target::hopper());
  for (int32_t n : {1000, 999, 2001, 1, 5000, 8})
    for (const interp::Options& options : schedules()) {
      Case c;
      HostBuffer& A = c.buffer(ir::DType::Float16, n);
      HostBuffer& B = c.buffer(ir::DType::Float16, n);
      randomFill(A, 59);
      B.fill(kPoison);
      c.args.pointer("A", A);
      c.args.pointer("B", B);
      c.args.dim("N", n);
      INFO("N = " << n);
      interp::Result r = interp::run(kernelNamed(*module, "flat"), c.args, options);
      REQUIRE_MESSAGE(r.ok, r.text());
      std::vector<double> want;
      for (int64_t i = 0; i < n; ++i) want.push_back(A.get(i));
      std::string mismatch = firstMismatch(B, want);
      CHECK_MESSAGE(mismatch.empty(), mismatch);
    }
}

// A start off 16 bytes (off = 1, 3, 7) once took the tensor map in pieces, which
// the H100 refused with an illegal instruction (a tensor map's innermost coordinate
// must fall on a 16-byte boundary; the interpreter now faults the same way, below):
// such rows are copied element by element by the elected thread.
TEST_CASE("interpreter: tma_copy from a run-time column: bulk inside, tensor-map pieces at the end, element by element when misaligned") {
  auto module = compile(kTmaRows, Target::hopper());
  for (int32_t off : {0, 4, 1, 3, 7, 1000})
    for (Shape s : std::vector<Shape>{{3, 1032}, {1, 2048}, {2, 1100}})
      for (const interp::Options& options : schedules()) {
        int32_t M = s[0], N = s[1];
        Case c;
        HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(M) * N);
        HostBuffer& B = c.buffer(ir::DType::Float32, int64_t(M) * 1024);
        randomFill(A, 61);
        B.fill(kPoison);
        c.args.pointer("A", A);
        c.args.pointer("B", B);
        c.args.dim("M", M);
        c.args.dim("N", N);
        c.args.scalar("off", off);
        INFO("off " << off << " M " << M << " N " << N);
        interp::Result r = interp::run(kernelNamed(*module, "shifted"), c.args, options);
        REQUIRE_MESSAGE(r.ok, r.text());
        std::vector<double> want;
        for (int64_t i = 0; i < M; ++i)
          for (int64_t j = 0; j < 1024; ++j) want.push_back(off + j < N ? A.get(i * N + off + j) : 0.0);
        std::string mismatch = firstMismatch(B, want);
        CHECK_MESSAGE(mismatch.empty(), mismatch);
      }
}

// TileLang's `for i in Parallel(N) { f[0, i] = ... }` on a (1, N) fragment, with (1,)
// row statistics read as m[0] (its clamp_value_range test): the loop gains the unit
// axis (sema, withUnitAxis) and runs over the fragment's own shape.
TEST_CASE("interpreter: a (1, N) fragment written as f[0, i] in Parallel(N), (1,) statistics read as m[0]") {
  const std::string source = R"(
kernel clamp_row(A: Tensor((1, N), float32), B: Tensor((1, N), float32)) {
  with Kernel(ceildiv(N, 128), threads=128) as bx {
    f = alloc_fragment((1, 128), float32);
    lo = alloc_fragment((1,), float32);
    hi = alloc_fragment((1,), float32);
    copy(A[0, bx * 128], f);
    reduce_min(f, lo, dim=1);
    reduce_max(f, hi, dim=1);
    for i in Parallel(128) {
      f[0, i] = clamp(f[0, i], lo[0] * 0.5, hi[0] * 0.5);
    }
    copy(f, B[0, bx * 128]);
  }
}
)";
  checkAllVariants(source, {{128}, {300}, {1}, {129}}, [](Case& c, const Shape& s) {
    int32_t N = s[0];
    HostBuffer& A = c.buffer(ir::DType::Float32, N);
    HostBuffer& B = c.buffer(ir::DType::Float32, N);
    randomFill(A, 77);
    B.fill(kPoison);
    c.args.pointer("A", A);
    c.args.pointer("B", B);
    c.args.dim("N", N);
    c.output = &B;
    for (int64_t t = 0; t * 128 < N; ++t) {
      // The tile's padding past N reads 0 (the copy's safe value), which the min and
      // max see, as TileLang's do.
      float lo = 0, hi = 0;
      bool first = true;
      for (int64_t j = 0; j < 128; ++j) {
        float v = t * 128 + j < N ? float(A.get(t * 128 + j)) : 0.0f;
        lo = first ? v : std::min(lo, v);
        hi = first ? v : std::max(hi, v);
        first = false;
      }
      for (int64_t j = 0; j < 128 && t * 128 + j < N; ++j)
        c.expected.push_back(std::min(std::max(float(A.get(t * 128 + j)), lo * 0.5f), hi * 0.5f));
    }
  });
}

// TileLang's `with T.sblock(...)` scopes (its copy_oob_lexical_scope test): each
// scope's annotate_safe_value holds for the copies in it; B = the inner copy (-99
// past A), C = the outer one (-1 past A).
TEST_CASE("interpreter: annotate_safe_value scoped by with sblock(...), ragged shapes") {
  const std::string source = R"(
kernel scoped(A: Tensor((M, N), int32), B: Tensor((64, 64), int32), C: Tensor((64, 64), int32)) {
  with Kernel(1, threads=128) {
    inner = alloc_shared((64, 64), int32);
    outer = alloc_shared((64, 64), int32);
    with sblock("outer") {
      reads();
      writes();
      annotate_safe_value({A: -1});
      with sblock("inner") {
        annotate_safe_value({A: -99});
        copy(A[0:64, 0:64], inner);
      }
      copy(A[0:64, 0:64], outer);
      copy(inner, B);
      copy(outer, C);
    }
  }
}
)";
  auto module = compile(source, Target::hopper());
  for (Shape s : std::vector<Shape>{{60, 60}, {64, 64}, {1, 70}, {100, 3}}) {
    for (ir::Kernel& kernel : module->kernels) {
      int32_t M = s[0], N = s[1];
      Case c;
      HostBuffer& A = c.buffer(ir::DType::Int32, int64_t(M) * N);
      HostBuffer& B = c.buffer(ir::DType::Int32, 64 * 64);
      HostBuffer& C = c.buffer(ir::DType::Int32, 64 * 64);
      randomFill(A, 9);
      B.fill(kPoison);
      C.fill(kPoison);
      c.args.pointer("A", A);
      c.args.pointer("B", B);
      c.args.pointer("C", C);
      c.args.dim("M", M);
      c.args.dim("N", N);
      INFO(kernel.name << " M " << M << " N " << N);
      interp::Result r = interp::run(kernel, c.args, {});
      if (!r.ok && r.text().find("assum") != std::string::npos) continue;  // a variant these arguments do not meet
      REQUIRE_MESSAGE(r.ok, r.text());
      std::vector<double> wantB, wantC;
      for (int64_t i = 0; i < 64; ++i)
        for (int64_t j = 0; j < 64; ++j) {
          bool inside = i < M && j < N;
          wantB.push_back(inside ? A.get(i * N + j) : -99.0);
          wantC.push_back(inside ? A.get(i * N + j) : -1.0);
        }
      std::string mismatch = firstMismatch(B, wantB);
      CHECK_MESSAGE(mismatch.empty(), mismatch);
      mismatch = firstMismatch(C, wantC);
      CHECK_MESSAGE(mismatch.empty(), mismatch);
    }
  }
}

TEST_CASE("interpreter catches: a TMA load whose innermost coordinate is not on a 16-byte boundary") {
  const std::string source = R"(
kernel at_column(A: Tensor((M, 64), float32), B: Tensor((M, 64), float32), col: int32) {
  with Kernel(ceildiv(M, 16), threads=128) as (bx) {
    s = alloc_shared((16, 64), float32);
    bar = alloc_barrier(1);
    D = tma_descriptor(A, box=(16, 64));
    tx = get_thread_binding();
    if tx == 0 {
      mbarrier_expect_tx(bar, 16 * 64 * 4);
      tma_load(D, bar, s, (bx * 16, col));
      barrier_arrive(bar);
    }
    mbarrier_wait_parity(bar, 0);
    copy(s, B[bx * 16, 0]);
  }
}
)";
  auto module = compile(source, Target::hopper());
  for (int32_t col : {0, 4, 1, 6}) {
    Case c;
    HostBuffer& A = c.buffer(ir::DType::Float32, 32 * 64);
    HostBuffer& B = c.buffer(ir::DType::Float32, 32 * 64);
    randomFill(A, 5);
    B.fill(kPoison);
    c.args.pointer("A", A);
    c.args.pointer("B", B);
    c.args.dim("M", 32);
    c.args.scalar("col", col);
    INFO("col " << col);
    interp::Result r = interp::run(module->kernels.front(), c.args, {});
    if (col % 4 == 0) {
      CHECK_MESSAGE(r.ok, r.text());
    } else {
      REQUIRE_FALSE(r.ok);
      CHECK(r.text().find("not on a 16-byte boundary") != std::string::npos);
    }
  }
}

TEST_CASE("interpreter: tma_copy into and out of the two halves of a shared tile, ragged M and N") {
  auto module = compile(kTmaRows, Target::hopper());
  checkKernel(*module, "halves", {{16, 64}, {17, 68}, {5, 128}, {40, 132}, {1, 4}}, [](Case& c, const Shape& s) {
    bindCopy2d(c, s, ir::DType::Float32);
    int32_t M = s[0], N = s[1];
    const HostBuffer& A = *c.args.pointer("A");
    c.expected.clear();
    for (int64_t i = 0; i < M; ++i) {
      int64_t block = i / 8, partner = (block ^ 1) * 8 + i % 8;  // row blocks of 8 swapped in pairs
      for (int64_t j = 0; j < N; ++j) c.expected.push_back(partner < M ? A.get(partner * N + j) : 0.0);
    }
  });
}

TEST_CASE("interpreter catches: a bulk tma_copy without its barrier wait reads the tile before it lands") {
  auto module = compile(kTmaRows, Target::hopper());
  ir::Kernel& rows = kernelNamed(*module, "rows");
  REQUIRE(removeStmts(rows, [](const ir::StmtNode& s) { return isIntrinsic(s, ir::IntrinsicOp::MbarrierWaitParity); }) ==
          1);
  Case c;
  bindCopy2d(c, {2, 2048}, ir::DType::Float32);
  interp::Options late;  // the bulk load lands at the barrier's wait, which is gone
  interp::Result r = interp::run(rows, c.args, late);
  CHECK((!r.ok || !firstMismatch(*c.output, c.expected).empty()));
}

// tests/gpu/kernels/cluster_mask.tl (issue 20 item 6): copy_cluster(cluster_mask=) as
// TileLang means it (the mask's blocks hold its lowest rank's tile, the others their
// own), on both variants, and copy_cluster(dst_block=) under a condition on the block.
const std::string kClusterMask = *readFile(TLC_SOURCE_DIR "/tests/gpu/kernels/cluster_mask.tl");

TEST_CASE("interpreter: copy_cluster(cluster_mask=0b0011): blocks 0 and 1 hold block 0's tile, 2 and 3 their own") {
  auto module = compile(kClusterMask, Target::hopper());
  for (const char* variant : {"multicast_aligned", "multicast"})
    checkKernel(*module, variant, {{16, 256}, {17, 264}, {40, 72}, {1, 8}, {33, 520}}, [](Case& c, const Shape& s) {
      int32_t M = s[0], N = s[1];
      const int32_t BM = 16, BN = 64;
      HostBuffer& A = c.buffer(ir::DType::Float16, int64_t(M) * N);
      HostBuffer& B = c.buffer(ir::DType::Float16, int64_t(M) * N);
      randomFill(A, 67);
      B.fill(kPoison);
      c.args.pointer("A", A);
      c.args.pointer("B", B);
      c.args.dim("M", M);
      c.args.dim("N", N);
      c.output = &B;
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
          int64_t bx = j / BN, rank = bx % 4;
          int64_t from = rank <= 1 ? (bx - rank) * BN + j % BN : j;  // block 0's column in the mask
          c.expected.push_back(from < N ? A.get(i * N + from) : 0.0);
        }
      (void)BM;
    });
}

// A run the interpreter must refuse, naming `phrase` (a fault, a deadlock).
void checkCaught(const ir::Kernel& k, const Case& c, const std::string& phrase) {
  interp::Result r = interp::run(k, c.args);
  CHECK_FALSE(r.ok);
  CHECK(r.text().find(phrase) != std::string::npos);
}

// The multicast rings' buffers: A (iters, 64, 64) random, B (2, iters, 64, 64)
// poisoned, each block's B expected to hold every tile of A; `iters` bound as a dim
// where the kernel takes it (cluster_mask.tl's ring) and not where it is a const.
void bindRing(Case& c, int64_t iters, bool itersDim) {
  const int64_t tile = 64;
  HostBuffer& A = c.buffer(ir::DType::Float32, iters * tile * tile);
  HostBuffer& B = c.buffer(ir::DType::Float32, 2 * iters * tile * tile);
  randomFill(A, 79);
  B.fill(kPoison);
  c.args.pointer("A", A);
  c.args.pointer("B", B);
  if (itersDim) c.args.dim("iters", int32_t(iters));
  c.output = &B;
  for (int rank = 0; rank < 2; ++rank)
    for (int64_t e = 0; e < iters * tile * tile; ++e) c.expected.push_back(A.get(e));
}

// tma_copy(cluster_mask=0b0110) under the program's barrier: ranks 1 and 2 of each
// cluster of 4 hold rank 1's tile, ranks 0 and 3 their own (TileLang's multicast
// tma_copy); one variant (a user protocol), ragged M and N (N % 8 == 0: the map's).
void bindUserMulticast(Case& c, const Shape& s) {
  int32_t M = s[0], N = s[1];
  const int32_t BN = 64;
  HostBuffer& A = c.buffer(ir::DType::Float16, int64_t(M) * N);
  HostBuffer& B = c.buffer(ir::DType::Float16, int64_t(M) * N);
  randomFill(A, 73);
  B.fill(kPoison);
  c.args.pointer("A", A);
  c.args.pointer("B", B);
  c.args.dim("M", M);
  c.args.dim("N", N);
  c.output = &B;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      int64_t bx = j / BN, rank = bx % 4;
      int64_t from = rank == 1 || rank == 2 ? (bx - rank + 1) * BN + j % BN : j;  // rank 1's column
      c.expected.push_back(from < N ? A.get(i * N + from) : 0.0);
    }
}

TEST_CASE("interpreter: tma_copy(cluster_mask=0b0110): ranks 1 and 2 hold rank 1's tile, 0 and 3 their own") {
  auto module = compile(kClusterMask, Target::hopper());
  checkKernel(*module, "user_multicast", {{16, 256}, {17, 264}, {40, 72}, {1, 8}, {33, 520}}, bindUserMulticast);
}

TEST_CASE("interpreter catches: a tma_copy multicast without the kernel's first cluster barrier") {
  // The multicast signals the barriers of ranks 1 and 2; without the cluster barrier
  // after their initialisation, the issuing block may signal one not yet initialised.
  auto module = compile(kClusterMask, Target::hopper());
  ir::Kernel& k = kernelNamed(*module, "user_multicast");
  int clusterBarriers = 0;  // the kernel's first (after the barriers' initialisation), not its last
  REQUIRE(removeStmts(k, [&](const ir::StmtNode& s) {
            return s.kind == ir::StmtKind::Barrier && s.as<ir::BarrierStmt>().barrier == ir::BarrierKind::ClusterSync &&
                   clusterBarriers++ == 0;
          }) == 1);
  Case c;
  bindUserMulticast(c, {16, 256});
  checkCaught(k, c, "used before mbarrier_init");
}

TEST_CASE("interpreter: a multicast tma_copy ring with a cluster barrier per iteration (cluster_mask.tl's ring)") {
  // A cluster of 2 cycles a ring of 4 tiles and barriers: every slot under both
  // parities for 8 and 9 iterations; both blocks receive every tile.
  auto module = compile(kClusterMask, Target::hopper());
  checkKernel(*module, "ring", {{1, 0}, {3, 0}, {8, 0}, {9, 0}},
              [](Case& c, const Shape& s) { bindRing(c, s[0], /*itersDim=*/true); });
}

TEST_CASE("interpreter catches: TileLang's multicast tma_copy ring as written lets rank 0 refill a slot rank 1 still uses") {
  // tests/tilelang/ports/tma_copy_cluster_mask.tl (TileLang's test, unchanged): rank 0
  // waits only for its own barriers, so it may issue the load of iteration k + 4 into
  // rank 1's slot before rank 1 has waited for iteration k; the bytes land in the
  // phase rank 1 still waits on, and it never completes. The schedule that runs rank 0
  // ahead shows it (cluster_mask.tl's ring adds the cluster barrier that orders it).
  auto module = compile(*readFile(TLC_SOURCE_DIR "/tests/tilelang/ports/tma_copy_cluster_mask.tl"), Target::hopper());
  ir::Kernel& k = kernelNamed(*module, "main");
  Case c;
  bindRing(c, 8, /*itersDim=*/false);  // the port's iters = 8
  checkCaught(k, c, "deadlock");
}

// copy_cluster(dst_block=, remote_barrier=got[i]): the ring of cluster_ring.tl with two
// barriers taken in turn (round s signals got[s % 2] of the next rank, which waits on
// its own got[s % 2] at parity (s / 2) % 2), in clusters of 4 (3 rounds: got[0] twice,
// got[1] once): a bulk DSMEM copy where the tiles are laid out alike, SIMT remote
// stores and a remote arrive where t1 is swizzled. B = A exactly when every round
// signalled the element it names.
TEST_CASE("interpreter: copy_cluster(remote_barrier=got[i]) on either element of a barrier array, ragged M") {
  const std::string source = R"(
const BM = 16;
const BN = 64;
const CL = 4;
kernel ring(A: Tensor((M, N), float32), B: Tensor((M, N), float32)) {
  with Kernel(CL * ceildiv(M, CL * BM), ceildiv(N, BN), threads=128, cluster_dims=(CL, 1, 1)) as (bx, by) {
    t0 = alloc_shared((BM, BN), float32);
    t1 = alloc_shared((BM, BN), float32);
    SWIZZLE
    got = alloc_barrier([1, 1]);
    copy(A[bx * BM, by * BN], t0);
    rank = block_rank_in_cluster();
    for s in serial(CL - 1) {
      if s % 2 == 0 {
        copy_cluster(t0, t1, dst_block=(rank + 1) % CL, remote_barrier=got[s % 2]);
      } else {
        copy_cluster(t1, t0, dst_block=(rank + 1) % CL, remote_barrier=got[s % 2]);
      }
      mbarrier_wait_parity(got[s % 2], (s // 2) % 2);
      cluster_sync();
    }
    copy(t1, B[(bx - rank + (rank + 1) % CL) * BM, by * BN]);
  }
}
)";
  for (const char* swizzle : {"", "annotate_layout({t1: swizzled(t1, 128)});"}) {
    std::string text = source;
    text.replace(text.find("SWIZZLE"), 7, swizzle);
    auto module = compile(text, Target::hopper());
    std::ostringstream ir;
    ir::print(*module, ir);
    INFO(ir.str());
    // The second barrier (8 bytes past the first) is signalled, not only the first.
    CHECK(ir.str().find((*swizzle ? "mbarrier_arrive_remote(" : "bulk_copy_dsmem(")) != std::string::npos);
    for (const ir::Kernel& k : module->kernels) {
      INFO(k.name);
      checkKernel(*module, k.name, {{64, 64}, {65, 64}, {130, 128}, {1, 64}}, [](Case& c, const Shape& s) {
        int32_t M = s[0], N = s[1];
        HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(M) * N);
        HostBuffer& B = c.buffer(ir::DType::Float32, int64_t(M) * N);
        randomFill(A, 83);
        B.fill(kPoison);
        c.args.pointer("A", A);
        c.args.pointer("B", B);
        c.args.dim("M", M);
        c.args.dim("N", N);
        c.output = &B;
        // After 3 rounds t1 holds the tile of rank (rank + 1) % 4 (3 steps back round
        // the ring), stored to the rows it came from: B = A.
        for (int64_t e = 0; e < int64_t(M) * N; ++e) c.expected.push_back(A.get(e));
      });
    }
  }
}

TEST_CASE("interpreter: copy_cluster(dst_block=1) under `if rank == 0`, ordered by cluster_sync(), ragged M") {
  auto module = compile(kClusterMask, Target::hopper());
  ir::Kernel& push = kernelNamed(*module, "push");
  checkKernel(*module, "push", {{16, 64}, {32, 64}, {33, 64}, {1, 64}, {100, 64}}, [](Case& c, const Shape& s) {
    int32_t M = s[0];
    const int32_t BM = 16, BN = 64;
    HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(M) * BN);
    HostBuffer& B = c.buffer(ir::DType::Float32, int64_t(M) * BN);
    randomFill(A, 71);
    B.fill(kPoison);
    c.args.pointer("A", A);
    c.args.pointer("B", B);
    c.args.dim("M", M);
    c.output = &B;
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < BN; ++j) {
        int64_t block = i / BM;
        c.expected.push_back(block % 2 == 0 ? -1.0 : A.get(((block - 1) * BM + i % BM) * BN + j));
      }
  });
  // Without the program's cluster_sync() after the copy, block 1 may store its dst
  // before block 0's stores land: the schedule that runs block 1 first shows it.
  // That barrier's line: the first cluster_sync() after the copy in the source.
  int line = 0, copyLine = 0;
  {
    std::istringstream lines(kClusterMask);
    std::string text;
    for (int n = 1; std::getline(lines, text); ++n) {
      if (text.find("copy_cluster(src, dst, dst_block=1)") != std::string::npos) copyLine = n;
      if (copyLine && !line && n > copyLine && text.find("cluster_sync();") != std::string::npos) line = n;
    }
  }
  REQUIRE(line > 0);
  int removed = 0;
  forEachStmt(push.body, [&](ir::StmtRef& s) {
    if (s->kind == ir::StmtKind::Barrier && s->as<ir::BarrierStmt>().barrier == ir::BarrierKind::ClusterSync &&
        s->range.begin.line == line && removed++ == 0)
      s = std::make_shared<ir::SeqStmt>(s->range);
  });
  REQUIRE(removed == 1);
  Case c;
  HostBuffer& A = c.buffer(ir::DType::Float32, 32 * 64);
  HostBuffer& B = c.buffer(ir::DType::Float32, 32 * 64);
  randomFill(A, 71);
  B.fill(kPoison);
  c.args.pointer("A", A);
  c.args.pointer("B", B);
  c.args.dim("M", 32);
  interp::Options descending;
  descending.order = interp::ThreadOrder::Descending;
  interp::Result r = interp::run(push, c.args, descending);
  bool wrong = !r.ok;
  for (int64_t i = 16 * 64; i < 32 * 64 && !wrong; ++i) wrong = B.get(i) != A.get(i - 16 * 64);
  CHECK(wrong);
}

// tests/gpu/kernels/loop_kinds.tl (issue 20 item 8): Pipelined(start, stop) with
// TileLang's manual schedule (pipelined from 0, the start added to the variable),
// vectorized and unroll loops, every variant, ragged shapes.
const std::string kLoopKinds = *readFile(TLC_SOURCE_DIR "/tests/gpu/kernels/loop_kinds.tl");

TEST_CASE("interpreter: Pipelined(1, n, order=, stage=) and vectorized / unroll loops, every variant, ragged shapes") {
  auto module = compile(kLoopKinds, Target::hopper());
  for (const char* variant : {"pipe_aligned", "pipe"})
    checkKernel(*module, variant, {{16, 64}, {17, 200}, {1, 8}, {40, 72}, {33, 520}}, [](Case& c, const Shape& s) {
      bindCopy2d(c, s, ir::DType::Float16);
      int32_t N = s[1];
      const HostBuffer& A = *c.args.pointer("A");
      for (int64_t i = 0; i < A.elements(); ++i)
        if (i % N >= 64) c.expected[size_t(i)] = double(float(A.get(i)) * 2.0f);
    });
  for (const char* variant : {"vec"})
    checkKernel(*module, variant, {{1, 1}, {130, 13}, {128, 8}, {7, 29}}, [](Case& c, const Shape& s) {
      bindCopy2d(c, s, ir::DType::Float32);
      for (double& e : c.expected) e = double(float(e) * 3.0f);
    });
}

// tests/gpu/kernels/views.tl (issue 20 item 7): view / reshape of global tensors (the
// same bytes under a new shape or dtype), every variant, ragged shapes.
const std::string kViews = *readFile(TLC_SOURCE_DIR "/tests/gpu/kernels/views.tl");

TEST_CASE("interpreter: reshape and view of global tensors (new shape, new dtype, swapped dims), ragged shapes") {
  auto module = compile(kViews, Target::hopper());
  for (const char* variant : {"flat2d_aligned", "flat2d"})
    for (const interp::Options& options : schedules()) {
      Case c;
      HostBuffer& A = c.buffer(ir::DType::Float32, 4096);
      HostBuffer& B = c.buffer(ir::DType::Float32, 4096);
      randomFill(A, 73);
      B.fill(kPoison);
      c.args.pointer("A", A);
      c.args.pointer("B", B);
      interp::Result r = interp::run(kernelNamed(*module, variant), c.args, options);
      REQUIRE_MESSAGE(r.ok, r.text());
      std::vector<double> want;
      for (int64_t i = 0; i < 4096; ++i) want.push_back(A.get(i));
      std::string mismatch = firstMismatch(B, want);
      CHECK_MESSAGE(mismatch.empty(), mismatch);
    }
  for (const char* variant : {"halves_aligned", "halves"})
    for (int32_t R : {1, 16, 17, 40})
      for (const interp::Options& options : schedules()) {
        Case c;
        HostBuffer& A = c.buffer(ir::DType::UInt32, int64_t(R) * 64);
        HostBuffer& B = c.buffer(ir::DType::UInt16, int64_t(R) * 128);
        randomFill(A, 79);
        for (int64_t i = 0; i < A.elements(); ++i) A.set(i, double((uint32_t(i) * 2654435761u) & 0x7bff7bffu));
        B.fill(kPoison);
        c.args.pointer("A", A);
        c.args.pointer("B", B);
        c.args.dim("R", R);
        INFO(variant << " R = " << R);
        interp::Result r = interp::run(kernelNamed(*module, variant), c.args, options);
        REQUIRE_MESSAGE(r.ok, r.text());
        std::vector<double> want;
        for (int64_t i = 0; i < A.elements(); ++i) {
          uint32_t w = uint32_t(A.get(i));
          want.push_back(double(w & 0xffff));  // little-endian: the low half first
          want.push_back(double(w >> 16));
        }
        std::string mismatch = firstMismatch(B, want);
        CHECK_MESSAGE(mismatch.empty(), mismatch);
      }
  for (const char* variant : {"swapdims_aligned", "swapdims"})  // M % 4 == 0: the aligned variant's assumption
    checkKernel(*module, variant, {{32, 32}, {20, 45}, {4, 1}, {64, 12}, {40, 73}}, [](Case& c, const Shape& s) {
      int32_t M = s[0], N = s[1];
      HostBuffer& D = c.buffer(ir::DType::Float32, int64_t(M) * N);
      HostBuffer& B = c.buffer(ir::DType::Float32, int64_t(M) * N);
      randomFill(D, 83);
      B.fill(kPoison);
      c.args.pointer("D", D);
      c.args.pointer("B", B);
      c.args.dim("M", M);
      c.args.dim("N", N);
      c.output = &B;
      for (int64_t i = 0; i < D.elements(); ++i) c.expected.push_back(D.get(i));
    });
}

// tileview: B = 2 A + column through the tile's (64, 16) reshape, H the bytes of B as
// float16 through a view; rowscan: Y = each row's inclusive prefix sums, scanned
// through a (1, W) view of the row's tile (tests/gpu/kernels/views.tl).
// The buffers of the view kernels: A (rows x 64 float32, integers, so that the
// float32 results' low halves are 0 and their high halves finite float16 bit
// patterns: the interpreter moves float16 values, a NaN pattern would not keep its
// bits), B (the float32 results) and H (their bytes as float16 halves), the outputs
// poisoned, bound with the row count as `rowDim`.
struct ViewBuffers {
  HostBuffer& A;
  HostBuffer& B;
  HostBuffer& H;
};

ViewBuffers bindViewBuffers(Case& c, int32_t rows, uint32_t seed, const char* rowDim) {
  HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(rows) * 64);
  HostBuffer& B = c.buffer(ir::DType::Float32, int64_t(rows) * 64);
  HostBuffer& H = c.buffer(ir::DType::UInt16, int64_t(rows) * 128);
  randomFill(A, seed);
  for (int64_t i = 0; i < A.elements(); ++i) A.set(i, std::round(A.get(i)));
  B.fill(kPoison);
  H.fill(kPoison);
  c.args.pointer("A", A);
  c.args.pointer("B", B);
  c.args.pointer("H", H);
  c.args.dim(rowDim, rows);
  c.output = &B;
  return {A, B, H};
}

// The two float16 halves of a float32, little-endian: the low half first.
void appendHalves(std::vector<double>& halves, float value) {
  uint32_t w;
  std::memcpy(&w, &value, 4);
  halves.push_back(double(w & 0xffff));
  halves.push_back(double(w >> 16));
}

void bindTileView(Case& c, const Shape& s) {
  ViewBuffers v = bindViewBuffers(c, s[0], 97, "R");
  std::vector<double> halves;
  for (int64_t i = 0; i < v.A.elements(); ++i) {
    float b = float(v.A.get(i)) * 2.0f + float(i % 64);
    c.expected.push_back(double(b));
    appendHalves(halves, b);
  }
  c.moreOutputs = {{&v.H, halves}};
}

void bindRowScan(Case& c, const Shape& s) {
  int32_t NT = s[0];
  const int64_t W = 100;
  HostBuffer& X = c.buffer(ir::DType::Float32, NT * W);
  HostBuffer& Y = c.buffer(ir::DType::Float32, NT * W);
  randomFill(X, 101);
  Y.fill(kPoison);
  c.args.pointer("X", X);
  c.args.pointer("Y", Y);
  c.args.dim("NT", NT);
  for (int64_t r = 0; r < NT; ++r) {
    float acc = 0.0f;
    for (int64_t j = 0; j < W; ++j) c.expected.push_back(double(acc = acc + float(X.get(r * W + j))));
  }
  c.output = &Y;
}

// Removes the `n`-th block barrier (pre-order) of `kernel`; whether there was one.
bool removeNthBarrier(ir::Kernel& kernel, int n) {
  int seen = 0;
  return removeStmts(kernel, [&](const ir::StmtNode& s) {
           return s.kind == ir::StmtKind::Barrier && s.as<ir::BarrierStmt>().barrier == ir::BarrierKind::SyncThreads &&
                  seen++ == n;
         }) == 1;
}

TEST_CASE("interpreter: views of shared tiles (reshape, float16 view, cumsum through a view), every variant, ragged shapes") {
  for (const Target& target : targets()) {
    auto module = compile(kViews, target);
    INFO(target.arch());
    for (const char* variant : {"tileview_aligned", "tileview"})
      checkKernel(*module, variant, {{1, 0}, {16, 0}, {17, 0}, {40, 0}, {53, 0}}, bindTileView);
    for (const char* variant : {"rowscan_aligned", "rowscan"})
      checkKernel(*module, variant, {{1, 0}, {3, 0}, {7, 0}}, bindRowScan);
    // One name of the tile's bytes is the tile: the view's tile has one allocation.
    const ir::Kernel& k = kernelNamed(*module, "tileview");
    int64_t shared = 0;
    for (const auto& b : k.allocations)
      if (b->scope == ir::MemScope::Shared) {
        CHECK(b->sharedOffset == 0);
        shared += b->viewOf ? 0 : 1;
      }
    CHECK(shared == 1);
    CHECK(k.dynamicSharedBytes == 16 * 64 * 4);
  }
}

// Views of fragments (tests/gpu/kernels/views.tl fragview, fragreduce): one
// fragment's registers written and read through reshapes of other shapes, 128
// threads over 576 and 240 elements (not multiples of the threads).
void bindFragView(Case& c, const Shape& s) {
  int32_t NB = s[0];
  HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(NB) * 576);
  HostBuffer& B = c.buffer(ir::DType::Float32, int64_t(NB) * 576);
  randomFill(A, 113);
  B.fill(kPoison);
  c.args.pointer("A", A);
  c.args.pointer("B", B);
  c.args.dim("NB", NB);
  for (int64_t b = 0; b < NB; ++b)
    for (int64_t k = 0; k < 576; ++k)  // 2 A through f (16, 36), plus the row of g (48, 12), minus 0.5 through h
      c.expected.push_back(double(float(A.get(b * 576 + k)) * 2.0f + float(k / 12) - 0.5f));
  c.output = &B;
}

void bindFragReduce(Case& c, const Shape& s) {
  int32_t NB = s[0];
  HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(NB) * 240);
  HostBuffer& S = c.buffer(ir::DType::Float32, int64_t(NB) * 15);
  HostBuffer& X = c.buffer(ir::DType::Float32, int64_t(NB) * 12);
  HostBuffer& Y = c.buffer(ir::DType::Float32, int64_t(NB) * 60);
  // Small integers: every order of the sums is exact, the comparison bit-exact.
  for (int64_t i = 0; i < A.elements(); ++i) A.set(i, double(int64_t((uint32_t(i + 7) * 2654435761u) >> 24) % 41 - 20));
  for (HostBuffer* out : {&S, &X, &Y}) out->fill(kPoison);
  c.args.pointer("A", A);
  c.args.pointer("S", S);
  c.args.pointer("X", X);
  c.args.pointer("Y", Y);
  c.args.dim("NB", NB);
  std::vector<double> sums, maxima, absMaxima;
  for (int64_t b = 0; b < NB; ++b) {
    auto a = [&](int64_t k) { return A.get(b * 240 + k); };
    for (int64_t r = 0; r < 15; ++r) {  // reshape (15, 16), dim 1
      double acc = 0;
      for (int64_t k = 0; k < 16; ++k) acc += a(r * 16 + k);
      sums.push_back(acc);
    }
    for (int64_t r = 0; r < 12; ++r) {  // view (12, 20), dim 1
      double m = a(r * 20);
      for (int64_t k = 1; k < 20; ++k) m = std::max(m, a(r * 20 + k));
      maxima.push_back(m);
    }
    for (int64_t i = 0; i < 3; ++i)  // reshape (3, 4, 20), dim 1
      for (int64_t k = 0; k < 20; ++k) {
        double m = 0;
        for (int64_t j = 0; j < 4; ++j) m = std::max(m, std::fabs(a(i * 80 + j * 20 + k)));
        absMaxima.push_back(m);
      }
  }
  c.expected = sums;
  c.output = &S;
  c.moreOutputs = {{&X, maxima}, {&Y, absMaxima}};
}

TEST_CASE("interpreter: views of fragments (writes through a reshape, a copy out of a third name, reductions over "
          "reshapes by shuffles and through shared scratch), every variant, ragged block counts") {
  for (const Target& target : targets()) {
    auto module = compile(kViews, target);
    INFO(target.arch());
    // One variant: groups of one element assume no alignment.
    for (const ir::Kernel& k : module->kernels) CHECK(k.name != "fragview_aligned");
    checkKernel(*module, "fragview", {{1, 0}, {2, 0}, {5, 0}}, bindFragView);
    for (const char* variant : {"fragreduce_aligned", "fragreduce"})
      checkKernel(*module, variant, {{1, 0}, {3, 0}, {4, 0}}, bindFragReduce);
    // A view owns no registers: fragview has one Local array (f's), 576 elements over
    // 128 threads one at a time (h's rows of 9 set the group's vec): 5 a thread.
    const ir::Kernel& k = kernelNamed(*module, "fragview");
    std::vector<std::string> locals;
    for (const auto& b : k.allocations)
      if (b->scope == ir::MemScope::Local) locals.push_back(b->name + "[" + std::to_string(*ir::asConstInt(b->shape[0])) + "]");
    CHECK(locals == std::vector<std::string>{"f[5]"});
    // fragreduce's reductions: the (15, 16) sum by shuffles, the two others through
    // shared scratch (their partials tiles).
    const ir::Kernel& r = kernelNamed(*module, "fragreduce");
    int scratch = 0;
    for (const auto& b : r.allocations) scratch += b->scope == ir::MemScope::Shared;
    CHECK(scratch == 4);
  }
}

TEST_CASE("interpreter: a reduction into a view of a fragment and the view read as a broadcast "
          "(tests/golden/lower/view_fragment_loops.tl), ragged M") {
  checkAllVariants(*readFile(TLC_SOURCE_DIR "/tests/golden/lower/view_fragment_loops.tl"),
                   {{1, 0}, {4, 0}, {6, 0}, {13, 0}}, [](Case& c, const Shape& s) {
    int32_t M = s[0];
    HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(M) * 48);
    HostBuffer& B = c.buffer(ir::DType::Float32, int64_t(M) * 48);
    HostBuffer& R = c.buffer(ir::DType::Float32, M);
    randomFill(A, 127);
    B.fill(kPoison);
    R.fill(kPoison);
    c.args.pointer("A", A);
    c.args.pointer("B", B);
    c.args.pointer("R", R);
    c.args.dim("M", M);
    std::vector<double> maxima;
    for (int64_t r = 0; r < M; ++r) {
      float m = float(A.get(r * 48));
      for (int64_t j = 1; j < 48; ++j) m = std::max(m, float(A.get(r * 48 + j)));
      maxima.push_back(double(m));
      for (int64_t j = 0; j < 48; ++j) c.expected.push_back(double(float(A.get(r * 48 + j)) - m));
    }
    c.output = &B;
    c.moreOutputs = {{&R, maxima}};
  });
}

TEST_CASE("interpreter: a view of a local buffer (tests/golden/lower/view_local.tl), every variant, ragged N") {
  checkAllVariants(*readFile(TLC_SOURCE_DIR "/tests/golden/lower/view_local.tl"), {{1, 0}, {5, 0}, {33, 0}},
                   [](Case& c, const Shape& s) {
    int32_t N = s[0];
    HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(N) * 12);
    HostBuffer& B = c.buffer(ir::DType::Float32, int64_t(N) * 12);
    randomFill(A, 131);
    B.fill(kPoison);
    c.args.pointer("A", A);
    c.args.pointer("B", B);
    c.args.dim("N", N);
    for (int64_t k = 0; k < int64_t(N) * 12; ++k)
      c.expected.push_back(double(float(A.get(k)) * 2.0f + float((k % 12) / 4)));
    c.output = &B;
  });
}

TEST_CASE("interpreter: TMA into and out of a view of a shared tile (tests/golden/lower/view_tile_loops.tl), ragged M") {
  auto module = compile(*readFile(TLC_SOURCE_DIR "/tests/golden/lower/view_tile_loops.tl"), Target::hopper());
  for (const char* variant : {"k_aligned", "k"})
    checkKernel(*module, variant, {{1, 0}, {64, 0}, {100, 0}, {130, 0}}, [](Case& c, const Shape& s) {
      int32_t M = s[0];
      ViewBuffers v = bindViewBuffers(c, M, 103, "M");
      std::vector<double> halves;
      for (int64_t r = 0; r < M; ++r) {
        float acc = 0.0f;
        for (int64_t j = 0; j < 64; ++j) {
          float twice = float(v.A.get(r * 64 + j)) * 2.0f;
          c.expected.push_back(double(acc = acc + twice));  // B: the rows' prefix sums of 2 A
          appendHalves(halves, twice);                       // H: the bytes of 2 A
        }
      }
      c.moreOutputs = {{&v.H, halves}};
    });
}

TEST_CASE("interpreter: a transpose into a tile read through its reshape, a Pipelined loop over a viewed tile") {
  for (const Target& target : targets()) {
    INFO(target.arch());
    auto transposed = compile(*readFile(TLC_SOURCE_DIR "/tests/golden/lower/view_tile_transpose.tl"), target);
    for (const char* variant : {"k_aligned", "k"})
      checkKernel(*transposed, variant, {{64, 64}}, [](Case& c, const Shape&) {
        HostBuffer& A = c.buffer(ir::DType::Float32, 64 * 64);
        HostBuffer& B = c.buffer(ir::DType::Float32, 64 * 64);
        randomFill(A, 107);
        B.fill(kPoison);
        c.args.pointer("A", A);
        c.args.pointer("B", B);
        for (int64_t i = 0; i < 64; ++i)
          for (int64_t j = 0; j < 64; ++j) c.expected.push_back(A.get(j * 64 + i));
        c.output = &B;
      });
    // f[i] = sum over the rows r of the 8-row blocks of A of A[r, i] + A[r + 1, i] for
    // even r: v (512,) reads the (8, 64) tile's rows in pairs.
    auto pipelined = compile(*readFile(TLC_SOURCE_DIR "/tests/golden/lower/view_tile_pipelined.tl"), target);
    for (const ir::Kernel& k : pipelined->kernels)
      checkKernel(*pipelined, k.name, {{1, 0}, {8, 0}, {13, 0}, {40, 0}}, [](Case& c, const Shape& s) {
        int32_t K = s[0];
        HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(K) * 64);
        HostBuffer& B = c.buffer(ir::DType::Float32, 64);
        randomFill(A, 109);
        B.fill(kPoison);
        c.args.pointer("A", A);
        c.args.pointer("B", B);
        c.args.dim("K", K);
        int64_t blocks = (K + 7) / 8;
        for (int64_t i = 0; i < 64; ++i) {
          float f = 0.0f;
          for (int64_t b = 0; b < blocks; ++b) {
            auto at = [&](int64_t r) { return r < K ? float(A.get(r * 64 + i)) : 0.0f; };
            f = f + at(b * 8) + at(b * 8 + 1);
          }
          c.expected.push_back(double(f));
        }
        c.output = &B;
      });
  }
}

TEST_CASE("interpreter catches: a missing barrier between accesses through a shared tile and through its view") {
  // Each barrier of the general variants orders accesses through the two names:
  // tileview's first a load into the tile before the writes through the reshape
  // (other threads' elements), its second those writes before the stores from the
  // tile; rowscan's the load before the scan through the view, and the scan before
  // the stores. Without any one of them some output is wrong.
  for (const Target& target : targets()) {
    for (auto [name, barriers] : std::vector<std::pair<std::string, int>>{{"tileview", 2}, {"rowscan", 2}})
      for (int n = 0; n < barriers; ++n) {
        auto module = compile(kViews, target);
        ir::Kernel& kernel = kernelNamed(*module, name);
        INFO(target.arch() << " " << name << " without barrier " << n);
        REQUIRE(removeNthBarrier(kernel, n));
        bool caught = false;
        for (const interp::Options& options : schedules()) {
          Case c;
          if (name == "tileview") bindTileView(c, {37});
          else bindRowScan(c, {3});
          interp::Result r = interp::run(kernel, c.args, options);
          caught |= !r.ok || !firstMismatch(*c.output, c.expected).empty();
          for (auto& [output, expected] : c.moreOutputs) caught |= r.ok && !firstMismatch(*output, expected).empty();
        }
        CHECK(caught);
      }
  }
}

TEST_CASE("interpreter: alloc_global scratch, a buffer the caller passes (the launch function's C), ragged N") {
  auto module = compile(kViews, Target::hopper());
  for (const char* variant : {"workspace_aligned", "workspace"}) {
    bool found = false;
    for (const ir::Kernel& k : module->kernels) found |= k.name == variant;
    if (!found) continue;
    for (int32_t n : {1, 127, 128, 300, 1000})
      for (const interp::Options& options : schedules()) {
        Case c;
        HostBuffer& A = c.buffer(ir::DType::Float32, n);
        HostBuffer& B = c.buffer(ir::DType::Float32, n);
        HostBuffer& C = c.buffer(ir::DType::Float32, n);
        randomFill(A, 89);
        B.fill(kPoison);
        C.fill(kPoison);
        c.args.pointer("A", A);
        c.args.pointer("B", B);
        c.args.pointer("C", C);
        c.args.dim("N", n);
        INFO(variant << " N = " << n);
        interp::Result r = interp::run(kernelNamed(*module, variant), c.args, options);
        REQUIRE_MESSAGE(r.ok, r.text());
        std::vector<double> want;
        for (int64_t i = 0; i < n; ++i) want.push_back(double(float(A.get(i)) * 2.0f + 1.0f));
        std::string mismatch = firstMismatch(B, want);
        CHECK_MESSAGE(mismatch.empty(), mismatch);
      }
  }
  const ir::Kernel& k = kernelNamed(*module, "workspace");
  bool param = false;
  for (const auto& p : k.params) param |= p.name == "C" && p.kind == ir::ParamKind::Pointer;
  CHECK(param);
}

TEST_CASE("interpreter: per-warp tma_copy rows into a run-time row of a shared tile (TileLang's leader_scope test)") {
  auto module = compile(kTmaRows, Target::hopper());
  for (int32_t M : {1, 4, 5, 13})
    for (const interp::Options& options : schedules()) {
      Case c;
      HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(M) * 1024);
      HostBuffer& B = c.buffer(ir::DType::Float32, M);
      randomFill(A, 97);
      B.fill(kPoison);
      c.args.pointer("A", A);
      c.args.pointer("B", B);
      c.args.dim("M", M);
      INFO("M = " << M);
      interp::Result r = interp::run(kernelNamed(*module, "per_warp"), c.args, options);
      REQUIRE_MESSAGE(r.ok, r.text());
      std::vector<double> want;
      for (int64_t i = 0; i < M; ++i) want.push_back(double(float(A.get(i * 1024)) + float(A.get(i * 1024 + 1023))));
      std::string mismatch = firstMismatch(B, want);
      CHECK_MESSAGE(mismatch.empty(), mismatch);
    }
}

// ----------------------------------------------------------- tables of pointers

namespace {

// make_tensor(tab[bx], ...) over a table of pointers (TileLang's Tensor((G,), ptr)):
// block row bx reads the vector tab[bx] points to, through a copy into shared memory
// (cp.async on sm_80, a SIMT loop on sm_90a: no TMA and no vector width, since
// nothing is known of a loaded address) and element by element.
const char* kPointerTable = R"(
kernel gather_rows(tab: Tensor((G,), ptr), out: Tensor((G, n), float32)) {
  with Kernel(G, ceildiv(n, 64), threads=64) as (bx, by) {
    X = make_tensor(tab[bx], (n,), float32);
    s = alloc_shared((64,), float32);
    copy(X[by * 64], s);
    for i in Parallel(64) {
      out[bx, by * 64 + i] = s[i] * 2.0 + X[by * 64 + i];
    }
  }
}
)";

// Rows of `n` elements (the last one `short_` elements shorter), row g shifted by
// g * 4 bytes off 16-byte alignment; the table lists them in reverse order.
void bindPointerTable(Case& c, const Shape& s, int32_t short_ = 0) {
  int32_t g = s[0], n = s[1];
  std::vector<HostBuffer*> rows;
  for (int32_t r = 0; r < g; ++r) {
    HostBuffer& row = c.buffer(ir::DType::Float32, r == g - 1 ? n - short_ : n);
    row.addressOffset = 4 * (r % 4);
    randomFill(row, 40 + uint32_t(r));
    rows.push_back(&row);
  }
  std::vector<HostBuffer*> table(rows.rbegin(), rows.rend());
  HostBuffer& tab = c.buffer(ir::DType::Int64, g);
  HostBuffer& out = c.buffer(ir::DType::Float32, int64_t(g) * n);
  out.fill(kPoison);
  c.args.pointerTable("tab", tab, table);
  c.args.pointer("out", out);
  c.args.dim("G", g);
  c.args.dim("n", n);
  c.output = &out;
  for (int32_t b = 0; b < g; ++b)
    for (int32_t i = 0; i < n; ++i)  // a short row (short_ > 0) has no reference past its end
      c.expected.push_back(i < table[size_t(b)]->elements() ? float(table[size_t(b)]->get(i) * 3.0) : 0.0f);
}

}  // namespace

TEST_CASE("interpreter: make_tensor over a table of pointers, misaligned rows, ragged shapes, every variant") {
  checkAllVariants(kPointerTable, {{3, 131}, {1, 1}, {5, 64}, {4, 200}}, [](Case& c, const Shape& s) { bindPointerTable(c, s); });
}

TEST_CASE("interpreter catches: a row shorter than make_tensor's shape (the launcher cannot check a table)") {
  for (const Target& target : targets()) {
    auto module = compile(kPointerTable, target);
    ir::Kernel& general = module->kernels.back();  // the general entry (no assumption: the only one here)
    Case c;
    bindPointerTable(c, {2, 70}, /*short_=*/3);
    interp::Result r = interp::run(general, c.args);
    INFO(target.arch());
    CHECK_FALSE(r.ok);
    REQUIRE_FALSE(r.errors.empty());
    CHECK(r.errors[0].find("out-of-bounds read of global 'X'") != std::string::npos);
    CHECK(r.errors[0].find("argument 'tab'[0] holds 67 elements") != std::string::npos);
  }
}

namespace {

// tests/gpu/kernels/index_maps.tl cut to its constants and one kernel, so that each
// kernel runs with its own arguments under checkAllVariants.
std::string indexMapKernel(const std::string& name) {
  static const std::string text = *readFile(TLC_SOURCE_DIR "/tests/gpu/kernels/index_maps.tl");
  size_t first = text.find("\nkernel ");
  size_t at = text.find("\nkernel " + name + "(");
  REQUIRE(first != std::string::npos);
  REQUIRE(at != std::string::npos);
  size_t end = text.find("\nkernel ", at + 1);
  return text.substr(0, first + 1) + text.substr(at + 1, end == std::string::npos ? std::string::npos : end - at);
}

// B = 2 x (A one column on, wrapping inside each 64-column tile; 0 past N).
void bindShiftedDouble(Case& c, const Shape& s) {
  int32_t M = s[0], N = s[1];
  HostBuffer& A = c.buffer(ir::DType::Float16, int64_t(M) * N);
  HostBuffer& B = c.buffer(ir::DType::Float16, int64_t(M) * N);
  randomFill(A, 29);
  B.fill(kPoison);
  c.args.pointer("A", A);
  c.args.pointer("B", B);
  c.args.dim("M", M);
  c.args.dim("N", N);
  c.output = &B;
  for (int64_t r = 0; r < M; ++r)
    for (int64_t col = 0; col < N; ++col) {
      int64_t from = col / 64 * 64 + (col % 64 + 1) % 64;
      c.expected.push_back(from < N ? 2.0 * A.get(r * N + from) : 0.0);
    }
}

}  // namespace

TEST_CASE("interpreter: Layout index maps on shared tiles (transposed, XOR of pieces, padded flat) and views of "
          "laid-out tiles, ragged shapes") {
  // The maps' physical shapes and vector runs, as --remarks and --emit=loops show them.
  {
    auto module = compile(indexMapKernel("padded_flat"), Target::hopper());
    std::ostringstream ir;
    ir::print(*module, ir);
    CHECK(ir.str().find("index map (i, j) -> ((i * 68) + j) over (2172), runs of 4") != std::string::npos);
    CHECK(ir.str().find("index map (i, j) -> (j, i) over (32, 64), runs of 1") != std::string::npos);
  }
  const std::vector<Shape> shapes = {{32, 64}, {33, 65}, {1, 1}, {70, 130}, {31, 8}};
  checkAllVariants(indexMapKernel("transposed"), shapes, bindShiftedDouble);
  checkAllVariants(indexMapKernel("xor_pieces"), shapes, bindShiftedDouble);
  checkAllVariants(indexMapKernel("padded_flat"), shapes, [](Case& c, const Shape& s) {
    int32_t M = s[0], N = s[1];
    HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(M) * N);
    HostBuffer& T = c.buffer(ir::DType::Float32, int64_t(M) * N);
    HostBuffer& S = c.buffer(ir::DType::Float32, N);
    // Small integers: every order of the column sums is exact.
    std::mt19937 rng(41);
    for (int64_t e = 0; e < A.elements(); ++e) A.set(e, double(int(rng() % 17) - 8));
    T.fill(kPoison);
    S.fill(0);  // atomics accumulate into it
    c.args.pointer("A", A);
    c.args.pointer("T", T);
    c.args.pointer("S", S);
    c.args.dim("M", M);
    c.args.dim("N", N);
    c.output = &T;
    for (int64_t col = 0; col < N; ++col)
      for (int64_t r = 0; r < M; ++r) c.expected.push_back(A.get(r * N + col));
    std::vector<double> sums(N, 0.0);
    for (int64_t r = 0; r < M; ++r)
      for (int64_t col = 0; col < N; ++col) sums[col] += A.get(r * N + col);
    c.moreOutputs.push_back({&S, sums});
  });
  // Views of a swizzled and a padded tile read and write the tiles' logical elements.
  checkAllVariants(indexMapKernel("laid_out_views"), shapes, [](Case& c, const Shape& s) {
    int32_t M = s[0], N = s[1];
    HostBuffer& A = c.buffer(ir::DType::Float32, int64_t(M) * N);
    HostBuffer& B = c.buffer(ir::DType::Float32, int64_t(M) * N);
    randomFill(A, 43);
    B.fill(kPoison);
    c.args.pointer("A", A);
    c.args.pointer("B", B);
    c.args.dim("M", M);
    c.args.dim("N", N);
    c.output = &B;
    for (int64_t e = 0; e < A.elements(); ++e) c.expected.push_back(2.0 * A.get(e));
  });
}

// The general variant against outputs off alignment: a sub-tensor's data pointer
// (out[:, 1:]) may start anywhere in a 16-byte block, which the aligned variant's
// assumptions exclude. Outputs 1 to 31 bytes off, at every element size (1, 2, 4 and
// 8 bytes), on ragged shapes whose rows also start anywhere (M odd), and at offset 0
// with the input's N odd ({64, 33}: the general variant on an aligned output); every
// element against the reference, the rest of the buffer poisoned (a store past the
// tile's row, into the next block's columns, shows there).
TEST_CASE("interpreter: general variants, outputs off alignment, every element size") {
  struct Kind {
    ir::DType dtype;
    std::vector<int64_t> offsets;  // bytes
  };
  const std::vector<Kind> kinds = {{ir::DType::Int8, {0, 1, 7, 31}},
                                   {ir::DType::Float16, {0, 2, 14, 30}},
                                   {ir::DType::Float32, {0, 4, 12, 28}},
                                   {ir::DType::Float64, {0, 8, 24}}};
  for (const Target& target : targets())
    for (const Kind& k : kinds) {
      auto module = compile(kTranspose, target, {{"DT", ir::name(k.dtype)}});
      for (int64_t offset : k.offsets)
        for (bool inputToo : {false, true}) {  // the benchmark's base+2B moves both
          INFO(target.arch() << " " << ir::name(k.dtype) << " output " << (inputToo ? "and input " : "") << offset
                             << " bytes off");
          checkKernel(*module, "transpose2d", {{64, 64}, {64, 33}, {37, 131}, {130, 65}, {1, 33}},
                      [&](Case& c, const Shape& s) {
                        bindTranspose(c, s, k.dtype, 7);
                        c.output->addressOffset = offset;
                        if (inputToo) c.args.pointer("A")->addressOffset = offset;
                      });
        }
    }
  // tile_copy: 128 x 128 tiles of float16.
  for (const Target& target : targets()) {
    auto module = compile(kTileCopy, target);
    for (int64_t offset : {0, 2, 18, 30}) {
      INFO(target.arch() << " tile_copy output " << offset << " bytes off");
      checkKernel(*module, "tile_copy", {{128, 256}, {37, 131}, {1, 200}, {130, 129}},
                  [&](Case& c, const Shape& s) {
                    bindTileCopy(c, s);
                    c.output->addressOffset = offset;
                  });
    }
  }
}
