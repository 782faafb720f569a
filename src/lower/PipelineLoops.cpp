// PipelineLoops: see the header for the schedule and its conditions.
#include "lower/PipelineLoops.h"

#include <algorithm>
#include <functional>
#include <set>

#include "ir/Rewrite.h"
#include "ir/StmtVisitor.h"

namespace tlc {
namespace {

using namespace ir;

void collectVars(const ExprRef& e, VarSet& out) {
  if (!e) return;
  switch (e->kind) {
    case ExprKind::Var: out.insert(&e->as<VarNode>()); break;
    case ExprKind::Binary: collectVars(e->as<BinaryNode>().a, out); collectVars(e->as<BinaryNode>().b, out); break;
    case ExprKind::Unary: collectVars(e->as<UnaryNode>().a, out); break;
    case ExprKind::Cast: collectVars(e->as<CastNode>().a, out); break;
    case ExprKind::Select:
      collectVars(e->as<SelectNode>().cond, out);
      collectVars(e->as<SelectNode>().t, out);
      collectVars(e->as<SelectNode>().f, out);
      break;
    case ExprKind::Call: for (const auto& a : e->as<CallNode>().args) collectVars(a, out); break;
    case ExprKind::Load:
      for (const auto& i : e->as<LoadNode>().indices) collectVars(i, out);
      break;
    default: break;
  }
}

// Locals declared anywhere in a statement (their values change from iteration to
// iteration): loop variables, Parallel variables and Lets.
class DeclaredVars : public StmtVisitor {
 public:
  explicit DeclaredVars(VarSet& out) : out_(out) {}

 protected:
  void visitFor(ForStmt& f) override {
    out_.insert(f.var.get());
    StmtVisitor::visitFor(f);
  }
  void visitParallel(ParallelOp& p) override {
    for (const auto& v : p.vars) out_.insert(v.get());
    StmtVisitor::visitParallel(p);
  }
  void visitLet(LetStmt& l) override { out_.insert(l.var.get()); }

 private:
  VarSet& out_;
};

// Every Copy and Fill region in a statement (mutable, for renaming buffers).
class RegionVisitor : public StmtVisitor {
 public:
  explicit RegionVisitor(std::function<void(Region&)> f) : f_(std::move(f)) {}

 protected:
  void visitCopy(CopyOp& c) override {
    f_(c.src);
    f_(c.dst);
  }
  void visitFill(FillOp& fill) override { f_(fill.dst); }

 private:
  std::function<void(Region&)> f_;
};

class Pipeliner {
 public:
  Pipeliner(Kernel& kernel, const Target& target, std::vector<CopyLoweringNote>& notes)
      : kernel_(kernel), target_(target), notes_(notes) {}

  void run() { kernel_.body = stmt(kernel_.body); }

 private:
  Kernel& kernel_;
  const Target& target_;
  std::vector<CopyLoweringNote>& notes_;
  int rings_ = 0;

  StmtRef stmt(const StmtRef& s) {
    if (!s) return s;
    switch (s->kind) {
      case StmtKind::Seq:
        for (auto& c : s->as<SeqStmt>().stmts) c = stmt(c);
        return s;
      case StmtKind::If: {
        auto& i = s->as<IfStmt>();
        i.thenBody = stmt(i.thenBody);
        i.elseBody = stmt(i.elseBody);
        return s;
      }
      case StmtKind::For: {
        auto& f = s->as<ForStmt>();
        f.body = stmt(f.body);
        if (f.kind != ForKind::Pipelined) return s;
        f.kind = ForKind::Serial;
        return pipeline(s);
      }
      default: return s;
    }
  }

  // Buffers accessed anywhere in the kernel outside `loop`.
  BufferSet accessedOutside(const StmtNode* loop) {
    BufferSet out;
    std::function<void(const StmtRef&)> walk = [&](const StmtRef& s) {
      if (!s || s.get() == loop) return;
      switch (s->kind) {
        case StmtKind::Seq: for (const auto& c : s->as<SeqStmt>().stmts) walk(c); return;
        case StmtKind::For: walk(s->as<ForStmt>().body); return;
        case StmtKind::If: walk(s->as<IfStmt>().thenBody); walk(s->as<IfStmt>().elseBody); return;
        default:
          forEachAccess(s, AccessVisitor{[&](const BufferRef& b, bool) { out.insert(b.get()); }});
      }
    };
    walk(kernel_.body);
    return out;
  }

  StmtRef pipeline(const StmtRef& loopRef) {
    auto& loop = loopRef->as<ForStmt>();
    int stages = loop.stages;
    auto note = [&](const std::string& how, const std::string& why) {
      notes_.push_back({loop.range, "Pipelined loop", how, why});
    };
    if (stages < 2) {
      note("a serial loop", "num_stages=" + std::to_string(stages) + " asks for no loads ahead");
      return loopRef;
    }
    auto minValue = asConstInt(loop.min);
    if (!minValue || *minValue != 0 || loop.step) {
      note("a serial loop", "only Pipelined(n) loops starting at 0 are pipelined");
      return loopRef;
    }
    if (loop.body->kind != StmtKind::Seq) loop.body = std::make_shared<SeqStmt>(loop.range, std::vector<StmtRef>{loop.body});
    auto& body = loop.body->as<SeqStmt>().stmts;

    VarSet bodyVars;
    DeclaredVars(bodyVars).visit(loop.body);
    BufferSet outside = accessedOutside(loopRef.get());
    // The ring is filled by TMA loads only: without TMA a Pipelined loop's loads run
    // where they stand (cp.async or SIMT, ChooseCopyPaths), un-pipelined.
    std::string whyNot = target_.has(TargetFeature::Tma)
                             ? "its body has no TMA load of a shared tile"
                             : "its loads run un-pipelined where they stand, since the ring of tiles is filled by TMA "
                               "loads and " + target_.lacks(TargetFeature::Tma);
    std::vector<size_t> candidates;
    for (size_t i = 0; i < body.size(); ++i) {
      if (body[i]->kind != StmtKind::Copy) continue;
      const auto& c = body[i]->as<CopyOp>();
      if (c.path != CopyPath::TmaLoad || c.part != CopyOp::Part::Whole) continue;
      if (c.options.tmaCopy) continue;  // the user's protocol: left where it stands
      const Buffer* tile = c.dst.buffer.get();
      bool writtenElsewhere = false;
      for (size_t j = 0; j < body.size(); ++j)
        if (j != i)
          forEachAccess(body[j], AccessVisitor{[&](const BufferRef& b, bool w) { writtenElsewhere |= w && b.get() == tile; }});
      VarSet used;
      for (const auto& m : c.src.mins) collectVars(m, used);
      if (c.im2col) {  // an im2col load's position is its first row and column
        collectVars(c.im2col->rowStart, used);
        collectVars(c.im2col->colStart, used);
      }
      bool dependsOnBody = std::any_of(used.begin(), used.end(), [&](const VarNode* v) { return bodyVars.count(v); });
      bool aliased = tile->viewOf != nullptr;
      for (const auto& b : kernel_.allocations) aliased |= b->viewOf.get() == tile;
      if (aliased) whyNot = "tile '" + tile->name + "' has another name (a view), which a ring of tiles would not follow";
      else if (writtenElsewhere) whyNot = "tile '" + tile->name + "' is also written elsewhere in the loop";
      else if (outside.count(tile)) whyNot = "tile '" + tile->name + "' is also used outside the loop";
      else if (dependsOnBody) whyNot = "the load's position depends on values computed in the loop";
      else candidates.push_back(i);
    }
    if (candidates.empty()) {
      note("a serial loop", "not pipelined: " + whyNot);
      return loopRef;
    }

    auto out = std::make_shared<SeqStmt>(loop.range);
    const VarRef& k = loop.var;
    ExprRef n = loop.extent;
    for (size_t index : candidates) {
      auto& original = body[index]->as<CopyOp>();
      BufferRef tile = original.dst.buffer;
      int ring = rings_++;
      // The ring: S tiles, one after another, each where a TMA load may write: at a
      // multiple of 128 bytes, and of the swizzle's period (8 lines of swizzleBytes:
      // the pattern follows the shared address's bits) for a swizzled tile. A small
      // tile's stage is padded up to it (a (1, 8) float16 tile: 16 bytes, 128 a stage).
      const int64_t tileElements = *asConstInt(tile->shape[0]) * *asConstInt(tile->strides[0]);
      const int64_t tileBytes = (tileElements * bits(tile->dtype) + 7) / 8;
      const int64_t period = tile->sharedLayout.swizzleBytes ? 8 * int64_t(tile->sharedLayout.swizzleBytes) : 128;
      const int64_t stageBytes = (tileBytes + period - 1) / period * period;
      auto ringBuffer = std::make_shared<Buffer>(*tile);
      ringBuffer->name = tile->name + "_ring";
      ringBuffer->shape.insert(ringBuffer->shape.begin(), intImm(stages));
      ringBuffer->strides.insert(ringBuffer->strides.begin(), intImm(stageBytes * 8 / bits(tile->dtype)));
      ringBuffer->sharedOffset = -1;
      auto& allocs = kernel_.allocations;
      std::replace(allocs.begin(), allocs.end(), tile, ringBuffer);

      auto stageOf = [&](const ExprRef& iteration) { return floorMod(iteration, intImm(stages)); };
      auto part = [&](CopyOp::Part which, const ExprRef& iteration) {
        auto c = std::static_pointer_cast<CopyOp>(substitute(body[index], VarMap{{k.get(), iteration}}));
        c->part = which;
        c->ring = ring;
        c->ringSize = stages;
        c->stage = stageOf(iteration);
        c->dst.buffer = ringBuffer;
        c->dst.mins.insert(c->dst.mins.begin(), c->stage);
        c->dst.extents.insert(c->dst.extents.begin(), 1);
        if (which == CopyOp::Part::WaitOnly) c->parity = binary(BinOp::BitAnd, floorDiv(iteration, intImm(stages)), intImm(1));
        return c;
      };
      // Prologue: the first S-1 loads.
      for (int p = 0; p + 1 < stages; ++p)
        out->stmts.push_back(std::make_shared<IfStmt>(loop.range, lt(intImm(p), n), part(CopyOp::Part::IssueOnly, intImm(p)), nullptr));
      // In the loop: issue iteration k+S-1, wait for iteration k.
      ExprRef ahead = add(k, intImm(stages - 1));
      auto issue = std::make_shared<IfStmt>(original.range, lt(ahead, n), part(CopyOp::Part::IssueOnly, ahead), nullptr);
      auto wait = part(CopyOp::Part::WaitOnly, k);
      body[index] = std::make_shared<SeqStmt>(original.range, std::vector<StmtRef>{issue, wait});

      // Every other access to the tile reads the current stage.
      ExprRef current = stageOf(k);
      RewriteHooks hooks;
      hooks.load = [&](const LoadNode& l, std::vector<ExprRef> idx) -> ExprRef {
        if (l.buffer != tile) return nullptr;
        idx.insert(idx.begin(), current);
        auto r = std::make_shared<LoadNode>(ringBuffer, idx, l.dtype, l.lanes);
        r->predicate = l.predicate;
        r->otherwise = l.otherwise;
        return r;
      };
      hooks.store = [&](const StoreStmt& st, std::vector<ExprRef> idx, ExprRef value) -> StmtRef {
        if (st.buffer != tile) return nullptr;
        idx.insert(idx.begin(), current);
        return moveStore(st, ringBuffer, idx, value);
      };
      for (size_t j = 0; j < body.size(); ++j) {
        if (j == index) continue;
        body[j] = rewriteStmt(body[j], {}, hooks);
        RegionVisitor([&](Region& r) {
          if (r.buffer != tile) return;
          r.buffer = ringBuffer;
          r.mins.insert(r.mins.begin(), current);
          r.extents.insert(r.extents.begin(), 1);
        }).visit(body[j]);
      }
      note("TMA loads issued " + std::to_string(stages - 1) + " iteration" + (stages == 2 ? "" : "s") +
               " ahead into a ring of " + std::to_string(stages) + " '" + tile->name + "' tiles",
           "");
    }
    out->stmts.push_back(loopRef);
    return out;
  }
};

}  // namespace

void pipelineLoops(Kernel& kernel, const Target& target, std::vector<CopyLoweringNote>& notes) {
  Pipeliner(kernel, target, notes).run();
}

}  // namespace tlc
