// StmtVisitor: the dispatch on the statement kind and the default descent.
#include "ir/StmtVisitor.h"

namespace tlc::ir {

void StmtVisitor::visit(const StmtRef& s) {
  if (!s) return;
  switch (s->kind) {
    case StmtKind::Seq: visitSeq(s->as<SeqStmt>()); return;
    case StmtKind::For: visitFor(s->as<ForStmt>()); return;
    case StmtKind::If: visitIf(s->as<IfStmt>()); return;
    case StmtKind::Let: visitLet(s->as<LetStmt>()); return;
    case StmtKind::Assign: visitAssign(s->as<AssignStmt>()); return;
    case StmtKind::Store: visitStore(s->as<StoreStmt>()); return;
    case StmtKind::Barrier: visitBarrier(s->as<BarrierStmt>()); return;
    case StmtKind::Intrinsic: visitIntrinsic(s->as<IntrinsicStmt>()); return;
    case StmtKind::Copy: visitCopy(s->as<CopyOp>()); return;
    case StmtKind::Parallel: visitParallel(s->as<ParallelOp>()); return;
    case StmtKind::Fill: visitFill(s->as<FillOp>()); return;
    case StmtKind::Reduce: visitReduce(s->as<ReduceOp>()); return;
  }
}

void StmtVisitor::visitSeq(SeqStmt& s) {
  for (const StmtRef& c : s.stmts) visit(c);
}
void StmtVisitor::visitFor(ForStmt& s) { visit(s.body); }
void StmtVisitor::visitIf(IfStmt& s) {
  visit(s.thenBody);
  visit(s.elseBody);
}
void StmtVisitor::visitParallel(ParallelOp& s) { visit(s.body); }
void StmtVisitor::visitReduce(ReduceOp& s) { visit(s.fallback); }

}  // namespace tlc::ir
