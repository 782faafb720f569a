// UserTma: tma_copy, TMA under the user's split-phase protocol. A load expects its
// bytes on the user's alloc_barrier and issues; a store orders the tile's writes
// for the async proxy, issues and commits a bulk group; neither waits. One elected
// thread of each group of `leaderScope` threads issues. Only TMA has this meaning:
// an obstacle is an error at the copy (ChooseCopyPaths), never a fallback.
// With cluster_mask (TileLang's multicast tma_copy) every block expects the bytes on
// its own barrier; the lowest rank of the mask issues one multicast load that fills
// the tile of every block of the mask, a block outside the mask loads its own tile,
// and nothing waits: the arrivals, waits and the reuse of the tile across blocks are
// the program's, as in TileLang. The kernel starts with a cluster barrier (every
// block's barriers initialised before a multicast signals them) and ends with one
// (no block leaves while a multicast it issued still writes into the others).
#include "lower/copy/CopyLowering.h"
#include "lower/copy/CopyStrategy.h"
#include "lower/copy/TmaConstraints.h"
#include "lower/copy/TmaTransfer.h"

namespace tlc {

using namespace ir;

namespace {

class UserTma final : public CopyStrategy {
 public:
  const char* name() const override { return "UserTma"; }
  const char* label() const override { return "TMA"; }
  bool considers(const CopyOp& c) const override { return c.options.tmaCopy; }
  std::string obstacle(const CopyOp& c, const CopySite& site) const override {
    if (!site.target.has(TargetFeature::Tma)) return site.target.lacks(TargetFeature::Tma);
    if (c.clusterMask && !site.target.has(TargetFeature::Clusters)) return site.target.lacks(TargetFeature::Clusters);
    return tmaObstacle(c, /*user=*/true);
  }
  std::shared_ptr<const CopyPlan> plan(const CopyOp& c, const CopySite& site, std::string& why) const override {
    auto plan = planTmaTransfer(name(), c, site, /*userWording=*/true, why);
    if (plan && c.clusterMask && static_cast<const TmaPlan&>(*plan).rows) {
      why = "a multicast (cluster_mask) of rows longer than a tensor map's box (256 elements) is not yet supported: "
            "such rows go by bulk copies, which have no multicast form here";
      return nullptr;
    }
    return plan;
  }
  CopyPath path(const CopyOp& c, const CopySite&) const override {
    if (c.clusterMask) return CopyPath::TmaMulticast;
    return c.src.buffer->scope == MemScope::Global ? CopyPath::TmaLoad : CopyPath::TmaStore;
  }
  StmtRef lower(const CopyOp& c, CopyLowering& lowering) const override {
    if (c.clusterMask) lowering.anyMulticast = lowering.anyUserMulticast = true;
    return lowerTmaTransfer(c, lowering);
  }
};

}  // namespace

const CopyStrategy& userTmaStrategy() {
  static const UserTma strategy;
  return strategy;
}

}  // namespace tlc
