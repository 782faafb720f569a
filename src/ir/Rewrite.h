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

// Keyed by variable, in creation order (ById): a pass that walks one gets the same
// order whatever the allocator did.
using VarMap = std::map<const VarNode*, ExprRef, ById>;
using VarSet = std::set<const VarNode*, ById>;
using BufferSet = std::set<const Buffer*, ById>;

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
  // Set: called instead of `access` for an atomic store (StoreStmt::atomic; a copy
  // with CopyOptions::atomic), which reads and writes its element.
  std::function<void(const BufferRef& buffer, AtomicOp op)> atomic = nullptr;
};
void forEachAccess(const StmtRef& s, const AccessVisitor& visitor);
// True when `e` may differ between the threads of a block: it reads a thread index,
// a buffer, or a local for which `isVarying` holds.
bool dependsOnThread(const ExprRef& e, const std::function<bool(const VarNode*)>& isVarying);
// The same with the varying locals as a set (a VarSet, or one keyed by address).
template <class Compare>
bool dependsOnThread(const ExprRef& e, const std::set<const VarNode*, Compare>& varying) {
  return dependsOnThread(e, [&](const VarNode* v) { return varying.count(v) != 0; });
}

}  // namespace tlc::ir
