// Unit tests for constant-folded casts (ir::cast): for every (from, to) pair of the
// numeric dtypes and edge values of `from` (ties, subnormals, overflow, NaN/Inf,
// unsigned values with the top bit set, bool), a folded cast must hold exactly the
// value the run-time conversion gives, which the interpreter's Numerics
// (interp::convertScalar, written after Codegen's `convert`) models; pairs that are
// not folded must stay a CastNode (an integer constant the target cannot hold keeps
// its value, truncated where used). Then the named cases of issue 25 spelled out.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <vector>

#include "interp/Numerics.h"
#include "ir/IR.h"

using namespace tlc;
using ir::DType;
using interp::Scalar;

namespace {

const std::vector<DType> kSources = {DType::Bool,   DType::Int8,    DType::Int16,   DType::Int32,
                                     DType::Int64,  DType::UInt8,   DType::UInt16,  DType::UInt32,
                                     DType::UInt64, DType::Float16, DType::BFloat16, DType::Float32,
                                     DType::Float64};

bool holdsInt(DType t) { return ir::isInt(t) || t == DType::Bool; }

// Edge values of `t`, each exactly a value of `t` (normalized / rounded to it).
std::vector<Scalar> edgeValues(DType t) {
  std::vector<Scalar> out;
  if (holdsInt(t)) {
    const int64_t raw[] = {0, 1, -1, 2, 127, -128, 200, 255, 256, 300, 32767, -32768, 65535, 65536,
                           4000000000LL, -3000000000LL, INT32_MAX, INT32_MIN, int64_t(1) << 53,
                           (int64_t(1) << 53) + 1, -(int64_t(1) << 53) - 1, INT64_MAX, INT64_MIN,
                           int64_t(uint64_t(1) << 63 | 1)};
    for (int64_t v : raw) out.push_back(interp::intScalar(interp::normalizeInt(v, t)));
    return out;
  }
  const double inf = std::numeric_limits<double>::infinity();
  const double raw[] = {0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, 2.5, -2.5, 0.49999997,
                        1 + std::ldexp(1.0, -11), 1 + 3 * std::ldexp(1.0, -11),  // float16 ties
                        1 + std::ldexp(1.0, -8), 1 + 3 * std::ldexp(1.0, -8),    // bfloat16 ties
                        1 + std::ldexp(1.0, -24), 1 + 3 * std::ldexp(1.0, -24),  // float32 ties
                        65504.0, 65519.0, 65520.0, 1e5, -1e5,                    // float16 overflow
                        std::ldexp(1.0, -24), std::ldexp(1.0, -25), 3 * std::ldexp(1.0, -26),
                        std::ldexp(1.0, -14), std::ldexp(1.0, -149), 1e-40, 1e-320,
                        3.4e38, 3.5e38, 1e300, -1e300, inf, -inf, std::nan(""),
                        127.9, -128.9, 255.5, 300.7, -200.5, 32767.5, 65535.9,
                        4e9, -3e9, 2147483647.0, 2147483648.0, -2147483649.0, 1e19, 2e19, 1e20};
  for (double v : raw) out.push_back(interp::floatScalar(interp::roundToFloat(v, t)));
  return out;
}

std::string show(Scalar s, DType t) {
  std::ostringstream os;
  os << ir::name(t) << " ";
  if (holdsInt(t)) os << s.i;
  else os << std::hexfloat << s.f;
  return os.str();
}

ir::ExprRef immOf(Scalar s, DType t) { return holdsInt(t) ? ir::intImm(s.i, t) : ir::floatImm(s.f, t); }

// Whether ir::cast folds `s` of `from` to `to`: integer and bool constants to any
// integer, bool or non-storage float (integers exactly in a double only, so the fold
// rounds once); float constants to non-storage floats. float -> int and float -> bool
// and anything -> fp8/fp4 are left to the run-time conversion.
bool folds(Scalar s, DType from, DType to) {
  if (ir::isStorageOnly(to)) return false;
  if (!holdsInt(from)) return ir::isFloat(to);
  if (holdsInt(to)) return true;
  if (from == DType::Bool) return true;
  if (ir::isSigned(from)) return s.i >= -(int64_t(1) << 53) && s.i <= (int64_t(1) << 53);
  return uint64_t(s.i) <= (uint64_t(1) << 53);
}

bool sameFloat(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return a == b && std::signbit(a) == std::signbit(b);
}

}  // namespace

TEST_CASE("casts: every folded pair holds the run-time conversion's value") {
  std::vector<DType> targets = kSources;
  targets.insert(targets.end(), {DType::Float8E4M3, DType::Float8E5M2, DType::Float4E2M1});
  int foldedCount = 0, leftCount = 0;
  for (DType from : kSources)
    for (DType to : targets) {
      if (from == to) continue;
      for (Scalar s : edgeValues(from)) {
        ir::ExprRef r = ir::cast(to, immOf(s, from));
        INFO(show(s, from), " -> ", ir::name(to));
        REQUIRE(r->dtype == to);
        if (!folds(s, from, to)) {
          CHECK(r->kind == ir::ExprKind::Cast);
          ++leftCount;
          continue;
        }
        ++foldedCount;
        Scalar want = interp::convertScalar(s, from, to);
        if (holdsInt(to)) {
          REQUIRE(r->kind == ir::ExprKind::IntImm);
          // An integer the target cannot hold keeps its value (ir::cast says why);
          // what is used is the value truncated to the type.
          int64_t got = r->as<ir::IntImm>().value;
          CHECK((to == DType::Bool ? got : interp::normalizeInt(got, to)) == want.i);
        } else {
          REQUIRE(r->kind == ir::ExprKind::FloatImm);
          double got = r->as<ir::FloatImm>().value;
          INFO("got ", show(interp::floatScalar(got), to), ", want ", show(want, to));
          CHECK(sameFloat(got, want.f));
        }
      }
    }
  // Both kinds happen (the table above is not vacuous either way).
  CHECK(foldedCount > 2000);
  CHECK(leftCount > 1000);
}

TEST_CASE("casts: the named cases, folded") {
  auto f = [](DType to, ir::ExprRef e) {
    ir::ExprRef r = ir::cast(to, e);
    REQUIRE(r->kind == ir::ExprKind::FloatImm);
    return r->as<ir::FloatImm>().value;
  };
  auto i = [](DType to, ir::ExprRef e) {
    ir::ExprRef r = ir::cast(to, e);
    REQUIRE(r->kind == ir::ExprKind::IntImm);
    return r->as<ir::IntImm>().value;
  };
  // fp32 -> fp16 / bf16 round to nearest, ties to even (not toward zero).
  CHECK(f(DType::Float16, ir::floatImm(1 + std::ldexp(1.0, -11), DType::Float32)) == 1.0);
  CHECK(f(DType::Float16, ir::floatImm(1 + 3 * std::ldexp(1.0, -11), DType::Float32)) == 1 + std::ldexp(1.0, -9));
  CHECK(f(DType::Float16, ir::floatImm(1 + 3 * std::ldexp(1.0, -12), DType::Float32)) == 1 + std::ldexp(1.0, -10));
  CHECK(f(DType::Float16, ir::floatImm(-(1 + 3 * std::ldexp(1.0, -12)), DType::Float32)) == -(1 + std::ldexp(1.0, -10)));
  CHECK(f(DType::BFloat16, ir::floatImm(1 + 3 * std::ldexp(1.0, -8), DType::Float32)) == 1 + std::ldexp(1.0, -6));
  CHECK(f(DType::Float16, ir::floatImm(65520.0, DType::Float32)) == INFINITY);  // the tie above 65504
  CHECK(f(DType::Float16, ir::floatImm(std::ldexp(1.0, -25), DType::Float32)) == 0.0);   // tie to even 0
  CHECK(f(DType::Float16, ir::floatImm(3 * std::ldexp(1.0, -26), DType::Float32)) == std::ldexp(1.0, -24));
  // A cast's rounding survives a cast back (fp16 -> fp32 of the folded value).
  CHECK(f(DType::Float32, ir::cast(DType::Float16, ir::floatImm(1 + std::ldexp(1.0, -11), DType::Float32))) == 1.0);
  // bool -> float is 0 / 1, never -1.
  CHECK(f(DType::Float32, ir::intImm(1, DType::Bool)) == 1.0);
  CHECK(f(DType::Float16, ir::intImm(1, DType::Bool)) == 1.0);
  CHECK(i(DType::Int32, ir::intImm(1, DType::Bool)) == 1);
  // Unsigned widening zero-extends.
  CHECK(i(DType::Int32, ir::intImm(200, DType::UInt8)) == 200);
  CHECK(i(DType::Int64, ir::intImm(40000, DType::UInt16)) == 40000);
  CHECK(i(DType::Int64, ir::intImm(4000000000LL, DType::UInt32)) == 4000000000LL);
  CHECK(i(DType::UInt64, ir::intImm(4000000000LL, DType::UInt32)) == 4000000000LL);
  CHECK(i(DType::Int64, ir::intImm(-56, DType::Int8)) == -56);
  CHECK(f(DType::Float32, ir::intImm(int64_t(uint64_t(1) << 53), DType::UInt64)) == std::ldexp(1.0, 53));
  CHECK(f(DType::Float32, ir::intImm(4000000000LL, DType::UInt32)) == 4e9);
  // Folds chain: a constant its type cannot hold is its truncation when it widens.
  CHECK(i(DType::Int32, ir::cast(DType::UInt8, ir::intImm(300, DType::Int32))) == 44);
  CHECK(i(DType::Int64, ir::cast(DType::Int8, ir::intImm(200, DType::Int32))) == -56);
  CHECK(i(DType::Int64, ir::cast(DType::UInt16, ir::intImm(-1, DType::Int8))) == 65535);
  CHECK(f(DType::Float32, ir::cast(DType::UInt8, ir::intImm(300, DType::Int32))) == 44.0);
  CHECK(i(DType::Bool, ir::cast(DType::UInt8, ir::intImm(256, DType::Int32))) == 0);
}

TEST_CASE("casts: float -> int is left to the run-time conversion, which truncates and saturates") {
  // Not folded (the run-time conversion is Codegen's fptosi.sat / fptoui.sat) ...
  CHECK(ir::cast(DType::Int32, ir::floatImm(2.5, DType::Float32))->kind == ir::ExprKind::Cast);
  CHECK(ir::cast(DType::Bool, ir::floatImm(0.5, DType::Float32))->kind == ir::ExprKind::Cast);
  CHECK(ir::cast(DType::Float8E4M3, ir::floatImm(0.5, DType::Float32))->kind == ir::ExprKind::Cast);
  // ... and the interpreter's model of it: toward zero, saturating, NaN -> 0.
  auto toInt = [](double x, DType to) {
    return interp::convertScalar(interp::floatScalar(x), DType::Float32, to).i;
  };
  CHECK(toInt(2.9, DType::Int32) == 2);
  CHECK(toInt(-2.9, DType::Int32) == -2);
  CHECK(toInt(1e10, DType::Int32) == INT32_MAX);
  CHECK(toInt(-1e10, DType::Int32) == INT32_MIN);
  CHECK(toInt(INFINITY, DType::Int64) == INT64_MAX);
  CHECK(toInt(-INFINITY, DType::Int64) == INT64_MIN);
  CHECK(toInt(std::nan(""), DType::Int32) == 0);
  CHECK(toInt(std::nan(""), DType::UInt32) == 0);
  CHECK(toInt(-5.0, DType::UInt8) == 0);
  CHECK(toInt(300.0, DType::UInt8) == 255);
  CHECK(toInt(-300.0, DType::Int8) == -128);
  CHECK(toInt(4e9, DType::UInt32) == 4000000000LL);
  CHECK(uint64_t(toInt(1e30, DType::UInt64)) == ~uint64_t(0));
  CHECK(interp::convertScalar(interp::floatScalar(std::nan("")), DType::Float32, DType::Bool).i == 1);
}
