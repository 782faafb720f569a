// float8_e8m0fnu: the host format (ir/Float8E8M0.h) against an independent
// formulation (frexp), and the interpreter running tests/gpu/kernels/e8m0_fp4_casts.tl
// (every code decoded; the reference inputs encoded from float32, float64 and int32;
// fp4 -> float16 / bfloat16 / float32 converting copies of every fp4 code on ragged
// shapes) against the host format exactly.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "../e8m0_reference.h"
#include "LowerForTest.h"
#include "interp/Interpreter.h"
#include "ir/Float4.h"
#include "ir/Float8E8M0.h"

using namespace tlc;

namespace {

uint32_t bitsOf(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

// The smallest power of two at least |x|, clamped to [2^-127, 2^127], as frexp sees it.
int independentCode(double x) {
  if (std::isnan(x)) return 255;
  double a = std::fabs(x);
  if (std::isinf(a)) return 254;
  if (a <= std::ldexp(1.0, -127)) return 0;
  int k;
  double m = std::frexp(a, &k);  // a = m * 2^k, m in [0.5, 1)
  int ceilLog = m == 0.5 ? k - 1 : k;
  int code = ceilLog + 127;
  return code > 254 ? 254 : code;
}

const ir::Kernel& kernelNamed(const ir::Module& m, const std::string& name) {
  for (const auto& k : m.kernels)
    if (k.name == name) return k;
  FAIL("no kernel " << name);
  return m.kernels.front();
}

std::string kernelsText() {
  std::string path = TLC_SOURCE_DIR "/tests/gpu/kernels/e8m0_fp4_casts.tl";
  FILE* f = std::fopen(path.c_str(), "rb");
  REQUIRE(f);
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  std::fclose(f);
  return text;
}

}  // namespace

TEST_CASE("e8m0: every code decodes to 2^(code - 127), 255 to NaN") {
  for (int c = 0; c < 256; ++c) {
    CAPTURE(c);
    float f = e8m0::toFloat(uint8_t(c));
    if (c == 255) {
      CHECK(std::isnan(f));
    } else {
      CHECK(f == std::ldexp(1.0f, c - 127));
      CHECK(e8m0::fromDouble(f) == c);  // exact powers round to themselves
    }
  }
}

TEST_CASE("e8m0: encoding rounds toward +Inf to a power of two, ignores the sign, saturates") {
  for (float x : e8m0_reference::floatInputs()) {
    CAPTURE(bitsOf(x));
    CHECK(int(e8m0::fromDouble(x)) == independentCode(x));
  }
  CHECK(e8m0::fromDouble(0.0) == 0);
  CHECK(e8m0::fromDouble(-0.0) == 0);
  CHECK(e8m0::fromDouble(1.0) == 127);
  CHECK(e8m0::fromDouble(1.5) == 128);
  CHECK(e8m0::fromDouble(-3.0) == 129);
  CHECK(e8m0::fromDouble(0x1p-127) == 0);
  CHECK(e8m0::fromDouble(std::nextafter(0x1p-127, 1.0)) == 1);
  CHECK(e8m0::fromDouble(0x1p127) == 254);
  CHECK(e8m0::fromDouble(0x1.8p127) == 254);
  CHECK(e8m0::fromDouble(1e300) == 254);
  CHECK(e8m0::fromDouble(INFINITY) == 254);
  CHECK(e8m0::fromDouble(-INFINITY) == 254);
  CHECK(e8m0::fromDouble(NAN) == 255);
  // float64 keeps what float32 would round away: 1 + 2^-40 is above 1.
  CHECK(e8m0::fromDouble(1.0 + 0x1p-40) == 128);
}

TEST_CASE("e8m0: the interpreter decodes every code and encodes the reference inputs exactly") {
  auto module = test::lowerForTest(kernelsText());
  const int n = 1000;  // ragged: not a multiple of 128
  {
    interp::HostBuffer e(ir::DType::Float8E8M0, n), f(ir::DType::Float32, n), h(ir::DType::Float16, n),
        b(ir::DType::BFloat16, n);
    for (int i = 0; i < n; ++i) e.bytes[size_t(i)] = uint8_t(i % 256);
    for (auto* o : {&f, &h, &b}) o->fill(0xA5);
    interp::Arguments args;
    args.pointer("E", e);
    args.pointer("F", f);
    args.pointer("H", h);
    args.pointer("B", b);
    args.dim("N", n);
    for (const ir::Kernel& k : module->kernels) {
      if (k.sourceName != "e8m0_decode") continue;
      interp::Result r = interp::run(k, args);
      REQUIRE_MESSAGE(r.ok, r.text());
      for (int i = 0; i < n; ++i) {
        int c = i % 256;
        CAPTURE(c);
        double want = e8m0::toFloat(uint8_t(c));
        if (c == 255) {
          CHECK(std::isnan(f.get(i)));
          CHECK(std::isnan(h.get(i)));
          CHECK(std::isnan(b.get(i)));
          continue;
        }
        CHECK(f.get(i) == want);
        CHECK(b.get(i) == want);  // bfloat16 holds every power of two a float32 does
        double half = c - 127 < -24 ? 0.0 : c - 127 > 15 ? INFINITY : want;  // rounded to nearest
        if (c - 127 == -25) half = 0.0;                                        // 2^-25: a tie, to even (0)
        CHECK(h.get(i) == half);
      }
    }
  }
  {
    std::vector<float> xs = e8m0_reference::floatInputs();
    const int m = int(xs.size());
    std::vector<int32_t> ks = e8m0_reference::intInputs(size_t(m));
    interp::HostBuffer x(ir::DType::Float32, m), d(ir::DType::Float64, m), k(ir::DType::Int32, m),
        q(ir::DType::Float8E8M0, m), r(ir::DType::Float8E8M0, m), s(ir::DType::Float8E8M0, m);
    for (int i = 0; i < m; ++i) {
      std::memcpy(&x.bytes[size_t(i) * 4], &xs[size_t(i)], 4);
      double dv = double(xs[size_t(i)]) * (1.0 + 0x1p-40);  // between float32 values
      std::memcpy(&d.bytes[size_t(i) * 8], &dv, 8);
      std::memcpy(&k.bytes[size_t(i) * 4], &ks[size_t(i)], 4);
    }
    for (auto* o : {&q, &r, &s}) o->fill(0xA5);
    interp::Arguments args;
    args.pointer("X", x);
    args.pointer("D", d);
    args.pointer("K", k);
    args.pointer("Q", q);
    args.pointer("R", r);
    args.pointer("S", s);
    args.dim("N", m);
    for (const ir::Kernel& kern : module->kernels) {
      if (kern.sourceName != "e8m0_encode") continue;
      interp::Result res = interp::run(kern, args);
      REQUIRE_MESSAGE(res.ok, res.text());
      int bad = 0;
      for (int i = 0; i < m; ++i) {
        double dv;
        std::memcpy(&dv, &d.bytes[size_t(i) * 8], 8);
        bad += q.bytes[size_t(i)] != e8m0::fromDouble(xs[size_t(i)]);
        bad += r.bytes[size_t(i)] != e8m0::fromDouble(dv);
        bad += s.bytes[size_t(i)] != e8m0::fromDouble(double(ks[size_t(i)]));
      }
      CHECK(bad == 0);
    }
  }
}

TEST_CASE("fp4: converting copies to float16, bfloat16 and float32 in the interpreter, every code, ragged") {
  auto module = test::lowerForTest(kernelsText());
  for (const char* name : {"fp4_to_half", "fp4_to_bf16", "fp4_to_float"}) {
    ir::DType out = std::string(name) == "fp4_to_half" ? ir::DType::Float16
                    : std::string(name) == "fp4_to_bf16" ? ir::DType::BFloat16
                                                         : ir::DType::Float32;
    for (auto [M, N] : {std::pair{1, 2}, {17, 130}, {33, 64}, {5, 258}}) {
      interp::HostBuffer a(ir::DType::Float4E2M1, int64_t(M) * N), y(out, int64_t(M) * N);
      for (size_t i = 0; i < a.bytes.size(); ++i) a.bytes[i] = uint8_t(i * 37 + 11);
      y.fill(0xA5);
      interp::Arguments args;
      args.pointer("A", a);
      args.pointer("Y", y);
      args.dim("M", M);
      args.dim("N", N);
      for (const ir::Kernel& k : module->kernels) {
        if (k.sourceName != name) continue;
        CAPTURE(k.name);
        CAPTURE(M);
        CAPTURE(N);
        y.fill(0xA5);
        if (!interp::assumptionsHold(k, args)) continue;
        interp::Result r = interp::run(k, args);
        REQUIRE_MESSAGE(r.ok, r.text());
        int bad = 0;
        for (int64_t i = 0; i < int64_t(M) * N; ++i)
          bad += y.get(i) != double(fp4::toFloat(fp4::element(a.bytes.data(), i)));
        CHECK(bad == 0);
      }
    }
  }
}

TEST_CASE("fp4: a converting copy from a shared fp4 tile (into a fragment), every code, ragged") {
  const char* text = R"(
kernel k(A: Tensor((M, N), float4_e2m1fn), Y: Tensor((M, N), float32)) {
  with Kernel(ceildiv(N, 64), ceildiv(M, 16), threads=128) as (bx, by) {
    s = alloc_shared((16, 64), float4_e2m1fn);
    f = alloc_fragment((16, 64), float32);
    copy(A[by * 16, bx * 64], s);
    copy(s, f);
    copy(f, Y[by * 16, bx * 64]);
  }
}
)";
  auto module = test::lowerForTest(text);
  for (auto [M, N] : {std::pair{1, 2}, {17, 130}, {33, 64}}) {
    interp::HostBuffer a(ir::DType::Float4E2M1, int64_t(M) * N), y(ir::DType::Float32, int64_t(M) * N);
    for (size_t i = 0; i < a.bytes.size(); ++i) a.bytes[i] = uint8_t(i * 37 + 11);
    interp::Arguments args;
    args.pointer("A", a);
    args.pointer("Y", y);
    args.dim("M", M);
    args.dim("N", N);
    for (const ir::Kernel& k : module->kernels) {
      if (!interp::assumptionsHold(k, args)) continue;
      CAPTURE(k.name);
      CAPTURE(M);
      CAPTURE(N);
      y.fill(0xA5);
      interp::Result r = interp::run(k, args);
      REQUIRE_MESSAGE(r.ok, r.text());
      int bad = 0;
      for (int64_t i = 0; i < int64_t(M) * N; ++i) bad += y.get(i) != double(fp4::toFloat(fp4::element(a.bytes.data(), i)));
      CHECK(bad == 0);
    }
  }
}
