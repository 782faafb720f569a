// FlattenBufferAccess: see the header.
#include "lower/FlattenBufferAccess.h"

#include <algorithm>

#include "ir/Rewrite.h"

namespace tlc {

using namespace ir;

static ExprRef flatOffset(const Buffer& b, const std::vector<ExprRef>& indices) {
  if (b.scope == MemScope::Shared) return sharedElementOffset(b, indices);  // the tile's layout
  DType t = b.scope == MemScope::Global ? DType::Int64 : DType::Int32;
  ExprRef offset = b.elemOffset ? cast(t, b.elemOffset) : intImm(0, t);
  for (size_t a = 0; a < indices.size(); ++a)
    offset = add(offset, mul(cast(t, indices[a]), cast(t, b.strides[a])));
  return offset;
}

// A view of a local buffer is its buffer's array: both row-major, so the view's flat
// offset is the buffer's.
static const BufferRef& storage(const BufferRef& b) {
  return b->scope == MemScope::Local && b->viewOf ? b->viewOf : b;
}

void flattenBufferAccess(Kernel& kernel) {
  RewriteHooks hooks;
  // A predicate may read buffers too (a guard on a gathered index, `idx[i] < N`):
  // those loads are flattened like every other.
  hooks.load = [&hooks](const LoadNode& l, std::vector<ExprRef> idx) -> ExprRef {
    auto n = moveLoad(l, storage(l.buffer), {flatOffset(*l.buffer, idx)});
    n->predicate = l.predicate ? rewriteExpr(l.predicate, {}, hooks) : nullptr;
    return n;
  };
  hooks.store = [&hooks](const StoreStmt& st, std::vector<ExprRef> idx, ExprRef value) -> StmtRef {
    auto out = moveStore(st, storage(st.buffer), {flatOffset(*st.buffer, idx)}, value);
    out->predicate = rewriteExpr(st.predicate, {}, hooks);
    out->bitMask = rewriteExpr(st.bitMask, {}, hooks);
    return out;
  };
  kernel.body = rewriteStmt(kernel.body, {}, hooks);
  kernel.allocations.erase(std::remove_if(kernel.allocations.begin(), kernel.allocations.end(),
                                          [](const BufferRef& b) { return b->scope == MemScope::Local && b->viewOf; }),
                           kernel.allocations.end());
}

}  // namespace tlc
