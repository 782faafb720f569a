// Lower: the lowering pipeline. The passes, in order:
//
//   1. LayoutFragments      how each fragment spreads over the threads
//   2. PlanSharedMemory     byte offsets of the shared tiles
//   then, once per kernel variant (the fast one, which may use TMA and run-time
//   assumptions, and a general SIMT-only one when the fast one has any):
//   3. ChooseCopyPaths      TMA load / TMA store / SIMT for each copy
//   4. InsertBarriers       block barriers and async-proxy fences for shared memory
//   5. LowerTileOps         copies / Parallel / fill -> TMA or partitioned, vectorized loops
//   6. FlattenBufferAccess  multi-dimensional indices -> element offsets
//   7. verifyLoopIR         the loop-IR invariants hold
#include "lower/Lower.h"

#include <map>

#include "ir/Rewrite.h"
#include "lower/ChooseCopyPaths.h"
#include "lower/FlattenBufferAccess.h"
#include "lower/InsertBarriers.h"
#include "lower/LayoutFragments.h"
#include "lower/LowerTileOps.h"
#include "lower/PlanSharedMemory.h"

namespace tlc {

using namespace ir;

namespace {

// A kernel with its own statement tree (passes edit statement lists in place).
Kernel ownCopy(const Kernel& k) {
  Kernel copy = k;
  copy.body = rewriteStmt(k.body, {}, {});
  return copy;
}

std::optional<Kernel> lowerVariant(const Kernel& tile, bool allowAssumptions, DiagnosticEngine& diags,
                                   std::vector<CopyLoweringNote>& notes) {
  Kernel k = ownCopy(tile);
  CopyPathOptions paths;
  paths.allowTma = allowAssumptions;
  if (!chooseCopyPaths(k, paths, diags)) return std::nullopt;
  insertBarriers(k);
  TileOpLoweringOptions options;
  options.allowAssumptions = allowAssumptions;
  if (!lowerTileOps(k, options, diags, notes)) return std::nullopt;
  flattenBufferAccess(k);
  verifyLoopIR(k, diags);
  return k;
}

}  // namespace

std::unique_ptr<Module> lower(const Module& tileIR, const LowerOptions& options, DiagnosticEngine& diags) {
  auto out = std::make_unique<Module>();
  for (const Kernel& source : tileIR.kernels) {
    Kernel tile = ownCopy(source);
    layoutFragments(tile);
    if (!planSharedMemory(tile, diags)) continue;

    std::vector<CopyLoweringNote> fastNotes, generalNotes;
    auto fast = lowerVariant(tile, /*allowAssumptions=*/true, diags, fastNotes);
    if (!fast) continue;
    if (fast->assumptions.empty()) {
      out->kernels.push_back(std::move(*fast));
    } else {
      auto general = lowerVariant(tile, /*allowAssumptions=*/false, diags, generalNotes);
      if (!general) continue;
      fast->name = source.name + "_aligned";
      out->kernels.push_back(std::move(*fast));
      out->kernels.push_back(std::move(*general));
    }
    if (options.remarks) {
      for (size_t i = 0; i < fastNotes.size(); ++i) {
        const auto& note = fastNotes[i];
        std::string text = note.copy + " lowered to " + note.how;
        if (i < generalNotes.size() && generalNotes[i].how != note.how)
          text += "; otherwise (checked at launch) " + generalNotes[i].how;
        if (!note.whyNot.empty()) text += " (" + note.whyNot + ")";
        diags.remark(note.range, text);
      }
    }
  }
  if (diags.hasErrors()) return nullptr;
  return out;
}

}  // namespace tlc
