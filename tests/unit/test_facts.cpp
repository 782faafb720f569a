// The fact tables (ir/DTypes.def, ir/Builtins.def, ir/EvictionPolicies.def,
// ir/RoundingModes.def): the accessors every phase reads return each row's values,
// and spellings round-trip.
#include <doctest/doctest.h>

#include <map>

#include <string>

#include "ir/IR.h"

using namespace tlc;
using namespace tlc::ir;

TEST_CASE("facts: dtypes") {
  CHECK(std::string(name(DType::Float8E4M3)) == "float8_e4m3");
  CHECK(bits(DType::Float4E2M1) == 4);
  CHECK(isFloat(DType::BFloat16));
  CHECK(isInt(DType::UInt8));
  CHECK_FALSE(isInt(DType::Bool));
  CHECK_FALSE(isInt(DType::Handle));
  CHECK_FALSE(isSigned(DType::UInt32));
  CHECK(isStorageOnly(DType::Float8E5M2));
  CHECK(isStorageOnly(DType::Float8E8M0));
  CHECK(std::string(name(DType::Float8E8M0)) == "float8_e8m0fnu");
  CHECK(bits(DType::Float4E2M1Unpacked) == 8);
  CHECK(tensorMapDataTypeName(DType::Float4E2M1Unpacked) == nullptr);
  CHECK_FALSE(isStorageOnly(DType::Float16));
  CHECK(std::string(headerCType(DType::Bool)) == "uint8_t");
  CHECK(std::string(headerCType(DType::Float16)) == "uint16_t");
  CHECK(std::string(headerCType(DType::Handle)) == "CUdeviceptr");
  CHECK(std::string(tensorMapDataTypeName(DType::Float8E4M3)) == "CU_TENSOR_MAP_DATA_TYPE_UINT8");
  CHECK(std::string(tensorMapDataTypeName(DType::Int32)) == "CU_TENSOR_MAP_DATA_TYPE_INT32");
  CHECK(tensorMapDataTypeName(DType::Float4E2M1) == nullptr);
  // Every name and alias spells its type; "handle" is no type a .tl file can name.
  for (int i = 0; i <= static_cast<int>(DType::Handle); ++i) {
    DType t = static_cast<DType>(i);
    if (t != DType::Handle) CHECK(dtypeFromName(name(t)) == t);
  }
  CHECK_FALSE(dtypeFromName("handle"));
  CHECK(dtypeFromName("half") == DType::Float16);
  CHECK(dtypeFromName("float8_e4m3fn") == DType::Float8E4M3);
  CHECK_FALSE(dtypeFromName("float128"));
}

TEST_CASE("facts: rounding modes") {
  // round(x) without a mode is TileLang's default, the first row.
  CHECK(RoundingMode{} == RoundingMode::TiesToEven);
  CHECK(roundingBuiltin(RoundingMode::TiesToEven) == Builtin::Nearbyint);
  CHECK(roundingBuiltin(RoundingMode::TiesAwayFromZero) == Builtin::Round);
  CHECK(roundingModeNamed("ties-away-from-zero") == RoundingMode::TiesAwayFromZero);
  CHECK_FALSE(roundingModeNamed("half-up"));
  for (const std::string& s : roundingModeSpellings()) CHECK(std::string(name(*roundingModeNamed(s))) == s);
  CHECK(roundingModeSpellings().size() == 2);
}

TEST_CASE("facts: builtins") {
  CHECK(mathFunctionNamed("exp") == Builtin::Exp);
  CHECK(mathFunctionNamed("abs") == Builtin::Abs);
  CHECK(mathFunctionNamed("floor") == Builtin::Floor);
  CHECK(mathFunctionNamed("__exp2") == Builtin::FastExp2);
  CHECK(mathFunctionNamed("pow") == Builtin::Pow);
  CHECK_FALSE(mathFunctionNamed("shuffle_elect"));  // a call sema handles itself
  CHECK_FALSE(mathFunctionNamed("clamp"));          // sugar for min / max / isnan (sema)
  CHECK_FALSE(mathFunctionNamed("fp4_bits"));       // internal: no .tl spelling
  CHECK(info(Builtin::Pow).arity == 2);
  CHECK(info(Builtin::Fmod).arity == 2);
  CHECK(info(Builtin::Isnan).result == BuiltinResult::Bool);
  CHECK(info(Builtin::Isfinite).math == BuiltinMath::WithFloat64);
  CHECK(info(Builtin::Round).math == BuiltinMath::WithFloat64);
  for (Builtin b : {Builtin::Sin, Builtin::Cos, Builtin::Erf, Builtin::Sigmoid, Builtin::Pow, Builtin::Fmod,
                    Builtin::FastExp, Builtin::FastSin, Builtin::FastTan})
    CHECK(info(b).math == BuiltinMath::NoFloat64);
  CHECK(info(Builtin::Sqrt).math == BuiltinMath::WithFloat64);
  CHECK(info(Builtin::Exp2).math == BuiltinMath::NoFloat64);
  CHECK(info(Builtin::ShuffleElect).varies == BuiltinVaries::Thread);
  // The reductions' butterfly step: per lane, internal (no .tl spelling), the value's type.
  CHECK(info(Builtin::ShflBfly).varies == BuiltinVaries::Thread);
  CHECK(info(Builtin::ShflBfly).math == BuiltinMath::Internal);
  CHECK(!mathFunctionNamed("shfl_bfly"));
  CHECK(call(Builtin::ShflBfly, {floatImm(1.0, DType::Float64), intImm(4)}, DType::Float64)->dtype == DType::Float64);
  CHECK(info(Builtin::BlockIdx).varies == BuiltinVaries::Block);
  CHECK(std::string(name(Builtin::ClusterCtaRank)) == "block_rank_in_cluster");
  ExprRef x = floatImm(1.0, DType::Float16);
  CHECK(call(Builtin::Exp, {x}, DType::Float16)->dtype == DType::Float16);
  CHECK(call(Builtin::Isnan, {x}, DType::Bool)->dtype == DType::Bool);
  CHECK(call(Builtin::Pow, {x, x}, DType::Float16)->dtype == DType::Float16);
  // extract_tensormap_ptr's address: a uint64, internal (sema makes it).
  CHECK_FALSE(mathFunctionNamed("tensormap_address"));
  CHECK(info(Builtin::TensorMapAddress).result == BuiltinResult::UInt64);
  CHECK(call(Builtin::TensorMapAddress, {makeVar("D", DType::Handle)}, DType::UInt64)->dtype == DType::UInt64);
  // print: any number of values (arity -1), per thread, internal (sema makes it from the
  // print statement); a rewrite keeps its message and labels.
  CHECK(info(Builtin::Print).arity == -1);
  CHECK(info(Builtin::Print).varies == BuiltinVaries::Thread);
  CHECK_FALSE(mathFunctionNamed("print"));
  ExprRef printed = call(Builtin::Print, {x, x, x}, DType::Int32);
  auto labelled = std::make_shared<CallNode>(printed->as<CallNode>());
  labelled->strings = {"msg", "a", "b", "c"};
  ExprRef rewritten = callWithArgs(*labelled, {x});
  CHECK(rewritten->as<CallNode>().strings == std::vector<std::string>{"msg", "a", "b", "c"});
  CHECK(toString(rewritten) == "print(\"msg\", a = 1.0_float16)");
}

TEST_CASE("facts: built-in constants (cutedsl's cpasync)") {
  std::map<std::string, int64_t> constants;
#define TLC_CONSTANT(Name, Number, Summary) constants[#Name] = Number;
#include "ir/Constants.def"
#undef TLC_CONSTANT
  CHECK(constants == std::map<std::string, int64_t>{{"BYTES_PER_POINTER", 8}, {"BYTES_PER_TENSORMAP", 128}});
}

TEST_CASE("facts: eviction policies") {
  for (EvictionPolicy e : {EvictionPolicy::Normal, EvictionPolicy::First, EvictionPolicy::Last}) {
    CHECK(evictionPolicyNamed(name(e)) == e);
    CHECK(evictionPolicyWithHint(cacheHint(e)) == e);
  }
  CHECK(cacheHint(EvictionPolicy::Normal) == 0);
  CHECK(kCacheHintEvictFirst == 0x12F0000000000000LL);
  CHECK(evictionPolicySpellings() == std::vector<std::string>{"evict_normal", "evict_first", "evict_last"});
  CHECK_FALSE(evictionPolicyNamed("evict_unchanged"));
}
