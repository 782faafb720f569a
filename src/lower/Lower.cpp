// Lower: the lowering pipeline. The passes, in order:
//
// once per kernel variant (the fast one, which may use TMA and run-time
// assumptions, and a general SIMT-only one when the fast one has any), each on its
// own copy of the kernel and its buffers:
//   0. PackFloat4           float4_e2m1fn buffers -> uint8 byte twins (nibble accesses)
//   1. LayoutFragments      how each fragment spreads over the threads
//      LayoutSharedTiles    where each shared tile's elements sit (transpose swizzles)
//      ChooseReductions     fragment reductions: warp shuffles, or their shared-scratch fallback
//   2. ChooseCopyPaths      each copy's strategy (lower/copy/: TMA, cp.async, SIMT, ...)
//                           and its plan, from an ordered list, for the target
//   3. PipelineLoops        Pipelined loops: TMA loads issued stages ahead
//      AllocateCopyBarriers the automatic mbarriers of the TMA loads
//   4. PlanSharedMemory     byte offsets of every shared allocation; the target's limit
//   5. InsertBarriers       block barriers and async-proxy fences for shared memory
//   6. LowerTileOps         copies (by their strategies) / Parallel / fill -> loops
//      OverlapTmaLoads      automatic TMA loads in a row issued before their waits
//      GuardGlobalAccesses  every global access proven in bounds or predicated
//   7. FlattenBufferAccess  multi-dimensional indices -> element offsets
//   8. WidenIndices         index arithmetic whose range passes 32 bits -> 64 bits
//   9. verifyLoopIR         the loop-IR invariants hold (no global access unchecked)
#include "lower/Lower.h"

#include <algorithm>
#include <functional>
#include <map>

#include "ir/Rewrite.h"
#include "ir/StmtVisitor.h"
#include "lower/AllocateCopyBarriers.h"
#include "lower/ChooseCopyPaths.h"
#include "lower/ChooseReductions.h"
#include "lower/FlattenBufferAccess.h"
#include "lower/GuardGlobalAccesses.h"
#include "lower/InsertBarriers.h"
#include "lower/LayoutFragments.h"
#include "lower/LayoutSharedTiles.h"
#include "lower/LowerTileOps.h"
#include "lower/MarkRegionStarts.h"
#include "lower/OverlapTmaLoads.h"
#include "lower/PackFloat4.h"
#include "lower/PipelineLoops.h"
#include "lower/PlanSharedMemory.h"
#include "lower/WidenIndices.h"

namespace tlc {

using namespace ir;

namespace {

// Points the tile operations' and intrinsics' buffers (the statements rewriteStmt
// leaves alone) at the kernel's own copies.
class BufferRenamer : public StmtVisitor {
 public:
  explicit BufferRenamer(std::function<BufferRef(const BufferRef&)> mapped) : mapped_(std::move(mapped)) {}

 protected:
  void visitCopy(CopyOp& c) override {
    c.src.buffer = mapped_(c.src.buffer);
    c.dst.buffer = mapped_(c.dst.buffer);
    if (c.options.barrier) c.options.barrier = mapped_(c.options.barrier);
  }
  void visitFill(FillOp& f) override { f.dst.buffer = mapped_(f.dst.buffer); }
  void visitReduce(ReduceOp& r) override {
    r.src = mapped_(r.src);
    r.dst = mapped_(r.dst);
    if (r.scratch) r.scratch = mapped_(r.scratch);
    for (auto& b : r.fallbackScratch) b = mapped_(b);
    StmtVisitor::visitReduce(r);
  }
  void visitIntrinsic(IntrinsicStmt& in) override {
    if (in.barrier) in.barrier = mapped_(in.barrier);
    if (in.shared) in.shared = mapped_(in.shared);
  }

 private:
  std::function<BufferRef(const BufferRef&)> mapped_;
};

// A kernel with its own statement tree and its own allocated buffers: passes edit
// statement lists, and buffers' offsets and layouts, in place.
Kernel ownCopy(const Kernel& k) {
  Kernel copy = k;
  std::map<const Buffer*, BufferRef, ById> renamed;
  for (auto& b : copy.allocations) {
    auto fresh = std::make_shared<Buffer>(*b);
    renamed[b.get()] = fresh;
    b = fresh;
  }
  auto mapped = [&](const BufferRef& b) {
    auto it = renamed.find(b.get());
    return it == renamed.end() ? b : it->second;
  };
  // A view names its tile's copy (listed before it), not the tile IR's.
  for (auto& b : copy.allocations)
    if (b->viewOf) b->viewOf = mapped(b->viewOf);
  RewriteHooks hooks;
  hooks.load = [&](const LoadNode& l, std::vector<ExprRef> idx) -> ExprRef {
    return moveLoad(l, mapped(l.buffer), idx);
  };
  hooks.store = [&](const StoreStmt& st, std::vector<ExprRef> idx, ExprRef value) -> StmtRef {
    return moveStore(st, mapped(st.buffer), idx, value);
  };
  copy.body = rewriteStmt(k.body, {}, hooks);
  BufferRenamer{mapped}.visit(copy.body);
  return copy;
}

// Whether the kernel uses tma_copy or the low-level copy intrinsics (cp_async_gs...):
// operations whose alignment the program, not the compiler, decides.
class UserTmaFinder : public StmtVisitor {
 public:
  bool found = false;

 protected:
  void visitCopy(CopyOp& c) override { found |= c.options.tmaCopy; }
  void visitIntrinsic(IntrinsicStmt& in) override {
    found |= in.tensorMap != nullptr || (in.op == IntrinsicOp::CpAsync && in.shared != nullptr);
  }
  // Not into Parallel bodies: sema admits neither operation there.
  void visitParallel(ParallelOp&) override {}
};

bool usesUserTma(const StmtRef& s) {
  UserTmaFinder finder;
  finder.visit(s);
  return finder.found;
}

std::optional<Kernel> lowerVariant(const Kernel& tile, const Target& target, bool allowAssumptions, DiagnosticEngine& diags,
                                   std::vector<CopyLoweringNote>& notes) {
  Kernel k = ownCopy(tile);
  if (!packFloat4(k, diags)) return std::nullopt;
  if (!layoutFragments(k, diags, notes)) return std::nullopt;
  layoutSharedTiles(k);
  chooseReductions(k, notes);
  CopyPathOptions paths;
  paths.target = target;
  paths.allowTma = allowAssumptions;
  if (!chooseCopyPaths(k, paths, diags)) return std::nullopt;
  pipelineLoops(k, target, notes);
  allocateCopyBarriers(k);
  if (!planSharedMemory(k, target, diags)) return std::nullopt;
  insertBarriers(k);
  TileOpLoweringOptions options;
  options.target = target;
  options.allowAssumptions = allowAssumptions;
  markRegionStarts(k);
  if (!lowerTileOps(k, options, diags, notes)) return std::nullopt;
  overlapTmaLoads(k);
  guardGlobalAccesses(k, diags);
  flattenBufferAccess(k);
  widenIndices(k);
  verifyLoopIR(k, diags);
  return k;
}

}  // namespace

std::unique_ptr<Module> lower(const Module& tileIR, const LowerOptions& options, DiagnosticEngine& diags) {
  auto out = std::make_unique<Module>();
  for (const Kernel& source : tileIR.kernels) {
    const Kernel& tile = source;

    std::vector<CopyLoweringNote> fastNotes, generalNotes;
    auto fast = lowerVariant(tile, options.target, /*allowAssumptions=*/true, diags, fastNotes);
    if (!fast) continue;
    if (usesUserTma(tile.body)) {
      // tma_copy and the tensor-map intrinsics have no SIMT meaning under the user's
      // barrier protocol: one variant, whose assumptions the launcher enforces.
      fast->assumptionsRequired = !fast->assumptions.empty();
      out->kernels.push_back(std::move(*fast));
    } else if (fast->assumptions.empty()) {
      out->kernels.push_back(std::move(*fast));
    } else {
      auto general = lowerVariant(tile, options.target, /*allowAssumptions=*/false, diags, generalNotes);
      if (!general) continue;
      fast->name = source.name + "_aligned";
      out->kernels.push_back(std::move(*fast));
      out->kernels.push_back(std::move(*general));
    }
    if (options.remarks) {
      // In source order, like every other diagnostic.
      std::stable_sort(fastNotes.begin(), fastNotes.end(), [](const CopyLoweringNote& a, const CopyLoweringNote& b) {
        return a.range.begin.offset < b.range.begin.offset;
      });
      for (const auto& note : fastNotes) {
        std::string text = note.copy + " lowered to " + note.how;
        // The same operation in the general variant, if that one differs.
        for (const auto& other : generalNotes)
          if (other.range.begin.offset == note.range.begin.offset && other.copy == note.copy) {
            if (other.how != note.how) text += "; otherwise (checked at launch) " + other.how;
            break;
          }
        if (!note.whyNot.empty()) text += " (" + note.whyNot + ")";
        diags.remark(note.range, text);
      }
    }
  }
  if (diags.hasErrors()) return nullptr;
  return out;
}

}  // namespace tlc
