// LayoutFragments: union-find over fragments that must agree, then one layout each.
#include "lower/LayoutFragments.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "ir/Rewrite.h"
#include "ir/StmtVisitor.h"

namespace tlc {

using namespace ir;

int widestVector(DType dtype, int64_t innerExtent, int maxBytes) {
  int elemBytes = std::max(1, bits(dtype) / 8);
  int vec = std::max(1, maxBytes / elemBytes);
  while (vec > 1 && innerExtent % vec != 0) vec /= 2;
  return vec;
}

namespace {

struct Groups {
  std::map<Buffer*, Buffer*, ById> parent;
  Buffer* find(Buffer* b) {
    auto it = parent.find(b);
    if (it == parent.end()) return parent[b] = b;
    if (it->second == b) return b;
    return it->second = find(it->second);
  }
  void unite(Buffer* a, Buffer* b) { parent[find(a)] = find(b); }
};

// A use of a fragment annotated with a layout, in source order.
struct AnnotatedUse {
  Buffer* fragment;
  ThreadLayoutRef layout;
  SourceRange at;  // the loop_layout argument
};

// A fragment read in a Parallel loop of a larger shape (`scale[i]` in
// Parallel(BM, BN)), in source order.
struct BroadcastUse {
  Buffer* fragment;
  Buffer* loopFragment;  // a fragment of the loop's own shape in that loop, or null
  std::vector<int64_t> extents;
  std::vector<BroadcastIndex> keptAxes;
  SourceRange at;  // the loop
};

// A reduction (ReduceOp), in source order; `divergent` when some
// enclosing condition depends on the thread (a warp shuffle needs every lane).
struct ReductionUse {
  ReduceOp* op;
  bool divergent;
};

bool sameShape(const Buffer& b, const std::vector<int64_t>& extents) {
  if (b.shape.size() != extents.size()) return false;
  for (size_t d = 0; d < extents.size(); ++d)
    if (*asConstInt(b.shape[d]) != extents[d]) return false;
  return true;
}

// How fragment `b` is read in Parallel loop `par`, along each axis, when every read
// has the broadcast form the same way (broadcastIndexOf, each loop variable at most
// once); nullopt otherwise. `written`: some statement of the loop stores to it.
std::optional<std::vector<BroadcastIndex>> broadcastReads(const ParallelOp& par, const Buffer& b, bool& written) {
  std::optional<std::vector<BroadcastIndex>> kept;
  bool bad = false;
  written = false;
  RewriteHooks hooks;
  hooks.load = [&](const LoadNode& l, std::vector<ExprRef>) -> ExprRef {
    if (l.buffer.get() != &b) return nullptr;
    std::vector<BroadcastIndex> axes;
    std::set<int> seen;
    for (const auto& e : l.indices) {
      auto k = broadcastIndexOf(e, par.vars);
      if (!k || (k->axis >= 0 && !seen.insert(k->axis).second)) {
        bad = true;
        return nullptr;
      }
      axes.push_back(*k);
    }
    if (kept && *kept != axes) bad = true;
    kept = axes;
    return nullptr;
  };
  hooks.store = [&](const StoreStmt& st, std::vector<ExprRef>, ExprRef) -> StmtRef {
    if (st.buffer.get() == &b) written = true;
    return nullptr;
  };
  rewriteStmt(par.body, {}, hooks);
  if (bad) return std::nullopt;
  return kept;
}

// Whether reads `kept` of `b` in a loop over `extents` reach every element of it.
bool coversFragment(const std::vector<BroadcastIndex>& kept, const Buffer& b, const std::vector<int64_t>& extents) {
  for (size_t a = 0; a < kept.size(); ++a) {
    int64_t reach = kept[a].axis < 0 ? 1 : (extents[kept[a].axis] + kept[a].divisor - 1) / kept[a].divisor;
    if (reach != *asConstInt(b.shape[a])) return false;
  }
  return true;
}

// Unites the fragments that meet (a fragment-to-fragment copy, one Parallel loop)
// and lists the uses annotated with a layout and the broadcast reads, in source order.
class GroupCollector : public StmtVisitor {
 public:
  GroupCollector(Groups& groups, std::vector<AnnotatedUse>& uses, std::vector<BroadcastUse>& broadcasts,
                 std::vector<ReductionUse>& reductions, DiagnosticEngine& diags)
      : groups_(groups), uses_(uses), broadcasts_(broadcasts), reductions_(reductions), diags_(diags) {}
  bool ok = true;

 protected:
  // Its fallback joins no fragments (it reads the source in a loop of its own shape
  // and writes dst in one of dst's): only the reduction itself is listed.
  void visitReduce(ReduceOp& r) override { reductions_.push_back({&r, divergence_ > 0}); }
  void visitFor(ForStmt& f) override {
    uniformVars_.insert(f.var.get());
    StmtVisitor::visitFor(f);
  }
  void visitIf(IfStmt& i) override {
    bool varies = dependsOnThread(i.cond, [&](const VarNode* v) { return !uniformVars_.count(v) && !isParam(v); });
    divergence_ += varies;
    StmtVisitor::visitIf(i);
    divergence_ -= varies;
  }
  void visitCopy(CopyOp& c) override {
    if (c.src.buffer->scope == MemScope::Fragment && c.dst.buffer->scope == MemScope::Fragment)
      groups_.unite(c.src.buffer.get(), c.dst.buffer.get());
    // What a broadcast layout cannot take (CopyLowering): part of the fragment, a
    // local other side, a loop_layout. A reduction result copied so keeps the fallback.
    bool anyLocal = c.src.buffer->scope == MemScope::Local || c.dst.buffer->scope == MemScope::Local;
    for (const Region* r : {&c.src, &c.dst}) {
      if (r->buffer->scope != MemScope::Fragment) continue;
      bool whole = r->extents.size() == r->buffer->shape.size();
      for (size_t d = 0; whole && d < r->extents.size(); ++d) whole = r->extents[d] == *asConstInt(r->buffer->shape[d]);
      if (!whole || anyLocal || c.options.layout) notBroadcast.insert(r->buffer.get());
    }
    if (c.options.layout)
      for (const Region* r : {&c.src, &c.dst})
        if (r->buffer->scope == MemScope::Fragment) uses_.push_back({r->buffer.get(), c.options.layout, c.options.layoutAt});
  }
  // The whole loop at once, its body through forEachAccess: every fragment of the
  // loop's shape it touches joins one group; one of another shape is a broadcast,
  // read with some of the loop's variables in order.
  void visitParallel(ParallelOp& par) override {
    Buffer* first = nullptr;
    std::vector<Buffer*> others;
    forEachAccess(par.body, AccessVisitor{[&](const BufferRef& b, bool) {
      if (b->scope != MemScope::Fragment) return;
      if (!sameShape(*b, par.extents)) {
        if (std::find(others.begin(), others.end(), b.get()) == others.end()) others.push_back(b.get());
        return;
      }
      if (first) groups_.unite(b.get(), first);
      else first = b.get();
      if (par.layout) uses_.push_back({b.get(), par.layout, par.layoutAt});
    }});
    for (Buffer* b : others) {
      if (par.layout) {
        fail(par.layoutAt, "not yet supported: a loop_layout on a Parallel loop that reads fragment '" + b->name +
                               "' of another shape");
        continue;
      }
      if (auto kept = keptAxes(par, *b)) broadcasts_.push_back({b, first, par.extents, *kept, par.range});
    }
  }

 private:
  Groups& groups_;
  std::vector<AnnotatedUse>& uses_;
  std::vector<BroadcastUse>& broadcasts_;
  std::vector<ReductionUse>& reductions_;
  DiagnosticEngine& diags_;
  int divergence_ = 0;  // enclosing conditions that depend on the thread
  VarSet uniformVars_;  // serial loop variables (the same in every thread)
 public:
  VarSet params;        // the kernel's parameters (uniform)
  std::set<Buffer*, ById> notBroadcast;  // fragments copied in a way a broadcast layout cannot be
 private:
  bool isParam(const VarNode* v) const { return params.count(v) > 0; }

  void fail(SourceRange at, const std::string& message) {
    diags_.error(at, message);
    ok = false;
  }

  // How fragment `b` is read in the loop (FragmentLayout::keptAxes). It is only read
  // (a write is an error); SharedStager already staged the loops whose reads are not
  // a broadcast covering it.
  std::optional<std::vector<BroadcastIndex>> keptAxes(const ParallelOp& par, const Buffer& b) {
    bool written = false;
    auto kept = broadcastReads(par, b, written);
    if (written) {
      RewriteHooks hooks;
      hooks.store = [&](const StoreStmt& st, std::vector<ExprRef>, ExprRef) -> StmtRef {
        if (st.buffer.get() == &b)
          fail(st.range, "fragment '" + b.name + "' of shape " + shapeText(b) +
                             " is written in a Parallel loop of another shape; each element would be written by "
                             "several iterations (write it in a Parallel loop over its own shape)");
        return nullptr;
      };
      rewriteStmt(par.body, {}, hooks);
      return std::nullopt;
    }
    if (!kept || !coversFragment(*kept, b, par.extents)) {
      diags_.internalError(par.range, "fragment '" + b.name + "' is read in a Parallel loop over " +
                                          extentsText(par.extents) + " other than as a covering broadcast, unstaged");
      ok = false;
      return std::nullopt;
    }
    return kept;
  }

  static std::string extentsText(const std::vector<int64_t>& e) {
    std::string s = "(";
    for (size_t i = 0; i < e.size(); ++i) s += (i ? ", " : "") + std::to_string(e[i]);
    return s + ")";
  }
  static std::string shapeText(const Buffer& b) {
    std::vector<int64_t> e;
    for (const auto& x : b.shape) e.push_back(*asConstInt(x));
    return extentsText(e);
  }
};

// Whether each reduction can be per-thread folds and warp shuffles (ReduceOp::shuffle,
// else ReduceOp::why), deciding its dst's layout then: the broadcast projection of
// the source's partition, in which every thread that holds part of a row holds the
// row's result. After the broadcasts of Parallel loops (a dst they already project
// otherwise keeps its layout and the reduction its fallback), in source order.
// The shuffles need: a reduction along the innermost axis (or axis 0) of a source of
// rank 2 or more, in whole warps, not under a thread-dependent condition; a source in
// the default layout, not itself a reduction's result; a dst copied whole only; and
// rows whose G = N / vec groups (of the B elements after axis 0) tile the T threads
// in powers of two (G divides T: a row is G consecutive lanes, or G / 32 consecutive
// warps; T divides G: a row is G / T of each thread's groups).
template <class GroupsT, class CustomT, class VecT, class ProjectedT>
void chooseReductionLayouts(Kernel& kernel, const std::vector<ReductionUse>& reductions, GroupsT& groups,
                            const CustomT& custom, VecT& groupVec, ProjectedT& projected,
                            const std::vector<BroadcastUse>& broadcasts, const std::set<Buffer*, ById>& notBroadcast,
                            const std::map<Buffer*, Buffer*, ById>& aliasedRoots) {
  std::set<Buffer*, ById> results, broadcastLoops;
  for (const auto& use : reductions)
    if (use.op->dst->scope == MemScope::Fragment) results.insert(groups.find(use.op->dst.get()));
  for (const auto& use : broadcasts)
    if (use.loopFragment) broadcastLoops.insert(groups.find(use.loopFragment));
  auto pow2 = [](int64_t x) { return x > 0 && (x & (x - 1)) == 0; };
  for (const auto& use : reductions) {
    ReduceOp& r = *use.op;
    const Buffer& src = *r.src;
    if (src.scope != MemScope::Fragment || r.dst->scope != MemScope::Fragment) {
      const Buffer& shared = src.scope != MemScope::Fragment ? src : *r.dst;
      r.shuffle = false;
      r.why = "'" + shared.name + "' is a shared tile";
      continue;
    }
    Buffer* srcRoot = groups.find(r.src.get());
    Buffer* dstRoot = groups.find(r.dst.get());
    int rank = int(src.shape.size());
    int64_t threads = kernel.threads;
    std::vector<int64_t> shape;
    for (const auto& e : src.shape) shape.push_back(*asConstInt(e));
    FragmentLayout want;
    want.threads = kernel.threads;
    want.vec = groupVec[srcRoot];
    want.broadcastFrom = shape;
    bool columns = r.dim == 0 && rank > 1;  // otherwise the innermost axis
    for (int a = 0; a < rank; ++a)
      if (a != r.dim) want.keptAxes.push_back(BroadcastIndex{a, 1});
    int64_t numel = 1;
    for (int64_t e : shape) numel *= e;
    // Groups of vec elements a row (a k of the columns' case).
    int64_t rowGroups = (columns ? numel / shape[0] : shape.back()) / want.vec;
    std::string why;
    auto it = projected.find(dstRoot);
    if (use.divergent) why = "it is under a condition that depends on the thread (a shuffle needs every lane of the warp)";
    else if (rank < 2) why = "'" + src.name + "' has one axis";
    else if (r.dim != rank - 1 && r.dim != 0)
      why = "it reduces axis " + std::to_string(r.dim) + " of '" + src.name + "', neither the innermost nor the first";
    else if (threads % 32 != 0) why = "the block's " + std::to_string(threads) + " threads are not whole warps";
    else if (custom.count(srcRoot) || custom.count(dstRoot))
      why = "'" + (custom.count(srcRoot) ? src.name : r.dst->name) + "' follows a loop_layout";
    else if (aliasedRoots.count(dstRoot))
      why = "'" + r.dst->name + "' has another name (a view), whose registers its broadcast layout would not keep";
    else if (projected.count(srcRoot) || results.count(srcRoot))
      why = "'" + src.name + "' is itself a broadcast or a reduction's result";
    else if (notBroadcast.count(dstRoot) && it == projected.end())
      why = "'" + r.dst->name + "' is copied in part, to or from a local buffer, or under a loop_layout, which its "
            "broadcast layout cannot take";
    else if (broadcastLoops.count(dstRoot))
      why = "a Parallel loop over '" + r.dst->name + "' broadcasts another fragment";
    else if (!pow2(rowGroups) || (threads % rowGroups != 0 && rowGroups % threads != 0))
      why = std::string(columns ? "a row across the columns" : "a row") + " of '" + src.name + "' is " +
            std::to_string(rowGroups) + " groups of " + std::to_string(want.vec) +
            " elements, which do not tile the " + std::to_string(threads) + " threads in powers of two";
    else if (it != projected.end() && !it->second.sameBroadcast(want))
      why = "'" + r.dst->name + "' is broadcast in a Parallel loop that spreads the rows otherwise";
    r.shuffle = why.empty();
    r.why = why;
    if (r.shuffle && it == projected.end()) projected.emplace(dstRoot, want);
  }
}

// Stages through shared memory the fragments a Parallel loop reads in a way no
// broadcast layout serves (a remainder `u[i, j % 8]`, a shifted index, part of the
// fragment `s[0]`): a copy of the whole fragment into a shared tile of its shape
// just before the loop, and the loop reads the tile (any thread may read any
// element; InsertBarriers puts the barrier between the copy and the loop, and
// before the next copy where the loop repeats). A loop that writes the fragment or
// has a loop_layout is left to the checks that refuse it.
// Under a condition that depends on the thread it is not yet supported (every thread
// must copy its part of the fragment).
class SharedStager {
 public:
  SharedStager(Kernel& kernel, std::vector<CopyLoweringNote>& notes, DiagnosticEngine& diags)
      : kernel_(kernel), notes_(notes), diags_(diags) {
    for (const auto& p : kernel.params)
      if (p.var) uniform_.insert(p.var.get());
    for (const auto& b : kernel.allocations)
      if (b->scope == MemScope::Fragment && b->viewOf) {
        aliased_.insert(b.get());
        aliased_.insert(b->viewOf.get());
      }
  }
  bool ok = true;

  StmtRef stage(const StmtRef& s) {
    if (!s) return s;
    switch (s->kind) {
      case StmtKind::Seq:
        for (auto& child : s->as<SeqStmt>().stmts) child = stage(child);
        return s;
      case StmtKind::For: {
        auto& f = s->as<ForStmt>();
        uniform_.insert(f.var.get());
        f.body = stage(f.body);
        return s;
      }
      case StmtKind::If: {
        auto& i = s->as<IfStmt>();
        bool varies = dependsOnThread(i.cond, [&](const VarNode* v) { return !uniform_.count(v); });
        divergence_ += varies;
        i.thenBody = stage(i.thenBody);
        i.elseBody = stage(i.elseBody);
        divergence_ -= varies;
        return s;
      }
      case StmtKind::Parallel: return stageParallel(s);
      default: return s;
    }
  }

 private:
  Kernel& kernel_;
  std::vector<CopyLoweringNote>& notes_;
  DiagnosticEngine& diags_;
  VarSet uniform_;      // the kernel's parameters and serial loop variables
  int divergence_ = 0;  // enclosing conditions that depend on the thread
  // Fragments with a view and the views: a broadcast layout would place their
  // elements by one name's shape, so their broadcast reads are staged too.
  std::set<const Buffer*, ById> aliased_;

  StmtRef stageParallel(const StmtRef& s) {
    auto& par = s->as<ParallelOp>();
    if (par.layout) return s;
    std::vector<BufferRef> staged;
    forEachAccess(par.body, AccessVisitor{[&](const BufferRef& b, bool) {
      if (b->scope != MemScope::Fragment || sameShape(*b, par.extents)) return;
      for (const auto& x : staged)
        if (x == b) return;
      bool written = false;
      auto kept = broadcastReads(par, *b, written);
      if (written || (kept && coversFragment(*kept, *b, par.extents) && !aliased_.count(b.get()))) return;
      staged.push_back(b);
    }});
    if (staged.empty()) return s;
    if (divergence_ > 0) {
      diags_.error(par.range, "not yet supported: a Parallel loop under a condition that depends on the thread, "
                              "reading fragment '" + staged[0]->name + "' other than as a broadcast reaching every "
                              "element of it (it would be staged through shared memory, a copy every thread takes part in)");
      ok = false;
      return s;
    }
    auto seq = std::make_shared<SeqStmt>(par.range);
    std::map<const Buffer*, BufferRef, ById> tileOf;
    for (const BufferRef& b : staged) {
      auto tile = std::make_shared<Buffer>();
      tile->name = freshName(b->name + "_staged");
      tile->dtype = b->dtype;
      tile->scope = MemScope::Shared;
      tile->shape = b->shape;
      tile->strides.assign(b->shape.size(), nullptr);
      int64_t stride = 1;
      for (size_t a = b->shape.size(); a-- > 0;) {
        tile->strides[a] = intImm(stride);
        stride *= *asConstInt(b->shape[a]);
      }
      tile->declRange = par.range;
      kernel_.allocations.push_back(tile);
      tileOf[b.get()] = tile;
      Region src, dst;
      src.buffer = b;
      dst.buffer = tile;
      for (const auto& e : b->shape) {
        src.mins.push_back(intImm(0));
        src.extents.push_back(*asConstInt(e));
      }
      dst.mins = src.mins;
      dst.extents = src.extents;
      src.access = Access::Read;
      dst.access = Access::Write;
      src.range = dst.range = par.range;
      seq->stmts.push_back(std::make_shared<CopyOp>(par.range, src, dst));
      notes_.push_back({par.range, "Parallel loop",
                        "a loop reading fragment '" + b->name + "' from shared tile '" + tile->name + "' (" +
                            std::to_string(stride * bits(b->dtype) / 8) + " bytes), copied there before it",
                        aliased_.count(b.get())
                            ? "'" + b->name + "' has another name (a view), whose registers a broadcast layout " +
                                  "would not keep"
                            : "its reads of '" + b->name + "' are not a broadcast reaching every element of it, " +
                                  "which registers could serve"});
    }
    RewriteHooks hooks;
    hooks.load = [&](const LoadNode& l, std::vector<ExprRef> idx) -> ExprRef {
      auto it = tileOf.find(l.buffer.get());
      return it == tileOf.end() ? nullptr : moveLoad(l, it->second, std::move(idx));
    };
    auto fresh = std::make_shared<ParallelOp>(par);
    fresh->body = rewriteStmt(par.body, {}, hooks);
    seq->stmts.push_back(fresh);
    return seq;
  }

  std::string freshName(const std::string& base) {
    std::set<std::string> names;
    for (const auto& b : kernel_.allocations) names.insert(b->name);
    std::string n = base;
    for (int k = 2; names.count(n); ++k) n = base + std::to_string(k);
    return n;
  }
};

}  // namespace

bool layoutFragments(Kernel& kernel, DiagnosticEngine& diags, std::vector<CopyLoweringNote>& notes) {
  SharedStager stager(kernel, notes, diags);
  kernel.body = stager.stage(kernel.body);
  if (!stager.ok) return false;
  Groups groups;
  std::vector<AnnotatedUse> uses;
  std::vector<BroadcastUse> broadcasts;
  for (const auto& b : kernel.allocations)
    if (b->scope == MemScope::Fragment) groups.find(b.get());
  // A view of a fragment is its registers under another shape: one layout for both,
  // the plain one (it places the flat row-major index by vec and threads alone, so
  // both names agree on every element's thread and slot when they share vec).
  for (const auto& b : kernel.allocations)
    if (b->scope == MemScope::Fragment && b->viewOf) groups.unite(b.get(), b->viewOf.get());
  std::vector<ReductionUse> reductions;
  GroupCollector collector(groups, uses, broadcasts, reductions, diags);
  for (const auto& p : kernel.params)
    if (p.var) collector.params.insert(p.var.get());
  collector.visit(kernel.body);
  if (!collector.ok) return false;
  // Group root -> a view in the group (for messages): such a group keeps the plain layout.
  std::map<Buffer*, Buffer*, ById> aliasedRoots;
  for (const auto& b : kernel.allocations)
    if (b->scope == MemScope::Fragment && b->viewOf) aliasedRoots.emplace(groups.find(b.get()), b.get());
  auto viewText = [&](Buffer* b) {
    const Buffer* v = aliasedRoots.at(groups.find(b));
    if (v == b || v->viewOf.get() == b) return "'" + v->name + "' is a view of '" + v->viewOf->name + "'";
    return "it shares a layout with '" + v->name + "', a view of '" + v->viewOf->name + "'";
  };

  // The first annotated use of a group decides its layout; the others must agree.
  std::map<Buffer*, AnnotatedUse, ById> custom;  // group root -> the deciding use
  bool ok = true;
  for (const auto& use : uses) {
    Buffer* root = groups.find(use.fragment);
    if (aliasedRoots.count(root)) {
      diags.error(use.at, "not yet supported: loop_layout '" + use.layout->name + "' for fragment '" +
                              use.fragment->name + "', which has another name (" + viewText(use.fragment) +
                              "; both keep the plain layout)");
      ok = false;
      continue;
    }
    auto [it, fresh] = custom.emplace(root, use);
    if (fresh || it->second.layout == use.layout || it->second.layout->sameMapping(*use.layout)) continue;
    std::string via = use.fragment == it->second.fragment
                          ? ""
                          : " (it shares a layout with '" + it->second.fragment->name +
                                "': they meet in a Parallel loop or a copy)";
    diags.error(use.at, "loop_layout '" + use.layout->name + "' conflicts with layout '" + it->second.layout->name +
                            "', which fragment '" + use.fragment->name + "' already follows" + via +
                            "; a fragment keeps one layout in a kernel");
    diags.note(it->second.at, "fragment '" + it->second.fragment->name + "' takes layout '" +
                                  it->second.layout->name + "' here");
    ok = false;
    it->second.layout = use.layout;  // one error per disagreeing use, not a cascade
  }
  if (!ok) return false;

  std::map<Buffer*, int, ById> groupVec;
  for (const auto& b : kernel.allocations) {
    if (b->scope != MemScope::Fragment) continue;
    int vec = widestVector(b->dtype, *asConstInt(b->shape.back()));
    Buffer* root = groups.find(b.get());
    auto it = groupVec.find(root);
    groupVec[root] = it == groupVec.end() ? vec : std::min(it->second, vec);
  }
  // A broadcast group takes the projection of the first loop that reads it; the
  // loop's partition is its fragments' (vec) or, with none, one element per group.
  std::map<Buffer*, FragmentLayout, ById> projected;  // group root -> its layout
  std::map<Buffer*, SourceRange, ById> projectedAt;
  std::vector<const BroadcastUse*> accepted;  // the uses given (or matching) a projection
  for (const auto& use : broadcasts) {
    FragmentLayout layout;
    layout.threads = kernel.threads;
    layout.vec = use.loopFragment ? groupVec[groups.find(use.loopFragment)] : 1;
    layout.broadcastFrom = use.extents;
    layout.keptAxes = use.keptAxes;
    Buffer* root = groups.find(use.fragment);
    // A fragment with a view (or a view) read so was staged (SharedStager); one that
    // only meets such a fragment would give it a broadcast layout.
    if (aliasedRoots.count(root)) {
      diags.error(use.at, "not yet supported: fragment '" + use.fragment->name + "' read as a broadcast here (" +
                              viewText(use.fragment) + "; both keep the plain layout)");
      ok = false;
      continue;
    }
    if (custom.count(root)) {
      diags.error(use.at, "not yet supported: fragment '" + use.fragment->name +
                              "' is read as a broadcast here and follows a loop_layout elsewhere");
      ok = false;
      continue;
    }
    accepted.push_back(&use);
    auto [it, fresh] = projected.emplace(root, layout);
    if (fresh) {
      projectedAt[root] = use.at;
      continue;
    }
    const FragmentLayout& first = it->second;
    if (!first.sameBroadcast(layout)) {
      diags.error(use.at, "not yet supported: fragment '" + use.fragment->name +
                              "' is broadcast in Parallel loops that spread their elements differently over the "
                              "threads (a fragment keeps one layout in a kernel)");
      diags.note(projectedAt[root], "its layout follows this loop");
      ok = false;
    }
  }
  // A broadcast read in a loop whose own fragment is itself a broadcast (of another
  // loop) has no register to read: lowering partitions that loop by the loop
  // fragment's projection. Checked once every projection is known, so that the order
  // of the loops in the kernel does not matter (the fuzzer found the later one missed).
  for (const BroadcastUse* use : accepted) {
    if (!use->loopFragment || !projected.count(groups.find(use->loopFragment))) continue;
    diags.error(use->at, "not yet supported: fragment '" + use->fragment->name + "' broadcast in a loop over '" +
                             use->loopFragment->name + "', itself a broadcast of another loop");
    diags.note(projectedAt[groups.find(use->loopFragment)],
               "'" + use->loopFragment->name + "' takes the layout of a broadcast read here");
    ok = false;
  }
  if (!ok) return false;
  std::set<Buffer*, ById> notBroadcast;
  for (Buffer* b : collector.notBroadcast) notBroadcast.insert(groups.find(b));
  chooseReductionLayouts(kernel, reductions, groups, custom, groupVec, projected, broadcasts, notBroadcast,
                         aliasedRoots);

  for (const auto& b : kernel.allocations) {
    if (b->scope != MemScope::Fragment) continue;
    if (auto it = projected.find(groups.find(b.get())); it != projected.end()) {
      FragmentLayout layout = it->second;
      int64_t numel = 1;
      for (int64_t e : layout.broadcastFrom) numel *= e;
      int64_t perRound = (int64_t)layout.vec * layout.threads;
      layout.localSize = (numel + perRound - 1) / perRound * layout.lanes();
      b->layout = layout;
      continue;
    }
    int64_t numel = 1;
    for (const auto& s : b->shape) numel *= *asConstInt(s);
    FragmentLayout layout;
    layout.threads = kernel.threads;
    if (auto it = custom.find(groups.find(b.get())); it != custom.end()) {
      layout.custom = it->second.layout;
      layout.localSize = layout.custom->localSize;
      b->layout = layout;
      continue;
    }
    layout.vec = groupVec[groups.find(b.get())];
    int64_t perRound = (int64_t)layout.vec * layout.threads;
    layout.localSize = (numel + perRound - 1) / perRound * layout.vec;
    b->layout = layout;
  }
  return true;
}

}  // namespace tlc
