// Differential test of casts and float32 math through the loop-IR interpreter: the
// GPU test kernels tests/gpu/kernels/casts_math.tl compiled in process (sm_90a) and
// run on edge and random inputs, every output element compared with the host
// reference of tests/casts_math_reference.h under its ULP bounds (exact for casts),
// the bounds the GPU test holds the device to. This checks sema, lowering and the
// interpreter's numerics; Codegen's conversions are pinned by
// tests/golden/lower/casts_ptx.tl.
#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "LowerForTest.h"
#include "../casts_math_reference.h"
#include "frontend/Parser.h"
#include "interp/Interpreter.h"
#include "ir/Target.h"
#include "lower/Lower.h"
#include "sema/Sema.h"

using namespace tlc;
using interp::HostBuffer;

namespace {

std::unique_ptr<ir::Module> compileKernels() {
  std::ifstream in(TLC_SOURCE_DIR "/tests/gpu/kernels/casts_math.tl");
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  return test::lowerForTest(text.str(), Target::hopper(), {}, "casts_math.tl");
}

const ir::Kernel& kernelNamed(const ir::Module& m, const std::string& name) {
  for (const auto& k : m.kernels)
    if (k.sourceName == name) return k;  // the first variant
  FAIL("no kernel " << name);
  return m.kernels.front();
}

template <class T>
HostBuffer bufferOf(ir::DType t, const std::vector<T>& v) {
  HostBuffer b(t, int64_t(v.size()));
  std::memcpy(b.bytes.data(), v.data(), v.size() * sizeof(T));
  return b;
}

template <class T>
T element(const HostBuffer& b, int64_t i) {
  T v;
  std::memcpy(&v, &b.bytes.at(size_t(i) * sizeof(T)), sizeof(T));
  return v;
}

constexpr int kN = 1000;  // ragged: not a multiple of the kernels' BN = 128

}  // namespace

TEST_CASE("casts_math: every cast row in the interpreter equals the reference exactly") {
  auto module = compileKernels();
  casts_math::Inputs in = casts_math::makeInputs(kN, 2025u);
  HostBuffer x = bufferOf(ir::DType::Float32, in.x), k = bufferOf(ir::DType::Int64, in.k);
  HostBuffer f(ir::DType::Float32, int64_t(casts_math::kCastRows) * kN), l(ir::DType::Int64, int64_t(casts_math::kCastRows) * kN);
  f.fill(0xA5);
  l.fill(0xA5);
  interp::Arguments args;
  args.pointer("X", x);
  args.pointer("K", k);
  args.pointer("F", f);
  args.pointer("L", l);
  args.dim("N", kN);
  interp::Result r = interp::run(kernelNamed(*module, "casts"), args);
  REQUIRE_MESSAGE(r.ok, r.text());
  int bad = 0;
  for (int row = 0; row < casts_math::kCastRows; ++row)
    for (int i = 0; i < kN; ++i) {
      float wantF;
      int64_t wantL;
      casts_math::castRow(row, in.x[i], in.k[i], wantF, wantL);
      float gotF = element<float>(f, int64_t(row) * kN + i);
      int64_t gotL = element<int64_t>(l, int64_t(row) * kN + i);
      bool ok = casts_math::ulpDistance(gotF, wantF) == 0 && std::signbit(gotF) == std::signbit(wantF) && gotL == wantL;
      if (!ok && ++bad <= 20) {
        std::ostringstream what;
        what << std::hexfloat;
        if (row < casts_math::kTypes) what << "float32 " << in.x[i];
        else what << "int64 " << in.k[i];
        what << " via " << casts_math::types()[row % casts_math::kTypes].name << ": got " << gotF << " / " << gotL
             << ", want " << wantF << " / " << wantL;
        FAIL_CHECK(what.str());
      }
    }
  CHECK(bad == 0);
}

TEST_CASE("casts_math: every math row in the interpreter is within the reference's ULP bound") {
  auto module = compileKernels();
  casts_math::Inputs in = casts_math::makeInputs(kN, 7u);
  HostBuffer x = bufferOf(ir::DType::Float32, in.x), y = bufferOf(ir::DType::Float32, in.y),
             p = bufferOf(ir::DType::Float32, in.p);
  HostBuffer m(ir::DType::Float32, int64_t(casts_math::kMathRows) * kN);
  m.fill(0xA5);
  interp::Arguments args;
  args.pointer("X", x);
  args.pointer("Y", y);
  args.pointer("P", p);
  args.pointer("M", m);
  args.dim("N", kN);
  interp::Result r = interp::run(kernelNamed(*module, "math"), args);
  REQUIRE_MESSAGE(r.ok, r.text());
  int bad = 0, checked = 0;
  for (int row = 0; row < casts_math::kMathRows; ++row)
    for (int i = 0; i < kN; ++i) {
      if (!casts_math::mathChecked(row, in.x[i], in.y[i], in.p[i])) continue;
      ++checked;
      float want = casts_math::mathRow(row, in.x[i], in.y[i], in.p[i]);
      float got = element<float>(m, int64_t(row) * kN + i);
      if (!casts_math::mathWithinBound(row, in.x[i], in.y[i], in.p[i], got, want) && ++bad <= 20) {
        std::ostringstream what;
        what << std::hexfloat << casts_math::mathRows()[row].name << "(x=" << in.x[i] << ", y=" << in.y[i]
             << ", p=" << in.p[i] << "): got " << got << ", want " << want;
        FAIL_CHECK(what.str());
      }
    }
  CHECK(bad == 0);
  CHECK(checked > casts_math::kMathRows * kN / 2);
}
