// Rewrite: structural rewriting of IR trees used by the lowering passes.
//
// `substitute` replaces variables by expressions; `rewriteExpr`/`rewriteStmt` rebuild a
// tree bottom-up, giving a hook the chance to replace each Load and Store first.
// Nodes that do not change are shared, not copied.
#pragma once

#include <functional>
#include <map>
#include <set>

#include "ir/IR.h"

namespace tlc::ir {

using VarMap = std::map<const VarNode*, ExprRef>;

struct RewriteHooks {
  // Called for each Load after its operands were rewritten; return null to keep it.
  std::function<ExprRef(const LoadNode& load, std::vector<ExprRef> indices)> load;
  // Called for each Store after its operands were rewritten; return null to keep it.
  std::function<StmtRef(const StoreStmt& store, std::vector<ExprRef> indices, ExprRef value)> store;
};

ExprRef rewriteExpr(const ExprRef& e, const VarMap& vars, const RewriteHooks& hooks);
StmtRef rewriteStmt(const StmtRef& s, const VarMap& vars, const RewriteHooks& hooks);

inline ExprRef substitute(const ExprRef& e, const VarMap& vars) { return rewriteExpr(e, vars, {}); }
inline StmtRef substitute(const StmtRef& s, const VarMap& vars) { return rewriteStmt(s, vars, {}); }

// Calls `visit` for every Load in `e` (pre-order).
void forEachLoad(const ExprRef& e, const std::function<void(const LoadNode&)>& visit);
// Calls `visitLoad`/`visitStore` for every element access in `s`, tile ops included
// (a Copy counts as a load of its source and a store to its destination buffer).
struct AccessVisitor {
  std::function<void(const BufferRef& buffer, bool isWrite)> access;
};
void forEachAccess(const StmtRef& s, const AccessVisitor& visitor);
// True when `e` may differ between the threads of a block: it reads a thread index,
// a buffer, or one of the `varying` locals.
bool dependsOnThread(const ExprRef& e, const std::set<const VarNode*>& varying);

}  // namespace tlc::ir
