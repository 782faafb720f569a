// ChooseCopyPaths: the walk over copyStrategies(); see the header.
#include "lower/ChooseCopyPaths.h"

#include <set>

#include "ir/Rewrite.h"
#include "ir/StmtVisitor.h"
#include "lower/copy/CopyStrategy.h"
#include "lower/copy/TmaConstraints.h"

namespace tlc {

using namespace ir;

namespace {

// True when `e` may differ between the blocks of a cluster or the threads of a
// block: a thread, block or rank index, a load, or a local computed from one.
bool differsInCluster(const ExprRef& e, const VarSet& varying) {
  if (!e) return false;
  switch (e->kind) {
    case ExprKind::Call: {
      Builtin b = e->as<CallNode>().builtin;
      if (b == Builtin::ThreadIdx || b == Builtin::BlockIdx || b == Builtin::ClusterCtaRank) return true;
      for (const auto& a : e->as<CallNode>().args)
        if (differsInCluster(a, varying)) return true;
      return false;
    }
    case ExprKind::Binary:
      return differsInCluster(e->as<BinaryNode>().a, varying) || differsInCluster(e->as<BinaryNode>().b, varying);
    case ExprKind::Unary: return differsInCluster(e->as<UnaryNode>().a, varying);
    case ExprKind::Cast: return differsInCluster(e->as<CastNode>().a, varying);
    case ExprKind::Select:
      return differsInCluster(e->as<SelectNode>().cond, varying) || differsInCluster(e->as<SelectNode>().t, varying) ||
             differsInCluster(e->as<SelectNode>().f, varying);
    case ExprKind::Load: return true;
    case ExprKind::Var: return varying.count(&e->as<VarNode>()) != 0;
    default: return false;
  }
}

class PathChooser {
 public:
  PathChooser(const Kernel& kernel, const CopyPathOptions& options, DiagnosticEngine& diags)
      : kernel_(kernel), options_(options), diags_(diags) {
    // The program's own cluster barriers (cluster_sync(), cluster_wait()).
    struct Finder : StmtVisitor {
      bool found = false;
      void visitBarrier(BarrierStmt& b) override {
        found |= b.barrier == BarrierKind::ClusterSync || b.barrier == BarrierKind::ClusterWait;
      }
    } finder;
    finder.visit(kernel.body);
    clusterSyncs_ = finder.found;
  }
  bool ok = true;

  void stmt(const StmtRef& s, bool uniform) {
    if (!s) return;
    switch (s->kind) {
      case StmtKind::Seq:
        for (const auto& c : s->as<SeqStmt>().stmts) {
          note(c);
          stmt(c, uniform);
        }
        break;
      case StmtKind::For: {
        const auto& f = s->as<ForStmt>();
        if (f.kind == ForKind::Pipelined && f.stages >= 2) {
          if (f.body->kind == StmtKind::Seq)
            for (const auto& c : f.body->as<SeqStmt>().stmts) pipelined_.insert(c.get());
          else
            pipelined_.insert(f.body.get());
        }
        bool differs = differsInCluster(f.min, clusterVarying_) || differsInCluster(f.extent, clusterVarying_);
        bool byThread = dependsOnThread(f.min, varying_) || dependsOnThread(f.extent, varying_);
        if (differs) divergentInCluster_.push_back(s->range);
        if (byThread) divergentInBlock_.push_back(s->range);
        stmt(f.body, uniform && !byThread);
        if (differs) divergentInCluster_.pop_back();
        if (byThread) divergentInBlock_.pop_back();
        break;
      }
      case StmtKind::If: {
        const auto& i = s->as<IfStmt>();
        bool byThread = dependsOnThread(i.cond, varying_);
        bool u = uniform && !byThread;
        bool differs = differsInCluster(i.cond, clusterVarying_);
        if (differs) divergentInCluster_.push_back(s->range);
        if (byThread) divergentInBlock_.push_back(s->range);
        stmt(i.thenBody, u);
        stmt(i.elseBody, u);
        if (differs) divergentInCluster_.pop_back();
        if (byThread) divergentInBlock_.pop_back();
        break;
      }
      case StmtKind::Copy: copy(s->as<CopyOp>(), uniform); break;
      default: break;
    }
  }

 private:
  const Kernel& kernel_;
  const CopyPathOptions& options_;
  DiagnosticEngine& diags_;
  VarSet varying_;
  std::set<const StmtNode*> pipelined_;  // statements directly in a Pipelined loop's body
  VarSet clusterVarying_;     // locals that may differ between blocks or threads
  bool clusterSyncs_ = false;  // the kernel has a cluster_sync() or cluster_wait() of its own
  std::vector<SourceRange> divergentInCluster_;  // enclosing ifs / loops that may differ so
  std::vector<SourceRange> divergentInBlock_;    // enclosing ifs / loops that depend on the thread

  void note(const StmtRef& s) {
    if (s->kind == StmtKind::Let && differsInCluster(s->as<LetStmt>().value, clusterVarying_))
      clusterVarying_.insert(s->as<LetStmt>().var.get());
    if (s->kind == StmtKind::Assign && differsInCluster(s->as<AssignStmt>().value, clusterVarying_))
      clusterVarying_.insert(s->as<AssignStmt>().var.get());
    if (s->kind == StmtKind::Let && dependsOnThread(s->as<LetStmt>().value, varying_))
      varying_.insert(s->as<LetStmt>().var.get());
    if (s->kind == StmtKind::Assign && dependsOnThread(s->as<AssignStmt>().value, varying_))
      varying_.insert(s->as<AssignStmt>().var.get());
    // An atomic's old value differs between the threads (and the blocks).
    if (s->kind == StmtKind::Store && s->as<StoreStmt>().result) {
      varying_.insert(s->as<StoreStmt>().result.get());
      clusterVarying_.insert(s->as<StoreStmt>().result.get());
    }
  }

  // copy_cluster synchronizes the whole cluster (a cluster barrier before it, and
  // after a dst_block copy), so every thread of every block must reach it;
  // copy_cluster(dst_block=, remote_barrier=) holds no cluster barrier: each block
  // may send or not (a condition on the block or the rank is fine), but all of its
  // threads take part (a block barrier before the bulk copy or after the stores).
  bool clusterCopyReached(CopyOp& c) {
    if (c.dstBlock && c.options.barrier) {
      if (divergentInBlock_.empty()) return true;
      diags_.error(c.range, "copy_cluster with remote_barrier needs every thread of the block (it holds a block "
                            "barrier), but this one is under a condition or loop that depends on the thread");
      diags_.note(divergentInBlock_.back(), "the condition or loop bounds are here");
      return false;
    }
    if (divergentInCluster_.empty()) return true;
    if (c.dstBlock && divergentInBlock_.empty()) {
      // TileLang's meaning under a condition on the block: the stores alone, no
      // cluster barrier (some blocks would wait for ever); the program's
      // cluster_sync() makes them visible to block b, so there must be one.
      if (clusterSyncs_) {
        c.storesOnly = true;
        return true;
      }
      diags_.error(c.range, "copy_cluster(dst_block=) under a condition on the block holds no cluster barrier (only "
                            "some blocks reach it), so block " + toString(c.dstBlock) +
                            " sees the stores only after a cluster_sync(), and the kernel has none");
      diags_.note(divergentInCluster_.back(), "the condition or loop bounds are here");
      return false;
    }
    diags_.error(c.range, "copy_cluster waits for every thread of every block in the cluster, but this one is under a "
                          "condition or loop that may differ between threads or blocks");
    diags_.note(divergentInCluster_.back(), "the condition or loop bounds are here");
    return false;
  }

  // What the user asked of a plain copy (prefer_instruction=, async_copy) that no
  // strategy can give it: an error that says why. A layout TMA cannot express is
  // not the copy's error, nor a target without TMA: the copy takes another
  // strategy and --remarks says why.
  bool requestsHonourable(const CopyOp& c, bool uniform) {
    // Sema turns a copy of an auto_broadcast tensor into element accesses; the
    // other tile operations of one reach here, where no strategy repeats elements.
    for (const Region* r : {&c.src, &c.dst})
      if (r->buffer->autoBroadcast) {
        diags_.error(c.range, "not yet supported: this copy of auto_broadcast tensor '" + r->buffer->name +
                                  "' (only copy, which runs element by element)");
        return false;
      }
    if (c.clusterMask || c.dstBlock || c.transpose || c.im2col || c.options.tmaCopy) return true;
    if (c.options.prefer == PreferInstruction::Tma && options_.target.has(TargetFeature::Tma)) {
      std::string why = tmaObstacle(c);
      const Buffer& tile = c.src.buffer->scope == MemScope::Shared ? *c.src.buffer : *c.dst.buffer;
      bool byLayout = tile.scope == MemScope::Shared && !why.empty() && why == layoutObstacle(tile);
      if (why.empty() && !uniform) why = "not every thread reaches the copy (it is under a condition on the thread)";
      if (why.empty() && c.options.layout)
        why = "loop_layout '" + c.options.layout->name +
              "' maps elements to threads, which a TMA copy (one bulk transfer issued by one thread) cannot follow";
      if (why.empty()) why = zeroFillObstacle(c);
      if (!byLayout && !why.empty()) {
        diags_.error(c.range, "prefer_instruction=\"tma\" cannot be honoured: " + why);
        return false;
      }
      // Sema refuses prefer_instruction="tma" with disable_tma=True.
      if (!byLayout && c.options.disableTma)
        diags_.internalError(c.range, "prefer_instruction=\"tma\" with disable_tma=True reached lowering");
    }
    if (c.options.prefer == PreferInstruction::CpAsync || c.options.async) {
      std::string obstacle;
      if (c.src.buffer->scope != MemScope::Global || c.dst.buffer->scope != MemScope::Shared)
        obstacle = "cp.async copies from global to shared memory only";
      else if (c.src.buffer->dtype != c.dst.buffer->dtype)
        obstacle = std::string("cp.async cannot convert ") + name(c.src.buffer->dtype) + " to " + name(c.dst.buffer->dtype);
      // Sema refuses both (checkThreadCopy).
      if (!obstacle.empty())
        diags_.internalError(c.range, std::string(c.options.async ? "async_copy" : "prefer_instruction=\"cp_async\"") +
                                          " that cannot be honoured reached lowering: " + obstacle);
    }
    return true;
  }

  // The first strategy, in copyStrategies()' order, that considers the copy, has
  // no obstacle and makes a plan; the obstacles of those before it that considered
  // it are the remark's "why not" (each said once).
  void copy(CopyOp& c, bool uniform) {
    if ((c.clusterMask || c.dstBlock) && !clusterCopyReached(c)) {
      ok = false;
      return;
    }
    if (!requestsHonourable(c, uniform)) {
      ok = false;
      return;
    }
    CopySite site{options_.target, kernel_, options_.allowTma, uniform, pipelined_.count(&c) != 0};
    std::string reason;
    std::set<std::string> said;
    for (const CopyStrategy* strategy : copyStrategies()) {
      if (!strategy->considers(c)) continue;
      // atomic_add of a region: only the SIMT copy's stores can be atomic.
      if (c.options.atomic != AtomicOp::None && std::string(strategy->name()) != "Simt") continue;
      std::string why = strategy->obstacle(c, site);
      std::shared_ptr<const CopyPlan> plan;
      if (why.empty()) {
        plan = strategy->plan(c, site, why);
        bool automaticTma = !c.options.tmaCopy && !c.im2col &&
                            (strategy->path(c, site) == CopyPath::TmaLoad || strategy->path(c, site) == CopyPath::TmaStore);
        if (!plan && automaticTma && c.options.prefer == PreferInstruction::Tma && options_.allowTma)
          // Known at compile time (the fast variant may assume every run-time fact),
          // so every launch will run this copy without TMA: say so where it was asked for.
          diags_.warning(Warning::PreferInstruction, c.range,
                         "prefer_instruction=\"tma\" cannot be honoured: " + why + "; the copy runs without TMA");
      }
      if (plan) {
        c.path = strategy->path(c, site);
        c.plan = std::move(plan);
        c.pathReason = reason;
        return;
      }
      if (c.options.tmaCopy) {
        // Only TMA has the meaning tma_copy promises (bytes completing on the user's
        // barrier); whether every thread of a leader group gets here is the user's.
        diags_.error(c.range, "tma_copy cannot use TMA: " + why);
        ok = false;
        return;
      }
      if (*strategy->label() && said.insert(why).second)
        reason += (reason.empty() ? "" : "; ") + std::string(strategy->label()) + " not used: " + why;
    }
    diags_.internalError(c.range, "no copy strategy carries out " + std::string(c.clusterMask || c.dstBlock ? "copy_cluster " : "copy ") +
                                      c.src.buffer->name + " -> " + c.dst.buffer->name);
  }
};

}  // namespace

bool chooseCopyPaths(Kernel& kernel, const CopyPathOptions& options, DiagnosticEngine& diags) {
  PathChooser chooser(kernel, options, diags);
  chooser.stmt(kernel.body, true);
  return chooser.ok;
}

}  // namespace tlc
