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
  hooks.load = [](const LoadNode& l, std::vector<ExprRef> idx) -> ExprRef {
    auto n = std::make_shared<LoadNode>(l.buffer, std::vector<ExprRef>{flatOffset(*l.buffer, idx)}, l.dtype, l.lanes);
    n->predicate = l.predicate ? rewriteExpr(l.predicate, {}, {}) : nullptr;
    n->otherwise = l.otherwise;
    n->alignBytes = l.alignBytes;
    return n;
  };
  hooks.store = [](const StoreStmt& st, std::vector<ExprRef> idx, ExprRef value) -> StmtRef {
    return moveStore(st, st.buffer, {flatOffset(*st.buffer, idx)}, value);
  };
  kernel.body = rewriteStmt(kernel.body, {}, hooks);
}

}  // namespace tlc
