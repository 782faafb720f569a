// UserTma: tma_copy, TMA under the user's split-phase protocol. A load expects its
// bytes on the user's alloc_barrier and issues; a store orders the tile's writes
// for the async proxy, issues and commits a bulk group; neither waits. One elected
// thread of each group of `leaderScope` threads issues. Only TMA has this meaning:
// an obstacle is an error at the copy (ChooseCopyPaths), never a fallback.
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
    return tmaObstacle(c, /*user=*/true);
  }
  std::shared_ptr<const CopyPlan> plan(const CopyOp& c, const CopySite& site, std::string& why) const override {
    return planTmaTransfer(name(), c, site, /*userWording=*/true, why);
  }
  CopyPath path(const CopyOp& c, const CopySite&) const override {
    return c.src.buffer->scope == MemScope::Global ? CopyPath::TmaLoad : CopyPath::TmaStore;
  }
  StmtRef lower(const CopyOp& c, CopyLowering& lowering) const override { return lowerTmaTransfer(c, lowering); }
};

}  // namespace

const CopyStrategy& userTmaStrategy() {
  static const UserTma strategy;
  return strategy;
}

}  // namespace tlc
