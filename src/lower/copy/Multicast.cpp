// Multicast: copy_cluster(global, shared, cluster_mask=M) by one TMA multicast load:
// the lowest rank of the mask issues it and the tile (and each barrier's
// complete_tx) reaches the same offsets in every block of the mask; a block outside
// the mask loads its own tile (TileLang's meaning); each block waits on its own
// automatic mbarrier. A cluster barrier first: every block's
// mbarriers are initialised (and fenced for the cluster) before the first multicast
// can signal them, and every block of the mask is done with the tile's previous
// contents before the multicast overwrites them.
#include "lower/copy/CopyLowering.h"
#include "lower/copy/CopyStrategy.h"
#include "lower/copy/TmaConstraints.h"
#include "lower/copy/TmaTransfer.h"

namespace tlc {

using namespace ir;

namespace {

class Multicast final : public CopyStrategy {
 public:
  const char* name() const override { return "Multicast"; }
  const char* label() const override { return "TMA multicast"; }
  bool considers(const CopyOp& c) const override { return c.clusterMask != 0 && !c.options.tmaCopy; }
  std::string obstacle(const CopyOp& c, const CopySite& site) const override {
    for (auto f : {TargetFeature::Tma, TargetFeature::Clusters})
      if (!site.target.has(f)) return site.target.lacks(f);
    if (std::string why = tmaObstacle(c); !why.empty()) return why;
    if (!site.allowTma) return "the general variant assumes nothing of the tensor";
    return "";
  }
  std::shared_ptr<const CopyPlan> plan(const CopyOp& c, const CopySite& site, std::string& why) const override {
    return planTmaTransfer(name(), c, site, /*userWording=*/false, why);
  }
  CopyPath path(const CopyOp&, const CopySite&) const override { return CopyPath::TmaMulticast; }
  StmtRef lower(const CopyOp& c, CopyLowering& lowering) const override {
    lowering.anyMulticast = true;
    // Every block waits on its own barrier: the mask's for the multicast, the others
    // for their own load (lowerTmaTransfer).
    return std::make_shared<SeqStmt>(c.range,
                                     std::vector<StmtRef>{CopyLowering::clusterSync(c.range), lowerTmaTransfer(c, lowering)});
  }
};

}  // namespace

const CopyStrategy& multicastStrategy() {
  static const Multicast strategy;
  return strategy;
}

}  // namespace tlc
