// IR: dtype tables, folding builders, the text printer and the loop-IR verifier.
#include "ir/IR.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <ostream>
#include <sstream>

#include "ir/Rewrite.h"
#include "ir/StmtVisitor.h"

namespace tlc::ir {

// ------------------------------------------------------------------- types

namespace {
enum class DTypeClass { Bool, Int, Float, Handle };
struct DTypeRow {
  DType type;
  const char* name;
  int bits;
  DTypeClass typeClass;
  bool isSigned, storageOnly;
  const char* cType;
  const char* tensorMapType;
};
constexpr DTypeRow kDTypes[] = {
#define TLC_DTYPE(Id, Name, Bits, Class, Signed, StorageOnly, CType, TensorMap, Llvm) \
  {DType::Id, Name, Bits, DTypeClass::Class, Signed, StorageOnly, CType, TensorMap},
#include "ir/DTypes.def"
};
struct DTypeAlias {
  const char* spelling;
  DType type;
};
constexpr DTypeAlias kDTypeAliases[] = {
#define TLC_DTYPE_ALIAS(Spelling, Id) {Spelling, DType::Id},
#include "ir/DTypes.def"
};
const DTypeRow& row(DType t) { return kDTypes[static_cast<int>(t)]; }
}  // namespace

const char* name(DType t) { return row(t).name; }
int bits(DType t) { return row(t).bits; }
bool isFloat(DType t) { return row(t).typeClass == DTypeClass::Float; }
bool isInt(DType t) { return row(t).typeClass == DTypeClass::Int; }
bool isSigned(DType t) { return row(t).isSigned; }
bool isStorageOnly(DType t) { return row(t).storageOnly; }
const char* headerCType(DType t) { return row(t).cType; }
const char* tensorMapDataTypeName(DType t) { return row(t).tensorMapType; }

std::optional<DType> dtypeFromName(std::string_view n) {
  for (const auto& r : kDTypes)
    if (n == r.name && r.type != DType::Handle) return r.type;
  for (const auto& a : kDTypeAliases)
    if (n == a.spelling) return a.type;
  return std::nullopt;
}

const char* name(MemScope s) {
  switch (s) {
    case MemScope::Global: return "global";
    case MemScope::Shared: return "shared.dyn";
    case MemScope::Fragment: return "local.fragment";
    case MemScope::Local: return "local";
  }
  return "?";
}

namespace {
constexpr BuiltinInfo kBuiltins[] = {
#define TLC_BUILTIN(Id, Name, Arity, Result, Varies, Math) \
  {Name, Arity, BuiltinResult::Result, BuiltinVaries::Varies, BuiltinMath::Math},
#include "ir/Builtins.def"
};
}  // namespace

const BuiltinInfo& info(Builtin b) { return kBuiltins[static_cast<int>(b)]; }
const char* name(Builtin b) { return info(b).name; }

std::optional<Builtin> mathFunctionNamed(std::string_view name) {
  for (size_t i = 0; i < std::size(kBuiltins); ++i)
    if (kBuiltins[i].math != BuiltinMath::Internal && name == kBuiltins[i].name) return static_cast<Builtin>(i);
  return std::nullopt;
}

namespace {
// The enumerator of a facts table (an X-macro .def: row i is enumerator i) whose
// `spelling` is `s`, and every row's spelling (for "valid: ..." lists).
template <class Enum, class Row, size_t N>
std::optional<Enum> rowSpelled(const Row (&table)[N], std::string_view s) {
  for (size_t i = 0; i < N; ++i)
    if (s == table[i].spelling) return static_cast<Enum>(i);
  return std::nullopt;
}
template <class Row, size_t N>
std::vector<std::string> spellingsOf(const Row (&table)[N]) {
  std::vector<std::string> spellings;
  for (const auto& row : table) spellings.push_back(row.spelling);
  return spellings;
}
}  // namespace

std::optional<RoundingMode> roundingModeNamed(std::string_view spelling) {
  return rowSpelled<RoundingMode>(kRoundingModes, spelling);
}
std::vector<std::string> roundingModeSpellings() { return spellingsOf(kRoundingModes); }

std::optional<EvictionPolicy> evictionPolicyNamed(std::string_view spelling) {
  return rowSpelled<EvictionPolicy>(kEvictionPolicies, spelling);
}

std::optional<EvictionPolicy> evictionPolicyWithHint(int64_t hint) {
  for (size_t i = 0; i < std::size(kEvictionPolicies); ++i)
    if (hint == kEvictionPolicies[i].cacheHint) return static_cast<EvictionPolicy>(i);
  return std::nullopt;
}

std::vector<std::string> evictionPolicySpellings() { return spellingsOf(kEvictionPolicies); }

const char* name(IntrinsicOp op) {
  switch (op) {
    case IntrinsicOp::MbarrierInit: return "mbarrier_init";
    case IntrinsicOp::MbarrierArriveExpectTx: return "mbarrier_arrive_expect_tx";
    case IntrinsicOp::MbarrierWaitParity: return "mbarrier_wait_parity";
    case IntrinsicOp::MbarrierArrive: return "mbarrier_arrive";
    case IntrinsicOp::MbarrierExpectTx: return "mbarrier_expect_tx";
    case IntrinsicOp::FenceMbarrierInit: return "fence_mbarrier_init";
    case IntrinsicOp::TmaLoad: return "tma_load";
    case IntrinsicOp::TmaStore: return "tma_store";
    case IntrinsicOp::TmaLoadIm2col: return "tma_load_im2col";
    case IntrinsicOp::BulkCommitGroup: return "bulk_commit_group";
    case IntrinsicOp::BulkWaitGroupRead: return "bulk_wait_group_read";
    case IntrinsicOp::BulkWaitGroup: return "bulk_wait_group";
    case IntrinsicOp::PrefetchTensorMap: return "prefetch_tensor_map";
    case IntrinsicOp::CpAsync: return "cp_async";
    case IntrinsicOp::CpAsyncCommitGroup: return "cp_async_commit_group";
    case IntrinsicOp::CpAsyncWaitGroup: return "cp_async_wait_group";
    case IntrinsicOp::TmaGather4: return "tma_gather4";
    case IntrinsicOp::TmaScatter4: return "tma_scatter4";
    case IntrinsicOp::MbarrierArriveRemote: return "mbarrier_arrive_remote";
    case IntrinsicOp::BulkCopyDsmem: return "bulk_copy_dsmem";
    case IntrinsicOp::BulkLoad: return "bulk_load";
    case IntrinsicOp::BulkStore: return "bulk_store";
  }
  return "?";
}

const char* spelling(BinOp op) {
  switch (op) {
    case BinOp::Add: return "+";
    case BinOp::Sub: return "-";
    case BinOp::Mul: return "*";
    case BinOp::Div: return "/";
    case BinOp::FloorDiv: return "//";
    case BinOp::FloorMod: return "%";
    case BinOp::Min: return "min";
    case BinOp::Max: return "max";
    case BinOp::Pow: return "**";
    case BinOp::BitAnd: return "&";
    case BinOp::BitOr: return "|";
    case BinOp::BitXor: return "^";
    case BinOp::Shl: return "<<";
    case BinOp::Shr: return ">>";
    case BinOp::Lt: return "<";
    case BinOp::Le: return "<=";
    case BinOp::Gt: return ">";
    case BinOp::Ge: return ">=";
    case BinOp::Eq: return "==";
    case BinOp::Ne: return "!=";
    case BinOp::And: return "and";
    case BinOp::Or: return "or";
  }
  return "?";
}

// ---------------------------------------------------------------- identity

namespace {
// The one piece of process-wide state in the IR: see CreationId in IR.h for why a
// counter shared by all compilations of a process still gives deterministic output.
// Atomic: tlc -j lowers groups of kernels on several threads at once.
std::atomic<uint64_t> nextCreationNumber{0};
uint64_t takeCreationNumber() { return nextCreationNumber.fetch_add(1, std::memory_order_relaxed); }
}  // namespace

CreationId::CreationId() : order(takeCreationNumber()), serial(order) {}
CreationId::CreationId(const CreationId& original) : order(original.order), serial(takeCreationNumber()) {}

// ---------------------------------------------------------------- builders

ExprRef intImm(int64_t v, DType t) { return std::make_shared<IntImm>(t, v); }
ExprRef floatImm(double v, DType t) { return std::make_shared<FloatImm>(t, v); }
VarRef makeVar(std::string n, DType t) { return std::make_shared<VarNode>(std::move(n), t); }

std::optional<int64_t> asConstInt(const ExprRef& e) {
  if (e && e->kind == ExprKind::IntImm) return e->as<IntImm>().value;
  return std::nullopt;
}
static std::optional<double> asConstFloat(const ExprRef& e) {
  if (e && e->kind == ExprKind::FloatImm) return e->as<FloatImm>().value;
  return std::nullopt;
}

static bool isComparison(BinOp op) {
  return op == BinOp::Lt || op == BinOp::Le || op == BinOp::Gt || op == BinOp::Ge ||
         op == BinOp::Eq || op == BinOp::Ne;
}

// The common type of two operands: floats win over ints, wider wins, signed wins ties.
static DType promote(DType a, DType b) {
  if (a == b) return a;
  if (isFloat(a) != isFloat(b)) return isFloat(a) ? a : b;
  if (a == DType::Bool) return b;
  if (b == DType::Bool) return a;
  if (bits(a) != bits(b)) return bits(a) > bits(b) ? a : b;
  return isSigned(a) ? a : b;
}

static int64_t floorDivInt(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
static int64_t floorModInt(int64_t a, int64_t b) { return a - floorDivInt(a, b) * b; }

static std::optional<int64_t> foldInt(BinOp op, int64_t a, int64_t b) {
  switch (op) {
    // A result that overflows int64 is not folded (signed overflow is undefined here).
    case BinOp::Add: { int64_t r; if (__builtin_add_overflow(a, b, &r)) return std::nullopt; return r; }
    case BinOp::Sub: { int64_t r; if (__builtin_sub_overflow(a, b, &r)) return std::nullopt; return r; }
    case BinOp::Mul: { int64_t r; if (__builtin_mul_overflow(a, b, &r)) return std::nullopt; return r; }
    case BinOp::FloorDiv: if (b == 0 || (a == INT64_MIN && b == -1)) return std::nullopt; return floorDivInt(a, b);
    case BinOp::FloorMod: if (b == 0 || (a == INT64_MIN && b == -1)) return std::nullopt; return floorModInt(a, b);
    case BinOp::Min: return std::min(a, b);
    case BinOp::Max: return std::max(a, b);
    case BinOp::BitAnd: return a & b;
    case BinOp::BitOr: return a | b;
    case BinOp::BitXor: return a ^ b;
    case BinOp::Shl: {
      int64_t r;
      if (b < 0 || b > 62 || __builtin_mul_overflow(a, int64_t(1) << b, &r)) return std::nullopt;
      return r;
    }
    case BinOp::Shr: if (b < 0 || b > 62) return std::nullopt; return a >> b;
    case BinOp::Lt: return a < b;
    case BinOp::Le: return a <= b;
    case BinOp::Gt: return a > b;
    case BinOp::Ge: return a >= b;
    case BinOp::Eq: return a == b;
    case BinOp::Ne: return a != b;
    case BinOp::And: return (a != 0) && (b != 0);
    case BinOp::Or: return (a != 0) || (b != 0);
    default: return std::nullopt;
  }
}

std::optional<int64_t> evalInt(const ExprRef& e, const std::vector<std::pair<const VarNode*, int64_t>>& vars) {
  if (!e) return std::nullopt;
  switch (e->kind) {
    case ExprKind::IntImm: return e->as<IntImm>().value;
    case ExprKind::Var:
      for (const auto& [v, value] : vars)
        if (v == &e->as<VarNode>()) return value;
      return std::nullopt;
    case ExprKind::Binary: {
      const auto& b = e->as<BinaryNode>();
      auto x = evalInt(b.a, vars), y = evalInt(b.b, vars);
      if (!x || !y || (!isInt(b.a->dtype) && b.a->dtype != DType::Bool)) return std::nullopt;
      auto r = foldInt(b.op, *x, *y);
      // Int32 arithmetic wraps at run time; a value that does not fit is an overflow.
      if (r && e->dtype == DType::Int32 && (*r < INT32_MIN || *r > INT32_MAX)) return std::nullopt;
      return r;
    }
    case ExprKind::Unary: {
      const auto& u = e->as<UnaryNode>();
      auto x = evalInt(u.a, vars);
      if (!x) return std::nullopt;
      switch (u.op) {
        case UnOp::Neg: if (*x == INT64_MIN) return std::nullopt; return -*x;
        case UnOp::BitNot: return ~*x;
        case UnOp::Not: return *x == 0;
      }
      return std::nullopt;
    }
    case ExprKind::Select: {
      const auto& s = e->as<SelectNode>();
      auto c = evalInt(s.cond, vars);
      if (!c) return std::nullopt;
      return evalInt(*c ? s.t : s.f, vars);
    }
    case ExprKind::Cast: {
      const auto& c = e->as<CastNode>();
      if (!isInt(e->dtype) && e->dtype != DType::Bool) return std::nullopt;
      auto x = evalInt(c.a, vars);
      if (!x) return std::nullopt;
      if (e->dtype == DType::Bool) return *x != 0;
      return x;
    }
    default: return std::nullopt;
  }
}

// `x` rounded to nearest even in float type `t` (the GPU's cvt.rn), overflowing to
// +-Inf: a folded cast must hold the value the run-time conversion would give, or a
// later fold (a cast back, an addition) computes with a value the type cannot hold.
static double roundToFloatType(double x, DType t) {
  if (t == DType::Float32) return double(float(x));
  if (t != DType::Float16 && t != DType::BFloat16) return x;
  if (!std::isfinite(x) || x == 0) return x;
  int mantissaBits = t == DType::Float16 ? 10 : 7, minExponent = t == DType::Float16 ? -14 : -126;
  double maxFinite = t == DType::Float16 ? 65504.0 : 3.3895313892515355e38;
  int e = std::max(std::ilogb(x), minExponent);  // below it the spacing stays (subnormals)
  double quantum = std::ldexp(1.0, e - mantissaBits);
  double r = std::nearbyint(x / quantum) * quantum;  // default rounding mode: ties to even
  return std::fabs(r) > maxFinite ? std::copysign(INFINITY, r) : r;
}

ExprRef cast(DType to, ExprRef a) {
  if (a->dtype == to) return a;
  if (auto c = asConstInt(a)) {
    if (isInt(a->dtype)) {
      // A constant its own type cannot hold (kept by the rule below) is, at run time,
      // its truncation: cast(cast(300, uint8), int32) is 44, to float32 44.0, and
      // uint8 256 is False.
      int width = bits(a->dtype);
      uint64_t low = uint64_t(*c);
      if (width < 64) {
        uint64_t mask = (uint64_t(1) << width) - 1;
        low &= mask;
        if (isSigned(a->dtype) && ((low >> (width - 1)) & 1)) low |= ~mask;
      }
      if (int64_t(low) != *c && (!isInt(to) || bits(to) > width)) return cast(to, intImm(int64_t(low), a->dtype));
    }
    if (to == DType::Bool) return intImm(*c != 0, to);
    // A value the target cannot hold (an int64 index INT64_MAX cast to int32) keeps
    // its value: sema's bounds errors name the number the user wrote, and Codegen and
    // the interpreter truncate an IntImm to its type where it is used.
    if (isInt(to)) return intImm(*c, to);
    if (isFloat(to) && !isStorageOnly(to)) {
      // An unsigned value with the top bit set is stored negative. Values beyond 2^53
      // would round twice (to double, then to `to`): left to the run-time conversion.
      bool isUnsigned = isInt(a->dtype) && !isSigned(a->dtype);
      double x = isUnsigned ? double(uint64_t(*c)) : double(*c);
      bool exact = isUnsigned ? uint64_t(*c) <= (uint64_t(1) << 53)
                              : (*c >= -(int64_t(1) << 53) && *c <= (int64_t(1) << 53));
      if (exact) return floatImm(roundToFloatType(x, to), to);
    }
  }
  if (auto f = asConstFloat(a)) {
    if (isFloat(to) && !isStorageOnly(to)) return floatImm(roundToFloatType(*f, to), to);
  }
  return std::make_shared<CastNode>(to, std::move(a));
}

ExprRef binary(BinOp op, ExprRef a, ExprRef b) {
  DType common = promote(a->dtype, b->dtype);
  if (op == BinOp::And || op == BinOp::Or) common = DType::Bool;
  if (op == BinOp::Shl || op == BinOp::Shr) common = a->dtype;
  a = cast(common, std::move(a));
  b = cast(common, std::move(b));
  DType result = isComparison(op) ? DType::Bool : common;
  int lanes = std::max(a->lanes, b->lanes);

  auto ca = asConstInt(a), cb = asConstInt(b);
  if (ca && cb && lanes == 1) {
    if (auto v = foldInt(op, *ca, *cb)) return intImm(*v, result);
  }
  auto fa = asConstFloat(a), fb = asConstFloat(b);
  if (fa && fb && lanes == 1) {
    switch (op) {
      case BinOp::Add: return floatImm(*fa + *fb, result);
      case BinOp::Sub: return floatImm(*fa - *fb, result);
      case BinOp::Mul: return floatImm(*fa * *fb, result);
      case BinOp::Div: return floatImm(*fa / *fb, result);
      case BinOp::Min: return floatImm(std::min(*fa, *fb), result);
      case BinOp::Max: return floatImm(std::max(*fa, *fb), result);
      default: break;
    }
  }
  // Algebraic identities that keep index arithmetic readable and foldable.
  if (isInt(common) && lanes == 1) {
    switch (op) {
      case BinOp::Add:
        if (ca && *ca == 0) return b;
        if (cb && *cb == 0) return a;
        // (x + c1) + c2 -> x + (c1 + c2)
        if (cb && a->kind == ExprKind::Binary && a->as<BinaryNode>().op == BinOp::Add) {
          if (auto inner = asConstInt(a->as<BinaryNode>().b))
            if (auto sum = foldInt(BinOp::Add, *inner, *cb))  // not when c1 + c2 overflows
              return binary(BinOp::Add, a->as<BinaryNode>().a, intImm(*sum, common));
        }
        break;
      case BinOp::Sub:
        if (cb && *cb == 0) return a;
        if (cb && *cb != INT64_MIN) return binary(BinOp::Add, a, intImm(-*cb, common));  // -INT64_MIN overflows
        break;
      case BinOp::Mul:
        if ((ca && *ca == 0) || (cb && *cb == 0)) return intImm(0, result);
        if (ca && *ca == 1) return b;
        if (cb && *cb == 1) return a;
        break;
      // By a power of two, floor division is an arithmetic shift and the floor
      // remainder a mask, for operands of either sign (two's complement).
      case BinOp::FloorDiv:
        if (cb && *cb == 1) return a;
        if (cb && *cb > 0 && (*cb & (*cb - 1)) == 0)
          return binary(BinOp::Shr, a, intImm(__builtin_ctzll(*cb), common));
        break;
      case BinOp::FloorMod:
        if (cb && *cb == 1) return intImm(0, result);
        if (cb && *cb > 0 && (*cb & (*cb - 1)) == 0) return binary(BinOp::BitAnd, a, intImm(*cb - 1, common));
        break;
      default: break;
    }
  }
  if (op == BinOp::And) {
    if (ca) return *ca ? b : intImm(0, DType::Bool);
    if (cb) return *cb ? a : intImm(0, DType::Bool);
  }
  if (op == BinOp::Or) {
    if (ca) return *ca ? intImm(1, DType::Bool) : b;
    if (cb) return *cb ? intImm(1, DType::Bool) : a;
  }
  return std::make_shared<BinaryNode>(op, std::move(a), std::move(b), result, lanes);
}

ExprRef unary(UnOp op, ExprRef a) {
  if (auto c = asConstInt(a)) {
    switch (op) {
      // -INT64_MIN does not exist: left unfolded, like the binary folds that overflow
      // (sema reports constant overflow where the user wrote it).
      case UnOp::Neg: if (*c == INT64_MIN) break; return intImm(-*c, a->dtype);
      case UnOp::BitNot: return intImm(~*c, a->dtype);
      case UnOp::Not: return intImm(*c == 0, DType::Bool);
    }
  }
  if (auto f = asConstFloat(a); f && op == UnOp::Neg) return floatImm(-*f, a->dtype);
  return std::make_shared<UnaryNode>(op, std::move(a));
}

ExprRef select(ExprRef c, ExprRef t, ExprRef f) {
  if (auto k = asConstInt(c)) return *k ? t : f;
  DType common = promote(t->dtype, f->dtype);
  return std::make_shared<SelectNode>(std::move(c), cast(common, std::move(t)), cast(common, std::move(f)));
}

ExprRef call(Builtin b, std::vector<ExprRef> args, DType t, int dim) {
  const BuiltinInfo& row = info(b);
  TLC_ASSERT(row.arity < 0 || (int)args.size() == row.arity,
             std::string(row.name) + " takes " + std::to_string(row.arity) + " arguments");
  DType expected = t;
  switch (row.result) {
    case BuiltinResult::SameAsArgument: expected = args[0]->dtype; break;
    case BuiltinResult::Int32: expected = DType::Int32; break;
    case BuiltinResult::UInt64: expected = DType::UInt64; break;
    case BuiltinResult::Bool: expected = DType::Bool; break;
    case BuiltinResult::Float4E2M1: expected = DType::Float4E2M1; break;
  }
  TLC_ASSERT(t == expected, std::string(row.name) + " of type " + ir::name(t) + ", not " + ir::name(expected));
  auto node = std::make_shared<CallNode>(b, std::move(args), t);
  node->dim = dim;
  return node;
}

ExprRef callWithArgs(const CallNode& c, std::vector<ExprRef> args) {
  const BuiltinInfo& row = info(c.builtin);
  TLC_ASSERT(row.arity < 0 || (int)args.size() == row.arity, std::string(row.name) + " with the wrong number of arguments");
  auto node = std::make_shared<CallNode>(c.builtin, std::move(args), c.dtype);
  node->dim = c.dim;
  node->strings = c.strings;
  return node;
}

const char* name(ReduceKind k) {
  switch (k) {
    case ReduceKind::Sum: return "reduce_sum";
    case ReduceKind::Max: return "reduce_max";
    case ReduceKind::Min: return "reduce_min";
    case ReduceKind::AbsSum: return "reduce_abssum";
    case ReduceKind::AbsMax: return "reduce_absmax";
  }
  return "?";
}

const char* name(AtomicOp op) {
  switch (op) {
    case AtomicOp::None: return "store";
    case AtomicOp::Add: return "atomic_add";
    case AtomicOp::Max: return "atomic_max";
    case AtomicOp::Min: return "atomic_min";
  }
  return "?";
}

const char* name(MemoryOrder order) {
  switch (order) {
    case MemoryOrder::Relaxed: return "relaxed";
    case MemoryOrder::Acquire: return "acquire";
    case MemoryOrder::Release: return "release";
    case MemoryOrder::AcqRel: return "acq_rel";
    case MemoryOrder::SeqCst: return "seq_cst";
  }
  return "?";
}

std::shared_ptr<StoreStmt> moveStore(const StoreStmt& st, BufferRef buffer, std::vector<ExprRef> indices,
                                     ExprRef value) {
  auto out = std::make_shared<StoreStmt>(st);
  out->buffer = std::move(buffer);
  out->indices = std::move(indices);
  out->value = std::move(value);
  return out;
}

std::shared_ptr<LoadNode> moveLoad(const LoadNode& l, BufferRef buffer, std::vector<ExprRef> indices) {
  auto out = std::make_shared<LoadNode>(l);
  out->buffer = std::move(buffer);
  out->indices = std::move(indices);
  return out;
}

ExprRef add(ExprRef a, ExprRef b) { return binary(BinOp::Add, std::move(a), std::move(b)); }
ExprRef sub(ExprRef a, ExprRef b) { return binary(BinOp::Sub, std::move(a), std::move(b)); }
ExprRef mul(ExprRef a, ExprRef b) { return binary(BinOp::Mul, std::move(a), std::move(b)); }
std::optional<BroadcastIndex> broadcastIndexOf(const ExprRef& e, const std::vector<VarRef>& vars) {
  auto axisOf = [&](const ExprRef& v) {
    for (size_t d = 0; d < vars.size(); ++d)
      if (v.get() == vars[d].get()) return (int)d;
    return -1;
  };
  if (auto c = asConstInt(e)) return *c == 0 ? std::optional<BroadcastIndex>(BroadcastIndex{}) : std::nullopt;
  if (int d = axisOf(e); d >= 0) return BroadcastIndex{d, 1};
  if (e->kind != ExprKind::Binary) return std::nullopt;
  const auto& b = e->as<BinaryNode>();
  int d = axisOf(b.a);
  auto k = asConstInt(b.b);
  if (d < 0 || !k) return std::nullopt;
  if (b.op == BinOp::FloorDiv && *k > 0) return BroadcastIndex{d, *k};
  if (b.op == BinOp::Shr && *k >= 0 && *k < 31) return BroadcastIndex{d, int64_t(1) << *k};
  return std::nullopt;
}

ExprRef floorDiv(ExprRef a, ExprRef b) { return binary(BinOp::FloorDiv, std::move(a), std::move(b)); }
ExprRef floorMod(ExprRef a, ExprRef b) { return binary(BinOp::FloorMod, std::move(a), std::move(b)); }

ExprRef sharedElementOffset(const Buffer& b, const std::vector<ExprRef>& logical) {
  const SharedLayout& l = b.sharedLayout;
  std::vector<ExprRef> idx = logical;
  if (l.permutesPieces() && idx.size() >= 2) {
    // Indices are non-negative, so floor division and modulo are the plain ones.
    ExprRef key = floorMod(floorDiv(idx[idx.size() - 2], intImm(l.rowDiv)), intImm(l.span));
    idx.back() = binary(BinOp::BitXor, idx.back(), mul(key, intImm(l.unit)));
  }
  if (l.mapped()) {
    // The map's outputs at these indices, row-major over the physical array.
    VarMap at;
    for (size_t a = 0; a < l.mapParams.size(); ++a) at[l.mapParams[a].get()] = cast(DType::Int32, idx[a]);
    ExprRef offset = intImm(0);
    for (size_t k = 0; k < l.mapOutputs.size(); ++k)
      offset = add(mul(offset, intImm(l.mapShape[k])), substitute(l.mapOutputs[k], at));
    return offset;
  }
  ExprRef offset = intImm(0);
  for (size_t a = 0; a < idx.size(); ++a) offset = add(offset, mul(cast(DType::Int32, idx[a]), cast(DType::Int32, b.strides[a])));
  if (l.swizzleBytes) {
    // In elements of 2^k bytes: bits [4-k, ...) of the offset XOR bits [7-k, ...).
    int elemBytes = bits(b.dtype) / 8;
    ExprRef key = floorMod(floorDiv(offset, intImm(128 / elemBytes)), intImm(l.swizzleBytes / 16));
    offset = binary(BinOp::BitXor, offset, mul(key, intImm(16 / elemBytes)));
  }
  return offset;
}

int64_t sharedElementOffset(const SharedLayout& l, DType t, int64_t linear, int64_t row, int64_t col) {
  if (l.permutesPieces()) linear += swizzledColumn(l, row, col) - col;
  if (l.swizzleBytes) {
    int64_t e = bits(t) / 8;
    int64_t bytes = linear * e;
    bytes ^= ((bytes >> 7) % (l.swizzleBytes / 16)) << 4;
    linear = bytes / e;
  }
  return linear;
}

std::string describe(const SharedLayout& l, DType t) {
  std::ostringstream os;
  int e = bits(t) / 8;
  if (l.permutesPieces())
    os << "swizzle(col ^ ((row / " << l.rowDiv << ") % " << l.span << ") * " << l.unit << ")";
  if (l.swizzleBytes) os << "swizzle(" << l.swizzleBytes << "B: 16-byte chunk ^= (byte offset / 128) % " << l.swizzleBytes / 16 << ")";
  if (l.pad) os << "padded(" << l.pad << " elements, " << l.pad * e << " bytes per row)";
  if (l.mapped()) {
    os << "index map (";
    for (size_t a = 0; a < l.mapParams.size(); ++a) os << (a ? ", " : "") << l.mapParams[a]->name;
    // One output prints as itself (toString parenthesizes a binary), several as a tuple.
    const bool one = l.mapOutputs.size() == 1;
    os << ") -> " << (one ? "" : "(");
    for (size_t k = 0; k < l.mapOutputs.size(); ++k) os << (k ? ", " : "") << toString(l.mapOutputs[k]);
    os << (one ? "" : ")") << " over (";
    for (size_t k = 0; k < l.mapShape.size(); ++k) os << (k ? ", " : "") << l.mapShape[k];
    os << "), runs of " << l.mapRun;
  }
  return os.str();
}

int measureMapRun(const std::vector<int64_t>& offsets, int64_t inner, DType t) {
  for (int w = std::max(1, 128 / bits(t)); w > 1; w /= 2) {
    bool ok = inner % w == 0;
    for (size_t f = 0; ok && f < offsets.size(); f += w) {
      if (offsets[f] % w) ok = false;
      for (int k = 1; ok && k < w; ++k) ok = offsets[f + k] == offsets[f] + k;
    }
    if (ok) return w;
  }
  return 1;
}

int64_t sharedStorageElems(const Buffer& b) {
  if (b.sharedLayout.mapped()) {
    int64_t n = 1;
    for (int64_t e : b.sharedLayout.mapShape) n *= e;
    return n;
  }
  // Padded rows make the outermost stride larger than the row-major one.
  return *asConstInt(b.shape[0]) * *asConstInt(b.strides[0]);
}

int64_t swizzledColumn(const SharedLayout& l, int64_t row, int64_t col) {
  if (!l.permutesPieces()) return col;
  return col ^ (((row / l.rowDiv) % l.span) * l.unit);
}
ExprRef lt(ExprRef a, ExprRef b) { return binary(BinOp::Lt, std::move(a), std::move(b)); }
ExprRef logicalAnd(ExprRef a, ExprRef b) {
  if (!a) return b;
  if (!b) return a;
  return binary(BinOp::And, std::move(a), std::move(b));
}

static int64_t gcd(int64_t a, int64_t b) {
  a = a < 0 ? -a : a;
  b = b < 0 ? -b : b;
  while (b) { int64_t t = a % b; a = b; b = t; }
  return a;
}

int64_t knownMultiple(const ExprRef& e) {
  constexpr int64_t kCap = int64_t(1) << 30;
  if (auto c = asConstInt(e)) {
    if (*c == 0) return kCap;
    int64_t v = *c < 0 ? -*c : *c;
    return std::min<int64_t>(v & -v, kCap);  // largest power of two dividing c
  }
  if (e->kind == ExprKind::Binary) {
    const auto& b = e->as<BinaryNode>();
    switch (b.op) {
      case BinOp::Add:
      case BinOp::Sub: return gcd(knownMultiple(b.a), knownMultiple(b.b));
      case BinOp::Mul: return std::min<int64_t>(knownMultiple(b.a) * knownMultiple(b.b), kCap);
      case BinOp::Shl:
        if (auto s = asConstInt(b.b); s && *s >= 0 && *s < 30)
          return std::min<int64_t>(knownMultiple(b.a) << *s, kCap);
        return 1;
      default: return 1;
    }
  }
  if (e->kind == ExprKind::Cast) return knownMultiple(e->as<CastNode>().a);
  return 1;
}

// ----------------------------------------------------------------- printer

static void printExpr(const ExprRef& e, std::ostream& os);

// A global access's L2 policy, as the loop IR prints it: `{evict_first}`.
static std::string evictionHintName(int64_t hint) {
  auto e = evictionPolicyWithHint(hint);
  return "{" + std::string(e ? name(*e) : "cache_hint?") + "}";
}

static void printList(const std::vector<ExprRef>& v, std::ostream& os) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) os << ", ";
    printExpr(v[i], os);
  }
}

static void printExpr(const ExprRef& e, std::ostream& os) {
  if (!e) { os << "<null>"; return; }
  switch (e->kind) {
    case ExprKind::IntImm:
      os << e->as<IntImm>().value;
      if (e->dtype == DType::Int64) os << "L";
      if (e->dtype == DType::Bool) os << (e->as<IntImm>().value ? "" : "") ;
      break;
    case ExprKind::FloatImm: {
      std::ostringstream s;
      s.precision(9);
      s << e->as<FloatImm>().value;
      std::string t = s.str();
      if (t.find_first_of(".eEn") == std::string::npos) t += ".0";
      os << t;
      if (e->dtype != DType::Float32) os << "_" << name(e->dtype);
      break;
    }
    case ExprKind::Var: os << e->as<VarNode>().name; break;
    case ExprKind::Binary: {
      const auto& b = e->as<BinaryNode>();
      if (b.op == BinOp::Min || b.op == BinOp::Max) {
        os << spelling(b.op) << "(";
        printExpr(b.a, os);
        os << ", ";
        printExpr(b.b, os);
        os << ")";
      } else {
        os << "(";
        printExpr(b.a, os);
        os << " " << spelling(b.op) << " ";
        printExpr(b.b, os);
        os << ")";
      }
      break;
    }
    case ExprKind::Unary: {
      const auto& u = e->as<UnaryNode>();
      os << (u.op == UnOp::Neg ? "-" : u.op == UnOp::BitNot ? "~" : "not ");
      printExpr(u.a, os);
      break;
    }
    case ExprKind::Select: {
      const auto& s = e->as<SelectNode>();
      os << "select(";
      printExpr(s.cond, os);
      os << ", ";
      printExpr(s.t, os);
      os << ", ";
      printExpr(s.f, os);
      os << ")";
      break;
    }
    case ExprKind::Cast:
      os << "cast<" << name(e->dtype);
      if (e->lanes > 1) os << "x" << e->lanes;
      os << ">(";
      printExpr(e->as<CastNode>().a, os);
      os << ")";
      break;
    case ExprKind::Call: {
      const auto& c = e->as<CallNode>();
      os << name(c.builtin);
      if (c.builtin == Builtin::ThreadIdx || c.builtin == Builtin::BlockIdx)
        os << "." << "xyz"[c.dim];
      else if (c.builtin == Builtin::Print) {
        // print("msg", x = <expr>, ...): the labels the output will show.
        os << "(\"" << (c.strings.empty() ? "" : c.strings[0]) << "\"";
        for (size_t i = 0; i < c.args.size(); ++i) {
          os << ", " << (i + 1 < c.strings.size() ? c.strings[i + 1] : "?") << " = ";
          printExpr(c.args[i], os);
        }
        os << ")";
      } else {
        os << "(";
        printList(c.args, os);
        os << ")";
      }
      break;
    }
    case ExprKind::Load: {
      const auto& l = e->as<LoadNode>();
      os << l.buffer->name;
      if (l.buffer->clusterRank) {  // another block's tile (distributed shared memory)
        os << "@block(";
        printExpr(l.buffer->clusterRank, os);
        os << ")";
      }
      os << "[";
      printList(l.indices, os);
      os << "]";
      if (l.lanes > 1) os << "x" << l.lanes;
      if (l.cacheHint) os << " " << evictionHintName(l.cacheHint);
      if (l.predicate) {
        os << " if ";
        printExpr(l.predicate, os);
        os << " else ";
        if (l.otherwise) printExpr(l.otherwise, os); else os << "0";
      }
      break;
    }
  }
}

std::string toString(const ExprRef& e) {
  std::ostringstream os;
  printExpr(e, os);
  return os.str();
}

// A cluster mask as written in the source: 0b11.
static std::string binaryDigits(int64_t v) {
  std::string s;
  for (; v > 0; v >>= 1) s.insert(s.begin(), char('0' + (v & 1)));
  return s.empty() ? "0" : s;
}

static std::string loc(const SourceRange& r) {
  if (!r.valid()) return "";
  return "  @" + std::to_string(r.begin.line) + ":" + std::to_string(r.begin.column);
}

static void printRegion(const Region& r, std::ostream& os) {
  os << r.buffer->name << "[";
  for (size_t i = 0; i < r.mins.size(); ++i) {
    if (i) os << ", ";
    printExpr(r.mins[i], os);
    os << " +: " << r.extents[i];
  }
  os << "] (" << name(r.buffer->scope) << ", " << name(r.access) << ")";
}

static void printStmt(const StmtRef& s, std::ostream& os, int depth) {
  std::string pad(depth * 2, ' ');
  if (!s) return;
  switch (s->kind) {
    case StmtKind::Seq:
      for (const auto& c : s->as<SeqStmt>().stmts) printStmt(c, os, depth);
      break;
    case StmtKind::For: {
      const auto& f = s->as<ForStmt>();
      const char* kind = f.kind == ForKind::Serial ? "serial" : f.kind == ForKind::Unrolled ? "unrolled" : "pipelined";
      os << pad << "for " << f.var->name << " in " << kind << "(";
      printExpr(f.min, os);
      os << ", +";
      printExpr(f.extent, os);
      if (f.step) { os << ", step "; printExpr(f.step, os); }
      if (f.kind == ForKind::Pipelined) os << ", stages=" << f.stages;
      if (f.keepRolled) os << ", kept rolled";
      os << ") {" << loc(f.range) << "\n";
      printStmt(f.body, os, depth + 1);
      os << pad << "}\n";
      break;
    }
    case StmtKind::If: {
      const auto& i = s->as<IfStmt>();
      os << pad << "if ";
      printExpr(i.cond, os);
      os << " {" << loc(i.range) << "\n";
      printStmt(i.thenBody, os, depth + 1);
      if (i.elseBody) {
        os << pad << "} else {\n";
        printStmt(i.elseBody, os, depth + 1);
      }
      os << pad << "}\n";
      break;
    }
    case StmtKind::Let: {
      const auto& l = s->as<LetStmt>();
      os << pad << "let " << l.var->name << ": " << name(l.var->dtype) << " = ";
      printExpr(l.value, os);
      os << loc(l.range) << "\n";
      break;
    }
    case StmtKind::Assign: {
      const auto& a = s->as<AssignStmt>();
      os << pad << a.var->name << " = ";
      printExpr(a.value, os);
      os << loc(a.range) << "\n";
      break;
    }
    case StmtKind::Store: {
      const auto& st = s->as<StoreStmt>();
      os << pad << st.buffer->name;
      if (st.buffer->clusterRank) {  // another block's tile (distributed shared memory)
        os << "@block(";
        printExpr(st.buffer->clusterRank, os);
        os << ")";
      }
      os << "[";
      printList(st.indices, os);
      os << "]";
      if (st.value->lanes > 1) os << "x" << st.value->lanes;
      if (st.cacheHint) os << " " << evictionHintName(st.cacheHint);
      os << " = ";
      if (st.atomic != AtomicOp::None) {
        os << name(st.atomic);
        if (st.result) os << " returning " << st.result->name;
        if (st.order != MemoryOrder::Relaxed) os << " " << name(st.order);
        os << " ";
      }
      if (st.bitMask) {  // an atomic read-modify-write of some bits
        os << "atomic bits ";
        printExpr(st.bitMask, os);
        os << " of ";
      }
      printExpr(st.value, os);
      if (st.predicate) { os << " if "; printExpr(st.predicate, os); }
      os << loc(st.range) << "\n";
      break;
    }
    case StmtKind::Barrier:
      os << pad << (s->as<BarrierStmt>().barrier == BarrierKind::SyncThreads ? "sync_threads()"
                    : s->as<BarrierStmt>().barrier == BarrierKind::ClusterSync ? "cluster_sync()"
                    : s->as<BarrierStmt>().barrier == BarrierKind::ClusterArrive ? "cluster_arrive()"
                    : s->as<BarrierStmt>().barrier == BarrierKind::ClusterWait ? "cluster_wait()"
                                                                                : "fence_proxy_async()")
         << loc(s->range) << "\n";
      break;
    case StmtKind::Intrinsic: {
      const auto& in = s->as<IntrinsicStmt>();
      os << pad << name(in.op) << "(";
      bool first = true;
      if (in.tensorMap) { os << in.tensorMap->name; first = false; }
      if (in.buffer) { os << (first ? "" : ", ") << in.buffer->name; first = false; }
      if (in.barrier) {
        os << (first ? "" : ", ") << in.barrier->name;
        if (in.barrierIndex) {
          os << "[";
          printExpr(in.barrierIndex, os);
          os << "]";
        }
        first = false;
      }
      if (in.shared) {
        os << (first ? "" : ", ") << "&" << in.shared->name << "[";
        printExpr(in.sharedElement, os);
        os << "]";
        first = false;
      }
      for (const auto& a : in.args) {
        os << (first ? "" : ", ");
        first = false;
        printExpr(a, os);
      }
      if (in.op == IntrinsicOp::BulkWaitGroup || in.op == IntrinsicOp::BulkWaitGroupRead ||
          in.op == IntrinsicOp::CpAsyncWaitGroup || in.op == IntrinsicOp::CpAsync)
        os << (first ? "" : ", ") << in.immediate;
      if (in.op == IntrinsicOp::TmaGather4 || in.op == IntrinsicOp::TmaScatter4) os << " box=1x" << in.immediate;
      os << ")";
      if (in.op == IntrinsicOp::TmaLoad && in.immediate) os << " multicast=0b" << binaryDigits(in.immediate);
      if (in.op == IntrinsicOp::MbarrierWaitParity && in.immediate) os << " acquire.cluster";
      if (in.cacheHint) os << " cache_hint=0x" << std::hex << in.cacheHint << std::dec;
      os << loc(in.range) << "\n";
      break;
    }
    case StmtKind::Copy: {
      const auto& c = s->as<CopyOp>();
      if (c.im2col) {
        const auto& m = *c.im2col;
        os << pad << m.opName << " " << c.src.buffer->name << " (" << name(c.src.buffer->scope) << ", r) rows ";
        printExpr(m.rowStart, os);
        os << " cols ";
        printExpr(m.colStart, os);
        os << " kernel " << m.kernel << " stride " << m.stride << " dilation " << m.dilation << " pad " << m.pad
           << " out (";
        printExpr(m.outH, os);
        os << ", ";
        printExpr(m.outW, os);
        os << ") -> ";
      } else {
        os << pad << (c.transpose ? "transpose " : c.options.atomic != AtomicOp::None ? std::string(name(c.options.atomic)) + " " : std::string("copy "));
        printRegion(c.src, os);
        os << " -> ";
      }
      printRegion(c.dst, os);
      if (c.options.coalescedWidth) os << " coalesced_width=" << c.options.coalescedWidth;
      if (c.options.disableTma) os << " disable_tma";
      if (c.options.eviction != EvictionPolicy::Normal) os << " " << name(c.options.eviction);
      if (c.options.prefer == PreferInstruction::Tma) os << " prefer=tma";
      if (c.options.prefer == PreferInstruction::CpAsync) os << " prefer=cp_async";
      if (c.options.prefer == PreferInstruction::Sync) os << " prefer=sync";
      if (c.options.layout) os << " loop_layout=" << c.options.layout->name;
      if (c.clusterMask) os << " cluster_mask=0b" << binaryDigits(c.clusterMask);
      if (c.dstBlock) { os << " dst_block="; printExpr(c.dstBlock, os); }
      if (c.dstBlock && c.options.barrier) os << " remote_barrier=" << c.options.barrier->name;
      os << loc(c.range) << "\n";
      break;
    }
    case StmtKind::Parallel: {
      const auto& p = s->as<ParallelOp>();
      os << pad << "parallel ";
      for (size_t i = 0; i < p.vars.size(); ++i) os << (i ? ", " : "") << p.vars[i]->name;
      os << " in (";
      for (size_t i = 0; i < p.extents.size(); ++i) os << (i ? ", " : "") << p.extents[i];
      os << ")";
      if (p.layout) os << " loop_layout=" << p.layout->name;
      os << " {" << loc(p.range) << "\n";
      printStmt(p.body, os, depth + 1);
      os << pad << "}\n";
      break;
    }
    case StmtKind::Fill: {
      const auto& f = s->as<FillOp>();
      os << pad << "fill ";
      printRegion(f.dst, os);
      os << " = ";
      printExpr(f.value, os);
      os << loc(f.range) << "\n";
      break;
    }
    case StmtKind::Reduce: {
      const auto& r = s->as<ReduceOp>();
      static const char* parts[] = {"", " warp_partials", " fold_warps"};
      os << pad << name(r.op) << " " << r.src->name << " -> " << r.dst->name << " dim=" << r.dim
         << (r.clear ? "" : " clear=False") << " acc=" << name(r.acc) << parts[int(r.part)];
      if (r.scratch) os << " scratch=" << r.scratch->name;
      if (r.shuffle) os << " shuffle";
      if (r.fallback) {
        os << " {" << loc(r.range) << "\n";
        printStmt(r.fallback, os, depth + 1);
        os << pad << "}\n";
      } else {
        os << loc(r.range) << "\n";
      }
      break;
    }
  }
}

void print(const Kernel& k, std::ostream& os) {
  os << "kernel " << k.name;
  if (k.sourceName != k.name) os << " (variant of " << k.sourceName << ")";
  os << loc(k.range) << "\n";
  for (const auto& p : k.params) {
    os << "  param " << p.name << ": ";
    switch (p.kind) {
      case ParamKind::Pointer: os << "pointer to " << name(p.elementType); break;
      case ParamKind::Dim: os << "dim int32"; break;
      case ParamKind::Scalar: os << name(p.var->dtype); break;
      case ParamKind::TensorMap: {
        if (const auto& m = p.tensorMap->im2col) {
          os << "im2col tensor map of " << p.tensorMap->tensor->name << ", " << m->pixels << " pixels x " << m->channels
             << " channels, corners W [" << m->lowerCorner[0] << ", " << m->upperCorner[0] << "] H ["
             << m->lowerCorner[1] << ", " << m->upperCorner[1] << "], stride " << m->stride << ", swizzle "
             << (p.tensorMap->swizzleBytes ? std::to_string(p.tensorMap->swizzleBytes) + "B" : "none");
          break;
        }
        os << "tensor map of " << p.tensorMap->tensor->name << ", box (";
        for (size_t i = 0; i < p.tensorMap->box.size(); ++i) os << (i ? ", " : "") << p.tensorMap->box[i];
        os << "), swizzle " << (p.tensorMap->swizzleBytes ? std::to_string(p.tensorMap->swizzleBytes) + "B" : "none");
        if (p.tensorMap->unpackFp4) os << ", fp4 unpacked (16U4_ALIGN16B)";
        break;
      }
    }
    os << "\n";
  }
  os << "  grid (";
  for (int i = 0; i < 3; ++i) {
    if (i) os << ", ";
    printExpr(k.grid[i], os);
  }
  os << "), threads " << k.threads;
  if (k.clusterDims[0] * k.clusterDims[1] * k.clusterDims[2] != 1)
    os << ", cluster (" << k.clusterDims[0] << ", " << k.clusterDims[1] << ", " << k.clusterDims[2] << ")";
  if (k.dynamicSharedBytes) os << ", dynamic shared " << k.dynamicSharedBytes << " bytes";
  os << "\n";
  for (const auto& a : k.assumptions)
    os << "  assume " << a.param->name << " % " << a.multiple << " == 0\n";
  for (const auto& r : k.requirements) {
    os << "  require ";
    printExpr(r.value, os);
    if (r.multiple > 1) os << " % " << r.multiple << " == 0";
    if (r.multiple > 1 && r.minimum > 0) os << " and ";
    if (r.minimum > 0) os << " >= " << r.minimum;
    os << "\n";
  }
  for (const auto& b : k.allocations) {
    os << "  alloc " << b->name << ": " << name(b->scope) << " " << name(b->dtype) << "[";
    for (size_t i = 0; i < b->shape.size(); ++i) {
      if (i) os << ", ";
      printExpr(b->shape[i], os);
    }
    os << "]";
    if (b->viewOf) os << " view of " << b->viewOf->name;
    if (b->sharedOffset >= 0) os << " at +" << b->sharedOffset;
    if (b->scope == MemScope::Fragment && b->layout.custom)
      os << " layout(" << b->layout.custom->name << ", threads " << b->layout.threads << ", local " << b->layout.localSize
         << ")";
    else if (b->scope == MemScope::Fragment && b->layout.isBroadcast()) {
      os << " layout(broadcast from (";
      for (size_t i = 0; i < b->layout.broadcastFrom.size(); ++i) os << (i ? ", " : "") << b->layout.broadcastFrom[i];
      os << ") axes (";
      for (size_t i = 0; i < b->layout.keptAxes.size(); ++i) {
        const BroadcastIndex& k = b->layout.keptAxes[i];
        os << (i ? ", " : "");
        if (k.axis < 0) os << "0";
        else os << k.axis;
        if (k.divisor != 1) os << " / " << k.divisor;
      }
      os << "), threads " << b->layout.threads << ", vec " << b->layout.vec << ", local " << b->layout.localSize << ")";
    } else if (b->scope == MemScope::Fragment && b->layout.threads)
      os << " layout(threads " << b->layout.threads << ", vec " << b->layout.vec << ", local "
         << b->layout.localSize << ")";
    if (b->scope == MemScope::Shared && !b->sharedLayout.rowMajor()) os << " " << describe(b->sharedLayout, b->dtype);
    os << "\n";
  }
  printStmt(k.body, os, 1);
}

void print(const Module& m, std::ostream& os) {
  for (size_t i = 0; i < m.kernels.size(); ++i) {
    if (i) os << "\n";
    print(m.kernels[i], os);
  }
}

// ---------------------------------------------------------------- verifier

namespace {
class LoopIRVerifier : public StmtVisitor {
 public:
  explicit LoopIRVerifier(DiagnosticEngine& d) : diags(d) {}
  DiagnosticEngine& diags;
  void expr(const ExprRef& e, SourceRange r) {
    if (!e) diags.internalError(r, "loop IR: null expression");
    switch (e->kind) {
      case ExprKind::Binary: expr(e->as<BinaryNode>().a, r); expr(e->as<BinaryNode>().b, r); break;
      case ExprKind::Unary: expr(e->as<UnaryNode>().a, r); break;
      case ExprKind::Select:
        expr(e->as<SelectNode>().cond, r); expr(e->as<SelectNode>().t, r); expr(e->as<SelectNode>().f, r);
        break;
      case ExprKind::Cast: expr(e->as<CastNode>().a, r); break;
      case ExprKind::Call: for (const auto& a : e->as<CallNode>().args) expr(a, r); break;
      case ExprKind::Load: {
        const auto& l = e->as<LoadNode>();
        if (l.indices.size() != 1) diags.internalError(r, "loop IR: load from '" + l.buffer->name + "' is not flat");
        if (l.buffer->scope == MemScope::Fragment)
          diags.internalError(r, "loop IR: fragment '" + l.buffer->name + "' was not lowered");
        if (l.buffer->scope == MemScope::Global && !l.boundsChecked)
          diags.internalError(r, "loop IR: load from global '" + l.buffer->name +
                                     "' is neither proven in bounds nor guarded (GuardGlobalAccesses never saw it)");
        expr(l.indices[0], r);
        if (l.predicate) expr(l.predicate, r);
        if (l.otherwise) expr(l.otherwise, r);
        break;
      }
      default: break;
    }
  }

 protected:
  void visitFor(ForStmt& f) override {
    if (f.kind == ForKind::Pipelined) diags.internalError(f.range, "loop IR: pipelined loop was not lowered");
    if (f.kind == ForKind::Unrolled && !asConstInt(f.extent))
      diags.internalError(f.range, "loop IR: unrolled loop with a non-constant extent");
    expr(f.min, f.range);
    expr(f.extent, f.range);
    StmtVisitor::visitFor(f);
  }
  void visitIf(IfStmt& i) override {
    expr(i.cond, i.range);
    StmtVisitor::visitIf(i);
  }
  void visitLet(LetStmt& l) override { expr(l.value, l.range); }
  void visitAssign(AssignStmt& a) override { expr(a.value, a.range); }
  void visitStore(StoreStmt& st) override {
    if (st.indices.size() != 1) diags.internalError(st.range, "loop IR: store to '" + st.buffer->name + "' is not flat");
    if (st.buffer->scope == MemScope::Fragment)
      diags.internalError(st.range, "loop IR: fragment '" + st.buffer->name + "' was not lowered");
    if (st.buffer->scope == MemScope::Global && !st.boundsChecked)
      diags.internalError(st.range, "loop IR: store to global '" + st.buffer->name +
                                        "' is neither proven in bounds nor guarded (GuardGlobalAccesses never saw it)");
    expr(st.indices[0], st.range);
    expr(st.value, st.range);
    if (st.predicate) expr(st.predicate, st.range);
    if (st.bitMask) {
      if (st.value->lanes != 1 || st.bitMask->lanes != 1)
        diags.internalError(st.range, "loop IR: an atomic store of bits to '" + st.buffer->name + "' is not scalar");
      expr(st.bitMask, st.range);
    }
    if (st.atomic != AtomicOp::None) {
      if (st.bitMask || (st.buffer->scope != MemScope::Global && st.buffer->scope != MemScope::Shared))
        diags.internalError(st.range, "loop IR: an atomic on '" + st.buffer->name + "' is not on global or shared memory");
      bool pair = st.buffer->dtype == DType::Float16 || st.buffer->dtype == DType::BFloat16;
      if (st.value->lanes != 1 && !(st.value->lanes == 2 && pair && st.atomic == AtomicOp::Add && !st.result))
        diags.internalError(st.range, "loop IR: an atomic on '" + st.buffer->name + "' of " +
                                          std::to_string(st.value->lanes) + " lanes");
    }
  }
  void visitIntrinsic(IntrinsicStmt& in) override {
    if (in.barrier || in.shared)
      diags.internalError(in.range, "loop IR: a user intrinsic's shared operand has no byte offset");
    for (const auto& a : in.args) expr(a, in.range);
  }
  // Tile operations: reported, not entered.
  void visitCopy(CopyOp& c) override { tileOp(c); }
  void visitParallel(ParallelOp& p) override { tileOp(p); }
  void visitFill(FillOp& f) override { tileOp(f); }
  void visitReduce(ReduceOp& r) override { tileOp(r); }
  void tileOp(const StmtNode& s) { diags.internalError(s.range, "loop IR: a tile operation was not lowered"); }
};
}  // namespace

void verifyLoopIR(const Kernel& k, DiagnosticEngine& diags) {
  LoopIRVerifier(diags).visit(k.body);
  for (const auto& b : k.allocations)
    if (b->scope == MemScope::Shared && b->sharedOffset < 0)
      diags.internalError(k.range, "loop IR: shared buffer '" + b->name + "' has no offset");
}

}  // namespace tlc::ir
