// float4_e2m1fn conversions: the host format (ir/Float4.h) on every code, every
// rounding tie and the saturating ends; and the backend's device conversions
// (Codegen's fp4ToFloat32 / floatToFp4), folded by LLVM's optimizer on constant
// inputs, against it.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "LowerForTest.h"
#include "backend/Backend.h"
#include "interp/Interpreter.h"
#include "ir/Float4.h"
#include "ir/IR.h"

using namespace tlc;
using namespace tlc::ir;

namespace {

const float kValues[16] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f,
                           -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

uint32_t bitsOf(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

// Inputs with the code round-to-nearest-even and saturation give them.
struct Rounding {
  double x;
  uint8_t code;
};
const Rounding kRounding[] = {
    // ties go to the even code
    {0.25, 0x0}, {0.75, 0x2}, {1.25, 0x2}, {1.75, 0x4}, {2.5, 0x4}, {3.5, 0x6}, {5.0, 0x6},
    {-0.25, 0x8}, {-0.75, 0xA}, {-1.25, 0xA}, {-1.75, 0xC}, {-2.5, 0xC}, {-3.5, 0xE}, {-5.0, 0xE},
    // the float32 neighbours of the ties (every input is a float32: the kernel's is)
    {std::nextafter(0.25f, 1.0f), 0x1}, {std::nextafter(0.75f, 0.0f), 0x1}, {std::nextafter(1.25f, 2.0f), 0x3},
    {std::nextafter(1.75f, 0.0f), 0x3}, {std::nextafter(2.5f, 3.0f), 0x5}, {std::nextafter(3.5f, 0.0f), 0x5},
    {std::nextafter(5.0f, 6.0f), 0x7}, {std::nextafter(5.0f, 0.0f), 0x6}, {std::nextafter(0.25f, 0.0f), 0x0},
    // saturation, zeros, tiny values, NaN (-> +6)
    {6.0, 0x7}, {7.0, 0x7}, {1e30, 0x7}, {-1e30, 0xF}, {INFINITY, 0x7}, {-INFINITY, 0xF},
    {0.0, 0x0}, {-0.0, 0x8}, {1e-40, 0x0}, {-1e-40, 0x8}, {NAN, 0x7}, {-NAN, 0x7},
};

}  // namespace

TEST_CASE("fp4: every code decodes to its value, and encodes back") {
  for (int c = 0; c < 16; ++c) {
    CAPTURE(c);
    CHECK(bitsOf(fp4::toFloat((uint8_t)c)) == bitsOf(kValues[c]));
    CHECK(fp4::fromFloat(kValues[c]) == c);
  }
}

TEST_CASE("fp4: round to nearest, ties to even, saturate to +-6, NaN to +6") {
  for (const Rounding& r : kRounding) {
    CAPTURE(r.x);
    CHECK(fp4::fromFloat(r.x) == r.code);
  }
}

TEST_CASE("fp4: element k of a packed row is nibble k % 2 of byte k / 2, low first") {
  const uint8_t row[2] = {0x21, 0x43};
  CHECK(fp4::element(row, 0) == 1);
  CHECK(fp4::element(row, 1) == 2);
  CHECK(fp4::element(row, 2) == 3);
  CHECK(fp4::element(row, 3) == 4);
}

TEST_CASE("fp4: the backend's conversions fold to the host format's results") {
  // out_f<c> = cast(fp4 code c, float32); out_c<k> = cast(x_k, float4_e2m1fn) as bits,
  // each input through a mutable local so that only LLVM folds it.
  Kernel kernel;
  kernel.name = kernel.sourceName = "fp4_fold";
  for (auto& g : kernel.grid) g = intImm(1);
  std::vector<StmtRef> body;
  auto pointer = [&](const std::string& name, DType t) {
    Param p;
    p.name = name;
    p.kind = ParamKind::Pointer;
    p.var = makeVar(name, DType::Handle);
    p.elementType = t;
    kernel.params.push_back(p);
    auto b = std::make_shared<Buffer>();
    b->name = name;
    b->dtype = t;
    b->shape = {intImm(1)};
    b->strides = {intImm(1)};
    b->data = p.var;
    return b;
  };
  auto storeTo = [&](const BufferRef& b, ExprRef value) {
    body.push_back(std::make_shared<StoreStmt>(SourceRange{}, b, std::vector<ExprRef>{intImm(0)}, value));
  };
  VarRef code = makeVar("code", DType::Int32);
  VarRef x = makeVar("x", DType::Float32);
  VarRef h = makeVar("h", DType::Float16);
  body.push_back(std::make_shared<LetStmt>(SourceRange{}, code, intImm(0)));
  body.push_back(std::make_shared<LetStmt>(SourceRange{}, x, floatImm(0.0)));
  body.push_back(std::make_shared<LetStmt>(SourceRange{}, h, floatImm(0.0, DType::Float16)));
  for (int c = 0; c < 16; ++c) {
    body.push_back(std::make_shared<AssignStmt>(SourceRange{}, code, intImm(c)));
    // As a float32 and as the integer a float-to-int cast gives (both through the decode).
    storeTo(pointer("f" + std::to_string(c), DType::Float32),
            cast(DType::Float32, call(Builtin::Fp4FromBits, {code}, DType::Float4E2M1)));
    storeTo(pointer("i" + std::to_string(c), DType::Int32),
            cast(DType::Int32, call(Builtin::Fp4FromBits, {code}, DType::Float4E2M1)));
  }
  size_t n = sizeof kRounding / sizeof kRounding[0];
  for (size_t k = 0; k < n; ++k) {
    body.push_back(std::make_shared<AssignStmt>(SourceRange{}, x, floatImm(kRounding[k].x)));
    storeTo(pointer("c" + std::to_string(k), DType::Int32),
            call(Builtin::Fp4Bits, {cast(DType::Float4E2M1, x)}, DType::Int32));
  }
  // From float16 (compared in float16: no rounding to float32 first) and from int32.
  const double halfInputs[] = {0.25, 0.75, 2.5, 5.0, 65504.0, -1.75};
  const int halfCodes[] = {0x0, 0x2, 0x4, 0x6, 0x7, 0xC};
  for (int k = 0; k < 6; ++k) {
    body.push_back(std::make_shared<AssignStmt>(SourceRange{}, h, floatImm(halfInputs[k], DType::Float16)));
    storeTo(pointer("h" + std::to_string(k), DType::Int32),
            call(Builtin::Fp4Bits, {cast(DType::Float4E2M1, h)}, DType::Int32));
  }
  body.push_back(std::make_shared<AssignStmt>(SourceRange{}, code, intImm(-3)));
  storeTo(pointer("n0", DType::Int32), call(Builtin::Fp4Bits, {cast(DType::Float4E2M1, code)}, DType::Int32));
  kernel.body = std::make_shared<SeqStmt>(SourceRange{}, body);

  std::ostringstream out;
  DiagnosticEngine diags(out);
  Module module;
  module.kernels.push_back(kernel);
  auto llvmModule = generateLLVM(module, TargetOptions{}, diags);
  REQUIRE_MESSAGE(llvmModule, out.str());
  std::string ir = llvmModule->text();
  auto stored = [&](const std::string& type, const std::string& value, const std::string& pointerName) {
    return ir.find("store " + type + " " + value + ", ptr addrspace(1) %" + pointerName + ",") != std::string::npos;
  };
  for (int c = 0; c < 16; ++c) {
    CAPTURE(c);
    // LLVM prints a float constant as a decimal when that is exact, which all of these are.
    char text[32];
    std::snprintf(text, sizeof text, "%.6e", (double)kValues[c]);
    bool asFloat = stored("float", text, "f" + std::to_string(c));
    bool asBits = stored("i32", std::to_string((int32_t)bitsOf(kValues[c])), "f" + std::to_string(c));
    CHECK_MESSAGE((asFloat || asBits), ir);
    CHECK(stored("i32", std::to_string((int)kValues[c]), "i" + std::to_string(c)));
  }
  for (size_t k = 0; k < n; ++k) {
    CAPTURE(kRounding[k].x);
    CHECK(stored("i32", std::to_string(kRounding[k].code), "c" + std::to_string(k)));
  }
  for (int k = 0; k < 6; ++k) {
    CAPTURE(halfInputs[k]);
    CHECK(stored("i32", std::to_string(halfCodes[k]), "h" + std::to_string(k)));
  }
  CHECK(stored("i32", std::to_string(0xD), "n0"));  // -3.0
}

// tma_copy into float4_e2m1_unpacked (sm_100a, a 16U4_ALIGN16B map): run in the
// interpreter on a ragged M, every row of every block; the barrier's wait completes
// only if expect_tx (the packed payload) equals what the loads deliver, and every
// access is bounds-checked. An innermost dimension not a multiple of 128 is refused
// as the launcher refuses it.
TEST_CASE("fp4: tma_copy into float4_e2m1_unpacked runs in the interpreter; the launcher's rules hold") {
  const char* text = R"(
kernel k(A: Tensor((M, N), float4_e2m1fn)) {
  with Kernel(ceildiv(N, 128), ceildiv(M, 64), threads=128) as (bx, by) {
    bar = alloc_barrier(128);
    s = alloc_shared((64, 128), float4_e2m1_unpacked);
    tma_copy(A[by * 64, bx * 128], s, barrier=bar);
    barrier_arrive(bar);
    mbarrier_wait_parity(bar, 0);
  }
}
)";
  auto module = test::lowerForTest(text, *Target::fromArch("sm_100a"));
  REQUIRE(module->kernels.size() == 1);
  const Kernel& k = module->kernels[0];
  bool unpacking = false;
  for (const Param& p : k.params) unpacking = unpacking || (p.tensorMap && p.tensorMap->unpackFp4);
  CHECK(unpacking);
  for (int n : {256, 384}) {
    const int m = 97;
    interp::HostBuffer a(DType::Float4E2M1, int64_t(m) * n);
    for (size_t i = 0; i < a.bytes.size(); ++i) a.bytes[i] = uint8_t(i * 37 + 11);
    interp::Arguments args;
    args.pointer("A", a);
    args.dim("M", m);
    args.dim("N", n);
    interp::Result r = interp::run(k, args);
    CHECK_MESSAGE(r.ok, r.text());
  }
  interp::HostBuffer a(DType::Float4E2M1, 97 * 192);
  interp::Arguments args;
  args.pointer("A", a);
  args.dim("M", 97);
  args.dim("N", 192);
  interp::Result r = interp::run(k, args);
  CHECK(!r.ok);
  CHECK(r.text().find("multiple of") != std::string::npos);
}

TEST_CASE("fp4: views of global tensors as their packed bytes (uint8) and back, ragged M, every variant") {
  // A float4_e2m1fn (M, 64) tensor viewed as (M, 32) uint8 bytes, copied as bytes to
  // B; a uint8 (M, 32) tensor viewed as (M, 64) float4_e2m1fn, converted to float16
  // element by element into D. B must hold A's bytes, D the decoded nibbles (even
  // element: low nibble).
  const char* text = R"(
kernel k(A: Tensor((M, 64), float4_e2m1fn), B: Tensor((M, 32), uint8), C: Tensor((M, 32), uint8),
         D: Tensor((M, 64), float16)) {
  with Kernel(ceildiv(M, 16), threads=128) as bx {
    Ab = view(A, (M, 32), dtype=uint8);
    Cf = view(C, (M, 64), dtype=float4_e2m1fn);
    t = alloc_shared((16, 32), uint8);
    h = alloc_shared((16, 64), float16);
    copy(Ab[bx * 16, 0], t);
    copy(t, B[bx * 16, 0]);
    copy(Cf[bx * 16, 0], h);
    copy(h, D[bx * 16, 0]);
  }
}
)";
  for (const Target& target : {Target::hopper(), *Target::fromArch("sm_80")}) {
    auto module = test::lowerForTest(text, target);
    REQUIRE(module->kernels.size() >= 1);
    for (const Kernel& k : module->kernels)
      for (int m : {16, 37, 1}) {
        CAPTURE(target.arch());
        CAPTURE(k.name);
        CAPTURE(m);
        interp::HostBuffer a(DType::Float4E2M1, int64_t(m) * 64), c(DType::UInt8, int64_t(m) * 32);
        interp::HostBuffer b(DType::UInt8, int64_t(m) * 32), d(DType::Float16, int64_t(m) * 64);
        for (size_t i = 0; i < a.bytes.size(); ++i) a.bytes[i] = uint8_t(i * 37 + 11);
        for (size_t i = 0; i < c.bytes.size(); ++i) c.bytes[i] = uint8_t(i * 53 + 5);
        b.fill(0xA5);
        d.fill(0xA5);
        interp::Arguments args;
        args.pointer("A", a);
        args.pointer("B", b);
        args.pointer("C", c);
        args.pointer("D", d);
        args.dim("M", m);
        if (!interp::assumptionsHold(k, args)) continue;
        interp::Result r = interp::run(k, args);
        REQUIRE_MESSAGE(r.ok, r.text());
        // The host buffer of an fp4 tensor may hold more bytes than its packed rows;
        // the kernel reads the first 32 M.
        CHECK(std::vector<uint8_t>(a.bytes.begin(), a.bytes.begin() + int64_t(m) * 32) == b.bytes);
        int bad = 0;
        for (int64_t i = 0; i < int64_t(m) * 64; ++i) {
          const uint8_t* row = c.bytes.data() + (i / 64) * 32;
          double want = fp4::toFloat(fp4::element(row, i % 64));
          if (d.get(i) != want && bad++ < 3) CHECK_MESSAGE(false, "D[" << i << "] = " << d.get(i) << ", want " << want);
        }
        CHECK(bad == 0);
      }
  }
}
