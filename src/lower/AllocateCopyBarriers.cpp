// AllocateCopyBarriers: numbers the automatic mbarriers in program order.
#include "lower/AllocateCopyBarriers.h"

#include <map>

namespace tlc {

using namespace ir;

namespace {

bool needsAutomaticBarrier(const CopyOp& c) {
  return !c.options.tmaCopy && (c.path == CopyPath::TmaLoad || c.path == CopyPath::TmaMulticast);
}

class BarrierNumbering {
 public:
  int count = 0;
  std::vector<CopyOp*> copies;

  void walk(const StmtRef& s) {
    if (!s) return;
    switch (s->kind) {
      case StmtKind::Seq:
        for (const auto& c : s->as<SeqStmt>().stmts) walk(c);
        break;
      case StmtKind::For: walk(s->as<ForStmt>().body); break;
      case StmtKind::If:
        walk(s->as<IfStmt>().thenBody);
        walk(s->as<IfStmt>().elseBody);
        break;
      case StmtKind::Copy: {
        auto& c = s->as<CopyOp>();
        if (!needsAutomaticBarrier(c)) break;
        if (c.ring < 0) {
          c.mbarrierIndex = count++;
        } else {
          auto it = ringFirst_.find(c.ring);
          if (it == ringFirst_.end()) {
            it = ringFirst_.emplace(c.ring, count).first;
            count += c.ringSize;
          }
          c.mbarrierIndex = it->second;
        }
        copies.push_back(&c);
        break;
      }
      default: break;
    }
  }

 private:
  std::map<int, int> ringFirst_;  // ring -> its first barrier
};

}  // namespace

void allocateCopyBarriers(Kernel& kernel) {
  BarrierNumbering numbering;
  numbering.walk(kernel.body);
  if (!numbering.count) return;
  auto barriers = std::make_shared<Buffer>();
  barriers->name = "tlc_mbarriers";
  barriers->scope = MemScope::Shared;
  barriers->dtype = DType::UInt64;
  barriers->isBarrier = true;
  barriers->copyBarriers = true;
  barriers->shape = {intImm(numbering.count)};
  barriers->strides = {intImm(1)};
  kernel.allocations.push_back(barriers);
  for (CopyOp* c : numbering.copies) c->mbarriers = barriers;
}

}  // namespace tlc
