// StmtVisitor: a walk over a statement tree with one overridable hook per kind.
//
// visit(s) dispatches on s->kind to that kind's hook. The hooks of the statements
// that hold others (Seq, For, If, Parallel, Reduce) visit their children in order; the
// others do nothing. A walker overrides the hooks it needs and calls the base hook
// where it wants to keep descending. Nodes are visited in place: a hook may edit a
// node's fields, but it does not replace the node (rewrites that build new trees:
// ir/Rewrite.h).
#pragma once

#include "ir/IR.h"

namespace tlc::ir {

class StmtVisitor {
 public:
  virtual ~StmtVisitor() = default;
  void visit(const StmtRef& s);  // null: nothing

 protected:
  virtual void visitSeq(SeqStmt& s);
  virtual void visitFor(ForStmt& s);
  virtual void visitIf(IfStmt& s);
  virtual void visitParallel(ParallelOp& s);
  virtual void visitLet(LetStmt&) {}
  virtual void visitAssign(AssignStmt&) {}
  virtual void visitStore(StoreStmt&) {}
  virtual void visitBarrier(BarrierStmt&) {}
  virtual void visitIntrinsic(IntrinsicStmt&) {}
  virtual void visitCopy(CopyOp&) {}
  virtual void visitFill(FillOp&) {}
  // A reduction's fallback (while it has one), as a statement of its own.
  virtual void visitReduce(ReduceOp& s);
};

}  // namespace tlc::ir
