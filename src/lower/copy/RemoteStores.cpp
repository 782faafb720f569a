// RemoteStores: copy_cluster(shared, shared, dst_block=b): every thread stores its
// part of the tile into block b's tile through `mapa` (distributed shared memory).
// A cluster barrier before it (block b has started and no longer reads its tile)
// and one after it (release/acquire at cluster scope: the stores are visible to
// block b's threads, and no block exits while stores into it are in flight). A
// rank outside the cluster stores nothing. Under a condition on the block
// (CopyOp::storesOnly, TileLang's meaning) the stores alone: the program's
// cluster_sync() orders them, and the kernel starts and ends with a cluster barrier.
#include "lower/copy/CopyLowering.h"
#include "lower/copy/CopyStrategy.h"

namespace tlc {

using namespace ir;

namespace {

class RemoteStores final : public CopyStrategy {
 public:
  const char* name() const override { return "RemoteStores"; }
  const char* label() const override { return ""; }
  bool considers(const CopyOp& c) const override { return c.dstBlock && !c.options.barrier; }
  std::string obstacle(const CopyOp&, const CopySite&) const override { return ""; }
  CopyPath path(const CopyOp&, const CopySite&) const override { return CopyPath::Simt; }
  StmtRef lower(const CopyOp& c, CopyLowering& L) const override {
    StmtRef body = L.elementwiseCopy(CopyLowering::toRemoteTile(c));
    if (!asConstInt(c.dstBlock)) {
      ExprRef inside = logicalAnd(binary(BinOp::Ge, c.dstBlock, intImm(0)), lt(c.dstBlock, intImm(L.clusterBlocks())));
      body = std::make_shared<IfStmt>(c.range, inside, body, nullptr);
    }
    if (c.storesOnly) {
      L.anyStoresOnly = true;
      L.notes.back().how = "stores into block " + toString(c.dstBlock) +
                           "'s tile (mapa, distributed shared memory), no cluster barrier (under a condition on the "
                           "block: the program's cluster_sync() orders them), " + L.notes.back().how;
      return body;
    }
    L.notes.back().how = "stores into block " + toString(c.dstBlock) +
                         "'s tile (mapa, distributed shared memory) between two cluster barriers, " + L.notes.back().how;
    return std::make_shared<SeqStmt>(c.range, std::vector<StmtRef>{CopyLowering::clusterSync(c.range), body,
                                                                   CopyLowering::clusterSync(c.range)});
  }
};

}  // namespace

const CopyStrategy& remoteStoresStrategy() {
  static const RemoteStores strategy;
  return strategy;
}

}  // namespace tlc
