// Transpose: transpose(src, dst), shared (.., M, N) -> shared (.., N, M), always by
// the threads: the plan of LayoutSharedTiles (V x V micro-blocks, block b to thread
// b % threads). Each thread loads V row vectors of its block into a register array,
// transposes them there (constant indices: SROA keeps it in registers) and stores V
// row vectors; both tiles' layouts apply when the accesses are flattened.
#include <sstream>

#include "lower/LayoutSharedTiles.h"
#include "lower/copy/CopyLowering.h"
#include "lower/copy/CopyStrategy.h"

namespace tlc {

using namespace ir;

namespace {

// The micro-block plan for the tiles' final layouts (LayoutSharedTiles chose the
// destination's swizzle from it).
struct TransposeCopyPlan : CopyPlan {
  TransposeCopyPlan(const char* name, TransposePlan p) : CopyPlan(name), plan(p) {}
  TransposePlan plan;
};

class Transpose final : public CopyStrategy {
 public:
  const char* name() const override { return "Transpose"; }
  const char* label() const override { return ""; }
  bool considers(const CopyOp& c) const override { return c.transpose; }
  std::string obstacle(const CopyOp&, const CopySite&) const override { return ""; }
  std::shared_ptr<const CopyPlan> plan(const CopyOp& c, const CopySite& site, std::string&) const override {
    const Buffer& src = *c.src.buffer;
    return std::make_shared<TransposeCopyPlan>(
        name(), planTranspose(src.dtype, c.src.extents, site.kernel.threads, transposeVecLimit(c)));
  }
  CopyPath path(const CopyOp&, const CopySite&) const override { return CopyPath::Simt; }
  StmtRef lower(const CopyOp& c, CopyLowering& L) const override {
    const Buffer& src = *c.src.buffer;
    const Buffer& dst = *c.dst.buffer;
    const TransposePlan& plan = static_cast<const TransposeCopyPlan&>(*c.plan).plan;
    int v = plan.vec;
    size_t rank = c.src.extents.size();
    auto regs = std::make_shared<Buffer>();
    regs->name = src.name + "_T_regs";
    regs->dtype = src.dtype;
    regs->scope = MemScope::Local;
    regs->shape = {intImm(2 * v * v)};
    regs->strides = {intImm(1)};
    regs->declRange = c.range;
    L.kernel.allocations.push_back(regs);

    Partition p = L.partitionFor(L.kernel.threads, 1, plan.blocks(), false);
    p.unrolled = p.iterations <= 8;
    int align = CopyLowering::alignOf(src, v);
    auto body = [&](const ExprRef&, const ExprRef& block) -> StmtRef {
      auto seq = std::make_shared<SeqStmt>(c.range);
      ExprRef bc = floorMod(block, intImm(plan.colBlocks));
      ExprRef rest = floorDiv(block, intImm(plan.colBlocks));
      ExprRef br = plan.batch == 1 ? rest : floorMod(rest, intImm(plan.rowBlocks));
      // The leading axes, row-major over the batch.
      std::vector<ExprRef> lead(rank - 2);
      ExprRef b = floorDiv(rest, intImm(plan.rowBlocks));
      for (size_t a = rank - 2; a-- > 0;) {
        lead[a] = a == 0 ? b : floorMod(b, intImm(c.src.extents[a]));
        b = floorDiv(b, intImm(c.src.extents[a]));
      }
      ExprRef row0 = mul(br, intImm(v)), col0 = mul(bc, intImm(v));
      // Element (lead, r, col) of a region: its start plus that (a whole tile starts at 0).
      auto at = [&](const Region& region, const ExprRef& r, const ExprRef& col) {
        std::vector<ExprRef> idx;
        for (size_t a = 0; a < rank - 2; ++a) idx.push_back(add(region.mins[a], lead[a]));
        idx.push_back(add(region.mins[rank - 2], r));
        idx.push_back(add(region.mins[rank - 1], col));
        return idx;
      };
      for (int i = 0; i < v; ++i) {
        auto load = std::make_shared<LoadNode>(c.src.buffer, at(c.src, add(row0, intImm(i)), col0), src.dtype, v);
        load->alignBytes = align;
        auto st = std::make_shared<StoreStmt>(c.range, regs, std::vector<ExprRef>{intImm(i * v)}, load);
        st->alignBytes = align;
        seq->stmts.push_back(st);
      }
      for (int i = 0; i < v; ++i)
        for (int j = 0; j < v; ++j) {
          auto e = std::make_shared<LoadNode>(regs, std::vector<ExprRef>{intImm(i * v + j)}, src.dtype, 1);
          seq->stmts.push_back(std::make_shared<StoreStmt>(c.range, regs, std::vector<ExprRef>{intImm(v * v + j * v + i)}, e));
        }
      for (int j = 0; j < v; ++j) {
        auto vecLoad = std::make_shared<LoadNode>(regs, std::vector<ExprRef>{intImm(v * v + j * v)}, src.dtype, v);
        vecLoad->alignBytes = align;
        auto st = std::make_shared<StoreStmt>(c.range, c.dst.buffer, at(c.dst, add(col0, intImm(j)), row0), vecLoad);
        st->alignBytes = align;
        seq->stmts.push_back(st);
      }
      return seq;
    };
    StmtRef out = L.partitionLoop(p, c.range, plan.blocks(), body);
    std::ostringstream how;
    int bytes = v * bits(src.dtype) / 8;
    how << v << "x" << v << " micro-blocks per thread (" << bytes << "-byte vectors, " << plan.blocks() << " blocks)";
    if (dst.sharedLayout.permutesPieces() && !dst.sharedLayout.annotated)
      how << ", '" << dst.name << "' swizzled: " << dst.sharedLayout.unit * bits(dst.dtype) / 8 << "-byte piece ^= (row / "
          << dst.sharedLayout.rowDiv << ") % " << dst.sharedLayout.span;
    else if (!dst.sharedLayout.rowMajor())
      how << ", '" << dst.name << "' keeps its annotated layout " << describe(dst.sharedLayout, dst.dtype);
    L.notes.push_back({c.range, "transpose " + src.name + " -> " + dst.name, how.str(), ""});
    return out;
  }
};

}  // namespace

const CopyStrategy& transposeStrategy() {
  static const Transpose strategy;
  return strategy;
}

}  // namespace tlc
