// Reductions: reduce_sum / reduce_max / reduce_min / reduce_abssum / reduce_absmax
// (TileLang's `reduce_X(src, dst, dim=-1, clear=True)`), analyzed into tile IR that
// the later passes already handle:
//
//   a fragment source is first stored into a shared scratch tile of its shape (a
//   Parallel loop over the source; one tile per source, shared by its reductions; a
//   shared source is read in place), then
//   (two stages when the block has threads to spare) for kept..., p in
//   Parallel(dst's shape, P): partials[kept..., p] = fold of src[.., p + k P, ..]
//   over k, then
//   for kept... in Parallel(dst's shape):
//     acc = first (combined with dst[...] first when clear=False)
//     for k in serial(1, ...): acc = acc (+|max|min) next
//     dst[...] = acc
//   folding the P partials, or with P = 1 the source's axis `dim` itself; the
//   source's elements go through f, abs for abssum/absmax. The barriers between
//   the scratch tiles' writes and reads are InsertBarriers'. Because the dst loop is
// a Parallel loop over dst's own shape, a dst read afterwards in a Parallel loop
// over the source's shape (`x[i, j] - m[i]`) takes the broadcast layout of that
// loop (LayoutFragments): every thread that holds part of row i computes m[i] into
// its own registers, so the broadcast needs no communication.
//
// Each reduction becomes a ReduceOp holding these loops as its fallback: for a
// fragment reduced into a fragment, where the fragment's layout allows, lowering
// folds each thread's elements and combines the threads of a row (or column) with
// warp shuffles instead (LayoutFragments, ChooseReductions, LowerTileOps), and the
// scratch tiles go.
//
// Float sources or destinations accumulate in float32 (float64 if either is
// float64): a float16 row sums in float32 and is rounded once into dst. Integer
// ones accumulate in dst's dtype.
#include "sema/Analyzer.h"

namespace tlc::sema {

namespace {

std::string shapeText(const std::vector<int64_t>& e) {
  std::string s = "(";
  for (size_t i = 0; i < e.size(); ++i) s += (i ? ", " : "") + std::to_string(e[i]);
  return s + (e.size() == 1 ? ",)" : ")");
}

std::vector<int64_t> constShapeOf(const Buffer& b) {
  std::vector<int64_t> e;
  for (const auto& s : b.shape) e.push_back(*asConstInt(s));
  return e;
}

}  // namespace

bool Analyzer::isReduction(const std::string& callee) {
  return callee == "reduce_sum" || callee == "reduce_max" || callee == "reduce_min" || callee == "reduce_abssum" ||
         callee == "reduce_absmax";
}

StmtRef Analyzer::reduceOp(const ast::Call& c, const std::string& callee) {
  checkKeywords(c, callee, {"dim", "clear", "batch"});
  // TileLang's batch= (rows reduced together in its shared-memory path) schedules
  // the work; the result is the same reduction. Checked, then left to tlc's plan.
  if (const ast::Expr* batch = keyword(c, "batch"))
    if (constIntArg(*batch, "batch") < 1) fail(batch->range, "batch must be a positive integer");
  if (inParallel_) fail(c.callee->range, callee + "() cannot be called inside a Parallel loop");
  if (c.args.size() < 2 || c.args.size() > 4)
    fail(c.range, callee + " takes (src, dst, dim=-1, clear=True)");
  const ast::Expr* dimArg = c.args.size() > 2 ? c.args[2].get() : keyword(c, "dim");
  const ast::Expr* clearArg = c.args.size() > 3 ? c.args[3].get() : keyword(c, "clear");
  if (c.args.size() > 2 && keyword(c, "dim")) fail(keyword(c, "dim")->range, "dim is given twice");
  if (c.args.size() > 3 && keyword(c, "clear")) fail(keyword(c, "clear")->range, "clear is given twice");

  BufferRef src = bufferOf(*c.args[0]);
  BufferRef dst = bufferOf(*c.args[1]);
  if (src->scope != MemScope::Fragment && src->scope != MemScope::Shared)
    failAbout(c.args[0]->range,
              callee + " reduces a fragment or a shared tile; '" + src->name + "' is " + name(src->scope) +
                  " (copy it into one first)",
              src);
  if (dst->scope != MemScope::Fragment && dst->scope != MemScope::Shared)
    failAbout(c.args[1]->range,
              callee + " writes a fragment or a shared tile; '" + dst->name + "' is " + name(dst->scope), dst);
  if (src == dst) fail(c.args[1]->range, callee + " cannot reduce '" + src->name + "' into itself");
  if (storageOf(src.get()) == storageOf(dst.get()))
    failAbout(c.args[1]->range, callee + " cannot reduce '" + src->name + "' into its own " +
                                    (src->scope == MemScope::Shared ? "bytes" : "registers") + " (" +
                                    aliasText(src, dst) + ")",
              dst);
  for (const BufferRef& b : {src, dst})
    if (b->dtype == DType::Float4E2M1 || b->dtype == DType::Bool)
      failAbout(b == src ? c.args[0]->range : c.args[1]->range,
                std::string("not yet supported: ") + callee + " of " + name(b->dtype) + " tile '" + b->name + "'", b);

  std::vector<int64_t> shape = constShapeOf(*src);
  int rank = (int)shape.size();
  int64_t dim = dimArg ? constIntArg(*dimArg, "the reduced axis") : -1;
  if (dim < -rank || dim >= rank)
    fail(dimArg->range, "dim " + std::to_string(dim) + " is out of range for '" + src->name + "' of rank " +
                            std::to_string(rank) + " (valid: " + std::to_string(-rank) + " to " +
                            std::to_string(rank - 1) + ")");
  if (dim < 0) dim += rank;
  bool clear = clearArg ? boolArg(*clearArg, "clear") : true;

  // dst: src's shape without axis `dim` ((1,) for a vector).
  std::vector<int64_t> want;
  for (int a = 0; a < rank; ++a)
    if (a != dim) want.push_back(shape[a]);
  if (want.empty()) want.push_back(1);
  if (constShapeOf(*dst) != want)
    failAbout(c.args[1]->range,
              "'" + dst->name + "' has shape " + shapeText(constShapeOf(*dst)) + "; " + callee + " of '" + src->name +
                  "' " + shapeText(shape) + " along dim " + std::to_string(dim) + " writes shape " + shapeText(want),
              dst);

  DType acc = isFloat(src->dtype) || isFloat(dst->dtype)
                  ? (src->dtype == DType::Float64 || dst->dtype == DType::Float64 ? DType::Float64 : DType::Float32)
                  : dst->dtype;
  checkConversion(src->dtype, acc, c.args[0]->range);
  checkConversion(acc, dst->dtype, c.args[1]->range);
  SourceRange r = c.range;
  auto seq = std::make_shared<SeqStmt>(r);

  // A fragment is spread over the threads: its elements meet in a shared scratch tile.
  BufferRef from = src;
  std::vector<BufferRef> scratchTiles;  // what only this fallback reads and writes
  int64_t numel = 1;
  for (int64_t e : shape) numel *= e;
  if (src->scope == MemScope::Fragment) {
    BufferRef& scratch = reductionScratch_[src];
    if (!scratch) {
      if (const int64_t limit = target_.maxSharedBytesPerBlock(); numel * bits(src->dtype) / 8 > limit)
        failAbout(c.args[0]->range,
                  "not yet supported: " + callee + " of fragment '" + src->name + "' goes through a shared scratch tile of its shape (" +
                      std::to_string(numel * bits(src->dtype) / 8) + " bytes); a block has at most " +
                      std::to_string(limit) + " bytes of shared memory on " + target_.arch() +
                      " (reduce a smaller tile, or copy it to shared memory in parts)",
                  src);
      scratch = std::make_shared<Buffer>();
      scratch->name = uniqueName(src->name + "_reduce");
      scratch->shape = src->shape;
      scratch->strides = rowMajorStrides(scratch->shape);
      scratch->dtype = src->dtype;
      scratch->scope = MemScope::Shared;
      scratch->declRange = r;
      kernel_->allocations.push_back(scratch);
      usedBuffers_.insert(scratch);  // made here, used below: never -Wunused-tile
    }
    std::vector<VarRef> vars;
    std::vector<ExprRef> idx;
    for (int a = 0; a < rank; ++a) {
      vars.push_back(makeVar(uniqueName("i"), DType::Int32));
      idx.push_back(vars.back());
    }
    auto store = std::make_shared<StoreStmt>(r, scratch, idx, std::make_shared<LoadNode>(src, idx, src->dtype, 1));
    chargeExpansion(r, expansionWeight_ * unrolledCopies(numel, threads_, false, true));
    seq->stmts.push_back(std::make_shared<ParallelOp>(r, vars, shape, store));
    from = scratch;
    scratchTiles.push_back(scratch);
  }

  int64_t extent = shape[dim];
  int64_t dstNumel = 1;
  for (int64_t e : want) dstNumel *= e;
  auto freshVars = [&](size_t n) {
    std::vector<VarRef> v;
    for (size_t a = 0; a < n; ++a) v.push_back(makeVar(uniqueName("i"), DType::Int32));
    return v;
  };
  auto asExprs = [](const std::vector<VarRef>& v) { return std::vector<ExprRef>(v.begin(), v.end()); };
  // Element k of axis `dim` at the kept indices `kept`, as the accumulator (abs'd).
  auto srcAt = [&](const std::vector<VarRef>& kept, const ExprRef& k) {
    std::vector<ExprRef> idx;
    for (int a = 0, v = 0; a < rank; ++a) idx.push_back(a == dim ? k : ExprRef(kept[size_t(v++)]));
    ExprRef x = convert(acc, std::make_shared<LoadNode>(from, idx, from->dtype, 1), r);
    if (callee == "reduce_abssum" || callee == "reduce_absmax") x = call(Builtin::Abs, {x}, acc);
    return x;
  };
  auto combine = [&](const ExprRef& a, const ExprRef& b) {
    if (callee == "reduce_max" || callee == "reduce_absmax") return binary(BinOp::Max, a, b);
    if (callee == "reduce_min") return binary(BinOp::Min, a, b);
    return binary(BinOp::Add, a, b);
  };

  // Two stages when the block has threads to spare: P partial folds per dst element
  // (each over every P-th element of the axis, into a shared (dst..., P) tile), then
  // a fold of the P partials. P is a power of two, at most threads / numel(dst) (one
  // thread per partial) and about sqrt(extent) (both stages about as long).
  int64_t parts = 1;
  while (parts * 2 <= extent && parts * 2 * dstNumel <= threads_ && parts * parts < extent) parts *= 2;
  BufferRef folded = from;  // what the last stage folds: the source, or the partials
  int64_t lastExtent = extent;
  if (parts > 1) {
    auto partial = std::make_shared<Buffer>();
    partial->name = uniqueName(src->name + "_partials");
    for (int64_t e : want) partial->shape.push_back(intImm(e));
    partial->shape.push_back(intImm(parts));
    partial->strides = rowMajorStrides(partial->shape);
    partial->dtype = acc;
    partial->scope = MemScope::Shared;
    partial->declRange = r;
    kernel_->allocations.push_back(partial);
    usedBuffers_.insert(partial);
    std::vector<VarRef> kept = freshVars(want.size());
    VarRef p = makeVar(uniqueName("p"), DType::Int32);
    VarRef a = makeVar(uniqueName("acc"), acc);
    auto body = std::make_shared<SeqStmt>(r);
    body->stmts.push_back(std::make_shared<LetStmt>(r, a, srcAt(kept, p)));
    int64_t steps = (extent + parts - 1) / parts;
    if (steps > 1) {
      VarRef k = makeVar(uniqueName("k"), DType::Int32);
      ExprRef at = add(mul(k, intImm(parts)), p);
      StmtRef step = std::make_shared<AssignStmt>(r, a, combine(a, srcAt(kept, at)));
      if (extent % parts != 0) step = std::make_shared<IfStmt>(r, lt(at, intImm(extent)), step, nullptr);
      body->stmts.push_back(std::make_shared<ForStmt>(r, k, intImm(1), intImm(steps - 1), ForKind::Serial, step));
    }
    std::vector<ExprRef> at = asExprs(kept);
    at.push_back(p);
    body->stmts.push_back(std::make_shared<StoreStmt>(r, partial, at, a));
    std::vector<VarRef> loopVars = kept;
    loopVars.push_back(p);
    std::vector<int64_t> extents = want;
    extents.push_back(parts);
    chargeExpansion(r, expansionWeight_ * unrolledCopies(dstNumel * parts, threads_, false, true) * 3);
    seq->stmts.push_back(std::make_shared<ParallelOp>(r, loopVars, extents, body));
    folded = partial;
    lastExtent = parts;
    scratchTiles.push_back(partial);
  }

  // One Parallel loop over dst's shape; each iteration folds the last axis of
  // `folded` (the source's axis `dim`, or the partials) serially.
  std::vector<VarRef> vars = freshVars(want.size());
  std::vector<ExprRef> dstIdx = asExprs(vars);
  auto lastAt = [&](const ExprRef& k) -> ExprRef {
    if (folded == from) return srcAt(vars, k);
    std::vector<ExprRef> idx = dstIdx;
    idx.push_back(k);
    return std::make_shared<LoadNode>(folded, idx, acc, 1);
  };
  VarRef accVar = makeVar(uniqueName("acc"), acc);
  auto body = std::make_shared<SeqStmt>(r);
  ExprRef first = lastAt(intImm(0));
  if (!clear) first = combine(convert(acc, std::make_shared<LoadNode>(dst, dstIdx, dst->dtype, 1), r), first);
  body->stmts.push_back(std::make_shared<LetStmt>(r, accVar, first));
  if (lastExtent > 1) {
    VarRef k = makeVar(uniqueName("k"), DType::Int32);
    auto step = std::make_shared<AssignStmt>(r, accVar, combine(accVar, lastAt(k)));
    body->stmts.push_back(std::make_shared<ForStmt>(r, k, intImm(1), intImm(lastExtent - 1), ForKind::Serial, step));
  }
  body->stmts.push_back(std::make_shared<StoreStmt>(r, dst, dstIdx, convert(dst->dtype, accVar, r)));
  chargeExpansion(r, expansionWeight_ * unrolledCopies(dstNumel, threads_, false, true) * 3);
  seq->stmts.push_back(std::make_shared<ParallelOp>(r, vars, want, body));
  // A ReduceOp: lowering may do a fragment-to-fragment one with warp shuffles
  // instead, and says which way each reduction went (--remarks).
  auto op = std::make_shared<ReduceOp>(r, src, dst);
  op->dim = int(dim);
  op->op = callee == "reduce_sum"      ? ReduceKind::Sum
           : callee == "reduce_max"    ? ReduceKind::Max
           : callee == "reduce_min"    ? ReduceKind::Min
           : callee == "reduce_abssum" ? ReduceKind::AbsSum
                                       : ReduceKind::AbsMax;
  op->clear = clear;
  op->acc = acc;
  op->fallback = seq;
  op->fallbackScratch = scratchTiles;
  return op;
}

}  // namespace tlc::sema
