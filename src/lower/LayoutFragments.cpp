// LayoutFragments: union-find over fragments that must agree, then one layout each.
#include "lower/LayoutFragments.h"

#include <map>

#include "ir/Rewrite.h"

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
  std::map<Buffer*, Buffer*> parent;
  Buffer* find(Buffer* b) {
    auto it = parent.find(b);
    if (it == parent.end()) return parent[b] = b;
    if (it->second == b) return b;
    return it->second = find(it->second);
  }
  void unite(Buffer* a, Buffer* b) { parent[find(a)] = find(b); }
};

void collectGroups(const StmtRef& s, Groups& groups) {
  if (!s) return;
  switch (s->kind) {
    case StmtKind::Seq: for (const auto& c : s->as<SeqStmt>().stmts) collectGroups(c, groups); break;
    case StmtKind::For: collectGroups(s->as<ForStmt>().body, groups); break;
    case StmtKind::If:
      collectGroups(s->as<IfStmt>().thenBody, groups);
      collectGroups(s->as<IfStmt>().elseBody, groups);
      break;
    case StmtKind::Copy: {
      const auto& c = s->as<CopyOp>();
      if (c.src.buffer->scope == MemScope::Fragment && c.dst.buffer->scope == MemScope::Fragment)
        groups.unite(c.src.buffer.get(), c.dst.buffer.get());
      break;
    }
    case StmtKind::Parallel: {
      Buffer* first = nullptr;
      forEachAccess(s, AccessVisitor{[&](const BufferRef& b, bool) {
        if (b->scope != MemScope::Fragment) return;
        if (first) groups.unite(b.get(), first);
        else first = b.get();
      }});
      break;
    }
    default: break;
  }
}

}  // namespace

void layoutFragments(Kernel& kernel) {
  Groups groups;
  for (const auto& b : kernel.allocations)
    if (b->scope == MemScope::Fragment) groups.find(b.get());
  collectGroups(kernel.body, groups);

  std::map<Buffer*, int> groupVec;
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
    layout.vec = groupVec[groups.find(b.get())];
    int64_t perRound = (int64_t)layout.vec * layout.threads;
    layout.localSize = (numel + perRound - 1) / perRound * layout.vec;
    b->layout = layout;
  }
}

}  // namespace tlc
