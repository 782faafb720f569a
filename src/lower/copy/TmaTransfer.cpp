// TmaTransfer: see the header.
#include "lower/copy/TmaTransfer.h"

#include <algorithm>
#include <sstream>

#include "lower/copy/CopyLowering.h"
#include "lower/copy/TmaConstraints.h"

namespace tlc {

using namespace ir;

std::shared_ptr<const CopyPlan> planTmaTransfer(const char* strategy, const CopyOp& c, const CopySite& site,
                                                bool userWording, std::string& why) {
  bool load = c.src.buffer->scope == MemScope::Global;
  const Buffer& tensor = load ? *c.src.buffer : *c.dst.buffer;
  auto plan = std::make_shared<TmaPlan>(strategy);
  // 16U4_ALIGN16B (into float4_e2m1_unpacked) needs 32-byte alignment and strides.
  int align = (load ? c.dst.buffer : c.src.buffer)->dtype == DType::Float4E2M1Unpacked ? 32 : 16;
  int axis = tensorMapStrides(site.kernel, site.allowTma, tensor, plan->need, align);
  if (axis < 0) return plan;
  const ExprRef& stride = tensor.strides[axis];
  if (userWording) {
    why = "stride " + toString(stride) + " of '" + tensor.name + "' cannot be a multiple of " + std::to_string(align) +
          " bytes";
  } else {
    std::optional<int64_t> k = asConstInt(stride);
    why = "the stride of " + tensor.name + "'s axis " + std::to_string(axis) + " (" +
          (k ? std::to_string(*k * (bits(tensor.dtype) / 8)) + " bytes" : toString(stride) + " elements") +
          ") is not a multiple of 16 bytes, as a tensor map needs";
  }
  return nullptr;
}

std::string automaticTmaObstacle(const CopyOp& c, const CopySite& site) {
  if (!site.target.has(TargetFeature::Tma)) return site.target.lacks(TargetFeature::Tma);
  if (c.options.prefer == PreferInstruction::CpAsync || c.options.async) return "prefer_instruction=\"cp_async\"";
  if (c.options.prefer == PreferInstruction::Sync) return "prefer_instruction=\"sync\"";
  if (c.options.disableTma) return "disable_tma is set";
  if (std::string why = tmaObstacle(c); !why.empty()) return why;
  if (!site.uniform) return "not every thread reaches the copy (it is under a condition on the thread)";
  if (c.options.layout)
    return "loop_layout '" + c.options.layout->name +
           "' maps elements to threads, which a TMA copy (one bulk transfer issued by one thread) cannot follow";
  return zeroFillObstacle(c);
}

StmtRef lowerTmaTransfer(const CopyOp& c, CopyLowering& L) {
  bool multicast = c.path == CopyPath::TmaMulticast;
  bool load = c.path == CopyPath::TmaLoad || multicast;
  const Region& global = load ? c.src : c.dst;
  const Buffer& tile = load ? *c.dst.buffer : *c.src.buffer;
  const Buffer& tensor = *global.buffer;
  int elemBytes = bits(tensor.dtype) / 8;

  const AssumptionMap& need = static_cast<const TmaPlan&>(*c.plan).need;
  L.commit(need);

  // Box: the region's extents; the outermost may exceed 256 and is then issued in pieces.
  std::vector<int64_t> box = global.extents;
  const Region& shared = load ? c.dst : c.src;
  ExprRef tileOffset = intImm(tile.sharedOffset);  // the tile's (or ring stage's) first byte
  for (size_t a = 0; a < shared.mins.size(); ++a)
    tileOffset = add(tileOffset, mul(mul(shared.mins[a], tile.strides[a]), intImm(elemBytes)));
  int64_t outer = box[0], piece = outer;
  if (outer > 256)
    for (piece = 256; outer % piece != 0; --piece) {}
  box[0] = piece;
  // Into float4_e2m1_unpacked: `tensor` is an fp4 tensor's byte twin, the map counts
  // its elements (two a byte) along the innermost axis, and the tile takes a byte an
  // element. The transaction counts the packed payload read from global memory (as
  // TileLang counts it); the tile advances by the unpacked bytes.
  const bool unpack = tile.dtype == DType::Float4E2M1Unpacked;
  std::vector<int64_t> mapBox = box;
  if (unpack) mapBox.back() *= 2;
  // The tile's annotated swizzle (ChooseCopyPaths checked that TMA can write it).
  VarRef map = L.tensorMapFor(global.buffer, mapBox, tile.sharedLayout.swizzleBytes, unpack);
  int64_t pieceBytes = elemBytes;
  for (auto e : box) pieceBytes *= e;
  int64_t pieceTileBytes = unpack ? 2 * pieceBytes : pieceBytes;

  auto issue = std::make_shared<SeqStmt>(c.range);
  int64_t hint = CopyLowering::cacheHint(c.options.eviction);
  ExprRef barrier = intImm(0);
  const bool user = c.options.tmaCopy;
  if (load && user) {
    // tma_copy: the bytes complete on the user's barrier; the arrivals are the user's.
    barrier = intImm(c.options.barrier->sharedOffset);
    if (c.options.barrierIndex) barrier = add(barrier, mul(c.options.barrierIndex, intImm(8)));  // bars[i]
    issue->stmts.push_back(std::make_shared<IntrinsicStmt>(
        c.range, IntrinsicOp::MbarrierExpectTx, std::vector<ExprRef>{barrier, intImm(pieceBytes * (outer / piece))}));
  } else if (load) {
    barrier = L.loadBarrier(c);
    issue->stmts.push_back(std::make_shared<IntrinsicStmt>(
        c.range, IntrinsicOp::MbarrierArriveExpectTx, std::vector<ExprRef>{barrier, intImm(pieceBytes * (outer / piece))}));
  }
  for (int64_t k = 0; k < outer / piece; ++k) {
    std::vector<ExprRef> coords;  // innermost first
    for (size_t a = global.mins.size(); a-- > 0;) {
      ExprRef coord = a == 0 ? add(global.mins[0], intImm(k * piece)) : global.mins[a];
      if (unpack && a + 1 == global.mins.size()) coord = mul(coord, intImm(2));  // bytes -> fp4 elements
      coords.push_back(coord);
    }
    ExprRef smem = add(tileOffset, intImm(k * pieceTileBytes));
    std::vector<ExprRef> args;
    args.reserve(2 + coords.size());
    args.push_back(smem);
    if (load) args.push_back(barrier);
    for (const auto& coord : coords) args.push_back(coord);
    auto op = std::make_shared<IntrinsicStmt>(c.range, load ? IntrinsicOp::TmaLoad : IntrinsicOp::TmaStore, args);
    op->tensorMap = map;
    op->cacheHint = hint;
    if (multicast) op->immediate = c.clusterMask;
    issue->stmts.push_back(op);
  }
  if (multicast) {
    // Every block of the mask expects the bytes on its own barrier; the lowest
    // rank of the mask alone issues the loads, which fill every block's tile.
    auto loads = std::make_shared<SeqStmt>(c.range, std::vector<StmtRef>(issue->stmts.begin() + 1, issue->stmts.end()));
    ExprRef issuer = binary(BinOp::Eq, L.clusterRank(), intImm(L.lowestRank(c.clusterMask)));
    issue->stmts.resize(1);
    issue->stmts.push_back(std::make_shared<IfStmt>(c.range, issuer, loads, nullptr));
  }
  if (!load && user) {
    // tma_copy store: the tile's generic-proxy writes ordered before the engine reads
    // it, then one bulk group; tma_store_wait() is the user's.
    issue->stmts.insert(issue->stmts.begin(), std::make_shared<BarrierStmt>(c.range, BarrierKind::FenceProxyAsync));
    issue->stmts.push_back(std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::BulkCommitGroup));
  } else if (!load) {
    issue->stmts.push_back(std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::BulkCommitGroup));
    // The tile may be reused once the engine has read it; the issuing thread waits
    // for that before it reaches the next barrier.
    auto wait = std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::BulkWaitGroupRead);
    wait->immediate = 0;
    issue->stmts.push_back(wait);
  }
  auto out = std::make_shared<SeqStmt>(c.range);
  ExprRef leader = user ? call(Builtin::ShuffleElect, {intImm(c.options.leaderScope)}, DType::Bool) : L.isLeader();
  if (c.part != CopyOp::Part::WaitOnly)
    out->stmts.push_back(std::make_shared<IfStmt>(c.range, leader, issue, nullptr));
  if (!user && load) L.appendWait(c, barrier, *out);
  if (c.part == CopyOp::Part::IssueOnly) return out;  // reported once, with its wait

  std::ostringstream how;
  if (multicast)
    how << "a TMA multicast load to the blocks of mask 0b" << L.maskDigits(c.clusterMask) << ", issued by block "
        << L.lowestRank(c.clusterMask) << " (box ";
  else
    how << "a TMA " << (load ? "load" : "store") << " (box ";
  for (size_t i = 0; i < mapBox.size(); ++i) how << (i ? "x" : "") << mapBox[i];
  if (unpack) how << " fp4 elements unpacked by 16U4_ALIGN16B";
  if (outer != piece) how << ", " << outer / piece << " pieces";
  if (tile.sharedLayout.swizzleBytes) how << ", swizzle " << tile.sharedLayout.swizzleBytes << "B";
  else how << ", swizzle none";
  if (user) {
    int groups = L.kernel.threads / c.options.leaderScope;
    how << (load ? ", expect_tx on '" + c.options.barrier->name + "'" : std::string(", committed"))
        << ", issued by " << (groups == 1 ? std::string("one elected thread")
                                          : "one elected thread in each of " + std::to_string(groups) + " groups")
        << ", no wait";
  }
  how << ")";
  L.describeAssumptions(how, need);
  L.note(c, how.str());
  return out;
}

}  // namespace tlc
