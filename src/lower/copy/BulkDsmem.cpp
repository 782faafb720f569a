// BulkDsmem: the plan (runs of contiguous bytes on both sides) and the lowering.
#include "lower/copy/BulkDsmem.h"

#include <sstream>

#include "lower/copy/CopyLowering.h"
#include "lower/copy/CopyStrategy.h"

namespace tlc {

using namespace ir;

static bool sameLayout(const SharedLayout& a, const SharedLayout& b) {
  // Two tiles with index maps are not taken for alike (each map is its own tile's).
  return !a.mapped() && !b.mapped() && a.unit == b.unit && a.span == b.span && a.rowDiv == b.rowDiv &&
         a.swizzleBytes == b.swizzleBytes && a.pad == b.pad;
}

std::optional<BulkDsmemPlan> planBulkDsmem(const CopyOp& c, std::string& why) {
  const Buffer& s = *c.src.buffer;
  const Buffer& d = *c.dst.buffer;
  if (s.dtype != d.dtype) {
    why = std::string("the copy converts ") + name(s.dtype) + " to " + name(d.dtype) + "; a bulk copy moves bytes";
    return std::nullopt;
  }
  if (c.options.layout) {
    why = "loop_layout '" + c.options.layout->name + "' asks for a copy by the threads";
    return std::nullopt;
  }
  if (c.options.coalescedWidth) {
    why = "coalesced_width asks for a copy by the threads";
    return std::nullopt;
  }
  const int64_t elem = bits(s.dtype) / 8;
  auto whole = [](const Region& r) {
    for (size_t a = 0; a < r.mins.size(); ++a) {
      auto m = asConstInt(r.mins[a]);
      if (!m || *m != 0 || r.extents[a] != *asConstInt(r.buffer->shape[a])) return false;
    }
    return true;
  };
  auto consts = [](const std::vector<ExprRef>& v) {
    std::vector<int64_t> out;
    for (const auto& e : v) out.push_back(*asConstInt(e));
    return out;
  };
  // Two whole tiles laid out alike: the tile's bytes in order, whatever the layout.
  if (whole(c.src) && whole(c.dst) && consts(s.shape) == consts(d.shape) && consts(s.strides) == consts(d.strides) &&
      sameLayout(s.sharedLayout, d.sharedLayout)) {
    BulkDsmemPlan plan;
    plan.runBytes = sharedStorageElems(s) * elem;
    if (plan.runBytes % 16 == 0) return plan;
    why = "the tile is " + std::to_string(plan.runBytes) + " bytes; a bulk copy moves a multiple of 16 bytes";
    return std::nullopt;
  }
  // Otherwise runs of elements contiguous on both sides, which an XOR swizzle breaks.
  for (const Buffer* b : {&s, &d})
    if (!b->sharedLayout.plainStrides()) {
      why = "tile '" + b->name + "' has the layout " + describe(b->sharedLayout, b->dtype) +
            " and the copy is not between two whole tiles laid out alike; a bulk copy moves bytes in order";
      return std::nullopt;
    }
  for (const Region* r : {&c.src, &c.dst})
    for (const auto& m : r->mins)
      if (!asConstInt(m)) {
        why = "the region of '" + r->buffer->name + "' starts at " + toString(m) +
              ", known only at run time; a bulk copy needs addresses known to be 16-byte aligned";
        return std::nullopt;
      }
  // The loop dimensions (non-unit extents, the same on both sides) and each side's
  // element stride along them.
  std::vector<int64_t> extents, ss, ds;
  auto strideOf = [](const Region& r, std::vector<int64_t>& out) {
    for (size_t a = 0; a < r.extents.size(); ++a)
      if (r.extents[a] != 1) out.push_back(*asConstInt(r.buffer->strides[a]));
  };
  for (auto e : c.src.extents)
    if (e != 1) extents.push_back(e);
  strideOf(c.src, ss);
  strideOf(c.dst, ds);
  if (ss.size() != extents.size() || ds.size() != extents.size()) {
    why = "the two sides' extents differ";
    return std::nullopt;
  }
  BulkDsmemPlan plan;
  size_t k = extents.size();  // dimensions [k, n) form one contiguous run
  int64_t run = 1;
  if (k > 0 && ss[k - 1] == 1 && ds[k - 1] == 1) {
    run = extents[--k];
    while (k > 0 && ss[k - 1] == run && ds[k - 1] == run) run *= extents[--k];
  }
  plan.runBytes = run * elem;
  for (size_t i = 0; i < k; ++i) {
    plan.rowExtents.push_back(extents[i]);
    plan.srcStrides.push_back(ss[i] * elem);
    plan.dstStrides.push_back(ds[i] * elem);
  }
  for (size_t a = 0; a < c.src.mins.size(); ++a) plan.srcStart += *asConstInt(c.src.mins[a]) * *asConstInt(s.strides[a]) * elem;
  for (size_t a = 0; a < c.dst.mins.size(); ++a) plan.dstStart += *asConstInt(c.dst.mins[a]) * *asConstInt(d.strides[a]) * elem;
  if (plan.runBytes % 16 != 0) {
    why = std::string(plan.rowExtents.empty() ? "the region is " : "its contiguous rows are ") +
          std::to_string(plan.runBytes) + " bytes; a bulk copy moves a multiple of 16 bytes";
    return std::nullopt;
  }
  for (int side = 0; side < 2; ++side) {
    const Buffer& b = side ? d : s;
    int64_t start = side ? plan.dstStart : plan.srcStart;
    if (start % 16 != 0) {
      why = "the region starts at byte " + std::to_string(start) + " of tile '" + b.name +
            "'; a bulk copy needs 16-byte aligned addresses";
      return std::nullopt;
    }
    for (int64_t stride : side ? plan.dstStrides : plan.srcStrides)
      if (stride % 16 != 0) {
        why = "rows of tile '" + b.name + "' are " + std::to_string(stride) +
              " bytes apart; a bulk copy needs 16-byte aligned addresses";
        return std::nullopt;
      }
  }
  return plan;
}

namespace {

class BulkDsmem final : public CopyStrategy {
 public:
  const char* name() const override { return "BulkDsmem"; }
  const char* label() const override { return "bulk DSMEM copy"; }
  bool considers(const CopyOp& c) const override { return c.dstBlock && c.options.barrier; }
  std::string obstacle(const CopyOp&, const CopySite& site) const override {
    for (auto f : {TargetFeature::Clusters, TargetFeature::BulkCopy})
      if (!site.target.has(f)) return site.target.lacks(f);
    return "";
  }
  // Needs no run-time assumption: the same plan in both variants.
  std::shared_ptr<const CopyPlan> plan(const CopyOp& c, const CopySite&, std::string& why) const override {
    auto plan = planBulkDsmem(c, why);
    if (!plan) return nullptr;
    return std::make_shared<BulkDsmemPlan>(*plan);
  }
  CopyPath path(const CopyOp&, const CopySite&) const override { return CopyPath::BulkDsmem; }
  StmtRef lower(const CopyOp& c, CopyLowering& L) const override {
    const auto& plan = static_cast<const BulkDsmemPlan&>(*c.plan);
    const Buffer& bar = *c.options.barrier;
    ExprRef barrier = CopyLowering::barrierOffset(c);
    ExprRef inside;
    if (!asConstInt(c.dstBlock))
      inside = logicalAnd(binary(BinOp::Ge, c.dstBlock, intImm(0)), lt(c.dstBlock, intImm(L.clusterBlocks())));
    ExprRef issuer = logicalAnd(CopyLowering::isLeader(), inside);
    const Buffer& src = *c.src.buffer;
    const Buffer& dst = *c.dst.buffer;
    auto issue = std::make_shared<SeqStmt>(c.range);
    issue->stmts.push_back(std::make_shared<IntrinsicStmt>(
        c.range, IntrinsicOp::MbarrierArriveRemote, std::vector<ExprRef>{barrier, c.dstBlock, intImm(plan.totalBytes())}));
    auto run = [&](const std::vector<ExprRef>& idx) -> StmtRef {
      ExprRef from = intImm(src.sharedOffset + plan.srcStart), to = intImm(dst.sharedOffset + plan.dstStart);
      for (size_t d = 0; d < idx.size(); ++d) {
        from = add(from, mul(idx[d], intImm(plan.srcStrides[d])));
        to = add(to, mul(idx[d], intImm(plan.dstStrides[d])));
      }
      return std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::BulkCopyDsmem,
                                             std::vector<ExprRef>{to, from, intImm(plan.runBytes), barrier, c.dstBlock});
    };
    int64_t rows = plan.rows();
    if (rows == 1) {
      issue->stmts.push_back(run(std::vector<ExprRef>(plan.rowExtents.size(), intImm(0))));
    } else {
      auto r = makeVar("row", DType::Int32);
      issue->stmts.push_back(std::make_shared<ForStmt>(c.range, r, intImm(0), intImm(rows), ForKind::Serial,
                                                       run(CopyLowering::unflatten(r, plan.rowExtents))));
    }
    std::ostringstream how;
    how << "a bulk DSMEM copy (cp.async.bulk.shared::cluster) into block " << toString(c.dstBlock) << "'s tile, ";
    if (rows == 1) how << "one run of " << plan.runBytes << " bytes";
    else how << rows << " runs of " << plan.runBytes << " bytes";
    how << ", issued by one thread after fence.proxy.async and a block barrier; one arrival on '" << bar.name
        << "' there expecting " << plan.totalBytes() << " bytes, completed by the copy; no wait";
    L.note(c, how.str());
    return std::make_shared<IfStmt>(c.range, issuer, issue, nullptr);
  }
};

}  // namespace

const CopyStrategy& bulkDsmemStrategy() {
  static const BulkDsmem strategy;
  return strategy;
}

}  // namespace tlc
