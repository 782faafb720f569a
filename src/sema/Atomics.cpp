// Atomics: atomic_add / atomic_max / atomic_min (TileLang's T.atomic_*).
//
// An element form, `atomic_add(C[i, j], v)` (global or shared element, scalar value,
// anywhere, also inside Parallel loops), becomes a StoreStmt with `atomic` set; with
// `old = atomic_add(..., return_prev=True)` its `result` is a fresh local holding the
// element's old value. A region form, `atomic_add(C[i0:i0+BM, j0:j0+BN], frag)` (or
// an element head / a whole buffer on either side, as copy takes them), is a CopyOp
// with CopyOptions::atomic: a tile accumulate, lowered as a SIMT copy whose stores
// are atomic (lower/copy/CopyLowering.cpp). What PTX has no clean form for is
// refused here, at the argument: use_tma, dtypes without the instruction, a memory
// order on a region. An element's memory_order is StoreStmt::order (fences, codegen). TileLang's atomic_addx2 / atomic_addx4 (dst, src) add
// 2 or 4 consecutive elements of src to those of dst: one element atomic each.
#include <algorithm>

#include "frontend/Vocabulary.h"
#include "sema/Analyzer.h"

namespace tlc::sema {

using namespace ir;

namespace {

AtomicOp atomicOpNamed(const std::string& callee) {
  return callee == "atomic_add" ? AtomicOp::Add : callee == "atomic_max" ? AtomicOp::Max : AtomicOp::Min;
}

// The dtypes each atomic has one PTX instruction (or, for float max/min, a pair of
// integer ones) for.
bool atomicSupports(AtomicOp op, DType t) {
  switch (t) {
    case DType::Int32: case DType::UInt32: case DType::Float32: return true;
    case DType::Float16: case DType::BFloat16: return op == AtomicOp::Add;
    default: return false;
  }
}

}  // namespace

bool Analyzer::isAtomicName(const std::string& callee) {
  return callee == "atomic_add" || callee == "atomic_max" || callee == "atomic_min";
}

StmtRef Analyzer::atomicOp(const ast::Call& c, const std::string& callee, VarRef* result) {
  checkKeywords(c, callee, {"memory_order", "return_prev", "use_tma"});
  if (c.args.size() != 2) fail(c.range, callee + " takes (dst, value) and keyword arguments");
  AtomicOp op = atomicOpNamed(callee);
  bool returnPrev = false;
  MemoryOrder order = MemoryOrder::Relaxed;
  SourceRange orderAt;
  for (const auto& kw : c.kwargs) {
    if (kw.name == "memory_order") {
      std::string o = stringArg(*kw.value, "memory_order", {"relaxed", "consume", "acquire", "release", "acq_rel", "seq_cst"});
      // consume is acquire (as C++ compilers treat it).
      order = o == "relaxed" ? MemoryOrder::Relaxed : o == "consume" || o == "acquire" ? MemoryOrder::Acquire
              : o == "release" ? MemoryOrder::Release : o == "acq_rel" ? MemoryOrder::AcqRel : MemoryOrder::SeqCst;
      orderAt = kw.value->range;
    } else if (kw.name == "return_prev") {
      returnPrev = boolArg(*kw.value, "return_prev");
    } else if (kw.name == "use_tma") {
      if (boolArg(*kw.value, "use_tma"))
        fail(kw.value->range, "not yet supported: use_tma=True (a TMA reduce-add of a shared tile)");
    }
  }
  if (result && !returnPrev)
    fail(c.range, callee + "(...) has a value only with return_prev=True: old = " + callee + "(dst, value, return_prev=True)");

  // A region on either side makes it a tile accumulate.
  auto isRegion = [&](const ast::Expr& e) {
    if (e.kind == ast::ExprKind::Name) {
      const Value* v = lookup(e.as<ast::Name>().name);
      return v && v->kind == Value::BufferV;
    }
    if (e.kind == ast::ExprKind::Index) {
      const auto& ix = e.as<ast::Index>();
      return std::any_of(ix.items.begin(), ix.items.end(), [](const ast::IndexItem& i) { return i.isSlice; });
    }
    if (e.kind == ast::ExprKind::Call) return isRegionHelper(calleeName(e.as<ast::Call>()));
    return false;
  };
  const ast::Expr& dstArg = *c.args[0];
  const ast::Expr& valueArg = *c.args[1];
  auto checkDtype = [&](const BufferRef& buf, SourceRange at) {
    if (!atomicSupports(op, buf->dtype))
      failAbout(at, callee + " on " + name(buf->dtype) + " '" + buf->name + "' is not supported; " +
                        (op == AtomicOp::Add ? "valid: int32, uint32, float32, float16, bfloat16"
                                             : "valid: int32, uint32, float32"),
                buf);
    if (buf->dtype == DType::BFloat16 && !target_.has(TargetFeature::AtomicAddBf16))
      fail(at, callee + " on bfloat16: " + target_.lacks(TargetFeature::AtomicAddBf16));
  };
  auto checkScope = [&](const BufferRef& buf, SourceRange at) {
    if (buf->scope != MemScope::Global && buf->scope != MemScope::Shared)
      failAbout(at, callee + " updates global or shared memory; '" + buf->name + "' is " + name(buf->scope), buf);
  };

  if (isRegion(dstArg) || isRegion(valueArg)) {
    if (order != MemoryOrder::Relaxed)
      fail(orderAt, std::string("not yet supported: memory_order=\"") + name(order) + "\" on a region's " + callee +
                        " (a tile accumulate is relaxed; order it with sync_threads or a fence)");
    if (returnPrev) fail(c.range, "return_prev=True needs an element destination; a region's " + callee + " has no value");
    if (op != AtomicOp::Add) fail(c.range, "not yet supported: " + callee + " of a region (only atomic_add accumulates a tile)");
    if (inParallel_) fail(c.range, callee + " of a region cannot be inside a Parallel loop; give it an element C[i, j]");
    RegionSpec src = regionSpec(valueArg, Access::Read);
    RegionSpec dst = regionSpec(dstArg, Access::ReadWrite);
    if (!extentsKnown(src) || !extentsKnown(dst))
      fail(c.range, "not yet supported: " + callee + " of a region with a run-time extent");
    auto [s, d] = settleRegions(std::move(src), std::move(dst), c.range);
    if (d.buffer->scope != MemScope::Global)
      failAbout(d.range, callee + " of a region accumulates into global memory; '" + d.buffer->name + "' is " +
                             name(d.buffer->scope), d.buffer);
    if (s.buffer->scope == MemScope::Local)
      failAbout(s.range, "not yet supported: " + callee + " from local buffer '" + s.buffer->name + "'", s.buffer);
    checkDtype(d.buffer, d.range);
    if (isStorageOnly(s.buffer->dtype) || s.buffer->dtype == DType::Bool || s.buffer->dtype == DType::Handle)
      failAbout(s.range, callee + " adds numbers; '" + s.buffer->name + "' is " + name(s.buffer->dtype), s.buffer);
    if (s.buffer->scope == MemScope::Fragment)
      for (size_t i = 0; i < s.extents.size(); ++i)
        if (s.extents[i] != *asConstInt(s.buffer->shape[i]))
          failAbout(s.range, "not yet supported: " + callee + " of part of fragment '" + s.buffer->name +
                                 "'; give the whole fragment", s.buffer);
    if (std::all_of(s.extents.begin(), s.extents.end(), [](int64_t e) { return e == 1; }))
      fail(c.range, "this " + callee + " moves one element: give its destination as an element, " + callee +
                        "(C[i, j], value), which one thread carries out");
    CopyOptions options;
    options.atomic = op;
    checkThreadCopy(s, d, options, c.range);
    // A region atomic is lowered as a SIMT copy (atomic stores): charged as one.
    chargeCopyLoop(c.range, s, d, options, "this " + callee);
    auto copy = std::make_shared<CopyOp>(c.range, s, d);
    copy->options = options;
    return copy;
  }

  if (dstArg.kind != ast::ExprKind::Index)
    fail(dstArg.range, callee + " needs an element C[i, ...] or a region as its destination");
  const auto& ix = dstArg.as<ast::Index>();
  if (varCell(ix)) fail(dstArg.range, callee + " updates global or shared memory, not a local");
  BufferRef buf = bufferOf(*ix.base);
  checkScope(buf, dstArg.range);
  checkDtype(buf, dstArg.range);
  auto indices = elementIndices(ix, buf);
  ExprRef v = scalarExpr(valueArg);
  if (v->dtype == DType::Handle || v->dtype == DType::Bool || isStorageOnly(v->dtype))
    fail(valueArg.range, std::string(callee) + " takes a number, not " + name(v->dtype));
  auto st = std::make_shared<StoreStmt>(c.range, buf, indices, convert(buf->dtype, v, valueArg.range));
  st->atomic = op;
  st->order = order;
  if (!result) return st;
  auto old = makeVar(uniqueName("old"), buf->dtype);
  st->result = old;
  *result = old;
  auto seq = std::make_shared<SeqStmt>(c.range);
  seq->stmts.push_back(std::make_shared<LetStmt>(c.range, old, isFloat(buf->dtype) ? floatImm(0, buf->dtype) : intImm(0, buf->dtype)));
  seq->stmts.push_back(st);
  return seq;
}

// atomic_addx2(B[i, j], A[i, j]) / atomic_addx4: B[i, j + k] += A[i, j + k] for k
// below 2 / 4, each an element atomic. TileLang issues one vector instruction
// (half2, bfloat162, float2, float4); per element it is the same atomicity, and the
// elements a pair of atomics write are the same (the vector form is a speed-up left
// to do). x2 takes float16, bfloat16 or float32, x4 float32, as TileLang's.
StmtRef Analyzer::atomicAddVector(const ast::Call& c, const std::string& callee) {
  checkKeywords(c, callee, {});
  const int lanes = callee == "atomic_addx4" ? 4 : 2;
  if (c.args.size() != 2) fail(c.range, callee + " takes (dst, src): two elements, B[i, j] and A[i, j]");
  std::vector<std::pair<BufferRef, std::vector<ExprRef>>> sides;
  for (const auto& arg : c.args) {
    if (arg->kind != ast::ExprKind::Index)
      fail(arg->range, callee + " takes elements of buffers (B[i, j]): it adds " + std::to_string(lanes) +
                           " consecutive elements from there");
    const auto& ix = arg->as<ast::Index>();
    if (varCell(ix)) fail(arg->range, callee + " takes elements of buffers, not a variable");
    BufferRef buf = bufferOf(*ix.base);
    if (buf->scope != MemScope::Global && buf->scope != MemScope::Shared)
      failAbout(arg->range, "not yet supported: " + callee + " with " + name(buf->scope) + " '" + buf->name +
                                "' (global or shared elements)", buf);
    sides.emplace_back(buf, elementIndices(ix, buf));
  }
  const BufferRef& dst = sides[0].first;
  const BufferRef& src = sides[1].first;
  bool ok = lanes == 2 ? dst->dtype == DType::Float16 || dst->dtype == DType::BFloat16 || dst->dtype == DType::Float32
                       : dst->dtype == DType::Float32;
  if (!ok)
    failAbout(c.args[0]->range, callee + " on " + name(dst->dtype) + " '" + dst->name + "' is not supported; valid: " +
                                    (lanes == 2 ? "float16, bfloat16, float32" : "float32"), dst);
  if (dst->dtype == DType::BFloat16 && !target_.has(TargetFeature::AtomicAddBf16))
    fail(c.args[0]->range, callee + " on bfloat16: " + target_.lacks(TargetFeature::AtomicAddBf16));
  if (src->dtype != dst->dtype)
    failAbout(c.args[1]->range, callee + " adds " + name(dst->dtype) + " elements; '" + src->name + "' is " +
                                    name(src->dtype), src);
  auto seq = std::make_shared<SeqStmt>(c.range);
  for (int k = 0; k < lanes; ++k) {
    auto at = [&](std::vector<ExprRef> idx) {
      idx.back() = add(idx.back(), intImm(k));
      return idx;
    };
    auto value = std::make_shared<LoadNode>(src, at(sides[1].second), src->dtype, 1);
    auto st = std::make_shared<StoreStmt>(c.range, dst, at(sides[0].second), value);
    st->atomic = AtomicOp::Add;
    seq->stmts.push_back(st);
  }
  usedBuffers_.insert(src);
  usedBuffers_.insert(dst);
  return seq;
}

}  // namespace tlc::sema
