// ClusterLoadEach: copy_cluster(global, shared, cluster_mask=M) without TMA, with
// the result the multicast gives (TileLang's meaning): after the same cluster
// barrier as Multicast, the lowest rank of the mask and every block outside the
// mask load their own tile (cp.async where the two sides have one dtype, else a
// SIMT loop); then, between two more cluster barriers, the other blocks of the mask
// copy the lowest rank's tile out of its shared memory (distributed shared memory),
// which is what the multicast writes into theirs.
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
  StmtRef lower(const CopyOp& c, CopyLowering& L) const override {
    const int all = (1 << L.clusterBlocks()) - 1;
    const int mask = c.clusterMask & all;
    const int lowest = CopyLowering::lowestRank(mask);
    ExprRef rank = CopyLowering::clusterRank();
    ExprRef inMask = binary(BinOp::Ne, binary(BinOp::BitAnd, binary(BinOp::Shr, intImm(mask), rank), intImm(1)), intImm(0));
    ExprRef issuer = binary(BinOp::Eq, rank, intImm(lowest));
    StmtRef own = L.elementwiseCopy(c);
    auto out = std::make_shared<SeqStmt>(c.range, std::vector<StmtRef>{CopyLowering::clusterSync(c.range)});
    if (mask == (1 << lowest)) {  // the issuer alone in the mask: every block loads its own tile
      out->stmts.push_back(own);
      return out;
    }
    ExprRef loadsOwn = mask == all ? issuer : binary(BinOp::Or, issuer, unary(UnOp::Not, inMask));
    out->stmts.push_back(std::make_shared<IfStmt>(c.range, loadsOwn, own, nullptr));
    out->stmts.push_back(CopyLowering::clusterSync(c.range));
    // The issuer's tile, read through mapa, into this block's: a SIMT copy.
    CopyOp fromIssuer = c;
    fromIssuer.clusterMask = 0;
    fromIssuer.path = CopyPath::Simt;
    auto view = std::make_shared<Buffer>(*c.dst.buffer);
    view->clusterRank = intImm(lowest);
    fromIssuer.src = c.dst;
    fromIssuer.src.buffer = view;
    fromIssuer.src.access = Access::Read;
    size_t notes = L.notes.size();
    StmtRef copied = L.elementwiseCopy(fromIssuer);
    L.notes.resize(notes);  // one remark per copy: the load's
    ExprRef copies = mask == all ? unary(UnOp::Not, issuer) : logicalAnd(inMask, unary(UnOp::Not, issuer));
    out->stmts.push_back(std::make_shared<IfStmt>(c.range, copies, copied, nullptr));
    // The issuer's tile stays as loaded until every block of the mask has read it.
    out->stmts.push_back(CopyLowering::clusterSync(c.range));
    L.notes.back().how = "the mask's lowest rank (block " + std::to_string(lowest) + ")" +
                         (mask == all ? "" : " and each block outside the mask") +
                         " loading its own tile, then the other blocks of mask 0b" + CopyLowering::maskDigits(mask) +
                         " copying block " + std::to_string(lowest) +
                         "'s (mapa, distributed shared memory) between cluster barriers: " + L.notes.back().how;
    return out;
  }
};

}  // namespace

const CopyStrategy& clusterLoadEachStrategy() {
  static const ClusterLoadEach strategy;
  return strategy;
}

}  // namespace tlc
