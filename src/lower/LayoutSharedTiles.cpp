// LayoutSharedTiles: see the header for the transpose's plan and the swizzle.
#include "lower/LayoutSharedTiles.h"

#include <functional>
#include <numeric>
#include <set>

#include "ir/StmtVisitor.h"

namespace tlc {

using namespace ir;

int transposeVecLimit(const Buffer& src, const Buffer& dst) {
  int limit = 0;
  for (const Buffer* b : {&src, &dst}) {
    int cap = 0;
    if (b->sharedLayout.maxRun()) cap = b->sharedLayout.maxRun();
    if (b->sharedLayout.pad) {
      // A vector must start on a multiple of its width in every padded row.
      int64_t rowStride = *asConstInt(b->strides[b->strides.size() - 2]);
      for (cap = 1; rowStride % (cap * 2) == 0 && cap < 64; cap *= 2) {}
    }
    if (cap) limit = limit ? std::min(limit, cap) : cap;
  }
  return limit;
}

int transposeVecLimit(const CopyOp& c) {
  int limit = transposeVecLimit(*c.src.buffer, *c.dst.buffer);
  for (const Region* r : {&c.src, &c.dst}) {
    const Buffer& b = *r->buffer;
    size_t rank = b.strides.size();
    int64_t g = knownMultiple(r->mins.back());
    if (auto rowStride = asConstInt(b.strides[rank - 2])) g = std::gcd(g, knownMultiple(intImm(*rowStride)));
    if (g >= 64) continue;  // no cap below the widest vector
    int cap = (int)g;
    limit = limit ? std::min(limit, cap) : cap;
  }
  return limit;
}

TransposePlan planTranspose(DType dtype, const std::vector<int64_t>& srcShape, int threads, int maxVec) {
  size_t rank = srcShape.size();
  int64_t m = srcShape[rank - 2], n = srcShape[rank - 1];
  int64_t batch = 1;
  for (size_t a = 0; a + 2 < rank; ++a) batch *= srcShape[a];
  int elemBits = bits(dtype);
  int widest = std::max(1, 128 / elemBits);  // 16 bytes
  if (maxVec > 0) widest = std::min(widest, maxVec);
  TransposePlan best;
  best.batch = batch;
  best.rowBlocks = m;
  best.colBlocks = n;
  for (int v = widest; v > 1; v /= 2) {
    if (m % v || n % v) continue;
    if (batch * (m / v) * (n / v) < threads) continue;
    best.vec = v;
    best.rowBlocks = m / v;
    best.colBlocks = n / v;
    break;
  }
  return best;
}

SharedLayout transposeDstLayout(const TransposePlan& plan, DType dtype, int64_t dstRowElems) {
  SharedLayout l;
  int accessBytes = plan.vec * bits(dtype) / 8;
  if (accessBytes < 4) return l;  // narrower than a bank: neighbours share words anyway
  // The threads of one phase (128 bytes of accesses) write one piece in each of
  // `phase` micro-blocks' rows: their keys must differ, so span covers them all.
  int64_t phase = 128 / accessBytes;
  int64_t pieces = dstRowElems / plan.vec;
  int64_t span = 1;
  while (span * 2 <= phase && pieces % (span * 2) == 0) span *= 2;
  if (span <= 1) return l;
  l.unit = plan.vec;
  l.span = (int)span;
  l.rowDiv = plan.vec;
  l.why = "transpose";
  return l;
}

namespace {

// Calls `f` for every copy outside Parallel loops (where sema admits none).
class CopyFinder : public StmtVisitor {
 public:
  explicit CopyFinder(std::function<void(const CopyOp&)> f) : f_(std::move(f)) {}

 protected:
  void visitCopy(CopyOp& c) override { f_(c); }
  void visitParallel(ParallelOp&) override {}

 private:
  std::function<void(const CopyOp&)> f_;
};

}  // namespace

void layoutSharedTiles(Kernel& kernel) {
  // Tiles with views, and the views: their names read the same bytes row-major, so
  // none is swizzled.
  std::set<const Buffer*, ById> aliased;
  for (const auto& b : kernel.allocations)
    if (b->viewOf) {
      aliased.insert(b.get());
      aliased.insert(b->viewOf.get());
    }
  CopyFinder([&](const CopyOp& c) {
    if (!c.transpose) return;
    Buffer& dst = *c.dst.buffer;
    // annotate_layout's choice, or an earlier transpose's: kept (correct either way).
    if (dst.sharedLayout.annotated || dst.sharedLayout.permutesPieces()) return;
    if (aliased.count(&dst)) return;  // row-major: correct, only slower
    auto plan = planTranspose(c.src.buffer->dtype, c.src.extents, kernel.threads, transposeVecLimit(c));
    // The swizzle permutes pieces of the tile's whole rows (a part of it included).
    dst.sharedLayout = transposeDstLayout(plan, dst.dtype, *asConstInt(dst.shape.back()));
  }).visit(kernel.body);
}

}  // namespace tlc
