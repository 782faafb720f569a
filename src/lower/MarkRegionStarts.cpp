// MarkRegionStarts: see the header.
#include "lower/MarkRegionStarts.h"

#include <set>

#include "ir/StmtVisitor.h"

namespace tlc {

using namespace ir;

bool provablyNonNegative(const ExprRef& e, const std::set<const VarNode*>& nonNegative) {
  if (!e) return false;
  auto nonNeg = [&](const ExprRef& x) { return provablyNonNegative(x, nonNegative); };
  if (auto k = asConstInt(e)) return *k >= 0;
  switch (e->kind) {
    case ExprKind::Var: return nonNegative.count(&e->as<VarNode>()) > 0;
    case ExprKind::Call: {
      const auto& c = e->as<CallNode>();
      return c.builtin == Builtin::ThreadIdx || c.builtin == Builtin::BlockIdx || c.builtin == Builtin::ClusterCtaRank;
    }
    case ExprKind::Cast: return isInt(e->dtype) && nonNeg(e->as<CastNode>().a);
    case ExprKind::Select: return nonNeg(e->as<SelectNode>().t) && nonNeg(e->as<SelectNode>().f);
    case ExprKind::Binary: {
      const auto& b = e->as<BinaryNode>();
      switch (b.op) {
        case BinOp::Add: case BinOp::Mul: case BinOp::FloorDiv: case BinOp::Shl: case BinOp::Shr:
        case BinOp::Min: case BinOp::BitOr:
          return nonNeg(b.a) && nonNeg(b.b);
        case BinOp::Max: return nonNeg(b.a) || nonNeg(b.b);
        case BinOp::BitAnd: return nonNeg(b.a) || nonNeg(b.b);
        case BinOp::FloorMod: {  // Python's %: the divisor's sign
          auto d = asConstInt(b.b);
          return (d && *d > 0) || nonNeg(b.b);
        }
        default: return false;
      }
    }
    default: return false;
  }
}

namespace {

class Marker : public StmtVisitor {
 public:
  explicit Marker(const Kernel& k) {
    for (const Param& p : k.params)
      if (p.kind == ParamKind::Dim && p.var) nonNegative_.insert(p.var.get());
  }

 protected:
  void visitFor(ForStmt& f) override {
    auto step = f.step ? asConstInt(f.step) : std::optional<int64_t>(1);
    if (step && *step > 0 && provablyNonNegative(f.min, nonNegative_)) nonNegative_.insert(f.var.get());
    StmtVisitor::visitFor(f);
  }
  void visitParallel(ParallelOp& p) override {
    for (const VarRef& v : p.vars) nonNegative_.insert(v.get());
    StmtVisitor::visitParallel(p);
  }
  void visitLet(LetStmt& l) override {
    if (provablyNonNegative(l.value, nonNegative_)) nonNegative_.insert(l.var.get());
  }
  void visitCopy(CopyOp& c) override {
    mark(c.src);
    mark(c.dst);
  }
  void visitFill(FillOp& f) override { mark(f.dst); }

 private:
  void mark(Region& r) {
    if (!r.buffer || r.buffer->scope != MemScope::Global) return;
    for (size_t a = 0; a < r.mins.size(); ++a) {
      if (provablyNonNegative(r.mins[a], nonNegative_)) continue;
      r.startMayBeNegative.resize(r.mins.size(), false);
      r.startMayBeNegative[a] = true;
    }
  }
  std::set<const VarNode*> nonNegative_;
};

}  // namespace

void markRegionStarts(Kernel& kernel) { Marker(kernel).visit(kernel.body); }

}  // namespace tlc
