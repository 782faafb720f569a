// ClusterLoadEach: copy_cluster(global, shared, cluster_mask=M) without TMA: after
// the same cluster barrier as Multicast, each block of the mask loads its own tile
// (cp.async where the two sides have one dtype, else a SIMT loop): the result a
// multicast would give.
#include "lower/copy/CopyLowering.h"
#include "lower/copy/CopyStrategy.h"

namespace tlc {

using namespace ir;

namespace {

class ClusterLoadEach final : public CopyStrategy {
 public:
  const char* name() const override { return "ClusterLoadEach"; }
  const char* label() const override { return ""; }
  bool considers(const CopyOp& c) const override { return c.clusterMask != 0; }
  std::string obstacle(const CopyOp&, const CopySite&) const override { return ""; }
  CopyPath path(const CopyOp& c, const CopySite& site) const override {
    bool cpAsync = c.src.buffer->dtype == c.dst.buffer->dtype && site.target.has(TargetFeature::CpAsync);
    return cpAsync ? CopyPath::CpAsync : CopyPath::Simt;
  }
  StmtRef lower(const CopyOp& c, CopyLowering& lowering) const override {
    StmtRef load = lowering.inMaskedBlocks(c.clusterMask, lowering.elementwiseCopy(c), c.range);
    return std::make_shared<SeqStmt>(c.range, std::vector<StmtRef>{CopyLowering::clusterSync(c.range), load});
  }
};

}  // namespace

const CopyStrategy& clusterLoadEachStrategy() {
  static const ClusterLoadEach strategy;
  return strategy;
}

}  // namespace tlc
