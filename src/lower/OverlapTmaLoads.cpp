// OverlapTmaLoads: see the header.
#include "lower/OverlapTmaLoads.h"

#include <optional>

#include "ir/StmtVisitor.h"

namespace tlc {

using namespace ir;

namespace {

// The bytes a leader's issue writes and the barrier it completes on.
struct Issue {
  int64_t barrier, dst, bytes;
};

std::vector<StmtRef> flatten(const StmtRef& s) {
  if (s->kind != StmtKind::Seq) return {s};
  std::vector<StmtRef> out;
  for (const StmtRef& child : s->as<SeqStmt>().stmts)
    for (StmtRef& leaf : flatten(child)) out.push_back(std::move(leaf));
  return out;
}

// `if (leader) { expect_tx(B, n); tma_load(dst, B, ...) }` with constant offsets,
// no else, nothing else inside, no multicast: the loads it issues.
std::optional<std::vector<Issue>> asIssue(const StmtRef& s) {
  if (s->kind != StmtKind::If) return std::nullopt;
  const auto& branch = s->as<IfStmt>();
  if (branch.elseBody) return std::nullopt;
  std::vector<std::pair<int64_t, int64_t>> expected;  // barrier, bytes
  std::vector<Issue> issues;
  for (const StmtRef& inner : flatten(branch.thenBody)) {
    if (inner->kind != StmtKind::Intrinsic) return std::nullopt;
    const auto& op = inner->as<IntrinsicStmt>();
    if (op.op == IntrinsicOp::MbarrierArriveExpectTx) {
      auto barrier = asConstInt(op.args.at(0)), bytes = asConstInt(op.args.at(1));
      if (!barrier || !bytes) return std::nullopt;
      expected.push_back({*barrier, *bytes});
    } else if ((op.op == IntrinsicOp::TmaLoad && op.immediate == 0) || op.op == IntrinsicOp::TmaLoadIm2col) {
      auto dst = asConstInt(op.args.at(0)), barrier = asConstInt(op.args.at(1));
      if (!dst || !barrier) return std::nullopt;
      issues.push_back({*barrier, *dst, 0});
    } else {
      return std::nullopt;
    }
  }
  // Each load writes the bytes its barrier expects (one load a barrier).
  for (Issue& issue : issues) {
    int found = 0;
    for (const auto& [barrier, bytes] : expected)
      if (barrier == issue.barrier) issue.bytes = bytes, ++found;
    if (found != 1) return std::nullopt;
  }
  if (issues.empty() || issues.size() != expected.size()) return std::nullopt;
  return issues;
}

// `mbarrier_wait_parity(B, phase)` at CTA scope followed by `phase = phase ^ 1`.
struct Wait {
  int64_t barrier;
  const VarNode* phase;
};

std::optional<Wait> asWait(const StmtRef& s, const StmtRef& next) {
  if (s->kind != StmtKind::Intrinsic || !next || next->kind != StmtKind::Assign) return std::nullopt;
  const auto& op = s->as<IntrinsicStmt>();
  if (op.op != IntrinsicOp::MbarrierWaitParity || op.immediate != 0 || op.args.size() != 2) return std::nullopt;
  auto barrier = asConstInt(op.args[0]);
  if (!barrier || op.args[1]->kind != ExprKind::Var) return std::nullopt;
  const VarNode* phase = &op.args[1]->as<VarNode>();
  const auto& flip = next->as<AssignStmt>();
  if (flip.var.get() != phase || flip.value->kind != ExprKind::Binary) return std::nullopt;
  const auto& x = flip.value->as<BinaryNode>();
  if (x.op != BinOp::BitXor || x.a.get() != flip.var.get() || asConstInt(x.b) != 1) return std::nullopt;
  return Wait{*barrier, phase};
}

bool overlaps(const Issue& a, const Issue& b) { return a.dst < b.dst + b.bytes && b.dst < a.dst + a.bytes; }

class Overlapper : public StmtVisitor {
 public:
  void visitSeq(SeqStmt& s) override {
    StmtVisitor::visitSeq(s);
    std::vector<StmtRef> list;
    for (const StmtRef& child : s.stmts)
      for (StmtRef& leaf : flatten(child)) list.push_back(std::move(leaf));
    bool moved = false;
    // The last wait first: an earlier wait then finds the later issues already
    // gathered ahead of the later waits, and the waits keep their order.
    for (size_t i = list.size() < 2 ? 0 : list.size() - 1; i-- > 0;) {
      auto wait = asWait(list[i], list[i + 1]);
      if (!wait) continue;
      // The load this wait is for: the nearest issue before it on its barrier.
      std::optional<Issue> mine;
      for (size_t j = i; j-- > 0 && !mine;)
        if (auto issues = asIssue(list[j]))
          for (const Issue& issue : *issues)
            if (issue.barrier == wait->barrier) mine = issue;
      if (!mine) continue;
      // Past issues of other bytes on other barriers, and other waits; up to the last issue.
      size_t end = i + 2, last = i + 2;
      while (end < list.size()) {
        if (auto issues = asIssue(list[end])) {
          bool clash = false;
          for (const Issue& issue : *issues) clash |= issue.barrier == wait->barrier || overlaps(issue, *mine);
          if (clash) break;
          end += 1;
          last = end;
        } else if (auto other = end + 1 < list.size() ? asWait(list[end], list[end + 1]) : std::nullopt;
                   other && other->barrier != wait->barrier && other->phase != wait->phase) {
          end += 2;
        } else {
          break;
        }
      }
      if (last == i + 2) continue;
      StmtRef w = list[i], flip = list[i + 1];
      list.erase(list.begin() + i, list.begin() + i + 2);
      list.insert(list.begin() + (last - 2), {w, flip});
      moved = true;
    }
    if (moved) s.stmts = std::move(list);
  }
};

}  // namespace

void overlapTmaLoads(Kernel& kernel) { Overlapper().visit(kernel.body); }

}  // namespace tlc
