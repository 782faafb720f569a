// Simt: the block's threads copy the tile element by element (the widest vector
// accesses the partition allows, partitioned over the threads, or following a
// loop_layout or a fragment's layout). Every copy between any two memories; the
// last strategy of the list, with no obstacle.
#include "lower/copy/CopyLowering.h"
#include "lower/copy/CopyStrategy.h"

namespace tlc {

using namespace ir;

namespace {

class Simt final : public CopyStrategy {
 public:
  const char* name() const override { return "Simt"; }
  const char* label() const override { return ""; }
  bool considers(const CopyOp& c) const override {
    return !c.transpose && !c.im2col && !c.clusterMask && !c.dstBlock && !c.options.tmaCopy;
  }
  std::string obstacle(const CopyOp&, const CopySite&) const override { return ""; }
  CopyPath path(const CopyOp&, const CopySite&) const override { return CopyPath::Simt; }
  StmtRef lower(const CopyOp& c, CopyLowering& lowering) const override { return lowering.elementwiseCopy(c); }
};

}  // namespace

const CopyStrategy& simtStrategy() {
  static const Simt strategy;
  return strategy;
}

}  // namespace tlc
