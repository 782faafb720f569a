// TmaLoad: a global -> shared copy the compiler gives TMA on its own: one
// cp.async.bulk.tensor load of the whole tile (the outermost box axis in pieces of
// at most 256), issued by thread 0 on an automatic mbarrier that every thread then
// waits on; in a Pipelined loop, PipelineLoops splits it into the issue, stages
// ahead, and the wait. Chosen where loads run ahead of the work (a Pipelined
// loop's body) or where prefer_instruction="tma" asks for it: elsewhere cp.async
// was measured faster (docs/performance.md).
#include "lower/copy/CopyLowering.h"
#include "lower/copy/CopyStrategy.h"
#include "lower/copy/TmaTransfer.h"

namespace tlc {

using namespace ir;

namespace {

class TmaLoad final : public CopyStrategy {
 public:
  const char* name() const override { return "TmaLoad"; }
  const char* label() const override { return "TMA"; }
  bool considers(const CopyOp& c) const override {
    return !c.transpose && !c.im2col && !c.clusterMask && !c.dstBlock && !c.options.tmaCopy &&
           c.src.buffer->scope == MemScope::Global && c.dst.buffer->scope == MemScope::Shared;
  }
  std::string obstacle(const CopyOp& c, const CopySite& site) const override {
    if (std::string why = automaticTmaObstacle(c, site); !why.empty()) return why;
    if (c.options.prefer == PreferInstruction::Auto && !site.pipelined)
      return "cp.async measured faster for a load that is not pipelined";
    if (!site.allowTma) return "the general variant assumes nothing of the tensor";
    return "";
  }
  std::shared_ptr<const CopyPlan> plan(const CopyOp& c, const CopySite& site, std::string& why) const override {
    return planTmaTransfer(name(), c, site, /*userWording=*/false, why);
  }
  CopyPath path(const CopyOp&, const CopySite&) const override { return CopyPath::TmaLoad; }
  StmtRef lower(const CopyOp& c, CopyLowering& lowering) const override { return lowerTmaTransfer(c, lowering); }
};

}  // namespace

const CopyStrategy& tmaLoadStrategy() {
  static const TmaLoad strategy;
  return strategy;
}

}  // namespace tlc
