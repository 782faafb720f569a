// CopyLowering: see the header.
#include "lower/copy/CopyLowering.h"

#include <algorithm>

#include "ir/Limits.h"
#include "ir/Rewrite.h"
#include "lower/LayoutFragments.h"

namespace tlc {

using namespace ir;

// The cp.async form of a partitioned copy `loop`: its group committed and, unless
// the copy is async_copy (whose wait is the user's cp_async_wait), waited for, so the
// thread's copies complete before it goes on (the block barrier before the tile's
// readers comes from InsertBarriers). `how` (the remark) says cp.async.
StmtRef CopyLowering::commitCpAsync(const CopyOp& c, StmtRef loop, std::string& how) {
  auto commit = std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::CpAsyncCommitGroup);
  std::vector<StmtRef> stmts{std::move(loop), commit};
  if (!c.options.async) {
    auto wait = std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::CpAsyncWaitGroup);
    wait->immediate = 0;
    stmts.push_back(wait);
  }
  how.replace(0, std::string("a SIMT loop").size(), "cp.async");
  return std::make_shared<SeqStmt>(c.range, std::move(stmts));
}

void CopyLowering::fail(SourceRange r, const std::string& msg) {
  diags.error(r, msg);
  throw LoweringFailed{};
}

// ------------------------------------------------ assumptions and widths

bool CopyLowering::provablyMultiple(const ExprRef& e, int64_t m, AssumptionMap& need) const {
  return tlc::provablyMultiple(kernel, options.allowAssumptions, e, m, need);
}

void CopyLowering::commit(const AssumptionMap& need) {
  // Only a parameter's value can be assumed (the launcher tests it); a fact about any
  // other variable would be dropped from the variant's assumptions, silently.
  if (inParamOrder(kernel, need).size() != need.size())
    diags.internalError(SourceRange{}, "an assumption on a variable that is not a kernel parameter");
  for (const auto& [v, m] : need) assumed_[v] = std::max(assumed_[v], m);
}

std::vector<Assumption> CopyLowering::assumptions() const {
  std::vector<Assumption> out;
  for (const auto& [var, multiple] : inParamOrder(kernel, assumed_)) out.push_back(Assumption{var, multiple});
  return out;
}

void CopyLowering::describeAssumptions(std::ostringstream& os, const AssumptionMap& need) const {
  tlc::describeAssumptions(os, kernel, need);
}

// Whether `width` elements at a time work for this side of a tile operation whose
// innermost loop dimension walks buffer axis `innerAxis` (-1: none).
bool CopyLowering::widthWorks(const Region& r, int innerAxis, int width, AssumptionMap& need) const {
  if (width == 1) return true;
  const Buffer& b = *r.buffer;
  int rank = (int)b.shape.size();
  if (innerAxis != rank - 1) return false;
  auto innerStride = asConstInt(b.strides.back());
  if (!innerStride || *innerStride != 1) return false;
  if (r.extents.back() % width != 0) return false;
  // A swizzled tile keeps pieces of `unit` elements contiguous, nothing longer; an
  // index map, the runs sema measured.
  if (b.scope == MemScope::Shared && b.sharedLayout.maxRun() && width > b.sharedLayout.maxRun()) return false;
  auto trial = need;
  if (!provablyMultiple(r.mins.back(), width, trial)) return false;
  if (b.elemOffset && !provablyMultiple(b.elemOffset, width, trial)) return false;
  // A group either lies wholly inside the tensor or wholly outside it.
  if (b.scope == MemScope::Global && !provablyMultiple(b.shape.back(), width, trial)) return false;
  for (int a = rank - 2; a >= 0; --a)
    if (!provablyMultiple(b.strides[a], width, trial)) return false;
  if (b.scope == MemScope::Global) {
    int64_t bytes = (int64_t)width * bits(b.dtype) / 8;
    if (!options.allowAssumptions) return false;  // a base pointer's alignment is a run-time fact
    if (b.loadedBase) return false;  // an address loaded in the kernel: no variant can assume it
    auto& slot = trial[b.data.get()];
    slot = std::max(slot, bytes);
  }
  need = trial;
  return true;
}

int CopyLowering::widestWorking(const Region& r, int innerAxis, int limit, AssumptionMap& need) const {
  for (int w = limit; w > 1; w /= 2)
    if (widthWorks(r, innerAxis, w, need)) return w;
  return 1;
}

// The loop index of each dimension for element number `flat` of the tile.
// `flat` is below the product of `extents` (callers guard the groups past the end), so
// an axis with only unit axes before it takes the quotient whole: (1, 4096)'s column is
// `flat`, not `flat % 4096`, which keeps a run of columns visibly contiguous.
std::vector<ExprRef> CopyLowering::unflatten(const ExprRef& flat, const std::vector<int64_t>& extents) {
  std::vector<ExprRef> idx(extents.size());
  size_t outermost = 0;  // the first non-unit axis: those before it are 0
  while (outermost + 1 < extents.size() && extents[outermost] == 1) ++outermost;
  int64_t stride = 1;
  for (size_t d = extents.size(); d-- > 0;) {
    ExprRef q = floorDiv(flat, intImm(stride));
    idx[d] = d < outermost ? intImm(0, flat->dtype) : d == outermost ? q : floorMod(q, intImm(extents[d]));
    stride *= extents[d];
  }
  return idx;
}

std::vector<ExprRef> CopyLowering::groupElement(const ExprRef& group, int vec, int lane,
                                               const std::vector<int64_t>& extents) {
  if (vec <= 1 || extents.empty() || extents.back() % vec != 0)
    return unflatten(add(mul(group, intImm(vec)), intImm(lane)), extents);
  auto groupExtents = extents;
  groupExtents.back() /= vec;
  auto idx = unflatten(group, groupExtents);
  idx.back() = add(mul(idx.back(), intImm(vec)), intImm(lane));
  return idx;
}

// Non-unit axes of a region, in order.
std::vector<int> CopyLowering::loopAxes(const Region& r) {
  std::vector<int> axes;
  for (size_t a = 0; a < r.extents.size(); ++a)
    if (r.extents[a] != 1) axes.push_back((int)a);
  return axes;
}

std::vector<ExprRef> CopyLowering::sideIndices(const Region& r, const std::vector<int>& axes, const std::vector<ExprRef>& loop) {
  std::vector<ExprRef> idx = r.mins;
  for (size_t d = 0; d < axes.size(); ++d) idx[axes[d]] = add(r.mins[axes[d]], loop[d]);
  return idx;
}

// In-bounds test for a global side: below the extent on every axis, and at or above 0
// on the axes whose region start may be negative (MarkRegionStarts; elsewhere the
// start and the offsets inside the region are non-negative).
ExprRef CopyLowering::inBounds(const Region& r, const std::vector<ExprRef>& idx) {
  if (r.buffer->scope != MemScope::Global) return nullptr;
  ExprRef pred;
  for (size_t a = 0; a < idx.size(); ++a) {
    if (a < r.startMayBeNegative.size() && r.startMayBeNegative[a])
      pred = logicalAnd(pred, binary(BinOp::Ge, idx[a], intImm(0, idx[a]->dtype)));
    ExprRef c = lt(idx[a], r.buffer->shape[a]);
    if (auto k = asConstInt(c); k && *k) continue;
    pred = logicalAnd(pred, c);
  }
  return pred;
}

ExprRef CopyLowering::threadIndex() { return call(Builtin::ThreadIdx, {}, DType::Int32, 0); }

// The loop over a thread's groups: for it in [0, iterations): body(it, access).
StmtRef CopyLowering::partitionLoop(const Partition& p, SourceRange range, int64_t groups,
                      const std::function<StmtRef(const ExprRef& it, const ExprRef& group)>& body) {
  auto it = makeVar("it", DType::Int32);
  ExprRef group = p.threads == 1 ? ExprRef(it) : add(mul(it, intImm(p.threads)), threadIndex());
  StmtRef inner = body(it, group);
  if (p.guard) inner = std::make_shared<IfStmt>(range, lt(group, intImm(groups)), inner, nullptr);
  if (p.iterations == 1) return substitute(inner, VarMap{{it.get(), intImm(0)}});
  const int64_t steps = p.stepsPerIteration;
  if (!p.unrolled && steps > 1 && p.iterations >= 2 * steps) {
    // `steps` iterations unrolled inside a rolled loop, then the remainder unrolled:
    // it = chunk * steps + step.
    auto chunk = makeVar("chunk", DType::Int32);
    auto step = makeVar("step", DType::Int32);
    int64_t chunks = p.iterations / steps;
    auto unrolled = std::make_shared<ForStmt>(range, step, intImm(0), intImm(steps), ForKind::Unrolled,
                                              substitute(inner, VarMap{{it.get(), add(mul(chunk, intImm(steps)), step)}}));
    auto rolled = std::make_shared<ForStmt>(range, chunk, intImm(0), intImm(chunks), ForKind::Serial, unrolled);
    rolled->keepRolled = true;
    int64_t rest = p.iterations - chunks * steps;
    if (rest == 0) return rolled;
    auto tail = std::make_shared<ForStmt>(range, step, intImm(0), intImm(rest), ForKind::Unrolled,
                                          substitute(inner, VarMap{{it.get(), add(intImm(chunks * steps), step)}}));
    return std::make_shared<SeqStmt>(range, std::vector<StmtRef>{rolled, tail});
  }
  auto loop = std::make_shared<ForStmt>(range, it, intImm(0), intImm(p.iterations),
                                        p.unrolled ? ForKind::Unrolled : ForKind::Serial, inner);
  loop->keepRolled = p.keepRolled;
  return loop;
}

Partition CopyLowering::partitionFor(int threads, int vec, int64_t numel, bool isFragment, bool localArray,
                                     int elementBytes) const {
  Partition p;
  p.threads = threads;
  p.vec = vec;
  int64_t groups = numel / vec;
  p.iterations = (groups + threads - 1) / threads;
  p.guard = groups % threads != 0;
  // A fragment's loops are unrolled so that its elements have constant indices and
  // stay in registers, up to the budget: past it, unrolling costs minutes of LLVM
  // and ptxas for a fragment that spills to local memory anyway. The general
  // variant's budget is smaller (Limits.def: it is the fallback, and its scalar
  // guarded accesses are most of a kernel's code). Loops over memory are unrolled
  // up to a few steps, then partially (compile time follows the code's size).
  if (isFragment) {
    p.unrolled = p.iterations * vec <= fragmentUnrollLimit();
    p.keepRolled = !p.unrolled;
  } else if (localArray) {
    p.unrolled = p.iterations <= 32;
  } else {
    p.unrolled = p.iterations <= (options.allowAssumptions ? ir::limits::AlignedUnrolledStepsPerThread
                                                           : ir::limits::UnrolledStepsPerThread);
    p.stepsPerIteration = ir::limits::PartialUnrollSteps;
    // Narrow steps (a general variant's scalar ones) take more per iteration: the
    // loads of one iteration are all a thread has in flight, and 4 two-byte loads
    // (8 bytes a thread) leave the memory system mostly idle.
    if (elementBytes > 0) {
      int64_t bytesPerStep = int64_t(vec) * elementBytes;
      int64_t wanted = (ir::limits::PartialUnrollBytes + bytesPerStep - 1) / bytesPerStep;
      // A copy of no more steps than that is unrolled whole (transpose's 64 x 64
      // float16 tile: 16 two-byte steps, which two iterations of 8 left at 16 bytes in
      // flight a thread); past it, at most half the trips, so that the loop stays a
      // loop of such iterations.
      if (p.iterations <= wanted) p.unrolled = true;
      else p.stepsPerIteration = std::max<int64_t>(p.stepsPerIteration, std::min(wanted, p.iterations / 2));
    }
  }
  return p;
}
int64_t CopyLowering::fragmentUnrollLimit() const {
  // In local memory an accumulator would be read and written on every trip of the
  // user's loop; a fragment of a loop-free kernel is touched a few times.
  bool general = !options.allowAssumptions && !hasUserLoop;
  return general ? ir::limits::GeneralUnrolledElementsPerThread : ir::limits::UnrolledElementsPerThread;
}

// The tensor-map parameter for (tensor, box), created on first use.
VarRef CopyLowering::tensorMapFor(const BufferRef& tensor, const std::vector<int64_t>& box, int swizzleBytes,
                                  bool unpackFp4) {
  for (const auto& p : kernel.params)
    if (p.kind == ParamKind::TensorMap && p.tensorMap->tensor == tensor && p.tensorMap->box == box &&
        p.tensorMap->swizzleBytes == swizzleBytes && p.tensorMap->unpackFp4 == unpackFp4)
      return p.var;
  std::string name = tensor->name + "_tmap";
  int n = 0;
  for (const auto& p : kernel.params)
    if (p.kind == ParamKind::TensorMap && p.tensorMap->tensor == tensor) ++n;
  if (n) name += std::to_string(n);
  Param p;
  p.name = name;
  p.kind = ParamKind::TensorMap;
  p.var = makeVar(name, DType::Handle);
  p.elementType = tensor->dtype;
  p.tensorMap = std::make_shared<TensorMapInfo>();
  p.tensorMap->tensor = tensor;
  p.tensorMap->box = box;
  p.tensorMap->swizzleBytes = swizzleBytes;
  p.tensorMap->unpackFp4 = unpackFp4;
  kernel.params.push_back(p);
  tensorMaps.push_back(p.var);
  return p.var;
}

// cp.async carries no L2 cache hint (the hinted form with a source size faulted on
// the H100), so a copy's eviction_policy is said not to apply rather than dropped silently.
std::string CopyLowering::withEvictionNotApplied(const std::string& why, const CopyOp& c) {
  if (c.options.eviction == EvictionPolicy::Normal) return why;
  std::string note = std::string("eviction_policy=\"") + evictionName(c.options.eviction) +
                     "\" not applied: cp.async takes no L2 cache hint";
  return why.empty() ? note : why + "; " + note;
}

int64_t CopyLowering::cacheHint(EvictionPolicy e) {
  // Which L2 policy (the backend makes it with createpolicy) a copy's loads carry.
  switch (e) {
    case EvictionPolicy::First: return kCacheHintEvictFirst;
    case EvictionPolicy::Last: return kCacheHintEvictLast;
    case EvictionPolicy::Normal: break;
  }
  return 0;
}


StmtRef CopyLowering::elementwiseCopy(const CopyOp& c) {
  const Region& src = c.src;
  const Region& dst = c.dst;
  auto srcAxes = loopAxes(src), dstAxes = loopAxes(dst);
  TileLoops loops;
  for (int a : srcAxes) loops.extents.push_back(src.extents[a]);

  bool srcFrag = src.buffer->scope == MemScope::Fragment, dstFrag = dst.buffer->scope == MemScope::Fragment;
  if ((srcFrag && !coversFragment(src)) || (dstFrag && !coversFragment(dst))) return partialFragmentCopy(c);
  if (loops.extents.empty() && (srcFrag || dstFrag)) {
    // A whole fragment of one element ((1,), (1, 1): a row statistic with BM = 1) lives
    // in a register of the thread its layout names (or of every thread holding it as
    // a broadcast), so it takes the fragment paths below over one element (innermost
    // axes), not the single-element store every thread would make to the tile itself.
    srcAxes = {int(src.extents.size()) - 1};
    dstAxes = {int(dst.extents.size()) - 1};
    loops.extents = {1};
  }
  if (loops.extents.empty()) {
    if (c.options.atomic != AtomicOp::None)  // sema gives a single element the element form
      diags.internalError(c.range, "a single-element atomic copy reached lowering");
    // Two single elements: one store, executed by every thread (same value).
    int64_t hint = cacheHint(c.options.eviction);
    auto load = std::make_shared<LoadNode>(src.buffer, src.mins, src.buffer->dtype, 1);
    load->predicate = inBounds(src, src.mins);
    if (load->predicate) load->otherwise = src.buffer->safeValue;
    if (src.buffer->scope == MemScope::Global) load->cacheHint = hint;
    auto st = std::make_shared<StoreStmt>(c.range, dst.buffer, dst.mins, cast(dst.buffer->dtype, load));
    st->predicate = inBounds(dst, dst.mins);
    if (dst.buffer->scope == MemScope::Global) st->cacheHint = hint;
    std::string how = "a single element store", why;
    describeEviction(c, how, why);
    notes.push_back({c.range, copyName(c), how, why});
    return st;
  }

  bool anyLocal = src.buffer->scope == MemScope::Local || dst.buffer->scope == MemScope::Local;
  if ((srcFrag || dstFrag) && anyLocal) fail(c.range, "not yet supported: copies between a fragment and a local buffer");
  for (const Region* r : {&src, &dst})
    if (r->buffer->scope == MemScope::Fragment && r->buffer->layout.isBroadcast()) {
      if (anyLocal || c.options.layout) fail(c.range, "not yet supported: this copy of broadcast fragment '" + r->buffer->name + "'");
      return copyBroadcast(c, *r->buffer, srcAxes, dstAxes, loops.extents);
    }
  // A loop_layout, or the one a fragment side follows, decides who copies what.
  ThreadLayoutRef layout = c.options.layout;
  for (const Region* r : {&src, &dst})
    if (!layout && r->buffer->scope == MemScope::Fragment) layout = r->buffer->layout.custom;
  if (layout) {
    // Sema refuses loop_layout on a local copy (checkThreadCopy).
    if (anyLocal) diags.internalError(c.range, "a copy to or from a local buffer with a loop_layout reached lowering");
    return copyWithLayout(c, *layout, srcAxes, dstAxes);
  }
  int innerSrc = srcAxes.back(), innerDst = dstAxes.back();
  int elemLimit = std::min({widestVector(src.buffer->dtype, 1 << 20), widestVector(dst.buffer->dtype, 1 << 20), atomicLanes(c)});
  int64_t innerExtent = loops.extents.back();
  int cw = c.options.coalescedWidth;
  // Sema checks the same rule on elements; PackFloat4 halves both sides for fp4.
  if (cw && innerExtent % cw != 0)
    diags.internalError(c.range, "coalesced_width=" + std::to_string(cw) + " does not divide the copy's innermost extent " +
                                     std::to_string(innerExtent) + " (sema lets no such copy through)");

  AssumptionMap need;
  Partition p;
  if (srcFrag || dstFrag) {
    const Buffer& frag = srcFrag ? *src.buffer : *dst.buffer;
    const Region& other = srcFrag ? dst : src;
    int otherInner = srcFrag ? innerDst : innerSrc;
    p = partitionFor(frag.layout.threads, frag.layout.vec, loops.numel(), true);
    int limit = std::min(cw ? std::min(cw, p.vec) : p.vec, atomicLanes(c));
    p.width = (srcFrag && dstFrag) ? p.vec : widestWorking(other, otherInner, limit, need);
    if (srcFrag && dstFrag && src.buffer->layout.vec != dst.buffer->layout.vec)
      diags.internalError(c.range, "fragments copied into each other have different layouts");
    p.guard = (loops.numel() / p.vec) % p.threads != 0;
  } else {
    int threads = anyLocal ? 1 : kernel.threads;
    int limit = cw ? std::min(cw, elemLimit) : std::min<int64_t>(elemLimit, innerExtent);
    while (limit > 1 && innerExtent % limit != 0) limit /= 2;
    int w = limit;
    for (; w > 1; w /= 2) {
      auto trial = need;
      if (widthWorks(src, innerSrc, w, trial) && widthWorks(dst, innerDst, w, trial)) {
        need = trial;
        break;
      }
    }
    // Only loads need bytes in flight; a store retires when issued.
    bool loadsGlobal = src.buffer->scope == MemScope::Global;
    p = partitionFor(threads, w, loops.numel(), false, anyLocal, loadsGlobal ? std::max(1, bits(src.buffer->dtype) / 8) : 0);
    p.width = w;
  }
  commit(need);

  // cp.async moves 4, 8 or 16 bytes per instruction; narrower accesses (a
  // misaligned variant) stay ordinary loads and stores.
  int accessBytes = p.width * bits(src.buffer->dtype) / 8;
  bool cpAsync = c.path == CopyPath::CpAsync && (accessBytes == 4 || accessBytes == 8 || accessBytes == 16);

  int64_t groups = loops.numel() / p.vec;
  const int64_t hint = cacheHint(c.options.eviction);
  auto body = [&](const ExprRef& it, const ExprRef& group) -> StmtRef {
    auto seq = std::make_shared<SeqStmt>(c.range);
    for (int chunk = 0; chunk < p.vec / p.width; ++chunk) {
      ExprRef local = add(mul(it, intImm(p.vec)), intImm(chunk * p.width));
      // A group accessed whole keeps the form its vector access has always had.
      auto loopIdx = p.width == p.vec ? unflatten(mul(group, intImm(p.vec)), loops.extents)
                                      : groupElement(group, p.vec, chunk * p.width, loops.extents);
      if (cpAsync) {
        seq->stmts.push_back(cpAsyncChunk(c, srcAxes, dstAxes, loopIdx, accessBytes));
        continue;
      }
      ExprRef value = sideLoad(src, srcAxes, loopIdx, local, p.width, hint);
      if (value->dtype != dst.buffer->dtype) value = cast(dst.buffer->dtype, value);
      seq->stmts.push_back(sideStore(dst, dstAxes, loopIdx, local, value, c.range, hint, c.options.atomic));
    }
    return seq;
  };
  StmtRef out = partitionLoop(p, c.range, groups, body);
  std::string how = describeCopy(c, p, need) + safeValueText(c);
  if (cpAsync) out = commitCpAsync(c, out, how);
  std::string why = c.pathReason;
  if (c.path == CopyPath::CpAsync && !cpAsync)
    why = (why.empty() ? "" : why + "; ") + "cp.async not used: " + std::to_string(accessBytes) +
          "-byte accesses (it moves 4, 8 or 16 bytes)";
  if (cpAsync) why = withEvictionNotApplied(why, c);
  else describeEviction(c, how, why);
  notes.push_back({c.range, copyName(c), how, why});
  return out;
}

bool CopyLowering::coversFragment(const Region& r) {
  for (size_t a = 0; a < r.extents.size(); ++a)
    if (r.extents[a] != *asConstInt(r.buffer->shape[a])) return false;
  return true;
}

// Part of a fragment (a region, or one element: the scalar-to-direct-store rule), the
// other side global or shared (sema rules out the rest). Only the thread that owns
// an element holds it, so the owner copies it: every thread walks the elements it
// owns as a copy of the whole fragment would (its layout: the default or a custom
// one; constant local indices, so the fragment stays in registers) and copies those
// inside the region, the other side's index being the element's offset in the region
// from the other side's start. One element at constant indices is a direct access by
// its owner: `threadIdx.x == owner`, one constant register.
ExprRef CopyLowering::regionContains(const Region& r, const std::vector<ExprRef>& at) {
  ExprRef inside;
  for (size_t a = 0; a < at.size(); ++a) {
    auto lo = asConstInt(r.mins[a]);
    int64_t extent = *asConstInt(r.buffer->shape[a]);
    if (!lo || *lo != 0) inside = logicalAnd(inside, binary(BinOp::Ge, at[a], r.mins[a]));
    if (!lo || *lo + r.extents[a] != extent) inside = logicalAnd(inside, lt(at[a], add(r.mins[a], intImm(r.extents[a]))));
  }
  return inside;
}

StmtRef CopyLowering::ownedElements(const Buffer& frag, SourceRange range, const OwnedElement& element) {
  std::vector<int64_t> shape;
  for (const auto& e : frag.shape) shape.push_back(*asConstInt(e));
  if (const auto& custom = frag.layout.custom) {
    auto seq = std::make_shared<SeqStmt>(range);
    for (int64_t k = 0; k < custom->localSize; ++k) seq->stmts.push_back(element(layoutIndices(*custom, k, shape), intImm(k)));
    return seq;
  }
  int64_t numel = 1;
  for (int64_t e : shape) numel *= e;
  Partition p = partitionFor(frag.layout.threads, frag.layout.vec, numel, true);
  p.width = 1;
  return partitionLoop(p, range, numel / p.vec, [&](const ExprRef& it, const ExprRef& group) -> StmtRef {
    auto seq = std::make_shared<SeqStmt>(range);
    for (int chunk = 0; chunk < p.vec; ++chunk)
      seq->stmts.push_back(element(groupElement(group, p.vec, chunk, shape), add(mul(it, intImm(p.vec)), intImm(chunk))));
    return seq;
  });
}

StmtRef CopyLowering::partialFragmentCopy(const CopyOp& c) {
  bool fragSrc = c.src.buffer->scope == MemScope::Fragment;
  const Region& fr = fragSrc ? c.src : c.dst;
  const Region& other = fragSrc ? c.dst : c.src;
  const Buffer& frag = *fr.buffer;
  if (c.options.atomic != AtomicOp::None) fail(c.range, "not yet supported: " + copyName(c) + " from part of a fragment");
  if (frag.layout.isBroadcast())
    fail(c.range, "not yet supported: a copy of part of broadcast fragment '" + frag.name +
                      "' (its elements follow the larger loop that reads it)");
  if (other.buffer->scope != MemScope::Global && other.buffer->scope != MemScope::Shared)
    diags.internalError(c.range, "a copy of part of a fragment with a " + std::string(name(other.buffer->scope)) +
                                     " side reached lowering");
  std::vector<int64_t> shape;
  for (const auto& e : frag.shape) shape.push_back(*asConstInt(e));
  auto fAxes = loopAxes(fr), oAxes = loopAxes(other);
  if (fAxes.size() != oAxes.size()) diags.internalError(c.range, "the sides of a fragment copy have different ranks");
  const int64_t hint = cacheHint(c.options.eviction);
  BufferRef local = fragmentLocal.at(fr.buffer.get());

  // The copy of the element at fragment indices `at`, register `reg`, when `inside`.
  auto element = [&](const std::vector<ExprRef>& at, const ExprRef& reg, const ExprRef& inside) -> StmtRef {
    std::vector<ExprRef> idx = other.mins;
    for (size_t d = 0; d < fAxes.size(); ++d) idx[oAxes[d]] = add(other.mins[oAxes[d]], sub(at[fAxes[d]], fr.mins[fAxes[d]]));
    ExprRef guard = logicalAnd(inside, inBounds(other, idx));
    if (fragSrc) {
      ExprRef value = std::make_shared<LoadNode>(local, std::vector<ExprRef>{reg}, frag.dtype, 1);
      if (frag.dtype != other.buffer->dtype) value = cast(other.buffer->dtype, value);
      auto st = std::make_shared<StoreStmt>(c.range, other.buffer, idx, value);
      st->predicate = guard;
      if (other.buffer->scope == MemScope::Global) st->cacheHint = hint;
      return st;
    }
    auto l = std::make_shared<LoadNode>(other.buffer, idx, other.buffer->dtype, 1);
    l->predicate = guard;
    if (guard && other.buffer->scope == MemScope::Global) l->otherwise = other.buffer->safeValue;
    if (other.buffer->scope == MemScope::Global) l->cacheHint = hint;
    ExprRef value = l;
    if (frag.dtype != other.buffer->dtype) value = cast(frag.dtype, value);
    auto st = std::make_shared<StoreStmt>(c.range, local, std::vector<ExprRef>{reg}, value);
    st->predicate = inside;
    return st;
  };

  std::string how, why;
  StmtRef out;
  std::vector<int64_t> mins;
  for (const auto& m : fr.mins)
    if (auto k = asConstInt(m)) mins.push_back(*k);
  bool single = std::all_of(fr.extents.begin(), fr.extents.end(), [](int64_t e) { return e == 1; });
  if (single && mins.size() == fr.mins.size()) {
    int64_t flat = 0;
    for (size_t a = 0; a < shape.size(); ++a) flat = flat * shape[a] + mins[a];
    int64_t owner, reg;
    if (const auto& custom = frag.layout.custom) {
      owner = custom->threadOf[size_t(flat)];
      reg = custom->indexOf[size_t(flat)];
    } else {
      int64_t vec = frag.layout.vec, threads = frag.layout.threads, group = flat / vec;
      owner = group % threads;
      reg = (group / threads) * vec + flat % vec;
    }
    std::vector<ExprRef> at;
    for (int64_t m : mins) at.push_back(intImm(m));
    out = std::make_shared<IfStmt>(c.range, binary(BinOp::Eq, threadIndex(), intImm(owner)),
                                   element(at, intImm(reg), nullptr), nullptr);
    how = "a direct " + std::string(fragSrc ? "store" : "load") + " by the element's owner (thread " +
          std::to_string(owner) + ", register " + std::to_string(reg) + ")";
  } else {
    out = ownedElements(frag, c.range, [&](const std::vector<ExprRef>& at, const ExprRef& reg) {
      return element(at, reg, regionContains(fr, at));
    });
    how = frag.layout.custom ? "a SIMT loop following layout '" + frag.layout.custom->name +
                                   "' over the fragment, copying the elements in the region"
                             : "a SIMT loop over the fragment's layout, one element per access, copying the elements "
                               "in the region";
  }
  how += safeValueText(c);
  describeEviction(c, how, why);
  notes.push_back({c.range, copyName(c), how, why});
  return out;
}

CopyLowering::BroadcastElement CopyLowering::broadcastElement(const FragmentLayout& layout, const ExprRef& group,
                                                              int lane) {
  auto full = unflatten(add(mul(group, intImm(layout.vec)), intImm(lane)), layout.broadcastFrom);
  BroadcastElement out;
  std::vector<int64_t> divisorOf(full.size(), 0);  // 0: the loop axis is not read
  for (const BroadcastIndex& k : layout.keptAxes) {
    if (k.axis < 0) {
      out.indices.push_back(intImm(0));
      continue;
    }
    divisorOf[k.axis] = k.divisor;
    out.indices.push_back(k.divisor == 1 ? full[k.axis] : floorDiv(full[k.axis], intImm(k.divisor, full[k.axis]->dtype)));
  }
  // The first iteration that reads the element stores it: index 0 along the axes not
  // read, a multiple of the divisor along the divided ones.
  for (size_t a = 0; a < full.size(); ++a) {
    if (divisorOf[a] == 1) continue;
    ExprRef at = divisorOf[a] == 0 ? full[a] : floorMod(full[a], intImm(divisorOf[a], full[a]->dtype));
    out.owner = logicalAnd(out.owner, binary(BinOp::Eq, at, intImm(0, full[a]->dtype)));
  }
  return out;
}

// A copy to or from a broadcast fragment (FragmentLayout::isBroadcast): each thread
// moves the elements its registers hold, one per access; several threads hold
// each element, so a store to memory is left to one of them (the one whose group of
// the larger loop starts its dropped axes), and a load is repeated (the same
// addresses, mostly from L1).
StmtRef CopyLowering::copyBroadcast(const CopyOp& c, const Buffer& frag, const std::vector<int>& srcAxes,
                                    const std::vector<int>& dstAxes, const std::vector<int64_t>& extents) {
  const FragmentLayout& layout = frag.layout;
  std::vector<int64_t> nonUnit;
  for (const auto& e : frag.shape)
    if (*asConstInt(e) != 1) nonUnit.push_back(*asConstInt(e));
  const bool single = nonUnit.empty();  // a fragment of one element: one iteration (elementwiseCopy)
  if (single) nonUnit = {1};
  if (nonUnit != extents) fail(c.range, "not yet supported: a copy of part of broadcast fragment '" + frag.name + "'");
  TileLoops full{layout.broadcastFrom};
  Partition p = partitionFor(layout.threads, layout.vec, full.numel(), true);
  int lanes = layout.lanes();
  bool toMemory = c.dst.buffer->scope != MemScope::Fragment;
  const int64_t hint = cacheHint(c.options.eviction);
  // Vector accesses where a group's lanes are consecutive on the memory side: the
  // innermost axis of the larger loop is kept and `lanes` divides its extent, so a
  // group's registers hold a run of `lanes` elements of one row (and one owner), the
  // run lane 0 starts. The memory side's alignment is the variant's assumption, as for
  // any fragment copy (widthWorks); the general variant keeps one element per access.
  int width = 1;
  // The run is along the fragment's last axis only when that axis, and no other, reads
  // the loop's innermost index undivided (not `v[j, i]`, not `g[i, j // 8]`).
  const int innermost = int(layout.broadcastFrom.size()) - 1;
  bool innerRun = !layout.keptAxes.empty() && layout.keptAxes.back().axis == innermost &&
                  layout.keptAxes.back().divisor == 1;
  for (size_t k = 0; innerRun && k + 1 < layout.keptAxes.size(); ++k)
    if (layout.keptAxes[k].axis == innermost) innerRun = false;
  if (!single && innerRun && lanes > 1 && layout.broadcastFrom.back() % lanes == 0 &&
      c.options.atomic == AtomicOp::None) {
    const Region& memory = toMemory ? c.dst : c.src;
    AssumptionMap need;
    width = widestWorking(memory, (toMemory ? dstAxes : srcAxes).back(), lanes, need);
    commit(need);
  }
  auto body = [&](const ExprRef& it, const ExprRef& group) -> StmtRef {
    auto seq = std::make_shared<SeqStmt>(c.range);
    for (int lane = 0; lane < lanes; lane += width) {
      auto [kept, owner] = broadcastElement(layout, group, lane);
      std::vector<ExprRef> loopIdx;  // the copy's loops run over the fragment's non-unit axes
      for (size_t k = 0; k < kept.size(); ++k)
        if (*asConstInt(frag.shape[k]) != 1) loopIdx.push_back(kept[k]);
      if (single) loopIdx = {kept.back()};
      ExprRef local = add(mul(it, intImm(lanes)), intImm(lane));
      ExprRef value = sideLoad(c.src, srcAxes, loopIdx, local, width, hint);
      if (value->dtype != c.dst.buffer->dtype) value = cast(c.dst.buffer->dtype, value);
      StmtRef st = sideStore(c.dst, dstAxes, loopIdx, local, value, c.range, hint, c.options.atomic);
      if (toMemory && owner) st = std::make_shared<IfStmt>(c.range, owner, st, nullptr);
      seq->stmts.push_back(st);
    }
    return seq;
  };
  StmtRef out = partitionLoop(p, c.range, full.numel() / p.vec, body);
  std::string how = "a SIMT loop over broadcast fragment '" + frag.name + "', " +
                    (width == 1 ? std::string("one element per access")
                                : std::to_string(width) + " elements (" + std::to_string(width * bits((toMemory ? c.dst : c.src).buffer->dtype) / 8) +
                                      " bytes) per access") +
                    (toMemory ? ", stored by one of the threads holding each element" : "") + safeValueText(c);
  std::string why = c.pathReason;
  describeEviction(c, how, why);
  notes.push_back({c.range, copyName(c), how, why});
  return out;
}

// The loop index of each of `extents`' dimensions for the iteration the calling
// thread runs at local index k of `layout` (whose non-unit extents are `extents`').
std::vector<ExprRef> CopyLowering::layoutIndices(const ThreadLayout& layout, int64_t k, const std::vector<int64_t>& extents) const {
  std::vector<ExprRef> out;
  size_t d = 0;
  for (int64_t e : extents) {
    if (e == 1) {
      out.push_back(intImm(0));
      continue;
    }
    while (layout.shape[d] == 1) ++d;
    out.push_back(bitLinearExpr(layout.inverse[k][d], threadIndex(), layout.threads));
    ++d;
  }
  return out;
}

// A copy that follows a thread layout: thread t copies, at each local index k, the
// element the layout's inverse names, one element per access (a bijection: no
// guard). A fragment side's element lives at local index k.
StmtRef CopyLowering::copyWithLayout(const CopyOp& c, const ThreadLayout& layout, const std::vector<int>& srcAxes,
                            const std::vector<int>& dstAxes) {
  for (const Region* r : {&c.src, &c.dst})
    if (r->buffer->scope == MemScope::Fragment && r->buffer->layout.custom &&
        !r->buffer->layout.custom->sameMapping(layout))
      diags.internalError(c.range, "fragment '" + r->buffer->name + "' follows another layout than its copy");
  std::vector<int64_t> extents;
  for (int a : srcAxes) extents.push_back(c.src.extents[a]);
  // Vectors where the layout gives each thread runs of consecutive elements
  // along the innermost axis and the memory sides allow that width.
  int limit = std::min(widestVector(c.src.buffer->dtype, 1 << 20), widestVector(c.dst.buffer->dtype, 1 << 20));
  if (c.options.coalescedWidth) limit = std::min(limit, c.options.coalescedWidth);
  limit = std::min(limit, atomicLanes(c));
  AssumptionMap need;
  int width = 1;
  for (int w = limit; w > 1; w /= 2) {
    if (!layoutRunsContiguous(layout, w)) continue;
    auto trial = need;
    bool ok = true;
    if (c.src.buffer->scope != MemScope::Fragment) ok = ok && widthWorks(c.src, srcAxes.back(), w, trial);
    if (c.dst.buffer->scope != MemScope::Fragment) ok = ok && widthWorks(c.dst, dstAxes.back(), w, trial);
    if (ok) {
      width = w;
      need = trial;
      break;
    }
  }
  commit(need);
  int accessBytes = width * bits(c.src.buffer->dtype) / 8;
  bool cpAsync = c.path == CopyPath::CpAsync && (accessBytes == 4 || accessBytes == 8 || accessBytes == 16);
  auto seq = std::make_shared<SeqStmt>(c.range);
  for (int64_t k = 0; k < layout.localSize; k += width) {
    auto loopIdx = layoutIndices(layout, k, extents);
    if (cpAsync) {
      seq->stmts.push_back(cpAsyncChunk(c, srcAxes, dstAxes, loopIdx, accessBytes));
      continue;
    }
    ExprRef value = sideLoad(c.src, srcAxes, loopIdx, intImm(k), width, cacheHint(c.options.eviction));
    if (value->dtype != c.dst.buffer->dtype) value = cast(c.dst.buffer->dtype, value);
    seq->stmts.push_back(sideStore(c.dst, dstAxes, loopIdx, intImm(k), value, c.range, cacheHint(c.options.eviction), c.options.atomic));
  }
  StmtRef out = seq;
  Partition shown;
  shown.width = width;
  std::string how = describeCopy(c, shown, need);
  how.insert(std::string("a SIMT loop").size(), " following layout '" + layout.name + "'");
  if (cpAsync) out = commitCpAsync(c, out, how);
  how += safeValueText(c);
  std::string why = c.pathReason;
  if (c.path == CopyPath::CpAsync && !cpAsync)
    why = (why.empty() ? "" : why + "; ") + "cp.async not used: " + std::to_string(accessBytes) +
          "-byte accesses (it moves 4, 8 or 16 bytes)";
  if (cpAsync) why = withEvictionNotApplied(why, c);
  else describeEviction(c, how, why);
  notes.push_back({c.range, copyName(c), how, why});
  return out;
}

void CopyLowering::describeEviction(const CopyOp& c, std::string& how, std::string& why) {
  if (c.options.eviction == EvictionPolicy::Normal) return;
  bool loads = c.src.buffer->scope == MemScope::Global, stores = c.dst.buffer->scope == MemScope::Global;
  if (!loads && !stores) {
    std::string note = std::string("eviction_policy=\"") + evictionName(c.options.eviction) +
                       "\" not applied: the copy makes no global access";
    why = why.empty() ? note : why + "; " + note;
    return;
  }
  how += std::string(", ") + evictionName(c.options.eviction) + " in L2 (" +
         (loads && stores ? "ld/st" : loads ? "ld" : "st") + ".global.L2::cache_hint)";
}

std::string CopyLowering::safeValueText(const CopyOp& c) {
  const Buffer& s = *c.src.buffer;
  if (s.scope != MemScope::Global || !s.safeValue) return "";
  return ", reads outside '" + s.name + "' give " + toString(s.safeValue);
}
const char* CopyLowering::evictionName(EvictionPolicy e) {
  return e == EvictionPolicy::First ? "evict_first" : e == EvictionPolicy::Last ? "evict_last" : "evict_normal";
}

// The im2col-mode tensor map parameter for (image, geometry, swizzle), created on first use.
VarRef CopyLowering::im2colMapFor(const BufferRef& img, const Im2colMapInfo& info, int swizzleBytes) {
  auto same = [&](const Im2colMapInfo& o) {
    return o.lowerCorner[0] == info.lowerCorner[0] && o.lowerCorner[1] == info.lowerCorner[1] &&
           o.upperCorner[0] == info.upperCorner[0] && o.upperCorner[1] == info.upperCorner[1] &&
           o.channels == info.channels && o.pixels == info.pixels && o.stride == info.stride && o.span == info.span &&
           o.pad == info.pad;
  };
  int n = 0;
  for (const auto& p : kernel.params) {
    if (p.kind != ParamKind::TensorMap || p.tensorMap->tensor != img) continue;
    if (p.tensorMap->im2col && same(*p.tensorMap->im2col) && p.tensorMap->swizzleBytes == swizzleBytes) return p.var;
    ++n;
  }
  Param p;
  p.name = img->name + "_im2col" + (n ? std::to_string(n) : "");
  p.kind = ParamKind::TensorMap;
  p.var = makeVar(p.name, DType::Handle);
  p.elementType = img->dtype;
  p.tensorMap = std::make_shared<TensorMapInfo>();
  p.tensorMap->tensor = img;
  p.tensorMap->swizzleBytes = swizzleBytes;
  p.tensorMap->im2col = info;
  kernel.params.push_back(p);
  tensorMaps.push_back(p.var);
  return p.var;
}

// The byte offset in shared memory of element `idx` of tile `d` (a cp.async
// destination): the tile's layout applies (ir::sharedElementOffset), as for every
// shared access; a row-major (or padded: the strides say it) tile keeps the plain
// byte sum.
ExprRef CopyLowering::tileByteOffset(const Buffer& d, const std::vector<ExprRef>& idx) {
  ExprRef offset = intImm(d.sharedOffset);
  int elemBytes = bits(d.dtype) / 8;
  if (!d.sharedLayout.plainStrides())
    return add(offset, mul(sharedElementOffset(d, idx), intImm(elemBytes)));
  for (size_t a = 0; a < idx.size(); ++a) offset = add(offset, mul(mul(idx[a], d.strides[a]), intImm(elemBytes)));
  return offset;
}

// One cp.async of `bytes` from the global source into the shared tile; past the
// tensor's end it reads nothing (source size 0) and zero-fills.
StmtRef CopyLowering::cpAsyncChunk(const CopyOp& c, const std::vector<int>& srcAxes, const std::vector<int>& dstAxes,
                     const std::vector<ExprRef>& loop, int bytes) {
  auto srcIdx = sideIndices(c.src, srcAxes, loop);
  auto dstIdx = sideIndices(c.dst, dstAxes, loop);
  const Buffer& s = *c.src.buffer;
  const Buffer& d = *c.dst.buffer;
  ExprRef srcOffset = s.elemOffset ? cast(DType::Int64, s.elemOffset) : intImm(0, DType::Int64);
  for (size_t a = 0; a < srcIdx.size(); ++a)
    srcOffset = add(srcOffset, mul(cast(DType::Int64, srcIdx[a]), cast(DType::Int64, s.strides[a])));
  ExprRef dstOffset = tileByteOffset(d, dstIdx);
  ExprRef inside = inBounds(c.src, srcIdx);
  ExprRef size = intImm(bytes);
  if (inside) {
    size = select(inside, intImm(bytes), intImm(0));
    srcOffset = select(inside, srcOffset, intImm(0, DType::Int64));  // never form an address past the end
  }
  auto op = std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::CpAsync, std::vector<ExprRef>{dstOffset, srcOffset, size});
  op->buffer = c.src.buffer;
  op->immediate = bytes;
  // No L2 cache hint on cp.async (see lowerIm2col): only TMA copies carry one.
  return op;
}

ExprRef CopyLowering::sideLoad(const Region& r, const std::vector<int>& axes, const std::vector<ExprRef>& loop, const ExprRef& local,
                 int width, int64_t hint) {
  if (r.buffer->scope == MemScope::Fragment) {
    auto l = std::make_shared<LoadNode>(fragmentLocal.at(r.buffer.get()), std::vector<ExprRef>{local}, r.buffer->dtype, width);
    l->alignBytes = alignOf(*r.buffer, width);
    return l;
  }
  auto idx = sideIndices(r, axes, loop);
  auto l = std::make_shared<LoadNode>(r.buffer, idx, r.buffer->dtype, width);
  l->predicate = inBounds(r, idx);
  if (l->predicate) l->otherwise = r.buffer->safeValue;  // annotate_safe_value (null = 0)
  l->alignBytes = alignOf(*r.buffer, width);
  if (r.buffer->scope == MemScope::Global) l->cacheHint = hint;
  return l;
}

StmtRef CopyLowering::sideStore(const Region& r, const std::vector<int>& axes, const std::vector<ExprRef>& loop, const ExprRef& local,
                  const ExprRef& value, SourceRange range, int64_t hint, AtomicOp atomic) {
  if (r.buffer->scope == MemScope::Fragment) {
    auto st = std::make_shared<StoreStmt>(range, fragmentLocal.at(r.buffer.get()), std::vector<ExprRef>{local}, value);
    st->alignBytes = alignOf(*r.buffer, value->lanes);
    return st;
  }
  auto idx = sideIndices(r, axes, loop);
  auto st = std::make_shared<StoreStmt>(range, r.buffer, idx, value);
  st->predicate = inBounds(r, idx);
  st->alignBytes = alignOf(*r.buffer, value->lanes);
  if (r.buffer->scope == MemScope::Global) st->cacheHint = hint;
  st->atomic = atomic;
  return st;
}

std::string CopyLowering::copyName(const CopyOp& c) {
  return std::string(c.options.atomic != AtomicOp::None ? std::string(name(c.options.atomic)) + " "
                     : (c.clusterMask && !c.options.tmaCopy) || c.dstBlock ? "copy_cluster "
                                                                : "copy ") +
         c.src.buffer->name + " -> " +
         c.dst.buffer->name + (c.options.packedFp4 ? " (float4_e2m1fn, as bytes)" : "");
}

std::string CopyLowering::describeCopy(const CopyOp& c, const Partition& p, const AssumptionMap& need) const {
  std::ostringstream os;
  os << "a SIMT loop, ";
  int bytes = p.width * std::max(bits(c.src.buffer->dtype), bits(c.dst.buffer->dtype)) / 8;
  if (p.width == 1) os << "one element (" << bytes << " bytes) per access";
  else os << p.width << "-element (" << bytes << "-byte) vectors";
  describeAssumptions(os, need);
  return os.str();
}

// ------------------------------------------------------------------- TMA

ExprRef CopyLowering::isLeader() { return binary(BinOp::Eq, threadIndex(), intImm(0)); }

ExprRef CopyLowering::loadBarrier(const CopyOp& c) const {
  TLC_ASSERT(c.mbarriers && c.mbarrierIndex >= 0, "an automatic TMA load without its mbarrier");
  ExprRef first = intImm(c.mbarriers->sharedOffset + 8 * c.mbarrierIndex);
  return c.ring < 0 ? first : add(first, mul(c.stage, intImm(8)));
}

void CopyLowering::appendWait(const CopyOp& c, const ExprRef& barrier, SeqStmt& out) {
  // Only the TMA strategies wait on an mbarrier, and they need TMA, which no target has without try_wait.
  TLC_ASSERT(options.target.has(TargetFeature::MbarrierTryWait), "an mbarrier wait on " + options.target.arch());
  if (c.part == CopyOp::Part::WaitOnly) {
    out.stmts.push_back(std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::MbarrierWaitParity,
                                                        std::vector<ExprRef>{barrier, c.parity}));
  } else if (c.part == CopyOp::Part::Whole) {
    auto phase = makeVar("phase" + std::to_string(phases.size()), DType::Int32);
    phases.push_back(phase);
    out.stmts.push_back(std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::MbarrierWaitParity,
                                                        std::vector<ExprRef>{barrier, phase}));
    out.stmts.push_back(std::make_shared<AssignStmt>(c.range, phase, binary(BinOp::BitXor, phase, intImm(1))));
  }
}

// -------------------------------------------------------------- clusters

ExprRef CopyLowering::clusterRank() { return call(Builtin::ClusterCtaRank, {}, DType::Int32); }
int CopyLowering::lowestRank(int mask) { return __builtin_ctz((unsigned)mask); }
std::string CopyLowering::maskDigits(int mask) {
  std::string s;
  for (; mask > 0; mask >>= 1) s.insert(s.begin(), char('0' + (mask & 1)));
  return s;
}
int CopyLowering::clusterBlocks() const {
  return kernel.clusterDims[0] * kernel.clusterDims[1] * kernel.clusterDims[2];
}
ExprRef CopyLowering::barrierOffset(const CopyOp& c) {
  ExprRef offset = intImm(c.options.barrier->sharedOffset);
  if (c.options.barrierIndex) offset = add(offset, mul(c.options.barrierIndex, intImm(8)));
  return offset;
}

StmtRef CopyLowering::clusterSync(SourceRange r) { return std::make_shared<BarrierStmt>(r, BarrierKind::ClusterSync); }

StmtRef CopyLowering::inMaskedBlocks(int mask, const StmtRef& body, SourceRange r) const {
  int all = (1 << clusterBlocks()) - 1;
  if ((mask & all) == all) return body;
  ExprRef bit = binary(BinOp::BitAnd, binary(BinOp::Shr, intImm(mask), clusterRank()), intImm(1));
  return std::make_shared<IfStmt>(r, binary(BinOp::Ne, bit, intImm(0)), body, nullptr);
}

CopyOp CopyLowering::toRemoteTile(const CopyOp& c) {
  CopyOp remote = c;
  auto view = std::make_shared<Buffer>(*c.dst.buffer);
  view->clusterRank = c.dstBlock;
  remote.dst.buffer = view;
  return remote;
}

// --------------------------------------------------------------- remarks

void CopyLowering::note(const CopyOp& c, const std::string& how, const std::string& whyNot) {
  notes.push_back({c.range, copyName(c), how, whyNot});
}

int CopyLowering::atomicLanes(const CopyOp& c) {
  if (c.options.atomic == AtomicOp::None) return 1 << 20;
  // red.add.noftz.f16x2 / .bf16x2 update an aligned pair at once; the rest one element.
  DType t = c.dst.buffer->dtype;
  return (c.options.atomic == AtomicOp::Add && (t == DType::Float16 || t == DType::BFloat16)) ? 2 : 1;
}

int CopyLowering::alignOf(const Buffer& b, int width) { return std::max(1, width * bits(b.dtype) / 8); }

}  // namespace tlc
