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
  if (c.options.tmaCopy) {
    plan->rows = tmaRows(c, why);
    if (!why.empty()) return nullptr;
  }
  // 16U4_ALIGN16B (into float4_e2m1_unpacked) needs 32-byte alignment and strides.
  int align = (load ? c.dst.buffer : c.src.buffer)->dtype == DType::Float4E2M1Unpacked ? 32 : 16;
  int axis = tensorMapStrides(site.kernel, site.allowTma, tensor, plan->need, align);
  if (axis < 0) {
    // A tensor map's innermost coordinate must fall on a 16-byte boundary: the GPU
    // raises an illegal instruction otherwise (H100, tma_rows' shifted rows; Triton
    // and TileLang found the same). Rows of a tma_copy test it at run time
    // (lowerTmaRows); a box needs it proved, or assumed by the variant.
    const Region& global = load ? c.src : c.dst;
    const int64_t perVector = std::max(1, 128 / bits(tensor.dtype));
    if (!plan->rows && !tlc::provablyMultiple(site.kernel, site.allowTma, global.mins.back(), perVector, plan->need)) {
      why = "the innermost start " + toString(global.mins.back()) + " of '" + tensor.name +
            "' is not a multiple of " + std::to_string(perVector) +
            " elements (16 bytes), as a tensor map's innermost coordinate must be";
      return nullptr;
    }
    return plan;
  }
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

// tma_copy of rows longer than a TMA box (TmaRows): in the elected thread, each row
// is one cp.async.bulk when the whole region lies inside the tensor and its rows
// start 16-byte aligned (the strides and the base are, by the plan's assumptions;
// the innermost start is proved or tested here), else the rows go through the
// tensor map in pieces, which zero-fill (load) or clip (store) past the tensor's
// end. Both count the same bytes on the user's barrier.
// Whether `e` is never negative by its form: constants >= 0, block and thread
// indices, and sums and products of them (a region start that needs no test).
static bool nonNegativeByForm(const ExprRef& e) {
  if (auto k = asConstInt(e)) return *k >= 0;
  if (e->kind == ExprKind::Call) {
    Builtin b = e->as<CallNode>().builtin;
    return b == Builtin::BlockIdx || b == Builtin::ThreadIdx;
  }
  if (e->kind == ExprKind::Binary) {
    const auto& n = e->as<BinaryNode>();
    return (n.op == BinOp::Add || n.op == BinOp::Mul) && nonNegativeByForm(n.a) && nonNegativeByForm(n.b);
  }
  return false;
}

// The first element of row `r` of a global region, outermost coordinate first (the
// rows in row-major order over the extents of all but the innermost axis).
static std::vector<ExprRef> rowStart(const Region& global, int64_t r) {
  const size_t rank = global.mins.size();
  std::vector<ExprRef> coord(rank);
  int64_t rest = r;
  for (size_t a = rank - 1; a-- > 0;) {
    coord[a] = add(global.mins[a], intImm(rest % global.extents[a]));
    rest /= global.extents[a];
  }
  coord[rank - 1] = global.mins[rank - 1];
  return coord;
}

// The rows of a tma_copy whose start is not 16-byte aligned, which neither TMA form
// can move: the elected thread copies them element by element, zero-filling (load)
// or skipping (store) what lies outside the tensor, as the tensor map would. A load
// expects no bytes on the barrier then: the thread's own arrival (after its stores,
// a release) is what the waiting threads acquire. Slow (one thread, one element at
// a time), but only for a start the program leaves misaligned.
static StmtRef misalignedRows(const CopyOp& c, CopyLowering& L, const TmaRows& rows, const ExprRef& tileOffset) {
  bool load = c.path == CopyPath::TmaLoad;
  const Region& global = load ? c.src : c.dst;
  const Region& shared = load ? c.dst : c.src;
  const BufferRef& tensor = global.buffer;
  const BufferRef& tile = shared.buffer;
  const int elemBytes = bits(tensor->dtype) / 8;
  const size_t rank = global.mins.size();
  auto out = std::make_shared<SeqStmt>(c.range);
  for (int64_t r = 0; r < rows.rows; ++r) {
    VarRef e = makeVar("element", DType::Int32);
    std::vector<ExprRef> coord = rowStart(global, r);
    coord[rank - 1] = add(coord[rank - 1], e);
    ExprRef inside;
    for (size_t a = 0; a < rank; ++a)
      inside = logicalAnd(inside, logicalAnd(binary(BinOp::Ge, coord[a], intImm(0)),
                                             binary(BinOp::Lt, coord[a], tensor->shape[a])));
    // The tile element: the row's place in the (row-major, unswizzled) tile.
    ExprRef flat = add(floorDiv(sub(tileOffset, intImm(tile->sharedOffset)), intImm(elemBytes)),
                       add(intImm(r * rows.length), e));
    std::vector<ExprRef> tileIndex(tile->shape.size());
    for (size_t a = tile->shape.size(); a-- > 0;) {
      tileIndex[a] = a == 0 ? flat : floorMod(flat, tile->shape[a]);
      if (a > 0) flat = floorDiv(flat, tile->shape[a]);
    }
    StmtRef body;
    if (load) {
      auto value = std::make_shared<LoadNode>(tensor, coord, tensor->dtype, 1);
      value->predicate = inside;  // zeros outside, as the tensor map fills them
      body = std::make_shared<StoreStmt>(c.range, tile, tileIndex, value);
    } else {
      auto value = std::make_shared<LoadNode>(tile, tileIndex, tile->dtype, 1);
      auto store = std::make_shared<StoreStmt>(c.range, tensor, coord, value);
      store->predicate = inside;
      body = store;
    }
    auto loop = std::make_shared<ForStmt>(c.range, e, intImm(0), intImm(rows.length), ForKind::Serial, body);
    loop->keepRolled = true;
    out->stmts.push_back(loop);
  }
  (void)L;
  return out;
}

static StmtRef lowerTmaRows(const CopyOp& c, CopyLowering& L, const TmaPlan& plan) {
  const TmaRows& rows = *plan.rows;
  bool load = c.path == CopyPath::TmaLoad;
  const Region& global = load ? c.src : c.dst;
  const Region& shared = load ? c.dst : c.src;
  const Buffer& tile = *shared.buffer;
  const BufferRef& tensor = global.buffer;
  const int elemBytes = bits(tensor->dtype) / 8;
  const size_t rank = global.mins.size();
  L.commit(plan.need);

  ExprRef tileOffset = intImm(tile.sharedOffset);
  for (size_t a = 0; a < shared.mins.size(); ++a)
    tileOffset = add(tileOffset, mul(mul(shared.mins[a], tile.strides[a]), intImm(elemBytes)));
  const int64_t rowBytes = rows.length * elemBytes;

  // Whether every row lies inside the tensor (then one cp.async.bulk a row), and
  // whether the rows start 16-byte aligned: both TMA forms need that (a tensor map's
  // innermost coordinate on a 16-byte boundary, else an illegal instruction), so a
  // misaligned start is copied element by element by the elected thread.
  ExprRef fits;
  for (size_t a = 0; a < rank; ++a) {
    ExprRef end = add(global.mins[a], intImm(global.extents[a]));
    ExprRef inside = binary(BinOp::Le, end, global.buffer->shape[a]);
    if (auto k = asConstInt(inside); !k || !*k) fits = logicalAnd(fits, inside);
    if (!nonNegativeByForm(global.mins[a])) fits = logicalAnd(fits, binary(BinOp::Ge, global.mins[a], intImm(0)));
  }
  AssumptionMap none;
  const int64_t perVector = std::max(1, 16 / elemBytes);
  bool startAligned = tlc::provablyMultiple(L.kernel, false, global.mins.back(), perVector, none);
  ExprRef aligned;
  if (!startAligned) aligned = binary(BinOp::Eq, floorMod(global.mins.back(), intImm(perVector)), intImm(0));

  int64_t hint = CopyLowering::cacheHint(c.options.eviction);
  ExprRef barrier = load ? CopyLowering::barrierOffset(c) : nullptr;  // bars[i]
  auto bulk = std::make_shared<SeqStmt>(c.range);
  auto pieces = std::make_shared<SeqStmt>(c.range);
  // A rank-1 tensor has no stride that keeps its end on a 16-byte boundary, and a
  // tensor map past such an end writes the rest of its last 16 bytes (the H100
  // overwrote the bytes after B when N * 2 % 16 != 0): its ragged edge is copied
  // element by element instead, and it needs no tensor map at all.
  const bool flat = rank == 1;
  std::vector<int64_t> box(rank, 1);
  box.back() = rows.piece;
  VarRef map, restMap;
  if (!flat) map = L.tensorMapFor(tensor, box, 0);
  if (rows.rest && !flat) {
    box.back() = rows.rest;
    restMap = L.tensorMapFor(tensor, box, 0);
  }
  for (int64_t r = 0; r < rows.rows; ++r) {
    std::vector<ExprRef> coord = rowStart(global, r);
    ExprRef smem = add(tileOffset, intImm(r * rowBytes));
    ExprRef element = intImm(0, DType::Int64);
    for (size_t a = 0; a < rank; ++a)
      element = add(element, mul(cast(DType::Int64, coord[a]), cast(DType::Int64, tensor->strides[a])));
    std::vector<ExprRef> args{smem};
    if (load) args.push_back(barrier);
    args.push_back(element);
    args.push_back(intImm(rowBytes));
    auto op = std::make_shared<IntrinsicStmt>(c.range, load ? IntrinsicOp::BulkLoad : IntrinsicOp::BulkStore, args);
    op->buffer = tensor;
    op->cacheHint = hint;
    bulk->stmts.push_back(op);
    int64_t count = flat ? 0 : rows.length / rows.piece + (rows.rest ? 1 : 0);
    for (int64_t k = 0; k < count; ++k) {
      std::vector<ExprRef> targs{add(smem, intImm(k * rows.piece * elemBytes))};
      if (load) targs.push_back(barrier);
      for (size_t a = rank; a-- > 0;)  // innermost first
        targs.push_back(a + 1 == rank ? add(coord[a], intImm(k * rows.piece)) : coord[a]);
      auto t = std::make_shared<IntrinsicStmt>(c.range, load ? IntrinsicOp::TmaLoad : IntrinsicOp::TmaStore, targs);
      t->tensorMap = k * rows.piece + rows.piece <= rows.length ? map : restMap;
      t->cacheHint = hint;
      pieces->stmts.push_back(t);
    }
  }
  auto tma = std::make_shared<SeqStmt>(c.range);
  if (load)
    tma->stmts.push_back(std::make_shared<IntrinsicStmt>(
        c.range, IntrinsicOp::MbarrierExpectTx, std::vector<ExprRef>{barrier, intImm(rows.rows * rowBytes)}));
  else
    tma->stmts.push_back(std::make_shared<BarrierStmt>(c.range, BarrierKind::FenceProxyAsync));
  if (flat) {
    // Bulk where the row lies inside and starts aligned, else element by element.
    fits = logicalAnd(fits, aligned);
    aligned = nullptr;
  }
  auto k = fits ? asConstInt(fits) : std::optional<int64_t>(1);
  StmtRef issue = tma;
  if (flat && !(k && *k)) {
    tma->stmts.push_back(bulk);
    if (!load) tma->stmts.push_back(std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::BulkCommitGroup));
    StmtRef elements = misalignedRows(c, L, rows, tileOffset);
    issue = k ? elements : std::make_shared<IfStmt>(c.range, fits, tma, elements);
  } else {
    if (k && *k) tma->stmts.push_back(bulk);
    else if (k) tma->stmts.push_back(pieces);
    else tma->stmts.push_back(std::make_shared<IfStmt>(c.range, fits, bulk, pieces));
    if (!load) tma->stmts.push_back(std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::BulkCommitGroup));
    if (aligned) issue = std::make_shared<IfStmt>(c.range, aligned, tma, misalignedRows(c, L, rows, tileOffset));
  }
  auto out = std::make_shared<SeqStmt>(c.range);
  ExprRef leader = call(Builtin::ShuffleElect, {intImm(c.options.leaderScope)}, DType::Bool);
  out->stmts.push_back(std::make_shared<IfStmt>(c.range, leader, issue, nullptr));

  std::ostringstream how;
  int64_t count = rows.length / rows.piece + (rows.rest ? 1 : 0);
  how << "a bulk " << (load ? "load" : "store") << " (" << rows.rows << (rows.rows == 1 ? " row" : " rows") << " of "
      << rowBytes << " bytes, cp.async.bulk";
  if (flat && !k) how << " where the row lies inside '" << tensor->name << "' and starts 16-byte aligned, else element by element";
  else if (flat && !*k) how << " never: element by element";
  else if (!k) how << " where the region lies inside '" << tensor->name << "'"
                   << ", else through the tensor map in " << count << " pieces a row";
  else if (!*k) how << " never: through the tensor map in " << count << " pieces a row";
  if (aligned) how << "; where the rows do not start 16-byte aligned, element by element";
  int groups = L.kernel.threads / c.options.leaderScope;
  how << (load ? ", expect_tx on '" + c.options.barrier->name + "'" : std::string(", committed")) << ", issued by "
      << (groups == 1 ? std::string("one elected thread")
                      : "one elected thread in each of " + std::to_string(groups) + " groups")
      << ", no wait)";
  L.describeAssumptions(how, plan.need);
  L.note(c, how.str());
  return out;
}

StmtRef lowerTmaTransfer(const CopyOp& c, CopyLowering& L) {
  if (const auto& plan = static_cast<const TmaPlan&>(*c.plan); plan.rows) return lowerTmaRows(c, L, plan);
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
    barrier = CopyLowering::barrierOffset(c);  // bars[i]
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
    // Every block expects the bytes on its own barrier; the lowest rank of the mask
    // alone issues the multicast, which fills every block of the mask's tile; a
    // block outside the mask issues the same loads unicast, into its own tile only.
    auto loads = std::make_shared<SeqStmt>(c.range, std::vector<StmtRef>(issue->stmts.begin() + 1, issue->stmts.end()));
    ExprRef issuer = binary(BinOp::Eq, L.clusterRank(), intImm(L.lowestRank(c.clusterMask)));
    issue->stmts.resize(1);
    StmtRef others;
    int all = (1 << L.clusterBlocks()) - 1;
    if ((c.clusterMask & all) != all) {
      auto own = std::make_shared<SeqStmt>(c.range);
      for (const StmtRef& s : loads->stmts) {
        auto unicast = std::make_shared<IntrinsicStmt>(s->as<IntrinsicStmt>());
        unicast->immediate = 0;
        own->stmts.push_back(unicast);
      }
      ExprRef bit = binary(BinOp::BitAnd, binary(BinOp::Shr, intImm(c.clusterMask), L.clusterRank()), intImm(1));
      others = std::make_shared<IfStmt>(c.range, binary(BinOp::Eq, bit, intImm(0)), own, nullptr);
    }
    issue->stmts.push_back(std::make_shared<IfStmt>(c.range, issuer, loads, others));
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
        << L.lowestRank(c.clusterMask)
        << ((c.clusterMask & ((1 << L.clusterBlocks()) - 1)) != (1 << L.clusterBlocks()) - 1
                ? ", each block outside the mask loading its own tile"
                : "")
        << " (box ";
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
