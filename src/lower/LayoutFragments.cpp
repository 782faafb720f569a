// LayoutFragments: union-find over fragments that must agree, then one layout each.
#include "lower/LayoutFragments.h"

#include <map>

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

// Unites the fragments that meet (a fragment-to-fragment copy, one Parallel loop)
// and lists the uses annotated with a layout, in source order.
class GroupCollector : public StmtVisitor {
 public:
  GroupCollector(Groups& groups, std::vector<AnnotatedUse>& uses) : groups_(groups), uses_(uses) {}

 protected:
  void visitCopy(CopyOp& c) override {
    if (c.src.buffer->scope == MemScope::Fragment && c.dst.buffer->scope == MemScope::Fragment)
      groups_.unite(c.src.buffer.get(), c.dst.buffer.get());
    if (c.options.layout)
      for (const Region* r : {&c.src, &c.dst})
        if (r->buffer->scope == MemScope::Fragment) uses_.push_back({r->buffer.get(), c.options.layout, c.options.layoutAt});
  }
  // The whole loop at once, its body through forEachAccess: every fragment it
  // touches joins one group.
  void visitParallel(ParallelOp& par) override {
    Buffer* first = nullptr;
    forEachAccess(par.body, AccessVisitor{[&](const BufferRef& b, bool) {
      if (b->scope != MemScope::Fragment) return;
      if (first) groups_.unite(b.get(), first);
      else first = b.get();
      if (par.layout) uses_.push_back({b.get(), par.layout, par.layoutAt});
    }});
  }

 private:
  Groups& groups_;
  std::vector<AnnotatedUse>& uses_;
};

}  // namespace

bool layoutFragments(Kernel& kernel, DiagnosticEngine& diags) {
  Groups groups;
  std::vector<AnnotatedUse> uses;
  for (const auto& b : kernel.allocations)
    if (b->scope == MemScope::Fragment) groups.find(b.get());
  GroupCollector(groups, uses).visit(kernel.body);

  // The first annotated use of a group decides its layout; the others must agree.
  std::map<Buffer*, AnnotatedUse, ById> custom;  // group root -> the deciding use
  bool ok = true;
  for (const auto& use : uses) {
    Buffer* root = groups.find(use.fragment);
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
  for (const auto& b : kernel.allocations) {
    if (b->scope != MemScope::Fragment) continue;
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
