// TmaStore: a shared -> global copy by one cp.async.bulk.tensor store of the whole
// tile, issued by thread 0, committed as a bulk group whose reads of the tile the
// issuing thread waits for (the tile may then be reused). Only where
// prefer_instruction="tma" asks for it: 16-byte stores were measured faster.
#include "lower/copy/CopyLowering.h"
#include "lower/copy/CopyStrategy.h"
#include "lower/copy/TmaTransfer.h"

namespace tlc {

using namespace ir;

namespace {

class TmaStore final : public CopyStrategy {
 public:
  const char* name() const override { return "TmaStore"; }
  const char* label() const override { return "TMA"; }
  bool considers(const CopyOp& c) const override {
    return !c.transpose && !c.im2col && !c.clusterMask && !c.dstBlock && !c.options.tmaCopy &&
           c.src.buffer->scope == MemScope::Shared && c.dst.buffer->scope == MemScope::Global;
  }
  std::string obstacle(const CopyOp& c, const CopySite& site) const override {
    if (std::string why = automaticTmaObstacle(c, site); !why.empty()) return why;
    if (c.options.prefer == PreferInstruction::Auto) return "16-byte stores measured faster than a TMA store";
    if (!site.allowTma) return "the general variant assumes nothing of the tensor";
    return "";
  }
  std::shared_ptr<const CopyPlan> plan(const CopyOp& c, const CopySite& site, std::string& why) const override {
    return planTmaTransfer(name(), c, site, /*userWording=*/false, why);
  }
  CopyPath path(const CopyOp&, const CopySite&) const override { return CopyPath::TmaStore; }
  StmtRef lower(const CopyOp& c, CopyLowering& lowering) const override { return lowerTmaTransfer(c, lowering); }
};

}  // namespace

const CopyStrategy& tmaStoreStrategy() {
  static const TmaStore strategy;
  return strategy;
}

}  // namespace tlc
