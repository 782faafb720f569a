// Rewrite: variable substitution and bottom-up rebuilding of expressions and statements.
#include "ir/Rewrite.h"

namespace tlc::ir {

ExprRef rewriteExpr(const ExprRef& e, const VarMap& vars, const RewriteHooks& hooks) {
  if (!e) return e;
  switch (e->kind) {
    case ExprKind::IntImm:
    case ExprKind::FloatImm: return e;
    case ExprKind::Var: {
      auto it = vars.find(&e->as<VarNode>());
      return it == vars.end() ? e : it->second;
    }
    case ExprKind::Binary: {
      const auto& b = e->as<BinaryNode>();
      auto a = rewriteExpr(b.a, vars, hooks), c = rewriteExpr(b.b, vars, hooks);
      if (a == b.a && c == b.b) return e;
      return binary(b.op, a, c);
    }
    case ExprKind::Unary: {
      const auto& u = e->as<UnaryNode>();
      auto a = rewriteExpr(u.a, vars, hooks);
      return a == u.a ? e : unary(u.op, a);
    }
    case ExprKind::Select: {
      const auto& s = e->as<SelectNode>();
      auto c = rewriteExpr(s.cond, vars, hooks), t = rewriteExpr(s.t, vars, hooks), f = rewriteExpr(s.f, vars, hooks);
      if (c == s.cond && t == s.t && f == s.f) return e;
      return select(c, t, f);
    }
    case ExprKind::Cast: {
      auto a = rewriteExpr(e->as<CastNode>().a, vars, hooks);
      return a == e->as<CastNode>().a ? e : cast(e->dtype, a);
    }
    case ExprKind::Call: {
      const auto& c = e->as<CallNode>();
      std::vector<ExprRef> args;
      bool changed = false;
      for (const auto& a : c.args) {
        args.push_back(rewriteExpr(a, vars, hooks));
        changed |= args.back() != a;
      }
      return changed ? callWithArgs(c, args) : e;
    }
    case ExprKind::Load: {
      const auto& l = e->as<LoadNode>();
      std::vector<ExprRef> idx;
      bool changed = false;
      for (const auto& i : l.indices) {
        idx.push_back(rewriteExpr(i, vars, hooks));
        changed |= idx.back() != i;
      }
      if (hooks.load)
        if (auto r = hooks.load(l, idx)) return r;
      auto pred = rewriteExpr(l.predicate, vars, hooks);
      auto other = rewriteExpr(l.otherwise, vars, hooks);
      if (!changed && pred == l.predicate && other == l.otherwise) return e;
      auto n = moveLoad(l, l.buffer, idx);
      n->predicate = pred;
      n->otherwise = other;
      return n;
    }
  }
  return e;
}

StmtRef rewriteStmt(const StmtRef& s, const VarMap& vars, const RewriteHooks& hooks) {
  if (!s) return s;
  auto ex = [&](const ExprRef& e) { return rewriteExpr(e, vars, hooks); };
  switch (s->kind) {
    case StmtKind::Seq: {
      auto out = std::make_shared<SeqStmt>(s->range);
      for (const auto& c : s->as<SeqStmt>().stmts)
        if (auto r = rewriteStmt(c, vars, hooks)) out->stmts.push_back(r);
      return out;
    }
    case StmtKind::For: {
      const auto& f = s->as<ForStmt>();
      auto out = std::make_shared<ForStmt>(f.range, f.var, ex(f.min), ex(f.extent), f.kind, rewriteStmt(f.body, vars, hooks));
      out->step = ex(f.step);
      out->stages = f.stages;
      out->keepRolled = f.keepRolled;
      return out;
    }
    case StmtKind::If: {
      const auto& i = s->as<IfStmt>();
      return std::make_shared<IfStmt>(i.range, ex(i.cond), rewriteStmt(i.thenBody, vars, hooks),
                                      rewriteStmt(i.elseBody, vars, hooks));
    }
    case StmtKind::Let: return std::make_shared<LetStmt>(s->range, s->as<LetStmt>().var, ex(s->as<LetStmt>().value));
    case StmtKind::Assign:
      return std::make_shared<AssignStmt>(s->range, s->as<AssignStmt>().var, ex(s->as<AssignStmt>().value));
    case StmtKind::Store: {
      const auto& st = s->as<StoreStmt>();
      std::vector<ExprRef> idx;
      for (const auto& i : st.indices) idx.push_back(ex(i));
      auto value = ex(st.value);
      if (hooks.store)
        if (auto r = hooks.store(st, idx, value)) return r;
      auto out = moveStore(st, st.buffer, idx, value);
      out->predicate = ex(st.predicate);
      out->bitMask = ex(st.bitMask);
      return out;
    }
    case StmtKind::Barrier: return s;
    case StmtKind::Intrinsic: {
      auto out = std::make_shared<IntrinsicStmt>(s->as<IntrinsicStmt>());
      for (auto& a : out->args) a = ex(a);
      if (out->sharedElement) out->sharedElement = ex(out->sharedElement);
      if (out->barrierIndex) out->barrierIndex = ex(out->barrierIndex);
      return out;
    }
    case StmtKind::Copy: {
      const auto& c = s->as<CopyOp>();
      Region src = c.src, dst = c.dst;
      for (auto& m : src.mins) m = ex(m);
      for (auto& m : dst.mins) m = ex(m);
      auto out = std::make_shared<CopyOp>(c.range, src, dst);
      out->im2col = c.im2col;
      if (out->im2col) {
        out->im2col->rowStart = ex(c.im2col->rowStart);
        out->im2col->colStart = ex(c.im2col->colStart);
      }
      out->options = c.options;
      if (c.options.barrierIndex) out->options.barrierIndex = ex(c.options.barrierIndex);
      out->transpose = c.transpose;
      out->path = c.path;
      out->pathReason = c.pathReason;
      out->plan = c.plan;
      out->mbarriers = c.mbarriers;
      out->mbarrierIndex = c.mbarrierIndex;
      out->part = c.part;
      out->ring = c.ring;
      out->ringSize = c.ringSize;
      out->stage = ex(c.stage);
      out->parity = ex(c.parity);
      out->clusterMask = c.clusterMask;
      out->dstBlock = ex(c.dstBlock);
      return out;
    }
    case StmtKind::Parallel: {
      const auto& p = s->as<ParallelOp>();
      auto out = std::make_shared<ParallelOp>(p.range, p.vars, p.extents, rewriteStmt(p.body, vars, hooks));
      out->layout = p.layout;
      out->layoutAt = p.layoutAt;
      return out;
    }
    case StmtKind::Fill: {
      const auto& f = s->as<FillOp>();
      Region dst = f.dst;
      for (auto& m : dst.mins) m = ex(m);
      return std::make_shared<FillOp>(f.range, dst, ex(f.value));
    }
    case StmtKind::Reduce: {
      auto out = std::make_shared<ReduceOp>(s->as<ReduceOp>());
      out->fallback = rewriteStmt(out->fallback, vars, hooks);
      return out;
    }
  }
  return s;
}

void forEachLoad(const ExprRef& e, const std::function<void(const LoadNode&)>& visit) {
  if (!e) return;
  switch (e->kind) {
    case ExprKind::Binary: forEachLoad(e->as<BinaryNode>().a, visit); forEachLoad(e->as<BinaryNode>().b, visit); break;
    case ExprKind::Unary: forEachLoad(e->as<UnaryNode>().a, visit); break;
    case ExprKind::Select:
      forEachLoad(e->as<SelectNode>().cond, visit);
      forEachLoad(e->as<SelectNode>().t, visit);
      forEachLoad(e->as<SelectNode>().f, visit);
      break;
    case ExprKind::Cast: forEachLoad(e->as<CastNode>().a, visit); break;
    case ExprKind::Call: for (const auto& a : e->as<CallNode>().args) forEachLoad(a, visit); break;
    case ExprKind::Load: {
      const auto& l = e->as<LoadNode>();
      visit(l);
      for (const auto& i : l.indices) forEachLoad(i, visit);
      forEachLoad(l.predicate, visit);
      break;
    }
    default: break;
  }
}

void forEachAccess(const StmtRef& s, const AccessVisitor& v) {
  if (!s) return;
  auto reads = [&](const ExprRef& e) { forEachLoad(e, [&](const LoadNode& l) { v.access(l.buffer, false); }); };
  switch (s->kind) {
    case StmtKind::Seq: for (const auto& c : s->as<SeqStmt>().stmts) forEachAccess(c, v); break;
    case StmtKind::For:
      reads(s->as<ForStmt>().min);
      reads(s->as<ForStmt>().extent);
      forEachAccess(s->as<ForStmt>().body, v);
      break;
    case StmtKind::If:
      reads(s->as<IfStmt>().cond);
      forEachAccess(s->as<IfStmt>().thenBody, v);
      forEachAccess(s->as<IfStmt>().elseBody, v);
      break;
    case StmtKind::Let: reads(s->as<LetStmt>().value); break;
    case StmtKind::Assign: reads(s->as<AssignStmt>().value); break;
    case StmtKind::Store: {
      const auto& st = s->as<StoreStmt>();
      for (const auto& i : st.indices) reads(i);
      reads(st.value);
      if (st.bitMask) reads(st.bitMask);
      if (st.atomic != AtomicOp::None && v.atomic) v.atomic(st.buffer, st.atomic);
      else v.access(st.buffer, true);
      break;
    }
    case StmtKind::Barrier: break;
    case StmtKind::Intrinsic:
      for (const auto& a : s->as<IntrinsicStmt>().args) reads(a);
      if (s->as<IntrinsicStmt>().barrierIndex) reads(s->as<IntrinsicStmt>().barrierIndex);
      break;
    case StmtKind::Copy: {
      const auto& c = s->as<CopyOp>();
      for (const auto& m : c.src.mins) reads(m);
      for (const auto& m : c.dst.mins) reads(m);
      if (c.im2col) {
        reads(c.im2col->rowStart);
        reads(c.im2col->colStart);
      }
      if (c.dstBlock) reads(c.dstBlock);
      if (c.options.barrierIndex) reads(c.options.barrierIndex);
      v.access(c.src.buffer, false);
      if (c.options.atomic != AtomicOp::None && v.atomic) v.atomic(c.dst.buffer, c.options.atomic);
      else v.access(c.dst.buffer, true);
      break;
    }
    case StmtKind::Parallel: forEachAccess(s->as<ParallelOp>().body, v); break;
    case StmtKind::Fill:
      reads(s->as<FillOp>().value);
      v.access(s->as<FillOp>().dst.buffer, true);
      break;
    case StmtKind::Reduce: {
      const auto& r = s->as<ReduceOp>();
      if (!r.shuffle) {
        forEachAccess(r.fallback, v);
        break;
      }
      v.access(r.part == ReduceOp::Part::FoldWarps ? r.scratch : r.src, false);
      if (r.part == ReduceOp::Part::WarpPartials) {
        v.access(r.scratch, true);
        break;
      }
      if (!r.clear) v.access(r.dst, false);
      v.access(r.dst, true);
      break;
    }
  }
}

bool dependsOnThread(const ExprRef& e, const std::function<bool(const VarNode*)>& isVarying) {
  if (!e) return false;
  switch (e->kind) {
    case ExprKind::Call:
      if (info(e->as<CallNode>().builtin).varies == BuiltinVaries::Thread) return true;
      for (const auto& a : e->as<CallNode>().args) if (dependsOnThread(a, isVarying)) return true;
      return false;
    case ExprKind::Binary: return dependsOnThread(e->as<BinaryNode>().a, isVarying) || dependsOnThread(e->as<BinaryNode>().b, isVarying);
    case ExprKind::Unary: return dependsOnThread(e->as<UnaryNode>().a, isVarying);
    case ExprKind::Cast: return dependsOnThread(e->as<CastNode>().a, isVarying);
    case ExprKind::Select:
      return dependsOnThread(e->as<SelectNode>().cond, isVarying) || dependsOnThread(e->as<SelectNode>().t, isVarying) ||
             dependsOnThread(e->as<SelectNode>().f, isVarying);
    // A load may read per-thread data (fragments, locals, or values a thread wrote);
    // a local variable may hold a thread-dependent value. Both are treated as varying.
    case ExprKind::Load: return true;
    case ExprKind::Var: return isVarying(&e->as<VarNode>());
    default: return false;
  }
}

}  // namespace tlc::ir
