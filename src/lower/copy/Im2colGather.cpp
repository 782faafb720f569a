// Im2colGather: an im2col copy by the block's threads, partitioned like a copy over
// its (BM, BK) tile. Each group of `width` columns lies in one kernel tap when C is
// a multiple of the width, so it is one contiguous run of the image's channels: one
// cp.async (4, 8 or 16 bytes, source size 0 to zero-fill a pixel outside the image
// or a row/column past the column matrix) or, for narrower widths or a target
// without cp.async, predicated loads and stores. Its padding is zero whatever the
// image's safe value.
#include <sstream>

#include "lower/copy/CopyLowering.h"
#include "lower/copy/CopyStrategy.h"

namespace tlc {

using namespace ir;

namespace {

// The widest access (elements) for an im2col copy: one group of `w` columns
// must stay in one kernel tap and be one contiguous, aligned run of channels.
static bool widthWorks(const CopyOp& c, int w, const CopyLowering& L, AssumptionMap& need) {
  if (w == 1) return true;
  const Buffer& img = *c.src.buffer;
  const Buffer& tile = *c.dst.buffer;
  int rank = (int)c.dst.extents.size();
  if (c.dst.extents[rank - 1] % w != 0) return false;  // BK: colStart = c_step * BK
  auto inner = asConstInt(img.strides[3]);
  if (!inner || *inner != 1) return false;
  auto tileInner = asConstInt(tile.strides[rank - 1]);
  if (!tileInner || *tileInner != 1) return false;
  for (int a = 0; a < rank - 1; ++a)
    if (knownMultiple(tile.strides[a]) % w != 0) return false;
  // A swizzled tile (a transpose's destination) keeps only `unit` elements
  // contiguous; an index map, its measured runs.
  if (tile.sharedLayout.maxRun() && w > tile.sharedLayout.maxRun()) return false;
  auto trial = need;
  if (!L.provablyMultiple(img.shape[3], w, trial)) return false;  // C: a group never straddles two taps
  for (int a = 2; a >= 0; --a)  // inner strides first: C before W*C, so one fact serves them all
    if (!L.provablyMultiple(img.strides[a], w, trial)) return false;
  if (!L.options.allowAssumptions) return false;  // the image's base alignment is a run-time fact
  if (img.loadedBase) return false;  // an address loaded in the kernel: no variant can assume it
  auto& slot = trial[img.data.get()];
  slot = std::max<int64_t>(slot, (int64_t)w * bits(img.dtype) / 8);
  need = trial;
  return true;
}

class Im2colGather final : public CopyStrategy {
 public:
  const char* name() const override { return "Im2colGather"; }
  const char* label() const override { return ""; }
  bool considers(const CopyOp& c) const override { return c.im2col.has_value(); }
  std::string obstacle(const CopyOp&, const CopySite&) const override { return ""; }
  CopyPath path(const CopyOp&, const CopySite&) const override { return CopyPath::CpAsync; }
  StmtRef lower(const CopyOp& c, CopyLowering& L) const override {
    const Im2col& m = *c.im2col;
    const BufferRef& img = c.src.buffer;
    const Region& dst = c.dst;
    const Buffer& tile = *dst.buffer;
    int rank = (int)dst.extents.size();
    int64_t bm = dst.extents[rank - 2], bk = dst.extents[rank - 1];
    int elemBytes = bits(img->dtype) / 8;

    AssumptionMap need;
    int w = std::max(1, 16 / elemBytes);
    for (; w > 1; w /= 2)
      if (widthWorks(c, w, L, need)) break;
    L.commit(need);
    Partition p = L.partitionFor(L.kernel.threads, w, bm * bk, false);
    p.width = w;
    int accessBytes = w * elemBytes;
    bool hasCpAsync = L.options.target.has(TargetFeature::CpAsync);
    bool cpAsync = hasCpAsync && (accessBytes == 4 || accessBytes == 8 || accessBytes == 16);

    // The column matrix's geometry.
    ExprRef N = img->shape[0], H = img->shape[1], W = img->shape[2], C = img->shape[3];
    ExprRef K = intImm(m.kernel);
    ExprRef pixels = mul(m.outH, m.outW);
    ExprRef rows = mul(N, pixels);
    ExprRef cols = mul(mul(K, K), C);

    auto body = [&](const ExprRef&, const ExprRef& group) -> StmtRef {
      auto loop = CopyLowering::unflatten(mul(group, intImm(w)), {bm, bk});
      ExprRef i = loop[0], j = loop[1];
      ExprRef r = add(m.rowStart, i), k = add(m.colStart, j);
      ExprRef n = floorDiv(r, pixels), pix = floorMod(r, pixels);
      ExprRef oh = floorDiv(pix, m.outW), ow = floorMod(pix, m.outW);
      ExprRef tap = floorDiv(k, C), ch = floorMod(k, C);
      ExprRef kh = floorDiv(tap, K), kw = floorMod(tap, K);
      ExprRef ih = add(sub(mul(oh, intImm(m.stride)), intImm(m.pad)), mul(kh, intImm(m.dilation)));
      ExprRef iw = add(sub(mul(ow, intImm(m.stride)), intImm(m.pad)), mul(kw, intImm(m.dilation)));
      // A symbolic image smaller than the dilated kernel has OH or OW <= 0: no row is valid.
      ExprRef valid = logicalAnd(logicalAnd(lt(intImm(0), m.outH), lt(intImm(0), m.outW)), lt(r, rows));
      valid = logicalAnd(valid, lt(k, cols));
      valid = logicalAnd(valid, logicalAnd(binary(BinOp::Ge, ih, intImm(0)), lt(ih, H)));
      valid = logicalAnd(valid, logicalAnd(binary(BinOp::Ge, iw, intImm(0)), lt(iw, W)));
      std::vector<ExprRef> srcIdx = {n, ih, iw, ch};
      std::vector<ExprRef> dstIdx = dst.mins;  // leading axes: a ring's stage
      dstIdx[rank - 2] = add(dst.mins[rank - 2], i);
      dstIdx[rank - 1] = add(dst.mins[rank - 1], j);
      if (cpAsync) {
        ExprRef srcOffset = intImm(0, DType::Int64);
        for (int a = 0; a < 4; ++a)
          srcOffset = add(srcOffset, mul(cast(DType::Int64, srcIdx[a]), cast(DType::Int64, img->strides[a])));
        ExprRef dstOffset = CopyLowering::tileByteOffset(tile, dstIdx);  // the tile's layout
        // Outside the image: read nothing (source size 0, zero-filled) from the base.
        auto op = std::make_shared<IntrinsicStmt>(
            c.range, IntrinsicOp::CpAsync,
            std::vector<ExprRef>{dstOffset, select(valid, srcOffset, intImm(0, DType::Int64)),
                                 select(valid, intImm(accessBytes), intImm(0))});
        op->buffer = img;
        op->immediate = accessBytes;
        // No L2 cache hint on cp.async: the hinted form with a source size faulted on
        // the H100 (CUDA_ERROR_ILLEGAL_INSTRUCTION, spec strided_compact); TMA keeps it.
        return op;
      }
      auto load = std::make_shared<LoadNode>(img, srcIdx, img->dtype, w);
      load->predicate = valid;
      load->alignBytes = CopyLowering::alignOf(*img, w);
      auto st = std::make_shared<StoreStmt>(c.range, dst.buffer, dstIdx, load);
      st->alignBytes = CopyLowering::alignOf(tile, w);
      return st;
    };
    StmtRef out = L.partitionLoop(p, c.range, bm * bk / w, body);

    std::ostringstream how;
    how << (cpAsync ? "cp.async" : "a SIMT loop") << ", ";
    if (w == 1) how << "one element (" << accessBytes << " bytes) per access";
    else how << w << "-element (" << accessBytes << "-byte) runs of channels";
    L.describeAssumptions(how, need);
    if (cpAsync) {
      // Synchronous like a copy: the thread's groups land before it goes on; the
      // block barrier before the tile's readers comes from InsertBarriers.
      auto commitGroup = std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::CpAsyncCommitGroup);
      auto wait = std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::CpAsyncWaitGroup);
      wait->immediate = 0;
      out = std::make_shared<SeqStmt>(c.range, std::vector<StmtRef>{out, commitGroup, wait});
    }
    std::string why = c.pathReason;
    if (!hasCpAsync)
      why += std::string(why.empty() ? "" : "; ") + "cp.async not used: " + L.options.target.lacks(TargetFeature::CpAsync);
    else if (!cpAsync)
      why += std::string(why.empty() ? "" : "; ") + "cp.async not used: " + std::to_string(accessBytes) +
             "-byte accesses (C, the image's strides or its alignment allow no wider run; cp.async moves 4, 8 or 16 bytes)";
    if (cpAsync) why = CopyLowering::withEvictionNotApplied(why, c);
    L.notes.push_back({c.range, m.opName + " " + img->name + " -> " + tile.name, how.str(), why});
    return out;
  }
};

}  // namespace

const CopyStrategy& im2colGatherStrategy() {
  static const Im2colGather strategy;
  return strategy;
}

}  // namespace tlc
