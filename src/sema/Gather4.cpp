// Gather4: Blackwell's four-row TMA copies, `tma_gather4`, `tma_scatter4` and
// `tma_gather4_bytes` (--arch=sm_100a only; an error naming the target elsewhere).
#include "sema/Analyzer.h"

namespace tlc::sema {

void Analyzer::requireBlackwell(const ast::Call& c, const std::string& callee) {
  if (target_.has(TargetFeature::Gather4)) return;
  fail(c.callee->range, callee + " needs --arch=sm_100a (Blackwell); this build targets " + target_.arch());
}

// The bytes one gather4 moves: four rows of K_box elements. A compile-time integer,
// so that it can feed mbarrier_expect_tx and consts alike.
ExprRef Analyzer::gather4Bytes(const ast::Call& c) {
  requireBlackwell(c, "tma_gather4_bytes");
  checkKeywords(c, "tma_gather4_bytes", {});
  if (c.args.size() != 2) fail(c.range, "tma_gather4_bytes takes (K_box, dtype)");
  int64_t box = constIntArg(*c.args[0], "K_box");
  DType dtype = dtypeArg(*c.args[1]);
  checkGather4Box(box, dtype, c.args[0]->range, c.args[1]->range);
  return intImm(4 * box * (bits(dtype) / 8));
}

// What a tile::gather4 / scatter4 box row must be: 1 to 256 elements of a type TMA
// moves, a multiple of 16 bytes (cuTensorMapEncodeTiled's rule for boxDim[0]).
void Analyzer::checkGather4Box(int64_t box, DType dtype, SourceRange r, SourceRange dtypeRange) {
  if (bits(dtype) < 8 || dtype == DType::Bool || dtype == DType::Handle)
    fail(dtypeRange, std::string("tile::gather4 cannot move ") + name(dtype));
  if (box < 1 || box > 256) fail(r, "a gather4 row (K_box) has 1 to 256 elements, not " + std::to_string(box));
  int64_t rowBytes = box * (bits(dtype) / 8);
  if (rowBytes % 16 != 0)
    fail(r, "a gather4 row is " + std::to_string(box) + " x " + std::to_string(bits(dtype) / 8) + " = " +
                std::to_string(rowBytes) + " bytes; TMA needs a multiple of 16");
}

// swizzle= on tma_gather4 / tma_scatter4: deprecated in TileLang (the tile's layout,
// annotate_layout, says it), still honoured: 0 or "none" asks for nothing, 32, 64 or
// 128 (bytes) gives the tile that swizzle for every access, as annotate_layout would;
// a tile annotated otherwise is an error.
void Analyzer::gather4Swizzle(const ast::Call& c, const std::string& callee, const BufferRef& t, int64_t rowBytes) {
  const ast::KeywordArg* kw = nullptr;
  for (const auto& k : c.kwargs)
    if (k.name == "swizzle") kw = &k;
  if (!kw) return;
  const ast::Expr& v = *kw->value;
  int64_t n;
  if (v.kind == ast::ExprKind::StringLit) {
    if (v.as<ast::StringLit>().value != "none")
      fail(v.range, "invalid swizzle \"" + v.as<ast::StringLit>().value + "\"; valid: \"none\", 0, 32, 64, 128 (bytes)");
    n = 0;
  } else {
    n = constIntArg(v, "swizzle");
    if (n != 0 && n != 32 && n != 64 && n != 128)
      fail(v.range, "invalid swizzle " + std::to_string(n) + "; valid: \"none\", 0, 32, 64, 128 (bytes)");
  }
  // TileLang warns only for a swizzle that asks for something.
  if (n == 0) return;
  warning(Warning::Deprecated, kw->nameRange,
          callee + "'s swizzle= is deprecated; give the tile its layout instead: annotate_layout({" + t->name +
              ": swizzled(" + t->name + ", " + std::to_string(n) + ")})");
  SharedLayout& layout = t->sharedLayout;
  if (layout.annotated) {
    if (layout.swizzleBytes == n && !layout.pad && !layout.permutesPieces()) return;
    failAbout(v.range, "swizzle=" + std::to_string(n) + " contradicts the layout " + layout.why + " gave '" + t->name + "'", t);
  }
  rejectLayoutOfAliased(t, v.range);
  if (rowBytes != n)
    failAbout(v.range, "swizzle=" + std::to_string(n) + " needs rows of exactly " + std::to_string(n) + " bytes (the TMA "
                           "swizzle span); rows of '" + t->name + "' are " + std::to_string(rowBytes) + " bytes", t);
  SharedLayout l;
  l.annotated = true;
  l.why = callee + " swizzle=";
  l.swizzleBytes = (int)n;
  layout = l;
}

// tma_gather4(src, dst, col, rows, barrier=bar): rows row0..row3 of the global 2-D
// tensor `src`, columns [col, col + K_box), into 4 x K_box contiguous elements of the
// shared tile `dst`, completing K_box x 4 x element-size bytes of `bar`'s transaction
// count. tma_scatter4(src, dst, col, rows): the reverse, from a shared tile into four
// rows of the global tensor `dst` (a bulk group: tma_store_arrive / tma_store_wait).
// Both are issued by the threads that call them (call them from one elected thread).
StmtRef Analyzer::gather4Op(const ast::Call& c, const std::string& callee) {
  requireBlackwell(c, callee);
  bool gather = callee == "tma_gather4";
  checkKeywords(c, callee,
                gather ? std::vector<std::string>{"barrier", "swizzle", "eviction_policy"}
                       : std::vector<std::string>{"swizzle", "eviction_policy"});
  if (inParallel_) fail(c.callee->range, callee + "() cannot be called inside a Parallel loop");
  const std::string usage =
      gather ? "tma_gather4 takes (src, dst, col, rows, barrier=bar): a global 2-D tensor, a shared tile of 4 rows, "
               "the first column and a tuple of 4 row indices"
             : "tma_scatter4 takes (src, dst, col, rows): a shared tile of 4 rows, a global 2-D tensor, the first "
               "column and a tuple of 4 row indices";
  if (c.args.size() != 4) fail(c.args.size() > 4 ? c.args[4]->range : c.range, usage);
  const ast::Expr& globalArg = gather ? *c.args[0] : *c.args[1];
  const ast::Expr& tileArg = gather ? *c.args[1] : *c.args[0];

  // The tensor: global, two dimensions, rows of contiguous elements.
  BufferRef tensor = bufferOf(globalArg);
  rejectBarrier(tensor, globalArg.range);
  if (tensor->scope != MemScope::Global)
    failAbout(globalArg.range, callee + (gather ? " reads from" : " writes to") + " a global tensor; '" + tensor->name +
                                   "' is " + name(tensor->scope),
              tensor);
  if (tensor->shape.size() != 2)
    failAbout(globalArg.range, "tile::" + std::string(gather ? "gather4" : "scatter4") + " works on 2-D tensors; '" +
                                   tensor->name + "' has " + std::to_string(tensor->shape.size()) + " dimensions",
              tensor);
  if (auto inner = asConstInt(tensor->strides[1]); !inner || *inner != 1)
    failAbout(globalArg.range, "the rows of '" + tensor->name + "' must be contiguous (innermost stride 1) for TMA",
              tensor);
  if (tensor->elemOffset) fail(globalArg.range, "not yet supported: " + callee + " on a tensor with elem_offset");

  // The tile: four whole rows of a 2-D shared tile (the tile itself, or a region).
  RegionSpec tile = regionSpec(tileArg, gather ? Access::Write : Access::Read);
  const BufferRef& t = tile.buffer;
  if (t->scope != MemScope::Shared)
    failAbout(tileArg.range, callee + (gather ? " writes to" : " reads from") + " a shared tile; '" + t->name + "' is " +
                                 name(t->scope),
              t);
  if (t->shape.size() != 2)
    failAbout(tileArg.range, "the tile of " + callee + " has 2 dimensions (4 rows x K_box columns); '" + t->name +
                                 "' has " + std::to_string(t->shape.size()),
              t);
  int64_t box = *asConstInt(t->shape[1]);
  auto firstColumn = asConstInt(tile.mins[1]);
  if (tile.isHead || !tile.extents[0] || !tile.extents[1] || *tile.extents[0] != 4 || *tile.extents[1] != box ||
      !firstColumn || *firstColumn != 0)
    failAbout(tileArg.range, callee + " moves 4 whole rows of '" + t->name + "' (" + std::to_string(box) +
                                 " columns): name the tile, or a region of 4 rows and every column",
              t);
  if (t->dtype != tensor->dtype)
    failAbout(tileArg.range, "'" + t->name + "' holds " + name(t->dtype) + " but '" + tensor->name + "' holds " +
                                 name(tensor->dtype),
              t);
  checkGather4Box(box, t->dtype, tileArg.range, tileArg.range);
  // TMA's shared operand is 128-byte aligned: tiles are 1024-aligned, so the first
  // row's offset must be a multiple of 128 bytes for every value it can take.
  int64_t rowBytes = box * (bits(t->dtype) / 8);
  ExprRef firstRow = cast(DType::Int32, tile.mins[0]);
  if ((knownMultiple(firstRow) * rowBytes) % 128 != 0)
    failAbout(tileArg.range,
              "the 4 rows must start 128-byte aligned in shared memory; row " + toString(firstRow) + " of '" + t->name +
                  "' starts at byte " +
                  (asConstInt(firstRow) ? std::to_string(*asConstInt(firstRow) * rowBytes)
                                        : std::to_string(rowBytes) + " x " + toString(firstRow)),
              t);

  ExprRef column = integerArg(*c.args[2], "the column");
  auto rows = tupleItems(*c.args[3]);
  if (c.args[3]->kind != ast::ExprKind::Tuple || rows.size() != 4)
    fail(c.args[3]->range, callee + " takes a tuple of 4 row indices, e.g. (r0, r1, r2, r3)");
  std::vector<ExprRef> args = {column};
  for (const ast::Expr* r : rows) args.push_back(integerArg(*r, "a row index"));

  auto op = std::make_shared<IntrinsicStmt>(c.range, gather ? IntrinsicOp::TmaGather4 : IntrinsicOp::TmaScatter4, args);
  if (gather) {
    const ast::Expr* bar = keyword(c, "barrier");
    if (!bar)
      fail(c.range, "tma_gather4 needs barrier=: the alloc_barrier barrier whose transaction count it completes");
    BarrierOperand b = barrierOperand(*bar, callee);
    op->barrier = b.buffer;
    op->barrierIndex = b.index;
  }
  gather4Swizzle(c, callee, t, rowBytes);
  if (const ast::Expr* e = keyword(c, "eviction_policy"))
    op->cacheHint = cacheHint(evictionPolicyArg(*e));
  op->shared = t;
  op->sharedElement = mul(firstRow, intImm(box));
  op->buffer = tensor;
  op->immediate = box;
  return op;
}

}  // namespace tlc::sema
