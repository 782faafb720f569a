// FlattenBufferAccess: see the header.
#include "lower/FlattenBufferAccess.h"

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

void flattenBufferAccess(Kernel& kernel) {
  RewriteHooks hooks;
  // A predicate may read buffers too (a guard on a gathered index, `idx[i] < N`):
  // those loads are flattened like every other.
  hooks.load = [&hooks](const LoadNode& l, std::vector<ExprRef> idx) -> ExprRef {
    auto n = moveLoad(l, l.buffer, {flatOffset(*l.buffer, idx)});
    n->predicate = l.predicate ? rewriteExpr(l.predicate, {}, hooks) : nullptr;
    return n;
  };
  hooks.store = [&hooks](const StoreStmt& st, std::vector<ExprRef> idx, ExprRef value) -> StmtRef {
    auto out = moveStore(st, st.buffer, {flatOffset(*st.buffer, idx)}, value);
    out->predicate = rewriteExpr(st.predicate, {}, hooks);
    out->bitMask = rewriteExpr(st.bitMask, {}, hooks);
    return out;
  };
  kernel.body = rewriteStmt(kernel.body, {}, hooks);
}

}  // namespace tlc
