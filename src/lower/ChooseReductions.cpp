// ChooseReductions: fallbacks put in place, cross-warp reductions split, notes.
#include "lower/ChooseReductions.h"

#include <algorithm>
#include <map>

#include "ir/Rewrite.h"

namespace tlc {

using namespace ir;

ShuffleReductionPlan shuffleReductionPlan(const ReduceOp& r) {
  ShuffleReductionPlan p;
  const FragmentLayout& layout = r.src->layout;
  p.threads = layout.threads;
  p.vec = layout.vec;
  int64_t numel = 1;
  for (const auto& e : r.src->shape) numel *= *asConstInt(e);
  int64_t n = *asConstInt(r.src->shape.back());
  if (r.dim == 0 && r.src->shape.size() > 1) {
    int64_t k = *asConstInt(r.src->shape[0]);
    p.columns = true;
    p.width = numel / k;
    p.rows = k;
    p.rowGroups = p.width / p.vec;  // G: column groups a k
    int64_t groups = numel / p.vec;
    p.iterations = (groups + p.threads - 1) / p.threads;
    p.guard = groups % p.threads != 0;
    if (p.rowGroups <= p.threads) {
      p.lanesPerRow = int(32 / std::min<int64_t>(p.rowGroups, 32));  // lanes of a warp with one column group
      p.partials = int(p.threads / std::max<int64_t>(p.rowGroups, 32));
    } else {
      p.iterationsPerSlot = p.rowGroups / p.threads;  // m: a thread's column groups cycle every m iterations
    }
    p.scratchRows = p.width;
    p.scratchCols = p.partials;
    return p;
  }
  p.rows = numel / n;
  p.rowGroups = n / p.vec;
  int64_t groups = numel / p.vec;
  p.iterations = (groups + p.threads - 1) / p.threads;
  p.guard = groups % p.threads != 0;
  int64_t span = std::min<int64_t>(p.rowGroups, p.threads);  // threads sharing a row at one iteration
  if (p.rowGroups < p.threads) {
    p.slots = p.iterations;
  } else {
    p.slots = p.rows;
    p.iterationsPerSlot = p.rowGroups / p.threads;
  }
  p.lanesPerRow = int(std::min<int64_t>(span, 32));
  p.warpsPerRow = int(span > 32 ? span / 32 : 1);
  p.scratchRows = p.slots;
  p.scratchCols = p.threads / 32;
  return p;
}

namespace {

class Chooser {
 public:
  Chooser(Kernel& kernel, std::vector<CopyLoweringNote>& notes) : kernel_(kernel), notes_(notes) {}

  void run() {
    kernel_.body = rewrite(kernel_.body);
    // The scratch tiles of the reductions that went the shuffle way, unless another
    // (a fallback of the same source) still uses them.
    BufferSet used;
    forEachAccess(kernel_.body, AccessVisitor{[&](const BufferRef& b, bool) { used.insert(b.get()); }});
    kernel_.allocations.erase(std::remove_if(kernel_.allocations.begin(), kernel_.allocations.end(),
                                             [&](const BufferRef& b) { return dropped_.count(b.get()) && !used.count(b.get()); }),
                              kernel_.allocations.end());
  }

 private:
  Kernel& kernel_;
  std::vector<CopyLoweringNote>& notes_;
  BufferSet dropped_;
  // The dropped scratch tiles themselves: once the rewrite has replaced the fallback
  // that referred to them, nothing else may own them, and dropped_ compares by the
  // buffers' ids (found under glibc.malloc.mmap_threshold=0: a use after free).
  std::vector<BufferRef> droppedAlive_;
  struct SrcAcc {
    const Buffer* src;
    DType acc;
    int dim;
    bool operator<(const SrcAcc& o) const {
      if (src->id < o.src->id) return true;
      if (o.src->id < src->id) return false;
      return std::pair(acc, dim) < std::pair(o.acc, o.dim);
    }
  };
  std::map<SrcAcc, BufferRef> warpScratch_;

  StmtRef rewrite(const StmtRef& s) {
    if (!s) return s;
    switch (s->kind) {
      case StmtKind::Seq: {
        auto out = std::make_shared<SeqStmt>(s->as<SeqStmt>());
        for (auto& c : out->stmts) c = rewrite(c);
        return out;
      }
      case StmtKind::For: {
        auto out = std::make_shared<ForStmt>(s->as<ForStmt>());
        out->body = rewrite(out->body);
        return out;
      }
      case StmtKind::If: {
        auto out = std::make_shared<IfStmt>(s->as<IfStmt>());
        out->thenBody = rewrite(out->thenBody);
        out->elseBody = rewrite(out->elseBody);
        return out;
      }
      case StmtKind::Reduce: return choose(s->as<ReduceOp>());
      default: return s;  // sema admits no reduction inside a Parallel loop
    }
  }

  StmtRef choose(const ReduceOp& r) {
    std::string what = std::string(name(r.op)) + " " + r.src->name + " -> " + r.dst->name;
    if (!r.shuffle) {
      notes_.push_back({r.range, what,
                        r.src->scope == MemScope::Fragment ? "a shared scratch tile and serial folds"
                                                            : "serial folds of the shared tile",
                        "warp shuffles not used: " + r.why});
      return r.fallback;
    }
    for (const auto& b : r.fallbackScratch) {
      dropped_.insert(b.get());
      droppedAlive_.push_back(b);
    }
    ShuffleReductionPlan p = shuffleReductionPlan(r);
    std::string how;
    int crossing = p.columns ? p.partials : p.warpsPerRow;
    if (p.columns) {
      how = "per-thread folds down the columns and ";
      how += p.lanesPerRow > 1 ? "warp shuffles (shfl.sync.bfly over the " + std::to_string(p.lanesPerRow) +
                                     " lanes of a column)"
                               : "no shuffle (no two lanes of a warp share a column)";
    } else {
      how = "per-thread folds of " + std::to_string(p.iterationsPerSlot * p.vec) + " element" +
            (p.iterationsPerSlot * p.vec == 1 ? "" : "s") + " and ";
      how += p.lanesPerRow > 1 ? "warp shuffles (shfl.sync.bfly over " + std::to_string(p.lanesPerRow) + " lanes)"
                               : "no shuffle (each thread holds whole rows)";
    }
    auto whole = std::make_shared<ReduceOp>(r);
    whole->fallback = nullptr;
    whole->fallbackScratch.clear();
    if (crossing == 1) {
      notes_.push_back({r.range, what, how, ""});
      return whole;
    }
    // A row spans warps: one partial per warp and slot in a shared tile, then their fold.
    // One tile per source and accumulator type, shared by its reductions (InsertBarriers
    // orders a reuse after the reads before it).
    BufferRef& scratch = warpScratch_[{r.src.get(), r.acc, r.dim}];
    if (!scratch) {
      scratch = std::make_shared<Buffer>();
      scratch->name = r.src->name + "_warps";
      int same = 0;
      for (const auto& b : kernel_.allocations) same += b->name.rfind(scratch->name, 0) == 0;
      if (same) scratch->name += std::to_string(same);
      scratch->dtype = r.acc;
      scratch->scope = MemScope::Shared;
      scratch->shape = {intImm(p.scratchRows), intImm(p.scratchCols)};
      scratch->strides = {intImm(p.scratchCols), intImm(1)};
      scratch->declRange = r.range;
      kernel_.allocations.push_back(scratch);
    }
    how += ", then the " + std::to_string(crossing) + (p.columns ? " partials of a column" : " warps of a row") +
           " through shared tile " + scratch->name + " (" +
           std::to_string(p.scratchRows * p.scratchCols * bits(r.acc) / 8) + " bytes)";
    notes_.push_back({r.range, what, how, ""});
    whole->part = ReduceOp::Part::WarpPartials;
    whole->scratch = scratch;
    auto fold = std::make_shared<ReduceOp>(*whole);
    fold->part = ReduceOp::Part::FoldWarps;
    return std::make_shared<SeqStmt>(r.range, std::vector<StmtRef>{whole, fold});
  }
};

}  // namespace

void chooseReductions(Kernel& kernel, std::vector<CopyLoweringNote>& notes) { Chooser(kernel, notes).run(); }

}  // namespace tlc
