// Scans: cumsum(src, dst=None, dim=0, reverse=False), TileLang's inclusive prefix sum
// along axis `dim` of a fragment or a shared tile (dst defaults to src, in place;
// reverse=True sums from the end of the axis), analyzed into tile IR that the later
// passes already handle:
//
//   a fragment source is first stored into a shared scratch tile of its shape (as
//   TileLang does: its elements along the axis are spread over the threads), then
//   for kept... in Parallel(the shape without axis `dim`):
//     acc = 0
//     for k in serial(0, n): e = k (n - 1 - k reversed)
//       acc = acc + src[.., e, ..]; to[.., e, ..] = acc
//   where `to` is dst when it is shared, else the scratch tile (scanned in place),
//   then copied into the fragment dst by a Parallel loop over its shape. Each line
//   of the axis is one thread's, read before written element by element, so an
//   in-place scan is safe; the barriers around the scratch tile are InsertBarriers'.
//
// Float16 / bfloat16 lines accumulate in float32 (float64 when either side is
// float64) and each prefix is rounded once into dst; integers in dst's dtype.
#include "sema/Analyzer.h"

namespace tlc::sema {

namespace {

std::vector<int64_t> scanShape(const Buffer& b) {
  std::vector<int64_t> e;
  for (const auto& s : b.shape) e.push_back(*asConstInt(s));
  return e;
}

std::string shapeString(const std::vector<int64_t>& e) {
  std::string s = "(";
  for (size_t i = 0; i < e.size(); ++i) s += (i ? ", " : "") + std::to_string(e[i]);
  return s + (e.size() == 1 ? ",)" : ")");
}

}  // namespace

StmtRef Analyzer::cumsumOp(const ast::Call& c) {
  const std::string op = "cumsum";
  checkKeywords(c, op, {"src", "dst", "dim", "reverse"});
  if (inParallel_) fail(c.callee->range, "cumsum() cannot be called inside a Parallel loop");
  if (c.args.size() > 4) fail(c.range, "cumsum takes (src, dst=None, dim=0, reverse=False)");
  const char* names[] = {"src", "dst", "dim", "reverse"};
  const ast::Expr* arg[4] = {};
  for (size_t i = 0; i < 4; ++i) {
    const ast::Expr* kw = keyword(c, names[i]);
    if (i < c.args.size()) {
      arg[i] = c.args[i].get();
      if (kw) fail(kw->range, std::string(names[i]) + " is given twice");
    } else {
      arg[i] = kw;
    }
  }
  if (!arg[0]) fail(c.range, "cumsum needs src, the fragment or shared tile to scan");

  BufferRef src = bufferOf(*arg[0]);
  BufferRef dst = arg[1] ? bufferOf(*arg[1]) : src;
  const ast::Expr* dstAt = arg[1] ? arg[1] : arg[0];
  for (const auto& [b, at] : {std::pair{src, arg[0]}, std::pair{dst, dstAt}}) {
    if (b->scope != MemScope::Fragment && b->scope != MemScope::Shared)
      failAbout(at->range,
                "cumsum scans a fragment or a shared tile; '" + b->name + "' is " + name(b->scope) +
                    (b == src ? " (copy it into one first)" : ""),
                b);
    if (b->dtype == DType::Bool || isStorageOnly(b->dtype))
      failAbout(at->range,
                std::string("not yet supported: cumsum of ") + name(b->dtype) + " tile '" + b->name +
                    "' (no arithmetic on " + name(b->dtype) + "; cast it into a float32 or float16 tile first)",
                b);
  }
  std::vector<int64_t> shape = scanShape(*src);
  if (scanShape(*dst) != shape)
    failAbout(dstAt->range,
              "'" + dst->name + "' has shape " + shapeString(scanShape(*dst)) + "; cumsum of '" + src->name + "' " +
                  shapeString(shape) + " writes its own shape",
              dst);
  int rank = int(shape.size());
  int64_t dim = arg[2] ? constIntArg(*arg[2], "the scanned axis") : 0;
  if (dim < -rank || dim >= rank)
    fail(arg[2]->range, "dim " + std::to_string(dim) + " is out of range for '" + src->name + "' of rank " +
                            std::to_string(rank) + " (valid: " + std::to_string(-rank) + " to " +
                            std::to_string(rank - 1) + ")");
  if (dim < 0) dim += rank;
  bool reverse = arg[3] ? boolArg(*arg[3], "reverse") : false;
  DType acc = isFloat(src->dtype) || isFloat(dst->dtype)
                  ? (src->dtype == DType::Float64 || dst->dtype == DType::Float64 ? DType::Float64 : DType::Float32)
                  : dst->dtype;
  checkConversion(src->dtype, acc, arg[0]->range);
  checkConversion(acc, dst->dtype, dstAt->range);

  SourceRange r = c.range;
  auto seq = std::make_shared<SeqStmt>(r);
  int64_t numel = 1;
  for (int64_t e : shape) numel *= e;
  // A fragment side goes through one shared scratch tile of the shape.
  BufferRef scratch;
  if (src->scope == MemScope::Fragment || dst->scope == MemScope::Fragment) {
    const BufferRef& side = src->scope == MemScope::Fragment ? src : dst;
    if (const int64_t limit = target_.maxSharedBytesPerBlock(); numel * bits(side->dtype) / 8 > limit)
      failAbout(side == src ? arg[0]->range : dstAt->range,
                "not yet supported: cumsum of fragment '" + side->name +
                    "' goes through a shared scratch tile of its shape (" + std::to_string(numel * bits(side->dtype) / 8) +
                    " bytes); a block has at most " + std::to_string(limit) + " bytes of shared memory on " +
                    target_.arch() + " (scan a smaller tile)",
                side);
    scratch = std::make_shared<Buffer>();
    scratch->name = uniqueName(side->name + "_scan");
    scratch->shape = side->shape;
    scratch->strides = rowMajorStrides(scratch->shape);
    scratch->dtype = side->dtype;
    scratch->scope = MemScope::Shared;
    scratch->declRange = r;
    kernel_->allocations.push_back(scratch);
    usedBuffers_.insert(scratch);
  }
  // A Parallel loop over the whole shape: to[...] = from[...].
  auto copyAll = [&](const BufferRef& from, const BufferRef& to) {
    std::vector<VarRef> vars;
    std::vector<ExprRef> idx;
    for (int a = 0; a < rank; ++a) {
      vars.push_back(makeVar(uniqueName("i"), DType::Int32));
      idx.push_back(vars.back());
    }
    ExprRef v = std::make_shared<LoadNode>(from, idx, from->dtype, 1);
    auto store = std::make_shared<StoreStmt>(r, to, idx, convert(to->dtype, v, r));
    chargeExpansion(r, expansionWeight_ * unrolledCopies(numel, threads_, false, true));
    seq->stmts.push_back(std::make_shared<ParallelOp>(r, vars, shape, store));
  };
  BufferRef from = src;
  if (src->scope == MemScope::Fragment) {
    copyAll(src, scratch);
    from = scratch;
  }
  BufferRef to = dst->scope == MemScope::Shared ? dst : scratch;

  // One thread per line of the axis: its serial inclusive scan.
  std::vector<int64_t> kept;
  for (int a = 0; a < rank; ++a)
    if (a != dim) kept.push_back(shape[a]);
  if (kept.empty()) kept.push_back(1);
  std::vector<VarRef> vars;
  for (size_t a = 0; a < kept.size(); ++a) vars.push_back(makeVar(uniqueName("i"), DType::Int32));
  int64_t n = shape[dim];
  VarRef k = makeVar(uniqueName("k"), DType::Int32);
  ExprRef e = reverse ? ExprRef(binary(BinOp::Sub, intImm(n - 1), k)) : ExprRef(k);
  std::vector<ExprRef> idx;
  for (int a = 0, v = 0; a < rank; ++a) idx.push_back(a == dim ? e : ExprRef(vars[size_t(rank == 1 ? 0 : v++)]));
  if (rank == 1) idx = {e};
  VarRef accVar = makeVar(uniqueName("acc"), acc);
  auto body = std::make_shared<SeqStmt>(r);
  body->stmts.push_back(
      std::make_shared<LetStmt>(r, accVar, isFloat(acc) ? floatImm(0, acc) : intImm(0, acc)));
  auto step = std::make_shared<SeqStmt>(r);
  step->stmts.push_back(std::make_shared<AssignStmt>(
      r, accVar, binary(BinOp::Add, accVar, convert(acc, std::make_shared<LoadNode>(from, idx, from->dtype, 1), r))));
  step->stmts.push_back(std::make_shared<StoreStmt>(r, to, idx, convert(to->dtype, accVar, r)));
  body->stmts.push_back(std::make_shared<ForStmt>(r, k, intImm(0), intImm(n), ForKind::Serial, step));
  int64_t lines = numel / n;
  chargeExpansion(r, expansionWeight_ * unrolledCopies(lines, threads_, false, true) * 3);
  seq->stmts.push_back(std::make_shared<ParallelOp>(r, vars, kept, body));
  if (dst->scope == MemScope::Fragment) copyAll(scratch, dst);
  return seq;
}

}  // namespace tlc::sema
