// SignalledStores: copy_cluster(shared, shared, dst_block=b, remote_barrier=bar)
// where no bulk DSMEM copy can (BulkDsmem's obstacle says why): every thread stores
// its part into b's tile (mapa, generic stores); a block barrier; then thread 0
// arrives on b's barrier with release at cluster scope (cumulative over the block's
// stores through the barrier), and b's waiters acquire at cluster scope
// (LowerTileOps, remoteBarriers). This block does not wait. A run-time rank outside
// the cluster copies and signals nothing.
#include "lower/copy/CopyLowering.h"
#include "lower/copy/CopyStrategy.h"

namespace tlc {

using namespace ir;

namespace {

class SignalledStores final : public CopyStrategy {
 public:
  const char* name() const override { return "SignalledStores"; }
  const char* label() const override { return ""; }
  bool considers(const CopyOp& c) const override { return c.dstBlock && c.options.barrier; }
  std::string obstacle(const CopyOp&, const CopySite&) const override { return ""; }
  CopyPath path(const CopyOp&, const CopySite&) const override { return CopyPath::Simt; }
  StmtRef lower(const CopyOp& c, CopyLowering& L) const override {
    const Buffer& bar = *c.options.barrier;
    ExprRef inside;
    if (!asConstInt(c.dstBlock))
      inside = logicalAnd(binary(BinOp::Ge, c.dstBlock, intImm(0)), lt(c.dstBlock, intImm(L.clusterBlocks())));
    ExprRef issuer = logicalAnd(CopyLowering::isLeader(), inside);
    StmtRef body = L.elementwiseCopy(CopyLowering::toRemoteTile(c));
    if (inside) body = std::make_shared<IfStmt>(c.range, inside, body, nullptr);
    L.notes.back().how = "stores into block " + toString(c.dstBlock) + "'s tile (mapa, distributed shared memory), " +
                         L.notes.back().how + ", then a block barrier and one arrival on '" + bar.name +
                         "' there (release at cluster scope); no wait";
    auto arrive = std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::MbarrierArriveRemote,
                                                  std::vector<ExprRef>{CopyLowering::barrierOffset(c), c.dstBlock, intImm(0)});
    return std::make_shared<SeqStmt>(c.range, std::vector<StmtRef>{
        body, std::make_shared<BarrierStmt>(c.range, BarrierKind::SyncThreads),
        std::make_shared<IfStmt>(c.range, issuer, arrive, nullptr)});
  }
};

}  // namespace

const CopyStrategy& signalledStoresStrategy() {
  static const SignalledStores strategy;
  return strategy;
}

}  // namespace tlc
