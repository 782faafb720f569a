// Im2colTma: an im2col copy by TMA's im2col mode (lower/Im2colTma.h): thread 0 arms
// the automatic mbarrier with the tile's bytes and issues one load of BM filter
// bases x BK channels of the tile's filter tap; every thread waits (or, pipelined,
// the issue and the wait are the two parts PipelineLoops made). Its tensor map
// becomes an im2col TensorMap parameter; the image's alignment, its strides and a
// symbolic C become assumptions. Its padding is zero whatever the image's safe value.
#include <sstream>

#include "lower/Im2colTma.h"
#include "lower/copy/CopyLowering.h"
#include "lower/copy/CopyStrategy.h"
#include "lower/copy/TmaConstraints.h"

namespace tlc {

using namespace ir;

namespace {

// The image's tensor map needs a 16-byte aligned base and strides that are
// multiples of 16 bytes; the tile's columns one tap: C a multiple of BK.
struct Im2colTmaPlan : CopyPlan {
  using CopyPlan::CopyPlan;
  AssumptionMap need;
};

class Im2colTmaLoad final : public CopyStrategy {
 public:
  const char* name() const override { return "Im2colTma"; }
  const char* label() const override { return "TMA im2col mode"; }
  bool considers(const CopyOp& c) const override { return c.im2col.has_value(); }
  std::string obstacle(const CopyOp& c, const CopySite& site) const override {
    if (!site.target.has(TargetFeature::Tma)) return site.target.lacks(TargetFeature::Tma);
    if (!site.allowTma) return "the general variant assumes nothing of the image";
    return staticObstacle(c, site);
  }
  std::shared_ptr<const CopyPlan> plan(const CopyOp& c, const CopySite& site, std::string& why) const override {
    const Buffer& img = *c.src.buffer;
    auto plan = std::make_shared<Im2colTmaPlan>(name());
    int axis = tensorMapStrides(site.kernel, site.allowTma, img, plan->need);
    if (axis >= 0) {
      why = "the stride of " + img.name + "'s axis " + std::to_string(axis) + " (" + toString(img.strides[axis]) +
            " elements) cannot be a multiple of 16 bytes, as a tensor map needs";
      return nullptr;
    }
    int64_t bk = c.dst.extents.back();
    if (!provablyMultiple(site.kernel, site.allowTma, img.shape[3], bk, plan->need)) {
      why = "C = " + toString(img.shape[3]) + " cannot be a multiple of BK = " + std::to_string(bk);
      return nullptr;
    }
    return plan;
  }
  CopyPath path(const CopyOp&, const CopySite&) const override { return CopyPath::TmaLoad; }
  StmtRef lower(const CopyOp& c, CopyLowering& L) const override {
    const Im2col& m = *c.im2col;
    const BufferRef& img = c.src.buffer;
    const Region& dst = c.dst;
    const Buffer& tile = *dst.buffer;
    int rank = (int)dst.extents.size();
    int64_t bm = dst.extents[rank - 2], bk = dst.extents[rank - 1];
    int elemBytes = bits(img->dtype) / 8;

    const AssumptionMap& need = static_cast<const Im2colTmaPlan&>(*c.plan).need;
    L.commit(need);
    ExprRef C = img->shape[3];

    Im2colTmaShape shape;
    shape.kernel = m.kernel;
    shape.stride = m.stride;
    shape.dilation = m.dilation;
    shape.pad = m.pad;
    shape.bm = bm;
    shape.bk = bk;
    shape.elemBytes = elemBytes;
    shape.channels = asConstInt(C);
    VarRef map = L.im2colMapFor(img, im2colTensorMap(shape), tile.sharedLayout.swizzleBytes);

    // The tile's first output pixel and its filter tap. Columns past K*K*C (a c_step
    // beyond the matrix) read zeros: the image coordinate N is outside the tensor.
    ExprRef K = intImm(m.kernel), S = intImm(m.stride), P = intImm(m.pad), D = intImm(m.dilation);
    ExprRef pixels = mul(m.outH, m.outW);
    ExprRef n = floorDiv(m.rowStart, pixels), pix = floorMod(m.rowStart, pixels);
    ExprRef oh = floorDiv(pix, m.outW), ow = floorMod(pix, m.outW);
    ExprRef tap = floorDiv(m.colStart, C);
    ExprRef inside = lt(tap, mul(K, K));
    ExprRef kh = select(inside, floorDiv(tap, K), intImm(0)), kw = select(inside, floorMod(tap, K), intImm(0));
    std::vector<ExprRef> coords = {floorMod(m.colStart, C), sub(mul(ow, S), P), sub(mul(oh, S), P),
                                   select(inside, n, img->shape[0])};
    std::vector<ExprRef> offsets = {mul(kw, D), mul(kh, D)};

    ExprRef smem = intImm(tile.sharedOffset);  // the tile's (or ring stage's) first byte
    for (int a = 0; a < rank; ++a) smem = add(smem, mul(mul(dst.mins[a], tile.strides[a]), intImm(elemBytes)));
    int64_t bytes = bm * bk * elemBytes;
    ExprRef barrier = L.loadBarrier(c);
    auto issue = std::make_shared<SeqStmt>(c.range);
    issue->stmts.push_back(std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::MbarrierArriveExpectTx,
                                                           std::vector<ExprRef>{barrier, intImm(bytes)}));
    std::vector<ExprRef> args = {smem, barrier};
    for (const auto& e : coords) args.push_back(e);
    for (const auto& e : offsets) args.push_back(e);
    auto load = std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::TmaLoadIm2col, args);
    load->tensorMap = map;
    load->cacheHint = CopyLowering::cacheHint(c.options.eviction);
    issue->stmts.push_back(load);

    auto out = std::make_shared<SeqStmt>(c.range);
    if (c.part != CopyOp::Part::WaitOnly) out->stmts.push_back(std::make_shared<IfStmt>(c.range, CopyLowering::isLeader(), issue, nullptr));
    L.appendWait(c, barrier, *out);
    if (c.part == CopyOp::Part::IssueOnly) return out;  // reported once, with its wait

    std::ostringstream how;
    how << "a TMA im2col load (" << bm << " pixels x " << bk << " channels of one filter tap, stride " << m.stride
        << ", swizzle " << (tile.sharedLayout.swizzleBytes ? std::to_string(tile.sharedLayout.swizzleBytes) + "B" : "none");
    if (c.options.eviction != EvictionPolicy::Normal) how << ", " << CopyLowering::evictionName(c.options.eviction) << " in L2";
    how << ")";
    L.describeAssumptions(how, need);
    L.notes.push_back({c.range, m.opName + " " + img->name + " -> " + tile.name, how.str(), ""});
    return out;
  }

 private:
  static std::string staticObstacle(const CopyOp& c, const CopySite& site) {
    const Buffer& img = *c.src.buffer;
    const Buffer& tile = *c.dst.buffer;
    const Im2col& m = *c.im2col;
    if (!tensorMapDataType(img.dtype, nullptr)) return std::string("TMA cannot move ") + ir::name(img.dtype);
    auto inner = asConstInt(img.strides.back());
    if (!inner || *inner != 1) return "the image's innermost (channel) stride is not 1";
    if (std::string why = layoutObstacle(tile); !why.empty()) return why;
    Im2colTmaShape shape;
    shape.kernel = m.kernel;
    shape.stride = m.stride;
    shape.dilation = m.dilation;
    shape.pad = m.pad;
    shape.bm = c.dst.extents[c.dst.extents.size() - 2];
    shape.bk = c.dst.extents.back();
    shape.elemBytes = bits(img.dtype) / 8;
    shape.channels = asConstInt(img.shape[3]);
    if (std::string why = im2colTmaObstacle(shape); !why.empty()) return why;
    // A tile under TMA's swizzle: the rows must be exactly the swizzle's span (checked by
    // layoutObstacle), which the im2col box's channels then are too.
    if (!site.uniform) return "not every thread reaches the copy (it is under a condition on the thread)";
    int64_t tileBytes = shape.bm * shape.bk * shape.elemBytes;
    if (site.pipelined && tileBytes % 128 != 0)
      return "the tile is " + std::to_string(tileBytes) +
             " bytes, so the stages of a pipelined ring would not all be 128-byte aligned as TMA needs";
    return "";
  }
};

}  // namespace

const CopyStrategy& im2colTmaStrategy() {
  static const Im2colTmaLoad strategy;
  return strategy;
}

}  // namespace tlc
